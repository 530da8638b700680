#!/usr/bin/env bash
# Several instances: `run --workers 2` (our image's multi-instance path, two processes on
# loopback, one core each) against `run --streaming` (one process, both cores), on one
# generated customer table, in one run; then what the measured figures predict for 4, 16 and
# 64 SageMaker instances on one billion rows.
#
#   benches/workers.sh [ROWS [ROUNDS]]   (default 2000000 rows, 100 rounds; benches/all.sh
#                                         --quick runs 100000 20: that it still runs)
#
# Measured (each run once, interleaved after a warm-up of the page cache):
# - wall time and test ROC AUC of both, and their ratio and difference;
# - per-worker throughput: the rows one worker handles (read twice, prepared, trained for
#   ROUNDS rounds, scored) per second of the workers' wall time, on one core;
# - bytes exchanged per round: every byte the two workers sent each other on loopback during
#   the run (/proc/net/dev, `lo`), less what the same run sends with one round, divided by
#   ROUNDS - 1: the histogram allreduces of a round, without the start-up and the exchanges
#   that happen once (statistics, samples, scores).
#
# The prediction (printed, and in the JSON line) assumes, per instance of ml.m5.4xlarge
# (16 vCPU = 8 cores, 64 GiB, up to 10 Gbit/s, $0.922 an hour for training in us-east-1,
# on-demand, as listed when this was written):
# - 8 times the per-worker throughput measured here on one core (no loss to memory bandwidth:
#   optimistic by up to a third);
# - its shard (1e9 / N rows of this table's width) downloaded from S3 before start at
#   500 MB/s, as File mode does;
# - each round's allreduces moving the measured bytes per round per host (a ring allreduce
#   moves about twice the histogram per host whatever the host count) at 1 GB/s, plus
#   100 microseconds per step of the ring (2 (N - 1) steps per allreduce, 2 * depth
#   allreduces per round);
# - 3 minutes to provision the instances and pull the image (not billed);
# - memory: 68 bytes per row of the table (benches/streaming.sh, 50 million rows); disk: the shard
#   plus 4 bytes per value of the spills.
# The last line is one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

rows="${1:-2000000}"
rounds="${2:-100}"
export OMP_WAIT_POLICY=passive
echo "== building (release)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
bin=target/release/purchase-predict
work=target/bench-workers
rm -rf "$work"
mkdir -p "$work"
data="$work/customers.csv"
"$bin" generate --rows "$rows" --seed 7 --out "$data" > /dev/null
cat "$data" > /dev/null

lo_bytes() { awk '/^ *lo:/ {sub(/^ *lo:/, ""); print $1}' /proc/net/dev; }

# what mode... -> "seconds lo_bytes"
timed() {
    local what="$1" t0 t1 b0 b1
    shift
    b0=$(lo_bytes)
    t0=$(date +%s.%N)
    "$bin" run --data "$data" --target purchased --id customer_id --out "$work/$what" "$@" \
        > "$work/$what.log" 2>&1
    t1=$(date +%s.%N)
    b1=$(lo_bytes)
    echo "$(python3 -c "print($t1 - $t0)") $(( b1 - b0 ))"
}

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r one_s _ < <(timed one --streaming --hp "num_round=$rounds")
read -r two_s two_b < <(timed two --workers 2 --hp "num_round=$rounds")
read -r _ base_b < <(timed two-1 --workers 2 --hp num_round=1)
load="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== load after: $load"

python3 - "$rows" "$rounds" "$one_s" "$two_s" "$two_b" "$base_b" "$work" "$load" "$(nproc)" <<'PY'
import json, sys
rows, rounds = int(sys.argv[1]), int(sys.argv[2])
one_s, two_s = float(sys.argv[3]), float(sys.argv[4])
two_b, base_b = int(sys.argv[5]), int(sys.argv[6])
work, load, cores = sys.argv[7], sys.argv[8], int(sys.argv[9])
m1 = json.load(open(f"{work}/one/metrics.json"))
m2 = json.load(open(f"{work}/two/metrics.json"))
per_worker = rows / 2 / two_s
bytes_per_round = max(two_b - base_b, 0) / max(rounds - 1, 1)
per_host_per_round = bytes_per_round / 2
import os, re
features = int(re.search(r"-> (\d+) model features", open(f"{work}/one.log").read()).group(1))
bytes_per_row = os.path.getsize(f"{work}/customers.csv") / rows

# The prediction: one billion rows of this table on N ml.m5.4xlarge.
N_ROWS, PRICE, CORES, S3_BPS, NET_BPS, STEP_S, DEPTH = 1e9, 0.922, 8, 500e6, 1e9, 100e-6, 5
STARTUP_S = 180  # instances provisioned and the image pulled: wall time, not billed
pred = {}
for n in (4, 16, 64):
    shard_rows = N_ROWS / n
    download = shard_rows * bytes_per_row / S3_BPS
    compute = shard_rows / (per_worker * CORES)
    comm = rounds * (per_host_per_round / NET_BPS + 2 * DEPTH * 2 * (n - 1) * STEP_S)
    seconds = download + compute + comm
    pred[str(n)] = {
        "minutes": round((STARTUP_S + seconds) / 60, 1),
        "billed_minutes": round(seconds / 60, 1),
        "download_s": round(download),
        "compute_s": round(compute),
        "communication_s": round(comm, 1),
        "cost_usd": round(n * seconds / 3600 * PRICE, 2),
        "memory_gb_per_host": round(shard_rows * 68 / 1e9, 1),
        "disk_gb_per_host": round(shard_rows * (bytes_per_row + 4 * features) / 1e9, 1),
    }
out = {
    "rows": rows,
    "rounds": rounds,
    "cores": cores,
    "load": load,
    "one_process": {"seconds": round(one_s, 2), "roc_auc": m1["roc_auc"]},
    "two_workers": {"seconds": round(two_s, 2), "roc_auc": m2["roc_auc"],
                    "rows_per_host": m2["preparation"]["hosts"]["rows"]},
    "time_ratio_workers_over_one": round(two_s / one_s, 2),
    "roc_auc_difference": round(abs(m1["roc_auc"] - m2["roc_auc"]), 4),
    "per_worker_rows_per_second": round(per_worker),
    "bytes_per_round": round(bytes_per_round),
    "bytes_per_round_per_host": round(per_host_per_round),
    "table_bytes_per_row": round(bytes_per_row, 1),
    "model_features": features,
    "prediction_1e9_rows_ml_m5_4xlarge": pred,
}
print(f"one process: {one_s:.1f} s, AUC {m1['roc_auc']:.4f}; two workers: {two_s:.1f} s, "
      f"AUC {m2['roc_auc']:.4f} ({two_s / one_s:.2f}x the time)")
print(f"per worker: {per_worker:,.0f} rows/s on one core; {bytes_per_round:,.0f} bytes per "
      f"round on loopback ({per_host_per_round:,.0f} per host)")
for n, p in pred.items():
    print(f"{n:>3} x ml.m5.4xlarge, 1e9 rows: {p['minutes']} min ({p['billed_minutes']} billed), "
          f"${p['cost_usd']} "
          f"(download {p['download_s']} s, compute {p['compute_s']} s, "
          f"communication {p['communication_s']} s; {p['memory_gb_per_host']} GB memory, "
          f"{p['disk_gb_per_host']} GB disk per host)")
print(json.dumps(out))
PY
