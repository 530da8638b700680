//! Use a model — a local real-time endpoint with the contract of SageMaker's XGBoost
//! container ([`Server`]: configuration and lifecycle; its routes, the model it holds and its
//! Prometheus counters in private modules beside it), the client that sends customers to any endpoint
//! ([`predictor`], over [`http`] or SageMaker's InvokeEndpoint), and streaming batch scoring of whole files ([`batch`]).

pub mod batch;
mod capture;
mod config;
mod error;
mod handlers;
pub mod http;
mod model;
pub mod predictor;
mod server;
mod stats;

pub use capture::{CaptureConfig, CaptureCounts, CaptureDestination, CaptureSink};
pub use config::{ServerConfig, MAX_WORKERS};
pub use http::HttpEndpoint;
pub use predictor::Predictor;
pub use server::{BackgroundServer, Server, Signals};
