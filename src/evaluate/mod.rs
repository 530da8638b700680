//! Judge a model — the files an evaluation writes (`metrics.json`, `report.html`
//! with its charts: [`write_evaluation`], the one writer both `run` and `evaluate` use), the
//! charts ([`plot`]), the report (`report.rs`) and how charts and tables show in a notebook
//! ([`display`]).

pub mod display;
pub mod plot;
pub(crate) mod report;
pub mod settings;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{load, FeatureMatrix, LoadOptions};
use crate::error::{ensure, Check, Error, Result};
use crate::metrics::{
    best_accuracy, best_f1, best_profit, evaluate, profit_sweep, threshold_sweep, Costs, Metrics,
    ProfitPoint, Threshold, ThresholdPoint, ThresholdRule,
};
use crate::model::artifact::Artifact;
use crate::model::explain::{explain, Explanations};
use crate::model::{Hyperparameters, Model};
use crate::prep::{ColumnTransform, Preprocessor};
use crate::util::files::write_json_atomically;
pub use report::TuningNote;
use report::{write_report, DataSummary, ReportInput};

/// What `metrics.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    #[serde(flatten)]
    pub metrics: Metrics,
    pub n_train: usize,
    pub n_validation: usize,
    pub n_test: usize,
    /// The threshold with the highest F1 on the evaluated rows.
    pub best_f1: ThresholdPoint,
    /// Metrics at thresholds 0.00 … 1.00.
    pub threshold_sweep: Vec<ThresholdPoint>,
    /// The same metrics for the logistic-regression baseline and for "always no".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineMetrics>,
    /// The accuracy-, F1- and (with costs) profit-optimal thresholds, where they were
    /// chosen, and the rule that set the model's threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<ThresholdChoices>,
    /// How a streaming run prepared the data (absent for a run that held the table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preparation: Option<StreamingNote>,
}

/// What a streaming run (`run --streaming`) did differently, for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamingNote {
    /// Batches the table was read in.
    pub batches: usize,
    /// The split: `hash` (of the id, or of the row's index), stratified in expectation.
    pub split: String,
    /// The medians' largest rank error (their sketch's bound; 0 when exact).
    pub median_rank_error: f64,
    /// Shards of each SageMaker CSV split (0 on several hosts, which write none).
    pub shards: usize,
    /// Validation rows evaluated after each round (early stopping): all of them, or a seeded
    /// sample of at most 250,000.
    pub validation_rows_per_round: usize,
    /// The hosts that trained together, when several did (our image on several instances,
    /// `run --workers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<HostsNote>,
}

/// How the hosts of a job on several instances shared the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostsNote {
    /// Hosts in the job.
    pub count: usize,
    /// Rows each host read, in the hosts' order.
    pub rows: Vec<usize>,
    /// Validation and test rows the metrics were computed on: all of them, or a seeded
    /// sample of at most 2,000,000 of each gathered from every host.
    pub validation_rows_evaluated: usize,
    pub test_rows_evaluated: usize,
}

/// The rows a baseline was fitted on when they were a seeded sample of the training split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineSample {
    /// Rows in the sample.
    pub rows: usize,
    /// Training rows it was drawn from.
    pub of_rows: usize,
    pub seed: u64,
}

/// What XGBoost is compared with, on the same rows at the same threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineMetrics {
    /// Logistic regression (linfa) on the same preprocessed features.
    pub logistic_regression: Metrics,
    /// Predicting "no" for everyone (score 0): accuracy is the share of non-buyers.
    pub always_no: Metrics,
    /// The sample the logistic regression was fitted on, when the training split was larger
    /// than [`BASELINE_MAX_ROWS`](crate::model::baseline::BASELINE_MAX_ROWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitted_on_sample: Option<BaselineSample>,
}

/// Thresholds chosen by each rule on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoices {
    /// `validation`, or `test` (`evaluated` for `evaluate`) when there is no validation split.
    pub chosen_on: String,
    pub rows: usize,
    pub accuracy_optimal: ThresholdPoint,
    pub f1_optimal: ThresholdPoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit: Option<ProfitChoice>,
    /// The rule that set the model's threshold, and the threshold.
    pub rule: ThresholdRule,
    pub threshold: Threshold,
}

/// The profit-optimal threshold and the profit curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitChoice {
    pub costs: Costs,
    /// `contact_cost / sale_value`: the threshold perfectly calibrated scores would need.
    pub break_even_probability: f64,
    /// The best point on the split the threshold was chosen on.
    pub optimal: ProfitPoint,
    /// The chosen threshold on the evaluated (test) rows, when chosen on other rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_threshold_on_test: Option<ProfitPoint>,
    /// Profit at thresholds 0.00 … 1.00 on the split it was chosen on.
    pub sweep: Vec<ProfitPoint>,
}

/// How the threshold is chosen: the rule, the costs for the profit rule, and the rows to
/// choose on (`None`: the evaluated rows).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThresholdPolicy<'a> {
    pub rule: ThresholdRule,
    pub costs: Option<Costs>,
    /// Labels and scores of the validation split.
    pub selection: Option<(&'a [u8], &'a [f32])>,
}

impl Check for ThresholdPolicy<'_> {
    fn check_ref(&self) -> Result<()> {
        if let Some(c) = &self.costs {
            c.check_ref()?;
        }
        ensure!(self.rule != ThresholdRule::Profit || self.costs.is_some(), setting "threshold_rule",
            "profit needs the costs: contact_cost and sale_value (--contact-cost and --sale-value on the command line)");
        Ok(())
    }
}

/// Choose thresholds by every rule on the selection rows (or the evaluated ones).
pub fn choose_thresholds(
    policy: &ThresholdPolicy<'_>,
    fixed: Threshold,
    evaluated: (&[u8], &[f32]),
    evaluated_name: &str,
) -> Result<ThresholdChoices> {
    policy.check_ref()?;
    let ((labels, scores), chosen_on) = match policy.selection {
        Some(sel) if !sel.0.is_empty() => (sel, "validation"),
        _ => (evaluated, evaluated_name),
    };
    let sweep = threshold_sweep(labels, scores)?;
    let accuracy_optimal = best_accuracy(&sweep).expect("101 points");
    let f1_optimal = best_f1(&sweep).expect("101 points");
    let profit = match &policy.costs {
        Some(costs) => {
            let sweep = profit_sweep(labels, scores, costs)?;
            let optimal = best_profit(&sweep).expect("101 points");
            let at_threshold_on_test = if chosen_on == "validation" {
                profit_sweep(evaluated.0, evaluated.1, costs)?
                    .into_iter()
                    .find(|p| p.threshold == optimal.threshold)
            } else {
                None
            };
            Some(ProfitChoice {
                costs: *costs,
                break_even_probability: costs.break_even_probability(),
                optimal,
                at_threshold_on_test,
                sweep,
            })
        }
        None => None,
    };
    let threshold = match policy.rule {
        ThresholdRule::Fixed => fixed,
        ThresholdRule::Accuracy => accuracy_optimal.threshold,
        ThresholdRule::F1 => f1_optimal.threshold,
        ThresholdRule::Profit => profit.as_ref().expect("checked").optimal.threshold,
    };
    Ok(ThresholdChoices {
        chosen_on: chosen_on.to_string(),
        rows: labels.len(),
        accuracy_optimal,
        f1_optimal,
        profit,
        rule: policy.rule,
        threshold,
    })
}

/// Models side by side, one row each: accuracy, precision, recall, F1, ROC AUC, PR AUC and
/// log loss (a table for the notebook and the report).
///
/// ```
/// use purchase_predict::evaluate::comparison_frame;
/// use purchase_predict::metrics::{evaluate, Threshold};
/// let y = [0u8, 1, 1, 0];
/// let m = evaluate(&y, &[0.2, 0.7, 0.9, 0.4], Threshold::DEFAULT)?;
/// let df = comparison_frame(&[("model", &m)])?;
/// assert_eq!(df.shape(), (1, 8));
/// # Ok::<(), purchase_predict::Error>(())
/// ```
pub fn comparison_frame(models: &[(&str, &Metrics)]) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::{Column, DataFrame};
    let f = |g: fn(&Metrics) -> f64| -> Vec<f64> { models.iter().map(|(_, m)| g(m)).collect() };
    let o = |g: fn(&Metrics) -> Option<f64>| -> Vec<Option<f64>> {
        models.iter().map(|(_, m)| g(m)).collect()
    };
    let columns = vec![
        Column::new(
            "model".into(),
            models.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ),
        Column::new("accuracy".into(), f(|m| m.accuracy)),
        Column::new("precision".into(), f(|m| m.precision)),
        Column::new("recall".into(), f(|m| m.recall)),
        Column::new("F1".into(), f(|m| m.f1)),
        Column::new("ROC AUC".into(), o(|m| m.roc_auc)),
        Column::new("PR AUC".into(), o(|m| m.pr_auc)),
        Column::new("log loss".into(), f(|m| m.log_loss)),
    ];
    DataFrame::new(models.len(), columns).map_err(|e| Error::polars("comparison table", e))
}

/// How many evaluated customers the report's explanation charts use at most.
pub const EXPLAINED_ROWS: usize = 1000;

/// The evaluated rows' explanations by raw column (the first [`EXPLAINED_ROWS`]), and each
/// value's colour key for the beeswarm: a numeric column's standardised value, NaN for a
/// category.
pub fn explain_for_report(
    model: &Model,
    preprocessor: &Preprocessor,
    x: &FeatureMatrix,
) -> Result<(Explanations, Vec<f32>)> {
    let n = x.nrows.min(EXPLAINED_ROWS);
    let x = x.take(&(0..n).collect::<Vec<_>>());
    let e = explain(model, &x)?.by_column(preprocessor)?;
    let groups = preprocessor.feature_groups();
    let mut colours = Vec::with_capacity(e.values.len());
    for i in 0..n {
        let row = x.row(i);
        for (c, (_, range)) in preprocessor.columns.iter().zip(&groups) {
            colours.push(match c {
                ColumnTransform::Numeric { .. } => row[range.start],
                ColumnTransform::Categorical { .. } => f32::NAN,
            });
        }
    }
    Ok((e, colours))
}

/// What to evaluate and how to describe it.
pub struct EvaluationInput<'a> {
    /// The report's title.
    pub title: String,
    /// The table the rows came from, and its size.
    pub source: String,
    pub rows: usize,
    /// Training and validation rows (`None` when evaluating a saved model on a new table).
    pub n_train: Option<usize>,
    pub n_validation: Option<usize>,
    pub n_input_columns: usize,
    pub n_features: usize,
    /// Labels and scores of the evaluated rows.
    pub labels: &'a [u8],
    pub scores: &'a [f32],
    /// The threshold when the policy's rule is [`ThresholdRule::Fixed`].
    pub threshold: Threshold,
    pub model: &'a Model,
    pub hyperparameters: &'a Hyperparameters,
    /// The evaluated rows' features and the preprocessor that made them (explanations).
    pub x: &'a FeatureMatrix,
    pub preprocessor: &'a Preprocessor,
    /// The logistic-regression baseline's scores on the evaluated rows.
    pub baseline: Option<&'a [f32]>,
    /// The sample the baseline was fitted on, when it was one.
    pub baseline_sample: Option<BaselineSample>,
    /// How a streaming run prepared the data.
    pub preparation: Option<StreamingNote>,
    pub policy: ThresholdPolicy<'a>,
    /// The search that chose the hyperparameters (a tuning run's report says what it
    /// decided, and why).
    pub tuning: Option<TuningNote<'a>>,
}

/// What [`write_evaluation`] found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// At the chosen threshold.
    pub metrics: Metrics,
    pub best_f1: ThresholdPoint,
    pub thresholds: ThresholdChoices,
    pub baseline: Option<BaselineMetrics>,
}

/// Compute the metrics and the threshold sweep of `input` and write `report` (HTML with the
/// charts) and `metrics_file` (JSON), each atomically.
pub fn write_evaluation(
    input: &EvaluationInput<'_>,
    report: &Path,
    metrics_file: &Path,
) -> Result<Evaluation> {
    let thresholds = choose_thresholds(
        &input.policy,
        input.threshold,
        (input.labels, input.scores),
        if input.n_train.is_some() {
            "test"
        } else {
            "evaluated"
        },
    )?;
    let metrics = evaluate(input.labels, input.scores, thresholds.threshold)?;
    let sweep = threshold_sweep(input.labels, input.scores)?;
    let best = best_f1(&sweep).expect("101 points");
    let baseline = match input.baseline {
        Some(b) => Some(BaselineMetrics {
            logistic_regression: evaluate(input.labels, b, thresholds.threshold)?,
            always_no: evaluate(
                input.labels,
                &vec![0.0; input.labels.len()],
                thresholds.threshold,
            )?,
            fitted_on_sample: input.baseline_sample,
        }),
        None => None,
    };
    write_report(
        report,
        &ReportInput {
            title: input.title.clone(),
            data: DataSummary {
                source: input.source.clone(),
                rows: input.rows,
                positive_rate: metrics.base_rate,
                n_train: input.n_train,
                n_validation: input.n_validation,
                n_evaluated: input.labels.len(),
                n_input_columns: input.n_input_columns,
                n_features: input.n_features,
            },
            metrics: &metrics,
            best_f1: &best,
            labels: input.labels,
            scores: input.scores,
            model: input.model,
            hyperparameters: input.hyperparameters,
            baseline: input.baseline.zip(baseline.as_ref()),
            thresholds: &thresholds,
            explanations: Some(explain_for_report(
                input.model,
                input.preprocessor,
                input.x,
            )?),
            tuning: input.tuning,
        },
    )?;
    let file = MetricsFile {
        metrics: metrics.clone(),
        n_train: input.n_train.unwrap_or(0),
        n_validation: input.n_validation.unwrap_or(0),
        n_test: input.labels.len(),
        best_f1: best,
        threshold_sweep: sweep,
        baseline: baseline.clone(),
        thresholds: Some(thresholds.clone()),
        preparation: input.preparation.clone(),
    };
    write_json_atomically(metrics_file, &file)?;
    Ok(Evaluation {
        metrics,
        best_f1: best,
        thresholds,
        baseline,
    })
}

/// What [`evaluate_file`] found and wrote.
#[derive(Debug, Clone)]
pub struct EvaluationReport {
    pub metrics: Metrics,
    pub best_f1: ThresholdPoint,
    pub thresholds: ThresholdChoices,
    pub baseline: Option<BaselineMetrics>,
    pub rows: usize,
    pub report: PathBuf,
    pub metrics_file: PathBuf,
}

/// Score a labelled table with a saved model and write `report.html` and `metrics.json` to
/// `out_dir`. The table needs the model's input columns and its target column; `threshold`
/// defaults to the model's.
pub fn evaluate_file(
    model: impl AsRef<Path>,
    data: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
    threshold: Option<Threshold>,
) -> Result<EvaluationReport> {
    evaluate_file_with(model, data, out_dir, threshold, ThresholdPolicy::default())
}

/// [`evaluate_file`] with a threshold policy: with costs, the profit-optimal threshold on
/// the evaluated rows is reported (and used, with [`ThresholdRule::Profit`]).
pub fn evaluate_file_with(
    model: impl AsRef<Path>,
    data: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
    threshold: Option<Threshold>,
    policy: ThresholdPolicy<'_>,
) -> Result<EvaluationReport> {
    policy.check_ref()?;
    let out = out_dir.as_ref();
    let reads = [("model", model.as_ref()), ("table", data.as_ref())];
    for name in ["report.html", "metrics.json"] {
        crate::util::files::check_output(&out.join(name), &reads)?;
    }
    let artifact = Artifact::load(model.as_ref())?;
    let ds = load(
        data.as_ref(),
        &LoadOptions::new(artifact.manifest.target.clone()),
    )?;
    let x = artifact.preprocessor.transform(&ds.features)?;
    let scores = artifact.model.predict(&x)?;
    let baseline = match &artifact.manifest.baseline {
        Some(b) => Some(b.predict(&x)?),
        None => None,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let report = out.join("report.html");
    let metrics_file = out.join("metrics.json");
    let evaluation = write_evaluation(
        &EvaluationInput {
            title: format!(
                "purchase-predict: {} scored by {}",
                ds.path.display(),
                model.as_ref().display()
            ),
            source: ds.path.display().to_string(),
            rows: ds.len(),
            n_train: None,
            n_validation: None,
            n_input_columns: artifact.preprocessor.columns.len(),
            n_features: artifact.preprocessor.feature_names.len(),
            labels: &ds.labels,
            scores: &scores,
            threshold: threshold.unwrap_or(artifact.manifest.threshold),
            model: &artifact.model,
            hyperparameters: &artifact.manifest.hyperparameters,
            x: &x,
            preprocessor: &artifact.preprocessor,
            baseline: baseline.as_deref(),
            baseline_sample: None,
            preparation: None,
            policy,
            tuning: None,
        },
        &report,
        &metrics_file,
    )?;
    Ok(EvaluationReport {
        metrics: evaluation.metrics,
        best_f1: evaluation.best_f1,
        thresholds: evaluation.thresholds,
        baseline: evaluation.baseline,
        rows: ds.len(),
        report,
        metrics_file,
    })
}
