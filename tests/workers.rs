//! Our image on several instances, run here (`run --workers`, `local_hosts`): one model
//! trained across processes on loopback through libxgboost's collective, as good as one
//! process's; the same model through xgboost 1.7's own tracker as through ours; every host
//! given every column; and a lost host failing every other within the stated time, the reason
//! in each one's failure file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use purchase_predict::cloud::sagemaker::cluster::{FIRST_HOST_ENV, JOIN_TIMEOUT_ENV, TRACKER_ENV};
use purchase_predict::cloud::sagemaker::container::{MlRoot, ROOT_ENV, TRAIN_CHANNEL};
use purchase_predict::cloud::sagemaker::local_hosts::{host_names, run_local_hosts};
use purchase_predict::evaluate::settings::PipelineSettings;
use purchase_predict::model::artifact::Artifact;
use purchase_predict::model::Hyperparameters;
use purchase_predict::util::progress::Silent;

const BIN: &str = env!("CARGO_BIN_EXE_purchase-predict");

fn generated(dir: &Path, rows: usize) -> PathBuf {
    let p = dir.join("customers.csv");
    purchase_predict::data::generate::write_customers(&p, rows, 7).unwrap();
    p
}

fn run(data: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) {
    let mut args = common::run_args(data, out);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(BIN)
        .args(&args)
        .env("OMP_WAIT_POLICY", "passive")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn metrics(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn two_workers_train_what_one_process_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 60_000);
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    run(&data, &one, &["--streaming"], &[]);
    run(&data, &two, &["--workers", "2"], &[]);
    let (m1, m2) = (metrics(&one), metrics(&two));
    let (a1, a2) = (
        m1["roc_auc"].as_f64().unwrap(),
        m2["roc_auc"].as_f64().unwrap(),
    );
    assert!(
        (a1 - a2).abs() <= 0.005,
        "one process {a1}, two workers {a2}"
    );
    // The split is by id: the same test rows, every one evaluated.
    assert_eq!(m1["n_test"], m2["n_test"]);
    let hosts = &m2["preparation"]["hosts"];
    assert_eq!(hosts["count"], 2);
    let rows: u64 = hosts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .sum();
    assert_eq!(rows, 60_000);
    assert!(hosts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.as_u64().unwrap() > 20_000));
    assert_eq!(hosts["test_rows_evaluated"], m2["n_test"]);
    // A whole model, with the preprocessor every host used.
    let a = Artifact::load(one.join("model.tar.gz")).unwrap();
    let b = Artifact::load(two.join("model.tar.gz")).unwrap();
    assert_eq!(a.preprocessor.feature_names, b.preprocessor.feature_names);
    assert!(two.join("report.html").is_file() && two.join("baseline").is_dir());
    assert!(
        !two.join(".workers").exists(),
        "the hosts' folders are removed"
    );

    // One worker is `run`; past 64 is refused too, before anything is written.
    for n in ["1", "65"] {
        let out = Command::new(BIN)
            .args([
                "run",
                "--data",
                data.to_str().unwrap(),
                "--target",
                "purchased",
            ])
            .args([
                "--workers",
                n,
                "--out",
                dir.path().join("no").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("between 2 and 64"),
            "{err}"
        );
        assert!(!dir.path().join("no").join("model.tar.gz").exists());
    }
}

#[test]
fn our_tracker_and_xgboosts_train_the_same_model() {
    let Some(python) = common::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 20_000);
    let script = dir.path().join("tracker.py");
    std::fs::write(
        &script,
        "import sys\nfrom xgboost.tracker import RabitTracker\n\
         t = RabitTracker(host_ip='127.0.0.1', n_workers=2, port=0, sortby='task')\n\
         print(t.port, flush=True)\nt.start(2)\nt.join()\nprint('all workers shut down', flush=True)\n",
    )
    .unwrap();
    let mut tracker = Command::new(python)
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(tracker.stdout.take().unwrap()));
    let port = lines.next().unwrap().unwrap();
    let theirs = dir.path().join("theirs");
    run(
        &data,
        &theirs,
        &["--workers", "2"],
        &[(TRACKER_ENV, &format!("127.0.0.1:{port}"))],
    );
    assert_eq!(lines.next().unwrap().unwrap(), "all workers shut down");
    assert!(tracker.wait().unwrap().success());
    let ours = dir.path().join("ours");
    run(&data, &ours, &["--workers", "2"], &[]);
    let booster = |out: &Path| {
        Artifact::load(out.join("model.tar.gz"))
            .unwrap()
            .model
            .to_bytes()
            .unwrap()
    };
    assert!(
        booster(&ours) == booster(&theirs),
        "the trackers gave different models"
    );
}

/// A job of `rounds` rounds on the demo table, one thread per host.
fn job_hyperparameters(rounds: u32) -> BTreeMap<String, String> {
    let mut job = PipelineSettings::new("purchased");
    job.load.id = Some("customer_id".into());
    let mut hp = job.to_hyperparameters();
    let xgb = Hyperparameters {
        num_round: rounds,
        nthread: Some(1),
        ..Hyperparameters::default()
    };
    hp.extend(xgb.to_sagemaker());
    hp
}

#[test]
fn shards_with_disjoint_categories_get_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 20_000);
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let region = header.split(',').position(|c| c == "region").unwrap();
    let (mut a, mut b) = (format!("{header}\n"), format!("{header}\n"));
    for line in lines {
        match line.split(',').nth(region).unwrap() {
            "north" | "south" => a.push_str(&format!("{line}\n")),
            _ => b.push_str(&format!("{line}\n")),
        }
    }
    let (pa, pb) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let run = run_local_hosts(
        Path::new(BIN),
        &dir.path().join("hosts"),
        &job_hyperparameters(20),
        &[vec![pa], vec![pb]],
        "text/csv",
        &mut Silent,
    )
    .unwrap();
    let archive = dir.path().join("model.tar.gz");
    purchase_predict::model::artifact::pack(run.first.model_dir(), &archive).unwrap();
    let names = Artifact::load(&archive).unwrap().preprocessor.feature_names;
    for r in ["north", "south", "east", "west"] {
        assert!(
            names.iter().any(|n| n.contains("region") && n.contains(r)),
            "no column for region {r}: {names:?}"
        );
    }
    assert!(
        run.final_metrics["test:auc"] > 0.7,
        "{:?}",
        run.final_metrics
    );
}

/// Lay out host `k` (0-based) of `n` under `dir` with `files` in its channel. Its training
/// lasts (1,000 rounds), so that a host killed once it starts is killed while it trains.
fn host(dir: &Path, n: usize, k: usize, files: &[PathBuf]) -> MlRoot {
    let names = host_names(n);
    let root = MlRoot::new(dir.join(&names[k]));
    root.write_training_job(
        &job_hyperparameters(1_000),
        &[(TRAIN_CHANNEL, files, "text/csv")],
    )
    .unwrap();
    root.set_hosts(&names, &names[k]).unwrap();
    root
}

fn start(root: &MlRoot, port: u16, join_timeout: u64) -> Child {
    let log = std::fs::File::create(root.root.with_extension("log")).unwrap();
    Command::new(BIN)
        .arg("train")
        .env(ROOT_ENV, &root.root)
        .env(FIRST_HOST_ENV, format!("127.0.0.1:{port}"))
        .env(JOIN_TIMEOUT_ENV, join_timeout.to_string())
        .env("OMP_WAIT_POLICY", "passive")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait for `child` at most `limit`; its failure file's text.
fn fails_within(child: &mut Child, root: &MlRoot, limit: Duration) -> String {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "{} should fail", root.root.display());
            let log = std::fs::read_to_string(root.root.with_extension("log")).unwrap_or_default();
            let reason = std::fs::read_to_string(root.failure_file()).unwrap_or_default();
            return format!("{reason}\n(log: {log})");
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("{} still waiting after {limit:?}", root.root.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_lost_host_fails_every_other_within_the_stated_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), 100_000);
    let shards =
        purchase_predict::data::shard::shard_table(&data, &dir.path().join("shards"), 2, true)
            .unwrap();

    // The second host never starts: the first fails at the join timeout, naming it.
    let first = host(&dir.path().join("a"), 2, 0, &shards[..1]);
    let mut p = start(&first, free_port(), 3);
    let reason = fails_within(&mut p, &first, Duration::from_secs(20));
    assert!(
        reason.contains("algo-2 did not join within 3 s"),
        "{reason}"
    );

    // The first host never starts: the second cannot reach it, and says where it looked.
    let second = host(&dir.path().join("b"), 2, 1, &shards[1..]);
    let mut p = start(&second, free_port(), 2);
    let reason = fails_within(&mut p, &second, Duration::from_secs(20));
    assert!(
        reason.contains("could not reach the first host algo-1"),
        "{reason}"
    );

    // A host whose channel is empty fails both, each with its reason.
    let d = dir.path().join("c");
    let first = host(&d, 2, 0, &shards[..1]);
    let second = host(&d, 2, 1, &[]);
    let port = free_port();
    let (mut p1, mut p2) = (start(&first, port, 30), start(&second, port, 30));
    for (p, root) in [(&mut p1, &first), (&mut p2, &second)] {
        let reason = fails_within(p, root, Duration::from_secs(40));
        assert!(reason.contains("algo-2 received no object"), "{reason}");
    }

    // Either host dies while they train: the other fails at once, naming it.
    for (victim, folder) in [(1, "d"), (0, "e")] {
        let d = dir.path().join(folder);
        let roots = [host(&d, 2, 0, &shards[..1]), host(&d, 2, 1, &shards[1..])];
        let port = free_port();
        let mut p = [start(&roots[0], port, 30), start(&roots[1], port, 30)];
        let log = roots[victim].root.with_extension("log");
        let t = Instant::now();
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("training")
        {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "never started training"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        p[victim].kill().unwrap();
        p[victim].wait().unwrap();
        let killed = Instant::now();
        let survivor = 1 - victim;
        let reason = fails_within(&mut p[survivor], &roots[survivor], Duration::from_secs(40));
        assert!(reason.contains(&format!("algo-{}", victim + 1)), "{reason}");
        assert!(
            killed.elapsed() < Duration::from_secs(35),
            "failed after {:?}",
            killed.elapsed()
        );
    }
}
