//! Checking: read each input, resolve its target, run every rule, apply the user's policy, and
//! summarize per package. The one verb of the library is `check`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::advice::Lookup;
use crate::config::Policy;
use crate::error::Error;
use crate::fix::plan::Plan;
use crate::package::{InputKind, Layout, Package};
use crate::report::model::{InputReport, PackageSummary, Report, TargetSummary};
use crate::rules::{Code, Finding, Severity};
use crate::source::Limits;
use crate::target::Target;
use crate::target::resolve::{Assumption, Requested};

/// What to check against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The runtime and architecture asked for, and whether templates may say the rest.
    pub target: Requested,
    pub limits: Limits,
    /// Severity overrides and ignores from `elfcheck.toml`.
    pub policy: Policy,
    /// Layers attached to the function: their `lib/` and other directories are under `/opt` for
    /// the loader, and their size counts against the function's limit.
    pub layers: Vec<PathBuf>,
    /// Whether advice may ask the package index for compatible versions.
    pub lookup: Lookup,
    /// Check every input as one package, even a build output or project root that holds an
    /// application (see [`crate::app`]).
    pub packages_only: bool,
}

/// One input read and checked: the package, the target it was judged against, what was found.
pub struct Checked {
    pub package: Package,
    pub target: Target,
    pub summary: InputReport,
    pub findings: Vec<Finding>,
}

/// Checks every input as one package against its target and returns one report
/// ([`crate::app::check`] also reads applications).
pub fn check(inputs: &[PathBuf], options: &Options) -> Result<Report, Error> {
    let mut report = Report::default();
    for input in inputs {
        let checked = check_input(input, &input.display().to_string(), options)?;
        report.inputs.push(checked.summary);
        report.findings.extend(checked.findings);
    }
    report.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(report)
}

/// What an input is, by its name and type.
pub fn input_kind(path: &Path) -> InputKind {
    if path.is_dir() {
        InputKind::Directory
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("whl")) {
        InputKind::Wheel
    } else {
        InputKind::Zip
    }
}

/// Reads and checks one input; `label` names it in findings (the path as the user wrote it).
pub fn check_input(input: &Path, label: &str, options: &Options) -> Result<Checked, Error> {
    let contents = crate::source::read(input, &options.limits)?;
    let mut layers = Vec::new();
    for layer in &options.layers {
        layers.push(Arc::new(Package::layer(crate::source::read(layer, &options.limits)?, input_kind(layer))));
    }
    let package = Package::build(contents, input_kind(input), layers);
    let (target, assumed) = crate::target::resolve::resolve(input, &package, &options.target)?;
    let (mut summary, findings, plan) = judge(&package, &target, assumed, label, options);
    summary.fix_command = fix_command(input, label, &target, &plan, &summary.packages);
    Ok(Checked { package, target, summary, findings })
}

/// Judges a package already read against a resolved target: every rule, then the user's policy,
/// then what `fix` would do for the errors, then the summary of its input (without a fix
/// command, which depends on how the input is given). Reading is the expensive part; this is
/// cheap, so one package may be judged against several targets or with several sets of layers.
pub fn judge(
    package: &Package,
    target: &Target,
    assumed: Vec<Assumption>,
    label: &str,
    options: &Options,
) -> (InputReport, Vec<Finding>, Plan) {
    let mut findings = check_package(package, target, label);
    let ignored = options.policy.apply(&mut findings);
    let plan = crate::fix::plan::plan(package, target, &findings);
    let summary = InputReport {
        input: label.to_string(),
        layout: package.layout,
        target: TargetSummary {
            runtime: target.runtime.map(|r| r.id.clone()),
            os: target.os().name.clone(),
            arch: target.arch,
            glibc: target.os().glibc.to_string(),
            abi_judged: !abi_unjudged(&assumed),
            assumed,
        },
        entries: package.entries.len(),
        binaries: package.objects().count(),
        ignored,
        packages: package_summaries(package, target, &findings, &plan, options.lookup),
        fix_command: None,
        app: None,
    };
    (summary, findings, plan)
}

/// Runs every rule over a package already read.
pub fn check_package(pkg: &Package, target: &Target, input: &str) -> Vec<Finding> {
    let mut findings = crate::rules::run(pkg, target);
    for f in &mut findings {
        f.input = input.to_string();
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// Whether an assumption left the language ABI unjudged (the version came from the package).
pub fn abi_unjudged(assumed: &[Assumption]) -> bool {
    assumed.iter().any(|a| matches!(a, Assumption::InferredRuntime { .. }))
}

fn package_summaries(
    pkg: &Package,
    target: &Target,
    findings: &[Finding],
    plan: &Plan,
    lookup: Lookup,
) -> Vec<PackageSummary> {
    let advice = crate::advice::advise(pkg, target, findings, lookup);
    // Binaries per distribution, in one pass over the objects.
    let mut counts: HashMap<String, usize> = HashMap::new();
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
            fix: (errors > 0).then(|| {
                system_library_fix(findings, &label, plan)
                    .unwrap_or_else(|| crate::advice::package_fix(dist, target, advice.get(&dist.root)))
            }),
            advice: advice.get(&dist.root).cloned(),
        });
    }
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out
}

/// The fix of a distribution whose only errors are libraries it expects the system to provide:
/// reinstalling it brings the same files, so the fix is what `fix` would say can help (a layer
/// with the library, and the package that ships it).
fn system_library_fix(findings: &[Finding], label: &str, plan: &Plan) -> Option<crate::advice::PackageFix> {
    let mut own = findings.iter().filter(|f| f.severity == Severity::Error && f.package.as_deref() == Some(label));
    if !own.all(|f| f.code == Code::MissingLibrary) {
        return None;
    }
    let mut why: Vec<&str> = Vec::new();
    for u in plan.unfixable.iter().filter(|u| u.finding.package.as_deref() == Some(label)) {
        if !why.contains(&u.why.as_str()) {
            why.push(&u.why);
        }
    }
    (!why.is_empty()).then(|| crate::advice::PackageFix {
        summary: why.join("; "),
        command: Vec::new(),
        run_in: "the unpacked package".to_string(),
    })
}

/// The `elfcheck fix` command for an input with something `fix` can rebuild: the input, an output
/// beside it, and the target the check used.
fn fix_command(
    input: &Path,
    label: &str,
    target: &Target,
    plan: &Plan,
    packages: &[PackageSummary],
) -> Option<Vec<String>> {
    if plan.is_empty() {
        return None;
    }
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "package".into());
    let out_name = if input.is_dir() {
        format!("{stem}-fixed")
    } else {
        let ext = input.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        format!("{stem}-fixed{ext}")
    };
    let out = match Path::new(label).parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir.join(out_name).display().to_string(),
        None => out_name,
    };
    let mut argv = vec!["elfcheck".to_string(), "fix".into(), label.to_string(), "-o".into(), out];
    if let Some(r) = target.runtime {
        argv.extend(["--runtime".into(), r.id.clone()]);
    }
    argv.extend(["--arch".into(), target.arch.lambda_name().to_string()]);
    // `fix --upgrade-to-compatible` changes the versions of Python distributions only.
    let upgrades = packages.iter().any(|p| {
        p.ecosystem == crate::attribution::Ecosystem::Python
            && p.advice.as_ref().is_some_and(|a| a.newest_compatible.is_some() && a.newest_compatible != p.version)
    });
    if upgrades {
        argv.push("--upgrade-to-compatible".into());
    }
    // Some errors have no fix (the plan says so, or the index has no build of any version for
    // the target): without --partial, fix would write nothing.
    let no_build = packages
        .iter()
        .any(|p| p.advice.as_ref().is_some_and(|a| a.index == crate::advice::IndexAnswer::NoneCompatible));
    if !plan.unfixable.is_empty() || no_build {
        argv.push("--partial".into());
    }
    Some(argv)
}

/// `function` or `layer`, as reports name a layout.
pub fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Function => "function",
        Layout::Layer => "layer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggested_fix_is_partial_when_a_distribution_has_no_build_for_the_target() {
        let input = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python-built-on-mac.zip"));
        let options = Options {
            target: Requested {
                runtime: Some("python3.11".into()),
                arch: Some(crate::Arch::X86_64),
                from_templates: false,
            },
            lookup: Lookup::Offline,
            ..Options::default()
        };
        let checked = check_input(input, "pkg.zip", &options).unwrap();
        let plan = crate::fix::plan::plan(&checked.package, &checked.target, &checked.findings);
        let command =
            |packages: &[PackageSummary]| fix_command(input, "pkg.zip", &checked.target, &plan, packages).unwrap();
        // Offline, both distributions are reinstalled at their versions.
        assert!(!command(&checked.summary.packages).contains(&"--partial".to_string()));
        // The index says one of them has no build of any version for the target.
        let mut packages = checked.summary.packages.clone();
        let fastio = packages.iter_mut().find(|p| p.name == "fastio").unwrap();
        fastio.advice = Some(crate::advice::Advice {
            package: "fastio".into(),
            installed: Some("0.4.2".into()),
            newest_compatible: None,
            index: crate::advice::IndexAnswer::NoneCompatible,
            runtimes_accepting_installed: vec!["python3.12".into()],
            runtimes_with_a_build: Vec::new(),
        });
        assert_eq!(command(&packages).last().map(String::as_str), Some("--partial"));
    }
}
