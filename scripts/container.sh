#!/usr/bin/env bash
# Build the purchase-predict image from the Dockerfile with Podman (Debian's package) and run
# the container-contract tests (tests/container.rs) against the container itself.
#
#   bash scripts/container.sh          build the image, then run the tests in it
#   IMAGE=purchase-predict:0.1.0 bash scripts/container.sh
#
# Where no container registry is reachable (CI: package registries only), the Dockerfile's
# two base images are stood in for: the runtime base is Debian 12 made with mmdebstrap from
# Debian's own mirror, and the binary comes from a release build on this machine (the
# Dockerfile's BINARY_FROM) instead of its rust:1.85 build stage. Everything the runtime stage
# does (apt-get install libxgboost0, the entry point) runs as written.
#
# These machines (Firecracker VMs) refuse setrlimit to container runtimes, even to the
# current limits, so crun and runc both fail to start a container. The runtime used here is
# runc behind a wrapper that drops the OCI spec's rlimits (target/container/runc-no-rlimits);
# the container keeps the host's limits. Where a plain `podman run` works, it is used as is.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

IMAGE="${IMAGE:-localhost/purchase-predict:test}"
WORK="$PWD/target/container"
mkdir -p "$WORK"

for pkg in podman runc mmdebstrap; do
    command -v "$pkg" >/dev/null 2>&1 || apt_install "$pkg" "to build and run the image"
done
# uidmap, slirp and the CNI plugins come with podman; rootful podman needs nothing else.

# The OCI runtime: podman's default when it can start a container, else runc without rlimits.
RUNTIME_ARGS=()
probe_image() {
    # A one-file image to probe the runtime with (no registry needed).
    if ! podman image exists localhost/purchase-predict-probe:1; then
        local dir="$WORK/probe"
        rm -rf "$dir" && mkdir -p "$dir/bin"
        cp /bin/true "$dir/bin/true"
        # /bin/true needs its shared libraries: copy them beside it.
        for lib in $(ldd /bin/true | grep -o '/[^ ]*'); do
            mkdir -p "$dir$(dirname "$lib")" && cp "$lib" "$dir$lib"
        done
        tar -C "$dir" -cf "$WORK/probe.tar" .
        podman import -q "$WORK/probe.tar" localhost/purchase-predict-probe:1 >/dev/null
    fi
}
probe_image
if ! podman run --rm --network none localhost/purchase-predict-probe:1 /bin/true 2>"$WORK/probe.err"; then
    echo "== podman's runtime cannot start a container here ($(head -c 200 "$WORK/probe.err")); using runc without rlimits"
    cat > "$WORK/runc-no-rlimits" <<'EOF'
#!/bin/sh
# runc, with the OCI spec's process.rlimits removed first (this VM refuses setrlimit).
bundle=""
prev=""
for a in "$@"; do
    [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ] && bundle="$a"
    case "$a" in --bundle=*) bundle="${a#--bundle=}";; esac
    prev="$a"
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
    python3 -c 'import json,sys
p=sys.argv[1]; c=json.load(open(p)); c.get("process",{}).pop("rlimits",None); json.dump(c,open(p,"w"))' "$bundle/config.json"
fi
exec runc "$@"
EOF
    chmod +x "$WORK/runc-no-rlimits"
    RUNTIME_ARGS=(--runtime "$WORK/runc-no-rlimits")
    podman "${RUNTIME_ARGS[@]}" run --rm --network none localhost/purchase-predict-probe:1 /bin/true
fi

BUILD_ARGS=()
# The runtime base: Docker Hub's debian:bookworm-slim when reachable, else the same release
# made from Debian's mirror.
if ! timeout 30 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
    BASE=localhost/purchase-predict-base:bookworm
    if ! podman image exists "$BASE"; then
        echo "== Docker Hub is unreachable: making the Debian 12 base with mmdebstrap"
        mmdebstrap --quiet --variant=apt --mode=root bookworm "$WORK/base.tar" http://deb.debian.org/debian
        podman import -q "$WORK/base.tar" "$BASE" >/dev/null
        rm -f "$WORK/base.tar"
    fi
    BUILD_ARGS+=(--build-arg "BASE_IMAGE=$BASE")
fi
# The binary: the Dockerfile's build stage when rust:1.85 can be pulled, else this
# machine's release build (same Debian 12, same libxgboost).
if ! timeout 30 podman pull -q docker.io/library/rust:1.85-slim-bookworm >/dev/null 2>&1; then
    ensure_libxgboost
    echo "== Docker Hub is unreachable: the binary comes from cargo build --release here"
    cargo build --release --locked --no-default-features --features cli --bin purchase-predict
    rm -rf "$WORK/binary" && mkdir -p "$WORK/binary"
    cp target/release/purchase-predict "$WORK/binary/purchase-predict"
    tar -C "$WORK/binary" -cf "$WORK/binary.tar" .
    podman import -q "$WORK/binary.tar" localhost/purchase-predict-binary:local >/dev/null
    BUILD_ARGS+=(--build-arg "BINARY_FROM=localhost/purchase-predict-binary:local")
fi

echo "== building $IMAGE"
started=$(date +%s)
podman "${RUNTIME_ARGS[@]}" build -q --network host "${BUILD_ARGS[@]}" -t "$IMAGE" . >/dev/null
echo "   built in $(( $(date +%s) - started )) s: $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

echo "== the container-contract tests against the container"
ensure_libxgboost
ensure_python_xgboost
PURCHASE_PREDICT_CONTAINER_IMAGE="$IMAGE" \
PURCHASE_PREDICT_CONTAINER_ENGINE="podman ${RUNTIME_ARGS[*]}" \
    cargo test --locked --test container -- --test-threads 2
