//! The decision threshold: the one rule that turns a score into a label, everywhere the
//! product labels a customer (the endpoint, batch scoring, metrics, explanations, the
//! container's job), and how a threshold is chosen.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The score at or above which a customer is labelled a buyer: a probability in `[0, 1]`,
/// checked when it is made, so that nothing past the edge checks it again. Serialised as
/// the bare number (`"threshold": 0.5`); reading one checks it.
///
/// Scores are `f32` (XGBoost's), and a score is compared at its own precision: a score
/// printed as `0.42` is a buyer at the threshold `0.42`, though in `f64` that score is
/// `0.41999998…`.
///
/// ```
/// use purchase_predict::metrics::Threshold;
/// let t = Threshold::new(0.42)?;
/// assert!(t.is_buyer(0.42f32));
/// assert!(!t.is_buyer(0.4199f32));
/// assert_eq!(t.label(0.9), 1);
/// assert!(Threshold::new(1.5).is_err());
/// assert_eq!("0.3".parse::<Threshold>()?.get(), 0.3);
/// # Ok::<(), purchase_predict::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Threshold(f64);

impl Threshold {
    /// 0.5, the default of `run`, `predict` and SageMaker's own examples.
    pub const DEFAULT: Threshold = Threshold(0.5);

    /// A threshold, if `value` is a probability in `[0, 1]`; the error names the setting
    /// `threshold`.
    pub fn new(value: f64) -> Result<Threshold> {
        if (0.0..=1.0).contains(&value) {
            Ok(Threshold(value))
        } else {
            Err(Error::InvalidSetting {
                name: "threshold".into(),
                reason: format!("must be in [0, 1], got {value}"),
            })
        }
    }

    /// The threshold as a number.
    pub fn get(self) -> f64 {
        self.0
    }

    /// Whether a customer with this score is a predicted buyer: `score >= threshold`,
    /// compared in `f32`.
    pub fn is_buyer(self, score: f32) -> bool {
        score >= self.0 as f32
    }

    /// The label of a score: 1 for a predicted buyer, else 0.
    pub fn label(self, score: f32) -> u8 {
        u8::from(self.is_buyer(score))
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::DEFAULT
    }
}

impl TryFrom<f64> for Threshold {
    type Error = Error;
    fn try_from(value: f64) -> Result<Threshold> {
        Threshold::new(value)
    }
}

impl From<Threshold> for f64 {
    fn from(t: Threshold) -> f64 {
        t.0
    }
}

impl std::str::FromStr for Threshold {
    type Err = Error;
    fn from_str(s: &str) -> Result<Threshold> {
        let value: f64 = s.trim().parse().map_err(|_| Error::InvalidSetting {
            name: "threshold".into(),
            reason: format!("`{s}` is not a number"),
        })?;
        Threshold::new(value)
    }
}

impl std::fmt::Display for Threshold {
    /// As the number prints, with the formatter's precision (`{:.2}`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Threshold::new(value).map_err(serde::de::Error::custom)
    }
}

/// How the model's decision threshold is chosen (recorded in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdRule {
    /// The threshold given (`--threshold`, default 0.5).
    #[default]
    Fixed,
    /// The highest accuracy on the selection split.
    Accuracy,
    /// The highest F1 on the selection split.
    F1,
    /// The highest expected profit on the selection split, given [`Costs`](super::Costs).
    Profit,
}

impl std::str::FromStr for ThresholdRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fixed" => Ok(ThresholdRule::Fixed),
            "accuracy" => Ok(ThresholdRule::Accuracy),
            "f1" => Ok(ThresholdRule::F1),
            "profit" => Ok(ThresholdRule::Profit),
            _ => Err(Error::InvalidSetting {
                name: "threshold_rule".into(),
                reason: format!("`{s}` is not one of {}", ThresholdRule::NAMES.join(", ")),
            }),
        }
    }
}

impl ThresholdRule {
    /// Every rule's name, as written in settings and hyperparameters.
    pub const NAMES: [&'static str; 4] = ["fixed", "accuracy", "f1", "profit"];

    /// The rule's name, as [`FromStr`](std::str::FromStr) reads it.
    pub fn name(self) -> &'static str {
        match self {
            ThresholdRule::Fixed => "fixed",
            ThresholdRule::Accuracy => "accuracy",
            ThresholdRule::F1 => "f1",
            ThresholdRule::Profit => "profit",
        }
    }
}

impl std::fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
