//! A capture folder read back as a table: every customer an endpoint scored, with its score,
//! the request's inference id and time.
//!
//! The folder is what `serve --capture` or SageMaker writes: `*.jsonl` files (at any depth,
//! names starting with `.` skipped: files being written), one data-capture record per line
//! ([`crate::codec::capture`]). A request of raw customers (`application/json` instances)
//! gives one row per customer, its values as text (as the endpoint reads them), and its
//! answer gives the scores. A request of preprocessed rows (CSV, libsvm, RecordIO) has no raw
//! columns: its rows are counted in [`Captured::without_columns`] and its scores kept apart.

mod escaped;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use polars::prelude::{
    Column, DataFrame, Float64Chunked, IntoColumn, NewChunkedArray, PlHashMap, StringChunked,
};

use crate::codec::capture::{parse_inference_time, CaptureEncoding, CaptureRecord};
use crate::error::{Error, Result};
use crate::monitor::statistics::{column_values, Values};
use escaped::{Cursor, Line, Scalar, Unsupported};

/// One scored customer of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRow {
    /// The score the endpoint answered.
    pub score: f64,
    /// The 0/1 label it answered (JSON answers carry it), at the deployed threshold.
    pub label: Option<u8>,
    /// The request's inference id (shared by the rows of one request).
    pub inference_id: Option<Arc<str>>,
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
    /// The raw customers, column by column as each file held them: a table on demand
    /// ([`Captured::frame`]); a check reads the columns without one.
    columns: CapturedColumns,
    /// Every scored row, raw customers and preprocessed rows alike, in capture order.
    pub rows: Vec<CapturedRow>,
    /// Capture files read.
    pub files: usize,
    /// Captured requests read.
    pub requests: usize,
    /// Rows of requests without raw columns (preprocessed CSV, libsvm, RecordIO).
    pub without_columns: usize,
}

/// The raw customers of every file: the columns asked for, then every other key seen.
#[derive(Debug, Clone)]
struct CapturedColumns {
    /// Each column's name and whether it is read as numbers.
    names: Vec<(String, bool)>,
    /// The files' columns, in file order.
    parts: Vec<Columns>,
    /// Where each file's rows start.
    starts: Vec<usize>,
    height: usize,
}

impl Captured {
    /// Every score captured, raw customers and preprocessed rows alike.
    pub fn all_scores(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.score).collect()
    }

    /// How many raw customers were captured (the rows of [`Captured::frame`]).
    pub fn height(&self) -> usize {
        self.columns.height
    }

    /// The columns of [`Captured::frame`], in its order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.names.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The raw customers as a table: one row per customer, one column per key seen in the
    /// instances (the model's numeric columns as numbers when every value is one, the others
    /// as text, numbers written as JSON writes them).
    pub fn frame(&self) -> Result<DataFrame> {
        use rayon::prelude::*;
        let c = &self.columns;
        let columns: Vec<Column> = c
            .names
            .par_iter()
            .map(|(n, numeric)| column_of(n, &c.parts, *numeric))
            .collect();
        DataFrame::new(c.height, columns).map_err(|e| Error::polars("the captured customers", e))
    }

    /// Some customers as a table (rows of [`Captured::frame`], in the order given).
    pub fn take(&self, rows: &[usize]) -> Result<DataFrame> {
        let c = &self.columns;
        let mut places = Vec::with_capacity(rows.len());
        for &r in rows {
            if r >= c.height {
                return Err(Error::InvalidSetting {
                    name: "captured row".into(),
                    reason: format!("row {r} of {}", c.height),
                });
            }
            let part = c.starts.partition_point(|&s| s <= r) - 1;
            places.push((part, r - c.starts[part]));
        }
        let columns: Vec<Column> = c
            .names
            .iter()
            .map(|(name, numeric)| {
                // Numbers only when the whole column is, as in the table.
                let numeric = *numeric && all_numbers(&c.parts, name);
                let cells: Vec<(Cell, &str)> = places
                    .iter()
                    .map(|&(part, row)| {
                        let p = &c.parts[part];
                        match p.index.get(name) {
                            Some(&i) => (p.cells[i][row], p.texts[i].as_str()),
                            None => (Cell::Missing, ""),
                        }
                    })
                    .collect();
                column_from_cells(name, &cells, numeric)
            })
            .collect();
        DataFrame::new(rows.len(), columns).map_err(|e| Error::polars("the captured customers", e))
    }

    /// A column's values as a check counts them (as [`statistics::column_values`] counts the
    /// same column of [`Captured::frame`]), read from the files' columns; `None` when no
    /// instance named it.
    pub(crate) fn values(&self, name: &str, numeric: bool) -> Option<Result<Values>> {
        let c = &self.columns;
        let at: Vec<Option<usize>> = c.parts.iter().map(|p| p.index.get(name).copied()).collect();
        if at.iter().all(Option::is_none) {
            return None;
        }
        // Each file's cells of the column, and its text (`None`: the file lacks it).
        let columns = || {
            c.parts.iter().zip(&at).map(|(p, i)| match i {
                Some(i) => (p.rows, Some((p.cells[*i].as_slice(), p.texts[*i].as_str()))),
                None => (p.rows, None),
            })
        };
        if numeric && all_numbers(&c.parts, name) {
            let mut values = Vec::with_capacity(c.height);
            for (rows, column) in columns() {
                match column {
                    None => values.extend(std::iter::repeat_n(None, rows)),
                    Some((cells, _)) => values.extend(cells.iter().map(|cell| cell.number())),
                }
            }
            return Some(Ok(Values::Numbers {
                values,
                not_numbers: 0,
            }));
        }
        let any_number = columns().any(|(_, column)| {
            column.is_some_and(|(cells, _)| cells.iter().any(|c| c.number().is_some()))
        });
        if !numeric && !any_number {
            let mut seen: PlHashMap<&str, u64> = PlHashMap::default();
            let mut missing = 0;
            for (rows, column) in columns() {
                let Some((cells, text)) = column else {
                    missing += rows as u64;
                    continue;
                };
                for cell in cells {
                    match *cell {
                        Cell::Text { start, len } => {
                            let t = &text[start as usize..(start + len) as usize];
                            if t.trim().is_empty() {
                                missing += 1;
                            } else {
                                *seen.entry(t).or_insert(0) += 1;
                            }
                        }
                        _ => missing += 1,
                    }
                }
            }
            return Some(Ok(Values::Categories {
                counts: seen.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
                missing,
            }));
        }
        // Numbers and text in one column: as the table reads them.
        Some(column_values(&column_of(name, &c.parts, numeric), numeric))
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
    let media = media_type(content_type);
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
/// column read as text), text as its place in its column's text.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Missing,
    Int(i64),
    Float(f64),
    /// Bytes `start..start + len` of the column's text.
    Text {
        start: u32,
        len: u32,
    },
}

impl Cell {
    /// The cell's number, when it is one.
    fn number(self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(i as f64),
            Cell::Float(x) => Some(x),
            Cell::Missing | Cell::Text { .. } => None,
        }
    }

    fn is_text(&self) -> bool {
        matches!(self, Cell::Text { .. })
    }
}

/// The most text one column of one capture file holds (its cells keep 32-bit offsets).
const COLUMN_TEXT_LIMIT: usize = u32::MAX as usize;

/// Whether two byte strings are equal, short ones compared in two overlapping words rather
/// than by a call to `memcmp` (a key per value of a million instances).
#[inline]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// The instances of the requests of one capture file, column by column.
#[derive(Debug, Clone, Default)]
struct Columns {
    names: Vec<String>,
    index: PlHashMap<String, usize>,
    cells: Vec<Vec<Cell>>,
    /// Each column's texts, one after another (a copy is cheaper than a lookup: an id
    /// column has as many distinct values as rows).
    texts: Vec<String>,
    rows: usize,
    /// The columns in the order the last instance named them: the next instance most
    /// likely names them in the same order, which a comparison confirms without hashing.
    order: Vec<usize>,
}

impl Columns {
    /// The column of the `k`-th key of an instance.
    fn column_at(&mut self, k: usize, name: &str) -> usize {
        if let Some(&c) = self.order.get(k) {
            if same_short(self.names[c].as_bytes(), name.as_bytes()) {
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

    /// Keep `text` in `column`'s text (a file is under [`COLUMN_TEXT_LIMIT`], so its offsets
    /// fit).
    fn text(&mut self, column: usize, text: &str) -> Cell {
        let all = &mut self.texts[column];
        let start = all.len() as u32;
        all.push_str(text);
        Cell::Text {
            start,
            len: text.len() as u32,
        }
    }

    /// Where the columns stand, to go back to with [`Columns::rollback`].
    fn mark(&self) -> (usize, usize) {
        (self.names.len(), self.rows)
    }

    /// Forget the rows and columns read since `mark` (values interned since stay, unused).
    fn rollback(&mut self, (names, rows): (usize, usize)) {
        for name in self.names.drain(names..) {
            self.index.remove(&name);
        }
        self.cells.truncate(names);
        self.texts.truncate(names);
        for c in &mut self.cells {
            c.truncate(rows);
        }
        self.rows = rows;
        self.order.clear();
    }

    /// Room for `rows` rows in every column.
    fn reserve(&mut self, rows: usize) {
        let have = self.rows.max(1);
        for (c, text) in self.cells.iter_mut().zip(&mut self.texts) {
            c.reserve(rows.saturating_sub(c.len()));
            if !text.is_empty() {
                text.reserve((text.len() / have + 1) * rows.saturating_sub(have));
            }
        }
    }

    /// Put `cell` in column `c` of the row being read.
    fn set(&mut self, c: usize, cell: Cell) {
        if let Some(slot) = self.cells[c].get_mut(self.rows) {
            *slot = cell;
        } else {
            self.cells[c].push(cell);
        }
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
            columns.set(c, cell);
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

/// Read one capture file; `text` is a buffer to read it into (kept from file to file, so
/// its pages are not fresh each time).
fn read_file(file: &Path, text: &mut String) -> Result<FilePart> {
    use std::io::Read as _;
    let mut opened = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    let size = opened.metadata().map_err(|e| Error::io(file, e))?.len();
    if size > COLUMN_TEXT_LIMIT as u64 {
        return Err(Error::CaptureRecord {
            path: file.to_path_buf(),
            line: 1,
            reason: format!(
                "the file is {size} bytes; capture files are read up to {COLUMN_TEXT_LIMIT} \
                 bytes (SageMaker's and ours are far smaller: split it)"
            ),
        });
    }
    text.clear();
    opened
        .read_to_string(text)
        .map_err(|e| Error::io(file, e))?;
    if text.len() > COLUMN_TEXT_LIMIT {
        return Err(Error::CaptureRecord {
            path: file.to_path_buf(),
            line: 1,
            reason: format!("the file grew past {COLUMN_TEXT_LIMIT} bytes while it was read"),
        });
    }
    let mut part = FilePart {
        columns: Columns::default(),
        rows: Vec::new(),
        requests: 0,
        without_columns: 0,
    };
    let mut at = 0;
    let mut line_number = 0;
    while at < text.len() {
        line_number += 1;
        let rest = &text[at..];
        if let Ok(used) = read_line_in_place(rest, &mut part) {
            if line_number == 1 {
                // The file's lines are most likely alike: room for as many rows as the
                // first line's share of the file suggests.
                let rows = (text.len() / used.max(1) + 1) * part.columns.rows;
                part.columns.reserve(rows);
                part.rows.reserve(rows);
            }
            at += used;
            continue;
        }
        // As `str::lines` splits: at `\n`, less a `\r` before it.
        let end = rest.find('\n').map_or(rest.len(), |p| p + 1);
        let line = rest[..end].strip_suffix('\n').unwrap_or(&rest[..end]);
        let line = line.strip_suffix('\r').unwrap_or(line);
        at += end;
        if line.trim().is_empty() {
            continue;
        }
        read_line(file, line_number, line, &mut part)?;
    }
    Ok(part)
}

/// The common record, read where it lies ([`escaped`]): raw customers in and a JSON answer
/// out, in a record of the fields SageMaker writes. Anything else is [`Unsupported`], with
/// nothing kept, and [`read_line`] reads it.
fn read_line_in_place(text: &str, part: &mut FilePart) -> escaped::Read<usize> {
    let mark = part.columns.mark();
    let read = record_in_place(text, &mut part.columns);
    let (id, time, scores, used) = match read {
        Ok(r) => r,
        Err(e) => {
            part.columns.rollback(mark);
            return Err(e);
        }
    };
    let before = mark.1;
    part.requests += 1;
    let id: Option<Arc<str>> = id.map(Arc::from);
    part.rows.extend(
        scores
            .into_iter()
            .enumerate()
            .map(|(position, (score, label))| CapturedRow {
                score,
                label,
                inference_id: id.clone(),
                position,
                time,
                raw: Some(before + position),
            }),
    );
    Ok(used)
}

/// What [`record_in_place`] reads: the inference id, the time, the scores, and how many bytes
/// the line took.
type RecordRead<'a> = (Option<&'a str>, DateTime<Utc>, Vec<Scored>, usize);

/// The fields of the record at the start of `text`, its instances read into `columns` (as
/// many as its scores).
fn record_in_place<'a>(text: &'a str, columns: &mut Columns) -> escaped::Read<RecordRead<'a>> {
    let mut l = Line::new(text);
    let (mut input, mut output) = (None, None);
    let (mut capture, mut version) = (false, false);
    let (mut event, mut id, mut time) = (None, None, None);
    let mut first = true;
    l.begin_object()?;
    while let Some(key) = l.next_key(&mut first)? {
        match key {
            "captureData" if !capture => {
                capture = true;
                let mut first = true;
                l.begin_object()?;
                while let Some(key) = l.next_key(&mut first)? {
                    match key {
                        "endpointInput" if input.is_none() => {
                            input = Some(body_in_place(&mut l, |c| instances_in_place(c, columns))?)
                        }
                        "endpointOutput" if output.is_none() => {
                            output = Some(body_in_place(&mut l, predictions_in_place)?)
                        }
                        _ => return Err(Unsupported),
                    }
                }
            }
            "eventMetadata" if event.is_none() => {
                let mut first = true;
                let mut seen_id = false;
                l.begin_object()?;
                while let Some(key) = l.next_key(&mut first)? {
                    match key {
                        "eventId" if event.is_none() => event = Some(l.string()?),
                        "inferenceId" if !seen_id => {
                            seen_id = true;
                            id = l.string_or_null()?;
                        }
                        "inferenceTime" if time.is_none() => time = Some(l.string()?),
                        _ => return Err(Unsupported),
                    }
                }
                event.ok_or(Unsupported)?;
            }
            "eventVersion" if !version => {
                version = true;
                l.string()?;
            }
            _ => return Err(Unsupported),
        }
    }
    let used = l.end_of_line()?;
    let time = parse_inference_time(time.ok_or(Unsupported)?).map_err(|_| Unsupported)?;
    let (Some((_, n)), Some((output_type, scores))) = (input, output) else {
        return Err(Unsupported);
    };
    if !version || media_type(output_type) != "application/json" || n != scores.len() {
        return Err(Unsupported);
    }
    Ok((id, time, scores, used))
}

/// One body (`endpointInput` or `endpointOutput`) of the JSON encoding, its text read by
/// `read` where it lies; with its content type.
fn body_in_place<'a, T>(
    l: &mut Line<'a>,
    read: impl FnOnce(&mut Cursor<'a>) -> escaped::Read<T>,
) -> escaped::Read<(&'a str, T)> {
    let (mut content_type, mut mode, mut data, mut encoding) = (None, false, None, None);
    let mut read = Some(read);
    let mut first = true;
    l.begin_object()?;
    while let Some(key) = l.next_key(&mut first)? {
        match key {
            "observedContentType" if content_type.is_none() => content_type = Some(l.string()?),
            "mode" if !mode => {
                mode = true;
                l.string()?;
            }
            "data" => data = Some(l.body(read.take().ok_or(Unsupported)?)?),
            "encoding" if encoding.is_none() => encoding = Some(l.string()?),
            _ => return Err(Unsupported),
        }
    }
    match (content_type, mode, data, encoding) {
        (Some(t), true, Some(value), Some("JSON")) => Ok((t, value)),
        _ => Err(Unsupported),
    }
}

/// `{"predictions": [{"score": …, "label": …}, …]}` read inside its record.
fn predictions_in_place(c: &mut Cursor<'_>) -> escaped::Read<Vec<Scored>> {
    let (mut keys, mut values) = (String::new(), String::new());
    let mut out = None;
    let mut first = true;
    c.begin_object()?;
    while let Some(key) = c.next_key(&mut first, &mut keys)? {
        if key != "predictions" {
            c.skip_value(&mut values)?;
            continue;
        }
        if out.is_some() {
            return Err(Unsupported);
        }
        let mut list = Vec::new();
        let mut first_prediction = true;
        c.begin_array()?;
        while c.next_element(&mut first_prediction)? {
            let (mut score, mut label) = (None, None);
            let mut first_key = true;
            c.begin_object()?;
            while let Some(key) = c.next_key(&mut first_key, &mut keys)? {
                match key {
                    "score" if score.is_none() => {
                        score = Some(match c.value(&mut values)? {
                            Scalar::Int(i) => i as f64,
                            Scalar::Float(x) => x,
                            _ => return Err(Unsupported),
                        })
                    }
                    "label" if label.is_none() => {
                        label = Some(match c.value(&mut values)? {
                            Scalar::Null => None,
                            Scalar::Int(i) if i >= 0 => Some(u8::from(i != 0)),
                            _ => return Err(Unsupported),
                        })
                    }
                    "score" | "label" => return Err(Unsupported),
                    _ => c.skip_value(&mut values)?,
                }
            }
            list.push((score.ok_or(Unsupported)?, label.flatten()));
        }
        out = Some(list);
    }
    out.ok_or(Unsupported)
}

/// `{"instances": [{…}, …]}` read inside its record into `columns`; how many instances.
fn instances_in_place(c: &mut Cursor<'_>, columns: &mut Columns) -> escaped::Read<usize> {
    let (mut keys, mut values) = (String::new(), String::new());
    let mut count = None;
    let mut first = true;
    c.begin_object()?;
    while let Some(key) = c.next_key(&mut first, &mut keys)? {
        if key != "instances" {
            c.skip_value(&mut values)?;
            continue;
        }
        if count.is_some() {
            return Err(Unsupported);
        }
        let mut n = 0;
        let mut first_instance = true;
        c.begin_array()?;
        while c.next_element(&mut first_instance)? {
            let mut k = 0;
            let mut first_key = true;
            c.begin_object()?;
            while let Some(key) = c.next_key(&mut first_key, &mut keys)? {
                let column = columns.column_at(k, key);
                k += 1;
                let cell = match c.value(&mut values)? {
                    Scalar::Null => Cell::Missing,
                    Scalar::Int(i) => Cell::Int(i),
                    Scalar::Float(x) => Cell::Float(x),
                    Scalar::Text(t) => columns.text(column, t),
                    Scalar::Bool(b) => columns.text(column, if b { "true" } else { "false" }),
                    Scalar::Array => columns.text(column, "[…]"),
                    Scalar::Object => columns.text(column, "{…}"),
                };
                columns.set(column, cell);
            }
            columns.end_row();
            n += 1;
        }
        count = Some(n);
    }
    count.ok_or(Unsupported)
}

/// A content type's media type (`application/json` of `application/json; charset=utf-8`).
fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// One record read the ordinary way: its bodies unescaped, then parsed; errors name the file
/// and line.
fn read_line(file: &Path, line_number: usize, line: &str, part: &mut FilePart) -> Result<()> {
    let at = |reason: String| Error::CaptureRecord {
        path: file.to_path_buf(),
        line: line_number,
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
    let id: Option<Arc<str>> = record.event_metadata.inference_id.as_deref().map(Arc::from);
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
        return Ok(());
    }
    let before = part.columns.rows;
    let mut de = serde_json::Deserializer::from_str(&input.data);
    let n = serde::de::DeserializeSeed::deserialize(Body(&mut part.columns), &mut de)
        .and_then(|n| de.end().map(|_| n))
        .map_err(|e| at(format!("the request: {e}")))?;
    if n != scores.len() {
        return Err(at(format!("{n} instances but {} scores", scores.len())));
    }
    for (position, s) in scores.into_iter().enumerate() {
        part.rows.push(row(position, s, Some(before + position)));
    }
    Ok(())
}

/// A column of the parts together: numbers when it is `numeric` and every present value of
/// every part is a JSON number, text otherwise (numbers as JSON writes them).
fn column_of(name: &str, parts: &[Columns], numeric: bool) -> Column {
    fn cells<'p>(p: &'p Columns, name: &str) -> Option<(usize, &'p [Cell])> {
        p.index.get(name).map(|&i| (i, p.cells[i].as_slice()))
    }
    if numeric && all_numbers(parts, name) {
        let iter = parts.iter().flat_map(|p| {
            let cells = cells(p, name).map(|(_, c)| c);
            (0..p.rows).map(move |r| cells.and_then(|c| c[r].number()))
        });
        return Float64Chunked::from_iter_options(name.into(), iter).into_column();
    }
    // Text borrowed from each part's text; numbers written as JSON writes them.
    let mut values: Vec<Option<std::borrow::Cow<'_, str>>> =
        Vec::with_capacity(parts.iter().map(|p| p.rows).sum());
    let mut buffer = ryu::Buffer::new();
    for p in parts {
        match cells(p, name) {
            None => values.extend(std::iter::repeat_n(None, p.rows)),
            Some((i, c)) => {
                let texts = p.texts[i].as_str();
                values.extend(c.iter().map(|&c| cell_text(c, texts, &mut buffer)));
            }
        }
    }
    StringChunked::from_iter_options(name.into(), values.into_iter()).into_column()
}

/// Whether every present value of a column, in every part, is a JSON number.
fn all_numbers(parts: &[Columns], name: &str) -> bool {
    parts.iter().all(|p| {
        p.index
            .get(name)
            .is_none_or(|&i| !p.cells[i].iter().any(Cell::is_text))
    })
}

/// A column of some of a column's cells, each with its file's text, as [`column_of`] makes
/// the whole column: `numeric` when the whole column is read as numbers (see
/// [`all_numbers`]).
fn column_from_cells(name: &str, cells: &[(Cell, &str)], numeric: bool) -> Column {
    if numeric {
        let values: Vec<Option<f64>> = cells.iter().map(|(c, _)| c.number()).collect();
        return Column::new(name.into(), values);
    }
    let mut buffer = ryu::Buffer::new();
    let values: Vec<Option<String>> = cells
        .iter()
        .map(|&(c, text)| cell_text(c, text, &mut buffer).map(|t| t.into_owned()))
        .collect();
    Column::new(name.into(), values)
}

/// A cell as text: numbers as JSON writes them.
fn cell_text<'t>(
    cell: Cell,
    text: &'t str,
    buffer: &mut ryu::Buffer,
) -> Option<std::borrow::Cow<'t, str>> {
    match cell {
        Cell::Missing => None,
        Cell::Int(v) => Some(v.to_string().into()),
        Cell::Float(x) if x.is_finite() => Some(buffer.format_finite(x).to_string().into()),
        Cell::Float(x) => Some(x.to_string().into()),
        Cell::Text { start, len } => Some(std::borrow::Cow::Borrowed(
            &text[start as usize..(start + len) as usize],
        )),
    }
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
        .map_init(String::new, |text, f| read_file(f, text))
        .collect::<Result<Vec<_>>>()?;
    let mut names: Vec<(String, bool)> = columns.to_vec();
    for p in &parts {
        for n in &p.columns.names {
            if !names.iter().any(|(m, _)| m == n) {
                names.push((n.clone(), false));
            }
        }
    }
    let mut out = Captured {
        columns: CapturedColumns {
            names,
            parts: Vec::with_capacity(parts.len()),
            starts: Vec::with_capacity(parts.len()),
            height: 0,
        },
        rows: Vec::with_capacity(parts.iter().map(|p| p.rows.len()).sum()),
        files: files.len(),
        requests: 0,
        without_columns: 0,
    };
    for p in parts {
        let offset = out.columns.height;
        out.requests += p.requests;
        out.without_columns += p.without_columns;
        out.rows.extend(p.rows.into_iter().map(|mut r| {
            r.raw = r.raw.map(|i| i + offset);
            r
        }));
        out.columns.starts.push(offset);
        out.columns.height += p.columns.rows;
        out.columns.parts.push(p.columns);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::capture::CapturedBody;

    fn part() -> FilePart {
        FilePart {
            columns: Columns::default(),
            rows: Vec::new(),
            requests: 0,
            without_columns: 0,
        }
    }

    fn line(request: &str, answer: &str) -> String {
        let time = DateTime::parse_from_rfc3339("2026-12-07T10:11:12.345Z")
            .unwrap()
            .with_timezone(&Utc);
        CaptureRecord::new(
            CapturedBody::new("INPUT", "application/json", request.as_bytes()),
            Some(CapturedBody::new(
                "OUTPUT",
                "application/json",
                answer.as_bytes(),
            )),
            "e1".into(),
            Some("day-1".into()),
            time,
        )
        .to_line()
        .trim_end()
        .to_string()
    }

    /// A part's columns as a frame, read as numbers where they are numbers, and as text.
    fn frames(p: &FilePart) -> (DataFrame, DataFrame) {
        let parts = std::slice::from_ref(&p.columns);
        let of = |numeric: bool| {
            let cols = p
                .columns
                .names
                .iter()
                .map(|n| column_of(n, parts, numeric))
                .collect();
            DataFrame::new(p.columns.rows, cols).unwrap()
        };
        (of(true), of(false))
    }

    fn answer(n: usize) -> String {
        let p: Vec<String> = (0..n)
            .map(|i| format!("{{\"score\":0.{i}5,\"label\":{}}}", i % 2))
            .collect();
        format!("{{\"predictions\":[{}]}}", p.join(","))
    }

    #[test]
    fn records_read_in_place_agree_with_the_ordinary_reading() {
        // (request, whether the in-place reading must take it)
        let requests: Vec<(String, bool)> = vec![
            (r#"{"instances":[{"age":56,"job":"housemaid","x":1.5},{"age":null,"job":"admin."}]}"#.into(), true),
            // Python's separators, and an instance without a key the others have.
            (r#"{"instances": [{"age": 23, "job": "a b"}, {"job": "c"}]}"#.into(), true),
            // Pretty-printed: newlines and tabs, which the record escapes.
            ("{\n\t\"instances\": [\n  {\"age\": 1,\n   \"job\": \"x\"}\n]\n}".into(), true),
            // Escapes of the request's own: quote, backslash, newline, \u escapes, a pair.
            (r#"{"instances":[{"job":"say \"hi\"","p":"C:\\dir","n":"a\nb","u":"caf\u00e9 \ud83d\ude00"}]}"#.into(), true),
            // Text the record keeps as is (UTF-8) or escapes itself (a control character
            // cannot be in JSON text, so only the request's own escapes carry them).
            (r#"{"instances":[{"job":"café ☕","t":"tab\there"}]}"#.into(), true),
            // Numbers: negative zero, exponents, integers as floats, large integers.
            (r#"{"instances":[{"a":-0,"b":1e3,"c":-1.5E-2,"d":2.0,"e":123456789012345678,"f":0}]}"#.into(), true),
            // Booleans, nested values, keys the reader ignores.
            (r#"{"model":"m","instances":[{"flag":true,"other":false,"list":[1,[2,{"k":"v"}]],"obj":{"a":{}}}],"extra":{"x":[null]}}"#.into(), true),
            // Past 18 digits: read the ordinary way.
            (r#"{"instances":[{"a":12345678901234567890123}]}"#.into(), false),
        ];
        for (request, in_place) in &requests {
            let rows = serde_json::from_str::<serde_json::Value>(request).unwrap()["instances"]
                .as_array()
                .unwrap()
                .len();
            let l = line(request, &answer(rows));
            let mut fast = part();
            let took = read_line_in_place(&l, &mut fast).is_ok();
            assert_eq!(took, *in_place, "{request}");
            if !took {
                assert_eq!(fast.columns.rows, 0, "nothing kept: {request}");
                assert!(fast.columns.names.is_empty(), "nothing kept: {request}");
                continue;
            }
            let mut slow = part();
            read_line(Path::new("f.jsonl"), 1, &l, &mut slow).unwrap();
            assert_eq!(fast.columns.names, slow.columns.names, "{request}");
            let (fast_numbers, fast_text) = frames(&fast);
            let (slow_numbers, slow_text) = frames(&slow);
            assert!(
                fast_numbers.equals_missing(&slow_numbers),
                "{request}\n{fast_numbers}\n{slow_numbers}"
            );
            assert!(
                fast_text.equals_missing(&slow_text),
                "{request}\n{fast_text}\n{slow_text}"
            );
            assert_eq!(fast.rows, slow.rows, "{request}");
            assert_eq!(fast.requests, 1);
        }
    }

    #[test]
    fn what_the_in_place_reading_refuses_leaves_nothing_and_the_ordinary_reading_names_it() {
        let cases = [
            (r#"{"instances":[{"a":01}]}"#, 1, "the request"),
            (r#"{"instances":[{"a":1},]}"#, 1, "the request"),
            (r#"{"instances":[{"a":"open}]}"#, 1, "the request"),
            (r#"{"instances":[{"a":1}]} x"#, 1, "the request"),
            (r#"{"instances":[{"a":1e999}]}"#, 1, "the request"),
            (
                r#"{"instances":[{"a":1},{"a":2}]}"#,
                1,
                "2 instances but 1 scores",
            ),
            (r#"{"rows":[{"a":1}]}"#, 1, "no `instances`"),
        ];
        for (request, scores, reason) in cases {
            let l = line(request, &answer(scores));
            let mut p = part();
            assert!(read_line_in_place(&l, &mut p).is_err(), "{request}");
            assert_eq!(
                (p.columns.rows, p.columns.names.len(), p.rows.len()),
                (0, 0, 0)
            );
            let err = read_line(Path::new("f.jsonl"), 7, &l, &mut p)
                .unwrap_err()
                .to_string();
            assert!(err.contains("f.jsonl") && err.contains('7'), "{err}");
            assert!(err.contains(reason), "{request}: {err}");
        }
    }

    #[test]
    fn a_bare_newline_inside_a_record_is_a_torn_line_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let good = line(r#"{"instances":[{"job":"a"}]}"#, &answer(1));
        // The request's text holds a newline the record did not escape.
        let torn = line(r#"{"instances":[{"job":"b-c"}]}"#, &answer(1)).replace("b-c", "b\nc");
        std::fs::write(dir.path().join("f.jsonl"), format!("{good}\n{torn}\n")).unwrap();
        let err = read_captures(dir.path(), &[]).unwrap_err().to_string();
        assert!(err.contains("f.jsonl") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn a_failed_record_after_good_ones_takes_back_only_its_own_rows_and_columns() {
        let mut p = part();
        let good = line(r#"{"instances":[{"a":1,"b":"x"}]}"#, &answer(1));
        read_line_in_place(&good, &mut p).unwrap();
        // Reads a new column and a row, then finds one score too few.
        let bad = line(r#"{"instances":[{"a":2,"c":"new"},{"a":3}]}"#, &answer(1));
        assert!(read_line_in_place(&bad, &mut p).is_err());
        assert_eq!(p.columns.names, ["a", "b"]);
        assert_eq!(p.columns.rows, 1);
        assert!(p.columns.cells.iter().all(|c| c.len() == 1));
        read_line_in_place(&good, &mut p).unwrap();
        let (numbers, _) = frames(&p);
        assert_eq!(numbers.height(), 2);
        assert_eq!(
            p.rows.iter().map(|r| r.raw).collect::<Vec<_>>(),
            [Some(0), Some(1)]
        );
    }

    #[test]
    fn short_keys_compare_as_bytes_do() {
        let keys = [
            "",
            "a",
            "ab",
            "age",
            "days",
            "gender",
            "minutes",
            "sessions",
            "pages_viewed",
            "bounce_rate_7d",
            "tenure_months_x",
            "previous_purchases",
            "sessions_30d_extra_long_name",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_short(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
            // One byte changed anywhere.
            for at in 0..a.len() {
                let mut c = a.as_bytes().to_vec();
                c[at] ^= 1;
                assert!(!same_short(a.as_bytes(), &c), "{a} at {at}");
            }
        }
    }

    #[test]
    fn a_checks_columns_and_rows_read_without_a_table_are_the_tables() {
        let dir = tempfile::tempdir().unwrap();
        let hour = dir.path().join("e/AllTraffic/2026/12/07/10");
        std::fs::create_dir_all(&hour).unwrap();
        // Two files, so columns one file lacks are missing there; a numeric column with a
        // word in it, a text column with numbers in it, blanks, nulls.
        let first = [
            line(
                r#"{"instances":[{"age":30,"job":"a","mixed":1,"odd":"x"},{"age":41.5,"job":"  ","mixed":"b"}]}"#,
                &answer(2),
            ),
            line(
                r#"{"instances":[{"age":null,"job":"c","mixed":2.5,"odd":7}]}"#,
                &answer(1),
            ),
        ];
        let second = [line(
            r#"{"instances":[{"age":"old","job":"a","extra":true}]}"#,
            &answer(1),
        )];
        std::fs::write(hour.join("00-00-000-a.jsonl"), first.join("\n") + "\n").unwrap();
        std::fs::write(hour.join("00-01-000-b.jsonl"), second.join("\n")).unwrap();
        for kinds in [
            vec![("age".to_string(), true), ("job".to_string(), false)],
            vec![("job".to_string(), true), ("mixed".to_string(), false)],
        ] {
            let captured = read_captures(dir.path(), &kinds).unwrap();
            let frame = captured.frame().unwrap();
            assert_eq!(captured.height(), 4);
            assert_eq!(frame.height(), 4);
            assert_eq!(
                captured.column_names(),
                frame
                    .get_column_names()
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
            );
            for name in captured.column_names() {
                for numeric in [true, false] {
                    let direct = captured.values(name, numeric).unwrap().unwrap();
                    let table = column_values(frame.column(name).unwrap(), numeric).unwrap();
                    assert_eq!(direct, table, "{name} numeric={numeric}");
                }
            }
            assert!(captured.values("nowhere", true).is_none());
            // Rows with numbers only still read as text where the column is text.
            for picked in [vec![3, 0, 2, 0], vec![0, 2]] {
                let taken = captured.take(&picked).unwrap();
                let want = crate::monitor::baseline::take_rows(&frame, &picked).unwrap();
                assert!(taken.equals_missing(&want), "{taken}\n{want}");
                assert_eq!(taken.dtypes(), want.dtypes());
            }
            assert!(captured.take(&[4]).is_err());
        }
    }
}
