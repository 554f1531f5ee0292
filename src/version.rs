//! Dotted numeric versions (`2.28`, `3.4.30`, `1.3.11`) as symbol-version names carry them.

use std::fmt;
use std::str::FromStr;

/// A dotted numeric version; compares component by component, so `2.2.5 < 2.26`, and missing
/// trailing components count as zero, so `11.0 == 11.0.0`.
#[derive(Clone, Debug)]
pub struct Version(Vec<u32>);

impl Version {
    fn significant(&self) -> &[u32] {
        let end = self.0.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.significant().hash(state);
    }
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let parts: Option<Vec<u32>> = s.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty() && p.len() <= 8).map(Version)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Missing trailing components count as zero: 11.0 == 11.0.0.
        let n = self.0.len().max(other.0.len());
        (0..n)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        // pad, not write_str: tables align versions with `{:<6}`.
        f.pad(&parts.join("."))
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s).ok_or_else(|| format!("`{s}` is not a dotted version"))
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Splits a symbol-version name such as `GLIBC_2.28` or `GLIBCXX_3.4.30` into its namespace and
/// version; a name without a numeric version (`GLIBC_PRIVATE`) gives `None`, and `CXXABI_TM_1` is
/// namespace `CXXABI_TM`, version 1.
pub fn split_symbol_version(name: &str) -> Option<(&str, Version)> {
    let (ns, v) = name.rsplit_once('_')?;
    Some((ns, Version::parse(v)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numerically() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(v("2.2.5") < v("2.26"));
        assert!(v("2.9") < v("2.10"));
        assert!(v("3.4.24") < v("3.4.30"));
        assert_eq!(v("11.0"), v("11.0.0"));
        assert!(Version::parse("PRIVATE").is_none());
    }

    #[test]
    fn splits_names() {
        assert_eq!(split_symbol_version("GLIBC_2.28").unwrap().0, "GLIBC");
        assert_eq!(split_symbol_version("GLIBCXX_3.4.30").unwrap().1.to_string(), "3.4.30");
        assert!(split_symbol_version("GLIBC_PRIVATE").is_none());
        assert_eq!(split_symbol_version("CXXABI_TM_1").unwrap().0, "CXXABI_TM");
        assert!(split_symbol_version("GLIBC_ABI_DT_RELR").is_none());
    }
}
