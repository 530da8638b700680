//! Stage 3: turn raw customer columns into model features, and write SageMaker's CSV.
//!
//! A [`Preprocessor`] is fitted on the training split only and then applied, unchanged, to
//! every split and later to customers at serving time. For each column it holds:
//!
//! - numeric: the median used for missing values, a `<col>_missing` indicator column when
//!   the training data had missing values, and the mean / standard deviation used to
//!   standardise (population std; a constant column is left unscaled);
//! - categorical: the sorted levels seen in training, one-hot encoded in that stored order.
//!   A missing value is the level `missing`; text such as the bank data's `unknown` stays a
//!   level of its own; a level never seen in training encodes as all zeros (never an error).
//!
//! ```no_run
//! use purchase_predict::{data, prep::{Preprocessor, PrepOptions}};
//! let ds = data::load("data/customers.csv", &data::LoadOptions::new("purchased").id("customer_id"))?;
//! let pre = Preprocessor::fit(&ds.features, &PrepOptions::default())?;
//! let x = pre.transform(&ds.features)?;
//! x.write_sagemaker_csv("out/train.csv", Some(&ds.labels))?; // label first, no header
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codec::number::{parse_field, Field};
use crate::data::FeatureMatrix;
use crate::error::{Error, Result};

/// The level that stands for a missing categorical value.
pub const MISSING_LEVEL: &str = "missing";

/// Overrides of the automatic numeric/categorical detection (numeric dtypes are numeric,
/// everything else categorical).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrepOptions {
    /// Columns to treat as numeric whatever their dtype.
    pub numeric: Vec<String>,
    /// Columns to treat as categorical whatever their dtype (for example integer codes).
    pub categorical: Vec<String>,
}

/// How one input column becomes feature columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnTransform {
    /// Impute with the median, optionally flag missing values, standardise.
    Numeric {
        name: String,
        median: f64,
        mean: f64,
        std: f64,
        missing_indicator: bool,
    },
    /// One-hot encode over the stored levels.
    Categorical { name: String, levels: Vec<String> },
}

impl ColumnTransform {
    /// The input column's name.
    pub fn name(&self) -> &str {
        match self {
            ColumnTransform::Numeric { name, .. } | ColumnTransform::Categorical { name, .. } => {
                name
            }
        }
    }

    fn output_names(&self) -> Vec<String> {
        match self {
            ColumnTransform::Numeric {
                name,
                missing_indicator,
                ..
            } => {
                let mut v = vec![name.clone()];
                if *missing_indicator {
                    v.push(format!("{name}_missing"));
                }
                v
            }
            ColumnTransform::Categorical { name, levels } => {
                levels.iter().map(|l| format!("{name}_{l}")).collect()
            }
        }
    }
}

/// A fitted preprocessing of raw columns into a dense feature matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// One transform per input column, in the input's column order.
    pub columns: Vec<ColumnTransform>,
    /// Output feature names, in the order of the matrix columns.
    pub feature_names: Vec<String>,
}

impl Preprocessor {
    /// A preprocessor that passes already-numeric features through unchanged (mean 0,
    /// std 1, no missing indicator): for models trained on prepared SageMaker CSV files.
    pub fn identity(feature_names: &[String]) -> Preprocessor {
        Preprocessor {
            columns: feature_names
                .iter()
                .map(|n| ColumnTransform::Numeric {
                    name: n.clone(),
                    median: 0.0,
                    mean: 0.0,
                    std: 1.0,
                    missing_indicator: false,
                })
                .collect(),
            feature_names: feature_names.to_vec(),
        }
    }

    /// Fit on a frame of raw feature columns (the training split).
    pub fn fit(df: &DataFrame, options: &PrepOptions) -> Result<Self> {
        for c in options.numeric.iter().chain(&options.categorical) {
            if df.get_column_index(c).is_none() {
                return Err(Error::UnknownColumn {
                    option: "preprocessor override".into(),
                    column: c.clone(),
                    available: df
                        .get_column_names()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                });
            }
        }
        if df.height() == 0 {
            return Err(Error::Shape("cannot fit a preprocessor on 0 rows".into()));
        }
        let mut columns = Vec::with_capacity(df.width());
        for c in df.columns() {
            let name = c.name().to_string();
            let numeric = if options.categorical.contains(&name) {
                false
            } else {
                options.numeric.contains(&name) || c.dtype().is_primitive_numeric()
            };
            columns.push(if numeric {
                fit_numeric(c)?
            } else {
                let mut levels: Vec<String> = category_values(c)?.into_iter().collect();
                levels.sort();
                levels.dedup();
                ColumnTransform::Categorical { name, levels }
            });
        }
        let feature_names = columns.iter().flat_map(|c| c.output_names()).collect();
        Ok(Preprocessor {
            columns,
            feature_names,
        })
    }

    /// Apply to any frame that has the fitted columns (extra columns are ignored).
    pub fn transform(&self, df: &DataFrame) -> Result<FeatureMatrix> {
        let missing: Vec<String> = self
            .columns
            .iter()
            .filter(|c| df.get_column_index(c.name()).is_none())
            .map(|c| c.name().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingColumns { columns: missing });
        }
        let nrows = df.height();
        let ncols = self.feature_names.len();
        let mut values = vec![0f32; nrows * ncols];
        let mut offset = 0;
        for t in &self.columns {
            let col = df.column(t.name()).map_err(|_| Error::MissingColumns {
                columns: vec![t.name().to_string()],
            })?;
            match t {
                ColumnTransform::Numeric {
                    median,
                    mean,
                    std,
                    missing_indicator,
                    ..
                } => {
                    for (r, v) in numeric_values(col)?.into_iter().enumerate() {
                        let x = v.unwrap_or(*median);
                        values[r * ncols + offset] = ((x - mean) / std) as f32;
                        if *missing_indicator {
                            values[r * ncols + offset + 1] = if v.is_none() { 1.0 } else { 0.0 };
                        }
                    }
                    offset += 1 + usize::from(*missing_indicator);
                }
                ColumnTransform::Categorical { levels, .. } => {
                    let index: HashMap<&str, usize> = levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.as_str(), i))
                        .collect();
                    let s = col
                        .cast(&DataType::String)
                        .map_err(|e| Error::polars(format!("column `{}`", t.name()), e))?;
                    let ca = s.str().map_err(|e| Error::polars("transform", e))?;
                    for (r, v) in ca.iter().enumerate() {
                        if let Some(&j) = index.get(v.unwrap_or(MISSING_LEVEL)) {
                            values[r * ncols + offset + j] = 1.0;
                        }
                    }
                    offset += levels.len();
                }
            }
        }
        Ok(FeatureMatrix {
            names: self.feature_names.clone(),
            nrows,
            values,
        })
    }

    /// Each input column with the range of feature columns it becomes (a numeric column and
    /// its missing-value indicator; the one-hot columns of a category), in order.
    ///
    /// ```
    /// use purchase_predict::prep::Preprocessor;
    /// let pre = Preprocessor::identity(&["a".to_string(), "b".to_string()]);
    /// assert_eq!(pre.feature_groups(), vec![("a", 0..1), ("b", 1..2)]);
    /// ```
    pub fn feature_groups(&self) -> Vec<(&str, std::ops::Range<usize>)> {
        let mut start = 0;
        self.columns
            .iter()
            .map(|c| {
                let width = match c {
                    ColumnTransform::Numeric {
                        missing_indicator, ..
                    } => 1 + usize::from(*missing_indicator),
                    ColumnTransform::Categorical { levels, .. } => levels.len(),
                };
                start += width;
                (c.name(), start - width..start)
            })
            .collect()
    }

    /// The raw input columns the preprocessor needs, in order.
    pub fn input_columns(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name()).collect()
    }

    /// Serialise to pretty JSON; [`Preprocessor::from_json`] reads it back exactly.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::json("preprocessor", e))
    }

    /// Read a preprocessor written by [`Preprocessor::to_json`].
    pub fn from_json(json: &str) -> Result<Self> {
        let p: Preprocessor =
            serde_json::from_str(json).map_err(|e| Error::json("preprocessor.json", e))?;
        let names: Vec<String> = p.columns.iter().flat_map(|c| c.output_names()).collect();
        if names != p.feature_names {
            return Err(Error::Shape(
                "preprocessor.json: feature_names do not match its columns".into(),
            ));
        }
        Ok(p)
    }
}

fn fit_numeric(c: &Column) -> Result<ColumnTransform> {
    let vals = numeric_values(c)?;
    let mut present: Vec<f64> = vals.iter().flatten().copied().collect();
    let n_missing = vals.len() - present.len();
    present.sort_by(f64::total_cmp);
    let median = match present.len() {
        0 => 0.0,
        n if n % 2 == 1 => present[n / 2],
        n => (present[n / 2 - 1] + present[n / 2]) / 2.0,
    };
    // Mean and std of the imputed column, as an impute-then-scale pipeline sees it.
    let n = vals.len() as f64;
    let sum = present.iter().sum::<f64>() + median * n_missing as f64;
    let mean = sum / n;
    let ss = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        + (median - mean).powi(2) * n_missing as f64;
    let std = (ss / n).sqrt();
    Ok(ColumnTransform::Numeric {
        name: c.name().to_string(),
        median,
        mean,
        std: if std > 0.0 && std.is_finite() {
            std
        } else {
            1.0
        },
        missing_indicator: n_missing > 0,
    })
}

/// A column's values as numbers: numeric and boolean dtypes directly, text parsed strictly
/// (an unparseable value is an error naming the column and row; empty text is missing).
pub fn numeric_values(c: &Column) -> Result<Vec<Option<f64>>> {
    let name = c.name().to_string();
    if c.dtype() == &DataType::String {
        let ca = c
            .str()
            .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
        return ca
            .iter()
            .enumerate()
            .map(|(i, v)| match v.map_or(Field::Missing, parse_field) {
                Field::Missing => Ok(None),
                Field::Number(x) => Ok(Some(x)),
                Field::Invalid => Err(Error::UnparseableNumeric {
                    column: name.clone(),
                    row: i + 1,
                    value: v.unwrap_or_default().trim().to_string(),
                    hint: String::new(),
                }),
            })
            .collect();
    }
    let s = c
        .cast(&DataType::Float64)
        .map_err(|e| Error::polars(format!("column `{name}` as number"), e))?;
    let ca = s.f64().map_err(|e| Error::polars("numeric", e))?;
    Ok(ca.iter().map(|v| v.filter(|x| x.is_finite())).collect())
}

fn category_values(c: &Column) -> Result<Vec<String>> {
    let s = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
    let ca = s.str().map_err(|e| Error::polars("categorical", e))?;
    Ok(ca
        .iter()
        .map(|v| v.unwrap_or(MISSING_LEVEL).to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df!(
            "age" => [Some(30.0), None, Some(50.0), Some(40.0)],
            "job" => [Some("admin."), Some("unknown"), None, Some("admin.")],
            "n" => [1i64, 1, 1, 1],
        )
        .unwrap()
    }

    #[test]
    fn fits_median_indicator_scaling_and_levels() {
        let pre = Preprocessor::fit(&frame(), &PrepOptions::default()).unwrap();
        assert_eq!(
            pre.feature_names,
            vec![
                "age",
                "age_missing",
                "job_admin.",
                "job_missing",
                "job_unknown",
                "n"
            ]
        );
        match &pre.columns[0] {
            ColumnTransform::Numeric {
                median, mean, std, ..
            } => {
                // imputed column: 30, 40, 50, 40
                assert_eq!(*median, 40.0);
                assert_eq!(*mean, 40.0);
                assert!((std - 50f64.sqrt()).abs() < 1e-12);
            }
            other => panic!("{other:?}"),
        }
        let x = pre.transform(&frame()).unwrap();
        assert_eq!(x.nrows, 4);
        let s = 50f32.sqrt();
        assert_eq!(x.row(1), &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(x.row(2), &[10.0 / s, 0.0, 0.0, 1.0, 0.0, 0.0]);
        // constant column: std 1, value 0 after centring
        assert_eq!(x.row(0)[5], 0.0);
    }

    #[test]
    fn unseen_levels_are_all_zero_and_missing_columns_are_named() {
        let pre = Preprocessor::fit(&frame(), &PrepOptions::default()).unwrap();
        let new = df!(
            "n" => [3i64],
            "job" => ["astronaut"],
            "age" => ["35"],
            "extra" => [1i32],
        )
        .unwrap();
        let x = pre.transform(&new).unwrap();
        assert_eq!(&x.row(0)[2..5], &[0.0, 0.0, 0.0]);
        match pre.transform(&df!("age" => [1.0]).unwrap()) {
            Err(Error::MissingColumns { columns }) => assert_eq!(columns, vec!["job", "n"]),
            other => panic!("{other:?}"),
        }
        let bad = df!("age" => ["old"], "job" => ["x"], "n" => [1i64]).unwrap();
        assert!(matches!(
            pre.transform(&bad),
            Err(Error::UnparseableNumeric { row: 1, .. })
        ));
    }

    #[test]
    fn overrides_and_json_round_trip_exactly() {
        let opts = PrepOptions {
            numeric: vec![],
            categorical: vec!["n".into()],
        };
        let pre = Preprocessor::fit(&frame(), &opts).unwrap();
        assert_eq!(pre.feature_names.last().unwrap(), "n_1");
        let json = pre.to_json().unwrap();
        let back = Preprocessor::from_json(&json).unwrap();
        assert_eq!(back, pre);
        assert_eq!(back.to_json().unwrap(), json);
        let a = pre.transform(&frame()).unwrap();
        let b = back.transform(&frame()).unwrap();
        assert_eq!(a, b);
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        a.write_sagemaker_csv(&p1, Some(&[1, 0, 0, 1])).unwrap();
        b.write_sagemaker_csv(&p2, Some(&[1, 0, 0, 1])).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
    }
}
