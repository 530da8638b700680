//! The `purchase-predict` binary, used as a user would: spawn it, read what it writes.

mod common;

use common::{cli_err, cli_ok, metrics, read_numeric_csv};
use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::artifact::Artifact;

#[test]
fn run_on_the_shipped_data_writes_model_metrics_and_sagemaker_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stdout = cli_ok(&["run", "--out", out.to_str().unwrap()]);
    for word in [
        "accuracy",
        "roc_auc",
        "confusion matrix",
        "best F1",
        "model.tar.gz",
    ] {
        assert!(stdout.contains(word), "missing `{word}` in:\n{stdout}");
    }
    // Where the time went, stage by stage, in the order the stages ran.
    let time = stdout
        .lines()
        .find(|l| l.starts_with("time: "))
        .unwrap_or_else(|| panic!("no time line in:\n{stdout}"));
    let stages: Vec<&str> = time["time: ".len()..]
        .split(" · ")
        .map(|part| part.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "load",
            "split",
            "fit",
            "transform",
            "write",
            "train",
            "baseline",
            "evaluate",
            "save",
            "monitor"
        ],
        "{time}"
    );
    assert!(
        time.contains("(total ") && time.contains("peak memory"),
        "{time}"
    );
    let m = metrics(&out);
    for key in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "threshold",
        "n_train",
        "n_validation",
        "n_test",
    ] {
        assert!(
            m[key].is_number(),
            "metrics.json lacks numeric `{key}`: {m}"
        );
    }
    for key in ["tn", "fp", "fn", "tp"] {
        assert!(m["confusion"][key].is_u64(), "confusion.{key}");
    }
    let (n_train, n_val, n_test) = (
        m["n_train"].as_u64().unwrap() as usize,
        m["n_validation"].as_u64().unwrap() as usize,
        m["n_test"].as_u64().unwrap() as usize,
    );
    assert_eq!(n_train + n_val + n_test, 10_000);
    assert_eq!(n_test, 3000);
    let c = &m["confusion"];
    let total: u64 = ["tn", "fp", "fn", "tp"]
        .iter()
        .map(|k| c[k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, n_test);
    // The demo data has signal: far better than chance.
    assert!(m["roc_auc"].as_f64().unwrap() > 0.8, "{m}");

    // SageMaker CSVs: label first, no header, the same width everywhere.
    let train = read_numeric_csv(&out.join("train.csv"));
    let val = read_numeric_csv(&out.join("validation.csv"));
    let test = read_numeric_csv(&out.join("test.csv"));
    assert_eq!(
        (train.len(), val.len(), test.len()),
        (n_train, n_val, n_test)
    );
    let width = train[0].len();
    assert!(train
        .iter()
        .chain(&val)
        .chain(&test)
        .all(|r| r.len() == width));
    assert!(train.iter().all(|r| r[0] == 0.0 || r[0] == 1.0));
    assert!(
        train.iter().flatten().all(|v| v.is_finite()),
        "no missing values after imputation"
    );

    // The artifact loads, verifies, and scores test.csv to the same confusion matrix.
    let a = Artifact::load(out.join("model.tar.gz")).unwrap();
    assert_eq!(a.manifest.feature_names.len(), width - 1);
    assert_eq!(a.manifest.target, "purchased");
    assert_eq!(a.manifest.training_data.rows, 10_000);
    assert_eq!(
        a.manifest.training_data.sha256,
        purchase_predict::util::files::sha256_file(common::root().join("data/customers.csv"))
            .unwrap()
    );
    assert_eq!(a.manifest.libraries["xgboost"], "1.7.4");
    let x = FeatureMatrix {
        names: a.manifest.feature_names.clone(),
        nrows: test.len(),
        values: test.iter().flat_map(|r| r[1..].to_vec()).collect(),
    };
    let p = a.model.predict(&x).unwrap();
    let tp = p
        .iter()
        .zip(&test)
        .filter(|(p, r)| **p >= 0.5 && r[0] == 1.0)
        .count();
    assert_eq!(tp as u64, c["tp"].as_u64().unwrap());
}

#[test]
fn same_seed_gives_identical_split_files_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        cli_ok(&["run", "--out", d.to_str().unwrap(), "--hp", "nthread=1"]);
    }
    for f in ["train.csv", "validation.csv", "test.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(metrics(&a)["roc_auc"], metrics(&b)["roc_auc"]);
}

#[test]
fn options_reach_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    cli_ok(&[
        "run",
        "--out",
        o,
        "--validation-share",
        "0",
        "--test-share",
        "0.25",
        "--seed",
        "7",
        "--drop",
        "region,device",
        "--hp",
        "num_round=20",
        "--hp",
        "max_depth=3",
        "--threads",
        "1",
    ]);
    let m = metrics(&out);
    assert_eq!(m["n_validation"], 0);
    assert_eq!(m["n_test"], 2500);
    assert!(!out.join("validation.csv").exists());
    let a = Artifact::load(out.join("model.tar.gz")).unwrap();
    assert_eq!(a.manifest.hyperparameters.num_round, 20);
    assert_eq!(a.manifest.hyperparameters.max_depth, 3);
    assert_eq!(a.model.rounds, 20);
    assert!(!a
        .manifest
        .feature_names
        .iter()
        .any(|f| f.starts_with("region")));
}

#[test]
fn bad_input_exits_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    let o = o.to_str().unwrap();
    let e = cli_err(&["run", "--data", "no/such.csv", "--target", "y", "--out", o]);
    assert!(e.contains("file not found: no/such.csv"), "{e}");
    let e = cli_err(&[
        "run",
        "--data",
        "data/customers.csv",
        "--target",
        "bought",
        "--out",
        o,
    ]);
    assert!(
        e.contains("`bought` not found") && e.contains("columns are: customer_id, age,"),
        "{e}"
    );
    let e = cli_err(&["run", "--data", "data/customers.csv", "--out", o]);
    assert!(e.contains("--target"), "{e}");
    let e = cli_err(&["run", "--hp", "eta=3", "--out", o]);
    assert!(e.contains("`eta`") && e.contains("[0, 1]"), "{e}");
    let e = cli_err(&["run", "--hp", "depth=3", "--out", o]);
    assert!(e.contains("unknown hyperparameter"), "{e}");
    let e = cli_err(&["run", "--drop", "nope", "--out", o]);
    assert!(e.contains("`nope` given to `--drop` not found"), "{e}");
    let e = cli_err(&["run", "--target", "region", "--out", o]);
    assert!(
        e.contains("not yes/no") && e.contains("first at row 1"),
        "{e}"
    );
    // Nothing half-written was left behind by the failures.
    assert!(!std::path::Path::new(o).join("model.tar.gz").exists());
}

#[test]
fn generate_writes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.csv");
    cli_ok(&[
        "generate",
        "--out",
        p.to_str().unwrap(),
        "--rows",
        "250",
        "--seed",
        "5",
    ]);
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        text,
        purchase_predict::data::generate::customers_csv(250, 5)
    );
}
