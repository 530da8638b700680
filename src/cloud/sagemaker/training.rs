//! CreateTrainingJob, DescribeTrainingJob and a waiter.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, DataSource, MetricDefinition, OutputDataConfig,
    ResourceConfig, S3DataDistribution, S3DataSource, S3DataType, StoppingCondition,
    TrainingInputMode, TrainingInstanceType, TrainingJobStatus,
};
use serde::{Deserialize, Serialize};

use super::aws_error;
use super::waiter::{poll_error, wait, Poll};
use super::PollConfig;
use crate::error::Result;
use crate::util::progress::Progress;

pub use super::Distribution;

fn s3_distribution(d: Distribution) -> S3DataDistribution {
    match d {
        Distribution::FullyReplicated => S3DataDistribution::FullyReplicated,
        Distribution::ShardedByS3Key => S3DataDistribution::ShardedByS3Key,
    }
}

/// Everything CreateTrainingJob is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingJobSpec {
    pub name: String,
    pub image_uri: String,
    pub role_arn: String,
    pub instance_type: String,
    pub instance_count: i32,
    pub volume_size_gb: i32,
    pub max_runtime: Duration,
    /// `s3://...` folder; the model lands in `<output_path>/<name>/output/model.tar.gz`.
    pub output_path: String,
    pub hyperparameters: BTreeMap<String, String>,
    /// `(channel name, s3 prefix, S3 distribution)`: `train`, `validation`.
    pub channels: Vec<(String, String, Distribution)>,
    /// Content type of every channel (`text/csv`).
    pub content_type: String,
    /// `AlgorithmSpecification.MetricDefinitions`, `(name, regex)`: empty for the built-in
    /// algorithm (its metrics are its own), ours for our image.
    #[serde(default)]
    pub metric_definitions: Vec<(String, String)>,
}

pub(crate) fn channel(
    name: &str,
    uri: &str,
    content_type: &str,
    distribution: Distribution,
) -> Channel {
    let source = S3DataSource::builder()
        .s3_data_type(S3DataType::S3Prefix)
        .s3_uri(uri)
        .s3_data_distribution_type(s3_distribution(distribution))
        .build();
    Channel::builder()
        .channel_name(name)
        .content_type(content_type)
        .data_source(DataSource::builder().s3_data_source(source).build())
        .build()
}

/// The spec's metric definitions, or `None` (left out of the request) when it has none.
pub(crate) fn metric_definitions(spec: &TrainingJobSpec) -> Option<Vec<MetricDefinition>> {
    (!spec.metric_definitions.is_empty()).then(|| {
        spec.metric_definitions
            .iter()
            .map(|(name, regex)| MetricDefinition::builder().name(name).regex(regex).build())
            .collect()
    })
}

pub(crate) fn resource_config(spec: &TrainingJobSpec) -> ResourceConfig {
    ResourceConfig::builder()
        .instance_type(TrainingInstanceType::from(spec.instance_type.as_str()))
        .instance_count(spec.instance_count)
        .volume_size_in_gb(spec.volume_size_gb)
        .build()
}

pub(crate) fn stopping_condition(spec: &TrainingJobSpec) -> StoppingCondition {
    StoppingCondition::builder()
        .max_runtime_in_seconds(spec.max_runtime.as_secs().min(i32::MAX as u64) as i32)
        .build()
}

pub(crate) fn output_config(spec: &TrainingJobSpec) -> OutputDataConfig {
    OutputDataConfig::builder()
        .s3_output_path(&spec.output_path)
        .build()
}

pub(crate) fn channels(spec: &TrainingJobSpec) -> Vec<Channel> {
    spec.channels
        .iter()
        .map(|(name, uri, distribution)| channel(name, uri, &spec.content_type, *distribution))
        .collect()
}

/// Start the job; returns its ARN.
pub async fn create_training_job(
    client: &aws_sdk_sagemaker::Client,
    spec: &TrainingJobSpec,
) -> Result<String> {
    let algorithm = AlgorithmSpecification::builder()
        .training_image(&spec.image_uri)
        .training_input_mode(TrainingInputMode::File)
        .set_metric_definitions(metric_definitions(spec))
        .build();
    let out = client
        .create_training_job()
        .training_job_name(&spec.name)
        .algorithm_specification(algorithm)
        .role_arn(&spec.role_arn)
        .set_input_data_config(Some(channels(spec)))
        .output_data_config(output_config(spec))
        .resource_config(resource_config(spec))
        .stopping_condition(stopping_condition(spec))
        .set_hyper_parameters(Some(
            spec.hyperparameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .send()
        .await
        .map_err(|e| aws_error("CreateTrainingJob", e))?;
    Ok(out.training_job_arn().unwrap_or_default().to_string())
}

/// What DescribeTrainingJob says about a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingJobDescription {
    pub name: String,
    /// InProgress, Completed, Failed, Stopping, Stopped.
    pub status: String,
    /// Starting, Downloading, Training, Uploading, Completed, ...
    pub secondary_status: String,
    pub failure_reason: Option<String>,
    /// `s3://.../output/model.tar.gz` once completed.
    pub model_artifacts: Option<String>,
    /// `(secondary status, message)` in order.
    pub transitions: Vec<(String, String)>,
    /// Final metrics (`validation:auc`, ...).
    pub final_metrics: BTreeMap<String, f64>,
    pub hyperparameters: BTreeMap<String, String>,
    pub billable_seconds: Option<i32>,
}

/// DescribeTrainingJob.
pub async fn describe_training_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<TrainingJobDescription> {
    let out = client
        .describe_training_job()
        .training_job_name(name)
        .send()
        .await
        .map_err(|e| aws_error("DescribeTrainingJob", e))?;
    Ok(describe_output(name, &out))
}

fn describe_output(
    name: &str,
    out: &aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput,
) -> TrainingJobDescription {
    TrainingJobDescription {
        name: out.training_job_name().unwrap_or(name).to_string(),
        status: out
            .training_job_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        secondary_status: out
            .secondary_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        failure_reason: out.failure_reason().map(str::to_string),
        model_artifacts: out
            .model_artifacts()
            .and_then(|m| m.s3_model_artifacts())
            .map(str::to_string),
        transitions: out
            .secondary_status_transitions()
            .iter()
            .map(|t| {
                (
                    t.status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    t.status_message().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        final_metrics: out
            .final_metric_data_list()
            .iter()
            .filter_map(|m| Some((m.metric_name()?.to_string(), m.value()? as f64)))
            .collect(),
        hyperparameters: out
            .hyper_parameters()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        billable_seconds: out.billable_time_in_seconds(),
    }
}

/// Poll DescribeTrainingJob until Completed (the description), Failed or Stopped
/// ([`crate::Error::JobFailed`] with the FailureReason), or `timeout` ([`crate::Error::Timeout`]). Every new
/// secondary status transition is reported with its message.
pub async fn wait_for_training_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    poll: PollConfig,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<TrainingJobDescription> {
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let seen = &seen;
    wait(
        "training job",
        name,
        poll,
        timeout,
        progress,
        || async move {
            let d = match client
                .describe_training_job()
                .training_job_name(name)
                .send()
                .await
            {
                Ok(out) => describe_output(name, &out),
                Err(e) => return poll_error("DescribeTrainingJob", e),
            };
            let before = seen.swap(d.transitions.len(), std::sync::atomic::Ordering::Relaxed);
            let fresh: Vec<String> = d.transitions[before.min(d.transitions.len())..]
                .iter()
                .map(|(s, m)| {
                    if m.is_empty() {
                        s.clone()
                    } else {
                        format!("{s}: {m}")
                    }
                })
                .collect();
            let line = if fresh.is_empty() {
                format!("{} / {}", d.status, d.secondary_status)
            } else {
                format!("{} / {}", d.status, fresh.join("; "))
            };
            Ok(match TrainingJobStatus::from(d.status.as_str()) {
                TrainingJobStatus::Completed => Poll::Done(d),
                TrainingJobStatus::Failed | TrainingJobStatus::Stopped => {
                    Poll::failed(&d.status, d.failure_reason.as_deref())
                }
                _ => Poll::Pending(line),
            })
        },
    )
    .await
}
