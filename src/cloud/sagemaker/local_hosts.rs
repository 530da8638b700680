//! A job of our image on several instances, run on this machine: one `purchase-predict train`
//! process per host, each with the container layout SageMaker gives that host (its own
//! `/opt/ml` root: the job's configuration, `resourceconfig.json` naming every host and this
//! one, and this host's objects of the `ShardedByS3Key` channel), meeting on loopback. It is
//! exactly the multi-instance path of the image ([`crate::app::sagemaker_job::train_on_hosts`]):
//! `run --workers N` and a local [`crate::cloud::estimator::Estimator`] with
//! `instance_count(N)` both run it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cluster::{FIRST_HOST_ENV, HEARTBEAT_TIMEOUT};
use super::container::{parse_metric_line, MlRoot, ROOT_ENV, TRAIN_CHANNEL};
use crate::error::{Error, Result};
use crate::util::progress::Progress;

/// What the hosts left: the first host's layout (its model and evaluation) and the metrics it
/// printed.
#[derive(Debug, Clone)]
pub struct HostsRun {
    /// The first host's root: `model/`, `output/data/evaluation/`.
    pub first: MlRoot,
    /// The metrics the first host printed (`validation:auc`, …).
    pub final_metrics: BTreeMap<String, f64>,
    /// Every host's log (stdout and stderr), in the hosts' order.
    pub logs: Vec<PathBuf>,
}

/// Training threads of each of `n` hosts sharing this machine: its cores divided among them
/// (at least one), for the `nthread` hyperparameter when the user set none.
pub fn threads_per_host(n: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    (cores / n.max(1)).max(1)
}

/// The names SageMaker gives the hosts of an `n`-instance job.
pub fn host_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("algo-{i}")).collect()
}

/// Run `binary train` as host `k` of `shards.len()`, with `shards[k]` in its `train` channel
/// (content type `content_type`), the job's `hyperparameters`, its layout under
/// `scratch/algo-<k+1>`; wait for every host. A failure names each failed host and its
/// reason (its failure file).
pub fn run_local_hosts(
    binary: &Path,
    scratch: &Path,
    hyperparameters: &BTreeMap<String, String>,
    shards: &[Vec<PathBuf>],
    content_type: &str,
    progress: &mut dyn Progress,
) -> Result<HostsRun> {
    let names = host_names(shards.len());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Collective(format!("no free loopback port: {e}")))?
        .port();
    let mut roots = Vec::new();
    let mut children: Vec<Option<Child>> = Vec::new();
    let mut logs = Vec::new();
    for (name, files) in names.iter().zip(shards) {
        let root = MlRoot::new(scratch.join(name));
        root.write_training_job(hyperparameters, &[(TRAIN_CHANNEL, files, content_type)])?;
        root.set_hosts(&names, name)?;
        let log = scratch.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
        let err = out.try_clone().map_err(|e| Error::io(&log, e))?;
        let child = Command::new(binary)
            .arg("train")
            .env(ROOT_ENV, &root.root)
            .env(FIRST_HOST_ENV, format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error::io(binary, e))?;
        children.push(Some(child));
        roots.push(root);
        logs.push(log);
    }
    let n = children.len();
    progress.start(&format!("training on {n} hosts (loopback)"), n as u64);
    let mut statuses = vec![None; n];
    let mut first_failure: Option<Instant> = None;
    // After a host fails, the others fail within the heartbeat timeout; past it (and a
    // margin), they are stopped here.
    let grace = HEARTBEAT_TIMEOUT + Duration::from_secs(30);
    while statuses.iter().any(Option::is_none) {
        for (k, slot) in children.iter_mut().enumerate() {
            let Some(child) = slot else { continue };
            if let Some(status) = child.try_wait().map_err(|e| Error::io(binary, e))? {
                if !status.success() && first_failure.is_none() {
                    first_failure = Some(Instant::now());
                }
                statuses[k] = Some(status);
                *slot = None;
                let done = statuses.iter().filter(|s| s.is_some()).count();
                progress.update(done as u64, &format!("{} finished ({status})", names[k]));
            }
        }
        if first_failure.is_some_and(|t| t.elapsed() > grace) {
            for child in children.iter_mut().flatten() {
                let _ = child.kill();
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let failed: Vec<String> = statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_some_and(|s| s.success()))
        .map(|(k, s)| {
            let reason = std::fs::read_to_string(roots[k].failure_file())
                .ok()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| {
                    format!(
                        "{} (no failure file; see {})",
                        s.map_or("stopped".into(), |s| s.to_string()),
                        logs[k].display()
                    )
                });
            format!("{}: {}", names[k], reason.trim())
        })
        .collect();
    if !failed.is_empty() {
        progress.finish("failed");
        return Err(Error::JobFailed {
            kind: "training job".into(),
            name: format!("{n} local hosts"),
            status: "Failed".into(),
            reason: failed.join("; "),
        });
    }
    let text = std::fs::read_to_string(&logs[0]).map_err(|e| Error::io(&logs[0], e))?;
    let final_metrics = text.lines().filter_map(parse_metric_line).collect();
    progress.finish(&format!("{n} hosts done"));
    Ok(HostsRun {
        first: roots.swap_remove(0),
        final_metrics,
        logs,
    })
}
