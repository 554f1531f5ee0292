//! The `elfcheck` binary: parse the command line, run, map the outcome to an exit code.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{CheckArgs, Cli, ColorChoice, Command, ConfigArgs, FixArgs};
use elfcheck::config::Config;
use elfcheck::report::{self, HumanOptions};
use elfcheck::target::resolve::Requested;
use elfcheck::{Options, rules, target};

fn main() -> ExitCode {
    elfcheck::binary::quiet_parser_panics();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Check(args)) => check(args),
        Some(Command::Fix(args)) => fix(args),
        Some(Command::Runtimes(args)) => runtimes(args),
        Some(Command::Explain { code }) => explain(code.as_deref()),
        Some(Command::Completions { shell }) => completions(shell),
        None => check(cli.check),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // elfcheck's own errors say their cause in words already; others show their chain.
            match e.downcast_ref::<elfcheck::Error>() {
                Some(own) => eprintln!("elfcheck: {own}"),
                None => eprintln!("elfcheck: {e:#}"),
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal(),
    }
}

/// The settings of `elfcheck.toml`, unless the user said otherwise.
fn load_config(args: &ConfigArgs, first_input: &Path) -> anyhow::Result<Config> {
    if args.no_config {
        return Ok(Config::default());
    }
    let found = match &args.config {
        Some(path) => Some(Config::load(path)?),
        None => Config::discover(first_input)?,
    };
    Ok(found.unwrap_or_default())
}

/// Whether any input is an application (and not `--no-app`): then `elfcheck.toml`'s runtime and
/// architecture do not apply (the template gives each function its own), and the command
/// line's are refused by the library.
fn any_app(paths: &[std::path::PathBuf], no_app: bool) -> bool {
    !no_app && paths.iter().any(|p| !elfcheck::app::detect(p).is_empty())
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.settings, &args.paths[0])?;
    let app = any_app(&args.paths, args.no_app);
    let options = Options {
        target: Requested {
            runtime: args.target.runtime.clone().or(config.runtime.clone().filter(|_| !app)),
            arch: args.target.arch.or(config.arch.filter(|_| !app)),
            from_templates: !args.no_template,
        },
        layers: args.target.layer.clone(),
        policy: config.policy.clone(),
        packages_only: args.no_app,
        ..Options::default()
    };
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(elfcheck::Severity::Error);
    let report = elfcheck::check(&args.paths, &options)?;
    let color = use_color(args.output.color);
    colored::control::set_override(color); // the crate's own detection must not undo the choice
    let human = HumanOptions { color, verbose: args.output.verbose };
    let mut out = io::stdout().lock();
    report::render(&report, args.output.format, &human, &mut out)?;
    out.flush()?;
    Ok(if report.fails(fail_on) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn fix(args: FixArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.settings, &args.path)?;
    let found = if args.no_app { Vec::new() } else { elfcheck::app::detect(&args.path) };
    let app = !found.is_empty();
    let options = elfcheck::fix::FixOptions {
        input: args.path.clone(),
        output: args.output,
        in_place: args.in_place,
        via: args.via,
        image: args.image,
        ca_bundle: args.ca_bundle,
        plan_only: args.plan,
        keep_failed: args.keep_failed,
        python: args.python,
        docker: std::env::var("ELFCHECK_DOCKER").unwrap_or_else(|_| "docker".into()),
        quiet: args.quiet,
        scan: Options {
            target: Requested {
                runtime: args.target.runtime.or(config.runtime.filter(|_| !app)),
                arch: args.target.arch.or(config.arch.filter(|_| !app)),
                from_templates: true,
            },
            layers: args.target.layer,
            policy: config.policy,
            packages_only: args.no_app,
            ..Options::default()
        },
    };
    let mut out = io::stdout().lock();
    let outcome = if app {
        elfcheck::app::fix::run(&options, &found, &mut out)?
    } else {
        elfcheck::fix::run(&options, &mut out)?
    };
    if let (Some(report), 1) = (&outcome.recheck, outcome.exit_code) {
        let color = use_color(args.color);
        colored::control::set_override(color);
        writeln!(out)?;
        report::render(report, report::Format::Human, &HumanOptions { color, verbose: false }, &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::from(outcome.exit_code))
}

fn runtimes(args: cli::RuntimesArgs) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match &args.runtime {
        None => report::runtimes::render_table(&mut out, args.json)?,
        Some(id) => {
            let t = target::table();
            let runtime = t
                .runtime(id)
                .ok_or_else(|| elfcheck::Error::UnknownRuntime { id: id.clone(), known: t.ids().join(", ") })?;
            report::runtimes::render_one(&mut out, runtime, args.arch.unwrap_or(elfcheck::Arch::X86_64), args.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    // Generated into memory first: the generator panics on a write error such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "elfcheck", &mut script);
    io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

fn explain(code: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match code {
        None => {
            for r in rules::RULES {
                writeln!(out, "{:<26} {:<8} {}", r.code, r.def.severity, r.summary())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(code) => match rules::find(code) {
            Some(r) => {
                writeln!(out, "{} ({} by default)\n\n{}", r.code, r.severity_text(), r.doc())?;
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let known: Vec<&str> = rules::RULES.iter().map(|r| r.code.as_str()).collect();
                anyhow::bail!("unknown finding code `{code}`; known codes: {}", known.join(", "))
            }
        },
    }
}
