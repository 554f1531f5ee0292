//! The JSON document: `version`, `inputs`, `findings` (sorted by input, path, code), `summary`.
//! Field order is fixed by the structs; nothing depends on time or the machine.

use std::io::{self, Write};

use serde::Serialize;

use super::model::{AppReport, InputReport, Report};
use crate::rules::{Finding, Severity};

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize, schemars::JsonSchema)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    /// Application inputs (absent when every input is a single package).
    #[serde(default, skip_serializing_if = "<[AppReport]>::is_empty")]
    apps: &'a [AppReport],
    inputs: &'a [InputReport],
    findings: &'a [Finding],
    summary: Summary,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    inputs: usize,
    binaries: usize,
}

/// The JSON Schema of the document `render` writes (`elfcheck schema`, `docs/report.schema.json`).
pub fn schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Document);
    schema.insert("title".into(), "elfcheck report".into());
    schema.insert("$id".into(), format!("{}/blob/main/docs/report.schema.json", env!("CARGO_PKG_REPOSITORY")).into());
    schema
}

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: SCHEMA_VERSION,
        tool: Tool { name: "elfcheck", version: env!("CARGO_PKG_VERSION") },
        apps: &report.apps,
        inputs: &report.inputs,
        findings: &report.findings,
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
            inputs: report.inputs.len(),
            binaries: report.inputs.iter().map(|i| i.binaries).sum(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
