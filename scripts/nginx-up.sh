# Sourced (POSIX sh) by bench/run.sh and scripts/demo.sh: a private nginx
# on 127.0.0.1 for benchmarks and demos.  Never binds another address.
#
#   ngx_start DIR DOCROOT   start nginx with prefix DIR (created by caller,
#                           e.g. mktemp -d) serving DOCROOT on a free port;
#                           sets NGX_PORT and NGX_PID.  Returns non-zero
#                           (after printing the error log) if it fails.
#   ngx_stop                stop it by its pid and wait (idempotent; call it
#                           from the caller's EXIT trap).
#
# nginx runs in the foreground (daemon off; master_process off) in the
# background of the caller's shell, so $! is the one and only nginx process.

NGINX=${NGINX:-/usr/sbin/nginx}
NGX_PID=
NGX_PORT=

_ngx_free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 accepts connections (up to ~5 s) and nginx is alive.
_ngx_wait() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
for _ in range(250):
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
EOF
}

ngx_start() {
    _ngx_dir=$1
    _ngx_root=$2
    _ngx_user=
    [ "$(id -u)" = 0 ] && _ngx_user="user root;"
    mkdir -p "$_ngx_dir/logs" "$_ngx_dir/tmp" || return 1
    _ngx_try=0
    while [ $_ngx_try -lt 5 ]; do
        _ngx_try=$((_ngx_try + 1))
        NGX_PORT=$(_ngx_free_port) || return 1
        cat >"$_ngx_dir/nginx.conf" <<EOF
$_ngx_user
daemon off;
master_process off;
worker_processes 1;
pid $_ngx_dir/nginx.pid;
error_log $_ngx_dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    types { text/html html; text/plain txt; }
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    # the server should not be the bottleneck of a client benchmark
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 60s;
    keepalive_timeout 60s;
    client_body_temp_path $_ngx_dir/tmp/body;
    proxy_temp_path $_ngx_dir/tmp/proxy;
    fastcgi_temp_path $_ngx_dir/tmp/fastcgi;
    uwsgi_temp_path $_ngx_dir/tmp/uwsgi;
    scgi_temp_path $_ngx_dir/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT;
        server_name localhost;
        root $_ngx_root;
        index index.html;
        # /r/small.bin answers 302 to /small.bin (the redirect benchmark)
        location = /r/small.bin { return 302 /small.bin; }
    }
}
EOF
        "$NGINX" -p "$_ngx_dir" -e "$_ngx_dir/logs/error.log" \
            -c "$_ngx_dir/nginx.conf" </dev/null >/dev/null 2>&1 &
        NGX_PID=$!
        if _ngx_wait "$NGX_PORT" "$NGX_PID"; then
            return 0
        fi
        ngx_stop
        # A lost race for the port: try another; anything else: give up.
        grep -q "Address already in use" "$_ngx_dir/logs/error.log" 2>/dev/null ||
            break
    done
    echo "nginx failed to start; error log:" >&2
    cat "$_ngx_dir/logs/error.log" >&2 2>/dev/null
    return 1
}

ngx_stop() {
    if [ -n "$NGX_PID" ]; then
        kill "$NGX_PID" 2>/dev/null
        _ngx_i=0
        # Until it has exited (a zombie, state Z, is our unreaped child).
        while [ $_ngx_i -lt 50 ]; do
            case $(cut -d' ' -f3 "/proc/$NGX_PID/stat" 2>/dev/null) in
                Z | "") break ;;
            esac
            sleep 0.1
            _ngx_i=$((_ngx_i + 1))
        done
        kill -9 "$NGX_PID" 2>/dev/null
        wait "$NGX_PID" 2>/dev/null
        NGX_PID=
    fi
    return 0
}
