//! Training and tuning jobs on either backend — the SageMaker SDK's `Estimator`
//! and `HyperparameterTuner`, in Rust.
//!
//! With a local [`Session`] a job trains in this process with libxgboost and writes
//! `<output>/<job>/output/model.tar.gz`; with a SageMaker session it is a real
//! CreateTrainingJob (or CreateHyperParameterTuningJob) on the built-in XGBoost 1.7-1 image,
//! waited for with progress. The inputs are the same SageMaker CSV channels (label first,
//! no header) either way.
//!
//! ```no_run
//! use purchase_predict::cloud::estimator::{Channels, Estimator};
//! use purchase_predict::util::progress::Lines;
//! use purchase_predict::cloud::session::Session;
//! use purchase_predict::model::Hyperparameters;
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

use crate::cloud::backend::TrainRequest;
pub use crate::cloud::jobs::{
    Channels, Distribution, Estimator, HyperparameterTuner, PipelineImage, TrainingJob, TunedJob,
    TuningJob,
};
use crate::cloud::sagemaker::names::unique_name;
use crate::cloud::session::Session;
use crate::error::{ensure, Check, Result};
use crate::model::tune::{Decision, Direction};
use crate::util::progress::Progress;

impl Estimator {
    /// Train on `channels` and wait for the model.
    pub async fn fit(
        &self,
        session: &Session,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        self.check_ref()?;
        check_pipeline_channels(self, channels)?;
        check_shards(self, session, channels).await?;
        let name = unique_name(&self.base_job_name, 63);
        let output = self
            .output_path
            .clone()
            .unwrap_or_else(|| session.default_output());
        let request = TrainRequest {
            estimator: self,
            channels,
            name: &name,
            output: &output,
        };
        session.platform().train(session, &request, progress).await
    }
}

/// On several instances (`ShardedByS3Key`, [`Estimator::check`] refuses anything else), each
/// gets whole objects of the training channel: one with fewer objects than instances would
/// leave an instance without data. Refused before a billable job starts.
async fn check_shards(estimator: &Estimator, session: &Session, channels: &Channels) -> Result<()> {
    let n = estimator.instance_count;
    if n <= 1 {
        return Ok(());
    }
    let objects = session.storage().list(&channels.train).await?.len();
    ensure!(objects >= n as usize, setting "train channel",
        "{} holds {objects} object(s); ShardedByS3Key hands each of the {n} instances whole \
         objects, so some would get none: write it as at least {n} (Session::upload_shards)",
        channels.train);
    Ok(())
}

/// Our image reads one channel, the whole customer table, and splits it itself.
fn check_pipeline_channels(estimator: &Estimator, channels: &Channels) -> Result<()> {
    ensure!(estimator.pipeline_image.is_none() || channels.validation.is_none(), setting "validation channel",
        "the purchase-predict image splits the train channel's table itself (PipelineSettings::split): give it the whole table as the train channel and no validation channel");
    Ok(())
}

impl HyperparameterTuner {
    /// Run the search on `channels` (a validation channel is required) and wait for it.
    pub async fn fit(
        &self,
        session: &Session,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TuningJob> {
        self.check_ref()?;
        check_pipeline_channels(&self.estimator, channels)?;
        check_shards(&self.estimator, session, channels).await?;
        // Our image splits a validation share off the table itself.
        ensure!(channels.validation.is_some() || self.estimator.pipeline_image.is_some(), setting "validation channel", "tuning judges trials by {}, which needs a validation channel",
                    self.config.objective.name());
        let name = unique_name(&self.base_tuning_job_name, 32);
        session
            .platform()
            .tune(session, self, channels, &name, progress)
            .await
    }
}

impl TuningJob {
    /// Every training job with its status and objective, best first (SageMaker:
    /// ListTrainingJobsForHyperParameterTuningJob).
    pub async fn training_jobs(&self, session: &Session) -> Result<Vec<TunedJob>> {
        let mut jobs = session.platform().training_jobs(self).await?;
        let maximize = self.direction == Direction::Maximize;
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

    /// The training job to keep, and why: the best trial when it beats the defaults (trial
    /// 0: `estimator`'s own hyperparameters) beyond the noise of the way trials were judged,
    /// else the defaults' job ([`Decision`]), on either backend, with its name,
    /// hyperparameters, objective (in `final_metrics`) and model.
    ///
    /// Locally the search already decided, and the kept trial is trained again,
    /// deterministically, with `estimator`'s other settings on the same `channels` (the
    /// search keeps scores, not models). On SageMaker the built-in image's best trial and the
    /// defaults' job (started beside the tuning job) score the validation channel, and a
    /// paired bootstrap decides; our image's refit judges the best trial against the
    /// defaults in the job.
    pub async fn decide(
        &self,
        session: &Session,
        estimator: &Estimator,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<(TrainingJob, Decision)> {
        let (mut job, decision) = session
            .platform()
            .decide(session, self, estimator, channels, progress)
            .await?;
        if job.preprocessor.is_none() {
            job.preprocessor = estimator.preprocessor.clone();
        }
        Ok((job, decision))
    }

    /// The kept training job ([`TuningJob::decide`] without the decision).
    pub async fn best_training_job(
        &self,
        session: &Session,
        estimator: &Estimator,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        Ok(self.decide(session, estimator, channels, progress).await?.0)
    }
}
