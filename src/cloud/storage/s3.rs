//! S3 through aws-sdk-s3 (the `sagemaker` feature): the storage seam's real side. Its
//! stand-in without the feature is `no_s3.rs`, with the same functions.

use std::io::{Read, Write};
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_types::error::display::DisplayErrorContext;

use super::{storage_error, Location, Storage};
use crate::error::{Error, Result};

/// The S3 client a [`Storage`] holds.
pub(super) type Client = aws_sdk_s3::Client;

/// Why an S3 location cannot be used: this storage was made without a client.
pub(super) const MISSING: &str = "this storage has no S3 client (use a SageMaker session)";

impl Storage {
    /// Local files and S3 through `client`.
    pub fn s3(client: aws_sdk_s3::Client) -> Storage {
        Storage {
            s3: Some(client),
            ..Storage::local()
        }
    }
}

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

pub(super) async fn put_bytes(
    client: &aws_sdk_s3::Client,
    bytes: &[u8],
    bucket: &str,
    key: &str,
    location: &Location,
) -> Result<()> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes.to_vec()))
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

pub(super) async fn bucket_reachable(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    location: &Location,
) -> Result<()> {
    client
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| fail(location, "HeadBucket", e))
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
