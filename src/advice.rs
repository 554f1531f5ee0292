//! Version-aware advice for a distribution whose binaries need more than the runtime has (a newer
//! glibc or libstdc++, another Python or Node.js ABI): the newest version of it that has a build
//! the target accepts, and the runtimes that accept the version installed.
//!
//! Which runtimes accept the installed version is judged offline, by checking the same files
//! against each runtime of the same language. The newest compatible version needs the package
//! index the user's tools are configured with: pip resolves it (`pip install --dry-run --report`
//! with the target's interpreter and platform tags, so the user's index, proxy and certificates
//! apply); npm versions are judged by installing the candidate's build for the target into a
//! scratch directory and checking it. Without a network the advice says it could not look.
//!
//! [`package_fix`] turns the advice into the one command that fixes a distribution.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;

use crate::attribution::{Distribution, Ecosystem};
use crate::commands::{NpmInstall, PipInstall};
use crate::package::Package;
use crate::rules::{Code, Finding, Severity};
use crate::target::{Target, table};

/// How far advice may go to look for versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lookup {
    /// Ask the package index (the command line's default).
    Online,
    /// Judge offline only: which runtimes accept what is installed (the library's default).
    #[default]
    Offline,
}

/// What elfcheck can tell about better versions of one distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Advice {
    /// The package whose version the advice is about: the distribution itself, or for an npm
    /// platform build the package the user depends on that selects it (`sharp` for
    /// `@img/sharp-libvips-linux-x64`).
    pub package: String,
    /// Its version installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The newest version with a build the target accepts, when the index answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_compatible: Option<String>,
    /// Whether the index was asked and answered; the reason when it was not.
    pub index: IndexAnswer,
    /// Runtimes of the same language (same CPU) on which the installed files load as they are.
    pub runtimes_accepting_installed: Vec<String>,
    /// Other runtimes for which the installed version has a build (reinstalled for them), when
    /// the index answered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtimes_with_a_build: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum IndexAnswer {
    /// The index was asked.
    Asked,
    /// No version at all has a build the target accepts.
    NoneCompatible,
    /// Not asked (`--offline`).
    NotAsked,
    /// Asked, without an answer (no network, the tool missing), and why.
    Unavailable(String),
}

/// The fix of one distribution: what to do, and the command that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PackageFix {
    /// `reinstall numpy 2.2.6 for python3.11 on x86_64`
    pub summary: String,
    /// The command, as arguments (`["pip", "install", ...]`); empty when no command can help.
    pub command: Vec<String>,
    /// Where to run it: `the unpacked package` (the directory `--target` is relative to).
    pub run_in: String,
}

/// The fix of a distribution: the same version built for the target, or the newest version that
/// has such a build when the advice found one older than what is installed.
pub fn package_fix(dist: &Distribution, target: &Target, advice: Option<&Advice>) -> PackageFix {
    let run_in = "the unpacked package".to_string();
    if let Some(a) = advice.filter(|a| a.index == IndexAnswer::NoneCompatible) {
        // No reinstall can help: only another runtime, or a build from source.
        let elsewhere = if a.runtimes_accepting_installed.is_empty() {
            String::new()
        } else {
            format!(
                "move the function to {} (they load the installed one), or ",
                a.runtimes_accepting_installed.join(", ")
            )
        };
        let image = crate::hint::build_image(target).map(|i| format!(" in `{i}`")).unwrap_or_default();
        return PackageFix {
            summary: format!(
                "no version of {} has a build for {}: {elsewhere}build it from source{image} (`elfcheck fix --via docker`)",
                dist.name,
                crate::hint::platform_words(target)
            ),
            command: Vec::new(),
            run_in,
        };
    }
    // The package to (re)install: the one the advice is about when it found a newer version.
    let upgrade = advice.filter(|a| a.newest_compatible.is_some() && a.newest_compatible != a.installed);
    let name = upgrade.map_or(dist.name.as_str(), |a| a.package.as_str());
    let version = upgrade.and_then(|a| a.newest_compatible.as_ref()).or(dist.version.as_ref());
    let upgrade_to = upgrade.and_then(|a| a.newest_compatible.as_ref());
    let installed = match upgrade {
        Some(a) => format!("{} {}", a.package, a.installed.as_deref().unwrap_or("")).trim_end().to_string(),
        None => dist.label(),
    };
    let what = match upgrade_to {
        Some(v) => format!("install {name} {v} (the newest with a build for the target) in place of {installed}"),
        None => format!("reinstall {} for the target", dist.label()),
    };
    match dist.ecosystem {
        Ecosystem::Python => {
            let spec = version.map(|v| format!("{name}=={v}"));
            match spec.and_then(|s| PipInstall::for_target(target, vec![s], &crate::hint::site_dir(dist))) {
                Some(mut pip) => {
                    pip.upgrade = true;
                    let mut command = vec!["pip".to_string()];
                    command.extend(pip.args());
                    PackageFix { summary: what, command, run_in }
                }
                None => PackageFix {
                    summary: format!(
                        "reinstall {} from a wheel built for {}",
                        dist.label(),
                        crate::hint::platform_words(target)
                    ),
                    command: Vec::new(),
                    run_in,
                },
            }
        }
        Ecosystem::Node => {
            let spec = match version {
                Some(v) => format!("{name}@{v}"),
                None => name.to_string(),
            };
            let mut command = vec!["npm".to_string()];
            command.extend(NpmInstall::for_target(target, vec![spec]).args());
            PackageFix { summary: what, command, run_in }
        }
    }
}

/// Findings of a binary built for another platform: a build of the same version for the target
/// answers them, if the index has one.
fn built_elsewhere(code: Code) -> bool {
    matches!(code, Code::MachoBinary | Code::PeBinary | Code::ArchMismatch | Code::ElfClassMismatch | Code::MuslBinary)
}

/// Findings that a different version of the distribution, or another runtime, can answer.
fn version_bound(code: Code) -> bool {
    matches!(
        code,
        Code::GlibcTooNew
            | Code::LibstdcxxTooNew
            | Code::LibraryTooOld
            | Code::PythonAbiMismatch
            | Code::NodeAbiMismatch
    )
}

/// Advice per distribution (by its root) that has version-bound error findings, and per Python
/// distribution built for another platform whose installed version has no wheel for the target
/// (a reinstall of the same version would fail).
pub fn advise(pkg: &Package, target: &Target, findings: &[Finding], lookup: Lookup) -> BTreeMap<String, Advice> {
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    let mut platform_only: BTreeSet<&str> = BTreeSet::new();
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        let Some(d) = pkg.owner_of(&f.path) else { continue };
        if version_bound(f.code) {
            wanted.insert(d.root.as_str());
        } else if built_elsewhere(f.code) && d.ecosystem == Ecosystem::Python && d.version.is_some() {
            platform_only.insert(d.root.as_str());
        }
    }
    platform_only.retain(|root| !wanted.contains(root));
    if lookup == Lookup::Online && !platform_only.is_empty() {
        let dists: Vec<&Distribution> =
            pkg.distributions.iter().filter(|d| platform_only.contains(d.root.as_str())).collect();
        if let Ok(without_wheel) = upgrades(&dists, target) {
            wanted.extend(dists.iter().filter(|d| without_wheel.contains_key(&d.root)).map(|d| d.root.as_str()));
        }
    }
    let wanted: Vec<&str> = wanted.into_iter().collect();
    advise_distributions(pkg, target, &wanted, lookup)
}

/// Advice for the distributions whose roots are given, whatever their findings: `fix` asks it
/// for a distribution whose installed version it could not install for the target.
pub fn advise_distributions(
    pkg: &Package,
    target: &Target,
    roots: &[&str],
    lookup: Lookup,
) -> BTreeMap<String, Advice> {
    if roots.is_empty() {
        return BTreeMap::new();
    }
    let dists: Vec<&Distribution> = pkg.distributions.iter().filter(|d| roots.contains(&d.root.as_str())).collect();
    let accepting = runtimes_accepting(pkg, target, &dists);
    let python: Vec<&Distribution> = dists.iter().copied().filter(|d| d.ecosystem == Ecosystem::Python).collect();
    let (newest, elsewhere) = match lookup {
        Lookup::Offline => (BTreeMap::new(), BTreeMap::new()),
        Lookup::Online => (newest_python(&python, target), installed_elsewhere(&python, target, &accepting)),
    };
    dists
        .iter()
        .map(|d| {
            let about = match d.ecosystem {
                Ecosystem::Node => top_selector(pkg, d),
                Ecosystem::Python => d,
            };
            let (newest_compatible, index) = match (lookup, d.ecosystem, newest.get(&d.name)) {
                (Lookup::Offline, _, _) => (None, IndexAnswer::NotAsked),
                (_, Ecosystem::Python, Some(Ok(v))) => {
                    (v.clone(), if v.is_some() { IndexAnswer::Asked } else { IndexAnswer::NoneCompatible })
                }
                (_, Ecosystem::Python, Some(Err(why))) => (None, IndexAnswer::Unavailable(why.clone())),
                (_, Ecosystem::Python, None) => (None, IndexAnswer::Unavailable("no version to compare".into())),
                (_, Ecosystem::Node, _) => newest_node(pkg, d, target),
            };
            let advice = Advice {
                package: about.name.clone(),
                installed: about.version.clone(),
                newest_compatible,
                index,
                runtimes_accepting_installed: accepting.get(&d.root).cloned().unwrap_or_default(),
                runtimes_with_a_build: elsewhere.get(&d.name).cloned().unwrap_or_default(),
            };
            (d.root.clone(), advice)
        })
        .collect()
}

/// For each distribution, the other runtimes of the target's language and CPU on which none of
/// its files has an error.
fn runtimes_accepting(pkg: &Package, target: &Target, dists: &[&Distribution]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(family) = target.family() else { return out };
    for runtime in table().runtime.iter().filter(|r| r.family == family) {
        if target.runtime.is_some_and(|t| t.id == runtime.id) {
            continue;
        }
        let Ok(other) = Target::new(Some(&runtime.id), target.arch) else { continue };
        let errors: BTreeSet<String> = crate::rules::run(pkg, &other)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .filter_map(|f| pkg.owner_of(&f.path).map(|d| d.root.clone()))
            .collect();
        for d in dists {
            if !errors.contains(&d.root) && !d.files.is_empty() {
                out.entry(d.root.clone()).or_default().push(runtime.id.clone());
            }
        }
    }
    out
}

/// For each distribution, the other Python runtimes (same CPU) for which its installed version has
/// a wheel, among those whose interpreter would not load the installed files as they are. One
/// resolution per runtime, run side by side.
fn installed_elsewhere(
    dists: &[&Distribution],
    target: &Target,
    accepting: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(family) = target.family() else { return out };
    let pinned: Vec<(&Distribution, String)> =
        dists.iter().filter_map(|d| Some((*d, format!("{}=={}", d.name, d.version.as_ref()?)))).collect();
    // Newer versions of the language only: moving to an older runtime is rarely a way forward.
    let version = |v: Option<&String>| v.and_then(|v| crate::version::Version::parse(v));
    let current = version(target.runtime.and_then(|r| r.version.as_ref()));
    let others: Vec<&str> = table()
        .runtime
        .iter()
        .filter(|r| r.family == family && version(r.version.as_ref()) > current)
        .map(|r| r.id.as_str())
        .collect();
    let answers: Vec<(&str, Vec<(String, String)>)> = std::thread::scope(|s| {
        let handles: Vec<_> = others
            .iter()
            .map(|id| {
                let pinned = &pinned;
                s.spawn(move || {
                    let specs: Vec<String> = pinned
                        .iter()
                        .filter(|(d, _)| !accepting.get(&d.root).is_some_and(|rs| rs.iter().any(|r| r == id)))
                        .map(|(_, spec)| spec.clone())
                        .collect();
                    let other = Target::new(Some(id), target.arch).ok()?;
                    let found = resolvable(&specs, &other);
                    Some((*id, found))
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
    });
    for (id, found) in answers {
        for (name, _) in found {
            if let Some(d) = dists.iter().find(|d| same_name(&d.name, &name)) {
                out.entry(d.name.clone()).or_default().push(id.to_string());
            }
        }
    }
    out
}

/// Which of the pinned `specs` have a wheel for `target` (pip resolves them one by one when one
/// of them has none).
fn resolvable(specs: &[String], target: &Target) -> Vec<(String, String)> {
    let mut left = specs.to_vec();
    for _ in 0..=specs.len() {
        if left.is_empty() {
            break;
        }
        match pip_dry_run(&left, target) {
            Ok(found) => return found,
            Err(PipFailure::NoMatch(name)) => {
                let base = |s: &str| s.split(['<', '>', '=', '!', '~', ' ']).next().unwrap_or("").to_string();
                let gone = base(&name);
                left.retain(|s| !same_name(&base(s), &gone));
            }
            Err(PipFailure::Other(_)) => return Vec::new(),
        }
    }
    Vec::new()
}

/// For `fix --upgrade-to-compatible`: the Python distributions whose installed version has no
/// wheel for the target, each with the newest version that has one (`None`: no version has).
/// Distributions whose installed version has a wheel are left out: they are reinstalled as they
/// are. One resolution of every pinned version (again without those pip finds nothing for), then
/// one for the newest versions of the others. `Err` when pip could not be asked.
pub fn upgrades(dists: &[&Distribution], target: &Target) -> Result<BTreeMap<String, Option<String>>, String> {
    let mut missing: Vec<&Distribution> = Vec::new();
    let mut left: Vec<(&Distribution, String)> =
        dists.iter().filter_map(|d| Some((*d, format!("{}=={}", d.name, d.version.as_ref()?)))).collect();
    while !left.is_empty() {
        let specs: Vec<String> = left.iter().map(|(_, s)| s.clone()).collect();
        match pip_dry_run(&specs, target) {
            Ok(_) => break,
            Err(PipFailure::NoMatch(spec)) => {
                let base = spec.split(['<', '>', '=', '!', '~', ' ']).next().unwrap_or("").to_string();
                let before = left.len();
                left.retain(|(d, _)| {
                    let gone = same_name(&d.name, &base);
                    if gone {
                        missing.push(d);
                    }
                    !gone
                });
                if left.len() == before {
                    return Err(format!("pip found nothing for `{spec}`"));
                }
            }
            Err(PipFailure::Other(why)) => return Err(why),
        }
    }
    let newest = newest_python(&missing, target);
    let mut out = BTreeMap::new();
    for d in missing {
        match newest.get(&d.name) {
            Some(Ok(v)) => {
                out.insert(d.root.clone(), v.clone());
            }
            Some(Err(why)) => return Err(why.clone()),
            None => {
                out.insert(d.root.clone(), None);
            }
        }
    }
    Ok(out)
}

/// The Python interpreter whose pip asks the index.
fn python() -> String {
    std::env::var("ELFCHECK_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The newest version of each distribution that pip would install for the target (`None` when
/// none has a compatible wheel), or why pip could not say.
fn newest_python(dists: &[&Distribution], target: &Target) -> BTreeMap<String, Result<Option<String>, String>> {
    let mut out = BTreeMap::new();
    if dists.is_empty() {
        return out;
    }
    let mut names: Vec<String> = dists.iter().map(|d| d.name.clone()).collect();
    // One resolution for all; a name with no compatible wheel fails it, so drop it and ask again.
    for _ in 0..=dists.len() {
        if names.is_empty() {
            break;
        }
        match pip_dry_run(&names, target) {
            Ok(found) => {
                for n in &names {
                    let v = found.iter().find(|(name, _)| same_name(name, n)).map(|(_, v)| v.clone());
                    out.insert(n.clone(), Ok(v));
                }
                break;
            }
            Err(PipFailure::NoMatch(name)) => {
                out.insert(name.clone(), Ok(None));
                names.retain(|n| !same_name(n, &name));
            }
            Err(PipFailure::Other(why)) => {
                for n in &names {
                    out.insert(n.clone(), Err(why.clone()));
                }
                break;
            }
        }
    }
    // Keep only the distributions asked for, under their own spelling.
    dists.iter().map(|d| (d.name.clone(), out.remove(&d.name).unwrap_or(Ok(None)))).collect()
}

/// Distribution names compare case-insensitively with `-`, `_` and `.` as one (PEP 503).
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    norm(a) == norm(b)
}

#[derive(Clone)]
enum PipFailure {
    NoMatch(String),
    Other(String),
}

type PipAnswer = Result<Vec<(String, String)>, PipFailure>;

/// What pip answered for the same requirements and target earlier in this run: an application's
/// functions and layers often hold the same distributions.
static PIP_ANSWERS: std::sync::Mutex<BTreeMap<(Vec<String>, String), PipAnswer>> =
    std::sync::Mutex::new(BTreeMap::new());

fn pip_dry_run(names: &[String], target: &Target) -> PipAnswer {
    let key =
        (names.to_vec(), format!("{}/{}", target.runtime.map_or("", |r| r.id.as_str()), target.arch.lambda_name()));
    if let Some(answer) = PIP_ANSWERS.lock().ok().and_then(|a| a.get(&key).cloned()) {
        return answer;
    }
    let answer = ask_pip(names, target);
    if let Ok(mut answers) = PIP_ANSWERS.lock() {
        answers.insert(key, answer.clone());
    }
    answer
}

fn ask_pip(names: &[String], target: &Target) -> PipAnswer {
    let scratch = tempfile::tempdir().map_err(|e| PipFailure::Other(e.to_string()))?;
    let report = scratch.path().join("report.json");
    let mut pip = PipInstall::for_target(target, names.to_vec(), &scratch.path().join("t").display().to_string())
        .ok_or_else(|| PipFailure::Other("the target has no Python version".into()))?;
    pip.cert = std::env::var_os("SSL_CERT_FILE").map(Into::into).filter(|p: &std::path::PathBuf| p.is_file());
    let mut args = pip.args();
    args.splice(1..1, ["--dry-run".to_string(), "--quiet".into(), "--ignore-installed".into(), "--report".into()]);
    args.insert(5, report.display().to_string());
    args.extend([
        "--disable-pip-version-check".into(),
        "--timeout".into(),
        "10".into(),
        "--retries".into(),
        "0".into(),
    ]);
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip"]).args(&args).env("PIP_NO_INPUT", "1");
    let out = run_with_timeout(cmd, Duration::from_secs(90)).map_err(PipFailure::Other)?;
    if !out.0 {
        let text = out.1;
        if let Some(line) = text.lines().find(|l| l.contains("No matching distribution found for")) {
            let name = line.rsplit("found for ").next().unwrap_or("").trim().to_string();
            return Err(PipFailure::NoMatch(name));
        }
        return Err(PipFailure::Other(pip_words(&text)));
    }
    let text = std::fs::read_to_string(&report).map_err(|e| PipFailure::Other(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| PipFailure::Other(e.to_string()))?;
    Ok(doc["install"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some((i["metadata"]["name"].as_str()?.to_string(), i["metadata"]["version"].as_str()?.to_string()))
        })
        .collect())
}

/// The reason pip gave, in a few words.
fn pip_words(text: &str) -> String {
    if [
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "Connection refused",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
        "the package index is not reachable".to_string()
    } else if text.contains("No module named pip") {
        "pip is not installed".to_string()
    } else {
        text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("pip failed").trim().to_string()
    }
}

/// The newest published version of an npm package whose install for the target passes elfcheck
/// (no error), found by bisection over its released versions, newest first.
fn newest_passing_npm(name: &str, target: &Target) -> Result<Option<String>, String> {
    let mut view = Command::new("npm");
    view.args(["view", name, "versions", "--json"]);
    node_ca(&mut view);
    let (ok, text) = run_with_timeout(view, Duration::from_secs(60))?;
    if !ok {
        return Err(npm_words(&text));
    }
    let versions: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("npm view: {e}"))?
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).filter(|v| !v.contains('-')).map(String::from).collect())
        .unwrap_or_default();
    if versions.is_empty() {
        return Ok(None);
    }
    // (passes, has binaries): installed without running scripts, a package whose addon an
    // install script downloads or compiles (prebuild-install, node-gyp) has no binary to judge.
    let judge = |v: &str| -> Result<(bool, bool), String> {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut npm = crate::commands::NpmInstall::for_target(target, vec![format!("{name}@{v}")]);
        npm.prefix = Some(scratch.path().to_path_buf());
        npm.isolated = true;
        let mut cmd = Command::new("npm");
        cmd.args(npm.args());
        node_ca(&mut cmd);
        let (ok, text) = run_with_timeout(cmd, Duration::from_secs(120))?;
        if !ok {
            return Err(npm_words(&text));
        }
        let contents =
            crate::source::read(scratch.path(), &crate::source::Limits::default()).map_err(|e| e.to_string())?;
        let installed = Package::build(contents, crate::package::InputKind::Directory, Vec::new());
        let binaries = installed.objects().next().is_some();
        Ok((!crate::rules::run(&installed, target).iter().any(|f| f.severity == Severity::Error), binaries))
    };
    // Bisect for the last passing version, assuming newer builds need no less than older ones.
    let newest = versions.len() - 1;
    match judge(&versions[newest])? {
        (_, false) => {
            return Err(format!(
                "{name} downloads or compiles its binaries in an install script, which is not run to judge versions"
            ));
        }
        (true, true) => return Ok(Some(versions[newest].clone())),
        (false, true) => {}
    }
    let (mut lo, mut hi) = (None::<usize>, newest); // lo passes (when known), hi fails
    let mut low_bound = 0;
    while low_bound < hi {
        let mid = (low_bound + hi) / 2;
        match judge(&versions[mid])? {
            (true, true) => {
                lo = Some(mid);
                low_bound = mid + 1;
            }
            // Nothing to judge (its binaries come from an install script): not an answer, and
            // builds in the package start with newer versions, if any.
            (_, false) => low_bound = mid + 1,
            (false, true) => hi = mid,
        }
    }
    Ok(lo.map(|i| versions[i].clone()))
}

/// npm trusts the CA bundle the environment names, as a TLS-intercepting proxy needs.
fn node_ca(cmd: &mut Command) {
    if let Some(ca) = std::env::var_os("SSL_CERT_FILE") {
        cmd.env("NODE_EXTRA_CA_CERTS", ca);
    }
}

fn npm_words(text: &str) -> String {
    if ["ENOTFOUND", "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN"].iter().any(|s| text.contains(s)) {
        "the npm registry is not reachable".to_string()
    } else {
        text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("npm failed").trim().to_string()
    }
}

/// Runs a command, giving up after `limit`; (success, stdout and stderr).
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<(bool, String), String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{program}` gave no answer within {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

/// npm: the newest version of the package the user depends on (the one that selects `dist`
/// among its platform builds, or `dist` itself) whose build for the target passes elfcheck.
fn newest_node(pkg: &Package, dist: &Distribution, target: &Target) -> (Option<String>, IndexAnswer) {
    let top = top_selector(pkg, dist);
    match newest_passing_npm(&top.name, target) {
        Ok(Some(v)) => (Some(v), IndexAnswer::Asked),
        Ok(None) => (None, IndexAnswer::NoneCompatible),
        Err(why) => (None, IndexAnswer::Unavailable(why)),
    }
}

/// The package the user installed that brings `dist` in through `optionalDependencies`, followed
/// up to the top (`@img/sharp-libvips-linux-x64` -> `@img/sharp-linux-x64` -> `sharp`).
pub fn top_selector<'a>(pkg: &'a Package, dist: &'a Distribution) -> &'a Distribution {
    let mut at = dist;
    for _ in 0..8 {
        match pkg.distributions.iter().find(|p| p.npm_optional.iter().any(|(n, _)| *n == at.name)) {
            Some(parent) => at = parent,
            None => break,
        }
    }
    at
}
