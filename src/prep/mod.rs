//! Turn raw customer columns into model features, and write SageMaker's CSV.
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

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::FeatureMatrix;
use crate::error::{Error, Result};

pub mod sketch;
mod statistics;

pub use statistics::{ColumnStatistics, FitStatistics};

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
        Self::fit_rows(df, None, options)
    }

    /// Fit on the rows `rows` of `df` (every row when `None`): the training split of a loaded
    /// table, without copying it. The same result as [`Preprocessor::fit`] on those rows.
    /// Columns are fitted in parallel.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use purchase_predict::prep::{Preprocessor, PrepOptions};
    /// let df = df!("age" => [30.0, 40.0, 90.0], "job" => ["a", "b", "c"])?;
    /// let pre = Preprocessor::fit_rows(&df, Some(&[0, 1]), &PrepOptions::default())?;
    /// assert_eq!(pre.feature_names, ["age", "job_a", "job_b"]); // `c` is in row 2 only
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_rows(df: &DataFrame, rows: Option<&[usize]>, options: &PrepOptions) -> Result<Self> {
        use rayon::prelude::*;
        check_overrides(df, options)?;
        check_rows(df, rows)?;
        if rows.map_or(df.height(), <[usize]>::len) == 0 {
            return Err(Error::Shape("cannot fit a preprocessor on 0 rows".into()));
        }
        let mask = rows.map(|rows| {
            let mut m = vec![false; df.height()];
            for &i in rows {
                m[i] = true;
            }
            m
        });
        let mask = mask.as_deref();
        let fitted: Vec<Result<ColumnTransform>> = df
            .columns()
            .par_iter()
            .map(|c| {
                let name = c.name().to_string();
                if is_numeric(c, options) {
                    fit_numeric(c, mask)
                } else {
                    Ok(ColumnTransform::Categorical {
                        name,
                        levels: fit_levels(c, mask)?,
                    })
                }
            })
            .collect();
        let columns = fitted.into_iter().collect::<Result<Vec<_>>>()?;
        let feature_names = columns.iter().flat_map(|c| c.output_names()).collect();
        Ok(Preprocessor {
            columns,
            feature_names,
        })
    }

    /// Apply to any frame that has the fitted columns (extra columns are ignored).
    pub fn transform(&self, df: &DataFrame) -> Result<FeatureMatrix> {
        self.transform_rows(df, None)
    }

    /// The rows `rows` of `df` (every row when `None`), in that order, as a feature matrix:
    /// a split of a loaded table without copying the table first. Blocks of rows are filled
    /// in parallel.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use purchase_predict::prep::{Preprocessor, PrepOptions};
    /// let df = df!("age" => [30.0, 40.0, 50.0])?;
    /// let pre = Preprocessor::fit(&df, &PrepOptions::default())?;
    /// let x = pre.transform_rows(&df, Some(&[2, 0]))?;
    /// assert_eq!(x.values, pre.transform(&df)?.take(&[2, 0]).values);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transform_rows(&self, df: &DataFrame, rows: Option<&[usize]>) -> Result<FeatureMatrix> {
        use rayon::prelude::*;
        require_columns(df, self.columns.iter().map(ColumnTransform::name))?;
        check_rows(df, rows)?;
        let nrows = rows.map_or(df.height(), <[usize]>::len);
        let ncols = self.feature_names.len();
        let sources = self
            .columns
            .iter()
            .map(|t| Source::new(t, df))
            .collect::<Result<Vec<_>>>()?;
        let mut values = vec![0f32; nrows * ncols];
        if ncols > 0 {
            values
                .par_chunks_mut(TRANSFORM_BLOCK_ROWS * ncols)
                .enumerate()
                .for_each(|(b, block)| {
                    let first = b * TRANSFORM_BLOCK_ROWS;
                    let mut offset = 0;
                    for s in &sources {
                        for (k, out) in block.chunks_mut(ncols).enumerate() {
                            let r = first + k;
                            s.put(rows.map_or(r, |rows| rows[r]), &mut out[offset..]);
                        }
                        offset += s.width();
                    }
                });
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

/// The standard deviation a column is divided by: its own, or 1 for a constant (or
/// non-finite) one, which is then left unscaled.
fn scale_of(std: f64) -> f64 {
    if std > 0.0 && std.is_finite() {
        std
    } else {
        1.0
    }
}

/// Every column of `names` is in `df`; else an error naming the absent ones.
fn require_columns<'a>(df: &DataFrame, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let missing: Vec<String> = names
        .filter(|name| df.get_column_index(name).is_none())
        .map(str::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingColumns { columns: missing })
    }
}

/// Whether `c` is fitted as a numeric column: declared so, or of a numeric type and not
/// declared categorical.
fn is_numeric(c: &Column, options: &PrepOptions) -> bool {
    let name = c.name().as_str();
    if options.categorical.iter().any(|n| n == name) {
        false
    } else {
        options.numeric.iter().any(|n| n == name) || c.dtype().is_primitive_numeric()
    }
}

/// Every column `options` declares is in `df`.
fn check_overrides(df: &DataFrame, options: &PrepOptions) -> Result<()> {
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
    Ok(())
}

/// Rows a matrix block holds in [`Preprocessor::transform_rows`].
const TRANSFORM_BLOCK_ROWS: usize = 1024;

fn check_rows(df: &DataFrame, rows: Option<&[usize]>) -> Result<()> {
    match rows.and_then(|r| r.iter().find(|&&i| i >= df.height())) {
        Some(i) => Err(Error::Shape(format!(
            "row {i} asked for, but the frame has {} rows",
            df.height()
        ))),
        None => Ok(()),
    }
}

fn fit_numeric(c: &Column, mask: Option<&[bool]>) -> Result<ColumnTransform> {
    let chosen = |i: usize| mask.is_none_or(|m| m[i]);
    let n_rows = mask.map_or(c.len(), |m| m.iter().filter(|&&b| b).count());
    let mut present: Vec<f64> = if c.dtype() == &DataType::Float64 {
        // The loader's numeric columns: read in place.
        let ca = c
            .f64()
            .map_err(|e| Error::polars(format!("column `{}`", c.name()), e))?;
        ca.iter()
            .enumerate()
            .filter(|&(i, _)| chosen(i))
            .filter_map(|(_, v)| v.filter(|x| x.is_finite()))
            .collect()
    } else {
        numeric_values(c)?
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| chosen(i))
            .filter_map(|(_, v)| v)
            .collect()
    };
    let n_missing = n_rows - present.len();
    // Equal values are the same bits under total_cmp: an unstable sort gives the same order.
    present.sort_unstable_by(f64::total_cmp);
    let median = match present.len() {
        0 => 0.0,
        n if n % 2 == 1 => present[n / 2],
        n => (present[n / 2 - 1] + present[n / 2]) / 2.0,
    };
    // Mean and std of the imputed column, as an impute-then-scale pipeline sees it.
    let n = n_rows as f64;
    let sum = present.iter().sum::<f64>() + median * n_missing as f64;
    let mean = sum / n;
    let ss = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        + (median - mean).powi(2) * n_missing as f64;
    let std = (ss / n).sqrt();
    Ok(ColumnTransform::Numeric {
        name: c.name().to_string(),
        median,
        mean,
        std: scale_of(std),
        missing_indicator: n_missing > 0,
    })
}

/// The sorted levels of a categorical column among the chosen rows.
fn fit_levels(c: &Column, mask: Option<&[bool]>) -> Result<Vec<String>> {
    let s = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
    let ca = s.str().map_err(|e| Error::polars("categorical", e))?;
    let mut seen: PlHashSet<&str> = PlHashSet::default();
    for (i, v) in ca.iter().enumerate() {
        if mask.is_none_or(|m| m[i]) {
            seen.insert(v.unwrap_or(MISSING_LEVEL));
        }
    }
    let mut levels: Vec<String> = seen.into_iter().map(str::to_string).collect();
    levels.sort();
    Ok(levels)
}

/// How a numeric value becomes its feature column(s).
struct Scale {
    median: f64,
    mean: f64,
    std: f64,
    indicator: bool,
}

impl Scale {
    fn put(&self, v: Option<f64>, out: &mut [f32]) {
        let x = v.unwrap_or(self.median);
        out[0] = ((x - self.mean) / self.std) as f32;
        if self.indicator {
            out[1] = if v.is_none() { 1.0 } else { 0.0 };
        }
    }
}

/// One input column as [`Preprocessor::transform_rows`] reads it: by row, from one chunk.
enum Source<'a> {
    Float(std::borrow::Cow<'a, Float64Chunked>, Scale),
    Int(std::borrow::Cow<'a, Int64Chunked>, Scale),
    /// Text declared numeric, parsed once (an unparseable value is an error naming its row).
    Parsed(Vec<Option<f64>>, Scale),
    Text(
        std::borrow::Cow<'a, StringChunked>,
        PlHashMap<&'a str, usize>,
    ),
}

impl<'a> Source<'a> {
    fn new(t: &'a ColumnTransform, df: &'a DataFrame) -> Result<Self> {
        let col = df.column(t.name()).map_err(|_| Error::MissingColumns {
            columns: vec![t.name().to_string()],
        })?;
        let context = || format!("column `{}`", t.name());
        Ok(match t {
            ColumnTransform::Numeric {
                median,
                mean,
                std,
                missing_indicator,
                ..
            } => {
                let scale = Scale {
                    median: *median,
                    mean: *mean,
                    std: *std,
                    indicator: *missing_indicator,
                };
                match col.dtype() {
                    DataType::Float64 => Source::Float(
                        col.f64()
                            .map_err(|e| Error::polars(context(), e))?
                            .rechunk(),
                        scale,
                    ),
                    DataType::Int64 => Source::Int(
                        col.i64()
                            .map_err(|e| Error::polars(context(), e))?
                            .rechunk(),
                        scale,
                    ),
                    DataType::String => Source::Parsed(numeric_values(col)?, scale),
                    _ => {
                        let s = col
                            .cast(&DataType::Float64)
                            .map_err(|e| Error::polars(format!("{} as number", context()), e))?;
                        let ca = s.f64().map_err(|e| Error::polars(context(), e))?;
                        Source::Float(std::borrow::Cow::Owned(ca.rechunk().into_owned()), scale)
                    }
                }
            }
            ColumnTransform::Categorical { levels, .. } => {
                let index = levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i))
                    .collect();
                let ca = if col.dtype() == &DataType::String {
                    col.str()
                        .map_err(|e| Error::polars(context(), e))?
                        .rechunk()
                } else {
                    let s = col
                        .cast(&DataType::String)
                        .map_err(|e| Error::polars(context(), e))?;
                    let ca = s.str().map_err(|e| Error::polars("transform", e))?;
                    std::borrow::Cow::Owned(ca.rechunk().into_owned())
                };
                Source::Text(ca, index)
            }
        })
    }

    /// Feature columns this input column fills.
    fn width(&self) -> usize {
        match self {
            Source::Float(_, s) | Source::Int(_, s) | Source::Parsed(_, s) => {
                1 + usize::from(s.indicator)
            }
            Source::Text(_, index) => index.len(),
        }
    }

    /// Fill this column's features of input row `i` at the start of `out` (zeros already).
    fn put(&self, i: usize, out: &mut [f32]) {
        match self {
            Source::Float(ca, s) => s.put(ca.get(i).filter(|x| x.is_finite()), out),
            Source::Int(ca, s) => s.put(ca.get(i).map(|x| x as f64), out),
            Source::Parsed(v, s) => s.put(v[i], out),
            Source::Text(ca, index) => {
                if let Some(&j) = index.get(ca.get(i).unwrap_or(MISSING_LEVEL)) {
                    out[j] = 1.0;
                }
            }
        }
    }
}

/// A column's values as numbers (stage 1's reading, used here to fit and transform).
pub use crate::data::numeric_values;

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
    fn rows_of_a_frame_fit_and_transform_as_the_frame_of_those_rows() {
        let df = df!(
            "age" => [Some(30.0), None, Some(50.0), Some(40.0), None, Some(f64::NAN)],
            "n" => [1i64, 7, 3, 2, 9, 4],
            "flag" => [true, false, true, true, false, false],
            "job" => [Some("a"), Some("b"), None, Some("a"), Some("c"), Some("b")],
        )
        .unwrap();
        let rows = [1usize, 2, 4, 5];
        let idx = IdxCa::from_vec("i".into(), rows.iter().map(|&i| i as IdxSize).collect());
        let taken = df.take(&idx).unwrap();
        let options = PrepOptions::default();
        let pre = Preprocessor::fit_rows(&df, Some(&rows), &options).unwrap();
        assert_eq!(pre, Preprocessor::fit(&taken, &options).unwrap());
        // `a` is only in rows left out: it is no level.
        assert_eq!(pre.feature_groups().last().unwrap().1.len(), 3);
        let x = pre.transform_rows(&df, Some(&[5, 0, 3])).unwrap();
        assert_eq!(
            x.values,
            pre.transform(&df).unwrap().take(&[5, 0, 3]).values
        );
        assert_eq!(x.nrows, 3);
        let e = pre.transform_rows(&df, Some(&[6])).unwrap_err().to_string();
        assert!(e.contains("row 6") && e.contains("6 rows"), "{e}");
        // More rows than one parallel block, with the row order reversed.
        let n = 3 * TRANSFORM_BLOCK_ROWS + 5;
        let big = df!(
            "v" => (0..n).map(|i| (i % 97) as f64).collect::<Vec<_>>(),
            "c" => (0..n).map(|i| ["x", "y", "z"][i % 3]).collect::<Vec<_>>(),
        )
        .unwrap();
        let pre = Preprocessor::fit(&big, &options).unwrap();
        let all = pre.transform(&big).unwrap();
        let rev: Vec<usize> = (0..n).rev().collect();
        assert_eq!(
            pre.transform_rows(&big, Some(&rev)).unwrap().values,
            all.take(&rev).values
        );
        assert_eq!(all.row(4), &[all.row(4)[0], 0.0, 1.0, 0.0][..]);
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
