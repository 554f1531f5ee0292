//! Serverless Framework: `serverless package` writes `.serverless/` with the compiled stack,
//! `cloudformation-template-update-stack.json`, and the zips it deploys. A function's `Code`
//! (a layer's `Content`) is an S3 key whose file name is the zip's name (deploy uploads each
//! artifact under the deployment prefix by its file name); with packaging plugins the zip may
//! sit in a subfolder (`functions/x86-service-stage-x86.zip`), and zips no key names (the
//! framework's own per-function zips that a plugin replaced) are not deployed and not read.
//! When two zips have the key's name, `serverless-state.json` says which one is the artifact.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cfn::{Template, scalar};
use super::resources::{self, Code};
use super::{Application, SLS_TEMPLATE, Tool};
use crate::error::Error;

const STATE: &str = "serverless-state.json";

pub(super) fn load(root: &Path) -> Result<Application, Error> {
    let path = root.join(SLS_TEMPLATE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let template = Template::parse(&text).map_err(|cause| Error::Input { path: path.clone(), cause })?;
    let zips = zips_by_name(root);
    let artifacts = state_artifacts(root);
    let locate = |id: &str, _res: &Value, code: &Value| locate(&zips, &artifacts, id, code);
    let found = resources::read(&template, "", &locate).map_err(|cause| Error::Input { path: path.clone(), cause })?;
    Ok(Application {
        tool: Tool::Serverless,
        root: root.to_path_buf(),
        templates: vec![SLS_TEMPLATE.to_string()],
        functions: found.functions,
        layers: found.layers,
        skipped: found.skipped,
    })
}

/// Every zip in `.serverless/` and its subfolders (not in what plugins unpack there).
fn zips_by_name(root: &Path) -> HashMap<String, Vec<PathBuf>> {
    let mut out: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for entry in walkdir::WalkDir::new(root).max_depth(3).sort_by_file_name().into_iter().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_file() && name.ends_with(".zip") {
            out.entry(name).or_default().push(entry.path().to_path_buf());
        }
    }
    out
}

/// The artifacts `serverless-state.json` names (`package.artifact` of the service, its
/// functions and layers), as paths; relative ones are relative to the service directory.
fn state_artifacts(root: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(root.join(STATE)) else { return Vec::new() };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else { return Vec::new() };
    let service_dir = root.parent().unwrap_or(root);
    let mut out = Vec::new();
    let mut collect = |v: Option<&Value>| {
        for item in v.and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            if let Some(a) = item.get("package").and_then(|p| p.get("artifact")).and_then(Value::as_str) {
                out.push(service_dir.join(a));
            }
        }
    };
    let service = doc.get("service");
    collect(service.and_then(|s| s.get("functions")));
    collect(service.and_then(|s| s.get("layers")));
    collect(service.and_then(|s| s.get("initialServerlessConfig")).and_then(|s| s.get("layers")));
    if let Some(a) = service.and_then(|s| s.get("package")).and_then(|p| p.get("artifact")).and_then(Value::as_str) {
        out.push(service_dir.join(a));
    }
    out
}

fn locate(zips: &HashMap<String, Vec<PathBuf>>, artifacts: &[PathBuf], id: &str, code: &Value) -> Result<Code, String> {
    let Some(key) = code.get("S3Key").and_then(scalar) else {
        return Ok(Code::Skip("its code is not a zip of this package".into()));
    };
    let name = key.rsplit('/').next().unwrap_or(&key);
    match zips.get(name).map(Vec::as_slice) {
        None | Some([]) => {
            Err(format!("the zip of {id}, `{name}`, is not in the package (run `serverless package` again)"))
        }
        Some([one]) => Ok(Code::Path(one.clone())),
        Some(several) => {
            let same = |a: &Path, b: &Path| {
                std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
            };
            match several.iter().find(|z| artifacts.iter().any(|a| same(a, z))) {
                Some(z) => Ok(Code::Path(z.clone())),
                None => Err(format!("several zips are named `{name}` and `{STATE}` names none of them")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    const TEMPLATE: &str = r#"{"Resources": {
      "SharedLambdaLayer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {
        "Content": {"S3Bucket": {"Ref": "ServerlessDeploymentBucket"}, "S3Key": "serverless/svc/test/1-2/shared.zip"},
        "CompatibleRuntimes": ["python3.11"], "CompatibleArchitectures": ["x86_64", "arm64"]}},
      "ArmLambdaFunction": {"Type": "AWS::Lambda::Function", "Properties": {
        "Code": {"S3Bucket": {"Ref": "ServerlessDeploymentBucket"}, "S3Key": "serverless/svc/test/1-2/arm-svc-test-arm.zip"},
        "Runtime": "python3.11", "Architectures": ["arm64"], "Layers": [{"Ref": "SharedLambdaLayer"}]}},
      "ImageLambdaFunction": {"Type": "AWS::Lambda::Function", "Properties": {
        "Code": {"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/x@sha256:00"}, "PackageType": "Image"}},
      "ServerlessDeploymentBucket": {"Type": "AWS::S3::Bucket"}}}"#;

    #[test]
    fn reads_a_serverless_package() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".serverless");
        std::fs::create_dir_all(root.join("functions")).unwrap();
        for z in ["shared.zip", "arm.zip", "functions/arm-svc-test-arm.zip"] {
            std::fs::write(root.join(z), b"PK").unwrap();
        }
        std::fs::write(root.join(SLS_TEMPLATE), TEMPLATE).unwrap();
        let app = load(&root).unwrap();
        assert_eq!(app.layers[0].code, root.join("shared.zip"));
        assert_eq!(app.functions.len(), 1);
        let f = &app.functions[0];
        assert_eq!((f.id.as_str(), f.arch.clone()), ("ArmLambdaFunction", Ok(Arch::Arm64)));
        assert_eq!(f.code, root.join("functions/arm-svc-test-arm.zip"));
        assert_eq!(f.layers, vec!["SharedLambdaLayer"]);
        assert_eq!(app.skipped[0].id, "ImageLambdaFunction");
    }

    #[test]
    fn the_state_file_settles_two_zips_of_one_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".serverless");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::write(root.join("a/shared.zip"), b"PK").unwrap();
        std::fs::write(root.join("b/shared.zip"), b"PK").unwrap();
        let zips = zips_by_name(&root);
        let code = serde_json::json!({"S3Key": "x/shared.zip"});
        assert!(locate(&zips, &[], "L", &code).is_err());
        std::fs::write(
            root.join(STATE),
            r#"{"service": {"layers": {"shared": {"package": {"artifact": ".serverless/b/shared.zip"}}}}}"#,
        )
        .unwrap();
        match locate(&zips, &state_artifacts(&root), "L", &code).unwrap() {
            Code::Path(p) => assert_eq!(p, root.join("b/shared.zip")),
            Code::Skip(why) => panic!("skipped: {why}"),
        }
    }
}
