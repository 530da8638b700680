//! Explanations (SHAP values): the Rust TreeSHAP against libxgboost on the shared datasets
//! and against Python xgboost 1.7.6, the raw-column view, and the endpoint's `explain`
//! custom attribute over real HTTP on 127.0.0.1.

mod common;

use std::path::Path;

use purchase_predict::app::pipeline::{run, RunConfig};
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::model::explain::{explain, explain_with_libxgboost};
use purchase_predict::serve::http::HttpConnection;
use purchase_predict::serve::predictor::{JsonDeserializer, JsonSerializer};
use purchase_predict::serve::{BackgroundServer, HttpEndpoint, Predictor, ServerConfig};
use purchase_predict::util::progress::Silent;

/// Train on a shared dataset (the tutorial's hyperparameters) and return the artifact and
/// the test split as the model sees it.
fn trained_on(data: &Path, target: &str) -> (tempfile::TempDir, Artifact, FeatureMatrix) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = RunConfig::new(data, target, dir.path());
    cfg.settings.split.validation_share = 0.0;
    run(&cfg, &mut Silent).unwrap();
    let a = Artifact::load(dir.path().join("model.tar.gz")).unwrap();
    let (x, _) = FeatureMatrix::read_sagemaker_csv(
        dir.path().join("test.csv"),
        Some(&a.preprocessor.feature_names),
    )
    .unwrap();
    (dir, a, x)
}

fn assert_same_contributions(data: &Path, target: &str) {
    let (_dir, a, x) = trained_on(data, target);
    let ours = explain(&a.model, &x).unwrap();
    let theirs = explain_with_libxgboost(&a.model, &x).unwrap();
    assert_eq!(ours.nrows, x.nrows);
    assert!((ours.base_value - theirs.base_value).abs() <= 1e-5);
    let worst = ours
        .values
        .iter()
        .zip(&theirs.values)
        .map(|(o, t)| (o - t).abs())
        .fold(0f32, f32::max);
    println!(
        "{}: {} rows x {} features, largest difference from libxgboost {worst:.2e}",
        data.display(),
        x.nrows,
        x.ncols()
    );
    assert!(worst <= 1e-5, "largest difference {worst}");
    // By raw column, every row adds up to the model's margin.
    let by_column = ours.by_column(&a.preprocessor).unwrap();
    let p = a.model.predict(&x).unwrap();
    for (i, p) in p.iter().enumerate() {
        assert!(
            (by_column.probability(i) - p).abs() < 1e-5,
            "row {i}: {} from the contributions, {p} predicted",
            by_column.probability(i)
        );
    }
}

#[test]
fn rust_treeshap_equals_libxgboost_on_bank_marketing() {
    let Some(p) = common::shared_dataset("bank-marketing/bank-additional-full.csv") else {
        return;
    };
    assert_same_contributions(&p, "y");
}

#[test]
fn rust_treeshap_equals_libxgboost_on_the_kaggle_table() {
    let Some(p) = common::shared_dataset("customer-purchase/customer_purchase_data.csv") else {
        return;
    };
    assert_same_contributions(&p, "PurchaseStatus");
}

#[test]
fn rust_treeshap_equals_python_xgboost_pred_contribs() {
    let Some(python) = common::python() else {
        return;
    };
    let (dir, model) = common::demo_model(30);
    let a = Artifact::load(&model).unwrap();
    let (x, _) = FeatureMatrix::read_sagemaker_csv(
        dir.path().join("test.csv"),
        Some(&a.preprocessor.feature_names),
    )
    .unwrap();
    let x = x.take(&(0..400).collect::<Vec<_>>());
    let model_file = dir.path().join("xgboost-model");
    std::fs::write(&model_file, a.model.to_bytes().unwrap()).unwrap();
    let features = dir.path().join("features.csv");
    let mut text = String::new();
    for i in 0..x.nrows {
        let row: Vec<String> = x
            .row(i)
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v:?}")
                }
            })
            .collect();
        text += &(row.join(",") + "\n");
    }
    std::fs::write(&features, text).unwrap();
    let out = dir.path().join("contribs.txt");
    let run = std::process::Command::new(python)
        .arg(common::root().join("tests/fixtures/xgboost-1.7/contributions.py"))
        .args([&model_file, &features, &out])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{}", String::from_utf8_lossy(&run.stdout).trim());
    let theirs = common::read_numeric_csv(&out);
    let ours = explain(&a.model, &x).unwrap();
    assert_eq!(theirs.len(), x.nrows);
    for (i, row) in theirs.iter().enumerate() {
        assert_eq!(row.len(), x.ncols() + 1);
        for (j, t) in row[..x.ncols()].iter().enumerate() {
            let o = ours.row(i)[j];
            assert!(
                (o - t).abs() <= 1e-5,
                "row {i} feature {j}: {o} here, {t} in Python"
            );
        }
        assert!((ours.base_value - row[x.ncols()]).abs() <= 1e-5);
    }
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

fn post(addr: std::net::SocketAddr, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut c = HttpConnection::connect(addr, std::time::Duration::from_secs(30)).unwrap();
    let r = c
        .request("POST", "/invocations", headers, body.as_bytes())
        .unwrap();
    Reply {
        status: r.status,
        content_type: r.header("content-type").unwrap_or_default().to_string(),
        body: r.text(),
    }
}

const EXPLAIN: (&str, &str) = ("X-Amzn-SageMaker-Custom-Attributes", "explain");

#[test]
fn the_endpoint_explains_when_the_custom_attribute_asks() {
    let (dir, model) = common::demo_model(20);
    let a = Artifact::load(&model).unwrap();
    let server = BackgroundServer::start(&model, &ServerConfig::default().port(0)).unwrap();
    let addr = server.addr();

    // Raw customer records: explained by raw column, adding up to the score.
    let instances = r#"{"instances": [
        {"age": 41, "income": 52000, "membership": "gold", "region": "north", "channel": "web",
         "previous_purchases": 3, "pages_viewed": 12, "days_since_last_purchase": 20,
         "discounts_used": 1, "support_tickets": 0, "avg_session_minutes": 8.5,
         "email_opens": 4, "tenure_months": 30, "device": "mobile"},
        {"age": null, "income": null, "membership": "none", "region": "south", "channel": "store",
         "previous_purchases": 0, "pages_viewed": 2, "days_since_last_purchase": 300,
         "discounts_used": 0, "support_tickets": 3, "avg_session_minutes": 1.0,
         "email_opens": 0, "tenure_months": 2, "device": "desktop"}]}"#;
    let columns: Vec<&str> = a.preprocessor.input_columns();
    let instances = keep_known_columns(instances, &columns);
    let plain = post(addr, &[("Content-Type", "application/json")], &instances);
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert!(!plain.body.contains("contributions"));
    let explained = post(
        addr,
        &[("Content-Type", "application/json"), EXPLAIN],
        &instances,
    );
    assert_eq!(explained.status, 200, "{}", explained.body);
    assert_eq!(explained.content_type, "application/json");
    let v: serde_json::Value = serde_json::from_str(&explained.body).unwrap();
    let p: serde_json::Value = serde_json::from_str(&plain.body).unwrap();
    for (i, rec) in v["predictions"].as_array().unwrap().iter().enumerate() {
        // The same score and label as without the attribute.
        assert_eq!(rec["score"], p["predictions"][i]["score"]);
        assert_eq!(rec["label"], p["predictions"][i]["label"]);
        let c = rec["contributions"].as_object().unwrap();
        let names: Vec<&str> = c.keys().map(String::as_str).collect();
        assert_eq!(names, columns, "by raw column, in the table's order");
        let margin = rec["base_value"].as_f64().unwrap()
            + c.values().map(|v| v.as_f64().unwrap()).sum::<f64>();
        let score = rec["score"].as_f64().unwrap();
        assert!((1.0 / (1.0 + (-margin).exp()) - score).abs() < 1e-5);
    }

    // CSV rows: explained by model feature, in JSON lines when asked.
    let test = common::read_numeric_csv(&dir.path().join("test.csv"));
    let csv: String = test[..3]
        .iter()
        .map(|r| {
            r[1..]
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    let lines = post(
        addr,
        &[
            ("Content-Type", "text/csv"),
            ("Accept", "application/jsonlines"),
            ("X-Amzn-SageMaker-Custom-Attributes", "trace=1, explain"),
        ],
        &csv,
    );
    assert_eq!(lines.status, 200, "{}", lines.body);
    let recs: Vec<serde_json::Value> = lines
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 3);
    let names: Vec<&String> = recs[0]["contributions"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, a.manifest.feature_names.iter().collect::<Vec<_>>());

    // Explanations need a JSON answer: a CSV answer is refused, naming the attribute.
    let refused = post(addr, &[("Content-Type", "text/csv"), EXPLAIN], &csv);
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("explain"), "{}", refused.body);
    // Without the attribute (or with others), the CSV answer is what it always was.
    let before = post(addr, &[("Content-Type", "text/csv")], &csv);
    let other = post(
        addr,
        &[
            ("Content-Type", "text/csv"),
            ("X-Amzn-SageMaker-Custom-Attributes", "explained=no"),
        ],
        &csv,
    );
    assert_eq!((before.status, &before.body), (200, &other.body));

    // The Predictor: `explain` asks for the same thing.
    let predictor = Predictor::new(HttpEndpoint::new(&format!("http://{addr}")).unwrap())
        .with_serializer(JsonSerializer)
        .with_deserializer(JsonDeserializer);
    let mut options = purchase_predict::data::LoadOptions::new("purchased");
    options.id = Some("customer_id".into());
    let ds =
        purchase_predict::data::load(common::root().join("data/customers.csv"), &options).unwrap();
    let five = ds.features.slice(0, 5);
    let got = predictor.explain(&five).unwrap();
    assert_eq!(got.scores, predictor.predict(&five).unwrap());
    assert_eq!(got.explanations.names, columns);
    let local = explain(&a.model, &a.preprocessor.transform(&five).unwrap())
        .unwrap()
        .by_column(&a.preprocessor)
        .unwrap();
    for (g, l) in got.explanations.values.iter().zip(&local.values) {
        assert!(
            (g - l).abs() < 1e-5,
            "{g} from the endpoint, {l} in process"
        );
    }
    let with = Predictor::new(HttpEndpoint::new(&format!("http://{addr}")).unwrap())
        .with_serializer(JsonSerializer)
        .with_explain(true);
    let err = with.predict(&five).unwrap_err().to_string();
    assert!(err.contains("explain"), "{err}");
    let with = with.with_deserializer(JsonDeserializer);
    assert_eq!(with.predict(&five).unwrap(), got.scores);
    server.stop();
}

/// The demo table's columns vary with the generator; keep the instances' keys the model
/// knows and add the ones it needs as null.
fn keep_known_columns(instances: &str, columns: &[&str]) -> String {
    let mut v: serde_json::Value = serde_json::from_str(instances).unwrap();
    for rec in v["instances"].as_array_mut().unwrap() {
        let obj = rec.as_object_mut().unwrap();
        obj.retain(|k, _| columns.contains(&k.as_str()));
        for c in columns {
            obj.entry(c.to_string()).or_insert(serde_json::Value::Null);
        }
    }
    v.to_string()
}

#[test]
fn explain_and_predict_explain_on_the_command_line() {
    let (dir, model) = common::demo_model(20);
    let data = common::root().join("data/customers.csv");
    let m = model.to_str().unwrap();
    let d = data.to_str().unwrap();
    let text = common::cli_ok(&["explain", "--model", m, "--data", d, "--row", "2"]);
    assert!(
        text.starts_with("customer C000002 (row 2): probability of buying"),
        "{text}"
    );
    assert!(
        text.contains("(base value)") && text.contains("membership"),
        "{text}"
    );
    let json = common::cli_ok(&["explain", "--model", m, "--data", d, "--row", "2", "--json"]);
    let e: serde_json::Value = serde_json::from_str(&json).unwrap();
    let margin = e["base_value"].as_f64().unwrap()
        + e["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum::<f64>();
    let p = e["probability"].as_f64().unwrap();
    assert!((1.0 / (1.0 + (-margin).exp()) - p).abs() < 1e-5);
    assert!(e["contributions"][0]["column"].as_str().is_some());

    let past = common::cli_err(&["explain", "--model", m, "--data", d, "--row", "10001"]);
    assert!(
        past.contains("row") && past.contains("rows 1 to 10000"),
        "{past}"
    );
    let zero = common::cli_err(&["explain", "--model", m, "--data", d, "--row", "0"]);
    assert!(zero.contains("row"), "{zero}");

    // predict --explain: the three largest reasons per customer, beside the same scores.
    let plain = dir.path().join("plain.csv");
    let explained = dir.path().join("explained.csv");
    common::cli_ok(&common::predict_args(&model, &data, &plain));
    let mut args = common::predict_args(&model, &data, &explained).to_vec();
    args.push("--explain");
    common::cli_ok(&args);
    let plain = std::fs::read_to_string(plain).unwrap();
    let explained = std::fs::read_to_string(explained).unwrap();
    let mut lines = explained.lines();
    assert_eq!(
        lines.next().unwrap(),
        "customer_id,probability,label,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3"
    );
    for (p, e) in plain.lines().skip(1).zip(lines) {
        let f: Vec<&str> = e.split(',').collect();
        assert_eq!(f.len(), 9, "{e}");
        assert!(p.starts_with(&f[..3].join(",")), "{p} vs {e}");
        let c: Vec<f32> = [4, 6, 8].iter().map(|&i| f[i].parse().unwrap()).collect();
        assert!(c[0].abs() >= c[1].abs() && c[1].abs() >= c[2].abs(), "{e}");
    }
    let x = dir.path().join("x.csv");
    let mut too_many = common::predict_args(&model, &data, &x).to_vec();
    too_many.extend(["--explain", "21"]);
    let err = common::cli_err(&too_many);
    assert!(err.contains("explain"), "{err}");
}

/// A customer whose score, as the endpoint prints it, is the model's threshold: the
/// explanation and the endpoint both call them a buyer (scores are compared at their own
/// precision: in f64, 0.42f32 is 0.41999998…).
#[test]
fn an_explanation_labels_a_customer_as_the_endpoint_does_at_the_threshold() {
    let (dir, model) = common::demo_model(20);
    let data = purchase_predict::app::pipeline::demo_data_path();
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    // The first row whose printed score reads above its f32 value in f64.
    let (row, record, printed) = lines
        .enumerate()
        .take(200)
        .find_map(|(i, line)| {
            let e =
                purchase_predict::model::explain::explain_customer(&model, &data, i + 1).unwrap();
            let printed: f64 = e.probability.to_string().parse().unwrap();
            (printed > f64::from(e.probability)).then(|| (i + 1, line.to_string(), printed))
        })
        .expect("a score whose decimal form is above its f32 value");
    let mut a = Artifact::load(&model).unwrap();
    a.manifest.threshold = printed.try_into().unwrap();
    let at_score = dir.path().join("at-score.tar.gz");
    a.save(&at_score).unwrap();

    let e = purchase_predict::model::explain::explain_customer(&at_score, &data, row).unwrap();
    assert!(
        e.predicted_buyer,
        "row {row}: score {} at threshold {printed}",
        e.probability
    );

    let instance: serde_json::Map<String, serde_json::Value> = header
        .iter()
        .zip(record.split(','))
        .map(|(k, v)| {
            let value = match v.parse::<f64>() {
                _ if v.is_empty() => serde_json::Value::Null,
                Ok(x) => serde_json::json!(x),
                Err(_) => serde_json::json!(v),
            };
            (k.to_string(), value)
        })
        .collect();
    let body = serde_json::json!({ "instances": [instance] }).to_string();
    let columns: Vec<&str> = a.preprocessor.input_columns();
    let body = keep_known_columns(&body, &columns);
    let server = BackgroundServer::start(&at_score, &ServerConfig::default().port(0)).unwrap();
    let reply = post(
        server.addr(),
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        v["predictions"][0]["score"].as_f64().unwrap() as f32,
        e.probability
    );
    assert_eq!(v["predictions"][0]["label"], 1, "{}", reply.body);
    server.stop();
}
