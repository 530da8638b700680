//! `purchase-predict train` as SageMaker runs it in our image: read the job SageMaker laid out
//! under `/opt/ml` ([`MlRoot`]), run the whole `run` pipeline on the raw customer table of
//! the `train` channel, leave the model in `/opt/ml/model` and the evaluation in
//! `/opt/ml/output/data/evaluation`, print each metric for SageMaker's metric definitions,
//! and on failure write the reason to `/opt/ml/output/failure` (SageMaker's FailureReason)
//! and exit non-zero. The layout is in [`crate::cloud::sagemaker::container`].
//!
//! ```no_run
//! use purchase_predict::app::sagemaker_job::train;
//! use purchase_predict::cloud::sagemaker::container::MlRoot;
//! use purchase_predict::util::progress::Silent;
//! // One host, or the first of several, has the report; the others `None`.
//! if let Some(report) = train(&MlRoot::new("/tmp/job"), &mut Silent)? {
//!     println!("validation AUC {:?}", report.validation_metrics.and_then(|m| m.roc_auc));
//! }
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::app::pipeline::{self, RunConfig, RunReport};
use crate::cloud::sagemaker::cluster::{self, ClusterSettings, Hosts};
use crate::cloud::sagemaker::container::{
    metric_lines, ChannelConfig, MlRoot, ResourceConfig, TableFormat, CSV_CONTENT_TYPES,
    EVALUATION_FOLDER, JUDGE_AGAINST_HYPERPARAMETER, PARQUET_CONTENT_TYPES, TRAIN_CHANNEL,
};
use crate::error::{clip, Error, Result, Valid};
use crate::evaluate::settings::PipelineSettings;
use crate::model::xgboost::collective::{Communicator, CommunicatorConfig};
use crate::model::Hyperparameters;
use crate::util::progress::Progress;

/// A training job as read from the layout, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInput {
    pub job: Valid<PipelineSettings>,
    pub hyperparameters: Valid<Hyperparameters>,
    /// The one customer table of the `train` channel; on several hosts, the channel's folder.
    pub data: PathBuf,
    /// The table's files this host reads: `data` itself on one host; on several, this host's
    /// objects of the sharded channel (`ShardedByS3Key`).
    pub files: Vec<PathBuf>,
    /// The job's hosts, when there are several.
    pub hosts: Option<Hosts>,
    /// On several hosts, what is wrong with this host's share of the channel (no object, or
    /// objects of two formats): the other hosts learn it before any of them trains. A fault
    /// of the job's configuration, the same on every host, is an error of [`read_job`].
    pub host_fault: Option<String>,
    /// A refit judged against the defaults: their values of the tuned hyperparameters
    /// ([`JUDGE_AGAINST_HYPERPARAMETER`]).
    pub judge_against: Option<BTreeMap<String, String>>,
}

fn input_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::JobInput {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The most bytes read of a configuration file under `input/config` (SageMaker's are a few
/// KB: at most 100 hyperparameters of 2,500 characters each).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The longest hyperparameter value taken, in characters (SageMaker's `CreateTrainingJob`
/// refuses longer ones).
pub const MAX_HYPERPARAMETER_CHARS: usize = 2_500;
/// The longest failure reason written, in characters (SageMaker keeps this many of
/// `output/failure` as the job's FailureReason).
pub const MAX_FAILURE_CHARS: usize = 1_024;

/// Refuse a path under the job's root that leads out of it through a symbolic link: SageMaker
/// lays out real files and folders, so a link out of `/opt/ml` is not the job's input.
fn check_inside(root: &MlRoot, path: &Path) -> Result<()> {
    let (Ok(real), Ok(real_root)) = (
        std::fs::canonicalize(path),
        std::fs::canonicalize(&root.root),
    ) else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        Ok(())
    } else {
        Err(input_error(
            path,
            format!(
                "leads out of the job's folder {} through a symbolic link (to {}); refused",
                root.root.display(),
                real.display()
            ),
        ))
    }
}

/// A file of the job: inside the root, and a regular file (a FIFO would block forever and a
/// device such as `/dev/zero` never ends). `None` when it does not exist.
fn job_file(root: &MlRoot, path: &Path) -> Result<Option<std::fs::Metadata>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    check_inside(root, path)?;
    if !meta.is_file() {
        return Err(input_error(
            path,
            "not a regular file (a FIFO, device or socket); refused",
        ));
    }
    Ok(Some(meta))
}

fn read_json(root: &MlRoot, path: &Path) -> Result<Option<serde_json::Value>> {
    let Some(meta) = job_file(root, path)? else {
        return Ok(None);
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(input_error(
            path,
            format!(
                "{} bytes; a configuration file SageMaker writes is a few KB (at most {MAX_CONFIG_BYTES} bytes are read)",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(|e| Error::io(path, e))?,
            MAX_CONFIG_BYTES + 1,
        ),
        &mut bytes,
    )
    .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(input_error(path, "grew past its limit while being read"));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| input_error(path, format!("not valid JSON: {e}")))
}

/// `hyperparameters.json`: an object; values are strings as SageMaker writes them (numbers
/// and booleans, as a hand-written file may hold, are taken as their text), each at most
/// [`MAX_HYPERPARAMETER_CHARS`] characters.
fn read_hyperparameters(root: &MlRoot, path: &Path) -> Result<BTreeMap<String, String>> {
    let value = read_json(root, path)?
        .ok_or_else(|| input_error(path, "missing: SageMaker writes it for every training job"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(input_error(path, "must be a JSON object of name → value"));
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(input_error(
                        path,
                        format!(
                            "hyperparameter `{}` is {}, not a string",
                            clip(&k, 100),
                            clip(&other.to_string(), 100)
                        ),
                    ))
                }
            };
            let chars = text.chars().count();
            if chars > MAX_HYPERPARAMETER_CHARS || k.chars().count() > 256 {
                return Err(input_error(
                    path,
                    format!(
                        "hyperparameter `{}` = `{}`: {chars} characters; SageMaker takes names of at most 256 and values of at most {MAX_HYPERPARAMETER_CHARS}",
                        clip(&k, 100),
                        clip(&text, 100)
                    ),
                ));
            }
            Ok((k, text))
        })
        .collect()
}

/// The data files of a channel folder, recursively; names starting with `.` or `_` (such as
/// Spark's `_SUCCESS`) are not data.
fn channel_files(root: &MlRoot, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        check_inside(root, &path)?;
        if path.is_dir() {
            channel_files(root, &path, out)?;
        } else {
            job_file(root, &path)?;
            out.push(path);
        }
    }
    Ok(())
}

/// Read and check the job under `root`: its hyperparameters (pipeline settings and
/// XGBoost's), the channels (one, `train`, in File or FastFile mode, holding one CSV or
/// Parquet table) and the resources (one instance).
pub fn read_job(root: &MlRoot) -> Result<JobInput> {
    let hp_file = root.hyperparameters_file();
    let mut sent = read_hyperparameters(root, &hp_file)?;
    let judge_against = match sent.remove(JUDGE_AGAINST_HYPERPARAMETER) {
        None => None,
        Some(text) => {
            let defaults: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|e| {
                input_error(
                    &hp_file,
                    format!(
                        "hyperparameter `{JUDGE_AGAINST_HYPERPARAMETER}`: {e}; expected a JSON \
                             object of the defaults' values, as {{\"eta\": \"0.2\"}}"
                    ),
                )
            })?;
            // Each value must be one the hyperparameter takes.
            let mut check = Hyperparameters::default();
            for (name, value) in &defaults {
                check.set(name, value).map_err(|e| {
                    input_error(
                        &hp_file,
                        format!("hyperparameter `{JUDGE_AGAINST_HYPERPARAMETER}`: {e}"),
                    )
                })?;
            }
            Some(defaults)
        }
    };
    let (job, hyperparameters) = PipelineSettings::from_hyperparameters(&sent)
        .map_err(|e| input_error(&hp_file, e.to_string()))?;

    let hosts = read_hosts(root)?;

    let config_file = root.input_data_config_file();
    let channels: BTreeMap<String, ChannelConfig> =
        serde_json::from_value(read_json(root, &config_file)?.ok_or_else(|| {
            input_error(
                &config_file,
                "missing: SageMaker writes it for every training job",
            )
        })?)
        .map_err(|e| input_error(&config_file, e.to_string()))?;
    if let Some(other) = channels.keys().find(|c| *c != TRAIN_CHANNEL) {
        return Err(input_error(
            &config_file,
            format!(
                "channel `{other}`: this image reads one channel, `{TRAIN_CHANNEL}`, holding the \
                 whole customer table; it splits it itself (hyperparameters test_share and \
                 validation_share)"
            ),
        ));
    }
    let channel = channels.get(TRAIN_CHANNEL).ok_or_else(|| {
        input_error(
            &config_file,
            format!("no `{TRAIN_CHANNEL}` channel: give the job the customer table as `{TRAIN_CHANNEL}`"),
        )
    })?;
    match channel.training_input_mode.as_deref() {
        None | Some("File") | Some("FastFile") => {}
        Some(mode) => {
            return Err(input_error(
                &config_file,
                format!("channel `{TRAIN_CHANNEL}`: input mode {mode}; this image reads files (File or FastFile)"),
            ))
        }
    }
    if let Some(h) = &hosts {
        match channel.s3_distribution_type.as_deref() {
            Some("ShardedByS3Key") => {}
            other => {
                return Err(input_error(
                    &config_file,
                    format!(
                        "channel `{TRAIN_CHANNEL}`: {} input on {} instances gives every \
                         instance the whole table, so each would train on all of it and more \
                         instances would not train faster: declare ShardedByS3Key and write the \
                         table as at least {} objects (Session::upload_shards)",
                        other.unwrap_or("FullyReplicated"),
                        h.count(),
                        h.count()
                    ),
                ))
            }
        }
    }
    match channel.record_wrapper_type.as_deref() {
        None | Some("None") => {}
        Some(w) => {
            return Err(input_error(
                &config_file,
                format!("channel `{TRAIN_CHANNEL}`: record wrapper {w}; this image reads plain CSV or Parquet files"),
            ))
        }
    }
    let declared = match channel.content_type.as_deref() {
        None | Some("") => None,
        Some(ct) => Some(TableFormat::from_content_type(ct).ok_or_else(|| {
            input_error(
                &config_file,
                format!(
                    "channel `{TRAIN_CHANNEL}`: content type `{ct}`; this image trains on {} (CSV) or {} (Parquet)",
                    CSV_CONTENT_TYPES.join(", "),
                    PARQUET_CONTENT_TYPES.join(", ")
                ),
            )
        })?),
    };

    let dir = root.channel_dir(TRAIN_CHANNEL);
    if !dir.is_dir() {
        return Err(input_error(&dir, "the channel's folder is missing"));
    }
    check_inside(root, &dir)?;
    // What the job writes stays inside the root too.
    for out in [root.model_dir(), root.root.join("output")] {
        check_inside(root, &out)?;
    }
    let mut files = Vec::new();
    channel_files(root, &dir, &mut files)?;
    files.sort();
    if let Some(h) = &hosts {
        let (files, host_fault) = match sharded_input(h, &dir, files, declared) {
            Ok(files) => (files, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        return Ok(JobInput {
            job,
            hyperparameters,
            data: dir.clone(),
            files,
            hosts: hosts.clone(),
            host_fault,
            judge_against,
        });
    }
    let data = match files.as_slice() {
        [one] => one.clone(),
        [] => return Err(input_error(&dir, "the channel holds no file")),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(5)
                .map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string())
                .collect();
            return Err(input_error(
                &dir,
                format!(
                    "the channel holds {} files ({}{}); this image trains on one customer table: point the channel at one file",
                    many.len(),
                    names.join(", "),
                    if many.len() > 5 { ", …" } else { "" }
                ),
            ));
        }
    };
    let found = TableFormat::from_path(&data.to_string_lossy());
    if let Some(d) = declared {
        if d != found {
            return Err(input_error(
                &data,
                format!(
                    "the channel declares {} but the file's name says {} (.parquet/.pq is Parquet, anything else CSV)",
                    d.content_type(),
                    found.content_type()
                ),
            ));
        }
    }
    Ok(JobInput {
        job,
        hyperparameters,
        files: vec![data.clone()],
        data,
        hosts: None,
        host_fault: None,
        judge_against,
    })
}

/// The hosts of `resourceconfig.json` when there are several (`None` for one, or without
/// the file).
fn read_hosts(root: &MlRoot) -> Result<Option<Hosts>> {
    let resource_file = root.resource_config_file();
    let Some(value) = read_json(root, &resource_file)? else {
        return Ok(None);
    };
    let resources: ResourceConfig =
        serde_json::from_value(value).map_err(|e| input_error(&resource_file, e.to_string()))?;
    if resources.hosts.len() <= 1 {
        return Ok(None);
    }
    Hosts::new(&resources.current_host, &resources.hosts)
        .map(Some)
        .map_err(|e| input_error(&resource_file, e.to_string()))
}

/// This host's objects of a sharded channel: at least one, all of one format.
fn sharded_input(
    hosts: &Hosts,
    dir: &Path,
    files: Vec<PathBuf>,
    declared: Option<TableFormat>,
) -> Result<Vec<PathBuf>> {
    let Some(first) = files.first() else {
        return Err(input_error(
            dir,
            format!(
                "host {} received no object of the channel: ShardedByS3Key hands each of the \
                 {} instances whole objects, so the table must be written as at least {} \
                 (Session::upload_shards)",
                hosts.current(),
                hosts.count(),
                hosts.count()
            ),
        ));
    };
    let format = TableFormat::from_path(&first.to_string_lossy());
    for f in &files {
        let found = TableFormat::from_path(&f.to_string_lossy());
        if found != declared.unwrap_or(format) {
            return Err(input_error(
                f,
                format!(
                    "the channel's objects mix formats: this one is {}, the channel's {}",
                    found.content_type(),
                    declared.unwrap_or(format).content_type()
                ),
            ));
        }
    }
    Ok(files)
}

/// The `run` settings of a job: its table, its pipeline settings and hyperparameters, and
/// the evaluation folder under `/opt/ml/output/data`.
pub fn run_config(root: &MlRoot, input: &JobInput) -> Valid<RunConfig> {
    let JobInput {
        job,
        hyperparameters,
        data,
        ..
    } = input.clone();
    RunConfig::from_valid(
        data,
        job,
        hyperparameters,
        root.output_data_dir().join(EVALUATION_FOLDER),
    )
}

/// Run the training job laid out under `root`: the `run` pipeline on the `train` channel's
/// table, the model's files left in `<root>/model` (SageMaker packs them into
/// `model.tar.gz`, the monitoring baseline in `baseline/` with them), `metrics.json` and
/// `report.html` in `<root>/output/data/evaluation`
/// (the split CSVs, which SageMaker would upload too, are removed), and every validation and
/// test metric printed as a `#metric split:name=value` line.
///
/// On several hosts (`resourceconfig.json`), every host runs [`train_on_hosts`]; the first
/// returns the report, the others `None`.
pub fn train(root: &MlRoot, progress: &mut dyn Progress) -> Result<Option<RunReport>> {
    if let Some(hosts) = read_hosts(root)? {
        return train_on_hosts(root, &hosts, progress);
    }
    let input = read_job(root)?;
    let config = run_config(root, &input);
    println!(
        "purchase-predict train: {} (target `{}`), test share {}, validation share {}, split seed {}",
        input.data.display(),
        config.settings.load.target,
        config.settings.split.test_share,
        config.settings.split.validation_share,
        config.settings.split.seed
    );
    let report = match &input.judge_against {
        None => pipeline::run(&config, progress)?,
        Some(defaults) => {
            let (report, decision) = pipeline::run_judged(&config, defaults, progress)?;
            println!("judged against the defaults: {}", decision.reason);
            report
        }
    };
    finish(root, &config, &report)?;
    Ok(Some(report))
}

/// One host of a job on several instances: join the others at the first host's rendezvous
/// (reporting this host's input fault, if any, so that every host fails with it), join
/// libxgboost's collective through the tracker the first host runs, run the streaming
/// pipeline on this host's objects of the sharded channel
/// ([`crate::app::streaming`] on each host), and on the first host leave the model and the
/// evaluation as [`train`] does on one. A host lost on the way fails every other host within
/// the heartbeat timeout ([`cluster`]), the reason in each one's failure file.
pub fn train_on_hosts(
    root: &MlRoot,
    hosts: &Hosts,
    progress: &mut dyn Progress,
) -> Result<Option<RunReport>> {
    let settings = ClusterSettings::from_env(hosts)?;
    // The job's configuration is the same on every host: a fault in it fails each at once.
    let input = read_job(root)?;
    if input.judge_against.is_some() {
        return Err(input_error(
            &root.hyperparameters_file(),
            format!("`{JUDGE_AGAINST_HYPERPARAMETER}` (a tuned refit) trains on one instance"),
        ));
    }
    // A fault of this host's share is told to the others.
    let fault = input.host_fault.clone();
    let abort_root = root.clone();
    let abort: cluster::AbortAction = std::sync::Arc::new(move |reason: &str| {
        let e = Error::Collective(reason.to_string());
        eprintln!("error: {e}");
        write_failure(&abort_root, &e);
        std::process::exit(1);
    });
    println!(
        "purchase-predict train: host {} of {} ({}), joining at {}",
        hosts.index() + 1,
        hosts.count(),
        hosts.current(),
        settings.rendezvous
    );
    let membership = cluster::join(hosts, &settings, fault.as_deref(), abort)?;
    let config = run_config(root, &input);
    let ran = (|| -> Result<Option<RunReport>> {
        let comm = Communicator::join(
            &CommunicatorConfig::new(
                settings.tracker_address(),
                membership.tracker_port,
                hosts.index(),
                hosts.count(),
            ),
            hosts.index(),
        )?;
        let report = crate::app::streaming::run_on_hosts(&config, &input.files, &comm, progress)?;
        drop(comm);
        Ok(report)
    })();
    let report = match ran {
        Ok(r) => r,
        Err(e) => {
            // libxgboost notices a lost peer as "Allreduce failed": give the heartbeat a
            // moment to name the host and its reason (the abort action then ends this
            // process with them); else this host's own error is the cause, and the others
            // learn it, not only that this host went away.
            std::thread::sleep(cluster::LOSS_NAMING_WAIT);
            membership.fail(&e.to_string());
            return Err(e);
        }
    };
    membership.done();
    match report {
        Some(report) => {
            finish(root, &config, &report)?;
            Ok(Some(report))
        }
        None => {
            println!(
                "host {} done: the first host ({}) writes the model and the evaluation",
                hosts.current(),
                hosts.first()
            );
            Ok(None)
        }
    }
}

/// Leave a finished run's model in `<root>/model` (with the monitoring baseline), remove the
/// split files, and print the metrics for SageMaker.
fn finish(root: &MlRoot, config: &RunConfig, report: &RunReport) -> Result<()> {
    let model_dir = root.model_dir();
    crate::model::artifact::unpack(&report.outputs.model, &model_dir)?;
    // The monitoring baseline travels with the model: SageMaker packs `<root>/model` into
    // the job's model.tar.gz, `baseline/` included (its checksum is the booster's, which the
    // packing keeps).
    let baseline = model_dir.join("baseline");
    if baseline.exists() {
        std::fs::remove_dir_all(&baseline).map_err(|e| Error::io(&baseline, e))?;
    }
    std::fs::rename(&report.outputs.monitor_baseline, &baseline)
        .map_err(|e| Error::io(&baseline, e))?;
    let mut leftovers = vec![
        report.outputs.model.clone(),
        report.outputs.train.clone(),
        report.outputs.test.clone(),
    ];
    leftovers.extend(report.outputs.validation.clone());
    for f in leftovers {
        // A streaming run's splits are folders of shards (none on several hosts).
        if !f.exists() {
            continue;
        }
        let removed = if f.is_dir() {
            std::fs::remove_dir_all(&f)
        } else {
            std::fs::remove_file(&f)
        };
        removed.map_err(|e| Error::io(&f, e))?;
    }
    if let Some(v) = &report.validation_metrics {
        for line in metric_lines("validation", v) {
            println!("{line}");
        }
    }
    for line in metric_lines("test", &report.metrics) {
        println!("{line}");
    }
    println!(
        "model written to {} ({} rounds, {} features); evaluation in {}",
        model_dir.display(),
        report.rounds,
        report.n_features,
        config.out_dir.display()
    );
    Ok(())
}

/// Write why the job failed where SageMaker reads it (`<root>/output/failure`; the first
/// [`MAX_FAILURE_CHARS`] characters, which SageMaker keeps as the job's FailureReason), when
/// the root exists. Never through a symbolic link: a link at `output/failure`, or an
/// `output` folder that leads out of the root, is left alone. A failure to write it is
/// printed, not raised: the job fails either way.
pub fn write_failure(root: &MlRoot, error: &Error) {
    let path = root.failure_file();
    // The clipped reason and its "… (N more bytes)" fit in MAX_FAILURE_CHARS.
    let text = clip(&error.to_string(), MAX_FAILURE_CHARS - 40);
    // Outside a container (no /opt/ml at all), nothing is created: the error is on stderr.
    if !root.root.is_dir() {
        return;
    }
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            check_inside(root, path.parent().unwrap_or(&root.root))
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .and_then(|()| {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
            options.open(&path)?.write_all(text.as_bytes())
        });
    if let Err(e) = written {
        eprintln!("could not write {}: {e}", path.display());
    }
}

/// `purchase-predict train`: [`train`] under [`MlRoot::from_env`], with the failure written
/// on error (the binary then exits 1).
pub fn train_command(progress: &mut dyn Progress) -> Result<()> {
    let root = MlRoot::from_env();
    train(&root, progress)
        .map(|_| ())
        .inspect_err(|e| write_failure(&root, e))
}
