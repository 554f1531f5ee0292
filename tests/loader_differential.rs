//! elfcheck's loader model against the real glibc loader, library by library.
//!
//! For each package, a throwaway root is laid out as Lambda lays it out: the package at
//! `/var/task` (a layer at `/opt`), the layers attached to it at `/opt`, and `/lib64` and
//! `/var/lang/lib` holding exactly the libraries the runtime provides (this machine's glibc for
//! glibc's own, stub libraries with the right names for the rest). Then `ld.so --list` runs on
//! every x86_64 root elfcheck found, inside that root (chroot), with Lambda's `LD_LIBRARY_PATH`;
//! the set of names it loads and where it finds each (or that it does not) must equal what
//! elfcheck's closure of that root says.
//!
//! Needs root (chroot) and gcc; `.ci/run` runs it:
//! `ELFCHECK_CORPUS_DIR=DIR cargo test --test loader_differential -- --ignored`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use elfcheck::binary::Object;
use elfcheck::loader::elf::{Closure, Found};
use elfcheck::loader::fs::Fs;
use elfcheck::package::Layout;
use elfcheck::target::resolve::Requested;
use elfcheck::target::{Delivery, table};
use elfcheck::{Arch, Options};

/// Where a name was found: an absolute path, or nowhere.
type Resolution = BTreeMap<String, Option<String>>;

/// glibc's own libraries, copied from this machine so that the loader itself runs.
const HOST_GLIBC: [&str; 10] = [
    "ld-linux-x86-64.so.2",
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libresolv.so.2",
    "libstdc++.so.6",
    "libgcc_s.so.1",
];

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn host_lib(name: &str) -> Option<PathBuf> {
    ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// A library with no code and no symbol versions: the loader maps it and checks nothing in it.
fn stub(dir: &Path) -> PathBuf {
    let src = dir.join("stub.c");
    std::fs::write(&src, "int elfcheck_stub;\n").unwrap();
    let out = dir.join("stub.so");
    let status = Command::new("gcc").args(["-shared", "-nostdlib", "-o"]).arg(&out).arg(&src).status().expect("gcc");
    assert!(status.success(), "gcc could not build the stub library");
    out
}

/// Unpacks `input` (a zip or a directory) into `dest`.
fn unpack(input: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    let status = if input.is_dir() {
        Command::new("cp").arg("-a").arg(format!("{}/.", input.display())).arg(dest).status()
    } else {
        Command::new("unzip").args(["-q", "-o"]).arg(input).arg("-d").arg(dest).status()
    };
    assert!(status.expect("cp/unzip runs").success(), "unpacking {}", input.display());
}

/// The throwaway root of one package on one runtime.
fn make_root(root: &Path, input: &Path, layout: Layout, layers: &[PathBuf], runtime: &str, stub: &Path) {
    let t = table();
    let r = t.runtime(runtime).unwrap();
    let os = &t.os[&r.os];
    unpack(input, &root.join(if layout == Layout::Layer { "opt" } else { "var/task" }));
    for layer in layers {
        unpack(layer, &root.join("opt"));
    }
    let sets = r.library_set.iter().chain(&os.library_set).filter(|s| s.delivery == Delivery::Zip);
    for set in sets {
        let dir = root.join(set.dir.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).unwrap();
        let mut names = set.sonames.clone();
        if set.dir == "/lib64" {
            names.extend(os.x86_64.libraries.iter().cloned());
        }
        for name in names {
            let from = if HOST_GLIBC.contains(&name.as_str()) { host_lib(&name) } else { None };
            std::fs::copy(from.as_deref().unwrap_or(stub), dir.join(&name)).unwrap();
        }
    }
}

/// What `ld.so --list` says for one root, inside the root.
fn real_loader(root: &Path, path: &str) -> Resolution {
    let chroot = ["/usr/sbin/chroot", "/usr/bin/chroot", "/sbin/chroot"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("chroot (coreutils) is installed");
    let out = Command::new(chroot)
        .arg(root)
        .args(["/lib64/ld-linux-x86-64.so.2", "--list", path])
        .env_clear()
        .env("LD_LIBRARY_PATH", table().lambda.ld_library_path.join(":"))
        .output()
        .expect("chroot runs (the test needs root)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Resolution::new();
    for line in text.lines() {
        let Some((name, rest)) = line.trim().split_once(" => ") else { continue };
        let rest = rest.trim();
        let place = if rest.starts_with("not found") {
            None
        } else {
            Some(normalize(rest.rsplit_once(" (").map_or(rest, |(p, _)| p)))
        };
        found.insert(name.to_string(), place);
    }
    assert!(
        out.status.success() || text.contains("not found"),
        "ld.so --list {path} failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    found
}

/// What elfcheck's closure says for the same root.
fn modelled(closure: &Closure) -> Resolution {
    let mut out = Resolution::new();
    for need in &closure.needs {
        let place = match &need.found {
            Found::Mapped(i) => Some(normalize(&closure.mapped[*i].path)),
            Found::Runtime { set, .. } => Some(format!("{}/{}", set.dir, need.name)),
            Found::Missing { .. } => None,
        };
        out.entry(need.name.clone()).or_insert(place);
    }
    // ld.so lists itself without `=>`: it is loaded before anything asks for it.
    out.remove(&fs_loader());
    out
}

fn fs_loader() -> String {
    table().cpu(Arch::X86_64).loader.clone()
}

/// Compares every x86_64 root of one package; returns (roots, libraries) compared.
fn compare(input: &Path, runtime: &str, layers: &[PathBuf], stub: &Path) -> (usize, usize) {
    let options = Options {
        target: Requested { runtime: Some(runtime.to_string()), arch: Some(Arch::X86_64), from_templates: false },
        layers: layers.to_vec(),
        ..Options::default()
    };
    let checked = elfcheck::check_input(input, &input.display().to_string(), &options).unwrap();
    let analysis = elfcheck::loader::analyze(&checked.package, &checked.target);
    let fs = Fs::new(&checked.package);
    let root_dir = tempfile::tempdir().unwrap();
    make_root(root_dir.path(), input, checked.package.layout, layers, runtime, stub);
    let (mut roots, mut libraries) = (0, 0);
    for closure in analysis.loads.closures.iter().filter(|c| !c.lone) {
        let Some(Object::Elf(elf)) = fs.object(closure.root) else { continue };
        if elf.is_musl() || elf.is_static() || elf.machine_name() != "x86_64" {
            continue;
        }
        let path = fs.runtime_path(closure.root);
        let real = real_loader(root_dir.path(), &path);
        let ours = modelled(closure);
        assert_eq!(ours, real, "{} on {runtime}: root {path}", input.display());
        roots += 1;
        libraries += real.len();
    }
    (roots, libraries)
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("ELFCHECK_CORPUS_DIR").map(PathBuf::from).unwrap_or_else(|| "target/corpus".into())
}

#[test]
#[ignore = "needs root (chroot), gcc and the public corpus; run by .ci/run"]
fn loader_model_equals_glibc_on_the_corpus_and_the_fixtures() {
    let work = tempfile::tempdir().unwrap();
    let stub = stub(work.path());
    let mut cases: Vec<(PathBuf, &str, Vec<PathBuf>)> = Vec::new();
    let corpus = corpus_dir();
    for (zip, runtime) in [
        ("py311-editdistance-manylinux-x86_64.zip", "python3.11"),
        ("py-cryptography-manylinux_2_28-x86_64.zip", "python3.12"),
        ("py311-rpds-manylinux-x86_64.zip", "python3.11"),
        ("node-sharp-linux-x64.zip", "nodejs20.x"),
        ("node-sharp-linux-x64.zip", "nodejs18.x"),
        ("provided-bootstrap-exec.zip", "provided.al2023"),
        ("py312-ujson-musllinux-x86_64.zip", "python3.12"),
    ] {
        cases.push((corpus.join(zip), runtime, Vec::new()));
    }
    if let Some(extra) = std::env::var_os("ELFCHECK_LOADER_EXTRA") {
        // More packages: `PATH=RUNTIME` pairs separated by spaces (the real-world set).
        for pair in extra.to_string_lossy().split_whitespace() {
            let (path, runtime) = pair.split_once('=').expect("PATH=RUNTIME");
            cases.push((PathBuf::from(path), Box::leak(runtime.to_string().into_boxed_str()), Vec::new()));
        }
    }
    let (mut roots, mut libraries) = (0, 0);
    for (input, runtime, layers) in &cases {
        assert!(input.exists(), "{} missing", input.display());
        let (r, l) = compare(input, runtime, layers, &stub);
        roots += r;
        libraries += l;
    }
    println!("compared {roots} roots and {libraries} library lookups with glibc's ld.so");
    assert!(roots >= 5, "only {roots} roots compared");
}
