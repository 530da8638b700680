//! purchase-predict: from a customer table to a model that predicts who will buy.
//!
//! The folders are the pipeline, in order, each depending only on those above it:
//!
//! | stage | folder | what is there |
//! |---|---|---|
//! | data | [`data`] | load and validate a table, the demo generator, the stratified split, the [`data::FeatureMatrix`] |
//! | preprocess | [`prep`] | impute, scale, one-hot encode ([`prep::Preprocessor`]) |
//! | model | [`model`] | hyperparameters, training, tuning, the libxgboost binding, the trees in Rust, `model.tar.gz` |
//! | evaluate | [`evaluate`] | metrics files, charts, `report.html`, notebook display |
//! | serve | [`serve`] | the local endpoint (SageMaker's container contract), its client [`serve::Predictor`], batch scoring |
//! | cloud | [`cloud`] | where work runs and data lives: session, storage, the backend seam, SageMaker |
//! | monitor | [`monitor`] | after deployment: baselines, drift and quality in SageMaker Model Monitor's formats |
//! | app | [`app`] | the whole pipeline in one call, the command line, the notebooks' settings |
//!
//! over shared ground that every stage may use: [`error`] (one error type), [`metrics`]
//! (confusion matrix, AUCs, curves), [`codec`] (the wire formats: SageMaker CSV, libsvm, JSON,
//! the payload limit) and [`util`] (atomic files, progress, the seeded RNG, the one runtime).
//! [`prelude`] holds what a notebook or a program needs in one import. `ARCHITECTURE.md` says
//! where a new model type, backend or wire format goes.

pub mod app;
pub mod cloud;
pub mod codec;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod prelude;
pub mod prep;
pub mod serve;
pub mod util;

pub use error::{Error, Result};
pub use polars;

/// The README's and the user's guide's Rust examples, compiled by `cargo test --doc` so
/// that they keep up with the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../docs/guide.md")]
pub struct DocumentationExamples;
