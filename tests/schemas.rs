//! Documents elfcheck writes, validated against their published schemas. The validator
//! (`jsonschema`) is heavy to compile, so these tests need `--features schema-tests`; `.ci/run`
//! runs them.

mod common;

use std::path::Path;

use common::Pkg;

fn sarif(dir: &Path) -> serde_json::Value {
    let zip = Pkg::new()
        .fixture("fastjson/_speedups.cpython-312-darwin.so", "macho/pyext-arm64.so")
        .symlink("lib/libz.so", "libz.so.1")
        .fixture("setuptools/cli-64.exe", "pe/hello.exe")
        .write_zip(dir, "function.zip");
    let o = common::elfcheck_command()
        .args([zip.to_str().unwrap(), "-r", "python3.12", "--format", "sarif"])
        .output()
        .expect("elfcheck runs");
    assert_eq!(o.status.code(), Some(1));
    serde_json::from_slice(&o.stdout).expect("SARIF is JSON")
}

/// The SARIF 2.1.0 schema ships in the npm package `@microsoft/jest-sarif`; `.ci/run` unpacks
/// it and names it in `ELFCHECK_SARIF_SCHEMA`.
#[test]
#[ignore = "needs the SARIF 2.1.0 schema from npm; run by .ci/run"]
fn sarif_validates_against_the_schema() {
    let schema_path = std::env::var("ELFCHECK_SARIF_SCHEMA").expect("ELFCHECK_SARIF_SCHEMA names the schema file");
    let text = std::fs::read_to_string(&schema_path).unwrap();
    // The published schema's `run.language` pattern has a stray `]` that a strict regex engine
    // refuses while checking the schema itself; that property is not one elfcheck writes.
    let text = text.replace(r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#, r#"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let dir = tempfile::tempdir().unwrap();
    let doc = sarif(dir.path());
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF does not validate:\n{}", errors.join("\n"));
    // The schema really checks: a result without a message is refused.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    assert!(!validator.is_valid(&broken));
}
