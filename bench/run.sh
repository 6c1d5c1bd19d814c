#!/bin/sh
# hflow benchmarks: hflow vs curl, side by side, against one private nginx
# on 127.0.0.1 (see scripts/nginx-up.sh).  `make bench` runs this.
#
#   a. one small GET (1 KiB) per process, many runs, interleaved:
#      median wall time and median peak RSS (ru_maxrss)
#   b. one big download (1 GiB, sparse file) to /dev/null, 5 runs each:
#      throughput from median wall time; median CPU time (user+sys)
#   c. 10,000 GETs of the 1 KiB file in one process (the URL repeated on
#      the command line; both tools keep the connection alive): requests/s
#      from median wall time; plus wrk's requests/s as the server's capacity
#   then bench/tls.sh (https) and bench/parallel.sh (-Z: 20,000 GETs 64 at
#   once vs curl and wrk; 5,000 transfers open at once, peak RSS)
#
# Every process is started by bench/runstat.c (compiled to the temp dir),
# which forks, execs, and reads wall time and rusage from wait4().
#
# Environment: HFLOW=path (default build/hflow), CURL=path (default
# /usr/bin/curl), BENCH_QUICK=1 (fewer runs, 100 MiB instead of 1 GiB).
#
# Exit status: 0 when every tool ran correctly, even if targets are missed
# (benchmarks report, they are not tests); non-zero if a tool failed (non-zero
# exit, timeout, wrong byte count) or the setup failed.
set -u

cd "$(dirname "$0")/.." || exit 1
. scripts/nginx-up.sh
. bench/lib.sh

T_START=$(date +%s)
HFLOW=${HFLOW:-build/hflow}
CURL=${CURL:-/usr/bin/curl}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=

die() { echo "bench: $*" >&2; exit 1; }

# runstat execs without a PATH search: make the tools' paths absolute.
HFLOW_BIN=$(abspath "$HFLOW")
if [ -z "$HFLOW_BIN" ] || [ ! -x "$HFLOW_BIN" ]; then
    die "hflow not found or not executable: $HFLOW (build it with make, or set HFLOW=)"
fi
CURL_BIN=$(abspath "$CURL")
if [ -z "$CURL_BIN" ] || [ ! -x "$CURL_BIN" ]; then
    die "curl not found or not executable: $CURL"
fi

if [ -n "$QUICK" ]; then
    A_RUNS=30 A_WARM=3
    BIG_SIZE=100M BIG_LABEL=100MiB BIG_BYTES=104857600 B_RUNS=2
    C_N=2000 C_RUNS=1
    WRK_DUR=1s
else
    A_RUNS=200 A_WARM=10
    BIG_SIZE=1G BIG_LABEL=1GiB BIG_BYTES=1073741824 B_RUNS=5
    C_N=10000 C_RUNS=5
    WRK_DUR=3s
fi
SMALL_BYTES=1024

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-bench.XXXXXX") || die "mktemp failed"
RS_PID=
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
    [ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
    ngx_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Same clean environment for both tools: no ~/.curlrc, no proxies.
clean_env
mkdir -p "$TMP/www"
# (bench/lib.sh's rs runs it: in the background, so that a signal to this
# script is handled at once; runstat then kills its child)
RUNSTAT=
need_runstat

head -c $SMALL_BYTES /dev/urandom >"$TMP/www/small.bin" || die "cannot create small.bin"
truncate -s $BIG_SIZE "$TMP/www/big.bin" 2>/dev/null ||
    dd if=/dev/zero of="$TMP/www/big.bin" bs=1M count=0 seek=$((BIG_BYTES / 1048576)) 2>/dev/null ||
    die "cannot create big.bin"

ngx_start "$TMP/nginx" "$TMP/www" || die "cannot start nginx"
BASE=http://127.0.0.1:$NGX_PORT
URL_SMALL=$BASE/small.bin
URL_BIG=$BASE/big.bin

echo "== hflow benchmarks${QUICK:+ (BENCH_QUICK=1: reduced runs and sizes; a smoke test, numbers are noisy)}"
echo "hflow: $HFLOW_BIN"
echo "       $("$HFLOW_BIN" --version 2>&1 | head -n 1)"
echo "curl:  $CURL_BIN"
echo "       $("$CURL_BIN" --version 2>&1 | head -n 1)"
echo "server: $($NGINX -v 2>&1 | sed 's/.*version: //') on 127.0.0.1:$NGX_PORT (1 worker, sendfile, keepalive)"
echo "host:  $(nproc) CPUs, $(uname -sr)"
echo

# verify WHAT EXPECTED_BYTES [-R N] ARGS...: one run of each tool with its
# stdout counted; fails the benchmark if a tool errs or the count is wrong.
verify() {
    _what=$1 _want=$2
    shift 2
    _rep=
    if [ "$1" = -R ]; then _rep="-R $2"; shift 2; fi
    # shellcheck disable=SC2086
    rs -c -n 1 -t 120 $_rep hflow "$HFLOW_BIN" "$@" :: curl "$CURL_BIN" "$@" \
        >"$TMP/verify" || die "$_what: a tool failed (see above)"
    while read -r _tool _run _wall _rss _ut _st _bytes; do
        [ "$_bytes" = "$_want" ] ||
            die "$_what: $_tool wrote $_bytes bytes, expected $_want"
    done <"$TMP/verify"
}

# med FILE LABEL AWK_EXPR: median over FILE's lines for LABEL of AWK_EXPR
# ($3 wall s, $4 maxrss KiB, $5 user s, $6 sys s).
# medians FILE LABEL: "WALL_S RSS_KIB CPU_S USER_S SYS_S", each a median.
# shellcheck disable=SC2016  # (the $N are awk fields)
medians() {
    echo "$(med "$1" "$2" '$3') $(med "$1" "$2" '$4') $(med "$1" "$2" '$5 + $6')" \
        "$(med "$1" "$2" '$5') $(med "$1" "$2" '$6')"
}
# calc AWK_EXPR [VAR=VALUE...]: prints the expression's value.

: >"$TMP/table"
# row NAME UNIT HFLOW CURL CMP TARGET: CMP is "le" (ratio <= target) or "ge".
row() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$TMP/table"
}

# --- a. small GET, one process per request ------------------------------
echo "-- a. one 1 KiB GET per process: $A_RUNS runs each, interleaved (+$A_WARM warm-up)"
verify "small GET" $SMALL_BYTES -s "$URL_SMALL"
rs -n $A_RUNS -w $A_WARM -t 10 \
    hflow "$HFLOW_BIN" -s "$URL_SMALL" :: curl "$CURL_BIN" -s "$URL_SMALL" \
    >"$TMP/a" || die "small GET: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/a" $t)
    printf '   %-5s  wall %.3f ms   peak RSS %.0f KiB   cpu %.3f ms (medians)\n' \
        $t "$(calc 'w * 1000' -v w="$1")" "$(calc r -v r="$2")" "$(calc 'c * 1000' -v c="$3")"
    if [ $t = hflow ]; then A_WALL_H=$1 A_RSS_H=$2; else A_WALL_C=$1 A_RSS_C=$2; fi
done
row "small GET wall (ms)" ms "$(calc 'w * 1000' -v w="$A_WALL_H")" \
    "$(calc 'w * 1000' -v w="$A_WALL_C")" le 0.5
row "small GET peak RSS (KiB)" KiB "$A_RSS_H" "$A_RSS_C" le 0.5

# --- b. big download ------------------------------------------------------
echo "-- b. $BIG_LABEL download to /dev/null: $B_RUNS runs each, interleaved (+1 warm-up)"
verify "big download" $BIG_BYTES -s "$URL_BIG"
rs -n $B_RUNS -w 1 -t 120 \
    hflow "$HFLOW_BIN" -s -o /dev/null "$URL_BIG" :: curl "$CURL_BIN" -s -o /dev/null "$URL_BIG" \
    >"$TMP/b" || die "big download: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/b" $t)
    tput=$(calc 'b / w / 1e6' -v b=$BIG_BYTES -v w="$1")
    printf '   %-5s  wall %.3f s   %.0f MB/s   cpu %.3f s (user %.3f + sys %.3f) (medians)\n' \
        $t "$1" "$tput" "$3" "$4" "$5"
    if [ $t = hflow ]; then B_TPUT_H=$tput B_CPU_H=$3; else B_TPUT_C=$tput B_CPU_C=$3; fi
done
row "$BIG_LABEL download (MB/s)" MB/s "$B_TPUT_H" "$B_TPUT_C" ge 1.0
row "$BIG_LABEL download CPU (s)" s "$B_CPU_H" "$B_CPU_C" le 0.85

# --- c. many GETs on one kept-alive connection -----------------------------
echo "-- c. $C_N GETs of 1 KiB in one process (URL x $C_N on the command line): $C_RUNS run(s) each"
verify "keep-alive GETs" $((C_N * SMALL_BYTES)) -R $C_N -s "$URL_SMALL"
rs -n $C_RUNS -t 120 -R $C_N \
    hflow "$HFLOW_BIN" -s "$URL_SMALL" :: curl "$CURL_BIN" -s "$URL_SMALL" \
    >"$TMP/c" || die "keep-alive GETs: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/c" $t)
    rps=$(calc 'n / w' -v n=$C_N -v w="$1")
    printf '   %-5s  wall %.3f s   %.0f req/s   cpu %.3f s (medians)\n' $t "$1" "$rps" "$3"
    if [ $t = hflow ]; then C_RPS_H=$rps; else C_RPS_C=$rps; fi
done
row "$C_N keep-alive GETs (req/s)" req/s "$C_RPS_H" "$C_RPS_C" ge 1.5
if command -v wrk >/dev/null 2>&1; then
    WRK_RPS=$(timeout 30 wrk -t1 -c1 -d$WRK_DUR "$URL_SMALL" 2>/dev/null |
        awk '/^Requests\/sec:/ { print $2 }')
    echo "   wrk    ${WRK_RPS:-?} req/s (wrk -t1 -c1 -d$WRK_DUR: reference for the server's capacity)"
else
    echo "   (wrk not installed: no server-capacity reference)"
fi

# --- d. the recorder's share of a request -------------------------------
# Recording is always on (issue 5): ns per event (build/tools/tracebench,
# trace_emit into a fresh trace of ten events, as a transfer's) times the
# events per request (lines of a --trace-json run of 100 kept-alive GETs,
# teardown included, / 100), against hflow's time per request in c.
TRACEBENCH=${TRACEBENCH:-$(dirname "$HFLOW_BIN")/tools/tracebench}
D_ROUNDS=1000000
[ -n "$QUICK" ] && D_ROUNDS=200000
D_RESULT=
echo "-- d. the recorder: ns per event x events per request, vs c's time per request"
if [ -x "$TRACEBENCH" ]; then
    D_NS=$("$TRACEBENCH" $D_ROUNDS | awk '$1 == "ns_per_event" { print $2 }')
    _urls=
    _i=0
    while [ $_i -lt 100 ]; do _urls="$_urls $URL_SMALL"; _i=$((_i + 1)); done
    # shellcheck disable=SC2086
    "$HFLOW_BIN" -s --trace-json "$TMP/trace.jsonl" $_urls >/dev/null ||
        die "recorder: hflow --trace-json failed"
    D_LINES=$(wc -l <"$TMP/trace.jsonl" | tr -d ' ')
    D_EPR=$(calc 'l / 100' -v l="$D_LINES")
    D_REQ_NS=$(calc '1e9 / r' -v r="$C_RPS_H")
    D_SHARE=$(calc 'n * e / q * 100' -v n="$D_NS" -v e="$D_EPR" -v q="$D_REQ_NS")
    D_OK=$(awk -v s="$D_SHARE" 'BEGIN { print (s <= 2.0) ? "PASS" : "MISS" }')
    printf '   recorder  %.1f ns/event (%s: %s rounds of 10 events)\n' "$D_NS" \
        "$TRACEBENCH" "$D_ROUNDS"
    printf '   events    %.2f per request (--trace-json of 100 kept-alive GETs: %s lines)\n' \
        "$D_EPR" "$D_LINES"
    printf '   request   %.1f us (hflow in c: %.0f req/s)\n' "$(calc 'q / 1000' -v q="$D_REQ_NS")" \
        "$C_RPS_H"
    printf '   share     %.2f%% of the time per request (target <= 2%%): %s\n' "$D_SHARE" "$D_OK"
    D_RESULT=$(printf 'recorder share of a kept-alive GET: %.2f%% (%.1f ns/event x %.2f events / %.1f us; target <= 2%%): %s' \
        "$D_SHARE" "$D_NS" "$D_EPR" "$(calc 'q / 1000' -v q="$D_REQ_NS")" "$D_OK")
else
    echo "   (no $TRACEBENCH: make builds it from tests/tools/tracebench.c)"
fi

# --- e. GETs that each follow one redirect on the same host -----------------
# Issue 6: 1,000 GETs of /r/small.bin (302 -> /small.bin) with -L in one
# process: hflow's pool keeps one connection for all 2,000 requests.
E_N=1000
[ -n "$QUICK" ] && E_N=300
URL_REDIR=$BASE/r/small.bin
echo "-- e. $E_N GETs that each follow one redirect (-L), one process: $C_RUNS run(s) each"
E_CONN=$("$HFLOW_BIN" -sL -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$URL_REDIR" "$URL_REDIR" "$URL_REDIR" |
    awk '{ s += $1 } END { print s }')
echo "   connections opened by hflow for 3 redirected GETs (6 requests): $E_CONN (target 1)"
rs -n $C_RUNS -t 120 -R $E_N \
    hflow "$HFLOW_BIN" -sL "$URL_REDIR" :: curl "$CURL_BIN" -sL "$URL_REDIR" \
    >"$TMP/e" || die "redirect GETs: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/e" $t)
    rps=$(calc 'n / w' -v n=$E_N -v w="$1")
    printf '   %-5s  wall %.3f s   %.0f redirected GETs/s   cpu %.3f s (medians)\n' $t "$1" "$rps" "$3"
    if [ $t = hflow ]; then E_RPS_H=$rps; else E_RPS_C=$rps; fi
done
row "$E_N GETs via a redirect (req/s)" req/s "$E_RPS_H" "$E_RPS_C" ge 1.5

RUNSTAT=$RUNSTAT BENCH_TABLE=$TMP/table HFLOW=$HFLOW_BIN CURL=$CURL_BIN \
    sh bench/tls.sh || die "bench/tls.sh failed (see above)"   # https: its rows join the table
RUNSTAT=$RUNSTAT BENCH_TABLE=$TMP/table HFLOW=$HFLOW_BIN CURL=$CURL_BIN \
    sh bench/proxy.sh || die "bench/proxy.sh failed (see above)"   # through tinyproxy (issue 8): its row joins the table
RUNSTAT=$RUNSTAT BENCH_TABLE=$TMP/table HFLOW=$HFLOW_BIN CURL=$CURL_BIN \
    NGX_URL=$URL_SMALL sh bench/parallel.sh ||
    die "bench/parallel.sh failed (see above)"   # -Z (issue 7): its rows join the table

# --- summary ------------------------------------------------------------
echo
awk -F '\t' '
    function num(v, u) {
        if (u == "ms") return sprintf("%.3f", v)
        if (u == "s") return sprintf("%.3f", v)
        return sprintf("%.0f", v)
    }
    BEGIN {
        printf "%-28s %12s %12s %7s %8s  %s\n", "benchmark", "hflow", "curl", "ratio", "target", "result"
        printf "%-28s %12s %12s %7s %8s  %s\n", "---------", "-----", "----", "-----", "------", "------"
    }
    {
        r = ($4 > 0) ? $3 / $4 : 0
        ok = ($5 == "le") ? (r <= $6 + 1e-9) : (r >= $6 - 1e-9)
        printf "%-28s %12s %12s %7.2f %8s  %s\n", $1, num($3, $2), num($4, $2), r,
            (($5 == "le") ? "<= " : ">= ") sprintf("%.2f", $6), ok ? "PASS" : "MISS"
        if (!ok) miss++
    }
    END { printf "\n%d of %d targets missed (ratio = hflow / curl)\n", miss, NR }
' "$TMP/table"
echo; DNSQ="$(dirname "$HFLOW_BIN")/tools/dnsq" sh bench/dns.sh || echo "bench: bench/dns.sh failed"
[ -n "$D_RESULT" ] && echo "$D_RESULT"
echo "bench: done in $(($(date +%s) - T_START)) s"
exit 0
