//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Skip a test with a printed reason; under CI (where everything must be present) fail.
pub fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("required under CI but missing: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// A dataset from `../shared/datasets/`, or `None` (after printing why) when absent.
pub fn shared_dataset(relative: &str) -> Option<PathBuf> {
    let p = root().join("../shared/datasets").join(relative);
    if p.exists() {
        Some(p)
    } else {
        skip(&format!("{} not found (../shared is absent)", p.display()));
        None
    }
}

/// A Python with xgboost 1.7.6, from `PURCHASE_PREDICT_PYTHON` (set by .ci/run).
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("PURCHASE_PREDICT_PYTHON") {
        Some(p) if Path::new(&p).exists() => Some(PathBuf::from(p)),
        _ => {
            skip("PURCHASE_PREDICT_PYTHON is not set to a Python with xgboost 1.7.6 (.ci/run sets it)");
            None
        }
    }
}

/// Run the `purchase-predict` binary.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
        .args(args)
        .current_dir(root())
        .env("OMP_WAIT_POLICY", "passive")
        .output()
        .expect("spawn purchase-predict")
}

/// Run the binary, require success, return stdout.
pub fn cli_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "purchase-predict {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run the binary, require failure, return stderr.
pub fn cli_err(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        !out.status.success(),
        "purchase-predict {args:?} should fail"
    );
    String::from_utf8(out.stderr).unwrap()
}

/// `purchase-predict predict` arguments for scoring `input` into `output`.
pub fn predict_args<'a>(model: &'a Path, input: &'a Path, output: &'a Path) -> [&'a str; 7] {
    [
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]
}

/// Start `purchase-predict serve --model MODEL --port 0 EXTRA...` and read the address from
/// the line it prints once the model is loaded.
pub fn serve_child(model: &Path, extra: &[&str], stderr: Stdio) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
        .args(["serve", "--model", model.to_str().unwrap(), "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let (_, addr) = read_serving_line(&mut child);
    (child, addr)
}

/// The first line `serve` prints once the model is loaded (`serving … on http://ADDR …`),
/// and the address in it.
pub fn read_serving_line(child: &mut Child) -> (String, SocketAddr) {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
    (line, addr)
}

/// Read `metrics.json` from an output folder.
pub fn metrics(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("metrics.json")).expect("metrics.json");
    serde_json::from_str(&text).expect("metrics.json is JSON")
}

/// Parse a headerless CSV of numbers (empty field = NaN).
pub fn read_numeric_csv(path: &Path) -> Vec<Vec<f32>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| {
                    if v.is_empty() {
                        f32::NAN
                    } else {
                        v.parse().unwrap()
                    }
                })
                .collect()
        })
        .collect()
}

/// Run the pipeline on the shipped data with `rounds` boosting rounds into a fresh temporary
/// folder; returns the folder (keep it alive) and the path of its `model.tar.gz`.
pub fn demo_model(rounds: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = purchase_predict::app::pipeline::RunConfig::demo(dir.path());
    cfg.hyperparameters.num_round = rounds;
    purchase_predict::app::pipeline::run(&cfg, &mut purchase_predict::util::progress::Silent)
        .unwrap();
    let model = dir.path().join("model.tar.gz");
    (dir, model)
}

/// sha256 of a file, as lowercase hex.
pub fn sha(path: &Path) -> String {
    purchase_predict::util::files::sha256_file(path).unwrap()
}

/// `run` on `data` (target `purchased`, id `customer_id`) into `out`, 5 rounds.
pub fn run_args(data: &Path, out: &Path) -> Vec<String> {
    [
        "run",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "purchased",
        "--id",
        "customer_id",
        "--out",
        out.to_str().unwrap(),
        "--hp",
        "num_round=5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A process id that is not running: a child that has exited and been reaped.
pub fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}
