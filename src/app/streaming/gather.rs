//! What the hosts of a job on several instances exchange beside what libxgboost reduces
//! itself, each through [`Peers::all_gather`] so that every host holds the same result:
//!
//! - the training rows' [`FitStatistics`], merged in the hosts' order: one [`Preprocessor`]
//!   on every host, so every shard gets the same columns whatever categories it holds;
//! - the rows per split and class, read and batches, summed;
//! - the monitoring baseline's sample: the rows of the smallest hashes over every host;
//! - the logistic baseline's sample of training rows (every host fits the same baseline);
//! - the validation and test labels and scores the first host evaluates (a seeded sample of
//!   at most [`EVALUATED_MAX_ROWS`] of each when larger).
//!
//! With one process ([`crate::model::xgboost::collective::Alone`]) each step returns its
//! input unchanged.
//!
//! [`Preprocessor`]: crate::prep::Preprocessor

use std::io::Cursor;

use polars::prelude::*;

use super::BottomK;
use crate::error::{Error, Result};
use crate::model::xgboost::collective::Peers;
use crate::prep::FitStatistics;
use crate::util::random::{hash_u64, unit};

/// Validation or test rows gathered from the hosts for the metrics at most: the ROC AUC of two
/// million rows has a standard error near 0.0003, and they take 18 MB on each host.
pub const EVALUATED_MAX_ROWS: usize = 2_000_000;
const EVALUATED_SAMPLE_SEED: u64 = 0xE7A2;

/// Every host's statistics merged in the hosts' order.
pub(super) fn statistics(peers: &dyn Peers, own: FitStatistics) -> Result<FitStatistics> {
    if peers.count() == 1 {
        return Ok(own);
    }
    let bytes = serde_json::to_vec(&own).map_err(|e| Error::json("statistics", e))?;
    let mut merged: Option<FitStatistics> = None;
    for (host, part) in peers.all_gather(&bytes)?.into_iter().enumerate() {
        let s: FitStatistics =
            serde_json::from_slice(&part).map_err(|e| Error::json("statistics", e))?;
        match &mut merged {
            None => merged = Some(s),
            Some(m) => m.merge(&s).map_err(|e| {
                Error::Collective(format!(
                    "the table on host {} does not match the first host's: {e}",
                    host + 1
                ))
            })?,
        }
    }
    Ok(merged.expect("at least one host"))
}

/// The monitoring baseline's sample: the `k` rows of the smallest hashes over every host.
/// Only the first host's result is used (the others get theirs back).
pub(super) fn reference(peers: &dyn Peers, mut own: BottomK) -> Result<DataFrame> {
    if peers.count() == 1 {
        return own.finish();
    }
    own.compact()?;
    let mut all: Vec<u64> = peers.gather_u64(&own.hashes)?.concat();
    all.sort_unstable();
    let threshold = all
        .get(own.k.saturating_sub(1))
        .copied()
        .unwrap_or(u64::MAX);
    let keep: Vec<usize> = (0..own.hashes.len())
        .filter(|&i| own.hashes[i] <= threshold)
        .collect();
    let mut rows = match &own.frame {
        Some(f) => super::take(f, &keep)?,
        None => DataFrame::empty(),
    };
    let mut bytes = Vec::new();
    if rows.height() > 0 {
        ParquetWriter::new(&mut bytes)
            .finish(&mut rows)
            .map_err(|e| Error::polars("the monitoring sample", e))?;
    }
    let parts = peers.all_gather(&bytes)?;
    if peers.index() != 0 {
        return Ok(rows);
    }
    let mut out: Option<DataFrame> = None;
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        let df = ParquetReader::new(Cursor::new(part))
            .finish()
            .map_err(|e| Error::polars("the monitoring sample", e))?;
        match &mut out {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df)
                    .map_err(|e| Error::polars("the monitoring sample", e))?;
            }
        }
    }
    out.ok_or_else(|| Error::Shape("no row was sampled".into()))
}

/// Rows of features and labels from every host, in the hosts' order.
pub(super) fn rows(peers: &dyn Peers, x: Vec<f32>, y: Vec<u8>) -> Result<(Vec<f32>, Vec<u8>)> {
    if peers.count() == 1 {
        return Ok((x, y));
    }
    let mut bytes = Vec::with_capacity(8 + y.len() + 4 * x.len());
    bytes.extend((y.len() as u64).to_le_bytes());
    bytes.extend(&y);
    bytes.extend(x.iter().flat_map(|v| v.to_le_bytes()));
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for part in peers.all_gather(&bytes)? {
        let n = u64::from_le_bytes(part[..8].try_into().expect("8 bytes")) as usize;
        ys.extend_from_slice(&part[8..8 + n]);
        xs.extend(
            part[8 + n..]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
        );
    }
    Ok((xs, ys))
}

/// Labels and scores (and the baseline's scores, when given) of a split from every host, for
/// the first host's metrics: all of them up to [`EVALUATED_MAX_ROWS`] over the hosts
/// (`total`), else a seeded sample of that many. `key_base` makes this host's rows' keys its
/// own.
pub(super) fn scores(
    peers: &dyn Peers,
    total: usize,
    key_base: u64,
    seed: u64,
    labels: Vec<u8>,
    scores: Vec<f32>,
    baseline: Vec<f32>,
) -> Result<(Vec<u8>, Vec<f32>, Vec<f32>)> {
    if peers.count() == 1 {
        return Ok((labels, scores, baseline));
    }
    let rate = (EVALUATED_MAX_ROWS as f64 / total.max(1) as f64).min(1.0);
    let seed = seed ^ EVALUATED_SAMPLE_SEED;
    let with_baseline = !baseline.is_empty();
    let mut bytes = Vec::new();
    for i in 0..labels.len() {
        if rate < 1.0 && unit(hash_u64(key_base + i as u64, seed)) >= rate {
            continue;
        }
        bytes.push(labels[i]);
        bytes.extend(scores[i].to_le_bytes());
        if with_baseline {
            bytes.extend(baseline[i].to_le_bytes());
        }
    }
    let width = if with_baseline { 9 } else { 5 };
    let (mut y, mut s, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for part in peers.all_gather(&bytes)? {
        for row in part.chunks_exact(width) {
            y.push(row[0]);
            s.push(f32::from_le_bytes(row[1..5].try_into().expect("4 bytes")));
            if with_baseline {
                b.push(f32::from_le_bytes(row[5..9].try_into().expect("4 bytes")));
            }
        }
    }
    Ok((y, s, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::xgboost::collective::Alone;
    use std::cell::RefCell;

    /// Three hosts simulated in one process: each call of `all_gather` by "host" `index`
    /// returns what the scripted others sent.
    struct Scripted {
        index: usize,
        others: RefCell<Vec<Vec<Vec<u8>>>>,
    }

    impl Peers for Scripted {
        fn index(&self) -> usize {
            self.index
        }
        fn count(&self) -> usize {
            3
        }
        fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
            let mut parts = self.others.borrow_mut().remove(0);
            parts.insert(self.index, bytes.to_vec());
            Ok(parts)
        }
    }

    #[test]
    fn rows_and_scores_come_back_in_the_hosts_order() {
        let (x, y) = rows(&Alone, vec![1.0, 2.0], vec![1]).unwrap();
        assert_eq!((x, y), (vec![1.0, 2.0], vec![1]));
        let pack = |y: u8, x: [f32; 2]| {
            let mut b = 1u64.to_le_bytes().to_vec();
            b.push(y);
            b.extend(x.iter().flat_map(|v| v.to_le_bytes()));
            b
        };
        let peers = Scripted {
            index: 1,
            others: RefCell::new(vec![vec![pack(0, [0.0, 0.5]), pack(1, [9.0, 9.5])]]),
        };
        let (x, y) = rows(&peers, vec![3.0, 3.5], vec![1]).unwrap();
        assert_eq!(y, vec![0, 1, 1]);
        assert_eq!(x, vec![0.0, 0.5, 3.0, 3.5, 9.0, 9.5]);

        let row = |y: u8, s: f32| {
            let mut b = vec![y];
            b.extend(s.to_le_bytes());
            b
        };
        let peers = Scripted {
            index: 0,
            others: RefCell::new(vec![vec![row(1, 0.9), row(0, 0.2)]]),
        };
        let (y, s, b) = scores(&peers, 3, 0, 7, vec![0], vec![0.1], Vec::new()).unwrap();
        assert_eq!((y, s, b), (vec![0, 1, 0], vec![0.1, 0.9, 0.2], vec![]));
    }
}
