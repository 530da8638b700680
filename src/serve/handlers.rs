//! The routes of the endpoint: `/ping`, `/invocations` (content negotiation, parsing through
//! [`crate::codec`], scoring), `/execution-parameters` and `/metrics`, with one error type,
//! [`ApiError`], that turns into a response.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use polars::prelude::{Column, DataFrame};

use super::config::ServerConfig;
use super::error::ApiError;
use super::model::Loaded;
use super::stats::{route_label, Stats};
use crate::codec::{csv, json, libsvm, recordio, MAX_PAYLOAD_BYTES};
use crate::model::artifact::Artifact;
use crate::model::explain::Explanations;

/// The header through which SageMaker passes a request's `CustomAttributes` to the container.
pub const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";

/// The header through which SageMaker passes a request's `InferenceId` (kept in its capture
/// record, the key that delayed ground truth is joined on).
pub const INFERENCE_ID: &str = "x-amzn-sagemaker-inference-id";

/// Whether a request's custom attributes ask for explanations: an `explain` (or
/// `explain=true`/`explain=1`) among its `,`/`;`-separated attributes.
pub fn wants_explanations(custom_attributes: &str) -> bool {
    custom_attributes
        .split([',', ';'])
        .map(|a| a.trim().to_ascii_lowercase())
        .any(|a| a == "explain" || a == "explain=true" || a == "explain=1")
}

/// Bodies below this size are scored on the request's own thread with the single-threaded
/// booster; larger ones on the blocking pool with all of libxgboost's threads.
const INLINE_BODY_BYTES: usize = 16 * 1024;

pub(super) struct AppState {
    pub(super) model: OnceLock<std::result::Result<Arc<Loaded>, String>>,
    /// The settings the server was started with (workers and the request bounds).
    pub(super) config: ServerConfig,
    /// One permit for each large request that may be scored at once
    /// (`config.max_concurrent`).
    pub(super) slots: tokio::sync::Semaphore,
    /// One permit for each byte of large bodies that may be read and held at once
    /// (`config.body_budget()`).
    pub(super) body_bytes: tokio::sync::Semaphore,
    pub(super) stats: Stats,
    /// Data capture, when the server was started with it.
    pub(super) capture: Option<super::capture::Capturer>,
}

pub(super) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/invocations", post(invocations))
        .route("/execution-parameters", get(execution_parameters))
        .route("/metrics", get(prometheus_metrics))
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
        s.stats.prometheus(loaded, s.capture.as_ref()),
    )
        .into_response()
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
        "MaxConcurrentTransforms": s.config.workers,
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
    Recordio,
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

/// The answer's format from `Accept`: the listed type of highest quality that can be
/// answered (`q=0` excludes a type; wildcards `*/*`, `text/*`, `application/*`), the first
/// listed among equals; `default` without the header.
fn parse_accept(headers: &HeaderMap, default: Output) -> Option<Output> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(default);
    };
    let mut best: Option<(f32, Output)> = None;
    for part in accept.split(',') {
        let mut params = part.split(';');
        let output = match params
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "*/*" => default,
            "text/*" | "text/csv" => Output::Csv,
            "application/*" | "application/json" => Output::Json,
            "application/jsonlines" | "application/x-jsonlines" => Output::JsonLines,
            _ => continue,
        };
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, output));
        }
    }
    best.map(|(_, output)| output)
}

async fn invocations(
    State(s): State<Arc<AppState>>,
    request: Request,
) -> std::result::Result<Response, ApiError> {
    let loaded = s.loaded("model is loading")?;
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .unwrap_or_else(|| "text/csv".into());
    let input = match content_type.as_str() {
        "text/csv" => Input::Csv,
        "text/libsvm" | "text/x-libsvm" => Input::Libsvm,
        "application/json" => Input::Json,
        "application/x-recordio-protobuf" => Input::Recordio,
        other => return Err(ApiError::UnsupportedMediaType(other.to_string())),
    };
    let default = if input == Input::Json {
        Output::Json
    } else {
        Output::Csv
    };
    let output = parse_accept(headers, default).ok_or(ApiError::NotAcceptable)?;
    let explain = headers
        .get(CUSTOM_ATTRIBUTES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(wants_explanations);
    if explain && output == Output::Csv {
        return Err(ApiError::ExplainNeedsJson);
    }
    // Refused on the announced length, before a byte of the body is read (and so before
    // `100 Continue` is sent to a client that asked for it).
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = announced {
        if n > MAX_PAYLOAD_BYTES as u64 {
            return Err(too_large_body(n));
        }
    }
    // The body first (a slow upload holds its share of the body budget, never a scoring
    // slot), then a slot to score a large one. Small bodies cost little and wait for neither.
    let small = matches!(announced, Some(n) if n < INLINE_BODY_BYTES as u64);
    let (body, _bytes) = read_body(body, &s, (!small).then_some(announced)).await?;
    let _slot = if body.len() < INLINE_BODY_BYTES {
        None
    } else {
        Some(
            tokio::time::timeout(s.config.busy_timeout, s.slots.acquire())
                .await
                .map_err(|_| ApiError::Busy {
                    slots: s.config.max_concurrent,
                    waited: s.config.busy_timeout,
                })?
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
    };
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    // What capture keeps of the request: the body shares its buffer (no copy).
    let captured = s.capture.as_ref().map(|_| {
        let observed = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/csv")
            .to_string();
        let inference_id = headers
            .get(INFERENCE_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (observed, body.clone(), inference_id)
    });
    let rows = count_rows(input, &body);
    if rows > s.config.max_rows {
        return Err(ApiError::TooLarge(format!(
            "the request holds {rows} rows; the most one request may hold is {} \
             (split it, or use batch transform)",
            s.config.max_rows
        )));
    }
    if explain {
        let (scores, labels, explained) = if body.len() < INLINE_BODY_BYTES {
            score_explained(&loaded, input, &body, true)?
        } else {
            tokio::task::spawn_blocking(move || score_explained(&loaded, input, &body, false))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??
        };
        s.stats
            .rows
            .fetch_add(scores.len() as u64, Ordering::Relaxed);
        let answer = render_explained(&scores, labels.as_deref(), &explained, output);
        return Ok(respond(&s, captured, answer));
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
    let answer = render(&scores, labels.as_deref(), output);
    Ok(respond(&s, captured, answer))
}

/// The answer as a response, its exchange handed to capture first when the request is
/// sampled (a queue hand-over; the writing happens on capture's own thread).
fn respond(
    s: &AppState,
    captured: Option<(String, Bytes, Option<String>)>,
    (content_type, body): (&'static str, String),
) -> Response {
    let body = Bytes::from(body);
    if let (Some(capture), Some((input_type, input, inference_id))) = (&s.capture, captured) {
        if capture.sample() {
            capture.offer(super::capture::Exchange {
                input_type,
                input,
                output_type: content_type,
                output: body.clone(),
                inference_id,
                time: std::time::SystemTime::now(),
            });
        }
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn too_large_body(bytes: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "the body is {bytes} bytes; the most one request may send is {MAX_PAYLOAD_BYTES} \
         ({} MB, SageMaker's MaxPayloadInMB)",
        MAX_PAYLOAD_BYTES / (1024 * 1024)
    ))
}

/// The whole body, at most [`MAX_PAYLOAD_BYTES`], within the read timeout. With `budget`
/// (`Some(announced length)`: a large or unannounced body), its bytes are taken from the body
/// budget, waiting at most the busy timeout for them: an announced length all at once before
/// reading (so that many bodies arriving together never each hold a part of the budget and
/// wait for the rest), an unannounced body chunk by chunk. The permit returned holds them
/// until the request is done.
async fn read_body(
    mut body: Body,
    s: &AppState,
    budget: Option<Option<u64>>,
) -> std::result::Result<(Bytes, Option<tokio::sync::SemaphorePermit<'_>>), ApiError> {
    use http_body_util::BodyExt;
    let limit = s.config.read_timeout;
    let deadline = tokio::time::Instant::now() + limit;
    let take = |n: usize| async move {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        tokio::time::timeout(s.config.busy_timeout, s.body_bytes.acquire_many(n))
            .await
            .map_err(|_| ApiError::BusyReading {
                budget: s.config.body_budget(),
                waited: s.config.busy_timeout,
            })?
            .map_err(|e| ApiError::Internal(e.to_string()))
    };
    let mut held = match budget {
        // Checked against MAX_PAYLOAD_BYTES by the caller.
        Some(Some(announced)) => Some(take(announced as usize).await?),
        _ => None,
    };
    let per_chunk = matches!(budget, Some(None));
    let hint = axum::body::HttpBody::size_hint(&body).lower() as usize;
    let mut data = Vec::with_capacity(hint.min(MAX_PAYLOAD_BYTES));
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(ApiError::Timeout(limit)),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::BadRequest(format!(
                    "the body could not be read: {e}"
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        if data.len() + chunk.len() > MAX_PAYLOAD_BYTES {
            return Err(too_large_body(MAX_PAYLOAD_BYTES as u64 + 1));
        }
        if per_chunk && !chunk.is_empty() {
            let permit = take(chunk.len()).await?;
            match &mut held {
                Some(h) => h.merge(permit),
                None => held = Some(permit),
            }
        }
        data.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(data), held))
}

/// An upper bound of the rows a body holds, without parsing it: its non-blank lines (CSV,
/// libsvm; lines end at `\n`, `\r\n` or a bare `\r`), or its JSON objects past the outer one (an instance is one object whose values
/// are scalars).
fn count_rows(input: Input, body: &[u8]) -> usize {
    match input {
        Input::Recordio => recordio::count_records(body),
        // A row ends at `\n`, `\r\n` or a bare `\r`, as the parsers end them.
        Input::Csv | Input::Libsvm => body
            .split(|&b| b == b'\n' || b == b'\r')
            .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
            .count(),
        Input::Json => {
            let (mut objects, mut in_string, mut escaped) = (0usize, false, false);
            for &b in body {
                if in_string {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => in_string = false,
                        _ => {}
                    }
                } else if b == b'"' {
                    in_string = true;
                } else if b == b'{' {
                    objects += 1;
                }
            }
            objects.saturating_sub(1)
        }
    }
}

type Scored = (Vec<f32>, Option<Vec<u8>>);
/// Scores, labels (JSON instances only) and explanations.
type ScoredExplained = (Vec<f32>, Option<Vec<u8>>, Explanations);

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
        || std::str::from_utf8(body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()));
    match input {
        Input::Recordio => {
            let x = recordio::parse_rows(body, n)?;
            Ok((loaded.predict(&x, small)?, None))
        }
        Input::Csv if small => {
            let x = csv::parse_csv_rows(text()?, n)?;
            Ok((loaded.predict(&x, true)?, None))
        }
        Input::Csv => {
            let single = loaded.single_thread.booster();
            let scores = csv::parse_csv_in_parts(text()?.as_bytes(), n, 0, |x| {
                single
                    .predict_dense(&x, x.len() / n.max(1), n)
                    .map_err(|e| ApiError::BadRequest(e.to_string()))
            })?;
            Ok((scores, None))
        }
        Input::Libsvm => {
            let x = libsvm::parse_rows(text()?, n)?;
            Ok((loaded.predict(&x, small)?, None))
        }
        Input::Json => {
            let x = parse_instances(artifact, text()?)?;
            let scores = loaded.predict(&x, small)?;
            let t = artifact.manifest.threshold;
            let labels = scores.iter().map(|&p| t.label(p)).collect();
            Ok((scores, Some(labels)))
        }
    }
}

/// Parse a body, score it and explain its rows: by raw column for JSON instances, by model feature for CSV, libsvm and RecordIO rows.
fn score_explained(
    loaded: &Loaded,
    input: Input,
    body: &[u8],
    small: bool,
) -> std::result::Result<ScoredExplained, ApiError> {
    let artifact = &loaded.artifact;
    let n = artifact.manifest.feature_names.len();
    let text =
        || std::str::from_utf8(body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()));
    let x = match input {
        Input::Recordio => recordio::parse_rows(body, n)?,
        Input::Csv => csv::parse_csv_rows(text()?, n)?,
        Input::Libsvm => libsvm::parse_rows(text()?, n)?,
        Input::Json => parse_instances(artifact, text()?)?,
    };
    // The scores as an unexplained request gets them, to the last digit.
    let scores = loaded.predict(&x, small)?;
    let mut explained = loaded.explain(x, small)?;
    if input == Input::Json {
        explained = explained
            .by_column(&artifact.preprocessor)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let labels = (input == Input::Json).then(|| {
        let t = artifact.manifest.threshold;
        scores.iter().map(|&p| t.label(p)).collect()
    });
    Ok((scores, labels, explained))
}

fn parse_instances(artifact: &Artifact, text: &str) -> std::result::Result<Vec<f32>, ApiError> {
    let pre = &artifact.preprocessor;
    let wanted = pre.input_columns();
    // A raw record may carry the customer's id (the manifest's id column) beside its columns.
    let columns =
        json::decode_instances_beside(text, &wanted, artifact.manifest.id_column.as_deref())?;
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

fn render_explained(
    scores: &[f32],
    labels: Option<&[u8]>,
    e: &Explanations,
    output: Output,
) -> (&'static str, String) {
    let rows = json::ExplainedRows {
        names: &e.names,
        base_value: e.base_value,
        values: &e.values,
    };
    match output {
        Output::Json => (
            "application/json",
            json::encode_explained_predictions(scores, labels, &rows),
        ),
        _ => (
            "application/jsonlines",
            json::encode_explained_prediction_lines(scores, labels, &rows),
        ),
    }
}

fn render(scores: &[f32], labels: Option<&[u8]>, output: Output) -> (&'static str, String) {
    match output {
        Output::Csv => ("text/csv", csv::encode_scores(scores, labels)),
        Output::Json => ("application/json", json::encode_predictions(scores, labels)),
        Output::JsonLines => (
            "application/jsonlines",
            json::encode_prediction_lines(scores, labels),
        ),
    }
}
