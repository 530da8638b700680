//! The session's stand-in without the `sagemaker` feature: AWS clients that cannot exist,
//! and a `connect` that says the feature is missing.

use super::{SageMakerConfig, Session};
use crate::error::{Error, Result};

/// Without the `sagemaker` feature there are no AWS clients: this type has no value, so a
/// SageMaker session cannot be made.
#[derive(Clone, Debug)]
pub enum AwsClients {}

/// No HTTP client can be given in this build.
#[derive(Clone, Debug)]
pub(super) enum HttpClient {}

/// The error of every SageMaker call in a build without the `sagemaker` feature.
pub(super) async fn connect(config: &SageMakerConfig) -> Result<Session> {
    match &config.http_client {
        Some(client) => match *client {},
        None => Err(Error::Unsupported(
            "this build has no SageMaker backend: rebuild with the `sagemaker` cargo feature"
                .into(),
        )),
    }
}
