//! purchase-predict: from a customer table to a model that predicts who will buy.
//!
//! The modules follow the pipeline, in order:
//!
//! | stage | module |
//! |---|---|
//! | make the shipped demo table | [`generate`] |
//! | load and validate a table | [`data`] |
//! | stratified train/validation/test split | [`split`] |
//! | impute, scale, one-hot encode; SageMaker CSV | [`prep`] |
//! | train XGBoost (hyperparameters with SageMaker's names) | [`train`] |
//! | search the hyperparameters (SageMaker's tuning vocabulary) | [`tune`] |
//! | confusion matrix, AUCs, threshold sweep | [`metrics`] |
//! | `model.tar.gz` as SageMaker lays it out | [`artifact`] |
//! | all of the above in one call | [`pipeline`] |
//! | a local endpoint with SageMaker's XGBoost contract | [`serve`] |
//! | send customers to an endpoint, get probabilities | [`predictor`] |
//! | score a whole file in bounded memory (batch transform) | [`batch`] |
//! | where data lives: a folder or S3 | [`storage`] |
//! | where work runs: local or SageMaker | [`session`] |
//! | training and tuning jobs on either backend | [`estimator`] |
//! | deploy, invoke, batch transform, clean up | [`endpoint`] |
//! | the raw SageMaker calls and waiters (feature `sagemaker`) | [`sagemaker`] |
//! | the notebooks' settings and hand-overs | [`walkthrough`] |
//!
//! with [`xgboost`] (the libxgboost binding), [`forest`] (its trees evaluated in Rust), [`files`] (atomic writes, checksums),
//! [`progress`] (progress reporting) and [`error`] beside them.

pub mod artifact;
pub mod batch;
pub mod cli;
pub mod data;
pub mod display;
pub mod endpoint;
pub mod error;
pub mod estimator;
pub mod files;
pub mod forest;
pub mod generate;
pub mod metrics;
pub mod pipeline;
pub mod plot;
pub mod predictor;
pub mod prep;
pub mod progress;
pub mod random;
pub mod report;
pub mod sagemaker;
pub mod serve;
pub mod session;
pub mod split;
pub mod storage;
pub mod train;
pub mod tune;
pub mod walkthrough;
pub mod xgboost;

pub use error::{Error, Result};
pub use polars;
