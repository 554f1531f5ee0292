//! Knowing the package, not just the file: owners, multi-platform bundles, nested archives,
//! packaging limits, and the CI formats.

mod common;

use common::{Pkg, at, codes, errors, find, fixture};
use elfcheck::{Arch, Severity};

const X86: Arch = Arch::X86_64;
const ARM: Arch = Arch::Arm64;

fn pair(code: &'static str, path: &str) -> (&'static str, String) {
    (code, path.to_string())
}

fn package_json(name: &str, os: &str, cpu: &str) -> String {
    format!(r#"{{"name": "{name}", "version": "0.33.5", "os": ["{os}"], "cpu": ["{cpu}"]}}"#)
}

/// A package that selects a platform package at run time among `optional` (name, version).
fn selector_json(name: &str, optional: &[&str]) -> String {
    let deps: Vec<String> = optional.iter().map(|o| format!(r#""{o}": "0.33.5""#)).collect();
    format!(r#"{{"name": "{name}", "version": "0.33.5", "optionalDependencies": {{{}}}}}"#, deps.join(", "))
}

// --- attribution ------------------------------------------------------------------------------

#[test]
fn wheel_owner_and_fix_command_come_from_dist_info() {
    let record = "fastjson/_speedups.cpython-312-darwin.so,sha256=x,1\nfastjson-2.1.0.dist-info/RECORD,,\n";
    let f = Pkg::new()
        .fixture("fastjson/_speedups.cpython-312-darwin.so", "macho/pyext-arm64.so")
        .file("fastjson-2.1.0.dist-info/RECORD", record, 0o644)
        .file(
            "fastjson-2.1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: fastjson\nVersion: 2.1.0\n\nlong text\nName: nope\n",
            0o644,
        )
        .file("fastjson-2.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: cp312-cp312-macosx_11_0_arm64\n", 0o644)
        .report("python3.12", ARM);
    let m = find(&f.findings, "macho-binary");
    assert_eq!(m.package.as_deref(), Some("fastjson 2.1.0"));
    assert_eq!(m.fix.as_deref(), Some("reinstall `fastjson 2.1.0` built for Linux arm64 with glibc 2.34 or older"));
    let fix = common::package_fix_command(&f, "fastjson");
    assert!(fix.contains("--platform manylinux_2_34_aarch64"), "{fix}");
    assert!(fix.contains("--platform manylinux2014_aarch64"), "{fix}");
    assert!(fix.contains("--python-version 3.12") && fix.ends_with(" fastjson==2.1.0"), "{fix}");
    assert!(fix.contains("--upgrade"), "run in the package, pip must replace what is there: {fix}");
}

#[test]
fn a_distribution_missing_only_system_libraries_is_not_told_to_reinstall() {
    // The wheel expects the system to provide `libnotthere.so.3`: the same wheel again brings
    // the same files, so the fix names what can help instead of a pip command.
    let f = Pkg::new()
        .fixture("odbcish/_ext.cpython-312-x86_64-linux-gnu.so", "x86_64/libmissing-dep.so")
        .file("odbcish-1.0.dist-info/RECORD", "odbcish/_ext.cpython-312-x86_64-linux-gnu.so,,\n", 0o644)
        .file("odbcish-1.0.dist-info/METADATA", "Name: odbcish\nVersion: 1.0\n", 0o644)
        .report("python3.12", X86);
    assert_eq!(errors(&f.findings), vec![pair("missing-library", "odbcish/_ext.cpython-312-x86_64-linux-gnu.so")]);
    let p = f.inputs[0].packages.iter().find(|p| p.name == "odbcish").unwrap();
    let fix = p.fix.as_ref().unwrap();
    assert!(fix.command.is_empty(), "{fix:?}");
    assert!(
        fix.summary
            .starts_with("reinstalling cannot help: `odbcish 1.0` expects the system to provide `libnotthere.so.3`"),
        "{}",
        fix.summary
    );
    assert!(fix.summary.contains("add a layer with it under `lib/`"), "{}", fix.summary);
    assert_eq!(f.inputs[0].fix_command, None, "fix has nothing to run");
}

#[test]
fn layer_wheel_reinstalls_into_its_site_packages() {
    let sp = "python/lib/python3.12/site-packages";
    let f = Pkg::new()
        .fixture(&format!("{sp}/yaml/_yaml.cpython-312-aarch64-linux-gnu.so"), "aarch64/pyext.so")
        .file(&format!("{sp}/PyYAML-6.0.2.dist-info/RECORD"), "yaml/_yaml.cpython-312-aarch64-linux-gnu.so,,\n", 0o644)
        .file(&format!("{sp}/PyYAML-6.0.2.dist-info/METADATA"), "Name: PyYAML\nVersion: 6.0.2\n", 0o644)
        .report("python3.12", X86);
    let a = find(&f.findings, "arch-mismatch");
    assert_eq!(a.package.as_deref(), Some("PyYAML 6.0.2"));
    let fix = common::package_fix_command(&f, "PyYAML");
    assert!(fix.contains(&format!("--target {sp} ")), "{fix}");
}

#[test]
fn npm_owner_is_the_nearest_package_json() {
    let f = Pkg::new()
        .file("node_modules/fsevents-like/package.json", r#"{"name": "fsevents-like", "version": "2.3.3"}"#, 0o644)
        .fixture("node_modules/fsevents-like/build/Release/watch.node", "macho/libhello-arm64.dylib")
        .report("nodejs20.x", X86);
    let m = find(&f.findings, "macho-binary");
    assert_eq!(m.package.as_deref(), Some("fsevents-like 2.3.3"));
    let fix = common::package_fix_command(&f, "fsevents-like");
    assert_eq!(fix, "npm install --os=linux --cpu=x64 --libc=glibc fsevents-like@2.3.3");
}

// --- multi-platform bundles -------------------------------------------------------------------

#[test]
fn npm_platform_packages_with_and_without_the_target_variant() {
    let sharp = ["@img/sharp-darwin-arm64", "@img/sharp-linux-x64", "@img/sharp-linuxmusl-x64", "@img/sharp-wasm32"];
    let darwin = Pkg::new()
        .file("node_modules/sharp/package.json", selector_json("sharp", &sharp), 0o644)
        .file(
            "node_modules/@img/sharp-darwin-arm64/package.json",
            package_json("@img/sharp-darwin-arm64", "darwin", "arm64"),
            0o644,
        )
        .fixture("node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node", "macho/libhello-arm64.dylib");
    // Only the Mac build: the Linux one is missing, the Mac one is the evidence.
    let f = darwin.check("nodejs20.x", X86);
    assert_eq!(
        errors(&f),
        vec![
            pair("macho-binary", "node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node"),
            pair("missing-platform-variant", "node_modules/sharp"),
        ]
    );
    let missing = find(&f, "missing-platform-variant");
    assert!(missing.message.contains("`@img/sharp-linux-x64`"), "{}", missing.message);
    assert_eq!(missing.package.as_deref(), Some("sharp 0.33.5"));
    assert!(missing.fix.as_deref().unwrap().ends_with("--libc=glibc @img/sharp-linux-x64@0.33.5"), "{missing:?}");
    // Without the package that selects it, nothing says which variant the runtime would ask for:
    // the Mac build is judged by what it is.
    let orphan = Pkg::new()
        .file(
            "node_modules/@img/sharp-darwin-arm64/package.json",
            package_json("@img/sharp-darwin-arm64", "darwin", "arm64"),
            0o644,
        )
        .fixture("node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node", "macho/libhello-arm64.dylib")
        .check("nodejs20.x", X86);
    assert_eq!(codes(&orphan), vec!["macho-binary"]);
    // Both builds, as `npm install --os=linux` beside a Mac install leaves them: the Mac one is info.
    let both = darwin
        .file(
            "node_modules/@img/sharp-linux-x64/package.json",
            package_json("@img/sharp-linux-x64", "linux", "x64"),
            0o644,
        )
        .fixture("node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node", "x86_64/addon-napi.node");
    let f = both.check("nodejs20.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(
        at(&f, Severity::Info),
        vec![pair("unused-platform-binary", "node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node")]
    );
}

#[test]
fn esbuild_style_platform_package() {
    let pkg = Pkg::new()
        .file(
            "node_modules/esbuild/package.json",
            selector_json("esbuild", &["@esbuild/darwin-arm64", "@esbuild/linux-arm64", "@esbuild/linux-x64"]),
            0o644,
        )
        .file(
            "node_modules/@esbuild/darwin-arm64/package.json",
            package_json("@esbuild/darwin-arm64", "darwin", "arm64"),
            0o644,
        )
        .file("node_modules/@esbuild/darwin-arm64/bin/esbuild", fixture("macho/libhello-arm64.dylib"), 0o755);
    let f = pkg.check("nodejs22.x", ARM);
    assert!(find(&f, "missing-platform-variant").message.contains("`@esbuild/linux-arm64`"));
    let f = pkg
        .file(
            "node_modules/@esbuild/linux-arm64/package.json",
            package_json("@esbuild/linux-arm64", "linux", "arm64"),
            0o644,
        )
        .file("node_modules/@esbuild/linux-arm64/bin/esbuild", fixture("aarch64/hello-static"), 0o755)
        .check("nodejs22.x", ARM);
    assert_eq!(codes(&f), vec!["unused-platform-binary"]);
}

#[test]
fn node_gyp_build_prebuilds() {
    let base = "node_modules/bufferutil/prebuilds";
    let mac_only = Pkg::new().fixture(&format!("{base}/darwin-x64+arm64/bufferutil.node"), "macho/libhello-fat.dylib");
    let f = mac_only.check("nodejs20.x", X86);
    assert_eq!(errors(&f)[0], pair("missing-platform-variant", base));
    let with_linux = mac_only
        .fixture(&format!("{base}/win32-x64/bufferutil.node"), "pe/hello.dll")
        .fixture(&format!("{base}/linux-x64/bufferutil.node"), "x86_64/addon-napi.node");
    let f = with_linux.check("nodejs20.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 2);
    // The same tree on arm64: only x64 and Mac builds, so arm64 is missing.
    let f = with_linux.check("nodejs20.x", ARM);
    assert!(errors(&f).contains(&pair("missing-platform-variant", base)), "{f:#?}");
}

#[test]
fn prebuilds_pick_by_libc_inside_the_target_directory() {
    let dir = "node_modules/utf-8-validate/prebuilds/linux-x64";
    let both = Pkg::new()
        .fixture(&format!("{dir}/utf-8-validate.glibc.node"), "x86_64/addon-napi.node")
        .fixture(&format!("{dir}/utf-8-validate.musl.node"), "musl/libhello.so");
    let f = both.check("nodejs20.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(
        at(&f, Severity::Info),
        vec![pair("unused-platform-binary", &format!("{dir}/utf-8-validate.musl.node"))]
    );
    // Only the musl build: node-gyp-build on glibc finds no build, and the musl one is the evidence.
    let f = Pkg::new().fixture(&format!("{dir}/utf-8-validate.musl.node"), "musl/libhello.so").check("nodejs20.x", X86);
    assert_eq!(codes(&f), vec!["missing-platform-variant", "musl-binary"]);
}

#[test]
fn files_named_for_platforms_side_by_side() {
    // better-sqlite3 13: `prebuilds/<platform>-<arch>.node`, `linuxmusl` for musl; its loader
    // requires the one named for the platform it runs on.
    let dir = "node_modules/better-sqlite3/prebuilds";
    let all = Pkg::new()
        .fixture(&format!("{dir}/linux-x64.node"), "x86_64/addon-napi.node")
        .fixture(&format!("{dir}/linuxmusl-x64.node"), "musl/libhello.so")
        .fixture(&format!("{dir}/linux-arm64.node"), "aarch64/libhello.so")
        .fixture(&format!("{dir}/darwin-arm64.node"), "macho/libhello-arm64.dylib")
        .fixture(&format!("{dir}/win32-x64.node"), "pe/hello.dll");
    let f = all.check("nodejs22.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 4);
    let f = all.check("nodejs22.x", ARM);
    assert!(errors(&f).is_empty(), "{f:#?}");
    // Without the build for the function's platform, the package fails to load.
    let mac_and_musl = Pkg::new()
        .fixture(&format!("{dir}/linuxmusl-x64.node"), "musl/libhello.so")
        .fixture(&format!("{dir}/darwin-arm64.node"), "macho/libhello-arm64.dylib");
    let f = mac_and_musl.check("nodejs22.x", X86);
    assert_eq!(errors(&f)[0], pair("missing-platform-variant", dir), "{f:#?}");
    // A single file named for a platform is no set of variants: it is judged as loaded.
    let f =
        Pkg::new().fixture(&format!("{dir}/darwin-arm64.node"), "macho/libhello-arm64.dylib").check("nodejs22.x", X86);
    assert_eq!(codes(&f), vec!["macho-binary"]);
}

#[test]
fn tagged_builds_in_a_platform_package_pick_by_abi_and_libc() {
    // lmdb and msgpackr-extract: `@lmdb/lmdb-linux-x64/node.<abi|napi>.<libc>.node`, loaded by
    // node-gyp-build's rules from the platform package.
    let dir = "node_modules/@lmdb/lmdb-linux-x64";
    let pkg = Pkg::new()
        .file(&format!("{dir}/package.json"), package_json("@lmdb/lmdb-linux-x64", "linux", "x64"), 0o644)
        .fixture(&format!("{dir}/node.abi115.glibc.node"), "x86_64/addon-napi.node")
        .fixture(&format!("{dir}/node.napi.glibc.node"), "x86_64/addon-napi.node")
        .fixture(&format!("{dir}/node.napi.musl.node"), "musl/libhello.so");
    let f = pkg.check("nodejs20.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    let unused = at(&f, Severity::Info);
    assert_eq!(
        unused,
        vec![
            pair("unused-platform-binary", &format!("{dir}/node.napi.glibc.node")),
            pair("unused-platform-binary", &format!("{dir}/node.napi.musl.node")),
        ]
    );
    assert!(
        find(&f, "unused-platform-binary")
            .message
            .ends_with("uses `node_modules/@lmdb/lmdb-linux-x64/node.abi115.glibc.node`")
    );
    // Node.js 24 has no ABI-specific build: the N-API one is loaded.
    let f = pkg.check("nodejs24.x", X86);
    assert!(!at(&f, Severity::Info).contains(&pair("unused-platform-binary", &format!("{dir}/node.napi.glibc.node"))));
    // Only the musl build, as an Alpine install leaves it: nothing the glibc runtime can load.
    let f = Pkg::new().fixture(&format!("{dir}/node.napi.musl.node"), "musl/libhello.so").check("nodejs20.x", X86);
    assert_eq!(codes(&f), vec!["missing-platform-variant", "musl-binary"]);
}

#[test]
fn trees_split_by_platform_directories() {
    // zeromq 6: `build/<os>/<cpu>/node/<abi>/addon.node`; it tries each ABI directory in turn.
    let build = "node_modules/zeromq/build";
    let pkg = Pkg::new()
        .fixture(&format!("{build}/darwin/arm64/node/115/addon.node"), "macho/libhello-arm64.dylib")
        .fixture(&format!("{build}/win32/x64/node/115/addon.node"), "pe/hello.dll")
        .fixture(&format!("{build}/linux/x64/node/115/addon.node"), "x86_64/addon-napi.node")
        .fixture(&format!("{build}/linux/x64/node/108/addon.node"), "musl/libhello.so");
    let f = pkg.check("nodejs20.x", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 3, "{f:#?}");
    // No Linux arm64 directory: the package finds no build on Graviton.
    let f = pkg.check("nodejs20.x", ARM);
    assert!(errors(&f).contains(&pair("missing-platform-variant", build)), "{f:#?}");
    // Directories named `<os>-<cpu>` are the same layout; one platform alone is no set of variants.
    let f = Pkg::new()
        .fixture("tool/bin/darwin-arm64/tool", "macho/libhello-arm64.dylib")
        .file("tool/bin/linux-x64/tool", fixture("x86_64/hello"), 0o755)
        .check("provided.al2023", X86);
    assert_eq!(codes(&f), vec!["unused-platform-binary"], "{f:#?}");
    let f =
        Pkg::new().fixture("tool/bin/darwin-arm64/tool", "macho/libhello-arm64.dylib").check("provided.al2023", X86);
    assert_eq!(codes(&f), vec!["macho-binary"]);
}

#[test]
fn an_optional_dependency_for_another_os_is_never_loaded() {
    // fsevents, as a Mac install of rollup or chokidar leaves it: npm skips it on Linux.
    let fsevents = r#"{"name": "fsevents", "version": "2.3.3", "os": ["darwin"]}"#;
    let listed = r#"{"name": "chokidar", "version": "3.6.0", "optionalDependencies": {"fsevents": "~2.3.2"}}"#;
    let mac = Pkg::new()
        .file("node_modules/fsevents/package.json", fsevents, 0o644)
        .fixture("node_modules/fsevents/fsevents.node", "macho/libhello-fat.dylib");
    let f = mac.clone().file("node_modules/chokidar/package.json", listed, 0o644).check("nodejs20.x", X86);
    assert_eq!(codes(&f), vec!["unused-platform-binary"], "{f:#?}");
    assert!(
        f[0].message.contains("`fsevents` is an optional dependency for `\"os\": [\"darwin\"]` only"),
        "{}",
        f[0].message
    );
    // Nothing lists it as optional: whoever requires it gets a Mac binary.
    assert_eq!(codes(&mac.check("nodejs20.x", X86)), vec!["macho-binary"]);
}

#[test]
fn dotnet_runtimes_native() {
    let pkg = Pkg::new()
        .fixture("runtimes/win-x64/native/e_sqlite3.dll", "pe/hello.dll")
        .fixture("runtimes/osx-arm64/native/libe_sqlite3.dylib", "macho/libhello-arm64.dylib");
    let f = pkg.check("dotnet8", X86);
    assert_eq!(errors(&f)[0], pair("missing-platform-variant", "runtimes"));
    let f = pkg.fixture("runtimes/linux-x64/native/libe_sqlite3.so", "x86_64/libhello.so").check("dotnet8", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 2);
}

#[test]
fn setuptools_launchers_are_never_loaded() {
    let f = Pkg::new()
        .fixture("setuptools/cli-64.exe", "pe/hello.exe")
        .fixture("setuptools/gui-arm64.exe", "pe/hello.exe")
        .fixture("pip/_vendor/distlib/t64.exe", "pe/hello.exe")
        .check("python3.12", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 3);
    // A Windows binary elsewhere is still an error.
    let f = Pkg::new().fixture("mypkg/cli-64.exe", "pe/hello.exe").check("python3.12", X86);
    assert_eq!(codes(&f), vec!["pe-binary"]);
}

#[test]
fn selenium_manager_per_os() {
    let common = "selenium/webdriver/common";
    let pkg = Pkg::new()
        .file(&format!("{common}/macos/selenium-manager"), fixture("macho/libhello-fat.dylib"), 0o755)
        .file(&format!("{common}/windows/selenium-manager.exe"), fixture("pe/hello.exe"), 0o755);
    let f = pkg.check("python3.12", X86);
    assert!(errors(&f).iter().any(|(c, _)| *c == "missing-platform-variant"), "{f:#?}");
    let f = pkg
        .file(&format!("{common}/linux/selenium-manager"), fixture("x86_64/hello-static"), 0o755)
        .check("python3.12", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(at(&f, Severity::Info).len(), 2);
}

#[test]
fn natives_inside_jars() {
    let jar = Pkg::new()
        .fixture("org/sqlite/native/Mac/aarch64/libsqlitejdbc.dylib", "macho/libhello-arm64.dylib")
        .fixture("org/sqlite/native/Windows/x86_64/sqlitejdbc.dll", "pe/hello.dll")
        .fixture("org/sqlite/native/Linux/x86_64/libsqlitejdbc.so", "x86_64/libhello.so")
        .zip_bytes();
    let f = Pkg::new().file("java/lib/sqlite-jdbc.jar", jar, 0o644).check("java21", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert_eq!(
        at(&f, Severity::Info),
        vec![
            pair(
                "unused-platform-binary",
                "java/lib/sqlite-jdbc.jar!/org/sqlite/native/Mac/aarch64/libsqlitejdbc.dylib"
            ),
            pair("unused-platform-binary", "java/lib/sqlite-jdbc.jar!/org/sqlite/native/Windows/x86_64/sqlitejdbc.dll"),
        ]
    );
}

#[test]
fn jar_with_natives_for_other_platforms_only_is_information() {
    // The library extracts a native only for the platform it runs on; with none for Linux it
    // falls back or fails at that point, which elfcheck cannot know: never an error here.
    let jar = Pkg::new().fixture("native/osx/libfoo.dylib", "macho/libhello-fat.dylib").zip_bytes();
    let f = Pkg::new().file("java/lib/foo.jar", jar, 0o644).check("java17", X86);
    assert!(errors(&f).is_empty(), "{f:#?}");
    let info = find(&f, "unused-platform-binary");
    assert!(
        info.message.contains("extracted by `java/lib/foo.jar` only on the platform it is for"),
        "{}",
        info.message
    );
}

// --- nested archives --------------------------------------------------------------------------

#[test]
fn requirements_zip_is_scanned_with_outer_inner_paths() {
    let inner = Pkg::new()
        .fixture("fastjson/_speedups.cpython-311-darwin.so", "macho/pyext-arm64.so")
        .file("fastjson-2.1.0.dist-info/RECORD", "fastjson/_speedups.cpython-311-darwin.so,,\n", 0o644)
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
        .zip_bytes();
    let f = Pkg::new().file(".requirements.zip", inner, 0o644).file("handler.py", "x", 0o644).check("python3.11", X86);
    let m = find(&f, "macho-binary");
    assert_eq!(m.path, ".requirements.zip!/fastjson/_speedups.cpython-311-darwin.so");
    assert_eq!(m.package.as_deref(), Some("fastjson 2.1.0"));
    assert_eq!(m.runtime_error.as_deref(), Some("No module named 'fastjson._speedups'"));
}

#[test]
fn wheel_inside_a_zip_inside_a_zip() {
    let wheel = Pkg::new().fixture("m/_m.abi3.so", "aarch64/pyext.so").zip_bytes();
    let middle = Pkg::new().file("wheels/m-1.0-cp312-abi3-manylinux2014_aarch64.whl", wheel, 0o644).zip_bytes();
    let f = Pkg::new().file("vendor.zip", middle, 0o644).check("python3.12", X86);
    assert_eq!(
        errors(&f),
        vec![pair("arch-mismatch", "vendor.zip!/wheels/m-1.0-cp312-abi3-manylinux2014_aarch64.whl!/m/_m.abi3.so")]
    );
}

#[test]
fn nesting_too_deep_is_refused() {
    let mut bytes = Pkg::new().fixture("x.so", "aarch64/libhello.so").zip_bytes();
    for _ in 0..4 {
        bytes = Pkg::new().file("inner.zip", bytes, 0o644).zip_bytes();
    }
    let f = Pkg::new().file("outer.zip", bytes, 0o644).check("python3.12", X86);
    assert_eq!(codes(&f), vec!["nested-archive-refused"]);
    assert!(f[0].message.contains("nested deeper than 3"), "{}", f[0].message);
}

#[test]
fn zip_bomb_is_refused() {
    // 32 MiB of zeros deflates to about 32 KiB: a ratio of 1000, over the limit of 100.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(false);
    w.start_file("zeros.bin", opts).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..32 {
        std::io::Write::write_all(&mut w, &block).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    let f = Pkg::new().file("bomb.zip", bomb, 0o644).check("python3.12", X86);
    assert_eq!(codes(&f), vec!["nested-archive-refused"]);
    assert!(f[0].message.contains("zip bomb"), "{}", f[0].message);
}

// --- packaging limits -------------------------------------------------------------------------

#[test]
fn unzipped_size_over_the_limit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = Pkg::new().file("handler.py", "x", 0o644).write_dir(dir.path(), "fn");
    // A sparse file: its size counts, its bytes are never read past the first few.
    let big = std::fs::File::create(root.join("model.bin")).unwrap();
    big.set_len(262_144_001).unwrap();
    let f = common::check_path(&root, Some("python3.12"), X86);
    assert_eq!(errors(&f), vec![pair("package-too-large", "")]);
    big.set_len(262_144_000 - 10).unwrap();
    assert!(common::check_path(&root, Some("python3.12"), X86).is_empty());
    // Under the limit alone, over it with a layer: the limit is for the function and its layers.
    let layer = Pkg::new().file("python/x.py", "x".repeat(100), 0o644).write_zip(dir.path(), "layer.zip");
    let options = elfcheck::Options {
        target: elfcheck::target::resolve::Requested {
            runtime: Some("python3.12".into()),
            arch: Some(X86),
            from_templates: false,
        },
        layers: vec![layer],
        ..Default::default()
    };
    let f = elfcheck::check(&[root], &options).unwrap().findings;
    assert_eq!(errors(&f), vec![pair("package-too-large", "")]);
    assert!(f[0].message.starts_with("unzips with its 1 layer to "), "{}", f[0].message);
}

#[test]
fn zipped_size_over_50_mb_is_a_warning() {
    use elfcheck::package::{InputKind, Package};
    use elfcheck::paths::EntryPath;
    use elfcheck::source::{Content, Contents, Entry, EntryKind};
    let entry = Entry {
        path: EntryPath::top("a.bin"),
        kind: EntryKind::File,
        mode: Some(0o644),
        size: 1,
        content: Content::Other,
    };
    let target = elfcheck::Target::new(Some("python3.12"), X86).unwrap();
    let contents = |zipped| Contents { entries: vec![entry.clone()], zipped_size: Some(zipped) };
    let big = Package::build(contents(52_428_801), InputKind::Zip, vec![]);
    let f = elfcheck::check_package(&big, &target, "p.zip");
    assert_eq!(at(&f, Severity::Warning), vec![pair("package-too-large", "")]);
    let small = Package::build(contents(52_428_800), InputKind::Zip, vec![]);
    assert!(elfcheck::check_package(&small, &target, "p.zip").is_empty());
}

// --- duplicate entries ------------------------------------------------------------------------

#[test]
fn every_copy_of_a_repeated_entry_name_is_judged() {
    let pkg = Pkg::new().fixture("lib/a.so", "macho/libhello-arm64.dylib").fixture("lib/b.so", "x86_64/libhello.so");
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("dup.zip");
    std::fs::write(&zip, pkg.zip_with_repeated_name("lib/a.so", "lib/b.so")).unwrap();
    let f = common::check_path(&zip, Some("python3.12"), X86);
    assert_eq!(
        errors(&f),
        vec![pair("duplicate-entry", "lib/a.so"), pair("macho-binary", "lib/a.so (copy 1 of 2)")],
        "the first copy (the Mach-O one) is judged too: {f:#?}"
    );
    assert!(find(&f, "duplicate-entry").message.contains("2 entries named `lib/a.so`"));
}
