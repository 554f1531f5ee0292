//! Paths inside a package: `/`-separated, relative to the package root, never resolved on the
//! host. An entry of an archive nested in the package is an [`EntryPath`] with the archive's path
//! in front (`vendor/lib.jar!/natives/x.so`).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// Separates an archive's path from the path of an entry inside it, in reports and keys.
pub const NESTED: &str = "!/";

/// The path of one entry: where it sits in the package, and for an entry of a nested archive,
/// the archive that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntryPath {
    /// `OUTER!/INNER` as reports show it; the key of every lookup.
    full: String,
    /// Where the innermost path starts in `full` (0 outside nested archives).
    inner_at: usize,
    /// For a name a zip holds several entries under: which one this is, of how many. The last
    /// copy keeps the plain name; the others are told apart by a ` (copy K of N)` suffix.
    copy: Option<(usize, usize)>,
}

impl EntryPath {
    /// A path of the package itself (not inside a nested archive).
    pub fn top(path: impl Into<String>) -> EntryPath {
        EntryPath { full: path.into(), inner_at: 0, copy: None }
    }

    /// `inner` inside the archive at `archive`.
    pub fn nested(archive: &EntryPath, inner: &str) -> EntryPath {
        let full = format!("{}{NESTED}{inner}", archive.full);
        EntryPath { inner_at: full.len() - inner.len(), full, copy: None }
    }

    /// Copy `k` of the `n` entries a zip holds under this name; all but the last get a suffix.
    pub fn copy(mut self, k: usize, n: usize) -> EntryPath {
        if k < n {
            self.full.push_str(&format!(" (copy {k} of {n})"));
        }
        self.copy = Some((k, n));
        self
    }

    /// `(k, n)` when the zip holds `n` entries under this entry's name.
    pub fn copies(&self) -> Option<(usize, usize)> {
        self.copy
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Inside an archive nested in the package: Lambda does not unpack it.
    pub fn is_nested(&self) -> bool {
        self.inner_at > 0
    }

    /// The path inside the innermost archive (the whole path outside nested archives).
    pub fn inner(&self) -> &str {
        &self.full[self.inner_at..]
    }

    /// The archive that holds this entry, as its own path (`None` outside nested archives).
    pub fn archive(&self) -> Option<&str> {
        self.is_nested().then(|| &self.full[..self.inner_at - NESTED.len()])
    }
}

impl Deref for EntryPath {
    type Target = str;
    fn deref(&self) -> &str {
        &self.full
    }
}

impl Borrow<str> for EntryPath {
    fn borrow(&self) -> &str {
        &self.full
    }
}

impl AsRef<str> for EntryPath {
    fn as_ref(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for EntryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl PartialEq<str> for EntryPath {
    fn eq(&self, other: &str) -> bool {
        self.full == other
    }
}

impl PartialEq<&str> for EntryPath {
    fn eq(&self, other: &&str) -> bool {
        self.full == *other
    }
}

/// Directory part of a package path (`""` at the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// Joins a relative path to a directory and resolves `.` and `..`; `None` if it leaves the root.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    normalize(&if dir.is_empty() { rel.to_string() } else { format!("{dir}/{rel}") })
}

/// Resolves `.` and `..` in a relative path; `None` if it climbs above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Where a symlink at `link` pointing to `target` leads, inside the package.
pub fn join_link(link: &str, target: &str) -> Option<String> {
    join(parent(link), target)
}

/// `dir` is `ancestor` or lies below it.
pub fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty() || path == ancestor || path.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside() {
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(join("", "../x"), None);
        assert_eq!(join_link("bootstrap", "bin/app").as_deref(), Some("bin/app"));
        assert_eq!(join_link("bin/bootstrap", "/usr/bin/python3"), None);
        assert!(is_within("a/b/c", "a/b") && !is_within("a/bc", "a/b") && is_within("x", ""));
    }

    #[test]
    fn nested_paths_know_their_parts() {
        let jar = EntryPath::top("lib/a.jar");
        let inner = EntryPath::nested(&jar, "natives/x.so");
        assert_eq!(inner.as_str(), "lib/a.jar!/natives/x.so");
        assert_eq!((inner.inner(), inner.archive()), ("natives/x.so", Some("lib/a.jar")));
        let deeper = EntryPath::nested(&inner, "y.so");
        assert_eq!((deeper.inner(), deeper.archive()), ("y.so", Some("lib/a.jar!/natives/x.so")));
        assert!(!jar.is_nested() && jar.archive().is_none() && jar.inner() == "lib/a.jar");
    }
}
