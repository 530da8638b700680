//! Today's customers against the baseline: Model Monitor's constraint checks and our drift
//! figures, per raw column, for the scores and for what drives them.
//!
//! [`Check::run`] takes the current rows (a table, or a capture folder read by
//! [`super::captured`]) and writes, through [`Check::write`]:
//! - `constraint_violations.json` (Model Monitor's format and check types:
//!   `data_type_check`, `completeness_check`, `baseline_drift_check`,
//!   `missing_column_check`, `extra_column_check`, `categorical_values_check`);
//! - `statistics.json` of the current rows (Model Monitor writes one per execution);
//! - `drift.json` ([`DriftReport`]): each column's figures ([`super::drift`]), the scores'
//!   drift, and each column's mean |SHAP| then and now.
//!
//! The rules, from `constraints.json`'s `monitoring_config` (Model Monitor's defaults):
//! - a numeric column drifts when the Kolmogorov-Smirnov distance passes
//!   `comparison_threshold` (0.1), and, with the `Robust` method, the KS test also finds the
//!   difference significant at 5 %; a categorical column when the largest change of one
//!   value's share passes `categorical_comparison_threshold` (`LInfinity`), or when the
//!   chi-square p-value is under it (`ChiSquared`);
//! - a data type violation when the share of a numeric column's present values that are
//!   numbers of its type (whole numbers for `Integral`) is under `datatype_check_threshold`;
//! - a categorical values violation when the share of present values inside the domain is
//!   under `domain_content_threshold`;
//! - a completeness violation when today's share of present values is under the baseline's
//!   by more than sampling noise (three standard errors of the difference of two binomial
//!   shares, the baseline's rows and today's: Model Monitor compares without that margin,
//!   and flags a column whose missing share moved by 0.1 % on a fresh sample).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, MonitoredColumn, SCORE_COLUMN};
use super::captured::Captured;
use super::drift::{self, CategoricalDrift, NumericDrift};
use super::statistics::{
    self, column_values, CategoricalDriftMethod, ComparisonMethod, FeatureConstraints,
    InferredType, Statistics, Toggle, Values,
};
use crate::error::{Error, Result};
use crate::model::artifact::Artifact;
use crate::util::files::write_json_atomically;

/// Model Monitor's check types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckType {
    /// Values of the wrong type.
    DataTypeCheck,
    /// Fewer values present than in the baseline.
    CompletenessCheck,
    /// The distribution moved.
    BaselineDriftCheck,
    /// A baseline column is absent.
    MissingColumnCheck,
    /// A column the baseline does not know.
    ExtraColumnCheck,
    /// Values outside the baseline's domain.
    CategoricalValuesCheck,
}

/// One violation, as Model Monitor writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The column.
    pub feature_name: String,
    /// The check it failed.
    pub constraint_check_type: CheckType,
    /// What was found, in words.
    pub description: String,
}

/// `constraint_violations.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintViolations {
    /// Every violation, column by column.
    pub violations: Vec<Violation>,
}

/// One column's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// The column.
    pub name: String,
    /// Read as numbers.
    pub numeric: bool,
    /// Present values in the reference and today.
    pub reference_values: usize,
    /// Present values today.
    pub current_values: usize,
    /// The distance the drift rule reads: Kolmogorov-Smirnov for numbers, L∞ for categories.
    pub distance: f64,
    /// Whether the column has drifted (the `baseline_drift_check` rule).
    pub drifted: bool,
    /// Numbers: the figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_drift: Option<NumericDrift>,
    /// Categories: the figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical_drift: Option<CategoricalDrift>,
    /// Mean of the present values then and now (numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<(f64, f64)>,
    /// Mean |SHAP| (log-odds) on the reference and today, when the model scored today's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_abs_shap: Option<(f64, f64)>,
}

/// The scores then and now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDrift {
    /// The figures.
    pub drift: NumericDrift,
    /// Mean score on the reference and today.
    pub mean: (f64, f64),
    /// Share of predicted buyers at the deployed threshold, on the reference and today.
    pub positive_rate: (f64, f64),
    /// Whether the scores drifted (the numeric drift rule).
    pub drifted: bool,
}

/// `drift.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// What was checked (a table or a capture folder).
    pub source: String,
    /// Its rows (customers).
    pub rows: usize,
    /// Reference rows.
    pub reference_rows: usize,
    /// One entry per monitored column, in the model's order.
    pub columns: Vec<ColumnDrift>,
    /// The scores, when there are any.
    pub scores: Option<ScoreDrift>,
    /// The drifted columns, largest distance first.
    pub drifted: Vec<String>,
    /// Why scores or SHAP values could not be computed, if so.
    pub notes: Vec<String>,
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
}

impl DriftReport {
    /// One row per column, largest distance first: the distance the drift rule reads, whether
    /// it drifted, the means then and now (numbers), and the mean |SHAP| then and now.
    pub fn frame(&self) -> Result<DataFrame> {
        use polars::prelude::Column;
        let mut cols: Vec<&ColumnDrift> = self.columns.iter().collect();
        cols.sort_by(|a, b| b.distance.total_cmp(&a.distance));
        let pick = |f: &dyn Fn(&ColumnDrift) -> Option<f64>| -> Vec<Option<f64>> {
            cols.iter().map(|c| f(c)).collect()
        };
        let frame = DataFrame::new(
            cols.len(),
            vec![
                Column::new(
                    "column".into(),
                    cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "distance".into(),
                    cols.iter().map(|c| c.distance).collect::<Vec<_>>(),
                ),
                Column::new(
                    "drifted".into(),
                    cols.iter().map(|c| c.drifted).collect::<Vec<_>>(),
                ),
                Column::new("mean then".into(), pick(&|c| c.mean.map(|m| m.0))),
                Column::new("mean now".into(), pick(&|c| c.mean.map(|m| m.1))),
                Column::new(
                    "mean |SHAP| then".into(),
                    pick(&|c| c.mean_abs_shap.map(|m| m.0)),
                ),
                Column::new(
                    "mean |SHAP| now".into(),
                    pick(&|c| c.mean_abs_shap.map(|m| m.1)),
                ),
            ],
        )
        .map_err(|e| Error::polars("the drift table", e))?;
        Ok(frame)
    }
}

/// A check's three results.
#[derive(Debug, Clone)]
pub struct Check {
    /// `statistics.json` of the current rows.
    pub statistics: Statistics,
    /// `constraint_violations.json`.
    pub violations: ConstraintViolations,
    /// `drift.json`.
    pub drift: DriftReport,
    /// Today's scores: as given, or the model's (`None` when the rows could not be scored).
    pub scores: Option<Vec<f64>>,
}

/// The files `monitor check` writes: a check's three, its page, and the quality when
/// outcomes were given.
pub const CHECK_FILES: [&str; 5] = [
    "constraint_violations.json",
    "statistics.json",
    "drift.json",
    "report.html",
    "quality.json",
];

/// Today's rows: a table, or the customers of a capture folder.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    /// A table of raw columns.
    Table(&'a DataFrame),
    /// Captured requests as read ([`super::read_captures`]): the check reads their columns
    /// without making a table of them.
    Captured(&'a Captured),
}

impl Rows<'_> {
    /// How many rows.
    pub fn height(&self) -> usize {
        match self {
            Rows::Table(df) => df.height(),
            Rows::Captured(c) => c.height(),
        }
    }

    /// Their column names.
    pub fn column_names(&self) -> Vec<String> {
        match self {
            Rows::Table(df) => df
                .get_column_names()
                .into_iter()
                .map(|n| n.to_string())
                .collect(),
            Rows::Captured(c) => c.column_names().into_iter().map(String::from).collect(),
        }
    }

    /// A column's values as the check reads them; `None` when there is no such column.
    fn values(&self, name: &str, numeric: bool) -> Option<Result<Values>> {
        match self {
            Rows::Table(df) => df.column(name).ok().map(|c| column_values(c, numeric)),
            Rows::Captured(c) => c.values(name, numeric),
        }
    }

    /// Some rows as a table.
    fn take(&self, rows: &[usize]) -> Result<DataFrame> {
        match self {
            Rows::Table(df) => super::baseline::take_rows(df, rows),
            Rows::Captured(c) => c.take(rows),
        }
    }

    /// All the rows as a table.
    fn frame(&self) -> Result<std::borrow::Cow<'_, DataFrame>> {
        match self {
            Rows::Table(df) => Ok(std::borrow::Cow::Borrowed(*df)),
            Rows::Captured(c) => c.frame().map(std::borrow::Cow::Owned),
        }
    }
}

/// What a check compares against the baseline.
pub struct Current<'a> {
    /// Where the rows came from, for the report.
    pub source: String,
    /// The rows (raw columns; others ignored).
    pub rows: Rows<'a>,
    /// Their scores, if known (a capture's answers); else the model scores them.
    pub scores: Option<Vec<f64>>,
    /// Columns that are not features and not extra (the target, the id).
    pub ignore: Vec<String>,
}

impl<'a> Current<'a> {
    /// A table's rows, which the model scores (when the check is given it).
    pub fn table(source: impl Into<String>, frame: &'a DataFrame) -> Current<'a> {
        Current {
            source: source.into(),
            rows: Rows::Table(frame),
            scores: None,
            ignore: Vec::new(),
        }
    }

    /// Captured requests: their customers, and the scores the endpoint answered (every
    /// scored row's, preprocessed rows' included).
    pub fn captured(source: impl Into<String>, captured: &'a Captured) -> Current<'a> {
        Current {
            source: source.into(),
            rows: Rows::Captured(captured),
            scores: Some(captured.all_scores()),
            ignore: Vec::new(),
        }
    }

    /// Columns not to report as extra.
    pub fn ignoring(mut self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.ignore.extend(columns.into_iter().map(Into::into));
        self
    }
}

/// What checking one column gives: its violations, its drift and its statistics (none of
/// the last two for a missing column).
type ColumnOutcome = (
    Vec<Violation>,
    Option<ColumnDrift>,
    Option<statistics::FeatureStatistics>,
);

/// Today's scores, their drift, and a note when they could not be computed.
type ScorePart = (Option<Vec<f64>>, Option<ScoreDrift>, Option<String>);

/// The numeric drift rule, for a column and for the scores alike: the Kolmogorov-Smirnov
/// distance past the threshold and, with `Robust`, the KS test significant at 5 %.
fn numeric_drifted(d: &NumericDrift, dc: &statistics::DistributionConstraints) -> bool {
    let significant = match dc.comparison_method {
        ComparisonMethod::Simple => true,
        ComparisonMethod::Robust => d.ks_p_value < 0.05,
    };
    d.ks_statistic > dc.comparison_threshold && significant
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

impl Check {
    /// Check `current` against `baseline`; `artifact` (the baseline's model) scores and
    /// explains rows that come without scores, and gives the SHAP comparison.
    pub fn run(
        baseline: &Baseline,
        artifact: Option<&Artifact>,
        current: &Current<'_>,
    ) -> Result<Check> {
        let config = &baseline.constraints.monitoring_config;
        let evaluate = config.evaluate_constraints == Toggle::Enabled;
        let compare = config.distribution_constraints.perform_comparison == Toggle::Enabled;
        let dc = &config.distribution_constraints;
        let mut violations = Vec::new();
        let mut notes = Vec::new();
        let mut columns = Vec::new();
        let known: BTreeSet<&str> = baseline
            .info
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .chain(current.ignore.iter().map(String::as_str))
            .chain(std::iter::once(baseline.info.target.as_str()))
            .chain(baseline.info.id_column.as_deref())
            .collect();
        for name in current.rows.column_names() {
            if evaluate && !known.contains(name.as_str()) {
                violations.push(Violation {
                    feature_name: name.to_string(),
                    constraint_check_type: CheckType::ExtraColumnCheck,
                    description: format!("`{name}` is not a column of the baseline"),
                });
            }
        }
        // Mean |SHAP| today, on a sample of the rows the model can read (alongside the
        // columns, below).
        let shap_today =
            || -> Result<std::result::Result<Option<BTreeMap<String, f64>>, String>> {
                let Some(a) = artifact else {
                    return Ok(Ok(None));
                };
                let rows = super::baseline::sample_indices(
                    current.rows.height(),
                    baseline.info.explained_rows.max(1),
                    baseline.info.seed ^ 0x5A5A,
                );
                let sample = current.rows.take(&rows)?;
                Ok(super::baseline::mean_abs_shap(a, &sample)
                    .map(Some)
                    .map_err(|e| e.to_string()))
            };
        // Each column on its own (in parallel): its violations, its drift, its statistics.
        let per_column =
            |(c, constraint): (&MonitoredColumn, &FeatureConstraints)| -> Result<ColumnOutcome> {
                let mut violations = Vec::new();
                let Some(now) = current.rows.values(&c.name, c.numeric) else {
                    if evaluate && constraint.evaluated() {
                        violations.push(Violation {
                            feature_name: c.name.clone(),
                            constraint_check_type: CheckType::MissingColumnCheck,
                            description: format!("`{}` is missing", c.name),
                        });
                    }
                    return Ok((violations, None, None));
                };
                let evaluate = evaluate && constraint.evaluated();
                let now = now?;
                // Numbers sorted once, for their statistics and their drift.
                let sorted_now = match &now {
                    Values::Numbers { .. } => {
                        let mut xs = now.numbers();
                        xs.sort_unstable_by(f64::total_cmp);
                        Some(xs)
                    }
                    Values::Categories { .. } => None,
                };
                let common = now.common();
                let stats = match &sorted_now {
                    Some(xs) => statistics::numeric_feature_statistics(&c.name, common, xs),
                    None => statistics::feature_statistics(&c.name, &now),
                };
                let reference = column_values(
                    baseline
                        .reference
                        .column(&c.name)
                        .map_err(|_| Error::MonitorBaseline {
                            path: baseline.info.data.clone(),
                            reason: format!("reference.parquet lacks `{}`", c.name),
                        })?,
                    c.numeric,
                )?;
                let total = (common.num_present + common.num_missing) as usize;
                let present = common.num_present as usize;
                if evaluate {
                    let completeness = share(present, total);
                    let expected = constraint.completeness;
                    // Both shares are estimates: the baseline's from its rows, today's from
                    // today's.
                    let reference_rows = baseline.statistics.dataset.item_count.max(1) as f64;
                    let margin = 3.0
                        * (expected
                            * (1.0 - expected)
                            * (1.0 / total.max(1) as f64 + 1.0 / reference_rows))
                            .sqrt();
                    if completeness < expected - margin - 1e-12 {
                        violations.push(Violation {
                            feature_name: c.name.clone(),
                            constraint_check_type: CheckType::CompletenessCheck,
                            description: format!(
                                "{:.2} % of values present, against {:.2} % in the baseline",
                                100.0 * completeness,
                                100.0 * expected
                            ),
                        });
                    }
                }
                let mut entry = ColumnDrift {
                    name: c.name.clone(),
                    numeric: c.numeric,
                    reference_values: reference.common().num_present as usize,
                    current_values: present,
                    distance: 0.0,
                    drifted: false,
                    numeric_drift: None,
                    categorical_drift: None,
                    mean: None,
                    mean_abs_shap: None,
                };
                match (&now, &reference) {
                    (Values::Numbers { not_numbers, .. }, _) => {
                        let xs = sorted_now.as_deref().unwrap_or_default();
                        // Today's statistics know when every value is whole.
                        let whole = stats.inferred_type == InferredType::Integral;
                        let wrong = *not_numbers as usize
                            + if constraint.inferred_type == InferredType::Integral && !whole {
                                xs.iter().filter(|x| x.fract() != 0.0).count()
                            } else {
                                0
                            };
                        let typed = share(present - wrong, present);
                        if evaluate && typed < config.datatype_check_threshold {
                            violations.push(Violation {
                                feature_name: c.name.clone(),
                                constraint_check_type: CheckType::DataTypeCheck,
                                description: format!(
                                "{wrong} of {present} values are not {} numbers ({:.2} % typed, \
                                 threshold {:.2} %)",
                                if constraint.inferred_type == InferredType::Integral {
                                    "whole"
                                } else {
                                    "finite"
                                },
                                100.0 * typed,
                                100.0 * config.datatype_check_threshold
                            ),
                            });
                        }
                        let mut rs = reference.numbers();
                        rs.sort_unstable_by(f64::total_cmp);
                        if !xs.is_empty() && !rs.is_empty() {
                            let d = drift::numeric_drift_of_sorted(&rs, xs);
                            entry.distance = d.ks_statistic;
                            entry.drifted = compare && numeric_drifted(&d, dc);
                            entry.mean = Some((mean(&rs), mean(xs)));
                            entry.numeric_drift = Some(d);
                        }
                    }
                    (Values::Categories { .. }, _) => {
                        let counts = now.counts();
                        if let Some(domain) = &constraint.string_constraints {
                            let inside: u64 = counts
                                .iter()
                                .filter(|(v, _)| domain.domains.binary_search(v).is_ok())
                                .map(|(_, n)| n)
                                .sum();
                            let within = share(inside as usize, present);
                            if evaluate && within < config.domain_content_threshold {
                                let mut unknown: Vec<(&String, &u64)> = counts
                                    .iter()
                                    .filter(|(v, _)| domain.domains.binary_search(v).is_err())
                                    .collect();
                                unknown.sort_by(|a, b| b.1.cmp(a.1));
                                let listed: Vec<String> = unknown
                                    .iter()
                                    .take(5)
                                    .map(|(v, n)| format!("`{v}` ({n})"))
                                    .collect();
                                violations.push(Violation {
                                    feature_name: c.name.clone(),
                                    constraint_check_type: CheckType::CategoricalValuesCheck,
                                    description: format!(
                                    "{:.2} % of values are in the baseline's domain (threshold \
                                     {:.2} %); new: {}",
                                    100.0 * within,
                                    100.0 * config.domain_content_threshold,
                                    listed.join(", ")
                                ),
                                });
                            }
                        }
                        let rc = reference.counts();
                        if !counts.is_empty() && !rc.is_empty() {
                            let d = drift::categorical_drift(&rc, &counts);
                            entry.distance = d.linf_distance;
                            entry.drifted = compare
                                && match dc.categorical_drift_method {
                                    CategoricalDriftMethod::LInfinity => {
                                        d.linf_distance > dc.categorical_comparison_threshold
                                    }
                                    CategoricalDriftMethod::ChiSquared => {
                                        d.chi_square_p_value < dc.categorical_comparison_threshold
                                    }
                                };
                            entry.categorical_drift = Some(d);
                        }
                    }
                }
                if entry.drifted && evaluate {
                    violations.push(Violation {
                        feature_name: c.name.clone(),
                        constraint_check_type: CheckType::BaselineDriftCheck,
                        description: drift_words(&entry),
                    });
                }
                Ok((violations, Some(entry), Some(stats)))
            };
        // The scores: today's as answered, or the model's; and their drift (alongside the
        // columns, below).
        let score_part = || -> Result<ScorePart> {
            let mut note = None;
            let scores: Option<Vec<f64>> = match (&current.scores, artifact) {
                (Some(s), _) => Some(s.clone()),
                (None, Some(a)) => match a.preprocessor.transform(&*current.rows.frame()?) {
                    Ok(x) => Some(a.model.predict(&x)?.iter().map(|&s| f64::from(s)).collect()),
                    Err(e) => {
                        note = Some(format!("today's rows could not be scored: {e}"));
                        None
                    }
                },
                (None, None) => None,
            };
            let reference_scores = Check::reference_scores(baseline);
            let threshold = baseline.info.threshold;
            let rate = |s: &[f64]| {
                share(
                    s.iter().filter(|&&p| p as f32 >= threshold).count(),
                    s.len(),
                )
            };
            let score_drift = scores
                .as_ref()
                .filter(|s| !s.is_empty() && !reference_scores.is_empty())
                .map(|s| {
                    let d = drift::numeric_drift(&reference_scores, s);
                    ScoreDrift {
                        drifted: compare && numeric_drifted(&d, dc),
                        mean: (mean(&reference_scores), mean(s)),
                        positive_rate: (rate(&reference_scores), rate(s)),
                        drift: d,
                    }
                });
            Ok((scores, score_drift, note))
        };
        let ((shap_now, outcomes), score_part) = rayon::join(
            || {
                rayon::join(shap_today, || {
                    use rayon::prelude::*;
                    baseline
                        .info
                        .columns
                        .par_iter()
                        .zip(baseline.constraints.features.par_iter())
                        .map(per_column)
                        .collect::<Result<Vec<ColumnOutcome>>>()
                })
            },
            score_part,
        );
        let shap_now = match shap_now? {
            Ok(m) => m,
            Err(e) => {
                notes.push(format!("no SHAP values for today's rows: {e}"));
                None
            }
        };
        let mut outcomes = outcomes?;
        if let Some(m) = &shap_now {
            for entry in outcomes.iter_mut().filter_map(|o| o.1.as_mut()) {
                entry.mean_abs_shap = baseline
                    .info
                    .mean_abs_shap
                    .get(&entry.name)
                    .zip(m.get(&entry.name))
                    .map(|(&then, &now)| (then, now));
            }
        }
        let (scores, score_drift, score_note) = score_part?;
        notes.extend(score_note);
        let mut features = Vec::with_capacity(outcomes.len());
        for (v, entry, stats) in outcomes {
            violations.extend(v);
            columns.extend(entry);
            features.extend(stats);
        }
        let mut drifted: Vec<&ColumnDrift> = columns.iter().filter(|c| c.drifted).collect();
        drifted.sort_by(|a, b| b.distance.total_cmp(&a.distance));
        let drifted = drifted.into_iter().map(|c| c.name.clone()).collect();
        let statistics = Statistics {
            version: 0,
            dataset: statistics::DatasetStatistics {
                item_count: current.rows.height() as u64,
            },
            features,
        };
        Ok(Check {
            statistics,
            violations: ConstraintViolations { violations },
            drift: DriftReport {
                source: current.source.clone(),
                rows: current.rows.height(),
                reference_rows: baseline.reference.height(),
                columns,
                scores: score_drift,
                drifted,
                notes,
                checked_at: Utc::now(),
            },
            scores,
        })
    }

    /// Write the check's three files into `dir` (created), each atomically.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_json_atomically(dir.join("constraint_violations.json"), &self.violations)?;
        write_json_atomically(dir.join("statistics.json"), &self.statistics)?;
        write_json_atomically(dir.join("drift.json"), &self.drift)
    }

    /// The baseline's reference scores.
    pub fn reference_scores(baseline: &Baseline) -> Vec<f64> {
        baseline
            .reference
            .column(SCORE_COLUMN)
            .ok()
            .and_then(|c| c.f64().ok().map(|ca| ca.iter().flatten().collect()))
            .unwrap_or_default()
    }

    /// The drifted columns with their distance, largest first.
    pub fn drifted(&self) -> BTreeMap<String, f64> {
        self.drift
            .columns
            .iter()
            .filter(|c| c.drifted)
            .map(|c| (c.name.clone(), c.distance))
            .collect()
    }
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// What a drifted column's figures say, in words.
fn drift_words(c: &ColumnDrift) -> String {
    match (&c.numeric_drift, &c.categorical_drift, c.mean) {
        (Some(d), _, Some((then, now))) => format!(
            "Kolmogorov-Smirnov distance {:.3} (p = {:.2e}); mean {then:.4} in the baseline, \
             {now:.4} now; PSI {:.3}",
            d.ks_statistic, d.ks_p_value, d.psi
        ),
        (_, Some(d), _) => format!(
            "the largest change of one value's share is {:.3} (L∞); chi-square p = {:.2e}; \
             PSI {:.3}",
            d.linf_distance, d.chi_square_p_value, d.psi
        ),
        _ => "drifted".into(),
    }
}
