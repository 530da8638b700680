#!/usr/bin/env bash
# Every stage's benchmark in one command, each measured side by side with what a user would
# pick instead in the same run, and one table of ratios at the end:
#
#   preprocessing and training   benches/stages.sh   (pandas, the polars I/O floor, Python xgboost)
#   the endpoint                 benches/serve.sh    (SageMaker's container serving stack)
#   explanations                 benches/explain.sh  (libxgboost's pred_contribs)
#   batch scoring                benches/predict.sh  (the same command, whole file at once)
#   tuning                       benches/tune.sh     (Optuna TPE with XGBoost 1.7.6; bank and
#                                                     Kaggle tables, CV and holdout judging)
#   monitoring                   benches/monitor.sh  (pandas + NumPy + SciPy on the same captures)
#   tables larger than memory    benches/streaming.sh (`run` holding the table; pandas + Python
#                                                     xgboost; 50 million rows streamed)
#   several instances            benches/workers.sh  (one process; and what it predicts for
#                                                     4, 16 and 64 SageMaker instances)
#   the notebooks' kernel        benches/kernel.sh   (a stock evcxr; --quick: replay off)
#
#   benches/all.sh            full sizes (1,000,000-row table, 5 s phases, 5,000,000-row
#                             scoring file, 50 trials x 3 seeds, 3 and 50 million rows
#                             streamed): about 45 minutes on 2 cores, 30 GB of free disk
#   benches/all.sh --quick    small sizes (20,000 rows, 1 s phases, 5 trials, 1 seed): shows
#                             that every benchmark still runs (CI); its ratios mean little
#
# The benchmarks build without the `sagemaker` feature (the AWS SDK adds minutes, and no
# benchmark uses it). Never fails on a ratio; fails when a benchmark fails. Each benchmark's output is kept in
# target/bench-all/NAME.log, its JSON line in NAME.json, the table in table.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--quick" ]; then
    rows=20000 repeats=1 phase=1 score_rows=20000 trials=5 seeds="1" monitor_rows=20000
    big_rows=200000 mid_rows=30000 worker_rows=100000 worker_rounds=20
else
    rows=1000000 repeats=3 phase=5 score_rows=5000000 trials=50 seeds="1 2 3" monitor_rows=1000000
    big_rows=50000000 mid_rows=3000000 worker_rows=2000000 worker_rounds=100
fi
out=target/bench-all
rm -rf "$out"
mkdir -p "$out"
started=$(date +%s)

bench() { # name command... -> NAME.log and NAME.json (the last line)
    local name="$1"
    shift
    local t0
    t0=$(date +%s)
    echo "== $name: $* (load $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! "$@" > "$out/$name.log" 2>&1; then
        tail -30 "$out/$name.log" >&2
        echo "benches/all.sh: $name failed (log: $out/$name.log)" >&2
        exit 1
    fi
    tail -1 "$out/$name.log" > "$out/$name.json"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/$name.json" || {
        echo "benches/all.sh: $name did not end with a JSON line (log: $out/$name.log)" >&2
        exit 1
    }
    echo "   done in $(( $(date +%s) - t0 )) s"
}

bench stages bash benches/stages.sh "$rows" "$repeats"
bench serve bash benches/serve.sh "$phase"
bench explain bash benches/explain.sh
bench predict bash benches/predict.sh "$score_rows"
bench tune env TRIALS="$trials" SEEDS="$seeds" bash benches/tune.sh
bench monitor bash benches/monitor.sh "$monitor_rows" "$repeats"
bench streaming bash benches/streaming.sh "$big_rows" "$repeats" "$mid_rows"
bench workers bash benches/workers.sh "$worker_rows" "$worker_rounds"
bench kernel bash benches/kernel.sh ${1:+"$1"}

python3 - "$out" "$(nproc)" "$(( $(date +%s) - started ))" <<'PY' | tee "$out/table.txt"
import json, sys
out, cores, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
j = {n: json.load(open(f"{out}/{n}.json")) for n in ("stages", "serve", "explain", "predict", "tune", "monitor", "streaming", "workers", "kernel")}
s, v, e, p, t, m, k = j["stages"], j["serve"], j["explain"], j["predict"], j["tune"], j["monitor"], j["kernel"]
st = j["streaming"]
w = j["workers"]
rows = [
    ("preprocessing, {:,} rows (s)".format(s["rows"]), s["prep_seconds"]["ours"],
     "pandas 2.2", s["prep_seconds"]["pandas"], s["ratio_pandas_over_ours"], "x faster", ">= 5x"),
    ("", s["prep_seconds"]["ours"], "polars I/O floor", s["prep_seconds"]["floor"],
     s["ratio_ours_over_floor"], "x the floor", "<= 1.3x"),
    ("  peak memory (MB)", s["peak_rss_mb"]["ours"], "input, resident",
     s["input_memory_mb"]["resident"], s["ratio_peak_over_input_resident"], "x the input",
     "<= 2x"),
    ("", s["peak_rss_mb"]["ours"], "input, polars' estimate",
     s["input_memory_mb"]["polars_estimate"], s["ratio_peak_over_input_estimate"],
     "x the input", "<= 2x"),
    ("", s["peak_rss_mb"]["ours"], "pandas 2.2", s["peak_rss_mb"]["pandas"],
     round(s["peak_rss_mb"]["pandas"] / s["peak_rss_mb"]["ours"], 2), "x less", ""),
    ("training, 100 rounds (s)", s["train_seconds"]["ours"], "Python xgboost 1.7.6",
     s["train_seconds"]["python_xgboost_1.7.6"], s["ratio_train_ours_over_python"],
     "x its time", "<= 1.1x"),
    ("endpoint, 1 row, 1 client (req/s)", v["rps_c1"], "SageMaker's stack", v["ref_rps_c1"],
     round(v["ratio_rps_c1"], 1), "x faster", ""),
    ("endpoint, 1 row, 32 clients (req/s)", v["rps_c32"], "SageMaker's stack", v["ref_rps_c32"],
     round(v["ratio_rps_c32"], 1), "x faster", ""),
    ("endpoint, 1,000-row requests (rows/s)", v["rows_per_s_1000"], "SageMaker's stack",
     v["ref_rows_per_s_1000"], round(v["ratio_rows_per_s_1000"], 1), "x faster", ""),
    ("endpoint, 1 row, capture on, p50 (ms)", v["captured_p50_ms_c1"], "capture off",
     v["uncaptured_p50_ms_c1"], round(v["ratio_p50_captured_vs_off_c1"], 2), "x its time",
     "<= 1.1x"),
    ("explained 1-row request, p50 (us)", e["one_row_p50_us"]["explained"], "unexplained",
     e["one_row_p50_us"]["plain"], round(e["explained_over_plain"], 2), "x its time", "<= 2x"),
    ("batch TreeSHAP (ms)", e["batch_ms"]["rust_treeshap"], "libxgboost",
     e["batch_ms"]["libxgboost"], round(e["batch_speedup_vs_libxgboost"], 2), "x faster", ">= 1x"),
    ("batch scoring, {:,} rows (s)".format(p["rows"]), p["stream_seconds"], "whole file at once",
     p["whole_seconds"], p["ratio_seconds"], "x its time", ""),
    ("  peak memory (MB)", p["stream_peak_rss_mb"], "whole file at once", p["whole_peak_rss_mb"],
     p["ratio_peak_rss"], "x its memory", ""),
    ("tuning, {} trials (s, median)".format(t["trials"]), t["ours_seconds_median"],
     "Optuna TPE", t["optuna_seconds_median"],
     round(t["optuna_seconds_median"] / t["ours_seconds_median"], 2), "x faster", ""),
    ("  test AUC (median)", t["ours_test_auc_median"], "Optuna TPE",
     t["optuna_test_auc_median"], round(t["ratio_auc"], 4), "x its AUC", ""),
    ("  runs below the defaults' test AUC", t["ours_below_defaults"], "Optuna TPE",
     t["optuna_below_defaults"], "of {}".format(t["runs"]), "", "0"),
    ("drift check, {:,} captured rows (s)".format(m["rows"]), m["ours_seconds"],
     "pandas + SciPy", m["reference_seconds"], m["ratio_reference_over_ours"], "x faster",
     ">= 10x"),
    ("streamed run, {:,} rows (s)".format(st["mid"]["rows"]), st["mid"]["streaming"]["seconds"],
     "run, table held", st["mid"]["in_memory"]["seconds"],
     st["mid"]["time_ratio_streaming_over_in_memory"], "x its time", "<= 1.2x"),
    ("  peak memory (MB)", st["mid"]["streaming"]["peak_mb"], "run, table held",
     st["mid"]["in_memory"]["peak_mb"], st["mid"]["memory_ratio_streaming_over_in_memory"],
     "x its memory", "<= 0.5x"),
    ("  test ROC AUC", st["mid"]["streaming"]["roc_auc"], "run, table held",
     st["mid"]["in_memory"]["roc_auc"], st["mid"]["roc_auc_difference"], " apart", "<= 0.003"),
    ("streamed run, {:,} rows, peak (MB)".format(st["big"]["rows"]), st["big"]["peak_mb"],
     "the table's f32 matrix", st["big"]["f32_matrix_mb"], st["big"]["peak_over_matrix"],
     "x the matrix", "<= 0.5x"),
    ("two workers, {:,} rows (s)".format(w["rows"]), w["two_workers"]["seconds"], "one process",
     w["one_process"]["seconds"], w["time_ratio_workers_over_one"], "x its time", ""),
    ("  test ROC AUC", w["two_workers"]["roc_auc"], "one process", w["one_process"]["roc_auc"],
     w["roc_auc_difference"], " apart", "<= 0.005"),
    ("notebook warm cell, median (s)", k["ours"]["warm_median"], k["baseline"],
     k["baseline_stats"]["warm_median"], k["ratios"]["warm_median"], "x faster", "<= 0.6 s"),
    ("notebook warm cell, p90 (s)", k["ours"]["warm_p90"], k["baseline"],
     k["baseline_stats"]["warm_p90"], k["ratios"]["warm_p90"], "x faster", "<= 1.0 s"),
    ("all notebooks, warm (s)", k["ours"]["all_notebooks"], k["baseline"],
     k["baseline_stats"]["all_notebooks"], k["ratios"]["all_notebooks"], "x faster", "<= 75 s"),
]
fmt = lambda x: f"{x:,.0f}" if abs(x) >= 100 else (f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}")
print(f"benchmarks on {cores} cores, {seconds} s in all (ratios measured side by side in one run)")
print(f"{'':<40} {'ours':>10}  {'against':<24} {'theirs':>10}  {'ratio':<20} target")
for name, ours, what, theirs, ratio, unit, target in rows:
    print(f"{name:<40} {fmt(ours):>10}  {what:<24} {fmt(theirs):>10}  "
          f"{str(ratio) + unit:<20} {target}")
PY
