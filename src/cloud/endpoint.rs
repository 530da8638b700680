//! Hosting a trained model on either backend — `deploy`, a [`Predictor`] for it,
//! batch transform, and cleanup that cannot be forgotten.
//!
//! [`Endpoint::deploy`] serves a [`TrainingJob`]'s model: locally, an HTTP server with the
//! SageMaker XGBoost container's contract on 127.0.0.1 ([`crate::serve`]); on SageMaker,
//! CreateModel + CreateEndpointConfig + CreateEndpoint, waited for until InService.
//! [`Endpoint::predictor`] gives a [`Predictor`] with the same serializers and 6 MB chunking
//! on both (InvokeEndpoint on SageMaker).
//!
//! An [`Endpoint`] is a cleanup guard: dropping it — also when a notebook cell fails half-way
//! — deletes the endpoint, its config and its model (or stops the local server), so nothing
//! billable is left behind. [`Endpoint::delete`] does the same explicitly (and is the
//! async-correct way); [`Endpoint::keep_running`] disarms the guard when the endpoint must
//! outlive this program (the deploy notebook hands it to the clean-up notebook by name).
//!
//! ```no_run
//! use purchase_predict::cloud::endpoint::{DeployConfig, Endpoint};
//! # async fn demo(session: &purchase_predict::cloud::session::Session,
//! #               job: &purchase_predict::cloud::estimator::TrainingJob,
//! #               x: &purchase_predict::data::FeatureMatrix) -> purchase_predict::Result<()> {
//! let endpoint = Endpoint::deploy(session, job, &DeployConfig::default(),
//!                                 &mut purchase_predict::util::progress::Silent).await?;
//! let probabilities = endpoint.predictor()?.predict(x)?;
//! endpoint.delete().await?; // or let it drop
//! # Ok(()) }
//! ```

use crate::cloud::backend::{DeployRequest, Guard, Hosted, TransformRequest};
pub use crate::cloud::jobs::{
    DataCapture, DeployConfig, DeployedEndpoint, EndpointNames, TrainingJob,
};
use crate::cloud::sagemaker::names::unique_name;
use crate::cloud::session::{Backend, Session};
use crate::cloud::storage::Location;
use crate::error::{Check, Error, Result};
use crate::serve::Predictor;
use crate::util::progress::Progress;
use crate::util::runtime::off_runtime;

/// A deployed model; deletes itself when dropped unless [`Endpoint::keep_running`] is called.
pub struct Endpoint {
    backend: Backend,
    guard: Guard,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name())
            .field("backend", &self.backend)
            .field("url", &self.url())
            .finish()
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} endpoint {}", self.backend, self.name())?;
        if let Some(url) = self.url() {
            write!(f, " at {url}")?;
        }
        Ok(())
    }
}

impl Endpoint {
    /// Host `job`'s model and wait until it answers.
    pub async fn deploy(
        session: &Session,
        job: &TrainingJob,
        config: &DeployConfig,
        progress: &mut dyn Progress,
    ) -> Result<Endpoint> {
        Endpoint::deploy_model(
            session,
            &job.model_data,
            job.image_uri.as_deref(),
            config,
            progress,
        )
        .await
    }

    /// Host the `model.tar.gz` at `model_data` (a local path for a local session, an S3 URI
    /// for SageMaker) with `image_uri` (default: the XGBoost 1.7-1 image of the region).
    pub async fn deploy_model(
        session: &Session,
        model_data: &Location,
        image_uri: Option<&str>,
        config: &DeployConfig,
        progress: &mut dyn Progress,
    ) -> Result<Endpoint> {
        config.check_ref()?;
        let name = config
            .endpoint_name
            .clone()
            .unwrap_or_else(|| unique_name(&config.base_name, 63));
        let hosted = session
            .platform()
            .deploy(
                session,
                &DeployRequest {
                    model_data,
                    image_uri,
                    config,
                    name: &name,
                },
                progress,
            )
            .await?;
        Ok(Endpoint {
            backend: hosted.backend(),
            guard: Guard::new(&name, hosted),
        })
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        self.guard.name()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The local server's URL (`None` for SageMaker endpoints).
    pub fn url(&self) -> Option<String> {
        self.guard.hosted().and_then(Hosted::url)
    }

    /// A [`Predictor`] for this endpoint (CSV in, CSV out; change with its setters).
    pub fn predictor(&self) -> Result<Predictor> {
        match self.guard.hosted() {
            Some(h) => h.predictor(),
            None => Err(Error::Unsupported(format!(
                "endpoint {} was deleted",
                self.name()
            ))),
        }
    }

    /// Leave the endpoint running after this value is dropped; returns the names to delete
    /// it by later ([`delete_endpoint`]).
    pub fn keep_running(mut self) -> EndpointNames {
        match self.guard.take() {
            Some(h) => h.keep_running(self.name()),
            None => EndpointNames::same(self.name()),
        }
    }

    /// Hand the endpoint to another program (the clean-up notebook) by its names, backend
    /// and URL ([`delete_endpoint`], [`still_running`]). A SageMaker endpoint keeps running
    /// ([`Endpoint::keep_running`]). A local endpoint is stopped here: it lives in this
    /// process, which no other program can stop, and a notebook kernel left alive (as
    /// JupyterLab leaves them) would keep it answering; the other program then checks that
    /// nothing answers at its URL.
    pub fn hand_over(mut self) -> DeployedEndpoint {
        let url = self.url();
        let name = self.name().to_string();
        let names = match self.guard.take() {
            Some(hosted) => hosted.hand_over(&name),
            None => EndpointNames::same(&name),
        };
        DeployedEndpoint {
            backend: self.backend,
            url,
            names,
        }
    }

    /// Delete the endpoint, its config and its model (stop the local server); returns what
    /// was deleted.
    pub async fn delete(mut self) -> Result<Vec<String>> {
        match self.guard.take() {
            None => Ok(Vec::new()),
            Some(h) => {
                let name = self.name().to_string();
                off_runtime(move || h.delete_blocking(&name))
            }
        }
    }
}

/// Delete a SageMaker endpoint, its config and its model by name (what
/// [`Endpoint::keep_running`] returned); resources already gone are skipped. A local
/// endpoint ends with the process that started it: nothing to delete from another one.
pub async fn delete_endpoint(session: &Session, names: &EndpointNames) -> Result<Vec<String>> {
    session.platform().delete_endpoint(names).await
}

/// Score every CSV file under `input` (features only, no header) into `output`, one
/// probability per line in `<file>.out`, as SageMaker batch transform does: locally streamed
/// through the batch scorer, on SageMaker with CreateTransformJob (the model is created, used
/// and deleted).
pub async fn batch_transform(
    session: &Session,
    job: &TrainingJob,
    input: &Location,
    output: &Location,
    instance_type: &str,
    progress: &mut dyn Progress,
) -> Result<Vec<Location>> {
    session
        .platform()
        .batch_transform(
            session,
            &TransformRequest {
                job,
                input,
                output,
                instance_type,
            },
            progress,
        )
        .await
}

/// What is still hosted, for a "nothing is left running" check: on SageMaker the endpoints,
/// endpoint configs and models whose names contain `name_contains`; locally (where an
/// endpoint lives only as long as its process) `local_url` if something still answers there.
pub async fn still_running(
    session: &Session,
    name_contains: &str,
    local_url: Option<&str>,
) -> Result<Vec<String>> {
    session
        .platform()
        .still_running(name_contains, local_url)
        .await
}
