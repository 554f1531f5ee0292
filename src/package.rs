//! The scanned package as the rules see it: entries indexed by path, links resolved inside the
//! package, and every file mapped to the distribution that installed it.
//!
//! Lookups are indexed once here, so no rule is quadratic in the number of entries.

use std::collections::HashMap;
use std::sync::Arc;

use crate::attribution::{Distribution, Ownership};
use crate::binary::Object;
use crate::paths::{join_link, normalize};
use crate::source::{Content, Contents, Entry, EntryKind};

/// Where Lambda unpacks the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Unpacked into `/var/task`.
    Function,
    /// Unpacked into `/opt` (`python/`, `nodejs/node_modules/`, `lib/`, `bin/`, `extensions/`).
    Layer,
}

/// What the input is, which decides what reaches Lambda as it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A deployment or layer zip: Lambda unpacks it with the modes it records.
    Zip,
    /// A wheel: pip installs it with permissions of its own, so its stored modes do not reach
    /// Lambda.
    Wheel,
    /// A directory, as a build step leaves it before zipping.
    Directory,
}

pub struct Package {
    pub entries: Vec<Entry>,
    pub zipped_size: Option<u64>,
    pub layout: Layout,
    pub kind: InputKind,
    /// Layers attached to the function (`--layer`, or the application's template): their files
    /// are under `/opt` for the loader, and their size counts against the function's limit. They
    /// are not checked here. Shared by reference: a layer is read once however many functions
    /// attach it, and a package may be judged again with other layers by replacing this list.
    pub layers: Vec<Arc<Package>>,
    pub distributions: Vec<Distribution>,
    by_path: HashMap<String, usize>,
    /// Entry index -> distribution index.
    owner: HashMap<usize, usize>,
}

impl Package {
    /// The package read from an input, with the layers attached to it; its layout is what its
    /// top-level directories show.
    pub fn build(contents: Contents, kind: InputKind, layers: Vec<Arc<Package>>) -> Package {
        let layout = detect_layout(&contents.entries);
        Package::with_layout(contents, kind, layout, layers)
    }

    /// Reads `contents` as a layer attached to a function, whatever its top-level directories
    /// look like.
    pub fn layer(contents: Contents, kind: InputKind) -> Package {
        Package::with_layout(contents, kind, Layout::Layer, Vec::new())
    }

    fn with_layout(contents: Contents, kind: InputKind, layout: Layout, layers: Vec<Arc<Package>>) -> Package {
        let entries = contents.entries;
        let by_path = entries.iter().enumerate().map(|(i, e)| (e.path.to_string(), i)).collect();
        let Ownership { distributions, owner } = crate::attribution::attribute(&entries, &by_path);
        Package { entries, zipped_size: contents.zipped_size, layout, kind, layers, distributions, by_path, owner }
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

    pub fn owner_of_index(&self, entry: usize) -> Option<&Distribution> {
        self.owner.get(&entry).map(|&d| &self.distributions[d])
    }

    /// The absolute path the file has on Lambda (`/var/task/x.so`, `/opt/lib/libz.so.1`).
    pub fn runtime_path(&self, path: &str) -> String {
        let root = match self.layout {
            Layout::Function => &crate::target::table().lambda.function_root,
            Layout::Layer => &crate::target::table().lambda.layer_root,
        };
        format!("{root}/{path}")
    }

    /// The inverse of [`Package::runtime_path`]: the package path at an absolute runtime path.
    pub fn package_path(&self, runtime_path: &str) -> Option<String> {
        let root = match self.layout {
            Layout::Function => &crate::target::table().lambda.function_root,
            Layout::Layer => &crate::target::table().lambda.layer_root,
        };
        let rest = runtime_path.strip_prefix(root.as_str())?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        normalize(rest)
    }
}

fn detect_layout(entries: &[Entry]) -> Layout {
    let facts = &crate::target::table().lambda;
    let is = |list: &[String], top: &str| list.iter().any(|d| d == top);
    let mut tops = entries.iter().map(|e| e.path.split('/').next().unwrap_or(""));
    let mut any_marker = false;
    let all_layer = tops.all(|top| {
        any_marker |= is(&facts.layer_markers, top);
        top.is_empty() || is(&facts.layer_directories, top)
    });
    if all_layer && any_marker { Layout::Layer } else { Layout::Function }
}
