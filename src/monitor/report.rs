//! The monitoring page: one self-contained HTML file (`monitor check` writes it as
//! `report.html`) with what changed and what it did to the model — the violations, drift by
//! column, the scores then and now, what drives the scores then and now, and, once outcomes
//! are known, the quality day by day.

use std::path::Path;

use super::check::{Check, CheckType};
use super::quality::QualityReport;
use crate::error::{Error, Result};
use crate::evaluate::plot;
use crate::evaluate::report::{escape, grid, img, page_head, table};
use crate::util::files::write_atomically;

fn check_name(t: CheckType) -> &'static str {
    match t {
        CheckType::DataTypeCheck => "data type",
        CheckType::CompletenessCheck => "completeness",
        CheckType::BaselineDriftCheck => "baseline drift",
        CheckType::MissingColumnCheck => "missing column",
        CheckType::ExtraColumnCheck => "extra column",
        CheckType::CategoricalValuesCheck => "categorical values",
    }
}

/// The page for a check, with the quality report when outcomes are known.
pub fn render_html(
    check: &Check,
    reference_scores: &[f64],
    current_scores: Option<&[f64]>,
    threshold: f64,
    comparison_threshold: f64,
    quality: Option<&QualityReport>,
) -> Result<String> {
    let d = &check.drift;
    let bars: Vec<(String, f64, bool)> = d
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.distance, c.drifted))
        .collect();
    // The two larger charts drawn (and compressed) side by side.
    let (drift_chart, score_chart) = rayon::join(
        || {
            (!bars.is_empty())
                .then(|| plot::drift_by_column(&bars, comparison_threshold))
                .transpose()
        },
        || match (&d.scores, current_scores) {
            (Some(_), Some(now)) => {
                plot::score_distributions(reference_scores, now, threshold).map(Some)
            }
            _ => Ok(None),
        },
    );
    let (drift_chart, score_chart) = (drift_chart?, score_chart?);
    let title = "purchase-predict: is the model going stale?";
    let mut html = page_head(title);
    html += &format!("<h1>{}</h1>\n", escape(title));
    html += &format!(
        "<p>{} rows of {} checked against the baseline's {} on {}.</p>\n",
        d.rows,
        escape(&d.source),
        d.reference_rows,
        d.checked_at.format("%Y-%m-%d %H:%M UTC")
    );
    let drifted = if d.drifted.is_empty() {
        "no column has drifted".to_string()
    } else {
        format!("drifted: {}", d.drifted.join(", "))
    };
    html += &format!(
        "<p><strong>{} violations; {}.</strong></p>\n",
        check.violations.violations.len(),
        escape(&drifted)
    );
    if !check.violations.violations.is_empty() {
        html += "<h2>Violations (Model Monitor's checks)</h2>\n";
        let rows: Vec<Vec<String>> = check
            .violations
            .violations
            .iter()
            .map(|v| {
                vec![
                    v.feature_name.clone(),
                    check_name(v.constraint_check_type).to_string(),
                    v.description.clone(),
                ]
            })
            .collect();
        html += &grid(&["column", "check", "what was found"], &rows);
    }
    html += "<h2>Drift by column</h2>\n";
    if let Some(chart) = &drift_chart {
        html += &img(chart);
    }
    let rows: Vec<Vec<String>> = d
        .columns
        .iter()
        .map(|c| {
            let (ks, p, psi, js) = match (&c.numeric_drift, &c.categorical_drift) {
                (Some(n), _) => (
                    format!("KS {:.3}", n.ks_statistic),
                    format!("{:.2e}", n.ks_p_value),
                    n.psi,
                    n.js_distance,
                ),
                (_, Some(k)) => (
                    format!("L∞ {:.3}", k.linf_distance),
                    format!("χ² {:.2e}", k.chi_square_p_value),
                    k.psi,
                    k.js_distance,
                ),
                _ => ("-".into(), "-".into(), f64::NAN, f64::NAN),
            };
            vec![
                c.name.clone(),
                ks,
                p,
                format!("{psi:.3}"),
                format!("{js:.3}"),
                c.mean
                    .map_or("-".into(), |(a, b)| format!("{a:.3} → {b:.3}")),
                c.mean_abs_shap
                    .map_or("-".into(), |(a, b)| format!("{a:.3} → {b:.3}")),
                if c.drifted { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    html += &grid(
        &[
            "column",
            "distance",
            "p-value",
            "PSI",
            "Jensen-Shannon",
            "mean then → now",
            "mean |SHAP| then → now",
            "drifted",
        ],
        &rows,
    );
    if let (Some(s), Some(chart)) = (&d.scores, &score_chart) {
        html += "<h2>The scores then and now</h2>\n";
        html += &img(chart);
        html += &table(&[
            (
                "mean score".into(),
                format!("{:.4} → {:.4}", s.mean.0, s.mean.1),
            ),
            (
                format!("predicted buyers at {threshold:.2}"),
                format!(
                    "{:.1} % → {:.1} %",
                    100.0 * s.positive_rate.0,
                    100.0 * s.positive_rate.1
                ),
            ),
            (
                "Kolmogorov-Smirnov".into(),
                format!(
                    "{:.3} (p = {:.2e}){}",
                    s.drift.ks_statistic,
                    s.drift.ks_p_value,
                    if s.drifted { ", drifted" } else { "" }
                ),
            ),
        ]);
    }
    if let Some(q) = quality {
        html += "<h2>Quality once the purchases are known</h2>\n";
        let days: Vec<(String, Option<f64>, f64, f64)> = q
            .days
            .iter()
            .filter_map(|d| {
                d.metrics
                    .as_ref()
                    .map(|m| (d.day.to_string(), m.roc_auc, m.precision, m.recall))
            })
            .collect();
        if !days.is_empty() {
            html += &img(&plot::quality_over_time(&days)?);
        }
        let rows: Vec<Vec<String>> = q
            .days
            .iter()
            .map(|d| {
                let m = d.metrics.as_ref();
                vec![
                    d.day.to_string(),
                    d.rows.to_string(),
                    m.and_then(|m| m.roc_auc)
                        .map_or("-".into(), |a| format!("{a:.4}")),
                    m.map_or("-".into(), |m| format!("{:.4}", m.precision)),
                    m.map_or("-".into(), |m| format!("{:.4}", m.recall)),
                    d.profit.map_or("-".into(), |p| format!("{p:.2}")),
                ]
            })
            .collect();
        html += &grid(
            &[
                "day",
                "labelled",
                "ROC AUC",
                "precision",
                "recall",
                "profit",
            ],
            &rows,
        );
    }
    if !d.notes.is_empty() {
        html += "<h2>Notes</h2>\n<ul>\n";
        for n in &d.notes {
            html += &format!("<li>{}</li>\n", escape(n));
        }
        html += "</ul>\n";
    }
    html += "</body>\n</html>\n";
    Ok(html)
}

/// Render and write the page atomically.
pub fn write_report(path: impl AsRef<Path>, html: &str) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, |w| {
        w.write_all(html.as_bytes()).map_err(|e| Error::io(path, e))
    })
}
