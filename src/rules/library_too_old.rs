//! A library that the loader finds lacks a symbol version the binary needs (other than glibc's
//! and libstdc++'s): zlib's `ZLIB_1.2.9`, OpenSSL's `OPENSSL_3.4.0`, or any version of a library
//! the package bundles.
//!
//! Why it breaks: every versioned symbol a binary imports names its library and version; the
//! loader refuses the binary when the library it found for that name does not define the version.
//! Amazon Linux 2 has zlib 1.2.7 (up to `ZLIB_1.2.5.2`), Amazon Linux 2023 zlib 1.2.11
//! (`ZLIB_1.2.9`). The Node.js runtimes put their own OpenSSL first on the search path
//! (`/var/lang/lib/libcrypto.so.3`): nodejs22.x's is OpenSSL 3.3, so a binary that needs
//! `OPENSSL_3.4.0` fails there although the system's OpenSSL is newer. A library bundled in the
//! package is judged by the versions it defines itself, wherever the search finds it first.
//!
//! Seen on Lambda: ``version `OPENSSL_3.4.0' not found (required by /var/task/...)``.
//!
//! Fix: install a build made against an older library (a manylinux wheel that vendors it, an
//! older release), bundle the library the binary was built with next to it (an `$ORIGIN` rpath),
//! or move the function to a runtime whose library is new enough.

use super::{Code, Context, Finding, RuleDef, Severity, version_needs};

pub(super) static RULE: RuleDef = RuleDef {
    severity: Severity::Error,
    second: Some((
        Severity::Warning,
        "when the runtime meets the need today but its OS release launched with an older library",
    )),
    headline: Some("needing a newer library"),
};

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let other = |ns: &str| ns != "GLIBC" && !version_needs::is_cxx(ns);
    for (file, problems) in super::by_file(ctx.version_problems(other)) {
        out.push(version_needs::finding(ctx, Code::LibraryTooOld, file, &problems));
    }
}
