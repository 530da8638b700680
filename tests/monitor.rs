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
        &Current::table(table.display().to_string(), &frame),
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

/// The demo table's first `n` rows as JSON instances (numbers as numbers, empty as null),
/// with `edit` applied, and their labels (purchased yes/no as 1/0).
fn demo_instances(
    n: usize,
    edit: impl Fn(&mut serde_json::Map<String, serde_json::Value>),
) -> Vec<(serde_json::Value, u8)> {
    let text = std::fs::read_to_string(common::root().join("data/customers.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take(n)
        .map(|line| {
            let mut object = serde_json::Map::new();
            let mut label = 0;
            for (k, v) in header.iter().zip(line.split(',')) {
                if *k == "purchased" {
                    label = u8::from(v == "yes");
                    continue;
                }
                let value = if v.is_empty() {
                    serde_json::Value::Null
                } else if let Ok(x) = v.parse::<f64>() {
                    serde_json::json!(x)
                } else {
                    serde_json::json!(v)
                };
                object.insert(k.to_string(), value);
            }
            edit(&mut object);
            (serde_json::Value::Object(object), label)
        })
        .collect()
}

/// A week of traffic, as a capture folder holds it: the endpoint answers each customer (one
/// request each, with an inference id), and the records' times are then moved to seven
/// consecutive days, as if the requests had come over a week.
fn captured_week(
    model: &Path,
    captures: &Path,
    customers: &[(serde_json::Value, u8)],
) -> Vec<(String, u8)> {
    use purchase_predict::serve::{BackgroundServer, CaptureConfig, ServerConfig};
    let server = BackgroundServer::start(
        model,
        &ServerConfig::default()
            .port(0)
            .capture(CaptureConfig::folder(captures)),
    )
    .unwrap();
    let mut c = purchase_predict::serve::http::HttpConnection::connect(
        server.addr(),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let mut ids = Vec::new();
    for (i, (customer, label)) in customers.iter().enumerate() {
        let id = format!("order-{i:05}");
        let body = serde_json::json!({ "instances": [customer] }).to_string();
        let r = c
            .request(
                "POST",
                "/invocations",
                &[
                    ("Content-Type", "application/json"),
                    ("X-Amzn-SageMaker-Inference-Id", &id),
                ],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        ids.push((id, *label));
    }
    server.stop();
    // Spread the records over seven days: request i on day i * 7 / n.
    let n = customers.len();
    for file in purchase_predict::monitor::captured::capture_files(captures).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        let moved: String = text
            .lines()
            .map(|l| {
                let mut r = purchase_predict::codec::capture::CaptureRecord::parse_line(l).unwrap();
                let i: usize = r.event_metadata.inference_id.as_ref().unwrap()[6..]
                    .parse()
                    .unwrap();
                let day = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").unwrap()
                    + chrono::Duration::days((i * 7 / n) as i64);
                r.event_metadata.inference_time =
                    day.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                r.to_line()
            })
            .collect();
        std::fs::write(&file, moved).unwrap();
    }
    ids
}

#[test]
fn a_week_of_older_customers_drifts_and_its_delayed_labels_measure_the_model() {
    let (dir, model) = common::demo_model(20);
    // `run` wrote the baseline beside the model.
    let baseline_dir = dir.path().join("baseline");
    let baseline = Baseline::load(&baseline_dir).unwrap();
    let artifact = baseline.model(&baseline_dir, None).unwrap();
    let customers = demo_instances(700, |c| {
        let age = c["age"].as_f64().unwrap();
        c.insert("age".into(), serde_json::json!(age + 25.0));
    });
    let captures = dir.path().join("captures");
    let ids = captured_week(&model, &captures, &customers);

    // The capture folder checked against the baseline: age has drifted.
    let captured =
        purchase_predict::monitor::read_captures(&captures, &baseline.info.column_kinds()).unwrap();
    assert_eq!(captured.rows.len(), 700);
    assert_eq!(captured.height(), 700);
    let check = Check::run(
        &baseline,
        Some(&artifact),
        &Current::captured("captures", &captured),
    )
    .unwrap();
    assert_eq!(check.drift.drifted, ["age"], "{:?}", check.violations);
    // The captured scores are the model's own.
    let x = artifact
        .preprocessor
        .transform(&captured.frame().unwrap())
        .unwrap();
    let direct = artifact.model.predict(&x).unwrap();
    for (row, d) in captured.rows.iter().zip(&direct) {
        assert!((row.score as f32 - d).abs() < 1e-6);
    }

    // The purchases, known later, as a table of inference ids.
    let labels_csv = dir.path().join("labels.csv");
    let mut text = String::from("inference_id,label\n");
    for (id, y) in &ids {
        text += &format!("{id},{}\n", if *y == 1 { "yes" } else { "no" });
    }
    text += "order-99999,yes\n"; // an outcome for a request never captured
    std::fs::write(&labels_csv, text).unwrap();
    let truth = purchase_predict::monitor::GroundTruth::read(&labels_csv).unwrap();
    let threshold =
        purchase_predict::metrics::Threshold::new(f64::from(baseline.info.threshold)).unwrap();
    let costs = purchase_predict::metrics::Costs {
        contact_cost: 5.0,
        sale_value: 50.0,
    };
    let report = purchase_predict::monitor::quality(
        &captured,
        "captures",
        &truth,
        threshold,
        "baseline",
        Some(costs),
    )
    .unwrap();
    assert_eq!(report.labelled_rows, 700);
    assert_eq!(report.unmatched_labels, 1);
    let labels: Vec<u8> = ids.iter().map(|(_, y)| *y).collect();
    let want = purchase_predict::metrics::evaluate(&labels, &direct, threshold).unwrap();
    assert_eq!(report.overall.confusion, want.confusion);
    assert_eq!(report.overall.roc_auc, want.roc_auc);
    let c = want.confusion;
    assert_eq!(
        report.profit.unwrap(),
        c.tp as f64 * 50.0 - (c.tp + c.fp) as f64 * 5.0
    );
    assert_eq!(report.days.len(), 7);
    assert_eq!(report.days.iter().map(|d| d.rows).sum::<usize>(), 700);
    assert_eq!(report.days[0].day.to_string(), "2026-11-30");

    // The same outcomes as Model Monitor's ground-truth JSON lines give the same report.
    let jsonl = dir.path().join("ground-truth.jsonl");
    let lines: String = ids
        .iter()
        .map(|(id, y)| {
            serde_json::json!({
                "groundTruthData": {"data": y.to_string(), "encoding": "CSV"},
                "eventMetadata": {"eventId": id},
                "eventVersion": "0"
            })
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&jsonl, lines).unwrap();
    let truth = purchase_predict::monitor::GroundTruth::read(&jsonl).unwrap();
    let again = purchase_predict::monitor::quality(
        &captured, "captures", &truth, threshold, "baseline", None,
    )
    .unwrap();
    assert_eq!(again.overall.confusion, want.confusion);
    assert_eq!(again.profit, None);

    // The command: the check of the capture folder with the outcomes, in one page.
    let out = dir.path().join("week");
    let printed = common::cli_ok(&[
        "monitor",
        "check",
        "--baseline",
        baseline_dir.to_str().unwrap(),
        "--data",
        captures.to_str().unwrap(),
        "--labels",
        labels_csv.to_str().unwrap(),
        "--contact-cost",
        "5",
        "--sale-value",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(printed.contains("drifted columns: age"), "{printed}");
    assert!(
        printed.contains("quality: 700 of 700 captured rows labelled"),
        "{printed}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "Drift by column",
        "The scores then and now",
        "Quality once the purchases are known",
        "2026-12-06",
    ] {
        assert!(html.contains(part), "report.html lacks {part}");
    }
    assert_eq!(html.matches("data:image/png;base64,").count(), 3);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("quality.json")).unwrap()).unwrap();
    assert_eq!(written["labelled_rows"], 700);
    assert_eq!(written["days"].as_array().unwrap().len(), 7);

    // A label that is no label is refused with its file, row and column.
    std::fs::write(&labels_csv, "inference_id,label\norder-00001,maybe\n").unwrap();
    let err = purchase_predict::monitor::GroundTruth::read(&labels_csv).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("labels.csv, row 1, column `label`") && message.contains("maybe"),
        "{message}"
    );
}

#[test]
fn monitor_commands_write_their_files_and_say_what_drifted() {
    let (dir, model) = common::demo_model(10);
    let base = dir.path().join("baseline");
    let older = dir.path().join("older.csv");
    edited_demo(&older, 3000, |r| {
        let age: u32 = r["age"].parse().unwrap();
        r.insert("age".into(), (age + 25).to_string());
    });
    let out = dir.path().join("check");
    let printed = common::cli_ok(&[
        "monitor",
        "check",
        "--baseline",
        base.to_str().unwrap(),
        "--data",
        older.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(printed.contains("drifted columns: age"), "{printed}");
    for f in [
        "constraint_violations.json",
        "statistics.json",
        "drift.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // A baseline of another model is refused, naming the mismatch.
    let (_other_dir, other) = common::demo_model(3);
    let err = common::cli_err(&[
        "monitor",
        "check",
        "--baseline",
        base.to_str().unwrap(),
        "--data",
        older.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--model",
        other.to_str().unwrap(),
    ]);
    assert!(
        err.contains("not the model the baseline was made with"),
        "{err}"
    );
    // `monitor baseline` writes the same four files as `run`.
    let again = dir.path().join("again");
    common::cli_ok(&[
        "monitor",
        "baseline",
        "--model",
        model.to_str().unwrap(),
        "--data",
        "data/customers.csv",
        "--out",
        again.to_str().unwrap(),
    ]);
    for f in purchase_predict::monitor::baseline::BASELINE_FILES {
        assert!(again.join(f).is_file(), "{f}");
        assert!(base.join(f).is_file(), "{f}");
    }
    // quality needs a threshold from somewhere.
    let err = common::cli_err(&[
        "monitor",
        "quality",
        "--capture",
        dir.path().to_str().unwrap(),
        "--labels",
        older.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("--threshold"), "{err}");
}
