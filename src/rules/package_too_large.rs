//! A package over Lambda's size limits.
//!
//! Why it breaks: a zip uploaded directly may be at most 50 MB (larger ones must go through S3),
//! and a function with all its layers (`--layer`) may unpack to at most 262,144,000 bytes; a
//! function may use at most 5 layers. Over these limits the deployment is refused whatever the
//! upload path.
//!
//! Seen on Lambda: `Unzipped size must be smaller than 262144000 bytes` or `Request must be
//! smaller than 69905067 bytes for the UpdateFunctionCode operation`.
//!
//! Fix: move dependencies into layers or a container image, drop unused binaries (tests, other
//! platforms' builds, debug symbols: `strip`), or upload through S3.

use super::{Code, Context, RuleDef};
use super::{Finding, Severity};
use crate::source::EntryKind;

pub(super) static RULE: RuleDef = RuleDef { severity: Severity::Error, second: None, headline: None };

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let table = &crate::target::table().lambda;
    let unpacked = |pkg: &crate::package::Package| -> u64 {
        pkg.entries.iter().filter(|e| e.kind == EntryKind::File && !e.path.is_nested()).map(|e| e.size).sum()
    };
    let layers = &ctx.package.layers;
    let unzipped: u64 = unpacked(ctx.package) + layers.iter().map(|l| unpacked(l)).sum::<u64>();
    if layers.len() > table.max_layers {
        out.push(
            ctx.finding(Code::PackageTooLarge, "", format!("{} layers, over Lambda's limit of {}", layers.len(), table.max_layers))
                .runtime_error(format!("Cannot reference more than {} layers", table.max_layers))
                .fix("merge layers, or move dependencies into the function or a container image"),
        );
    }
    if unzipped > table.max_unzipped_bytes {
        let with_layers = match layers.len() {
            0 => String::new(),
            n => format!(" with its {}", crate::text::plural(n, "layer")),
        };
        let message = format!(
            "unzips{with_layers} to {unzipped} bytes, over Lambda's limit of {} bytes",
            table.max_unzipped_bytes
        );
        out.push(
            ctx.finding(Code::PackageTooLarge, "", message)
                .runtime_error(format!("Unzipped size must be smaller than {} bytes", table.max_unzipped_bytes))
                .fix("move dependencies into layers or a container image, or drop unused files"),
        );
    }
    if let Some(zipped) = ctx.package.zipped_size.filter(|z| *z > table.max_zipped_bytes) {
        let mut f = ctx.finding(
            Code::PackageTooLarge,
            "",
            format!("zip is {zipped} bytes, over the {} byte limit for direct upload", table.max_zipped_bytes),
        );
        f.severity = Severity::Warning; // still deployable through S3
        out.push(f.fix("upload through S3, or make the package smaller"));
    }
}
