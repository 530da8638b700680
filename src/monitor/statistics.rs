//! SageMaker Model Monitor's `statistics.json` and `constraints.json`, field for field, and
//! how they are computed from a table's raw columns.
//!
//! Statistics per column: present and missing counts; for numbers the mean, sum, population
//! standard deviation, minimum, maximum, ten equal-width buckets between them and a KLL
//! sketch; for text the distinct count and every value's count. Constraints suggested from
//! them as Model Monitor's baselining job suggests them: the inferred type, completeness, a
//! non-negativity flag for numbers, the domain of a text column with at most
//! [`MAX_DOMAIN`] values, and `monitoring_config` with Model Monitor's default thresholds.

use std::collections::BTreeMap;

use polars::prelude::{Column, DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A text column with at most this many distinct values gets a domain constraint.
pub const MAX_DOMAIN: usize = 100;

/// The `k` of the KLL sketches written (Model Monitor's).
pub const KLL_K: usize = 2048;

/// What type a column's values have (Model Monitor's `inferred_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InferredType {
    /// Whole numbers.
    Integral,
    /// Numbers with fractions.
    Fractional,
    /// Text (a category).
    String,
    /// No value to tell by.
    Unknown,
}

impl InferredType {
    /// Whether the type is a number.
    pub fn is_numeric(self) -> bool {
        matches!(self, InferredType::Integral | InferredType::Fractional)
    }
}

/// `statistics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// The format's version, 0.
    pub version: u32,
    /// The table as a whole.
    pub dataset: DatasetStatistics,
    /// One entry per column.
    pub features: Vec<FeatureStatistics>,
}

/// The table as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetStatistics {
    /// Rows.
    pub item_count: u64,
}

/// One column's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStatistics {
    /// The column's name.
    pub name: String,
    /// The type of its values.
    pub inferred_type: InferredType,
    /// For numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical_statistics: Option<NumericalStatistics>,
    /// For text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_statistics: Option<StringStatistics>,
}

/// Counts every column has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// Values present.
    pub num_present: u64,
    /// Values missing.
    pub num_missing: u64,
}

/// A numeric column's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericalStatistics {
    /// Present and missing counts.
    pub common: Common,
    /// Mean of the present values.
    pub mean: f64,
    /// Sum of the present values.
    pub sum: f64,
    /// Population standard deviation of the present values.
    pub std_dev: f64,
    /// Smallest present value.
    pub min: f64,
    /// Largest present value.
    pub max: f64,
    /// The distribution.
    pub distribution: NumericalDistribution,
}

/// A numeric distribution, as Model Monitor writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericalDistribution {
    /// Buckets and the sketch.
    pub kll: Kll,
}

/// Ten equal-width buckets from the minimum to the maximum, and a KLL sketch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kll {
    /// The buckets (the last one includes the maximum).
    pub buckets: Vec<KllBucket>,
    /// The sketch.
    pub sketch: KllSketch,
}

/// One bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllBucket {
    /// Lower bound, included.
    pub lower_bound: f64,
    /// Upper bound, excluded (included in the last bucket).
    pub upper_bound: f64,
    /// Values in the bucket.
    pub count: f64,
}

/// A KLL quantile sketch: `data[h]` holds items that each stand for `2^h` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketch {
    /// `c` and `k`.
    pub parameters: KllParameters,
    /// The compactors, lowest level first.
    pub data: Vec<Vec<f64>>,
}

/// The sketch's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllParameters {
    /// The compactors' shrink factor (0.64).
    pub c: f64,
    /// The top compactor's capacity.
    pub k: f64,
}

/// A text column's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringStatistics {
    /// Present and missing counts.
    pub common: Common,
    /// Distinct present values.
    pub distinct_count: f64,
    /// Every value's count.
    pub distribution: StringDistribution,
}

/// A categorical distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringDistribution {
    /// The buckets.
    pub categorical: CategoricalBuckets,
}

/// Value counts, most frequent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalBuckets {
    /// One per value.
    pub buckets: Vec<CategoricalBucket>,
}

/// One value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalBucket {
    /// The value.
    pub value: String,
    /// Its count.
    pub count: f64,
}

/// `constraints.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// The format's version, 0.
    pub version: u32,
    /// One entry per column.
    pub features: Vec<FeatureConstraints>,
    /// The thresholds of the checks.
    pub monitoring_config: MonitoringConfig,
}

/// One column's constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConstraints {
    /// The column's name.
    pub name: String,
    /// The type its values must have.
    pub inferred_type: InferredType,
    /// The share of values that must be present (0 to 1).
    pub completeness: f64,
    /// For numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_constraints: Option<NumConstraints>,
    /// For text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_constraints: Option<StringConstraints>,
}

impl FeatureConstraints {
    /// Whether this column's constraints are checked: not when an override (as the SDK's
    /// `Constraints.set_monitoring(False, column)` writes it) disables them.
    pub fn evaluated(&self) -> bool {
        let disabled = |o: &Option<Overrides>| {
            o.as_ref()
                .is_some_and(|o| o.evaluate_constraints == Some(Toggle::Disabled))
        };
        !(self
            .num_constraints
            .as_ref()
            .is_some_and(|c| disabled(&c.monitoring_config_overrides))
            || self
                .string_constraints
                .as_ref()
                .is_some_and(|c| disabled(&c.monitoring_config_overrides)))
    }
}

/// Per-column overrides of `monitoring_config`, where the SageMaker SDK writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// Whether this column's constraints are checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_constraints: Option<Toggle>,
    /// Other overrides, kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A numeric column's constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumConstraints {
    /// No value may be negative.
    pub is_non_negative: bool,
    /// This column's overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_config_overrides: Option<Overrides>,
}

/// A text column's constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringConstraints {
    /// The values seen in the baseline.
    pub domains: Vec<String>,
    /// This column's overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_config_overrides: Option<Overrides>,
}

/// `Enabled` or `Disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Toggle {
    /// On.
    Enabled,
    /// Off.
    Disabled,
}

/// How numeric distributions are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparisonMethod {
    /// Drift when the Kolmogorov-Smirnov distance passes the threshold.
    Simple,
    /// Drift when the distance passes the threshold and the KS test finds it significant
    /// at 5 % (large enough and not noise of a small sample).
    Robust,
}

/// How categorical distributions are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CategoricalDriftMethod {
    /// Drift when the largest difference of a value's share passes the threshold.
    LInfinity,
    /// Drift when the chi-square test's p-value is under the threshold.
    ChiSquared,
}

/// The thresholds of the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringConfig {
    /// Whether constraints are checked.
    pub evaluate_constraints: Toggle,
    /// Whether metrics are emitted (kept for Model Monitor).
    pub emit_metrics: Toggle,
    /// The share of a numeric column's present values that must be numbers of its type.
    pub datatype_check_threshold: f64,
    /// The share of a text column's present values that must be in its domain.
    pub domain_content_threshold: f64,
    /// The drift check.
    pub distribution_constraints: DistributionConstraints,
}

/// The drift check's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionConstraints {
    /// Whether distributions are compared.
    pub perform_comparison: Toggle,
    /// Numbers: the Kolmogorov-Smirnov distance past which a column has drifted.
    pub comparison_threshold: f64,
    /// Numbers: Simple or Robust.
    pub comparison_method: ComparisonMethod,
    /// Categories: the threshold of the categorical method.
    pub categorical_comparison_threshold: f64,
    /// Categories: LInfinity or ChiSquared.
    pub categorical_drift_method: CategoricalDriftMethod,
}

impl Default for MonitoringConfig {
    /// Model Monitor's defaults.
    fn default() -> Self {
        MonitoringConfig {
            evaluate_constraints: Toggle::Enabled,
            emit_metrics: Toggle::Enabled,
            datatype_check_threshold: 1.0,
            domain_content_threshold: 1.0,
            distribution_constraints: DistributionConstraints {
                perform_comparison: Toggle::Enabled,
                comparison_threshold: 0.1,
                comparison_method: ComparisonMethod::Robust,
                categorical_comparison_threshold: 0.1,
                categorical_drift_method: CategoricalDriftMethod::LInfinity,
            },
        }
    }
}

/// A column's values as read for monitoring.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// A numeric column: each value a number, missing, or text that is not a number.
    Numbers {
        /// The numbers (missing and unreadable values are `None`).
        values: Vec<Option<f64>>,
        /// Present values that were not numbers (a data-type violation).
        not_numbers: u64,
    },
    /// A categorical column: each value's count, and the missing values.
    Categories {
        /// Each present value (as text) and how often it occurs.
        counts: BTreeMap<String, u64>,
        /// Values missing.
        missing: u64,
    },
}

impl Values {
    /// The present numbers, or nothing for text.
    pub fn numbers(&self) -> Vec<f64> {
        match self {
            Values::Numbers { values, .. } => values.iter().flatten().copied().collect(),
            Values::Categories { .. } => Vec::new(),
        }
    }

    /// Each present value's count (categorical columns; empty for numbers).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        match self {
            Values::Categories { counts, .. } => counts.clone(),
            Values::Numbers { .. } => BTreeMap::new(),
        }
    }

    /// Values present, missing.
    pub fn common(&self) -> Common {
        let (present, len) = match self {
            Values::Numbers {
                values,
                not_numbers,
            } => (
                values.iter().flatten().count() as u64 + not_numbers,
                values.len() as u64,
            ),
            Values::Categories { counts, missing } => {
                let present: u64 = counts.values().sum();
                (present, present + missing)
            }
        };
        Common {
            num_present: present,
            num_missing: len - present,
        }
    }
}

/// A column as text: polars' text of each value, empty text missing.
pub fn column_text(column: &Column) -> Result<Vec<Option<String>>> {
    let name = column.name().to_string();
    let s = column
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{name}` as text"), e))?;
    let ca = s
        .str()
        .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
    Ok(ca
        .iter()
        .map(|v| v.filter(|t| !t.trim().is_empty()).map(str::to_string))
        .collect())
}

/// A column's values: numbers for a `numeric` column (text that is not a number counted, not
/// an error: captured traffic may hold anything), each value's count otherwise (as text;
/// empty text is missing).
pub fn column_values(column: &Column, numeric: bool) -> Result<Values> {
    let name = column.name().to_string();
    if !numeric {
        let s = column
            .cast(&DataType::String)
            .map_err(|e| Error::polars(format!("column `{name}` as text"), e))?;
        let ca = s
            .str()
            .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
        // Counted by reference first: a million values cost no allocation each.
        let mut seen: polars::prelude::PlHashMap<&str, u64> = Default::default();
        let mut missing = 0;
        for v in ca.iter() {
            match v.filter(|t| !t.trim().is_empty()) {
                Some(t) => *seen.entry(t).or_insert(0) += 1,
                None => missing += 1,
            }
        }
        return Ok(Values::Categories {
            counts: seen.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
            missing,
        });
    }
    if column.dtype() == &DataType::String {
        let ca = column
            .str()
            .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
        let mut not_numbers = 0;
        let values = ca
            .iter()
            .map(|v| match v.map(str::trim).filter(|t| !t.is_empty()) {
                None => None,
                Some(t) => match crate::codec::number::parse_field(t) {
                    crate::codec::number::Field::Number(x) => Some(x),
                    _ => {
                        not_numbers += 1;
                        None
                    }
                },
            })
            .collect();
        return Ok(Values::Numbers {
            values,
            not_numbers,
        });
    }
    let values = crate::data::numeric_values(column)?;
    Ok(Values::Numbers {
        values,
        not_numbers: 0,
    })
}

/// The statistics of one column.
pub fn feature_statistics(name: &str, values: &Values) -> FeatureStatistics {
    match values {
        Values::Numbers { .. } => {
            let mut xs = values.numbers();
            xs.sort_unstable_by(f64::total_cmp);
            numeric_feature_statistics(name, values.common(), &xs)
        }
        Values::Categories { .. } => categorical_feature_statistics(name, values),
    }
}

/// The statistics of a numeric column whose present values, `xs`, are sorted.
pub(crate) fn numeric_feature_statistics(
    name: &str,
    common: Common,
    xs: &[f64],
) -> FeatureStatistics {
    if xs.is_empty() {
        return FeatureStatistics {
            name: name.to_string(),
            inferred_type: InferredType::Unknown,
            numerical_statistics: None,
            string_statistics: None,
        };
    }
    let n = xs.len() as f64;
    let sum: f64 = xs.iter().sum();
    let mean = sum / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let (min, max) = (xs[0], xs[xs.len() - 1]);
    let integral = xs.iter().all(|x| x.fract() == 0.0);
    FeatureStatistics {
        name: name.to_string(),
        inferred_type: if integral {
            InferredType::Integral
        } else {
            InferredType::Fractional
        },
        numerical_statistics: Some(NumericalStatistics {
            common,
            mean,
            sum,
            std_dev: var.sqrt(),
            min,
            max,
            distribution: NumericalDistribution {
                kll: Kll {
                    buckets: buckets(xs, 10),
                    sketch: kll_sketch(xs, KLL_K),
                },
            },
        }),
        string_statistics: None,
    }
}

/// The statistics of a categorical column.
fn categorical_feature_statistics(name: &str, values: &Values) -> FeatureStatistics {
    let common = values.common();
    match values {
        Values::Numbers { .. } => unreachable!("a numeric column's statistics are numbers'"),
        Values::Categories { counts, .. } => {
            let mut buckets: Vec<CategoricalBucket> = counts
                .iter()
                .map(|(v, &c)| CategoricalBucket {
                    value: v.clone(),
                    count: c as f64,
                })
                .collect();
            buckets.sort_by(|a, b| b.count.total_cmp(&a.count).then(a.value.cmp(&b.value)));
            FeatureStatistics {
                name: name.to_string(),
                inferred_type: if counts.is_empty() {
                    InferredType::Unknown
                } else {
                    InferredType::String
                },
                numerical_statistics: None,
                string_statistics: Some(StringStatistics {
                    common,
                    distinct_count: counts.len() as f64,
                    distribution: StringDistribution {
                        categorical: CategoricalBuckets { buckets },
                    },
                }),
            }
        }
    }
}

/// `n` equal-width buckets of sorted values between their minimum and maximum (the last
/// includes the maximum).
fn buckets(sorted: &[f64], n: usize) -> Vec<KllBucket> {
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    let width = (max - min) / n as f64;
    let mut out: Vec<KllBucket> = (0..n)
        .map(|i| KllBucket {
            lower_bound: min + width * i as f64,
            upper_bound: if i + 1 == n {
                max
            } else {
                min + width * (i + 1) as f64
            },
            count: 0.0,
        })
        .collect();
    for &x in sorted {
        let i = if width > 0.0 {
            (((x - min) / width) as usize).min(n - 1)
        } else {
            0
        };
        out[i].count += 1.0;
    }
    out
}

/// A KLL sketch of sorted values as compaction leaves it: the values at level `h`
/// (every `2^h`-th value, from the middle of each run of `2^h`), with `h` the lowest level
/// that holds at most `k` of them, and the remainder that does not fill a run at level 0.
/// The weights add up to the count exactly.
fn kll_sketch(sorted: &[f64], k: usize) -> KllSketch {
    let n = sorted.len();
    let mut h = 0u32;
    while n >> h > k {
        h += 1;
    }
    let step = 1usize << h;
    let runs = n / step;
    let mut data: Vec<Vec<f64>> = vec![Vec::new(); h as usize + 1];
    data[h as usize] = (0..runs).map(|r| sorted[r * step + step / 2]).collect();
    if h > 0 {
        data[0] = sorted[runs * step..].to_vec();
    }
    KllSketch {
        parameters: KllParameters {
            c: 0.64,
            k: k as f64,
        },
        data,
    }
}

/// Suggest constraints from statistics, as Model Monitor's baselining job does.
pub fn suggest_constraints(statistics: &Statistics) -> Constraints {
    let features = statistics
        .features
        .iter()
        .map(|f| {
            let common = f
                .numerical_statistics
                .as_ref()
                .map(|s| s.common)
                .or(f.string_statistics.as_ref().map(|s| s.common));
            let completeness = common.map_or(0.0, |c| {
                let total = c.num_present + c.num_missing;
                if total == 0 {
                    0.0
                } else {
                    c.num_present as f64 / total as f64
                }
            });
            FeatureConstraints {
                name: f.name.clone(),
                inferred_type: f.inferred_type,
                completeness,
                num_constraints: f.numerical_statistics.as_ref().map(|s| NumConstraints {
                    is_non_negative: s.min >= 0.0,
                    monitoring_config_overrides: None,
                }),
                string_constraints: f
                    .string_statistics
                    .as_ref()
                    .filter(|s| s.distinct_count as usize <= MAX_DOMAIN)
                    .map(|s| {
                        let mut domains: Vec<String> = s
                            .distribution
                            .categorical
                            .buckets
                            .iter()
                            .map(|b| b.value.clone())
                            .collect();
                        domains.sort();
                        StringConstraints {
                            domains,
                            monitoring_config_overrides: None,
                        }
                    }),
            }
        })
        .collect();
    Constraints {
        version: 0,
        features,
        monitoring_config: MonitoringConfig::default(),
    }
}

/// The statistics of `columns` of `df` (`(name, numeric)` pairs).
pub fn statistics(df: &DataFrame, columns: &[(String, bool)]) -> Result<Statistics> {
    let mut features = Vec::with_capacity(columns.len());
    for (name, numeric) in columns {
        let column = df.column(name).map_err(|_| Error::MissingColumns {
            columns: vec![name.clone()],
        })?;
        features.push(feature_statistics(name, &column_values(column, *numeric)?));
    }
    Ok(Statistics {
        version: 0,
        dataset: DatasetStatistics {
            item_count: df.height() as u64,
        },
        features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_counts_moments_buckets_and_an_exact_weight_sketch() {
        let values = Values::Numbers {
            values: vec![Some(1.0), None, Some(3.0), Some(2.0), Some(10.0)],
            not_numbers: 0,
        };
        let f = feature_statistics("x", &values);
        assert_eq!(f.inferred_type, InferredType::Integral);
        let s = f.numerical_statistics.unwrap();
        assert_eq!(s.common.num_present, 4);
        assert_eq!(s.common.num_missing, 1);
        assert_eq!(s.sum, 16.0);
        assert_eq!(s.mean, 4.0);
        assert!((s.std_dev - (12.5f64).sqrt()).abs() < 1e-12);
        let b = &s.distribution.kll.buckets;
        assert_eq!(b.len(), 10);
        assert_eq!(b[0].count, 1.0); // 1.0
        assert_eq!(b[1].count, 1.0); // 2.0 (width 0.9)
        assert_eq!(b[2].count, 1.0); // 3.0
        assert_eq!(b[9].count, 1.0); // 10.0, the maximum, in the last
        assert_eq!(b.iter().map(|b| b.count).sum::<f64>(), 4.0);
        let sorted: Vec<f64> = (0..10_000).map(f64::from).collect();
        let sketch = kll_sketch(&sorted, 2048);
        let weight: usize = sketch
            .data
            .iter()
            .enumerate()
            .map(|(h, d)| d.len() << h)
            .sum();
        assert_eq!(weight, 10_000);
        assert!(sketch.data.iter().all(|d| d.len() <= 2048));
    }

    #[test]
    fn text_gets_value_counts_and_a_domain() {
        let values = Values::Categories {
            counts: BTreeMap::from([("a".to_string(), 1), ("b".to_string(), 2)]),
            missing: 1,
        };
        let stats = Statistics {
            version: 0,
            dataset: DatasetStatistics { item_count: 4 },
            features: vec![feature_statistics("c", &values)],
        };
        let s = stats.features[0].string_statistics.as_ref().unwrap();
        assert_eq!(s.distinct_count, 2.0);
        assert_eq!(s.distribution.categorical.buckets[0].value, "b");
        let c = suggest_constraints(&stats);
        assert_eq!(c.features[0].completeness, 0.75);
        assert_eq!(
            c.features[0].string_constraints.as_ref().unwrap().domains,
            ["a", "b"]
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json["monitoring_config"]["distribution_constraints"]["comparison_method"],
            "Robust"
        );
        assert_eq!(json["features"][0]["inferred_type"], "String");
    }
}
