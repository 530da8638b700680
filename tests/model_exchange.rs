//! Model exchange with Python xgboost 1.7.6, the version of SageMaker's xgboost:1.7-1 image,
//! in both directions.

mod common;

use purchase_predict::data::FeatureMatrix;
use purchase_predict::model::forest::Forest;
use purchase_predict::model::{train::train, Hyperparameters, Model};
use purchase_predict::util::progress::Silent;

fn fixture() -> std::path::PathBuf {
    common::root().join("tests/fixtures/xgboost-1.7")
}

fn features() -> FeatureMatrix {
    let rows = common::read_numeric_csv(&fixture().join("features.csv"));
    FeatureMatrix {
        names: (0..5).map(|i| format!("x{i}")).collect(),
        nrows: rows.len(),
        values: rows.concat(),
    }
}

/// Python 1.7.6 wrote `xgboost-model` in the legacy binary format, as SageMaker's container
/// does; we load it and reproduce Python's predictions.
#[test]
fn python_1_7_binary_model_loads_and_predicts_the_same() {
    let bytes = std::fs::read(fixture().join("xgboost-model")).unwrap();
    assert_eq!(
        &bytes[..4],
        b"binf",
        "the fixture is the legacy binary format"
    );
    let x = features();
    let model = Model::from_bytes(&bytes, x.names.clone()).unwrap();
    assert_eq!(model.rounds, 20);
    let want: Vec<f64> = std::fs::read_to_string(fixture().join("predictions.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // Through libxgboost, and through the endpoint's Rust tree walker.
    let forest = Forest::from_xgboost_json(&model.to_bytes().unwrap()).unwrap();
    forest.verify(model.booster(), 1000).unwrap();
    for got in [
        model.predict(&x).unwrap(),
        forest.predict(&x.values, x.nrows).unwrap(),
    ] {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (*g as f64 - w).abs() <= 1e-6,
                "row {i}: rust {g}, python {w}"
            );
        }
    }
}

/// A model we train and save (JSON content in a file named `xgboost-model`, as in our
/// artifact) loads in Python xgboost 1.7.6 and predicts what we predict.
#[test]
fn our_model_loads_in_python_1_7_and_predicts_the_same() {
    let Some(python) = common::python() else {
        return;
    };
    let x = features();
    let y: Vec<u8> = (0..x.nrows).map(|i| u8::from(x.row(i)[0] > 0.0)).collect();
    let mut hp = Hyperparameters::default();
    hp.set_all(&["num_round=15", "nthread=1", "gamma=0", "min_child_weight=1"])
        .unwrap();
    let model = train(&x, &y, None, &hp, &mut Silent).unwrap();
    let pred = model.predict(&x).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("xgboost-model");
    std::fs::write(&model_path, model.to_bytes().unwrap()).unwrap();
    let expected = dir.path().join("expected.txt");
    std::fs::write(
        &expected,
        pred.iter().map(|p| format!("{p:.9}\n")).collect::<String>(),
    )
    .unwrap();
    let out = std::process::Command::new(python)
        .arg(fixture().join("check_model.py"))
        .arg(&model_path)
        .arg(fixture().join("features.csv"))
        .arg(&expected)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("xgboost 1.7.6"), "{stdout}");
}
