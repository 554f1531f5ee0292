//! The module map stays a tree plus one-way edges: no source file reaches back, through
//! `crate::` or `super::` paths, to a module that depends on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `src/rules/mod.rs` -> `rules`, `src/rules/glibc_too_new.rs` -> `rules::glibc_too_new`,
/// `src/lib.rs` -> `crate`.
fn module_of(rel: &str) -> String {
    let rel = rel.trim_end_matches(".rs");
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    if rel == "lib" { "crate".to_string() } else { rel.replace('/', "::") }
}

fn parent(module: &str) -> String {
    match module.rsplit_once("::") {
        Some((p, _)) => p.to_string(),
        None => "crate".to_string(),
    }
}

/// Every path a `crate::` / `super::` reference names, braces expanded: `crate::{a::B, c}` gives
/// `a::B` and `c` (relative to the crate root or to the parent module).
fn references(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for (anchor, is_crate) in [("crate::", true), ("super::", false)] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(anchor) {
            let start = from + pos;
            from = start + anchor.len();
            let before = code[..start].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in expand(&code[from..]) {
                out.push((is_crate, path));
            }
        }
    }
    out
}

/// Reads one path after an anchor: `a::b::C`, or `{x, y::{z}}` groups.
fn expand(rest: &str) -> Vec<String> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &group[..end];
        let mut items = Vec::new();
        let (mut depth, mut item_start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[item_start..i]);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[item_start..]);
        return items.into_iter().filter(|i| !i.trim().is_empty()).flat_map(expand).collect();
    }
    let mut path = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            path.push(c);
        } else if rest[i..].starts_with("::{") {
            let prefix = path.clone();
            return expand(&rest[i + 2..]).into_iter().map(|p| format!("{prefix}::{p}")).collect();
        } else if rest[i..].starts_with("::") {
            path.push_str("::");
            chars.next();
        } else {
            break;
        }
    }
    vec![path.trim_end_matches("::").to_string()]
}

/// The longest prefix of `path` that is a module with a file of its own.
fn target_module(path: &str, modules: &BTreeSet<String>) -> String {
    let mut candidate = path.to_string();
    loop {
        if modules.contains(&candidate) {
            return candidate;
        }
        match candidate.rsplit_once("::") {
            Some((p, _)) => candidate = p.to_string(),
            None => return "crate".to_string(),
        }
    }
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// Code without comments and without the unit tests at the end of a file.
fn code_only(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &root, &mut files);
    let modules: BTreeSet<String> =
        files.iter().map(|(rel, _)| module_of(rel)).filter(|m| m != "main" && m != "cli").collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in &files {
        let module = module_of(rel);
        if !modules.contains(&module) {
            continue; // the binary's own files
        }
        let base = parent(&module); // what `super::` names, from a `mod.rs` file or any other
        for (is_crate, path) in references(&code_only(text)) {
            let full = if is_crate || base == "crate" { path } else { format!("{base}::{path}") };
            let to = target_module(&full, &modules);
            if to != module {
                graph.entry(module.clone()).or_default().insert(to);
            }
        }
        graph.entry(module).or_default();
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == next).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0
            && let Some(c) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn paths_expand_like_use_declarations() {
    assert_eq!(expand("{a::B, c::{d, e}};"), vec!["a::B", "c::d", "c::e"]);
    assert_eq!(expand("binary::Object;"), vec!["binary::Object"]);
    assert_eq!(module_of("rules/mod.rs"), "rules");
    assert_eq!(module_of("rules/glibc_too_new.rs"), "rules::glibc_too_new");
}

#[test]
fn no_import_cycles_between_source_files() {
    let graph = edges();
    let listing: Vec<String> = graph
        .iter()
        .map(|(from, to)| format!("{from} -> {}", to.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}\n\nevery edge:\n{}", cycle.join(" -> "), listing.join("\n"));
    }
}
