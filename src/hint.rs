//! The commands that reinstall a distribution for the target: shown as fix hints and run by
//! `elfcheck fix --via pip` / npm.

use crate::package::{Distribution, Ecosystem, parent};
use crate::target::{Arch, Target};

/// Every manylinux platform tag the target's glibc and CPU accept, newest first. pip takes
/// `--platform` literally except for `manylinux2014`, which it widens to 2010 and 1 itself.
pub fn pip_platform_tags(target: &Target) -> Vec<String> {
    let cpu = target.arch.elf_name();
    let glibc = &target.os().glibc;
    let max_minor = glibc.to_string().split('.').nth(1).and_then(|m| m.parse::<u32>().ok()).unwrap_or(17);
    let mut tags: Vec<String> = (17..=max_minor.max(17)).rev().map(|m| format!("manylinux_2_{m}_{cpu}")).collect();
    tags.push(format!("manylinux2014_{cpu}"));
    tags
}

/// `3.12` for the target's Python, or the given default.
fn python_version(target: &Target) -> Option<String> {
    target.python_version().map(|(a, b)| format!("{a}.{b}"))
}

/// Where pip's `--target` must point so that the files land where they are now: the directory
/// that holds the `.dist-info`.
pub fn site_dir(dist: &Distribution) -> String {
    let dir = parent(&dist.root);
    if dir.is_empty() { ".".to_string() } else { dir.to_string() }
}

/// The pip command that installs the same version of `dist` built for the target.
pub fn pip_command(dist: &Distribution, target: &Target, target_dir: &str) -> Option<String> {
    let version = dist.version.as_deref()?;
    let py = python_version(target)?;
    let platforms: Vec<String> = pip_platform_tags(target).into_iter().map(|t| format!("--platform {t}")).collect();
    Some(format!(
        "pip install --no-deps --only-binary=:all: --implementation cp --python-version {py} {} --target {target_dir} '{}=={version}'",
        platforms.join(" "),
        dist.name
    ))
}

/// npm's name for the CPU.
fn npm_cpu(arch: Arch) -> &'static str {
    arch.node_name()
}

/// For an npm platform package (`@img/sharp-darwin-arm64`), the sibling for the target
/// (`@img/sharp-linux-x64`), by the naming convention these packages share.
pub fn npm_target_variant(name: &str, arch: Arch) -> Option<String> {
    const OSES: [&str; 6] = ["darwin", "win32", "linux", "linuxmusl", "freebsd", "android"];
    const CPUS: [&str; 6] = ["arm64", "x64", "ia32", "arm", "s390x", "ppc64"];
    for os in OSES {
        for cpu in CPUS {
            let pattern = format!("{os}-{cpu}");
            if let Some(idx) = name.rfind(&pattern) {
                let end = idx + pattern.len();
                let boundary_ok =
                    name[..idx].ends_with(['-', '/']) && (end == name.len() || name[end..].starts_with('-'));
                if boundary_ok {
                    return Some(format!("{}linux-{}{}", &name[..idx], npm_cpu(arch), &name[end..]));
                }
            }
        }
    }
    None
}

pub fn npm_command(dist: &Distribution, target: &Target) -> String {
    let name = npm_target_variant(&dist.name, target.arch).unwrap_or_else(|| dist.name.clone());
    let spec = match &dist.version {
        Some(v) => format!("{name}@{v}"),
        None => name,
    };
    format!("npm install --os=linux --cpu={} --libc=glibc {spec}", npm_cpu(target.arch))
}

/// The one fix line for a distribution whose binaries do not work on the target.
pub fn reinstall(dist: &Distribution, target: &Target) -> String {
    match dist.ecosystem {
        Ecosystem::Python => match pip_command(dist, target, &site_dir(dist)) {
            Some(cmd) => format!("reinstall `{}` for the target: {cmd}", dist.label()),
            None => format!("reinstall `{}` from a wheel built for {}", dist.label(), platform_words(target)),
        },
        Ecosystem::Node => format!("install the package built for the target: {}", npm_command(dist, target)),
    }
}

/// `Linux x86_64 with glibc 2.26 or older`
pub fn platform_words(target: &Target) -> String {
    format!("Linux {} with glibc {} or older", target.arch, target.os().glibc)
}

/// A SAM build image that matches the target, for rebuilding from source.
pub fn build_image(target: &Target) -> Option<String> {
    let runtime = target.runtime?;
    Some(format!("public.ecr.aws/sam/build-{}:latest-{}", runtime.id, target.arch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tags_reach_the_runtime_glibc() {
        let t = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
        let tags = pip_platform_tags(&t);
        assert_eq!(tags.first().unwrap(), "manylinux_2_26_x86_64");
        assert!(tags.contains(&"manylinux_2_17_x86_64".to_string()));
        assert!(tags.contains(&"manylinux2014_x86_64".to_string()));
        assert!(!tags.iter().any(|t| t.contains("2_28")));
    }

    #[test]
    fn npm_variants() {
        assert_eq!(
            npm_target_variant("@img/sharp-darwin-arm64", Arch::X86_64).as_deref(),
            Some("@img/sharp-linux-x64")
        );
        assert_eq!(
            npm_target_variant("@img/sharp-libvips-darwin-arm64", Arch::Arm64).as_deref(),
            Some("@img/sharp-libvips-linux-arm64")
        );
        assert_eq!(npm_target_variant("@esbuild/win32-x64", Arch::X86_64).as_deref(), Some("@esbuild/linux-x64"));
        assert_eq!(npm_target_variant("sharp", Arch::X86_64), None);
    }
}
