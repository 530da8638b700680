//! Load a customer table (CSV or Parquet, read by [`super::read`]), pick the target, validate.
//!
//! ```no_run
//! use purchase_predict::data::{load, LoadOptions};
//! let ds = load("data/customers.csv", &LoadOptions::new("purchased").id("customer_id"))?;
//! println!("{} rows, {} features, {:.1} % buyers", ds.len(), ds.features.width(),
//!          100.0 * ds.positive_rate());
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::read::{check_flat_columns, column_names, read_column_names, read_table};
use crate::codec::number::{parse_field, Field};
use crate::error::{Error, Result};
use crate::util::files::sha256_file;

/// How to read a table and which column is what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// The 0/1 column to predict (yes/no, true/false, 1/0, any case).
    pub target: String,
    /// Field separator; `None` detects `,`, `;`, tab or `|` from the header line.
    pub delimiter: Option<u8>,
    /// Columns to leave out (for example the bank data's `duration`, a target leak).
    pub drop: Vec<String>,
    /// A column that identifies a customer: kept beside the data, never used as a feature.
    pub id: Option<String>,
    /// Columns to treat as numeric whatever their type (every value must parse).
    pub numeric: Vec<String>,
    /// Columns to treat as categorical whatever their type (for example integer codes).
    pub categorical: Vec<String>,
    /// The target's value that means "bought" (for example `churned` or `Y`), when it is
    /// not one of yes/true/1: that value is 1 and the target's one other value 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<String>,
}

impl LoadOptions {
    /// Options with a target column and everything else at its default.
    pub fn new(target: impl Into<String>) -> Self {
        LoadOptions {
            target: target.into(),
            delimiter: None,
            drop: Vec::new(),
            id: None,
            numeric: Vec::new(),
            categorical: Vec::new(),
            positive: None,
        }
    }

    /// Name the target's value that means "bought" (see [`LoadOptions::positive`]).
    pub fn positive(mut self, value: impl Into<String>) -> Self {
        self.positive = Some(value.into());
        self
    }

    /// Set the id column.
    pub fn id(mut self, column: impl Into<String>) -> Self {
        self.id = Some(column.into());
        self
    }

    /// Add columns to drop.
    pub fn drop<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.drop.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Set the field separator instead of detecting it.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// Declare columns numeric.
    pub fn numeric<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.numeric.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Declare columns categorical.
    pub fn categorical<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.categorical.extend(columns.into_iter().map(Into::into));
        self
    }
}

/// A loaded, validated table: features, 0/1 labels, optional ids.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file it came from.
    pub path: PathBuf,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
    /// Feature columns only: numeric columns as numbers, categorical columns as strings.
    pub features: DataFrame,
    /// Name of the target column.
    pub target: String,
    /// One 0/1 label per row.
    pub labels: Vec<u8>,
    /// The id column, if one was named.
    pub ids: Option<Column>,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows (never the case for a loaded dataset).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Share of rows whose label is 1.
    pub fn positive_rate(&self) -> f64 {
        self.labels.iter().map(|&l| l as usize).sum::<usize>() as f64 / self.len().max(1) as f64
    }

    /// How a notebook names row `i`: `customer <id>` when the table has an id column,
    /// else `row <i + 1> of the table`.
    pub fn name_of(&self, i: usize) -> String {
        match self.ids.as_ref().and_then(|c| c.get(i).ok()) {
            Some(AnyValue::Null) | None => format!("row {} of the table", i + 1),
            Some(AnyValue::String(s)) => format!("customer {s}"),
            Some(AnyValue::StringOwned(s)) => format!("customer {s}"),
            Some(v) => format!("customer {v}"),
        }
    }

    /// The rows as the table holds them: the id column first (when there is one), then the
    /// features; what a caller sends an endpoint as JSON records.
    pub fn records(&self) -> Result<DataFrame> {
        let mut cols: Vec<Column> = self.ids.iter().cloned().collect();
        cols.extend(self.features.columns().iter().cloned());
        DataFrame::new(self.len(), cols).map_err(|e| Error::polars("records", e))
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> Result<Dataset> {
        let idx = IdxCa::from_vec(
            "idx".into(),
            indices.iter().map(|&i| i as IdxSize).collect(),
        );
        let features = self
            .features
            .take(&idx)
            .map_err(|e| Error::polars("selecting rows", e))?;
        let ids = match &self.ids {
            Some(c) => Some(
                c.take(&idx)
                    .map_err(|e| Error::polars("selecting ids", e))?,
            ),
            None => None,
        };
        Ok(Dataset {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            features,
            target: self.target.clone(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ids,
        })
    }
}

/// Check that every column `options` names (target, id, left-out, type overrides) is in the
/// table at `path`, from its header alone: the error names the option, the column and the
/// columns there are.
pub fn check_columns(path: impl AsRef<Path>, options: &LoadOptions) -> Result<()> {
    let path = path.as_ref();
    let available = read_column_names(path, options.delimiter)?;
    check_named_columns(path, &available, options)
}

pub(super) fn check_named_columns(
    path: &Path,
    available: &[String],
    options: &LoadOptions,
) -> Result<()> {
    if !available.contains(&options.target) {
        return Err(Error::TargetNotFound {
            path: path.to_path_buf(),
            target: options.target.clone(),
            available: available.to_vec(),
        });
    }
    let check = |option: &str, col: &String| -> Result<()> {
        if available.contains(col) {
            Ok(())
        } else {
            Err(Error::UnknownColumn {
                option: option.into(),
                column: col.clone(),
                available: available.to_vec(),
            })
        }
    };
    for c in &options.drop {
        check("drop", c)?;
    }
    if let Some(id) = &options.id {
        check("id", id)?;
    }
    for c in &options.numeric {
        check("numeric", c)?;
    }
    for c in &options.categorical {
        check("categorical", c)?;
        if options.numeric.contains(c) {
            return Err(Error::InvalidSetting {
                name: c.clone(),
                reason: "declared both numeric and categorical".into(),
            });
        }
    }
    Ok(())
}

/// Load a table, split off the target (mapped to 0/1) and the id, drop columns, apply the
/// numeric/categorical declarations, and validate.
pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Dataset> {
    let path = path.as_ref();
    // The file's checksum (for the model's manifest) is computed beside the read.
    std::thread::scope(|scope| {
        let sha256 = scope.spawn(|| sha256_file(path));
        let mut ds = load_unhashed(path, options)?;
        ds.sha256 = sha256
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(ds)
    })
}

fn load_unhashed(path: &Path, options: &LoadOptions) -> Result<Dataset> {
    let mut df = read_table(path, options.delimiter)?;
    let available = column_names(&df);
    check_named_columns(path, &available, options)?;

    check_flat_columns(path, &df, |name| {
        name != options.target && !options.drop.iter().any(|d| d == name)
    })?;
    let target_col = df
        .column(&options.target)
        .map_err(|e| Error::polars("target", e))?
        .clone();
    let labels = match &options.positive {
        Some(positive) => map_target_to(&options.target, &target_col, positive)?,
        None => map_target(&options.target, &target_col)?,
    };
    let ones = labels.iter().filter(|&&l| l == 1).count();
    if ones == 0 || ones == labels.len() {
        return Err(Error::SingleClass {
            target: options.target.clone(),
            class: if ones == 0 { 0 } else { 1 },
            rows: labels.len(),
        });
    }
    let ids = match &options.id {
        Some(id) => Some(df.column(id).map_err(|e| Error::polars("id", e))?.clone()),
        None => None,
    };
    let mut remove: Vec<&str> = vec![options.target.as_str()];
    remove.extend(options.drop.iter().map(String::as_str));
    if let Some(id) = &options.id {
        remove.push(id.as_str());
    }
    for name in remove {
        if df.get_column_index(name).is_some() {
            df = df.drop(name).map_err(|e| Error::polars("dropping", e))?;
        }
    }
    if df.width() == 0 {
        return Err(Error::InvalidSetting {
            name: "drop".into(),
            reason: format!(
                "no column of {} is left to learn from: the target `{}`{} and the {} dropped \
                 column(s) are all it has",
                path.display(),
                options.target,
                options
                    .id
                    .as_ref()
                    .map(|id| format!(", the id `{id}`"))
                    .unwrap_or_default(),
                options.drop.len()
            ),
        });
    }
    let mut features = coerce_types(df, &options.numeric, &options.categorical)?;
    // A Parquet file or a parsed text column can still come in chunks.
    features.rechunk_mut();
    Ok(Dataset {
        path: path.to_path_buf(),
        sha256: String::new(),
        features,
        target: options.target.clone(),
        labels,
        ids,
    })
}

/// Map yes/no, true/false, 1/0 (any case, surrounding spaces ignored) to 1/0.
pub fn map_target(name: &str, column: &Column) -> Result<Vec<u8>> {
    let s = column
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("reading target `{name}`"), e))?;
    let ca = s.str().map_err(|e| Error::polars("target", e))?;
    let mut labels = Vec::with_capacity(ca.len());
    let mut bad: BTreeSet<String> = BTreeSet::new();
    let mut first_row = 0;
    for (i, v) in ca.iter().enumerate() {
        let label = v.and_then(|v| {
            let v = v.trim();
            let is = |words: [&str; 4]| words.iter().any(|w| v.eq_ignore_ascii_case(w));
            if is(["yes", "true", "1", "1.0"]) {
                Some(1u8)
            } else if is(["no", "false", "0", "0.0"]) {
                Some(0u8)
            } else {
                None
            }
        });
        match label {
            Some(l) => labels.push(l),
            None => {
                if bad.is_empty() {
                    first_row = i + 1;
                }
                bad.insert(v.map_or("<missing>".to_string(), |v| format!("{v:?}")));
                labels.push(0);
            }
        }
    }
    if !bad.is_empty() {
        let mut values: Vec<String> = bad.into_iter().take(10).collect();
        if values.len() == 10 {
            values.push("...".into());
        }
        return Err(Error::BadTargetValues {
            target: name.into(),
            values,
            first_row,
        });
    }
    Ok(labels)
}

/// Map a two-valued target to 1 where it equals `positive` (surrounding spaces ignored;
/// a Boolean or number column compares by its text, `true` or `1`) and 0 for its one other
/// value. A missing value, a third value, or a `positive` the column never holds is an error
/// naming the values found.
pub fn map_target_to(name: &str, column: &Column, positive: &str) -> Result<Vec<u8>> {
    let s = column
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("reading target `{name}`"), e))?;
    let ca = s.str().map_err(|e| Error::polars("target", e))?;
    let positive = positive.trim();
    let mut others: BTreeSet<String> = BTreeSet::new();
    let mut labels = Vec::with_capacity(ca.len());
    let mut first_bad = None;
    let mut seen_positive = false;
    for (i, v) in ca.iter().enumerate() {
        match v.map(str::trim) {
            Some(v) if v == positive => {
                seen_positive = true;
                labels.push(1);
            }
            Some(v) => {
                if others.insert(v.to_string()) && others.len() == 2 {
                    first_bad.get_or_insert(i + 1);
                }
                labels.push(0);
            }
            None => {
                first_bad.get_or_insert(i + 1);
                others.insert("<missing>".into());
                labels.push(0);
            }
        }
    }
    if !seen_positive || others.len() != 1 || others.contains("<missing>") {
        let mut values: Vec<String> = std::iter::once(positive.to_string())
            .filter(|_| seen_positive)
            .chain(others)
            .take(10)
            .map(|v| {
                if v == "<missing>" {
                    v
                } else {
                    format!("{v:?}")
                }
            })
            .collect();
        if values.len() == 10 {
            values.push("...".into());
        }
        return Err(Error::BadPositiveLabel {
            target: name.into(),
            positive: positive.into(),
            values,
            first_row: first_bad.unwrap_or(0),
        });
    }
    Ok(labels)
}

fn is_numeric_dtype(dt: &DataType) -> bool {
    dt.is_primitive_numeric()
}

/// Numeric types stay numbers (as f64), text and booleans become categorical strings;
/// declarations override. A text column whose values are nearly all numbers is reported,
/// since one stray value silently turned it into a category.
pub(super) fn coerce_types(
    df: DataFrame,
    numeric: &[String],
    categorical: &[String],
) -> Result<DataFrame> {
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        let name = c.name().to_string();
        let dt = c.dtype().clone();
        let declared_num = numeric.contains(&name);
        let declared_cat = categorical.contains(&name);
        let col = if declared_cat {
            to_category_strings(c)?
        } else if is_numeric_dtype(&dt) {
            c.cast(&DataType::Float64)
                .map_err(|e| Error::polars(format!("column `{name}`"), e))?
        } else if dt == DataType::String {
            let parsed = parse_numeric_strings(c, declared_num)?;
            match (declared_num, parsed) {
                (_, Ok(values)) if declared_num || values.iter().any(Option::is_some) => {
                    Column::new(name.as_str().into(), values)
                }
                (true, Err(Some(bad))) => {
                    return Err(Error::UnparseableNumeric {
                        column: name,
                        row: bad.row,
                        value: bad.value,
                        hint: String::new(),
                    })
                }
                (false, Err(Some(bad))) if bad.parsed_share >= 0.95 => {
                    return Err(Error::UnparseableNumeric {
                        column: name,
                        row: bad.row,
                        value: bad.value,
                        hint: format!(
                            " ({:.1} % of its values are numbers); fix the value, or declare the column categorical",
                            100.0 * bad.parsed_share
                        ),
                    })
                }
                _ => to_category_strings(c)?,
            }
        } else {
            to_category_strings(c)?
        };
        cols.push(col);
    }
    DataFrame::new(df.height(), cols).map_err(|e| Error::polars("assembling features", e))
}

fn to_category_strings(c: &Column) -> Result<Column> {
    c.cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{}` as text", c.name()), e))
}

struct BadNumber {
    row: usize,
    value: String,
    parsed_share: f64,
}

/// Parse a text column's values as numbers. Unless `declared` numeric, give up (`Ok(Err(None))`)
/// as soon as more than 5 % of its values cannot be numbers: it is a text column, and parsing
/// the rest would not change that.
fn parse_numeric_strings(
    c: &Column,
    declared: bool,
) -> Result<Result<Vec<Option<f64>>, Option<BadNumber>>> {
    let ca = c
        .str()
        .map_err(|e| Error::polars(format!("column `{}`", c.name()), e))?;
    let give_up_after = if declared {
        usize::MAX
    } else {
        (ca.len() - ca.null_count()) / 20
    };
    let mut out = Vec::with_capacity(ca.len());
    let mut first_bad: Option<(usize, String)> = None;
    let (mut ok, mut present) = (0usize, 0usize);
    for (i, v) in ca.iter().enumerate() {
        if present - ok > give_up_after {
            return Ok(Err(None));
        }
        match v.map_or(Field::Missing, parse_field) {
            Field::Missing => out.push(None),
            Field::Number(x) => {
                present += 1;
                ok += 1;
                out.push(Some(x));
            }
            Field::Invalid => {
                present += 1;
                if first_bad.is_none() {
                    first_bad = Some((i + 1, v.unwrap_or_default().trim().to_string()));
                }
                out.push(None);
            }
        }
    }
    Ok(match first_bad {
        None => Ok(out),
        Some((row, value)) => Err(Some(BadNumber {
            row,
            value,
            parsed_share: ok as f64 / present.max(1) as f64,
        })),
    })
}

/// A column's values as numbers: numeric and boolean dtypes directly, text parsed strictly
/// (an unparseable value is an error naming the column and row; empty text is missing).
pub fn numeric_values(c: &Column) -> Result<Vec<Option<f64>>> {
    let name = c.name().to_string();
    if c.dtype() == &DataType::String {
        let ca = c
            .str()
            .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
        return ca
            .iter()
            .enumerate()
            .map(|(i, v)| match v.map_or(Field::Missing, parse_field) {
                Field::Missing => Ok(None),
                Field::Number(x) => Ok(Some(x)),
                Field::Invalid => Err(Error::UnparseableNumeric {
                    column: name.clone(),
                    row: i + 1,
                    value: v.unwrap_or_default().trim().to_string(),
                    hint: String::new(),
                }),
            })
            .collect();
    }
    let s = c
        .cast(&DataType::Float64)
        .map_err(|e| Error::polars(format!("column `{name}` as number"), e))?;
    let ca = s.f64().map_err(|e| Error::polars("numeric", e))?;
    Ok(ca.iter().map(|v| v.filter(|x| x.is_finite())).collect())
}

/// The names of the numeric columns of `df`, in order.
pub fn numeric_columns(df: &DataFrame) -> Vec<String> {
    df.columns()
        .iter()
        .filter(|c| is_numeric_dtype(c.dtype()))
        .map(|c| c.name().to_string())
        .collect()
}

/// Pearson's correlation of two columns over the rows where both have a value, and how many
/// rows that is; `None` when fewer than two such rows or when either column is constant on
/// them.
///
/// ```
/// use purchase_predict::data::pearson;
/// let (r, n) = pearson(&[Some(1.0), Some(2.0), None, Some(3.0)], &[Some(2.0), Some(4.0), Some(9.0), Some(6.0)]).unwrap();
/// assert_eq!((r, n), (1.0, 3));
/// ```
pub fn pearson(a: &[Option<f64>], b: &[Option<f64>]) -> Option<(f64, usize)> {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
        .collect();
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), (p, q)| (x + p / n, y + q / n));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (p, q) in &pairs {
        sab += (p - ma) * (q - mb);
        saa += (p - ma).powi(2);
        sbb += (q - mb).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| (sab / (saa * sbb).sqrt(), pairs.len()))
}

/// The names of the other (categorical) columns of `df`, in order.
pub fn categorical_columns(df: &DataFrame) -> Vec<String> {
    df.columns()
        .iter()
        .filter(|c| !is_numeric_dtype(c.dtype()))
        .map(|c| c.name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::read::{detect_delimiter, INFER_ROWS};
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        p
    }

    #[test]
    fn a_named_positive_value_reads_any_two_valued_target() {
        let col = |v: &[Option<&str>]| Column::new("churn".into(), v.to_vec());
        let y = map_target_to(
            "churn",
            &col(&[Some("Left"), Some(" Stayed"), Some("Left")]),
            "Left",
        )
        .unwrap();
        assert_eq!(y, [1, 0, 1]);
        let e = map_target_to(
            "churn",
            &col(&[Some("Left"), Some("Stayed"), Some("Gone")]),
            "Left",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("exactly two values") && e.contains("row 3"),
            "{e}"
        );
        let e = map_target_to("churn", &col(&[Some("a"), Some("b")]), "Left")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"a\", \"b\"") && e.contains("\"Left\""), "{e}");
        let e = map_target_to("churn", &col(&[Some("Left"), None]), "Left")
            .unwrap_err()
            .to_string();
        assert!(e.contains("<missing>") && e.contains("row 2"), "{e}");
        let b = Column::new("b".into(), [true, false, true]);
        assert_eq!(map_target_to("b", &b, "true").unwrap(), [1, 0, 1]);
    }

    #[test]
    fn detects_delimiters_outside_quotes() {
        assert_eq!(detect_delimiter("a,b,c"), b',');
        assert_eq!(detect_delimiter("\"a,x\";\"b\";\"c\""), b';');
        assert_eq!(detect_delimiter("a\tb"), b'\t');
        assert_eq!(detect_delimiter("single"), b',');
    }

    #[test]
    fn reads_semicolon_quoted_crlf_with_trailing_blank_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "t.csv",
            "\"age\";\"job\";\"y\"\r\n30;\"admin.\";\"no\"\r\n41;\"unknown\";\"YES\"\r\n\r\n",
        );
        let ds = load(&p, &LoadOptions::new("y")).unwrap();
        assert_eq!(ds.labels, vec![0, 1]);
        assert_eq!(ds.features.width(), 2);
        assert_eq!(
            ds.features.column("age").unwrap().dtype(),
            &DataType::Float64
        );
        let job = ds.features.column("job").unwrap();
        assert_eq!(job.str().unwrap().get(1), Some("unknown"));
    }

    #[test]
    fn typed_errors_name_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        assert!(matches!(
            load(&missing, &LoadOptions::new("y")),
            Err(Error::FileNotFound { .. })
        ));
        let empty = write(&dir, "empty.csv", "");
        assert!(matches!(
            load(&empty, &LoadOptions::new("y")),
            Err(Error::EmptyFile { .. })
        ));
        let header_only = write(&dir, "h.csv", "a,y\n");
        assert!(matches!(
            load(&header_only, &LoadOptions::new("y")),
            Err(Error::EmptyFile { .. })
        ));
        let ok = write(&dir, "ok.csv", "a,b,y\n1,x,yes\n2,y,no\n");
        match load(&ok, &LoadOptions::new("target")) {
            Err(Error::TargetNotFound { available, .. }) => {
                assert_eq!(available, vec!["a", "b", "y"])
            }
            other => panic!("{other:?}"),
        }
        let one = write(&dir, "one.csv", "a,y\n1,yes\n2,Yes\n");
        assert!(matches!(
            load(&one, &LoadOptions::new("y")),
            Err(Error::SingleClass {
                class: 1,
                rows: 2,
                ..
            })
        ));
        let dup = write(&dir, "dup.csv", "a,b,a,y\n1,2,3,1\n");
        match load(&dup, &LoadOptions::new("y")) {
            Err(Error::DuplicateColumns { columns, .. }) => assert_eq!(columns, vec!["a"]),
            other => panic!("{other:?}"),
        }
        let bad_target = write(&dir, "bt.csv", "a,y\n1,yes\n2,no\n3,maybe\n4,\n");
        match load(&bad_target, &LoadOptions::new("y")) {
            Err(e @ Error::BadTargetValues { first_row: 3, .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("maybe") && msg.contains("<missing>"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        let bad_num = write(&dir, "bn.csv", "a,b,y\n1,x,1\nzz,y,0\n");
        match load(&bad_num, &LoadOptions::new("y").numeric(["a"])) {
            Err(Error::UnparseableNumeric {
                column, row, value, ..
            }) => {
                assert_eq!((column.as_str(), row, value.as_str()), ("a", 2, "zz"))
            }
            other => panic!("{other:?}"),
        }
        match load(&ok, &LoadOptions::new("y").drop(["nope"])) {
            Err(Error::UnknownColumn { option, column, .. }) => {
                assert_eq!((option.as_str(), column.as_str()), ("drop", "nope"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stray_text_value_in_a_numeric_column_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = String::from("a,y\n");
        for i in 0..100 {
            s.push_str(&format!("{i},{}\n", i % 2));
        }
        s.push_str("n/a?,1\n");
        let p = write(&dir, "stray.csv", &s);
        match load(&p, &LoadOptions::new("y")) {
            Err(Error::UnparseableNumeric { row: 101, hint, .. }) => {
                assert!(hint.contains("categorical"))
            }
            other => panic!("{other:?}"),
        }
        // Declared categorical, it loads.
        let ds = load(&p, &LoadOptions::new("y").categorical(["a"])).unwrap();
        assert_eq!(ds.features.column("a").unwrap().dtype(), &DataType::String);
    }

    #[test]
    fn types_come_from_every_row_even_past_the_first_ones() {
        let dir = tempfile::tempdir().unwrap();
        // A stray text value after the rows that set the types on the first read.
        let n = INFER_ROWS + 2000;
        let mut s = String::from("a,b,y\n");
        for i in 0..n {
            // `b` is empty in the first rows, numbers later.
            let b = if i < INFER_ROWS + 10 {
                String::new()
            } else {
                format!("{}.5", i % 7)
            };
            s.push_str(&format!("{i},{b},{}\n", i % 2));
        }
        s.push_str("n/a?,1.5,1\n");
        let p = write(&dir, "late.csv", &s);
        match load(&p, &LoadOptions::new("y")) {
            Err(Error::UnparseableNumeric { column, row, .. }) => {
                assert_eq!((column.as_str(), row), ("a", n + 1))
            }
            other => panic!("{other:?}"),
        }
        let ds = load(&p, &LoadOptions::new("y").categorical(["a"])).unwrap();
        assert_eq!(ds.features.column("a").unwrap().dtype(), &DataType::String);
        let b = ds.features.column("b").unwrap();
        assert_eq!(b.dtype(), &DataType::Float64, "numbers after empty rows");
        assert_eq!(b.null_count(), INFER_ROWS + 10);
    }

    #[test]
    fn overrides_drop_and_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "o.csv",
            "id,code,leak,y\nc1,3,9,true\nc2,4,9,FALSE\nc3,,9,false\n",
        );
        let ds = load(
            &p,
            &LoadOptions::new("y")
                .id("id")
                .drop(["leak"])
                .categorical(["code"]),
        )
        .unwrap();
        assert_eq!(column_names(&ds.features), vec!["code"]);
        assert_eq!(
            ds.features.column("code").unwrap().dtype(),
            &DataType::String
        );
        assert_eq!(ds.labels, vec![1, 0, 0]);
        assert_eq!(ds.ids.unwrap().str().unwrap().get(2), Some("c3"));
        let sub = load(&p, &LoadOptions::new("y").id("id"))
            .unwrap()
            .take(&[2, 0])
            .unwrap();
        assert_eq!(sub.labels, vec![0, 1]);
        assert_eq!(sub.ids.unwrap().str().unwrap().get(0), Some("c3"));
    }
}
