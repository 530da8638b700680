//! Load generator of `benches/serve.sh` (run it through that script, which starts both servers).
//!
//! For each server: `GET /ping` at concurrency 1 (the HTTP floor), single-row CSV requests at
//! concurrency 1 and 32 (requests/s, p50/p99 latency), then 1,000-row requests at
//! concurrency 1 (rows/s). Closed loop: every client thread keeps one keep-alive connection
//! and sends its next request when the answer arrives. It also times in-process prediction
//! of the same 1,000 rows (`Model::predict`, and parse-the-CSV-then-predict), and checks first
//! that both servers give the in-process probabilities. The last line printed is one JSON
//! object.
//!
//! Arguments: `--ours URL --reference URL --model model.tar.gz --rows test.csv [--seconds S]
//! [--logged URL]`; `--logged` is ours again with the access log on, written to a file: its
//! 1-row figures beside the log-off ones show what logging costs. `--captured URL` is ours
//! again with data capture on (every request captured to a folder): its 1-row p50 beside the
//! capture-off one, measured right after, shows what capture costs.
//! (`test.csv` is SageMaker-format: label first, no header).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::serve::http::{HttpConnection, HttpEndpoint};
use purchase_predict::serve::predictor::Predictor;

struct Args {
    ours: String,
    logged: Option<String>,
    captured: Option<String>,
    reference: String,
    model: String,
    rows: String,
    seconds: f64,
}

fn parse_args() -> Args {
    let mut a = Args {
        ours: String::new(),
        logged: None,
        captured: None,
        reference: String::new(),
        model: String::new(),
        rows: String::new(),
        seconds: 5.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--ours" => a.ours = v(),
            "--logged" => a.logged = Some(v()),
            "--captured" => a.captured = Some(v()),
            "--reference" => a.reference = v(),
            "--model" => a.model = v(),
            "--rows" => a.rows = v(),
            "--seconds" => a.seconds = v().parse().expect("--seconds is a number"),
            "--bench" => {} // added by `cargo bench`
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        !a.ours.is_empty() && !a.reference.is_empty() && !a.model.is_empty() && !a.rows.is_empty(),
        "usage: --ours URL --reference URL --model model.tar.gz --rows test.csv [--seconds S]"
    );
    a
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("URL is http://IP:PORT")
}

/// Latencies of a closed-loop run.
struct Run {
    requests: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn percentile_ms(&self, q: f64) -> f64 {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i] as f64 / 1000.0
    }
}

/// `clients` threads, each sending `bodies` round-robin for `seconds` to `/invocations`
/// (or `GET /ping` when `bodies` is empty: the HTTP floor).
fn drive(url: &str, bodies: &[String], clients: usize, seconds: f64) -> Run {
    let target = addr(url);
    let deadline = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let per_thread: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|t| {
                s.spawn(move || {
                    let mut conn =
                        HttpConnection::connect(target, Duration::from_secs(30)).expect("connect");
                    let mut lat = Vec::new();
                    let mut i = t;
                    while started.elapsed() < deadline {
                        let t0 = Instant::now();
                        let r = if bodies.is_empty() {
                            conn.request("GET", "/ping", &[], b"")
                        } else {
                            conn.request(
                                "POST",
                                "/invocations",
                                &[("Content-Type", "text/csv"), ("Accept", "text/csv")],
                                bodies[i % bodies.len()].as_bytes(),
                            )
                        }
                        .expect("request");
                        assert_eq!(r.status, 200, "{}", r.text());
                        lat.push(t0.elapsed().as_micros() as u64);
                        if !conn.is_reusable() {
                            conn = HttpConnection::connect(target, Duration::from_secs(30))
                                .expect("reconnect");
                        }
                        i += clients;
                    }
                    lat
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let latencies_us: Vec<u64> = per_thread.concat();
    Run {
        requests: latencies_us.len(),
        seconds,
        latencies_us,
    }
}

fn csv_line(row: &[f32]) -> String {
    row.iter()
        .map(|v| {
            if v.is_nan() {
                String::new()
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

struct Figures {
    ping_rps_c1: f64,
    rps_c1: f64,
    p50_ms_c1: f64,
    p99_ms_c1: f64,
    rps_c32: f64,
    p99_ms_c32: f64,
    rows_per_s_1000: f64,
    p50_ms_1000: f64,
}

fn measure(name: &str, url: &str, singles: &[String], batch: &str, seconds: f64) -> Figures {
    eprintln!("== {name} ({url})");
    drive(url, singles, 4, 1.0); // warm up connections, caches and workers
    let ping = drive(url, &[], 1, seconds.min(2.0));
    eprintln!(
        "   GET /ping, c=1: {:>6.0} req/s  p50 {:.3} ms (the HTTP floor)",
        ping.rps(),
        ping.percentile_ms(0.5)
    );
    let c1 = drive(url, singles, 1, seconds);
    eprintln!(
        "   1 row,  c=1:  {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
        c1.rps(),
        c1.percentile_ms(0.5),
        c1.percentile_ms(0.99)
    );
    let c32 = drive(url, singles, 32, seconds);
    eprintln!(
        "   1 row,  c=32: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
        c32.rps(),
        c32.percentile_ms(0.5),
        c32.percentile_ms(0.99)
    );
    let rows = batch.lines().count();
    let b = drive(url, &[batch.to_string()], 1, seconds);
    eprintln!(
        "   {rows} rows, c=1: {:>8.0} rows/s  p50 {:.3} ms per request",
        b.rps() * rows as f64,
        b.percentile_ms(0.5)
    );
    Figures {
        ping_rps_c1: ping.rps(),
        rps_c1: c1.rps(),
        p50_ms_c1: c1.percentile_ms(0.5),
        p99_ms_c1: c1.percentile_ms(0.99),
        rps_c32: c32.rps(),
        p99_ms_c32: c32.percentile_ms(0.99),
        rows_per_s_1000: b.rps() * rows as f64,
        p50_ms_1000: b.percentile_ms(0.5),
    }
}

/// 1-row requests at concurrency 1 and 32: requests per second at each, and the c=1 p50.
struct Singles {
    rps_c1: f64,
    rps_c32: f64,
    p50_ms_c1: f64,
}

fn measure_singles(name: &str, url: &str, singles: &[String], seconds: f64) -> Singles {
    drive(url, singles, 4, 1.0);
    let c1 = drive(url, singles, 1, seconds);
    let c32 = drive(url, singles, 32, seconds);
    eprintln!(
        "== {name}: 1 row, c=1: {:>8.0} req/s p50 {:.3} ms; c=32: {:>8.0} req/s",
        c1.rps(),
        c1.percentile_ms(0.5),
        c32.rps()
    );
    Singles {
        rps_c1: c1.rps(),
        rps_c32: c32.rps(),
        p50_ms_c1: c1.percentile_ms(0.5),
    }
}

fn main() {
    let args = parse_args();
    let artifact = Artifact::load(&args.model).expect("model");
    let n = artifact.manifest.feature_names.len();
    let text = std::fs::read_to_string(&args.rows).expect("rows file");
    let rows: Vec<Vec<f32>> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .skip(1) // the label
                .map(|v| {
                    if v.is_empty() {
                        f32::NAN
                    } else {
                        v.parse().unwrap()
                    }
                })
                .collect()
        })
        .collect();
    assert!(
        rows.len() >= 1000,
        "need at least 1,000 rows in {}",
        args.rows
    );
    assert!(
        rows.iter().all(|r| r.len() == n),
        "rows must have {n} features"
    );
    let singles: Vec<String> = rows.iter().take(1000).map(|r| csv_line(r)).collect();
    let batch_rows = &rows[..1000];
    let batch: String = batch_rows.iter().map(|r| csv_line(r) + "\n").collect();
    let x = FeatureMatrix {
        names: artifact.manifest.feature_names.clone(),
        nrows: 1000,
        values: batch_rows.concat(),
    };

    // In-process prediction of the same 1,000 rows: median of 500 calls after 50 to warm up.
    let want = artifact.model.predict(&x).unwrap();
    for _ in 0..50 {
        std::hint::black_box(artifact.model.predict(&x).unwrap());
    }
    let mut times = Vec::new();
    for _ in 0..500 {
        let t0 = Instant::now();
        std::hint::black_box(artifact.model.predict(&x).unwrap());
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let in_process_ms = times[times.len() / 2];
    eprintln!("== in-process: 1,000 rows in {in_process_ms:.3} ms (Model::predict, median of 500)");
    // The same rows from CSV text, in-process: what a caller holding the request body would
    // pay without HTTP.
    let mut times = Vec::new();
    for _ in 0..500 {
        let t0 = Instant::now();
        let v = purchase_predict::codec::csv::parse_csv_rows(&batch, n).unwrap();
        std::hint::black_box(artifact.model.booster().predict_dense(&v, 1000, n).unwrap());
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let in_process_csv_ms = times[times.len() / 2];
    eprintln!("== in-process from CSV text: {in_process_csv_ms:.3} ms (parse + predict)");

    // Both servers must answer what the model computes, through the Predictor (the reference
    // answers on one comma-separated line, as SageMaker's container does).
    for url in [&args.ours, &args.reference] {
        let got = Predictor::new(HttpEndpoint::new(url).unwrap())
            .predict(&x)
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0f32, f32::max);
        assert!(worst <= 1e-5, "{url} differs from in-process by {worst}");
        eprintln!("== {url}: predictions match in-process (max |diff| {worst:.1e})");
    }

    let ours = measure("ours", &args.ours, &singles, &batch, args.seconds);
    let reference = measure(
        "reference (Flask + gunicorn)",
        &args.reference,
        &singles,
        &batch,
        args.seconds,
    );
    // The access log's cost: the same 1-row phases against ours with the log written to a
    // file (off the request path), and ours with it off, measured again right after.
    let logging = args.logged.as_ref().map(|url| {
        let on = measure_singles("ours, access log to a file", url, &singles, args.seconds);
        let off = measure_singles("ours, RUST_LOG=warn", &args.ours, &singles, args.seconds);
        (on, off)
    });
    // Data capture's cost, the same way: capture on (every request), then off right after.
    let capture = args.captured.as_ref().map(|url| {
        let on = measure_singles("ours, capture on", url, &singles, args.seconds);
        let off = measure_singles("ours, capture off", &args.ours, &singles, args.seconds);
        (on, off)
    });
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    let mut json = serde_json::json!({
        "rps_c1": r(ours.rps_c1),
        "rps_c32": r(ours.rps_c32),
        "p50_ms_c1": r(ours.p50_ms_c1),
        "p99_ms_c1": r(ours.p99_ms_c1),
        "p99_ms_c32": r(ours.p99_ms_c32),
        "rows_per_s_1000": r(ours.rows_per_s_1000),
        "request_ms_1000": r(ours.p50_ms_1000),
        "in_process_ms_1000": r(in_process_ms),
        "ratio_request_vs_in_process_1000": r(ours.p50_ms_1000 / in_process_ms),
        "in_process_csv_ms_1000": r(in_process_csv_ms),
        "ratio_request_vs_in_process_csv_1000": r(ours.p50_ms_1000 / in_process_csv_ms),
        "ref_rps_c1": r(reference.rps_c1),
        "ref_rps_c32": r(reference.rps_c32),
        "ref_p50_ms_c1": r(reference.p50_ms_c1),
        "ref_p99_ms_c1": r(reference.p99_ms_c1),
        "ref_p99_ms_c32": r(reference.p99_ms_c32),
        "ref_rows_per_s_1000": r(reference.rows_per_s_1000),
        "ping_rps_c1": r(ours.ping_rps_c1),
        "ref_ping_rps_c1": r(reference.ping_rps_c1),
        "ratio_rps_c1": r(ours.rps_c1 / reference.rps_c1),
        "ratio_rps_c32": r(ours.rps_c32 / reference.rps_c32),
        "ratio_rows_per_s_1000": r(ours.rows_per_s_1000 / reference.rows_per_s_1000),
        "seconds_per_phase": args.seconds,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    if let Some((on, off)) = logging {
        let extra = serde_json::json!({
            "logged_rps_c1": r(on.rps_c1),
            "logged_rps_c32": r(on.rps_c32),
            "unlogged_rps_c1": r(off.rps_c1),
            "unlogged_rps_c32": r(off.rps_c32),
            "ratio_logged_vs_unlogged_c32": r(on.rps_c32 / off.rps_c32),
        });
        if let (Some(m), serde_json::Value::Object(e)) = (json.as_object_mut(), extra) {
            m.extend(e);
        }
    }
    if let Some((on, off)) = capture {
        let extra = serde_json::json!({
            "captured_p50_ms_c1": r(on.p50_ms_c1),
            "uncaptured_p50_ms_c1": r(off.p50_ms_c1),
            "ratio_p50_captured_vs_off_c1": r(on.p50_ms_c1 / off.p50_ms_c1),
            "captured_rps_c32": r(on.rps_c32),
            "uncaptured_rps_c32": r(off.rps_c32),
            "ratio_rps_captured_vs_off_c32": r(on.rps_c32 / off.rps_c32),
        });
        if let (Some(m), serde_json::Value::Object(e)) = (json.as_object_mut(), extra) {
            m.extend(e);
        }
    }
    println!("{json}");
}
