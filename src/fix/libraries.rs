//! Which package ships a shared library that a runtime lacks: `data/libraries.toml`, with its
//! sources there. `fix` names the package when a binary needs a library that no reinstall can
//! bring (the wheel or addon expects the system to provide it), so that the user can build a
//! layer with it.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::target::Target;

#[derive(Debug, Deserialize)]
struct Table {
    library: Vec<Library>,
}

/// One library and the packages that ship it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    pub sonames: Vec<String>,
    /// What it is, and who usually needs it.
    pub what: String,
    pub al2: Option<String>,
    pub al2023: Option<String>,
    pub debian: Option<String>,
}

fn table() -> &'static [Library] {
    static TABLE: OnceLock<Table> = OnceLock::new();
    &TABLE
        .get_or_init(|| {
            toml::from_str(include_str!("../../data/libraries.toml"))
                .unwrap_or_else(|e| panic!("data/libraries.toml is not valid: {e}"))
        })
        .library
}

/// The entry for `soname`, if the table knows it.
pub fn find(soname: &str) -> Option<&'static Library> {
    table().iter().find(|l| l.sonames.iter().any(|s| s == soname))
}

/// `` `libodbc.so.2` (the unixODBC driver manager, ...) is in the Amazon Linux 2023 package
/// `unixODBC` (Debian: `libodbc2`)``, or `` `libfoo.so.1`: no known package ships it``.
pub fn provider_words(soname: &str, target: &Target) -> String {
    let Some(lib) = find(soname) else {
        return format!("`{soname}`: no known package ships it");
    };
    format!("`{soname}` ({}): {}", lib.what, packages(lib, target))
}

fn packages(lib: &Library, target: &Target) -> String {
    let own = match target.os_id {
        "al2" => lib.al2.as_deref(),
        "al2023" => lib.al2023.as_deref(),
        _ => None,
    };
    let debian = lib.debian.as_deref().map(|d| format!("Debian: `{d}`"));
    match (own, debian) {
        (Some(p), Some(d)) => format!("the {} package `{p}` ({d})", target.os().name),
        (Some(p), None) => format!("the {} package `{p}`", target.os().name),
        (None, Some(d)) => format!("no {} package ships it ({d})", target.os().name),
        (None, None) => "no known package ships it".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    #[test]
    fn the_table_parses_and_names_packages_per_os() {
        assert!(table().len() > 20);
        let al2023 = Target::new(Some("python3.12"), Arch::X86_64).unwrap();
        let al2 = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
        assert_eq!(
            provider_words("libodbc.so.2", &al2023),
            "`libodbc.so.2` (the unixODBC driver manager, needed by pyodbc, turbodbc): the Amazon Linux 2023 package `unixODBC` (Debian: `libodbc2`)"
        );
        assert!(provider_words("libGL.so.1", &al2).contains("mesa-libGL"), "{}", provider_words("libGL.so.1", &al2));
        assert!(
            provider_words("libpng16.so.16", &al2)
                .ends_with(": no Amazon Linux 2 package ships it (Debian: `libpng16-16`)")
        );
        assert_eq!(provider_words("libnothing.so.9", &al2), "`libnothing.so.9`: no known package ships it");
    }

    #[test]
    fn every_soname_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for lib in table() {
            for s in &lib.sonames {
                assert!(seen.insert(s.as_str()), "{s} listed twice");
                assert!(s.starts_with("lib") && s.contains(".so"), "{s}");
            }
        }
    }
}
