#!/bin/bash -eu
# Builds every cargo-fuzz target of fuzz/ and copies it to $OUT, with its
# dictionary and seed corpus.
#
# In the ClusterFuzzLite image (FUZZING_ENGINE set), the image's nightly
# toolchain and flags decide the sanitizer. Anywhere else it needs only OUT:
#   OUT=/tmp/out bash .clusterfuzzlite/build.sh
# and builds with `-s none` on stable (RUSTC_BOOTSTRAP=1) unless SANITIZER
# names one and a nightly toolchain is installed.
: "${OUT:?set OUT to the directory that receives the fuzz targets}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# In the image this script is $SRC/build.sh and runs from the project.
[ -f "$root/fuzz/Cargo.toml" ] || root="$PWD"
cd "$root"
mkdir -p "$OUT"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The judge's crates are built without coverage instrumentation (see
# fuzz/judge-uninstrumented.sh).
judge_uninstrumented="$root/fuzz/judge-uninstrumented.sh"
sanitizer="${SANITIZER:-none}"
if [ -n "${FUZZING_ENGINE:-}" ]; then
    "$judge_uninstrumented" cargo fuzz build -O
elif [ "$sanitizer" != none ] && cargo +nightly --version >/dev/null 2>&1; then
    "$judge_uninstrumented" cargo +nightly fuzz build -O -s "$sanitizer"
else
    [ "$sanitizer" = none ] || echo "build.sh: no nightly toolchain, building without $sanitizer" >&2
    RUSTC_BOOTSTRAP=1 "$judge_uninstrumented" cargo fuzz build -O -s none
fi

triple="$(rustc -vV | sed -n 's/^host: //p')"
for target in $(cargo fuzz list); do
    cp "fuzz/target/$triple/release/$target" "$OUT/"
    cp fuzz/lifecycle.dict "$OUT/$target.dict"
    if command -v zip >/dev/null 2>&1 && [ -d "fuzz/seeds/$target" ]; then
        rm -f "$OUT/${target}_seed_corpus.zip"
        (cd "fuzz/seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    fi
done
