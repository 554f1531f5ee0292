//! Other multi-platform bundles: binaries for other platforms that the runtime never loads.
//!
//! .NET `runtimes/<rid>/native/` (the host picks the RID of the machine), selenium's per-OS
//! `selenium-manager`, natives inside jars (extracted by the library for the platform it runs
//! on), setuptools' / distlib's Windows launchers, and trees split by platform directories
//! (`build/<os>/<cpu>/...` as zeromq ships, `bin/<os>-<cpu>/...`), loaded from the directory of
//! the platform the code runs on. A binary for another platform in such a
//! layout is harmless when the variant for the target exists; when none does, the package is
//! broken.

use std::collections::{BTreeMap, HashSet};

use super::node::{NpmPlatform, platform_of_name};
use super::{Placement, Placements};
use crate::binary::Object;
use crate::package::Package;
use crate::paths::{file_name, parent};
use crate::target::Target;

pub fn place(pkg: &Package, target: &Target, placements: &mut Placements) {
    let works = |o: &Object| matches!(o, Object::Elf(e) if e.runs_on(target.arch) && !e.is_musl());
    let rid = format!("linux-{}", target.arch.node_name());

    // `runtimes/` directories that hold the target's RID.
    let mut with_target: HashSet<&str> = HashSet::new();
    for e in &pkg.entries {
        if let Some((group, variant)) = dotnet_rid(&e.path)
            && variant == rid
        {
            with_target.insert(group);
        }
    }
    // Jars that carry a native library the target can load (indexed once, not per binary).
    let jars_with_native: HashSet<&str> =
        pkg.objects().filter(|(_, o)| works(o)).filter_map(|(e, _)| e.path.archive().filter(|a| is_jar(a))).collect();

    for (e, object) in pkg.objects() {
        if works(object) {
            continue;
        }
        let path = &e.path;
        let placement = if let Some(why) = windows_launcher(path) {
            Some(Placement::NeverLoaded { why })
        } else if let Some((group, variant)) = dotnet_rid(path) {
            let selected = format!("{group}/{rid}");
            Some(if variant == rid {
                continue; // the target's own directory: judged as loaded
            } else if with_target.contains(group) {
                Placement::UnusedVariant { layout: ".NET runtimes", selected }
            } else {
                Placement::MissingVariant { layout: ".NET runtimes", needed: selected, group: group.to_string() }
            })
        } else if let Some(jar) = path.archive().filter(|a| is_jar(a)) {
            Some(if jars_with_native.contains(jar) {
                Placement::UnusedVariant { layout: "jar natives", selected: format!("the Linux native in `{jar}`") }
            } else {
                Placement::NeverLoaded { why: format!("extracted by `{jar}` only on the platform it is for") }
            })
        } else {
            selenium_manager(pkg, path, works)
        };
        if let Some(p) = placement {
            placements.place(path, p);
        }
    }
    place_platform_dirs(pkg, target, placements, works);
}

/// A directory of the path that names a platform: `linux-x64`, or `linux` followed by `x64`.
/// Returns the directory above it (the group), the platform directory itself, and the platform.
fn platform_dir(path: &str) -> Option<(String, String, NpmPlatform)> {
    let parts: Vec<&str> = path.split('/').collect();
    let dirs = parts.len().saturating_sub(1);
    for k in 0..dirs {
        // Layouts with rules of their own.
        if k > 0 && ["prebuilds", "runtimes"].contains(&parts[k - 1]) {
            continue;
        }
        let one = platform_of_name(parts[k]).filter(|(_, family)| family.is_empty());
        let (platform, end) = match one {
            Some((p, _)) => (p, k + 1),
            None if k + 1 < dirs => {
                match platform_of_name(&format!("{}-{}", parts[k], parts[k + 1])).filter(|(_, f)| f.is_empty()) {
                    Some((p, _)) => (p, k + 2),
                    None => continue,
                }
            }
            None => continue,
        };
        return Some((parts[..k].join("/"), parts[..end].join("/"), platform));
    }
    None
}

/// Trees split by platform directories: the files for other platforms are variants, used when
/// the target's directory has a build that loads. Inside the target's directory, files of one
/// name in sibling directories (zeromq's `node/<abi>/addon.node`) are alternatives the package
/// tries: those that cannot load on the target are unused when another one can.
fn place_platform_dirs(pkg: &Package, target: &Target, placements: &mut Placements, works: impl Fn(&Object) -> bool) {
    type Variant<'a> = (NpmPlatform, Vec<(&'a str, bool)>);
    let mut groups: BTreeMap<String, BTreeMap<String, Variant>> = BTreeMap::new();
    for (e, object) in pkg.objects() {
        let Some((group, dir, platform)) = platform_dir(&e.path) else { continue };
        let slot = groups.entry(group).or_default().entry(dir).or_insert_with(|| (platform, Vec::new()));
        slot.1.push((&e.path, works(object)));
    }
    const LAYOUT: &str = "per-platform directories";
    for (group, variants) in groups {
        let platforms: HashSet<(&str, &str)> =
            variants.values().map(|(p, _)| (p.os.as_str(), p.cpu.as_str())).collect();
        if platforms.len() < 2 {
            continue;
        }
        let chosen = variants
            .iter()
            .find(|(_, (p, files))| p.is_target(target) && files.iter().any(|(_, ok)| *ok))
            .map(|(dir, _)| dir);
        let selected = chosen.map(|dir| format!("{dir}/"));
        for (dir, (platform, files)) in &variants {
            if platform.is_target(target) {
                if chosen == Some(dir) {
                    place_alternatives(files, placements);
                }
                continue;
            }
            let placement = Placement::variant(LAYOUT, selected.as_deref(), &group, || {
                format!("a build for linux-{} with glibc under `{group}/`", target.arch.node_name())
            });
            for (path, _) in files {
                placements.place(path, placement.clone());
            }
        }
    }
}

/// Files of one name in the target's platform directory: when one loads, the others that cannot
/// (musl, another CPU) are never the one the package ends up with.
fn place_alternatives(files: &[(&str, bool)], placements: &mut Placements) {
    let mut by_name: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for &(path, ok) in files {
        by_name.entry(file_name(path)).or_default().push((path, ok));
    }
    for same in by_name.values() {
        let Some((selected, _)) = same.iter().find(|(_, ok)| *ok) else { continue };
        for (path, _) in same.iter().filter(|(_, ok)| !ok) {
            let placement = Placement::UnusedVariant { layout: "alternative builds", selected: selected.to_string() };
            placements.place(path, placement);
        }
    }
}

fn is_jar(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".jar")
}

/// `(group, rid)` for `.../runtimes/<rid>/native/...`, when `<rid>` names an OS.
fn dotnet_rid(path: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(pos) = path[from..].find("runtimes/") {
        let start = from + pos;
        from = start + "runtimes/".len();
        if start > 0 && path.as_bytes()[start - 1] != b'/' {
            continue;
        }
        let rest = &path[from..];
        let Some((rid, _)) = rest.split_once('/') else { continue };
        let os = rid.split('-').next().unwrap_or("");
        if ["linux", "linux-musl", "osx", "win", "freebsd", "android", "unix"].contains(&os) {
            return Some((&path[..start + "runtimes".len()], rid));
        }
    }
    None
}

/// Files that Linux never loads whatever the platform: Windows launchers of Python packaging.
fn windows_launcher(path: &str) -> Option<String> {
    let name = file_name(path);
    let dir = parent(path);
    let launcher =
        (name.starts_with("cli") || name.starts_with("gui")) && name.ends_with(".exe") && dir.ends_with("setuptools");
    let distlib = dir.ends_with("distlib") && name.ends_with(".exe");
    (launcher || distlib).then(|| "a Windows launcher, used only when installing scripts on Windows".to_string())
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
        .map(|(e, _)| e.path.to_string());
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
    fn dotnet_rids() {
        assert_eq!(dotnet_rid("runtimes/win-x64/native/e_sqlite3.dll"), Some(("runtimes", "win-x64")));
        assert_eq!(dotnet_rid("app/runtimes/linux-x64/native/libe_sqlite3.so"), Some(("app/runtimes", "linux-x64")));
        assert_eq!(dotnet_rid("myruntimes/linux-x64/native/a.so"), None);
    }
}
