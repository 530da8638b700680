//! Stage 1: customer tables — load and validate ([`load`]), explore ([`describe`],
//! [`value_counts`], [`signal`]), the shipped demo table
//! ([`generate`]), the stratified split ([`split`]), and the [`FeatureMatrix`] that every
//! later stage takes.

mod explore;
pub mod generate;
mod load;
mod matrix;
pub mod split;

pub use explore::*;
pub use load::*;
pub use matrix::FeatureMatrix;
