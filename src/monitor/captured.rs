//! A capture folder read back as a table: every customer an endpoint scored, with its score,
//! the request's inference id and time.
//!
//! The folder is what `serve --capture` or SageMaker writes: `*.jsonl` files (at any depth,
//! names starting with `.` skipped: files being written), one data-capture record per line
//! ([`crate::codec::capture`]). A request of raw customers (`application/json` instances)
//! gives one row per customer, its values as text (as the endpoint reads them), and its
//! answer gives the scores. A request of preprocessed rows (CSV, libsvm, RecordIO) has no raw
//! columns: its rows are counted in [`Captured::without_columns`] and its scores kept apart.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polars::prelude::{Column, DataFrame};

use crate::codec::capture::{CaptureEncoding, CaptureRecord};
use crate::error::{Error, Result};

/// One scored customer of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRow {
    /// The score the endpoint answered.
    pub score: f64,
    /// The 0/1 label it answered (JSON answers carry it), at the deployed threshold.
    pub label: Option<u8>,
    /// The request's inference id.
    pub inference_id: Option<String>,
    /// The row's place in its request (0 for the first customer).
    pub position: usize,
    /// When the request was answered.
    pub time: DateTime<Utc>,
    /// Its row in [`Captured::frame`] (raw customers only).
    pub raw: Option<usize>,
}

/// The customers of a capture folder.
#[derive(Debug, Clone)]
pub struct Captured {
    /// One row per captured raw customer, one text column per key seen in the instances.
    pub frame: DataFrame,
    /// Every scored row, raw customers and preprocessed rows alike, in capture order.
    pub rows: Vec<CapturedRow>,
    /// Capture files read.
    pub files: usize,
    /// Captured requests read.
    pub requests: usize,
    /// Rows of requests without raw columns (preprocessed CSV, libsvm, RecordIO).
    pub without_columns: usize,
}

impl Captured {
    /// Every score captured, raw customers and preprocessed rows alike.
    pub fn all_scores(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.score).collect()
    }
}

/// The capture files under `dir`, sorted (their names start with the time, so this is
/// their order within an hour's folder).
pub fn capture_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".jsonl") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A JSON value as the text the endpoint's preprocessor reads (`null` is missing).
fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// A score and, when the answer gives it, its 0/1 label.
type Scored = (f64, Option<u8>);

/// The scores of an answer: JSON `{"predictions": [{"score": …, "label": …}]}`, JSON lines of
/// `{"score": …}`, or CSV (the score first on each line, a label after it if any).
fn scores_of(content_type: &str, body: &[u8]) -> std::result::Result<Vec<Scored>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
    let media = content_type.split(';').next().unwrap_or("").trim();
    let score = |v: &serde_json::Value| {
        let s = v
            .get("score")
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("an answer without a numeric score: {v}"))?;
        let label = v
            .get("label")
            .and_then(serde_json::Value::as_u64)
            .map(|l| u8::from(l != 0));
        Ok((s, label))
    };
    match media {
        "application/json" => {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("the answer: {e}"))?;
            v.get("predictions")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| "the answer has no `predictions`".to_string())?
                .iter()
                .map(score)
                .collect()
        }
        "application/jsonlines" | "application/x-jsonlines" => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .map_err(|e| format!("the answer: {e}"))
                    .and_then(|v| score(&v))
            })
            .collect(),
        _ => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut fields = l.split(',');
                let first = fields.next().unwrap_or("").trim();
                let label = fields
                    .next()
                    .and_then(|f| f.trim().parse::<u8>().ok())
                    .map(|l| u8::from(l != 0));
                first
                    .parse::<f64>()
                    .map(|s| (s, label))
                    .map_err(|_| format!("the answer's line `{l}` is not a score"))
            })
            .collect(),
    }
}

/// Read every capture record under `dir`. `columns` are the columns to collect (the model's
/// raw columns); other keys of the instances are collected too, after them.
pub fn read_captures(dir: impl AsRef<Path>, columns: &[String]) -> Result<Captured> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::InvalidSetting {
            name: "capture folder".into(),
            reason: format!("{} is not a folder", dir.display()),
        });
    }
    let files = capture_files(dir)?;
    let mut names: Vec<String> = columns.to_vec();
    let mut values: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    let mut out = Captured {
        frame: DataFrame::empty(),
        rows: Vec::new(),
        files: files.len(),
        requests: 0,
        without_columns: 0,
    };
    let mut height = 0usize;
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = |reason: String| Error::CaptureRecord {
                path: file.clone(),
                line: i + 1,
                reason,
            };
            let record = CaptureRecord::parse_line(line).map_err(&at)?;
            let time = record.time().map_err(&at)?;
            let (Some(input), Some(output)) = (
                record.capture_data.endpoint_input.as_ref(),
                record.capture_data.endpoint_output.as_ref(),
            ) else {
                return Err(at("a record without its input or output".into()));
            };
            let scores = scores_of(&output.observed_content_type, &output.bytes().map_err(&at)?)
                .map_err(&at)?;
            out.requests += 1;
            let id = &record.event_metadata.inference_id;
            let row = |position: usize, (score, label): Scored, raw: Option<usize>| CapturedRow {
                score,
                label,
                inference_id: id.clone(),
                position,
                time,
                raw,
            };
            if input.encoding != CaptureEncoding::Json {
                out.without_columns += scores.len();
                for (position, s) in scores.into_iter().enumerate() {
                    out.rows.push(row(position, s, None));
                }
                continue;
            }
            let body: serde_json::Value =
                serde_json::from_str(&input.data).map_err(|e| at(format!("the request: {e}")))?;
            let instances = body
                .get("instances")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| at("the request has no `instances`".into()))?;
            if instances.len() != scores.len() {
                return Err(at(format!(
                    "{} instances but {} scores",
                    instances.len(),
                    scores.len()
                )));
            }
            let before = height;
            for (position, instance) in instances.iter().enumerate() {
                let object = instance
                    .as_object()
                    .ok_or_else(|| at(format!("instance {position} is not an object")))?;
                for (key, _) in object.iter() {
                    if !names.iter().any(|n| n == key) {
                        names.push(key.clone());
                        values.push(vec![None; before + position]);
                    }
                }
                for (name, column) in names.iter().zip(values.iter_mut()) {
                    column.push(object.get(name).and_then(text_of));
                }
            }
            for (position, s) in scores.into_iter().enumerate() {
                out.rows.push(row(position, s, Some(before + position)));
            }
            height += instances.len();
        }
    }
    let frame_columns: Vec<Column> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    out.frame = DataFrame::new(height, frame_columns)
        .map_err(|e| Error::polars("the captured customers", e))?;
    Ok(out)
}
