#!/usr/bin/env bash
# The walkthrough on the AWS tutorial's UCI Bank Marketing data (the `bank-marketing` preset:
# ../shared/datasets, or PURCHASE_PREDICT_BANK_CSV), headless: scripts/notebooks.sh with the
# table named, into target/notebooks/bank/ (executed copies, settings and working folder).
#
#   bash scripts/notebooks_bank.sh [NOTEBOOK ...]
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/notebooks.sh --data bank-marketing --out target/notebooks/bank "$@"
