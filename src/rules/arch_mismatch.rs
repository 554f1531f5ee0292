//! A 64-bit ELF file for the other CPU than the function's (aarch64 in an x86_64 function or
//! the reverse).
//!
//! Why it breaks: the loader maps only code for the CPU it runs on. This happens when a package
//! is built on a Graviton or Apple-silicon Linux VM for an x86_64 function, when a layer built for
//! one architecture is attached to a function of the other, or when `--platform` was wrong.
//!
//! Seen on Lambda: `cannot open shared object file: No such file or directory` (misleading: the
//! file is there, but the loader skips it as incompatible); `exec format error` for executables
//! such as `bootstrap`.
//!
//! Fix: install the dependency for the function's architecture (`pip install --platform
//! manylinux2014_x86_64 ...`, `npm install --cpu=x64`), or change the function's architecture.

use super::{Code, Context, RuleDef};
use crate::binary::Object;
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("built for another CPU") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let want = ctx.target.arch.elf_name();
    for (entry, object) in ctx.loaded_objects() {
        let Object::Elf(elf) = object else { continue };
        if elf.bits != 64 || elf.big_endian || elf.runs_on(ctx.target.arch) {
            continue;
        }
        let lambda_arch = ctx.target.arch.lambda_name();
        let alias = if lambda_arch == want { String::new() } else { format!(" ({want})") };
        let message = format!("ELF for {} in an {lambda_arch} function{alias}", elf.machine_name());
        let seen = if elf.is_executable() {
            "exec format error".to_string()
        } else {
            format!(
                "{}: cannot open shared object file: No such file or directory",
                ctx.package.runtime_path(&entry.path)
            )
        };
        let seen = ctx.runtime_error_for(&entry.path, &seen);
        out.push(ctx.finding(Code::ArchMismatch, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
}
