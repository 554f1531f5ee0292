//! Checking an application: every distinct code location is read once, then judged per use.
//!
//! Reading (listing, inflating, parsing binaries) is the expensive part and judging is cheap,
//! so a layer is read once into an `Arc<Package>` and attached to every function that names
//! it, and a folder or zip that several functions share (a CDK asset whose hash they share, a
//! Serverless service zip) is read once and judged once per function, with that function's
//! target and layers. Distinct locations are read in parallel.
//!
//! A layer is judged once per distinct target of the functions that attach it (a layer shared
//! by x86_64 and arm64 functions must load on both), or, when no function attaches it, against
//! its first compatible runtime and architecture.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::{Application, Function, label_of, relative};
use crate::check::{Options, input_kind, judge};
use crate::error::Error;
use crate::package::Package;
use crate::report::model::{AppReport, AppSection, InputReport, Report};
use crate::resource::ResourceRef;
use crate::rules::{Code, Finding};
use crate::source::Contents;
use crate::target::resolve::{Assumption, Requested};
use crate::target::{Arch, Target};

/// A function's id, the target it was judged for, its section, and whether `fix` has something
/// to rebuild in it.
type Judged = (String, Target, Section, bool);

/// One judged section.
struct Section {
    summary: InputReport,
    findings: Vec<Finding>,
}

/// Checks `app` (found in the input labelled `input`, at `below` inside it) into `report`.
pub(super) fn check(
    app: &Application,
    input: &str,
    below: &Path,
    options: &Options,
    report: &mut Report,
) -> Result<(), Error> {
    let index = report.apps.len();
    let label = |code: &Path| label_of(input, &below.join(relative(code, &app.root)));
    let mut skipped = app.skipped.clone();
    skipped.sort();

    // Every distinct location read once, all in one parallel pass (largest first, so the long
    // reads start early and no phase waits for another): the layers, then the functions' code.
    let layer_paths: Vec<PathBuf> = dedup(app.layers.iter().map(|l| l.code.clone()));
    let mut groups: BTreeMap<PathBuf, Vec<&Function>> = BTreeMap::new();
    for f in &app.functions {
        groups.entry(f.code.clone()).or_default().push(f);
    }
    let mut locations: Vec<&PathBuf> = layer_paths.iter().chain(groups.keys()).collect();
    locations.sort();
    locations.dedup();
    let code_read = locations.len();
    locations.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)));
    let read: Vec<Result<(PathBuf, Contents), Error>> =
        locations.par_iter().map(|p| Ok(((*p).clone(), crate::source::read(p, &options.limits)?))).collect();
    let mut contents: HashMap<PathBuf, Contents> = HashMap::new();
    for r in read {
        let (p, c) = r?;
        contents.insert(p, c);
    }
    // A location that is both a layer and a function's code is read twice: once each way.
    let mut take = |p: &PathBuf| -> Result<Contents, Error> {
        match contents.remove(p) {
            Some(c) => Ok(c),
            None => crate::source::read(p, &options.limits),
        }
    };
    let mut layer_packages: HashMap<PathBuf, Arc<Package>> = HashMap::new();
    for p in &layer_paths {
        layer_packages.insert(p.clone(), Arc::new(Package::layer(take(p)?, input_kind(p))));
    }
    let layer_of = |id: &str| app.layer(id).and_then(|l| layer_packages.get(&l.code)).cloned();

    // Functions: each location judged once per function that uses it, with that function's
    // target and layers.
    let mut groups_read = Vec::new();
    for (path, functions) in groups {
        let c = take(&path)?;
        groups_read.push((path, functions, c));
    }
    let judged: Vec<Result<Vec<Judged>, Error>> = groups_read
        .into_par_iter()
        .map(|(path, functions, contents)| {
            let path = &path;
            let mut pkg = Package::build(contents, input_kind(path), Vec::new());
            let mut out = Vec::new();
            for f in functions {
                pkg.layers = f.layers.iter().filter_map(|id| layer_of(id)).collect();
                let (target, assumed) = function_target(f, &pkg)?;
                let (mut summary, mut findings, plan) = judge(&pkg, &target, assumed, &label(path), options);
                let fixable = !plan.is_empty();
                findings.extend(layer_count(f, &pkg, &label(path), options));
                let resource = ResourceRef::function(&f.id);
                for finding in &mut findings {
                    finding.resource = resource.clone();
                }
                summary.app = Some(AppSection {
                    app: index,
                    resource,
                    layers: f.layers.clone(),
                    external_layers: f.external_layers.clone(),
                });
                out.push((f.id.clone(), target, Section { summary, findings }, fixable));
            }
            Ok(out)
        })
        .collect();
    let mut by_function: HashMap<String, (Target, Section)> = HashMap::new();
    let mut fixable = false;
    for group in judged {
        for (id, target, section, can_fix) in group? {
            fixable |= can_fix;
            by_function.insert(id, (target, section));
        }
    }

    let mut sections = Vec::new();
    let mut targets: HashMap<&str, Target> = HashMap::new();
    for f in &app.functions {
        if let Some((target, section)) = by_function.remove(&f.id) {
            targets.insert(f.id.as_str(), target);
            sections.push(section);
        }
    }

    for layer in &app.layers {
        let Some(pkg) = layer_packages.get(&layer.code) else { continue };
        // The distinct targets of the functions attaching it, in the functions' order.
        let mut by_target: Vec<(Target, Vec<String>)> = Vec::new();
        for user in app.users_of(&layer.id) {
            let Some(t) = targets.get(user.id.as_str()) else { continue };
            match by_target.iter_mut().find(|(known, _)| same_target(known, t)) {
                Some((_, users)) => users.push(user.id.clone()),
                None => by_target.push((t.clone(), vec![user.id.clone()])),
            }
        }
        let judgements = if by_target.is_empty() {
            let (target, assumed) = declared_target(layer, pkg)?;
            vec![(target, assumed, Vec::new())]
        } else {
            by_target.into_iter().map(|(t, users)| (t, Vec::new(), users)).collect()
        };
        for (target, assumed, users) in judgements {
            let (mut summary, mut findings, plan) = judge(pkg, &target, assumed, &label(&layer.code), options);
            fixable |= !plan.is_empty();
            let resource = ResourceRef::layer(&layer.id, users);
            for finding in &mut findings {
                finding.resource = resource.clone();
            }
            summary.app = Some(AppSection { app: index, resource, layers: Vec::new(), external_layers: Vec::new() });
            sections.push(Section { summary, findings });
        }
    }

    report.apps.push(AppReport {
        input: input.to_string(),
        tool: app.tool.id().to_string(),
        root: below.display().to_string(),
        templates: app.templates.clone(),
        functions: app.functions.len(),
        layers: app.layers.len(),
        code_read,
        skipped,
        fix_command: fixable.then(|| fix_command(&label_of(input, below))),
    });
    for s in sections {
        report.inputs.push(s.summary);
        report.findings.extend(s.findings);
    }
    Ok(())
}

/// `elfcheck fix BUILD -o BUILD-fixed`: a fixed copy of the build output beside it.
fn fix_command(root: &str) -> Vec<String> {
    let trimmed = root.trim_end_matches('/');
    let out = if trimmed.is_empty() || trimmed == "." {
        let name = std::env::current_dir().ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
        format!("../{}-fixed", name.unwrap_or_else(|| "build".into()))
    } else {
        format!("{trimmed}-fixed")
    };
    vec!["elfcheck".into(), "fix".into(), root.to_string(), "-o".into(), out]
}

/// Paths in first-seen order, each once.
fn dedup(paths: impl Iterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn same_target(a: &Target, b: &Target) -> bool {
    a.arch == b.arch && a.os_id == b.os_id && a.runtime.map(|r| &r.id) == b.runtime.map(|r| &r.id)
}

/// A function's target: its template's runtime and architecture. What the template does not say
/// statically is inferred from the package, as for a package checked on its own, and said.
fn function_target(f: &Function, pkg: &Package) -> Result<(Target, Vec<Assumption>), Error> {
    let mut assumed = Vec::new();
    let arch = match &f.arch {
        Ok(a) => *a,
        Err(why) => {
            assumed.push(Assumption::TemplateUnresolved {
                property: "Architectures".into(),
                reason: format!("{why}; judged for x86_64, Lambda's default"),
            });
            Arch::X86_64
        }
    };
    match &f.runtime {
        Ok(id) if crate::target::table().runtime(id).is_some() => Ok((Target::new(Some(id), arch)?, assumed)),
        other => {
            let reason = match other {
                Ok(id) => format!("`{id}` is not a runtime elfcheck knows"),
                Err(why) => why.clone(),
            };
            assumed.push(Assumption::TemplateUnresolved { property: "Runtime".into(), reason });
            inferred(pkg, arch, assumed)
        }
    }
}

/// A layer no function attaches: its first compatible runtime and architecture.
fn declared_target(layer: &super::Layer, pkg: &Package) -> Result<(Target, Vec<Assumption>), Error> {
    let arch = layer.compatible_architectures.first().copied().unwrap_or(Arch::X86_64);
    match layer.compatible_runtimes.iter().find(|r| crate::target::table().runtime(r).is_some()) {
        Some(id) => Ok((Target::new(Some(id), arch)?, Vec::new())),
        None => {
            let reason = "the layer names no compatible runtime elfcheck knows".to_string();
            inferred(pkg, arch, vec![Assumption::TemplateUnresolved { property: "CompatibleRuntimes".into(), reason }])
        }
    }
}

fn inferred(pkg: &Package, arch: Arch, mut assumed: Vec<Assumption>) -> Result<(Target, Vec<Assumption>), Error> {
    let requested = Requested { runtime: None, arch: Some(arch), from_templates: false };
    let (target, more) = crate::target::resolve::resolve(Path::new(""), pkg, &requested)?;
    assumed.extend(more);
    Ok((target, assumed))
}

/// Lambda's layer limit counts the layers from outside the application too, which the package
/// rule cannot see.
fn layer_count(f: &Function, pkg: &Package, label: &str, options: &Options) -> Vec<Finding> {
    let max = crate::target::table().lambda.max_layers;
    let total = pkg.layers.len() + f.external_layers.len();
    if pkg.layers.len() > max || total <= max || f.external_layers.is_empty() {
        return Vec::new();
    }
    let mut finding = Finding::new(
        Code::PackageTooLarge,
        Code::PackageTooLarge.severity(),
        "",
        format!(
            "{total} layers ({} from outside the application), over Lambda's limit of {max}",
            f.external_layers.len()
        ),
    )
    .runtime_error(format!("Cannot reference more than {max} layers"))
    .fix("merge layers, or move dependencies into the function or a container image");
    finding.input = label.to_string();
    let mut out = vec![finding];
    options.policy.apply(&mut out);
    out
}
