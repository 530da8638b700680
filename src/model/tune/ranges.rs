//! Hyperparameter ranges and their scalings, as SageMaker defines them.

use super::*;

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

pub(super) fn bad_range(name: &str, reason: impl Into<String>) -> Error {
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

    pub(super) fn scaling(&self) -> Scaling {
        match self {
            ParameterRange::Continuous { min, max, scaling } => resolve(*min, *max, *scaling),
            ParameterRange::Integer { min, max, scaling } => {
                resolve(*min as f64, *max as f64, *scaling)
            }
            ParameterRange::Categorical { .. } => Scaling::Linear,
        }
    }

    /// Dimensions in the unit cube (one per category for a categorical range).
    pub(super) fn dims(&self) -> usize {
        match self {
            ParameterRange::Categorical { values } => values.len(),
            _ => 1,
        }
    }

    /// The value at unit coordinates `u` (len = dims), as text for [`Hyperparameters::set`].
    pub(super) fn decode(&self, u: &[f64]) -> String {
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
    /// Whether `value` is one of the range's values.
    pub(super) fn contains(&self, value: &str) -> bool {
        match self {
            ParameterRange::Continuous { min, max, .. } => value
                .parse::<f64>()
                .is_ok_and(|v| (*min..=*max).contains(&v)),
            ParameterRange::Integer { min, max, .. } => value
                .parse::<i64>()
                .is_ok_and(|v| (*min..=*max).contains(&v)),
            ParameterRange::Categorical { values } => values.iter().any(|c| c == value),
        }
    }

    pub(super) fn encode(&self, value: &str) -> Vec<f64> {
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

    pub(super) fn random(&self, rng: &mut Rng) -> Vec<f64> {
        match self {
            ParameterRange::Categorical { values } => {
                let k = rng.below(values.len());
                (0..values.len()).map(|i| f64::from(i == k)).collect()
            }
            _ => vec![rng.uniform()],
        }
    }
}

pub(super) fn resolve(min: f64, max: f64, scaling: Scaling) -> Scaling {
    match scaling {
        Scaling::Auto if min > 0.0 && max / min >= 100.0 => Scaling::Logarithmic,
        Scaling::Auto => Scaling::Linear,
        s => s,
    }
}
