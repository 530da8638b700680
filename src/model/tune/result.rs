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
    pub(super) curve: Vec<f64>,
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
