//! A file or directory that is not world-readable (or a directory not world-searchable).
//!
//! Why it breaks: Lambda runs the function as a different user than the owner recorded in the
//! zip, so only the "other" permission bits count. Files must be readable by all (`o+r`),
//! directories readable and searchable (`o+rx`). Zips made from a private checkout or a
//! `umask 077` shell carry 0600 / 0700 modes.
//!
//! Seen on Lambda: `Permission denied` (`EACCES`) when the file is read or imported, or
//! `Runtime.ImportModuleError`.
//!
//! Only what Lambda itself unpacks counts: not the entries of a wheel (pip sets their modes) or
//! of an archive nested in the package.
//!
//! Fix: `chmod -R o+rX .` before zipping.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::source::EntryKind;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    if ctx.package.kind == crate::package::InputKind::Wheel {
        return;
    }
    // Inside a nested archive, modes are whatever the code that opens it applies.
    for entry in ctx.package.entries.iter().filter(|e| !e.path.is_nested()) {
        let Some(mode) = entry.mode else { continue };
        let (needed, what) = match entry.kind {
            EntryKind::File => (0o004, "file is not world-readable"),
            EntryKind::Dir => (0o005, "directory is not world-readable and searchable"),
            EntryKind::Symlink { .. } => continue,
        };
        if mode & needed == needed {
            continue;
        }
        let message = format!("{what} (mode {mode:04o})");
        out.push(
            ctx.finding(Code::UnreadableFile, &entry.path, message)
                .runtime_error(format!("[Errno 13] Permission denied: '{}'", ctx.package.runtime_path(&entry.path)))
                .fix("run `chmod -R o+rX .` before zipping"),
        );
    }
}
