//! The fix line of a distribution whose binaries do not work on the target, in words users can
//! run as printed.

use crate::attribution::{Distribution, Ecosystem};
use crate::commands::{NpmInstall, PipInstall};
use crate::paths::parent;
use crate::target::{Target, table};

/// Where pip's `--target` must point so that the files land where they are now: the directory
/// that holds the `.dist-info`.
pub fn site_dir(dist: &Distribution) -> String {
    let dir = parent(&dist.root);
    if dir.is_empty() { ".".to_string() } else { dir.to_string() }
}

/// The one fix line for a distribution whose binaries do not work on the target.
pub fn reinstall(dist: &Distribution, target: &Target) -> String {
    match dist.ecosystem {
        Ecosystem::Python => {
            let spec = dist.version.as_ref().map(|v| format!("{}=={v}", dist.name));
            match spec.and_then(|s| PipInstall::for_target(target, vec![s], &site_dir(dist))) {
                Some(mut pip) => {
                    pip.upgrade = true;
                    format!("reinstall `{}` for the target: {}", dist.label(), pip.display())
                }
                None => format!("reinstall `{}` from a wheel built for {}", dist.label(), platform_words(target)),
            }
        }
        Ecosystem::Node => {
            let spec = match &dist.version {
                Some(v) => format!("{}@{v}", dist.name),
                None => dist.name.clone(),
            };
            format!("reinstall the package for the target: {}", NpmInstall::for_target(target, vec![spec]).display())
        }
    }
}

/// `Linux x86_64 with glibc 2.26 or older`
pub fn platform_words(target: &Target) -> String {
    format!("Linux {} with glibc {} or older", target.arch, target.os().glibc)
}

/// A SAM build image that matches the target, for rebuilding from source.
pub fn build_image(target: &Target) -> Option<String> {
    let runtime = target.runtime?;
    Some(table().lambda.build_image.replace("{runtime}", &runtime.id).replace("{arch}", target.arch.lambda_name()))
}
