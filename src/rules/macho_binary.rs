//! A Mach-O (macOS) binary, thin or universal.
//!
//! Why it breaks: Lambda runs Linux, whose loader reads only ELF. A package installed on a Mac
//! (`pip install -t .`, `npm install`) gets macOS builds of every native dependency.
//!
//! Seen on Lambda: `invalid ELF header` when the file is loaded by path; for a Python extension
//! named `*-darwin.so`, the interpreter skips it and the import fails with `No module named ...`.
//!
//! Fix: install the dependency for Linux and the function's CPU: `pip install --platform
//! manylinux2014_x86_64 --only-binary=:all: ...`, `npm install --os=linux --cpu=x64`, or build in
//! the AWS SAM build image (`sam build --use-container`); `elfcheck fix` does this for you.

use super::{Code, Context, RuleDef};
use crate::binary::Object;
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("built for macOS") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, object) in ctx.loaded_objects() {
        let Object::MachO(m) = object else { continue };
        let kind = if m.fat { "universal Mach-O" } else { "Mach-O" };
        let message = format!("{kind} {} built for macOS ({})", m.file_type, m.arches.join(", "));
        out.push(ctx.not_elf_finding(Code::MachoBinary, &entry.path, message));
    }
}
