//! Other multi-platform bundles: binaries for other platforms that the runtime never loads.
//!
//! .NET `runtimes/<rid>/native/` (the host picks the RID of the machine), selenium's per-OS
//! `selenium-manager`, natives inside jars (extracted by the library for the platform it runs
//! on), and setuptools' / distlib's Windows launchers. A binary for another platform in such a
//! layout is harmless when the variant for the target exists; when none does, the package is
//! broken.

use std::collections::HashSet;

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
