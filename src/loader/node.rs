//! How Node.js picks native code: npm platform packages and node-gyp-build prebuilds.
//!
//! A package with a build per platform lists them in `optionalDependencies`
//! (`@swc/core-linux-x64-gnu`, `@img/sharp-darwin-arm64`, `lightningcss-linux-x64-musl`); npm
//! installs the ones whose `os` / `cpu` / `libc` match the machine it runs on, and the parent
//! `require`s the one for the platform it runs on. The names are data, read from the parent's
//! manifest: each candidate's platform comes from its own `os` / `cpu` / `libc` when it is
//! installed, else from the tokens of its name (`linux`, `x64`, `gnu`, `musl`, `linuxmusl`, ...).
//! Lambda is Linux with glibc.
//!
//! node-gyp-build loads `build/Release/*.node` when there is one, else the best match in
//! `prebuilds/<platform>-<arch>/` by its file-name tags (`node.napi.glibc.node`, `abi115`,
//! `musl`): a tag that does not match the runtime rules a file out.
//!
//! Some packages ship one file per platform side by side (`prebuilds/linux-x64.node`,
//! `prebuilds/linuxmusl-x64.node`, `prebuilds/darwin-arm64.node`) and `require` the one named
//! for the platform they run on: the file names carry the same tokens as platform packages.

use std::collections::{BTreeMap, HashMap};

use super::{Placement, Placements};
use crate::attribution::{Distribution, Ecosystem};
use crate::package::Package;
use crate::paths::{file_name, parent};
use crate::target::Target;

/// The platform an npm package is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmPlatform {
    pub os: String,
    pub cpu: String,
    /// `glibc` or `musl` when the package says; `msvc` and the like for other OSes.
    pub libc: Option<String>,
}

impl NpmPlatform {
    /// Lambda's platform: Linux, the target's CPU, glibc (or no libc named).
    pub fn is_target(&self, target: &Target) -> bool {
        self.os == "linux" && self.cpu == target.arch.node_name() && self.libc.as_deref().is_none_or(|l| l == "glibc")
    }
}

const OS_TOKENS: [(&str, &str, Option<&str>); 12] = [
    ("linux", "linux", None),
    ("linuxmusl", "linux", Some("musl")),
    ("darwin", "darwin", None),
    ("macos", "darwin", None),
    ("osx", "darwin", None),
    ("win32", "win32", None),
    ("windows", "win32", None),
    ("freebsd", "freebsd", None),
    ("android", "android", None),
    ("sunos", "sunos", None),
    ("openbsd", "openbsd", None),
    ("netbsd", "netbsd", None),
];
const CPU_TOKENS: [(&str, &str); 15] = [
    ("x64", "x64"),
    ("x86_64", "x64"),
    ("amd64", "x64"),
    ("arm64", "arm64"),
    ("aarch64", "arm64"),
    ("ia32", "ia32"),
    ("x86", "ia32"),
    ("arm", "arm"),
    ("armv7", "arm"),
    ("s390x", "s390x"),
    ("ppc64", "ppc64"),
    ("ppc64le", "ppc64"),
    ("riscv64", "riscv64"),
    ("loong64", "loong64"),
    ("universal", "universal"),
];
const LIBC_TOKENS: [(&str, &str); 9] = [
    ("gnu", "glibc"),
    ("glibc", "glibc"),
    ("musl", "musl"),
    ("msvc", "msvc"),
    ("gnueabihf", "glibc-eabihf"),
    ("musleabihf", "musl-eabihf"),
    ("gnueabi", "glibc-eabi"),
    ("androideabi", "android"),
    ("eabi", "eabi"),
];

/// The platform tokens of a package name (`@swc/core-linux-x64-gnu` -> linux, x64, glibc), and
/// the name with them removed (`@swc/core`), which groups a family of platform packages.
pub fn platform_of_name(name: &str) -> Option<(NpmPlatform, String)> {
    let (scope, base) = match name.rsplit_once('/') {
        Some((scope, base)) => (Some(scope), base),
        None => (None, name),
    };
    let mut os = None;
    let mut cpu = None;
    let mut libc = None;
    let mut rest = Vec::new();
    for token in base.split('-') {
        if os.is_none()
            && let Some((_, o, l)) = OS_TOKENS.iter().find(|(t, _, _)| *t == token)
        {
            os = Some(o.to_string());
            libc = l.map(str::to_string);
        } else if os.is_some()
            && cpu.is_none()
            && let Some((_, c)) = CPU_TOKENS.iter().find(|(t, _)| *t == token)
        {
            cpu = Some(c.to_string());
        } else if cpu.is_some()
            && let Some((_, l)) = LIBC_TOKENS.iter().find(|(t, _)| *t == token)
        {
            libc = Some(l.to_string());
        } else {
            rest.push(token);
        }
    }
    let platform = NpmPlatform { os: os?, cpu: cpu?, libc };
    let family = rest.join("-");
    Some((
        platform,
        match scope {
            Some(scope) => format!("{scope}/{family}"),
            None => family,
        },
    ))
}

/// The platform of an installed package: its manifest's `os` / `cpu` / `libc` when it names a
/// single one, else its name's tokens.
fn platform_of(dist: &Distribution) -> Option<NpmPlatform> {
    let by_name = platform_of_name(&dist.name).map(|(p, _)| p);
    let single = |v: &[String]| (v.len() == 1).then(|| v[0].clone());
    match (single(&dist.npm_os), single(&dist.npm_cpu)) {
        (Some(os), Some(cpu)) => {
            Some(NpmPlatform { os, cpu, libc: single(&dist.npm_libc).or_else(|| by_name.and_then(|p| p.libc)) })
        }
        _ => by_name,
    }
}

/// Places the binaries of npm platform packages and of node-gyp-build prebuilds.
pub fn place(pkg: &Package, target: &Target, placements: &mut Placements) {
    place_platform_packages(pkg, target, placements);
    place_prebuilds(pkg, target, placements);
    place_tagged_prebuilds(pkg, target, placements);
    place_platform_named_files(pkg, target, placements);
    place_packages_for_other_systems(pkg, placements);
}

/// An optional dependency whose manifest limits it to other operating systems (`"os":
/// ["darwin"]`, as fsevents declares): npm never installs it on Linux, so the package that lists
/// it works without it there and Node.js on Linux never loads its binaries. Platform packages a
/// parent selects by platform are placed before this, as variants; a package nothing lists as
/// optional is judged by what it is.
fn place_packages_for_other_systems(pkg: &Package, placements: &mut Placements) {
    let node = || pkg.distributions.iter().filter(|d| d.ecosystem == Ecosystem::Node);
    let optional: std::collections::HashSet<&str> =
        node().flat_map(|d| d.npm_optional.iter().map(|(name, _)| name.as_str())).collect();
    for dist in node().filter(|d| optional.contains(d.name.as_str())) {
        let os = &dist.npm_os;
        let denied = os.iter().any(|o| o == "!linux");
        let allowed = os.iter().any(|o| o == "linux") || os.iter().all(|o| o.starts_with('!'));
        if os.is_empty() || (allowed && !denied) {
            continue;
        }
        let why = format!(
            "`{}` is an optional dependency for `\"os\": [{}]` only: npm never installs it on Linux, where the packages that list it do without it",
            dist.name,
            os.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", ")
        );
        for &i in &dist.files {
            let entry = &pkg.entries[i];
            if matches!(entry.content, crate::source::Content::Object(_)) {
                placements.place(&entry.path, Placement::NeverLoaded { why: why.clone() });
            }
        }
    }
}

/// node-gyp-build's tagged file names (`node.napi.glibc.node`, `node.abi115.musl.node`) outside
/// a `prebuilds/<platform>/` directory: a platform package holding one file per Node.js ABI and
/// libc (`@lmdb/lmdb-linux-x64`, `@msgpackr-extract/msgpackr-extract-linux-x64`), from which the
/// parent loads the best match by the same rules.
fn place_tagged_prebuilds(pkg: &Package, target: &Target, placements: &mut Placements) {
    let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (e, _) in pkg.objects() {
        let tagged = prebuild_tags(file_name(&e.path)).is_some_and(|t| t.runtime.is_some());
        if tagged && file_name(parent(parent(&e.path))) != "prebuilds" {
            dirs.entry(parent(&e.path)).or_default().push(&e.path);
        }
    }
    const LAYOUT: &str = "node-gyp-build tagged builds";
    for (dir, files) in dirs {
        let chosen = best_prebuild(&files, target);
        for path in files.iter().filter(|p| Some(**p) != chosen) {
            let placement = Placement::variant(LAYOUT, chosen, dir, || format!("{dir}/ with {}", abi_build(target)));
            placements.place(path, placement);
        }
    }
}

/// Files of one directory named for platforms (`linux-x64.node`, `darwin-arm64.node`): two or
/// more of one family form a set of variants, of which the package loads the target's.
fn place_platform_named_files(pkg: &Package, target: &Target, placements: &mut Placements) {
    let mut groups: BTreeMap<(&str, String), Vec<(&str, NpmPlatform)>> = BTreeMap::new();
    for (e, _) in pkg.objects() {
        let Some(stem) = file_name(&e.path).strip_suffix(".node") else { continue };
        let Some((platform, family)) = platform_of_name(stem) else { continue };
        groups.entry((parent(&e.path), family)).or_default().push((&e.path, platform));
    }
    const LAYOUT: &str = "per-platform files";
    for ((dir, family), files) in groups {
        if files.len() < 2 {
            continue;
        }
        let chosen = files.iter().find(|(_, p)| p.is_target(target)).map(|(path, _)| path.to_string());
        for (path, _) in &files {
            if Some(*path) == chosen.as_deref() {
                continue;
            }
            let placement = Placement::variant(LAYOUT, chosen.as_deref(), dir, || {
                let name = if family.is_empty() { String::new() } else { format!("{family}-") };
                format!("{dir}/{name}linux-{}.node", target.arch.node_name())
            });
            placements.place(path, placement);
        }
    }
}

/// A candidate platform package of a parent: its name, platform and installed copy.
struct Candidate<'a> {
    name: &'a str,
    platform: NpmPlatform,
    family: String,
    installed: Option<&'a Distribution>,
}

fn place_platform_packages(pkg: &Package, target: &Target, placements: &mut Placements) {
    let node: Vec<&Distribution> = pkg.distributions.iter().filter(|d| d.ecosystem == Ecosystem::Node).collect();
    let by_root: HashMap<&str, &Distribution> = node.iter().map(|d| (d.root.as_str(), *d)).collect();
    for parent_dist in node.iter().filter(|d| !d.npm_optional.is_empty()) {
        // A platform package for another platform is never loaded: its own choices do not count.
        if platform_of(parent_dist).is_some_and(|p| !p.is_target(target)) {
            continue;
        }
        let candidates: Vec<Candidate> = parent_dist
            .npm_optional
            .iter()
            .filter_map(|(name, _)| {
                let installed = resolve_package(&by_root, &parent_dist.root, name);
                let (by_name, family) = platform_of_name(name).unzip();
                let platform = installed.and_then(platform_of).or(by_name)?;
                Some(Candidate { name, platform, family: family.unwrap_or_else(|| name.clone()), installed })
            })
            .collect();
        let mut families: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
        for c in &candidates {
            families.entry(c.family.as_str()).or_default().push(c);
        }
        for members in families.values() {
            let chosen = members.iter().find(|c| c.platform.is_target(target));
            let others = members.iter().filter(|c| !c.platform.is_target(target));
            for other in others {
                let Some(dist) = other.installed else { continue };
                let placement = match chosen {
                    Some(c) if c.installed.is_some() => {
                        Placement::UnusedVariant { layout: "npm platform package", selected: c.name.to_string() }
                    }
                    Some(c) => Placement::MissingVariant {
                        layout: "npm platform package",
                        needed: c.name.to_string(),
                        group: parent_dist.root.clone(),
                    },
                    None if members.iter().any(|c| c.platform.os == "linux") => Placement::MissingVariant {
                        layout: "npm platform package",
                        needed: format!(
                            "a build of `{}` for linux-{} with glibc (none is published)",
                            parent_dist.name,
                            target.arch.node_name()
                        ),
                        group: parent_dist.root.clone(),
                    },
                    None => Placement::NeverLoaded {
                        why: format!(
                            "`{}` is an optional dependency of `{}` for {} only; Node.js on Linux never requires it",
                            other.name, parent_dist.name, other.platform.os
                        ),
                    },
                };
                for &i in &dist.files {
                    let entry = &pkg.entries[i];
                    if matches!(entry.content, crate::source::Content::Object(_)) {
                        placements.place(&entry.path, placement.clone());
                    }
                }
            }
        }
    }
}

/// Where `require(name)` from the package at `from` finds it: `from/node_modules/name`, then
/// each `node_modules` directory above.
fn resolve_package<'a>(by_root: &HashMap<&str, &'a Distribution>, from: &str, name: &str) -> Option<&'a Distribution> {
    let mut dir = from;
    loop {
        let base = if dir.ends_with("node_modules") { dir.to_string() } else { format!("{dir}/node_modules") };
        let base = base.trim_start_matches('/');
        if let Some(d) = by_root.get(format!("{base}/{name}").as_str()) {
            return Some(d);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(dir);
    }
}

/// The tags of a prebuild's file name: `node.napi.glibc.node`, `electron.abi118.node`.
#[derive(Debug, Default, PartialEq, Eq)]
struct PrebuildTags {
    runtime: Option<String>,
    napi: bool,
    abi: Option<u32>,
    libc: Option<String>,
    /// How many tags the name has: more specific names win ties.
    specificity: usize,
}

fn prebuild_tags(file: &str) -> Option<PrebuildTags> {
    let stem = file.strip_suffix(".node")?;
    let mut tags = PrebuildTags::default();
    for tag in stem.split('.') {
        tags.specificity += 1;
        match tag {
            "node" | "electron" | "node-webkit" => tags.runtime = Some(tag.to_string()),
            "napi" => tags.napi = true,
            "glibc" | "musl" => tags.libc = Some(tag.to_string()),
            t if t.starts_with("abi") => tags.abi = t[3..].parse().ok(),
            _ => {}
        }
    }
    Some(tags)
}

fn place_prebuilds(pkg: &Package, target: &Target, placements: &mut Placements) {
    let platform = format!("linux-{}", target.arch.node_name());
    // prebuilds directory -> its .node files, by platform directory.
    let mut dirs: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for (e, _) in pkg.objects() {
        let Some((prebuilds, rest)) = split_at_dir(&e.path, "prebuilds") else { continue };
        let Some((variant, file)) = rest.split_once('/') else { continue };
        if file.contains('/') || !file.ends_with(".node") {
            continue;
        }
        dirs.entry(prebuilds).or_default().entry(variant).or_default().push(&e.path);
    }
    for (prebuilds, variants) in dirs {
        let package_dir = parent(prebuilds);
        let release =
            format!("{}build/Release/", if package_dir.is_empty() { String::new() } else { format!("{package_dir}/") });
        let local_build = pkg
            .objects()
            .find(|(e, _)| e.path.starts_with(&release) && e.path.ends_with(".node"))
            .map(|(e, _)| e.path.to_string());
        let chosen: Option<String> = local_build.clone().or_else(|| {
            let files = variants.get(platform.as_str())?;
            best_prebuild(files, target).map(str::to_string)
        });
        for files in variants.values() {
            for path in files {
                if Some(*path) == chosen.as_deref() {
                    continue;
                }
                let placement = Placement::variant("node-gyp-build prebuilds", chosen.as_deref(), prebuilds, || {
                    format!("{prebuilds}/{platform}/ with {}", abi_build(target))
                });
                placements.place(path, placement);
            }
        }
    }
}

/// `a build for Node.js ABI 115 or N-API, glibc`: what node-gyp-build looks for on the target.
fn abi_build(target: &Target) -> String {
    let abi = target.node_abi().map_or("of the runtime".to_string(), |a| a.to_string());
    format!("a build for Node.js ABI {abi} or N-API, glibc")
}

/// What node-gyp-build picks among the files of the target's platform directory.
fn best_prebuild<'a>(files: &[&'a str], target: &Target) -> Option<&'a str> {
    let abi = target.node_abi();
    let matching = files.iter().filter_map(|f| {
        let tags = prebuild_tags(file_name(f))?;
        let runtime_ok = tags.runtime.as_deref().is_none_or(|r| r == "node");
        let abi_ok = tags.napi || tags.abi.is_none() || abi.is_none() || tags.abi == abi;
        let libc_ok = tags.libc.as_deref().is_none_or(|l| l == "glibc");
        (runtime_ok && abi_ok && libc_ok).then_some((tags, *f))
    });
    // A runtime-specific build before a generic one, an ABI-specific before N-API, then the
    // more specific name.
    matching
        .min_by_key(|(t, f)| (t.runtime.is_none(), t.abi.is_none(), std::cmp::Reverse(t.specificity), *f))
        .map(|(_, f)| f)
}

/// Splits `a/b/prebuilds/linux-x64/x.node` at the directory component `name`.
fn split_at_dir<'a>(path: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let marker = format!("{name}/");
    let mut from = 0;
    while let Some(pos) = path[from..].find(&marker) {
        let start = from + pos;
        if start == 0 || path.as_bytes()[start - 1] == b'/' {
            return Some((&path[..start + name.len()], &path[start + marker.len()..]));
        }
        from = start + marker.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    #[test]
    fn names_carry_platforms() {
        let (p, family) = platform_of_name("@swc/core-linux-x64-gnu").unwrap();
        assert_eq!((p.os.as_str(), p.cpu.as_str(), p.libc.as_deref()), ("linux", "x64", Some("glibc")));
        assert_eq!(family, "@swc/core");
        let (p, family) = platform_of_name("@img/sharp-libvips-linuxmusl-x64").unwrap();
        assert_eq!((p.os.as_str(), p.libc.as_deref(), family.as_str()), ("linux", Some("musl"), "@img/sharp-libvips"));
        let (p, _) = platform_of_name("lightningcss-linux-x64-musl").unwrap();
        assert_eq!(p.libc.as_deref(), Some("musl"));
        assert!(platform_of_name("@img/sharp-wasm32").is_none());
        assert!(platform_of_name("fsevents").is_none());
        let t = Target::new(Some("nodejs20.x"), Arch::X86_64).unwrap();
        assert!(platform_of_name("@img/sharp-linux-x64").unwrap().0.is_target(&t));
        assert!(!platform_of_name("@esbuild/linux-arm64").unwrap().0.is_target(&t));
    }

    #[test]
    fn files_named_for_platforms_are_variants() {
        let t = Target::new(Some("nodejs22.x"), Arch::X86_64).unwrap();
        let (p, family) = platform_of_name("linuxmusl-x64").unwrap();
        assert!(!p.is_target(&t) && family.is_empty());
        assert!(platform_of_name("linux-x64").unwrap().0.is_target(&t));
        assert!(!platform_of_name("linux-arm64").unwrap().0.is_target(&t));
        assert!(platform_of_name("better_sqlite3").is_none());
    }

    #[test]
    fn prebuild_choice_follows_node_gyp_build() {
        let t = Target::new(Some("nodejs20.x"), Arch::X86_64).unwrap();
        let files = ["p/linux-x64/node.napi.musl.node", "p/linux-x64/node.napi.glibc.node"];
        assert_eq!(best_prebuild(&files, &t), Some("p/linux-x64/node.napi.glibc.node"));
        let files = ["p/linux-x64/node.abi108.node", "p/linux-x64/node.abi115.node", "p/linux-x64/node.napi.node"];
        assert_eq!(best_prebuild(&files, &t), Some("p/linux-x64/node.abi115.node"));
        assert_eq!(best_prebuild(&["p/linux-x64/node.napi.musl.node"], &t), None);
        assert_eq!(
            split_at_dir("a/prebuilds/linux-x64/x.node", "prebuilds"),
            Some(("a/prebuilds", "linux-x64/x.node"))
        );
        assert_eq!(split_at_dir("myprebuilds/x", "prebuilds"), None);
    }
}
