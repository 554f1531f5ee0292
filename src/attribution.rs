//! Which distribution installed each file: a user fixes a dependency, not a file.
//!
//! Python: every `*.dist-info/RECORD` lists the files of its wheel, relative to the directory
//! holding the `.dist-info`; `METADATA` gives name and version, `WHEEL` the tags the wheel was
//! built for. Node: the nearest `node_modules/<name>/package.json` above the file.

use std::collections::HashMap;

use crate::package::{Distribution, Ecosystem, Package, file_name, join, parent};
use crate::source::{Content, EntryKind};

pub(crate) fn attribute(pkg: &mut Package) {
    attribute_python(pkg);
    attribute_node(pkg);
}

fn attribute_python(pkg: &mut Package) {
    let dist_infos: Vec<String> = pkg
        .entries
        .iter()
        .filter(|e| file_name(&e.path) == "RECORD" && parent(&e.path).ends_with(".dist-info"))
        .map(|e| parent(&e.path).to_string())
        .collect();
    for dist_info in dist_infos {
        let metadata = pkg.text(&format!("{dist_info}/METADATA")).unwrap_or("");
        let wheel = pkg.text(&format!("{dist_info}/WHEEL")).unwrap_or("");
        let (name, version) = parse_metadata(metadata).unwrap_or_else(|| name_from_dist_info(&dist_info));
        let wheel_tags = wheel.lines().filter_map(|l| l.strip_prefix("Tag:")).map(|t| t.trim().to_string()).collect();
        let record = pkg.text(&format!("{dist_info}/RECORD")).unwrap_or("").to_string();
        let dist = pkg.add_distribution(Distribution {
            ecosystem: Ecosystem::Python,
            name,
            version,
            wheel_tags,
            root: dist_info.clone(),
            npm_os: Vec::new(),
            npm_cpu: Vec::new(),
            npm_libc: Vec::new(),
        });
        let base = parent(&dist_info).to_string();
        for line in record.lines() {
            let Some(rel) = record_path(line) else {
                continue;
            };
            let Some(path) = join(&base, &rel) else {
                continue;
            };
            if let Some(i) = pkg.index_of(&path) {
                pkg.set_owner(i, dist);
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

fn attribute_node(pkg: &mut Package) {
    // package.json files that belong to an installed package: node_modules/<name>/package.json
    // or node_modules/@scope/<name>/package.json.
    let mut dists: HashMap<String, usize> = HashMap::new();
    let manifests: Vec<(String, String)> = pkg
        .entries
        .iter()
        .filter(|e| file_name(&e.path) == "package.json" && is_node_package_dir(parent(&e.path)))
        .filter_map(|e| match &e.content {
            Content::Text(t) => Some((parent(&e.path).to_string(), t.clone())),
            _ => None,
        })
        .collect();
    for (dir, text) in manifests {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let name = json["name"].as_str().map(str::to_string).unwrap_or_else(|| node_name_from_dir(&dir));
        let strings = |key: &str| -> Vec<String> {
            json[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let d = pkg.add_distribution(Distribution {
            ecosystem: Ecosystem::Node,
            name,
            version: json["version"].as_str().map(str::to_string),
            wheel_tags: Vec::new(),
            root: dir.clone(),
            npm_os: strings("os"),
            npm_cpu: strings("cpu"),
            npm_libc: strings("libc"),
        });
        dists.insert(dir, d);
    }
    if dists.is_empty() {
        return;
    }
    for i in 0..pkg.entries.len() {
        let e = &pkg.entries[i];
        if e.kind != EntryKind::File || pkg.owner_of(&e.path).is_some() {
            continue;
        }
        let mut dir = parent(&e.path);
        loop {
            if let Some(&d) = dists.get(dir) {
                pkg.set_owner(i, d);
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
