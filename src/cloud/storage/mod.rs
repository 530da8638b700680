//! Where data and models live — a local folder or S3, behind one [`Location`] type.
//!
//! Local mode keeps everything under a working folder; SageMaker mode under
//! `s3://bucket/prefix`. The same calls work on both:
//!
//! ```no_run
//! use purchase_predict::cloud::storage::{Location, Storage};
//! # async fn demo() -> purchase_predict::Result<()> {
//! let storage = Storage::local();
//! let train: Location = "work/data/train".parse()?;
//! let uploaded = storage.upload_file("out/train.csv".as_ref(), &train.join("train.csv")).await?;
//! assert!(storage.exists(&uploaded).await?);
//! # Ok(()) }
//! ```
//!
//! S3 uploads above [`Storage::multipart_threshold`] (16 MiB by default) go as multipart
//! uploads in parts of [`Storage::part_size`] (8 MiB); a failed multipart upload is aborted,
//! so no half object is ever left looking complete. Downloads are written atomically.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{ensure, Error, Result};

/// A file or folder, on this machine or in S3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Location {
    /// A path on this machine.
    Local(PathBuf),
    /// `s3://bucket/key`; `key` may be empty (the bucket's root) and has no leading `/`.
    S3 { bucket: String, key: String },
}

impl Location {
    /// An S3 location, checking the bucket name.
    pub fn s3(bucket: impl Into<String>, key: impl Into<String>) -> Result<Location> {
        let bucket = bucket.into();
        check_bucket_name(&bucket)?;
        Ok(Location::S3 {
            bucket,
            key: key.into().trim_start_matches('/').to_string(),
        })
    }

    /// `self/part`: a child path or key.
    pub fn join(&self, part: &str) -> Location {
        let part = part.trim_start_matches('/');
        match self {
            Location::Local(p) => Location::Local(p.join(part)),
            Location::S3 { bucket, key } => Location::S3 {
                bucket: bucket.clone(),
                key: if key.is_empty() {
                    part.to_string()
                } else {
                    format!("{}/{part}", key.trim_end_matches('/'))
                },
            },
        }
    }

    /// Whether this is an S3 location.
    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }

    /// The last path segment (file name), if any.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Location::S3 { key, .. } => key
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        }
    }

    /// The local path, or an error naming the S3 URI.
    pub fn local_path(&self) -> Result<&Path> {
        match self {
            Location::Local(p) => Ok(p),
            Location::S3 { .. } => Err(Error::Unsupported(format!(
                "{self} is in S3; this needs a local path (download it first)"
            ))),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

impl FromStr for Location {
    type Err = Error;

    /// `s3://bucket/key` is S3; anything else (also `file://...`) a local path.
    fn from_str(s: &str) -> Result<Location> {
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            Location::s3(bucket, key)
        } else if let Some(rest) = s.strip_prefix("file://") {
            Ok(Location::Local(PathBuf::from(rest)))
        } else if s.is_empty() {
            Err(Error::InvalidSetting {
                name: "location".into(),
                reason: "empty path or URI".into(),
            })
        } else {
            Ok(Location::Local(PathBuf::from(s)))
        }
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::Local(p)
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Location::Local(p.to_path_buf())
    }
}

/// S3's bucket naming rules: 3-63 characters of lowercase letters, digits, `.` and `-`,
/// starting and ending with a letter or digit.
pub fn check_bucket_name(bucket: &str) -> Result<()> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ends = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if (3..=63).contains(&bucket.len())
        && ok_chars
        && ends(bucket.bytes().next())
        && ends(bucket.bytes().last())
        && !bucket.contains("..")
    {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            name: "bucket".into(),
            reason: format!(
                "`{bucket}` is not a valid S3 bucket name (3-63 lowercase letters, digits, `.` or `-`)"
            ),
        })
    }
}

// The one switch of the storage seam: S3 through the AWS SDK, or a stand-in whose client
// cannot exist, so that an S3 location says the feature is missing.
#[cfg(feature = "sagemaker")]
mod s3;
#[cfg(not(feature = "sagemaker"))]
#[path = "no_s3.rs"]
mod s3;

/// Smallest part S3 accepts in a multipart upload (but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Reads and writes [`Location`]s: local files always, S3 when built with the `sagemaker`
/// feature and made by `Storage::s3` (or a SageMaker [`crate::cloud::session::Session`]).
#[derive(Clone)]
pub struct Storage {
    s3: Option<s3::Client>,
    multipart_threshold: u64,
    part_size: u64,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("s3", &self.has_s3())
            .field("multipart_threshold", &self.multipart_threshold)
            .field("part_size", &self.part_size)
            .finish()
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::local()
    }
}

fn storage_error(location: &Location, message: impl fmt::Display) -> Error {
    Error::Storage {
        location: location.to_string(),
        message: message.to_string(),
    }
}

impl Storage {
    /// Local files only.
    pub fn local() -> Storage {
        Storage {
            s3: None,
            multipart_threshold: 16 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
        }
    }

    /// Whether S3 locations can be used.
    pub fn has_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// Files from this size up are uploaded to S3 in parts.
    pub fn multipart_threshold(&self) -> u64 {
        self.multipart_threshold
    }

    /// Size of each part of a multipart upload.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// Upload files of `threshold` bytes or more in parts of `part_size` (≥ 5 MiB, S3's
    /// minimum).
    pub fn with_multipart(mut self, threshold: u64, part_size: u64) -> Result<Storage> {
        ensure!(part_size >= MIN_PART_SIZE, setting "part_size", "{part_size} bytes is under S3's minimum part of 5 MiB");
        ensure!(threshold >= part_size, setting "multipart_threshold", "{threshold} is smaller than the part size {part_size}");
        self.multipart_threshold = threshold;
        self.part_size = part_size;
        Ok(self)
    }

    fn client(&self, location: &Location) -> Result<&s3::Client> {
        self.s3
            .as_ref()
            .ok_or_else(|| storage_error(location, s3::MISSING))
    }

    /// Upload (or, locally, copy) the file `from` to `to`; returns `to`.
    pub async fn upload_file(&self, from: &Path, to: &Location) -> Result<Location> {
        let meta = std::fs::metadata(from).map_err(|e| Error::io(from, e))?;
        if !meta.is_file() {
            return Err(storage_error(
                &Location::Local(from.to_path_buf()),
                "not a file",
            ));
        }
        match to {
            Location::Local(dest) => {
                copy_atomically(from, dest)?;
            }
            Location::S3 { bucket, key } => {
                let client = self.client(to)?;
                if meta.len() >= self.multipart_threshold {
                    s3::multipart_upload(client, from, bucket, key, self.part_size, to).await?;
                } else {
                    s3::put_file(client, from, bucket, key, to).await?;
                }
            }
        }
        Ok(to.clone())
    }

    /// Write `bytes` as the file or object `to`, whole: a local file atomically, an S3 object
    /// in one PutObject.
    pub async fn put_bytes(&self, bytes: &[u8], to: &Location) -> Result<()> {
        match to {
            Location::Local(path) => crate::util::files::write_atomically(path, |w| {
                w.write_all(bytes).map_err(|e| Error::io(path, e))
            }),
            Location::S3 { bucket, key } => {
                s3::put_bytes(self.client(to)?, bytes, bucket, key, to).await
            }
        }
    }

    /// Upload every file under the folder `from` to `to`, keeping relative paths; returns
    /// the uploaded locations, sorted.
    pub async fn upload_dir(&self, from: &Path, to: &Location) -> Result<Vec<Location>> {
        let mut files = Vec::new();
        walk(from, from, &mut files)?;
        files.sort();
        let mut out = Vec::with_capacity(files.len());
        for rel in files {
            let rel_text = rel.to_string_lossy().replace('\\', "/");
            out.push(
                self.upload_file(&from.join(&rel), &to.join(&rel_text))
                    .await?,
            );
        }
        Ok(out)
    }

    /// Download (or copy) the file `from` to the local path `to`, atomically.
    pub async fn download_file(&self, from: &Location, to: &Path) -> Result<()> {
        match from {
            Location::Local(src) => copy_atomically(src, to),
            Location::S3 { bucket, key } => {
                s3::get_file(self.client(from)?, bucket, key, to, from).await
            }
        }
    }

    /// Download every object (file) under `from` into the folder `to`, keeping relative
    /// paths; returns the local files, sorted.
    pub async fn download_dir(&self, from: &Location, to: &Path) -> Result<Vec<PathBuf>> {
        let prefix = self.prefix_of(from);
        let mut out = Vec::new();
        for item in self.list(from).await? {
            let rel = match (&item, &prefix) {
                (Location::Local(p), Prefix::Local(root)) => p
                    .strip_prefix(root)
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|_| p.clone()),
                (Location::S3 { key, .. }, Prefix::S3(pre)) => {
                    PathBuf::from(key[pre.len()..].trim_start_matches('/'))
                }
                _ => unreachable!("list returns locations of the kind it was given"),
            };
            let dest = to.join(rel);
            self.download_file(&item, &dest).await?;
            out.push(dest);
        }
        out.sort();
        Ok(out)
    }

    fn prefix_of(&self, location: &Location) -> Prefix {
        match location {
            Location::Local(p) => Prefix::Local(p.clone()),
            Location::S3 { key, .. } => Prefix::S3(key.clone()),
        }
    }

    /// Every file under `prefix` (a folder, or an S3 key prefix), sorted. A local file
    /// lists itself.
    pub async fn list(&self, prefix: &Location) -> Result<Vec<Location>> {
        match prefix {
            Location::Local(root) => {
                if root.is_file() {
                    return Ok(vec![prefix.clone()]);
                }
                if !root.exists() {
                    return Ok(Vec::new());
                }
                let mut files = Vec::new();
                walk(root, root, &mut files)?;
                files.sort();
                Ok(files
                    .into_iter()
                    .map(|rel| Location::Local(root.join(rel)))
                    .collect())
            }
            Location::S3 { bucket, key } => {
                let keys = s3::list(self.client(prefix)?, bucket, key, prefix).await?;
                Ok(keys
                    .into_iter()
                    .map(|k| Location::S3 {
                        bucket: bucket.clone(),
                        key: k,
                    })
                    .collect())
            }
        }
    }

    /// Whether the file or object exists.
    pub async fn exists(&self, location: &Location) -> Result<bool> {
        match location {
            Location::Local(p) => Ok(p.exists()),
            Location::S3 { bucket, key } => {
                s3::exists(self.client(location)?, bucket, key, location).await
            }
        }
    }

    /// Whether `location`'s bucket exists and answers these credentials (S3: `HeadBucket`);
    /// locally, whether the folder can be created.
    pub async fn reachable(&self, location: &Location) -> Result<()> {
        match location {
            Location::Local(p) => std::fs::create_dir_all(p).map_err(|e| Error::io(p, e)),
            Location::S3 { bucket, .. } => {
                s3::bucket_reachable(self.client(location)?, bucket, location).await
            }
        }
    }

    /// Create the S3 bucket of `location` if it does not exist (no-op for local paths).
    pub async fn ensure_bucket(&self, location: &Location, region: &str) -> Result<()> {
        match location {
            Location::Local(p) => std::fs::create_dir_all(p).map_err(|e| Error::io(p, e)),
            Location::S3 { bucket, .. } => {
                s3::ensure_bucket(self.client(location)?, bucket, region, location).await
            }
        }
    }
}

/// An endpoint's data capture published through a [`Storage`] (S3 above all): each capture
/// file is one object under `root`, uploaded whole (`serve --capture s3://bucket/prefix`).
pub struct CaptureToStorage {
    storage: Storage,
    root: Location,
}

impl CaptureToStorage {
    /// Publish capture files under `root`.
    pub fn new(storage: Storage, root: Location) -> CaptureToStorage {
        CaptureToStorage { storage, root }
    }
}

impl crate::serve::CaptureSink for CaptureToStorage {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let to = self.root.join(key);
        crate::util::runtime::block_on_anywhere(self.storage.put_bytes(bytes, &to))
    }

    fn probe(&self) -> Result<()> {
        crate::util::runtime::block_on_anywhere(self.storage.reachable(&self.root)).map_err(|e| {
            Error::InvalidSetting {
                name: "capture destination".into(),
                reason: format!("{} cannot be written: {e}", self.root),
            }
        })
    }

    fn describe(&self) -> String {
        self.root.to_string()
    }
}

enum Prefix {
    Local(PathBuf),
    S3(String),
}

/// Relative paths of every file under `dir`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            // Skip our own in-flight temporary files.
            if name
                .to_string_lossy()
                .contains(crate::util::files::PARTIAL_MARKER)
            {
                continue;
            }
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

fn copy_atomically(from: &Path, to: &Path) -> Result<()> {
    if from == to {
        return Ok(());
    }
    let mut src = std::fs::File::open(from).map_err(|e| Error::io(from, e))?;
    crate::util::files::write_atomically(to, |w| {
        std::io::copy(&mut src, w).map_err(|e| Error::io(from, e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_locations() {
        let l: Location = "s3://my-bucket/a/b.csv".parse().unwrap();
        assert_eq!(
            l,
            Location::S3 {
                bucket: "my-bucket".into(),
                key: "a/b.csv".into()
            }
        );
        assert_eq!(l.to_string(), "s3://my-bucket/a/b.csv");
        assert_eq!(l.file_name().as_deref(), Some("b.csv"));
        let root: Location = "s3://my-bucket".parse().unwrap();
        assert_eq!(root.join("x/y").to_string(), "s3://my-bucket/x/y");
        assert_eq!(
            "work/data".parse::<Location>().unwrap(),
            Location::Local("work/data".into())
        );
        let err = "s3://Bad_Bucket/x".parse::<Location>().unwrap_err();
        assert!(err.to_string().contains("Bad_Bucket"), "{err}");
    }

    #[test]
    fn multipart_settings_are_checked() {
        assert!(Storage::local().with_multipart(10 << 20, 1 << 20).is_err());
        assert!(Storage::local().with_multipart(1 << 20, 5 << 20).is_err());
        assert!(Storage::local().with_multipart(10 << 20, 5 << 20).is_ok());
    }

    #[tokio::test]
    async fn local_upload_list_download_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a.csv"), "1,2\n").unwrap();
        std::fs::write(src.join("sub/b.csv"), "3,4\n").unwrap();
        let storage = Storage::local();
        let dest = Location::Local(dir.path().join("bucket/data"));
        let up = storage.upload_dir(&src, &dest).await.unwrap();
        assert_eq!(up.len(), 2);
        assert!(storage.exists(&dest.join("sub/b.csv")).await.unwrap());
        assert!(!storage.exists(&dest.join("nope.csv")).await.unwrap());
        let back = storage
            .download_dir(&dest, &dir.path().join("back"))
            .await
            .unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("back/sub/b.csv")).unwrap(),
            "3,4\n"
        );
    }
}
