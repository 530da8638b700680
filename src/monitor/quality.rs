//! Delayed labels: once purchases are known, join them to the captured requests and see
//! whether the model is still right — the metrics `evaluate` reports, at the deployed
//! threshold, with the realised profit when the costs are known, overall and per day.
//!
//! Ground truth is joined on the request's inference id (the caller's
//! `X-Amzn-SageMaker-Inference-Id`) and the customer's place in the request. It is read from
//! - a table (CSV or Parquet) with the columns `inference_id` and `label` (1/0, yes/no,
//!   true/false), and `position` when requests hold several customers (default 0); or
//! - Model Monitor's ground-truth JSON lines (a file, or a folder of `*.jsonl`):
//!   `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId":
//!   "<inference id>"}, "eventVersion": "0"}`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::captured::Captured;
use crate::error::{Error, Result};
use crate::metrics::{Costs, Metrics, Threshold};

/// Known outcomes, by (inference id, place in the request).
#[derive(Debug, Clone, Default)]
pub struct GroundTruth {
    labels: HashMap<(String, usize), u8>,
    /// Where they were read from.
    pub source: PathBuf,
}

impl GroundTruth {
    /// Outcomes from pairs of (inference id, place in the request) and label.
    pub fn from_pairs(pairs: impl IntoIterator<Item = ((String, usize), u8)>) -> GroundTruth {
        GroundTruth {
            labels: pairs.into_iter().collect(),
            source: PathBuf::new(),
        }
    }

    /// How many outcomes are known.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Read ground truth from a table or Model Monitor's JSON lines (see the module).
    pub fn read(path: impl AsRef<Path>) -> Result<GroundTruth> {
        let path = path.as_ref();
        let jsonl = path.is_dir() || path.extension().is_some_and(|e| e == "jsonl");
        let mut truth = if jsonl {
            read_jsonl(path)?
        } else {
            read_table(path)?
        };
        truth.source = path.to_path_buf();
        Ok(truth)
    }
}

/// A label's text as 0/1.
fn label_of(text: &str) -> Option<u8> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "1.0" | "yes" | "true" | "y" => Some(1),
        "0" | "0.0" | "no" | "false" | "n" => Some(0),
        _ => None,
    }
}

fn read_table(path: &Path) -> Result<GroundTruth> {
    let df = crate::data::read_table(path, None)?;
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let c = df.column(name).map_err(|_| Error::MissingInputColumns {
            path: path.to_path_buf(),
            columns: vec![name.to_string()],
        })?;
        super::statistics::column_text(c)
    };
    let ids = text("inference_id")?;
    let labels = text("label")?;
    let positions = match df.column("position") {
        Ok(_) => text("position")?,
        Err(_) => vec![None; ids.len()],
    };
    let mut out = HashMap::with_capacity(ids.len());
    for (row, ((id, label), position)) in ids.into_iter().zip(labels).zip(positions).enumerate() {
        let bad = |column: &str, reason: String| Error::GroundTruth {
            path: path.to_path_buf(),
            row: row + 1,
            column: column.to_string(),
            reason,
        };
        let Some(id) = id else {
            return Err(bad("inference_id", "no inference id".into()));
        };
        let label = label.as_deref().and_then(label_of).ok_or_else(|| {
            bad(
                "label",
                format!(
                    "`{}` is not 1/0, yes/no or true/false",
                    label.clone().unwrap_or_default()
                ),
            )
        })?;
        let position = match position {
            None => 0,
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| bad("position", format!("`{p}` is not a place in a request")))?,
        };
        out.insert((id, position), label);
    }
    Ok(GroundTruth {
        labels: out,
        source: PathBuf::new(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroundTruthRecord {
    ground_truth_data: GroundTruthData,
    event_metadata: GroundTruthEvent,
}

#[derive(Deserialize)]
struct GroundTruthData {
    data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroundTruthEvent {
    event_id: String,
}

fn read_jsonl(path: &Path) -> Result<GroundTruth> {
    let files = if path.is_dir() {
        super::captured::capture_files(path)?
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = HashMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = |reason: String| Error::CaptureRecord {
                path: file.clone(),
                line: i + 1,
                reason,
            };
            let r: GroundTruthRecord = serde_json::from_str(line)
                .map_err(|e| at(format!("not a ground-truth record: {e}")))?;
            // A request of several customers: one label per customer, comma-separated.
            for (position, field) in r.ground_truth_data.data.split(',').enumerate() {
                let label =
                    label_of(field).ok_or_else(|| at(format!("`{field}` is not a 0/1 label")))?;
                out.insert((r.event_metadata.event_id.clone(), position), label);
            }
        }
    }
    Ok(GroundTruth {
        labels: out,
        source: PathBuf::new(),
    })
}

/// One day's quality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayQuality {
    /// The day (UTC) the requests were answered.
    pub day: NaiveDate,
    /// Labelled rows that day.
    pub rows: usize,
    /// The metrics (`None` when the day has no labelled row).
    pub metrics: Option<Metrics>,
    /// The realised profit, when the costs are known.
    pub profit: Option<f64>,
}

/// `quality.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// The capture folder.
    pub capture: String,
    /// The ground truth.
    pub labels: String,
    /// Rows captured.
    pub captured_rows: usize,
    /// Rows with a known outcome.
    pub labelled_rows: usize,
    /// Outcomes that match no captured row.
    pub unmatched_labels: usize,
    /// The threshold the predictions were labelled at, and where it came from.
    pub threshold: Threshold,
    /// `given`, or `baseline`.
    pub threshold_from: String,
    /// The metrics over every labelled row.
    pub overall: Metrics,
    /// The costs, when known.
    pub costs: Option<Costs>,
    /// The realised profit over every labelled row: sales × value − calls × cost.
    pub profit: Option<f64>,
    /// Day by day, in order.
    pub days: Vec<DayQuality>,
    /// When the report was made.
    pub checked_at: DateTime<Utc>,
}

fn profit(m: &Metrics, costs: Option<&Costs>) -> Option<f64> {
    costs.map(|c| {
        let sales = m.confusion.tp as f64;
        let calls = (m.confusion.tp + m.confusion.fp) as f64;
        sales * c.sale_value - calls * c.contact_cost
    })
}

/// Join `truth` to `captured` and measure, at `threshold`.
pub fn quality(
    captured: &Captured,
    capture: &str,
    truth: &GroundTruth,
    threshold: Threshold,
    threshold_from: &str,
    costs: Option<Costs>,
) -> Result<QualityReport> {
    let mut by_day: BTreeMap<NaiveDate, (Vec<u8>, Vec<f32>)> = BTreeMap::new();
    let (mut labels, mut scores) = (Vec::new(), Vec::new());
    let mut matched = 0usize;
    for row in &captured.rows {
        let Some(id) = &row.inference_id else {
            continue;
        };
        let Some(&y) = truth.labels.get(&(id.to_string(), row.position)) else {
            continue;
        };
        matched += 1;
        labels.push(y);
        scores.push(row.score as f32);
        let day = by_day.entry(row.time.date_naive()).or_default();
        day.0.push(y);
        day.1.push(row.score as f32);
    }
    if labels.is_empty() {
        return Err(Error::InvalidSetting {
            name: "labels".into(),
            reason: format!(
                "none of the {} outcomes in {} matches a captured request's inference id \
                 (of {} captured rows)",
                truth.len(),
                truth.source.display(),
                captured.rows.len()
            ),
        });
    }
    let overall = crate::metrics::evaluate(&labels, &scores, threshold)?;
    let days = by_day
        .into_iter()
        .map(|(day, (y, s))| {
            let metrics = crate::metrics::evaluate(&y, &s, threshold).ok();
            DayQuality {
                day,
                rows: y.len(),
                profit: metrics.as_ref().and_then(|m| profit(m, costs.as_ref())),
                metrics,
            }
        })
        .collect();
    Ok(QualityReport {
        capture: capture.to_string(),
        labels: truth.source.display().to_string(),
        captured_rows: captured.rows.len(),
        labelled_rows: labels.len(),
        unmatched_labels: truth.len() - matched,
        threshold,
        threshold_from: threshold_from.to_string(),
        profit: profit(&overall, costs.as_ref()),
        overall,
        costs,
        days,
        checked_at: Utc::now(),
    })
}
