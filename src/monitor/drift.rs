//! How far a column's values today are from its values in the baseline: the figures, each
//! defined exactly as its reference computes it (the tests hold them to SciPy and NumPy at
//! 1e-9).
//!
//! - **Numbers**: the two-sample Kolmogorov-Smirnov statistic `D` (largest distance between
//!   the two empirical distribution functions, as `scipy.stats.ks_2samp`) and its p-value
//!   from the Kolmogorov distribution's limit, `kolmogorov(√(nm/(n+m))·D)`
//!   (`scipy.special.kolmogorov`, the large-sample form); the population stability index and
//!   the Jensen-Shannon distance over Sturges' bins of both samples together
//!   (`np.histogram_bin_edges(…, "sturges")`, as Evidently bins them).
//! - **Categories**: the chi-square test of today's counts against the baseline's shares
//!   (`scipy.stats.chisquare`, `k − 1` degrees of freedom), the L∞ distance between the two
//!   shares (Model Monitor's `LInfinity`), and the population stability index and
//!   Jensen-Shannon distance over the values of both.
//!
//! The stability index fills an empty bin as Evidently does (with 0.0001, or the smallest
//! share over a million when that is smaller), so that it stays finite; the Jensen-Shannon
//! distance needs no filling (`scipy.spatial.distance.jensenshannon`, natural logarithm).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Drift figures of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericDrift {
    /// Kolmogorov-Smirnov statistic `D`.
    pub ks_statistic: f64,
    /// Its p-value (large-sample Kolmogorov distribution).
    pub ks_p_value: f64,
    /// Population stability index.
    pub psi: f64,
    /// Jensen-Shannon distance (natural logarithm; 0 to √ln 2).
    pub js_distance: f64,
    /// The bins both were computed over.
    pub bins: usize,
}

/// Drift figures of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDrift {
    /// Chi-square statistic of today's counts against the baseline's shares.
    pub chi_square: f64,
    /// Its p-value.
    pub chi_square_p_value: f64,
    /// Its degrees of freedom (values − 1).
    pub degrees_of_freedom: usize,
    /// The largest difference of one value's share.
    pub linf_distance: f64,
    /// Population stability index.
    pub psi: f64,
    /// Jensen-Shannon distance.
    pub js_distance: f64,
}

/// The edges of Sturges' bins over both samples, as `np.histogram_bin_edges(…, "sturges")`.
fn sturges_edges(reference: &[f64], current: &[f64]) -> Vec<f64> {
    let all = reference.iter().chain(current);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in all {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let n = (reference.len() + current.len()) as f64;
    let ptp = hi - lo;
    let width = ptp / (n.log2() + 1.0);
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let bins = if width > 0.0 {
        ((hi - lo) / width).ceil() as usize
    } else {
        1
    };
    // np.linspace: start + i·step, the last edge exactly `stop`.
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + lo).collect();
    edges[bins] = hi;
    edges
}

/// Counts per bin as `np.histogram` with explicit edges: `edges[i] ≤ x < edges[i+1]`, the
/// last bin closed.
fn histogram(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len() - 1;
    let mut counts = vec![0.0; bins];
    let last = edges[bins];
    for &x in values {
        if x == last {
            counts[bins - 1] += 1.0;
            continue;
        }
        // The number of edges ≤ x, less one.
        let i = edges.partition_point(|&e| e <= x);
        if i >= 1 && i <= bins {
            counts[i - 1] += 1.0;
        }
    }
    counts
}

/// [`histogram`] of sorted values: a search per edge, not per value.
fn histogram_of_sorted(sorted: &[f64], edges: &[f64]) -> Vec<f64> {
    // The searches need an order without NaN at either end.
    if !sorted.first().is_none_or(|x| x.is_finite()) || !sorted.last().is_none_or(|x| x.is_finite())
    {
        return histogram(sorted, edges);
    }
    let bins = edges.len() - 1;
    let below = |e: f64| sorted.partition_point(|&x| x < e);
    let mut counts = Vec::with_capacity(bins);
    let mut start = below(edges[0]);
    for i in 0..bins {
        let end = if i + 1 == bins {
            sorted.partition_point(|&x| x <= edges[bins])
        } else {
            below(edges[i + 1])
        };
        counts.push(end.saturating_sub(start) as f64);
        start = end;
    }
    counts
}

/// Evidently's filling of empty shares before the stability index.
fn fill_zeroes(shares: &mut [f64]) {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return;
    }
    let fill = if smallest <= 0.0001 {
        smallest / 1e6
    } else {
        0.0001
    };
    for s in shares.iter_mut().filter(|s| **s == 0.0) {
        *s = fill;
    }
}

/// The population stability index of two share vectors (empty shares filled first).
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    let (mut r, mut c) = (reference.to_vec(), current.to_vec());
    fill_zeroes(&mut r);
    fill_zeroes(&mut c);
    r.iter().zip(&c).map(|(r, c)| (r - c) * (r / c).ln()).sum()
}

/// `x ln(x/y)`, SciPy's `rel_entr`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// The Jensen-Shannon distance of two weight vectors (each normalised to sum 1), natural
/// logarithm, as `scipy.spatial.distance.jensenshannon`.
pub fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    let mut left = 0.0;
    let mut right = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    ((left + right) / 2.0).sqrt()
}

/// The two-sample Kolmogorov-Smirnov statistic of two sorted samples.
fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d
}

/// `scipy.special.kolmogorov(y)`: the survival function of the Kolmogorov distribution.
pub fn kolmogorov(y: f64) -> f64 {
    if y <= 0.0 || y.is_nan() {
        return 1.0;
    }
    if y < 1.0 {
        // CDF = √(2π)/y · Σ exp(−(2k−1)²π²/(8y²)), accurate where the alternating series
        // converges slowly.
        let pi = std::f64::consts::PI;
        let mut cdf = 0.0;
        for k in 1..=50 {
            let t = (2 * k - 1) as f64;
            let term = (-(t * t) * pi * pi / (8.0 * y * y)).exp();
            cdf += term;
            if term < 1e-20 {
                break;
            }
        }
        return 1.0 - (2.0 * pi).sqrt() / y * cdf;
    }
    let mut sf = 0.0;
    for k in 1..=100 {
        let k = k as f64;
        let term = (-2.0 * k * k * y * y).exp();
        sf += if k as u64 % 2 == 1 { term } else { -term };
        if term < 1e-20 {
            break;
        }
    }
    (2.0 * sf).clamp(0.0, 1.0)
}

/// Drift of a numeric column (both samples non-empty; neither needs sorting).
pub fn numeric_drift(reference: &[f64], current: &[f64]) -> NumericDrift {
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    numeric_drift_of_sorted(&a, &b)
}

/// [`numeric_drift`] of two samples already sorted (by `f64::total_cmp`).
pub(crate) fn numeric_drift_of_sorted(a: &[f64], b: &[f64]) -> NumericDrift {
    let d = ks_statistic(a, b);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let en = n * m / (n + m);
    let edges = sturges_edges(a, b);
    let r: Vec<f64> = histogram_of_sorted(a, &edges)
        .iter()
        .map(|c| c / n)
        .collect();
    let c: Vec<f64> = histogram_of_sorted(b, &edges)
        .iter()
        .map(|c| c / m)
        .collect();
    NumericDrift {
        ks_statistic: d,
        ks_p_value: kolmogorov(en.sqrt() * d),
        psi: psi(&r, &c),
        js_distance: js_distance(&r, &c),
        bins: edges.len() - 1,
    }
}

/// `Q(a, x)`, the regularised upper incomplete gamma function (series below `a + 1`,
/// continued fraction above, as Numerical Recipes' `gammq`).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() - x - crate::model::tune::judge::ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        return (1.0 - sum * ln_front.exp()).clamp(0.0, 1.0);
    }
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (ln_front.exp() * h).clamp(0.0, 1.0)
}

/// The chi-square distribution's survival function with `dof` degrees of freedom.
pub fn chi2_sf(statistic: f64, dof: usize) -> f64 {
    if statistic.is_infinite() {
        return 0.0;
    }
    gamma_q(dof as f64 / 2.0, statistic / 2.0)
}

/// Drift of a categorical column from each value's count (missing values left out).
pub fn categorical_drift(
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
) -> CategoricalDrift {
    let keys: BTreeSet<&String> = reference.keys().chain(current.keys()).collect();
    let n_ref: u64 = reference.values().sum();
    let n_cur: u64 = current.values().sum();
    let r: Vec<f64> = keys
        .iter()
        .map(|k| reference.get(*k).copied().unwrap_or(0) as f64)
        .collect();
    let c: Vec<f64> = keys
        .iter()
        .map(|k| current.get(*k).copied().unwrap_or(0) as f64)
        .collect();
    let scale = n_cur as f64 / n_ref as f64;
    let chi_square: f64 = r
        .iter()
        .zip(&c)
        .map(|(&r, &c)| {
            let e = r * scale;
            if e == 0.0 {
                if c == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                (c - e).powi(2) / e
            }
        })
        .sum();
    let dof = keys.len().saturating_sub(1);
    let rs: Vec<f64> = r.iter().map(|x| x / n_ref as f64).collect();
    let cs: Vec<f64> = c.iter().map(|x| x / n_cur as f64).collect();
    CategoricalDrift {
        chi_square,
        chi_square_p_value: if dof == 0 {
            1.0
        } else {
            chi2_sf(chi_square, dof)
        },
        degrees_of_freedom: dof,
        linf_distance: rs
            .iter()
            .zip(&cs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max),
        psi: psi(&rs, &cs),
        js_distance: js_distance(&rs, &cs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_values_bin_as_each_value_does() {
        // Whole numbers land on edges, and the last edge closes its bin.
        let mut values: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f64 / 10.0 - 20.0)
            .collect();
        values.sort_unstable_by(f64::total_cmp);
        for edges in [
            vec![0.0, 10.0, 20.0, 30.0, 79.9],
            vec![-20.0, -5.0, 0.0, 5.0, 50.0, 79.9],
            vec![-100.0, 100.0],
            vec![100.0, 200.0],
            vec![-30.0, -25.0],
        ] {
            assert_eq!(
                histogram_of_sorted(&values, &edges),
                histogram(&values, &edges),
                "{edges:?}"
            );
        }
    }

    #[test]
    fn the_same_sample_has_no_drift() {
        let a: Vec<f64> = (0..1000).map(|i| (i % 97) as f64).collect();
        let d = numeric_drift(&a, &a);
        assert_eq!(d.ks_statistic, 0.0);
        assert_eq!(d.ks_p_value, 1.0);
        assert!(d.psi.abs() < 1e-12);
        assert!(d.js_distance.abs() < 1e-7);
    }

    #[test]
    fn a_shifted_sample_drifts() {
        let a: Vec<f64> = (0..1000).map(|i| (i % 50) as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 25.0).collect();
        let d = numeric_drift(&a, &b);
        assert!((d.ks_statistic - 0.5).abs() < 1e-12, "{d:?}");
        assert!(d.ks_p_value < 1e-10);
        assert!(d.psi > 1.0);
    }

    #[test]
    fn kolmogorov_and_chi_square_match_their_tables() {
        // scipy.special.kolmogorov(1.0) = 0.26999967167735456; (0.5) = 0.9639452436648751.
        assert!((kolmogorov(1.0) - 0.269_999_671_677_354_56).abs() < 1e-12);
        assert!((kolmogorov(0.5) - 0.963_945_243_664_875_1).abs() < 1e-12);
        // chi2.sf(3.84, 1) = 0.05004352124870519; chi2.sf(10, 4) = 0.04042768199451279.
        assert!((chi2_sf(3.84, 1) - 0.050_043_521_248_705_19).abs() < 1e-12);
        assert!((chi2_sf(10.0, 4) - 0.040_427_681_994_512_79).abs() < 1e-12);
    }
}
