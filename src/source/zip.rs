//! Zip archives: deployment packages, layers, wheels, and the archives nested in them.
//!
//! The central directory is parsed once; worker threads share it through cheap clones of the
//! archive, each reading the file with positioned reads, so entries inflate in parallel without
//! a memory map (whose pages would count against the process's memory).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use zip::result::ZipError;
use zip::{CompressionMethod, System, ZipArchive};

use super::central;
use super::entry_read::{Inflater, ZipEntryReader};
use super::inspect::{Inspected, Limits, inspect};
use super::{Content, Contents, Entry, EntryKind};
use crate::error::Error;
use crate::paths::EntryPath;

/// Windows has no `pread`: `seek_read` reads at an offset too (it also moves the handle's
/// cursor, which nothing here uses), so clones of the handle still read independently.
#[cfg(windows)]
trait FileExt {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

#[cfg(windows)]
impl FileExt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

/// A `Read + Seek` over a shared file handle that keeps its own position and a small read-ahead
/// buffer: clones are independent, and the many small reads of zip headers cost one positioned
/// read per buffer, not one each.
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_at: u64,
}

const READ_AHEAD: usize = 16 << 10;

impl SharedFile {
    fn new(file: File, len: u64) -> SharedFile {
        SharedFile { file: Arc::new(file), pos: 0, len, buf: Vec::new(), buf_at: 0 }
    }
}

impl Read for SharedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            if out.len() >= READ_AHEAD {
                // Large reads (inflating a binary) bypass the buffer.
                let n = self.file.read_at(out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            self.buf.resize(READ_AHEAD, 0);
            let n = self.file.read_at(&mut self.buf, self.pos)?;
            self.buf.truncate(n);
            self.buf_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - from);
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

pub(super) fn read_file(path: &Path, limits: &Limits) -> Result<Contents, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let reader = SharedFile::new(file, len);
    let archive = ZipArchive::new(reader.clone()).map_err(|e| Error::not_a_zip(path, &e))?;
    let mut entries: Vec<Entry> = (0..archive.len())
        .into_par_iter()
        .map_init(
            || (archive.clone(), Inflater::new()),
            |(archive, inflater), i| read_entry(archive, inflater, i, None, limits, 0),
        )
        .flatten_iter()
        .collect();
    if archive.has_duplicate_names() {
        let (copies, repeated) = duplicate_copies(&mut reader.clone(), &archive, None, limits, 0);
        add_duplicates(&mut entries, copies, &repeated, None);
    }
    Ok(Contents { entries, zipped_size: Some(len) })
}

/// The content of a file that may be an archive nested in the package: an archive is scanned
/// here, its entries following the file itself in the returned list.
pub(super) fn expand(inspected: Inspected, path: &EntryPath, limits: &Limits, depth: u32) -> (Content, Vec<Entry>) {
    match inspected {
        Inspected::Content(content) => (content, Vec::new()),
        Inspected::Archive(bytes) => read_nested(bytes, path, limits, depth + 1),
    }
}

/// A zip held in memory, read entry by entry as [`read_file`] reads one on disk (for fuzzing).
pub(super) fn read_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Contents, Error> {
    let len = bytes.len() as u64;
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| Error::not_a_zip(Path::new("(memory)"), &e))?;
    let mut inflater = Inflater::new();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        entries.extend(read_entry(&mut archive, &mut inflater, i, None, limits, 0));
    }
    if archive.has_duplicate_names() {
        let mut reader = Cursor::new(archive.clone().into_inner().into_inner());
        let (copies, repeated) = duplicate_copies(&mut reader, &archive, None, limits, 0);
        add_duplicates(&mut entries, copies, &repeated, None);
    }
    Ok(Contents { entries, zipped_size: Some(len) })
}

/// Scans a nested archive held in memory; its entries are named `outer!/inner`.
fn read_nested(bytes: Vec<u8>, outer: &EntryPath, limits: &Limits, depth: u32) -> (Content, Vec<Entry>) {
    let compressed = bytes.len() as u64;
    let mut archive = match ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            return (Content::ArchiveRefused(format!("not a readable zip: {}", zip_error(&e))), Vec::new());
        }
    };
    if archive.len() > limits.max_nested_entries {
        let why = format!("{} entries is over the limit of {}", archive.len(), limits.max_nested_entries);
        return (Content::ArchiveRefused(why), Vec::new());
    }
    let declared: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_data(i).ok().map(|e| e.size()))
        .fold(0u64, u64::saturating_add);
    let bomb = declared > limits.max_nested_unpacked
        || (declared > limits.ratio_floor && declared > compressed.saturating_mul(limits.max_nested_ratio));
    if bomb {
        let why = format!("declares {declared} bytes from {compressed} compressed: refused as a zip bomb");
        return (Content::ArchiveRefused(why), Vec::new());
    }
    let mut entries = Vec::new();
    let mut inflater = Inflater::new();
    for i in 0..archive.len() {
        entries.extend(read_entry(&mut archive, &mut inflater, i, Some(outer), limits, depth));
    }
    if archive.has_duplicate_names() {
        let mut reader = Cursor::new(archive.clone().into_inner().into_inner());
        let (copies, repeated) = duplicate_copies(&mut reader, &archive, Some(outer), limits, depth);
        add_duplicates(&mut entries, copies, &repeated, Some(outer));
    }
    (Content::Archive { entries: entries.len() }, entries)
}

/// What the central directory says about an entry, before its data is read.
struct EntryMeta {
    path: EntryPath,
    mode: Option<u32>,
    size: u64,
    crc: u32,
    method: CompressionMethod,
    encrypted: bool,
    is_dir: bool,
    is_symlink: bool,
}

/// Reads entry `i`, returning it followed by the entries of any archive nested in it.
fn read_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    inflater: &mut Inflater,
    i: usize,
    archive_path: Option<&EntryPath>,
    limits: &Limits,
    depth: u32,
) -> Vec<Entry> {
    // Read from the central directory (UTF-8 or CP437, as the entry says) before the entry's data.
    let name = match archive.name_for_index(i) {
        Some(Ok(n)) => n.into_owned(),
        _ => format!("entry #{i}"),
    };
    let path = entry_path(archive_path, &name);
    let mut file = match archive.by_index_raw(i) {
        Ok(f) => f,
        Err(e) => {
            // The central directory lists the entry, but its data cannot be reached.
            let content = Content::Unreadable(zip_error(&e));
            return vec![Entry { path, kind: EntryKind::File, mode: None, size: 0, content }];
        }
    };
    // Only Unix-made entries record permissions; the crate would invent some from DOS attributes.
    let records_mode = file.system() == System::Unix && file.external_attributes() >> 16 != 0;
    let meta = EntryMeta {
        path,
        mode: file.unix_mode().filter(|_| records_mode).map(|m| m & 0o7777),
        size: file.size(),
        crc: file.crc32(),
        method: file.compression(),
        encrypted: file.encrypted(),
        is_dir: file.is_dir(),
        is_symlink: file.is_symlink(),
    };
    read_body(&mut file, meta, inflater, limits, depth)
}

fn entry_path(archive_path: Option<&EntryPath>, name: &str) -> EntryPath {
    let name = name.trim_end_matches('/');
    match archive_path {
        Some(outer) => EntryPath::nested(outer, name),
        None => EntryPath::top(name),
    }
}

/// Reads an entry's data (`raw`, its compressed bytes) into its content.
fn read_body(raw: &mut dyn Read, meta: EntryMeta, inflater: &mut Inflater, limits: &Limits, depth: u32) -> Vec<Entry> {
    let EntryMeta { path, mode, size, crc, method, encrypted, is_dir, is_symlink } = meta;
    if is_dir {
        return vec![Entry { path, kind: EntryKind::Dir, mode, size: 0, content: Content::Other }];
    }
    let deflated = match method {
        CompressionMethod::Stored => None,
        CompressionMethod::Deflated => Some(inflater),
        other => {
            let content = Content::Unreadable(format!("unsupported compression method {other}"));
            return vec![Entry { path, kind: EntryKind::File, mode, size, content }];
        }
    };
    let mut reader = ZipEntryReader::new(raw, deflated, size, crc);
    if is_symlink {
        let mut target = String::new();
        let read = (&mut reader).take(4096).read_to_string(&mut target);
        let content = match read {
            Ok(_) => Content::Other,
            Err(e) => Content::Unreadable(e.to_string()),
        };
        return vec![Entry { path, kind: EntryKind::Symlink { target }, mode, size, content }];
    }
    let (content, nested) = if encrypted {
        (Content::Unreadable("encrypted entry".into()), Vec::new())
    } else {
        expand(inspect(&mut reader, &path, size, limits, depth), &path, limits, depth)
    };
    let mut out = vec![Entry { path, kind: EntryKind::File, mode, size, content }];
    out.extend(nested);
    out
}

/// Most central-directory records read directly (a zip64 archive may declare billions).
const MAX_RECORDS: usize = 1 << 20;

/// Marks the entries the zip crate kept for each repeated name as the last of their copies, and
/// appends the other copies.
fn add_duplicates(
    entries: &mut Vec<Entry>,
    copies: Vec<Entry>,
    repeated: &[(String, usize)],
    archive_path: Option<&EntryPath>,
) {
    if repeated.is_empty() {
        return;
    }
    let counts: std::collections::HashMap<EntryPath, usize> =
        repeated.iter().map(|(name, n)| (entry_path(archive_path, name), *n)).collect();
    for e in entries.iter_mut() {
        if let Some(&n) = counts.get(&e.path) {
            e.path = std::mem::take(&mut e.path).copy(n, n);
        }
    }
    entries.extend(copies);
}

/// For a zip that holds several entries under one name: every copy but the last (the one the zip
/// crate keeps), read from the central directory directly, and the names with their counts.
fn duplicate_copies<R: Read + Seek>(
    reader: &mut R,
    archive: &ZipArchive<impl Read + Seek>,
    archive_path: Option<&EntryPath>,
    limits: &Limits,
    depth: u32,
) -> (Vec<Entry>, Vec<(String, usize)>) {
    let records = match central::records(reader, archive.central_directory_start(), archive.offset(), MAX_RECORDS) {
        Ok(r) => r,
        Err(_) => return (Vec::new(), Vec::new()),
    };
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in &records {
        *count.entry(r.name()).or_default() += 1;
    }
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut inflater = Inflater::new();
    let mut entries = Vec::new();
    for r in &records {
        let name = r.name();
        let n = count[&name];
        let k = seen.entry(name.clone()).or_default();
        *k += 1;
        if n < 2 || *k == n {
            continue;
        }
        let path = entry_path(archive_path, &name).copy(*k, n);
        let mode = (r.made_by_unix && r.external >> 16 != 0).then_some((r.external >> 16) & 0o7777);
        let meta = EntryMeta {
            path,
            mode,
            size: r.size,
            crc: r.crc,
            method: compression_method(r.method),
            encrypted: r.flags & 1 != 0,
            is_dir: name.ends_with('/'),
            is_symlink: mode.is_some_and(|m| (r.external >> 16) & 0o170000 == 0o120000 && m != 0),
        };
        let start = match central::data_start(reader, r) {
            Ok(s) => s,
            Err(e) => {
                let content = Content::Unreadable(e.to_string());
                entries.push(Entry { path: meta.path, kind: EntryKind::File, mode, size: r.size, content });
                continue;
            }
        };
        if reader.seek(std::io::SeekFrom::Start(start)).is_err() {
            continue;
        }
        let mut raw = (&mut *reader).take(r.compressed);
        entries.extend(read_body(&mut raw, meta, &mut inflater, limits, depth));
    }
    let repeated = count.into_iter().filter(|(_, n)| *n > 1).collect();
    (entries, repeated)
}

fn zip_error(e: &ZipError) -> String {
    match e {
        ZipError::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

impl Error {
    fn not_a_zip(path: &Path, e: &ZipError) -> Error {
        let detail = zip_error(e);
        let why = if detail.contains("EOCD") {
            "no end-of-central-directory record (not a zip, or a truncated one)".to_string()
        } else {
            detail
        };
        Error::Input { path: path.to_path_buf(), cause: format!("not a readable zip archive: {why}") }
    }
}

/// The method a central-directory record names (the zip crate reads only the two elfcheck inflates).
fn compression_method(method: u16) -> CompressionMethod {
    match method {
        0 => CompressionMethod::Stored,
        8 => CompressionMethod::Deflated,
        #[allow(deprecated)]
        other => CompressionMethod::Unsupported(other),
    }
}
