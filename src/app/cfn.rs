//! CloudFormation templates as the build tools leave them, and the intrinsic functions whose
//! value is static.
//!
//! A template is read into JSON values whatever its syntax: YAML short tags (`!Ref X`,
//! `!If [...]`) become their long forms (`{"Ref": "X"}`, `{"Fn::If": [...]}`), so one resolver
//! serves SAM's YAML and the JSON of CDK and the Serverless Framework.
//!
//! Resolved statically: `Ref` to a parameter's `Default` or to a resource of the same template
//! (kept as `{"Ref": id}`: its physical id is known only at deploy time, but which resource it
//! names is all a layer list needs), `AWS::NoValue`, `Fn::Sub` whose variables are static,
//! `Fn::If` on a condition that evaluates from the defaults (`Fn::Equals`, `Fn::Not`,
//! `Fn::And`, `Fn::Or`, `Condition`), and `Fn::Join`, `Fn::Select`, `Fn::Split`,
//! `Fn::FindInMap` over static values. Anything else (pseudo parameters, `Fn::GetAtt`,
//! `Fn::ImportValue`, SSM parameters, parameters without a default) is unresolved, with the
//! reason in words. Parameter overrides given at deploy time (`--parameter-overrides`,
//! `samconfig.toml`) are not read: the defaults are what the template itself says.

use serde_json::{Map, Value};

/// Bounds the recursion on hostile or cyclic templates.
const MAX_DEPTH: usize = 64;

/// Why a value is not static, as a lowercase fragment.
pub type Unresolved = String;

/// A resolved value; `None` is `AWS::NoValue` (the property is absent).
pub type Resolution = Result<Option<Value>, Unresolved>;

pub struct Template {
    pub doc: Value,
}

impl Template {
    /// A template in YAML (short tags allowed) or JSON.
    pub fn parse(text: &str) -> Result<Template, String> {
        if text.trim_start().starts_with('{') {
            let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            return Ok(Template { doc });
        }
        let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        Ok(Template { doc: from_yaml(yaml) })
    }

    /// Resources in logical-id order (JSON maps here are sorted, which keeps reports stable).
    pub fn resources(&self) -> Vec<(&str, &Value)> {
        match self.doc.get("Resources").and_then(Value::as_object) {
            Some(m) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            None => Vec::new(),
        }
    }

    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.doc.get("Resources")?.get(id)
    }

    /// A resource's `Type`.
    pub fn type_of(&self, id: &str) -> Option<&str> {
        self.resource(id)?.get("Type")?.as_str()
    }

    /// The value of `v` with every static intrinsic resolved.
    pub fn resolve(&self, v: &Value) -> Resolution {
        self.resolve_at(v, 0)
    }

    /// Whether a resource is created: its `Condition`, when it has one, evaluated statically.
    pub fn is_created(&self, resource: &Value) -> Result<bool, Unresolved> {
        match resource.get("Condition").and_then(Value::as_str) {
            Some(name) => self.condition(name, 0),
            None => Ok(true),
        }
    }

    fn resolve_at(&self, v: &Value, depth: usize) -> Resolution {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let d = depth + 1;
        match v {
            Value::Object(m) if m.len() == 1 => {
                let (key, arg) = m.iter().next().expect("one entry");
                match key.as_str() {
                    "Ref" => match arg.as_str() {
                        Some(name) => self.reference(name),
                        None => Err("`Ref` to something that is not a name".into()),
                    },
                    "Fn::Sub" => self.sub(arg, d).map(|s| Some(Value::String(s))),
                    "Fn::If" => {
                        let [cond, yes, no] = three(arg, "Fn::If")?;
                        let name = cond.as_str().ok_or("`Fn::If` on something that is not a condition name")?;
                        let branch = if self.condition(name, d)? { yes } else { no };
                        self.resolve_at(branch, d)
                    }
                    "Fn::Join" => {
                        let [delim, list] = two(arg, "Fn::Join")?;
                        let delim = delim.as_str().ok_or("`Fn::Join` with a delimiter that is not a string")?;
                        let list = self.resolve_at(list, d)?.unwrap_or(Value::Array(Vec::new()));
                        let parts = list.as_array().ok_or("`Fn::Join` of something that is not a list")?;
                        let strings: Result<Vec<String>, Unresolved> = parts
                            .iter()
                            .map(|p| scalar(p).ok_or_else(|| "`Fn::Join` of a non-string".to_string()))
                            .collect();
                        Ok(Some(Value::String(strings?.join(delim))))
                    }
                    "Fn::Select" => {
                        let [index, list] = two(arg, "Fn::Select")?;
                        let index =
                            self.resolve_at(index, d)?.as_ref().and_then(scalar).and_then(|s| s.parse::<usize>().ok());
                        let index = index.ok_or("`Fn::Select` with an index that is not a number")?;
                        let list = self.resolve_at(list, d)?.unwrap_or(Value::Array(Vec::new()));
                        let item = list.as_array().and_then(|l| l.get(index)).cloned();
                        item.map(Some).ok_or_else(|| format!("`Fn::Select` index {index} out of range"))
                    }
                    "Fn::Split" => {
                        let [delim, text] = two(arg, "Fn::Split")?;
                        let delim = delim.as_str().ok_or("`Fn::Split` with a delimiter that is not a string")?;
                        let text = self.resolve_at(text, d)?.as_ref().and_then(scalar);
                        let text = text.ok_or("`Fn::Split` of a non-string")?;
                        Ok(Some(Value::Array(text.split(delim).map(|s| Value::String(s.to_string())).collect())))
                    }
                    "Fn::FindInMap" => {
                        let args =
                            arg.as_array().filter(|a| a.len() >= 3).ok_or("`Fn::FindInMap` needs three arguments")?;
                        let mut keys = Vec::new();
                        for a in &args[..3] {
                            let k = self.resolve_at(a, d)?.as_ref().and_then(scalar);
                            keys.push(k.ok_or("`Fn::FindInMap` with a key that is not a string")?);
                        }
                        let found =
                            self.doc.get("Mappings").and_then(|m| m.get(&keys[0])).and_then(|m| m.get(&keys[1]));
                        match found.and_then(|m| m.get(&keys[2])) {
                            Some(v) => self.resolve_at(v, d),
                            None => {
                                Err(format!("`Fn::FindInMap` finds nothing at {}/{}/{}", keys[0], keys[1], keys[2]))
                            }
                        }
                    }
                    "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => {
                        self.condition_expr(v, d).map(|b| Some(Value::Bool(b)))
                    }
                    k if k.starts_with("Fn::") => Err(format!("`{k}` is known only at deploy time")),
                    _ => self.resolve_map(m, d),
                }
            }
            Value::Object(m) => self.resolve_map(m, d),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve_at(item, d)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn resolve_map(&self, m: &Map<String, Value>, d: usize) -> Resolution {
        let mut out = Map::new();
        for (k, v) in m {
            if let Some(v) = self.resolve_at(v, d)? {
                out.insert(k.clone(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    /// `Ref NAME`: a parameter's default, a resource of this template, or `AWS::NoValue`.
    fn reference(&self, name: &str) -> Resolution {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if name.starts_with("AWS::") {
            return Err(format!("pseudo parameter `{name}` is known only at deploy time"));
        }
        if let Some(p) = self.doc.get("Parameters").and_then(|p| p.get(name)) {
            let ty = p.get("Type").and_then(Value::as_str).unwrap_or("String");
            if ty.starts_with("AWS::SSM::Parameter::Value") {
                return Err(format!("parameter `{name}` is read from SSM Parameter Store at deploy time"));
            }
            let Some(default) = p.get("Default") else {
                return Err(format!("parameter `{name}` has no default (its value is given at deploy time)"));
            };
            let text = scalar(default);
            if ty == "CommaDelimitedList" || ty.starts_with("List<") {
                return match (text, default) {
                    (Some(t), _) => {
                        Ok(Some(Value::Array(t.split(',').map(|s| Value::String(s.trim().to_string())).collect())))
                    }
                    (None, Value::Array(_)) => Ok(Some(default.clone())),
                    _ => Err(format!("parameter `{name}` has a default that is not a list")),
                };
            }
            return match text {
                Some(t) => Ok(Some(Value::String(t))),
                None => Err(format!("parameter `{name}` has a default that is not a string")),
            };
        }
        if self.resource(name).is_some() {
            return Ok(Some(reference_to(name)));
        }
        Err(format!("`Ref` to `{name}`, which the template does not define"))
    }

    /// `Fn::Sub`: a string, or `[string, {variables}]`.
    fn sub(&self, arg: &Value, d: usize) -> Result<String, Unresolved> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(a) if a.len() == 2 => {
                (a[0].as_str().ok_or("`Fn::Sub` of something that is not a string")?, a[1].as_object())
            }
            _ => return Err("`Fn::Sub` of something that is not a string".into()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.resolve_at(v, d)?,
                None if name.contains('.') => {
                    return Err(format!("`${{{name}}}` (an attribute) is known only at deploy time"));
                }
                None => self.reference(name)?,
            };
            match value.as_ref().filter(|v| !is_reference(v)).and_then(scalar) {
                Some(s) => out.push_str(&s),
                None => return Err(format!("`${{{name}}}` in `Fn::Sub` is known only at deploy time")),
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A named condition of the `Conditions` section.
    fn condition(&self, name: &str, d: usize) -> Result<bool, Unresolved> {
        if d > MAX_DEPTH {
            return Err(format!("condition `{name}` refers to itself"));
        }
        let def = self
            .doc
            .get("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| format!("condition `{name}` is not defined"))?;
        self.condition_expr(def, d + 1).map_err(|e| format!("condition `{name}`: {e}"))
    }

    fn condition_expr(&self, v: &Value, d: usize) -> Result<bool, Unresolved> {
        if d > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let d = d + 1;
        let Some((key, arg)) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
            return match v {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err("a condition that is not a condition function".into()),
            };
        };
        match key.as_str() {
            "Condition" => self.condition(arg.as_str().ok_or("`Condition` of something that is not a name")?, d),
            "Fn::Equals" => {
                let [a, b] = two(arg, "Fn::Equals")?;
                let (a, b) = (self.resolve_at(a, d)?, self.resolve_at(b, d)?);
                Ok(match (a.as_ref().and_then(scalar), b.as_ref().and_then(scalar)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a == b,
                })
            }
            "Fn::Not" => {
                let items = arg.as_array().filter(|a| a.len() == 1).ok_or("`Fn::Not` needs one condition")?;
                Ok(!self.condition_expr(&items[0], d)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg.as_array().ok_or_else(|| format!("`{key}` needs a list of conditions"))?;
                let results: Vec<Result<bool, Unresolved>> = items.iter().map(|c| self.condition_expr(c, d)).collect();
                // One false decides an And, one true an Or, whatever the others are.
                let decisive = key == "Fn::Or";
                if results.iter().any(|r| r.as_ref().ok() == Some(&decisive)) {
                    return Ok(decisive);
                }
                match results.into_iter().find_map(Result::err) {
                    Some(e) => Err(e),
                    None => Ok(!decisive),
                }
            }
            _ => match self.resolve_at(v, d)? {
                Some(Value::Bool(b)) => Ok(b),
                _ => Err(format!("`{key}` is not a condition")),
            },
        }
    }
}

/// `{"Ref": id}`, the resolved form of a reference to a resource.
pub fn reference_to(id: &str) -> Value {
    let mut m = Map::new();
    m.insert("Ref".into(), Value::String(id.to_string()));
    Value::Object(m)
}

/// The resource a resolved `{"Ref": id}` names.
pub fn referenced(v: &Value) -> Option<&str> {
    v.as_object().filter(|m| m.len() == 1)?.get("Ref")?.as_str()
}

fn is_reference(v: &Value) -> bool {
    referenced(v).is_some()
}

/// A scalar as CloudFormation compares it: as a string.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn two<'a>(arg: &'a Value, what: &str) -> Result<[&'a Value; 2], Unresolved> {
    match arg.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([a, b]),
        _ => Err(format!("`{what}` needs two arguments")),
    }
}

fn three<'a>(arg: &'a Value, what: &str) -> Result<[&'a Value; 3], Unresolved> {
    match arg.as_array().map(Vec::as_slice) {
        Some([a, b, c]) => Ok([a, b, c]),
        _ => Err(format!("`{what}` needs three arguments")),
    }
}

/// YAML to JSON, short tags to long forms: `!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` ->
/// `{"Fn::GetAtt": ["A", "B"]}`, `!Condition C` -> `{"Condition": "C"}`, `!Other v` ->
/// `{"Fn::Other": v}`.
fn from_yaml(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map(Value::from).unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match from_yaml(k) {
                    Value::String(s) => s,
                    other => scalar(&other).unwrap_or_else(|| other.to_string()),
                };
                out.insert(key, from_yaml(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = from_yaml(tagged.value);
            let (key, value) = match tag {
                "Ref" | "Condition" => (tag.to_string(), value),
                "GetAtt" => {
                    let value = match value {
                        Value::String(s) => match s.split_once('.') {
                            Some((a, b)) => Value::Array(vec![Value::String(a.into()), Value::String(b.into())]),
                            None => Value::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), value)
                }
                other => (format!("Fn::{other}"), value),
            };
            let mut m = Map::new();
            m.insert(key, value);
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const YAML: &str = r#"
Parameters:
  PythonRuntime: {Type: String, Default: python3.11}
  Graviton: {Type: String, Default: "true"}
  Stage: {Type: String, Default: test}
  Count: {Type: Number, Default: 2}
  NoDefault: {Type: String}
  Archs: {Type: CommaDelimitedList, Default: "arm64, x86_64"}
  FromSsm: {Type: "AWS::SSM::Parameter::Value<String>", Default: /x/y}
Mappings:
  ByStage:
    test: {Arch: arm64}
Conditions:
  UseGraviton: !Equals [!Ref Graviton, "true"]
  NotGraviton: !Not [!Condition UseGraviton]
  Both: !And [!Condition UseGraviton, !Equals [!Ref Stage, test]]
  Either: !Or [!Equals [!Ref NoDefault, x], !Condition UseGraviton]
  Neither: !And [!Equals [!Ref NoDefault, x], !Condition NotGraviton]
  Unknown: !Equals [!Ref NoDefault, x]
  Loop: !Condition Loop
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
  Fn:
    Type: AWS::Serverless::Function
    Condition: UseGraviton
    Properties:
      Runtime: !Ref PythonRuntime
      Architectures: !If [UseGraviton, [arm64], [x86_64]]
      Name: !Sub "${AWS::StackName}-x-${Stage}"
      Plain: !Sub "a-${Stage}-${!Literal}-${Var}"
      WithVars: !Sub ["${A}-${Stage}", {A: !Ref PythonRuntime}]
      Layers: [!Ref Layer, !If [NotGraviton, !Ref Layer, !Ref "AWS::NoValue"]]
      Role: !GetAtt Role.Arn
"#;

    fn t() -> Template {
        Template::parse(YAML).unwrap()
    }

    fn prop(t: &Template, name: &str) -> Value {
        t.resource("Fn").unwrap()["Properties"][name].clone()
    }

    #[test]
    fn short_tags_become_long_forms() {
        let t = t();
        assert_eq!(prop(&t, "Runtime"), json!({"Ref": "PythonRuntime"}));
        assert_eq!(prop(&t, "Role"), json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(t.doc["Conditions"]["NotGraviton"], json!({"Fn::Not": [{"Condition": "UseGraviton"}]}));
    }

    #[test]
    fn ref_to_parameter_defaults_and_resources() {
        let t = t();
        assert_eq!(t.resolve(&json!({"Ref": "PythonRuntime"})), Ok(Some(json!("python3.11"))));
        assert_eq!(t.resolve(&json!({"Ref": "Count"})), Ok(Some(json!("2"))));
        assert_eq!(t.resolve(&json!({"Ref": "Archs"})), Ok(Some(json!(["arm64", "x86_64"]))));
        assert_eq!(t.resolve(&json!({"Ref": "Layer"})), Ok(Some(json!({"Ref": "Layer"}))));
        assert_eq!(t.resolve(&json!({"Ref": "AWS::NoValue"})), Ok(None));
        assert!(t.resolve(&json!({"Ref": "NoDefault"})).unwrap_err().contains("no default"));
        assert!(t.resolve(&json!({"Ref": "FromSsm"})).unwrap_err().contains("SSM"));
        assert!(t.resolve(&json!({"Ref": "AWS::Region"})).unwrap_err().contains("pseudo parameter"));
        assert!(t.resolve(&json!({"Ref": "Nowhere"})).unwrap_err().contains("does not define"));
    }

    #[test]
    fn if_on_static_conditions() {
        let t = t();
        assert_eq!(t.resolve(&prop(&t, "Architectures")), Ok(Some(json!(["arm64"]))));
        // The NoValue branch drops the list item.
        assert_eq!(t.resolve(&prop(&t, "Layers")), Ok(Some(json!([{"Ref": "Layer"}]))));
        assert_eq!(t.condition("NotGraviton", 0), Ok(false));
        assert_eq!(t.condition("Both", 0), Ok(true));
        // One decisive operand settles And / Or even when another is unresolved.
        assert_eq!(t.condition("Either", 0), Ok(true));
        assert_eq!(t.condition("Neither", 0), Ok(false));
        assert!(t.condition("Unknown", 0).unwrap_err().contains("no default"));
        assert!(t.condition("Loop", 0).is_err());
        assert_eq!(t.is_created(t.resource("Fn").unwrap()), Ok(true));
    }

    #[test]
    fn long_forms_in_json() {
        let t = Template::parse(
            r#"{"Parameters": {"G": {"Type": "String", "Default": "false"}},
                "Conditions": {"Arm": {"Fn::Equals": [{"Ref": "G"}, "true"]}},
                "Resources": {}}"#,
        )
        .unwrap();
        let v = json!({"Fn::If": ["Arm", ["arm64"], ["x86_64"]]});
        assert_eq!(t.resolve(&v), Ok(Some(json!(["x86_64"]))));
        let v = json!({"Fn::If": ["Arm", "a", {"Fn::If": [{"Fn::Not": []}, "b", "c"]}]});
        assert!(t.resolve(&v).is_err(), "a malformed nested condition is unresolved, not a panic");
    }

    #[test]
    fn sub_with_static_parts() {
        let t = t();
        assert_eq!(t.resolve(&json!({"Fn::Sub": "a-${Stage}-${!Literal}"})), Ok(Some(json!("a-test-${Literal}"))));
        assert_eq!(t.resolve(&prop(&t, "WithVars")), Ok(Some(json!("python3.11-test"))));
        assert!(t.resolve(&prop(&t, "Name")).unwrap_err().contains("AWS::StackName"));
        assert!(t.resolve(&prop(&t, "Plain")).unwrap_err().contains("does not define"));
        assert!(t.resolve(&json!({"Fn::Sub": "${Layer}"})).unwrap_err().contains("deploy time"));
        assert!(t.resolve(&json!({"Fn::Sub": "${Role.Arn}"})).unwrap_err().contains("attribute"));
    }

    #[test]
    fn join_select_split_findinmap() {
        let t = t();
        assert_eq!(t.resolve(&json!({"Fn::Join": ["", ["python3.", "11"]]})), Ok(Some(json!("python3.11"))));
        assert_eq!(t.resolve(&json!({"Fn::Select": [1, {"Ref": "Archs"}]})), Ok(Some(json!("x86_64"))));
        assert_eq!(t.resolve(&json!({"Fn::Split": [",", "a,b"]})), Ok(Some(json!(["a", "b"]))));
        assert_eq!(
            t.resolve(&json!({"Fn::FindInMap": ["ByStage", {"Ref": "Stage"}, "Arch"]})),
            Ok(Some(json!("arm64")))
        );
        assert!(t.resolve(&json!({"Fn::ImportValue": "x"})).unwrap_err().contains("deploy time"));
    }
}
