//! What the runtime loads, and how: the model every loader rule judges against.
//!
//! A binary in a package matters only if something loads it. The language runtime decides which
//! files it loads at all ([`python`]: CPython's import system; [`node`]: `require` of addons and
//! npm platform packages, node-gyp-build prebuilds; [`bundles`]: other multi-platform layouts);
//! the dynamic loader then maps each of those roots with its dependencies ([`elf`], glibc's
//! `ld.so`), through the file system the function sees ([`fs`]: the package at `/var/task`,
//! layers at `/opt`, the runtime's own directories).
//!
//! [`analyze`] runs all of it once per package: where each binary stands ([`Placement`]) and
//! what loading each root finds ([`elf::Closure`]).

pub mod bundles;
pub mod elf;
pub mod fs;
pub mod node;
pub mod python;
pub mod versions;

use std::collections::HashMap;

use crate::binary::Object;
use crate::package::Package;
use crate::target::{Family, Target};

/// Where a binary stands for the runtime, when it is not simply loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A variant for another platform; the runtime selects `selected` instead.
    UnusedVariant { layout: &'static str, selected: String },
    /// A variant for another platform, and the target's variant is missing: the runtime asks
    /// for `needed` (under `group`) and fails.
    MissingVariant { layout: &'static str, needed: String, group: String },
    /// Never loaded on this target at all, and why.
    NeverLoaded { why: String },
    /// A Python extension the interpreter skips because a pure-Python module of the same name
    /// (`instead`) is imported in its place.
    PythonFallback { instead: String },
}

impl Placement {
    /// A variant that is not the target's: unused when the layout has the target's (`selected`),
    /// else the evidence that it is missing.
    fn variant(layout: &'static str, selected: Option<&str>, group: &str, needed: impl FnOnce() -> String) -> Self {
        match selected {
            Some(selected) => Placement::UnusedVariant { layout, selected: selected.to_string() },
            None => Placement::MissingVariant { layout, needed: needed(), group: group.to_string() },
        }
    }
}

/// Placement of every object file that the runtime does not simply load, by path.
#[derive(Debug, Default)]
pub struct Placements(HashMap<String, Placement>);

impl Placements {
    pub fn get(&self, path: &str) -> Option<&Placement> {
        self.0.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Placement)> {
        self.0.iter()
    }

    /// Records a placement unless an earlier, more specific one exists.
    fn place(&mut self, path: &str, placement: Placement) {
        self.0.entry(path.to_string()).or_insert(placement);
    }

    /// Whether the runtime may load the file. A variant standing where the target's missing one
    /// should be counts as loaded: it is judged as the evidence of the broken install.
    pub fn is_loaded(&self, path: &str) -> bool {
        matches!(self.0.get(path), None | Some(Placement::MissingVariant { .. }))
    }

    /// Whether nothing placed the file aside at all: the runtime loads it as it is.
    pub fn is_unplaced(&self, path: &str) -> bool {
        !self.0.contains_key(path)
    }
}

/// Everything the loader rules judge: placements, the closures of every root, and the version
/// needs that what the loader finds does not meet.
#[derive(Debug, Default)]
pub struct Analysis {
    pub placements: Placements,
    pub loads: elf::Loads,
    pub versions: Vec<versions::VersionProblem>,
}

/// Places every binary and loads every root of `pkg` on `target`.
pub fn analyze(pkg: &Package, target: &Target) -> Analysis {
    let mut placements = Placements::default();
    let family = target.family();
    let python = matches!(family, None | Some(Family::Python));
    let node = matches!(family, None | Some(Family::Nodejs));
    let imports = python.then(|| python::imports(pkg, target));
    if let Some(imports) = &imports {
        for (path, placement) in &imports.placements {
            placements.place(path, placement.clone());
        }
    }
    node::place(pkg, target, &mut placements);
    bundles::place(pkg, target, &mut placements);

    let fs = fs::Fs::new(pkg);
    let mut roots: Vec<usize> = Vec::new();
    let mut others: Vec<usize> = Vec::new();
    for (i, entry) in pkg.entries.iter().enumerate() {
        let crate::source::Content::Object(Object::Elf(elf)) = &entry.content else { continue };
        // A file that declares more than elfcheck reads is reported as such, not loaded.
        if !placements.is_loaded(&entry.path) || !elf.runs_on(target.arch) || elf.truncated {
            continue;
        }
        let is_root = !entry.path.is_nested()
            && placements.is_unplaced(&entry.path)
            && (elf.is_executable()
                || (node && is_node_addon(&entry.path))
                || imports.as_ref().is_some_and(|im| im.roots.contains(&i)));
        if is_root { roots.push(i) } else { others.push(i) }
    }
    let loads = elf::Loads::compute(&fs, target, &roots, &others);
    let versions = versions::judge(&fs, target, &loads);
    Analysis { placements, loads, versions }
}

fn is_node_addon(path: &str) -> bool {
    path.ends_with(".node")
}
