//! Which distribution installed each file: a user fixes a dependency, not a file.
//!
//! Python: every `*.dist-info/RECORD` lists the files of its wheel, relative to the directory
//! holding the `.dist-info`; `METADATA` gives name and version, `WHEEL` the tags the wheel was
//! built for. Node: the nearest `node_modules/<name>/package.json` above the file.

use std::collections::HashMap;

use crate::paths::{file_name, join, parent};
use crate::source::{Content, Entry, EntryKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Python,
    Node,
}

/// A distribution installed in the package: a Python wheel or an npm package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
    /// Wheel tags from `WHEEL` (`cp311-cp311-macosx_11_0_arm64`).
    pub wheel_tags: Vec<String>,
    /// The `.dist-info` directory, or the npm package's directory.
    pub root: String,
    /// npm `os` / `cpu` / `libc` fields of a platform package.
    pub npm_os: Vec<String>,
    pub npm_cpu: Vec<String>,
    pub npm_libc: Vec<String>,
    /// npm `optionalDependencies`: name and version range, in the manifest's order.
    pub npm_optional: Vec<(String, String)>,
    /// The files the distribution installed (RECORD), by entry index; for npm, what its
    /// directory holds that no nested package claims.
    pub files: Vec<usize>,
}

impl Distribution {
    /// `editdistance 0.8.1`
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }

    /// The platform part of the first wheel tag (`macosx_11_0_arm64`); `None` for pure wheels
    /// (`any`) and for what was not installed from a wheel.
    pub fn wheel_platform(&self) -> Option<&str> {
        self.wheel_tags.first().and_then(|t| t.rsplit('-').next()).filter(|p| *p != "any")
    }
}

/// Who installed what: every distribution, and the owner of each entry that one owns.
#[derive(Debug, Default)]
pub struct Ownership {
    pub distributions: Vec<Distribution>,
    /// Entry index -> distribution index.
    pub owner: HashMap<usize, usize>,
}

/// Finds the distributions in `entries`, whose paths `index` maps to their positions.
pub fn attribute(entries: &[Entry], index: &HashMap<String, usize>) -> Ownership {
    let mut own = Ownership::default();
    let text = |path: &str| match index.get(path).map(|&i| &entries[i].content) {
        Some(Content::Text(t)) => Some(t.as_str()),
        _ => None,
    };
    attribute_python(entries, index, &text, &mut own);
    attribute_node(entries, &text, &mut own);
    for (&entry, &dist) in &own.owner {
        own.distributions[dist].files.push(entry);
    }
    for d in &mut own.distributions {
        d.files.sort_unstable();
    }
    own
}

fn attribute_python<'a>(
    entries: &[Entry],
    index: &HashMap<String, usize>,
    text: &impl Fn(&str) -> Option<&'a str>,
    own: &mut Ownership,
) {
    let dist_infos: Vec<String> = entries
        .iter()
        .filter(|e| file_name(&e.path) == "RECORD" && parent(&e.path).ends_with(".dist-info"))
        .map(|e| parent(&e.path).to_string())
        .collect();
    for dist_info in dist_infos {
        let metadata = text(&format!("{dist_info}/METADATA")).unwrap_or("");
        let wheel = text(&format!("{dist_info}/WHEEL")).unwrap_or("");
        let (name, version) = parse_metadata(metadata).unwrap_or_else(|| name_from_dist_info(&dist_info));
        let wheel_tags = wheel.lines().filter_map(|l| l.strip_prefix("Tag:")).map(|t| t.trim().to_string()).collect();
        let record = text(&format!("{dist_info}/RECORD")).unwrap_or("");
        own.distributions.push(Distribution {
            ecosystem: Ecosystem::Python,
            name,
            version,
            wheel_tags,
            root: dist_info.clone(),
            npm_os: Vec::new(),
            npm_cpu: Vec::new(),
            npm_libc: Vec::new(),
            npm_optional: Vec::new(),
            files: Vec::new(),
        });
        let dist = own.distributions.len() - 1;
        let base = parent(&dist_info);
        for line in record.lines() {
            let Some(path) = record_path(line).and_then(|rel| join(base, &rel)) else {
                continue;
            };
            if let Some(&i) = index.get(path.as_str()) {
                own.owner.insert(i, dist);
            }
        }
    }
}

/// The path column of a RECORD line (a CSV row; paths with commas are quoted).
pub(crate) fn record_path(line: &str) -> Option<String> {
    let line = line.trim_end_matches('\r');
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    out.push('"');
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        return None;
    }
    Some(line.split(',').next()?.to_string())
}

fn parse_metadata(text: &str) -> Option<(String, Option<String>)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // headers end at the first blank line; the description follows
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_string());
        }
    }
    Some((name?, version))
}

/// `editdistance-0.8.1.dist-info` -> (`editdistance`, `0.8.1`).
fn name_from_dist_info(dist_info: &str) -> (String, Option<String>) {
    let stem = file_name(dist_info).trim_end_matches(".dist-info");
    match stem.split_once('-') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (stem.to_string(), None),
    }
}

fn attribute_node<'a>(entries: &'a [Entry], text: &impl Fn(&str) -> Option<&'a str>, own: &mut Ownership) {
    // package.json files that belong to an installed package: node_modules/<name>/package.json
    // or node_modules/@scope/<name>/package.json.
    let mut dists: HashMap<&str, usize> = HashMap::new();
    let manifests = entries
        .iter()
        .filter(|e| file_name(&e.path) == "package.json" && is_node_package_dir(parent(&e.path)))
        .filter_map(|e| Some((parent(&e.path), text(&e.path)?)));
    for (dir, text) in manifests {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let name = json["name"].as_str().map(str::to_string).unwrap_or_else(|| node_name_from_dir(dir));
        let strings = |key: &str| -> Vec<String> {
            json[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let optional = json["optionalDependencies"]
            .as_object()
            .map(|deps| deps.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default();
        own.distributions.push(Distribution {
            ecosystem: Ecosystem::Node,
            name,
            version: json["version"].as_str().map(str::to_string),
            wheel_tags: Vec::new(),
            root: dir.to_string(),
            npm_os: strings("os"),
            npm_cpu: strings("cpu"),
            npm_libc: strings("libc"),
            npm_optional: optional,
            files: Vec::new(),
        });
        dists.insert(dir, own.distributions.len() - 1);
    }
    if dists.is_empty() {
        return;
    }
    for (i, e) in entries.iter().enumerate() {
        if e.kind != EntryKind::File || own.owner.contains_key(&i) {
            continue;
        }
        let mut dir = parent(&e.path);
        loop {
            if let Some(&d) = dists.get(dir) {
                own.owner.insert(i, d);
                break;
            }
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
    }
}

/// `node_modules/sharp` or `node_modules/@img/sharp-linux-x64` (at any depth).
pub fn is_node_package_dir(dir: &str) -> bool {
    let parts: Vec<&str> = dir.rsplit('/').take(3).collect();
    match parts.as_slice() {
        [name, "node_modules", ..] => !name.starts_with('@'),
        [_, scope, "node_modules"] => scope.starts_with('@'),
        _ => false,
    }
}

fn node_name_from_dir(dir: &str) -> String {
    let parts: Vec<&str> = dir.rsplit('/').take(2).collect();
    match parts.as_slice() {
        [name, scope] if scope.starts_with('@') => format!("{scope}/{name}"),
        [name, ..] => name.to_string(),
        [] => dir.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths() {
        assert_eq!(record_path("a/b.so,sha256=x,12").as_deref(), Some("a/b.so"));
        assert_eq!(record_path("\"a,b.so\",sha256=x,12").as_deref(), Some("a,b.so"));
        assert_eq!(record_path(""), None);
    }

    #[test]
    fn node_dirs() {
        assert!(is_node_package_dir("node_modules/sharp"));
        assert!(is_node_package_dir("nodejs/node_modules/@img/sharp-linux-x64"));
        assert!(!is_node_package_dir("node_modules/sharp/lib"));
        assert!(!is_node_package_dir("node_modules/@img"));
        assert_eq!(node_name_from_dir("node_modules/@img/sharp-linux-x64"), "@img/sharp-linux-x64");
    }
}
