//! CreateModel, CreateEndpointConfig, CreateEndpoint, their waiter and deletes, and the
//! InvokeEndpoint [`Transport`] for a [`crate::serve::predictor::Predictor`].

use std::time::Duration;

use aws_sdk_sagemaker::types::{
    ContainerDefinition, EndpointStatus, ProductionVariant, ProductionVariantInstanceType,
};
use aws_smithy_types::Blob;

use super::aws_error;
use super::waiter::{poll_error, wait, Poll};
use super::PollConfig;
use crate::error::{Error, Result};
use crate::serve::predictor::Transport;
use crate::util::progress::Progress;

/// CreateModel: the XGBoost image serving `model_data` (`s3://.../model.tar.gz`).
pub async fn create_model(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    image_uri: &str,
    model_data: &str,
    role_arn: &str,
) -> Result<()> {
    super::names::check_name("model", name, 63)?;
    client
        .create_model()
        .model_name(name)
        .execution_role_arn(role_arn)
        .primary_container(
            ContainerDefinition::builder()
                .image(image_uri)
                .model_data_url(model_data)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("CreateModel", e))?;
    Ok(())
}

/// CreateEndpointConfig with one variant `AllTraffic` of `model`.
pub async fn create_endpoint_config(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    model: &str,
    instance_count: i32,
    instance_type: &str,
    capture: Option<(&str, u8)>,
) -> Result<()> {
    let variant = ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name(model)
        .initial_instance_count(instance_count)
        .instance_type(ProductionVariantInstanceType::from(instance_type))
        .initial_variant_weight(1.0)
        .build();
    let mut request = client
        .create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(variant);
    if let Some((destination, percentage)) = capture {
        use aws_sdk_sagemaker::types::{
            CaptureContentTypeHeader, CaptureMode, CaptureOption, DataCaptureConfig,
        };
        let option = |mode| CaptureOption::builder().capture_mode(mode).build();
        request = request.data_capture_config(
            DataCaptureConfig::builder()
                .enable_capture(true)
                .initial_sampling_percentage(i32::from(percentage))
                .destination_s3_uri(destination)
                .capture_options(option(CaptureMode::Input))
                .capture_options(option(CaptureMode::Output))
                .capture_content_type_header(
                    CaptureContentTypeHeader::builder()
                        .csv_content_types("text/csv")
                        .json_content_types("application/json")
                        .build(),
                )
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(|e| aws_error("CreateEndpointConfig", e))?;
    Ok(())
}

/// CreateEndpoint from an endpoint config.
pub async fn create_endpoint(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    config: &str,
) -> Result<()> {
    client
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(config)
        .send()
        .await
        .map_err(|e| aws_error("CreateEndpoint", e))?;
    Ok(())
}

/// Poll DescribeEndpoint until InService, Failed (with the FailureReason), or `timeout`.
pub async fn wait_for_endpoint(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    poll: PollConfig,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<()> {
    wait("endpoint", name, poll, timeout, progress, || async move {
        let out = match client.describe_endpoint().endpoint_name(name).send().await {
            Ok(out) => out,
            Err(e) => return poll_error("DescribeEndpoint", e),
        };
        let status = out.endpoint_status().cloned();
        Ok(match status {
            Some(EndpointStatus::InService) => Poll::Done(()),
            Some(s @ (EndpointStatus::Failed | EndpointStatus::OutOfService)) => {
                Poll::failed(s.as_str(), out.failure_reason())
            }
            s => Poll::pending(s.as_ref().map(EndpointStatus::as_str)),
        })
    })
    .await
}

/// Whether an error says the resource does not exist (already deleted).
fn is_missing(e: &Error) -> bool {
    let text = e.to_string();
    text.contains("Could not find") || text.contains("does not exist") || text.contains("NotFound")
}

/// Delete the endpoint, its config and its model; each one that is already gone is skipped.
/// Returns what was deleted, as `kind name` lines.
pub async fn delete_endpoint_resources(
    client: &aws_sdk_sagemaker::Client,
    endpoint: Option<&str>,
    config: Option<&str>,
    model: Option<&str>,
) -> Result<Vec<String>> {
    // Every delete is tried, whatever happened to the ones before it.
    let mut outcomes: Vec<(String, Result<()>)> = Vec::new();
    if let Some(name) = endpoint {
        let r = client.delete_endpoint().endpoint_name(name).send().await;
        outcomes.push((
            format!("endpoint {name}"),
            r.map(|_| ()).map_err(|e| aws_error("DeleteEndpoint", e)),
        ));
    }
    if let Some(name) = config {
        let r = client
            .delete_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await;
        outcomes.push((
            format!("endpoint config {name}"),
            r.map(|_| ())
                .map_err(|e| aws_error("DeleteEndpointConfig", e)),
        ));
    }
    if let Some(name) = model {
        let r = client.delete_model().model_name(name).send().await;
        outcomes.push((
            format!("model {name}"),
            r.map(|_| ()).map_err(|e| aws_error("DeleteModel", e)),
        ));
    }
    let mut deleted = Vec::new();
    for (what, outcome) in outcomes {
        match outcome {
            Ok(()) => deleted.push(what),
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// Names of the endpoints, endpoint configs and models that exist (for "nothing is left
/// running" checks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostingInventory {
    pub endpoints: Vec<String>,
    pub endpoint_configs: Vec<String>,
    pub models: Vec<String>,
}

/// ListEndpoints, ListEndpointConfigs and ListModels, names containing `name_contains`.
pub async fn list_hosting(
    client: &aws_sdk_sagemaker::Client,
    name_contains: &str,
) -> Result<HostingInventory> {
    let endpoints = client
        .list_endpoints()
        .name_contains(name_contains)
        .max_results(100)
        .send()
        .await
        .map_err(|e| aws_error("ListEndpoints", e))?;
    let configs = client
        .list_endpoint_configs()
        .name_contains(name_contains)
        .max_results(100)
        .send()
        .await
        .map_err(|e| aws_error("ListEndpointConfigs", e))?;
    let models = client
        .list_models()
        .name_contains(name_contains)
        .max_results(100)
        .send()
        .await
        .map_err(|e| aws_error("ListModels", e))?;
    Ok(HostingInventory {
        endpoints: endpoints
            .endpoints()
            .iter()
            .filter_map(|e| e.endpoint_name().map(str::to_string))
            .collect(),
        endpoint_configs: configs
            .endpoint_configs()
            .iter()
            .filter_map(|e| e.endpoint_config_name().map(str::to_string))
            .collect(),
        models: models
            .models()
            .iter()
            .filter_map(|m| m.model_name().map(str::to_string))
            .collect(),
    })
}

/// InvokeEndpoint through aws-sdk-sagemakerruntime, as a [`Transport`]: the same
/// serializers and 6 MB chunking as the local endpoint.
///
/// [`Transport::invoke`] is synchronous; each call runs the request on the process runtime
/// from a thread of its own, so it works from plain code and from inside a runtime alike.
#[derive(Clone)]
pub struct RuntimeTransport {
    client: aws_sdk_sagemakerruntime::Client,
    endpoint: String,
}

impl std::fmt::Debug for RuntimeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeTransport")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl RuntimeTransport {
    pub fn new(
        client: aws_sdk_sagemakerruntime::Client,
        endpoint: impl Into<String>,
    ) -> Result<Self> {
        Ok(RuntimeTransport {
            client,
            endpoint: endpoint.into(),
        })
    }

    /// The endpoint's name.
    pub fn endpoint_name(&self) -> &str {
        &self.endpoint
    }
}

impl Transport for RuntimeTransport {
    fn invoke(
        &self,
        body: &[u8],
        content_type: &str,
        accept: &str,
        options: crate::serve::predictor::Invoke<'_>,
    ) -> Result<Vec<u8>> {
        let request = self
            .client
            .invoke_endpoint()
            .endpoint_name(&self.endpoint)
            .content_type(content_type)
            .accept(accept)
            .set_custom_attributes(options.custom_attributes.map(str::to_string))
            .set_inference_id(options.inference_id.map(str::to_string))
            .body(Blob::new(body.to_vec()));
        self.answer(crate::util::runtime::block_on_anywhere(request.send()))
    }

    fn describe(&self) -> String {
        format!("SageMaker endpoint {}", self.endpoint)
    }
}

impl RuntimeTransport {
    fn answer(
        &self,
        result: std::result::Result<
            aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput,
            aws_sdk_sagemakerruntime::error::SdkError<
                aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError,
                aws_sdk_sagemakerruntime::config::http::HttpResponse,
            >,
        >,
    ) -> Result<Vec<u8>> {
        match result {
            Ok(out) => Ok(out.body().map(|b| b.as_ref().to_vec()).unwrap_or_default()),
            Err(e) => {
                use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
                let (status, message) = match e.as_service_error() {
                    Some(InvokeEndpointError::ModelError(m)) => (
                        m.original_status_code().map(|c| c as u16),
                        format!(
                            "the model answered: {}",
                            m.original_message()
                                .or(m.message())
                                .unwrap_or("(no message)")
                        ),
                    ),
                    Some(other) => (
                        e.raw_response().map(|r| r.status().as_u16()),
                        other.to_string(),
                    ),
                    None => (
                        None,
                        aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                    ),
                };
                Err(Error::Endpoint {
                    endpoint: self.endpoint.clone(),
                    status,
                    message,
                })
            }
        }
    }
}
