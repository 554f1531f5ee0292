//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding,
//! shown as annotations on the run.

use std::io::{self, Write};

use super::model::Report;
use crate::rules::Severity;

/// Escapes a property or message as the workflow-command syntax requires.
fn escape(s: &str, property: bool) -> String {
    let mut out = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let location = if f.path.is_empty() { f.input.clone() } else { format!("{}!/{}", f.input, f.path) };
        let location = match (&f.resource.function, &f.resource.layer) {
            (Some(function), _) => format!("{location} (function {function})"),
            (None, Some(layer)) => format!("{location} (layer {layer})"),
            (None, None) => location,
        };
        let mut text = f.message.clone();
        if let Some(seen) = &f.runtime_error {
            text.push_str(&format!("\non Lambda: {seen}"));
        }
        if let Some(fix) = &f.fix {
            text.push_str(&format!("\nfix: {fix}"));
        }
        writeln!(
            out,
            "::{level} file={},title={}::{}",
            escape(&f.input, true),
            escape(&format!("{} {}", f.code, location), true),
            escape(&text, false)
        )?;
    }
    Ok(())
}
