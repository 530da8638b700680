//! Stage 5b: hyperparameter tuning, locally, in the vocabulary of SageMaker's automatic model
//! tuning — so the same ranges can run here or as a SageMaker tuning job.
//!
//! - Ranges: [`ParameterRange::continuous`], [`ParameterRange::integer`],
//!   [`ParameterRange::categorical`], with [`Scaling`] `Auto`, `Linear`, `Logarithmic` or
//!   `ReverseLogarithmic` as SageMaker defines them.
//! - Objective `validation:auc` (also `validation:logloss`, `validation:error`,
//!   `validation:f1`), maximised or minimised.
//! - [`Strategy::Bayesian`]: a Gaussian process (Matérn 5/2 kernel on the unit-scaled ranges,
//!   length scale and noise chosen by marginal likelihood on a grid) with expected improvement,
//!   maximised over random and locally perturbed candidates, after `max(3, min(10, max_jobs /
//!   5))` random trials. The improvement asked for is half a standard deviation of the
//!   results so far: exploring that much keeps the search from chasing lucky validation
//!   scores (see `EXPLORATION` in the source for the measurements). With `max_parallel_jobs` > 1 the trials of one batch are proposed
//!   together ("constant liar": a pending point counts as the worst result so far, which
//!   spreads the batch out). [`Strategy::Random`] samples each range independently.
//! - `early_stopping_type = Auto`: a trial whose best validation score so far is worse than
//!   the median of earlier trials at the same round (at least 3 of them, from round 10 on) is
//!   stopped, keeping its best round — SageMaker's median stopping rule.
//! - Trials run `max_parallel_jobs` at a time with `cores / max_parallel_jobs` libxgboost
//!   threads each, so the cores are never oversubscribed. Batches run in lock-step, which
//!   makes a run reproducible from its seed whatever the timing.
//! - Optionally a k-fold cross-validated objective on the training split.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use purchase_predict::tune::{tune, ParameterRange, Scaling, TunerConfig};
//! # fn demo(x: &purchase_predict::prep::FeatureMatrix, y: &[u8],
//! #         vx: &purchase_predict::prep::FeatureMatrix, vy: &[u8]) -> purchase_predict::Result<()> {
//! let ranges = BTreeMap::from([
//!     ("eta".to_string(), ParameterRange::continuous(0.01, 0.5).with_scaling(Scaling::Logarithmic)),
//!     ("max_depth".to_string(), ParameterRange::integer(2, 10)),
//! ]);
//! let config = TunerConfig::new(ranges).max_jobs(30).max_parallel_jobs(2).seed(7);
//! let result = tune((x, y), Some((vx, vy)), &config, &mut purchase_predict::progress::Silent)?;
//! println!("{:?}", result.best_training_job());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use polars::prelude::{Column, DataFrame};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::evaluate;
use crate::prep::FeatureMatrix;
use crate::progress::{Progress, Silent};
use crate::random::Rng;
use crate::train::{labeled_dmatrix, train_matrices, Hyperparameters};
use crate::xgboost::DMatrix;

/// How values are spread over a range, as SageMaker defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scaling {
    /// Logarithmic when `min > 0` and `max / min ≥ 100`, else linear.
    Auto,
    /// Uniform between min and max.
    Linear,
    /// Uniform in log space; needs `min > 0`.
    Logarithmic,
    /// Uniform in `log(1 - x)`: dense near 1; needs `0 ≤ min < max < 1`.
    ReverseLogarithmic,
}

impl std::str::FromStr for Scaling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Scaling::Auto),
            "linear" => Ok(Scaling::Linear),
            "logarithmic" | "log" => Ok(Scaling::Logarithmic),
            "reverselogarithmic" | "reverse-logarithmic" | "reverse_logarithmic" => {
                Ok(Scaling::ReverseLogarithmic)
            }
            _ => Err(Error::InvalidSetting {
                name: "scaling".into(),
                reason: format!("`{s}`: use Auto, Linear, Logarithmic or ReverseLogarithmic"),
            }),
        }
    }
}

/// The range of one hyperparameter: SageMaker's `ContinuousParameter`, `IntegerParameter` and
/// `CategoricalParameter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ParameterRange {
    Continuous {
        min: f64,
        max: f64,
        scaling: Scaling,
    },
    Integer {
        min: i64,
        max: i64,
        scaling: Scaling,
    },
    Categorical {
        values: Vec<String>,
    },
}

fn bad_range(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        name: format!("range `{name}`"),
        reason: reason.into(),
    }
}

impl ParameterRange {
    /// `ContinuousParameter(min, max)` with `Auto` scaling.
    pub fn continuous(min: f64, max: f64) -> Self {
        ParameterRange::Continuous {
            min,
            max,
            scaling: Scaling::Auto,
        }
    }

    /// `IntegerParameter(min, max)` (both included) with `Auto` scaling.
    pub fn integer(min: i64, max: i64) -> Self {
        ParameterRange::Integer {
            min,
            max,
            scaling: Scaling::Auto,
        }
    }

    /// `CategoricalParameter(values)`.
    pub fn categorical<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        ParameterRange::Categorical {
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The same range with another scaling (ignored for categorical ranges).
    pub fn with_scaling(mut self, s: Scaling) -> Self {
        match &mut self {
            ParameterRange::Continuous { scaling, .. }
            | ParameterRange::Integer { scaling, .. } => *scaling = s,
            ParameterRange::Categorical { .. } => {}
        }
        self
    }

    /// Validate: finite bounds, `min ≤ max` (`<` for continuous), what the scaling needs, a
    /// non-empty list without duplicates.
    pub fn check(&self, name: &str) -> Result<()> {
        let (min, max, scaling) = match self {
            ParameterRange::Continuous { min, max, scaling } => {
                if !(min.is_finite() && max.is_finite()) {
                    return Err(bad_range(name, "bounds must be finite numbers"));
                }
                if min >= max {
                    return Err(bad_range(
                        name,
                        format!("min {min} must be below max {max}"),
                    ));
                }
                (*min, *max, *scaling)
            }
            ParameterRange::Integer { min, max, scaling } => {
                if min > max {
                    return Err(bad_range(name, format!("min {min} is above max {max}")));
                }
                (*min as f64, *max as f64, *scaling)
            }
            ParameterRange::Categorical { values } => {
                if values.is_empty() {
                    return Err(bad_range(
                        name,
                        "a categorical range needs at least one value",
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(d) = values.iter().find(|v| !seen.insert(v.as_str())) {
                    return Err(bad_range(name, format!("value `{d}` is listed twice")));
                }
                return Ok(());
            }
        };
        match scaling {
            Scaling::Logarithmic if min <= 0.0 => Err(bad_range(
                name,
                format!("logarithmic scaling needs min > 0, got {min}"),
            )),
            Scaling::ReverseLogarithmic if !(min >= 0.0 && max < 1.0) => Err(bad_range(
                name,
                format!("reverse logarithmic scaling needs 0 ≤ min < max < 1, got {min}..{max}"),
            )),
            _ => Ok(()),
        }
    }

    fn scaling(&self) -> Scaling {
        match self {
            ParameterRange::Continuous { min, max, scaling } => resolve(*min, *max, *scaling),
            ParameterRange::Integer { min, max, scaling } => {
                resolve(*min as f64, *max as f64, *scaling)
            }
            ParameterRange::Categorical { .. } => Scaling::Linear,
        }
    }

    /// Dimensions in the unit cube (one per category for a categorical range).
    fn dims(&self) -> usize {
        match self {
            ParameterRange::Categorical { values } => values.len(),
            _ => 1,
        }
    }

    /// The value at unit coordinates `u` (len = dims), as text for [`Hyperparameters::set`].
    fn decode(&self, u: &[f64]) -> String {
        let scaled = |min: f64, max: f64| -> f64 {
            let t = u[0].clamp(0.0, 1.0);
            match self.scaling() {
                Scaling::Logarithmic => (min.ln() + t * (max.ln() - min.ln())).exp(),
                Scaling::ReverseLogarithmic => {
                    let (a, b) = ((1.0 - min).ln(), (1.0 - max).ln());
                    1.0 - (a + t * (b - a)).exp()
                }
                _ => min + t * (max - min),
            }
        };
        match self {
            ParameterRange::Continuous { min, max, .. } => {
                format!("{}", scaled(*min, *max).clamp(*min, *max))
            }
            ParameterRange::Integer { min, max, .. } => {
                if min == max {
                    return min.to_string();
                }
                // Widen by half a step on each side so that every integer gets an equal share.
                let v = scaled(*min as f64 - 0.499, *max as f64 + 0.499);
                (v.round() as i64).clamp(*min, *max).to_string()
            }
            ParameterRange::Categorical { values } => {
                let best = u
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
                values[best].clone()
            }
        }
    }

    /// Unit coordinates of a value this range produced (the inverse of `decode`).
    fn encode(&self, value: &str) -> Vec<f64> {
        let unscale = |v: f64, min: f64, max: f64| -> f64 {
            let t = match self.scaling() {
                Scaling::Logarithmic => (v.ln() - min.ln()) / (max.ln() - min.ln()),
                Scaling::ReverseLogarithmic => {
                    let (a, b) = ((1.0 - min).ln(), (1.0 - max).ln());
                    ((1.0 - v).ln() - a) / (b - a)
                }
                _ => (v - min) / (max - min),
            };
            t.clamp(0.0, 1.0)
        };
        match self {
            ParameterRange::Continuous { min, max, .. } => {
                vec![unscale(value.parse().unwrap_or(*min), *min, *max)]
            }
            ParameterRange::Integer { min, max, .. } => {
                if min == max {
                    return vec![0.5];
                }
                let v: f64 = value.parse().unwrap_or(*min as f64);
                vec![unscale(v, *min as f64 - 0.499, *max as f64 + 0.499)]
            }
            ParameterRange::Categorical { values } => values
                .iter()
                .map(|c| if c == value { 1.0 } else { 0.0 })
                .collect(),
        }
    }

    fn random(&self, rng: &mut Rng) -> Vec<f64> {
        match self {
            ParameterRange::Categorical { values } => {
                let k = rng.below(values.len());
                (0..values.len()).map(|i| f64::from(i == k)).collect()
            }
            _ => vec![rng.uniform()],
        }
    }
}

fn resolve(min: f64, max: f64, scaling: Scaling) -> Scaling {
    match scaling {
        Scaling::Auto if min > 0.0 && max / min >= 100.0 => Scaling::Logarithmic,
        Scaling::Auto => Scaling::Linear,
        s => s,
    }
}

/// What a trial is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// `validation:auc`.
    #[serde(rename = "validation:auc")]
    Auc,
    /// `validation:logloss`.
    #[serde(rename = "validation:logloss")]
    Logloss,
    /// `validation:error` (share misclassified at 0.5).
    #[serde(rename = "validation:error")]
    Error,
    /// `validation:f1` (at threshold 0.5, of the trial's final model; rounds are still
    /// early-stopped and compared on AUC).
    #[serde(rename = "validation:f1")]
    F1,
}

impl Objective {
    /// SageMaker's metric name.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Auc => "validation:auc",
            Objective::Logloss => "validation:logloss",
            Objective::Error => "validation:error",
            Objective::F1 => "validation:f1",
        }
    }

    /// The usual direction: maximise AUC and F1, minimise log loss and error.
    pub fn default_direction(self) -> Direction {
        match self {
            Objective::Auc | Objective::F1 => Direction::Maximize,
            Objective::Logloss | Objective::Error => Direction::Minimize,
        }
    }

    /// The libxgboost metric evaluated each round.
    fn eval_metric(self) -> &'static str {
        match self {
            Objective::Auc | Objective::F1 => "auc",
            Objective::Logloss => "logloss",
            Objective::Error => "error",
        }
    }

    fn round_metric_higher_is_better(self) -> bool {
        matches!(self, Objective::Auc | Objective::F1)
    }
}

impl std::str::FromStr for Objective {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "validation:auc" => Ok(Objective::Auc),
            "validation:logloss" => Ok(Objective::Logloss),
            "validation:error" => Ok(Objective::Error),
            "validation:f1" => Ok(Objective::F1),
            _ => Err(Error::InvalidSetting {
                name: "objective".into(),
                reason: format!(
                    "`{s}`: use validation:auc, validation:logloss, validation:error or validation:f1"
                ),
            }),
        }
    }
}

/// Whether a higher objective is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Maximize,
    Minimize,
}

/// How the next hyperparameters are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Gaussian-process Bayesian optimisation with expected improvement.
    Bayesian,
    /// Independent random draws.
    Random,
}

impl std::str::FromStr for Strategy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bayesian" => Ok(Strategy::Bayesian),
            "random" => Ok(Strategy::Random),
            _ => Err(Error::InvalidSetting {
                name: "strategy".into(),
                reason: format!("`{s}`: use Bayesian or Random"),
            }),
        }
    }
}

/// Whether hopeless trials are stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EarlyStoppingType {
    Off,
    /// The median stopping rule.
    Auto,
}

/// Settings of a tuning run. Build with [`TunerConfig::new`] and the setters; [`tune`] calls
/// [`TunerConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TunerConfig {
    /// Ranges of the tuned hyperparameters, by SageMaker name.
    pub ranges: BTreeMap<String, ParameterRange>,
    pub objective: Objective,
    pub direction: Direction,
    pub strategy: Strategy,
    /// Trials in all.
    pub max_jobs: usize,
    /// Trials at once.
    pub max_parallel_jobs: usize,
    /// Seed of the search (not of the data split).
    pub seed: u64,
    pub early_stopping_type: EarlyStoppingType,
    /// `Some(k)`: the objective is the mean over k stratified folds of the training split.
    pub cv_folds: Option<usize>,
    /// The fixed hyperparameters every trial starts from (tuned ones are overwritten).
    pub base: Hyperparameters,
}

/// Hyperparameters that are settings rather than things to tune.
const NOT_TUNABLE: &[&str] = &["eval_metric", "objective", "tree_method", "nthread", "seed"];

impl TunerConfig {
    /// Tune `ranges` for `validation:auc` (maximised) with the Bayesian strategy: 20 trials,
    /// 2 at a time (1 on a single core), seed 0, median early stopping, and a base of
    /// [`Hyperparameters::default`] with up to 300 rounds and early stopping after 10.
    pub fn new(ranges: BTreeMap<String, ParameterRange>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        TunerConfig {
            ranges,
            objective: Objective::Auc,
            direction: Direction::Maximize,
            strategy: Strategy::Bayesian,
            max_jobs: 20,
            max_parallel_jobs: cores.min(2),
            seed: 0,
            early_stopping_type: EarlyStoppingType::Auto,
            cv_folds: None,
            base: Hyperparameters {
                num_round: 300,
                early_stopping_rounds: Some(10),
                ..Hyperparameters::default()
            },
        }
    }

    /// A search space for XGBoost on customer tables: eta (log), max_depth, min_child_weight
    /// (log), subsample, colsample_bytree, gamma, lambda (log) and alpha (log).
    pub fn default_ranges() -> BTreeMap<String, ParameterRange> {
        use ParameterRange as R;
        BTreeMap::from([
            (
                "eta".into(),
                R::continuous(0.01, 0.5).with_scaling(Scaling::Logarithmic),
            ),
            ("max_depth".into(), R::integer(2, 10)),
            (
                "min_child_weight".into(),
                R::continuous(0.5, 20.0).with_scaling(Scaling::Logarithmic),
            ),
            ("subsample".into(), R::continuous(0.5, 1.0)),
            ("colsample_bytree".into(), R::continuous(0.4, 1.0)),
            ("gamma".into(), R::continuous(0.0, 5.0)),
            (
                "lambda".into(),
                R::continuous(0.01, 10.0).with_scaling(Scaling::Logarithmic),
            ),
            (
                "alpha".into(),
                R::continuous(0.001, 10.0).with_scaling(Scaling::Logarithmic),
            ),
        ])
    }

    /// Set the objective and its usual direction.
    pub fn objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self.direction = objective.default_direction();
        self
    }

    /// Set the direction.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Set the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Set the number of trials.
    pub fn max_jobs(mut self, n: usize) -> Self {
        self.max_jobs = n;
        self
    }

    /// Set the number of trials at once.
    pub fn max_parallel_jobs(mut self, n: usize) -> Self {
        self.max_parallel_jobs = n;
        self
    }

    /// Set the search seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turn the median stopping rule on (`Auto`) or off.
    pub fn early_stopping_type(mut self, t: EarlyStoppingType) -> Self {
        self.early_stopping_type = t;
        self
    }

    /// Judge trials by k-fold cross-validation on the training split.
    pub fn cv_folds(mut self, k: Option<usize>) -> Self {
        self.cv_folds = k;
        self
    }

    /// Set the fixed hyperparameters.
    pub fn base(mut self, base: Hyperparameters) -> Self {
        self.base = base;
        self
    }

    /// Validate every range and setting.
    pub fn check(&self) -> Result<()> {
        if self.ranges.is_empty() {
            return Err(Error::InvalidSetting {
                name: "ranges".into(),
                reason: "give at least one hyperparameter range to tune".into(),
            });
        }
        for (name, range) in &self.ranges {
            if !Hyperparameters::NAMES.contains(&name.as_str()) {
                return Err(bad_range(
                    name,
                    format!(
                        "unknown hyperparameter; tunable ones are {}",
                        Hyperparameters::NAMES
                            .iter()
                            .filter(|n| !NOT_TUNABLE.contains(n))
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if NOT_TUNABLE.contains(&name.as_str()) {
                return Err(bad_range(name, "a setting, not something to tune"));
            }
            range.check(name)?;
            // Every end of the range must be a valid value.
            let mut hp = self.base.clone();
            for u in [0.0, 1.0] {
                let v = range.decode(&vec![u; range.dims()]);
                hp.set(name, &v)?;
            }
            if let ParameterRange::Categorical { values } = range {
                for v in values {
                    hp.set(name, v)?;
                }
            }
        }
        let setting = |name: &str, reason: &str| Error::InvalidSetting {
            name: name.into(),
            reason: reason.into(),
        };
        if self.max_jobs == 0 {
            return Err(setting("max_jobs", "must be ≥ 1"));
        }
        if self.max_parallel_jobs == 0 || self.max_parallel_jobs > self.max_jobs {
            return Err(setting(
                "max_parallel_jobs",
                "must be between 1 and max_jobs",
            ));
        }
        if let Some(k) = self.cv_folds {
            if k < 2 {
                return Err(setting("cv_folds", "must be ≥ 2"));
            }
        }
        self.base.check()
    }

    fn dims(&self) -> usize {
        self.ranges.values().map(ParameterRange::dims).sum()
    }

    fn decode(&self, u: &[f64]) -> BTreeMap<String, String> {
        let mut at = 0;
        self.ranges
            .iter()
            .map(|(name, r)| {
                let d = r.dims();
                let v = r.decode(&u[at..at + d]);
                at += d;
                (name.clone(), v)
            })
            .collect()
    }

    /// The point a set of values maps to (snapping integers and categories to their cells).
    fn encode(&self, values: &BTreeMap<String, String>) -> Vec<f64> {
        self.ranges
            .iter()
            .flat_map(|(name, r)| r.encode(&values[name]))
            .collect()
    }

    fn random_point(&self, rng: &mut Rng) -> Vec<f64> {
        self.ranges.values().flat_map(|r| r.random(rng)).collect()
    }

    /// The hyperparameters of a trial: the base with the tuned values set.
    pub fn hyperparameters(&self, values: &BTreeMap<String, String>) -> Result<Hyperparameters> {
        let mut hp = self.base.clone();
        for (k, v) in values {
            hp.set(k, v)?;
        }
        hp.eval_metric = vec![self.objective.eval_metric().to_string()];
        hp.check()?;
        Ok(hp)
    }
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrialStatus {
    Completed,
    /// Stopped by the median rule after `at_round` rounds.
    Stopped {
        at_round: usize,
    },
    Failed {
        reason: String,
    },
}

/// One training job of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 1-based, in the order proposed.
    pub number: usize,
    /// The tuned values.
    pub hyperparameters: BTreeMap<String, String>,
    /// The objective (`None` when the trial failed).
    pub objective: Option<f64>,
    /// Rounds of the trial's model (its best round + 1); the mean over folds with CV.
    pub rounds: usize,
    pub status: TrialStatus,
    pub seconds: f64,
    /// Best validation value of the round metric after each round (for the median rule).
    #[serde(skip)]
    curve: Vec<f64>,
}

/// Everything a tuning run found.
#[derive(Debug, Clone, Serialize)]
pub struct TuningResult {
    pub config: TunerConfig,
    /// Every trial, in order.
    pub trials: Vec<Trial>,
    /// Index into `trials` of the best one.
    pub best: usize,
    /// libxgboost threads per trial.
    pub threads_per_trial: usize,
    pub seconds: f64,
}

impl TuningResult {
    /// The best trial, as SageMaker's `best_training_job()`.
    pub fn best_training_job(&self) -> &Trial {
        &self.trials[self.best]
    }

    /// The best trial's full hyperparameters (for a refit), with every core.
    pub fn best_hyperparameters(&self) -> Result<Hyperparameters> {
        let mut hp = self
            .config
            .hyperparameters(&self.best_training_job().hyperparameters)?;
        hp.nthread = self.config.base.nthread;
        Ok(hp)
    }

    /// All trials as a table: trial, status, objective, rounds, seconds and one column per
    /// tuned hyperparameter (numbers for numeric ranges).
    pub fn trials_frame(&self) -> Result<DataFrame> {
        let n = self.trials.len();
        let mut cols = vec![
            Column::new(
                "trial".into(),
                self.trials
                    .iter()
                    .map(|t| t.number as u32)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "status".into(),
                self.trials
                    .iter()
                    .map(|t| match &t.status {
                        TrialStatus::Completed => "Completed".to_string(),
                        TrialStatus::Stopped { at_round } => format!("Stopped@{at_round}"),
                        TrialStatus::Failed { .. } => "Failed".to_string(),
                    })
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                self.config.objective.name().into(),
                self.trials.iter().map(|t| t.objective).collect::<Vec<_>>(),
            ),
            Column::new(
                "rounds".into(),
                self.trials
                    .iter()
                    .map(|t| t.rounds as u32)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "seconds".into(),
                self.trials.iter().map(|t| t.seconds).collect::<Vec<_>>(),
            ),
        ];
        for (name, range) in &self.config.ranges {
            let values = self.trials.iter().map(|t| t.hyperparameters[name].clone());
            cols.push(match range {
                ParameterRange::Categorical { .. } => {
                    Column::new(name.as_str().into(), values.collect::<Vec<_>>())
                }
                _ => Column::new(
                    name.as_str().into(),
                    values.map(|v| v.parse::<f64>().ok()).collect::<Vec<_>>(),
                ),
            });
        }
        DataFrame::new(n, cols).map_err(|e| Error::polars("trials table", e))
    }
}

/// One worker's copy of the data (libxgboost matrices are not shared between threads).
struct Slot {
    /// (train, validation, validation labels): one, or one per fold.
    sets: Vec<(DMatrix, DMatrix, Vec<u8>)>,
}

fn folds(y: &[u8], k: usize, seed: u64) -> Vec<Vec<usize>> {
    // Stratified: each class shuffled and dealt round-robin over the folds.
    let mut rng = Rng::new(seed ^ 0xf01d);
    let mut out = vec![Vec::new(); k];
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut idx);
        for (j, i) in idx.into_iter().enumerate() {
            out[j % k].push(i);
        }
    }
    for f in &mut out {
        f.sort_unstable();
    }
    out
}

fn build_sets(
    train: (&FeatureMatrix, &[u8]),
    validation: Option<(&FeatureMatrix, &[u8])>,
    config: &TunerConfig,
) -> Result<Vec<(DMatrix, DMatrix, Vec<u8>)>> {
    let (x, y) = train;
    match config.cv_folds {
        None => {
            let (vx, vy) = validation.ok_or_else(|| Error::InvalidSetting {
                name: "validation".into(),
                reason: "tuning needs a validation split (validation share > 0) or cv_folds".into(),
            })?;
            Ok(vec![(
                labeled_dmatrix(x, y)?,
                labeled_dmatrix(vx, vy)?,
                vy.to_vec(),
            )])
        }
        Some(k) => {
            let parts = folds(y, k, config.seed);
            if parts
                .iter()
                .any(|p| p.iter().all(|&i| y[i] == 0) || p.iter().all(|&i| y[i] == 1))
            {
                return Err(Error::Split(format!(
                    "{k} folds of {} rows leave a fold with a single class",
                    y.len()
                )));
            }
            parts
                .iter()
                .map(|held| {
                    let held_set: std::collections::HashSet<usize> = held.iter().copied().collect();
                    let rest: Vec<usize> = (0..y.len()).filter(|i| !held_set.contains(i)).collect();
                    let pick = |idx: &[usize]| idx.iter().map(|&i| y[i]).collect::<Vec<u8>>();
                    Ok((
                        labeled_dmatrix(&x.take(&rest), &pick(&rest))?,
                        labeled_dmatrix(&x.take(held), &pick(held))?,
                        pick(held),
                    ))
                })
                .collect()
        }
    }
}

/// Median-rule reference: the best-so-far curves of earlier trials.
fn median_at(curves: &[Vec<f64>], round: usize) -> Option<f64> {
    let mut v: Vec<f64> = curves
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c[round.min(c.len() - 1)])
        .collect();
    if v.len() < 3 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Rounds before the median rule may stop a trial.
const MEDIAN_RULE_FROM_ROUND: usize = 10;

fn run_trial(
    slot: &mut Slot,
    config: &TunerConfig,
    values: BTreeMap<String, String>,
    number: usize,
    threads: usize,
    reference: &[Vec<f64>],
    feature_names: &[String],
) -> Trial {
    let started = Instant::now();
    let failed = |reason: String, values: BTreeMap<String, String>| Trial {
        number,
        hyperparameters: values,
        objective: None,
        rounds: 0,
        status: TrialStatus::Failed { reason },
        seconds: started.elapsed().as_secs_f64(),
        curve: Vec::new(),
    };
    let mut hp = match config.hyperparameters(&values) {
        Ok(hp) => hp,
        Err(e) => return failed(e.to_string(), values),
    };
    hp.nthread = Some(threads);
    let higher = config.objective.round_metric_higher_is_better();
    let prune = config.early_stopping_type == EarlyStoppingType::Auto && config.cv_folds.is_none();
    let mut curve = Vec::new();
    let mut objectives = Vec::new();
    let mut rounds = Vec::new();
    let mut stopped = None;
    for (dtrain, dval, val_labels) in &slot.sets {
        let mut keep_going = |round: usize, best: f64| {
            curve.push(best);
            if !prune || round + 1 < MEDIAN_RULE_FROM_ROUND {
                return true;
            }
            match median_at(reference, round) {
                Some(m) if higher => best >= m,
                Some(m) => best <= m,
                None => true,
            }
        };
        let trained = match train_matrices(
            dtrain,
            Some(dval),
            feature_names,
            &hp,
            &mut Silent,
            &mut keep_going,
        ) {
            Ok(t) => t,
            Err(e) => return failed(e.to_string(), values),
        };
        if let Some(r) = trained.pruned_at {
            stopped = Some(r + 1);
        }
        let Some((_, best)) = trained.best else {
            return failed("no validation value".into(), values);
        };
        let objective = if config.objective == Objective::F1 {
            // F1 at 0.5 of the final model on this validation set.
            let scores = match trained.model.booster().predict(dval, None) {
                Ok(s) => s,
                Err(e) => return failed(e.to_string(), values),
            };
            match evaluate(val_labels, &scores, 0.5) {
                Ok(m) => m.f1,
                Err(e) => return failed(e.to_string(), values),
            }
        } else {
            best
        };
        objectives.push(objective);
        rounds.push(trained.model.rounds);
    }
    let n = objectives.len() as f64;
    Trial {
        number,
        hyperparameters: values,
        objective: Some(objectives.iter().sum::<f64>() / n),
        rounds: (rounds.iter().sum::<usize>() as f64 / n).round() as usize,
        status: match stopped {
            Some(at_round) => TrialStatus::Stopped { at_round },
            None => TrialStatus::Completed,
        },
        seconds: started.elapsed().as_secs_f64(),
        curve,
    }
}

/// Search the hyperparameters of `config.ranges`, training on `train` and judging on
/// `validation` (or by k-fold CV on `train` when `config.cv_folds` is set).
pub fn tune(
    train: (&FeatureMatrix, &[u8]),
    validation: Option<(&FeatureMatrix, &[u8])>,
    config: &TunerConfig,
    progress: &mut dyn Progress,
) -> Result<TuningResult> {
    config.check()?;
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parallel = config.max_parallel_jobs;
    let threads = config
        .base
        .nthread
        .unwrap_or(cores)
        .checked_div(parallel)
        .unwrap_or(1)
        .max(1);
    let mut slots: Vec<Slot> = (0..parallel.min(config.max_jobs))
        .map(|_| {
            Ok(Slot {
                sets: build_sets(train, validation, config)?,
            })
        })
        .collect::<Result<_>>()?;
    let feature_names = train.0.names.clone();
    let sign = if config.direction == Direction::Maximize {
        1.0
    } else {
        -1.0
    };
    let mut rng = Rng::new(config.seed);
    let mut trials: Vec<Trial> = Vec::with_capacity(config.max_jobs);
    progress.start("tuning", config.max_jobs as u64);
    while trials.len() < config.max_jobs {
        let batch = slots.len().min(config.max_jobs - trials.len());
        let proposals = propose(config, &trials, sign, batch, &mut rng);
        let reference: Vec<Vec<f64>> = trials.iter().map(|t| t.curve.clone()).collect();
        let first = trials.len() + 1;
        let results: Vec<Mutex<Option<Trial>>> = (0..batch).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for (k, (values, slot)) in proposals.into_iter().zip(slots.iter_mut()).enumerate() {
                let (results, reference, names) = (&results, &reference, &feature_names);
                s.spawn(move || {
                    let t = run_trial(slot, config, values, first + k, threads, reference, names);
                    *results[k].lock().expect("trial slot") = Some(t);
                });
            }
        });
        for r in results {
            trials.push(r.into_inner().expect("trial slot").expect("trial ran"));
        }
        let message = match best_index(&trials, sign) {
            Some(b) => format!(
                "best {} {:.5} (trial {})",
                config.objective.name(),
                trials[b].objective.unwrap_or(f64::NAN),
                trials[b].number
            ),
            None => "no trial succeeded yet".into(),
        };
        progress.update(trials.len() as u64, &message);
    }
    let best = best_index(&trials, sign).ok_or_else(|| {
        let reason = trials
            .iter()
            .find_map(|t| match &t.status {
                TrialStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_default();
        Error::InvalidSetting {
            name: "tuning".into(),
            reason: format!("all {} trials failed; the first: {reason}", trials.len()),
        }
    })?;
    progress.finish(&format!(
        "best {} {:.5} (trial {})",
        config.objective.name(),
        trials[best].objective.unwrap_or(f64::NAN),
        trials[best].number
    ));
    Ok(TuningResult {
        config: config.clone(),
        trials,
        best,
        threads_per_trial: threads,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn best_index(trials: &[Trial], sign: f64) -> Option<usize> {
    trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.objective.filter(|v| v.is_finite()).map(|v| (i, v * sign)))
        // The first of equals wins: earlier trials are no worse for being earlier.
        .fold(None, |acc: Option<(usize, f64)>, (i, v)| match acc {
            Some((_, b)) if b >= v => acc,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// Random trials before the Gaussian process takes over.
fn initial_random_trials(max_jobs: usize) -> usize {
    (max_jobs / 5).clamp(3, 10)
}

/// The next `n` sets of values to try.
fn propose(
    config: &TunerConfig,
    trials: &[Trial],
    sign: f64,
    n: usize,
    rng: &mut Rng,
) -> Vec<BTreeMap<String, String>> {
    let observed: Vec<(Vec<f64>, f64)> = trials
        .iter()
        .filter_map(|t| {
            t.objective
                .filter(|v| v.is_finite())
                .map(|v| (config.encode(&t.hyperparameters), v * sign))
        })
        .collect();
    let bayesian = config.strategy == Strategy::Bayesian
        && observed.len() >= initial_random_trials(config.max_jobs);
    let mut pending: Vec<Vec<f64>> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let point = if bayesian {
            gp::next_point(config, &observed, &pending, rng)
        } else {
            config.random_point(rng)
        };
        let values = config.decode(&point);
        pending.push(config.encode(&values));
        out.push(values);
    }
    out
}

/// The Gaussian process behind [`Strategy::Bayesian`].
mod gp {
    use super::*;

    fn matern52(a: &[f64], b: &[f64], length: f64) -> f64 {
        let r = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
            / length;
        let s = 5f64.sqrt() * r;
        (1.0 + s + s * s / 3.0) * (-s).exp()
    }

    /// Lower-triangular Cholesky factor of a symmetric positive-definite matrix.
    fn cholesky(k: &[f64], n: usize) -> Option<Vec<f64>> {
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut sum = k[i * n + j];
                for p in 0..j {
                    sum -= l[i * n + p] * l[j * n + p];
                }
                if i == j {
                    if sum <= 0.0 {
                        return None;
                    }
                    l[i * n + i] = sum.sqrt();
                } else {
                    l[i * n + j] = sum / l[j * n + j];
                }
            }
        }
        Some(l)
    }

    /// Solve L z = b (forward substitution).
    fn forward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; n];
        for i in 0..n {
            let s: f64 = (0..i).map(|p| l[i * n + p] * z[p]).sum();
            z[i] = (b[i] - s) / l[i * n + i];
        }
        z
    }

    /// Solve Lᵀ z = b (back substitution).
    fn backward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; n];
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|p| l[p * n + i] * z[p]).sum();
            z[i] = (b[i] - s) / l[i * n + i];
        }
        z
    }

    pub(super) struct Fitted {
        xs: Vec<Vec<f64>>,
        l: Vec<f64>,
        alpha: Vec<f64>,
        length: f64,
    }

    impl Fitted {
        /// Posterior mean and standard deviation (in standardised units).
        pub(super) fn predict(&self, x: &[f64]) -> (f64, f64) {
            let n = self.xs.len();
            let k: Vec<f64> = self
                .xs
                .iter()
                .map(|xi| matern52(xi, x, self.length))
                .collect();
            let mean = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
            let v = forward(&self.l, n, &k);
            let var = (1.0 - v.iter().map(|x| x * x).sum::<f64>()).max(1e-12);
            (mean, var.sqrt())
        }
    }

    /// Fit on standardised `ys`, choosing length scale and noise by marginal likelihood.
    pub(super) fn fit(xs: &[Vec<f64>], ys: &[f64], dims: usize) -> Option<Fitted> {
        let n = xs.len();
        let scale = (dims as f64).sqrt();
        let mut best: Option<(f64, Fitted)> = None;
        for base in [0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5] {
            let length = base * scale;
            for noise in [1e-6, 1e-4, 1e-3, 1e-2, 5e-2] {
                let mut k = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        k[i * n + j] = matern52(&xs[i], &xs[j], length);
                    }
                    k[i * n + i] += noise;
                }
                let Some(l) = cholesky(&k, n) else { continue };
                let alpha = backward(&l, n, &forward(&l, n, ys));
                let fit_term: f64 = ys.iter().zip(&alpha).map(|(a, b)| a * b).sum();
                let log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
                let lml = -0.5 * fit_term - log_det;
                if best.as_ref().is_none_or(|(b, _)| lml > *b) {
                    best = Some((
                        lml,
                        Fitted {
                            xs: xs.to_vec(),
                            l,
                            alpha,
                            length,
                        },
                    ));
                }
            }
        }
        best.map(|(_, f)| f)
    }

    /// erfc, W. J. Cody's rational approximation as in Numerical Recipes (|error| < 1.2e-7).
    fn erfc(x: f64) -> f64 {
        let z = x.abs();
        let t = 1.0 / (1.0 + 0.5 * z);
        let r = t
            * (-z * z - 1.26551223
                + t * (1.00002368
                    + t * (0.37409196
                        + t * (0.09678418
                            + t * (-0.18628806
                                + t * (0.27886807
                                    + t * (-1.13520398
                                        + t * (1.48851587
                                            + t * (-0.82215223 + t * 0.17087277)))))))))
                .exp();
        if x >= 0.0 {
            r
        } else {
            2.0 - r
        }
    }

    /// The improvement (in standard deviations of the observed objectives) a candidate must
    /// promise beyond the best so far. Validation scores are noisy (AUC ±0.001 on a few
    /// thousand rows), and a search that exploits hard finds the luckiest validation score
    /// rather than the best model: on the bank data (9 seeds, 50 trials) the median test AUC
    /// of the refit best model was 0.9512 with 0.01, 0.9514 with 0.1 and 0.9519 with 0.5,
    /// while the best validation AUCs went the other way.
    const EXPLORATION: f64 = 0.5;

    /// Expected improvement over `best` of N(mean, sd²), maximising.
    pub(super) fn expected_improvement(mean: f64, sd: f64, best: f64) -> f64 {
        let xi = EXPLORATION;
        let d = mean - best - xi;
        let z = d / sd;
        let cdf = 0.5 * erfc(-z / std::f64::consts::SQRT_2);
        let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        d * cdf + sd * pdf
    }

    /// The candidate with the highest expected improvement, given observed (point, value to
    /// maximise) pairs and pending points (counted as the worst value so far).
    pub(super) fn next_point(
        config: &TunerConfig,
        observed: &[(Vec<f64>, f64)],
        pending: &[Vec<f64>],
        rng: &mut Rng,
    ) -> Vec<f64> {
        let worst = observed.iter().map(|o| o.1).fold(f64::INFINITY, f64::min);
        let mut xs: Vec<Vec<f64>> = observed.iter().map(|o| o.0.clone()).collect();
        let mut ys: Vec<f64> = observed.iter().map(|o| o.1).collect();
        for p in pending {
            xs.push(p.clone());
            ys.push(worst);
        }
        let mean = ys.iter().sum::<f64>() / ys.len() as f64;
        let sd = (ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / ys.len() as f64)
            .sqrt()
            .max(1e-12);
        let zs: Vec<f64> = ys.iter().map(|y| (y - mean) / sd).collect();
        let dims = config.dims();
        let Some(model) = fit(&xs, &zs, dims) else {
            return config.random_point(rng);
        };
        let best = zs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Candidates: random points, and perturbations of the five best observed points.
        let mut candidates: Vec<Vec<f64>> = (0..2000).map(|_| config.random_point(rng)).collect();
        let mut ranked: Vec<&(Vec<f64>, f64)> = observed.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (x, _) in ranked.iter().take(5) {
            for sigma in [0.02, 0.05, 0.15] {
                for _ in 0..100 {
                    let mut c = x.clone();
                    let mut at = 0;
                    for r in config.ranges.values() {
                        let d = r.dims();
                        if d == 1 {
                            c[at] = (c[at] + sigma * rng.normal()).clamp(0.0, 1.0);
                        } else if rng.uniform() < sigma {
                            let fresh = r.random(rng);
                            c[at..at + d].copy_from_slice(&fresh);
                        }
                        at += d;
                    }
                    candidates.push(c);
                }
            }
        }
        let mut best_point = None;
        let mut best_ei = f64::NEG_INFINITY;
        for c in candidates {
            // Score the cell the candidate decodes to, as it will be trained.
            let snapped = config.encode(&config.decode(&c));
            let (m, s) = model.predict(&snapped);
            let ei = expected_improvement(m, s, best);
            if ei > best_ei {
                best_ei = ei;
                best_point = Some(snapped);
            }
        }
        best_point.unwrap_or_else(|| config.random_point(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_ranges_are_named() {
        let check = |r: ParameterRange| r.check("eta").unwrap_err().to_string();
        assert!(
            check(ParameterRange::continuous(0.5, 0.1)).contains("min 0.5 must be below max 0.1")
        );
        assert!(
            check(ParameterRange::continuous(0.0, 1.0).with_scaling(Scaling::Logarithmic))
                .contains("logarithmic scaling needs min > 0")
        );
        assert!(check(
            ParameterRange::continuous(0.5, 1.0).with_scaling(Scaling::ReverseLogarithmic)
        )
        .contains("0 ≤ min < max < 1"));
        assert!(check(ParameterRange::integer(5, 2)).contains("min 5 is above max 2"));
        assert!(check(ParameterRange::categorical(Vec::<String>::new())).contains("at least one"));
        assert!(check(ParameterRange::categorical(["hist", "hist"])).contains("listed twice"));
        let cfg = TunerConfig::new(BTreeMap::from([(
            "shoe_size".to_string(),
            ParameterRange::integer(1, 2),
        )]));
        assert!(cfg
            .check()
            .unwrap_err()
            .to_string()
            .contains("unknown hyperparameter"));
        let cfg = TunerConfig::new(BTreeMap::from([(
            "max_depth".to_string(),
            ParameterRange::integer(-3, 2),
        )]));
        assert!(cfg.check().unwrap_err().to_string().contains("max_depth"));
        let cfg = TunerConfig::new(TunerConfig::default_ranges()).max_parallel_jobs(0);
        assert!(cfg.check().is_err());
        assert!(TunerConfig::new(BTreeMap::new()).check().is_err());
    }

    #[test]
    fn scalings_cover_their_ranges_as_sagemaker_defines_them() {
        let mut rng = Rng::new(1);
        let log = ParameterRange::continuous(0.001, 10.0).with_scaling(Scaling::Logarithmic);
        let below_0_01 = (0..4000)
            .map(|_| log.decode(&log.random(&mut rng)).parse::<f64>().unwrap())
            .filter(|v| *v < 0.01)
            .count();
        // Uniform in log space: a quarter of the draws in the first of four decades.
        assert!((800..1200).contains(&below_0_01), "{below_0_01}");
        let rev = ParameterRange::continuous(0.0, 0.999).with_scaling(Scaling::ReverseLogarithmic);
        let above_0_99 = (0..3000)
            .map(|_| rev.decode(&rev.random(&mut rng)).parse::<f64>().unwrap())
            .filter(|v| *v > 0.99)
            .count();
        assert!((800..1200).contains(&above_0_99), "{above_0_99}");
        let int = ParameterRange::integer(2, 4);
        let mut counts = [0; 3];
        for _ in 0..3000 {
            let v: i64 = int.decode(&int.random(&mut rng)).parse().unwrap();
            counts[(v - 2) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
        // encode inverts decode.
        for v in ["0.001", "0.1", "10"] {
            let u = log.encode(v);
            let back: f64 = log.decode(&u).parse().unwrap();
            assert!((back - v.parse::<f64>().unwrap()).abs() < 1e-9);
        }
        assert_eq!(resolve(0.01, 0.5, Scaling::Auto), Scaling::Linear);
        assert_eq!(resolve(0.001, 1.0, Scaling::Auto), Scaling::Logarithmic);
    }

    #[test]
    fn the_gaussian_process_beats_random_search_on_a_smooth_function() {
        // Six continuous dimensions, the optimum inside the cube.
        let names = [
            "eta",
            "subsample",
            "colsample_bytree",
            "gamma",
            "lambda",
            "alpha",
        ];
        let config = TunerConfig::new(
            names
                .iter()
                .map(|n| (n.to_string(), ParameterRange::continuous(0.1, 1.0)))
                .collect(),
        );
        let centre = [0.7, 0.2, 0.5, 0.9, 0.35, 0.6];
        let f = |u: &[f64]| {
            -u.iter()
                .zip(centre)
                .map(|(a, c)| (a - c).powi(2))
                .sum::<f64>()
        };
        let search = |bayesian: bool, seed: u64| {
            let mut rng = Rng::new(seed);
            let mut observed: Vec<(Vec<f64>, f64)> = Vec::new();
            for i in 0..30 {
                let x = if bayesian && i >= 10 {
                    gp::next_point(&config, &observed, &[], &mut rng)
                } else {
                    config.random_point(&mut rng)
                };
                let y = f(&x);
                observed.push((x, y));
            }
            observed
                .iter()
                .map(|o| o.1)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let (mut g, mut r): (Vec<f64>, Vec<f64>) = (0..5)
            .map(|seed| (search(true, seed), search(false, seed)))
            .unzip();
        g.sort_by(f64::total_cmp);
        r.sort_by(f64::total_cmp);
        // Median of 5 seeds: the Gaussian process gets at least three times closer.
        assert!(
            g[2] > r[2] / 3.0,
            "GP median best {} vs random {}",
            g[2],
            r[2]
        );
    }

    #[test]
    fn median_rule_needs_three_references() {
        let c = |v: &[f64]| v.to_vec();
        assert_eq!(median_at(&[c(&[0.5]), c(&[0.6])], 0), None);
        // Shorter curves hold their last value.
        assert_eq!(
            median_at(&[c(&[0.5]), c(&[0.6, 0.7]), c(&[0.8, 0.9])], 1),
            Some(0.7)
        );
    }

    #[test]
    fn folds_are_stratified_and_cover_every_row_once() {
        let y: Vec<u8> = (0..100).map(|i| u8::from(i % 5 == 0)).collect();
        let f = folds(&y, 4, 1);
        let mut all: Vec<usize> = f.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for fold in &f {
            assert_eq!(fold.iter().filter(|&&i| y[i] == 1).count(), 5);
        }
    }
}
