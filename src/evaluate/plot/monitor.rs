//! Charts of a deployed model over time: which columns drifted, the scores then and now, and
//! the quality once labels arrive. They take plain numbers, so that the monitoring stage
//! (which comes after this one) draws them from its reports.

use super::drawing::{Bars, Curves};
use super::*;

/// Each column's drift distance (Kolmogorov-Smirnov for numbers, L∞ for categories),
/// largest first, drifted columns in orange: `(column, distance, drifted)`.
pub fn drift_by_column(columns: &[(String, f64, bool)], threshold: f64) -> Result<Chart> {
    ensure!(!columns.is_empty(), setting "columns", "no column to draw");
    let mut sorted = columns.to_vec();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let drifted = sorted.iter().filter(|c| c.2).count();
    render(
        "Drift by column",
        (800, (140 + 26 * sorted.len() as u32).clamp(300, 900)),
        &Bars {
            title: format!(
                "Drift by column: {drifted} of {} past the threshold {threshold:.2}",
                sorted.len()
            ),
            x_desc: "Distance from the baseline (KS for numbers, L∞ for categories)".into(),
            y_desc: String::new(),
            bars: sorted
                .into_iter()
                .map(|(n, d, drifted)| (n, d, if drifted { BUYER } else { MODEL }))
                .collect(),
            reference: Some((threshold, format!("threshold {threshold:.2}"))),
            decimals: 3,
            horizontal: true,
            percent: false,
        },
    )
}

/// Share of rows per score bin (20 bins on [0, 1]).
fn score_shares(scores: &[f64]) -> Vec<(f64, f64)> {
    let mut counts = [0usize; 20];
    for &s in scores {
        counts[((s * 20.0) as usize).min(19)] += 1;
    }
    let n = scores.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ((i as f64 + 0.5) / 20.0, c as f64 / n))
        .collect()
}

/// The model's scores on the baseline and today: the share of customers in each twentieth
/// of [0, 1], with the deployed threshold marked.
pub fn score_distributions(reference: &[f64], current: &[f64], threshold: f64) -> Result<Chart> {
    ensure!(
        !reference.is_empty() && !current.is_empty(),
        setting "scores",
        "both the baseline's and today's scores are needed"
    );
    let (r, c) = (score_shares(reference), score_shares(current));
    let top = r.iter().chain(&c).map(|p| p.1).fold(0.0, f64::max) * 1.15;
    render(
        "Scores then and now",
        DEFAULT_SIZE,
        &Curves {
            title: "The model's scores: the baseline and today".into(),
            x_desc: "Score (probability of a purchase)".into(),
            y_desc: "Share of customers".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, top.max(0.05)),
            series: vec![
                (
                    format!("baseline ({} customers)", reference.len()),
                    MODEL,
                    r,
                ),
                (format!("today ({} customers)", current.len()), BUYER, c),
            ],
            references: Vec::new(),
            marker: Some((threshold, format!("threshold {threshold:.2}"))),
            points: true,
            legend: SeriesLabelPosition::UpperRight,
        },
    )
}

/// Quality day by day once the outcomes are known: `(day, ROC AUC, precision, recall)` per
/// day, in order (a day with one class has no AUC).
pub fn quality_over_time(days: &[(String, Option<f64>, f64, f64)]) -> Result<Chart> {
    ensure!(!days.is_empty(), setting "days", "no day to draw");
    let x = |i: usize| (i + 1) as f64;
    let auc: Vec<(f64, f64)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.1.map(|a| (x(i), a)))
        .collect();
    let precision = days.iter().enumerate().map(|(i, d)| (x(i), d.2)).collect();
    let recall = days.iter().enumerate().map(|(i, d)| (x(i), d.3)).collect();
    render(
        "Quality over time",
        DEFAULT_SIZE,
        &Curves {
            title: "Quality once the purchases are known, day by day".into(),
            x_desc: format!(
                "Day (1 = {}, {} = {})",
                days[0].0,
                days.len(),
                days[days.len() - 1].0
            ),
            y_desc: "At the deployed threshold".into(),
            x_range: (0.5, days.len() as f64 + 0.5),
            y_range: (0.0, 1.0),
            series: vec![
                ("ROC AUC".into(), MODEL, auc),
                ("precision".into(), ACCENT, precision),
                ("recall".into(), BUYER, recall),
            ],
            references: Vec::new(),
            marker: None,
            points: true,
            legend: SeriesLabelPosition::LowerLeft,
        },
    )
}
