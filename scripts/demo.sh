#!/bin/sh
# hflow demo: fetch a page from a private nginx on 127.0.0.1 with -v, then
# two URLs in one run to show the connection being reused.  `make demo`
# runs this after building.  HFLOW=path overrides build/hflow.
set -u

cd "$(dirname "$0")/.." || exit 1
. scripts/nginx-up.sh

HFLOW=${HFLOW:-build/hflow}
[ -x "$HFLOW" ] || { echo "demo: $HFLOW not found (run make first)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hflow-demo.XXXXXX") || exit 1
trap 'ngx_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$TMP/www"
cat >"$TMP/www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>hflow demo</title></head>
<body><h1>Hello from nginx</h1><p>Fetched with hflow.</p></body></html>
EOF
echo "hello again: this body came over the same connection" >"$TMP/www/hello.txt"

ngx_start "$TMP/nginx" "$TMP/www" || { echo "demo: cannot start nginx" >&2; exit 1; }
BASE=http://127.0.0.1:$NGX_PORT

# Make sure a proxy setting in the environment does not hijack the demo.
unset http_proxy HTTP_PROXY all_proxy ALL_PROXY 2>/dev/null

echo "== hflow demo: nginx is serving a small site on $BASE (loopback only)."
echo "== -v shows the request flow on stderr ('>' sent, '<' received, '*' info); the body goes to stdout."
echo
echo "\$ $HFLOW -v $BASE/"
"$HFLOW" -v "$BASE/" || { echo "demo: hflow failed (exit $?)" >&2; exit 1; }
echo
echo "== Two URLs in one run: the second request reuses the first one's kept-alive connection."
echo
echo "\$ $HFLOW -v $BASE/ $BASE/hello.txt"
"$HFLOW" -v "$BASE/" "$BASE/hello.txt" || { echo "demo: hflow failed (exit $?)" >&2; exit 1; }
ngx_stop
echo
echo "== done; nginx stopped."
