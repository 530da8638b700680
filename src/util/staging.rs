//! Outputs that appear whole or not at all, even when the process is interrupted.
//!
//! - [`StagedDir`]: a folder of results (what `run` writes) is filled beside its target and
//!   swapped into place in one step, so the target holds either the previous run or the new
//!   one, never files of both.
//! - [`remove_on_signal`]: Ctrl-C or SIGTERM removes the temporary files and folders in
//!   progress (the `.partial-<pid>` files of [`super::files::write_atomically`], staging
//!   folders) before the process exits with 130; a swap in progress is finished first.
//!   What a SIGKILL leaves behind is removed by the next [`StagedDir::new`] in that place,
//!   and removing it never loses a user's file: the user's files reach the new folder as
//!   hard links, never moved, so each one stays in the target until the swap and in the
//!   new folder after it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::util::files::PARTIAL_MARKER;
pub use crate::util::interrupt::remove_on_signal;
use crate::util::interrupt::{forget, in_progress, left_by_dead_process, remove, track, COMMITTED};

/// What the staging folders of [`StagedDir`] have in their names.
pub const STAGING_MARKER: &str = ".staging-";

/// Remove what a process killed without a chance to clean up left in `dir`: the staging
/// folders whose names start with one of `staging` (`.<name>.staging-<pid>`) and the
/// partial files (`.<file>.partial-<pid>`), for a `pid` that is no longer running. A
/// staging folder holds new results and hard links to the user's files, never the only
/// copy of one.
fn remove_leftovers(dir: &Path, staging: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let marker = if staging.iter().any(|s| name.starts_with(s.as_str())) {
            STAGING_MARKER
        } else {
            PARTIAL_MARKER
        };
        if left_by_dead_process(&name, marker) {
            remove(&entry.path());
        }
    }
}

/// A folder of results filled in a staging folder and put in place of `target` whole.
///
/// The staging folder is `.<name>.staging-<pid>` beside `target`. [`commit`](Self::commit)
/// hard-links into it whatever `target` holds besides the results (the user's own files;
/// folders are made anew and their files linked), then swaps the two folders in one
/// `renameat2(RENAME_EXCHANGE)` and removes the previous results. The user's files are never
/// moved, so a process killed at any instant leaves each of them in place. A `target` that
/// is a symbolic link is followed: the link stays, and the folder it names gets the results.
/// Where the swap cannot be made (the target is a mount point, or holds the working
/// folder, or the system lacks the call), the staging folder sits inside `target` and the
/// results are renamed into place one by one while interruptions wait. Dropped without a
/// commit, the staging folder is removed and `target` is untouched.
///
/// ```no_run
/// use purchase_predict::util::staging::StagedDir;
/// let staged = StagedDir::new("out")?;
/// std::fs::write(staged.path().join("metrics.json"), "{}").unwrap();
/// staged.commit(&["metrics.json", "model.tar.gz"])?; // out/ now holds this run's files only
/// # Ok::<(), purchase_predict::Error>(())
/// ```
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    swap: bool,
    done: bool,
}

impl StagedDir {
    /// A new, empty staging folder for `target` (whose parent folders are created). Refused:
    /// the root folder, and a `target` that exists and is not a folder.
    pub fn new(target: impl AsRef<Path>) -> Result<StagedDir> {
        let unsafe_output =
            |reason: &str| crate::util::files::unsafe_output(target.as_ref(), reason);
        let mut target = target.as_ref().to_path_buf();
        if let Ok(m) = std::fs::symlink_metadata(&target) {
            if m.file_type().is_symlink() {
                target = std::fs::canonicalize(&target).map_err(|_| {
                    unsafe_output("it is a symbolic link to a folder that does not exist")
                })?;
            }
            if !std::fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
                return Err(unsafe_output("it exists and is not a folder"));
            }
        }
        if std::fs::canonicalize(&target).is_ok_and(|t| t.parent().is_none()) {
            return Err(unsafe_output(
                "it is the root folder; a run's output folder must be a folder of its own",
            ));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..");
        let swap = name.is_some() && swappable(&target, &parent);
        let pid = std::process::id();
        let staging = match (&name, swap) {
            (Some(name), true) => parent.join(format!(".{name}{STAGING_MARKER}{pid}")),
            _ => target.join(format!(".run{STAGING_MARKER}{pid}")),
        };
        let own_staging = name
            .as_ref()
            .map(|n| format!(".{n}{STAGING_MARKER}"))
            .unwrap_or_default();
        remove_leftovers(
            &parent,
            &[
                own_staging,
                format!(".probe-a{STAGING_MARKER}"),
                format!(".probe-b{STAGING_MARKER}"),
            ],
        );
        if target.is_dir() {
            remove_leftovers(&target, &[format!(".run{STAGING_MARKER}")]);
        }
        remove(&staging);
        track(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| {
            forget(&staging);
            Error::io(&staging, e)
        })?;
        Ok(StagedDir {
            target,
            staging,
            swap,
            done: false,
        })
    }

    /// The staging folder, to write the results into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The folder the results go to.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Refuse, before any work, a commit of `own` that would replace or remove one of the
    /// files the command reads: `reads` pairs each with what it is (`"table"`).
    pub fn check_reads(&self, own: &[&str], reads: &[(&str, &Path)]) -> Result<()> {
        for name in own {
            let result = self.target.join(name);
            for (what, read) in reads {
                if crate::util::files::same_file(&result, read) {
                    return Err(crate::util::files::unsafe_output(
                        &result,
                        format!(
                            "the {what} {} is this file, which the run replaces with its own \
                             output; move the {what} out of {} or choose another output folder",
                            read.display(),
                            self.target.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Put the results in place of the previous ones. `own` names every file a run of this
    /// kind may write: those of the previous run go, even where this run wrote none of the
    /// same name; everything else in `target` stays.
    ///
    /// Interruptions wait until the results are in place and the previous ones removed.
    pub fn commit(mut self, own: &[&str]) -> Result<()> {
        let mut guard = in_progress();
        let result = if self.swap {
            match self.commit_by_swap(own) {
                // Some file could not be linked (a file system without hard links): the
                // results go in one by one instead; the staging folder holds only links.
                Err(Unlinkable) => self.commit_one_by_one(own),
                Ok(r) => r,
            }
        } else {
            self.commit_one_by_one(own)
        };
        // Whether swapped in or not, the staging path now holds nothing of the user's alone
        // (the previous results, links, or nothing), so it goes while interruptions wait.
        remove(&self.staging);
        self.done = true;
        if result.is_ok() {
            COMMITTED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        guard.retain(|p| p != &self.staging);
        result
    }

    fn commit_by_swap(&self, own: &[&str]) -> std::result::Result<Result<()>, Unlinkable> {
        let (target, staging) = (&self.target, &self.staging);
        if !target.exists() {
            return Ok(std::fs::rename(staging, target).map_err(|e| Error::io(target, e)));
        }
        let entries = match std::fs::read_dir(target) {
            Ok(e) => e,
            Err(e) => return Ok(Err(Error::io(target, e))),
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return Ok(Err(Error::io(target, e))),
            };
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if own.contains(&text.as_ref())
                || text.contains(PARTIAL_MARKER)
                || entry.path() == *staging
            {
                continue;
            }
            let to = staging.join(&name);
            if !to.exists() {
                link_tree(&entry.path(), &to).map_err(|_| Unlinkable)?;
            }
        }
        Ok(exchange(staging, target).map_err(|e| Error::io(target, e)))
    }

    fn commit_one_by_one(&self, own: &[&str]) -> Result<()> {
        let (target, staging) = (&self.target, &self.staging);
        for name in own {
            let (from, to) = (staging.join(name), target.join(name));
            // An own name may be a folder of results (a run's `baseline/`): the previous
            // one goes whole, as a file would.
            let previous_dir = std::fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir());
            if previous_dir && (from.exists() || to.exists()) {
                std::fs::remove_dir_all(&to).map_err(|e| Error::io(&to, e))?;
            }
            if from.exists() {
                std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            } else if to.exists() {
                std::fs::remove_file(&to).map_err(|e| Error::io(&to, e))?;
            }
        }
        Ok(())
    }
}

/// A file of the target could not be hard-linked into the staging folder.
struct Unlinkable;

/// Put `from` at `to` without moving or copying bytes: a hard link for a file (or link,
/// FIFO, socket, device: any non-folder), a new folder with the same permissions whose
/// entries are linked the same way for a folder.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if !meta.is_dir() {
        return std::fs::hard_link(from, to);
    }
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        link_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    std::fs::set_permissions(to, meta.permissions())
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.done {
            // Under the lock, so that a signal cannot remove it half-way as well.
            let mut paths = in_progress();
            remove(&self.staging);
            paths.retain(|p| p != &self.staging);
        }
    }
}

/// Whether `target` can be swapped with a sibling folder: absent, or a folder on its
/// parent's file system that does not hold the working folder.
fn swappable(target: &Path, parent: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(target) else {
        return true;
    };
    if !meta.is_dir() {
        return false;
    }
    if let (Ok(cwd), Ok(t)) = (std::env::current_dir(), std::fs::canonicalize(target)) {
        if cwd.starts_with(&t) {
            return false;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(p) = std::fs::metadata(parent) else {
            return false;
        };
        if p.dev() != meta.dev() || !exchange_supported(parent) {
            return false;
        }
    }
    #[cfg(not(unix))]
    let _ = parent;
    cfg!(target_os = "linux")
}

/// Whether `renameat2(RENAME_EXCHANGE)` works in `dir` (tried on two empty folders).
#[cfg(target_os = "linux")]
fn exchange_supported(dir: &Path) -> bool {
    let pid = std::process::id();
    let a = dir.join(format!(".probe-a{STAGING_MARKER}{pid}"));
    let b = dir.join(format!(".probe-b{STAGING_MARKER}{pid}"));
    let ok = std::fs::create_dir(&a).is_ok()
        && std::fs::create_dir(&b).is_ok()
        && exchange(&a, &b).is_ok();
    let _ = std::fs::remove_dir(&a);
    let _ = std::fs::remove_dir(&b);
    ok
}

#[cfg(all(unix, not(target_os = "linux")))]
fn exchange_supported(_: &Path) -> bool {
    false
}

/// Swap two paths in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("a path with a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working folder.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "no atomic folder swap on this system",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// An earlier run (`a.csv`, `b.csv`) beside the user's `notes.txt`; the new run writes
    /// `a.csv` only.
    fn replace_run(swap: bool) {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("out");
        std::fs::create_dir_all(&target).unwrap();
        for (name, text) in [("a.csv", "old"), ("b.csv", "old"), ("notes.txt", "mine")] {
            std::fs::write(target.join(name), text).unwrap();
        }
        let mut staged = StagedDir::new(&target).unwrap();
        if !swap {
            // What a target that cannot be swapped gets: staging inside it.
            std::fs::remove_dir_all(&staged.staging).unwrap();
            forget(&staged.staging);
            staged.staging = target.join(format!(".run{STAGING_MARKER}{}", std::process::id()));
            staged.swap = false;
            std::fs::create_dir_all(&staged.staging).unwrap();
        }
        assert_eq!(staged.swap, swap);
        std::fs::write(staged.path().join("a.csv"), "new").unwrap();
        staged.commit(&["a.csv", "b.csv"]).unwrap();
        assert_eq!(names(&target), ["a.csv", "notes.txt"]);
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(names(base.path()), ["out"]);
    }

    #[test]
    fn a_commit_swaps_the_folder_and_keeps_the_users_files() {
        let probe = tempfile::tempdir().unwrap();
        if !exchange_supported(probe.path()) {
            eprintln!("SKIPPED: this file system has no renameat2(RENAME_EXCHANGE)");
            return;
        }
        replace_run(true);
    }

    #[test]
    fn a_commit_one_by_one_gives_the_same_folder() {
        replace_run(false);
    }

    #[test]
    fn the_root_folder_and_a_file_are_refused_as_targets() {
        assert!(matches!(
            StagedDir::new("/"),
            Err(Error::UnsafeOutput { .. })
        ));
        let base = tempfile::tempdir().unwrap();
        let file = base.path().join("out");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(
            StagedDir::new(&file),
            Err(Error::UnsafeOutput { .. })
        ));
        assert_eq!(names(base.path()), ["out"]);
    }

    #[test]
    fn a_first_commit_creates_the_folder_and_a_drop_leaves_the_target_alone() {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("deep/out");
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("a.csv"), "new").unwrap();
        staged.commit(&["a.csv"]).unwrap();
        assert_eq!(names(&target), ["a.csv"]);
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("a.csv"), "newer").unwrap();
        drop(staged);
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "new"
        );
        assert_eq!(names(&base.path().join("deep")), ["out"]);
    }
}
