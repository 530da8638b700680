//! `purchase-predict predict`: streaming batch scoring of raw customer files.

mod common;

use std::path::Path;

use purchase_predict::data::read_table;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::polars::prelude::*;
use purchase_predict::serve::batch::{score_file, transform_file, BatchConfig};
use purchase_predict::util::progress::Silent;

/// In-process probabilities for every row of a raw table.
fn in_process(model: &Path, table: &Path) -> Vec<f32> {
    let artifact = Artifact::load(model).unwrap();
    let raw = read_table(table, None).unwrap();
    artifact
        .model
        .predict(&artifact.preprocessor.transform(&raw).unwrap())
        .unwrap()
}

/// `purchase-predict predict` arguments with a chunk size.
fn predict_args<'a>(
    model: &'a Path,
    input: &'a Path,
    out: &'a Path,
    chunk_rows: &'a str,
) -> Vec<&'a str> {
    [
        &common::predict_args(model, input, out)[..],
        &["--chunk-rows", chunk_rows],
    ]
    .concat()
}

fn read_scores_csv(path: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn predict_command_scores_a_csv_in_chunks_keeping_ids_and_order() {
    let (dir, model) = common::demo_model(10);
    let data = common::root().join("data/customers.csv");
    let out = dir.path().join("scores.csv");
    let stdout = common::cli_ok(&predict_args(&model, &data, &out, "1500"));
    assert!(stdout.contains("scored 10000 customers"), "{stdout}");
    assert!(stdout.contains("7 chunks"), "{stdout}");
    assert!(stdout.contains("(id column `customer_id`)"), "{stdout}");

    let (header, rows) = read_scores_csv(&out);
    assert_eq!(header, "customer_id,probability,label");
    assert_eq!(rows.len(), 10_000);
    let want = in_process(&model, &data);
    let threshold = Artifact::load(&model).unwrap().manifest.threshold.get() as f32;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], format!("C{:06}", i + 1), "row {i} id");
        let p: f32 = r[1].parse().unwrap();
        assert!((p - want[i]).abs() <= 1e-6, "row {i}: {p} vs {}", want[i]);
        assert_eq!(r[2], if p >= threshold { "1" } else { "0" });
    }
    let buyers = rows.iter().filter(|r| r[2] == "1").count();
    assert!(
        stdout.contains(&format!("{buyers} predicted buyers")),
        "{stdout}"
    );
}

#[test]
fn parquet_without_the_target_scores_to_parquet() {
    let (dir, model) = common::demo_model(10);
    let data = common::root().join("data/customers.csv");
    let mut raw = read_table(&data, None).unwrap().drop("purchased").unwrap();
    let input = dir.path().join("customers.parquet");
    ParquetWriter::new(std::fs::File::create(&input).unwrap())
        .finish(&mut raw)
        .unwrap();
    let output = dir.path().join("scores.parquet");
    let config = BatchConfig::new(&model, &input, &output).with_chunk_rows(2048);
    let report = score_file(&config, &mut Silent).unwrap();
    assert_eq!((report.rows, report.chunks), (10_000, 5));
    assert_eq!(report.id_column.as_deref(), Some("customer_id"));

    let scores = ParquetReader::new(std::fs::File::open(&output).unwrap())
        .finish()
        .unwrap();
    assert_eq!(
        scores
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        ["customer_id", "probability", "label"]
    );
    let want = in_process(&model, &data);
    let got: Vec<f32> = scores
        .column("probability")
        .unwrap()
        .f32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-6));
    let ids = scores.column("customer_id").unwrap().str().unwrap().clone();
    assert_eq!(ids.get(9_999), Some("C010000"));
}

#[test]
fn a_bad_value_late_in_the_file_names_file_column_and_row_and_leaves_no_output() {
    let (dir, model) = common::demo_model(5);
    let text = std::fs::read_to_string(common::root().join("data/customers.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Data row 7,777 (line 7,778): age becomes text.
    let fields: Vec<&str> = lines[7_777].split(',').collect();
    let broken = [&[fields[0], "forty"][..], &fields[2..]].concat().join(",");
    lines[7_777] = broken;
    let input = dir.path().join("broken.csv");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("scores.csv");
    std::fs::write(&out, "previous results\n").unwrap();

    let err = common::cli_err(&predict_args(&model, &input, &out, "1000"));
    assert!(
        err.contains("column `age`") && err.contains("row 7777") && err.contains("`forty`"),
        "{err}"
    );
    assert!(err.contains("broken.csv"), "{err}");
    // The earlier output is untouched and no partial file is left beside it.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous results\n");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
}

#[test]
fn missing_columns_and_a_wrong_id_are_named() {
    let (dir, model) = common::demo_model(5);
    let input = dir.path().join("few.csv");
    std::fs::write(&input, "customer_id,age,income\nC1,40,50000\n").unwrap();
    let out = dir.path().join("scores.csv");
    let err = score_file(&BatchConfig::new(&model, &input, &out), &mut Silent)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("few.csv lacks columns the model needs"),
        "{err}"
    );
    assert!(
        err.contains("gender") && err.contains("discounts_used"),
        "{err}"
    );
    assert!(!out.exists());

    let data = common::root().join("data/customers.csv");
    let err = score_file(
        &BatchConfig::new(&model, &data, &out).with_id("client"),
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    // The library names its setting; the command line names the flag (tests/cli.rs).
    assert!(err.contains("`client` given to `id` not found"), "{err}");
    let err = score_file(
        &BatchConfig::new(&model, &data, &out).with_chunk_rows(0),
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("chunk_rows"), "{err}");
}

/// Peak memory reported by the `predict` command.
fn peak_mb(stdout: &str) -> f64 {
    stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stdout}"))
}

#[test]
fn memory_stays_flat_as_the_file_grows() {
    let (dir, model) = common::demo_model(5);
    let score = |rows: usize| {
        let input = dir.path().join(format!("c{rows}.csv"));
        purchase_predict::data::generate::write_customers(&input, rows, 7).unwrap();
        let out = dir.path().join(format!("s{rows}.csv"));
        let stdout = common::cli_ok(&predict_args(&model, &input, &out, "5000"));
        assert!(
            stdout.contains(&format!("scored {rows} customers")),
            "{stdout}"
        );
        (
            peak_mb(&stdout),
            std::fs::metadata(&input).unwrap().len() as f64 / 1e6,
        )
    };
    let (small_peak, _) = score(20_000);
    let (large_peak, large_file) = score(400_000);
    // Read whole, the 400k-row file alone (~28 MB of text, ~100 MB as a frame) would raise
    // the peak by far more than this.
    assert!(
        large_peak - small_peak < 25.0,
        "peak {small_peak:.0} MB for 20k rows vs {large_peak:.0} MB for 400k rows ({large_file:.0} MB file)"
    );
}

#[test]
fn batch_transform_streams_feature_csv_in_chunks_with_the_files_line_numbers() {
    let (dir, model) = common::demo_model(10);
    let artifact = Artifact::load(&model).unwrap();
    // SageMaker's transform input: preprocessed features, no header, no label.
    let raw = read_table(common::root().join("data/customers.csv"), None).unwrap();
    let x = artifact.preprocessor.transform(&raw).unwrap();
    let input = dir.path().join("features.csv");
    x.write_sagemaker_csv(&input, None).unwrap();
    let output = dir.path().join("features.csv.out");
    let rows = transform_file(&artifact, &input, &output, 1500).unwrap();
    assert_eq!(rows, x.nrows);
    let got: Vec<f32> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // Chunked scoring gives the same scores as the whole matrix at once, in order.
    assert_eq!(got, artifact.model.predict(&x).unwrap());

    // A bad value in the fourth chunk names its line in the whole file; nothing is written.
    let mut text = std::fs::read_to_string(&input).unwrap();
    let line = 4 * 1500 + 7;
    let start: usize = text.lines().take(line - 1).map(|l| l.len() + 1).sum();
    text.insert(start, 'x');
    std::fs::write(&input, text).unwrap();
    std::fs::remove_file(&output).unwrap();
    let err = transform_file(&artifact, &input, &output, 1500)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("line {line}, column 1")), "{err}");
    assert!(err.contains("features.csv"), "{err}");
    assert!(!output.exists());
}
