//! purchase-predict for the notebooks: the whole crate, re-exported from one Rust `dylib`.
pub use purchase_predict::*;
