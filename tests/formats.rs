//! CI formats and project settings: SARIF against the SARIF 2.1.0 schema, GitHub annotations,
//! `elfcheck.toml`, and the target taken from a SAM template.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Pkg, fixture};

fn elfcheck(dir: &Path, args: &[&str]) -> Output {
    common::elfcheck_command().args(args).current_dir(dir).output().expect("elfcheck runs")
}

/// A package with an error, a warning and an info finding.
fn mixed(dir: &Path) -> std::path::PathBuf {
    Pkg::new()
        .fixture("fastjson/_speedups.cpython-312-darwin.so", "macho/pyext-arm64.so")
        .symlink("lib/libz.so", "libz.so.1")
        .fixture("setuptools/cli-64.exe", "pe/hello.exe")
        .write_zip(dir, "function.zip")
}

fn sarif(dir: &Path) -> serde_json::Value {
    let zip = mixed(dir);
    let o = elfcheck(dir, &[zip.to_str().unwrap(), "-r", "python3.12", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    serde_json::from_slice(&o.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_has_one_rule_per_code_and_one_result_per_finding() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sarif(dir.path());
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), elfcheck::rules::RULES.len());
    let levels: Vec<&str> = run["results"].as_array().unwrap().iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, vec!["error", "warning", "note"], "sorted by path");
    let first = &run["results"][0];
    assert_eq!(first["ruleId"], "macho-binary");
    assert_eq!(rules[first["ruleIndex"].as_u64().unwrap() as usize]["id"], "macho-binary");
    assert_eq!(
        first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "fastjson/_speedups.cpython-312-darwin.so"
    );
}

#[test]
fn sarif_is_what_code_scanning_accepts_and_shows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::create_dir(dir.path().join("build")).unwrap();
    let zip = mixed(&dir.path().join("build"));
    // An absolute input inside the repository still gets a URI relative to it.
    let o = elfcheck(dir.path(), &[zip.to_str().unwrap(), "-r", "python3.12", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    assert_eq!(run["automationDetails"]["id"], "elfcheck/python3.12/x86_64/");
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
    for result in run["results"].as_array().unwrap() {
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "build/function.zip");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 1);
    }
    for rule in driver["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let short = rule["shortDescription"]["text"].as_str().unwrap();
        assert!(short.ends_with('.') && !short.contains('\n'), "{id}: a whole first sentence: {short}");
        assert!(rule["helpUri"].as_str().unwrap().ends_with(&format!("docs/rules.md#{id}")));
        assert!(rule["help"]["markdown"].as_str().unwrap().contains("Fix"), "{id}");
        assert!(!rule["properties"]["tags"].as_array().unwrap().is_empty());
    }
}

#[test]
fn github_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let zip = mixed(dir.path());
    let o = elfcheck(dir.path(), &["function.zip", "-r", "python3.12", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1), "{zip:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(
            "::error file=function.zip,title=macho-binary function.zip!/fastjson/_speedups.cpython-312-darwin.so::"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("%0Aon Lambda: No module named 'fastjson._speedups'"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("::warning file=function.zip,title=dangling-symlink function.zip!/lib/libz.so::"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("::notice "));
}

#[test]
fn config_file_sets_target_overrides_and_ignores() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap(); // the repository root stops the search
    Pkg::new()
        .fixture("lib/libstatx.so", "x86_64/libstatx.so")
        .fixture("lib/libmissing-dep.so", "x86_64/libmissing-dep.so")
        .write_zip(dir.path(), "function.zip");
    // Without a config: inferred nothing, so AL2: statx is too new, the library is missing.
    let o = elfcheck(dir.path(), &["function.zip", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["missing-library", "glibc-too-new"]);

    std::fs::write(
        dir.path().join("elfcheck.toml"),
        "runtime = \"python3.12\"\n[severity]\nmissing-library = \"warning\"\n\n[[ignore]]\ncode = \"glibc-too-new\"\npath = \"lib/*.so\"\nreason = \"a test\"\n",
    )
    .unwrap();
    let o = elfcheck(dir.path(), &["function.zip", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["inputs"][0]["target"]["runtime"], "python3.12");
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0]["code"].as_str(), findings[0]["severity"].as_str()),
        (Some("missing-library"), Some("warning"))
    );

    // --no-config goes back to the defaults.
    assert_eq!(elfcheck(dir.path(), &["function.zip", "--no-config"]).status.code(), Some(1));

    std::fs::write(dir.path().join("elfcheck.toml"), "[[ignore]]\ncode = \"glibc-too-new\"\n").unwrap();
    let o = elfcheck(dir.path(), &["function.zip"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("elfcheck.toml:1:1: ignore #1: every ignore needs a `reason`"));
}

#[test]
fn sam_template_with_intrinsic_tags_sets_the_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Timeout: !Ref Timeout\nResources:\n  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: api/\n      Runtime: python3.12\n      Architectures:\n        - arm64\n      Role: !GetAtt Role.Arn\n      Environment:\n        Variables:\n          NAME: !Sub \"${AWS::StackName}-x\"\n",
    )
    .unwrap();
    Pkg::new()
        .file("bootstrap", fixture("aarch64/hello-static"), 0o755)
        .fixture("m/_m.cpython-312-aarch64-linux-gnu.so", "aarch64/pyext.so")
        .write_dir(dir.path(), "api");
    let o = elfcheck(dir.path(), &["api", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let target = &doc["inputs"][0]["target"];
    assert_eq!((target["runtime"].as_str(), target["arch"].as_str()), (Some("python3.12"), Some("arm64")));
    assert_eq!(
        target["assumed"][0],
        serde_json::json!({
            "kind": "template", "file": "template.yaml", "function": "Api",
            "runtime": "python3.12", "arch": "arm64", "ambiguous": false
        }),
        "JSON carries the assumption as data"
    );
    let human = String::from_utf8_lossy(&elfcheck(dir.path(), &["api"]).stdout).into_owned();
    assert!(
        human.contains("assumed: runtime python3.12 and architecture arm64, from `template.yaml` (function Api)"),
        "{human}"
    );
    assert_eq!(o.status.code(), Some(0), "{doc:#}");
    // The command line wins over the template.
    assert_eq!(elfcheck(dir.path(), &["api", "--arch", "x86_64"]).status.code(), Some(1));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = elfcheck(Path::new("."), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&o.stdout).contains("elfcheck"));
    }
}
