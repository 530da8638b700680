#!/usr/bin/env bash
# Preprocessing and training against what a user would pick instead, side by side in one run:
#
# - preprocessing (load, split, fit, transform, write the SageMaker CSVs) of a generated
#   customer table by `purchase-predict` (benches/prep.rs, `pipeline::prepare` as `run` does
#   it) against the same steps in pandas (benches/prep_pandas.py, pinned) and against the I/O
#   floor (polars reading the input and writing outputs of the same size, nothing else);
#   each with its stage breakdown and its own process's peak memory;
# - training (100 rounds of the tutorial's hyperparameters, `hist`, 2 threads, DMatrix
#   construction included) on our train.csv against Python xgboost 1.7.6 called directly.
#
#   benches/stages.sh [ROWS [REPEATS]]     (default 1000000 rows, 3 repeats, interleaved)
#
# Medians of the repeats. The last line is one JSON object with the figures and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

rows="${1:-1000000}"
repeats="${2:-3}"
threads=2
ensure_pinned_venv venv-bench-stages benches/requirements-stages.txt 'import pandas, xgboost'
venv="$PINNED_VENV"
echo "== building (release)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
cargo bench --locked --no-default-features --bench prep --no-run
prep() { cargo bench --locked --no-default-features -q --bench prep -- "$@" 2>/dev/null; }

work=target/bench-stages
mkdir -p "$work"
input="$work/customers-$rows.csv"
if [ ! -f "$input" ]; then
    echo "== generating $rows customers"
    target/release/purchase-predict generate --rows "$rows" --seed 7 --out "$input"
fi
echo "== input: $input ($(du -h "$input" | cut -f1)); load: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work"/*.jsonl
for r in $(seq 1 "$repeats"); do
    echo "== preprocessing, repeat $r of $repeats"
    prep ours "$input" purchased customer_id "$work/ours" | tee /dev/stderr | tail -1 >> "$work/ours.jsonl"
    prep floor "$input" "$work/ours" "$work/floor" | tee /dev/stderr | tail -1 >> "$work/floor.jsonl"
    "$venv/bin/python" benches/prep_pandas.py "$input" purchased customer_id "$work/pandas" \
        | tee /dev/stderr | tail -1 >> "$work/pandas.jsonl"
done 2>&1 | grep -v '^{'
for r in $(seq 1 "$repeats"); do
    echo "== training, repeat $r of $repeats"
    prep train "$work/ours" "$threads" 100 | tee /dev/stderr | tail -1 >> "$work/train_ours.jsonl"
    "$venv/bin/python" benches/train_xgboost.py "$work/ours/train.csv" "$threads" 100 \
        | tee /dev/stderr | tail -1 >> "$work/train_python.jsonl"
done 2>&1 | grep -v '^{'

"$venv/bin/python" - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
load = lambda name: [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
ours, floor, pandas = load("ours"), load("floor"), load("pandas")
t_ours, t_py = load("train_ours"), load("train_python")
med = lambda rows, key: statistics.median(r[key] for r in rows)
stage = lambda rows, s: round(statistics.median(r["stages"][s] for r in rows), 3)
names = list(ours[0]["stages"])
out = {
    "rows": ours[0]["rows"], "features": ours[0]["features"], "repeats": len(ours),
    "prep_seconds": {"ours": round(med(ours, "seconds"), 3),
                     "pandas": round(med(pandas, "seconds"), 3),
                     "floor": round(med(floor, "seconds"), 3)},
    "prep_stages_ours": {s: stage(ours, s) for s in names},
    "prep_stages_pandas": {s: stage(pandas, s) for s in names},
    "floor_read_write": [round(med(floor, "read_seconds"), 3), round(med(floor, "write_seconds"), 3)],
    "floor_fsync_seconds": round(med(floor, "fsync_seconds"), 3),
    "peak_rss_mb": {"ours": med(ours, "peak_rss_mb"), "pandas": med(pandas, "peak_rss_mb")},
    "input_memory_mb": {"polars_estimate": med(floor, "input_memory_mb"),
                        "resident": med(floor, "input_rss_mb")},
    "output_mb": {"ours": ours[0]["output_mb"], "pandas": pandas[0]["output_mb"],
                  "floor": floor[0]["output_mb"]},
    "train_seconds": {"ours": round(med(t_ours, "seconds"), 3),
                      "python_xgboost_1.7.6": round(med(t_py, "seconds"), 3)},
    "train_rows": t_ours[0]["rows"],
}
p = out["prep_seconds"]
out["ratio_pandas_over_ours"] = round(p["pandas"] / p["ours"], 2)
out["ratio_ours_over_floor"] = round(p["ours"] / p["floor"], 2)
m = out["peak_rss_mb"]["ours"]
out["ratio_peak_over_input_estimate"] = round(m / out["input_memory_mb"]["polars_estimate"], 2)
out["ratio_peak_over_input_resident"] = round(m / max(out["input_memory_mb"]["resident"], 1), 2)
t = out["train_seconds"]
out["ratio_train_ours_over_python"] = round(t["ours"] / t["python_xgboost_1.7.6"], 3)
print(f"preprocessing, {out['rows']} rows -> {out['features']} features (median of {len(ours)}):")
print(f"  {'stage':<10} {'ours':>8} {'pandas':>8}")
for s in names:
    print(f"  {s:<10} {out['prep_stages_ours'][s]:>7.2f}s {out['prep_stages_pandas'][s]:>7.2f}s")
print(f"  {'total':<10} {p['ours']:>7.2f}s {p['pandas']:>7.2f}s   I/O floor {p['floor']:.2f} s "
      f"(read {out['floor_read_write'][0]:.2f}, write {out['floor_read_write'][1]:.2f}; "
      f"fsync of its outputs, not counted: {out['floor_fsync_seconds']:.2f})")
print(f"  pandas / ours {out['ratio_pandas_over_ours']}x (target >= 5); ours / floor "
      f"{out['ratio_ours_over_floor']}x (target <= 1.3)")
print(f"  peak memory: ours {m:.0f} MB, pandas {out['peak_rss_mb']['pandas']:.0f} MB; input in "
      f"memory {out['input_memory_mb']['polars_estimate']} MB (polars' estimate), "
      f"{out['input_memory_mb']['resident']} MB (resident): "
      f"{out['ratio_peak_over_input_estimate']}x / {out['ratio_peak_over_input_resident']}x (target <= 2)")
print(f"training, 100 rounds on {out['train_rows']} rows: ours {t['ours']:.2f} s, Python xgboost "
      f"1.7.6 {t['python_xgboost_1.7.6']:.2f} s: {out['ratio_train_ours_over_python']}x (target <= 1.1)")
print(json.dumps(out))
PY
