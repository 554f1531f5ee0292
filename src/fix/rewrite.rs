//! Writes the fixed package: untouched entries copied as they are (a zip entry raw, with its
//! compressed bytes, permissions and timestamp), replaced distributions removed as a whole, new
//! files added. The caller writes into a temporary path and renames it into place.
//! Nothing is read or written through a symbolic link.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
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
    /// Kept files that get the executable bits (`bootstrap` stored as 0644 becomes 0755).
    pub executable: BTreeSet<String>,
    /// Kept files that become readable by everyone, directories readable and searchable.
    pub readable: BTreeSet<String>,
}

/// What a rewrite did, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub kept: usize,
    /// Kept with another mode.
    pub changed: usize,
    pub removed: usize,
    pub added: usize,
}

impl Changes {
    /// Whether the changes leave the package as it is.
    pub fn is_empty(&self) -> bool {
        self.remove_files.is_empty()
            && self.remove_dirs.is_empty()
            && self.add.is_empty()
            && self.executable.is_empty()
            && self.readable.is_empty()
    }

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
    /// Adds what pip installed into `site` as `dist_info`: the files its RECORD lists (and
    /// nothing else pip may leave there), at `prefix/...` in the package.
    pub fn add_installed(&mut self, site: &Path, dist_info: &str, prefix: &str) -> Result<usize, Error> {
        let record = site.join(dist_info).join("RECORD");
        if !record.is_file() {
            return Err(Error::Fix(format!("the build left no `{dist_info}/RECORD` in {}", site.display())));
        }
        let mut n = 0;
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
        Ok(n)
    }
}

impl Changes {
    /// The new permission bits of a kept entry at `path`, when they change: executable (and
    /// readable) by everyone, or readable by everyone (a directory also searchable). Lambda runs
    /// the function as another user than the files' owner.
    fn new_mode(&self, path: &str, mode: u32, dir: bool) -> Option<u32> {
        let path = path.trim_end_matches('/');
        let mode = mode & 0o7777;
        if self.executable.contains(path) {
            Some(mode | 0o555)
        } else if self.readable.contains(path) {
            Some(mode | if dir { 0o555 } else { 0o444 })
        } else {
            None
        }
    }
}

/// World-readable, and executable where the built file was.
fn output_mode(disk: &Path) -> Result<u32, Error> {
    let mode = std::fs::symlink_metadata(disk).map_err(|e| Error::io(disk, e))?.permissions().mode() & 0o777;
    Ok(mode | 0o444 | if mode & 0o111 != 0 { 0o111 } else { 0 })
}

/// Sets "version made by" to Unix in the central headers of `names`. An entry copied from a zip
/// written on Windows keeps its DOS "made by", under which readers (Lambda's unzip among them)
/// ignore the Unix mode in the external attributes; the zip crate's raw copy keeps it.
fn mark_unix(out: &File, names: &[String]) -> Result<(), Error> {
    use std::os::unix::fs::FileExt;
    let fail = |e: String| Error::Fix(format!("setting the mode in the new zip: {e}"));
    let mut archive = ZipArchive::new(out).map_err(|e| fail(e.to_string()))?;
    for name in names {
        let offset = archive.by_name(name).map_err(|e| fail(e.to_string()))?.central_header_start();
        // The central header: signature (4 bytes), version made by (2: spec version, host system).
        let mut sig = [0u8; 4];
        out.read_exact_at(&mut sig, offset).map_err(|e| fail(e.to_string()))?;
        if sig != [0x50, 0x4b, 0x01, 0x02] {
            return Err(fail(format!("no central header of `{name}` at {offset}")));
        }
        out.write_all_at(&[3], offset + 5).map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}

/// A new file, ready to be written: deflated (a one-entry zip), or (probably) the same as the
/// input entry it replaces.
enum Prepared {
    Compressed(Vec<u8>),
    Same(usize),
}

/// Whether the file `disk` has `size` bytes and the CRC-32 `crc`.
fn same_size_and_crc(disk: &Path, size: u64, crc: u32) -> Result<bool, Error> {
    use std::io::Read;
    let mut f = open_built(disk)?;
    if f.metadata().map(|m| m.len()).ok() != Some(size) {
        return Ok(false);
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n =
            f.read(&mut buf).map_err(|e| Error::Fix(format!("reading the build output {}: {e}", disk.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize() == crc)
}

/// Whether the input entry `index` holds exactly the bytes of the file `disk`.
fn same_bytes<R: std::io::Read + std::io::Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    disk: &Path,
) -> Result<bool, Error> {
    use std::io::Read;
    let Ok(mut entry) = archive.by_index(index) else { return Ok(false) };
    let mut f = open_built(disk)?;
    let (mut a, mut b) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    loop {
        let n = match entry.read(&mut a) {
            Ok(n) => n,
            Err(_) => return Ok(false),
        };
        if n == 0 {
            // The file must end here too.
            return Ok(f.read(&mut b[..1]).map_err(|e| Error::Fix(format!("reading {}: {e}", disk.display())))? == 0);
        }
        if f.read_exact(&mut b[..n]).is_err() || a[..n] != b[..n] {
            return Ok(false);
        }
    }
}

/// New files, in batches of about `BATCH_BYTES` of input each.
fn batches<'a>(added: &'a [(&'a String, &'a PathBuf)]) -> Vec<&'a [(&'a String, &'a PathBuf)]> {
    const BATCH_BYTES: u64 = 64 << 20;
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0u64);
    for (i, (_, disk)) in added.iter().enumerate() {
        size += std::fs::symlink_metadata(disk).map(|m| m.len()).unwrap_or(0);
        if size >= BATCH_BYTES {
            out.push(&added[start..=i]);
            (start, size) = (i + 1, 0);
        }
    }
    if start < added.len() {
        out.push(&added[start..]);
    }
    out
}

/// A one-entry zip holding the file `disk` at `path`, deflated.
fn compress_one(path: &str, disk: &Path) -> Result<Vec<u8>, Error> {
    let fail = |e: zip::result::ZipError| Error::Fix(format!("compressing `{path}`: {e}"));
    let mut f = open_built(disk)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(output_mode(disk)?)
        .last_modified_time(DateTime::default())
        .large_file(len >= u32::MAX as u64);
    let mut one = ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(len as usize / 2 + 256)));
    one.start_file(path, options).map_err(fail)?;
    std::io::copy(&mut f, &mut one).map_err(|e| Error::Fix(format!("compressing `{path}`: {e}")))?;
    Ok(one.finish().map_err(fail)?.into_inner())
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
    // Entries written on Windows whose mode is set: their central headers must say Unix.
    let mut made_unix: Vec<String> = Vec::new();
    // Dropped entries that a new file of the same name replaces: (index, size, CRC-32).
    let mut replaced: BTreeMap<String, (usize, u64, u32)> = BTreeMap::new();
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
            if entry.is_file() && changes.add.contains_key(&name) {
                replaced.insert(name, (i, entry.size(), entry.crc32()));
            }
            continue;
        }
        let dir = entry.is_dir();
        // A zip written on Windows has no mode (readers synthesize one): Lambda unpacks 0644.
        let stored = if entry.system() == zip::System::Unix { entry.unix_mode() } else { None };
        if let Some(mode) = changes.new_mode(&name, stored.unwrap_or(if dir { 0o755 } else { 0o644 }), dir) {
            // Only the external attributes change: the data is copied as stored.
            if entry.system() != zip::System::Unix {
                made_unix.push(name.clone());
            }
            let stamp = entry.last_modified().unwrap_or_default();
            writer.raw_copy_file_touch(entry, stamp, Some(mode)).map_err(fail)?;
            counts.changed += 1;
            continue;
        }
        writer.raw_copy_file(entry).map_err(fail)?;
        counts.kept += 1;
    }
    // New files are compressed in parallel, a batch at a time (bounded memory), each into a
    // one-entry zip in memory whose compressed entry is then copied into the output as stored. A
    // new file with the same name, size and CRC-32 as the entry it replaces (a pure-Python file of
    // the same version, reinstalled for another platform) is that entry: once its bytes compare
    // equal, the entry is copied as stored instead.
    let added: Vec<(&String, &PathBuf)> = changes.add.iter().collect();
    for batch in batches(&added) {
        let prepared: Vec<Result<Prepared, Error>> = batch
            .par_iter()
            .map(|(path, disk)| match replaced.get(path.as_str()) {
                Some(&(index, size, crc)) if same_size_and_crc(disk, size, crc)? => Ok(Prepared::Same(index)),
                _ => compress_one(path, disk).map(Prepared::Compressed),
            })
            .collect();
        for ((path, disk), one) in batch.iter().zip(prepared) {
            let one = match one? {
                Prepared::Same(index) if same_bytes(&mut archive, index, disk)? => {
                    let entry = archive
                        .by_index_raw(index)
                        .map_err(|e| Error::Input { path: input.to_path_buf(), cause: e.to_string() })?;
                    let mode = output_mode(disk)?;
                    if entry.system() == zip::System::Unix && entry.unix_mode().map(|m| m & 0o7777) == Some(mode) {
                        writer.raw_copy_file(entry).map_err(fail)?;
                    } else {
                        if entry.system() != zip::System::Unix {
                            made_unix.push(path.to_string());
                        }
                        let stamp = entry.last_modified().unwrap_or_default();
                        writer.raw_copy_file_touch(entry, stamp, Some(mode)).map_err(fail)?;
                    }
                    counts.removed -= 1;
                    counts.kept += 1;
                    continue;
                }
                Prepared::Same(_) => compress_one(path, disk)?,
                Prepared::Compressed(bytes) => bytes,
            };
            let mut single = ZipArchive::new(std::io::Cursor::new(one))
                .map_err(|e| Error::Internal(format!("reading back a compressed entry: {e}")))?;
            let entry =
                single.by_index_raw(0).map_err(|e| Error::Internal(format!("reading back a compressed entry: {e}")))?;
            writer.raw_copy_file(entry).map_err(fail)?;
            counts.added += 1;
        }
    }
    let mut inner = writer.finish().map_err(fail)?;
    inner.flush().map_err(|e| Error::Fix(format!("writing the new zip: {e}")))?;
    if !made_unix.is_empty() {
        mark_unix(out, &made_unix)?;
    }
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
            dir_modes.push((rel.to_path_buf(), changes.new_mode(&path, mode, true).unwrap_or(mode)));
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
            let new = changes.new_mode(&path, mode, false);
            let mut to = out.create_file(rel, new.unwrap_or(mode)).map_err(io)?;
            std::io::copy(&mut from, &mut to).map_err(io)?;
            if new.is_some() {
                counts.changed += 1;
            } else {
                counts.kept += 1;
            }
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

/// Copies the input's regular files under the package directory `prefix` into `dest` (as
/// `dest/<path below prefix>`), for a build that runs on them: `npm rebuild` runs in a copy of the
/// package's `node_modules`. Links are left out, and nothing is read through one.
pub(super) fn extract(input: &Path, prefix: &str, dest: &Path) -> Result<usize, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let below = |path: &str| -> Option<String> {
        let rest = path.strip_prefix(prefix)?.strip_prefix('/')?;
        (!rest.is_empty()).then(|| rest.to_string())
    };
    let create = |rel: &str, mode: u32| -> Result<File, Error> {
        let path = dest.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode((mode & 0o777) | 0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, e))
    };
    let mut n = 0;
    if input.is_dir() {
        let source = Tree::open(input).map_err(|e| Error::io(input, e))?;
        let walk = WalkDir::new(input.join(prefix)).follow_links(false).follow_root_links(false).sort_by_file_name();
        for item in walk {
            let item = item.map_err(|e| Error::Input { path: input.to_path_buf(), cause: e.to_string() })?;
            if !item.file_type().is_file() {
                continue;
            }
            let rel = item.path().strip_prefix(input).unwrap_or(item.path());
            let Some(inner) = below(&rel.to_string_lossy().replace('\\', "/")) else { continue };
            let Ok(Opened::File { mut file, mode, .. }) = source.open_file(rel) else { continue };
            let mut to = create(&inner, mode.unwrap_or(0o644))?;
            std::io::copy(&mut file, &mut to).map_err(|e| Error::io(&dest.join(&inner), e))?;
            n += 1;
        }
        return Ok(n);
    }
    let src = File::open(input).map_err(|e| Error::io(input, e))?;
    let mut archive = ZipArchive::new(std::io::BufReader::new(src))
        .map_err(|e| Error::Input { path: input.to_path_buf(), cause: format!("not a readable zip archive: {e}") })?;
    for i in 0..archive.len() {
        let mut entry =
            archive.by_index(i).map_err(|e| Error::Input { path: input.to_path_buf(), cause: e.to_string() })?;
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        let Some(name) = entry.name().ok().and_then(|n| crate::paths::normalize(&n)) else { continue };
        let Some(inner) = below(&name) else { continue };
        let mut to = create(&inner, entry.unix_mode().unwrap_or(0o644))?;
        std::io::copy(&mut entry, &mut to).map_err(|e| Error::io(&dest.join(&inner), e))?;
        n += 1;
    }
    Ok(n)
}

/// Copies the input zip into `out` as it is, byte for byte.
pub(super) fn copy_zip(input: &Path, out: &File) -> Result<u64, Error> {
    let mut src = File::open(input).map_err(|e| Error::io(input, e))?;
    let mut to = out;
    let n = std::io::copy(&mut src, &mut to).map_err(|e| Error::Fix(format!("copying {}: {e}", input.display())))?;
    out.sync_all().map_err(|e| Error::Fix(format!("copying {}: {e}", input.display())))?;
    Ok(n)
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
