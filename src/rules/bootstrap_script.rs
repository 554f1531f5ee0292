//! A `bootstrap` script that cannot start: Windows line ends, or an interpreter that the runtime
//! image does not have.
//!
//! Why it breaks: the kernel reads the `#!` line literally. With CRLF line ends the interpreter is
//! `/bin/sh\r`, which does not exist. The `provided.*` images are minimal: they have `/bin/sh`
//! and bash, but no Python, Node.js or Ruby, so `#!/usr/bin/env python3` fails there.
//!
//! Seen on Lambda: `Runtime.InvalidEntrypoint` with `fork/exec /var/task/bootstrap: no such file
//! or directory`.
//!
//! Fix: convert the script to LF line ends (`dos2unix bootstrap`), and use `/bin/sh` or bash,
//! or ship the interpreter in the package or a layer.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::target::Family;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(entry) = ctx.package.resolve("bootstrap") else {
        return;
    };
    let Some(text) = ctx.package.text(&entry.path) else {
        return;
    };
    let Some(first) = text.split('\n').next().and_then(|l| l.strip_prefix("#!")) else {
        return;
    };
    let seen = format!(
        "Runtime.InvalidEntrypoint: fork/exec {}: no such file or directory",
        ctx.package.runtime_path("bootstrap")
    );
    if first.ends_with('\r') {
        out.push(
            ctx.finding(
                Code::BootstrapScript,
                "bootstrap",
                "script has Windows (CRLF) line ends: the interpreter `#!` names does not exist",
            )
            .runtime_error(seen)
            .fix("convert it to LF line ends (`dos2unix bootstrap`)"),
        );
        return;
    }
    let mut words = first.split_whitespace();
    let Some(interpreter) = words.next() else {
        return;
    };
    let program =
        if interpreter.ends_with("/env") { words.find(|w| !w.starts_with('-')).unwrap_or("") } else { interpreter };
    let in_package = ctx.package.package_path(program).is_some_and(|p| ctx.package.resolve(&p).is_some());
    let provided_only = ctx.target.family() == Some(Family::Provided);
    let known = crate::target::table().lambda.shells.iter().any(|s| s == program);
    if provided_only && !known && !in_package {
        let message = format!("script runs `{program}`, which the {} image does not have", ctx.target.short_name());
        out.push(
            ctx.finding(Code::BootstrapScript, "bootstrap", message)
                .runtime_error(seen)
                .fix("use `/bin/sh` or bash, or ship the interpreter in the package or a layer"),
        );
    }
}
