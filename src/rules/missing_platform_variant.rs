//! A multi-platform layout with builds for other platforms only: the variant for the target is
//! missing.
//!
//! Why it breaks: packages that select a binary per platform at run time (npm optional platform
//! packages such as `@img/sharp-linux-x64`, node-gyp-build `prebuilds/linux-x64/`, .NET
//! `runtimes/linux-x64/native/`) fail when the target's variant was never installed, typically
//! because `npm install` ran on a Mac or Windows and npm skipped the Linux packages.
//!
//! Seen on Lambda: `Could not load the "sharp" module using the linux-x64 runtime`, `Cannot find
//! module '@esbuild/linux-x64'`, `No native build was found for platform=linux arch=x64`.
//!
//! Fix: install the target's variant (`npm install --os=linux --cpu=x64 --libc=glibc`), or run
//! the install in the SAM build image.

use std::collections::BTreeMap;

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::loader::Placement;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // needed variant -> (layout, group directory, example file)
    let mut missing: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
    for (path, placement) in ctx.analysis.placements.iter() {
        if let Placement::MissingVariant { layout, needed, group } = placement {
            let slot = missing.entry(needed.as_str()).or_insert((layout, group.as_str(), path.as_str()));
            if path.as_str() < slot.2 {
                slot.2 = path;
            }
        }
    }
    for (needed, (layout, group, example)) in missing {
        let platform = format!("linux-{}", ctx.target.arch.node_name());
        // The package that selects the variant, when the group is one (npm); else the variant's.
        let selector = ctx.package.distributions.iter().find(|d| d.root == group);
        let named = !needed.contains(' ');
        let message = if named {
            format!("{layout} with no build for {platform} (Lambda's platform): `{needed}` is needed")
        } else {
            format!("{layout} with no build for {platform} (Lambda's platform): {needed}")
        };
        let spec = selector.and_then(|d| d.npm_optional.iter().find(|(n, _)| n == needed)).map(|(_, v)| v.as_str());
        let fix = match (layout, spec) {
            ("npm platform package", Some(spec)) if named => {
                let spec = if spec.is_empty() { needed.to_string() } else { format!("{needed}@{spec}") };
                format!("install it: {}", crate::commands::NpmInstall::for_target(ctx.target, vec![spec]).display())
            }
            _ => "install the package for the target platform, or in the SAM build image".to_string(),
        };
        let mut f = ctx.finding(Code::MissingPlatformVariant, group, message).fix(fix);
        f.package = selector.or_else(|| ctx.package.owner_of(example)).map(|d| d.label());
        f.runtime_error = Some(if named && layout == "npm platform package" {
            format!("Cannot find module '{needed}'")
        } else {
            format!("no native build for {platform} is found")
        });
        out.push(f);
    }
}
