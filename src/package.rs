//! The scanned package as the rules see it: entries indexed by path, links resolved inside the
//! package, and every file mapped to the distribution that installed it.
//!
//! Lookups are indexed once here, so no rule is quadratic in the number of entries.

use std::collections::HashMap;

use crate::binary::Object;
use crate::source::{Content, Entry, EntryKind};

/// Where Lambda unpacks the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Unpacked into `/var/task`.
    Function,
    /// Unpacked into `/opt` (`python/`, `nodejs/node_modules/`, `lib/`, `bin/`, `extensions/`).
    Layer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Python,
    Node,
}

/// A distribution installed in the package: a Python wheel or an npm package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
    /// Wheel tags from `WHEEL` (`cp311-cp311-macosx_11_0_arm64`).
    pub wheel_tags: Vec<String>,
    /// The `.dist-info` directory, or the npm package's directory.
    pub root: String,
    /// npm `os` / `cpu` / `libc` fields of a platform package.
    pub npm_os: Vec<String>,
    pub npm_cpu: Vec<String>,
    pub npm_libc: Vec<String>,
}

impl Distribution {
    /// `editdistance 0.8.1`
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }

    /// The platform part of the first wheel tag (`macosx_11_0_arm64`); `None` for pure wheels
    /// (`any`) and for what was not installed from a wheel.
    pub fn wheel_platform(&self) -> Option<&str> {
        self.wheel_tags.first().and_then(|t| t.rsplit('-').next()).filter(|p| *p != "any")
    }
}

pub struct Package {
    pub entries: Vec<Entry>,
    pub zipped_size: Option<u64>,
    pub layout: Layout,
    /// The input is a wheel: pip installs it with permissions of its own, so the modes stored
    /// in it do not reach Lambda.
    pub is_wheel: bool,
    /// Layers attached to the function (`--layer`): their files are under `/opt` for the
    /// loader, and their size counts against the function's limit. They are not checked here.
    pub layers: Vec<Package>,
    pub distributions: Vec<Distribution>,
    by_path: HashMap<String, usize>,
    /// Entry index -> distribution index.
    owner: HashMap<usize, usize>,
}

impl Package {
    pub fn new(entries: Vec<Entry>, zipped_size: Option<u64>) -> Package {
        let by_path = entries.iter().enumerate().map(|(i, e)| (e.path.clone(), i)).collect();
        let layout = detect_layout(&entries);
        let mut pkg = Package {
            entries,
            zipped_size,
            layout,
            is_wheel: false,
            layers: Vec::new(),
            distributions: Vec::new(),
            by_path,
            owner: HashMap::new(),
        };
        crate::attribution::attribute(&mut pkg);
        pkg
    }

    /// Reads `entries` as a layer, whatever its top-level directories look like.
    pub fn new_layer(entries: Vec<Entry>, zipped_size: Option<u64>) -> Package {
        let mut pkg = Package::new(entries, zipped_size);
        pkg.layout = Layout::Layer;
        pkg
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.by_path.get(path).map(|&i| &self.entries[i])
    }

    pub fn index_of(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    pub fn text(&self, path: &str) -> Option<&str> {
        match &self.get(path)?.content {
            Content::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Every object file with its entry.
    pub fn objects(&self) -> impl Iterator<Item = (&Entry, &Object)> {
        self.entries.iter().filter_map(|e| match &e.content {
            Content::Object(o) => Some((e, o)),
            _ => None,
        })
    }

    /// Follows symlinks inside the package (at most 16 hops). `None` when a link dangles, leaves
    /// the package, or loops.
    pub fn resolve(&self, path: &str) -> Option<&Entry> {
        let mut current = path.to_string();
        for _ in 0..16 {
            let entry = self.get(&current)?;
            match &entry.kind {
                EntryKind::Symlink { target } => current = join_link(&current, target)?,
                _ => return Some(entry),
            }
        }
        None
    }

    pub fn owner_of(&self, path: &str) -> Option<&Distribution> {
        let i = self.index_of(path)?;
        self.owner.get(&i).map(|&d| &self.distributions[d])
    }

    pub(crate) fn set_owner(&mut self, entry: usize, dist: usize) {
        self.owner.insert(entry, dist);
    }

    pub(crate) fn add_distribution(&mut self, d: Distribution) -> usize {
        self.distributions.push(d);
        self.distributions.len() - 1
    }

    /// The absolute path the file has on Lambda (`/var/task/x.so`, `/opt/lib/libz.so.1`).
    pub fn runtime_path(&self, path: &str) -> String {
        let root = match self.layout {
            Layout::Function => &crate::target::table().function_root,
            Layout::Layer => &crate::target::table().layer_root,
        };
        format!("{root}/{path}")
    }

    /// The inverse of [`Package::runtime_path`]: the package path at an absolute runtime path.
    pub fn package_path(&self, runtime_path: &str) -> Option<String> {
        let root = match self.layout {
            Layout::Function => &crate::target::table().function_root,
            Layout::Layer => &crate::target::table().layer_root,
        };
        let rest = runtime_path.strip_prefix(root.as_str())?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        normalize(rest)
    }
}

/// Directory part of a package path (`""` at the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// Joins a relative path to a directory and resolves `.` and `..`; `None` if it leaves the root.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    normalize(&if dir.is_empty() { rel.to_string() } else { format!("{dir}/{rel}") })
}

/// Resolves `.` and `..` in a relative path; `None` if it climbs above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Where a symlink at `link` pointing to `target` leads, inside the package.
pub fn join_link(link: &str, target: &str) -> Option<String> {
    join(parent(link), target)
}

fn detect_layout(entries: &[Entry]) -> Layout {
    const LAYER_DIRS: [&str; 7] = ["python", "nodejs", "java", "ruby", "lib", "bin", "extensions"];
    let mut tops = entries.iter().map(|e| e.path.split('/').next().unwrap_or(""));
    let mut any_layer_dir = false;
    let all_layer = tops.all(|t| {
        let is = LAYER_DIRS.contains(&t);
        any_layer_dir |= matches!(t, "python" | "nodejs" | "java" | "ruby" | "extensions");
        is || t.is_empty()
    });
    if all_layer && any_layer_dir { Layout::Layer } else { Layout::Function }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside() {
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(join("", "../x"), None);
        assert_eq!(join_link("bootstrap", "bin/app").as_deref(), Some("bin/app"));
        assert_eq!(join_link("bin/bootstrap", "/usr/bin/python3"), None);
    }
}
