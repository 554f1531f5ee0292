//! Multi-platform bundles: binaries for other platforms that the runtime never loads.
//!
//! Many healthy packages carry a binary per platform and pick one at run time: node-gyp-build
//! `prebuilds/<os>-<cpu>/`, npm optional platform packages (`@esbuild/linux-x64`,
//! `@img/sharp-darwin-arm64`, selected through their `os` / `cpu` / `libc` fields), .NET
//! `runtimes/<rid>/native/`, selenium's per-OS `selenium-manager`, natives inside jars, and
//! setuptools' Windows launchers. A binary for another platform in such a layout is harmless when
//! the variant for the target exists; when none does, the package is broken.

use std::collections::{HashMap, HashSet};

use crate::binary::Object;
use crate::package::{Ecosystem, Package, file_name, parent};
use crate::target::{Arch, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A variant for another platform; the runtime selects `selected` instead.
    UnusedVariant { layout: &'static str, selected: String },
    /// A variant for another platform, and the layout has none for the target.
    MissingVariant { layout: &'static str, needed: String, group: String },
    /// Never loaded on Linux at all (Windows launchers).
    NeverLoaded { why: String },
}

/// Placement of every object file that sits in a known multi-platform layout, by path.
#[derive(Debug, Default)]
pub struct Placements(HashMap<String, Placement>);

impl Placements {
    pub fn get(&self, path: &str) -> Option<&Placement> {
        self.0.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Placement)> {
        self.0.iter()
    }
}

/// The platform a layout directory names, as (os, cpu, musl).
struct Platform<'a> {
    os: &'a str,
    cpu: &'a str,
    musl: bool,
}

impl Platform<'_> {
    fn matches(&self, arch: Arch) -> bool {
        self.os == "linux" && self.cpu == arch.node_name() && !self.musl
    }
}

/// `linux-x64`, `darwin-arm64`, `linuxmusl-x64`, `linux-musl-x64`, `osx-arm64`, `win-x64`.
fn parse_platform(name: &str) -> Option<Platform<'_>> {
    let (os, rest) = name.split_once('-')?;
    let (musl_prefix, cpu) = match rest.split_once('-') {
        Some(("musl", cpu)) => (true, cpu),
        Some((cpu, "musl")) => (true, cpu),
        Some((cpu, _)) => (false, cpu),
        None => (false, rest),
    };
    let (os, musl) = match os {
        "linuxmusl" => ("linux", true),
        "osx" | "macos" => ("darwin", musl_prefix),
        "win" | "windows" => ("win32", musl_prefix),
        other => (other, musl_prefix),
    };
    let cpu = match cpu {
        "amd64" | "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    };
    const OSES: [&str; 6] = ["linux", "darwin", "win32", "freebsd", "android", "openbsd"];
    OSES.contains(&os).then_some(Platform { os, cpu, musl })
}

pub fn place(pkg: &Package, target: &Target) -> Placements {
    let mut out = HashMap::new();
    let objects: Vec<(&str, &Object)> = pkg.objects().map(|(e, o)| (e.path.as_str(), o)).collect();
    let works = |o: &Object| matches!(o, Object::Elf(e) if e.runs_on(target.arch) && !e.is_musl());

    // Directories holding one subdirectory per platform: `prebuilds/`, `runtimes/`.
    let mut dirs_with_target: HashSet<String> = HashSet::new();
    for e in &pkg.entries {
        for (group, variant, _) in platform_dir(&e.path) {
            if parse_platform(variant).is_some_and(|p| p.matches(target.arch)) {
                dirs_with_target.insert(group.to_string());
            }
        }
    }
    // Jars that carry a native library the target can load (indexed once, not per binary).
    let jars_with_native: HashSet<&str> = pkg
        .objects()
        .filter(|(_, o)| works(o))
        .filter_map(|(e, _)| e.path.split_once(".jar!/").map(|(jar, _)| &e.path[..jar.len() + 4]))
        .collect();
    // npm packages by name, to find a platform package's sibling for the target.
    let npm_names: HashSet<&str> =
        pkg.distributions.iter().filter(|d| d.ecosystem == Ecosystem::Node).map(|d| d.name.as_str()).collect();

    for (path, object) in objects {
        if works(object) {
            continue;
        }
        let placement = if let Some(why) = never_loaded(path) {
            Some(Placement::NeverLoaded { why })
        } else if let Some((group, variant, layout)) = platform_dir(path).into_iter().next() {
            let selected = format!("{group}/linux-{}", target.arch.node_name());
            if parse_platform(variant).is_some_and(|p| p.matches(target.arch)) {
                // The target's own directory: node-gyp-build picks by libc tag inside it.
                glibc_sibling(pkg, path).map(|sibling| Placement::UnusedVariant { layout, selected: sibling })
            } else if dirs_with_target.contains(group) {
                Some(Placement::UnusedVariant { layout, selected })
            } else {
                Some(Placement::MissingVariant { layout, needed: selected, group: group.to_string() })
            }
        } else if let Some(dist) = pkg.owner_of(path).filter(|d| d.ecosystem == Ecosystem::Node) {
            npm_platform_package(dist, target).map(|needed| {
                if npm_names.contains(needed.as_str()) {
                    Placement::UnusedVariant { layout: "npm platform package", selected: needed }
                } else {
                    Placement::MissingVariant { layout: "npm platform package", needed, group: dist.root.clone() }
                }
            })
        } else if let Some((jar, _)) = path.split_once(".jar!/") {
            let jar = format!("{jar}.jar");
            Some(if jars_with_native.contains(jar.as_str()) {
                Placement::UnusedVariant { layout: "jar natives", selected: format!("the Linux native in `{jar}`") }
            } else {
                Placement::NeverLoaded { why: format!("extracted by `{jar}` only on the platform it is for") }
            })
        } else {
            selenium_manager(pkg, path, works)
        };
        if let Some(p) = placement {
            out.insert(path.to_string(), p);
        }
    }
    Placements(out)
}

/// `(group, variant, layout)` for `.../prebuilds/<platform>/...` and `.../runtimes/<rid>/native/...`.
fn platform_dir(path: &str) -> Vec<(&str, &str, &'static str)> {
    let mut out = Vec::new();
    for (marker, layout) in [("prebuilds/", "node-gyp-build prebuilds"), ("runtimes/", ".NET runtimes")] {
        let mut search = 0;
        while let Some(pos) = path[search..].find(marker) {
            let start = search + pos;
            let at_boundary = start == 0 || path.as_bytes()[start - 1] == b'/';
            let rest = &path[start + marker.len()..];
            if let (true, Some((variant, _))) = (at_boundary, rest.split_once('/')) {
                let group = &path[..start + marker.len() - 1];
                if parse_platform(variant).is_some() {
                    out.push((group, variant, layout));
                }
            }
            search = start + marker.len();
        }
    }
    out
}

/// For `prebuilds/linux-x64/x.musl.node`, a sibling that node-gyp-build picks on glibc:
/// `x.glibc.node`, or the same name without a libc tag.
fn glibc_sibling(pkg: &Package, path: &str) -> Option<String> {
    let name = file_name(path);
    if !name.contains(".musl.") {
        return None;
    }
    let dir = parent(path);
    [name.replace(".musl.", ".glibc."), name.replace(".musl.", ".")]
        .into_iter()
        .map(|n| format!("{dir}/{n}"))
        .find(|candidate| pkg.contains(candidate))
}

/// Files that Linux never loads whatever the platform: Windows launchers of Python packaging.
fn never_loaded(path: &str) -> Option<String> {
    let name = file_name(path);
    let dir = parent(path);
    let launcher =
        (name.starts_with("cli") || name.starts_with("gui")) && name.ends_with(".exe") && dir.ends_with("setuptools");
    let distlib = dir.ends_with("distlib") && name.ends_with(".exe");
    (launcher || distlib).then(|| "a Windows launcher, used only when installing scripts on Windows".to_string())
}

/// For a package whose `os` / `cpu` / `libc` exclude the target, the name of its target sibling.
fn npm_platform_package(dist: &crate::package::Distribution, target: &Target) -> Option<String> {
    let os_ok = dist.npm_os.is_empty() || dist.npm_os.iter().any(|o| o == "linux");
    let cpu_ok = dist.npm_cpu.is_empty() || dist.npm_cpu.iter().any(|c| c == target.arch.node_name());
    let libc_ok = dist.npm_libc.is_empty() || dist.npm_libc.iter().any(|l| l == "glibc");
    let is_platform_package = !dist.npm_os.is_empty() || !dist.npm_cpu.is_empty();
    if !is_platform_package || (os_ok && cpu_ok && libc_ok) {
        return None;
    }
    let sibling = crate::hint::npm_target_variant(&dist.name, target.arch)?;
    Some(if libc_ok { sibling } else { sibling.replace("linuxmusl-", "linux-") })
}

/// selenium ships `selenium/webdriver/common/<os>[-<cpu>]/selenium-manager` for each OS (`linux`,
/// `linux-x86_64`, `linux-arm64`, `macos`, `windows`) and runs the one for the host.
fn selenium_manager(pkg: &Package, path: &str, works: impl Fn(&Object) -> bool) -> Option<Placement> {
    if !file_name(path).starts_with("selenium-manager") {
        return None;
    }
    let common = parent(parent(path));
    let prefix = format!("{common}/");
    let selected = pkg
        .objects()
        .find(|(e, o)| e.path.starts_with(&prefix) && file_name(&e.path) == "selenium-manager" && works(o))
        .map(|(e, _)| e.path.clone());
    let layout = "selenium-manager per OS";
    Some(match selected {
        Some(selected) => Placement::UnusedVariant { layout, selected },
        None => Placement::MissingVariant {
            layout,
            needed: format!("{common}/linux/selenium-manager"),
            group: common.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        assert!(parse_platform("linux-x64").unwrap().matches(Arch::X86_64));
        assert!(!parse_platform("linuxmusl-x64").unwrap().matches(Arch::X86_64));
        assert!(!parse_platform("linux-musl-x64").unwrap().matches(Arch::X86_64));
        assert!(parse_platform("linux-arm64").unwrap().matches(Arch::Arm64));
        assert!(!parse_platform("osx-arm64").unwrap().matches(Arch::Arm64));
        assert!(parse_platform("native").is_none());
    }

    #[test]
    fn platform_dirs() {
        let found = platform_dir("node_modules/x/prebuilds/darwin-arm64/x.node");
        assert_eq!(found, vec![("node_modules/x/prebuilds", "darwin-arm64", "node-gyp-build prebuilds")]);
        let found = platform_dir("runtimes/win-x64/native/e_sqlite3.dll");
        assert_eq!(found, vec![("runtimes", "win-x64", ".NET runtimes")]);
        assert!(platform_dir("myprebuilds/linux-x64/a.node").is_empty());
    }
}
