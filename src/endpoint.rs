//! Stage 9e: hosting a trained model on either backend — `deploy`, a [`Predictor`] for it,
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
//! use purchase_predict::endpoint::{DeployConfig, Endpoint};
//! # async fn demo(session: &purchase_predict::session::Session,
//! #               job: &purchase_predict::estimator::TrainingJob,
//! #               x: &purchase_predict::prep::FeatureMatrix) -> purchase_predict::Result<()> {
//! let endpoint = Endpoint::deploy(session, job, &DeployConfig::default(),
//!                                 &mut purchase_predict::progress::Silent).await?;
//! let probabilities = endpoint.predictor()?.predict(x)?;
//! endpoint.delete().await?; // or let it drop
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::estimator::TrainingJob;
use crate::predictor::Predictor;
use crate::progress::Progress;
use crate::sagemaker::names::unique_name;
use crate::serve::{BackgroundServer, ServerConfig};
use crate::session::{Backend, Session};
use crate::storage::Location;

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

    /// Validate: 1-100 instances, an `ml.` instance type, a valid endpoint name.
    pub fn check(&self) -> Result<()> {
        if !(1..=100).contains(&self.initial_instance_count) {
            return Err(Error::InvalidSetting {
                name: "initial_instance_count".into(),
                reason: format!("{} is outside 1..=100", self.initial_instance_count),
            });
        }
        if !self.instance_type.starts_with("ml.") {
            return Err(Error::InvalidSetting {
                name: "instance_type".into(),
                reason: format!("`{}` is not a SageMaker instance type", self.instance_type),
            });
        }
        if let Some(n) = &self.endpoint_name {
            crate::sagemaker::names::check_name("endpoint", n, 63)?;
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

enum Hosted {
    Local(BackgroundServer),
    #[cfg(feature = "sagemaker")]
    SageMaker {
        client: aws_sdk_sagemaker::Client,
        runtime: aws_sdk_sagemakerruntime::Client,
        names: EndpointNames,
    },
}

/// A deployed model; deletes itself when dropped unless [`Endpoint::keep_running`] is called.
pub struct Endpoint {
    name: String,
    backend: Backend,
    hosted: Option<Hosted>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("url", &self.url())
            .finish()
    }
}

/// Run `f` on a fresh thread (no tokio context), for blocking code called from async code.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("worker thread panicked"))
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
        config.check()?;
        let name = config
            .endpoint_name
            .clone()
            .unwrap_or_else(|| unique_name(&config.base_name, 63));
        match session.backend() {
            Backend::Local => {
                let path = match model_data {
                    Location::Local(p) => p.clone(),
                    other => {
                        let dest = session
                            .root()
                            .join("models")
                            .join(&name)
                            .join("model.tar.gz");
                        session.storage().download_file(other, &dest).await?;
                        dest
                    }
                };
                progress.start(&format!("local endpoint {name}"), 0);
                let server_config = ServerConfig::default().port(config.local_port);
                let server = off_runtime(|| BackgroundServer::start(&path, &server_config))?;
                progress.finish(&format!("local endpoint {name} at {}", server.url()));
                Ok(Endpoint {
                    name,
                    backend: Backend::Local,
                    hosted: Some(Hosted::Local(server)),
                })
            }
            Backend::SageMaker => {
                Endpoint::deploy_sagemaker(session, model_data, image_uri, config, name, progress)
                    .await
            }
        }
    }

    #[cfg(feature = "sagemaker")]
    async fn deploy_sagemaker(
        session: &Session,
        model_data: &Location,
        image_uri: Option<&str>,
        config: &DeployConfig,
        name: String,
        progress: &mut dyn Progress,
    ) -> Result<Endpoint> {
        use crate::sagemaker::hosting;
        let sm = session.sagemaker_session().expect("SageMaker session");
        if !model_data.is_s3() {
            return Err(Error::InvalidSetting {
                name: "model_data".into(),
                reason: format!(
                    "SageMaker hosts models from S3; {model_data} is local (upload it first)"
                ),
            });
        }
        let image = sm.image_or_xgboost(image_uri)?;
        let client = sm.clients.sagemaker.clone();
        let names = EndpointNames {
            endpoint: name.clone(),
            endpoint_config: name.clone(),
            model: name.clone(),
        };
        // The guard exists from the first create on: whatever fails after it is deleted.
        let endpoint = Endpoint {
            name: name.clone(),
            backend: Backend::SageMaker,
            hosted: Some(Hosted::SageMaker {
                client: client.clone(),
                runtime: sm.clients.runtime.clone(),
                names: names.clone(),
            }),
        };
        hosting::create_model(
            &client,
            &names.model,
            &image,
            &model_data.to_string(),
            &sm.role_arn,
        )
        .await?;
        hosting::create_endpoint_config(
            &client,
            &names.endpoint_config,
            &names.model,
            config.initial_instance_count,
            &config.instance_type,
        )
        .await?;
        hosting::create_endpoint(&client, &names.endpoint, &names.endpoint_config).await?;
        hosting::wait_for_endpoint(
            &client,
            &names.endpoint,
            session.poll(),
            config.wait_timeout,
            progress,
        )
        .await?;
        Ok(endpoint)
    }

    #[cfg(not(feature = "sagemaker"))]
    async fn deploy_sagemaker(
        _: &Session,
        _: &Location,
        _: Option<&str>,
        _: &DeployConfig,
        _: String,
        _: &mut dyn Progress,
    ) -> Result<Endpoint> {
        Err(crate::session::no_sagemaker())
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The local server's URL (`None` for SageMaker endpoints).
    pub fn url(&self) -> Option<String> {
        match &self.hosted {
            Some(Hosted::Local(s)) => Some(s.url()),
            _ => None,
        }
    }

    /// A [`Predictor`] for this endpoint (CSV in, CSV out; change with its setters).
    pub fn predictor(&self) -> Result<Predictor> {
        match &self.hosted {
            Some(Hosted::Local(s)) => s.predictor(),
            #[cfg(feature = "sagemaker")]
            Some(Hosted::SageMaker { runtime, names, .. }) => Ok(Predictor::new(
                crate::sagemaker::hosting::RuntimeTransport::new(runtime.clone(), &names.endpoint)?,
            )),
            None => Err(Error::Unsupported(format!(
                "endpoint {} was deleted",
                self.name
            ))),
        }
    }

    /// Leave the endpoint running after this value is dropped; returns the names to delete
    /// it by later ([`delete_endpoint`]).
    pub fn keep_running(mut self) -> EndpointNames {
        match self.hosted.take() {
            #[cfg(feature = "sagemaker")]
            Some(Hosted::SageMaker { names, .. }) => names,
            Some(Hosted::Local(server)) => {
                // A local server lives in this process: keep it alive for the process's life.
                std::mem::forget(server);
                EndpointNames {
                    endpoint: self.name.clone(),
                    endpoint_config: self.name.clone(),
                    model: self.name.clone(),
                }
            }
            None => EndpointNames {
                endpoint: self.name.clone(),
                endpoint_config: self.name.clone(),
                model: self.name.clone(),
            },
        }
    }

    /// Delete the endpoint, its config and its model (stop the local server); returns what
    /// was deleted.
    pub async fn delete(mut self) -> Result<Vec<String>> {
        match self.hosted.take() {
            None => Ok(Vec::new()),
            Some(Hosted::Local(server)) => {
                off_runtime(move || server.stop());
                Ok(vec![format!("local endpoint {}", self.name)])
            }
            #[cfg(feature = "sagemaker")]
            Some(Hosted::SageMaker { client, names, .. }) => {
                delete_resources(&client, &names).await
            }
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let Some(hosted) = self.hosted.take() else {
            return;
        };
        let name = self.name.clone();
        // Blocking clean-up on a thread of its own: safe inside or outside a tokio runtime.
        let outcome = std::thread::spawn(move || match hosted {
            Hosted::Local(server) => {
                server.stop();
                Ok::<_, Error>(vec![format!("local endpoint {name}")])
            }
            #[cfg(feature = "sagemaker")]
            Hosted::SageMaker { client, names, .. } => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::io("tokio runtime", e))?;
                rt.block_on(delete_resources(&client, &names))
            }
        })
        .join();
        match outcome {
            Ok(Ok(deleted)) if !deleted.is_empty() => {
                eprintln!("clean-up: deleted {}", deleted.join(", "));
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("clean-up of endpoint {} failed: {e}", self.name),
            Err(_) => eprintln!("clean-up of endpoint {} panicked", self.name),
        }
    }
}

/// A deployed endpoint handed from one program (or notebook) to another: what
/// [`Endpoint::hand_over`] returns, serializable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedEndpoint {
    pub backend: Backend,
    pub names: EndpointNames,
    /// The local server's URL (local endpoints only).
    pub url: Option<String>,
}

impl Endpoint {
    /// [`Endpoint::keep_running`], with the backend and URL, for another program to delete
    /// it later ([`delete_endpoint`], [`still_running`]).
    pub fn hand_over(self) -> DeployedEndpoint {
        let backend = self.backend;
        let url = self.url();
        DeployedEndpoint {
            backend,
            url,
            names: self.keep_running(),
        }
    }
}

/// DeleteEndpoint, DeleteEndpointConfig and DeleteModel for `names`.
#[cfg(feature = "sagemaker")]
async fn delete_resources(
    client: &aws_sdk_sagemaker::Client,
    names: &EndpointNames,
) -> Result<Vec<String>> {
    crate::sagemaker::hosting::delete_endpoint_resources(
        client,
        Some(&names.endpoint),
        Some(&names.endpoint_config),
        Some(&names.model),
    )
    .await
}

/// Delete a SageMaker endpoint, its config and its model by name (what
/// [`Endpoint::keep_running`] returned); resources already gone are skipped.
pub async fn delete_endpoint(session: &Session, names: &EndpointNames) -> Result<Vec<String>> {
    #[cfg(feature = "sagemaker")]
    if let Some(sm) = session.sagemaker_session() {
        return delete_resources(&sm.clients.sagemaker, names).await;
    }
    let _ = (session, names);
    Ok(Vec::new())
}

/// Score every CSV file under `input` (features only, no header) into `output`, one
/// probability per line in `<file>.out`, as SageMaker batch transform does: locally with
/// the model in-process, on SageMaker with CreateTransformJob (the model is created, used
/// and deleted).
pub async fn batch_transform(
    session: &Session,
    job: &TrainingJob,
    input: &Location,
    output: &Location,
    instance_type: &str,
    progress: &mut dyn Progress,
) -> Result<Vec<Location>> {
    match session.backend() {
        Backend::Local => {
            let artifact = job.artifact(session, None).await?;
            let files = session.storage().list(input).await?;
            progress.start("batch transform", files.len() as u64);
            let mut outs = Vec::new();
            for (i, f) in files.iter().enumerate() {
                let path = f.local_path()?;
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                let n = artifact.model.feature_names.len();
                let values = crate::serve::parse_csv_rows(&text, n)
                    .map_err(|m| Error::Shape(format!("{}: {m}", path.display())))?;
                let x = crate::prep::FeatureMatrix {
                    names: artifact.model.feature_names.clone(),
                    nrows: values.len() / n.max(1),
                    values,
                };
                let p = artifact.model.predict(&x)?;
                let name = format!("{}.out", f.file_name().unwrap_or_else(|| "part".into()));
                let dest = output.join(&name);
                let dest_path = dest.local_path()?.to_path_buf();
                crate::files::write_atomically(&dest_path, |w| {
                    for v in &p {
                        writeln!(w, "{v}").map_err(|e| Error::io(&dest_path, e))?;
                    }
                    Ok(())
                })?;
                outs.push(dest);
                progress.update(i as u64 + 1, &name);
            }
            progress.finish(&format!("scored {} files", outs.len()));
            Ok(outs)
        }
        Backend::SageMaker => {
            batch_transform_sagemaker(session, job, input, output, instance_type, progress).await
        }
    }
}

#[cfg(feature = "sagemaker")]
async fn batch_transform_sagemaker(
    session: &Session,
    job: &TrainingJob,
    input: &Location,
    output: &Location,
    instance_type: &str,
    progress: &mut dyn Progress,
) -> Result<Vec<Location>> {
    use crate::sagemaker::{hosting, transform};
    let sm = session.sagemaker_session().expect("SageMaker session");
    let client = &sm.clients.sagemaker;
    let name = unique_name("purchase-transform", 63);
    let image = sm.image_or_xgboost(job.image_uri.as_deref())?;
    hosting::create_model(
        client,
        &name,
        &image,
        &job.model_data.to_string(),
        &sm.role_arn,
    )
    .await?;
    let spec = transform::TransformJobSpec {
        name: name.clone(),
        model_name: name.clone(),
        input: input.to_string(),
        output: output.to_string(),
        instance_type: instance_type.to_string(),
        instance_count: 1,
        max_payload_mb: 6,
    };
    let result = async {
        transform::create_transform_job(client, &spec).await?;
        transform::wait_for_transform_job(
            client,
            &name,
            session.poll(),
            Duration::from_secs(6 * 3600),
            progress,
        )
        .await
    }
    .await;
    // The model was made for this transform only.
    let _ = hosting::delete_endpoint_resources(client, None, None, Some(&name)).await;
    result?;
    let inputs = session.storage().list(input).await?;
    Ok(inputs
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| output.join(&format!("{n}.out")))
        .collect())
}

#[cfg(not(feature = "sagemaker"))]
async fn batch_transform_sagemaker(
    _: &Session,
    _: &TrainingJob,
    _: &Location,
    _: &Location,
    _: &str,
    _: &mut dyn Progress,
) -> Result<Vec<Location>> {
    Err(crate::session::no_sagemaker())
}

/// What is still hosted, for a "nothing is left running" check: on SageMaker the endpoints,
/// endpoint configs and models whose names contain `name_contains`; locally (where an
/// endpoint lives only as long as its process) `local_url` if something still answers there.
pub async fn still_running(
    session: &Session,
    name_contains: &str,
    local_url: Option<&str>,
) -> Result<Vec<String>> {
    #[cfg(feature = "sagemaker")]
    if let Some(sm) = session.sagemaker_session() {
        let inv =
            crate::sagemaker::hosting::list_hosting(&sm.clients.sagemaker, name_contains).await?;
        return Ok(inv
            .endpoints
            .iter()
            .map(|n| format!("endpoint {n}"))
            .chain(
                inv.endpoint_configs
                    .iter()
                    .map(|n| format!("endpoint config {n}")),
            )
            .chain(inv.models.iter().map(|n| format!("model {n}")))
            .collect());
    }
    let _ = (session, name_contains);
    let answering = local_url.is_some_and(|url| {
        use std::net::ToSocketAddrs;
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|addr| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
            })
    });
    Ok(if answering {
        vec![format!(
            "local endpoint at {}",
            local_url.unwrap_or_default()
        )]
    } else {
        Vec::new()
    })
}
