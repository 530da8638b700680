//! The SageMaker backend: the raw calls of [`crate::cloud::sagemaker`] put together into
//! jobs, endpoints and transforms, with the session's clients, role and bucket.

use std::time::{Duration, Instant};

use super::{DeployRequest, Hosted, TrainRequest, TransformRequest};
use crate::cloud::jobs::{
    Channels, EndpointNames, HyperparameterTuner, TrainingJob, TunedJob, TuningJob,
};
use crate::cloud::sagemaker::container::{
    metric_definitions, TableFormat, JUDGE_AGAINST_HYPERPARAMETER,
};
use crate::cloud::sagemaker::names::{trial_name, trial_number};
use crate::cloud::sagemaker::{hosting, training, transform, tuning, unique_name};
use crate::cloud::session::{Backend, SageMakerSession, Session};
use crate::cloud::storage::Location;
use crate::error::{ensure, Error, Result};
use crate::model::tune::{bootstrap_interval, Decision, Judging, Kept, Objective};
use crate::serve::Predictor;
use crate::util::progress::Progress;

/// `location` as an S3 URI, or an error naming `what`: SageMaker reads and writes S3 only.
fn s3(location: &Location, what: &str) -> Result<String> {
    if location.is_s3() {
        Ok(location.to_string())
    } else {
        Err(Error::InvalidSetting {
            name: what.into(),
            reason: format!(
                "SageMaker reads from S3, but {location} is a local path: upload it with Session::upload_data"
            ),
        })
    }
}

/// The format of our image's train channel, from its objects' names (the channel is listed
/// first, so that an empty one is refused before a billable job starts).
async fn train_format(session: &Session, request: &TrainRequest<'_>) -> Result<TableFormat> {
    if request.estimator.pipeline_image.is_none() {
        return Ok(TableFormat::Csv);
    }
    let files = session.storage().list(&request.channels.train).await?;
    let first = files.first().ok_or_else(|| Error::Storage {
        location: request.channels.train.to_string(),
        message: "the train channel holds no files: upload the customer table first".into(),
    })?;
    Ok(TableFormat::from_path(&first.to_string()))
}

/// The CreateTrainingJob request of an estimator (`format`: our image's train channel's).
fn spec(
    sm: &SageMakerSession,
    request: &TrainRequest<'_>,
    format: TableFormat,
) -> Result<training::TrainingJobSpec> {
    let TrainRequest {
        estimator,
        channels,
        name,
        output,
    } = *request;
    let mut list = vec![(
        "train".to_string(),
        s3(&channels.train, "train channel")?,
        estimator.distribution,
    )];
    if let Some(v) = &channels.validation {
        list.push((
            "validation".to_string(),
            s3(v, "validation channel")?,
            channels.validation_distribution,
        ));
    }
    let (image_uri, content_type, metric_definitions) = match &estimator.pipeline_image {
        // Our image: the raw table as `train` (its format's content type), and the metric
        // definitions that read its `#metric` lines.
        Some(image) => (
            image.image_uri.clone(),
            format.content_type(),
            metric_definitions(),
        ),
        // The built-in algorithm's metrics are its own.
        None => (
            sm.image_or_xgboost(estimator.image_uri.as_deref())?,
            "text/csv",
            Vec::new(),
        ),
    };
    Ok(training::TrainingJobSpec {
        name: name.to_string(),
        image_uri,
        role_arn: sm.role_arn.clone(),
        instance_type: estimator.instance_type.clone(),
        instance_count: estimator.instance_count,
        volume_size_gb: estimator.volume_size_gb,
        max_runtime: estimator.max_runtime,
        output_path: s3(output, "output_path")?,
        hyperparameters: estimator.job_hyperparameters(),
        channels: list,
        content_type: content_type.into(),
        metric_definitions,
    })
}

/// CreateTrainingJob, then wait for it.
pub(crate) async fn train(
    session: &Session,
    sm: &SageMakerSession,
    request: &TrainRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<TrainingJob> {
    let spec = spec(sm, request, train_format(session, request).await?)?;
    train_spec(session, sm, request, spec, progress).await
}

/// CreateTrainingJob of `spec` (made from `request`), then wait for it.
async fn train_spec(
    session: &Session,
    sm: &SageMakerSession,
    request: &TrainRequest<'_>,
    spec: training::TrainingJobSpec,
    progress: &mut dyn Progress,
) -> Result<TrainingJob> {
    let started = Instant::now();
    let client = &sm.clients.sagemaker;
    training::create_training_job(client, &spec).await?;
    let d = training::wait_for_training_job(
        client,
        request.name,
        session.poll(),
        request.estimator.timeout(),
        progress,
    )
    .await?;
    let model_data = match &d.model_artifacts {
        Some(uri) => uri.parse()?,
        None => request
            .output
            .join(request.name)
            .join("output/model.tar.gz"),
    };
    Ok(TrainingJob {
        name: request.name.to_string(),
        backend: Backend::SageMaker,
        model_data,
        final_metrics: d.final_metrics,
        hyperparameters: spec.hyperparameters,
        image_uri: Some(spec.image_uri),
        seconds: started.elapsed().as_secs_f64(),
        train_channel: Some(request.channels.train.clone()),
        preprocessor: request.estimator.preprocessor.clone(),
        pipeline_image: request.estimator.pipeline_image.is_some(),
    })
}

/// CreateHyperParameterTuningJob, then wait for it.
pub(crate) async fn tune(
    session: &Session,
    sm: &SageMakerSession,
    tuner: &HyperparameterTuner,
    channels: &Channels,
    name: &str,
    progress: &mut dyn Progress,
) -> Result<TuningJob> {
    let output = tuner
        .estimator
        .output_path
        .clone()
        .unwrap_or_else(|| session.default_output());
    let request = TrainRequest {
        estimator: &tuner.estimator,
        channels,
        name,
        output: &output,
    };
    let training = spec(sm, &request, train_format(session, &request).await?)?;
    let config = &tuner.config;
    // What SageMaker cannot do as the local tuner does is refused, not ignored.
    if let crate::model::tune::CvFolds::Folds(k) = config.cv_folds {
        return Err(Error::InvalidSetting {
            name: "cv_folds".into(),
            reason: format!(
                "{k}-fold cross-validation runs in local mode only: a SageMaker tuning job \
                 scores each trial on the validation channel (set cv_folds to auto or off)"
            ),
        });
    }
    let random_seed = i32::try_from(config.seed).map_err(|_| Error::InvalidSetting {
        name: "seed".into(),
        reason: format!(
            "the tuner's seed {} is above SageMaker's RandomSeed range (0 to {})",
            config.seed,
            i32::MAX
        ),
    })?;
    let spec = tuning::TuningJobSpec {
        name: name.to_string(),
        training,
        ranges: config.ranges.clone(),
        objective_metric: config.objective.name().to_string(),
        direction: config.direction,
        strategy: config.strategy,
        max_jobs: config.max_jobs as i32,
        max_parallel_jobs: config.max_parallel_jobs as i32,
        early_stopping: config.early_stopping_type,
        random_seed,
    };
    let client = &sm.clients.sagemaker;
    tuning::create_tuning_job(client, &spec).await?;
    // Trial 0, the defaults: the estimator's own hyperparameters as a training job beside
    // the tuning job (it runs while the search does), for the best trial to be judged
    // against. Our image judges in its refit instead ([`decide`]).
    let defaults_training_job = if tuner.estimator.pipeline_image.is_none() {
        // Trial 0, as the local search numbers it.
        let defaults_name = trial_name(name, 0);
        let defaults = spec_for(sm, &tuner.estimator, channels, &defaults_name, &output)?;
        training::create_training_job(client, &defaults).await?;
        Some(defaults_name)
    } else {
        None
    };
    let timeout = tuner.estimator.timeout() * (config.max_jobs as u32).max(1);
    let d = tuning::wait_for_tuning_job(client, name, session.poll(), timeout, progress).await?;
    if let Some(defaults) = &defaults_training_job {
        training::wait_for_training_job(
            client,
            defaults,
            session.poll(),
            tuner.estimator.timeout(),
            progress,
        )
        .await?;
    }
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
        objective: config.objective.name().to_string(),
        direction: config.direction,
        output: Some(output),
        decision: None,
        defaults_training_job,
        local: None,
    })
}

/// ListTrainingJobsForHyperParameterTuningJob.
pub(crate) async fn training_jobs(sm: &SageMakerSession, job: &TuningJob) -> Result<Vec<TunedJob>> {
    Ok(
        tuning::list_tuning_training_jobs(&sm.clients.sagemaker, &job.name)
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

/// The CreateTrainingJob request of `estimator` on the built-in image's CSV channels.
fn spec_for(
    sm: &SageMakerSession,
    estimator: &crate::cloud::jobs::Estimator,
    channels: &Channels,
    name: &str,
    output: &Location,
) -> Result<training::TrainingJobSpec> {
    let request = TrainRequest {
        estimator,
        channels,
        name,
        output,
    };
    spec(sm, &request, TableFormat::Csv)
}

/// The kept training job of a tuning job, and why: the best trial judged against the
/// defaults by the rule a local search uses.
///
/// - The built-in image: the best trial's model and the defaults' job's model (trial 0,
///   started beside the tuning job) score the validation channel the trials were judged
///   on, and a paired bootstrap of its rows decides, family-wise over the trials SageMaker
///   ran (as [`crate::model::tune::bootstrap_interval`] does locally).
/// - Our image: a refit job of the best trial's hyperparameters, told the defaults' values
///   ([`JUDGE_AGAINST_HYPERPARAMETER`]), judges them on its own split and keeps the
///   better; its model's manifest carries the decision.
pub(crate) async fn decide(
    session: &Session,
    sm: &SageMakerSession,
    job: &TuningJob,
    estimator: &crate::cloud::jobs::Estimator,
    channels: &Channels,
    progress: &mut dyn Progress,
) -> Result<(TrainingJob, Decision)> {
    if estimator.pipeline_image.is_some() {
        return refit_judged(session, sm, job, estimator, channels, progress).await;
    }
    let best = best_training_job(sm, job, estimator, channels).await?;
    let defaults_name = job
        .defaults_training_job
        .clone()
        .unwrap_or_else(|| trial_name(&job.name, 0));
    let defaults = describe_job(sm, &defaults_name, estimator, channels).await?;
    let validation = channels
        .validation
        .as_ref()
        .ok_or_else(|| Error::InvalidSetting {
            name: "validation channel".into(),
            reason: "judging the best trial against the defaults scores the validation channel \
                     the trials were judged on: give the channels of the tuning job"
                .into(),
        })?;
    let pre = estimator.preprocessor.clone();
    let names = pre.as_ref().map(|p| p.feature_names.clone());
    let (x, y) = super::local::read_channel(session, validation, names.as_deref()).await?;
    progress.start("judging against the defaults", 1);
    progress.update(
        0,
        &format!(
            "{} against {} on {} validation rows",
            best.name,
            defaults.name,
            y.len()
        ),
    );
    let candidate = best
        .artifact(session, pre.clone())
        .await?
        .model
        .predict(&x)?;
    let untuned = defaults.artifact(session, pre).await?.model.predict(&x)?;
    let objective: Objective = job.objective.parse()?;
    // The best was picked among the trials that ran to an objective.
    let counts = tuning::describe_tuning_job(&sm.clients.sagemaker, &job.name).await?;
    let compared = usize::try_from(counts.completed + counts.stopped)
        .unwrap_or(0)
        .max(1);
    let interval = bootstrap_interval(
        objective,
        job.direction,
        &y,
        &candidate,
        &untuned,
        0,
        compared,
    )?;
    let decision = Decision::from_interval(
        // A name that does not say (moto's canned best job) counts as the first trial.
        trial_number(&job.name, &best.name).unwrap_or(1),
        Judging::Holdout,
        crate::model::tune::judge::bootstrap_method(y.len(), compared),
        interval,
        compared,
        objective,
    );
    progress.finish(&decision.reason);
    let kept = match decision.kept {
        Kept::Tuned => best,
        Kept::Defaults => defaults,
    };
    Ok((kept, decision))
}

/// Our image's refit of the best trial, judged against the defaults in the job.
async fn refit_judged(
    session: &Session,
    sm: &SageMakerSession,
    job: &TuningJob,
    estimator: &crate::cloud::jobs::Estimator,
    channels: &Channels,
    progress: &mut dyn Progress,
) -> Result<(TrainingJob, Decision)> {
    // Judging against the defaults trains both in one job, which our image runs on one
    // instance only.
    ensure!(estimator.instance_count == 1, setting "instance_count",
        "{}: the kept job judges the best trial against the defaults in one job of one \
         instance; with several, keep the best trial's own job (TuningJob::training_jobs)",
        estimator.instance_count);
    let untuned = estimator.hyperparameters.to_sagemaker();
    let mut defaults = std::collections::BTreeMap::new();
    let mut refit = estimator.clone();
    for (name, value) in &job.best_hyperparameters {
        if let Some(d) = untuned.get(name) {
            defaults.insert(name.clone(), d.clone());
        }
        refit.hyperparameters.set(name, value)?;
    }
    let output = refit
        .output_path
        .clone()
        .unwrap_or_else(|| session.default_output());
    let name = format!("{}-kept", job.name);
    let request = TrainRequest {
        estimator: &refit,
        channels,
        name: &name,
        output: &output,
    };
    let mut spec = spec(sm, &request, train_format(session, &request).await?)?;
    spec.hyperparameters.insert(
        JUDGE_AGAINST_HYPERPARAMETER.into(),
        serde_json::to_string(&defaults).map_err(|e| Error::json("judge_against", e))?,
    );
    let trained = train_spec(session, sm, &request, spec, progress).await?;
    let decision = trained
        .artifact(session, None)
        .await?
        .manifest
        .tuning
        .ok_or_else(|| Error::JobFailed {
            kind: "training job".into(),
            name: name.clone(),
            status: "Completed".into(),
            reason: "its model carries no decision against the defaults: is the image older \
                     than this crate?"
                .into(),
        })?;
    Ok((trained, decision))
}

/// DescribeTrainingJob of the best trial, for its model.
pub(crate) async fn best_training_job(
    sm: &SageMakerSession,
    job: &TuningJob,
    estimator: &crate::cloud::jobs::Estimator,
    channels: &Channels,
) -> Result<TrainingJob> {
    describe_job(sm, &job.best_training_job, estimator, channels).await
}

/// DescribeTrainingJob of a finished job, for its model.
async fn describe_job(
    sm: &SageMakerSession,
    name: &str,
    estimator: &crate::cloud::jobs::Estimator,
    channels: &Channels,
) -> Result<TrainingJob> {
    let d = training::describe_training_job(&sm.clients.sagemaker, name).await?;
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
        image_uri: estimator
            .pipeline_image
            .as_ref()
            .map(|p| p.image_uri.clone()),
        seconds: 0.0,
        train_channel: Some(channels.train.clone()),
        preprocessor: None,
        pipeline_image: estimator.pipeline_image.is_some(),
    })
}

/// A SageMaker endpoint with its model and config.
pub(crate) struct HostedEndpoint {
    client: aws_sdk_sagemaker::Client,
    runtime: aws_sdk_sagemakerruntime::Client,
    pub(crate) names: EndpointNames,
}

impl HostedEndpoint {
    pub(crate) fn predictor(&self) -> Result<Predictor> {
        Ok(Predictor::new(hosting::RuntimeTransport::new(
            self.runtime.clone(),
            &self.names.endpoint,
        )?))
    }

    pub(crate) async fn delete(self) -> Result<Vec<String>> {
        delete_resources(&self.client, &self.names).await
    }
}

/// CreateModel, CreateEndpointConfig and CreateEndpoint, then wait for InService. Whatever
/// fails after the first create is deleted again.
pub(crate) async fn deploy(
    session: &Session,
    sm: &SageMakerSession,
    request: &DeployRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<Hosted> {
    let DeployRequest {
        model_data,
        image_uri,
        config,
        name,
    } = *request;
    ensure!(model_data.is_s3(), setting "model_data", "SageMaker hosts models from S3; {model_data} is local (upload it first)");
    if let Some(c) = &config.data_capture {
        ensure!(c.destination.is_s3(), setting "data_capture destination", "SageMaker captures into S3; {} is local", c.destination);
    }
    let image = sm.image_or_xgboost(image_uri)?;
    let client = sm.clients.sagemaker.clone();
    let names = EndpointNames::same(name);
    // The guard exists from the first create on: dropped on an error, it deletes.
    let mut guard = super::Guard::new(
        name,
        Hosted::SageMaker(HostedEndpoint {
            client: client.clone(),
            runtime: sm.clients.runtime.clone(),
            names: names.clone(),
        }),
    );
    hosting::create_model(
        &client,
        &names.model,
        &image,
        &model_data.to_string(),
        &sm.role_arn,
    )
    .await?;
    let capture = config
        .data_capture
        .as_ref()
        .map(|c| (c.destination.to_string(), c.sampling_percentage));
    hosting::create_endpoint_config(
        &client,
        &names.endpoint_config,
        &names.model,
        config.initial_instance_count,
        &config.instance_type,
        capture.as_ref().map(|(d, p)| (d.as_str(), *p)),
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
    Ok(guard.take().expect("guarded until here"))
}

/// DeleteEndpoint, DeleteEndpointConfig and DeleteModel for `names`.
async fn delete_resources(
    client: &aws_sdk_sagemaker::Client,
    names: &EndpointNames,
) -> Result<Vec<String>> {
    hosting::delete_endpoint_resources(
        client,
        Some(&names.endpoint),
        Some(&names.endpoint_config),
        Some(&names.model),
    )
    .await
}

pub(crate) async fn delete_endpoint(
    sm: &SageMakerSession,
    names: &EndpointNames,
) -> Result<Vec<String>> {
    delete_resources(&sm.clients.sagemaker, names).await
}

/// CreateTransformJob (text/csv, split by line, 6 MB requests) with a model made for it and
/// deleted after.
pub(crate) async fn batch_transform(
    session: &Session,
    sm: &SageMakerSession,
    request: &TransformRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<Vec<Location>> {
    let TransformRequest {
        job,
        input,
        output,
        instance_type,
    } = *request;
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
        max_payload_mb: (crate::codec::MAX_PAYLOAD_BYTES / (1024 * 1024)) as i32,
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

/// The endpoints, endpoint configs and models whose names contain `name_contains`.
pub(crate) async fn still_running(
    sm: &SageMakerSession,
    name_contains: &str,
) -> Result<Vec<String>> {
    let inv = hosting::list_hosting(&sm.clients.sagemaker, name_contains).await?;
    Ok(inv
        .endpoints
        .iter()
        .map(|n| format!("endpoint {n}"))
        .chain(
            inv.endpoint_configs
                .iter()
                .map(|n| format!("endpoint config {n}")),
        )
        .chain(inv.models.iter().map(|n| format!("model {n}")))
        .collect())
}
