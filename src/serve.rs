//! Stage 7: a local real-time endpoint with the contract of SageMaker's XGBoost container.
//!
//! - `GET /ping`: 200 once the model is loaded, 503 while it loads.
//! - `POST /invocations`:
//!   - `text/csv`: one customer per line, already-preprocessed features in the model's order,
//!     no label, no header, empty field = missing (what the SageMaker container takes);
//!     `text/libsvm`: `[label] index:value ...` with 0-based feature indices;
//!   - `application/json`: raw customer records, `{"instances": [{"age": 41, ...}, ...]}`,
//!     which go through the stored preprocessor first; the answer adds the 0/1 `label` at the
//!     stored threshold;
//!   - `Accept`: `text/csv` (default for CSV/libsvm: one probability per line),
//!     `application/json` (`{"predictions": [{"score": p}, ...]}`, default for JSON) or
//!     `application/jsonlines` (one `{"score": p}` per line);
//!   - errors: unsupported content type 415, unsupported Accept 406, empty body 204, body over
//!     6 MB ([`MAX_PAYLOAD_BYTES`]) 413, malformed rows or records 400 with the line and
//!     column or the offending names. The server keeps serving after any of them.
//! - `GET /execution-parameters`: `MaxConcurrentTransforms`, `BatchStrategy`, `MaxPayloadInMB`.
//! - `GET /metrics`: Prometheus text format — requests by path and status, a latency histogram
//!   of `/invocations`, rows scored, whether the model is loaded.
//!
//! Every request is logged through `tracing` (target `purchase_predict::serve::access`, level
//! INFO: method, path, status, milliseconds); `purchase-predict serve` prints them on stderr,
//! filtered by `RUST_LOG` as usual.
//!
//! From synchronous code (a notebook, a test, a script), [`BackgroundServer`] runs the server on
//! its own threads and hands out a [`Predictor`]:
//!
//! ```no_run
//! # fn demo(x: &purchase_predict::prep::FeatureMatrix) -> purchase_predict::Result<()> {
//! use purchase_predict::serve::{BackgroundServer, ServerConfig};
//! let server = BackgroundServer::start("out/model.tar.gz", &ServerConfig::default().port(0))?;
//! let probabilities = server.predictor()?.predict(x)?;
//! server.stop();
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! # async fn demo() -> purchase_predict::Result<()> {
//! use purchase_predict::serve::{Server, ServerConfig};
//! let server = Server::start("out/model.tar.gz", &ServerConfig::default()).await?;
//! println!("listening on {}", server.addr());
//! server.wait_loaded().await?;
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use polars::prelude::{Column, DataFrame};
use serde_json::Value;

use crate::artifact::Artifact;
use crate::error::{Error, Result};
use crate::forest::Forest;
use crate::predictor::{HttpEndpoint, Predictor};
use crate::train::Model;

/// SageMaker's payload limit for real-time endpoints: 6 MB.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Where and how to listen.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to bind (default 127.0.0.1).
    pub host: String,
    /// Port (default 8080; 0 picks a free one).
    pub port: u16,
    /// Worker threads of the runtime (default: all cores).
    pub workers: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

impl ServerConfig {
    /// The same settings on another port (0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Validate the settings (at least one worker).
    pub fn check(&self) -> Result<()> {
        if self.workers == 0 {
            return Err(Error::InvalidSetting {
                name: "workers".into(),
                reason: "must be ≥ 1".into(),
            });
        }
        Ok(())
    }
}

/// The artifact, plus what makes small and large requests fast:
/// - `forest`: the trees evaluated in Rust (verified against libxgboost at load), for small
///   requests, where libxgboost's ~20 µs per call would be most of the work;
/// - `single_thread`: a copy of the booster with `nthread=1`, for the parallel parts of
///   large CSV requests (one part per core) and small requests when there is no forest.
struct Loaded {
    artifact: Artifact,
    single_thread: Model,
    forest: Option<Forest>,
}

impl Loaded {
    fn load(path: &Path) -> Result<Loaded> {
        let artifact = Artifact::load(path)?;
        let json = artifact.model.to_bytes()?;
        let mut single_thread = Model::from_bytes(&json, artifact.manifest.feature_names.clone())?;
        single_thread.set_threads(1)?;
        let forest = Forest::from_xgboost_json(&json)
            .and_then(|f| f.verify(artifact.model.booster(), 1000).map(|()| f));
        let forest = match forest {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!("small requests will use libxgboost: {e}");
                None
            }
        };
        Ok(Loaded {
            artifact,
            single_thread,
            forest,
        })
    }

    /// Score rows with the forest when there is one and the request is small.
    fn predict(&self, x: &[f32], small: bool) -> std::result::Result<Vec<f32>, String> {
        let n = self.artifact.manifest.feature_names.len();
        let rows = x.len() / n.max(1);
        match (&self.forest, small) {
            (Some(f), true) => f.predict(x, rows),
            (None, true) => self.single_thread.booster().predict_dense(x, rows, n),
            (_, false) => self.artifact.model.booster().predict_dense(x, rows, n),
        }
        .map_err(|e| e.to_string())
    }
}

/// Bodies below this size are scored on the request's own thread with the single-threaded
/// booster; larger ones on the blocking pool with all of libxgboost's threads.
const INLINE_BODY_BYTES: usize = 16 * 1024;

struct AppState {
    model: OnceLock<std::result::Result<Arc<Loaded>, String>>,
    workers: usize,
    stats: Stats,
}

/// Upper bounds (seconds) of the `/invocations` latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// What `/metrics` reports.
#[derive(Default)]
struct Stats {
    /// (path, status) → count; unknown paths count as `other`.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Cumulative-free bucket counts; the last slot is +Inf.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_sum_ns: AtomicU64,
    latency_count: AtomicU64,
    rows: AtomicU64,
}

fn route_label(path: &str) -> &'static str {
    match path {
        "/ping" => "/ping",
        "/invocations" => "/invocations",
        "/execution-parameters" => "/execution-parameters",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

impl Stats {
    fn record(&self, path: &'static str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("stats")
            .entry((path, status))
            .or_insert(0) += 1;
        if path == "/invocations" {
            let slot = LATENCY_BUCKETS
                .iter()
                .position(|&b| seconds <= b)
                .unwrap_or(LATENCY_BUCKETS.len());
            self.buckets[slot].fetch_add(1, Ordering::Relaxed);
            self.latency_sum_ns
                .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
            self.latency_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn prometheus(&self, loaded: bool) -> String {
        let mut out = String::new();
        out += "# HELP purchase_predict_requests_total Requests answered, by path and status.\n";
        out += "# TYPE purchase_predict_requests_total counter\n";
        for ((path, status), n) in self.requests.lock().expect("stats").iter() {
            out += &format!(
                "purchase_predict_requests_total{{path=\"{path}\",status=\"{status}\"}} {n}\n"
            );
        }
        out += "# HELP purchase_predict_invocation_seconds Time to answer /invocations.\n";
        out += "# TYPE purchase_predict_invocation_seconds histogram\n";
        let mut cumulative = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            let le = LATENCY_BUCKETS
                .get(i)
                .map(|x| x.to_string())
                .unwrap_or_else(|| "+Inf".into());
            out += &format!(
                "purchase_predict_invocation_seconds_bucket{{le=\"{le}\"}} {cumulative}\n"
            );
        }
        out += &format!(
            "purchase_predict_invocation_seconds_sum {}\n",
            self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9
        );
        out += &format!(
            "purchase_predict_invocation_seconds_count {}\n",
            self.latency_count.load(Ordering::Relaxed)
        );
        out += "# HELP purchase_predict_rows_scored_total Customers scored by /invocations.\n";
        out += "# TYPE purchase_predict_rows_scored_total counter\n";
        out += &format!(
            "purchase_predict_rows_scored_total {}\n",
            self.rows.load(Ordering::Relaxed)
        );
        out += "# HELP purchase_predict_model_loaded 1 once the model is loaded.\n";
        out += "# TYPE purchase_predict_model_loaded gauge\n";
        out += &format!("purchase_predict_model_loaded {}\n", u8::from(loaded));
        out
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    loader: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind, start serving (`/ping` answers 503), and load the artifact in the background.
    pub async fn start(model: impl AsRef<Path>, config: &ServerConfig) -> Result<Server> {
        config.check()?;
        let model: PathBuf = model.as_ref().to_path_buf();
        let bind = format!("{}:{}", config.host, config.port);
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| Error::io(PathBuf::from(&bind), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(PathBuf::from(&bind), e))?;
        let state = Arc::new(AppState {
            model: OnceLock::new(),
            workers: config.workers,
            stats: Stats::default(),
        });
        let loader_state = state.clone();
        let loader = tokio::task::spawn_blocking(move || {
            let loaded = Loaded::load(&model)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            match &loaded {
                Ok(l) => tracing::info!(
                    model = %model.display(),
                    features = l.artifact.manifest.feature_names.len(),
                    rounds = l.artifact.manifest.rounds,
                    "model loaded"
                ),
                Err(e) => tracing::error!(model = %model.display(), "model failed to load: {e}"),
            }
            let _ = loader_state.model.set(loaded);
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Server {
            addr,
            state,
            shutdown: tx,
            task,
            loader,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait until the model is loaded; the load's error if it failed.
    pub async fn wait_loaded(&self) -> Result<()> {
        loop {
            match self.state.model.get() {
                Some(Ok(_)) => return Ok(()),
                Some(Err(e)) => {
                    return Err(Error::InvalidSetting {
                        name: "--model".into(),
                        reason: e.clone(),
                    })
                }
                None => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    /// Stop accepting connections, finish the requests in flight, and return.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
        let _ = self.loader.await;
    }

    /// Serve until Ctrl-C or SIGTERM, then shut down gracefully.
    pub async fn run_until_signal(self) -> Result<()> {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(|e| Error::io("SIGTERM handler", e))?;
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down: finishing requests in flight");
        self.shutdown().await;
        Ok(())
    }
}

fn router(state: Arc<AppState>) -> Router {
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

async fn ping(State(s): State<Arc<AppState>>) -> Response {
    match s.model.get() {
        Some(Ok(_)) => StatusCode::OK.into_response(),
        Some(Err(e)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("model failed to load: {e}"),
        ),
        None => text(StatusCode::SERVICE_UNAVAILABLE, "loading"),
    }
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

/// A 400 with a message.
struct BadRequest(String);

async fn invocations(State(s): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let loaded = match s.model.get() {
        Some(Ok(l)) => l.clone(),
        Some(Err(e)) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("model failed to load: {e}"),
            )
        }
        None => return text(StatusCode::SERVICE_UNAVAILABLE, "model is loading"),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .unwrap_or_else(|| "text/csv".into());
    let input = match content_type.as_str() {
        "text/csv" => Input::Csv,
        "text/libsvm" | "text/x-libsvm" => Input::Libsvm,
        "application/json" => Input::Json,
        other => {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type {other} is not supported; use text/csv, text/libsvm or application/json"),
            )
        }
    };
    let default = if input == Input::Json {
        Output::Json
    } else {
        Output::Csv
    };
    let Some(output) = parse_accept(&headers, default) else {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must be text/csv, application/json or application/jsonlines",
        );
    };
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let result = if body.len() < INLINE_BODY_BYTES {
        Ok(score(&loaded, input, &body, true))
    } else {
        tokio::task::spawn_blocking(move || score(&loaded, input, &body, false)).await
    };
    match result {
        Ok(Ok((scores, labels))) => {
            s.stats
                .rows
                .fetch_add(scores.len() as u64, Ordering::Relaxed);
            render(&scores, labels.as_deref(), output)
        }
        Ok(Err(BadRequest(msg))) => text(StatusCode::BAD_REQUEST, msg),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("prediction failed: {e}"),
        ),
    }
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
) -> std::result::Result<Scored, BadRequest> {
    let artifact = &loaded.artifact;
    let n = artifact.manifest.feature_names.len();
    let text = std::str::from_utf8(body).map_err(|_| BadRequest("body is not UTF-8".into()))?;
    match input {
        Input::Csv if small => {
            let x = parse_csv_rows(text, n).map_err(BadRequest)?;
            Ok((loaded.predict(&x, true).map_err(BadRequest)?, None))
        }
        Input::Csv => {
            let single = loaded.single_thread.booster();
            let scores = csv_in_parts(text.as_bytes(), n, |x| {
                single
                    .predict_dense(&x, x.len() / n.max(1), n)
                    .map_err(|e| e.to_string())
            })
            .map_err(BadRequest)?;
            Ok((scores, None))
        }
        Input::Libsvm => {
            let x = parse_libsvm(text, n)?;
            Ok((loaded.predict(&x, small).map_err(BadRequest)?, None))
        }
        Input::Json => {
            let x = parse_instances(artifact, text)?;
            let scores = loaded.predict(&x, small).map_err(BadRequest)?;
            let t = artifact.manifest.threshold as f32;
            let labels = scores.iter().map(|&p| u8::from(p >= t)).collect();
            Ok((scores, Some(labels)))
        }
    }
}

/// CSV bodies from this size on are cut into parts handled in parallel (one per core).
const PARALLEL_PARSE_BYTES: usize = 32 * 1024;

/// Parse CSV rows of `n` numbers (empty = missing, blank lines skipped). Errors name the
/// 1-based line and column. Large bodies are parsed in parallel parts.
pub fn parse_csv_rows(text: &str, n: usize) -> std::result::Result<Vec<f32>, String> {
    csv_in_parts(text.as_bytes(), n, Ok)
}

/// Cut `bytes` into up to `parts` pieces of about equal size, each ending after a newline.
fn split_at_lines(bytes: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = bytes;
    for k in (1..parts).rev() {
        // k more cuts after this one: aim at an equal share of what is left.
        let target = rest.len() / (k + 1);
        let Some(p) = rest[target..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let (piece, tail) = rest.split_at(target + p + 1);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// Parse CSV rows in parts (one per core for large bodies, else one), apply `each` to each
/// part's values, and concatenate the results in order. Errors name the line in the whole
/// body.
fn csv_in_parts<F>(bytes: &[u8], n: usize, each: F) -> std::result::Result<Vec<f32>, String>
where
    F: Fn(Vec<f32>) -> std::result::Result<Vec<f32>, String> + Sync,
{
    let run = |piece: &[u8]| match parse_csv_block(piece, n) {
        Ok(x) => each(x).map_err(|e| (None, e)),
        Err(e) => Err((Some(e), String::new())),
    };
    let parts = if bytes.len() < PARALLEL_PARSE_BYTES {
        1
    } else {
        rayon::current_num_threads().clamp(1, bytes.len() / (PARALLEL_PARSE_BYTES / 2))
    };
    if parts == 1 {
        return run(bytes).map_err(|(csv, other)| csv.map_or(other, |e| e.message(0)));
    }
    let pieces = split_at_lines(bytes, parts);
    let results: Vec<_> = {
        use rayon::prelude::*;
        pieces.par_iter().map(|p| run(p)).collect()
    };
    let mut out = Vec::with_capacity(results.iter().flatten().map(Vec::len).sum());
    let mut lines_before = 0;
    for (piece, r) in pieces.iter().zip(results) {
        match r {
            Ok(v) => out.extend_from_slice(&v),
            Err((Some(e), _)) => return Err(e.message(lines_before)),
            Err((None, other)) => return Err(other),
        }
        lines_before += piece.iter().filter(|&&b| b == b'\n').count();
    }
    Ok(out)
}

/// A parse error at a line of a block (1-based within the block).
enum CsvError {
    FieldCount {
        line: usize,
        expected: usize,
        got: usize,
    },
    NotANumber {
        line: usize,
        column: usize,
        text: String,
    },
}

impl CsvError {
    fn message(&self, lines_before: usize) -> String {
        match self {
            CsvError::FieldCount {
                line,
                expected,
                got,
            } => format!(
                "line {}: expected {expected} fields, got {got}",
                line + lines_before
            ),
            CsvError::NotANumber { line, column, text } => format!(
                "line {}, column {column}: `{text}` is not a number",
                line + lines_before
            ),
        }
    }
}

fn is_field_end(bytes: &[u8], pos: usize) -> bool {
    pos == bytes.len() || matches!(bytes[pos], b',' | b'\n' | b'\r')
}

fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// One pass over the bytes: fast_float parses each field in place, no splitting.
fn parse_csv_block(bytes: &[u8], n: usize) -> std::result::Result<Vec<f32>, CsvError> {
    let len = bytes.len();
    let mut values = Vec::with_capacity(len / 4);
    let mut pos = 0;
    let mut line = 0;
    while pos < len {
        line += 1;
        // A blank line (only spaces) is skipped.
        let p = skip_spaces(bytes, pos);
        if p == len || matches!(bytes[p], b'\n' | b'\r') {
            pos = bytes[p..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |q| p + q + 1);
            continue;
        }
        let row_start = values.len();
        let mut column = 0;
        loop {
            column += 1;
            pos = skip_spaces(bytes, pos);
            let field_start = pos;
            if is_field_end(bytes, pos) {
                values.push(f32::NAN);
            } else {
                let parsed = match fast_float2::parse_partial::<f32, _>(&bytes[pos..]) {
                    Ok((v, used)) => {
                        pos = skip_spaces(bytes, pos + used);
                        is_field_end(bytes, pos).then_some(v)
                    }
                    Err(_) => None,
                };
                let Some(v) = parsed else {
                    let end = bytes[field_start..]
                        .iter()
                        .position(|&b| matches!(b, b',' | b'\n' | b'\r'))
                        .map_or(len, |q| field_start + q);
                    return Err(CsvError::NotANumber {
                        line,
                        column,
                        text: String::from_utf8_lossy(&bytes[field_start..end])
                            .trim()
                            .to_string(),
                    });
                };
                values.push(v);
            }
            if pos == len {
                break;
            }
            let sep = bytes[pos];
            pos += 1;
            if sep == b',' {
                continue;
            }
            if sep == b'\r' && pos < len && bytes[pos] == b'\n' {
                pos += 1;
            }
            break;
        }
        let got = values.len() - row_start;
        if got != n {
            return Err(CsvError::FieldCount {
                line,
                expected: n,
                got,
            });
        }
    }
    Ok(values)
}

fn parse_libsvm(text: &str, n: usize) -> std::result::Result<Vec<f32>, BadRequest> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut row = vec![f32::NAN; n];
        for tok in line.split_whitespace() {
            let Some((idx, val)) = tok.split_once(':') else {
                continue; // a leading label
            };
            let bad = || BadRequest(format!("line {}: `{tok}` is not index:value", i + 1));
            let idx: usize = idx.parse().map_err(|_| bad())?;
            let val: f32 = val.parse().map_err(|_| bad())?;
            if idx >= n {
                return Err(BadRequest(format!(
                    "line {}: feature index {idx} is out of range (the model has {n} features, 0-based)",
                    i + 1
                )));
            }
            row[idx] = val;
        }
        values.extend(row);
    }
    Ok(values)
}

fn parse_instances(artifact: &Artifact, text: &str) -> std::result::Result<Vec<f32>, BadRequest> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| BadRequest(format!("invalid JSON: {e}")))?;
    let instances = v
        .get("instances")
        .and_then(Value::as_array)
        .ok_or_else(|| BadRequest("expected {\"instances\": [{...}, ...]}".into()))?;
    let pre = &artifact.preprocessor;
    let wanted = pre.input_columns();
    let mut columns: Vec<Vec<Option<String>>> =
        vec![Vec::with_capacity(instances.len()); wanted.len()];
    for (i, inst) in instances.iter().enumerate() {
        let obj = inst
            .as_object()
            .ok_or_else(|| BadRequest(format!("instance {i} is not an object")))?;
        let unknown: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !wanted.contains(k))
            .collect();
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !unknown.is_empty() || !missing.is_empty() {
            let mut msg = format!("instance {i}:");
            if !unknown.is_empty() {
                msg += &format!(" unknown features: {};", unknown.join(", "));
            }
            if !missing.is_empty() {
                msg += &format!(" missing features: {};", missing.join(", "));
            }
            return Err(BadRequest(msg.trim_end_matches(';').to_string()));
        }
        for (j, name) in wanted.iter().enumerate() {
            columns[j].push(match &obj[*name] {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                other => {
                    return Err(BadRequest(format!(
                        "instance {i}, feature `{name}`: {other} is not a number, text or null"
                    )))
                }
            });
        }
    }
    // As text: the preprocessor parses numeric columns strictly and reads categorical ones as
    // they are, so `3` and `"3"` mean the same.
    let cols: Vec<Column> = wanted
        .iter()
        .zip(columns)
        .map(|(name, vals)| Column::new((*name).into(), vals))
        .collect();
    let df = DataFrame::new(instances.len(), cols).map_err(|e| BadRequest(e.to_string()))?;
    let x = pre.transform(&df).map_err(|e| BadRequest(e.to_string()))?;
    Ok(x.values)
}

/// A [`Server`] on a runtime of its own, for synchronous callers: notebooks, tests, scripts.
/// [`BackgroundServer::start`] returns once the model is loaded; dropping it (or
/// [`BackgroundServer::stop`]) shuts the server down gracefully.
pub struct BackgroundServer {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
}

impl BackgroundServer {
    /// Start serving `model` and wait until it is loaded (a load failure is returned).
    pub fn start(model: impl AsRef<Path>, config: &ServerConfig) -> Result<BackgroundServer> {
        config.check()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers)
            .thread_name("purchase-predict-serve")
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let server = runtime.block_on(Server::start(model, config))?;
        if let Err(e) = runtime.block_on(server.wait_loaded()) {
            runtime.block_on(server.shutdown());
            return Err(e);
        }
        Ok(BackgroundServer {
            runtime,
            server: Some(server),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().expect("running").addr()
    }

    /// `http://host:port` of the server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A [`Predictor`] (CSV in, CSV out) for this server.
    pub fn predictor(&self) -> Result<Predictor> {
        Ok(Predictor::new(HttpEndpoint::new(&self.url())?))
    }

    /// Shut down: stop accepting, finish requests in flight.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn render(scores: &[f32], labels: Option<&[u8]>, output: Output) -> Response {
    let (ctype, body) = match output {
        Output::Csv => {
            let mut s = String::with_capacity(scores.len() * 14);
            let mut buf = ryu::Buffer::new();
            for (i, p) in scores.iter().enumerate() {
                // Shortest text that reads back to the same f32 (like `Display`, faster).
                s += buf.format(*p);
                if let Some(l) = labels {
                    s.push(',');
                    s.push(if l[i] == 1 { '1' } else { '0' });
                }
                s.push('\n');
            }
            ("text/csv", s)
        }
        Output::Json => {
            let preds: Vec<Value> = scores
                .iter()
                .enumerate()
                .map(|(i, p)| record(*p, labels.map(|l| l[i])))
                .collect();
            (
                "application/json",
                serde_json::json!({ "predictions": preds }).to_string(),
            )
        }
        Output::JsonLines => {
            let mut s = String::new();
            for (i, p) in scores.iter().enumerate() {
                s += &record(*p, labels.map(|l| l[i])).to_string();
                s.push('\n');
            }
            ("application/jsonlines", s)
        }
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, ctype)], body).into_response()
}

fn record(p: f32, label: Option<u8>) -> Value {
    // Through f64 of the shortest f32 text, so JSON shows 0.1234567 rather than 0.12345670163.
    let score: f64 = p.to_string().parse().unwrap_or(p as f64);
    match label {
        Some(l) => serde_json::json!({ "score": score, "label": l }),
        None => serde_json::json!({ "score": score }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_parse_in_halves_with_the_same_values_and_line_numbers() {
        let row = "0.5,,1e-3, -2 ,3\r\n";
        let body = row.repeat(20_000);
        assert!(body.len() > PARALLEL_PARSE_BYTES);
        let v = parse_csv_rows(&body, 5).unwrap();
        assert_eq!(v.len(), 100_000);
        assert_eq!(v[95..100][..1], [0.5]);
        assert!(v[96].is_nan());
        assert_eq!(&v[97..100], &[1e-3, -2.0, 3.0]);
        // An error in the second half names its line in the whole body.
        let mut bad = body.clone();
        bad.push_str("1,2,x,4,5\n");
        assert_eq!(
            parse_csv_rows(&bad, 5).unwrap_err(),
            "line 20001, column 3: `x` is not a number"
        );
        assert_eq!(
            parse_csv_rows("1,2\n3,4.5abc\n", 2).unwrap_err(),
            "line 2, column 2: `4.5abc` is not a number"
        );
        assert_eq!(parse_csv_rows("  \n1,2", 2).unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn csv_rows_name_line_and_column() {
        assert_eq!(
            parse_csv_rows("1,2\n\n3,\n", 2).unwrap()[..3],
            [1.0, 2.0, 3.0]
        );
        assert!(parse_csv_rows("1,2\n3,,\n", 2)
            .unwrap_err()
            .contains("line 2: expected 2 fields, got 3"));
        assert!(parse_csv_rows("1,2\n3,x\n", 2)
            .unwrap_err()
            .contains("line 2, column 2: `x`"));
    }
}
