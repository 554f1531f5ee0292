//! Text for people: per input, the target and what was assumed, then the findings grouped by
//! the package that brought them, each with what Lambda would say and how to fix it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use colored::{ColoredString, Colorize};

use super::{HumanOptions, plural};
use crate::{Finding, InputReport, Report, Severity};

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

pub(super) fn render(report: &Report, opts: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: opts.color };
    for input in &report.inputs {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.input == input.input).collect();
        render_input(input, &findings, opts, &paint, out)?;
    }
    let (e, w, i) = (report.count(Severity::Error), report.count(Severity::Warning), report.count(Severity::Info));
    let binaries: usize = report.inputs.iter().map(|i| i.binaries).sum();
    let line = format!(
        "{}, {}, {} in {} ({})",
        plural(e, "error"),
        plural(w, "warning"),
        plural(i, "info"),
        plural(report.inputs.len(), "input"),
        plural(binaries, "native binary").replace("binarys", "binaries")
    );
    let line = if e > 0 { paint.apply(&line, |l| l.red().bold()) } else { paint.apply(&line, |l| l.green().bold()) };
    writeln!(out, "{line}")
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
    let layout = match input.layout {
        crate::package::Layout::Function => "function",
        crate::package::Layout::Layer => "layer",
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
        writeln!(out, "  assumed: {a}")?;
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
            let package_fix = summary.and_then(|p| p.fix.as_ref());
            if let Some(fix) = f.fix.as_ref().filter(|fix| Some(*fix) != package_fix) {
                writeln!(out, "        fix: {fix}")?;
            }
        }
        if let Some(fix) = summary.and_then(|p| p.fix.as_ref()) {
            writeln!(out, "    {} {fix}", paint.apply("fix:", |s| s.green().bold()))?;
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

/// What is wrong with a package's binaries, in a few words: `1 binary built for macOS`,
/// `3 binaries, 2 built for another CPU`.
fn headline(binaries: usize, findings: &[&Finding]) -> String {
    let mut by_phrase: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        let phrase = match f.code {
            "macho-binary" => "built for macOS",
            "pe-binary" => "built for Windows",
            "arch-mismatch" => "built for another CPU",
            "elf-class-mismatch" => "32-bit or big-endian",
            "musl-binary" => "linked against musl",
            "glibc-too-new" => "needing a newer glibc",
            "libstdcxx-too-new" => "needing a newer libstdc++",
            "missing-library" => "with missing libraries",
            "python-abi-mismatch" => "for another Python",
            "node-abi-mismatch" => "for another Node.js",
            _ => continue,
        };
        by_phrase.entry(phrase).or_default().insert(&f.path);
    }
    let total = plural(binaries, "binary").replace("binarys", "binaries");
    let parts: Vec<String> = by_phrase.iter().map(|(phrase, paths)| format!("{} {phrase}", paths.len())).collect();
    match (parts.len(), by_phrase.values().next()) {
        (0, _) => total,
        (1, Some(paths)) if paths.len() == binaries => format!("{total} {}", by_phrase.keys().next().unwrap_or(&"")),
        _ => format!("{total}, {}", parts.join(", ")),
    }
}

fn label(p: &crate::PackageSummary) -> String {
    match &p.version {
        Some(v) => format!("{} {v}", p.name),
        None => p.name.clone(),
    }
}
