//! Rebuilds inside the AWS SAM build image of the runtime, as the invoking user so the output is
//! theirs: Python distributions with the well-known recipe (`docker run ... pip install -t`,
//! sdists built from source), Node addons with `npm rebuild` (node-gyp, from their sources).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::pip::{Dropped, install_dropping};
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
    /// `docker run` options shared by every build: the target's platform, the invoking user (the
    /// owner of `owner_of`), a writable HOME, `mount` at `/out` (and the working directory), and
    /// the CA bundle for pip and npm.
    fn run_args(&self, mount: &Path, owner_of: &Path) -> Result<Vec<String>, Error> {
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
            format!("{}:/out", mount.display()),
            "-w".into(),
            "/out".into(),
        ];
        if let Some(ca) = &self.ca_bundle {
            let ca = std::fs::canonicalize(ca).map_err(|e| Error::io(ca, e))?;
            args.extend(["-v".into(), format!("{}:{CA_IN_CONTAINER}:ro", ca.display())]);
            for var in ["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
                args.extend(["-e".into(), format!("{var}={CA_IN_CONTAINER}")]);
            }
        }
        Ok(args)
    }

    /// The `docker run` arguments that install `rebuilds` into `/out/site`, with `/out` mounted
    /// from `out` and the container running as the owner of `owner_of` (the invoking user). pip
    /// prefers wheels and builds the others from source (sdists), with the image's compilers.
    pub fn args(&self, rebuilds: &[&PythonRebuild], out: &Path, owner_of: &Path) -> Result<Vec<String>, Error> {
        let mut args = self.run_args(out, owner_of)?;
        args.push(self.image.to_string());
        args.extend(
            ["pip", "install", "--no-deps", "--no-compile", "--prefer-binary", "--target", "/out/site"]
                .map(String::from),
        );
        let mut specs: Vec<String> = rebuilds.iter().map(|r| r.spec()).collect();
        specs.dedup();
        args.extend(specs);
        Ok(args)
    }

    /// Installs `rebuilds` into `out/site` in one container, dropping (and reporting) those pip
    /// finds nothing to install for or fails to build.
    pub fn install(&self, rebuilds: &[&PythonRebuild], out: &Path) -> Result<(PathBuf, Vec<Dropped>), Error> {
        engine_status(self.docker)?;
        let attempt = |left: &[&PythonRebuild]| -> Result<process::Ran, Error> {
            let mut cmd = Command::new(self.docker);
            cmd.args(self.args(left, out, out)?);
            let ran = process::run(cmd, "docker", self.quiet)?;
            if !ran.success {
                // A failure of Docker itself is never a distribution to drop.
                self.docker_failure(&ran)?;
            }
            Ok(ran)
        };
        let why = |spec: &str| format!("pip finds no distribution of `{spec}` to install in `{}`", self.image);
        let fail = |ran: &process::Ran, left: &[&PythonRebuild]| {
            let head = super::pip::explain_pip_failure(ran, left, self.target);
            Error::Fix(format!("the build in `{}` failed: {head}", self.image))
        };
        let dropped = install_dropping(rebuilds, attempt, why, fail)?;
        Ok((out.join("site"), dropped))
    }

    /// The `docker run` arguments that compile the addons of `names` again with `npm rebuild`
    /// (node-gyp, from their sources) in the npm project mounted from `project`.
    pub fn npm_rebuild_args(&self, names: &[&str], project: &Path, owner_of: &Path) -> Result<Vec<String>, Error> {
        let mut args = self.run_args(project, owner_of)?;
        // Prebuilt downloads (prebuild-install, node-pre-gyp) step aside for node-gyp.
        args.extend(["-e".into(), "npm_config_build_from_source=true".into()]);
        args.push(self.image.to_string());
        args.extend(["npm", "rebuild", "--build-from-source", "--foreground-scripts"].map(String::from));
        args.extend(names.iter().map(|n| n.to_string()));
        Ok(args)
    }

    /// Runs `npm rebuild` for `names` in the npm project at `project` (its `node_modules` there).
    pub fn npm_rebuild(&self, names: &[&str], project: &Path) -> Result<(), Error> {
        engine_status(self.docker)?;
        let mut cmd = Command::new(self.docker);
        cmd.args(self.npm_rebuild_args(names, project, project)?);
        let ran = process::run(cmd, "docker", self.quiet)?;
        if ran.success {
            return Ok(());
        }
        self.docker_failure(&ran)?;
        let text = ran.text();
        let head = if text.contains("gyp ERR!") && (text.contains("not found: make") || text.contains("`make` failed"))
        {
            "node-gyp cannot compile in this image (it needs python3, make and a C++ compiler)".to_string()
        } else if text.contains("gyp ERR!") {
            "node-gyp failed to compile the addon".to_string()
        } else if text.contains("ENOTFOUND") || text.contains("ETIMEDOUT") || text.contains("EAI_AGAIN") {
            "the build could not reach the network (node-gyp downloads Node.js headers unless npm_config_nodedir names them)".to_string()
        } else {
            "npm rebuild failed".to_string()
        };
        Err(Error::Fix(format!(
            "the rebuild of {} in `{}` failed: {head}\n{}",
            names.join(", "),
            self.image,
            ran.tail(15)
        )))
    }

    /// An error when the run failed because of Docker (no image, no daemon), not of the build.
    fn docker_failure(&self, ran: &process::Ran) -> Result<(), Error> {
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
            return Ok(());
        };
        Err(Error::Fix(format!("{reason}\n{}", ran.tail(8))))
    }
}
