//! `elfcheck fix` for an application: each function's code is rebuilt for that function's
//! target, with its layers attached; a layer is rebuilt once, for the one target of the functions
//! that attach it. When one folder or layer serves functions of different targets (x86_64 and
//! arm64, or two Python versions), no rebuild suits all of them: it is refused, with the reason.
//!
//! Output: `--in-place` fixes the build output where it is, each function and layer replaced
//! atomically once its own re-check passes. `-o OUT` writes a fixed copy of the whole build
//! output (the template or manifest and every code location, so OUT deploys like the original:
//! `sam deploy -t OUT/template.yaml`, `cdk deploy --app OUT`, `serverless deploy --package OUT`);
//! the copy is staged beside OUT and renamed into place only when the re-check of the whole
//! application finds no error (or `--keep-failed`). Each rebuild is the single-package
//! [`crate::fix::run`], so it keeps that command's guarantees.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Application, Found, label_of, relative};
use crate::check::Options;
use crate::error::Error;
use crate::fix::cleanup::Guard;
use crate::fix::{FixOptions, Outcome};
use crate::report::model::{InputReport, Report};
use crate::rules::Severity;
use crate::target::Arch;
use crate::target::resolve::Requested;

/// One rebuild: a function's code or a layer, for one target.
struct Job {
    /// `function ArmFunction`, `layer SharedLayer`.
    what: String,
    code: PathBuf,
    runtime: Option<String>,
    arch: Arch,
    /// The layers attached while judging it.
    layers: Vec<PathBuf>,
}

/// Fixes the application(s) found in `opts.input`.
pub fn run(opts: &FixOptions, found: &[Found], out: &mut dyn Write) -> Result<Outcome, Error> {
    let w = |e: std::io::Error| Error::Fix(format!("writing the report: {e}"));
    let input_label = opts.input.display().to_string();
    super::refuse_package_options(&input_label, &opts.scan)?;
    if opts.output.is_some() && opts.in_place {
        return Err(Error::Usage("give either -o OUT or --in-place, not both".into()));
    }
    if opts.output.is_none() && !opts.in_place && !opts.plan_only {
        return Err(Error::Usage(
            "say where the fixed application goes: -o OUT (a fixed copy of the build output) or --in-place".into(),
        ));
    }
    if opts.output.is_some() && found.len() > 1 {
        let names: Vec<String> = found.iter().map(|f| format!("`{}`", f.below.display())).collect();
        return Err(Error::Usage(format!(
            "`{input_label}` holds {} build outputs ({}): fix one at a time with -o, or use --in-place",
            found.len(),
            names.join(", ")
        )));
    }
    if let Some(o) = &opts.output {
        let empty_dir = std::fs::read_dir(o).is_ok_and(|mut d| d.next().is_none());
        if o.exists() && !empty_dir {
            return Err(Error::Usage(format!(
                "{} exists: -o names a new (or empty) directory for the fixed copy",
                o.display()
            )));
        }
        // The copy is staged beside OUT: OUT must lie outside the build output it copies.
        let parent = match o.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let parent = std::fs::canonicalize(&parent).map_err(|e| Error::io(&parent, e))?;
        for f in found {
            let root = std::fs::canonicalize(&f.root).map_err(|e| Error::io(&f.root, e))?;
            if parent.starts_with(&root) {
                return Err(Error::Usage(format!(
                    "{} is inside the build output {}: put the fixed copy elsewhere",
                    o.display(),
                    f.root.display()
                )));
            }
        }
    }

    crate::fix::cleanup::install();
    let mut guards = Vec::new();
    let mut exit_code = 0;
    let mut recheck = Report::default();
    for f in found {
        let app = super::load(f)?;
        let mut before = Report::default();
        super::run::check(&app, &input_label, &f.below, &opts.scan, &mut before)?;
        let (jobs, refused) = plan(&app, &before);
        let errors = before.findings.iter().filter(|x| x.severity == Severity::Error).count();
        writeln!(
            out,
            "{}: {} in {} and {}",
            label_of(&input_label, &f.below),
            crate::text::plural(errors, "error"),
            crate::text::plural(app.functions.len(), "function"),
            crate::text::plural(app.layers.len(), "layer")
        )
        .map_err(w)?;
        for (what, why) in &refused {
            writeln!(out, "cannot fix {what}: {why}").map_err(w)?;
        }
        if jobs.is_empty() && refused.is_empty() {
            writeln!(out, "nothing to fix").map_err(w)?;
            continue;
        }
        if opts.plan_only {
            for job in &jobs {
                run_job(opts, job, &job.code, &job.layers, None, out)?;
            }
            continue;
        }
        let (code_of, staging) = match &opts.output {
            Some(o) => {
                let staging = stage(&app.root, o)?;
                guards.push(Guard::new(staging.path()));
                (Box::new(move_root(&app.root, staging.path())) as Box<dyn Fn(&Path) -> PathBuf>, Some(staging))
            }
            None => (Box::new(|p: &Path| p.to_path_buf()) as Box<dyn Fn(&Path) -> PathBuf>, None),
        };
        let mut failed = !refused.is_empty();
        for job in &jobs {
            let layers: Vec<PathBuf> = job.layers.iter().map(|l| code_of(l)).collect();
            let rename = staging.as_ref().zip(opts.output.as_ref()).map(|(s, o)| (s.path().to_path_buf(), o.clone()));
            match run_job(opts, job, &code_of(&job.code), &layers, rename, out) {
                Ok(o) if o.exit_code == 0 => {}
                Ok(_) => failed = true,
                Err(e) => {
                    writeln!(out, "could not fix {}: {e}", job.what).map_err(w)?;
                    failed = true;
                }
            }
        }
        // The whole application again, where it now is.
        let (root, label, below) = match (&staging, &opts.output) {
            (Some(s), Some(o)) => (s.path().to_path_buf(), o.display().to_string(), PathBuf::new()),
            _ => (f.root.clone(), input_label.clone(), f.below.clone()),
        };
        let after_app = super::load(&Found { tool: f.tool, root, below: below.clone() })?;
        let mut after = Report::default();
        super::run::check(&after_app, &label, &below, &opts.scan, &mut after)?;
        let remaining = after.findings.iter().filter(|x| x.severity == Severity::Error).count();
        failed |= remaining > 0;
        if let (Some(s), Some(o)) = (staging, &opts.output) {
            if !failed || opts.keep_failed {
                let kept = s.keep();
                if o.is_dir() {
                    // Checked empty before anything was built.
                    std::fs::remove_dir(o).map_err(|e| Error::io(o, e))?;
                }
                std::fs::rename(&kept, o)
                    .map_err(|e| Error::Fix(format!("moving the fixed copy to {}: {e}", o.display())))?;
                writeln!(out, "output: {}{}", o.display(), if failed { " (kept as asked: --keep-failed)" } else { "" })
                    .map_err(w)?;
            } else {
                writeln!(out, "output: not written ({} remain)", crate::text::plural(remaining, "error")).map_err(w)?;
            }
        }
        if failed {
            exit_code = 1;
        } else {
            writeln!(out, "re-check: no errors in {label}").map_err(w)?;
        }
        merge(&mut recheck, after);
    }
    drop(guards);
    let recheck = (!opts.plan_only && !recheck.inputs.is_empty()).then_some(recheck);
    Ok(Outcome { exit_code, recheck })
}

/// What to rebuild, and what cannot be rebuilt for every function it serves (and why).
fn plan(app: &Application, report: &Report) -> (Vec<Job>, Vec<(String, String)>) {
    let has_errors = |s: &InputReport| report.findings.iter().any(|f| f.severity == Severity::Error && s.owns(f));
    let section_of = |id: &str| report.inputs.iter().find(|s| s.resource().function.as_deref() == Some(id));
    let target_words = |s: &InputReport| match &s.target.runtime {
        Some(r) => format!("{r} {}", s.target.arch),
        None => s.target.arch.to_string(),
    };
    let (mut jobs, mut refused) = (Vec::new(), Vec::new());

    // Functions, by code location.
    let mut seen: Vec<&Path> = Vec::new();
    for f in &app.functions {
        if seen.contains(&f.code.as_path()) {
            continue;
        }
        seen.push(&f.code);
        let sharing: Vec<&super::Function> = app.functions.iter().filter(|g| g.code == f.code).collect();
        let sections: Vec<(&super::Function, &InputReport)> =
            sharing.iter().filter_map(|g| section_of(&g.id).map(|s| (*g, s))).collect();
        let Some((first, section)) = sections.iter().find(|(_, s)| has_errors(s)).copied() else { continue };
        let mut targets: Vec<String> = sections.iter().map(|(_, s)| target_words(s)).collect();
        targets.dedup();
        if targets.len() > 1 {
            let users: Vec<String> = sections.iter().map(|(g, s)| format!("{} ({})", g.id, target_words(s))).collect();
            refused.push((
                format!("`{}`", relative(&f.code, &app.root).display()),
                format!(
                    "it is the code of {}: one build cannot load on all of them; give them separate code",
                    users.join(", ")
                ),
            ));
            continue;
        }
        jobs.push(Job {
            what: format!("function {}", first.id),
            code: f.code.clone(),
            runtime: section.target.runtime.clone(),
            arch: section.target.arch,
            layers: first.layers.iter().filter_map(|id| app.layer(id)).map(|l| l.code.clone()).collect(),
        });
    }

    // Layers, once each.
    for layer in &app.layers {
        let sections: Vec<&InputReport> =
            report.inputs.iter().filter(|s| s.resource().layer.as_deref() == Some(layer.id.as_str())).collect();
        let Some(section) = sections.iter().find(|s| has_errors(s)).copied() else { continue };
        if sections.len() > 1 {
            let users: Vec<String> = sections
                .iter()
                .map(|s| format!("{} functions ({})", target_words(s), s.resource().for_functions.join(", ")))
                .collect();
            refused.push((
                format!("layer {}", layer.id),
                format!(
                    "it is attached by {}: one layer cannot hold native code that loads on all of them; split it per target",
                    users.join(" and ")
                ),
            ));
            continue;
        }
        jobs.push(Job {
            what: format!("layer {}", layer.id),
            code: layer.code.clone(),
            runtime: section.target.runtime.clone(),
            arch: section.target.arch,
            layers: Vec::new(),
        });
    }
    (jobs, refused)
}

/// Rebuilds one function or layer with the single-package fix, at `code` (in the build output or
/// in the staged copy). `rename` maps the staging directory to OUT in what it prints.
fn run_job(
    opts: &FixOptions,
    job: &Job,
    code: &Path,
    layers: &[PathBuf],
    rename: Option<(PathBuf, PathBuf)>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let w = |e: std::io::Error| Error::Fix(format!("writing the report: {e}"));
    writeln!(out, "\n== {}", job.what).map_err(w)?;
    let sub = FixOptions {
        input: code.to_path_buf(),
        output: None,
        in_place: !opts.plan_only,
        scan: Options {
            target: Requested { runtime: job.runtime.clone(), arch: Some(job.arch), from_templates: false },
            layers: layers.to_vec(),
            packages_only: true,
            ..opts.scan.clone()
        },
        ..opts.clone()
    };
    let mut buf = Vec::new();
    let result = crate::fix::run(&sub, &mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if let Some((staging, output)) = rename {
        // The rebuild ran in the staged copy; its messages name where the copy goes.
        text = text.replace(&staging.display().to_string(), &output.display().to_string());
    }
    out.write_all(text.as_bytes()).map_err(w)?;
    result
}

/// Copies the build output to a temporary directory beside `output`.
fn stage(root: &Path, output: &Path) -> Result<tempfile::TempDir, Error> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "app".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.elfcheck-"))
        .tempdir_in(&dir)
        .map_err(|e| Error::Fix(format!("creating a temporary copy in {}: {e}", dir.display())))?;
    copy_tree(root, staging.path())?;
    Ok(staging)
}

/// A path in the build output, moved to the same place in the staged copy.
fn move_root(root: &Path, staging: &Path) -> impl Fn(&Path) -> PathBuf + use<> {
    let (root, staging) = (root.to_path_buf(), staging.to_path_buf());
    move |p: &Path| match p.strip_prefix(&root) {
        Ok(rel) => staging.join(rel),
        Err(_) => p.to_path_buf(),
    }
}

/// Copies a directory tree: files with their permissions, symlinks as links, directories with
/// their modes.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.map_err(|e| Error::Fix(format!("copying {}: {e}", from.display())))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        let ty = entry.file_type();
        if ty.is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
            let mode = entry.metadata().map(|m| m.permissions().mode()).unwrap_or(0o755);
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode | 0o700))
                .map_err(|e| Error::io(&dest, e))?;
        } else if ty.is_symlink() {
            let target = std::fs::read_link(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            std::os::unix::fs::symlink(&target, &dest).map_err(|e| Error::io(&dest, e))?;
        } else {
            std::fs::copy(entry.path(), &dest).map_err(|e| Error::io(&dest, e))?;
        }
    }
    Ok(())
}

fn merge(into: &mut Report, from: Report) {
    let offset = into.apps.len();
    into.apps.extend(from.apps);
    for mut i in from.inputs {
        if let Some(a) = &mut i.app {
            a.app += offset;
        }
        into.inputs.push(i);
    }
    into.findings.extend(from.findings);
}
