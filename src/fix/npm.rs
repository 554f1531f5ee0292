//! Installs npm platform packages for the target (`npm install --os=linux --cpu=x64
//! --libc=glibc`): prebuilt binaries, so no Docker is needed.

use std::path::Path;
use std::process::Command;

use super::plan::NodeInstall;
use super::process;
use crate::commands::NpmInstall;
use crate::error::Error;
use crate::target::Target;

pub fn npm_args(target: &Target, installs: &[&NodeInstall], prefix: &Path) -> Vec<String> {
    let mut npm = NpmInstall::for_target(target, installs.iter().map(|i| i.spec()).collect());
    npm.prefix = Some(prefix.to_path_buf());
    npm.isolated = true;
    npm.args()
}

/// Installs into `prefix/node_modules`.
pub fn install(target: &Target, installs: &[&NodeInstall], prefix: &Path, quiet: bool) -> Result<(), Error> {
    let mut cmd = Command::new("npm");
    cmd.args(npm_args(target, installs, prefix));
    let ran = process::run(cmd, "npm", quiet)?;
    if ran.success {
        return Ok(());
    }
    let text = ran.text();
    let head = if text.contains("ENOTFOUND") || text.contains("ECONNREFUSED") || text.contains("ETIMEDOUT") {
        "npm cannot reach the registry (no network?)".to_string()
    } else if text.contains("SELF_SIGNED_CERT") || text.contains("UNABLE_TO_GET_ISSUER_CERT") {
        "npm cannot verify the registry's TLS certificate: set NODE_EXTRA_CA_CERTS to your proxy's CA bundle"
            .to_string()
    } else if text.contains("E404") || text.contains("ETARGET") {
        "npm has no such package or version for the target".to_string()
    } else {
        "npm install failed".to_string()
    };
    Err(Error::Fix(format!("{head}\n{}", ran.tail(12))))
}
