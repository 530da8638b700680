//! The local endpoint, driven over real HTTP on 127.0.0.1 with a minimal client.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use purchase_predict::codec::MAX_PAYLOAD_BYTES;
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::serve::http::HttpConnection;
use purchase_predict::serve::{Server, ServerConfig};

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

/// One request on a fresh connection, with the library's minimal HTTP/1.1 client.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut c = HttpConnection::connect(addr, Duration::from_secs(30)).unwrap();
    let r = c.request(method, path, headers, body).unwrap();
    Reply {
        status: r.status,
        content_type: r.header("content-type").unwrap_or_default().to_string(),
        body: r.text(),
    }
}

fn post(addr: SocketAddr, ctype: &str, accept: Option<&str>, body: &str) -> Reply {
    let mut h = vec![("Content-Type", ctype)];
    if let Some(a) = accept {
        h.push(("Accept", a));
    }
    request(addr, "POST", "/invocations", &h, body.as_bytes())
}

#[test]
fn endpoint_honours_the_sagemaker_xgboost_contract() {
    let (dir, model) = common::demo_model(20);
    let artifact = Artifact::load(&model).unwrap();
    let n = artifact.manifest.feature_names.len();

    // 25 test rows in the SageMaker inference format, and the in-process predictions.
    let test = common::read_numeric_csv(&dir.path().join("test.csv"));
    let rows: Vec<Vec<f32>> = test[..25].iter().map(|r| r[1..].to_vec()).collect();
    let x = FeatureMatrix {
        names: artifact.manifest.feature_names.clone(),
        nrows: rows.len(),
        values: rows.concat(),
    };
    let expected = artifact.model.predict(&x).unwrap();
    let csv: String = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = ServerConfig {
        port: 0,
        workers: 2,
        ..Default::default()
    };
    let server = rt.block_on(Server::start(&model, &config)).unwrap();
    rt.block_on(server.wait_loaded()).unwrap();
    let addr = server.addr();

    let ping = request(addr, "GET", "/ping", &[], b"");
    assert_eq!(ping.status, 200);

    let good = || {
        let r = post(addr, "text/csv", None, &csv);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.content_type.starts_with("text/csv"));
        let got: Vec<f32> = r.body.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-6, "{g} vs {e}");
        }
    };
    good();

    // JSON and JSON lines out.
    let r = post(
        addr,
        "text/csv; charset=utf-8",
        Some("application/json"),
        &csv,
    );
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let p0 = v["predictions"][0]["score"].as_f64().unwrap();
    assert!((p0 - expected[0] as f64).abs() <= 1e-6);
    let r = post(addr, "text/csv", Some("application/jsonlines"), &csv);
    assert_eq!(r.body.lines().count(), 25);
    assert!(r.body.lines().next().unwrap().starts_with("{\"score\":"));

    // libsvm: 0-based indices, absent = missing.
    let sparse: String = rows[0]
        .iter()
        .enumerate()
        .map(|(j, v)| format!(" {j}:{v}"))
        .collect();
    let r = post(addr, "text/libsvm", None, &format!("0{sparse}\n"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!((r.body.trim().parse::<f32>().unwrap() - expected[0]).abs() <= 1e-6);

    // Errors, each followed by a good request.
    let r = post(addr, "application/xml", None, "<a/>");
    assert_eq!(r.status, 415);
    good();
    let r = post(addr, "text/csv", Some("image/png"), &csv);
    assert_eq!(r.status, 406);
    let r = post(addr, "text/csv", None, "");
    assert_eq!(r.status, 204);
    let big = vec![b'1'; MAX_PAYLOAD_BYTES + 1];
    let r = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", "text/csv")],
        &big,
    );
    assert_eq!(r.status, 413);
    good();
    let short = format!("{}\n1,2\n", csv.lines().next().unwrap());
    let r = post(addr, "text/csv", None, &short);
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains(&format!("line 2: expected {n} fields, got 2")),
        "{}",
        r.body
    );
    let mut bad_row = rows[0].iter().map(|v| v.to_string()).collect::<Vec<_>>();
    bad_row[3] = "abc".into();
    let r = post(addr, "text/csv", None, &bad_row.join(","));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("line 1, column 4: `abc`"), "{}", r.body);
    good();

    // Raw customer records through the stored preprocessor; the answer adds the label.
    let customer = serde_json::json!({
        "age": 41, "gender": "female", "region": "south", "device": "desktop", "income": 72000.5,
        "membership": "gold", "tenure_months": 30, "sessions_30d": 6, "minutes_on_site": 45.5,
        "pages_viewed": 40, "bounce_rate": 0.2, "previous_purchases": 3,
        "days_since_last_purchase": 12, "discounts_used": 2
    });
    let body = serde_json::json!({ "instances": [customer.clone(), customer] }).to_string();
    let r = post(addr, "application/json", None, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let preds = v["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 2);
    let score = preds[0]["score"].as_f64().unwrap();
    assert_eq!(preds[0]["label"].as_u64().unwrap(), u64::from(score >= 0.5));
    let r = post(addr, "application/json", None, "{\"instances\": [");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("invalid JSON"));
    let r = post(
        addr,
        "application/json",
        None,
        r#"{"instances": [{"age": 41, "shoe_size": 9}]}"#,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("unknown features: shoe_size")
            && r.body.contains("missing features: gender"),
        "{}",
        r.body
    );
    good();

    let r = request(addr, "GET", "/execution-parameters", &[], b"");
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["MaxPayloadInMB"], 6);
    assert_eq!(v["BatchStrategy"], "MULTI_RECORD");
    assert_eq!(v["MaxConcurrentTransforms"], 2);

    // Prometheus metrics count what happened above.
    let r = request(addr, "GET", "/metrics", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/plain"));
    let metric = |name: &str| -> f64 {
        r.body
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {name} in\n{}", r.body))
    };
    let invocations = |status: u16| {
        metric(&format!(
            "purchase_predict_requests_total{{path=\"/invocations\",status=\"{status}\"}}"
        ))
    };
    assert_eq!(invocations(415), 1.0);
    assert_eq!(invocations(406), 1.0);
    assert_eq!(invocations(413), 1.0);
    assert_eq!(invocations(400), 4.0);
    assert_eq!(invocations(200), 9.0);
    let answered = [200, 204, 400, 406, 413, 415]
        .map(invocations)
        .iter()
        .sum::<f64>();
    assert_eq!(
        metric("purchase_predict_invocation_seconds_count"),
        answered
    );
    assert_eq!(
        metric("purchase_predict_invocation_seconds_bucket{le=\"+Inf\"}"),
        answered
    );
    // 7 CSV requests of 25 rows, one libsvm row, one JSON request of 2 customers.
    assert_eq!(
        metric("purchase_predict_rows_scored_total"),
        7.0 * 25.0 + 1.0 + 2.0
    );
    assert_eq!(metric("purchase_predict_model_loaded"), 1.0);

    rt.block_on(server.shutdown());
    assert!(TcpStream::connect(addr).is_err(), "closed after shutdown");
}

#[test]
fn a_model_that_cannot_load_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("model.tar.gz");
    std::fs::write(&junk, b"junk").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = ServerConfig {
        port: 0,
        ..Default::default()
    };
    let server = rt.block_on(Server::start(&junk, &config)).unwrap();
    assert!(rt.block_on(server.wait_loaded()).is_err());
    let r = request(server.addr(), "GET", "/ping", &[], b"");
    assert_eq!(r.status, 500);
    let no_workers = ServerConfig {
        workers: 0,
        ..config.clone()
    };
    assert!(rt.block_on(Server::start(&junk, &no_workers)).is_err());
    assert!(r.body.contains("corrupt model artifact"), "{}", r.body);
    rt.block_on(server.shutdown());
}

#[test]
fn serve_command_answers_and_stops_on_sigterm() {
    let (_dir, model) = common::demo_model(5);
    let (child, addr) =
        common::serve_child(&model, &["--workers", "1"], std::process::Stdio::piped());
    assert_eq!(request(addr, "GET", "/ping", &[], b"").status, 200);
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "graceful exit on SIGTERM, got {}",
        out.status
    );
    // Request logs through tracing on stderr.
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("model loaded"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("path=/ping") && l.contains("status=200")),
        "{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
}

/// Rows written as `application/x-recordio-protobuf` by an independent encoder (Google's
/// protobuf runtime with the SageMaker SDK's record.proto and framing,
/// tests/fixtures/recordio/encode.py), dense (float32, float64, int32) and sparse, are scored
/// exactly as the same rows in CSV; a broken body is a 400 naming the record.
#[test]
fn recordio_protobuf_bodies_score_as_their_csv() {
    let Some(python) = common::python() else {
        return;
    };
    let (dir, model) = common::demo_model(20);
    let test = common::read_numeric_csv(&dir.path().join("test.csv"));
    // 40 rows with their missing values (NaN) kept, and a few more blanked.
    let rows: Vec<Vec<f32>> = test[..40]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r[1..].to_vec();
            let blank = i % r.len();
            r[blank] = f32::NAN;
            r
        })
        .collect();
    let as_csv = |rows: &[Vec<f32>]| -> String {
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|v| {
                        if v.is_nan() {
                            String::new()
                        } else {
                            v.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
                    + "\n"
            })
            .collect()
    };
    let rounded: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| if v.is_nan() { 0.0 } else { v.round() })
                .collect()
        })
        .collect();
    let config = ServerConfig {
        port: 0,
        workers: 2,
        ..Default::default()
    };
    let server = purchase_predict::serve::BackgroundServer::start(&model, &config).unwrap();
    let addr = server.addr();
    let work = tempfile::tempdir().unwrap();
    let encode = |mode: &str, rows: &[Vec<f32>]| -> Vec<u8> {
        let input = work.path().join(format!("{mode}.csv"));
        let output = work.path().join(format!("{mode}.bin"));
        std::fs::write(&input, as_csv(rows)).unwrap();
        let out = std::process::Command::new(&python)
            .arg(common::root().join("tests/fixtures/recordio/encode.py"))
            .args([mode, input.to_str().unwrap(), output.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(output).unwrap()
    };
    let recordio = "application/x-recordio-protobuf";
    for (mode, source) in [
        ("dense-float32", &rows),
        ("dense-float64", &rows),
        ("sparse-float32", &rows),
        ("dense-int32", &rounded),
    ] {
        let body = encode(mode, source);
        for accept in ["text/csv", "application/json"] {
            let h = [("Content-Type", recordio), ("Accept", accept)];
            let got = request(addr, "POST", "/invocations", &h, &body);
            let want = post(addr, "text/csv", Some(accept), &as_csv(source));
            assert_eq!(got.status, 200, "{mode}: {}", got.body);
            assert_eq!(got.body, want.body, "{mode}, Accept {accept}");
            assert_eq!(got.content_type, want.content_type);
        }
    }
    // Explanations come by model feature, as for CSV rows.
    let body = encode("dense-float32", &rows[..2]);
    let h = [
        ("Content-Type", recordio),
        ("Accept", "application/json"),
        ("X-Amzn-SageMaker-Custom-Attributes", "explain"),
    ];
    let got = request(addr, "POST", "/invocations", &h, &body);
    let want = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", "text/csv"), h[1], h[2]],
        as_csv(&rows[..2]).as_bytes(),
    );
    assert!(got.body.contains("contributions"), "{}", got.body);
    assert_eq!((got.status, got.body), (200, want.body));

    // Broken bodies: 400 with the record, and the server goes on serving.
    let mut body = encode("dense-float32", &rows[..3]);
    body.truncate(body.len() - 10);
    let r = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", recordio)],
        &body,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("claims"), "{}", r.body);
    let narrow: Vec<Vec<f32>> = rows[..2].iter().map(|r| r[..5].to_vec()).collect();
    let r = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", recordio)],
        &encode("dense-float32", &narrow),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.starts_with("record 1: 5 values; the model takes"),
        "{}",
        r.body
    );
    let r = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", recordio)],
        b"0,1\n",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not a RecordIO record"), "{}", r.body);
    let ok = request(
        addr,
        "POST",
        "/invocations",
        &[("Content-Type", recordio)],
        &encode("dense-float32", &rows[..1]),
    );
    assert_eq!(ok.status, 200);
    server.stop();
}
