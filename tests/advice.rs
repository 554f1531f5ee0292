//! Version advice against the real package indexes: these install real packages and ask PyPI and
//! the npm registry, so they are ignored by a plain `cargo test`; `.ci/run` runs them.

use std::path::Path;
use std::process::Command;

use elfcheck::advice::{IndexAnswer, Lookup};
use elfcheck::package::{InputKind, Package};
use elfcheck::source::Limits;
use elfcheck::{Arch, Target};

fn package(dir: &Path) -> Package {
    Package::build(elfcheck::source::read(dir, &Limits::default()).unwrap(), InputKind::Directory, Vec::new())
}

fn run(cmd: &mut Command) {
    if let Some(ca) = std::env::var_os("SSL_CERT_FILE") {
        cmd.env("NODE_EXTRA_CA_CERTS", &ca).env("PIP_CERT", &ca);
    }
    let out = cmd.output().expect("the tool runs");
    assert!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
}

fn version(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
#[ignore = "needs PyPI; run by .ci/run"]
fn numpy_too_new_for_python311_gets_the_newest_version_with_a_wheel_and_the_runtime_that_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
            "--target",
        ])
        .arg(dir.path())
        .arg("numpy==2.4.6"));
    let pkg = package(dir.path());
    let target = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
    let findings = elfcheck::check_package(&pkg, &target, "numpy");
    assert!(findings.iter().any(|f| f.code.as_str() == "glibc-too-new"), "{findings:#?}");
    let advice = elfcheck::advice::advise(&pkg, &target, &findings, Lookup::Online);
    let a = advice.values().next().expect("advice for numpy");
    assert_eq!(a.index, IndexAnswer::Asked, "{a:?}");
    let newest = a.newest_compatible.as_deref().expect("a compatible version");
    assert!(version(newest) >= version("2.2.6") && version(newest) < version("2.4.6"), "{a:?}");
    assert!(a.runtimes_with_a_build.iter().any(|r| r == "python3.12"), "numpy 2.4.6 has cp312 wheels: {a:?}");
    // The package's fix installs that version.
    let fix = elfcheck::advice::package_fix(&pkg.distributions[0], &target, Some(a));
    assert!(fix.command.last().unwrap().ends_with(&format!("=={newest}")), "{fix:?}");
}

#[test]
#[ignore = "needs PyPI; run by .ci/run"]
fn a_mac_install_whose_version_has_no_linux_wheel_for_the_runtime_is_told_so() {
    // numpy 2.4.6 installed on a Mac for Python 3.11: Linux wheels of 2.4.6 need glibc 2.28 or
    // newer, so reinstalling the same version for python3.11 (glibc 2.26) cannot work.
    let dir = tempfile::tempdir().unwrap();
    let pip = |platform: &str, spec: &str, into: &Path| {
        run(Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"])
            .args(["--implementation", "cp", "--python-version", "3.11", "--platform", platform, "--target"])
            .arg(into)
            .arg(spec));
    };
    pip("macosx_14_0_arm64", "numpy==2.4.6", dir.path());
    // orjson 3.11.5 has Linux wheels for Python 3.11 on glibc 2.17: reinstalling it works.
    pip("macosx_11_0_arm64", "orjson==3.11.5", dir.path());
    let pkg = package(dir.path());
    let target = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
    let findings = elfcheck::check_package(&pkg, &target, "mac");
    assert!(findings.iter().all(|f| f.code.as_str() == "macho-binary" || f.severity != elfcheck::Severity::Error));
    let advice = elfcheck::advice::advise(&pkg, &target, &findings, Lookup::Online);
    let names: Vec<&str> = advice.values().map(|a| a.package.as_str()).collect();
    assert_eq!(names, vec!["numpy"], "only numpy's installed version lacks a wheel: {advice:#?}");
    let a = advice.values().next().unwrap();
    let newest = a.newest_compatible.as_deref().expect("an older numpy has one");
    assert!(version(newest) >= version("2.2.6") && version(newest) < version("2.4.6"), "{a:?}");
    assert!(a.runtimes_with_a_build.iter().any(|r| r == "python3.12"), "{a:?}");
}

#[test]
#[ignore = "needs the npm registry; run by .ci/run"]
fn sharp_too_new_for_nodejs18_gets_an_older_sharp_that_passes() {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--os=linux", "--cpu=x64", "--libc=glibc", "--prefix"])
        .arg(dir.path())
        .arg("sharp@0.35.5"));
    let pkg = package(dir.path());
    let target = Target::new(Some("nodejs18.x"), Arch::X86_64).unwrap();
    let findings = elfcheck::check_package(&pkg, &target, "sharp");
    assert!(findings.iter().any(|f| f.code.as_str() == "glibc-too-new"), "{findings:#?}");
    let advice = elfcheck::advice::advise(&pkg, &target, &findings, Lookup::Online);
    let a = advice.values().next().expect("advice for sharp's libvips");
    assert_eq!(a.package, "sharp", "the package the user depends on, not the platform build: {a:?}");
    let newest = a.newest_compatible.as_deref().expect("an older sharp passes");
    assert!(version(newest) < version("0.35.5"), "{a:?}");
    assert!(a.runtimes_accepting_installed.iter().any(|r| r == "nodejs20.x"), "{a:?}");
    // That version really installs and passes on nodejs18.x.
    let older = tempfile::tempdir().unwrap();
    run(Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--os=linux", "--cpu=x64", "--libc=glibc", "--prefix"])
        .arg(older.path())
        .arg(format!("sharp@{newest}")));
    let findings = elfcheck::check_package(&package(older.path()), &target, "older");
    assert!(findings.iter().all(|f| f.severity != elfcheck::Severity::Error), "{findings:#?}");
}

#[test]
fn offline_advice_names_the_runtimes_that_load_what_is_installed() {
    // No index is asked: a cpython-311 extension loads on python3.11 only.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("m")).unwrap();
    std::fs::create_dir_all(root.join("m-1.0.dist-info")).unwrap();
    let ext = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bin/x86_64/pyext.so")).unwrap();
    std::fs::write(root.join("m/_m.cpython-311-x86_64-linux-gnu.so"), ext).unwrap();
    std::fs::write(root.join("m-1.0.dist-info/RECORD"), "m/_m.cpython-311-x86_64-linux-gnu.so,,\n").unwrap();
    std::fs::write(root.join("m-1.0.dist-info/METADATA"), "Name: m\nVersion: 1.0\n").unwrap();
    let pkg = package(root);
    let target = Target::new(Some("python3.12"), Arch::X86_64).unwrap();
    let findings = elfcheck::check_package(&pkg, &target, "m");
    let advice = elfcheck::advice::advise(&pkg, &target, &findings, Lookup::Offline);
    let a = advice.values().next().expect("advice for m");
    assert_eq!(a.index, IndexAnswer::NotAsked);
    assert_eq!(a.runtimes_accepting_installed, vec!["python3.11"]);
}
