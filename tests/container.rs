//! Our image's SageMaker container contract, run exactly as SageMaker runs the image
//! (`<entry point> train`, `<entry point> serve`, `/opt/ml` laid out for it):
//!
//! - by default with the binary, `/opt/ml` moved to a temporary folder by
//!   `PURCHASE_PREDICT_ML_ROOT`;
//! - with `PURCHASE_PREDICT_CONTAINER_IMAGE` set (scripts/container.sh builds the image and
//!   sets it), in the container itself: the temporary folder mounted at `/opt/ml`, started by
//!   `PURCHASE_PREDICT_CONTAINER_ENGINE` (default `podman`) on the host's network.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use purchase_predict::cloud::sagemaker::container::{MlRoot, ROOT_ENV};
use purchase_predict::model::artifact::{
    Artifact, MANIFEST_MEMBER, MODEL_MEMBER, PREPROCESSOR_MEMBER,
};
use purchase_predict::model::tune::Kept;
use purchase_predict::serve::http::HttpConnection;

/// One raw customer of the demo table, as a JSON instance.
const CUSTOMER: &str = r#"{"age": 41, "gender": "female", "region": "north", "device": "mobile", "income": 52000, "membership": "none", "tenure_months": 12, "sessions_30d": 5, "minutes_on_site": 52.4, "pages_viewed": 33, "bounce_rate": null, "previous_purchases": 0, "days_since_last_purchase": null, "discounts_used": 0}"#;

fn demo_data() -> PathBuf {
    common::root().join("data/customers.csv")
}

fn hp(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The image under test, when the tests run against the container.
fn image() -> Option<String> {
    std::env::var("PURCHASE_PREDICT_CONTAINER_IMAGE")
        .ok()
        .filter(|i| !i.is_empty())
}

/// The image's entry point with `args`, `root` as its `/opt/ml` and `env` set: the container
/// (root mounted at /opt/ml), or the binary (root given by PURCHASE_PREDICT_ML_ROOT).
fn entry_point(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    match image() {
        Some(image) => {
            let engine = std::env::var("PURCHASE_PREDICT_CONTAINER_ENGINE")
                .unwrap_or_else(|_| "podman".into());
            let mut words = engine.split_whitespace();
            let mut c = Command::new(words.next().unwrap_or("podman"));
            c.args(words)
                .args(["run", "--rm", "--network", "host", "-v"]);
            c.arg(format!("{}:/opt/ml", root.display()));
            for (k, v) in env {
                c.args(["-e", &format!("{k}={v}")]);
            }
            c.arg(image).args(args);
            c
        }
        None => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_purchase-predict"));
            c.args(args).env(ROOT_ENV, root).envs(env.iter().copied());
            c
        }
    }
}

/// Where `root`'s model folder is, as the entry point sees it.
fn model_dir_seen(root: &Path) -> PathBuf {
    match image() {
        Some(_) => PathBuf::from("/opt/ml/model"),
        None => root.join("model"),
    }
}

/// `purchase-predict run` on the demo table (target `purchased`, id `customer_id`) with
/// `extra` options, into a fresh folder.
fn run_demo(extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--target", "purchased", "--id", "customer_id"];
    let data = demo_data();
    args.extend(["--data", data.to_str().unwrap()]);
    args.extend(extra);
    args.extend(["--out", out.path().to_str().unwrap()]);
    common::cli_ok(&args);
    out
}

/// `purchase-predict train` under `root`, as SageMaker starts the training container.
fn train(root: &Path) -> Output {
    entry_point(root, &["train"], &[]).output().unwrap()
}

fn job(hyperparameters: &[(&str, &str)]) -> (tempfile::TempDir, MlRoot) {
    let dir = tempfile::tempdir().unwrap();
    let root = MlRoot::new(dir.path());
    root.write_training_job(
        &hp(hyperparameters),
        &[("train", &[demo_data()], "text/csv")],
    )
    .unwrap();
    (dir, root)
}

/// The failure a job left: exit status not 0, the reason in `output/failure` (also on
/// stderr), and no model in `model/`.
fn failure(root: &MlRoot) -> String {
    let out = train(&root.root);
    assert!(!out.status.success(), "the job must fail");
    let reason = std::fs::read_to_string(root.failure_file()).expect("output/failure written");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&reason),
        "stderr names the reason too"
    );
    assert!(
        !root.model_dir().join(MODEL_MEMBER).exists(),
        "a failed job leaves no model"
    );
    reason
}

#[test]
fn training_through_the_contract_gives_runs_model_and_metrics() {
    let settings = [
        ("target", "purchased"),
        ("id", "customer_id"),
        ("num_round", "40"),
        ("max_depth", "4"),
        ("eta", "0.3"),
        ("seed", "7"),
        ("split_seed", "11"),
        ("validation_share", "0.25"),
    ];
    let (_dir, root) = job(&settings);
    let out = train(&root.root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!root.failure_file().exists());

    // The same table, seed and settings through `run`.
    let run_out = run_demo(&[
        "--seed",
        "11",
        "--validation-share",
        "0.25",
        "--hp",
        "num_round=40",
        "--hp",
        "max_depth=4",
        "--hp",
        "eta=0.3",
        "--hp",
        "seed=7",
    ]);

    // The same model, byte for byte: booster and preprocessor. (The manifests differ in the
    // time and in where the table was read from.)
    let unpacked = tempfile::tempdir().unwrap();
    purchase_predict::model::artifact::unpack(run_out.path().join("model.tar.gz"), unpacked.path())
        .unwrap();
    for member in [MODEL_MEMBER, PREPROCESSOR_MEMBER] {
        assert_eq!(
            std::fs::read(root.model_dir().join(member)).unwrap(),
            std::fs::read(unpacked.path().join(member)).unwrap(),
            "{member} differs between the container job and `run`"
        );
    }
    let from_job = Artifact::load(root.model_dir()).unwrap();
    let from_run = Artifact::load(run_out.path().join("model.tar.gz")).unwrap();
    // The monitoring baseline travels in the model folder, and knows the model it was made
    // with there (by its booster), as it knows `run`'s archive.
    let in_job = root.model_dir().join("baseline");
    let baseline = purchase_predict::monitor::Baseline::load(&in_job).unwrap();
    baseline.model(&in_job, Some(&root.model_dir())).unwrap();
    baseline
        .model(&in_job, Some(&run_out.path().join("model.tar.gz")))
        .unwrap();
    assert_eq!(
        from_job.manifest.hyperparameters,
        from_run.manifest.hyperparameters
    );
    assert_eq!(from_job.manifest.threshold, from_run.manifest.threshold);
    assert_eq!(from_job.manifest.id_column.as_deref(), Some("customer_id"));
    assert_eq!(
        from_job.manifest.training_data.sha256,
        from_run.manifest.training_data.sha256
    );

    // The same metrics, in metrics.json and in the log lines SageMaker reads.
    let job_metrics = common::metrics(&root.output_data_dir().join("evaluation"));
    let run_metrics = common::metrics(run_out.path());
    for key in [
        "accuracy",
        "f1",
        "roc_auc",
        "log_loss",
        "confusion",
        "thresholds",
        "baseline",
    ] {
        assert_eq!(job_metrics[key], run_metrics[key], "metrics.json `{key}`");
    }
    let line = |name: &str| -> f64 {
        let prefix = format!("#metric {name}=");
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in\n{stdout}"))
            .parse()
            .unwrap()
    };
    assert_eq!(line("test:auc"), run_metrics["roc_auc"].as_f64().unwrap());
    assert_eq!(
        line("test:logloss"),
        run_metrics["log_loss"].as_f64().unwrap()
    );
    assert_eq!(
        line("test:error"),
        1.0 - run_metrics["accuracy"].as_f64().unwrap()
    );
    assert!((0.5..1.0).contains(&line("validation:auc")));
    // The output keeps the evaluation, not the split CSVs or a second model.
    let mut kept: Vec<String> = std::fs::read_dir(root.output_data_dir().join("evaluation"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["metrics.json", "report.html"]);
}

/// After a SageMaker tuning job, our image's refit judges the chosen hyperparameters against
/// the defaults by the rule a local search uses, and keeps the better, saying why.
#[test]
fn a_refit_judged_against_the_defaults_keeps_the_better_and_says_why() {
    let judged = |tuned: [(&str, &str); 2], defaults: &str| {
        let mut settings = vec![
            ("target", "purchased"),
            ("id", "customer_id"),
            ("num_round", "40"),
            ("judge_against", defaults),
        ];
        settings.extend(tuned);
        let (dir, root) = job(&settings);
        let out = train(&root.root);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let artifact = Artifact::load(root.model_dir()).unwrap();
        drop(dir);
        (stdout, artifact)
    };
    // Tuned values that learn against defaults that barely do (stumps at a crawl): kept.
    let (stdout, artifact) = judged(
        [("max_depth", "4"), ("eta", "0.3")],
        r#"{"max_depth": "1", "eta": "0.01"}"#,
    );
    let decision = artifact
        .manifest
        .tuning
        .expect("the decision in the manifest");
    assert_eq!(decision.kept, Kept::Tuned, "{decision:?}");
    assert!(decision.interval[0] > 0.0);
    assert_eq!(
        (
            artifact.manifest.hyperparameters.max_depth,
            artifact.manifest.hyperparameters.eta
        ),
        (4, 0.3)
    );
    assert!(
        stdout.contains("judged against the defaults: trial 1 beats the defaults"),
        "{stdout}"
    );
    // The other way round: the defaults stay, and the model is theirs.
    let (stdout, artifact) = judged(
        [("max_depth", "1"), ("eta", "0.01")],
        r#"{"max_depth": "4", "eta": "0.3"}"#,
    );
    let decision = artifact
        .manifest
        .tuning
        .expect("the decision in the manifest");
    assert_eq!(decision.kept, Kept::Defaults, "{decision:?}");
    assert_eq!(
        (
            artifact.manifest.hyperparameters.max_depth,
            artifact.manifest.hyperparameters.eta
        ),
        (4, 0.3)
    );
    assert!(
        stdout.contains("so the defaults stay")
            || stdout.contains("defaults (trial 0) scored best"),
        "{stdout}"
    );
    // Values the hyperparameter does not take are refused before any training, by name.
    let (_dir, root) = job(&[
        ("target", "purchased"),
        ("judge_against", r#"{"max_depth": "deep"}"#),
    ]);
    let reason = failure(&root);
    assert!(
        reason.contains("judge_against") && reason.contains("max_depth"),
        "{reason}"
    );
    let (_dir, root) = job(&[("target", "purchased"), ("judge_against", "eta=0.2")]);
    let reason = failure(&root);
    assert!(
        reason.contains("judge_against") && reason.contains("JSON object"),
        "{reason}"
    );
}

#[test]
fn a_job_that_cannot_run_says_why_in_output_failure() {
    // No target.
    let (_d, root) = job(&[("num_round", "5")]);
    let reason = failure(&root);
    assert!(
        reason.contains("hyperparameters.json") && reason.contains("`target`"),
        "{reason}"
    );

    // An XGBoost hyperparameter out of range, or unknown.
    let (_d, root) = job(&[("target", "purchased"), ("max_depth", "-1")]);
    assert!(failure(&root).contains("`max_depth`"));
    let (_d, root) = job(&[("target", "purchased"), ("etaa", "0.1")]);
    assert!(failure(&root).contains("`etaa`"));

    // A target that is not a column: the pipeline's own error.
    let (_d, root) = job(&[("target", "bought"), ("id", "customer_id")]);
    let reason = failure(&root);
    assert!(
        reason.contains("`bought`") && reason.contains("purchased"),
        "{reason}"
    );

    // Two tables in the channel.
    let (_d, root) = job(&[("target", "purchased"), ("id", "customer_id")]);
    std::fs::copy(demo_data(), root.channel_dir("train").join("more.csv")).unwrap();
    let reason = failure(&root);
    assert!(
        reason.contains("2 files") && reason.contains("more.csv"),
        "{reason}"
    );

    // A validation channel: the job splits the table itself.
    let (_d, root) = job(&[("target", "purchased"), ("id", "customer_id")]);
    let config = root.input_data_config_file();
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    c["validation"] = c["train"].clone();
    std::fs::write(&config, c.to_string()).unwrap();
    let reason = failure(&root);
    assert!(
        reason.contains("channel `validation`") && reason.contains("validation_share"),
        "{reason}"
    );

    // Pipe mode, and a content type this image does not read.
    for (field, value, said) in [
        ("TrainingInputMode", "Pipe", "input mode Pipe"),
        (
            "ContentType",
            "application/x-recordio-protobuf",
            "content type",
        ),
        (
            "ContentType",
            "application/x-parquet",
            "declares application/x-parquet",
        ),
    ] {
        let (_d, root) = job(&[("target", "purchased"), ("id", "customer_id")]);
        let config = root.input_data_config_file();
        let mut c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        c["train"][field] = value.into();
        std::fs::write(&config, c.to_string()).unwrap();
        let reason = failure(&root);
        assert!(reason.contains(said), "{field}={value}: {reason}");
    }

    // No layout at all (`train` run outside a container): the error on stderr, nothing
    // created.
    if image().is_none() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("opt-ml");
        let out = train(&missing);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("hyperparameters.json"));
        assert!(!missing.exists(), "no /opt/ml made outside a container");
    }

    // Two instances.
    let (_d, root) = job(&[("target", "purchased"), ("id", "customer_id")]);
    std::fs::write(
        root.resource_config_file(),
        r#"{"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}"#,
    )
    .unwrap();
    // Two instances with the whole table on each (FullyReplicated, as written above): each
    // would train on all of it; refused with the way out.
    let reason = failure(&root);
    assert!(
        reason.contains("FullyReplicated input on 2 instances")
            && reason.contains("ShardedByS3Key"),
        "{reason}"
    );
}

#[test]
fn a_parquet_channel_trains_like_its_csv() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("customers.parquet");
    let mut df = purchase_predict::data::read_table(demo_data(), None).unwrap();
    let file = std::fs::File::create(&parquet).unwrap();
    polars::prelude::ParquetWriter::new(file)
        .finish(&mut df)
        .unwrap();
    let root = MlRoot::new(dir.path().join("ml"));
    let settings = hp(&[
        ("target", "purchased"),
        ("id", "customer_id"),
        ("num_round", "10"),
    ]);
    root.write_training_job(
        &settings,
        &[(
            "train",
            std::slice::from_ref(&parquet),
            "application/x-parquet",
        )],
    )
    .unwrap();
    let out = train(&root.root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_d, csv_root) = job(&[
        ("target", "purchased"),
        ("id", "customer_id"),
        ("num_round", "10"),
    ]);
    assert!(train(&csv_root.root).status.success());
    assert_eq!(
        std::fs::read(root.model_dir().join(MODEL_MEMBER)).unwrap(),
        std::fs::read(csv_root.model_dir().join(MODEL_MEMBER)).unwrap()
    );
}

/// `serve` as SageMaker starts it (no arguments) under `root`, on the port
/// SAGEMAKER_BIND_TO_PORT names (0: any free one, read from its first line).
fn serve_in_image(root: &Path) -> (Child, SocketAddr) {
    let mut child = entry_point(root, &["serve"], &[("SAGEMAKER_BIND_TO_PORT", "0")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (line, addr) = common::read_serving_line(&mut child);
    assert_eq!(
        addr.ip(),
        std::net::Ipv4Addr::UNSPECIFIED,
        "binds every address: {line}"
    );
    (child, SocketAddr::from(([127, 0, 0, 1], addr.port())))
}

/// SIGTERM, as SageMaker stops a container (`podman run` passes it on), then wait for the
/// exit; SIGKILL after 30 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn exchange(addr: SocketAddr, ctype: &str, accept: &str, body: &[u8]) -> (u16, String, String) {
    let mut c = HttpConnection::connect(addr, Duration::from_secs(30)).unwrap();
    let mut headers = vec![("Content-Type", ctype)];
    if !accept.is_empty() {
        headers.push(("Accept", accept));
    }
    let r = c.request("POST", "/invocations", &headers, body).unwrap();
    (
        r.status,
        r.header("content-type").unwrap_or_default().to_string(),
        r.text(),
    )
}

#[test]
fn the_served_container_answers_as_serve_model_does() {
    let (_d, root) = job(&[
        ("target", "purchased"),
        ("id", "customer_id"),
        ("num_round", "20"),
    ]);
    assert!(train(&root.root).status.success());
    // SageMaker hosts the job's model.tar.gz: the model folder packed and unpacked again.
    let packed = tempfile::tempdir().unwrap();
    let archive = packed.path().join("model.tar.gz");
    let status = Command::new("tar")
        .args(["-czf", archive.to_str().unwrap(), "-C"])
        .arg(root.model_dir())
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let host = tempfile::tempdir().unwrap();
    let host_root = MlRoot::new(host.path());
    std::fs::create_dir_all(host_root.model_dir()).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(host_root.model_dir())
        .status()
        .unwrap();
    assert!(status.success());

    let (mut image, in_image) = serve_in_image(&host_root.root);
    let (mut plain, by_model) = common::serve_child(&archive, &[], Stdio::null());

    let artifact = Artifact::load(&archive).unwrap();
    let n = artifact.manifest.feature_names.len();
    let csv_row = vec!["0.5"; n].join(",");
    let customer = CUSTOMER;
    let mut requests: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "text/csv",
            "",
            format!("{csv_row}\n{csv_row}\n").into_bytes(),
        ),
        ("text/csv", "application/json", csv_row.clone().into_bytes()),
        ("text/csv", "text/csv", b"1,2,3\n".to_vec()),
        ("text/csv", "", Vec::new()),
        (
            "application/json",
            "",
            format!(r#"{{"instances": [{customer}]}}"#).into_bytes(),
        ),
        (
            "application/json",
            "application/json",
            customer.as_bytes().to_vec(),
        ),
        (
            "application/json",
            "",
            br#"{"instances": [{"age": "old"}]}"#.to_vec(),
        ),
        ("application/json", "", b"{not json".to_vec()),
        ("application/x-libsvm", "", b"0 1:0.5 3:1\n".to_vec()),
        ("image/png", "", b"\x89PNG".to_vec()),
        ("text/csv", "image/png", csv_row.clone().into_bytes()),
    ];
    // RecordIO-protobuf, dense and sparse, as the SageMaker SDK writes it (and a broken one).
    if let Some(python) = common::python() {
        let rows = packed.path().join("rows.csv");
        std::fs::write(&rows, format!("{csv_row}\n{}\n", vec![""; n].join(","))).unwrap();
        for mode in ["dense-float32", "sparse-float32"] {
            let out = packed.path().join(format!("{mode}.bin"));
            let status = Command::new(&python)
                .arg(common::root().join("tests/fixtures/recordio/encode.py"))
                .args([mode, rows.to_str().unwrap(), out.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
            let body = std::fs::read(&out).unwrap();
            let (status, _, answer) =
                exchange(by_model, "application/x-recordio-protobuf", "", &body);
            assert_eq!(
                (status, answer.lines().count()),
                (200, 2),
                "{mode}: {answer}"
            );
            let cut = body[..body.len() - 4].to_vec();
            requests.push(("application/x-recordio-protobuf", "", body));
            requests.push(("application/x-recordio-protobuf", "", cut));
        }
    }
    for (ctype, accept, body) in &requests {
        let a = exchange(in_image, ctype, accept, body);
        let b = exchange(by_model, ctype, accept, body);
        assert_eq!(
            a,
            b,
            "{ctype} (Accept {accept:?}) {:?}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
    }
    // And both did answer the good ones.
    assert_eq!(
        exchange(in_image, "text/csv", "", csv_row.as_bytes()).0,
        200
    );
    let mut c = HttpConnection::connect(in_image, Duration::from_secs(5)).unwrap();
    assert_eq!(c.request("GET", "/ping", &[], b"").unwrap().status, 200);
    for child in [&mut image, &mut plain] {
        stop(child);
    }
}

#[test]
fn serve_without_a_model_in_the_image_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let out = entry_point(dir.path(), &["serve"], &[("SAGEMAKER_BIND_TO_PORT", "0")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&model_dir_seen(dir.path()).display().to_string()),
        "{err}"
    );

    let out = entry_point(
        dir.path(),
        &["serve"],
        &[("SAGEMAKER_BIND_TO_PORT", "eighty")],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("SAGEMAKER_BIND_TO_PORT"),
        "{err}"
    );
}

#[test]
fn a_model_folder_loads_as_its_archive() {
    let (_d, model) = common::demo_model(5);
    let dir = tempfile::tempdir().unwrap();
    purchase_predict::model::artifact::unpack(&model, dir.path()).unwrap();
    for member in [MODEL_MEMBER, PREPROCESSOR_MEMBER, MANIFEST_MEMBER] {
        assert!(dir.path().join(member).is_file(), "{member}");
    }
    let a = Artifact::load(dir.path()).unwrap();
    let b = Artifact::load(&model).unwrap();
    assert_eq!(a.manifest, b.manifest);
    // A damaged member is refused with its name, as in an archive.
    std::fs::write(dir.path().join(PREPROCESSOR_MEMBER), b"{}").unwrap();
    let err = Artifact::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("preprocessor.json") && err.contains("checksum"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join(MANIFEST_MEMBER)).unwrap();
    let err = Artifact::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("manifest.json") && err.contains("missing"),
        "{err}"
    );
}

/// The same job through the SDK-shaped API on a local session: `Estimator::pipeline_image`
/// runs the entry point on the container layout, as SageMaker would run the image.
mod through_the_estimator {
    use super::*;
    use purchase_predict::cloud::endpoint::{DeployConfig, Endpoint};
    use purchase_predict::cloud::estimator::{
        Channels, Distribution, Estimator, HyperparameterTuner, PipelineImage,
    };
    use purchase_predict::cloud::sagemaker::container::BIN_ENV;
    use purchase_predict::cloud::session::Session;
    use purchase_predict::evaluate::settings::PipelineSettings;
    use purchase_predict::model::Hyperparameters;
    use purchase_predict::util::progress::Silent;

    const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/purchase-predict:test";

    fn estimator(target: &str) -> Estimator {
        // Every test here runs the binary under test (and sets the same value).
        std::env::set_var(BIN_ENV, env!("CARGO_BIN_EXE_purchase-predict"));
        let mut job = PipelineSettings::new(target);
        job.load.id = Some("customer_id".into());
        job.split.seed = 5;
        let mut hp = Hyperparameters::default();
        hp.set("num_round", "25").unwrap();
        Estimator::new(hp).pipeline_image(PipelineImage::new(IMAGE, job))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_local_job_of_the_image_trains_deploys_and_answers_raw_customers() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::local(dir.path().join("work"));
        let table = session.upload_data(demo_data(), "data/raw").await.unwrap();
        let job = estimator("purchased")
            .fit(&session, &Channels::new(table), &mut Silent)
            .await
            .unwrap();
        assert_eq!(job.image_uri.as_deref(), Some(IMAGE));
        assert_eq!(job.hyperparameters["target"], "purchased");
        assert_eq!(job.hyperparameters["split_seed"], "5");
        assert!(!job.hyperparameters.contains_key("nthread"));

        // Its metrics are the ones `run` reports on the same table, seed and settings.
        let run_out = run_demo(&["--seed", "5", "--hp", "num_round=25"]);
        let run_metrics = common::metrics(run_out.path());
        assert_eq!(
            job.final_metrics["test:auc"],
            run_metrics["roc_auc"].as_f64().unwrap()
        );
        assert!(job.final_metrics.contains_key("validation:auc"));
        // SageMaker's two archives, where SageMaker puts them.
        let archive = job.model_data.local_path().unwrap();
        assert!(archive.ends_with(format!("{}/output/model.tar.gz", job.name)));
        assert!(archive.parent().unwrap().join("output.tar.gz").is_file());
        // A whole artifact: the preprocessor came with it, not from the estimator.
        let artifact = job.artifact(&session, None).await.unwrap();
        assert_eq!(artifact.manifest.id_column.as_deref(), Some("customer_id"));
        assert!(artifact.preprocessor.feature_names.len() > 14);

        // Deployed, it scores raw customers (JSON instances).
        let endpoint = Endpoint::deploy(&session, &job, &DeployConfig::default(), &mut Silent)
            .await
            .unwrap();
        let url = endpoint.url().unwrap();
        let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        let customer = format!(r#"{{"instances": [{CUSTOMER}]}}"#);
        let (status, _, body) = exchange(addr, "application/json", "", customer.as_bytes());
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"score\""), "{body}");
        endpoint.delete().await.unwrap();
    }

    /// Two instances: the table uploaded as shards, one process per instance training one
    /// model, as good as one instance's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_local_job_on_two_instances_trains_one_model_from_the_shards() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::local(dir.path().join("work"));
        let shards = session
            .upload_shards(demo_data(), "data/sharded", 2, true)
            .await
            .unwrap();
        assert_eq!(session.storage().list(&shards).await.unwrap().len(), 2);
        let job = estimator("purchased")
            .instance_count(2)
            .distribution(Distribution::ShardedByS3Key)
            .fit(&session, &Channels::new(shards), &mut Silent)
            .await
            .unwrap();
        let table = session.upload_data(demo_data(), "data/raw").await.unwrap();
        let one = estimator("purchased")
            .fit(&session, &Channels::new(table), &mut Silent)
            .await
            .unwrap();
        let (a, b) = (job.final_metrics["test:auc"], one.final_metrics["test:auc"]);
        // The demo table is small (a test split of a few thousand rows), and the two split it
        // differently (by id hash, stratified): the AUCs agree within their noise.
        assert!((a - b).abs() < 0.03, "two instances {a}, one {b}");
        let artifact = job.artifact(&session, None).await.unwrap();
        assert_eq!(artifact.manifest.id_column.as_deref(), Some("customer_id"));
        let archive = job.model_data.local_path().unwrap();
        assert!(archive.parent().unwrap().join("output.tar.gz").is_file());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_carries_its_failure_reason_and_bad_settings_stop_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::local(dir.path().join("work"));
        let table = session.upload_data(demo_data(), "data/raw").await.unwrap();
        let err = estimator("bought")
            .fit(&session, &Channels::new(table.clone()), &mut Silent)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, purchase_predict::Error::JobFailed { .. })
                && text.contains("`bought`")
                && text.contains("purchased"),
            "{text}"
        );

        // A validation channel: the image splits the table itself.
        let err = estimator("purchased")
            .fit(
                &session,
                &Channels::new(table.clone()).validation(table.clone()),
                &mut Silent,
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("validation channel") && err.contains("splits"),
            "{err}"
        );
        // Two instances with the whole table on each (FullyReplicated), two sharded instances
        // on a one-object channel, or the built-in image's override beside ours.
        for (e, why) in [
            (
                estimator("purchased").instance_count(2),
                "FullyReplicated hands each",
            ),
            (
                estimator("purchased")
                    .instance_count(2)
                    .distribution(Distribution::ShardedByS3Key),
                "holds 1 object(s)",
            ),
            (estimator("purchased").image_uri("x"), "not both"),
        ] {
            let err = e
                .fit(&session, &Channels::new(table.clone()), &mut Silent)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{err}");
        }
        // Tuning with the image runs on SageMaker only, and says so.
        let tuner = HyperparameterTuner::new(
            estimator("purchased"),
            purchase_predict::model::tune::TunerConfig::new(
                purchase_predict::model::tune::TunerConfig::default_ranges(),
            )
            .max_jobs(2),
        );
        let err = tuner
            .fit(&session, &Channels::new(table), &mut Silent)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("SageMaker only"), "{err}");
    }
}
