//! Hostile and careless input: crafted model archives, oversized and slow requests, signals at
//! bad moments, outputs that name the input. Each test failed before its fix (an abort, a
//! hang bounded here by a timeout, a replaced file); slow clients are bounded in time.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use purchase_predict::model::artifact::{Artifact, MODEL_MEMBER, PREPROCESSOR_MEMBER};
use purchase_predict::serve::http::HttpConnection;
use purchase_predict::serve::{Server, ServerConfig};
use purchase_predict::Error;

// ---------------------------------------------------------------- model archives

/// A gzipped tar of `members`; a member given as `Err(n)` is a header that claims `n` bytes
/// followed by no data at all.
fn archive(path: &Path, members: &[(&str, Result<&[u8], u64>)]) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut raw = Vec::new();
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_mode(0o644);
        match data {
            Ok(bytes) => {
                h.set_size(bytes.len() as u64);
                h.set_cksum();
                tar.append(&h, *bytes).unwrap();
            }
            Err(claimed) => {
                h.set_size(*claimed);
                h.set_cksum();
                raw.extend_from_slice(h.as_bytes());
            }
        }
    }
    let mut bytes = tar.into_inner().unwrap();
    // The lying header goes last, with nothing after it.
    bytes.truncate(bytes.len().saturating_sub(1024));
    bytes.extend_from_slice(&raw);
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

fn members_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

fn corrupt_reason(result: purchase_predict::Result<Artifact>) -> String {
    match result {
        Err(Error::CorruptArtifact { reason, .. }) => reason,
        Err(other) => panic!("expected CorruptArtifact, got {other}"),
        Ok(_) => panic!("a crafted archive loaded"),
    }
}

#[test]
fn a_header_claiming_a_terabyte_is_refused_without_allocating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.tar.gz");
    archive(&path, &[(MODEL_MEMBER, Err(1 << 40))]);
    assert!(
        std::fs::metadata(&path).unwrap().len() < 200,
        "a tiny archive"
    );
    // Before: "memory allocation of 1099511627776 bytes failed" and SIGABRT.
    let reason = corrupt_reason(Artifact::load(&path));
    assert!(
        reason.contains("`xgboost-model` claims 1099511627776 bytes"),
        "{reason}"
    );
    // A member the format does not define is skipped; its claim runs into the end.
    archive(&path, &[("extra.bin", Err(1 << 40))]);
    let reason = corrupt_reason(Artifact::load(&path));
    assert!(reason.contains("unreadable entry"), "{reason}");
    // The CLI says so and exits 1 instead of aborting.
    let scores = dir.path().join("scores.csv");
    let err = common::cli_err(&common::predict_args(
        &path,
        Path::new("data/customers.csv"),
        &scores,
    ));
    assert!(err.contains("corrupt model artifact"), "{err}");
}

#[test]
fn members_over_their_caps_are_refused_and_unknown_ones_are_not_kept() {
    let (dir, model) = common::demo_model(5);
    let members = members_of(&model);
    // A preprocessor that claims more than its cap, followed by nothing.
    let crafted = dir.path().join("big-pre.tar.gz");
    let model_bytes = &members.iter().find(|(n, _)| n == MODEL_MEMBER).unwrap().1;
    archive(
        &crafted,
        &[
            (MODEL_MEMBER, Ok(model_bytes.as_slice())),
            (PREPROCESSOR_MEMBER, Err(3 << 30)),
        ],
    );
    let reason = corrupt_reason(Artifact::load(&crafted));
    assert!(reason.contains("the most it may hold is"), "{reason}");

    // The real members plus 700 MB of zeros under another name (a few MB compressed): the
    // archive loads, and `predict` stays far under the member's size (before: 700 MB more).
    let padded = dir.path().join("padded.tar.gz");
    {
        let file = std::fs::File::create(&padded).unwrap();
        let mut tar = tar::Builder::new(GzEncoder::new(file, flate2::Compression::fast()));
        for (name, data) in &members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(700 << 20);
        h.set_mode(0o644);
        tar.append_data(&mut h, "notes.bin", std::io::repeat(0).take(700 << 20))
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    assert!(std::fs::metadata(&padded).unwrap().len() < 16 << 20);
    Artifact::load(&padded).expect("unknown members are skipped");
    let out = dir.path().join("scores.csv");
    let stdout = common::cli_ok(&common::predict_args(
        &padded,
        Path::new("data/customers.csv"),
        &out,
    ));
    let mb: f64 = stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stdout}"));
    assert!(mb < 400.0, "peak memory {mb} MB with a 700 MB member");
}

// ---------------------------------------------------------------- the endpoint

/// A server on the test's own runtime with short timeouts.
fn server(model: &Path, config: ServerConfig) -> (tokio::runtime::Runtime, Server) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(Server::start(model, &config)).unwrap();
    rt.block_on(server.wait_loaded()).unwrap();
    (rt, server)
}

/// Port 0, 2 workers, and 1 s for every timeout.
fn short() -> ServerConfig {
    ServerConfig {
        port: 0,
        workers: 2,
        read_timeout: Duration::from_secs(1),
        busy_timeout: Duration::from_secs(1),
        drain_timeout: Duration::from_secs(1),
        ..Default::default()
    }
}

fn post(addr: SocketAddr, ctype: &str, body: &[u8]) -> (u16, String) {
    let mut c = HttpConnection::connect(addr, Duration::from_secs(60)).unwrap();
    let r = c
        .request("POST", "/invocations", &[("Content-Type", ctype)], body)
        .unwrap();
    (r.status, r.text())
}

/// A connection that has sent `bytes` (often a request cut short) and nothing more.
fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(bytes).unwrap();
    s
}

/// Read what the server sends until it closes or `limit` passes.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("still open after {limit:?} ({e}); got {got:?}"),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn rows_per_request_are_capped_before_scoring() {
    let (_dir, model) = common::demo_model(5);
    let (_rt, server) = server(
        &model,
        ServerConfig {
            max_rows: 1000,
            ..short()
        },
    );
    let addr = server.addr();
    // 3,000 libsvm rows of 2 bytes each (before: 3 million of them cost 420 MB).
    let (status, text) = post(addr, "text/libsvm", "1\n".repeat(3000).as_bytes());
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("3000 rows; the most one request may hold is 1000"),
        "{text}"
    );
    let (status, text) = post(
        addr,
        "application/json",
        format!("{{\"instances\": [{}{{}}]}}", "{},".repeat(1000)).as_bytes(),
    );
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("1001 rows"), "{text}");
    // At the cap: scored (one error about the row's content, not its count).
    let (status, text) = post(addr, "text/libsvm", "1\n".repeat(1000).as_bytes());
    assert_eq!(status, 200, "{text}");
    assert_eq!(text.lines().count(), 1000);
}

#[test]
fn an_announced_oversized_body_gets_413_before_100_continue() {
    let (_dir, model) = common::demo_model(5);
    let (_rt, server) = server(&model, short());
    let mut s = send(
        server.addr(),
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\
          Content-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n",
    );
    let mut first = [0u8; 12];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_exact(&mut first).unwrap();
    assert_eq!(
        &first,
        b"HTTP/1.1 413",
        "{}",
        String::from_utf8_lossy(&first)
    );
}

#[test]
fn slow_clients_are_cut_off() {
    let (_dir, model) = common::demo_model(5);
    let (_rt, server) = server(&model, short());
    let addr = server.addr();
    // Headers that never end: the connection is closed after the read timeout (1 s).
    let mut s = send(addr, b"POST /invocations HTTP/1.1\r\nHost: x\r\n");
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(15));
    assert!(took < Duration::from_secs(10), "closed after {took:?}");
    // A body that stops arriving: 408 after the read timeout.
    let mut s = send(
        addr,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\
          Content-Length: 100\r\n\r\n0,1,",
    );
    let (reply, took) = read_until_closed(&mut s, Duration::from_secs(15));
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("did not arrive within 1 s"), "{reply}");
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    // The server still serves.
    let (status, _) = post(addr, "text/libsvm", b"1\n");
    assert_eq!(status, 200);
}

#[test]
fn large_requests_wait_for_a_scoring_slot_then_get_503() {
    // A model of 200 rounds, whose explanations of 100,000 rows hold the only slot for
    // seconds in a debug build.
    let (_dir, model) = common::demo_model(200);
    let n = purchase_predict::model::artifact::Artifact::load(&model)
        .unwrap()
        .manifest
        .feature_names
        .len();
    let (_rt, server) = server(
        &model,
        ServerConfig {
            max_concurrent: 1,
            read_timeout: Duration::from_secs(20),
            ..short()
        },
    );
    let addr = server.addr();
    let slow = format!("{}\n", ",".repeat(n - 1)).repeat(100_000);
    std::thread::scope(|s| {
        let holder = s.spawn(|| {
            let mut c = HttpConnection::connect(addr, Duration::from_secs(120)).unwrap();
            c.request(
                "POST",
                "/invocations",
                &[
                    ("Content-Type", "text/csv"),
                    ("Accept", "application/json"),
                    ("X-Amzn-SageMaker-Custom-Attributes", "explain"),
                ],
                slow.as_bytes(),
            )
            .unwrap()
            .status
        });
        std::thread::sleep(Duration::from_millis(500));
        let big = "1\n".repeat(20_000);
        let started = Instant::now();
        let (status, text) = post(addr, "text/libsvm", big.as_bytes());
        if !holder.is_finished() {
            assert_eq!(status, 503, "{text}");
            assert!(text.contains("the server is busy"), "{text}");
            assert!(started.elapsed() >= Duration::from_millis(900));
            // Small requests do not wait behind it.
            let started = Instant::now();
            assert_eq!(post(addr, "text/libsvm", b"1\n").0, 200);
            assert!(started.elapsed() < Duration::from_millis(900));
        } else {
            eprintln!("SKIPPED the 503 check: the explained request took under 1.5 s here");
        }
        assert_eq!(holder.join().unwrap(), 200);
    });
}

#[test]
fn a_connection_past_the_cap_closes_the_idlest_one_but_never_one_in_a_request() {
    let (_dir, model) = common::demo_model(5);
    let (_rt, server) = server(
        &model,
        ServerConfig {
            max_connections: 1,
            read_timeout: Duration::from_secs(2),
            ..short()
        },
    );
    let addr = server.addr();
    // A half-sent header: closed for the newcomer (before: it waited for the header timeout).
    let mut idle = send(addr, b"GET /ping HTTP/1.1\r\nHost: x\r\n");
    std::thread::sleep(Duration::from_millis(600));
    let started = Instant::now();
    assert_eq!(post(addr, "text/libsvm", b"1\n").0, 200);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let (got, _) = read_until_closed(&mut idle, Duration::from_secs(1));
    assert!(got.is_empty(), "closed without an answer: {got}");
    // A request whose body is on its way is not cut: the newcomer waits until it ends (here
    // by the 2 s body timeout, answered 408).
    let mut busy = send(
        addr,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n1",
    );
    std::thread::sleep(Duration::from_millis(600));
    let started = Instant::now();
    assert_eq!(post(addr, "text/libsvm", b"1\n").0, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    let (got, _) = read_until_closed(&mut busy, Duration::from_secs(5));
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
}

#[test]
fn shutdown_stops_waiting_for_a_half_sent_request_after_the_drain_timeout() {
    let (_dir, model) = common::demo_model(5);
    // The body may take 60 s; the drain gives it 1 s.
    let config = ServerConfig {
        read_timeout: Duration::from_secs(60),
        ..short()
    };
    let (rt, server) = server(&model, config);
    let addr = server.addr();
    let _half_sent = send(
        addr,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\
          Content-Length: 100000\r\n\r\n0,",
    );
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let stopped = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), server.shutdown()).await });
    assert!(stopped.is_ok(), "shutdown still waiting after 15 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(addr).is_err(), "closed after shutdown");
}

#[test]
fn only_http1_is_spoken_and_accept_q_values_count() {
    let (_dir, model) = common::demo_model(5);
    let (_rt, server) = server(&model, short());
    let addr = server.addr();
    // HTTP/2 without TLS (prior knowledge): not served.
    let mut s = send(addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    let (reply, _) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(
        !reply.contains("\x00\x00"),
        "an HTTP/2 frame came back: {reply:?}"
    );
    let accept = |value: &str| {
        let mut c = HttpConnection::connect(addr, Duration::from_secs(30)).unwrap();
        let r = c
            .request(
                "POST",
                "/invocations",
                &[("Content-Type", "text/libsvm"), ("Accept", value)],
                b"1\n",
            )
            .unwrap();
        (
            r.status,
            r.header("content-type").unwrap_or_default().to_string(),
        )
    };
    assert_eq!(accept("application/json;q=0, text/csv").1, "text/csv");
    assert_eq!(
        accept("text/csv;q=0.5, application/json").1,
        "application/json"
    );
    assert_eq!(accept("text/*").1, "text/csv");
    assert_eq!(accept("application/json;q=0").0, 406);
    // A 400 does not echo megabytes of the input back.
    let junk = format!("{}\n", "x".repeat(3 << 20));
    let (status, text) = post(addr, "text/csv", junk.as_bytes());
    assert_eq!(status, 400);
    assert!(text.len() < 2000, "{} bytes of error", text.len());
}

// ---------------------------------------------------------------- signals

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sigterm(child: &Child) {
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

#[test]
fn sigterm_right_after_the_first_ping_drains_instead_of_killing() {
    let (_dir, model) = common::demo_model(5);
    // Before: 7 of 10 tries died of the signal itself.
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
            .args(["serve", "--model", model.to_str().unwrap()])
            .args(["--port", &port.to_string(), "--workers", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        loop {
            assert!(started.elapsed() < Duration::from_secs(30), "never ready");
            let ready = HttpConnection::connect(addr, Duration::from_secs(5))
                .and_then(|mut c| c.request("GET", "/ping", &[], b""))
                .map(|r| r.status == 200)
                .unwrap_or(false);
            if ready {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        sigterm(&child);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "SIGTERM after the first 200 must drain, got {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn sigterm_exits_within_the_drain_timeout_despite_a_half_sent_request() {
    let (_dir, model) = common::demo_model(5);
    let (mut child, addr) = common::serve_child(&model, &["--drain-timeout", "1"], Stdio::null());
    let _half_sent = send(
        addr,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\
          Content-Length: 100000\r\n\r\n0,",
    );
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    sigterm(&child);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("still running 15 s after SIGTERM (drain timeout 1 s)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.elapsed() < Duration::from_secs(6));
}

// ---------------------------------------------------------------- the CLI's outputs

#[test]
fn predict_refuses_an_output_that_is_its_input_under_another_name() {
    let (dir, model) = common::demo_model(5);
    let input = dir.path().join("in.csv");
    std::fs::copy(common::root().join("data/customers.csv"), &input).unwrap();
    let before = common::sha(&input);
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let hard = dir.path().join("hard.csv");
    std::fs::hard_link(&input, &hard).unwrap();
    let dotted = dir.path().join(".").join("in.csv");
    let via_parent = dir
        .path()
        .join("..")
        .join(dir.path().file_name().unwrap())
        .join("in.csv");
    for output in [&dotted, &via_parent, &link, &hard] {
        let err = common::cli_err(&common::predict_args(&model, &input, output));
        assert!(
            err.contains("is the input file"),
            "{}: {err}",
            output.display()
        );
        assert_eq!(
            common::sha(&input),
            before,
            "the input was replaced via {}",
            output.display()
        );
    }
    // Relative against absolute, from the input's own folder.
    let out = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
        .args([
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--input",
            "in.csv",
        ])
        .args(["--output", input.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(common::sha(&input), before);
}

#[test]
fn predict_leaves_an_existing_output_alone_when_the_input_has_no_rows() {
    let (dir, model) = common::demo_model(5);
    let header = std::fs::read_to_string(common::root().join("data/customers.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let input = dir.path().join("empty.csv");
    std::fs::write(&input, format!("{header}\n")).unwrap();
    let output = dir.path().join("scores.csv");
    std::fs::write(&output, "earlier scores\n").unwrap();
    let err = common::cli_err(&common::predict_args(&model, &input, &output));
    assert!(err.contains("no data rows"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "earlier scores\n"
    );
}

/// The files of a folder (name → sha256), skipping none: leftovers show.
fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let hash = if e.path().is_file() {
                common::sha(&e.path())
            } else {
                "dir".into()
            };
            (name, hash)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn run_replaces_its_folder_whole_and_keeps_the_users_files() {
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");
    let data = common::root().join("data/customers.csv");
    let args = common::run_args(&data, &out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::cli_ok(&args);
    assert!(out.join("validation.csv").exists());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("tuning.json"), "{}").unwrap();
    let mut again = args.clone();
    again.extend(["--validation-share", "0"]);
    common::cli_ok(&again);
    let names: Vec<String> = listing(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "baseline",
            "metrics.json",
            "model.tar.gz",
            "notes.txt",
            "report.html",
            "test.csv",
            "train.csv"
        ],
        "the earlier run's validation.csv and tuning.json went, the user's file stayed"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    let siblings: Vec<String> = listing(base.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(siblings, ["out"], "no staging folder left beside it");
}

#[test]
fn ctrl_c_during_run_leaves_the_previous_run_whole_and_no_partial_files() {
    ctrl_c_leaves_the_previous_run(&[]);
}

#[test]
fn ctrl_c_during_a_streaming_run_leaves_the_previous_run_whole_and_no_partial_files() {
    // Interrupted while it writes its shards and spills into the staging folder.
    ctrl_c_leaves_the_previous_run(&["--streaming", "--batch-mib", "1"]);
}

fn ctrl_c_leaves_the_previous_run(extra: &[&str]) {
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");
    let data = base.path().join("customers.csv");
    common::cli_ok(&[
        "generate",
        "--rows",
        "300000",
        "--out",
        data.to_str().unwrap(),
    ]);
    let args = common::run_args(&data, &out);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(extra);
    common::cli_ok(&args);
    let before = listing(&out);
    // The same run again, interrupted once it has started writing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
        .args(&args)
        .current_dir(common::root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let staging_has_files = || {
        std::fs::read_dir(base.path()).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().contains(".staging-")
                && std::fs::read_dir(e.path())
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
        })
    };
    while !staging_has_files() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let result = child.wait_with_output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        listing(&out),
        before,
        "the previous run, whole, and nothing else"
    );
    let siblings: Vec<String> = listing(base.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        siblings,
        ["customers.csv", "out"],
        "no staging or partial files left"
    );
}

#[test]
fn a_killed_runs_leftovers_are_removed_by_the_next_run() {
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // What a SIGKILL leaves: a staging folder and a partial file of a process that is gone.
    let gone = common::dead_pid();
    let stale = base.path().join(format!(".out.staging-{gone}"));
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("train.csv"), "1,2\n").unwrap();
    std::fs::write(out.join(format!(".model.tar.gz.partial-{gone}")), "half").unwrap();
    let args = common::run_args(&common::root().join("data/customers.csv"), &out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::cli_ok(&args);
    assert!(!stale.exists());
    assert!(listing(&out).iter().all(|(n, _)| !n.contains(".partial-")));
}

#[test]
fn utf16_and_nested_inputs_are_named_for_what_they_are() {
    let (dir, model) = common::demo_model(5);
    let text = std::fs::read_to_string(common::root().join("data/customers.csv")).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text
        .lines()
        .take(50)
        .collect::<Vec<_>>()
        .join("\n")
        .encode_utf16()
    {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let input = dir.path().join("utf16.csv");
    std::fs::write(&input, &utf16).unwrap();
    let output = dir.path().join("scores.csv");
    let err = common::cli_err(&common::predict_args(&model, &input, &output));
    assert!(err.contains("is UTF-16, not UTF-8 text"), "{err}");
    let run_out = dir.path().join("run");
    let err = common::cli_err(&[
        "run",
        "--data",
        input.to_str().unwrap(),
        "--target",
        "purchased",
        "--out",
        run_out.to_str().unwrap(),
    ]);
    assert!(err.contains("is UTF-16, not UTF-8 text"), "{err}");

    // A Parquet table whose `income` is a list per customer.
    use polars::prelude::*;
    let mut df =
        purchase_predict::data::read_table(common::root().join("data/customers.csv"), None)
            .unwrap()
            .head(Some(100));
    let lists: Vec<Series> = (0..100)
        .map(|i| Series::new("".into(), [i as f64, 1.0]))
        .collect();
    df.replace("income", Series::new("income".into(), lists).into_column())
        .unwrap();
    let parquet = dir.path().join("nested.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut df)
        .unwrap();
    let err = common::cli_err(&common::predict_args(&model, &parquet, &output));
    assert!(err.contains("column `income` is nested"), "{err}");
    let err = common::cli_err(&[
        "run",
        "--data",
        parquet.to_str().unwrap(),
        "--target",
        "purchased",
        "--out",
        run_out.to_str().unwrap(),
    ]);
    assert!(err.contains("column `income` is nested"), "{err}");
    assert!(!run_out.exists(), "a failed run leaves no folder");
}
