//! A directory, as `sam build` or a packaging step leaves it before zipping.
//!
//! Symlinks are recorded as links and never followed: the zip that will be built from the tree
//! may store them as links, and following one out of the tree would read host files.

use std::fs::File;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rayon::prelude::*;
use walkdir::WalkDir;

use super::inspect::{Limits, inspect};
use super::{Content, Contents, Entry, EntryKind};
use crate::error::Error;

pub(super) fn read(root: &Path, limits: &Limits) -> Result<Contents, Error> {
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
                unreadable_dirs.push(unreadable(rel, format!("cannot list the directory: {cause}")));
            }
        }
    }
    let mut entries: Vec<Entry> = listed
        .par_iter()
        .flat_map_iter(|item| {
            let rel = item.path().strip_prefix(root).unwrap_or(item.path());
            let path = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
            read_item(item, path, limits)
        })
        .collect();
    entries.extend(unreadable_dirs);
    Ok(Contents { entries, zipped_size: None })
}

fn read_item(item: &walkdir::DirEntry, path: String, limits: &Limits) -> Vec<Entry> {
    let meta = match item.metadata() {
        Ok(m) => m,
        Err(e) => return vec![unreadable(path, e.to_string())],
    };
    #[cfg(unix)]
    let mode = Some(meta.permissions().mode() & 0o7777);
    // Windows keeps no Unix mode: unknown, as in a zip made there.
    #[cfg(not(unix))]
    let mode = None;
    let ft = item.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(item.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
        return vec![Entry { path, kind: EntryKind::Symlink { target }, mode, size: 0, content: Content::Other }];
    }
    if ft.is_dir() {
        return vec![Entry { path, kind: EntryKind::Dir, mode, size: 0, content: Content::Other }];
    }
    if !ft.is_file() {
        return Vec::new(); // sockets, fifos and devices do not survive zipping
    }
    let size = meta.len();
    let (content, nested) = match File::open(item.path()) {
        Ok(mut f) => inspect(&mut f, &path, size, limits, 0),
        Err(e) => (Content::Unreadable(e.to_string()), Vec::new()),
    };
    let mut out = vec![Entry { path, kind: EntryKind::File, mode, size, content }];
    out.extend(nested);
    out
}

fn unreadable(path: String, why: String) -> Entry {
    Entry { path, kind: EntryKind::File, mode: None, size: 0, content: Content::Unreadable(why) }
}
