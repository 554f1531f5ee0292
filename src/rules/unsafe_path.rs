//! An entry name with a `..` component or an absolute path.
//!
//! Why it matters: such a name points outside the directory the zip is unpacked into (a "zip
//! slip"); unpackers either refuse the archive or write where they should not. elfcheck never
//! resolves these names on the host, it only reports them.
//!
//! Seen on Lambda: the upload is rejected or the file is missing at run time.
//!
//! Fix: rebuild the zip from inside the package directory so that every name is relative.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let name = entry.path.inner();
        let Some(why) = crate::source::unsafe_name(name) else {
            continue;
        };
        out.push(
            ctx.finding(Code::UnsafePath, &entry.path, format!("entry name has an {why}: it points outside the package"))
                .fix("rebuild the zip from inside the package directory"),
        );
    }
}
