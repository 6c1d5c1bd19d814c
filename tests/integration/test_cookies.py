"""Cookie jars: hflow's cookie engine (src/cookie.c, driven by
build/tools/cookiejar) against curl's, in both directions.

A tiny Python server on 127.0.0.1 answers /set/NAME with the Set-Cookie
fields of the list NAME, and every request with a body that echoes the
Cookie header it got.  curl reaches it under the names www.example.com,
sub.example.com, example.com and hijack-example.com (--resolve), so domain
cookies are real.
  - curl writes jar A (-c); hflow's engine loads it and must produce the
    cookies curl itself sends with -b A;
  - hflow's engine writes jar B from the same Set-Cookie fields; curl -b B
    must send what hflow would send.
cookiejar prints one line per --get: the Cookie header, or "-"."""

import os
import shutil
import subprocess
import time

from harness import (PY, SAN_RE, Result, _stop_proc, _wait_for, start_proc,
                     test)

SERVER = r'''
import http.server, os, sys

SETS = {
    "mix": [
        "host=1; Path=/",
        "dom=2; Domain=example.com; Path=/",
        "deep=3; Path=/a/b",
        "ho=4; HttpOnly; Path=/",
        "exp=5; Max-Age=3600; Path=/",
        "empty=; Path=/",
        "sec=7; Secure; Path=/",               # refused over http (both)
        "psl=8; Domain=com; Path=/",           # a public suffix (both)
        "other=9; Domain=other.org; Path=/",   # not the host's (both)
        "dflt=10",                             # default path
        "gone=11; Max-Age=0; Path=/",          # deleted on arrival
        "Sf=12; Domain=EXAMPLE.com; Path=/; SameSite=Lax",
    ],
}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (self.headers.get("Cookie") or "").encode("latin-1")
        self.send_response(200)
        parts = self.path.split("/")
        if len(parts) > 2 and parts[1] == "set":
            for v in SETS.get(parts[2], []):
                self.send_header("Set-Cookie", v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
'''

# what the "mix" list leaves in a jar, by request path (as sets: the order
# among cookies of equal path length depends on each jar's line order)
FROM_MIX = {"host=1", "dom=2", "ho=4", "exp=5", "empty=", "Sf=12"}


class CookieServer:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "cookiesrv")
        os.makedirs(self.dir, exist_ok=True)
        script = os.path.join(self.dir, "server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        portfile = os.path.join(self.dir, "port")
        self.proc = start_proc([PY, script, portfile],
                               os.path.join(self.dir, "server.log"))
        _wait_for(lambda: os.path.exists(portfile), 10, self.proc,
                  "cookie server")
        with open(portfile) as f:
            self.port = int(f.read())

    def url(self, path, host="www.example.com"):
        return "http://%s:%d%s" % (host, self.port, path)

    def stop(self):
        _stop_proc(self.proc)


def _setup(t):
    t.hflow_only("cookiejar drives hflow's cookie engine")
    tool = os.path.join(os.path.dirname(t.client.bin), "tools", "cookiejar")
    if not os.access(tool, os.X_OK):
        t.skip("no %s (make builds tests/tools/cookiejar.c)" % tool)
    curl = shutil.which("curl")
    if not curl:
        t.skip("curl not installed (make deps)")
    srv = t.env.server("cookiesrv", lambda: CookieServer(t.env.tmp))
    return tool, curl, srv


def _run(t, cmd, timeout=20):
    timeout = min(30.0, timeout + t.slack * 2)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, env=t.client.env)
        r = Result(cmd, p.returncode, p.stdout,
                   p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    except subprocess.TimeoutExpired as ex:
        r = Result(cmd, None, ex.stdout or b"",
                   (ex.stderr or b"").decode("utf-8", "replace"),
                   time.monotonic() - t0, timed_out=True)
    t.runs.append(r)
    if SAN_RE.search(r.err):
        t.fail("sanitizer report: %s" % r.brief())
    t.require(r.rc == 0, "command failed: %s" % r.brief())
    return r


def _curl(t, curl, srv, args, url):
    cmd = [curl, "-sS", "--noproxy", "*", "-q"]
    for h in ("www.example.com", "sub.example.com", "example.com",
              "hijack-example.com"):
        cmd += ["--resolve", "%s:%d:127.0.0.1" % (h, srv.port)]
    return _run(t, cmd + list(args) + [url])


def _jar(t, tool, args):
    """cookiejar's --get lines."""
    r = _run(t, list(t.client.wrap) + [tool] + list(args))
    return r.text.splitlines()


def _cookies(line):
    """A Cookie header value as a sorted list ("-" or "" = none)."""
    if line in ("-", ""):
        return []
    return sorted(line.split("; "))


# (request path on www.example.com unless a host is given, expected set)
PROBES = [
    ("/a/b/c", None, FROM_MIX | {"deep=3"}),
    ("/set/mix/x", None, FROM_MIX | {"dflt=10"}),
    ("/", None, FROM_MIX),
    ("/", "sub.example.com", {"dom=2", "Sf=12"}),
    ("/a/b", "example.com", {"dom=2", "Sf=12"}),
    ("/", "hijack-example.com", set()),
]


def _probe_urls(srv):
    return [srv.url("/echo" if p == "/" else p, host=h or "www.example.com")
            for p, h, _ in PROBES]


@test(tags=("fast", "vg"))
def curl_jar_read_by_hflow(t):
    tool, curl, srv = _setup(t)
    jar_a = t.path("jarA")
    _curl(t, curl, srv, ["-o", os.devnull, "-c", jar_a], srv.url("/set/mix/page"))
    text = open(jar_a, encoding="latin-1").read()
    t.contains(text, "# Netscape HTTP Cookie File", "curl's jar header")
    t.contains(text, "#HttpOnly_", "curl wrote an HttpOnly line")
    t.contains(text, ".example.com\tTRUE\t", "curl wrote a domain cookie")
    gets = []
    for (path, host, want), url in zip(PROBES, _probe_urls(srv)):
        gets += ["--get", url]
    lines = _jar(t, tool, ["--load", jar_a] + gets)
    t.require(len(lines) == len(PROBES), "one line per --get: %r" % lines)
    for (path, host, want), url, line in zip(PROBES, _probe_urls(srv), lines):
        t.eq(_cookies(line), sorted(want), "hflow's Cookie for %s" % url)
        # curl -b jarA sends the same cookies
        r = _curl(t, curl, srv, ["-b", jar_a], url)
        t.eq(_cookies(r.text), _cookies(line), "curl -b jarA vs hflow for %s" % url)
    t.check(lines[0].startswith("deep=3; "), "longest path first: %r" % lines[0])


@test(tags=("fast",))
def hflow_jar_read_by_curl(t):
    tool, curl, srv = _setup(t)
    jar_b = t.path("jarB")
    # the Set-Cookie fields the server sends, stored by hflow's engine
    args = []
    r = _curl(t, curl, srv, ["-o", os.devnull, "-D", "-"], srv.url("/set/mix/page"))
    fields = [l.split(":", 1)[1].strip() for l in r.text.splitlines()
              if l.lower().startswith("set-cookie:")]
    t.require(len(fields) == 12, "Set-Cookie fields: %r" % fields)
    for v in fields:
        args += ["--set", "http://www.example.com/set/mix/page", v]
    lines = _jar(t, tool, args + ["--save", jar_b] +
                 sum((["--get", u] for u in _probe_urls(srv)), []))
    text = open(jar_b, encoding="latin-1").read()
    t.contains(text, "# Netscape HTTP Cookie File\n", "hflow's jar header")
    t.contains(text, "#HttpOnly_www.example.com\tFALSE\t/\tFALSE\t0\tho\t4\n",
               "HttpOnly line")
    t.contains(text, ".example.com\tTRUE\t/\tFALSE\t0\tdom\t2\n", "domain line")
    t.contains(text, "www.example.com\tFALSE\t/set/mix\tFALSE\t0\tdflt\t10\n",
               "default path")
    t.not_contains(text, "\tsec\t", "Secure over http")
    t.not_contains(text, "\tpsl\t", "public suffix")
    t.not_contains(text, "\tgone\t", "Max-Age=0")
    for (path, host, want), url, line in zip(PROBES, _probe_urls(srv), lines):
        t.eq(_cookies(line), sorted(want), "hflow's Cookie for %s" % url)
        r = _curl(t, curl, srv, ["-b", jar_b], url)
        t.eq(_cookies(r.text), sorted(want), "curl -b jarB for %s" % url)
    # curl reads hflow's jar and writes it again: hflow reads that back
    jar_c = t.path("jarC")
    _curl(t, curl, srv, ["-o", os.devnull, "-b", jar_b, "-c", jar_c],
          srv.url("/echo"))
    again = _jar(t, tool, ["--load", jar_c] +
                 sum((["--get", u] for u in _probe_urls(srv)), []))
    t.eq([_cookies(l) for l in again], [_cookies(l) for l in lines],
         "hflow jar -> curl -> hflow")


@test(tags=("fast",))
def junk_session_cookies_j(t):
    tool, curl, srv = _setup(t)
    jar_a = t.path("jarA")
    _curl(t, curl, srv, ["-o", os.devnull, "-c", jar_a], srv.url("/set/mix/page"))
    url = srv.url("/a/b/c")
    lines = _jar(t, tool, ["-j", "--load", jar_a, "--get", url])
    t.eq(_cookies(lines[0]), ["exp=5"], "hflow -j: persistent cookies only")
    r = _curl(t, curl, srv, ["-j", "-b", jar_a], url)
    t.eq(_cookies(r.text), ["exp=5"], "curl -j -b agrees")


@test(tags=("fast",))
def long_jar_line_skipped_whole(t):
    """D.23 (CVE-2016-8615): a 10 KB line is skipped, never split into a
    cookie for another domain; curl agrees."""
    tool, curl, srv = _setup(t)
    line = "www.example.com\tFALSE\t/\tFALSE\t0\tbig\t" + "x" * 4962
    line += "sub.example.com\tFALSE\t/\tFALSE\t0\tinjected\tyes"
    line += "y" * (10240 - len(line))
    jar = t.write("jarL", ("# Netscape HTTP Cookie File\n" + line +
                           "\nwww.example.com\tFALSE\t/\tFALSE\t0\tok\t1\n")
                  .encode())
    lines = _jar(t, tool, ["--load", jar, "--count",
                           "--get", srv.url("/echo", "sub.example.com"),
                           "--get", srv.url("/echo")])
    t.eq(lines, ["1", "-", "ok=1"], "hflow: only the short line")
    r = _curl(t, curl, srv, ["-b", jar], srv.url("/echo", "sub.example.com"))
    t.eq(r.text, "", "curl sends nothing to sub.example.com either")
