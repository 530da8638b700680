//! Read a table file as it is: CSV (delimiter detected or given, quoted fields, CRLF, empty
//! = missing, blank rows dropped) or Parquet, its header alone, and the checks on what was
//! read (flat columns, text encoding). [`super::load`] builds a dataset from what this reads.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// Read a CSV or Parquet file as it is (no target handling). CSV delimiter: given or
/// detected; quoted fields and CRLF line ends are fine; empty fields read as missing.
pub fn read_table(path: impl AsRef<Path>, delimiter: Option<u8>) -> Result<DataFrame> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            detail: "0 bytes".into(),
        });
    }
    let df = if is_parquet(path) {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(format!("reading {}", path.display()), e))?
    } else {
        read_csv(path, delimiter)?
    };
    if df.height() == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            detail: "no data rows".into(),
        });
    }
    Ok(df)
}

/// The column names of a CSV or Parquet file, read from its header (or schema) alone.
pub fn read_column_names(path: impl AsRef<Path>, delimiter: Option<u8>) -> Result<Vec<String>> {
    let path = path.as_ref();
    if is_parquet(path) {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let schema = ParquetReader::new(file)
            .schema()
            .map_err(|e| Error::polars(format!("reading {}", path.display()), e))?;
        return Ok(schema.iter_names().map(|n| n.to_string()).collect());
    }
    Ok(csv_header(path, delimiter)?.1)
}

/// A CSV file's separator (given, or detected from the header line) and column names.
fn csv_header(path: &Path, delimiter: Option<u8>) -> Result<(u8, Vec<String>)> {
    let header = first_line(path)?;
    if header.trim().is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            detail: "no header line".into(),
        });
    }
    let sep = delimiter.unwrap_or_else(|| detect_delimiter(&header));
    Ok((sep, split_header(&header, sep)))
}
/// Whether `path` names a Parquet file (`.parquet` or `.pq`); anything else is read as CSV.
pub fn is_parquet(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()),
        Some(ref e) if e == "parquet" || e == "pq"
    )
}

fn read_csv(path: &Path, delimiter: Option<u8>) -> Result<DataFrame> {
    let (sep, names) = csv_header(path, delimiter)?;
    let mut seen = HashSet::new();
    let dups: BTreeSet<String> = names
        .iter()
        .filter(|n| !seen.insert(n.as_str()))
        .cloned()
        .collect();
    if !dups.is_empty() {
        return Err(Error::DuplicateColumns {
            path: path.to_path_buf(),
            columns: dups.into_iter().collect(),
        });
    }
    let read = |infer: Option<usize>| {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(infer)
            // One chunk per column (polars reads a file in dozens), joined on every core:
            // the preprocessor reads rows directly.
            .with_rechunk(true)
            .map_parse_options(|o| o.with_separator(sep).with_quote_char(Some(b'"')))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
    };
    // Column types from the first rows (reading every row first costs more than the read
    // itself). A later value that does not fit them (a stray text in a numeric column) makes
    // polars fail, and a column empty in those rows may hold numbers further down: then the
    // file is read again with types from every row, so that such a column becomes text
    // (reported by the loader) instead of an error half-way through.
    let df = match read(Some(INFER_ROWS)) {
        Ok(df) if !types_unseen(&df) => df,
        _ => read(None).map_err(|e| Error::polars(format!("reading {}", path.display()), e))?,
    };
    drop_blank_rows(df)
}

/// Rows whose values set the column types on the first read of a CSV file.
pub(super) const INFER_ROWS: usize = 10_000;

/// A text column with no value in the rows that set the types: its type is unknown.
fn types_unseen(df: &DataFrame) -> bool {
    df.height() > INFER_ROWS
        && df.columns().iter().any(|c| {
            c.dtype() == &DataType::String && c.head(Some(INFER_ROWS)).null_count() == INFER_ROWS
        })
}

/// Trailing blank lines (the Kaggle file ends with one) read as all-null rows: drop them.
pub(super) fn drop_blank_rows(df: DataFrame) -> Result<DataFrame> {
    // A blank row is null in every column: a column without nulls rules them out.
    if df.width() == 0 || df.height() == 0 || df.columns().iter().any(|c| c.null_count() == 0) {
        return Ok(df);
    }
    let mut blank = vec![true; df.height()];
    for c in df.columns() {
        let nulls = c.is_null();
        for (b, n) in blank.iter_mut().zip(nulls.iter()) {
            *b &= n.unwrap_or(false);
        }
    }
    if !blank.iter().any(|&b| b) {
        return Ok(df);
    }
    let keep: BooleanChunked = blank.iter().map(|&b| !b).collect();
    df.filter(&keep)
        .map_err(|e| Error::polars("dropping blank lines", e))
}

fn first_line(path: &Path) -> Result<String> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut line = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::io(path, e))?;
    check_text_encoding(path, &line)?;
    let line = String::from_utf8(line).map_err(|_| {
        Error::Unsupported(format!(
            "{}: the header line is not UTF-8; save the file as UTF-8 CSV (or Parquet)",
            path.display()
        ))
    })?;
    Ok(line
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n'])
        .to_string())
}

/// Refuse nested columns (lists, arrays, structs; Parquet can hold them) among those `used`
/// picks: a customer column is a number, a text or a boolean.
pub fn check_flat_columns(path: &Path, df: &DataFrame, used: impl Fn(&str) -> bool) -> Result<()> {
    for c in df.columns() {
        if used(c.name()) && c.dtype().is_nested() {
            return Err(Error::Unsupported(format!(
                "{}: column `{}` is nested ({}); a customer column must hold numbers, text or \
                 booleans (flatten it, or leave it out with --drop)",
                path.display(),
                c.name(),
                c.dtype()
            )));
        }
    }
    Ok(())
}

/// Refuse a CSV whose first bytes (`start`, the header line) show UTF-16 or UTF-32 text, or
/// NUL bytes: read as UTF-8 its column names would be garbage, and the error would say the
/// columns are missing.
pub fn check_text_encoding(path: &Path, start: &[u8]) -> Result<()> {
    let encoding = match start {
        [0xFF, 0xFE, 0, 0, ..] | [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32"),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Some("UTF-16"),
        _ if start.contains(&0) => Some("UTF-16 or binary (it holds NUL bytes)"),
        _ => None,
    };
    match encoding {
        Some(encoding) => Err(Error::Unsupported(format!(
            "{} is {encoding}, not UTF-8 text; save it as UTF-8 CSV (or Parquet)",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// The candidate separator that occurs most often outside quotes in the header line.
pub fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = candidates.iter().position(|&c| c == b) {
                counts[i] += 1;
            }
        }
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, usize::MAX - i))
        .expect("four candidates");
    if *n == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// The column names of a CSV header line (quotes removed, names trimmed).
pub fn split_header(header: &str, sep: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            out.push(String::from_utf8_lossy(&cur).trim().to_string());
            cur.clear();
        } else {
            cur.push(b);
        }
    }
    out.push(String::from_utf8_lossy(&cur).trim().to_string());
    out
}

pub(super) fn column_names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}
