//! What `elfcheck` must never do, whatever the input and whatever happens to it while it runs:
//! delete or overwrite files outside its output, write through a symbolic link, leave a package
//! half-replaced, hang on a file that turns into a FIFO, read outside a directory it checks, let
//! hostile input drive its memory, leave temporary copies and builds behind after a kill, or turn a
//! closed pipe into a passing verdict.
//!
//! `fix` runs here without network: `--python` names a stand-in for `python3 -m pip` that writes
//! what `pip install --target` would (see [`fake_python`]). Tests that inject faults at system
//! calls (a kill at a rename, a delay after a directory listing) use `strace`; `.ci/run` installs
//! it, and elsewhere they are skipped with a note when it is missing.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Pkg;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_elfcheck")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A stand-in for `python3 -m pip install ... --target DEST NAME==VERSION...`: writes, for each
/// requested distribution, `NAME/__init__.py` and a `.dist-info` whose RECORD lists them, as pip
/// does. `FAKE_PIP_LOG` gets one line per run; `FAKE_PIP_SLEEP` makes it sleep (as itself, after
/// writing its pid to `FAKE_PIP_PIDFILE`) instead of installing.
fn fake_python(dir: &Path) -> PathBuf {
    let path = dir.join("fake-python");
    let script = r##"#!/bin/sh
dest=; prev=; specs=
for a in "$@"; do
  if [ "$prev" = --target ]; then dest=$a; fi
  case "$a" in *==*) specs="$specs $a";; esac
  prev=$a
done
if [ -n "$FAKE_PIP_LOG" ]; then echo "pip $*" >> "$FAKE_PIP_LOG"; fi
if [ -n "$FAKE_PIP_PIDFILE" ]; then echo $$ > "$FAKE_PIP_PIDFILE.tmp"; mv "$FAKE_PIP_PIDFILE.tmp" "$FAKE_PIP_PIDFILE"; fi
if [ -n "$FAKE_PIP_SLEEP" ]; then exec sleep "$FAKE_PIP_SLEEP"; fi
for s in $specs; do
  name=${s%%==*}; ver=${s#*==}
  mkdir -p "$dest/$name" "$dest/$name-$ver.dist-info"
  echo "# rebuilt for the target" > "$dest/$name/__init__.py"
  printf 'Name: %s\nVersion: %s\n' "$name" "$ver" > "$dest/$name-$ver.dist-info/METADATA"
  printf '%s\n' "$name/__init__.py,," "$name-$ver.dist-info/METADATA,," "$name-$ver.dist-info/RECORD,," \
    > "$dest/$name-$ver.dist-info/RECORD"
done
"##;
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A function whose `fastjson 2.1.0` was installed on a Mac: one Mach-O extension to rebuild.
fn mac_function() -> Pkg {
    Pkg::new()
        .file("lambda_function.py", "import fastjson\n", 0o644)
        .fixture("fastjson/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file(
            "fastjson-2.1.0.dist-info/RECORD",
            "fastjson/_speedups.cpython-311-darwin.so,,\nfastjson-2.1.0.dist-info/METADATA,,\nfastjson-2.1.0.dist-info/RECORD,,\n",
            0o644,
        )
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
}

/// A scratch area: `root` for the packages, and a separate place for the stand-in tools, the
/// build directories (`TMPDIR`) and the stand-in's log, so that `root` holds only what a test
/// put there and what `fix` wrote.
struct Scratch {
    _dir: tempfile::TempDir,
    root: PathBuf,
    python: PathBuf,
    tmp: PathBuf,
    log: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let tools = dir.path().join("tools");
        let tmp = dir.path().join("tmp");
        for d in [&root, &tools, &tmp] {
            std::fs::create_dir(d).unwrap();
        }
        let python = fake_python(&tools);
        let log = tools.join("pip.log");
        Scratch { _dir: dir, root, python, tmp, log }
    }

    /// `elfcheck fix INPUT ARGS...` in `root` for python3.11 on x86_64, with the stand-in pip.
    fn fix_command(&self, input: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(["fix", input, "-r", "python3.11", "-a", "x86_64", "--via", "pip", "-q", "--no-config"])
            .arg("--python")
            .arg(&self.python)
            .args(args)
            .current_dir(&self.root)
            .env("TMPDIR", &self.tmp)
            .env("FAKE_PIP_LOG", &self.log)
            .stdin(Stdio::null());
        cmd
    }

    fn fix(&self, input: &str, args: &[&str]) -> Output {
        self.fix_command(input, args).output().unwrap()
    }

    /// Whether the build step ran (the stand-in pip was called).
    fn built(&self) -> bool {
        self.log.exists()
    }

    fn tmp_is_empty(&self) -> bool {
        std::fs::read_dir(&self.tmp).unwrap().next().is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File { bytes: Vec<u8>, mode: u32 },
    Dir { mode: u32 },
    Link(PathBuf),
    Other,
}

/// Every path under `root` (links not followed) with what it is.
fn tree(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let meta = e.path().symlink_metadata().unwrap();
        let ft = meta.file_type();
        let mode = meta.permissions().mode() & 0o7777;
        let node = if ft.is_symlink() {
            Node::Link(std::fs::read_link(e.path()).unwrap())
        } else if ft.is_dir() {
            Node::Dir { mode }
        } else if ft.is_file() {
            Node::File { bytes: std::fs::read(e.path()).unwrap(), mode }
        } else {
            Node::Other
        };
        out.insert(rel, node);
    }
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    n.sort();
    n
}

/// Runs a command under `strace` with `filter` (e.g. a fault injection), or returns `None` when
/// strace is not installed (outside CI).
fn strace(filter: &[&str], cmd: &Command) -> Option<Command> {
    let present = Command::new("strace").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !present {
        assert!(std::env::var_os("CI").is_none(), "strace is missing: .ci/run installs it");
        eprintln!("strace is not installed: skipping a fault-injection test");
        return None;
    }
    let mut s = Command::new("strace");
    s.args(["-f", "-qq", "-o", "/dev/null"]).args(filter).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        s.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    Some(s)
}

// --- fix: where the output may go -------------------------------------------------------------

#[test]
fn fix_refuses_an_output_that_contains_the_input() {
    let s = Scratch::new();
    let parent = s.root.join("parent");
    mac_function().write_dir(&parent, "pkg");
    std::fs::create_dir_all(parent.join("docs")).unwrap();
    std::fs::write(parent.join("docs/notes.txt"), "keep me\n").unwrap();
    let before = tree(&s.root);
    let o = s.fix("parent/pkg", &["-o", "parent"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("contains the input"), "{}", text(&o));
    assert_eq!(tree(&s.root), before, "nothing may change");
    assert!(!s.built(), "refused before any build");
    // Not even with --force: replacing it would delete the input.
    let o = s.fix("parent/pkg", &["-o", "parent", "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(tree(&s.root), before);
}

#[test]
fn fix_refuses_to_replace_a_non_empty_directory_it_did_not_write() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    std::fs::create_dir(s.root.join("out")).unwrap();
    std::fs::write(s.root.join("out/precious.txt"), "not elfcheck's\n").unwrap();
    let before = tree(&s.root);
    let o = s.fix("pkg", &["-o", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(tree(&s.root), before, "nothing may change");
    assert!(!s.built(), "refused before any build");

    // --force replaces it, whole.
    let o = s.fix("pkg", &["-o", "out", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!s.root.join("out/precious.txt").exists());
    assert!(s.root.join("out/fastjson/__init__.py").is_file());
    // An output elfcheck wrote is replaced by the next run without --force.
    let o = s.fix("pkg", &["-o", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(names(&s.root), ["out", "pkg"]);
}

#[test]
fn fix_replaces_an_empty_directory_and_writes_a_new_one() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    std::fs::create_dir(s.root.join("empty")).unwrap();
    assert_eq!(s.fix("pkg", &["-o", "empty"]).status.code(), Some(0));
    assert!(s.root.join("empty/fastjson/__init__.py").is_file());
    assert_eq!(s.fix("pkg", &["-o", "new"]).status.code(), Some(0));
    assert!(s.root.join("new/fastjson/__init__.py").is_file());
    assert_eq!(names(&s.root), ["empty", "new", "pkg"]);
}

#[test]
fn fix_refuses_an_output_inside_the_input_before_building() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    let before = tree(&s.root);
    for out in ["pkg/out", "pkg/fastjson/out", "pkg/../pkg/x"] {
        let o = s.fix("pkg", &["-o", out]);
        assert_eq!(o.status.code(), Some(2), "{out}: {}", text(&o));
        assert!(text(&o).contains("inside the input"), "{out}: {}", text(&o));
        assert_eq!(tree(&s.root), before, "{out}: nothing may change");
        assert!(!s.built(), "{out}: refused before any build");
    }
}

#[test]
fn fix_refuses_an_existing_file_as_output_before_building() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    std::fs::write(s.root.join("notes.txt"), "mine\n").unwrap();
    let before = tree(&s.root);
    let o = s.fix("pkg", &["-o", "notes.txt"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(tree(&s.root), before);
    assert!(!s.built(), "refused before any build");
    // Same for a zip over a file elfcheck did not write.
    mac_function().write_zip(&s.root, "function.zip");
    std::fs::write(s.root.join("other.zip"), "not a zip\n").unwrap();
    let o = s.fix("function.zip", &["-o", "other.zip"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read(s.root.join("other.zip")).unwrap(), b"not a zip\n");
    assert!(!s.built());
}

#[test]
fn fix_refuses_an_output_directory_it_cannot_write_before_building() {
    let s = Scratch::new();
    mac_function().write_zip(&s.root, "function.zip");
    let o = s.fix("function.zip", &["-o", "no/such/dir/out.zip"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!s.built(), "refused before any build");
}

// --- fix: never through a link ----------------------------------------------------------------

#[test]
fn fix_never_writes_through_a_symlink_in_the_input() {
    let s = Scratch::new();
    std::fs::create_dir(s.root.join("victim")).unwrap();
    std::fs::write(s.root.join("victim/__init__.py"), "victim\n").unwrap();
    // The distribution's RECORD lists `fastjson/__init__.py`, and `fastjson` is a link out.
    Pkg::new()
        .file("lambda_function.py", "import fastjson\n", 0o644)
        .symlink("fastjson", "../victim")
        .fixture("fastjson_c/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file(
            "fastjson-2.1.0.dist-info/RECORD",
            "fastjson/__init__.py,,\nfastjson_c/_speedups.cpython-311-darwin.so,,\nfastjson-2.1.0.dist-info/RECORD,,\n",
            0o644,
        )
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
        .write_dir(&s.root, "pkg");
    let before = tree(&s.root);
    let o = s.fix("pkg", &["-o", "out"]);
    assert_eq!(std::fs::read_to_string(s.root.join("victim/__init__.py")).unwrap(), "victim\n");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert_eq!(tree(&s.root), before, "nothing outside the output may change");
}

// --- fix: in place ----------------------------------------------------------------------------

#[test]
fn a_leftover_old_tree_does_not_break_in_place_fix() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    std::fs::create_dir(s.root.join(".pkg.old")).unwrap();
    std::fs::write(s.root.join(".pkg.old/x"), "someone's\n").unwrap();
    let o = s.fix("pkg", &["--in-place"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.root.join("pkg/fastjson/__init__.py").is_file());
    assert_eq!(names(&s.root), [".pkg.old", "pkg"], "no temporary copy may be left");
    assert_eq!(std::fs::read_to_string(s.root.join(".pkg.old/x")).unwrap(), "someone's\n");
    assert!(s.tmp_is_empty());
}

/// A SIGKILL at any rename of an in-place fix of a directory leaves the package whole (the old
/// tree or the new one, never neither), and the next run removes what the killed one left.
#[test]
fn in_place_directory_fix_killed_at_any_rename_leaves_a_whole_package() {
    let s = Scratch::new();
    mac_function().write_dir(&s.root, "pkg");
    let old = tree(&s.root.join("pkg"));
    assert_eq!(s.fix("pkg", &["--in-place"]).status.code(), Some(0));
    let new = tree(&s.root.join("pkg"));
    assert_ne!(old, new);
    for n in 1..=4 {
        std::fs::remove_dir_all(s.root.join("pkg")).unwrap();
        mac_function().write_dir(&s.root, "pkg");
        let inject = format!("inject=/^rename:signal=KILL:when={n}");
        let Some(mut cmd) = strace(&["-e", "trace=/^rename", "-e", &inject], &s.fix_command("pkg", &["--in-place"]))
        else {
            return;
        };
        let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        let pkg = s.root.join("pkg");
        assert!(pkg.is_dir(), "kill at rename {n}: the package is gone: {:?}", names(&s.root));
        let now = tree(&pkg);
        assert!(now == old || now == new, "kill at rename {n}: the package is neither the old nor the new tree");
        // The next run finishes the job and leaves nothing behind.
        let o = s.fix("pkg", &["--in-place"]);
        assert_eq!(o.status.code(), Some(0), "after kill at rename {n}: {}", text(&o));
        assert_eq!(tree(&pkg), new);
        assert_eq!(names(&s.root), ["pkg"], "after kill at rename {n}");
        assert!(s.tmp_is_empty(), "after kill at rename {n}: build directories left");
    }
}

// --- fix: after a kill ------------------------------------------------------------------------

fn alive(pid: u32) -> bool {
    // A zombie waiting for its reaper counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_of_fix_stops_the_build_and_the_next_run_cleans_up() {
    let s = Scratch::new();
    mac_function().write_zip(&s.root, "function.zip");
    let pidfile = s.log.with_file_name("pip.pid");
    let mut child = s
        .fix_command("function.zip", &["-o", "out.zip"])
        .env("FAKE_PIP_SLEEP", "60")
        .env("FAKE_PIP_PIDFILE", &pidfile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the build starts", Duration::from_secs(30), || pidfile.exists());
    let pip: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    wait_until("the build dies with elfcheck", Duration::from_secs(5), || !alive(pip));

    let o = s.fix("function.zip", &["-o", "out.zip"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(names(&s.root), ["function.zip", "out.zip"], "temporary output left beside OUT");
    assert!(s.tmp_is_empty(), "build directory of the killed run left: {:?}", names(&s.tmp));
}

#[test]
fn a_temporary_zip_left_by_a_kill_is_removed_by_the_next_run() {
    let s = Scratch::new();
    mac_function().write_zip(&s.root, "function.zip");
    let Some(mut cmd) = strace(
        &["-e", "trace=/^rename", "-e", "inject=/^rename:signal=KILL:when=1"],
        &s.fix_command("function.zip", &["-o", "out.zip"]),
    ) else {
        return;
    };
    let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    let left: Vec<String> = names(&s.root).into_iter().filter(|n| n != "function.zip").collect();
    assert!(!left.is_empty(), "the kill came before the temporary zip was written: the test needs a new fault point");
    let o = s.fix("function.zip", &["-o", "out.zip"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(names(&s.root), ["function.zip", "out.zip"]);
    assert!(s.tmp_is_empty());
}

// --- check: a directory that changes while it is read -----------------------------------------

/// Checks `pkg` while `swap` replaces `pkg/sub/lib.so` right after the directory `pkg/sub` was
/// listed (strace holds the listing's return for a while), so the entry is a regular file when
/// listed and something else when opened.
fn check_with_swap(swap: impl FnOnce(&Path)) -> Option<Output> {
    let dir = tempfile::tempdir().unwrap();
    let pkg = Pkg::new().file("sub/lib.so", "a text file\n", 0o644).write_dir(dir.path(), "pkg");
    let sub = pkg.join("sub");
    let mut check = Command::new(bin());
    check.args(["check", "pkg", "-r", "python3.12", "--format", "json", "--no-config"]).current_dir(dir.path());
    let mut cmd = strace(
        &["-P", sub.to_str().unwrap(), "-e", "trace=getdents64", "-e", "inject=getdents64:delay_exit=2000000:when=1"],
        &check,
    )?;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    swap(&sub.join("lib.so"));
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("check hangs on a file swapped after the listing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    Some(Output { status: child.wait().unwrap(), stdout: out, stderr: err })
}

#[test]
fn directory_scan_does_not_hang_on_a_file_swapped_for_a_fifo() {
    let Some(o) = check_with_swap(|f| {
        std::fs::remove_file(f).unwrap();
        let status = Command::new("mkfifo").arg(f).status().unwrap();
        assert!(status.success());
    }) else {
        return;
    };
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
}

#[test]
fn directory_scan_does_not_follow_a_file_swapped_for_a_symlink() {
    let outside = tempfile::tempdir().unwrap();
    let evil = outside.path().join("evil.so");
    std::fs::write(&evil, common::fixture("macho/pyext-arm64.so")).unwrap();
    let Some(o) = check_with_swap(|f| {
        std::fs::remove_file(f).unwrap();
        std::os::unix::fs::symlink(&evil, f).unwrap();
    }) else {
        return;
    };
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    assert!(!codes.contains(&"macho-binary"), "read the file outside the tree through the link: {codes:?}");
}

// --- hostile input and memory -----------------------------------------------------------------

/// Runs elfcheck under GNU time and returns its exit code, output and peak resident set size in
/// bytes. (The peak must come from a process that forked elfcheck and is small itself: a child's
/// `ru_maxrss` includes the peak of the process it was forked from, here the test harness.)
fn run_measured(dir: &Path, args: &[&str]) -> (Option<i32>, String, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(time.exists(), "GNU time is missing: apt-get install time (.ci/run does)");
    let report = dir.join("time.out");
    let o = Command::new(time)
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let kib: u64 = std::fs::read_to_string(&report).unwrap().lines().last().unwrap().trim().parse().unwrap();
    (o.status.code(), text(&o), kib * 1024)
}

const MB: u64 = 1_000_000;

/// A zip with one stored or deflated entry whose header declares `declared` bytes, written
/// by hand: the zip crate's writer would refuse to lie.
fn raw_zip(name: &str, deflated: bool, declared: u32, crc: u32, data: &[u8]) -> Vec<u8> {
    let method: u16 = if deflated { 8 } else { 0 };
    let mut z = Vec::new();
    let header = |z: &mut Vec<u8>| {
        z.extend_from_slice(&method.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // time
        z.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        z.extend_from_slice(&crc.to_le_bytes());
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&declared.to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // extra
    };
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes()); // flags
    header(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(data);
    let cd = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by Unix
    z.extend_from_slice(&20u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes()); // flags
    header(&mut z);
    z.extend_from_slice(&0u16.to_le_bytes()); // comment
    z.extend_from_slice(&0u16.to_le_bytes()); // disk
    z.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    z.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let cd_len = z.len() as u32 - cd;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0]);
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// A deflate stream of `head` followed by zeros, `mib` MiB in all, built from independently
/// compressed 1 MiB blocks (each ends byte-aligned and refers only to itself), so that gigabytes
/// cost megabytes and no time to make.
fn deflated_zeros(head: &[u8], mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let block = |data: &[u8], flush: FlushCompress| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(64 << 10);
        c.compress_vec(data, &mut out, flush).unwrap();
        assert_eq!(c.total_in() as usize, data.len());
        out
    };
    let mut first = vec![0u8; 1 << 20];
    first[..head.len()].copy_from_slice(head);
    let mut stream = block(&first, FlushCompress::Sync);
    let zeros = block(&[0u8; 1 << 20], FlushCompress::Sync);
    for _ in 1..mib {
        stream.extend_from_slice(&zeros);
    }
    stream.extend_from_slice(&block(&[], FlushCompress::Finish));
    stream
}

/// An x86_64 shared object whose `needs` DT_NEEDED entries all name one string of `len` bytes.
fn elf_with_needs(needs: usize, len: usize) -> Vec<u8> {
    elf_with_strings(needs, len, b'a')
}

/// The same, with the string made of `fill` bytes (0: a table of `len` empty strings).
fn elf_with_strings(needs: usize, len: usize, fill: u8) -> Vec<u8> {
    let phoff = 64u64;
    let dynoff = phoff + 2 * 56;
    let dyn_count = needs as u64 + 3;
    let stroff = dynoff + dyn_count * 16;
    let strsz = len as u64 + 2;
    let total = stroff + strsz;
    let mut e = Vec::with_capacity(total as usize);
    e.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    for v in [3u16, 62] {
        e.extend_from_slice(&v.to_le_bytes()); // ET_DYN, EM_X86_64
    }
    e.extend_from_slice(&1u32.to_le_bytes());
    for v in [0u64, phoff, 0] {
        e.extend_from_slice(&v.to_le_bytes()); // entry, phoff, shoff
    }
    e.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 2, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    let phdr = |e: &mut Vec<u8>, kind: u32, off: u64, size: u64| {
        e.extend_from_slice(&kind.to_le_bytes());
        e.extend_from_slice(&4u32.to_le_bytes()); // PF_R
        for v in [off, off, off, size, size, 0x1000] {
            e.extend_from_slice(&v.to_le_bytes());
        }
    };
    phdr(&mut e, 1, 0, total); // PT_LOAD: the whole file at address 0
    phdr(&mut e, 2, dynoff, dyn_count * 16); // PT_DYNAMIC
    let dynamic = |e: &mut Vec<u8>, tag: u64, val: u64| {
        e.extend_from_slice(&tag.to_le_bytes());
        e.extend_from_slice(&val.to_le_bytes());
    };
    for _ in 0..needs {
        dynamic(&mut e, 1, 1); // DT_NEEDED -> offset 1
    }
    dynamic(&mut e, 5, stroff); // DT_STRTAB
    dynamic(&mut e, 10, strsz); // DT_STRSZ
    dynamic(&mut e, 0, 0);
    e.push(0);
    e.resize(e.len() + len, fill);
    e.push(0);
    assert_eq!(e.len() as u64, total);
    e
}

#[test]
fn elf_with_4096_needs_of_one_4_mib_string_is_a_finding_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let zip = Pkg::new().file("lib/libamp.so", elf_with_needs(4096, 4 << 20), 0o755).zip_bytes();
    assert!(zip.len() < 16 << 10, "the amplification input is {} bytes", zip.len());
    std::fs::write(dir.path().join("amp.zip"), &zip).unwrap();
    let (code, out, rss) = run_measured(dir.path(), &["check", "amp.zip", "-r", "python3.12", "--no-config"]);
    eprintln!("{} byte zip: exit {code:?}, peak RSS {} MB", zip.len(), rss / MB);
    assert_eq!(code, Some(0), "a warning, not an error: {out}");
    assert!(out.contains("warning[unparseable-binary] lib/libamp.so"), "{out}");
    assert!(rss < 100 * MB, "peak RSS {} MB", rss / MB);
}

#[test]
fn elf_whose_string_table_is_all_separators_is_a_finding_in_little_memory() {
    // 64 MiB of NUL bytes: 64 Mi empty strings, which an indexing parser would list one by one.
    let dir = tempfile::tempdir().unwrap();
    let zip = Pkg::new().file("lib/libnul.so", elf_with_strings(16, 64 << 20, 0), 0o755).zip_bytes();
    std::fs::write(dir.path().join("nul.zip"), &zip).unwrap();
    let (code, out, rss) = run_measured(dir.path(), &["check", "nul.zip", "-r", "python3.12", "--no-config"]);
    eprintln!("{} byte zip: exit {code:?}, peak RSS {} MB", zip.len(), rss / MB);
    assert!(matches!(code, Some(0 | 1)), "{out}");
    assert!(rss < 256 * MB, "peak RSS {} MB", rss / MB);
}

#[test]
fn entry_inflating_past_its_declared_size_stops_there() {
    let dir = tempfile::tempdir().unwrap();
    // Declares 4 KiB; inflates to 3 GiB.
    let data = deflated_zeros(b"\x7fELF\x02\x01\x01", 3 << 10);
    std::fs::write(dir.path().join("bomb.zip"), raw_zip("lib/libbomb.so", true, 4096, 0, &data)).unwrap();
    let (code, out, rss) = run_measured(dir.path(), &["check", "bomb.zip", "-r", "python3.12", "--no-config"]);
    eprintln!("{} byte zip: exit {code:?}, peak RSS {} MB", data.len(), rss / MB);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("lib/libbomb.so"), "{out}");
    assert!(out.contains("corrupt-entry"), "{out}");
    assert!(rss < 100 * MB, "peak RSS {} MB", rss / MB);
}

// --- the exit code is the verdict, whatever happens to stdout ---------------------------------

/// Runs elfcheck with its stdout a pipe whose reading end is already closed.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> Option<i32> {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(bin()).args(args).current_dir(dir).stdout(writer).stderr(Stdio::null()).status().unwrap();
    status.code()
}

#[test]
fn check_exit_code_is_the_verdict_when_stdout_closes_early() {
    let dir = tempfile::tempdir().unwrap();
    mac_function().write_zip(dir.path(), "broken.zip");
    Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").write_zip(dir.path(), "good.zip");
    for format in ["human", "json", "sarif", "github"] {
        let broken = ["check", "broken.zip", "-r", "python3.11", "--no-config", "--format", format];
        assert_eq!(with_closed_stdout(dir.path(), &broken), Some(1), "{format}");
        let good = ["check", "good.zip", "-r", "python3.11", "--no-config", "--format", format];
        assert_eq!(with_closed_stdout(dir.path(), &good), Some(0), "{format}");
    }
}

#[test]
fn fix_exit_code_is_the_verdict_when_stdout_closes_early() {
    let s = Scratch::new();
    mac_function().write_zip(&s.root, "function.zip");
    let plan = ["fix", "function.zip", "-r", "python3.11", "--via", "pip", "--plan", "--no-config"];
    assert_eq!(with_closed_stdout(&s.root, &plan), Some(0));
    // A real fix goes on to the end and writes its output.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = s.fix_command("function.zip", &["-o", "out.zip"]).stdout(writer).status().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(names(&s.root), ["function.zip", "out.zip"]);
}

// --- property: fix never changes anything outside its output ----------------------------------

mod property {
    use super::*;
    use proptest::prelude::*;

    /// Where `-o` points, relative to the package `world/pkg`.
    #[derive(Debug, Clone, Copy)]
    enum Out {
        Parent,
        Child,
        ChildThroughLink,
        Sibling,
        ExistingFile,
        ExistingNonEmptyDir,
        ExistingEmptyDir,
        SamePath,
        InPlace,
    }

    #[derive(Debug, Clone)]
    enum Item {
        File(String),
        Dir(String),
        Link(String, &'static str),
    }

    const NAMES: [&str; 6] = ["fastjson", "lib", "a", "b.py", "fastjson_c", "fastjson-2.1.0.dist-info"];
    const TARGETS: [&str; 7] = ["../victim", "../../victim", "../victim.txt", ".", "lib", "no-such", "ABS"];

    fn item() -> impl Strategy<Value = Item> {
        let path = prop::collection::vec(prop::sample::select(&NAMES[..]), 1..=2).prop_map(|p| p.join("/"));
        prop_oneof![
            path.clone().prop_map(Item::File),
            path.clone().prop_map(Item::Dir),
            (path, prop::sample::select(&TARGETS[..])).prop_map(|(p, t)| Item::Link(p, t)),
        ]
    }

    fn out() -> impl Strategy<Value = Out> {
        prop::sample::select(vec![
            Out::Parent,
            Out::Child,
            Out::ChildThroughLink,
            Out::Sibling,
            Out::ExistingFile,
            Out::ExistingNonEmptyDir,
            Out::ExistingEmptyDir,
            Out::SamePath,
            Out::InPlace,
        ])
    }

    /// The function whose `fastjson` is rebuilt; its RECORD also lists `fastjson/__init__.py`,
    /// which the stand-in pip writes, wherever the random items put links.
    fn base() -> Pkg {
        Pkg::new()
            .file("lambda_function.py", "import fastjson\n", 0o644)
            .fixture("fastjson_c/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
            .file(
                "fastjson-2.1.0.dist-info/RECORD",
                "fastjson/__init__.py,,\nfastjson_c/_speedups.cpython-311-darwin.so,,\nfastjson-2.1.0.dist-info/RECORD,,\n",
                0o644,
            )
            .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
    }

    /// Adds `items` where nothing stands yet (a later item never replaces an earlier one).
    fn build(world: &Path, items: &[Item]) {
        base().write_dir(world, "pkg");
        let pkg = world.join("pkg");
        for item in items {
            let (Item::File(rel) | Item::Dir(rel) | Item::Link(rel, _)) = item;
            let path = pkg.join(rel);
            let parent_is_dir = path.parent().and_then(|p| p.symlink_metadata().ok()).is_some_and(|m| m.is_dir());
            if !parent_is_dir || path.symlink_metadata().is_ok() {
                continue;
            }
            match item {
                Item::File(_) => std::fs::write(&path, "random\n").unwrap(),
                Item::Dir(_) => std::fs::create_dir(&path).unwrap(),
                Item::Link(_, t) => {
                    let target = if *t == "ABS" { world.join("victim") } else { PathBuf::from(t) };
                    std::os::unix::fs::symlink(&target, &path).unwrap();
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn directory_fix_changes_nothing_outside_its_output(
            items in prop::collection::vec(item(), 0..6),
            out in out(),
            force in any::<bool>(),
        ) {
            let s = Scratch::new();
            let world = s.root.join("world");
            std::fs::create_dir(&world).unwrap();
            std::fs::create_dir(world.join("victim")).unwrap();
            std::fs::write(world.join("victim/__init__.py"), "victim\n").unwrap();
            std::fs::write(world.join("victim.txt"), "victim\n").unwrap();
            std::fs::create_dir(world.join("empty")).unwrap();
            build(&world, &items);
            if matches!(out, Out::ChildThroughLink) && world.join("pkg/lib").symlink_metadata().is_err() {
                std::os::unix::fs::symlink("../victim", world.join("pkg/lib")).unwrap();
            }
            let (arg, real): (Vec<&str>, Option<PathBuf>) = match out {
                Out::Parent => (vec!["-o", "world"], Some(world.clone())),
                Out::Child => (vec!["-o", "world/pkg/out"], Some(world.join("pkg/out"))),
                Out::ChildThroughLink => {
                    let real = std::fs::canonicalize(world.join("pkg/lib")).ok().map(|d| d.join("out"));
                    (vec!["-o", "world/pkg/lib/out"], real)
                }
                Out::Sibling => (vec!["-o", "world/out"], Some(world.join("out"))),
                Out::ExistingFile => (vec!["-o", "world/victim.txt"], Some(world.join("victim.txt"))),
                Out::ExistingNonEmptyDir => (vec!["-o", "world/victim"], Some(world.join("victim"))),
                Out::ExistingEmptyDir => (vec!["-o", "world/empty"], Some(world.join("empty"))),
                Out::SamePath => (vec!["-o", "world/pkg"], Some(world.join("pkg"))),
                Out::InPlace => (vec!["--in-place"], Some(world.join("pkg"))),
            };
            let real = real.map(|r| std::fs::canonicalize(r.parent().unwrap()).unwrap().join(r.file_name().unwrap()));
            let mut args = arg.clone();
            if force {
                args.push("--force");
            }
            let before = tree(&s.root);
            let o = s.fix("world/pkg", &args);
            let after = tree(&s.root);
            let root = std::fs::canonicalize(&s.root).unwrap();
            let under_out = |k: &str| {
                real.as_ref().is_some_and(|r| root.join(k).starts_with(r))
            };
            if o.status.code() == Some(0) {
                for (k, v) in &before {
                    if !under_out(k) {
                        prop_assert_eq!(after.get(k), Some(v), "{} changed outside OUT ({:?}): {}", k, out, text(&o));
                    }
                }
                for k in after.keys() {
                    prop_assert!(under_out(k) || before.contains_key(k), "{} appeared outside OUT ({:?})", k, out);
                }
            } else {
                prop_assert!(before == after, "a refused or failed fix changed files ({:?}): {}", out, text(&o));
            }
            prop_assert!(after.keys().all(|k| !k.contains(".elfcheck-")), "temporary files left: {:?}", after.keys());
            prop_assert!(s.tmp_is_empty(), "build directories left");
            if !matches!(out, Out::InPlace) {
                // The input itself never changes.
                let input = |t: &BTreeMap<String, Node>| t.iter().filter(|(k, _)| k.starts_with("world/pkg/")).map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
                prop_assert_eq!(input(&before), input(&after));
            }
            // Nothing follows the package's links to write: the victims are intact unless OUT.
            if !matches!(out, Out::ExistingNonEmptyDir | Out::ChildThroughLink) {
                prop_assert_eq!(std::fs::read_to_string(world.join("victim/__init__.py")).unwrap(), "victim\n");
            }
        }
    }
}

/// `libstatx.so` grown to `size` bytes, with its section-header table moved to the end as in
/// large real libraries: only its first bytes hold what the loader reads.
fn large_elf_zip(path: &Path, size: usize) {
    let elf = common::fixture("x86_64/libstatx.so");
    let shoff = u64::from_le_bytes(elf[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes([elf[0x3c], elf[0x3d]]) as usize;
    let table = elf[shoff..shoff + shnum * 64].to_vec();
    let mut head = elf.clone();
    let new_shoff = (size - table.len()) as u64;
    head[0x28..0x30].copy_from_slice(&new_shoff.to_le_bytes());
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644)
        .large_file(true);
    w.start_file("lib/libbig.so", opts).unwrap();
    use std::io::Write;
    w.write_all(&head).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size - head.len() - table.len();
    while left > 0 {
        let n = left.min(zeros.len());
        w.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    w.write_all(&table).unwrap();
    w.finish().unwrap();
}

#[test]
fn a_large_object_is_judged_from_its_start_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    large_elf_zip(&dir.path().join("big.zip"), 500 << 20);
    let (code, out, rss) = run_measured(dir.path(), &["check", "big.zip", "-r", "python3.11", "--no-config"]);
    eprintln!("500 MiB ELF: exit {code:?}, peak RSS {} MB", rss / MB);
    assert!(out.contains("glibc-too-new") && out.contains("GLIBC_2.28"), "judged from its first bytes: {out}");
    assert!(rss < 256 * MB, "peak RSS {} MB", rss / MB);
}
