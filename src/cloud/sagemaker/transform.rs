//! CreateTransformJob (batch transform) and its waiter.

use std::time::Duration;

use aws_sdk_sagemaker::types::{
    AssemblyType, BatchStrategy, SplitType, TransformDataSource, TransformInput,
    TransformInstanceType, TransformJobStatus, TransformOutput, TransformResources,
    TransformS3DataSource,
};
use serde::{Deserialize, Serialize};

use super::aws_error;
use super::waiter::{poll_error, wait, Poll};
use super::PollConfig;
use crate::error::{ensure, Result};
use crate::util::progress::Progress;

/// Everything CreateTransformJob is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformJobSpec {
    pub name: String,
    pub model_name: String,
    /// `s3://` prefix of the CSV files to score (features only, no header).
    pub input: String,
    /// `s3://` folder for the `.out` files (one probability per line).
    pub output: String,
    pub instance_type: String,
    pub instance_count: i32,
    /// Request size, at most 6 (MB).
    pub max_payload_mb: i32,
}

/// Start a batch transform: text/csv split by line, many records per request, outputs
/// assembled by line.
pub async fn create_transform_job(
    client: &aws_sdk_sagemaker::Client,
    spec: &TransformJobSpec,
) -> Result<String> {
    super::names::check_name("transform job", &spec.name, 63)?;
    ensure!((1..=6).contains(&spec.max_payload_mb), setting "max_payload_mb", "{} is outside 1..=6", spec.max_payload_mb);
    let source = TransformS3DataSource::builder()
        .s3_data_type(aws_sdk_sagemaker::types::S3DataType::S3Prefix)
        .s3_uri(&spec.input)
        .build();
    let input = TransformInput::builder()
        .data_source(
            TransformDataSource::builder()
                .s3_data_source(source)
                .build(),
        )
        .content_type("text/csv")
        .split_type(SplitType::Line)
        .build();
    let output = TransformOutput::builder()
        .s3_output_path(&spec.output)
        .accept("text/csv")
        .assemble_with(AssemblyType::Line)
        .build();
    let resources = TransformResources::builder()
        .instance_type(TransformInstanceType::from(spec.instance_type.as_str()))
        .instance_count(spec.instance_count)
        .build();
    let out = client
        .create_transform_job()
        .transform_job_name(&spec.name)
        .model_name(&spec.model_name)
        .batch_strategy(BatchStrategy::MultiRecord)
        .max_payload_in_mb(spec.max_payload_mb)
        .transform_input(input)
        .transform_output(output)
        .transform_resources(resources)
        .send()
        .await
        .map_err(|e| aws_error("CreateTransformJob", e))?;
    Ok(out.transform_job_arn().unwrap_or_default().to_string())
}

/// Poll DescribeTransformJob until Completed, Failed/Stopped, or `timeout`.
pub async fn wait_for_transform_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    poll: PollConfig,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<()> {
    wait(
        "transform job",
        name,
        poll,
        timeout,
        progress,
        || async move {
            let out = match client
                .describe_transform_job()
                .transform_job_name(name)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => return poll_error("DescribeTransformJob", e),
            };
            let status = out.transform_job_status().cloned();
            Ok(match status {
                Some(TransformJobStatus::Completed) => Poll::Done(()),
                Some(s @ (TransformJobStatus::Failed | TransformJobStatus::Stopped)) => {
                    Poll::failed(s.as_str(), out.failure_reason())
                }
                s => Poll::pending(s.as_ref().map(TransformJobStatus::as_str)),
            })
        },
    )
    .await
}
