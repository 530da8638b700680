//! The notebook walkthrough's shared settings: which table, which working folder, which
//! backend, and what one notebook hands to the next.
//!
//! Each notebook in `notebooks/` starts with [`Walkthrough::from_env`] and ends by saving
//! what the next one needs ([`Walkthrough::save`]); the next one loads it
//! ([`Walkthrough::load`]), with an error that says which notebook to run first.
//!
//! The table is the user's: the first notebook's settings cell names it ([`Settings`]: a local
//! path or an `s3://` URI, CSV or Parquet, its target, and optionally its id, the columns to
//! leave out, type overrides, the target's positive value and a data dictionary), and
//! [`Walkthrough::start`] checks and saves them in the working folder (`settings.json`) for
//! the later notebooks. `demo` (the shipped `data/customers.csv`) and `bank-marketing` (the
//! AWS tutorial's UCI data) are named presets of the same settings.
//!
//! Set before Jupyter starts, these environment variables win over the settings cell (all
//! optional):
//! - `PURCHASE_PREDICT_SETTINGS`: a JSON file of [`Settings`] (what `scripts/notebooks.sh
//!   --data FILE --target COL …` writes);
//! - `PURCHASE_PREDICT_DATASET`: the `data` setting alone (a preset name or a path);
//! - `PURCHASE_PREDICT_WORKDIR`: the working folder (default `work/` in the project);
//! - `PURCHASE_PREDICT_BACKEND`: `local` (default) or `sagemaker` ([`crate::cloud::session`]).
//!
//! ```no_run
//! use purchase_predict::app::walkthrough::{Settings, Walkthrough};
//! let w = Walkthrough::start(&Settings::data("my_customers.parquet").target("churned").id("id"))?;
//! println!("{w}");
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::app::pipeline::RunConfig;
use crate::cloud::estimator::TunedJob;
use crate::cloud::session::Session;
use crate::cloud::storage::Location;
use crate::data::LoadOptions;
use crate::error::{Error, Result};
use crate::util::runtime::block_on;

use crate::app::dictionary::{data_dictionary, generated_dictionary, read_dictionary};
pub use crate::app::findings::Findings;

/// The variable that sets the `data` setting alone: a preset name or a path.
pub const DATASET_ENV: &str = "PURCHASE_PREDICT_DATASET";
/// The variable naming a JSON file of [`Settings`] that wins over the settings cell.
pub const SETTINGS_ENV: &str = "PURCHASE_PREDICT_SETTINGS";
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

/// The presets: names that stand for a table with its settings.
pub const PRESETS: &[&str] = &["demo", "bank-marketing"];

/// What the first notebook's settings cell chooses. Build with [`Settings::data`] and the
/// setters; a preset (`demo`, `bank-marketing`) brings its own target, id and left-out
/// columns, and setters add to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A preset name, or the table: a path (relative to the notebook's folder, as in pandas)
    /// or an `s3://bucket/key` URI; CSV (any of `,` `;` tab `|`) or Parquet (`.parquet`).
    pub data: String,
    /// The column to predict: two values, one of them meaning "bought".
    pub target: Option<String>,
    /// A column that names the customer: kept beside the rows, never a feature.
    pub id: Option<String>,
    /// Columns to leave out (leaks, free text, anything not known when you predict).
    pub drop: Vec<String>,
    /// Columns to read as numbers whatever their type.
    pub numeric: Vec<String>,
    /// Columns to read as categories whatever their type (integer codes, zip codes).
    pub categorical: Vec<String>,
    /// The target's value that means "bought", when it is not yes/true/1.
    pub positive: Option<String>,
    /// A data dictionary: a CSV with the columns `column, meaning, unit, missing` (the last
    /// three may be empty); without one, the walkthrough describes the columns from the data.
    pub dictionary: Option<String>,
    /// `local` (this machine) or `sagemaker` (an AWS account).
    pub backend: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::data("demo")
    }
}

impl Settings {
    /// Settings for `data` (a preset name, a path or an `s3://` URI), in local mode.
    pub fn data(data: impl Into<String>) -> Settings {
        Settings {
            data: data.into(),
            target: None,
            id: None,
            drop: Vec::new(),
            numeric: Vec::new(),
            categorical: Vec::new(),
            positive: None,
            dictionary: None,
            backend: "local".into(),
        }
    }

    /// The column to predict.
    pub fn target(mut self, column: impl Into<String>) -> Self {
        self.target = Some(column.into());
        self
    }

    /// The id column.
    pub fn id(mut self, column: impl Into<String>) -> Self {
        self.id = Some(column.into());
        self
    }

    /// Columns to leave out.
    pub fn drop<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.drop.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Columns to read as numbers.
    pub fn numeric<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.numeric.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Columns to read as categories.
    pub fn categorical<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.categorical.extend(columns.into_iter().map(Into::into));
        self
    }

    /// The target's value that means "bought".
    pub fn positive(mut self, value: impl Into<String>) -> Self {
        self.positive = Some(value.into());
        self
    }

    /// A data dictionary CSV (`column, meaning, unit, missing`).
    pub fn dictionary(mut self, path: impl Into<String>) -> Self {
        self.dictionary = Some(path.into());
        self
    }

    /// `local` or `sagemaker`.
    pub fn backend(mut self, backend: impl Into<String>) -> Self {
        self.backend = backend.into();
        self
    }

    /// Whether `data` names a preset.
    pub fn is_preset(&self) -> bool {
        PRESETS.contains(&self.data.as_str())
    }
}

/// The saved settings' file in the working folder.
const SETTINGS_FILE: &str = "settings.json";

/// The walkthrough's settings, checked: the table found, its load options complete.
#[derive(Debug, Clone)]
pub struct Walkthrough {
    /// What the table is called on screen: the preset's name, or the file's name.
    pub dataset: String,
    /// The customer table on this machine (an `s3://` table is downloaded into the working
    /// folder's `data/`).
    pub data: PathBuf,
    /// Where the table came from, as the settings named it.
    pub source: String,
    /// How to load it (target, id, left-out columns, types, positive value).
    pub load: LoadOptions,
    /// The data dictionary the user gave (or the preset's), if any.
    pub dictionary: Option<PathBuf>,
    /// The working folder.
    pub root: PathBuf,
    /// `local` or `sagemaker`.
    pub backend: String,
    /// The settings as checked and saved (paths made absolute).
    pub settings: Settings,
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
        let l = &self.load;
        write!(
            f,
            "table `{}`: {} (target `{}`{}{}{}); backend {}; working folder {}",
            self.dataset,
            if self.source.starts_with("s3://") {
                self.source.clone()
            } else {
                shown(&self.data)
            },
            l.target,
            l.positive
                .as_ref()
                .map(|p| format!(" = {p:?} means bought"))
                .unwrap_or_default(),
            l.id.as_ref()
                .map(|id| format!("; id `{id}`"))
                .unwrap_or_else(|| "; no id column".into()),
            if l.drop.is_empty() {
                String::new()
            } else {
                format!("; left out: {}", l.drop.join(", "))
            },
            self.backend,
            shown(&self.root)
        )
    }
}

impl Walkthrough {
    /// The first notebook's start: `settings`, unless environment variables set before
    /// Jupyter started say otherwise, checked and saved for the later notebooks. The table's
    /// header is read here, so that a wrong column name fails in the settings cell.
    ///
    /// ```no_run
    /// use purchase_predict::app::walkthrough::{Settings, Walkthrough};
    /// let w = Walkthrough::start(&Settings::data("demo"))?;
    /// let mine = Walkthrough::start(&Settings::data("customers.csv").target("bought").drop(["notes"]))?;
    /// # Ok::<(), purchase_predict::Error>(())
    /// ```
    pub fn start(settings: &Settings) -> Result<Walkthrough> {
        let w = Self::with(&Self::overridden(settings.clone())?)?;
        crate::data::check_columns(&w.data, &w.load)?;
        w.save(SETTINGS_FILE.trim_end_matches(".json"), &w.settings)?;
        Ok(w)
    }

    /// The settings of the later notebooks: the environment's, else what the first notebook
    /// saved, else the defaults (see the module docs).
    pub fn from_env() -> Result<Walkthrough> {
        let path = Self::root_dir().join(SETTINGS_FILE);
        let saved = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<Settings>(&text)
                .map_err(|e| Error::json(path.display().to_string(), e))?,
            Err(_) => Settings::default(),
        };
        Self::with(&Self::overridden(saved)?)
    }

    /// `settings` with the environment's overrides applied.
    fn overridden(mut settings: Settings) -> Result<Settings> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(file) = env(SETTINGS_ENV) {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            settings = serde_json::from_str(&text).map_err(|e| Error::json(file.clone(), e))?;
        }
        if let Some(data) = env(DATASET_ENV) {
            if data != settings.data {
                settings = Settings::data(data).backend(settings.backend);
            }
        }
        if let Some(backend) = env(crate::cloud::session::BACKEND_ENV) {
            settings.backend = backend;
        }
        Ok(settings)
    }

    fn root_dir() -> PathBuf {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::env::var(crate::cloud::session::WORKDIR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| project.join("work"))
    }

    /// A user's path made absolute against the kernel's folder (the notebook's, in Jupyter).
    fn absolute(path: &str) -> Result<PathBuf> {
        let p = PathBuf::from(path);
        if p.is_absolute() {
            return Ok(p);
        }
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        Ok(cwd.join(p))
    }

    fn with(settings: &Settings) -> Result<Walkthrough> {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = Self::root_dir();
        let backend = settings.backend.clone();
        backend
            .parse::<crate::cloud::session::Backend>()
            .map_err(|_| Error::InvalidSetting {
                name: "backend".into(),
                reason: format!("`{backend}`: use `local` or `sagemaker`"),
            })?;
        let mut checked = settings.clone();
        let (dataset, source, mut load, dictionary) = match settings.data.as_str() {
            "" | "demo" => (
                "demo".to_string(),
                project.join("data/customers.csv").display().to_string(),
                LoadOptions::new("purchased").id("customer_id"),
                None,
            ),
            "bank-marketing" => {
                let path = std::env::var(BANK_CSV_ENV)
                    .map(PathBuf::from)
                    .unwrap_or_else(|_| {
                        project.join("../shared/datasets/bank-marketing/bank-additional-full.csv")
                    });
                if !path.exists() {
                    return Err(Error::InvalidSetting {
                        name: "data".into(),
                        reason: format!(
                            "bank-marketing needs {} (or {BANK_CSV_ENV} pointing at bank-additional-full.csv from the UCI repository)",
                            path.display()
                        ),
                    });
                }
                (
                    "bank-marketing".to_string(),
                    path.display().to_string(),
                    LoadOptions::new("y").drop(BANK_DROPPED.iter().copied()),
                    None,
                )
            }
            other => {
                let target = settings.target.clone().ok_or_else(|| Error::InvalidSetting {
                    name: "target".into(),
                    reason: format!(
                        "your table {other} needs a target: Settings::data({other:?}).target(\"the column to predict\")"
                    ),
                })?;
                let source = if other.starts_with("s3://") {
                    other.to_string()
                } else {
                    let p = Self::absolute(other)?;
                    if !p.is_file() {
                        return Err(Error::InvalidSetting {
                            name: "data".into(),
                            reason: format!(
                                "{} is not a file (a relative path is read from {}); the presets are {}",
                                p.display(),
                                std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
                                PRESETS.join(" and ")
                            ),
                        });
                    }
                    checked.data = p.display().to_string();
                    p.display().to_string()
                };
                let name = source.rsplit('/').next().unwrap_or(&source).to_string();
                (name, source, LoadOptions::new(target), None)
            }
        };
        if settings.is_preset() || settings.data.is_empty() {
            if let Some(t) = &settings.target {
                load.target = t.clone();
            }
        }
        if settings.id.is_some() {
            load.id = settings.id.clone();
        }
        let extra: Vec<String> = settings
            .drop
            .iter()
            .filter(|d| !load.drop.contains(d))
            .cloned()
            .collect();
        load = load
            .drop(extra)
            .numeric(settings.numeric.clone())
            .categorical(settings.categorical.clone());
        load.positive = settings.positive.clone();
        let dictionary = match &settings.dictionary {
            Some(d) => {
                let p = Self::absolute(d)?;
                checked.dictionary = Some(p.display().to_string());
                Some(p)
            }
            None => dictionary,
        };
        let data = if source.starts_with("s3://") {
            root.join("data").join(&dataset)
        } else {
            PathBuf::from(&source)
        };
        Ok(Walkthrough {
            dataset,
            data,
            source,
            load,
            dictionary,
            root,
            backend,
            settings: checked,
        })
    }

    /// Bring an `s3://` table into the working folder's `data/` through `session`'s storage
    /// (a no-op for a local table, and for an S3 table already brought).
    pub fn fetch_data(&self, session: &Session) -> Result<()> {
        if !self.source.starts_with("s3://") || self.data.is_file() {
            return Ok(());
        }
        let from: Location = self.source.parse()?;
        if !session.storage().has_s3() {
            return Err(Error::InvalidSetting {
                name: "data".into(),
                reason: format!(
                    "{} is in S3, and this session has no S3 client: run with backend \"sagemaker\" (the kernel then carries the AWS SDK), or copy the file here and name its path",
                    self.source
                ),
            });
        }
        block_on(session.storage().download_file(&from, &self.data))
    }

    /// The table, loaded with the settings' options (an `s3://` table is brought first).
    pub fn dataset(&self) -> Result<crate::data::Dataset> {
        if self.source.starts_with("s3://") {
            self.fetch_data(&self.session()?)?;
        }
        crate::data::load(&self.data, &self.load)
    }

    /// The data dictionary: the one the settings name, the preset's, or one generated from
    /// `ds` (a column's meaning is then "not given").
    pub fn data_dictionary(&self, ds: &crate::data::Dataset) -> Result<DataFrame> {
        if let Some(path) = &self.dictionary {
            return read_dictionary(path, ds);
        }
        match self.dataset.as_str() {
            d @ ("demo" | "bank-marketing") if self.settings.is_preset() => data_dictionary(d),
            _ => generated_dictionary(ds, self.load.positive.as_deref()),
        }
    }

    /// `path` as a notebook shows it: relative to the project when inside it.
    pub fn shown(&self, path: impl AsRef<Path>) -> String {
        shown(path.as_ref())
    }

    /// A storage location as a notebook shows it (local paths relative to the project).
    pub fn shown_location(&self, location: &Location) -> String {
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
        c.settings.load = self.load.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_names_the_notebook_to_run_first() {
        let dir = tempfile::tempdir().unwrap();
        let w = Walkthrough {
            dataset: "demo".into(),
            data: "data/customers.csv".into(),
            source: "data/customers.csv".into(),
            load: LoadOptions::new("purchased"),
            dictionary: None,
            root: dir.path().to_path_buf(),
            backend: "local".into(),
            settings: Settings::default(),
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

    /// A text column's values.
    fn texts(df: &DataFrame, name: &str) -> Vec<String> {
        let c = df.column(name).unwrap().str().unwrap();
        c.iter().flatten().map(str::to_string).collect()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn your_own_table_is_named_by_path_target_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(
            dir.path(),
            "shop.csv",
            "Visits,Tier,Note,Bought\n3,gold,x,true\n1,none,y,false\n4,gold,z,true\n0,none,,false\n",
        );
        let s = Settings::data(csv.display().to_string())
            .target("Bought")
            .drop(["Note"])
            .categorical(["Visits"]);
        let w = Walkthrough::with(&s).unwrap();
        assert_eq!(w.dataset, "shop.csv");
        assert_eq!(w.load.target, "Bought");
        assert_eq!(w.load.drop, ["Note"]);
        assert_eq!(w.load.id, None);
        assert!(
            w.to_string()
                .contains("target `Bought`; no id column; left out: Note"),
            "{w}"
        );
        crate::data::check_columns(&w.data, &w.load).unwrap();
        let ds = w.dataset().unwrap();
        assert_eq!(ds.labels, [1, 0, 1, 0]);
        assert_eq!(ds.name_of(1), "row 2 of the table");
        // No dictionary given: one is written from the data, every column in it.
        let d = w.data_dictionary(&ds).unwrap();
        let cols = texts(&d, "column");
        assert_eq!(cols, ["Visits", "Tier", "Bought"]);
        let units = texts(&d, "unit");
        assert_eq!(units[0], "category, 4 values");

        // A column that is not there fails at once, naming the option and the columns.
        let bad = Walkthrough::with(
            &Settings::data(csv.display().to_string())
                .target("Bought")
                .id("Id"),
        )
        .unwrap();
        let e = crate::data::check_columns(&bad.data, &bad.load)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Id") && e.contains("Visits, Tier, Note, Bought"),
            "{e}"
        );
        // A table without a target is refused with the call that fixes it.
        let e = Walkthrough::with(&Settings::data(csv.display().to_string()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(".target("), "{e}");
        // A path that is no file names where it was looked for.
        let e = Walkthrough::with(&Settings::data("/nowhere/x.csv").target("y"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nowhere/x.csv is not a file"), "{e}");
    }

    #[test]
    fn a_given_dictionary_is_checked_against_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(dir.path(), "t.csv", "id,age,y\na,30,yes\nb,40,no\n");
        let dict = write(
            dir.path(),
            "d.csv",
            "Column;Meaning;Unit\nage;age of the customer;years\n",
        );
        let s = Settings::data(csv.display().to_string())
            .target("y")
            .id("id")
            .dictionary(dict.display().to_string());
        let w = Walkthrough::with(&s).unwrap();
        let ds = w.dataset().unwrap();
        assert_eq!(ds.name_of(1), "customer b");
        let d = w.data_dictionary(&ds).unwrap();
        let meaning = texts(&d, "meaning");
        assert_eq!(
            meaning,
            [
                "(not in the dictionary)",
                "age of the customer",
                "(not in the dictionary)"
            ]
        );
        let wrong = write(dir.path(), "w.csv", "column,meaning\nincome,yearly\n");
        let w = Walkthrough::with(&s.clone().dictionary(wrong.display().to_string())).unwrap();
        // `dictionary` adds to the settings: the last one given wins.
        let e = w.data_dictionary(&ds).unwrap_err().to_string();
        assert!(
            e.contains("row 1: column `income` is not in the table"),
            "{e}"
        );
    }

    #[test]
    fn presets_keep_their_options_and_take_additions() {
        let w = Walkthrough::with(&Settings::data("demo").drop(["gender"])).unwrap();
        assert_eq!(w.load.target, "purchased");
        assert_eq!(w.load.id.as_deref(), Some("customer_id"));
        assert_eq!(w.load.drop, ["gender"]);
        let json = serde_json::to_string(&Settings::data("demo")).unwrap();
        let back: Settings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Settings::data("demo"));
        // Settings saved by an older walkthrough ({dataset, backend}) still read: defaults.
        let old: Settings = serde_json::from_str(r#"{"backend": "local"}"#).unwrap();
        assert_eq!(old.data, "demo");
    }

    #[test]
    fn an_s3_table_is_brought_through_the_session_and_needs_s3() {
        let w =
            Walkthrough::with(&Settings::data("s3://my-bucket/tables/shop.parquet").target("y"))
                .unwrap();
        assert_eq!(w.dataset, "shop.parquet");
        assert!(
            w.data.ends_with("data/shop.parquet"),
            "{}",
            w.data.display()
        );
        assert!(
            w.to_string().contains("s3://my-bucket/tables/shop.parquet"),
            "{w}"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = w
            .fetch_data(&Session::local(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no S3 client") && e.contains("sagemaker"), "{e}");
    }
}
