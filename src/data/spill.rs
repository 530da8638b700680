//! A split's feature rows kept on disk while a streaming run needs them (training reads them
//! twice, scoring once): the values as raw little-endian `f32` in one file, the labels as
//! bytes in another, read back in batches. A spill lives in the run's staging folder, so an
//! interrupted run takes it away with everything else.
//!
//! Beside it, [`ShardWriter`] writes the same rows as SageMaker CSV in shards of at most
//! [`SHARD_ROWS`] rows (`part-00000.csv`, …), the form SageMaker reads from an S3 prefix.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::FeatureMatrix;
use crate::codec::csv;
use crate::error::{Error, Result};

/// Rows of a SageMaker CSV shard at most.
pub const SHARD_ROWS: usize = 1_000_000;

/// Rows of a batch read back from a spill.
pub const SPILL_BATCH_ROWS: usize = 1 << 16;

/// Appends rows to a spill.
pub struct SpillWriter {
    values: BufWriter<File>,
    labels: BufWriter<File>,
    paths: (PathBuf, PathBuf),
    ncols: usize,
    rows: usize,
}

impl SpillWriter {
    /// A new spill `<stem>.f32` / `<stem>.labels` of rows of `ncols` values.
    pub fn create(stem: &Path, ncols: usize) -> Result<Self> {
        let paths = (stem.with_extension("f32"), stem.with_extension("labels"));
        let open = |p: &Path| -> Result<BufWriter<File>> {
            Ok(BufWriter::with_capacity(
                1 << 20,
                File::create(p).map_err(|e| Error::io(p, e))?,
            ))
        };
        Ok(SpillWriter {
            values: open(&paths.0)?,
            labels: open(&paths.1)?,
            paths,
            ncols,
            rows: 0,
        })
    }

    /// Append the rows `rows` of `x` with their labels `y` (one per row of `x`).
    pub fn append(&mut self, x: &FeatureMatrix, y: &[u8], rows: &[usize]) -> Result<()> {
        debug_assert_eq!(x.ncols(), self.ncols);
        let mut bytes = Vec::with_capacity(rows.len() * self.ncols * 4);
        for &r in rows {
            for v in x.row(r) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.values
            .write_all(&bytes)
            .map_err(|e| Error::io(&self.paths.0, e))?;
        let labels: Vec<u8> = rows.iter().map(|&r| y[r]).collect();
        self.labels
            .write_all(&labels)
            .map_err(|e| Error::io(&self.paths.1, e))?;
        self.rows += rows.len();
        Ok(())
    }

    /// Flush and hand over a reader of the rows written.
    pub fn finish(mut self, names: Vec<String>) -> Result<Spill> {
        self.values
            .flush()
            .map_err(|e| Error::io(&self.paths.0, e))?;
        self.labels
            .flush()
            .map_err(|e| Error::io(&self.paths.1, e))?;
        Ok(Spill {
            paths: self.paths,
            names,
            rows: self.rows,
        })
    }
}

/// The rows of a finished spill.
#[derive(Debug, Clone)]
pub struct Spill {
    paths: (PathBuf, PathBuf),
    names: Vec<String>,
    rows: usize,
}

impl Spill {
    /// Rows held.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The feature names of its columns.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A reader from the first row, in batches of `batch_rows`.
    pub fn reader(&self, batch_rows: usize) -> Result<SpillReader<'_>> {
        let mut r = SpillReader {
            spill: self,
            files: None,
            batch_rows: batch_rows.max(1),
            bytes: Vec::new(),
            values: Vec::new(),
            labels: Vec::new(),
            labels_f32: Vec::new(),
            at: 0,
        };
        r.rewind()?;
        Ok(r)
    }

    /// Call `each` with every batch as a matrix and its labels, in order.
    pub fn for_each_batch(
        &self,
        mut each: impl FnMut(&FeatureMatrix, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut r = self.reader(SPILL_BATCH_ROWS)?;
        while r.read()? {
            let x = FeatureMatrix {
                names: self.names.clone(),
                nrows: r.labels.len(),
                values: std::mem::take(&mut r.values),
            };
            each(&x, &r.labels)?;
            r.values = x.values;
        }
        Ok(())
    }

    /// Delete the spill's files.
    pub fn remove(self) -> Result<()> {
        for p in [&self.paths.0, &self.paths.1] {
            std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
        }
        Ok(())
    }
}

/// Reads a spill back in batches (a quantised training matrix is built from one).
pub struct SpillReader<'a> {
    spill: &'a Spill,
    files: Option<(File, File)>,
    batch_rows: usize,
    bytes: Vec<u8>,
    values: Vec<f32>,
    labels: Vec<u8>,
    labels_f32: Vec<f32>,
    at: usize,
}

impl SpillReader<'_> {
    /// Read the next batch into the buffers; false at the end.
    fn read(&mut self) -> Result<bool> {
        let n = self.batch_rows.min(self.spill.rows - self.at);
        if n == 0 {
            return Ok(false);
        }
        let ncols = self.spill.names.len();
        let (values, labels) = self.files.as_mut().expect("reset opens the files");
        // One byte buffer for every batch, as the values' and the labels' buffers are.
        self.bytes.resize(n * ncols * 4, 0);
        values
            .read_exact(&mut self.bytes)
            .map_err(|e| Error::io(&self.spill.paths.0, e))?;
        self.values.clear();
        self.values.extend(
            self.bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        self.labels.resize(n, 0);
        labels
            .read_exact(&mut self.labels)
            .map_err(|e| Error::io(&self.spill.paths.1, e))?;
        self.at += n;
        Ok(true)
    }
}

impl SpillReader<'_> {
    /// Columns of every batch.
    pub fn ncols(&self) -> usize {
        self.spill.names.len()
    }

    /// Start again from the first row.
    pub fn rewind(&mut self) -> Result<()> {
        let open = |p: &Path| File::open(p).map_err(|e| Error::io(p, e));
        self.files = Some((open(&self.spill.paths.0)?, open(&self.spill.paths.1)?));
        self.at = 0;
        Ok(())
    }

    /// The next batch's row-major values and labels (as `f32`, as libxgboost takes them), or
    /// `None` after the last row.
    pub fn next_rows(&mut self) -> Result<Option<(&[f32], &[f32])>> {
        if !self.read()? {
            return Ok(None);
        }
        self.labels_f32.clear();
        self.labels_f32
            .extend(self.labels.iter().map(|&l| f32::from(l)));
        Ok(Some((&self.values, &self.labels_f32)))
    }
}

/// Writes rows as SageMaker CSV (label first, no header) into `dir/part-00000.csv`, … of at
/// most [`SHARD_ROWS`] rows each.
pub struct ShardWriter {
    dir: PathBuf,
    file: Option<BufWriter<File>>,
    shards: Vec<PathBuf>,
    in_shard: usize,
}

impl ShardWriter {
    /// Shards into `dir` (created).
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(ShardWriter {
            dir: dir.to_path_buf(),
            file: None,
            shards: Vec::new(),
            in_shard: 0,
        })
    }

    /// Append the rows `rows` of `x` with their labels.
    pub fn append(&mut self, x: &FeatureMatrix, y: &[u8], rows: &[usize]) -> Result<()> {
        let mut rest = rows;
        while !rest.is_empty() {
            if self.file.is_none() || self.in_shard == SHARD_ROWS {
                self.close()?;
                let path = self.dir.join(format!("part-{:05}.csv", self.shards.len()));
                let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
                self.file = Some(BufWriter::with_capacity(1 << 20, file));
                self.shards.push(path);
                self.in_shard = 0;
            }
            let take = rest.len().min(SHARD_ROWS - self.in_shard);
            let (now, later) = rest.split_at(take);
            let part = x.take(now);
            let labels: Vec<u8> = now.iter().map(|&r| y[r]).collect();
            let path = self.shards.last().expect("opened above");
            let w = self.file.as_mut().expect("opened above");
            csv::write_rows(w, &part.values, part.nrows, Some(&labels))
                .map_err(|e| Error::io(path, e))?;
            self.in_shard += take;
            rest = later;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            let path = self.shards.last().expect("a file has its shard");
            f.flush().map_err(|e| Error::io(path, e))?;
            f.get_ref().sync_all().map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }

    /// Close the last shard; the shards written, in order.
    pub fn finish(mut self) -> Result<Vec<PathBuf>> {
        self.close()?;
        Ok(self.shards)
    }
}
