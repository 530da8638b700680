//! The client side of an endpoint — a [`Predictor`] that sends customers to a
//! model server and returns purchase probabilities.
//!
//! The names mirror the SageMaker Python SDK v2 (`Predictor`, `CSVSerializer`,
//! `CSVDeserializer`, `JSONSerializer`, `JSONDeserializer`), so tutorial code translates line
//! by line. What travels is chosen by the serializer:
//!
//! - [`CsvSerializer`] (the default): already-preprocessed features, one row per line, no
//!   header, empty field = missing. This is what SageMaker's XGBoost container takes.
//! - [`JsonSerializer`]: raw customer records, `{"instances": [{"age": 41, ...}]}`, which our
//!   own server runs through the model's stored preprocessor.
//!
//! How it travels is a [`Transport`]: [`crate::serve::http::HttpEndpoint`] speaks HTTP to the local server
//! ([`crate::serve`]) or anything with the container's contract; the SageMaker runtime
//! (InvokeEndpoint) is the other transport, behind the same trait.
//!
//! Large inputs are cut into requests under the 6 MB payload limit
//! ([`crate::codec::MAX_PAYLOAD_BYTES`]) automatically; answers come back in row order, also
//! when several requests are in flight ([`Predictor::with_concurrency`]).
//!
//! ```no_run
//! use purchase_predict::serve::{HttpEndpoint, Predictor};
//! # fn demo(x: &purchase_predict::data::FeatureMatrix) -> purchase_predict::Result<()> {
//! let predictor = Predictor::new(HttpEndpoint::new("http://127.0.0.1:8080")?);
//! let probabilities = predictor.predict(x)?; // one per row, in order
//! # Ok(()) }
//! ```

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use polars::prelude::{DataFrame, DataType};

use crate::codec::{self, json::Cell, number::F32Text, MAX_PAYLOAD_BYTES, MAX_ROWS_PER_REQUEST};
use crate::data::FeatureMatrix;
use crate::error::{ensure, Error, Result};
use crate::model::explain::Explanations;

/// Sends one request body to a model endpoint and returns the answer's body.
///
/// Implementations: [`crate::serve::http::HttpEndpoint`] (the local server); the SageMaker runtime's
/// InvokeEndpoint comes with the SageMaker backend.
pub trait Transport: Send + Sync {
    /// POST `body` (of `content_type`) for inference, asking for `accept`, with SageMaker's
    /// `CustomAttributes` and `InferenceId` when given (over HTTP, the
    /// `X-Amzn-SageMaker-Custom-Attributes` and `X-Amzn-SageMaker-Inference-Id` headers, as
    /// SageMaker passes them to a container); the response body. An error status is an
    /// [`Error::Endpoint`] carrying the status and the server's message.
    fn invoke(
        &self,
        body: &[u8],
        content_type: &str,
        accept: &str,
        options: Invoke<'_>,
    ) -> Result<Vec<u8>>;

    /// A short name for messages (a URL or an endpoint name).
    fn describe(&self) -> String;
}

/// What travels beside a request's body: SageMaker's `CustomAttributes` and `InferenceId`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invoke<'a> {
    /// Passed to the container as they are (ours reads `explain`).
    pub custom_attributes: Option<&'a str>,
    /// The request's id, kept in its data capture record: the key that outcomes known later
    /// are joined on.
    pub inference_id: Option<&'a str>,
}

/// What a [`Predictor`] can send: a preprocessed [`FeatureMatrix`] or a polars [`DataFrame`]
/// (numeric feature columns for CSV, raw customer columns for JSON).
#[derive(Clone, Copy)]
pub enum Rows<'a> {
    /// Preprocessed features, in the model's order.
    Features(&'a FeatureMatrix),
    /// A table: every column is sent, in the frame's order.
    Frame(&'a DataFrame),
}

impl Rows<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Features(x) => x.nrows,
            Rows::Frame(df) => df.height(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a FeatureMatrix> for Rows<'a> {
    fn from(x: &'a FeatureMatrix) -> Self {
        Rows::Features(x)
    }
}

impl<'a> From<&'a DataFrame> for Rows<'a> {
    fn from(df: &'a DataFrame) -> Self {
        Rows::Frame(df)
    }
}

/// Turns rows into a request body.
pub trait Serializer: Send + Sync {
    /// The request's `Content-Type`.
    fn content_type(&self) -> &str;
    /// Each row on its own, encoded (no separators).
    fn encode(&self, rows: Rows<'_>) -> Result<Vec<Vec<u8>>>;
    /// Bytes before the first row.
    fn prefix(&self) -> &[u8] {
        b""
    }
    /// Bytes between two rows.
    fn separator(&self) -> &[u8];
    /// Bytes after the last row.
    fn suffix(&self) -> &[u8] {
        b""
    }
}

/// Turns a response body into one probability per row.
pub trait Deserializer: Send + Sync {
    /// The request's `Accept`.
    fn accept(&self) -> &str;
    /// The probabilities in the body of the answer to `rows` rows, in order.
    fn decode(&self, body: &[u8], rows: usize) -> Result<Vec<f32>>;
}

/// `text/csv` rows: numbers separated by commas, missing values as empty fields, no header,
/// no label. A [`DataFrame`] must hold numbers (or booleans) only, in the model's feature
/// order; text columns are refused with their names (they belong to [`JsonSerializer`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvSerializer;

/// `text/csv` answers, in either shape: one probability per line (our server; a `,label`
/// after it is ignored), or all probabilities on one line separated by commas (what
/// SageMaker's XGBoost container answers for real-time requests).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvDeserializer;

/// `application/json` raw records, `{"instances": [{"column": value, ...}, ...]}`, for the
/// server's preprocessing path. Missing values are `null`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSerializer;

/// `application/json` answers, `{"predictions": [{"score": p, ...}, ...]}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDeserializer;

/// A frame column's cells as text (null = `None`): (name, numeric or boolean?, cells).
type TextColumn = (String, bool, Vec<Option<String>>);

/// A frame's cells as text, column by column.
fn frame_cells(df: &DataFrame) -> Result<Vec<TextColumn>> {
    df.columns()
        .iter()
        .map(|c| {
            let dtype = c.dtype();
            let numeric = dtype.is_primitive_numeric() || dtype == &DataType::Boolean;
            let s = c
                .cast(&DataType::String)
                .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))?;
            let ca = s.str().map_err(|e| Error::polars("serializing", e))?;
            let vals = ca.iter().map(|v| v.map(str::to_string)).collect();
            Ok((c.name().to_string(), numeric, vals))
        })
        .collect()
}

impl Serializer for CsvSerializer {
    fn content_type(&self) -> &str {
        "text/csv"
    }
    fn encode(&self, rows: Rows<'_>) -> Result<Vec<Vec<u8>>> {
        match rows {
            Rows::Features(x) => {
                let mut text = F32Text::default();
                Ok((0..x.nrows)
                    .map(|i| {
                        let mut line = String::with_capacity(x.ncols() * 8);
                        codec::csv::write_row(&mut line, x.row(i), &mut text);
                        line.into_bytes()
                    })
                    .collect())
            }
            Rows::Frame(df) => {
                let cells = frame_cells(df)?;
                let text: Vec<&str> = cells
                    .iter()
                    .filter(|(_, numeric, _)| !numeric)
                    .map(|(name, _, _)| name.as_str())
                    .collect();
                ensure!(text.is_empty(), setting "serializer", "CsvSerializer sends numeric features, but columns {} hold text; \
                             preprocess first or use JsonSerializer for raw records",
                            text.join(", "));
                Ok((0..df.height())
                    .map(|i| {
                        let mut out = Vec::new();
                        for (j, (_, _, vals)) in cells.iter().enumerate() {
                            if j > 0 {
                                out.push(b',');
                            }
                            match vals[i].as_deref() {
                                Some("NaN") | Some("inf") | Some("-inf") | None => {}
                                Some("true") => out.push(b'1'),
                                Some("false") => out.push(b'0'),
                                Some(v) => out.extend_from_slice(v.as_bytes()),
                            }
                        }
                        out
                    })
                    .collect())
            }
        }
    }
    fn separator(&self) -> &[u8] {
        b"\n"
    }
}

impl Deserializer for CsvDeserializer {
    fn accept(&self) -> &str {
        "text/csv"
    }
    fn decode(&self, body: &[u8], rows: usize) -> Result<Vec<f32>> {
        let text = std::str::from_utf8(body).map_err(|_| bad_answer("the answer is not UTF-8"))?;
        codec::csv::decode_scores(text, rows).map_err(bad_answer)
    }
}

impl Serializer for JsonSerializer {
    fn content_type(&self) -> &str {
        "application/json"
    }
    fn encode(&self, rows: Rows<'_>) -> Result<Vec<Vec<u8>>> {
        let Rows::Frame(df) = rows else {
            return Err(Error::InvalidSetting {
                name: "serializer".into(),
                reason: "JsonSerializer sends raw customer records (a DataFrame); \
                         use CsvSerializer for a preprocessed FeatureMatrix"
                    .into(),
            });
        };
        let cells = frame_cells(df)?;
        let names: Vec<String> = cells.iter().map(|(name, _, _)| name.clone()).collect();
        let keys = codec::json::encode_keys(&names);
        Ok((0..df.height())
            .map(|i| {
                codec::json::encode_instance(
                    &keys,
                    cells
                        .iter()
                        .map(|(_, numeric, vals)| match vals[i].as_deref() {
                            None => Cell::Null,
                            Some("NaN") | Some("inf") | Some("-inf") if *numeric => Cell::Null,
                            Some(v) if *numeric => Cell::Number(v),
                            Some(v) => Cell::Text(v),
                        }),
                )
            })
            .collect())
    }
    fn prefix(&self) -> &[u8] {
        codec::json::INSTANCES_PREFIX
    }
    fn separator(&self) -> &[u8] {
        codec::json::INSTANCES_SEPARATOR
    }
    fn suffix(&self) -> &[u8] {
        codec::json::INSTANCES_SUFFIX
    }
}

impl Deserializer for JsonDeserializer {
    fn accept(&self) -> &str {
        "application/json"
    }
    fn decode(&self, body: &[u8], _rows: usize) -> Result<Vec<f32>> {
        codec::json::decode_predictions(body).map_err(bad_answer)
    }
}

fn bad_answer(message: impl std::fmt::Display) -> Error {
    Error::Endpoint {
        endpoint: String::new(),
        status: None,
        message: message.to_string(),
    }
}

/// Sends rows to an endpoint and returns one probability per row, in order.
pub struct Predictor {
    transport: Arc<dyn Transport>,
    serializer: Box<dyn Serializer>,
    deserializer: Box<dyn Deserializer>,
    max_payload_bytes: usize,
    max_rows: usize,
    concurrency: usize,
    explain: bool,
    inference_id: Option<String>,
}

/// The custom attribute that asks our endpoint for each row's explanation.
pub const EXPLAIN_ATTRIBUTE: &str = "explain";

impl fmt::Debug for Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Predictor")
            .field("endpoint", &self.transport.describe())
            .field("content_type", &self.serializer.content_type())
            .field("accept", &self.deserializer.accept())
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("max_rows", &self.max_rows)
            .field("concurrency", &self.concurrency)
            .field("explain", &self.explain)
            .field("inference_id", &self.inference_id)
            .finish()
    }
}

impl Predictor {
    /// A predictor with [`CsvSerializer`] and [`CsvDeserializer`], requests of at most 6 MB,
    /// one at a time.
    pub fn new(transport: impl Transport + 'static) -> Self {
        Predictor {
            transport: Arc::new(transport),
            serializer: Box::new(CsvSerializer),
            deserializer: Box::new(CsvDeserializer),
            max_payload_bytes: MAX_PAYLOAD_BYTES,
            max_rows: MAX_ROWS_PER_REQUEST,
            concurrency: 1,
            explain: false,
            inference_id: None,
        }
    }

    /// Send `id` as each request's inference id (SageMaker's `InferenceId`): the endpoint's
    /// data capture keeps it, and outcomes known later are joined to the captures on it
    /// and on each row's place in its request. Rows that take several requests send
    /// `<id>-1`, `<id>-2`, … (the request's number, from 1).
    pub fn with_inference_id(mut self, id: impl Into<String>) -> Self {
        self.inference_id = Some(id.into());
        self
    }

    /// The inference id of request `k` (from 0) of `n`.
    fn request_id(&self, k: usize, n: usize) -> Option<String> {
        self.inference_id.as_ref().map(|id| {
            if n <= 1 {
                id.clone()
            } else {
                format!("{id}-{}", k + 1)
            }
        })
    }

    /// Send the `explain` custom attribute with every request, so that our endpoint's JSON
    /// answers carry each row's base value and contributions (SageMaker passes the
    /// attribute through InvokeEndpoint's `CustomAttributes`). Needs a JSON answer
    /// ([`JsonDeserializer`]); [`Predictor::explain`] returns the explanations themselves.
    pub fn with_explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// Use another serializer (e.g. [`JsonSerializer`] for raw customer records).
    pub fn with_serializer(mut self, serializer: impl Serializer + 'static) -> Self {
        self.serializer = Box::new(serializer);
        self
    }

    /// Use another deserializer (e.g. [`JsonDeserializer`]).
    pub fn with_deserializer(mut self, deserializer: impl Deserializer + 'static) -> Self {
        self.deserializer = Box::new(deserializer);
        self
    }

    /// Cap each request body at `bytes` (1 KiB to 6 MB). Checked by [`Predictor::check`].
    pub fn with_max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Put at most `rows` rows in one request (default 100,000, what the local endpoint
    /// takes; [`MAX_ROWS_PER_REQUEST`]).
    pub fn with_max_rows(mut self, rows: usize) -> Self {
        self.max_rows = rows;
        self
    }

    /// Keep up to `n` requests in flight (default 1). Row order is kept whatever `n`.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Validate the settings.
    pub fn check(&self) -> Result<()> {
        ensure!((1024..=MAX_PAYLOAD_BYTES).contains(&self.max_payload_bytes), setting "max_payload_bytes", "{} is outside 1024..={MAX_PAYLOAD_BYTES} (SageMaker's limit is 6 MB)",
                    self.max_payload_bytes);
        ensure!(self.concurrency != 0, setting "concurrency", "must be ≥ 1");
        ensure!(self.max_rows != 0, setting "max_rows", "must be ≥ 1");
        ensure!(!self.explain || self.deserializer.accept() != "text/csv", setting "explain",
                "needs a JSON answer (with_deserializer(JsonDeserializer)): text/csv carries one score a row");
        Ok(())
    }

    /// The endpoint this predictor talks to.
    pub fn endpoint(&self) -> String {
        self.transport.describe()
    }

    /// The row ranges that [`Predictor::predict`] sends as separate requests: consecutive,
    /// in order, each serialising to at most the payload limit and holding at most
    /// `max_rows` rows.
    pub fn plan<'a>(&self, rows: impl Into<Rows<'a>>) -> Result<Vec<Range<usize>>> {
        self.check()?;
        let encoded = self.serializer.encode(rows.into())?;
        self.chunks(&encoded)
    }

    fn chunks(&self, encoded: &[Vec<u8>]) -> Result<Vec<Range<usize>>> {
        let fixed = self.serializer.prefix().len() + self.serializer.suffix().len();
        let sep = self.serializer.separator().len();
        let mut out = Vec::new();
        let mut start = 0;
        let mut size = fixed;
        for (i, row) in encoded.iter().enumerate() {
            ensure!(fixed + row.len() <= self.max_payload_bytes, setting "max_payload_bytes", "row {} alone serialises to {} bytes, over the {}-byte payload limit",
                        i + 1,
                        fixed + row.len(),
                        self.max_payload_bytes);
            let add = row.len() + if i > start { sep } else { 0 };
            if size + add > self.max_payload_bytes || i - start == self.max_rows {
                out.push(start..i);
                start = i;
                size = fixed + row.len();
            } else {
                size += add;
            }
        }
        if start < encoded.len() {
            out.push(start..encoded.len());
        }
        Ok(out)
    }

    fn body(&self, rows: &[Vec<u8>]) -> Vec<u8> {
        let s = self.serializer.as_ref();
        let len: usize = rows.iter().map(Vec::len).sum::<usize>()
            + rows.len() * s.separator().len()
            + s.prefix().len()
            + s.suffix().len();
        let mut body = Vec::with_capacity(len);
        body.extend_from_slice(s.prefix());
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(s.separator());
            }
            body.extend_from_slice(r);
        }
        body.extend_from_slice(s.suffix());
        body
    }

    fn send(&self, rows: &[Vec<u8>], first_row: usize, id: Option<String>) -> Result<Vec<f32>> {
        let endpoint = || self.transport.describe();
        let body = self.body(rows);
        let answer = self.transport.invoke(
            &body,
            self.serializer.content_type(),
            self.deserializer.accept(),
            Invoke {
                custom_attributes: self.explain.then_some(EXPLAIN_ATTRIBUTE),
                inference_id: id.as_deref(),
            },
        )?;
        let scores = self
            .deserializer
            .decode(&answer, rows.len())
            .map_err(|e| match e {
                Error::Endpoint {
                    status, message, ..
                } => Error::Endpoint {
                    endpoint: endpoint(),
                    status,
                    message,
                },
                other => other,
            })?;
        if scores.len() != rows.len() {
            return Err(Error::Endpoint {
                endpoint: endpoint(),
                status: None,
                message: format!(
                    "sent rows {}..{} ({} rows) but got {} predictions back",
                    first_row + 1,
                    first_row + rows.len(),
                    rows.len(),
                    scores.len()
                ),
            });
        }
        Ok(scores)
    }

    /// One probability per row, in the rows' order. Inputs larger than the payload limit go
    /// as several requests (see [`Predictor::plan`]).
    pub fn predict<'a>(&self, rows: impl Into<Rows<'a>>) -> Result<Vec<f32>> {
        self.check()?;
        let encoded = self.serializer.encode(rows.into())?;
        let chunks = self.chunks(&encoded)?;
        if self.concurrency == 1 || chunks.len() <= 1 {
            let mut out = Vec::with_capacity(encoded.len());
            for (k, c) in chunks.iter().enumerate() {
                let id = self.request_id(k, chunks.len());
                out.extend(self.send(&encoded[c.clone()], c.start, id)?);
            }
            return Ok(out);
        }
        // Workers take the next chunk in turn; answers go to their chunk's slot.
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Result<Vec<f32>>>>> =
            chunks.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..self.concurrency.min(chunks.len()) {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(c) = chunks.get(k) else { break };
                    let r = self.send(
                        &encoded[c.clone()],
                        c.start,
                        self.request_id(k, chunks.len()),
                    );
                    let failed = r.is_err();
                    *slots[k].lock().expect("slot") = Some(r);
                    if failed {
                        // Let the others stop at their next chunk.
                        next.store(chunks.len(), Ordering::SeqCst);
                        break;
                    }
                });
            }
        });
        let mut out = Vec::with_capacity(encoded.len());
        for slot in slots {
            // An empty slot was skipped after an earlier failure, whose error comes first.
            if let Some(r) = slot.into_inner().expect("slot") {
                out.extend(r?);
            }
        }
        if out.len() != encoded.len() {
            return Err(Error::Endpoint {
                endpoint: self.transport.describe(),
                status: None,
                message: "a request failed; see the server's log".into(),
            });
        }
        Ok(out)
    }
}

impl Predictor {
    /// One request of `rows`, encoded by the serializer, and the endpoint's answer, both as
    /// text: what goes over the wire (as boto3's `invoke_endpoint` shows it). The rows must
    /// fit one request.
    pub fn exchange<'a>(&self, rows: impl Into<Rows<'a>>) -> Result<(String, String)> {
        self.check()?;
        let encoded = self.serializer.encode(rows.into())?;
        let chunks = self.chunks(&encoded)?;
        ensure!(chunks.len() <= 1, setting "rows", "{} rows need {} requests: exchange sends one", encoded.len(), chunks.len());
        let body = self.body(&encoded);
        let answer = self.transport.invoke(
            &body,
            self.serializer.content_type(),
            self.deserializer.accept(),
            Invoke {
                custom_attributes: None,
                inference_id: self.inference_id.as_deref(),
            },
        )?;
        Ok((
            String::from_utf8_lossy(&body).into_owned(),
            String::from_utf8_lossy(&answer).into_owned(),
        ))
    }
}

impl Predictor {
    /// Each row's explanation from the endpoint: scores, the base value and the
    /// contributions (by raw column for [`JsonSerializer`] records, by model feature for CSV
    /// rows), asked for with the `explain` custom attribute and a JSON answer whatever the
    /// deserializer. Large inputs go as several requests, as with [`Predictor::predict`].
    pub fn explain<'a>(&self, rows: impl Into<Rows<'a>>) -> Result<Explained> {
        self.check()?;
        let encoded = self.serializer.encode(rows.into())?;
        let mut all: Option<Explained> = None;
        let chunks = self.chunks(&encoded)?;
        for (k, c) in chunks.iter().enumerate() {
            let body = self.body(&encoded[c.clone()]);
            let id = self.request_id(k, chunks.len());
            let answer = self.transport.invoke(
                &body,
                self.serializer.content_type(),
                "application/json",
                Invoke {
                    custom_attributes: Some(EXPLAIN_ATTRIBUTE),
                    inference_id: id.as_deref(),
                },
            )?;
            let a = codec::json::decode_explained(&answer).map_err(|e| Error::Endpoint {
                endpoint: self.transport.describe(),
                status: None,
                message: e.to_string(),
            })?;
            let part = Explained {
                explanations: Explanations {
                    names: a.names,
                    nrows: a.scores.len(),
                    base_value: a.base_value,
                    values: a.values,
                },
                scores: a.scores,
            };
            if part.scores.len() != c.len() {
                return Err(Error::Endpoint {
                    endpoint: self.transport.describe(),
                    status: None,
                    message: format!(
                        "sent rows {}..{} but got {} explanations back",
                        c.start + 1,
                        c.end,
                        part.scores.len()
                    ),
                });
            }
            match &mut all {
                None => all = Some(part),
                Some(a) => {
                    a.scores.extend(part.scores);
                    a.explanations.values.extend(part.explanations.values);
                    a.explanations.nrows += part.explanations.nrows;
                }
            }
        }
        Ok(all.unwrap_or(Explained {
            scores: Vec::new(),
            explanations: Explanations {
                names: Vec::new(),
                nrows: 0,
                base_value: 0.0,
                values: Vec::new(),
            },
        }))
    }
}

/// What [`Predictor::explain`] returns: the endpoint's scores and explanations, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// One probability per row.
    pub scores: Vec<f32>,
    /// Each row's base value and contributions, by the names the endpoint used.
    pub explanations: Explanations,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::http::HttpEndpoint;
    use polars::prelude::Column;

    /// Echoes each CSV line's first field as the "probability", so order is visible.
    struct Echo {
        calls: Mutex<Vec<usize>>,
    }

    impl Transport for Echo {
        fn invoke(
            &self,
            body: &[u8],
            content_type: &str,
            accept: &str,
            _options: Invoke<'_>,
        ) -> Result<Vec<u8>> {
            assert_eq!((content_type, accept), ("text/csv", "text/csv"));
            assert!(body.len() <= 1024, "request of {} bytes", body.len());
            self.calls.lock().unwrap().push(body.len());
            let text = std::str::from_utf8(body).unwrap();
            let firsts: Vec<&str> = text.lines().map(|l| l.split(',').next().unwrap()).collect();
            Ok((firsts.join("\n") + "\n").into_bytes())
        }
        fn describe(&self) -> String {
            "echo".into()
        }
    }

    fn matrix(n: usize) -> FeatureMatrix {
        FeatureMatrix {
            names: vec!["a".into(), "b".into(), "c".into()],
            nrows: n,
            values: (0..n).flat_map(|i| [i as f32, f32::NAN, 0.5]).collect(),
        }
    }

    #[test]
    fn large_inputs_are_cut_under_the_limit_and_come_back_in_order() {
        let x = matrix(1000);
        for concurrency in [1, 4] {
            let p = Predictor::new(Echo {
                calls: Mutex::new(Vec::new()),
            })
            .with_max_payload_bytes(1024)
            .with_concurrency(concurrency);
            let plan = p.plan(&x).unwrap();
            assert!(plan.len() > 5, "{} requests", plan.len());
            assert_eq!(plan.first().unwrap().start, 0);
            assert_eq!(plan.last().unwrap().end, 1000);
            assert!(plan.windows(2).all(|w| w[0].end == w[1].start));
            let got = p.predict(&x).unwrap();
            let want: Vec<f32> = (0..1000).map(|i| i as f32).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn requests_hold_at_most_max_rows_rows() {
        let p = Predictor::new(Echo {
            calls: Mutex::new(Vec::new()),
        })
        .with_max_rows(300);
        let plan = p.plan(&matrix(1000)).unwrap();
        assert_eq!(plan, vec![0..300, 300..600, 600..900, 900..1000]);
        assert!(p.with_max_rows(0).check().is_err());
    }

    #[test]
    fn csv_rows_leave_missing_values_empty() {
        let rows = CsvSerializer.encode(Rows::Features(&matrix(2))).unwrap();
        assert_eq!(rows, vec![b"0,,0.5".to_vec(), b"1,,0.5".to_vec()]);
    }

    #[test]
    fn a_row_over_the_limit_is_named() {
        let x = FeatureMatrix {
            names: (0..300).map(|i| format!("f{i}")).collect(),
            nrows: 3,
            values: vec![0.123_456_7; 900],
        };
        let p = Predictor::new(Echo {
            calls: Mutex::new(Vec::new()),
        })
        .with_max_payload_bytes(1024);
        let e = p.plan(&x).unwrap_err().to_string();
        assert!(e.contains("row 1 alone serialises to"), "{e}");
    }

    #[test]
    fn json_records_keep_types_and_nulls() {
        let df = DataFrame::new(
            2,
            vec![
                Column::new("age".into(), [Some(41i64), None]),
                Column::new("job".into(), [Some("admin."), Some("say \"hi\"")]),
            ],
        )
        .unwrap();
        let rows = JsonSerializer.encode(Rows::Frame(&df)).unwrap();
        assert_eq!(rows[0], br#"{"age":41,"job":"admin."}"#.to_vec());
        assert_eq!(rows[1], br#"{"age":null,"job":"say \"hi\""}"#.to_vec());
        let e = CsvSerializer.encode(Rows::Frame(&df)).unwrap_err();
        assert!(e.to_string().contains("columns job hold text"), "{e}");
    }

    #[test]
    fn deserializers_read_both_answer_shapes() {
        let csv = |body: &[u8], rows| CsvDeserializer.decode(body, rows);
        assert_eq!(csv(b"0.25,1\n0.5\n", 2).unwrap(), [0.25, 0.5]);
        // SageMaker's container: one line, comma-separated.
        assert_eq!(csv(b"0.25,0.5,0.75", 3).unwrap(), [0.25, 0.5, 0.75]);
        assert_eq!(csv(b"0.25,1\n", 1).unwrap(), [0.25]);
        assert!(csv(b"0.2\nnope\n", 2).is_err());
        let json = br#"{"predictions":[{"score":0.25,"label":0},{"score":1}]}"#;
        assert_eq!(JsonDeserializer.decode(json, 2).unwrap(), [0.25, 1.0]);
    }

    #[test]
    fn settings_are_checked() {
        let p = || {
            Predictor::new(Echo {
                calls: Mutex::new(Vec::new()),
            })
        };
        assert!(p().with_max_payload_bytes(10).check().is_err());
        assert!(p()
            .with_max_payload_bytes(MAX_PAYLOAD_BYTES + 1)
            .check()
            .is_err());
        assert!(p().with_concurrency(0).check().is_err());
        assert!(HttpEndpoint::new("https://x:1").is_err());
        assert!(HttpEndpoint::new("http://127.0.0.1:8080/invocations").is_err());
        assert_eq!(
            HttpEndpoint::new("http://127.0.0.1:8080/")
                .unwrap()
                .describe(),
            "http://127.0.0.1:8080"
        );
    }
}
