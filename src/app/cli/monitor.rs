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
    /// Join delayed labels to the captured requests on their inference id and write
    /// quality.json: the metrics `evaluate` reports, at the deployed threshold, with the
    /// realised profit when the costs are known, overall and per day.
    Quality(QualityArgs),
}

/// Options of `monitor quality`.
#[derive(Debug, Args)]
pub struct QualityArgs {
    /// The capture folder (`serve --capture`, SageMaker's data capture).
    #[arg(long)]
    pub capture: PathBuf,
    /// The outcomes: a table with inference_id, label (and position, for requests of several
    /// customers), or Model Monitor's ground-truth JSON lines (a file or folder).
    #[arg(long)]
    pub labels: PathBuf,
    /// The folder to write quality.json to (swapped in whole).
    #[arg(long)]
    pub out: PathBuf,
    /// The model's baseline folder: the deployed threshold, and the costs the model was
    /// trained with.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The deployed threshold (default: the baseline's).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Cost of one call, for the realised profit (with --sale-value).
    #[arg(long)]
    pub contact_cost: Option<f64>,
    /// Value of one sale, for the realised profit (with --contact-cost).
    #[arg(long)]
    pub sale_value: Option<f64>,
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
    /// Outcomes known since (with a capture folder): the quality day by day joins the
    /// report, and quality.json is written (see `monitor quality`).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Cost of one call, for the realised profit (with --sale-value; default: the model's).
    #[arg(long)]
    pub contact_cost: Option<f64>,
    /// Value of one sale, for the realised profit (with --contact-cost).
    #[arg(long)]
    pub sale_value: Option<f64>,
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
        MonitorCommand::Quality(args) => quality_command(args),
    }
}

fn check_command(args: &CheckArgs) -> Result<()> {
    use crate::monitor::check::{Check, Current, CHECK_FILES};
    let baseline = Baseline::load(&args.baseline)?;
    let artifact = baseline.model(&args.baseline, args.model.as_deref())?;
    let captured = if args.data.is_dir() {
        let c = crate::monitor::read_captures(&args.data, &baseline.info.column_kinds())?;
        if c.without_columns > 0 {
            println!(
                "note: {} captured rows were preprocessed features (CSV, libsvm, RecordIO): \
                 they count in the scores' drift, not in the columns'",
                c.without_columns
            );
        }
        Some(c)
    } else {
        None
    };
    let table;
    let current = match &captured {
        Some(c) => Current::captured(
            format!(
                "{} ({} files, {} requests)",
                args.data.display(),
                c.files,
                c.requests
            ),
            c,
        ),
        None => {
            table = crate::data::read_table(&args.data, None)?;
            Current::table(args.data.display().to_string(), &table)
        }
    };
    let check = Check::run(&baseline, Some(&artifact), &current)?;
    let quality = match (&args.labels, &captured) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(crate::error::Error::InvalidSetting {
                name: "--labels".into(),
                reason: "outcomes join captured requests: give a capture folder as --data".into(),
            })
        }
        (Some(labels), Some(c)) => {
            let costs = match crate::metrics::Costs::from_parts(args.contact_cost, args.sale_value)?
            {
                Some(c) => Some(c),
                None => artifact.manifest.threshold_rule.and_then(|r| r.costs),
            };
            Some(crate::monitor::quality(
                c,
                &args.data.display().to_string(),
                &crate::monitor::GroundTruth::read(labels)?,
                artifact.manifest.threshold,
                "the model's",
                costs,
            )?)
        }
    };
    let html = crate::monitor::report::render_html(
        &check,
        &Check::reference_scores(&baseline),
        check.scores.as_deref(),
        f64::from(baseline.info.threshold),
        baseline
            .constraints
            .monitoring_config
            .distribution_constraints
            .comparison_threshold,
        quality.as_ref(),
    )?;
    let staged = StagedDir::new(&args.out)?;
    staged.check_reads(
        &CHECK_FILES,
        &[("--baseline", &args.baseline), ("--data", &args.data)],
    )?;
    check.write(staged.path())?;
    crate::monitor::report::write_report(staged.path().join("report.html"), &html)?;
    if let Some(q) = &quality {
        crate::util::files::write_json_atomically(staged.path().join("quality.json"), q)?;
    }
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
    if let Some(q) = &quality {
        println!(
            "quality: {} of {} captured rows labelled; ROC AUC {}, recall {:.4}{}",
            q.labelled_rows,
            q.captured_rows,
            q.overall.roc_auc.map_or("-".into(), |a| format!("{a:.4}")),
            q.overall.recall,
            q.profit
                .map(|p| format!(", realised profit {p:.2}"))
                .unwrap_or_default()
        );
    }
    for note in &d.notes {
        println!("note: {note}");
    }
    println!(
        "wrote {} (report.html, drift.json, constraint_violations.json, statistics.json{})",
        args.out.display(),
        if quality.is_some() {
            ", quality.json"
        } else {
            ""
        }
    );
    Ok(())
}

fn quality_command(args: &QualityArgs) -> Result<()> {
    use crate::error::Error;
    use crate::metrics::{Costs, Threshold};
    let baseline = match &args.baseline {
        Some(dir) => Some((Baseline::load(dir)?, dir)),
        None => None,
    };
    let (threshold, from) = match (args.threshold, &baseline) {
        (Some(t), _) => (Threshold::new(t)?, "given"),
        (None, Some((b, _))) => (Threshold::new(f64::from(b.info.threshold))?, "baseline"),
        (None, None) => {
            return Err(Error::InvalidSetting {
                name: "threshold".into(),
                reason: "give the deployed threshold with --threshold, or the model's \
                         baseline with --baseline"
                    .into(),
            })
        }
    };
    // Costs: given, else the ones the model was trained with (from its manifest).
    let costs = match Costs::from_parts(args.contact_cost, args.sale_value)? {
        Some(c) => Some(c),
        None => baseline
            .as_ref()
            .and_then(|(b, dir)| b.model(dir, None).ok())
            .and_then(|a| a.manifest.threshold_rule.and_then(|r| r.costs)),
    };
    let names = baseline
        .as_ref()
        .map(|(b, _)| b.info.column_kinds())
        .unwrap_or_default();
    let captured = crate::monitor::read_captures(&args.capture, &names)?;
    let truth = crate::monitor::GroundTruth::read(&args.labels)?;
    let report = crate::monitor::quality(
        &captured,
        &args.capture.display().to_string(),
        &truth,
        threshold,
        from,
        costs,
    )?;
    let staged = StagedDir::new(&args.out)?;
    staged.check_reads(
        &["quality.json"],
        &[("--capture", &args.capture), ("--labels", &args.labels)],
    )?;
    crate::util::files::write_json_atomically(staged.path().join("quality.json"), &report)?;
    staged.commit(&["quality.json"])?;
    let m = &report.overall;
    println!(
        "{} of {} captured rows labelled ({} outcomes matched no capture); at threshold {:.2} ({}):",
        report.labelled_rows,
        report.captured_rows,
        report.unmatched_labels,
        threshold.get(),
        from
    );
    println!(
        "accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}, ROC AUC {}{}",
        m.accuracy,
        m.precision,
        m.recall,
        m.f1,
        m.roc_auc.map_or("-".into(), |a| format!("{a:.4}")),
        report
            .profit
            .map(|p| format!(", realised profit {p:.2}"))
            .unwrap_or_default()
    );
    for d in &report.days {
        println!(
            "  {}: {} rows, ROC AUC {}, recall {}{}",
            d.day,
            d.rows,
            d.metrics
                .as_ref()
                .and_then(|m| m.roc_auc)
                .map_or("-".into(), |a| format!("{a:.4}")),
            d.metrics
                .as_ref()
                .map_or("-".into(), |m| format!("{:.4}", m.recall)),
            d.profit
                .map(|p| format!(", profit {p:.2}"))
                .unwrap_or_default()
        );
    }
    println!("wrote {}", args.out.join("quality.json").display());
    Ok(())
}
