//! The `purchase-predict` command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::app::pipeline::{self, RunConfig};
use crate::app::streaming::Streaming;
use crate::data::generate;
use crate::error::{Check, Error, Result, Valid};
use crate::metrics::{Threshold, ThresholdRule};
use crate::util::progress::{Bar, Lines, Progress};

mod monitor;
mod summary;
pub use monitor::{BaselineArgs, CheckArgs, MonitorCommand, QualityArgs};
use summary::{opt, thresholds_summary};
pub use summary::{summary, tuning_summary, workers_summary};

/// From a customer table to a model that predicts who will buy.
#[derive(Debug, Parser)]
#[command(name = "purchase-predict", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load → split → preprocess → train XGBoost → evaluate; write model.tar.gz,
    /// metrics.json and the SageMaker-format train/validation/test CSVs.
    Run(Box<RunArgs>),
    /// Write the synthetic demo table (data/customers.csv).
    Generate(GenerateArgs),
    /// Serve a model.tar.gz over HTTP with SageMaker's XGBoost container contract
    /// (GET /ping, POST /invocations, GET /execution-parameters, GET /metrics).
    /// Request logs go to stderr; RUST_LOG=warn silences them.
    Serve(ServeArgs),
    /// Like `run`, but search the hyperparameters first (SageMaker's tuning vocabulary,
    /// locally): writes tuning.json with every trial, and the refit best model and metrics.
    Tune(Box<TuneArgs>),
    /// Score a labelled table with a model.tar.gz and write report.html and metrics.json.
    Evaluate(EvaluateArgs),
    /// Score a raw customer file (CSV or Parquet) with a model.tar.gz, streaming in chunks:
    /// writes the id column (if any), probability and label. Local batch transform.
    Predict(PredictArgs),
    /// Explain one customer's prediction: each raw column's contribution, in log-odds.
    Explain(ExplainArgs),
    /// Watch a deployed model: its baseline, drift checks and delayed-label quality, in
    /// SageMaker Model Monitor's formats.
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// Run a SageMaker training job in our image: read /opt/ml/input (hyperparameters.json,
    /// inputdataconfig.json, the raw customer table in the `train` channel), run the
    /// pipeline, write the model to /opt/ml/model; on failure, the reason to
    /// /opt/ml/output/failure and exit 1. PURCHASE_PREDICT_ML_ROOT moves /opt/ml.
    Train,
}

/// Options of `tune`: those of `run` (`--hp` sets the fixed hyperparameters) and the search.
#[derive(Debug, Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Trials in all.
    #[arg(long, default_value_t = 20)]
    pub max_jobs: usize,
    /// Trials at once (default: 2, or 1 on one core); each gets cores / this many threads.
    #[arg(long)]
    pub max_parallel_jobs: Option<usize>,
    /// Bayesian (Gaussian process) or Random.
    #[arg(long, default_value = "Bayesian")]
    pub strategy: String,
    /// validation:auc, validation:logloss, validation:error or validation:f1.
    #[arg(long, default_value = "validation:auc")]
    pub objective: String,
    /// Maximize or Minimize (default: the objective's usual direction).
    #[arg(long)]
    pub direction: Option<String>,
    /// Seed of the search (the data split uses --seed).
    #[arg(long, default_value_t = 0)]
    pub tuner_seed: u64,
    /// Auto (stop trials below the median of earlier ones at the same round) or Off.
    #[arg(long, default_value = "Auto")]
    pub early_stopping_type: String,
    /// How trials are judged: K (k-fold cross-validation of the training split), off (the
    /// validation split) or auto (5 folds up to 50,000 training rows, the validation split
    /// above).
    #[arg(long, default_value = "auto")]
    pub cv_folds: crate::model::tune::CvFolds,
    /// Ranges to tune (see `--help`).
    #[arg(
        long = "range",
        value_name = "SPEC",
        help = "A range to tune, NAME=MIN:MAX[:SCALING] (SCALING: Auto, Linear, Logarithmic, \
                ReverseLogarithmic; integers for integer hyperparameters) or NAME=A|B|C for a \
                categorical one. Repeat for several; without any, a default space of eight."
    )]
    pub ranges: Vec<String>,
}

/// Integer-valued hyperparameters (their ranges are `IntegerParameter`s).
const INTEGER_HYPERPARAMETERS: &[&str] = &["num_round", "max_depth", "early_stopping_rounds"];

/// Parse `NAME=MIN:MAX[:SCALING]` or `NAME=A|B|C`.
pub fn parse_range(spec: &str) -> Result<(String, crate::model::tune::ParameterRange)> {
    use crate::model::tune::{ParameterRange, Scaling};
    let bad = |reason: &str| Error::InvalidSetting {
        name: "--range".into(),
        reason: format!("`{spec}`: {reason}"),
    };
    let (name, body) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=MIN:MAX[:SCALING] or NAME=A|B|C"))?;
    let name = name.trim().to_string();
    if body.contains('|') {
        return Ok((
            name,
            ParameterRange::categorical(body.split('|').map(|v| v.trim().to_string())),
        ));
    }
    let parts: Vec<&str> = body.split(':').map(str::trim).collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad("expected MIN:MAX or MIN:MAX:SCALING"));
    }
    let scaling: Scaling = match parts.get(2) {
        Some(s) => s.parse()?,
        None => Scaling::Auto,
    };
    let range = if INTEGER_HYPERPARAMETERS.contains(&name.as_str()) {
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad("bounds must be integers"));
        ParameterRange::integer(int(parts[0])?, int(parts[1])?)
    } else {
        let num = |s: &str| s.parse::<f64>().map_err(|_| bad("bounds must be numbers"));
        ParameterRange::continuous(num(parts[0])?, num(parts[1])?)
    };
    Ok((name, range.with_scaling(scaling)))
}

impl TuneArgs {
    /// The tuner settings these options describe (checked).
    pub fn to_tuner(&self) -> Result<Valid<crate::model::tune::TunerConfig>> {
        use crate::model::tune::{Direction, EarlyStoppingType, Objective, TunerConfig};
        let ranges = if self.ranges.is_empty() {
            TunerConfig::default_ranges()
        } else {
            self.ranges
                .iter()
                .map(|s| parse_range(s))
                .collect::<Result<_>>()?
        };
        let objective: Objective = self.objective.parse()?;
        let mut tuner = TunerConfig::new(ranges)
            .objective(objective)
            .strategy(self.strategy.parse()?)
            .max_jobs(self.max_jobs)
            .seed(self.tuner_seed)
            .cv_folds(self.cv_folds)
            .early_stopping_type(
                match self.early_stopping_type.to_ascii_lowercase().as_str() {
                    "auto" => EarlyStoppingType::Auto,
                    "off" => EarlyStoppingType::Off,
                    other => {
                        return Err(Error::InvalidSetting {
                            name: "--early-stopping-type".into(),
                            reason: format!("`{other}`: use Auto or Off"),
                        })
                    }
                },
            );
        if let Some(p) = self.max_parallel_jobs {
            tuner = tuner.max_parallel_jobs(p);
        }
        if let Some(d) = &self.direction {
            tuner = tuner.direction(match d.to_ascii_lowercase().as_str() {
                "maximize" => Direction::Maximize,
                "minimize" => Direction::Minimize,
                other => {
                    return Err(Error::InvalidSetting {
                        name: "--direction".into(),
                        reason: format!("`{other}`: use Maximize or Minimize"),
                    })
                }
            });
        }
        // The search's base and the defaults (what `run` trains with the same options, trial
        // 0) both take the user's hyperparameters.
        let (mut base, mut defaults) = (tuner.base.clone(), tuner.defaults.clone());
        for hp in [&mut base, &mut defaults] {
            hp.set_all(&self.run.hp)?;
            if let Some(n) = self.run.threads {
                hp.set("nthread", &n.to_string())?;
            }
        }
        tuner.base(base).defaults(defaults).check()
    }
}

/// Options of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model.tar.gz written by `run` or `tune`.
    #[arg(long)]
    pub model: PathBuf,
    /// A table with the model's input columns and its target column (CSV or Parquet).
    #[arg(long)]
    pub data: PathBuf,
    /// Output folder for report.html and metrics.json.
    #[arg(long, default_value = "out/evaluation")]
    pub out: PathBuf,
    /// Threshold for the 0/1 metrics (default: the model's).
    #[arg(long)]
    pub threshold: Option<Threshold>,
    /// fixed (--threshold or the model's), accuracy, f1 or profit: the optimum on these rows.
    #[arg(long, default_value_t = ThresholdRule::Fixed, value_name = "RULE")]
    pub threshold_rule: ThresholdRule,
    /// What one call costs; with --sale-value, adds the profit-optimal threshold.
    #[arg(long, value_name = "C", allow_negative_numbers = true)]
    pub contact_cost: Option<f64>,
    /// What one sale is worth.
    #[arg(long, value_name = "V", allow_negative_numbers = true)]
    pub sale_value: Option<f64>,
}

/// Options of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model.tar.gz written by `run`.
    #[arg(long)]
    pub model: PathBuf,
    /// Customers to score: CSV or Parquet (.parquet/.pq), with or without the target column.
    #[arg(long)]
    pub input: PathBuf,
    /// Output file: Parquet for .parquet/.pq, CSV otherwise. Written atomically.
    #[arg(long)]
    pub output: PathBuf,
    /// Id column to copy to the output (default: the model's id column when present).
    #[arg(long)]
    pub id: Option<String>,
    /// Label threshold (default: the one stored in the model).
    #[arg(long)]
    pub threshold: Option<Threshold>,
    /// Rows per chunk; memory grows with it, not with the file.
    #[arg(long, default_value_t = crate::serve::batch::DEFAULT_CHUNK_ROWS)]
    pub chunk_rows: usize,
    /// CSV delimiter (default: detected from the header).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Add each customer's N largest contributions by raw column (`reason_1`,
    /// `contribution_1`, ...; log-odds, positive towards buying). `--explain` alone: 3.
    #[arg(long, num_args = 0..=1, default_missing_value = "3", value_name = "N")]
    pub explain: Option<usize>,
}

/// Options of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The model.tar.gz written by `run` or `tune`.
    #[arg(long)]
    pub model: PathBuf,
    /// A table with the model's input columns (CSV or Parquet); the target may be absent.
    #[arg(long)]
    pub data: PathBuf,
    /// The data row to explain, counted from 1 (the header is not a row).
    #[arg(long)]
    pub row: usize,
    /// Print the explanation as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The model.tar.gz written by `run`, or a folder of its files. Without it, serve
    /// /opt/ml/model as SageMaker starts our image (`serve` with no arguments): on
    /// 0.0.0.0, port SAGEMAKER_BIND_TO_PORT or 8080.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Address to bind (default: 127.0.0.1 with --model, 0.0.0.0 without).
    #[arg(long)]
    pub host: Option<String>,
    /// Port (0 picks a free one; default: SAGEMAKER_BIND_TO_PORT when set, else 8080).
    #[arg(long)]
    pub port: Option<u16>,
    /// Worker threads (default: all cores; at most 1,024).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Rows one request may hold; past it, 413.
    #[arg(long, default_value_t = crate::codec::MAX_ROWS_PER_REQUEST)]
    pub max_rows: usize,
    /// Large requests (16 KB and over) read and scored at once (default: the workers); the
    /// rest wait up to 30 s for a slot, then get 503. Bounds the server's memory.
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// Seconds a client may take to send a request's headers, and then its body.
    #[arg(long, default_value_t = 30.0)]
    pub read_timeout: f64,
    /// Seconds requests in flight may take to finish after Ctrl-C or SIGTERM.
    #[arg(long, default_value_t = 20.0)]
    pub drain_timeout: f64,
    /// Capture each answered request, with its answer, as SageMaker data-capture JSON lines
    /// in hourly folders under this folder or s3://bucket/prefix (written off the request
    /// path; in our image: PURCHASE_PREDICT_CAPTURE).
    #[arg(long)]
    pub capture: Option<String>,
    /// Percentage of requests captured, 0 to 100 (default 100; PURCHASE_PREDICT_CAPTURE_SAMPLING).
    #[arg(long)]
    pub capture_sampling: Option<f64>,
    /// The endpoint's name, the first folder of the captures (default local-endpoint;
    /// PURCHASE_PREDICT_CAPTURE_ENDPOINT).
    #[arg(long)]
    pub capture_endpoint: Option<String>,
}

/// Where and how `serve` captures its traffic, from its options or our image's environment.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureTarget {
    /// A folder or `s3://bucket/prefix`.
    pub destination: String,
    /// Percentage of requests captured.
    pub sampling: f64,
    /// The endpoint's name in the capture folders.
    pub endpoint: String,
}

/// What `serve` serves and where, its options and SageMaker's environment taken together.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeTarget {
    pub model: PathBuf,
    pub host: String,
    pub port: u16,
    pub workers: Option<usize>,
    pub capture: Option<CaptureTarget>,
}

impl ServeTarget {
    /// `--model`, or `/opt/ml/model` (under `PURCHASE_PREDICT_ML_ROOT`) as SageMaker starts
    /// the image; `--host`, or 0.0.0.0 in the image and 127.0.0.1 otherwise; `--port`, or
    /// `SAGEMAKER_BIND_TO_PORT`, or 8080; `--workers`, or `SAGEMAKER_MODEL_SERVER_WORKERS`.
    pub fn resolve(args: &ServeArgs) -> Result<ServeTarget> {
        use crate::cloud::sagemaker::container::{
            MlRoot, BIND_TO_PORT_ENV, DEFAULT_PORT, WORKERS_ENV,
        };
        let env_number = |name: &str| -> Result<Option<u64>> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => {
                    v.trim()
                        .parse()
                        .map(Some)
                        .map_err(|_| Error::InvalidSetting {
                            name: name.into(),
                            reason: format!("`{v}` is not a whole number"),
                        })
                }
                _ => Ok(None),
            }
        };
        let in_image = args.model.is_none();
        let port = match args.port {
            Some(p) => p,
            None => match env_number(BIND_TO_PORT_ENV)? {
                Some(p) => u16::try_from(p).map_err(|_| Error::InvalidSetting {
                    name: BIND_TO_PORT_ENV.into(),
                    reason: format!("{p} is not a port (0-65535)"),
                })?,
                None => DEFAULT_PORT,
            },
        };
        let workers = match args.workers {
            Some(w) => Some(w),
            None => env_number(WORKERS_ENV)?.map(|w| w as usize),
        };
        use crate::cloud::sagemaker::container::{
            CAPTURE_ENDPOINT_ENV, CAPTURE_ENV, CAPTURE_SAMPLING_ENV,
        };
        let env_text = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let capture = match args.capture.clone().or_else(|| env_text(CAPTURE_ENV)) {
            None => None,
            Some(destination) => {
                let sampling = match args.capture_sampling {
                    Some(p) => p,
                    None => match env_text(CAPTURE_SAMPLING_ENV) {
                        Some(v) => v.parse().map_err(|_| Error::InvalidSetting {
                            name: CAPTURE_SAMPLING_ENV.into(),
                            reason: format!("`{v}` is not a percentage"),
                        })?,
                        None => 100.0,
                    },
                };
                let endpoint = args
                    .capture_endpoint
                    .clone()
                    .or_else(|| env_text(CAPTURE_ENDPOINT_ENV))
                    .unwrap_or_else(|| "local-endpoint".into());
                Some(CaptureTarget {
                    destination,
                    sampling,
                    endpoint,
                })
            }
        };
        Ok(ServeTarget {
            model: args
                .model
                .clone()
                .unwrap_or_else(|| MlRoot::from_env().model_dir()),
            host: args
                .host
                .clone()
                .unwrap_or_else(|| if in_image { "0.0.0.0" } else { "127.0.0.1" }.to_string()),
            port,
            workers,
            capture,
        })
    }
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Customer table, CSV (any of , ; tab |) or Parquet. Default: data/customers.csv.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Column to predict (yes/no, true/false, 1/0). Required with --data.
    #[arg(long)]
    pub target: Option<String>,
    /// Columns to leave out, comma-separated (e.g. duration).
    #[arg(long, value_delimiter = ',')]
    pub drop: Vec<String>,
    /// Column identifying a customer: kept out of the features.
    #[arg(long)]
    pub id: Option<String>,
    /// Columns to treat as numeric, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Columns to treat as categorical, comma-separated (e.g. integer codes).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// CSV field separator (detected when absent).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Output folder.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Share of rows held out for testing.
    #[arg(long, default_value_t = 0.3)]
    pub test_share: f64,
    /// Share of the training rows cut off for validation (0 = none).
    #[arg(long, default_value_t = 0.2)]
    pub validation_share: f64,
    /// Decision threshold for the reported metrics (with --threshold-rule fixed).
    #[arg(long, default_value_t = Threshold::DEFAULT)]
    pub threshold: Threshold,
    /// How the model's threshold is chosen: fixed (--threshold), accuracy, f1 or profit
    /// (the optimum on the validation split, or the test split when there is none).
    #[arg(long, default_value_t = ThresholdRule::Fixed, value_name = "RULE")]
    pub threshold_rule: ThresholdRule,
    /// What one call (contact) costs; with --sale-value, adds the profit-optimal threshold.
    #[arg(long, value_name = "C", allow_negative_numbers = true)]
    pub contact_cost: Option<f64>,
    /// What one sale is worth, in the same currency as --contact-cost.
    #[arg(long, value_name = "V", allow_negative_numbers = true)]
    pub sale_value: Option<f64>,
    /// Skip the logistic-regression baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Override a hyperparameter, SageMaker names: --hp eta=0.1 --hp num_round=200.
    #[arg(long = "hp", value_name = "NAME=VALUE")]
    pub hp: Vec<String>,
    /// Threads for training (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Read the table in batches, never whole (default: a CSV file over 1 GiB or a Parquet
    /// file over 256 MiB): for tables larger than memory.
    #[arg(long, conflicts_with = "in_memory")]
    pub streaming: bool,
    /// Hold the table whole, whatever its size.
    #[arg(long)]
    pub in_memory: bool,
    /// MiB of CSV text a streaming run reads at a time.
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    pub batch_mib: usize,
    /// Train as our image does on N SageMaker instances, here: the table written as N shards,
    /// N processes on loopback training one model together (2 to 64). Writes model.tar.gz,
    /// metrics.json, report.html and baseline/ (the split files stay on the hosts).
    #[arg(long, value_name = "N", conflicts_with = "in_memory")]
    pub workers: Option<usize>,
}

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write.
    #[arg(long, default_value = pipeline::DEMO_DATA)]
    pub out: PathBuf,
    /// Number of customers.
    #[arg(long, default_value_t = generate::DEFAULT_ROWS)]
    pub rows: usize,
    /// Seed.
    #[arg(long, default_value_t = generate::DEFAULT_SEED)]
    pub seed: u64,
}

impl RunArgs {
    /// Turn the options into a [`RunConfig`], checked here, once.
    pub fn to_config(&self) -> Result<Valid<RunConfig>> {
        let mut config = match (&self.data, &self.target) {
            (None, None) => RunConfig::demo(&self.out),
            (None, Some(t)) => {
                let mut c = RunConfig::demo(&self.out);
                c.settings.load.target = t.clone();
                c
            }
            (Some(d), Some(t)) => RunConfig::new(d, t, &self.out),
            (Some(_), None) => {
                return Err(Error::InvalidSetting {
                    name: "--target".into(),
                    reason: "required with --data: name the column to predict".into(),
                })
            }
        };
        let s = &mut config.settings;
        if self.id.is_some() {
            s.load.id = self.id.clone();
        }
        s.load.drop = self.drop.clone();
        s.load.numeric = self.numeric.clone();
        s.load.categorical = self.categorical.clone();
        if let Some(d) = delimiter_byte(self.delimiter)? {
            s.load.delimiter = Some(d);
        }
        s.split.seed = self.seed;
        s.split.test_share = self.test_share;
        s.split.validation_share = self.validation_share;
        s.threshold = self.threshold;
        s.threshold_rule = self.threshold_rule;
        s.costs = costs(self.contact_cost, self.sale_value)?;
        s.baseline = !self.no_baseline;
        config.hyperparameters.set_all(&self.hp)?;
        if let Some(n) = self.threads {
            config.hyperparameters.set("nthread", &n.to_string())?;
        }
        config.streaming = match (self.streaming, self.in_memory) {
            (true, _) => Streaming::Always,
            (_, true) => Streaming::Never,
            _ => Streaming::Auto,
        };
        config.batch_bytes = self.batch_mib.saturating_mul(1 << 20);
        config.check()
    }
}

/// A setting's error named by its flag (`test_share` → `--test-share`), as the user typed it.
fn as_flags(e: Error) -> Error {
    match e {
        Error::InvalidSetting { name, reason } if !name.starts_with("--") => {
            Error::InvalidSetting {
                name: format!("--{}", name.replace('_', "-")),
                reason,
            }
        }
        other => other,
    }
}

/// `--contact-cost` and `--sale-value`, both or neither, each checked.
fn costs(contact: Option<f64>, sale: Option<f64>) -> Result<Option<crate::metrics::Costs>> {
    crate::metrics::Costs::from_parts(contact, sale).map_err(as_flags)
}

/// A bar on a terminal, a status line every 5 s otherwise (logs, notebooks).
fn terminal_progress() -> Box<dyn Progress> {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        Box::new(Bar::new())
    } else {
        Box::new(Lines::every(Duration::from_secs(5)))
    }
}

fn delimiter_byte(d: Option<char>) -> Result<Option<u8>> {
    match d {
        None => Ok(None),
        Some(c) if c.is_ascii() => Ok(Some(c as u8)),
        Some(c) => Err(Error::InvalidSetting {
            name: "--delimiter".into(),
            reason: format!("must be one ASCII character, got {c:?}"),
        }),
    }
}

/// A duration flag given in seconds: positive and finite.
fn seconds(flag: &str, value: f64) -> Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::InvalidSetting {
            name: flag.into(),
            reason: format!("must be a positive number of seconds, got {value}"),
        })
}

/// Run the command line; the binary prints the error and exits 1 on `Err`.
pub fn main_with(cli: Cli) -> Result<()> {
    run_command(cli).map_err(|e| match e {
        // The library names options by their field; here they are flags.
        Error::UnknownColumn {
            option,
            column,
            available,
        } if !option.contains(' ') => Error::UnknownColumn {
            option: format!("--{}", option.replace('_', "-")),
            column,
            available,
        },
        other => other,
    })
}

fn run_command(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => {
            let config = args.to_config()?;
            let mut progress = terminal_progress();
            println!(
                "purchase-predict run: {} (target `{}`)",
                config.data.display(),
                config.settings.load.target
            );
            if let Some(n) = args.workers {
                let report = crate::app::workers::run_workers(&config, n, progress.as_mut())?;
                print!("{}", workers_summary(&report));
                return Ok(());
            }
            let report = pipeline::run(&config, progress.as_mut())?;
            print!("{}", summary(&config, &report));
            Ok(())
        }
        Command::Tune(args) => {
            let config = args.run.to_config()?;
            let tuner = args.to_tuner()?;
            let mut progress = terminal_progress();
            println!(
                "purchase-predict tune: {} (target `{}`), {} trials, {} at once, {:?}, {} {:?}",
                config.data.display(),
                config.settings.load.target,
                tuner.max_jobs,
                tuner.max_parallel_jobs,
                tuner.strategy,
                tuner.objective.name(),
                tuner.direction
            );
            let (report, result) =
                crate::app::pipeline::tune_run(&config, &tuner, progress.as_mut())?;
            print!("{}", tuning_summary(&result)?);
            print!("{}", summary(&config, &report));
            println!("wrote {}", config.out_dir.join("tuning.json").display());
            Ok(())
        }
        Command::Evaluate(args) => {
            crate::util::staging::remove_on_signal();
            let policy = crate::evaluate::ThresholdPolicy {
                rule: args.threshold_rule,
                costs: costs(args.contact_cost, args.sale_value)?,
                selection: None,
            };
            let r = crate::evaluate::evaluate_file_with(
                &args.model,
                &args.data,
                &args.out,
                args.threshold,
                policy,
            )?;
            let m = &r.metrics;
            println!(
                "evaluated {} rows at threshold {:.2}: accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}, ROC AUC {}",
                r.rows,
                m.threshold,
                m.accuracy,
                m.precision,
                m.recall,
                m.f1,
                opt(m.roc_auc)
            );
            if let Some(b) = &r.baseline {
                println!(
                    "baseline (logistic regression): accuracy {:.4}, ROC AUC {}; always no: accuracy {:.4}",
                    b.logistic_regression.accuracy,
                    opt(b.logistic_regression.roc_auc),
                    b.always_no.accuracy
                );
            }
            print!("{}", thresholds_summary(&r.thresholds));
            println!("wrote {}, {}", r.report.display(), r.metrics_file.display());
            Ok(())
        }
        Command::Predict(args) => {
            crate::util::staging::remove_on_signal();
            let config = crate::serve::batch::BatchConfig {
                model: args.model,
                input: args.input,
                output: args.output,
                id: args.id,
                chunk_rows: args.chunk_rows,
                threshold: args.threshold,
                delimiter: delimiter_byte(args.delimiter)?,
                explain: args.explain.unwrap_or(0),
            };
            let mut progress = terminal_progress();
            let r = crate::serve::batch::score_file(&config, progress.as_mut())?;
            println!(
                "scored {} customers in {:.2} s ({:.0} rows/s, {} chunk{}): {} predicted buyers at threshold {}",
                r.rows,
                r.seconds,
                r.rows as f64 / r.seconds.max(1e-9),
                r.chunks,
                if r.chunks == 1 { "" } else { "s" },
                r.predicted_buyers,
                r.threshold
            );
            println!(
                "wrote {}{}{}",
                r.output.display(),
                r.id_column
                    .as_ref()
                    .map(|id| format!(" (id column `{id}`)"))
                    .unwrap_or_default(),
                r.peak_rss_bytes
                    .map(|b| format!("; peak memory {:.0} MB", b as f64 / 1e6))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Command::Explain(args) => {
            let e = crate::model::explain::explain_customer(&args.model, &args.data, args.row)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&e).map_err(|e| Error::json("explanation", e))?
                );
            } else {
                println!("{e}");
            }
            Ok(())
        }
        Command::Serve(args) => {
            // Request logs on stderr, written off the request path (a full queue drops and
            // counts lines rather than stall serving); RUST_LOG overrides the default `info`.
            let log = crate::util::log::NonBlocking::new(std::io::stderr(), 16 * 1024);
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(log.clone())
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .try_init();
            let served = serve_command(&args);
            log.flush_for(Duration::from_secs(1));
            served
        }
        Command::Monitor(command) => monitor::monitor_command(&command),
        Command::Train => {
            let mut progress = terminal_progress();
            crate::app::sagemaker_job::train_command(progress.as_mut())
        }
        Command::Generate(args) => {
            generate::write_customers(&args.out, args.rows, args.seed)?;
            println!(
                "wrote {} ({} customers, seed {})",
                args.out.display(),
                args.rows,
                args.seed
            );
            Ok(())
        }
    }
}

/// The server's capture settings for `serve --capture`: a folder, or S3 through the
/// session's storage (AWS settings from the environment).
fn capture_config(target: &CaptureTarget) -> Result<crate::serve::CaptureConfig> {
    use crate::serve::{CaptureConfig, CaptureDestination};
    let destination = if target.destination.starts_with("s3://") {
        let root: crate::cloud::storage::Location = target.destination.parse()?;
        let session = crate::util::runtime::block_on(crate::cloud::session::Session::sagemaker(
            crate::cloud::session::SageMakerConfig::from_env(),
        ))?;
        CaptureDestination::Sink(std::sync::Arc::new(
            crate::cloud::storage::CaptureToStorage::new(session.storage().clone(), root),
        ))
    } else {
        CaptureDestination::Folder(PathBuf::from(&target.destination))
    };
    Ok(CaptureConfig::new(destination)
        .sampling(target.sampling)
        .endpoint_name(&target.endpoint))
}

/// `serve`: resolve where and how, then serve until Ctrl-C or SIGTERM.
fn serve_command(args: &ServeArgs) -> Result<()> {
    let target = ServeTarget::resolve(args)?;
    let mut config = crate::serve::ServerConfig {
        host: target.host.clone(),
        port: target.port,
        max_rows: args.max_rows,
        read_timeout: seconds("--read-timeout", args.read_timeout)?,
        drain_timeout: seconds("--drain-timeout", args.drain_timeout)?,
        ..Default::default()
    };
    if let Some(w) = target.workers {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // More workers than cores cannot score at once, and a count the system
        // cannot start crashed the runtime (`--workers 1024` under a process limit).
        let w = if w > cores {
            eprintln!("note: {w} workers reduced to {cores}, the cores this machine has");
            cores
        } else {
            w
        };
        config.workers = w;
        config.max_concurrent = w;
    }
    if let Some(c) = args.max_concurrent {
        config.max_concurrent = c;
    }
    if let Some(capture) = &target.capture {
        config.capture = Some(capture_config(capture)?);
    }
    config.check_ref()?;
    crate::util::runtime::init(config.workers)?.block_on(async {
        // Before the listener exists, so that no signal finds the default action.
        let mut signals = crate::serve::Signals::install()?;
        let server = crate::serve::Server::start(&target.model, &config).await?;
        tokio::select! {
            loaded = server.wait_loaded() => loaded?,
            _ = signals.recv() => {
                server.shutdown().await;
                return Ok(());
            }
        }
        // One line: a caller that reads the address and closes the pipe must not make a
        // second line fail.
        let capturing = server
            .capture_status()
            .map(|(to, _)| format!("; capturing requests into {to}"))
            .unwrap_or_default();
        println!(
            "serving {} on http://{} (POST /invocations, GET /ping){capturing}; Ctrl-C stops",
            target.model.display(),
            server.addr()
        );
        server.run_until_signal(&mut signals).await
    })
}
