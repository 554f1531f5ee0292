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

use std::path::{Path, PathBuf};
use std::process::Command;

use elfcheck::binary::Object;
use elfcheck::loader::elf::{Closure, Found};
use elfcheck::loader::fs::Fs;
use elfcheck::package::Layout;
use elfcheck::target::resolve::Requested;
use elfcheck::target::{Delivery, table};
use elfcheck::{Arch, Options};

/// Each search the loader made, (needing object, file name of what it needed), in order, and
/// where it found it: an absolute path, or nowhere.
type Resolution = Vec<((String, String), Option<String>)>;

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
    use std::os::unix::process::CommandExt;
    let root = root.to_path_buf();
    // The child enters the root itself, so that only the loader inside it sees the trace
    // variables; it starts where Lambda starts a function, in /var/task.
    let mut cmd = Command::new("/lib64/ld-linux-x86-64.so.2");
    unsafe {
        cmd.pre_exec(move || {
            std::os::unix::fs::chroot(&root)?;
            std::env::set_current_dir("/var/task").or_else(|_| std::env::set_current_dir("/"))
        });
    }
    let out = cmd
        .arg(path)
        .env_clear()
        // Trace mode, as `ldd` uses it: every need is listed, found or not (`--list` stops at
        // the first one missing).
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .env("LD_DEBUG", "files")
        .env("LD_LIBRARY_PATH", table().lambda.ld_library_path.join(":"))
        .output()
        .expect("chroot runs (the test needs root)");
    let text = String::from_utf8_lossy(&out.stdout);
    let debug = String::from_utf8_lossy(&out.stderr);
    // LD_DEBUG=files names each search and the object that needed it, in the order in which the
    // trace lists their results.
    let searches: Vec<(String, String)> = debug
        .lines()
        .filter_map(|l| {
            let rest = l.split_once("file=")?.1;
            let (name, by) = rest.split_once(" [0];  needed by ")?;
            let by = by.strip_suffix(" [0]")?;
            Some((normalize(by), name.rsplit('/').next().unwrap_or(name).to_string()))
        })
        .collect();
    let mut results: Vec<Option<String>> = Vec::new();
    for line in text.lines().map(str::trim) {
        // The vDSO and the loader itself are listed without having been searched for.
        let first = line.split_whitespace().next().unwrap_or("");
        if line.is_empty() || line.starts_with("linux-vdso") || first.ends_with(&fs_loader()) {
            continue;
        }
        if line.ends_with("=> not found") {
            results.push(None);
        } else if let Some((left, _)) = line.rsplit_once(" (0x") {
            let place = left.split_once(" => ").map_or(left, |(_, p)| p);
            // A path the loader opened relative to the working directory (a need with a slash).
            let place = if place.starts_with('/') { place.to_string() } else { format!("/var/task/{place}") };
            results.push(Some(normalize(&place)));
        }
    }
    assert_eq!(searches.len(), results.len(), "trace of {path}: {text}\n{debug}");
    searches.into_iter().zip(results).collect()
}

/// What elfcheck's closure says for the same root: its searches, in order.
fn modelled(closure: &Closure) -> Resolution {
    let mut out = Resolution::new();
    for need in closure.needs.iter().filter(|n| n.searched) {
        let by = normalize(&closure.mapped[need.by].path);
        let place = match &need.found {
            Found::Mapped(i) => Some(normalize(&closure.mapped[*i].path)),
            Found::Runtime { set, .. } => Some(format!("{}/{}", set.dir, need.name)),
            Found::Missing { .. } => None,
        };
        let name = need.name.rsplit('/').next().unwrap_or(&need.name).to_string();
        out.push(((by, name), place));
    }
    out
}

/// What the runtime's process loads before the package's code, by file name.
fn preloaded(runtime: &str) -> Vec<String> {
    let t = table();
    let r = t.runtime(runtime).unwrap();
    match r.family {
        elfcheck::target::Family::Python => {
            let v = r.version.clone().unwrap_or_default();
            t.python.preloaded.iter().map(|n| n.replace("{X.Y}", &v)).collect()
        }
        elfcheck::target::Family::Nodejs => t.node.preloaded.clone(),
        _ => Vec::new(),
    }
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
        // The runtime's process has loaded some libraries before it opens the root (libpython,
        // Node's C++ runtime); `ld.so` on the root alone has not. Their lines are set aside.
        let preloaded = preloaded(runtime);
        let keep = |r: &Resolution| -> Resolution {
            // The runtime's own libraries load their own needs inside the runtime: not modelled.
            r.iter()
                .filter(|((by, name), _)| {
                    !preloaded.contains(name) && (by.starts_with("/var/task/") || by.starts_with("/opt/"))
                })
                .cloned()
                .collect()
        };
        let real = keep(&real_loader(root_dir.path(), &path));
        let ours = keep(&modelled(closure));
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
    // The project's own scenarios, one per rule of the search.
    let loader = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bin/loader");
    for name in [
        "rpath-inherited",
        "runpath-not-inherited",
        "runpath-disables-rpath",
        "already-loaded",
        "origin-in-layer",
        "needed-with-slash",
        "origin-braces",
    ] {
        cases.push((loader.join(name), "python3.12", Vec::new()));
    }
    cases.push((loader.join("only-in-layer/function"), "python3.12", vec![loader.join("only-in-layer/layer")]));
    cases.push((loader.join("only-in-layer/function"), "python3.12", Vec::new()));
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
