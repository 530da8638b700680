//! The wire formats, owned by no stage and used by all that speak them: the server and the
//! client ([`crate::serve`]), the matrix reader and writer ([`crate::data::FeatureMatrix`]),
//! the table loader and the preprocessor.
//!
//! - [`number`]: the one text form of a number, both ways (shortest `f32` text that reads back
//!   to the same value; strict, finite parsing with empty = missing);
//! - [`csv`]: SageMaker's headerless numeric CSV (rows of features, one score per line),
//!   parsed in parallel parts with errors that name the line and column;
//! - [`libsvm`]: `[label] index:value ...` rows;
//! - [`json`]: `{"instances": [...]}` requests and `{"predictions": [...]}` answers;
//! - [`capture`]: SageMaker's data-capture records (one JSON line per captured request);
//! - [`recordio`]: `application/x-recordio-protobuf` bodies (SageMaker's binary records,
//!   dense or sparse).
//!
//! A new wire format is a module here, then a content type in the server's handlers and a
//! serializer in the client.

pub mod capture;
pub mod csv;
pub mod json;
pub mod libsvm;
pub mod number;
pub mod recordio;

/// SageMaker's payload limit for real-time endpoints: 6 MB.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// The most rows one request may hold by default (the local endpoint answers 413 past its
/// `max_rows`; the [`crate::serve::Predictor`] cuts its requests at this many).
pub const MAX_ROWS_PER_REQUEST: usize = 100_000;

pub use crate::error::{DecodeError, DecodeKind};
