//! Where the work runs — on this machine ([`Session::local`], the default) or on
//! Amazon SageMaker ([`Session::sagemaker`]).
//!
//! One setting switches a notebook or program between the two: the environment variable
//! `PURCHASE_PREDICT_BACKEND` (`local` or `sagemaker`), read by [`Session::from_env`].
//! Everything downstream ([`crate::cloud::estimator::Estimator`],
//! [`crate::cloud::estimator::HyperparameterTuner`], [`crate::cloud::endpoint::Endpoint`]) takes a session
//! and does the same thing on either backend.
//!
//! ```no_run
//! use purchase_predict::cloud::session::Session;
//! # async fn demo() -> purchase_predict::Result<()> {
//! // PURCHASE_PREDICT_BACKEND=sagemaker PURCHASE_PREDICT_ROLE=arn:aws:iam::...:role/...
//! // PURCHASE_PREDICT_BUCKET=my-bucket AWS_REGION=eu-west-1 switch this to SageMaker.
//! let session = Session::from_env().await?;
//! println!("{session}");
//! # Ok(()) }
//! ```
//!
//! Credentials come from aws-config's default chain (environment, profile, SSO, container
//! and instance roles) unless given explicitly; they are never printed (`Debug` and
//! `Display` show the region, role, bucket and endpoint only) nor written to an artifact.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use crate::cloud::sagemaker::PollConfig;
use crate::cloud::storage::{Location, Storage};
use crate::error::{ensure, Check, Error, Result};

// The one switch of the session: the AWS SDK's clients, or a stand-in whose clients cannot
// exist and whose `connect` says the feature is missing.
#[cfg(feature = "sagemaker")]
mod aws;
#[cfg(not(feature = "sagemaker"))]
#[path = "no_aws.rs"]
mod aws;
pub use aws::AwsClients;

/// The variable that picks the backend: `local` (default) or `sagemaker`.
pub const BACKEND_ENV: &str = "PURCHASE_PREDICT_BACKEND";
/// The local working folder (default `work`).
pub const WORKDIR_ENV: &str = "PURCHASE_PREDICT_WORKDIR";
/// The IAM role SageMaker jobs and endpoints run as.
pub const ROLE_ENV: &str = "PURCHASE_PREDICT_ROLE";
/// The S3 bucket for data and models.
pub const BUCKET_ENV: &str = "PURCHASE_PREDICT_BUCKET";
/// The key prefix inside the bucket (default `purchase-predict`).
pub const PREFIX_ENV: &str = "PURCHASE_PREDICT_PREFIX";
/// An endpoint URL for every AWS service (an emulator, a VPC endpoint).
pub const ENDPOINT_URL_ENV: &str = "PURCHASE_PREDICT_ENDPOINT_URL";

/// Where jobs run and endpoints live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Backend {
    /// In this process: libxgboost training, a local HTTP endpoint, files in a folder.
    Local,
    /// Amazon SageMaker training/tuning jobs and endpoints, data in S3.
    SageMaker,
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Backend> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "local" => Ok(Backend::Local),
            "sagemaker" => Ok(Backend::SageMaker),
            other => Err(Error::InvalidSetting {
                name: BACKEND_ENV.into(),
                reason: format!("`{other}` is neither `local` nor `sagemaker`"),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Local => "local",
            Backend::SageMaker => "sagemaker",
        })
    }
}

/// Settings of a SageMaker session. Build with [`SageMakerConfig::new`] and the setters;
/// [`SageMakerConfig::check`] validates them (also called by [`Session::sagemaker`]).
#[derive(Clone, Default)]
pub struct SageMakerConfig {
    /// AWS region; `None` takes the default chain's (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// IAM role ARN that jobs and endpoints run as (required).
    pub role_arn: Option<String>,
    /// S3 bucket for data and models (required).
    pub bucket: Option<String>,
    /// Key prefix inside the bucket.
    pub prefix: String,
    /// One endpoint URL for S3, SageMaker and the runtime (emulators, VPC endpoints).
    pub endpoint_url: Option<String>,
    /// A named profile of `~/.aws/config`.
    pub profile: Option<String>,
    /// Explicit static credentials (access key id, secret); `None` uses the default chain.
    pub static_credentials: Option<(String, String)>,
    /// Attempts per AWS call, the first included (1 disables retries; default 5).
    pub max_attempts: u32,
    /// Path-style S3 addressing (emulators need it).
    pub force_path_style: bool,
    http_client: Option<aws::HttpClient>,
}

impl fmt::Debug for SageMakerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SageMakerConfig")
            .field("region", &self.region)
            .field("role_arn", &self.role_arn)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint_url", &self.endpoint_url)
            .field("profile", &self.profile)
            .field(
                "static_credentials",
                &self.static_credentials.as_ref().map(|_| "** redacted **"),
            )
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl SageMakerConfig {
    /// A config with `role_arn` and `bucket`, prefix `purchase-predict`, 5 attempts per call.
    pub fn new(role_arn: impl Into<String>, bucket: impl Into<String>) -> Self {
        SageMakerConfig {
            role_arn: Some(role_arn.into()),
            bucket: Some(bucket.into()),
            prefix: "purchase-predict".into(),
            max_attempts: 5,
            ..SageMakerConfig::default()
        }
    }

    /// From the environment: [`ROLE_ENV`], [`BUCKET_ENV`], [`PREFIX_ENV`],
    /// [`ENDPOINT_URL_ENV`]; the region and credentials from aws-config's chain.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let endpoint_url = var(ENDPOINT_URL_ENV);
        SageMakerConfig {
            role_arn: var(ROLE_ENV),
            bucket: var(BUCKET_ENV),
            prefix: var(PREFIX_ENV).unwrap_or_else(|| "purchase-predict".into()),
            force_path_style: endpoint_url.is_some(),
            endpoint_url,
            max_attempts: 5,
            ..SageMakerConfig::default()
        }
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Send every call to `url` (and address S3 by path, as emulators need).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self.force_path_style = true;
        self
    }

    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Use these credentials instead of the default chain.
    pub fn static_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.static_credentials = Some((access_key_id.into(), secret_access_key.into()));
        self
    }

    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }
}

impl Check for SageMakerConfig {
    /// Validate: a role ARN of the form `arn:aws[-cn|-us-gov]:iam::ACCOUNT:role/NAME`, a
    /// valid bucket name, at least one attempt.
    fn check_ref(&self) -> Result<()> {
        let role = self.role_arn.as_deref().ok_or_else(|| Error::InvalidSetting {
            name: "role_arn".into(),
            reason: format!(
                "SageMaker needs an IAM role for its jobs and endpoints: set {ROLE_ENV} (arn:aws:iam::ACCOUNT:role/NAME)"
            ),
        })?;
        check_role_arn(role)?;
        let bucket = self
            .bucket
            .as_deref()
            .ok_or_else(|| Error::InvalidSetting {
                name: "bucket".into(),
                reason: format!("SageMaker reads data from S3: set {BUCKET_ENV}"),
            })?;
        crate::cloud::storage::check_bucket_name(bucket)?;
        ensure!(self.max_attempts != 0, setting "max_attempts", "must be ≥ 1");
        if let Some(url) = &self.endpoint_url {
            ensure!(url.starts_with("http://") || url.starts_with("https://"), setting "endpoint_url", "`{url}` is not an http(s) URL");
        }
        Ok(())
    }
}

/// Check the shape of an IAM role ARN.
pub fn check_role_arn(role: &str) -> Result<()> {
    let parts: Vec<&str> = role.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > 5;
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            name: "role_arn".into(),
            reason: format!(
                "`{role}` is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
            ),
        })
    }
}

/// The SageMaker side of a [`Session`].
#[derive(Clone)]
pub struct SageMakerSession {
    pub region: String,
    pub role_arn: String,
    pub bucket: String,
    pub prefix: String,
    pub endpoint_url: Option<String>,
    pub clients: AwsClients,
}

impl SageMakerSession {
    /// `image` when given, else the built-in XGBoost 1.7-1 image of this session's region.
    pub fn image_or_xgboost(&self, image: Option<&str>) -> Result<String> {
        match image {
            Some(i) => Ok(i.to_string()),
            None => crate::cloud::sagemaker::image_uri(
                "xgboost",
                &self.region,
                crate::model::train::SAGEMAKER_XGBOOST_VERSION,
            ),
        }
    }
}

impl fmt::Debug for SageMakerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SageMakerSession")
            .field("region", &self.region)
            .field("role_arn", &self.role_arn)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

/// Where a session's work runs: the backend seam. Its operations (train, tune, deploy, ...)
/// are in `cloud::backend`, one `match` each.
#[derive(Clone, Debug)]
pub(crate) enum Platform {
    /// In this process: libxgboost, the local endpoint, the local file system.
    Local,
    /// Amazon SageMaker, through the session's AWS clients.
    #[cfg(feature = "sagemaker")]
    SageMaker(Box<SageMakerSession>),
}

impl Platform {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Platform::Local => Backend::Local,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(_) => Backend::SageMaker,
        }
    }
}

/// Where jobs run, where data lives, and how long to wait for things.
#[derive(Clone, Debug)]
pub struct Session {
    root: PathBuf,
    storage: Storage,
    platform: Platform,
    poll: PollConfig,
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sagemaker_session() {
            None => write!(f, "local session in {}", self.root.display()),
            Some(s) => {
                write!(
                    f,
                    "SageMaker session: region {}, role {}, s3://{}/{}",
                    s.region, s.role_arn, s.bucket, s.prefix
                )?;
                if let Some(url) = &s.endpoint_url {
                    write!(f, ", endpoint {url}")?;
                }
                Ok(())
            }
        }
    }
}

impl Session {
    /// Work on this machine, keeping data, models and outputs under `root`.
    pub fn local(root: impl Into<PathBuf>) -> Session {
        Session {
            root: root.into(),
            storage: Storage::local(),
            platform: Platform::Local,
            poll: PollConfig::default(),
        }
    }

    /// From the environment: [`BACKEND_ENV`] picks the backend; local mode works under
    /// [`WORKDIR_ENV`] (default `work`), SageMaker mode reads [`SageMakerConfig::from_env`].
    pub async fn from_env() -> Result<Session> {
        let backend: Backend = std::env::var(BACKEND_ENV).unwrap_or_default().parse()?;
        let root = std::env::var(WORKDIR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "work".into());
        match backend {
            Backend::Local => Ok(Session::local(root)),
            Backend::SageMaker => {
                let mut s = Session::sagemaker(SageMakerConfig::from_env()).await?;
                s.root = root.into();
                Ok(s)
            }
        }
    }

    /// A SageMaker session: checks `config`, loads aws-config's default chain with its
    /// overrides, and makes the S3, SageMaker and runtime clients. Without the `sagemaker`
    /// feature, an error saying so.
    pub async fn sagemaker(config: SageMakerConfig) -> Result<Session> {
        config.check_ref()?;
        aws::connect(&config).await
    }

    /// Which backend this session uses.
    pub fn backend(&self) -> Backend {
        self.platform.backend()
    }

    /// Where the work runs: the backend seam every job and endpoint goes through.
    pub(crate) fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The local working folder (also used by SageMaker sessions for downloads).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Set the local working folder.
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Session {
        self.root = root.into();
        self
    }

    /// How waiters poll (tests shorten the intervals).
    pub fn with_poll(mut self, poll: PollConfig) -> Session {
        self.poll = poll;
        self
    }

    pub fn poll(&self) -> PollConfig {
        self.poll
    }

    /// The storage of this session (S3-capable for SageMaker sessions).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The SageMaker side, if this is a SageMaker session.
    pub fn sagemaker_session(&self) -> Option<&SageMakerSession> {
        match &self.platform {
            Platform::Local => None,
            #[cfg(feature = "sagemaker")]
            Platform::SageMaker(sm) => Some(sm.as_ref()),
        }
    }

    /// The region jobs run in (`local` for a local session).
    pub fn region(&self) -> &str {
        self.sagemaker_session()
            .map_or("local", |s| s.region.as_str())
    }

    /// Where this session keeps things: `root` locally, `s3://bucket/prefix` on SageMaker.
    pub fn base_location(&self) -> Location {
        match self.sagemaker_session() {
            None => Location::Local(self.root.clone()),
            Some(s) => Location::S3 {
                bucket: s.bucket.clone(),
                key: s.prefix.clone(),
            },
        }
    }

    /// Where training jobs write their models by default: `<base>/output`.
    pub fn default_output(&self) -> Location {
        self.base_location().join("output")
    }

    /// Put a local file under `<base>/<key_prefix>/` (S3 upload or a local copy) and return
    /// its folder — the channel URI to train on, as the SageMaker SDK's `upload_data`.
    pub async fn upload_data(&self, path: impl AsRef<Path>, key_prefix: &str) -> Result<Location> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| Error::InvalidSetting {
                name: "path".into(),
                reason: format!("{} has no file name", path.display()),
            })?
            .to_string_lossy()
            .into_owned();
        let folder = self.base_location().join(key_prefix);
        self.storage.upload_file(path, &folder.join(&name)).await?;
        Ok(folder)
    }

    /// Put a local table under `<base>/<key_prefix>/` as `shards` objects (`part-00000.csv`,
    /// …; [`crate::data::shard::shard_table`]: each row in one of them by a stable hash of
    /// its position) and return the folder: the channel of a job on `shards` instances with
    /// `ShardedByS3Key` input, which hands each instance whole objects. `header`: the file's
    /// first line is a header (a raw customer table, for our image); SageMaker CSV for the
    /// built-in XGBoost has none.
    pub async fn upload_shards(
        &self,
        path: impl AsRef<Path>,
        key_prefix: &str,
        shards: usize,
        header: bool,
    ) -> Result<Location> {
        let path = path.as_ref();
        let scratch = self
            .root
            .join("shards")
            .join(crate::cloud::sagemaker::unique_name("upload", 63));
        let files = crate::data::shard::shard_table(path, &scratch, shards, header)?;
        let folder = self.base_location().join(key_prefix);
        let mut uploaded = Ok(());
        for f in &files {
            let name = f.file_name().expect("a shard's name").to_string_lossy();
            uploaded = self
                .storage
                .upload_file(f, &folder.join(&name))
                .await
                .map(|_| ());
            if uploaded.is_err() {
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&scratch);
        uploaded.map(|()| folder)
    }

    /// `location` as a local file: a local path as it is, an S3 object downloaded under
    /// `<root>/<folder>/` (named after its whole URI, so that two objects never collide).
    pub async fn local_copy(&self, location: &Location, folder: &str) -> Result<PathBuf> {
        match location {
            Location::Local(p) => Ok(p.clone()),
            Location::S3 { .. } => {
                let name = location
                    .to_string()
                    .trim_start_matches("s3://")
                    .replace('/', "_");
                let dest = self.root.join(folder).join(name);
                self.storage.download_file(location, &dest).await?;
                Ok(dest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_parses_and_rejects() {
        assert_eq!("local".parse::<Backend>().unwrap(), Backend::Local);
        assert_eq!("".parse::<Backend>().unwrap(), Backend::Local);
        assert_eq!("SageMaker".parse::<Backend>().unwrap(), Backend::SageMaker);
        let e = "aws".parse::<Backend>().unwrap_err().to_string();
        assert!(
            e.contains("PURCHASE_PREDICT_BACKEND") && e.contains("aws"),
            "{e}"
        );
    }

    #[test]
    fn config_check_names_the_problem() {
        let ok = SageMakerConfig::new("arn:aws:iam::123456789012:role/SageMakerRole", "my-bucket");
        ok.check_ref().unwrap();
        let e = SageMakerConfig::new("my-role", "my-bucket")
            .check_ref()
            .unwrap_err();
        assert!(e.to_string().contains("my-role"), "{e}");
        let e = SageMakerConfig::new("arn:aws:iam::123456789012:role/R", "My_Bucket")
            .check_ref()
            .unwrap_err();
        assert!(e.to_string().contains("My_Bucket"), "{e}");
        let e = SageMakerConfig::default().check_ref().unwrap_err();
        assert!(e.to_string().contains(ROLE_ENV), "{e}");
    }

    #[test]
    fn debug_never_shows_credentials() {
        let c = SageMakerConfig::new("arn:aws:iam::123456789012:role/R", "my-bucket")
            .static_credentials("AKIDEXAMPLE", "very-secret-key");
        let text = format!("{c:?}");
        assert!(
            !text.contains("very-secret-key") && !text.contains("AKIDEXAMPLE"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn local_upload_data_gives_the_channel_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("train.csv");
        std::fs::write(&file, "1,0.5\n").unwrap();
        let session = Session::local(dir.path().join("work"));
        assert_eq!(session.backend(), Backend::Local);
        let channel = session.upload_data(&file, "data/train").await.unwrap();
        assert_eq!(channel, Location::Local(dir.path().join("work/data/train")));
        assert!(dir.path().join("work/data/train/train.csv").exists());
    }
}
