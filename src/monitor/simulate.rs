//! Drift on purpose, for a demonstration or a test: a column moved by a set amount, and a
//! capture folder's records moved to the days they stand for.

use std::path::Path;

use chrono::{Duration, SecondsFormat};
use polars::prelude::{Column, DataFrame};

use super::statistics::{column_values, Values};
use crate::codec::capture::CaptureRecord;
use crate::error::{Error, Result};

/// `df` with the numeric column `name` moved by `by` (whole numbers stay whole: the amount
/// is rounded for a column of whole numbers; missing values stay missing).
pub fn shift_column(df: &DataFrame, name: &str, by: f64) -> Result<DataFrame> {
    let column = df.column(name).map_err(|_| Error::MissingColumns {
        columns: vec![name.to_string()],
    })?;
    let Values::Numbers { values, .. } = column_values(column, true)? else {
        unreachable!("read as numbers");
    };
    let whole = values.iter().flatten().all(|x| x.fract() == 0.0);
    let by = if whole { by.round() } else { by };
    let moved: Vec<Option<f64>> = values.iter().map(|v| v.map(|x| x + by)).collect();
    let mut out = df.clone();
    out.with_column(Column::new(name.into(), moved))
        .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
    Ok(out)
}

/// `rows` in a seeded random order: any prefix of it is a random sample (customers for a
/// demonstration drawn from a table stored in time order, say).
pub fn shuffled(rows: &[usize], seed: u64) -> Vec<usize> {
    let mut out = rows.to_vec();
    crate::util::random::Rng::new(seed).shuffle(&mut out);
    out
}

/// Move each record of the capture folder `dir` back to the day `day_of` gives its inference
/// id, so that traffic sent in one sitting reads as the days it stands for: the last day
/// keeps its time, day `k` is moved back by `last − k` days (a record `day_of` gives no day
/// keeps its time). Each file is rewritten whole. Returns the records moved.
pub fn spread_over_days(
    dir: impl AsRef<Path>,
    day_of: impl Fn(&str) -> Option<u32>,
) -> Result<usize> {
    let files = super::captured::capture_files(dir.as_ref())?;
    let mut read = Vec::with_capacity(files.len());
    let mut last = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let mut records = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let record =
                CaptureRecord::parse_line(line).map_err(|reason| Error::CaptureRecord {
                    path: file.clone(),
                    line: i + 1,
                    reason,
                })?;
            let day = record
                .event_metadata
                .inference_id
                .as_deref()
                .and_then(&day_of);
            last = last.max(day.unwrap_or(0));
            records.push((record, day, i + 1));
        }
        read.push((file, records));
    }
    let mut moved = 0;
    for (file, records) in read {
        let mut out = String::new();
        for (mut record, day, line) in records {
            if let Some(day) = day {
                let time = record.time().map_err(|reason| Error::CaptureRecord {
                    path: file.clone(),
                    line,
                    reason,
                })? - Duration::days(i64::from(last - day));
                record.event_metadata.inference_time =
                    time.to_rfc3339_opts(SecondsFormat::Millis, true);
                moved += 1;
            }
            out += &record.to_line();
        }
        crate::util::files::write_atomically(&file, |w| {
            w.write_all(out.as_bytes()).map_err(|e| Error::io(&file, e))
        })?;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_keeps_whole_numbers_whole_and_missing_values_missing() {
        let df = DataFrame::new(
            3,
            vec![
                Column::new("age".into(), [Some(40i64), None, Some(60)]),
                Column::new("income".into(), [1.5f64, 2.5, 3.0]),
            ],
        )
        .unwrap();
        let older = shift_column(&df, "age", 24.6).unwrap();
        let ages: Vec<Option<f64>> = older.column("age").unwrap().f64().unwrap().iter().collect();
        assert_eq!(ages, [Some(65.0), None, Some(85.0)]);
        let richer = shift_column(&df, "income", 0.25).unwrap();
        let incomes: Vec<Option<f64>> = richer
            .column("income")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(incomes, [Some(1.75), Some(2.75), Some(3.25)]);
        assert!(shift_column(&df, "nope", 1.0).is_err());
    }

    #[test]
    fn a_shuffle_is_seeded_and_keeps_every_row() {
        let rows: Vec<usize> = (0..100).collect();
        let a = shuffled(&rows, 7);
        assert_eq!(a, shuffled(&rows, 7));
        assert_ne!(a, rows);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, rows);
    }
}
