//! The feature matrix every stage after preprocessing takes, and SageMaker's CSV form of it.

use std::path::Path;

use polars::prelude::*;

use crate::codec::csv;
use crate::error::{Error, Result};
use crate::util::files::write_atomically;

/// Rows × features, row-major `f32`, as XGBoost takes them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Column names.
    pub names: Vec<String>,
    /// Number of rows.
    pub nrows: usize,
    /// `nrows * names.len()` values, row after row.
    pub values: Vec<f32>,
}

impl FeatureMatrix {
    /// Number of feature columns.
    pub fn ncols(&self) -> usize {
        self.names.len()
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f32] {
        let n = self.ncols();
        &self.values[i * n..(i + 1) * n]
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> FeatureMatrix {
        let mut values = Vec::with_capacity(indices.len() * self.ncols());
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        FeatureMatrix {
            names: self.names.clone(),
            nrows: indices.len(),
            values,
        }
    }

    /// As a polars DataFrame (for display and inspection).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let n = self.ncols();
        let cols: Vec<Column> = self
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let v: Vec<f32> = (0..self.nrows).map(|r| self.values[r * n + j]).collect();
                Column::new(name.as_str().into(), v)
            })
            .collect();
        DataFrame::new(self.nrows, cols).map_err(|e| Error::polars("feature frame", e))
    }

    /// Read a SageMaker training CSV (label first, no header) back: the features, named
    /// `names` (or `f0`, `f1`, ... when `None`), and the 0/1 labels. Errors name the file,
    /// line and column.
    pub fn read_sagemaker_csv(
        path: impl AsRef<Path>,
        names: Option<&[String]>,
    ) -> Result<(FeatureMatrix, Vec<u8>)> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let first = text.lines().next().ok_or_else(|| Error::EmptyFile {
            path: path.to_path_buf(),
            detail: "no rows".into(),
        })?;
        let ncols = first.split(',').count();
        if ncols < 2 {
            return Err(Error::Shape(format!(
                "{}: a training CSV needs a label and at least one feature",
                path.display()
            )));
        }
        let all = csv::parse_csv_rows(&text, ncols)
            .map_err(|m| Error::Shape(format!("{}: {m}", path.display())))?;
        let nrows = all.len() / ncols;
        let mut labels = Vec::with_capacity(nrows);
        let mut values = Vec::with_capacity(nrows * (ncols - 1));
        for (r, row) in all.chunks(ncols).enumerate() {
            let v = row[0];
            labels.push(if v == 0.0 {
                0
            } else if v == 1.0 {
                1
            } else {
                return Err(Error::Shape(format!(
                    "{}: line {}: label `{v}` is not 0 or 1",
                    path.display(),
                    r + 1
                )));
            });
            values.extend_from_slice(&row[1..]);
        }
        let names = match names {
            Some(n) if n.len() == ncols - 1 => n.to_vec(),
            Some(n) => {
                return Err(Error::Shape(format!(
                    "{}: {} features, but {} names were given",
                    path.display(),
                    ncols - 1,
                    n.len()
                )))
            }
            None => (0..ncols - 1).map(|j| format!("f{j}")).collect(),
        };
        Ok((
            FeatureMatrix {
                names,
                nrows,
                values,
            },
            labels,
        ))
    }

    /// Write in SageMaker's built-in XGBoost CSV format: with `labels`, the label in the
    /// first column (training and validation channels); without, features only (the
    /// inference format). No header, no index. Values are written as the shortest text that
    /// reads back to the same `f32`, so SageMaker trains on exactly the numbers used locally.
    /// The file is written atomically.
    pub fn write_sagemaker_csv(&self, path: impl AsRef<Path>, labels: Option<&[u8]>) -> Result<()> {
        let path = path.as_ref();
        if let Some(l) = labels {
            if l.len() != self.nrows {
                return Err(Error::Shape(format!(
                    "{} labels for {} rows",
                    l.len(),
                    self.nrows
                )));
            }
        }
        write_atomically(path, |w| {
            csv::write_rows(w, &self.values, self.nrows, labels).map_err(|e| Error::io(path, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sagemaker_csv_is_label_first_no_header_and_round_trips_f32() {
        let x = FeatureMatrix {
            names: vec!["a".into(), "b".into()],
            nrows: 2,
            values: vec![0.1, -1.0, 1.0 / 3.0, 2.5e-8],
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        x.write_sagemaker_csv(&p, Some(&[1, 0])).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1,0.1,-1");
        let parsed: Vec<f32> = lines[1]
            .split(',')
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(parsed, vec![1.0 / 3.0, 2.5e-8]);
        let q = dir.path().join("i.csv");
        x.write_sagemaker_csv(&q, None).unwrap();
        assert_eq!(
            std::fs::read_to_string(&q).unwrap().lines().next(),
            Some("0.1,-1")
        );
        assert!(x.write_sagemaker_csv(&q, Some(&[1])).is_err());
    }
}
