#!/usr/bin/env bash
# Runs a command whose fuzz builds compile the judge, the crates
# lifecycle-harness and lifecycle-testkit, without libFuzzer's coverage
# instrumentation, and every other crate as cargo-fuzz asks:
#
#   fuzz/judge-uninstrumented.sh cargo +nightly fuzz run load_bytes ...
#   RUSTC_BOOTSTRAP=1 fuzz/judge-uninstrumented.sh cargo fuzz build -s none -O
#
# The fuzz scripts (campaign.sh, ci.sh, exec_rate.sh, and
# .clusterfuzzlite/build.sh) build this way.
#
# Why: a fuzz target runs two implementations, the store and the model, and
# the judge that compares them. libFuzzer keeps an input when it reaches a
# new branch anywhere in the executable, so with the judge instrumented an
# input that only takes a new path through the comparator or a simulated
# disk counts as progress, and every execution pays to collect the judge's
# counters and comparisons. Without it, the fuzzer is guided by the store's
# and the model's branches alone, and runs faster (fuzz/README.md gives
# the figures).
#
# How: the script sets itself as Cargo's RUSTC_WRAPPER and runs the
# command. As the wrapper, it drops the sanitizer-coverage flags
# (`-Cpasses=sancov-module` and `-Cllvm-args=-sanitizer-coverage-*`, in
# `-Cx` or `-C x` form) from the compilations of those two crates; a
# sanitizer such as ASan and `--cfg fuzzing` still apply to them. Any other
# crate, and any call that is not a compilation of those two (cargo's
# `rustc -vV`, an argument file), passes through unchanged. Cargo does not
# rebuild when the wrapper changes, so the script also adds
# `--cfg judge_uninstrumented` to RUSTFLAGS, which it does: a build with
# and one without never share compiled crates. A RUSTC_WRAPPER already set
# (sccache, say) is replaced for the command.
set -euo pipefail

if [ "${LIFECYCLE_JUDGE_UNINSTRUMENTED:-}" != wrapper ]; then
    [ "$#" -ge 1 ] || {
        sed -n '2,9p' "$0" >&2
        exit 2
    }
    LIFECYCLE_JUDGE_UNINSTRUMENTED=wrapper
    RUSTC_WRAPPER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg judge_uninstrumented"
    export LIFECYCLE_JUDGE_UNINSTRUMENTED RUSTC_WRAPPER RUSTFLAGS
    exec "$@"
fi

rustc="$1"
shift

crate=""
previous=""
for arg in "$@"; do
    [ "$previous" = --crate-name ] && crate="$arg"
    previous="$arg"
done

case "$crate" in
    lifecycle_harness | lifecycle_testkit) ;;
    *) exec "$rustc" "$@" ;;
esac

coverage_flag() {
    case "$1" in
        passes=sancov-module | llvm-args=-sanitizer-coverage-*) return 0 ;;
        *) return 1 ;;
    esac
}

kept=()
while [ "$#" -gt 0 ]; do
    if [ "$1" = -C ] && [ "$#" -ge 2 ] && coverage_flag "$2"; then
        shift 2
        continue
    fi
    if [[ "$1" == -C* ]] && coverage_flag "${1#-C}"; then
        shift
        continue
    fi
    kept+=("$1")
    shift
done
exec "$rustc" "${kept[@]}"
