"""The reference of benches/monitor.sh: the same drift check of a capture folder against a
baseline, in Python with pandas, NumPy and SciPy (pinned in benches/requirements-monitor.txt).

    monitor_reference.py BASELINE_DIR CAPTURE_DIR OUR_DRIFT_JSON

Reads every capture file as a data scientist would (json.loads of each record, then of its
request and answer; one pandas DataFrame of the instances), reads the baseline's reference
rows (reference.parquet), and computes for every monitored column the figures of
tests/fixtures/monitor/drift_reference.py (scipy.stats.ks_2samp, scipy.special.kolmogorov,
Sturges bins by NumPy, scipy.spatial.distance.jensenshannon, scipy.stats.chisquare), and the
scores' drift. Prints one JSON line: its seconds (reading included, Python's start-up not),
and the largest difference from our drift.json, figure by figure.
"""
import glob
import json
import os
import sys
import time

started = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "monitor"))
from drift_reference import categorical, numeric  # noqa: E402

baseline_dir, capture_dir, ours_path = sys.argv[1:4]
t0 = time.perf_counter()
info = json.load(open(os.path.join(baseline_dir, "baseline.json")))
reference = pd.read_parquet(os.path.join(baseline_dir, "reference.parquet"))

instances, scores = [], []
for path in sorted(glob.glob(os.path.join(capture_dir, "**", "*.jsonl"), recursive=True)):
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            data = record["captureData"]
            request = json.loads(data["endpointInput"]["data"])
            answer = json.loads(data["endpointOutput"]["data"])
            instances.extend(request["instances"])
            scores.extend(p["score"] for p in answer["predictions"])
current = pd.DataFrame(instances)

figures = {}
for column in info["columns"]:
    name = column["name"]
    if column["numeric"]:
        ref = reference[name].dropna().to_numpy(dtype=float)
        cur = pd.to_numeric(current[name], errors="coerce").dropna().to_numpy(dtype=float)
        figures[name] = numeric(ref, cur)
    else:
        ref = reference[name].dropna().astype(str).value_counts().to_dict()
        cur = current[name].dropna().astype(str).value_counts().to_dict()
        figures[name] = categorical(ref, cur)
figures["__score__"] = numeric(reference["__score__"].to_numpy(dtype=float), np.asarray(scores, dtype=float))
seconds = time.perf_counter() - t0

# How far our figures are from these.
ours = json.load(open(ours_path))
worst = 0.0
compared = 0
for c in ours["columns"]:
    mine = c.get("numeric_drift") or c.get("categorical_drift")
    for k, v in figures[c["name"]].items():
        if k in ("bins", "degrees_of_freedom") or mine.get(k) is None or np.isinf(v):
            continue
        worst = max(worst, abs(mine[k] - v) / max(1.0, abs(v)))
        compared += 1
for k, v in figures["__score__"].items():
    if k != "bins":
        worst = max(worst, abs(ours["scores"]["drift"][k] - v) / max(1.0, abs(v)))
        compared += 1
print(json.dumps({
    "rows": len(current),
    "seconds": round(seconds, 3),
    "figures_compared": compared,
    "largest_difference": worst,
}))
