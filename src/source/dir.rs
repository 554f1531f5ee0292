//! A directory, as `sam build` or a packaging step leaves it before zipping.
//!
//! Symlinks are recorded as links and never followed: the zip that will be built from the tree
//! may store them as links, and following one out of the tree would read host files. Each file is
//! opened once, relative to the root's handle, following no link and without blocking, and what
//! the handle turns out to be decides (see [`crate::safe_fs`]): a file swapped for a FIFO or a
//! link between the listing and the reading is recorded as such, never waited on or followed.

use std::path::Path;

use rayon::prelude::*;
use walkdir::WalkDir;

use super::inspect::{Limits, inspect};
use super::zip::expand;
use super::{Content, Contents, Entry, EntryKind};
use crate::error::Error;
use crate::paths::EntryPath;
use crate::safe_fs::{self, Opened, Tree};

pub(super) fn read(root: &Path, limits: &Limits) -> Result<Contents, Error> {
    let tree = Tree::open(root).map_err(|e| Error::io(root, e))?;
    let mut listed = Vec::new();
    let mut unreadable_dirs = Vec::new();
    for item in WalkDir::new(root).follow_links(false).min_depth(1) {
        match item {
            Ok(item) => listed.push(item),
            // The root itself cannot be listed: nothing to check.
            Err(e) if e.path().is_none_or(|p| p == root) => {
                let cause = e.io_error().map_or_else(|| e.to_string(), |io| io.to_string());
                return Err(Error::Input { path: root.to_path_buf(), cause });
            }
            // A directory inside cannot be listed: a finding about that directory.
            Err(e) => {
                let p = e.path().unwrap_or(root);
                let rel = p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                let cause = e.io_error().map_or_else(|| e.to_string(), |io| io.to_string());
                unreadable_dirs.push(unreadable(EntryPath::top(rel), format!("cannot list the directory: {cause}")));
            }
        }
    }
    let mut entries: Vec<Entry> = listed
        .par_iter()
        .flat_map_iter(|item| {
            let rel = item.path().strip_prefix(root).unwrap_or(item.path());
            let path = EntryPath::top(rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"));
            read_item(&tree, item, rel, path, limits)
        })
        .collect();
    entries.extend(unreadable_dirs);
    Ok(Contents { entries, zipped_size: None })
}

fn read_item(tree: &Tree, item: &walkdir::DirEntry, rel: &Path, path: EntryPath, limits: &Limits) -> Vec<Entry> {
    let ft = item.file_type();
    if ft.is_file() {
        return read_file(tree, rel, path, limits);
    }
    let meta = match item.metadata() {
        Ok(m) => m,
        Err(e) => return vec![unreadable(path, e.to_string())],
    };
    let mode = unix_mode(&meta);
    if ft.is_symlink() {
        let target = std::fs::read_link(item.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
        return vec![Entry { path, kind: EntryKind::Symlink { target }, mode, size: 0, content: Content::Other }];
    }
    if ft.is_dir() {
        return vec![Entry { path, kind: EntryKind::Dir, mode, size: 0, content: Content::Other }];
    }
    Vec::new() // sockets, fifos and devices do not survive zipping
}

/// A file listed as a regular one: opened once, judged by what the handle is, read through it.
fn read_file(tree: &Tree, rel: &Path, path: EntryPath, limits: &Limits) -> Vec<Entry> {
    let (mut file, size, mode) = match tree.open_file(rel) {
        Ok(Opened::File { file, size, mode }) => (file, size, mode),
        Ok(Opened::NotAFile(what)) => return vec![unreadable(path, format!("became {what} while being read"))],
        Err(e) if safe_fs::is_link_error(&e) => {
            return vec![unreadable(path, "became a symbolic link while being read: not followed".into())];
        }
        Err(e) => return vec![unreadable(path, e.to_string())],
    };
    let (content, nested) = expand(inspect(&mut file, &path, size, limits, 0), &path, limits, 0);
    let mut out = vec![Entry { path, kind: EntryKind::File, mode, size, content }];
    out.extend(nested);
    out
}

/// Unix permission bits; other systems keep none.
fn unix_mode(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

fn unreadable(path: EntryPath, why: String) -> Entry {
    Entry { path, kind: EntryKind::File, mode: None, size: 0, content: Content::Unreadable(why) }
}
