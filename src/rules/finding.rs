//! What a rule reports: a small, ordered, serializable record.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::Code;
use crate::resource::ResourceRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!("unknown severity `{s}` (expected error, warning or info)")),
        }
    }
}

/// One problem with one path of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The input (zip or directory) as given on the command line.
    pub input: String,
    /// Relative to the package root, `/`-separated; `OUTER!/INNER` inside nested archives.
    pub path: String,
    /// A lowercase fragment, names in backticks.
    pub message: String,
    /// What the user would see on Lambda: the text to search for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_error: Option<String>,
    /// How to fix it, imperative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The distribution that installed the file (`editdistance 0.8.1`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The function or layer of an application the finding belongs to (nothing for a package
    /// checked on its own).
    #[serde(flatten)]
    pub resource: ResourceRef,
}

impl Finding {
    pub fn new(code: Code, severity: Severity, path: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            input: String::new(),
            path: path.into(),
            message: message.into(),
            runtime_error: None,
            fix: None,
            package: None,
            resource: ResourceRef::default(),
        }
    }

    pub fn runtime_error(mut self, text: impl Into<String>) -> Self {
        self.runtime_error = Some(text.into());
        self
    }

    pub fn fix(mut self, text: impl Into<String>) -> Self {
        self.fix = Some(text.into());
        self
    }

    /// The order of every report: by input, path, then code.
    pub fn sort_key(&self) -> (&str, &str, &str) {
        (&self.input, &self.path, self.code.as_str())
    }
}
