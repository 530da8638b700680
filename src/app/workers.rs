//! `run --workers N`: the run of our image on N SageMaker instances, on this machine. The table
//! is written as N shards by a stable hash of each row's position
//! ([`crate::data::shard::shard_table`], as `Session::upload_shards` writes a channel for
//! `ShardedByS3Key`), and N `purchase-predict train` processes run the image's multi-instance
//! path on loopback ([`crate::cloud::sagemaker::local_hosts`]): each host reads its shard,
//! the preprocessor is fitted from every host's merged statistics, libxgboost's collective
//! trains one model across them, and the first host evaluates and writes. Its outputs land
//! where `run` puts them: `model.tar.gz`, `metrics.json`, `report.html`, `baseline/`.
//!
//! With an id column, a row's split depends on its id alone, so the hosts split exactly as
//! `run --streaming` does and their test metrics are comparable; without one, each host
//! splits its own rows by their position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::pipeline::RunConfig;
use crate::cloud::sagemaker::container::{entry_point, TableFormat, EVALUATION_FOLDER};
use crate::cloud::sagemaker::local_hosts::{run_local_hosts, threads_per_host, HostsRun};
use crate::error::{Error, Result, Valid};
use crate::util::progress::Progress;

/// The most workers `run --workers` starts (SageMaker's own limit on a job's instances is 100).
pub const MAX_WORKERS: usize = 64;

/// What `run --workers` left in the output folder.
#[derive(Debug, Clone)]
pub struct WorkersReport {
    pub workers: usize,
    /// The metrics the first host printed (`test:auc`, `validation:auc`, …).
    pub final_metrics: BTreeMap<String, f64>,
    pub model: PathBuf,
    pub metrics: PathBuf,
    pub report: PathBuf,
    pub baseline: PathBuf,
    pub seconds: f64,
}

/// The binary the hosts run: this one when it is `purchase-predict`, else the image's entry
/// point ([`entry_point`]: `PURCHASE_PREDICT_BIN`, or `purchase-predict` on `PATH`).
fn binary() -> Result<PathBuf> {
    match std::env::current_exe() {
        Ok(exe)
            if exe
                .file_stem()
                .is_some_and(|s| s.to_string_lossy() == "purchase-predict") =>
        {
            Ok(exe)
        }
        _ => entry_point(),
    }
}

fn replace(from: &Path, to: &Path) -> Result<()> {
    if to.is_dir() {
        std::fs::remove_dir_all(to).map_err(|e| Error::io(to, e))?;
    }
    std::fs::rename(from, to).map_err(|e| Error::io(to, e))
}

/// Run `config` on `workers` processes (2 to [`MAX_WORKERS`]); see the [module](self).
/// Training threads are the machine's cores shared among the workers unless `nthread` is set.
pub fn run_workers(
    config: &Valid<RunConfig>,
    workers: usize,
    progress: &mut dyn Progress,
) -> Result<WorkersReport> {
    if !(2..=MAX_WORKERS).contains(&workers) {
        return Err(Error::InvalidSetting {
            name: "workers".into(),
            reason: format!("{workers}: between 2 and {MAX_WORKERS} (one process is `run`)"),
        });
    }
    let started = std::time::Instant::now();
    let out = &config.out_dir;
    let scratch = out.join(".workers");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
    }
    std::fs::create_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
    progress.start(&format!("writing the table as {workers} shards"), 0);
    let shards =
        crate::data::shard::shard_table(&config.data, &scratch.join("table"), workers, true)?;
    progress.finish(&format!("{workers} shards"));

    let mut hp = config.settings.to_hyperparameters();
    let mut xgb = config.hyperparameters.to_sagemaker();
    if config.hyperparameters.nthread.is_none() {
        xgb.insert("nthread".into(), threads_per_host(workers).to_string());
    }
    hp.extend(xgb);
    let format = TableFormat::from_path(&config.data.to_string_lossy());
    let per_host: Vec<Vec<PathBuf>> = shards.into_iter().map(|s| vec![s]).collect();
    let HostsRun {
        first,
        final_metrics,
        ..
    } = run_local_hosts(
        &binary()?,
        &scratch,
        &hp,
        &per_host,
        format.content_type(),
        progress,
    )?;

    let model = out.join("model.tar.gz");
    let staged = scratch.join("model.tar.gz");
    crate::model::artifact::pack(first.model_dir(), &staged)?;
    std::fs::rename(&staged, &model).map_err(|e| Error::io(&model, e))?;
    let evaluation = first.output_data_dir().join(EVALUATION_FOLDER);
    let metrics = out.join("metrics.json");
    let report = out.join("report.html");
    for (name, to) in [("metrics.json", &metrics), ("report.html", &report)] {
        std::fs::rename(evaluation.join(name), to).map_err(|e| Error::io(to, e))?;
    }
    let baseline = out.join("baseline");
    replace(&first.model_dir().join("baseline"), &baseline)?;
    std::fs::remove_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
    Ok(WorkersReport {
        workers,
        final_metrics,
        model,
        metrics,
        report,
        baseline,
        seconds: started.elapsed().as_secs_f64(),
    })
}
