//! The checks, one file per finding code. Each file's `//!` comment is the rule's documentation,
//! printed by `elfcheck explain CODE`.
//!
//! Rules run in two tiers. Identity rules judge every object file: is it Linux ELF for the
//! target's CPU at all? Loader rules then judge only the ELF files that passed, the way the
//! dynamic loader and the language runtime would; a Mach-O file is not also "missing libraries".

mod arch_mismatch;
mod backslash_path;
mod bootstrap_script;
mod corrupt_entry;
mod dangling_symlink;
mod elf_class_mismatch;
mod glibc_too_new;
mod libstdcxx_too_new;
mod macho_binary;
mod missing_library;
mod missing_platform_variant;
mod musl_binary;
mod nested_archive_refused;
mod node_abi_mismatch;
mod not_executable;
mod package_too_large;
mod pe_binary;
mod python_abi_mismatch;
mod unparseable_binary;
mod unreadable_file;
mod unsafe_path;
mod unused_platform_binary;

use crate::binary::{ElfInfo, Object};
use crate::finding::{Finding, Severity};
use crate::package::Package;
use crate::platform::Placement;
use crate::source::Entry;
use crate::target::Target;

/// What every rule sees.
pub struct Context<'a> {
    pub package: &'a Package,
    pub target: &'a Target,
    pub placements: &'a crate::platform::Placements,
}

impl<'a> Context<'a> {
    /// The target's loader could map this ELF: 64-bit, little-endian, the target's CPU.
    pub fn is_native(&self, elf: &ElfInfo) -> bool {
        elf.runs_on(self.target.arch)
    }

    /// Whether the runtime would load this file at all (false for platform variants it never
    /// selects, such as `prebuilds/darwin-arm64/`).
    pub fn is_loaded(&self, path: &str) -> bool {
        !matches!(
            self.placements.get(path),
            Some(Placement::UnusedVariant { .. }) | Some(Placement::NeverLoaded { .. })
        )
    }

    /// Object files the runtime may load.
    pub fn loaded_objects(&self) -> impl Iterator<Item = (&'a Entry, &'a Object)> + '_ {
        self.package.objects().filter(|(e, _)| self.is_loaded(&e.path))
    }

    /// ELF files that pass every identity rule: the loader rules judge these.
    pub fn native_elfs(&self) -> impl Iterator<Item = (&'a Entry, &'a ElfInfo)> + '_ {
        self.loaded_objects().filter_map(|(e, o)| match o {
            Object::Elf(elf) if self.is_native(elf) => Some((e, elf)),
            _ => None,
        })
    }

    /// The fix for a file that must be rebuilt or reinstalled for the target.
    pub fn reinstall_hint(&self, path: &str) -> String {
        match self.package.owner_of(path) {
            Some(dist) => crate::hint::reinstall(dist, self.target),
            None => {
                let image = crate::hint::build_image(self.target)
                    .map(|i| format!(" (e.g. in the `{i}` image)"))
                    .unwrap_or_default();
                format!("rebuild it for {}{image}", crate::hint::platform_words(self.target))
            }
        }
    }

    /// A finding for a file that is not ELF at all: the loader refuses it (`invalid ELF header`),
    /// or the interpreter skips it by name first; the fix is to reinstall its package.
    pub fn not_elf_finding(&self, rule: &RuleId, path: &str, message: String) -> Finding {
        let loader = format!("{}: invalid ELF header", self.package.runtime_path(path));
        self.finding(rule, path, message)
            .runtime_error(python_abi_mismatch::runtime_error_for(self, path, &loader))
            .fix(self.reinstall_hint(path))
    }

    /// A finding with the owner of `path` filled in.
    pub fn finding(&self, rule: &RuleId, path: &str, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(rule.code, rule.severity, path, message);
        f.package = self.package.owner_of(path).map(|d| d.label());
        f
    }
}

/// A rule's code and default severity, declared once in its file.
pub struct RuleId {
    pub code: &'static str,
    pub severity: Severity,
}

pub struct Rule {
    pub id: &'static RuleId,
    source: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
}

impl Rule {
    pub fn code(&self) -> &'static str {
        self.id.code
    }

    /// The rule's documentation: its file's `//!` comment.
    pub fn doc(&self) -> String {
        let lines: Vec<&str> = self
            .source
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.strip_prefix("//! ").unwrap_or(l.strip_prefix("//!").unwrap_or(l)))
            .collect();
        lines.join("\n").trim().to_string()
    }

    /// The first line of the documentation.
    pub fn summary(&self) -> String {
        self.doc().lines().next().unwrap_or_default().to_string()
    }
}

macro_rules! rule {
    ($module:ident) => {
        Rule { id: &$module::RULE, source: include_str!(concat!(stringify!($module), ".rs")), check: $module::check }
    };
}

/// Every rule, in the order they run.
pub static RULES: &[Rule] = &[
    rule!(corrupt_entry),
    rule!(unsafe_path),
    rule!(nested_archive_refused),
    rule!(unparseable_binary),
    rule!(macho_binary),
    rule!(pe_binary),
    rule!(elf_class_mismatch),
    rule!(arch_mismatch),
    rule!(unused_platform_binary),
    rule!(missing_platform_variant),
    rule!(musl_binary),
    rule!(glibc_too_new),
    rule!(libstdcxx_too_new),
    rule!(missing_library),
    rule!(python_abi_mismatch),
    rule!(node_abi_mismatch),
    rule!(not_executable),
    rule!(bootstrap_script),
    rule!(unreadable_file),
    rule!(dangling_symlink),
    rule!(backslash_path),
    rule!(package_too_large),
];

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code() == code)
}

/// Runs every rule over one package.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(ctx, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_docs_and_a_unique_kebab_code() {
        let mut codes = std::collections::HashSet::new();
        for rule in RULES {
            let code = rule.code();
            assert!(codes.insert(code), "duplicate code {code}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{code} is not kebab-case");
            let doc = rule.doc();
            assert!(doc.lines().count() >= 3, "{code} has too little documentation:\n{doc}");
        }
    }
}
