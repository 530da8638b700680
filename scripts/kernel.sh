#!/usr/bin/env bash
# Starts one "Rust (purchase-predict)" notebook kernel: the kernelspec scripts/setup.sh
# registers runs this, in JupyterLab and headless alike, as
#
#   bash scripts/kernel.sh EVCXR_JUPYTER CONNECTION_FILE
#
# Each kernel gets a crate folder of its own, target/notebooks/kernels/N (the lowest N no live
# kernel holds: a lock on N/.lock, held until the kernel exits), so that two notebooks open at
# once never overwrite each other's generated source (evcxr issue 304). With our patched evcxr
# every slot's `target` is a link to one shared target/notebooks/tmp/target, so the crate and
# its dependencies are compiled once for all kernels, and each kernel's cell crate has a name
# of its own (EVCXR_CRATE_NAME=notebook_N), so that no kernel touches another's libraries. A
# stock evcxr cannot tell its cell crates apart: its kernels take slots kernels/stock-N, each
# compiling the graph in a target folder of its own (minutes, once per slot).
set -euo pipefail
evcxr="$1"
connection_file="$2"
root="${PURCHASE_PREDICT_KERNELS:?the kernelspec sets PURCHASE_PREDICT_KERNELS}"
shared="$root/tmp/target"
mode="${PURCHASE_PREDICT_EVCXR:-patched}"
# Stock kernels keep slots of their own (kernels/stock-N), each with its own build.
prefix=""
[ "$mode" = stock ] && prefix="stock-"
mkdir -p "$root/kernels" "$shared"
for n in $(seq 0 63); do
    dir="$root/kernels/$prefix$n"
    mkdir -p "$dir"
    exec {lock}>"$dir/.lock"
    if flock --nonblock "$lock"; then
        break
    fi
    exec {lock}>&-
    if [ "$n" = 63 ]; then
        echo "scripts/kernel.sh: 64 kernels are running already" >&2
        exit 1
    fi
done
if [ "$mode" = stock ]; then
    unset EVCXR_CRATE_NAME
else
    if [ ! -L "$dir/target" ]; then
        rm -rf "$dir/target"
        ln -s "$shared" "$dir/target"
    fi
    export EVCXR_CRATE_NAME="notebook_$n"
fi
export EVCXR_TMPDIR="$dir"
# The lock's descriptor stays open in the kernel: the slot is held until it exits.
exec "$evcxr" --control_file "$connection_file"
