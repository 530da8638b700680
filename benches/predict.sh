#!/usr/bin/env bash
# Batch scoring benchmark: `purchase-predict predict` on a 5-million-row customer file,
# streaming (default chunks) against the same command reading the whole file as one chunk,
# in the same run.
#
#   benches/predict.sh [ROWS]      (default 5000000; the file is cached in target/bench-predict)
#
# The last line is one JSON object: rows, seconds and peak RSS of both runs, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

rows="${1:-5000000}"
work=target/bench-predict
mkdir -p "$work"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
bin=target/release/purchase-predict
if [ ! -f "$work/out/model.tar.gz" ]; then
    "$bin" run --out "$work/out" > "$work/run.log"
fi
input="$work/customers-$rows.csv"
if [ ! -f "$input" ]; then
    echo "== generating $rows customers"
    "$bin" generate --rows "$rows" --seed 99 --out "$input"
fi
echo "== input: $input ($(du -h "$input" | cut -f1))"

score() { # chunk_rows -> stdout of the command
    "$bin" predict --model "$work/out/model.tar.gz" --input "$input" \
        --output "$work/scores-$1.csv" --chunk-rows "$1"
}
field() { # text pattern -> number after it
    grep -o "$2[0-9.]*" <<<"$1" | head -1 | sed "s/$2//"
}
echo "== streaming (50,000-row chunks)"
stream="$(score 50000)"; echo "$stream"
echo "== whole file at once"
whole="$(score "$rows")"; echo "$whole"
cmp -s "$work/scores-50000.csv" "$work/scores-$rows.csv" || { echo "outputs differ" >&2; exit 1; }
echo "== outputs are identical"

s_sec="$(field "$stream" 'customers in ')"; s_mb="$(field "$stream" 'peak memory ')"
w_sec="$(field "$whole" 'customers in ')"; w_mb="$(field "$whole" 'peak memory ')"
python3 - "$rows" "$s_sec" "$s_mb" "$w_sec" "$w_mb" <<'PY'
import json, sys
rows, s_sec, s_mb, w_sec, w_mb = int(sys.argv[1]), *map(float, sys.argv[2:])
print(json.dumps({
    "rows": rows,
    "stream_seconds": s_sec, "stream_rows_per_s": round(rows / s_sec),
    "stream_peak_rss_mb": s_mb,
    "whole_seconds": w_sec, "whole_peak_rss_mb": w_mb,
    "ratio_peak_rss": round(s_mb / w_mb, 3), "ratio_seconds": round(s_sec / w_sec, 3),
}))
PY
