"""The reference of benches/tune.sh: Optuna's TPE tuning XGBoost 1.7.6 over the same search space,
on the same split files our `purchase-predict tune` wrote (SageMaker CSV: label first, no header).

    python tune_optuna.py DATA_DIR --trials 50 --seed 1 --threads 2 [--cv 5]

Trials are judged on the validation split, or with --cv K by K-fold stratified cross-validation
of the training split (xgboost.cv, the mean AUC at the best round), as `purchase-predict tune
--cv-folds off` and `--cv-folds K` judge them. The best trial is refit on the training split
with early stopping on the validation split, as ours is; Optuna keeps the best trial whatever
its margin. The defaults (the AWS tutorial's hyperparameters, 100 rounds, no early stopping,
what `purchase-predict run` trains) are trained once for the record.

Prints one JSON line: best objective, test AUC of the refit best model, test AUC of the
defaults, wall seconds (from the matrices in memory to the refit model, as ours is timed).
"""

import argparse
import json
import time

import numpy as np
import optuna
import xgboost as xgb

BASE = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "tree_method": "hist",
    "seed": 0,
}
NUM_ROUND = 300
EARLY_STOPPING_ROUNDS = 10
# Hyperparameters::default() in src/model/hyperparameters.rs: the AWS tutorial's.
DEFAULTS = {"max_depth": 5, "eta": 0.2, "gamma": 4.0, "min_child_weight": 6.0, "subsample": 0.8}
DEFAULT_ROUNDS = 100


def space(trial):
    # TunerConfig::default_ranges() in src/tune.rs.
    return {
        "eta": trial.suggest_float("eta", 0.01, 0.5, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "gamma": trial.suggest_float("gamma", 0.0, 5.0),
        "lambda": trial.suggest_float("lambda", 0.01, 10.0, log=True),
        "alpha": trial.suggest_float("alpha", 0.001, 10.0, log=True),
    }


def load(path):
    a = np.loadtxt(path, delimiter=",", dtype=np.float32)
    return a[:, 1:], a[:, 0]


def auc(y, p):
    # Mann-Whitney U with average ranks for ties.
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=np.float64)
    sp = p[order]
    i = 0
    while i < len(sp):
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cv", type=int, default=0, help="folds (0: judge on the validation split)")
    args = ap.parse_args()

    xtr, ytr = load(f"{args.data_dir}/train.csv")
    xva, yva = load(f"{args.data_dir}/validation.csv")
    xte, yte = load(f"{args.data_dir}/test.csv")

    started = time.perf_counter()
    # Built once, outside the objective: the fast way to use Optuna with XGBoost.
    dtrain = xgb.DMatrix(xtr, label=ytr, missing=np.nan)
    dval = xgb.DMatrix(xva, label=yva, missing=np.nan)

    def fit(params):
        return xgb.train(
            {**BASE, **params, "nthread": args.threads},
            dtrain,
            num_boost_round=NUM_ROUND,
            evals=[(dval, "validation")],
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            verbose_eval=False,
        )

    # Stratified folds, as ours deals them (each class shuffled, dealt round-robin); given to
    # xgboost.cv as index pairs (its own `stratified=True` needs scikit-learn).
    folds = []
    if args.cv:
        rng = np.random.default_rng(args.seed)
        parts = [[] for _ in range(args.cv)]
        for c in (0, 1):
            idx = np.flatnonzero(ytr == c)
            rng.shuffle(idx)
            for j, i in enumerate(idx):
                parts[j % args.cv].append(i)
        everything = np.arange(len(ytr))
        for held in parts:
            held = np.sort(np.array(held))
            folds.append((np.setdiff1d(everything, held), held))

    def objective(trial):
        if args.cv:
            result = xgb.cv(
                {**BASE, **space(trial), "nthread": args.threads},
                dtrain,
                num_boost_round=NUM_ROUND,
                folds=folds,
                early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            )
            # A dict of lists without pandas; cut at the best round by early stopping.
            return float(max(result["test-auc-mean"]))
        return fit(space(trial)).best_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=args.seed)
    )
    study.optimize(objective, n_trials=args.trials)
    best = fit(study.best_params)
    dtest = xgb.DMatrix(xte, missing=np.nan)
    p = best.predict(dtest, iteration_range=(0, best.best_iteration + 1))
    seconds = time.perf_counter() - started
    defaults = xgb.train(
        {**BASE, **DEFAULTS, "nthread": args.threads}, dtrain, num_boost_round=DEFAULT_ROUNDS
    )
    print(
        json.dumps(
            {
                "seed": args.seed,
                "cv": args.cv,
                "best_validation_auc": study.best_value,
                "test_auc": auc(yte, p),
                "defaults_test_auc": auc(yte, defaults.predict(dtest)),
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
