//! Symbol versions: the loader refuses an object when the library it found for a need lacks a
//! version the object needs from it (``version `GLIBC_2.28' not found``).
//!
//! Each version need names its library (`libc.so.6`, `libstdc++.so.6`); what that library is
//! comes from the closure the object was loaded in: a runtime library is judged by the newest
//! version its set defines per namespace (`GLIBC`, `GLIBCXX`, `CXXABI`, `GCC`, `ZLIB`, `OPENSSL`,
//! where known), a library of the package by the versions it defines itself (DT_VERDEF). A need
//! flagged weak (`VER_FLG_WEAK`) only warns, `GLIBC_PRIVATE` is never checked, and
//! `GLIBC_ABI_DT_RELR` stands for the glibc that introduced it.

use std::collections::BTreeMap;

use super::elf::{Found, Loads};
use super::fs::{FileRef, Fs};
use crate::binary::{ElfInfo, Object};
use crate::target::{Target, table};
use crate::version::{Version, split_symbol_version};

/// How badly a need is unmet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Met by the runtime today, but not by the one its OS release launched with: a function
    /// pinned to an older runtime version fails.
    NewerThanRelease,
    /// Not met: the loader refuses the object.
    Unmet,
}

/// Who provides the library a need is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// A runtime library; `have` is the newest version of the namespace it defines today,
    /// `at_release` at launch when older.
    Runtime { dir: String, have: Version, at_release: Option<Version> },
    /// A library of the package or a layer, which defines `have` as its newest of the namespace.
    Bundled { file: FileRef, path: String, have: Option<Version> },
}

/// One version need of one object that the library the loader finds does not meet.
#[derive(Debug, Clone)]
pub struct VersionProblem {
    pub file: FileRef,
    /// The library the need names.
    pub library: String,
    /// The version as the file names it (`GLIBC_2.28`).
    pub version: String,
    pub namespace: String,
    pub number: Version,
    pub symbols: Vec<String>,
    /// How many symbols need the version in all (`symbols` are examples).
    pub symbols_total: usize,
    pub provider: Provider,
    pub verdict: Verdict,
}

/// Every unmet need of the package's own objects, over every closure; one per (object, library,
/// version), the worst verdict kept.
pub fn judge(fs: &Fs, target: &Target, loads: &Loads) -> Vec<VersionProblem> {
    let mut out: BTreeMap<(FileRef, String, String), VersionProblem> = BTreeMap::new();
    for closure in &loads.closures {
        for (i, m) in closure.mapped.iter().enumerate() {
            if !m.file.in_input() {
                continue;
            }
            let Some(Object::Elf(elf)) = fs.object(m.file) else { continue };
            if elf.is_musl() || is_glibc_loader(elf, &fs.entry(m.file).path) {
                continue;
            }
            for need in elf.version_needs.iter().filter(|n| !n.weak) {
                let Some((namespace, number)) = version_of(&need.version) else { continue };
                let library = match closure.need(i, &need.library) {
                    Some(Found::Runtime { set, .. }) => Library::Runtime(set),
                    Some(Found::Mapped(j)) => Library::Bundled(closure.mapped[*j].file),
                    Some(Found::Missing { .. }) => continue, // missing-library says it
                    None => Library::Unknown,
                };
                let Some((provider, verdict)) = check(fs, target, library, &need.version, &namespace, &number) else {
                    continue;
                };
                let problem = VersionProblem {
                    file: m.file,
                    library: need.library.clone(),
                    version: need.version.clone(),
                    namespace,
                    number,
                    symbols: need.symbols.clone(),
                    symbols_total: need.symbols_total,
                    provider,
                    verdict,
                };
                let key = (m.file, need.library.clone(), need.version.clone());
                match out.get(&key) {
                    Some(old) if old.verdict >= problem.verdict => {}
                    _ => {
                        out.insert(key, problem);
                    }
                }
            }
        }
    }
    out.into_values().collect()
}

/// The namespace and number a version name stands for; `None` for those never checked.
pub fn version_of(name: &str) -> Option<(String, Version)> {
    if name == "GLIBC_ABI_DT_RELR" {
        return Some(("GLIBC".to_string(), table().lambda.glibc_abi_dt_relr.clone()));
    }
    let (ns, v) = split_symbol_version(name)?;
    Some((ns.to_string(), v))
}

/// What a need's library turned out to be in one closure.
enum Library<'a> {
    Runtime(&'a crate::target::LibrarySet),
    Bundled(FileRef),
    /// Not among the object's needs (it reaches the object through another library): the
    /// runtime's base set answers for it.
    Unknown,
}

/// Judges one need against the library the loader found for it.
fn check(
    fs: &Fs,
    target: &Target,
    library: Library,
    version: &str,
    namespace: &str,
    number: &Version,
) -> Option<(Provider, Verdict)> {
    let set = match library {
        Library::Runtime(set) => set,
        Library::Unknown => target.os().base(),
        Library::Bundled(file) => {
            let Some(Object::Elf(lib)) = fs.object(file) else { return None };
            if lib.version_defs.is_empty() || lib.version_defs.iter().any(|d| d == version) {
                return None; // no versioning at all: glibc does not check (it was linked elsewhere)
            }
            let have = lib
                .version_defs
                .iter()
                .filter_map(|d| version_of(d))
                .filter(|(ns, _)| ns == namespace)
                .map(|(_, v)| v)
                .max();
            let provider = Provider::Bundled { file, path: fs.display(file), have };
            return Some((provider, Verdict::Unmet));
        }
    };
    let have = set.versions.get(namespace)?;
    let at_release = set.versions_at_release.get(namespace).filter(|r| *r < have);
    let provider = Provider::Runtime { dir: set.dir.clone(), have: have.clone(), at_release: at_release.cloned() };
    if number > have {
        Some((provider, Verdict::Unmet))
    } else if at_release.is_some_and(|r| number > r) {
        Some((provider, Verdict::NewerThanRelease))
    } else {
        None
    }
}

/// A vendored copy of the glibc loader is not judged by the loader's own needs.
fn is_glibc_loader(elf: &ElfInfo, path: &str) -> bool {
    crate::paths::file_name(path).starts_with("ld-linux")
        || elf.soname.as_deref().is_some_and(|s| s.starts_with("ld-linux"))
}
