//! Text for people: per input, the target and what was assumed, then the findings grouped by
//! the package that brought them, each with what Lambda would say and how to fix it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use colored::{ColoredString, Colorize};

use super::HumanOptions;
use super::model::{AppReport, AppSection, InputReport, PackageSummary, Report, TargetSummary};
use crate::advice::{Advice, IndexAnswer};
use crate::rules::{Finding, Severity};
use crate::target::infer::Evidence;
use crate::target::resolve::Assumption;
use crate::text::plural;

struct Paint {
    on: bool,
}

impl Paint {
    fn apply(&self, s: &str, f: fn(&str) -> ColoredString) -> String {
        if self.on { f(s).to_string() } else { s.to_string() }
    }
    fn severity(&self, s: Severity) -> String {
        let word = s.to_string();
        match s {
            Severity::Error => self.apply(&word, |w| w.red().bold()),
            Severity::Warning => self.apply(&word, |w| w.yellow().bold()),
            Severity::Info => self.apply(&word, |w| w.blue()),
        }
    }
}

/// `--quiet`: one line per finding, `input: path: severity[code] message`.
pub(super) fn render_quiet(report: &Report, opts: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: opts.color };
    for f in report.findings.iter().filter(|f| f.severity > Severity::Info) {
        let at = if f.path.is_empty() { f.input.clone() } else { format!("{}: {}", f.input, f.path) };
        writeln!(out, "{at}: {}[{}] {}", paint.severity(f.severity), f.code, f.message)?;
    }
    Ok(())
}

pub(super) fn render(report: &Report, opts: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: opts.color };
    let mut app = None;
    for input in &report.inputs {
        let this_app = input.app.as_ref().map(|a| a.app);
        if this_app != app
            && let Some(a) = this_app.and_then(|i| report.apps.get(i))
        {
            render_app(a, &paint, out)?;
        }
        app = this_app;
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| input.owns(f)).collect();
        render_input(input, &findings, opts, &paint, out)?;
    }
    // An application with nothing to check still says what it read and skipped.
    for (i, a) in report.apps.iter().enumerate() {
        if !report.inputs.iter().any(|input| input.app.as_ref().is_some_and(|s| s.app == i)) {
            render_app(a, &paint, out)?;
        }
    }
    let (e, w, i) = (report.count(Severity::Error), report.count(Severity::Warning), report.count(Severity::Info));
    let binaries: usize = report.inputs.iter().map(|i| i.binaries).sum();
    let line = format!(
        "{}, {}, {} in {} ({})",
        plural(e, "error"),
        plural(w, "warning"),
        plural(i, "info"),
        what_was_checked(report),
        plural(binaries, "native binary")
    );
    let line = if e > 0 { paint.apply(&line, |l| l.red().bold()) } else { paint.apply(&line, |l| l.green().bold()) };
    writeln!(out, "{line}")?;
    for input in &report.inputs {
        if let Some(command) = &input.fix_command {
            let line = crate::commands::shell_line(&command[0], &command[1..]);
            writeln!(out, "to fix what can be fixed: {}", paint.apply(&line, |l| l.bold()))?;
        }
    }
    for app in &report.apps {
        if let Some(command) = &app.fix_command {
            let line = crate::commands::shell_line(&command[0], &command[1..]);
            writeln!(out, "to fix what can be fixed: {}", paint.apply(&line, |l| l.bold()))?;
        }
    }
    let unjudged: Vec<&str> = report.inputs.iter().filter(|i| !i.target.abi_judged).map(|i| i.input.as_str()).collect();
    if !unjudged.is_empty() {
        writeln!(
            out,
            "not judged: the Python or Node.js ABI of {} (its version was read from the package itself); give the runtime with --runtime, `runtime` in elfcheck.toml, or a template",
            unjudged.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
        )?;
    }
    Ok(())
}

fn render_input(
    input: &InputReport,
    findings: &[&Finding],
    opts: &HumanOptions,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let t = &input.target;
    let runtime = t.runtime.as_deref().map(|r| format!("{r}, ")).unwrap_or_default();
    let layout = match &input.app {
        Some(section) => section_name(section),
        None => crate::check::layout_name(input.layout).to_string(),
    };
    writeln!(
        out,
        "{} ({layout}; {runtime}{}, {}, glibc {})",
        paint.apply(&input.input, |s| s.bold()),
        t.os,
        t.arch,
        t.glibc
    )?;
    for a in &t.assumed {
        writeln!(out, "  assumed: {}", describe(a))?;
    }
    if let Some(section) = &input.app {
        if !section.layers.is_empty() {
            writeln!(out, "  layers: {}", section.layers.join(", "))?;
        }
        for arn in &section.external_layers {
            writeln!(out, "  not checked: layer {arn} (from outside the application)")?;
        }
    }
    let shown: Vec<&&Finding> = findings.iter().filter(|f| opts.verbose || f.severity > Severity::Info).collect();
    // Group by owning package; files no package owns come last.
    let mut groups: BTreeMap<(bool, String), Vec<&Finding>> = BTreeMap::new();
    for f in shown {
        groups.entry((f.package.is_none(), f.package.clone().unwrap_or_default())).or_default().push(f);
    }
    for ((_, package), fs) in &groups {
        writeln!(out)?;
        let summary = input.packages.iter().find(|p| label(p) == *package);
        if package.is_empty() {
            let title = if fs.iter().all(|f| f.path.is_empty()) {
                "the package as a whole"
            } else {
                "files not installed by a known package"
            };
            writeln!(out, "  {}", paint.apply(title, |s| s.bold()))?;
        } else {
            let origin = summary
                .and_then(|p| p.wheel_platform.as_deref())
                .map(|w| format!(" (from a {w} wheel)"))
                .unwrap_or_default();
            let counts = summary.map(|p| format!(": {}", headline(p.binaries, fs))).unwrap_or_default();
            writeln!(out, "  {}{origin}{counts}", paint.apply(package, |s| s.bold()))?;
        }
        for f in fs {
            let path = if f.path.is_empty() { "(package)" } else { f.path.as_str() };
            writeln!(out, "    {}[{}] {path}", paint.severity(f.severity), f.code)?;
            writeln!(out, "        {}", f.message)?;
            if let Some(seen) = &f.runtime_error {
                writeln!(out, "        on Lambda: {seen}")?;
            }
            // A finding of a package with a fix of its own is fixed by that one.
            let package_fixed = summary.is_some_and(|p| p.fix.is_some());
            if let Some(fix) = f.fix.as_ref().filter(|_| !package_fixed) {
                writeln!(out, "        fix: {fix}")?;
            }
        }
        if let Some(advice) =
            summary.and_then(|p| p.advice.as_ref().map(|a| (p, a))).and_then(|(p, a)| advice_words(p, a, &input.target))
        {
            writeln!(out, "    {} {advice}", paint.apply("advice:", |s| s.yellow().bold()))?;
        }
        if let Some(fix) = summary.and_then(|p| p.fix.as_ref()) {
            writeln!(out, "    {} {}", paint.apply("fix:", |s| s.green().bold()), fix.summary)?;
            if !fix.command.is_empty() {
                writeln!(out, "      in {}: {}", fix.run_in, crate::commands::display_folded(&fix.command))?;
            }
        }
    }
    let hidden = findings.iter().filter(|f| f.severity == Severity::Info).count();
    if hidden > 0 && !opts.verbose {
        writeln!(
            out,
            "\n  {} not listed (binaries the runtime never loads); --verbose lists them",
            plural(hidden, "info finding")
        )?;
    }
    writeln!(out)
}

/// `1 input`; with applications, `3 functions and 1 layer` (a layer judged for two targets is
/// one layer), after the packages given on their own.
fn what_was_checked(report: &Report) -> String {
    if report.apps.is_empty() {
        return plural(report.inputs.len(), "input");
    }
    let packages = report.inputs.iter().filter(|i| i.app.is_none()).count();
    let functions = report.inputs.iter().filter(|i| i.resource().function.is_some()).count();
    let mut layers: Vec<(usize, String)> = report
        .inputs
        .iter()
        .filter_map(|i| i.app.as_ref().and_then(|a| a.resource.layer.clone().map(|l| (a.app, l))))
        .collect();
    layers.sort();
    layers.dedup();
    let mut parts = Vec::new();
    if packages > 0 {
        parts.push(plural(packages, "input"));
    }
    parts.push(plural(functions, "function"));
    if !layers.is_empty() {
        parts.push(plural(layers.len(), "layer"));
    }
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// `function ArmFunction`, `layer SharedLayer for ArmFunction, ArmMakeFunction`.
fn section_name(section: &AppSection) -> String {
    let r = &section.resource;
    match (&r.function, &r.layer) {
        (Some(f), _) => format!("function {f}"),
        (None, Some(l)) if r.for_functions.is_empty() => format!("layer {l}, attached by no function"),
        (None, Some(l)) => format!("layer {l} for {}", r.for_functions.join(", ")),
        (None, None) => "function".to_string(),
    }
}

/// The heading of an application: which build output, what was read, what was skipped.
fn render_app(app: &AppReport, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let tool = match app.tool.as_str() {
        "sam" => "AWS SAM build",
        "cdk" => "AWS CDK cloud assembly",
        "serverless" => "Serverless Framework package",
        other => other,
    };
    let counts = format!("{}, {}", plural(app.functions, "function"), plural(app.layers, "layer"));
    let templates = app.templates.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
    let title = if app.root.is_empty() || app.root == "." {
        format!("{} ({tool}, {templates}: {counts})", app.input)
    } else {
        format!("{}: the {tool} in `{}` ({templates}: {counts})", app.input, app.root)
    };
    writeln!(out, "{}", paint.apply(&title, |s| s.bold()))?;
    for s in &app.skipped {
        writeln!(out, "  skipped: {} {}: {}", s.kind, s.id, s.reason)?;
    }
    writeln!(out)
}

/// What is wrong with a package's binaries, in a few words: `1 binary built for macOS`,
/// `3 binaries, 2 built for another CPU`.
fn headline(binaries: usize, findings: &[&Finding]) -> String {
    let mut by_phrase: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        let Some(phrase) = f.code.rule().def.headline else { continue };
        by_phrase.entry(phrase).or_default().insert(&f.path);
    }
    let total = plural(binaries, "binary");
    let parts: Vec<String> = by_phrase.iter().map(|(phrase, paths)| format!("{} {phrase}", paths.len())).collect();
    match (parts.len(), by_phrase.values().next()) {
        (0, _) => total,
        (1, Some(paths)) if paths.len() == binaries => format!("{total} {}", by_phrase.keys().next().unwrap_or(&"")),
        _ => format!("{total}, {}", parts.join(", ")),
    }
}

fn label(p: &PackageSummary) -> String {
    p.label()
}

/// What the advice says, in a sentence; `None` when it has nothing to add.
fn advice_words(p: &PackageSummary, a: &Advice, target: &TargetSummary) -> Option<String> {
    let on = match &target.runtime {
        Some(r) => format!("{r} on {}", target.arch),
        None => format!("{} on {}", target.os, target.arch),
    };
    let mut parts = Vec::new();
    match (&a.index, &a.newest_compatible) {
        (IndexAnswer::Asked, Some(v)) if Some(v) != a.installed.as_ref() => {
            let via = if a.package != p.name { format!(" (which brings {} in)", p.name) } else { String::new() };
            parts.push(format!("{v} is the newest version of {}{via} with a build for {on}", a.package))
        }
        (IndexAnswer::Asked, Some(_)) => parts.push(format!("this version of {} has a build for {on}", a.package)),
        (IndexAnswer::NoneCompatible, _) => {
            parts.push(format!("the package index has no version of {} with a build for {on}", a.package))
        }
        (IndexAnswer::Unavailable(why), _) => parts.push(format!("could not look for a compatible version ({why})")),
        _ => {}
    }
    if !a.runtimes_with_a_build.is_empty() {
        parts.push(format!(
            "{} has a build for {}, if the function can move there",
            p.label(),
            a.runtimes_with_a_build.join(", ")
        ));
    }
    if !a.runtimes_accepting_installed.is_empty() {
        parts.push(format!(
            "the installed {} loads on {}, if the function can move there",
            p.label(),
            a.runtimes_accepting_installed.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// An assumption about the target, in words.
pub fn describe(a: &Assumption) -> String {
    match a {
        Assumption::Template { file, function, runtime, arch, ambiguous } => {
            let took: Vec<String> = runtime
                .iter()
                .map(|r| format!("runtime {r}"))
                .chain(arch.iter().map(|a| format!("architecture {a}")))
                .collect();
            let doubt = if *ambiguous { "; its functions differ, pass --runtime to choose" } else { "" };
            format!("{}, from `{file}` (function {function}){doubt}", took.join(" and "))
        }
        Assumption::TemplateUnresolved { property, reason } => {
            format!("`{property}` not read from the template: {reason}")
        }
        Assumption::DefaultArch { arch } => {
            format!("architecture {arch} (Lambda's default; use --arch arm64 for Graviton)")
        }
        Assumption::InferredRuntime { runtime, evidence } => {
            let what = if runtime.starts_with("python") { "Python" } else { "Node.js" };
            format!(
                "runtime {runtime}, from the {}; {what} ABI mismatches cannot be judged against a version read from the package itself: pass --runtime (or set `runtime` in elfcheck.toml or the template)",
                evidence_words(evidence)
            )
        }
        Assumption::OldestOs { os, glibc, hint } => {
            let what = match hint {
                Some(e) => format!("{}, version unknown", evidence_words(e)),
                None => "no runtime given or inferred".to_string(),
            };
            format!("{what}: glibc judged against {os} ({glibc}), the oldest OS still supported; pass --runtime")
        }
    }
}

fn evidence_words(e: &Evidence) -> String {
    match e {
        Evidence::LayerDirectory { python } => format!("layer directory `python/lib/python{python}`"),
        Evidence::ExtensionTag { tag, path } => format!("extension tag `{tag}` of `{path}`"),
        Evidence::WheelTag { tag, package } => format!("wheel tag `{tag}` of {package}"),
        Evidence::NodeAddon { path, abi } => format!("addon `{path}` built for NODE_MODULE_VERSION {abi}"),
        Evidence::NodeModules => "a Node.js package (`node_modules`)".to_string(),
        Evidence::Bootstrap => "a custom runtime (`bootstrap`)".to_string(),
    }
}
