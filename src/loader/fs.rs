//! The file system a function sees: the package unpacked at `/var/task` (a layer at `/opt`), the
//! layers attached to it at `/opt`, each layer overriding the files of those before it.

use crate::binary::Object;
use crate::package::Package;
use crate::source::{Content, Entry};

/// A file of the package (`pkg` 0) or of its `pkg`-th layer (1-based), by entry index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRef {
    pub pkg: usize,
    pub entry: usize,
}

impl FileRef {
    /// A file of the package being checked (not of a layer attached to it).
    pub fn in_input(&self) -> bool {
        self.pkg == 0
    }
}

pub struct Fs<'a> {
    /// The package being checked, then its layers in the order they are attached.
    packages: Vec<&'a Package>,
}

impl<'a> Fs<'a> {
    pub fn new(pkg: &'a Package) -> Fs<'a> {
        let mut packages = vec![pkg];
        packages.extend(pkg.layers.iter().map(|l| &**l));
        Fs { packages }
    }

    pub fn package(&self, f: FileRef) -> &'a Package {
        self.packages[f.pkg]
    }

    pub fn entry(&self, f: FileRef) -> &'a Entry {
        &self.packages[f.pkg].entries[f.entry]
    }

    /// The parsed object of a file, if it is one.
    pub fn object(&self, f: FileRef) -> Option<&'a Object> {
        match &self.entry(f).content {
            Content::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The file at an absolute path, following symlinks inside its package: the package itself
    /// first, then the layers, the last attached first (it overrides the others).
    pub fn lookup(&self, absolute: &str) -> Option<FileRef> {
        let order = std::iter::once(0).chain((1..self.packages.len()).rev());
        for pkg in order {
            let p = self.packages[pkg];
            let Some(path) = p.package_path(absolute) else { continue };
            if let Some(found) = p.resolve(&path) {
                let entry = p.index_of(&found.path)?;
                return Some(FileRef { pkg, entry });
            }
        }
        None
    }

    /// The absolute path of a file on Lambda.
    pub fn runtime_path(&self, f: FileRef) -> String {
        self.package(f).runtime_path(&self.entry(f).path)
    }

    /// A path for reports: relative to the package for its own files, absolute for a layer's.
    pub fn display(&self, f: FileRef) -> String {
        if f.in_input() { self.entry(f).path.to_string() } else { self.runtime_path(f) }
    }
}
