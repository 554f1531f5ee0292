//! Reinstalls Python distributions for the target with pip, without Docker: only wheels, for
//! the runtime's Python version, ABI and the manylinux tags its glibc and CPU accept.
//!
//! Every distribution of a fix is installed by one pip invocation (pip resolves and downloads
//! them together), whatever directory of the package it goes to: the installed `.dist-info`s are
//! sorted back to their directories afterwards. Only when one name is installed at two versions
//! (in two directories) does a second invocation run, since one `--target` holds one version of a
//! name. A distribution pip finds nothing to install for is dropped and reported, and pip runs
//! again for the others: one unavailable wheel does not block the rest.

use std::path::Path;
use std::process::Command;

use super::plan::PythonRebuild;
use super::process;
use crate::commands::PipInstall;
use crate::error::Error;
use crate::target::Target;

/// The pip invocation for `rebuilds` into `dest`, as arguments after `python3 -m pip`.
pub fn pip_args(
    target: &Target,
    rebuilds: &[&PythonRebuild],
    dest: &Path,
    ca_bundle: Option<&Path>,
) -> Result<Vec<String>, Error> {
    let mut specs: Vec<String> = rebuilds.iter().map(|r| r.spec()).collect();
    specs.dedup();
    let mut pip = PipInstall::for_target(target, specs, &dest.display().to_string())
        .ok_or_else(|| Error::Fix("Python packages need a Python runtime: pass --runtime python3.X".into()))?;
    pip.cert = ca_bundle.map(Path::to_path_buf);
    let mut args = pip.args();
    args.insert(1, "--disable-pip-version-check".into());
    Ok(args)
}

/// A distribution that could not be installed, and why (a lowercase fragment).
#[derive(Debug, Clone)]
pub struct Dropped {
    pub rebuild: PythonRebuild,
    pub why: String,
}

/// Installs `rebuilds` into `dest` with one pip invocation, dropping what pip finds no wheel for.
pub fn install(
    python: &str,
    target: &Target,
    rebuilds: &[&PythonRebuild],
    dest: &Path,
    ca_bundle: Option<&Path>,
    quiet: bool,
) -> Result<Vec<Dropped>, Error> {
    let attempt = |left: &[&PythonRebuild]| -> Result<process::Ran, Error> {
        let mut cmd = Command::new(python);
        cmd.args(["-m", "pip"]).args(pip_args(target, left, dest, ca_bundle)?);
        cmd.env("PIP_NO_INPUT", "1");
        process::run(cmd, "pip", quiet)
    };
    let why = |spec: &str| {
        format!(
            "no wheel of `{spec}` exists for {} (CPython {})",
            crate::hint::platform_words(target),
            target.python_version().map(|(a, b)| format!("{a}.{b}")).unwrap_or_default()
        )
    };
    install_dropping(rebuilds, attempt, why, |ran, left| Error::Fix(explain_pip_failure(ran, left, target)))
}

/// Runs `attempt` until it succeeds, each time without the distributions pip said it has nothing
/// to install for (`No matching distribution found for numpy==2.4.6`) or could not build; any
/// other failure is an error. Returns what was dropped, with `why(spec)`.
pub fn install_dropping(
    rebuilds: &[&PythonRebuild],
    mut attempt: impl FnMut(&[&PythonRebuild]) -> Result<process::Ran, Error>,
    why: impl Fn(&str) -> String,
    fail: impl Fn(&process::Ran, &[&PythonRebuild]) -> Error,
) -> Result<Vec<Dropped>, Error> {
    let mut left: Vec<&PythonRebuild> = rebuilds.to_vec();
    let mut dropped = Vec::new();
    while !left.is_empty() {
        let ran = attempt(&left)?;
        if ran.success {
            break;
        }
        let unavailable = unavailable(&ran);
        let gone: Vec<&PythonRebuild> =
            left.iter().copied().filter(|r| unavailable.iter().any(|(name, _)| same_name(name, &r.name))).collect();
        if gone.is_empty() {
            return Err(fail(&ran, &left));
        }
        for r in gone {
            let reason = unavailable
                .iter()
                .find(|(name, _)| same_name(name, &r.name))
                .and_then(|(_, why)| why.clone())
                .unwrap_or_else(|| why(&r.spec()));
            dropped.push(Dropped { rebuild: r.clone(), why: reason });
        }
        left.retain(|r| !unavailable.iter().any(|(name, _)| same_name(name, &r.name)));
    }
    Ok(dropped)
}

/// The distributions pip's output says it could not install: `(name, reason)`, the reason when
/// it is other than "no matching distribution" (a failed build from source).
fn unavailable(ran: &process::Ran) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    // pip says "no matching distribution" too when it could not ask the index at all.
    if ran.lines.iter().any(|l| index_unreachable(l)) {
        return out;
    }
    for line in &ran.lines {
        if let Some(spec) = line.split("No matching distribution found for ").nth(1) {
            out.push((base_name(spec.trim()), None));
        } else if let Some(rest) = line.split("Could not build wheels for ").nth(1) {
            for name in rest.split(", which").next().unwrap_or("").split(',') {
                let name = name.trim().trim_start_matches("and ").trim();
                if !name.is_empty() {
                    out.push((
                        name.to_string(),
                        Some(format!("building `{name}` from source failed in the build image (see pip's output)")),
                    ));
                }
            }
        } else if let Some(rest) = line.split("Failed building wheel for ").nth(1) {
            let name = rest.trim().to_string();
            out.push((name.clone(), Some(format!("building `{name}` from source failed in the build image"))));
        }
    }
    out
}

/// `numpy==2.4.6` -> `numpy`
fn base_name(spec: &str) -> String {
    spec.split(['<', '>', '=', '!', '~', ' ', '[', ';']).next().unwrap_or("").to_string()
}

/// Distribution names compare case-insensitively with `-`, `_` and `.` as one (PEP 503).
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    norm(a) == norm(b)
}

/// Turns pip's output into the one sentence a user needs, plus its tail.
pub fn explain_pip_failure(ran: &process::Ran, rebuilds: &[&PythonRebuild], target: &Target) -> String {
    let text = ran.text();
    let head = if text.contains("No module named pip") {
        "pip is not installed for this Python (install python3-pip)".to_string()
    } else if text.contains("CERTIFICATE_VERIFY_FAILED") {
        "pip cannot verify the package index's TLS certificate: pass --ca-bundle FILE (or set SSL_CERT_FILE / PIP_CERT) with your proxy's CA bundle".to_string()
    } else if index_unreachable(&text) {
        "pip cannot reach the package index (no network?)".to_string()
    } else if let Some(line) = text.lines().find(|l| l.contains("No matching distribution found for")) {
        let spec = line.rsplit("found for ").next().unwrap_or("").trim();
        format!(
            "no wheel of `{spec}` exists for {} (CPython {}): it needs a source build; use --via docker",
            crate::hint::platform_words(target),
            target.python_version().map(|(a, b)| format!("{a}.{b}")).unwrap_or_default()
        )
    } else {
        let specs: Vec<String> = rebuilds.iter().map(|r| r.spec()).collect();
        format!("pip failed to install {}", specs.join(" "))
    };
    format!("{head}\n{}", ran.tail(15))
}

/// Whether pip's output says it could not ask the package index.
fn index_unreachable(text: &str) -> bool {
    [
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection refused",
        "Network is unreachable",
        "CERTIFICATE_VERIFY_FAILED",
        "Read timed out",
    ]
    .iter()
    .any(|s| text.contains(s))
}

/// Splits rebuilds into pip invocations: one, unless a name is wanted at two versions (one
/// `--target` directory holds one version of a name). The same name and version wanted in two
/// directories is installed once.
pub fn invocations<'a>(rebuilds: &[&'a PythonRebuild]) -> Vec<Vec<&'a PythonRebuild>> {
    let mut rounds: Vec<Vec<&'a PythonRebuild>> = Vec::new();
    for r in rebuilds {
        let fits =
            |round: &Vec<&PythonRebuild>| round.iter().all(|x| !same_name(&x.name, &r.name) || x.version == r.version);
        match rounds.iter_mut().find(|round| fits(round)) {
            Some(round) => round.push(r),
            None => rounds.push(vec![r]),
        }
    }
    rounds
}

/// The `.dist-info` directory pip installed for `name` in `site` (`numpy-2.2.6.dist-info`).
pub fn installed_dist_info(site: &Path, name: &str) -> Option<String> {
    let mut found: Vec<String> = std::fs::read_dir(site)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| {
            n.strip_suffix(".dist-info")
                .and_then(|stem| stem.rsplit_once('-'))
                .is_some_and(|(dist, _)| same_name(dist, name))
        })
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuild(name: &str, version: &str, site: &str) -> PythonRebuild {
        PythonRebuild {
            name: name.into(),
            version: version.into(),
            replaces_version: None,
            dist_info: format!("{site}/{name}-{version}.dist-info"),
            site_dir: site.into(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn one_invocation_unless_a_name_has_two_versions() {
        let (a, b, a2, a1) =
            (rebuild("a", "1", ""), rebuild("b", "1", "python"), rebuild("A", "2", "python"), rebuild("a", "1", "x"));
        assert_eq!(invocations(&[&a, &b, &a1]).len(), 1);
        let rounds = invocations(&[&a, &b, &a2]);
        assert_eq!(rounds.len(), 2);
        assert_eq!(rounds[1][0].version, "2");
    }

    #[test]
    fn drops_what_pip_cannot_install_and_runs_again() {
        let (a, b) = (rebuild("numpy", "2.4.6", ""), rebuild("orjson", "3.13.0", ""));
        let mut runs = Vec::new();
        let dropped = install_dropping(
            &[&a, &b],
            |left| {
                runs.push(left.iter().map(|r| r.spec()).collect::<Vec<_>>().join(" "));
                let lines = if left.len() == 2 {
                    vec!["ERROR: No matching distribution found for numpy==2.4.6".to_string()]
                } else {
                    Vec::new()
                };
                Ok(process::Ran { success: left.len() == 1, code: Some(1), lines })
            },
            |spec| format!("no wheel of `{spec}`"),
            |_, _| Error::Fix("unexpected".into()),
        )
        .unwrap();
        assert_eq!(runs, ["numpy==2.4.6 orjson==3.13.0", "orjson==3.13.0"]);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].why, "no wheel of `numpy==2.4.6`");
    }

    #[test]
    fn names_of_failed_builds() {
        let ran = process::Ran {
            success: false,
            code: Some(1),
            lines: vec![
                "ERROR: Could not build wheels for pyodbc, which is required to install pyproject.toml-based projects"
                    .into(),
            ],
        };
        assert_eq!(unavailable(&ran)[0].0, "pyodbc");
    }
}
