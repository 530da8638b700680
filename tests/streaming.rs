//! `run --streaming`: a table read in batches gives the model, preprocessor and files the
//! in-memory run gives, within the median sketch's error.

mod common;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use purchase_predict::app::pipeline::{run, RunConfig};
use purchase_predict::app::streaming::Streaming;
use purchase_predict::data::split::{HashSplit, Part};
use purchase_predict::data::{load, LoadOptions};
use purchase_predict::metrics::roc_auc;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::model::train::train;
use purchase_predict::prep::{ColumnTransform, PrepOptions, Preprocessor};
use purchase_predict::util::progress::Silent;

fn generated(dir: &Path, rows: usize) -> PathBuf {
    let p = dir.join("customers.csv");
    purchase_predict::data::generate::write_customers(&p, rows, 7).unwrap();
    p
}

fn config(data: &Path, out: &Path, streaming: Streaming) -> RunConfig {
    let mut c = RunConfig::new(data, "purchased", out);
    c.settings.load.id = Some("customer_id".into());
    c.hyperparameters.num_round = 30;
    c.streaming = streaming;
    // Small batches: the table is read in about a dozen.
    c.batch_bytes = 256 << 10;
    c
}

#[test]
fn a_streamed_run_trains_what_the_in_memory_pieces_train_on_the_same_split() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 40_000);
    let out = dir.path().join("out");
    let cfg = config(&data, &out, Streaming::Always);
    let report = run(&cfg, &mut Silent).unwrap();
    let m = common::metrics(&out);
    let prep = &m["preparation"];
    assert!(prep["batches"].as_u64().unwrap() >= 10, "{prep}");
    assert_eq!(prep["split"], "hash");
    let artifact = Artifact::load(out.join("model.tar.gz")).unwrap();

    // The same rows held whole: the same split (by the id's hash), fitted exactly.
    let ds = load(&data, &LoadOptions::new("purchased").id("customer_id")).unwrap();
    let parts = HashSplit::new(&cfg.settings.split)
        .unwrap()
        .parts_of_ids(ds.ids.as_ref().unwrap(), 0)
        .unwrap();
    let rows = |p: Part| -> Vec<usize> { (0..ds.len()).filter(|&i| parts[i] == p).collect() };
    let (train_rows, val_rows, test_rows) =
        (rows(Part::Train), rows(Part::Validation), rows(Part::Test));
    assert_eq!(
        (report.n_train, report.n_validation, report.n_test),
        (train_rows.len(), val_rows.len(), test_rows.len())
    );
    let exact =
        Preprocessor::fit_rows(&ds.features, Some(&train_rows), &PrepOptions::default()).unwrap();
    let streamed = &artifact.preprocessor;
    assert_eq!(streamed.feature_names, exact.feature_names);
    let rank_error = prep["median_rank_error"].as_f64().unwrap();
    assert!(rank_error > 0.0 && rank_error < 0.002, "{rank_error}");
    for (a, b) in streamed.columns.iter().zip(&exact.columns) {
        match (a, b) {
            (
                ColumnTransform::Numeric {
                    name,
                    median,
                    mean,
                    std,
                    missing_indicator,
                },
                ColumnTransform::Numeric {
                    median: m2,
                    mean: mean2,
                    std: s2,
                    missing_indicator: i2,
                    ..
                },
            ) => {
                assert_eq!(missing_indicator, i2, "{name}");
                // The median's rank among the training values is within the stated error.
                let mut v: Vec<f64> =
                    purchase_predict::data::numeric_values(ds.features.column(name).unwrap())
                        .unwrap()
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| parts[*i] == Part::Train)
                        .filter_map(|(_, x)| x)
                        .collect();
                v.sort_unstable_by(f64::total_cmp);
                let n = v.len() as f64;
                let below = v.partition_point(|&x| x < *median) as f64 / n;
                let upto = v.partition_point(|&x| x <= *median) as f64 / n;
                assert!(
                    below <= 0.5 + rank_error && upto >= 0.5 - rank_error,
                    "{name}: {median} vs {m2}"
                );
                // Means and deviations move only through the imputed median.
                let tolerance = if *missing_indicator { 1e-3 } else { 1e-9 };
                assert!((mean - mean2).abs() <= tolerance * s2, "{name} mean");
                assert!((std - s2).abs() <= tolerance * s2, "{name} std");
            }
            (a, b) => assert_eq!(a, b),
        }
    }

    // Trained in memory on the same rows through the streamed preprocessor: the quantised
    // matrix fed in batches trains the same model.
    let part = |idx: &[usize]| {
        (
            streamed.transform_rows(&ds.features, Some(idx)).unwrap(),
            idx.iter().map(|&i| ds.labels[i]).collect::<Vec<u8>>(),
        )
    };
    let (x_train, y_train) = part(&train_rows);
    let (x_val, y_val) = part(&val_rows);
    let (x_test, y_test) = part(&test_rows);
    let held = train(
        &x_train,
        &y_train,
        Some((&x_val, &y_val)),
        &cfg.hyperparameters,
        &mut Silent,
    )
    .unwrap();
    let a = artifact.model.predict(&x_test).unwrap();
    let b = held.predict(&x_test).unwrap();
    let worst = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 0.02, "largest score difference {worst}");
    let auc_streamed = roc_auc(&y_test, &a).unwrap();
    assert!((auc_streamed - roc_auc(&y_test, &b).unwrap()).abs() < 0.002);
    assert!(
        (report.metrics.roc_auc.unwrap() - auc_streamed).abs() < 1e-9,
        "the report scores the same rows"
    );
}

#[test]
fn streamed_and_in_memory_runs_write_the_same_forms_and_replace_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 30_000);
    let out = dir.path().join("out");
    let held = run(&config(&data, &out, Streaming::Never), &mut Silent).unwrap();
    let held_metrics = common::metrics(&out);
    let held_manifest = Artifact::load(out.join("model.tar.gz")).unwrap().manifest;
    assert!(held_metrics.get("preparation").is_none());
    assert!(out.join("train.csv").exists());

    let streamed = run(&config(&data, &out, Streaming::Always), &mut Silent).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "baseline",
            "metrics.json",
            "model.tar.gz",
            "report.html",
            "test",
            "train",
            "validation"
        ],
        "the in-memory run's split files went with it"
    );
    let streamed_metrics = common::metrics(&out);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.retain(|k| k != "preparation");
        k.sort();
        k
    };
    assert_eq!(keys(&streamed_metrics), keys(&held_metrics));
    let manifest = Artifact::load(out.join("model.tar.gz")).unwrap().manifest;
    assert_eq!(
        keys(&serde_json::to_value(&manifest).unwrap()),
        keys(&serde_json::to_value(&held_manifest).unwrap())
    );
    assert_eq!(
        manifest.training_data.sha256,
        held_manifest.training_data.sha256
    );
    assert_eq!(manifest.training_data.rows, 30_000);
    let baseline_files = |d: &Path| {
        let mut n: Vec<String> = std::fs::read_dir(d.join("baseline"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(baseline_files(&out).len(), 4);
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("<svg")
            || out.join("report.html").metadata().unwrap().len() > 10_000
    );

    // The SageMaker CSV shards hold the splits: label first, then every feature.
    let shard = out.join("train/part-00000.csv");
    let rows = common::read_numeric_csv(&shard);
    assert_eq!(rows.len(), streamed.n_train);
    assert!(rows
        .iter()
        .all(|r| r.len() == 1 + streamed.n_features && (r[0] == 0.0 || r[0] == 1.0)));
    // Different splits of the same table: the same quality within sampling noise.
    let auc = |r: &purchase_predict::app::pipeline::RunReport| r.metrics.roc_auc.unwrap();
    assert!(
        (auc(&streamed) - auc(&held)).abs() < 0.02,
        "{} vs {}",
        auc(&streamed),
        auc(&held)
    );
}

#[test]
fn a_parquet_table_streams_by_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let csv = generated(dir.path(), 20_000);
    let mut df = purchase_predict::data::read_table(&csv, None).unwrap();
    let pq = dir.path().join("customers.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .with_row_group_size(Some(3_000))
        .finish(&mut df)
        .unwrap();
    let out = dir.path().join("out");
    let from_parquet = run(&config(&pq, &out, Streaming::Always), &mut Silent).unwrap();
    let groups = ParquetReader::new(std::fs::File::open(&pq).unwrap())
        .get_metadata()
        .unwrap()
        .row_groups
        .len();
    assert!(groups >= 5, "{groups}");
    assert_eq!(common::metrics(&out)["preparation"]["batches"], groups);
    let from_csv = run(
        &config(&csv, &dir.path().join("csv"), Streaming::Always),
        &mut Silent,
    )
    .unwrap();
    // The same rows, ids and split: the same model.
    assert_eq!(from_parquet.n_test, from_csv.n_test);
    assert!(
        (from_parquet.metrics.roc_auc.unwrap() - from_csv.metrics.roc_auc.unwrap()).abs() < 1e-6
    );
}

#[test]
fn a_bad_value_in_a_later_batch_names_rows_row_and_column_and_keeps_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 30_000);
    let out = dir.path().join("out");
    run(&config(&data, &out, Streaming::Always), &mut Silent).unwrap();
    let before = common::sha(&out.join("model.tar.gz"));
    // Row 25,001's age becomes text.
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[25_001].split(',').map(str::to_string).collect();
    fields[1] = "unknown".into();
    lines[25_001] = fields.join(",");
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let err = run(&config(&data, &out, Streaming::Always), &mut Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("customers.csv, rows "), "{err}");
    assert!(
        err.contains("column `age`") && err.contains("row 25001 holds `unknown`"),
        "{err}"
    );
    assert_eq!(
        common::sha(&out.join("model.tar.gz")),
        before,
        "the previous run stays whole"
    );
}

#[test]
fn small_tables_stay_in_memory_unless_asked_and_tuning_refuses_to_stream() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 2_000);
    let auto = config(&data, &dir.path().join("a"), Streaming::Auto);
    assert!(!purchase_predict::app::streaming::streams(&auto).unwrap());
    assert!(purchase_predict::app::streaming::streams(&config(
        &data,
        Path::new("b"),
        Streaming::Always
    ))
    .unwrap());
    let out = common::cli_err(&[
        "tune",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "purchased",
        "--streaming",
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert!(
        out.contains("--streaming") && out.contains("tune on a sample"),
        "{out}"
    );
}
