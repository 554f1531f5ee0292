//! A Node.js addon built for another Node.js major version than the runtime's.
//!
//! Why it breaks: a classic (non-N-API) addon exports `node_register_module_v<N>`, where N is the
//! `NODE_MODULE_VERSION` of the Node.js it was compiled against; Node refuses any other N.
//! nodejs18.x is 108, nodejs20.x 115, nodejs22.x 127, nodejs24.x 137. N-API addons
//! (`napi_register_module_v1`) are ABI-stable and load on every version.
//!
//! Seen on Lambda: `was compiled against a different Node.js version using NODE_MODULE_VERSION
//! 108. This version of Node.js requires NODE_MODULE_VERSION 115.`
//!
//! Fix: reinstall or rebuild the package with the runtime's Node.js version (`npm rebuild` in
//! the matching SAM build image), or use a version of the package with N-API prebuilds.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: Some("for another Node.js") };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(want) = ctx.target.node_abi() else {
        return;
    };
    for (entry, elf) in ctx.native_elfs() {
        let Some(have) = elf.node_module_version else {
            continue;
        };
        if elf.napi || have == want {
            continue;
        }
        let message =
            format!("addon built for NODE_MODULE_VERSION {have}; {} requires {want}", ctx.target.short_name());
        let seen = format!(
            "was compiled against a different Node.js version using NODE_MODULE_VERSION {have}. This version of Node.js requires NODE_MODULE_VERSION {want}."
        );
        out.push(ctx.finding(Code::NodeAbiMismatch, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
}
