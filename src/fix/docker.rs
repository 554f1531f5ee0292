//! Rebuilds Python distributions inside the AWS SAM build image of the runtime, the well-known
//! recipe (`docker run ... pip install -t`), as the invoking user so the output is theirs.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::plan::PythonRebuild;
use super::process;
use crate::error::Error;
use crate::target::Target;

const CA_IN_CONTAINER: &str = "/etc/elfcheck/ca-bundle.pem";

/// The SAM build image of the target: `public.ecr.aws/sam/build-python3.12:latest-x86_64`.
pub fn default_image(target: &Target) -> Result<String, Error> {
    crate::hint::build_image(target)
        .ok_or_else(|| Error::Fix("no build image without a runtime: pass --runtime".into()))
}

/// Whether a Docker engine answers, and if not, why.
pub fn engine_status(docker: &str) -> Result<(), Error> {
    let out = Command::new(docker).args(["info", "--format", "{{.ServerVersion}}"]).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Fix(format!(
                "Docker is not installed (`{docker}` not found on PATH); use --via pip to fix without Docker"
            ))
        } else {
            Error::Fix(format!("cannot run `{docker}`: {e}"))
        }
    })?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() && !text.contains("Cannot connect") && !text.trim().is_empty() {
        return Ok(());
    }
    let reason =
        text.lines().map(|l| l.trim_start_matches("ERROR: ").trim()).find(|l| !l.is_empty()).unwrap_or("no answer");
    Err(Error::Fix(format!("the Docker daemon does not answer: {reason} (start it, or use --via pip)")))
}

pub struct DockerBuild<'a> {
    pub docker: &'a str,
    pub image: &'a str,
    pub target: &'a Target,
    pub ca_bundle: Option<PathBuf>,
    pub quiet: bool,
}

/// `uid:gid` of the file's owner, for `--user`.
#[cfg(unix)]
fn user_of(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{}:{}", meta.uid(), meta.gid())
}

/// Windows has no uid: the image's own user (root in the SAM images); Docker Desktop gives the
/// files written to the mounted folder to the Windows user.
#[cfg(not(unix))]
fn user_of(_meta: &std::fs::Metadata) -> String {
    "0:0".into()
}

impl DockerBuild<'_> {
    /// The `docker run` arguments that install `rebuilds` into `/out/site`, with `/out` mounted
    /// from `out` and the container running as the owner of `owner_of` (the invoking user).
    pub fn args(&self, rebuilds: &[&PythonRebuild], out: &Path, owner_of: &Path) -> Result<Vec<String>, Error> {
        let meta = std::fs::metadata(owner_of).map_err(|e| Error::io(owner_of, e))?;
        let mut args: Vec<String> = vec![
            "run".into(),
            "--rm".into(),
            "--platform".into(),
            self.target.arch.docker_platform().into(),
            "--user".into(),
            user_of(&meta),
            "-e".into(),
            "HOME=/tmp".into(),
            "-e".into(),
            "PIP_DISABLE_PIP_VERSION_CHECK=1".into(),
            "-v".into(),
            format!("{}:/out", out.display()),
        ];
        if let Some(ca) = &self.ca_bundle {
            let ca = std::fs::canonicalize(ca).map_err(|e| Error::io(ca, e))?;
            args.extend(["-v".into(), format!("{}:{CA_IN_CONTAINER}:ro", ca.display())]);
            for var in ["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"] {
                args.extend(["-e".into(), format!("{var}={CA_IN_CONTAINER}")]);
            }
        }
        args.push(self.image.to_string());
        args.extend(
            ["pip", "install", "--no-deps", "--no-compile", "--prefer-binary", "--target", "/out/site"]
                .map(String::from),
        );
        args.extend(rebuilds.iter().map(|r| r.spec()));
        Ok(args)
    }

    pub fn install(&self, rebuilds: &[&PythonRebuild], out: &Path) -> Result<PathBuf, Error> {
        engine_status(self.docker)?;
        let mut cmd = Command::new(self.docker);
        cmd.args(self.args(rebuilds, out, out)?);
        let ran = process::run(cmd, "docker", self.quiet)?;
        if ran.success {
            return Ok(out.join("site"));
        }
        let text = ran.text();
        let reason = if ran.code == Some(125)
            && (text.contains("Unable to find image")
                || text.contains("No such image")
                || text.contains("pull access denied"))
        {
            let daemon = text.lines().find(|l| l.contains("Error response from daemon")).unwrap_or("").trim();
            format!(
                "image `{}` is not available here and cannot be pulled ({}); pull it where a registry is reachable, or pass --image with a local image, or use --via pip",
                self.image,
                daemon.trim_start_matches("docker: ")
            )
        } else if text.contains("Cannot connect to the Docker daemon") {
            "the Docker daemon does not answer (start it, or use --via pip)".to_string()
        } else {
            let head = super::pip::explain_pip_failure(&ran, rebuilds, self.target);
            return Err(Error::Fix(format!("the build in `{}` failed: {head}", self.image)));
        };
        Err(Error::Fix(format!("{reason}\n{}", ran.tail(8))))
    }
}
