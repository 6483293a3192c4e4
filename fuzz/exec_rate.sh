#!/usr/bin/env bash
# Executions per second of the fuzz targets, for several versions of the
# repository, measured the same way and interleaved so that a busy machine
# slows them alike.
#
#   fuzz/exec_rate.sh [-r ROUNDS] [-m MAX_LEN] [-n] [-P NAME]... NAME=REV [NAME=REV ...]
#
# REV is a commit (checked out with `git worktree add --detach` under
# $FUZZ_RATE_DIR, default /tmp/fuzzperf-rate, and built there), or `.` for
# this checkout as it is (uncommitted changes included), or the path of
# another checkout. Every version is built into its own target directory,
# $FUZZ_RATE_DIR/target-NAME, with
# `RUSTC_BOOTSTRAP=1 fuzz/judge-uninstrumented.sh cargo fuzz build -s none -O`
# (stable, no sanitizer, the judge's crates without coverage
# instrumentation, as the fuzz scripts build; the wrapper is this
# checkout's, and changes nothing in a version without those crates). A
# version named with -P is built with a plain `cargo fuzz build` instead,
# every crate instrumented, so one checkout can be measured both ways in
# the same run. -n skips the builds and uses the executables already
# there. Then, ROUNDS times (default 5), every target runs once per
# version, in the order given:
#
#   TARGET -runs=RUNS -seed=1 -max_len=MAX_LEN -print_final_stats=1 COPY
#
# where COPY is a fresh copy of the version's committed seeds of the target
# (`fuzz/seeds/<target>/`, or `fuzz/corpus/<target>/` in commits before the
# harness refactor; only files git tracks), so no run writes into a
# committed folder and every run starts from the same inputs (artifacts,
# such as a slow unit, go to $FUZZ_RATE_DIR/artifacts/). Two rates per run,
# both libFuzzer's executed units (stat::number_of_executed_units) over the
# time of the process: over its user + system CPU time (what the table
# compares: on a shared machine it leaves out the time the process waited
# for a core), and over its wall time (in brackets; libFuzzer's own exec/s
# divides by whole seconds). The table gives the median per target and
# version, and each version against the first; the seeds column says
# whether a version's seeds are the same bytes as the first version's
# (where the input format changed, each version runs its own seeds). Every
# run is in $FUZZ_RATE_DIR/runs.tsv, with its log in $FUZZ_RATE_DIR/logs/.
#
# Environment: FUZZ_RATE_TARGETS (default: all five), FUZZ_RATE_RUNS_<target>
# (runs per execution; defaults below, about 5-10 s each on one core).
#
# Example (the refactor's baseline against this checkout, built both ways):
#   fuzz/exec_rate.sh -P plain old=c387b17 new=. plain=.
set -euo pipefail

usage() {
    sed -n '2,45p' "$0" >&2
    exit 2
}

rounds=5
max_len=4096
build=1
plain=" "
while getopts "r:m:nP:" opt; do
    case "$opt" in
        r) rounds="$OPTARG" ;;
        m) max_len="$OPTARG" ;;
        n) build=0 ;;
        P) plain+="$OPTARG " ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ "$#" -ge 1 ] || usage

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${FUZZ_RATE_DIR:-/tmp/fuzzperf-rate}"
mkdir -p "$work/logs" "$work/artifacts"
targets="${FUZZ_RATE_TARGETS:-load_bytes codec_differential record_roundtrip transitions crash_schedule}"

default_runs() {
    case "$1" in
        load_bytes) echo 400000 ;;
        codec_differential) echo 100000 ;;
        record_roundtrip) echo 60000 ;;
        transitions) echo 8000 ;;
        crash_schedule) echo 30000 ;;
        *) echo 20000 ;;
    esac
}

runs_of() {
    local var="FUZZ_RATE_RUNS_$1"
    echo "${!var:-$(default_runs "$1")}"
}

names=()
dirs=()
for spec in "$@"; do
    name="${spec%%=*}"
    rev="${spec#*=}"
    if [ "$name" = "$spec" ] || [ -z "$name" ] || [ -z "$rev" ]; then
        echo "expected NAME=REV, got '$spec'" >&2
        exit 2
    fi
    if [ "$rev" = . ]; then
        dir="$repo"
    elif [ -d "$rev" ]; then
        dir="$(cd "$rev" && pwd)"
    else
        sha="$(git -C "$repo" rev-parse --verify "$rev^{commit}")"
        dir="$work/tree-${sha:0:12}"
        if [ ! -d "$dir" ]; then
            git -C "$repo" worktree add --detach "$dir" "$sha" >&2
        fi
    fi
    names+=("$name")
    dirs+=("$dir")
    changes=""
    git -C "$dir" diff --quiet HEAD -- . || changes=", with uncommitted changes"
    echo "$name: $dir ($(git -C "$dir" rev-parse --short HEAD)$changes)" >&2
done

for name in $plain; do
    if [[ " ${names[*]} " != *" $name "* ]]; then
        echo "-P $name names no version" >&2
        exit 2
    fi
done

if [ "$build" = 1 ]; then
    for i in "${!dirs[@]}"; do
        build_command=("$repo/fuzz/judge-uninstrumented.sh" cargo fuzz build)
        how="the judge uninstrumented"
        if [[ "$plain" == *" ${names[$i]} "* ]]; then
            build_command=(cargo fuzz build)
            how="every crate instrumented"
        fi
        echo "building ${names[$i]} ($how) ..." >&2
        if ! (cd "${dirs[$i]}" && RUSTC_BOOTSTRAP=1 "${build_command[@]}" -s none -O \
            --target-dir "$work/target-${names[$i]}") \
            >"$work/logs/build-${names[$i]}.log" 2>&1; then
            echo "build of ${names[$i]} failed, see $work/logs/build-${names[$i]}.log" >&2
            exit 1
        fi
    done
fi

# The committed seeds of a target in a checkout, one path per line.
seed_files() {
    local dir="$1" target="$2" folder
    for folder in "fuzz/seeds/$target" "fuzz/corpus/$target"; do
        if [ -n "$(git -C "$dir" ls-files -- "$folder")" ]; then
            git -C "$dir" ls-files -- "$folder" | sed "s|^|$dir/|"
            return 0
        fi
    done
    echo "no committed seeds for $target in $dir" >&2
    return 1
}

seed_digest() {
    local files
    files="$(seed_files "$1" "$2" | sort)"
    while read -r f; do
        basename "$f"
        cat "$f"
    done <<<"$files" | sha256sum | cut -c1-12
}

triple="$(rustc -vV | sed -n 's/^host: //p')"
tsv="$work/runs.tsv"
printf 'round\ttarget\tversion\truns\twall_s\tcpu_s\texec_per_cpu_s\texec_per_wall_s\texit\n' >"$tsv"
for round in $(seq 1 "$rounds"); do
    for target in $targets; do
        runs="$(runs_of "$target")"
        for i in "${!dirs[@]}"; do
            name="${names[$i]}"
            bin="$work/target-$name/$triple/release/$target"
            copy="$work/inputs-$name-$target"
            rm -rf "$copy"
            mkdir -p "$copy"
            files="$(seed_files "${dirs[$i]}" "$target")"
            while read -r f; do cp "$f" "$copy/"; done <<<"$files"
            log="$work/logs/$target-$name-$round.log"
            rc=0
            (cd "$work" && /usr/bin/time -f '%e %U %S' -o "$log.time" "$bin" -runs="$runs" -seed=1 \
                -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
                "$copy") >"$log" 2>&1 || rc=$?
            rm -rf "$copy"
            units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
            units="${units:-0}"
            read -r wall user sys < <(tail -n 1 "$log.time")
            cpu=$(echo "$user + $sys" | bc)
            per_cpu=$(echo "scale=0; $units / $cpu" | bc)
            per_wall=$(echo "scale=0; $units / $wall" | bc)
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$name" \
                "$units" "$wall" "$cpu" "$per_cpu" "$per_wall" "$rc" >>"$tsv"
            failed=""
            [ "$rc" = 0 ] || failed=" (exit $rc, see $log)"
            echo "round $round $target $name: $units runs, $cpu s CPU = $per_cpu exec/s, $wall s wall = $per_wall exec/s$failed" >&2
        done
    done
done

median() {
    sort -n | awk '{ v[NR] = $1 }
        END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

column() {
    awk -F'\t' -v t="$1" -v n="$2" -v c="$3" '$2 == t && $3 == n && $9 == 0 { print $c }' "$tsv" | median
}

echo "median exec/s of CPU time (of wall time) over $rounds interleaved rounds, -max_len=$max_len -seed=1"
echo
printf '| target | runs |'
for name in "${names[@]}"; do printf ' %s |' "$name"; done
for name in "${names[@]:1}"; do printf ' %s vs %s |' "$name" "${names[0]}"; done
printf ' seeds |\n|---|---|'
for _ in "${names[@]}" "${names[@]:1}"; do printf -- '---|'; done
printf -- '---|\n'
for target in $targets; do
    printf '| %s | %s |' "$target" "$(runs_of "$target")"
    meds=()
    for name in "${names[@]}"; do
        m="$(column "$target" "$name" 7)"
        meds+=("$m")
        printf ' %s (%s) |' "$m" "$(column "$target" "$name" 8)"
    done
    for i in "${!names[@]}"; do
        [ "$i" = 0 ] && continue
        if [ "${meds[0]}" -gt 0 ]; then
            printf ' %+.1f%% |' "$(echo "scale=4; (${meds[$i]} - ${meds[0]}) * 100 / ${meds[0]}" | bc)"
        else
            printf ' n/a |'
        fi
    done
    first="$(seed_digest "${dirs[0]}" "$target")"
    same="same"
    for i in "${!names[@]}"; do
        [ "$(seed_digest "${dirs[$i]}" "$target")" = "$first" ] || same="each its own"
    done
    printf ' %s |\n' "$same"
done
if awk -F'\t' 'NR > 1 && $9 != 0 { bad = 1 } END { exit !bad }' "$tsv"; then
    echo "some runs failed (exit column of $tsv); they are left out of the medians" >&2
fi
