#!/bin/sh
# bench/proxy.sh -- hflow vs curl through an HTTP proxy (issue 8): a private
# tinyproxy on 127.0.0.1 in front of a private nginx (scripts/nginx-up.sh).
# bench/run.sh calls it; it also runs alone.
#
#   10,000 sequential GETs of a 1 KiB file in one process, every request
#   through tinyproxy (-x http://127.0.0.1:PORT, absolute-form GETs), 3 runs
#   each, interleaved (hflow curl, curl hflow, hflow curl): requests/s from
#   the median wall time.  Target: hflow >= 1.2x curl.
#
# Keep-alive: tinyproxy 1.11 (Debian's tinyproxy-bin) serves ONE request per
# client connection.  Its man page says nothing about keep-alive (the
# tinyproxy.conf(5) page has no such option either); its source (src/reqs.c,
# "Incoming connections have a new child created for them.  The child then
# processes the headers from the client, the response from the server, and
# then relays the bytes between the two") sends "Connection: close" to the
# origin, drops the hop-by-hop headers of the response -- so the client sees
# an HTTP/1.1 response with no "Connection: close" -- and closes the client's
# connection once the response is relayed.  curl keeps each connection for
# reuse, finds it closed by the proxy before the next request ("Connection
# 0 seems to be dead") and opens a new one; hflow does so for the first one,
# then leaves each connection for the proxy to close ("left for the server
# to close": src/conn.c, pool_retires) and opens the next at once.  Either
# way every GET costs a TCP connection to the proxy plus the proxy's own
# connection to nginx.  The script does not assume
# this: it reads tinyproxy's statistics page (http://tinyproxy.stats/ through
# the proxy; its "Number of requests" counts accepted client connections,
# src/stats.c STAT_OPEN) before and after every timed run and prints the
# number of connections each run opened.
#
# Logging: LogLevel Error, so nothing is logged per request.  tinyproxy
# fsync(2)s its log file after every line, and LogLevel Connect writes three
# lines per request: measured here, 3 fsyncs of ~0.25 ms each on ext4, which
# made the proxy (not the clients) ~60% of every request and the result
# depend on the disk.
#
# Output: both tools get the same arguments, -s -x PROXY and the URL N times
# on the command line (no -K: hflow has no config file option), and
# bench/runstat.c gives them /dev/null as stdout, so every body of both goes
# to /dev/null through the descriptor already open.  That is what
# "-o /dev/null" for each URL amounts to (curl's and hflow's -o each bind to
# one URL; 10,000 "-o /dev/null" pairs would only add an open(2) per
# transfer to both) and it is how bench/run.sh's section c runs.  The bodies
# are verified first: one run of each with N_VERIFY URLs and stdout counted.
#
# Environment: HFLOW (default build/hflow), CURL (default /usr/bin/curl),
# TINYPROXY (default: tinyproxy on PATH, else /usr/bin/tinyproxy),
# BENCH_QUICK=1 (2,000 GETs, one run each), PROXY_BENCH_N (number of GETs),
# RUNSTAT (a compiled bench/runstat.c; compiled here when unset),
# BENCH_TABLE (a file: the summary row is appended to it, in bench/run.sh's
# table format, instead of printed here), PROXY_BENCH_BUDGET (seconds,
# default 300: the whole section is stopped beyond that).
# Exit status as bench/run.sh's: 0 when the tools ran correctly, even if the
# target is missed (and when tinyproxy is not installed: skipped with a
# message); non-zero when a tool failed (exit status, timeout, wrong byte
# count) or the setup failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/nginx-up.sh
. bench/lib.sh

T0=$(date +%s)
HFLOW=${HFLOW:-build/hflow}
CURL=${CURL:-/usr/bin/curl}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
BUDGET=${PROXY_BENCH_BUDGET:-300}

die() { echo "proxy bench: $*" >&2; exit 1; }

TP=${TINYPROXY:-$(command -v tinyproxy 2>/dev/null || echo /usr/bin/tinyproxy)}
if [ ! -x "$TP" ]; then
    echo "-- proxy: tinyproxy not installed (make deps: Debian package tinyproxy-bin):" \
        "proxy benchmark skipped"
    exit 0
fi

H=$(abspath "$HFLOW")
if [ -z "$H" ] || [ ! -x "$H" ]; then die "hflow not found or not executable: $HFLOW"; fi
C=$(abspath "$CURL")
if [ -z "$C" ] || [ ! -x "$C" ]; then die "curl not found or not executable: $CURL"; fi

if [ -n "$QUICK" ]; then
    N=${PROXY_BENCH_N:-2000} RUNS=1
else
    N=${PROXY_BENCH_N:-10000} RUNS=3
fi
N_VERIFY=200
[ "$N" -lt $N_VERIFY ] && N_VERIFY=$N
SMALL_BYTES=1024

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-proxybench.XXXXXX") || die "mktemp failed"
RS_PID=''
WD_PID=''
TP_PID=''
# tp_stop: stop tinyproxy by its pid and reap it (idempotent).
tp_stop() {
    if [ -n "$TP_PID" ]; then
        kill "$TP_PID" 2>/dev/null
        _i=0
        while [ $_i -lt 50 ]; do
            case $(cut -d' ' -f3 "/proc/$TP_PID/stat" 2>/dev/null) in
                Z | "") break ;;
            esac
            sleep 0.1
            _i=$((_i + 1))
        done
        kill -9 "$TP_PID" 2>/dev/null
        wait "$TP_PID" 2>/dev/null
        TP_PID=''
    fi
    return 0
}
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
    [ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
    [ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
    tp_stop
    ngx_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "proxy bench: over the time budget (${BUDGET}s): stopped" >&2; exit 124' USR1
trap 'exit 143' TERM

# The time bound: a watchdog that signals this shell.
watchdog "$BUDGET"

# Same clean environment for both tools (the proxy is given with -x only).
clean_env
mkdir -p "$TMP/www"
need_runstat

head -c $SMALL_BYTES /dev/urandom >"$TMP/www/small.bin" || die "cannot create small.bin"
ngx_start "$TMP/nginx" "$TMP/www" || die "cannot start nginx"
URL=http://127.0.0.1:$NGX_PORT/small.bin

# tinyproxy in the foreground (-d), its config in the temp dir, 127.0.0.1
# only.  MaxClients bounds the simultaneous client connections (one thread
# each in 1.11): the clients are sequential, so at most a few are open at
# once (one closing while the next starts); 256 leaves a wide margin.
TPD=$TMP/tinyproxy
mkdir -p "$TPD"
TP_LOG=$TPD/tinyproxy.log
tp_start() {
    _try=0
    while [ $_try -lt 5 ]; do
        _try=$((_try + 1))
        TP_PORT=$(_ngx_free_port) || return 1
        cat >"$TPD/tinyproxy.conf" <<EOF
Port $TP_PORT
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 30
MaxClients 256
LogFile "$TP_LOG"
LogLevel Error
PidFile "$TPD/tinyproxy.pid"
DisableViaHeader Yes
EOF
        : >"$TP_LOG"
        "$TP" -d -c "$TPD/tinyproxy.conf" </dev/null >"$TPD/stderr.log" 2>&1 &
        TP_PID=$!
        # (the same probe as nginx's: the pid alive, the port accepting)
        _ngx_wait "$TP_PORT" "$TP_PID" && return 0
        tp_stop
        # a lost race for the port ("Could not create listening sockets"):
        # try another; anything else: give up
        grep -q -i -e "address already in use" -e "could not create listening" \
            "$TP_LOG" "$TPD/stderr.log" 2>/dev/null || break
    done
    echo "tinyproxy failed to start; its log:" >&2
    cat "$TP_LOG" "$TPD/stderr.log" >&2 2>/dev/null
    return 1
}
tp_start || die "cannot start tinyproxy"
PROXY=http://127.0.0.1:$TP_PORT

if [ -z "${BENCH_TABLE:-}" ]; then
    echo "== hflow proxy benchmark${QUICK:+ (BENCH_QUICK=1: reduced runs)}"
    echo "hflow: $H"
    echo "curl:  $C ($("$C" --version 2>&1 | head -n 1 | cut -d' ' -f1-2))"
    echo "host:  $(nproc) CPUs, $(uname -sr)"
fi
echo "-- proxy: $("$TP" -v 2>&1 | head -n 1) on 127.0.0.1:$TP_PORT (MaxClients 256, LogLevel Error)" \
    "in front of nginx $($NGINX -v 2>&1 | sed 's/.*version: //') on 127.0.0.1:$NGX_PORT"

# tp_conns: tinyproxy's count of accepted client connections so far (the
# statistics page; the request for it is one of them).
tp_conns() {
    "$C" -s -m 10 -x "$PROXY" http://tinyproxy.stats/ |
        sed -n 's/.*Number of requests: *\([0-9][0-9]*\).*/\1/p'
}

# --- verify: byte counts through the proxy ------------------------------------
rs -c -n 1 -t 60 -R "$N_VERIFY" hflow "$H" -s -x "$PROXY" "$URL" \
    :: curl "$C" -s -x "$PROXY" "$URL" >"$TMP/verify" || die "verify: a tool failed (see above)"
while read -r _tool _run _wall _rss _ut _st _bytes; do
    [ "$_bytes" = $((N_VERIFY * SMALL_BYTES)) ] ||
        die "verify: $_tool wrote $_bytes bytes for $N_VERIFY GETs, expected $((N_VERIFY * SMALL_BYTES))"
done <"$TMP/verify"

# --- the timed runs -------------------------------------------------------------
# One runstat per tool and run, so that tinyproxy's connections can be
# counted for each; the order alternates (runstat's interleaving, done here).
echo "-- proxy: $N sequential GETs of 1 KiB through tinyproxy in one process" \
    "(URL x $N on the command line): $RUNS run(s) each, interleaved"
: >"$TMP/runs"
: >"$TMP/conns"
one() {   # LABEL CMD...: one timed run; appends to runs and conns
    _label=$1
    shift
    _m=$(tp_conns)
    rs -n 1 -t 120 -R "$N" "$_label" "$@" >"$TMP/one" || die "$_label: failed (see above)"
    cat "$TMP/one" >>"$TMP/runs"
    _e=$(tp_conns)
    if [ -z "$_m" ] || [ -z "$_e" ]; then die "cannot read tinyproxy's statistics page"; fi
    _c=$((_e - _m - 1))   # (less the request for the page itself)
    echo "$_label $_c" >>"$TMP/conns"
}
_r=0
while [ $_r -lt $RUNS ]; do
    if [ $((_r % 2)) = 0 ]; then _first=hflow; else _first=curl; fi
    for t in $_first $([ $_first = hflow ] && echo curl || echo hflow); do
        if [ "$t" = hflow ]; then
            one hflow "$H" -s -x "$PROXY" "$URL"
        else
            one curl "$C" -s -x "$PROXY" "$URL"
        fi
    done
    _r=$((_r + 1))
done

# shellcheck disable=SC2016  # (the $N are awk fields)
for t in hflow curl; do
    W=$(med "$TMP/runs" $t '$3')
    CPU=$(med "$TMP/runs" $t '$5 + $6')
    rps=$(calc 'n / w' -v n="$N" -v w="$W")
    conns=$(awk -v l=$t '$1 == l { s = s (s == "" ? "" : "/") $2 } END { print s }' "$TMP/conns")
    printf '   %-5s  wall %.3f s   %.0f req/s   cpu %.3f s (medians)   connections to the proxy: %s per run of %d GETs\n' \
        $t "$W" "$rps" "$CPU" "$conns" "$N"
    if [ $t = hflow ]; then RPS_H=$rps; else RPS_C=$rps; fi
done
echo "   (connections counted by tinyproxy's statistics page; it closes every client connection" \
    "after one response, so N GETs need N connections whichever the client)"

ROW=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$N GETs via tinyproxy (req/s)" req/s "$RPS_H" "$RPS_C" ge 1.2)
if [ -n "${BENCH_TABLE:-}" ]; then
    echo "$ROW" >>"$BENCH_TABLE"
else
    echo
    echo "$ROW" | awk -F '\t' '
        BEGIN {
            printf "%-32s %12s %12s %7s %8s  %s\n", "benchmark", "hflow", "curl", "ratio", "target", "result"
            printf "%-32s %12s %12s %7s %8s  %s\n", "---------", "-----", "----", "-----", "------", "------"
        }
        {
            r = ($4 > 0) ? $3 / $4 : 0
            ok = (r >= $6 - 1e-9)
            printf "%-32s %12.0f %12.0f %7.2f %8s  %s\n", $1, $3, $4, r, ">= " sprintf("%.2f", $6),
                ok ? "PASS" : "MISS"
        }'
fi
echo "proxy bench: done in $(($(date +%s) - T0)) s"
exit 0
