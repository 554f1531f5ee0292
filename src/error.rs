//! Errors that stop a run (exit code 2). Problems with one entry are findings, not errors.
//!
//! Each error's message is complete on its own (the path and, in words, the cause); the
//! underlying error stays reachable through `source()` for callers that want it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {}", path.display(), io_words(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An input is not what elfcheck can read (not a zip, a corrupt central directory).
    #[error("{}: {cause}", path.display())]
    Input { path: PathBuf, cause: String },

    /// A settings file is invalid, at a place in it.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Config { path: PathBuf, line: usize, column: usize, message: String },

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
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }
}

/// An I/O error in the words of the rest of elfcheck's messages.
fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}
