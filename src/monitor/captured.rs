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

/// The customers of a capture folder.
#[derive(Debug, Clone)]
pub struct Captured {
    /// One row per captured customer, one text column per key seen in the instances.
    pub frame: DataFrame,
    /// Each row's score, as the endpoint answered.
    pub scores: Vec<f64>,
    /// Each row's request's inference id.
    pub inference_ids: Vec<Option<String>>,
    /// Each row's place in its request (0 for the first customer).
    pub positions: Vec<usize>,
    /// Each row's request time.
    pub times: Vec<DateTime<Utc>>,
    /// Capture files read.
    pub files: usize,
    /// Captured requests read.
    pub requests: usize,
    /// Rows of requests without raw columns (preprocessed CSV, libsvm, RecordIO).
    pub without_columns: usize,
    /// The scores of those rows (they count in the score's drift).
    pub other_scores: Vec<f64>,
}

impl Captured {
    /// Every score captured, raw customers and preprocessed rows alike.
    pub fn all_scores(&self) -> Vec<f64> {
        self.scores
            .iter()
            .chain(&self.other_scores)
            .copied()
            .collect()
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

/// The scores of an answer: JSON `{"predictions": [{"score": …}]}`, JSON lines of
/// `{"score": …}`, or CSV (the first field of each line).
fn scores_of(content_type: &str, body: &[u8]) -> std::result::Result<Vec<f64>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
    let media = content_type.split(';').next().unwrap_or("").trim();
    let score = |v: &serde_json::Value| {
        v.get("score")
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("an answer without a numeric score: {v}"))
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
                let first = l.split(',').next().unwrap_or("").trim();
                first
                    .parse::<f64>()
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
        scores: Vec::new(),
        inference_ids: Vec::new(),
        positions: Vec::new(),
        times: Vec::new(),
        files: files.len(),
        requests: 0,
        without_columns: 0,
        other_scores: Vec::new(),
    };
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
            if input.encoding != CaptureEncoding::Json {
                out.without_columns += scores.len();
                out.other_scores.extend(scores);
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
            let before = out.scores.len();
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
                out.inference_ids
                    .push(record.event_metadata.inference_id.clone());
                out.positions.push(position);
                out.times.push(time);
            }
            out.scores.extend(scores);
        }
    }
    let height = out.scores.len();
    let frame_columns: Vec<Column> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    out.frame = DataFrame::new(height, frame_columns)
        .map_err(|e| Error::polars("the captured customers", e))?;
    Ok(out)
}
