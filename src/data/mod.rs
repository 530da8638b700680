//! Stage 1: customer tables — load and validate ([`load`]), the shipped demo table
//! ([`generate`]), the stratified split ([`split`]), and the [`FeatureMatrix`] that every
//! later stage takes.

pub mod generate;
mod load;
mod matrix;
pub mod split;

pub use load::*;
pub use matrix::FeatureMatrix;
