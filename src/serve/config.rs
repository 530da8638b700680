//! How a local endpoint listens and the bounds it keeps: [`ServerConfig`], checked once
//! before the server starts.

use crate::error::{ensure, Check, Result};

/// Where and how to listen, and the bounds that keep hostile or careless clients from
/// exhausting the server.
///
/// Memory: at most [`max_concurrent`](Self::max_concurrent) large requests are scored at
/// once (bodies under 16 KB, which cost at most a few MB, do not wait for a slot), each body
/// is at most 6 MB ([`crate::codec::MAX_PAYLOAD_BYTES`]) and at most
/// [`max_rows`](Self::max_rows) rows. Bodies are read before a scoring slot is taken, so a
/// client that trickles its upload holds no slot, within a budget of body bytes in flight
/// ([`body_budget`](Self::body_budget): `4 × max_concurrent × 6 MB`; a body takes its
/// announced length from it before it is read, an unannounced one chunk by chunk). A worst-case request
/// (a 6 MB JSON body, or 100,000 rows explained) costs about 110 MB while it is scored, so
/// the endpoint stays under the model's size plus about `max_concurrent × 120 MB` plus the
/// bodies waiting for a slot (at most the budget) plus 50 MB, plus at most 64 KB of read
/// buffer for each of at most [`max_connections`](Self::max_connections) connections: 407 MB
/// with the defaults on 2 cores.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to bind (default 127.0.0.1).
    pub host: String,
    /// Port (default 8080; 0 picks a free one).
    pub port: u16,
    /// Worker threads of the runtime (default: all cores; at most [`MAX_WORKERS`]).
    pub workers: usize,
    /// Rows one request may hold (default 100,000); past it, 413.
    pub max_rows: usize,
    /// Large requests read and scored at once (default: `workers`). Others wait for a slot
    /// up to [`busy_timeout`](Self::busy_timeout), then get 503.
    pub max_concurrent: usize,
    /// How long a request waits for a slot before 503 (default 30 s).
    pub busy_timeout: std::time::Duration,
    /// Connections open at once (default 1024). One more closes the connection idle longest
    /// (a half-sent header, an idle keep-alive); it waits only while every one is in a
    /// request.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and then its body
    /// (default 30 s each); past it the connection is closed (headers) or answered 408 (body).
    pub read_timeout: std::time::Duration,
    /// After a shutdown is asked for, how long requests in flight may take before the
    /// server stops anyway (default 20 s, under the 30 s that SageMaker and Kubernetes wait
    /// before SIGKILL).
    pub drain_timeout: std::time::Duration,
    /// Data capture of `/invocations` (default: off). With it, each answered request is
    /// also written, off the request path, as a SageMaker data-capture record.
    pub capture: Option<super::CaptureConfig>,
}

/// The most worker threads a server takes (`--workers`).
pub const MAX_WORKERS: usize = 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8080,
            workers,
            max_rows: crate::codec::MAX_ROWS_PER_REQUEST,
            max_concurrent: workers,
            busy_timeout: std::time::Duration::from_secs(30),
            max_connections: 1024,
            read_timeout: std::time::Duration::from_secs(30),
            drain_timeout: std::time::Duration::from_secs(20),
            capture: None,
        }
    }
}

impl ServerConfig {
    /// The most bytes of large request bodies (16 KB and over) read and held at once:
    /// `4 × max_concurrent × 6 MB`. A body that would pass it waits up to
    /// [`busy_timeout`](Self::busy_timeout), then gets 503.
    pub fn body_budget(&self) -> usize {
        4 * self.max_concurrent.max(1) * crate::codec::MAX_PAYLOAD_BYTES
    }

    /// The same settings on another port (0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The same settings, capturing the traffic as `capture` says.
    pub fn capture(mut self, capture: super::CaptureConfig) -> Self {
        self.capture = Some(capture);
        self
    }
}

impl Check for ServerConfig {
    /// Validate the settings (workers in 1..=[`MAX_WORKERS`], the bounds non-zero).
    fn check_ref(&self) -> Result<()> {
        ensure!(
            (1..=MAX_WORKERS).contains(&self.workers),
            setting "workers",
            "{} is outside 1..={MAX_WORKERS}", self.workers
        );
        ensure!(self.max_rows != 0, setting "max_rows", "must be ≥ 1");
        ensure!(self.max_concurrent != 0, setting "max_concurrent", "must be ≥ 1");
        ensure!(self.max_connections != 0, setting "max_connections", "must be ≥ 1");
        for (name, d) in [
            ("busy_timeout", self.busy_timeout),
            ("read_timeout", self.read_timeout),
            ("drain_timeout", self.drain_timeout),
        ] {
            ensure!(!d.is_zero(), setting name, "must be longer than 0 s");
        }
        if let Some(capture) = &self.capture {
            capture.check_ref()?;
        }
        Ok(())
    }
}
