//! Data dictionaries: what each column of a table means, its unit, and how a missing value
//! is coded — the presets' own (`demo`, `bank-marketing`), one the user gives as a file, or
//! one written from the data. The first notebook shows it ([`crate::app::walkthrough`]).

use std::path::Path;

use polars::prelude::{Column, DataFrame};

use crate::error::{Error, Result};

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

/// A user's data dictionary: a CSV (any delimiter) with a `column` column and, optionally,
/// `meaning`, `unit` and `missing` (any case). Every column of the table gets a row, in the
/// table's order (a column the dictionary leaves out says so); a dictionary row naming no
/// column of the table is an error naming it.
pub fn read_dictionary(path: &Path, ds: &crate::data::Dataset) -> Result<DataFrame> {
    let df = crate::data::read_table(path, None)?;
    let find = |want: &str| {
        df.columns()
            .iter()
            .find(|c| c.name().trim().eq_ignore_ascii_case(want))
            .map(|c| c.cast(&polars::prelude::DataType::String))
    };
    let text = |want: &str| -> Result<Vec<Option<String>>> {
        match find(want) {
            None => Ok(vec![None; df.height()]),
            Some(c) => {
                let c = c.map_err(|e| Error::polars(format!("{} `{want}`", path.display()), e))?;
                let ca = c.str().map_err(|e| Error::polars("dictionary", e))?;
                Ok(ca.iter().map(|v| v.map(|v| v.trim().to_string())).collect())
            }
        }
    };
    if find("column").is_none() {
        return Err(Error::InvalidSetting {
            name: "dictionary".into(),
            reason: format!(
                "{} has no `column` column (its header: {}); a dictionary's columns are column, meaning, unit, missing",
                path.display(),
                df.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let (names, meaning, unit, missing) = (
        text("column")?,
        text("meaning")?,
        text("unit")?,
        text("missing")?,
    );
    let table = table_columns(ds);
    for (i, n) in names.iter().enumerate() {
        if let Some(n) = n {
            if !table.contains(n) {
                return Err(Error::InvalidSetting {
                    name: "dictionary".into(),
                    reason: format!(
                        "{} row {}: column `{n}` is not in the table (its columns: {})",
                        path.display(),
                        i + 1,
                        table.join(", ")
                    ),
                });
            }
        }
    }
    let mut rows: Vec<[String; 4]> = Vec::new();
    for col in &table {
        let at = names
            .iter()
            .position(|n| n.as_deref() == Some(col.as_str()));
        let get = |v: &[Option<String>]| at.and_then(|i| v[i].clone()).unwrap_or_default();
        rows.push(match at {
            Some(_) => [col.clone(), get(&meaning), get(&unit), get(&missing)],
            None => [
                col.clone(),
                "(not in the dictionary)".into(),
                String::new(),
                String::new(),
            ],
        });
    }
    dictionary_frame(rows)
}

/// The columns of the table as loaded: the id, the features, the target.
fn table_columns(ds: &crate::data::Dataset) -> Vec<String> {
    let mut v: Vec<String> = ds.ids.iter().map(|c| c.name().to_string()).collect();
    v.extend(ds.features.get_column_names().iter().map(|n| n.to_string()));
    v.push(ds.target.clone());
    v
}

fn dictionary_frame(rows: Vec<[String; 4]>) -> Result<DataFrame> {
    let col = |name: &str, i: usize| {
        Column::new(
            name.into(),
            rows.iter().map(|r| r[i].clone()).collect::<Vec<String>>(),
        )
    };
    DataFrame::new(
        rows.len(),
        vec![
            col("column", 0),
            col("meaning", 1),
            col("unit", 2),
            col("missing values", 3),
        ],
    )
    .map_err(|e| Error::polars("data dictionary", e))
}

/// A data dictionary written from the data, for a table that came without one: each column's
/// role, kind (whole numbers and their range, numbers, or a category and its number of
/// values) and how its missing values are written (empty cells, the text "unknown", or a
/// number that looks like a code for "missing", [`crate::data::sentinel`]). The meaning is
/// the user's to give. `positive` is the target's value that means "bought", when one was
/// named.
pub fn generated_dictionary(
    ds: &crate::data::Dataset,
    positive: Option<&str>,
) -> Result<DataFrame> {
    use crate::data::{readable_number, sentinel};
    let numeric = crate::data::numeric_columns(&ds.features);
    let n = ds.len().max(1) as f64;
    let pct = |k: usize| format!("{:.1} %", 100.0 * k as f64 / n);
    let mut rows: Vec<[String; 4]> = Vec::new();
    if let Some(id) = &ds.ids {
        rows.push([
            id.name().to_string(),
            "the customer's id (never a feature)".into(),
            "id".into(),
            missing_text(id.null_count(), &pct),
        ]);
    }
    for c in ds.features.columns() {
        let name = c.name().to_string();
        let mut missing = missing_text(c.null_count(), &pct);
        let unit = if numeric.contains(&name) {
            let v = crate::prep::numeric_values(c)?;
            let present: Vec<f64> = v.iter().flatten().copied().collect();
            let (lo, hi) = present
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(*x), b.max(*x))
                });
            if let Some((code, k)) = sentinel(&v) {
                missing = format!(
                    "{missing}; {} on {} of rows: a code (\"never\", \"unknown\"?), not a quantity",
                    readable_number(code),
                    pct(k)
                );
            }
            if present.iter().all(|x| x.fract() == 0.0) {
                format!(
                    "whole number, {} to {}",
                    readable_number(lo),
                    readable_number(hi)
                )
            } else {
                format!("number, {} to {}", readable_number(lo), readable_number(hi))
            }
        } else {
            let distinct = c
                .n_unique()
                .map_err(|e| Error::polars(format!("`{name}`"), e))?
                - usize::from(c.null_count() > 0);
            if let Ok(s) = c.str() {
                let k = s
                    .iter()
                    .filter(|v| v.is_some_and(|v| v.eq_ignore_ascii_case("unknown")))
                    .count();
                if k > 0 {
                    missing = format!("{missing}; \"unknown\" on {}", pct(k));
                }
            }
            format!("category, {distinct} values")
        };
        rows.push([
            name,
            "(not given: add it in a dictionary CSV)".into(),
            unit,
            missing,
        ]);
    }
    let buyers = ds.labels.iter().filter(|&&l| l == 1).count();
    rows.push([
        ds.target.clone(),
        match positive {
            Some(p) => format!("the target: 1 = {p:?} (bought), 0 = its other value"),
            None => "the target: 1 = yes / true / 1 (bought)".into(),
        },
        "two values".into(),
        format!("never missing; 1 on {}", pct(buyers)),
    ]);
    dictionary_frame(rows)
}

fn missing_text(nulls: usize, pct: &dyn Fn(usize) -> String) -> String {
    if nulls == 0 {
        "never empty".into()
    } else {
        format!("empty on {}", pct(nulls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
