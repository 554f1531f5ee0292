//! Guessing the runtime from what the package shows, when the user did not say.
//!
//! Evidence, strongest first: a layer's `python/lib/python3.X/`, CPython tags of extension
//! modules and wheels, `NODE_MODULE_VERSION` of addons, the presence of `node_modules` or a
//! `bootstrap`. What is assumed is always printed; when nothing points anywhere, glibc is judged
//! against the oldest OS still supported.

use std::collections::BTreeMap;

use crate::binary::Object;
use crate::package::{Ecosystem, Package, file_name};
use crate::python::{ExtTag, layer_python_version, parse_extension_name};
use crate::target::table;

/// A runtime id and why it was chosen, or only a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    pub runtime: Option<String>,
    pub reason: String,
}

pub fn guess_runtime(pkg: &Package) -> Option<Guess> {
    let mut python: BTreeMap<(u32, u32), (usize, String)> = BTreeMap::new();
    let mut vote = |v: (u32, u32), why: String| {
        let slot = python.entry(v).or_insert((0, why));
        slot.0 += 1;
    };
    for e in &pkg.entries {
        if let Some(v) = layer_python_version(&e.path) {
            vote(v, format!("layer directory `python/lib/python{}.{}`", v.0, v.1));
        }
        if let Some((_, ExtTag::CPython { major, minor, .. })) = parse_extension_name(file_name(&e.path)) {
            vote((major, minor), format!("extension tag `cpython-{major}{minor}` of `{}`", e.path));
        }
    }
    for d in pkg.distributions.iter().filter(|d| d.ecosystem == Ecosystem::Python) {
        for tag in &d.wheel_tags {
            let Some(py) = tag.split('-').next().and_then(|p| p.strip_prefix("cp3")) else {
                continue;
            };
            if let Ok(minor) = py.parse::<u32>() {
                vote((3, minor), format!("wheel tag `{tag}` of {}", d.label()));
            }
        }
    }
    if let Some(((major, minor), (_, why))) = python.into_iter().max_by_key(|(_, (n, _))| *n) {
        let id = format!("python{major}.{minor}");
        if table().runtime(&id).is_some() {
            return Some(Guess { runtime: Some(id), reason: why });
        }
    }
    for (e, o) in pkg.objects() {
        if let Object::Elf(elf) = o
            && let (Some(abi), false) = (elf.node_module_version, elf.napi)
            && let Some(r) = table().runtime.iter().find(|r| r.node_abi == Some(abi))
        {
            let reason = format!("addon `{}` built for NODE_MODULE_VERSION {abi}", e.path);
            return Some(Guess { runtime: Some(r.id.clone()), reason });
        }
    }
    if pkg.entries.iter().any(|e| e.path.starts_with("node_modules/") || e.path.starts_with("nodejs/node_modules/")) {
        return Some(Guess { runtime: None, reason: "a Node.js package (`node_modules`)".into() });
    }
    if pkg.contains("bootstrap") {
        return Some(Guess { runtime: None, reason: "a custom runtime (`bootstrap`)".into() });
    }
    None
}
