//! A table read in batches, for tables larger than memory (`run --streaming`): a CSV file
//! in blocks of whole rows (a quoted field may hold line breaks), a Parquet file by row
//! groups. Each batch is loaded as [`super::load`] loads a table (target mapped to 0/1, the
//! id kept aside, left-out columns dropped, numeric and categorical columns coerced), with
//! the column types of the first batch: a later value that does not fit them is an error
//! naming the rows of its batch, its own row and its column. A column with no value in the
//! first 10,000 rows is read as text unless declared numeric.
//!
//! ```no_run
//! use purchase_predict::data::{batches::TableBatches, LoadOptions};
//! let mut batches = TableBatches::open("big.csv", &LoadOptions::new("purchased"), 16 << 20)?;
//! while let Some(batch) = batches.next_batch()? {
//!     println!("rows {}..{}", batch.first_row, batch.first_row + batch.labels.len());
//! }
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::load::{check_named_columns, coerce_types, map_target};
use super::read::{
    check_flat_columns, detect_delimiter, drop_blank_rows, is_parquet, split_header,
};
use super::read::{check_text_encoding, INFER_ROWS};
use super::LoadOptions;
use crate::error::{Error, Result};

/// Bytes of CSV text read per batch by default (16 MiB: about 220,000 rows of the demo
/// table). Larger batches were no faster and took more memory: on 3 million rows, 64 MiB
/// batches peaked at 663 MB, 16 MiB ones at 440 MB.
pub const DEFAULT_BATCH_BYTES: usize = 16 << 20;

/// Rows of a batch, loaded.
#[derive(Debug, Clone)]
pub struct Batch {
    /// 0-based index of the batch's first row among the table's data rows.
    pub first_row: usize,
    /// Feature columns, typed as the first batch's.
    pub features: DataFrame,
    /// One 0/1 label per row.
    pub labels: Vec<u8>,
    /// The id column, when one was named.
    pub ids: Option<Column>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True for a batch without rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

enum Source {
    Csv {
        reader: BufReader<File>,
        /// The header line, as the file has it (without a byte-order mark).
        header: Vec<u8>,
        separator: u8,
        /// Bytes read past the last whole row.
        carry: Vec<u8>,
        done: bool,
    },
    Parquet {
        /// (first row, rows) of each row group, read in order.
        groups: Vec<(usize, usize)>,
        next: usize,
    },
}

/// A table read batch by batch; see the [module](self).
pub struct TableBatches {
    path: PathBuf,
    options: LoadOptions,
    source: Source,
    batch_bytes: usize,
    /// The polars schema of the first batch (CSV), which every later batch is read with.
    schema: Option<SchemaRef>,
    /// The feature columns' kinds after the first batch's coercion: (numeric, categorical).
    kinds: Option<(Vec<String>, Vec<String>)>,
    /// Values of the target seen besides `options.positive` (at most one is allowed).
    others: BTreeSet<String>,
    rows: usize,
    /// Bytes (CSV) or row groups (Parquet) read, and their total.
    done: u64,
    total: u64,
}

impl TableBatches {
    /// Open `path` (CSV or Parquet) to be read in batches of about `batch_bytes` of CSV text
    /// (a Parquet file's batches are its row groups). The columns `options` names are
    /// checked against the header here.
    pub fn open(path: impl AsRef<Path>, options: &LoadOptions, batch_bytes: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.len() == 0 {
            return Err(Error::EmptyFile {
                path,
                detail: "0 bytes".into(),
            });
        }
        let (source, names) = if is_parquet(&path) {
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let mut reader = ParquetReader::new(file);
            let context = || format!("reading {}", path.display());
            let schema = reader.schema().map_err(|e| Error::polars(context(), e))?;
            let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
            let metadata = reader
                .get_metadata()
                .map_err(|e| Error::polars(context(), e))?;
            let mut groups = Vec::new();
            let mut first = 0;
            for g in &metadata.row_groups {
                groups.push((first, g.num_rows()));
                first += g.num_rows();
            }
            (Source::Parquet { groups, next: 0 }, names)
        } else {
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let mut reader = BufReader::with_capacity(1 << 20, file);
            let mut header = Vec::new();
            reader
                .read_until(b'\n', &mut header)
                .map_err(|e| Error::io(&path, e))?;
            check_text_encoding(&path, &header)?;
            if header.starts_with("\u{feff}".as_bytes()) {
                header.drain(..3);
            }
            let text = String::from_utf8_lossy(&header)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            if text.trim().is_empty() {
                return Err(Error::EmptyFile {
                    path,
                    detail: "no header line".into(),
                });
            }
            let separator = options.delimiter.unwrap_or_else(|| detect_delimiter(&text));
            let names = split_header(&text, separator);
            if !header.ends_with(b"\n") {
                header.push(b'\n');
            }
            (
                Source::Csv {
                    reader,
                    header,
                    separator,
                    carry: Vec::new(),
                    done: false,
                },
                names,
            )
        };
        check_named_columns(&path, &names, options)?;
        Ok(TableBatches {
            path,
            options: options.clone(),
            source,
            batch_bytes: batch_bytes.max(1 << 10),
            schema: None,
            kinds: None,
            others: BTreeSet::new(),
            rows: 0,
            done: 0,
            total: 0,
        }
        .with_total(meta.len()))
    }

    fn with_total(mut self, bytes: u64) -> Self {
        match &self.source {
            Source::Parquet { groups, .. } => self.total = groups.len() as u64,
            Source::Csv { header, .. } => {
                self.total = bytes;
                self.done = header.len() as u64;
            }
        }
        self
    }

    /// How far the reading is: (done, total) in bytes of a CSV file or row groups of a
    /// Parquet file.
    pub fn progress(&self) -> (u64, u64) {
        (self.done.min(self.total), self.total)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Data rows read so far.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// The next batch, or `None` after the last. A batch without data rows (blank lines) is
    /// skipped.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        loop {
            let Some(raw) = self.next_frame()? else {
                if self.rows == 0 {
                    return Err(Error::EmptyFile {
                        path: self.path.clone(),
                        detail: "no data rows".into(),
                    });
                }
                return Ok(None);
            };
            let raw = drop_blank_rows(raw)?;
            if raw.height() == 0 {
                continue;
            }
            let first_row = self.rows;
            let n = raw.height();
            let batch = self
                .load(raw)
                .map_err(|e| in_batch(&self.path, first_row, n, e))?;
            self.rows += n;
            return Ok(Some(Batch { first_row, ..batch }));
        }
    }

    /// The next block of rows as read (no target handling yet).
    fn next_frame(&mut self) -> Result<Option<DataFrame>> {
        let path = self.path.clone();
        match &mut self.source {
            Source::Parquet { groups, next } => {
                let Some(&(first, rows)) = groups.get(*next) else {
                    return Ok(None);
                };
                *next += 1;
                self.done += 1;
                let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
                let df = ParquetReader::new(file)
                    .with_slice(Some((first, rows)))
                    .finish()
                    .map_err(|e| {
                        in_batch(
                            &path,
                            first,
                            rows,
                            Error::polars(format!("reading {}", path.display()), e),
                        )
                    })?;
                Ok(Some(df))
            }
            Source::Csv {
                reader,
                header,
                separator,
                carry,
                done,
            } => {
                if *done && carry.is_empty() {
                    return Ok(None);
                }
                // Read until the block holds at least one whole row past `batch_bytes`, or
                // the file ends.
                let mut text = std::mem::take(carry);
                let mut cut = None;
                while !*done {
                    let start = text.len();
                    let want = match self.batch_bytes.saturating_sub(start) {
                        0 => 1 << 16,
                        left => left,
                    };
                    text.reserve(want);
                    let read = reader
                        .by_ref()
                        .take(want as u64)
                        .read_to_end(&mut text)
                        .map_err(|e| Error::io(&path, e))?;
                    if read == 0 {
                        *done = true;
                        break;
                    }
                    if text.len() >= self.batch_bytes {
                        cut = last_row_end(&text);
                        if cut.is_some() {
                            break;
                        }
                    }
                }
                if let Some(end) = cut {
                    *carry = text.split_off(end);
                }
                if text.iter().all(|b| b.is_ascii_whitespace()) {
                    return Ok(None);
                }
                self.done += text.len() as u64;
                let mut block = Vec::with_capacity(header.len() + text.len());
                block.extend_from_slice(header);
                block.extend_from_slice(&text);
                drop(text);
                let separator = *separator;
                let parse = |schema: Option<SchemaRef>, block: &[u8]| {
                    CsvReadOptions::default()
                        .with_has_header(true)
                        .with_infer_schema_length(Some(INFER_ROWS))
                        .with_schema(schema)
                        .with_rechunk(true)
                        .map_parse_options(|o| {
                            o.with_separator(separator).with_quote_char(Some(b'"'))
                        })
                        .into_reader_with_file_handle(Cursor::new(block))
                        .finish()
                };
                let first_row = self.rows;
                match parse(self.schema.clone(), &block) {
                    Ok(df) => {
                        if self.schema.is_none() {
                            self.schema = Some(Arc::new(df.schema().as_ref().clone()));
                        }
                        Ok(Some(df))
                    }
                    Err(e) => Err(self.explain_misfit(block, first_row, e)),
                }
            }
        }
    }

    /// Why a CSV block does not read with the first block's types: the first value that does
    /// not fit its column's type, found by reading the block as text.
    fn explain_misfit(&self, block: Vec<u8>, first_row: usize, polars: PolarsError) -> Error {
        let Source::Csv { separator, .. } = &self.source else {
            unreachable!("CSV only")
        };
        let as_text = self.schema.as_ref().and_then(|schema| {
            let text: Schema = schema
                .iter_names()
                .map(|n| Field::new(n.clone(), DataType::String))
                .collect();
            CsvReadOptions::default()
                .with_has_header(true)
                .with_schema(Some(Arc::new(text)))
                .map_parse_options(|o| o.with_separator(*separator).with_quote_char(Some(b'"')))
                .into_reader_with_file_handle(Cursor::new(block))
                .finish()
                .ok()
                .map(|df| (schema.clone(), df))
        });
        let generic = |rows: usize| {
            in_batch(
                &self.path,
                first_row,
                rows,
                Error::polars(format!("reading {}", self.path.display()), polars),
            )
        };
        let Some((schema, df)) = as_text else {
            return generic(0);
        };
        for (name, dtype) in schema.iter() {
            if !dtype.is_primitive_numeric() && dtype != &DataType::Boolean {
                continue;
            }
            let Ok(ca) = df.column(name).and_then(|c| c.str().cloned()) else {
                continue;
            };
            for (i, v) in ca.iter().enumerate() {
                let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let fits = if dtype == &DataType::Boolean {
                    v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
                } else if dtype.is_integer() {
                    v.parse::<i64>().is_ok()
                } else {
                    v.parse::<f64>().is_ok()
                };
                if !fits {
                    return in_batch(
                        &self.path,
                        first_row,
                        df.height(),
                        Error::UnparseableNumeric {
                            column: name.to_string(),
                            row: first_row + i + 1,
                            value: v.to_string(),
                            hint: format!(
                                " (a streaming run takes each column's type from the first \
                                 {INFER_ROWS} rows, where `{name}` is {dtype}); fix the value, \
                                 or declare the column with --categorical or --numeric"
                            ),
                        },
                    );
                }
            }
        }
        generic(df.height())
    }

    /// Load one block as [`super::load`] loads a table, with the first block's column kinds.
    fn load(&mut self, mut df: DataFrame) -> Result<Batch> {
        let options = &self.options.clone();
        check_flat_columns(&self.path, &df, |name| {
            name != options.target && !options.drop.iter().any(|d| d == name)
        })?;
        let target = df
            .column(&options.target)
            .map_err(|e| Error::polars("target", e))?
            .clone();
        let labels = match &options.positive {
            None => map_target(&options.target, &target)?,
            Some(positive) => self.positive_labels(&target, positive)?,
        };
        let ids = match &options.id {
            Some(id) => Some(df.column(id).map_err(|e| Error::polars("id", e))?.clone()),
            None => None,
        };
        let mut remove: Vec<&str> = vec![options.target.as_str()];
        remove.extend(options.drop.iter().map(String::as_str));
        remove.extend(options.id.as_deref());
        for name in remove {
            if df.get_column_index(name).is_some() {
                df = df.drop(name).map_err(|e| Error::polars("dropping", e))?;
            }
        }
        if df.width() == 0 {
            return Err(Error::InvalidSetting {
                name: "drop".into(),
                reason: format!("no column of {} is left to learn from", self.path.display()),
            });
        }
        let features = match &self.kinds {
            None => {
                let features = coerce_types(df, &options.numeric, &options.categorical)?;
                let kinds = features.columns().iter().fold(
                    (Vec::new(), Vec::new()),
                    |(mut numeric, mut categorical), c| {
                        if c.dtype() == &DataType::Float64 {
                            numeric.push(c.name().to_string());
                        } else {
                            categorical.push(c.name().to_string());
                        }
                        (numeric, categorical)
                    },
                );
                self.kinds = Some(kinds);
                features
            }
            Some((numeric, categorical)) => coerce_types(df, numeric, categorical)?,
        };
        Ok(Batch {
            first_row: 0,
            features,
            labels,
            ids,
        })
    }

    /// Labels against a named positive value: one other value in the whole table.
    fn positive_labels(&mut self, target: &Column, positive: &str) -> Result<Vec<u8>> {
        let name = &self.options.target;
        let s = target
            .cast(&DataType::String)
            .map_err(|e| Error::polars(format!("reading target `{name}`"), e))?;
        let ca = s.str().map_err(|e| Error::polars("target", e))?;
        let positive = positive.trim();
        let mut labels = Vec::with_capacity(ca.len());
        for (i, v) in ca.iter().enumerate() {
            match v.map(str::trim) {
                Some(v) if v == positive => labels.push(1),
                other => {
                    let other = other.map_or("<missing>".to_string(), str::to_string);
                    if other == "<missing>"
                        || (!self.others.contains(&other) && !self.others.is_empty())
                    {
                        let mut values = vec![format!("{positive:?}")];
                        values.extend(self.others.iter().map(|v| format!("{v:?}")));
                        values.push(if other == "<missing>" {
                            other
                        } else {
                            format!("{other:?}")
                        });
                        return Err(Error::BadPositiveLabel {
                            target: name.clone(),
                            positive: positive.into(),
                            values,
                            first_row: self.rows + i + 1,
                        });
                    }
                    self.others.insert(other);
                    labels.push(0);
                }
            }
        }
        Ok(labels)
    }
}

/// The end (one past its line break) of the last whole row of `text`, which starts at a row's
/// start: a line break inside a quoted field does not end a row.
fn last_row_end(text: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => last = Some(i + 1),
            _ => {}
        }
    }
    last
}

/// `error` in the batch of `rows` rows from 0-based `first`: the rows the error names inside
/// count from the file's first data row.
pub(crate) fn in_batch(path: &Path, first: usize, rows: usize, error: Error) -> Error {
    let error = match error {
        Error::BadTargetValues {
            target,
            values,
            first_row,
        } => Error::BadTargetValues {
            target,
            values,
            first_row: first + first_row,
        },
        Error::UnparseableNumeric {
            column,
            row,
            value,
            hint,
        } if row <= rows => Error::UnparseableNumeric {
            column,
            row: first + row,
            value,
            hint,
        },
        e @ Error::InBatch { .. } => return e,
        e => e,
    };
    Error::InBatch {
        path: path.to_path_buf(),
        first_row: first + 1,
        last_row: first + rows.max(1),
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load;

    fn all(path: &Path, options: &LoadOptions, bytes: usize) -> Result<Vec<Batch>> {
        let mut b = TableBatches::open(path, options, bytes)?;
        let mut out = Vec::new();
        while let Some(batch) = b.next_batch()? {
            out.push(batch);
        }
        Ok(out)
    }

    #[test]
    fn csv_batches_hold_the_rows_load_reads_quoted_line_breaks_included() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut text = String::from("id,age,note,bought\n");
        for i in 0..5_000 {
            let note = if i % 7 == 0 {
                format!("\"line\nbreak {i}\"")
            } else {
                format!("n{}", i % 5)
            };
            let age = if i % 11 == 0 {
                String::new()
            } else {
                (20 + i % 50).to_string()
            };
            text.push_str(&format!("c{i},{age},{note},{}\n", ["yes", "no"][i % 3 % 2]));
        }
        text.push('\n');
        std::fs::write(&p, &text).unwrap();
        let options = LoadOptions::new("bought").id("id");
        let whole = load(&p, &options).unwrap();
        let batches = all(&p, &options, 4096).unwrap();
        assert!(batches.len() > 10, "{}", batches.len());
        let mut next = 0;
        for b in &batches {
            assert_eq!(b.first_row, next);
            let rows: Vec<usize> = (next..next + b.len()).collect();
            let expected = whole.take(&rows).unwrap();
            assert_eq!(b.labels, expected.labels);
            assert!(b.features.equals_missing(&expected.features));
            assert!(b
                .ids
                .as_ref()
                .unwrap()
                .as_materialized_series()
                .equals(expected.ids.as_ref().unwrap().as_materialized_series()));
            next += b.len();
        }
        assert_eq!(next, whole.len());
    }

    #[test]
    fn parquet_batches_are_its_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let n = 3_000;
        let mut df = df!(
            "x" => (0..n).map(|i| i as f64).collect::<Vec<_>>(),
            "c" => (0..n).map(|i| ["a", "b"][i % 2]).collect::<Vec<_>>(),
            "y" => (0..n).map(|i| i64::from(i % 3 == 0)).collect::<Vec<_>>()
        )
        .unwrap();
        let f = File::create(&p).unwrap();
        ParquetWriter::new(f)
            .with_row_group_size(Some(1_000))
            .finish(&mut df)
            .unwrap();
        let batches = all(&p, &LoadOptions::new("y"), 1).unwrap();
        assert_eq!(
            batches.iter().map(Batch::len).collect::<Vec<_>>(),
            [1000; 3]
        );
        assert_eq!(batches[2].first_row, 2_000);
        let x = batches[1]
            .features
            .column("x")
            .unwrap()
            .f64()
            .unwrap()
            .get(0);
        assert_eq!(x, Some(1_000.0));
    }

    #[test]
    fn a_value_that_does_not_fit_its_column_names_rows_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut text = String::from("age,bought\n");
        for i in 0..30_000 {
            let age = if i == 25_000 {
                "unknown".to_string()
            } else {
                (i % 90).to_string()
            };
            text.push_str(&format!("{age},{}\n", i % 2));
        }
        std::fs::write(&p, &text).unwrap();
        let err = all(&p, &LoadOptions::new("bought"), 100_000).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InBatch { .. }), "{msg}");
        assert!(msg.contains("row 25001 holds `unknown`"), "{msg}");
        assert!(
            msg.contains("column `age`") && msg.contains("rows "),
            "{msg}"
        );
        // A bad target value names its row in the file.
        let mut text = String::from("age,bought\n");
        for i in 0..30_000 {
            text.push_str(&format!(
                "{},{}\n",
                i % 90,
                if i == 20_000 { "maybe" } else { "no" }
            ));
        }
        std::fs::write(&p, &text).unwrap();
        let msg = all(&p, &LoadOptions::new("bought"), 100_000)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("first at row 20001"), "{msg}");
    }
}
