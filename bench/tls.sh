#!/bin/sh
# bench/tls.sh -- hflow vs curl over https, against one private nginx with
# TLS on 127.0.0.1 (bench/run.sh calls it; it also runs alone).
#
#   TLS a. one big download (1 GiB, sparse file) over https to /dev/null,
#      5 runs each, interleaved: throughput from the median wall time;
#      median CPU time (user+sys); the byte count verified once
#   TLS b. one https GET (1 KiB) per process, 200 runs each, interleaved:
#      median wall time (and peak RSS, for information)
#   TLS c. 1,000 sequential https GETs of the 1 KiB file in one process,
#      each on a new connection (a server block with keepalive_timeout 0
#      closes every connection; the URL repeated on the command line), 3
#      runs each:
#      requests/s for hflow (session resumption on), curl (which resumes
#      too) and hflow --no-sessionid.  A short probe first checks, in
#      nginx's access log ($ssl_session_reused), that hflow and curl really
#      resume and that hflow --no-sessionid does not.
#
# Both tools get --cacert with the test CA (tests/servers/mkcerts.sh), so
# verification is on for both; the certificate is EC P-256 for 127.0.0.1.
# nginx: TLS 1.2 and 1.3, ssl_session_cache shared, tickets on, no http2.
#
# Environment: HFLOW (default build/hflow), CURL (default /usr/bin/curl),
# BENCH_QUICK=1 (fewer runs, 100 MiB), RUNSTAT (a compiled bench/runstat.c;
# compiled here when unset), BENCH_TABLE (a file: the summary rows are
# appended to it, in bench/run.sh's table format, instead of printed here),
# TLS_BENCH_BUDGET (seconds, default 120: the whole section is stopped
# beyond that).  Exit status as bench/run.sh's: 0 when the tools ran
# correctly, even if targets are missed; non-zero when a tool failed (exit
# status, timeout, wrong byte count, no resumption) or the setup failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/nginx-up.sh
. bench/lib.sh

T0=$(date +%s)
HFLOW=${HFLOW:-build/hflow}
CURL=${CURL:-/usr/bin/curl}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
BUDGET=${TLS_BENCH_BUDGET:-120}

die() { echo "tls bench: $*" >&2; exit 1; }

H=$(abspath "$HFLOW")
if [ -z "$H" ] || [ ! -x "$H" ]; then die "hflow not found or not executable: $HFLOW"; fi
C=$(abspath "$CURL")
if [ -z "$C" ] || [ ! -x "$C" ]; then die "curl not found or not executable: $CURL"; fi

if [ -n "$QUICK" ]; then
    BIG_SIZE=100M BIG_LABEL=100MiB BIG_BYTES=104857600 D_RUNS=3
    E_RUNS=30 E_WARM=3 F_RUNS=1
else
    BIG_SIZE=1G BIG_LABEL=1GiB BIG_BYTES=1073741824 D_RUNS=5
    E_RUNS=200 E_WARM=10 F_RUNS=3
fi
F_N=1000
SMALL_BYTES=1024

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-tlsbench.XXXXXX") || die "mktemp failed"
RS_PID=''
WD_PID=''
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
    [ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
    [ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
    ngx_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "tls bench: over the time budget (${BUDGET}s): stopped" >&2; exit 124' USR1
trap 'exit 143' TERM

# The time bound: a watchdog that signals this shell (its sleep is killed
# with it by cleanup).
watchdog "$BUDGET"

clean_env SSL_CERT_FILE SSL_CERT_DIR
mkdir -p "$TMP/www"
need_runstat

sh tests/servers/mkcerts.sh "$TMP/certs" >/dev/null || die "mkcerts.sh failed"
CA=$TMP/certs/ca.crt
head -c $SMALL_BYTES /dev/urandom >"$TMP/www/small.bin" || die "cannot create small.bin"
truncate -s $BIG_SIZE "$TMP/www/big.bin" 2>/dev/null ||
    dd if=/dev/zero of="$TMP/www/big.bin" bs=1M count=0 seek=$((BIG_BYTES / 1048576)) 2>/dev/null ||
    die "cannot create big.bin"

# nginx with three TLS server blocks: KA (keep-alive), CLOSE (every
# connection closed after one response) and PROBE (as CLOSE, with an access
# log of $ssl_session_reused).  Same certificate, same session cache.
NGX=$TMP/nginx
mkdir -p "$NGX/logs" "$NGX/tmp"
ngx_tls_start() {
    _user=
    [ "$(id -u)" = 0 ] && _user="user root;"
    _try=0
    while [ $_try -lt 5 ]; do
        _try=$((_try + 1))
        P_KA=$(_ngx_free_port) && P_CLOSE=$(_ngx_free_port) &&
            P_PROBE=$(_ngx_free_port) || return 1
        if [ "$P_KA" = "$P_CLOSE" ] || [ "$P_KA" = "$P_PROBE" ] ||
            [ "$P_CLOSE" = "$P_PROBE" ]; then
            continue
        fi
        cat >"$NGX/nginx.conf" <<EOF
$_user
daemon off;
master_process off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    log_format reuse '\$connection \$ssl_session_reused \$ssl_protocol';
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    ssl_certificate $TMP/certs/valid.crt;
    ssl_certificate_key $TMP/certs/valid.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 10m;
    ssl_session_tickets on;
    server {
        listen 127.0.0.1:$P_KA ssl;
        root $TMP/www;
    }
    server {
        listen 127.0.0.1:$P_CLOSE ssl;
        keepalive_timeout 0;
        root $TMP/www;
    }
    server {
        listen 127.0.0.1:$P_PROBE ssl;
        keepalive_timeout 0;
        access_log $NGX/logs/probe.log reuse;
        root $TMP/www;
    }
}
EOF
        "$NGINX" -p "$NGX" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf" \
            </dev/null >/dev/null 2>&1 &
        NGX_PID=$!
        if _ngx_wait "$P_KA" "$NGX_PID" && _ngx_wait "$P_CLOSE" "$NGX_PID" &&
            _ngx_wait "$P_PROBE" "$NGX_PID"; then
            return 0
        fi
        ngx_stop
        grep -q "Address already in use" "$NGX/logs/error.log" 2>/dev/null || break
    done
    echo "nginx failed to start; error log:" >&2
    cat "$NGX/logs/error.log" >&2 2>/dev/null
    return 1
}
ngx_tls_start || die "cannot start nginx"
URL_BIG=https://127.0.0.1:$P_KA/big.bin
URL_SMALL=https://127.0.0.1:$P_KA/small.bin
URL_CLOSE=https://127.0.0.1:$P_CLOSE/small.bin
URL_PROBE=https://127.0.0.1:$P_PROBE/small.bin

if [ -z "${BENCH_TABLE:-}" ]; then
    echo "== hflow TLS benchmarks${QUICK:+ (BENCH_QUICK=1: reduced runs and sizes)}"
    echo "hflow: $H"
    echo "curl:  $C ($("$C" --version 2>&1 | head -n 1 | sed 's/.*OpenSSL/OpenSSL/; s/ .*//'))"
    echo "host:  $(nproc) CPUs, $(uname -sr)"
fi
echo "-- TLS: nginx $($NGINX -v 2>&1 | sed 's/.*version: //') on 127.0.0.1, 1 worker, TLS 1.3," \
    "EC P-256 certificate, session cache + tickets; --cacert for both tools"

# verify WHAT EXPECTED_BYTES [-R N] LABEL CMD ... [:: LABEL CMD ...]: one run
# of each with its stdout counted.
verify() {
    _what=$1 _want=$2
    shift 2
    _rep=
    if [ "$1" = -R ]; then _rep="-R $2"; shift 2; fi
    # shellcheck disable=SC2086
    rs -c -n 1 -t 60 $_rep "$@" >"$TMP/verify" || die "$_what: a tool failed (see above)"
    while read -r _tool _run _wall _rss _ut _st _bytes; do
        [ "$_bytes" = "$_want" ] || die "$_what: $_tool wrote $_bytes bytes, expected $_want"
    done <"$TMP/verify"
}
# shellcheck disable=SC2016  # (the $N are awk fields)
medians() {   # FILE LABEL: WALL_S RSS_KIB CPU_S USER_S SYS_S
    echo "$(med "$1" "$2" '$3') $(med "$1" "$2" '$4') $(med "$1" "$2" '$5 + $6')" \
        "$(med "$1" "$2" '$5') $(med "$1" "$2" '$6')"
}
ROWS=$TMP/rows
: >"$ROWS"
TLS="--cacert $CA"

# --- TLS a. big download ---------------------------------------------------
echo "-- TLS a. $BIG_LABEL over https to /dev/null: $D_RUNS runs each, interleaved (+1 warm-up)"
# shellcheck disable=SC2086
verify "https download" $BIG_BYTES hflow "$H" -s $TLS "$URL_BIG" :: curl "$C" -s $TLS "$URL_BIG"
# shellcheck disable=SC2086
rs -n $D_RUNS -w 1 -t 60 hflow "$H" -s -o /dev/null $TLS "$URL_BIG" \
    :: curl "$C" -s -o /dev/null $TLS "$URL_BIG" >"$TMP/d" || die "https download: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/d" $t)
    tput=$(calc 'b / w / 1e6' -v b=$BIG_BYTES -v w="$1")
    printf '   %-5s  wall %.3f s   %.0f MB/s   cpu %.3f s (user %.3f + sys %.3f) (medians)\n' \
        $t "$1" "$tput" "$3" "$4" "$5"
    if [ $t = hflow ]; then D_TPUT_H=$tput D_CPU_H=$3; else D_TPUT_C=$tput D_CPU_C=$3; fi
done
row "https $BIG_LABEL (MB/s)" MB/s "$D_TPUT_H" "$D_TPUT_C" ge 1.0
row "https $BIG_LABEL CPU (s)" s "$D_CPU_H" "$D_CPU_C" le 1.0

# --- TLS b. one GET per process -------------------------------------------------
echo "-- TLS b. one 1 KiB https GET per process: $E_RUNS runs each, interleaved (+$E_WARM warm-up)"
# shellcheck disable=SC2086
verify "https GET" $SMALL_BYTES hflow "$H" -s $TLS "$URL_SMALL" :: curl "$C" -s $TLS "$URL_SMALL"
# shellcheck disable=SC2086
rs -n $E_RUNS -w $E_WARM -t 10 hflow "$H" -s $TLS "$URL_SMALL" \
    :: curl "$C" -s $TLS "$URL_SMALL" >"$TMP/e" || die "https GET: a tool failed"
for t in hflow curl; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/e" $t)
    printf '   %-5s  wall %.3f ms   peak RSS %.0f KiB   cpu %.3f ms (medians)\n' \
        $t "$(calc 'w * 1000' -v w="$1")" "$2" "$(calc 'c * 1000' -v c="$3")"
    if [ $t = hflow ]; then E_WALL_H=$1; else E_WALL_C=$1; fi
done
row "https GET wall (ms)" ms "$(calc 'w * 1000' -v w="$E_WALL_H")" \
    "$(calc 'w * 1000' -v w="$E_WALL_C")" le 0.8

# --- TLS c. many connections --------------------------------------------------
echo "-- TLS c. $F_N https GETs in one process, each on a new connection: $F_RUNS run(s) each"
# The probe: 4 connections each; nginx logs whether each session was reused.
# shellcheck disable=SC2086
rs -n 1 -t 30 -R 4 hflow "$H" -s $TLS "$URL_PROBE" :: curl "$C" -s $TLS "$URL_PROBE" \
    :: hflow-nosess "$H" -s --no-sessionid $TLS "$URL_PROBE" >/dev/null ||
    die "resumption probe: a tool failed"
# runstat ran hflow, curl, hflow-nosess in that order: 12 lines
PROBE=$(awk '{ printf "%s", ($2 == "r") ? "r" : "." }' "$NGX/logs/probe.log")
PROTO=$(awk 'NR == 1 { print $3 }' "$NGX/logs/probe.log")
echo "   resumption probe ($PROTO, nginx \$ssl_session_reused per connection):" \
    "hflow $(echo "$PROBE" | cut -c1-4), curl $(echo "$PROBE" | cut -c5-8)," \
    "hflow --no-sessionid $(echo "$PROBE" | cut -c9-12)"
[ "$PROBE" = ".rrr.rrr...." ] ||
    die "resumption probe: expected .rrr .rrr .... (r = resumed), got $PROBE"
# shellcheck disable=SC2086
verify "new-connection GETs" $((F_N * SMALL_BYTES)) -R $F_N hflow "$H" -s $TLS "$URL_CLOSE" \
    :: curl "$C" -s $TLS "$URL_CLOSE" :: hflow-nosess "$H" -s --no-sessionid $TLS "$URL_CLOSE"
# shellcheck disable=SC2086
rs -n $F_RUNS -t 60 -R $F_N hflow "$H" -s $TLS "$URL_CLOSE" :: curl "$C" -s $TLS "$URL_CLOSE" \
    :: hflow-nosess "$H" -s --no-sessionid $TLS "$URL_CLOSE" >"$TMP/f" ||
    die "new-connection GETs: a tool failed"
for t in hflow curl hflow-nosess; do
    # shellcheck disable=SC2046
    set -- $(medians "$TMP/f" $t)
    rps=$(calc 'n / w' -v n=$F_N -v w="$1")
    printf '   %-12s  wall %.3f s   %.0f req/s   cpu %.3f s (medians)\n' $t "$1" "$rps" "$3"
    case $t in
        hflow) F_RPS_H=$rps ;;
        curl) F_RPS_C=$rps ;;
        *) F_RPS_N=$rps ;;
    esac
done
row "https $F_N new conns (req/s)" req/s "$F_RPS_H" "$F_RPS_C" ge 1.0
echo "   (table row 'resumed/--no-sessionid': hflow with resumption in the hflow column," \
    "hflow --no-sessionid in the curl column)"
row "resumed/--no-sessionid" req/s "$F_RPS_H" "$F_RPS_N" ge 1.0

# --- rows -----------------------------------------------------------------
if [ -n "${BENCH_TABLE:-}" ]; then
    cat "$ROWS" >>"$BENCH_TABLE"
else
    echo
    awk -F '\t' '
        function num(v, u) { return (u == "ms" || u == "s") ? sprintf("%.3f", v) : sprintf("%.0f", v) }
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
    ' "$ROWS"
fi
echo "tls bench: done in $(($(date +%s) - T0)) s"
exit 0
