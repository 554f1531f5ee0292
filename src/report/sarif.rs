//! SARIF 2.1.0: one rule per finding code (with its documentation), one result per finding.
//! A finding inside a zip points at the zip, with the entry as a logical location.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::model::Report;
use crate::rules::{RULES, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Percent-encodes what a URI reference may not hold literally.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'@' | b'+' | b'=' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code.as_str(),
                "name": r.code.as_str(),
                "shortDescription": { "text": r.summary() },
                "fullDescription": { "text": r.doc() },
                "help": { "text": r.doc() },
                "defaultConfiguration": { "level": level(r.def.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = f.code as usize;
            let mut text = f.message.clone();
            if let Some(seen) = &f.runtime_error {
                text.push_str(&format!(". On Lambda: {seen}"));
            }
            let mut location = json!({ "physicalLocation": { "artifactLocation": { "uri": uri(&f.input) } } });
            let mut logical = Vec::new();
            if let Some(id) = f.resource.id() {
                // The function or layer of an application, as its template names it.
                logical.push(json!({ "name": id, "fullyQualifiedName": id, "kind": "resource" }));
            }
            if !f.path.is_empty() {
                logical.push(json!({ "fullyQualifiedName": f.path, "kind": "member" }));
            }
            if !logical.is_empty() {
                location["logicalLocations"] = json!(logical);
            }
            let fingerprint = match f.resource.id() {
                Some(id) => format!("{}:{id}:{}", f.code, f.path),
                None => format!("{}:{}", f.code, f.path),
            };
            let mut result = json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [location],
                "partialFingerprints": { "elfcheck/v1": fingerprint },
            });
            if let Some(fix) = &f.fix {
                result["properties"] = json!({ "fix": fix });
            }
            if let Some(p) = &f.package {
                result["properties"]["package"] = json!(p);
            }
            if let Some(function) = &f.resource.function {
                result["properties"]["function"] = json!(function);
            }
            if let Some(layer) = &f.resource.layer {
                result["properties"]["layer"] = json!(layer);
                result["properties"]["forFunctions"] = json!(f.resource.for_functions);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "elfcheck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}
