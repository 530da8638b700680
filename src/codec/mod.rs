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
//! - [`recordio`]: `application/x-recordio-protobuf` bodies (SageMaker's binary records,
//!   dense or sparse).
//!
//! A new wire format is a module here, then a content type in the server's handlers and a
//! serializer in the client.

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

pub use error::{DecodeError, DecodeKind};

mod error {
    /// Why a body could not be read, and where: the 1-based line and column of a text
    /// format when they are known. Converts into the crate's [`Error`](crate::Error) and
    /// into the endpoint's 400 answer, so that readers and handlers use `?`.
    ///
    /// ```
    /// use purchase_predict::codec::{csv, DecodeKind};
    /// let e = csv::parse_csv_rows("1,2\n3,x\n", 2).unwrap_err();
    /// assert_eq!((e.line, e.column), (Some(2), Some(2)));
    /// assert!(matches!(e.kind, DecodeKind::NotANumber { .. }));
    /// assert_eq!(e.to_string(), "line 2, column 2: `x` is not a number");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DecodeError {
        /// 1-based line of a text body.
        pub line: Option<usize>,
        /// 1-based field of that line.
        pub column: Option<usize>,
        /// What is wrong.
        pub kind: DecodeKind,
    }

    /// What is wrong with a body.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum DecodeKind {
        /// A row holds another number of fields than the model has features.
        FieldCount { expected: usize, got: usize },
        /// A field that should be a number is not (or is not finite).
        NotANumber { text: String },
        /// A libsvm feature index past the model's features (0-based).
        IndexOutOfRange { index: usize, features: usize },
        /// The body is not JSON; serde's message names the line and column.
        InvalidJson { message: String },
        /// The body does not have the format's shape (a missing key, an unknown feature,
        /// RecordIO framing): the message says where (instance, record or byte).
        Malformed(String),
    }

    impl DecodeError {
        /// An error of `kind` at no particular place.
        pub fn new(kind: DecodeKind) -> Self {
            DecodeError {
                line: None,
                column: None,
                kind,
            }
        }

        /// The same error at `line` (and `column`, when known).
        pub fn at(mut self, line: usize, column: Option<usize>) -> Self {
            self.line = Some(line);
            self.column = column;
            self
        }

        /// A body that is not JSON.
        pub fn json(e: &serde_json::Error) -> Self {
            DecodeError {
                line: Some(e.line()),
                column: Some(e.column()),
                kind: DecodeKind::InvalidJson {
                    message: e.to_string(),
                },
            }
        }
    }

    impl From<String> for DecodeError {
        fn from(message: String) -> Self {
            DecodeError::new(DecodeKind::Malformed(message))
        }
    }

    impl From<&str> for DecodeError {
        fn from(message: &str) -> Self {
            DecodeError::from(message.to_string())
        }
    }

    impl std::fmt::Display for DecodeKind {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                DecodeKind::FieldCount { expected, got } => {
                    write!(f, "expected {expected} fields, got {got}")
                }
                DecodeKind::NotANumber { text } => write!(f, "`{text}` is not a number"),
                DecodeKind::IndexOutOfRange { index, features } => write!(
                    f,
                    "feature index {index} is out of range (the model has {features} features, 0-based)"
                ),
                DecodeKind::InvalidJson { message } => write!(f, "invalid JSON: {message}"),
                DecodeKind::Malformed(message) => f.write_str(message),
            }
        }
    }

    impl std::fmt::Display for DecodeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match (&self.kind, self.line, self.column) {
                // serde's message already ends "at line L column C".
                (DecodeKind::InvalidJson { .. }, _, _) | (_, None, _) => self.kind.fmt(f),
                (_, Some(line), None) => write!(f, "line {line}: {}", self.kind),
                (_, Some(line), Some(column)) => {
                    write!(f, "line {line}, column {column}: {}", self.kind)
                }
            }
        }
    }

    impl std::error::Error for DecodeError {}
}
