#!/bin/sh
# Install the Debian packages hflow needs to build, test and benchmark.
# Only packages that are missing are installed; nothing else is touched.
set -eu

PKGS="make gcc clang libclang-rt-14-dev pkg-config libssl-dev zlib1g-dev \
      libbrotli-dev libzstd-dev \
      nginx-light python3-httpbin gunicorn curl wrk hyperfine valgrind procps \
      openssl ca-certificates dnsmasq-base strace tshark libpsl-dev publicsuffix \
      tinyproxy-bin microsocks"
# tinyproxy-bin is the executable alone: the tinyproxy package would add a
# service listening on *:8888; the tests start their own on 127.0.0.1.

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
# nginx-light's postinst starts a system nginx on :80; we never use it and stop it.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx 2>/dev/null || true; fi
if [ -f /run/nginx.pid ]; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi
exit 0
