//! Builds small packages from the project's fixtures (`testdata/bin`) for the tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use elfcheck::target::resolve::Requested;
use elfcheck::{Arch, Finding, Options, Severity};
use zip::write::SimpleFileOptions;

/// The elfcheck binary, offline: tests never ask a package index unless they say so.
pub fn elfcheck_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_elfcheck"));
    cmd.env("ELFCHECK_OFFLINE", "1");
    cmd
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bin").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

#[derive(Clone)]
enum Item {
    File { path: String, bytes: Vec<u8>, mode: u32 },
    Symlink { path: String, target: String },
    Dir { path: String, mode: u32 },
}

/// A package to write as a zip or a directory.
#[derive(Default, Clone)]
pub struct Pkg {
    items: Vec<Item>,
    /// Write entries without Unix attributes, as zips made on Windows.
    dos: bool,
}

impl Pkg {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>, mode: u32) -> Self {
        self.items.push(Item::File { path: path.into(), bytes: bytes.into(), mode });
        self
    }

    /// A fixture from `testdata/bin` stored at `path` with mode 0644.
    pub fn fixture(self, path: &str, rel: &str) -> Self {
        self.file(path, fixture(rel), 0o644)
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink { path: path.into(), target: target.into() });
        self
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        self.items.push(Item::Dir { path: path.into(), mode });
        self
    }

    pub fn dos(mut self) -> Self {
        self.dos = true;
        self
    }

    pub fn zip_bytes(&self) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for item in &self.items {
            let opts = |mode: u32| {
                let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
                if self.dos { o.system(zip::System::Dos) } else { o.unix_permissions(mode) }
            };
            match item {
                Item::File { path, bytes, mode } => {
                    w.start_file(path.as_str(), opts(*mode)).unwrap();
                    w.write_all(bytes).unwrap();
                }
                Item::Symlink { path, target } => {
                    w.add_symlink(path.as_str(), target.as_str(), opts(0o777)).unwrap();
                }
                Item::Dir { path, mode } => {
                    w.add_directory(path.as_str(), opts(*mode)).unwrap();
                }
            }
        }
        w.finish().unwrap().into_inner()
    }

    /// The zip with entry `second` renamed to `first` (same length) in both of its headers: two
    /// entries under one name, which no writer produces on purpose.
    pub fn zip_with_repeated_name(&self, first: &str, second: &str) -> Vec<u8> {
        assert_eq!(first.len(), second.len());
        let mut bytes = self.zip_bytes();
        let (from, to) = (second.as_bytes(), first.as_bytes());
        for i in 0..bytes.len().saturating_sub(from.len() - 1) {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
            }
        }
        bytes
    }

    pub fn write_zip(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.zip_bytes()).unwrap();
        path
    }

    pub fn write_dir(&self, dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let root = dir.join(name);
        std::fs::create_dir_all(&root).unwrap();
        for item in &self.items {
            match item {
                Item::File { path, bytes, mode } => {
                    let p = root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, bytes).unwrap();
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
                }
                Item::Symlink { path, target } => {
                    let p = root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::os::unix::fs::symlink(target, &p).unwrap();
                }
                Item::Dir { path, mode } => {
                    let p = root.join(path);
                    std::fs::create_dir_all(&p).unwrap();
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
                }
            }
        }
        root
    }

    /// Checks the package as a zip against `runtime` on `arch`.
    pub fn check(&self, runtime: &str, arch: Arch) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        let zip = self.write_zip(dir.path(), "package.zip");
        check_path(&zip, Some(runtime), arch)
    }
}

impl Pkg {
    /// The whole report of the package as a zip against `runtime` on `arch` (offline).
    pub fn report(&self, runtime: &str, arch: Arch) -> elfcheck::Report {
        let dir = tempfile::tempdir().unwrap();
        let zip = self.write_zip(dir.path(), "package.zip");
        let target = Requested { runtime: Some(runtime.to_string()), arch: Some(arch), from_templates: false };
        elfcheck::check(&[zip], &Options { target, ..Options::default() }).expect("check succeeds")
    }
}

/// The fix command of the package named `name` in a report, as one line.
pub fn package_fix_command(report: &elfcheck::Report, name: &str) -> String {
    let p = report.inputs[0].packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"));
    p.fix.as_ref().map(|f| f.command.join(" ")).unwrap_or_default()
}

pub fn check_path(path: &Path, runtime: Option<&str>, arch: Arch) -> Vec<Finding> {
    let target = Requested { runtime: runtime.map(str::to_string), arch: Some(arch), from_templates: false };
    let options = Options { target, ..Options::default() };
    elfcheck::check(&[path.to_path_buf()], &options).expect("check succeeds").findings
}

/// `(code, path)` of every finding at `severity`.
pub fn at(findings: &[Finding], severity: Severity) -> Vec<(&'static str, String)> {
    findings.iter().filter(|f| f.severity == severity).map(|f| (f.code.as_str(), f.path.clone())).collect()
}

pub fn errors(findings: &[Finding]) -> Vec<(&'static str, String)> {
    at(findings, Severity::Error)
}

pub fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

pub fn find<'a>(findings: &'a [Finding], code: &str) -> &'a Finding {
    findings.iter().find(|f| f.code.as_str() == code).unwrap_or_else(|| panic!("no {code} finding in {findings:#?}"))
}
