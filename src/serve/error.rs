//! The endpoint's one error type: every way a request can fail, with its status and a
//! plain-text message, and the conversions that let handlers use `?` (a body the codecs
//! cannot read is a 400 naming its line and column).

use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub(super) fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body.into()).into_response()
}

/// Every way a request can fail, each with its status and a plain-text message; the server
/// keeps serving after any of them.
pub(super) enum ApiError {
    /// 503 while the model loads (the text differs between `/ping` and `/invocations`).
    Loading(&'static str),
    /// 500: the model could not be loaded.
    LoadFailed(String),
    /// 415: a `Content-Type` the container does not take.
    UnsupportedMediaType(String),
    /// 406: an `Accept` the container cannot answer.
    NotAcceptable,
    /// 400: malformed rows or records, with the line, column or names.
    BadRequest(String),
    /// 413: a body over the size cap, or more rows than a request may hold.
    TooLarge(String),
    /// 408: the body did not arrive in time.
    Timeout(Duration),
    /// 503: every slot for large requests stayed busy for the whole wait.
    Busy { slots: usize, waited: Duration },
    /// 503: the bodies of other large requests held the whole body budget for the whole wait.
    BusyReading { budget: usize, waited: Duration },
    /// 400: explanations asked for with an answer format that cannot carry them.
    ExplainNeedsJson,
    /// 500: scoring failed.
    Internal(String),
}

/// The most characters of a 400's message: enough for the line, column and value at fault,
/// without echoing a megabyte of the client's own input back.
const MAX_MESSAGE_CHARS: usize = 1000;

/// A body that could not be read is the client's: 400, with the line and column.
impl From<crate::codec::DecodeError> for ApiError {
    fn from(e: crate::codec::DecodeError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Loading(message) => text(StatusCode::SERVICE_UNAVAILABLE, message),
            ApiError::LoadFailed(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("model failed to load: {e}"),
            ),
            ApiError::UnsupportedMediaType(other) => text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type {other} is not supported; use text/csv, text/libsvm, application/json or application/x-recordio-protobuf"),
            ),
            ApiError::NotAcceptable => text(
                StatusCode::NOT_ACCEPTABLE,
                "Accept must be text/csv, application/json or application/jsonlines",
            ),
            ApiError::BadRequest(message) => text(
                StatusCode::BAD_REQUEST,
                crate::error::clip(&message, MAX_MESSAGE_CHARS),
            ),
            ApiError::TooLarge(message) => text(StatusCode::PAYLOAD_TOO_LARGE, message),
            ApiError::Timeout(limit) => text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {:.0} s",
                    limit.as_secs_f64()
                ),
            ),
            ApiError::Busy { slots, waited } => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is busy: {slots} large requests are being scored and none \
                     finished within {:.0} s; retry later",
                    waited.as_secs_f64()
                ),
            ),
            ApiError::BusyReading { budget, waited } => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is busy: the bodies of other large requests hold all {} MB it \
                     reads at once, and none finished within {:.0} s; retry later",
                    budget / (1024 * 1024),
                    waited.as_secs_f64()
                ),
            ),
            ApiError::ExplainNeedsJson => text(
                StatusCode::BAD_REQUEST,
                "the `explain` custom attribute needs a JSON answer: send \
                 Accept: application/json or application/jsonlines (text/csv carries \
                 one score a row)",
            ),
            ApiError::Internal(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("prediction failed: {e}"),
            ),
        }
    }
}
