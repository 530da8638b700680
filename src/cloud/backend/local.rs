//! The local backend: jobs train in this process with libxgboost, endpoints are the local
//! server on 127.0.0.1, batch transform streams through [`crate::serve::batch`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{DeployRequest, Hosted, TrainRequest, TransformRequest};
use crate::cloud::jobs::{
    Channels, EndpointNames, Estimator, HyperparameterTuner, PipelineImage, TrainingJob, TunedJob,
    TuningJob,
};
use crate::cloud::sagemaker::names::trial_name;
use crate::cloud::session::{Backend, Session};
use crate::cloud::storage::Location;
use crate::data::FeatureMatrix;
use crate::error::{Error, Result};
use crate::model::tune::{Decision, TrialStatus};
use crate::serve::{BackgroundServer, ServerConfig};
use crate::util::progress::Progress;
use crate::util::runtime::off_runtime;

/// Train in this process and write `<output>/<job>/output/model.tar.gz`.
pub(crate) async fn train(
    session: &Session,
    request: &TrainRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<TrainingJob> {
    if let Some(image) = &request.estimator.pipeline_image {
        return train_in_image(session, request, image, progress).await;
    }
    let started = Instant::now();
    let TrainRequest {
        estimator,
        channels,
        name,
        output,
    } = *request;
    let names = estimator
        .preprocessor
        .as_ref()
        .map(|p| p.feature_names.clone());
    let (x, y) = read_channel(session, &channels.train, names.as_deref()).await?;
    let validation = match &channels.validation {
        Some(v) => Some(read_channel(session, v, Some(&x.names)).await?),
        None => None,
    };
    let model = crate::model::train::train(
        &x,
        &y,
        validation.as_ref().map(|(vx, vy)| (vx, vy.as_slice())),
        &estimator.hyperparameters,
        progress,
    )?;
    let mut final_metrics = BTreeMap::new();
    if let Some((vx, vy)) = &validation {
        let p = model.predict(vx)?;
        if let Ok(auc) = crate::metrics::roc_auc(vy, &p) {
            final_metrics.insert("validation:auc".to_string(), auc);
        }
    }
    let job = TrainingJob {
        name: name.to_string(),
        backend: Backend::Local,
        model_data: output.join(name).join("output/model.tar.gz"),
        final_metrics,
        hyperparameters: estimator.hyperparameters.to_sagemaker(),
        image_uri: None,
        seconds: 0.0,
        train_channel: Some(channels.train.clone()),
        preprocessor: estimator.preprocessor.clone(),
        pipeline_image: false,
    };
    let mut artifact = job.assemble(model, None, x.nrows);
    artifact.save(job.model_data.local_path()?)?;
    Ok(TrainingJob {
        seconds: started.elapsed().as_secs_f64(),
        ..job
    })
}

/// A scratch folder removed when dropped (a local job's `/opt/ml`).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A job of our image, run as SageMaker runs it: the container layout (`/opt/ml`) in a
/// scratch folder with the train channel's files, the image's entry point
/// (`purchase-predict train`) on it, its `#metric` lines taken as the job's final metrics,
/// its `output/failure` as the failure reason; then `model/` packed into
/// `<output>/<job>/output/model.tar.gz` and `output/data/` into `output.tar.gz` beside it.
/// With `instance_count` N > 1, one process per instance on loopback
/// ([`crate::cloud::sagemaker::local_hosts`]), the first host's folders packed.
async fn train_in_image(
    session: &Session,
    request: &TrainRequest<'_>,
    image: &PipelineImage,
    progress: &mut dyn Progress,
) -> Result<TrainingJob> {
    use crate::cloud::sagemaker::container::{
        entry_point, parse_metric_line, MlRoot, TableFormat, ROOT_ENV, TRAIN_CHANNEL,
    };
    use std::io::BufRead;
    let started = Instant::now();
    let TrainRequest {
        estimator,
        channels,
        name,
        output,
    } = *request;
    let binary = entry_point()?;
    let mut files = Vec::new();
    for f in session.storage().list(&channels.train).await? {
        files.push(session.local_copy(&f, "downloads").await?);
    }
    let format = files
        .first()
        .map(|f| TableFormat::from_path(&f.to_string_lossy()))
        .unwrap_or(TableFormat::Csv);
    // Unique per job of this process, even for two jobs named in the same millisecond.
    static JOBS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "purchase-predict-job-{name}-{}-{}",
        std::process::id(),
        JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let mut hyperparameters = estimator.job_hyperparameters();
    let (root, final_metrics) = if estimator.instance_count > 1 {
        // One process per instance, sharing this machine's cores.
        let n = estimator.instance_count as usize;
        if estimator.hyperparameters.nthread.is_none() {
            hyperparameters.insert(
                "nthread".into(),
                crate::cloud::sagemaker::local_hosts::threads_per_host(n).to_string(),
            );
        }
        // ShardedByS3Key hands each instance whole objects: here, in key order, round robin.
        let mut per_host = vec![Vec::new(); n];
        for (k, f) in files.into_iter().enumerate() {
            per_host[k % n].push(f);
        }
        let run = crate::cloud::sagemaker::local_hosts::run_local_hosts(
            &binary,
            &scratch.0,
            &hyperparameters,
            &per_host,
            format.content_type(),
            progress,
        )
        .map_err(|e| match e {
            Error::JobFailed { reason, .. } => Error::JobFailed {
                kind: "training job".into(),
                name: name.to_string(),
                status: "Failed".into(),
                reason,
            },
            other => other,
        })?;
        (run.first, run.final_metrics)
    } else {
        let root = MlRoot::new(&scratch.0);
        root.write_training_job(
            &hyperparameters,
            &[(TRAIN_CHANNEL, &files, format.content_type())],
        )?;

        progress.start(&format!("training job {name} ({})", image.image_uri), 0);
        let mut child = std::process::Command::new(&binary)
            .arg("train")
            .env(ROOT_ENV, &root.root)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(&binary, e))?;
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut err, &mut text);
                text
            })
        });
        let mut final_metrics = BTreeMap::new();
        if let Some(out) = child.stdout.take() {
            for line in std::io::BufReader::new(out).lines() {
                let line = line.map_err(|e| Error::io(&binary, e))?;
                match parse_metric_line(&line) {
                    Some((metric, value)) => {
                        final_metrics.insert(metric, value);
                    }
                    None => progress.update(0, &line),
                }
            }
        }
        let status = child.wait().map_err(|e| Error::io(&binary, e))?;
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        if !status.success() {
            let reason = std::fs::read_to_string(root.failure_file())
                .ok()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| format!("{status}: {}", stderr.trim()));
            progress.finish("failed");
            return Err(Error::JobFailed {
                kind: "training job".into(),
                name: name.to_string(),
                status: "Failed".into(),
                reason,
            });
        }
        progress.finish(&format!(
            "completed{}",
            final_metrics
                .get("validation:auc")
                .map(|a| format!(", validation:auc {a:.4}"))
                .unwrap_or_default()
        ));
        (root, final_metrics)
    };
    let model_data = output.join(name).join("output/model.tar.gz");
    let archive = model_data.local_path()?;
    crate::model::artifact::pack(root.model_dir(), archive)?;
    if let Some(dir) = archive.parent() {
        crate::model::artifact::pack(root.output_data_dir(), dir.join("output.tar.gz"))?;
    }
    let artifact = crate::model::artifact::Artifact::load(archive)?;
    Ok(TrainingJob {
        name: name.to_string(),
        backend: Backend::Local,
        model_data,
        final_metrics,
        hyperparameters,
        image_uri: Some(image.image_uri.clone()),
        seconds: started.elapsed().as_secs_f64(),
        train_channel: Some(channels.train.clone()),
        preprocessor: Some(artifact.preprocessor),
        pipeline_image: true,
    })
}

/// Read every CSV file of a channel (downloading it first when in S3) into one matrix.
pub(crate) async fn read_channel(
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
        let path = session.local_copy(&f, "downloads").await?;
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

/// Run the local tuner on the channels.
pub(crate) async fn tune(
    session: &Session,
    tuner: &HyperparameterTuner,
    channels: &Channels,
    name: &str,
    progress: &mut dyn Progress,
) -> Result<TuningJob> {
    if tuner.estimator.pipeline_image.is_some() {
        return Err(Error::Unsupported(
            "tuning with the purchase-predict image runs on SageMaker only; locally, tune on \
             the table with `purchase-predict tune` (pipeline::tune_run)"
                .into(),
        ));
    }
    let validation = channels
        .validation
        .as_ref()
        .ok_or_else(|| Error::InvalidSetting {
            name: "validation channel".into(),
            reason: "the local tuner scores trials on a validation channel".into(),
        })?;
    let names = tuner
        .estimator
        .preprocessor
        .as_ref()
        .map(|p| p.feature_names.clone());
    let (x, y) = read_channel(session, &channels.train, names.as_deref()).await?;
    let (vx, vy) = read_channel(session, validation, Some(&x.names)).await?;
    // The estimator's hyperparameters are the search's base and the defaults (trial 0).
    let mut config = tuner.config.clone();
    config.base = tuner.estimator.hyperparameters.clone();
    config.defaults = tuner.estimator.hyperparameters.clone();
    let result = crate::model::tune::tune((&x, &y), Some((&vx, &vy)), &config, progress)?;
    // The best training job is the kept trial: the best one when it beats trial 0 (the
    // estimator's hyperparameters) beyond the noise, else trial 0.
    let best = result.kept();
    Ok(TuningJob {
        best_training_job: trial_name(name, best.number),
        best_objective: best.objective,
        best_hyperparameters: best.hyperparameters.clone(),
        decision: Some(result.decision.clone()),
        defaults_training_job: None,
        objective: result.config.objective.name().to_string(),
        direction: result.config.direction,
        backend: Backend::Local,
        output: None,
        name: name.to_string(),
        local: Some(result),
    })
}

fn local_result(job: &TuningJob) -> Result<&crate::model::tune::TuningResult> {
    job.local.as_ref().ok_or_else(|| {
        Error::Unsupported(format!(
            "tuning job {} ran on SageMaker; use a SageMaker session for it",
            job.name
        ))
    })
}

/// The trials of a local search as training jobs.
pub(crate) fn training_jobs(job: &TuningJob) -> Result<Vec<TunedJob>> {
    Ok(local_result(job)?
        .trials
        .iter()
        .map(|t| TunedJob {
            name: trial_name(&job.name, t.number),
            status: match &t.status {
                TrialStatus::Completed => "Completed".into(),
                TrialStatus::Stopped { .. } => "Stopped".into(),
                TrialStatus::Failed { .. } => "Failed".into(),
            },
            objective: t.objective,
            hyperparameters: t.hyperparameters.clone(),
        })
        .collect())
}

/// The kept trial's training job (the search decided it): trained again
/// (deterministically, with the trial's hyperparameters and `estimator`'s other settings)
/// under the trial's name, since the local search keeps scores, not models.
pub(crate) async fn decide(
    session: &Session,
    job: &TuningJob,
    estimator: &Estimator,
    channels: &Channels,
    progress: &mut dyn Progress,
) -> Result<(TrainingJob, Decision)> {
    let result = local_result(job)?;
    let mut e = estimator.clone();
    e.hyperparameters = result.kept_hyperparameters()?;
    e.hyperparameters.nthread = estimator.hyperparameters.nthread;
    let output = e
        .output_path
        .clone()
        .unwrap_or_else(|| session.default_output());
    let request = TrainRequest {
        estimator: &e,
        channels,
        name: &job.best_training_job,
        output: &output,
    };
    let mut trained = train(session, &request, progress).await?;
    if let Some(objective) = job.best_objective {
        trained
            .final_metrics
            .insert(job.objective.clone(), objective);
    }
    Ok((trained, result.decision.clone()))
}

/// Serve the model on 127.0.0.1 (images are SageMaker's: the local endpoint is this crate's
/// server, whatever `image_uri` says).
pub(crate) async fn deploy(
    session: &Session,
    request: &DeployRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<Hosted> {
    let DeployRequest {
        model_data,
        config,
        name,
        ..
    } = request;
    let path = session
        .local_copy(model_data, &format!("models/{name}"))
        .await?;
    progress.start(&format!("local endpoint {name}"), 0);
    let mut server_config = ServerConfig::default().port(config.local_port);
    if let Some(capture) = &config.data_capture {
        use crate::serve::{CaptureConfig, CaptureDestination};
        // A relative folder is under the session's root, as the session's other files.
        let destination = match &capture.destination {
            Location::Local(dir) => CaptureDestination::Folder(session.root().join(dir)),
            s3 => CaptureDestination::Sink(std::sync::Arc::new(
                crate::cloud::storage::CaptureToStorage::new(session.storage().clone(), s3.clone()),
            )),
        };
        server_config.capture = Some(
            CaptureConfig::new(destination)
                .sampling(f64::from(capture.sampling_percentage))
                .endpoint_name(*name),
        );
    }
    let server = off_runtime(|| BackgroundServer::start(&path, &server_config))?;
    progress.finish(&format!("serving at {}", server.url()));
    Ok(Hosted::Local(server))
}

/// Score each file under `input` with the job's model, streaming, into `<file>.out` under
/// `output` (instance types are SageMaker's: this runs in this process).
pub(crate) async fn batch_transform(
    session: &Session,
    request: &TransformRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<Vec<Location>> {
    let TransformRequest {
        job, input, output, ..
    } = request;
    let artifact = job.artifact(session, None).await?;
    let files = session.storage().list(input).await?;
    progress.start("batch transform", files.len() as u64);
    let mut outs = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let name = format!("{}.out", f.file_name().unwrap_or_else(|| "part".into()));
        let dest = output.join(&name);
        crate::serve::batch::transform_file(
            &artifact,
            f.local_path()?,
            dest.local_path()?,
            crate::serve::batch::DEFAULT_CHUNK_ROWS,
        )?;
        outs.push(dest);
        progress.update(i as u64 + 1, &name);
    }
    progress.finish(&format!("scored {} files", outs.len()));
    Ok(outs)
}

/// A local endpoint lives and dies with the process that started it: nothing to delete by
/// name from another one.
pub(crate) fn delete_endpoint(_names: &EndpointNames) -> Vec<String> {
    Vec::new()
}

/// A local endpoint lives as long as its process: `local_url` if something still answers
/// there (names are SageMaker's: there is nothing to list locally).
pub(crate) fn still_running(_name_contains: &str, local_url: Option<&str>) -> Vec<String> {
    use std::net::ToSocketAddrs;
    let answering = local_url.is_some_and(|url| {
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|addr| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
            })
    });
    match local_url {
        Some(url) if answering => vec![format!("local endpoint at {url}")],
        _ => Vec::new(),
    }
}
