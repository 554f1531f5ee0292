//! glibc's dynamic loader (`ld.so`), as it maps a root and its dependencies on Lambda.
//!
//! For each root (an extension module or addon the runtime process opens, an executable it
//! runs), the DT_NEEDED entries are mapped breadth-first, as `_dl_map_object_deps` does. Each
//! name is first matched against what is already loaded (by the name it was loaded as, or its
//! DT_SONAME). Otherwise glibc searches, in order:
//! 1. if the needing object has no DT_RUNPATH: the DT_RPATH of the needing object, then of the
//!    object that loaded it, and so on up to the root (an object with DT_RUNPATH contributes no
//!    DT_RPATH of its own; RPATHs are inherited, RUNPATHs never are);
//! 2. `LD_LIBRARY_PATH` (Lambda's: `/var/lang/lib:/lib64:/usr/lib64:...:/var/task/lib:/opt/lib`);
//! 3. the needing object's own DT_RUNPATH;
//! 4. the system directories.
//!
//! `$ORIGIN` (or `${ORIGIN}`) is the directory of the object that carries the entry, `$LIB` and
//! `$PLATFORM` what they are on the CPU. A candidate file for another ELF class or CPU is skipped
//! and the search goes on. A name with a `/` is opened as a path (relative to the function's
//! working directory). Libraries no root reaches are judged alone ([`Loads::compute`]): each is
//! mapped as its own root, as `dlopen` by path would.

use std::collections::{HashMap, HashSet};

use super::fs::{FileRef, Fs};
use crate::binary::{ElfInfo, ElfKind, Object};
use crate::paths::{file_name, normalize, parent};
use crate::target::{Delivery, Family, LibrarySet, Target, table};

/// One object mapped in a closure.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub file: FileRef,
    /// The absolute path it was found at: `$ORIGIN` is its directory.
    pub path: String,
    /// The object whose DT_NEEDED brought it in (`None` for the root).
    pub loader: Option<usize>,
    /// The names later needs match: what it was needed as, and its DT_SONAME.
    names: Vec<String>,
}

/// A candidate the loader passed over: a file of another ELF class or CPU, or not ELF at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: FileRef,
    pub why: String,
}

/// How one DT_NEEDED name was satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A file of the package or of a layer: `mapped[index]` of the closure.
    Mapped(usize),
    /// A library of the runtime, from `set` (its directory, and the version ceilings that apply).
    Runtime { set: &'static LibrarySet, preloaded: bool },
    /// Nowhere the loader looks. `container` holds it when only the container image has it.
    Missing { container: Option<&'static LibrarySet>, skipped: Vec<Skipped> },
}

/// One DT_NEEDED entry of a mapped object and what the loader found for it.
#[derive(Debug, Clone)]
pub struct Need {
    /// Index of the needing object in the closure.
    pub by: usize,
    pub name: String,
    pub found: Found,
    /// The loader searched for it (it was not met by an object already loaded).
    pub searched: bool,
}

/// A root and everything loading it maps.
#[derive(Debug, Clone)]
pub struct Closure {
    pub root: FileRef,
    /// Judged alone: no root of the runtime reaches it, so only an explicit `dlopen` or `ctypes`
    /// call by path would load it.
    pub lone: bool,
    pub mapped: Vec<Mapped>,
    pub needs: Vec<Need>,
}

impl Closure {
    /// The objects from the root down to `mapped[i]`.
    pub fn chain(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut at = i;
        while let Some(up) = self.mapped[at].loader {
            out.push(up);
            at = up;
        }
        out.reverse();
        out
    }

    /// What `mapped[by]` found for `name`.
    pub fn need(&self, by: usize, name: &str) -> Option<&Found> {
        self.needs.iter().find(|n| n.by == by && n.name == name).map(|n| &n.found)
    }
}

/// Every closure of a package: one per root, then one per library no root reaches.
#[derive(Debug, Default)]
pub struct Loads {
    pub closures: Vec<Closure>,
}

impl Loads {
    /// Maps every root (entry indices of the package), then judges alone each of `others` that no
    /// root reached, tops first (those no other unreached one needs).
    pub fn compute(fs: &Fs, target: &Target, roots: &[usize], others: &[usize]) -> Loads {
        let loader = Loader::new(fs, target);
        let mut closures = Vec::new();
        let mut reached: HashSet<FileRef> = HashSet::new();
        for &entry in roots {
            let root = FileRef { pkg: 0, entry };
            let closure = loader.load(root, false);
            reached.extend(closure.mapped.iter().map(|m| m.file));
            closures.push(closure);
        }
        let unreached: Vec<(usize, &ElfInfo)> = others
            .iter()
            .filter(|&&i| !reached.contains(&FileRef { pkg: 0, entry: i }))
            .filter_map(|&i| match fs.object(FileRef { pkg: 0, entry: i }) {
                Some(Object::Elf(elf)) if elf.kind != ElfKind::Relocatable && !elf.is_static() => Some((i, elf)),
                _ => None,
            })
            .collect();
        let pkg = fs.package(FileRef { pkg: 0, entry: 0 });
        let needed: HashSet<&str> =
            unreached.iter().flat_map(|(_, elf)| elf.needed.iter().map(String::as_str)).collect();
        let is_top = |(i, elf): &(usize, &ElfInfo)| {
            let name = file_name(&pkg.entries[*i].path);
            !needed.contains(name) && elf.soname.as_deref().is_none_or(|s| !needed.contains(s))
        };
        let (tops, rest): (Vec<_>, Vec<_>) = unreached.iter().partition(|x| is_top(x));
        for (entry, _) in tops.into_iter().chain(rest) {
            let root = FileRef { pkg: 0, entry };
            if reached.contains(&root) {
                continue;
            }
            let closure = loader.load(root, true);
            reached.extend(closure.mapped.iter().map(|m| m.file));
            closures.push(closure);
        }
        Loads { closures }
    }

    /// Closures in which the file is mapped, with its index there.
    pub fn occurrences(&self, file: FileRef) -> impl Iterator<Item = (&Closure, usize)> {
        self.closures.iter().filter_map(move |c| c.mapped.iter().position(|m| m.file == file).map(|i| (c, i)))
    }

    /// Whether some root of the runtime (not a lone judgement) maps the file.
    pub fn reached_by_root(&self, file: FileRef) -> bool {
        self.closures.iter().any(|c| !c.lone && c.mapped.iter().any(|m| m.file == file))
    }
}

struct Loader<'a> {
    fs: &'a Fs<'a>,
    target: &'a Target,
    /// What the runtime process has loaded before the package's code (libpython, Node's C++
    /// runtime), which satisfies a need before any search.
    preloaded: Vec<String>,
    working_directory: &'static str,
}

impl<'a> Loader<'a> {
    fn new(fs: &'a Fs<'a>, target: &'a Target) -> Loader<'a> {
        let t = table();
        let preloaded = match (target.family(), target.python_version()) {
            (Some(Family::Python), Some((major, minor))) => {
                t.python.preloaded.iter().map(|n| n.replace("{X.Y}", &format!("{major}.{minor}"))).collect()
            }
            (Some(Family::Nodejs), _) => t.node.preloaded.clone(),
            _ => Vec::new(),
        };
        Loader { fs, target, preloaded, working_directory: &t.lambda.working_directory }
    }

    /// Maps `root` and its dependencies breadth-first. An executable starts a process of its own;
    /// anything else is opened inside the runtime's process, with what it has loaded.
    fn load(&self, root: FileRef, lone: bool) -> Closure {
        let root_path = self.fs.runtime_path(root);
        let mut mapped = vec![Mapped { file: root, path: root_path.clone(), loader: None, names: Vec::new() }];
        if let Some(elf) = self.elf(root) {
            mapped[0].names.extend(elf.soname.clone());
        }
        let in_process = !self.elf(root).is_some_and(ElfInfo::is_executable);
        // Runtime libraries loaded so far, by name.
        let mut runtime_loaded: HashMap<String, Found> = HashMap::new();
        // The dynamic loader is mapped in every process before anything else.
        let loader_name = &self.target.cpu().loader;
        if let Some(found) = self.runtime_library(loader_name, true) {
            runtime_loaded.insert(loader_name.clone(), found);
        }
        if in_process {
            for name in &self.preloaded {
                if let Some(found) = self.runtime_library(name, true) {
                    runtime_loaded.insert(name.clone(), found);
                }
            }
        }
        let mut needs = Vec::new();
        let mut next = 0;
        while next < mapped.len() {
            let by = next;
            next += 1;
            let Some(elf) = self.elf(mapped[by].file) else { continue };
            if elf.is_musl() {
                continue; // a musl object is judged by what it is, not by what it needs
            }
            for name in &elf.needed {
                let mut searched = false;
                let found = if let Some(i) = mapped.iter().position(|m| m.names.iter().any(|n| n == name)) {
                    Found::Mapped(i)
                } else if let Some(found) = runtime_loaded.get(name) {
                    found.clone()
                } else {
                    searched = true;
                    match self.search(name, by, &mapped) {
                        Searched::File(file, path) => {
                            // The same file under another name is the same object.
                            if let Some(i) = mapped.iter().position(|m| m.file == file) {
                                mapped[i].names.push(name.clone());
                                Found::Mapped(i)
                            } else {
                                let mut names = vec![name.clone()];
                                names.extend(self.elf(file).and_then(|e| e.soname.clone()));
                                mapped.push(Mapped { file, path, loader: Some(by), names });
                                Found::Mapped(mapped.len() - 1)
                            }
                        }
                        Searched::Other(found) => {
                            if matches!(found, Found::Runtime { .. }) {
                                runtime_loaded.insert(name.clone(), found.clone());
                            }
                            found
                        }
                    }
                };
                needs.push(Need { by, name: name.clone(), found, searched });
            }
        }
        Closure { root, lone, mapped, needs }
    }

    fn elf(&self, f: FileRef) -> Option<&'a ElfInfo> {
        match self.fs.object(f) {
            Some(Object::Elf(elf)) => Some(elf),
            _ => None,
        }
    }

    /// Where the loader finds `name` for `mapped[by]`.
    fn search(&self, name: &str, by: usize, mapped: &[Mapped]) -> Searched {
        let mut skipped = Vec::new();
        if name.contains('/') {
            // A name with a slash is a path: dynamic string tokens expand as in search paths.
            let path = self.expand(&[name.to_string()], &mapped[by].path).pop().unwrap_or_default();
            return match self.candidate(&path, &mut skipped) {
                Some(file) => Searched::File(file, path),
                None => match self.runtime_at(parent(&path), file_name(&path)) {
                    Some(found) => Searched::Other(found),
                    None => Searched::Other(self.missing(file_name(name), skipped)),
                },
            };
        }
        for dir in self.search_dirs(by, mapped) {
            let path = format!("{}/{name}", dir.trim_end_matches('/'));
            if let Some(file) = self.candidate(&path, &mut skipped) {
                return Searched::File(file, path);
            }
            if let Some(found) = self.runtime_at(&dir, name) {
                return Searched::Other(found);
            }
        }
        Searched::Other(self.missing(name, skipped))
    }

    /// The directories searched for a need of `mapped[by]`, in glibc's order.
    fn search_dirs(&self, by: usize, mapped: &[Mapped]) -> Vec<String> {
        let t = table();
        let mut dirs = Vec::new();
        let needing = self.elf(mapped[by].file);
        let runpath = needing.map(|e| e.runpath.as_slice()).unwrap_or_default();
        if runpath.is_empty() {
            let mut at = Some(by);
            while let Some(i) = at {
                if let Some(elf) = self.elf(mapped[i].file)
                    && elf.runpath.is_empty()
                {
                    dirs.extend(self.expand(&elf.rpath, &mapped[i].path));
                }
                at = mapped[i].loader;
            }
        }
        dirs.extend(t.lambda.ld_library_path.iter().cloned());
        dirs.extend(self.expand(runpath, &mapped[by].path));
        dirs.extend(t.lambda.system_dirs.iter().cloned());
        dirs
    }

    /// The directories of DT_RPATH / DT_RUNPATH entries of the object at `object_path`.
    fn expand(&self, entries: &[String], object_path: &str) -> Vec<String> {
        let origin = parent(object_path);
        let cpu = self.target.cpu();
        entries
            .iter()
            .flat_map(|e| e.split(':'))
            .map(|dir| {
                let dir = dir
                    .replace("${ORIGIN}", origin)
                    .replace("$ORIGIN", origin)
                    .replace("${LIB}", &cpu.lib)
                    .replace("$LIB", &cpu.lib)
                    .replace("${PLATFORM}", &cpu.platform)
                    .replace("$PLATFORM", &cpu.platform);
                self.absolute(&dir)
            })
            .collect()
    }

    /// An absolute, normalized path; relative ones are relative to the working directory.
    fn absolute(&self, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else if path.is_empty() {
            self.working_directory.to_string()
        } else {
            format!("{}/{path}", self.working_directory)
        };
        format!("/{}", normalize(&joined).unwrap_or_default())
    }

    /// A file of the package or a layer at `path` that the loader would map: ELF of the right
    /// class and CPU. Others are recorded as skipped.
    fn candidate(&self, path: &str, skipped: &mut Vec<Skipped>) -> Option<FileRef> {
        let file = self.fs.lookup(path)?;
        let why = match self.fs.object(file) {
            Some(Object::Elf(elf)) if elf.runs_on(self.target.arch) => return Some(file),
            Some(Object::Elf(elf)) => format!("ELF {}-bit {}", elf.bits, elf.machine_name()),
            Some(other) => other.describe(),
            None => "not an ELF file".to_string(),
        };
        skipped.push(Skipped { file, why });
        None
    }

    /// A runtime library the loader finds as `name` in `dir`.
    fn runtime_at(&self, dir: &str, name: &str) -> Option<Found> {
        let set = self.target.library_in(dir, name, Delivery::Zip)?;
        Some(Found::Runtime { set, preloaded: false })
    }

    /// A preloaded library, found where `LD_LIBRARY_PATH` leads first.
    fn runtime_library(&self, name: &str, preloaded: bool) -> Option<Found> {
        table().lambda.ld_library_path.iter().find_map(|dir| {
            let set = self.target.library_in(dir, name, Delivery::Zip)?;
            Some(Found::Runtime { set, preloaded })
        })
    }

    fn missing(&self, name: &str, skipped: Vec<Skipped>) -> Found {
        let container = self.target.library_sets().find(|s| s.delivery == Delivery::Container && s.holds(name));
        Found::Missing { container, skipped }
    }
}

enum Searched {
    File(FileRef, String),
    Other(Found),
}
