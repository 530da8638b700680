//! The storage seam's stand-in without the `sagemaker` feature: a client that cannot
//! exist, so that every S3 location is refused by [`Storage`](super::Storage) with
//! [`MISSING`] before any of these functions could be called. The functions mirror `s3.rs`.

use std::path::Path;

use super::Location;
use crate::error::Result;

/// No S3 client can be made in this build.
#[derive(Clone, Debug)]
pub(super) enum Client {}

/// Why an S3 location cannot be used in this build.
pub(super) const MISSING: &str = "S3 needs the `sagemaker` cargo feature, which this build lacks";

pub(super) async fn put_file(
    client: &Client,
    _: &Path,
    _: &str,
    _: &str,
    _: &Location,
) -> Result<()> {
    match *client {}
}

pub(super) async fn put_bytes(
    client: &Client,
    _: &[u8],
    _: &str,
    _: &str,
    _: &Location,
) -> Result<()> {
    match *client {}
}

pub(super) async fn multipart_upload(
    client: &Client,
    _: &Path,
    _: &str,
    _: &str,
    _: u64,
    _: &Location,
) -> Result<()> {
    match *client {}
}

pub(super) async fn get_file(
    client: &Client,
    _: &str,
    _: &str,
    _: &Path,
    _: &Location,
) -> Result<()> {
    match *client {}
}

pub(super) async fn list(client: &Client, _: &str, _: &str, _: &Location) -> Result<Vec<String>> {
    match *client {}
}

pub(super) async fn exists(client: &Client, _: &str, _: &str, _: &Location) -> Result<bool> {
    match *client {}
}

pub(super) async fn ensure_bucket(client: &Client, _: &str, _: &str, _: &Location) -> Result<()> {
    match *client {}
}

pub(super) async fn bucket_reachable(client: &Client, _: &str, _: &Location) -> Result<()> {
    match *client {}
}
