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

use super::{Context, RuleId};
use crate::finding::{Finding, Severity};
use crate::platform::Placement;

pub(super) static RULE: RuleId = RuleId { code: "missing-platform-variant", severity: Severity::Error };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // needed variant -> (layout, group directory, example file)
    let mut missing: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
    for (path, placement) in ctx.placements.iter() {
        if let Placement::MissingVariant { layout, needed, group } = placement {
            let slot = missing.entry(needed.as_str()).or_insert((layout, group.as_str(), path.as_str()));
            if path.as_str() < slot.2 {
                slot.2 = path;
            }
        }
    }
    for (needed, (layout, group, example)) in missing {
        let platform = format!("linux-{}", ctx.target.arch.node_name());
        let message = format!("{layout} with no build for {platform} (Lambda's platform): `{needed}` is needed");
        let fix = match layout {
            "npm platform package" => {
                // Platform packages are published together, at one version.
                let version = ctx.package.owner_of(example).and_then(|d| d.version.as_deref());
                let spec = version.map_or_else(|| needed.to_string(), |v| format!("{needed}@{v}"));
                format!("install it: npm install --os=linux --cpu={} --libc=glibc {spec}", ctx.target.arch.node_name())
            }
            _ => "install the package for the target platform, or in the SAM build image".to_string(),
        };
        let mut f = ctx.finding(&RULE, group, message).fix(fix);
        f.package = ctx.package.owner_of(example).map(|d| d.label());
        f.runtime_error = Some(format!("Cannot find module '{needed}'"));
        out.push(f);
    }
}
