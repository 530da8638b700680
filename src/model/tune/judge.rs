//! Whether the search beat the defaults: trial 0 is the base hyperparameters untouched, and
//! the best trial replaces it only when its advantage is beyond the noise of the way trials
//! were judged.
//!
//! - **Cross-validation folds** ([`Judging::Folds`]): the advantage on each fold, and a 95 %
//!   interval by the corrected resampled t-test of Nadeau and Bengio (2003): the folds'
//!   training sets overlap, so the plain t-test's variance `s²/k` is too small; the corrected
//!   one is `(1/k + 1/(k−1))·s²`, with Student's t on `k − 1` degrees of freedom.
//! - **One validation split** ([`Judging::Holdout`]): a paired bootstrap of the validation
//!   rows (the same resampled customers score both models), the 2.5th and 97.5th percentiles
//!   of the advantage. It judges the two trained models as they are; the refit trains the
//!   kept one again on the same rows with the same seed, so it is that model.
//!   Cross-validation judges the settings instead: each fold trains them again, so the
//!   interval also holds the noise of training itself.
//!
//! The tuned trial is kept when the interval's lower end is above 0; otherwise the defaults
//! stay. The best trial was picked for scoring well on the very rows that judge it, so its
//! advantage is the best of `m` noisy ones: the interval is family-wise over the `m` searched
//! trials (Bonferroni: each end leaves out `2.5 % / m`), so that picking the best of many
//! does not turn noise into a gain. A search that found nothing better keeps the defaults. [`compare`] applies the same rule to
//! any two sets of hyperparameters, for a refit judged outside a search (our SageMaker
//! image's job).

use super::*;
use crate::error::ensure;
use crate::metrics::Threshold;

/// Training rows up to which [`CvFolds::Auto`] judges trials by cross-validation.
pub const CV_AUTO_MAX_ROWS: usize = 50_000;
/// Folds of [`CvFolds::Auto`]'s cross-validation.
pub const CV_AUTO_FOLDS: usize = 5;
/// Resamples of the paired bootstrap.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;
/// Confidence of the decision's interval.
pub const CONFIDENCE: f64 = 0.95;

/// How trials are judged, as set: `Auto` (the default) cross-validates with
/// [`CV_AUTO_FOLDS`] folds when the training split has at most [`CV_AUTO_MAX_ROWS`] rows, and
/// uses the validation split above that; `Off` always uses the validation split; `Folds(k)`
/// always cross-validates with k folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CvFolds {
    #[default]
    Auto,
    Off,
    Folds(usize),
}

impl From<Option<usize>> for CvFolds {
    /// `None` is `Off`, `Some(k)` is `Folds(k)`.
    fn from(k: Option<usize>) -> Self {
        k.map_or(CvFolds::Off, CvFolds::Folds)
    }
}

impl std::str::FromStr for CvFolds {
    type Err = Error;
    /// `auto`, `off` or a number of folds.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(CvFolds::Auto),
            "off" | "none" => Ok(CvFolds::Off),
            n => n
                .parse()
                .map(CvFolds::Folds)
                .map_err(|_| Error::InvalidSetting {
                    name: "cv_folds".into(),
                    reason: format!("`{s}`: use auto, off or a number of folds (≥ 2)"),
                }),
        }
    }
}

impl std::fmt::Display for CvFolds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CvFolds::Auto => f.write_str("auto"),
            CvFolds::Off => f.write_str("off"),
            CvFolds::Folds(k) => write!(f, "{k}"),
        }
    }
}

impl Serialize for CvFolds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            CvFolds::Folds(k) => s.serialize_u64(*k as u64),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for CvFolds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            K(usize),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::K(k) => Ok(CvFolds::Folds(k)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl CvFolds {
    /// How trials on `train_rows` training rows are judged; `validation` says whether a
    /// validation split exists (without one, cross-validation is the only way).
    pub fn resolve(self, train_rows: usize, validation: bool) -> Judging {
        match self {
            CvFolds::Folds(k) => Judging::Folds(k),
            CvFolds::Off => Judging::Holdout,
            CvFolds::Auto if train_rows <= CV_AUTO_MAX_ROWS || !validation => {
                Judging::Folds(CV_AUTO_FOLDS)
            }
            CvFolds::Auto => Judging::Holdout,
        }
    }
}

/// How the trials of a search were judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judging {
    /// On the validation split.
    Holdout,
    /// By k-fold cross-validation of the training split.
    Folds(usize),
}

impl std::fmt::Display for Judging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Judging::Holdout => f.write_str("the validation split"),
            Judging::Folds(k) => write!(f, "{k}-fold cross-validation of the training split"),
        }
    }
}

/// Which configuration a search keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// Trial 0: the base hyperparameters, untuned.
    Defaults,
    /// The best trial, better than the defaults beyond the noise.
    Tuned,
}

/// The decision between the defaults and the best trial, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub kept: Kept,
    /// The kept trial's number (0: the defaults).
    pub kept_trial: usize,
    /// The best trial by the objective (may be 0).
    pub best_trial: usize,
    pub judged_by: Judging,
    /// How the interval was computed, in words.
    pub method: String,
    /// The best trial's objective minus the defaults', signed so that positive is better
    /// (for a minimised objective, the defaults' minus the best's).
    pub advantage: f64,
    /// The advantage's interval, `[low, high]`, at [`CONFIDENCE`] family-wise over the
    /// `compared` trials the best was chosen from.
    pub interval: [f64; 2],
    pub confidence: f64,
    /// The searched trials (trial 0 aside) that the best was the best of.
    pub compared: usize,
    /// The decision in one sentence.
    pub reason: String,
}

impl Decision {
    /// The best trial was trial 0, or no other trial succeeded: nothing to test.
    fn defaults_best(judged_by: Judging, trials: usize) -> Decision {
        Decision {
            kept: Kept::Defaults,
            kept_trial: 0,
            best_trial: 0,
            judged_by,
            method: "none needed".into(),
            advantage: 0.0,
            interval: [0.0, 0.0],
            confidence: CONFIDENCE,
            compared: trials.saturating_sub(1),
            reason: format!(
                "the defaults (trial 0) scored best of all {trials} trials, so they stay"
            ),
        }
    }

    /// Test `advantage`'s evidence: keep trial `best` when the interval is above 0.
    pub(crate) fn from_interval(
        best: usize,
        judged_by: Judging,
        method: String,
        (advantage, interval): (f64, [f64; 2]),
        compared: usize,
        objective: Objective,
    ) -> Decision {
        let tuned = interval[0] > 0.0;
        let name = objective.name();
        let of = if compared > 1 {
            format!(" for the best of {compared} trials")
        } else {
            String::new()
        };
        let reason = if tuned {
            format!(
                "trial {best} beats the defaults by {advantage:+.4} {name}: the 95 % interval{of} \
                 is {:+.4} to {:+.4}, above 0, so the tuned hyperparameters replace them",
                interval[0], interval[1]
            )
        } else {
            format!(
                "trial {best} scored {advantage:+.4} {name} over the defaults, but the 95 % \
                 interval{of} is {:+.4} to {:+.4}, which reaches 0: within the noise of \
                 {judged_by}, so the defaults stay",
                interval[0], interval[1]
            )
        };
        Decision {
            kept: if tuned { Kept::Tuned } else { Kept::Defaults },
            kept_trial: if tuned { best } else { 0 },
            best_trial: best,
            judged_by,
            method,
            advantage,
            interval,
            confidence: CONFIDENCE,
            compared,
            reason,
        }
    }
}

/// `ln Γ(x)` (Lanczos, g = 7, 9 terms; relative error below 1e-13 for x > 0).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularised incomplete beta function `I_x(a, b)` (continued fraction, as in
/// Numerical Recipes' `betai`).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    let fraction = |a: f64, b: f64, x: f64| {
        let tiny = 1e-300;
        let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
        d = 1.0 / if d.abs() < tiny { tiny } else { d };
        let mut h = d;
        for m in 1..300 {
            let m = f64::from(m);
            for num in [
                m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
                -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
            ] {
                d = 1.0 + num * d;
                d = 1.0 / if d.abs() < tiny { tiny } else { d };
                c = 1.0 + num / c;
                c = if c.abs() < tiny { tiny } else { c };
                h *= d * c;
            }
            if (d * c - 1.0).abs() < 1e-15 {
                break;
            }
        }
        h
    };
    if x < (a + 1.0) / (a + b + 2.0) {
        front * fraction(a, b, x) / a
    } else {
        1.0 - front * fraction(b, a, 1.0 - x) / b
    }
}

/// Student's t quantile: the `t` with `P(T ≤ t) = p` on `df` degrees of freedom, for
/// `p` in [0.5, 1) (bisection on the distribution function).
pub(crate) fn t_quantile(p: f64, df: usize) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    let v = df as f64;
    let upper_tail = |t: f64| 0.5 * incomplete_beta(v / 2.0, 0.5, v / (v + t * t));
    let target = 1.0 - p;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while upper_tail(hi) > target {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The standard normal quantile: the `z` with `P(Z ≤ z) = p`, for `p` in (0, 1) (Acklam's
/// rational approximation, relative error below 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const LOW: f64 = 0.02425;
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// The two-sided tail each end of a comparison's interval leaves out when the best of
/// `compared` trials is tested (Bonferroni: the [`CONFIDENCE`] holds for all of them at
/// once, so picking the best does not make noise look like a gain).
fn tail(compared: usize) -> f64 {
    (1.0 - CONFIDENCE) / 2.0 / compared.max(1) as f64
}

/// The corrected resampled t interval of per-fold advantages (`d[i]` = candidate − defaults
/// on fold i, positive is better), family-wise over `compared` trials.
pub fn folds_interval(d: &[f64], compared: usize) -> (f64, [f64; 2]) {
    let k = d.len();
    let mean = d.iter().sum::<f64>() / k as f64;
    if k < 2 {
        return (mean, [f64::NEG_INFINITY, f64::INFINITY]);
    }
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let se = ((1.0 / k as f64 + 1.0 / (k - 1) as f64) * var).sqrt();
    let half = t_quantile(1.0 - tail(compared), k - 1) * se;
    (mean, [mean - half, mean + half])
}

/// The objective of scores on rows weighted by `w` (a bootstrap's counts; all 1 for the
/// rows as they are). `order` sorts the rows by score, ascending.
fn weighted_objective(objective: Objective, y: &[u8], s: &[f32], order: &[u32], w: &[u32]) -> f64 {
    match objective {
        Objective::Auc => {
            // Mann-Whitney with tied scores counted half.
            let (mut neg_below, mut num, mut pos, mut neg) = (0.0, 0.0, 0.0, 0.0);
            let mut i = 0;
            while i < order.len() {
                let v = s[order[i] as usize];
                let (mut gp, mut gn) = (0.0, 0.0);
                while i < order.len() && s[order[i] as usize] == v {
                    let r = order[i] as usize;
                    if y[r] == 1 {
                        gp += f64::from(w[r]);
                    } else {
                        gn += f64::from(w[r]);
                    }
                    i += 1;
                }
                num += gp * (neg_below + 0.5 * gn);
                neg_below += gn;
                pos += gp;
                neg += gn;
            }
            if pos == 0.0 || neg == 0.0 {
                f64::NAN
            } else {
                num / (pos * neg)
            }
        }
        Objective::Logloss => {
            let (mut sum, mut n) = (0.0, 0.0);
            for i in 0..y.len() {
                let p = f64::from(s[i]).clamp(1e-15, 1.0 - 1e-15);
                let l = if y[i] == 1 { -p.ln() } else { -(1.0 - p).ln() };
                sum += f64::from(w[i]) * l;
                n += f64::from(w[i]);
            }
            sum / n
        }
        Objective::Error => {
            // libxgboost's `error`: a score above 0.5 is a predicted buyer.
            let (mut wrong, mut n) = (0.0, 0.0);
            for i in 0..y.len() {
                if u8::from(s[i] > 0.5) != y[i] {
                    wrong += f64::from(w[i]);
                }
                n += f64::from(w[i]);
            }
            wrong / n
        }
        Objective::F1 => {
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for i in 0..y.len() {
                let called = Threshold::DEFAULT.is_buyer(s[i]);
                let wi = f64::from(w[i]);
                match (called, y[i] == 1) {
                    (true, true) => tp += wi,
                    (true, false) => fp += wi,
                    (false, true) => fn_ += wi,
                    _ => {}
                }
            }
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            }
        }
    }
}

/// The paired bootstrap of `candidate` against `defaults` on the same validation rows:
/// the advantage on the rows as they are and its interval, family-wise over `compared`
/// trials: the advantage ± the normal quantile at `1 − 2.5 %/compared` times the standard
/// deviation of the advantage over [`BOOTSTRAP_RESAMPLES`] resamples (positive is better, in
/// `direction`). The standard error rather than percentiles: a percentile as far out as
/// 0.05 % (the best of 50 trials) would need tens of thousands of resamples, and cost
/// seconds where the error's 1,000 cost a tenth of one.
pub fn bootstrap_interval(
    objective: Objective,
    direction: Direction,
    labels: &[u8],
    candidate: &[f32],
    defaults: &[f32],
    seed: u64,
    compared: usize,
) -> Result<(f64, [f64; 2])> {
    let resamples = BOOTSTRAP_RESAMPLES;
    let n = labels.len();
    ensure!(
        candidate.len() == n && defaults.len() == n,
        setting "validation scores",
        "{} and {} scores for {n} labels", candidate.len(), defaults.len()
    );
    ensure!(
        labels.contains(&0) && labels.contains(&1),
        setting "validation labels",
        "both classes are needed to compare two models"
    );
    let sign = direction.sign();
    let sorted = |s: &[f32]| {
        let mut o: Vec<u32> = (0..n as u32).collect();
        o.sort_by(|&a, &b| s[a as usize].total_cmp(&s[b as usize]));
        o
    };
    let (oc, od) = (sorted(candidate), sorted(defaults));
    let advantage_at = |w: &[u32]| {
        sign * (weighted_objective(objective, labels, candidate, &oc, w)
            - weighted_objective(objective, labels, defaults, &od, w))
    };
    let whole = advantage_at(&vec![1; n]);
    let mut rng = Rng::new(seed ^ 0xb007);
    let mut w = vec![0u32; n];
    let mut draws = Vec::with_capacity(resamples);
    let mut tries = 0;
    while draws.len() < resamples && tries < 10 * resamples {
        tries += 1;
        w.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            w[rng.below(n)] += 1;
        }
        let d = advantage_at(&w);
        // A resample with one class has no AUC: drawn again.
        if d.is_finite() {
            draws.push(d);
        }
    }
    ensure!(
        draws.len() >= resamples / 2,
        setting "validation labels",
        "too few buyers among {n} validation rows to resample"
    );
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let se =
        (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64).sqrt();
    let half = normal_quantile(1.0 - tail(compared)) * se;
    Ok((whole, [whole - half, whole + half]))
}

/// Decide between trial 0 (the defaults) and the best trial of `trials`.
pub(super) fn decide(
    config: &TunerConfig,
    judged_by: Judging,
    trials: &[Trial],
    best: usize,
    validation_labels: Option<&[u8]>,
) -> Result<Decision> {
    let defaults = &trials[0];
    let best_trial = &trials[best];
    if best == 0 {
        return Ok(Decision::defaults_best(judged_by, trials.len()));
    }
    if defaults.objective.is_none() {
        let reason = match &defaults.status {
            TrialStatus::Failed { reason } => reason.clone(),
            _ => "no objective".into(),
        };
        return Ok(Decision {
            kept: Kept::Tuned,
            kept_trial: best_trial.number,
            best_trial: best_trial.number,
            judged_by,
            method: "none possible".into(),
            advantage: f64::NAN,
            interval: [f64::NAN, f64::NAN],
            confidence: CONFIDENCE,
            compared: 0,
            reason: format!(
                "the defaults (trial 0) failed ({reason}), so trial {} is kept",
                best_trial.number
            ),
        });
    }
    let sign = config.direction.sign();
    // The best was picked among every searched trial that has an objective.
    let compared = trials
        .iter()
        .filter(|t| t.number > 0 && t.objective.is_some())
        .count();
    let (advantage, interval, method) = match judged_by {
        Judging::Folds(k) => {
            let d: Vec<f64> = best_trial
                .fold_objectives
                .iter()
                .zip(&defaults.fold_objectives)
                .map(|(b, a)| sign * (b - a))
                .collect();
            let (mean, interval) = folds_interval(&d, compared);
            (
                mean,
                interval,
                format!(
                    "corrected resampled t over {k} folds (Nadeau & Bengio){}",
                    bonferroni(compared)
                ),
            )
        }
        Judging::Holdout => {
            let labels = validation_labels.expect("a holdout search has validation labels");
            let (Some(c), Some(d)) = (&best_trial.scores, &defaults.scores) else {
                return Err(Error::InvalidSetting {
                    name: "tuning".into(),
                    reason: "the compared trials kept no validation scores".into(),
                });
            };
            let (advantage, interval) = bootstrap_interval(
                config.objective,
                config.direction,
                labels,
                c,
                d,
                config.seed,
                compared,
            )?;
            (
                advantage,
                interval,
                bootstrap_method(labels.len(), compared),
            )
        }
    };
    Ok(Decision::from_interval(
        best_trial.number,
        judged_by,
        method,
        (advantage, interval),
        compared,
        config.objective,
    ))
}

/// How a bootstrap interval was computed, in words.
pub(crate) fn bootstrap_method(rows: usize, compared: usize) -> String {
    format!(
        "paired bootstrap of the {rows} validation rows ({BOOTSTRAP_RESAMPLES} resamples: the \
         standard error, a normal interval){}",
        bonferroni(compared)
    )
}

/// How the interval covers the trials compared, in words.
fn bonferroni(compared: usize) -> String {
    if compared > 1 {
        format!("; Bonferroni over {compared} trials")
    } else {
        String::new()
    }
}

/// Judge `candidate` (values of `config`'s tuned hyperparameters, set on `config.base`)
/// against `config.defaults` by the rule a search uses, as a search of those two trials
/// would: the same folds or validation rows, the same interval. For a refit judged outside
/// a search (our SageMaker image's job, after a SageMaker tuning job chose `candidate`).
pub fn compare(
    train: (&FeatureMatrix, &[u8]),
    validation: Option<(&FeatureMatrix, &[u8])>,
    config: impl IntoValid<TunerConfig>,
    candidate: BTreeMap<String, String>,
) -> Result<Decision> {
    let config = config.into_valid()?;
    let judged_by = config.cv_folds.resolve(train.1.len(), validation.is_some());
    let mut slot = Slot {
        sets: build_sets(train, validation, &config, judged_by)?,
    };
    let threads = config.base.threads();
    let names = train.0.names.clone();
    let keep_scores = judged_by == Judging::Holdout;
    let trials: Vec<Trial> = [config.defaults_values(), candidate]
        .into_iter()
        .enumerate()
        .map(|(n, values)| {
            run_trial(
                &mut slot,
                &config,
                values,
                n,
                threads,
                &[],
                &names,
                keep_scores,
            )
        })
        .collect();
    if let TrialStatus::Failed { reason } = &trials[1].status {
        return Err(Error::InvalidSetting {
            name: "hyperparameters".into(),
            reason: format!("the tuned hyperparameters failed to train: {reason}"),
        });
    }
    let sign = config.direction.sign();
    let best = best_index(&trials, sign).unwrap_or(1);
    decide(&config, judged_by, &trials, best, validation.map(|v| v.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t tables (and scipy.stats.t.ppf) to 3 decimals.
        for (p, df, t) in [
            (0.975, 1, 12.706),
            (0.975, 4, 2.776),
            (0.975, 30, 2.042),
            (0.95, 10, 1.812),
            (0.999, 4, 7.173),
            (0.995, 2, 9.925),
        ] {
            let got = t_quantile(p, df);
            assert!((got - t).abs() < 0.002, "t({p}, {df}) = {got}, tables {t}");
        }
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((incomplete_beta(2.0, 3.0, 0.4) - 0.5248).abs() < 1e-4);
        for (p, z) in [
            (0.975, 1.959_964),
            (0.9995, 3.290_527),
            (0.01, -2.326_348),
            (0.5, 0.0),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-5, "z({p})");
        }
    }

    #[test]
    fn the_corrected_interval_is_wider_than_the_naive_one() {
        let d = [0.002, 0.0015, 0.0025, 0.001, 0.002];
        let (mean, [lo, hi]) = folds_interval(&d, 1);
        assert!((mean - 0.0018).abs() < 1e-12);
        // s = 0.000570; naive half-width t·s/√5 = 0.000708; corrected √(1/5 + 1/4)·s·t.
        let s = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        let half = t_quantile(0.975, 4) * (0.45f64).sqrt() * s;
        assert!((hi - lo - 2.0 * half).abs() < 1e-6 * half);
        assert!(half > 2.776 * s / 5f64.sqrt());
        // The best of 20 trials needs more: t at 1 - 0.025/20 on 4 degrees of freedom.
        let (_, [lo20, hi20]) = folds_interval(&d, 20);
        assert!(hi20 - lo20 > 2.4 * (hi - lo));
    }

    #[test]
    fn weighted_objectives_equal_the_metrics_on_the_rows_as_they_are() {
        let y = [0u8, 1, 0, 1, 1, 0, 0, 1];
        let s = [0.1f32, 0.8, 0.4, 0.4, 0.9, 0.2, 0.6, 0.3];
        let mut order: Vec<u32> = (0..8).collect();
        order.sort_by(|&a, &b| s[a as usize].total_cmp(&s[b as usize]));
        let w = [1u32; 8];
        let auc = weighted_objective(Objective::Auc, &y, &s, &order, &w);
        assert!((auc - crate::metrics::roc_auc(&y, &s).unwrap()).abs() < 1e-12);
        let m = crate::metrics::evaluate(&y, &s, Threshold::DEFAULT).unwrap();
        assert!((weighted_objective(Objective::F1, &y, &s, &order, &w) - m.f1).abs() < 1e-12);
        // Two copies of every row: the same values.
        let w2 = [2u32; 8];
        assert!((weighted_objective(Objective::Auc, &y, &s, &order, &w2) - auc).abs() < 1e-12);
        let e = weighted_objective(Objective::Error, &y, &s, &order, &w);
        assert!((e - 3.0 / 8.0).abs() < 1e-12, "{e}");
    }

    #[test]
    fn the_bootstrap_tells_a_real_gain_from_noise() {
        // 2,000 rows; `good` ranks buyers well, `noisy` is `good` with a little noise, `bad`
        // ranks them barely above chance.
        let mut rng = Rng::new(3);
        let n = 2000;
        let y: Vec<u8> = (0..n).map(|_| u8::from(rng.uniform() < 0.3)).collect();
        let good: Vec<f32> = y
            .iter()
            .map(|&l| (0.35 * f64::from(l) + 0.65 * rng.uniform()) as f32)
            .collect();
        let noisy: Vec<f32> = good
            .iter()
            .map(|&g| (f64::from(g) + 0.01 * (rng.uniform() - 0.5)) as f32)
            .collect();
        let bad: Vec<f32> = y
            .iter()
            .map(|&l| (0.05 * f64::from(l) + 0.95 * rng.uniform()) as f32)
            .collect();
        let max = Direction::Maximize;
        let (adv, [lo, _]) =
            bootstrap_interval(Objective::Auc, max, &y, &good, &bad, 1, 1).unwrap();
        assert!(adv > 0.1 && lo > 0.0, "{adv} {lo}");
        let (_, [lo, hi]) =
            bootstrap_interval(Objective::Auc, max, &y, &noisy, &good, 1, 1).unwrap();
        assert!(lo < 0.0 && hi > 0.0, "{lo} {hi}");
        // Family-wise over 20 trials: wider.
        let (_, [lo20, hi20]) =
            bootstrap_interval(Objective::Auc, max, &y, &noisy, &good, 1, 20).unwrap();
        assert!(lo20 < lo && hi20 > hi, "{lo20} {hi20}");
        // A minimised objective: positive advantage still means better.
        let min = Direction::Minimize;
        let (adv, [lo, _]) =
            bootstrap_interval(Objective::Logloss, min, &y, &good, &bad, 1, 1).unwrap();
        assert!(adv > 0.0 && lo > 0.0, "{adv} {lo}");
        assert!(bootstrap_interval(Objective::Auc, max, &y[..10], &good, &bad, 1, 1).is_err());
    }

    #[test]
    fn cv_folds_read_and_write_as_text() {
        assert_eq!("auto".parse::<CvFolds>().unwrap(), CvFolds::Auto);
        assert_eq!("Off".parse::<CvFolds>().unwrap(), CvFolds::Off);
        assert_eq!("5".parse::<CvFolds>().unwrap(), CvFolds::Folds(5));
        assert!("five".parse::<CvFolds>().is_err());
        for c in [CvFolds::Auto, CvFolds::Off, CvFolds::Folds(3)] {
            let j = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<CvFolds>(&j).unwrap(), c);
        }
        assert_eq!(
            CvFolds::Auto.resolve(CV_AUTO_MAX_ROWS, true),
            Judging::Folds(5)
        );
        assert_eq!(
            CvFolds::Auto.resolve(CV_AUTO_MAX_ROWS + 1, true),
            Judging::Holdout
        );
        assert_eq!(
            CvFolds::Auto.resolve(CV_AUTO_MAX_ROWS + 1, false),
            Judging::Folds(5)
        );
    }
}
