//! What `elfcheck fix` will rebuild: the distributions that own error-level binaries.

use std::collections::BTreeMap;

use crate::attribution::{Distribution, Ecosystem};
use crate::loader::{Placement, Placements};
use crate::package::Package;
use crate::paths::parent;
use crate::rules::{Finding, Severity};
use crate::target::Target;

/// A Python distribution to reinstall, at the same version, for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonRebuild {
    pub name: String,
    pub version: String,
    /// The `.dist-info` directory to replace.
    pub dist_info: String,
    /// The directory that holds it (`""` for the package root): pip's `--target`.
    pub site_dir: String,
    /// The error findings this rebuild answers.
    pub findings: Vec<String>,
}

impl PythonRebuild {
    pub fn spec(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }
}

/// An npm platform package to install for the target in place of one for another platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInstall {
    /// `@img/sharp-linux-x64@0.33.5`
    pub name: String,
    pub version: String,
    /// The `node_modules` directory it goes into.
    pub node_modules: String,
    /// The variants for other platforms it replaces (`node_modules/@img/sharp-darwin-arm64`).
    pub replaces: Vec<String>,
    pub findings: Vec<String>,
}

impl NodeInstall {
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub python: Vec<PythonRebuild>,
    pub node: Vec<NodeInstall>,
    /// Files Lambda executes that lack the executable bit: set their mode, nothing to rebuild.
    pub chmod: Vec<String>,
    /// Error findings no rebuild answers, with the reason.
    pub unfixable: Vec<(Finding, String)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.python.is_empty() && self.node.is_empty() && self.chmod.is_empty()
    }

    /// Python rebuilds grouped by the directory they install into.
    pub fn python_by_site(&self) -> BTreeMap<&str, Vec<&PythonRebuild>> {
        let mut out: BTreeMap<&str, Vec<&PythonRebuild>> = BTreeMap::new();
        for r in &self.python {
            out.entry(r.site_dir.as_str()).or_default().push(r);
        }
        out
    }
}

/// Maps every error finding to the rebuild that answers it.
pub fn plan(pkg: &Package, target: &Target, findings: &[Finding]) -> Plan {
    let mut plan = Plan::default();
    let placements = crate::loader::analyze(pkg, target).placements;
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        let owner = pkg.owner_of(&f.path).or_else(|| dist_for_group(pkg, &f.path));
        if let Some(n) = node_install(pkg, &placements, &f.path) {
            merge_node(&mut plan.node, n, &f.path);
            continue;
        }
        let nested = pkg.get(&f.path).is_some_and(|e| e.path.is_nested());
        if f.code == crate::rules::Code::NotExecutable {
            // The file the name leads to (a symlinked `bootstrap` is fixed at its target).
            let file = pkg.resolve(&f.path).map_or_else(|| f.path.clone(), |e| e.path.to_string());
            if !plan.chmod.contains(&file) {
                plan.chmod.push(file);
            }
            continue;
        }
        if f.code == crate::rules::Code::DuplicateEntry {
            let why = "the zip stores this path more than once; rebuild it so that each path is stored once";
            plan.unfixable.push((f.clone(), why.into()));
            continue;
        }
        match owner {
            _ if nested => {
                plan.unfixable.push((f.clone(), "inside a nested archive: rebuild that archive itself".into()))
            }
            Some(d) if d.ecosystem == Ecosystem::Python => match python_rebuild(d) {
                Some(r) => merge_python(&mut plan.python, r, &f.path),
                None => plan.unfixable.push((f.clone(), format!("`{}` has no version in its metadata", d.name))),
            },
            Some(d) => plan.unfixable.push((
                f.clone(),
                format!("`{}` is not a platform package: rebuild it from source in the SAM build image", d.label()),
            )),
            None => plan.unfixable.push((f.clone(), "no installed package owns this file".into())),
        }
    }
    plan
}

/// The distribution whose root is `path` (a finding on a package directory, such as
/// `missing-platform-variant`).
fn dist_for_group<'a>(pkg: &'a Package, path: &str) -> Option<&'a Distribution> {
    pkg.distributions.iter().find(|d| d.root == path)
}

fn python_rebuild(d: &Distribution) -> Option<PythonRebuild> {
    Some(PythonRebuild {
        name: d.name.clone(),
        version: d.version.clone()?,
        dist_info: d.root.clone(),
        site_dir: parent(&d.root).to_string(),
        findings: Vec::new(),
    })
}

fn merge_python(list: &mut Vec<PythonRebuild>, r: PythonRebuild, path: &str) {
    match list.iter_mut().find(|x| x.dist_info == r.dist_info) {
        Some(x) => x.findings.push(path.to_string()),
        None => list.push(PythonRebuild { findings: vec![path.to_string()], ..r }),
    }
}

/// For a finding on a file of an npm platform package for another platform, or on the package
/// that selects one: the target's variant to install, as the selecting package names it, next to
/// that package, in place of the installed variants for other platforms.
fn node_install(pkg: &Package, placements: &Placements, path: &str) -> Option<NodeInstall> {
    // The missing variant this path stands for: its own placement, or (for a finding on the
    // selecting package's directory) the placement of the variants it groups.
    let (needed, group) = placements.iter().find_map(|(p, placement)| match placement {
        Placement::MissingVariant { layout: "npm platform package", needed, group } if p == path || group == path => {
            Some((needed.clone(), group.clone()))
        }
        _ => None,
    })?;
    let selector = dist_for_group(pkg, &group)?;
    let (_, spec) = selector.npm_optional.iter().find(|(n, _)| *n == needed)?;
    let node_modules = node_modules_of(&selector.root, &selector.name)?;
    let mut replaces: Vec<String> = placements
        .iter()
        .filter(
            |(_, p)| matches!(p, Placement::MissingVariant { needed: n, group: g, .. } if *n == needed && *g == group),
        )
        .filter_map(|(file, _)| pkg.owner_of(file).map(|d| d.root.clone()))
        .collect();
    replaces.sort();
    replaces.dedup();
    Some(NodeInstall { name: needed, version: spec.clone(), node_modules, replaces, findings: Vec::new() })
}

/// `node_modules/@img/sharp-darwin-arm64` with name `@img/sharp-darwin-arm64` -> `node_modules`.
fn node_modules_of(root: &str, name: &str) -> Option<String> {
    let dir = root.strip_suffix(name)?.trim_end_matches('/');
    dir.ends_with("node_modules").then(|| dir.to_string())
}

fn merge_node(list: &mut Vec<NodeInstall>, n: NodeInstall, path: &str) {
    match list.iter_mut().find(|x| x.name == n.name && x.node_modules == n.node_modules) {
        Some(x) => x.findings.push(path.to_string()),
        None => list.push(NodeInstall { findings: vec![path.to_string()], ..n }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_modules_dir() {
        assert_eq!(
            node_modules_of("node_modules/@img/sharp-darwin-arm64", "@img/sharp-darwin-arm64").as_deref(),
            Some("node_modules")
        );
        assert_eq!(node_modules_of("nodejs/node_modules/x", "x").as_deref(), Some("nodejs/node_modules"));
        assert_eq!(node_modules_of("vendor/x", "x"), None);
    }
}
