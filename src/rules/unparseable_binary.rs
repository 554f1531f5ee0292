//! A file whose magic bytes say ELF, Mach-O or PE, but which cannot be parsed.
//!
//! Why it matters: a truncated or corrupted object file (an interrupted copy, a text-mode
//! transfer, a zip written by a broken tool) fails when loaded, and elfcheck cannot judge it.
//! Files are identified by content, so a text file starting with `MZ` or a Java class file
//! starting with `0xCAFEBABE` is not reported. An ELF file that declares more than elfcheck
//! reads (over a thousand needed libraries, names of kilobytes: hostile or broken) is reported
//! here too, and not judged further.
//!
//! Seen on Lambda: `file too short`, `invalid ELF header` or a crash at import.
//!
//! Fix: reinstall the package that owns the file; check how the package was copied or zipped.

use super::{Code, Context, RuleDef};
use crate::binary::Object;
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Warning, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, object) in ctx.loaded_objects() {
        if let Object::Elf(elf) = object
            && elf.truncated
        {
            let message = format!(
                "ELF file declares more than elfcheck reads (over {} entries in a list, or names over {} bytes): not judged further",
                crate::binary::MAX_LIST,
                crate::binary::MAX_STRING
            );
            out.push(
                ctx.finding(Code::UnparseableBinary, &entry.path, message)
                    .fix("reinstall the package that owns this file, or remove the file"),
            );
            continue;
        }
        let Object::Unparseable { claimed, reason } = object else {
            continue;
        };
        let message = format!("looks like {claimed} but cannot be parsed: {reason}");
        let seen = if *claimed == "ELF" { "file too short" } else { "invalid ELF header" };
        out.push(
            ctx.finding(Code::UnparseableBinary, &entry.path, message)
                .runtime_error(seen)
                .fix("reinstall the package that owns this file"),
        );
    }
}
