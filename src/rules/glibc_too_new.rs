//! An ELF file that needs a newer glibc than the runtime's.
//!
//! Why it breaks: every symbol a binary takes from glibc is bound to a version (`statx@GLIBC_2.28`)
//! and the loader refuses the file when the runtime's glibc lacks that version. Amazon Linux 2
//! (python3.9 to 3.11, nodejs18.x, java8.al2 to java17, ruby3.2, provided.al2) has glibc 2.26;
//! Amazon Linux 2023 has 2.34. Wheels tagged `manylinux_2_28` and binaries built on a recent
//! distro need more than AL2 has. The verdict comes from the version needs in the file
//! (`.gnu.version_r`, read through the dynamic section so stripped files count too), not from
//! wheel tags: symbol weakness does not make a version need optional, only `VER_FLG_WEAK` on the
//! need does. `GLIBC_PRIVATE` is ignored; `GLIBC_ABI_DT_RELR` counts as glibc 2.36. A statically
//! linked binary has no glibc needs, and a vendored copy of the loader itself is not judged. The
//! need is judged against the library the loader really finds for it.
//!
//! Seen on Lambda: ``version `GLIBC_2.28' not found (required by /var/task/...)``.
//!
//! Fix: install a wheel built for an older glibc (`manylinux2014` / `manylinux_2_17`), pin an
//! older version of the dependency, build in the runtime's own build image, or move the function
//! to a runtime on Amazon Linux 2023.

use super::{Code, Context, Finding, RuleDef, Severity};
use crate::loader::versions::{Provider, VersionProblem};
use crate::version::Version;

pub(super) static RULE: RuleDef =
    RuleDef { severity: Severity::Error, second: None, headline: Some("needing a newer glibc") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (file, problems) in super::by_file(ctx.version_problems(|ns| ns == "GLIBC")) {
        let newest = problems.iter().map(|p| &p.number).max().cloned().unwrap_or_else(|| Version::parse("0").unwrap());
        let at_newest: Vec<&&VersionProblem> = problems.iter().filter(|p| p.number == newest).collect();
        let name = &at_newest[0].version;
        let mut symbols: Vec<&str> = at_newest.iter().flat_map(|p| p.symbols.iter().map(String::as_str)).collect();
        symbols.sort_unstable();
        symbols.dedup();
        let shown: Vec<String> = symbols.iter().take(5).map(|s| format!("`{s}`")).collect();
        // The examples are distinct names; the total counts every symbol bound to the version.
        let total = at_newest.iter().map(|p| p.symbols_total).sum::<usize>().max(symbols.len());
        let more = if total > shown.len() { format!(" and {} more", total - shown.len()) } else { String::new() };
        let syms = if shown.is_empty() { String::new() } else { format!(" ({}{more})", shown.join(", ")) };
        let have = match &at_newest[0].provider {
            Provider::Runtime { have, .. } => format!("{} has glibc {have}", ctx.target.short_name()),
            Provider::Bundled { path, .. } => format!("the bundled `{path}` the loader finds lacks it"),
        };
        let path = ctx.fs.display(file);
        let message = format!("needs `{name}`{syms} but {have}");
        let seen = format!("version `{name}' not found (required by {})", ctx.fs.runtime_path(file));
        out.push(ctx.finding(Code::GlibcTooNew, &path, message).runtime_error(seen).fix(ctx.reinstall_hint(&path)));
    }
}
