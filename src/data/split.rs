//! A seeded, stratified train / validation / test split.
//!
//! Each class is shuffled on its own and cut at the requested shares, so every split keeps
//! the class balance to within one row of exact. Indices in each split are returned in
//! ascending order (the file's order), so the written files are easy to compare.
//!
//! ```
//! use purchase_predict::data::split::{SplitConfig, stratified_split};
//! let labels: Vec<u8> = (0..20).map(|i| u8::from(i % 4 == 0)).collect();
//! let s = stratified_split(&labels, &SplitConfig::default())?;
//! assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (10, 3, 7));
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{ensure, Check, Error, IntoValid, Result};
use crate::util::random::Rng;

/// Shares and seed of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Share of all rows held out for testing (default 0.3).
    pub test_share: f64,
    /// Share of the *training* rows cut off for validation (early stopping, tuning);
    /// default 0.2, that is 14 % of all rows. 0 means no validation split.
    pub validation_share: f64,
    /// Seed of the shuffle (default 42).
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            test_share: 0.3,
            validation_share: 0.2,
            seed: 42,
        }
    }
}

impl Check for SplitConfig {
    /// Validate the shares.
    fn check_ref(&self) -> Result<()> {
        ensure!(self.test_share > 0.0 && self.test_share < 1.0, setting "test_share", "must be in (0, 1), got {}", self.test_share);
        if !(0.0..1.0).contains(&self.validation_share) {
            return Err(Error::InvalidSetting {
                name: "validation_share".into(),
                reason: format!("must be in [0, 1), got {}", self.validation_share),
            });
        }
        Ok(())
    }
}

/// Row indices of each split, ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split 0/1 labels by class. Errors when a split would get no row of some class.
pub fn stratified_split(labels: &[u8], config: impl IntoValid<SplitConfig>) -> Result<Split> {
    let config = config.into_valid()?;
    let mut rng = Rng::new(config.seed);
    // Which split each row goes to; the splits are then read off in row order (sorted).
    let mut to = vec![Part::Train; labels.len()];
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        let n = idx.len();
        rng.shuffle(&mut idx);
        let n_test = (n as f64 * config.test_share).round() as usize;
        let n_rest = n - n_test;
        let n_val = (n_rest as f64 * config.validation_share).round() as usize;
        let n_train = n_rest - n_val;
        if n_test == 0 || n_train == 0 || (config.validation_share > 0.0 && n_val == 0) {
            return Err(Error::Split(format!(
                "class {class} has {n} rows: too few for a {:.0} % test share and a {:.0} % validation share",
                100.0 * config.test_share,
                100.0 * config.validation_share
            )));
        }
        for &i in &idx[..n_test] {
            to[i] = Part::Test;
        }
        for &i in &idx[n_test..n_test + n_val] {
            to[i] = Part::Validation;
        }
    }
    let count = |p: Part| to.iter().filter(|&&t| t == p).count();
    let mut split = Split {
        train: Vec::with_capacity(count(Part::Train)),
        validation: Vec::with_capacity(count(Part::Validation)),
        test: Vec::with_capacity(count(Part::Test)),
    };
    for (i, part) in to.into_iter().enumerate() {
        match part {
            Part::Train => split.train.push(i),
            Part::Validation => split.validation.push(i),
            Part::Test => split.test.push(i),
        }
    }
    Ok(split)
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Train,
    Validation,
    Test,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize, pos_every: usize) -> Vec<u8> {
        (0..n).map(|i| u8::from(i % pos_every == 0)).collect()
    }

    #[test]
    fn class_ratios_are_within_one_row_of_exact() {
        for (n, every) in [(1000, 9), (41188, 9), (1500, 2), (37, 3)] {
            let y = labels(n, every);
            let cfg = SplitConfig::default();
            let s = stratified_split(&y, &cfg).unwrap();
            let pos = |idx: &[usize]| idx.iter().filter(|&&i| y[i] == 1).count() as f64;
            let total_pos = pos(&(0..n).collect::<Vec<_>>());
            let test_expected = total_pos * cfg.test_share;
            assert!((pos(&s.test) - test_expected).abs() <= 1.0, "n={n}");
            let rest = total_pos - pos(&s.test);
            assert!((pos(&s.validation) - rest * cfg.validation_share).abs() <= 1.0);
            let mut all: Vec<usize> = s
                .train
                .iter()
                .chain(&s.validation)
                .chain(&s.test)
                .copied()
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "a partition of the rows");
            assert!((s.test.len() as f64 - n as f64 * 0.3).abs() <= 2.0);
        }
    }

    #[test]
    fn seed_decides_the_split() {
        let y = labels(500, 4);
        let a = stratified_split(&y, &SplitConfig::default()).unwrap();
        let b = stratified_split(&y, &SplitConfig::default()).unwrap();
        let c = stratified_split(
            &y,
            &SplitConfig {
                seed: 7,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn no_validation_and_bad_shares() {
        let y = labels(100, 2);
        let s = stratified_split(
            &y,
            &SplitConfig {
                validation_share: 0.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(s.validation.is_empty());
        assert_eq!(s.train.len(), 70);
        assert!(stratified_split(
            &y,
            &SplitConfig {
                test_share: 1.5,
                ..Default::default()
            }
        )
        .is_err());
        assert!(matches!(
            stratified_split(&[0, 0, 0, 1], &SplitConfig::default()),
            Err(Error::Split(_))
        ));
    }
}
