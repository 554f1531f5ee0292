//! Wording shared by the rules on symbol versions (glibc-too-new, libstdcxx-too-new,
//! library-too-old): not a rule of its own.

use super::{Code, Context, Finding, Severity};
use crate::loader::fs::FileRef;
use crate::loader::versions::{Provider, Verdict, VersionProblem};

/// One finding for the unmet needs of one object: the newest per namespace, each with what the
/// loader found instead; a warning when every one is met by the runtime of today.
pub(super) fn finding(ctx: &Context, code: Code, file: FileRef, problems: &[&VersionProblem]) -> Finding {
    let newest = newest_per_namespace(problems);
    let parts: Vec<String> = newest
        .iter()
        .map(|p| {
            let sym = p.symbols.first().map(|s| format!(" (`{s}`)")).unwrap_or_default();
            format!("`{}`{sym} from `{}`; {}", p.version, p.library, what_is_there(ctx, p))
        })
        .collect();
    let path = ctx.fs.display(file);
    let worst = newest[0];
    let message = format!("needs {}", parts.join("; "));
    let seen = format!("version `{}' not found (required by {})", worst.version, ctx.fs.runtime_path(file));
    let mut f = ctx.finding(code, &path, message).runtime_error(seen).fix(ctx.reinstall_hint(&path));
    if worst.verdict == Verdict::NewerThanRelease {
        f.severity = Severity::Warning;
    }
    f
}

/// The newest unmet need per namespace, worst verdict first.
pub(super) fn newest_per_namespace<'a>(problems: &[&'a VersionProblem]) -> Vec<&'a VersionProblem> {
    let mut best: Vec<&VersionProblem> = Vec::new();
    for p in problems {
        match best.iter_mut().find(|b| b.namespace == p.namespace) {
            Some(b) if (p.verdict, &p.number) > (b.verdict, &b.number) => *b = p,
            Some(_) => {}
            None => best.push(p),
        }
    }
    best.sort_by(|a, b| {
        (std::cmp::Reverse(a.verdict), &a.namespace).cmp(&(std::cmp::Reverse(b.verdict), &b.namespace))
    });
    best
}

/// `runtime has up to GLIBCXX_3.4.29`, or what the bundled library defines.
pub(super) fn what_is_there(ctx: &Context, p: &VersionProblem) -> String {
    match &p.provider {
        Provider::Runtime { have, at_release, .. } => match (p.verdict, at_release) {
            (Verdict::NewerThanRelease, Some(old)) => format!(
                "{} has it today (up to `{ns}_{have}`), but its runtime versions from before the OS update had up to `{ns}_{old}`",
                ctx.target.short_name(),
                ns = p.namespace
            ),
            _ => format!("{} has up to `{}_{have}`", ctx.target.short_name(), p.namespace),
        },
        Provider::Bundled { path, have, .. } => match have {
            Some(h) => format!("the bundled `{path}` the loader finds defines up to `{}_{h}`", p.namespace),
            None => format!("the bundled `{path}` the loader finds does not define it"),
        },
    }
}

/// libstdc++'s and libgcc_s's namespaces.
pub(super) fn is_cxx(namespace: &str) -> bool {
    matches!(namespace, "GLIBCXX" | "CXXABI" | "GCC")
}
