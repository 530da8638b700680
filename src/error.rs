//! The crate's one error type and its `Result` alias.
//!
//! Every variant names what a user needs to fix the problem: the file, the column, the row,
//! the hyperparameter or the archive member.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a customer table and a trained model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input file does not exist.
    #[error("file not found: {}", path.display())]
    FileNotFound { path: PathBuf },

    /// The input file has no data rows (zero bytes, or a header only).
    #[error("empty file: {} ({detail})", path.display())]
    EmptyFile { path: PathBuf, detail: String },

    /// The header names a column more than once.
    #[error("duplicate column names in {}: {}", path.display(), columns.join(", "))]
    DuplicateColumns { path: PathBuf, columns: Vec<String> },

    /// The target column is not in the table.
    #[error("target column `{target}` not found in {}; columns are: {}", path.display(), available.join(", "))]
    TargetNotFound {
        path: PathBuf,
        target: String,
        available: Vec<String>,
    },

    /// A column named in an option (`drop`, `id`, `numeric`, ...) is not in the table. The
    /// command line names the option by its flag (`--drop`).
    #[error("column `{column}` given to `{option}` not found; columns are: {}", available.join(", "))]
    UnknownColumn {
        option: String,
        column: String,
        available: Vec<String>,
    },

    /// The target column holds something other than yes/no, true/false or 1/0.
    #[error("target column `{target}` has values that are not yes/no, true/false or 1/0: {} (first at row {first_row})", values.join(", "))]
    BadTargetValues {
        target: String,
        values: Vec<String>,
        /// 1-based data row (the header is not counted).
        first_row: usize,
    },

    /// The target cannot be read with the positive label given: the label is absent, or the
    /// column holds a missing value or more than two values.
    #[error("target column `{target}` with positive label {positive:?}: a target needs exactly two values, one of them {positive:?}, and no missing value; found {}{}", values.join(", "), if *first_row > 0 { format!(" (the first extra or missing value at row {first_row})") } else { String::new() })]
    BadPositiveLabel {
        target: String,
        positive: String,
        values: Vec<String>,
        /// 1-based data row of the first value that breaks the rule (0: the label is absent).
        first_row: usize,
    },

    /// The target has only one class, so there is nothing to learn.
    #[error("target column `{target}` has a single class ({class}) in all {rows} rows; a classifier needs both 0 and 1")]
    SingleClass {
        target: String,
        class: u8,
        rows: usize,
    },

    /// A value in a numeric column could not be parsed as a number.
    #[error("column `{column}` is numeric but row {row} holds `{value}`{hint}")]
    UnparseableNumeric {
        column: String,
        /// 1-based data row (the header is not counted).
        row: usize,
        value: String,
        hint: String,
    },

    /// A batch of a table read in batches (`run --streaming`) failed: which rows of which
    /// file, and why (a row number inside `source` counts from the file's first data row).
    #[error("{}, rows {first_row}-{last_row}: {source}", path.display())]
    InBatch {
        path: PathBuf,
        /// 1-based data rows of the batch (the header is not counted).
        first_row: usize,
        last_row: usize,
        source: Box<Error>,
    },

    /// A column the fitted preprocessor needs is absent from the frame being transformed.
    #[error("missing feature columns: {}", columns.join(", "))]
    MissingColumns { columns: Vec<String> },

    /// A file to score lacks columns the model's preprocessor needs.
    #[error("{} lacks columns the model needs: {}", path.display(), columns.join(", "))]
    MissingInputColumns { path: PathBuf, columns: Vec<String> },

    /// The data has too few rows of a class to make the requested split.
    #[error("cannot split: {0}")]
    Split(String),

    /// A hyperparameter is unknown or outside its valid range.
    #[error("invalid hyperparameter `{name}` = `{value}`: {reason}")]
    InvalidHyperparameter {
        name: String,
        value: String,
        reason: String,
    },

    /// A setting other than a hyperparameter is invalid.
    #[error("invalid setting `{name}`: {reason}")]
    InvalidSetting { name: String, reason: String },

    /// What SageMaker gave a training container (a file under `/opt/ml/input`, or a channel's
    /// folder) cannot be trained on.
    #[error("{}: {reason}", path.display())]
    JobInput { path: PathBuf, reason: String },

    /// A metric is undefined for this input (for example ROC AUC with one class).
    #[error("{metric} is undefined: {reason}")]
    UndefinedMetric { metric: String, reason: String },

    /// Shapes that must agree do not.
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// A model or input uses something this code path does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// Drawing a chart failed.
    #[error("chart: {0}")]
    Plot(String),

    /// libxgboost reported an error.
    #[error("xgboost: {0}")]
    XGBoost(String),

    /// The hosts of a training job on several instances could not train together: one did not
    /// join, died, or could not reach the first host (its name and the reason in the text).
    #[error("training on several hosts: {0}")]
    Collective(String),

    /// The logistic-regression baseline (linfa) could not be fitted.
    #[error("logistic-regression baseline: {0}")]
    Baseline(String),

    /// A line of a capture file is not a data-capture record the monitor can read.
    #[error("{}, line {line}: {reason}", path.display())]
    CaptureRecord {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    /// A row of a ground-truth file cannot be read.
    #[error("{}, row {row}, column `{column}`: {reason}", path.display())]
    GroundTruth {
        path: PathBuf,
        row: usize,
        column: String,
        reason: String,
    },

    /// A monitoring baseline does not fit what it is used with (another model, columns the
    /// data lacks).
    #[error("baseline {}: {reason}", path.display())]
    MonitorBaseline { path: PathBuf, reason: String },

    /// A model archive is unreadable, truncated, or a member fails its checksum.
    #[error("corrupt model artifact {}: {reason}", path.display())]
    CorruptArtifact { path: PathBuf, reason: String },

    /// A model archive could not be loaded (by the server, which keeps answering 500 and
    /// saying why).
    #[error("model {} failed to load: {reason}", path.display())]
    ModelLoad { path: PathBuf, reason: String },

    /// An output path the command will not write: it names a file the command reads, a
    /// folder, a device, FIFO or socket, or the root folder. Nothing was written.
    #[error("refusing to write {}: {reason}", path.display())]
    UnsafeOutput { path: PathBuf, reason: String },

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// polars failed while reading or shaping data.
    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },

    /// An endpoint could not be reached, or answered with an error status or an unexpected
    /// body. `status` is the HTTP status when there was one.
    #[error("endpoint {endpoint}: {}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
    Endpoint {
        endpoint: String,
        status: Option<u16>,
        message: String,
    },

    /// Reading or writing a local file or S3 object failed.
    #[error("{location}: {message}")]
    Storage { location: String, message: String },

    /// An AWS call failed; `message` carries the service's error code and text.
    #[error("AWS {operation}: {message}")]
    Aws { operation: String, message: String },

    /// A SageMaker job or endpoint ended in `status` (Failed, Stopped, ...) instead of
    /// completing; `reason` is SageMaker's FailureReason.
    #[error("{kind} `{name}` ended {status}: {reason}")]
    JobFailed {
        kind: String,
        name: String,
        status: String,
        reason: String,
    },

    /// Waiting for a job or endpoint took longer than allowed. It may still be running.
    #[error("gave up waiting for {what} after {seconds:.0} s (last status: {last_status}); it may still be running")]
    Timeout {
        what: String,
        seconds: f64,
        last_status: String,
    },

    /// A body in a wire format (SageMaker CSV, libsvm, JSON, RecordIO) could not be read:
    /// where (line, column) and why.
    #[error("{0}")]
    Decode(#[from] DecodeError),

    /// JSON (de)serialisation failed.
    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// Wrap an I/O error with the path it concerns; a file that does not exist becomes
    /// [`Error::FileNotFound`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        match source.kind() {
            std::io::ErrorKind::NotFound => Error::FileNotFound { path },
            _ => Error::Io { path, source },
        }
    }

    /// Wrap a polars error with what was being done.
    pub fn polars(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Error::Polars {
            context: context.into(),
            source,
        }
    }

    /// Wrap a JSON error with what was being (de)serialised.
    pub fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            context: context.into(),
            source,
        }
    }
}

/// At most `max_chars` characters of `text`, then `… (N more bytes)`: a message that quotes
/// what a user sent (a request body, a hyperparameter) never echoes all of it.
pub(crate) fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}… ({} more bytes)", &text[..cut], text.len() - cut),
        None => text.to_string(),
    }
}

/// Return early with an error, as polars' `polars_bail!`:
/// - `bail!(setting "name", "reason {x}")`: [`Error::InvalidSetting`] naming the setting;
/// - `bail!(Shape: "{n} labels for {m} rows")`: a variant that carries a message.
macro_rules! bail {
    (setting $name:expr, $($fmt:tt)+) => {
        return Err($crate::error::Error::InvalidSetting {
            name: ($name).into(),
            reason: format!($($fmt)+),
        })
    };
    ($variant:ident: $($fmt:tt)+) => {
        return Err($crate::error::Error::$variant(format!($($fmt)+)))
    };
}

/// [`bail!`] unless a condition holds, as polars' `polars_ensure!`:
/// `ensure!(n > 0, setting "workers", "must be ≥ 1")`.
macro_rules! ensure {
    ($cond:expr, $($rest:tt)+) => {
        if !($cond) {
            $crate::error::bail!($($rest)+);
        }
    };
}

pub(crate) use {bail, ensure};

/// A value that passed its checks: what `fit`, `start` and `run` work on, so that the code
/// past the edge never checks again (linfa's `ParamGuard`). Made by [`Check::check`];
/// reads as the value it holds.
///
/// ```
/// use purchase_predict::error::Check;
/// use purchase_predict::model::Hyperparameters;
/// let hp = Hyperparameters::default().check()?;
/// assert_eq!(hp.num_round, 100);
/// # Ok::<(), purchase_predict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    /// The value itself.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// A value made of parts that are each [`Valid`], whose own check is only theirs:
    /// for this crate only.
    pub(crate) fn from_valid_parts(value: T) -> Valid<T> {
        Valid(value)
    }

    /// The value changed in a way that keeps its checks true (an output folder swapped
    /// for a staging one): for this crate only, which knows what each check reads.
    pub(crate) fn map_unchecked(self, change: impl FnOnce(&mut T)) -> Valid<T> {
        let mut value = self.0;
        change(&mut value);
        Valid(value)
    }
}

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Settings with rules: `check_ref` says what is wrong, naming the setting; `check` turns
/// the value into a [`Valid`] one.
pub trait Check: Sized {
    /// Validate without consuming.
    fn check_ref(&self) -> Result<()>;

    /// Validate into a [`Valid`] value.
    fn check(self) -> Result<Valid<Self>> {
        self.check_ref()?;
        Ok(Valid(self))
    }
}

/// What an entry point takes: a [`Valid`] value as it is, or a plain one (by reference),
/// checked there, once.
pub trait IntoValid<T> {
    fn into_valid(self) -> Result<Valid<T>>;
}

impl<T: Check + Clone> IntoValid<T> for &T {
    fn into_valid(self) -> Result<Valid<T>> {
        self.clone().check()
    }
}

impl<T> IntoValid<T> for Valid<T> {
    fn into_valid(self) -> Result<Valid<T>> {
        Ok(self)
    }
}

impl<T: Clone> IntoValid<T> for &Valid<T> {
    fn into_valid(self) -> Result<Valid<T>> {
        Ok(self.clone())
    }
}

/// Why a body could not be read, and where: the 1-based line and column of a text
/// format when they are known. Converts into the crate's [`Error`] and
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
