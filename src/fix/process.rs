//! Runs a build tool, streaming its output to stderr as progress and keeping it for errors. The
//! tool runs in its own process group and dies with elfcheck (see [`super::cleanup::isolate`]).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use super::cleanup::ChildGuard;
use crate::error::Error;

pub struct Ran {
    pub success: bool,
    pub code: Option<i32>,
    /// Every line, stdout and stderr interleaved as they came.
    pub lines: Vec<String>,
}

impl Ran {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The last `n` lines, for an error message.
    pub fn tail(&self, n: usize) -> String {
        let start = self.lines.len().saturating_sub(n);
        self.lines[start..].iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
    }
}

/// Runs `cmd`, echoing each output line to stderr behind `label` unless `quiet`.
pub fn run(mut cmd: Command, label: &str, quiet: bool) -> Result<Ran, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    super::cleanup::isolate(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Fix(format!("`{program}` is not installed (not found on PATH)"))
        } else {
            Error::Fix(format!("cannot run `{program}`: {e}"))
        }
    })?;
    let _guard = ChildGuard::new(child.id()); // its own group: the group id is its pid
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    drop(tx);
    let mut lines = Vec::new();
    for line in rx {
        if !quiet {
            eprintln!("  {label} | {line}");
        }
        lines.push(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| Error::Fix(format!("`{program}` did not finish: {e}")))?;
    Ok(Ran { success: status.success(), code: status.code(), lines })
}
