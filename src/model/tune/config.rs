//! What to search: the objective, the strategy, the limits ([`TunerConfig`]).

use super::*;
use crate::error::ensure;

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
    pub(super) fn eval_metric(self) -> &'static str {
        match self {
            Objective::Auc | Objective::F1 => "auc",
            Objective::Logloss => "logloss",
            Objective::Error => "error",
        }
    }

    pub(super) fn round_metric_higher_is_better(self) -> bool {
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

impl Direction {
    /// 1 or −1: an objective times this is higher when better.
    pub(crate) fn sign(self) -> f64 {
        match self {
            Direction::Maximize => 1.0,
            Direction::Minimize => -1.0,
        }
    }
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
    /// How trials are judged: by the mean over k stratified folds of the training split, or
    /// on the validation split ([`CvFolds`]; `Auto` by default).
    pub cv_folds: CvFolds,
    /// The fixed hyperparameters every searched trial starts from (tuned ones are
    /// overwritten).
    pub base: Hyperparameters,
    /// Trial 0: the hyperparameters without tuning, what `run` would train (by default the
    /// AWS tutorial's, [`Hyperparameters::default`]). The search's result replaces them only
    /// when it is better beyond the noise.
    pub defaults: Hyperparameters,
}

/// Hyperparameters that are settings rather than things to tune.
pub(super) const NOT_TUNABLE: &[&str] =
    &["eval_metric", "objective", "tree_method", "nthread", "seed"];

impl TunerConfig {
    /// How many of the trials are random draws: all of them for [`Strategy::Random`], the
    /// first `max(3, min(10, max_jobs / 5))` for [`Strategy::Bayesian`] (the Gaussian process
    /// proposes the rest).
    pub fn random_trials(&self) -> usize {
        match self.strategy {
            Strategy::Random => self.max_jobs,
            Strategy::Bayesian => super::initial_random_trials(self.max_jobs).min(self.max_jobs),
        }
    }

    /// Tune `ranges` for `validation:auc` (maximised) with the Bayesian strategy: 20 trials,
    /// 2 at a time (1 on a single core), seed 0, median early stopping, trials judged by
    /// [`CvFolds::Auto`], a base of [`Hyperparameters::default`] with up to 300 rounds and
    /// early stopping after 10, and [`Hyperparameters::default`] as the defaults (trial 0).
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
            cv_folds: CvFolds::Auto,
            base: Hyperparameters {
                num_round: 300,
                early_stopping_rounds: Some(10),
                ..Hyperparameters::default()
            },
            defaults: Hyperparameters::default(),
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

    /// How to judge trials: `CvFolds::Folds(k)` (or `Some(k)`) by k-fold cross-validation
    /// of the training split, `CvFolds::Off` (or `None`) on the validation split,
    /// `CvFolds::Auto` by the size of the training split.
    pub fn cv_folds(mut self, k: impl Into<CvFolds>) -> Self {
        self.cv_folds = k.into();
        self
    }

    /// Set the fixed hyperparameters.
    pub fn base(mut self, base: Hyperparameters) -> Self {
        self.base = base;
        self
    }

    /// Set the defaults (trial 0).
    pub fn defaults(mut self, defaults: Hyperparameters) -> Self {
        self.defaults = defaults;
        self
    }

    pub(super) fn dims(&self) -> usize {
        self.ranges.values().map(ParameterRange::dims).sum()
    }

    pub(super) fn decode(&self, u: &[f64]) -> BTreeMap<String, String> {
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
    pub(super) fn encode(&self, values: &BTreeMap<String, String>) -> Vec<f64> {
        self.ranges
            .iter()
            .flat_map(|(name, r)| r.encode(&values[name]))
            .collect()
    }

    pub(super) fn random_point(&self, rng: &mut Rng) -> Vec<f64> {
        self.ranges.values().flat_map(|r| r.random(rng)).collect()
    }

    /// Trial 0's values of the tuned hyperparameters (the defaults').
    pub fn defaults_values(&self) -> BTreeMap<String, String> {
        let defaults = self.defaults.to_sagemaker();
        self.ranges
            .keys()
            .filter_map(|name| defaults.get(name).map(|v| (name.clone(), v.clone())))
            .collect()
    }

    /// Trial 0's hyperparameters: the defaults, with the objective's metric evaluated.
    pub fn defaults_hyperparameters(&self) -> Hyperparameters {
        let mut hp = self.defaults.clone();
        hp.eval_metric = vec![self.objective.eval_metric().to_string()];
        hp
    }

    /// Whether trial 0 is a point of the search: its values inside the ranges, and the
    /// defaults equal to the base but for the tuned values (then the Gaussian process may
    /// learn from it).
    pub(super) fn defaults_in_search(&self) -> bool {
        let values = self.defaults_values();
        let inside = self
            .ranges
            .iter()
            .all(|(name, r)| values.get(name).is_some_and(|v| r.contains(v)));
        inside
            && self.hyperparameters(&values).is_ok_and(|hp| {
                Hyperparameters {
                    nthread: None,
                    ..hp
                } == Hyperparameters {
                    nthread: None,
                    ..self.defaults_hyperparameters()
                }
            })
    }

    /// The hyperparameters of a trial: the base with the tuned values set.
    pub fn hyperparameters(&self, values: &BTreeMap<String, String>) -> Result<Hyperparameters> {
        let mut hp = self.base.clone();
        for (k, v) in values {
            hp.set(k, v)?;
        }
        hp.eval_metric = vec![self.objective.eval_metric().to_string()];
        hp.check_ref()?;
        Ok(hp)
    }
}

impl Check for TunerConfig {
    /// Validate every range and setting.
    fn check_ref(&self) -> Result<()> {
        ensure!(!self.ranges.is_empty(), setting "ranges", "give at least one hyperparameter range to tune");
        for (name, range) in &self.ranges {
            if !Hyperparameters::names().any(|n| n == name) {
                return Err(bad_range(
                    name,
                    format!(
                        "unknown hyperparameter; tunable ones are {}",
                        Hyperparameters::names()
                            .filter(|n| !NOT_TUNABLE.contains(n))
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
        if let CvFolds::Folds(k) = self.cv_folds {
            if k < 2 {
                return Err(setting("cv_folds", "must be ≥ 2 (or off, or auto)"));
            }
        }
        self.base.check_ref()?;
        self.defaults.check_ref()
    }
}
