//! Guessing the runtime from what the package shows, when the user did not say.
//!
//! Evidence, strongest first: a layer's `python/lib/python3.X/`, CPython tags of extension
//! modules and wheels, `NODE_MODULE_VERSION` of addons, the presence of `node_modules` or a
//! `bootstrap`. What is assumed is always printed; when nothing points anywhere, glibc is judged
//! against the oldest OS still supported.

use std::collections::BTreeMap;

use serde::Serialize;

use super::table;
use crate::attribution::Ecosystem;
use crate::binary::Object;
use crate::loader::python::{ExtTag, layer_python_version, parse_extension_name};
use crate::package::Package;
use crate::paths::file_name;

/// What in the package pointed at a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// A layer directory `python/lib/python3.X/`.
    LayerDirectory { python: String },
    /// The CPython tag of an extension module's file name.
    ExtensionTag { tag: String, path: String },
    /// The tag of a wheel installed in the package.
    WheelTag { tag: String, package: String },
    /// A Node.js addon built for one `NODE_MODULE_VERSION`.
    NodeAddon { path: String, abi: u32 },
    /// A `node_modules` directory (the Node.js version is unknown).
    NodeModules,
    /// A `bootstrap` (a custom runtime; which OS is unknown).
    Bootstrap,
}

/// A runtime id and what pointed at it, or only a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    pub runtime: Option<String>,
    pub evidence: Evidence,
}

pub fn guess_runtime(pkg: &Package) -> Option<Guess> {
    let mut python: BTreeMap<(u32, u32), (usize, Evidence)> = BTreeMap::new();
    let mut vote = |v: (u32, u32), why: Evidence| {
        let slot = python.entry(v).or_insert((0, why));
        slot.0 += 1;
    };
    for e in &pkg.entries {
        if let Some(v) = layer_python_version(&e.path) {
            vote(v, Evidence::LayerDirectory { python: format!("{}.{}", v.0, v.1) });
        }
        if let Some((_, ExtTag::CPython { major, minor, .. })) = parse_extension_name(file_name(&e.path)) {
            vote(
                (major, minor),
                Evidence::ExtensionTag { tag: format!("cpython-{major}{minor}"), path: e.path.to_string() },
            );
        }
    }
    for d in pkg.distributions.iter().filter(|d| d.ecosystem == Ecosystem::Python) {
        for tag in &d.wheel_tags {
            let Some(py) = tag.split('-').next().and_then(|p| p.strip_prefix("cp3")) else {
                continue;
            };
            if let Ok(minor) = py.parse::<u32>() {
                vote((3, minor), Evidence::WheelTag { tag: tag.clone(), package: d.label() });
            }
        }
    }
    if let Some(((major, minor), (_, why))) = python.into_iter().max_by_key(|(_, (n, _))| *n) {
        let id = format!("python{major}.{minor}");
        if table().runtime(&id).is_some() {
            return Some(Guess { runtime: Some(id), evidence: why });
        }
    }
    for (e, o) in pkg.objects() {
        if let Object::Elf(elf) = o
            && let (Some(abi), false) = (elf.node_module_version, elf.napi)
            && let Some(r) = table().runtime.iter().find(|r| r.node_abi == Some(abi))
        {
            let evidence = Evidence::NodeAddon { path: e.path.to_string(), abi };
            return Some(Guess { runtime: Some(r.id.clone()), evidence });
        }
    }
    if pkg.entries.iter().any(|e| e.path.starts_with("node_modules/") || e.path.starts_with("nodejs/node_modules/")) {
        return Some(Guess { runtime: None, evidence: Evidence::NodeModules });
    }
    if pkg.contains("bootstrap") {
        return Some(Guess { runtime: None, evidence: Evidence::Bootstrap });
    }
    None
}
