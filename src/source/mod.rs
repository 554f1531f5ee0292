//! Inputs to entries: a zip (function, layer, wheel), a directory, and the archives nested in them.
//!
//! Every source yields the same [`Entry`] list. Each entry is read once: the first bytes decide
//! whether it is an object file (then it is read whole, classified and dropped, keeping only what
//! the rules need), a package-metadata file that attribution reads (kept as text), a nested
//! archive (scanned in turn), or anything else (never read further).

mod central;
mod dir;
mod entry_read;
mod inspect;
mod zip;

use std::path::Path;

use serde::Serialize;

use crate::binary::Object;
use crate::error::Error;
use crate::paths::EntryPath;

pub use inspect::Limits;

/// One file, directory or link of a package.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the package root, `/`-separated; inside a nested archive `OUTER!/INNER`.
    pub path: EntryPath,
    pub kind: EntryKind,
    /// Unix permission bits (`0o755`); `None` when the zip entry carries no Unix attributes
    /// (zips written on Windows).
    pub mode: Option<u32>,
    /// Uncompressed size in bytes.
    pub size: u64,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink { target: String },
}

/// What reading an entry found.
#[derive(Debug, Clone, Default)]
pub enum Content {
    /// Not an object file, not a file attribution reads, or not a file at all.
    #[default]
    Other,
    Object(Object),
    /// A static archive (`!<arch>`): linked at build time, never loaded at run time.
    StaticArchive,
    /// A metadata file kept as text (`RECORD`, `METADATA`, `WHEEL`, `package.json`, `bootstrap`).
    Text(String),
    /// A nested archive whose entries follow in the list, under `path!/`.
    Archive {
        entries: usize,
    },
    /// A nested archive that was not scanned, and why (too deep, too large, a bomb, corrupt).
    ArchiveRefused(String),
    /// Reading the entry failed (corrupt data, unsupported compression, I/O error).
    Unreadable(String),
}

/// Everything read from one input.
#[derive(Debug)]
pub struct Contents {
    pub entries: Vec<Entry>,
    /// The size of the input zip on disk; `None` for a directory.
    pub zipped_size: Option<u64>,
}

/// Reads a zip file or a directory.
pub fn read(path: &Path, limits: &Limits) -> Result<Contents, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let limits = &limits.for_one_input();
    let mut contents = if meta.is_dir() { dir::read(path, limits)? } else { zip::read_file(path, limits)? };
    contents.entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(contents)
}

/// Reads a zip held in memory, as [`read`] reads one on disk. For the fuzz targets.
#[doc(hidden)]
pub fn read_zip_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Contents, Error> {
    let mut contents = zip::read_bytes(bytes, &limits.for_one_input())?;
    contents.entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(contents)
}

/// Why an entry name must not be resolved on the host: `..` components or an absolute path.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.starts_with('/') || name.starts_with('\\') || name.as_bytes().get(1) == Some(&b':') {
        return Some("absolute path");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Some("`..` component");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        assert_eq!(unsafe_name("../etc/passwd"), Some("`..` component"));
        assert_eq!(unsafe_name("a/../../b"), Some("`..` component"));
        assert_eq!(unsafe_name("/etc/passwd"), Some("absolute path"));
        assert_eq!(unsafe_name("C:\\x"), Some("absolute path"));
        assert_eq!(unsafe_name("a/b..c/d"), None);
    }
}
