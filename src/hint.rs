//! How to fix a file whose binaries do not work on the target, in words.

use crate::attribution::Distribution;
use crate::paths::parent;
use crate::target::{Target, table};

/// Where pip's `--target` must point so that the files land where they are now: the directory
/// that holds the `.dist-info`.
pub fn site_dir(dist: &Distribution) -> String {
    let dir = parent(&dist.root);
    if dir.is_empty() { ".".to_string() } else { dir.to_string() }
}

/// The short fix of a finding on a file of `dist`: the command is the package's.
pub fn reinstall_words(dist: &Distribution, target: &Target) -> String {
    format!("reinstall `{}` built for {}", dist.label(), platform_words(target))
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
