//! Nothing half-written survives an interrupt: temporary outputs and build directories are
//! registered here and removed by the Ctrl-C / SIGTERM handler, which also stops child builds.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// Installs the handler once. Exit code 130, as a shell reports an interrupted command.
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            for pid in CHILDREN.lock().map(|c| c.clone()).unwrap_or_default() {
                let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
            }
            for p in PATHS.lock().map(|p| p.clone()).unwrap_or_default() {
                remove(&p);
            }
            eprintln!("elfcheck: interrupted; the input is untouched and no output was written");
            std::process::exit(130);
        });
    });
}

fn remove(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

/// Removes `path` if the run is interrupted, until [`Guard::keep`] or drop.
pub struct Guard(PathBuf);

impl Guard {
    pub fn new(path: &Path) -> Guard {
        if let Ok(mut p) = PATHS.lock() {
            p.push(path.to_path_buf());
        }
        Guard(path.to_path_buf())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut p) = PATHS.lock() {
            p.retain(|x| x != &self.0);
        }
    }
}

/// Stops `pid` if the run is interrupted while it runs.
pub struct ChildGuard(u32);

impl ChildGuard {
    pub fn new(pid: u32) -> ChildGuard {
        if let Ok(mut c) = CHILDREN.lock() {
            c.push(pid);
        }
        ChildGuard(pid)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(mut c) = CHILDREN.lock() {
            c.retain(|x| *x != self.0);
        }
    }
}
