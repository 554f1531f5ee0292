//! A native Windows PE binary (`.dll`, `.pyd`, `.exe`, or a `.node` built on Windows).
//!
//! Why it breaks: Lambda runs Linux, whose loader reads only ELF. A package installed on Windows
//! gets Windows builds of its native dependencies. Managed .NET assemblies are PE files too, but
//! hold no native code and run on Lambda's .NET runtimes: they are not reported.
//!
//! Seen on Lambda: `invalid ELF header`; a Python `.pyd` is never even tried (CPython on Linux
//! imports `.so` only), so the import fails with `No module named ...`.
//!
//! Fix: install the dependency for Linux (`pip install --platform manylinux2014_x86_64
//! --only-binary=:all: ...`), or build in the AWS SAM build image; `elfcheck fix` does this.

use super::{Code, Context, RuleDef};
use crate::binary::Object;
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("built for Windows") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, object) in ctx.loaded_objects() {
        let Object::Pe(pe) = object else { continue };
        if pe.managed {
            continue;
        }
        let what = if pe.dll { "DLL" } else { "executable" };
        let message = format!("Windows PE {what} ({})", pe.machine);
        out.push(ctx.not_elf_finding(Code::PeBinary, &entry.path, message));
    }
}
