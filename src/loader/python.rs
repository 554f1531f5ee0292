//! How CPython finds extension modules: the file-name suffixes an interpreter imports, which
//! file wins when several could be a module, and the module a file would be imported as.
//!
//! CPython 3.x on glibc Linux imports `NAME.cpython-3XY-<cpu>-linux-gnu.so`, `NAME.abi3.so` and
//! `NAME.so` (its `EXTENSION_SUFFIXES`, in that order), then `NAME.py` and `NAME.pyc`; a package
//! directory `NAME/__init__.*` comes before all of them. Any other tag (another version,
//! `-darwin`, `-linux-musl`, `.pyd`) is skipped in silence: the import takes the next candidate,
//! or fails with `No module named ...` when there is none.

use std::collections::{BTreeMap, HashSet};

use super::Placement;
use crate::binary::Object;
use crate::package::{Layout, Package};
use crate::paths::{file_name, parent};
use crate::source::{Content, EntryKind};
use crate::target::{Arch, Target, table};

/// The tag in an extension module's file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtTag {
    /// `NAME.so`
    Plain,
    /// `NAME.abi3.so`: the stable ABI, imported by every CPython 3.x.
    Abi3,
    /// `NAME.cpython-312-x86_64-linux-gnu.so` (flags such as `t` or `d` follow the version).
    CPython { major: u32, minor: u32, flags: String, platform: String },
    /// `NAME.pyd` or `NAME.cp312-win_amd64.pyd`: a Windows extension.
    Pyd(String),
    /// Any other tag (`pypy310-pp73-x86_64-linux-gnu`, ...).
    Other(String),
}

impl ExtTag {
    pub fn display(&self) -> String {
        match self {
            ExtTag::Plain => "untagged .so".into(),
            ExtTag::Abi3 => "abi3".into(),
            ExtTag::CPython { major, minor, flags, platform } => {
                let platform = if platform.is_empty() { String::new() } else { format!("-{platform}") };
                format!("cpython-{major}{minor}{flags}{platform}")
            }
            ExtTag::Pyd(t) if t.is_empty() => ".pyd".into(),
            ExtTag::Pyd(t) => format!("{t}.pyd"),
            ExtTag::Other(t) => t.clone(),
        }
    }
}

/// Splits `bycython.cpython-311-darwin.so` into (`bycython`, its tag). `None` for names that no
/// interpreter would import as a module (`libfoo.so.1`, `libfoo.so`, `a.b.so`).
pub fn parse_extension_name(file: &str) -> Option<(&str, ExtTag)> {
    if let Some(stem) = file.strip_suffix(".pyd") {
        return Some(match stem.split_once('.') {
            Some((name, tag)) => (name, ExtTag::Pyd(tag.to_string())),
            None => (stem, ExtTag::Pyd(String::new())),
        });
    }
    let stem = file.strip_suffix(".so")?;
    let Some((name, tag)) = stem.split_once('.') else {
        // `libfoo.so` is a library by convention; a module would not start with `lib` as often,
        // but Python does import it, so only the name decides.
        return (!stem.is_empty()).then_some((stem, ExtTag::Plain));
    };
    if tag == "abi3" {
        return Some((name, ExtTag::Abi3));
    }
    if let Some(rest) = tag.strip_prefix("cpython-") {
        let (ver, platform) = rest.split_once('-').unwrap_or((rest, ""));
        let digits: String = ver.chars().take_while(char::is_ascii_digit).collect();
        let flags = ver[digits.len()..].to_string();
        if digits.len() >= 2 {
            let major = digits[..1].parse().ok()?;
            let minor = digits[1..].parse().ok()?;
            return Some((name, ExtTag::CPython { major, minor, flags, platform: platform.to_string() }));
        }
    }
    if tag.starts_with("pypy") || tag.starts_with("cp") || tag.contains("linux") || tag.contains("darwin") {
        return Some((name, ExtTag::Other(tag.to_string())));
    }
    None
}

/// The suffix the target interpreter expects for a version-specific extension.
pub fn expected_tag(version: (u32, u32), arch: Arch) -> String {
    format!("cpython-{}{}-{}", version.0, version.1, arch.python_triplet())
}

/// The extension-module suffixes CPython `version` imports on `arch`, in the order it tries them.
pub fn extension_suffixes(version: (u32, u32), arch: Arch) -> Vec<String> {
    table()
        .python
        .extension_suffixes
        .iter()
        .map(|s| s.replace("{XY}", &format!("{}{}", version.0, version.1)).replace("{triplet}", arch.python_triplet()))
        .collect()
}

/// Whether CPython `version` on glibc Linux `arch` imports the file named `file` as a module.
pub fn accepts(file: &str, version: (u32, u32), arch: Arch) -> bool {
    let suffix = module_suffix(file).1;
    extension_suffixes(version, arch).iter().any(|s| s == suffix)
}

/// Splits a file name where the import system does: the module name before the first dot.
fn module_suffix(file: &str) -> (&str, &str) {
    match file.find('.') {
        Some(i) => file.split_at(i),
        None => (file, ""),
    }
}

/// The dotted module name a file would be imported as: `editdistance.bycython`.
pub fn module_name(path: &str, stem: &str) -> String {
    let inner = path.rsplit(crate::paths::NESTED).next().unwrap_or(path); // inside a nested archive
    let dir = parent(inner);
    let dir = import_relative(dir);
    if dir.is_empty() { stem.to_string() } else { format!("{}.{stem}", dir.replace('/', ".")) }
}

/// A package directory relative to the `sys.path` entry it sits under.
fn import_relative(dir: &str) -> &str {
    if let Some((_, rest)) = dir.rsplit_once("site-packages/") {
        return rest;
    }
    if dir.ends_with("site-packages") {
        return "";
    }
    if let Some(rest) = dir.strip_prefix("python/") {
        return rest;
    }
    if dir == "python" {
        return "";
    }
    dir
}

/// `python/lib/python3.11/site-packages/...` in a layer: the version the directory is for.
pub fn layer_python_version(path: &str) -> Option<(u32, u32)> {
    let rest = path.strip_prefix("python/lib/python")?;
    let (ver, _) = rest.split_once('/')?;
    let (major, minor) = ver.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// What the interpreter imports from a package: the extension modules it loads (roots for the
/// dynamic loader) and the extension files it passes over, with why.
#[derive(Debug, Default)]
pub struct Imports {
    /// Entry indices of the extension modules the interpreter imports.
    pub roots: HashSet<usize>,
    pub placements: Vec<(String, Placement)>,
}

/// A file that may be a module: where it stands in the import order (`None`: a suffix the
/// interpreter skips), its name, its entry index.
type Candidate<'a> = (Option<Rank>, &'a str, usize);

/// Where each candidate of a module stands in the import system's order; lower wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Package,
    Extension(usize),
    Source,
    Bytecode,
}

/// The import system's view of `pkg` for the target's interpreter (any CPython 3 when the
/// version is unknown: then every version-tagged build for the CPU counts as imported).
pub fn imports(pkg: &Package, target: &Target) -> Imports {
    let version = target.python_version();
    let arch = target.arch;
    let suffixes = version.map(|v| extension_suffixes(v, arch));
    let rank = |file: &str| -> Option<Rank> {
        let suffix = module_suffix(file).1;
        match &suffixes {
            Some(list) => list.iter().position(|s| s == suffix).map(Rank::Extension),
            None => match parse_extension_name(file)?.1 {
                ExtTag::CPython { flags, platform, .. } if flags.is_empty() && platform == arch.python_triplet() => {
                    Some(Rank::Extension(0))
                }
                ExtTag::Abi3 => Some(Rank::Extension(1)),
                ExtTag::Plain => Some(Rank::Extension(2)),
                _ => None,
            },
        }
        .or(match suffix {
            ".py" => Some(Rank::Source),
            ".pyc" => Some(Rank::Bytecode),
            _ => None,
        })
    };
    let search_roots = sys_path(pkg, version);
    // (directory, module) -> candidates (rank, file name, entry index), extension-like files too.
    let mut modules: BTreeMap<(&str, &str), Vec<Candidate>> = BTreeMap::new();
    for (i, e) in pkg.entries.iter().enumerate() {
        if e.kind != EntryKind::File || e.path.is_nested() {
            continue;
        }
        let dir = parent(&e.path);
        if !search_roots.iter().any(|root| importable_from(dir, root)) {
            continue;
        }
        let name = file_name(&e.path);
        let (module, _) = module_suffix(name);
        if !is_identifier(module) {
            continue;
        }
        let r = rank(name);
        if r.is_some() || parse_extension_name(name).is_some() {
            modules.entry((dir, module)).or_default().push((r, name, i));
        }
    }
    let mut out = Imports::default();
    for ((dir, module), candidates) in modules {
        let package_dir = if dir.is_empty() { module.to_string() } else { format!("{dir}/{module}") };
        let is_package = ["__init__.py", "__init__.pyc"]
            .iter()
            .map(|f| format!("{package_dir}/{f}"))
            .chain(suffixes.iter().flatten().map(|s| format!("{package_dir}/__init__{s}")))
            .any(|p| pkg.contains(&p));
        let best = if is_package { Some(Rank::Package) } else { candidates.iter().filter_map(|c| c.0).min() };
        let winner: Option<String> = match best {
            Some(Rank::Package) => Some(format!("{package_dir}/")),
            Some(b) => candidates.iter().find(|c| c.0 == Some(b)).map(|c| c.1.to_string()),
            None => None,
        };
        for (r, name, i) in &candidates {
            let path = pkg.entries[*i].path.to_string();
            if matches!(r, Some(Rank::Source | Rank::Bytecode)) {
                continue;
            }
            if r.is_some() && *r == best {
                if is_extension_module(pkg, *i, name) {
                    out.roots.insert(*i);
                }
                continue;
            }
            let Some(winner) = &winner else { continue }; // nothing imports in its place: it is the module
            let placement = match best {
                Some(Rank::Source | Rank::Bytecode) => Placement::PythonFallback { instead: winner.clone() },
                _ => Placement::NeverLoaded {
                    why: format!("CPython imports `{winner}` for the module `{module}` instead"),
                },
            };
            out.placements.push((path, placement));
        }
    }
    out
}

/// An extension module rather than a library: its name carries an interpreter tag, or it
/// exports `PyInit_<name>`.
fn is_extension_module(pkg: &Package, i: usize, name: &str) -> bool {
    match parse_extension_name(name) {
        Some((_, ExtTag::Plain)) => {
            matches!(&pkg.entries[i].content, Content::Object(Object::Elf(e)) if e.python_init.is_some())
        }
        Some(_) => true,
        None => false,
    }
}

/// The package directories that are `sys.path` entries on the target.
fn sys_path(pkg: &Package, version: Option<(u32, u32)>) -> Vec<String> {
    let facts = &table().python;
    let paths = match pkg.layout {
        Layout::Function => &facts.function_path,
        Layout::Layer => &facts.layer_path,
    };
    let mut out = Vec::new();
    for p in paths {
        match version {
            Some((a, b)) => out.extend(pkg.package_path(&p.replace("{X.Y}", &format!("{a}.{b}")))),
            None if p.contains("{X.Y}") => {
                // Any version's directory that the package has.
                let mut seen: Vec<String> = pkg
                    .entries
                    .iter()
                    .filter_map(|e| layer_python_version(&e.path))
                    .map(|(a, b)| p.replace("{X.Y}", &format!("{a}.{b}")))
                    .filter_map(|abs| pkg.package_path(&abs))
                    .collect();
                seen.sort();
                seen.dedup();
                out.extend(seen);
            }
            None => out.extend(pkg.package_path(p)),
        }
    }
    out
}

/// A module in `dir` can be imported from the `sys.path` entry `root`: `dir` is `root` or lies
/// below it through package names only.
fn importable_from(dir: &str, root: &str) -> bool {
    let rest = if root.is_empty() {
        dir
    } else if dir == root {
        ""
    } else {
        match dir.strip_prefix(root).and_then(|r| r.strip_prefix('/')) {
            Some(r) => r,
            None => return false,
        }
    };
    rest.is_empty() || rest.split('/').all(is_identifier)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags() {
        let (n, t) = parse_extension_name("bycython.cpython-311-darwin.so").unwrap();
        assert_eq!(n, "bycython");
        assert_eq!(t, ExtTag::CPython { major: 3, minor: 11, flags: "".into(), platform: "darwin".into() });
        assert_eq!(parse_extension_name("x.abi3.so").unwrap().1, ExtTag::Abi3);
        assert_eq!(
            parse_extension_name("_regex.cp312-win_amd64.pyd").unwrap().1,
            ExtTag::Pyd("cp312-win_amd64".into())
        );
        assert!(parse_extension_name("libz.so.1").is_none());
        assert!(
            !accepts("m.cpython-313t-x86_64-linux-gnu.so", (3, 13), Arch::X86_64),
            "free-threaded build is not imported by the default interpreter"
        );
    }

    #[test]
    fn import_rules() {
        assert!(accepts("a.cpython-312-x86_64-linux-gnu.so", (3, 12), Arch::X86_64));
        assert!(!accepts("a.cpython-311-x86_64-linux-gnu.so", (3, 12), Arch::X86_64));
        assert!(!accepts("a.cpython-312-aarch64-linux-gnu.so", (3, 12), Arch::X86_64));
        assert!(!accepts("a.cpython-312-x86_64-linux-musl.so", (3, 12), Arch::X86_64));
        assert!(!accepts("a.cpython-312-darwin.so", (3, 12), Arch::X86_64));
        assert!(accepts("a.abi3.so", (3, 9), Arch::Arm64));
        assert!(accepts("a.so", (3, 9), Arch::Arm64));
        assert!(importable_from("a/b", "") && importable_from("python/yaml", "python"));
        assert!(!importable_from("python/lib/python3.11/site-packages", "python"));
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("editdistance/bycython.cpython-311-darwin.so", "bycython"), "editdistance.bycython");
        assert_eq!(module_name("python/lib/python3.12/site-packages/yaml/_yaml.so", "_yaml"), "yaml._yaml");
        assert_eq!(module_name("ujson.cpython-312-x86_64-linux-musl.so", "ujson"), "ujson");
        assert_eq!(layer_python_version("python/lib/python3.12/site-packages/a"), Some((3, 12)));
    }
}
