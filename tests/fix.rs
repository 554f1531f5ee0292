//! `elfcheck fix` end to end. Tests that need the network, the public corpus or a Docker engine
//! with a local build image are ignored by a plain `cargo test`; `.ci/run` installs Docker,
//! builds the images (`scripts/docker/make-python-image.sh`, `make-node-image.sh 22` and `20`)
//! and runs them with `--ignored`. The first-run scenarios build their inputs from real packages
//! (pinned PyPI wheels installed as on a Mac or a Linux box, npm packages, better-sqlite3
//! compiled with node-gyp in the Node 20 image).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Pkg;

fn elfcheck(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::elfcheck_command();
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("elfcheck runs")
}

/// `elfcheck fix INPUT ARGS...` in `dir`.
fn fix(dir: &Path, input: &Path, args: &[&str]) -> Output {
    let mut all = vec!["fix", input.to_str().unwrap()];
    all.extend_from_slice(args);
    elfcheck(dir, &all, &[])
}

/// `elfcheck fix INPUT` for python3.11 on x86_64 in the local build image, into `fixed.zip`.
fn fix_in_docker(dir: &Path, input: &Path, extra: &[&str]) -> Output {
    let image = image();
    let mut args =
        vec!["-r", "python3.11", "-a", "x86_64", "--via", "docker", "--image", &image, "-q", "-o", "fixed.zip"];
    args.extend_from_slice(extra);
    fix(dir, input, &args)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn corpus(name: &str) -> PathBuf {
    let dir = std::env::var_os("ELFCHECK_CORPUS_DIR").map(PathBuf::from).unwrap_or_else(|| "target/corpus".into());
    let dir = if dir.is_absolute() { dir } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(dir) };
    let p = dir.join(name);
    assert!(p.is_file(), "{} missing: build the corpus (sh ../shared/corpus/build.sh target/corpus)", p.display());
    p
}

fn image() -> String {
    std::env::var("ELFCHECK_TEST_IMAGE").unwrap_or_else(|_| "elfcheck-test/python-build:3.11".into())
}

/// Entry name -> (uncompressed bytes, compressed bytes, unix mode, timestamp).
fn entries(zip: &Path) -> std::collections::BTreeMap<String, (Vec<u8>, u64, Option<u32>, String)> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let stamp = format!("{:?}", f.last_modified());
        out.insert(f.name().unwrap().to_string(), (data, f.compressed_size(), f.unix_mode(), stamp));
    }
    out
}

fn sha(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

/// Nothing but `keep` in `dir`: no temporary or partial output.
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "unexpected files in {}", dir.display());
}

/// Checks the result of fixing seed-macos: zero findings, the handler untouched.
fn assert_seed_fixed(input: &Path, output: &Path) {
    let o = elfcheck(
        Path::new("."),
        &["check", output.to_str().unwrap(), "-r", "python3.11", "-a", "x86_64", "--format", "json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc:#}");
    let (before, after) = (entries(input), entries(output));
    assert_eq!(
        before["lambda_function.py"], after["lambda_function.py"],
        "lambda_function.py must be copied byte for byte"
    );
    assert!(after.contains_key("editdistance/bycython.cpython-311-x86_64-linux-gnu.so"));
    assert!(!after.contains_key("editdistance/bycython.cpython-311-darwin.so"));
}

// --- without network ---------------------------------------------------------------------------

fn mac_package(dir: &Path) -> PathBuf {
    Pkg::new()
        .file("lambda_function.py", "import fastjson\n", 0o644)
        .fixture("fastjson/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file(
            "fastjson-2.1.0.dist-info/RECORD",
            "fastjson/_speedups.cpython-311-darwin.so,,\nfastjson-2.1.0.dist-info/RECORD,,\n",
            0o644,
        )
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
        .write_zip(dir, "function.zip")
}

#[test]
fn plan_prints_the_commands_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = mac_package(dir.path());
    let before = sha(&input);
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.11", "--via", "pip", "--plan"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("plan: rebuild fastjson==2.1.0 into the package root"), "{out}");
    assert!(out.contains("--python-version 3.11 --abi cp311 --platform manylinux_2_26_x86_64"), "{out}");
    assert_eq!(sha(&input), before);
    only(dir.path(), &["function.zip"]);
}

#[test]
fn fix_takes_the_target_from_elfcheck_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    mac_package(dir.path());
    std::fs::write(dir.path().join("elfcheck.toml"), "runtime = \"python3.12\"\narch = \"arm64\"\n").unwrap();
    let o = elfcheck(dir.path(), &["fix", "function.zip", "--via", "pip", "--plan"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 error for python3.12 (Amazon Linux 2023, arm64)"), "{out}");
    assert!(out.contains("--python-version 3.12 --abi cp312 --platform manylinux_2_34_aarch64"), "{out}");
}

#[test]
fn docker_plan_uses_the_sam_build_image() {
    let dir = tempfile::tempdir().unwrap();
    mac_package(dir.path());
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.11", "-a", "arm64", "--via", "docker", "--plan"],
        &[],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("--platform linux/arm64"), "{out}");
    assert!(out.contains("public.ecr.aws/sam/build-python3.11:latest-arm64 pip install --no-deps"), "{out}");
}

#[test]
fn docker_missing_from_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = mac_package(dir.path());
    let before = sha(&input);
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.11", "--via", "docker", "-o", "out.zip"],
        &[("ELFCHECK_DOCKER", "elfcheck-no-such-docker")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("Docker is not installed (`elfcheck-no-such-docker` not found on PATH)"), "{}", text(&o));
    assert_eq!(sha(&input), before);
    only(dir.path(), &["function.zip"]);
}

#[test]
fn pip_without_network_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    mac_package(dir.path());
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.11", "--via", "pip", "-o", "out.zip", "-q"],
        &[
            ("PIP_CONFIG_FILE", "/dev/null"),
            ("PIP_INDEX_URL", "http://127.0.0.1:9/simple"),
            ("PIP_RETRIES", "1"),
            ("PIP_TIMEOUT", "2"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("pip cannot reach the package index"), "{}", text(&o));
    only(dir.path(), &["function.zip"]);
}

#[test]
fn output_is_required_and_must_not_be_the_input() {
    let dir = tempfile::tempdir().unwrap();
    mac_package(dir.path());
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.11"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("-o OUT"), "{}", text(&o));
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.11", "-o", "function.zip"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--in-place"), "{}", text(&o));
}

#[test]
fn unowned_binaries_cannot_be_fixed() {
    let dir = tempfile::tempdir().unwrap();
    Pkg::new().fixture("lib/libhello.dylib", "macho/libhello-arm64.dylib").write_zip(dir.path(), "function.zip");
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("cannot fix: lib/libhello.dylib [macho-binary]: no installed package owns this file"),
        "{}",
        text(&o)
    );
    only(dir.path(), &["function.zip"]);
}

#[test]
fn repeated_entry_names_are_refused_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = Pkg::new().fixture("lib/a.so", "macho/libhello-arm64.dylib").fixture("lib/b.so", "x86_64/libhello.so");
    std::fs::write(dir.path().join("function.zip"), pkg.zip_with_repeated_name("lib/a.so", "lib/b.so")).unwrap();
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("cannot fix: lib/a.so [duplicate-entry]: the zip stores this path more than once"),
        "{}",
        text(&o)
    );
    only(dir.path(), &["function.zip"]);
}

#[test]
fn nothing_to_fix_still_writes_the_output_as_a_byte_identical_copy() {
    let dir = tempfile::tempdir().unwrap();
    let input = Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").write_zip(dir.path(), "function.zip");
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("nothing to fix"), "{out}");
    assert!(out.contains("output: out.zip (a copy of the input, byte for byte)"), "{out}");
    assert_eq!(sha(&dir.path().join("out.zip")), sha(&input));
    only(dir.path(), &["function.zip", "out.zip"]);
    // Written the safe way, so fixing again into the same OUT just works.
    let again = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-o", "out.zip"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    only(dir.path(), &["function.zip", "out.zip"]);
    // In place, nothing is written at all.
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "--in-place"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("nothing to fix; function.zip is unchanged") && !out.contains("output:"), "{out}");
    assert_eq!(sha(&input), sha(&dir.path().join("out.zip")));
}

#[test]
fn nothing_to_fix_copies_a_directory_with_its_modes_and_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    Pkg::new()
        .file("bootstrap", "#!/bin/sh\nexec ./app\n", 0o755)
        .fixture("lib/libhello.so", "x86_64/libhello.so")
        .symlink("lib/libhello.so.1", "libhello.so")
        .write_dir(dir.path(), "fn");
    let o = elfcheck(dir.path(), &["fix", "fn", "-r", "provided.al2023", "-o", "out"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("output: out (a copy of the input, byte for byte)"));
    let out = dir.path().join("out");
    assert_eq!(sha(&out.join("lib/libhello.so")), sha(&dir.path().join("fn/lib/libhello.so")));
    assert_eq!(std::fs::metadata(out.join("bootstrap")).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(std::fs::read_link(out.join("lib/libhello.so.1")).unwrap(), Path::new("libhello.so"));
}

#[test]
fn output_is_named_only_when_something_was_written() {
    let dir = tempfile::tempdir().unwrap();
    Pkg::new().fixture("lib/libhello.dylib", "macho/libhello-arm64.dylib").write_zip(dir.path(), "function.zip");
    for args in [&["-o", "out.zip"][..], &["-o", "out.zip", "--partial"], &["--plan"]] {
        let mut all = vec!["fix", "function.zip", "-r", "python3.12"];
        all.extend_from_slice(args);
        let o = elfcheck(dir.path(), &all, &[]);
        assert!(!String::from_utf8_lossy(&o.stdout).contains("output:"), "{args:?}: {}", text(&o));
        only(dir.path(), &["function.zip"]);
    }
}

/// A custom runtime whose `bootstrap` (a static Linux executable) lost its executable bit.
fn bootstrap_0644() -> Pkg {
    Pkg::new().file("bootstrap", common::fixture("x86_64/hello-static"), 0o644).file("config.json", "{}\n", 0o664)
}

/// `(compressed bytes, unix mode)` of an entry, read raw.
fn raw_entry(zip: &Path, name: &str) -> (Vec<u8>, Option<u32>, u32) {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let i = a.index_for_name(name).unwrap();
    let mut e = a.by_index_raw(i).unwrap();
    let mode = e.unix_mode();
    let crc = e.crc32();
    let mut data = Vec::new();
    e.read_to_end(&mut data).unwrap();
    (data, mode, crc)
}

#[test]
fn not_executable_bootstrap_gets_its_mode_and_keeps_its_bytes() {
    for (label, pkg) in [("unix zip", bootstrap_0644()), ("zip made on Windows", bootstrap_0644().dos())] {
        let dir = tempfile::tempdir().unwrap();
        let input = pkg.write_zip(dir.path(), "function.zip");
        let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "provided.al2023", "-o", "out.zip"], &[]);
        assert_eq!(o.status.code(), Some(0), "{label}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("plan: make `bootstrap` executable"), "{label}: {out}");
        assert!(!out.contains("cannot fix"), "{label}: {out}");
        let fixed = dir.path().join("out.zip");
        let (before, after) = (raw_entry(&input, "bootstrap"), raw_entry(&fixed, "bootstrap"));
        assert_eq!(after.1.map(|m| m & 0o7777), Some(0o755), "{label}");
        assert_eq!(after.1.map(|m| m & 0o170000), Some(0o100000), "{label}: a regular file");
        assert_eq!((before.0, before.2), (after.0, after.2), "{label}: the stored data is copied as it is");
        assert_eq!(raw_entry(&input, "config.json").0, raw_entry(&fixed, "config.json").0);
        let check = elfcheck(dir.path(), &["check", "out.zip", "-r", "provided.al2023"], &[]);
        assert_eq!(check.status.code(), Some(0), "{label}: {}", text(&check));
    }
}

#[test]
fn not_executable_bootstrap_in_a_directory_is_set_in_the_new_tree_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let input = bootstrap_0644().write_dir(dir.path(), "fn");
    let o = elfcheck(dir.path(), &["fix", "fn", "-r", "provided.al2023", "-o", "out"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&dir.path().join("out/bootstrap")), 0o755);
    assert_eq!(mode(&input.join("bootstrap")), 0o644, "the input is never modified");
    assert_eq!(mode(&dir.path().join("out/config.json")), 0o664, "other modes are kept");
    assert_eq!(sha(&dir.path().join("out/bootstrap")), sha(&input.join("bootstrap")));
}

#[test]
fn files_and_directories_lambda_cannot_read_are_made_readable() {
    use std::os::unix::fs::PermissionsExt;
    // Zipped from a `umask 077` checkout: Lambda's user could read none of it.
    let pkg = Pkg::new().dir("app", 0o700).file("app/handler.py", "def handler(e, c):\n    return 1\n", 0o600).file(
        "app/data.bin",
        vec![7u8; 4096],
        0o640,
    );
    let dir = tempfile::tempdir().unwrap();
    let input = pkg.write_zip(dir.path(), "function.zip");
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("plan: make `app`, `app/data.bin`, `app/handler.py` readable by everyone"),
        "{}",
        text(&o)
    );
    let fixed = dir.path().join("out.zip");
    assert_eq!(raw_entry(&fixed, "app/handler.py").1.map(|m| m & 0o777), Some(0o644));
    assert_eq!(raw_entry(&fixed, "app/data.bin").1.map(|m| m & 0o777), Some(0o644));
    assert_eq!(raw_entry(&fixed, "app/").1.map(|m| m & 0o777), Some(0o755));
    assert_eq!(raw_entry(&input, "app/data.bin").0, raw_entry(&fixed, "app/data.bin").0);
    // The same as a directory.
    let tree = pkg.write_dir(dir.path(), "fn");
    let o = elfcheck(dir.path(), &["fix", "fn", "-r", "python3.12", "-o", "out"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("out/app")), 0o755);
    assert_eq!(mode(&dir.path().join("out/app/handler.py")), 0o644);
    assert_eq!(mode(&tree.join("app/handler.py")), 0o600, "the input is never modified");
}

#[test]
fn a_symlinked_bootstrap_is_made_executable_at_its_target() {
    let dir = tempfile::tempdir().unwrap();
    Pkg::new()
        .file("bin/app", common::fixture("x86_64/hello-static"), 0o644)
        .symlink("bootstrap", "bin/app")
        .write_zip(dir.path(), "function.zip");
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "provided.al2", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("plan: make `bin/app` executable"), "{}", text(&o));
    assert_eq!(raw_entry(&dir.path().join("out.zip"), "bin/app").1.map(|m| m & 0o777), Some(0o755));
}

#[test]
fn a_reinstalled_file_identical_to_the_one_it_replaces_keeps_its_stored_bytes() {
    use std::os::unix::fs::PermissionsExt;
    // A stand-in for pip that installs fastjson 2.1.0 for Linux: the same pure-Python module as
    // the Mac install, a new extension.
    let dir = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let python = tools.path().join("python");
    std::fs::write(
        &python,
        r#"#!/bin/sh
dest=; prev=
for a in "$@"; do [ "$prev" = --target ] && dest=$a; prev=$a; done
mkdir -p "$dest/fastjson" "$dest/fastjson-2.1.0.dist-info"
printf 'def loads(s):\n    return s\n' > "$dest/fastjson/__init__.py"
printf 'ELF-ish, rebuilt\n' > "$dest/fastjson/_speedups.cpython-311-x86_64-linux-gnu.so"
printf 'Name: fastjson\nVersion: 2.1.0\n' > "$dest/fastjson-2.1.0.dist-info/METADATA"
printf '%s\n' fastjson/__init__.py,, fastjson/_speedups.cpython-311-x86_64-linux-gnu.so,, \
  fastjson-2.1.0.dist-info/METADATA,, fastjson-2.1.0.dist-info/RECORD,, > "$dest/fastjson-2.1.0.dist-info/RECORD"
"#,
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let input = Pkg::new()
        .fixture("fastjson/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file("fastjson/__init__.py", "def loads(s):\n    return s\n", 0o644)
        .file(
            "fastjson-2.1.0.dist-info/RECORD",
            "fastjson/__init__.py,,\nfastjson/_speedups.cpython-311-darwin.so,,\nfastjson-2.1.0.dist-info/RECORD,,\n",
            0o644,
        )
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
        .write_zip(dir.path(), "function.zip");
    let o = elfcheck(
        dir.path(),
        &[
            "fix",
            "function.zip",
            "-r",
            "python3.11",
            "--via",
            "pip",
            "--python",
            python.to_str().unwrap(),
            "-o",
            "out.zip",
            "--keep-failed",
        ],
        &[],
    );
    let out = text(&o);
    assert!(out.contains("rebuilt fastjson 2.1.0"), "{out}");
    let fixed = dir.path().join("out.zip");
    let (before, after) = (raw_entry(&input, "fastjson/__init__.py"), raw_entry(&fixed, "fastjson/__init__.py"));
    assert_eq!(before, after, "the same file, copied as stored (its compressed bytes, mode and CRC)");
    let stamp = |zip: &Path| entries(zip)["fastjson/__init__.py"].3.clone();
    assert_eq!(stamp(&input), stamp(&fixed), "and its timestamp");
    assert_eq!(entries(&fixed)["fastjson-2.1.0.dist-info/METADATA"].0, b"Name: fastjson\nVersion: 2.1.0\n");
    assert!(entries(&fixed).contains_key("fastjson/_speedups.cpython-311-x86_64-linux-gnu.so"));
    assert!(!entries(&fixed).contains_key("fastjson/_speedups.cpython-311-darwin.so"));
}

#[test]
fn an_addon_compiled_from_source_is_planned_for_npm_rebuild_in_the_build_image() {
    // An npm package with its addon sources (binding.gyp), compiled for Node 18 (ABI 108).
    let dir = tempfile::tempdir().unwrap();
    Pkg::new()
        .file("node_modules/fastdb/package.json", r#"{"name": "fastdb", "version": "3.1.0"}"#, 0o644)
        .file("node_modules/fastdb/binding.gyp", "{ 'targets': [] }\n", 0o644)
        .fixture("node_modules/fastdb/build/Release/fastdb.node", "x86_64/addon-v108.node")
        .file("index.js", "require('fastdb')\n", 0o644)
        .write_zip(dir.path(), "function.zip");
    let plan = |via: &str| {
        let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "nodejs22.x", "--via", via, "--plan"], &[]);
        text(&o)
    };
    let docker = plan("docker");
    assert!(
        docker.contains("plan: compile fastdb 3.1.0 from source in `node_modules` (npm rebuild, node-gyp)"),
        "{docker}"
    );
    assert!(
        docker.contains("public.ecr.aws/sam/build-nodejs22.x:latest-x86_64 npm rebuild --build-from-source --foreground-scripts fastdb"),
        "{docker}"
    );
    assert!(docker.contains("-e npm_config_build_from_source=true"), "{docker}");
    let pip = plan("pip");
    assert!(
        pip.contains("cannot fix: node_modules/fastdb/build/Release/fastdb.node [node-abi-mismatch]: `fastdb 3.1.0` is compiled from source (it has a `binding.gyp`): `npm rebuild` in the runtime's build image compiles it for the target, which needs Docker (--via docker)"),
        "{pip}"
    );
    only(dir.path(), &["function.zip"]);
}

#[test]
fn a_missing_library_no_reinstall_provides_is_said_before_anything_runs() {
    // A Linux wheel's extension needs a library neither it nor the runtime has: reinstalling the
    // same wheel cannot help; the plan says so and what can, and nothing runs (no pip here).
    let dir = tempfile::tempdir().unwrap();
    Pkg::new()
        .fixture("fastodbc/_ext.cpython-312-x86_64-linux-gnu.so", "x86_64/libmissing-dep.so")
        .file(
            "fastodbc-1.0.dist-info/RECORD",
            "fastodbc/_ext.cpython-312-x86_64-linux-gnu.so,,\nfastodbc-1.0.dist-info/RECORD,,\n",
            0o644,
        )
        .file("fastodbc-1.0.dist-info/METADATA", "Name: fastodbc\nVersion: 1.0\n", 0o644)
        .file("fastodbc-1.0.dist-info/WHEEL", "Tag: cp312-cp312-manylinux_2_17_x86_64\n", 0o644)
        .write_zip(dir.path(), "function.zip");
    for partial in [false, true] {
        let mut args =
            vec!["fix", "function.zip", "-r", "python3.12", "--via", "pip", "--python", "/nonexistent/python"];
        args.extend(["-o", "out.zip"]);
        if partial {
            args.push("--partial");
        }
        let o = elfcheck(dir.path(), &args, &[]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(
            out.contains(
                "cannot fix: fastodbc/_ext.cpython-312-x86_64-linux-gnu.so [missing-library]: reinstalling cannot help: `fastodbc 1.0` expects the system to provide `libnotthere.so.3`, and python3.12 does not have it; add a layer with it under `lib/`"
            ),
            "{out}"
        );
        assert!(out.contains("`libnotthere.so.3`: no known package ships it"), "{out}");
        assert!(out.contains("nothing elfcheck can fix; no output written"), "{out}");
        assert!(!out.contains("pip"), "pip must not run: {out}");
        only(dir.path(), &["function.zip"]);
    }
    // The check's report no longer offers `elfcheck fix` for it.
    let o = elfcheck(dir.path(), &["check", "function.zip", "-r", "python3.12"], &[]);
    assert!(!text(&o).contains("elfcheck fix"), "{}", text(&o));
}

// --- with network and the corpus ---------------------------------------------------------------

#[test]
#[ignore = "needs PyPI and the corpus; run by .ci/run"]
fn pip_fixes_seed_macos() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("py311-editdistance-macos-arm64.zip");
    let before = sha(&input);
    let out = dir.path().join("fixed.zip");
    let o = fix(dir.path(), &input, &["-r", "python3.11", "-a", "x86_64", "--via", "pip", "-o", "fixed.zip"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sha(&input), before, "the input is never modified");
    assert_seed_fixed(&input, &out);
    only(dir.path(), &["fixed.zip"]);
}

#[test]
#[ignore = "needs PyPI, npm and the corpus; run by .ci/run"]
fn pip_and_npm_fix_every_broken_corpus_case() {
    let cases = [
        ("py312-regex-win_amd64.zip", "python3.12"),
        ("py312-psutil-manylinux-aarch64.zip", "python3.12"),
        ("py-cryptography-manylinux_2_28-x86_64.zip", "python3.11"),
        ("py311-rpds-manylinux-x86_64.zip", "python3.12"),
        ("py312-ujson-musllinux-x86_64.zip", "python3.12"),
        ("node-sharp-darwin-arm64.zip", "nodejs20.x"),
    ];
    for (name, runtime) in cases {
        let dir = tempfile::tempdir().unwrap();
        let input = corpus(name);
        let o = fix(dir.path(), &input, &["-r", runtime, "-a", "x86_64", "--via", "pip", "-q", "-o", "fixed.zip"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let check =
            elfcheck(dir.path(), &["check", "fixed.zip", "-r", runtime, "-a", "x86_64", "--format", "json"], &[]);
        assert_eq!(check.status.code(), Some(0), "{name}: {}", text(&check));
    }
}

#[test]
#[ignore = "needs PyPI and the corpus; run by .ci/run"]
fn zip_fixed_in_place_keeps_its_name_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("function.zip");
    std::fs::copy(corpus("py311-rpds-manylinux-x86_64.zip"), &zip).unwrap();
    std::fs::set_permissions(&zip, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.12", "-a", "x86_64", "--via", "pip", "-q", "--in-place"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::metadata(&zip).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(elfcheck(dir.path(), &["check", "function.zip", "-r", "python3.12"], &[]).status.code(), Some(0));
    only(dir.path(), &["function.zip"]);
}

#[test]
#[ignore = "needs a Docker engine, the local build image and the corpus; run by .ci/run"]
fn keep_failed_keeps_the_output_that_failed_the_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("py-cryptography-manylinux_2_28-x86_64.zip");
    let o = fix_in_docker(dir.path(), &input, &["--keep-failed"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("kept as asked (--keep-failed)"), "{}", text(&o));
    only(dir.path(), &["fixed.zip"]);
}

#[test]
#[ignore = "needs PyPI and the corpus; run by .ci/run"]
fn directory_input_is_fixed_into_a_directory_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("fn");
    let status = Command::new("unzip")
        .args(["-q", corpus("py311-rpds-manylinux-x86_64.zip").to_str().unwrap(), "-d", tree.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = elfcheck(
        dir.path(),
        &["fix", "fn", "-r", "python3.12", "-a", "x86_64", "--via", "pip", "-q", "--in-place"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(tree.join("rpds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains("cpython-312-x86_64-linux-gnu")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("cpython-311")), "{names:?}");
    let check = elfcheck(dir.path(), &["check", "fn", "-r", "python3.12", "-a", "x86_64"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    only(dir.path(), &["fn"]);
}

// --- with Docker -------------------------------------------------------------------------------

#[test]
#[ignore = "needs a Docker engine, the local build image and the corpus; run by .ci/run"]
fn docker_fixes_seed_macos() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("py311-editdistance-macos-arm64.zip");
    let before = sha(&input);
    let o = fix_in_docker(dir.path(), &input, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sha(&input), before);
    assert_seed_fixed(&input, &dir.path().join("fixed.zip"));
    // Built as the invoking user, not as root inside the container.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(dir.path().join("fixed.zip")).unwrap().uid(),
        std::fs::metadata(dir.path()).unwrap().uid()
    );
}

#[test]
#[ignore = "needs a Docker engine, the local build image and the corpus; run by .ci/run"]
fn recheck_catches_binaries_too_new_for_the_runtime() {
    // The stand-in image is Debian 12 (glibc 2.36): pip there picks the newest wheel its own
    // glibc accepts, too new for python3.11 on Amazon Linux 2 (glibc 2.26). The re-check refuses.
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("py-cryptography-manylinux_2_28-x86_64.zip");
    let o = fix_in_docker(dir.path(), &input, &["--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("error[glibc-too-new]"), "{out}");
    assert!(out.contains("the output was not written"), "{out}");
    only(dir.path(), &[]);
}

#[test]
#[ignore = "needs a Docker engine; run by .ci/run"]
fn docker_failure_modes() {
    let dir = tempfile::tempdir().unwrap();
    mac_package(dir.path());
    // Daemon down: a socket nobody listens on.
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.11", "--via", "docker", "--image", &image(), "-o", "out.zip"],
        &[("DOCKER_HOST", "unix:///tmp/elfcheck-no-daemon.sock")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("the Docker daemon does not answer"), "{}", text(&o));
    // Image missing and not pullable.
    let o = elfcheck(
        dir.path(),
        &[
            "fix",
            "function.zip",
            "-r",
            "python3.11",
            "--via",
            "docker",
            "--image",
            "elfcheck-test/no-such-image:1",
            "-q",
            "-o",
            "out.zip",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("image `elfcheck-test/no-such-image:1` is not available here and cannot be pulled"),
        "{}",
        text(&o)
    );
    // Nothing to install (no such version on PyPI): that distribution cannot be fixed, and with
    // nothing else to fix, nothing is written.
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "python3.11", "--via", "docker", "--image", &image(), "-q", "-o", "out.zip"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(
            "cannot fix: fastjson 2.1.0: pip finds no distribution of `fastjson==2.1.0` to install in `elfcheck-test/python-build:3.11`"
        ),
        "{t}"
    );
    assert!(t.contains("no output written"), "{t}");
    only(dir.path(), &["function.zip"]);
}

#[test]
#[ignore = "needs PyPI and the corpus; run by .ci/run"]
fn interrupting_fix_leaves_the_input_and_no_output() {
    let input = corpus("py311-editdistance-macos-arm64.zip");
    let before = sha(&input);
    let mut interrupted = 0;
    for delay_ms in [0u64, 30, 150, 400, 800, 1200, 1800, 2500] {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("function.zip");
        std::fs::copy(&input, &copy).unwrap();
        let mut child = common::elfcheck_command()
            .args(["fix", "function.zip", "-r", "python3.11", "--via", "pip", "-q", "-o", "fixed.zip"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let status = child.wait().unwrap();
        assert_eq!(sha(&copy), before, "input changed (delay {delay_ms} ms)");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        if status.code() != Some(0) {
            interrupted += 1;
        }
        // Either no output at all, or (renamed into place before the signal) a whole one that passes.
        if names.iter().any(|n| n == "fixed.zip") {
            assert_seed_fixed(&copy, &dir.path().join("fixed.zip"));
            assert_eq!(names.len(), 2, "leftovers after {delay_ms} ms: {names:?}");
        } else {
            assert_eq!(names, vec!["function.zip".to_string()], "partial output after {delay_ms} ms: {names:?}");
        }
    }
    assert!(interrupted >= 3, "only {interrupted} runs were interrupted: the delays no longer reach into the fix");
}

// --- the first-run scenarios, on real packages from PyPI and npm -------------------------------

/// The ten pinned packages with native code of `bench/fix.sh`. numpy 2.4.6 has wheels for
/// glibc 2.28 and newer only: none for python3.11 (Amazon Linux 2, glibc 2.26); 2.2.6 has.
const TEN: [&str; 10] = [
    "numpy==2.4.6",
    "cryptography==50.0.2",
    "pydantic-core==2.50.5",
    "orjson==3.13.0",
    "lxml==6.1.3",
    "pillow==12.1.0",
    "psutil==7.2.2",
    "regex==2026.11.19",
    "pyyaml==6.0.4",
    "markupsafe==3.0.4",
];

fn python() -> String {
    std::env::var("ELFCHECK_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `pip install --no-deps --only-binary=:all:` of `pins` for CPython `version` on `platforms`
/// into `site`, as a user would on a Mac or a Linux box (`--platform` stands for the machine).
fn pip_into(site: &Path, version: &str, platforms: &[&str], pins: &[&str]) {
    let abi = format!("cp{}", version.replace('.', ""));
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:"]).args([
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--abi",
        &abi,
    ]);
    for p in platforms {
        cmd.args(["--platform", p]);
    }
    cmd.arg("--target").arg(site).args(pins).env("PIP_ROOT_USER_ACTION", "ignore");
    let o = cmd.output().expect("pip runs");
    assert!(o.status.success(), "pip install {pins:?}: {}", text(&o));
}

/// Zips `src` into `zip` the way users do (`zip -r`, links stored as links).
fn zip_dir(src: &Path, zip: &Path) {
    let status =
        Command::new("zip").args(["-q", "-r", "-y"]).arg(zip).arg(".").current_dir(src).status().expect("zip runs");
    assert!(status.success());
}

/// A python`version` function whose dependencies `pins` were installed on an Apple Silicon Mac.
fn mac_function(dir: &Path, version: &str, pins: &[&str]) -> PathBuf {
    let site = dir.join(format!("site-{version}"));
    pip_into(&site, version, &["macosx_11_0_arm64"], pins);
    std::fs::write(site.join("lambda_function.py"), "import numpy\n\ndef handler(e, c):\n    return 1\n").unwrap();
    let zip = dir.join(format!("mac-py{}.zip", version.replace('.', "")));
    zip_dir(&site, &zip);
    std::fs::remove_dir_all(&site).unwrap();
    zip
}

/// `elfcheck fix` that may ask the package index (advice, upgrades).
fn fix_online(dir: &Path, input: &Path, args: &[&str]) -> Output {
    let mut all = vec!["fix", input.to_str().unwrap()];
    all.extend_from_slice(args);
    elfcheck(dir, &all, &[("ELFCHECK_OFFLINE", "0")])
}

/// The error findings of `elfcheck check PKG` as (code, package), and its exit code.
fn check_errors(pkg: &Path, runtime: &str) -> (Option<i32>, Vec<(String, String)>) {
    let o = elfcheck(
        Path::new("."),
        &["check", pkg.to_str().unwrap(), "-r", runtime, "-a", "x86_64", "--format", "json", "--offline"],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let errors = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["package"].as_str().unwrap_or("").to_string()))
        .collect();
    (o.status.code(), errors)
}

#[test]
#[ignore = "needs PyPI; run by .ci/run"]
fn one_package_without_a_wheel_for_the_runtime_does_not_block_the_other_nine() {
    let dir = tempfile::tempdir().unwrap();
    let input = mac_function(dir.path(), "3.11", &TEN);
    let name = input.file_name().unwrap().to_str().unwrap().to_string();
    let base = ["-r", "python3.11", "-a", "x86_64", "--via", "pip", "-q", "--color", "never", "-o", "fixed.zip"];

    // All or nothing (the default): nothing written, and the one that cannot be fixed is named
    // with what can fix it: the newest version with a wheel, the runtimes with one, a source build.
    let o = fix_online(dir.path(), &input, &base);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("cannot fix: numpy 2.4.6: no wheel of `numpy==2.4.6` exists for Linux x86_64 with glibc 2.26 or older (CPython 3.11)"),
        "{out}"
    );
    assert!(out.contains("`--upgrade-to-compatible` installs numpy 2.2."), "{out}");
    assert!(out.contains("python3.12"), "the runtimes with a wheel of 2.4.6: {out}");
    assert!(out.contains("`--via docker` builds it from source"), "{out}");
    assert!(out.contains("--partial writes the package with the other"), "{out}");
    assert!(!out.contains("output:"), "{out}");
    only(dir.path(), &[&name]);

    // --partial: the nine are fixed and written; numpy remains, listed; exit 1.
    let mut partial = base.to_vec();
    partial.push("--partial");
    let o = fix_online(dir.path(), &input, &partial);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("rebuilt ") && out.contains("orjson 3.13.0") && out.contains("pydantic_core 2.50.5"), "{out}");
    assert!(out.contains("output: fixed.zip ("), "{out}");
    assert!(out.contains("the output was written with what could be fixed (--partial)"), "{out}");
    let fixed = dir.path().join("fixed.zip");
    let (code, errors) = check_errors(&fixed, "python3.11");
    assert_eq!(code, Some(1));
    assert!(!errors.is_empty() && errors.iter().all(|(_, p)| p == "numpy 2.4.6"), "only numpy remains: {errors:?}");
    let names = entries(&fixed);
    assert!(names.contains_key("orjson/orjson.cpython-311-x86_64-linux-gnu.so"), "{:?}", names.keys());
    assert_eq!(names["lambda_function.py"], entries(&input)["lambda_function.py"]);

    // --upgrade-to-compatible: numpy at the newest version with a wheel for python3.11; all fixed.
    let mut upgrade = base.to_vec();
    upgrade.push("--upgrade-to-compatible");
    let o = fix_online(dir.path(), &input, &upgrade);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("(in place of 2.4.6: it has no build for the target)"), "{out}");
    assert!(out.contains("re-check: no errors in fixed.zip"), "{out}");
    assert!(entries(&fixed).keys().any(|k| k.starts_with("numpy-2.2.") && k.ends_with(".dist-info/RECORD")));
    assert_eq!(check_errors(&fixed, "python3.11"), (Some(0), Vec::new()));
    only(dir.path(), &[&name, "fixed.zip"]);
}

#[test]
#[ignore = "needs PyPI; run by .ci/run"]
fn a_missing_library_is_answered_with_a_layer_and_the_package_that_ships_it() {
    // pyodbc's Linux wheel needs the unixODBC driver manager from the system (it does not vendor
    // libodbc.so.2), which no Lambda runtime has; orjson was installed on a Mac.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    pip_into(&site, "3.12", &["manylinux_2_17_x86_64", "manylinux2014_x86_64"], &["pyodbc==5.3.0"]);
    pip_into(&site, "3.12", &["macosx_11_0_arm64"], &["orjson==3.13.0"]);
    std::fs::write(site.join("lambda_function.py"), "import pyodbc, orjson\n").unwrap();
    let input = dir.path().join("function.zip");
    zip_dir(&site, &input);
    std::fs::remove_dir_all(&site).unwrap();

    // The plan says what cannot help and what can before anything runs: pip is pointed at an
    // index nobody serves, and is never asked.
    let base = ["-r", "python3.12", "-a", "x86_64", "--via", "pip", "-q", "--color", "never", "-o", "fixed.zip"];
    let mut all = vec!["fix", "function.zip"];
    all.extend_from_slice(&base);
    let o = elfcheck(dir.path(), &all, &[("PIP_INDEX_URL", "http://127.0.0.1:9/simple"), ("PIP_NO_INDEX", "1")]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("[missing-library]: reinstalling cannot help: `pyodbc 5.3.0` expects the system to provide `libodbc.so.2`, and python3.12 does not have it; add a layer with it under `lib/`"),
        "{out}"
    );
    assert!(out.contains("the Amazon Linux 2023 package `unixODBC` (Debian: `libodbc2`)"), "{out}");
    assert!(out.contains("plan: rebuild orjson==3.13.0"), "{out}");
    assert!(out.contains("--partial writes the package with the other"), "{out}");
    assert!(!out.contains("package index"), "pip must not have run: {out}");
    only(dir.path(), &["function.zip"]);

    // --partial fixes orjson and keeps pyodbc as it is, its missing library listed.
    all.push("--partial");
    let o = elfcheck(dir.path(), &all, &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let (code, errors) = check_errors(&dir.path().join("fixed.zip"), "python3.12");
    assert_eq!((code, errors), (Some(1), vec![("missing-library".to_string(), "pyodbc 5.3.0".to_string())]));
}

/// esbuild's Linux executable (a static Go binary) from npm, in `dir/esbuild`.
fn esbuild_binary(dir: &Path) -> PathBuf {
    let o = Command::new("npm")
        .args(["pack", "--silent", "@esbuild/linux-x64@0.25.0"])
        .current_dir(dir)
        .env("NODE_EXTRA_CA_CERTS", std::env::var_os("SSL_CERT_FILE").unwrap_or_default())
        .output()
        .expect("npm runs");
    assert!(o.status.success(), "npm pack: {}", text(&o));
    let tgz = String::from_utf8_lossy(&o.stdout).trim().lines().last().unwrap().to_string();
    let status =
        Command::new("tar").args(["xzf", &tgz, "package/bin/esbuild"]).current_dir(dir).status().expect("tar runs");
    assert!(status.success());
    dir.join("package/bin/esbuild")
}

#[test]
#[ignore = "needs npm; run by .ci/run"]
fn the_missing_platform_package_of_a_mac_install_is_installed_for_linux() {
    // `npm install @swc/core` on an Apple Silicon Mac installs @swc/core-darwin-arm64 only.
    let dir = tempfile::tempdir().unwrap();
    let fn_dir = dir.path().join("fn");
    std::fs::create_dir(&fn_dir).unwrap();
    std::fs::write(fn_dir.join("package.json"), r#"{"name": "f", "version": "1.0.0", "private": true}"#).unwrap();
    std::fs::write(fn_dir.join("index.js"), "const swc = require('@swc/core');\nexports.handler = async () => 1;\n")
        .unwrap();
    let o = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--os=darwin",
            "--cpu=arm64",
            "@swc/core@1.16.22",
        ])
        .current_dir(&fn_dir)
        .env("NODE_EXTRA_CA_CERTS", std::env::var_os("SSL_CERT_FILE").unwrap_or_default())
        .output()
        .expect("npm runs");
    assert!(o.status.success(), "npm install: {}", text(&o));
    let input = dir.path().join("function.zip");
    zip_dir(&fn_dir, &input);
    let (code, errors) = check_errors(&input, "nodejs20.x");
    assert_eq!(code, Some(1));
    assert!(errors.iter().any(|(c, _)| c == "missing-platform-variant"), "{errors:?}");
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "nodejs20.x", "-a", "x86_64", "-o", "fixed.zip"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("install @swc/core-linux-x64-gnu@1.16.22"), "{t}");
    let fixed = entries(&dir.path().join("fixed.zip"));
    assert!(
        fixed.keys().any(|k| k.starts_with("node_modules/@swc/core-linux-x64-gnu/") && k.ends_with(".node")),
        "{t}"
    );
    assert!(!fixed.keys().any(|k| k.starts_with("node_modules/@swc/core-darwin-arm64/")), "{t}");
    assert_eq!(check_errors(&dir.path().join("fixed.zip"), "nodejs20.x"), (Some(0), Vec::new()));
}

#[test]
#[ignore = "needs npm; run by .ci/run"]
fn a_bootstrap_without_its_exec_bit_needs_only_a_mode_change() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let binary = esbuild_binary(dir.path());
    // A custom runtime whose `bootstrap` lost its executable bit on the way (zipped from a
    // checkout that does not keep modes).
    let fn_dir = dir.path().join("fn");
    std::fs::create_dir(&fn_dir).unwrap();
    std::fs::copy(&binary, fn_dir.join("bootstrap")).unwrap();
    std::fs::set_permissions(fn_dir.join("bootstrap"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_dir_all(dir.path().join("package")).unwrap();
    let input = dir.path().join("function.zip");
    zip_dir(&fn_dir, &input);
    for (pkg, out) in [("function.zip", "fixed.zip"), ("fn", "fixed")] {
        let o = elfcheck(dir.path(), &["fix", pkg, "-r", "provided.al2023", "-a", "x86_64", "-o", out], &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{pkg}: {t}");
        assert!(t.contains("plan: make `bootstrap` executable"), "{t}");
        assert!(!t.contains("cannot fix") && !t.contains("no installed package owns"), "{t}");
        assert_eq!(check_errors(&dir.path().join(out), "provided.al2023"), (Some(0), Vec::new()), "{pkg}");
    }
    let (before, after) = (raw_entry(&input, "bootstrap"), raw_entry(&dir.path().join("fixed.zip"), "bootstrap"));
    assert_eq!(after.1.map(|m| m & 0o777), Some(0o755));
    assert_eq!((before.0, before.2), (after.0, after.2), "the compressed data is copied as stored");
    let mode = std::fs::metadata(dir.path().join("fixed/bootstrap")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    assert_eq!(sha(&dir.path().join("fixed/bootstrap")), sha(&fn_dir.join("bootstrap")));
}

#[test]
#[ignore = "needs PyPI; run by .ci/run"]
fn nothing_to_fix_in_a_real_package_still_writes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    pip_into(
        &site,
        "3.12",
        &["manylinux_2_17_x86_64", "manylinux2014_x86_64"],
        &["orjson==3.13.0", "regex==2026.11.19"],
    );
    let input = dir.path().join("function.zip");
    zip_dir(&site, &input);
    let o = elfcheck(dir.path(), &["fix", "function.zip", "-r", "python3.12", "-a", "x86_64", "-o", "out.zip"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("nothing to fix"), "{}", text(&o));
    assert!(text(&o).contains("output: out.zip"), "{}", text(&o));
    assert_eq!(sha(&dir.path().join("out.zip")), sha(&input), "a byte-identical copy");
}

// --- Node addons compiled from source, rebuilt in Docker ----------------------------------------

fn node_image(major: u32) -> String {
    std::env::var(format!("ELFCHECK_TEST_NODE{major}_IMAGE"))
        .unwrap_or_else(|_| format!("elfcheck-test/node-build:{major}"))
}

/// `docker run` as the invoking user in `image`, with `dir` at `/w` and the CA bundle mounted.
fn docker_in(dir: &Path, image: &str, network: bool, argv: &[&str]) -> Output {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).unwrap();
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "--user", &format!("{}:{}", meta.uid(), meta.gid()), "-e", "HOME=/tmp"]);
    cmd.arg("-v").arg(format!("{}:/w", dir.display())).args(["-w", "/w"]);
    if !network {
        cmd.args(["--network", "none"]);
    }
    if let Some(ca) = std::env::var_os("SSL_CERT_FILE").filter(|c| Path::new(c).is_file()) {
        cmd.arg("-v").arg(format!("{}:/etc/elfcheck-ca.pem:ro", Path::new(&ca).display()));
        cmd.args(["-e", "NODE_EXTRA_CA_CERTS=/etc/elfcheck-ca.pem"]);
    }
    cmd.arg(image).args(argv);
    cmd.output().expect("docker runs")
}

#[test]
#[ignore = "needs a Docker engine, the local Node build images and npm; run by .ci/run"]
fn node_addon_compiled_for_node_20_is_compiled_again_for_nodejs22() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(app.join("package.json"), r#"{"name": "fn", "version": "1.0.0", "private": true}"#).unwrap();
    std::fs::write(
        app.join("index.js"),
        "const Database = require('better-sqlite3');\nexports.handler = async () => new Database(':memory:').prepare('select 1 as x').get();\n",
    )
    .unwrap();
    // The broken input: better-sqlite3 compiled by node-gyp for Node 20 (NODE_MODULE_VERSION 115).
    let o = docker_in(
        &app,
        &node_image(20),
        true,
        &["npm", "install", "--build-from-source", "--no-audit", "--no-fund", "better-sqlite3@12.4.1"],
    );
    assert!(o.status.success(), "npm install in {}: {}", node_image(20), text(&o));
    let input = dir.path().join("function.zip");
    zip_dir(&app, &input);
    let (code, errors) = check_errors(&input, "nodejs22.x");
    assert_eq!(code, Some(1));
    assert!(errors.iter().any(|(c, p)| c == "node-abi-mismatch" && p == "better-sqlite3 12.4.1"), "{errors:?}");

    // Without Docker it cannot be compiled: the plan says so, and how.
    let o = elfcheck(
        dir.path(),
        &["fix", "function.zip", "-r", "nodejs22.x", "-a", "x86_64", "--via", "pip", "-o", "fixed.zip"],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("[node-abi-mismatch]: `better-sqlite3 12.4.1` is compiled from source (it has a `binding.gyp`): `npm rebuild` in the runtime's build image compiles it for the target, which needs Docker (--via docker)"),
        "{t}"
    );
    only(dir.path(), &["app", "function.zip"]);

    // In the Node 22 build image: `npm rebuild` with node-gyp, as the invoking user.
    let image = node_image(22);
    let o = elfcheck(
        dir.path(),
        &[
            "fix",
            "function.zip",
            "-r",
            "nodejs22.x",
            "-a",
            "x86_64",
            "--via",
            "docker",
            "--image",
            &image,
            "-q",
            "-o",
            "fixed.zip",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("plan: compile better-sqlite3 12.4.1 from source in `node_modules` (npm rebuild, node-gyp)"),
        "{t}"
    );
    assert!(t.contains(" npm rebuild --build-from-source --foreground-scripts better-sqlite3"), "{t}");
    assert!(t.contains("compiled better-sqlite3 12.4.1 from source for nodejs22.x"), "{t}");
    let fixed = dir.path().join("fixed.zip");
    assert_eq!(check_errors(&fixed, "nodejs22.x"), (Some(0), Vec::new()));
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&fixed).unwrap().uid(), std::fs::metadata(dir.path()).unwrap().uid());
    }
    // And Node 22 loads it: the handler runs in the image, without network.
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let status = Command::new("unzip").args(["-q", fixed.to_str().unwrap(), "-d", run.to_str().unwrap()]).status();
    assert!(status.unwrap().success());
    let o = docker_in(
        &run,
        &image,
        false,
        &[
            "node",
            "-e",
            "require('./index.js').handler().then(r => console.log(JSON.stringify(r), process.versions.modules))",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"x":1} 127"#, "{}", text(&o));
}
