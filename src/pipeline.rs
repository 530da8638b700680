//! The whole local pipeline in one call: load → split → fit preprocessor → train →
//! evaluate → write `model.tar.gz`, `metrics.json` and the SageMaker split files.
//!
//! ```no_run
//! use purchase_predict::pipeline::{run, RunConfig};
//! use purchase_predict::progress::Silent;
//! let report = run(&RunConfig::demo("out"), &mut Silent)?;
//! println!("test accuracy {:.3}", report.metrics.accuracy);
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, Manifest, TrainingData};
use crate::data::{load, Dataset, LoadOptions};
use crate::error::{Error, Result};
use crate::files::write_json_atomically;
use crate::metrics::{best_f1, evaluate, threshold_sweep, Metrics, ThresholdPoint};
use crate::prep::{FeatureMatrix, PrepOptions, Preprocessor};
use crate::progress::{Progress, Silent};
use crate::report::{write_report, DataSummary, ReportInput};
use crate::split::{stratified_split, SplitConfig};
use crate::train::{train, Hyperparameters, Model};
use crate::tune::{tune, TunerConfig, TuningResult};

/// The shipped demo table, relative to the project root.
pub const DEMO_DATA: &str = "data/customers.csv";
/// The demo table's target column.
pub const DEMO_TARGET: &str = "purchased";
/// The demo table's id column.
pub const DEMO_ID: &str = "customer_id";

/// Everything `purchase-predict run` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The customer table (CSV or Parquet).
    pub data: PathBuf,
    /// Target, id, drops, type declarations, delimiter.
    pub load: LoadOptions,
    /// Split shares and seed.
    pub split: SplitConfig,
    /// XGBoost hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// Decision threshold for the reported metrics (default 0.5).
    pub threshold: f64,
    /// Output folder.
    pub out_dir: PathBuf,
}

impl RunConfig {
    /// A run on `data` predicting `target`, with every other setting at its default.
    pub fn new(
        data: impl Into<PathBuf>,
        target: impl Into<String>,
        out_dir: impl Into<PathBuf>,
    ) -> Self {
        RunConfig {
            data: data.into(),
            load: LoadOptions::new(target),
            split: SplitConfig::default(),
            hyperparameters: Hyperparameters::default(),
            threshold: 0.5,
            out_dir: out_dir.into(),
        }
    }

    /// A run on the shipped `data/customers.csv` (target `purchased`, id `customer_id`).
    pub fn demo(out_dir: impl Into<PathBuf>) -> Self {
        let mut c = RunConfig::new(demo_data_path(), DEMO_TARGET, out_dir);
        c.load.id = Some(DEMO_ID.into());
        c
    }

    /// Validate the settings before any work starts.
    pub fn check(&self) -> Result<()> {
        self.split.check()?;
        self.hyperparameters.check()?;
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::InvalidSetting {
                name: "threshold".into(),
                reason: format!("must be in [0, 1], got {}", self.threshold),
            });
        }
        Ok(())
    }
}

/// `data/customers.csv` from the working directory, or else from this crate's source tree.
pub fn demo_data_path() -> PathBuf {
    let local = PathBuf::from(DEMO_DATA);
    if local.exists() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_DATA)
    }
}

/// What `metrics.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    #[serde(flatten)]
    pub metrics: Metrics,
    pub n_train: usize,
    pub n_validation: usize,
    pub n_test: usize,
    /// The threshold with the highest F1 on the test split.
    pub best_f1: ThresholdPoint,
    /// Metrics at thresholds 0.00 … 1.00.
    pub threshold_sweep: Vec<ThresholdPoint>,
}

/// Files a run wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutputs {
    pub model: PathBuf,
    pub metrics: PathBuf,
    /// The self-contained evaluation page.
    pub report: PathBuf,
    pub train: PathBuf,
    /// `None` when the validation share is 0.
    pub validation: Option<PathBuf>,
    pub test: PathBuf,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Test-split metrics at the configured threshold.
    pub metrics: Metrics,
    pub best_f1: ThresholdPoint,
    pub n_rows: usize,
    pub n_train: usize,
    pub n_validation: usize,
    pub n_test: usize,
    /// Raw input columns used as features.
    pub n_input_columns: usize,
    /// Model columns after encoding.
    pub n_features: usize,
    pub rounds: usize,
    pub positive_rate: f64,
    pub outputs: RunOutputs,
    /// Seconds spent in training.
    pub train_seconds: f64,
    /// Seconds for the whole run.
    pub total_seconds: f64,
}

/// The data of a run after loading, splitting and preprocessing; the split files are written.
pub struct Prepared {
    pub dataset: Dataset,
    pub preprocessor: Preprocessor,
    pub x_train: FeatureMatrix,
    pub y_train: Vec<u8>,
    pub x_val: FeatureMatrix,
    pub y_val: Vec<u8>,
    pub x_test: FeatureMatrix,
    pub y_test: Vec<u8>,
    pub outputs: RunOutputs,
}

impl Prepared {
    /// The validation split, when there is one.
    pub fn validation(&self) -> Option<(&FeatureMatrix, &[u8])> {
        (self.x_val.nrows > 0).then_some((&self.x_val, self.y_val.as_slice()))
    }
}

/// Load, split, fit the preprocessor on the training split, and write the SageMaker split
/// files (train/validation/test.csv) to the output folder.
pub fn prepare(config: &RunConfig) -> Result<Prepared> {
    config.check()?;
    let ds = load(&config.data, &config.load)?;
    let split = stratified_split(&ds.labels, &config.split)?;
    let train_ds = ds.take(&split.train)?;
    let pre = Preprocessor::fit(
        &train_ds.features,
        &PrepOptions {
            numeric: config.load.numeric.clone(),
            categorical: config.load.categorical.clone(),
        },
    )?;
    let x_all = pre.transform(&ds.features)?;
    let part = |idx: &[usize]| {
        (
            x_all.take(idx),
            idx.iter().map(|&i| ds.labels[i]).collect::<Vec<u8>>(),
        )
    };
    let (x_train, y_train) = part(&split.train);
    let (x_val, y_val) = part(&split.validation);
    let (x_test, y_test) = part(&split.test);

    let out = &config.out_dir;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let outputs = RunOutputs {
        model: out.join("model.tar.gz"),
        metrics: out.join("metrics.json"),
        report: out.join("report.html"),
        train: out.join("train.csv"),
        validation: (!split.validation.is_empty()).then(|| out.join("validation.csv")),
        test: out.join("test.csv"),
    };
    x_train.write_sagemaker_csv(&outputs.train, Some(&y_train))?;
    if let Some(v) = &outputs.validation {
        x_val.write_sagemaker_csv(v, Some(&y_val))?;
    } else {
        // A validation file from an earlier run must not pass for this run's.
        let stale = out.join("validation.csv");
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
        }
    }
    x_test.write_sagemaker_csv(&outputs.test, Some(&y_test))?;
    Ok(Prepared {
        dataset: ds,
        preprocessor: pre,
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        outputs,
    })
}

/// Evaluate a trained model on the test split, write `model.tar.gz` (with `hyperparameters`
/// in its manifest) and `metrics.json`, and report.
pub fn finish(
    config: &RunConfig,
    prepared: Prepared,
    model: Model,
    hyperparameters: &Hyperparameters,
    train_seconds: f64,
    started: Instant,
) -> Result<RunReport> {
    let Prepared {
        dataset: ds,
        preprocessor: pre,
        x_train,
        x_val,
        x_test,
        y_test,
        outputs,
        ..
    } = prepared;
    let scores = model.predict(&x_test)?;
    let metrics = evaluate(&y_test, &scores, config.threshold)?;
    let sweep = threshold_sweep(&y_test, &scores)?;
    let best = best_f1(&sweep).expect("101 points");

    let rounds = model.rounds;
    let n_input_columns = ds.features.width();
    write_report(
        &outputs.report,
        &ReportInput {
            title: format!(
                "purchase-predict: {} (target `{}`)",
                ds.path.display(),
                ds.target
            ),
            data: DataSummary {
                source: ds.path.display().to_string(),
                rows: ds.len(),
                positive_rate: metrics.base_rate,
                n_train: Some(x_train.nrows),
                n_validation: Some(x_val.nrows),
                n_evaluated: x_test.nrows,
                n_input_columns,
                n_features: pre.feature_names.len(),
            },
            metrics: &metrics,
            best_f1: &best,
            labels: &y_test,
            scores: &scores,
            model: &model,
            hyperparameters,
        },
    )?;
    let mut artifact = Artifact {
        manifest: Manifest {
            id_column: config.load.id.clone(),
            threshold: config.threshold,
            metrics: Some(metrics.clone()),
            ..Manifest::new(
                pre.feature_names.clone(),
                &ds.target,
                hyperparameters.clone(),
                rounds,
                TrainingData {
                    path: ds.path.display().to_string(),
                    sha256: ds.sha256.clone(),
                    rows: ds.len(),
                },
            )
        },
        preprocessor: pre,
        model,
    };
    artifact.save(&outputs.model)?;

    let file = MetricsFile {
        metrics: metrics.clone(),
        n_train: x_train.nrows,
        n_validation: x_val.nrows,
        n_test: x_test.nrows,
        best_f1: best,
        threshold_sweep: sweep,
    };
    write_json_atomically(&outputs.metrics, &file)?;

    Ok(RunReport {
        metrics,
        best_f1: best,
        n_rows: ds.len(),
        n_train: x_train.nrows,
        n_validation: x_val.nrows,
        n_test: x_test.nrows,
        n_input_columns,
        n_features: artifact.preprocessor.feature_names.len(),
        rounds,
        positive_rate: ds.positive_rate(),
        outputs,
        train_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Run the local pipeline end to end.
pub fn run(config: &RunConfig, progress: &mut dyn Progress) -> Result<RunReport> {
    let started = Instant::now();
    let prepared = prepare(config)?;
    let t_train = Instant::now();
    let model = train(
        &prepared.x_train,
        &prepared.y_train,
        prepared.validation(),
        &config.hyperparameters,
        progress,
    )?;
    let train_seconds = t_train.elapsed().as_secs_f64();
    finish(
        config,
        prepared,
        model,
        &config.hyperparameters,
        train_seconds,
        started,
    )
}

/// `DIR/tuning.json`: the tuning run, every trial, and the refit model's test metrics.
#[derive(Debug, Clone, Serialize)]
pub struct TuningFile<'a> {
    #[serde(flatten)]
    pub tuning: &'a TuningResult,
    /// The best trial (1-based number) and its objective on the validation split.
    pub best_trial: usize,
    pub best_objective: f64,
    /// The refit best model on the test split.
    pub test_metrics: &'a Metrics,
    /// Seconds of the search, and of the search plus the refit.
    pub tuning_seconds: f64,
    pub tuning_and_refit_seconds: f64,
}

/// Prepare the data as [`run`] does, tune the hyperparameters with `tuner` (its `base` holds
/// the fixed ones; `config.hyperparameters` is not used), refit the best on the training
/// split with every core, and write everything `run` writes plus `tuning.json`.
pub fn tune_run(
    config: &RunConfig,
    tuner: &TunerConfig,
    progress: &mut dyn Progress,
) -> Result<(RunReport, TuningResult)> {
    let started = Instant::now();
    tuner.check()?;
    let prepared = prepare(config)?;
    let t0 = Instant::now();
    let result = tune(
        (&prepared.x_train, &prepared.y_train),
        prepared.validation(),
        tuner,
        progress,
    )?;
    let best_hp = result.best_hyperparameters()?;
    let t_refit = Instant::now();
    let model = train(
        &prepared.x_train,
        &prepared.y_train,
        prepared.validation(),
        &best_hp,
        &mut Silent,
    )?;
    let refit_seconds = t_refit.elapsed().as_secs_f64();
    let tuning_and_refit_seconds = t0.elapsed().as_secs_f64();
    let tuning_json = config.out_dir.join("tuning.json");
    let report = finish(config, prepared, model, &best_hp, refit_seconds, started)?;
    let best = result.best_training_job();
    let file = TuningFile {
        tuning: &result,
        best_trial: best.number,
        best_objective: best.objective.unwrap_or(f64::NAN),
        test_metrics: &report.metrics,
        tuning_seconds: result.seconds,
        tuning_and_refit_seconds,
    };
    write_json_atomically(&tuning_json, &file)?;
    Ok((report, result))
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
    let threshold = threshold.unwrap_or(artifact.manifest.threshold);
    let metrics = evaluate(&ds.labels, &scores, threshold)?;
    let sweep = threshold_sweep(&ds.labels, &scores)?;
    let best = best_f1(&sweep).expect("101 points");
    let out = out_dir.as_ref();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let report = out.join("report.html");
    write_report(
        &report,
        &ReportInput {
            title: format!(
                "purchase-predict: {} scored by {}",
                ds.path.display(),
                model.as_ref().display()
            ),
            data: DataSummary {
                source: ds.path.display().to_string(),
                rows: ds.len(),
                positive_rate: metrics.base_rate,
                n_train: None,
                n_validation: None,
                n_evaluated: ds.len(),
                n_input_columns: artifact.preprocessor.columns.len(),
                n_features: artifact.preprocessor.feature_names.len(),
            },
            metrics: &metrics,
            best_f1: &best,
            labels: &ds.labels,
            scores: &scores,
            model: &artifact.model,
            hyperparameters: &artifact.manifest.hyperparameters,
        },
    )?;
    let metrics_file = out.join("metrics.json");
    let file = MetricsFile {
        metrics: metrics.clone(),
        n_train: 0,
        n_validation: 0,
        n_test: ds.len(),
        best_f1: best,
        threshold_sweep: sweep,
    };
    write_json_atomically(&metrics_file, &file)?;
    Ok(EvaluationReport {
        metrics,
        best_f1: best,
        rows: ds.len(),
        report,
        metrics_file,
    })
}
