//! Hyperparameter tuning, locally, in the vocabulary of SageMaker's automatic model
//! tuning — so the same ranges can run here or as a SageMaker tuning job.
//!
//! - Ranges: [`ParameterRange::continuous`], [`ParameterRange::integer`],
//!   [`ParameterRange::categorical`], with [`Scaling`] `Auto`, `Linear`, `Logarithmic` or
//!   `ReverseLogarithmic` as SageMaker defines them.
//! - Objective `validation:auc` (also `validation:logloss`, `validation:error`,
//!   `validation:f1`), maximised or minimised.
//! - [`Strategy::Bayesian`]: a Gaussian process (Matérn 5/2 kernel on the unit-scaled ranges,
//!   length scale and noise chosen by marginal likelihood on a grid) with expected improvement,
//!   maximised over random and locally perturbed candidates, after `max(3, min(10, max_jobs /
//!   5))` random trials. The improvement asked for is half a standard deviation of the
//!   results so far: exploring that much keeps the search from chasing lucky validation
//!   scores (see `EXPLORATION` in the source for the measurements). With `max_parallel_jobs` > 1 the trials of one batch are proposed
//!   together ("constant liar": a pending point counts as the worst result so far, which
//!   spreads the batch out). [`Strategy::Random`] samples each range independently.
//! - `early_stopping_type = Auto`: a trial whose best validation score so far is worse than
//!   the median of earlier trials at the same round (at least 3 of them, from round 10 on) is
//!   stopped, keeping its best round — SageMaker's median stopping rule.
//! - Trials run `max_parallel_jobs` at a time with `cores / max_parallel_jobs` libxgboost
//!   threads each, so the cores are never oversubscribed. Batches run in lock-step, which
//!   makes a run reproducible from its seed whatever the timing.
//! - Trials are judged by 5-fold cross-validation of the training split up to
//!   [`CV_AUTO_MAX_ROWS`] training rows, on the validation split above ([`CvFolds`]).
//! - Trial 0 is the defaults (`TunerConfig::defaults`, what `run` trains), and the best trial
//!   replaces them only when its advantage is beyond the noise of the judging, family-wise over
//!   the trials searched ([`Decision`], [`TuningResult::kept`]; the rule is in `judge.rs`).
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use purchase_predict::model::tune::{tune, ParameterRange, Scaling, TunerConfig};
//! # fn demo(x: &purchase_predict::data::FeatureMatrix, y: &[u8],
//! #         vx: &purchase_predict::data::FeatureMatrix, vy: &[u8]) -> purchase_predict::Result<()> {
//! let ranges = BTreeMap::from([
//!     ("eta".to_string(), ParameterRange::continuous(0.01, 0.5).with_scaling(Scaling::Logarithmic)),
//!     ("max_depth".to_string(), ParameterRange::integer(2, 10)),
//! ]);
//! let config = TunerConfig::new(ranges).max_jobs(30).max_parallel_jobs(2).seed(7);
//! let result = tune((x, y), Some((vx, vy)), &config, &mut purchase_predict::util::progress::Silent)?;
//! println!("{:?}", result.best_training_job());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use polars::prelude::{Column, DataFrame};
use serde::{Deserialize, Serialize};

use crate::data::FeatureMatrix;
use crate::error::{Check, Error, IntoValid, Result};
use crate::metrics::evaluate;
use crate::model::train::{labeled_dmatrix, train_matrices};
use crate::model::xgboost::DMatrix;
use crate::model::Hyperparameters;
use crate::util::progress::{Progress, Silent};
use crate::util::random::Rng;

mod config;
mod gp;
pub(crate) mod judge;
mod ranges;
mod result;

pub use config::{Direction, EarlyStoppingType, Objective, Strategy, TunerConfig};
pub use judge::{
    bootstrap_interval, compare, folds_interval, CvFolds, Decision, Judging, Kept,
    BOOTSTRAP_RESAMPLES, CONFIDENCE, CV_AUTO_FOLDS, CV_AUTO_MAX_ROWS,
};
use ranges::bad_range;
pub use ranges::{ParameterRange, Scaling};
pub use result::{Trial, TrialStatus, TuningResult};

/// One worker's copy of the data (libxgboost matrices are not shared between threads).
struct Slot {
    /// (train, validation, validation labels): one, or one per fold.
    sets: Vec<(DMatrix, DMatrix, Vec<u8>)>,
}

fn folds(y: &[u8], k: usize, seed: u64) -> Vec<Vec<usize>> {
    // Stratified: each class shuffled and dealt round-robin over the folds.
    let mut rng = Rng::new(seed ^ 0xf01d);
    let mut out = vec![Vec::new(); k];
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut idx);
        for (j, i) in idx.into_iter().enumerate() {
            out[j % k].push(i);
        }
    }
    for f in &mut out {
        f.sort_unstable();
    }
    out
}

fn build_sets(
    train: (&FeatureMatrix, &[u8]),
    validation: Option<(&FeatureMatrix, &[u8])>,
    config: &TunerConfig,
    judged_by: Judging,
) -> Result<Vec<(DMatrix, DMatrix, Vec<u8>)>> {
    let (x, y) = train;
    match judged_by {
        Judging::Holdout => {
            let (vx, vy) = validation.ok_or_else(|| Error::InvalidSetting {
                name: "validation".into(),
                reason: "tuning needs a validation split (validation share > 0) or cv_folds".into(),
            })?;
            Ok(vec![(
                labeled_dmatrix(x, y)?,
                labeled_dmatrix(vx, vy)?,
                vy.to_vec(),
            )])
        }
        Judging::Folds(k) => {
            let parts = folds(y, k, config.seed);
            if parts
                .iter()
                .any(|p| p.iter().all(|&i| y[i] == 0) || p.iter().all(|&i| y[i] == 1))
            {
                return Err(Error::Split(format!(
                    "{k} folds of {} rows leave a fold with a single class (set cv_folds to \
                     fewer folds, or off to judge on the validation split)",
                    y.len()
                )));
            }
            parts
                .iter()
                .map(|held| {
                    let held_set: std::collections::HashSet<usize> = held.iter().copied().collect();
                    let rest: Vec<usize> = (0..y.len()).filter(|i| !held_set.contains(i)).collect();
                    let pick = |idx: &[usize]| idx.iter().map(|&i| y[i]).collect::<Vec<u8>>();
                    Ok((
                        labeled_dmatrix(&x.take(&rest), &pick(&rest))?,
                        labeled_dmatrix(&x.take(held), &pick(held))?,
                        pick(held),
                    ))
                })
                .collect()
        }
    }
}

/// Median-rule reference: the best-so-far curves of earlier trials.
fn median_at(curves: &[Vec<f64>], round: usize) -> Option<f64> {
    let mut v: Vec<f64> = curves
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c[round.min(c.len() - 1)])
        .collect();
    if v.len() < 3 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Rounds before the median rule may stop a trial.
const MEDIAN_RULE_FROM_ROUND: usize = 10;

#[allow(clippy::too_many_arguments)]
fn run_trial(
    slot: &mut Slot,
    config: &TunerConfig,
    values: BTreeMap<String, String>,
    number: usize,
    threads: usize,
    reference: &[Vec<f64>],
    feature_names: &[String],
    keep_scores: bool,
) -> Trial {
    let started = Instant::now();
    let failed = |reason: String, values: BTreeMap<String, String>| Trial {
        number,
        hyperparameters: values,
        objective: None,
        rounds: 0,
        status: TrialStatus::Failed { reason },
        seconds: started.elapsed().as_secs_f64(),
        fold_objectives: Vec::new(),
        curve: Vec::new(),
        scores: None,
    };
    let hp = if number == 0 {
        Ok(config.defaults_hyperparameters())
    } else {
        config.hyperparameters(&values)
    };
    let mut hp = match hp {
        Ok(hp) => hp,
        Err(e) => return failed(e.to_string(), values),
    };
    hp.nthread = Some(threads);
    let hp = match hp.check() {
        Ok(hp) => hp,
        Err(e) => return failed(e.to_string(), values),
    };
    let higher = config.objective.round_metric_higher_is_better();
    // The median rule compares curves on one validation split; across folds it would compare
    // one fold's curve with another's.
    let prune = config.early_stopping_type == EarlyStoppingType::Auto && slot.sets.len() == 1;
    let mut curve = Vec::new();
    let mut scores = None;
    let mut objectives = Vec::new();
    let mut rounds = Vec::new();
    let mut stopped = None;
    for (dtrain, dval, val_labels) in &slot.sets {
        let mut keep_going = |round: usize, best: f64| {
            curve.push(best);
            if !prune || round + 1 < MEDIAN_RULE_FROM_ROUND {
                return true;
            }
            match median_at(reference, round) {
                Some(m) if higher => best >= m,
                Some(m) => best <= m,
                None => true,
            }
        };
        let trained = match train_matrices(
            dtrain,
            Some(dval),
            feature_names,
            &hp,
            &mut Silent,
            &mut keep_going,
        ) {
            Ok(t) => t,
            Err(e) => return failed(e.to_string(), values),
        };
        if let Some(r) = trained.pruned_at {
            stopped = Some(r + 1);
        }
        let Some((_, best)) = trained.best else {
            return failed("no validation value".into(), values);
        };
        let predicted = if config.objective == Objective::F1 || keep_scores {
            // The final (best-round) model's scores on this validation set.
            match trained.model.booster().predict(dval, None) {
                Ok(s) => Some(s),
                Err(e) => return failed(e.to_string(), values),
            }
        } else {
            None
        };
        let objective = match (&predicted, config.objective) {
            // F1 at 0.5 of the final model.
            (Some(p), Objective::F1) => {
                match evaluate(val_labels, p, crate::metrics::Threshold::DEFAULT) {
                    Ok(m) => m.f1,
                    Err(e) => return failed(e.to_string(), values),
                }
            }
            _ => best,
        };
        if keep_scores {
            scores = predicted;
        }
        objectives.push(objective);
        rounds.push(trained.model.rounds);
    }
    let n = objectives.len() as f64;
    Trial {
        number,
        hyperparameters: values,
        objective: Some(objectives.iter().sum::<f64>() / n),
        rounds: (rounds.iter().sum::<usize>() as f64 / n).round() as usize,
        status: match stopped {
            Some(at_round) => TrialStatus::Stopped { at_round },
            None => TrialStatus::Completed,
        },
        seconds: started.elapsed().as_secs_f64(),
        fold_objectives: objectives,
        curve,
        scores,
    }
}

/// Search the hyperparameters of `config.ranges`, training on `train` and judging on
/// `validation` or by k-fold cross-validation of `train` (`config.cv_folds`; by default
/// cross-validation up to [`CV_AUTO_MAX_ROWS`] training rows).
///
/// Trial 0 is `config.defaults` (the hyperparameters without tuning), judged like every
/// other trial; then `max_jobs` trials search the ranges from `config.base`. The best trial replaces the defaults only when its
/// advantage is beyond the noise of the judging ([`Decision`]); [`TuningResult::kept`] is
/// the trial to refit.
pub fn tune(
    train: (&FeatureMatrix, &[u8]),
    validation: Option<(&FeatureMatrix, &[u8])>,
    config: impl IntoValid<TunerConfig>,
    progress: &mut dyn Progress,
) -> Result<TuningResult> {
    let config = config.into_valid()?;
    let config: &TunerConfig = &config;
    let started = Instant::now();
    let judged_by = config.cv_folds.resolve(train.1.len(), validation.is_some());
    let keep_scores = judged_by == Judging::Holdout;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = config.max_jobs + 1;
    let parallel = config.max_parallel_jobs;
    let threads = config
        .base
        .nthread
        .unwrap_or(cores)
        .checked_div(parallel)
        .unwrap_or(1)
        .max(1);
    let mut slots: Vec<Slot> = (0..parallel.min(total))
        .map(|_| {
            Ok(Slot {
                sets: build_sets(train, validation, config, judged_by)?,
            })
        })
        .collect::<Result<_>>()?;
    let feature_names = train.0.names.clone();
    let sign = config.direction.sign();
    let mut rng = Rng::new(config.seed);
    let mut trials: Vec<Trial> = Vec::with_capacity(total);
    progress.start("tuning", total as u64);
    while trials.len() < total {
        let batch = slots.len().min(total - trials.len());
        let proposals = if trials.is_empty() {
            let mut first = vec![config.defaults_values()];
            first.extend(propose(config, &trials, sign, batch - 1, &mut rng));
            first
        } else {
            propose(config, &trials, sign, batch, &mut rng)
        };
        let reference: Vec<Vec<f64>> = trials.iter().map(|t| t.curve.clone()).collect();
        let first = trials.len();
        let results: Vec<Mutex<Option<Trial>>> = (0..batch).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for (k, (values, slot)) in proposals.into_iter().zip(slots.iter_mut()).enumerate() {
                let (results, reference, names) = (&results, &reference, &feature_names);
                s.spawn(move || {
                    let t = run_trial(
                        slot,
                        config,
                        values,
                        first + k,
                        threads,
                        reference,
                        names,
                        keep_scores,
                    );
                    *results[k].lock().expect("trial slot") = Some(t);
                });
            }
        });
        for r in results {
            trials.push(r.into_inner().expect("trial slot").expect("trial ran"));
        }
        let best = best_index(&trials, sign);
        // Only the defaults' and the best trial's scores are needed for the decision.
        for (i, t) in trials.iter_mut().enumerate() {
            if i != 0 && Some(i) != best {
                t.scores = None;
            }
        }
        let message = match best {
            Some(b) => format!(
                "best {} {:.5} (trial {})",
                config.objective.name(),
                trials[b].objective.unwrap_or(f64::NAN),
                trials[b].number
            ),
            None => "no trial succeeded yet".into(),
        };
        progress.update(trials.len() as u64, &message);
    }
    let best = best_index(&trials, sign).ok_or_else(|| {
        let reason = trials
            .iter()
            .find_map(|t| match &t.status {
                TrialStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_default();
        Error::InvalidSetting {
            name: "tuning".into(),
            reason: format!("all {} trials failed; the first: {reason}", trials.len()),
        }
    })?;
    let decision = judge::decide(config, judged_by, &trials, best, validation.map(|v| v.1))?;
    for t in &mut trials {
        t.scores = None;
    }
    progress.finish(&format!(
        "best {} {:.5} (trial {}); keeping {}",
        config.objective.name(),
        trials[best].objective.unwrap_or(f64::NAN),
        trials[best].number,
        match decision.kept {
            Kept::Defaults => "the defaults".to_string(),
            Kept::Tuned => format!("trial {}", decision.kept_trial),
        }
    ));
    Ok(TuningResult {
        config: config.clone(),
        trials,
        best,
        judged_by,
        decision,
        threads_per_trial: threads,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn best_index(trials: &[Trial], sign: f64) -> Option<usize> {
    trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.objective.filter(|v| v.is_finite()).map(|v| (i, v * sign)))
        // The first of equals wins: earlier trials are no worse for being earlier.
        .fold(None, |acc: Option<(usize, f64)>, (i, v)| match acc {
            Some((_, b)) if b >= v => acc,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// Random trials before the Gaussian process takes over.
pub(crate) fn initial_random_trials(max_jobs: usize) -> usize {
    (max_jobs / 5).clamp(3, 10)
}

/// The next `n` sets of values to try.
fn propose(
    config: &TunerConfig,
    trials: &[Trial],
    sign: f64,
    n: usize,
    rng: &mut Rng,
) -> Vec<BTreeMap<String, String>> {
    // Trial 0 (the defaults) informs the Gaussian process where its values lie inside the
    // ranges, but does not count as one of the random trials.
    let defaults_in_search = config.defaults_in_search();
    let observed: Vec<(Vec<f64>, f64)> = trials
        .iter()
        .filter(|t| t.number > 0 || defaults_in_search)
        .filter_map(|t| {
            t.objective
                .filter(|v| v.is_finite())
                .map(|v| (config.encode(&t.hyperparameters), v * sign))
        })
        .collect();
    let searched = trials
        .iter()
        .filter(|t| t.number > 0 && t.objective.is_some_and(f64::is_finite))
        .count();
    let bayesian =
        config.strategy == Strategy::Bayesian && searched >= initial_random_trials(config.max_jobs);
    let mut pending: Vec<Vec<f64>> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let point = if bayesian {
            gp::next_point(config, &observed, &pending, rng)
        } else {
            config.random_point(rng)
        };
        let values = config.decode(&point);
        pending.push(config.encode(&values));
        out.push(values);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ranges::resolve;
    use super::*;

    #[test]
    fn invalid_ranges_are_named() {
        let check = |r: ParameterRange| r.check("eta").unwrap_err().to_string();
        assert!(
            check(ParameterRange::continuous(0.5, 0.1)).contains("min 0.5 must be below max 0.1")
        );
        assert!(
            check(ParameterRange::continuous(0.0, 1.0).with_scaling(Scaling::Logarithmic))
                .contains("logarithmic scaling needs min > 0")
        );
        assert!(check(
            ParameterRange::continuous(0.5, 1.0).with_scaling(Scaling::ReverseLogarithmic)
        )
        .contains("0 ≤ min < max < 1"));
        assert!(check(ParameterRange::integer(5, 2)).contains("min 5 is above max 2"));
        assert!(check(ParameterRange::categorical(Vec::<String>::new())).contains("at least one"));
        assert!(check(ParameterRange::categorical(["hist", "hist"])).contains("listed twice"));
        let cfg = TunerConfig::new(BTreeMap::from([(
            "shoe_size".to_string(),
            ParameterRange::integer(1, 2),
        )]));
        assert!(cfg
            .check_ref()
            .unwrap_err()
            .to_string()
            .contains("unknown hyperparameter"));
        let cfg = TunerConfig::new(BTreeMap::from([(
            "max_depth".to_string(),
            ParameterRange::integer(-3, 2),
        )]));
        assert!(cfg
            .check_ref()
            .unwrap_err()
            .to_string()
            .contains("max_depth"));
        let cfg = TunerConfig::new(TunerConfig::default_ranges()).max_parallel_jobs(0);
        assert!(cfg.check_ref().is_err());
        assert!(TunerConfig::new(BTreeMap::new()).check_ref().is_err());
    }

    #[test]
    fn scalings_cover_their_ranges_as_sagemaker_defines_them() {
        let mut rng = Rng::new(1);
        let log = ParameterRange::continuous(0.001, 10.0).with_scaling(Scaling::Logarithmic);
        let below_0_01 = (0..4000)
            .map(|_| log.decode(&log.random(&mut rng)).parse::<f64>().unwrap())
            .filter(|v| *v < 0.01)
            .count();
        // Uniform in log space: a quarter of the draws in the first of four decades.
        assert!((800..1200).contains(&below_0_01), "{below_0_01}");
        let rev = ParameterRange::continuous(0.0, 0.999).with_scaling(Scaling::ReverseLogarithmic);
        let above_0_99 = (0..3000)
            .map(|_| rev.decode(&rev.random(&mut rng)).parse::<f64>().unwrap())
            .filter(|v| *v > 0.99)
            .count();
        assert!((800..1200).contains(&above_0_99), "{above_0_99}");
        let int = ParameterRange::integer(2, 4);
        let mut counts = [0; 3];
        for _ in 0..3000 {
            let v: i64 = int.decode(&int.random(&mut rng)).parse().unwrap();
            counts[(v - 2) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
        // encode inverts decode.
        for v in ["0.001", "0.1", "10"] {
            let u = log.encode(v);
            let back: f64 = log.decode(&u).parse().unwrap();
            assert!((back - v.parse::<f64>().unwrap()).abs() < 1e-9);
        }
        assert_eq!(resolve(0.01, 0.5, Scaling::Auto), Scaling::Linear);
        assert_eq!(resolve(0.001, 1.0, Scaling::Auto), Scaling::Logarithmic);
    }

    #[test]
    fn the_gaussian_process_beats_random_search_on_a_smooth_function() {
        // Six continuous dimensions, the optimum inside the cube.
        let names = [
            "eta",
            "subsample",
            "colsample_bytree",
            "gamma",
            "lambda",
            "alpha",
        ];
        let config = TunerConfig::new(
            names
                .iter()
                .map(|n| (n.to_string(), ParameterRange::continuous(0.1, 1.0)))
                .collect(),
        );
        let centre = [0.7, 0.2, 0.5, 0.9, 0.35, 0.6];
        let f = |u: &[f64]| {
            -u.iter()
                .zip(centre)
                .map(|(a, c)| (a - c).powi(2))
                .sum::<f64>()
        };
        let search = |bayesian: bool, seed: u64| {
            let mut rng = Rng::new(seed);
            let mut observed: Vec<(Vec<f64>, f64)> = Vec::new();
            for i in 0..30 {
                let x = if bayesian && i >= 10 {
                    gp::next_point(&config, &observed, &[], &mut rng)
                } else {
                    config.random_point(&mut rng)
                };
                let y = f(&x);
                observed.push((x, y));
            }
            observed
                .iter()
                .map(|o| o.1)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let (mut g, mut r): (Vec<f64>, Vec<f64>) = (0..5)
            .map(|seed| (search(true, seed), search(false, seed)))
            .unzip();
        g.sort_by(f64::total_cmp);
        r.sort_by(f64::total_cmp);
        // Median of 5 seeds: the Gaussian process gets at least three times closer.
        assert!(
            g[2] > r[2] / 3.0,
            "GP median best {} vs random {}",
            g[2],
            r[2]
        );
    }

    #[test]
    fn median_rule_needs_three_references() {
        let c = |v: &[f64]| v.to_vec();
        assert_eq!(median_at(&[c(&[0.5]), c(&[0.6])], 0), None);
        // Shorter curves hold their last value.
        assert_eq!(
            median_at(&[c(&[0.5]), c(&[0.6, 0.7]), c(&[0.8, 0.9])], 1),
            Some(0.7)
        );
    }

    #[test]
    fn folds_are_stratified_and_cover_every_row_once() {
        let y: Vec<u8> = (0..100).map(|i| u8::from(i % 5 == 0)).collect();
        let f = folds(&y, 4, 1);
        let mut all: Vec<usize> = f.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for fold in &f {
            assert_eq!(fold.iter().filter(|&&i| y[i] == 1).count(), 5);
        }
    }
}
