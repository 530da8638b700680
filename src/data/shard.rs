//! A table written as several objects, each row to one of them by a stable hash of its
//! position: what SageMaker's `ShardedByS3Key` input hands out, whole objects to each
//! instance, so a job on N instances needs the table as at least N objects
//! ([`crate::cloud::session::Session::upload_shards`], `run --workers`).
//!
//! A CSV file is cut row by row without being parsed (a quoted field may hold a line break),
//! each shard with the header line when the file has one; a Parquet file is read whole and
//! written as Parquet shards. The same file and count always give the same shards.
//!
//! ```
//! use purchase_predict::data::shard::shard_table;
//! let dir = tempfile::tempdir()?;
//! let table = dir.path().join("customers.csv");
//! std::fs::write(&table, "id,y\n1,yes\n2,no\n3,yes\n4,no\n")?;
//! let shards = shard_table(&table, &dir.path().join("shards"), 2, true)?;
//! assert_eq!(shards.len(), 2);
//! assert!(std::fs::read_to_string(&shards[0])?.starts_with("id,y\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::util::random::hash_u64;

/// The seed of the rows' shard hash (a constant: shards do not depend on any setting).
const SHARD_SEED: u64 = 0x5AD5;

/// The shard of row `index` (0-based, data rows) among `n`.
pub fn shard_of(index: u64, n: usize) -> usize {
    (hash_u64(index, SHARD_SEED) % n as u64) as usize
}

/// The name of shard `k` of a table named like `path`: `part-00000.csv`, `part-00001.parquet`.
fn shard_name(path: &Path, k: usize) -> String {
    let ext = path
        .extension()
        .map_or_else(|| "csv".to_string(), |e| e.to_string_lossy().into_owned());
    format!("part-{k:05}.{ext}")
}

/// Write `path` as `n` shards in `dir` (created; files of the same names replaced), each
/// row to [`shard_of`] its position. `header`: the CSV file's first line is a header,
/// copied to every shard (SageMaker's built-in XGBoost reads headerless CSV). The shards'
/// paths, in order.
pub fn shard_table(path: &Path, dir: &Path, n: usize, header: bool) -> Result<Vec<PathBuf>> {
    if n == 0 {
        return Err(Error::InvalidSetting {
            name: "shards".into(),
            reason: "at least one".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let paths: Vec<PathBuf> = (0..n).map(|k| dir.join(shard_name(path, k))).collect();
    if crate::data::read::is_parquet(path) {
        shard_parquet(path, &paths)?;
    } else {
        shard_csv(path, &paths, header)?;
    }
    Ok(paths)
}

fn shard_csv(path: &Path, paths: &[PathBuf], header: bool) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut outs = paths
        .iter()
        .map(|p| {
            std::fs::File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(|e| Error::io(p, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut row = Vec::new();
    let mut index = 0u64;
    let mut first = header;
    loop {
        row.clear();
        // One CSV row: lines until the quotes balance.
        let mut quotes = 0usize;
        loop {
            let before = row.len();
            let n = reader
                .read_until(b'\n', &mut row)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            quotes += row[before..].iter().filter(|&&b| b == b'"').count();
            if quotes % 2 == 0 {
                break;
            }
        }
        if row.is_empty() {
            break;
        }
        if !row.ends_with(b"\n") {
            row.push(b'\n');
        }
        if first {
            for (out, p) in outs.iter_mut().zip(paths) {
                out.write_all(&row).map_err(|e| Error::io(p, e))?;
            }
            first = false;
            continue;
        }
        if row.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let k = shard_of(index, outs.len());
        outs[k]
            .write_all(&row)
            .map_err(|e| Error::io(&paths[k], e))?;
        index += 1;
    }
    for (out, p) in outs.into_iter().zip(paths) {
        out.into_inner()
            .map_err(|e| Error::io(p, e.into_error()))?
            .sync_all()
            .map_err(|e| Error::io(p, e))?;
    }
    Ok(())
}

fn shard_parquet(path: &Path, paths: &[PathBuf]) -> Result<()> {
    let df = crate::data::read::read_table(path, None)?;
    let n = paths.len();
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); n];
    for i in 0..df.height() {
        rows[shard_of(i as u64, n)].push(i as IdxSize);
    }
    for (k, p) in paths.iter().enumerate() {
        let idx = IdxCa::from_vec("idx".into(), std::mem::take(&mut rows[k]));
        let mut part = df
            .take(&idx)
            .map_err(|e| Error::polars("sharding the table", e))?;
        let file = std::fs::File::create(p).map_err(|e| Error::io(p, e))?;
        ParquetWriter::new(file)
            .finish(&mut part)
            .map_err(|e| Error::polars(format!("writing {}", p.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_lands_in_one_shard_and_quoted_line_breaks_stay_whole() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("t.csv");
        let mut text = String::from("id,note,y\n");
        for i in 0..200 {
            text.push_str(&format!("{i},\"line one\nline two {i}\",yes\n"));
        }
        std::fs::write(&table, &text).unwrap();
        let shards = shard_table(&table, &dir.path().join("s"), 3, true).unwrap();
        let mut ids = Vec::new();
        for s in &shards {
            let df = crate::data::read::read_table(s, None).unwrap();
            assert_eq!(df.width(), 3, "{}", s.display());
            let col = df.column("id").unwrap().cast(&DataType::Int64).unwrap();
            ids.extend(col.i64().unwrap().into_no_null_iter());
            assert!(df.height() > 30, "a fair share: {}", df.height());
        }
        ids.sort_unstable();
        assert_eq!(ids, (0..200).collect::<Vec<i64>>());
        // The same file and count give the same shards.
        let again = shard_table(&table, &dir.path().join("t"), 3, true).unwrap();
        for (a, b) in shards.iter().zip(&again) {
            assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        }
    }

    #[test]
    fn headerless_csv_and_parquet_shard_too() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("train.csv");
        std::fs::write(&table, "1,0.5\n0,0.25\n1,0.75\n0,1\n").unwrap();
        let shards = shard_table(&table, &dir.path().join("s"), 2, false).unwrap();
        let lines: usize = shards
            .iter()
            .map(|s| std::fs::read_to_string(s).unwrap().lines().count())
            .sum();
        assert_eq!(lines, 4);

        let pq = dir.path().join("t.parquet");
        let mut df = df!("a" => (0..50).collect::<Vec<i64>>()).unwrap();
        ParquetWriter::new(std::fs::File::create(&pq).unwrap())
            .finish(&mut df)
            .unwrap();
        let shards = shard_table(&pq, &dir.path().join("p"), 4, true).unwrap();
        assert!(shards[0].to_string_lossy().ends_with("part-00000.parquet"));
        let rows: usize = shards
            .iter()
            .map(|s| crate::data::read::read_table(s, None).unwrap().height())
            .sum();
        assert_eq!(rows, 50);
    }
}
