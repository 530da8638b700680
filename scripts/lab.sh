#!/usr/bin/env bash
# Use the walkthrough: open notebooks/ in JupyterLab with the Rust kernel set up as the headless
# runner sets it up (the same evcxr build folder, opt-level, linker and cache), so the first
# notebook you open reuses what scripts/notebooks.sh (or an earlier lab.sh) built.
#
#   bash scripts/lab.sh                                  # local mode, http://127.0.0.1:8888
#   PURCHASE_PREDICT_BACKEND=sagemaker bash scripts/lab.sh   # the same notebooks on SageMaker
#   PURCHASE_PREDICT_LAB_PORT=9999 bash scripts/lab.sh
#
# Installs what is missing (libxgboost, mold, the evcxr kernel, JupyterLab pinned in the
# project's venv), registers the "Rust (purchase-predict)" kernel, builds the notebooks' crate
# once (minutes the first time, seconds after), then prints the URL with its token and serves
# until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
prepare_notebook_kernel
echo "== building the notebooks' crate in the kernel (backend: $PURCHASE_PREDICT_BACKEND)"
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/run_notebooks.py --warm-up
port="${PURCHASE_PREDICT_LAB_PORT:-8888}"
token="${PURCHASE_PREDICT_LAB_TOKEN:-$("$PURCHASE_PREDICT_JUPYTER_PYTHON" -c 'import secrets; print(secrets.token_hex(24))')}"
echo
echo "JupyterLab on the walkthrough (backend: $PURCHASE_PREDICT_BACKEND):"
echo "    http://127.0.0.1:$port/lab/tree/01_explore.ipynb?token=$token"
echo "Ctrl-C stops it."
echo
root_flag=""
[ "$(id -u)" -ne 0 ] || root_flag="--allow-root"   # CI and these machines run as root
exec "$(dirname "$PURCHASE_PREDICT_JUPYTER_PYTHON")/jupyter" lab $root_flag \
    --no-browser --ip 127.0.0.1 --port "$port" --port-retries 0 \
    --IdentityProvider.token="$token" \
    --ServerApp.root_dir="$PWD/notebooks" \
    --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
