//! A nested archive (zip, wheel, jar) that elfcheck did not scan: nested too deep, too large,
//! a likely zip bomb, or corrupt.
//!
//! Why it matters: archives inside the package are opened at run time (serverless-python-
//! requirements' `.requirements.zip`, jars under `java/lib`), so the binaries inside them count.
//! elfcheck bounds how deep, how large and how compressed a nested archive may be, so that a
//! hostile package cannot exhaust memory; what it refuses, it cannot vouch for.
//!
//! Seen on Lambda: whatever the binaries inside would cause; nothing, if the archive is unused.
//!
//! Fix: check the archive by itself (`elfcheck inner.zip`), or unpack it into the package.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::source::Content;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Warning, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let Content::ArchiveRefused(why) = &entry.content else {
            continue;
        };
        out.push(
            ctx.finding(Code::NestedArchiveRefused, &entry.path, format!("nested archive not scanned: {why}"))
                .fix("check the archive by itself, or unpack it into the package"),
        );
    }
}
