//! Preprocessing and training, measured for `benches/stages.sh` (each mode runs in its own
//! process, so that its peak memory is its own):
//!
//! - `prep ours DATA TARGET ID OUT`: our preprocessing as `run` does it (`pipeline::prepare`:
//!   load, split, fit, transform, write the SageMaker train/validation/test CSVs), with the
//!   seconds of each stage and the process's peak memory.
//! - `prep floor DATA OURS OUT`: the I/O floor: polars reads the input (its defaults) and
//!   writes outputs of the same size (our own train/validation/test CSVs, read back untimed
//!   and written by polars' CSV writer), nothing else. Also the input's in-memory size, and
//!   what syncing the outputs to disk would add (ours does, the floor's time leaves it out).
//! - `prep train OURS THREADS ROUNDS`: XGBoost training on our train.csv (read untimed):
//!   DMatrix construction and `ROUNDS` rounds of the tutorial's hyperparameters with
//!   `tree_method=hist` on `THREADS` threads, timed as `run` trains.
//!
//! Each mode prints one JSON object on its last line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use purchase_predict::app::pipeline::{prepare, RunConfig};
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::train::train;
use purchase_predict::model::Hyperparameters;
use purchase_predict::util::progress::Silent;
use purchase_predict::util::timing::{peak_rss_bytes, Stages};

const SPLITS: [&str; 3] = ["train.csv", "validation.csv", "test.csv"];

fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e6 * 10.0).round() / 10.0
}

fn stages_json(s: &Stages) -> String {
    let parts: Vec<String> = s
        .stages
        .iter()
        .map(|st| format!("\"{}\": {:.4}", st.name, st.seconds))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn bytes_of(dir: &Path) -> u64 {
    SPLITS
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

fn ours(data: &str, target: &str, id: &str, out: &str) {
    let mut config = RunConfig::new(data, target, out);
    if !id.is_empty() {
        config.settings.load.id = Some(id.to_string());
    }
    let t = Instant::now();
    let p = prepare(&config).expect("prepare");
    let seconds = t.elapsed().as_secs_f64();
    let peak = peak_rss_bytes().unwrap_or(0);
    println!("ours: {}; peak memory {:.0} MB", p.stages.line(), mb(peak));
    println!(
        "{{\"seconds\": {seconds:.4}, \"stages\": {}, \"peak_rss_mb\": {}, \"rows\": {}, \"features\": {}, \"output_mb\": {}}}",
        stages_json(&p.stages),
        mb(peak),
        p.dataset.len(),
        p.preprocessor.feature_names.len(),
        mb(bytes_of(Path::new(out)))
    );
}

/// Resident memory of this process now (`VmRSS`).
fn current_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn floor(data: &str, ours_dir: &str, out: &str) {
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).expect("out dir");
    let rss_before = current_rss_bytes();
    let t = Instant::now();
    let input = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(data.into()))
        .expect("open input")
        .finish()
        .expect("read input");
    let read_seconds = t.elapsed().as_secs_f64();
    let input_mb = mb(input.estimated_size() as u64);
    // What holding the table costs this process, as the kernel counts it.
    let input_rss_mb = mb(current_rss_bytes().saturating_sub(rss_before));
    let mut write_seconds = 0.0;
    let mut fsync_seconds = 0.0;
    for f in SPLITS {
        let from = Path::new(ours_dir).join(f);
        if !from.exists() {
            continue;
        }
        // Our output, as the floor's payload (read untimed).
        let mut df = CsvReadOptions::default()
            .with_has_header(false)
            .try_into_reader_with_file_path(Some(from))
            .expect("open output")
            .finish()
            .expect("read output");
        let t = Instant::now();
        let mut file = std::fs::File::create(out.join(f)).expect("create");
        CsvWriter::new(&mut file)
            .include_header(false)
            .finish(&mut df)
            .expect("write");
        write_seconds += t.elapsed().as_secs_f64();
        // Not part of the floor; ours syncs each file before renaming it into place.
        let t = Instant::now();
        file.sync_all().expect("fsync");
        fsync_seconds += t.elapsed().as_secs_f64();
    }
    println!(
        "floor: read {read_seconds:.2} s, write {write_seconds:.2} s (then fsync {fsync_seconds:.2} s, not counted); input in memory {input_mb} MB (polars' estimate), {input_rss_mb} MB (resident memory it added)"
    );
    println!(
        "{{\"seconds\": {:.4}, \"read_seconds\": {read_seconds:.4}, \"write_seconds\": {write_seconds:.4}, \"fsync_seconds\": {fsync_seconds:.4}, \"input_memory_mb\": {input_mb}, \"input_rss_mb\": {input_rss_mb}, \"output_mb\": {}}}",
        read_seconds + write_seconds,
        mb(bytes_of(&out))
    );
}

fn train_bench(ours_dir: &str, threads: &str, rounds: &str) {
    let (x, y) = FeatureMatrix::read_sagemaker_csv(Path::new(ours_dir).join("train.csv"), None)
        .expect("train.csv");
    // The defaults are the tutorial's hyperparameters.
    let mut hp = Hyperparameters::default();
    hp.set("num_round", rounds).expect("num_round");
    hp.set("tree_method", "hist").expect("tree_method");
    hp.set("nthread", threads).expect("nthread");
    let t = Instant::now();
    let model = train(&x, &y, None, &hp, &mut Silent).expect("train");
    let seconds = t.elapsed().as_secs_f64();
    println!(
        "train: {} rounds on {} rows x {} features in {seconds:.2} s",
        model.rounds,
        x.nrows,
        x.ncols()
    );
    println!(
        "{{\"seconds\": {seconds:.4}, \"rows\": {}, \"features\": {}, \"rounds\": {}}}",
        x.nrows,
        x.ncols(),
        model.rounds
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match a(0) {
        "ours" => ours(a(1), a(2), a(3), a(4)),
        "floor" => floor(a(1), a(2), a(3)),
        "train" => train_bench(a(1), a(2), a(3)),
        _ => {
            eprintln!(
                "usage: prep ours DATA TARGET ID OUT | floor DATA OURS OUT | train OURS THREADS ROUNDS"
            );
            std::process::exit(2);
        }
    }
}
