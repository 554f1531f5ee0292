//! A file Lambda executes (a custom runtime's `bootstrap`, a layer's `extensions/*`) that is
//! stored without the executable bit.
//!
//! Why it breaks: Lambda unpacks the zip with the permissions it records and then executes
//! `bootstrap` (and each file in `/opt/extensions`). Zips written on Windows, or by tools that
//! drop Unix attributes, store no mode at all and the file arrives as 0644. A symlinked
//! `bootstrap` is judged by its target inside the package. Shared libraries (`.so`, `.node`) are
//! loaded with mmap, not executed, and need no executable bit.
//!
//! Seen on Lambda: `Runtime.InvalidEntrypoint` with `fork/exec /var/task/bootstrap: permission
//! denied`.
//!
//! Fix: `chmod 755 bootstrap` and zip on Linux or macOS (`zip -r`), or set the mode in the build
//! tool (SAM and the Serverless Framework keep it when the file has it).

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::package::Layout;
use crate::source::EntryKind;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

/// Paths Lambda executes in this package.
fn executed_paths<'a>(ctx: &Context<'a>) -> Vec<&'a str> {
    let mut paths: Vec<&str> = Vec::new();
    for e in &ctx.package.entries {
        let top_level_bootstrap = e.path == "bootstrap";
        let extension = ctx.package.layout == Layout::Layer
            && e.path.strip_prefix("extensions/").is_some_and(|rest| !rest.contains('/') && !rest.is_empty());
        if (top_level_bootstrap || extension) && e.kind != EntryKind::Dir {
            paths.push(&e.path);
        }
    }
    paths
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for path in executed_paths(ctx) {
        let Some(target) = ctx.package.resolve(path) else {
            continue;
        }; // dangling-symlink reports it
        let problem = match target.mode {
            None => "is stored without Unix permissions (a zip written on Windows?), so Lambda unpacks it as 0644"
                .to_string(),
            Some(m) if m & 0o111 == 0 => format!("is stored with mode {m:04o}, without the executable bit"),
            Some(_) => continue,
        };
        let via = if target.path != path { format!(" (via the link to `{}`)", target.path) } else { String::new() };
        let message = format!("`{path}`{via} {problem}");
        let seen =
            format!("Runtime.InvalidEntrypoint: fork/exec {}: permission denied", ctx.package.runtime_path(path));
        out.push(
            ctx.finding(Code::NotExecutable, path, message)
                .runtime_error(seen)
                .fix(format!("run `chmod 755 {}` and zip again on Linux or macOS", target.path)),
        );
    }
}
