//! The SageMaker backend against a local AWS emulator (moto's server on 127.0.0.1, started
//! per test), and, for the states moto cannot produce (InProgress, Failed, Stopped,
//! throttling, timeouts, pagination), against a recorded-request harness
//! (`aws_smithy_http_client::test_util::infallible_client_fn`) that records every request
//! and answers it like SageMaker would.
#![cfg(feature = "sagemaker")]

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_types::body::SdkBody;
use purchase_predict::cloud::endpoint::{batch_transform, DeployConfig, Endpoint};
use purchase_predict::cloud::estimator::{
    Channels, Distribution, Estimator, HyperparameterTuner, TrainingJob,
};
use purchase_predict::cloud::sagemaker::{hosting, training, tuning};
use purchase_predict::cloud::session::{Backend, PollConfig, SageMakerConfig, Session};
use purchase_predict::cloud::storage::{Location, Storage};
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::tune::{CvFolds, ParameterRange, Scaling, TunerConfig};
use purchase_predict::model::Hyperparameters;
use purchase_predict::util::progress::{Progress, Silent};
use purchase_predict::Error;

const ROLE: &str = "arn:aws:iam::123456789012:role/SageMakerRole";
const BUCKET: &str = "pp-test-bucket";

/// A moto server on a free port, killed on drop.
struct Moto {
    child: Child,
    url: String,
    /// Where its recorder writes (moto's default is a file in the working directory,
    /// shared by every server started there).
    _recording: tempfile::TempDir,
}

impl Moto {
    fn start() -> Option<Moto> {
        let exe = std::env::var("PURCHASE_PREDICT_MOTO").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let recording = tempfile::tempdir().unwrap();
        let child = match Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env(
                "MOTO_RECORDER_FILEPATH",
                recording.path().join("moto_recording"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                common::skip(&format!(
                    "moto_server ({exe}) cannot be started: {e}; pip install \"moto[server]\""
                ));
                return None;
            }
        };
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _recording: recording,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not start listening on {port} within 60 s");
    }

    /// POST JSON to moto's control API.
    fn post(&self, path: &str, body: &str) {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        use std::io::{Read, Write};
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 2") || answer.starts_with("HTTP/1.0 2"),
            "{path}: {answer}"
        );
    }
}

impl Moto {
    /// The bodies of the requests of one operation (`X-Amz-Target` `SageMaker.<operation>`)
    /// since `start-recording`, as JSON: moto describes some fields back from canned values
    /// (MetricDefinitions), so what was sent is read from its recorder.
    fn recorded(&self, operation: &str) -> Vec<serde_json::Value> {
        use base64::Engine;
        let addr = self.url.trim_start_matches("http://").parse().unwrap();
        let mut c =
            purchase_predict::serve::http::HttpConnection::connect(addr, Duration::from_secs(30))
                .unwrap();
        let r = c
            .request("GET", "/moto-api/recorder/download-recording", &[], b"")
            .unwrap();
        assert_eq!(r.status, 200);
        r.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["headers"]["X-Amz-Target"] == format!("SageMaker.{operation}"))
            .map(|e| {
                let body = e["body"].as_str().unwrap_or_default();
                let bytes = if e["body_encoded"] == true {
                    base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .unwrap()
                } else {
                    body.as_bytes().to_vec()
                };
                serde_json::from_slice(&bytes).unwrap()
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fast_poll() -> PollConfig {
    PollConfig {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        factor: 2.0,
    }
}

async fn moto_session(moto: &Moto, root: &std::path::Path) -> Session {
    let config = SageMakerConfig::new(ROLE, BUCKET)
        .region("us-east-1")
        .endpoint_url(&moto.url)
        .static_credentials("testing", "testing")
        .max_attempts(1);
    let session = Session::sagemaker(config)
        .await
        .unwrap()
        .with_root(root)
        .with_poll(fast_poll());
    session
        .storage()
        .ensure_bucket(&session.base_location(), "us-east-1")
        .await
        .unwrap();
    session
}

/// Progress that keeps every line, to check what a user would see.
#[derive(Default)]
struct Recorder(Vec<String>);

impl Progress for Recorder {
    fn start(&mut self, task: &str, _: u64) {
        self.0.push(format!("start {task}"));
    }
    fn update(&mut self, _: u64, message: &str) {
        self.0.push(message.to_string());
    }
    fn finish(&mut self, message: &str) {
        self.0.push(format!("finish {message}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_storage_uploads_lists_and_downloads_also_in_parts() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let storage: Storage = session
        .storage()
        .clone()
        .with_multipart(6 << 20, 5 << 20)
        .unwrap();

    // A 13 MB file goes in three parts (5 + 5 + 3 MB) and comes back byte for byte.
    let big: Vec<u8> = (0..13_000_000u32).map(|i| (i % 251) as u8).collect();
    let big_path = dir.path().join("big.bin");
    std::fs::write(&big_path, &big).unwrap();
    let small_path = dir.path().join("small.csv");
    std::fs::write(&small_path, "1,0.5,2\n0,0.1,3\n").unwrap();
    let base = session.base_location().join("storage-test");
    storage
        .upload_file(&big_path, &base.join("big.bin"))
        .await
        .unwrap();
    storage
        .upload_file(&small_path, &base.join("sub/small.csv"))
        .await
        .unwrap();

    let listed = storage.list(&base).await.unwrap();
    assert_eq!(
        listed.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
        vec![
            format!("s3://{BUCKET}/purchase-predict/storage-test/big.bin"),
            format!("s3://{BUCKET}/purchase-predict/storage-test/sub/small.csv"),
        ]
    );
    // A sibling prefix is not "inside" the folder.
    storage
        .upload_file(
            &small_path,
            &session.base_location().join("storage-test2/x.csv"),
        )
        .await
        .unwrap();
    assert_eq!(storage.list(&base).await.unwrap().len(), 2);
    assert!(storage.exists(&base.join("big.bin")).await.unwrap());
    assert!(!storage.exists(&base.join("nope.bin")).await.unwrap());

    let back = storage
        .download_dir(&base, &dir.path().join("back"))
        .await
        .unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(std::fs::read(dir.path().join("back/big.bin")).unwrap(), big);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("back/sub/small.csv")).unwrap(),
        "1,0.5,2\n0,0.1,3\n"
    );

    // A missing object is an error naming it, and leaves no file behind.
    let missing = base.join("missing.csv");
    let dest = dir.path().join("never.csv");
    let err = storage.download_file(&missing, &dest).await.unwrap_err();
    assert!(err.to_string().contains("missing.csv"), "{err}");
    assert!(!dest.exists());
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".partial-")));
}

/// The demo data prepared by the pipeline (SageMaker CSVs) and a model trained locally.
fn prepared() -> (tempfile::TempDir, std::path::PathBuf) {
    common::demo_model(20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_job_sends_the_tutorial_request_and_its_model_loads_locally() {
    let Some(moto) = Moto::start() else { return };
    let (out, local_model) = prepared();
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    assert_eq!(session.backend(), Backend::SageMaker);
    // Two instances: the training file as two objects (SageMaker CSV has no header), one
    // for each instance under ShardedByS3Key.
    let train = session
        .upload_shards(out.path().join("train.csv"), "data/train", 2, false)
        .await
        .unwrap();
    let validation = session
        .upload_data(out.path().join("validation.csv"), "data/validation")
        .await
        .unwrap();
    assert_eq!(
        train.to_string(),
        format!("s3://{BUCKET}/purchase-predict/data/train")
    );
    let objects = session.storage().list(&train).await.unwrap();
    assert_eq!(objects.len(), 2);
    let mut lines = 0;
    for o in &objects {
        let local = session.local_copy(o, "check").await.unwrap();
        lines += std::fs::read_to_string(local).unwrap().lines().count();
    }
    let whole = std::fs::read_to_string(out.path().join("train.csv")).unwrap();
    assert_eq!(lines, whole.lines().count(), "every row in one object");

    let hp = Hyperparameters {
        num_round: 100,
        max_depth: 5,
        eta: 0.2,
        gamma: 4.0,
        min_child_weight: 6.0,
        subsample: 0.8,
        nthread: Some(2),
        ..Hyperparameters::default()
    };
    let estimator = Estimator::new(hp.clone())
        .instance_type("ml.m5.2xlarge")
        .instance_count(2)
        .distribution(Distribution::ShardedByS3Key)
        .volume_size_gb(50)
        .max_runtime(Duration::from_secs(1800));
    let mut progress = Recorder::default();
    moto.post("/moto-api/recorder/start-recording", "");
    let job = estimator
        .fit(
            &session,
            &Channels::new(train.clone()).validation(validation.clone()),
            &mut progress,
        )
        .await
        .unwrap();
    // The built-in algorithm's metrics are its own: none are defined in the request.
    let created = moto.recorded("CreateTrainingJob");
    assert_eq!(created.len(), 1, "{created:#?}");
    assert!(created[0]["AlgorithmSpecification"]
        .get("MetricDefinitions")
        .is_none());
    assert!(job.name.starts_with("purchase-xgb-"), "{}", job.name);
    assert_eq!(
        job.model_data.to_string(),
        format!(
            "s3://{BUCKET}/purchase-predict/output/{}/output/model.tar.gz",
            job.name
        )
    );
    assert!(
        progress.0.iter().any(|l| l.contains("done")),
        "{:?}",
        progress.0
    );

    // What SageMaker was sent, as the emulator describes it back.
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let raw = client
        .describe_training_job()
        .training_job_name(&job.name)
        .send()
        .await
        .unwrap();
    let alg = raw.algorithm_specification().unwrap();
    assert_eq!(
        alg.training_image(),
        Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
    );
    assert_eq!(raw.role_arn(), Some(ROLE));
    let sent_hp = raw.hyper_parameters().unwrap();
    let mut want = hp.to_sagemaker();
    want.remove("nthread");
    assert_eq!(sent_hp.len(), want.len(), "{sent_hp:?}");
    for (k, v) in &want {
        assert_eq!(sent_hp.get(k), Some(v), "hyperparameter {k}");
    }
    let channels = raw.input_data_config();
    assert_eq!(channels.len(), 2);
    // Distribution per channel: the training files sharded, the validation set whole on
    // every instance (the SDK's default for a channel).
    for (c, (name, uri, distribution)) in channels.iter().zip([
        ("train", &train, "ShardedByS3Key"),
        ("validation", &validation, "FullyReplicated"),
    ]) {
        assert_eq!(c.channel_name(), Some(name));
        assert_eq!(c.content_type(), Some("text/csv"));
        let s3 = c.data_source().unwrap().s3_data_source().unwrap();
        assert_eq!(s3.s3_uri(), Some(uri.to_string().as_str()));
        assert_eq!(
            s3.s3_data_distribution_type().map(|d| d.as_str()),
            Some(distribution),
            "{name}"
        );
    }
    let resources = raw.resource_config().unwrap();
    assert_eq!(
        resources.instance_type().map(|t| t.as_str()),
        Some("ml.m5.2xlarge")
    );
    assert_eq!(resources.instance_count(), Some(2));
    assert_eq!(resources.volume_size_in_gb(), Some(50));
    assert_eq!(
        raw.stopping_condition().unwrap().max_runtime_in_seconds(),
        Some(1800)
    );
    assert_eq!(
        raw.output_data_config().unwrap().s3_output_path(),
        Some(format!("s3://{BUCKET}/purchase-predict/output").as_str())
    );

    // moto never writes the model: put the one trained locally where the job's model goes
    // (it has SageMaker's layout: `xgboost-model` at the top), then load it back.
    session
        .storage()
        .upload_file(&local_model, &job.model_data)
        .await
        .unwrap();
    let local = purchase_predict::model::artifact::Artifact::load(&local_model).unwrap();
    let fetched = job
        .artifact(&session, Some(local.preprocessor.clone()))
        .await
        .unwrap();
    let (x, _) = FeatureMatrix::read_sagemaker_csv(
        out.path().join("test.csv"),
        Some(&local.preprocessor.feature_names),
    )
    .unwrap();
    assert_eq!(
        fetched.model.predict(&x).unwrap(),
        local.model.predict(&x).unwrap()
    );
    // Without a preprocessor, the features are named f0.. and the predictions are the same.
    let bare = job.artifact(&session, None).await.unwrap();
    assert_eq!(bare.model.feature_names[0], "f0");
    let mut xf = x.clone();
    xf.names = bare.model.feature_names.clone();
    assert_eq!(
        bare.model.predict(&xf).unwrap(),
        local.model.predict(&x).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_channels_are_refused_by_sagemaker_with_a_hint() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let err = Estimator::new(Hyperparameters::default())
        .fit(
            &session,
            &Channels::new(Location::Local("out/train".into())),
            &mut Silent,
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("out/train") && text.contains("upload_data"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuning_job_sends_ranges_objective_and_limits() {
    let Some(moto) = Moto::start() else { return };
    let (out, _) = prepared();
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let train = session
        .upload_data(out.path().join("train.csv"), "data/train")
        .await
        .unwrap();
    let validation = session
        .upload_data(out.path().join("validation.csv"), "data/validation")
        .await
        .unwrap();
    let ranges = [
        (
            "eta".to_string(),
            ParameterRange::continuous(0.01, 0.5).with_scaling(Scaling::Logarithmic),
        ),
        ("max_depth".to_string(), ParameterRange::integer(2, 10)),
        (
            "scale_pos_weight".to_string(),
            ParameterRange::categorical(["1", "3"]),
        ),
    ]
    .into_iter()
    .collect();
    let config = TunerConfig::new(ranges)
        .max_jobs(12)
        .max_parallel_jobs(3)
        .seed(7);
    let tuner = HyperparameterTuner::new(Estimator::new(Hyperparameters::default()), config);
    // k-fold cross-validation is local only: refused before any request.
    let mut folds = tuner.clone();
    folds.config.cv_folds = CvFolds::Folds(5);
    let e = folds
        .fit(
            &session,
            &Channels::new(train.clone()).validation(validation.clone()),
            &mut Silent,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cv_folds") && e.contains("local mode only"),
        "{e}"
    );
    let job = tuner
        .fit(
            &session,
            &Channels::new(train).validation(validation),
            &mut Silent,
        )
        .await
        .unwrap();
    assert!(
        job.name.len() <= 32 && job.name.starts_with("purchase-tune-"),
        "{}",
        job.name
    );
    // moto's canned answer for the best job.
    assert_eq!(job.best_training_job, "FakeTrainingJobName");

    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let raw = client
        .describe_hyper_parameter_tuning_job()
        .hyper_parameter_tuning_job_name(&job.name)
        .send()
        .await
        .unwrap();
    let cfg = raw.hyper_parameter_tuning_job_config().unwrap();
    assert_eq!(cfg.strategy().map(|s| s.as_str()), Some("Bayesian"));
    let objective = cfg.hyper_parameter_tuning_job_objective().unwrap();
    assert_eq!(objective.metric_name(), Some("validation:auc"));
    assert_eq!(objective.r#type().map(|t| t.as_str()), Some("Maximize"));
    // The tuner's seed reaches SageMaker: a seeded search is reproducible there too.
    assert_eq!(cfg.random_seed(), Some(7));
    let limits = cfg.resource_limits().unwrap();
    assert_eq!(limits.max_number_of_training_jobs(), Some(12));
    assert_eq!(limits.max_parallel_training_jobs(), Some(3));
    let ranges = cfg.parameter_ranges().unwrap();
    let eta = &ranges.continuous_parameter_ranges()[0];
    assert_eq!(
        (eta.name(), eta.min_value(), eta.max_value()),
        (Some("eta"), Some("0.01"), Some("0.5"))
    );
    assert_eq!(eta.scaling_type().map(|s| s.as_str()), Some("Logarithmic"));
    let depth = &ranges.integer_parameter_ranges()[0];
    assert_eq!(
        (depth.name(), depth.min_value(), depth.max_value()),
        (Some("max_depth"), Some("2"), Some("10"))
    );
    assert_eq!(
        ranges.categorical_parameter_ranges()[0].values(),
        ["1", "3"]
    );
    let definition = raw.training_job_definition().unwrap();
    let statics = definition.static_hyper_parameters().unwrap();
    assert!(!statics.contains_key("eta") && !statics.contains_key("max_depth"));
    assert_eq!(statics.get("eval_metric").map(String::as_str), Some("auc"));
    assert_eq!(statics.get("num_round").map(String::as_str), Some("100"));
}

/// Our image instead of the built-in XGBoost: the raw table as the only channel (content
/// type from its file name), the pipeline's settings as hyperparameters beside XGBoost's,
/// metric definitions that read the `#metric` lines, one instance; its model.tar.gz is a whole
/// artifact; deploy and tuning use the same image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_image_jobs_send_the_raw_table_settings_and_metric_definitions() {
    use purchase_predict::cloud::estimator::PipelineImage;
    use purchase_predict::cloud::sagemaker::container::metric_definitions;
    use purchase_predict::evaluate::settings::PipelineSettings;
    const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/purchase-predict:0.1.0";
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let table = session
        .upload_data(common::root().join("data/customers.csv"), "data/raw")
        .await
        .unwrap();
    let mut job = PipelineSettings::new("purchased");
    job.load.id = Some("customer_id".into());
    job.load.drop = vec!["device".into()];
    let hp = Hyperparameters {
        num_round: 50,
        nthread: Some(2),
        ..Hyperparameters::default()
    };
    let estimator = Estimator::new(hp.clone()).pipeline_image(PipelineImage::new(IMAGE, job));
    // An empty channel is refused before a job is created.
    let empty = session.base_location().join("data/nothing");
    let e = estimator
        .fit(&session, &Channels::new(empty), &mut Silent)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds no files"), "{e}");
    moto.post("/moto-api/recorder/start-recording", "");
    let trained = estimator
        .fit(&session, &Channels::new(table.clone()), &mut Silent)
        .await
        .unwrap();
    assert_eq!(trained.image_uri.as_deref(), Some(IMAGE));

    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let raw = client
        .describe_training_job()
        .training_job_name(&trained.name)
        .send()
        .await
        .unwrap();
    let alg = raw.algorithm_specification().unwrap();
    assert_eq!(alg.training_image(), Some(IMAGE));
    // The metric definitions as sent (moto describes canned ones back).
    let want: Vec<serde_json::Value> = metric_definitions()
        .into_iter()
        .map(|(name, regex)| serde_json::json!({"Name": name, "Regex": regex}))
        .collect();
    let created = moto.recorded("CreateTrainingJob");
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["AlgorithmSpecification"]["MetricDefinitions"],
        serde_json::Value::Array(want.clone())
    );
    let sent_hp = raw.hyper_parameters().unwrap();
    assert_eq!(sent_hp.get("target").map(String::as_str), Some("purchased"));
    assert_eq!(sent_hp.get("id").map(String::as_str), Some("customer_id"));
    assert_eq!(sent_hp.get("drop").map(String::as_str), Some("device"));
    assert_eq!(sent_hp.get("num_round").map(String::as_str), Some("50"));
    assert!(!sent_hp.contains_key("nthread"));
    let channels = raw.input_data_config();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].channel_name(), Some("train"));
    assert_eq!(channels[0].content_type(), Some("text/csv"));
    assert_eq!(
        channels[0]
            .data_source()
            .and_then(|d| d.s3_data_source())
            .and_then(|s| s.s3_uri()),
        Some(table.to_string().as_str())
    );
    assert_eq!(raw.resource_config().unwrap().instance_count(), Some(1));

    // On three instances: the whole table on each is refused, and so is a channel of fewer
    // objects than instances, before any request; the sharded table is sent as it is.
    let three = estimator.clone().instance_count(3);
    let e = three
        .fit(&session, &Channels::new(table.clone()), &mut Silent)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("FullyReplicated hands each of the 3 instances"),
        "{e}"
    );
    let three = three.distribution(Distribution::ShardedByS3Key);
    let e = three
        .fit(&session, &Channels::new(table.clone()), &mut Silent)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds 1 object(s)"), "{e}");
    assert_eq!(
        moto.recorded("CreateTrainingJob").len(),
        1,
        "no request for either"
    );
    let shards = session
        .upload_shards(
            common::root().join("data/customers.csv"),
            "data/raw-3",
            3,
            true,
        )
        .await
        .unwrap();
    let sharded = three
        .fit(&session, &Channels::new(shards.clone()), &mut Silent)
        .await
        .unwrap();
    let created = moto.recorded("CreateTrainingJob");
    let request = created
        .iter()
        .find(|r| r["TrainingJobName"] == sharded.name.as_str())
        .unwrap();
    assert_eq!(request["ResourceConfig"]["InstanceCount"], 3);
    let source = &request["InputDataConfig"][0]["DataSource"]["S3DataSource"];
    assert_eq!(source["S3DataDistributionType"], "ShardedByS3Key");
    assert_eq!(source["S3Uri"], shards.to_string().as_str());
    assert_eq!(request["InputDataConfig"].as_array().unwrap().len(), 1);
    let objects = session.storage().list(&shards).await.unwrap();
    assert_eq!(objects.len(), 3);
    for o in &objects {
        let local = session.local_copy(o, "check").await.unwrap();
        let text = std::fs::read_to_string(local).unwrap();
        assert!(
            text.starts_with("customer_id,"),
            "each object has the header"
        );
    }

    // moto never runs the image: put the model a job of it writes (a whole artifact) where
    // SageMaker would, and load it back with its own preprocessor.
    let (out, model) = prepared();
    session
        .storage()
        .upload_file(&model, &trained.model_data)
        .await
        .unwrap();
    let artifact = trained.artifact(&session, None).await.unwrap();
    let local = purchase_predict::model::artifact::Artifact::load(&model).unwrap();
    assert_eq!(artifact.manifest, local.manifest);
    drop(out);

    // Deployed, the model runs in the same image.
    let config = DeployConfig::default().endpoint_name("pp-pipeline-endpoint");
    let endpoint = Endpoint::deploy(&session, &trained, &config, &mut Silent)
        .await
        .unwrap();
    let m = client
        .describe_model()
        .model_name("pp-pipeline-endpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(m.primary_container().unwrap().image(), Some(IMAGE));
    endpoint.delete().await.unwrap();

    // Tuning with the image: no validation channel (the job splits the table), the objective
    // one of its metric definitions, the pipeline's settings static.
    let tuner = HyperparameterTuner::new(
        estimator,
        TunerConfig::new(
            [("eta".to_string(), ParameterRange::continuous(0.05, 0.5))]
                .into_iter()
                .collect(),
        )
        .max_jobs(4)
        .max_parallel_jobs(2),
    );
    let tuning = tuner
        .fit(&session, &Channels::new(table.clone()), &mut Silent)
        .await
        .unwrap();
    let raw = client
        .describe_hyper_parameter_tuning_job()
        .hyper_parameter_tuning_job_name(&tuning.name)
        .send()
        .await
        .unwrap();
    let definition = raw.training_job_definition().unwrap();
    let alg = definition.algorithm_specification().unwrap();
    assert_eq!(alg.training_image(), Some(IMAGE));
    let created = moto.recorded("CreateHyperParameterTuningJob");
    assert_eq!(
        created[0]["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"],
        serde_json::Value::Array(want)
    );
    let statics = definition.static_hyper_parameters().unwrap();
    assert_eq!(statics.get("target").map(String::as_str), Some("purchased"));
    assert!(!statics.contains_key("eta"));
    assert_eq!(definition.input_data_config().len(), 1);
    let objective = raw
        .hyper_parameter_tuning_job_config()
        .unwrap()
        .hyper_parameter_tuning_job_objective()
        .unwrap();
    assert!(metric_definitions()
        .iter()
        .any(|(n, _)| Some(n.as_str()) == objective.metric_name()));
    // No defaults' job beside the search: our image judges in its refit.
    assert_eq!(tuning.defaults_training_job, None);

    // The refit of the best trial, judged against the defaults in the job. moto's canned
    // best job tunes a hyperparameter called `string`: give it an answer of SageMaker's kind,
    // and put the model our image writes for such a job (a run judged against the defaults)
    // where the refit's model goes.
    let mut tuning = tuning;
    tuning.best_hyperparameters = BTreeMap::from([("eta".to_string(), "0.3".to_string())]);
    let refit_name = format!("{}-kept", tuning.name);
    let local = tempfile::tempdir().unwrap();
    let mut judged_run = purchase_predict::app::pipeline::RunConfig::demo(local.path());
    judged_run.hyperparameters.num_round = 50;
    judged_run.hyperparameters.eta = 0.3;
    let defaults = BTreeMap::from([("eta".to_string(), "0.2".to_string())]);
    let (_, local_decision) =
        purchase_predict::app::pipeline::run_judged(&judged_run, &defaults, &mut Silent).unwrap();
    session
        .storage()
        .upload_file(
            &local.path().join("model.tar.gz"),
            &session
                .default_output()
                .join(&refit_name)
                .join("output/model.tar.gz"),
        )
        .await
        .unwrap();
    moto.post("/moto-api/recorder/start-recording", "");
    let (kept, decision) = tuning
        .decide(
            &session,
            &tuner.estimator,
            &Channels::new(table),
            &mut Silent,
        )
        .await
        .unwrap();
    assert_eq!(kept.name, refit_name);
    assert_eq!(decision, local_decision);
    let created = moto.recorded("CreateTrainingJob");
    let refit = created.last().unwrap();
    assert_eq!(refit["TrainingJobName"], refit_name.as_str());
    let sent = &refit["HyperParameters"];
    assert_eq!(sent["eta"], "0.3");
    assert_eq!(sent["judge_against"], r#"{"eta":"0.2"}"#);
    assert_eq!(sent["target"], "purchased");
    assert_eq!(refit["AlgorithmSpecification"]["TrainingImage"], IMAGE);
}

/// On SageMaker with the built-in image, trial 0 (the estimator's own hyperparameters) runs
/// as a training job beside the tuning job, and the best trial is kept only when it beats it
/// beyond the noise of the validation channel, as the local search decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sagemaker_tuning_job_keeps_its_best_trial_only_beyond_the_noise() {
    use purchase_predict::model::tune::Kept;
    let Some(moto) = Moto::start() else { return };
    // Two models of the same split: 20 rounds, and one round that learns little.
    let (out, strong) = prepared();
    let (_weak_dir, weak) = common::demo_model(1);
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let train = session
        .upload_data(out.path().join("train.csv"), "data/train")
        .await
        .unwrap();
    let validation = session
        .upload_data(out.path().join("validation.csv"), "data/validation")
        .await
        .unwrap();
    let channels = Channels::new(train).validation(validation);
    let estimator = Estimator::new(Hyperparameters::default());
    let tuner = HyperparameterTuner::new(
        estimator.clone(),
        TunerConfig::new(
            [("eta".to_string(), ParameterRange::continuous(0.05, 0.5))]
                .into_iter()
                .collect(),
        )
        .max_jobs(4)
        .max_parallel_jobs(2),
    );
    let job = tuner.fit(&session, &channels, &mut Silent).await.unwrap();
    let defaults_name = format!("{}-000", job.name);
    assert_eq!(
        job.defaults_training_job.as_deref(),
        Some(defaults_name.as_str())
    );
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let raw = client
        .describe_training_job()
        .training_job_name(&defaults_name)
        .send()
        .await
        .unwrap();
    let sent = raw.hyper_parameters().unwrap();
    for (k, v) in [("eta", "0.2"), ("max_depth", "5"), ("num_round", "100")] {
        assert_eq!(sent.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(raw.input_data_config().len(), 2);

    // moto names a best job it never ran (`FakeTrainingJobName`): run it under that name, and
    // put a model where each job's model goes.
    let output = session.default_output();
    training::create_training_job(
        client,
        &training::TrainingJobSpec {
            name: job.best_training_job.clone(),
            image_uri: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
                .into(),
            role_arn: ROLE.into(),
            instance_type: "ml.m5.xlarge".into(),
            instance_count: 1,
            volume_size_gb: 30,
            max_runtime: Duration::from_secs(3600),
            output_path: output.to_string(),
            hyperparameters: BTreeMap::from([("eta".to_string(), "0.3".to_string())]),
            channels: Vec::new(),
            content_type: "text/csv".into(),
            metric_definitions: Vec::new(),
        },
    )
    .await
    .unwrap();
    let model_of = |name: &str| output.join(name).join("output/model.tar.gz");
    let put = |best: &std::path::Path, defaults: &std::path::Path| {
        let (best, defaults) = (best.to_path_buf(), defaults.to_path_buf());
        let (session, b, d) = (
            &session,
            model_of(&job.best_training_job),
            model_of(&defaults_name),
        );
        async move {
            session.storage().upload_file(&best, &b).await.unwrap();
            session.storage().upload_file(&defaults, &d).await.unwrap();
        }
    };
    // The best trial's model is the better one by far: kept, with an interval above 0.
    put(&strong, &weak).await;
    let (kept, decision) = job
        .decide(&session, &estimator, &channels, &mut Silent)
        .await
        .unwrap();
    assert_eq!(kept.name, job.best_training_job);
    assert_eq!(decision.kept, Kept::Tuned, "{decision:?}");
    assert!(decision.interval[0] > 0.0, "{decision:?}");
    assert!(
        decision.method.contains("paired bootstrap"),
        "{}",
        decision.method
    );
    // The defaults' model is the better one: they stay, and their job is the one kept.
    put(&weak, &strong).await;
    let (kept, decision) = job
        .decide(&session, &estimator, &channels, &mut Silent)
        .await
        .unwrap();
    assert_eq!(kept.name, defaults_name);
    assert_eq!(decision.kept, Kept::Defaults, "{decision:?}");
    // Without the validation channel the trials were judged on, there is nothing to judge by.
    let e = job
        .decide(
            &session,
            &estimator,
            &Channels::new(channels.train.clone()),
            &mut Silent,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("validation channel"), "{e}");
}

/// Put a model where SageMaker would host it from.
async fn uploaded_model(session: &Session) -> (tempfile::TempDir, Location) {
    let (out, model) = prepared();
    let at = session.base_location().join("models/demo/model.tar.gz");
    session.storage().upload_file(&model, &at).await.unwrap();
    (out, at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_invoke_and_delete_leave_nothing_behind() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let (out, model) = uploaded_model(&session).await;
    let config = DeployConfig::default().endpoint_name("pp-endpoint-a");
    let endpoint = Endpoint::deploy_model(&session, &model, None, &config, &mut Silent)
        .await
        .unwrap();
    let client = session
        .sagemaker_session()
        .unwrap()
        .clients
        .sagemaker
        .clone();
    let inventory = hosting::list_hosting(&client, "pp-endpoint-a")
        .await
        .unwrap();
    assert_eq!(inventory.endpoints, ["pp-endpoint-a"]);
    assert_eq!(inventory.endpoint_configs, ["pp-endpoint-a"]);
    assert_eq!(inventory.models, ["pp-endpoint-a"]);
    let cfg = client
        .describe_endpoint_config()
        .endpoint_config_name("pp-endpoint-a")
        .send()
        .await
        .unwrap();
    let variant = &cfg.production_variants()[0];
    assert_eq!(
        variant.instance_type().map(|t| t.as_str()),
        Some("ml.m5.large")
    );
    assert_eq!(variant.initial_instance_count(), Some(1));
    let m = client
        .describe_model()
        .model_name("pp-endpoint-a")
        .send()
        .await
        .unwrap();
    let container = m.primary_container().unwrap();
    assert_eq!(container.model_data_url(), Some(model.to_string().as_str()));
    assert_eq!(
        container.image(),
        Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
    );

    // InvokeEndpoint answers with what the emulator was told to answer: the container's
    // one-line CSV for two rows.
    moto.post(
        "/moto-api/static/sagemaker/endpoint-results",
        r#"{"results":[{"Body":"0.25,0.75","ContentType":"text/csv","InvokedProductionVariant":"AllTraffic","CustomAttributes":""}],"region":"us-east-1"}"#,
    );
    let art =
        purchase_predict::model::artifact::Artifact::load(out.path().join("model.tar.gz")).unwrap();
    let (x, _) = FeatureMatrix::read_sagemaker_csv(
        out.path().join("test.csv"),
        Some(&art.preprocessor.feature_names),
    )
    .unwrap();
    let two = x.take(&[0, 1]);
    let predictor = endpoint.predictor().unwrap();
    assert!(format!("{predictor:?}").contains("pp-endpoint-a"));
    assert_eq!(predictor.predict(&two).unwrap(), vec![0.25, 0.75]);

    let deleted = endpoint.delete().await.unwrap();
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    let inventory = hosting::list_hosting(&client, "pp-endpoint-a")
        .await
        .unwrap();
    assert_eq!(inventory, Default::default());
}

async fn deploy_then_fail(session: &Session, model: &Location) -> purchase_predict::Result<()> {
    let config = DeployConfig::default().endpoint_name("pp-endpoint-guard");
    let endpoint = Endpoint::deploy_model(session, model, None, &config, &mut Silent).await?;
    let _ = endpoint.name();
    // A cell that fails half-way, after deploying.
    Err(Error::Shape("forced failure after deploy".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_guard_deletes_the_endpoint_when_a_step_fails() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let (_out, model) = uploaded_model(&session).await;
    let err = deploy_then_fail(&session, &model).await.unwrap_err();
    assert!(err.to_string().contains("forced failure"));
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    assert_eq!(
        hosting::list_hosting(client, "pp-endpoint-guard")
            .await
            .unwrap(),
        Default::default(),
        "the guard must delete the endpoint, its config and its model"
    );

    // keep_running disarms the guard; delete_endpoint cleans up by name later.
    let config = DeployConfig::default().endpoint_name("pp-endpoint-kept");
    let endpoint = Endpoint::deploy_model(&session, &model, None, &config, &mut Silent)
        .await
        .unwrap();
    let names = endpoint.keep_running();
    assert_eq!(
        hosting::list_hosting(client, "pp-endpoint-kept")
            .await
            .unwrap()
            .endpoints,
        ["pp-endpoint-kept"]
    );
    let deleted = purchase_predict::cloud::endpoint::delete_endpoint(&session, &names)
        .await
        .unwrap();
    assert_eq!(deleted.len(), 3);
    // A second delete finds nothing and says so without failing.
    assert!(
        purchase_predict::cloud::endpoint::delete_endpoint(&session, &names)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_transform_sends_a_line_split_csv_job_and_removes_its_model() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let (_out, model) = uploaded_model(&session).await;
    let input_file = dir.path().join("customers.csv");
    std::fs::write(&input_file, "0.1,0.2\n0.3,0.4\n").unwrap();
    let input = session.upload_data(&input_file, "batch/in").await.unwrap();
    let output = session.base_location().join("batch/out");
    let job = purchase_predict::cloud::estimator::TrainingJob {
        name: "demo".into(),
        backend: Backend::SageMaker,
        model_data: model,
        final_metrics: Default::default(),
        hyperparameters: Default::default(),
        image_uri: None,
        seconds: 0.0,
        train_channel: None,
        preprocessor: None,
        pipeline_image: false,
    };
    let outs = batch_transform(&session, &job, &input, &output, "ml.m5.xlarge", &mut Silent)
        .await
        .unwrap();
    assert_eq!(
        outs.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
        [format!(
            "s3://{BUCKET}/purchase-predict/batch/out/customers.csv.out"
        )]
    );
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let jobs = client.list_transform_jobs().send().await.unwrap();
    let name = jobs.transform_job_summaries()[0]
        .transform_job_name()
        .unwrap()
        .to_string();
    let raw = client
        .describe_transform_job()
        .transform_job_name(&name)
        .send()
        .await
        .unwrap();
    let input_cfg = raw.transform_input().unwrap();
    assert_eq!(input_cfg.content_type(), Some("text/csv"));
    assert_eq!(input_cfg.split_type().map(|s| s.as_str()), Some("Line"));
    assert_eq!(raw.max_payload_in_mb(), Some(6));
    assert_eq!(
        raw.batch_strategy().map(|s| s.as_str()),
        Some("MultiRecord")
    );
    assert_eq!(
        raw.transform_output().unwrap().s3_output_path(),
        Some(output.to_string().as_str())
    );
    // The model made for the transform is gone again.
    assert!(hosting::list_hosting(client, &name)
        .await
        .unwrap()
        .models
        .is_empty());
}

// ---- the recorded-request harness: states moto cannot produce -------------------------

type Recorded = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// A session whose every request is recorded (operation from `X-Amz-Target`, JSON body) and
/// answered by `answer(operation, call number of that operation)` → (status, JSON body).
async fn scripted_session(
    answer: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static,
) -> (Session, Recorded) {
    let recorded: Recorded = Arc::new(Mutex::new(Vec::new()));
    let log = recorded.clone();
    let client = aws_smithy_http_client::test_util::infallible_client_fn(
        move |req: http::Request<SdkBody>| {
            let op = req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_string();
            let body: serde_json::Value = req
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(serde_json::Value::Null);
            let n = {
                let mut log = log.lock().unwrap();
                log.push((op.clone(), body));
                log.iter().filter(|(o, _)| *o == op).count()
            };
            let (status, json) = answer(&op, n);
            let mut builder = http::Response::builder()
                .status(status)
                .header("content-type", "application/x-amz-json-1.1");
            if status >= 400 {
                let code = serde_json::from_str::<serde_json::Value>(&json)
                    .ok()
                    .and_then(|v| v["__type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                builder = builder.header("x-amzn-errortype", code);
            }
            builder.body(SdkBody::from(json)).unwrap()
        },
    );
    let config = SageMakerConfig::new(ROLE, BUCKET)
        .region("eu-west-1")
        .static_credentials("testing", "testing")
        .max_attempts(1)
        .http_client(client);
    let session = Session::sagemaker(config)
        .await
        .unwrap()
        .with_poll(fast_poll());
    (session, recorded)
}

fn describe_training(
    status: &str,
    secondary: &str,
    transitions: &[(&str, &str)],
    failure: Option<&str>,
) -> String {
    let t: Vec<serde_json::Value> = transitions
        .iter()
        .map(|(s, m)| serde_json::json!({"Status": s, "StartTime": 1.7e9, "StatusMessage": m}))
        .collect();
    let mut v = serde_json::json!({
        "TrainingJobName": "job-1",
        "TrainingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/job-1",
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
        "SecondaryStatusTransitions": t,
        "AlgorithmSpecification": {"TrainingImage": "x", "TrainingInputMode": "File"},
        "ModelArtifacts": {"S3ModelArtifacts": "s3://pp-test-bucket/out/job-1/output/model.tar.gz"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": 1.7e9,
        "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.93, "Timestamp": 1.7e9}]
    });
    if let Some(f) = failure {
        v["FailureReason"] = serde_json::Value::String(f.into());
    }
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_waiter_reports_transitions_rides_out_throttling_and_completes() {
    let (session, recorded) = scripted_session(|op, n| match (op, n) {
        ("DescribeTrainingJob", 1) => (
            200,
            describe_training(
                "InProgress",
                "Starting",
                &[("Starting", "Preparing the instances for training")],
                None,
            ),
        ),
        ("DescribeTrainingJob", 2) => (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        ("DescribeTrainingJob", 3) => (
            200,
            describe_training(
                "InProgress",
                "Training",
                &[
                    ("Starting", "Preparing"),
                    ("Downloading", "Downloading input data"),
                    (
                        "Training",
                        "Training image download completed. Training in progress.",
                    ),
                ],
                None,
            ),
        ),
        ("DescribeTrainingJob", _) => (
            200,
            describe_training(
                "Completed",
                "Completed",
                &[
                    ("Starting", "Preparing"),
                    ("Downloading", "x"),
                    ("Training", "y"),
                    ("Uploading", "Uploading generated training model"),
                    ("Completed", "Training job completed"),
                ],
                None,
            ),
        ),
        (other, _) => panic!("unexpected call {other}"),
    })
    .await;
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let mut progress = Recorder::default();
    let d = training::wait_for_training_job(
        client,
        "job-1",
        session.poll(),
        Duration::from_secs(30),
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(d.status, "Completed");
    assert_eq!(
        d.final_metrics.get("validation:auc").copied(),
        Some(0.93f32 as f64)
    );
    assert_eq!(
        d.model_artifacts.as_deref(),
        Some("s3://pp-test-bucket/out/job-1/output/model.tar.gz")
    );
    let lines = progress.0.join("\n");
    assert!(
        lines.contains("Starting: Preparing the instances for training"),
        "{lines}"
    );
    assert!(lines.contains("ThrottlingException"), "{lines}");
    assert!(
        lines.contains("Downloading: Downloading input data"),
        "{lines}"
    );
    assert!(
        lines.contains("Training: Training image download completed"),
        "{lines}"
    );
    let calls = recorded.lock().unwrap();
    assert_eq!(calls.len(), 4);
    assert!(calls
        .iter()
        .all(|(op, body)| op == "DescribeTrainingJob" && body["TrainingJobName"] == "job-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_stopped_jobs_carry_the_failure_reason() {
    for (status, reason) in [
        (
            "Failed",
            "ClientError: Unable to parse the CSV: row 17 has 3 columns",
        ),
        ("Stopped", "Stopped by the user"),
    ] {
        let answer = describe_training(status, status, &[], Some(reason));
        let (session, _) = scripted_session(move |op, n| match (op, n) {
            ("DescribeTrainingJob", 1) => {
                (200, describe_training("InProgress", "Training", &[], None))
            }
            ("DescribeTrainingJob", _) => (200, answer.clone()),
            (other, _) => panic!("unexpected call {other}"),
        })
        .await;
        let client = &session.sagemaker_session().unwrap().clients.sagemaker;
        let err = training::wait_for_training_job(
            client,
            "job-1",
            session.poll(),
            Duration::from_secs(30),
            &mut Silent,
        )
        .await
        .unwrap_err();
        match &err {
            Error::JobFailed {
                status: s,
                reason: r,
                name,
                ..
            } => {
                assert_eq!(
                    (s.as_str(), r.as_str(), name.as_str()),
                    (status, reason, "job-1")
                );
            }
            other => panic!("expected JobFailed, got {other:?}"),
        }
        assert!(err.to_string().contains(reason));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_time_out_and_give_up_after_repeated_errors() {
    let (session, _) =
        scripted_session(|_, _| (200, describe_training("InProgress", "Training", &[], None)))
            .await;
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let err = training::wait_for_training_job(
        client,
        "job-1",
        session.poll(),
        Duration::from_millis(60),
        &mut Silent,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { last_status, .. } if last_status.contains("InProgress")),
        "{err:?}"
    );
    assert!(err.to_string().contains("may still be running"));

    let (session, recorded) = scripted_session(|_, _| {
        (
            500,
            r#"{"__type":"InternalFailure","message":"boom"}"#.into(),
        )
    })
    .await;
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let err = training::wait_for_training_job(
        client,
        "job-1",
        session.poll(),
        Duration::from_secs(30),
        &mut Silent,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("errors in a row"), "{err}");
    assert_eq!(recorded.lock().unwrap().len(), 6);

    // A non-transient error (a job that does not exist) fails at once.
    let (session, recorded) = scripted_session(|_, _| {
        (
            400,
            r#"{"__type":"ValidationException","message":"Requested resource not found."}"#.into(),
        )
    })
    .await;
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let err = training::wait_for_training_job(
        client,
        "job-1",
        session.poll(),
        Duration::from_secs(30),
        &mut Silent,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("Requested resource not found"),
        "{err}"
    );
    assert_eq!(recorded.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_that_fails_reports_why_and_is_cleaned_up() {
    let (session, recorded) = scripted_session(|op, _| match op {
        "CreateModel" => (200, r#"{"ModelArn":"arn:m"}"#.into()),
        "CreateEndpointConfig" => (200, r#"{"EndpointConfigArn":"arn:c"}"#.into()),
        "CreateEndpoint" => (200, r#"{"EndpointArn":"arn:e"}"#.into()),
        "DescribeEndpoint" => (200, r#"{"EndpointName":"pp-bad","EndpointArn":"arn:e","EndpointStatus":"Failed","FailureReason":"The primary container for production variant AllTraffic did not pass the ping health check.","CreationTime":1.7e9,"LastModifiedTime":1.7e9}"#.into()),
        "DeleteEndpoint" | "DeleteEndpointConfig" | "DeleteModel" => (200, "{}".into()),
        other => panic!("unexpected call {other}"),
    })
    .await;
    let model: Location = "s3://pp-test-bucket/models/m/model.tar.gz".parse().unwrap();
    let config = DeployConfig::default()
        .endpoint_name("pp-bad")
        .instance_type("ml.c5.large");
    let err = Endpoint::deploy_model(&session, &model, None, &config, &mut Silent)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("did not pass the ping health check"),
        "{err}"
    );
    let calls = recorded.lock().unwrap();
    let ops: Vec<&str> = calls.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        ops,
        [
            "CreateModel",
            "CreateEndpointConfig",
            "CreateEndpoint",
            "DescribeEndpoint",
            "DeleteEndpoint",
            "DeleteEndpointConfig",
            "DeleteModel"
        ]
    );
    let create_model = &calls[0].1;
    assert_eq!(create_model["ExecutionRoleArn"], ROLE);
    assert_eq!(
        create_model["PrimaryContainer"]["Image"],
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    );
    assert_eq!(
        create_model["PrimaryContainer"]["ModelDataUrl"],
        model.to_string()
    );
    let variant = &calls[1].1["ProductionVariants"][0];
    assert_eq!(variant["InstanceType"], "ml.c5.large");
    assert_eq!(variant["VariantName"], "AllTraffic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuning_jobs_table_reads_every_page() {
    // moto answers ListTrainingJobsForHyperParameterTuningJob with HTTP 500, so the table
    // is checked here.
    let summary = |name: &str, auc: f64, status: &str| {
        serde_json::json!({
            "TrainingJobName": name, "TrainingJobArn": format!("arn:{name}"),
            "CreationTime": 1.7e9, "TrainingJobStatus": status,
            "TunedHyperParameters": {"eta": "0.1"},
            "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": auc}
        })
    };
    let page1 = serde_json::json!({"TrainingJobSummaries": [summary("t-001", 0.91, "Completed"), summary("t-002", 0.95, "Completed")], "NextToken": "p2"}).to_string();
    let page2 = serde_json::json!({"TrainingJobSummaries": [summary("t-003", 0.93, "Stopped")]})
        .to_string();
    let (session, recorded) = scripted_session(move |op, n| match (op, n) {
        ("ListTrainingJobsForHyperParameterTuningJob", 1) => (200, page1.clone()),
        ("ListTrainingJobsForHyperParameterTuningJob", 2) => (200, page2.clone()),
        (other, _) => panic!("unexpected call {other}"),
    })
    .await;
    // Credentials never show in what a notebook would print.
    let shown = format!("{session:?} {session}");
    assert!(
        shown.contains("eu-west-1") && shown.contains(ROLE),
        "{shown}"
    );
    assert!(!shown.contains("testing"), "{shown}");
    let client = &session.sagemaker_session().unwrap().clients.sagemaker;
    let jobs = tuning::list_tuning_training_jobs(client, "t")
        .await
        .unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        ["t-001", "t-002", "t-003"]
    );
    assert_eq!(jobs[1].objective, Some(0.95f32 as f64));
    assert_eq!(jobs[2].status, "Stopped");
    let calls = recorded.lock().unwrap();
    assert_eq!(calls[1].1["NextToken"], "p2");
    assert_eq!(calls[0].1["HyperParameterTuningJobName"], "t");
}

/// The prepared demo splits, a local session in a fresh folder, and its train channel.
async fn local_session() -> (tempfile::TempDir, tempfile::TempDir, Session, Location) {
    let (out, _) = prepared();
    let dir = tempfile::tempdir().unwrap();
    let session = Session::local(dir.path().join("work"));
    let train = session
        .upload_data(out.path().join("train.csv"), "data/train")
        .await
        .unwrap();
    (out, dir, session, train)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_session_runs_the_same_estimator_tuner_and_endpoint_in_process() {
    let (out, dir, session, train) = local_session().await;
    let validation = session
        .upload_data(out.path().join("validation.csv"), "data/validation")
        .await
        .unwrap();
    let channels = Channels::new(train).validation(validation);
    let hp = Hyperparameters {
        num_round: 30,
        ..Hyperparameters::default()
    };
    let estimator = Estimator::new(hp.clone());
    let job = estimator
        .fit(&session, &channels, &mut Silent)
        .await
        .unwrap();
    assert_eq!(job.backend, Backend::Local);
    let expected = dir
        .path()
        .join(format!("work/output/{}/output/model.tar.gz", job.name));
    assert_eq!(job.model_data, Location::Local(expected.clone()));
    assert!(expected.exists());
    let auc = job.final_metrics["validation:auc"];
    assert!(auc > 0.8, "validation AUC {auc}");

    let (x, _) = FeatureMatrix::read_sagemaker_csv(out.path().join("test.csv"), None).unwrap();
    let x = x.take(&(0..500).collect::<Vec<_>>());
    let endpoint = Endpoint::deploy(&session, &job, &DeployConfig::default(), &mut Silent)
        .await
        .unwrap();
    assert!(endpoint.url().unwrap().starts_with("http://127.0.0.1:"));
    let served = endpoint.predictor().unwrap().predict(&x).unwrap();
    let artifact = job.artifact(&session, None).await.unwrap();
    let direct = artifact.model.predict(&x).unwrap();
    for (a, b) in served.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let url = endpoint.url().unwrap();
    drop(endpoint); // the guard stops the server
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());

    // Handed over (to the clean-up notebook), a local endpoint stops at once: no other
    // process could stop it, and a kernel left alive would keep it answering.
    let endpoint = Endpoint::deploy(&session, &job, &DeployConfig::default(), &mut Silent)
        .await
        .unwrap();
    let handed = endpoint.hand_over();
    let url = handed.url.clone().unwrap();
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());
    let left = purchase_predict::cloud::endpoint::still_running(
        &session,
        &handed.names.endpoint,
        handed.url.as_deref(),
    )
    .await
    .unwrap();
    assert!(left.is_empty(), "{left:?}");

    let ranges = [("eta".to_string(), ParameterRange::continuous(0.05, 0.5))]
        .into_iter()
        .collect();
    let tuner = HyperparameterTuner::new(
        estimator.clone(),
        TunerConfig::new(ranges).max_jobs(4).max_parallel_jobs(2),
    );
    let tuned = tuner.fit(&session, &channels, &mut Silent).await.unwrap();
    let table = tuned.training_jobs(&session).await.unwrap();
    // Trial 0 (the estimator's own hyperparameters) and the four searched.
    assert_eq!(table.len(), 5);
    assert!(table
        .iter()
        .any(|j| j.name == format!("{}-000", tuned.name) && j.hyperparameters["eta"] == "0.2"));
    assert!(table.windows(2).all(|w| w[0].objective >= w[1].objective));
    let (best, decision) = tuned
        .decide(&session, &estimator, &channels, &mut Silent)
        .await
        .unwrap();
    assert_eq!(Some(&decision), tuned.decision.as_ref());
    assert!(best.model_data.local_path().unwrap().exists());
    // The same contract as on SageMaker: the kept job (the best trial when it beats the
    // defaults beyond the noise), by name, with its objective and hyperparameters.
    assert_eq!(best.name, tuned.best_training_job);
    assert_eq!(
        best.name,
        format!("{}-{:03}", tuned.name, decision.kept_trial)
    );
    assert_eq!(
        best.final_metrics.get("validation:auc").copied(),
        tuned.best_objective
    );
    assert_eq!(
        best.hyperparameters["eta"],
        tuned.best_hyperparameters["eta"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_has_the_same_manifest_whichever_backend_trained_it() {
    let (_out, _dir, session, train) = local_session().await;
    let channels = Channels::new(train);
    let hp = Hyperparameters {
        num_round: 10,
        ..Hyperparameters::default()
    };
    let job = Estimator::new(hp)
        .fit(&session, &channels, &mut Silent)
        .await
        .unwrap();
    let local = job.artifact(&session, None).await.unwrap();
    // The same archive as a SageMaker job's model: the built-in container's archives hold
    // the booster alone, so the artifact is assembled from the job's record instead.
    let remote = TrainingJob {
        backend: Backend::SageMaker,
        ..job.clone()
    };
    let assembled = remote.artifact(&session, None).await.unwrap();
    let (a, b) = (&local.manifest, &assembled.manifest);
    assert_eq!(a.feature_names, b.feature_names);
    assert_eq!(a.target, b.target);
    assert_eq!(a.hyperparameters, b.hyperparameters);
    assert_eq!(a.rounds, b.rounds);
    assert_eq!(a.threshold, b.threshold);
    assert_eq!(a.training_data.path, b.training_data.path);
    assert_eq!(a.training_data.path, channels.train.to_string());
    assert_eq!(local.preprocessor, assembled.preprocessor);
}

/// `Predictor::explain` through InvokeEndpoint: the request carries `CustomAttributes`
/// (the `X-Amzn-SageMaker-Custom-Attributes` header SageMaker passes to the container) and
/// asks for JSON; the explained answer comes back as scores and contributions. Recorded
/// on a scripted HTTP client (moto's InvokeEndpoint answers only what it was told).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictor_explain_sends_the_custom_attribute_through_invoke_endpoint() {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = aws_smithy_http_client::test_util::infallible_client_fn(
        move |req: http::Request<SdkBody>| {
            let h = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            log.lock().unwrap().push((
                req.uri().path().to_string(),
                h("x-amzn-sagemaker-custom-attributes"),
                h("accept"),
            ));
            let body = r#"{"predictions":[{"score":0.75,"label":1,"base_value":-1.5,"contributions":{"age":0.25,"income":2.35}}]}"#;
            http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(SdkBody::from(body))
                .unwrap()
        },
    );
    let config = SageMakerConfig::new(ROLE, BUCKET)
        .region("eu-west-1")
        .static_credentials("testing", "testing")
        .max_attempts(1)
        .http_client(client);
    let session = Session::sagemaker(config).await.unwrap();
    let runtime = session.sagemaker_session().unwrap().clients.runtime.clone();
    let predictor = purchase_predict::serve::Predictor::new(
        hosting::RuntimeTransport::new(runtime, "pp-explained").unwrap(),
    );
    let x = FeatureMatrix {
        names: vec!["age".into(), "income".into()],
        nrows: 1,
        values: vec![41.0, 52000.0],
    };
    let got = tokio::task::spawn_blocking(move || predictor.explain(&x))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.scores, vec![0.75]);
    assert_eq!(got.explanations.names, ["age", "income"]);
    assert_eq!(got.explanations.values, vec![0.25, 2.35]);
    assert_eq!(got.explanations.base_value, -1.5);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.as_slice(),
        [(
            "/endpoints/pp-explained/invocations".to_string(),
            "explain".to_string(),
            "application/json".to_string()
        )]
    );
}

/// The SageMaker Python SDK (pinned, PURCHASE_PREDICT_SAGEMAKER_SDK) reads a baseline of ours
/// through Model Monitor's `Statistics` and `Constraints` classes (via S3, here moto), and
/// what it saves back (a column's monitoring turned off) is honoured by our check.
#[test]
fn the_sagemaker_sdk_reads_our_baseline_and_we_honour_what_it_saves() {
    use purchase_predict::monitor::check::CheckType;
    use purchase_predict::monitor::{Baseline, BaselineSettings, Check, Current};
    let python = match std::env::var_os("PURCHASE_PREDICT_SAGEMAKER_SDK") {
        Some(p) if std::path::Path::new(&p).exists() => p,
        _ => {
            common::skip("PURCHASE_PREDICT_SAGEMAKER_SDK is not set to a Python with the SageMaker SDK (scripts/test.sh sets it)");
            return;
        }
    };
    let Some(moto) = Moto::start() else { return };
    let (dir, model) = common::demo_model(10);
    let data = common::root().join("data/customers.csv");
    let baseline = Baseline::build(&model, &data, &BaselineSettings::default()).unwrap();
    let folder = dir.path().join("baseline");
    baseline.write(&folder).unwrap();
    let saved = dir.path().join("saved");
    std::fs::create_dir_all(&saved).unwrap();
    let out = Command::new(&python)
        .arg(common::root().join("tests/fixtures/sagemaker-sdk/read_baseline.py"))
        .arg(&folder)
        .arg(&saved)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let names: Vec<String> = baseline
        .info
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(read["item_count"], 10_000);
    assert_eq!(read["features"], serde_json::json!(names));
    assert_eq!(read["constraint_features"], serde_json::json!(names));
    assert_eq!(read["numeric"], "age");
    let ours = baseline.statistics.features[0]
        .numerical_statistics
        .as_ref()
        .unwrap()
        .mean;
    assert_eq!(read["numeric_mean"].as_f64().unwrap(), ours);
    assert_eq!(read["numeric_buckets"], 10);
    assert_eq!(read["text"], "gender");
    assert_eq!(
        read["text_values"],
        serde_json::json!(["female", "male", "other"])
    );
    assert_eq!(read["comparison_threshold"], 0.1);

    // The constraints the SDK saved, with gender's monitoring off, replace ours.
    std::fs::copy(
        saved.join("constraints.json"),
        folder.join("constraints.json"),
    )
    .unwrap();
    let baseline = Baseline::load(&folder).unwrap();
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let (g, r) = (
        cols.iter().position(|c| *c == "gender").unwrap(),
        cols.iter().position(|c| *c == "region").unwrap(),
    );
    let mut edited = String::from(header) + "\n";
    for line in lines.take(2000) {
        let mut f: Vec<&str> = line.split(',').collect();
        f[g] = "undisclosed";
        f[r] = "atlantis";
        edited += &(f.join(",") + "\n");
    }
    let table = dir.path().join("new-values.csv");
    std::fs::write(&table, edited).unwrap();
    let frame = purchase_predict::data::read_table(&table, None).unwrap();
    let artifact = baseline.model(&folder, None).unwrap();
    let check = Check::run(
        &baseline,
        Some(&artifact),
        &Current::table("new values", &frame),
    )
    .unwrap();
    let of = |column: &str| -> Vec<CheckType> {
        check
            .violations
            .violations
            .iter()
            .filter(|v| v.feature_name == column)
            .map(|v| v.constraint_check_type)
            .collect()
    };
    assert!(of("gender").is_empty(), "{:?}", check.violations);
    assert!(of("region").contains(&CheckType::CategoricalValuesCheck));
}

/// `serve --capture s3://…` publishes each capture file as one object under the prefix, in
/// SageMaker's layout, and a deploy with data capture sends SageMaker's DataCaptureConfig.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_go_to_s3_and_a_deploy_sends_the_data_capture_config() {
    use purchase_predict::cloud::endpoint::DataCapture;
    use purchase_predict::cloud::storage::CaptureToStorage;
    use purchase_predict::serve::{
        BackgroundServer, CaptureConfig, CaptureDestination, ServerConfig,
    };
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let session = moto_session(&moto, dir.path()).await;
    let (out, model) = uploaded_model(&session).await;
    let prefix = session.base_location().join("captures");
    let sink = CaptureToStorage::new(session.storage().clone(), prefix.clone());
    let config = ServerConfig::default().port(0).capture(
        CaptureConfig::new(CaptureDestination::Sink(Arc::new(sink))).endpoint_name("s3-shop"),
    );
    let local_model = out.path().join("model.tar.gz");
    let server = tokio::task::spawn_blocking(move || {
        let server = BackgroundServer::start(&local_model, &config).unwrap();
        let body = std::fs::read_to_string(out.path().join("test.csv")).unwrap();
        let row: String = body
            .lines()
            .next()
            .unwrap()
            .split_once(',')
            .unwrap()
            .1
            .into();
        let mut c = purchase_predict::serve::http::HttpConnection::connect(
            server.addr(),
            Duration::from_secs(10),
        )
        .unwrap();
        for _ in 0..3 {
            let r = c
                .request(
                    "POST",
                    "/invocations",
                    &[("Content-Type", "text/csv")],
                    row.as_bytes(),
                )
                .unwrap();
            assert_eq!(r.status, 200);
        }
        server.stop();
    });
    server.await.unwrap();
    let objects = session.storage().list(&prefix).await.unwrap();
    assert_eq!(objects.len(), 1, "{objects:?}");
    let key = objects[0].to_string();
    assert!(key.contains("/captures/s3-shop/AllTraffic/20"), "{key}");
    assert!(key.ends_with(".jsonl"));
    let local = dir.path().join("capture.jsonl");
    session
        .storage()
        .download_file(&objects[0], &local)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&local).unwrap();
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        purchase_predict::codec::capture::CaptureRecord::parse_line(line).unwrap();
    }

    // A SageMaker endpoint captures itself: the endpoint config carries the setting.
    let config = DeployConfig::default()
        .endpoint_name("pp-captured")
        .data_capture(DataCapture::new(prefix.clone()).sampling(30));
    let endpoint = Endpoint::deploy_model(&session, &model, None, &config, &mut Silent)
        .await
        .unwrap();
    let client = session
        .sagemaker_session()
        .unwrap()
        .clients
        .sagemaker
        .clone();
    let cfg = client
        .describe_endpoint_config()
        .endpoint_config_name("pp-captured")
        .send()
        .await
        .unwrap();
    let capture = cfg.data_capture_config().expect("DataCaptureConfig sent");
    assert_eq!(capture.initial_sampling_percentage(), Some(30));
    assert_eq!(
        capture.destination_s3_uri(),
        Some(prefix.to_string().as_str())
    );
    assert_eq!(capture.enable_capture(), Some(true));
    endpoint.delete().await.unwrap();
    // A local folder is refused for SageMaker, before anything is created.
    let local = DeployConfig::default()
        .endpoint_name("pp-captured-local")
        .data_capture(DataCapture::new(std::path::PathBuf::from("captures")));
    let err = Endpoint::deploy_model(&session, &model, None, &local, &mut Silent)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("SageMaker captures into S3"),
        "{err}"
    );
}
