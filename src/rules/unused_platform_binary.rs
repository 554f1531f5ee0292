//! A binary for another platform that the runtime never loads, in a multi-platform layout that
//! also has the variant for the target.
//!
//! Why it is only information: packages such as node-gyp-build modules (`prebuilds/<os>-<cpu>/`,
//! or tagged builds `node.napi.glibc.node` beside `node.napi.musl.node`), npm optional platform
//! packages (`@esbuild/darwin-arm64`), trees split by platform directories (zeromq's
//! `build/<os>/<cpu>/`), .NET `runtimes/<rid>/native/`, selenium (`selenium-manager` per OS),
//! jars with natives for every OS, and setuptools (`cli-*.exe` launchers) carry a build per
//! platform and pick one at run time. An optional dependency for another OS only (fsevents) is
//! never installed by npm on Linux, and the package that lists it does without it. The others
//! are dead weight, not a failure.
//!
//! Seen on Lambda: nothing.
//!
//! Fix: none needed; to save space, install for the target platform only (`npm install
//! --os=linux --cpu=x64`) or delete the other platforms' directories.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::loader::Placement;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Info, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let mut placed: Vec<(&String, &Placement)> = ctx.analysis.placements.iter().collect();
    placed.sort_by(|a, b| a.0.cmp(b.0));
    for (path, placement) in placed {
        let message = match placement {
            Placement::UnusedVariant { layout, selected } => {
                format!("{layout}: never loaded on {}; the runtime uses `{selected}`", ctx.target.label())
            }
            Placement::NeverLoaded { why } => format!("never loaded on Linux: {why}"),
            Placement::MissingVariant { .. } | Placement::PythonFallback { .. } => continue,
        };
        let description = ctx.package.get(path).and_then(|e| match &e.content {
            crate::source::Content::Object(o) => Some(o.describe()),
            _ => None,
        });
        let message = match description {
            Some(d) => format!("{d}; {message}"),
            None => message,
        };
        out.push(ctx.finding(Code::UnusedPlatformBinary, path, message));
    }
}
