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

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Pkg;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_elfcheck")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
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
        &[
            "-P",
            sub.to_str().unwrap(),
            "-e",
            "trace=getdents64",
            "-e",
            "inject=getdents64:delay_exit=2000000:when=1",
        ],
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

/// Runs elfcheck and returns its exit code, output and peak resident set size in bytes.
fn run_measured(dir: &Path, args: &[&str]) -> (Option<i32>, String, u64) {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut status = 0;
    // SAFETY: plain FFI call on our own child; `rusage` is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let text = format!("{}{}", out.join().unwrap(), err.join().unwrap());
    (code, text, usage.ru_maxrss as u64 * 1024)
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
    e.resize(e.len() + len, b'a');
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
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("lib/libamp.so"), "{out}");
    assert!(rss < 100 * MB, "peak RSS {} MB", rss / MB);
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

