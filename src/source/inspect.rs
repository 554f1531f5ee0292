//! One entry's bytes to its [`Content`]: the decision every source shares.

use std::io::{self, Read};

use super::Content;
use super::entry_read::EntryRead;
use crate::binary::{self, MAX_OBJECT_BYTES, SNIFF_LEN, Sniffed};

/// Bounds that keep hostile packages from exhausting memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest object file that is read and parsed.
    pub max_object_bytes: u64,
    /// Most bytes of one object held in memory: a larger one is judged from its first bytes.
    pub max_object_prefix: usize,
    /// Largest metadata file kept as text.
    pub max_text_bytes: u64,
    /// How deep archives nest before they are refused (a wheel in a zip is depth 1).
    pub max_depth: u32,
    /// Largest nested archive read into memory.
    pub max_nested_bytes: u64,
    /// Largest ratio of declared uncompressed to compressed size of a nested archive, applied
    /// once it declares more than `ratio_floor` bytes (small archives compress well legitimately).
    pub max_nested_ratio: u64,
    pub ratio_floor: u64,
    /// Most bytes a nested archive may declare in all.
    pub max_nested_unpacked: u64,
    /// Most entries a nested archive may have.
    pub max_nested_entries: usize,
    /// Most bytes of strings (needed libraries, search paths, versions, symbols) one object
    /// file's description may keep, and all object files of one input together: descriptions
    /// stay in memory for the whole run, and a tiny hostile file can name a long string thousands
    /// of times. Past the second, descriptions are cut short and say so.
    pub max_object_strings: usize,
    pub max_input_strings: usize,
    /// What the object files of the input being read may still keep (set per input by
    /// [`crate::source::read`]).
    pub(crate) strings_left: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Limits {
    /// These limits with a fresh string budget, for reading one input.
    pub(crate) fn for_one_input(&self) -> Limits {
        let left = std::sync::atomic::AtomicUsize::new(self.max_input_strings);
        Limits { strings_left: std::sync::Arc::new(left), ..self.clone() }
    }

    /// Takes up to `max_object_strings` bytes from the input's string budget.
    fn take_strings(&self) -> binary::StringBudget {
        use std::sync::atomic::Ordering;
        let want = self.max_object_strings;
        let mut got = 0;
        let _ = self.strings_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            got = left.min(want);
            Some(left - got)
        });
        binary::StringBudget::new(got)
    }

    /// Gives back what a description did not use.
    fn return_strings(&self, budget: &binary::StringBudget) {
        self.strings_left.fetch_add(budget.left(), std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_object_bytes: MAX_OBJECT_BYTES,
            max_object_prefix: binary::MAX_OBJECT_PREFIX,
            max_text_bytes: 16 << 20,
            max_depth: 3,
            max_nested_bytes: 512 << 20,
            max_nested_ratio: 100,
            ratio_floor: 16 << 20,
            max_nested_unpacked: 1 << 30,
            max_nested_entries: 200_000,
            max_object_strings: binary::MAX_STRING_BYTES,
            max_input_strings: 64 << 20,
            strings_left: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(64 << 20)),
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A thread keeps a buffer up to this size between binaries; larger ones are given back.
const MAX_SCRATCH: usize = 64 << 20;

/// Whether attribution or a packaging rule reads this file as text.
pub(crate) fn wants_text(path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let in_dist_info = dir.ends_with(".dist-info");
    (in_dist_info && matches!(name, "RECORD" | "METADATA" | "WHEEL")) || name == "package.json" || name == "bootstrap"
}

/// Whether a nested zip is scanned as an archive that Lambda or the language will open.
pub(crate) fn is_archive_name(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".zip", ".whl", ".jar", ".egg"].iter().any(|ext| lower.ends_with(ext))
}

/// Fills `buf` as far as the reader goes.
pub(crate) fn read_head(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the rest of `reader` after `head`, up to `max` bytes in all.
fn read_rest(reader: &mut dyn EntryRead, head: &[u8], size_hint: u64, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(size_hint.min(max) as usize);
    bytes.extend_from_slice(head);
    reader.read_rest(&mut bytes, max)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// What reading one file found: its content, or the bytes of an archive nested in the package,
/// which the zip reader scans in turn.
pub(crate) enum Inspected {
    Content(Content),
    Archive(Vec<u8>),
}

/// Reads one regular file: sniffs, and reads further only what needs it.
pub(crate) fn inspect(reader: &mut dyn EntryRead, path: &str, size: u64, limits: &Limits, depth: u32) -> Inspected {
    match inspect_inner(reader, path, size, limits, depth) {
        Ok(found) => found,
        Err(e) => Inspected::Content(Content::Unreadable(e.to_string())),
    }
}

fn inspect_inner(
    reader: &mut dyn EntryRead,
    path: &str,
    size: u64,
    limits: &Limits,
    depth: u32,
) -> io::Result<Inspected> {
    let done = |c: Content| Ok(Inspected::Content(c));
    let mut head = [0u8; SNIFF_LEN];
    let n = read_head(reader, &mut head)?;
    let head = &head[..n];
    let sniffed = binary::sniff(head);
    match sniffed {
        Some(Sniffed::StaticArchive) => done(Content::StaticArchive),
        Some(Sniffed::Zip) if is_archive_name(path) => {
            if depth >= limits.max_depth {
                let why = format!("nested deeper than {} archives", limits.max_depth);
                return done(Content::ArchiveRefused(why));
            }
            if size > limits.max_nested_bytes {
                let why =
                    format!("{size} bytes is over the {} byte limit for nested archives", limits.max_nested_bytes);
                return done(Content::ArchiveRefused(why));
            }
            let Some(bytes) = read_rest(reader, head, size, limits.max_nested_bytes)? else {
                return done(Content::ArchiveRefused("larger than its header says".into()));
            };
            Ok(Inspected::Archive(bytes))
        }
        Some(kind) if kind.is_object() => {
            if size > limits.max_object_bytes {
                let reason = format!("{size} bytes is over the {} byte limit", limits.max_object_bytes);
                return done(Content::Object(unparseable(kind, reason)));
            }
            // The thread's buffer is reused: fresh pages for every binary cost page faults.
            let mut bytes = SCRATCH.with(|s| s.take());
            bytes.clear();
            // A large object is judged from its first bytes; the rest is read (and checked) but
            // not kept, so that memory stays bounded whatever the package holds.
            let prefix = limits.max_object_prefix as u64;
            let large = size > prefix;
            bytes.reserve(size.min(prefix) as usize);
            bytes.extend_from_slice(head);
            let read = if large {
                reader.read_rest(&mut bytes, prefix - 1).and_then(|()| reader.skip_rest())
            } else {
                reader.read_rest(&mut bytes, limits.max_object_bytes)
            };
            let content = match read {
                Err(e) => Err(e),
                Ok(()) if !large && bytes.len() as u64 > limits.max_object_bytes => {
                    let reason = format!("over the {} byte limit", limits.max_object_bytes);
                    Ok(Content::Object(unparseable(kind, reason)))
                }
                Ok(()) => {
                    if large && kind == Sniffed::Elf {
                        binary::forget_section_headers(&mut bytes);
                    }
                    let mut budget = limits.take_strings();
                    let object = binary::classify_within(kind, &bytes, &mut budget);
                    limits.return_strings(&budget);
                    Ok(match object {
                        Some(object) => Content::Object(object),
                        None if wants_text(path) => text(bytes.clone()),
                        None => Content::Other,
                    })
                }
            };
            if bytes.capacity() <= MAX_SCRATCH {
                SCRATCH.with(|s| s.replace(bytes));
            }
            done(content?)
        }
        _ if wants_text(path) && size <= limits.max_text_bytes => {
            let Some(bytes) = read_rest(reader, head, size, limits.max_text_bytes)? else {
                return done(Content::Other);
            };
            done(text(bytes))
        }
        _ => done(Content::Other),
    }
}

fn text(bytes: Vec<u8>) -> Content {
    Content::Text(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn unparseable(kind: Sniffed, reason: String) -> binary::Object {
    binary::Object::Unparseable { claimed: kind.claimed_name(), reason }
}
