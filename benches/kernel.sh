#!/usr/bin/env bash
# The notebooks' kernel: the walkthrough notebooks (all seven) headless on our kernel (evcxr_jupyter
# 0.22.0 with notebooks/evcxr-patches) and on a baseline, one after the other in the same run,
# each kernel warm (a warm-up run first builds what it needs). Prints, for each, the warm cells
# (every code cell but a notebook's first two) as median and p90, a notebook's first code cell,
# a kernel's start, the slowest notebook and all of them, then the ratios, and a JSON line.
#
#   benches/kernel.sh           baseline: a stock evcxr_jupyter 0.22.0 (yours if `cargo install`
#                               put one in ~/.cargo/bin, else installed once into
#                               ~/.cache/purchase-predict/evcxr-0.22.0-stock: about 5 minutes;
#                               its first run builds the graph in a folder of its own,
#                               target/notebooks/kernels/stock-0: about 7 minutes)
#   benches/kernel.sh --quick   baseline: our kernel with its cargo replay off (EVCXR_NO_REPLAY=1,
#                               cargo on every cell): shows the benchmark runs (CI); it measures
#                               one patch, not the whole difference
#
# Never fails on a ratio. Executed copies and timings go to target/bench-kernel/.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
source scripts/setup.sh
export PURCHASE_PREDICT_HEADLESS=1
prepare_notebook_kernel
ours="$PURCHASE_PREDICT_EVCXR_JUPYTER"
if [ "$quick" = 1 ]; then
    baseline="replay off"
    register_kernel purchase-predict-baseline "Rust (purchase-predict, replay off)" "$ours" patched \
        EVCXR_NO_REPLAY=1
else
    baseline="stock evcxr"
    stock_binary="$(PURCHASE_PREDICT_EVCXR=stock; ensure_evcxr >&2; echo "$PURCHASE_PREDICT_EVCXR_JUPYTER")"
    register_kernel purchase-predict-baseline "Rust (purchase-predict, stock evcxr)" "$stock_binary" stock
fi
out=target/bench-kernel
rm -rf "$out"
mkdir -p "$out"
py="$PURCHASE_PREDICT_JUPYTER_PYTHON"
load() { cut -d' ' -f1-3 /proc/loadavg; }
for kernel in purchase-predict-baseline purchase-predict; do
    # A kernel start and one cell: builds the graph if this kernel has not yet.
    echo "== $kernel: warming up (load $(load))"
    "$py" scripts/run_notebooks.py --kernel "$kernel" --warm-up
    echo "== $kernel: the notebooks (load $(load))"
    "$py" scripts/run_notebooks.py --kernel "$kernel" --out "$out/$kernel" \
        --timings "$out/$kernel/timings.json"
done
"$py" - "$out" "$baseline" "$(nproc)" <<'PY'
import json, os, sys
sys.path.insert(0, "scripts")
from notebook_timings import quantile
out, baseline, cores = sys.argv[1], sys.argv[2], sys.argv[3]

def stats(kernel):
    t = json.load(open(os.path.join(out, kernel, "timings.json")))
    warm, first = [], []
    for nb in t["notebooks"]:
        secs = [c["seconds"] for c in nb["cells"] if c["seconds"] is not None]
        first.append(secs[0])
        warm += secs[2:]
    warm.sort()
    return {"warm_median": quantile(warm, 0.5), "warm_p90": quantile(warm, 0.9),
            "first_cell_max": max(first),
            "kernel_start_max": max(nb["kernel_start_seconds"] for nb in t["notebooks"]),
            "notebook_max": max(nb["seconds"] for nb in t["notebooks"]),
            "all_notebooks": t["seconds"], "warm_cells": len(warm)}

b, o = stats("purchase-predict-baseline"), stats("purchase-predict")
rows = [("warm cell, median", "warm_median"), ("warm cell, p90", "warm_p90"),
        ("a notebook's first cell (max)", "first_cell_max"), ("kernel start (max)", "kernel_start_max"),
        ("slowest notebook", "notebook_max"), ("all notebooks", "all_notebooks")]
print(f"\n{'(seconds, ' + cores + ' cores)':<32} {baseline:>12} {'ours':>8} {'ratio':>7}")
for label, key in rows:
    print(f"{label:<32} {b[key]:>12.2f} {o[key]:>8.2f} {b[key] / o[key]:>6.1f}x")
print(json.dumps({"bench": "kernel", "baseline": baseline, "cores": int(cores), "baseline_stats": b,
                  "ours": o, "ratios": {k: round(b[k] / o[k], 2) for _, k in rows}}))
PY
