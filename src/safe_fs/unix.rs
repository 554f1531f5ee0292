//! File access below one directory handle that never follows a symbolic link.
//!
//! Reading a checked directory: each file is opened relative to the tree's root handle with no
//! link followed on the way or at the end (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`
//! on Linux, `openat(O_NOFOLLOW)` one component at a time elsewhere or where `openat2` is
//! refused), without blocking (`O_NONBLOCK`: a FIFO opens at once instead of waiting for a
//! writer), and what was opened is then checked (`fstat`) and read through that handle: the path
//! is resolved once, so a file swapped for a FIFO or a link after the listing is seen as such.
//!
//! Writing the fixed package: every directory and file is created relative to the handle of the
//! directory being assembled, each component opened with `O_NOFOLLOW` and each file created with
//! `O_EXCL`, so that nothing is ever written through a link, wherever the package's own links point.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

use rustix::fs::{Mode, OFlags};

/// An open directory; paths given to its methods are relative to it.
pub(crate) struct Tree {
    fd: OwnedFd,
}

/// What [`Tree::open_file`] found.
pub(crate) enum Opened {
    /// A regular file: its handle, size and permission bits, from the handle itself.
    File { file: File, size: u64, mode: Option<u32> },
    /// Something else now stands at the path (`"a FIFO"`, `"a directory"`, ...).
    NotAFile(&'static str),
}

const READ: OFlags = OFlags::RDONLY.union(OFlags::CLOEXEC).union(OFlags::NOCTTY);
const DIR: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

impl Tree {
    /// Opens the directory at `path` (links in `path` itself are the caller's choice and followed).
    pub(crate) fn open(path: &Path) -> io::Result<Tree> {
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        Ok(Tree { fd })
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> Tree {
        Tree { fd }
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens `rel` for reading, following no link on the way or at the end, without blocking.
    pub(crate) fn open_file(&self, rel: &Path) -> io::Result<Opened> {
        let fd = self.open_beneath(rel, READ | OFlags::NOFOLLOW | OFlags::NONBLOCK)?;
        let st = rustix::fs::fstat(&fd)?;
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        if kind != rustix::fs::FileType::RegularFile {
            return Ok(Opened::NotAFile(describe(kind)));
        }
        Ok(Opened::File { file: File::from(fd), size: st.st_size as u64, mode: Some(st.st_mode as u32 & 0o7777) })
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn open_beneath(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        use rustix::fs::ResolveFlags;
        use std::sync::atomic::{AtomicBool, Ordering};
        // Kernels before 5.6, and sandboxes that filter the call, refuse openat2: walk instead.
        static UNAVAILABLE: AtomicBool = AtomicBool::new(false);
        if !UNAVAILABLE.load(Ordering::Relaxed) {
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&self.fd, rel, flags, Mode::empty(), resolve) {
                Err(e) if e == rustix::io::Errno::NOSYS || e == rustix::io::Errno::PERM => {
                    UNAVAILABLE.store(true, Ordering::Relaxed);
                }
                other => return Ok(other?),
            }
        }
        self.walk_open(rel, flags)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn open_beneath(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        self.walk_open(rel, flags)
    }

    /// `openat(O_NOFOLLOW)` one component at a time.
    fn walk_open(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let (dirs, name) = split(rel)?;
        let mut dir: Option<OwnedFd> = None;
        for c in dirs {
            let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
            dir = Some(rustix::fs::openat(at, c, DIR, Mode::empty())?);
        }
        let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
        Ok(rustix::fs::openat(at, name, flags, Mode::empty())?)
    }

    /// The directory `rel` below this one, created (with `mode`) where missing; an error naming
    /// the first component that is a link or not a directory.
    pub(crate) fn create_dirs(&self, rel: &Path, mode: u32) -> io::Result<Tree> {
        let mut dir: Option<OwnedFd> = None;
        let mut walked = std::path::PathBuf::new();
        for c in components(rel)? {
            walked.push(c);
            let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
            let opened = match rustix::fs::openat(at, c, DIR, Mode::empty()) {
                Err(e) if e == rustix::io::Errno::NOENT => {
                    match rustix::fs::mkdirat(at, c, Mode::from_raw_mode(mode as _)) {
                        Err(e) if e != rustix::io::Errno::EXIST => return Err(e.into()),
                        _ => {}
                    }
                    rustix::fs::openat(at, c, DIR, Mode::empty())
                }
                other => other,
            };
            dir = Some(opened.map_err(|e| self.not_a_dir(at, c, &walked, e))?);
        }
        match dir {
            Some(fd) => Ok(Tree { fd }),
            None => Ok(Tree { fd: self.fd.try_clone()? }),
        }
    }

    fn not_a_dir(&self, at: BorrowedFd<'_>, name: &OsStr, walked: &Path, e: rustix::io::Errno) -> io::Error {
        let what = match rustix::fs::statat(at, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => rustix::fs::FileType::from_raw_mode(st.st_mode),
            Err(_) => return e.into(),
        };
        if what == rustix::fs::FileType::Directory {
            return e.into();
        }
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` is {}, not a directory", walked.display(), describe(what)),
        )
    }

    /// Creates the new file `rel` (its directories too), never through a link, never over an
    /// existing file. `mode` is applied exactly (not filtered by the umask).
    pub(crate) fn create_file(&self, rel: &Path, mode: u32) -> io::Result<File> {
        let (dirs, name) = split(rel)?;
        let parent = self.create_dirs(&dirs.iter().collect::<std::path::PathBuf>(), 0o755)?;
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&parent.fd, name, flags, Mode::from_raw_mode(0o600))?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
        Ok(File::from(fd))
    }

    /// Creates the link `rel` -> `target` (its directories too, never through a link).
    pub(crate) fn symlink(&self, rel: &Path, target: &Path) -> io::Result<()> {
        let (dirs, name) = split(rel)?;
        let parent = self.create_dirs(&dirs.iter().collect::<std::path::PathBuf>(), 0o755)?;
        Ok(rustix::fs::symlinkat(target, &parent.fd, name)?)
    }

    /// Sets the permission bits of the directory `rel` (not through a link).
    pub(crate) fn set_dir_mode(&self, rel: &Path, mode: u32) -> io::Result<()> {
        let dir = if rel.as_os_str().is_empty() { Tree { fd: self.fd.try_clone()? } } else { self.walk_dir(rel)? };
        Ok(rustix::fs::fchmod(&dir.fd, Mode::from_raw_mode(mode as _))?)
    }

    fn walk_dir(&self, rel: &Path) -> io::Result<Tree> {
        let mut dir: Option<OwnedFd> = None;
        for c in components(rel)? {
            let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
            dir = Some(rustix::fs::openat(at, c, DIR, Mode::empty())?);
        }
        Ok(Tree { fd: dir.map_or_else(|| self.fd.try_clone(), Ok)? })
    }
}

/// The normal components of a relative path; `..`, `/` and prefixes are refused.
fn components(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("`{}` leaves the tree", rel.display()))),
        })
        .collect()
}

fn split(rel: &Path) -> io::Result<(Vec<&OsStr>, &OsStr)> {
    let mut parts = components(rel)?;
    let name = parts.pop().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty path"))?;
    Ok((parts, name))
}

pub(crate) fn describe(kind: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        _ => "an unknown kind of file",
    }
}

/// Whether an error from [`Tree::open_file`] means a link stood where a file was listed.
pub(crate) fn is_link_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("f"), "outside").unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), root.join("flink")).unwrap();
        let tree = Tree::open(&root).unwrap();
        assert!(is_link_error(&tree.open_file(Path::new("flink")).err().unwrap()));
        assert!(tree.open_file(Path::new("link/f")).is_err());
        let e = tree.create_file(Path::new("link/g"), 0o644).err().unwrap();
        assert!(e.to_string().contains("`link` is a symbolic link"), "{e}");
        assert!(tree.create_file(Path::new("flink"), 0o644).is_err());
        assert!(tree.create_file(Path::new("../escape"), 0o644).is_err());
        assert!(!outside.join("g").exists());
        assert_eq!(std::fs::read_to_string(outside.join("f")).unwrap(), "outside");
        let mut f = tree.create_file(Path::new("a/b/c"), 0o640).unwrap();
        std::io::Write::write_all(&mut f, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(root.join("a/b/c")).unwrap().permissions().mode() & 0o777, 0o640);
        match tree.open_file(Path::new("a/b/c")).unwrap() {
            Opened::File { size, .. } => assert_eq!(size, 1),
            Opened::NotAFile(k) => panic!("{k}"),
        }
        assert!(matches!(tree.open_file(Path::new("a")).unwrap(), Opened::NotAFile("a directory")));
    }
}
