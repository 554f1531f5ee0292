//! A needed shared library that neither the package nor the runtime provides.
//!
//! Why it breaks: the loader resolves every DT_NEEDED entry when the file is loaded, searching
//! the file's DT_RPATH, the runtime's `LD_LIBRARY_PATH` (`/var/lang/lib`, `/lib64`, `/usr/lib64`,
//! `/var/runtime`, `/var/runtime/lib`, `/var/task`, `/var/task/lib`, `/opt/lib`), its DT_RUNPATH
//! with `$ORIGIN` expanded, then the image's own libraries. Wheels that were not repaired with
//! auditwheel, binaries copied from a build machine, and libraries of desktop systems (`libGL`,
//! `libX11`, OpenSSL 1.1 on Amazon Linux 2023) are the usual cause.
//!
//! Seen on Lambda: `libfoo.so.3: cannot open shared object file: No such file or directory`.
//!
//! Fix: bundle the library in the package (in `lib/`, or next to the binary with an `$ORIGIN`
//! rpath), install a wheel that vendors it (manylinux wheels do), or use a layer that ships it
//! under `lib/`.

use super::{Context, RuleId};
use crate::finding::{Finding, Severity};
use crate::loader::{Resolution, resolve};
use crate::package::file_name;

pub(super) static RULE: RuleId = RuleId { code: "missing-library", severity: Severity::Error };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (entry, elf) in ctx.native_elfs() {
        if elf.is_musl() {
            continue; // musl-binary says it better: its libc is what is missing
        }
        let missing: Vec<&String> = elf
            .needed
            .iter()
            .filter(|n| {
                resolve(ctx.package, ctx.target, &entry.path, &elf.rpath, &elf.runpath, n) == Resolution::Missing
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
        let message = format!("{} -> {}: not in the package or the runtime", file_name(&entry.path), names.join(", "));
        let seen = format!("{}: cannot open shared object file: No such file or directory", missing[0]);
        out.push(
            ctx.finding(&RULE, &entry.path, message)
                .runtime_error(seen)
                .fix("bundle the library in the package (e.g. under `lib/`) or install a build that vendors it"),
        );
    }
}
