#!/usr/bin/env bash
# The walkthrough on the AWS tutorial's UCI Bank Marketing data (../shared/datasets), headless:
# the same six notebooks as scripts/notebooks.sh, with the dataset set before the kernels start
# and a working folder of their own. The executed copies go to target/notebooks/bank/; the
# committed notebooks keep the demo table's outputs.
#
#   bash scripts/notebooks_bank.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PURCHASE_PREDICT_HEADLESS=1
prepare_notebook_kernel
export PURCHASE_PREDICT_DATASET=bank-marketing
export PURCHASE_PREDICT_WORKDIR="$PWD/target/notebooks/bank-work"
# A full run starts from an empty working folder; naming notebooks reuses what the earlier ones
# left there.
if [ $# -eq 0 ]; then
    rm -rf "$PURCHASE_PREDICT_WORKDIR"
fi
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/run_notebooks.py --out target/notebooks/bank \
    --timings target/notebooks/bank-timings.json "$@"
