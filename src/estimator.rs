//! Stage 9d: training and tuning jobs on either backend — the SageMaker SDK's `Estimator`
//! and `HyperparameterTuner`, in Rust.
//!
//! With a local [`Session`] a job trains in this process with libxgboost and writes
//! `<output>/<job>/output/model.tar.gz`; with a SageMaker session it is a real
//! CreateTrainingJob (or CreateHyperParameterTuningJob) on the built-in XGBoost 1.7-1 image,
//! waited for with progress. The inputs are the same SageMaker CSV channels (label first,
//! no header) either way.
//!
//! ```no_run
//! use purchase_predict::estimator::{Channels, Estimator};
//! use purchase_predict::progress::Lines;
//! use purchase_predict::session::Session;
//! use purchase_predict::train::Hyperparameters;
//! # async fn demo() -> purchase_predict::Result<()> {
//! let session = Session::from_env().await?; // local unless PURCHASE_PREDICT_BACKEND=sagemaker
//! let train = session.upload_data("out/train.csv", "data/train").await?;
//! let validation = session.upload_data("out/validation.csv", "data/validation").await?;
//! let estimator = Estimator::new(Hyperparameters::default()).instance_type("ml.m5.xlarge");
//! let job = estimator
//!     .fit(&session, &Channels::new(train).validation(validation), &mut Lines::every(std::time::Duration::from_secs(10)))
//!     .await?;
//! println!("{} → {}", job.name, job.model_data);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::artifact::Artifact;
use crate::error::{Error, Result};
use crate::prep::{FeatureMatrix, Preprocessor};
use crate::progress::Progress;
use crate::sagemaker::names::{check_name, unique_name};
use crate::session::{Backend, Session};
use crate::storage::Location;
use crate::train::Hyperparameters;
use crate::tune::{TunerConfig, TuningResult};

/// How a channel's objects are spread over the instances of a multi-instance job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Distribution {
    /// Every instance reads every object (the default).
    #[default]
    FullyReplicated,
    /// Each instance reads its share of the objects: data-parallel training over several
    /// instances (split the training data into at least as many files).
    ShardedByS3Key,
}

/// The input channels of a job: folders (or S3 prefixes) of SageMaker CSV files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channels {
    pub train: Location,
    pub validation: Option<Location>,
}

impl Channels {
    pub fn new(train: Location) -> Self {
        Channels {
            train,
            validation: None,
        }
    }

    pub fn validation(mut self, validation: Location) -> Self {
        self.validation = Some(validation);
        self
    }
}

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
}

impl Estimator {
    /// `ml.m5.xlarge` × 1, 30 GB volume, 1 hour max runtime, job names `purchase-xgb-...`.
    pub fn new(hyperparameters: Hyperparameters) -> Self {
        Estimator {
            hyperparameters,
            image_uri: None,
            instance_type: "ml.m5.xlarge".into(),
            instance_count: 1,
            volume_size_gb: 30,
            max_runtime: Duration::from_secs(3600),
            output_path: None,
            base_job_name: "purchase-xgb".into(),
            distribution: Distribution::FullyReplicated,
            wait_timeout: None,
            preprocessor: None,
        }
    }

    pub fn image_uri(mut self, uri: impl Into<String>) -> Self {
        self.image_uri = Some(uri.into());
        self
    }

    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = t.into();
        self
    }

    /// Instances (> 1 is multi-instance training; use [`Distribution::ShardedByS3Key`] to
    /// give each its share of the data).
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

    /// Validate the settings and the hyperparameters.
    pub fn check(&self) -> Result<()> {
        self.hyperparameters.check()?;
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
        let probe = unique_name(&self.base_job_name, 63);
        check_name("training job", &probe, 63)
    }

    /// How long [`Estimator::fit`] waits for a SageMaker job: `wait_timeout`, or the max
    /// runtime plus an hour for queueing, start-up and upload.
    pub fn timeout(&self) -> Duration {
        self.wait_timeout
            .unwrap_or(self.max_runtime + Duration::from_secs(3600))
    }

    /// Train on `channels` and wait for the model.
    pub async fn fit(
        &self,
        session: &Session,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        self.check()?;
        let name = unique_name(&self.base_job_name, 63);
        let output = self
            .output_path
            .clone()
            .unwrap_or_else(|| session.default_output());
        match session.backend() {
            Backend::Local => {
                self.fit_local(session, channels, &name, &output, progress)
                    .await
            }
            Backend::SageMaker => {
                self.fit_sagemaker(session, channels, &name, &output, progress)
                    .await
            }
        }
    }

    async fn fit_local(
        &self,
        session: &Session,
        channels: &Channels,
        name: &str,
        output: &Location,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        let started = Instant::now();
        let names = self.preprocessor.as_ref().map(|p| p.feature_names.clone());
        let (x, y) = read_channel(session, &channels.train, names.as_deref()).await?;
        let validation = match &channels.validation {
            Some(v) => Some(read_channel(session, v, Some(&x.names)).await?),
            None => None,
        };
        let model = crate::train::train(
            &x,
            &y,
            validation.as_ref().map(|(vx, vy)| (vx, vy.as_slice())),
            &self.hyperparameters,
            progress,
        )?;
        let mut final_metrics = BTreeMap::new();
        if let Some((vx, vy)) = &validation {
            let p = model.predict(vx)?;
            if let Ok(auc) = crate::metrics::roc_auc(vy, &p) {
                final_metrics.insert("validation:auc".to_string(), auc);
            }
        }
        let preprocessor = self
            .preprocessor
            .clone()
            .unwrap_or_else(|| Preprocessor::identity(&x.names));
        let mut artifact = Artifact {
            manifest: crate::artifact::Manifest::new(
                x.names.clone(),
                "y",
                self.hyperparameters.clone(),
                model.rounds,
                crate::artifact::TrainingData {
                    path: channels.train.to_string(),
                    sha256: String::new(),
                    rows: x.nrows,
                },
            ),
            preprocessor,
            model,
        };
        let model_data = output.join(name).join("output/model.tar.gz");
        let path = model_data.local_path()?.to_path_buf();
        artifact.save(&path)?;
        Ok(TrainingJob {
            name: name.to_string(),
            backend: Backend::Local,
            model_data,
            final_metrics,
            hyperparameters: self.hyperparameters.to_sagemaker(),
            image_uri: None,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    #[cfg(feature = "sagemaker")]
    fn spec(
        &self,
        session: &Session,
        channels: &Channels,
        name: &str,
        output: &Location,
    ) -> Result<crate::sagemaker::training::TrainingJobSpec> {
        let sm = session
            .sagemaker_session()
            .ok_or_else(|| Error::Unsupported("not a SageMaker session".into()))?;
        let s3 = |l: &Location, what: &str| -> Result<String> {
            if l.is_s3() {
                Ok(l.to_string())
            } else {
                Err(Error::InvalidSetting {
                    name: what.into(),
                    reason: format!("SageMaker reads from S3, but {l} is a local path: upload it with Session::upload_data"),
                })
            }
        };
        let mut list = vec![("train".to_string(), s3(&channels.train, "train channel")?)];
        if let Some(v) = &channels.validation {
            list.push(("validation".to_string(), s3(v, "validation channel")?));
        }
        let mut hp = self.hyperparameters.to_sagemaker();
        // The container picks its threads itself; a local nthread must not travel.
        hp.remove("nthread");
        Ok(crate::sagemaker::training::TrainingJobSpec {
            name: name.to_string(),
            image_uri: sm.image_or_xgboost(self.image_uri.as_deref())?,
            role_arn: sm.role_arn.clone(),
            instance_type: self.instance_type.clone(),
            instance_count: self.instance_count,
            volume_size_gb: self.volume_size_gb,
            max_runtime: self.max_runtime,
            output_path: s3(output, "output_path")?,
            hyperparameters: hp,
            channels: list,
            distribution: self.distribution,
            content_type: "text/csv".into(),
        })
    }

    #[cfg(feature = "sagemaker")]
    async fn fit_sagemaker(
        &self,
        session: &Session,
        channels: &Channels,
        name: &str,
        output: &Location,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        let started = Instant::now();
        let spec = self.spec(session, channels, name, output)?;
        let client = &session
            .sagemaker_session()
            .expect("checked by spec")
            .clients
            .sagemaker;
        crate::sagemaker::training::create_training_job(client, &spec).await?;
        let d = crate::sagemaker::training::wait_for_training_job(
            client,
            name,
            session.poll(),
            self.timeout(),
            progress,
        )
        .await?;
        let model_data = match &d.model_artifacts {
            Some(uri) => uri.parse()?,
            None => output.join(name).join("output/model.tar.gz"),
        };
        Ok(TrainingJob {
            name: name.to_string(),
            backend: Backend::SageMaker,
            model_data,
            final_metrics: d.final_metrics,
            hyperparameters: spec.hyperparameters,
            image_uri: Some(spec.image_uri),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    #[cfg(not(feature = "sagemaker"))]
    async fn fit_sagemaker(
        &self,
        _: &Session,
        _: &Channels,
        _: &str,
        _: &Location,
        _: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        Err(crate::session::no_sagemaker())
    }
}

/// Read every CSV file of a channel (downloading it first when in S3) into one matrix.
async fn read_channel(
    session: &Session,
    channel: &Location,
    names: Option<&[String]>,
) -> Result<(FeatureMatrix, Vec<u8>)> {
    let files = session.storage().list(channel).await?;
    if files.is_empty() {
        return Err(Error::Storage {
            location: channel.to_string(),
            message: "the channel holds no files".into(),
        });
    }
    let mut all: Option<(FeatureMatrix, Vec<u8>)> = None;
    for f in files {
        let path = match &f {
            Location::Local(p) => p.clone(),
            Location::S3 { .. } => {
                let dest = session
                    .root()
                    .join("downloads")
                    .join(f.to_string().trim_start_matches("s3://").replace('/', "_"));
                session.storage().download_file(&f, &dest).await?;
                dest
            }
        };
        let (x, y) = FeatureMatrix::read_sagemaker_csv(&path, names)?;
        all = Some(match all {
            None => (x, y),
            Some((mut ax, mut ay)) => {
                if ax.names.len() != x.names.len() {
                    return Err(Error::Shape(format!(
                        "{}: {} features, the channel's other files have {}",
                        path.display(),
                        x.names.len(),
                        ax.names.len()
                    )));
                }
                ax.values.extend_from_slice(&x.values);
                ax.nrows += x.nrows;
                ay.extend_from_slice(&y);
                (ax, ay)
            }
        });
    }
    Ok(all.expect("at least one file"))
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
}

impl TrainingJob {
    /// Fetch the job's `model.tar.gz` and load it as an [`Artifact`] that scores raw
    /// customers: a local job's archive as it is; a SageMaker job's booster wrapped with
    /// `preprocessor` (the one its training CSVs came from).
    pub async fn artifact(
        &self,
        session: &Session,
        preprocessor: Option<Preprocessor>,
    ) -> Result<Artifact> {
        // The manifest records the job's hyperparameters (SageMaker's text values).
        let mut hyperparameters = Hyperparameters::default();
        for (k, v) in &self.hyperparameters {
            // Names this crate does not know (set by hand on SageMaker) are skipped.
            let _ = hyperparameters.set(k, v);
        }
        match &self.model_data {
            Location::Local(p) if self.backend == Backend::Local => Artifact::load(p),
            other => {
                let local = session
                    .root()
                    .join("models")
                    .join(&self.name)
                    .join("model.tar.gz");
                session.storage().download_file(other, &local).await?;
                // A SageMaker model has no feature names; read the count from the booster.
                let preprocessor = match preprocessor {
                    Some(p) => p,
                    None => {
                        let bytes = crate::artifact::read_sagemaker_model(&local)?;
                        let n = crate::xgboost::Booster::from_bytes(&bytes)?.num_features()?;
                        Preprocessor::identity(&(0..n).map(|j| format!("f{j}")).collect::<Vec<_>>())
                    }
                };
                Artifact::from_sagemaker_model(
                    &local,
                    &other.to_string(),
                    preprocessor,
                    "y",
                    hyperparameters,
                )
            }
        }
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

    /// Validate the estimator and the tuner settings.
    pub fn check(&self) -> Result<()> {
        self.estimator.check()?;
        self.config.check()?;
        check_name(
            "tuning job",
            &unique_name(&self.base_tuning_job_name, 32),
            32,
        )
    }

    /// Run the search on `channels` (a validation channel is required) and wait for it.
    pub async fn fit(
        &self,
        session: &Session,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TuningJob> {
        self.check()?;
        let validation = channels
            .validation
            .as_ref()
            .ok_or_else(|| Error::InvalidSetting {
                name: "validation channel".into(),
                reason: format!(
                    "tuning judges trials by {}, which needs a validation channel",
                    self.config.objective.name()
                ),
            })?;
        let name = unique_name(&self.base_tuning_job_name, 32);
        match session.backend() {
            Backend::Local => {
                let names = self
                    .estimator
                    .preprocessor
                    .as_ref()
                    .map(|p| p.feature_names.clone());
                let (x, y) = read_channel(session, &channels.train, names.as_deref()).await?;
                let (vx, vy) = read_channel(session, validation, Some(&x.names)).await?;
                let mut config = self.config.clone();
                config.base = self.estimator.hyperparameters.clone();
                let result = crate::tune::tune((&x, &y), Some((&vx, &vy)), &config, progress)?;
                Ok(TuningJob::from_local(name, result))
            }
            Backend::SageMaker => self.fit_sagemaker(session, channels, &name, progress).await,
        }
    }

    #[cfg(feature = "sagemaker")]
    async fn fit_sagemaker(
        &self,
        session: &Session,
        channels: &Channels,
        name: &str,
        progress: &mut dyn Progress,
    ) -> Result<TuningJob> {
        let output = self
            .estimator
            .output_path
            .clone()
            .unwrap_or_else(|| session.default_output());
        let training = self.estimator.spec(session, channels, name, &output)?;
        let spec = crate::sagemaker::tuning::TuningJobSpec {
            name: name.to_string(),
            training,
            ranges: self.config.ranges.clone(),
            objective_metric: self.config.objective.name().to_string(),
            direction: self.config.direction,
            strategy: self.config.strategy,
            max_jobs: self.config.max_jobs as i32,
            max_parallel_jobs: self.config.max_parallel_jobs as i32,
            early_stopping: self.config.early_stopping_type,
        };
        let client = &session
            .sagemaker_session()
            .expect("checked by spec")
            .clients
            .sagemaker;
        crate::sagemaker::tuning::create_tuning_job(client, &spec).await?;
        let timeout = self.estimator.timeout() * (self.config.max_jobs as u32).max(1);
        let d = crate::sagemaker::tuning::wait_for_tuning_job(
            client,
            name,
            session.poll(),
            timeout,
            progress,
        )
        .await?;
        let best = d
            .best_training_job
            .clone()
            .ok_or_else(|| Error::JobFailed {
                kind: "tuning job".into(),
                name: name.to_string(),
                status: d.status.clone(),
                reason: "completed without a best training job".into(),
            })?;
        Ok(TuningJob {
            name: name.to_string(),
            backend: Backend::SageMaker,
            best_training_job: best.name.clone(),
            best_objective: best.objective,
            best_hyperparameters: best.tuned_hyperparameters.clone(),
            objective: self.config.objective.name().to_string(),
            direction: self.config.direction,
            output: Some(output),
            local: None,
        })
    }

    #[cfg(not(feature = "sagemaker"))]
    async fn fit_sagemaker(
        &self,
        _: &Session,
        _: &Channels,
        _: &str,
        _: &mut dyn Progress,
    ) -> Result<TuningJob> {
        Err(crate::session::no_sagemaker())
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
    /// The objective metric's name.
    pub objective: String,
    /// Whether a higher objective was better (the tuner's setting).
    pub direction: crate::tune::Direction,
    /// Where SageMaker wrote the training jobs' models.
    pub output: Option<Location>,
    /// The local search's full result.
    #[serde(skip)]
    pub local: Option<TuningResult>,
}

impl TuningJob {
    fn from_local(name: String, result: TuningResult) -> Self {
        let best = result.best_training_job();
        TuningJob {
            best_training_job: format!("{name}-{:03}", best.number),
            best_objective: best.objective,
            best_hyperparameters: best.hyperparameters.clone(),
            objective: result.config.objective.name().to_string(),
            direction: result.config.direction,
            backend: Backend::Local,
            output: None,
            name,
            local: Some(result),
        }
    }

    /// Every training job with its status and objective, best first (SageMaker:
    /// ListTrainingJobsForHyperParameterTuningJob).
    pub async fn training_jobs(&self, session: &Session) -> Result<Vec<TunedJob>> {
        let mut jobs = match (&self.local, session.backend()) {
            (Some(r), _) => r
                .trials
                .iter()
                .map(|t| TunedJob {
                    name: format!("{}-{:03}", self.name, t.number),
                    status: match &t.status {
                        crate::tune::TrialStatus::Completed => "Completed".into(),
                        crate::tune::TrialStatus::Stopped { .. } => "Stopped".into(),
                        crate::tune::TrialStatus::Failed { .. } => "Failed".into(),
                    },
                    objective: t.objective,
                    hyperparameters: t.hyperparameters.clone(),
                })
                .collect::<Vec<_>>(),
            (None, Backend::SageMaker) => self.sagemaker_jobs(session).await?,
            (None, Backend::Local) => {
                return Err(Error::Unsupported(
                    "this tuning job ran on SageMaker; list it with a SageMaker session".into(),
                ))
            }
        };
        let maximize = self.direction == crate::tune::Direction::Maximize;
        jobs.sort_by(|a, b| {
            let key = |j: &TunedJob| {
                j.objective
                    .map(|v| if maximize { -v } else { v })
                    .unwrap_or(f64::INFINITY)
            };
            key(a).total_cmp(&key(b))
        });
        Ok(jobs)
    }

    #[cfg(feature = "sagemaker")]
    async fn sagemaker_jobs(&self, session: &Session) -> Result<Vec<TunedJob>> {
        let client = &session
            .sagemaker_session()
            .expect("SageMaker session")
            .clients
            .sagemaker;
        Ok(
            crate::sagemaker::tuning::list_tuning_training_jobs(client, &self.name)
                .await?
                .into_iter()
                .map(|j| TunedJob {
                    name: j.name,
                    status: j.status,
                    objective: j.objective,
                    hyperparameters: j.tuned_hyperparameters,
                })
                .collect(),
        )
    }

    #[cfg(not(feature = "sagemaker"))]
    async fn sagemaker_jobs(&self, _: &Session) -> Result<Vec<TunedJob>> {
        Err(crate::session::no_sagemaker())
    }

    /// The best job as a [`TrainingJob`] (SageMaker: DescribeTrainingJob for its model).
    /// Locally, the best trial is refitted on the same channels with `estimator`'s settings
    /// and the best hyperparameters.
    pub async fn best_training_job(
        &self,
        session: &Session,
        estimator: &Estimator,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        if let Some(result) = &self.local {
            let mut e = estimator.clone();
            e.hyperparameters = result.best_hyperparameters()?;
            e.hyperparameters.nthread = estimator.hyperparameters.nthread;
            return e.fit(session, channels, progress).await;
        }
        self.best_sagemaker(session).await
    }

    #[cfg(feature = "sagemaker")]
    async fn best_sagemaker(&self, session: &Session) -> Result<TrainingJob> {
        let client = &session
            .sagemaker_session()
            .ok_or_else(|| Error::Unsupported("needs a SageMaker session".into()))?
            .clients
            .sagemaker;
        let d = crate::sagemaker::training::describe_training_job(client, &self.best_training_job)
            .await?;
        let model_data = match &d.model_artifacts {
            Some(uri) => uri.parse()?,
            None => {
                return Err(Error::JobFailed {
                    kind: "training job".into(),
                    name: d.name.clone(),
                    status: d.status.clone(),
                    reason: "no model artifacts".into(),
                })
            }
        };
        Ok(TrainingJob {
            name: d.name,
            backend: Backend::SageMaker,
            model_data,
            final_metrics: d.final_metrics,
            hyperparameters: d.hyperparameters,
            image_uri: None,
            seconds: 0.0,
        })
    }

    #[cfg(not(feature = "sagemaker"))]
    async fn best_sagemaker(&self, _: &Session) -> Result<TrainingJob> {
        Err(crate::session::no_sagemaker())
    }
}
