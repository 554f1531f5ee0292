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
        return match pkg.package_path(&absolute(pkg, needed)) {
            Some(p) if pkg.resolve(&p).is_some() => Resolution::Package(p),
            _ if runtime_provides(target, crate::package::file_name(needed)) => Resolution::Runtime,
            _ => Resolution::Missing,
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
        if let Some(p) = pkg.package_path(&candidate)
            && pkg.resolve(&p).is_some()
        {
            return Resolution::Package(p);
        }
    }
    if runtime_provides(target, needed) { Resolution::Runtime } else { Resolution::Missing }
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
