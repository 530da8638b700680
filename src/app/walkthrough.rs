//! The notebook walkthrough's shared settings: which data, which working folder, which
//! backend, and what one notebook hands to the next.
//!
//! Each notebook in `notebooks/` starts with [`Walkthrough::from_env`] and ends by saving
//! what the next one needs ([`Walkthrough::save`]); the next one loads it
//! ([`Walkthrough::load`]), with an error that says which notebook to run first.
//!
//! Settings (environment variables, all optional):
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
}

impl fmt::Display for Walkthrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dataset `{}`: {} (target `{}`); working folder {}",
            self.dataset,
            self.data.display(),
            self.load.target,
            self.root.display()
        )
    }
}

impl Walkthrough {
    /// The settings from the environment (see the module docs).
    pub fn from_env() -> Result<Walkthrough> {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = std::env::var(crate::cloud::session::WORKDIR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| project.join("work"));
        let dataset = std::env::var(DATASET_ENV).unwrap_or_else(|_| "demo".into());
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
        })
    }

    /// The session the notebooks work in ([`Session::from_env`]), rooted at the working
    /// folder.
    pub fn session(&self) -> Result<Session> {
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
                .map(|j| j.hyperparameters.get(&n).cloned())
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
            load: LoadOptions::new("purchased"),
            root: dir.path().to_path_buf(),
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
}
