//! The Predictor against the real local server on 127.0.0.1: chunking under 6 MB, row order,
//! both serializer pairs, and errors that carry the server's message.

mod common;

use purchase_predict::data::read_table;
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::serve::http::HttpEndpoint;
use purchase_predict::serve::predictor::{JsonDeserializer, JsonSerializer, Predictor};
use purchase_predict::serve::{BackgroundServer, ServerConfig};
use purchase_predict::Error;

fn config() -> ServerConfig {
    ServerConfig {
        port: 0,
        workers: 2,
        ..Default::default()
    }
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-6, "row {i}: {g} vs {w}");
    }
}

/// Counter value from the server's /metrics.
fn metric(server: &BackgroundServer, name: &str) -> f64 {
    let mut c = purchase_predict::serve::http::HttpConnection::connect(
        server.addr(),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let text = c.request("GET", "/metrics", &[], b"").unwrap().text();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[test]
fn a_large_matrix_goes_in_several_requests_under_6_mb_and_comes_back_in_order() {
    let (_dir, model) = common::demo_model(10);
    let artifact = Artifact::load(&model).unwrap();
    let raw = read_table(common::root().join("data/customers.csv"), None).unwrap();
    let x = artifact.preprocessor.transform(&raw).unwrap();
    // Stack the 10,000 customers 12 times, each copy shifted a little so that a row sent
    // to the wrong place would show: 120,000 rows, ~25 MB of CSV.
    let copies = 12;
    let mut values = Vec::with_capacity(x.values.len() * copies);
    for k in 0..copies {
        values.extend(x.values.iter().map(|v| v + k as f32 * 0.01));
    }
    let big = FeatureMatrix {
        names: x.names.clone(),
        nrows: x.nrows * copies,
        values,
    };
    let want = artifact.model.predict(&big).unwrap();

    let server = BackgroundServer::start(&model, &config()).unwrap();
    let predictor = server.predictor().unwrap().with_concurrency(2);
    let plan = predictor.plan(&big).unwrap();
    assert!(plan.len() >= 4, "{} requests", plan.len());
    let got = predictor.predict(&big).unwrap();
    assert_close(&got, &want);
    // The server saw exactly the planned requests, all accepted: none hit its 6 MB limit (413).
    let ok = metric(
        &server,
        "purchase_predict_requests_total{path=\"/invocations\",status=\"200\"}",
    );
    assert_eq!(ok, plan.len() as f64);
    assert_eq!(
        metric(&server, "purchase_predict_rows_scored_total"),
        big.nrows as f64
    );
    server.stop();
}

#[test]
fn raw_customers_go_through_the_stored_preprocessor_as_json() {
    let (_dir, model) = common::demo_model(10);
    let artifact = Artifact::load(&model).unwrap();
    let raw = read_table(common::root().join("data/customers.csv"), None).unwrap();
    let raw = raw.head(Some(3000));
    let want = artifact
        .model
        .predict(&artifact.preprocessor.transform(&raw).unwrap())
        .unwrap();
    // The model's input columns only.
    let inputs = raw.select(artifact.preprocessor.input_columns()).unwrap();

    let server = BackgroundServer::start(&model, &config()).unwrap();
    let predictor = Predictor::new(HttpEndpoint::new(&server.url()).unwrap())
        .with_serializer(JsonSerializer)
        .with_deserializer(JsonDeserializer)
        .with_max_payload_bytes(64 * 1024);
    assert!(predictor.plan(&inputs).unwrap().len() > 5);
    let got = predictor.predict(&inputs).unwrap();
    assert_close(&got, &want);

    // A record as the table holds it (less the target), with the model's id column
    // (`customer_id`, in the manifest), is read past its id; any other column is an unknown feature, named by the
    // server and by our error.
    let with_id = raw.head(Some(2)).drop("purchased").unwrap();
    let got = predictor.predict(&with_id).unwrap();
    assert_close(&got, &want[..2]);
    let mut extra = with_id.clone();
    extra
        .with_column(polars::prelude::Column::new(
            "shoe_size".into(),
            [42.0, 43.0],
        ))
        .unwrap();
    let err = predictor.predict(&extra).unwrap_err();
    match &err {
        Error::Endpoint {
            status: Some(400),
            message,
            ..
        } => assert!(message.contains("unknown features: shoe_size"), "{message}"),
        other => panic!("expected a 400 from the endpoint, got {other:?}"),
    }
    assert!(err.to_string().contains(&server.url()), "{err}");
}

#[test]
fn server_errors_reach_the_caller_with_status_and_message() {
    let (_dir, model) = common::demo_model(5);
    let server = BackgroundServer::start(&model, &config()).unwrap();
    let n = Artifact::load(&model).unwrap().manifest.feature_names.len();
    let short = FeatureMatrix {
        names: vec!["a".into(), "b".into()],
        nrows: 1,
        values: vec![1.0, 2.0],
    };
    let err = server.predictor().unwrap().predict(&short).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 400") && text.contains(&format!("expected {n} fields, got 2")),
        "{text}"
    );
    let url = server.url();
    server.stop();
    // Nothing listens any more: a clear connection error, not a hang.
    let err = Predictor::new(HttpEndpoint::new(&url).unwrap())
        .predict(&short)
        .unwrap_err();
    assert!(
        matches!(err, Error::Endpoint { status: None, .. }),
        "{err:?}"
    );
}
