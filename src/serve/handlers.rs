//! The routes of the endpoint: `/ping`, `/invocations` (content negotiation, parsing through
//! [`crate::codec`], scoring), `/execution-parameters` and `/metrics`, with one error type,
//! [`ApiError`], that turns into a response.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use polars::prelude::{Column, DataFrame};

use super::model::Loaded;
use super::stats::{route_label, Stats};
use crate::codec::{csv, json, libsvm, MAX_PAYLOAD_BYTES};
use crate::model::artifact::Artifact;

/// Bodies below this size are scored on the request's own thread with the single-threaded
/// booster; larger ones on the blocking pool with all of libxgboost's threads.
const INLINE_BODY_BYTES: usize = 16 * 1024;

pub(super) struct AppState {
    pub(super) model: OnceLock<std::result::Result<Arc<Loaded>, String>>,
    pub(super) workers: usize,
    pub(super) stats: Stats,
}

pub(super) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/invocations", post(invocations))
        .route("/execution-parameters", get(execution_parameters))
        .route("/metrics", get(prometheus_metrics))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Count, time and log every request.
async fn track(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = route_label(req.uri().path());
    let response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    s.stats.record(path, status, seconds);
    tracing::info!(
        target: "purchase_predict::serve::access",
        %method,
        %path,
        status,
        ms = seconds * 1e3,
    );
    response
}

async fn prometheus_metrics(State(s): State<Arc<AppState>>) -> Response {
    let loaded = matches!(s.model.get(), Some(Ok(_)));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.stats.prometheus(loaded),
    )
        .into_response()
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
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
    /// 500: scoring failed.
    Internal(String),
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
                format!("content type {other} is not supported; use text/csv, text/libsvm or application/json"),
            ),
            ApiError::NotAcceptable => text(
                StatusCode::NOT_ACCEPTABLE,
                "Accept must be text/csv, application/json or application/jsonlines",
            ),
            ApiError::BadRequest(message) => text(StatusCode::BAD_REQUEST, message),
            ApiError::Internal(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("prediction failed: {e}"),
            ),
        }
    }
}

impl AppState {
    /// The loaded model, or why there is none yet.
    fn loaded(&self, loading: &'static str) -> std::result::Result<Arc<Loaded>, ApiError> {
        match self.model.get() {
            Some(Ok(l)) => Ok(l.clone()),
            Some(Err(e)) => Err(ApiError::LoadFailed(e.clone())),
            None => Err(ApiError::Loading(loading)),
        }
    }
}

async fn ping(State(s): State<Arc<AppState>>) -> std::result::Result<StatusCode, ApiError> {
    s.loaded("loading").map(|_| StatusCode::OK)
}

async fn execution_parameters(State(s): State<Arc<AppState>>) -> Response {
    let body = serde_json::json!({
        "MaxConcurrentTransforms": s.workers,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": MAX_PAYLOAD_BYTES / (1024 * 1024),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    Csv,
    Libsvm,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Output {
    Csv,
    Json,
    JsonLines,
}

fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn parse_accept(headers: &HeaderMap, default: Output) -> Option<Output> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(default);
    };
    for part in accept.split(',') {
        match media_type(part).as_str() {
            "" | "*/*" => return Some(default),
            "text/csv" => return Some(Output::Csv),
            "application/json" => return Some(Output::Json),
            "application/jsonlines" | "application/x-jsonlines" => return Some(Output::JsonLines),
            _ => {}
        }
    }
    None
}

async fn invocations(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> std::result::Result<Response, ApiError> {
    let loaded = s.loaded("model is loading")?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .unwrap_or_else(|| "text/csv".into());
    let input = match content_type.as_str() {
        "text/csv" => Input::Csv,
        "text/libsvm" | "text/x-libsvm" => Input::Libsvm,
        "application/json" => Input::Json,
        other => return Err(ApiError::UnsupportedMediaType(other.to_string())),
    };
    let default = if input == Input::Json {
        Output::Json
    } else {
        Output::Csv
    };
    let output = parse_accept(&headers, default).ok_or(ApiError::NotAcceptable)?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let (scores, labels) = if body.len() < INLINE_BODY_BYTES {
        score(&loaded, input, &body, true)?
    } else {
        tokio::task::spawn_blocking(move || score(&loaded, input, &body, false))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??
    };
    s.stats
        .rows
        .fetch_add(scores.len() as u64, Ordering::Relaxed);
    Ok(render(&scores, labels.as_deref(), output))
}

type Scored = (Vec<f32>, Option<Vec<u8>>);

/// Parse a body and score it. CSV is cut into one part per core, each parsed and scored
/// with the single-threaded booster at once; libsvm and JSON use the artifact's booster
/// (all threads) unless the body is `small`.
fn score(
    loaded: &Loaded,
    input: Input,
    body: &[u8],
    small: bool,
) -> std::result::Result<Scored, ApiError> {
    let artifact = &loaded.artifact;
    let n = artifact.manifest.feature_names.len();
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    match input {
        Input::Csv if small => {
            let x = csv::parse_csv_rows(text, n).map_err(ApiError::BadRequest)?;
            Ok((
                loaded.predict(&x, true).map_err(ApiError::BadRequest)?,
                None,
            ))
        }
        Input::Csv => {
            let single = loaded.single_thread.booster();
            let scores = csv::parse_csv_in_parts(text.as_bytes(), n, 0, |x| {
                single
                    .predict_dense(&x, x.len() / n.max(1), n)
                    .map_err(|e| e.to_string())
            })
            .map_err(ApiError::BadRequest)?;
            Ok((scores, None))
        }
        Input::Libsvm => {
            let x = libsvm::parse_rows(text, n).map_err(ApiError::BadRequest)?;
            Ok((
                loaded.predict(&x, small).map_err(ApiError::BadRequest)?,
                None,
            ))
        }
        Input::Json => {
            let x = parse_instances(artifact, text)?;
            let scores = loaded.predict(&x, small).map_err(ApiError::BadRequest)?;
            let t = artifact.manifest.threshold as f32;
            let labels = scores.iter().map(|&p| u8::from(p >= t)).collect();
            Ok((scores, Some(labels)))
        }
    }
}

fn parse_instances(artifact: &Artifact, text: &str) -> std::result::Result<Vec<f32>, ApiError> {
    let pre = &artifact.preprocessor;
    let wanted = pre.input_columns();
    let columns = json::decode_instances(text, &wanted).map_err(ApiError::BadRequest)?;
    let nrows = columns.first().map_or(0, Vec::len);
    // As text: the preprocessor parses numeric columns strictly and reads categorical ones as
    // they are, so `3` and `"3"` mean the same.
    let cols: Vec<Column> = wanted
        .iter()
        .zip(columns)
        .map(|(name, vals)| Column::new((*name).into(), vals))
        .collect();
    let df = DataFrame::new(nrows, cols).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let x = pre
        .transform(&df)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(x.values)
}

fn render(scores: &[f32], labels: Option<&[u8]>, output: Output) -> Response {
    let (ctype, body) = match output {
        Output::Csv => ("text/csv", csv::encode_scores(scores, labels)),
        Output::Json => ("application/json", json::encode_predictions(scores, labels)),
        Output::JsonLines => (
            "application/jsonlines",
            json::encode_prediction_lines(scores, labels),
        ),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, ctype)], body).into_response()
}
