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
use polars::prelude::Column;

use crate::util::random::{hash_bytes, hash_u64, unit, Rng};

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

/// The split a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Train,
    Validation,
    Test,
}

/// The split of a table read in batches (`run --streaming`), or by several processes or
/// hosts: each row goes where a stable hash of its key falls (FNV-1a of the id's text when
/// the table has an id column, else of the row's index in the file), under the split's seed. The hash does not look at the label, so each class is cut at the same
/// shares: the split is stratified in expectation, and a split's class shares differ from the
/// table's by sampling noise only (a few standard errors, `sqrt(p(1-p)/n)`), where
/// [`stratified_split`] is within one row. The same customer lands in the same split in any
/// batch, order, process or host, and in every version.
///
/// ```
/// use purchase_predict::data::split::{HashSplit, Part, SplitConfig};
/// let split = HashSplit::new(&SplitConfig::default())?;
/// let parts = split.parts_of_rows(0, 100_000);
/// let test = parts.iter().filter(|&&p| p == Part::Test).count();
/// assert!((test as f64 / 100_000.0 - 0.3).abs() < 0.01);
/// # Ok::<(), purchase_predict::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HashSplit {
    test_share: f64,
    /// Test and validation together, as a share of all rows.
    held_out: f64,
    seed: u64,
}

impl HashSplit {
    /// The hash split with `config`'s shares and seed.
    pub fn new(config: impl IntoValid<SplitConfig>) -> Result<Self> {
        let c = config.into_valid()?;
        Ok(HashSplit {
            test_share: c.test_share,
            held_out: c.test_share + (1.0 - c.test_share) * c.validation_share,
            seed: c.seed,
        })
    }

    /// The split of a row whose key hashes to `hash`.
    pub fn part(&self, hash: u64) -> Part {
        let u = unit(hash);
        if u < self.test_share {
            Part::Test
        } else if u < self.held_out {
            Part::Validation
        } else {
            Part::Train
        }
    }

    /// The splits of rows `first..first + n` of a table without an id column.
    pub fn parts_of_rows(&self, first: usize, n: usize) -> Vec<Part> {
        (first..first + n)
            .map(|i| self.part(hash_u64(i as u64, self.seed)))
            .collect()
    }

    /// The splits of the rows whose ids are `ids` (a null id: its row's index, counted from
    /// `first`).
    pub fn parts_of_ids(&self, ids: &Column, first: usize) -> Result<Vec<Part>> {
        Ok(key_hashes(ids, first, self.seed)?
            .into_iter()
            .map(|h| self.part(h))
            .collect())
    }
}

/// Each row's stable hash under `seed`: of its id's text, or of its index (`first` + its
/// place) where the id is null.
pub fn key_hashes(ids: &Column, first: usize, seed: u64) -> Result<Vec<u64>> {
    let text = ids
        .cast(&polars::prelude::DataType::String)
        .map_err(|e| Error::polars(format!("id column `{}` as text", ids.name()), e))?;
    let ca = text
        .str()
        .map_err(|e| Error::polars(format!("id column `{}`", ids.name()), e))?;
    Ok(ca
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(v) => hash_bytes(v.as_bytes(), seed),
            None => hash_u64((first + i) as u64, seed),
        })
        .collect())
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
    fn the_hash_split_is_stable_and_stratified_within_sampling_noise() {
        use polars::prelude::*;
        let n = 200_000;
        let y = labels(n, 9);
        let split = HashSplit::new(&SplitConfig::default()).unwrap();
        let ids = Column::new(
            "id".into(),
            (0..n).map(|i| format!("c{i}")).collect::<Vec<_>>(),
        );
        let parts = split.parts_of_ids(&ids, 0).unwrap();
        // Any batching gives the same parts.
        let mut batched = Vec::new();
        for start in (0..n).step_by(7_777) {
            let len = 7_777.min(n - start);
            batched.extend(
                split
                    .parts_of_ids(&ids.slice(start as i64, len), start)
                    .unwrap(),
            );
        }
        assert_eq!(parts, batched);
        let positive_rate = y.iter().filter(|&&l| l == 1).count() as f64 / n as f64;
        for (part, share) in [
            (Part::Test, 0.3),
            (Part::Validation, 0.14),
            (Part::Train, 0.56),
        ] {
            let rows: Vec<usize> = (0..n).filter(|&i| parts[i] == part).collect();
            let m = rows.len() as f64;
            assert!((m / n as f64 - share).abs() < 4.0 * (share * (1.0 - share) / n as f64).sqrt());
            let pos = rows.iter().filter(|&&i| y[i] == 1).count() as f64 / m;
            let se = (positive_rate * (1.0 - positive_rate) / m).sqrt();
            assert!(
                (pos - positive_rate).abs() < 4.0 * se,
                "{part:?}: {pos} vs {positive_rate}"
            );
        }
        // Integer ids hash as their text; without ids, the row's index decides.
        let int_ids = Column::new("id".into(), (0..100i64).collect::<Vec<_>>());
        let text_ids = Column::new(
            "id".into(),
            (0..100).map(|i| i.to_string()).collect::<Vec<_>>(),
        );
        assert_eq!(
            split.parts_of_ids(&int_ids, 0).unwrap(),
            split.parts_of_ids(&text_ids, 0).unwrap()
        );
        assert_eq!(
            split.parts_of_rows(50, 10),
            split.parts_of_rows(0, 60)[50..]
        );
        let other = HashSplit::new(&SplitConfig {
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        assert_ne!(other.parts_of_rows(0, 100), split.parts_of_rows(0, 100));
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
