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
//! When a module of the same name that the interpreter does import sits beside the file (the
//! Linux build beside a stale `-darwin.so` left by `pip install --upgrade`), the file is never
//! loaded and only `unused-platform-binary` mentions it. When only a pure-Python module of that
//! name is beside it, the import works with the slower fallback: a warning.
//!
//! Fix: install the dependency with the runtime's Python version (`pip install
//! --python-version 3.12 --only-binary=:all: ...`), or set the function's runtime to the version
//! the package was built for.

use std::collections::BTreeSet;

use super::{Code, Context, Finding, RuleDef, Severity};
use crate::binary::ElfInfo;
use crate::loader::Placement;
use crate::loader::python::{ExtTag, accepts, expected_tag, layer_python_version, module_name, parse_extension_name};
use crate::package::Layout;
use crate::paths::file_name;

pub(super) static RULE: RuleDef = RuleDef {
    severity: Severity::Error,
    second: Some((Severity::Warning, "when a pure-Python module of the same name is imported instead")),
    headline: Some("for another Python"),
};

/// Whether a file is a Python extension module: it exports `PyInit_*`, or its name carries an
/// interpreter tag.
fn is_extension(elf: Option<&ElfInfo>, tag: &ExtTag) -> bool {
    !matches!(tag, ExtTag::Plain) || elf.is_some_and(|e| e.python_init.is_some())
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(version) = ctx.target.python_version() else {
        return;
    };
    let arch = ctx.target.arch;
    for (entry, object) in ctx.package.objects() {
        let path = &entry.path;
        let Some((stem, tag)) = parse_extension_name(file_name(path)) else { continue };
        let rt = ctx.target.short_name();
        match ctx.placement(path) {
            Some(Placement::PythonFallback { instead }) => {
                let message = format!(
                    "{} `{}` extension is not imported by {rt}; the pure-Python `{instead}` is imported instead (slower)",
                    object.describe(),
                    tag.display()
                );
                let mut f = ctx.finding(Code::PythonAbiMismatch, path, message);
                f.severity = Severity::Warning;
                out.push(f.fix(ctx.reinstall_hint(path)));
            }
            None | Some(Placement::MissingVariant { .. }) => {
                let crate::binary::Object::Elf(elf) = object else { continue };
                if !ctx.is_native(elf) || elf.is_musl() {
                    continue; // other rules explain why the file cannot load at all
                }
                if !is_extension(Some(elf), &tag) || accepts(file_name(path), version, arch) {
                    continue;
                }
                let message = format!(
                    "`{}` extension is not imported by {rt}, which loads `{}`, `abi3` and untagged `.so` only",
                    tag.display(),
                    expected_tag(version, arch)
                );
                let seen = format!("No module named '{}'", module_name(path, stem));
                out.push(
                    ctx.finding(Code::PythonAbiMismatch, path, message).runtime_error(seen).fix(ctx.reinstall_hint(path)),
                );
            }
            Some(_) => {} // never loaded: a module the interpreter does import stands in its place
        }
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
            out.push(ctx.finding(Code::PythonAbiMismatch, &dir, message).runtime_error("No module named ...").fix(format!(
                "install the layer's packages under `python/lib/python{}.{}/site-packages` or `python/`",
                version.0, version.1
            )));
        }
    }
}
