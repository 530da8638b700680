#!/usr/bin/env bash
# The main job: run the six walkthrough notebooks (notebooks/*.ipynb) top to bottom, headless,
# with the evcxr Rust kernel, in local mode on the shipped data, and write them back with their
# outputs. Fails with the notebook and cell on any error or panic.
#
# Installs what is missing: libxgboost (apt), the evcxr_jupyter kernel (cargo install, about
# 13 minutes once; it stays in ~/.cargo/bin), and Jupyter's nbclient in a virtual environment.
# evcxr builds the crate and its dependencies once into target/notebooks/tmp (opt-level 0, see
# notebooks/evcxr.toml); later runs reuse that build.
#
#   bash scripts/notebooks.sh                  # all six
#   bash scripts/notebooks.sh 04_evaluate      # one (it reads what the earlier ones saved in work/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost
ensure_mold
ensure_evcxr
ensure_jupyter
root="$PWD"
export EVCXR_CONFIG_DIR="$root/target/notebooks/config"
export EVCXR_TMPDIR="$root/target/notebooks/tmp"
mkdir -p "$EVCXR_CONFIG_DIR" "$EVCXR_TMPDIR"
cp notebooks/evcxr.toml "$EVCXR_CONFIG_DIR/evcxr.toml"
# A 4 GB compilation cache; mold; and cargo offline, so that :dep resolves against the crates
# `cargo test` already fetched (seconds faster per notebook, and no network needed).
printf ':cache 4000\n:linker mold\n:offline 1\n' > "$EVCXR_CONFIG_DIR/init.evcxr"
# Offline resolution needs the crates in cargo's cache: fetch them once (a no-op when present).
cargo fetch --locked >/dev/null
export PURCHASE_PREDICT_BACKEND="${PURCHASE_PREDICT_BACKEND:-local}"
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/run_notebooks.py "$@"
