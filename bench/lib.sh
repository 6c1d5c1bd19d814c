# bench/lib.sh -- helpers the benchmark scripts share (sourced, POSIX sh).
# shellcheck shell=sh disable=SC2034,SC2120  # (WD_PID is the caller's; optional args)
#   abspath PROG        absolute path of a file or of a command on PATH
#   rs ARGS...          run bench/runstat ($RUNSTAT) in the background, its
#                       pid in RS_PID (so an EXIT trap can stop it), and wait
#   med FILE LABEL EXPR the median of awk EXPR over FILE's lines whose first
#                       field is LABEL ("nan" when there are none)
#   calc EXPR [AWKARGS] EXPR evaluated by awk, 6 decimals
#   row NAME UNIT HFLOW CURL CMP TARGET
#                       a summary row into $ROWS (as bench/run.sh's table)
#   watchdog SECONDS    a background timer that sends this shell SIGUSR1
#                       after SECONDS (its pid in WD_PID: kill it at exit)
#   clean_env [VAR...]  the same environment for both tools: HOME=$TMP/home
#                       (no ~/.curlrc), no curl or proxy variables, nor VARs
#   need_runstat        $RUNSTAT, or bench/runstat.c compiled into $TMP

abspath() {
    case $1 in
        */*) (cd "$(dirname "$1")" 2>/dev/null && echo "$(pwd)/$(basename "$1")") ;;
        *) command -v "$1" ;;
    esac
}
rs() {
    "$RUNSTAT" "$@" &
    RS_PID=$!
    wait $RS_PID
    _rc=$?
    RS_PID=
    return $_rc
}
med() {
    awk -v l="$2" '$1 == l { printf "%.9f\n", '"$3"' }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "nan"; exit }
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() {
    _e=$1
    shift
    awk "$@" "BEGIN { printf \"%.6f\", $_e }" </dev/null
}
row() {   # NAME UNIT HFLOW CURL CMP TARGET (as bench/run.sh)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$ROWS"
}
watchdog() {
    _me=$$
    (
        trap 'kill "$_s" 2>/dev/null; exit 0' TERM
        sleep "$1" &
        _s=$!
        wait "$_s" && kill -USR1 "$_me" 2>/dev/null
    ) &
    WD_PID=$!
}
clean_env() {
    mkdir -p "$TMP/home"
    HOME=$TMP/home
    export HOME
    unset XDG_CONFIG_HOME CURL_HOME http_proxy HTTP_PROXY https_proxy HTTPS_PROXY \
        all_proxy ALL_PROXY no_proxy NO_PROXY "$@" 2>/dev/null
}
need_runstat() {
    if [ -z "${RUNSTAT:-}" ]; then
        RUNSTAT=$TMP/runstat
        "${CC:-cc}" -O2 -o "$RUNSTAT" bench/runstat.c || die "cannot compile bench/runstat.c"
    fi
}
