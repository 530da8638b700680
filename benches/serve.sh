#!/usr/bin/env bash
# Benchmark of the local endpoint against a reference server built the way SageMaker's XGBoost
# container serves a model (Flask + gunicorn/gevent, one worker per core; benches/reference_server.py).
#
#   benches/serve.sh [SECONDS_PER_PHASE]      (default 5; about 12 phases)
#
# Trains the demo model (release build), starts both servers on 127.0.0.1, drives them from a
# separate load-generator process (benches/serve.rs) and prints, last, one JSON line with the
# figures and ratios. Needs python3 with venv (the reference's packages are pinned in
# benches/requirements.txt and installed into a cached virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

seconds="${1:-5}"
cores="$(nproc)"
ensure_pinned_venv venv-bench-serve benches/requirements.txt 'import flask, gunicorn, gevent, xgboost'
venv="$PINNED_VENV"

echo "== building (release)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
cargo bench --locked --no-default-features --bench serve --no-run

work=target/bench-serve
rm -rf "$work"
mkdir -p "$work"
echo "== training the demo model"
target/release/purchase-predict run --out "$work/out" > "$work/run.log"
model="$work/out/model.tar.gz"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_ping() {
    for _ in $(seq 1 300); do
        if python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('$1/ping').status != 200)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "server $1 did not come up; logs in $work" >&2
    exit 1
}

# Ours: request logs off (RUST_LOG=warn), like gunicorn without an access log.
ours_port="$(free_port)"
RUST_LOG=warn target/release/purchase-predict serve --model "$model" --port "$ours_port" \
    --workers "$cores" > "$work/ours.log" 2>&1 &
pids+=($!)
# Ours again with the access log on (the default `info`), written to a file: what logging costs.
logged_port="$(free_port)"
target/release/purchase-predict serve --model "$model" --port "$logged_port" \
    --workers "$cores" > "$work/ours-logged.log" 2>&1 &
pids+=($!)
# Ours again with data capture on (every request, into a folder), request logs off: what
# capture costs.
captured_port="$(free_port)"
RUST_LOG=warn target/release/purchase-predict serve --model "$model" --port "$captured_port" \
    --workers "$cores" --capture "$work/captures" > "$work/ours-captured.log" 2>&1 &
pids+=($!)
ref_port="$(free_port)"
MODEL_TAR="$PWD/$model" "$venv/bin/gunicorn" -k gevent -w "$cores" --keep-alive 60 \
    -b "127.0.0.1:$ref_port" --chdir benches reference_server:app > "$work/reference.log" 2>&1 &
pids+=($!)
wait_ping "http://127.0.0.1:$ours_port"
wait_ping "http://127.0.0.1:$ref_port"
wait_ping "http://127.0.0.1:$logged_port"
wait_ping "http://127.0.0.1:$captured_port"

echo "== load: $seconds s per phase, $cores cores shared by the servers and the load generator"
cargo bench --locked --no-default-features --bench serve -- \
    --ours "http://127.0.0.1:$ours_port" --reference "http://127.0.0.1:$ref_port" \
    --logged "http://127.0.0.1:$logged_port" --captured "http://127.0.0.1:$captured_port" \
    --model "$model" --rows "$work/out/test.csv" --seconds "$seconds"
