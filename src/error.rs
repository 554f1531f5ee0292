//! Errors that stop a run (exit code 2). Problems with one entry are findings, not errors.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {cause}", path.display())]
    Input { path: PathBuf, cause: String },

    #[error("unknown runtime `{id}`; known runtimes: {known}")]
    UnknownRuntime { id: String, known: String },

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Fix(String),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn io(path: &Path, e: std::io::Error) -> Error {
        let cause = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::Input { path: path.to_path_buf(), cause }
    }
}
