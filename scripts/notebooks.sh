#!/usr/bin/env bash
# The main job: run the six walkthrough notebooks (notebooks/*.ipynb) top to bottom, headless,
# with the evcxr Rust kernel, in local mode on the shipped data, and write them back with their
# outputs; then open JupyterLab (scripts/lab.sh) in Chromium and run the first notebook there.
# Fails with the notebook and cell on any error or panic.
#
# Installs what is missing: libxgboost and mold (apt), the evcxr_jupyter kernel (cargo install,
# once; it stays in ~/.cargo/bin), Jupyter in a virtual environment, chromedriver. evcxr builds
# the crate and its dependencies once into target/notebooks/tmp, as one shared library
# (notebooks/kernel); later runs and JupyterLab reuse that build.
#
#   bash scripts/notebooks.sh                  # all six, then the browser check
#   bash scripts/notebooks.sh 04_evaluate      # one (it reads what the earlier ones saved in work/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# Stop a kernel at its first panic (setup.sh's init.evcxr); JupyterLab kernels keep going.
export PURCHASE_PREDICT_HEADLESS=1
prepare_notebook_kernel
ensure_chromium
ensure_chromedriver
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/run_notebooks.py "$@"
if [ $# -eq 0 ]; then
    "$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/browser_check.py
fi
