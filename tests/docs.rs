//! `docs/rules.md`, the page SARIF's help links point at, is the rules' own documentation. When
//! a rule's doc comment changes, regenerate it with `ELFCHECK_UPDATE_DOCS=1 cargo test --test docs`.

fn rules_page() -> String {
    let mut out = String::from(
        "# Finding codes\n\nGenerated from the rules' documentation (`elfcheck explain CODE` prints the same).\n",
    );
    for rule in elfcheck::rules::RULES {
        out.push_str(&format!("\n## {}\n\n*{}*\n\n{}\n", rule.code, rule.severity_text(), rule.doc()));
    }
    out
}

#[test]
fn docs_rules_md_is_the_rules_documentation() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let want = rules_page();
    if std::env::var_os("ELFCHECK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/rules.md is out of date: run `ELFCHECK_UPDATE_DOCS=1 cargo test --test docs`");
    // Every SARIF help link lands on a heading of the page.
    for rule in elfcheck::rules::RULES {
        assert!(have.contains(&format!("\n## {}\n", rule.code)));
    }
}

#[test]
fn docs_report_schema_is_the_report_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let want = format!("{}\n", serde_json::to_string_pretty(&elfcheck::report::json::schema()).unwrap());
    if std::env::var_os("ELFCHECK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/report.schema.json is out of date: run `ELFCHECK_UPDATE_DOCS=1 cargo test --test docs`"
    );
}
