//! Stage 4: train XGBoost (`binary:logistic`) locally, with SageMaker's hyperparameter names.
//!
//! [`Hyperparameters`] uses the names and valid ranges of SageMaker's built-in XGBoost
//! algorithm, so the same struct drives a local run and, later, a SageMaker training job.
//! Its defaults are the AWS tutorial's (`max_depth` 5, `eta` 0.2, `gamma` 4,
//! `min_child_weight` 6, `subsample` 0.8, `num_round` 100), with `tree_method = hist`.
//!
//! ```no_run
//! use purchase_predict::train::{train, Hyperparameters};
//! use purchase_predict::progress::Silent;
//! # let (x, y): (purchase_predict::prep::FeatureMatrix, Vec<u8>) = todo!();
//! let mut hp = Hyperparameters::default();
//! hp.set("num_round", "50")?;
//! hp.check()?;
//! let model = train(&x, &y, None, &hp, &mut Silent)?;
//! let p = model.predict(&x)?;
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::prep::FeatureMatrix;
use crate::progress::Progress;
use crate::xgboost::{Booster, DMatrix};

/// The SageMaker built-in XGBoost image version the SageMaker backend uses by default: the
/// 1.7 line of the libxgboost we link, so it loads the models we write and we load the
/// (legacy binary) models it writes.
pub const SAGEMAKER_XGBOOST_VERSION: &str = "1.7-1";

/// Metrics XGBoost 1.7 evaluates that make sense for a binary classifier.
pub const EVAL_METRICS: &[&str] = &["auc", "aucpr", "logloss", "error", "map", "rmse", "mae"];

/// XGBoost hyperparameters under SageMaker's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Boosting rounds (required by SageMaker; ≥ 1).
    pub num_round: u32,
    /// Learning rate, in [0, 1].
    pub eta: f64,
    /// Maximum tree depth (0 = no limit, `hist` only).
    pub max_depth: u32,
    /// Minimum loss reduction to split, ≥ 0.
    pub gamma: f64,
    /// Minimum sum of instance weight in a child, ≥ 0.
    pub min_child_weight: f64,
    /// L2 regularisation, ≥ 0.
    pub lambda: f64,
    /// L1 regularisation, ≥ 0.
    pub alpha: f64,
    /// Row subsample ratio per tree, in (0, 1].
    pub subsample: f64,
    /// Column subsample ratio per tree, in (0, 1].
    pub colsample_bytree: f64,
    /// Weight of positive examples (> 0); `negatives / positives` balances the classes.
    pub scale_pos_weight: f64,
    /// Stop when the validation metric has not improved for this many rounds (≥ 1).
    pub early_stopping_rounds: Option<u32>,
    /// Validation metrics; the last one drives early stopping.
    pub eval_metric: Vec<String>,
    /// `hist` (default), `approx`, `exact` or `auto`.
    pub tree_method: String,
    /// Always `binary:logistic` (probabilities of a purchase).
    pub objective: String,
    /// Random seed of XGBoost's subsampling.
    pub seed: u64,
    /// Threads; `None` uses every core.
    pub nthread: Option<usize>,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Hyperparameters {
            num_round: 100,
            eta: 0.2,
            max_depth: 5,
            gamma: 4.0,
            min_child_weight: 6.0,
            lambda: 1.0,
            alpha: 0.0,
            subsample: 0.8,
            colsample_bytree: 1.0,
            scale_pos_weight: 1.0,
            early_stopping_rounds: None,
            eval_metric: vec!["auc".into()],
            tree_method: "hist".into(),
            objective: "binary:logistic".into(),
            seed: 0,
            nthread: None,
        }
    }
}

fn invalid(name: &str, value: impl ToString, reason: impl Into<String>) -> Error {
    Error::InvalidHyperparameter {
        name: name.into(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "not a number of the right kind"))
}

impl Hyperparameters {
    /// Names accepted by [`Hyperparameters::set`].
    pub const NAMES: &'static [&'static str] = &[
        "num_round",
        "eta",
        "max_depth",
        "gamma",
        "min_child_weight",
        "lambda",
        "alpha",
        "subsample",
        "colsample_bytree",
        "scale_pos_weight",
        "early_stopping_rounds",
        "eval_metric",
        "tree_method",
        "objective",
        "seed",
        "nthread",
    ];

    /// Set one hyperparameter from text, as on the command line (`--hp eta=0.1`).
    /// The value is range-checked at once.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "num_round" => self.num_round = parse(name, value)?,
            "eta" => self.eta = parse(name, value)?,
            "max_depth" => self.max_depth = parse(name, value)?,
            "gamma" => self.gamma = parse(name, value)?,
            "min_child_weight" => self.min_child_weight = parse(name, value)?,
            "lambda" | "reg_lambda" => self.lambda = parse(name, value)?,
            "alpha" | "reg_alpha" => self.alpha = parse(name, value)?,
            "subsample" => self.subsample = parse(name, value)?,
            "colsample_bytree" => self.colsample_bytree = parse(name, value)?,
            "scale_pos_weight" => self.scale_pos_weight = parse(name, value)?,
            "early_stopping_rounds" => self.early_stopping_rounds = Some(parse(name, value)?),
            "eval_metric" => {
                self.eval_metric = value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "tree_method" => self.tree_method = value.trim().to_string(),
            "objective" => self.objective = value.trim().to_string(),
            "seed" => self.seed = parse(name, value)?,
            "nthread" => self.nthread = Some(parse(name, value)?),
            _ => {
                return Err(invalid(
                    name,
                    value,
                    format!("unknown hyperparameter; known: {}", Self::NAMES.join(", ")),
                ))
            }
        }
        self.check()
    }

    /// Apply `NAME=VALUE` pairs in order.
    pub fn set_all<S: AsRef<str>>(&mut self, pairs: &[S]) -> Result<()> {
        for p in pairs {
            let p = p.as_ref();
            let (n, v) = p
                .split_once('=')
                .ok_or_else(|| invalid(p, "", "expected NAME=VALUE"))?;
            self.set(n.trim(), v)?;
        }
        Ok(())
    }

    /// Check every value against SageMaker's documented ranges.
    pub fn check(&self) -> Result<()> {
        if self.num_round < 1 {
            return Err(invalid("num_round", self.num_round, "must be ≥ 1"));
        }
        if !(0.0..=1.0).contains(&self.eta) {
            return Err(invalid("eta", self.eta, "must be in [0, 1]"));
        }
        for (n, v) in [
            ("gamma", self.gamma),
            ("min_child_weight", self.min_child_weight),
            ("lambda", self.lambda),
            ("alpha", self.alpha),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(invalid(n, v, "must be ≥ 0"));
            }
        }
        for (n, v) in [
            ("subsample", self.subsample),
            ("colsample_bytree", self.colsample_bytree),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(invalid(n, v, "must be in (0, 1]"));
            }
        }
        if !(self.scale_pos_weight > 0.0 && self.scale_pos_weight.is_finite()) {
            return Err(invalid(
                "scale_pos_weight",
                self.scale_pos_weight,
                "must be > 0",
            ));
        }
        if self.early_stopping_rounds == Some(0) {
            return Err(invalid("early_stopping_rounds", 0, "must be ≥ 1"));
        }
        if self.max_depth == 0 && self.tree_method != "hist" {
            return Err(invalid(
                "max_depth",
                0,
                "0 (no limit) needs tree_method=hist",
            ));
        }
        for m in &self.eval_metric {
            let base = m.split('@').next().unwrap_or(m);
            if !EVAL_METRICS.contains(&base) {
                return Err(invalid(
                    "eval_metric",
                    m,
                    format!("expected one of {}", EVAL_METRICS.join(", ")),
                ));
            }
        }
        if !["hist", "approx", "exact", "auto"].contains(&self.tree_method.as_str()) {
            return Err(invalid(
                "tree_method",
                &self.tree_method,
                "expected hist, approx, exact or auto",
            ));
        }
        if self.objective != "binary:logistic" {
            return Err(invalid(
                "objective",
                &self.objective,
                "purchase prediction is binary: only binary:logistic",
            ));
        }
        if self.nthread == Some(0) {
            return Err(invalid("nthread", 0, "must be ≥ 1"));
        }
        Ok(())
    }

    /// Threads that training will use.
    pub fn threads(&self) -> usize {
        self.nthread.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// As SageMaker's `HyperParameters` map (all values text).
    pub fn to_sagemaker(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_string(), v);
        };
        put("num_round", self.num_round.to_string());
        put("eta", self.eta.to_string());
        put("max_depth", self.max_depth.to_string());
        put("gamma", self.gamma.to_string());
        put("min_child_weight", self.min_child_weight.to_string());
        put("lambda", self.lambda.to_string());
        put("alpha", self.alpha.to_string());
        put("subsample", self.subsample.to_string());
        put("colsample_bytree", self.colsample_bytree.to_string());
        put("scale_pos_weight", self.scale_pos_weight.to_string());
        if let Some(e) = self.early_stopping_rounds {
            put("early_stopping_rounds", e.to_string());
        }
        if !self.eval_metric.is_empty() {
            put("eval_metric", self.eval_metric.join(","));
        }
        put("tree_method", self.tree_method.clone());
        put("objective", self.objective.clone());
        put("seed", self.seed.to_string());
        if let Some(n) = self.nthread {
            put("nthread", n.to_string());
        }
        m
    }

    fn apply(&self, b: &mut Booster) -> Result<()> {
        for (k, v) in self.to_sagemaker() {
            match k.as_str() {
                "num_round" | "early_stopping_rounds" | "eval_metric" => {}
                _ => b.set_param(&k, &v)?,
            }
        }
        b.set_param("nthread", &self.threads().to_string())?;
        for m in &self.eval_metric {
            b.set_param("eval_metric", m)?;
        }
        Ok(())
    }
}

/// A metric's value on the validation split after one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundEval {
    pub round: usize,
    pub metric: String,
    pub value: f64,
}

/// A trained model: the booster and the feature names it expects.
pub struct Model {
    booster: Booster,
    /// Feature names, in matrix column order.
    pub feature_names: Vec<String>,
    /// Rounds kept (the best round + 1 when early stopping ran).
    pub rounds: usize,
    /// Validation metrics per round (empty without a validation split).
    pub history: Vec<RoundEval>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("features", &self.feature_names.len())
            .field("rounds", &self.rounds)
            .finish()
    }
}

fn higher_is_better(metric: &str) -> bool {
    ["auc", "aucpr", "map", "ndcg", "pre"]
        .iter()
        .any(|m| metric.split('@').next() == Some(m))
}

fn labels_f32(y: &[u8]) -> Vec<f32> {
    y.iter().map(|&l| l as f32).collect()
}

/// A DMatrix with 0/1 labels, for [`train_matrices`] (which can reuse it across trainings:
/// XGBoost keeps its `hist` quantiles in the matrix).
pub fn labeled_dmatrix(x: &FeatureMatrix, y: &[u8]) -> Result<DMatrix> {
    if y.len() != x.nrows {
        return Err(Error::Shape(format!(
            "{} labels for {} rows",
            y.len(),
            x.nrows
        )));
    }
    let mut d = DMatrix::from_dense(&x.values, x.nrows, x.ncols())?;
    d.set_labels(&labels_f32(y))?;
    Ok(d)
}

/// Train on `(x, y)`, evaluating on `validation` after every round when given (and stopping
/// early when `early_stopping_rounds` is set: the returned model keeps the best round).
pub fn train(
    x: &FeatureMatrix,
    y: &[u8],
    validation: Option<(&FeatureMatrix, &[u8])>,
    hp: &Hyperparameters,
    progress: &mut dyn Progress,
) -> Result<Model> {
    hp.check()?;
    let dtrain = labeled_dmatrix(x, y)?;
    let dval = match validation {
        Some((vx, vy)) => {
            if vx.names != x.names {
                return Err(Error::Shape(
                    "validation features differ from training features".into(),
                ));
            }
            Some(labeled_dmatrix(vx, vy)?)
        }
        None => None,
    };
    let trained = train_matrices(
        &dtrain,
        dval.as_ref(),
        &x.names,
        hp,
        progress,
        &mut |_, _| true,
    )?;
    Ok(trained.model)
}

/// What [`train_matrices`] returns besides the model.
#[derive(Debug)]
pub struct Trained {
    /// The model (cut at the best round when early stopping ran).
    pub model: Model,
    /// The best round (0-based) and its validation value, when there was a validation set.
    pub best: Option<(usize, f64)>,
    /// The round after which `keep_going` stopped the training, if it did.
    pub pruned_at: Option<usize>,
}

/// Train on prepared matrices. After each round with a validation value, `keep_going(round,
/// best value so far)` may return `false` to stop (a tuner pruning a hopeless trial); the model
/// then keeps its best round as with early stopping.
pub fn train_matrices(
    dtrain: &DMatrix,
    dval: Option<&DMatrix>,
    feature_names: &[String],
    hp: &Hyperparameters,
    progress: &mut dyn Progress,
    keep_going: &mut dyn FnMut(usize, f64) -> bool,
) -> Result<Trained> {
    hp.check()?;
    if hp.early_stopping_rounds.is_some() && dval.is_none() {
        return Err(Error::InvalidSetting {
            name: "early_stopping_rounds".into(),
            reason: "needs a validation split (validation share > 0)".into(),
        });
    }
    let mut cache = vec![dtrain];
    if let Some(v) = dval {
        cache.push(v);
    }
    let mut booster = Booster::new(&cache)?;
    hp.apply(&mut booster)?;

    let total = hp.num_round as usize;
    progress.start("training", total as u64);
    let mut history = Vec::new();
    let mut best: Option<(usize, f64)> = None;
    let mut stopped_early = false;
    let mut pruned_at = None;
    for round in 0..total {
        booster.update(round, dtrain)?;
        let mut message = String::new();
        if let Some(v) = dval {
            if !hp.eval_metric.is_empty() {
                let line = booster.eval(round, &[("validation", v)])?;
                let evals = parse_eval_line(&line, round)?;
                if let Some(last) = evals.last() {
                    message = format!("validation-{} {:.5}", last.metric, last.value);
                    let better = match best {
                        None => true,
                        Some((_, b)) if higher_is_better(&last.metric) => last.value > b,
                        Some((_, b)) => last.value < b,
                    };
                    if better {
                        best = Some((round, last.value));
                    }
                }
                history.extend(evals);
            }
        }
        progress.update(round as u64 + 1, &message);
        if let (Some(patience), Some((best_round, _))) = (hp.early_stopping_rounds, best) {
            if round - best_round >= patience as usize {
                stopped_early = true;
                break;
            }
        }
        if let Some((_, value)) = best {
            if round + 1 < total && !keep_going(round, value) {
                pruned_at = Some(round);
                break;
            }
        }
    }
    let cut = hp.early_stopping_rounds.is_some() || pruned_at.is_some();
    let (booster, rounds) = match (cut, best) {
        (true, Some((best_round, _))) => (booster.slice(best_round + 1)?, best_round + 1),
        _ => {
            let r = booster.boosted_rounds()?;
            (booster, r)
        }
    };
    progress.finish(&match best {
        Some((r, v)) if pruned_at.is_some() => {
            format!("pruned, best round {} ({v:.5})", r + 1)
        }
        Some((r, v)) if stopped_early => format!("stopped early, best round {} ({v:.5})", r + 1),
        Some((r, v)) => format!("{rounds} rounds, best validation round {} ({v:.5})", r + 1),
        None => format!("{rounds} rounds"),
    });
    Ok(Trained {
        model: Model {
            booster,
            feature_names: feature_names.to_vec(),
            rounds,
            history,
        },
        best,
        pruned_at,
    })
}

/// Parse libxgboost's `[3]\tvalidation-auc:0.91\tvalidation-logloss:0.3`.
fn parse_eval_line(line: &str, round: usize) -> Result<Vec<RoundEval>> {
    line.split('\t')
        .skip(1)
        .map(|part| {
            let (name, value) = part
                .rsplit_once(':')
                .ok_or_else(|| Error::XGBoost(format!("unexpected evaluation output: {line}")))?;
            let metric = name.split_once('-').map_or(name, |(_, m)| m).to_string();
            let value = value
                .trim()
                .parse::<f64>()
                .map_err(|_| Error::XGBoost(format!("unexpected evaluation output: {line}")))?;
            Ok(RoundEval {
                round,
                metric,
                value,
            })
        })
        .collect()
}

impl Model {
    /// Wrap a loaded booster (from an artifact or a SageMaker-trained `xgboost-model`).
    pub fn from_booster(booster: Booster, feature_names: Vec<String>) -> Result<Self> {
        let n = booster.num_features()?;
        if n != 0 && n != feature_names.len() {
            return Err(Error::Shape(format!(
                "model expects {n} features, {} names given",
                feature_names.len()
            )));
        }
        let rounds = booster.boosted_rounds()?;
        Ok(Model {
            booster,
            feature_names,
            rounds,
            history: Vec::new(),
        })
    }

    /// Load from `xgboost-model` bytes: XGBoost JSON, or the legacy binary format that
    /// SageMaker's 1.7-1 container writes.
    pub fn from_bytes(bytes: &[u8], feature_names: Vec<String>) -> Result<Self> {
        Self::from_booster(Booster::from_bytes(bytes)?, feature_names)
    }

    /// The model as XGBoost JSON (what the artifact's `xgboost-model` holds).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.booster.to_json()
    }

    /// Let prediction use `n` threads (libxgboost's `nthread`; 0 = all cores).
    pub fn set_threads(&mut self, n: usize) -> Result<()> {
        self.booster.set_param("nthread", &n.to_string())
    }

    /// The underlying booster.
    pub fn booster(&self) -> &Booster {
        &self.booster
    }

    /// Probability of a purchase for each row.
    pub fn predict(&self, x: &FeatureMatrix) -> Result<Vec<f32>> {
        if x.ncols() != self.feature_names.len() {
            return Err(Error::Shape(format!(
                "model expects {} features, got {}",
                self.feature_names.len(),
                x.ncols()
            )));
        }
        // Inplace prediction: no DMatrix to build, 35 % faster on 1,000 rows here.
        self.booster.predict_dense(&x.values, x.nrows, x.ncols())
    }

    /// Feature importance as XGBoost's `gain` (the average gain of the splits that use the
    /// feature), highest first, with feature names.
    pub fn feature_importance(&self) -> Result<Vec<(String, f32)>> {
        let mut v: Vec<(String, f32)> = self
            .booster
            .feature_scores("gain")?
            .into_iter()
            .map(|(i, s)| {
                let name = self
                    .feature_names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("f{i}"));
                (name, s)
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn defaults_are_the_tutorials_and_valid() {
        let hp = Hyperparameters::default();
        hp.check().unwrap();
        let m = hp.to_sagemaker();
        assert_eq!(m["max_depth"], "5");
        assert_eq!(m["eta"], "0.2");
        assert_eq!(m["gamma"], "4");
        assert_eq!(m["min_child_weight"], "6");
        assert_eq!(m["subsample"], "0.8");
        assert_eq!(m["num_round"], "100");
        assert_eq!(m["objective"], "binary:logistic");
    }

    #[test]
    fn out_of_range_values_are_rejected_by_name() {
        let cases = [
            ("num_round", "0"),
            ("eta", "1.5"),
            ("gamma", "-1"),
            ("min_child_weight", "-0.1"),
            ("lambda", "-2"),
            ("alpha", "-2"),
            ("subsample", "0"),
            ("colsample_bytree", "1.01"),
            ("scale_pos_weight", "0"),
            ("early_stopping_rounds", "0"),
            ("eval_metric", "accuracy"),
            ("tree_method", "gpu_magic"),
            ("objective", "reg:squarederror"),
            ("max_depth", "-1"),
            ("eta", "fast"),
            ("nosuch", "1"),
        ];
        for (n, v) in cases {
            let mut hp = Hyperparameters::default();
            match hp.set(n, v) {
                Err(Error::InvalidHyperparameter { name, .. }) => assert_eq!(name, n),
                other => panic!("{n}={v}: {other:?}"),
            }
        }
        let mut hp = Hyperparameters::default();
        hp.set_all(&["eta=0.05", "max_depth=3", "eval_metric=logloss,auc"])
            .unwrap();
        assert_eq!((hp.eta, hp.max_depth), (0.05, 3));
        assert_eq!(hp.eval_metric, vec!["logloss", "auc"]);
        assert!(hp.set_all(&["eta"]).is_err());
    }

    #[test]
    fn parses_eval_lines() {
        let v = parse_eval_line("[7]\tvalidation-auc:0.9\tvalidation-logloss:0.25", 7).unwrap();
        assert_eq!(v[1].metric, "logloss");
        assert_eq!(v[1].value, 0.25);
        assert!(parse_eval_line("[7]\tgarbage", 7).is_err());
    }

    fn noisy(n: usize, seed: u64) -> (FeatureMatrix, Vec<u8>) {
        let mut rng = crate::random::Rng::new(seed);
        let mut values = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = rng.normal();
            let b = rng.normal();
            values.extend([a as f32, b as f32]);
            let p = 1.0 / (1.0 + (-(2.0 * a)).exp());
            y.push(u8::from(rng.bernoulli(p)));
        }
        (
            FeatureMatrix {
                names: vec!["a".into(), "b".into()],
                nrows: n,
                values,
            },
            y,
        )
    }

    #[test]
    fn early_stopping_keeps_the_best_round() {
        let (x, y) = noisy(600, 1);
        let (vx, vy) = noisy(300, 2);
        let mut hp = Hyperparameters::default();
        hp.set_all(&[
            "num_round=300",
            "eta=0.5",
            "max_depth=6",
            "gamma=0",
            "min_child_weight=0",
            "early_stopping_rounds=5",
            "eval_metric=logloss",
            "nthread=1",
        ])
        .unwrap();
        let m = train(&x, &y, Some((&vx, &vy)), &hp, &mut Silent).unwrap();
        let last = m.history.last().unwrap().round;
        assert!(last < 299, "noise makes it stop early");
        let best = m
            .history
            .iter()
            .min_by(|a, b| a.value.total_cmp(&b.value))
            .unwrap();
        assert_eq!(m.rounds, best.round + 1);
        assert_eq!(last, best.round + 5);
        assert_eq!(m.booster().boosted_rounds().unwrap(), m.rounds);
        // early stopping without validation is refused
        assert!(matches!(
            train(&x, &y, None, &hp, &mut Silent),
            Err(Error::InvalidSetting { .. })
        ));
    }

    #[test]
    fn model_round_trips_through_bytes() {
        let (x, y) = noisy(300, 3);
        let mut hp = Hyperparameters::default();
        hp.set_all(&["num_round=10", "nthread=1"]).unwrap();
        let m = train(&x, &y, None, &hp, &mut Silent).unwrap();
        let p = m.predict(&x).unwrap();
        let again = Model::from_bytes(&m.to_bytes().unwrap(), x.names.clone()).unwrap();
        assert_eq!(again.predict(&x).unwrap(), p);
        assert_eq!(again.rounds, 10);
        assert!(Model::from_bytes(&m.to_bytes().unwrap(), vec!["only_one".into()]).is_err());
        let imp = m.feature_importance().unwrap();
        assert_eq!(imp[0].0, "a");
    }
}
