//! elfcheck: finds the native code in an AWS Lambda package that the runtime cannot load.
//!
//! Data flows one way: input -> entries ([`source`]) -> classified binaries ([`binary`]) ->
//! the package with owners and placements ([`package`], [`platform`]) -> findings ([`rules`]) ->
//! report ([`report`]) -> exit code.

pub mod attribution;
pub mod binary;
pub mod config;
pub mod error;
pub mod finding;
pub mod fix;
pub mod hint;
pub mod infer;
pub mod loader;
pub mod package;
pub mod platform;
pub mod python;
pub mod report;
pub mod rules;
#[cfg(unix)]
mod safe_fs;
pub mod source;
pub mod target;
pub mod template;
pub mod version;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use error::Error;
pub use finding::{Finding, Severity};
pub use target::{Arch, Target};

/// What to check against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A Lambda runtime id (`python3.12`); inferred from the package when `None`.
    pub runtime: Option<String>,
    /// The function's CPU; x86_64 when `None`, as in Lambda.
    pub arch: Option<Arch>,
    pub limits: source::Limits,
    /// Severity overrides and ignores from `elfcheck.toml`.
    pub policy: config::Policy,
    /// Layers attached to the function: their `lib/` and other directories are under `/opt` for
    /// the loader, and their size counts against the function's limit.
    pub layers: Vec<PathBuf>,
    /// Read the target from a SAM `template.yaml` or `serverless.yml` beside each input when
    /// `runtime` / `arch` are not given.
    pub from_templates: bool,
}

/// The target an input was judged against, and what was assumed to get it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetSummary {
    pub runtime: Option<String>,
    pub os: String,
    pub arch: Arch,
    pub glibc: String,
    /// Sentences saying what was inferred or assumed (empty when the user said everything).
    pub assumed: Vec<String>,
}

/// A distribution with its binaries and what is wrong with them.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSummary {
    pub name: String,
    pub version: Option<String>,
    pub ecosystem: package::Ecosystem,
    /// The wheel's platform tag, when it is a wheel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel_platform: Option<String>,
    pub binaries: usize,
    pub errors: usize,
    /// How to reinstall it for the target, when it has error findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub input: String,
    pub layout: package::Layout,
    pub target: TargetSummary,
    pub entries: usize,
    pub binaries: usize,
    /// Findings dropped by ignores in `elfcheck.toml`.
    pub ignored: usize,
    pub packages: Vec<PackageSummary>,
}

#[derive(Debug, Clone, Serialize)]
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

/// Checks every input against the target and returns one report.
pub fn scan(inputs: &[PathBuf], options: &Options) -> Result<Report, Error> {
    let mut report = Report { inputs: Vec::new(), findings: Vec::new() };
    for input in inputs {
        let (summary, findings) = scan_one(input, options)?;
        report.inputs.push(summary);
        report.findings.extend(findings);
    }
    report.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(report)
}

/// One input read and checked: the package, the target it was judged against, what was found.
pub struct Checked {
    pub package: package::Package,
    pub target: Target,
    pub summary: InputReport,
    pub findings: Vec<Finding>,
}

/// Reads and checks one input; `label` names it in findings (the path as the user wrote it).
pub fn check_input(input: &Path, label: &str, options: &Options) -> Result<Checked, Error> {
    let contents = source::read(input, &options.limits)?;
    let mut pkg = package::Package::new(contents.entries, contents.zipped_size);
    pkg.is_wheel = input.extension().is_some_and(|e| e.eq_ignore_ascii_case("whl"));
    for layer in &options.layers {
        let contents = source::read(layer, &options.limits)?;
        pkg.layers.push(package::Package::new_layer(contents.entries, contents.zipped_size));
    }
    let (target, assumed) = resolve_target(input, &pkg, options)?;
    let mut findings = check_package(&pkg, &target, label);
    let ignored = options.policy.apply(&mut findings);
    let summary = InputReport {
        input: label.to_string(),
        layout: pkg.layout,
        target: TargetSummary {
            runtime: target.runtime.map(|r| r.id.clone()),
            os: target.os().name.clone(),
            arch: target.arch,
            glibc: target.os().glibc.to_string(),
            assumed,
        },
        entries: pkg.entries.len(),
        binaries: pkg.objects().count(),
        ignored,
        packages: package_summaries(&pkg, &target, &findings),
    };
    Ok(Checked { package: pkg, target, summary, findings })
}

/// Reads and checks one input.
pub fn scan_one(input: &Path, options: &Options) -> Result<(InputReport, Vec<Finding>), Error> {
    let checked = check_input(input, &input.display().to_string(), options)?;
    Ok((checked.summary, checked.findings))
}

/// Runs every rule over a package already read.
pub fn check_package(pkg: &package::Package, target: &Target, input: &str) -> Vec<Finding> {
    let placements = platform::place(pkg, target);
    let ctx = rules::Context { package: pkg, target, placements: &placements };
    let mut findings = rules::check(&ctx);
    for f in &mut findings {
        f.input = input.to_string();
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// The target for one input: what the user said, else what its template declares, else what the
/// package shows; every guess is recorded in the returned sentences.
fn resolve_target(input: &Path, pkg: &package::Package, options: &Options) -> Result<(Target, Vec<String>), Error> {
    let mut assumed = Vec::new();
    let declared = if options.from_templates && (options.runtime.is_none() || options.arch.is_none()) {
        template::discover(input)
    } else {
        None
    };
    let mut runtime = options.runtime.clone();
    let mut arch = options.arch;
    if let Some(d) = &declared {
        let mut took = Vec::new();
        if let (None, Some(r)) = (&runtime, &d.function.runtime) {
            took.push(format!("runtime {r}"));
            runtime = Some(r.clone());
        }
        if let (None, Some(a)) = (arch, d.function.arch) {
            took.push(format!("architecture {a}"));
            arch = Some(a);
        }
        if !took.is_empty() {
            let file = d.source.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let doubt = if d.ambiguous { "; its functions differ, pass --runtime to choose" } else { "" };
            assumed.push(format!("{}, from `{file}` (function {}){doubt}", took.join(" and "), d.function.name));
        }
    }
    let arch = match arch {
        Some(a) => a,
        None => {
            assumed.push("architecture x86_64 (Lambda's default; use --arch arm64 for Graviton)".to_string());
            Arch::X86_64
        }
    };
    if let Some(id) = &runtime {
        return Ok((Target::new(Some(id), arch)?, assumed));
    }
    match infer::guess_runtime(pkg) {
        Some(infer::Guess { runtime: Some(id), reason }) => {
            assumed.push(format!("runtime {id}, from the {reason}"));
            Ok((Target::new(Some(&id), arch)?, assumed))
        }
        guess => {
            let t = Target::new(None, arch)?;
            let what = match guess {
                Some(g) => format!("{}, version unknown", g.reason),
                None => "no runtime given or inferred".to_string(),
            };
            assumed.push(format!(
                "{what}: glibc judged against {} ({}), the oldest OS still supported",
                t.os().name,
                t.os().glibc
            ));
            Ok((t, assumed))
        }
    }
}

fn package_summaries(pkg: &package::Package, target: &Target, findings: &[Finding]) -> Vec<PackageSummary> {
    // Binaries per distribution, in one pass over the objects.
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (e, _) in pkg.objects() {
        if let Some(d) = pkg.owner_of(&e.path) {
            *counts.entry(d.root.clone()).or_default() += 1;
        }
    }
    let mut out: Vec<PackageSummary> = Vec::new();
    for dist in &pkg.distributions {
        let label = dist.label();
        let binaries = counts.get(&dist.root).copied().unwrap_or(0);
        if binaries == 0 {
            continue;
        }
        let errors =
            findings.iter().filter(|f| f.severity == Severity::Error && f.package.as_deref() == Some(&label)).count();
        out.push(PackageSummary {
            name: dist.name.clone(),
            version: dist.version.clone(),
            ecosystem: dist.ecosystem,
            wheel_platform: dist.wheel_platform().map(str::to_string),
            binaries,
            errors,
            fix: (errors > 0).then(|| hint::reinstall(dist, target)),
        });
    }
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out
}
