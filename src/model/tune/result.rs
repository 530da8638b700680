//! What a search found: every trial and the best one.

use super::*;

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
    /// In the order proposed: 0 is the defaults (the base hyperparameters untuned), 1 to
    /// `max_jobs` the search.
    pub number: usize,
    /// The tuned values.
    pub hyperparameters: BTreeMap<String, String>,
    /// The objective (`None` when the trial failed).
    pub objective: Option<f64>,
    /// Rounds of the trial's model (its best round + 1); the mean over folds with CV.
    pub rounds: usize,
    pub status: TrialStatus,
    pub seconds: f64,
    /// The objective on each fold (one value on a validation split): what the decision
    /// against the defaults compares.
    #[serde(default)]
    pub fold_objectives: Vec<f64>,
    /// Best validation value of the round metric after each round (for the median rule).
    #[serde(skip)]
    pub(super) curve: Vec<f64>,
    /// The best-round model's validation scores (a search on a validation split keeps them
    /// for the defaults and the best trial, for the paired bootstrap).
    #[serde(skip)]
    pub(super) scores: Option<Vec<f32>>,
}

/// Everything a tuning run found.
#[derive(Debug, Clone, Serialize)]
pub struct TuningResult {
    pub config: TunerConfig,
    /// Every trial, in order: `trials[k]` is trial k, and trial 0 the defaults.
    pub trials: Vec<Trial>,
    /// Index into `trials` of the best one by the objective.
    pub best: usize,
    /// How the trials were judged.
    pub judged_by: Judging,
    /// The defaults or the best trial, and why.
    pub decision: Decision,
    /// libxgboost threads per trial.
    pub threads_per_trial: usize,
    pub seconds: f64,
}

impl TuningResult {
    /// The best trial by the objective, whether or not it beat the defaults beyond the noise.
    pub fn best_training_job(&self) -> &Trial {
        &self.trials[self.best]
    }

    /// The trial to keep: the best one when it beats the defaults beyond the noise, else
    /// trial 0 ([`Decision`]).
    pub fn kept(&self) -> &Trial {
        &self.trials[self.decision.kept_trial]
    }

    /// The kept trial's full hyperparameters (for the refit), with every core: the
    /// defaults, or the base with the best trial's values.
    pub fn kept_hyperparameters(&self) -> Result<Hyperparameters> {
        let mut hp = if self.decision.kept_trial == 0 {
            self.config.defaults_hyperparameters()
        } else {
            self.config.hyperparameters(&self.kept().hyperparameters)?
        };
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
            let values = self
                .trials
                .iter()
                .map(|t| t.hyperparameters.get(name).cloned().unwrap_or_default());
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
