"""The preprocessing of `purchase-predict run` written as a data scientist would in pandas
(benches/stages.sh; pandas and numpy pinned in benches/requirements-stages.txt).

Same steps, same rules as src/prep/mod.rs: read the CSV, map the target (yes/no, true/false, 1/0),
drop the id, stratified split (test 30 %, validation 20 % of the rest), fit on the training
split only (numeric: median imputation, a `_missing` indicator when training had gaps,
standardisation with the population std; categorical: the sorted training levels, a missing
value as the level `missing`), transform every split, and write SageMaker's CSVs (label first,
no header, float32 values). Prints the seconds of each stage and the peak memory; the last
line is one JSON object.

    python prep_pandas.py DATA TARGET ID OUT
"""

import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd


def stratified_split(y, test_share=0.3, validation_share=0.2, seed=42):
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_test = round(len(idx) * test_share)
        n_val = round((len(idx) - n_test) * validation_share)
        test.append(idx[:n_test])
        val.append(idx[n_test:n_test + n_val])
        train.append(idx[n_test + n_val:])
    return [np.sort(np.concatenate(p)) for p in (train, val, test)]


def main(data, target, id_column, out):
    os.makedirs(out, exist_ok=True)
    stages = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        stages[name] = now - t
        t = now

    df = pd.read_csv(data)
    y = df[target].astype(str).str.strip().str.lower().isin(["yes", "true", "1", "1.0"])
    y = y.to_numpy(dtype=np.uint8)
    df = df.drop(columns=[c for c in (target, id_column) if c])
    lap("load")

    train_idx, val_idx, test_idx = stratified_split(y)
    lap("split")

    train = df.iloc[train_idx]
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    fitted = {}
    for c in df.columns:
        if c in numeric:
            col = train[c]
            median = col.median()
            filled = col.fillna(median)
            fitted[c] = ("numeric", median, filled.mean(), filled.std(ddof=0) or 1.0,
                         bool(col.isna().any()))
        else:
            fitted[c] = ("categorical", sorted(train[c].fillna("missing").astype(str).unique()))
    del train
    lap("fit")

    parts = []
    for c in df.columns:
        f = fitted[c]
        if f[0] == "numeric":
            _, median, mean, std, indicator = f
            parts.append(((df[c].fillna(median) - mean) / std).astype(np.float32).rename(c))
            if indicator:
                parts.append(df[c].isna().astype(np.float32).rename(f"{c}_missing"))
        else:
            values = pd.Categorical(df[c].fillna("missing").astype(str), categories=f[1])
            parts.append(pd.get_dummies(values, prefix=c, prefix_sep="=", dtype=np.float32))
    x = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    x.insert(0, "label", y)
    splits = {"train": x.iloc[train_idx], "validation": x.iloc[val_idx],
              "test": x.iloc[test_idx]}
    del x
    lap("transform")

    for name, part in splits.items():
        part.to_csv(os.path.join(out, f"{name}.csv"), header=False, index=False)
    lap("write")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    total = sum(stages.values())
    features = sum(p.shape[1] if p.ndim == 2 else 1 for p in parts)
    output_mb = sum(os.path.getsize(os.path.join(out, f"{n}.csv")) for n in splits) / 1e6
    print("pandas: " + " · ".join(f"{k} {v:.2f} s" for k, v in stages.items())
          + f" (total {total:.2f} s); peak memory {peak_mb:.0f} MB")
    print(json.dumps({"seconds": round(total, 4),
                      "stages": {k: round(v, 4) for k, v in stages.items()},
                      "peak_rss_mb": round(peak_mb, 1), "rows": len(y), "features": features,
                      "output_mb": round(output_mb, 1), "pandas": pd.__version__}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
