//! What explanations cost (`benches/explain.sh`, or `cargo bench --bench explain`).
//!
//! Trains the tutorial's model (100 rounds, depth 5) on the bank-marketing table when
//! `../shared/datasets` has it, else on the shipped demo table, then measures, side by side in
//! the same run:
//! - **one-row requests** to the local endpoint (in this process, one keep-alive connection),
//!   CSV in, JSON out, with and without the `explain` custom attribute: p50 latency of each,
//!   interleaved in blocks so that load on the machine hits both alike. Target: explained
//!   ≤ 2× unexplained at p50.
//! - **batch explanations** of the test split: the Rust TreeSHAP (`explain_with_forest`, one
//!   part per core) against libxgboost's `pred_contribs` (DMatrix construction included),
//!   both on every core. Target: at least as fast as libxgboost.
//!
//! The last line printed is one JSON object with the figures and the ratios.

use std::time::{Duration, Instant};

use purchase_predict::app::pipeline::{prepare, RunConfig};
use purchase_predict::model::explain::{explain_with_forest, explain_with_libxgboost};
use purchase_predict::model::forest::Forest;
use purchase_predict::model::train::train;
use purchase_predict::serve::http::HttpConnection;
use purchase_predict::serve::{BackgroundServer, ServerConfig};
use purchase_predict::util::progress::Silent;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bank = root.join("../shared/datasets/bank-marketing/bank-additional-full.csv");
    let work = root.join("target/bench-explain");
    let _ = std::fs::remove_dir_all(&work);
    let (config, data) = if bank.exists() {
        (
            RunConfig::new(&bank, "y", work.join("out")),
            "bank marketing",
        )
    } else {
        (RunConfig::demo(work.join("out")), "demo")
    };
    let prepared = prepare(&config).expect("prepare");
    let model = train(
        &prepared.x_train,
        &prepared.y_train,
        prepared.validation(),
        &config.hyperparameters,
        &mut Silent,
    )
    .expect("train");
    let x = &prepared.x_test;
    println!(
        "data: {data}, {} test rows x {} features; model: {} rounds, depth {}",
        x.nrows,
        x.ncols(),
        model.rounds,
        config.hyperparameters.max_depth
    );
    // The model as `run` would save it, for the endpoint.
    let artifact_path = work.join("model.tar.gz");
    let mut artifact = purchase_predict::model::artifact::Artifact::new(
        purchase_predict::model::Model::from_bytes(
            &model.to_bytes().unwrap(),
            model.feature_names.clone(),
        )
        .unwrap(),
        prepared.preprocessor.clone(),
        &prepared.dataset.target,
        config.hyperparameters.clone(),
        purchase_predict::model::artifact::TrainingData {
            path: String::new(),
            sha256: String::new(),
            rows: 0,
        },
    );
    artifact.save(&artifact_path).expect("save");

    // Batch: the Rust TreeSHAP against libxgboost, interleaved, 5 runs each.
    let forest = Forest::from_xgboost_json(&model.to_bytes().unwrap()).expect("forest");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        let a = explain_with_forest(&forest, x).expect("explain");
        ours.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let b = explain_with_libxgboost(&model, x).expect("explain");
        theirs.push(t.elapsed().as_secs_f64());
        assert_eq!(a.values.len(), b.values.len());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "batch: {} rows explained in {:.1} ms here, {:.1} ms by libxgboost: {:.2}x as fast",
        x.nrows,
        ours * 1e3,
        theirs * 1e3,
        theirs / ours
    );

    // One-row requests, plain and explained, in interleaved blocks.
    let server =
        BackgroundServer::start(&artifact_path, &ServerConfig::default().port(0)).expect("serve");
    let mut conn = HttpConnection::connect(server.addr(), Duration::from_secs(10)).unwrap();
    let line = |i: usize| -> String {
        x.row(i % x.nrows)
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    v.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut send = |i: usize, explain: bool| -> f64 {
        let body = line(i);
        let mut headers = vec![("Content-Type", "text/csv"), ("Accept", "application/json")];
        if explain {
            headers.push(("X-Amzn-SageMaker-Custom-Attributes", "explain"));
        }
        let t = Instant::now();
        let r = conn
            .request("POST", "/invocations", &headers, body.as_bytes())
            .expect("request");
        let us = t.elapsed().as_secs_f64() * 1e6;
        assert_eq!(r.status, 200, "{}", r.text());
        us
    };
    for i in 0..200 {
        send(i, i % 2 == 0);
    }
    let (mut plain, mut explained) = (Vec::new(), Vec::new());
    for block in 0..20 {
        for i in 0..250 {
            plain.push(send(block * 250 + i, false));
        }
        for i in 0..250 {
            explained.push(send(block * 250 + i, true));
        }
    }
    let (p, e) = (median(plain), median(explained));
    println!(
        "one-row requests, p50: {p:.0} µs plain, {e:.0} µs explained: {:.2}x (target ≤ 2x)",
        e / p
    );
    server.stop();
    println!(
        "{}",
        serde_json::json!({
            "data": data,
            "rows": x.nrows,
            "features": x.ncols(),
            "batch_ms": {"rust_treeshap": ours * 1e3, "libxgboost": theirs * 1e3},
            "batch_speedup_vs_libxgboost": theirs / ours,
            "one_row_p50_us": {"plain": p, "explained": e},
            "explained_over_plain": e / p,
        })
    );
}
