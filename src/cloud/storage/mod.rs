//! Stage 9a: where data and models live — a local folder or S3, behind one [`Location`] type.
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

/// Smallest part S3 accepts in a multipart upload (but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Reads and writes [`Location`]s: local files always, S3 when built with the `sagemaker`
/// feature and made by `Storage::s3` (or a SageMaker [`crate::cloud::session::Session`]).
#[derive(Clone)]
pub struct Storage {
    #[cfg(feature = "sagemaker")]
    s3: Option<aws_sdk_s3::Client>,
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
            #[cfg(feature = "sagemaker")]
            s3: None,
            multipart_threshold: 16 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
        }
    }

    /// Local files and S3 through `client`.
    #[cfg(feature = "sagemaker")]
    pub fn s3(client: aws_sdk_s3::Client) -> Storage {
        Storage {
            s3: Some(client),
            ..Storage::local()
        }
    }

    /// Whether S3 locations can be used.
    pub fn has_s3(&self) -> bool {
        #[cfg(feature = "sagemaker")]
        {
            self.s3.is_some()
        }
        #[cfg(not(feature = "sagemaker"))]
        {
            false
        }
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

    #[cfg(feature = "sagemaker")]
    fn client(&self, location: &Location) -> Result<&aws_sdk_s3::Client> {
        self.s3.as_ref().ok_or_else(|| {
            storage_error(
                location,
                "this storage has no S3 client (use a SageMaker session)",
            )
        })
    }

    #[cfg(not(feature = "sagemaker"))]
    fn no_s3(location: &Location) -> Error {
        storage_error(
            location,
            "S3 needs the `sagemaker` cargo feature, which this build lacks",
        )
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
                #[cfg(feature = "sagemaker")]
                {
                    let client = self.client(to)?;
                    if meta.len() >= self.multipart_threshold {
                        s3::multipart_upload(client, from, bucket, key, self.part_size, to).await?;
                    } else {
                        s3::put_file(client, from, bucket, key, to).await?;
                    }
                }
                #[cfg(not(feature = "sagemaker"))]
                {
                    let _ = (bucket, key);
                    return Err(Self::no_s3(to));
                }
            }
        }
        Ok(to.clone())
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
                #[cfg(feature = "sagemaker")]
                {
                    s3::get_file(self.client(from)?, bucket, key, to, from).await
                }
                #[cfg(not(feature = "sagemaker"))]
                {
                    let _ = (bucket, key, to);
                    Err(Self::no_s3(from))
                }
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
                #[cfg(feature = "sagemaker")]
                {
                    let keys = s3::list(self.client(prefix)?, bucket, key, prefix).await?;
                    Ok(keys
                        .into_iter()
                        .map(|k| Location::S3 {
                            bucket: bucket.clone(),
                            key: k,
                        })
                        .collect())
                }
                #[cfg(not(feature = "sagemaker"))]
                {
                    let _ = (bucket, key);
                    Err(Self::no_s3(prefix))
                }
            }
        }
    }

    /// Whether the file or object exists.
    pub async fn exists(&self, location: &Location) -> Result<bool> {
        match location {
            Location::Local(p) => Ok(p.exists()),
            Location::S3 { bucket, key } => {
                #[cfg(feature = "sagemaker")]
                {
                    s3::exists(self.client(location)?, bucket, key, location).await
                }
                #[cfg(not(feature = "sagemaker"))]
                {
                    let _ = (bucket, key);
                    Err(Self::no_s3(location))
                }
            }
        }
    }

    /// Create the S3 bucket of `location` if it does not exist (no-op for local paths).
    pub async fn ensure_bucket(&self, location: &Location, region: &str) -> Result<()> {
        match location {
            Location::Local(p) => std::fs::create_dir_all(p).map_err(|e| Error::io(p, e)),
            Location::S3 { bucket, .. } => {
                #[cfg(feature = "sagemaker")]
                {
                    s3::ensure_bucket(self.client(location)?, bucket, region, location).await
                }
                #[cfg(not(feature = "sagemaker"))]
                {
                    let _ = (bucket, region);
                    Err(Self::no_s3(location))
                }
            }
        }
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

#[cfg(feature = "sagemaker")]
mod s3 {
    use std::io::{Read, Write};
    use std::path::Path;

    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    use aws_smithy_types::error::display::DisplayErrorContext;

    use super::{storage_error, Location};
    use crate::error::{Error, Result};

    fn fail<E: std::error::Error>(location: &Location, what: &str, e: E) -> Error {
        storage_error(location, format!("{what}: {}", DisplayErrorContext(e)))
    }

    pub(super) async fn put_file(
        client: &aws_sdk_s3::Client,
        from: &Path,
        bucket: &str,
        key: &str,
        location: &Location,
    ) -> Result<()> {
        let body = ByteStream::from_path(from)
            .await
            .map_err(|e| storage_error(location, format!("reading {}: {e}", from.display())))?;
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(|e| fail(location, "PutObject", e))?;
        Ok(())
    }

    pub(super) async fn multipart_upload(
        client: &aws_sdk_s3::Client,
        from: &Path,
        bucket: &str,
        key: &str,
        part_size: u64,
        location: &Location,
    ) -> Result<()> {
        let created = client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| fail(location, "CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| storage_error(location, "CreateMultipartUpload gave no upload id"))?
            .to_string();
        let result = upload_parts(client, from, bucket, key, &upload_id, part_size, location).await;
        match result {
            Ok(parts) => {
                let done = client
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await;
                if let Err(e) = done {
                    // Some S3 emulators (moto 5.2) answer 200 with a body the SDK cannot
                    // parse. Trust the object only if it is there with every byte.
                    let answered_ok = e.raw_response().is_some_and(|r| r.status().is_success());
                    if answered_ok && has_size(client, bucket, key, from).await {
                        return Ok(());
                    }
                    abort(client, bucket, key, &upload_id).await;
                    return Err(fail(location, "CompleteMultipartUpload", e));
                }
                Ok(())
            }
            Err(e) => {
                // Never leave parts behind that look like an upload in progress.
                abort(client, bucket, key, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn has_size(client: &aws_sdk_s3::Client, bucket: &str, key: &str, from: &Path) -> bool {
        let want = std::fs::metadata(from).map(|m| m.len()).ok();
        match client.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => head.content_length().map(|n| n as u64) == want,
            Err(_) => false,
        }
    }

    async fn abort(client: &aws_sdk_s3::Client, bucket: &str, key: &str, upload_id: &str) {
        let _ = client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
    }

    async fn upload_parts(
        client: &aws_sdk_s3::Client,
        from: &Path,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_size: u64,
        location: &Location,
    ) -> Result<Vec<CompletedPart>> {
        let mut file = std::fs::File::open(from).map_err(|e| Error::io(from, e))?;
        let mut parts = Vec::new();
        let mut number = 1;
        loop {
            let mut buf = Vec::with_capacity(part_size as usize);
            (&mut file)
                .take(part_size)
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(from, e))?;
            if buf.is_empty() && number > 1 {
                break;
            }
            let last = (buf.len() as u64) < part_size;
            let out = client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(|e| fail(location, &format!("UploadPart {number}"), e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build(),
            );
            number += 1;
            if last {
                break;
            }
        }
        Ok(parts)
    }

    pub(super) async fn get_file(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        to: &Path,
        location: &Location,
    ) -> Result<()> {
        let mut out = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| fail(location, "GetObject", e))?;
        // Stream into a temporary file beside `to`; rename only when complete.
        let tmp = crate::util::files::partial_path(to)?;
        let result: Result<()> = async {
            let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            while let Some(chunk) = out
                .body
                .try_next()
                .await
                .map_err(|e| storage_error(location, format!("reading the object: {e}")))?
            {
                file.write_all(&chunk).map_err(|e| Error::io(&tmp, e))?;
            }
            file.sync_all().map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, to).map_err(|e| Error::io(to, e))
        }
        .await;
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    pub(super) async fn list(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        prefix: &str,
        location: &Location,
    ) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| fail(location, "ListObjectsV2", e))?;
            for object in page.contents() {
                if let Some(k) = object.key() {
                    // `prefix` is a folder: `a/b` must not list `a/bc`.
                    let inside = prefix.is_empty()
                        || k == prefix
                        || prefix.ends_with('/')
                        || k[prefix.len()..].starts_with('/');
                    if inside && !k.ends_with('/') {
                        keys.push(k.to_string());
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    pub(super) async fn exists(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        location: &Location,
    ) -> Result<bool> {
        match client.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                if e.as_service_error().is_some_and(|s| s.is_not_found()) {
                    Ok(false)
                } else {
                    Err(fail(location, "HeadObject", e))
                }
            }
        }
    }

    pub(super) async fn ensure_bucket(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        region: &str,
        location: &Location,
    ) -> Result<()> {
        if client.head_bucket().bucket(bucket).send().await.is_ok() {
            return Ok(());
        }
        let mut create = client.create_bucket().bucket(bucket);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let owned = e
                    .as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you());
                if owned {
                    Ok(())
                } else {
                    Err(fail(location, "CreateBucket", e))
                }
            }
        }
    }
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
