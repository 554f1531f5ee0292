//! One test per rule of glibc's library search, on the scenarios in `testdata/bin/loader/`:
//! each need of each root must resolve where the real loader resolved it on the machine that
//! built the fixtures (recorded in `testdata/loader-expectations.tsv` by
//! `testdata/loader-expectations.py`, which `make-fixtures.sh` runs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use elfcheck::loader::elf::Found;
use elfcheck::loader::fs::Fs;
use elfcheck::target::resolve::Requested;
use elfcheck::{Arch, Options};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// (root, needed by, needed) -> what the real loader found: a path, `not found`, `already loaded`.
type Expected = BTreeMap<(String, String, String), String>;

fn expected(scenario: &str) -> Expected {
    let text = std::fs::read_to_string(testdata().join("loader-expectations.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() == 5 && cols[0] == scenario && cols[2] != "-")
                .then(|| ((cols[1].to_string(), cols[2].to_string(), cols[3].to_string()), cols[4].to_string()))
        })
        .collect()
}

/// What elfcheck's closures say for the same rows.
fn modelled(input: &Path, layers: &[PathBuf]) -> Expected {
    let options = Options {
        target: Requested { runtime: Some("python3.12".into()), arch: Some(Arch::X86_64), from_templates: false },
        layers: layers.to_vec(),
        ..Options::default()
    };
    let checked = elfcheck::check_input(input, "scenario", &options).unwrap();
    let analysis = elfcheck::loader::analyze(&checked.package, &checked.target);
    let fs = Fs::new(&checked.package);
    let mut out = Expected::new();
    for closure in analysis.loads.closures.iter().filter(|c| !c.lone) {
        let root = fs.runtime_path(closure.root);
        let mut seen = std::collections::HashSet::new();
        for need in &closure.needs {
            let by = closure.mapped[need.by].path.clone();
            let result = match &need.found {
                // The first need that maps an object loads it; later ones find it loaded.
                Found::Mapped(i) if closure.mapped[*i].loader == Some(need.by) && seen.insert(*i) => {
                    closure.mapped[*i].path.clone()
                }
                Found::Mapped(_) => "already loaded".to_string(),
                Found::Runtime { set, .. } => format!("{}/{}", set.dir, need.name),
                Found::Missing { .. } => "not found".to_string(),
            };
            out.insert((root.clone(), by, need.name.clone()), result);
        }
    }
    out
}

fn scenario(name: &str) -> PathBuf {
    testdata().join("bin/loader").join(name)
}

fn assert_scenario(name: &str, input: PathBuf, layers: &[PathBuf]) {
    let want = expected(name);
    assert!(!want.is_empty(), "no recorded expectations for {name}");
    let have = modelled(&input, layers);
    for (key, result) in &want {
        assert_eq!(have.get(key), Some(result), "{name}: root {}, needed by {}: {}", key.0, key.1, key.2);
    }
}

#[test]
fn rpath_is_inherited_through_two_levels() {
    assert_scenario("rpath-inherited", scenario("rpath-inherited"), &[]);
}

#[test]
fn runpath_is_not_inherited() {
    assert_scenario("runpath-not-inherited", scenario("runpath-not-inherited"), &[]);
}

#[test]
fn runpath_disables_rpath_of_the_object_and_of_its_loaders() {
    assert_scenario("runpath-disables-rpath", scenario("runpath-disables-rpath"), &[]);
}

#[test]
fn an_already_loaded_soname_satisfies_a_later_need_in_breadth_first_order() {
    assert_scenario("already-loaded", scenario("already-loaded"), &[]);
}

#[test]
fn origin_in_a_layer_is_the_layer_directory() {
    assert_scenario("origin-in-layer", scenario("origin-in-layer"), &[]);
}

#[test]
fn a_library_reached_only_through_a_layer() {
    let s = scenario("only-in-layer");
    assert_scenario("only-in-layer", s.join("function"), &[s.join("layer")]);
    assert_scenario("only-in-layer (no layer)", s.join("function"), &[]);
}

#[test]
fn a_needed_name_with_a_slash_is_a_path() {
    assert_scenario("needed-with-slash", scenario("needed-with-slash"), &[]);
}

#[test]
fn origin_in_braces_and_colon_separated_lists() {
    assert_scenario("origin-braces", scenario("origin-braces"), &[]);
}
