#!/usr/bin/env bash
# An overnight fuzzing campaign over every target, on one machine.
#
#   fuzz/campaign.sh [HOURS]        # default 8; fractions work: 0.5 = 30 minutes
#
# Runs all targets at once, splitting the cores among them (libFuzzer
# -fork, crashes do not stop a target), each on its working corpus
# fuzz/campaigns/corpus/<target>/ (kept across campaigns, not committed;
# the committed seeds fuzz/seeds/<target>/ are merged into it first), then per
# target: minimizes that corpus (`cargo fuzz cmin`), minimizes every crash
# (`cargo fuzz tmin`) into fuzz/regressions/<target>/, and writes a summary
# (executions per second, coverage, corpus growth, crashes) whose path it
# prints last.
#
# Environment:
#   FUZZ_SANITIZER  address (default; needs nightly, `cargo +nightly`) or none
#                   (stable, through RUSTC_BOOTSTRAP=1)
#   FUZZ_JOBS       cores to use (default: nproc)
#   FUZZ_TARGETS    space-separated subset of targets (default: all)
set -euo pipefail

hours="${1:-8}"
if ! [[ "$hours" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: $0 [HOURS]   (a number, e.g. 8 or 0.5)" >&2
    exit 2
fi
seconds=$(awk -v h="$hours" 'BEGIN { s = int(h * 3600); print (s < 1 ? 1 : s) }')

cd "$(dirname "$0")/.."
root=$PWD

sanitizer="${FUZZ_SANITIZER:-address}"
# The judge's crates are built without coverage instrumentation (see
# fuzz/judge-uninstrumented.sh).
if [ "$sanitizer" = none ]; then
    fuzz() { RUSTC_BOOTSTRAP=1 "$root/fuzz/judge-uninstrumented.sh" cargo fuzz "$@"; }
else
    fuzz() { "$root/fuzz/judge-uninstrumented.sh" cargo +nightly fuzz "$@"; }
fi
build_flags=(-O -s "$sanitizer")

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

read -r -a targets <<<"${FUZZ_TARGETS:-$(fuzz list | tr '\n' ' ')}"
cores="${FUZZ_JOBS:-$(nproc)}"
workers=$((cores / ${#targets[@]}))
[ "$workers" -ge 1 ] || workers=1

run="$root/fuzz/campaigns/$(date -u +%Y%m%dT%H%M%SZ)"
work="$root/fuzz/campaigns/corpus"
mkdir -p "$run"
summary="$run/summary.md"

# One file per line: "<files> <bytes>" of a corpus folder.
corpus_size() {
    local dir="$1"
    find "$dir" -maxdepth 1 -type f | wc -l | tr -d ' '
    find "$dir" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

echo "building ${targets[*]} (sanitizer: $sanitizer)"
fuzz build "${build_flags[@]}"

declare -A before_files before_bytes
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "fuzz/regressions/$t" "$run/artifacts/$t"
    # The committed seeds and the fixed regressions join the working corpus
    # (an open-* regression would only be found again).
    for f in "fuzz/seeds/$t"/* "fuzz/regressions/$t"/*; do
        case "$(basename "$f")" in open-*) continue ;; esac
        [ -f "$f" ] && [ ! -e "$work/$t/$(basename "$f")" ] && cp "$f" "$work/$t/"
    done
    { read -r before_files[$t]; read -r before_bytes[$t]; } < <(corpus_size "$work/$t")
done

echo "fuzzing ${#targets[@]} targets for ${seconds}s, $workers worker(s) each; logs in $run"
pids=()
for t in "${targets[@]}"; do
    fuzz run "${build_flags[@]}" "$t" "$work/$t" -- \
        -fork="$workers" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -dict=fuzz/lifecycle.dict \
        -artifact_prefix="$run/artifacts/$t/" >"$run/$t.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
done
[ "$status" -eq 0 ] || echo "note: a fuzzer exited with $status (crashes are handled below)"

{
    echo "# Fuzzing campaign $(basename "$run")"
    echo
    echo "- duration: ${seconds}s per target, $workers worker(s) each, $cores core(s)"
    echo "- sanitizer: $sanitizer; $(rustc --version)"
    echo
    echo "| target | execs | exec/s | cov | ft | corpus before | after cmin | crashes | new regressions |"
    echo "|---|---|---|---|---|---|---|---|---|"
} >"$summary"

for t in "${targets[@]}"; do
    log="$run/$t.log"
    # Fork mode reports "#RUNS: cov: C ft: F corp: N exec/s: E ... time: Ts".
    stats=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1 || true)
    runs=$(sed -nE 's/^#([0-9]+): .*/\1/p' <<<"$stats")
    cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$stats")
    ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$stats")
    secs=$(sed -nE 's/.* time: ([0-9]+)s .*/\1/p' <<<"$stats")
    rate=$(awk -v r="${runs:-0}" -v s="${secs:-0}" 'BEGIN { print (s > 0 ? int(r / s) : 0) }')

    fuzz cmin "${build_flags[@]}" "$t" "$work/$t" \
        >"$run/$t.cmin.log" 2>&1 || echo "note: cmin of $t failed, see $run/$t.cmin.log"
    { read -r after_files; read -r after_bytes; } < <(corpus_size "$work/$t")

    crashes=0
    kept=0
    for artifact in "$run/artifacts/$t"/crash-* "$run/artifacts/$t"/timeout-* "$run/artifacts/$t"/oom-*; do
        [ -f "$artifact" ] || continue
        crashes=$((crashes + 1))
        minimized="$run/artifacts/$t/minimized-$(basename "$artifact")"
        fuzz tmin "${build_flags[@]}" "$t" "$artifact" -- -exact_artifact_path="$minimized" \
            >"$run/$t.tmin.$(basename "$artifact").log" 2>&1 || true
        [ -f "$minimized" ] || minimized="$artifact"
        name="$(basename "$artifact" | cut -d- -f1)-$(sha1sum "$minimized" | cut -c1-16)"
        if [ ! -f "fuzz/regressions/$t/$name" ]; then
            cp "$minimized" "fuzz/regressions/$t/$name"
            kept=$((kept + 1))
        fi
    done

    echo "| $t | ${runs:-?} | $rate | ${cov:-?} | ${ft:-?} | ${before_files[$t]} files, ${before_bytes[$t]} B | $after_files files, $after_bytes B | $crashes | $kept |" >>"$summary"
done

{
    echo
    echo "exec/s is executions over wall time summed over the workers of a target;"
    echo "cov/ft are libFuzzer's coverage edges and features at the end."
    echo "The corpus columns are the working corpus $work/<target>."
    echo "Crash inputs and logs: $run. New regressions are in fuzz/regressions/<target>/:"
    echo "replay them with \`cargo test --manifest-path fuzz/Cargo.toml\`."
} >>"$summary"

cat "$summary"
echo
echo "summary: $summary"
