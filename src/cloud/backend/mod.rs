//! The one backend seam: every operation that differs between this machine and SageMaker is a
//! method of the session's `Platform` (defined beside the session, which holds it) or of a
//! [`Hosted`] endpoint, with one `match` each; the SageMaker arms here are where the backend
//! consults the `sagemaker` feature. (Below the seam, `storage` and `session` each have one
//! switch of their own, a module with a stand-in; `cloud::sagemaker` gates its AWS calls.) The facade ([`crate::cloud::estimator`],
//! [`crate::cloud::endpoint`]) validates, names and hands over; [`local`] and [`sagemaker`]
//! do the work.
//!
//! A new backend is a variant here, a module beside these two, and one arm per operation.
//!
//! The contracts both backends keep:
//! - a training job writes `<output>/<job>/output/model.tar.gz`, and its
//!   [`TrainingJob::artifact`](crate::cloud::jobs::TrainingJob) is built by one function from the
//!   booster, the job's preprocessor and its settings, whichever backend trained it;
//! - a tuning job has a trial 0, the estimator's own hyperparameters (the defaults), and
//!   keeps its best trial only when that beats trial 0 beyond the noise of the way trials are
//!   judged ([`crate::model::tune::Decision`]); its kept training job
//!   ([`TuningJob::decide`](crate::cloud::jobs::TuningJob)) has the trial's name
//!   (`<tuning job>-NNN`; the defaults' is `-000`), hyperparameters, objective and model;
//! - a batch transform scores headerless feature CSV files into `<file>.out`, one score per
//!   line (locally streamed through [`crate::serve::batch`]).

mod artifact;
pub(crate) mod local;
#[cfg(feature = "sagemaker")]
pub(crate) mod sagemaker;

use crate::cloud::jobs::{
    Channels, DeployConfig, EndpointNames, Estimator, HyperparameterTuner, TrainingJob, TunedJob,
    TuningJob,
};
use crate::cloud::session::{Backend, Platform, Session};
use crate::cloud::storage::Location;
use crate::error::Result;
use crate::model::tune::Decision;
use crate::serve::Predictor;
use crate::util::progress::Progress;

/// A training job to start: the estimator's settings and where the job reads and writes.
pub(crate) struct TrainRequest<'a> {
    pub estimator: &'a Estimator,
    pub channels: &'a Channels,
    pub name: &'a str,
    pub output: &'a Location,
}

/// A model to host: its archive, the image (SageMaker's; the local endpoint is this crate's
/// server whatever it says), the checked settings and the endpoint's name.
pub(crate) struct DeployRequest<'a> {
    pub model_data: &'a Location,
    // Read by the SageMaker backend only (builds without it have no use for it).
    #[allow(dead_code)]
    pub image_uri: Option<&'a str>,
    pub config: &'a DeployConfig,
    pub name: &'a str,
}

/// A batch transform: the job whose model scores, the CSV files under `input`, the folder
/// or prefix for the `.out` files, and the instance type (SageMaker's).
pub(crate) struct TransformRequest<'a> {
    pub job: &'a TrainingJob,
    pub input: &'a Location,
    pub output: &'a Location,
    // Read by the SageMaker backend only.
    #[allow(dead_code)]
    pub instance_type: &'a str,
}

impl Platform {
    /// Train and wait for the model.
    pub(crate) async fn train(
        &self,
        session: &Session,
        request: &TrainRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<TrainingJob> {
        match self {
            Platform::Local => local::train(session, request, progress).await,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => sagemaker::train(session, sm, request, progress).await,
        }
    }

    /// Search the hyperparameters and wait for the search.
    pub(crate) async fn tune(
        &self,
        session: &Session,
        tuner: &HyperparameterTuner,
        channels: &Channels,
        name: &str,
        progress: &mut dyn Progress,
    ) -> Result<TuningJob> {
        match self {
            Platform::Local => local::tune(session, tuner, channels, name, progress).await,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => {
                sagemaker::tune(session, sm, tuner, channels, name, progress).await
            }
        }
    }

    /// Every training job of a tuning job, in the order the backend lists them.
    pub(crate) async fn training_jobs(&self, job: &TuningJob) -> Result<Vec<TunedJob>> {
        match self {
            Platform::Local => local::training_jobs(job),
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => sagemaker::training_jobs(sm, job).await,
        }
    }

    /// The tuning job's kept training job (the best trial when it beats the defaults beyond
    /// the noise, else the defaults'), and the decision.
    pub(crate) async fn decide(
        &self,
        session: &Session,
        job: &TuningJob,
        estimator: &Estimator,
        channels: &Channels,
        progress: &mut dyn Progress,
    ) -> Result<(TrainingJob, Decision)> {
        match self {
            Platform::Local => local::decide(session, job, estimator, channels, progress).await,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => {
                sagemaker::decide(session, sm, job, estimator, channels, progress).await
            }
        }
    }

    /// Host `model_data` as endpoint `name` and wait until it answers.
    pub(crate) async fn deploy(
        &self,
        session: &Session,
        request: &DeployRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<Hosted> {
        match self {
            Platform::Local => local::deploy(session, request, progress).await,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => sagemaker::deploy(session, sm, request, progress).await,
        }
    }

    /// Delete an endpoint handed over by name (a local endpoint lives and dies with its
    /// process: nothing to delete from another one).
    pub(crate) async fn delete_endpoint(&self, names: &EndpointNames) -> Result<Vec<String>> {
        match self {
            Platform::Local => Ok(local::delete_endpoint(names)),
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => sagemaker::delete_endpoint(sm, names).await,
        }
    }

    /// Score every CSV file under `input` into `output`.
    pub(crate) async fn batch_transform(
        &self,
        session: &Session,
        request: &TransformRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Location>> {
        match self {
            Platform::Local => local::batch_transform(session, request, progress).await,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => {
                sagemaker::batch_transform(session, sm, request, progress).await
            }
        }
    }

    /// What is still hosted (see [`crate::cloud::endpoint::still_running`]).
    pub(crate) async fn still_running(
        &self,
        name_contains: &str,
        local_url: Option<&str>,
    ) -> Result<Vec<String>> {
        match self {
            Platform::Local => Ok(local::still_running(name_contains, local_url)),
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => sagemaker::still_running(sm, name_contains).await,
        }
    }
}

/// A hosted model: what an [`crate::cloud::endpoint::Endpoint`] owns and cleans up.
pub(crate) enum Hosted {
    Local(crate::serve::BackgroundServer),
    #[cfg(feature = "sagemaker")]
    SageMaker(sagemaker::HostedEndpoint),
}

impl Hosted {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Hosted::Local(_) => Backend::Local,
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(_) => Backend::SageMaker,
        }
    }

    /// The local server's URL.
    pub(crate) fn url(&self) -> Option<String> {
        match self {
            Hosted::Local(server) => Some(server.url()),
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(_) => None,
        }
    }

    pub(crate) fn predictor(&self) -> Result<Predictor> {
        match self {
            Hosted::Local(server) => server.predictor(),
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(h) => h.predictor(),
        }
    }

    /// Hand it to another program: a SageMaker endpoint keeps running, and the names to
    /// delete it by are returned; a local one lives in this process, which no other program
    /// can stop, so it is stopped here (stopping cannot fail in a way the caller could act
    /// on).
    pub(crate) fn hand_over(self, name: &str) -> EndpointNames {
        match self {
            Hosted::Local(server) => {
                server.stop();
                EndpointNames::same(name)
            }
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(h) => h.names,
        }
    }

    /// Leave it running; the names to delete it by later.
    pub(crate) fn keep_running(self, name: &str) -> EndpointNames {
        match self {
            Hosted::Local(server) => {
                // A local server lives in this process: keep it for the process's life.
                std::mem::forget(server);
                EndpointNames::same(name)
            }
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(h) => h.names,
        }
    }

    /// Delete it (stop the local server); what was deleted. Blocking: call it off the
    /// runtime's threads ([`crate::util::runtime::off_runtime`]).
    pub(crate) fn delete_blocking(self, name: &str) -> Result<Vec<String>> {
        match self {
            Hosted::Local(server) => {
                server.stop();
                Ok(vec![format!("local endpoint {name}")])
            }
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker(h) => crate::util::runtime::block_on(h.delete()),
        }
    }
}

/// A hosted model that is deleted when this is dropped — also when a notebook cell fails
/// half-way — unless it is taken out first.
pub(crate) struct Guard {
    name: String,
    hosted: Option<Hosted>,
}

impl Guard {
    pub(crate) fn new(name: &str, hosted: Hosted) -> Guard {
        Guard {
            name: name.to_string(),
            hosted: Some(hosted),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// What it guards, while it still does.
    pub(crate) fn hosted(&self) -> Option<&Hosted> {
        self.hosted.as_ref()
    }

    /// Stop guarding: the hosted model, for the caller to keep or delete.
    pub(crate) fn take(&mut self) -> Option<Hosted> {
        self.hosted.take()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(hosted) = self.hosted.take() else {
            return;
        };
        // Blocking clean-up on a thread of its own: safe inside or outside a runtime.
        match crate::util::runtime::off_runtime(|| hosted.delete_blocking(&self.name)) {
            Ok(deleted) if !deleted.is_empty() => {
                eprintln!("clean-up: deleted {}", deleted.join(", "));
            }
            Ok(_) => {}
            Err(e) => eprintln!("clean-up of endpoint {} failed: {e}", self.name),
        }
    }
}
