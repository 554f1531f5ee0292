//! What a check found, as data: the model every renderer and `fix` read.

use serde::Serialize;

use crate::advice::{Advice, PackageFix};
use crate::attribution::Ecosystem;
use crate::package::Layout;
use crate::resource::ResourceRef;
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
    /// Where the section sits in an application; absent for a package checked on its own.
    #[serde(flatten)]
    pub app: Option<AppSection>,
}

impl InputReport {
    /// The resource its findings carry (empty for a package checked on its own).
    pub fn resource(&self) -> ResourceRef {
        self.app.as_ref().map(|a| a.resource.clone()).unwrap_or_default()
    }

    /// Whether a finding belongs to this section.
    pub fn owns(&self, f: &Finding) -> bool {
        f.input == self.input
            && match &self.app {
                Some(a) => f.resource == a.resource,
                None => f.resource.is_empty(),
            }
    }
}

/// A function or layer of an application, as one section of the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AppSection {
    /// Index into [`Report::apps`].
    pub app: usize,
    #[serde(flatten)]
    pub resource: ResourceRef,
    /// A function's layers from the same application (logical ids), in the order attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// A function's layers from outside the application (ARNs, or what the template says):
    /// not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_layers: Vec<String>,
}

/// An application input: which build output was read, and what in it was not checked.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AppReport {
    /// The path as given.
    pub input: String,
    /// `sam`, `cdk` or `serverless`.
    pub tool: String,
    /// The build output read, as a path from the input (`.aws-sam/build` for a project root;
    /// empty when the input is the build output itself).
    pub root: String,
    /// The map files read: templates, manifests.
    pub templates: Vec<String>,
    pub functions: usize,
    pub layers: usize,
    /// Distinct code locations read (a folder or zip shared by several functions, or a layer
    /// attached to several, is read once).
    pub code_read: usize,
    /// Functions and layers with nothing to check, and why.
    pub skipped: Vec<Skipped>,
    /// The `elfcheck fix` command for the whole application, when something is fixable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_command: Option<Vec<String>>,
}

/// A function or layer that was not checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Skipped {
    /// The logical id (or the ARN of a layer from outside the application).
    pub id: String,
    /// `function` or `layer`.
    pub kind: String,
    /// A lowercase fragment.
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub inputs: Vec<InputReport>,
    pub findings: Vec<Finding>,
    /// The application inputs, in order; sections point here by index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppReport>,
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
