#!/bin/sh
# bench/dns.sh -- hflow's stub resolver against sequential getaddrinfo, on
# a private dnsmasq (bench/run.sh calls it; it also runs alone).
#
#   a. 10,000 distinct names (n1.bench.test ... n10000.bench.test)
#      through the resolver, 100 lookups in flight:
#      build/tools/dnsq --inflight 100 --names-file F
#   b. the same names through getaddrinfo, one after the other
#      (bench/gai.c), the system pointed at the same dnsmasq
#   a and b both for A and AAAA (AF_UNSPEC: what a client asks) and for A
#   only.  With a, dnsmasq's CPU time over the wall time (from /proc): near
#   100%, dnsmasq (one thread) is what bounds a, not the resolver.
#   c. a cached lookup: its cost in ns (dnsq --bench-cached), and the proof
#      that it makes no system call (strace -f, see below)
#
# Both a and b time themselves from the first lookup to the last (process
# start-up is left out of both); each figure is the median of five runs.
# Target: a at least 10x faster than b.
#
# getaddrinfo only asks port 53 of the nameservers in /etc/resolv.conf,
# which a benchmark must not touch.  So, as root, the script re-runs itself
# under `unshare -m -n`: a private network namespace (its own loopback, port
# 53 free) and a private mount namespace in which a temporary resolv.conf
# (nameserver 127.0.0.1) is bind-mounted over /etc/resolv.conf; dnsmasq
# listens on 127.0.0.1:53 there.  Nothing outside the namespaces changes.
# Without root or unshare, a and c run against dnsmasq on a free loopback
# port and b is skipped with a note.
#
# Environment: DNSQ (default $HFLOW_BUILD/tools/dnsq, HFLOW_BUILD default
# build), DNS_BENCH_N (default 10000), BENCH_QUICK=1 (one run each instead
# of the median of five).  Exit status: 0 when the tools ran correctly
# (even if the target is missed), non-zero when a tool failed.
set -u
cd "$(dirname "$0")/.." || exit 1

B=${HFLOW_BUILD:-build}
DNSQ=${DNSQ:-$B/tools/dnsq}
N=${DNS_BENCH_N:-10000}
INFLIGHT=100
RUNS=5
[ "${BENCH_QUICK:-0}" != 0 ] && RUNS=1

die() { echo "dns bench: $*" >&2; exit 1; }

case $DNSQ in /*) ;; *) DNSQ=$(pwd)/$DNSQ ;; esac
[ -x "$DNSQ" ] || die "no $DNSQ (build it with make)"
DNSMASQ=$(command -v dnsmasq 2>/dev/null || echo /usr/sbin/dnsmasq)
if [ ! -x "$DNSMASQ" ]; then
    echo "== dns: dnsmasq not installed (make deps): DNS benchmark skipped"
    exit 0
fi

# Into the private namespaces, once (the marker says we are there).
if [ "${HFLOW_DNS_NS:-}" != 1 ] && [ "$(id -u)" = 0 ] &&
    unshare -m -n true 2>/dev/null; then
    HFLOW_DNS_NS=1 DNSQ=$DNSQ exec unshare -m -n sh "$0" "$@"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-dns.XXXXXX") || die "mktemp failed"
DM_PID=
cleanup() {
    [ -n "$DM_PID" ] && kill "$DM_PID" 2>/dev/null && wait "$DM_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "${HFLOW_DNS_NS:-}" = 1 ]; then
    ip link set lo up 2>/dev/null || die "cannot bring up lo in the namespace"
    PORT=53
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$TMP/resolv.conf"
    mount --bind "$TMP/resolv.conf" /etc/resolv.conf || {
        echo "dns bench: cannot bind-mount resolv.conf: getaddrinfo part skipped"
        NO_GAI=1
    }
else
    PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$TMP/resolv.conf"
    NO_GAI=1
fi
NO_GAI=${NO_GAI:-}
SERVER=127.0.0.1:$PORT

USER_OPT=
[ "$(id -u)" = 0 ] && USER_OPT=--user=root
# shellcheck disable=SC2086
"$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts --port="$PORT" \
    --listen-address=127.0.0.1 --bind-interfaces --pid-file="$TMP/dnsmasq.pid" \
    --log-facility="$TMP/dnsmasq.log" --cache-size=10000 --local-ttl=300 \
    --address=/bench.test/127.0.0.1 --address=/bench.test/::1 $USER_OPT \
    >"$TMP/dnsmasq.out" 2>&1 &
DM_PID=$!

: >"$TMP/names"
i=1
while [ $i -le "$N" ]; do
    echo "n$i.bench.test"
    i=$((i + 1))
done >"$TMP/names"
printf '' >"$TMP/hosts"

# dnsmasq is up when it answers.
up=0
for _ in $(seq 1 50); do
    if "$DNSQ" --resolv-conf "$TMP/resolv.conf" --hosts "$TMP/hosts" \
        --servers "$SERVER" -q up.bench.test >/dev/null 2>&1; then
        up=1
        break
    fi
    sleep 0.1
done
[ $up = 1 ] || die "dnsmasq did not come up: $(cat "$TMP/dnsmasq.out" "$TMP/dnsmasq.log" 2>/dev/null | tail -n 5)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }

echo "== dns: $N distinct names, dnsmasq $("$DNSMASQ" --version | awk 'NR == 1 { print $3 }') on $SERVER${HFLOW_DNS_NS:+ (private network namespace)}"
[ -z "$NO_GAI" ] && { "${CC:-cc}" -O2 -o "$TMP/gai" bench/gai.c || die "cannot compile bench/gai.c"; }
TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
dm_ticks() { awk '{ print $14 + $15 }' "/proc/$DM_PID/stat" 2>/dev/null || echo 0; }
# busy TICKS SECONDS: dnsmasq's CPU time over wall time, in percent
busy() { awk -v t="$1" -v k="$TCK" -v w="$2" 'BEGIN { printf "%.0f", (w > 0) ? 100 * t / k / w : 0 }'; }

# bench LABEL FAMILY_FLAG QUERIES_PER_NAME: a. the resolver with 100 in
# flight (a fresh process per run: a cold cache) and b. getaddrinfo, one
# name after the other, interleaved run by run (the same dnsmasq serves
# both; it gets a little slower as it runs).  Queries beyond one per name
# and family are retries: datagrams dropped on the way (a server's socket
# buffer overflowing), each costing a 1 s timeout.
bench() {
    _label=$1 _flag=$2 _per=$3
    : >"$TMP/a"
    : >"$TMP/b"
    _retries=0
    _awall=0
    _aticks=0
    _r=0
    while [ $_r -lt $RUNS ]; do
        _t0=$(dm_ticks)
        # shellcheck disable=SC2086
        "$DNSQ" --resolv-conf "$TMP/resolv.conf" --hosts "$TMP/hosts" --servers "$SERVER" \
            $_flag --inflight $INFLIGHT --names-file "$TMP/names" -q --stats >"$TMP/a.out" 2>&1 ||
            die "dnsq failed: $(tail -n 3 "$TMP/a.out")"
        _t1=$(dm_ticks)
        _as=$(grep '^time:' "$TMP/a.out" | field seconds)
        echo "$_as" >>"$TMP/a"
        _awall=$(awk -v a="$_awall" -v b="$_as" 'BEGIN { print a + b }')
        _aticks=$((_aticks + _t1 - _t0))
        _q=$(grep '^stats:' "$TMP/a.out" | field queries_sent)
        _retries=$((_retries + _q - N * _per))
        if [ -z "$NO_GAI" ]; then
            # shellcheck disable=SC2086
            "$TMP/gai" $_flag "$TMP/names" >"$TMP/b.out" 2>&1 ||
                die "getaddrinfo failed: $(tail -n 3 "$TMP/b.out")"
            awk '/^gai:/ { print $(NF - 1) }' "$TMP/b.out" >>"$TMP/b"
        fi
        _r=$((_r + 1))
    done
    _a=$(median <"$TMP/a")
    printf '   %s\n' "$_label"
    printf '     a. hflow resolver, %d in flight: %8.3f s  %7.0f names/s  (median of %d; runs: %s; retries: %d;\n' \
        $INFLIGHT "$_a" "$(awk -v n="$N" -v s="$_a" 'BEGIN { print n / s }')" $RUNS \
        "$(sort -g "$TMP/a" | awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }')" $_retries
    _busy=$(busy "$_aticks" "$_awall")
    printf '        dnsmasq busy %s%% of the time%s)\n' "$_busy" \
        "$([ "$_busy" -ge 85 ] && echo ": dnsmasq, not the resolver, bounds a")"
    if [ -n "$NO_GAI" ]; then
        echo "     b. getaddrinfo: skipped (needs root and unshare -m -n to point"
        echo "        /etc/resolv.conf at the private dnsmasq without touching the machine's)"
        return 0
    fi
    _b=$(median <"$TMP/b")
    _ratio=$(awk -v a="$_a" -v b="$_b" 'BEGIN { printf "%.1f", b / a }')
    printf '     b. getaddrinfo, sequential:   %8.3f s  %7.0f names/s  (median of %d; runs: %s)\n' \
        "$_b" "$(awk -v n="$N" -v s="$_b" 'BEGIN { print n / s }')" $RUNS \
        "$(sort -g "$TMP/b" | awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }')"
    printf '     speed-up: %sx (target >= 10x): %s\n' "$_ratio" \
        "$(awk -v r="$_ratio" 'BEGIN { print (r >= 10) ? "PASS" : "MISS" }')"
}
bench "A and AAAA (AF_UNSPEC, what a client asks):" "" 2
bench "A only (-4):" -4 1

# c. cached lookups.  The names are resolved once (1,000 of them), then
# resolver_cached() runs M times over them, timed in the process.
# The proof of "no system call": dnsq makes two marker system calls around
# the cached lookups (access() of /hflow-bench-cached/begin and .../end,
# paths that do not exist), and strace -f logs every system call of the
# run: the lines between the two markers are the system calls that the M
# cached lookups made.  (The clock reads are vDSO calls, which strace does
# not see because they do not enter the kernel.)
head -n 1000 "$TMP/names" >"$TMP/names1k"
M=1000000
"$DNSQ" --resolv-conf "$TMP/resolv.conf" --hosts "$TMP/hosts" --servers "$SERVER" \
    --names-file "$TMP/names1k" --inflight $INFLIGHT -q --bench-cached $M >"$TMP/c.out" 2>&1 ||
    die "dnsq --bench-cached failed: $(tail -n 3 "$TMP/c.out")"
NS=$(awk '/^cached:/ { print $(NF - 5) }' "$TMP/c.out")
HITS=$(awk '/^cached:/ { gsub("[()]", ""); print $(NF - 1) }' "$TMP/c.out")
printf '   c. cached lookup (resolver_cached, A+AAAA): %s ns each (%s of %d hits)\n' "$NS" "$HITS" $M
if command -v strace >/dev/null 2>&1; then
    if strace -f -o "$TMP/strace.log" "$DNSQ" --resolv-conf "$TMP/resolv.conf" \
        --hosts "$TMP/hosts" --servers "$SERVER" --names-file "$TMP/names1k" \
        --inflight $INFLIGHT -q --bench-cached $M >/dev/null 2>&1 &&
        grep -q 'hflow-bench-cached/end' "$TMP/strace.log"; then
        TOTAL=$(wc -l <"$TMP/strace.log")
        BETWEEN=$(awk '/hflow-bench-cached\/begin/ { on = 1; next }
                       /hflow-bench-cached\/end/ { on = 0 }
                       on { n++ } END { print n + 0 }' "$TMP/strace.log")
        printf '      system calls (strace -f): %s in the whole run, %s during the %d cached lookups: %s\n' \
            "$TOTAL" "$BETWEEN" $M "$([ "$BETWEEN" = 0 ] && echo "no system call per cached lookup" ||
                echo "SOME ($(awk '/hflow-bench-cached\/begin/ { on = 1; next } /hflow-bench-cached\/end/ { on = 0 } on' "$TMP/strace.log" | head -n 3 | tr '\n' ' '))")"
    else
        echo "      strace failed here (ptrace not permitted?): system call count skipped"
    fi
else
    echo "      strace not installed (make deps): system call count skipped"
fi
exit 0
