//! After deployment: is the model going stale? Watch the customers it scores against the ones
//! it was trained on, in SageMaker Model Monitor's formats.
//!
//! - [`statistics`]: Model Monitor's `statistics.json` and `constraints.json`, and how they
//!   are computed from a table's raw columns;
//! - [`baseline`]: a model's [`Baseline`] (those two files, a reference sample with the
//!   model's scores, each column's mean |SHAP|), made from its training table;
//! - [`drift`]: the drift figures (Kolmogorov-Smirnov, population stability index,
//!   Jensen-Shannon, chi-square, L∞), each as its reference computes it;
//! - [`captured`]: a capture folder read back as a table of customers and their scores;
//! - [`check`]: today's rows against the baseline ([`Check`]): Model Monitor's constraint
//!   violations, and the drift of each column, of the scores and of what drives them;
//! - [`quality`](mod@quality): delayed labels joined to the captures on the inference id: the metrics at
//!   the deployed threshold and the realised profit, overall and per day;
//! - [`report`]: the page that shows it all (`report.html`);
//! - [`simulate`]: drift on purpose, for a demonstration (a column moved, captures moved to
//!   the days they stand for).
//!
//! ```no_run
//! use purchase_predict::monitor::{read_captures, Baseline, Check, Current};
//!
//! let baseline = Baseline::load("out/baseline")?;
//! let model = baseline.model("out/baseline".as_ref(), None)?;
//! let captured = read_captures("captures", &baseline.info.column_kinds())?;
//! let check = Check::run(&baseline, Some(&model), &Current::captured("captures", &captured))?;
//! println!("drifted: {:?}", check.drift.drifted);
//! # Ok::<(), purchase_predict::Error>(())
//! ```
//!
//! Data capture itself is the endpoint's ([`crate::serve::CaptureConfig`]); the records'
//! format is [`crate::codec::capture`].

pub mod baseline;
pub mod captured;
pub mod check;
pub mod drift;
pub mod quality;
pub mod report;
pub mod simulate;
pub mod statistics;

pub use baseline::{Baseline, BaselineInfo, BaselineSettings};
pub use captured::{read_captures, Captured};
pub use check::{Check, ConstraintViolations, Current, DriftReport, Violation};
pub use quality::{quality, GroundTruth, QualityReport};
