//! A symbolic link that points to nothing inside the package, or out of it.
//!
//! Why it matters: Lambda keeps symlinks stored in the zip. A link to a path that is not in the
//! package, or that climbs out of it (`../../usr/lib/...`), resolves on Lambda to whatever is (or
//! is not) there. Links whose absolute target lies inside `/var/task` or `/opt` are followed in
//! the package.
//!
//! Seen on Lambda: `No such file or directory` for the link's path.
//!
//! Fix: store the file itself instead of the link (`zip` without `-y`), or fix the link target.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::paths::join_link;
use crate::source::EntryKind;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Warning, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let EntryKind::Symlink { target } = &entry.kind else {
            continue;
        };
        let inside =
            if target.starts_with('/') { ctx.package.package_path(target) } else { join_link(&entry.path, target) };
        let problem = match inside {
            None => format!("symlink to `{target}` points outside the package"),
            Some(p) if ctx.package.resolve(&p).is_none() => {
                format!("symlink to `{target}` dangles: nothing at `{p}`")
            }
            Some(_) => continue,
        };
        out.push(
            ctx.finding(Code::DanglingSymlink, &entry.path, problem)
                .runtime_error(format!("{}: No such file or directory", ctx.package.runtime_path(&entry.path)))
                .fix("store the file instead of the link, or fix the link target"),
        );
    }
}
