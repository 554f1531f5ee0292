//! The checks, one file per finding code. Each file's `//!` comment is the rule's documentation,
//! printed by `elfcheck explain CODE`.
//!
//! Rules run in two tiers. Identity rules judge every object file: is it Linux ELF for the
//! target's CPU at all? Loader rules then judge only the ELF files that passed, the way the
//! dynamic loader and the language runtime would; a Mach-O file is not also "missing libraries".

mod finding;
mod version_needs;

pub use finding::{Finding, Severity};

use crate::binary::{ElfInfo, Object};
use crate::loader::fs::Fs;
use crate::loader::python::{ExtTag, accepts, module_name, parse_extension_name};
use crate::loader::versions::VersionProblem;
use crate::loader::{Analysis, Placement};
use crate::package::Package;
use crate::paths::file_name;
use crate::source::Entry;
use crate::target::Target;

/// What every rule sees: the package, its target, and what the runtime loads and how.
pub struct Context<'a> {
    pub package: &'a Package,
    pub target: &'a Target,
    pub analysis: &'a Analysis,
    pub fs: Fs<'a>,
}

/// Analyzes the package and runs every rule over it.
pub fn run(package: &Package, target: &Target) -> Vec<Finding> {
    let analysis = crate::loader::analyze(package, target);
    let ctx = Context { package, target, analysis: &analysis, fs: Fs::new(package) };
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(&ctx, &mut out);
    }
    out
}

impl<'a> Context<'a> {
    /// The target's loader could map this ELF: 64-bit, little-endian, the target's CPU.
    pub fn is_native(&self, elf: &ElfInfo) -> bool {
        elf.runs_on(self.target.arch)
    }

    pub fn placement(&self, path: &str) -> Option<&'a Placement> {
        self.analysis.placements.get(path)
    }

    /// Whether the runtime would load this file at all (false for platform variants it never
    /// selects, such as `prebuilds/darwin-arm64/`). A variant that stands where the missing one
    /// for the target should be still counts: it is the evidence of the broken install.
    pub fn is_loaded(&self, path: &str) -> bool {
        self.analysis.placements.is_loaded(path)
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

    /// Version needs that the library the loader finds does not meet, for one namespace group.
    pub fn version_problems(&self, namespaces: fn(&str) -> bool) -> impl Iterator<Item = &'a VersionProblem> + '_ {
        self.analysis.versions.iter().filter(move |p| namespaces(&p.namespace))
    }

    /// The fix for a file that must be rebuilt or reinstalled for the target.
    pub fn reinstall_hint(&self, path: &str) -> String {
        match self.package.owner_of(path) {
            Some(dist) => crate::hint::reinstall_words(dist, self.target),
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
    pub fn not_elf_finding(&self, code: Code, path: &str, message: String) -> Finding {
        let loader = format!("{}: invalid ELF header", self.package.runtime_path(path));
        self.finding(code, path, message)
            .runtime_error(self.runtime_error_for(path, &loader))
            .fix(self.reinstall_hint(path))
    }

    /// What Python prints when a file that cannot load would be imported: `No module named ...` when
    /// the target's interpreter skips it by name, else `fallback` (the loader's error).
    pub fn runtime_error_for(&self, path: &str, fallback: &str) -> String {
        let Some((stem, tag)) = parse_extension_name(file_name(path)) else {
            return fallback.to_string();
        };
        let skipped = match self.target.python_version() {
            Some(version) => !accepts(file_name(path), version, self.target.arch),
            None => {
                matches!(tag, ExtTag::Pyd(_) | ExtTag::Other(_))
                    || matches!(&tag, ExtTag::CPython { platform, .. } if platform != self.target.arch.python_triplet())
            }
        };
        if skipped { format!("No module named '{}'", module_name(path, stem)) } else { fallback.to_string() }
    }

    /// A finding with the owner of `path` filled in.
    pub fn finding(&self, code: Code, path: &str, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(code, code.severity(), path, message);
        f.package = self.package.owner_of(path).map(|d| d.label());
        f
    }
}

/// Version problems grouped by the object that has them, in path order.
pub(crate) fn by_file<'a>(
    problems: impl Iterator<Item = &'a VersionProblem>,
) -> Vec<(crate::loader::fs::FileRef, Vec<&'a VersionProblem>)> {
    let mut map: std::collections::BTreeMap<crate::loader::fs::FileRef, Vec<&VersionProblem>> = Default::default();
    for p in problems {
        map.entry(p.file).or_default().push(p);
    }
    map.into_iter().collect()
}

/// What a rule declares about itself in its file: how severe its findings are by default, a second
/// severity it may use and when, and the phrase the human report's package headline uses.
pub struct RuleDef {
    pub severity: Severity,
    /// Another severity some of its findings take, and when.
    pub second: Option<(Severity, &'static str)>,
    /// `built for macOS`: completes "N binaries ..." in a package's headline.
    pub headline: Option<&'static str>,
}

pub struct Rule {
    pub code: Code,
    pub def: &'static RuleDef,
    /// The rule file's module name (`macho_binary`), which the code spells with dashes.
    #[cfg_attr(not(test), allow(dead_code))]
    module: &'static str,
    source: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
}

impl Rule {
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

    /// The documentation's first sentence, joined onto one line.
    pub fn summary(&self) -> String {
        let doc = self.doc();
        let paragraph = doc.split("\n\n").next().unwrap_or_default().replace('\n', " ");
        match paragraph.find(". ") {
            Some(end) => paragraph[..=end].trim().to_string(),
            None => paragraph.trim().to_string(),
        }
    }

    /// `error`, or `error (warning when ...)`.
    pub fn severity_text(&self) -> String {
        match self.def.second {
            Some((s, when)) => format!("{} ({s} {when})", self.def.severity),
            None => self.def.severity.to_string(),
        }
    }
}

/// The registry: one line per rule, in the order they run. It declares the rule's module and its
/// [`Code`] variant; the code's text is the module's name with dashes (checked by a test).
macro_rules! registry {
    ($($module:ident => $variant:ident $code:literal,)*) => {
        $(mod $module;)*

        /// A finding code: what went wrong, as a type. Its text (`macho-binary`) is what users
        /// write in `elfcheck.toml` and what every report shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }
        }

        /// Every rule, in the order they run.
        pub static RULES: &[Rule] = &[$(Rule {
            code: Code::$variant,
            def: &$module::RULE,
            module: stringify!($module),
            source: include_str!(concat!(stringify!($module), ".rs")),
            check: $module::check,
        },)*];
    };
}

// Identity rules first (is it Linux ELF for this CPU at all?), then the loader rules.
registry! {
    corrupt_entry => CorruptEntry "corrupt-entry",
    duplicate_entry => DuplicateEntry "duplicate-entry",
    unsafe_path => UnsafePath "unsafe-path",
    nested_archive_refused => NestedArchiveRefused "nested-archive-refused",
    unparseable_binary => UnparseableBinary "unparseable-binary",
    macho_binary => MachoBinary "macho-binary",
    pe_binary => PeBinary "pe-binary",
    elf_class_mismatch => ElfClassMismatch "elf-class-mismatch",
    arch_mismatch => ArchMismatch "arch-mismatch",
    unused_platform_binary => UnusedPlatformBinary "unused-platform-binary",
    missing_platform_variant => MissingPlatformVariant "missing-platform-variant",
    musl_binary => MuslBinary "musl-binary",
    glibc_too_new => GlibcTooNew "glibc-too-new",
    libstdcxx_too_new => LibstdcxxTooNew "libstdcxx-too-new",
    library_too_old => LibraryTooOld "library-too-old",
    missing_library => MissingLibrary "missing-library",
    python_abi_mismatch => PythonAbiMismatch "python-abi-mismatch",
    node_abi_mismatch => NodeAbiMismatch "node-abi-mismatch",
    not_executable => NotExecutable "not-executable",
    bootstrap_script => BootstrapScript "bootstrap-script",
    unreadable_file => UnreadableFile "unreadable-file",
    dangling_symlink => DanglingSymlink "dangling-symlink",
    backslash_path => BackslashPath "backslash-path",
    package_too_large => PackageTooLarge "package-too-large",
}

impl Code {
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }

    pub fn severity(self) -> Severity {
        self.rule().def.severity
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Code {
    type Err = String;
    fn from_str(s: &str) -> Result<Code, String> {
        RULES
            .iter()
            .map(|r| r.code)
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown finding code `{s}` (see `elfcheck explain`)"))
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": codes, "description": "A finding code (`elfcheck explain CODE`)." })
    }
}

pub fn find(code: &str) -> Option<&'static Rule> {
    code.parse::<Code>().ok().map(Code::rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_its_rule_file_with_dashes_and_has_docs() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.code as usize, i, "RULES is indexed by Code");
            assert_eq!(rule.code.as_str(), rule.module.replace('_', "-"));
            assert_eq!(rule.code.as_str().parse::<Code>(), Ok(rule.code));
            let doc = rule.doc();
            assert!(doc.lines().count() >= 3, "{} has too little documentation:\n{doc}", rule.code);
            let summary = rule.summary();
            assert!(summary.ends_with('.') && !summary.contains('\n'), "{}: {summary}", rule.code);
        }
    }
}
