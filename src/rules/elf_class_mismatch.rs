//! A 32-bit or big-endian ELF file.
//!
//! Why it breaks: both Lambda CPUs (x86_64 and arm64) run 64-bit little-endian code only, and
//! the runtime images hold no 32-bit libraries. Such files come from `-m32` builds, i386 or armhf
//! wheels, or vendored tools for other systems.
//!
//! Seen on Lambda: `wrong ELF class: ELFCLASS32` when loaded; `exec format error` when executed.
//!
//! Fix: use the 64-bit build for the function's CPU (x86_64 or aarch64).

use super::{Code, Context, RuleDef};
use crate::binary::Object;
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("32-bit or big-endian") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, object) in ctx.loaded_objects() {
        let Object::Elf(elf) = object else { continue };
        if elf.bits == 64 && !elf.big_endian {
            continue;
        }
        let endian = if elf.big_endian { "big-endian" } else { "little-endian" };
        let message =
            format!("{}-bit {endian} ELF for {}; Lambda runs 64-bit little-endian code", elf.bits, elf.machine_name());
        let seen = if elf.bits == 32 { "wrong ELF class: ELFCLASS32" } else { "invalid ELF header" };
        let seen = if elf.is_executable() { "exec format error".to_string() } else { seen.to_string() };
        out.push(ctx.finding(Code::ElfClassMismatch, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
}
