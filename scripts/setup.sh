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

# A Python with xgboost 1.7.6 for the model-exchange and explanation tests, and scikit-learn
# 1.5.2 for the logistic-regression baseline's check (tests/fixtures/xgboost-1.7).
# Kept in the user's cache so that later runs on the same machine reuse it.
ensure_python_xgboost() {
    local venv="${PURCHASE_PREDICT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-xgboost-1.7.6}"
    if ! "$venv/bin/python" -c 'import xgboost, sklearn, google.protobuf, sys; sys.exit(xgboost.__version__ != "1.7.6" or sklearn.__version__ != "1.5.2" or google.protobuf.__version__ != "5.29.3")' 2>/dev/null; then
        echo "== creating $venv with xgboost 1.7.6 and scikit-learn 1.5.2"
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

# The SageMaker Python SDK (2.237.0, every package pinned): its Model Monitor classes read our
# baselines in tests/sagemaker.rs, against moto. About 300 MB, in the user's cache.
ensure_sagemaker_sdk() {
    ensure_pinned_venv venv-sagemaker-sdk tests/fixtures/sagemaker-sdk/requirements.txt \
        'import importlib.metadata as m, sys; sys.exit(m.version("sagemaker") != "2.237.0")'
    export PURCHASE_PREDICT_SAGEMAKER_SDK="$PINNED_VENV/bin/python"
}

# A cached virtual environment of pinned packages (a benchmark's reference): created, or
# re-created when its requirements file changed. Sets PINNED_VENV to its folder.
#   ensure_pinned_venv NAME REQUIREMENTS 'import a, b'
ensure_pinned_venv() {
    PINNED_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/$1"
    if ! "$PINNED_VENV/bin/python" -c "$3" 2>/dev/null \
        || ! cmp -s "$2" "$PINNED_VENV/requirements.txt"; then
        echo "== creating $PINNED_VENV ($2)"
        python3 -m venv "$PINNED_VENV"
        "$PINNED_VENV/bin/pip" install -q --disable-pip-version-check -r "$2"
        cp "$2" "$PINNED_VENV/requirements.txt"
    fi
}

# The evcxr Rust kernel for Jupyter, evcxr_jupyter 0.22.0 with our patches
# (notebooks/evcxr-patches; its README lists them and why), installed once into
# ~/.cache/purchase-predict/evcxr-0.22.0-<patches' hash>/: a changed patch set gets a root of
# its own, so a patched install is told from a stock one, and from an older patch set, by its
# folder and its PATCHES file. The sources come from the crates.io registry through cargo (no
# other network). Sets PURCHASE_PREDICT_EVCXR_JUPYTER to the kernel binary.
#
# PURCHASE_PREDICT_EVCXR=stock uses a stock evcxr_jupyter 0.22.0 instead (yours from
# `cargo install evcxr_jupyter`, else one installed once into
# ~/.cache/purchase-predict/evcxr-0.22.0-stock): the notebooks run the same, slower (README
# "Notebook timings"). The stock install took 311 s on an idle 2-core machine (2026-12-02) with
# evcxr's own release profile, and lighter profiles were no faster; the patched one builds the
# same crates (314 s, 2026-12-06).
ensure_evcxr() {
    if [ "${PURCHASE_PREDICT_EVCXR:-patched}" = stock ]; then
        # The user's own evcxr_jupyter 0.22.0 (`cargo install evcxr_jupyter`); else one of ours,
        # installed once.
        local stock="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/evcxr-0.22.0-stock"
        local home="${CARGO_HOME:-$HOME/.cargo}"
        if cargo install --list 2>/dev/null | grep -q '^evcxr_jupyter v0\.22\.0:' \
            && [ -x "$home/bin/evcxr_jupyter" ]; then
            PURCHASE_PREDICT_EVCXR_JUPYTER="$home/bin/evcxr_jupyter"
        else
            if [ ! -x "$stock/bin/evcxr_jupyter" ]; then
                echo "== installing stock evcxr_jupyter 0.22.0 into $stock (about 5 minutes on 2 idle cores, once)"
                cargo install --quiet --locked evcxr_jupyter --version 0.22.0 --root "$stock"
            fi
            PURCHASE_PREDICT_EVCXR_JUPYTER="$stock/bin/evcxr_jupyter"
        fi
        echo "== evcxr: stock ($PURCHASE_PREDICT_EVCXR_JUPYTER)"
        export PURCHASE_PREDICT_EVCXR_JUPYTER
        return
    fi
    local patches=notebooks/evcxr-patches id root build
    id="$(cat "$patches"/*.patch | sha256sum | cut -c1-12)"
    root="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/evcxr-0.22.0-$id"
    if [ ! -x "$root/bin/evcxr_jupyter" ] || ! cmp -s <(ls "$patches"/*.patch | xargs -n1 basename) "$root/PATCHES"; then
        echo "== installing evcxr_jupyter 0.22.0 with our patches ($id) into $root (about 5 minutes on 2 idle cores, once)"
        build="$PWD/target/evcxr-build"
        rm -rf "$build/src" "$build/fetch"
        mkdir -p "$build/src" "$build/fetch"
        # A manifest that depends on evcxr_jupyter 0.22.0: cargo fetches it and evcxr from the
        # registry, and cargo metadata says where their sources are.
        printf '[package]\nname = "evcxr-sources"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n[lib]\npath = "lib.rs"\n[dependencies]\nevcxr_jupyter = "=0.22.0"\n[workspace]\n' \
            > "$build/fetch/Cargo.toml"
        : > "$build/fetch/lib.rs"
        cargo fetch --quiet --manifest-path "$build/fetch/Cargo.toml"
        cargo metadata --quiet --format-version 1 --manifest-path "$build/fetch/Cargo.toml" \
            | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] in ("evcxr", "evcxr_jupyter") and p["version"] == "0.22.0":
        print(p["name"], os.path.dirname(p["manifest_path"]))' \
            | while read -r name dir; do cp -r "$dir" "$build/src/$name"; done
        command -v patch >/dev/null || apt_install patch "to apply our evcxr patches"
        for patch in "$patches"/*.patch; do
            patch --quiet --forward -p1 -d "$build/src" < "$patch"
        done
        CARGO_TARGET_DIR="$build/target" cargo install --quiet --locked --force \
            --path "$build/src/evcxr_jupyter" --root "$root"
        ls "$patches"/*.patch | xargs -n1 basename > "$root/PATCHES"
    fi
    PURCHASE_PREDICT_EVCXR_JUPYTER="$root/bin/evcxr_jupyter"
    echo "== evcxr: patched ($id: $(tr '\n' ' ' < "$root/PATCHES"))"
    export PURCHASE_PREDICT_EVCXR_JUPYTER
}

# The standard library's sources, which evcxr's rust-analyzer reads to infer the types of
# untyped notebook variables (the committed notebooks type every `let`, so they need neither).
# Without them such a cell can fail after a `cargo check` of the whole graph (evcxr 0.22's
# run_statements: the check reports compile errors, then the cell asks for an explicit type;
# about 50 s the first time). rustup's component where rustup can fetch it; otherwise say what
# is missing.
ensure_rust_src() {
    local src
    src="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
    if [ ! -d "$src" ] && ! rustup component add rust-src >/dev/null 2>&1; then
        echo "warning: $src is missing and rustup could not add rust-src: a notebook cell that" \
             "binds a variable without a type may fail (evcxr cannot infer it)" >&2
    fi
}

# mold: evcxr links every notebook cell into a library; mold is its fastest linker.
ensure_mold() {
    if ! command -v mold >/dev/null 2>&1; then
        apt_install mold "the notebooks' linker"
    fi
}

# Jupyter in the project's venv: nbclient for the headless runner, JupyterLab for scripts/lab.sh
# and Selenium for the browser check (notebooks/requirements.txt pins them all), and the
# "Rust (purchase-predict)" kernel registered in that venv: evcxr with this checkout's settings
# (configure_evcxr) in its environment, so a kernel JupyterLab starts gets them too.
ensure_jupyter() {
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-jupyter"
    if ! "$venv/bin/python" -c 'import nbclient, nbformat, jupyterlab, selenium' 2>/dev/null \
        || ! cmp -s notebooks/requirements.txt "$venv/requirements.txt"; then
        echo "== installing Jupyter (nbclient, JupyterLab, Selenium) into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r notebooks/requirements.txt
        cp notebooks/requirements.txt "$venv/requirements.txt"
    fi
    export PURCHASE_PREDICT_JUPYTER_PYTHON="$venv/bin/python"
    # No news or update checks: these machines reach no such server, and the question is noise.
    mkdir -p "$venv/share/jupyter/lab/settings"
    echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
        > "$venv/share/jupyter/lab/settings/overrides.json"
    register_kernel purchase-predict "Rust (purchase-predict)" \
        "${PURCHASE_PREDICT_EVCXR_JUPYTER:-$(command -v evcxr_jupyter)}" "${PURCHASE_PREDICT_EVCXR:-patched}"
}

# register_kernel NAME DISPLAY_NAME EVCXR_JUPYTER patched|stock [KEY=VALUE ...]: a kernelspec in
# the Jupyter venv that starts EVCXR_JUPYTER through scripts/kernel.sh with this checkout's
# settings (and the extra environment given). JupyterLab and the headless runner use
# "purchase-predict"; benches/kernel.sh registers its baselines beside it.
register_kernel() {
    local name="$1" display="$2" binary="$3" mode="$4" kernel extra=""
    shift 4
    for kv in "$@"; do
        extra+="$(printf ',\n    "%s": "%s"' "${kv%%=*}" "${kv#*=}")"
    done
    kernel="${XDG_CACHE_HOME:-$HOME/.cache}/purchase-predict/venv-jupyter/share/jupyter/kernels/$name"
    mkdir -p "$kernel"
    cat > "$kernel/kernel.json" <<JSON
{
  "argv": ["bash", "$PWD/scripts/kernel.sh", "$binary", "{connection_file}"],
  "display_name": "$display",
  "language": "rust",
  "interrupt_mode": "message",
  "env": {
    "EVCXR_CONFIG_DIR": "$PWD/target/notebooks/config",
    "PURCHASE_PREDICT_KERNELS": "$PWD/target/notebooks",
    "PURCHASE_PREDICT_EVCXR": "$mode",
    "OMP_WAIT_POLICY": "passive"$extra
  }
}
JSON
}

# The evcxr settings of every notebook kernel, headless or in JupyterLab: a crate folder per
# kernel (target/notebooks/kernels/N, scripts/kernel.sh) over one shared build
# (target/notebooks/tmp/target), cells at opt-level 0 (notebooks/evcxr.toml) calling an
# optimised library (target/notebooks/.cargo/config.toml), a 4 GB compilation cache, mold,
# cargo offline, and the crate imported once at kernel start as
# `purchase_predict`: the shared-library facade notebooks/kernel, with the AWS SDK only when
# PURCHASE_PREDICT_BACKEND=sagemaker (the one setting; no notebook changes).
configure_evcxr() {
    export PURCHASE_PREDICT_BACKEND="${PURCHASE_PREDICT_BACKEND:-local}"
    local config="$PWD/target/notebooks/config" features=""
    mkdir -p "$config" "$PWD/target/notebooks/tmp"
    cp notebooks/evcxr.toml "$config/evcxr.toml"
    case "$PURCHASE_PREDICT_BACKEND" in
        sagemaker) features=', features = ["sagemaker"]' ;;
        local) ;;
        *) echo "PURCHASE_PREDICT_BACKEND must be local or sagemaker, not '$PURCHASE_PREDICT_BACKEND'" >&2; return 1 ;;
    esac
    printf ':cache 4000\n:linker mold\n:offline 1\n:dep purchase_predict = { package = "purchase-predict-kernel", path = "%s/notebooks/kernel"%s }\n' \
        "$PWD" "$features" > "$config/init.evcxr"
    # Headless runs (scripts/notebooks.sh) stop at the first panic, so that no later cell
    # runs on bad state; in JupyterLab a failed cell reports its error and the kernel keeps
    # every variable (evcxr's default).
    if [ "${PURCHASE_PREDICT_HEADLESS:-0}" = 1 ]; then
        echo 'std::panic::set_hook(Box::new(|info| { eprintln!("{info}"); std::process::exit(101); }));' >> "$config/init.evcxr"
    fi
    # The library the cells call runs optimised: cargo reads this file for every kernel's crate
    # folder (target/notebooks/kernels/N). Every package but the cell crate (the only workspace
    # member) is built at opt-level 1, purchase-predict itself at 2; the cells stay at evcxr's
    # opt-level 0 (notebooks/evcxr.toml), so each compiles in a fraction of a second. Building
    # the graph this way takes about 7 minutes on 2 cores, once (README "Notebook timings").
    mkdir -p "$PWD/target/notebooks/.cargo"
    cat > "$PWD/target/notebooks/.cargo/config.toml" <<'TOML'
[profile.dev.package."*"]
opt-level = 1
debug = false
[profile.dev.package.purchase-predict]
opt-level = 2
TOML
    export EVCXR_CONFIG_DIR="$config" PURCHASE_PREDICT_KERNELS="$PWD/target/notebooks"
    # Offline resolution needs the crates in cargo's cache: fetch them once (a no-op when present).
    cargo fetch --locked >/dev/null
}

# Everything a notebook kernel needs, headless or in JupyterLab, installed and configured.
prepare_notebook_kernel() {
    ensure_libxgboost
    ensure_mold
    ensure_evcxr
    ensure_rust_src
    ensure_jupyter
    configure_evcxr
}

# chromedriver (Debian's, matching its Chromium) for the browser check of JupyterLab.
ensure_chromedriver() {
    if ! command -v chromedriver >/dev/null 2>&1; then
        apt_install chromium-driver "the JupyterLab browser check"
    fi
}

# libgomp spin-waits by default, which slows training badly on a busy 2-core machine.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
