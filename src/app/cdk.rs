//! AWS CDK: `cdk synth` writes a cloud assembly, `cdk.out/`: `manifest.json` lists the stacks
//! (`aws:cloudformation:stack`, each with its `templateFile`), the asset manifests and, for
//! stages, nested assemblies (`cdk:cloud-assembly`, `properties.directoryName`). The templates
//! are resolved already; a function's `Code` (a layer's `Content`) is an S3 key, and its folder
//! is named by the resource's `aws:asset:path` metadata, or else by the asset manifest entry
//! whose hash is the S3 key. Content-identical assets are one folder, shared by every function
//! whose code hashes the same.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cfn::{Template, scalar};
use super::resources::{self, Code};
use super::{Application, Tool, relative};
use crate::error::Error;

const STACK: &str = "aws:cloudformation:stack";
const NESTED: &str = "cdk:cloud-assembly";
const ASSETS: &str = "cdk:asset-manifest";
/// Stages nest assemblies; this bounds a cyclic or hostile manifest.
const MAX_NESTING: usize = 8;

/// Whether a `manifest.json` is a cloud assembly's with a stack or a nested assembly.
pub(super) fn is_assembly_manifest(text: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(text) else { return false };
    doc.get("artifacts")
        .and_then(Value::as_object)
        .is_some_and(|a| a.values().any(|v| matches!(v.get("type").and_then(Value::as_str), Some(STACK | NESTED))))
}

/// A stack of the assembly: its artifact id, its template, the assembly directory it is in, and
/// the file assets of that assembly (hash -> folder or file).
struct Stack {
    id: String,
    template: PathBuf,
    dir: PathBuf,
    assets: HashMap<String, PathBuf>,
}

pub(super) fn load(root: &Path) -> Result<Application, Error> {
    let mut stacks = Vec::new();
    let mut templates = vec!["manifest.json".to_string()];
    collect(root, 0, &mut stacks)?;
    // Logical ids are unique within a template only.
    let several = stacks.len() > 1;
    let mut app = Application {
        tool: Tool::Cdk,
        root: root.to_path_buf(),
        templates: Vec::new(),
        functions: Vec::new(),
        layers: Vec::new(),
        skipped: Vec::new(),
    };
    for stack in &stacks {
        let text = std::fs::read_to_string(&stack.template).map_err(|e| Error::io(&stack.template, e))?;
        let template = Template::parse(&text).map_err(|cause| Error::Input { path: stack.template.clone(), cause })?;
        templates.push(relative(&stack.template, root).display().to_string());
        let prefix = if several { format!("{}/", stack.id) } else { String::new() };
        let locate = |id: &str, res: &Value, code: &Value| locate(stack, id, res, code);
        let found = resources::read(&template, &prefix, &locate)
            .map_err(|cause| Error::Input { path: stack.template.clone(), cause })?;
        app.functions.extend(found.functions);
        app.layers.extend(found.layers);
        app.skipped.extend(found.skipped);
    }
    templates.dedup();
    app.templates = templates;
    Ok(app)
}

/// The stacks of the assembly in `dir` and of the assemblies nested in it.
fn collect(dir: &Path, depth: usize, stacks: &mut Vec<Stack>) -> Result<(), Error> {
    if depth > MAX_NESTING {
        return Err(Error::Input { path: dir.to_path_buf(), cause: "cloud assemblies nested too deeply".into() });
    }
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| Error::Input { path: path.clone(), cause: e.to_string() })?;
    let Some(artifacts) = doc.get("artifacts").and_then(Value::as_object) else { return Ok(()) };
    let prop = |a: &Value, name: &str| {
        a.get("properties").and_then(|p| p.get(name)).and_then(Value::as_str).map(str::to_string)
    };
    let mut assets = HashMap::new();
    for a in artifacts.values() {
        if a.get("type").and_then(Value::as_str) == Some(ASSETS)
            && let Some(file) = prop(a, "file")
        {
            read_assets(&dir.join(file), dir, &mut assets);
        }
    }
    let mut ids: Vec<&String> = artifacts.keys().collect();
    ids.sort();
    for id in ids {
        let a = &artifacts[id];
        match a.get("type").and_then(Value::as_str) {
            Some(STACK) => {
                let Some(file) = prop(a, "templateFile") else { continue };
                stacks.push(Stack {
                    id: id.clone(),
                    template: dir.join(file),
                    dir: dir.to_path_buf(),
                    assets: assets.clone(),
                });
            }
            Some(NESTED) => {
                if let Some(sub) = prop(a, "directoryName") {
                    collect(&dir.join(sub), depth + 1, stacks)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The file assets of an asset manifest: hash -> source path (relative to the assembly).
fn read_assets(path: &Path, dir: &Path, out: &mut HashMap<String, PathBuf>) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else { return };
    for (hash, file) in doc.get("files").and_then(Value::as_object).into_iter().flatten() {
        if let Some(p) = file.get("source").and_then(|s| s.get("path")).and_then(Value::as_str) {
            out.insert(hash.clone(), dir.join(p));
        }
    }
}

fn locate(stack: &Stack, id: &str, res: &Value, code: &Value) -> Result<Code, String> {
    let meta = res.get("Metadata");
    let property = meta.and_then(|m| m.get("aws:asset:property")).and_then(Value::as_str);
    let from_metadata = meta
        .and_then(|m| m.get("aws:asset:path"))
        .and_then(Value::as_str)
        .filter(|_| matches!(property, Some("Code" | "Content") | None))
        .map(|p| stack.dir.join(p));
    let from_manifest = || {
        let key = code.get("S3Key").and_then(scalar)?;
        let hash = key.rsplit('/').next()?.trim_end_matches(".zip");
        stack.assets.get(hash).cloned()
    };
    let Some(path) = from_metadata.or_else(from_manifest) else {
        return Ok(Code::Skip("its code is in S3, not an asset of the cloud assembly".into()));
    };
    if !path.exists() {
        return Err(format!(
            "the asset of {id}, `{}`, is not in the cloud assembly (synthesize again)",
            path.display()
        ));
    }
    Ok(Code::Path(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    const MANIFEST: &str = r#"{"version": "55.0.0", "artifacts": {
      "App.assets": {"type": "cdk:asset-manifest", "properties": {"file": "App.assets.json"}},
      "App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.template.json"}},
      "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}"#;

    const ASSETS: &str = r#"{"version": "55.0.0", "files": {
      "cccc": {"source": {"path": "asset.cccc", "packaging": "zip"}}}}"#;

    const TEMPLATE: &str = r#"{"Resources": {
      "LayerAAAA": {"Type": "AWS::Lambda::LayerVersion",
        "Properties": {"CompatibleRuntimes": ["python3.11"], "CompatibleArchitectures": ["arm64"],
                       "Content": {"S3Bucket": {"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "aaaa.zip"}},
        "Metadata": {"aws:asset:path": "asset.aaaa", "aws:asset:property": "Content"}},
      "OneBBBB": {"Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.12", "Architectures": ["arm64"], "Layers": [{"Ref": "LayerAAAA"}],
                       "Code": {"S3Bucket": {"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "bbbb.zip"}},
        "Metadata": {"aws:asset:path": "asset.bbbb", "aws:asset:property": "Code"}},
      "TwoBBBB": {"Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "nodejs20.x",
                       "Code": {"S3Bucket": {"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "bbbb.zip"}},
        "Metadata": {"aws:asset:path": "asset.bbbb", "aws:asset:property": "Code"}},
      "FromManifest": {"Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.12", "Code": {"S3Bucket": "b", "S3Key": "cccc.zip"}}},
      "Inline": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Code": {"ZipFile": "x"}}},
      "Image": {"Type": "AWS::Lambda::Function",
        "Properties": {"PackageType": "Image", "Code": {"ImageUri": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr"}}},
        "Metadata": {"aws:asset:path": "asset.dddd", "aws:asset:property": "Code.ImageUri"}}}}"#;

    #[test]
    fn reads_a_cloud_assembly() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for a in ["asset.aaaa/python", "asset.bbbb", "asset.cccc", "asset.dddd"] {
            std::fs::create_dir_all(d.join(a)).unwrap();
        }
        std::fs::write(d.join("manifest.json"), MANIFEST).unwrap();
        std::fs::write(d.join("App.assets.json"), ASSETS).unwrap();
        std::fs::write(d.join("App.template.json"), TEMPLATE).unwrap();
        assert!(is_assembly_manifest(MANIFEST));
        let app = load(d).unwrap();
        assert_eq!(app.templates, vec!["manifest.json", "App.template.json"]);
        assert_eq!(app.layers[0].code, d.join("asset.aaaa"));
        let f: Vec<(&str, &Path)> = app.functions.iter().map(|f| (f.id.as_str(), f.code.as_path())).collect();
        assert_eq!(
            f,
            vec![
                ("FromManifest", d.join("asset.cccc").as_path()),
                ("OneBBBB", d.join("asset.bbbb").as_path()),
                ("TwoBBBB", d.join("asset.bbbb").as_path()),
            ]
        );
        assert_eq!(app.functions[1].arch, Ok(Arch::Arm64));
        assert_eq!(app.functions[1].layers, vec!["LayerAAAA"]);
        assert_eq!(app.functions[2].arch, Ok(Arch::X86_64));
        let skipped: Vec<&str> = app.skipped.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(skipped, vec!["Image", "Inline"]);
    }

    #[test]
    fn nested_assemblies_prefix_ids_with_their_stack() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("assembly-Prod/asset.bbbb")).unwrap();
        std::fs::create_dir_all(d.join("asset.bbbb")).unwrap();
        std::fs::write(
            d.join("manifest.json"),
            r#"{"artifacts": {"App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.template.json"}},
                "assembly-Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Prod"}}}}"#,
        )
        .unwrap();
        std::fs::write(
            d.join("assembly-Prod/manifest.json"),
            r#"{"artifacts": {"Prod-App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Prod-App.template.json"}}}}"#,
        )
        .unwrap();
        let fn_only = r#"{"Resources": {"F": {"Type": "AWS::Lambda::Function",
            "Properties": {"Runtime": "python3.12", "Code": {"S3Bucket": "b", "S3Key": "bbbb.zip"}},
            "Metadata": {"aws:asset:path": "asset.bbbb", "aws:asset:property": "Code"}}}}"#;
        std::fs::write(d.join("App.template.json"), fn_only).unwrap();
        std::fs::write(d.join("assembly-Prod/Prod-App.template.json"), fn_only).unwrap();
        let app = load(d).unwrap();
        let ids: Vec<&str> = app.functions.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["App/F", "Prod-App/F"]);
        assert_eq!(app.functions[1].code, d.join("assembly-Prod/asset.bbbb"));
    }
}
