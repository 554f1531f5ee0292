//! Whole applications: the build output of AWS SAM (`.aws-sam/build`), the AWS CDK
//! (`cdk.out`) or the Serverless Framework (`.serverless`), or a project root holding one.
//!
//! Each tool leaves a machine-readable map of what it deploys; [`load`] reads it into one
//! [`Application`]: every zip function with its runtime, architecture, code location and the
//! layers it attaches, every layer, and what is not checked (container images, layers from
//! outside the application) with the reason. [`check`] then reads every distinct code location
//! once and judges it per function ([`run`]); [`fix`] rebuilds each function's code for that
//! function's target.
//!
//! - [`cfn`]: CloudFormation templates in YAML or JSON, static intrinsic functions.
//! - [`resources`]: functions and layers of one template, whatever the tool.
//! - [`sam`], [`cdk`], [`serverless`]: where each tool keeps its templates and code.

mod cdk;
pub mod cfn;
#[cfg(unix)]
pub mod fix;
/// `elfcheck fix` rewrites packages through Unix directory handles; elsewhere it is refused.
#[cfg(not(unix))]
pub mod fix {
    use crate::error::Error;
    use crate::fix::{FixOptions, Outcome};

    pub fn run(_: &FixOptions, _: &[super::Found], _: &mut dyn std::io::Write) -> Result<Outcome, Error> {
        Err(Error::Usage("`elfcheck fix` needs Linux or macOS (on Windows, run it in WSL or a container)".into()))
    }
}
pub mod resources;
mod run;
mod sam;
mod serverless;

use std::path::{Path, PathBuf};

use crate::check::Options;
use crate::error::Error;
use crate::report::model::{Report, Skipped};
use crate::target::Arch;

/// The build tool whose output an application input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Sam,
    Cdk,
    Serverless,
}

impl Tool {
    pub fn id(self) -> &'static str {
        match self {
            Tool::Sam => "sam",
            Tool::Cdk => "cdk",
            Tool::Serverless => "serverless",
        }
    }

    /// Where the tool leaves its output in a project root.
    fn output_dir(self) -> &'static str {
        match self {
            Tool::Sam => ".aws-sam/build",
            Tool::Cdk => "cdk.out",
            Tool::Serverless => ".serverless",
        }
    }
}

/// A build output found for an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub tool: Tool,
    /// The build output directory.
    pub root: PathBuf,
    /// The part of `root` below the input (`.aws-sam/build` for a project root; empty when the
    /// input is the build output itself).
    pub below: PathBuf,
}

/// Everything an application deploys, as its build output describes it.
#[derive(Debug, Clone)]
pub struct Application {
    pub tool: Tool,
    pub root: PathBuf,
    /// The map files read, relative to `root`.
    pub templates: Vec<String>,
    pub functions: Vec<Function>,
    pub layers: Vec<Layer>,
    /// Functions and layers with nothing to check, and why.
    pub skipped: Vec<Skipped>,
}

/// A zip function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The logical id (`Stack/LogicalId` when the application has several stacks).
    pub id: String,
    /// Its code: a folder or a zip.
    pub code: PathBuf,
    /// The runtime id, or why the template does not say it statically.
    pub runtime: Result<String, String>,
    /// The architecture (`x86_64` when the template says none, as Lambda does), or why the
    /// template does not say it statically.
    pub arch: Result<Arch, String>,
    /// Layers of this application, by id, in the order attached.
    pub layers: Vec<String>,
    /// Layers from outside the application (ARNs), or ones whose value is not static: not checked.
    pub external_layers: Vec<String>,
}

/// A layer of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub id: String,
    pub code: PathBuf,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<Arch>,
}

impl Application {
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// The functions that attach a layer.
    pub fn users_of(&self, layer: &str) -> Vec<&Function> {
        self.functions.iter().filter(|f| f.layers.iter().any(|l| l == layer)).collect()
    }
}

const SAM_TEMPLATES: [&str; 3] = ["template.yaml", "template.yml", "template.json"];
const SLS_TEMPLATE: &str = "cloudformation-template-update-stack.json";

/// The build outputs `path` is or holds: the output directory itself, or a project root with
/// `.aws-sam/build`, `cdk.out` or `.serverless` in it (every one present). Empty for anything
/// else, which is then checked as one package.
pub fn detect(path: &Path) -> Vec<Found> {
    if !path.is_dir() {
        return Vec::new();
    }
    if let Some(tool) = output_kind(path) {
        return vec![Found { tool, root: path.to_path_buf(), below: PathBuf::new() }];
    }
    let mut found = Vec::new();
    for tool in [Tool::Sam, Tool::Cdk, Tool::Serverless] {
        let root = if path == Path::new(".") { PathBuf::from(tool.output_dir()) } else { path.join(tool.output_dir()) };
        if output_kind(&root) == Some(tool) {
            found.push(Found { tool, root, below: PathBuf::from(tool.output_dir()) });
        }
    }
    found
}

/// Which tool's output a directory is: a cloud assembly `manifest.json` with a stack, the
/// Serverless Framework's compiled stack template, or a template that `sam build` wrote
/// (inside `.aws-sam/`, or carrying the `SamResourceId` metadata `sam build` adds).
fn output_kind(dir: &Path) -> Option<Tool> {
    if !dir.is_dir() {
        return None;
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("manifest.json"))
        && cdk::is_assembly_manifest(&text)
    {
        return Some(Tool::Cdk);
    }
    if dir.join(SLS_TEMPLATE).is_file() {
        return Some(Tool::Serverless);
    }
    let in_aws_sam = dir.parent().and_then(Path::file_name).is_some_and(|n| n == ".aws-sam");
    for name in SAM_TEMPLATES {
        let path = dir.join(name);
        if path.is_file() && (in_aws_sam || std::fs::read_to_string(&path).is_ok_and(|t| t.contains("SamResourceId"))) {
            return Some(Tool::Sam);
        }
    }
    None
}

/// Reads a build output's map into an [`Application`].
pub fn load(found: &Found) -> Result<Application, Error> {
    match found.tool {
        Tool::Sam => sam::load(&found.root),
        Tool::Cdk => cdk::load(&found.root),
        Tool::Serverless => serverless::load(&found.root),
    }
}

/// Checks every input, applications and single packages, into one report: an application
/// input gives a section per function and per layer (and target), a package one section as
/// [`crate::check::check_input`] gives it.
///
/// For an application, each function's target is its template's: `options.target` runtime and
/// architecture and `options.layers` are refused (they describe one package).
pub fn check(inputs: &[PathBuf], options: &Options) -> Result<Report, Error> {
    let mut report = Report::default();
    for input in inputs {
        check_into(input, options, &mut report)?;
    }
    sort_findings(&mut report);
    Ok(report)
}

/// Checks one input, an application or a package, into `report` (findings unsorted).
pub fn check_into(input: &Path, options: &Options, report: &mut Report) -> Result<(), Error> {
    let label = input.display().to_string();
    let found = if options.packages_only { Vec::new() } else { detect(input) };
    if found.is_empty() {
        let checked = crate::check::check_input(input, &label, options)?;
        report.inputs.push(checked.summary);
        report.findings.extend(checked.findings);
        return Ok(());
    }
    refuse_package_options(&label, options)?;
    for f in &found {
        let app = load(f)?;
        run::check(&app, &label, &f.below, options, report)?;
    }
    Ok(())
}

/// The order of every report: by input, then function or layer, path and code.
pub fn sort_findings(report: &mut Report) {
    report.findings.sort_by(|a, b| {
        (a.input.as_str(), &a.resource, a.path.as_str(), a.code.as_str()).cmp(&(
            b.input.as_str(),
            &b.resource,
            b.path.as_str(),
            b.code.as_str(),
        ))
    });
}

/// `--runtime`, `--arch` and `--layer` describe one package; an application's template gives
/// each function its own.
pub fn refuse_package_options(label: &str, options: &Options) -> Result<(), Error> {
    let t = &options.target;
    if t.runtime.is_some() || t.arch.is_some() || !options.layers.is_empty() {
        return Err(Error::Usage(format!(
            "`{label}` is an application: its template gives each function its runtime, architecture and layers, so --runtime, --arch and --layer do not apply (--no-app checks it as one package)"
        )));
    }
    Ok(())
}

/// `base` joined with `rel`, as the user would write it (`.aws-sam/build/ArmFunction`).
fn label_of(base: &str, rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        return base.to_string();
    }
    if base == "." || base == "./" {
        return rel.display().to_string();
    }
    Path::new(base).join(rel).display().to_string()
}

/// `path` relative to `root`, when it is below it.
fn relative(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_build_outputs_and_project_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".aws-sam/build")).unwrap();
        std::fs::write(root.join(".aws-sam/build/template.yaml"), "Resources: {}\n").unwrap();
        std::fs::create_dir_all(root.join("cdk.out")).unwrap();
        std::fs::write(
            root.join("cdk.out/manifest.json"),
            r#"{"version":"55.0.0","artifacts":{"S":{"type":"aws:cloudformation:stack","properties":{"templateFile":"S.template.json"}}}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("other/template.yaml"), "Resources: {}\n").unwrap();

        let sam = detect(&root.join(".aws-sam/build"));
        assert_eq!(sam, vec![Found { tool: Tool::Sam, root: root.join(".aws-sam/build"), below: PathBuf::new() }]);
        let tools: Vec<Tool> = detect(root).iter().map(|f| f.tool).collect();
        assert_eq!(tools, vec![Tool::Sam, Tool::Cdk]);
        assert_eq!(detect(root)[1].below, PathBuf::from("cdk.out"));
        // A source template is not a build output.
        assert!(detect(&root.join("other")).is_empty());
        std::fs::write(root.join("other/template.yaml"), "Resources:\n  F:\n    Metadata: {SamResourceId: F}\n")
            .unwrap();
        assert_eq!(detect(&root.join("other"))[0].tool, Tool::Sam);
        assert!(detect(&root.join("cdk.out/manifest.json")).is_empty());
    }
}
