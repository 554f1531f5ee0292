//! Writes the fixed package: untouched entries copied as they are (a zip entry raw, with its
//! compressed bytes, permissions and timestamp), replaced distributions removed as a whole, new
//! files added. The caller writes into a temporary path and renames it into place.
//! Nothing is read or written through a symbolic link.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;
use zip::write::SimpleFileOptions;
use zip::{DateTime, ZipArchive, ZipWriter};

use crate::error::Error;
use crate::safe_fs::{Opened, Tree};

#[derive(Debug, Default)]
pub struct Changes {
    /// Files to drop, by package path.
    pub remove_files: BTreeSet<String>,
    /// Directories to drop with everything under them.
    pub remove_dirs: BTreeSet<String>,
    /// New files: package path -> file on disk.
    pub add: BTreeMap<String, PathBuf>,
}

/// What a rewrite did, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub kept: usize,
    pub removed: usize,
    pub added: usize,
}

impl Changes {
    /// Whether an input entry at `path` is left out of the output.
    pub fn drops(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        self.remove_files.contains(path)
            || self.add.contains_key(path)
            || self
                .remove_dirs
                .iter()
                .any(|d| path == d || path.strip_prefix(d.as_str()).is_some_and(|r| r.starts_with('/')))
    }

    /// Adds every file under `src` at `prefix/...` in the package.
    pub fn add_tree(&mut self, src: &Path, prefix: &str) -> Result<usize, Error> {
        let mut n = 0;
        for item in WalkDir::new(src).follow_links(false).sort_by_file_name() {
            let item = item.map_err(|e| Error::Fix(format!("reading the build output: {e}")))?;
            if !item.file_type().is_file() {
                continue;
            }
            let rel = item.path().strip_prefix(src).unwrap_or(item.path()).to_string_lossy().replace('\\', "/");
            let path = if prefix.is_empty() { rel } else { format!("{prefix}/{rel}") };
            self.add.insert(path, item.path().to_path_buf());
            n += 1;
        }
        Ok(n)
    }
}

impl Changes {
    /// Adds what pip installed into `site`: the files every new `*.dist-info/RECORD` lists (and
    /// nothing else pip may leave there), at `prefix/...` in the package.
    pub fn add_installed(&mut self, site: &Path, prefix: &str) -> Result<usize, Error> {
        let mut n = 0;
        let entries = std::fs::read_dir(site).map_err(|e| Error::io(site, e))?;
        let mut records: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("RECORD"))
            .filter(|r| r.parent().is_some_and(|d| d.extension().is_some_and(|x| x == "dist-info")) && r.is_file())
            .collect();
        records.sort();
        if records.is_empty() {
            return Err(Error::Fix(format!("the build left no `.dist-info/RECORD` in {}", site.display())));
        }
        for record in records {
            let text = std::fs::read_to_string(&record).map_err(|e| Error::io(&record, e))?;
            for line in text.lines() {
                let Some(rel) = crate::attribution::record_path(line).and_then(|p| crate::paths::normalize(&p)) else {
                    continue;
                };
                let disk = site.join(&rel);
                // Regular files only: a link in the build output is not followed out of it.
                if rel.is_empty() || !std::fs::symlink_metadata(&disk).is_ok_and(|m| m.is_file()) {
                    continue;
                }
                let path = if prefix.is_empty() { rel } else { format!("{prefix}/{rel}") };
                self.add.insert(path, disk);
                n += 1;
            }
        }
        Ok(n)
    }
}

/// World-readable, and executable where the built file was.
fn output_mode(disk: &Path) -> Result<u32, Error> {
    let mode = std::fs::symlink_metadata(disk).map_err(|e| Error::io(disk, e))?.permissions().mode() & 0o777;
    Ok(mode | 0o444 | if mode & 0o111 != 0 { 0o111 } else { 0 })
}

/// Rewrites a zip into `out` (an open, empty temporary file).
pub fn write_zip(input: &Path, changes: &Changes, out: &File) -> Result<Counts, Error> {
    let src = File::open(input).map_err(|e| Error::io(input, e))?;
    let mut archive = ZipArchive::new(std::io::BufReader::new(src))
        .map_err(|e| Error::Input { path: input.to_path_buf(), cause: format!("not a readable zip archive: {e}") })?;
    // The zip crate keeps one entry per name: copying would silently drop the others.
    if archive.has_duplicate_names() {
        return Err(Error::Fix(format!(
            "{} holds several entries under one name; rebuild it so that each path is stored once, then run fix again",
            input.display()
        )));
    }
    let mut writer = ZipWriter::new(BufWriter::new(out));
    let mut counts = Counts::default();
    let fail = |e: zip::result::ZipError| Error::Fix(format!("writing the new zip: {e}"));
    for i in 0..archive.len() {
        let entry =
            archive.by_index_raw(i).map_err(|e| Error::Input { path: input.to_path_buf(), cause: e.to_string() })?;
        // The name as the reader decodes it (UTF-8, or CP437 when the entry says so).
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        if changes.drops(&name) {
            counts.removed += 1;
            continue;
        }
        writer.raw_copy_file(entry).map_err(fail)?;
        counts.kept += 1;
    }
    for (path, disk) in &changes.add {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(output_mode(disk)?)
            .last_modified_time(DateTime::default())
            .large_file(std::fs::metadata(disk).map(|m| m.len() >= u32::MAX as u64).unwrap_or(false));
        writer.start_file(path.as_str(), options).map_err(fail)?;
        let mut f = open_built(disk)?;
        std::io::copy(&mut f, &mut writer).map_err(|e| Error::Fix(format!("writing the new zip: {e}")))?;
        counts.added += 1;
    }
    let mut inner = writer.finish().map_err(fail)?;
    inner.flush().map_err(|e| Error::Fix(format!("writing the new zip: {e}")))?;
    inner.get_ref().sync_all().map_err(|e| Error::Fix(format!("writing the new zip: {e}")))?;
    Ok(counts)
}

/// Rewrites a directory into `out` (an empty temporary directory), keeping modes and links.
///
/// Every file is read from the input through its root's handle and written below `out`'s,
/// following no link on either side (see [`crate::safe_fs`]): the package's own links are copied
/// as links, and a rebuilt file whose path crosses one is an error, never a write through it.
pub(super) fn write_dir(input: &Path, changes: &Changes, out: &Tree) -> Result<Counts, Error> {
    let mut counts = Counts::default();
    let source = Tree::open(input).map_err(|e| Error::io(input, e))?;
    // Directory modes are set last: one without write permission would refuse its own files.
    let mut dir_modes: Vec<(PathBuf, u32)> = Vec::new();
    let root_mode = std::fs::metadata(input).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o755);
    dir_modes.push((PathBuf::new(), root_mode));
    for item in WalkDir::new(input).follow_links(false).min_depth(1).sort_by_file_name() {
        let item = item.map_err(|e| Error::Input { path: input.to_path_buf(), cause: e.to_string() })?;
        let rel = item.path().strip_prefix(input).unwrap_or(item.path());
        let path = rel.to_string_lossy().replace('\\', "/");
        if changes.drops(&path) {
            counts.removed += usize::from(!item.file_type().is_dir());
            continue;
        }
        let ft = item.file_type();
        let io = |e: std::io::Error| Error::Fix(format!("writing `{path}` of the new package: {e}"));
        if ft.is_dir() {
            out.create_dirs(rel, 0o700).map_err(io)?;
            let mode = item.metadata().map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o755);
            dir_modes.push((rel.to_path_buf(), mode));
        } else if ft.is_symlink() {
            let target = std::fs::read_link(item.path()).map_err(|e| Error::io(item.path(), e))?;
            out.symlink(rel, &target).map_err(io)?;
            counts.kept += 1;
        } else if ft.is_file() {
            let (mut from, mode) = match source.open_file(rel) {
                Ok(Opened::File { file, mode, .. }) => (file, mode.unwrap_or(0o644)),
                Ok(Opened::NotAFile(what)) => {
                    return Err(Error::Fix(format!("`{path}` of the input became {what} while being copied")));
                }
                Err(e) => return Err(Error::Fix(format!("reading `{path}` of the input: {e}"))),
            };
            let mut to = out.create_file(rel, mode).map_err(io)?;
            std::io::copy(&mut from, &mut to).map_err(io)?;
            counts.kept += 1;
        }
    }
    for (path, disk) in &changes.add {
        let rel = Path::new(path);
        let io = |e: std::io::Error| {
            Error::Fix(format!(
                "cannot write the rebuilt `{path}`: {e} (elfcheck never writes through a link; replace the link with what it points to, then fix again)"
            ))
        };
        let mut from = open_built(disk)?;
        let mut to = out.create_file(rel, output_mode(disk)?).map_err(io)?;
        std::io::copy(&mut from, &mut to).map_err(io)?;
        counts.added += 1;
    }
    for (rel, mode) in dir_modes.iter().rev() {
        out.set_dir_mode(rel, *mode)
            .map_err(|e| Error::Fix(format!("setting the mode of `{}` in the new package: {e}", rel.display())))?;
    }
    Ok(counts)
}

/// Opens a file of the build output, refusing a link (a build must not smuggle host files in).
fn open_built(disk: &Path) -> Result<File, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(disk)
        .map_err(|e| Error::Fix(format!("reading the build output {}: {e}", disk.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_files_dirs_and_replaced_paths() {
        let mut c = Changes::default();
        c.remove_files.insert("a/x.so".into());
        c.remove_dirs.insert("a-1.0.dist-info".into());
        c.add.insert("a/__init__.py".into(), PathBuf::from("/dev/null"));
        assert!(c.drops("a/x.so"));
        assert!(c.drops("a-1.0.dist-info/RECORD"));
        assert!(c.drops("a-1.0.dist-info/"));
        assert!(c.drops("a/__init__.py"));
        assert!(!c.drops("a-1.0.dist-info-other/RECORD"));
        assert!(!c.drops("lambda_function.py"));
    }
}
