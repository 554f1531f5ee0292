//! The pip and npm commands that install a distribution for the target: built here once, shown
//! as fix hints and run by `elfcheck fix`.

use std::path::PathBuf;

use crate::target::{Arch, Target, table};

/// `pip install` of exact versions, as wheels for the target's interpreter, glibc and CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipInstall {
    /// `(3, 12)`
    pub python: (u32, u32),
    /// Every manylinux platform tag the target accepts, newest first.
    pub platforms: Vec<String>,
    /// pip's `--target`.
    pub target_dir: String,
    /// `name==version` each.
    pub specs: Vec<String>,
    /// Replace what is installed there already (`--upgrade`): needed when run in the package.
    pub upgrade: bool,
    /// A CA bundle for pip (`--cert`).
    pub cert: Option<PathBuf>,
}

impl PipInstall {
    /// `None` when the target has no Python version to install for.
    pub fn for_target(target: &Target, specs: Vec<String>, target_dir: &str) -> Option<PipInstall> {
        Some(PipInstall {
            python: target.python_version()?,
            platforms: manylinux_tags(target),
            target_dir: target_dir.to_string(),
            specs,
            upgrade: false,
            cert: None,
        })
    }

    /// The arguments after `pip`.
    pub fn args(&self) -> Vec<String> {
        let (major, minor) = self.python;
        let mut args: Vec<String> =
            ["install", "--no-deps", "--no-compile", "--only-binary=:all:"].into_iter().map(String::from).collect();
        if self.upgrade {
            args.push("--upgrade".into());
        }
        args.extend([
            "--implementation".into(),
            "cp".into(),
            "--python-version".into(),
            format!("{major}.{minor}"),
            "--abi".into(),
            format!("cp{major}{minor}"),
        ]);
        for tag in &self.platforms {
            args.extend(["--platform".into(), tag.clone()]);
        }
        if let Some(cert) = &self.cert {
            args.extend(["--cert".into(), cert.display().to_string()]);
        }
        args.extend(["--target".into(), self.target_dir.clone()]);
        args.extend(self.specs.iter().cloned());
        args
    }

    /// The command as a shell line.
    pub fn display(&self) -> String {
        shell_line("pip", &self.args())
    }
}

/// Every manylinux platform tag the target's glibc and CPU accept, newest first. pip takes
/// `--platform` literally except for `manylinux2014`, which it widens to 2010 and 1 itself.
pub fn manylinux_tags(target: &Target) -> Vec<String> {
    let cpu = target.arch.elf_name();
    let minor = |v: &crate::version::Version| v.to_string().split('.').nth(1).and_then(|m| m.parse::<u32>().ok());
    let floor = minor(&table().lambda.manylinux_floor).unwrap_or(17);
    let max = minor(&target.os().glibc).unwrap_or(floor).max(floor);
    let mut tags: Vec<String> = (floor..=max).rev().map(|m| format!("manylinux_2_{m}_{cpu}")).collect();
    tags.push(format!("manylinux2014_{cpu}"));
    tags
}

/// `npm install` of exact packages for Linux on the target's CPU with glibc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmInstall {
    pub cpu: &'static str,
    /// `name@version` each.
    pub specs: Vec<String>,
    /// npm's `--prefix`, when installing outside the current directory.
    pub prefix: Option<PathBuf>,
    /// Install only these, without touching `package.json` or a lockfile, and run no scripts.
    pub isolated: bool,
}

impl NpmInstall {
    pub fn for_target(target: &Target, specs: Vec<String>) -> NpmInstall {
        NpmInstall { cpu: node_cpu(target.arch), specs, prefix: None, isolated: false }
    }

    /// The arguments after `npm`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["install".to_string()];
        if self.isolated {
            args.extend(
                ["--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund"].map(String::from),
            );
        }
        args.extend(["--os=linux".to_string(), format!("--cpu={}", self.cpu), "--libc=glibc".to_string()]);
        if let Some(prefix) = &self.prefix {
            args.extend(["--prefix".to_string(), prefix.display().to_string()]);
        }
        args.extend(self.specs.iter().cloned());
        args
    }

    pub fn display(&self) -> String {
        shell_line("npm", &self.args())
    }
}

fn node_cpu(arch: Arch) -> &'static str {
    arch.node_name()
}

/// A command line for bash and zsh, with consecutive `--platform manylinux_2_N_<cpu>` pairs folded
/// into one brace range (`--platform=manylinux_2_{26..17}_x86_64`), which those shells expand.
pub fn display_folded(argv: &[String]) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let run: Vec<(u32, &str)> = argv[i..]
            .chunks(2)
            .map_while(|pair| match pair {
                [flag, tag] if flag == "--platform" => {
                    let rest = tag.strip_prefix("manylinux_2_")?;
                    let (minor, cpu) = rest.split_once('_')?;
                    Some((minor.parse().ok()?, cpu))
                }
                _ => None,
            })
            .collect();
        let foldable = run.len() >= 3 && run.windows(2).all(|w| w[0].1 == w[1].1 && w[0].0 == w[1].0 + 1);
        if foldable {
            let (first, last) = (run[0], run[run.len() - 1]);
            words.push(format!("--platform=manylinux_2_{{{}..{}}}_{}", first.0, last.0, first.1));
            i += 2 * run.len();
        } else {
            words.push(shell_quote(&argv[i]));
            i += 1;
        }
    }
    let mut out = argv.first().cloned().unwrap_or_default();
    for w in words {
        out.push(' ');
        out.push_str(&w);
    }
    out
}

/// A command line a POSIX shell runs as given: words quoted where they need it.
pub fn shell_line(program: &str, args: &[String]) -> String {
    let mut out = program.to_string();
    for a in args {
        out.push(' ');
        out.push_str(&shell_quote(a));
    }
    out
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tags_reach_the_runtime_glibc() {
        let t = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
        let tags = manylinux_tags(&t);
        assert_eq!(tags.first().unwrap(), "manylinux_2_26_x86_64");
        assert!(tags.contains(&"manylinux_2_17_x86_64".to_string()));
        assert!(tags.contains(&"manylinux2014_x86_64".to_string()));
        assert!(!tags.iter().any(|t| t.contains("2_28")));
    }

    #[test]
    fn commands_quote_what_the_shell_would_split() {
        let t = Target::new(Some("python3.12"), Arch::Arm64).unwrap();
        let pip = PipInstall::for_target(&t, vec!["numpy==2.2.6".into()], ".").unwrap();
        let line = pip.display();
        assert!(line.starts_with("pip install --no-deps") && line.contains("--platform manylinux_2_34_aarch64"));
        assert!(line.ends_with("--target . numpy==2.2.6"), "{line}");
        let npm = NpmInstall::for_target(&t, vec!["@img/sharp-linux-arm64@0.33.5".into()]);
        assert_eq!(npm.display(), "npm install --os=linux --cpu=arm64 --libc=glibc @img/sharp-linux-arm64@0.33.5");
        assert_eq!(shell_quote("a b"), "'a b'");
        let mut argv = vec!["pip".to_string()];
        argv.extend(pip.args());
        let folded = display_folded(&argv);
        assert!(
            folded.contains(" --platform=manylinux_2_{34..17}_aarch64 --platform manylinux2014_aarch64 "),
            "{folded}"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
