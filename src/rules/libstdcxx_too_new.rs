//! An ELF file that needs a newer libstdc++ or libgcc_s than the runtime's.
//!
//! Why it breaks: C++ code binds to versioned symbols of the system's libstdc++ (`GLIBCXX_3.4.30`,
//! `CXXABI_1.3.13`) and libgcc_s (`GCC_7.0.0`). Amazon Linux 2 ships the libraries of GCC 7
//! (up to `GLIBCXX_3.4.24`, `CXXABI_1.3.11`), Amazon Linux 2023 those of GCC 11 (up to
//! `GLIBCXX_3.4.29`, `CXXABI_1.3.13`). Code built with a newer compiler fails unless the package
//! ships its own libstdc++ that the loader finds first (auditwheel-repaired wheels do); then the
//! bundled library is used and no finding is made.
//!
//! Seen on Lambda: ``version `GLIBCXX_3.4.30' not found (required by /var/task/...)``.
//!
//! Fix: install a build made with an older toolchain (manylinux2014 wheels), bundle
//! libstdc++ next to the binary with an `$ORIGIN` rpath, or link libstdc++ statically.

use super::{Context, RuleId};
use crate::finding::{Finding, Severity};
use crate::loader::{Resolution, resolve};
use crate::version::{Version, split_symbol_version};

pub(super) static RULE: RuleId = RuleId { code: "libstdcxx-too-new", severity: Severity::Error };

const NAMESPACES: [&str; 3] = ["GLIBCXX", "CXXABI", "GCC"];

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let have = &ctx.target.cpu().versions;
    for (entry, elf) in ctx.native_elfs() {
        if elf.is_musl() {
            continue;
        }
        // namespace -> (newest need, symbols)
        let mut too_new: Vec<(String, Version, Vec<String>)> = Vec::new();
        for need in elf.version_needs.iter().filter(|n| !n.weak) {
            let Some((ns, v)) = split_symbol_version(&need.version) else {
                continue;
            };
            if !NAMESPACES.contains(&ns) || have.get(ns).is_some_and(|h| v <= *h) {
                continue;
            }
            let bundled = resolve(ctx.package, ctx.target, &entry.path, &elf.rpath, &elf.runpath, &need.library);
            if matches!(bundled, Resolution::Package(_) | Resolution::Layer(_)) {
                continue;
            }
            match too_new.iter_mut().find(|(n, _, _)| n == ns) {
                Some((_, best, syms)) if *best == v => syms.extend(need.symbols.iter().cloned()),
                Some((_, best, syms)) if *best < v => {
                    *best = v;
                    *syms = need.symbols.clone();
                }
                Some(_) => {}
                None => too_new.push((ns.to_string(), v, need.symbols.clone())),
            }
        }
        if too_new.is_empty() {
            continue;
        }
        too_new.sort_by(|a, b| a.0.cmp(&b.0));
        let parts: Vec<String> = too_new
            .iter()
            .map(|(ns, v, syms)| {
                let first = syms.first().map(|s| format!(" (`{s}`)")).unwrap_or_default();
                let max = have.get(ns.as_str()).map(|h| format!("{ns}_{h}")).unwrap_or_else(|| "none".into());
                format!("`{ns}_{v}`{first}, runtime has up to `{max}`")
            })
            .collect();
        let (ns, v, _) = &too_new[0];
        let message = format!("needs {} on {}", parts.join("; "), ctx.target.short_name());
        let seen = format!("version `{ns}_{v}' not found (required by {})", ctx.package.runtime_path(&entry.path));
        out.push(ctx.finding(&RULE, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
}
