#!/usr/bin/env bash
# lifecycle check in any CI: runs `lifecycle check` against an adapter,
# writes the JSON and Markdown reports, and passes lifecycle's exit code
# through. The GitHub Action (action.yml at the repository's root) runs
# this script; GitLab CI, Jenkins or a shell run it the same way.
#
# Inputs, as environment variables (the action's inputs of the same names):
#   LIFECYCLE_ADAPTER            the adapter's command line, run with sh -c
#                                (required)
#   LIFECYCLE_BASELINE           a previous JSON report or an expected-findings
#                                file: only violations it does not list fail
#                                the run (optional; the file must exist)
#   LIFECYCLE_SUITES             suites to run, separated by spaces (default:
#                                every suite)
#   LIFECYCLE_ARGS               more options of `lifecycle check`, split into
#                                words as xargs does (quotes group, nothing is
#                                expanded), e.g. "--timeout 10 --run 'vectors/*'"
#   LIFECYCLE_JSON               the JSON report (default lifecycle-report.json)
#   LIFECYCLE_MARKDOWN           the Markdown report (default
#                                lifecycle-report.md)
#   LIFECYCLE_WORKING_DIRECTORY  where the check runs; the paths above are
#                                relative to it (default: where the script
#                                starts)
#   LIFECYCLE_INSTALL_STRACE     true: install strace when it is missing
#                                (apt-get, as root or through sudo -n);
#                                false (default): the traced suites (kill,
#                                faults, power, permissions) are blind spots
#                                without it
#   LIFECYCLE                    the lifecycle binary, a path relative to where
#                                the script starts or a name on PATH (default
#                                lifecycle)
# Where they are set: GITHUB_STEP_SUMMARY gets the Markdown report,
# GITHUB_OUTPUT gets exit-code, violations, json and markdown (absolute paths).
#
# Exit codes: lifecycle's (0 no new violation, 1 violations, 2 usage,
# 3 adapter or harness broken); 2 for bad input found here (no adapter, a
# baseline that does not exist, no lifecycle binary); 3 when strace was
# asked for and cannot be installed.
set -euo pipefail

name="lifecycle-check"

say() {
    printf '%s: %s\n' "$name" "$*" >&2
}

# A message, as an annotation in GitHub Actions.
warn() {
    if [ "${GITHUB_ACTIONS:-}" = true ]; then
        printf '::warning title=%s::%s\n' "$name" "$*"
    fi
    say "$*"
}

fail() {
    local code=$1
    shift
    if [ "${GITHUB_ACTIONS:-}" = true ]; then
        printf '::error title=%s::%s\n' "$name" "$*"
    fi
    say "error: $*"
    exit "$code"
}

# `name=value` lines for GitHub Actions, only when it asks for them.
output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

# exit-code, whatever ends the script: a refusal here too.
trap 'output exit-code "$?"' EXIT

summary() {
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        cat >>"$GITHUB_STEP_SUMMARY"
    fi
}

absolute() {
    case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

adapter=${LIFECYCLE_ADAPTER:-}
if [ -z "${adapter//[[:space:]]/}" ]; then
    fail 2 "no adapter: set LIFECYCLE_ADAPTER (the action's input adapter) to the command that starts your adapter, e.g. 'python3 adapters/python/lifecycle_adapter.py --module my_store.py' (PROTOCOL.md says how to write one)"
fi

# The binary, found before the working directory changes what a relative
# path means.
lifecycle=${LIFECYCLE:-lifecycle}
case "$lifecycle" in
*/*)
    lifecycle=$(absolute "$lifecycle")
    if [ ! -f "$lifecycle" ] || [ ! -x "$lifecycle" ]; then
        fail 2 "LIFECYCLE is $lifecycle, which is not an executable file"
    fi
    ;;
*)
    command -v "$lifecycle" >/dev/null 2>&1 ||
        fail 2 "$lifecycle is not on PATH: build it (cargo build --release -p lifecycle-cli gives target/release/lifecycle) and set LIFECYCLE to its path"
    ;;
esac

workdir=${LIFECYCLE_WORKING_DIRECTORY:-.}
cd -- "$workdir" 2>/dev/null || fail 2 "the working directory $workdir does not exist or cannot be entered"

json=${LIFECYCLE_JSON:-lifecycle-report.json}
markdown=${LIFECYCLE_MARKDOWN:-lifecycle-report.md}

baseline=${LIFECYCLE_BASELINE:-}
if [ -n "$baseline" ] && [ ! -f "$baseline" ]; then
    fail 2 "the baseline $baseline does not exist (in $PWD); to start one, run without a baseline and commit the JSON report it writes ($json) under another name"
fi
# The report is removed before the run (an old one must not pass for
# this run's): it cannot be the baseline too.
if [ -n "$baseline" ] && [ "$baseline" -ef "$json" ]; then
    fail 2 "the baseline $baseline is the JSON report this run writes: keep the baseline under another name, or set LIFECYCLE_JSON to another path"
fi

# The suites, at spaces, tabs or line ends (a YAML block is fine).
suite_names=()
if [ -n "${LIFECYCLE_SUITES:-}" ]; then
    read -r -a suite_names <<<"${LIFECYCLE_SUITES//[$'\n\r\t']/ }"
fi
suites=()
for suite in ${suite_names[@]+"${suite_names[@]}"}; do
    suites+=(--suite "$suite")
done

# The extra options, split as xargs splits its input: '…' and "…" group,
# a backslash escapes, and nothing is expanded (no globs, no $…).
extra=()
if [ -n "${LIFECYCLE_ARGS:-}" ] && [ -n "${LIFECYCLE_ARGS//[[:space:]]/}" ]; then
    words_file=$(mktemp)
    if ! printf '%s\n' "$LIFECYCLE_ARGS" | xargs printf '%s\0' >"$words_file" 2>/dev/null; then
        rm -f "$words_file"
        fail 2 "LIFECYCLE_ARGS cannot be split into words (an unmatched quote?): $LIFECYCLE_ARGS"
    fi
    while IFS= read -r -d '' word; do
        extra+=("$word")
    done <"$words_file"
    rm -f "$words_file"
fi

case "${LIFECYCLE_INSTALL_STRACE:-false}" in
true | false) ;;
*) fail 2 "LIFECYCLE_INSTALL_STRACE is ${LIFECYCLE_INSTALL_STRACE}, not true or false" ;;
esac

# Whether a suite that records saves under strace runs: all of them run
# when none is named.
traced_suites_run() {
    [ ${#suite_names[@]} -eq 0 ] && return 0
    local s
    for s in "${suite_names[@]}"; do
        case "$s" in
        kill | faults | power | permissions) return 0 ;;
        esac
    done
    return 1
}

install_strace() {
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            say "cannot install strace: not root, and sudo -n does not work"
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "cannot install strace: apt-get is not here; install it with this system's package manager"
        return 1
    fi
    say "installing strace (apt-get)"
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null
}

if ! command -v strace >/dev/null 2>&1 && traced_suites_run; then
    if [ "${LIFECYCLE_INSTALL_STRACE:-false}" = true ]; then
        install_strace || fail 3 "strace was asked for (LIFECYCLE_INSTALL_STRACE=true) and could not be installed"
    else
        warn "strace is not installed: the traced suites (kill, faults, power, permissions) will be skipped and listed as blind spots; install it, or set LIFECYCLE_INSTALL_STRACE=true (the action's input install-strace)"
    fi
fi

mkdir -p -- "$(dirname -- "$json")" "$(dirname -- "$markdown")"
json_path=$(absolute "$json")
markdown_path=$(absolute "$markdown")
# A report left by an earlier run must not pass for this one's.
rm -f -- "$json" "$markdown"

command=("$lifecycle" check --adapter "$adapter")
command+=(${suites[@]+"${suites[@]}"})
if [ -n "$baseline" ]; then
    command+=(--baseline "$baseline")
fi
command+=(--json "$json" --markdown "$markdown")
command+=(${extra[@]+"${extra[@]}"})

printf -v shown ' %q' "${command[@]}"
say "in $PWD:$shown"
code=0
"${command[@]}" || code=$?

# The violations of the JSON report's summary (pretty-printed by
# lifecycle: `"summary": {` at two spaces, its members at four).
violations=
if [ -f "$json" ]; then
    violations=$(awk '
        /^  "summary": \{/ { inside = 1; next }
        inside && /^  \}/ { exit }
        inside && /^    "violation": / { gsub(/[^0-9]/, "", $2); print $2; exit }
    ' "$json")
fi

if [ -f "$markdown" ]; then
    summary <"$markdown"
else
    printf '## lifecycle check\n\nlifecycle check exited %s without writing a report: see the log of this step.\n' "$code" | summary
fi

output violations "$violations"
output json "$json_path"
output markdown "$markdown_path"

case "$code" in
0) say "no new violation (report: $json_path)" ;;
1) say "${baseline:+new }violations (${violations:-?} in all; report: $json_path)" ;;
2) say "lifecycle check refused its options (exit 2)" ;;
3) say "the adapter or the harness is broken (exit 3): see the report" ;;
esac
exit "$code"
