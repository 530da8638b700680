//! What an exploration notebook asks of a table before any model: a summary of every column
//! with percentiles ([`describe`]), value counts of the categories ([`value_counts`]), codes
//! that stand for "missing" ([`sentinel`]), and how well each column alone tells buyers from
//! non-buyers, whatever the shape of its effect ([`signal`]).
//!
//! ```
//! use purchase_predict::data::{load, signal, LoadOptions};
//! let ds = load("data/customers.csv", &LoadOptions::new("purchased").id("customer_id"))?;
//! let ranked = signal(&ds.features, &ds.labels)?;
//! assert_eq!(ranked.len(), ds.features.width());
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::HashMap;

use polars::prelude::*;

use super::load::{numeric_columns, numeric_values};
use crate::error::{Error, Result};

/// The value at quantile `q` (0-1) of sorted `v`, interpolated linearly (pandas' default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    if i + 1 < sorted.len() {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// A number as a table shows it: whole numbers without `.0`, others to 4 significant digits.
pub fn readable_number(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// One row per column, as pandas' `describe(include="all")` with the missing values beside
/// it: type, values present, missing (count and %), distinct values; for a number its mean,
/// standard deviation, minimum, quartiles and maximum; for a category its most frequent value
/// and how often it occurs.
pub fn describe(df: &DataFrame) -> Result<DataFrame> {
    let n = df.height().max(1) as f64;
    let numeric = numeric_columns(df);
    let mut out: Vec<Vec<Option<String>>> = vec![Vec::new(); 14];
    for c in df.columns() {
        let name = c.name().to_string();
        let nulls = c.null_count();
        let distinct = c
            .n_unique()
            .map_err(|e| Error::polars(format!("distinct values of `{name}`"), e))?
            - usize::from(nulls > 0);
        let mut row: Vec<Option<String>> = vec![
            Some(name.clone()),
            Some(
                if numeric.contains(&name) {
                    "number"
                } else {
                    "category"
                }
                .into(),
            ),
            Some((c.len() - nulls).to_string()),
            Some(nulls.to_string()),
            Some(format!("{:.1}", 100.0 * nulls as f64 / n)),
            Some(distinct.to_string()),
        ];
        if numeric.contains(&name) {
            let mut v: Vec<f64> = numeric_values(c)?.into_iter().flatten().collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
                / (v.len().max(2) - 1) as f64)
                .sqrt();
            for x in [
                mean,
                sd,
                quantile(&v, 0.0),
                quantile(&v, 0.25),
                quantile(&v, 0.5),
                quantile(&v, 0.75),
                quantile(&v, 1.0),
            ] {
                row.push((!v.is_empty()).then(|| readable_number(x)));
            }
            row.push(None);
        } else {
            row.extend(std::iter::repeat_n(None, 7));
            let top = counts(c)?.into_iter().find(|(v, _)| v.is_some());
            row.push(top.map(|(v, k)| format!("{} ({k})", v.unwrap_or_default())));
        }
        for (col, v) in out.iter_mut().zip(row) {
            col.push(v);
        }
    }
    let names = [
        "column",
        "type",
        "count",
        "missing",
        "missing %",
        "distinct",
        "mean",
        "std",
        "min",
        "25 %",
        "50 %",
        "75 %",
        "max",
        "most frequent (n)",
    ];
    let height = df.width();
    DataFrame::new(
        height,
        names
            .iter()
            .zip(out)
            .map(|(n, v)| Column::new((*n).into(), v))
            .collect(),
    )
    .map_err(|e| Error::polars("column summary", e))
}

/// Each value of a column (missing as `None`) with its count, most frequent first.
fn counts(c: &Column) -> Result<Vec<(Option<String>, usize)>> {
    let s = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
    let ca = s.str().map_err(|e| Error::polars("categories", e))?;
    let mut by: HashMap<Option<&str>, usize> = HashMap::new();
    for v in ca.iter() {
        *by.entry(v).or_default() += 1;
    }
    let mut v: Vec<(Option<String>, usize)> = by
        .into_iter()
        .map(|(k, n)| (k.map(str::to_string), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(v)
}

/// The value counts of every categorical column, as pandas' `value_counts` with the purchase
/// rate beside it: column, value (`(missing)` for an empty cell), customers, share of the
/// table and the share of them who bought. At most `top` values per column, most frequent
/// first; the rest are summed in one `(other k values)` row.
pub fn value_counts(df: &DataFrame, labels: &[u8], top: usize) -> Result<DataFrame> {
    if labels.len() != df.height() {
        return Err(Error::Shape(format!(
            "{} labels for {} rows",
            labels.len(),
            df.height()
        )));
    }
    let n = df.height().max(1) as f64;
    let numeric = numeric_columns(df);
    let (mut cols, mut values, mut ns, mut shares, mut rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in df.columns() {
        if numeric.contains(&c.name().to_string()) {
            continue;
        }
        let s = c
            .cast(&DataType::String)
            .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
        let ca = s.str().map_err(|e| Error::polars("categories", e))?;
        let mut by: HashMap<Option<&str>, (usize, usize)> = HashMap::new();
        for (v, &l) in ca.iter().zip(labels) {
            let e = by.entry(v).or_default();
            e.0 += 1;
            e.1 += usize::from(l);
        }
        let mut levels: Vec<(Option<&str>, usize, usize)> =
            by.into_iter().map(|(k, (m, b))| (k, m, b)).collect();
        levels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let rest: Vec<_> = levels.split_off(levels.len().min(top));
        let mut rows: Vec<(String, usize, usize)> = levels
            .into_iter()
            .map(|(k, m, b)| (k.unwrap_or("(missing)").to_string(), m, b))
            .collect();
        if !rest.is_empty() {
            let (m, b) = rest.iter().fold((0, 0), |(m, b), r| (m + r.1, b + r.2));
            rows.push((format!("(other {} values)", rest.len()), m, b));
        }
        for (v, m, b) in rows {
            cols.push(c.name().to_string());
            values.push(v);
            ns.push(m as u64);
            shares.push((1000.0 * m as f64 / n).round() / 10.0);
            rates.push((1000.0 * b as f64 / m.max(1) as f64).round() / 10.0);
        }
    }
    let height = cols.len();
    DataFrame::new(
        height,
        vec![
            Column::new("column".into(), cols),
            Column::new("value".into(), values),
            Column::new("customers".into(), ns),
            Column::new("% of table".into(), shares),
            Column::new("% bought".into(), rates),
        ],
    )
    .map_err(|e| Error::polars("value counts", e))
}

/// A number that stands for "missing" or "never" in a numeric column (the bank data's
/// `pdays = 999`): the column's most frequent value, at its minimum or maximum, on at least
/// 1 % of the rows, that is a code (−1, 9, 99, 999, …) or lies more than three times the
/// span of the other values away from them. Returns the value and how many rows hold it.
pub fn sentinel(values: &[Option<f64>]) -> Option<(f64, usize)> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.len() < 20 {
        return None;
    }
    let mut by: HashMap<u64, usize> = HashMap::new();
    for v in &present {
        *by.entry(v.to_bits()).or_default() += 1;
    }
    let (bits, count) = by
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
    let v = f64::from_bits(bits);
    if (count as f64) < 0.01 * present.len() as f64 || count == present.len() {
        return None;
    }
    let others: Vec<f64> = present.iter().copied().filter(|x| *x != v).collect();
    let (lo, hi) = others
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
    let at_edge = v > hi || v < lo;
    if !at_edge {
        return None;
    }
    let code = [-1.0, -9.0, -99.0, -999.0, 99.0, 999.0, 9999.0, 99999.0].contains(&v);
    let span = (hi - lo).max(1.0);
    let far = v > hi + 3.0 * span || v < lo - 3.0 * span;
    (code || far).then_some((v, count))
}

/// How the purchase rate moves along a numeric column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Shape {
    /// Higher values, more buyers.
    Rises,
    /// Higher values, fewer buyers.
    Falls,
    /// Most buyers in the middle, between these values (an inverted U).
    PeaksBetween(f64, f64),
    /// Fewest buyers in the middle, between these values (a U).
    DipsBetween(f64, f64),
    /// No clear shape.
    Uneven,
    /// A category: the levels with the highest and the lowest purchase rate.
    Levels {
        /// The level with the highest rate and that rate.
        highest: (String, f64),
        /// The level with the lowest rate and that rate.
        lowest: (String, f64),
    },
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |r: &f64| format!("{:.0} %", 100.0 * r);
        match self {
            Shape::Rises => write!(f, "more buyers at higher values"),
            Shape::Falls => write!(f, "fewer buyers at higher values"),
            Shape::PeaksBetween(a, b) => write!(
                f,
                "most buyers between {} and {}, fewer on both sides (an inverted U)",
                readable_number(*a),
                readable_number(*b)
            ),
            Shape::DipsBetween(a, b) => write!(
                f,
                "fewest buyers between {} and {}, more on both sides (a U)",
                readable_number(*a),
                readable_number(*b)
            ),
            Shape::Uneven => write!(f, "no steady direction"),
            Shape::Levels { highest, lowest } => write!(
                f,
                "`{}` buys most ({}), `{}` least ({})",
                highest.0,
                pct(&highest.1),
                lowest.0,
                pct(&lowest.1)
            ),
        }
    }
}

/// How well one column alone tells buyers from non-buyers ([`signal`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Signal {
    /// The column.
    pub column: String,
    /// The ROC AUC of the column's binned purchase rate, each half of the rows scored with
    /// the rates of the other half: 0.5 is no signal, 1 perfect, whatever the shape.
    pub auc: f64,
    /// The ROC AUC of the column's values as they are (folded to ≥ 0.5): what a score that
    /// only sees "more is better" or "less is better" finds. `None` for a category.
    pub monotone_auc: Option<f64>,
    /// How the purchase rate moves along the column.
    pub shape: Shape,
}

/// Each row's bin, and each numeric bin's lowest and highest value.
type Binned = (Vec<usize>, Vec<(f64, f64)>);

/// Rows to bins: a numeric column in up to 10 quantile bins (one bin per value when it has
/// at most 12 distinct values), a category one bin per level; missing values one bin of
/// their own. `numeric` holds a numeric column's values (read once by the caller); `None` bins
/// the column as a category. Returns each row's bin and the bins' lower and upper values
/// (numeric only).
fn bins(c: &Column, numeric: Option<&[Option<f64>]>) -> Result<Binned> {
    let Some(vals) = numeric else {
        let s = c
            .cast(&DataType::String)
            .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
        let ca = s.str().map_err(|e| Error::polars("categories", e))?;
        let mut ids: HashMap<Option<&str>, usize> = HashMap::new();
        let rows = ca
            .iter()
            .map(|v| {
                let next = ids.len();
                *ids.entry(v).or_insert(next)
            })
            .collect();
        return Ok((rows, Vec::new()));
    };
    let mut sorted: Vec<f64> = vals.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    let mut edges: Vec<f64> = if distinct.len() <= 12 {
        distinct.clone()
    } else {
        (0..10)
            .map(|k| quantile(&sorted, k as f64 / 10.0))
            .collect()
    };
    edges.dedup();
    let ranges: Vec<(f64, f64)> = edges
        .iter()
        .enumerate()
        .map(|(i, &lo)| {
            let hi = edges.get(i + 1).copied().unwrap_or(f64::INFINITY);
            let top = sorted
                .iter()
                .rev()
                .find(|&&x| x < hi)
                .copied()
                .unwrap_or(lo);
            (lo, top)
        })
        .collect();
    let missing = edges.len();
    let rows = vals
        .iter()
        .map(|v| match v {
            None => missing,
            Some(x) => edges.partition_point(|e| e <= x).saturating_sub(1),
        })
        .collect();
    Ok((rows, ranges))
}

/// Every column's [`Signal`], strongest first. The binned score sees shapes a rank score
/// misses (an age effect that peaks in the middle); scoring each half of the rows with the
/// other half's rates (shrunk towards the overall rate) keeps a column with many rare
/// levels from scoring well by chance.
pub fn signal(df: &DataFrame, labels: &[u8]) -> Result<Vec<Signal>> {
    use crate::metrics::roc_auc;
    if labels.len() != df.height() {
        return Err(Error::Shape(format!(
            "{} labels for {} rows",
            labels.len(),
            df.height()
        )));
    }
    let numeric = numeric_columns(df);
    let base = labels.iter().map(|&l| f64::from(l)).sum::<f64>() / labels.len().max(1) as f64;
    const PRIOR: f64 = 20.0;
    let mut out = Vec::with_capacity(df.width());
    for c in df.columns() {
        let name = c.name().to_string();
        let vals = if numeric.contains(&name) {
            Some(numeric_values(c)?)
        } else {
            None
        };
        let (rows, ranges) = bins(c, vals.as_deref())?;
        let nbins = rows.iter().max().map_or(0, |m| m + 1);
        // [fold][bin] = (rows, buyers); folds by row parity.
        let mut tally = vec![vec![(0.0f64, 0.0f64); nbins]; 2];
        for (i, (&b, &l)) in rows.iter().zip(labels).enumerate() {
            let t = &mut tally[i % 2][b];
            t.0 += 1.0;
            t.1 += f64::from(l);
        }
        let rate = |fold: usize, b: usize| {
            let (n, k) = tally[fold][b];
            (k + PRIOR * base) / (n + PRIOR)
        };
        let scores: Vec<f32> = rows
            .iter()
            .enumerate()
            .map(|(i, &b)| rate(1 - i % 2, b) as f32)
            .collect();
        let auc = roc_auc(labels, &scores).unwrap_or(0.5).max(0.5);
        let whole: Vec<(f64, f64)> = (0..nbins)
            .map(|b| {
                let (n, k) = (tally[0][b].0 + tally[1][b].0, tally[0][b].1 + tally[1][b].1);
                (n, if n > 0.0 { k / n } else { base })
            })
            .collect();
        let (shape, monotone_auc) = if let Some(vals) = &vals {
            let present: Vec<(f32, u8)> = vals
                .iter()
                .zip(labels)
                .filter_map(|(v, &l)| v.map(|v| (v as f32, l)))
                .collect();
            let (lo, hi) = present
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (v, _)| {
                    (a.min(*v), b.max(*v))
                });
            let span = (hi - lo).max(1e-12);
            let s: Vec<f32> = present.iter().map(|(v, _)| (v - lo) / span).collect();
            let l: Vec<u8> = present.iter().map(|(_, l)| *l).collect();
            let m = roc_auc(&l, &s).ok().map(|a| a.max(1.0 - a));
            (numeric_shape(&whole[..ranges.len()], &ranges), m)
        } else {
            let s = c
                .cast(&DataType::String)
                .map_err(|e| Error::polars("categories", e))?;
            let ca = s.str().map_err(|e| Error::polars("categories", e))?;
            let mut names = vec![String::new(); nbins];
            for (v, &b) in ca.iter().zip(&rows) {
                if names[b].is_empty() {
                    names[b] = v.unwrap_or("(missing)").to_string();
                }
            }
            // Levels with at least 1 % of the rows (or 30 customers), so that a rare level's
            // chance rate is not "the highest".
            let min_n = (0.01 * labels.len() as f64)
                .max(30.0)
                .min(labels.len() as f64 / 4.0);
            let mut levels: Vec<(String, f64)> = (0..nbins)
                .filter(|&b| whole[b].0 >= min_n)
                .map(|b| (names[b].clone(), whole[b].1))
                .collect();
            levels.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let shape = match (levels.first(), levels.last()) {
                (Some(h), Some(l)) if levels.len() >= 2 => Shape::Levels {
                    highest: h.clone(),
                    lowest: l.clone(),
                },
                _ => Shape::Uneven,
            };
            (shape, None)
        };
        out.push(Signal {
            column: name,
            auc,
            monotone_auc,
            shape,
        });
    }
    out.sort_by(|a, b| {
        b.auc
            .total_cmp(&a.auc)
            .then_with(|| a.column.cmp(&b.column))
    });
    Ok(out)
}

/// The shape of the purchase rate over ordered bins (count, rate) with their value ranges:
/// a steady rise or fall (Spearman's rho of bin order and rate, weighted by rows, beyond
/// ±0.8), else a peak or dip in the middle whose rate stands out from both ends.
fn numeric_shape(bins: &[(f64, f64)], ranges: &[(f64, f64)]) -> Shape {
    let kept: Vec<(usize, f64)> = bins
        .iter()
        .enumerate()
        .filter(|(_, (n, _))| *n >= 10.0)
        .map(|(i, (_, r))| (i, *r))
        .collect();
    if kept.len() < 3 {
        return match kept.as_slice() {
            [(_, a), (_, b)] if (b - a).abs() > 0.02 => {
                if b > a {
                    Shape::Rises
                } else {
                    Shape::Falls
                }
            }
            _ => Shape::Uneven,
        };
    }
    let rates: Vec<f64> = kept.iter().map(|k| k.1).collect();
    let rho = spearman(&rates);
    if rho >= 0.8 {
        return Shape::Rises;
    }
    if rho <= -0.8 {
        return Shape::Falls;
    }
    let (first, last) = (rates[0], rates[rates.len() - 1]);
    let (imax, max) = rates
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let (imin, min) = rates
        .iter()
        .copied()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let spread = max - min;
    let interior = |i: usize| i > 0 && i + 1 < rates.len();
    // The run of bins around the extreme within a third of the spread of it.
    let run = |i: usize, keep: &dyn Fn(f64) -> bool| {
        let (mut a, mut b) = (i, i);
        while a > 0 && keep(rates[a - 1]) {
            a -= 1;
        }
        while b + 1 < rates.len() && keep(rates[b + 1]) {
            b += 1;
        }
        (ranges[kept[a].0].0, ranges[kept[b].0].1)
    };
    if interior(imax) && max - first.max(last) > spread / 3.0 {
        let (a, b) = run(imax, &|r| r >= max - spread / 3.0);
        return Shape::PeaksBetween(a, b);
    }
    if interior(imin) && first.min(last) - min > spread / 3.0 {
        let (a, b) = run(imin, &|r| r <= min + spread / 3.0);
        return Shape::DipsBetween(a, b);
    }
    Shape::Uneven
}

/// Spearman's rho between positions 0..n and `v`.
fn spearman(v: &[f64]) -> f64 {
    let n = v.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut rank = vec![0.0; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as f64;
    }
    let pos: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    let rk: Vec<Option<f64>> = rank.into_iter().map(Some).collect();
    super::load::pearson(&pos, &rk).map_or(0.0, |(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(cols: Vec<Column>) -> DataFrame {
        let h = cols[0].len();
        DataFrame::new(h, cols).unwrap()
    }

    #[test]
    fn describe_gives_percentiles_and_the_top_category() {
        let df = frame(vec![
            Column::new(
                "x".into(),
                [Some(1.0f64), Some(2.0), Some(3.0), Some(4.0), None],
            ),
            Column::new(
                "c".into(),
                [Some("a"), Some("b"), Some("a"), None, Some("a")],
            ),
        ]);
        let d = describe(&df).unwrap();
        let get = |col: &str, row: usize| {
            d.column(col)
                .unwrap()
                .str()
                .unwrap()
                .get(row)
                .map(str::to_string)
        };
        assert_eq!(get("min", 0).as_deref(), Some("1"));
        assert_eq!(get("25 %", 0).as_deref(), Some("1.75"));
        assert_eq!(get("50 %", 0).as_deref(), Some("2.5"));
        assert_eq!(get("max", 0).as_deref(), Some("4"));
        assert_eq!(get("missing", 0).as_deref(), Some("1"));
        assert_eq!(get("distinct", 0).as_deref(), Some("4"));
        assert_eq!(get("most frequent (n)", 1).as_deref(), Some("a (3)"));
        assert_eq!(get("mean", 1), None);
    }

    #[test]
    fn value_counts_count_rate_and_lump_the_rest() {
        let df = frame(vec![Column::new(
            "c".into(),
            [Some("a"), Some("a"), Some("b"), None, Some("c"), Some("d")],
        )]);
        let v = value_counts(&df, &[1, 0, 1, 0, 0, 0], 2).unwrap();
        let values: Vec<&str> = v
            .column("value")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(values, ["a", "(missing)", "(other 3 values)"]);
        let bought: Vec<f64> = v
            .column("% bought")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(bought, [50.0, 0.0, 33.3]);
    }

    #[test]
    fn a_sentinel_is_a_code_at_the_edge() {
        let mut v: Vec<Option<f64>> = (0..90).map(|i| Some(f64::from(i % 20))).collect();
        v.extend(std::iter::repeat_n(Some(999.0), 10));
        assert_eq!(sentinel(&v), Some((999.0, 10)));
        let plain: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).collect();
        assert_eq!(sentinel(&plain), None);
    }

    #[test]
    fn the_signal_sees_an_inverted_u_that_a_rank_score_misses() {
        // Buyers in the middle of x only: the rank AUC is near 0.5, the binned one high.
        let n = 4000;
        let x: Vec<f64> = (0..n).map(|i| f64::from(i % 100)).collect();
        let labels: Vec<u8> = x
            .iter()
            .map(|&v| u8::from((40.0..60.0).contains(&v)))
            .collect();
        let noise: Vec<f64> = (0..n).map(|i| f64::from((i * 7919) % 101)).collect();
        let df = frame(vec![
            Column::new("x".into(), x),
            Column::new("noise".into(), noise),
        ]);
        let s = signal(&df, &labels).unwrap();
        assert_eq!(s[0].column, "x");
        assert!(s[0].auc > 0.95, "{s:?}");
        assert!(s[0].monotone_auc.unwrap() < 0.6, "{s:?}");
        assert!(
            matches!(s[0].shape, Shape::PeaksBetween(a, b) if a >= 35.0 && b <= 65.0),
            "{s:?}"
        );
        assert!(s[1].auc < 0.56, "{s:?}");
    }

    #[test]
    fn numbers_read_without_trailing_zeros() {
        assert_eq!(readable_number(50000.0), "50000");
        assert_eq!(readable_number(0.123456), "0.1235");
        assert_eq!(readable_number(12.5), "12.5");
    }
}
