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
use polars::prelude::{Column, DataFrame, IntoColumn, NewChunkedArray, PlHashMap, StringChunked};

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

/// A score and, when the answer gives it, its 0/1 label.
type Scored = (f64, Option<u8>);

/// One prediction of a JSON answer.
#[derive(serde::Deserialize)]
struct Prediction {
    score: f64,
    #[serde(default)]
    label: Option<u64>,
}

/// A JSON answer.
#[derive(serde::Deserialize)]
struct Predictions {
    predictions: Vec<Prediction>,
}

/// The scores of an answer: JSON `{"predictions": [{"score": …, "label": …}]}`, JSON lines of
/// `{"score": …}`, or CSV (the score first on each line, a label after it if any).
fn scores_of(content_type: &str, body: &[u8]) -> std::result::Result<Vec<Scored>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
    let media = content_type.split(';').next().unwrap_or("").trim();
    let scored = |p: Prediction| (p.score, p.label.map(|l| u8::from(l != 0)));
    match media {
        "application/json" => serde_json::from_str::<Predictions>(text)
            .map(|a| a.predictions.into_iter().map(scored).collect())
            .map_err(|e| format!("the answer: {e}")),
        "application/jsonlines" | "application/x-jsonlines" => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<Prediction>(l)
                    .map(scored)
                    .map_err(|e| format!("the answer: {e}"))
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

/// One value of an instance, as read: JSON numbers kept as numbers (with their text for a
/// column read as text), text interned per column.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Missing,
    Int(i64),
    Float(f64),
    Text(u32),
}

/// A column's distinct texts: where each is in the list, and the list.
type Interned = (PlHashMap<Box<str>, u32>, Vec<Box<str>>);

/// The instances of the requests of one capture file, column by column.
#[derive(Default)]
struct Columns {
    names: Vec<String>,
    index: PlHashMap<String, usize>,
    cells: Vec<Vec<Cell>>,
    /// Each column's distinct texts, and where each is in the list.
    texts: Vec<Interned>,
    rows: usize,
    /// The columns in the order the last instance named them: the next instance most
    /// likely names them in the same order, which a comparison confirms without hashing.
    order: Vec<usize>,
}

impl Columns {
    /// The column of the `k`-th key of an instance.
    fn column_at(&mut self, k: usize, name: &str) -> usize {
        if let Some(&c) = self.order.get(k) {
            if self.names[c] == name {
                return c;
            }
        }
        let c = self.column(name);
        if k < self.order.len() {
            self.order[k] = c;
        } else {
            self.order.push(c);
        }
        c
    }

    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.cells.push(vec![Cell::Missing; self.rows]);
        self.texts.push(Default::default());
        i
    }

    fn text(&mut self, column: usize, text: &str) -> Cell {
        let (ids, list) = &mut self.texts[column];
        if let Some(&id) = ids.get(text) {
            return Cell::Text(id);
        }
        let id = list.len() as u32;
        list.push(text.into());
        ids.insert(text.into(), id);
        Cell::Text(id)
    }

    /// Close the row being read: columns it did not name are missing in it.
    fn end_row(&mut self) {
        self.rows += 1;
        for c in &mut self.cells {
            if c.len() < self.rows {
                c.push(Cell::Missing);
            }
        }
    }
}

/// `{"instances": [{…}, …]}` read into [`Columns`] without building a JSON tree.
struct Body<'a>(&'a mut Columns);

impl<'de> serde::de::DeserializeSeed<'de> for Body<'_> {
    type Value = usize;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<usize, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Body<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with `instances`")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<usize, A::Error> {
        let mut count = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "instances" {
                count = Some(map.next_value_seed(Instances(&mut *self.0))?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        count.ok_or_else(|| serde::de::Error::custom("the request has no `instances`"))
    }
}

struct Instances<'a>(&'a mut Columns);

impl<'de> serde::de::DeserializeSeed<'de> for Instances<'_> {
    type Value = usize;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Instances<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of instances")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<usize, A::Error> {
        let mut n = 0;
        while seq.next_element_seed(Instance(&mut *self.0))?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

struct Instance<'a>(&'a mut Columns);

impl<'de> serde::de::DeserializeSeed<'de> for Instance<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Instance<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an instance: an object of column values")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<(), A::Error> {
        let columns = self.0;
        let mut k = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let c = columns.column_at(k, &key);
            k += 1;
            let value = map.next_value::<Value<'de>>()?;
            let cell = match value {
                Value::Null => Cell::Missing,
                Value::Int(i) => Cell::Int(i),
                Value::Float(x) => Cell::Float(x),
                Value::Text(t) => columns.text(c, &t),
            };
            if let Some(slot) = columns.cells[c].get_mut(columns.rows) {
                *slot = cell;
            } else {
                columns.cells[c].push(cell);
            }
        }
        columns.end_row();
        Ok(())
    }
}

/// One JSON value of an instance.
enum Value<'de> {
    Null,
    Int(i64),
    Float(f64),
    Text(std::borrow::Cow<'de, str>),
}

impl<'de> serde::Deserialize<'de> for Value<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Text(if b { "true" } else { "false" }.into()))
            }
            fn visit_i64<E>(self, i: i64) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> std::result::Result<Value<'de>, E> {
                Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
            }
            fn visit_f64<E>(self, x: f64) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Float(x))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Text(s.into()))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Text(s.to_string().into()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Value<'de>, E> {
                Ok(Value::Text(s.into()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Value<'de>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Value::Text("[…]".into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Value<'de>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Value::Text("{…}".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// What one capture file holds.
struct FilePart {
    columns: Columns,
    rows: Vec<CapturedRow>,
    requests: usize,
    without_columns: usize,
}

fn read_file(file: &Path) -> Result<FilePart> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let mut part = FilePart {
        columns: Columns::default(),
        rows: Vec::new(),
        requests: 0,
        without_columns: 0,
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |reason: String| Error::CaptureRecord {
            path: file.to_path_buf(),
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
        let scores =
            scores_of(&output.observed_content_type, &output.bytes().map_err(&at)?).map_err(&at)?;
        part.requests += 1;
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
            part.without_columns += scores.len();
            for (position, s) in scores.into_iter().enumerate() {
                part.rows.push(row(position, s, None));
            }
            continue;
        }
        let before = part.columns.rows;
        let mut de = serde_json::Deserializer::from_str(&input.data);
        let n = serde::de::DeserializeSeed::deserialize(Body(&mut part.columns), &mut de)
            .map_err(|e| at(format!("the request: {e}")))?;
        if n != scores.len() {
            return Err(at(format!("{n} instances but {} scores", scores.len())));
        }
        for (position, s) in scores.into_iter().enumerate() {
            part.rows.push(row(position, s, Some(before + position)));
        }
    }
    Ok(part)
}

/// A column of the parts together: numbers when it is `numeric` and every present value of
/// every part is a JSON number, text otherwise (numbers as JSON writes them).
fn column_of(name: &str, parts: &[FilePart], numeric: bool) -> Column {
    fn cells<'p>(p: &'p FilePart, name: &str) -> Option<(usize, &'p [Cell])> {
        p.columns
            .index
            .get(name)
            .map(|&i| (i, p.columns.cells[i].as_slice()))
    }
    let all_numbers = parts
        .iter()
        .all(|p| cells(p, name).is_none_or(|(_, c)| c.iter().all(|c| !matches!(c, Cell::Text(_)))));
    if numeric && all_numbers {
        let mut values: Vec<Option<f64>> = Vec::new();
        for p in parts {
            match cells(p, name) {
                None => values.extend(std::iter::repeat_n(None, p.columns.rows)),
                Some((_, c)) => values.extend(c.iter().map(|c| match *c {
                    Cell::Int(i) => Some(i as f64),
                    Cell::Float(x) => Some(x),
                    _ => None,
                })),
            }
        }
        return Column::new(name.into(), values);
    }
    // Text borrowed from each part's interned values; numbers written as JSON writes them.
    let mut values: Vec<Option<std::borrow::Cow<'_, str>>> =
        Vec::with_capacity(parts.iter().map(|p| p.columns.rows).sum());
    let mut buffer = ryu::Buffer::new();
    for p in parts {
        match cells(p, name) {
            None => values.extend(std::iter::repeat_n(None, p.columns.rows)),
            Some((i, c)) => {
                let texts = &p.columns.texts[i].1;
                values.extend(c.iter().map(|c| match *c {
                    Cell::Missing => None,
                    Cell::Int(v) => Some(v.to_string().into()),
                    Cell::Float(x) if x.is_finite() => {
                        Some(buffer.format_finite(x).to_string().into())
                    }
                    Cell::Float(x) => Some(x.to_string().into()),
                    Cell::Text(id) => Some(std::borrow::Cow::Borrowed(&*texts[id as usize])),
                }));
            }
        }
    }
    StringChunked::from_iter_options(name.into(), values.into_iter()).into_column()
}

/// Read every capture record under `dir`, the files in parallel. `columns` are the columns
/// to collect, each with whether it is read as numbers (the model's raw columns); other keys
/// of the instances are collected too, as text, after them.
pub fn read_captures(dir: impl AsRef<Path>, columns: &[(String, bool)]) -> Result<Captured> {
    use rayon::prelude::*;
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::InvalidSetting {
            name: "capture folder".into(),
            reason: format!("{} is not a folder", dir.display()),
        });
    }
    let files = capture_files(dir)?;
    let parts: Vec<FilePart> = files
        .par_iter()
        .map(|f| read_file(f))
        .collect::<Result<Vec<_>>>()?;
    let mut names: Vec<(String, bool)> = columns.to_vec();
    for p in &parts {
        for n in &p.columns.names {
            if !names.iter().any(|(m, _)| m == n) {
                names.push((n.clone(), false));
            }
        }
    }
    let height: usize = parts.iter().map(|p| p.columns.rows).sum();
    let frame_columns: Vec<Column> = names
        .par_iter()
        .map(|(n, numeric)| column_of(n, &parts, *numeric))
        .collect();
    let frame = DataFrame::new(height, frame_columns)
        .map_err(|e| Error::polars("the captured customers", e))?;
    let mut out = Captured {
        frame,
        rows: Vec::with_capacity(parts.iter().map(|p| p.rows.len()).sum()),
        files: files.len(),
        requests: 0,
        without_columns: 0,
    };
    let mut offset = 0;
    for p in parts {
        out.requests += p.requests;
        out.without_columns += p.without_columns;
        out.rows.extend(p.rows.into_iter().map(|mut r| {
            r.raw = r.raw.map(|i| i + offset);
            r
        }));
        offset += p.columns.rows;
    }
    Ok(out)
}
