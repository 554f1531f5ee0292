//! Command-line definitions (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use elfcheck::fix::Via;
use elfcheck::report::Format;
use elfcheck::{Arch, Severity};

/// Finds the native code in an AWS Lambda package that the runtime cannot load: macOS and
/// Windows binaries, the wrong CPU, a too-new glibc or libstdc++, musl, missing libraries, the
/// wrong Python or Node.js ABI, a `bootstrap` that is not executable.
#[derive(Debug, Parser)]
#[command(
    name = "elfcheck",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage, input or internal error.\n\
                  Examples:\n  elfcheck function.zip --runtime python3.12\n  elfcheck .aws-sam/build            (every function of a SAM, CDK or Serverless build)\n  elfcheck layer.zip --runtime nodejs20.x --arch arm64 --format json\n  elfcheck explain glibc-too-new"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check packages (the default command: `elfcheck PATH` is `elfcheck check PATH`).
    Check(CheckArgs),
    /// Rebuild the dependencies that own broken binaries, for the target, into a new package.
    Fix(FixArgs),
    /// List the Lambda runtimes elfcheck knows (OS, glibc, language ABI), or what one provides.
    Runtimes(RuntimesArgs),
    /// Print the documentation of a finding code: what it means, why it breaks, how to fix it.
    Explain {
        /// A finding code such as `glibc-too-new`; without one, list every code.
        code: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show the settings that apply to a package and where each comes from: the target
    /// (command line, elfcheck.toml, pyproject.toml, a template, or inferred), severities, ignores.
    Config(ConfigShowArgs),
    /// Print the manual page (roff) to stdout: `elfcheck man > elfcheck.1`.
    Man,
    /// Print the JSON Schema of the `--format json` report to stdout.
    Schema,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The function's runtime (e.g. python3.12, nodejs20.x, provided.al2023); inferred from the
    /// package when omitted. `elfcheck runtimes` lists them.
    #[arg(long, short = 'r', value_name = "ID")]
    pub runtime: Option<String>,

    /// The function's architecture: x86_64 (default) or arm64; amd64 and aarch64 are accepted.
    #[arg(long, short = 'a', value_name = "ARCH")]
    pub arch: Option<Arch>,

    /// A layer attached to the function (zip or directory; repeatable): its files are under
    /// /opt for the loader and its size counts. Check the layer itself as its own PATH.
    #[arg(long, value_name = "LAYER")]
    pub layer: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Deployment packages, layers or wheels (.zip, .whl) or directories to check.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Exit with 1 when a finding at or above this severity is reported [default: error].
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Exit with 0 even when findings are reported (2 still means elfcheck could not check).
    #[arg(long)]
    pub exit_zero: bool,

    #[command(flatten)]
    pub settings: ConfigArgs,

    /// Do not read the runtime and architecture from a SAM `template.yaml` or `serverless.yml`
    /// beside the package.
    #[arg(long)]
    pub no_template: bool,

    /// Do not ask the package index for compatible versions (advice then says it could not
    /// look); also when ELFCHECK_OFFLINE is set.
    #[arg(long)]
    pub offline: bool,

    /// Check each PATH as one package, even a build output (.aws-sam/build, cdk.out,
    /// .serverless) or a project root holding one.
    #[arg(long)]
    pub no_app: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Read settings from this file instead of the `elfcheck.toml` found beside the (first)
    /// input or in a parent directory up to the repository root.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore any `elfcheck.toml`.
    #[arg(long)]
    pub no_config: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to color human output [auto: on a terminal, unless NO_COLOR or CLICOLOR=0;
    /// CLICOLOR_FORCE forces it].
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also list info-level findings (binaries the runtime never loads) in human output.
    #[arg(long, short = 'v', conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print the findings only, one line each: no headers, advice or summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Print how many findings of each code there are, instead of the findings.
    #[arg(long)]
    pub statistics: bool,

    /// Also write the SARIF report of this run to FILE (whatever --format prints).
    #[arg(long, value_name = "FILE")]
    pub output_sarif: Option<PathBuf>,

    /// Also write the JSON report of this run to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_json: Option<PathBuf>,
}

/// Fixes every error it can (rebuilds the distributions that own broken binaries, sets modes),
/// writes a new package atomically, and re-checks it: exit 0 only when no error remains.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// The package to fix: a zip or a directory, or an application's build output or project
    /// root (each function for its own target). It is never modified unless --in-place.
    #[arg(value_name = "PACKAGE")]
    pub path: PathBuf,

    /// Where to write the fixed package (a zip for a zip, a directory for a directory; for an
    /// application, a new directory holding a fixed copy of its build output).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Fix PACKAGE as one package, even a build output or a project root holding one.
    #[arg(long)]
    pub no_app: bool,

    /// Replace the input itself (still atomically, and only when the re-check passes).
    #[arg(long)]
    pub in_place: bool,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub settings: ConfigArgs,

    /// How to rebuild Python packages: docker (the SAM build image), pip (manylinux wheels on
    /// this machine), or auto (docker when an engine answers).
    #[arg(long, value_enum, default_value_t = Via::Auto)]
    pub via: Via,

    /// The build image for --via docker [default: public.ecr.aws/sam/build-<runtime>:latest-<arch>].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// A CA bundle for pip behind a TLS-intercepting proxy, mounted into the container
    /// [default: the file SSL_CERT_FILE, PIP_CERT or REQUESTS_CA_BUNDLE names, else the system bundle].
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,

    /// Print what would be rebuilt and the commands, and change nothing.
    #[arg(long)]
    pub plan: bool,

    /// Keep the output even when the re-check still finds errors.
    #[arg(long)]
    pub keep_failed: bool,

    /// Fix what can be fixed and write the package even when some errors cannot be fixed (they
    /// are listed, and the exit code is 1). Without it, nothing is written unless every error is
    /// fixed.
    #[arg(long)]
    pub partial: bool,

    /// For a Python package whose installed version has no build for the target, install the
    /// newest version that has one (the advice of `elfcheck check`) instead of failing.
    #[arg(long)]
    pub upgrade_to_compatible: bool,

    /// Replace an existing OUT that elfcheck did not write (a file, or a directory that is not
    /// empty). An OUT that is, contains or lies inside the input is refused even so.
    #[arg(long)]
    pub force: bool,

    /// The Python interpreter whose pip --via pip runs.
    #[arg(long, value_name = "PYTHON", default_value = "python3")]
    pub python: String,

    /// Do not echo the output of pip, npm and Docker.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// When to color the re-check report; NO_COLOR in the environment means never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// The package (zip or directory) whose settings to show (the current directory by default).
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub settings: ConfigArgs,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RuntimesArgs {
    /// One runtime (e.g. python3.12): every library it provides, its symbol versions and the
    /// source of each fact.
    #[arg(value_name = "RUNTIME")]
    pub runtime: Option<String>,

    /// The CPU for one runtime's listing: x86_64 (default) or arm64.
    #[arg(long, short = 'a', value_name = "ARCH")]
    pub arch: Option<Arch>,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}
