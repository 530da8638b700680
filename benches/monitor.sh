#!/usr/bin/env bash
# Monitoring benchmark: `purchase-predict monitor check` of a capture folder of ROWS
# customers against the same check in pandas + NumPy + SciPy (benches/monitor_reference.py,
# pinned in benches/requirements-monitor.txt), in the same run.
#
#   benches/monitor.sh [ROWS [REPEATS]]     (default 1000000 customers, 3 repeats, interleaved)
#
# The traffic is real: the demo model served with `serve --capture`, a generated table sent
# to it as JSON requests of 1,000 customers (benches/send_customers.py), the captures
# published as the endpoint publishes them. The reference reads the same files and computes
# the same figures; it also prints how far ours (drift.json) are from its own. Ours does more
# (statistics.json, the SHAP comparison, report.html with its charts). Medians of the repeats;
# the last line is one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

rows="${1:-1000000}"
repeats="${2:-3}"
ensure_pinned_venv venv-bench-monitor benches/requirements-monitor.txt 'import pandas, scipy, pyarrow'
venv="$PINNED_VENV"
echo "== building (release)"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
bin=target/release/purchase-predict
work=target/bench-monitor
rm -rf "$work"
mkdir -p "$work"
"$bin" run --out "$work/out" > "$work/run.log"
"$bin" generate --rows "$rows" --seed 99 --out "$work/customers.csv" > /dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
RUST_LOG=warn "$bin" serve --model "$work/out/model.tar.gz" --port "$port" \
    --capture "$work/captures" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/ping').status != 200)" 2>/dev/null && break
    sleep 0.1
done
echo "== sending $rows customers as JSON, 1,000 a request"
python3 benches/send_customers.py "http://127.0.0.1:$port" "$work/customers.csv" 1000
kill -TERM "$server"
wait "$server" || true
trap - EXIT
echo "== captured: $(find "$work/captures" -name '*.jsonl' | wc -l) files, $(du -sh "$work/captures" | cut -f1)"

ours=() theirs=() last=""
for i in $(seq 1 "$repeats"); do
    t0=$(date +%s.%N)
    "$bin" monitor check --baseline "$work/out/baseline" --data "$work/captures" \
        --out "$work/check" > "$work/check.log"
    t1=$(date +%s.%N)
    ours+=("$(python3 -c "print($t1 - $t0)")")
    last="$("$venv/bin/python" benches/monitor_reference.py "$work/out/baseline" \
        "$work/captures" "$work/check/drift.json")"
    theirs+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds'])" "$last")")
    echo "   repeat $i: ours ${ours[-1]} s, reference ${theirs[-1]} s"
done
cat "$work/check.log"
python3 - "$rows" "$last" "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
rows, last = int(sys.argv[1]), json.loads(sys.argv[2])
ours = [float(x) for x in sys.argv[3].split()]
theirs = [float(x) for x in sys.argv[4].split()]
o, t = statistics.median(ours), statistics.median(theirs)
print(json.dumps({
    "rows": rows,
    "ours_seconds": round(o, 3),
    "reference_seconds": round(t, 3),
    "ratio_reference_over_ours": round(t / o, 2),
    "figures_compared": last["figures_compared"],
    "largest_difference": last["largest_difference"],
    "repeats": len(ours),
}))
PY
