#!/bin/sh
# bench/parallel.sh -- many transfers at once (issue 7); bench/run.sh calls
# it, and it also runs alone.
#
#   Z a. 20,000 GETs of the 1 KiB file, 64 at once, one process: hflow -Z
#      --parallel-max 64 vs curl --parallel --parallel-max 64, both reading
#      the same -K file (20,000 `url` lines, each with `output =
#      "/dev/null"`); requests/s from the median wall time of the runs,
#      interleaved (target: >= 2x curl).  After each round wrk -t1 -c64
#      -d2s on the same nginx and file, a load generator that does nothing
#      else: hflow's requests/s over wrk's median (target: >= 0.8).  The byte count of each
#      tool is verified once (-w '%{size_download}').
#   Z b. 5,000 transfers open at once: tests/servers/slow.py (one asyncio
#      loop) holds every response 3 s; hflow -Z --parallel-max 5000 over
#      5,000 URLs (-K file, bodies to /dev/null): peak RSS (ru_maxrss from
#      bench/runstat) against 64 MiB (target: <= 64 MiB).  The server's
#      /stats must show all 5,000 waiting at once, or the row is void.
#      curl has no row here: curl 7.88 clamps --parallel-max to 300.
#
# Environment: HFLOW (default build/hflow), CURL (default /usr/bin/curl),
# BENCH_QUICK=1 (5,000 GETs, 1,000 open transfers of 1 s, one run each),
# RUNSTAT (a compiled bench/runstat.c; compiled here when unset),
# BENCH_TABLE (a file: the rows are appended to it in bench/run.sh's table
# format instead of printed here), NGX_URL (an nginx serving a 1 KiB
# small.bin: used instead of starting one).  Exit status as bench/run.sh's:
# 0 when the tools ran correctly, even if targets are missed; non-zero
# when a tool failed (exit status, timeout, wrong byte count) or the setup
# failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/nginx-up.sh
. bench/lib.sh

HFLOW=${HFLOW:-build/hflow}
CURL=${CURL:-/usr/bin/curl}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=

die() { echo "parallel bench: $*" >&2; exit 1; }

H=$(abspath "$HFLOW")
if [ -z "$H" ] || [ ! -x "$H" ]; then die "hflow not found or not executable: $HFLOW"; fi
C=$(abspath "$CURL")
if [ -z "$C" ] || [ ! -x "$C" ]; then die "curl not found or not executable: $CURL"; fi

if [ -n "$QUICK" ]; then
    A_N=5000 A_RUNS=1 WRK_DUR=1s B_N=1000 B_DELAY=1 B_RUNS=1
else
    A_N=20000 A_RUNS=5 WRK_DUR=2s B_N=5000 B_DELAY=3 B_RUNS=3
fi
A_MAX=64
B_LIMIT_KIB=65536
SMALL_BYTES=1024

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-zbench.XXXXXX") || die "mktemp failed"
RS_PID=''
SLOW_PID=''
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
    [ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
    [ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null && wait "$SLOW_PID" 2>/dev/null
    ngx_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

clean_env
mkdir -p "$TMP/www"
need_runstat
ROWS=$TMP/rows
: >"$ROWS"

if [ -n "${NGX_URL:-}" ]; then
    URL_SMALL=$NGX_URL
else
    head -c $SMALL_BYTES /dev/urandom >"$TMP/www/small.bin" || die "cannot create small.bin"
    ngx_start "$TMP/nginx" "$TMP/www" || die "cannot start nginx"
    URL_SMALL=http://127.0.0.1:$NGX_PORT/small.bin
fi

if [ -z "${BENCH_TABLE:-}" ]; then
    echo "== hflow parallel benchmarks${QUICK:+ (BENCH_QUICK=1: reduced counts)}"
    echo "hflow: $H"
    echo "curl:  $C ($("$C" --version 2>&1 | head -n 1 | cut -d' ' -f1-2))"
    echo "host:  $(nproc) CPUs, $(uname -sr)"
fi

# --- Z a. many GETs, 64 at once ----------------------------------------------
KA=$TMP/a.cfg
awk -v n=$A_N -v u="$URL_SMALL" 'BEGIN {
    for (i = 0; i < n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' >"$KA"
echo "-- Z a. $A_N GETs of 1 KiB, $A_MAX at once, URLs from one -K file, bodies to /dev/null:" \
    "$A_RUNS run(s) each, interleaved"
for t in hflow curl; do
    [ $t = hflow ] && _bin=$H || _bin=$C
    # (curl 7.88 draws its parallel meter even with -s: stderr aside)
    _sum=$(timeout 120 "$_bin" -Z --parallel-max $A_MAX -s -w '%{size_download}\n' -K "$KA" \
        2>"$TMP/verify.err" | awk '{ s += $1 } END { print s + 0 }')
    [ "$_sum" = $((A_N * SMALL_BYTES)) ] ||
        die "Z a: $t received $_sum bytes, expected $((A_N * SMALL_BYTES))"
done
# each round: hflow and curl (interleaved by runstat), then wrk, so that
# the three medians come from the same stretch of time on a shared machine
HAVE_WRK=
command -v wrk >/dev/null 2>&1 && HAVE_WRK=1
: >"$TMP/a"
: >"$TMP/wrk"
_r=0
while [ $_r -lt $A_RUNS ]; do
    _r=$((_r + 1))
    rs -n 1 -t 120 \
        hflow "$H" -Z --parallel-max $A_MAX -s -K "$KA" \
        :: curl "$C" --parallel --parallel-max $A_MAX -s -K "$KA" \
        >>"$TMP/a" 2>"$TMP/a.err" || { cat "$TMP/a.err" >&2; die "Z a: a tool failed"; }
    if [ -n "$HAVE_WRK" ]; then
        timeout 30 wrk -t1 -c$A_MAX -d$WRK_DUR "$URL_SMALL" 2>/dev/null |
            awk '/^Requests\/sec:/ { print "wrk", $2 }' >>"$TMP/wrk"
    fi
done
for t in hflow curl; do
    _w=$(med "$TMP/a" $t '$3')
    _cpu=$(med "$TMP/a" $t '$5 + $6')
    _rps=$(calc 'n / w' -v n=$A_N -v w="$_w")
    printf '   %-5s  wall %.3f s   %.0f req/s   cpu %.3f s (medians)\n' $t "$_w" "$_rps" "$_cpu"
    if [ $t = hflow ]; then A_RPS_H=$_rps; else A_RPS_C=$_rps; fi
done
row "$A_N GETs, -Z $A_MAX (req/s)" req/s "$A_RPS_H" "$A_RPS_C" ge 2.0
if [ -n "$HAVE_WRK" ]; then
    WRK_RPS=
    [ -s "$TMP/wrk" ] && WRK_RPS=$(med "$TMP/wrk" wrk '$2')
    if [ -n "$WRK_RPS" ]; then
        printf '   wrk    %.0f req/s (wrk -t1 -c%d -d%s after each round, the same URL; median)\n' \
            "$WRK_RPS" $A_MAX $WRK_DUR
        echo "   (table row 'vs wrk': hflow -Z in the hflow column, wrk in the curl column)"
        row "-Z $A_MAX vs wrk -c$A_MAX (req/s)" req/s "$A_RPS_H" "$WRK_RPS" ge 0.8
    else
        echo "   (wrk failed: no row against it)"
    fi
else
    echo "   (wrk not installed: no row against it)"
fi

# --- Z b. thousands of transfers open at once ---------------------------------
echo "-- Z b. $B_N transfers open at once (slow.py answers each after $B_DELAY s), bodies to" \
    "/dev/null: peak RSS, $B_RUNS run(s)"
PORTFILE=$TMP/slow.port
/usr/bin/python3 tests/servers/slow.py --port 0 --portfile "$PORTFILE" \
    --delay $B_DELAY --size $SMALL_BYTES --lifetime 600 >"$TMP/slow.log" 2>&1 &
SLOW_PID=$!
_i=0
while [ ! -s "$PORTFILE" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
[ -s "$PORTFILE" ] || die "slow.py did not start: $(cat "$TMP/slow.log")"
SLOW=http://127.0.0.1:$(cat "$PORTFILE")
KB=$TMP/b.cfg
awk -v n=$B_N -v u="$SLOW" 'BEGIN {
    for (i = 0; i < n; i++) printf "url = \"%s/t%d\"\noutput = \"/dev/null\"\n", u, i }' >"$KB"
_peak_ok=1
: >"$TMP/b"
_r=0
while [ $_r -lt $B_RUNS ]; do
    _r=$((_r + 1))
    /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/stats/reset", timeout=5).read()' "$SLOW" ||
        die "slow.py: no /stats/reset"
    rs -n 1 -t 120 hflow "$H" -Z --parallel-max $B_N -s -K "$KB" >>"$TMP/b" ||
        die "Z b: hflow failed"
    _w=$(/usr/bin/python3 -c 'import json, sys, urllib.request
s = json.loads(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=5).read())
print(s["peak_waiting"], s["requests"])' "$SLOW") || die "slow.py: no /stats"
    set -- $_w
    echo "   run $_r: slow.py saw $2 requests, $1 waiting at once"
    [ "$1" = $B_N ] && [ "$2" = $B_N ] || _peak_ok=0
done
B_RSS=$(med "$TMP/b" hflow '$4')
B_WALL=$(med "$TMP/b" hflow '$3')
printf '   hflow  peak RSS %.0f KiB (%.1f MiB)   wall %.2f s (medians; limit %d KiB)\n' \
    "$B_RSS" "$(calc 'r / 1024' -v r="$B_RSS")" "$B_WALL" $B_LIMIT_KIB
if [ $_peak_ok = 1 ]; then
    echo "   (table row 'open transfers': hflow's peak RSS in the hflow column, the 64 MiB" \
        "limit in the curl column)"
    row "$B_N open transfers (KiB)" KiB "$B_RSS" $B_LIMIT_KIB le 1.0
else
    echo "   (not all $B_N transfers were open at once: no row)"
fi

# --- rows -----------------------------------------------------------------
if [ -n "${BENCH_TABLE:-}" ]; then
    cat "$ROWS" >>"$BENCH_TABLE"
else
    echo
    awk -F '\t' '
        function num(v, u) { return (u == "ms" || u == "s") ? sprintf("%.3f", v) : sprintf("%.0f", v) }
        BEGIN {
            printf "%-30s %12s %12s %7s %8s  %s\n", "benchmark", "hflow", "curl/ref", "ratio", "target", "result"
            printf "%-30s %12s %12s %7s %8s  %s\n", "---------", "-----", "--------", "-----", "------", "------"
        }
        {
            r = ($4 > 0) ? $3 / $4 : 0
            ok = ($5 == "le") ? (r <= $6 + 1e-9) : (r >= $6 - 1e-9)
            printf "%-30s %12s %12s %7.2f %8s  %s\n", $1, num($3, $2), num($4, $2), r,
                (($5 == "le") ? "<= " : ">= ") sprintf("%.2f", $6), ok ? "PASS" : "MISS"
        }' "$ROWS"
fi
exit 0
