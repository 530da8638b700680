//! The baseline XGBoost has to beat: a logistic regression (`linfa-logistic`, L-BFGS) on the
//! same preprocessed matrix, with scikit-learn's defaults (L2 penalty of weight 1, that is
//! `C = 1`, intercept not penalised). It is fast, explainable, and on the bank data within a
//! point of ROC AUC of the boosted trees: the figure that says what XGBoost adds.
//!
//! ```no_run
//! # fn demo(x: &purchase_predict::data::FeatureMatrix, y: &[u8]) -> purchase_predict::Result<()> {
//! use purchase_predict::model::baseline::{Baseline, BaselineParams};
//! let baseline = Baseline::fit(x, y, &BaselineParams::default())?;
//! let p = baseline.predict(x)?; // probability of buying, one per row
//! # Ok(()) }
//! ```

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView2, ShapeBuilder};
use serde::{Deserialize, Serialize};

use crate::data::FeatureMatrix;
use crate::error::{ensure, Check, Error, Result};

/// Training rows the baseline is fitted on at most: above, a seeded sample of this many (the
/// metrics say so). Its test metrics hardly move (a regression of a few dozen coefficients),
/// while its fit, the slowest stage of a large run, stays a few seconds.
pub const BASELINE_MAX_ROWS: usize = 200_000;

/// Settings of the logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineParams {
    /// Weight of the L2 penalty, `1 / C` in scikit-learn's terms (default 1).
    pub alpha: f64,
    /// L-BFGS iterations at most (default 100, scikit-learn's `max_iter`).
    pub max_iterations: u64,
    /// Stop when the gradient's norm is below this (default 1e-4).
    pub gradient_tolerance: f64,
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            alpha: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
        }
    }
}

impl Check for BaselineParams {
    fn check_ref(&self) -> Result<()> {
        ensure!(self.alpha.is_finite() && self.alpha >= 0.0, setting "alpha", "must be a finite number ≥ 0, got {}", self.alpha);
        ensure!(self.max_iterations >= 1, setting "max_iterations", "must be ≥ 1");
        ensure!(self.gradient_tolerance.is_finite() && self.gradient_tolerance > 0.0, setting "gradient_tolerance", "must be > 0, got {}", self.gradient_tolerance);
        Ok(())
    }
}

/// A fitted logistic regression: one weight per feature and an intercept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub feature_names: Vec<String>,
    pub weights: Vec<f64>,
    pub intercept: f64,
}

fn matrix(x: &FeatureMatrix) -> Result<Array2<f64>> {
    let view = ArrayView2::from_shape((x.nrows, x.ncols()), &x.values)
        .map_err(|e| Error::Shape(e.to_string()))?;
    if let Some(i) = x.values.iter().position(|v| !v.is_finite()) {
        return Err(Error::Baseline(format!(
            "row {} column `{}` is not a finite number (the preprocessor imputes missing values; \
             prepared CSV files must not hold empty fields for the baseline)",
            i / x.ncols().max(1) + 1,
            x.names[i % x.ncols().max(1)]
        )));
    }
    // Column-major: linfa's gradient is `Xᵀ·r`, which ndarray (without BLAS) computes as one
    // dot product per column of X; in row-major order each of those strides through the whole
    // matrix (23 s for 560,000 × 30 rows, 1.5 s column-major).
    let mut records = Array2::<f64>::zeros((x.nrows, x.ncols()).f());
    records.zip_mut_with(&view, |d, &v| *d = f64::from(v));
    Ok(records)
}

impl Baseline {
    /// Fit on a preprocessed matrix and its 0/1 labels (both classes present).
    pub fn fit(x: &FeatureMatrix, y: &[u8], params: &BaselineParams) -> Result<Baseline> {
        params.check_ref()?;
        if y.len() != x.nrows {
            return Err(Error::Shape(format!(
                "{} labels for {} rows",
                y.len(),
                x.nrows
            )));
        }
        let records = matrix(x)?;
        let targets: Array1<usize> = y.iter().map(|&v| usize::from(v)).collect();
        let fitted = LogisticRegression::default()
            .alpha(params.alpha)
            .max_iterations(params.max_iterations)
            .gradient_tolerance(params.gradient_tolerance)
            .fit(&Dataset::new(records, targets))
            .map_err(|e| Error::Baseline(e.to_string()))?;
        // linfa models the probability of its "positive" class, the more frequent label;
        // turn that into the probability of buying.
        let sign = if fitted.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        Ok(Baseline {
            feature_names: x.names.clone(),
            weights: fitted.params().iter().map(|w| sign * w).collect(),
            intercept: sign * fitted.intercept(),
        })
    }

    /// The probability of buying for each row.
    pub fn predict(&self, x: &FeatureMatrix) -> Result<Vec<f32>> {
        if x.ncols() != self.weights.len() {
            return Err(Error::Shape(format!(
                "the baseline expects {} features, got {}",
                self.weights.len(),
                x.ncols()
            )));
        }
        Ok((0..x.nrows)
            .map(|i| {
                let z = self.intercept
                    + x.row(i)
                        .iter()
                        .zip(&self.weights)
                        .map(|(v, w)| f64::from(*v) * w)
                        .sum::<f64>();
                (1.0 / (1.0 + (-z).exp())) as f32
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_auc;
    use crate::util::random::Rng;

    #[test]
    fn learns_a_linear_boundary_in_either_label_balance() {
        for share in [0.2, 0.8] {
            let mut rng = Rng::new(5);
            let n = 2000;
            let mut values = Vec::new();
            let mut y = Vec::new();
            for _ in 0..n {
                let a = rng.uniform() as f32 * 2.0 - 1.0;
                let b = rng.uniform() as f32 * 2.0 - 1.0;
                values.extend([a, b]);
                let z = 4.0 * a - 2.0 * b + (share as f32 - 0.5) * 6.0;
                y.push(u8::from(rng.uniform() < 1.0 / (1.0 + (-z as f64).exp())));
            }
            let x = FeatureMatrix {
                names: vec!["a".into(), "b".into()],
                nrows: n,
                values,
            };
            let m = Baseline::fit(&x, &y, &BaselineParams::default()).unwrap();
            assert!(m.weights[0] > 2.5 && m.weights[1] < -1.0, "{m:?}");
            let p = m.predict(&x).unwrap();
            assert!(roc_auc(&y, &p).unwrap() > 0.8);
        }
    }

    #[test]
    fn bad_settings_and_inputs_are_named() {
        let x = FeatureMatrix {
            names: vec!["a".into()],
            nrows: 2,
            values: vec![1.0, f32::NAN],
        };
        let e = Baseline::fit(&x, &[0, 1], &BaselineParams::default()).unwrap_err();
        assert!(e.to_string().contains("row 2 column `a`"), "{e}");
        let bad = BaselineParams {
            alpha: -1.0,
            ..Default::default()
        };
        assert!(Baseline::fit(&x, &[0, 1], &bad)
            .unwrap_err()
            .to_string()
            .contains("alpha"));
    }
}
