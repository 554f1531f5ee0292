//! A CPython extension module that the runtime's interpreter will not import.
//!
//! Why it breaks: CPython on Linux imports `NAME.cpython-3XY-<cpu>-linux-gnu.so` for its own
//! version and CPU, `NAME.abi3.so` and `NAME.so`, and skips every other file in silence: a
//! `cpython-311` build under python3.12, a `-darwin.so`, a `.pyd`, another CPU's triplet, a
//! free-threaded (`313t`) build. Packages installed with one Python and deployed on another hit
//! this. A layer's `python/lib/python3.X/site-packages` is only on `sys.path` when X is the
//! runtime's version, so a layer built for another version is invisible as a whole.
//!
//! Seen on Lambda: `Runtime.ImportModuleError: Unable to import module 'lambda_function': No
//! module named 'rpds.rpds'`.
//!
//! Fix: install the dependency with the runtime's Python version (`pip install
//! --python-version 3.12 --only-binary=:all: ...`), or set the function's runtime to the version
//! the package was built for.

use std::collections::BTreeSet;

use super::{Context, RuleId};
use crate::binary::ElfInfo;
use crate::finding::{Finding, Severity};
use crate::package::{Layout, file_name};
use crate::python::{ExtTag, expected_tag, imports, layer_python_version, module_name, parse_extension_name};

pub(super) static RULE: RuleId = RuleId { code: "python-abi-mismatch", severity: Severity::Error };

/// Whether a file is a Python extension module: it exports `PyInit_*`, or its name carries an
/// interpreter tag.
fn is_extension(elf: Option<&ElfInfo>, tag: &ExtTag) -> bool {
    !matches!(tag, ExtTag::Plain) || elf.is_some_and(|e| e.python_init.is_some())
}

/// What Python prints when a file that cannot load would be imported: `No module named ...` when
/// the target's interpreter skips it by name, else `fallback` (the loader's error).
pub(crate) fn runtime_error_for(ctx: &Context, path: &str, fallback: &str) -> String {
    let Some((stem, tag)) = parse_extension_name(file_name(path)) else {
        return fallback.to_string();
    };
    let skipped = match ctx.target.python_version() {
        Some(version) => !imports(&tag, version, ctx.target.arch),
        None => {
            matches!(tag, ExtTag::Pyd(_) | ExtTag::Other(_))
                || matches!(&tag, ExtTag::CPython { platform, .. } if platform != ctx.target.arch.python_triplet())
        }
    };
    if skipped { format!("No module named '{}'", module_name(path, stem)) } else { fallback.to_string() }
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(version) = ctx.target.python_version() else {
        return;
    };
    let arch = ctx.target.arch;
    for (entry, elf) in ctx.native_elfs() {
        if elf.is_musl() {
            continue; // other rules explain why the file cannot load at all
        }
        let Some((stem, tag)) = parse_extension_name(file_name(&entry.path)) else {
            continue;
        };
        if !is_extension(Some(elf), &tag) || imports(&tag, version, arch) {
            continue;
        }
        let rt = ctx.target.short_name();
        let message = format!(
            "`{}` extension is not imported by {rt}, which loads `{}`, `abi3` and untagged `.so` only",
            tag.display(),
            expected_tag(version, arch)
        );
        let seen = format!("No module named '{}'", module_name(&entry.path, stem));
        out.push(ctx.finding(&RULE, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
    if ctx.package.layout == Layout::Layer {
        let dirs: BTreeSet<(String, (u32, u32))> = ctx
            .package
            .entries
            .iter()
            .filter_map(|e| {
                let v = layer_python_version(&e.path)?;
                let dir: Vec<&str> = e.path.splitn(4, '/').take(3).collect();
                Some((dir.join("/"), v))
            })
            .filter(|(_, v)| *v != version)
            .collect();
        for (dir, (a, b)) in dirs {
            let message = format!(
                "layer directory for Python {a}.{b} is not on `sys.path` of {}; nothing under it is importable",
                ctx.target.short_name()
            );
            out.push(ctx.finding(&RULE, &dir, message).runtime_error("No module named ...").fix(format!(
                "install the layer's packages under `python/lib/python{}.{}/site-packages` or `python/`",
                version.0, version.1
            )));
        }
    }
}
