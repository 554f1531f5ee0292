//! SARIF 2.1.0 for code scanning: one rule per finding code (with its documentation and a help
//! link), one result per finding. A finding inside a zip points at the zip (a URI relative to the
//! repository, `%SRCROOT%`), with the entry as a logical location. Results are written one by one,
//! so memory does not grow with their number.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::model::Report;
use crate::rules::{Finding, RULES, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const ROOT: &str = "%SRCROOT%";

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

/// The directory URIs are relative to: the repository that holds the current directory, else the
/// current directory itself.
fn source_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf).unwrap_or(cwd)
}

/// An input's URI relative to the source root (absolute inputs too, when they lie inside it).
fn relative_uri(input: &str, root: &Path) -> String {
    let path = Path::new(input);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match absolute.strip_prefix(&root) {
        Ok(rel) => uri(&rel.to_string_lossy().replace('\\', "/")),
        Err(_) => uri(&input.replace('\\', "/")),
    }
}

/// The project's documentation of one code.
pub fn help_uri(code: &str) -> String {
    format!("{}/blob/main/docs/rules.md#{code}", env!("CARGO_PKG_REPOSITORY"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
    partial_fingerprints: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: Physical,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<Logical<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    fully_qualified_name: &'a str,
    kind: &'static str,
}

fn result<'a>(f: &'a Finding, uri: String) -> SarifResult<'a> {
    let mut text = f.message.clone();
    if let Some(seen) = &f.runtime_error {
        text.push_str(&format!(". On Lambda: {seen}"));
    }
    let mut properties = serde_json::Map::new();
    if let Some(fix) = &f.fix {
        properties.insert("fix".into(), json!(fix));
    }
    if let Some(p) = &f.package {
        properties.insert("package".into(), json!(p));
    }
    if let Some(function) = &f.resource.function {
        properties.insert("function".into(), json!(function));
    }
    if let Some(layer) = &f.resource.layer {
        properties.insert("layer".into(), json!(layer));
        properties.insert("forFunctions".into(), json!(f.resource.for_functions));
    }
    let mut logical = Vec::new();
    if let Some(id) = f.resource.id() {
        // The function or layer of an application, as its template names it.
        logical.push(Logical { name: Some(id), fully_qualified_name: id, kind: "resource" });
    }
    if !f.path.is_empty() {
        logical.push(Logical { name: None, fully_qualified_name: &f.path, kind: "member" });
    }
    let fingerprint = match f.resource.id() {
        Some(id) => format!("{}:{id}:{}", f.code, f.path),
        None => format!("{}:{}", f.code, f.path),
    };
    SarifResult {
        rule_id: f.code.as_str(),
        rule_index: f.code as usize,
        level: level(f.severity),
        message: Text { text },
        locations: [Location {
            // Binaries have no lines: a whole-file region at line 1, which code scanning needs.
            physical_location: Physical {
                artifact_location: Artifact { uri, uri_base_id: ROOT },
                region: Region { start_line: 1 },
            },
            logical_locations: logical,
        }],
        partial_fingerprints: json!({ "elfcheck/v1": fingerprint }),
        properties: (!properties.is_empty()).then_some(serde_json::Value::Object(properties)),
    }
}

/// The rule's tags: what kind of problem, for code scanning's filters.
fn tags(code: &str) -> Vec<&'static str> {
    let kind = match code {
        "corrupt-entry"
        | "duplicate-entry"
        | "unsafe-path"
        | "nested-archive-refused"
        | "unreadable-file"
        | "dangling-symlink"
        | "backslash-path"
        | "package-too-large"
        | "not-executable"
        | "bootstrap-script" => "packaging",
        _ => "native-code",
    };
    vec!["lambda", kind, "portability"]
}

/// `elfcheck/python3.12/x86_64/`: results of a matrix of targets are told apart by it.
fn automation_id(report: &Report) -> String {
    let mut targets: Vec<String> = report
        .inputs
        .iter()
        .map(|i| {
            format!("{}/{}", i.target.runtime.clone().unwrap_or_else(|| i.target.os.replace(' ', "-")), i.target.arch)
        })
        .collect();
    targets.sort();
    targets.dedup();
    let joined = if targets.is_empty() { "none".to_string() } else { targets.join("+") };
    format!("elfcheck/{joined}/")
}

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            let code = r.code.as_str();
            let doc = r.doc();
            json!({
                "id": code,
                "name": code,
                "shortDescription": { "text": r.summary() },
                "fullDescription": { "text": doc.split("\n\n").next().unwrap_or_default().replace('\n', " ") },
                "help": { "text": doc, "markdown": doc },
                "helpUri": help_uri(code),
                "defaultConfiguration": { "level": level(r.def.severity) },
                "properties": { "tags": tags(code) },
            })
        })
        .collect();
    let root = source_root();
    let root_uri = format!("file://{}/", uri(&std::fs::canonicalize(&root).unwrap_or(root.clone()).to_string_lossy()));
    let head = json!({
        "tool": { "driver": {
            "name": "elfcheck",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": env!("CARGO_PKG_REPOSITORY"),
            "rules": rules,
        }},
        "automationDetails": { "id": automation_id(report) },
        "originalUriBaseIds": { ROOT: { "uri": root_uri } },
    });
    // The run's fixed parts, then the results streamed one by one into its `results` array.
    let head = serde_json::to_string(&head).map_err(io::Error::other)?;
    write!(out, r#"{{"$schema":"{SCHEMA}","version":"2.1.0","runs":[{},"results":["#, &head[..head.len() - 1])?;
    let mut uris: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let u = uris.entry(f.input.as_str()).or_insert_with(|| relative_uri(&f.input, &root)).clone();
        serde_json::to_writer(&mut *out, &result(f, u)).map_err(io::Error::other)?;
    }
    writeln!(out, "]}}]}}")
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}
