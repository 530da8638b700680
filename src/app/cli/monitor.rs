//! `purchase-predict monitor …`: a deployed model's baseline, drift checks and quality.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::monitor::{Baseline, BaselineSettings};
use crate::util::staging::StagedDir;

/// What `monitor` does.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Write a model's baseline from its training table: statistics.json and
    /// constraints.json (SageMaker Model Monitor's formats), reference.parquet (the raw
    /// columns and the model's scores) and baseline.json.
    Baseline(BaselineArgs),
    /// Check a table, or a capture folder, against a baseline: constraint_violations.json
    /// (Model Monitor's checks), statistics.json of today's rows, and drift.json (each
    /// column's drift, the scores' drift, each column's mean |SHAP| then and now).
    Check(CheckArgs),
}

/// Options of `monitor check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The baseline folder (`monitor baseline`, or `baseline/` beside a model `run` wrote).
    #[arg(long)]
    pub baseline: PathBuf,
    /// Today's customers: a table (CSV or Parquet) or a capture folder (`serve --capture`,
    /// SageMaker's data capture).
    #[arg(long)]
    pub data: PathBuf,
    /// The folder to write the results to (swapped in whole).
    #[arg(long)]
    pub out: PathBuf,
    /// The baseline's model, when it is not where the baseline says.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Options of `monitor baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The model.tar.gz to watch.
    #[arg(long)]
    pub model: PathBuf,
    /// The table it was trained on (CSV or Parquet; the target and other columns are ignored).
    #[arg(long)]
    pub data: PathBuf,
    /// The baseline folder to write (swapped in whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Reference rows kept for the drift tests (a seeded sample above).
    #[arg(long, default_value_t = 100_000)]
    pub sample_rows: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Run a `monitor` command.
pub fn monitor_command(command: &MonitorCommand) -> Result<()> {
    crate::util::staging::remove_on_signal();
    match command {
        MonitorCommand::Baseline(args) => {
            let settings = BaselineSettings {
                sample_rows: args.sample_rows,
                seed: args.seed,
                ..Default::default()
            };
            let baseline = Baseline::build(&args.model, &args.data, &settings)?;
            let staged = StagedDir::new(&args.out)?;
            staged.check_reads(
                &crate::monitor::baseline::BASELINE_FILES,
                &[("--model", &args.model), ("--data", &args.data)],
            )?;
            baseline.write(staged.path())?;
            staged.commit(&crate::monitor::baseline::BASELINE_FILES)?;
            let info = &baseline.info;
            println!(
                "baseline of {} on {} ({} rows{}; {} columns) written to {}",
                args.model.display(),
                args.data.display(),
                info.rows,
                if info.sampled {
                    format!(", a sample of {} kept", info.reference_rows)
                } else {
                    String::new()
                },
                info.columns.len(),
                args.out.display()
            );
            Ok(())
        }
        MonitorCommand::Check(args) => check_command(args),
    }
}

fn check_command(args: &CheckArgs) -> Result<()> {
    use crate::monitor::check::{Check, Current, CHECK_FILES};
    let baseline = Baseline::load(&args.baseline)?;
    let artifact = baseline.model(&args.baseline, args.model.as_deref())?;
    let (frame, scores, source) = if args.data.is_dir() {
        let names: Vec<String> = baseline
            .info
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let captured = crate::monitor::read_captures(&args.data, &names)?;
        if captured.without_columns > 0 {
            println!(
                "note: {} captured rows were preprocessed features (CSV, libsvm, RecordIO): \
                 they count in the scores' drift, not in the columns'",
                captured.without_columns
            );
        }
        let source = format!(
            "{} ({} files, {} requests)",
            args.data.display(),
            captured.files,
            captured.requests
        );
        let scores = captured.all_scores();
        (captured.frame, Some(scores), source)
    } else {
        let table = crate::data::read_table(&args.data, None)?;
        (table, None, args.data.display().to_string())
    };
    let check = Check::run(
        &baseline,
        Some(&artifact),
        &Current {
            source,
            frame: &frame,
            scores,
            ignore: Vec::new(),
        },
    )?;
    let staged = StagedDir::new(&args.out)?;
    staged.check_reads(
        &CHECK_FILES,
        &[("--baseline", &args.baseline), ("--data", &args.data)],
    )?;
    check.write(staged.path())?;
    staged.commit(&CHECK_FILES)?;
    let d = &check.drift;
    println!(
        "checked {} rows of {} against the baseline's {}: {} violations",
        d.rows,
        d.source,
        d.reference_rows,
        check.violations.violations.len()
    );
    if d.drifted.is_empty() {
        println!("drifted columns: none");
    } else {
        let listed: Vec<String> = d
            .drifted
            .iter()
            .filter_map(|n| d.columns.iter().find(|c| &c.name == n))
            .map(|c| format!("{} ({:.3})", c.name, c.distance))
            .collect();
        println!("drifted columns: {}", listed.join(", "));
    }
    if let Some(s) = &d.scores {
        println!(
            "scores: mean {:.4} then, {:.4} now; predicted buyers {:.1} % then, {:.1} % now{}",
            s.mean.0,
            s.mean.1,
            100.0 * s.positive_rate.0,
            100.0 * s.positive_rate.1,
            if s.drifted { " (drifted)" } else { "" }
        );
    }
    for note in &d.notes {
        println!("note: {note}");
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
