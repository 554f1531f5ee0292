//! Where the fixed package goes, and how it gets there without harming anything else.
//!
//! - `OUT` is refused when it is the input, contains the input (or a layer), or lies inside the
//!   input; and, unless `--force`, when it is an existing file or a non-empty directory that
//!   elfcheck did not write (its outputs carry the extended attribute `user.elfcheck.output`).
//!   All of this is decided before anything is built.
//! - The new package is assembled under a temporary name in `OUT`'s directory, created before
//!   any build starts (which also proves the directory writable), below a directory handle that
//!   no link is followed from (see [`crate::safe_fs`]).
//! - It replaces `OUT` in one step: `rename` for a zip over a zip (or nothing); for a directory,
//!   `renameat2(RENAME_EXCHANGE)` swaps the two trees atomically and the old one is removed
//!   afterwards under the temporary name. Where the kernel or filesystem cannot exchange, the old
//!   tree is moved aside and moved back on any failure, with interrupts held off in between.
//! - Temporary names say whose they are: `.OUT.elfcheck-tmp-<pid>-<random>` beside `OUT`, and
//!   `elfcheck-build-<pid>-<random>` in the system's temporary directory. A run removes those of
//!   earlier runs whose process is gone (killed with SIGKILL, or the machine stopped); a tree
//!   moved aside (`.OUT.elfcheck-old-<pid>-<random>`) is moved back when `OUT` is missing.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::cleanup;
use crate::error::Error;
use crate::safe_fs::Tree;

/// The extended attribute that marks a package elfcheck wrote.
const MARK: &str = "user.elfcheck.output";
const TMP: &str = ".elfcheck-tmp-";
const OLD: &str = ".elfcheck-old-";
pub(super) const BUILD_PREFIX: &str = "elfcheck-build-";

/// What stands at `OUT` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Nothing,
    /// The input itself (`--in-place`).
    Input,
    /// An empty directory, a package elfcheck wrote, or anything with `--force`.
    Replaceable,
}

/// `OUT`, checked, with its directory open.
pub(super) struct Destination {
    /// `OUT` as the user wrote it, for messages.
    pub shown: PathBuf,
    dir_path: PathBuf,
    dir: Tree,
    name: OsString,
    existing: Existing,
}

/// The new package while it is being written: a temporary file or directory beside `OUT`,
/// removed on drop (and by the interrupt handler) unless committed.
pub(super) struct Temp {
    name: OsString,
    pub path: PathBuf,
    pub kind: TempKind,
    _guard: cleanup::Guard,
    committed: bool,
    dir_fd: rustix::fd::OwnedFd,
}

pub(super) enum TempKind {
    Zip(File),
    Dir(Tree),
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

fn fix_err(what: &str, path: &Path, e: io::Error) -> Error {
    Error::Fix(format!("{what} {}: {e}", path.display()))
}

impl Destination {
    pub fn dir_path(&self) -> &Path {
        &self.dir_path
    }

    /// Checks `OUT` (the input itself with `in_place`) against the input and the layers.
    pub fn resolve(
        input: &Path,
        output: &Path,
        in_place: bool,
        force: bool,
        layers: &[PathBuf],
    ) -> Result<Destination, Error> {
        let input_abs = std::fs::canonicalize(input).map_err(|e| Error::io(input, e))?;
        let out = if in_place { input_abs.clone() } else { output.to_path_buf() };
        // `-o .` and `-o ..` name a directory through its parent.
        let named = out.file_name().is_some() && !out.ends_with(".") && !out.ends_with("..");
        let out = if named { out } else { std::fs::canonicalize(&out).map_err(|e| Error::io(&out, e))? };
        let (Some(name), Some(parent)) = (out.file_name(), out.parent()) else {
            return Err(usage(format!("{} cannot be replaced: name a file or directory", output.display())));
        };
        let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
        let dir_path = std::fs::canonicalize(parent).map_err(|e| {
            usage(format!(
                "the directory of the output, {}, cannot be used: {}",
                parent.display(),
                Error::io(parent, e)
            ))
        })?;
        let out_abs = dir_path.join(name);
        let shown = output.to_path_buf();

        if !in_place {
            if out_abs == input_abs || same_file(&out_abs, &input_abs) {
                return Err(usage("the output is the input: use --in-place to replace it".into()));
            }
            if is_within(&dir_path, &input_abs) {
                return Err(usage(format!(
                    "the output {} is inside the input {}: write it elsewhere",
                    shown.display(),
                    input.display()
                )));
            }
            for (what, path) in std::iter::once(("input", input)).chain(layers.iter().map(|l| ("layer", l.as_path()))) {
                let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                if is_within(&abs, &out_abs) {
                    return Err(usage(format!(
                        "the output {} contains the {what} {}: replacing it would delete the {what}",
                        shown.display(),
                        path.display()
                    )));
                }
            }
        }

        let existing = match std::fs::symlink_metadata(&out_abs) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Existing::Nothing,
            Err(e) => return Err(Error::io(&out_abs, e)),
            Ok(_) if in_place => Existing::Input,
            Ok(meta) => {
                let empty_dir = meta.is_dir() && std::fs::read_dir(&out_abs).is_ok_and(|mut d| d.next().is_none());
                if empty_dir || force || is_ours(&out_abs, &meta) {
                    Existing::Replaceable
                } else {
                    let what = if meta.is_dir() {
                        "is a directory that is not empty"
                    } else if meta.file_type().is_symlink() {
                        "is a symbolic link"
                    } else {
                        "is a file"
                    };
                    return Err(usage(format!(
                        "the output {} exists and {what}, not written by elfcheck: pass --force to replace it",
                        shown.display()
                    )));
                }
            }
        };
        let dir = Tree::open(&dir_path).map_err(|e| fix_err("opening the output directory", &dir_path, e))?;
        Ok(Destination { shown, dir_path, dir, name: name.to_os_string(), existing })
    }

    /// Creates the temporary output beside `OUT` (a directory for a directory input): this is
    /// also the check that `OUT`'s directory is writable, done before any build.
    pub fn reserve(&self, dir: bool) -> Result<Temp, Error> {
        let fail = |e: io::Error| Error::Fix(format!("cannot create the output in {}: {e}", self.dir_path.display()));
        loop {
            let mut name = OsString::from(".");
            name.push(&self.name);
            name.push(format!("{TMP}{}-{:08x}", std::process::id(), random() as u32));
            let path = self.dir_path.join(&name);
            let made = if dir {
                rustix::fs::mkdirat(self.dir.fd(), &name, Mode::from_raw_mode(0o700))
                    .and_then(|()| rustix::fs::openat(self.dir.fd(), &name, dir_flags(), Mode::empty()))
            } else {
                let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                rustix::fs::openat(self.dir.fd(), &name, flags, Mode::from_raw_mode(0o600))
            };
            let fd = match made {
                Err(e) if e == rustix::io::Errno::EXIST => continue,
                Err(e) => return Err(fail(e.into())),
                Ok(fd) => fd,
            };
            let guard = cleanup::Guard::new(&path);
            let dir_fd = self.dir.fd().try_clone_to_owned().map_err(fail)?;
            let kind = if dir { TempKind::Dir(Tree::from_fd(fd)) } else { TempKind::Zip(File::from(fd)) };
            return Ok(Temp { name, path, kind, _guard: guard, committed: false, dir_fd });
        }
    }

    /// Puts the finished `temp` in place of `OUT`.
    pub fn commit(&self, mut temp: Temp) -> Result<(), Error> {
        let fail = |e: io::Error| Error::Fix(format!("moving the new package to {}: {e}", self.shown.display()));
        // Marked as elfcheck's, so that the next run may replace it without --force.
        let fd = match &temp.kind {
            TempKind::Zip(f) => rustix::fd::AsFd::as_fd(f),
            TempKind::Dir(t) => t.fd(),
        };
        let _ = rustix::fs::fsetxattr(fd, MARK, b"fix", rustix::fs::XattrFlags::empty());
        let _critical = cleanup::critical();
        let is_dir = matches!(temp.kind, TempKind::Dir(_));
        let out_is_file =
            std::fs::symlink_metadata(self.dir_path.join(&self.name)).map(|m| m.is_file()).unwrap_or(false);
        match self.existing {
            Existing::Nothing => self.rename_new(&temp.name).map_err(fail)?,
            // A zip over a file: rename(2) replaces it atomically.
            _ if !is_dir && out_is_file => rustix::fs::renameat(self.dir.fd(), &temp.name, self.dir.fd(), &self.name)
                .map_err(|e| fail(e.into()))?,
            _ => self.exchange(&temp.name).map_err(fail)?,
        }
        temp.committed = true;
        Ok(())
    }

    /// Renames `tmp` to `OUT`, which must not exist (someone may have created it since).
    fn rename_new(&self, tmp: &OsStr) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::RenameFlags;
            match rustix::fs::renameat_with(self.dir.fd(), tmp, self.dir.fd(), &self.name, RenameFlags::NOREPLACE) {
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
                other => return Ok(other?),
            }
        }
        if rustix::fs::statat(self.dir.fd(), &self.name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "it appeared while the package was being fixed"));
        }
        Ok(rustix::fs::renameat(self.dir.fd(), tmp, self.dir.fd(), &self.name)?)
    }

    /// Swaps `tmp` and `OUT`, then removes the old package (now under the temporary name).
    fn exchange(&self, tmp: &OsStr) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::RenameFlags;
            match rustix::fs::renameat_with(self.dir.fd(), tmp, self.dir.fd(), &self.name, RenameFlags::EXCHANGE) {
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
                Err(e) => return Err(e.into()),
                Ok(()) => {
                    remove_at(&self.dir, tmp);
                    return Ok(());
                }
            }
        }
        // No atomic exchange here: move the old package aside, the new one in, and the old one
        // back on failure. Interrupts wait (the caller holds the critical section).
        let mut aside = OsString::from(".");
        aside.push(&self.name);
        aside.push(format!("{OLD}{}-{:08x}", std::process::id(), random() as u32));
        rustix::fs::renameat(self.dir.fd(), &self.name, self.dir.fd(), &aside)?;
        if let Err(e) = rustix::fs::renameat(self.dir.fd(), tmp, self.dir.fd(), &self.name) {
            rustix::fs::renameat(self.dir.fd(), &aside, self.dir.fd(), &self.name)?;
            return Err(e.into());
        }
        remove_at(&self.dir, &aside);
        Ok(())
    }
}

impl Temp {
    /// The temporary output's directory handle, to set modes relative to.
    pub fn sync(&self) -> io::Result<()> {
        match &self.kind {
            TempKind::Zip(f) => f.sync_all(),
            TempKind::Dir(_) => Ok(()),
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            remove_at_fd(&self.dir_fd, &self.name);
        }
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn remove_at(dir: &Tree, name: &OsStr) {
    let fd = dir.fd().try_clone_to_owned();
    if let Ok(fd) = fd {
        remove_at_fd(&fd, name);
    }
}

/// Removes `name` in the directory `dir` (a tree is removed whole; links are removed, not followed).
fn remove_at_fd(dir: &rustix::fd::OwnedFd, name: &OsStr) {
    use rustix::fs::AtFlags;
    let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return;
    };
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
        return;
    }
    let Ok(sub) = rustix::fs::openat(dir, name, dir_flags(), Mode::empty()) else {
        return;
    };
    // Entries first, then the directory itself.
    if let Ok(entries) = rustix::fs::Dir::read_from(&sub) {
        let names: Vec<OsString> = entries
            .filter_map(Result::ok)
            .map(|e| <OsString as std::os::unix::ffi::OsStringExt>::from_vec(e.file_name().to_bytes().to_vec()))
            .filter(|n| n != "." && n != "..")
            .collect();
        for n in names {
            remove_at_fd(&sub, &n);
        }
    }
    let _ = rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR);
}

/// Removes what earlier runs left in `dir` (beside `OUT`) and in the temporary directory when
/// their process is gone: temporary outputs and build directories; a package moved aside is
/// moved back if `OUT` is missing, else removed.
pub(super) fn clean_stale(out_dir: &Path) {
    let Ok(dir) = Tree::open(out_dir) else { return };
    for entry in std::fs::read_dir(out_dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(s) = name.to_str() else { continue };
        let Some(stem) = s.strip_prefix('.') else { continue };
        let (target, tag, rest) = if let Some((t, r)) = stem.split_once(TMP) {
            (t, TMP, r)
        } else if let Some((t, r)) = stem.split_once(OLD) {
            (t, OLD, r)
        } else {
            continue;
        };
        if !left_by_dead_run(rest) {
            continue;
        }
        if tag == OLD && rustix::fs::statat(dir.fd(), target, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_err() {
            let _ = rustix::fs::renameat(dir.fd(), &name, dir.fd(), target);
        } else {
            remove_at(&dir, &name);
        }
    }
    let tmp = std::env::temp_dir();
    let Ok(tmp_dir) = Tree::open(&tmp) else { return };
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if let Some(rest) = name.to_str().and_then(|s| s.strip_prefix(BUILD_PREFIX))
            && left_by_dead_run(rest)
        {
            remove_at(&tmp_dir, &name);
        }
    }
}

/// Whether `<pid>-<random>` names a process that no longer exists.
fn left_by_dead_run(rest: &str) -> bool {
    let Some((pid, _)) = rest.split_once('-') else { return false };
    let Ok(pid) = pid.parse::<i32>() else { return false };
    if pid as u32 == std::process::id() {
        return false;
    }
    let Some(pid) = rustix::process::Pid::from_raw(pid) else { return false };
    rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
}

/// Whether the existing `path` is a package elfcheck wrote.
fn is_ours(path: &Path, meta: &std::fs::Metadata) -> bool {
    if !(meta.is_dir() || meta.is_file()) {
        return false;
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let Ok(fd) = rustix::fs::open(path, flags, Mode::empty()) else { return false };
    let mut buf = [0u8; 16];
    matches!(rustix::fs::fgetxattr(&fd, MARK, &mut buf), Ok(n) if &buf[..n] == b"fix")
}

/// Whether `inner` is `outer` or below it: by path (both canonical) and by identity of each
/// ancestor directory (bind mounts, hard-linked paths).
fn is_within(inner: &Path, outer: &Path) -> bool {
    if inner.starts_with(outer) {
        return true;
    }
    let Ok(target) = std::fs::symlink_metadata(outer) else { return false };
    if !target.is_dir() {
        return false;
    }
    inner
        .ancestors()
        .filter_map(|a| std::fs::metadata(a).ok())
        .any(|m| m.dev() == target.dev() && m.ino() == target.ino())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// 64 random bits from the standard library's hasher keys (no extra dependency).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_names_of_live_processes_are_kept() {
        assert!(!left_by_dead_run(&format!("{}-abcd", std::process::id())));
        assert!(!left_by_dead_run("1-abcd")); // init is alive
        assert!(!left_by_dead_run("x-abcd"));
        assert!(left_by_dead_run("2147483646-abcd"));
    }

    #[test]
    fn within_by_path_and_by_identity() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir_all(a.join("b")).unwrap();
        assert!(is_within(&a.join("b"), &a));
        assert!(is_within(&a, &a));
        assert!(!is_within(dir.path(), &a));
        assert!(!is_within(&dir.path().join("ab"), &a));
    }
}
