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

/// The JSON report against the schema the project publishes (`docs/report.schema.json`), for a
/// package with findings of many kinds, advice and a fix command.
#[test]
fn json_report_validates_against_its_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let dir = tempfile::tempdir().unwrap();
    let zip = Pkg::new()
        .fixture("fastjson/_speedups.cpython-312-darwin.so", "macho/pyext-arm64.so")
        .file("fastjson-2.1.0.dist-info/RECORD", "fastjson/_speedups.cpython-312-darwin.so,,\n", 0o644)
        .file("fastjson-2.1.0.dist-info/METADATA", "Name: fastjson\nVersion: 2.1.0\n", 0o644)
        .fixture("m/_m.cpython-311-x86_64-linux-gnu.so", "x86_64/pyext.so")
        .fixture("lib/libcxx.so", "x86_64/libcxx-new.so")
        .symlink("lib/libz.so", "libz.so.1")
        .file("bootstrap", "#!/bin/sh\r\n", 0o644)
        .write_zip(dir.path(), "function.zip");
    for args in [vec!["-r", "python3.12"], vec![]] {
        let o = common::elfcheck_command()
            .arg(zip.to_str().unwrap())
            .args(&args)
            .args(["--format", "json"])
            .output()
            .expect("elfcheck runs");
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "the report does not validate:\n{}", errors.join("\n"));
        assert!(!doc["findings"].as_array().unwrap().is_empty());
    }
    // The schema really checks: an unknown code is refused.
    let mut broken: serde_json::Value = serde_json::json!({});
    broken["findings"] = serde_json::json!([{ "code": "no-such-code" }]);
    assert!(!validator.is_valid(&broken));
}

/// An application's report (sections per function and layer, `apps`, `function` and `layer` on
/// findings) against the same schema.
#[test]
fn application_report_validates_against_its_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join(".aws-sam/build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        build.join("template.yaml"),
        "Resources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: L}\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: F, Runtime: python3.12, Architectures: [arm64], Layers: [!Ref L, 'arn:aws:lambda:us-east-1:1:layer:x:1']}\n  I:\n    Type: AWS::Serverless::Function\n    Properties: {PackageType: Image, ImageUri: x}\n",
    )
    .unwrap();
    Pkg::new().fixture("m/_m.cpython-312-x86_64-linux-gnu.so", "x86_64/pyext.so").write_dir(&build, "F");
    Pkg::new().fixture("python/n/_n.cpython-312-x86_64-linux-gnu.so", "x86_64/pyext.so").write_dir(&build, "L");
    let o = common::elfcheck_command()
        .arg(build.to_str().unwrap())
        .args(["--format", "json"])
        .output()
        .expect("elfcheck runs");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["apps"][0]["tool"], "sam");
    assert!(doc["findings"].as_array().unwrap().iter().any(|f| f["function"] == "F"));
    assert!(doc["findings"].as_array().unwrap().iter().any(|f| f["layer"] == "L"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "the report does not validate:\n{}", errors.join("\n"));
}
