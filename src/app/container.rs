//! `purchase-predict train` as SageMaker runs it in our image: read the job SageMaker laid out
//! under `/opt/ml` ([`MlRoot`]), run the whole `run` pipeline on the raw customer table of
//! the `train` channel, leave the model in `/opt/ml/model` and the evaluation in
//! `/opt/ml/output/data/evaluation`, print each metric for SageMaker's metric definitions,
//! and on failure write the reason to `/opt/ml/output/failure` (SageMaker's FailureReason)
//! and exit non-zero. The layout is in [`crate::cloud::sagemaker::container`].
//!
//! ```no_run
//! use purchase_predict::app::container::train;
//! use purchase_predict::cloud::sagemaker::container::MlRoot;
//! use purchase_predict::util::progress::Silent;
//! let report = train(&MlRoot::new("/tmp/job"), &mut Silent)?;
//! println!("validation AUC {:?}", report.validation_metrics.and_then(|m| m.roc_auc));
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::app::pipeline::{self, RunConfig, RunReport};
use crate::cloud::sagemaker::container::{
    metric_lines, ChannelConfig, MlRoot, PipelineJob, ResourceConfig, TableFormat,
    CSV_CONTENT_TYPES, EVALUATION_FOLDER, PARQUET_CONTENT_TYPES, TRAIN_CHANNEL,
};
use crate::error::{Error, Result};
use crate::model::Hyperparameters;
use crate::util::progress::Progress;

/// A training job as read from the layout, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInput {
    pub job: PipelineJob,
    pub hyperparameters: Hyperparameters,
    /// The one customer table of the `train` channel.
    pub data: PathBuf,
}

fn input_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::JobInput {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| input_error(path, format!("not valid JSON: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// `hyperparameters.json`: an object; values are strings as SageMaker writes them (numbers
/// and booleans, as a hand-written file may hold, are taken as their text).
fn read_hyperparameters(path: &Path) -> Result<BTreeMap<String, String>> {
    let value = read_json(path)?
        .ok_or_else(|| input_error(path, "missing: SageMaker writes it for every training job"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(input_error(path, "must be a JSON object of name → value"));
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(input_error(
                        path,
                        format!("hyperparameter `{k}` is {other}, not a string"),
                    ))
                }
            };
            Ok((k, text))
        })
        .collect()
}

/// The data files of a channel folder, recursively; names starting with `.` or `_` (such as
/// Spark's `_SUCCESS`) are not data.
fn channel_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            channel_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Read and check the job under `root`: its hyperparameters (pipeline settings and
/// XGBoost's), the channels (one, `train`, in File or FastFile mode, holding one CSV or
/// Parquet table) and the resources (one instance).
pub fn read_job(root: &MlRoot) -> Result<JobInput> {
    let hp_file = root.hyperparameters_file();
    let (job, hyperparameters) =
        PipelineJob::from_hyperparameters(&read_hyperparameters(&hp_file)?)
            .map_err(|e| input_error(&hp_file, e.to_string()))?;

    let resource_file = root.resource_config_file();
    if let Some(value) = read_json(&resource_file)? {
        let resources: ResourceConfig = serde_json::from_value(value)
            .map_err(|e| input_error(&resource_file, e.to_string()))?;
        if resources.hosts.len() > 1 {
            return Err(input_error(
                &resource_file,
                format!(
                    "{} hosts ({}): this image trains on one instance (InstanceCount 1)",
                    resources.hosts.len(),
                    resources.hosts.join(", ")
                ),
            ));
        }
    }

    let config_file = root.input_data_config_file();
    let channels: BTreeMap<String, ChannelConfig> =
        serde_json::from_value(read_json(&config_file)?.ok_or_else(|| {
            input_error(
                &config_file,
                "missing: SageMaker writes it for every training job",
            )
        })?)
        .map_err(|e| input_error(&config_file, e.to_string()))?;
    if let Some(other) = channels.keys().find(|c| *c != TRAIN_CHANNEL) {
        return Err(input_error(
            &config_file,
            format!(
                "channel `{other}`: this image reads one channel, `{TRAIN_CHANNEL}`, holding the \
                 whole customer table; it splits it itself (hyperparameters test_share and \
                 validation_share)"
            ),
        ));
    }
    let channel = channels.get(TRAIN_CHANNEL).ok_or_else(|| {
        input_error(
            &config_file,
            format!("no `{TRAIN_CHANNEL}` channel: give the job the customer table as `{TRAIN_CHANNEL}`"),
        )
    })?;
    match channel.training_input_mode.as_deref() {
        None | Some("File") | Some("FastFile") => {}
        Some(mode) => {
            return Err(input_error(
                &config_file,
                format!("channel `{TRAIN_CHANNEL}`: input mode {mode}; this image reads files (File or FastFile)"),
            ))
        }
    }
    match channel.record_wrapper_type.as_deref() {
        None | Some("None") => {}
        Some(w) => {
            return Err(input_error(
                &config_file,
                format!("channel `{TRAIN_CHANNEL}`: record wrapper {w}; this image reads plain CSV or Parquet files"),
            ))
        }
    }
    let declared = match channel.content_type.as_deref() {
        None | Some("") => None,
        Some(ct) => Some(TableFormat::from_content_type(ct).ok_or_else(|| {
            input_error(
                &config_file,
                format!(
                    "channel `{TRAIN_CHANNEL}`: content type `{ct}`; this image trains on {} (CSV) or {} (Parquet)",
                    CSV_CONTENT_TYPES.join(", "),
                    PARQUET_CONTENT_TYPES.join(", ")
                ),
            )
        })?),
    };

    let dir = root.channel_dir(TRAIN_CHANNEL);
    if !dir.is_dir() {
        return Err(input_error(&dir, "the channel's folder is missing"));
    }
    let mut files = Vec::new();
    channel_files(&dir, &mut files)?;
    files.sort();
    let data = match files.as_slice() {
        [one] => one.clone(),
        [] => return Err(input_error(&dir, "the channel holds no file")),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(5)
                .map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string())
                .collect();
            return Err(input_error(
                &dir,
                format!(
                    "the channel holds {} files ({}{}); this image trains on one customer table: point the channel at one file",
                    many.len(),
                    names.join(", "),
                    if many.len() > 5 { ", …" } else { "" }
                ),
            ));
        }
    };
    let found = TableFormat::from_path(&data.to_string_lossy());
    if let Some(d) = declared {
        if d != found {
            return Err(input_error(
                &data,
                format!(
                    "the channel declares {} but the file's name says {} (.parquet/.pq is Parquet, anything else CSV)",
                    d.content_type(),
                    found.content_type()
                ),
            ));
        }
    }
    Ok(JobInput {
        job,
        hyperparameters,
        data,
    })
}

/// The `run` settings of a job: its table, its pipeline settings and hyperparameters, and
/// the evaluation folder under `/opt/ml/output/data`.
pub fn run_config(root: &MlRoot, input: &JobInput) -> RunConfig {
    let JobInput {
        job,
        hyperparameters,
        data,
    } = input.clone();
    RunConfig {
        data,
        load: job.load,
        split: job.split,
        hyperparameters,
        threshold: job.threshold,
        threshold_rule: job.threshold_rule,
        costs: job.costs,
        baseline: job.baseline,
        out_dir: root.output_data_dir().join(EVALUATION_FOLDER),
    }
}

/// Run the training job laid out under `root`: the `run` pipeline on the `train` channel's
/// table, the model's files left in `<root>/model` (SageMaker packs them into
/// `model.tar.gz`), `metrics.json` and `report.html` in `<root>/output/data/evaluation`
/// (the split CSVs, which SageMaker would upload too, are removed), and every validation and
/// test metric printed as a `#metric split:name=value` line.
pub fn train(root: &MlRoot, progress: &mut dyn Progress) -> Result<RunReport> {
    let input = read_job(root)?;
    let config = run_config(root, &input);
    println!(
        "purchase-predict train: {} (target `{}`), test share {}, validation share {}, split seed {}",
        input.data.display(),
        config.load.target,
        config.split.test_share,
        config.split.validation_share,
        config.split.seed
    );
    let report = pipeline::run(&config, progress)?;
    let model_dir = root.model_dir();
    crate::model::artifact::unpack(&report.outputs.model, &model_dir)?;
    let mut leftovers = vec![
        report.outputs.model.clone(),
        report.outputs.train.clone(),
        report.outputs.test.clone(),
    ];
    leftovers.extend(report.outputs.validation.clone());
    for f in leftovers {
        std::fs::remove_file(&f).map_err(|e| Error::io(&f, e))?;
    }
    if let Some(v) = &report.validation_metrics {
        for line in metric_lines("validation", v) {
            println!("{line}");
        }
    }
    for line in metric_lines("test", &report.metrics) {
        println!("{line}");
    }
    println!(
        "model written to {} ({} rounds, {} features); evaluation in {}",
        model_dir.display(),
        report.rounds,
        report.n_features,
        config.out_dir.display()
    );
    Ok(report)
}

/// Write why the job failed where SageMaker reads it (`<root>/output/failure`; the first
/// 1,024 characters become the job's FailureReason), when the root exists. A failure to write
/// it is printed, not raised: the job fails either way.
pub fn write_failure(root: &MlRoot, error: &Error) {
    let path = root.failure_file();
    let text = error.to_string();
    // Outside a container (no /opt/ml at all), nothing is created: the error is on stderr.
    if !root.root.is_dir() {
        return;
    }
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, text.as_bytes()));
    if let Err(e) = written {
        eprintln!("could not write {}: {e}", path.display());
    }
}

/// `purchase-predict train`: [`train`] under [`MlRoot::from_env`], with the failure written
/// on error (the binary then exits 1).
pub fn train_command(progress: &mut dyn Progress) -> Result<()> {
    let root = MlRoot::from_env();
    train(&root, progress)
        .map(|_| ())
        .inspect_err(|e| write_failure(&root, e))
}
