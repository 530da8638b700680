//! The local hyperparameter tuner on the shipped data.

mod common;

use std::collections::BTreeMap;

use purchase_predict::app::pipeline::{prepare, RunConfig};
use purchase_predict::model::tune::{
    compare, tune, CvFolds, EarlyStoppingType, Judging, Kept, ParameterRange, Scaling, Strategy,
    TrialStatus, TunerConfig,
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

/// Judged on the validation split (the demo table is small enough that `Auto` would
/// cross-validate).
fn config() -> TunerConfig {
    let mut c = TunerConfig::new(small_space())
        .max_jobs(8)
        .max_parallel_jobs(2)
        .cv_folds(CvFolds::Off)
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
    // Trial 0 is the defaults whatever the seed; the search differs.
    assert_eq!(a.trials[0].hyperparameters, c.trials[0].hyperparameters);
    assert_eq!(a.trials[0].number, 0);
    assert_eq!(a.trials[0].hyperparameters["eta"], "0.2");
    assert_ne!(a.trials[1].hyperparameters, c.trials[1].hyperparameters);
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
    assert_eq!(frame.height(), 9);
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
    assert_eq!(r.judged_by, Judging::Folds(3));
    assert!(r.trials.iter().all(|t| t.fold_objectives.len() == 3));
    let c = config()
        .max_jobs(4)
        .objective("validation:logloss".parse().unwrap());
    let r = tune((&p.x_train, &p.y_train), p.validation(), &c, &mut Silent).unwrap();
    let best = r.best_training_job().objective.unwrap();
    assert!(r.trials.iter().all(|t| t.objective.unwrap() >= best));
    // Without a validation split or folds there is nothing to judge by.
    let e = tune((&p.x_train, &p.y_train), None, &config(), &mut Silent).unwrap_err();
    assert!(e.to_string().contains("validation split"), "{e}");
    // By default a table this small is cross-validated, with or without a validation split.
    let auto = config().max_jobs(2).cv_folds(CvFolds::Auto);
    let r = tune((&p.x_train, &p.y_train), p.validation(), &auto, &mut Silent).unwrap();
    assert_eq!(r.judged_by, Judging::Folds(5));
}

/// A base that learns little (two stumps at a crawl) against a space that learns well.
fn weak_defaults() -> TunerConfig {
    let mut c = TunerConfig::new(BTreeMap::from([
        ("max_depth".to_string(), ParameterRange::integer(4, 6)),
        ("eta".to_string(), ParameterRange::continuous(0.2, 0.4)),
    ]))
    .max_jobs(4)
    .max_parallel_jobs(2)
    .seed(3);
    c.base.num_round = 40;
    c.defaults.num_round = 40;
    c.defaults.max_depth = 1;
    c.defaults.eta = 0.01;
    c
}

/// A space that can only repeat the defaults (eta within 1 % of theirs, the same depth, the
/// same rounds without early stopping).
fn same_as_defaults() -> TunerConfig {
    let mut c = TunerConfig::new(BTreeMap::from([
        ("eta".to_string(), ParameterRange::continuous(0.198, 0.202)),
        ("max_depth".to_string(), ParameterRange::integer(5, 5)),
    ]))
    .max_jobs(4)
    .max_parallel_jobs(2)
    .seed(3);
    c.base.num_round = 40;
    c.base.early_stopping_rounds = None;
    c.defaults.num_round = 40;
    c
}

#[test]
fn the_defaults_are_trial_0_and_stay_unless_beaten_beyond_the_noise() {
    let (_dir, p) = prepared();
    let data = ((&p.x_train, &p.y_train[..]), p.validation());
    for folds in [CvFolds::Off, CvFolds::Folds(4)] {
        // A real gain: the tuned trial replaces the defaults, with an interval above 0.
        let r = tune(
            data.0,
            data.1,
            &weak_defaults().cv_folds(folds),
            &mut Silent,
        )
        .unwrap();
        assert_eq!(r.trials.len(), 5);
        assert_eq!(r.trials[0].hyperparameters["max_depth"], "1");
        let d = &r.decision;
        assert_eq!(d.kept, Kept::Tuned, "{folds}: {d:?}");
        assert_eq!(d.kept_trial, r.best_training_job().number);
        assert_eq!(d.compared, 4);
        assert!(d.interval[0] > 0.0 && d.advantage > 0.01, "{folds}: {d:?}");
        assert_eq!(
            r.kept_hyperparameters().unwrap().max_depth.to_string(),
            r.kept().hyperparameters["max_depth"]
        );
        match folds {
            CvFolds::Off => assert_eq!(r.judged_by, Judging::Holdout),
            _ => assert_eq!(r.judged_by, Judging::Folds(4)),
        }
    }
    // Settings that differ from the defaults only by noise (eta within 1 %): across folds,
    // where each fold trains them again, no trial is better beyond the noise of training.
    let r = tune(
        data.0,
        data.1,
        &same_as_defaults().cv_folds(CvFolds::Folds(4)),
        &mut Silent,
    )
    .unwrap();
    let d = &r.decision;
    assert_eq!(d.kept, Kept::Defaults, "{d:?}");
    assert_eq!(r.kept().number, 0);
    assert!(d.best_trial == 0 || d.interval[0] <= 0.0, "{d:?}");
    let hp = r.kept_hyperparameters().unwrap();
    assert_eq!((hp.eta, hp.max_depth, hp.num_round), (0.2, 5, 40));
    // A search that can only repeat the defaults ties with them, and a tie keeps them.
    let mut same = same_as_defaults().cv_folds(CvFolds::Off);
    same.ranges
        .insert("eta".to_string(), ParameterRange::categorical(["0.2"]));
    let r = tune(data.0, data.1, &same, &mut Silent).unwrap();
    assert!(r
        .trials
        .iter()
        .all(|t| t.objective == r.trials[0].objective));
    assert_eq!(r.decision.kept, Kept::Defaults);
    assert_eq!(r.decision.best_trial, 0);
}

#[test]
fn compare_applies_the_rule_to_two_given_settings() {
    let (_dir, p) = prepared();
    let config = weak_defaults().cv_folds(CvFolds::Off);
    let good = BTreeMap::from([
        ("max_depth".to_string(), "5".to_string()),
        ("eta".to_string(), "0.3".to_string()),
    ]);
    let d = compare((&p.x_train, &p.y_train), p.validation(), &config, good).unwrap();
    assert_eq!(d.kept, Kept::Tuned, "{d:?}");
    assert!(d.method.contains("paired bootstrap"), "{}", d.method);
    // The defaults against themselves: nothing to replace.
    let defaults = config.defaults_values();
    let d = compare((&p.x_train, &p.y_train), p.validation(), &config, defaults).unwrap();
    assert_eq!(d.kept, Kept::Defaults, "{d:?}");
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
    // Trial 0, the defaults, and the six searched.
    assert_eq!(trials.len(), 7);
    assert_eq!(trials[0]["number"], 0);
    let best = tuning["best_trial"].as_u64().unwrap() as usize;
    let best_auc = tuning["best_objective"].as_f64().unwrap();
    assert!(trials
        .iter()
        .all(|t| t["objective"].as_f64().unwrap() <= best_auc));
    assert_eq!(tuning["config"]["base"]["num_round"], 50);
    // The demo table is cross-validated by default; the decision says so.
    assert_eq!(tuning["config"]["cv_folds"], "auto");
    assert_eq!(tuning["judged_by"]["folds"], 5);
    assert_eq!(trials[best]["fold_objectives"].as_array().unwrap().len(), 5);
    let decision = &tuning["decision"];
    let kept = tuning["kept_trial"].as_u64().unwrap() as usize;
    assert_eq!(decision["kept_trial"].as_u64().unwrap() as usize, kept);
    assert!(kept == 0 || kept == best);
    let interval = decision["interval"].as_array().unwrap();
    assert_eq!(
        kept == best && best != 0,
        interval[0].as_f64().unwrap() > 0.0
    );
    assert!(stdout.contains("kept: "), "{stdout}");
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(report.contains("Tuning: the search against the defaults"));
    assert!(tuning["defaults_test_roc_auc"].as_f64().unwrap() > 0.75);
    let best_hp = &trials[kept]["hyperparameters"];
    // The saved model carries the kept trial's values.
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
