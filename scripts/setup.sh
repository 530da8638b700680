# Installs what purchase-predict needs on a fresh Debian machine. Sourced by demo.sh and test.sh;
# every step is skipped when already done.
set -euo pipefail

# apt_install PACKAGE WHY: one Debian package, with sudo when not root.
apt_install() {
    echo "== installing $1 ($2)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}

# libxgboost 1.7.4 (the XGBoost line of SageMaker's xgboost:1.7-1 image), linked through our FFI.
ensure_libxgboost() {
    if ! dpkg -s libxgboost-dev >/dev/null 2>&1; then
        apt_install libxgboost-dev "Debian's XGBoost 1.7.4"
    fi
}

# Headless Chromium for the report test (it opens report.html and takes a screenshot).
ensure_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        apt_install chromium "for the report.html test"
    fi
}

# A Python with xgboost 1.7.6 for the model-exchange test (Rust -> Python direction).
# Kept in the user's cache so that later runs on the same machine reuse it.
ensure_python_xgboost() {
    local venv="${PURCHASE_PREDICT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-xgboost-1.7.6}"
    if ! "$venv/bin/python" -c 'import xgboost, sys; sys.exit(xgboost.__version__ != "1.7.6")' 2>/dev/null; then
        echo "== creating $venv with xgboost 1.7.6"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r tests/fixtures/xgboost-1.7/requirements.txt
    fi
    export PURCHASE_PREDICT_PYTHON="$venv/bin/python"
}

# moto's server: the local AWS emulator the SageMaker-backend tests run against
# (tests/sagemaker.rs starts one per test on a free 127.0.0.1 port).
ensure_moto() {
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-moto-5.2.1"
    if ! "$venv/bin/python" -c 'import moto, sys; sys.exit(moto.__version__ != "5.2.1")' 2>/dev/null; then
        echo "== creating $venv with moto[server] 5.2.1"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r tests/fixtures/moto/requirements.txt
    fi
    export PURCHASE_PREDICT_MOTO="$venv/bin/moto_server"
}

# The evcxr Rust kernel for Jupyter. `cargo install` takes about 13 minutes on 2 cores, once:
# the binary stays in ~/.cargo/bin.
ensure_evcxr() {
    if ! command -v evcxr_jupyter >/dev/null; then
        echo "== installing evcxr_jupyter 0.22.0 (about 13 minutes, once)"
        cargo install --locked evcxr_jupyter --version 0.22.0
    fi
}

# mold: evcxr links every notebook cell into a library; mold is its fastest linker.
ensure_mold() {
    if ! command -v mold >/dev/null 2>&1; then
        apt_install mold "the notebooks' linker"
    fi
}

# nbclient in a virtual environment, and the evcxr kernel registered with Jupyter.
ensure_jupyter() {
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-jupyter"
    if ! "$venv/bin/python" -c 'import nbclient, nbformat' 2>/dev/null; then
        echo "== creating $venv with nbclient"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r notebooks/requirements.txt
    fi
    export PURCHASE_PREDICT_JUPYTER_PYTHON="$venv/bin/python"
    if ! "$venv/bin/python" -c 'import jupyter_client.kernelspec as k, sys; sys.exit("rust" not in k.find_kernel_specs())'; then
        evcxr_jupyter --install >/dev/null
    fi
}

# libgomp spin-waits by default, which slows training badly on a busy 2-core machine.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
