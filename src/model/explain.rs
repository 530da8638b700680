//! Why the model says what it says: each row's feature contributions (SHAP values, exact
//! TreeSHAP), by model feature or by the raw customer column they came from.
//!
//! A row's contributions are in margin (log-odds) space: the base value (the model's
//! expected margin) plus the row's contributions is the row's margin, and the sigmoid of the
//! margin is its probability. libxgboost computes them ([`Booster::contributions`]); the
//! [`Forest`] computes the same values in Rust, without libxgboost's per-call overhead and
//! in parallel over rows.
//!
//! [`Explanations::by_column`] sums the columns one raw column became (a category's one-hot
//! columns, a number and its missing-value indicator), so that the explanation speaks of
//! `membership` and `income`, as the customer table does.
//!
//! ```no_run
//! # fn demo(artifact: &purchase_predict::model::artifact::Artifact,
//! #         x: &purchase_predict::data::FeatureMatrix) -> purchase_predict::Result<()> {
//! use purchase_predict::model::explain::explain;
//! let by_feature = explain(&artifact.model, x)?;
//! let by_column = by_feature.by_column(&artifact.preprocessor)?;
//! for (column, value) in by_column.top(0, 3) {
//!     println!("{column}: {value:+.3}");
//! }
//! # Ok(()) }
//! ```
//!
//! [`Booster::contributions`]: crate::model::xgboost::Booster::contributions

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::FeatureMatrix;
use crate::error::{Error, Result};
use crate::model::forest::Forest;
use crate::model::xgboost::DMatrix;
use crate::model::Model;
use crate::prep::Preprocessor;

/// Rows per parallel part of a batch explanation.
const ROWS_PER_PART: usize = 256;

/// Contributions of a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanations {
    /// What each contribution belongs to: model features, or raw columns.
    pub names: Vec<String>,
    pub nrows: usize,
    /// The model's expected margin, the same for every row: the log-odds before any
    /// feature is known.
    pub base_value: f32,
    /// `nrows * names.len()` contributions, row after row, in log-odds.
    pub values: Vec<f32>,
}

impl Explanations {
    /// Split libxgboost's layout (`ncol + 1` values a row, the bias last) into
    /// contributions and the base value.
    pub fn from_contributions(names: Vec<String>, with_bias: &[f32]) -> Result<Explanations> {
        let width = names.len() + 1;
        if with_bias.len() % width != 0 {
            return Err(Error::Shape(format!(
                "{} contributions for rows of {} features plus the bias",
                with_bias.len(),
                names.len()
            )));
        }
        let nrows = with_bias.len() / width;
        let base_value = with_bias.get(names.len()).copied().unwrap_or(0.0);
        let mut values = Vec::with_capacity(nrows * names.len());
        for row in with_bias.chunks_exact(width) {
            values.extend_from_slice(&row[..names.len()]);
        }
        Ok(Explanations {
            names,
            nrows,
            base_value,
            values,
        })
    }

    /// Row `i`'s contributions, in the order of [`Explanations::names`].
    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.names.len();
        &self.values[i * w..(i + 1) * w]
    }

    /// Row `i`'s contributions with their names (what [`crate::evaluate::plot::waterfall`]
    /// draws).
    pub fn named_row(&self, i: usize) -> Vec<(String, f32)> {
        self.names
            .iter()
            .cloned()
            .zip(self.row(i).iter().copied())
            .collect()
    }

    /// Row `i`'s margin: the base value plus its contributions.
    pub fn margin(&self, i: usize) -> f32 {
        self.base_value + self.row(i).iter().sum::<f32>()
    }

    /// Row `i`'s probability, from its margin.
    pub fn probability(&self, i: usize) -> f32 {
        1.0 / (1.0 + (-self.margin(i)).exp())
    }

    /// Row `i`'s `k` largest contributions by absolute value, largest first.
    pub fn top(&self, i: usize, k: usize) -> Vec<(&str, f32)> {
        let mut v: Vec<(&str, f32)> = self
            .names
            .iter()
            .map(String::as_str)
            .zip(self.row(i).iter().copied())
            .collect();
        v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        v.truncate(k);
        v
    }

    /// The mean absolute contribution of each name over all rows, largest first: the
    /// global view of what the model relies on.
    pub fn mean_abs(&self) -> Vec<(String, f64)> {
        let w = self.names.len();
        let mut sums = vec![0f64; w];
        for row in self.values.chunks_exact(w.max(1)) {
            for (s, v) in sums.iter_mut().zip(row) {
                *s += f64::from(v.abs());
            }
        }
        let n = self.nrows.max(1) as f64;
        let mut v: Vec<(String, f64)> = self
            .names
            .iter()
            .cloned()
            .zip(sums.into_iter().map(|s| s / n))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    /// The same rows explained by the raw columns of `preprocessor` (which must be the
    /// model's): each column's contribution is the sum of its feature columns'.
    pub fn by_column(&self, preprocessor: &Preprocessor) -> Result<Explanations> {
        if preprocessor.feature_names != self.names {
            return Err(Error::Shape(format!(
                "these contributions are of {} features ({}...), not the preprocessor's {}",
                self.names.len(),
                self.names.first().map(String::as_str).unwrap_or(""),
                preprocessor.feature_names.len()
            )));
        }
        let groups = preprocessor.feature_groups();
        let mut values = Vec::with_capacity(self.nrows * groups.len());
        for i in 0..self.nrows {
            let row = self.row(i);
            values.extend(
                groups
                    .iter()
                    .map(|(_, r)| row[r.clone()].iter().sum::<f32>()),
            );
        }
        Ok(Explanations {
            names: groups.iter().map(|(n, _)| n.to_string()).collect(),
            nrows: self.nrows,
            base_value: self.base_value,
            values,
        })
    }
}

/// Explain `x` with the model's trees evaluated in Rust (in parallel over rows), or with
/// libxgboost when the model is of a kind [`Forest`] does not cover.
pub fn explain(model: &Model, x: &FeatureMatrix) -> Result<Explanations> {
    check_width(model, x)?;
    match Forest::from_xgboost_json(&model.to_bytes()?) {
        Ok(forest) => explain_with_forest(&forest, x),
        Err(Error::Unsupported(_)) => explain_with_libxgboost(model, x),
        Err(e) => Err(e),
    }
}

/// Explain `x` with libxgboost's `pred_contribs`.
pub fn explain_with_libxgboost(model: &Model, x: &FeatureMatrix) -> Result<Explanations> {
    check_width(model, x)?;
    let d = DMatrix::from_dense(&x.values, x.nrows, x.ncols())?;
    Explanations::from_contributions(x.names.clone(), &model.booster().contributions(&d)?)
}

/// Explain `x` with `forest`, in parallel over parts of `ROWS_PER_PART` rows.
pub fn explain_with_forest(forest: &Forest, x: &FeatureMatrix) -> Result<Explanations> {
    let nf = x.ncols();
    if nf != forest.num_features() {
        return Err(Error::Shape(format!(
            "the model expects {} features, got {nf}",
            forest.num_features()
        )));
    }
    let mut out = vec![0f32; x.nrows * (nf + 1)];
    if nf > 0 {
        x.values
            .par_chunks(ROWS_PER_PART * nf)
            .zip(out.par_chunks_mut(ROWS_PER_PART * (nf + 1)))
            .for_each(|(rows, o)| {
                for (row, o) in rows.chunks_exact(nf).zip(o.chunks_exact_mut(nf + 1)) {
                    forest.contributions_row(row, o);
                }
            });
    }
    Explanations::from_contributions(x.names.clone(), &out)
}

/// One customer's explanation, as `purchase-predict explain` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerExplanation {
    /// The data row, counted from 1 (the header is not a row).
    pub row: usize,
    /// The customer's id, when the model has an id column and the table holds it.
    pub id: Option<String>,
    pub probability: f32,
    /// The model's threshold, and whether the customer is at or above it.
    pub threshold: crate::metrics::Threshold,
    pub predicted_buyer: bool,
    /// The log-odds before anything is known about the customer.
    pub base_value: f32,
    /// Every raw column: its value as the table holds it (empty when missing) and its
    /// contribution, largest absolute contribution first.
    pub contributions: Vec<ColumnContribution>,
}

/// One column's part in a [`CustomerExplanation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnContribution {
    pub column: String,
    pub value: String,
    /// Log-odds; positive pushes towards buying.
    pub contribution: f32,
}

impl std::fmt::Display for CustomerExplanation {
    /// A waterfall in words: the base value, each column's push, the probability.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self
            .id
            .as_ref()
            .map(|id| format!("customer {id} (row {})", self.row))
            .unwrap_or_else(|| format!("row {}", self.row));
        writeln!(
            f,
            "{who}: probability of buying {:.3} ({} at threshold {:.2})",
            self.probability,
            if self.predicted_buyer {
                "predicted buyer"
            } else {
                "predicted non-buyer"
            },
            self.threshold
        )?;
        writeln!(f, "  {:<28} {:>16} {:>13}", "column", "value", "log-odds")?;
        writeln!(
            f,
            "  {:<28} {:>16} {:>+13.4}",
            "(base value)", "", self.base_value
        )?;
        for c in &self.contributions {
            let value: String = if c.value.chars().count() > 16 {
                c.value.chars().take(15).chain(['…']).collect()
            } else {
                c.value.clone()
            };
            writeln!(
                f,
                "  {:<28} {:>16} {:>+13.4}",
                c.column, value, c.contribution
            )?;
        }
        let margin = self.base_value
            + self
                .contributions
                .iter()
                .map(|c| c.contribution)
                .sum::<f32>();
        write!(
            f,
            "  {:<28} {:>16} {:>+13.4}  → probability {:.3}",
            "(margin)", "", margin, self.probability
        )
    }
}

/// Explain data row `row` (counted from 1) of the table at `data` with the model at
/// `model`: every raw column's contribution, largest first. The table needs the model's
/// input columns; the target may be absent.
pub fn explain_customer(
    model: impl AsRef<std::path::Path>,
    data: impl AsRef<std::path::Path>,
    row: usize,
) -> Result<CustomerExplanation> {
    let artifact = crate::model::artifact::Artifact::load(model.as_ref())?;
    let data = data.as_ref();
    let df = crate::data::read_table(data, None)?;
    crate::error::ensure!(row >= 1 && row <= df.height(), setting "row",
        "{row} is not a data row of {}: it has rows 1 to {}", data.display(), df.height());
    let one = df.slice((row - 1) as i64, 1);
    let x = artifact.preprocessor.transform(&one)?;
    let e = explain(&artifact.model, &x)?.by_column(&artifact.preprocessor)?;
    let value = |name: &str| -> String {
        one.column(name)
            .ok()
            .and_then(|c| c.get(0).ok().map(|v| v.into_static()))
            .map(|v| match v {
                polars::prelude::AnyValue::Null => String::new(),
                polars::prelude::AnyValue::String(s) => s.to_string(),
                polars::prelude::AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let mut contributions: Vec<ColumnContribution> = e
        .names
        .iter()
        .zip(e.row(0))
        .map(|(n, c)| ColumnContribution {
            column: n.clone(),
            value: value(n),
            contribution: *c,
        })
        .collect();
    contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    let probability = artifact.model.predict(&x)?[0];
    let threshold = artifact.manifest.threshold;
    Ok(CustomerExplanation {
        row,
        id: artifact
            .manifest
            .id_column
            .as_deref()
            .and_then(|id| one.column(id).ok().map(|_| value(id))),
        probability,
        threshold,
        predicted_buyer: threshold.is_buyer(probability),
        base_value: e.base_value,
        contributions,
    })
}

fn check_width(model: &Model, x: &FeatureMatrix) -> Result<()> {
    if x.ncols() != model.feature_names.len() {
        return Err(Error::Shape(format!(
            "model expects {} features, got {}",
            model.feature_names.len(),
            x.ncols()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{load, LoadOptions};
    use crate::model::train::train;
    use crate::model::Hyperparameters;
    use crate::prep::PrepOptions;
    use crate::util::progress::Silent;

    struct Trained {
        model: Model,
        preprocessor: Preprocessor,
    }

    #[test]
    fn by_column_adds_up_to_the_margin_and_matches_libxgboost() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customers.csv");
        let mut options = LoadOptions::new("purchased");
        options.id = Some("customer_id".into());
        let ds = load(&data, &options).unwrap();
        let pre = Preprocessor::fit(&ds.features, &PrepOptions::default()).unwrap();
        let x_all = pre.transform(&ds.features).unwrap();
        let mut hp = Hyperparameters::default();
        hp.set_all(&["num_round=20"]).unwrap();
        let model = train(&x_all, &ds.labels, None, &hp, &mut Silent).unwrap();
        let a = Trained {
            model,
            preprocessor: pre,
        };
        let x = x_all.take(&(0..500).collect::<Vec<_>>());
        let ours = explain(&a.model, &x).unwrap();
        let theirs = explain_with_libxgboost(&a.model, &x).unwrap();
        assert_eq!(ours.names, theirs.names);
        assert!((ours.base_value - theirs.base_value).abs() < 1e-5);
        for (o, t) in ours.values.iter().zip(&theirs.values) {
            assert!((o - t).abs() <= 1e-5, "{o} vs {t}");
        }
        let cols = ours.by_column(&a.preprocessor).unwrap();
        assert_eq!(cols.names, a.preprocessor.input_columns());
        assert!(cols.names.iter().any(|n| n == "membership"));
        let p = a.model.predict(&x).unwrap();
        for (i, p) in p.iter().enumerate() {
            let margin = -(1.0 / p - 1.0).ln();
            assert!((cols.margin(i) - margin).abs() < 1e-4, "row {i}");
            assert!((cols.probability(i) - p).abs() < 1e-5);
        }
        assert!(ours
            .by_column(&Preprocessor::identity(&["a".into()]))
            .is_err());
    }
}
