//! What fitting a [`Preprocessor`] needs, gathered batch by batch and mergeable: the
//! statistics of a table too large to hold, or of the shards of several processes or hosts.
//!
//! Per numeric column: the count of present and missing values, their mean and sum of
//! squared deviations (merged with Chan's formula, the stable form of "sums and sums of
//! squares"), and a [`KllSketch`] for the median. Per categorical column: each level's count.
//! [`FitStatistics::merge`] of the statistics of two sets of rows is the statistics of both,
//! in any order and grouping; [`FitStatistics::preprocessor`] is then the preprocessor
//! [`Preprocessor::fit_rows`] fits on those rows, except that each median is the sketch's
//! (its rank within [`FitStatistics::median_rank_error`] of 50 %). The means and standard
//! deviations are those of the imputed column, as `fit_rows` computes them, so they move
//! with the median only where values are missing.
//!
//! The statistics are plain serde values: a host sends its own as JSON and the first host
//! merges them.
//!
//! ```
//! use polars::prelude::*;
//! use purchase_predict::prep::{FitStatistics, PrepOptions, Preprocessor};
//! let a = df!("age" => [30.0, 40.0], "job" => ["a", "b"])?;
//! let b = df!("age" => [50.0, 60.0], "job" => ["b", "c"])?;
//! let options = PrepOptions::default();
//! let mut stats = FitStatistics::new(&a, &options)?;
//! stats.observe(&a, None)?;
//! let mut other = FitStatistics::new(&b, &options)?;
//! other.observe(&b, None)?;
//! stats.merge(&other)?;
//! let whole = a.vstack(&b)?;
//! assert_eq!(stats.preprocessor()?, Preprocessor::fit(&whole, &options)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::sketch::KllSketch;
use super::{
    check_overrides, is_numeric, require_columns, ColumnTransform, PrepOptions, Preprocessor,
};
use super::{numeric_values, scale_of, MISSING_LEVEL};
use crate::error::{Error, Result};

/// The statistics of one input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnStatistics {
    /// A numeric column (non-finite values count as missing).
    Numeric {
        name: String,
        present: u64,
        missing: u64,
        /// Mean of the present values.
        mean: f64,
        /// Sum of the present values' squared deviations from their mean.
        m2: f64,
        sketch: KllSketch,
    },
    /// A categorical column: each level's count (a missing value is the level `missing`).
    Categorical {
        name: String,
        counts: BTreeMap<String, u64>,
    },
}

impl ColumnStatistics {
    /// The input column's name.
    pub fn name(&self) -> &str {
        match self {
            ColumnStatistics::Numeric { name, .. } | ColumnStatistics::Categorical { name, .. } => {
                name
            }
        }
    }
}

/// Mergeable statistics of the rows seen so far, one entry per input column in the input's
/// order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitStatistics {
    /// Rows observed.
    pub rows: u64,
    pub columns: Vec<ColumnStatistics>,
}

impl FitStatistics {
    /// Empty statistics for the columns of `df` (a first batch: its column types decide which
    /// columns are numeric, as [`Preprocessor::fit_rows`] decides).
    pub fn new(df: &DataFrame, options: &PrepOptions) -> Result<Self> {
        check_overrides(df, options)?;
        let columns = df
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = c.name().to_string();
                if is_numeric(c, options) {
                    ColumnStatistics::Numeric {
                        name,
                        present: 0,
                        missing: 0,
                        mean: 0.0,
                        m2: 0.0,
                        sketch: KllSketch::new(i as u64),
                    }
                } else {
                    ColumnStatistics::Categorical {
                        name,
                        counts: BTreeMap::new(),
                    }
                }
            })
            .collect();
        Ok(FitStatistics { rows: 0, columns })
    }

    /// Add the rows `rows` of `df` (every row when `None`). `df` must have the columns these
    /// statistics were made for (extra columns are ignored). Columns are read in parallel.
    pub fn observe(&mut self, df: &DataFrame, rows: Option<&[usize]>) -> Result<()> {
        use rayon::prelude::*;
        require_columns(df, self.columns.iter().map(ColumnStatistics::name))?;
        if let Some(i) = rows.and_then(|r| r.iter().find(|&&i| i >= df.height())) {
            return Err(Error::Shape(format!(
                "row {i} asked for, but the batch has {} rows",
                df.height()
            )));
        }
        self.columns
            .par_iter_mut()
            .map(|stats| {
                let col = df.column(stats.name()).expect("checked above");
                observe_column(stats, col, rows)
            })
            .collect::<Result<()>>()?;
        self.rows += rows.map_or(df.height(), <[usize]>::len) as u64;
        Ok(())
    }

    /// Fold in the statistics of other rows of the same columns (another batch, process or
    /// host). Errors, naming the column, when the columns or their kinds differ.
    pub fn merge(&mut self, other: &FitStatistics) -> Result<()> {
        let names = |s: &FitStatistics| -> Vec<String> {
            s.columns.iter().map(|c| c.name().to_string()).collect()
        };
        if names(self) != names(other) {
            return Err(Error::Shape(format!(
                "statistics of different columns cannot be merged: {:?} and {:?}",
                names(self),
                names(other)
            )));
        }
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            match (a, b) {
                (
                    ColumnStatistics::Numeric {
                        present,
                        missing,
                        mean,
                        m2,
                        sketch,
                        ..
                    },
                    ColumnStatistics::Numeric {
                        present: p2,
                        missing: miss2,
                        mean: mean2,
                        m2: m22,
                        sketch: s2,
                        ..
                    },
                ) => {
                    (*mean, *m2) = combine((*present, *mean, *m2), (*p2, *mean2, *m22));
                    *present += p2;
                    *missing += miss2;
                    sketch.merge(s2);
                }
                (
                    ColumnStatistics::Categorical { counts, .. },
                    ColumnStatistics::Categorical { counts: c2, .. },
                ) => {
                    for (level, n) in c2 {
                        *counts.entry(level.clone()).or_insert(0) += n;
                    }
                }
                (a, _) => {
                    return Err(Error::Shape(format!(
                        "column `{}` is numeric in one set of statistics and categorical in \
                         the other: declare it (numeric or categorical) for every part",
                        a.name()
                    )))
                }
            }
        }
        self.rows += other.rows;
        Ok(())
    }

    /// The largest rank error of a median (0 when every median is exact): a median's rank
    /// among its column's present values is within this of 50 %.
    pub fn median_rank_error(&self) -> f64 {
        self.columns
            .iter()
            .map(|c| match c {
                ColumnStatistics::Numeric { sketch, .. } => sketch.rank_error(),
                ColumnStatistics::Categorical { .. } => 0.0,
            })
            .fold(0.0, f64::max)
    }

    /// The preprocessor these statistics fit.
    pub fn preprocessor(&self) -> Result<Preprocessor> {
        if self.rows == 0 {
            return Err(Error::Shape("cannot fit a preprocessor on 0 rows".into()));
        }
        let columns: Vec<ColumnTransform> = self
            .columns
            .iter()
            .map(|c| match c {
                ColumnStatistics::Numeric {
                    name,
                    present,
                    missing,
                    mean,
                    m2,
                    sketch,
                } => {
                    let median = sketch.quantile(0.5).unwrap_or(0.0);
                    // The imputed column: the present values and `missing` copies of the median.
                    let (mean, m2) = combine((*present, *mean, *m2), (*missing, median, 0.0));
                    let n = (present + missing) as f64;
                    let std = (m2 / n).sqrt();
                    ColumnTransform::Numeric {
                        name: name.clone(),
                        median,
                        mean,
                        std: scale_of(std),
                        missing_indicator: *missing > 0,
                    }
                }
                ColumnStatistics::Categorical { name, counts } => ColumnTransform::Categorical {
                    name: name.clone(),
                    levels: counts.keys().cloned().collect(),
                },
            })
            .collect();
        let feature_names = columns.iter().flat_map(|c| c.output_names()).collect();
        Ok(Preprocessor {
            columns,
            feature_names,
        })
    }
}

/// Chan's parallel combination of (count, mean, sum of squared deviations).
fn combine(a: (u64, f64, f64), b: (u64, f64, f64)) -> (f64, f64) {
    let (na, ma, sa) = a;
    let (nb, mb, sb) = b;
    if nb == 0 {
        return (ma, sa);
    }
    if na == 0 {
        return (mb, sb);
    }
    let n = (na + nb) as f64;
    let delta = mb - ma;
    let mean = ma + delta * nb as f64 / n;
    (mean, sa + sb + delta * delta * na as f64 * nb as f64 / n)
}

fn observe_column(
    stats: &mut ColumnStatistics,
    col: &Column,
    rows: Option<&[usize]>,
) -> Result<()> {
    let context = || format!("column `{}`", col.name());
    match stats {
        ColumnStatistics::Numeric {
            present,
            missing,
            mean,
            m2,
            sketch,
            ..
        } => {
            let values: Vec<Option<f64>> = match col.dtype() {
                DataType::Float64 => col
                    .f64()
                    .map_err(|e| Error::polars(context(), e))?
                    .iter()
                    .collect(),
                DataType::String => numeric_values(col)?,
                _ => {
                    let s = col
                        .cast(&DataType::Float64)
                        .map_err(|e| Error::polars(format!("{} as number", context()), e))?;
                    s.f64()
                        .map_err(|e| Error::polars(context(), e))?
                        .iter()
                        .collect()
                }
            };
            let mut add = |v: Option<f64>| match v.filter(|x| x.is_finite()) {
                Some(x) => {
                    // Welford's update, one value at a time.
                    *present += 1;
                    let delta = x - *mean;
                    *mean += delta / *present as f64;
                    *m2 += delta * (x - *mean);
                    sketch.update(x);
                }
                None => *missing += 1,
            };
            match rows {
                Some(rows) => rows.iter().for_each(|&i| add(values[i])),
                None => values.into_iter().for_each(add),
            }
        }
        ColumnStatistics::Categorical { counts, .. } => {
            let s = col
                .cast(&DataType::String)
                .map_err(|e| Error::polars(format!("{} as text", context()), e))?;
            let ca = s.str().map_err(|e| Error::polars(context(), e))?;
            // Count in a hash map, then fold the few levels into the sorted map.
            let mut seen: PlHashMap<&str, u64> = PlHashMap::default();
            match rows {
                Some(rows) => {
                    for &i in rows {
                        *seen.entry(ca.get(i).unwrap_or(MISSING_LEVEL)).or_insert(0) += 1;
                    }
                }
                None => {
                    for v in ca.iter() {
                        *seen.entry(v.unwrap_or(MISSING_LEVEL)).or_insert(0) += 1;
                    }
                }
            }
            for (level, n) in seen {
                *counts.entry(level.to_string()).or_insert(0) += n;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::random::Rng;

    fn table(n: usize, seed: u64) -> DataFrame {
        let mut rng = Rng::new(seed);
        let age: Vec<Option<f64>> = (0..n)
            .map(|_| (!rng.bernoulli(0.1)).then(|| (30.0 + 10.0 * rng.normal()).round()))
            .collect();
        let income: Vec<i64> = (0..n).map(|_| (rng.uniform() * 1e5) as i64).collect();
        let job: Vec<Option<&str>> = (0..n)
            .map(|_| ["a", "b", "c"].get(rng.below(4)).copied())
            .collect();
        df!("age" => age, "income" => income, "job" => job).unwrap()
    }

    fn stats_of(df: &DataFrame, rows: Option<&[usize]>) -> FitStatistics {
        let mut s = FitStatistics::new(df, &PrepOptions::default()).unwrap();
        s.observe(df, rows).unwrap();
        s
    }

    #[test]
    fn batches_merged_fit_what_the_whole_table_fits() {
        // Below the sketch's k every median is exact: the two preprocessors are equal but
        // for float rounding in the means and deviations.
        let df = table(1_500, 1);
        let rows: Vec<usize> = (0..1_500).filter(|i| i % 3 != 0).collect();
        let whole = Preprocessor::fit_rows(&df, Some(&rows), &PrepOptions::default()).unwrap();
        let mut merged = stats_of(&df.slice(0, 0), None);
        for start in (0..1_500).step_by(400) {
            let batch = df.slice(start as i64, 400);
            let local: Vec<usize> = rows
                .iter()
                .filter(|&&i| (start..start + 400).contains(&i))
                .map(|&i| i - start)
                .collect();
            merged.merge(&stats_of(&batch, Some(&local))).unwrap();
        }
        assert_eq!(merged.rows, rows.len() as u64);
        let fitted = merged.preprocessor().unwrap();
        assert_eq!(fitted.feature_names, whole.feature_names);
        for (a, b) in fitted.columns.iter().zip(&whole.columns) {
            match (a, b) {
                (
                    ColumnTransform::Numeric {
                        median,
                        mean,
                        std,
                        missing_indicator,
                        ..
                    },
                    ColumnTransform::Numeric {
                        median: m2,
                        mean: mean2,
                        std: s2,
                        missing_indicator: i2,
                        ..
                    },
                ) => {
                    assert_eq!(median, m2);
                    assert!((mean - mean2).abs() <= 1e-9 * mean2.abs().max(1.0));
                    assert!((std - s2).abs() <= 1e-9 * s2);
                    assert_eq!(missing_indicator, i2);
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn large_columns_get_a_median_within_the_stated_rank_error() {
        let df = table(300_000, 2);
        let stats = stats_of(&df, None);
        let exact = Preprocessor::fit(&df, &PrepOptions::default()).unwrap();
        let fitted = stats.preprocessor().unwrap();
        let error = stats.median_rank_error();
        assert!(error > 0.0 && error < 0.002, "{error}");
        for (i, name) in ["age", "income"].iter().enumerate() {
            let ColumnTransform::Numeric { median, std, .. } = &fitted.columns[i] else {
                panic!("{name} is numeric")
            };
            let ColumnTransform::Numeric { std: exact_std, .. } = &exact.columns[i] else {
                panic!()
            };
            let mut values: Vec<f64> = numeric_values(df.column(name).unwrap())
                .unwrap()
                .into_iter()
                .flatten()
                .collect();
            values.sort_unstable_by(f64::total_cmp);
            let below = values.partition_point(|&v| v < *median) as f64;
            let upto = values.partition_point(|&v| v <= *median) as f64;
            let n = values.len() as f64;
            // The median's rank range (ties) meets 50 % ± the stated error.
            assert!(
                below / n <= 0.5 + error && upto / n >= 0.5 - error,
                "{name}"
            );
            assert!((std - exact_std).abs() <= 0.01 * exact_std, "{name}");
        }
        assert_eq!(fitted.columns[2], exact.columns[2]);
    }

    #[test]
    fn statistics_of_different_columns_or_kinds_do_not_merge() {
        let a = df!("x" => [1.0, 2.0]).unwrap();
        let b = df!("x" => ["p", "q"]).unwrap();
        let c = df!("y" => [1.0]).unwrap();
        let mut s = stats_of(&a, None);
        let err = s.merge(&stats_of(&b, None)).unwrap_err().to_string();
        assert!(err.contains("`x`") && err.contains("categorical"), "{err}");
        assert!(s.merge(&stats_of(&c, None)).is_err());
        // A host's statistics travel as JSON.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<FitStatistics>(&json).unwrap(), s);
    }
}
