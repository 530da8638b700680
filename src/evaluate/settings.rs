//! The settings a whole run shares with a training job of our image: how the table is
//! read and split, how the threshold is set, what calls and sales are worth, and whether
//! the baseline is fitted. `run` ([`RunConfig`](crate::app::pipeline::RunConfig)) and the
//! container's job ([`TrainingJob`](crate::cloud::jobs::TrainingJob), written as
//! SageMaker hyperparameters) hold this one block, checked by one [`Check`].

use serde::{Deserialize, Serialize};

use crate::data::split::SplitConfig;
use crate::data::LoadOptions;
use crate::error::{ensure, Check, Result};
use crate::evaluate::ThresholdPolicy;
use crate::metrics::{Costs, Threshold, ThresholdRule};

/// Everything a run does besides training XGBoost, with `run`'s defaults.
///
/// ```
/// use purchase_predict::error::Check;
/// use purchase_predict::evaluate::settings::PipelineSettings;
/// use purchase_predict::metrics::ThresholdRule;
/// let mut s = PipelineSettings::new("purchased");
/// s.threshold_rule = ThresholdRule::Profit;
/// let e = s.clone().check().unwrap_err().to_string();
/// assert!(e.contains("threshold_rule"), "{e}");
/// s.threshold_rule = ThresholdRule::F1;
/// assert!(s.check().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineSettings {
    /// Target, id, drops, type declarations and delimiter.
    pub load: LoadOptions,
    /// Split shares and seed.
    pub split: SplitConfig,
    /// The decision threshold (default 0.5), when `threshold_rule` is `fixed`.
    pub threshold: Threshold,
    /// How the model's threshold is chosen: fixed (the one above), or the accuracy-, F1- or
    /// profit-optimal one on the validation split (the test split when there is none).
    #[serde(default)]
    pub threshold_rule: ThresholdRule,
    /// What a call costs and a sale is worth: adds the profit-optimal threshold and the
    /// profit curve to the evaluation.
    #[serde(default)]
    pub costs: Option<Costs>,
    /// Fit the logistic-regression baseline beside XGBoost (default true).
    #[serde(default = "yes")]
    pub baseline: bool,
}

fn yes() -> bool {
    true
}

impl PipelineSettings {
    /// Settings predicting `target`, everything else at its default.
    pub fn new(target: impl Into<String>) -> Self {
        PipelineSettings {
            load: LoadOptions::new(target),
            split: SplitConfig::default(),
            threshold: Threshold::DEFAULT,
            threshold_rule: ThresholdRule::Fixed,
            costs: None,
            baseline: true,
        }
    }
}

impl Check for PipelineSettings {
    /// The target is named, the shares are in range, the costs are amounts, and the profit
    /// rule has its costs. (The threshold is a [`Threshold`], checked when it was made.)
    fn check_ref(&self) -> Result<()> {
        ensure!(!self.load.target.trim().is_empty(), setting "target", "must name a column");
        self.split.check_ref()?;
        ThresholdPolicy {
            rule: self.threshold_rule,
            costs: self.costs,
            selection: None,
        }
        .check_ref()
    }
}
