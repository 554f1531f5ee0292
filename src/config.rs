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
use toml::Spanned;

use crate::error::Error;
use crate::rules::{Code, Finding, Severity};
use crate::target::Arch;

pub const FILE_NAME: &str = "elfcheck.toml";
/// Python projects may keep the same settings in `[tool.elfcheck]` of this file.
pub const PYPROJECT: &str = "pyproject.toml";

/// An error at the line and column of `span` in a settings file.
fn place(text: &str, path: &Path, span: Option<std::ops::Range<usize>>, message: String) -> Error {
    let offset = span.map_or(0, |s| s.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Error::Config { path: path.to_path_buf(), line, column, message }
}

/// The file as written, every value with where it stands, so errors can point at it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    runtime: Option<Spanned<String>>,
    arch: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    code: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
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
    /// Reads a settings file: `elfcheck.toml`, or the `[tool.elfcheck]` table of a
    /// `pyproject.toml`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if path.file_name().is_some_and(|n| n == PYPROJECT) {
            return Config::parse_pyproject(&text, path).map(|c| c.unwrap_or_default());
        }
        Config::parse(&text, path)
    }

    /// The `[tool.elfcheck]` table of a `pyproject.toml`, when it has one.
    pub fn parse_pyproject(text: &str, path: &Path) -> Result<Option<Config>, Error> {
        #[derive(Deserialize)]
        struct Pyproject {
            tool: Option<Tool>,
        }
        #[derive(Deserialize)]
        struct Tool {
            elfcheck: Option<RawConfig>,
        }
        let doc: Pyproject = toml::from_str(text).map_err(|e| place(text, path, e.span(), e.message().to_string()))?;
        match doc.tool.and_then(|t| t.elfcheck) {
            Some(raw) => Config::validate(raw, text, path).map(Some),
            None => Ok(None),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| place(text, path, e.span(), e.message().to_string()))?;
        Config::validate(raw, text, path)
    }

    fn validate(raw: RawConfig, text: &str, path: &Path) -> Result<Config, Error> {
        let at = |span: Option<std::ops::Range<usize>>, message: String| place(text, path, span, message);
        let runtime = match &raw.runtime {
            Some(r) if crate::target::table().runtime(r.get_ref()).is_none() => {
                let known = crate::target::table().ids().join(", ");
                return Err(at(Some(r.span()), format!("unknown runtime `{}`; known runtimes: {known}", r.get_ref())));
            }
            r => r.as_ref().map(|r| r.get_ref().clone()),
        };
        let arch = match &raw.arch {
            Some(a) => Some(a.get_ref().parse::<Arch>().map_err(|e| at(Some(a.span()), e))?),
            None => None,
        };
        let fail_on = match &raw.fail_on {
            Some(f) => Some(f.get_ref().parse::<Severity>().map_err(|e| at(Some(f.span()), e))?),
            None => None,
        };
        let mut severity = BTreeMap::new();
        for (code, level) in &raw.severity {
            let c = code.get_ref().parse::<Code>().map_err(|e| at(Some(code.span()), e))?;
            let l = level.get_ref().parse::<Severity>().map_err(|e| at(Some(level.span()), e))?;
            severity.insert(c, l);
        }
        let mut ignores = Vec::new();
        for (n, spanned) in raw.ignore.iter().enumerate() {
            let i = spanned.get_ref();
            let here = Some(spanned.span());
            let reason = i
                .reason
                .clone()
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| at(here.clone(), format!("ignore #{}: every ignore needs a `reason`", n + 1)))?;
            if i.code.is_none() && i.path.is_none() {
                return Err(at(here, format!("ignore #{}: give a `code`, a `path`, or both", n + 1)));
            }
            let code = match &i.code {
                Some(c) => Some(c.get_ref().parse::<Code>().map_err(|e| at(Some(c.span()), e))?),
                None => None,
            };
            let glob = match &i.path {
                Some(p) => Some(
                    Glob::new(p.get_ref())
                        .map(|g| g.compile_matcher())
                        .map_err(|e| at(Some(p.span()), format!("ignore #{}: {e}", n + 1)))?,
                ),
                None => None,
            };
            ignores.push(Ignore { code, path: glob, reason });
        }
        Ok(Config { source: Some(path.to_path_buf()), runtime, arch, fail_on, policy: Policy { severity, ignores } })
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
            let pyproject = d.join(PYPROJECT);
            if pyproject.is_file() {
                let text = std::fs::read_to_string(&pyproject).map_err(|e| Error::io(&pyproject, e))?;
                if let Some(config) = Config::parse_pyproject(&text, &pyproject)? {
                    return Ok(Some(config));
                }
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
    fn pyproject_tool_table_is_a_settings_location() {
        let text = "[project]\nname = \"fn\"\n\n[tool.elfcheck]\nruntime = \"python3.12\"\narch = \"sparc\"\n";
        let err = Config::parse_pyproject(text, Path::new("pyproject.toml")).unwrap_err().to_string();
        assert!(err.starts_with("pyproject.toml:6:8:"), "errors point into the pyproject: {err}");
        let ok = Config::parse_pyproject("[tool.elfcheck]\nruntime = \"python3.12\"\n", Path::new("pyproject.toml"));
        assert_eq!(ok.unwrap().unwrap().runtime.as_deref(), Some("python3.12"));
        assert!(Config::parse_pyproject("[project]\nname = \"x\"\n", Path::new("pyproject.toml")).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = parse("arch = \"x86_64\"\n[severity]\nno-such-code = \"info\"\n").unwrap_err().to_string();
        assert!(err.starts_with("elfcheck.toml:3:1: unknown finding code `no-such-code`"), "{err}");
        let err = parse("\nruntime = \"python2.7\"\n").unwrap_err().to_string();
        assert!(err.starts_with("elfcheck.toml:2:11: unknown runtime `python2.7`"), "{err}");
        let err = parse("[[ignore]]\ncode = \"macho-binary\"\n").unwrap_err().to_string();
        assert!(err.starts_with("elfcheck.toml:1:1: ignore #1"), "{err}");
        let err = parse("fail-on = \"loud\"\n").unwrap_err().to_string();
        assert!(err.starts_with("elfcheck.toml:1:11:"), "{err}");
    }

    #[test]
    fn unknown_codes_and_keys_are_refused() {
        assert!(
            parse("[severity]\nno-such-code = \"info\"\n").unwrap_err().to_string().contains("unknown finding code")
        );
        assert!(parse("runtim = \"python3.12\"\n").is_err());
    }
}
