//! Opening files of a tree without following links (see `unix.rs`); on other systems, plain
//! opens with the same interface, for reading only (`elfcheck fix` needs a Unix system).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod portable;
#[cfg(not(unix))]
pub(crate) use portable::*;
