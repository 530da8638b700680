//! Data capture at the endpoint (`serve --capture`, `ServerConfig::capture`,
//! `DeployConfig::data_capture`): what a user finds in the capture folder after sending
//! requests, as SageMaker Model Monitor would read it.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use purchase_predict::codec::capture::{CaptureEncoding, CaptureRecord};
use purchase_predict::serve::http::HttpConnection;
use purchase_predict::serve::{BackgroundServer, CaptureConfig, ServerConfig};

fn post(addr: SocketAddr, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut c = HttpConnection::connect(addr, Duration::from_secs(30)).unwrap();
    let r = c
        .request("POST", "/invocations", headers, body.as_bytes())
        .unwrap();
    (r.status, r.text())
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut c = HttpConnection::connect(addr, Duration::from_secs(30)).unwrap();
    c.request("GET", path, &[], b"").unwrap().text()
}

/// Every file under `dir`, sorted, relative.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn records(dir: &Path) -> Vec<CaptureRecord> {
    files(dir)
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(text.ends_with('\n'), "{f:?} ends in a partial line");
            text.lines()
                .map(|l| CaptureRecord::parse_line(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A server of `model` capturing every request into `captures` (the other settings default).
fn capturing(model: &Path, captures: &Path) -> BackgroundServer {
    BackgroundServer::start(
        model,
        &ServerConfig::default()
            .port(0)
            .capture(CaptureConfig::folder(captures)),
    )
    .unwrap()
}

/// A customer of the shipped demo table, `age` years old.
fn customer(age: u32) -> serde_json::Value {
    serde_json::json!({
        "customer_id": format!("C{age:06}"), "age": age, "gender": "female",
        "region": "north", "device": "desktop", "income": 37274.98, "membership": "none",
        "tenure_months": 1, "sessions_30d": 5, "minutes_on_site": 52.4, "pages_viewed": 33,
        "bounce_rate": null, "previous_purchases": 0, "days_since_last_purchase": null,
        "discounts_used": 0
    })
}

#[test]
fn each_answered_request_is_captured_with_its_answer_and_inference_id() {
    let (dir, model) = common::demo_model(5);
    let captures = dir.path().join("captures");
    let config = ServerConfig::default()
        .port(0)
        .capture(CaptureConfig::folder(&captures).endpoint_name("shop-endpoint"));
    let server = BackgroundServer::start(&model, &config).unwrap();
    let addr = server.addr();
    // Raw customers as JSON, with the caller's inference id.
    let body = serde_json::json!({ "instances": [customer(41), customer(63)] }).to_string();
    let (status, answer) = post(
        addr,
        &[
            ("Content-Type", "application/json"),
            ("X-Amzn-SageMaker-Inference-Id", "order-1001"),
        ],
        &body,
    );
    assert_eq!(status, 200, "{answer}");
    // Preprocessed rows as CSV, no id.
    let n = purchase_predict::model::artifact::Artifact::load(&model)
        .unwrap()
        .manifest
        .feature_names
        .len();
    let row = vec!["0.5"; n].join(",");
    let (status, csv_answer) = post(addr, &[("Content-Type", "text/csv")], &row);
    assert_eq!(status, 200);
    // A refused request is not captured.
    let (status, _) = post(addr, &[("Content-Type", "text/csv")], "1,2");
    assert_eq!(status, 400);
    server.stop();

    let found = files(&captures);
    assert!(!found.is_empty());
    for f in &found {
        let parts: Vec<String> = f.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        // <endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<ms>-<uuid>.jsonl
        assert_eq!(parts.len(), 7, "{f:?}");
        assert_eq!(parts[0], "shop-endpoint");
        assert_eq!(parts[1], "AllTraffic");
        assert_eq!(parts[2].len(), 4);
        assert!(parts[3..6].iter().all(|p| p.len() == 2), "{f:?}");
        assert!(parts[6].ends_with(".jsonl"), "{f:?}");
    }
    let recs = records(&captures);
    assert_eq!(recs.len(), 2, "two answered requests, one refused");
    let json = recs
        .iter()
        .find(|r| r.event_metadata.inference_id.is_some())
        .unwrap();
    assert_eq!(
        json.event_metadata.inference_id.as_deref(),
        Some("order-1001")
    );
    let input = json.capture_data.endpoint_input.as_ref().unwrap();
    assert_eq!(input.encoding, CaptureEncoding::Json);
    assert_eq!(input.observed_content_type, "application/json");
    assert_eq!(input.data, body);
    let output = json.capture_data.endpoint_output.as_ref().unwrap();
    assert_eq!(output.data, answer, "the answer as the client got it");
    assert_eq!(output.mode, "OUTPUT");
    let csv = recs
        .iter()
        .find(|r| r.event_metadata.inference_id.is_none())
        .unwrap();
    assert_eq!(csv.capture_data.endpoint_input.as_ref().unwrap().data, row);
    assert_eq!(
        csv.capture_data.endpoint_output.as_ref().unwrap().data,
        csv_answer
    );
    assert_ne!(json.event_metadata.event_id, csv.event_metadata.event_id);
    // The time is the request's, to the millisecond, and its hour is the file's folder.
    let t = json.time().unwrap();
    assert!((chrono::Utc::now() - t).num_seconds() < 600);
}

#[test]
fn serve_capture_flushes_on_sigterm_and_reports_on_metrics() {
    let (dir, model) = common::demo_model(5);
    let captures = dir.path().join("cap");
    let (child, addr) = common::serve_child(
        &model,
        &["--workers", "1", "--capture", captures.to_str().unwrap()],
        std::process::Stdio::piped(),
    );
    let body = serde_json::json!({ "instances": [customer(30)] }).to_string();
    for _ in 0..20 {
        let (status, _) = post(addr, &[("Content-Type", "application/json")], &body);
        assert_eq!(status, 200);
    }
    let metrics = get(addr, "/metrics");
    assert!(
        metrics.contains("purchase_predict_captures_total{outcome=\"dropped\"} 0"),
        "{metrics}"
    );
    // The flush interval (5 s) has not passed: nothing is published until SIGTERM.
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert_eq!(records(&captures).len(), 20, "every capture, once");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("captures published"), "{log}");
}

#[test]
fn bad_capture_settings_refuse_to_start_with_the_setting_named() {
    let (dir, model) = common::demo_model(3);
    let model = model.to_str().unwrap();
    let err = common::cli_err(&[
        "serve",
        "--model",
        model,
        "--port",
        "0",
        "--capture",
        dir.path().to_str().unwrap(),
        "--capture-sampling",
        "150",
    ]);
    assert!(
        err.contains("sampling_percentage") && err.contains("150"),
        "{err}"
    );
    let file = dir.path().join("model.tar.gz");
    let err = common::cli_err(&[
        "serve",
        "--model",
        model,
        "--port",
        "0",
        "--capture",
        file.to_str().unwrap(),
    ]);
    assert!(err.contains("not a folder"), "{err}");
    let err = common::cli_err(&[
        "serve",
        "--model",
        model,
        "--port",
        "0",
        "--capture",
        dir.path().to_str().unwrap(),
        "--capture-endpoint",
        "my endpoint",
    ]);
    assert!(err.contains("endpoint_name"), "{err}");
}

#[test]
fn a_failing_destination_is_counted_while_the_endpoint_keeps_serving() {
    let (dir, model) = common::demo_model(3);
    let captures = dir.path().join("gone");
    let mut capture = CaptureConfig::folder(&captures);
    capture.flush_interval = Duration::from_millis(50);
    let server =
        BackgroundServer::start(&model, &ServerConfig::default().port(0).capture(capture)).unwrap();
    // The folder becomes a file: no capture file can be written under it any more.
    std::fs::remove_dir_all(&captures).unwrap();
    std::fs::write(&captures, b"in the way").unwrap();
    let body = serde_json::json!({ "instances": [customer(50)] }).to_string();
    for _ in 0..5 {
        let (status, _) = post(
            server.addr(),
            &[("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(status, 200, "the endpoint keeps answering");
        std::thread::sleep(Duration::from_millis(80));
    }
    let (status, _) = post(
        server.addr(),
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(status, 200);
    let metrics = get(server.addr(), "/metrics");
    let failed: u64 = metrics
        .lines()
        .find(|l| l.starts_with("purchase_predict_captures_total{outcome=\"failed\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(failed >= 4, "{metrics}");
    let counts = server.capture_counts().unwrap();
    server.stop();
    assert_eq!(counts.written, 0);
    assert_eq!(std::fs::read(&captures).unwrap(), b"in the way");
}

#[test]
fn sampling_captures_about_its_share_of_requests() {
    let (dir, model) = common::demo_model(3);
    let captures = dir.path().join("sampled");
    let server = BackgroundServer::start(
        &model,
        &ServerConfig::default()
            .port(0)
            .capture(CaptureConfig::folder(&captures).sampling(25.0)),
    )
    .unwrap();
    let body = serde_json::json!({ "instances": [customer(50)] }).to_string();
    for _ in 0..400 {
        post(
            server.addr(),
            &[("Content-Type", "application/json")],
            &body,
        );
    }
    let counts = server.capture_counts().unwrap();
    server.stop();
    let kept = records(&captures).len() as u64;
    assert_eq!(kept + counts.sampled_out, 400);
    assert!((60..=140).contains(&kept), "{kept} of 400 at 25 %");
}

#[test]
fn a_local_deploy_with_data_capture_captures_under_the_endpoint_name() {
    use purchase_predict::prelude::*;
    use purchase_predict::util::runtime::block_on;
    let (dir, model) = common::demo_model(3);
    let session = Session::local(dir.path().join("work"));
    let config = DeployConfig::default()
        .endpoint_name("capture-demo")
        .data_capture(DataCapture::new(PathBuf::from("captures")));
    let endpoint = block_on(Endpoint::deploy_model(
        &session,
        &Location::Local(model.clone()),
        None,
        &config,
        &mut Silent,
    ))
    .unwrap();
    let url = endpoint.url().unwrap();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let body = serde_json::json!({ "instances": [customer(44)] }).to_string();
    let (status, answer) = post(addr, &[("Content-Type", "application/json")], &body);
    assert_eq!(status, 200);
    block_on(endpoint.delete()).unwrap();
    // Under the session's root, in the endpoint's own folder.
    let root = dir.path().join("work/captures/capture-demo/AllTraffic");
    let recs = records(&root);
    assert_eq!(recs.len(), 1, "{:?}", files(&root));
    assert_eq!(
        recs[0].capture_data.endpoint_output.as_ref().unwrap().data,
        answer
    );
    let too_many = DeployConfig::default()
        .data_capture(DataCapture::new(PathBuf::from("captures")).sampling(101));
    let err = block_on(Endpoint::deploy_model(
        &session,
        &Location::Local(model),
        None,
        &too_many,
        &mut Silent,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("sampling_percentage"), "{err}");
}

#[test]
fn the_predictor_sends_its_inference_id_and_the_capture_keeps_it() {
    use purchase_predict::prelude::{JsonDeserializer, JsonSerializer};
    let (dir, model) = common::demo_model(3);
    let captures = dir.path().join("ids");
    let server = capturing(&model, &captures);
    let ds = purchase_predict::data::load(
        common::root().join("data/customers.csv"),
        &purchase_predict::data::LoadOptions::new("purchased").id("customer_id"),
    )
    .unwrap();
    let three = ds.take(&[0, 1, 2]).unwrap().records().unwrap();
    let json = server
        .predictor()
        .unwrap()
        .with_serializer(JsonSerializer)
        .with_deserializer(JsonDeserializer);
    json.with_inference_id("day-1").predict(&three).unwrap();
    // Rows that take several requests: one id each, numbered.
    let small = server
        .predictor()
        .unwrap()
        .with_serializer(JsonSerializer)
        .with_deserializer(JsonDeserializer)
        .with_max_rows(2)
        .with_inference_id("day-2");
    small.predict(&three).unwrap();
    server.stop();
    let mut ids: Vec<String> = records(&captures)
        .into_iter()
        .map(|r| r.event_metadata.inference_id.unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["day-1", "day-2-1", "day-2-2"]);
}

#[test]
fn captures_sent_in_one_sitting_are_spread_over_their_days() {
    let (dir, model) = common::demo_model(3);
    let captures = dir.path().join("week");
    let server = capturing(&model, &captures);
    for day in 1..=3 {
        let body = serde_json::json!({ "instances": [customer(40 + day)] }).to_string();
        let id = format!("day-{day}");
        let (status, _) = post(
            server.addr(),
            &[
                ("Content-Type", "application/json"),
                ("X-Amzn-SageMaker-Inference-Id", &id),
            ],
            &body,
        );
        assert_eq!(status, 200);
    }
    server.stop();
    let before: Vec<CaptureRecord> = records(&captures);
    let moved = purchase_predict::monitor::simulate::spread_over_days(&captures, |id| {
        id.strip_prefix("day-")?.parse().ok()
    })
    .unwrap();
    assert_eq!(moved, 3);
    let after = records(&captures);
    let day = |rs: &[CaptureRecord], id: &str| {
        rs.iter()
            .find(|r| r.event_metadata.inference_id.as_deref() == Some(id))
            .unwrap()
            .time()
            .unwrap()
    };
    // The last day keeps its time; the others go back a day each.
    assert_eq!(day(&after, "day-3"), day(&before, "day-3"));
    assert_eq!((day(&before, "day-1") - day(&after, "day-1")).num_days(), 2);
    assert_eq!((day(&before, "day-2") - day(&after, "day-2")).num_days(), 1);
}
