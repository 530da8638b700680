//! What the commands print: the run's summary, the tuning trials, the thresholds chosen.

use crate::app::pipeline::{RunConfig, RunReport};
use crate::error::Result;

/// What each rule chose, for `run`, `tune` and `evaluate`.
pub(super) fn thresholds_summary(t: &crate::evaluate::ThresholdChoices) -> String {
    let mut s = format!(
        "thresholds chosen on the {} split ({} rows): accuracy-optimal {:.2} (accuracy {:.4}), F1-optimal {:.2} (F1 {:.4})\n",
        t.chosen_on, t.rows, t.accuracy_optimal.threshold, t.accuracy_optimal.accuracy,
        t.f1_optimal.threshold, t.f1_optimal.f1
    );
    if let Some(p) = &t.profit {
        s += &format!(
            "profit-optimal {:.2} (call {:.2}, sale {:.2}): call {} customers, {} buy, expected profit {:.0} ({:.0} per 1,000 customers)\n",
            p.optimal.threshold, p.costs.contact_cost, p.costs.sale_value, p.optimal.calls,
            p.optimal.sales, p.optimal.profit, p.optimal.profit_per_1000
        );
        if let Some(q) = &p.at_threshold_on_test {
            s += &format!(
                "  on the test split at {:.2}: call {} customers, {} buy, profit {:.0} ({:.0} per 1,000)\n",
                q.threshold, q.calls, q.sales, q.profit, q.profit_per_1000
            );
        }
    }
    s += &format!(
        "the model's threshold: {:.2} (rule: {})\n",
        t.threshold,
        serde_json::to_value(t.rule)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    s
}

pub(super) fn opt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// The five best trials and the search's totals.
pub fn tuning_summary(result: &crate::model::tune::TuningResult) -> Result<String> {
    use crate::model::tune::{Direction, TrialStatus};
    let mut ranked: Vec<&crate::model::tune::Trial> = result
        .trials
        .iter()
        .filter(|t| t.objective.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        let (x, y) = (a.objective.unwrap_or(0.0), b.objective.unwrap_or(0.0));
        match result.config.direction {
            Direction::Maximize => y.total_cmp(&x),
            Direction::Minimize => x.total_cmp(&y),
        }
    });
    let stopped = result
        .trials
        .iter()
        .filter(|t| matches!(t.status, TrialStatus::Stopped { .. }))
        .count();
    let failed = result
        .trials
        .iter()
        .filter(|t| matches!(t.status, TrialStatus::Failed { .. }))
        .count();
    let mut s = format!(
        "\ntuning: trial 0 (the defaults) and {} searched in {:.1} s, judged by {} ({} at once, {} thread{} each), {stopped} stopped early, {failed} failed\n",
        result.trials.len() - 1,
        result.seconds,
        result.judged_by,
        result.config.max_parallel_jobs,
        result.threads_per_trial,
        if result.threads_per_trial == 1 { "" } else { "s" }
    );
    s += &format!("best trials by {}:\n", result.config.objective.name());
    for t in ranked.iter().take(5) {
        let hp: Vec<String> = t
            .hyperparameters
            .iter()
            .map(|(k, v)| {
                let short = v.parse::<f64>().map_or(v.clone(), |x| {
                    let t = format!("{x:.4}");
                    t.trim_end_matches('0').trim_end_matches('.').to_string()
                });
                format!("{k}={short}")
            })
            .collect();
        s += &format!(
            "  trial {:>3}  {:.5}  {:>4} rounds  {}\n",
            t.number,
            t.objective.unwrap_or(f64::NAN),
            t.rounds,
            hp.join(" ")
        );
    }
    let d = &result.decision;
    s += &format!(
        "kept: {}: {}\n",
        match d.kept {
            crate::model::tune::Kept::Defaults => "the defaults (trial 0)".to_string(),
            crate::model::tune::Kept::Tuned => format!("trial {}", d.kept_trial),
        },
        d.reason
    );
    if d.best_trial != 0 && d.advantage.is_finite() {
        s += &format!("      (interval by {})\n", d.method);
    }
    Ok(s)
}

/// The short table `run` prints.
pub fn summary(config: &RunConfig, r: &RunReport) -> String {
    let m = &r.metrics;
    let c = &m.confusion;
    let mut s = String::new();
    s += &format!(
        "data: {} rows, {:.1} % buyers; {} input columns -> {} model features\n",
        r.n_rows,
        100.0 * r.positive_rate,
        r.n_input_columns,
        r.n_features
    );
    s += &format!(
        "split (seed {}): train {} / validation {} / test {}\n",
        config.settings.split.seed, r.n_train, r.n_validation, r.n_test
    );
    s += &format!(
        "trained {} rounds in {:.2} s ({} threads, tree_method {})\n\n",
        r.rounds,
        r.train_seconds,
        config.hyperparameters.threads(),
        config.hyperparameters.tree_method
    );
    s += &format!("test metrics (threshold {:.2})\n", m.threshold);
    for (name, value) in [
        ("accuracy", format!("{:.4}", m.accuracy)),
        ("precision", format!("{:.4}", m.precision)),
        ("recall", format!("{:.4}", m.recall)),
        ("f1", format!("{:.4}", m.f1)),
        ("roc_auc", opt(m.roc_auc)),
        ("pr_auc", opt(m.pr_auc)),
        ("log_loss", format!("{:.4}", m.log_loss)),
    ] {
        s += &format!("  {name:<10} {value}\n");
    }
    s += "\nconfusion matrix    predicted 0  predicted 1\n";
    s += &format!("  actual 0 (no)     {:>11}  {:>11}\n", c.tn, c.fp);
    s += &format!("  actual 1 (buy)    {:>11}  {:>11}\n", c.fn_, c.tp);
    s += &format!(
        "  right when predicting 0: {:.1} %, when predicting 1: {:.1} %\n",
        100.0 * m.negative_predictive_value,
        100.0 * m.precision
    );
    s += &format!(
        "best F1 on the test split {:.4} at threshold {:.2}\n",
        r.best_f1.f1, r.best_f1.threshold
    );
    if let Some(b) = &r.baseline {
        let l = &b.logistic_regression;
        s += &format!(
            "baseline (logistic regression): accuracy {:.4}, ROC AUC {}, F1 {:.4}; always no: accuracy {:.4}\n",
            l.accuracy, opt(l.roc_auc), l.f1, b.always_no.accuracy
        );
    }
    s += &thresholds_summary(&r.thresholds);
    s += "\n";
    let o = &r.outputs;
    let mut files = vec![
        o.model.display().to_string(),
        o.metrics.display().to_string(),
        o.report.display().to_string(),
        o.train.display().to_string(),
    ];
    if let Some(v) = &o.validation {
        files.push(v.display().to_string());
    }
    files.push(o.test.display().to_string());
    files.push(format!(
        "{}/ (the monitoring baseline)",
        o.monitor_baseline.display()
    ));
    s += &format!("wrote {}\n", files.join(", "));
    s += &format!(
        "time: {}{}\n",
        r.stages.line(),
        r.peak_rss_bytes
            .map(|b| format!("; peak memory {:.0} MB", b as f64 / 1e6))
            .unwrap_or_default()
    );
    s
}

/// What `run --workers` prints: the metrics the first host printed, and where the outputs are.
pub fn workers_summary(r: &crate::app::workers::WorkersReport) -> String {
    let mut s = format!("trained on {} workers in {:.1} s\n", r.workers, r.seconds);
    for (name, value) in &r.final_metrics {
        s += &format!("  {name:<22} {value:.4}\n");
    }
    for p in [&r.model, &r.metrics, &r.report, &r.baseline] {
        s += &format!("wrote {}\n", p.display());
    }
    s
}
