//! Reinstalls Python distributions for the target with pip, without Docker: only wheels, for
//! the runtime's Python version, ABI and the manylinux tags its glibc and CPU accept.

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
    let specs = rebuilds.iter().map(|r| r.spec()).collect();
    let mut pip = PipInstall::for_target(target, specs, &dest.display().to_string())
        .ok_or_else(|| Error::Fix("Python packages need a Python runtime: pass --runtime python3.X".into()))?;
    pip.cert = ca_bundle.map(Path::to_path_buf);
    let mut args = pip.args();
    args.insert(1, "--disable-pip-version-check".into());
    Ok(args)
}

pub fn install(
    python: &str,
    target: &Target,
    rebuilds: &[&PythonRebuild],
    dest: &Path,
    ca_bundle: Option<&Path>,
    quiet: bool,
) -> Result<(), Error> {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pip"]).args(pip_args(target, rebuilds, dest, ca_bundle)?);
    cmd.env("PIP_NO_INPUT", "1");
    let ran = process::run(cmd, "pip", quiet)?;
    if ran.success {
        return Ok(());
    }
    Err(Error::Fix(explain_pip_failure(&ran, rebuilds, target)))
}

/// Turns pip's output into the one sentence a user needs, plus its tail.
pub fn explain_pip_failure(ran: &process::Ran, rebuilds: &[&PythonRebuild], target: &Target) -> String {
    let text = ran.text();
    let head = if text.contains("No module named pip") {
        "pip is not installed for this Python (install python3-pip)".to_string()
    } else if text.contains("CERTIFICATE_VERIFY_FAILED") {
        "pip cannot verify the package index's TLS certificate: pass --ca-bundle FILE (or set SSL_CERT_FILE / PIP_CERT) with your proxy's CA bundle".to_string()
    } else if [
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection refused",
        "Network is unreachable",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
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
