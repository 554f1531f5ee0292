//! A dynamically linked musl binary (an `ld-musl-*` interpreter or a `libc.musl-*` need).
//!
//! Why it breaks: Lambda's images use glibc; there is no musl loader or libc in them. musllinux
//! wheels and Alpine-built binaries end up in packages built in Alpine containers or picked by
//! a resolver that prefers musllinux. A statically linked musl binary needs nothing and is fine.
//!
//! Seen on Lambda: `Error loading shared library libc.musl-x86_64.so.1: No such file or
//! directory`, or `libc.musl-x86_64.so.1: cannot open shared object file`; for an executable,
//! `no such file or directory` although the file exists (its interpreter does not).
//!
//! Fix: install the manylinux (glibc) build instead of the musllinux one, or link statically.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("linked against musl") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, elf) in ctx.native_elfs() {
        if !elf.is_musl() || elf.is_static() {
            continue;
        }
        let evidence = elf
            .needed
            .iter()
            .find(|n| n.starts_with("libc.musl-") || n.as_str() == "libc.so")
            .map(|n| format!("needs `{n}`"))
            .or_else(|| elf.interpreter.as_ref().map(|i| format!("uses the musl loader `{i}`")))
            .unwrap_or_else(|| "linked against musl".into());
        let lib = elf
            .needed
            .iter()
            .find(|n| n.starts_with("libc.musl-"))
            .cloned()
            .unwrap_or_else(|| ctx.target.cpu().musl_libc.clone());
        out.push(
            ctx.finding(Code::MuslBinary, &entry.path, format!("linked against musl libc ({evidence}); Lambda uses glibc"))
                .runtime_error(format!("{lib}: cannot open shared object file: No such file or directory"))
                .fix(ctx.reinstall_hint(&entry.path)),
        );
    }
}
