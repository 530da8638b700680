#!/usr/bin/env bash
# Tuning benchmark: our `purchase-predict tune` (Bayesian, median early stopping, 2 trials at
# once) against Optuna's TPE tuning XGBoost 1.7.6 from Python (benches/tune_optuna.py), same
# search space, same split, same 50-trial budget, 3 seeds each.
#
#   benches/tune.sh [DATA [TARGET]]    (default: ../shared/datasets/bank-marketing, target y;
#   TRIALS=50 and SEEDS="1 2 3" by default)
#
# Prints per seed: best validation AUC, test AUC of the refit best model, wall seconds; the
# last line is one JSON object with the medians and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost

data="${1:-../shared/datasets/bank-marketing/bank-additional-full.csv}"
target="${2:-y}"
trials="${TRIALS:-50}"
[ -f "$data" ] || { echo "no $data (../shared/datasets is needed)" >&2; exit 1; }
ensure_pinned_venv venv-bench-tune benches/requirements-tune.txt 'import optuna, xgboost'
venv="$PINNED_VENV"
cargo build --release --locked --no-default-features --features cli --bin purchase-predict
work=target/bench-tune
rm -rf "$work"
mkdir -p "$work"
cores="$(nproc)"

for seed in ${SEEDS:-1 2 3}; do
    echo "== ours, seed $seed"
    target/release/purchase-predict tune --data "$data" --target "$target" \
        --max-jobs "$trials" --tuner-seed "$seed" --out "$work/ours-$seed" > "$work/ours-$seed.log"
    python3 - "$work/ours-$seed/tuning.json" "$seed" <<'PY' | tee -a "$work/ours.jsonl"
import json, sys
t = json.load(open(sys.argv[1]))
print(json.dumps({"seed": int(sys.argv[2]), "best_validation_auc": t["best_objective"],
                  "test_auc": t["test_metrics"]["roc_auc"],
                  "seconds": t["tuning_and_refit_seconds"]}))
PY
done
for seed in ${SEEDS:-1 2 3}; do
    echo "== optuna TPE, seed $seed"
    "$venv/bin/python" benches/tune_optuna.py "$work/ours-1" --trials "$trials" --seed "$seed" \
        --threads "$cores" | tee -a "$work/optuna.jsonl"
done

python3 - "$work/ours.jsonl" "$work/optuna.jsonl" "$trials" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
opt = [json.loads(l) for l in open(sys.argv[2])]
med = lambda rows, k: statistics.median(r[k] for r in rows)
out = {
    "trials": int(sys.argv[3]), "seeds": [r["seed"] for r in ours],
    "ours_validation_auc_median": round(med(ours, "best_validation_auc"), 5),
    "optuna_validation_auc_median": round(med(opt, "best_validation_auc"), 5),
    "ours_test_auc_median": round(med(ours, "test_auc"), 5),
    "optuna_test_auc_median": round(med(opt, "test_auc"), 5),
    "ours_seconds_median": round(med(ours, "seconds"), 2),
    "optuna_seconds_median": round(med(opt, "seconds"), 2),
}
out["ratio_auc"] = round(out["ours_test_auc_median"] / out["optuna_test_auc_median"], 5)
out["ratio_seconds"] = round(out["ours_seconds_median"] / out["optuna_seconds_median"], 3)
print(json.dumps(out))
PY
