#!/bin/sh
# tests/fuzz/run.sh SECONDS -- build and run every tests/fuzz/fuzz_*.c.
#
# Each target names the sources it links on its first line:
#     /* FUZZ_SRC: src/a.c src/b.c */
# and, if it needs more than -lz, the libraries on a line of its own among
# the first five:
#     /* FUZZ_LIBS: -lpsl */
# A target fuzz_NAME.c runs for SECONDS on a copy of tests/fuzz/corpus/NAME/
# (if there is one), so the repository is never modified.  Everything is
# built and written under $BUILD/fuzz (BUILD defaults to "build").
# Prints "PASS fuzz fuzz_NAME" or "FAIL fuzz fuzz_NAME" per target, then
# "N passed, N failed"; exits non-zero if any target failed.
set -u

secs=${1:-}
case $secs in
    ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
CLANG=${CLANG:-clang}
out=$BUILD/fuzz
case $out in /*) ;; *) out=./$out ;; esac
mkdir -p "$out" || exit 2
# Make UBSan findings fatal, so they fail the run (unless the caller chose).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

pass=0
fail=0
for src in tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    log=$out/$name.log
    srcs=$(sed -n '1s|^/\* *FUZZ_SRC:\(.*\)\*/.*$|\1|p' "$src")
    libs=$(sed -n '1,5s|^/\* *FUZZ_LIBS:\(.*\)\*/.*$|\1|p' "$src")
    ok=1
    if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
            -D_GNU_SOURCE -Iinclude -Isrc "$src" $srcs -lz $libs \
            -o "$out/$name" >"$log" 2>&1; then
        echo "$name: build failed (see $log)" >&2
        ok=0
    else
        corpus=$out/corpus-$name
        rm -rf "$corpus"
        mkdir -p "$corpus"
        seeds=tests/fuzz/corpus/${name#fuzz_}
        if [ -d "$seeds" ]; then
            cp -R "$seeds/." "$corpus/"
        fi
        if ! "$out/$name" -max_total_time="$secs" -max_len=4096 \
                -artifact_prefix="$out/$name-" "$corpus" >>"$log" 2>&1; then
            echo "$name: failed (see $log); last lines:" >&2
            tail -n 30 "$log" >&2
            ok=0
        fi
    fi
    if [ $ok = 1 ]; then
        echo "PASS fuzz $name"
        pass=$((pass + 1))
    else
        echo "FAIL fuzz $name"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
