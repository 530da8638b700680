//! The AWS side of a session (the `sagemaker` feature): its clients and how they are made.
//! The stand-in without the feature is `no_aws.rs`.

use std::path::PathBuf;

use super::{Platform, SageMakerConfig, SageMakerSession, Session};
use crate::cloud::sagemaker::PollConfig;
use crate::cloud::storage::Storage;
use crate::error::{Error, Result};

/// The HTTP client a [`SageMakerConfig`] may carry (tests: a replay client).
pub(super) type HttpClient = aws_sdk_sagemaker::config::SharedHttpClient;

/// The AWS clients of a SageMaker session.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub s3: aws_sdk_s3::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub runtime: aws_sdk_sagemakerruntime::Client,
}

impl SageMakerConfig {
    /// Send requests through `client` (tests: a recorded-request replay client).
    pub fn http_client(
        mut self,
        client: impl aws_sdk_sagemaker::config::HttpClient + 'static,
    ) -> Self {
        self.http_client = Some(aws_sdk_sagemaker::config::SharedHttpClient::new(client));
        self
    }
}

/// Load aws-config's default chain with `config`'s overrides (checked by the caller) and
/// make the S3, SageMaker and runtime clients.
pub(super) async fn connect(config: &SageMakerConfig) -> Result<Session> {
    use aws_config::retry::RetryConfig;
    use aws_config::{BehaviorVersion, Region};

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts));
    loader = match config.http_client.clone() {
        Some(client) => loader.http_client(client),
        None => loader.http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        ),
    };
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((key, secret)) = &config.static_credentials {
        loader = loader.credentials_provider(aws_credential_types::Credentials::from_keys(
            key.clone(),
            secret.clone(),
            None,
        ));
    }
    let sdk = loader.load().await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| Error::InvalidSetting {
            name: "region".into(),
            reason: "no AWS region: set AWS_REGION or a profile's region".into(),
        })?;
    let s3_config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(config.force_path_style)
        .build();
    let clients = AwsClients {
        s3: aws_sdk_s3::Client::from_conf(s3_config),
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
        runtime: aws_sdk_sagemakerruntime::Client::new(&sdk),
    };
    Ok(Session {
        root: PathBuf::from("work"),
        storage: Storage::s3(clients.s3.clone()),
        platform: Platform::SageMaker(Box::new(SageMakerSession {
            region,
            role_arn: config.role_arn.clone().unwrap_or_default(),
            bucket: config.bucket.clone().unwrap_or_default(),
            prefix: config.prefix.trim_matches('/').to_string(),
            endpoint_url: config.endpoint_url.clone(),
            clients,
        })),
        poll: PollConfig::default(),
    })
}
