//! Jobs and endpoints as values: their settings (validated here, once), and what a finished
//! job is. Both backends (`cloud::backend`) take and return these; the facade
//! ([`crate::cloud::estimator`], [`crate::cloud::endpoint`]) runs them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cloud::sagemaker::names::{check_name, unique_name};
pub use crate::cloud::sagemaker::Distribution;
use crate::cloud::session::Backend;
use crate::cloud::storage::Location;
use crate::error::{ensure, Check, Error, Result};
use crate::evaluate::settings::PipelineSettings;
use crate::model::artifact::{Artifact, TrainingData};
use crate::model::tune::{Direction, TunerConfig, TuningResult};
use crate::model::{Hyperparameters, Model};
use crate::prep::Preprocessor;

/// The input channels of a job: folders (or S3 prefixes) of SageMaker CSV files. The
/// training channel's S3 distribution is the estimator's ([`Estimator::distribution`]); the
/// validation channel's is its own, `FullyReplicated` unless set: every instance scores the
/// whole validation set, as the SageMaker SDK sets it per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channels {
    pub train: Location,
    pub validation: Option<Location>,
    #[serde(default)]
    pub validation_distribution: Distribution,
}

impl Channels {
    pub fn new(train: Location) -> Self {
        Channels {
            train,
            validation: None,
            validation_distribution: Distribution::FullyReplicated,
        }
    }

    pub fn validation(mut self, validation: Location) -> Self {
        self.validation = Some(validation);
        self
    }

    /// The validation channel's S3 distribution (default `FullyReplicated`).
    pub fn validation_distribution(mut self, d: Distribution) -> Self {
        self.validation_distribution = d;
        self
    }
}

/// Our own image in place of SageMaker's built-in XGBoost ([`Estimator::pipeline_image`]):
/// `purchase-predict` as the entry point (see the `Dockerfile`), training on the raw customer
/// table (the whole `run` pipeline inside the job, its settings sent as hyperparameters
/// beside XGBoost's) and serving raw customers (JSON) as well as the built-in container's
/// formats. Its contract: [`crate::cloud::sagemaker::container`].
///
/// ```
/// use purchase_predict::cloud::estimator::{Estimator, PipelineImage};
/// use purchase_predict::evaluate::settings::PipelineSettings;
/// use purchase_predict::model::Hyperparameters;
/// let mut job = PipelineSettings::new("y");
/// job.load.drop = vec!["duration".into()];
/// let estimator = Estimator::new(Hyperparameters::default()).pipeline_image(PipelineImage::new(
///     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/purchase-predict:0.1.0",
///     job,
/// ));
/// # let _ = estimator;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineImage {
    /// The image in ECR (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`).
    pub image_uri: String,
    /// What the job does besides training XGBoost: target, id, drops, split, threshold.
    pub job: PipelineSettings,
}

impl PipelineImage {
    pub fn new(image_uri: impl Into<String>, job: PipelineSettings) -> Self {
        PipelineImage {
            image_uri: image_uri.into(),
            job,
        }
    }
}

/// `StoppingCondition.MaxRuntimeInSeconds` when none is set: 86,400 s (one day), the
/// default of the CreateTrainingJob API and of the SageMaker Python SDK.
pub const DEFAULT_MAX_RUNTIME: Duration = Duration::from_secs(86_400);

/// A training job's settings: the SageMaker SDK's `Estimator` for the built-in XGBoost
/// algorithm. Build with [`Estimator::new`] and the setters; [`Estimator::check`] validates
/// (also called by [`Estimator::fit`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimator {
    pub hyperparameters: Hyperparameters,
    /// `None`: the XGBoost 1.7-1 image of the session's region.
    pub image_uri: Option<String>,
    pub instance_type: String,
    pub instance_count: i32,
    pub volume_size_gb: i32,
    pub max_runtime: Duration,
    /// `None`: the session's default output (`<base>/output`).
    pub output_path: Option<Location>,
    pub base_job_name: String,
    pub distribution: Distribution,
    /// Give up waiting after this long (default: max runtime + 1 hour).
    pub wait_timeout: Option<Duration>,
    /// The preprocessor the channels' features came from; stored with locally trained
    /// models so that their endpoint also scores raw customers (JSON).
    #[serde(skip)]
    pub preprocessor: Option<Preprocessor>,
    /// `None`: SageMaker's built-in XGBoost on preprocessed CSV channels (the tutorial's,
    /// the default). `Some`: our image on the raw customer table ([`PipelineImage`]).
    #[serde(default)]
    pub pipeline_image: Option<PipelineImage>,
}

impl Estimator {
    /// `ml.m5.xlarge` × 1, 30 GB volume, job names `purchase-xgb-...`, and the API's (and
    /// the SageMaker SDK's) default max runtime, [`DEFAULT_MAX_RUNTIME`]: a job is not stopped
    /// after an hour unless asked.
    pub fn new(hyperparameters: Hyperparameters) -> Self {
        Estimator {
            hyperparameters,
            image_uri: None,
            instance_type: "ml.m5.xlarge".into(),
            instance_count: 1,
            volume_size_gb: 30,
            max_runtime: DEFAULT_MAX_RUNTIME,
            output_path: None,
            base_job_name: "purchase-xgb".into(),
            distribution: Distribution::FullyReplicated,
            wait_timeout: None,
            preprocessor: None,
            pipeline_image: None,
        }
    }

    /// Train with our image instead of the built-in XGBoost: the train channel is then the
    /// raw customer table (one CSV or Parquet file), the job fits the preprocessor itself
    /// and splits the table (so there is no validation channel), and its model scores raw
    /// customers wherever it is deployed. On several instances (`instance_count`, with
    /// `ShardedByS3Key` input), the hosts train one model together
    /// ([`crate::app::sagemaker_job::train_on_hosts`]). Locally, the job runs the
    /// `purchase-predict` binary (`PURCHASE_PREDICT_BIN`, or the one on `PATH`) on the
    /// container layout, as SageMaker runs the image: one process per instance.
    pub fn pipeline_image(mut self, image: PipelineImage) -> Self {
        self.pipeline_image = Some(image);
        self
    }

    pub fn image_uri(mut self, uri: impl Into<String>) -> Self {
        self.image_uri = Some(uri.into());
        self
    }

    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = t.into();
        self
    }

    /// Instances (> 1 is multi-instance training, which needs
    /// [`Distribution::ShardedByS3Key`] and a channel of at least this many objects:
    /// `Session::upload_shards`).
    pub fn instance_count(mut self, n: i32) -> Self {
        self.instance_count = n;
        self
    }

    pub fn volume_size_gb(mut self, gb: i32) -> Self {
        self.volume_size_gb = gb;
        self
    }

    pub fn max_runtime(mut self, d: Duration) -> Self {
        self.max_runtime = d;
        self
    }

    pub fn output_path(mut self, l: Location) -> Self {
        self.output_path = Some(l);
        self
    }

    pub fn base_job_name(mut self, name: impl Into<String>) -> Self {
        self.base_job_name = name.into();
        self
    }

    /// The training channel's S3 distribution (default `FullyReplicated`;
    /// `ShardedByS3Key` gives each of several instances its share of the files). The
    /// validation channel has its own ([`Channels::validation_distribution`]).
    pub fn distribution(mut self, d: Distribution) -> Self {
        self.distribution = d;
        self
    }

    pub fn wait_timeout(mut self, d: Duration) -> Self {
        self.wait_timeout = Some(d);
        self
    }

    pub fn preprocessor(mut self, p: Preprocessor) -> Self {
        self.preprocessor = Some(p);
        self
    }

    /// The hyperparameters a job is sent: XGBoost's under SageMaker's names (`nthread` left
    /// out: a job uses its instance's cores), and with our image the pipeline's settings
    /// beside them ([`PipelineSettings::to_hyperparameters`]).
    pub fn job_hyperparameters(&self) -> BTreeMap<String, String> {
        let mut hp = self.hyperparameters.to_sagemaker();
        hp.remove("nthread");
        if let Some(image) = &self.pipeline_image {
            hp.extend(image.job.to_hyperparameters());
        }
        hp
    }

    /// How long [`Estimator::fit`] waits for a SageMaker job: `wait_timeout`, or the max
    /// runtime plus an hour for queueing, start-up and upload.
    pub fn timeout(&self) -> Duration {
        self.wait_timeout
            .unwrap_or(self.max_runtime + Duration::from_secs(3600))
    }
}

impl Check for Estimator {
    /// Validate the settings and the hyperparameters.
    fn check_ref(&self) -> Result<()> {
        self.hyperparameters.check_ref()?;
        let bad = |name: &str, reason: String| {
            Err(Error::InvalidSetting {
                name: name.into(),
                reason,
            })
        };
        if !(1..=100).contains(&self.instance_count) {
            return bad(
                "instance_count",
                format!("{} is outside 1..=100", self.instance_count),
            );
        }
        if !(1..=16384).contains(&self.volume_size_gb) {
            return bad(
                "volume_size_gb",
                format!("{} is outside 1..=16384", self.volume_size_gb),
            );
        }
        if !self.instance_type.starts_with("ml.") {
            return bad(
                "instance_type",
                format!(
                    "`{}` is not a SageMaker instance type (ml.m5.xlarge, ...)",
                    self.instance_type
                ),
            );
        }
        if self.max_runtime.is_zero() || self.max_runtime > Duration::from_secs(28 * 24 * 3600) {
            return bad("max_runtime", "must be between 1 s and 28 days".into());
        }
        if self.distribution == Distribution::ShardedByS3Key && self.instance_count == 1 {
            return bad(
                "distribution",
                "ShardedByS3Key only makes sense with instance_count > 1".into(),
            );
        }
        if self.distribution == Distribution::FullyReplicated && self.instance_count > 1 {
            return bad(
                "distribution",
                format!(
                    "FullyReplicated hands each of the {} instances the whole training channel, \
                     so each trains on all of it and more instances do not train faster: use \
                     Distribution::ShardedByS3Key, with the table written as at least {} objects \
                     (Session::upload_shards)",
                    self.instance_count, self.instance_count
                ),
            );
        }
        if let Some(p) = &self.pipeline_image {
            if self.image_uri.is_some() {
                return bad(
                    "image_uri",
                    "set either image_uri (the built-in XGBoost's image) or pipeline_image, not both"
                        .into(),
                );
            }
            if p.image_uri.trim().is_empty() {
                return bad("pipeline_image", "the image URI is empty".into());
            }
            p.job.check_ref()?;
        }
        let probe = unique_name(&self.base_job_name, 63);
        check_name("training job", &probe, 63)
    }
}

/// A finished training job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingJob {
    pub name: String,
    pub backend: Backend,
    /// The `model.tar.gz` (local path or S3 URI).
    pub model_data: Location,
    /// Final metrics (`validation:auc`, ...).
    pub final_metrics: BTreeMap<String, f64>,
    /// The hyperparameters as sent (SageMaker's names, text values).
    pub hyperparameters: BTreeMap<String, String>,
    /// The training image (SageMaker jobs).
    pub image_uri: Option<String>,
    /// Wall time from submission to completion.
    pub seconds: f64,
    /// The train channel the job read.
    #[serde(default)]
    pub train_channel: Option<Location>,
    /// The preprocessor its channels' features came from (the estimator's), so that its
    /// artifact scores raw customers on either backend.
    #[serde(default)]
    pub preprocessor: Option<Preprocessor>,
    /// Trained by our image ([`PipelineImage`]): its `model.tar.gz` is a whole artifact,
    /// preprocessor and manifest included.
    #[serde(default)]
    pub pipeline_image: bool,
}

impl TrainingJob {
    /// The one artifact of a training job, whichever backend trained `model`: the
    /// preprocessor given, else the job's (the estimator's), else a pass-through of the
    /// model's features; target `y` (the channels' first column); the job's hyperparameters;
    /// the train channel as training data (`rows`: 0 when the backend does not report it).
    pub(crate) fn assemble(
        &self,
        model: Model,
        preprocessor: Option<Preprocessor>,
        rows: usize,
    ) -> Artifact {
        let preprocessor = preprocessor
            .or_else(|| self.preprocessor.clone())
            .unwrap_or_else(|| Preprocessor::identity(&model.feature_names));
        let mut hyperparameters = Hyperparameters::default();
        for (k, v) in &self.hyperparameters {
            // Names this crate does not know (set by hand on SageMaker) are skipped.
            let _ = hyperparameters.set(k, v);
        }
        let training_data = TrainingData {
            path: self
                .train_channel
                .as_ref()
                .unwrap_or(&self.model_data)
                .to_string(),
            sha256: String::new(),
            rows,
        };
        Artifact::new(model, preprocessor, "y", hyperparameters, training_data)
    }
}

/// A tuning job's settings: the SageMaker SDK's `HyperparameterTuner` around an
/// [`Estimator`], with the ranges, objective and limits of a [`TunerConfig`].
#[derive(Debug, Clone)]
pub struct HyperparameterTuner {
    pub estimator: Estimator,
    pub config: TunerConfig,
    pub base_tuning_job_name: String,
}

impl HyperparameterTuner {
    pub fn new(estimator: Estimator, config: TunerConfig) -> Self {
        HyperparameterTuner {
            estimator,
            config,
            base_tuning_job_name: "purchase-tune".into(),
        }
    }

    pub fn base_tuning_job_name(mut self, name: impl Into<String>) -> Self {
        self.base_tuning_job_name = name.into();
        self
    }
}

impl Check for HyperparameterTuner {
    /// Validate the estimator and the tuner settings.
    fn check_ref(&self) -> Result<()> {
        self.estimator.check_ref()?;
        self.config.check_ref()?;
        check_name(
            "tuning job",
            &unique_name(&self.base_tuning_job_name, 32),
            32,
        )
    }
}

/// One training job of a tuning job, for the table of all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedJob {
    pub name: String,
    pub status: String,
    pub objective: Option<f64>,
    pub hyperparameters: BTreeMap<String, String>,
}

/// A finished tuning job.
#[derive(Debug, Clone, Serialize)]
pub struct TuningJob {
    pub name: String,
    pub backend: Backend,
    /// The best training job's name (`<tuning job>-NNN` locally).
    pub best_training_job: String,
    pub best_objective: Option<f64>,
    /// The best job's tuned hyperparameters.
    pub best_hyperparameters: BTreeMap<String, String>,
    /// The defaults against the search's best trial: which one `best_training_job` is, and
    /// why (locally, always; on SageMaker, once the best trial has been judged against the
    /// defaults' training job).
    pub decision: Option<crate::model::tune::Decision>,
    /// On SageMaker with the built-in image: trial 0, the training job of the estimator's
    /// own hyperparameters, started beside the tuning job (`<tuning job>-000`).
    pub defaults_training_job: Option<String>,
    /// The objective metric's name.
    pub objective: String,
    /// Whether a higher objective was better (the tuner's setting).
    pub direction: Direction,
    /// Where SageMaker wrote the training jobs' models.
    pub output: Option<Location>,
    /// The local search's full result.
    #[serde(skip)]
    pub local: Option<TuningResult>,
}

/// How to host a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployConfig {
    pub initial_instance_count: i32,
    pub instance_type: String,
    /// `None`: `<base name>-<timestamp>`.
    pub endpoint_name: Option<String>,
    pub base_name: String,
    /// Give up waiting for InService after this long (default 30 minutes).
    pub wait_timeout: Duration,
    /// Local port (0 picks a free one).
    pub local_port: u16,
    /// Capture the endpoint's traffic (default: off). Locally the endpoint writes the
    /// captures itself; on SageMaker this is the endpoint config's `DataCaptureConfig`.
    #[serde(default)]
    pub data_capture: Option<DataCapture>,
}

/// An endpoint's data capture, SageMaker's `DataCaptureConfig`: each request and its answer
/// as a JSON line under `<destination>/<endpoint>/AllTraffic/yyyy/mm/dd/hh/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataCapture {
    /// Where captures go: a folder (local endpoints) or `s3://bucket/prefix`.
    pub destination: Location,
    /// The percentage of requests captured, 0 to 100 (default 100).
    pub sampling_percentage: u8,
}

impl DataCapture {
    /// Capture every request into `destination`.
    pub fn new(destination: impl Into<Location>) -> DataCapture {
        DataCapture {
            destination: destination.into(),
            sampling_percentage: 100,
        }
    }

    /// The same capture, of `percentage` of the requests.
    pub fn sampling(mut self, percentage: u8) -> DataCapture {
        self.sampling_percentage = percentage;
        self
    }
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            initial_instance_count: 1,
            instance_type: "ml.m5.large".into(),
            endpoint_name: None,
            base_name: "purchase-xgb".into(),
            wait_timeout: Duration::from_secs(1800),
            local_port: 0,
            data_capture: None,
        }
    }
}

impl DeployConfig {
    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = t.into();
        self
    }

    pub fn initial_instance_count(mut self, n: i32) -> Self {
        self.initial_instance_count = n;
        self
    }

    pub fn endpoint_name(mut self, name: impl Into<String>) -> Self {
        self.endpoint_name = Some(name.into());
        self
    }

    /// Capture the endpoint's traffic as `capture` says.
    pub fn data_capture(mut self, capture: DataCapture) -> Self {
        self.data_capture = Some(capture);
        self
    }
}

impl Check for DeployConfig {
    /// Validate: 1-100 instances, an `ml.` instance type, a valid endpoint name.
    fn check_ref(&self) -> Result<()> {
        ensure!((1..=100).contains(&self.initial_instance_count), setting "initial_instance_count", "{} is outside 1..=100", self.initial_instance_count);
        ensure!(self.instance_type.starts_with("ml."), setting "instance_type", "`{}` is not a SageMaker instance type", self.instance_type);
        if let Some(n) = &self.endpoint_name {
            crate::cloud::sagemaker::names::check_name("endpoint", n, 63)?;
        }
        if let Some(c) = &self.data_capture {
            ensure!(c.sampling_percentage <= 100, setting "data_capture sampling_percentage", "{} is outside 0 to 100", c.sampling_percentage);
        }
        Ok(())
    }
}

/// The names of a SageMaker endpoint's three resources (for clean-up from elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointNames {
    pub endpoint: String,
    pub endpoint_config: String,
    pub model: String,
}

impl EndpointNames {
    /// An endpoint, its config and its model all named `name` (as this crate names them).
    pub fn same(name: &str) -> EndpointNames {
        EndpointNames {
            endpoint: name.to_string(),
            endpoint_config: name.to_string(),
            model: name.to_string(),
        }
    }
}

/// A deployed endpoint handed from one program (or notebook) to another: what
/// [`crate::cloud::endpoint::Endpoint::hand_over`] returns, serializable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedEndpoint {
    pub backend: Backend,
    pub names: EndpointNames,
    /// The local server's URL (local endpoints only).
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_as_long_as_the_api_allows_by_default() {
        let e = Estimator::new(Hyperparameters::default());
        assert_eq!(e.max_runtime, Duration::from_secs(86_400));
        assert_eq!(e.timeout(), Duration::from_secs(86_400 + 3600));
        assert!(e.check_ref().is_ok());
    }
}
