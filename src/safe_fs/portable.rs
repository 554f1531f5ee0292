//! Reading a tree where no directory handles are available: each path is checked (not a link,
//! a regular file) and then opened. Windows keeps no Unix permission bits.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub(crate) struct Tree {
    root: PathBuf,
}

pub(crate) enum Opened {
    File { file: File, size: u64, mode: Option<u32> },
    NotAFile(&'static str),
}

impl Tree {
    pub(crate) fn open(path: &Path) -> io::Result<Tree> {
        if !std::fs::metadata(path)?.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a directory"));
        }
        Ok(Tree { root: path.to_path_buf() })
    }

    pub(crate) fn open_file(&self, rel: &Path) -> io::Result<Opened> {
        let path = self.root.join(rel);
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            return Err(io::Error::other("a symbolic link"));
        }
        if !meta.is_file() {
            return Ok(Opened::NotAFile(if meta.is_dir() { "a directory" } else { "a special file" }));
        }
        let file = File::open(&path)?;
        let size = file.metadata()?.len();
        Ok(Opened::File { file, size, mode: None })
    }
}

pub(crate) fn is_link_error(e: &io::Error) -> bool {
    e.to_string() == "a symbolic link"
}
