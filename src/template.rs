//! The target from the deployment's own description: an AWS SAM / CloudFormation
//! `template.yaml` or a Serverless Framework `serverless.yml` beside the package.
//!
//! CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...) are YAML tags that a plain YAML
//! loader refuses; they are kept as tagged values here and simply not read.

use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::target::Arch;

const TEMPLATE_NAMES: [&str; 5] =
    ["template.yaml", "template.yml", "template.json", "serverless.yml", "serverless.yaml"];

/// A function found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredFunction {
    pub name: String,
    pub runtime: Option<String>,
    pub arch: Option<Arch>,
    /// `CodeUri` / `handler` directory / `package.artifact`, when given.
    pub code: Option<String>,
}

/// What a template says about the function an input belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub source: PathBuf,
    pub function: DeclaredFunction,
    /// Other functions with other targets, when the choice was not certain.
    pub ambiguous: bool,
}

/// Finds the template that describes `input` (beside it or in a parent directory, up to the
/// repository root) and the function in it.
pub fn discover(input: &Path) -> Option<Declared> {
    let start = std::fs::canonicalize(input).ok()?;
    let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
    while let Some(d) = dir {
        for name in TEMPLATE_NAMES {
            let path = d.join(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                let functions =
                    if name.starts_with("serverless") { serverless_functions(&text) } else { sam_functions(&text) };
                if let Some((function, ambiguous)) = pick(&functions, &start) {
                    return Some(Declared { source: path, function, ambiguous });
                }
            }
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    None
}

/// The function whose name or code location matches the input, else the only target all
/// functions share, else the first.
fn pick(functions: &[DeclaredFunction], input: &Path) -> Option<(DeclaredFunction, bool)> {
    let first = functions.first()?;
    let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let input_str = input.to_string_lossy();
    let matches = |f: &DeclaredFunction| {
        f.name == stem
            || f.code.as_deref().is_some_and(|c| {
                let c = c.trim_end_matches('/').trim_start_matches("./");
                !c.is_empty()
                    && (input_str.ends_with(c) || Path::new(c).file_stem().and_then(|s| s.to_str()) == Some(stem))
            })
    };
    if let Some(f) = functions.iter().find(|f| matches(f)) {
        return Some((f.clone(), false));
    }
    let same = functions.iter().all(|f| f.runtime == first.runtime && f.arch == first.arch);
    Some((first.clone(), !same))
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn arch_of(v: &Value) -> Option<Arch> {
    let s = match v {
        Value::Sequence(seq) => seq.first()?.as_str()?.to_string(),
        other => other.as_str()?.to_string(),
    };
    s.parse().ok()
}

/// Functions of an AWS SAM / CloudFormation template (`AWS::Serverless::Function`,
/// `AWS::Lambda::Function`, `AWS::Serverless::LayerVersion` with `CompatibleRuntimes`).
pub fn sam_functions(text: &str) -> Vec<DeclaredFunction> {
    let Ok(doc) = serde_norway::from_str::<Value>(text) else { return Vec::new() };
    let globals = &doc["Globals"]["Function"];
    let mut out = Vec::new();
    let Some(resources) = doc["Resources"].as_mapping() else { return out };
    for (name, res) in resources {
        let Some(name) = name.as_str() else { continue };
        let ty = res["Type"].as_str().unwrap_or("");
        let props = &res["Properties"];
        let (runtime, arch) = match ty {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => (
                str_of(&props["Runtime"]).or_else(|| str_of(&globals["Runtime"])),
                arch_of(&props["Architectures"]).or_else(|| arch_of(&globals["Architectures"])),
            ),
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => (
                props["CompatibleRuntimes"].as_sequence().and_then(|s| s.first()).and_then(str_of),
                arch_of(&props["CompatibleArchitectures"]),
            ),
            _ => continue,
        };
        let code = str_of(&props["CodeUri"]).or_else(|| str_of(&props["ContentUri"]));
        if props["PackageType"].as_str() == Some("Image") {
            continue;
        }
        out.push(DeclaredFunction { name: name.to_string(), runtime, arch, code });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Functions of a Serverless Framework `serverless.yml` (`provider.runtime`,
/// `provider.architecture`, per-function overrides).
pub fn serverless_functions(text: &str) -> Vec<DeclaredFunction> {
    let Ok(doc) = serde_norway::from_str::<Value>(text) else { return Vec::new() };
    let provider = &doc["provider"];
    let mut out = Vec::new();
    if let Some(functions) = doc["functions"].as_mapping() {
        for (name, f) in functions {
            let Some(name) = name.as_str() else { continue };
            out.push(DeclaredFunction {
                name: name.to_string(),
                runtime: str_of(&f["runtime"]).or_else(|| str_of(&provider["runtime"])),
                arch: arch_of(&f["architecture"]).or_else(|| arch_of(&provider["architecture"])),
                code: str_of(&f["package"]["artifact"]),
            });
        }
    }
    if out.is_empty() && !provider.is_null() {
        out.push(DeclaredFunction {
            name: str_of(&doc["service"]).unwrap_or_default(),
            runtime: str_of(&provider["runtime"]),
            arch: arch_of(&provider["architecture"]),
            code: None,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAM: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: !Ref TimeoutParam
Resources:
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: api/
      Handler: app.handler
      Architectures: [arm64]
      Role: !GetAtt ApiRole.Arn
      Environment:
        Variables:
          TABLE: !Sub "${AWS::StackName}-table"
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Runtime: python3.12
  ApiRole:
    Type: AWS::IAM::Role
"#;

    #[test]
    fn sam_template_with_intrinsic_tags() {
        let fns = sam_functions(SAM);
        assert_eq!(fns.len(), 2);
        assert_eq!(fns[0].name, "ApiFunction");
        assert_eq!(fns[0].runtime.as_deref(), Some("python3.11"));
        assert_eq!(fns[0].arch, Some(Arch::Arm64));
        assert_eq!(fns[1].runtime.as_deref(), Some("python3.12"));
        assert_eq!(fns[1].arch, None);
    }

    #[test]
    fn picks_the_function_by_code_location() {
        let fns = sam_functions(SAM);
        let (f, ambiguous) = pick(&fns, Path::new("/repo/.aws-sam/build/Worker")).unwrap();
        assert_eq!((f.name.as_str(), ambiguous), ("Worker", false));
        let (f, _) = pick(&fns, Path::new("/repo/worker")).unwrap();
        assert_eq!(f.name, "Worker");
        let (_, ambiguous) = pick(&fns, Path::new("/repo/other.zip")).unwrap();
        assert!(ambiguous);
    }

    #[test]
    fn serverless_yml() {
        let fns = serverless_functions(
            "service: svc\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  architecture: arm64\nfunctions:\n  hello:\n    handler: h.main\n",
        );
        assert_eq!(fns[0].runtime.as_deref(), Some("nodejs20.x"));
        assert_eq!(fns[0].arch, Some(Arch::Arm64));
    }
}
