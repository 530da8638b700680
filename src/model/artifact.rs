//! `model.tar.gz`, laid out so that SageMaker's XGBoost container can serve it.
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
//! a truncated or corrupt archive is an [`Error::CorruptArtifact`]. The checksums catch
//! damage, not tampering: whoever rewrites a member can rewrite the manifest too.
//!
//! Archives are read with bounds: only the three members above are kept, each under its cap
//! ([`MAX_MODEL_MEMBER_BYTES`], [`MAX_PREPROCESSOR_MEMBER_BYTES`], [`MAX_MANIFEST_MEMBER_BYTES`])
//! checked before it is read; other members are skipped without being kept; no allocation
//! follows a size a header claims; the stream stops at [`MAX_ARCHIVE_BYTES`].
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
    pub threshold: crate::metrics::Threshold,
    /// How the threshold was chosen (absent in models from before the rule was recorded:
    /// a fixed threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_rule: Option<ThresholdRecord>,
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
    /// The logistic-regression baseline fitted beside the model, so that `evaluate` can
    /// compare the two on new data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::model::baseline::Baseline>,
    /// When tuning chose this model's hyperparameters: the decision between the defaults and
    /// the best trial, and why (absent for a model trained with given hyperparameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<crate::model::tune::Decision>,
}

/// The rule that chose a model's threshold, and on which rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRecord {
    pub rule: crate::metrics::ThresholdRule,
    /// `validation` or `test`.
    pub chosen_on: String,
    /// The costs, for the profit rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costs: Option<crate::metrics::Costs>,
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
            threshold: crate::metrics::Threshold::DEFAULT,
            threshold_rule: None,
            hyperparameters,
            rounds,
            libraries: library_versions(),
            training_data,
            metrics: None,
            created_at: Utc::now(),
            files: BTreeMap::new(),
            baseline: None,
            tuning: None,
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
    /// The three members' bytes, in the order they are written (the manifest last). The
    /// manifest's `files`, feature names and rounds are filled in here.
    fn members(&mut self) -> Result<[(&'static str, Vec<u8>); 3]> {
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
        Ok([
            (MODEL_MEMBER, model),
            (PREPROCESSOR_MEMBER, pre),
            (MANIFEST_MEMBER, manifest),
        ])
    }

    /// Write the members as files in `dir` instead of an archive: what a SageMaker training
    /// container leaves in `/opt/ml/model` (SageMaker packs that folder into `model.tar.gz`
    /// itself), and what a hosting container finds there, unpacked. Each file is written
    /// atomically, the manifest last, so a folder cut short fails to load.
    pub fn save_dir(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        for (name, bytes) in self.members()? {
            write_member(dir, name, &bytes)?;
        }
        Ok(())
    }

    /// Write `model.tar.gz` atomically. The manifest's `files` are filled in here.
    pub fn save(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let [(_, model), (_, pre), (_, manifest)] = self.members()?;
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

    /// Read and verify a `model.tar.gz` written by [`Artifact::save`], or a folder of its
    /// members ([`Artifact::save_dir`]; SageMaker unpacks `model.tar.gz` into `/opt/ml/model`).
    pub fn load(path: impl AsRef<Path>) -> Result<Artifact> {
        let path = path.as_ref();
        let wanted = [MODEL_MEMBER, PREPROCESSOR_MEMBER, MANIFEST_MEMBER];
        // Opening a FIFO would wait for a writer forever; a device could be endless.
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(corrupt(path, NOT_A_FILE));
        }
        let members = if meta.is_dir() {
            read_dir_members(path, &wanted)?
        } else {
            read_members(path, &wanted)?
        };
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

/// Unpack the members of a `model.tar.gz` written by [`Artifact::save`] into `dir`, byte for
/// byte, as SageMaker unpacks it into `/opt/ml/model` (and as a training container leaves
/// it there). Each file is written atomically, the manifest last; the folder then loads with
/// [`Artifact::load`].
pub fn unpack(archive: impl AsRef<Path>, dir: impl AsRef<Path>) -> Result<()> {
    let (archive, dir) = (archive.as_ref(), dir.as_ref());
    let members = read_members(
        archive,
        &[MODEL_MEMBER, PREPROCESSOR_MEMBER, MANIFEST_MEMBER],
    )?;
    for name in [MODEL_MEMBER, PREPROCESSOR_MEMBER, MANIFEST_MEMBER] {
        let bytes = members
            .get(name)
            .ok_or_else(|| corrupt(archive, format!("member `{name}` is missing")))?;
        write_member(dir, name, bytes)?;
    }
    Ok(())
}

/// Pack the files under `dir` into a gzipped tar at `archive` (written atomically), names
/// relative to `dir`: what SageMaker does with a training container's `/opt/ml/model`
/// (`model.tar.gz`) and `/opt/ml/output/data` (`output.tar.gz`).
pub fn pack(dir: impl AsRef<Path>, archive: impl AsRef<Path>) -> Result<()> {
    let (dir, archive) = (dir.as_ref(), archive.as_ref());
    if let Some(parent) = archive.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    write_atomically(archive, |w| {
        let io = |e| Error::io(dir, e);
        let gz = GzEncoder::new(w, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        tar.append_dir_all(".", dir).map_err(io)?;
        tar.into_inner().map_err(io)?.finish().map_err(io)?;
        Ok(())
    })
}

/// One member as a file under `dir`, written atomically.
fn write_member(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    write_atomically(&path, |w| {
        std::io::Write::write_all(w, bytes).map_err(|e| Error::io(&path, e))
    })
}

/// The `xgboost-model` member of a `model.tar.gz` as SageMaker's XGBoost container writes it
/// (the booster alone, in XGBoost's legacy binary or JSON format).
pub fn read_sagemaker_model(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let mut members = read_members(path, &[MODEL_MEMBER])?;
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

/// The largest `xgboost-model` member an archive may hold (1 GiB: a booster of 100 rounds of
/// depth 5 is under 1 MB; one of 10,000 deep trees a few hundred MB).
pub const MAX_MODEL_MEMBER_BYTES: u64 = 1 << 30;
/// The largest `purchase-predict/preprocessor.json` (64 MiB: ours are a few KB, plus the
/// category names of the data).
pub const MAX_PREPROCESSOR_MEMBER_BYTES: u64 = 64 << 20;
/// The largest `purchase-predict/manifest.json` (16 MiB: ours are a few KB).
pub const MAX_MANIFEST_MEMBER_BYTES: u64 = 16 << 20;
/// The most bytes the archive may decompress to, members skipped included (2 GiB): past it
/// the archive is refused rather than read to its end.
pub const MAX_ARCHIVE_BYTES: u64 = 2 << 30;

/// Why a FIFO, device or socket is not read as a model or one of its members.
const NOT_A_FILE: &str =
    "not a regular file (a FIFO, device or socket): a model is a model.tar.gz or a folder of its files";

/// The members the format defines and the most bytes each may hold.
const MEMBER_CAPS: [(&str, u64); 3] = [
    (MODEL_MEMBER, MAX_MODEL_MEMBER_BYTES),
    (PREPROCESSOR_MEMBER, MAX_PREPROCESSOR_MEMBER_BYTES),
    (MANIFEST_MEMBER, MAX_MANIFEST_MEMBER_BYTES),
];

/// Counts the bytes the decoder hands to the tar reader, and stops them at a cap.
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read >= self.cap {
            return Err(std::io::Error::other(format!(
                "the archive decompresses to more than {} bytes, the most an artifact may hold",
                self.cap
            )));
        }
        let room = (self.cap - self.read).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The members the format defines, as files under `dir`, each under its cap (checked
/// before it is read, and again while reading, in case the file grows).
fn read_dir_members(dir: &Path, wanted: &[&str]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for &(name, cap) in MEMBER_CAPS.iter().filter(|(n, _)| wanted.contains(n)) {
        let path = dir.join(name);
        match std::fs::metadata(&path) {
            Ok(m) if !m.is_file() => return Err(corrupt(&path, NOT_A_FILE)),
            _ => {}
        }
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let size = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        if size > cap {
            return Err(corrupt(
                dir,
                format!("member `{name}` holds {size} bytes; the most it may hold is {cap}"),
            ));
        }
        let mut data = Vec::new();
        file.take(cap + 1)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(&path, e))?;
        if data.len() as u64 > cap {
            return Err(corrupt(
                dir,
                format!("member `{name}` grew past {cap} bytes while being read"),
            ));
        }
        out.insert(name.to_string(), data);
    }
    Ok(out)
}

/// The members of a gzipped tar that the format defines ([`MODEL_MEMBER`],
/// [`PREPROCESSOR_MEMBER`], [`MANIFEST_MEMBER`]; `wanted` picks among them), by normalised
/// name (no leading `./`). Bounded: a member over its cap is refused before it is read, other
/// members are skipped without being kept, nothing is allocated by a size a header claims,
/// and the whole stream stops at [`MAX_ARCHIVE_BYTES`].
fn read_members(path: &Path, wanted: &[&str]) -> Result<BTreeMap<String, Vec<u8>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let decoder = GzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
    let mut archive = tar::Archive::new(Capped {
        inner: decoder,
        read: 0,
        cap: MAX_ARCHIVE_BYTES,
    });
    let mut out = BTreeMap::new();
    let mut files = 0usize;
    let entries = archive
        .entries()
        .map_err(|e| corrupt(path, format!("not a gzipped tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(path, format!("unreadable entry: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        files += 1;
        let name: PathBuf = entry
            .path()
            .map_err(|e| corrupt(path, format!("bad member name: {e}")))?
            .into_owned();
        let name = name.to_string_lossy().trim_start_matches("./").to_string();
        let Some(&(_, cap)) = MEMBER_CAPS
            .iter()
            .find(|(n, _)| *n == name && wanted.contains(n))
        else {
            // Not ours (or not asked for): the tar reader skips its bytes without keeping them.
            continue;
        };
        // Refused before its bytes are read: two copies would hold twice the member's cap.
        if out.contains_key(&name) {
            return Err(corrupt(
                path,
                format!("member `{name}` appears twice (as `./{name}` or `{name}`); an artifact holds each member once"),
            ));
        }
        let claimed = entry.size();
        if claimed > cap {
            return Err(corrupt(
                path,
                format!("member `{name}` claims {claimed} bytes; the most it may hold is {cap}"),
            ));
        }
        // Grown as the bytes arrive, never reserved from the header's claim.
        let mut data = Vec::new();
        (&mut entry)
            .take(cap)
            .read_to_end(&mut data)
            .map_err(|e| corrupt(path, format!("member `{name}` is truncated: {e}")))?;
        if (data.len() as u64) < claimed {
            return Err(corrupt(
                path,
                format!(
                    "member `{name}` is truncated: {} of {claimed} bytes",
                    data.len()
                ),
            ));
        }
        out.insert(name, data);
    }
    // Reading to the end makes the decoder check the gzip trailer (CRC and length); what is
    // left is read in blocks and dropped.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())
        .map_err(|e| corrupt(path, format!("truncated or corrupt gzip stream: {e}")))?;
    if files == 0 {
        return Err(corrupt(path, "the archive holds no files"));
    }
    Ok(out)
}
