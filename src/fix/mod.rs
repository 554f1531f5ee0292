//! `elfcheck fix`: rebuilds exactly the distributions that own error-level binaries, for the
//! target, and proves the result with the full checker before it replaces anything.
//!
//! The input is never modified (unless `--in-place`, which is still atomic): the new package is
//! written to a temporary file or directory beside the output and put in place in one step only
//! after the re-check finds no error ([`output`] says where an output may go and how). An
//! interrupt stops the builds and removes every temporary file and directory; what a SIGKILL
//! leaves is removed by the next run.

#[cfg(unix)]
pub(crate) mod cleanup;
#[cfg(unix)]
mod docker;
mod libraries;
#[cfg(unix)]
mod npm;
#[cfg(unix)]
mod output;
#[cfg(unix)]
mod pip;
pub mod plan;
#[cfg(unix)]
mod process;
#[cfg(unix)]
mod rewrite;
#[cfg(unix)]
mod run;

use std::io::Write;
use std::path::PathBuf;

use crate::check::Options;
use crate::error::Error;
use crate::report::model::Report;

pub use plan::{NodeInstall, NodeRebuild, Plan, PythonRebuild, Unfixable};

/// How Python distributions are rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// Docker when an engine answers and something needs a build, else pip.
    Auto,
    /// In the AWS SAM build image of the runtime (wheels or sdists; Node addons from source).
    Docker,
    /// With pip on this machine, from manylinux wheels only.
    Pip,
}

#[derive(Debug, Clone)]
pub struct FixOptions {
    pub input: PathBuf,
    /// Where the fixed package goes; the input itself with `in_place`.
    pub output: Option<PathBuf>,
    pub in_place: bool,
    pub via: Via,
    pub image: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    /// Print what would run and change nothing.
    pub plan_only: bool,
    /// Keep the output even when the re-check still finds errors.
    pub keep_failed: bool,
    /// Write the package with what could be fixed when some errors cannot be (exit 1 still).
    pub partial: bool,
    /// Install the newest version with a build for the target of a distribution whose installed
    /// version has none (the advice of `check`).
    pub upgrade: bool,
    /// Whether the package index may be asked for other versions (`--upgrade-to-compatible`, and
    /// the advice for a distribution that could not be installed).
    pub lookup: crate::advice::Lookup,
    /// Replace an existing output that elfcheck did not write (a file or a non-empty directory).
    pub force: bool,
    /// The Python interpreter whose pip `--via pip` uses.
    pub python: String,
    pub docker: String,
    /// Do not echo the build tools' output.
    pub quiet: bool,
    pub scan: Options,
}

/// What a fix run ended with.
pub struct Outcome {
    /// 0: fixed (or nothing to fix, or a plan); 1: errors remain.
    pub exit_code: u8,
    /// The re-check of the new package, when one was built.
    pub recheck: Option<Report>,
}

/// Runs `elfcheck fix`, writing what it does to `out`.
pub fn run(opts: &FixOptions, out: &mut dyn Write) -> Result<Outcome, Error> {
    #[cfg(unix)]
    return run::run(opts, out);
    // The package is rewritten through directory handles that follow no link, and builds run in
    // process groups: both need a Unix system.
    #[cfg(not(unix))]
    {
        let _ = (opts, out);
        Err(Error::Usage(
            "`elfcheck fix` needs Linux or macOS (on Windows, run it in WSL or a container); checking works here"
                .into(),
        ))
    }
}
