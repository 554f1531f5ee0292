//! Renderers: the same [`Report`](model::Report) as text for people or documents for machines.

mod github;
mod human;
mod json;
pub mod model;
pub mod runtimes;
mod sarif;

use std::io::{self, Write};

use model::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text, grouped by package.
    Human,
    /// A versioned JSON document.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

pub struct HumanOptions {
    pub color: bool,
    /// List info-level findings too (they are only counted otherwise).
    pub verbose: bool,
}

pub fn render(report: &Report, format: Format, human: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, human, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, out),
    }
}
