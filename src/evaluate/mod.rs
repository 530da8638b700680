//! Stage 4: judge a model — the files an evaluation writes (`metrics.json`, `report.html`
//! with its charts: [`write_evaluation`], the one writer both `run` and `evaluate` use), the
//! charts ([`plot`]), the report ([`report`]) and how charts and tables show in a notebook
//! ([`display`]).

pub mod display;
pub mod plot;
pub mod report;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{load, LoadOptions};
use crate::error::{Error, Result};
use crate::metrics::{best_f1, evaluate, threshold_sweep, Metrics, ThresholdPoint};
use crate::model::artifact::Artifact;
use crate::model::{Hyperparameters, Model};
use crate::util::files::write_json_atomically;
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
    pub threshold: f64,
    pub model: &'a Model,
    pub hyperparameters: &'a Hyperparameters,
}

/// What [`write_evaluation`] found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub metrics: Metrics,
    pub best_f1: ThresholdPoint,
}

/// Compute the metrics and the threshold sweep of `input` and write `report` (HTML with the
/// charts) and `metrics_file` (JSON), each atomically.
pub fn write_evaluation(
    input: &EvaluationInput<'_>,
    report: &Path,
    metrics_file: &Path,
) -> Result<Evaluation> {
    let metrics = evaluate(input.labels, input.scores, input.threshold)?;
    let sweep = threshold_sweep(input.labels, input.scores)?;
    let best = best_f1(&sweep).expect("101 points");
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
        },
    )?;
    let file = MetricsFile {
        metrics: metrics.clone(),
        n_train: input.n_train.unwrap_or(0),
        n_validation: input.n_validation.unwrap_or(0),
        n_test: input.labels.len(),
        best_f1: best,
        threshold_sweep: sweep,
    };
    write_json_atomically(metrics_file, &file)?;
    Ok(Evaluation {
        metrics,
        best_f1: best,
    })
}

/// What [`evaluate_file`] found and wrote.
#[derive(Debug, Clone)]
pub struct EvaluationReport {
    pub metrics: Metrics,
    pub best_f1: ThresholdPoint,
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
    threshold: Option<f64>,
) -> Result<EvaluationReport> {
    let artifact = Artifact::load(model.as_ref())?;
    let ds = load(
        data.as_ref(),
        &LoadOptions::new(artifact.manifest.target.clone()),
    )?;
    let x = artifact.preprocessor.transform(&ds.features)?;
    let scores = artifact.model.predict(&x)?;
    let out = out_dir.as_ref();
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
        },
        &report,
        &metrics_file,
    )?;
    Ok(EvaluationReport {
        metrics: evaluation.metrics,
        best_f1: evaluation.best_f1,
        rows: ds.len(),
        report,
        metrics_file,
    })
}
