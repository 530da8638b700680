//! XGBoost's hyperparameters under SageMaker's names, each listed once (the table
//! [`PARAMS`]): its text form both ways, as SageMaker's `HyperParameters` map and `NAME=VALUE`
//! settings, and its valid range.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Check, Error, Result};

/// Metrics XGBoost 1.7 evaluates that make sense for a binary classifier.
pub const EVAL_METRICS: &[&str] = &["auc", "aucpr", "logloss", "error", "map", "rmse", "mae"];

/// Metrics that take a threshold (`error@0.3`), as SageMaker's XGBoost container allows.
pub const THRESHOLD_METRICS: &[&str] = &["error", "ndcg", "map"];

/// The first seed SageMaker's XGBoost 1.7-1 container refuses: 2^31 - 1.
pub const MAX_SEED_EXCLUSIVE: u64 = (1 << 31) - 1;

/// XGBoost's tree construction algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TreeMethod {
    /// Histogram-based (the default; fast, and the only one with `max_depth` 0).
    #[default]
    Hist,
    /// Approximate quantile sketch.
    Approx,
    /// Exact greedy.
    Exact,
    /// XGBoost's own choice.
    Auto,
}

/// The learning objective: purchase prediction is binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Objective {
    /// Logistic regression for a binary target: the scores are probabilities.
    #[default]
    #[serde(rename = "binary:logistic")]
    BinaryLogistic,
}

/// Text forms of the closed sets: `hist`, `binary:logistic`, ...
macro_rules! text_enum {
    ($t:ty, $expected:literal, $($variant:path => $text:literal),+) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($variant => $text),+ })
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                match s.trim() {
                    $($text => Ok($variant),)+
                    _ => Err($expected.to_string()),
                }
            }
        }
    };
}
text_enum!(TreeMethod, "expected hist, approx, exact or auto", TreeMethod::Hist => "hist", TreeMethod::Approx => "approx", TreeMethod::Exact => "exact", TreeMethod::Auto => "auto");
text_enum!(Objective, "expected binary:logistic: purchase prediction is binary", Objective::BinaryLogistic => "binary:logistic");

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
    pub tree_method: TreeMethod,
    /// Always `binary:logistic` (probabilities of a purchase).
    pub objective: Objective,
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
            tree_method: TreeMethod::Hist,
            objective: Objective::BinaryLogistic,
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

fn parse<T: FromStr>(name: &str, value: &str) -> Result<T>
where
    T::Err: fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| {
        let reason = e.to_string();
        // Numbers' own messages ("invalid digit found in string") say less than this.
        if reason.starts_with("expected ") {
            invalid(name, value, reason)
        } else {
            invalid(name, value, "not a number of the right kind")
        }
    })
}

/// One hyperparameter: its SageMaker name (and the alias XGBoost also knows), its value as
/// text (`None` when unset) and how to set it from text.
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub get: fn(&Hyperparameters) -> Option<String>,
    pub set: fn(&mut Hyperparameters, &str) -> Result<()>,
}

/// A hyperparameter that always has a value.
macro_rules! param {
    ($field:ident) => {
        param!($field, None)
    };
    ($field:ident, $alias:literal) => {
        param!($field, Some($alias))
    };
    ($field:ident, $alias:expr) => {
        Param {
            name: stringify!($field),
            alias: $alias,
            get: |h| Some(h.$field.to_string()),
            set: |h, v| {
                h.$field = parse(stringify!($field), v)?;
                Ok(())
            },
        }
    };
}

/// A hyperparameter that may be unset.
macro_rules! optional {
    ($field:ident) => {
        Param {
            name: stringify!($field),
            alias: None,
            get: |h| h.$field.map(|v| v.to_string()),
            set: |h, v| {
                h.$field = Some(parse(stringify!($field), v)?);
                Ok(())
            },
        }
    };
}

/// Every hyperparameter, in the order SageMaker's documentation lists them.
pub const PARAMS: &[Param] = &[
    param!(num_round),
    param!(eta),
    param!(max_depth),
    param!(gamma),
    param!(min_child_weight),
    param!(lambda, "reg_lambda"),
    param!(alpha, "reg_alpha"),
    param!(subsample),
    param!(colsample_bytree),
    param!(scale_pos_weight),
    optional!(early_stopping_rounds),
    Param {
        name: "eval_metric",
        alias: None,
        get: |h| (!h.eval_metric.is_empty()).then(|| h.eval_metric.join(",")),
        set: |h, v| {
            h.eval_metric = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            Ok(())
        },
    },
    param!(tree_method),
    param!(objective),
    param!(seed),
    optional!(nthread),
];

impl Hyperparameters {
    /// The names [`Hyperparameters::set`] accepts (aliases aside).
    pub fn names() -> impl Iterator<Item = &'static str> {
        PARAMS.iter().map(|p| p.name)
    }

    /// Set one hyperparameter from text, by SageMaker's name (or XGBoost's alias), and
    /// check the result.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let param = PARAMS
            .iter()
            .find(|p| p.name == name || p.alias == Some(name))
            .ok_or_else(|| {
                invalid(
                    name,
                    value,
                    format!(
                        "unknown hyperparameter; known: {}",
                        Self::names().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
        (param.set)(self, value)?;
        self.check_ref()
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

    /// Threads that training will use: `nthread`, or every core, and never more than the
    /// machine's cores (more cannot run at once, and a count the system cannot start
    /// crashed libxgboost's thread pool: `nthread=100000` ended in SIGSEGV).
    pub fn threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.nthread.map_or(cores, |n| n.min(cores))
    }

    /// What to tell the user when `nthread` asks for more threads than [`threads`](Self::threads)
    /// gives.
    pub fn threads_note(&self) -> Option<String> {
        let n = self.nthread?;
        let threads = self.threads();
        (n > threads)
            .then(|| format!("note: nthread={n} reduced to {threads}, the cores this machine has"))
    }

    /// As SageMaker's `HyperParameters` map (all values text; unset ones left out).
    pub fn to_sagemaker(&self) -> BTreeMap<String, String> {
        PARAMS
            .iter()
            .filter_map(|p| (p.get)(self).map(|v| (p.name.to_string(), v)))
            .collect()
    }
}

impl Check for Hyperparameters {
    /// Check every value against SageMaker's documented ranges.
    fn check_ref(&self) -> Result<()> {
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
        if self.max_depth == 0 && self.tree_method != TreeMethod::Hist {
            return Err(invalid(
                "max_depth",
                0,
                "0 (no limit) needs tree_method=hist",
            ));
        }
        for m in &self.eval_metric {
            // As the XGBoost 1.7-1 container validates: `@threshold` only for error, ndcg and
            // map, and the threshold a number.
            let (base, threshold) = match m.split_once('@') {
                Some((b, t)) => (b.trim(), Some(t.trim())),
                None => (m.as_str(), None),
            };
            if let Some(t) = threshold {
                if !THRESHOLD_METRICS.contains(&base) {
                    return Err(invalid(
                        "eval_metric",
                        m,
                        format!(
                            "a threshold (`@t`) is allowed only for {}",
                            THRESHOLD_METRICS.join(", ")
                        ),
                    ));
                }
                if t.parse::<f64>().is_err() {
                    return Err(invalid(
                        "eval_metric",
                        m,
                        format!("the threshold in `{base}@t` must be a number"),
                    ));
                }
            }
            if !EVAL_METRICS.contains(&base) && !THRESHOLD_METRICS.contains(&base) {
                return Err(invalid(
                    "eval_metric",
                    m,
                    format!("expected one of {}", EVAL_METRICS.join(", ")),
                ));
            }
        }
        // The container's range for `seed` is the open interval (-2^31, 2^31 - 1).
        if self.seed >= MAX_SEED_EXCLUSIVE {
            return Err(invalid(
                "seed",
                self.seed,
                format!("must be below {MAX_SEED_EXCLUSIVE} (SageMaker's XGBoost container refuses larger seeds)"),
            ));
        }
        if self.nthread == Some(0) {
            return Err(invalid("nthread", 0, "must be ≥ 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, value: &str) -> Result<()> {
        let mut hp = Hyperparameters::default();
        hp.set(name, value)?;
        hp.check_ref()
    }

    #[test]
    fn thresholds_and_seeds_are_checked_as_the_container_does() {
        for ok in [
            "auc",
            "error@0.3",
            "map@2",
            "ndcg@1",
            "auc,error@0.7",
            "logloss",
        ] {
            assert!(check("eval_metric", ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("auc@0.5", "allowed only for error, ndcg, map"),
            ("logloss@x", "allowed only for"),
            ("error@high", "must be a number"),
            ("accuracy", "expected one of"),
        ] {
            let e = check("eval_metric", bad).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("eval_metric"), "{bad}: {e}");
        }
        assert!(check("seed", "2147483646").is_ok());
        let e = check("seed", "2147483647").unwrap_err().to_string();
        assert!(e.contains("seed") && e.contains("2147483647"), "{e}");
        assert!(check("seed", "18446744073709551615").is_err());
    }
}
