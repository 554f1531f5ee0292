//! What the package will run on: the Lambda runtime and CPU.
//!
//! Every fact comes from `data/runtimes.toml`, which names its sources; nothing about a runtime
//! is written in code. [`resolve`] decides the target of one input; [`infer`] reads hints from
//! the package when the user did not say.

pub mod infer;
pub mod resolve;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::version::Version;

/// The CPU of a Lambda function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    #[serde(rename = "x86_64")]
    X86_64,
    Arm64,
}

impl Arch {
    /// The name Lambda uses (`x86_64`, `arm64`).
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The name ELF tools and the GNU triplet use (`x86_64`, `aarch64`).
    pub fn elf_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// Node's `process.arch` (`x64`, `arm64`).
    pub fn node_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The GNU triplet of CPython extension suffixes on glibc Linux.
    pub fn python_triplet(self) -> &'static str {
        table().python.triplets.get(self.lambda_name()).map_or("", String::as_str)
    }

    pub fn docker_platform(self) -> &'static str {
        match self {
            Arch::X86_64 => "linux/amd64",
            Arch::Arm64 => "linux/arm64",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lambda_name())
    }
}

impl FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "x86_64" | "amd64" | "x64" => Ok(Arch::X86_64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            _ => Err(format!("unknown architecture `{s}` (expected x86_64 or arm64; amd64 and aarch64 are accepted)")),
        }
    }
}

/// The language a runtime runs, which decides how its native code is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Python,
    Nodejs,
    Java,
    Ruby,
    Dotnet,
    Provided,
}

/// Where a library set is delivered: in the managed (zip) runtime, or only in the container images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Zip,
    Container,
}

/// Sonames a runtime directory holds, with the newest symbol version of each namespace they
/// define where that is known, and where the facts come from.
#[derive(Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct LibrarySet {
    pub dir: String,
    pub delivery: Delivery,
    pub source: String,
    pub sonames: Vec<String>,
    /// Newest version per namespace (`GLIBC` -> 2.26) the set's libraries define today.
    #[serde(default)]
    pub versions: BTreeMap<String, Version>,
    /// The same when the OS release's runtimes launched, where that is older than `versions`.
    #[serde(default)]
    pub versions_at_release: BTreeMap<String, Version>,
}

impl LibrarySet {
    pub fn holds(&self, soname: &str) -> bool {
        self.sonames.iter().any(|s| s == soname)
    }
}

#[derive(Debug, Deserialize)]
pub struct Runtime {
    pub id: String,
    pub os: String,
    pub family: Family,
    pub version: Option<String>,
    pub node_abi: Option<u32>,
    /// What the runtime's own directory (`/var/lang/lib`) adds.
    #[serde(default)]
    pub library_set: Vec<LibrarySet>,
}

/// Facts about a CPU that hold for every OS release.
#[derive(Debug, Deserialize)]
pub struct CpuFacts {
    /// PT_INTERP of glibc executables.
    pub interpreter: String,
    /// The dynamic loader's soname, which binaries may name in DT_NEEDED.
    pub loader: String,
    /// The soname of musl's libc, which musl binaries need.
    pub musl_libc: String,
    /// What `$LIB` and `$PLATFORM` expand to in search paths.
    pub lib: String,
    pub platform: String,
}

#[derive(Debug, Deserialize)]
pub struct CpuTable {
    pub x86_64: CpuFacts,
    pub arm64: CpuFacts,
}

/// What one OS release adds on one CPU.
#[derive(Debug, Deserialize)]
pub struct OsCpu {
    /// Sonames in the base directory on this CPU only (the loader, libmvec).
    pub libraries: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct OsProfile {
    pub name: String,
    pub glibc: Version,
    pub source: String,
    pub library_set: Vec<LibrarySet>,
    pub x86_64: OsCpu,
    pub arm64: OsCpu,
}

impl OsProfile {
    pub fn cpu(&self, arch: Arch) -> &OsCpu {
        match arch {
            Arch::X86_64 => &self.x86_64,
            Arch::Arm64 => &self.arm64,
        }
    }

    /// The base library set of the managed runtime (where glibc lives).
    pub fn base(&self) -> &LibrarySet {
        self.library_set.iter().find(|s| s.delivery == Delivery::Zip).unwrap_or(&self.library_set[0])
    }
}

/// Facts every runtime shares.
#[derive(Debug, Deserialize)]
pub struct LambdaFacts {
    pub function_root: String,
    pub layer_root: String,
    pub working_directory: String,
    pub ld_library_path: Vec<String>,
    pub system_dirs: Vec<String>,
    pub max_zipped_bytes: u64,
    pub max_unzipped_bytes: u64,
    pub max_layers: usize,
    pub oldest_os: String,
    pub layer_directories: Vec<String>,
    pub layer_markers: Vec<String>,
    pub shells: Vec<String>,
    pub build_image: String,
    pub manylinux_floor: Version,
    pub glibc_abi_dt_relr: Version,
}

#[derive(Debug, Deserialize)]
pub struct PythonFacts {
    pub extension_suffixes: Vec<String>,
    pub triplets: BTreeMap<String, String>,
    pub function_path: Vec<String>,
    pub layer_path: Vec<String>,
    pub preloaded: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct NodeFacts {
    pub layer_path: Vec<String>,
    pub preloaded: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RuntimeTable {
    pub lambda: LambdaFacts,
    pub cpu: CpuTable,
    pub os: BTreeMap<String, OsProfile>,
    pub python: PythonFacts,
    pub node: NodeFacts,
    pub runtime: Vec<Runtime>,
}

static TABLE: LazyLock<RuntimeTable> = LazyLock::new(|| {
    toml::from_str(include_str!("../../data/runtimes.toml"))
        .expect("data/runtimes.toml is valid (checked by a unit test)")
});

/// The built-in runtime table.
pub fn table() -> &'static RuntimeTable {
    &TABLE
}

impl RuntimeTable {
    pub fn runtime(&self, id: &str) -> Option<&Runtime> {
        self.runtime.iter().find(|r| r.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.runtime.iter().map(|r| r.id.as_str()).collect()
    }

    pub fn cpu(&self, arch: Arch) -> &CpuFacts {
        match arch {
            Arch::X86_64 => &self.cpu.x86_64,
            Arch::Arm64 => &self.cpu.arm64,
        }
    }
}

/// A resolved target: the runtime (when known), its OS profile and the CPU.
#[derive(Debug, Clone)]
pub struct Target {
    pub runtime: Option<&'static Runtime>,
    pub os_id: &'static str,
    pub arch: Arch,
}

impl Target {
    pub fn new(runtime_id: Option<&str>, arch: Arch) -> Result<Target, crate::Error> {
        let t = table();
        match runtime_id {
            Some(id) => {
                let runtime = t
                    .runtime(id)
                    .ok_or_else(|| crate::Error::UnknownRuntime { id: id.to_string(), known: t.ids().join(", ") })?;
                let os_id =
                    t.os.get_key_value(&runtime.os).map(|(k, _)| k.as_str()).ok_or_else(|| {
                        crate::Error::Internal(format!("runtime {id} names unknown os {}", runtime.os))
                    })?;
                Ok(Target { runtime: Some(runtime), os_id, arch })
            }
            None => Ok(Target::os_only(&t.lambda.oldest_os, arch)),
        }
    }

    /// A target known only by its OS release (no runtime given or inferred).
    pub fn os_only(os_id: &str, arch: Arch) -> Target {
        let t = table();
        let os_id = t.os.get_key_value(os_id).map_or(t.lambda.oldest_os.as_str(), |(k, _)| k.as_str());
        Target { runtime: None, os_id, arch }
    }

    pub fn os(&self) -> &'static OsProfile {
        &table().os[self.os_id]
    }

    pub fn cpu(&self) -> &'static CpuFacts {
        table().cpu(self.arch)
    }

    /// The runtime library that the loader finds as `soname` in `dir`, if the runtime has one
    /// there; container-only libraries only when `container` says so.
    pub fn library_in(&self, dir: &str, soname: &str, delivery: Delivery) -> Option<&'static LibrarySet> {
        self.library_sets().find(|set| set.dir == dir && set.delivery == delivery && set.holds(soname)).or_else(|| {
            let base = self.os().base();
            (delivery == Delivery::Zip
                && dir == base.dir
                && self.os().cpu(self.arch).libraries.iter().any(|l| l == soname))
            .then_some(base)
        })
    }

    /// Every library set of the target: the runtime's own directory first, then the OS's. With no
    /// runtime known, every runtime of the OS contributes its own (a need that some runtime of the
    /// OS meets is not judged missing).
    pub fn library_sets(&self) -> impl Iterator<Item = &'static LibrarySet> + '_ {
        let own: Vec<&'static LibrarySet> = match self.runtime {
            Some(r) => r.library_set.iter().collect(),
            None => table().runtime.iter().filter(|r| r.os == self.os_id).flat_map(|r| &r.library_set).collect(),
        };
        own.into_iter().chain(self.os().library_set.iter())
    }

    pub fn family(&self) -> Option<Family> {
        self.runtime.map(|r| r.family)
    }

    /// `(3, 12)` for python3.12.
    pub fn python_version(&self) -> Option<(u32, u32)> {
        let r = self.runtime?;
        if r.family != Family::Python {
            return None;
        }
        let (major, minor) = r.version.as_deref()?.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }

    pub fn node_abi(&self) -> Option<u32> {
        self.runtime.and_then(|r| r.node_abi)
    }

    /// A short label for messages: `python3.12 (Amazon Linux 2023, x86_64)`.
    pub fn label(&self) -> String {
        match self.runtime {
            Some(r) => format!("{} ({}, {})", r.id, self.os().name, self.arch),
            None => format!("{} ({})", self.os().name, self.arch),
        }
    }

    /// The runtime id, or the OS name when the runtime is unknown: what "has glibc 2.26" follows.
    pub fn short_name(&self) -> String {
        match self.runtime {
            Some(r) => r.id.clone(),
            None => self.os().name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_every_runtime_has_an_os() {
        let t = table();
        assert!(t.runtime.len() >= 22);
        for r in &t.runtime {
            assert!(t.os.contains_key(&r.os), "{} names unknown os {}", r.id, r.os);
            if r.family == Family::Nodejs {
                assert!(r.node_abi.is_some(), "{} lacks node_abi", r.id);
            }
        }
        assert_eq!(t.os["al2"].glibc.to_string(), "2.26");
        assert_eq!(t.os["al2023"].glibc.to_string(), "2.34");
        for os in t.os.values() {
            assert!(os.base().holds("libc.so.6") && os.base().versions.contains_key("GLIBC"), "{}", os.name);
            for set in &os.library_set {
                assert!(!set.source.is_empty() && !set.sonames.is_empty(), "{} {}", os.name, set.dir);
            }
        }
        for r in &t.runtime {
            for set in &r.library_set {
                assert!(!set.source.is_empty(), "{} {} has no source", r.id, set.dir);
                assert!(t.lambda.ld_library_path.contains(&set.dir), "{}: {} is not searched", r.id, set.dir);
            }
        }
    }

    #[test]
    fn arch_aliases() {
        assert_eq!("amd64".parse::<Arch>().unwrap(), Arch::X86_64);
        assert_eq!("aarch64".parse::<Arch>().unwrap(), Arch::Arm64);
        assert!("mips".parse::<Arch>().is_err());
    }

    #[test]
    fn unknown_runtime_lists_known_ones() {
        let err = Target::new(Some("python2.7"), Arch::X86_64).unwrap_err().to_string();
        assert!(err.contains("python2.7") && err.contains("python3.12"), "{err}");
    }

    #[test]
    fn python_version_of_runtime() {
        let t = Target::new(Some("python3.12"), Arch::X86_64).unwrap();
        assert_eq!(t.python_version(), Some((3, 12)));
        assert_eq!(t.os().glibc.to_string(), "2.34");
    }
}
