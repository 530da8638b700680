//! Customer tables: read a file ([`read_table`]), load and validate it ([`load`]), explore it
//! ([`describe`], [`value_counts`], [`signal`]), the shipped demo table ([`generate`]), the
//! stratified split ([`split`]), and the [`FeatureMatrix`] that every later stage takes.

pub mod batches;
mod explore;
pub mod generate;
mod load;
mod matrix;
mod read;
pub mod shard;
pub mod spill;
pub mod split;

pub use explore::{
    describe, quantile, readable_number, sentinel, signal, value_counts, Shape, Signal,
};
pub use load::{
    categorical_columns, load, numeric_columns, numeric_values, pearson, Dataset, LoadOptions,
};
pub use matrix::FeatureMatrix;
pub use read::read_table;

// For the stages after this one: how a file is read and checked, and how a target maps to
// 0/1, which no user calls on their own.
pub(crate) use load::check_columns;
pub(crate) use read::{
    check_flat_columns, check_text_encoding, detect_delimiter, is_parquet, split_header,
};
