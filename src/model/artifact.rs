//! Stage 6: `model.tar.gz`, laid out so that SageMaker's XGBoost container can serve it.
//!
//! ```text
//! model.tar.gz
//! ├── xgboost-model                      the booster (XGBoost JSON; loads in 1.7 and 3.x)
//! └── purchase-predict/
//!     ├── preprocessor.json              the fitted Preprocessor
//!     └── manifest.json                  features, target, hyperparameters, versions,
//!                                        training-data sha256, metrics, member checksums
//! ```
//!
//! Only `xgboost-model` sits at the top: SageMaker's XGBoost container tries to load *every*
//! top-level file of the model directory as a booster, so our extras live one folder down,
//! where it does not look. Loading checks each member against the sha256 in the manifest;
//! a truncated or corrupt archive is an [`Error::CorruptArtifact`].
//!
//! ```no_run
//! use purchase_predict::model::artifact::Artifact;
//! let a = Artifact::load("out/model.tar.gz")?;
//! println!("{} features, trained on {}", a.manifest.feature_names.len(), a.manifest.training_data.sha256);
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::model::{Hyperparameters, Model};
use crate::prep::Preprocessor;
use crate::util::files::{sha256_bytes, write_atomically};

/// The booster's member name, as SageMaker's container expects it.
pub const MODEL_MEMBER: &str = "xgboost-model";
/// The preprocessor's member name.
pub const PREPROCESSOR_MEMBER: &str = "purchase-predict/preprocessor.json";
/// The manifest's member name.
pub const MANIFEST_MEMBER: &str = "purchase-predict/manifest.json";
/// Version of the manifest layout.
pub const FORMAT_VERSION: u32 = 1;

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    pub path: String,
    pub sha256: String,
    pub rows: usize,
}

/// What is known about a trained model, stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// Model input columns, in order (the preprocessor's output).
    pub feature_names: Vec<String>,
    /// The target column's name in the training data.
    pub target: String,
    /// The id column, if one was named.
    pub id_column: Option<String>,
    /// Decision threshold for a 0/1 label.
    pub threshold: f64,
    pub hyperparameters: Hyperparameters,
    /// Boosting rounds in the saved model.
    pub rounds: usize,
    /// Library versions: purchase-predict, libxgboost, polars.
    pub libraries: BTreeMap<String, String>,
    pub training_data: TrainingData,
    /// Test-split metrics, when evaluated.
    pub metrics: Option<Metrics>,
    pub created_at: DateTime<Utc>,
    /// sha256 of every other member.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest made now with this build's library versions: no id column, threshold 0.5,
    /// no metrics yet (set those fields after). `files` is filled by [`Artifact::save`].
    pub fn new(
        feature_names: Vec<String>,
        target: &str,
        hyperparameters: Hyperparameters,
        rounds: usize,
        training_data: TrainingData,
    ) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            feature_names,
            target: target.to_string(),
            id_column: None,
            threshold: 0.5,
            hyperparameters,
            rounds,
            libraries: library_versions(),
            training_data,
            metrics: None,
            created_at: Utc::now(),
            files: BTreeMap::new(),
        }
    }
}

/// The library versions this build uses, for the manifest.
pub fn library_versions() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "purchase-predict".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            "xgboost".to_string(),
            crate::model::xgboost::version_string(),
        ),
        ("polars".to_string(), polars::VERSION.to_string()),
    ])
}

/// A model with everything needed to score raw customers.
#[derive(Debug)]
pub struct Artifact {
    pub manifest: Manifest,
    pub preprocessor: Preprocessor,
    pub model: Model,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptArtifact {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Artifact {
    /// Write `model.tar.gz` atomically. The manifest's `files` are filled in here.
    pub fn save(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let model = self.model.to_bytes()?;
        let pre = self.preprocessor.to_json()?.into_bytes();
        self.manifest.files = BTreeMap::from([
            (MODEL_MEMBER.to_string(), sha256_bytes(&model)),
            (PREPROCESSOR_MEMBER.to_string(), sha256_bytes(&pre)),
        ]);
        self.manifest.feature_names = self.preprocessor.feature_names.clone();
        self.manifest.rounds = self.model.rounds;
        let manifest = serde_json::to_vec_pretty(&self.manifest)
            .map_err(|e| Error::json("manifest.json", e))?;
        let mtime = self.manifest.created_at.timestamp().max(0) as u64;
        write_atomically(path, |w| {
            let gz = GzEncoder::new(w, flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            let mut dir = tar::Header::new_gnu();
            dir.set_entry_type(tar::EntryType::Directory);
            dir.set_mode(0o755);
            dir.set_mtime(mtime);
            dir.set_size(0);
            let io = |e| Error::io(path, e);
            tar.append_data(&mut dir, "purchase-predict/", std::io::empty())
                .map_err(io)?;
            for (name, bytes) in [
                (MODEL_MEMBER, &model),
                (PREPROCESSOR_MEMBER, &pre),
                (MANIFEST_MEMBER, &manifest),
            ] {
                let mut h = tar::Header::new_gnu();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o644);
                h.set_mtime(mtime);
                tar.append_data(&mut h, name, bytes.as_slice())
                    .map_err(io)?;
            }
            tar.into_inner().map_err(io)?.finish().map_err(io)?;
            Ok(())
        })
    }

    /// Read and verify a `model.tar.gz` written by [`Artifact::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Artifact> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let members = read_members(path, &bytes)?;
        let get = |name: &str| {
            members
                .get(name)
                .ok_or_else(|| corrupt(path, format!("member `{name}` is missing")))
        };
        let manifest: Manifest = serde_json::from_slice(get(MANIFEST_MEMBER)?)
            .map_err(|e| corrupt(path, format!("{MANIFEST_MEMBER}: {e}")))?;
        if manifest.format_version > FORMAT_VERSION {
            return Err(corrupt(
                path,
                format!(
                    "format version {} is newer than this build reads ({FORMAT_VERSION})",
                    manifest.format_version
                ),
            ));
        }
        for name in [MODEL_MEMBER, PREPROCESSOR_MEMBER] {
            let want = manifest
                .files
                .get(name)
                .ok_or_else(|| corrupt(path, format!("manifest lists no checksum for `{name}`")))?;
            let got = sha256_bytes(get(name)?);
            if &got != want {
                return Err(corrupt(
                    path,
                    format!(
                        "member `{name}` fails its checksum (sha256 {got}, manifest says {want})"
                    ),
                ));
            }
        }
        let pre_text = std::str::from_utf8(get(PREPROCESSOR_MEMBER)?)
            .map_err(|_| corrupt(path, "preprocessor.json is not UTF-8"))?;
        let preprocessor = Preprocessor::from_json(pre_text)?;
        if preprocessor.feature_names != manifest.feature_names {
            return Err(corrupt(
                path,
                "manifest and preprocessor disagree on the feature names",
            ));
        }
        let model = Model::from_bytes(get(MODEL_MEMBER)?, manifest.feature_names.clone())
            .map_err(|e| corrupt(path, format!("{MODEL_MEMBER}: {e}")))?;
        Ok(Artifact {
            manifest,
            preprocessor,
            model,
        })
    }
}

/// The `xgboost-model` member of a `model.tar.gz` as SageMaker's XGBoost container writes it
/// (the booster alone, in XGBoost's legacy binary or JSON format).
pub fn read_sagemaker_model(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut members = read_members(path, &bytes)?;
    members.remove(MODEL_MEMBER).ok_or_else(|| {
        corrupt(
            path,
            format!("member `{MODEL_MEMBER}` is missing (not a SageMaker XGBoost model)"),
        )
    })
}

impl Artifact {
    /// The one way an artifact is put together, whoever trained the model: the manifest's
    /// feature names come from the preprocessor, its rounds from the model, and the
    /// threshold (0.5), id column (none) and metrics (none) start at their defaults for the
    /// caller to set.
    pub fn new(
        model: Model,
        preprocessor: Preprocessor,
        target: &str,
        hyperparameters: Hyperparameters,
        training_data: TrainingData,
    ) -> Artifact {
        let manifest = Manifest::new(
            preprocessor.feature_names.clone(),
            target,
            hyperparameters,
            model.rounds,
            training_data,
        );
        Artifact {
            manifest,
            preprocessor,
            model,
        }
    }
    /// Wrap a booster trained elsewhere (a SageMaker training job's `model.tar.gz`) with the
    /// `preprocessor` its training data went through, so it scores raw customers locally.
    /// The manifest records `source` (the S3 URI) and the archive's sha256.
    pub fn from_sagemaker_model(
        path: impl AsRef<Path>,
        source: &str,
        preprocessor: Preprocessor,
        target: &str,
        hyperparameters: Hyperparameters,
    ) -> Result<Artifact> {
        let path = path.as_ref();
        let booster = read_sagemaker_model(path)?;
        let model = Model::from_bytes(&booster, preprocessor.feature_names.clone())
            .map_err(|e| corrupt(path, format!("{MODEL_MEMBER}: {e}")))?;
        let training_data = TrainingData {
            path: source.to_string(),
            sha256: crate::util::files::sha256_file(path)?,
            rows: 0,
        };
        Ok(Artifact::new(
            model,
            preprocessor,
            target,
            hyperparameters,
            training_data,
        ))
    }
}

/// Every regular-file member of a gzipped tar, by normalised name (no leading `./`).
fn read_members(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let mut out = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| corrupt(path, format!("not a gzipped tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(path, format!("unreadable entry: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name: PathBuf = entry
            .path()
            .map_err(|e| corrupt(path, format!("bad member name: {e}")))?
            .into_owned();
        let name = name.to_string_lossy().trim_start_matches("./").to_string();
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| corrupt(path, format!("member `{name}` is truncated: {e}")))?;
        out.insert(name, data);
    }
    // Reading to the end makes the decoder check the gzip trailer (CRC and length).
    let mut rest = Vec::new();
    archive
        .into_inner()
        .read_to_end(&mut rest)
        .map_err(|e| corrupt(path, format!("truncated or corrupt gzip stream: {e}")))?;
    if out.is_empty() {
        return Err(corrupt(path, "the archive holds no files"));
    }
    Ok(out)
}
