//! Monitoring a deployed model: the baseline in Model Monitor's formats, the check of a table
//! or a capture folder against it, and the drift figures against SciPy and NumPy.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use purchase_predict::monitor::check::CheckType;
use purchase_predict::monitor::statistics::{column_values, Values};
use purchase_predict::monitor::{drift, Baseline, BaselineSettings, Check, Current};

/// The demo table with `edit` applied to each row (a CSV record as a map), written to `to`.
fn edited_demo(to: &Path, rows: usize, edit: impl Fn(&mut BTreeMap<String, String>)) {
    let text = std::fs::read_to_string(common::root().join("data/customers.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut out_header = header.clone();
    let mut body = String::new();
    for line in lines.take(rows) {
        let mut row: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(line.split(',').map(str::to_string))
            .collect();
        edit(&mut row);
        for k in row.keys() {
            if !out_header.contains(k) {
                out_header.push(k.clone());
            }
        }
        let fields: Vec<String> = out_header
            .iter()
            .filter(|h| row.contains_key(*h))
            .map(|h| row[h].clone())
            .collect();
        body += &fields.join(",");
        body.push('\n');
    }
    // Columns removed by `edit` leave the header too.
    let sample: BTreeMap<String, String> = header
        .iter()
        .cloned()
        .zip(text.lines().nth(1).unwrap().split(',').map(str::to_string))
        .collect();
    let mut probe = sample.clone();
    edit(&mut probe);
    let kept: Vec<String> = out_header
        .into_iter()
        .filter(|h| probe.contains_key(h))
        .collect();
    std::fs::write(to, kept.join(",") + "\n" + &body).unwrap();
}

fn check_table(baseline: &Baseline, model: &Path, table: &Path) -> Check {
    let artifact = purchase_predict::model::artifact::Artifact::load(model).unwrap();
    let frame = purchase_predict::data::read_table(table, None).unwrap();
    Check::run(
        baseline,
        Some(&artifact),
        &Current {
            source: table.display().to_string(),
            frame: &frame,
            scores: None,
            ignore: Vec::new(),
        },
    )
    .unwrap()
}

fn kinds(check: &Check, column: &str) -> Vec<CheckType> {
    check
        .violations
        .violations
        .iter()
        .filter(|v| v.feature_name == column)
        .map(|v| v.constraint_check_type)
        .collect()
}

#[test]
fn the_training_table_has_no_drift_and_older_customers_do() {
    let (dir, model) = common::demo_model(20);
    let data = common::root().join("data/customers.csv");
    let baseline = Baseline::build(&model, &data, &BaselineSettings::default()).unwrap();
    baseline.write(dir.path().join("baseline")).unwrap();
    let baseline = Baseline::load(dir.path().join("baseline")).unwrap();
    assert_eq!(baseline.info.rows, 10_000);
    assert!(!baseline.info.sampled);

    // The training table against its own baseline: nothing.
    let same = check_table(&baseline, &model, &data);
    assert!(
        same.violations.violations.is_empty(),
        "{:?}",
        same.violations
    );
    assert!(same.drift.drifted.is_empty());
    let scores = same.drift.scores.as_ref().unwrap();
    assert_eq!(scores.drift.ks_statistic, 0.0);
    assert!(!scores.drifted);
    for c in &same.drift.columns {
        let (then, now) = c.mean_abs_shap.unwrap();
        assert!(then > 0.0 && now > 0.0, "{c:?}");
    }

    // The same customers 25 years older: age drifts, and only age among the columns.
    let older = dir.path().join("older.csv");
    edited_demo(&older, 4000, |r| {
        let age: u32 = r["age"].parse().unwrap();
        r.insert("age".into(), (age + 25).to_string());
    });
    let check = check_table(&baseline, &model, &older);
    assert_eq!(check.drift.drifted, ["age"], "{:?}", check.violations);
    assert_eq!(kinds(&check, "age"), [CheckType::BaselineDriftCheck]);
    let age = check
        .drift
        .columns
        .iter()
        .find(|c| c.name == "age")
        .unwrap();
    let (then, now) = age.mean.unwrap();
    assert!((now - then - 25.0).abs() < 1.0, "{then} → {now}");
    assert!(age.numeric_drift.as_ref().unwrap().psi > 0.25);
    // The model reads age: its scores move too, and age's mean |SHAP| changes.
    let (shap_then, shap_now) = age.mean_abs_shap.unwrap();
    assert!(
        (shap_now - shap_then).abs() > 0.01,
        "{shap_then} {shap_now}"
    );
}

#[test]
fn each_constraint_check_names_its_column() {
    let (dir, model) = common::demo_model(10);
    let data = common::root().join("data/customers.csv");
    let baseline = Baseline::build(&model, &data, &BaselineSettings::default()).unwrap();
    let broken = dir.path().join("broken.csv");
    edited_demo(&broken, 3000, |r| {
        // A region the baseline never saw, a device column gone, a new column, income as
        // text half the time, and most sessions missing.
        if r["customer_id"].ends_with('1') {
            r.insert("region".into(), "atlantis".into());
        }
        r.remove("device");
        r.insert("coupon".into(), "yes".into());
        if r["customer_id"].ends_with('2') {
            r.insert("income".into(), "unknown".into());
        }
        if !r["customer_id"].ends_with('3') {
            r.insert("sessions_30d".into(), String::new());
        }
    });
    let check = check_table(&baseline, &model, &broken);
    assert!(kinds(&check, "region").contains(&CheckType::CategoricalValuesCheck));
    let region = check
        .violations
        .violations
        .iter()
        .find(|v| v.constraint_check_type == CheckType::CategoricalValuesCheck)
        .unwrap();
    assert!(
        region.description.contains("`atlantis` (300)"),
        "{region:?}"
    );
    assert_eq!(kinds(&check, "device"), [CheckType::MissingColumnCheck]);
    assert_eq!(kinds(&check, "coupon"), [CheckType::ExtraColumnCheck]);
    assert!(kinds(&check, "income").contains(&CheckType::DataTypeCheck));
    assert!(kinds(&check, "sessions_30d").contains(&CheckType::CompletenessCheck));
    // The id and the target are not extra columns.
    assert!(kinds(&check, "customer_id").is_empty());
    assert!(kinds(&check, "purchased").is_empty());
    // The rows cannot all be scored (text in a numeric column, a column gone): said, not hidden.
    assert!(
        check.drift.notes.iter().any(|n| n.contains("scored")),
        "{:?}",
        check.drift.notes
    );
}

/// The bank data's columns, its first 30,000 calls as the reference and the 11,188 after
/// them as today (the table is in time order: the campaigns' economy changed).
#[test]
fn drift_figures_agree_with_scipy_and_numpy_to_1e9() {
    let Some(bank) = common::shared_dataset("bank-marketing/bank-additional-full.csv") else {
        return;
    };
    let Some(python) = common::python() else {
        return;
    };
    let table = purchase_predict::data::read_table(&bank, None).unwrap();
    let (reference, current) = (table.slice(0, 30_000), table.slice(30_000, usize::MAX));
    let numeric = [
        "age",
        "duration",
        "campaign",
        "pdays",
        "euribor3m",
        "cons.conf.idx",
    ];
    let categorical = ["job", "month", "poutcome", "education", "day_of_week"];
    let values = |df: &polars::prelude::DataFrame, c: &str, n: bool| {
        column_values(df.column(c).unwrap(), n).unwrap()
    };
    let mut input = serde_json::json!({"numeric": {}, "categorical": {}});
    let mut ours = serde_json::json!({"numeric": {}, "categorical": {}});
    for c in numeric {
        let (r, n) = (
            values(&reference, c, true).numbers(),
            values(&current, c, true).numbers(),
        );
        input["numeric"][c] = serde_json::json!([r, n]);
        ours["numeric"][c] = serde_json::to_value(drift::numeric_drift(&r, &n)).unwrap();
    }
    for c in categorical {
        let (r, n): (Values, Values) = (values(&reference, c, false), values(&current, c, false));
        input["categorical"][c] = serde_json::json!([r.counts(), n.counts()]);
        ours["categorical"][c] =
            serde_json::to_value(drift::categorical_drift(&r.counts(), &n.counts())).unwrap();
    }
    let mut child = std::process::Command::new(python)
        .arg(common::root().join("tests/fixtures/monitor/drift_reference.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let mut compared = 0;
    for kind in ["numeric", "categorical"] {
        for (column, figures) in theirs[kind].as_object().unwrap() {
            for (name, want) in figures.as_object().unwrap() {
                let got = &ours[kind][column][name];
                if want == "inf" {
                    // serde_json writes an infinite f64 as null.
                    assert!(got.is_null(), "{column} {name}: ours {got}, reference inf");
                    compared += 1;
                    continue;
                }
                let want = want.as_f64().unwrap();
                let got = got.as_f64().unwrap();
                // 1e-9, relative for figures above 1 (chi-square statistics run to thousands).
                let tolerance = 1e-9 * want.abs().max(1.0);
                assert!(
                    (got - want).abs() <= tolerance,
                    "{column} {name}: ours {got}, reference {want}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 6 * 5 + 5 * 6);
    // The economy moved: euribor3m drifted far, age hardly.
    let euribor = ours["numeric"]["euribor3m"]["ks_statistic"]
        .as_f64()
        .unwrap();
    assert!(euribor > 0.5, "{euribor}");
}
