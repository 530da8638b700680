//! `run --streaming`: the pipeline of [`run`](super::pipeline::run) for a table larger than
//! memory, which it never holds whole.
//!
//! 1. **Statistics** (first read): the table in batches ([`TableBatches`]: CSV blocks of
//!    16 MiB, Parquet row groups); each row's split from a stable hash of its id, or of its
//!    row's index ([`HashSplit`]); the training rows' [`FitStatistics`] (mergeable: counts,
//!    means and deviations, level counts, a quantile sketch for the medians); the classes'
//!    counts; a seeded sample of 100,000 rows for the monitoring baseline.
//! 2. **Write** (second read): each batch through the fitted [`Preprocessor`]; each split's
//!    rows as SageMaker CSV shards (`train/part-00000.csv`, …) and as a binary spill beside
//!    them; a seeded sample of at most [`BASELINE_MAX_ROWS`] training rows for the logistic
//!    baseline; the first test rows the report explains.
//! 3. **Train** on a quantised matrix ([`DMatrix::quantised`], about one byte per value) fed
//!    from the training spill in batches, evaluating after each round on the validation split
//!    (a seeded sample of [`EVAL_MAX_ROWS`] when larger) for early stopping.
//! 4. **Score** validation and test in batches, then evaluate, save and write the monitoring
//!    baseline as `run` does: the same `model.tar.gz`, `metrics.json` (with a `preparation`
//!    note and the baseline's sample), `report.html` and `baseline/`.
//!
//! Memory: a batch or two, the quantised training matrix and libxgboost's per-row training
//! state (gradients, predictions, row sets), the scores and labels of validation and test.
//! Disk, in the output's staging folder: the shards and the spills (4 bytes a value).
//! Ctrl-C or an error leaves the previous run's files, as `run` does.
//!
//! **On several hosts** (our image on several SageMaker instances, `run --workers`), every
//! host runs these steps on its own files, and the hosts exchange what the
//! `gather` module lists (the statistics after the first read, the baseline's sample after
//! the second, the scores at the end) while libxgboost's collective trains one model across
//! them; the first host alone evaluates and writes. One process runs the same code with
//! [`Alone`], where every exchange returns its input.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

mod gather;

pub use gather::EVALUATED_MAX_ROWS;

use super::pipeline::{conclude, RunConfig, RunOutputs, RunReport, Scored};
use crate::data::batches::{Batch, TableBatches};
use crate::data::spill::{ShardWriter, Spill, SpillWriter, SPILL_BATCH_ROWS};
use crate::data::split::{key_hashes, HashSplit, Part};
use crate::data::FeatureMatrix;
use crate::error::{Error, IntoValid, Result, Valid};
use crate::evaluate::{BaselineSample, HostsNote, StreamingNote, EXPLAINED_ROWS};
use crate::model::baseline::{Baseline, BaselineParams, BASELINE_MAX_ROWS};
use crate::model::train::{labeled_dmatrix, train_matrices};
use crate::model::xgboost::collective::{Alone, Peers};
use crate::model::xgboost::DMatrix;
use crate::model::TreeMethod;
use crate::prep::{FitStatistics, PrepOptions, Preprocessor};
use crate::util::files::sha256_file;
use crate::util::progress::Progress;
use crate::util::random::{hash_u64, unit};
use crate::util::timing::Stages;

/// Whether `run` reads the table in batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Streaming {
    /// Stream a CSV file above [`AUTO_CSV_BYTES`] or a Parquet file above
    /// [`AUTO_PARQUET_BYTES`]; hold smaller tables whole (the default).
    #[default]
    Auto,
    /// Always stream (`run --streaming`).
    Always,
    /// Never stream (`run --in-memory`).
    Never,
}

/// CSV files above this size (1 GiB, about 13 million rows of the demo table) stream
/// under [`Streaming::Auto`]: held whole they would take about 8 GB.
pub const AUTO_CSV_BYTES: u64 = 1 << 30;
/// Parquet files above this size (256 MiB) stream under [`Streaming::Auto`]: compressed,
/// they hold about four times as many rows per byte as CSV.
pub const AUTO_PARQUET_BYTES: u64 = 256 << 20;

/// Bins of the quantised matrix (XGBoost's default `max_bin`).
const MAX_BIN: usize = 256;
/// Seeds of the samples, mixed with the split's seed.
const BASELINE_SAMPLE_SEED: u64 = 0xBA5E;
const REFERENCE_SAMPLE_SEED: u64 = 0x5EED;
/// Rows of the monitoring baseline's reference sample.
const REFERENCE_ROWS: usize = 100_000;

/// Whether `config` streams: its setting, and under `Auto` the file's size.
pub fn streams(config: &RunConfig) -> Result<bool> {
    Ok(match config.streaming {
        Streaming::Always => true,
        Streaming::Never => false,
        Streaming::Auto => {
            let meta = std::fs::metadata(&config.data).map_err(|e| Error::io(&config.data, e))?;
            let limit = if crate::data::is_parquet(&config.data) {
                AUTO_PARQUET_BYTES
            } else {
                AUTO_CSV_BYTES
            };
            meta.len() > limit
        }
    })
}

/// The split of each row of `batch`, whose first row's key (its index without an id) is
/// `key_first`.
fn parts_of(split: &HashSplit, batch: &Batch, key_first: usize) -> Result<Vec<Part>> {
    match &batch.ids {
        Some(ids) => split.parts_of_ids(ids, key_first),
        None => Ok(split.parts_of_rows(key_first, batch.len())),
    }
}

/// The files one process reads, and the key of its first row: 0 for a table read by one
/// process; on host `h` of several, `h << 40`, so that rows without an id get keys of their
/// own on every host.
struct Shard<'a> {
    files: &'a [PathBuf],
    key_base: usize,
}

impl Shard<'_> {
    /// Read every file in batches on a reading thread ([`read_ahead`]); `each` gets a batch,
    /// its file and the key of its first row. The rows read.
    fn read(
        &self,
        config: &Valid<RunConfig>,
        task: &str,
        progress: &mut dyn Progress,
        mut each: impl FnMut(Batch, &Path, usize) -> Result<()>,
    ) -> Result<usize> {
        let mut rows = 0;
        for (k, file) in self.files.iter().enumerate() {
            let batches = TableBatches::open(file, &config.settings.load, config.batch_bytes)?;
            let task = if self.files.len() > 1 {
                format!("{task}, file {} of {}", k + 1, self.files.len())
            } else {
                task.to_string()
            };
            let base = self.key_base + rows;
            rows += read_ahead(batches, &task, progress, |batch| {
                let key = base + batch.first_row;
                each(batch, file, key)
            })?;
        }
        Ok(rows)
    }
}

fn part_index(p: Part) -> usize {
    match p {
        Part::Train => 0,
        Part::Validation => 1,
        Part::Test => 2,
    }
}

/// A sample of rows kept by the smallest hashes of their keys: the same rows whatever the
/// batches, and at most `k`.
struct BottomK {
    k: usize,
    seed: u64,
    frame: Option<DataFrame>,
    hashes: Vec<u64>,
    threshold: u64,
}

impl BottomK {
    fn new(k: usize, seed: u64) -> Self {
        BottomK {
            k,
            seed,
            frame: None,
            hashes: Vec::new(),
            threshold: u64::MAX,
        }
    }

    fn offer(&mut self, batch: &Batch, key_first: usize) -> Result<()> {
        let hashes: Vec<u64> = match &batch.ids {
            Some(ids) => key_hashes(ids, key_first, self.seed)?,
            None => (0..batch.len())
                .map(|i| hash_u64((key_first + i) as u64, self.seed))
                .collect(),
        };
        let keep: Vec<usize> = (0..hashes.len())
            .filter(|&i| hashes[i] < self.threshold)
            .collect();
        if keep.is_empty() {
            return Ok(());
        }
        let rows = take(&batch.features, &keep)?;
        self.hashes.extend(keep.iter().map(|&i| hashes[i]));
        match &mut self.frame {
            Some(f) => {
                f.vstack_mut(&rows)
                    .map_err(|e| Error::polars("sampling rows", e))?;
            }
            None => self.frame = Some(rows),
        }
        if self.hashes.len() > 2 * self.k {
            self.compact()?;
        }
        Ok(())
    }

    fn compact(&mut self) -> Result<()> {
        let Some(frame) = &self.frame else {
            return Ok(());
        };
        let mut order: Vec<usize> = (0..self.hashes.len()).collect();
        order.sort_unstable_by_key(|&i| self.hashes[i]);
        order.truncate(self.k);
        if order.len() == self.k {
            self.threshold = self.hashes[*order.last().expect("k ≥ 1")];
        }
        order.sort_unstable();
        self.hashes = order.iter().map(|&i| self.hashes[i]).collect();
        let mut kept = take(frame, &order)?;
        kept.rechunk_mut();
        self.frame = Some(kept);
        Ok(())
    }

    fn finish(mut self) -> Result<DataFrame> {
        self.compact()?;
        self.frame
            .ok_or_else(|| Error::Shape("no row was sampled".into()))
    }
}

fn take(df: &DataFrame, rows: &[usize]) -> Result<DataFrame> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&i| i as IdxSize).collect());
    df.take(&idx)
        .map_err(|e| Error::polars("selecting rows", e))
}

/// Read `batches` on a thread of their own, one batch ahead of `each`, so that parsing the
/// next batch overlaps the work on this one; progress by bytes (CSV) or row groups (Parquet).
/// The rows read.
fn read_ahead(
    mut batches: TableBatches,
    task: &str,
    progress: &mut dyn Progress,
    mut each: impl FnMut(Batch) -> Result<()>,
) -> Result<usize> {
    let (_, total) = batches.progress();
    progress.start(task, total);
    let (rows, n) = std::thread::scope(|scope| -> Result<(usize, usize)> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Batch, u64, usize)>>(1);
        let reader = scope.spawn(move || {
            loop {
                let next = batches
                    .next_batch()
                    .map(|b| b.map(|b| (b, batches.progress().0, batches.rows_read())));
                let end = !matches!(next, Ok(Some(_)));
                // A closed channel: the work stopped on an error of its own.
                if let Some(item) = next.transpose() {
                    if tx.send(item).is_err() {
                        break;
                    }
                }
                if end {
                    break;
                }
            }
            batches.rows_read()
        });
        let mut n = 0;
        for item in rx {
            let (batch, done, rows) = item?;
            each(batch)?;
            n += 1;
            progress.update(done, &format!("{rows} rows"));
        }
        let rows = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((rows, n))
    })?;
    progress.finish(&format!("{rows} rows in {n} batches"));
    Ok(rows)
}

/// An error in `batch`, naming its rows.
fn in_batch(path: &Path, batch: &Batch, e: Error) -> Error {
    crate::data::batches::in_batch(path, batch.first_row, batch.len(), e)
}

/// What the first read found.
struct Statistics {
    preprocessor: Preprocessor,
    median_rank_error: f64,
    /// Rows per split and class.
    counts: [[usize; 2]; 3],
    rows: usize,
    n_input_columns: usize,
    batches: usize,
    reference: DataFrame,
    /// Rows this process read (of `rows` over every host).
    own_rows: usize,
}

fn first_read(
    config: &Valid<RunConfig>,
    shard: &Shard,
    peers: &dyn Peers,
    progress: &mut dyn Progress,
) -> Result<Statistics> {
    let s = &config.settings;
    let split = HashSplit::new(&s.split)?;
    let options = PrepOptions {
        numeric: s.load.numeric.clone(),
        categorical: s.load.categorical.clone(),
    };
    let mut stats: Option<FitStatistics> = None;
    let mut counts = [[0usize; 2]; 3];
    let mut reference = BottomK::new(REFERENCE_ROWS, s.split.seed ^ REFERENCE_SAMPLE_SEED);
    let mut n_batches = 0;
    let mut n_input_columns = 0;
    let own_rows = shard.read(
        config,
        "reading the table (1 of 2: statistics)",
        progress,
        |batch, path, key| {
            let parts = parts_of(&split, &batch, key).map_err(|e| in_batch(path, &batch, e))?;
            let train: Vec<usize> = (0..batch.len())
                .filter(|&i| parts[i] == Part::Train)
                .collect();
            for (p, &l) in parts.iter().zip(&batch.labels) {
                counts[part_index(*p)][usize::from(l)] += 1;
            }
            let stats = match &mut stats {
                Some(s) => s,
                None => {
                    n_input_columns = batch.features.width();
                    stats.insert(FitStatistics::new(&batch.features, &options)?)
                }
            };
            stats
                .observe(&batch.features, Some(&train))
                .map_err(|e| in_batch(path, &batch, e))?;
            reference.offer(&batch, key)?;
            n_batches += 1;
            Ok(())
        },
    )?;
    // Every host's counts and statistics (one process: its own).
    let mut own: Vec<u64> = counts.iter().flatten().map(|&c| c as u64).collect();
    own.extend([own_rows as u64, n_batches as u64]);
    let total = peers.sum_u64(&own)?;
    for (k, c) in counts.iter_mut().flatten().enumerate() {
        *c = total[k] as usize;
    }
    let (rows, n_batches) = (total[6] as usize, total[7] as usize);
    let stats = gather::statistics(peers, stats.expect("a table with rows has a first batch"))?;
    let reference = gather::reference(peers, reference)?;
    let ones: usize = counts.iter().map(|c| c[1]).sum();
    if ones == 0 || ones == rows {
        return Err(Error::SingleClass {
            target: s.load.target.clone(),
            class: u8::from(ones > 0),
            rows,
        });
    }
    for (part, name) in [(0, "training"), (2, "test")]
        .into_iter()
        .chain((s.split.validation_share > 0.0).then_some((1, "validation")))
    {
        if let Some(class) = (0..2).find(|&c| counts[part][c] == 0) {
            return Err(Error::Split(format!(
                "the {name} split has no row of class {class} ({rows} rows): too few for a \
                 {:.0} % test share and a {:.0} % validation share",
                100.0 * s.split.test_share,
                100.0 * s.split.validation_share
            )));
        }
    }
    Ok(Statistics {
        preprocessor: stats.preprocessor()?,
        median_rank_error: stats.median_rank_error(),
        counts,
        rows,
        n_input_columns,
        batches: n_batches,
        reference,
        own_rows,
    })
}

/// What the second read wrote and kept.
struct Written {
    spills: [Option<Spill>; 3],
    baseline_x: FeatureMatrix,
    baseline_y: Vec<u8>,
    x_explain: FeatureMatrix,
    shards: usize,
}

fn second_read(
    config: &Valid<RunConfig>,
    shard: &Shard,
    peers: &dyn Peers,
    stats: &Statistics,
    outputs: &RunOutputs,
    spill_dir: &Path,
    progress: &mut dyn Progress,
) -> Result<Written> {
    let s = &config.settings;
    let split = HashSplit::new(&s.split)?;
    let pre = &stats.preprocessor;
    let ncols = pre.feature_names.len();
    let names = pre.feature_names.clone();
    let n_train = stats.counts[0][0] + stats.counts[0][1];
    let baseline_rate = (BASELINE_MAX_ROWS as f64 / n_train.max(1) as f64).min(1.0);
    let baseline_seed = s.split.seed ^ BASELINE_SAMPLE_SEED;
    let dirs: [Option<&PathBuf>; 3] = [
        Some(&outputs.train),
        outputs.validation.as_ref(),
        Some(&outputs.test),
    ];
    // On several hosts the split files would stay on each host's disk, unused (the image
    // removes them): none are written.
    let mut shards: Vec<Option<ShardWriter>> = dirs
        .iter()
        .map(|d| {
            d.filter(|_| peers.count() == 1)
                .map(|d| ShardWriter::create(d))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let mut spills: Vec<Option<SpillWriter>> = ["train", "validation", "test"]
        .iter()
        .zip(&dirs)
        .map(|(name, d)| {
            d.map(|_| SpillWriter::create(&spill_dir.join(name), ncols))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let mut baseline_x = Vec::new();
    let mut baseline_y = Vec::new();
    let mut explain = Vec::new();
    let mut explained = 0;
    shard.read(
        config,
        "reading the table (2 of 2: splits)",
        progress,
        |batch, path, key_first| {
            let parts =
                parts_of(&split, &batch, key_first).map_err(|e| in_batch(path, &batch, e))?;
            let x = pre
                .transform(&batch.features)
                .map_err(|e| in_batch(path, &batch, e))?;
            let mut rows: [Vec<usize>; 3] = Default::default();
            for (i, p) in parts.iter().enumerate() {
                rows[part_index(*p)].push(i);
            }
            for k in 0..3 {
                if rows[k].is_empty() {
                    continue;
                }
                let Some(spill) = &mut spills[k] else {
                    continue;
                };
                spill.append(&x, &batch.labels, &rows[k])?;
                if let Some(shard) = &mut shards[k] {
                    shard.append(&x, &batch.labels, &rows[k])?;
                }
            }
            for &i in &rows[0] {
                let key = hash_u64((key_first + i) as u64, baseline_seed);
                if baseline_rate >= 1.0 || unit(key) < baseline_rate {
                    baseline_x.extend_from_slice(x.row(i));
                    baseline_y.push(batch.labels[i]);
                }
            }
            for &i in rows[2].iter().take(EXPLAINED_ROWS - explained) {
                explain.extend_from_slice(x.row(i));
                explained += 1;
            }
            Ok(())
        },
    )?;
    let mut n_shards = 0;
    for s in shards.into_iter().flatten() {
        n_shards = n_shards.max(s.finish()?.len());
    }
    let mut finished: [Option<Spill>; 3] = Default::default();
    for (k, w) in spills.into_iter().enumerate() {
        finished[k] = w.map(|w| w.finish(names.clone())).transpose()?;
    }
    // Every host fits the same baseline on every host's sample.
    let (baseline_x, baseline_y) = gather::rows(peers, baseline_x, baseline_y)?;
    Ok(Written {
        spills: finished,
        baseline_x: FeatureMatrix {
            names: names.clone(),
            nrows: baseline_y.len(),
            values: baseline_x,
        },
        baseline_y,
        x_explain: FeatureMatrix {
            names,
            nrows: explained,
            values: explain,
        },
        shards: n_shards,
    })
}

/// The validation rows libxgboost evaluates after every round (early stopping, the history):
/// all of them up to [`EVAL_MAX_ROWS`], else a seeded sample of that many. A plain matrix,
/// not a quantised one: libxgboost 1.7.4 predicts a quantised matrix with every tree again
/// each round (its prediction cache misses), which doubled a 3-million-row run's training.
/// On several hosts, each evaluates its own rows of a sample of that many over all of them
/// (`total`); `key_base` makes this host's rows' keys its own.
fn evaluation_matrix(spill: &Spill, seed: u64, total: usize, key_base: u64) -> Result<DMatrix> {
    let rate = (EVAL_MAX_ROWS as f64 / total.max(1) as f64).min(1.0);
    let seed = seed ^ EVAL_SAMPLE_SEED;
    let mut values = Vec::new();
    let mut labels = Vec::new();
    let mut row = key_base;
    spill.for_each_batch(|x, y| {
        for (i, &label) in y.iter().enumerate() {
            if rate >= 1.0 || unit(hash_u64(row + i as u64, seed)) < rate {
                values.extend_from_slice(x.row(i));
                labels.push(label);
            }
        }
        row += y.len() as u64;
        Ok(())
    })?;
    let x = FeatureMatrix {
        names: spill.names().to_vec(),
        nrows: labels.len(),
        values,
    };
    labeled_dmatrix(&x, &labels)
}

/// Validation rows evaluated after every round at most (a seeded sample above): the ROC AUC
/// of 250,000 rows has a standard error near 0.001, enough to stop early on, and their matrix
/// stays about 60 MB inside libxgboost.
pub const EVAL_MAX_ROWS: usize = 250_000;

/// Hand the heap memory freed by the reads back to the system before training, the stage
/// whose peak is the run's: glibc keeps freed blocks of the batches (its mmap threshold grows
/// to 32 MB as large blocks are freed) resident otherwise.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
const EVAL_SAMPLE_SEED: u64 = 0xE7A1;

/// Scores and labels of a spilled split, batch by batch.
fn score(
    spill: &Spill,
    each: &mut dyn FnMut(&FeatureMatrix) -> Result<Vec<f32>>,
) -> Result<(Vec<u8>, Vec<f32>)> {
    let mut labels = Vec::with_capacity(spill.rows());
    let mut scores = Vec::with_capacity(spill.rows());
    spill.for_each_batch(|x, y| {
        labels.extend_from_slice(y);
        scores.extend(each(x)?);
        Ok(())
    })?;
    Ok((labels, scores))
}

/// The streaming pipeline, in the staging folder `config.out_dir` (see the [module](self)).
pub(crate) fn run_streaming_in(
    config: &Valid<RunConfig>,
    progress: &mut dyn Progress,
) -> Result<RunReport> {
    let files = [config.data.clone()];
    run_on_hosts(config, &files, &Alone, progress)
        .map(|report| report.expect("one process concludes"))
}

/// The checksum of what the job read: the file's, or on several hosts the SHA-256 of every
/// file's name and checksum, one per line, in the hosts' order.
fn checksum(files: &[PathBuf], shas: Vec<String>, peers: &dyn Peers) -> Result<String> {
    if files.len() == 1 && peers.count() == 1 {
        return Ok(shas.into_iter().next().expect("one file"));
    }
    let mut lines = String::new();
    for (f, sha) in files.iter().zip(shas) {
        let name = f
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        lines.push_str(&format!("{name} {sha}\n"));
    }
    let all: Vec<u8> = peers.all_gather(lines.as_bytes())?.concat();
    Ok(crate::util::files::sha256_bytes(&all))
}

/// The streaming pipeline on `files`, this process one of `peers` (see the [module](self)):
/// every host reads its own files and trains on its own rows, libxgboost reducing across
/// hosts, and the hosts exchange what [`gather`] lists. The first host (index 0) evaluates
/// and writes the outputs in `config.out_dir` and returns the report; the others return
/// `None` and leave nothing there but the empty folder.
pub(crate) fn run_on_hosts(
    config: &Valid<RunConfig>,
    files: &[PathBuf],
    peers: &dyn Peers,
    progress: &mut dyn Progress,
) -> Result<Option<RunReport>> {
    let started = Instant::now();
    let s = &config.settings;
    let hp = &config.hyperparameters;
    if hp.tree_method != TreeMethod::Hist {
        return Err(Error::InvalidSetting {
            name: "tree_method".into(),
            reason: "a streaming run trains on a quantised matrix, which needs tree_method=hist"
                .into(),
        });
    }
    let shard = Shard {
        files,
        key_base: if peers.count() > 1 {
            peers.index() << 40
        } else {
            0
        },
    };
    let key_base = shard.key_base as u64;
    let mut stages = Stages::start();
    let (stats, shas) = std::thread::scope(|scope| -> Result<(Statistics, Vec<String>)> {
        // The files' checksums (for the manifest) beside the first read.
        let sha =
            scope.spawn(|| -> Result<Vec<String>> { files.iter().map(sha256_file).collect() });
        let stats = first_read(config, &shard, peers, progress)?;
        let shas = sha
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((stats, shas))
    })?;
    let sha256 = checksum(files, shas, peers)?;
    stages.lap("statistics");

    let out = &config.out_dir;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let n_val = stats.counts[1][0] + stats.counts[1][1];
    let n_test = stats.counts[2][0] + stats.counts[2][1];
    let with_validation = n_val > 0;
    // The splits as folders of shards.
    let outputs = RunOutputs::in_dir(out, "", with_validation);
    let spill_dir = out.join(".spill");
    std::fs::create_dir_all(&spill_dir).map_err(|e| Error::io(&spill_dir, e))?;
    let written = second_read(
        config, &shard, peers, &stats, &outputs, &spill_dir, progress,
    )?;
    stages.lap("write");
    let [Some(train_spill), val_spill, Some(test_spill)] = written.spills else {
        unreachable!("training and test spills are always written")
    };

    let t_train = Instant::now();
    let eval_rows;
    let model = {
        let threads = hp.threads();
        // The small validation matrix first, so that its transient copy is gone before the
        // large one is built; then the memory the two reads freed goes back to the system.
        let dval = match &val_spill {
            Some(v) if with_validation => {
                Some(evaluation_matrix(v, s.split.seed, n_val, key_base)?)
            }
            _ => None,
        };
        release_free_memory();
        let mut train_rows = train_spill.reader(SPILL_BATCH_ROWS)?;
        let dtrain = DMatrix::quantised(&mut train_rows, None, MAX_BIN, threads)?;
        let own_eval = dval.as_ref().map_or(0, DMatrix::nrow) as u64;
        eval_rows = peers.sum_u64(&[own_eval])?[0] as usize;
        let names = stats.preprocessor.feature_names.clone();
        let hp = hp.clone().into_valid()?;
        train_matrices(
            &dtrain,
            dval.as_ref(),
            &names,
            &hp,
            progress,
            &mut |_, _| true,
        )?
        .model
    };
    train_spill.remove()?;
    stages.add("train", t_train.elapsed().as_secs_f64());

    let t_baseline = Instant::now();
    let baseline = if s.baseline {
        let fitted = Baseline::fit(
            &written.baseline_x,
            &written.baseline_y,
            &BaselineParams::default(),
        )?;
        let n_train = stats.counts[0][0] + stats.counts[0][1];
        let sample = (written.baseline_y.len() < n_train).then_some(BaselineSample {
            rows: written.baseline_y.len(),
            of_rows: n_train,
            seed: s.split.seed,
        });
        Some((fitted, sample))
    } else {
        None
    };
    stages.add("baseline", t_baseline.elapsed().as_secs_f64());

    let t_evaluate = Instant::now();
    let (y_val, val_scores) = match &val_spill {
        Some(v) => score(v, &mut |x| model.predict(x))?,
        None => (Vec::new(), Vec::new()),
    };
    let mut baseline_scores = Vec::new();
    let (y_test, scores) = score(&test_spill, &mut |x| {
        if let Some((b, _)) = &baseline {
            baseline_scores.extend(b.predict(x)?);
        }
        model.predict(x)
    })?;
    if let Some(v) = val_spill {
        v.remove()?;
    }
    test_spill.remove()?;
    std::fs::remove_dir(&spill_dir).map_err(|e| Error::io(&spill_dir, e))?;
    // The first host evaluates every host's scores.
    let seed = s.split.seed;
    let (y_val, val_scores, _) =
        gather::scores(peers, n_val, key_base, seed, y_val, val_scores, Vec::new())?;
    let (y_test, scores, baseline_scores) = gather::scores(
        peers,
        n_test,
        key_base,
        seed ^ 1,
        y_test,
        scores,
        baseline_scores,
    )?;
    let host_rows: Vec<usize> = peers
        .gather_u64(&[stats.own_rows as u64])?
        .concat()
        .into_iter()
        .map(|r| r as usize)
        .collect();
    stages.add("evaluate", t_evaluate.elapsed().as_secs_f64());
    if peers.index() != 0 {
        // Only the first host writes the job's outputs.
        return Ok(None);
    }
    let hosts = (peers.count() > 1).then(|| HostsNote {
        count: peers.count(),
        rows: host_rows,
        validation_rows_evaluated: y_val.len(),
        test_rows_evaluated: y_test.len(),
    });

    let positives: usize = stats.counts.iter().map(|c| c[1]).sum();
    let n_train = stats.counts[0][0] + stats.counts[0][1];
    conclude(
        config,
        Scored {
            path: config.data.clone(),
            sha256,
            target: s.load.target.clone(),
            rows: stats.rows,
            n_input_columns: stats.n_input_columns,
            positive_rate: positives as f64 / stats.rows as f64,
            preprocessor: stats.preprocessor,
            n_train,
            y_val,
            val_scores,
            y_test,
            scores,
            x_explain: written.x_explain,
            baseline: baseline.map(|(b, sample)| (b, baseline_scores, sample)),
            reference: stats.reference,
            reference_of_rows: Some(stats.rows),
            outputs,
            preparation: Some(StreamingNote {
                batches: stats.batches,
                split: "hash".into(),
                median_rank_error: stats.median_rank_error,
                shards: written.shards,
                validation_rows_per_round: eval_rows,
                hosts,
            }),
        },
        model,
        hp,
        None,
        stages,
        started,
    )
    .map(Some)
}
