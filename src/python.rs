//! How CPython finds extension modules: the file-name suffixes an interpreter imports, and the
//! module a file would be imported as.
//!
//! CPython 3.x on glibc Linux imports `NAME.cpython-3XY-<cpu>-linux-gnu.so`, `NAME.abi3.so` and
//! `NAME.so`, nothing else: any other tag (another version, `-darwin`, `-linux-musl`, `.pyd`)
//! is skipped in silence and the import fails with `No module named ...`.

use crate::target::Arch;

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

/// Whether CPython `version` on glibc Linux `arch` imports a file with this tag.
pub fn imports(tag: &ExtTag, version: (u32, u32), arch: Arch) -> bool {
    match tag {
        ExtTag::Plain => true,
        ExtTag::Abi3 => version.0 == 3,
        ExtTag::CPython { major, minor, flags, platform } => {
            (*major, *minor) == version && flags.is_empty() && platform == arch.python_triplet()
        }
        ExtTag::Pyd(_) | ExtTag::Other(_) => false,
    }
}

/// The dotted module name a file would be imported as: `editdistance.bycython`.
pub fn module_name(path: &str, stem: &str) -> String {
    let inner = path.rsplit("!/").next().unwrap_or(path); // inside a nested archive
    let dir = crate::package::parent(inner);
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
        let (_, t) = parse_extension_name("m.cpython-313t-x86_64-linux-gnu.so").unwrap();
        assert!(!imports(&t, (3, 13), Arch::X86_64), "free-threaded build is not imported by the default interpreter");
    }

    #[test]
    fn import_rules() {
        let tag = |f: &str| parse_extension_name(f).unwrap().1;
        assert!(imports(&tag("a.cpython-312-x86_64-linux-gnu.so"), (3, 12), Arch::X86_64));
        assert!(!imports(&tag("a.cpython-311-x86_64-linux-gnu.so"), (3, 12), Arch::X86_64));
        assert!(!imports(&tag("a.cpython-312-aarch64-linux-gnu.so"), (3, 12), Arch::X86_64));
        assert!(!imports(&tag("a.cpython-312-x86_64-linux-musl.so"), (3, 12), Arch::X86_64));
        assert!(imports(&tag("a.abi3.so"), (3, 9), Arch::Arm64));
        assert!(imports(&tag("a.so"), (3, 9), Arch::Arm64));
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("editdistance/bycython.cpython-311-darwin.so", "bycython"), "editdistance.bycython");
        assert_eq!(module_name("python/lib/python3.12/site-packages/yaml/_yaml.so", "_yaml"), "yaml._yaml");
        assert_eq!(module_name("ujson.cpython-312-x86_64-linux-musl.so", "ujson"), "ujson");
        assert_eq!(layer_python_version("python/lib/python3.12/site-packages/a"), Some((3, 12)));
    }
}
