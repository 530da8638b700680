//! A small seeded random number generator (xoshiro256**, seeded by SplitMix64).
//!
//! The split and the demo data must come out identical on every machine and in every
//! future version, so the generator lives here rather than depending on a crate whose
//! algorithm may change between releases.

/// Seeded xoshiro256** generator.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift; the tiny bias is irrelevant at these sizes.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Shuffle in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// `rows` indices of `0..n` in order, a seeded sample when `n` is larger.
pub fn sample_indices(n: usize, rows: usize, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    if n <= rows {
        return all;
    }
    Rng::new(seed).shuffle(&mut all);
    all.truncate(rows);
    all.sort_unstable();
    all
}

/// SplitMix64's finaliser: a bijection of `u64` whose output bits all depend on every input
/// bit.
pub fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit hash of `bytes` under `seed` (FNV-1a, then [`mix64`]): the same on every
/// machine, in every process and in every future version, unlike `std`'s hasher, so that a
/// customer lands in the same split whichever batch, process or host reads it.
pub fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64 ^ mix64(seed);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// A stable 64-bit hash of a number under `seed` (a row's index).
pub fn hash_u64(x: u64, seed: u64) -> u64 {
    mix64(x ^ mix64(seed ^ 0x5851_F42D_4C95_7F2D))
}

/// A hash as a uniform number in [0, 1).
pub fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stable_hashes_do_not_change_between_versions() {
        // Fixed values: a change here moves customers between splits.
        assert_eq!(
            super::hash_bytes(b"customer-1", 42),
            super::hash_bytes(b"customer-1", 42)
        );
        assert_ne!(
            super::hash_bytes(b"customer-1", 42),
            super::hash_bytes(b"customer-1", 43)
        );
        assert_eq!(super::hash_bytes(b"abc", 0), HASH_ABC_0);
        assert_eq!(super::hash_u64(7, 0), HASH_7_0);
    }
    const HASH_ABC_0: u64 = 3_949_867_740_538_847_546;
    const HASH_7_0: u64 = 8_535_148_508_731_931_315;

    use super::*;

    #[test]
    fn sequence_is_fixed_by_the_seed() {
        let a: Vec<u64> = (0..3)
            .map({
                let mut r = Rng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(42);
        assert_eq!(a, (0..3).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        let mean = (0..20000).map(|_| r.uniform()).sum::<f64>() / 20000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }
}
