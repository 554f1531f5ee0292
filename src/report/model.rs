//! What a check found, as data: the model every renderer and `fix` read.

use serde::Serialize;

use crate::advice::{Advice, PackageFix};
use crate::attribution::Ecosystem;
use crate::package::Layout;
use crate::rules::{Finding, Severity};
use crate::target::Arch;
use crate::target::resolve::Assumption;

/// The target an input was judged against, and what was assumed to get it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TargetSummary {
    pub runtime: Option<String>,
    pub os: String,
    pub arch: Arch,
    pub glibc: String,
    /// What was inferred or assumed (empty when the user said everything).
    pub assumed: Vec<Assumption>,
    /// False when the runtime's language version was read from the package itself: an
    /// extension for another Python or Node.js version cannot be told from the rest then.
    pub abi_judged: bool,
}

/// A distribution with its binaries and what is wrong with them.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PackageSummary {
    pub name: String,
    pub version: Option<String>,
    pub ecosystem: Ecosystem,
    /// The wheel's platform tag, when it is a wheel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel_platform: Option<String>,
    pub binaries: usize,
    pub errors: usize,
    /// How to reinstall it for the target, when it has error findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<PackageFix>,
    /// Better versions or runtimes, when its findings are about versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
}

impl PackageSummary {
    /// `editdistance 0.8.1`, as findings name their package.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InputReport {
    pub input: String,
    pub layout: Layout,
    pub target: TargetSummary,
    pub entries: usize,
    pub binaries: usize,
    /// Findings dropped by ignores in `elfcheck.toml`.
    pub ignored: usize,
    pub packages: Vec<PackageSummary>,
    /// The `elfcheck fix` command that fixes what is fixable, as arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub inputs: Vec<InputReport>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Whether any finding is at or above `level`.
    pub fn fails(&self, level: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= level)
    }
}
