//! Batch scoring — SageMaker batch transform, locally.
//!
//! [`score_file`] reads a raw customer file (CSV or Parquet, with or without the target
//! column) in chunks of [`BatchConfig::chunk_rows`] rows, runs each chunk through the model's
//! stored preprocessor and booster, and appends `id` (when the file has one), `probability`
//! and `label` to the output. Memory stays bounded by the chunk size, not the file size: a
//! 5-million-row file scores in a few hundred MB (see the README for the measured figure).
//!
//! The output is written atomically: a failure half-way (a bad value in row 3,000,000) leaves
//! no output file behind, and the error names the file, column and row.
//!
//! ```no_run
//! use purchase_predict::serve::batch::{score_file, BatchConfig};
//! use purchase_predict::util::progress::Silent;
//! # fn demo() -> purchase_predict::Result<()> {
//! let config = BatchConfig::new("out/model.tar.gz", "customers.csv", "scores.csv");
//! let report = score_file(&config, &mut Silent)?;
//! println!("{} customers, {} predicted buyers", report.rows, report.predicted_buyers);
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use crate::codec::csv;
use crate::codec::number::F32Text;
use crate::data::{detect_delimiter, is_parquet, split_header};
use crate::error::{ensure, Check, Error, IntoValid, Result};
use crate::metrics::Threshold;
use crate::model::artifact::Artifact;
use crate::model::explain::explain;
use crate::util::files::{check_output, write_atomically};
use crate::util::progress::Progress;
use crate::util::timing::peak_rss_bytes;

/// Rows per chunk unless told otherwise: large enough that libxgboost's threads have work,
/// small enough that a chunk's text, frame and features stay within tens of MB.
pub const DEFAULT_CHUNK_ROWS: usize = 50_000;

/// What to score and where to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// `model.tar.gz` written by `run`.
    pub model: PathBuf,
    /// Customers to score: CSV (any of `, ; tab |`) or Parquet (`.parquet`, `.pq`).
    pub input: PathBuf,
    /// Where to write the scores: `.parquet`/`.pq` for Parquet, CSV otherwise.
    pub output: PathBuf,
    /// Id column to copy into the output. `None`: the model's id column when the input has
    /// it, else no id.
    pub id: Option<String>,
    /// Rows per chunk (default [`DEFAULT_CHUNK_ROWS`]).
    pub chunk_rows: usize,
    /// Probability at or above which `label` is 1. `None`: the threshold stored in the model.
    pub threshold: Option<Threshold>,
    /// CSV delimiter; `None` detects it from the header.
    pub delimiter: Option<u8>,
    /// Add each customer's `explain` largest contributions by raw column (0 = none):
    /// columns `reason_1`, `contribution_1`, ... (log-odds; positive pushes towards buying).
    pub explain: usize,
}

/// The most reasons per customer that [`BatchConfig::explain`] may ask for.
pub const MAX_REASONS: usize = 20;

impl BatchConfig {
    /// Score `input` with `model` into `output`, with the defaults above.
    pub fn new(
        model: impl Into<PathBuf>,
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
    ) -> Self {
        BatchConfig {
            model: model.into(),
            input: input.into(),
            output: output.into(),
            id: None,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            threshold: None,
            delimiter: None,
            explain: 0,
        }
    }

    /// Add each customer's `top` largest contributions (by raw column) to the output.
    pub fn with_explain(mut self, top: usize) -> Self {
        self.explain = top;
        self
    }

    /// Copy this id column into the output.
    pub fn with_id(mut self, column: impl Into<String>) -> Self {
        self.id = Some(column.into());
        self
    }

    /// Rows per chunk.
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows;
        self
    }

    /// Label threshold.
    pub fn with_threshold(mut self, threshold: Threshold) -> Self {
        self.threshold = Some(threshold);
        self
    }
}

impl Check for BatchConfig {
    /// Validate the settings (chunk size, reasons; the output is neither the input nor
    /// the model, and is a regular file or a new path).
    fn check_ref(&self) -> Result<()> {
        ensure!(self.chunk_rows != 0, setting "chunk_rows", "must be ≥ 1");
        ensure!(self.explain <= MAX_REASONS, setting "explain", "{} reasons per customer; at most {MAX_REASONS}", self.explain);
        // Before any scoring: never the input or the model, never a folder or a device.
        check_output(
            &self.output,
            &[("input", &self.input), ("model", &self.model)],
        )?;
        Ok(())
    }
}

/// What [`score_file`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchReport {
    /// Customers scored (= output rows).
    pub rows: usize,
    /// Chunks read.
    pub chunks: usize,
    /// Rows with `label` 1.
    pub predicted_buyers: usize,
    /// The threshold used for `label`.
    pub threshold: Threshold,
    /// The id column copied to the output, if any.
    pub id_column: Option<String>,
    /// Wall time.
    pub seconds: f64,
    /// Peak resident memory of this process so far (Linux), in bytes.
    pub peak_rss_bytes: Option<u64>,
    /// The output file.
    pub output: PathBuf,
}

/// One chunk: the needed columns as read, and the 1-based data row of each frame row.
struct Chunk {
    frame: DataFrame,
    rows: Vec<usize>,
}

trait ChunkSource {
    /// Read only these columns (in the file's order).
    fn select(&mut self, columns: Vec<String>);
    fn next_chunk(&mut self) -> Result<Option<Chunk>>;
    /// Progress so far and in total, in the source's unit (bytes or rows).
    fn position(&self) -> (u64, u64);
}

/// A CSV read a chunk of records at a time. Records may span lines inside quotes; blank
/// lines are skipped (but counted, so row numbers match the file).
struct CsvChunks {
    path: PathBuf,
    reader: BufReader<File>,
    header: Vec<u8>,
    separator: u8,
    columns: Arc<[PlSmallStr]>,
    chunk_rows: usize,
    row: usize,
    read: u64,
    total: u64,
}

impl CsvChunks {
    fn open(path: &Path, delimiter: Option<u8>, chunk_rows: usize) -> Result<(Self, Vec<String>)> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let total = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut header = Vec::new();
        let n = reader
            .read_until(b'\n', &mut header)
            .map_err(|e| Error::io(path, e))?;
        crate::data::check_text_encoding(path, &header)?;
        let text = String::from_utf8_lossy(&header)
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.trim().is_empty() {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                detail: "no header line".into(),
            });
        }
        let separator = delimiter.unwrap_or_else(|| detect_delimiter(&text));
        let names = split_header(&text, separator);
        let header = [text.as_bytes(), b"\n"].concat();
        Ok((
            CsvChunks {
                path: path.to_path_buf(),
                reader,
                header,
                separator,
                columns: Arc::from(Vec::<PlSmallStr>::new()),
                chunk_rows,
                row: 0,
                read: n as u64,
                total,
            },
            names,
        ))
    }
}

impl ChunkSource for CsvChunks {
    fn select(&mut self, columns: Vec<String>) {
        self.columns = columns.iter().map(|c| c.as_str().into()).collect();
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut buf = self.header.clone();
        let mut rows = Vec::new();
        let mut record = Vec::new();
        while rows.len() < self.chunk_rows {
            record.clear();
            let mut quotes = 0usize;
            loop {
                let start = record.len();
                let n = self
                    .reader
                    .read_until(b'\n', &mut record)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.read += n as u64;
                quotes += record[start..].iter().filter(|&&b| b == b'"').count();
                if n == 0 || quotes % 2 == 0 {
                    break;
                }
            }
            if record.is_empty() {
                break; // end of file
            }
            self.row += 1;
            if quotes % 2 == 1 {
                return Err(Error::Shape(format!(
                    "{}: row {} opens a quote that is never closed",
                    self.path.display(),
                    self.row
                )));
            }
            if record.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            buf.extend_from_slice(&record);
            if !record.ends_with(b"\n") {
                buf.push(b'\n');
            }
            rows.push(self.row);
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let (first, last) = (rows[0], rows[rows.len() - 1]);
        let context = || format!("{} rows {first}..={last}", self.path.display());
        // Every column as text: the preprocessor parses numbers strictly and names the row
        // of a bad value, and a chunk whose values happen to look like integers cannot
        // change a column's type.
        let frame = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_columns(Some(self.columns.clone()))
            .map_parse_options(|o| o.with_separator(self.separator).with_quote_char(Some(b'"')))
            .into_reader_with_file_handle(Cursor::new(buf))
            .finish()
            .map_err(|e| Error::polars(context(), e))?;
        if frame.height() != rows.len() {
            return Err(Error::Shape(format!(
                "{}: read {} records but polars parsed {}",
                context(),
                rows.len(),
                frame.height()
            )));
        }
        Ok(Some(Chunk { frame, rows }))
    }

    fn position(&self) -> (u64, u64) {
        (self.read.min(self.total), self.total)
    }
}

/// A Parquet file read a row slice at a time.
struct ParquetChunks {
    path: PathBuf,
    columns: Vec<String>,
    chunk_rows: usize,
    offset: usize,
    total: usize,
}

impl ParquetChunks {
    fn open(path: &Path, chunk_rows: usize) -> Result<(Self, Vec<String>)> {
        let context = || format!("reading {}", path.display());
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = ParquetReader::new(file);
        let names: Vec<String> = reader
            .schema()
            .map_err(|e| Error::polars(context(), e))?
            .iter_names()
            .map(|n| n.to_string())
            .collect();
        let total = reader.num_rows().map_err(|e| Error::polars(context(), e))?;
        Ok((
            ParquetChunks {
                path: path.to_path_buf(),
                columns: Vec::new(),
                chunk_rows,
                offset: 0,
                total,
            },
            names,
        ))
    }
}

impl ChunkSource for ParquetChunks {
    fn select(&mut self, columns: Vec<String>) {
        self.columns = columns;
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        if self.offset >= self.total {
            return Ok(None);
        }
        let len = self.chunk_rows.min(self.total - self.offset);
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let frame = ParquetReader::new(file)
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((self.offset, len)))
            .finish()
            .map_err(|e| {
                Error::polars(
                    format!(
                        "{} rows {}..={}",
                        self.path.display(),
                        self.offset + 1,
                        self.offset + len
                    ),
                    e,
                )
            })?;
        crate::data::check_flat_columns(&self.path, &frame, |_| true)?;
        let rows = (self.offset + 1..=self.offset + frame.height()).collect();
        self.offset += len;
        Ok(Some(Chunk { frame, rows }))
    }

    fn position(&self) -> (u64, u64) {
        (self.offset as u64, self.total as u64)
    }
}

/// Where scores go.
enum Sink<'w> {
    Csv(&'w mut dyn Write),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'w mut dyn Write>>),
}

fn csv_field(out: &mut Vec<u8>, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

impl Sink<'_> {
    fn write(
        &mut self,
        ids: Option<(&str, Vec<Option<String>>)>,
        scores: &[f32],
        labels: &[u8],
        reasons: &[Vec<(&str, f32)>],
        out_path: &Path,
    ) -> Result<()> {
        match self {
            Sink::Csv(w) => {
                let mut buf = Vec::with_capacity(scores.len() * 24);
                let mut text = F32Text::default();
                for (i, (p, l)) in scores.iter().zip(labels).enumerate() {
                    if let Some((_, ids)) = &ids {
                        csv_field(&mut buf, ids[i].as_deref().unwrap_or(""));
                        buf.push(b',');
                    }
                    text.push_bytes(&mut buf, *p);
                    buf.extend_from_slice(if *l == 1 { b",1" } else { b",0" });
                    for (name, value) in reasons.get(i).into_iter().flatten() {
                        buf.push(b',');
                        csv_field(&mut buf, name);
                        buf.push(b',');
                        text.push_bytes(&mut buf, *value);
                    }
                    buf.push(b'\n');
                }
                w.write_all(&buf).map_err(|e| Error::io(out_path, e))
            }
            Sink::Parquet(w) => {
                let mut cols = Vec::with_capacity(3);
                if let Some((name, ids)) = ids {
                    cols.push(Column::new(name.into(), ids));
                }
                cols.push(Column::new("probability".into(), scores));
                // Int32: polars is built without the u8 dtype.
                let labels: Vec<i32> = labels.iter().map(|&l| i32::from(l)).collect();
                cols.push(Column::new("label".into(), labels));
                let k = reasons.first().map_or(0, Vec::len);
                for j in 0..k {
                    let names: Vec<&str> = reasons.iter().map(|r| r[j].0).collect();
                    let values: Vec<f32> = reasons.iter().map(|r| r[j].1).collect();
                    cols.push(Column::new(format!("reason_{}", j + 1).into(), names));
                    cols.push(Column::new(
                        format!("contribution_{}", j + 1).into(),
                        values,
                    ));
                }
                let df = DataFrame::new(scores.len(), cols)
                    .map_err(|e| Error::polars("output chunk", e))?;
                w.write_batch(&df)
                    .map_err(|e| Error::polars(format!("writing {}", out_path.display()), e))
            }
        }
    }
}

/// Score a raw customer file with a trained model, streaming; see the module docs.
pub fn score_file(
    config: impl IntoValid<BatchConfig>,
    progress: &mut dyn Progress,
) -> Result<BatchReport> {
    let config = config.into_valid()?;
    let config: &BatchConfig = &config;
    let started = Instant::now();
    let artifact = Artifact::load(&config.model)?;
    let input = &config.input;
    if std::fs::metadata(input)
        .map_err(|e| Error::io(input, e))?
        .len()
        == 0
    {
        return Err(Error::EmptyFile {
            path: input.clone(),
            detail: "0 bytes".into(),
        });
    }
    let (mut source, available): (Box<dyn ChunkSource>, Vec<String>) = if is_parquet(input) {
        let (s, names) = ParquetChunks::open(input, config.chunk_rows)?;
        (Box::new(s), names)
    } else {
        let (s, names) = CsvChunks::open(input, config.delimiter, config.chunk_rows)?;
        (Box::new(s), names)
    };

    let needed: Vec<String> = artifact
        .preprocessor
        .input_columns()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing: Vec<String> = needed
        .iter()
        .filter(|c| !available.contains(c))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingInputColumns {
            path: input.clone(),
            columns: missing,
        });
    }
    let id_column = match &config.id {
        Some(id) if available.contains(id) => Some(id.clone()),
        Some(id) => {
            return Err(Error::UnknownColumn {
                option: "id".into(),
                column: id.clone(),
                available,
            })
        }
        None => artifact
            .manifest
            .id_column
            .clone()
            .filter(|id| available.contains(id)),
    };
    let mut columns = needed.clone();
    if let Some(id) = &id_column {
        if !columns.contains(id) {
            columns.push(id.clone());
        }
    }
    // Tell the source which columns to read (in file order for CSV, as polars wants).
    let projected: Vec<String> = available
        .iter()
        .filter(|c| columns.contains(c))
        .cloned()
        .collect();
    source.select(projected);

    let threshold = config.threshold.unwrap_or(artifact.manifest.threshold);
    // Explanations by raw column: at most as many reasons as there are columns.
    let top = config.explain.min(artifact.preprocessor.columns.len());

    // Progress in percent of the input (bytes for CSV, rows for Parquet).
    let percent = |(done, total): (u64, u64)| (done * 100).checked_div(total).unwrap_or(100);
    progress.start("scoring (% of input)", 100);
    let mut rows = 0usize;
    let mut chunks = 0usize;
    let mut buyers = 0usize;
    let out_path = config.output.clone();
    write_atomically(&config.output, |w| {
        let mut sink = if is_parquet(&out_path) {
            let mut fields = Vec::new();
            if let Some(id) = &id_column {
                fields.push(Field::new(id.as_str().into(), DataType::String));
            }
            fields.push(Field::new("probability".into(), DataType::Float32));
            fields.push(Field::new("label".into(), DataType::Int32));
            for j in 1..=top {
                fields.push(Field::new(format!("reason_{j}").into(), DataType::String));
                fields.push(Field::new(
                    format!("contribution_{j}").into(),
                    DataType::Float32,
                ));
            }
            let schema = Schema::from_iter(fields);
            Sink::Parquet(Box::new(ParquetWriter::new(w).batched(&schema).map_err(
                |e| Error::polars(format!("writing {}", out_path.display()), e),
            )?))
        } else {
            let mut header = Vec::new();
            if let Some(id) = &id_column {
                csv_field(&mut header, id);
                header.push(b',');
            }
            header.extend_from_slice(b"probability,label");
            for j in 1..=top {
                header.extend_from_slice(format!(",reason_{j},contribution_{j}").as_bytes());
            }
            header.push(b'\n');
            w.write_all(&header).map_err(|e| Error::io(&out_path, e))?;
            Sink::Csv(w)
        };
        while let Some(chunk) = source.next_chunk()? {
            let x = artifact
                .preprocessor
                .transform(&chunk.frame)
                .map_err(|e| match e {
                    Error::UnparseableNumeric {
                        column, row, value, ..
                    } => Error::UnparseableNumeric {
                        column,
                        row: chunk.rows[row - 1],
                        value,
                        hint: format!(" (in {})", input.display()),
                    },
                    other => other,
                })?;
            let scores = artifact.model.predict(&x)?;
            let labels: Vec<u8> = scores.iter().map(|&p| threshold.label(p)).collect();
            let explained = if top > 0 {
                Some(explain(&artifact.model, &x)?.by_column(&artifact.preprocessor)?)
            } else {
                None
            };
            let reasons: Vec<Vec<(&str, f32)>> = match &explained {
                Some(e) => (0..e.nrows).map(|i| e.top(i, top)).collect(),
                None => Vec::new(),
            };
            buyers += labels.iter().map(|&l| l as usize).sum::<usize>();
            let ids = match &id_column {
                Some(id) => {
                    let c = chunk
                        .frame
                        .column(id)
                        .and_then(|c| c.cast(&DataType::String))
                        .map_err(|e| Error::polars(format!("id column `{id}`"), e))?;
                    let ca = c.str().map_err(|e| Error::polars("id column", e))?;
                    Some((
                        id.as_str(),
                        ca.iter().map(|v| v.map(str::to_string)).collect(),
                    ))
                }
                None => None,
            };
            sink.write(ids, &scores, &labels, &reasons, &out_path)?;
            rows += scores.len();
            chunks += 1;
            progress.update(percent(source.position()), &format!("{rows} rows"));
        }
        // Refused before the rename: an existing output stays as it was.
        if rows == 0 {
            return Err(Error::EmptyFile {
                path: input.clone(),
                detail: "no data rows".into(),
            });
        }
        if let Sink::Parquet(w) = &mut sink {
            w.finish()
                .map_err(|e| Error::polars(format!("writing {}", out_path.display()), e))?;
        }
        Ok(())
    })?;
    progress.finish(&format!("{rows} rows"));
    Ok(BatchReport {
        rows,
        chunks,
        predicted_buyers: buyers,
        threshold,
        id_column,
        seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
        output: config.output.clone(),
    })
}

/// SageMaker's batch transform contract on one file, streaming: `input` holds preprocessed
/// features (headerless CSV, the model's feature order), `output` gets one score per line.
/// Reads `chunk_rows` lines at a time, so memory stays bounded by the chunk, not the file;
/// the output is written atomically, and errors name the file and line.
pub fn transform_file(
    artifact: &Artifact,
    input: &Path,
    output: &Path,
    chunk_rows: usize,
) -> Result<usize> {
    check_output(output, &[("input", input)])?;
    let n = artifact.model.feature_names.len();
    let file = File::open(input).map_err(|e| Error::io(input, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut rows = 0;
    write_atomically(output, |w| {
        let mut lines_before = 0;
        let mut chunk = String::new();
        loop {
            chunk.clear();
            let mut lines = 0;
            while lines < chunk_rows.max(1) {
                let read = reader
                    .read_line(&mut chunk)
                    .map_err(|e| Error::io(input, e))?;
                if read == 0 {
                    break;
                }
                lines += 1;
            }
            if lines == 0 {
                return Ok(());
            }
            let values = csv::parse_csv_rows_after(&chunk, n, lines_before)
                .map_err(|m| Error::Shape(format!("{}: {m}", input.display())))?;
            let x = crate::data::FeatureMatrix {
                names: artifact.model.feature_names.clone(),
                nrows: values.len() / n.max(1),
                values,
            };
            let scores = artifact.model.predict(&x)?;
            rows += scores.len();
            w.write_all(csv::encode_scores(&scores, None).as_bytes())
                .map_err(|e| Error::io(output, e))?;
            lines_before += lines;
        }
    })?;
    Ok(rows)
}
