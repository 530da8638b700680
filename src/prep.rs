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
use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::write_atomically;

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

/// Rows × features, row-major `f32`, as XGBoost takes them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Column names.
    pub names: Vec<String>,
    /// Number of rows.
    pub nrows: usize,
    /// `nrows * names.len()` values, row after row.
    pub values: Vec<f32>,
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
            // A scan, not polars' hashed schema cache (see `plot::column` on evcxr).
            let col = df
                .columns()
                .iter()
                .find(|c| c.name().as_str() == t.name())
                .ok_or_else(|| Error::MissingColumns {
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
            .map(|(i, v)| match v.map(str::trim) {
                None | Some("") => Ok(None),
                Some(t) => match t.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(Error::UnparseableNumeric {
                        column: name.clone(),
                        row: i + 1,
                        value: t.to_string(),
                        hint: String::new(),
                    }),
                },
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

impl FeatureMatrix {
    /// Number of feature columns.
    pub fn ncols(&self) -> usize {
        self.names.len()
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f32] {
        let n = self.ncols();
        &self.values[i * n..(i + 1) * n]
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> FeatureMatrix {
        let mut values = Vec::with_capacity(indices.len() * self.ncols());
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        FeatureMatrix {
            names: self.names.clone(),
            nrows: indices.len(),
            values,
        }
    }

    /// As a polars DataFrame (for display and inspection).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let n = self.ncols();
        let cols: Vec<Column> = self
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let v: Vec<f32> = (0..self.nrows).map(|r| self.values[r * n + j]).collect();
                Column::new(name.as_str().into(), v)
            })
            .collect();
        DataFrame::new(self.nrows, cols).map_err(|e| Error::polars("feature frame", e))
    }

    /// Read a SageMaker training CSV (label first, no header) back: the features, named
    /// `names` (or `f0`, `f1`, ... when `None`), and the 0/1 labels. Errors name the file,
    /// line and column.
    pub fn read_sagemaker_csv(
        path: impl AsRef<Path>,
        names: Option<&[String]>,
    ) -> Result<(FeatureMatrix, Vec<u8>)> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let first = text.lines().next().ok_or_else(|| Error::EmptyFile {
            path: path.to_path_buf(),
            detail: "no rows".into(),
        })?;
        let ncols = first.split(',').count();
        if ncols < 2 {
            return Err(Error::Shape(format!(
                "{}: a training CSV needs a label and at least one feature",
                path.display()
            )));
        }
        let all = crate::serve::parse_csv_rows(&text, ncols)
            .map_err(|m| Error::Shape(format!("{}: {m}", path.display())))?;
        let nrows = all.len() / ncols;
        let mut labels = Vec::with_capacity(nrows);
        let mut values = Vec::with_capacity(nrows * (ncols - 1));
        for (r, row) in all.chunks(ncols).enumerate() {
            let v = row[0];
            labels.push(if v == 0.0 {
                0
            } else if v == 1.0 {
                1
            } else {
                return Err(Error::Shape(format!(
                    "{}: line {}: label `{v}` is not 0 or 1",
                    path.display(),
                    r + 1
                )));
            });
            values.extend_from_slice(&row[1..]);
        }
        let names = match names {
            Some(n) if n.len() == ncols - 1 => n.to_vec(),
            Some(n) => {
                return Err(Error::Shape(format!(
                    "{}: {} features, but {} names were given",
                    path.display(),
                    ncols - 1,
                    n.len()
                )))
            }
            None => (0..ncols - 1).map(|j| format!("f{j}")).collect(),
        };
        Ok((
            FeatureMatrix {
                names,
                nrows,
                values,
            },
            labels,
        ))
    }

    /// Write in SageMaker's built-in XGBoost CSV format: with `labels`, the label in the
    /// first column (training and validation channels); without, features only (the
    /// inference format). No header, no index. Values are written as the shortest text that
    /// reads back to the same `f32`, so SageMaker trains on exactly the numbers used locally.
    /// The file is written atomically.
    pub fn write_sagemaker_csv(&self, path: impl AsRef<Path>, labels: Option<&[u8]>) -> Result<()> {
        let path = path.as_ref();
        if let Some(l) = labels {
            if l.len() != self.nrows {
                return Err(Error::Shape(format!(
                    "{} labels for {} rows",
                    l.len(),
                    self.nrows
                )));
            }
        }
        write_atomically(path, |w| {
            self.write_csv_rows(w, labels)
                .map_err(|e| Error::io(path, e))
        })
    }

    fn write_csv_rows(&self, w: &mut dyn Write, labels: Option<&[u8]>) -> std::io::Result<()> {
        let mut line = String::with_capacity(16 * (self.ncols() + 1));
        for r in 0..self.nrows {
            line.clear();
            if let Some(l) = labels {
                line.push(if l[r] == 1 { '1' } else { '0' });
                line.push(',');
            }
            for (j, v) in self.row(r).iter().enumerate() {
                if j > 0 {
                    line.push(',');
                }
                if v.is_finite() {
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v}");
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }
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

    #[test]
    fn sagemaker_csv_is_label_first_no_header_and_round_trips_f32() {
        let x = FeatureMatrix {
            names: vec!["a".into(), "b".into()],
            nrows: 2,
            values: vec![0.1, -1.0, 1.0 / 3.0, 2.5e-8],
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        x.write_sagemaker_csv(&p, Some(&[1, 0])).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1,0.1,-1");
        let parsed: Vec<f32> = lines[1]
            .split(',')
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(parsed, vec![1.0 / 3.0, 2.5e-8]);
        let q = dir.path().join("i.csv");
        x.write_sagemaker_csv(&q, None).unwrap();
        assert_eq!(
            std::fs::read_to_string(&q).unwrap().lines().next(),
            Some("0.1,-1")
        );
        assert!(x.write_sagemaker_csv(&q, Some(&[1])).is_err());
    }
}
