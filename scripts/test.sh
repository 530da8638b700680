#!/usr/bin/env bash
# The test suite: formatting, lints, unit, integration and doc tests. Installs what they need.
# The quality tests read ../shared/datasets when it exists (and are skipped, saying so, when not).
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_libxgboost
ensure_python_xgboost
ensure_moto
ensure_sagemaker_sdk
ensure_chromium
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo clippy -D warnings, without the sagemaker feature"
cargo clippy --locked --no-default-features --features cli --all-targets -- -D warnings
echo "== cargo clippy -D warnings, the library alone (the notebooks' kernel graph: no sagemaker, no cli)"
cargo clippy --locked --no-default-features --lib -- -D warnings
echo "== cargo doc -D warnings, with and without the sagemaker feature"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --no-default-features
echo "== cargo test"
cargo test --locked
