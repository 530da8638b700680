//! The model — XGBoost's hyperparameters ([`Hyperparameters`]) and training ([`train`]), the tuner
//! ([`tune`]), the libxgboost 1.7 binding ([`xgboost`]), its trees evaluated in Rust for small
//! requests ([`forest`]), and `model.tar.gz` with its manifest ([`artifact`]).
//!
//! A new model type goes here: a module that trains from a [`crate::data::FeatureMatrix`] and
//! yields something the [`artifact`] can store and the server can score.

pub mod artifact;
pub mod baseline;
pub mod explain;
pub mod forest;
mod hyperparameters;
pub mod train;
pub mod tune;
pub mod xgboost;

pub use hyperparameters::{
    Hyperparameters, Objective, Param, TreeMethod, EVAL_METRICS, MAX_SEED_EXCLUSIVE, PARAMS,
    THRESHOLD_METRICS,
};
pub use train::Model;
