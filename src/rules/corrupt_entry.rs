//! An entry of the package that cannot be read: corrupt compressed data, a CRC mismatch, an
//! unsupported compression method or encryption.
//!
//! Why it breaks: Lambda unpacks the zip before the function starts; an entry it cannot read
//! fails the deployment or leaves a damaged file.
//!
//! Seen on Lambda: `Could not unzip uploaded file` at deployment, or errors when the file is used.
//!
//! In a directory, a file or directory that cannot be read is reported the same way: the zip
//! built from the tree would lack it.
//!
//! Fix: rebuild the zip with a standard tool (`zip -r`, Python `zipfile`, `sam build`) and
//! deflate or store compression.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::source::Content;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for entry in &ctx.package.entries {
        let Content::Unreadable(why) = &entry.content else {
            continue;
        };
        let finding = ctx.finding(Code::CorruptEntry, &entry.path, format!("cannot be read: {why}"));
        out.push(if ctx.package.zipped_size.is_some() {
            finding.runtime_error("Could not unzip uploaded file").fix("rebuild the zip with a standard tool")
        } else {
            // A directory: the zip built from it will lack or break this file.
            finding.fix("make it readable (or remove it) before packaging")
        });
    }
}
