//! CreateHyperParameterTuningJob, its waiter, the best job and the table of all jobs.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sagemaker::types::{
    CategoricalParameterRange, ContinuousParameterRange, HyperParameterAlgorithmSpecification,
    HyperParameterScalingType, HyperParameterTrainingJobDefinition,
    HyperParameterTrainingJobSummary, HyperParameterTuningJobConfig,
    HyperParameterTuningJobObjective, HyperParameterTuningJobObjectiveType,
    HyperParameterTuningJobStatus, HyperParameterTuningJobStrategyType, IntegerParameterRange,
    ParameterRanges, ResourceLimits, TrainingInputMode, TrainingJobEarlyStoppingType,
};
use serde::{Deserialize, Serialize};

use super::aws_error;
use super::training::{
    channels, metric_definitions, output_config, resource_config, stopping_condition,
    TrainingJobSpec,
};
use super::waiter::{poll_error, wait, Poll};
use super::PollConfig;
use crate::error::Result;
use crate::model::tune::{Direction, EarlyStoppingType, ParameterRange, Scaling, Strategy};
use crate::util::progress::Progress;

/// Everything CreateHyperParameterTuningJob is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TuningJobSpec {
    /// At most 32 characters.
    pub name: String,
    /// The training jobs' definition; its hyperparameters are the static ones (the tuned
    /// names are removed from them).
    pub training: TrainingJobSpec,
    pub ranges: BTreeMap<String, ParameterRange>,
    /// `validation:auc`, ...
    pub objective_metric: String,
    pub direction: Direction,
    pub strategy: Strategy,
    pub max_jobs: i32,
    pub max_parallel_jobs: i32,
    pub early_stopping: EarlyStoppingType,
    /// `HyperParameterTuningJobConfig.RandomSeed`: the same seed, the same search.
    pub random_seed: i32,
}

fn scaling(s: Scaling) -> HyperParameterScalingType {
    match s {
        Scaling::Auto => HyperParameterScalingType::Auto,
        Scaling::Linear => HyperParameterScalingType::Linear,
        Scaling::Logarithmic => HyperParameterScalingType::Logarithmic,
        Scaling::ReverseLogarithmic => HyperParameterScalingType::ReverseLogarithmic,
    }
}

/// The tuning job's ParameterRanges.
pub(crate) fn parameter_ranges(
    ranges: &BTreeMap<String, ParameterRange>,
) -> Result<ParameterRanges> {
    let mut b = ParameterRanges::builder();
    for (name, range) in ranges {
        range.check(name)?;
        b = match range {
            ParameterRange::Continuous {
                min,
                max,
                scaling: s,
            } => b.continuous_parameter_ranges(
                ContinuousParameterRange::builder()
                    .name(name)
                    .min_value(min.to_string())
                    .max_value(max.to_string())
                    .scaling_type(scaling(*s))
                    .build(),
            ),
            ParameterRange::Integer {
                min,
                max,
                scaling: s,
            } => b.integer_parameter_ranges(
                IntegerParameterRange::builder()
                    .name(name)
                    .min_value(min.to_string())
                    .max_value(max.to_string())
                    .scaling_type(scaling(*s))
                    .build(),
            ),
            ParameterRange::Categorical { values } => b.categorical_parameter_ranges(
                CategoricalParameterRange::builder()
                    .name(name)
                    .set_values(Some(values.clone()))
                    .build(),
            ),
        };
    }
    Ok(b.build())
}

/// Start the tuning job; returns its ARN.
pub async fn create_tuning_job(
    client: &aws_sdk_sagemaker::Client,
    spec: &TuningJobSpec,
) -> Result<String> {
    super::names::check_name("tuning job", &spec.name, 32)?;
    let objective = HyperParameterTuningJobObjective::builder()
        .r#type(match spec.direction {
            Direction::Maximize => HyperParameterTuningJobObjectiveType::Maximize,
            Direction::Minimize => HyperParameterTuningJobObjectiveType::Minimize,
        })
        .metric_name(&spec.objective_metric)
        .build();
    let limits = ResourceLimits::builder()
        .max_number_of_training_jobs(spec.max_jobs)
        .max_parallel_training_jobs(spec.max_parallel_jobs)
        .build();
    let config = HyperParameterTuningJobConfig::builder()
        .strategy(match spec.strategy {
            Strategy::Bayesian => HyperParameterTuningJobStrategyType::Bayesian,
            Strategy::Random => HyperParameterTuningJobStrategyType::Random,
        })
        .hyper_parameter_tuning_job_objective(objective)
        .resource_limits(limits)
        .random_seed(spec.random_seed)
        .parameter_ranges(parameter_ranges(&spec.ranges)?)
        .training_job_early_stopping_type(match spec.early_stopping {
            EarlyStoppingType::Auto => TrainingJobEarlyStoppingType::Auto,
            EarlyStoppingType::Off => TrainingJobEarlyStoppingType::Off,
        })
        .build();
    let t = &spec.training;
    let algorithm = HyperParameterAlgorithmSpecification::builder()
        .training_image(&t.image_uri)
        .training_input_mode(TrainingInputMode::File)
        .set_metric_definitions(metric_definitions(t))
        .build();
    let static_hp: HashMap<String, String> = t
        .hyperparameters
        .iter()
        .filter(|(k, _)| !spec.ranges.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let definition = HyperParameterTrainingJobDefinition::builder()
        .algorithm_specification(algorithm)
        .role_arn(&t.role_arn)
        .set_input_data_config(Some(channels(t)))
        .output_data_config(output_config(t))
        .resource_config(resource_config(t))
        .stopping_condition(stopping_condition(t))
        .set_static_hyper_parameters(Some(static_hp))
        .build();
    let out = client
        .create_hyper_parameter_tuning_job()
        .hyper_parameter_tuning_job_name(&spec.name)
        .hyper_parameter_tuning_job_config(config)
        .training_job_definition(definition)
        .send()
        .await
        .map_err(|e| aws_error("CreateHyperParameterTuningJob", e))?;
    Ok(out
        .hyper_parameter_tuning_job_arn()
        .unwrap_or_default()
        .to_string())
}

/// One training job of a tuning job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningTrainingJob {
    pub name: String,
    pub status: String,
    /// The final objective value, when the job reported one.
    pub objective: Option<f64>,
    pub tuned_hyperparameters: BTreeMap<String, String>,
    pub failure_reason: Option<String>,
}

impl From<&HyperParameterTrainingJobSummary> for TuningTrainingJob {
    fn from(s: &HyperParameterTrainingJobSummary) -> Self {
        TuningTrainingJob {
            name: s.training_job_name().unwrap_or_default().to_string(),
            status: s
                .training_job_status()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            objective: s
                .final_hyper_parameter_tuning_job_objective_metric()
                .and_then(|m| m.value())
                .map(f64::from),
            tuned_hyperparameters: s
                .tuned_hyper_parameters()
                .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            failure_reason: s.failure_reason().map(str::to_string),
        }
    }
}

/// What DescribeHyperParameterTuningJob says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningJobDescription {
    pub name: String,
    /// InProgress, Completed, Failed, Stopping, Stopped.
    pub status: String,
    pub failure_reason: Option<String>,
    pub best_training_job: Option<TuningTrainingJob>,
    /// Training jobs completed / in progress / failed (retryable + not) / stopped.
    pub completed: i32,
    pub in_progress: i32,
    pub failed: i32,
    pub stopped: i32,
}

/// DescribeHyperParameterTuningJob.
pub async fn describe_tuning_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<TuningJobDescription> {
    let out = client
        .describe_hyper_parameter_tuning_job()
        .hyper_parameter_tuning_job_name(name)
        .send()
        .await
        .map_err(|e| aws_error("DescribeHyperParameterTuningJob", e))?;
    Ok(describe_output(name, &out))
}

fn describe_output(
    name: &str,
    out: &aws_sdk_sagemaker::operation::describe_hyper_parameter_tuning_job::DescribeHyperParameterTuningJobOutput,
) -> TuningJobDescription {
    let c = out.training_job_status_counters();
    TuningJobDescription {
        name: out
            .hyper_parameter_tuning_job_name()
            .unwrap_or(name)
            .to_string(),
        status: out
            .hyper_parameter_tuning_job_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        failure_reason: out
            .failure_reason()
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        best_training_job: out.best_training_job().map(TuningTrainingJob::from),
        completed: c.and_then(|c| c.completed()).unwrap_or(0),
        in_progress: c.and_then(|c| c.in_progress()).unwrap_or(0),
        failed: c
            .map(|c| c.retryable_error().unwrap_or(0) + c.non_retryable_error().unwrap_or(0))
            .unwrap_or(0),
        stopped: c.and_then(|c| c.stopped()).unwrap_or(0),
    }
}

/// Poll until the tuning job completes (its description), fails or stops, or `timeout`.
pub async fn wait_for_tuning_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    poll: PollConfig,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<TuningJobDescription> {
    wait("tuning job", name, poll, timeout, progress, || async move {
        let d = match client
            .describe_hyper_parameter_tuning_job()
            .hyper_parameter_tuning_job_name(name)
            .send()
            .await
        {
            Ok(out) => describe_output(name, &out),
            Err(e) => return poll_error("DescribeHyperParameterTuningJob", e),
        };
        let line = format!(
            "{}: {} completed, {} running, {} failed, {} stopped",
            d.status, d.completed, d.in_progress, d.failed, d.stopped
        );
        Ok(
            match HyperParameterTuningJobStatus::from(d.status.as_str()) {
                HyperParameterTuningJobStatus::Completed => Poll::Done(d),
                HyperParameterTuningJobStatus::Failed | HyperParameterTuningJobStatus::Stopped => {
                    Poll::failed(&d.status, d.failure_reason.as_deref())
                }
                _ => Poll::Pending(line),
            },
        )
    })
    .await
}

/// Every training job of a tuning job (ListTrainingJobsForHyperParameterTuningJob, all
/// pages), best objective first.
pub async fn list_tuning_training_jobs(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<Vec<TuningTrainingJob>> {
    let mut jobs = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = client
            .list_training_jobs_for_hyper_parameter_tuning_job()
            .hyper_parameter_tuning_job_name(name)
            .max_results(100)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| aws_error("ListTrainingJobsForHyperParameterTuningJob", e))?;
        jobs.extend(
            out.training_job_summaries()
                .iter()
                .map(TuningTrainingJob::from),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(jobs)
}
