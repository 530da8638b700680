//! How good is the model? Confusion matrix, accuracy, precision, recall, F1,
//! ROC AUC, PR AUC (average precision), log loss, and a threshold sweep.
//!
//! Conventions, so that nothing is ever NaN in silence:
//! - a sample is predicted a buyer when its score is `>= threshold`;
//! - precision, recall, F1 and the negative predictive value are 0 when their denominator
//!   is 0 (no predicted or no actual positives / negatives), as scikit-learn's
//!   `zero_division=0`;
//! - ROC AUC and average precision need both classes: the standalone functions return
//!   [`Error::UndefinedMetric`], and [`Metrics`] holds `None` (JSON `null`);
//! - scores must be finite and within [0, 1]; labels 0 or 1; lengths must agree and be > 0.
//!
//! ```
//! use purchase_predict::metrics::{evaluate, roc_auc, Threshold};
//! let y = [0u8, 0, 1, 1];
//! let p = [0.1f32, 0.4, 0.35, 0.8];
//! assert_eq!(roc_auc(&y, &p)?, 0.75);
//! let m = evaluate(&y, &p, Threshold::DEFAULT)?;
//! assert_eq!((m.confusion.tp, m.confusion.fp), (1, 0));
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{ensure, Error, Result};

mod threshold;
pub use threshold::{Threshold, ThresholdRule};

/// Counts of a binary confusion matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    /// Actual 0, predicted 0.
    pub tn: u64,
    /// Actual 0, predicted 1.
    pub fp: u64,
    /// Actual 1, predicted 0.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Actual 1, predicted 1.
    pub tp: u64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// Total count.
    pub fn total(&self) -> u64 {
        self.tn + self.fp + self.fn_ + self.tp
    }
    /// (TP + TN) / all.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }
    /// TP / (TP + FP): of the customers predicted to buy, the share who did.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// TP / (TP + FN): of the buyers, the share the model found.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    /// TN / (TN + FN): of the customers predicted not to buy, the share who did not.
    /// The matrix read out as a campaign: whom we would call, who would buy, whom we would
    /// miss.
    ///
    /// ```
    /// use purchase_predict::metrics::Confusion;
    /// let c = Confusion { tn: 80, fp: 5, fn_: 10, tp: 5 };
    /// assert!(c.in_words().starts_with("Of 100 customers, the model would call 10"));
    /// assert!(c.in_words().contains("It would miss 10 of the 15 buyers (66.7 %)"));
    /// assert!(!c.in_words().contains("  "));
    /// ```
    pub fn in_words(&self) -> String {
        let calls = self.tp + self.fp;
        let buyers = self.tp + self.fn_;
        let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
        format!(
            "Of {} customers, the model would call {calls} ({:.1} %); {} of them buy ({:.1} % of \
             the calls, where calling at random would find {:.1} %). It would miss {} of the {buyers} \
             buyers ({:.1} %), and rightly leave {} non-buyers alone.",
            self.total(),
            pct(calls, self.total()),
            self.tp,
            pct(self.tp, calls),
            pct(buyers, self.total()),
            self.fn_,
            pct(self.fn_, buyers),
            self.tn
        )
    }

    pub fn negative_predictive_value(&self) -> f64 {
        ratio(self.tn, self.tn + self.fn_)
    }
}

/// Every metric at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// `None` when the labels hold one class only.
    pub roc_auc: Option<f64>,
    /// Average precision; `None` when there is no positive label.
    pub pr_auc: Option<f64>,
    pub log_loss: f64,
    pub threshold: Threshold,
    pub confusion: Confusion,
    /// The tutorial's second column rate: of predicted non-buyers, the share right.
    pub negative_predictive_value: f64,
    /// Share of actual buyers.
    pub base_rate: f64,
}

/// Metrics at one point of a threshold sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdPoint {
    pub threshold: Threshold,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub confusion: Confusion,
}

fn validate(labels: &[u8], scores: &[f32]) -> Result<()> {
    if labels.len() != scores.len() {
        return Err(Error::Shape(format!(
            "{} labels but {} scores",
            labels.len(),
            scores.len()
        )));
    }
    if labels.is_empty() {
        return Err(Error::Shape("no samples to evaluate".into()));
    }
    if let Some(i) = labels.iter().position(|&l| l > 1) {
        return Err(Error::Shape(format!(
            "label {} at position {i} is not 0 or 1",
            labels[i]
        )));
    }
    if let Some(i) = scores
        .iter()
        .position(|s| !s.is_finite() || *s < 0.0 || *s > 1.0)
    {
        return Err(Error::Shape(format!(
            "score {} at position {i} is not a probability in [0, 1]",
            scores[i]
        )));
    }
    Ok(())
}

/// Confusion matrix at `threshold` (score `>=` threshold means predicted 1).
pub fn confusion(labels: &[u8], scores: &[f32], threshold: Threshold) -> Result<Confusion> {
    validate(labels, scores)?;
    Ok(confusion_unchecked(labels, scores, threshold))
}

fn confusion_unchecked(labels: &[u8], scores: &[f32], threshold: Threshold) -> Confusion {
    let mut c = Confusion::default();
    for (&y, &s) in labels.iter().zip(scores) {
        match (y == 1, threshold.is_buyer(s)) {
            (false, false) => c.tn += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            (true, true) => c.tp += 1,
        }
    }
    c
}

fn class_counts(labels: &[u8]) -> (usize, usize) {
    let pos = labels.iter().filter(|&&l| l == 1).count();
    (pos, labels.len() - pos)
}

/// Area under the ROC curve: the probability that a random buyer scores above a random
/// non-buyer, ties counting one half (Mann-Whitney with average ranks).
pub fn roc_auc(labels: &[u8], scores: &[f32]) -> Result<f64> {
    validate(labels, scores)?;
    let (pos, neg) = class_counts(labels);
    if pos == 0 || neg == 0 {
        return Err(Error::UndefinedMetric {
            metric: "ROC AUC".into(),
            reason: format!("the labels hold one class only ({pos} positives, {neg} negatives)"),
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // ranks i+1 ..= j+1 share their average
        let avg_rank = (i + j + 2) as f64 / 2.0;
        let pos_in_group = order[i..=j].iter().filter(|&&k| labels[k] == 1).count();
        rank_sum_pos += avg_rank * pos_in_group as f64;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Ok((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision, the area under the precision-recall curve as scikit-learn defines it:
/// the sum over distinct score thresholds of (recall step) × precision.
pub fn average_precision(labels: &[u8], scores: &[f32]) -> Result<f64> {
    validate(labels, scores)?;
    let (pos, _) = class_counts(labels);
    if pos == 0 {
        return Err(Error::UndefinedMetric {
            metric: "average precision".into(),
            reason: "there is no positive label".into(),
        });
    }
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    for (fp, tp) in cumulative_counts(labels, scores) {
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Ok(ap)
}

/// Cumulative (false positives, true positives) after each group of tied scores, highest
/// score first: the steps that both curves below walk.
fn cumulative_counts(labels: &[u8], scores: &[f32]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut out = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.push((fp, tp));
    }
    out
}

/// The ROC curve as (false positive rate, true positive rate) points from (0, 0) to (1, 1),
/// one per distinct score.
pub fn roc_curve(labels: &[u8], scores: &[f32]) -> Result<Vec<(f64, f64)>> {
    validate(labels, scores)?;
    let (pos, neg) = class_counts(labels);
    if pos == 0 || neg == 0 {
        return Err(Error::UndefinedMetric {
            metric: "ROC curve".into(),
            reason: format!("the labels hold one class only ({pos} positives, {neg} negatives)"),
        });
    }
    let mut out = vec![(0.0, 0.0)];
    out.extend(
        cumulative_counts(labels, scores)
            .into_iter()
            .map(|(fp, tp)| (fp as f64 / neg as f64, tp as f64 / pos as f64)),
    );
    Ok(out)
}

/// The precision-recall curve as (recall, precision) points, one per distinct score, highest
/// threshold first.
pub fn pr_curve(labels: &[u8], scores: &[f32]) -> Result<Vec<(f64, f64)>> {
    validate(labels, scores)?;
    let (pos, _) = class_counts(labels);
    if pos == 0 {
        return Err(Error::UndefinedMetric {
            metric: "precision-recall curve".into(),
            reason: "there is no positive label".into(),
        });
    }
    Ok(cumulative_counts(labels, scores)
        .into_iter()
        .map(|(fp, tp)| (tp as f64 / pos as f64, tp as f64 / (tp + fp) as f64))
        .collect())
}

/// One row of a cumulative gains table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GainsRow {
    /// Share of customers contacted, highest scores first (0.1, 0.2, ... for deciles).
    pub contacted: f64,
    /// Share of all buyers among them (cumulative gain).
    pub buyers_reached: f64,
    /// `buyers_reached / contacted`: how many times better than calling at random.
    pub lift: f64,
}

/// Cumulative gains and lift in `bins` equal groups of customers ranked by score (ties
/// broken by position, as a call list would be).
pub fn gains(labels: &[u8], scores: &[f32], bins: usize) -> Result<Vec<GainsRow>> {
    validate(labels, scores)?;
    let (pos, _) = class_counts(labels);
    if pos == 0 || bins == 0 {
        return Err(Error::UndefinedMetric {
            metric: "gains".into(),
            reason: "needs at least one buyer and one bin".into(),
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n = labels.len();
    Ok((1..=bins)
        .map(|k| {
            let upto = (n * k).div_ceil(bins);
            let reached = order[..upto].iter().filter(|&&i| labels[i] == 1).count();
            let contacted = upto as f64 / n as f64;
            let buyers_reached = reached as f64 / pos as f64;
            GainsRow {
                contacted,
                buyers_reached,
                lift: buyers_reached / contacted,
            }
        })
        .collect())
}

/// One bin of a calibration (reliability) curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Mean predicted probability in the bin.
    pub predicted: f64,
    /// Share of buyers in the bin.
    pub observed: f64,
    pub count: usize,
}

/// Calibration over `bins` equal-width probability bins (empty bins left out).
pub fn calibration(labels: &[u8], scores: &[f32], bins: usize) -> Result<Vec<CalibrationBin>> {
    validate(labels, scores)?;
    ensure!(bins != 0, setting "bins", "must be ≥ 1");
    let mut sum = vec![0.0f64; bins];
    let mut buyers = vec![0usize; bins];
    let mut count = vec![0usize; bins];
    for (&y, &s) in labels.iter().zip(scores) {
        let b = ((s as f64 * bins as f64) as usize).min(bins - 1);
        sum[b] += s as f64;
        buyers[b] += y as usize;
        count[b] += 1;
    }
    Ok((0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| CalibrationBin {
            predicted: sum[b] / count[b] as f64,
            observed: buyers[b] as f64 / count[b] as f64,
            count: count[b],
        })
        .collect())
}

/// Mean negative log-likelihood, with probabilities clipped to [1e-15, 1 - 1e-15].
pub fn log_loss(labels: &[u8], scores: &[f32]) -> Result<f64> {
    validate(labels, scores)?;
    const EPS: f64 = 1e-15;
    let sum: f64 = labels
        .iter()
        .zip(scores)
        .map(|(&y, &s)| {
            let p = (s as f64).clamp(EPS, 1.0 - EPS);
            if y == 1 {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    Ok(sum / labels.len() as f64)
}

/// Every metric at `threshold`.
pub fn evaluate(labels: &[u8], scores: &[f32], threshold: Threshold) -> Result<Metrics> {
    let c = confusion(labels, scores, threshold)?;
    let (pos, _) = class_counts(labels);
    Ok(Metrics {
        accuracy: c.accuracy(),
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
        roc_auc: roc_auc(labels, scores).ok(),
        pr_auc: average_precision(labels, scores).ok(),
        log_loss: log_loss(labels, scores)?,
        threshold,
        confusion: c,
        negative_predictive_value: c.negative_predictive_value(),
        base_rate: pos as f64 / labels.len() as f64,
    })
}

/// Metrics at the 101 thresholds 0.00, 0.01, ..., 1.00.
pub fn threshold_sweep(labels: &[u8], scores: &[f32]) -> Result<Vec<ThresholdPoint>> {
    validate(labels, scores)?;
    Ok((0..=100)
        .map(|i| {
            let t = Threshold::new(i as f64 / 100.0).expect("0.00 to 1.00");
            let c = confusion_unchecked(labels, scores, t);
            ThresholdPoint {
                threshold: t,
                accuracy: c.accuracy(),
                precision: c.precision(),
                recall: c.recall(),
                f1: c.f1(),
                confusion: c,
            }
        })
        .collect())
}

/// The point of a sweep with the highest `figure` (the lowest such threshold on ties).
fn first_best(
    sweep: &[ThresholdPoint],
    figure: fn(&ThresholdPoint) -> f64,
) -> Option<ThresholdPoint> {
    sweep
        .iter()
        .copied()
        .fold(None, |best: Option<ThresholdPoint>, p| match best {
            Some(b) if figure(&b) >= figure(&p) => Some(b),
            _ => Some(p),
        })
}

/// The point of a sweep with the highest F1 (the lowest such threshold on ties).
pub fn best_f1(sweep: &[ThresholdPoint]) -> Option<ThresholdPoint> {
    first_best(sweep, |p| p.f1)
}

/// The point of a sweep with the highest accuracy (the lowest such threshold on ties).
pub fn best_accuracy(sweep: &[ThresholdPoint]) -> Option<ThresholdPoint> {
    first_best(sweep, |p| p.accuracy)
}

/// What a call costs and what a sale is worth, in one currency: the terms of
/// [`profit_sweep`]. A customer called who buys brings `sale_value - contact_cost`; one who
/// does not, `-contact_cost`; a customer not called, nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    pub contact_cost: f64,
    pub sale_value: f64,
}

impl crate::error::Check for Costs {
    fn check_ref(&self) -> Result<()> {
        ensure!(self.contact_cost.is_finite() && self.contact_cost >= 0.0, setting "contact_cost",
            "must be a finite amount ≥ 0, got {}", self.contact_cost);
        ensure!(self.sale_value.is_finite() && self.sale_value > 0.0, setting "sale_value",
            "must be a finite amount > 0, got {}", self.sale_value);
        Ok(())
    }
}

impl Costs {
    /// The costs from a call's cost and a sale's value given apart (flags, hyperparameters):
    /// both or neither, each checked. Errors name `contact_cost` or `sale_value`.
    ///
    /// ```
    /// use purchase_predict::metrics::Costs;
    /// assert_eq!(Costs::from_parts(None, None)?, None);
    /// assert!(Costs::from_parts(Some(5.0), None).unwrap_err().to_string().contains("sale_value"));
    /// assert!(Costs::from_parts(Some(-1.0), Some(50.0)).is_err());
    /// # Ok::<(), purchase_predict::Error>(())
    /// ```
    pub fn from_parts(contact_cost: Option<f64>, sale_value: Option<f64>) -> Result<Option<Costs>> {
        use crate::error::{bail, Check};
        match (contact_cost, sale_value) {
            (None, None) => Ok(None),
            (Some(_), None) => {
                bail!(setting "sale_value", "required with the contact cost (both or neither)")
            }
            (None, Some(_)) => {
                bail!(setting "contact_cost", "required with the sale value (both or neither)")
            }
            (Some(contact_cost), Some(sale_value)) => {
                let costs = Costs {
                    contact_cost,
                    sale_value,
                };
                costs.check_ref()?;
                Ok(Some(costs))
            }
        }
    }

    /// The probability above which a call pays for itself in expectation:
    /// `contact_cost / sale_value` (the optimal threshold of perfectly calibrated scores).
    pub fn break_even_probability(&self) -> f64 {
        self.contact_cost / self.sale_value
    }
}

/// A bootstrap interval for the difference of two models' ROC AUC on the same rows
/// (`a − b`): `resamples` resamples of the rows with replacement (seeded), the 2.5th and
/// 97.5th percentiles. An interval that contains 0 says the rows cannot tell the two apart.
///
/// ```
/// use purchase_predict::metrics::bootstrap_auc_difference;
/// let y = [0u8, 0, 1, 1, 0, 1, 0, 1];
/// let a = [0.1f32, 0.2, 0.8, 0.9, 0.3, 0.7, 0.4, 0.6];
/// let (diff, lo, hi) = bootstrap_auc_difference(&y, &a, &a, 200, 7)?;
/// assert_eq!((diff, lo, hi), (0.0, 0.0, 0.0));
/// # Ok::<(), purchase_predict::Error>(())
/// ```
pub fn bootstrap_auc_difference(
    labels: &[u8],
    a: &[f32],
    b: &[f32],
    resamples: usize,
    seed: u64,
) -> Result<(f64, f64, f64)> {
    validate(labels, a)?;
    validate(labels, b)?;
    ensure!(resamples >= 20, setting "resamples", "{resamples}: use at least 20");
    let diff = roc_auc(labels, a)? - roc_auc(labels, b)?;
    let mut rng = crate::util::random::Rng::new(seed);
    let n = labels.len();
    let mut diffs = Vec::with_capacity(resamples);
    let (mut y, mut sa, mut sb) = (vec![0u8; n], vec![0f32; n], vec![0f32; n]);
    while diffs.len() < resamples {
        for k in 0..n {
            let i = ((rng.uniform() * n as f64) as usize).min(n - 1);
            y[k] = labels[i];
            sa[k] = a[i];
            sb[k] = b[i];
        }
        if let (Ok(x), Ok(z)) = (roc_auc(&y, &sa), roc_auc(&y, &sb)) {
            diffs.push(x - z);
        }
    }
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs[((diffs.len() - 1) as f64 * q).round() as usize];
    Ok((diff, at(0.025), at(0.975)))
}

/// An estimate with its 95 % bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The value on the rows as they are.
    pub estimate: f64,
    /// The 2.5th percentile over the resamples.
    pub low: f64,
    /// The 97.5th percentile over the resamples.
    pub high: f64,
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = f.precision().unwrap_or(3);
        write!(
            f,
            "{:.d$} [{:.d$}, {:.d$}]",
            self.estimate, self.low, self.high
        )
    }
}

/// The business numbers at one threshold, each with its 95 % bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdIntervals {
    /// The threshold.
    pub threshold: Threshold,
    /// Buyers among those called.
    pub precision: Interval,
    /// Share of the buyers called.
    pub recall: Interval,
    /// Profit per 1,000 customers at `costs`.
    pub profit_per_1000: Interval,
}

/// Precision, recall and profit per 1,000 customers at `threshold`, each with the 95 %
/// interval of `resamples` bootstrap resamples of the rows (seeded): how much the figures of
/// one test split could move on another sample of the same customers.
///
/// ```
/// use purchase_predict::metrics::{bootstrap_at_threshold, Costs, Threshold};
/// let y = [0u8, 0, 1, 1, 0, 1, 0, 1];
/// let p = [0.1f32, 0.2, 0.8, 0.9, 0.3, 0.7, 0.4, 0.6];
/// let costs = Costs { contact_cost: 5.0, sale_value: 50.0 };
/// let b = bootstrap_at_threshold(&y, &p, Threshold::DEFAULT, &costs, 200, 7)?;
/// assert_eq!(b.precision.estimate, 1.0);
/// assert!(b.profit_per_1000.low <= b.profit_per_1000.estimate);
/// # Ok::<(), purchase_predict::Error>(())
/// ```
pub fn bootstrap_at_threshold(
    labels: &[u8],
    scores: &[f32],
    threshold: Threshold,
    costs: &Costs,
    resamples: usize,
    seed: u64,
) -> Result<ThresholdIntervals> {
    use crate::error::Check;
    validate(labels, scores)?;
    costs.check_ref()?;
    ensure!(resamples >= 20, setting "resamples", "{resamples}: use at least 20");
    let figures = |idx: &mut dyn Iterator<Item = usize>| {
        let (mut tp, mut fp, mut pos) = (0.0f64, 0.0f64, 0.0f64);
        let mut n = 0.0;
        for i in idx {
            n += 1.0;
            let called = threshold.is_buyer(scores[i]);
            let y = labels[i] == 1;
            pos += f64::from(u8::from(y));
            if called {
                if y {
                    tp += 1.0;
                } else {
                    fp += 1.0;
                }
            }
        }
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let recall = if pos > 0.0 { tp / pos } else { 0.0 };
        let profit = (tp * costs.sale_value - (tp + fp) * costs.contact_cost) * 1000.0 / n;
        [precision, recall, profit]
    };
    let n = labels.len();
    let whole = figures(&mut (0..n));
    let mut rng = crate::util::random::Rng::new(seed);
    let mut draws: [Vec<f64>; 3] = Default::default();
    for _ in 0..resamples {
        let f = figures(&mut (0..n).map(|_| ((rng.uniform() * n as f64) as usize).min(n - 1)));
        for (d, v) in draws.iter_mut().zip(f) {
            d.push(v);
        }
    }
    let interval = |k: usize| {
        let d = &mut draws[k].clone();
        d.sort_by(f64::total_cmp);
        let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize];
        Interval {
            estimate: whole[k],
            low: at(0.025),
            high: at(0.975),
        }
    };
    Ok(ThresholdIntervals {
        threshold,
        precision: interval(0),
        recall: interval(1),
        profit_per_1000: interval(2),
    })
}

/// Profit at one threshold: calling every customer whose score is `>= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfitPoint {
    pub threshold: Threshold,
    /// Customers called (predicted buyers).
    pub calls: u64,
    /// Buyers among them.
    pub sales: u64,
    /// `sales * sale_value - calls * contact_cost` over the evaluated customers.
    pub profit: f64,
    /// The same per 1,000 customers evaluated, to compare splits of any size.
    pub profit_per_1000: f64,
}

/// Profit at the 101 thresholds 0.00, 0.01, ..., 1.00.
pub fn profit_sweep(labels: &[u8], scores: &[f32], costs: &Costs) -> Result<Vec<ProfitPoint>> {
    use crate::error::Check;
    costs.check_ref()?;
    let sweep = threshold_sweep(labels, scores)?;
    let n = labels.len() as f64;
    Ok(sweep
        .iter()
        .map(|p| {
            let calls = p.confusion.tp + p.confusion.fp;
            let sales = p.confusion.tp;
            let profit = sales as f64 * costs.sale_value - calls as f64 * costs.contact_cost;
            ProfitPoint {
                threshold: p.threshold,
                calls,
                sales,
                profit,
                profit_per_1000: profit * 1000.0 / n,
            }
        })
        .collect())
}

/// The point of a profit sweep with the highest profit (the highest such threshold on
/// ties: as much profit with fewer calls).
pub fn best_profit(sweep: &[ProfitPoint]) -> Option<ProfitPoint> {
    sweep
        .iter()
        .copied()
        .fold(None, |best: Option<ProfitPoint>, p| match best {
            Some(b) if b.profit > p.profit => Some(b),
            _ => Some(p),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(x: f64) -> Threshold {
        Threshold::new(x).unwrap()
    }

    #[test]
    fn profit_counts_sales_and_calls() {
        let y = [1u8, 0, 1, 0, 0];
        let p = [0.9f32, 0.8, 0.6, 0.3, 0.1];
        let costs = Costs {
            contact_cost: 10.0,
            sale_value: 25.0,
        };
        let sweep = profit_sweep(&y, &p, &costs).unwrap();
        let at = |t: f64| {
            sweep
                .iter()
                .find(|q| (q.threshold.get() - t).abs() < 1e-9)
                .unwrap()
        };
        // Calling the top three: 2 sales x 25 - 3 calls x 10.
        assert_eq!((at(0.5).calls, at(0.5).sales, at(0.5).profit), (3, 2, 20.0));
        assert_eq!(at(0.0).profit, 2.0 * 25.0 - 5.0 * 10.0);
        assert_eq!(at(1.0).calls, 0);
        let best = best_profit(&sweep).unwrap();
        assert_eq!((best.profit, best.threshold), (20.0, t(0.6)));
        assert_eq!(best.profit_per_1000, 4000.0);
        assert!((costs.break_even_probability() - 0.4).abs() < 1e-12);
        let bad = Costs {
            contact_cost: -1.0,
            sale_value: 25.0,
        };
        assert!(profit_sweep(&y, &p, &bad)
            .unwrap_err()
            .to_string()
            .contains("contact_cost"));
        let acc = best_accuracy(&threshold_sweep(&y, &p).unwrap()).unwrap();
        assert_eq!((acc.accuracy, acc.threshold), (0.8, t(0.31)));
    }

    #[test]
    fn curves_agree_with_their_areas() {
        let labels = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
        let scores = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.35, 0.6, 0.7, 0.5];
        let roc = roc_curve(&labels, &scores).unwrap();
        assert_eq!((roc[0], *roc.last().unwrap()), ((0.0, 0.0), (1.0, 1.0)));
        let area: f64 = roc
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        assert!((area - roc_auc(&labels, &scores).unwrap()).abs() < 1e-12);
        let pr = pr_curve(&labels, &scores).unwrap();
        let mut prev = 0.0;
        let ap: f64 = pr
            .iter()
            .map(|&(r, p)| {
                let step = (r - prev) * p;
                prev = r;
                step
            })
            .sum();
        assert!((ap - average_precision(&labels, &scores).unwrap()).abs() < 1e-12);
        let g = gains(&labels, &scores, 5).unwrap();
        assert_eq!(g.len(), 5);
        // The top 20 % (2 customers, scores 0.9 and 0.8) are both buyers: 2 of 5.
        assert_eq!(g[0].buyers_reached, 0.4);
        assert_eq!(g[0].lift, 2.0);
        assert_eq!(g[4].buyers_reached, 1.0);
        let c = calibration(&labels, &scores, 2).unwrap();
        assert_eq!(c.iter().map(|b| b.count).sum::<usize>(), 10);
        assert_eq!(c[1].observed, 4.0 / 5.0);
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn hand_computed_small_case() {
        let y = [0u8, 0, 1, 1];
        let p = [0.1f32, 0.4, 0.35, 0.8];
        close(roc_auc(&y, &p).unwrap(), 0.75);
        // desc: .8(1) P1 R.5, .4(0) P.5 R.5, .35(1) P2/3 R1, .1(0) -> .5*1 + .5*2/3
        close(average_precision(&y, &p).unwrap(), 0.5 + 1.0 / 3.0);
        let m = evaluate(&y, &p, t(0.3)).unwrap();
        assert_eq!(
            m.confusion,
            Confusion {
                tn: 1,
                fp: 1,
                fn_: 0,
                tp: 2
            }
        );
        close(m.accuracy, 0.75);
        close(m.precision, 2.0 / 3.0);
        close(m.recall, 1.0);
        close(m.f1, 0.8);
        close(m.negative_predictive_value, 1.0);
        close(m.base_rate, 0.5);
    }

    #[test]
    fn ties_count_half() {
        let y = [0u8, 1, 0, 1];
        let p = [0.5f32, 0.5, 0.2, 0.9];
        close(roc_auc(&y, &p).unwrap(), 3.5 / 4.0);
        // desc groups: .9 -> tp1 fp0 (P1,R.5); .5 -> tp2 fp1 (P2/3,R1); .2 -> no recall step
        close(average_precision(&y, &p).unwrap(), 0.5 + 1.0 / 3.0);
        // all scores tied: AUC one half
        close(roc_auc(&[0, 1, 1], &[0.3, 0.3, 0.3]).unwrap(), 0.5);
        // a threshold equal to the score predicts 1
        assert_eq!(confusion(&[1], &[0.5], t(0.5)).unwrap().tp, 1);
    }

    #[test]
    fn log_loss_by_hand_and_clipped() {
        let v = log_loss(&[1, 0], &[0.8, 0.4]).unwrap();
        close(
            v,
            -(0.8f32 as f64).ln() / 2.0 - (1.0 - 0.4f32 as f64).ln() / 2.0,
        );
        let worst = log_loss(&[1], &[0.0]).unwrap();
        close(worst, -(1e-15f64).ln());
    }

    #[test]
    fn degenerate_inputs_are_defined_or_errors() {
        let y = [0u8, 0, 0];
        let p = [0.1f32, 0.7, 0.2];
        assert!(matches!(
            roc_auc(&y, &p),
            Err(Error::UndefinedMetric { .. })
        ));
        assert!(matches!(
            average_precision(&y, &p),
            Err(Error::UndefinedMetric { .. })
        ));
        let m = evaluate(&y, &p, t(0.5)).unwrap();
        assert_eq!((m.roc_auc, m.pr_auc), (None, None));
        assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
        close(m.accuracy, 2.0 / 3.0);
        // all ones, all predicted ones: AUC undefined, AP defined (= 1)
        let m = evaluate(&[1, 1], &[0.9, 0.6], t(0.5)).unwrap();
        assert_eq!(m.roc_auc, None);
        assert_eq!(m.pr_auc, Some(1.0));
        assert_eq!(m.negative_predictive_value, 0.0);
        assert!(evaluate(&[], &[], t(0.5)).is_err());
        assert!(evaluate(&[1, 0], &[0.5], t(0.5)).is_err());
        assert!(evaluate(&[1, 0], &[f32::NAN, 0.5], t(0.5)).is_err());
        assert!(evaluate(&[1, 2], &[0.5, 0.5], t(0.5)).is_err());
        assert!(Threshold::new(1.5).is_err());
    }

    #[test]
    fn sweep_has_101_points_and_finds_best_f1() {
        let y = [0u8, 0, 1, 1, 1, 0];
        let p = [0.05f32, 0.42, 0.45, 0.9, 0.6, 0.2];
        let s = threshold_sweep(&y, &p).unwrap();
        assert_eq!(s.len(), 101);
        close(s[0].recall, 1.0);
        assert_eq!(s[100].confusion.tp, 0);
        let b = best_f1(&s).unwrap();
        // thresholds in (0.42, 0.45] catch all three buyers and no non-buyer
        close(b.f1, 1.0);
        close(b.threshold.get(), 0.43);
    }
}
