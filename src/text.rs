//! Wording shared by the rules and the renderers.

/// `1 error`, `2 errors`, `3 binaries`.
pub fn plural(n: usize, word: &str) -> String {
    match (n, word.strip_suffix('y')) {
        (1, _) => format!("{n} {word}"),
        (_, Some(stem)) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        assert_eq!(super::plural(1, "error"), "1 error");
        assert_eq!(super::plural(2, "native binary"), "2 native binaries");
        assert_eq!(super::plural(0, "key"), "0 keys");
    }
}
