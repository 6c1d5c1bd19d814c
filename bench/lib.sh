# bench/lib.sh -- helpers the benchmark scripts share (sourced, POSIX sh).
#   abspath PROG        absolute path of a file or of a command on PATH
#   rs ARGS...          run bench/runstat ($RUNSTAT) in the background, its
#                       pid in RS_PID (so an EXIT trap can stop it), and wait
#   med FILE LABEL EXPR the median of awk EXPR over FILE's lines whose first
#                       field is LABEL ("nan" when there are none)
#   calc EXPR [AWKARGS] EXPR evaluated by awk, 6 decimals
#   row NAME UNIT HFLOW CURL CMP TARGET
#                       a summary row into $ROWS (as bench/run.sh's table)

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
