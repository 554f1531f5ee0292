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
        Some(Command::Config(args)) => show_config(args),
        Some(Command::Man) => man(),
        Some(Command::Schema) => schema(),
        None => check(cli.check),
    };
    match result {
        Ok(code) => code,
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

/// Whether to color standard output: `--color`, else what the terminal and the environment say
/// (`NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM`), as anstream reads them.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !matches!(anstream::AutoStream::choice(&io::stdout()), anstream::ColorChoice::Never),
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

/// Advice asks the package index unless told not to.
fn lookup(offline: bool) -> elfcheck::advice::Lookup {
    let env = std::env::var_os("ELFCHECK_OFFLINE").is_some_and(|v| !v.is_empty() && v != "0");
    if offline || env { elfcheck::advice::Lookup::Offline } else { elfcheck::advice::Lookup::Online }
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
        lookup: lookup(args.offline),
        packages_only: args.no_app,
        ..Options::default()
    };
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(elfcheck::Severity::Error);
    let progress = Progress::new(args.output.quiet);
    let mut report = elfcheck::report::model::Report::default();
    for input in &args.paths {
        progress.say(&format!("checking {}", input.display()));
        elfcheck::app::check_into(input, &options, &mut report)?;
    }
    progress.done();
    elfcheck::app::sort_findings(&mut report);
    // The verdict is decided before anything is printed: a closed pipe cannot change it.
    let verdict = if report.fails(fail_on) && !args.exit_zero { ExitCode::from(1) } else { ExitCode::SUCCESS };
    for (path, format) in
        [(&args.output.output_sarif, report::Format::Sarif), (&args.output.output_json, report::Format::Json)]
    {
        if let Some(path) = path {
            write_report_file(&report, format, path)?;
        }
    }
    let color = use_color(args.output.color);
    colored::control::set_override(color); // the crate's own detection must not undo the choice
    let human = HumanOptions { color, verbose: args.output.verbose, quiet: args.output.quiet };
    let mut out = Stdout::lock();
    if args.output.statistics {
        report::render_statistics(&report, args.output.format == report::Format::Json, &mut out)?;
    } else {
        report::render(&report, args.output.format, &human, &mut out)?;
    }
    out.flush()?;
    Ok(verdict)
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
        partial: args.partial,
        upgrade: args.upgrade_to_compatible,
        lookup: lookup(false),
        python: args.python,
        docker: std::env::var("ELFCHECK_DOCKER").unwrap_or_else(|_| "docker".into()),
        quiet: args.quiet,
        force: args.force,
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
    let mut out = Stdout::lock();
    let outcome = if app {
        elfcheck::app::fix::run(&options, &found, &mut out)?
    } else {
        elfcheck::fix::run(&options, &mut out)?
    };
    if let (Some(report), 1) = (&outcome.recheck, outcome.exit_code) {
        let color = use_color(args.color);
        colored::control::set_override(color);
        writeln!(out)?;
        report::render(report, report::Format::Human, &HumanOptions { color, verbose: false, quiet: false }, &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::from(outcome.exit_code))
}

fn runtimes(args: cli::RuntimesArgs) -> anyhow::Result<ExitCode> {
    let mut out = Stdout::lock();
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
    Stdout::lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

fn explain(code: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut out = Stdout::lock();
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

/// Writes a report to a file beside the one printed: complete or not at all (a temporary file
/// renamed into place).
fn write_report_file(report: &elfcheck::Report, format: report::Format, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot write the report: {e}", path.display()))?;
    let plain = HumanOptions { color: false, verbose: false, quiet: false };
    report::render(report, format, &plain, &mut tmp)?;
    // A temporary file is private; a report is not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| anyhow::anyhow!("{}: cannot write the report: {}", path.display(), e.error))?;
    Ok(())
}

/// A line on standard error saying what a long run is doing, only when a person is watching
/// (standard error is a terminal) and `--quiet` is not given.
struct Progress {
    on: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        Progress { on: !quiet && io::stderr().is_terminal() }
    }

    fn say(&self, what: &str) {
        if self.on {
            eprint!("\r\x1b[K{what}...");
        }
    }

    fn done(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

fn man() -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
    Stdout::lock().write_all(&page)?;
    Ok(ExitCode::SUCCESS)
}

fn schema() -> anyhow::Result<ExitCode> {
    let mut out = Stdout::lock();
    serde_json::to_writer_pretty(&mut out, &report::json::schema())?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}

/// `elfcheck config`: the settings that apply to a package and where each comes from.
fn show_config(args: cli::ConfigShowArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.settings, &args.path)?;
    let requested = Requested {
        runtime: args.target.runtime.clone().or(config.runtime.clone()),
        arch: args.target.arch.or(config.arch),
        from_templates: true,
    };
    let file = config.source.as_ref().map(|p| p.display().to_string());
    let from_file = file.as_deref().map(|f| format!("from {f}")).unwrap_or_default();
    let runtime_source = match (&args.target.runtime, &config.runtime) {
        (Some(_), _) => "from the command line".to_string(),
        (None, Some(_)) => from_file.clone(),
        _ => String::new(),
    };
    let arch_source = match (&args.target.arch, &config.arch) {
        (Some(_), _) => "from the command line".to_string(),
        (None, Some(_)) => from_file.clone(),
        _ => String::new(),
    };
    let contents = elfcheck::source::read(&args.path, &elfcheck::source::Limits::default())?;
    let pkg = elfcheck::package::Package::build(contents, elfcheck::check::input_kind(&args.path), Vec::new());
    let (target, assumed) = elfcheck::target::resolve::resolve(&args.path, &pkg, &requested)?;
    let mut out = Stdout::lock();
    if args.json {
        let doc = serde_json::json!({
            "package": args.path.display().to_string(),
            "config_file": file,
            "runtime": target.runtime.map(|r| r.id.clone()),
            "runtime_source": runtime_source,
            "arch": target.arch,
            "arch_source": arch_source,
            "assumed": assumed,
            "fail_on": config.fail_on.unwrap_or(elfcheck::Severity::Error),
            "severity": config.policy.severity.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
            "ignores": config.policy.ignores.iter().map(|i| serde_json::json!({
                "code": i.code.map(|c| c.to_string()), "path": i.path.as_ref().map(|g| g.glob().to_string()), "reason": i.reason,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "package: {}", args.path.display())?;
    writeln!(
        out,
        "settings file: {}",
        file.as_deref().unwrap_or("none (elfcheck.toml or [tool.elfcheck] in pyproject.toml)")
    )?;
    let said = |s: &str| if s.is_empty() { String::new() } else { format!(" ({s})") };
    writeln!(
        out,
        "runtime: {}{}",
        target.runtime.map_or("unknown".to_string(), |r| r.id.clone()),
        said(&runtime_source)
    )?;
    writeln!(out, "arch: {}{}", target.arch, said(&arch_source))?;
    writeln!(out, "judged against: {}, glibc {}", target.os().name, target.os().glibc)?;
    for a in &assumed {
        writeln!(out, "assumed: {}", report::assumption_words(a))?;
    }
    let fail_on = config.fail_on.map_or("error (default)".to_string(), |s| format!("{s}{}", said(&from_file)));
    writeln!(out, "fail on: {fail_on}")?;
    for (code, severity) in &config.policy.severity {
        writeln!(out, "severity: {code} = {severity}")?;
    }
    for i in &config.policy.ignores {
        let code = i.code.map_or("any code".to_string(), |c| c.to_string());
        let path = i.path.as_ref().map_or("any path".to_string(), |g| g.glob().to_string());
        writeln!(out, "ignore: {code} at {path} ({})", i.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}
