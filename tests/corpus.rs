//! Acceptance on the public real-world corpus (`../shared/corpus`): third-party packages from
//! PyPI and npm, with the verdicts a correct checker reaches in `cases.json`.
//!
//! The corpus is built from the registries (`sh ../shared/corpus/build.sh DIR`), so these tests
//! are ignored by a plain `cargo test`; `.ci/run` builds the corpus and runs them with
//! `ELFCHECK_CORPUS_DIR=DIR cargo test --test corpus -- --ignored`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn cases() -> Value {
    let path =
        std::env::var_os("ELFCHECK_CASES").map(PathBuf::from).unwrap_or_else(|| shared().join("corpus/cases.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("cases.json parses")
}

fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("ELFCHECK_CORPUS_DIR").map(PathBuf::from).unwrap_or_else(|| "target/corpus".into());
    assert!(dir.is_dir(), "{} missing: build it with `sh ../shared/corpus/build.sh {}`", dir.display(), dir.display());
    dir
}

/// The finding codes that report a corpus class.
fn codes_for(class: &str) -> &'static [&'static str] {
    match class {
        "non-linux-macho" => &["macho-binary"],
        "non-linux-pe" => &["pe-binary"],
        "wrong-arch" => &["arch-mismatch", "elf-class-mismatch"],
        "glibc-too-new" => &["glibc-too-new"],
        "musl" => &["musl-binary"],
        "abi-mismatch" => &["python-abi-mismatch", "node-abi-mismatch"],
        "not-executable" => &["not-executable"],
        other => panic!("unknown class {other}"),
    }
}

fn run(artifact: &Path, runtime: &str, arch: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_elfcheck"))
        .env("ELFCHECK_OFFLINE", "1")
        .args(["check", "--format", "json", "--runtime", runtime, "--arch", arch])
        .arg(artifact)
        .output()
        .expect("elfcheck runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{}: bad JSON ({e}); stderr: {}", artifact.display(), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

#[test]
#[ignore = "needs the corpus built from PyPI and npm; run by .ci/run"]
fn every_corpus_case_matches() {
    let cases = cases();
    let dir = corpus_dir();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases["cases"].as_array().expect("cases[]") {
        let id = case["id"].as_str().unwrap();
        let artifact = dir.join(case["artifact"].as_str().unwrap());
        let runtime = case["target"]["runtime"].as_str().unwrap();
        let arch = case["target"]["arch"].as_str().unwrap();
        let (code, report) = run(&artifact, runtime, arch);
        let findings = report["findings"].as_array().unwrap();
        let errors: BTreeSet<(String, String)> = findings
            .iter()
            .filter(|f| f["severity"] == "error")
            .map(|f| (f["path"].as_str().unwrap().to_string(), f["code"].as_str().unwrap().to_string()))
            .collect();
        let verdict = case["verdict"].as_str().unwrap();
        let want_code = if verdict == "fail" { 1 } else { 0 };
        if code != want_code {
            failures.push(format!("{id}: exit {code}, want {want_code}; errors {errors:?}"));
        }
        for must in case["must_flag"].as_array().unwrap() {
            let path = must["path"].as_str().unwrap();
            let mut classes = vec![must["class"].as_str().unwrap()];
            classes.extend(must["also_acceptable"].as_array().into_iter().flatten().filter_map(Value::as_str));
            let ok =
                classes.iter().flat_map(|c| codes_for(c)).any(|c| errors.contains(&(path.to_string(), c.to_string())));
            if !ok {
                failures.push(format!("{id}: `{path}` not reported as {classes:?}; errors {errors:?}"));
            }
            if let Some(max) = must["detail"]["max_glibc"].as_str() {
                let f = findings.iter().find(|f| f["path"] == path && f["code"] == "glibc-too-new");
                let msg = f.and_then(|f| f["message"].as_str()).unwrap_or("");
                let symbols =
                    must["detail"]["symbols_at_max"].as_array().into_iter().flatten().filter_map(Value::as_str);
                if !msg.contains(&format!("GLIBC_{max}")) || symbols.clone().any(|s| !msg.contains(&format!("`{s}`"))) {
                    failures.push(format!("{id}: glibc message `{msg}` does not name GLIBC_{max} and its symbols"));
                }
            }
        }
        for path in case["must_not_flag"].as_array().unwrap().iter().filter_map(Value::as_str) {
            if errors.iter().any(|(p, _)| p == path) {
                failures.push(format!("{id}: `{path}` must not be reported; errors {errors:?}"));
            }
        }
        if verdict == "pass" && !findings.iter().all(|f| f["severity"] == "info") {
            failures.push(format!("{id}: a passing case should have no errors or warnings: {findings:?}"));
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} cases");
    assert!(failures.is_empty(), "{} of {checked} cases differ:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{checked} corpus cases match");
}

/// `(library, version, weak)` of every version need that `readelf -V` prints.
fn readelf_needs(bytes: &[u8]) -> BTreeSet<(String, String, bool)> {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    let out =
        Command::new("readelf").args(["-V", "-W"]).arg(tmp.path()).output().expect("readelf (binutils) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut needs = BTreeSet::new();
    let mut in_needs = false;
    let mut library = String::new();
    for line in text.lines() {
        if line.starts_with("Version needs section") {
            in_needs = true;
            continue;
        }
        if line.starts_with("Version ") && !line.starts_with("Version needs") {
            in_needs = false;
        }
        if !in_needs {
            continue;
        }
        if let Some(pos) = line.find("File: ") {
            library = line[pos + 6..].split_whitespace().next().unwrap_or("").to_string();
        } else if let Some(pos) = line.find("Name: ") {
            let name = line[pos + 6..].split_whitespace().next().unwrap_or("").to_string();
            let weak = line.contains("Flags: WEAK") || line.contains("| WEAK") || line.contains("WEAK |");
            needs.insert((library.clone(), name, weak));
        }
    }
    needs
}

#[test]
#[ignore = "needs the corpus built from PyPI and npm; run by .ci/run"]
fn version_needs_agree_with_readelf_on_every_corpus_elf() {
    let cases = cases();
    let dir = corpus_dir();
    let mut compared = 0;
    for artifact in cases["artifacts"].as_array().unwrap() {
        let path = dir.join(artifact["file"].as_str().unwrap());
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        for bin in artifact["binaries"].as_array().unwrap().iter().filter(|b| b["format"] == "elf") {
            let name = bin["path"].as_str().unwrap();
            let mut bytes = Vec::new();
            zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
            let ours = match elfcheck::binary::classify(elfcheck::binary::Sniffed::Elf, &bytes) {
                Some(elfcheck::binary::Object::Elf(e)) => e,
                other => panic!("{name}: not parsed as ELF: {other:?}"),
            };
            let ours: BTreeSet<(String, String, bool)> =
                ours.version_needs.iter().map(|n| (n.library.clone(), n.version.clone(), n.weak)).collect();
            assert_eq!(ours, readelf_needs(&bytes), "{}: {name}", path.display());
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} ELF files compared");
    eprintln!("{compared} ELF files agree with readelf -V");
}
