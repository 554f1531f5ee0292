//! `elfcheck runtimes`: the runtime table, and everything one runtime provides with its sources.

use std::io::{self, Write};

use crate::target::{Arch, Delivery, Family, LibrarySet, Runtime, Target, table};

/// One line per runtime: OS, glibc, libstdc++ ceiling, language ABI.
pub fn render_table(out: &mut dyn Write, json: bool) -> io::Result<()> {
    let t = table();
    if json {
        let rows: Vec<serde_json::Value> = t
            .runtime
            .iter()
            .map(|r| {
                let os = &t.os[&r.os];
                serde_json::json!({
                    "id": r.id, "family": r.family, "version": r.version, "os": os.name,
                    "glibc": os.glibc.to_string(), "node_abi": r.node_abi,
                    "glibcxx": os.base().versions.get("GLIBCXX").map(|v| v.to_string()),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        return writeln!(out);
    }
    writeln!(out, "{:<17} {:<9} {:<18} {:<6} {:<8} ABI", "RUNTIME", "LANGUAGE", "OS", "GLIBC", "GLIBCXX")?;
    for r in &t.runtime {
        let os = &t.os[&r.os];
        let glibcxx = os.base().versions.get("GLIBCXX").map(|v| v.to_string()).unwrap_or_default();
        let row = format!("{:<17} {:<9} {:<18} {:<6} {:<8} {}", r.id, family(r), os.name, os.glibc, glibcxx, abi(r));
        writeln!(out, "{}", row.trim_end())?;
    }
    writeln!(out, "\nEvery runtime exists for x86_64 and arm64. `elfcheck runtimes RUNTIME` shows what one provides.")
}

/// Everything one runtime gives native code on one CPU, each fact with its source.
pub fn render_one(out: &mut dyn Write, runtime: &'static Runtime, arch: Arch, json: bool) -> io::Result<()> {
    let target = Target { runtime: Some(runtime), os_id: &runtime.os, arch };
    let os = target.os();
    let sets: Vec<&LibrarySet> = target.library_sets().collect();
    let cpu = target.cpu();
    if json {
        let doc = serde_json::json!({
            "id": runtime.id, "arch": arch, "family": runtime.family, "version": runtime.version,
            "os": os.name, "os_source": os.source, "glibc": os.glibc.to_string(), "node_abi": runtime.node_abi,
            "interpreter": cpu.interpreter,
            "cpu_libraries": os.cpu(arch).libraries,
            "library_sets": sets,
            "ld_library_path": table().lambda.ld_library_path,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        return writeln!(out);
    }
    writeln!(out, "{} on {arch}: {}, {}", runtime.id, family(runtime), os.name)?;
    writeln!(out, "  glibc {}  (source: {})", os.glibc, os.source)?;
    if !abi(runtime).is_empty() {
        writeln!(out, "  ABI: {}", abi(runtime))?;
    }
    writeln!(out, "  loader: {}", cpu.interpreter)?;
    writeln!(out, "  LD_LIBRARY_PATH: {}", table().lambda.ld_library_path.join(":"))?;
    for set in sets {
        let what = match set.delivery {
            Delivery::Zip => "in the runtime",
            Delivery::Container => "only in the container image, not in the zip runtime",
        };
        let mut sonames = set.sonames.clone();
        if set.delivery == Delivery::Zip && set.dir == os.base().dir {
            sonames.extend(os.cpu(arch).libraries.iter().cloned());
            sonames.sort();
        }
        writeln!(out, "\n  {} ({what}): {} libraries", set.dir, sonames.len())?;
        for chunk in sonames.chunks(6) {
            writeln!(out, "    {}", chunk.join(" "))?;
        }
        if !set.versions.is_empty() {
            let v: Vec<String> = set.versions.iter().map(|(ns, v)| format!("{ns}_{v}")).collect();
            writeln!(out, "    newest symbol versions: {}", v.join(", "))?;
        }
        if !set.versions_at_release.is_empty() {
            let v: Vec<String> = set.versions_at_release.iter().map(|(ns, v)| format!("{ns}_{v}")).collect();
            writeln!(out, "    at the OS release's launch: {}", v.join(", "))?;
        }
        writeln!(out, "    source: {}", set.source)?;
    }
    Ok(())
}

fn family(r: &Runtime) -> String {
    serde_json::to_value(r.family).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn abi(r: &Runtime) -> String {
    match (r.family, r.node_abi, r.version.as_deref()) {
        (_, Some(n), _) => format!("NODE_MODULE_VERSION {n}"),
        (Family::Python, _, Some(v)) => format!("cpython-{}", v.replace('.', "")),
        _ => String::new(),
    }
}
