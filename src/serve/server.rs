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
//!     6 MB ([`crate::codec::MAX_PAYLOAD_BYTES`]) 413, malformed rows or records 400 with the line and
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

use super::handlers::{router, AppState};
use super::model::Loaded;
use super::stats::Stats;
use crate::error::{ensure, Check, Error, IntoValid, Result};
use crate::serve::http::HttpEndpoint;
use crate::serve::predictor::Predictor;
use crate::util::runtime;

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
}

impl Check for ServerConfig {
    /// Validate the settings (at least one worker).
    fn check_ref(&self) -> Result<()> {
        ensure!(self.workers != 0, setting "workers", "must be ≥ 1");
        Ok(())
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    model: PathBuf,
    state: Arc<AppState>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
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

    /// Shut down: stop accepting, finish requests in flight.
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
