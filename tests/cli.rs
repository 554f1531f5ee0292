//! The command line as users see it: snapshots of both formats, exit codes, and one-line
//! errors for bad input.

mod common;

use std::path::Path;
use std::process::Output;

use common::Pkg;

fn elfcheck(args: &[&str]) -> Output {
    common::elfcheck_command()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("elfcheck runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn human_report_of_the_bundled_example() {
    let o = elfcheck(&["examples/python-built-on-mac.zip", "--runtime", "python3.11", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn json_report_of_the_bundled_example() {
    let o = elfcheck(&[
        "check",
        "examples/python-built-on-mac.zip",
        "-r",
        "python3.11",
        "-a",
        "x86_64",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn inferred_target_is_printed() {
    let o = elfcheck(&["examples/custom-runtime.zip", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn clean_package_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let zip = Pkg::new()
        .fixture("lib/libhello.so", "x86_64/libhello.so")
        .file("lambda_function.py", "def lambda_handler(e, c):\n    return 1\n", 0o644)
        .write_zip(dir.path(), "clean.zip");
    let o = elfcheck(&[zip.to_str().unwrap(), "--runtime", "python3.12", "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("0 errors, 0 warnings, 0 infos in 1 input (1 native binary)\n"), "{}", stdout(&o));
}

#[test]
fn fail_on_warning_turns_warnings_into_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let zip = Pkg::new().symlink("lib/libz.so", "libz.so.1").write_zip(dir.path(), "w.zip");
    let zip = zip.to_str().unwrap();
    assert_eq!(elfcheck(&[zip, "-r", "python3.12"]).status.code(), Some(0));
    assert_eq!(elfcheck(&[zip, "-r", "python3.12", "--fail-on", "warning"]).status.code(), Some(1));
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let args = ["examples/custom-runtime.zip", "--color", "always"];
    assert!(stdout(&elfcheck(&args)).contains("\u{1b}["));
    let o = common::elfcheck_command()
        .args(["examples/custom-runtime.zip"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&o).contains("\u{1b}["));
}

#[test]
fn missing_file_is_exit_2_naming_the_file() {
    let o = elfcheck(&["does-not-exist.zip"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "elfcheck: does-not-exist.zip: no such file or directory\n");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_file_that_is_not_a_zip_is_exit_2() {
    let o = elfcheck(&["testdata/bin/x86_64/libhello.so"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.starts_with("elfcheck: testdata/bin/x86_64/libhello.so: not a readable zip archive"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn truncated_zip_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-built-on-mac.zip")).unwrap();
    let path = dir.path().join("cut.zip");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let o = elfcheck(&[path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cut.zip: not a readable zip archive"), "{}", stderr(&o));
}

#[test]
fn random_bytes_as_zip_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-built-on-mac.zip")).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..40 {
        let mut bytes = good.clone();
        for _ in 0..(1 + round * 3) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state as usize) % bytes.len();
            bytes[i] ^= (state >> 32) as u8 | 1;
        }
        let path = dir.path().join(format!("fuzz{round}.zip"));
        std::fs::write(&path, &bytes).unwrap();
        let o = elfcheck(&[path.to_str().unwrap(), "-r", "python3.11"]);
        let code = o.status.code();
        assert!(matches!(code, Some(0..=2)), "round {round}: exit {code:?}\n{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "round {round}: {}", stderr(&o));
    }
}

#[test]
fn unknown_runtime_lists_the_known_ones() {
    let o = elfcheck(&["examples/custom-runtime.zip", "--runtime", "python2.7"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("unknown runtime `python2.7`") && err.contains("provided.al2023"), "{err}");
}

#[test]
fn usage_errors_are_exit_2() {
    assert_eq!(elfcheck(&[]).status.code(), Some(2));
    assert_eq!(elfcheck(&["x.zip", "--arch", "mips"]).status.code(), Some(2));
    assert_eq!(elfcheck(&["x.zip", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn runtimes_table() {
    let o = elfcheck(&["runtimes"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_prints_the_rule_documentation() {
    let o = elfcheck(&["explain", "glibc-too-new"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.starts_with("glibc-too-new (error by default)"), "{text}");
    assert!(text.contains("GLIBC_2.28' not found"), "{text}");
    let unknown = elfcheck(&["explain", "no-such-code"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn explain_covers_every_code() {
    for rule in elfcheck::rules::RULES {
        let o = elfcheck(&["explain", rule.code.as_str()]);
        assert_eq!(o.status.code(), Some(0), "{}", rule.code.as_str());
        assert!(stdout(&o).contains("Fix"), "{} has no fix section", rule.code.as_str());
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::Stdio;
    let mut child = common::elfcheck_command()
        .args(["runtimes"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn a_version_read_from_the_package_leaves_the_abi_unjudged_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let zip =
        Pkg::new().fixture("m/_m.cpython-311-x86_64-linux-gnu.so", "x86_64/pyext.so").write_zip(dir.path(), "f.zip");
    let o = elfcheck(&[zip.to_str().unwrap(), "--color", "never"]);
    let out = stdout(&o);
    assert!(out.contains("runtime python3.11, from the extension tag `cpython-311`"), "{out}");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("not judged: the Python or Node.js ABI of"), "{out}");
    let json = elfcheck(&[zip.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["inputs"][0]["target"]["abi_judged"], false);
    // Given the runtime, it is judged: the 3.11 build is not imported by python3.12.
    let o = elfcheck(&[zip.to_str().unwrap(), "--runtime", "python3.12"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stdout(&o).contains("not judged"));
}

#[test]
fn quiet_exit_zero_and_statistics() {
    let o = elfcheck(&["examples/python-built-on-mac.zip", "-r", "python3.11", "-q", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "one line per finding, nothing else: {out}");
    assert!(out.lines().all(|l| l.starts_with("examples/python-built-on-mac.zip: ")), "{out}");
    let o = elfcheck(&["examples/python-built-on-mac.zip", "-r", "python3.11", "--exit-zero", "-q"]);
    assert_eq!(o.status.code(), Some(0), "--exit-zero keeps the findings and drops the failure");
    assert!(!stdout(&o).is_empty());
    let o = elfcheck(&["examples/python-built-on-mac.zip", "-r", "python3.11", "--statistics"]);
    let out = stdout(&o);
    assert!(out.contains("     1  macho-binary") && out.contains("     1  glibc-too-new"), "{out}");
    let o = elfcheck(&["examples/python-built-on-mac.zip", "-r", "python3.11", "--statistics", "-f", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn one_run_writes_sarif_and_json_files_beside_what_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let json = dir.path().join("out.json");
    let o = elfcheck(&[
        "examples/python-built-on-mac.zip",
        "-r",
        "python3.11",
        "--format",
        "github",
        "--output-sarif",
        sarif.to_str().unwrap(),
        "--output-json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("::error "), "{}", stdout(&o));
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["summary"]["errors"], 2);
}

#[test]
fn colors_follow_clicolor_and_no_color() {
    let run = |env: &[(&str, &str)]| {
        let mut cmd = common::elfcheck_command();
        cmd.args(["examples/python-built-on-mac.zip", "-r", "python3.11", "-q"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    assert!(!run(&[]).contains('\x1b'), "not a terminal: no color");
    assert!(run(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'), "CLICOLOR_FORCE forces color");
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'), "NO_COLOR wins");
}

#[test]
fn config_shows_the_settings_and_where_they_come_from() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"fn\"\n\n[tool.elfcheck]\narch = \"arm64\"\nfail-on = \"warning\"\n",
    )
    .unwrap();
    Pkg::new().fixture("m/_m.cpython-312-aarch64-linux-gnu.so", "aarch64/pyext.so").write_dir(dir.path(), "pkg");
    let o = common::elfcheck_command().args(["config", "pkg"]).current_dir(dir.path()).output().unwrap();
    let out = stdout(&o);
    assert!(out.contains("arch: arm64 (from ") && out.contains("pyproject.toml)"), "{out}");
    assert!(out.contains("runtime: python3.12") && out.contains("extension tag `cpython-312`"), "{out}");
    assert!(out.contains("fail on: warning"), "{out}");
    // `check` reads the same pyproject table.
    let o = common::elfcheck_command().args(["pkg"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn man_page_and_report_schema() {
    let o = elfcheck(&["man"]);
    assert!(stdout(&o).contains(".TH elfcheck 1"));
    let o = elfcheck(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["title"], "elfcheck report");
}
