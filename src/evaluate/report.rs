//! The evaluation report: one self-contained HTML page (charts embedded as PNG data URIs, no
//! scripts, no external files) with the data summary, the metrics, the confusion matrix, the
//! evaluation charts and the hyperparameters. `purchase-predict run` and `evaluate` write it
//! as `DIR/report.html`.

use std::path::Path;

use base64::Engine;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::evaluate::plot::{self, Chart};
use crate::evaluate::{BaselineMetrics, ThresholdChoices};
use crate::metrics::{threshold_sweep, Metrics, ThresholdPoint, ThresholdRule};
use crate::model::explain::Explanations;
use crate::model::tune::{Decision, Kept, TuningResult};
use crate::model::{Hyperparameters, Model};
use crate::util::files::write_atomically;

/// What the data looked like.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    /// The table the model was trained (or is evaluated) on.
    pub source: String,
    pub rows: usize,
    /// Share of buyers in the evaluated rows.
    pub positive_rate: f64,
    pub n_train: Option<usize>,
    pub n_validation: Option<usize>,
    /// Rows evaluated.
    pub n_evaluated: usize,
    pub n_input_columns: usize,
    pub n_features: usize,
}

/// Everything the report shows.
pub struct ReportInput<'a> {
    pub title: String,
    pub data: DataSummary,
    pub metrics: &'a Metrics,
    pub best_f1: &'a ThresholdPoint,
    /// Labels and scores of the evaluated rows.
    pub labels: &'a [u8],
    pub scores: &'a [f32],
    pub model: &'a Model,
    pub hyperparameters: &'a Hyperparameters,
    /// The baseline's scores on the evaluated rows and its metrics.
    pub baseline: Option<(&'a [f32], &'a BaselineMetrics)>,
    pub thresholds: &'a ThresholdChoices,
    /// Evaluated customers explained by raw column, with the beeswarm's colour values.
    pub explanations: Option<(Explanations, Vec<f32>)>,
    /// The decision between the defaults and tuned hyperparameters, when a tuning run (or a
    /// refit judged against the defaults) wrote the report.
    pub tuning: Option<TuningNote<'a>>,
}

/// What a report says about tuning: the decision, and the search when there was one here.
#[derive(Debug, Clone, Copy)]
pub struct TuningNote<'a> {
    pub decision: &'a Decision,
    /// The search's trials (`None` for a refit judged against the defaults, whose search
    /// ran elsewhere: a SageMaker tuning job).
    pub search: Option<&'a TuningResult>,
}

/// The tuning section's rows: the defaults against the best trial, and the decision.
fn tuning_rows(note: TuningNote<'_>) -> Vec<(String, String)> {
    let d = note.decision;
    let mut rows = vec![("judged by".to_string(), d.judged_by.to_string())];
    if let Some(t) = note.search {
        let name = t.config.objective.name();
        let objective = |k: usize| {
            t.trials
                .get(k)
                .and_then(|tr| tr.objective)
                .map_or_else(|| "failed".to_string(), |v| format!("{v:.5}"))
        };
        rows.insert(
            0,
            (
                "trials".to_string(),
                format!(
                    "trial 0 (the defaults) and {} searched, {:.1} s",
                    t.trials.len() - 1,
                    t.seconds
                ),
            ),
        );
        rows.push((format!("defaults' {name}"), objective(0)));
        rows.push((
            format!("best trial's {name}"),
            format!("{} (trial {})", objective(d.best_trial), d.best_trial),
        ));
    }
    if d.best_trial != 0 && d.advantage.is_finite() {
        rows.push((
            "advantage, 95 % interval".to_string(),
            format!(
                "{:+.4} ({:+.4} to {:+.4}; {})",
                d.advantage, d.interval[0], d.interval[1], d.method
            ),
        ));
    }
    rows.push((
        "kept".to_string(),
        match d.kept {
            Kept::Defaults => "the defaults (trial 0)".to_string(),
            Kept::Tuned => format!("trial {}", d.kept_trial),
        },
    ));
    rows.push(("why".to_string(), d.reason.clone()));
    rows
}

/// The page's head and style, the body opened: every HTML page of the crate looks the same.
pub(crate) fn page_head(title: &str) -> String {
    let mut html = String::new();
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += &format!("<title>{}</title>\n", escape(title));
    html += "<style>\n\
        body { font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }\n\
        h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }\n\
        table { border-collapse: collapse; margin: 0.5em 0; }\n\
        th, td { text-align: left; padding: 0.25em 1em 0.25em 0; border-bottom: 1px solid #eee; }\n\
        th { font-weight: normal; color: #555; }\n\
        figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }\n\
        .grid { display: flex; flex-wrap: wrap; gap: 2em; }\n\
        </style>\n</head>\n<body>\n";
    html
}

/// Text made safe for HTML.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A chart as an embedded PNG.
pub(crate) fn img(chart: &Chart) -> String {
    format!(
        "<figure><img alt=\"{}\" width=\"{}\" height=\"{}\" src=\"data:image/png;base64,{}\"></figure>\n",
        escape(&chart.title),
        chart.width,
        chart.height,
        base64::engine::general_purpose::STANDARD.encode(&chart.png)
    )
}

/// A two-column table of names and values.
pub(crate) fn table(rows: &[(String, String)]) -> String {
    let mut s = String::from("<table>\n");
    for (k, v) in rows {
        s += &format!("<tr><th>{}</th><td>{}</td></tr>\n", escape(k), escape(v));
    }
    s + "</table>\n"
}

/// A table with a header row.
pub(crate) fn grid(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table>\n<tr>");
    for h in header {
        s += &format!("<th>{}</th>", escape(h));
    }
    s += "</tr>\n";
    for r in rows {
        s += "<tr>";
        for (i, v) in r.iter().enumerate() {
            if i == 0 {
                s += &format!("<th>{}</th>", escape(v));
            } else {
                s += &format!("<td>{}</td>", escape(v));
            }
        }
        s += "</tr>\n";
    }
    s + "</table>\n"
}

fn metric_columns(name: &str, m: &Metrics) -> Vec<String> {
    vec![
        name.to_string(),
        format!("{:.4}", m.accuracy),
        format!("{:.4}", m.precision),
        format!("{:.4}", m.recall),
        format!("{:.4}", m.f1),
        opt(m.roc_auc),
        opt(m.pr_auc),
        format!("{:.4}", m.log_loss),
    ]
}

fn rule_text(rule: ThresholdRule) -> &'static str {
    match rule {
        ThresholdRule::Fixed => "given (fixed)",
        ThresholdRule::Accuracy => "highest accuracy",
        ThresholdRule::F1 => "highest F1",
        ThresholdRule::Profit => "highest expected profit",
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn opt(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// The report as one HTML string.
pub fn render_html(r: &ReportInput) -> Result<String> {
    let m = r.metrics;
    let c = &m.confusion;
    let sweep = threshold_sweep(r.labels, r.scores)?;
    let charts = [
        plot::confusion_matrix(c, m.threshold.get())?,
        plot::roc(r.labels, r.scores)?,
        plot::precision_recall(r.labels, r.scores)?,
        plot::threshold_metrics(&sweep, m.threshold.get())?,
        plot::gains(r.labels, r.scores)?,
        plot::lift(r.labels, r.scores)?,
        plot::calibration(r.labels, r.scores)?,
    ];
    // A model of single-leaf trees (a training split too small to split) has nothing to
    // rank: the report says so instead of failing.
    let importance = if r.model.feature_importance()?.is_empty() {
        None
    } else {
        Some(plot::feature_importance(r.model, 15)?)
    };
    let d = &r.data;
    let mut data_rows = vec![
        ("source".to_string(), d.source.clone()),
        ("rows".to_string(), d.rows.to_string()),
    ];
    if let (Some(t), Some(v)) = (d.n_train, d.n_validation) {
        data_rows.push(("train / validation".into(), format!("{t} / {v}")));
    }
    data_rows.extend([
        ("evaluated rows".to_string(), d.n_evaluated.to_string()),
        ("buyers among them".to_string(), pct(d.positive_rate)),
        (
            "input columns → model features".to_string(),
            format!("{} → {}", d.n_input_columns, d.n_features),
        ),
        ("boosting rounds".to_string(), r.model.rounds.to_string()),
    ]);
    let metric_rows = vec![
        ("threshold".to_string(), format!("{:.2}", m.threshold)),
        ("accuracy".to_string(), format!("{:.4}", m.accuracy)),
        ("precision".to_string(), format!("{:.4}", m.precision)),
        ("recall".to_string(), format!("{:.4}", m.recall)),
        ("F1".to_string(), format!("{:.4}", m.f1)),
        ("ROC AUC".to_string(), opt(m.roc_auc)),
        ("PR AUC (average precision)".to_string(), opt(m.pr_auc)),
        ("log loss".to_string(), format!("{:.4}", m.log_loss)),
        (
            "negative predictive value".to_string(),
            format!("{:.4}", m.negative_predictive_value),
        ),
        (
            "best F1".to_string(),
            format!(
                "{:.4} at threshold {:.2}",
                r.best_f1.f1, r.best_f1.threshold
            ),
        ),
    ];
    let confusion_rows = vec![
        (
            "true negatives (no, predicted no)".to_string(),
            c.tn.to_string(),
        ),
        (
            "false positives (no, predicted buy)".to_string(),
            c.fp.to_string(),
        ),
        (
            "false negatives (buy, predicted no)".to_string(),
            c.fn_.to_string(),
        ),
        (
            "true positives (buy, predicted buy)".to_string(),
            c.tp.to_string(),
        ),
    ];
    let hp =
        serde_json::to_value(r.hyperparameters).map_err(|e| Error::json("hyperparameters", e))?;
    let hp_rows: Vec<(String, String)> = hp
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "default".into(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();

    let mut html = String::new();
    html += &page_head(&r.title);
    html += &format!("<h1>{}</h1>\n", escape(&r.title));
    html += &format!(
        "<p>Generated by purchase-predict {} on {}.</p>\n",
        env!("CARGO_PKG_VERSION"),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    html += "<div class=\"grid\">\n<section>\n<h2>Data</h2>\n";
    html += &table(&data_rows);
    html += "</section>\n<section>\n<h2>Metrics</h2>\n";
    html += &table(&metric_rows);
    html += "</section>\n</div>\n<h2>Confusion matrix</h2>\n";
    html += &table(&confusion_rows);
    html += &img(&charts[0]);
    html += "<h2>Ranking quality</h2>\n";
    for chart in &charts[1..3] {
        html += &img(chart);
    }
    if let Some((scores, b)) = r.baseline {
        html += "<h2>XGBoost against a baseline</h2>\n";
        html += &format!(
            "<p>The same test rows at the same threshold ({:.2}). The logistic regression \
             (linfa) learns one weight per feature from the same preprocessed matrix; \
             \"always no\" scores everyone 0: its accuracy is the share of non-buyers.</p>\n",
            m.threshold
        );
        html += &grid(
            &[
                "model",
                "accuracy",
                "precision",
                "recall",
                "F1",
                "ROC AUC",
                "PR AUC",
                "log loss",
            ],
            &[
                metric_columns("XGBoost", m),
                metric_columns("logistic regression", &b.logistic_regression),
                metric_columns("always no", &b.always_no),
            ],
        );
        html += &img(&plot::roc_comparison(
            r.labels,
            &[("XGBoost", r.scores), ("logistic regression", scores)],
        )?);
    }
    html += "<h2>Choosing the threshold</h2>\n";
    let t = r.thresholds;
    let mut rows = vec![
        vec![
            "highest accuracy".to_string(),
            format!("{:.2}", t.accuracy_optimal.threshold),
            format!("accuracy {:.4}", t.accuracy_optimal.accuracy),
            (t.accuracy_optimal.confusion.tp + t.accuracy_optimal.confusion.fp).to_string(),
        ],
        vec![
            "highest F1".to_string(),
            format!("{:.2}", t.f1_optimal.threshold),
            format!("F1 {:.4}", t.f1_optimal.f1),
            (t.f1_optimal.confusion.tp + t.f1_optimal.confusion.fp).to_string(),
        ],
    ];
    if let Some(p) = &t.profit {
        rows.push(vec![
            "highest expected profit".to_string(),
            format!("{:.2}", p.optimal.threshold),
            format!(
                "profit {:.0} ({:.0} per 1,000 customers)",
                p.optimal.profit, p.optimal.profit_per_1000
            ),
            p.optimal.calls.to_string(),
        ]);
    }
    html += &format!(
        "<p>Each rule's threshold on the {} split ({} rows); the model uses the {} rule: \
         threshold {:.2}.</p>\n",
        escape(&t.chosen_on),
        t.rows,
        rule_text(t.rule),
        t.threshold
    );
    html += &grid(
        &["rule", "threshold", "on that split", "customers to call"],
        &rows,
    );
    if let Some(p) = &t.profit {
        html += &format!(
            "<p>Costs: a call costs {:.2}, a sale is worth {:.2}; a call pays for itself \
             above a probability of {:.3}.{}</p>\n",
            p.costs.contact_cost,
            p.costs.sale_value,
            p.break_even_probability,
            p.at_threshold_on_test
                .map(|q| format!(
                    " On the test split, threshold {:.2} calls {} customers, {} of whom buy: \
                     a profit of {:.0} ({:.0} per 1,000 customers).",
                    q.threshold, q.calls, q.sales, q.profit, q.profit_per_1000
                ))
                .unwrap_or_default()
        );
        html += &img(&plot::profit_curve(
            &p.sweep,
            &p.costs,
            p.optimal.threshold.get(),
        )?);
    }
    html += &img(&charts[3]);
    html += "<h2>Whom to call: gains and lift</h2>\n";
    for chart in &charts[4..6] {
        html += &img(chart);
    }
    html += "<h2>Calibration</h2>\n";
    html += &img(&charts[6]);
    html += "<h2>Feature importance</h2>\n";
    match &importance {
        Some(chart) => html += &img(chart),
        None => {
            html += &format!(
                "<p>The model made no split: each of its {} trees is a single leaf, so it \
                 scores every customer alike and no feature has any importance. The training \
                 split is most likely too small (see the data table above).</p>\n",
                r.model.rounds
            )
        }
    }
    if let Some((e, colours)) = &r.explanations {
        if e.nrows > 0 {
            html += "<h2>Why the model decides: contributions by column</h2>\n";
            html += &format!(
                "<p>SHAP values (exact TreeSHAP) of {} evaluated customers, by the columns of \
                 the customer table: each column's push on the log-odds of buying, from the \
                 base value {:+.3}. A customer's contributions add up to the model's margin.</p>\n",
                e.nrows, e.base_value
            );
            html += &img(&plot::contribution_importance(e, 15)?);
            html += &img(&plot::beeswarm(e, colours, 12)?);
            let best = (0..e.nrows)
                .max_by(|&a, &b| e.margin(a).total_cmp(&e.margin(b)))
                .unwrap_or(0);
            let pairs: Vec<(String, f32)> = e
                .names
                .iter()
                .cloned()
                .zip(e.row(best).iter().copied())
                .collect();
            html += &img(&plot::waterfall(
                &format!(
                    "The most likely buyer among them (evaluated row {})",
                    best + 1
                ),
                e.base_value,
                &pairs,
                10,
            )?);
        }
    }
    if let Some(note) = r.tuning {
        html += "<h2>Tuning: the search against the defaults</h2>\n";
        html += &table(&tuning_rows(note));
    }
    html += "<h2>Hyperparameters</h2>\n";
    html += &table(&hp_rows);
    html += "</body>\n</html>\n";
    Ok(html)
}

/// Render and write the report atomically.
pub fn write_report(path: impl AsRef<Path>, r: &ReportInput) -> Result<()> {
    let path = path.as_ref();
    let html = render_html(r)?;
    write_atomically(path, |w| {
        w.write_all(html.as_bytes()).map_err(|e| Error::io(path, e))
    })
}
