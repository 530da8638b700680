//! Writing outputs safely and fingerprinting inputs.
//!
//! Every file the pipeline writes goes through [`write_atomically`]: the bytes land in a
//! temporary file beside the target, which is renamed over it only once complete, so an
//! interrupted run never leaves a half-written `model.tar.gz` or CSV that looks finished.

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

/// Write a file through `fill`, atomically: a temporary file in the same folder, flushed and
/// synced, then renamed over `path`. On any error the temporary file is removed and `path`
/// is left as it was.
pub fn write_atomically<F>(path: impl AsRef<Path>, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let path = path.as_ref();
    let tmp = partial_path(path)?;
    crate::util::staging::track(&tmp);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::util::staging::forget(&tmp);
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
