//! A needed shared library that the loader does not find: not in the package, its layers or the
//! runtime.
//!
//! Why it breaks: the loader maps every DT_NEEDED entry when the file is loaded, breadth-first
//! from what the runtime loads (an extension module, an addon, an executable). For each name it
//! reuses a library already loaded under that name, else searches: the DT_RPATH of the needing
//! object and of every object that loaded it up to the root (only when the needing object has no
//! DT_RUNPATH), the runtime's `LD_LIBRARY_PATH` (`/var/lang/lib`, `/lib64`, `/usr/lib64`,
//! `/var/runtime`, `/var/runtime/lib`, `/var/task`, `/var/task/lib`, `/opt/lib`), the needing
//! object's own DT_RUNPATH, then the system directories; `$ORIGIN` is the directory of the object
//! that carries the entry. So a vendored library without an RPATH of its own is found through
//! the RPATH of the extension that loaded it, and never through a RUNPATH. A file for another CPU
//! in a searched directory is skipped. Libraries of desktop systems (`libGL`, `libX11`), OpenSSL
//! 1.1 on Amazon Linux 2023, and libraries that only the Lambda container images have (on Amazon
//! Linux 2: `libcrypt.so.1`, `libexpat.so.1`, `liblzma.so.5`, `libbz2.so.1`, `libuuid.so.1`) are
//! the usual causes. An interpreter (PT_INTERP) that does not exist fails the same way.
//!
//! A library that nothing the runtime loads reaches is judged alone, as a `dlopen` or `ctypes`
//! call by its path would load it; a name only that lookup misses is a warning.
//!
//! Seen on Lambda: `libfoo.so.3: cannot open shared object file: No such file or directory`.
//!
//! Fix: bundle the library in the package (in `lib/`, or next to the binary with an `$ORIGIN`
//! rpath), install a wheel that vendors it (manylinux wheels do), or use a layer that ships it
//! under `lib/`.

use std::collections::BTreeMap;

use super::{Code, Context, Finding, RuleDef, Severity};
use crate::binary::Object;
use crate::loader::elf::{Closure, Found, Skipped};
use crate::paths::file_name;

pub(super) static RULE: RuleDef = RuleDef {
    severity: Severity::Error,
    second: Some((Severity::Warning, "for a library nothing the runtime loads reaches")),
    headline: Some("with missing libraries"),
};

/// The missing names of one needing object, as one closure found them.
struct Missing<'a> {
    chain: String,
    names: Vec<&'a str>,
    container: Vec<(&'a str, &'a str)>,
    skipped: Vec<&'a Skipped>,
    lone: bool,
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // (reported path, chain) -> what is missing there; a root's closure wins over a lone one.
    let mut found: BTreeMap<(String, String), Missing> = BTreeMap::new();
    for closure in &ctx.analysis.loads.closures {
        for need in &closure.needs {
            let Found::Missing { container, skipped } = &need.found else { continue };
            let Some(at) = reported_object(closure, need.by, ctx) else { continue };
            let path = ctx.fs.display(closure.mapped[at].file);
            let chain = chain_text(ctx, closure, need.by);
            let slot = found.entry((path, chain.clone())).or_insert_with(|| Missing {
                chain,
                names: Vec::new(),
                container: Vec::new(),
                skipped: Vec::new(),
                lone: closure.lone,
            });
            if slot.lone && !closure.lone {
                slot.lone = false;
                slot.names.clear();
                slot.container.clear();
                slot.skipped.clear();
            } else if !slot.lone && closure.lone {
                continue;
            }
            if slot.names.contains(&need.name.as_str()) {
                continue;
            }
            slot.names.push(&need.name);
            if let Some(set) = container {
                slot.container.push((&need.name, &set.dir));
            }
            slot.skipped.extend(skipped);
        }
    }
    // One finding per object and missing names: other roots that reach the object and miss the
    // same names are listed in it (fourteen extensions sharing one vendored library are one problem).
    let mut grouped: BTreeMap<(String, Vec<&str>, bool), Vec<Missing>> = BTreeMap::new();
    for ((path, _), m) in found {
        grouped.entry((path, m.names.clone(), m.lone)).or_default().push(m);
    }
    for ((path, _, _), group) in grouped {
        let m = &group[0];
        let names: Vec<String> = m.names.iter().map(|n| format!("`{n}`")).collect();
        let mut message = format!("{} -> {}: not found in the package, its layers or the runtime", m.chain, names.join(", "));
        message.push_str(&other_roots(&group[1..]));
        for (name, dir) in &m.container {
            message.push_str(&format!(
                "; `{name}` exists only in the Lambda container image ({dir}), not in the {} zip runtime",
                ctx.target.short_name()
            ));
        }
        message.push_str(&skipped_text(ctx, &m.skipped));
        let mut f = ctx
            .finding(Code::MissingLibrary, &path, message)
            .runtime_error(format!("{}: cannot open shared object file: No such file or directory", m.names[0]))
            .fix("bundle the library in the package (e.g. under `lib/`) or install a build that vendors it");
        if m.lone {
            f.severity = Severity::Warning;
            f.message.push_str("; nothing the runtime loads reaches this file, so only a `dlopen` or `ctypes` call by its path would load it");
        }
        out.push(f);
    }
    missing_interpreters(ctx, out);
}

/// `; 2 more chains reach it the same way: a.so, b.so`, naming at most three of their roots.
fn other_roots(rest: &[Missing]) -> String {
    if rest.is_empty() {
        return String::new();
    }
    // A chain starts at its root: `root -> ... -> needing object`.
    let mut roots: Vec<&str> = rest.iter().map(|m| m.chain.split(" -> ").next().unwrap_or(&m.chain)).collect();
    roots.dedup();
    let more = roots.len().saturating_sub(3);
    roots.truncate(3);
    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("; {} more {} the same way: {}{tail}", rest.len(), if rest.len() == 1 { "chain reaches it" } else { "chains reach it" }, roots.join(", "))
}

/// The object a missing need is reported on: the needing object if it is the package's own, else
/// the nearest one above it in the chain that is (a layer's library is reported where the
/// package reaches it). Files inside nested archives are never loaded from where they are.
fn reported_object(closure: &Closure, by: usize, ctx: &Context) -> Option<usize> {
    let at = closure.chain(by).into_iter().rev().find(|&i| closure.mapped[i].file.in_input())?;
    (!ctx.fs.entry(closure.mapped[at].file).path.is_nested()).then_some(at)
}

/// `mod/m.so -> libs/liba.so.1`: how the runtime reaches the needing object.
fn chain_text(ctx: &Context, closure: &Closure, by: usize) -> String {
    let parts: Vec<String> = closure.chain(by).iter().map(|&i| ctx.fs.display(closure.mapped[i].file)).collect();
    parts.join(" -> ")
}

fn skipped_text(ctx: &Context, skipped: &[&Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let parts: Vec<String> =
        skipped.iter().map(|s| format!("`{}` ({}, skipped)", ctx.fs.display(s.file), s.why)).collect();
    format!("; the loader passed over {}", parts.join(", "))
}

/// Executables whose interpreter (PT_INTERP) is not the runtime's glibc loader and is not in the
/// package either. musl's loader is musl-binary's to report.
fn missing_interpreters(ctx: &Context, out: &mut Vec<Finding>) {
    let cpu = ctx.target.cpu();
    for (entry, elf) in ctx.native_elfs() {
        let Some(interp) = &elf.interpreter else { continue };
        if entry.path.is_nested() || elf.is_musl() || !elf.is_executable() {
            continue;
        }
        let standard = file_name(interp) == cpu.loader
            && ["/lib", "/lib64", "/usr/lib", "/usr/lib64"].contains(&crate::paths::parent(interp));
        if standard || *interp == cpu.interpreter || ctx.fs.lookup(interp).is_some_and(|f| {
            matches!(ctx.fs.object(f), Some(Object::Elf(e)) if e.runs_on(ctx.target.arch))
        }) {
            continue;
        }
        let message = format!("interpreter `{interp}` does not exist on Lambda (the runtime's is `{}`)", cpu.interpreter);
        out.push(
            ctx.finding(Code::MissingLibrary, &entry.path, message)
                .runtime_error(format!("exec {}: no such file or directory", ctx.package.runtime_path(&entry.path)))
                .fix(format!("relink it with `-Wl,--dynamic-linker={}` or build it in the runtime's build image", cpu.interpreter)),
        );
    }
}
