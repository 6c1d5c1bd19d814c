#!/bin/sh
# tests/run.sh -- the whole suite, as `make check` runs it (POSIX sh):
#   1. every unit test binary $B/tests/test_*
#   2. the integration suite on $B/hflow (nginx, httpbin, hostile.py)
#   3. a sanitizer build (clang, ASan+UBSan) in $A: its unit tests and the
#      integration --fast subset
#   4. valgrind on $B/hflow: a normal request and each error path
#   5. the fuzz targets, 10 s (tests/fuzz/run.sh)
# Each component prints its own "N passed, N failed"; this script shows their
# output indented, sums the counts, counts a component that crashed, timed out
# or printed no count as one failure, and ends with the one line
# "N passed, N failed".  Exit status is non-zero if anything failed.
#
# Environment: HFLOW_BUILD (default build), HFLOW_ASAN_BUILD (default
# $HFLOW_BUILD/asan), HFLOW_FUZZ_SECS (default 10), HFLOW_SKIP (space-separated
# component names to leave out: unit integration asan valgrind fuzz; each one
# left out is reported).
set -u
cd "$(dirname "$0")/.." || exit 1

PY=/usr/bin/python3
B=${HFLOW_BUILD:-build}
A=${HFLOW_ASAN_BUILD:-$B/asan}
FUZZ_SECS=${HFLOW_FUZZ_SECS:-10}
SKIP=${HFLOW_SKIP:-}
TOTAL_P=0
TOTAL_F=0
FAILED_PARTS=""
START=$(date +%s)

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/hflow-check.XXXXXX") || exit 1
trap 'rm -rf "$LOGDIR"' EXIT
trap 'echo "interrupted"; exit 130' INT TERM HUP

skipped() {
    case " $SKIP " in *" $1 "*) echo "== $1: left out (HFLOW_SKIP)"; return 0 ;; esac
    return 1
}

# component NAME SECONDS CMD...: run CMD with a time bound, show its output
# indented as it comes, and add its last "N passed, N failed" to the totals.
component() {
    name=$1; secs=$2; shift 2
    safe=$(echo "$name" | tr '/ ' '__')
    out=$LOGDIR/$safe.out
    rcf=$LOGDIR/$safe.rc
    t0=$(date +%s)
    echo "== $name"
    { timeout -k 10 "$secs" "$@" 2>&1; echo $? >"$rcf"; } | tee "$out" | sed 's/^/  /'
    rc=$(cat "$rcf" 2>/dev/null || echo 125)
    line=$(grep -E '^([A-Za-z0-9_./-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$line" ]; then
        p=0; f=1
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            echo "FAIL $name: timed out after $secs s"
        else
            echo "FAIL $name: exit $rc and no 'N passed, N failed' line"
        fi
    else
        p=${line%% passed,*}; p=${p##* }
        f=${line#* passed, }; f=${f%% failed*}
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
            echo "FAIL $name: exit $rc with no failed test (crash, leak or timeout)"
            f=1
        fi
    fi
    TOTAL_P=$((TOTAL_P + p))
    TOTAL_F=$((TOTAL_F + f))
    [ "$f" != 0 ] && FAILED_PARTS="$FAILED_PARTS $name"
    echo "== $name: $p passed / $f failed, exit $rc ($(( $(date +%s) - t0 )) s)"
}

# broken NAME REASON: a component that could not run counts as one failure.
broken() {
    echo "FAIL $1: $2"
    TOTAL_F=$((TOTAL_F + 1))
    FAILED_PARTS="$FAILED_PARTS $1"
}

unit_tests() {  # unit_tests BUILDDIR LABEL
    found=0
    for t in "$1"/tests/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        found=1
        component "$2/$(basename "$t")" 120 "$t"
    done
    [ "$found" = 1 ] || echo "== $2: no unit test binaries in $1/tests"
}

# 1. unit tests
skipped unit || unit_tests "$B" unit

# 2. integration
if ! skipped integration; then
    component integration 420 "$PY" tests/integration/run.py --bin "$B/hflow"
fi

# 3. sanitizers
if ! skipped asan; then
    echo "== asan: make BUILD=$A SAN=1 CC=clang"
    if make -s -j2 BUILD="$A" SAN=1 CC=clang all >"$LOGDIR/asan-build.out" 2>&1; then
        ASAN_OPTIONS=detect_leaks=1
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        export ASAN_OPTIONS UBSAN_OPTIONS
        unit_tests "$A" asan-unit
        component asan-integration 300 "$PY" tests/integration/run.py --fast \
            --bin "$A/hflow"
        # every https case runs under the sanitizers (the TLS issue asks it)
        component asan-tls 300 "$PY" tests/integration/run.py --filter tls/ \
            --bin "$A/hflow"
        # every proxy case too (issue 8), and the async API's (issue 7)
        component asan-proxy 300 "$PY" tests/integration/run.py --filter proxy/ \
            --bin "$A/hflow"
        component asan-async 300 "$PY" tests/integration/run.py --filter async/ \
            --bin "$A/hflow"
        unset ASAN_OPTIONS UBSAN_OPTIONS
    else
        sed 's/^/  /' "$LOGDIR/asan-build.out" | tail -n 40
        broken asan "sanitizer build failed"
    fi
fi

# 4. valgrind
if ! skipped valgrind; then
    if command -v valgrind >/dev/null 2>&1; then
        component valgrind 300 "$PY" tests/integration/run.py --valgrind --bin "$B/hflow"
    else
        broken valgrind "valgrind not installed (make deps)"
    fi
fi

# 5. fuzz
if ! skipped fuzz; then
    if [ -f tests/fuzz/run.sh ]; then
        component fuzz 300 env BUILD="$B" sh tests/fuzz/run.sh "$FUZZ_SECS"
    else
        broken fuzz "tests/fuzz/run.sh is missing"
    fi
fi

echo "== total time $(( $(date +%s) - START )) s${FAILED_PARTS:+; failed in:$FAILED_PARTS}"
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" = 0 ]
