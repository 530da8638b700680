//! Stage 3: the model — XGBoost's hyperparameters ([`hyperparameters`]) and training ([`train`]), the tuner
//! ([`tune`]), the libxgboost 1.7 binding ([`xgboost`]), its trees evaluated in Rust for small
//! requests ([`forest`]), and `model.tar.gz` with its manifest ([`artifact`]).
//!
//! A new model type goes here: a module that trains from a [`crate::data::FeatureMatrix`] and
//! yields something the [`artifact`] can store and the server can score.

pub mod artifact;
pub mod baseline;
pub mod explain;
pub mod forest;
pub mod hyperparameters;
pub mod train;
pub mod tune;
pub mod xgboost;

pub use hyperparameters::{Hyperparameters, Objective, TreeMethod};
pub use train::Model;
