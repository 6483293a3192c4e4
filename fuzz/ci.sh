#!/usr/bin/env bash
# CI for the fuzz crate, on stable Rust:
# 1. checks formatting and lints of the crate, and replays every corpus and
#    regression input through its target (cargo test; skipped with
#    --skip-replay, which .ci/run passes because .ci/test replays them);
# 2. proves .clusterfuzzlite/build.sh builds every cargo-fuzz target
#    (outside a container, `-s none`), one executable per target in OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --locked -- -D warnings
if [ "${1:-}" != --skip-replay ]; then
    cargo test --manifest-path fuzz/Cargo.toml --locked
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
OUT="$out" bash .clusterfuzzlite/build.sh
missing=0
for target in $(cargo fuzz list); do
    if [ -x "$out/$target" ]; then
        echo "built: $target"
    else
        echo "build.sh did not produce $target" >&2
        missing=1
    fi
done
exit "$missing"
