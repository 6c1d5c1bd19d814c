"""Failed allocations (issue 7): one request is made through the public API
by build/tools/failmalloc (tests/tools/failmalloc.c), which wraps the
allocator calls of the library's objects.  `failmalloc count` says how many
allocations the request makes; then `failmalloc fail N` is run for every N
from 1 to that count (and two past it), the Nth allocation returning NULL.

Every run must end by itself, without a crash or a sanitizer report, with
no block made through the wrappers still alive after hf_response_free and
hf_client_free, and either
  - the same outcome as the run where nothing failed (error code, status,
    body length and checksum): the failed allocation had a fallback, or
  - HF_E_NOMEM (27) with a one-line message that says "out of memory".
A request that "succeeds" with another body or status (a redirect not
followed, a body not decoded, a cookie lost), or a run that hangs because a
timer could not be set, fails the test.

The count is found at run time, so the test follows the library as its
allocation sites move.  Peers: the harness's nginx, httpbin and hostile.py,
test_tls's nginx with the test CA, and test_dns's dns_hostile.py.
`failmalloc --openssl` also fails OpenSSL's allocations; it is not run here
(some 14000 per handshake, and OpenSSL's own error paths leak).

When a run fails: FM_BACKTRACE=1 build/tools/failmalloc fail N ARGS prints
where allocation N is made, FM_TRACE_ALLOC=K where a leaked block K was
made (addr2line -f -e build/tools/failmalloc +OFFSET)."""

import concurrent.futures
import os
import re
import subprocess
import time

from harness import SAN_RE, test

WORKERS = 4          # the runs mostly wait on loopback I/O
RUN_TIMEOUT = 8.0    # seconds for one run (its request limit is 5 s)
EXTRA = 2            # runs past the count: nothing fails there

LINE_RE = re.compile(r"^allocs=(\d+) failed_at=(\d+) hit=(\d) err=(-?\d+) "
                     r"name=(\S+) status=(-?\d+) body=(\d+) live=(\d+) "
                     r"sum=([0-9a-f]+) lines=(\d+) msg=(.*)$")


def _tool(t):
    t.hflow_only("failmalloc links hflow's objects")
    p = os.path.join(os.path.dirname(t.client.bin), "tools", "failmalloc")
    if not os.access(p, os.X_OK):
        t.skip("no %s (make builds tests/tools/failmalloc.c)" % p)
    return p


class Run:
    """One run of the tool: its parsed line, or why it has none."""

    def __init__(self, tool, n, args, timeout):
        cmd = [tool] + (["fail", str(n)] if n else ["count"]) + args
        self.n = n
        self.hang = False
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
            self.rc = p.returncode
            self.out = p.stdout.decode("utf-8", "replace")
            self.err = p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            self.hang = True
            self.rc = None
            self.out = (e.stdout or b"").decode("utf-8", "replace")
            self.err = (e.stderr or b"").decode("utf-8", "replace")
        self.elapsed = time.monotonic() - t0
        lines = self.out.splitlines()
        self.m = LINE_RE.match(lines[-1]) if len(lines) == 1 else None

    def get(self, k):
        keys = ("allocs", "failed_at", "hit", "err", "name", "status", "body",
                "live", "sum", "lines", "msg")
        v = self.m.group(keys.index(k) + 1)
        return v if k in ("name", "sum", "msg") else int(v)

    def outcome(self):
        return tuple(self.get(k) for k in ("err", "status", "body", "sum"))

    def brief(self):
        err = self.err.strip().replace("\n", " | ")
        if len(err) > 400:
            err = err[:400] + "..."
        return "N=%s rc=%s%s: %s%s" % (
            self.n, self.rc, " HANG after %.1fs" % self.elapsed if self.hang else "",
            self.out.strip()[:300], (" stderr: " + err) if err else "")


def _problem(r, base):
    """Why run r is not acceptable, or None."""
    if r.hang:
        return "no end (a timer or a wake-up lost?)"
    if r.rc != 0:
        return "exit %s (crash?)" % r.rc
    if SAN_RE.search(r.err):
        return "sanitizer report"
    if not r.m:
        return "no result line"
    if r.get("live"):
        return "%d block(s) leaked" % r.get("live")
    if r.get("err") and (not r.get("msg") or r.get("lines") != 1):
        return "error %d without a one-line message" % r.get("err")
    if r.outcome() == base.outcome():
        return None                  # a fallback, or nothing failed
    if r.get("err") == 27:           # a clean out-of-memory error, saying so
        if not re.search(r"memory", r.get("msg"), re.I):
            return "NOMEM with a message that does not say so"
        return None
    if r.get("err") == 0:
        return "success with another outcome (status %d, %d bytes; "\
               "want status %d, %d bytes)" % (r.get("status"), r.get("body"),
                                              base.get("status"), base.get("body"))
    return "error %d (%s) instead of 27 (NOMEM)" % (r.get("err"), r.get("name"))


def _sweep(t, name, args, want_err=0, want_status=200, timeout=RUN_TIMEOUT):
    tool = _tool(t)
    args = ["-m", "5000"] + args if "-m" not in args else args
    base = [Run(tool, 0, args, timeout) for _ in range(2)]
    for b in base:
        t.require(b.m is not None and b.rc == 0 and not SAN_RE.search(b.err),
                  "%s: count run: %s" % (name, b.brief()))
        t.require(b.get("live") == 0, "%s: blocks alive after a clean run: %s"
                  % (name, b.brief()))
    t.require(base[0].outcome() == base[1].outcome(),
              "%s: two clean runs differ: %s / %s" % (name, base[0].brief(),
                                                     base[1].brief()))
    t.eq(base[0].get("err"), want_err, "%s: error of the clean run (%s)"
         % (name, base[0].get("msg")))
    t.eq(base[0].get("status"), want_status, "%s: status of the clean run" % name)
    count = max(b.get("allocs") for b in base)
    t.require(count > 10, "%s: only %d allocations counted: is the tool "
              "linked with --wrap?" % (name, count))

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        runs = list(ex.map(lambda n: Run(tool, n, args, timeout),
                           range(1, count + EXTRA + 1)))
    bad = [(r, _problem(r, base[0])) for r in runs]
    bad = [(r, why) for r, why in bad if why]
    nomem = sum(1 for r in runs if r.m and r.get("err") == 27)
    hit = sum(1 for r in runs if r.m and r.get("hit"))
    print("  failmalloc %s: %d allocations; %d runs, %d hit their allocation, "
          "%d ended NOMEM, %d clean" % (name, count, len(runs), hit, nomem,
                                        len(runs) - len(bad)), flush=True)
    t.check(hit >= count // 2, "%s: only %d of %d runs failed an "
            "allocation" % (name, hit, count))
    for r, why in bad[:8]:
        t.fail("%s: %s: %s" % (name, why, r.brief()))
    if len(bad) > 8:
        t.fail("%s: and %d more bad runs" % (name, len(bad) - 8))
    t.check(not bad, "%s: %d of %d runs bad" % (name, len(bad), len(runs)))


@test(tags=("fast",))
def plain_nginx_with_views(t):
    """GET a small file, a header set, and the stat, flow and HAR views."""
    _sweep(t, "plain", ["--views", t.nginx.url("/dir/hello.txt")])


@test(tags=("fast",))
def redirect_and_cookies_httpbin(t):
    """-L through httpbin's /cookies/set (302 with Set-Cookie) to /cookies,
    a cookie file loaded first and the jar saved at the end."""
    jar = t.write("jar.in", b"127.0.0.1\tFALSE\t/\tFALSE\t0\tpre\tloaded\n")
    _sweep(t, "cookies", ["-L", "--cookies", "-b", jar, "-c", t.path("jar.out"),
                          t.httpbin.url("/cookies/set?a=1&b=2")])


@test(tags=("fast",))
def digest_auth_httpbin(t):
    """A 401 with a Digest challenge answered (RFC 7616), from httpbin."""
    _sweep(t, "digest", ["--digest", "-u", "user:passwd",
                         t.httpbin.url("/digest-auth/auth/user/passwd")])


@test(tags=("fast",))
def chunked_body(t):
    """A chunked body, from hostile.py."""
    _sweep(t, "chunked", [t.hostile.url("/chunked-ok")])


@test(tags=("fast",))
def cross_origin_redirect_with_credentials(t):
    """-L from hostile.py to nginx (another origin: credentials dropped)."""
    _sweep(t, "xredir", ["-L", "-u", "user:pw", t.hostile.url(
        "/redir?to=" + t.nginx.url("/dir/hello.txt"))])


@test(tags=("fast",))
def gzip_twice_with_resolve(t):
    """A body gzipped twice, decoded, from a name given with --resolve."""
    port = t.hostile.port
    _sweep(t, "gzip", ["--compressed", "--resolve", "fm.test:%d:127.0.0.1" % port,
                       "http://fm.test:%d/gzip-chain?n=2" % port])


@test(tags=("fast",))
def post_echo_hosts_file_netrc(t):
    """POST to hostile.py's /echo (the request comes back as the body, so a
    header lost to a failed allocation shows), the name from a hosts file,
    the credentials from a .netrc."""
    port = t.hostile.port
    resolv = t.write("resolv.conf", b"nameserver 127.0.0.1\n"
                                    b"options timeout:1 attempts:1\n")
    hosts = t.write("hosts", b"127.0.0.1 fm.test\n")
    netrc = t.write("netrc", b"machine fm.test login nu password np\n")
    _sweep(t, "post", ["--dns-files", resolv, hosts, "-d", "a=1&b=2",
                       "--netrc", netrc, "http://fm.test:%d/echo" % port])


@test(tags=("fast",))
def timeout_on_a_stalled_body(t):
    """A body that never comes, -m 300 ms: every run must still end (a timer
    that could not be set must fail the request, not leave it waiting)."""
    _sweep(t, "stall", ["-m", "300", t.hostile.url("/stall")],
           want_err=28, timeout=5.0)


@test(tags=("fast",))
def https_nginx(t):
    """https to test_tls's nginx, verified with the test CA (OpenSSL's own
    allocations are not failed here: `failmalloc --openssl` does that)."""
    import test_tls          # loaded by run.py already; its servers are shared
    n = test_tls.ngx(t)
    _sweep(t, "https", ["--cacert", test_tls.certs(t).path("ca.crt"),
                        n.url("valid")])


@test(tags=("fast",))
def dns_stub_resolver(t):
    """The name asked of a DNS server (test_dns's dns_hostile.py: A and AAAA
    over UDP, in parallel) by hflow's own resolver, then nginx."""
    import test_dns          # loaded by run.py already; its servers are shared
    dns = test_dns._hostile_ok(t)
    resolv = t.write("resolv.conf", b"options timeout:1 attempts:1\n")
    hosts = t.write("hosts", b"")
    _sweep(t, "dns", ["--dns-files", resolv, hosts, "--dns-servers", dns.server,
                      "http://good.fm.test:%d/dir/hello.txt" % t.nginx.port])
