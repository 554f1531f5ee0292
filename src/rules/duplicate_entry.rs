//! A zip that holds several entries under one name.
//!
//! Why it breaks: a zip's central directory may list the same path twice (appending to a zip with
//! some tools, merging archives by hand). Which copy ends up in `/var/task` depends on the unzip
//! that Lambda runs and on their order: the package that was tested is not necessarily the one
//! that runs. Every copy is checked; the ones other than the last are reported as
//! `NAME (copy K of N)`.
//!
//! Seen on Lambda: whichever copy the unzip extracted; errors that do not reproduce locally.
//!
//! Fix: rebuild the zip from a directory (`zip -r`), so that each path is stored once.

use super::{Code, Context, Finding, RuleDef, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let Some((k, n)) = entry.path.copies() else { continue };
        if k != n {
            continue; // one finding per name, on the copy that keeps the plain name
        }
        let message = format!("the zip holds {n} entries named `{}`: which one Lambda extracts is ambiguous", entry.path);
        out.push(
            ctx.finding(Code::DuplicateEntry, &entry.path, message)
                .runtime_error("whichever copy the unzip extracts last")
                .fix("rebuild the zip from a directory so that each path is stored once"),
        );
    }
}
