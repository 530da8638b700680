//! The local hyperparameter tuner on the shipped data.

mod common;

use std::collections::BTreeMap;

use purchase_predict::app::pipeline::{prepare, RunConfig};
use purchase_predict::model::tune::{
    tune, EarlyStoppingType, ParameterRange, Scaling, Strategy, TrialStatus, TunerConfig,
};
use purchase_predict::util::progress::Silent;

fn prepared() -> (tempfile::TempDir, purchase_predict::app::pipeline::Prepared) {
    let dir = tempfile::tempdir().unwrap();
    let p = prepare(&RunConfig::demo(dir.path())).unwrap();
    (dir, p)
}

fn small_space() -> BTreeMap<String, ParameterRange> {
    BTreeMap::from([
        (
            "eta".to_string(),
            ParameterRange::continuous(0.002, 0.5).with_scaling(Scaling::Logarithmic),
        ),
        ("max_depth".to_string(), ParameterRange::integer(2, 8)),
        (
            "subsample".to_string(),
            ParameterRange::continuous(0.5, 1.0),
        ),
    ])
}

fn config() -> TunerConfig {
    let mut c = TunerConfig::new(small_space())
        .max_jobs(8)
        .max_parallel_jobs(2)
        .seed(11);
    c.base.num_round = 60;
    c
}

#[test]
fn a_seed_makes_a_parallel_run_reproducible() {
    let (_dir, p) = prepared();
    let run = |seed| {
        tune(
            (&p.x_train, &p.y_train),
            p.validation(),
            &config().seed(seed),
            &mut Silent,
        )
        .unwrap()
    };
    let (a, b, c) = (run(11), run(11), run(12));
    let outcome = |r: &purchase_predict::model::tune::TuningResult| {
        r.trials
            .iter()
            .map(|t| {
                (
                    t.hyperparameters.clone(),
                    t.objective,
                    t.rounds,
                    t.status.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(outcome(&a), outcome(&b));
    assert_ne!(a.trials[0].hyperparameters, c.trials[0].hyperparameters);
    // The best is the best.
    let best = a.best_training_job().objective.unwrap();
    assert!(a.trials.iter().all(|t| t.objective.unwrap() <= best));
    // Values stay in their ranges.
    for t in &a.trials {
        let eta: f64 = t.hyperparameters["eta"].parse().unwrap();
        let depth: i64 = t.hyperparameters["max_depth"].parse().unwrap();
        assert!(
            (0.002..=0.5).contains(&eta) && (2..=8).contains(&depth),
            "{t:?}"
        );
    }
    let frame = a.trials_frame().unwrap();
    assert_eq!(frame.height(), 8);
    for col in [
        "trial",
        "status",
        "validation:auc",
        "rounds",
        "eta",
        "max_depth",
    ] {
        assert!(frame.column(col).is_ok(), "no column {col}");
    }
}

#[test]
fn the_median_rule_stops_hopeless_trials_only_when_asked() {
    let (_dir, p) = prepared();
    let mut c = config().strategy(Strategy::Random).max_jobs(12).seed(5);
    c.base.early_stopping_rounds = None; // let every trial run its 60 rounds unless pruned
    let stopped = |t: EarlyStoppingType| {
        let r = tune(
            (&p.x_train, &p.y_train),
            p.validation(),
            &c.clone().early_stopping_type(t),
            &mut Silent,
        )
        .unwrap();
        r.trials
            .iter()
            .filter(|t| matches!(t.status, TrialStatus::Stopped { .. }))
            .count()
    };
    assert!(stopped(EarlyStoppingType::Auto) >= 2);
    assert_eq!(stopped(EarlyStoppingType::Off), 0);
}

#[test]
fn cross_validation_and_other_objectives_run() {
    let (_dir, p) = prepared();
    let c = config().max_jobs(4).cv_folds(Some(3));
    let r = tune((&p.x_train, &p.y_train), None, &c, &mut Silent).unwrap();
    let auc = r.best_training_job().objective.unwrap();
    assert!((0.75..1.0).contains(&auc), "{auc}");
    let c = config()
        .max_jobs(4)
        .objective("validation:logloss".parse().unwrap());
    let r = tune((&p.x_train, &p.y_train), p.validation(), &c, &mut Silent).unwrap();
    let best = r.best_training_job().objective.unwrap();
    assert!(r.trials.iter().all(|t| t.objective.unwrap() >= best));
    // Without a validation split or folds there is nothing to judge by.
    let e = tune((&p.x_train, &p.y_train), None, &config(), &mut Silent).unwrap_err();
    assert!(e.to_string().contains("validation split"), "{e}");
}

#[test]
fn tune_command_writes_every_trial_and_the_refit_best_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let stdout = common::cli_ok(&[
        "tune",
        "--out",
        out,
        "--max-jobs",
        "6",
        "--max-parallel-jobs",
        "2",
        "--range",
        "eta=0.01:0.4:Logarithmic",
        "--range",
        "max_depth=2:6",
        "--hp",
        "num_round=50",
    ]);
    assert!(stdout.contains("best trials by validation:auc"), "{stdout}");
    // The tuning is a stage of its own; the refit is the run's training.
    let time = stdout.lines().find(|l| l.starts_with("time: ")).unwrap();
    assert!(
        time.contains("· write ") && time.contains("· tune ") && time.contains("· train "),
        "{time}"
    );
    let tuning: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("tuning.json")).unwrap())
            .unwrap();
    let trials = tuning["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 6);
    let best = tuning["best_trial"].as_u64().unwrap() as usize;
    let best_hp = &trials[best - 1]["hyperparameters"];
    let best_auc = tuning["best_objective"].as_f64().unwrap();
    assert!(trials
        .iter()
        .all(|t| t["objective"].as_f64().unwrap() <= best_auc));
    assert_eq!(tuning["config"]["base"]["num_round"], 50);
    // The saved model carries the best trial's values.
    let artifact =
        purchase_predict::model::artifact::Artifact::load(dir.path().join("model.tar.gz")).unwrap();
    let hp = &artifact.manifest.hyperparameters;
    assert_eq!(
        hp.max_depth.to_string(),
        best_hp["max_depth"].as_str().unwrap()
    );
    assert_eq!(hp.eta.to_string(), best_hp["eta"].as_str().unwrap());
    assert!(tuning["test_metrics"]["roc_auc"].as_f64().unwrap() > 0.75);
    assert!(dir.path().join("metrics.json").exists());

    let err = common::cli_err(&["tune", "--out", out, "--range", "eta=0:1:Logarithmic"]);
    assert!(
        err.contains("range `eta`") && err.contains("needs min > 0"),
        "{err}"
    );
    let err = common::cli_err(&["tune", "--out", out, "--range", "max_depth=1.5:3"]);
    assert!(err.contains("bounds must be integers"), "{err}");
}
