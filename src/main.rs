//! The `elfcheck` binary: parse the command line, run, map the outcome to an exit code.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{CheckArgs, Cli, ColorChoice, Command, ConfigArgs, FixArgs};
use elfcheck::config::Config;
use elfcheck::report::{self, HumanOptions};
use elfcheck::{Options, rules, target};

fn main() -> ExitCode {
    elfcheck::binary::quiet_parser_panics();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Check(args)) => check(args),
        Some(Command::Fix(args)) => fix(args),
        Some(Command::Runtimes(args)) => runtimes(args.json),
        Some(Command::Explain { code }) => explain(code.as_deref()),
        Some(Command::Completions { shell }) => completions(shell),
        None => check(cli.check),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("elfcheck: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Standard output that stops printing when its reader goes away: a closed pipe (`elfcheck check
/// pkg.zip | head`) ends the output, never the verdict, which is decided before printing and is
/// still the exit code.
struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    fn lock() -> Stdout {
        Stdout { inner: io::stdout().lock(), closed: false }
    }

    fn absorb<T>(&mut self, result: io::Result<T>, done: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let written = self.inner.write(buf);
        self.absorb(written, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.inner.flush();
        self.absorb(flushed, ())
    }
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

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.settings, &args.paths[0])?;
    let options = Options {
        runtime: args.target.runtime.clone().or(config.runtime.clone()),
        arch: args.target.arch.or(config.arch),
        layers: args.target.layer.clone(),
        policy: config.policy.clone(),
        from_templates: !args.no_template,
        ..Options::default()
    };
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(elfcheck::Severity::Error);
    let report = elfcheck::scan(&args.paths, &options)?;
    let verdict = if report.fails(fail_on) { ExitCode::from(1) } else { ExitCode::SUCCESS };
    let color = use_color(args.output.color);
    colored::control::set_override(color); // the crate's own detection must not undo the choice
    let human = HumanOptions { color, verbose: args.output.verbose };
    let mut out = Stdout::lock();
    report::render(&report, args.output.format, &human, &mut out)?;
    out.flush()?;
    Ok(verdict)
}

fn fix(args: FixArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.settings, &args.path)?;
    let options = elfcheck::fix::FixOptions {
        input: args.path.clone(),
        output: args.output,
        in_place: args.in_place,
        via: args.via,
        image: args.image,
        ca_bundle: args.ca_bundle,
        plan_only: args.plan,
        keep_failed: args.keep_failed,
        force: args.force,
        python: args.python,
        docker: std::env::var("ELFCHECK_DOCKER").unwrap_or_else(|_| "docker".into()),
        quiet: args.quiet,
        scan: Options {
            runtime: args.target.runtime.or(config.runtime),
            arch: args.target.arch.or(config.arch),
            layers: args.target.layer,
            policy: config.policy,
            from_templates: true,
            ..Options::default()
        },
    };
    let mut out = Stdout::lock();
    let outcome = elfcheck::fix::run(&options, &mut out)?;
    if let (Some(report), 1) = (&outcome.recheck, outcome.exit_code) {
        let color = use_color(args.color);
        colored::control::set_override(color);
        writeln!(out)?;
        report::render(report, report::Format::Human, &HumanOptions { color, verbose: false }, &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::from(outcome.exit_code))
}

fn runtimes(json: bool) -> anyhow::Result<ExitCode> {
    let table = target::table();
    let mut out = Stdout::lock();
    if json {
        let rows: Vec<serde_json::Value> = table
            .runtime
            .iter()
            .map(|r| {
                let os = &table.os[&r.os];
                serde_json::json!({
                    "id": r.id, "family": r.family, "version": r.version, "os": os.name,
                    "glibc": os.glibc, "node_abi": r.node_abi,
                    "glibcxx": { "x86_64": os.x86_64.versions.get("GLIBCXX"), "arm64": os.arm64.versions.get("GLIBCXX") },
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:<17} {:<9} {:<18} {:<6} {:<8} ABI", "RUNTIME", "LANGUAGE", "OS", "GLIBC", "GLIBCXX")?;
    for r in &table.runtime {
        let os = &table.os[&r.os];
        let abi = match (r.family, r.node_abi, r.version.as_deref()) {
            (_, Some(n), _) => format!("NODE_MODULE_VERSION {n}"),
            (target::Family::Python, _, Some(v)) => format!("cpython-{}", v.replace('.', "")),
            _ => String::new(),
        };
        let lang = serde_json::to_value(r.family)?.as_str().unwrap_or_default().to_string();
        let glibcxx = os.x86_64.versions.get("GLIBCXX").map(|v| v.to_string()).unwrap_or_default();
        writeln!(out, "{:<17} {:<9} {:<18} {:<6} {:<8} {abi}", r.id, lang, os.name, os.glibc, glibcxx)?;
    }
    writeln!(out, "\nEvery runtime exists for x86_64 and arm64. Sources: data/runtimes.toml.")?;
    Ok(ExitCode::SUCCESS)
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    // Generated into memory first: the generator panics on a write error such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "elfcheck", &mut script);
    Stdout::lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

fn explain(code: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut out = Stdout::lock();
    match code {
        None => {
            for r in rules::RULES {
                writeln!(out, "{:<26} {:<8} {}", r.code(), r.id.severity, r.summary())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(code) => match rules::find(code) {
            Some(r) => {
                writeln!(out, "{} ({} by default)\n\n{}", r.code(), r.id.severity, r.doc())?;
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let known: Vec<&str> = rules::RULES.iter().map(|r| r.code()).collect();
                anyhow::bail!("unknown finding code `{code}`; known codes: {}", known.join(", "))
            }
        },
    }
}
