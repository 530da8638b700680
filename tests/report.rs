//! report.html: self-contained, and what a browser shows (headless Chromium).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--window-size=1100,2400",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn run_writes_a_self_contained_report() {
    let (dir, _model) = common::demo_model(20);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // The eight evaluation charts, the ROC curves beside the baseline, and three charts of
    // contributions (no profit curve without costs).
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 12);
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    for text in [
        "accuracy",
        "precision",
        "recall",
        "ROC AUC",
        "Hyperparameters",
        "eta",
        "XGBoost against a baseline",
        "logistic regression",
        "always no",
        "highest accuracy",
        "contributions by column",
        "Why this customer",
    ] {
        assert!(html.contains(text), "report lacks {text}");
    }
    assert!(!html.contains("Profit by threshold"));
}

/// With costs: the profit-optimal threshold (chosen on the validation split) becomes the
/// model's, the manifest says by which rule, and the report shows the profit curve.
#[test]
fn run_with_costs_chooses_the_threshold_by_profit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let stdout = common::cli_ok(&[
        "run",
        "--out",
        out,
        "--hp",
        "num_round=20",
        "--contact-cost",
        "5",
        "--sale-value",
        "50",
        "--threshold-rule",
        "profit",
    ]);
    assert!(stdout.contains("profit-optimal"), "{stdout}");
    let m = common::metrics(dir.path());
    let t = &m["thresholds"];
    assert_eq!(t["chosen_on"], "validation");
    assert_eq!(t["rule"], "profit");
    let optimal = t["profit"]["optimal"]["threshold"].as_f64().unwrap();
    assert_eq!(t["threshold"].as_f64().unwrap(), optimal);
    assert_eq!(
        m["threshold"].as_f64().unwrap(),
        optimal,
        "test metrics at the chosen threshold"
    );
    // The profit is the best of the sweep it was chosen from, and counts calls and sales.
    let sweep = t["profit"]["sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 101);
    let best = sweep
        .iter()
        .map(|p| p["profit"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(t["profit"]["optimal"]["profit"].as_f64().unwrap(), best);
    for p in sweep {
        let (calls, sales) = (p["calls"].as_f64().unwrap(), p["sales"].as_f64().unwrap());
        assert_eq!(p["profit"].as_f64().unwrap(), sales * 50.0 - calls * 5.0);
    }
    assert!(
        m["baseline"]["logistic_regression"]["roc_auc"]
            .as_f64()
            .unwrap()
            > 0.7
    );
    assert_eq!(
        m["baseline"]["always_no"]["accuracy"].as_f64().unwrap(),
        1.0 - m["base_rate"].as_f64().unwrap()
    );
    let artifact =
        purchase_predict::model::artifact::Artifact::load(dir.path().join("model.tar.gz")).unwrap();
    assert_eq!(artifact.manifest.threshold.get(), optimal);
    let rule = artifact.manifest.threshold_rule.unwrap();
    assert_eq!(rule.chosen_on, "validation");
    assert_eq!(rule.costs.unwrap().sale_value, 50.0);
    assert!(artifact.manifest.baseline.is_some());
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Profit by threshold") && html.contains("a sale is worth 50.00"));

    // Bad costs are refused, naming the option.
    for (args, named) in [
        (
            vec!["--contact-cost", "-1", "--sale-value", "50"],
            "--contact-cost",
        ),
        (vec!["--contact-cost", "5"], "--sale-value"),
        (
            vec!["--sale-value", "0", "--contact-cost", "1"],
            "--sale-value",
        ),
        (vec!["--threshold-rule", "profit"], "threshold_rule"),
        (vec!["--threshold-rule", "cheapest"], "--threshold-rule"),
    ] {
        let mut all = vec!["run", "--out", out];
        all.extend(args);
        let err = common::cli_err(&all);
        assert!(err.contains(named), "{all:?}: {err}");
    }
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        common::skip("Chromium is not installed (.ci/run installs Debian's chromium)");
        return;
    };
    let (dir, model) = common::demo_model(20);
    // `evaluate` writes the same page for any labelled table.
    let out = dir.path().join("evaluation");
    let stdout = common::cli_ok(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        common::root().join("data/customers.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("evaluated 10000 rows"), "{stdout}");
    let page = format!("file://{}", out.join("report.html").display());
    let profile = tempfile::tempdir().unwrap();

    let dom = headless(&browser, profile.path())
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for text in [
        "accuracy",
        "precision",
        "recall",
        "F1",
        "ROC AUC",
        "log loss",
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text}");
    }

    let shot = dir.path().join("report.png");
    let s = headless(&browser, profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let bytes = std::fs::read(&shot).unwrap();
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    assert_eq!((info.width, info.height), (1100, 2400));
    let white = pixels.iter().filter(|p| p[..3] == [255, 255, 255]).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    assert!(
        white < pixels.len() * 97 / 100 && colours.len() > 50,
        "a blank page: {white} white of {} pixels, {} colours",
        pixels.len(),
        colours.len()
    );
}
