//! An ELF file that needs a newer glibc than the runtime's.
//!
//! Why it breaks: every symbol a binary takes from glibc is bound to a version (`statx@GLIBC_2.28`)
//! and the loader refuses the file when the runtime's glibc lacks that version. Amazon Linux 2
//! (python3.9 to 3.11, nodejs18.x, java8.al2 to java17, ruby3.2, provided.al2) has glibc 2.26;
//! Amazon Linux 2023 has 2.34. Wheels tagged `manylinux_2_28` and binaries built on a recent
//! distro need more than AL2 has. The verdict comes from the version needs in the file
//! (`.gnu.version_r`, read through the dynamic section so stripped files count too), not from
//! wheel tags: symbol weakness does not make a version need optional, only `VER_FLG_WEAK` on the
//! need does. `GLIBC_PRIVATE` is ignored; `GLIBC_ABI_DT_RELR` counts as glibc 2.36. A statically
//! linked binary has no glibc needs, and a vendored copy of the loader itself is not judged.
//!
//! Seen on Lambda: ``version `GLIBC_2.28' not found (required by /var/task/...)``.
//!
//! Fix: install a wheel built for an older glibc (`manylinux2014` / `manylinux_2_17`), pin an
//! older version of the dependency, build in the runtime's own build image, or move the function
//! to a runtime on Amazon Linux 2023.

use super::{Context, RuleId};
use crate::binary::ElfInfo;
use crate::finding::{Finding, Severity};
use crate::version::{Version, split_symbol_version};

pub(super) static RULE: RuleId = RuleId { code: "glibc-too-new", severity: Severity::Error };

/// The glibc version a need stands for, if it is one that can fail.
pub(crate) fn glibc_need_version(version: &str) -> Option<Version> {
    if version == "GLIBC_ABI_DT_RELR" {
        return Version::parse("2.36");
    }
    match split_symbol_version(version) {
        Some(("GLIBC", v)) => Some(v),
        _ => None,
    }
}

/// The newest glibc version needed and the symbols that need it.
pub(crate) fn newest_glibc_need(elf: &ElfInfo) -> Option<(Version, String, Vec<String>)> {
    let mut best: Option<(Version, String, Vec<String>)> = None;
    for need in elf.version_needs.iter().filter(|n| !n.weak) {
        let Some(v) = glibc_need_version(&need.version) else {
            continue;
        };
        match &mut best {
            Some((b, _, syms)) if *b == v => syms.extend(need.symbols.iter().cloned()),
            Some((b, _, _)) if *b > v => {}
            _ => best = Some((v, need.version.clone(), need.symbols.clone())),
        }
    }
    if let Some((_, _, syms)) = &mut best {
        syms.sort();
        syms.dedup();
    }
    best
}

fn is_loader(path: &str, elf: &ElfInfo) -> bool {
    let name = crate::package::file_name(path);
    name.starts_with("ld-linux") || elf.soname.as_deref().is_some_and(|s| s.starts_with("ld-linux"))
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let have = &ctx.target.cpu().versions["GLIBC"];
    for (entry, elf) in ctx.native_elfs() {
        if elf.is_musl() || is_loader(&entry.path, elf) {
            continue;
        }
        let Some((need, name, symbols)) = newest_glibc_need(elf) else {
            continue;
        };
        if need <= *have {
            continue;
        }
        let shown: Vec<String> = symbols.iter().take(5).map(|s| format!("`{s}`")).collect();
        let more = if symbols.len() > 5 { format!(" and {} more", symbols.len() - 5) } else { String::new() };
        let syms = if shown.is_empty() { String::new() } else { format!(" ({}{more})", shown.join(", ")) };
        let message = format!("needs `{name}`{syms} but {} has glibc {have}", ctx.target.short_name());
        let seen = format!("version `{name}' not found (required by {})", ctx.package.runtime_path(&entry.path));
        out.push(ctx.finding(&RULE, &entry.path, message).runtime_error(seen).fix(ctx.reinstall_hint(&entry.path)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::{ElfKind, VersionNeed};

    fn elf(needs: &[(&str, &str, bool, &[&str])]) -> ElfInfo {
        ElfInfo {
            bits: 64,
            big_endian: false,
            machine: goblin::elf::header::EM_X86_64,
            kind: ElfKind::SharedObject,
            interpreter: None,
            soname: None,
            needed: vec!["libc.so.6".into()],
            rpath: vec![],
            runpath: vec![],
            dynamic: true,
            version_needs: needs
                .iter()
                .map(|(lib, v, weak, syms)| VersionNeed {
                    library: lib.to_string(),
                    version: v.to_string(),
                    weak: *weak,
                    symbols: syms.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            node_module_version: None,
            napi: false,
            truncated: false,
            python_init: None,
        }
    }

    #[test]
    fn newest_need_across_libraries_with_its_symbols() {
        let e = elf(&[
            ("libc.so.6", "GLIBC_2.2.5", false, &["malloc"]),
            ("libm.so.6", "GLIBC_2.29", false, &["exp"]),
            ("libc.so.6", "GLIBC_2.29", false, &["posix_spawn_file_actions_addchdir_np"]),
            ("libpthread.so.0", "GLIBC_2.12", false, &["pthread_setname_np"]),
        ]);
        let (v, name, syms) = newest_glibc_need(&e).unwrap();
        assert_eq!((v.to_string(), name.as_str()), ("2.29".to_string(), "GLIBC_2.29"));
        assert_eq!(syms, vec!["exp", "posix_spawn_file_actions_addchdir_np"]);
    }

    #[test]
    fn weak_needs_and_private_versions_do_not_count() {
        let e = elf(&[
            ("libc.so.6", "GLIBC_2.17", false, &["clock_gettime"]),
            ("libc.so.6", "GLIBC_2.34", true, &["closefrom"]),
            ("libc.so.6", "GLIBC_PRIVATE", false, &["__libc_internal"]),
        ]);
        assert_eq!(newest_glibc_need(&e).unwrap().1, "GLIBC_2.17");
    }

    #[test]
    fn dt_relr_needs_glibc_2_36() {
        let e = elf(&[("libc.so.6", "GLIBC_ABI_DT_RELR", false, &[]), ("libc.so.6", "GLIBC_2.17", false, &["x"])]);
        assert_eq!(newest_glibc_need(&e).unwrap().0.to_string(), "2.36");
    }
}
