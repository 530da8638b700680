//! What an interruption cleans up: the paths being written (temporary files and staging
//! folders, [`track`]ed until they are put in place), removed on Ctrl-C or SIGTERM once
//! [`remove_on_signal`] is installed; and how the leftovers of a killed process are told
//! apart from a live one's. The folders that use it ([`super::files`], [`super::staging`])
//! sit above it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Paths being written, removed if the process is interrupted.
pub(crate) fn in_progress() -> MutexGuard<'static, Vec<PathBuf>> {
    static PATHS: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    PATHS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Mark `path` as temporary until [`forget`]: an interruption removes it.
pub(crate) fn track(path: &Path) {
    in_progress().push(path.to_path_buf());
}

/// `path` is no longer temporary (it was renamed into place or removed).
pub(crate) fn forget(path: &Path) {
    in_progress().retain(|p| p != path);
}

pub(crate) fn remove(path: &Path) {
    // A link is removed, never followed.
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let _ = if is_dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
}

/// Catch Ctrl-C and SIGTERM for the rest of the process: remove what is in progress, then
/// exit with status 130. Called by the commands that write files; harmless to call twice.
pub fn remove_on_signal() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let rt = crate::util::runtime::get();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let _guard = rt.enter();
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            rt.spawn(async move {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
                clean_up_and_exit();
            });
        }
        #[cfg(not(unix))]
        rt.spawn(async {
            let _ = tokio::signal::ctrl_c().await;
            clean_up_and_exit();
        });
    });
}

/// Set once a [`StagedDir`](super::staging::StagedDir) has been put in place: an interruption after it says so.
pub(crate) static COMMITTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn clean_up_and_exit() -> ! {
    // Waits for a swap in progress, which holds the lock.
    let paths = in_progress();
    for p in paths.iter() {
        remove(p);
    }
    if COMMITTED.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!("interrupted after the new outputs were put in place: temporary files removed");
    } else {
        eprintln!("interrupted: temporary files removed, earlier outputs left as they were");
    }
    std::process::exit(130);
}

/// Whether `name` is `<anything><marker><pid>` for another process that is no longer
/// running: a temporary file or folder that a killed process could not clean up.
pub(crate) fn left_by_dead_process(name: &str, marker: &str) -> bool {
    name.rsplit_once(marker)
        .and_then(|(_, pid)| pid.parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && !alive(pid))
}

/// Whether process `pid` is running (Linux: `/proc/<pid>`); elsewhere assumed so.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}
