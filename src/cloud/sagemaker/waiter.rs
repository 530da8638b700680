//! Polls a Describe call until a job or endpoint settles.

use std::future::Future;
use std::time::{Duration, Instant};

use super::PollConfig;
use crate::error::{Error, Result};
use crate::util::progress::Progress;

/// What one poll found.
pub(crate) enum Poll<T> {
    /// Still going; the status line to show (shown again only when it changes).
    Pending(String),
    /// A throttling or network error: try again (at most [`MAX_TRANSIENT`] in a row).
    Transient(String),
    /// Settled successfully.
    Done(T),
    /// Settled unsuccessfully.
    Failed { status: String, reason: String },
}

impl<T> Poll<T> {
    /// Settled unsuccessfully in `status`, for SageMaker's FailureReason (if it gave one).
    pub(crate) fn failed(status: &str, reason: Option<&str>) -> Poll<T> {
        Poll::Failed {
            status: status.to_string(),
            reason: reason.unwrap_or("(no FailureReason given)").to_string(),
        }
    }

    /// Still going in `status` (`None` before SageMaker reports one).
    pub(crate) fn pending(status: Option<&str>) -> Poll<T> {
        Poll::Pending(status.unwrap_or("(no status yet)").to_string())
    }
}

/// A failed Describe call as a poll: a transient error (throttling, 5xx, network) is tried
/// again, anything else ends the wait.
pub(crate) fn poll_error<T, E>(
    operation: &str,
    e: aws_sdk_sagemaker::error::SdkError<E, aws_sdk_sagemaker::config::http::HttpResponse>,
) -> Result<Poll<T>>
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
{
    if super::is_transient(&e) {
        Ok(Poll::Transient(super::aws_error(operation, e).to_string()))
    } else {
        Err(super::aws_error(operation, e))
    }
}

/// Consecutive transient errors tolerated.
pub(crate) const MAX_TRANSIENT: usize = 5;

/// Poll until done, failed, or `timeout`.
pub(crate) async fn wait<T, F, Fut>(
    kind: &str,
    name: &str,
    poll: PollConfig,
    timeout: Duration,
    progress: &mut dyn Progress,
    mut describe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>>>,
{
    let started = Instant::now();
    let mut interval = poll.initial;
    let mut last = String::from("(not yet described)");
    let mut transient = 0usize;
    progress.start(&format!("{kind} {name}"), 0);
    loop {
        match describe().await? {
            Poll::Done(value) => {
                progress.finish(&format!(
                    "{kind} {name}: done after {:.0} s",
                    started.elapsed().as_secs_f64()
                ));
                return Ok(value);
            }
            Poll::Failed { status, reason } => {
                progress.finish(&format!("{kind} {name}: {status}"));
                return Err(Error::JobFailed {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    status,
                    reason,
                });
            }
            Poll::Pending(status) => {
                transient = 0;
                if status != last {
                    progress.update(started.elapsed().as_secs(), &status);
                    last = status;
                }
            }
            Poll::Transient(message) => {
                transient += 1;
                if transient > MAX_TRANSIENT {
                    return Err(Error::Aws {
                        operation: format!("waiting for {kind} {name}"),
                        message: format!("{transient} errors in a row, the last: {message}"),
                    });
                }
                progress.update(
                    started.elapsed().as_secs(),
                    &format!("retrying after: {message}"),
                );
            }
        }
        if started.elapsed() + interval > timeout {
            progress.finish(&format!("{kind} {name}: timed out"));
            return Err(Error::Timeout {
                what: format!("{kind} {name}"),
                seconds: started.elapsed().as_secs_f64(),
                last_status: last,
            });
        }
        tokio::time::sleep(interval).await;
        interval = interval.mul_f64(poll.factor.max(1.0)).min(poll.max);
    }
}
