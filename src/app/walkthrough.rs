//! The notebook walkthrough's shared settings: which data, which working folder, which
//! backend, and what one notebook hands to the next.
//!
//! Each notebook in `notebooks/` starts with [`Walkthrough::from_env`] and ends by saving
//! what the next one needs ([`Walkthrough::save`]); the next one loads it
//! ([`Walkthrough::load`]), with an error that says which notebook to run first.
//!
//! Settings: the first notebook's settings cell ([`Walkthrough::start`] with [`Settings`])
//! saves them in the working folder (`settings.json`), and the later notebooks read them
//! back; environment variables set before Jupyter started win over both (all optional):
//! - `PURCHASE_PREDICT_DATASET`: `demo` (default: the shipped `data/customers.csv`) or
//!   `bank-marketing` (UCI Bank Marketing, the AWS tutorial's data, from
//!   `../shared/datasets/bank-marketing/` or the path in `PURCHASE_PREDICT_BANK_CSV`);
//! - `PURCHASE_PREDICT_WORKDIR`: the working folder (default `work/` in the project);
//! - `PURCHASE_PREDICT_BACKEND`: `local` (default) or `sagemaker` ([`crate::cloud::session`]).
//!
//! ```no_run
//! let w = purchase_predict::app::walkthrough::Walkthrough::from_env()?;
//! println!("{w}");
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::pipeline::RunConfig;
use crate::cloud::estimator::TunedJob;
use crate::cloud::session::Session;
use crate::data::LoadOptions;
use crate::error::{Error, Result};
use crate::util::runtime::block_on;

/// The variable that picks the data: `demo` or `bank-marketing`.
pub const DATASET_ENV: &str = "PURCHASE_PREDICT_DATASET";
/// A path to `bank-additional-full.csv`, when it is not in `../shared/datasets`.
pub const BANK_CSV_ENV: &str = "PURCHASE_PREDICT_BANK_CSV";

/// Columns the AWS tutorial leaves out of the bank-marketing model: the call's duration
/// (known only after the call) and the macro-economic indicators.
pub const BANK_DROPPED: &[&str] = &[
    "duration",
    "emp.var.rate",
    "cons.price.idx",
    "cons.conf.idx",
    "euribor3m",
    "nr.employed",
];

/// What the first notebook's settings cell chooses.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Settings {
    /// `demo` (the shipped table) or `bank-marketing` (the AWS tutorial's data).
    pub dataset: String,
    /// `local` (this machine) or `sagemaker` (an AWS account).
    pub backend: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dataset: "demo".into(),
            backend: "local".into(),
        }
    }
}

/// The saved settings' file in the working folder.
const SETTINGS_FILE: &str = "settings.json";

/// The walkthrough's settings.
#[derive(Debug, Clone)]
pub struct Walkthrough {
    /// `demo` or `bank-marketing`.
    pub dataset: String,
    /// The customer table.
    pub data: PathBuf,
    /// How to load it (target, id, dropped columns).
    pub load: LoadOptions,
    /// The working folder.
    pub root: PathBuf,
    /// `local` or `sagemaker`.
    pub backend: String,
}

/// A path relative to the project when it is inside it (no machine paths in notebooks).
fn shown(path: &Path) -> String {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let clean = |p: &Path| p.components().collect::<PathBuf>();
    match clean(path).strip_prefix(clean(project)) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => match path.strip_prefix(project.join("..")) {
            Ok(rel) => format!("../{}", rel.display()),
            Err(_) => path.display().to_string(),
        },
    }
}

impl fmt::Display for Walkthrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dataset `{}`: {} (target `{}`{}); backend {}; working folder {}",
            self.dataset,
            shown(&self.data),
            self.load.target,
            if self.load.drop.is_empty() {
                String::new()
            } else {
                format!("; left out: {}", self.load.drop.join(", "))
            },
            self.backend,
            shown(&self.root)
        )
    }
}

impl Walkthrough {
    /// The first notebook's start: `settings`, unless environment variables set before
    /// Jupyter started say otherwise, checked and saved for the later notebooks.
    ///
    /// ```no_run
    /// use purchase_predict::app::walkthrough::{Settings, Walkthrough};
    /// let w = Walkthrough::start(&Settings { dataset: "demo".into(), backend: "local".into() })?;
    /// # Ok::<(), purchase_predict::Error>(())
    /// ```
    pub fn start(settings: &Settings) -> Result<Walkthrough> {
        let w = Self::with(settings)?;
        w.save(
            SETTINGS_FILE.trim_end_matches(".json"),
            &Settings {
                dataset: w.dataset.clone(),
                backend: w.backend.clone(),
            },
        )?;
        Ok(w)
    }

    /// The settings of the later notebooks: the environment's, else what the first notebook
    /// saved, else the defaults (see the module docs).
    pub fn from_env() -> Result<Walkthrough> {
        let saved = std::fs::read_to_string(Self::root_dir().join(SETTINGS_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<Settings>(&t).ok())
            .unwrap_or_default();
        Self::with(&saved)
    }

    fn root_dir() -> PathBuf {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::env::var(crate::cloud::session::WORKDIR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| project.join("work"))
    }

    fn with(settings: &Settings) -> Result<Walkthrough> {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = Self::root_dir();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let dataset = env(DATASET_ENV).unwrap_or_else(|| settings.dataset.clone());
        let backend =
            env(crate::cloud::session::BACKEND_ENV).unwrap_or_else(|| settings.backend.clone());
        backend
            .parse::<crate::cloud::session::Backend>()
            .map_err(|_| Error::InvalidSetting {
                name: "backend".into(),
                reason: format!("`{backend}`: use `local` or `sagemaker`"),
            })?;
        let (data, load) = match dataset.as_str() {
            "" | "demo" => (
                project.join("data/customers.csv"),
                LoadOptions::new("purchased").id("customer_id"),
            ),
            "bank-marketing" => {
                let path = std::env::var(BANK_CSV_ENV)
                    .map(PathBuf::from)
                    .unwrap_or_else(|_| {
                        project.join("../shared/datasets/bank-marketing/bank-additional-full.csv")
                    });
                if !path.exists() {
                    return Err(Error::InvalidSetting {
                        name: DATASET_ENV.into(),
                        reason: format!(
                            "bank-marketing needs {} (or {BANK_CSV_ENV} pointing at bank-additional-full.csv from the UCI repository)",
                            path.display()
                        ),
                    });
                }
                (
                    path,
                    LoadOptions::new("y").drop(BANK_DROPPED.iter().copied()),
                )
            }
            other => {
                return Err(Error::InvalidSetting {
                    name: DATASET_ENV.into(),
                    reason: format!("`{other}`: use `demo` or `bank-marketing`"),
                })
            }
        };
        Ok(Walkthrough {
            dataset: if dataset.is_empty() {
                "demo".into()
            } else {
                dataset
            },
            data,
            load,
            root,
            backend,
        })
    }

    /// `path` as a notebook shows it: relative to the project when inside it.
    pub fn shown(&self, path: impl AsRef<Path>) -> String {
        shown(path.as_ref())
    }

    /// A storage location as a notebook shows it (local paths relative to the project).
    pub fn shown_location(&self, location: &crate::cloud::storage::Location) -> String {
        match location.local_path() {
            Ok(p) => shown(p),
            Err(_) => location.to_string(),
        }
    }

    /// The session the notebooks work in ([`Session::from_env`]), rooted at the working
    /// folder.
    pub fn session(&self) -> Result<Session> {
        // The session reads its backend from the environment: make it this walkthrough's.
        if std::env::var(crate::cloud::session::BACKEND_ENV)
            .ok()
            .as_deref()
            != Some(&self.backend)
        {
            std::env::set_var(crate::cloud::session::BACKEND_ENV, &self.backend);
        }
        Ok(block_on(Session::from_env())?.with_root(&self.root))
    }

    /// A pipeline configuration writing the prepared splits to `<root>/prep`.
    pub fn run_config(&self) -> RunConfig {
        let mut c = RunConfig::new(&self.data, &self.load.target, self.root.join("prep"));
        c.load = self.load.clone();
        c
    }

    /// Save `value` as `<root>/<name>.json` (atomically) for a later notebook.
    pub fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<PathBuf> {
        let path = self.root.join(format!("{name}.json"));
        crate::util::files::write_json_atomically(&path, value)?;
        Ok(path)
    }

    /// Load what an earlier notebook saved as `name`; `made_by` names that notebook for the
    /// error when it has not run yet.
    pub fn load<T: DeserializeOwned>(&self, name: &str, made_by: &str) -> Result<T> {
        let path = self.root.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::InvalidSetting {
                name: name.into(),
                reason: format!("{} is missing: run {made_by} first", path.display()),
            },
            _ => Error::io(&path, e),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::json(path.display().to_string(), e))
    }
}

/// A hyperparameter's value as a person reads it: numbers to 4 significant digits
/// (`0.6481676216494168` → `0.6482`), anything else as it is.
fn readable(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x != x.trunc() => {
            let digits = (4 - 1 - x.abs().log10().floor() as i32).max(0) as usize;
            format!("{x:.digits$}")
        }
        _ => v.to_string(),
    }
}

/// The training jobs of a tuning job as a table: name, status, objective and one column per
/// tuned hyperparameter.
pub fn tuned_jobs_frame(jobs: &[TunedJob]) -> Result<DataFrame> {
    let mut names: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.hyperparameters.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let mut cols = vec![
        Column::new(
            "training job".into(),
            jobs.iter().map(|j| j.name.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            jobs.iter().map(|j| j.status.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "objective".into(),
            jobs.iter().map(|j| j.objective).collect::<Vec<_>>(),
        ),
    ];
    for n in names {
        cols.push(Column::new(
            n.as_str().into(),
            jobs.iter()
                .map(|j| j.hyperparameters.get(&n).map(|v| readable(v)))
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(jobs.len(), cols).map_err(|e| Error::polars("tuning jobs table", e))
}

/// What each column of a walkthrough dataset means: column, meaning, unit, and how a
/// missing value is coded. `dataset` is `demo` or `bank-marketing`.
pub fn data_dictionary(dataset: &str) -> Result<DataFrame> {
    const DEMO: &[(&str, &str, &str, &str)] = &[
        (
            "customer_id",
            "the customer's id (never a feature)",
            "text",
            "never missing",
        ),
        ("age", "age", "years", "never missing"),
        (
            "gender",
            "gender as the customer gave it",
            "category",
            "empty (2 %): not given",
        ),
        ("region", "sales region", "category", "never missing"),
        (
            "device",
            "device of the last visit",
            "category",
            "never missing",
        ),
        (
            "income",
            "yearly income",
            "currency units",
            "empty (6 %): not given",
        ),
        (
            "membership",
            "loyalty tier: none, silver, gold, platinum",
            "category",
            "never missing",
        ),
        (
            "tenure_months",
            "months since the account was opened",
            "months",
            "never missing",
        ),
        (
            "sessions_30d",
            "visits in the last 30 days",
            "count",
            "never missing",
        ),
        (
            "minutes_on_site",
            "minutes on the site in the last 30 days",
            "minutes",
            "empty (3 %): not tracked",
        ),
        (
            "pages_viewed",
            "pages viewed in the last 30 days",
            "count",
            "never missing",
        ),
        (
            "bounce_rate",
            "share of visits with a single page",
            "fraction 0-1",
            "empty (4 %): not tracked",
        ),
        (
            "previous_purchases",
            "purchases before this campaign",
            "count",
            "never missing",
        ),
        (
            "days_since_last_purchase",
            "days since the last purchase",
            "days",
            "empty when the customer never bought (structural: previous_purchases = 0)",
        ),
        (
            "discounts_used",
            "discounts redeemed so far",
            "count",
            "never missing",
        ),
        (
            "purchased",
            "the target: bought during the campaign",
            "yes / no",
            "never missing",
        ),
    ];
    const BANK: &[(&str, &str, &str, &str)] = &[
        ("age", "age", "years", "never missing"),
        (
            "job",
            "type of job",
            "category (12)",
            "\"unknown\" (330 rows)",
        ),
        ("marital", "marital status", "category", "\"unknown\" (80)"),
        ("education", "education", "category", "\"unknown\" (1,731)"),
        (
            "default",
            "has credit in default?",
            "yes / no",
            "\"unknown\" (8,597)",
        ),
        (
            "housing",
            "has a housing loan?",
            "yes / no",
            "\"unknown\" (990)",
        ),
        (
            "loan",
            "has a personal loan?",
            "yes / no",
            "\"unknown\" (990)",
        ),
        (
            "contact",
            "contact type of the last call",
            "cellular / telephone",
            "never missing",
        ),
        (
            "month",
            "month of the last contact",
            "jan … dec",
            "never missing",
        ),
        (
            "day_of_week",
            "weekday of the last contact",
            "mon … fri",
            "never missing",
        ),
        (
            "duration",
            "length of the last call — known only after the call: a target leak",
            "seconds",
            "never missing (left out)",
        ),
        (
            "campaign",
            "contacts during this campaign, this one included",
            "count",
            "never missing",
        ),
        (
            "pdays",
            "days since a contact in an earlier campaign",
            "days",
            "999 = never contacted before (a sentinel, not a number of days)",
        ),
        (
            "previous",
            "contacts before this campaign",
            "count",
            "never missing",
        ),
        (
            "poutcome",
            "outcome of the earlier campaign",
            "failure / nonexistent / success",
            "\"nonexistent\" = no earlier campaign",
        ),
        (
            "emp.var.rate",
            "employment variation rate, quarterly (macro)",
            "%",
            "never missing (left out)",
        ),
        (
            "cons.price.idx",
            "consumer price index, monthly (macro)",
            "index",
            "never missing (left out)",
        ),
        (
            "cons.conf.idx",
            "consumer confidence index, monthly (macro)",
            "index",
            "never missing (left out)",
        ),
        (
            "euribor3m",
            "3-month Euribor rate, daily (macro)",
            "%",
            "never missing (left out)",
        ),
        (
            "nr.employed",
            "number of employees, quarterly (macro)",
            "thousands",
            "never missing (left out)",
        ),
        (
            "y",
            "the target: subscribed a term deposit",
            "yes / no",
            "never missing",
        ),
    ];
    let rows = match dataset {
        "demo" => DEMO,
        "bank-marketing" => BANK,
        other => {
            return Err(Error::InvalidSetting {
                name: "dataset".into(),
                reason: format!("`{other}`: use `demo` or `bank-marketing`"),
            })
        }
    };
    type Row = (&'static str, &'static str, &'static str, &'static str);
    let col = |name: &str, f: fn(&Row) -> &'static str| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>())
    };
    DataFrame::new(
        rows.len(),
        vec![
            col("column", |r| r.0),
            col("meaning", |r| r.1),
            col("unit", |r| r.2),
            col("missing values", |r| r.3),
        ],
    )
    .map_err(|e| Error::polars("data dictionary", e))
}

/// How well each feature column alone separates buyers from non-buyers: its ROC AUC as a
/// score (numbers as they are, missing values last; a category by its purchase rate), folded
/// so that 0.5 is no signal and 1.0 perfect, strongest first. What 01 plots in this order.
pub fn separation(df: &DataFrame, labels: &[u8]) -> Result<Vec<(String, f64)>> {
    use crate::metrics::roc_auc;
    let mut out = Vec::with_capacity(df.width());
    for c in df.columns() {
        let name = c.name().to_string();
        let scores: Vec<f32> = if crate::data::numeric_columns(df).contains(&name) {
            let vals = crate::prep::numeric_values(c)?;
            let present: Vec<f64> = vals.iter().flatten().copied().collect();
            let (lo, hi) = present
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            let span = (hi - lo).max(1e-12);
            // Rank-preserving map into [0, 1] (roc_auc wants probabilities); missing -> 0.
            vals.iter()
                .map(|v| v.map_or(0.0, |v| (0.05 + 0.95 * (v - lo) / span) as f32))
                .collect()
        } else {
            let s = c
                .cast(&polars::prelude::DataType::String)
                .map_err(|e| Error::polars(format!("column `{name}`"), e))?;
            let ca = s.str().map_err(|e| Error::polars("categories", e))?;
            let mut by: std::collections::HashMap<Option<&str>, (f64, f64)> = Default::default();
            for (v, &l) in ca.iter().zip(labels) {
                let e = by.entry(v).or_default();
                e.0 += 1.0;
                e.1 += f64::from(l);
            }
            ca.iter()
                .map(|v| {
                    let (n, b) = by[&v];
                    (b / n) as f32
                })
                .collect()
        };
        let auc = roc_auc(labels, &scores).unwrap_or(0.5);
        out.push((name, auc.max(1.0 - auc)));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

/// The exploration's findings in words, true for the table shown: missing values (and what
/// the bank data codes as `unknown` or `999`), the buyer share and what "always no" scores,
/// the strongest single columns, and strongly correlated pairs.
pub struct Findings;

impl Findings {
    /// Missing values, column by column, with what they mean where the data says.
    pub fn missing(df: &DataFrame) -> Result<String> {
        let n = df.height().max(1) as f64;
        let mut parts = Vec::new();
        let mut unknown = Vec::new();
        for c in df.columns() {
            let nulls = c.null_count();
            if nulls > 0 {
                parts.push(format!("`{}` {:.1} %", c.name(), 100.0 * nulls as f64 / n));
            }
            if let Ok(s) = c.str() {
                let k = s.iter().filter(|v| *v == Some("unknown")).count();
                if k > 0 {
                    unknown.push(format!("`{}` {:.1} %", c.name(), 100.0 * k as f64 / n));
                }
            }
        }
        let mut text = if parts.is_empty() {
            "No cell is empty.".to_string()
        } else {
            format!("Empty cells: {}.", parts.join(", "))
        };
        if !unknown.is_empty() {
            text += &format!(
                " The table codes missing answers as the category \"unknown\" instead: {}. \
                 They stay a category of their own (the model can learn whether not knowing \
                 matters).",
                unknown.join(", ")
            );
        }
        if let Ok(p) = df.column("pdays") {
            let v = crate::prep::numeric_values(p)?;
            let k = v.iter().filter(|x| **x == Some(999.0)).count();
            if k > 0 {
                text += &format!(
                    " `pdays` = 999 for {:.1} % of customers: \"never contacted before\", a \
                     sentinel, not 999 days.",
                    100.0 * k as f64 / n
                );
            }
        }
        if let (Ok(d), Ok(p)) = (
            df.column("days_since_last_purchase"),
            df.column("previous_purchases"),
        ) {
            let d = crate::prep::numeric_values(d)?;
            let p = crate::prep::numeric_values(p)?;
            let missing = d.iter().filter(|v| v.is_none()).count();
            let structural = d
                .iter()
                .zip(&p)
                .filter(|(d, p)| d.is_none() && **p == Some(0.0))
                .count();
            if missing > 0 {
                text += &format!(
                    " `days_since_last_purchase` is empty for {:.1} % of customers, and {:.0} % \
                     of those never bought before (`previous_purchases` = 0): the gap is \
                     structural, not noise, which is why the preprocessor adds a missing-value \
                     indicator beside the median.",
                    100.0 * missing as f64 / n,
                    100.0 * structural as f64 / missing as f64
                );
            }
        }
        Ok(text)
    }

    /// The buyer share, and the accuracy of predicting "no" for everyone.
    pub fn balance(labels: &[u8]) -> String {
        let n = labels.len().max(1);
        let buyers = labels.iter().filter(|&&l| l == 1).count();
        let share = buyers as f64 / n as f64;
        format!(
            "Buyers: {buyers} of {n} ({:.1} %). A model that says \"no\" to everyone is right {:.1} % \
             of the time: every accuracy in this walkthrough is read against that figure.",
            100.0 * share,
            100.0 * (1.0 - share)
        )
    }

    /// The strongest and weakest single columns by [`separation`].
    pub fn separation(ranked: &[(String, f64)]) -> String {
        let top: Vec<String> = ranked
            .iter()
            .take(5)
            .map(|(n, a)| format!("`{n}` ({a:.2})"))
            .collect();
        let weak: Vec<String> = ranked
            .iter()
            .filter(|(_, a)| *a < 0.55)
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        let mut text = format!(
            "Alone, the columns that separate buyers best (ROC AUC of the column by itself; 0.5 = \
             no signal) are {}.",
            top.join(", ")
        );
        if !weak.is_empty() {
            text += &format!(
                " On their own, {} carry almost nothing (below 0.55); a model can still use them \
                 in combination.",
                weak.join(", ")
            );
        }
        text
    }

    /// Pairs of numeric columns with |r| ≥ 0.7.
    pub fn correlations(df: &DataFrame) -> Result<String> {
        let names = crate::data::numeric_columns(df);
        let cols: Vec<Vec<Option<f64>>> = names
            .iter()
            .map(|n| {
                crate::prep::numeric_values(df.column(n).map_err(|e| Error::polars("column", e))?)
            })
            .collect::<Result<_>>()?;
        let mut pairs = Vec::new();
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                let Some((r, n)) = crate::data::pearson(&cols[i], &cols[j]) else {
                    continue;
                };
                if n < 3 {
                    continue;
                }
                if r.abs() >= 0.7 {
                    pairs.push((r, format!("`{}` and `{}` (r = {r:.2})", names[i], names[j])));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
        Ok(if pairs.is_empty() {
            "No two numeric columns are strongly correlated (all |r| < 0.7).".into()
        } else {
            format!(
                "Strongly correlated: {}. Such columns carry much the same information: trees \
                 pick either, so their importances share the credit.",
                pairs
                    .into_iter()
                    .map(|p| p.1)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_names_the_notebook_to_run_first() {
        let dir = tempfile::tempdir().unwrap();
        let w = Walkthrough {
            dataset: "demo".into(),
            data: "data/customers.csv".into(),
            load: LoadOptions::new("purchased"),
            root: dir.path().to_path_buf(),
            backend: "local".into(),
        };
        let e = w
            .load::<serde_json::Value>("channels", "02_preprocess.ipynb")
            .unwrap_err();
        assert!(e.to_string().contains("02_preprocess.ipynb"), "{e}");
        w.save("channels", &serde_json::json!({"a": 1})).unwrap();
        let back: serde_json::Value = w.load("channels", "02").unwrap();
        assert_eq!(back["a"], 1);
    }

    #[test]
    fn tuned_jobs_become_a_table() {
        let jobs = vec![TunedJob {
            name: "t-001".into(),
            status: "Completed".into(),
            objective: Some(0.9),
            hyperparameters: [("eta".to_string(), "0.1".to_string())].into(),
        }];
        let df = tuned_jobs_frame(&jobs).unwrap();
        assert_eq!(df.shape(), (1, 4));
    }

    #[test]
    fn findings_speak_of_the_table_shown() {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let ds = crate::data::load(
            project.join("data/customers.csv"),
            &LoadOptions::new("purchased").id("customer_id"),
        )
        .unwrap();
        let missing = Findings::missing(&ds.features).unwrap();
        assert!(
            missing.contains("`days_since_last_purchase` is empty for"),
            "{missing}"
        );
        assert!(missing.contains("100 % of those never bought"), "{missing}");
        let balance = Findings::balance(&ds.labels);
        assert!(
            balance.contains("1591 of 10000 (15.9 %)") && balance.contains("84.1 %"),
            "{balance}"
        );
        let ranked = separation(&ds.features, &ds.labels).unwrap();
        assert_eq!(ranked.len(), ds.features.width());
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(ranked.iter().all(|(_, a)| (0.5..=1.0).contains(a)));
        let top: Vec<&str> = ranked.iter().take(6).map(|(n, _)| n.as_str()).collect();
        assert!(
            top.contains(&"membership") && top.contains(&"previous_purchases"),
            "{top:?}"
        );
        let corr = Findings::correlations(&ds.features).unwrap();
        assert!(
            corr.contains("`minutes_on_site` and `pages_viewed` (r = 0.96)"),
            "{corr}"
        );
    }

    #[test]
    fn dictionaries_cover_every_column_of_both_tables() {
        let demo = data_dictionary("demo").unwrap();
        let header = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customers.csv"),
        )
        .unwrap();
        let columns: Vec<&str> = header.lines().next().unwrap().split(',').collect();
        let listed: Vec<String> = demo
            .column("column")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect();
        assert_eq!(listed, columns);
        let bank = data_dictionary("bank-marketing").unwrap();
        assert_eq!(bank.height(), 21);
        assert!(data_dictionary("iris").is_err());
    }

    #[test]
    fn numbers_and_paths_read_well() {
        assert_eq!(readable("0.6481676216494168"), "0.6482");
        assert_eq!(readable("12.345678"), "12.35");
        assert_eq!(readable("5"), "5");
        assert_eq!(readable("hist"), "hist");
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            shown(&project.join("work/prep/train.csv")),
            "work/prep/train.csv"
        );
        assert_eq!(shown(Path::new("/elsewhere/x.csv")), "/elsewhere/x.csv");
    }
}
