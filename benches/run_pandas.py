"""`purchase-predict run` written as a data scientist would in pandas + Python xgboost 1.7.6
(benches/streaming.sh; pinned in benches/requirements-stages.txt): the reference for where
each tool stops as the table grows.

The same work as `run`: read the CSV, map the target, drop the id, stratified split (test
30 %, validation 20 % of the rest), fit the preprocessing on the training split (median
imputation with a `_missing` indicator, standardisation, one-hot over the training levels),
transform, write SageMaker's CSVs, train 100 rounds of the tutorial's hyperparameters (`hist`,
2 threads) evaluating the validation split each round, score the test split, ROC AUC. Prints
the seconds, the peak memory and the test ROC AUC; the last line is one JSON object.

    python run_pandas.py DATA TARGET ID OUT
"""

import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def stratified_split(y, test_share=0.3, validation_share=0.2, seed=42):
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_test = round(len(idx) * test_share)
        n_val = round((len(idx) - n_test) * validation_share)
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    return [np.sort(np.concatenate(p)) for p in parts]


def roc_auc(y, s):
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    # Ties share their mean rank.
    sorted_s = s[order]
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    for f, c in zip(first[counts > 1], counts[counts > 1]):
        ranks[order[f:f + c]] = f + (c + 1) / 2
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def main(data, target, id_column, out):
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    df = pd.read_csv(data)
    y = df[target].astype(str).str.strip().str.lower().isin(["yes", "true", "1", "1.0"])
    y = y.to_numpy(dtype=np.uint8)
    df = df.drop(columns=[c for c in (target, id_column) if c])
    train_idx, val_idx, test_idx = stratified_split(y)
    train = df.iloc[train_idx]
    columns = []
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c]):
            col = train[c]
            median = col.median()
            filled = col.fillna(median)
            std = filled.std(ddof=0) or 1.0
            columns.append(((df[c].fillna(median) - filled.mean()) / std).astype(np.float32))
            if col.isna().any():
                columns.append(df[c].isna().astype(np.float32))
        else:
            levels = sorted(train[c].fillna("missing").astype(str).unique())
            values = pd.Categorical(df[c].fillna("missing").astype(str), categories=levels)
            columns.append(pd.get_dummies(values, dtype=np.float32))
    del train
    x = pd.concat([c.reset_index(drop=True) for c in columns], axis=1).to_numpy(np.float32)
    del columns, df
    for name, idx in (("train", train_idx), ("validation", val_idx), ("test", test_idx)):
        part = pd.DataFrame(x[idx])
        part.insert(0, "label", y[idx])
        part.to_csv(os.path.join(out, f"{name}.csv"), header=False, index=False)
        del part
    params = {"max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6,
              "subsample": 0.8, "objective": "binary:logistic", "eval_metric": "auc",
              "tree_method": "hist", "nthread": 2, "seed": 0}
    dtrain = xgb.DMatrix(x[train_idx], label=y[train_idx], nthread=2)
    dval = xgb.DMatrix(x[val_idx], label=y[val_idx], nthread=2)
    booster = xgb.train(params, dtrain, num_boost_round=100, evals=[(dval, "validation")],
                        verbose_eval=False)
    del dtrain, dval
    scores = booster.predict(xgb.DMatrix(x[test_idx], nthread=2))
    auc = roc_auc(y[test_idx], scores)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"pandas {pd.__version__} + xgboost {xgb.__version__}: {len(y)} rows x "
          f"{x.shape[1]} features in {seconds:.1f} s; peak memory {peak_mb:.0f} MB; "
          f"test ROC AUC {auc:.4f}")
    print(json.dumps({"rows": len(y), "features": x.shape[1], "seconds": round(seconds, 2),
                      "peak_rss_mb": round(peak_mb), "roc_auc": round(float(auc), 5)}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
