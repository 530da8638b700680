#!/usr/bin/env bash
# Tables larger than memory: `run --streaming` against `run` holding the table, and against
# the same work in pandas + Python xgboost 1.7.6 (benches/run_pandas.py, pinned in
# benches/requirements-stages.txt), on generated customer tables, in one run.
#
#   benches/streaming.sh [BIG_ROWS [REPEATS [MID_ROWS]]]
#                       (default 50000000 rows, 3 repeats, 3000000 rows; benches/all.sh --quick
#                        runs 200000 1 30000: that it all still runs, nothing more)
#
# 1. MID_ROWS (3 million): `run` in memory and `run --streaming`, interleaved REPEATS times:
#    wall time, peak memory (the process's own figure) and test ROC AUC; medians, and the
#    ratios.
# 2. Where each stops: peak memory of `run` in memory and of pandas at MID/3, MID and 10 MID/3
#    rows (1, 3 and 10 million), and the rows each would reach 16 and 24 GB at (a straight
#    line through the smallest and largest measured points: an extrapolation, not a run that
#    ran out of memory).
# 3. BIG_ROWS rows: `run --streaming` once: time, peak memory against the table's f32
#    matrix (rows x model features x 4 bytes), test ROC AUC. Its files are removed after.
#
# The last line is one JSON object. Needs about 30 GB of free disk for 50 million rows (the
# table, the shards and the spills).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

big="${1:-50000000}"
repeats="${2:-3}"
mid="${3:-3000000}"
small=$(( mid / 3 ))
large=$(( mid * 10 / 3 ))
ensure_pinned_venv venv-bench-stages benches/requirements-stages.txt 'import pandas, xgboost'
venv="$PINNED_VENV"
export OMP_WAIT_POLICY=passive
echo "== building (release)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
bin=target/release/purchase-predict
work=target/bench-streaming
rm -rf "$work"
mkdir -p "$work"
results="$work/results.jsonl"

table() {  # rows -> path, generated once
    local p="$work/customers-$1.csv"
    [ -f "$p" ] || "$bin" generate --rows "$1" --seed 7 --out "$p" > /dev/null
    echo "$p"
}

# One run of ours: appends {"what", "rows", "seconds", "peak_mb", "roc_auc", "features"}.
ours() {  # what rows mode
    local data out log t0 t1
    data="$(table "$2")"
    out="$work/out-$1"
    log="$work/$1-$2.log"
    t0=$(date +%s.%N)
    "$bin" run --data "$data" --target purchased --id customer_id --out "$out" "$3" > "$log" 2>&1
    t1=$(date +%s.%N)
    python3 - "$1" "$2" "$t0" "$t1" "$log" "$out/metrics.json" >> "$results" <<'PY'
import json, re, sys
what, rows, t0, t1, log, metrics = sys.argv[1:7]
text = open(log).read()
print(json.dumps({
    "what": what, "rows": int(rows), "seconds": round(float(t1) - float(t0), 2),
    "peak_mb": int(re.search(r"peak memory (\d+) MB", text).group(1)),
    "features": int(re.search(r"-> (\d+) model features", text).group(1)),
    "roc_auc": json.load(open(metrics))["roc_auc"],
    "stages": re.search(r"time: (.*)", text).group(1),
}))
PY
    tail -n 1 "$results"
    rm -rf "$out"
}

pandas_run() {  # rows
    local data
    data="$(table "$1")"
    "$venv/bin/python" benches/run_pandas.py "$data" purchased customer_id "$work/out-pandas" \
        | tail -n 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); d["what"]="pandas"; d["peak_mb"]=d.pop("peak_rss_mb"); print(json.dumps(d))' >> "$results"
    tail -n 1 "$results"
    rm -rf "$work/out-pandas"
}

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB"
echo "== $mid rows: in memory and streaming, $repeats times, interleaved"
for r in $(seq 1 "$repeats"); do
    ours in-memory "$mid" --in-memory
    ours streaming "$mid" --streaming
done
echo "== where each stops: $small, $mid and $large rows"
for rows in "$small" "$large"; do ours in-memory "$rows" --in-memory; done
for rows in "$small" "$mid" "$large"; do pandas_run "$rows"; done
rm -f "$work/customers-$small.csv" "$work/customers-$mid.csv" "$work/customers-$large.csv"
echo "== $big rows, streaming (load: $(cut -d' ' -f1-3 /proc/loadavg))"
ours streaming-big "$big" --streaming
rm -f "$work/customers-$big.csv"
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" "$big" "$mid" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
big, mid = int(sys.argv[2]), int(sys.argv[3])
def pick(what, rows):
    return [r for r in runs if r["what"] == what and r["rows"] == rows]
med = lambda rs, k: statistics.median(r[k] for r in rs)
mem, stream = pick("in-memory", mid), pick("streaming", mid)
def stops(*whats):
    pts = sorted((r["rows"], r["peak_mb"]) for r in runs if r["what"] in whats)
    pts = {n: m for n, m in pts}
    (x0, y0), (x1, y1) = min(pts.items()), max(pts.items())
    if x1 == x0:
        return {"peak_mb": pts}
    slope = (y1 - y0) / (x1 - x0)  # MB per row
    return {"peak_mb": pts, "mb_per_million_rows": round(slope * 1e6),
            "stops_at_16_gb_rows": int((16e3 - y0) / slope + x0),
            "stops_at_24_gb_rows": int((24e3 - y0) / slope + x0)}
b = pick("streaming-big", big)[0]
matrix_mb = b["rows"] * b["features"] * 4 / 1e6
summary = {
    "mid": {
        "rows": mid,
        "in_memory": {"seconds": med(mem, "seconds"), "peak_mb": med(mem, "peak_mb"), "roc_auc": med(mem, "roc_auc")},
        "streaming": {"seconds": med(stream, "seconds"), "peak_mb": med(stream, "peak_mb"), "roc_auc": med(stream, "roc_auc")},
        "time_ratio_streaming_over_in_memory": round(med(stream, "seconds") / med(mem, "seconds"), 3),
        "memory_ratio_streaming_over_in_memory": round(med(stream, "peak_mb") / med(mem, "peak_mb"), 3),
        "roc_auc_difference": round(abs(med(stream, "roc_auc") - med(mem, "roc_auc")), 4),
        "repeats": len(mem),
    },
    "stops": {"in_memory": stops("in-memory"), "pandas": stops("pandas"),
              "streaming": stops("streaming", "streaming-big")},
    "big": {"rows": b["rows"], "seconds": b["seconds"], "peak_mb": b["peak_mb"],
            "f32_matrix_mb": round(matrix_mb), "peak_over_matrix": round(b["peak_mb"] / matrix_mb, 3),
            "roc_auc": b["roc_auc"], "stages": b["stages"]},
}
print(json.dumps(summary))
PY
