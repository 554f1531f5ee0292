//! An ELF file that needs a newer libstdc++ or libgcc_s than the runtime's.
//!
//! Why it breaks: C++ code binds to versioned symbols of the system's libstdc++ (`GLIBCXX_3.4.30`,
//! `CXXABI_1.3.13`) and libgcc_s (`GCC_7.0.0`). Amazon Linux 2 ships the libraries of GCC 7
//! (up to `GLIBCXX_3.4.24`, `CXXABI_1.3.11`). Amazon Linux 2023 launched with GCC 11's (up to
//! `GLIBCXX_3.4.29`) and has shipped GCC 14's (up to `GLIBCXX_3.4.33`) since 2025: a need above
//! GCC 14's is an error; one between GCC 11's and GCC 14's is a warning (it works on current
//! runtime versions, and fails on a function pinned to a runtime version from before the update).
//! When the package ships its own libstdc++ and the loader finds it first (auditwheel-repaired
//! wheels do), the bundled library is what counts, by the versions it defines. In Node.js the
//! process has loaded the system's libstdc++ before any addon, so a bundled one is never used.
//!
//! Seen on Lambda: ``version `GLIBCXX_3.4.30' not found (required by /var/task/...)``.
//!
//! Fix: install a build made with an older toolchain (manylinux2014 wheels), bundle
//! libstdc++ next to the binary with an `$ORIGIN` rpath, or link libstdc++ statically.

use super::{Code, Context, Finding, RuleDef, Severity, version_needs};

pub(super) static RULE: RuleDef = RuleDef {
    severity: Severity::Error,
    second: Some((
        Severity::Warning,
        "when the runtime meets the need today but its OS release launched with an older libstdc++",
    )),
    headline: Some("needing a newer libstdc++"),
};

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (file, problems) in super::by_file(ctx.version_problems(version_needs::is_cxx)) {
        out.push(version_needs::finding(ctx, Code::LibstdcxxTooNew, file, &problems));
    }
}
