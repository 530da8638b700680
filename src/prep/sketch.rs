//! A mergeable quantile sketch (KLL: Karnin, Lang and Liberty, "Optimal Quantile
//! Approximation in Streams", 2016), for the medians of columns too large to sort.
//!
//! Values enter level 0; a level that fills is sorted and every other value (from a seeded
//! coin's offset) moves one level up with twice the weight. Level capacities shrink by 2/3
//! from the top, so the sketch holds about `3k` values whatever it has seen. Two sketches of
//! different batches, processes or hosts merge level by level into the sketch of both.
//!
//! **Error.** With `k` = [`DEFAULT_K`] (2,048) the rank of a returned quantile is within
//! [`KllSketch::rank_error`] (0.14 % of the values, the bound Apache DataSketches gives for
//! KLL at 99 % confidence, `2.296 / k^0.9723`) of the asked rank. The tests check that bound
//! on a million values over many seeds. A median is then a value whose rank is within
//! 0.14 percentage points of 50 %; below `k` values the sketch holds every value and is exact
//! (up to the average of the two middle values an even count's median takes).
//!
//! ```
//! use purchase_predict::prep::sketch::KllSketch;
//! let mut a = KllSketch::new(7);
//! let mut b = KllSketch::new(8);
//! for i in 0..100_000 { a.update(i as f64); }
//! for i in 100_000..200_000 { b.update(i as f64); }
//! a.merge(&b);
//! let median = a.quantile(0.5).unwrap();
//! assert!((median - 100_000.0).abs() <= 200_000.0 * a.rank_error());
//! ```

use serde::{Deserialize, Serialize};

use crate::util::random::Rng;

/// The sketch's accuracy parameter: the top level's capacity.
pub const DEFAULT_K: u32 = 2048;

/// A KLL quantile sketch of `f64` values (non-finite values are the caller's to leave out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketch {
    k: u32,
    /// Values seen (each weighs 1).
    n: u64,
    /// `levels[h]` holds values of weight `2^h`.
    levels: Vec<Vec<f64>>,
    /// The coin's state: compactions are reproducible from the seed and the order of updates.
    coin: u64,
}

impl KllSketch {
    /// An empty sketch with `k` = [`DEFAULT_K`] whose compactions follow `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_k(DEFAULT_K, seed)
    }

    /// An empty sketch with accuracy `k` (at least 8).
    pub fn with_k(k: u32, seed: u64) -> Self {
        KllSketch {
            k: k.max(8),
            n: 0,
            levels: vec![Vec::new()],
            coin: Rng::new(seed).next_u64() | 1,
        }
    }

    /// Values seen.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The bound on a quantile's normalised rank error at 99 % confidence, `2.296 / k^0.9723`
    /// (0 while the sketch still holds every value).
    pub fn rank_error(&self) -> f64 {
        if self.levels.len() == 1 {
            0.0
        } else {
            2.296 / f64::from(self.k).powf(0.9723)
        }
    }

    /// Add one value.
    pub fn update(&mut self, x: f64) {
        self.levels[0].push(x);
        self.n += 1;
        if self.levels[0].len() >= self.capacity(0) {
            self.compress();
        }
    }

    /// Fold `other` (the sketch of other values) into this one.
    pub fn merge(&mut self, other: &KllSketch) {
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (h, level) in other.levels.iter().enumerate() {
            self.levels[h].extend_from_slice(level);
        }
        self.n += other.n;
        self.coin ^= other.coin.rotate_left(17);
        self.coin |= 1;
        self.compress();
    }

    /// The value at normalised rank `q` in [0, 1] (`None` before any value). With every value
    /// still held, `q = 0.5` of an even count is the mean of the two middle values, as a
    /// median is usually defined.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        if self.levels.len() == 1 {
            let mut v = self.levels[0].clone();
            v.sort_unstable_by(f64::total_cmp);
            let n = v.len();
            return Some(if q == 0.5 && n % 2 == 0 {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            } else {
                v[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
            });
        }
        let mut weighted: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, l)| l.iter().map(move |&x| (x, 1u64 << h)))
            .collect();
        weighted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = weighted.iter().map(|w| w.1).sum();
        let target = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut cumulative = 0u64;
        for (x, w) in &weighted {
            cumulative += w;
            if cumulative as f64 >= target {
                return Some(*x);
            }
        }
        weighted.last().map(|w| w.0)
    }

    /// The capacity of level `h` of the current height.
    fn capacity(&self, h: usize) -> usize {
        let depth = (self.levels.len() - 1 - h) as i32;
        ((f64::from(self.k) * (2.0f64 / 3.0).powi(depth)).ceil() as usize).max(2)
    }

    fn total_capacity(&self) -> usize {
        (0..self.levels.len()).map(|h| self.capacity(h)).sum()
    }

    fn held(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Compact the lowest full level until the sketch is within its capacity.
    fn compress(&mut self) {
        while self.held() >= self.total_capacity() {
            let Some(h) =
                (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacity(h))
            else {
                break;
            };
            if h + 1 == self.levels.len() {
                self.levels.push(Vec::new());
            }
            let mut level = std::mem::take(&mut self.levels[h]);
            level.sort_unstable_by(f64::total_cmp);
            // An odd value out stays at its level.
            if level.len() % 2 == 1 {
                let last = level.pop().expect("odd length");
                self.levels[h].push(last);
            }
            self.coin ^= self.coin << 13;
            self.coin ^= self.coin >> 7;
            self.coin ^= self.coin << 17;
            let offset = (self.coin & 1) as usize;
            let promoted = level.iter().skip(offset).step_by(2).copied();
            self.levels[h + 1].extend(promoted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank_of(sorted: &[f64], x: f64) -> f64 {
        sorted.partition_point(|&v| v < x) as f64 / sorted.len() as f64
    }

    #[test]
    fn small_inputs_are_exact() {
        let mut s = KllSketch::new(1);
        for x in [5.0, 1.0, 3.0, 2.0] {
            s.update(x);
        }
        assert_eq!(s.quantile(0.5), Some(2.5));
        assert_eq!(s.rank_error(), 0.0);
        s.update(4.0);
        assert_eq!(s.quantile(0.5), Some(3.0));
        assert_eq!(KllSketch::new(1).quantile(0.5), None);
    }

    #[test]
    fn quantiles_of_a_million_values_are_within_the_stated_rank_error() {
        let mut rng = Rng::new(3);
        let values: Vec<f64> = (0..1_000_000).map(|_| (rng.normal() * 2.0).exp()).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut worst: f64 = 0.0;
        for seed in 0..20 {
            let mut s = KllSketch::new(seed);
            for &x in &values {
                s.update(x);
            }
            assert_eq!(s.count(), 1_000_000);
            for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
                let got = s.quantile(q).unwrap();
                worst = worst.max((rank_of(&sorted, got) - q).abs());
            }
            // Memory stays bounded: about 3k values.
            assert!(s.held() < 4 * DEFAULT_K as usize, "{}", s.held());
        }
        let bound = KllSketch::new(0).with_levels().rank_error();
        assert!(worst <= bound, "worst rank error {worst} > {bound}");
    }

    #[test]
    fn merged_sketches_are_as_accurate_as_one() {
        let mut rng = Rng::new(9);
        let values: Vec<f64> = (0..400_000).map(|_| rng.uniform() * 100.0).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        // Eight "hosts" of uneven sizes, merged in a tree.
        let cuts = [
            0, 1_000, 30_000, 90_000, 150_000, 151_000, 250_000, 330_000, 400_000,
        ];
        let mut parts: Vec<KllSketch> = cuts
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let mut s = KllSketch::new(i as u64);
                for &x in &values[w[0]..w[1]] {
                    s.update(x);
                }
                s
            })
            .collect();
        while parts.len() > 1 {
            let b = parts.pop().unwrap();
            let mut a = parts.pop().unwrap();
            a.merge(&b);
            parts.insert(0, a);
        }
        let s = &parts[0];
        assert_eq!(s.count(), 400_000);
        let median = s.quantile(0.5).unwrap();
        assert!((rank_of(&sorted, median) - 0.5).abs() <= s.rank_error());
        // A sketch survives JSON (hosts send them to each other; serde_json may round a
        // value's last bit).
        let back: KllSketch = serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap();
        assert_eq!(back.count(), s.count());
        assert_eq!(back.held(), s.held());
        assert!((back.quantile(0.5).unwrap() - median).abs() <= 1e-12 * median);
    }

    impl KllSketch {
        fn with_levels(mut self) -> Self {
            self.levels.push(Vec::new());
            self
        }
    }
}
