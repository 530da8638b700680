//! The baseline a deployed model is watched against: what the customers it was trained on
//! looked like, what it scored them, and which columns drove its scores.
//!
//! A baseline folder holds
//! - `statistics.json` and `constraints.json`, in SageMaker Model Monitor's formats
//!   ([`super::statistics`]): a Model Monitor user keeps their files, and the SageMaker SDK's
//!   `Statistics` and `Constraints` classes read ours;
//! - `reference.parquet`: the raw monitored columns of the reference table (all of it up to
//!   [`BaselineSettings::sample_rows`], a seeded sample above) and the model's score of each
//!   row (`__score__`), which the drift tests compare today's values with;
//! - `baseline.json` ([`BaselineInfo`]): which model (and its checksum), which columns and
//!   how each is read, the deployed threshold, and each raw column's mean |SHAP| on the
//!   reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polars::prelude::{Column, DataFrame, ParquetReader, ParquetWriter, SerReader};
use serde::{Deserialize, Serialize};

use super::statistics::{self, column_values, Constraints, Statistics, Values};
use crate::error::{ensure, Check, Error, Result};
use crate::model::artifact::Artifact;
use crate::prep::ColumnTransform;
use crate::util::files::{write_atomically, write_json_atomically};

/// The name of the score column in `reference.parquet`.
pub const SCORE_COLUMN: &str = "__score__";

/// The files of a baseline folder.
pub const BASELINE_FILES: [&str; 4] = [
    "statistics.json",
    "constraints.json",
    "baseline.json",
    "reference.parquet",
];

/// How a baseline is made.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineSettings {
    /// Reference rows kept for the drift tests (default 100,000; a seeded sample above).
    pub sample_rows: usize,
    /// Rows explained for the mean |SHAP| of each column (default 2,000).
    pub explained_rows: usize,
    /// Seed of the samples.
    pub seed: u64,
}

impl Default for BaselineSettings {
    fn default() -> Self {
        BaselineSettings {
            sample_rows: 100_000,
            explained_rows: 2_000,
            seed: 0,
        }
    }
}

impl Check for BaselineSettings {
    /// Both sizes at least 1.
    fn check_ref(&self) -> Result<()> {
        ensure!(self.sample_rows >= 1, setting "sample_rows", "must be ≥ 1");
        ensure!(self.explained_rows >= 1, setting "explained_rows", "must be ≥ 1");
        Ok(())
    }
}

/// One monitored raw column and how it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoredColumn {
    /// Its name.
    pub name: String,
    /// Read as numbers (else as text).
    pub numeric: bool,
}

/// `baseline.json`: what the Model Monitor files do not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineInfo {
    /// This file's format, 1.
    pub format_version: u32,
    /// The model scored, as given when the baseline was made.
    pub model: PathBuf,
    /// The SHA-256 of its trained booster (the archive's `xgboost-model` member, as its
    /// manifest records it): the same whether the model is our `model.tar.gz`, its unpacked
    /// folder or the archive SageMaker packed from that folder.
    pub model_sha256: String,
    /// The reference table.
    pub data: PathBuf,
    /// Its rows.
    pub rows: usize,
    /// Rows kept in `reference.parquet`.
    pub reference_rows: usize,
    /// Whether they are a sample.
    pub sampled: bool,
    /// The samples' seed.
    pub seed: u64,
    /// The monitored columns, in the model's order.
    pub columns: Vec<MonitoredColumn>,
    /// The model's target column (absent from the monitored columns).
    pub target: String,
    /// The customer id column, if the model has one.
    pub id_column: Option<String>,
    /// The deployed threshold: a score at or above it is labelled 1.
    pub threshold: f32,
    /// Each raw column's mean |SHAP value| (log-odds) on the reference.
    pub mean_abs_shap: BTreeMap<String, f64>,
    /// Rows explained for it.
    pub explained_rows: usize,
    /// When the baseline was made.
    pub created_at: DateTime<Utc>,
}

impl BaselineInfo {
    /// The monitored columns as `(name, read as numbers)`, what
    /// [`super::read_captures`] takes.
    pub fn column_kinds(&self) -> Vec<(String, bool)> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.numeric))
            .collect()
    }
}

/// A baseline, in memory.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `statistics.json`.
    pub statistics: Statistics,
    /// `constraints.json`.
    pub constraints: Constraints,
    /// `baseline.json`.
    pub info: BaselineInfo,
    /// `reference.parquet`: the monitored columns and [`SCORE_COLUMN`].
    pub reference: DataFrame,
}

/// The checksum of an artifact's trained booster, from its manifest.
fn booster_sha256(artifact: &Artifact) -> Result<String> {
    artifact
        .manifest
        .files
        .get(crate::model::artifact::MODEL_MEMBER)
        .cloned()
        .ok_or_else(|| {
            Error::Unsupported(
                "a model that was never saved has no checksum to make a baseline with".into(),
            )
        })
}

/// The monitored columns of a model: its preprocessor's inputs, numbers or text.
pub fn monitored_columns(artifact: &Artifact) -> Vec<MonitoredColumn> {
    artifact
        .preprocessor
        .columns
        .iter()
        .map(|c| MonitoredColumn {
            name: c.name().to_string(),
            numeric: matches!(c, ColumnTransform::Numeric { .. }),
        })
        .collect()
}

/// Each raw column's mean |SHAP value| over the rows of `df` (raw columns).
pub fn mean_abs_shap(artifact: &Artifact, df: &DataFrame) -> Result<BTreeMap<String, f64>> {
    let x = artifact.preprocessor.transform(df)?;
    let e =
        crate::model::explain::explain(&artifact.model, &x)?.by_column(&artifact.preprocessor)?;
    let k = e.names.len();
    let mut sums = vec![0.0f64; k];
    for row in e.values.chunks(k.max(1)) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += f64::from(v.abs());
        }
    }
    let n = e.nrows.max(1) as f64;
    Ok(e.names
        .into_iter()
        .zip(sums)
        .map(|(c, s)| (c, s / n))
        .collect())
}

pub(crate) use crate::util::random::sample_indices;

/// The rows of `df` at `indices`, in that order.
pub(crate) fn take_rows(df: &DataFrame, indices: &[usize]) -> Result<DataFrame> {
    use polars::prelude::{IdxCa, IdxSize};
    let idx = IdxCa::from_vec(
        "idx".into(),
        indices.iter().map(|&i| i as IdxSize).collect(),
    );
    df.take(&idx)
        .map_err(|e| Error::polars("selecting rows", e))
}

/// The monitored columns of `df` as the reference keeps them: numbers as `f64`, text as text.
pub(crate) fn reference_frame(df: &DataFrame, columns: &[MonitoredColumn]) -> Result<DataFrame> {
    let mut out = Vec::with_capacity(columns.len() + 1);
    for c in columns {
        let column = df.column(&c.name).map_err(|_| Error::MissingColumns {
            columns: vec![c.name.clone()],
        })?;
        out.push(if c.numeric {
            match column_values(column, true)? {
                Values::Numbers { values, .. } => Column::new(c.name.as_str().into(), values),
                Values::Categories { .. } => unreachable!("read as numbers"),
            }
        } else {
            Column::new(c.name.as_str().into(), statistics::column_text(column)?)
        });
    }
    DataFrame::new(df.height(), out).map_err(|e| Error::polars("the reference columns", e))
}

impl Baseline {
    /// The baseline of the model at `model` on the table at `data` (CSV or Parquet; its
    /// target and any other columns are ignored).
    pub fn build(
        model: impl AsRef<Path>,
        data: impl AsRef<Path>,
        settings: impl crate::error::IntoValid<BaselineSettings>,
    ) -> Result<Baseline> {
        let (model, data) = (model.as_ref(), data.as_ref());
        let artifact = Artifact::load(model)?;
        let table = crate::data::read_table(data, None)?;
        Baseline::of(&artifact, model, &table, data, settings)
    }

    /// The baseline of `artifact` (recorded as found at `model`) on `table`, read from
    /// `data`. The artifact must have been saved or loaded (its manifest holds its booster's
    /// checksum).
    pub fn of(
        artifact: &Artifact,
        model: &Path,
        table: &DataFrame,
        data: &Path,
        settings: impl crate::error::IntoValid<BaselineSettings>,
    ) -> Result<Baseline> {
        Baseline::of_rows(artifact, model, table, None, data, settings)
    }

    /// [`Baseline::of`] a seeded sample `sample` of a table of `of_rows` rows, drawn by the
    /// caller (a streaming run draws it while it reads the table); it is sampled again only
    /// when larger than [`BaselineSettings::sample_rows`].
    pub fn of_sample(
        artifact: &Artifact,
        model: &Path,
        sample: &DataFrame,
        of_rows: usize,
        data: &Path,
        settings: impl crate::error::IntoValid<BaselineSettings>,
    ) -> Result<Baseline> {
        Baseline::of_rows(artifact, model, sample, Some(of_rows), data, settings)
    }

    fn of_rows(
        artifact: &Artifact,
        model: &Path,
        table: &DataFrame,
        of_rows: Option<usize>,
        data: &Path,
        settings: impl crate::error::IntoValid<BaselineSettings>,
    ) -> Result<Baseline> {
        let settings = settings.into_valid()?;
        let model_sha256 = booster_sha256(artifact)?;
        let columns = monitored_columns(artifact);
        let missing: Vec<String> = columns
            .iter()
            .filter(|c| table.column(&c.name).is_err())
            .map(|c| c.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingInputColumns {
                path: data.to_path_buf(),
                columns: missing,
            });
        }
        let keep = sample_indices(table.height(), settings.sample_rows, settings.seed);
        let rows = of_rows.unwrap_or(table.height()).max(table.height());
        let sampled = keep.len() < rows;
        let sample;
        let table = if keep.len() < table.height() {
            sample = take_rows(table, &keep)?;
            &sample
        } else {
            table
        };
        let mut reference = reference_frame(table, &columns)?;
        // Scores of the very rows kept, through the model's own preprocessing.
        let x = artifact
            .preprocessor
            .transform(table)
            .map_err(|e| Error::MonitorBaseline {
                path: data.to_path_buf(),
                reason: format!("the model cannot score this table: {e}"),
            })?;
        let scores = artifact.model.predict(&x)?;
        reference
            .with_column(Column::new(
                SCORE_COLUMN.into(),
                scores.iter().map(|&s| f64::from(s)).collect::<Vec<f64>>(),
            ))
            .map_err(|e| Error::polars("the reference scores", e))?;
        let explained = sample_indices(
            table.height(),
            settings.explained_rows,
            settings.seed ^ 0x5A5A,
        );
        let shap = mean_abs_shap(artifact, &take_rows(table, &explained)?)?;
        let pairs: Vec<(String, bool)> = columns
            .iter()
            .map(|c| (c.name.clone(), c.numeric))
            .collect();
        let mut statistics = statistics::statistics(&reference, &pairs)?;
        statistics.dataset.item_count = reference.height() as u64;
        let constraints = statistics::suggest_constraints(&statistics);
        Ok(Baseline {
            statistics,
            constraints,
            info: BaselineInfo {
                format_version: 1,
                model: model.to_path_buf(),
                model_sha256,
                data: data.to_path_buf(),
                rows,
                reference_rows: reference.height(),
                sampled,
                seed: settings.seed,
                columns,
                target: artifact.manifest.target.clone(),
                id_column: artifact.manifest.id_column.clone(),
                threshold: artifact.manifest.threshold.get() as f32,
                mean_abs_shap: shap,
                explained_rows: explained.len(),
                created_at: Utc::now(),
            },
            reference,
        })
    }

    /// Write the baseline's four files into `dir` (created), each atomically.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_json_atomically(dir.join("statistics.json"), &self.statistics)?;
        write_json_atomically(dir.join("constraints.json"), &self.constraints)?;
        write_json_atomically(dir.join("baseline.json"), &self.info)?;
        let path = dir.join("reference.parquet");
        let mut frame = self.reference.clone();
        write_atomically(&path, |w| {
            ParquetWriter::new(w)
                .finish(&mut frame)
                .map(|_| ())
                .map_err(|e| Error::polars(format!("writing {}", path.display()), e))
        })
    }

    /// The baseline's model: `given`, else the path recorded, else a file of that name in
    /// the baseline folder `dir` or beside it (`run` writes the baseline in `baseline/` beside
    /// `model.tar.gz`); refused when its checksum is not the baseline's.
    pub fn model(&self, dir: &Path, given: Option<&Path>) -> Result<Artifact> {
        let recorded = &self.info.model;
        let name = recorded.file_name().map(PathBuf::from).unwrap_or_default();
        let candidates: Vec<PathBuf> = match given {
            Some(p) => vec![p.to_path_buf()],
            None => vec![
                recorded.clone(),
                dir.join(&name),
                dir.parent().unwrap_or(Path::new(".")).join(&name),
            ],
        };
        let mut seen = Vec::new();
        for path in candidates.iter().filter(|p| p.exists()) {
            let Ok(artifact) = Artifact::load(path) else {
                seen.push(path.display().to_string());
                continue;
            };
            if booster_sha256(&artifact)? == self.info.model_sha256 {
                return Ok(artifact);
            }
            seen.push(path.display().to_string());
        }
        Err(Error::MonitorBaseline {
            path: dir.to_path_buf(),
            reason: if seen.is_empty() {
                format!(
                    "its model {} is not there (give it with --model)",
                    recorded.display()
                )
            } else {
                format!(
                    "{} is not the model the baseline was made with (its booster's SHA-256 \
                     differs)",
                    seen.join(", ")
                )
            },
        })
    }

    /// Read a baseline folder.
    pub fn load(dir: impl AsRef<Path>) -> Result<Baseline> {
        let dir = dir.as_ref();
        let json = |name: &str| -> Result<String> {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))
        };
        let parse_err = |name: &str, e: serde_json::Error| Error::Json {
            context: dir.join(name).display().to_string(),
            source: e,
        };
        let statistics = serde_json::from_str(&json("statistics.json")?)
            .map_err(|e| parse_err("statistics.json", e))?;
        let constraints = serde_json::from_str(&json("constraints.json")?)
            .map_err(|e| parse_err("constraints.json", e))?;
        let info = serde_json::from_str(&json("baseline.json")?)
            .map_err(|e| parse_err("baseline.json", e))?;
        let path = dir.join("reference.parquet");
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reference = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(format!("reading {}", path.display()), e))?;
        Ok(Baseline {
            statistics,
            constraints,
            info,
            reference,
        })
    }
}
