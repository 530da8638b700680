//! Writing outputs safely and fingerprinting inputs.
//!
//! Every file the pipeline writes goes through [`write_atomically`]: the bytes land in a
//! temporary file beside the target, which is renamed over it only once complete, so an
//! interrupted run never leaves a half-written `model.tar.gz` or CSV that looks finished.
//!
//! Only a regular file (or a path that does not exist yet) is ever replaced: a folder, a
//! device such as `/dev/null`, a FIFO or a socket is refused ([`writable_path`]); a symbolic
//! link is followed, so the link stays and the file it names gets the new bytes; a replaced
//! file keeps its permissions. Commands check their outputs against the files they read
//! ([`check_output`]) before doing any work.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// sha256 of a file's bytes, as lowercase hex.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// sha256 of bytes, as lowercase hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two paths name the same file however they are spelt (`./in.csv` and `in.csv`, an
/// absolute path, a symbolic or hard link): the same device and inode on Unix, the same
/// canonical path elsewhere. A path that does not exist is no other file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
    }
}

/// [`Error::UnsafeOutput`] for `path`.
pub(crate) fn unsafe_output(path: &Path, reason: impl Into<String>) -> Error {
    Error::UnsafeOutput {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Where a write to `path` lands: `path` itself when it does not exist or is a regular
/// file, the file a symbolic link names (so that the link stays a link). A folder, a device,
/// a FIFO, a socket or a link that leads to none of the allowed kinds is refused.
pub fn writable_path(path: &Path) -> Result<std::path::PathBuf> {
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let target = if link.file_type().is_symlink() {
        std::fs::canonicalize(path).map_err(|_| {
            unsafe_output(
                path,
                "it is a symbolic link to a file that does not exist; name the file itself",
            )
        })?
    } else {
        path.to_path_buf()
    };
    let meta = std::fs::metadata(&target).map_err(|e| Error::io(&target, e))?;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(target);
    }
    let what = if kind.is_dir() {
        "a folder; name a file in it"
    } else {
        "not a regular file (a device, FIFO or socket); only a regular file or a new path is replaced"
    };
    Err(unsafe_output(path, format!("it is {what}")))
}

/// Check, before any work, that `output` may be written ([`writable_path`]) and is none of
/// the files the command reads: `reads` pairs each with what it is (`"input"`, `"model"`).
/// Returns where the write lands.
pub fn check_output(output: &Path, reads: &[(&str, &Path)]) -> Result<std::path::PathBuf> {
    for (what, read) in reads {
        if same_file(output, read) {
            return Err(unsafe_output(
                output,
                format!(
                    "it is the {what} file {} (under another name); the command reads it",
                    read.display()
                ),
            ));
        }
    }
    writable_path(output)
}

/// What the temporary files of [`partial_path`] have in their names.
pub const PARTIAL_MARKER: &str = ".partial-";

/// The temporary file beside `path` that an atomic write fills before renaming it over
/// `path` (its folder is created). Folder listings skip names with [`PARTIAL_MARKER`].
pub fn partial_path(path: &Path) -> Result<std::path::PathBuf> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}{PARTIAL_MARKER}{}", std::process::id())))
}

/// Remove the temporary files that writes of `path` by processes now gone (killed without a
/// chance to clean up) left beside it: `.<name>.partial-<pid>`.
fn remove_stale_partials(path: &Path) {
    let (Some(name), dir) = (path.file_name(), path.parent()) else {
        return;
    };
    let dir = dir
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(".{}{PARTIAL_MARKER}", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let entry_name = entry_name.to_string_lossy();
        if entry_name.starts_with(&prefix)
            && crate::util::interrupt::left_by_dead_process(&entry_name, PARTIAL_MARKER)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Write a file through `fill`, atomically: a temporary file in the same folder, flushed and
/// synced, then renamed over `path`. On any error the temporary file is removed and `path`
/// is left as it was. `path` must be a regular file or a new path ([`writable_path`]; a
/// symbolic link is followed); a replaced file keeps its permissions. Temporary files that
/// killed writers of the same path left behind are removed first.
pub fn write_atomically<F>(path: impl AsRef<Path>, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let path = &writable_path(path.as_ref())?;
    remove_stale_partials(path);
    let tmp = partial_path(path)?;
    crate::util::interrupt::track(&tmp);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        if let Ok(old) = std::fs::metadata(path) {
            file.set_permissions(old.permissions())
                .map_err(|e| Error::io(&tmp, e))?;
        }
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        // Checked again: the path may have become something else while `fill` ran.
        writable_path(path)?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::util::interrupt::forget(&tmp);
    result
}

/// Write `value` as pretty JSON to `path`, atomically (see [`write_atomically`]).
pub fn write_json_atomically(path: impl AsRef<Path>, value: &impl serde::Serialize) -> Result<()> {
    let path = path.as_ref();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let json = serde_json::to_vec_pretty(value).map_err(|e| Error::json(name, e))?;
    write_atomically(path, |w| w.write_all(&json).map_err(|e| Error::io(path, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_regular_files_and_new_paths_are_written_and_links_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(dir.path(), |_| Ok(())).unwrap_err();
        assert!(matches!(err, Error::UnsafeOutput { .. }), "{err}");
        let err = write_atomically("/dev/null", |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let real = dir.path().join("real.txt");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.txt");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, &link).unwrap();
            write_atomically(&link, |w| {
                w.write_all(b"new").map_err(|e| Error::io(&link, e))
            })
            .unwrap();
            assert!(std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(std::fs::read(&real).unwrap(), b"new");
        }
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "x").unwrap();
        let err =
            check_output(&dir.path().join(".").join("in.csv"), &[("input", &input)]).unwrap_err();
        assert!(err.to_string().contains("it is the input file"), "{err}");
    }

    #[test]
    fn failed_write_leaves_old_file_and_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomically(&p, |w| {
            w.write_all(b"old").unwrap();
            Ok(())
        })
        .unwrap();
        let err = write_atomically(&p, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::Shape("boom".into()))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(sha256_file(&p).unwrap(), sha256_bytes(b"old"));
    }
}
