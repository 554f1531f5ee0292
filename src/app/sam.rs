//! AWS SAM: `sam build` writes `.aws-sam/build/template.yaml`, the source template with only the
//! code locations rewritten (`CodeUri`, `ContentUri`, `Code`, `Content`: folder names beside
//! it); `Globals`, parameters, conditions and intrinsics stay as written.

use std::path::Path;

use serde_json::Value;

use super::cfn::Template;
use super::resources::{self, Code};
use super::{Application, SAM_TEMPLATES, Tool};
use crate::error::Error;

pub(super) fn load(root: &Path) -> Result<Application, Error> {
    let name = SAM_TEMPLATES.iter().find(|n| root.join(n).is_file()).copied().unwrap_or(SAM_TEMPLATES[0]);
    let path = root.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let template = Template::parse(&text).map_err(|cause| Error::Input { path: path.clone(), cause })?;
    let locate = |id: &str, _res: &Value, code: &Value| locate(root, id, code);
    let found = resources::read(&template, "", &locate).map_err(|cause| Error::Input { path: path.clone(), cause })?;
    Ok(Application {
        tool: Tool::Sam,
        root: root.to_path_buf(),
        templates: vec![name.to_string()],
        functions: found.functions,
        layers: found.layers,
        skipped: found.skipped,
    })
}

/// A code location of the built template: a folder (or zip) relative to it; S3 locations are
/// not in the build output.
pub(super) fn locate(root: &Path, id: &str, code: &Value) -> Result<Code, String> {
    let Some(rel) = code.as_str() else {
        return Ok(Code::Skip("its code is in S3 (`Bucket`/`Key`), not in the build output".into()));
    };
    if rel.starts_with("s3://") {
        return Ok(Code::Skip(format!("its code is in S3 (`{rel}`), not in the build output")));
    }
    let path = root.join(rel);
    if !path.exists() {
        return Err(format!("the code of {id}, `{rel}`, is not in the build output (build again)"));
    }
    Ok(Code::Path(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    /// The shape of `sam build`'s output for tests/apps/sam, trimmed.
    const BUILT: &str = r#"
Parameters:
  PythonRuntime: {Type: String, Default: python3.11}
  Graviton: {Type: String, Default: 'true'}
Conditions:
  UseGraviton:
    Fn::Equals:
    - Ref: Graviton
    - 'true'
Globals:
  Function:
    Runtime:
      Ref: PythonRuntime
    Architectures:
    - x86_64
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: SharedLayer
      CompatibleRuntimes: [python3.11]
      CompatibleArchitectures: [x86_64, arm64]
  X86Function:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: X86Function
      Layers:
      - Ref: SharedLayer
      - arn:aws:lambda:us-east-1:123456789012:layer:external-tools:3
  ArmFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ArmFunction
      Runtime: !Ref Missing
      Architectures: !If [UseGraviton, [arm64], [x86_64]]
      Layers: [!Ref SharedLayer]
  ImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:latest
  S3Function:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/key.zip
"#;

    #[test]
    fn reads_a_built_template() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["SharedLayer/python", "X86Function", "ArmFunction"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("template.yaml"), BUILT).unwrap();
        let app = load(dir.path()).unwrap();
        assert_eq!(app.layers.len(), 1);
        assert_eq!(app.layers[0].compatible_architectures, vec![Arch::X86_64, Arch::Arm64]);
        let ids: Vec<&str> = app.functions.iter().map(|f| f.id.as_str()).collect();
        // In logical-id order, whatever the template's.
        assert_eq!(ids, vec!["ArmFunction", "X86Function"]);
        let x86 = &app.functions[1];
        assert_eq!(x86.runtime.as_deref(), Ok("python3.11"));
        assert_eq!(x86.arch, Ok(Arch::X86_64));
        assert_eq!(x86.layers, vec!["SharedLayer"]);
        assert_eq!(x86.external_layers, vec!["arn:aws:lambda:us-east-1:123456789012:layer:external-tools:3"]);
        assert_eq!(x86.code, dir.path().join("X86Function"));
        let arm = &app.functions[0];
        assert_eq!(arm.arch, Ok(Arch::Arm64));
        assert!(arm.runtime.as_ref().unwrap_err().contains("`Missing`"));
        let skipped: Vec<&str> = app.skipped.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(skipped, vec!["ImageFunction", "S3Function"]);
        assert!(app.skipped[0].reason.contains("container image"));
    }

    #[test]
    fn a_missing_code_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("template.yaml"),
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: F, Runtime: python3.12}\n",
        )
        .unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not in the build output"), "{err}");
    }
}
