//! Whole applications: every function and layer of a SAM, CDK or Serverless build, each judged
//! against its own runtime and architecture, with its layers.
//!
//! The first tests use a small SAM-shaped build made here from the project's fixtures. The
//! `#[ignore]`d ones read the real builds of `tests/apps/` (`tests/apps/build.sh OUTDIR`, then
//! `ELFCHECK_APPS_DIR=OUTDIR cargo test --test apps -- --ignored`; `scripts/ci/apps.sh` does
//! both) and hold every function and layer to `tests/apps/expected.json`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Pkg;
use serde_json::Value;

fn elfcheck(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_elfcheck"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("elfcheck runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)))
}

/// The sections of a JSON report for one function, or for one layer.
fn sections<'a>(doc: &'a Value, key: &str, id: &str) -> Vec<&'a Value> {
    doc["inputs"].as_array().unwrap().iter().filter(|i| i[key] == id).collect()
}

fn findings<'a>(doc: &'a Value, key: &str, id: &str) -> Vec<&'a Value> {
    doc["findings"].as_array().unwrap().iter().filter(|f| f[key] == id).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Runtime: {Type: String, Default: python3.12}
  Arch: {Type: String, Default: arm64}
Conditions:
  UseArm: !Equals [!Ref Arch, arm64]
Globals:
  Function:
    Runtime: !Ref Runtime
    Architectures: [x86_64]
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: SharedLayer
      CompatibleRuntimes: [python3.12]
    Metadata: {SamResourceId: SharedLayer}
  X86Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: X86Fn
      Layers: [!Ref SharedLayer, "arn:aws:lambda:us-east-1:123456789012:layer:tools:1"]
    Metadata: {SamResourceId: X86Fn}
  ArmFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ArmFn
      Architectures: !If [UseArm, [arm64], [x86_64]]
      Layers: [!Ref SharedLayer]
    Metadata: {SamResourceId: ArmFn}
  ImageFn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:latest
"#;

/// A project with `.aws-sam/build`: two functions carrying an x86_64 Python extension (one of
/// them arm64 through a condition), one layer both attach, an image function, an external layer.
fn sam_project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    let build = project.join(".aws-sam/build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(build.join("template.yaml"), TEMPLATE).unwrap();
    let function = Pkg::new()
        .file("app.py", "import fast\n", 0o644)
        .fixture("fast.cpython-312-x86_64-linux-gnu.so", "x86_64/pyext.so");
    function.write_dir(&build, "X86Fn");
    function.write_dir(&build, "ArmFn");
    Pkg::new().file("python/shared.py", "X = 1\n", 0o644).write_dir(&build, "SharedLayer");
    project
}

#[test]
fn each_function_is_judged_for_its_own_target_with_its_layers() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let o = elfcheck(&project, &["check", ".aws-sam/build", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = json(&o);
    let app = &doc["apps"][0];
    assert_eq!(app["tool"], "sam");
    assert_eq!((app["functions"].as_u64(), app["layers"].as_u64()), (Some(2), Some(1)));
    // Two function folders and one layer, the layer read once for both functions.
    assert_eq!(app["code_read"], 3);
    assert_eq!(app["skipped"][0]["id"], "ImageFn");

    let arm = sections(&doc, "function", "ArmFn");
    assert_eq!(arm.len(), 1);
    assert_eq!(arm[0]["input"], ".aws-sam/build/ArmFn");
    assert_eq!(
        (arm[0]["target"]["runtime"].as_str(), arm[0]["target"]["arch"].as_str()),
        (Some("python3.12"), Some("arm64"))
    );
    assert_eq!(strings(&arm[0]["layers"]), vec!["SharedLayer"]);
    let arm_findings = findings(&doc, "function", "ArmFn");
    assert_eq!(arm_findings.len(), 1, "{arm_findings:#?}");
    assert_eq!(arm_findings[0]["code"], "arch-mismatch");
    assert_eq!(arm_findings[0]["path"], "fast.cpython-312-x86_64-linux-gnu.so");

    let x86 = sections(&doc, "function", "X86Fn");
    assert_eq!(x86[0]["target"]["arch"], "x86_64");
    assert_eq!(strings(&x86[0]["external_layers"]), vec!["arn:aws:lambda:us-east-1:123456789012:layer:tools:1"]);
    assert!(findings(&doc, "function", "X86Fn").is_empty());

    // The layer once per target of the functions attaching it.
    let layer = sections(&doc, "layer", "SharedLayer");
    let judged: BTreeSet<(String, Vec<String>)> = layer
        .iter()
        .map(|s| (s["target"]["arch"].as_str().unwrap().to_string(), strings(&s["for_functions"])))
        .collect();
    let want: BTreeSet<(String, Vec<String>)> =
        [("arm64".into(), vec!["ArmFn".into()]), ("x86_64".into(), vec!["X86Fn".into()])].into();
    assert_eq!(judged, want);
}

#[test]
fn a_project_root_says_which_build_output_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let o = elfcheck(dir.path(), &["project", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(json(&o)["apps"][0]["root"], ".aws-sam/build");
    let o = elfcheck(&project, &["."]);
    let text = stdout(&o);
    assert!(
        text.starts_with(".: the AWS SAM build in `.aws-sam/build` (`template.yaml`: 2 functions, 1 layer)"),
        "{text}"
    );
    assert!(text.contains("skipped: function ImageFn: a container image"), "{text}");
    assert!(text.contains(".aws-sam/build/ArmFn (function ArmFn; python3.12, Amazon Linux 2023, arm64"), "{text}");
    assert!(text.contains("not checked: layer arn:aws:lambda:us-east-1:123456789012:layer:tools:1"), "{text}");
    assert!(text.contains("1 error, 0 warnings, 0 infos in 2 functions and 1 layer"), "{text}");
}

#[test]
fn sarif_and_github_name_the_function() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let o = elfcheck(&project, &[".aws-sam/build", "--format", "sarif"]);
    let doc = json(&o);
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["properties"]["function"], "ArmFn");
    assert_eq!(result["locations"][0]["logicalLocations"][0]["name"], "ArmFn");
    let o = elfcheck(&project, &[".aws-sam/build", "--format", "github"]);
    assert!(stdout(&o).contains("(function ArmFn)"), "{}", stdout(&o));
}

#[test]
fn runtime_and_arch_flags_are_refused_for_an_application() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    for flags in [&["--runtime", "python3.12"][..], &["--arch", "arm64"], &["--layer", ".aws-sam/build/SharedLayer"]] {
        let mut args = vec![".aws-sam/build"];
        args.extend_from_slice(flags);
        let o = elfcheck(&project, &args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}");
        assert!(stderr(&o).contains("--no-app"), "{}", stderr(&o));
    }
    // An elfcheck.toml target is for single packages; the template still decides here.
    std::fs::write(project.join("elfcheck.toml"), "runtime = \"python3.11\"\narch = \"x86_64\"\n").unwrap();
    let o = elfcheck(&project, &[".aws-sam/build", "--format", "json"]);
    assert_eq!(sections(&json(&o), "function", "ArmFn")[0]["target"]["arch"], "arm64");
}

#[test]
fn no_app_checks_the_folder_as_one_package() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let o = elfcheck(&project, &[".aws-sam/build", "--no-app", "--runtime", "python3.12", "--format", "json"]);
    let doc = json(&o);
    assert!(doc.get("apps").is_none());
    assert_eq!(doc["inputs"].as_array().unwrap().len(), 1);
    assert!(doc["inputs"][0].get("function").is_none());
}

#[test]
fn fix_plans_each_function_for_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let o = elfcheck(&project, &["fix", ".aws-sam/build", "--plan", "--via", "pip"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(text.contains("== function ArmFn"), "{text}");
    assert!(!text.contains("== function X86Fn"), "{text}");
    // An OUT that holds something is refused: -o names the new copy of the build output.
    std::fs::create_dir(project.join("out")).unwrap();
    std::fs::write(project.join("out/keep"), "").unwrap();
    let o = elfcheck(&project, &["fix", ".aws-sam/build", "-o", "out", "--via", "pip"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = elfcheck(&project, &["fix", ".aws-sam/build", "--via", "pip"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("-o OUT"), "{}", stderr(&o));
}

#[test]
fn a_layer_shared_by_two_architectures_is_not_fixed_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let project = sam_project(dir.path());
    let build = project.join(".aws-sam/build");
    // The layer now carries the x86_64 extension, both functions load it from /opt/python.
    std::fs::remove_dir_all(build.join("SharedLayer")).unwrap();
    Pkg::new()
        .fixture("python/fast.cpython-312-x86_64-linux-gnu.so", "x86_64/pyext.so")
        .write_dir(&build, "SharedLayer");
    for f in ["X86Fn", "ArmFn"] {
        std::fs::remove_file(build.join(f).join("fast.cpython-312-x86_64-linux-gnu.so")).unwrap();
    }
    let o = elfcheck(&project, &[".aws-sam/build", "--format", "json"]);
    let doc = json(&o);
    let layer_errors: Vec<&Value> =
        findings(&doc, "layer", "SharedLayer").into_iter().filter(|f| f["severity"] == "error").collect();
    assert_eq!(layer_errors.len(), 1, "{layer_errors:#?}");
    assert_eq!(strings(&layer_errors[0]["for_functions"]), vec!["ArmFn"]);
    let o = elfcheck(&project, &["fix", ".aws-sam/build", "--plan", "--via", "pip"]);
    let text = stdout(&o);
    assert!(text.contains("cannot fix layer SharedLayer: it is attached by"), "{text}");
    assert!(text.contains("x86_64 functions (X86Fn)") && text.contains("arm64 functions (ArmFn)"), "{text}");
}

#[test]
fn external_layers_count_and_unresolved_values_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join(".aws-sam/build");
    std::fs::create_dir_all(&build).unwrap();
    let arns: Vec<String> =
        (1..=5).map(|i| format!("      - arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1")).collect();
    std::fs::write(
        build.join("template.yaml"),
        format!(
            "Parameters:\n  Rt: {{Type: String}}\nResources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: L}}\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: F\n      Runtime: !Ref Rt\n      Layers:\n      - !Ref L\n{}\n",
            arns.join("\n")
        ),
    )
    .unwrap();
    Pkg::new().file("app.py", "x = 1\n", 0o644).write_dir(&build, "F");
    Pkg::new().file("python/l.py", "x = 1\n", 0o644).write_dir(&build, "L");
    let o = elfcheck(dir.path(), &[".aws-sam/build", "--format", "json"]);
    let doc = json(&o);
    let f = findings(&doc, "function", "F");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["code"], "package-too-large");
    assert!(f[0]["message"].as_str().unwrap().starts_with("6 layers (5 from outside the application)"));
    let assumed = &sections(&doc, "function", "F")[0]["target"]["assumed"][0];
    assert_eq!(assumed["kind"], "template-unresolved");
    assert!(assumed["reason"].as_str().unwrap().contains("`Rt` has no default"), "{assumed}");
    let o = elfcheck(dir.path(), &[".aws-sam/build"]);
    assert!(
        stdout(&o).contains("assumed: `Runtime` not read from the template: parameter `Rt` has no default"),
        "{}",
        stdout(&o)
    );
}

// --- the real builds of tests/apps --------------------------------------------------------------

fn apps_dir() -> PathBuf {
    let dir = std::env::var_os("ELFCHECK_APPS_DIR")
        .map(PathBuf::from)
        .expect("ELFCHECK_APPS_DIR: the OUTDIR of tests/apps/build.sh (scripts/ci/apps.sh sets it)");
    assert!(dir.is_dir(), "ELFCHECK_APPS_DIR={} is not a directory", dir.display());
    std::fs::canonicalize(dir).unwrap()
}

fn expected(app: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/expected.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["apps"].as_array().unwrap().iter().find(|a| a["app"] == app).unwrap().clone()
}

/// Checks a built app against expected.json: each function's runtime, architecture, layers,
/// code location and findings; skipped functions; each layer once per target of its users.
fn check_app(app: &str) {
    let want = expected(app);
    let root = apps_dir().join(want["root"].as_str().unwrap());
    let o = elfcheck(&root, &[".", "--format", "json"]);
    let doc = json(&o);
    let fails = want["functions"].as_array().unwrap().iter().any(|f| f["result"] == "fail");
    assert_eq!(o.status.code(), Some(if fails { 1 } else { 0 }), "{}", stderr(&o));
    assert_eq!(doc["apps"][0]["tool"], app);
    assert!(strings(&doc["apps"][0]["templates"]).contains(&want["template"].as_str().unwrap().to_string()));

    let mut codes = BTreeSet::new();
    for f in want["functions"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        if f["result"] == "skipped" {
            let skipped = doc["apps"][0]["skipped"].as_array().unwrap();
            assert!(skipped.iter().any(|s| s["id"] == id && s["kind"] == "function"), "{app}: {id} not skipped");
            assert!(sections(&doc, "function", id).is_empty());
            continue;
        }
        let s = sections(&doc, "function", id);
        assert_eq!(s.len(), 1, "{app}: {id} has {} sections", s.len());
        let s = s[0];
        assert_eq!(s["target"]["runtime"], f["runtime"], "{app}: {id}");
        assert_eq!(s["target"]["arch"], f["arch"], "{app}: {id}");
        assert_eq!(s["target"]["assumed"], Value::Array(vec![]), "{app}: {id}");
        assert_eq!(s["input"], f["code"], "{app}: {id}");
        assert_eq!(strings(&s["layers"]), strings(&f["layers"]), "{app}: {id}");
        assert_eq!(strings(&s["external_layers"]), strings(&f["external_layers"]), "{app}: {id}");
        codes.insert(f["code"].as_str().unwrap().to_string());
        let errors: Vec<(String, String, String, String)> = findings(&doc, "function", id)
            .into_iter()
            .filter(|x| x["severity"] == "error")
            .map(|x| {
                let s = |k: &str| x[k].as_str().unwrap_or("").to_string();
                (s("code"), s("path"), s("package"), s("runtime_error"))
            })
            .collect();
        let expected_errors: Vec<(String, String, String, String)> = f["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let s = |k: &str| x[k].as_str().unwrap_or("").to_string();
                        (s("code"), s("path"), s("package"), s("runtime_error"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(errors, expected_errors, "{app}: {id}");
        assert_eq!(s["binaries"].as_u64().unwrap() as usize, f["native"].as_array().unwrap().len(), "{app}: {id}");
    }

    for l in want["layers"].as_array().unwrap() {
        let id = l["id"].as_str().unwrap();
        codes.insert(l["code"].as_str().unwrap().to_string());
        let users: Vec<&Value> = want["functions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["layers"].as_array().is_some_and(|ls| ls.iter().any(|x| x == id)))
            .collect();
        let s = sections(&doc, "layer", id);
        // One section per architecture of its users (all python3.11 here), naming those users.
        let archs: BTreeSet<&str> = users.iter().map(|f| f["arch"].as_str().unwrap()).collect();
        assert_eq!(s.len(), archs.len(), "{app}: {id}");
        for section in &s {
            assert_eq!(section["input"], l["code"], "{app}: {id}");
            let arch = section["target"]["arch"].as_str().unwrap();
            let want_users: Vec<String> =
                users.iter().filter(|f| f["arch"] == arch).map(|f| f["id"].as_str().unwrap().to_string()).collect();
            let mut got = strings(&section["for_functions"]);
            got.sort();
            let mut want_users = want_users;
            want_users.sort();
            assert_eq!(got, want_users, "{app}: {id} for {arch}");
            assert_eq!(section["binaries"].as_u64().unwrap() as usize, l["native"].as_array().unwrap().len());
        }
        assert!(findings(&doc, "layer", id).iter().all(|f| f["severity"] != "error"), "{app}: {id}");
    }
    // Each distinct code location read once, however many functions share it.
    assert_eq!(doc["apps"][0]["code_read"].as_u64().unwrap() as usize, codes.len(), "{app}");
}

#[test]
#[ignore = "needs the real builds: tests/apps/build.sh OUTDIR, then ELFCHECK_APPS_DIR=OUTDIR"]
fn sam_build_output() {
    check_app("sam");
}

#[test]
#[ignore = "needs the real builds: tests/apps/build.sh OUTDIR, then ELFCHECK_APPS_DIR=OUTDIR"]
fn cdk_cloud_assembly() {
    check_app("cdk");
}

#[test]
#[ignore = "needs the real builds: tests/apps/build.sh OUTDIR, then ELFCHECK_APPS_DIR=OUTDIR"]
fn serverless_package() {
    check_app("serverless");
}

/// The project roots find their build outputs and say which.
#[test]
#[ignore = "needs the real builds: tests/apps/build.sh OUTDIR, then ELFCHECK_APPS_DIR=OUTDIR"]
fn project_roots() {
    for (app, output) in [("sam", ".aws-sam/build"), ("cdk", "cdk.out"), ("serverless", ".serverless")] {
        let o = elfcheck(&apps_dir().join(app), &[".", "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{app}: {}", stderr(&o));
        let doc = json(&o);
        assert_eq!(doc["apps"].as_array().unwrap().len(), 1, "{app}");
        assert_eq!(doc["apps"][0]["root"], output, "{app}");
    }
}

/// `fix --plan`: the broken arm64 function is planned for arm64; CDK's shared asset, code of
/// an x86_64 and an arm64 function, is refused with the reason.
#[test]
#[ignore = "needs the real builds: tests/apps/build.sh OUTDIR, then ELFCHECK_APPS_DIR=OUTDIR"]
fn fix_plans() {
    let o = elfcheck(&apps_dir().join("sam"), &["fix", ".", "--plan", "--via", "pip"]);
    let text = stdout(&o);
    assert!(text.contains("== function ArmMakeFunction"), "{text}");
    assert!(text.contains("manylinux2014_aarch64"), "{text}");
    let o = elfcheck(&apps_dir().join("cdk"), &["fix", ".", "--plan", "--via", "pip"]);
    let text = stdout(&o);
    assert!(text.contains("cannot fix `asset.b3ec2f7f"), "{text}");
    assert!(
        text.contains("ArmHostFunction79DA8995 (python3.11 arm64), X86FunctionDB4E1A15 (python3.11 x86_64)"),
        "{text}"
    );
}

/// `fix -o OUT --via pip` on the SAM and Serverless builds (PyPI): OUT is a fixed copy of the
/// build output that checks clean, and the build output itself is unchanged.
#[test]
#[ignore = "needs the real builds (tests/apps/build.sh) and PyPI"]
fn fix_writes_a_fixed_copy() {
    for (app, output) in [("sam", ".aws-sam/build"), ("serverless", ".serverless")] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("fixed");
        let project = apps_dir().join(app);
        let o = elfcheck(&project, &["fix", output, "-o", out.to_str().unwrap(), "--via", "pip", "-q"]);
        assert_eq!(o.status.code(), Some(0), "{app}: {}{}", stdout(&o), stderr(&o));
        let o = elfcheck(tmp.path(), &["fixed", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{app}: {}", stdout(&o));
        assert_eq!(json(&o)["apps"][0]["tool"], app);
        let o = elfcheck(&project, &[output]);
        assert_eq!(o.status.code(), Some(1), "{app}: the input must stay as it was");
    }
}
