//! Our own image's side of SageMaker's container contract: the vocabulary that
//! `purchase-predict train` and `purchase-predict serve` (the image's entry points) share with
//! the [`crate::cloud::estimator::Estimator`] that sends them jobs.
//!
//! SageMaker starts a training container as `<image> train` with this layout under
//! `/opt/ml` ([`MlRoot`]; [`ROOT_ENV`] moves it, for tests and local jobs):
//!
//! ```text
//! /opt/ml/input/config/hyperparameters.json   {"name": "value", ...}, every value a string
//! /opt/ml/input/config/inputdataconfig.json   {"train": {"ContentType": "text/csv", ...}}
//! /opt/ml/input/config/resourceconfig.json    {"current_host": "algo-1", "hosts": [...]}
//! /opt/ml/input/data/train/                   the channel's files
//! /opt/ml/model/                              what SageMaker packs into model.tar.gz
//! /opt/ml/output/data/                        what SageMaker packs into output.tar.gz
//! /opt/ml/output/failure                      why the job failed (its FailureReason)
//! ```
//!
//! and a hosting container as `<image> serve`, with `model.tar.gz` unpacked in
//! `/opt/ml/model`, answering on port 8080 ([`BIND_TO_PORT_ENV`] overrides it).
//!
//! Unlike the built-in XGBoost image, ours trains on the **raw customer table**: the `train`
//! channel holds one CSV or Parquet file, and the job runs the whole `run` pipeline on it
//! (load, split, fit the preprocessor, train, evaluate). Its settings travel as
//! hyperparameters beside XGBoost's (`run`'s own [`PipelineSettings`]), and it prints its
//! metrics as [`metric_line`]s for the [`metric_definitions`] SageMaker reads from the log.
//!
//! ```
//! use purchase_predict::evaluate::settings::PipelineSettings;
//! use purchase_predict::model::Hyperparameters;
//! let mut job = PipelineSettings::new("y");
//! job.load.drop = vec!["duration".into()];
//! let mut sent = job.to_hyperparameters();
//! sent.extend(Hyperparameters::default().to_sagemaker());
//! let (back, hp) = PipelineSettings::from_hyperparameters(&sent)?;
//! assert_eq!(*back, job);
//! assert_eq!(*hp, Hyperparameters::default());
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Check, Error, Result, Valid};
use crate::evaluate::settings::PipelineSettings;
use crate::metrics::{Costs, Metrics, Threshold, ThresholdRule};
use crate::model::Hyperparameters;

/// The environment variable that moves the `/opt/ml` root (tests and local jobs use a
/// temporary folder; SageMaker never sets it).
pub const ROOT_ENV: &str = "PURCHASE_PREDICT_ML_ROOT";
/// Where SageMaker lays out a container's files.
pub const DEFAULT_ROOT: &str = "/opt/ml";
/// The port SageMaker asks a hosting container to listen on instead of 8080 (multi-container
/// endpoints and inference pipelines set it).
pub const BIND_TO_PORT_ENV: &str = "SAGEMAKER_BIND_TO_PORT";
/// The port a hosting container answers on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8080;
/// Worker count SageMaker's built-in containers read; `serve` honours it too.
pub const WORKERS_ENV: &str = "SAGEMAKER_MODEL_SERVER_WORKERS";
/// Where `serve` in our image captures its traffic (a folder or `s3://bucket/prefix`), as
/// `serve --capture`.
pub const CAPTURE_ENV: &str = "PURCHASE_PREDICT_CAPTURE";
/// The percentage of requests captured, as `serve --capture-sampling`.
pub const CAPTURE_SAMPLING_ENV: &str = "PURCHASE_PREDICT_CAPTURE_SAMPLING";
/// The endpoint's name in the capture folders, as `serve --capture-endpoint`.
pub const CAPTURE_ENDPOINT_ENV: &str = "PURCHASE_PREDICT_CAPTURE_ENDPOINT";
/// The binary a local job of our image runs (default: `purchase-predict` on `PATH`).
pub const BIN_ENV: &str = "PURCHASE_PREDICT_BIN";
/// The one channel a job of our image reads.
pub const TRAIN_CHANNEL: &str = "train";
/// The hyperparameter SageMaker adds to every trial of a tuning job.
pub const TUNING_OBJECTIVE_HYPERPARAMETER: &str = "_tuning_objective_metric";
/// The hyperparameter that makes a job a refit judged against the defaults: a JSON object of
/// the defaults' values of the tuned hyperparameters (`{"eta": "0.2", "max_depth": "5"}`).
/// The job judges its own hyperparameters against them by the rule a local search uses
/// ([`crate::app::pipeline::run_judged`]) and keeps the better, the decision in the model's
/// manifest.
pub const JUDGE_AGAINST_HYPERPARAMETER: &str = "judge_against";
/// The folder under `/opt/ml/output/data` that holds the run's `metrics.json` and
/// `report.html`.
pub const EVALUATION_FOLDER: &str = "evaluation";

/// Content types a `train` channel may declare, and what they mean.
pub const CSV_CONTENT_TYPES: &[&str] = &["text/csv"];
pub const PARQUET_CONTENT_TYPES: &[&str] =
    &["application/x-parquet", "application/vnd.apache.parquet"];

/// The layout under the root (`/opt/ml` in a container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlRoot {
    pub root: PathBuf,
}

impl MlRoot {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        MlRoot { root: root.into() }
    }

    /// [`ROOT_ENV`] when set (and not empty), else `/opt/ml`.
    pub fn from_env() -> Self {
        match std::env::var_os(ROOT_ENV) {
            Some(r) if !r.is_empty() => MlRoot::new(r),
            _ => MlRoot::new(DEFAULT_ROOT),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.root.join("input/config")
    }
    pub fn hyperparameters_file(&self) -> PathBuf {
        self.config_dir().join("hyperparameters.json")
    }
    pub fn input_data_config_file(&self) -> PathBuf {
        self.config_dir().join("inputdataconfig.json")
    }
    pub fn resource_config_file(&self) -> PathBuf {
        self.config_dir().join("resourceconfig.json")
    }
    pub fn channel_dir(&self, channel: &str) -> PathBuf {
        self.root.join("input/data").join(channel)
    }
    pub fn model_dir(&self) -> PathBuf {
        self.root.join("model")
    }
    pub fn output_data_dir(&self) -> PathBuf {
        self.root.join("output/data")
    }
    pub fn failure_file(&self) -> PathBuf {
        self.root.join("output/failure")
    }

    /// Lay out a training job as SageMaker does in the container: the three config files,
    /// each channel's files copied into its folder, and the empty model and output folders.
    /// Local jobs of our image and the tests run `purchase-predict train` on this.
    pub fn write_training_job(
        &self,
        hyperparameters: &BTreeMap<String, String>,
        channels: &[(&str, &[PathBuf], &str)],
    ) -> Result<()> {
        let write = |path: PathBuf, value: serde_json::Value| -> Result<()> {
            crate::util::files::write_json_atomically(&path, &value)
        };
        std::fs::create_dir_all(self.config_dir()).map_err(|e| Error::io(self.config_dir(), e))?;
        write(
            self.hyperparameters_file(),
            serde_json::to_value(hyperparameters).map_err(|e| Error::json("hyperparameters", e))?,
        )?;
        let mut config = serde_json::Map::new();
        for (name, files, content_type) in channels {
            let dir = self.channel_dir(name);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            for file in files.iter() {
                let file_name = file.file_name().ok_or_else(|| Error::JobInput {
                    path: file.to_path_buf(),
                    reason: "not a file".into(),
                })?;
                std::fs::copy(file, dir.join(file_name)).map_err(|e| Error::io(file, e))?;
            }
            config.insert(
                name.to_string(),
                serde_json::json!({
                    "ContentType": content_type,
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                }),
            );
        }
        write(self.input_data_config_file(), config.into())?;
        write(
            self.resource_config_file(),
            serde_json::json!({
                "current_host": "algo-1",
                "hosts": ["algo-1"],
                "network_interface_name": "eth0",
            }),
        )?;
        for dir in [self.model_dir(), self.output_data_dir()] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(())
    }

    /// Make a job laid out by [`MlRoot::write_training_job`] one host's of several, as
    /// SageMaker lays out each instance of a multi-instance job: `resourceconfig.json` names
    /// every host and this one, and each channel is `ShardedByS3Key` (its folder holding this
    /// host's objects).
    pub fn set_hosts(&self, hosts: &[String], current: &str) -> Result<()> {
        let config_file = self.input_data_config_file();
        let text = std::fs::read_to_string(&config_file).map_err(|e| Error::io(&config_file, e))?;
        let mut config: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::json("inputdataconfig.json", e))?;
        if let Some(channels) = config.as_object_mut() {
            for channel in channels.values_mut() {
                channel["S3DistributionType"] = "ShardedByS3Key".into();
            }
        }
        crate::util::files::write_json_atomically(&config_file, &config)?;
        crate::util::files::write_json_atomically(
            self.resource_config_file(),
            &serde_json::json!({
                "current_host": current,
                "hosts": hosts,
                "network_interface_name": "eth0",
            }),
        )
    }
}

/// One channel's entry in `inputdataconfig.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChannelConfig {
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub training_input_mode: Option<String>,
    #[serde(default)]
    pub s3_distribution_type: Option<String>,
    #[serde(default)]
    pub record_wrapper_type: Option<String>,
}

/// `resourceconfig.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResourceConfig {
    pub current_host: String,
    pub hosts: Vec<String>,
}

/// Whether a `train` channel holds CSV or Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    /// From a declared content type (parameters such as `;charset=utf-8` ignored).
    pub fn from_content_type(content_type: &str) -> Option<TableFormat> {
        let base = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if CSV_CONTENT_TYPES.contains(&base.as_str()) {
            Some(TableFormat::Csv)
        } else if PARQUET_CONTENT_TYPES.contains(&base.as_str()) {
            Some(TableFormat::Parquet)
        } else {
            None
        }
    }

    /// From a file name or S3 key: `.parquet`/`.pq` is Parquet, anything else CSV.
    pub fn from_path(path: &str) -> TableFormat {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            TableFormat::Parquet
        } else {
            TableFormat::Csv
        }
    }

    /// The content type a job declares for it.
    pub fn content_type(self) -> &'static str {
        match self {
            TableFormat::Csv => CSV_CONTENT_TYPES[0],
            TableFormat::Parquet => PARQUET_CONTENT_TYPES[0],
        }
    }
}

/// The hyperparameters [`PipelineSettings::from_hyperparameters`] reads; every other is
/// XGBoost's.
pub const PIPELINE_HYPERPARAMETERS: &[&str] = &[
    "target",
    "id",
    "drop",
    "numeric",
    "categorical",
    "delimiter",
    "split_seed",
    "test_share",
    "validation_share",
    "threshold",
    "threshold_rule",
    "contact_cost",
    "sale_value",
    "baseline",
];

fn bad(name: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidHyperparameter {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a job of our image does besides training XGBoost, sent as hyperparameters: the
/// options of `purchase-predict run`, with the same defaults.
///
/// | hyperparameter | `run` option | default |
/// |---|---|---|
/// | `target` | `--target` | required |
/// | `id` | `--id` | none |
/// | `drop`, `numeric`, `categorical` | same | none (comma-separated) |
/// | `delimiter` | `--delimiter` | detected |
/// | `split_seed` | `--seed` | 42 |
/// | `test_share`, `validation_share` | same | 0.3, 0.2 |
/// | `threshold`, `threshold_rule` | same | 0.5, `fixed` |
/// | `contact_cost`, `sale_value` | same | none |
/// | `baseline` | `--no-baseline` when `false` | `true` |
///
/// Every other hyperparameter is XGBoost's ([`Hyperparameters::set`] names). The settings
/// are `run`'s own block, checked by the same rules.
impl PipelineSettings {
    /// The settings as SageMaker hyperparameters (strings); a setting at its default is
    /// left out, except `target`.
    pub fn to_hyperparameters(&self) -> BTreeMap<String, String> {
        let default = PipelineSettings::new(self.load.target.clone());
        let mut out = BTreeMap::from([("target".to_string(), self.load.target.clone())]);
        let mut put = |k: &str, v: String| {
            out.insert(k.to_string(), v);
        };
        if let Some(id) = &self.load.id {
            put("id", id.clone());
        }
        for (k, v) in [
            ("drop", &self.load.drop),
            ("numeric", &self.load.numeric),
            ("categorical", &self.load.categorical),
        ] {
            if !v.is_empty() {
                put(k, v.join(","));
            }
        }
        if let Some(d) = self.load.delimiter {
            put("delimiter", (d as char).to_string());
        }
        if self.split.seed != default.split.seed {
            put("split_seed", self.split.seed.to_string());
        }
        if self.split.test_share != default.split.test_share {
            put("test_share", self.split.test_share.to_string());
        }
        if self.split.validation_share != default.split.validation_share {
            put("validation_share", self.split.validation_share.to_string());
        }
        if self.threshold != default.threshold {
            put("threshold", self.threshold.to_string());
        }
        if self.threshold_rule != default.threshold_rule {
            put("threshold_rule", self.threshold_rule.name().into());
        }
        if let Some(c) = self.costs {
            put("contact_cost", c.contact_cost.to_string());
            put("sale_value", c.sale_value.to_string());
        }
        if !self.baseline {
            put("baseline", "false".into());
        }
        out
    }

    /// Split a job's hyperparameters into the pipeline's settings and XGBoost's, each
    /// checked: an unknown name, a value that does not parse or is out of range is an error
    /// naming the hyperparameter. SageMaker's own `_tuning_objective_metric` is ignored.
    pub fn from_hyperparameters(
        map: &BTreeMap<String, String>,
    ) -> Result<(Valid<PipelineSettings>, Valid<Hyperparameters>)> {
        let target = map.get("target").ok_or_else(|| {
            bad(
                "target",
                "",
                "required: name the column to predict (yes/no, true/false or 1/0)",
            )
        })?;
        let mut job = PipelineSettings::new(target.trim());
        let mut hp = Hyperparameters::default();
        let mut cost = None;
        let mut sale = None;
        for (name, value) in map {
            let v = value.trim();
            let number = || -> Result<f64> {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(name, value, "not a number"))
            };
            match name.as_str() {
                "target" => {}
                TUNING_OBJECTIVE_HYPERPARAMETER => {}
                "id" => job.load.id = (!v.is_empty()).then(|| v.to_string()),
                "drop" => job.load.drop = list(v),
                "numeric" => job.load.numeric = list(v),
                "categorical" => job.load.categorical = list(v),
                "delimiter" => {
                    let d = match value.as_str() {
                        "\\t" | "tab" => b'\t',
                        s if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
                        _ => return Err(bad(name, value, "must be one ASCII character")),
                    };
                    job.load.delimiter = Some(d);
                }
                "split_seed" => {
                    job.split.seed = v
                        .parse()
                        .map_err(|_| bad(name, value, "not a whole number ≥ 0"))?
                }
                "test_share" => job.split.test_share = number()?,
                "validation_share" => job.split.validation_share = number()?,
                "threshold" => {
                    job.threshold = Threshold::new(number()?)
                        .map_err(|_| bad(name, value, "must be in [0, 1]"))?
                }
                "threshold_rule" => {
                    job.threshold_rule = v.parse().map_err(|_| {
                        bad(
                            name,
                            value,
                            format!("not one of {}", ThresholdRule::NAMES.join(", ")),
                        )
                    })?
                }
                "contact_cost" => cost = Some(number()?),
                "sale_value" => sale = Some(number()?),
                "baseline" => {
                    job.baseline = match v.to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(bad(name, value, "must be true or false")),
                    }
                }
                _ => hp.set(name, value)?,
            }
        }
        // `run`'s own checks, each error named as the hyperparameter it came from.
        let named = |e: Error| match e {
            Error::InvalidSetting { name, reason } => {
                let value = map.get(&name).map_or("", String::as_str);
                bad(&name, value, reason)
            }
            other => other,
        };
        job.costs = Costs::from_parts(cost, sale).map_err(named)?;
        let job = job.check().map_err(named)?;
        Ok((job, hp.check()?))
    }
}

/// What a training job of our image prints for each metric: one line per split and metric,
/// read by SageMaker through [`metric_definitions`] (and by a tuning job for its objective).
pub const METRIC_PREFIX: &str = "#metric ";

/// The splits whose metrics are printed.
pub const METRIC_SPLITS: &[&str] = &["validation", "test"];

/// The metrics printed for each split, by their SageMaker-style names.
pub const METRIC_NAMES: &[&str] = &[
    "auc",
    "pr_auc",
    "logloss",
    "error",
    "accuracy",
    "precision",
    "recall",
    "f1",
];

/// `validation:auc` → the value of that metric in `m` (`None` when undefined, such as AUC
/// with one class).
pub fn metric_value(m: &Metrics, name: &str) -> Option<f64> {
    match name {
        "auc" => m.roc_auc,
        "pr_auc" => m.pr_auc,
        "logloss" => Some(m.log_loss),
        "error" => Some(1.0 - m.accuracy),
        "accuracy" => Some(m.accuracy),
        "precision" => Some(m.precision),
        "recall" => Some(m.recall),
        "f1" => Some(m.f1),
        _ => None,
    }
}

/// `#metric validation:auc=0.91` → `("validation:auc", 0.91)`.
pub fn parse_metric_line(line: &str) -> Option<(String, f64)> {
    let (name, value) = line.trim().strip_prefix(METRIC_PREFIX)?.split_once('=')?;
    Some((name.to_string(), value.trim().parse().ok()?))
}

/// The entry point a local job of our image runs, as SageMaker runs the image's: the file
/// [`BIN_ENV`] names, else `purchase-predict` on `PATH` (`cargo install --path .` puts it
/// there).
pub fn entry_point() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os(BIN_ENV).filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(Error::InvalidSetting {
                name: BIN_ENV.into(),
                reason: format!("{} is not a file", bin.display()),
            })
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("purchase-predict"))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::InvalidSetting {
            name: BIN_ENV.into(),
            reason: "a local job of the purchase-predict image runs the purchase-predict binary, \
                     and none is on PATH: `cargo install --path .`, or set PURCHASE_PREDICT_BIN"
                .into(),
        })
}

/// One metric as the job prints it: `#metric validation:auc=0.912345678`.
pub fn metric_line(split: &str, name: &str, value: f64) -> String {
    format!("{METRIC_PREFIX}{split}:{name}={value}")
}

/// Every metric line of a split's metrics.
pub fn metric_lines(split: &str, m: &Metrics) -> Vec<String> {
    METRIC_NAMES
        .iter()
        .filter_map(|n| metric_value(m, n).map(|v| metric_line(split, n, v)))
        .collect()
}

/// `AlgorithmSpecification.MetricDefinitions` for our image: `(name, regex)` per split and
/// metric, matching [`metric_line`].
pub fn metric_definitions() -> Vec<(String, String)> {
    let number = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)";
    METRIC_SPLITS
        .iter()
        .flat_map(|s| {
            METRIC_NAMES.iter().map(move |n| {
                (
                    format!("{s}:{n}"),
                    format!("{}{s}:{n}={number}", METRIC_PREFIX.replace(' ', "\\s")),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_round_trip_through_hyperparameters() {
        let mut job = PipelineSettings::new("y");
        job.load.id = Some("customer_id".into());
        job.load.drop = vec!["duration".into(), "pdays".into()];
        job.load.categorical = vec!["month".into()];
        job.load.delimiter = Some(b';');
        job.split.seed = 7;
        job.split.validation_share = 0.25;
        job.threshold_rule = ThresholdRule::Profit;
        job.costs = Some(Costs {
            contact_cost: 5.0,
            sale_value: 100.0,
        });
        job.baseline = false;
        let mut hp = Hyperparameters::default();
        hp.set("eta", "0.1").unwrap();
        hp.set("num_round", "50").unwrap();
        let mut sent = job.to_hyperparameters();
        sent.extend(hp.to_sagemaker());
        sent.insert(
            TUNING_OBJECTIVE_HYPERPARAMETER.into(),
            "validation:auc".into(),
        );
        let (back, back_hp) = PipelineSettings::from_hyperparameters(&sent).unwrap();
        assert_eq!(back.into_inner(), job);
        assert_eq!(back_hp.into_inner(), hp);
        assert_eq!(sent["drop"], "duration,pdays");
        assert_eq!(sent["split_seed"], "7");
        assert_eq!(sent["baseline"], "false");
        // Defaults are not sent.
        let plain = PipelineSettings::new("y").to_hyperparameters();
        assert_eq!(plain, map(&[("target", "y")]));
    }

    #[test]
    fn bad_hyperparameters_are_named() {
        let err = |pairs: &[(&str, &str)]| {
            PipelineSettings::from_hyperparameters(&map(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[("eta", "0.1")]).contains("`target`"));
        let e = err(&[("target", "y"), ("test_share", "lots")]);
        assert!(
            e.contains("`test_share`") && e.contains("not a number"),
            "{e}"
        );
        let e = err(&[("target", "y"), ("max_dept", "3")]);
        assert!(e.contains("`max_dept`") && e.contains("unknown"), "{e}");
        let e = err(&[("target", "y"), ("contact_cost", "5")]);
        assert!(e.contains("`sale_value`"), "{e}");
        let e = err(&[("target", "y"), ("baseline", "maybe")]);
        assert!(e.contains("`baseline`"), "{e}");
        let e = err(&[("target", "y"), ("validation_share", "1.5")]);
        assert!(e.contains("validation_share"), "{e}");
    }

    #[test]
    fn metric_definitions_read_the_metric_lines() {
        let defs = metric_definitions();
        assert_eq!(defs.len(), METRIC_SPLITS.len() * METRIC_NAMES.len());
        let (name, regex) = defs.iter().find(|(n, _)| n == "validation:auc").unwrap();
        assert_eq!(name, "validation:auc");
        let line = metric_line("validation", "auc", 0.912_345_678_9);
        assert_eq!(line, "#metric validation:auc=0.9123456789");
        // The regex without its capture group is the line's literal prefix.
        let prefix = regex.split('(').next().unwrap().replace("\\s", " ");
        assert!(line.starts_with(&prefix), "{regex} vs {line}");
        // `validation:auc` must not also match `validation:pr_auc`'s line.
        assert!(!metric_line("validation", "pr_auc", 0.5).starts_with(&prefix));
        assert_eq!(
            parse_metric_line(&line),
            Some(("validation:auc".to_string(), 0.912_345_678_9))
        );
        assert_eq!(
            parse_metric_line("training: 1/50 validation-auc 0.78"),
            None
        );
    }

    #[test]
    fn content_types_and_extensions() {
        assert_eq!(
            TableFormat::from_content_type("text/csv; charset=utf-8"),
            Some(TableFormat::Csv)
        );
        assert_eq!(
            TableFormat::from_content_type("application/x-parquet"),
            Some(TableFormat::Parquet)
        );
        assert_eq!(
            TableFormat::from_content_type("application/x-recordio"),
            None
        );
        assert_eq!(
            TableFormat::from_path("s3://b/k/part-0.PARQUET"),
            TableFormat::Parquet
        );
        assert_eq!(TableFormat::from_path("bank.csv"), TableFormat::Csv);
    }
}
