#!/usr/bin/env bash
# The main job: run the seven walkthrough notebooks (notebooks/*.ipynb) top to bottom, headless,
# with the evcxr Rust kernel, in local mode; then open JupyterLab (scripts/lab.sh) in Chromium,
# run all seven there and compare, cell by cell, the charts on the page with those in the notebooks.
# Fails with the notebook and cell on any error, panic, hidden chart or bare `()` output.
#
# The executed copies go to target/notebooks/out/ (timings beside them): the committed notebooks
# are left as they are, so the checkout stays clean. --refresh writes them back into notebooks/
# instead (maintainers, before committing fresh outputs).
#
# Any table: --data names it (a CSV or Parquet path, or a preset: demo, bank-marketing) and wins
# over notebook 1's settings cell; the executed copies, the working folder (DIR/work) and the
# settings (DIR/settings.json) go to --out DIR.
#
# Installs what is missing: libxgboost and mold (apt), the evcxr_jupyter kernel with our patches
# (notebooks/evcxr-patches; cargo install, once, into ~/.cache/purchase-predict), Jupyter in a
# virtual environment, chromedriver. First checks the kernel itself (scripts/kernel_check.py).
# evcxr builds the crate and its dependencies once into target/notebooks/tmp/target, as one
# shared library (notebooks/kernel); later runs, JupyterLab and every kernel open at once
# reuse that build.
#
#   bash scripts/notebooks.sh                  # all seven on notebook 1's table, then the browser check
#   bash scripts/notebooks.sh --refresh        # the same, written back into notebooks/
#   bash scripts/notebooks.sh 04_evaluate      # one (it reads what the earlier ones saved in work/)
#   bash scripts/notebooks.sh --data FILE --target COL [--id COL] [--drop A,B] [--numeric A,B] \
#       [--categorical A,B] [--positive VALUE] [--dictionary FILE] --out DIR
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
refresh=0 out="" data="" target="" id="" drop="" numeric="" categorical="" positive="" dictionary=""
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --refresh) refresh=1 ;;
        --out|--data|--target|--id|--drop|--numeric|--categorical|--positive|--dictionary)
            [ $# -ge 2 ] || { echo "$1 needs a value" >&2; usage; }
            declare "${1#--}=$2"
            shift ;;
        -h|--help) usage ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) names+=("$1") ;;
    esac
    shift
done
if [ -n "$data" ] && [ -z "$out" ]; then
    echo "--data needs --out DIR: the executed notebooks of another table never replace the committed ones" >&2
    exit 2
fi
if [ -n "$out" ] && [ "$refresh" = 1 ]; then
    echo "--refresh writes into notebooks/, --out elsewhere: give one of them" >&2
    exit 2
fi

source scripts/setup.sh
# Stop a kernel at its first panic (setup.sh's init.evcxr); JupyterLab kernels keep going.
export PURCHASE_PREDICT_HEADLESS=1
prepare_notebook_kernel

# The kernel itself first, at the level of cells (seconds): see scripts/kernel_check.py.
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/kernel_check.py --evcxr "$PURCHASE_PREDICT_EVCXR_JUPYTER"

args=()
if [ -n "$data" ]; then
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    case "$data" in
        demo|bank-marketing) ;;
        s3://*) ;;
        *) [ -f "$data" ] || { echo "--data $data: no such file" >&2; exit 2; }
           data="$(cd "$(dirname "$data")" && pwd)/$(basename "$data")" ;;
    esac
    if [ -n "$dictionary" ]; then
        dictionary="$(cd "$(dirname "$dictionary")" && pwd)/$(basename "$dictionary")"
    fi
    "$PURCHASE_PREDICT_JUPYTER_PYTHON" - "$out/settings.json" "$data" "$target" "$id" "$drop" \
        "$numeric" "$categorical" "$positive" "$dictionary" "${PURCHASE_PREDICT_BACKEND:-local}" <<'PY'
import json, sys
path, data, target, id_, drop, numeric, categorical, positive, dictionary, backend = sys.argv[1:]
names = lambda v: [x.strip() for x in v.split(",") if x.strip()]
settings = {"data": data, "target": target or None, "id": id_ or None, "drop": names(drop),
            "numeric": names(numeric), "categorical": names(categorical),
            "positive": positive or None, "dictionary": dictionary or None, "backend": backend}
with open(path, "w") as f:
    json.dump(settings, f, indent=1)
PY
    export PURCHASE_PREDICT_SETTINGS="$out/settings.json"
    export PURCHASE_PREDICT_WORKDIR="$out/work"
    # A full run starts from an empty working folder; naming notebooks reuses what the
    # earlier ones left there.
    [ ${#names[@]} -gt 0 ] || rm -rf "$PURCHASE_PREDICT_WORKDIR"
    args+=(--out "$out" --timings "$out/timings.json")
    echo "== the walkthrough on $data (settings: $out/settings.json)"
elif [ "$refresh" = 1 ]; then
    args+=(--refresh)
elif [ -n "$out" ]; then
    args+=(--out "$out" --timings "$out/timings.json")
fi
"$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/run_notebooks.py "${args[@]}" "${names[@]}"
if [ ${#names[@]} -eq 0 ] && [ -z "$data" ]; then
    ensure_chromium
    ensure_chromedriver
    "$PURCHASE_PREDICT_JUPYTER_PYTHON" scripts/browser_check.py \
        --executed "$( [ "$refresh" = 1 ] && echo notebooks || echo "${out:-target/notebooks/out}")"
fi
