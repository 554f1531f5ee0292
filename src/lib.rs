//! elfcheck: finds the native code in an AWS Lambda package that the runtime cannot load.
//!
//! Data flows one way: input -> entries ([`source`]) -> classified binaries ([`binary`]) ->
//! the package with owners ([`package`], [`attribution`]) -> what the runtime loads and how
//! ([`loader`]) -> findings ([`rules`]) -> report ([`report`]) -> exit code. `ARCHITECTURE.md`
//! maps the modules and what each may use.
//!
//! The public entry points are [`check`] (every input, one report; an application's build output
//! gives a section per function and layer, see [`app`]), [`check_input`] (one input, with the
//! package it read), [`fix::run`] and, for applications, [`app::fix::run`].

pub mod advice;
pub mod app;
pub mod attribution;
pub mod binary;
pub mod check;
pub mod commands;
pub mod config;
pub mod error;
pub mod fix;
pub mod hint;
pub mod loader;
pub mod package;
pub mod paths;
pub mod report;
pub mod resource;
pub mod rules;
mod safe_fs;
pub mod source;
pub mod target;
pub mod template;
pub mod text;
pub mod version;

pub use app::check;
pub use check::{Checked, Options, check_input, check_package};
pub use error::Error;
pub use report::model::{InputReport, PackageSummary, Report, TargetSummary};
pub use rules::{Code, Finding, Severity};
pub use target::{Arch, Target};
