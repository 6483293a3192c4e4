#!/usr/bin/env bash
# Builds the example stores and runs `lifecycle check` on each of them.
#
#   adapters/examples/check.sh [--expect | --bless | --build] [NAME...] [-- CHECK-OPTIONS...]
#
# --expect compares each report with adapters/examples/expected/NAME.json
# (expect.py: every finding with its reason, no crash case skipped, the run
# complete) and fails on any difference; --bless rewrites those files from
# the reports, keeping the reasons of the findings that stay; --build
# only installs and builds (so that two runs may then check at once).
#
# NAME is a folder of adapters/examples, or one of two variants:
# node-write-file-atomic-sync (the same store through writeFileAtomic.sync)
# and go-renameio-tmpfs ($TMPDIR on another file system, /dev/shm, as where
# /tmp is a tmpfs). Default: all of them. Options after
# `--` go to `lifecycle check` as they are (e.g. `-- --suite vectors`).
# Missing toolchains and packages are installed from Debian's packages, npm,
# PyPI and crates.io (apt-get needs root). Environment:
#   LIFECYCLE  the oracle binary (default: target/release/lifecycle, built when missing)
#   OUT_DIR    where the JSON reports go (default: target/examples)
#   TIMEOUT    --timeout of lifecycle check, in seconds (default: 10)
# Exit status: 0 when every check ran to its end (violations are the point of
# these examples, so exit 1 of lifecycle check counts as done) and, with
# --expect, found what is expected; else 1 for a difference, or the first
# other exit status of lifecycle check (3: the adapter or the harness broke).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LIFECYCLE=${LIFECYCLE:-$root/target/release/lifecycle}
OUT_DIR=${OUT_DIR:-$root/target/examples}
TIMEOUT=${TIMEOUT:-10}
ALL=(node-write-file-atomic node-write-file-atomic-sync rust-tempfile go-renameio go-renameio-tmpfs python-atomicwrites java-nio)

apt_updated=
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "check.sh: missing $*; install it as root: apt-get install -y $*" >&2
        exit 2
    fi
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need() { # need COMMAND DEBIAN-PACKAGE...
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null 2>&1 || apt_install "$@"
}

q() { printf '%q' "$1"; }

# Each build_NAME builds the example and prints its adapter command.
build_node-write-file-atomic() {
    local dir=$here/node-write-file-atomic
    need node nodejs
    need npm npm
    if [ ! -d "$dir/node_modules/write-file-atomic" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
    echo "$(q "$(command -v node)") $(q "$dir/adapter.js")"
}

build_node-write-file-atomic-sync() {
    echo "$(build_node-write-file-atomic) --sync"
}

build_rust-tempfile() {
    local dir=$here/rust-tempfile
    need cargo cargo
    cargo build --release --locked --quiet --manifest-path "$dir/Cargo.toml" --target-dir "$dir/target" >&2
    q "$dir/target/release/adapter"
    echo
}

build_go-renameio() {
    local dir=$here/go-renameio
    need go golang-go
    [ -d /usr/share/gocode/src/github.com/google/renameio ] || apt_install golang-github-google-renameio-dev
    (cd "$dir" && GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off go build -o build/adapter . >&2)
    q "$dir/build/adapter"
    echo
}

build_go-renameio-tmpfs() {
    echo "TMPDIR=/dev/shm $(build_go-renameio)"
}

build_python-atomicwrites() {
    local dir=$here/python-atomicwrites
    need python3 python3 python3-venv
    if [ ! -x "$dir/.venv/bin/python" ]; then
        python3 -m venv "$dir/.venv" >&2 || { apt_install python3-venv && rm -rf "$dir/.venv" && python3 -m venv "$dir/.venv" >&2; }
    fi
    "$dir/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/requirements.txt" >&2
    # The venv's interpreter itself, never a version manager's shim.
    echo "$(q "$dir/.venv/bin/python") $(q "$dir/adapter.py")"
}

build_java-nio() {
    local dir=$here/java-nio
    need javac openjdk-17-jdk-headless
    [ -f /usr/share/java/jackson-databind.jar ] || apt_install libjackson2-databind-java
    local cp=/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar
    mkdir -p "$dir/build"
    javac -d "$dir/build" -cp "$cp" "$dir/LifecycleStore.java" "$dir/Adapter.java" >&2
    # A JVM with one GC thread and the first JIT tier only starts in about
    # two thirds of the time (each kill and faults replay is a new JVM);
    # neither changes a file call of the store. Without perf data it makes
    # no /tmp/hsperfdata_* file: two JVMs started at once raced for one,
    # and the loser wrote its warning on standard output, where the
    # protocol's replies go; any other warning goes to standard error.
    echo "$(q "$(command -v java)") -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xlog:all=warning:stderr -cp $(q "$dir/build:$cp") Adapter"
}

names=()
extra=()
mode=
while [ $# -gt 0 ]; do
    case $1 in
        --) shift; extra=("$@"); break ;;
        --expect|--bless|--build) mode=${1#--}; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) names+=("${1%/}"); shift ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
for name in "${names[@]}"; do
    if ! declare -F "build_$name" >/dev/null; then
        echo "check.sh: no example named $name (have: ${ALL[*]})" >&2
        exit 2
    fi
done

need strace strace
if [ ! -x "$LIFECYCLE" ]; then
    (cd "$root" && cargo build --release --locked --bin lifecycle)
fi
mkdir -p "$OUT_DIR"

status=0
for name in "${names[@]}"; do
    echo "== $name: building" >&2
    adapter=$("build_$name")
    if [ "$mode" = build ]; then
        echo "== $name: built: $adapter" >&2
        continue
    fi
    echo "== $name: lifecycle check --adapter '$adapter'" >&2
    started=$SECONDS
    rc=0
    "$LIFECYCLE" check --adapter "$adapter" --timeout "$TIMEOUT" --json "$OUT_DIR/$name.json" ${extra[@]+"${extra[@]}"} || rc=$?
    echo "== $name: exit $rc after $((SECONDS - started)) s, report $OUT_DIR/$name.json" >&2
    if [ "$rc" -gt 1 ] && [ "$status" = 0 ]; then
        status=$rc
    fi
    expected=$here/expected/$name.json
    case $mode in
        expect)
            if python3 "$here/expect.py" "$OUT_DIR/$name.json" "$expected"; then
                echo "== $name: as expected ($expected)" >&2
            else
                echo "== $name: not as expected ($expected)" >&2
                [ "$status" != 0 ] || status=1
            fi
            ;;
        bless)
            mkdir -p "$here/expected"
            python3 "$here/expect.py" --bless "$OUT_DIR/$name.json" "$expected"
            ;;
    esac
done
exit "$status"
