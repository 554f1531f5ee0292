//! Snapshots of what users read: every rule's findings on a package made from the project's
//! fixtures (message, runtime error, fix, severity), `elfcheck explain`, and the SARIF and
//! GitHub outputs. A rule without a case here fails `every_rule_has_a_snapshot_case`.

mod common;

use std::path::{Path, PathBuf};

use common::{Pkg, fixture};
use elfcheck::{Arch, Code, Finding};

const X86: Arch = Arch::X86_64;
const ARM: Arch = Arch::Arm64;

/// A package that makes `code` fire, and the target to check it against.
struct Case {
    code: Code,
    zip: Vec<u8>,
    runtime: &'static str,
    arch: Arch,
}

fn case(code: Code, pkg: Pkg, runtime: &'static str, arch: Arch) -> Case {
    Case { code, zip: pkg.zip_bytes(), runtime, arch }
}

fn selector(name: &str, optional: &[&str]) -> String {
    let deps: Vec<String> = optional.iter().map(|o| format!(r#""{o}": "1.0.0""#)).collect();
    format!(r#"{{"name": "{name}", "version": "1.0.0", "optionalDependencies": {{{}}}}}"#, deps.join(", "))
}

fn cases() -> Vec<Case> {
    let corrupt = {
        let mut zip = Pkg::new().fixture("lib/libhello.so", "x86_64/libhello.so").zip_bytes();
        for b in &mut zip[60..200] {
            *b ^= 0x5a;
        }
        zip
    };
    let deep = {
        let mut bytes = Pkg::new().fixture("x.so", "aarch64/libhello.so").zip_bytes();
        for _ in 0..4 {
            bytes = Pkg::new().file("inner.zip", bytes, 0o644).zip_bytes();
        }
        Pkg::new().file("outer.zip", bytes, 0o644)
    };
    let duplicate = Pkg::new()
        .fixture("lib/a.so", "macho/libhello-arm64.dylib")
        .fixture("lib/b.so", "x86_64/libhello.so")
        .zip_with_repeated_name("lib/a.so", "lib/b.so");
    let sharp = ["@x/native-darwin-arm64", "@x/native-linux-x64-gnu"];
    let darwin_variant = Pkg::new()
        .file("node_modules/@x/native/package.json", selector("@x/native", &sharp), 0o644)
        .file(
            "node_modules/@x/native-darwin-arm64/package.json",
            r#"{"name": "@x/native-darwin-arm64", "version": "1.0.0", "os": ["darwin"], "cpu": ["arm64"]}"#,
            0o644,
        )
        .fixture("node_modules/@x/native-darwin-arm64/native.node", "macho/libhello-arm64.dylib");
    let both_variants = Pkg::new()
        .fixture("node_modules/x/prebuilds/linux-x64/node.napi.glibc.node", "x86_64/addon-napi.node")
        .fixture("node_modules/x/prebuilds/darwin-arm64/node.napi.node", "macho/libhello-arm64.dylib");
    let layers = {
        let mut pkg = Pkg::new();
        // Over 250 MB unpacked: a few large files of zeros compress to almost nothing.
        for i in 0..6 {
            pkg = pkg.file(&format!("data/blob{i}.bin"), vec![0u8; 45 << 20], 0o644);
        }
        pkg
    };
    vec![
        Case { code: Code::CorruptEntry, zip: corrupt, runtime: "python3.12", arch: X86 },
        Case { code: Code::DuplicateEntry, zip: duplicate, runtime: "python3.12", arch: X86 },
        case(Code::UnsafePath, Pkg::new().file("../../etc/evil", "x", 0o644), "python3.12", X86),
        case(Code::NestedArchiveRefused, deep, "python3.12", X86),
        case(Code::UnparseableBinary, Pkg::new().fixture("lib/short.so", "text/short.bin"), "python3.12", X86),
        case(
            Code::MachoBinary,
            Pkg::new().fixture("m/_m.cpython-312-darwin.so", "macho/pyext-arm64.so"),
            "python3.12",
            X86,
        ),
        case(Code::PeBinary, Pkg::new().fixture("regex/_regex.cp312-win_amd64.pyd", "pe/hello.dll"), "python3.12", X86),
        case(Code::ElfClassMismatch, Pkg::new().fixture("lib/libhello.so", "i386/libhello.so"), "python3.12", X86),
        case(Code::ArchMismatch, Pkg::new().fixture("m/_m.abi3.so", "aarch64/pyext.so"), "python3.12", X86),
        case(Code::UnusedPlatformBinary, both_variants, "nodejs20.x", X86),
        case(Code::MissingPlatformVariant, darwin_variant, "nodejs20.x", X86),
        case(Code::MuslBinary, Pkg::new().fixture("lib/libmusl.so", "musl/libhello.so"), "python3.12", X86),
        case(Code::GlibcTooNew, Pkg::new().fixture("m/_m.abi3.so", "x86_64/libstatx.so"), "python3.11", X86),
        case(Code::LibstdcxxTooNew, Pkg::new().fixture("lib/libcxx.so", "x86_64/libcxx-new.so"), "python3.12", X86),
        case(Code::LibraryTooOld, library_too_old(), "python3.11", X86),
        case(
            Code::MissingLibrary,
            Pkg::new().fixture("m/_m.cpython-312-x86_64-linux-gnu.so", "x86_64/libmissing-dep.so"),
            "python3.12",
            X86,
        ),
        case(
            Code::PythonAbiMismatch,
            Pkg::new().fixture("m/_m.cpython-311-x86_64-linux-gnu.so", "x86_64/pyext.so"),
            "python3.12",
            X86,
        ),
        case(
            Code::NodeAbiMismatch,
            Pkg::new().fixture("node_modules/a/a.node", "x86_64/addon-v108.node"),
            "nodejs20.x",
            X86,
        ),
        case(
            Code::NotExecutable,
            Pkg::new().file("bootstrap", fixture("x86_64/hello-static"), 0o644),
            "provided.al2023",
            X86,
        ),
        case(
            Code::BootstrapScript,
            Pkg::new().file("bootstrap", "#!/bin/sh\r\nexec ./app\r\n", 0o755),
            "provided.al2023",
            X86,
        ),
        case(Code::UnreadableFile, Pkg::new().file("config.json", "{}", 0o600), "python3.12", ARM),
        case(Code::DanglingSymlink, Pkg::new().symlink("lib/libz.so", "libz.so.1"), "python3.12", X86),
        case(
            Code::BackslashPath,
            Pkg::new().file("lib\\libhello.so", fixture("x86_64/libhello.so"), 0o644),
            "python3.12",
            X86,
        ),
        case(Code::PackageTooLarge, layers, "python3.12", X86),
    ]
}

/// An extension that needs a newer zlib than Amazon Linux 2 ships (`ZLIB_1.2.9` from 1.2.7).
fn library_too_old() -> Pkg {
    Pkg::new().fixture("z/_z.cpython-311-x86_64-linux-gnu.so", "x86_64/libzlib-new.so")
}

fn check(case: &Case) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("package.zip");
    std::fs::write(&zip, &case.zip).unwrap();
    common::check_path(&zip, Some(case.runtime), case.arch)
}

/// A finding as users read it, without the temporary input path.
fn shown(f: &Finding) -> String {
    let mut out = format!("{}[{}] {}\n  {}", f.severity, f.code, f.path, f.message);
    if let Some(seen) = &f.runtime_error {
        out.push_str(&format!("\n  on Lambda: {seen}"));
    }
    if let Some(fix) = &f.fix {
        out.push_str(&format!("\n  fix: {fix}"));
    }
    if let Some(p) = &f.package {
        out.push_str(&format!("\n  package: {p}"));
    }
    out
}

#[test]
fn every_rule_has_a_snapshot_case() {
    let covered: Vec<Code> = cases().iter().map(|c| c.code).collect();
    for rule in elfcheck::rules::RULES {
        assert!(covered.contains(&rule.code), "no snapshot case for `{}`", rule.code);
    }
}

#[test]
fn findings_of_every_rule() {
    for case in cases() {
        let findings = check(&case);
        assert!(
            findings.iter().any(|f| f.code == case.code),
            "the case for `{}` does not fire it: {findings:#?}",
            case.code
        );
        let text: Vec<String> = findings.iter().map(shown).collect();
        insta::assert_snapshot!(format!("finding-{}", case.code), text.join("\n\n"));
    }
}

fn elfcheck_out(dir: &Path, args: &[&str]) -> String {
    let o = common::elfcheck_command().args(args).current_dir(dir).output().expect("elfcheck runs");
    String::from_utf8(o.stdout).unwrap()
}

fn mixed(dir: &Path) -> PathBuf {
    Pkg::new()
        .fixture("fastjson/_speedups.cpython-312-darwin.so", "macho/pyext-arm64.so")
        .symlink("lib/libz.so", "libz.so.1")
        .fixture("setuptools/cli-64.exe", "pe/hello.exe")
        .write_zip(dir, "function.zip")
}

#[test]
fn explain_lists_every_code_and_documents_each() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!("explain-list", elfcheck_out(dir.path(), &["explain"]));
    for rule in elfcheck::rules::RULES {
        let code = rule.code.as_str();
        insta::assert_snapshot!(format!("explain-{code}"), elfcheck_out(dir.path(), &["explain", code]));
    }
}

#[test]
fn sarif_and_github_outputs() {
    let dir = tempfile::tempdir().unwrap();
    mixed(dir.path());
    let sarif = elfcheck_out(dir.path(), &["function.zip", "-r", "python3.12", "--format", "sarif"]);
    // The base URI is the temporary directory's; everything else is stable.
    let base = format!("file://{}/", dir.path().canonicalize().unwrap().display());
    assert!(sarif.contains(&base), "{sarif}");
    insta::assert_snapshot!("sarif", sarif.replace(&base, "file:///TMP/"));
    let github = elfcheck_out(dir.path(), &["function.zip", "-r", "python3.12", "--format", "github"]);
    insta::assert_snapshot!("github", github);
}
