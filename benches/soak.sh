#!/usr/bin/env bash
# Endpoint soak (issue 17): CLIENTS clients at once send ROUNDS worst-case bodies each (6 MB
# JSON records, 6 MB CSV, a libsvm body over the row cap, a body announced at 1 GB) to
# `purchase-predict serve` while 900 more connections each hold a half-sent request, and the
# server's peak memory (VmHWM) is set against the ceiling documented on ServerConfig
# (50 MB + max_concurrent × 120 MB + 1024 connections × 64 KB).
#
#   benches/soak.sh [CLIENTS] [ROUNDS]       (default 64 clients, 4 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost
clients="${1:-64}"
rounds="${2:-4}"
cores="$(nproc)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
work=target/bench-soak
rm -rf "$work"
mkdir -p "$work"
target/release/purchase-predict run --out "$work/out" > "$work/run.log"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
RUST_LOG=warn target/release/purchase-predict serve --model "$work/out/model.tar.gz" \
    --port "$port" --workers "$cores" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/ping')" 2>/dev/null && break
    sleep 0.1
done
echo "== soak: $clients clients x $rounds worst-case requests, server on $cores cores (max_concurrent $cores)"
python3 benches/soak.py "http://127.0.0.1:$port" "$pid" "$clients" "$rounds" data/customers.csv "$cores"
