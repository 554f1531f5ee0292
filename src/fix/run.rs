//! The fix itself: check, plan, build, rewrite, re-check (Unix only, see the module above).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::plan::{self, NodeInstall, Plan, PythonRebuild};
use super::{FixOptions, Outcome, Via, cleanup, docker, npm, output, pip, rewrite};
use crate::check::{Checked, Options};
use crate::error::Error;
use crate::report::model::Report;
use crate::rules::Severity;

/// Runs `elfcheck fix`, writing what it does to `out`.
pub(super) fn run(opts: &FixOptions, out: &mut dyn Write) -> Result<Outcome, Error> {
    cleanup::install();
    let input = &opts.input;
    let output = output_path(opts)?;
    // Where the output may go is decided before anything is read or built.
    let dest = if opts.plan_only {
        None
    } else {
        Some(output::Destination::resolve(input, &output, opts.in_place, opts.force, &opts.scan.layers)?)
    };
    let label = input.display().to_string();
    let checked = crate::check::check_input(input, &label, &opts.scan)?;
    let errors = checked.findings.iter().filter(|f| f.severity == Severity::Error).count();
    let w = |e: std::io::Error| Error::Fix(format!("writing the report: {e}"));
    writeln!(out, "{label}: {} for {}", crate::text::plural(errors, "error"), checked.target.label()).map_err(w)?;
    if errors == 0 {
        writeln!(out, "nothing to fix").map_err(w)?;
        return Ok(Outcome { exit_code: 0, recheck: None });
    }
    let plan = plan::plan(&checked.package, &checked.target, &checked.findings);
    let via = choose_via(opts, &plan, out)?;
    print_plan(&plan, &checked, opts, via, &output, out)?;
    if opts.plan_only {
        return Ok(Outcome { exit_code: 0, recheck: None });
    }
    if plan.is_empty() {
        writeln!(out, "nothing elfcheck can rebuild; no output written").map_err(w)?;
        return Ok(Outcome { exit_code: 1, recheck: None });
    }
    let Some(dest) = dest else {
        return Err(Error::Internal("no output to write".into()));
    };

    // Leftovers of killed runs go first; the output is reserved before the build, which proves
    // its directory writable before minutes are spent building.
    output::clean_stale(dest.dir_path());
    let temp = dest.reserve(input.is_dir())?;
    let build = tempfile::Builder::new()
        .prefix(&format!("{}{}-", output::BUILD_PREFIX, std::process::id()))
        .tempdir()
        .map_err(|e| Error::Fix(format!("creating a build directory: {e}")))?;
    let _build_guard = cleanup::Guard::new(build.path());
    let changes = build_changes(opts, &plan, &checked, via, build.path())?;

    let recheck_options = Options {
        target: crate::target::resolve::Requested {
            runtime: checked.target.runtime.map(|r| r.id.clone()),
            arch: Some(checked.target.arch),
            from_templates: false,
        },
        ..opts.scan.clone()
    };
    let label = output.display().to_string();
    let (after, counts) = write_output(input, &dest, temp, &changes, opts.keep_failed, |tmp| {
        crate::check::check_input(tmp, &label, &recheck_options)
    })?;
    let remaining = after.findings.iter().filter(|f| f.severity == Severity::Error).count();
    for r in &plan.python {
        writeln!(out, "rebuilt {} {} for {}", r.name, r.version, checked.target.label()).map_err(w)?;
    }
    for n in &plan.node {
        let replaced = replaced_text(&n.replaces);
        writeln!(out, "installed {}{replaced}", n.spec()).map_err(w)?;
    }
    writeln!(
        out,
        "{}: {} entries kept byte for byte, {} removed, {} added",
        output.display(),
        counts.kept,
        counts.removed,
        counts.added
    )
    .map_err(w)?;
    let report = Report { inputs: vec![after.summary.clone()], findings: after.findings.clone(), ..Report::default() };
    if remaining > 0 {
        let fate = if opts.keep_failed { "kept as asked (--keep-failed)" } else { "not written" };
        writeln!(out, "re-check: {} remain; the output was {fate}", crate::text::plural(remaining, "error"))
            .map_err(w)?;
        return Ok(Outcome { exit_code: 1, recheck: Some(report) });
    }
    writeln!(out, "re-check: no errors in {}", output.display()).map_err(w)?;
    Ok(Outcome { exit_code: 0, recheck: Some(report) })
}

/// ` in place of `a`, `b``
fn replaced_text(replaces: &[String]) -> String {
    if replaces.is_empty() {
        return String::new();
    }
    let names: Vec<String> = replaces.iter().map(|r| format!("`{r}`")).collect();
    format!(" in place of {}", names.join(", "))
}

fn output_path(opts: &FixOptions) -> Result<PathBuf, Error> {
    match (&opts.output, opts.in_place) {
        (Some(_), true) => Err(Error::Usage("give either -o OUT or --in-place, not both".into())),
        (None, true) => Ok(opts.input.clone()),
        (None, false) if opts.plan_only => Ok(opts.input.clone()),
        (None, false) => Err(Error::Usage("say where the fixed package goes: -o OUT (or --in-place)".into())),
        (Some(o), false) => {
            let same =
                std::fs::canonicalize(o).ok().is_some_and(|c| std::fs::canonicalize(&opts.input).ok() == Some(c));
            if same {
                return Err(Error::Usage("the output is the input: use --in-place to replace it".into()));
            }
            Ok(o.clone())
        }
    }
}

fn choose_via(opts: &FixOptions, plan: &Plan, out: &mut dyn Write) -> Result<Via, Error> {
    if plan.python.is_empty() || opts.via != Via::Auto {
        return Ok(opts.via);
    }
    Ok(match docker::engine_status(&opts.docker) {
        Ok(()) => Via::Docker,
        Err(why) => {
            let _ = writeln!(out, "no Docker engine ({why}); rebuilding with pip from manylinux wheels");
            Via::Pip
        }
    })
}

/// The CA bundle for pip: `--ca-bundle`, else what `SSL_CERT_FILE` / `PIP_CERT` /
/// `REQUESTS_CA_BUNDLE` name, else the system bundle (where corporate proxies' CAs are installed).
fn ca_bundle(opts: &FixOptions) -> Option<PathBuf> {
    if let Some(given) = &opts.ca_bundle {
        return Some(given.clone());
    }
    let from_env =
        ["SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"].into_iter().filter_map(std::env::var_os).map(PathBuf::from);
    let system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
        .map(PathBuf::from);
    from_env.chain(system).find(|p| p.is_file())
}

fn build_image(opts: &FixOptions, target: &crate::target::Target) -> Result<String, Error> {
    opts.image.clone().map_or_else(|| docker::default_image(target), Ok)
}

fn docker_build<'a>(
    opts: &'a FixOptions,
    image: &'a str,
    target: &'a crate::target::Target,
) -> docker::DockerBuild<'a> {
    docker::DockerBuild { docker: &opts.docker, image, target, ca_bundle: ca_bundle(opts), quiet: opts.quiet }
}

fn print_plan(
    plan: &Plan,
    checked: &Checked,
    opts: &FixOptions,
    via: Via,
    output: &Path,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let w = |e: std::io::Error| Error::Fix(format!("writing the report: {e}"));
    let target = &checked.target;
    for (site, rebuilds) in plan.python_by_site() {
        let names: Vec<String> = rebuilds.iter().map(|r| r.spec()).collect();
        let dir = if site.is_empty() { "the package root".to_string() } else { format!("`{site}`") };
        writeln!(out, "plan: rebuild {} into {dir}", names.join(", ")).map_err(w)?;
        let dest = Path::new("BUILD");
        let command = match via {
            Via::Docker => {
                let image = build_image(opts, target)?;
                let d = docker_build(opts, &image, target);
                format!("{} {}", opts.docker, {
                    // A directory made now is owned by the invoking user, on every Unix.
                    let probe =
                        tempfile::tempdir().map_err(|e| Error::Fix(format!("creating a temporary directory: {e}")))?;
                    d.args(&rebuilds, Path::new("BUILD"), probe.path())?.join(" ")
                })
            }
            _ => format!(
                "{} -m pip {}",
                opts.python,
                pip::pip_args(target, &rebuilds, dest, ca_bundle(opts).as_deref())?.join(" ")
            ),
        };
        writeln!(out, "  {command}").map_err(w)?;
    }
    if !plan.node.is_empty() {
        let installs: Vec<&NodeInstall> = plan.node.iter().collect();
        for n in &installs {
            let replaces = replaced_text(&n.replaces);
            writeln!(out, "plan: install {} into `{}`{replaces}", n.spec(), n.node_modules).map_err(w)?;
        }
        writeln!(out, "  npm {}", npm::npm_args(target, &installs, Path::new("BUILD")).join(" ")).map_err(w)?;
    }
    for (f, why) in &plan.unfixable {
        writeln!(out, "cannot fix: {} [{}]: {why}", f.path, f.code).map_err(w)?;
    }
    if !opts.plan_only {
        writeln!(out, "output: {}", output.display()).map_err(w)?;
    }
    Ok(())
}

/// Runs the builds and turns their output into changes to the package.
fn build_changes(
    opts: &FixOptions,
    plan: &Plan,
    checked: &Checked,
    via: Via,
    build: &Path,
) -> Result<rewrite::Changes, Error> {
    let mut changes = rewrite::Changes::default();
    let target = &checked.target;
    let ca = ca_bundle(opts);
    for (n, (site, rebuilds)) in plan.python_by_site().into_iter().enumerate() {
        let group = build.join(format!("python-{n}"));
        std::fs::create_dir_all(&group).map_err(|e| Error::io(&group, e))?;
        let built = match via {
            Via::Docker => {
                let image = build_image(opts, target)?;
                let d = docker_build(opts, &image, target);
                d.install(&rebuilds, &group)?
            }
            _ => {
                let dest = group.join("site");
                pip::install(&opts.python, target, &rebuilds, &dest, ca.as_deref(), opts.quiet)?;
                dest
            }
        };
        for r in &rebuilds {
            remove_distribution(&checked.package, r, &mut changes);
        }
        changes.add_installed(&built, site)?;
    }
    if !plan.node.is_empty() {
        let prefix = build.join("npm");
        std::fs::create_dir_all(&prefix).map_err(|e| Error::io(&prefix, e))?;
        let installs: Vec<&NodeInstall> = plan.node.iter().collect();
        npm::install(target, &installs, &prefix, opts.quiet)?;
        for n in &installs {
            let src = prefix.join("node_modules").join(&n.name);
            if !src.is_dir() {
                return Err(Error::Fix(format!("npm did not install `{}`", n.spec())));
            }
            changes.remove_dirs.extend(n.replaces.iter().cloned());
            changes.add_tree(&src, &format!("{}/{}", n.node_modules, n.name))?;
        }
    }
    Ok(changes)
}

/// Every file the distribution owns (what its RECORD lists, as attribution read it), and its
/// `.dist-info`.
fn remove_distribution(pkg: &crate::package::Package, r: &PythonRebuild, changes: &mut rewrite::Changes) {
    if let Some(dist) = pkg.distributions.iter().find(|d| d.root == r.dist_info) {
        changes.remove_files.extend(dist.files.iter().map(|&i| pkg.entries[i].path.to_string()));
    }
    changes.remove_dirs.insert(r.dist_info.clone());
}

/// Writes the new package into `temp` beside the output, re-checks it with `recheck`, and puts
/// it in place when the re-check passes (or `--keep-failed` asks); else `temp` is removed.
fn write_output(
    input: &Path,
    dest: &output::Destination,
    mut temp: output::Temp,
    changes: &rewrite::Changes,
    keep_failed: bool,
    recheck: impl Fn(&Path) -> Result<Checked, Error>,
) -> Result<(Checked, rewrite::Counts), Error> {
    let counts = match &mut temp.kind {
        output::TempKind::Dir(tree) => rewrite::write_dir(input, changes, tree)?,
        output::TempKind::Zip(file) => {
            let counts = rewrite::write_zip(input, changes, file)?;
            // A temporary file is private (0600); the package gets the input's permissions.
            let mode = std::fs::metadata(input).map(|m| m.permissions()).map_err(|e| Error::io(input, e))?;
            file.set_permissions(mode).map_err(|e| Error::io(&temp.path, e))?;
            counts
        }
    };
    temp.sync().map_err(|e| Error::io(&temp.path, e))?;
    let checked = recheck(&temp.path)?;
    if keep_failed || !has_errors(&checked) {
        dest.commit(temp)?;
    }
    Ok((checked, counts))
}

fn has_errors(checked: &Checked) -> bool {
    checked.findings.iter().any(|f| f.severity == Severity::Error)
}
