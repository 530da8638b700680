//! What a notebook or a program needs, in one import: `use purchase_predict::prelude::*;`
//! (as linfa's and polars' preludes). The settings and results of each stage, the entry
//! points that run them, the cloud facade, the display helpers, and the modules whose free
//! functions read best with their module's name (`data::describe`, `metrics::evaluate`,
//! `plot::roc`). Everything else is at its path, by stage (see the crate's front page).
//!
//! ```no_run
//! use purchase_predict::prelude::*;
//!
//! let mut config = RunConfig::demo("out");
//! config.settings.threshold = Threshold::new(0.4)?;
//! let report: RunReport = run(&config, &mut Silent)?;
//! println!("{:?}", report.metrics.roc_auc);
//! # Ok::<(), purchase_predict::Error>(())
//! ```

pub use crate::app::pipeline::{prepare, run, tune_run, RunConfig, RunReport};
pub use crate::app::streaming::Streaming;
pub use crate::app::walkthrough::{Findings, Settings, Walkthrough};
pub use crate::cloud::endpoint::{
    delete_endpoint, still_running, DataCapture, DeployConfig, DeployedEndpoint, Endpoint,
};
pub use crate::cloud::estimator::{
    Channels, Estimator, HyperparameterTuner, TrainingJob, TunedJob,
};
pub use crate::cloud::session::{Backend, Session};
pub use crate::cloud::storage::Location;
pub use crate::data::{self, split::SplitConfig, Dataset, FeatureMatrix, LoadOptions};
pub use crate::error::{Check, Error, Valid};
pub use crate::evaluate::display::{show, show_all, show_charts, show_charts_with, Notice, Table};
pub use crate::evaluate::settings::PipelineSettings;
pub use crate::evaluate::{comparison_frame, evaluate_file, explain_for_report, plot};
pub use crate::metrics::{self, Costs, Metrics, Threshold, ThresholdRule};
pub use crate::model::artifact::{Artifact, ThresholdRecord};
pub use crate::model::baseline::{Baseline, BaselineParams};
pub use crate::model::tune::{Decision, Direction, Kept, TunerConfig};
pub use crate::model::{Hyperparameters, Model};
// Monitoring by its module's name (`monitor::Baseline`, `monitor::Check`): the prelude's
// `Baseline` is the logistic regression's, its `Check` the settings' trait.
pub use crate::monitor;
pub use crate::prep::{PrepOptions, Preprocessor};
pub use crate::serve::predictor::{JsonDeserializer, JsonSerializer};
pub use crate::serve::{BackgroundServer, Predictor, ServerConfig};
pub use crate::util::progress::{Lines, Progress, Silent};
pub use crate::util::runtime::block_on;
