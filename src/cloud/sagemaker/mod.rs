//! Amazon SageMaker — training and tuning jobs, models, endpoints, InvokeEndpoint
//! and batch transform, through aws-sdk-rust (cargo feature `sagemaker`, on by default).
//!
//! These are the raw calls and their waiters, with the vocabulary they share with the rest of
//! the crate ([`PollConfig`], [`Distribution`], [`image_uri`], job names), which exists with
//! or without the feature. Most code uses them through the
//! backend-neutral [`crate::cloud::estimator::Estimator`], [`crate::cloud::estimator::HyperparameterTuner`]
//! and [`crate::cloud::endpoint::Endpoint`], which run locally or here depending on the
//! [`crate::cloud::session::Session`].
//!
//! Every waiter polls the Describe call with a growing interval
//! ([`PollConfig`]), reports each new status (and, for training jobs, each
//! secondary status transition) to a [`crate::util::progress::Progress`], rides out throttling and
//! network errors (five in a row at most), stops at a timeout with [`Error::Timeout`], and
//! turns `Failed`/`Stopped` into [`Error::JobFailed`] carrying SageMaker's FailureReason.
//!
//! [`Error::Timeout`]: crate::Error::Timeout
//! [`Error::JobFailed`]: crate::Error::JobFailed

pub mod cluster;
pub mod container;
mod images;
pub mod local_hosts;
pub(crate) mod names;

#[cfg(feature = "sagemaker")]
pub mod hosting;
#[cfg(feature = "sagemaker")]
pub mod training;
#[cfg(feature = "sagemaker")]
pub mod transform;
#[cfg(feature = "sagemaker")]
pub mod tuning;
#[cfg(feature = "sagemaker")]
mod waiter;

pub use images::image_uri;
pub use names::unique_name;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How waiters poll SageMaker: first interval, growth, cap. Tests shorten them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollConfig {
    pub initial: Duration,
    pub max: Duration,
    /// Each interval is the previous one times this (≥ 1).
    pub factor: f64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
            factor: 1.5,
        }
    }
}

/// How a channel's objects are spread over the instances of a multi-instance job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Distribution {
    /// Every instance reads every object (the default).
    #[default]
    FullyReplicated,
    /// Each instance reads its share of the objects: data-parallel training over several
    /// instances (split the training data into at least as many files).
    ShardedByS3Key,
}

#[cfg(feature = "sagemaker")]
pub(crate) use calls::{aws_error, is_transient};

#[cfg(feature = "sagemaker")]
mod calls {
    use aws_smithy_types::error::display::DisplayErrorContext;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    use crate::error::Error;

    type SdkError<E> =
        aws_sdk_sagemaker::error::SdkError<E, aws_sdk_sagemaker::config::http::HttpResponse>;

    /// An AWS call's error as [`Error::Aws`], with the service's code and message.
    pub(crate) fn aws_error<E>(operation: &str, e: SdkError<E>) -> Error
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let message = match e.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("error"),
                service.message().unwrap_or("(no message)")
            ),
            None => DisplayErrorContext(&e).to_string(),
        };
        Error::Aws {
            operation: operation.to_string(),
            message,
        }
    }

    /// Whether an error is worth another try: throttling, 5xx, timeouts, network failures.
    pub(crate) fn is_transient<E>(e: &SdkError<E>) -> bool
    where
        E: ProvideErrorMetadata,
    {
        match e {
            aws_sdk_sagemaker::error::SdkError::TimeoutError(_)
            | aws_sdk_sagemaker::error::SdkError::DispatchFailure(_)
            | aws_sdk_sagemaker::error::SdkError::ResponseError(_) => true,
            aws_sdk_sagemaker::error::SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                let code = s.err().code().unwrap_or("");
                status == 429
                    || status >= 500
                    || matches!(
                        code,
                        "ThrottlingException"
                            | "Throttling"
                            | "ThrottledException"
                            | "RequestLimitExceeded"
                            | "TooManyRequestsException"
                            | "ServiceUnavailable"
                            | "InternalFailure"
                    )
            }
            _ => false,
        }
    }
}
