//! `elfcheck.toml`: the target, severity overrides, and ignores (each with its reason).
//!
//! ```toml
//! runtime = "python3.12"
//! arch = "arm64"
//! fail-on = "error"
//!
//! [severity]
//! missing-library = "warning"
//!
//! [[ignore]]
//! code = "missing-library"
//! path = "vendor/**/libcuda.so.*"
//! reason = "only loaded on the GPU build, never on Lambda"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::error::Error;
use crate::rules::{Code, Finding, Severity};
use crate::target::Arch;

pub const FILE_NAME: &str = "elfcheck.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    runtime: Option<String>,
    arch: Option<String>,
    fail_on: Option<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    code: Option<String>,
    path: Option<String>,
    reason: Option<String>,
}

/// A finding the user has decided to accept, and why.
#[derive(Debug, Clone)]
pub struct Ignore {
    pub code: Option<Code>,
    pub path: Option<GlobMatcher>,
    pub reason: String,
}

/// What a config file says, validated.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from, for messages.
    pub source: Option<PathBuf>,
    pub runtime: Option<String>,
    pub arch: Option<Arch>,
    pub fail_on: Option<Severity>,
    pub policy: Policy,
}

/// Severity overrides and ignores, applied to every finding.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub severity: BTreeMap<Code, Severity>,
    pub ignores: Vec<Ignore>,
}

impl Policy {
    /// Applies overrides, then drops ignored findings; returns how many were ignored.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        for f in findings.iter_mut() {
            if let Some(s) = self.severity.get(&f.code) {
                f.severity = *s;
            }
        }
        let before = findings.len();
        findings.retain(|f| !self.ignores.iter().any(|i| i.matches(f)));
        before - findings.len()
    }
}

impl Ignore {
    fn matches(&self, f: &Finding) -> bool {
        self.code.is_none_or(|c| c == f.code) && self.path.as_ref().is_none_or(|g| g.is_match(&f.path))
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let bad = |cause: String| Error::Input { path: path.to_path_buf(), cause };
        let raw: RawConfig = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        let arch = raw.arch.map(|a| a.parse::<Arch>()).transpose().map_err(bad)?;
        let fail_on = raw.fail_on.map(|s| s.parse::<Severity>()).transpose().map_err(bad)?;
        let mut severity = BTreeMap::new();
        for (code, level) in raw.severity {
            severity.insert(code.parse::<Code>().map_err(bad)?, level.parse::<Severity>().map_err(bad)?);
        }
        let mut ignores = Vec::new();
        for (n, i) in raw.ignore.into_iter().enumerate() {
            let reason = i
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| bad(format!("ignore #{}: every ignore needs a `reason`", n + 1)))?;
            if i.code.is_none() && i.path.is_none() {
                return Err(bad(format!("ignore #{}: give a `code`, a `path`, or both", n + 1)));
            }
            let code = i.code.map(|c| c.parse::<Code>()).transpose().map_err(bad)?;
            let path = i
                .path
                .map(|p| Glob::new(&p).map(|g| g.compile_matcher()))
                .transpose()
                .map_err(|e| bad(format!("ignore #{}: {e}", n + 1)))?;
            ignores.push(Ignore { code, path, reason });
        }
        Ok(Config {
            source: Some(path.to_path_buf()),
            runtime: raw.runtime,
            arch,
            fail_on,
            policy: Policy { severity, ignores },
        })
    }

    /// The config that applies to an input: `elfcheck.toml` beside it or in a parent directory.
    pub fn discover(input: &Path) -> Result<Option<Config>, Error> {
        let start = std::fs::canonicalize(input).unwrap_or_else(|_| input.to_path_buf());
        let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            if d.join(".git").exists() {
                break; // the repository's root: look no higher
            }
            dir = d.parent();
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new("elfcheck.toml"))
    }

    #[test]
    fn full_config() {
        let c = parse(
            r#"
runtime = "python3.12"
arch = "aarch64"
fail-on = "warning"
[severity]
missing-library = "warning"
[[ignore]]
code = "unused-platform-binary"
path = "node_modules/**"
reason = "npm installs every platform"
"#,
        )
        .unwrap();
        assert_eq!(c.runtime.as_deref(), Some("python3.12"));
        assert_eq!(c.arch, Some(Arch::Arm64));
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.policy.severity[&Code::MissingLibrary], Severity::Warning);
        let mut findings = vec![
            Finding::new(Code::UnusedPlatformBinary, Severity::Info, "node_modules/a/b.node", "x"),
            Finding::new(Code::MissingLibrary, Severity::Error, "lib/x.so", "y"),
        ];
        assert_eq!(c.policy.apply(&mut findings), 1);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Warning);
    }

    #[test]
    fn ignore_without_reason_is_refused() {
        let err = parse("[[ignore]]\ncode = \"macho-binary\"\n").unwrap_err().to_string();
        assert!(err.contains("needs a `reason`"), "{err}");
    }

    #[test]
    fn unknown_codes_and_keys_are_refused() {
        assert!(
            parse("[severity]\nno-such-code = \"info\"\n").unwrap_err().to_string().contains("unknown finding code")
        );
        assert!(parse("runtim = \"python3.12\"\n").is_err());
    }
}
