//! One positive and one negative case per finding code, on packages made from the project's
//! own fixtures (`testdata/`).

mod common;

use common::{Pkg, at, codes, errors, find, fixture};
use elfcheck::{Arch, Severity};

const X86: Arch = Arch::X86_64;
const ARM: Arch = Arch::Arm64;

fn err(code: &'static str, path: &str) -> (&'static str, String) {
    (code, path.to_string())
}

// --- macho-binary -----------------------------------------------------------------------------

#[test]
fn macho_thin_and_fat_are_flagged_with_every_slice() {
    let f = Pkg::new()
        .fixture("lib/libhello.dylib", "macho/libhello-arm64.dylib")
        .fixture("lib/libfat.dylib", "macho/libhello-fat.dylib")
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("macho-binary", "lib/libfat.dylib"), err("macho-binary", "lib/libhello.dylib")]);
    assert!(f[0].message.contains("x86_64") && f[0].message.contains("arm64"), "{}", f[0].message);
    assert!(f[0].message.contains("universal"));
    assert_eq!(f[0].runtime_error.as_deref(), Some("/var/task/lib/libfat.dylib: invalid ELF header"));
}

#[test]
fn macho_python_extension_says_no_module_named() {
    let f = Pkg::new().fixture("spam/_spam.cpython-311-darwin.so", "macho/pyext-arm64.so").check("python3.11", X86);
    let macho = find(&f, "macho-binary");
    assert_eq!(macho.runtime_error.as_deref(), Some("No module named 'spam._spam'"));
    assert_eq!(errors(&f).len(), 1, "one finding per file: {f:#?}");
}

#[test]
fn java_class_and_mz_text_are_not_binaries() {
    let f = Pkg::new()
        .fixture("Hello.class", "java/Hello.class")
        .fixture("README.txt", "text/mz-readme.txt")
        .fixture("win/hello.o", "pe/hello.o")
        .fixture("lib/libhello.a", "x86_64/libhello.a")
        .check("python3.12", X86);
    assert!(f.is_empty(), "{f:#?}");
}

// --- pe-binary --------------------------------------------------------------------------------

#[test]
fn pe_dll_pyd_and_exe_are_flagged() {
    let f = Pkg::new()
        .fixture("regex/_regex.cp312-win_amd64.pyd", "pe/hello.dll")
        .fixture("bin/tool.exe", "pe/hello.exe")
        .fixture("x86/hello32.dll", "pe/hello32.dll")
        .check("python3.12", X86);
    assert_eq!(
        errors(&f),
        vec![
            err("pe-binary", "bin/tool.exe"),
            err("pe-binary", "regex/_regex.cp312-win_amd64.pyd"),
            err("pe-binary", "x86/hello32.dll"),
        ]
    );
    assert_eq!(find(&f, "pe-binary").runtime_error.as_deref(), Some("/var/task/bin/tool.exe: invalid ELF header"));
    let pyd = f.iter().find(|x| x.path.ends_with(".pyd")).unwrap();
    assert_eq!(pyd.runtime_error.as_deref(), Some("No module named 'regex._regex'"));
}

#[test]
fn managed_dotnet_assembly_is_not_flagged() {
    let f = Pkg::new().fixture("Hello.dll", "dotnet/Hello.dll").check("dotnet8", X86);
    assert!(f.is_empty(), "{f:#?}");
}

// --- arch-mismatch ----------------------------------------------------------------------------

#[test]
fn aarch64_in_x86_64_function_and_back() {
    let pkg = Pkg::new().fixture("lib/libhello.so", "aarch64/libhello.so");
    let f = pkg.check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("arch-mismatch", "lib/libhello.so")]);
    assert!(f[0].message.contains("aarch64") && f[0].message.contains("x86_64"), "{}", f[0].message);
    assert!(f[0].runtime_error.as_deref().unwrap().contains("cannot open shared object file"));
    assert!(pkg.check("python3.12", ARM).is_empty());
}

#[test]
fn wrong_arch_bootstrap_is_exec_format_error() {
    let f = Pkg::new().file("bootstrap", fixture("x86_64/hello-static"), 0o755).check("provided.al2023", ARM);
    let a = find(&f, "arch-mismatch");
    assert_eq!(a.runtime_error.as_deref(), Some("exec format error"));
}

// --- elf-class-mismatch -----------------------------------------------------------------------

#[test]
fn thirty_two_bit_elf_is_flagged_and_64_bit_is_not() {
    let f = Pkg::new().fixture("lib/libhello32.so", "i386/libhello.so").check("nodejs20.x", X86);
    assert_eq!(errors(&f), vec![err("elf-class-mismatch", "lib/libhello32.so")]);
    assert_eq!(f[0].runtime_error.as_deref(), Some("wrong ELF class: ELFCLASS32"));
    let ok = Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").check("nodejs20.x", X86);
    assert!(ok.is_empty(), "{ok:#?}");
}

// --- not-executable ---------------------------------------------------------------------------

#[test]
fn bootstrap_without_exec_bit_is_flagged() {
    let f = Pkg::new().file("bootstrap", fixture("x86_64/hello-static"), 0o644).check("provided.al2023", X86);
    assert_eq!(errors(&f), vec![err("not-executable", "bootstrap")]);
    assert!(f[0].message.contains("0644"));
    assert!(f[0].runtime_error.as_deref().unwrap().contains("permission denied"));
}

#[test]
fn bootstrap_from_windows_zip_has_no_mode_and_is_flagged() {
    let f = Pkg::new().file("bootstrap", fixture("x86_64/hello-static"), 0o755).dos().check("provided.al2023", X86);
    assert_eq!(errors(&f), vec![err("not-executable", "bootstrap")]);
    assert!(f[0].message.contains("without Unix permissions"), "{}", f[0].message);
}

#[test]
fn executable_bootstrap_and_plain_shared_objects_are_fine() {
    let f = Pkg::new()
        .file("bootstrap", fixture("x86_64/hello-static"), 0o755)
        .fixture("lib/libhello.so", "x86_64/libhello.so")
        .fixture("addon.node", "x86_64/addon-napi.node")
        .check("provided.al2", X86);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn symlinked_bootstrap_is_judged_by_its_target() {
    let bad = Pkg::new()
        .symlink("bootstrap", "bin/app")
        .file("bin/app", fixture("x86_64/hello-static"), 0o644)
        .check("provided.al2023", X86);
    assert_eq!(errors(&bad), vec![err("not-executable", "bootstrap")]);
    assert!(bad[0].message.contains("bin/app"));
    let good = Pkg::new()
        .symlink("bootstrap", "bin/app")
        .file("bin/app", fixture("x86_64/hello-static"), 0o755)
        .check("provided.al2023", X86);
    assert!(good.is_empty(), "{good:#?}");
}

#[test]
fn layer_extension_needs_exec_bit() {
    let f = Pkg::new().file("extensions/telemetry", fixture("x86_64/hello-static"), 0o644).check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("not-executable", "extensions/telemetry")]);
}

// --- unparseable-binary -----------------------------------------------------------------------

#[test]
fn truncated_and_short_elf_are_unparseable_not_crashes() {
    let mut truncated = fixture("x86_64/libhello.so");
    truncated.truncate(200);
    let f = Pkg::new()
        .file("lib/truncated.so", truncated, 0o644)
        .fixture("lib/short.so", "text/short.bin")
        .check("python3.12", X86);
    assert_eq!(
        at(&f, Severity::Warning),
        vec![err("unparseable-binary", "lib/short.so"), err("unparseable-binary", "lib/truncated.so")]
    );
    assert!(errors(&f).is_empty());
}

#[test]
fn every_prefix_of_every_fixture_is_handled() {
    // Truncations at many lengths of every kind of object file: never a panic.
    for rel in ["x86_64/libhello.so", "macho/libhello-fat.dylib", "pe/hello.dll", "x86_64/libstatx-nosections.so"] {
        let bytes = fixture(rel);
        let mut pkg = Pkg::new();
        for len in (0..bytes.len()).step_by(97) {
            pkg = pkg.file(&format!("t/{len}.so"), bytes[..len].to_vec(), 0o644);
        }
        let f = pkg.check("python3.12", X86);
        assert!(f.iter().all(|x| x.code.as_str() != "corrupt-entry"), "{rel}: {f:#?}");
    }
}

// --- glibc-too-new ----------------------------------------------------------------------------

#[test]
fn glibc_2_28_on_al2_names_statx() {
    let pkg = Pkg::new().fixture("lib/libstatx.so", "x86_64/libstatx.so");
    let f = pkg.check("python3.11", X86);
    assert_eq!(errors(&f), vec![err("glibc-too-new", "lib/libstatx.so")]);
    assert_eq!(f[0].message, "needs `GLIBC_2.28` (`statx`) but python3.11 has glibc 2.26");
    assert_eq!(
        f[0].runtime_error.as_deref(),
        Some("version `GLIBC_2.28' not found (required by /var/task/lib/libstatx.so)")
    );
    assert!(pkg.check("python3.12", X86).is_empty());
}

#[test]
fn glibc_needs_are_read_without_section_headers() {
    let f = Pkg::new().fixture("lib/libstatx.so", "x86_64/libstatx-nosections.so").check("nodejs18.x", X86);
    assert_eq!(errors(&f), vec![err("glibc-too-new", "lib/libstatx.so")]);
    assert!(f[0].message.contains("`statx`"), "{}", f[0].message);
}

#[test]
fn glibc_2_34_and_2_36_against_al2023() {
    let f = Pkg::new()
        .fixture("a/libneeds-2.34.so", "x86_64/libneeds-2.34.so")
        .fixture("b/libneeds-2.36.so", "x86_64/libneeds-2.36.so")
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("glibc-too-new", "b/libneeds-2.36.so")]);
    assert!(f[0].message.contains("`GLIBC_2.36` (`arc4random`)"), "{}", f[0].message);
}

#[test]
fn static_executable_has_no_glibc_needs() {
    let f = Pkg::new().file("bootstrap", fixture("x86_64/hello-static"), 0o755).check("provided.al2", X86);
    assert!(f.is_empty(), "{f:#?}");
}

// --- libstdcxx-too-new ------------------------------------------------------------------------

#[test]
fn new_glibcxx_is_flagged_old_is_not() {
    // Amazon Linux 2 has GCC 7's libstdc++ (GLIBCXX_3.4.24): GLIBCXX_3.4.30 fails.
    let f = Pkg::new().fixture("lib/libcxx.so", "x86_64/libcxx-new.so").check("python3.11", X86);
    assert_eq!(errors(&f), vec![err("libstdcxx-too-new", "lib/libcxx.so")]);
    assert!(f[0].message.contains("`GLIBCXX_3.4.30`"), "{}", f[0].message);
    assert!(f[0].message.contains("GLIBCXX_3.4.24"), "{}", f[0].message);
    // Amazon Linux 2023 has GCC 14's today (3.4.33) but launched with GCC 11's (3.4.29): a warning.
    let f = Pkg::new().fixture("lib/libcxx.so", "x86_64/libcxx-new.so").check("python3.12", X86);
    assert_eq!(at(&f, Severity::Warning), vec![err("libstdcxx-too-new", "lib/libcxx.so")]);
    assert!(f[0].message.contains("GLIBCXX_3.4.33") && f[0].message.contains("GLIBCXX_3.4.29"), "{}", f[0].message);
    let ok = Pkg::new().fixture("lib/libcxx.so", "x86_64/libcxx-old.so").check("python3.11", X86);
    assert!(ok.is_empty(), "{ok:#?}");
}

#[test]
fn bundled_libstdcxx_after_the_system_one_on_the_search_path_is_not_used() {
    // LD_LIBRARY_PATH lists /lib64 before /var/task/lib: the system's libstdc++ is found first, so
    // a copy in lib/ does not help.
    let f = Pkg::new()
        .fixture("lib/libcxx.so", "x86_64/libcxx-new.so")
        .fixture("lib/libstdc++.so.6", "x86_64/libhello.so")
        .check("python3.11", X86);
    assert_eq!(errors(&f), vec![err("libstdcxx-too-new", "lib/libcxx.so")]);
}

// --- musl-binary ------------------------------------------------------------------------------

#[test]
fn dynamic_musl_is_flagged_static_musl_is_not() {
    let f = Pkg::new()
        .fixture("lib/libmusl.so", "musl/libhello.so")
        .file("bin/tool", fixture("musl/hello"), 0o755)
        .file("bin/static-tool", fixture("musl/hello-static"), 0o755)
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("musl-binary", "bin/tool"), err("musl-binary", "lib/libmusl.so")]);
    assert!(f.iter().all(|x| x.code.as_str() != "missing-library"), "{f:#?}");
}

// --- missing-library --------------------------------------------------------------------------

#[test]
fn missing_library_of_an_imported_module_is_an_error_with_the_chain() {
    // An extension module the interpreter imports is a root: what it needs must load.
    let f = Pkg::new()
        .fixture("pkg/ext.cpython-312-x86_64-linux-gnu.so", "x86_64/libmissing-dep.so")
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("missing-library", "pkg/ext.cpython-312-x86_64-linux-gnu.so")]);
    assert_eq!(
        f[0].message,
        "pkg/ext.cpython-312-x86_64-linux-gnu.so -> `libnotthere.so.3`: not found in the package, its layers or the runtime"
    );
    assert_eq!(
        f[0].runtime_error.as_deref(),
        Some("libnotthere.so.3: cannot open shared object file: No such file or directory")
    );
}

#[test]
fn roots_that_miss_the_same_library_the_same_way_are_one_finding() {
    // Two extensions load one vendored library through their RUNPATH; its own need is missed
    // (RUNPATH is not inherited) the same way from both: one problem, one finding naming both.
    let scenario = "loader/runpath-not-inherited";
    let f = Pkg::new()
        .fixture("mod/m.so", &format!("{scenario}/mod/m.so"))
        .fixture("mod/n.so", &format!("{scenario}/mod/m.so"))
        .fixture("libs/libelfck-a.so.1", &format!("{scenario}/libs/libelfck-a.so.1"))
        .fixture("libs/libelfck-b.so.1", &format!("{scenario}/libs/libelfck-b.so.1"))
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("missing-library", "libs/libelfck-a.so.1")], "{f:#?}");
    let m = &f[0].message;
    assert!(m.starts_with("mod/m.so -> libs/libelfck-a.so.1 -> `libelfck-b.so.1`: not found"), "{m}");
    assert!(m.ends_with("; 1 more chain reaches it the same way: mod/n.so"), "{m}");
}

#[test]
fn missing_library_of_a_library_nothing_loads_is_a_warning() {
    let f = Pkg::new().fixture("lib/libmissing-dep.so", "x86_64/libmissing-dep.so").check("python3.12", X86);
    assert_eq!(at(&f, Severity::Warning), vec![err("missing-library", "lib/libmissing-dep.so")]);
    assert!(f[0].message.contains("only a `dlopen` or `ctypes` call by its path would load it"), "{}", f[0].message);
}

#[test]
fn origin_runpath_finds_the_bundled_library() {
    let ok = Pkg::new()
        .fixture("pkg/libuses-bundled.so", "x86_64/rpath/libuses-bundled.so")
        .fixture("pkg/lib/libbundled.so.1", "x86_64/rpath/lib/libbundled.so.1")
        .check("python3.12", X86);
    assert!(ok.is_empty(), "{ok:#?}");
    // The same library one directory off: $ORIGIN/lib no longer reaches it.
    let bad = Pkg::new()
        .fixture("pkg/libuses-bundled.so", "x86_64/rpath/libuses-bundled.so")
        .fixture("other/lib/libbundled.so.1", "x86_64/rpath/lib/libbundled.so.1")
        .check("python3.12", X86);
    assert_eq!(at(&bad, Severity::Warning), vec![err("missing-library", "pkg/libuses-bundled.so")]);
}

#[test]
fn ld_library_path_of_the_runtime_reaches_var_task_lib() {
    let f = Pkg::new()
        .fixture("pkg/libuses-bundled.so", "x86_64/rpath/libuses-bundled.so")
        .fixture("lib/libbundled.so.1", "x86_64/rpath/lib/libbundled.so.1")
        .check("python3.12", X86);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn a_layer_given_with_the_function_provides_libraries_under_opt() {
    let dir = tempfile::tempdir().unwrap();
    let function =
        Pkg::new().fixture("lib/libmissing-dep.so", "x86_64/libmissing-dep.so").write_zip(dir.path(), "fn.zip");
    // /opt/lib is on LD_LIBRARY_PATH: a layer's lib/ serves the function.
    let layer = Pkg::new().fixture("lib/libnotthere.so.3", "x86_64/libhello.so").write_zip(dir.path(), "layer.zip");
    let options = |layers: Vec<std::path::PathBuf>| elfcheck::Options {
        target: elfcheck::target::resolve::Requested {
            runtime: Some("python3.12".into()),
            arch: Some(X86),
            from_templates: false,
        },
        layers,
        ..Default::default()
    };
    let alone = elfcheck::check(std::slice::from_ref(&function), &options(vec![])).unwrap().findings;
    assert_eq!(codes(&alone), vec!["missing-library"]);
    let with_layer = elfcheck::check(std::slice::from_ref(&function), &options(vec![layer.clone()])).unwrap().findings;
    assert!(with_layer.is_empty(), "{with_layer:#?}");
    // Six layers are one too many.
    let six = elfcheck::check(std::slice::from_ref(&function), &options(vec![layer; 6])).unwrap().findings;
    assert!(
        six.iter().any(|f| f.code.as_str() == "package-too-large" && f.message.starts_with("6 layers")),
        "{six:#?}"
    );
}

// --- python-abi-mismatch ----------------------------------------------------------------------

#[test]
fn cpython_tag_for_another_version_is_not_imported() {
    let pkg = Pkg::new().fixture("spam/_spam.cpython-311-x86_64-linux-gnu.so", "x86_64/pyext.so");
    let f = pkg.check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("python-abi-mismatch", "spam/_spam.cpython-311-x86_64-linux-gnu.so")]);
    assert_eq!(f[0].runtime_error.as_deref(), Some("No module named 'spam._spam'"));
    assert!(pkg.check("python3.11", X86).is_empty());
}

#[test]
fn abi3_and_untagged_extensions_load_everywhere() {
    let f = Pkg::new()
        .fixture("a/_a.abi3.so", "x86_64/pyext.so")
        .fixture("b/_b.so", "x86_64/pyext.so")
        .check("python3.9", X86);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn extension_named_for_the_other_cpu_but_built_for_this_one() {
    // The name lies: the interpreter goes by the name and skips it.
    let f = Pkg::new().fixture("m/_m.cpython-312-aarch64-linux-gnu.so", "x86_64/pyext.so").check("python3.12", X86);
    assert_eq!(codes(&f), vec!["python-abi-mismatch"]);
}

#[test]
fn layer_for_another_python_version_is_invisible() {
    let f = Pkg::new()
        .fixture("python/lib/python3.11/site-packages/spam/_spam.abi3.so", "x86_64/pyext.so")
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("python-abi-mismatch", "python/lib/python3.11")]);
    let ok = Pkg::new()
        .fixture("python/lib/python3.12/site-packages/spam/_spam.abi3.so", "x86_64/pyext.so")
        .check("python3.12", X86);
    assert!(ok.is_empty(), "{ok:#?}");
}

// --- node-abi-mismatch ------------------------------------------------------------------------

#[test]
fn node_addon_for_node18_on_node20() {
    let pkg = Pkg::new().fixture("node_modules/x/build/Release/x.node", "x86_64/addon-v108.node");
    let f = pkg.check("nodejs20.x", X86);
    assert_eq!(errors(&f), vec![err("node-abi-mismatch", "node_modules/x/build/Release/x.node")]);
    assert!(f[0].runtime_error.as_deref().unwrap().contains("NODE_MODULE_VERSION 108"));
    assert!(pkg.check("nodejs18.x", X86).is_empty());
}

#[test]
fn napi_addon_loads_on_every_node() {
    let f = Pkg::new().fixture("node_modules/x/x.node", "x86_64/addon-napi.node").check("nodejs24.x", X86);
    assert!(f.is_empty(), "{f:#?}");
}

// --- packaging --------------------------------------------------------------------------------

#[test]
fn corrupt_entry_is_a_finding() {
    let mut zip = Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").zip_bytes();
    // Flip bytes inside the compressed data of the only entry (after its 30-byte header + name).
    for b in &mut zip[60..200] {
        *b ^= 0x5a;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.zip");
    std::fs::write(&path, zip).unwrap();
    let f = common::check_path(&path, Some("python3.12"), X86);
    assert_eq!(codes(&f), vec!["corrupt-entry"], "{f:#?}");
}

#[test]
fn zip_slip_names_are_reported_not_resolved() {
    let f = Pkg::new()
        .file("../../etc/evil", "x", 0o644)
        .file("/abs/path", "x", 0o644)
        .file("ok.txt", "x", 0o644)
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("unsafe-path", "../../etc/evil"), err("unsafe-path", "/abs/path")]);
}

#[test]
fn unreadable_file_and_dir() {
    let f = Pkg::new()
        .dir("private", 0o700)
        .file("private/config.json", "{}", 0o600)
        .file("public.txt", "x", 0o644)
        .check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("unreadable-file", "private"), err("unreadable-file", "private/config.json")]);
}

#[test]
fn modes_inside_wheels_and_nested_archives_do_not_count() {
    let wheel = Pkg::new().file("x-1.0.dist-info/RECORD", "x", 0o600).file("x/__init__.py", "", 0o644);
    let dir = tempfile::tempdir().unwrap();
    let whl = wheel.write_zip(dir.path(), "x-1.0-py3-none-any.whl");
    assert!(common::check_path(&whl, Some("python3.12"), X86).is_empty());
    let f = Pkg::new().file("vendor.zip", wheel.zip_bytes(), 0o644).check("python3.12", X86);
    assert!(f.is_empty(), "{f:#?}");
    // The same wheel content as a deployment zip: Lambda unpacks those modes.
    let f = wheel.check("python3.12", X86);
    assert_eq!(codes(&f), vec!["unreadable-file"]);
}

#[test]
fn dangling_and_escaping_symlinks_warn() {
    let f = Pkg::new()
        .symlink("lib/libz.so", "libz.so.1")
        .symlink("lib/escape", "../../etc/passwd")
        .symlink("lib/ok.so", "real.so")
        .fixture("lib/real.so", "x86_64/libhello.so")
        .check("python3.12", X86);
    assert_eq!(
        at(&f, Severity::Warning),
        vec![err("dangling-symlink", "lib/escape"), err("dangling-symlink", "lib/libz.so")]
    );
}

#[test]
fn backslash_names_are_flagged() {
    let f = Pkg::new().file("lib\\libhello.so", fixture("x86_64/libhello.so"), 0o644).check("python3.12", X86);
    assert_eq!(codes(&f), vec!["backslash-path"]);
}

#[test]
fn bootstrap_script_with_crlf_or_missing_interpreter() {
    let crlf = Pkg::new().file("bootstrap", "#!/bin/sh\r\nexec ./app\r\n", 0o755).check("provided.al2023", X86);
    assert_eq!(codes(&crlf), vec!["bootstrap-script"]);
    let python =
        Pkg::new().file("bootstrap", "#!/usr/bin/env python3\nprint(1)\n", 0o755).check("provided.al2023", X86);
    assert_eq!(codes(&python), vec!["bootstrap-script"]);
    assert!(python[0].message.contains("`python3`"));
    let ok = Pkg::new().file("bootstrap", "#!/bin/bash\nexec ./app\n", 0o755).check("provided.al2023", X86);
    assert!(ok.is_empty(), "{ok:#?}");
}

#[test]
fn directory_input_gives_the_same_findings_as_the_zip() {
    let pkg = Pkg::new()
        .fixture("editdistance/bycython.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file("bootstrap", fixture("x86_64/hello-static"), 0o644)
        .fixture("lib/libstatx.so", "x86_64/libstatx.so")
        .symlink("lib/link.so", "libstatx.so");
    let dir = tempfile::tempdir().unwrap();
    let zip = common::check_path(&pkg.write_zip(dir.path(), "p.zip"), Some("python3.11"), X86);
    let tree = common::check_path(&pkg.write_dir(dir.path(), "p"), Some("python3.11"), X86);
    let strip =
        |f: &[elfcheck::Finding]| f.iter().map(|x| (x.code, x.path.clone(), x.message.clone())).collect::<Vec<_>>();
    assert_eq!(strip(&zip), strip(&tree));
    assert_eq!(codes(&zip), vec!["not-executable", "macho-binary", "glibc-too-new"]);
}

#[test]
fn directory_symlink_out_of_the_tree_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").write_dir(dir.path(), "p");
    std::os::unix::fs::symlink("/usr/lib", root.join("hostlib")).unwrap();
    let f = common::check_path(&root, Some("python3.12"), X86);
    assert_eq!(at(&f, Severity::Warning), vec![err("dangling-symlink", "hostlib")]);
}

// --- library-too-old --------------------------------------------------------------------------

#[test]
fn zlib_version_need_is_judged_against_the_runtime_zlib() {
    // Amazon Linux 2 has zlib 1.2.7 (up to ZLIB_1.2.5.2); Amazon Linux 2023 zlib 1.2.11.
    let pkg = Pkg::new().fixture("z/_z.cpython-311-x86_64-linux-gnu.so", "x86_64/libzlib-new.so");
    let f = pkg.check("python3.11", X86);
    assert_eq!(errors(&f), vec![err("library-too-old", "z/_z.cpython-311-x86_64-linux-gnu.so")]);
    assert!(f[0].message.contains("`ZLIB_1.2.9`") && f[0].message.contains("`ZLIB_1.2.5.2`"), "{}", f[0].message);
    let pkg = Pkg::new().fixture("z/_z.cpython-312-x86_64-linux-gnu.so", "x86_64/libzlib-new.so");
    assert!(errors(&pkg.check("python3.12", X86)).is_empty());
}

#[test]
fn a_library_only_the_container_image_has_is_missing_in_the_zip_runtime() {
    let f =
        Pkg::new().fixture("c/_c.cpython-311-x86_64-linux-gnu.so", "x86_64/libneeds-crypt.so").check("python3.11", X86);
    assert_eq!(errors(&f), vec![err("missing-library", "c/_c.cpython-311-x86_64-linux-gnu.so")]);
    assert!(f[0].message.contains("`libcrypt.so.1` exists only in the Lambda container image"), "{}", f[0].message);
    // Amazon Linux 2023 has no libxcrypt at all.
    let f =
        Pkg::new().fixture("c/_c.cpython-312-x86_64-linux-gnu.so", "x86_64/libneeds-crypt.so").check("python3.12", X86);
    assert_eq!(errors(&f), vec![err("missing-library", "c/_c.cpython-312-x86_64-linux-gnu.so")]);
    assert!(!f[0].message.contains("container image"), "{}", f[0].message);
}
