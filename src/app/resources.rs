//! The functions and layers of one CloudFormation template, whatever tool wrote it.
//!
//! The tools differ only in where a code location points ([`Locator`]): SAM's built template
//! names folders beside it, CDK's names S3 keys with the asset folder in the resource metadata,
//! the Serverless Framework's names S3 keys whose file names are the zips in `.serverless/`.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::cfn::{Template, referenced, scalar};
use super::{Function, Layer};
use crate::report::model::Skipped;
use crate::target::Arch;

/// Where a code property points, once resolved.
pub enum Code {
    /// A folder or zip in the build output.
    Path(PathBuf),
    /// Nothing in the build output to check, and why (inline code, S3, an image).
    Skip(String),
}

/// Turns a resource's code property (`CodeUri`, `Code`, `ContentUri`, `Content`, resolved)
/// into a location; gets the resource too, for its metadata.
pub type Locator<'a> = dyn Fn(&str, &Value, &Value) -> Result<Code, String> + 'a;

/// What one template holds.
#[derive(Debug, Default)]
pub struct Resources {
    pub functions: Vec<Function>,
    pub layers: Vec<Layer>,
    pub skipped: Vec<Skipped>,
}

const SERVERLESS_FUNCTION: &str = "AWS::Serverless::Function";
const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";
const SERVERLESS_LAYER: &str = "AWS::Serverless::LayerVersion";
const LAMBDA_LAYER: &str = "AWS::Lambda::LayerVersion";

fn skipped(id: &str, kind: &str, reason: impl Into<String>) -> Skipped {
    Skipped { id: id.to_string(), kind: kind.to_string(), reason: reason.into() }
}

/// Reads the functions and layers of `t`; ids get `prefix` (`Stack/`) when given.
pub fn read(t: &Template, prefix: &str, locate: &Locator) -> Result<Resources, String> {
    let mut out = Resources::default();
    let resources = t.resources();
    // Layers first: functions name them.
    for (id, res) in &resources {
        let ty = res.get("Type").and_then(Value::as_str).unwrap_or("");
        if ty != SERVERLESS_LAYER && ty != LAMBDA_LAYER {
            continue;
        }
        let full = format!("{prefix}{id}");
        if let Some(why) = not_created(t, res) {
            out.skipped.push(skipped(&full, "layer", why));
            continue;
        }
        let props = properties(t, res, ty);
        let code_prop = if ty == SERVERLESS_LAYER { "ContentUri" } else { "Content" };
        let code = match code_value(t, props.get(code_prop)) {
            None | Some(Ok(None)) => {
                out.skipped.push(skipped(&full, "layer", format!("no `{code_prop}`")));
                continue;
            }
            Some(Err(why)) => {
                out.skipped.push(skipped(&full, "layer", format!("`{code_prop}` is not static: {why}")));
                continue;
            }
            Some(Ok(Some(v))) => match locate(id, res, &v)? {
                Code::Path(p) => p,
                Code::Skip(why) => {
                    out.skipped.push(skipped(&full, "layer", why));
                    continue;
                }
            },
        };
        let list = |name: &str| -> Vec<String> {
            match props.get(name).map(|v| t.resolve(v)) {
                Some(Ok(Some(Value::Array(items)))) => items.iter().filter_map(scalar).collect(),
                _ => Vec::new(),
            }
        };
        out.layers.push(Layer {
            id: full,
            code,
            compatible_runtimes: list("CompatibleRuntimes"),
            compatible_architectures: list("CompatibleArchitectures").iter().filter_map(|a| a.parse().ok()).collect(),
        });
    }
    let layer_ids: Vec<String> = out.layers.iter().map(|l| l.id.clone()).collect();
    for (id, res) in &resources {
        let ty = res.get("Type").and_then(Value::as_str).unwrap_or("");
        let full = format!("{prefix}{id}");
        match ty {
            SERVERLESS_FUNCTION | LAMBDA_FUNCTION => {}
            "AWS::Serverless::Application" => {
                out.skipped.push(skipped(&full, "application", "a nested application: check its own build output"));
                continue;
            }
            "AWS::CloudFormation::Stack" => {
                out.skipped.push(skipped(&full, "stack", "a nested stack: its template is not read"));
                continue;
            }
            _ => continue,
        }
        if let Some(why) = not_created(t, res) {
            out.skipped.push(skipped(&full, "function", why));
            continue;
        }
        let props = properties(t, res, ty);
        let get = |name: &str| props.get(name).map(|v| t.resolve(v));
        if let Some(Ok(Some(v))) = get("PackageType")
            && v.as_str() == Some("Image")
        {
            out.skipped.push(skipped(&full, "function", "a container image (`PackageType: Image`): nothing to unzip"));
            continue;
        }
        let code = if ty == SERVERLESS_FUNCTION {
            if props.contains_key("InlineCode") {
                out.skipped.push(skipped(&full, "function", "inline code (`InlineCode`)"));
                continue;
            }
            code_value(t, props.get("CodeUri"))
        } else {
            code_value(t, props.get("Code"))
        };
        let code_prop = if ty == SERVERLESS_FUNCTION { "CodeUri" } else { "Code" };
        let code = match code {
            None | Some(Ok(None)) => {
                out.skipped.push(skipped(&full, "function", format!("no `{code_prop}`")));
                continue;
            }
            Some(Err(why)) => {
                out.skipped.push(skipped(&full, "function", format!("`{code_prop}` is not static: {why}")));
                continue;
            }
            Some(Ok(Some(v))) => {
                if v.get("ImageUri").is_some() {
                    out.skipped.push(skipped(&full, "function", "a container image (`ImageUri`): nothing to unzip"));
                    continue;
                }
                if v.get("ZipFile").is_some() {
                    out.skipped.push(skipped(&full, "function", "inline code (`Code.ZipFile`)"));
                    continue;
                }
                match locate(id, res, &v)? {
                    Code::Path(p) => p,
                    Code::Skip(why) => {
                        out.skipped.push(skipped(&full, "function", why));
                        continue;
                    }
                }
            }
        };
        let runtime = match get("Runtime") {
            None | Some(Ok(None)) => Err("the template gives no `Runtime`".to_string()),
            Some(Err(why)) => Err(why),
            Some(Ok(Some(v))) => scalar(&v).ok_or_else(|| "`Runtime` is not a string".to_string()),
        };
        let arch = match get("Architectures") {
            None | Some(Ok(None)) => Ok(Arch::X86_64),
            Some(Err(why)) => Err(why),
            Some(Ok(Some(v))) => {
                let first = match &v {
                    Value::Array(items) if items.is_empty() => Some("x86_64".to_string()),
                    Value::Array(items) => scalar(&items[0]),
                    other => scalar(other),
                };
                match first {
                    Some(a) => a.parse::<Arch>().map_err(|_| format!("`{a}` is not a Lambda architecture")),
                    None => Err("`Architectures` is not a list of names".to_string()),
                }
            }
        };
        let (layers, external_layers) = function_layers(t, prefix, props.get("Layers"), &layer_ids);
        out.functions.push(Function { id: full, code, runtime, arch, layers, external_layers });
    }
    Ok(out)
}

/// A code property resolved; a map whose parts are not all static (an `S3Bucket` named after
/// the account and region) is kept as written, for the locator to read the parts it needs.
fn code_value(t: &Template, raw: Option<&Value>) -> Option<Result<Option<Value>, String>> {
    let raw = raw?;
    Some(match t.resolve(raw) {
        Err(_) if raw.as_object().is_some_and(|m| !is_intrinsic(m)) => Ok(Some(raw.clone())),
        other => other,
    })
}

/// Why a resource with a `Condition` is not created with the parameter defaults, if it is not.
fn not_created(t: &Template, res: &Value) -> Option<String> {
    match t.is_created(res) {
        Ok(false) => {
            let name = res.get("Condition").and_then(Value::as_str).unwrap_or("");
            Some(format!("its condition `{name}` is false with the parameter defaults"))
        }
        // Unknown statically: it may be created, so it is checked.
        _ => None,
    }
}

/// A function's `Layers`: this application's layers by id, and the rest as written (ARNs).
fn function_layers(
    t: &Template,
    prefix: &str,
    layers: Option<&Value>,
    app_layers: &[String],
) -> (Vec<String>, Vec<String>) {
    let (mut own, mut external) = (Vec::new(), Vec::new());
    let items: Vec<Value> = match layers {
        None => Vec::new(),
        Some(v) => match t.resolve(v) {
            Ok(Some(Value::Array(items))) => items,
            Ok(_) => Vec::new(),
            // One item not static: the others still are; resolve them one by one.
            Err(_) => v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]),
        },
    };
    for item in items {
        let resolved = t.resolve(&item);
        match &resolved {
            Ok(None) => {}
            Ok(Some(v)) => match (referenced(v), scalar(v)) {
                (Some(id), _) if app_layers.iter().any(|l| *l == format!("{prefix}{id}")) => {
                    own.push(format!("{prefix}{id}"))
                }
                (Some(id), _) => external.push(format!("{prefix}{id} (its content is not in the build output)")),
                (None, Some(arn)) => external.push(arn),
                (None, None) => external.push(compact(v)),
            },
            Err(why) => external.push(format!("{} ({why})", compact(&item))),
        }
    }
    (own, external)
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A resource's properties; for SAM resources with the template's `Globals` merged in.
fn properties(t: &Template, res: &Value, ty: &str) -> Map<String, Value> {
    let own = res.get("Properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let section = match ty {
        SERVERLESS_FUNCTION => "Function",
        SERVERLESS_LAYER => "LayerVersion",
        _ => return own,
    };
    match t.doc.get("Globals").and_then(|g| g.get(section)).and_then(Value::as_object) {
        Some(globals) => match merge_globals(&Value::Object(globals.clone()), &Value::Object(own), "") {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        None => own,
    }
}

/// SAM's rules for `Globals` (samtranslator's `plugins/globals/globals.py`): the resource's
/// value wins over a global of another shape or a scalar; maps merge key by key; lists are the
/// global items then the resource's, except `Architectures`, which the resource replaces. An
/// intrinsic function counts as a scalar.
pub fn merge_globals(global: &Value, local: &Value, path: &str) -> Value {
    #[derive(PartialEq)]
    enum Shape {
        Scalar,
        Map,
        List,
    }
    let shape = |v: &Value| match v {
        Value::Object(m) if !is_intrinsic(m) => Shape::Map,
        Value::Array(_) => Shape::List,
        _ => Shape::Scalar,
    };
    match (global, local) {
        (Value::Object(g), Value::Object(l)) if shape(global) == Shape::Map && shape(local) == Shape::Map => {
            let mut out = g.clone();
            for (k, v) in l {
                let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                let merged = match g.get(k) {
                    Some(gv) => merge_globals(gv, v, &child),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(l)) if path != "Architectures" => {
            Value::Array(g.iter().chain(l.iter()).cloned().collect())
        }
        _ => local.clone(),
    }
}

fn is_intrinsic(m: &Map<String, Value>) -> bool {
    m.len() == 1 && m.keys().next().is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globals_merge_like_sam() {
        let g = json!({"Runtime": {"Ref": "P"}, "Architectures": ["x86_64"], "Layers": ["arn:a"],
                       "Environment": {"Variables": {"A": "1"}}});
        let l = json!({"Architectures": ["arm64"], "Layers": [{"Ref": "L"}], "Environment": {"Variables": {"B": "2"}}});
        let m = merge_globals(&g, &l, "");
        assert_eq!(m["Runtime"], json!({"Ref": "P"}));
        assert_eq!(m["Architectures"], json!(["arm64"]));
        assert_eq!(m["Layers"], json!(["arn:a", {"Ref": "L"}]));
        assert_eq!(m["Environment"]["Variables"], json!({"A": "1", "B": "2"}));
        // An intrinsic is a scalar: the resource's wins over a global list.
        let l = json!({"Architectures": {"Fn::If": ["C", ["arm64"], ["x86_64"]]}});
        assert_eq!(merge_globals(&g, &l, "")["Architectures"], l["Architectures"]);
    }
}
