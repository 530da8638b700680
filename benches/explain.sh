#!/usr/bin/env bash
# What explanations cost, measured side by side in one run (benches/explain.rs): an explained
# one-row request against an unexplained one on the local endpoint (p50), and batch
# explanations in Rust against libxgboost's pred_contribs on the same rows.
#
#   benches/explain.sh
#
# Uses the bank-marketing table from ../shared/datasets when present, else the demo table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost
echo "== building (release)"
cargo bench --locked --no-default-features --bench explain --no-run
echo "== measuring (load: $(cut -d' ' -f1-3 /proc/loadavg))"
cargo bench --locked --no-default-features --bench explain
