#!/usr/bin/env bash
# The main job: the local pipeline on the shipped data/customers.csv.
# Extra arguments go to `purchase-predict run` (e.g. --hp eta=0.1 --out elsewhere).
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost
cargo run --locked --quiet -- run "$@"
