//! The fix itself: check, plan, build, rewrite, re-check (Unix only, see the module above).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::pip::Dropped;
use super::plan::{self, NodeInstall, NodeRebuild, Plan, PythonRebuild, Unfixable};
use super::{FixOptions, Outcome, Via, cleanup, docker, npm, output, pip, rewrite};
use crate::check::{Checked, Options};
use crate::error::Error;
use crate::report::model::Report;
use crate::rules::Severity;
use crate::text::plural;

fn w(e: std::io::Error) -> Error {
    Error::Fix(format!("writing the report: {e}"))
}

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
    let errors = error_count(&checked);
    writeln!(out, "{label}: {} for {}", plural(errors, "error"), checked.target.label()).map_err(w)?;
    if errors == 0 {
        return nothing_to_fix(opts, dest.as_ref(), out);
    }
    let mut plan = plan::plan(&checked.package, &checked.target, &checked.findings);
    if opts.upgrade {
        apply_upgrades(&mut plan, &checked, opts.lookup, out)?;
    }
    let via = choose_via(opts, &plan, out)?;
    if via != Via::Docker {
        plan.without_docker("which needs Docker (--via docker)");
    }
    print_plan(&plan, &checked, opts, via, out)?;
    if opts.plan_only {
        return Ok(Outcome { exit_code: 0, recheck: None });
    }
    if plan.is_empty() {
        writeln!(out, "nothing elfcheck can fix; no output written").map_err(w)?;
        return Ok(Outcome { exit_code: 1, recheck: None });
    }
    if !plan.unfixable.is_empty() && !opts.partial && !opts.keep_failed {
        all_or_nothing(plan.unfixable.len(), plan.answered().len(), out)?;
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
    let built = build_changes(opts, &plan, &checked, via, build.path())?;

    // What a build could not do: reported with what can, before anything is written.
    if !built.dropped.is_empty() {
        let roots: Vec<&str> = built.dropped.iter().map(|d| d.rebuild.dist_info.as_str()).collect();
        let advice = crate::advice::advise_distributions(&checked.package, &checked.target, &roots, opts.lookup);
        for d in &built.dropped {
            let remedy = dropped_remedy(d, advice.get(&d.rebuild.dist_info), &checked.target, via);
            writeln!(out, "cannot fix: {} {}: {}; {remedy}", d.rebuild.name, d.rebuild.version, d.why).map_err(w)?;
        }
        if !opts.partial && !opts.keep_failed {
            let lost = dropped_findings(&built.dropped);
            all_or_nothing(lost + plan.unfixable.len(), plan.answered().len().saturating_sub(lost), out)?;
            return Ok(Outcome { exit_code: 1, recheck: None });
        }
    }
    if built.changes.is_empty() {
        writeln!(out, "nothing could be fixed; no output written").map_err(w)?;
        return Ok(Outcome { exit_code: 1, recheck: None });
    }

    let recheck_options = Options {
        target: crate::target::resolve::Requested {
            runtime: checked.target.runtime.map(|r| r.id.clone()),
            arch: Some(checked.target.arch),
            from_templates: false,
        },
        ..opts.scan.clone()
    };
    let shown = output.display().to_string();
    let commit = |after: usize| after == 0 || opts.keep_failed || (opts.partial && after < errors);
    let (after, counts, written) = write_output(input, &dest, temp, &built.changes, commit, |tmp| {
        crate::check::check_input(tmp, &shown, &recheck_options)
    })?;
    let remaining = error_count(&after);
    for line in &built.done {
        writeln!(out, "{line}").map_err(w)?;
    }
    if written {
        let changed = if counts.changed > 0 { format!(", {} with a new mode", counts.changed) } else { String::new() };
        writeln!(
            out,
            "output: {shown} ({} entries kept byte for byte{changed}, {} removed, {} added)",
            counts.kept, counts.removed, counts.added
        )
        .map_err(w)?;
    }
    let mut summary = after.summary.clone();
    // The re-check names the temporary file: its own fix suggestion would mislead.
    summary.fix_command = None;
    let report = Report { inputs: vec![summary], findings: after.findings.clone(), ..Report::default() };
    if remaining > 0 {
        let fate = match (written, opts.keep_failed, opts.partial) {
            (true, true, _) => "the output was kept as asked (--keep-failed)",
            (true, false, _) => "the output was written with what could be fixed (--partial)",
            (false, _, true) => "no output written: the fix did not reduce the errors",
            (false, _, false) => {
                "the output was not written (--partial writes it with what could be fixed, when that reduces the errors)"
            }
        };
        let remain = if remaining == 1 { "1 error remains".to_string() } else { format!("{remaining} errors remain") };
        writeln!(out, "re-check: {remain} (listed below); {fate}").map_err(w)?;
        return Ok(Outcome { exit_code: 1, recheck: Some(report) });
    }
    writeln!(out, "re-check: no errors in {shown}").map_err(w)?;
    Ok(Outcome { exit_code: 0, recheck: Some(report) })
}

fn error_count(checked: &Checked) -> usize {
    checked.findings.iter().filter(|f| f.severity == Severity::Error).count()
}

/// The findings the dropped distributions would have answered.
fn dropped_findings(dropped: &[Dropped]) -> usize {
    dropped.iter().map(|d| d.rebuild.findings.len()).sum()
}

fn all_or_nothing(unfixable: usize, fixable: usize, out: &mut dyn Write) -> Result<(), Error> {
    let rest = if fixable > 0 {
        format!("; --partial writes the package with the other {} fixed", plural(fixable, "error"))
    } else {
        String::new()
    };
    writeln!(
        out,
        "no output written: {} cannot be fixed (above), and fix writes a package only when every error is fixed{rest}",
        plural(unfixable, "error")
    )
    .map_err(w)
}

/// Nothing to fix: `OUT` still gets the package, a byte-identical copy written the same safe way
/// (so `elfcheck fix in.zip -o out.zip && deploy out.zip` works whatever the input held).
fn nothing_to_fix(
    opts: &FixOptions,
    dest: Option<&output::Destination>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let dest = match dest {
        Some(d) if !opts.in_place => d,
        _ => {
            let note = if opts.in_place { format!("; {} is unchanged", opts.input.display()) } else { String::new() };
            writeln!(out, "nothing to fix{note}").map_err(w)?;
            return Ok(Outcome { exit_code: 0, recheck: None });
        }
    };
    output::clean_stale(dest.dir_path());
    let mut temp = dest.reserve(opts.input.is_dir())?;
    match &mut temp.kind {
        output::TempKind::Dir(tree) => {
            rewrite::write_dir(&opts.input, &rewrite::Changes::default(), tree)?;
        }
        output::TempKind::Zip(file) => {
            rewrite::copy_zip(&opts.input, file)?;
            let mode =
                std::fs::metadata(&opts.input).map(|m| m.permissions()).map_err(|e| Error::io(&opts.input, e))?;
            file.set_permissions(mode).map_err(|e| Error::io(&temp.path, e))?;
        }
    }
    temp.sync().map_err(|e| Error::io(&temp.path, e))?;
    dest.commit(temp)?;
    writeln!(out, "nothing to fix").map_err(w)?;
    writeln!(out, "output: {} (a copy of the input, byte for byte)", dest.shown.display()).map_err(w)?;
    Ok(Outcome { exit_code: 0, recheck: None })
}

/// What a reinstall could not do, and what can: another version (the advice), another runtime,
/// or a build from source.
fn dropped_remedy(
    d: &Dropped,
    advice: Option<&crate::advice::Advice>,
    target: &crate::target::Target,
    via: Via,
) -> String {
    let r = &d.rebuild;
    let mut ways: Vec<String> = Vec::new();
    if let Some(a) = advice {
        if let Some(v) = a.newest_compatible.as_ref().filter(|v| **v != r.version) {
            ways.push(format!(
                "`--upgrade-to-compatible` installs {} {v}, the newest version with a wheel for the target",
                r.name
            ));
        }
        if !a.runtimes_accepting_installed.is_empty() {
            ways.push(format!("{} load the installed files as they are", a.runtimes_accepting_installed.join(", ")));
        }
        if !a.runtimes_with_a_build.is_empty() {
            ways.push(format!(
                "{} {} a wheel of {} {}",
                a.runtimes_with_a_build.join(", "),
                if a.runtimes_with_a_build.len() == 1 { "has" } else { "have" },
                r.name,
                r.version
            ));
        }
        if let crate::advice::IndexAnswer::Unavailable(why) = &a.index {
            ways.push(format!("(other versions could not be looked up: {why})"));
        }
    }
    if via != Via::Docker {
        let image = crate::hint::build_image(target).map(|i| format!(" in `{i}`")).unwrap_or_default();
        ways.push(format!("`--via docker` builds it from source{image}"));
    }
    if ways.is_empty() {
        return "build it for the target yourself and fix again".to_string();
    }
    ways.join("; ")
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
    if (plan.python.is_empty() && plan.node_rebuild.is_empty()) || opts.via != Via::Auto {
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

/// `--upgrade-to-compatible`: a Python distribution whose installed version has no wheel for the
/// target is installed at the newest version that has one (the advice of `check`).
fn apply_upgrades(
    plan: &mut Plan,
    checked: &Checked,
    lookup: crate::advice::Lookup,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let dists: Vec<&crate::attribution::Distribution> = plan
        .python
        .iter()
        .filter_map(|r| checked.package.distributions.iter().find(|d| d.root == r.dist_info))
        .collect();
    if dists.is_empty() {
        return Ok(());
    }
    if lookup == crate::advice::Lookup::Offline {
        writeln!(
            out,
            "--upgrade-to-compatible: the package index may not be asked (offline); installing the same versions"
        )
        .map_err(w)?;
        return Ok(());
    }
    let upgrades = match crate::advice::upgrades(&dists, &checked.target) {
        Ok(u) => u,
        Err(why) => {
            writeln!(
                out,
                "--upgrade-to-compatible: the package index could not be asked ({why}); installing the same versions"
            )
            .map_err(w)?;
            return Ok(());
        }
    };
    for r in &mut plan.python {
        if let Some(Some(v)) = upgrades.get(&r.dist_info) {
            r.replaces_version = Some(std::mem::replace(&mut r.version, v.clone()));
        }
    }
    Ok(())
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

fn print_plan(plan: &Plan, checked: &Checked, opts: &FixOptions, via: Via, out: &mut dyn Write) -> Result<(), Error> {
    let target = &checked.target;
    // A directory made now is owned by the invoking user, on every Unix.
    let probe = || tempfile::tempdir().map_err(|e| Error::Fix(format!("creating a temporary directory: {e}")));
    let rebuilds: Vec<&PythonRebuild> = plan.python.iter().collect();
    for (site, group) in plan.python_by_site() {
        let names: Vec<String> = group
            .iter()
            .map(|r| match &r.replaces_version {
                Some(old) => format!("{} (in place of {old}: it has no build for the target)", r.spec()),
                None => r.spec(),
            })
            .collect();
        let dir = if site.is_empty() { "the package root".to_string() } else { format!("`{site}`") };
        writeln!(out, "plan: rebuild {} into {dir}", names.join(", ")).map_err(w)?;
    }
    for (n, round) in pip::invocations(&rebuilds).iter().enumerate() {
        let dest = PathBuf::from(format!("BUILD/python-{n}"));
        let command = match via {
            Via::Docker => {
                let image = build_image(opts, target)?;
                let d = docker_build(opts, &image, target);
                format!("{} {}", opts.docker, d.args(round, &dest, probe()?.path())?.join(" "))
            }
            _ => format!(
                "{} -m pip {}",
                opts.python,
                pip::pip_args(target, round, &dest.join("site"), ca_bundle(opts).as_deref())?.join(" ")
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
    for (tree, group) in node_rebuilds_by_tree(plan) {
        let names: Vec<String> = group.iter().map(|r| r.label()).collect();
        writeln!(out, "plan: compile {} from source in `{tree}` (npm rebuild, node-gyp)", names.join(", "))
            .map_err(w)?;
        let image = build_image(opts, target)?;
        let d = docker_build(opts, &image, target);
        let names: Vec<&str> = group.iter().map(|r| r.name.as_str()).collect();
        let args = d.npm_rebuild_args(&names, Path::new("BUILD"), probe()?.path())?;
        writeln!(out, "  {} {}", opts.docker, args.join(" ")).map_err(w)?;
    }
    for path in &plan.chmod {
        writeln!(out, "plan: make `{path}` executable (its data is kept as it is)").map_err(w)?;
    }
    if !plan.readable.is_empty() {
        writeln!(
            out,
            "plan: make {} readable by everyone (o+rX; the data is kept as it is)",
            paths_text(&plan.readable)
        )
        .map_err(w)?;
    }
    for Unfixable { finding, why } in &plan.unfixable {
        writeln!(out, "cannot fix: {} [{}]: {why}", finding.path, finding.code).map_err(w)?;
    }
    Ok(())
}

/// ` in place of `a`, `b``
fn replaced_text(replaces: &[String]) -> String {
    if replaces.is_empty() {
        return String::new();
    }
    let names: Vec<String> = replaces.iter().map(|r| format!("`{r}`")).collect();
    format!(" in place of {}", names.join(", "))
}

/// `` `a`, `b` `` or, for many, `` 120 paths (`a`, `b`, `c`, ...) ``.
fn paths_text(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().take(3).map(|p| format!("`{p}`")).collect();
    if paths.len() <= 3 { quoted.join(", ") } else { format!("{} paths ({}, ...)", paths.len(), quoted.join(", ")) }
}

/// Addon rebuilds grouped by the `node_modules` tree `npm rebuild` runs in.
fn node_rebuilds_by_tree(plan: &Plan) -> std::collections::BTreeMap<&str, Vec<&NodeRebuild>> {
    let mut out: std::collections::BTreeMap<&str, Vec<&NodeRebuild>> = std::collections::BTreeMap::new();
    for r in &plan.node_rebuild {
        out.entry(r.tree.as_str()).or_default().push(r);
    }
    out
}

/// What the builds produced: the changes to the package, what was done (for the report), and
/// the distributions that could not be installed.
struct Built {
    changes: rewrite::Changes,
    done: Vec<String>,
    dropped: Vec<Dropped>,
}

/// Runs the builds and turns their output into changes to the package.
fn build_changes(opts: &FixOptions, plan: &Plan, checked: &Checked, via: Via, build: &Path) -> Result<Built, Error> {
    let mut built = Built { changes: rewrite::Changes::default(), done: Vec::new(), dropped: Vec::new() };
    let target = &checked.target;
    let ca = ca_bundle(opts);
    let rebuilds: Vec<&PythonRebuild> = plan.python.iter().collect();
    // One pip invocation for every distribution, whatever directory it goes to (more only when
    // a name is wanted at two versions).
    for (n, round) in pip::invocations(&rebuilds).into_iter().enumerate() {
        let group = build.join(format!("python-{n}"));
        std::fs::create_dir_all(&group).map_err(|e| Error::io(&group, e))?;
        let (site, dropped) = match via {
            Via::Docker => {
                let image = build_image(opts, target)?;
                docker_build(opts, &image, target).install(&round, &group)?
            }
            _ => {
                let site = group.join("site");
                let dropped = pip::install(&opts.python, target, &round, &site, ca.as_deref(), opts.quiet)?;
                (site, dropped)
            }
        };
        let mut rebuilt: Vec<String> = Vec::new();
        for r in &round {
            if dropped.iter().any(|d| d.rebuild.dist_info == r.dist_info) {
                continue;
            }
            let Some(dist_info) = pip::installed_dist_info(&site, &r.name) else {
                return Err(Error::Fix(format!("the build did not install `{}`", r.spec())));
            };
            remove_distribution(&checked.package, r, &mut built.changes);
            built.changes.add_installed(&site, &dist_info, &r.site_dir)?;
            rebuilt.push(r.label());
        }
        if !rebuilt.is_empty() {
            built.done.push(format!("rebuilt {} for {}", rebuilt.join(", "), target.label()));
        }
        built.dropped.extend(dropped);
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
            built.changes.remove_dirs.extend(n.replaces.iter().cloned());
            built.changes.add_tree(&src, &format!("{}/{}", n.node_modules, n.name))?;
            built.done.push(format!("installed {}{}", n.spec(), replaced_text(&n.replaces)));
        }
    }
    for (n, (tree, group)) in node_rebuilds_by_tree(plan).into_iter().enumerate() {
        // The project `npm rebuild` runs in: a copy of the package's `node_modules` tree.
        let project = build.join(format!("node-{n}"));
        rewrite::extract(&opts.input, tree, &project.join("node_modules"))?;
        let image = build_image(opts, target)?;
        let names: Vec<&str> = group.iter().map(|r| r.name.as_str()).collect();
        docker_build(opts, &image, target).npm_rebuild(&names, &project)?;
        for r in &group {
            let below = r.root.strip_prefix(tree).unwrap_or(&r.root).trim_start_matches('/');
            let src = project.join("node_modules").join(below);
            if !src.is_dir() {
                return Err(Error::Fix(format!("`npm rebuild` left no `{}`", r.root)));
            }
            built.changes.remove_dirs.insert(r.root.clone());
            built.changes.add_tree(&src, &r.root)?;
            built.done.push(format!("compiled {} from source for {}", r.label(), target.label()));
        }
    }
    for path in &plan.chmod {
        built.changes.executable.insert(path.clone());
        built.done.push(format!("made `{path}` executable"));
    }
    if !plan.readable.is_empty() {
        built.changes.readable.extend(plan.readable.iter().cloned());
        built.done.push(format!("made {} readable by everyone", paths_text(&plan.readable)));
    }
    Ok(built)
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
/// it in place when `commit` says so for the errors that remain; else `temp` is removed.
fn write_output(
    input: &Path,
    dest: &output::Destination,
    mut temp: output::Temp,
    changes: &rewrite::Changes,
    commit: impl Fn(usize) -> bool,
    recheck: impl Fn(&Path) -> Result<Checked, Error>,
) -> Result<(Checked, rewrite::Counts, bool), Error> {
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
    let written = commit(error_count(&checked));
    if written {
        dest.commit(temp)?;
    }
    Ok((checked, counts, written))
}
