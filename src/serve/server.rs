//! A local real-time endpoint with the contract of SageMaker's XGBoost container.
//!
//! - `GET /ping`: 200 once the model is loaded, 503 while it loads.
//! - `POST /invocations`:
//!   - `text/csv`: one customer per line, already-preprocessed features in the model's order,
//!     no label, no header, empty field = missing (what the SageMaker container takes);
//!     `text/libsvm`: `[label] index:value ...` with 0-based feature indices;
//!     `application/x-recordio-protobuf`: SageMaker's binary records, dense or sparse
//!     ([`crate::codec::recordio`]);
//!   - `application/json`: raw customer records, `{"instances": [{"age": 41, ...}, ...]}`,
//!     which go through the stored preprocessor first; the answer adds the 0/1 `label` at the
//!     stored threshold;
//!   - `Accept`: `text/csv` (default for CSV/libsvm/RecordIO: one probability per line),
//!     `application/json` (`{"predictions": [{"score": p}, ...]}`, default for JSON) or
//!     `application/jsonlines` (one `{"score": p}` per line);
//!   - errors: unsupported content type 415, unsupported Accept 406, empty body 204, body over
//!     6 MB ([`crate::codec::MAX_PAYLOAD_BYTES`]) or more rows than
//!     [`ServerConfig::max_rows`] 413, a body that does not arrive within
//!     [`ServerConfig::read_timeout`] 408, no slot for a large request within
//!     [`ServerConfig::busy_timeout`] 503, malformed rows or records 400 with the line and
//!     column or the offending names. The server keeps serving after any of them.
//! - Hostile clients are bounded: HTTP/1.1 only, a header read timeout, an announced
//!   oversized body refused before `100 Continue`, a memory ceiling (see [`ServerConfig`]),
//!   and a drain deadline on shutdown ([`ServerConfig::drain_timeout`]).
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
//! # fn demo(x: &purchase_predict::data::FeatureMatrix) -> purchase_predict::Result<()> {
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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::config::ServerConfig;
use super::handlers::{router, AppState};
use super::model::Loaded;
use super::stats::Stats;
use crate::error::{Error, IntoValid, Result};
use crate::serve::http::HttpEndpoint;
use crate::serve::predictor::Predictor;
use crate::util::runtime;

/// A running server.
pub struct Server {
    addr: SocketAddr,
    model: PathBuf,
    state: Arc<AppState>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    loader: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind, start serving (`/ping` answers 503), and load the artifact in the background.
    pub async fn start(
        model: impl AsRef<Path>,
        config: impl IntoValid<ServerConfig>,
    ) -> Result<Server> {
        let config = config.into_valid()?;
        let model: PathBuf = model.as_ref().to_path_buf();
        let model_path = model.clone();
        let bind = format!("{}:{}", config.host, config.port);
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| Error::io(PathBuf::from(&bind), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(PathBuf::from(&bind), e))?;
        // Capture's destination is checked before the port is taken: bad settings refuse
        // to start.
        let capture = config
            .capture
            .as_ref()
            .map(super::capture::Capturer::start)
            .transpose()?;
        let state = Arc::new(AppState {
            model: OnceLock::new(),
            config: (*config).clone(),
            slots: tokio::sync::Semaphore::new(config.max_concurrent),
            body_bytes: tokio::sync::Semaphore::new(config.body_budget()),
            stats: Stats::default(),
            capture,
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
        let task = tokio::spawn(serve(listener, app, state.config.clone(), rx));
        Ok(Server {
            addr,
            model: model_path,
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
                    return Err(Error::ModelLoad {
                        path: self.model.clone(),
                        reason: e.clone(),
                    })
                }
                None => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    /// Stop accepting connections, finish the requests in flight, and return. A model still
    /// loading gets at most [`ServerConfig::drain_timeout`] more (a model file that never
    /// ends must not hold the shutdown).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
        let _ = tokio::time::timeout(self.state.config.drain_timeout, self.loader).await;
        // Every answered request is in the queue now: publish it.
        let state = self.state.clone();
        let limit = state.config.drain_timeout;
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(capture) = &state.capture {
                capture.close(limit);
            }
        })
        .await;
    }

    /// What data capture has done so far (`None` without capture).
    pub fn capture_counts(&self) -> Option<crate::serve::CaptureCounts> {
        self.state.capture.as_ref().map(|c| c.counts())
    }

    /// Where captures go and the last error publishing them, if capture is on.
    pub fn capture_status(&self) -> Option<(String, Option<String>)> {
        self.state
            .capture
            .as_ref()
            .map(|c| (c.destination().to_string(), c.last_error()))
    }

    /// Serve until Ctrl-C or SIGTERM (caught by `signals`, installed before the server
    /// started), then shut down gracefully: requests in flight get up to
    /// [`ServerConfig::drain_timeout`].
    pub async fn run_until_signal(self, signals: &mut Signals) -> Result<()> {
        signals.recv().await;
        tracing::info!("shutting down: finishing requests in flight");
        self.shutdown().await;
        Ok(())
    }
}

/// Ctrl-C and SIGTERM, caught from the moment [`Signals::install`] returns. Install them
/// before [`Server::start`], so that a signal that arrives once the listener accepts always
/// drains the server instead of killing the process.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers (inside a Tokio runtime).
    pub fn install() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())
                    .map_err(|e| Error::io("SIGINT handler", e))?,
                terminate: signal(SignalKind::terminate())
                    .map_err(|e| Error::io("SIGTERM handler", e))?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Wait for the next Ctrl-C or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One open connection, as the accept loop sees it: whether a request is in progress on it,
/// since when it has been idle, and how to close it.
struct Conn {
    busy: std::sync::atomic::AtomicUsize,
    idle_since: std::sync::Mutex<std::time::Instant>,
    close: tokio::sync::Notify,
}

/// Marks a connection busy while a request is handled, idle again once it is answered.
struct BusyGuard(Arc<Conn>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = std::time::Instant::now();
        self.0
            .busy
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The router as one connection's service, marking the connection busy during each request.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    conn: Arc<Conn>,
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<S::Response, S::Error>> + Send>,
    >;

    fn call(&self, request: R) -> Self::Future {
        self.conn
            .busy
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let guard = BusyGuard(self.conn.clone());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(guard);
            response
        })
    }
}

/// How long a connection must have been idle (no request in progress) before a new
/// connection past the cap may close it: a response that was just handed over is written
/// in far less.
const EVICTABLE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

type Registry = Arc<std::sync::Mutex<std::collections::HashMap<u64, Arc<Conn>>>>;

/// Close the connection that has been idle longest, if one has been idle for
/// [`EVICTABLE_AFTER`]: a client that opened a connection and sent no complete request
/// (or a keep-alive connection left open) gives way to one that is waiting.
fn evict_idlest(registry: &Registry) -> bool {
    let mut conns = registry.lock().unwrap_or_else(|e| e.into_inner());
    let now = std::time::Instant::now();
    let idlest = conns
        .iter()
        .filter(|(_, c)| c.busy.load(std::sync::atomic::Ordering::SeqCst) == 0)
        .map(|(id, c)| (*id, *c.idle_since.lock().unwrap_or_else(|e| e.into_inner())))
        .filter(|(_, since)| now.duration_since(*since) >= EVICTABLE_AFTER)
        .min_by_key(|(_, since)| *since);
    match idlest.and_then(|(id, _)| conns.remove(&id)) {
        Some(conn) => {
            conn.close.notify_one();
            true
        }
        None => false,
    }
}

/// Accept HTTP/1.1 connections until `stop` fires, at most `max_connections` at once, each
/// with a header read timeout and a 64 KB read buffer; then stop accepting, let the requests
/// in flight finish for up to `drain_timeout`, and return.
///
/// A connection past the cap closes the connection that has been idle longest (no request
/// in progress for half a second: a half-sent header, an idle keep-alive), so that clients
/// holding connections open cannot keep others, `/ping` included, waiting; only when every
/// connection is in a request does it wait for one to finish.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: ServerConfig,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.read_timeout)
        .max_buf_size(64 * 1024);
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let registry: Registry = Default::default();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut next_id = 0u64;
    'accept: loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let permit = loop {
            if let Ok(p) = open.clone().try_acquire_owned() {
                break p;
            }
            evict_idlest(&registry);
            tokio::select! {
                permit = open.clone().acquire_owned() => break permit.expect("never closed"),
                // Connections become evictable as they age: look again.
                _ = tokio::time::sleep(EVICTABLE_AFTER / 4) => {}
                _ = &mut stop => break 'accept,
            }
        };
        next_id += 1;
        let id = next_id;
        let conn = Arc::new(Conn {
            busy: Default::default(),
            idle_since: std::sync::Mutex::new(std::time::Instant::now()),
            close: tokio::sync::Notify::new(),
        });
        registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, conn.clone());
        // Socket options as axum's `serve` left them (no TCP_NODELAY): hyper writes each
        // response in one call.
        let connection = http.serve_connection(
            TokioIo::new(stream),
            Tracked {
                inner: TowerToHyperService::new(app.clone()),
                conn: conn.clone(),
            },
        );
        let connection = graceful.watch(connection);
        let registry = registry.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                // Evicted: dropping the connection closes it.
                _ = conn.close.notified() => {}
            }
            registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            drop(permit);
        });
    }
    drop(listener);
    let drain = config.drain_timeout;
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {:.0} s; stopping anyway",
            drain.as_secs_f64()
        );
    }
}

/// A [`Server`] on the process runtime ([`crate::util::runtime`]), for synchronous callers:
/// notebooks, tests, scripts. [`BackgroundServer::start`] returns once the model is loaded;
/// dropping it (or [`BackgroundServer::stop`]) shuts the server down gracefully.
pub struct BackgroundServer {
    server: Option<Server>,
}

impl BackgroundServer {
    /// Start serving `model` and wait until it is loaded (a load failure is returned).
    pub fn start(
        model: impl AsRef<Path>,
        config: impl IntoValid<ServerConfig>,
    ) -> Result<BackgroundServer> {
        let config = config.into_valid()?;
        let server = runtime::block_on(Server::start(model, config))?;
        if let Err(e) = runtime::block_on(server.wait_loaded()) {
            runtime::block_on(server.shutdown());
            return Err(e);
        }
        Ok(BackgroundServer {
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

    /// What data capture has done so far (`None` without capture).
    pub fn capture_counts(&self) -> Option<crate::serve::CaptureCounts> {
        self.server.as_ref().and_then(|s| s.capture_counts())
    }

    /// Shut down: stop accepting, finish requests in flight, publish the captures.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(server) = self.server.take() {
            runtime::block_on_anywhere(server.shutdown());
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}
