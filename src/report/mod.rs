//! Renderers: the same [`Report`](model::Report) as text for people or documents for machines.

mod github;
mod human;
pub mod json;
pub mod model;
pub mod runtimes;
mod sarif;

use std::io::{self, Write};

use model::Report;

pub use human::describe as assumption_words;

use crate::rules::{Code, Severity};

/// How many findings of each code a report holds, in the order of the registry.
pub fn statistics(report: &Report) -> Vec<(Code, usize)> {
    crate::rules::RULES
        .iter()
        .map(|r| (r.code, report.findings.iter().filter(|f| f.code == r.code).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// `--statistics`: a table of counts per code, or the same as JSON.
pub fn render_statistics(report: &Report, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let stats = statistics(report);
    if json {
        let rows: Vec<serde_json::Value> = stats
            .iter()
            .map(|(code, n)| serde_json::json!({ "code": code, "count": n, "severity": code.severity() }))
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        return writeln!(out);
    }
    for (code, n) in &stats {
        let severity: Severity = code.severity();
        writeln!(out, "{n:>6}  {:<26} {:<8} {}", code, severity, code.rule().summary())?;
    }
    Ok(())
}

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
    /// The findings only, one line each.
    pub quiet: bool,
}

pub fn render(report: &Report, format: Format, human: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human if human.quiet => human::render_quiet(report, human, out),
        Format::Human => human::render(report, human, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, out),
    }
}
