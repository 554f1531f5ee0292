//! Nothing half-written survives an interrupt: temporary outputs and build directories are
//! registered here and removed by the Ctrl-C / SIGTERM handler, which also stops the builds.
//!
//! Each build runs in its own process group (so that a terminal's Ctrl-C reaches elfcheck, not the
//! build directly), and on Linux dies with elfcheck even when elfcheck is killed with SIGKILL and
//! no handler runs (`PR_SET_PDEATHSIG`). On an interrupt the handler stops every build's whole
//! group (SIGTERM, then SIGKILL), waits for a package swap in progress to finish, removes the
//! temporary files and exits 130.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static CRITICAL: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();

/// Installs the handler once. Exit code 130, as a shell reports an interrupted command.
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            stop_groups(&GROUPS.lock().map(|c| c.clone()).unwrap_or_default());
            // A package being swapped into place finishes first: the output is then whole or absent.
            let _critical = critical();
            for p in PATHS.lock().map(|p| p.clone()).unwrap_or_default() {
                remove(&p);
            }
            eprintln!("elfcheck: interrupted; the input is untouched and no output was written");
            std::process::exit(130);
        });
    });
}

/// Holds off the interrupt handler's cleanup while the returned guard lives.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(unix)]
fn stop_groups(groups: &[u32]) {
    use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
    let pids: Vec<Pid> = groups.iter().filter_map(|g| Pid::from_raw(*g as i32)).collect();
    for pid in &pids {
        let _ = kill_process_group(*pid, Signal::TERM);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) && pids.iter().any(|p| test_kill_process_group(*p).is_ok()) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in &pids {
        let _ = kill_process_group(*pid, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn stop_groups(groups: &[u32]) {
    for pid in groups {
        let _ = std::process::Command::new("taskkill").args(["/T", "/F", "/PID", &pid.to_string()]).status();
    }
}

fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Removes `path` if the run is interrupted, until dropped.
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

/// Stops the process group `pgid` (a build started in its own group) if the run is interrupted
/// while it runs.
pub struct ChildGuard(u32);

impl ChildGuard {
    pub fn new(pgid: u32) -> ChildGuard {
        if let Ok(mut c) = GROUPS.lock() {
            c.push(pgid);
        }
        ChildGuard(pgid)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(mut c) = GROUPS.lock() {
            c.retain(|x| *x != self.0);
        }
    }
}

/// Makes `cmd` start in its own process group and, on Linux, die when elfcheck dies.
pub fn isolate(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let parent = rustix::process::getpid();
            // SAFETY: the closure only makes raw system calls (prctl, getppid), which are
            // async-signal-safe, between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
                    // elfcheck may have died before the call above: then nothing would kill us.
                    if rustix::process::getppid() != Some(parent) {
                        return Err(std::io::Error::other("elfcheck exited"));
                    }
                    Ok(())
                });
            }
        }
    }
}
