//! The whole local pipeline in one call: load → split → fit preprocessor → train →
//! evaluate → write `model.tar.gz`, `metrics.json` and the SageMaker split files.
//!
//! ```no_run
//! use purchase_predict::app::pipeline::{run, RunConfig};
//! use purchase_predict::util::progress::Silent;
//! let report = run(&RunConfig::demo("out"), &mut Silent)?;
//! println!("test accuracy {:.3}", report.metrics.accuracy);
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::streaming::{run_streaming_in, streams, Streaming};
use crate::data::batches::DEFAULT_BATCH_BYTES;
use crate::data::split::stratified_split;
use crate::data::FeatureMatrix;
use crate::data::{load, Dataset};
use crate::error::{ensure, Check, Error, IntoValid, Result, Valid};
use crate::evaluate::{
    settings::PipelineSettings, write_evaluation, BaselineMetrics, BaselineSample, Evaluation,
    EvaluationInput, StreamingNote, ThresholdChoices, ThresholdPolicy, TuningNote, EXPLAINED_ROWS,
};
use crate::metrics::{Metrics, ThresholdPoint, ThresholdRule};
use crate::model::artifact::{Artifact, ThresholdRecord, TrainingData};
use crate::model::baseline::{Baseline, BaselineParams, BASELINE_MAX_ROWS};
use crate::model::tune::{tune, Decision, TunerConfig, TuningResult};
use crate::model::{train::train, Hyperparameters, Model};
use crate::prep::{PrepOptions, Preprocessor};
use crate::util::files::write_json_atomically;
use crate::util::progress::{Progress, Silent};
use crate::util::staging::{remove_on_signal, StagedDir};
use crate::util::timing::{peak_rss_bytes, Stages};

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
    /// How the table is read and split, the threshold, the costs and the baseline: the
    /// block a training job of our image shares (written flat, as before, in JSON).
    #[serde(flatten)]
    pub settings: PipelineSettings,
    /// XGBoost hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// Output folder.
    pub out_dir: PathBuf,
    /// Whether the table is read in batches instead of held whole (default: by its size).
    #[serde(default)]
    pub streaming: Streaming,
    /// Bytes of CSV text a streaming run reads at a time (default 16 MiB); a Parquet file is
    /// read by row groups.
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: usize,
}

fn default_batch_bytes() -> usize {
    DEFAULT_BATCH_BYTES
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
            settings: PipelineSettings::new(target),
            hyperparameters: Hyperparameters::default(),
            out_dir: out_dir.into(),
            streaming: Streaming::Auto,
            batch_bytes: DEFAULT_BATCH_BYTES,
        }
    }

    /// A checked run from checked parts: its check is theirs (settings and
    /// hyperparameters), so nothing is checked again.
    pub fn from_valid(
        data: impl Into<PathBuf>,
        settings: Valid<PipelineSettings>,
        hyperparameters: Valid<Hyperparameters>,
        out_dir: impl Into<PathBuf>,
    ) -> Valid<RunConfig> {
        Valid::from_valid_parts(RunConfig {
            data: data.into(),
            settings: settings.into_inner(),
            hyperparameters: hyperparameters.into_inner(),
            out_dir: out_dir.into(),
            streaming: Streaming::Auto,
            batch_bytes: DEFAULT_BATCH_BYTES,
        })
    }

    /// A run on the shipped `data/customers.csv` (target `purchased`, id `customer_id`).
    pub fn demo(out_dir: impl Into<PathBuf>) -> Self {
        let mut c = RunConfig::new(demo_data_path(), DEMO_TARGET, out_dir);
        c.settings.load.id = Some(DEMO_ID.into());
        c
    }
}

impl Check for RunConfig {
    /// Validate the settings before any work starts.
    fn check_ref(&self) -> Result<()> {
        ensure!(self.batch_bytes >= 1 << 10, setting "batch_bytes", "must be at least 1 KiB, got {}", self.batch_bytes);
        self.settings.check_ref()?;
        self.hyperparameters.check_ref()
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
    /// The monitoring baseline beside the model (`baseline/`: Model Monitor's
    /// `statistics.json` and `constraints.json`, the reference rows and their scores).
    pub monitor_baseline: PathBuf,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Test-split metrics at the model's threshold.
    pub metrics: Metrics,
    /// Validation-split metrics at the model's threshold (`None` without a validation split).
    pub validation_metrics: Option<Metrics>,
    pub best_f1: ThresholdPoint,
    /// The thresholds each rule chose, and the model's.
    pub thresholds: ThresholdChoices,
    /// The baseline's and "always no"'s test metrics (`None` with the baseline off).
    pub baseline: Option<BaselineMetrics>,
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
    /// Seconds of each stage: load, split, fit, transform, write, then train (or tune and
    /// train, the refit), baseline (when fitted), evaluate, save.
    pub stages: Stages,
    /// Peak resident memory of the process at the end of the run, where the OS reports it.
    pub peak_rss_bytes: Option<u64>,
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
    /// Which rows of the table went to which split (the raw customers behind each row of
    /// `x_test`, say).
    pub split: crate::data::split::Split,
    /// Seconds of load, split, fit, transform and write.
    pub stages: Stages,
}

impl Prepared {
    /// The validation split, when there is one.
    pub fn validation(&self) -> Option<(&FeatureMatrix, &[u8])> {
        (self.x_val.nrows > 0).then_some((&self.x_val, self.y_val.as_slice()))
    }
}

/// Load, split, fit the preprocessor on the training split, and write the SageMaker split
/// files (train/validation/test.csv) to the output folder.
pub fn prepare(config: impl IntoValid<RunConfig>) -> Result<Prepared> {
    prepare_checked(&config.into_valid()?)
}

fn prepare_checked(config: &Valid<RunConfig>) -> Result<Prepared> {
    let s = &config.settings;
    let mut stages = Stages::start();
    let ds = load(&config.data, &s.load)?;
    stages.lap("load");
    let split = stratified_split(&ds.labels, &s.split)?;
    stages.lap("split");
    let pre = Preprocessor::fit_rows(
        &ds.features,
        Some(&split.train),
        &PrepOptions {
            numeric: s.load.numeric.clone(),
            categorical: s.load.categorical.clone(),
        },
    )?;
    stages.lap("fit");
    // Each split straight from the loaded table: no copy of the table or of the whole matrix.
    let part = |idx: &[usize]| -> Result<(FeatureMatrix, Vec<u8>)> {
        Ok((
            pre.transform_rows(&ds.features, Some(idx))?,
            idx.iter().map(|&i| ds.labels[i]).collect(),
        ))
    };
    let (x_train, y_train) = part(&split.train)?;
    let (x_val, y_val) = part(&split.validation)?;
    let (x_test, y_test) = part(&split.test)?;
    stages.lap("transform");

    let out = &config.out_dir;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let outputs = RunOutputs::in_dir(out, ".csv", !split.validation.is_empty());
    x_train.write_sagemaker_csv(&outputs.train, Some(&y_train))?;
    if let Some(v) = &outputs.validation {
        x_val.write_sagemaker_csv(v, Some(&y_val))?;
    } else {
        // A validation file from an earlier run must not pass for this run's (`run` and
        // `tune_run` replace the folder's run files whole; a caller of `prepare` may not).
        let stale = out.join("validation.csv");
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
        }
    }
    x_test.write_sagemaker_csv(&outputs.test, Some(&y_test))?;
    stages.lap("write");
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
        split,
        stages,
    })
}

/// Evaluate a trained model on the test split, write `model.tar.gz` (with `hyperparameters`
/// in its manifest) and `metrics.json`, and report. `stages` holds the stages so far (the
/// training's included); baseline (when fitted), evaluate and save are added.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    config: &Valid<RunConfig>,
    prepared: Prepared,
    model: Model,
    hyperparameters: &Hyperparameters,
    tuning: Option<TuningNote<'_>>,
    mut stages: Stages,
    started: Instant,
) -> Result<RunReport> {
    let Prepared {
        dataset: ds,
        preprocessor: pre,
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        outputs,
        split: _,
        stages: _,
    } = prepared;
    let s = &config.settings;
    let t_baseline = Instant::now();
    let baseline = if s.baseline {
        // A seeded sample of a large training split (the metrics say so).
        let keep =
            crate::util::random::sample_indices(x_train.nrows, BASELINE_MAX_ROWS, s.split.seed);
        let sample = (keep.len() < x_train.nrows).then_some(BaselineSample {
            rows: keep.len(),
            of_rows: x_train.nrows,
            seed: s.split.seed,
        });
        let fitted = match sample {
            Some(_) => {
                let y: Vec<u8> = keep.iter().map(|&i| y_train[i]).collect();
                Baseline::fit(&x_train.take(&keep), &y, &BaselineParams::default())?
            }
            None => Baseline::fit(&x_train, &y_train, &BaselineParams::default())?,
        };
        let scores = fitted.predict(&x_test)?;
        stages.add("baseline", t_baseline.elapsed().as_secs_f64());
        Some((fitted, scores, sample))
    } else {
        None
    };
    let t_evaluate = Instant::now();
    let scores = model.predict(&x_test)?;
    let val_scores = if x_val.nrows > 0 {
        model.predict(&x_val)?
    } else {
        Vec::new()
    };
    stages.add("evaluate", t_evaluate.elapsed().as_secs_f64());
    let explained = (0..x_test.nrows.min(EXPLAINED_ROWS)).collect::<Vec<_>>();
    conclude(
        config,
        Scored {
            path: ds.path.clone(),
            sha256: ds.sha256.clone(),
            target: ds.target.clone(),
            rows: ds.len(),
            n_input_columns: ds.features.width(),
            positive_rate: ds.positive_rate(),
            preprocessor: pre,
            n_train: x_train.nrows,
            y_val,
            val_scores,
            y_test,
            scores,
            x_explain: x_test.take(&explained),
            baseline,
            reference: ds.features,
            reference_of_rows: None,
            outputs,
            preparation: None,
        },
        model,
        hyperparameters,
        tuning,
        stages,
        started,
    )
}

/// What evaluating and saving a trained model takes, however the data was prepared (held
/// whole by [`finish`], or streamed).
pub(crate) struct Scored {
    pub path: PathBuf,
    pub sha256: String,
    pub target: String,
    /// Rows of the table.
    pub rows: usize,
    pub n_input_columns: usize,
    pub positive_rate: f64,
    pub preprocessor: Preprocessor,
    pub n_train: usize,
    /// Validation labels and scores (empty without a validation split).
    pub y_val: Vec<u8>,
    pub val_scores: Vec<f32>,
    pub y_test: Vec<u8>,
    pub scores: Vec<f32>,
    /// The first test rows' features, which the report explains.
    pub x_explain: FeatureMatrix,
    /// The baseline, its test scores and the sample it was fitted on (when one).
    pub baseline: Option<(Baseline, Vec<f32>, Option<BaselineSample>)>,
    /// Raw feature columns the monitoring baseline is drawn from: the table, or a seeded
    /// sample of it standing for `reference_of_rows` rows.
    pub reference: polars::prelude::DataFrame,
    pub reference_of_rows: Option<usize>,
    pub outputs: RunOutputs,
    pub preparation: Option<StreamingNote>,
}

/// Write the evaluation, the model and the monitoring baseline of a scored run, and report.
pub(crate) fn conclude(
    config: &Valid<RunConfig>,
    scored: Scored,
    model: Model,
    hyperparameters: &Hyperparameters,
    tuning: Option<TuningNote<'_>>,
    mut stages: Stages,
    started: Instant,
) -> Result<RunReport> {
    let s = &config.settings;
    let train_seconds = stages.seconds("train").unwrap_or(0.0);
    let t_evaluate = Instant::now();
    let rounds = model.rounds;
    let Evaluation {
        metrics,
        best_f1,
        thresholds,
        baseline,
    } = write_evaluation(
        &EvaluationInput {
            title: format!(
                "purchase-predict: {} (target `{}`)",
                scored.path.display(),
                scored.target
            ),
            source: scored.path.display().to_string(),
            rows: scored.rows,
            n_train: Some(scored.n_train),
            n_validation: Some(scored.y_val.len()),
            n_input_columns: scored.n_input_columns,
            n_features: scored.preprocessor.feature_names.len(),
            labels: &scored.y_test,
            scores: &scored.scores,
            threshold: s.threshold,
            model: &model,
            hyperparameters,
            x: &scored.x_explain,
            preprocessor: &scored.preprocessor,
            baseline: scored.baseline.as_ref().map(|b| b.1.as_slice()),
            baseline_sample: scored.baseline.as_ref().and_then(|b| b.2),
            preparation: scored.preparation.clone(),
            policy: ThresholdPolicy {
                rule: s.threshold_rule,
                costs: s.costs,
                selection: Some((&scored.y_val, &scored.val_scores)),
            },
            tuning,
        },
        &scored.outputs.report,
        &scored.outputs.metrics,
    )?;
    let validation_metrics = if scored.y_val.is_empty() {
        None
    } else {
        Some(crate::metrics::evaluate(
            &scored.y_val,
            &scored.val_scores,
            thresholds.threshold,
        )?)
    };
    stages.add("evaluate", t_evaluate.elapsed().as_secs_f64());
    let t_save = Instant::now();
    let mut artifact = Artifact::new(
        model,
        scored.preprocessor,
        &scored.target,
        hyperparameters.clone(),
        TrainingData {
            path: scored.path.display().to_string(),
            sha256: scored.sha256.clone(),
            rows: scored.rows,
        },
    );
    artifact.manifest.id_column = s.load.id.clone();
    artifact.manifest.threshold = thresholds.threshold;
    artifact.manifest.threshold_rule = Some(ThresholdRecord {
        rule: thresholds.rule,
        chosen_on: if thresholds.rule == ThresholdRule::Fixed {
            "given".into()
        } else {
            thresholds.chosen_on.clone()
        },
        costs: s.costs,
    });
    artifact.manifest.baseline = scored.baseline.map(|b| b.0);
    artifact.manifest.tuning = tuning.map(|t| t.decision.clone());
    artifact.manifest.metrics = Some(metrics.clone());
    artifact.save(&scored.outputs.model)?;
    stages.add("save", t_save.elapsed().as_secs_f64());
    // The baseline a deployed copy is watched against, from the whole table (a seeded
    // sample of it when large). Its model is the `model.tar.gz` beside `baseline/`.
    let t_monitor = Instant::now();
    let monitor_settings = crate::monitor::BaselineSettings {
        seed: s.split.seed,
        ..Default::default()
    };
    let monitor_baseline = match scored.reference_of_rows {
        None => crate::monitor::Baseline::of(
            &artifact,
            Path::new("model.tar.gz"),
            &scored.reference,
            &scored.path,
            &monitor_settings,
        )?,
        Some(of_rows) => crate::monitor::Baseline::of_sample(
            &artifact,
            Path::new("model.tar.gz"),
            &scored.reference,
            of_rows,
            &scored.path,
            &monitor_settings,
        )?,
    };
    monitor_baseline.write(&scored.outputs.monitor_baseline)?;
    stages.add("monitor baseline", t_monitor.elapsed().as_secs_f64());

    Ok(RunReport {
        metrics,
        validation_metrics,
        best_f1,
        thresholds,
        baseline,
        n_rows: scored.rows,
        n_train: scored.n_train,
        n_validation: scored.y_val.len(),
        n_test: scored.y_test.len(),
        n_input_columns: scored.n_input_columns,
        n_features: artifact.preprocessor.feature_names.len(),
        rounds,
        positive_rate: scored.positive_rate,
        outputs: scored.outputs,
        train_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        stages,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// Every file a run or a tuning run writes in its output folder: a new run replaces all of
/// them, so that the folder never mixes two runs.
pub const RUN_FILES: [&str; 11] = [
    "model.tar.gz",
    "baseline",
    "metrics.json",
    "report.html",
    "train.csv",
    "validation.csv",
    "test.csv",
    "tuning.json",
    // A streaming run's shards.
    "train",
    "validation",
    "test",
];

impl RunOutputs {
    /// A run's files in `out`: the splits named `train<ext>`, `validation<ext>` (only
    /// `with_validation`) and `test<ext>`, files with `.csv`, folders of shards with `""`.
    pub(crate) fn in_dir(out: &Path, ext: &str, with_validation: bool) -> RunOutputs {
        RunOutputs {
            model: out.join("model.tar.gz"),
            metrics: out.join("metrics.json"),
            report: out.join("report.html"),
            train: out.join(format!("train{ext}")),
            validation: with_validation.then(|| out.join(format!("validation{ext}"))),
            test: out.join(format!("test{ext}")),
            monitor_baseline: out.join("baseline"),
        }
    }

    /// The same files in `to` instead of `from`.
    fn moved(self, from: &Path, to: &Path) -> RunOutputs {
        let m = |p: PathBuf| p.strip_prefix(from).map(|rel| to.join(rel)).unwrap_or(p);
        RunOutputs {
            model: m(self.model),
            metrics: m(self.metrics),
            report: m(self.report),
            train: m(self.train),
            validation: self.validation.map(m),
            test: m(self.test),
            monitor_baseline: m(self.monitor_baseline),
        }
    }
}

/// Run `work` with the output folder swapped for a staging folder, then put the staging
/// folder's files in place of the previous run's whole ([`StagedDir`]): an error or an
/// interruption leaves the previous run as it was.
fn staged<T>(
    config: Valid<RunConfig>,
    work: impl FnOnce(&Valid<RunConfig>) -> Result<(RunReport, T)>,
) -> Result<(RunReport, T)> {
    // Said once for run, tune and the container's train alike.
    if let Some(note) = config.hyperparameters.threads_note() {
        eprintln!("{note}");
    }
    remove_on_signal();
    let staged = StagedDir::new(&config.out_dir)?;
    staged.check_reads(&RUN_FILES, &[("table", &config.data)])?;
    let inner = config
        .clone()
        .map_unchecked(|c| c.out_dir = staged.path().to_path_buf());
    let (mut report, extra) = work(&inner)?;
    staged.commit(&RUN_FILES)?;
    report.outputs = report.outputs.moved(&inner.out_dir, &config.out_dir);
    Ok((report, extra))
}

/// Run the local pipeline end to end. The output folder gets this run's files whole, or
/// keeps the previous run's if this one fails or is interrupted. `config` is checked once
/// here (a [`Valid`] one is taken as it is).
pub fn run(config: impl IntoValid<RunConfig>, progress: &mut dyn Progress) -> Result<RunReport> {
    staged(config.into_valid()?, |config| {
        run_in(config, progress).map(|r| (r, ()))
    })
    .map(|(r, ())| r)
}

fn run_in(config: &Valid<RunConfig>, progress: &mut dyn Progress) -> Result<RunReport> {
    if streams(config)? {
        return run_streaming_in(config, progress);
    }
    let started = Instant::now();
    let prepared = prepare_checked(config)?;
    let mut stages = prepared.stages.clone();
    let t_train = Instant::now();
    let model = train(
        &prepared.x_train,
        &prepared.y_train,
        prepared.validation(),
        &config.hyperparameters,
        progress,
    )?;
    stages.add("train", t_train.elapsed().as_secs_f64());
    finish(
        config,
        prepared,
        model,
        &config.hyperparameters,
        None,
        stages,
        started,
    )
}

/// `DIR/tuning.json`: the tuning run, every trial (trial 0: the defaults), the decision
/// between the defaults and the best trial, and the refit model's test metrics.
#[derive(Debug, Clone, Serialize)]
pub struct TuningFile<'a> {
    #[serde(flatten)]
    pub tuning: &'a TuningResult,
    /// The best trial by the objective (its number) and its objective (the mean over folds
    /// when cross-validated).
    pub best_trial: usize,
    pub best_objective: f64,
    /// The kept trial (0: the defaults), refit on the training split.
    pub kept_trial: usize,
    /// The refit kept model on the test split.
    pub test_metrics: &'a Metrics,
    /// The defaults refit the same way, on the test split, for the record (the decision was
    /// made before the test split was looked at): the test ROC AUC's difference is what tuning
    /// brought on unseen customers.
    pub defaults_test_roc_auc: Option<f64>,
    /// Seconds of the search, and of the search plus the refit.
    pub tuning_seconds: f64,
    pub tuning_and_refit_seconds: f64,
}

/// Prepare the data as [`run`] does, tune the hyperparameters with `tuner` (its `base` holds
/// the fixed ones and is trial 0, the defaults; `config.hyperparameters` is not used), refit
/// the kept trial (the best one when it beats the defaults beyond the noise, else the
/// defaults) on the training split with every core, and write everything `run` writes plus
/// `tuning.json`, as whole as [`run`] does.
pub fn tune_run(
    config: impl IntoValid<RunConfig>,
    tuner: impl IntoValid<TunerConfig>,
    progress: &mut dyn Progress,
) -> Result<(RunReport, TuningResult)> {
    let tuner = tuner.into_valid()?;
    staged(config.into_valid()?, |config| {
        tune_run_in(config, &tuner, progress)
    })
}

fn tune_run_in(
    config: &Valid<RunConfig>,
    tuner: &Valid<TunerConfig>,
    progress: &mut dyn Progress,
) -> Result<(RunReport, TuningResult)> {
    if config.streaming == Streaming::Always {
        return Err(Error::InvalidSetting {
            name: "--streaming".into(),
            reason: "tuning holds the table in memory: tune on a sample of it, then `run \
                     --streaming` the whole table with the hyperparameters it chose"
                .into(),
        });
    }
    let started = Instant::now();
    let prepared = prepare_checked(config)?;
    let mut stages = prepared.stages.clone();
    let t0 = Instant::now();
    let result = tune(
        (&prepared.x_train, &prepared.y_train),
        prepared.validation(),
        tuner,
        progress,
    )?;
    let kept_hp = result.kept_hyperparameters()?;
    stages.add("tune", t0.elapsed().as_secs_f64());
    let t_refit = Instant::now();
    let refit = |hp: &Hyperparameters| {
        train(
            &prepared.x_train,
            &prepared.y_train,
            prepared.validation(),
            hp,
            &mut Silent,
        )
    };
    let model = refit(&kept_hp)?;
    // The refit is the run's "train" stage (its training time, as `run` reports it).
    stages.add("train", t_refit.elapsed().as_secs_f64());
    let tuning_and_refit_seconds = t0.elapsed().as_secs_f64();
    let defaults_test_roc_auc = if result.decision.kept_trial == 0 {
        None
    } else {
        let defaults = refit(
            &result
                .config
                .hyperparameters(&result.trials[0].hyperparameters)?,
        )?;
        crate::metrics::roc_auc(&prepared.y_test, &defaults.predict(&prepared.x_test)?).ok()
    };
    let tuning_json = config.out_dir.join("tuning.json");
    let report = finish(
        config,
        prepared,
        model,
        &kept_hp,
        Some(TuningNote {
            decision: &result.decision,
            search: Some(&result),
        }),
        stages,
        started,
    )?;
    let best = result.best_training_job();
    let file = TuningFile {
        tuning: &result,
        best_trial: best.number,
        best_objective: best.objective.unwrap_or(f64::NAN),
        kept_trial: result.decision.kept_trial,
        test_metrics: &report.metrics,
        defaults_test_roc_auc: defaults_test_roc_auc.or(report.metrics.roc_auc),
        tuning_seconds: result.seconds,
        tuning_and_refit_seconds,
    };
    write_json_atomically(&tuning_json, &file)?;
    Ok((report, result))
}

/// [`run`], judged against the defaults: `config.hyperparameters` were chosen by a search that
/// ran elsewhere (a SageMaker tuning job), and `defaults` holds the values its tuned
/// hyperparameters had before the search. Both are judged on this run's training data by the
/// rule a local search uses ([`compare`](crate::model::tune::compare): cross-validation up to
/// [`CV_AUTO_MAX_ROWS`](crate::model::tune::CV_AUTO_MAX_ROWS) training rows, else a paired
/// bootstrap of the validation split, on `validation:auc`); the kept ones are trained,
/// evaluated and saved as [`run`] does, with the decision in the model's manifest
/// (`tuning`) and report.
pub fn run_judged(
    config: impl IntoValid<RunConfig>,
    defaults: &BTreeMap<String, String>,
    progress: &mut dyn Progress,
) -> Result<(RunReport, Decision)> {
    staged(config.into_valid()?, |config| {
        run_judged_in(config, defaults, progress)
    })
}

fn run_judged_in(
    config: &Valid<RunConfig>,
    defaults: &BTreeMap<String, String>,
    progress: &mut dyn Progress,
) -> Result<(RunReport, Decision)> {
    use crate::model::tune::{compare, Kept, ParameterRange};
    let started = Instant::now();
    let prepared = prepare_checked(config)?;
    let mut stages = prepared.stages.clone();
    let t0 = Instant::now();
    let tuned_all = config.hyperparameters.to_sagemaker();
    let mut ranges = BTreeMap::new();
    let mut candidate = BTreeMap::new();
    for (name, default) in defaults {
        let tuned = tuned_all
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.clone());
        let values = if &tuned == default {
            vec![tuned.clone()]
        } else {
            vec![default.clone(), tuned.clone()]
        };
        ranges.insert(name.clone(), ParameterRange::categorical(values));
        candidate.insert(name.clone(), tuned);
    }
    let mut untuned = config.hyperparameters.clone();
    for (name, value) in defaults {
        untuned.set(name, value)?;
    }
    let judge = TunerConfig::new(ranges)
        .max_jobs(1)
        .max_parallel_jobs(1)
        .seed(config.settings.split.seed)
        .base(config.hyperparameters.clone())
        .defaults(untuned.clone());
    let decision = compare(
        (&prepared.x_train, &prepared.y_train),
        prepared.validation(),
        &judge,
        candidate,
    )?;
    stages.add("judge", t0.elapsed().as_secs_f64());
    let kept = match decision.kept {
        Kept::Defaults => untuned,
        Kept::Tuned => config.hyperparameters.clone(),
    };
    let t_train = Instant::now();
    let model = train(
        &prepared.x_train,
        &prepared.y_train,
        prepared.validation(),
        &kept,
        progress,
    )?;
    stages.add("train", t_train.elapsed().as_secs_f64());
    let report = finish(
        config,
        prepared,
        model,
        &kept,
        Some(TuningNote {
            decision: &decision,
            search: None,
        }),
        stages,
        started,
    )?;
    Ok((report, decision))
}
