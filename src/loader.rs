//! Where the dynamic loader would find each DT_NEEDED library on Lambda.
//!
//! glibc's order: the object's DT_RPATH (only when it has no DT_RUNPATH), `LD_LIBRARY_PATH`, the
//! object's DT_RUNPATH, then the system directories. `$ORIGIN` is the directory of the object.
//! Package paths are mapped to where Lambda unpacks them (`/var/task` for a function, `/opt` for a
//! layer), so a search path that lands inside the package is looked up in the package index.

use crate::package::{Package, parent};
use crate::target::{Family, Target, table};

/// Where a needed library comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A file of the package, by package path.
    Package(String),
    /// A file of a layer given with `--layer`, by its path in that layer.
    Layer(String),
    /// A library of the runtime image.
    Runtime,
    /// Nowhere the loader looks.
    Missing,
}

/// Sonames that the runtime image provides, for this target.
pub fn runtime_provides(target: &Target, soname: &str) -> bool {
    let os = target.os();
    if os.libraries.iter().any(|l| l == soname) || target.cpu().loader == soname {
        return true;
    }
    // glibc's own libraries are in every image; the names differ per CPU only in the loader.
    if soname.starts_with("ld-linux") {
        return false;
    }
    match target.family() {
        // /var/lang/lib holds the interpreter's shared library.
        Some(Family::Python) => target
            .python_version()
            .is_some_and(|(a, b)| soname == format!("libpython{a}.{b}.so.1.0") || soname == format!("libpython{a}.so")),
        _ => false,
    }
}

/// Resolves one DT_NEEDED entry of the object at `path`.
pub fn resolve(
    pkg: &Package,
    target: &Target,
    path: &str,
    rpath: &[String],
    runpath: &[String],
    needed: &str,
) -> Resolution {
    if needed.contains('/') {
        // A path in DT_NEEDED is used as is, relative to the working directory (/var/task).
        return match find(pkg, &absolute(pkg, needed)) {
            Some(found) => found,
            None if runtime_provides(target, crate::package::file_name(needed)) => Resolution::Runtime,
            None => Resolution::Missing,
        };
    }
    let origin = pkg.runtime_path(parent(path));
    let origin = origin.trim_end_matches('/');
    let split = |list: &[String]| -> Vec<String> {
        list.iter().flat_map(|l| l.split(':')).filter(|d| !d.is_empty()).map(|d| expand_origin(d, origin)).collect()
    };
    let mut dirs: Vec<String> = Vec::new();
    if runpath.is_empty() {
        dirs.extend(split(rpath));
    }
    dirs.extend(table().ld_library_path.iter().cloned());
    dirs.extend(split(runpath));
    for dir in &dirs {
        let candidate = format!("{}/{needed}", dir.trim_end_matches('/'));
        if let Some(found) = find(pkg, &candidate) {
            return found;
        }
    }
    if runtime_provides(target, needed) { Resolution::Runtime } else { Resolution::Missing }
}

/// The file at an absolute runtime path, in the package or in one of the layers given with it.
fn find(pkg: &Package, runtime_path: &str) -> Option<Resolution> {
    if let Some(p) = pkg.package_path(runtime_path).filter(|p| pkg.resolve(p).is_some()) {
        return Some(Resolution::Package(p));
    }
    pkg.layers.iter().find_map(|layer| {
        let p = layer.package_path(runtime_path).filter(|p| layer.resolve(p).is_some())?;
        Some(Resolution::Layer(p))
    })
}

fn expand_origin(dir: &str, origin: &str) -> String {
    dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
}

fn absolute(pkg: &Package, p: &str) -> String {
    if p.starts_with('/') { p.to_string() } else { pkg.runtime_path(p) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Arch;

    #[test]
    fn runtime_libraries() {
        let t = Target::new(Some("python3.12"), Arch::X86_64).unwrap();
        assert!(runtime_provides(&t, "libc.so.6"));
        assert!(runtime_provides(&t, "libssl.so.3"));
        assert!(runtime_provides(&t, "ld-linux-x86-64.so.2"));
        assert!(!runtime_provides(&t, "ld-linux-aarch64.so.1"));
        assert!(!runtime_provides(&t, "libGL.so.1"));
        assert!(runtime_provides(&t, "libpython3.12.so.1.0"));
        let al2 = Target::new(Some("python3.11"), Arch::X86_64).unwrap();
        assert!(!runtime_provides(&al2, "libssl.so.3"));
        assert!(runtime_provides(&al2, "libssl.so.10"));
    }
}
