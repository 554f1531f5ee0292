//! An entry name with backslashes, as some Windows zip tools write them.
//!
//! Why it breaks: zip names use `/`; Lambda unpacks `lib\foo.so` as one file whose name contains
//! a backslash, in the root directory, so nothing finds it at `lib/foo.so`.
//!
//! Seen on Lambda: `No module named ...` or `cannot open shared object file` for files that are
//! visibly in the zip.
//!
//! Fix: zip with a tool that writes `/` separators (`Compress-Archive` in PowerShell 7+, 7-Zip,
//! Python `zipfile`, `sam build`).

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let name = entry.path.inner();
        if !name.contains('\\') {
            continue;
        }
        out.push(
            ctx.finding(Code::BackslashPath, &entry.path, "entry name uses `\\` separators: it unpacks as one oddly named file")
                .runtime_error(format!("{}: No such file or directory", name.replace('\\', "/")))
                .fix("zip with a tool that writes `/` separators"),
        );
    }
}
