//! What `elfcheck fix` will rebuild: the distributions that own error-level binaries.

use std::collections::BTreeMap;

use crate::attribution::{Distribution, Ecosystem};
use crate::loader::{Placement, Placements};
use crate::package::Package;
use crate::paths::parent;
use crate::rules::{Code, Finding, Severity};
use crate::target::Target;

/// A Python distribution to reinstall for the target: at the same version, or (with
/// `--upgrade-to-compatible`, when that version has no build for the target) at the newest
/// version that has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonRebuild {
    pub name: String,
    pub version: String,
    /// The version installed, when `version` is another one.
    pub replaces_version: Option<String>,
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

    /// `numpy 2.2.6 in place of 2.4.6`, or `numpy 2.4.6`.
    pub fn label(&self) -> String {
        match &self.replaces_version {
            Some(old) => format!("{} {} in place of {old}", self.name, self.version),
            None => format!("{} {}", self.name, self.version),
        }
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

/// An npm package whose addon was compiled from source (it has a `binding.gyp`) for another
/// platform or Node.js version: `npm rebuild` compiles it again, with node-gyp, in the runtime's
/// build image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRebuild {
    pub name: String,
    pub version: Option<String>,
    /// Its directory (`node_modules/better-sqlite3`): replaced as a whole by the rebuilt one.
    pub root: String,
    /// The outermost `node_modules` directory above it (`node_modules`, `nodejs/node_modules`):
    /// the tree `npm rebuild` runs in.
    pub tree: String,
    pub findings: Vec<String>,
}

impl NodeRebuild {
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// An error finding that nothing `fix` runs can answer, why, and what can.
#[derive(Debug, Clone)]
pub struct Unfixable {
    pub finding: Finding,
    /// Why, and the remedy: a lowercase fragment.
    pub why: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub python: Vec<PythonRebuild>,
    pub node: Vec<NodeInstall>,
    /// Addons to compile from source in the build image (needs Docker).
    pub node_rebuild: Vec<NodeRebuild>,
    /// Files Lambda executes that lack the executable bit: set their mode, nothing to rebuild.
    pub chmod: Vec<String>,
    /// Files and directories not readable by everyone (Lambda runs as another user): `o+rX`.
    pub readable: Vec<String>,
    /// Error findings no rebuild answers, with the reason.
    pub unfixable: Vec<Unfixable>,
    /// The error findings the steps above answer.
    answered: Vec<Finding>,
}

impl Plan {
    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.python.is_empty()
            && self.node.is_empty()
            && self.node_rebuild.is_empty()
            && self.chmod.is_empty()
            && self.readable.is_empty()
    }

    /// Python rebuilds grouped by the directory they install into.
    pub fn python_by_site(&self) -> BTreeMap<&str, Vec<&PythonRebuild>> {
        let mut out: BTreeMap<&str, Vec<&PythonRebuild>> = BTreeMap::new();
        for r in &self.python {
            out.entry(r.site_dir.as_str()).or_default().push(r);
        }
        out
    }

    /// Without a build image, addons cannot be compiled: their findings become unfixable.
    pub fn without_docker(&mut self, why: &str) {
        for r in std::mem::take(&mut self.node_rebuild) {
            for path in &r.findings {
                if let Some(at) = self.answered.iter().position(|f| &f.path == path) {
                    let f = self.answered.remove(at);
                    self.unfixable.push(Unfixable {
                        finding: f,
                        why: format!(
                            "`{}` is compiled from source (it has a `binding.gyp`): `npm rebuild` in the runtime's build image compiles it for the target, {why}",
                            r.label()
                        ),
                    });
                }
            }
        }
    }

    /// The error findings the plan answers, by path.
    pub fn answered(&self) -> &[Finding] {
        &self.answered
    }
}

/// Maps every error finding to what answers it: a reinstall, a platform package, a rebuild from
/// source, a mode change, or nothing (with the reason and the remedy).
pub fn plan(pkg: &Package, target: &Target, findings: &[Finding]) -> Plan {
    let mut plan = Plan::default();
    let analysis = crate::loader::analyze(pkg, target);
    let placements = &analysis.placements;
    let errors: Vec<&Finding> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    // Missing libraries last: a distribution rebuilt for another finding may bring them.
    let (missing, others): (Vec<&Finding>, Vec<&Finding>) =
        errors.into_iter().partition(|f| f.code == Code::MissingLibrary);
    for f in others {
        let owner = pkg.owner_of(&f.path).or_else(|| dist_for_group(pkg, &f.path));
        if let Some(n) = node_install(pkg, placements, &f.path) {
            merge_node(&mut plan.node, n, &f.path);
            plan.answered.push(f.clone());
            continue;
        }
        let nested = pkg.get(&f.path).is_some_and(|e| e.path.is_nested());
        if f.code == Code::NotExecutable {
            // The file the name leads to (a symlinked `bootstrap` is fixed at its target).
            let file = pkg.resolve(&f.path).map_or_else(|| f.path.clone(), |e| e.path.to_string());
            if !plan.chmod.contains(&file) {
                plan.chmod.push(file);
            }
            plan.answered.push(f.clone());
            continue;
        }
        if f.code == Code::UnreadableFile && !nested {
            plan.readable.push(f.path.clone());
            plan.answered.push(f.clone());
            continue;
        }
        let why = match owner {
            _ if f.code == Code::DuplicateEntry => {
                "the zip stores this path more than once; rebuild it so that each path is stored once".to_string()
            }
            _ if nested => "inside a nested archive: rebuild that archive itself".to_string(),
            Some(d) if d.ecosystem == Ecosystem::Python => match python_rebuild(d) {
                Some(r) => {
                    merge_python(&mut plan.python, r, &f.path);
                    plan.answered.push(f.clone());
                    continue;
                }
                None => format!("`{}` has no version in its metadata", d.name),
            },
            Some(d) if rebuildable_addon(pkg, d, f.code) => {
                merge_node_rebuild(&mut plan.node_rebuild, node_rebuild(d), &f.path);
                plan.answered.push(f.clone());
                continue;
            }
            Some(d) => format!(
                "`{}` ships prebuilt binaries and no `binding.gyp` to compile them from: install a version with a build for the target",
                d.label()
            ),
            None => "no installed package owns this file".to_string(),
        };
        plan.unfixable.push(Unfixable { finding: f.clone(), why });
    }
    let fs = crate::loader::fs::Fs::new(pkg);
    for f in missing {
        let owner = pkg.owner_of(&f.path);
        if let Some(r) = owner.and_then(|d| plan.python.iter_mut().find(|r| r.dist_info == d.root)) {
            // Rebuilt anyway: the build for the target may bring the library (the re-check tells).
            r.findings.push(f.path.clone());
            plan.answered.push(f.clone());
            continue;
        }
        let names = missing_names(&analysis, &fs, &f.path);
        let why = missing_library_words(owner, &names, target, f);
        plan.unfixable.push(Unfixable { finding: f.clone(), why });
    }
    plan
}

/// Why no reinstall brings a missing library, and what does: a layer with it under `lib/`.
fn missing_library_words(owner: Option<&Distribution>, names: &[String], target: &Target, f: &Finding) -> String {
    if names.is_empty() {
        // A missing interpreter (PT_INTERP): the rule says how to relink.
        return format!("reinstalling cannot help: {}", f.fix.as_deref().unwrap_or("rebuild it for the target"));
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let who = match owner {
        Some(d) => format!("`{}` expects the system to provide {}", d.label(), quoted.join(", ")),
        None => format!("this file needs {} from the system", quoted.join(", ")),
    };
    let runtime = target.runtime.map_or_else(|| target.os().name.clone(), |r| r.id.clone());
    let providers: Vec<String> = names.iter().map(|n| super::libraries::provider_words(n, target)).collect();
    format!(
        "reinstalling cannot help: {who}, and {runtime} does not have {}; add a layer with {} under `lib/` (pass it with --layer to check them together); {}",
        if names.len() == 1 { "it" } else { "them" },
        if names.len() == 1 { "it" } else { "them" },
        providers.join("; ")
    )
}

/// The libraries the loader does not find for the object a `missing-library` finding is on.
fn missing_names(analysis: &crate::loader::Analysis, fs: &crate::loader::fs::Fs, path: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for closure in &analysis.loads.closures {
        for need in &closure.needs {
            if !matches!(need.found, crate::loader::elf::Found::Missing { .. }) {
                continue;
            }
            // Reported on the nearest object of the package up the chain (as the rule does).
            let at = closure.chain(need.by).into_iter().rev().find(|&i| closure.mapped[i].file.in_input());
            if at.is_some_and(|i| fs.display(closure.mapped[i].file) == path) && !names.contains(&need.name) {
                names.push(need.name.clone());
            }
        }
    }
    names
}

/// Codes a compile from source in the runtime's build image answers.
fn rebuilt_from_source(code: Code) -> bool {
    matches!(
        code,
        Code::MachoBinary
            | Code::PeBinary
            | Code::ElfClassMismatch
            | Code::ArchMismatch
            | Code::MuslBinary
            | Code::GlibcTooNew
            | Code::LibstdcxxTooNew
            | Code::NodeAbiMismatch
    )
}

/// An npm package with its addon sources (`binding.gyp`), for a finding a compile answers.
fn rebuildable_addon(pkg: &Package, d: &Distribution, code: Code) -> bool {
    d.ecosystem == Ecosystem::Node
        && rebuilt_from_source(code)
        && pkg.contains(&format!("{}/binding.gyp", d.root))
        && outer_node_modules(&d.root).is_some()
}

fn node_rebuild(d: &Distribution) -> NodeRebuild {
    NodeRebuild {
        name: d.name.clone(),
        version: d.version.clone(),
        root: d.root.clone(),
        tree: outer_node_modules(&d.root).unwrap_or_default(),
        findings: Vec::new(),
    }
}

/// `nodejs/node_modules/a/node_modules/b` -> `nodejs/node_modules`.
fn outer_node_modules(root: &str) -> Option<String> {
    let mut at = 0;
    for part in root.split('/') {
        if part == "node_modules" {
            return Some(root[..at + part.len()].to_string());
        }
        at += part.len() + 1;
    }
    None
}

fn merge_node_rebuild(list: &mut Vec<NodeRebuild>, r: NodeRebuild, path: &str) {
    match list.iter_mut().find(|x| x.root == r.root) {
        Some(x) => x.findings.push(path.to_string()),
        None => list.push(NodeRebuild { findings: vec![path.to_string()], ..r }),
    }
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
        replaces_version: None,
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
    fn outer_node_modules_dir() {
        assert_eq!(outer_node_modules("node_modules/a/node_modules/b").as_deref(), Some("node_modules"));
        assert_eq!(outer_node_modules("nodejs/node_modules/b").as_deref(), Some("nodejs/node_modules"));
        assert_eq!(outer_node_modules("vendor/b"), None);
    }

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
