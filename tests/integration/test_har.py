"""--har FILE (issue 5): the HTTP Archive of a run, checked field by field
against the HAR 1.2 structure (http://www.softwareishard.com/blog/har-12-spec/):
required fields and their types, then what they say -- three URLs (two on
one kept-alive connection: no dns/connect/ssl on the second), the timings
adding up to the entry's time, https (ssl within connect), a failed
transfer, cookies, the query string, escaping."""

import datetime
import json
import os
import re

from harness import closed_port, test
from test_dns import DnsHostile, _conf
from test_tls import cacert, ngx

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
NUM = (int, float)


def _num(v):
    return isinstance(v, NUM) and not isinstance(v, bool)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _pairs(t, v, what):
    """[{name: str, value: str}, ...]"""
    if not t.check(isinstance(v, list), "%s is an array" % what):
        return
    for i, p in enumerate(v):
        t.check(isinstance(p, dict) and isinstance(p.get("name"), str) and
                isinstance(p.get("value"), str), "%s[%d] has name and value: %r"
                % (what, i, p))


def _cookies(t, v, what):
    _pairs(t, v, what)
    for c in v if isinstance(v, list) else []:
        for k in ("path", "domain", "expires", "comment"):
            if k in c:
                t.check(isinstance(c[k], str), "%s.%s is a string" % (what, k))
        for k in ("httpOnly", "secure"):
            if k in c:
                t.check(isinstance(c[k], bool), "%s.%s is a boolean" % (what, k))


def check_structure(t, har):
    """The HAR 1.2 structure: required fields and their types."""
    t.require(isinstance(har, dict) and isinstance(har.get("log"), dict), "log object")
    log = har["log"]
    t.eq(log.get("version"), "1.2", "log.version")
    cr = log.get("creator")
    t.check(isinstance(cr, dict) and cr.get("name") == "hflow" and
            isinstance(cr.get("version"), str), "log.creator: %r" % cr)
    t.require(isinstance(log.get("entries"), list), "log.entries is an array")
    for i, e in enumerate(log["entries"]):
        w = "entries[%d]" % i
        t.require(isinstance(e, dict), w + " is an object")
        for k in ("startedDateTime", "time", "request", "response", "cache", "timings"):
            t.check(k in e, "%s.%s required" % (w, k))
        t.check(isinstance(e.get("startedDateTime"), str) and
                ISO.match(e["startedDateTime"]) is not None,
                "%s.startedDateTime ISO 8601: %r" % (w, e.get("startedDateTime")))
        t.check(_num(e.get("time")) and e["time"] >= 0, "%s.time >= 0" % w)
        q = e.get("request", {})
        for k, typ in (("method", str), ("url", str), ("httpVersion", str),
                       ("headersSize", int), ("bodySize", int)):
            t.check(isinstance(q.get(k), typ) and not isinstance(q.get(k), bool),
                    "%s.request.%s is %s: %r" % (w, k, typ.__name__, q.get(k)))
        _cookies(t, q.get("cookies"), w + ".request.cookies")
        _pairs(t, q.get("headers"), w + ".request.headers")
        _pairs(t, q.get("queryString"), w + ".request.queryString")
        s = e.get("response", {})
        for k, typ in (("status", int), ("statusText", str), ("httpVersion", str),
                       ("redirectURL", str), ("headersSize", int), ("bodySize", int)):
            t.check(isinstance(s.get(k), typ) and not isinstance(s.get(k), bool),
                    "%s.response.%s is %s: %r" % (w, k, typ.__name__, s.get(k)))
        _cookies(t, s.get("cookies"), w + ".response.cookies")
        _pairs(t, s.get("headers"), w + ".response.headers")
        c = s.get("content")
        t.check(isinstance(c, dict) and _int(c.get("size")) and
                isinstance(c.get("mimeType"), str), "%s.response.content: %r" % (w, c))
        t.check(isinstance(e.get("cache"), dict), "%s.cache is an object" % w)
        tm = e.get("timings", {})
        for k in ("send", "wait", "receive"):
            t.check(_num(tm.get(k)) and tm[k] >= 0, "%s.timings.%s >= 0: %r" % (w, k, tm))
        for k in ("blocked", "dns", "connect", "ssl"):
            t.check(_num(tm.get(k)) and (tm[k] >= 0 or tm[k] == -1),
                    "%s.timings.%s >= 0 or -1: %r" % (w, k, tm))
        if "serverIPAddress" in e:
            t.check(isinstance(e["serverIPAddress"], str), w + ".serverIPAddress")
        if "connection" in e:
            t.check(isinstance(e["connection"], str), w + ".connection is a string")
        # the timings add up to the time (ssl is inside connect)
        total = sum(tm[k] for k in ("blocked", "dns", "connect", "send", "wait", "receive")
                    if _num(tm.get(k)) and tm[k] >= 0)
        t.check(abs(total - e.get("time", 0)) < 0.01,
                "%s: timings sum %.3f = time %.3f" % (w, total, e.get("time", 0)))
        if _num(tm.get("ssl")) and tm["ssl"] >= 0:
            t.check(_num(tm.get("connect")) and tm["connect"] >= tm["ssl"],
                    "%s: connect includes ssl: %r" % (w, tm))
    return log["entries"]


def _run_har(t, args, rc=0):
    t.hflow_only("--har")
    path = t.path("run.har")
    r = t.run(["-s", "--har", path] + list(args))
    t.rc(r, rc)
    t.require(os.path.exists(path), "the HAR file was written: %s" % r.brief())
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw.decode("utf-8")), r
    except ValueError as e:
        t.fail("the HAR does not parse: %s: %r" % (e, raw[:300]))
        raise


def _hdr(pairs, name):
    return [p["value"] for p in pairs if p["name"].lower() == name.lower()]


@test(tags=("fast",))
def three_urls_one_reused(t):
    d = t.env.server("dns_hostile_ok", lambda: DnsHostile(t.env.tmp, "b"))
    hosts = t.write("hosts", b"")
    base = "http://good.test:%d" % t.nginx.port
    u3 = t.httpbin.url("/cookies/set?k=v")
    before = datetime.datetime.now(datetime.timezone.utc)
    har, _ = _run_har(t, ["-4", "--dns-servers", d.server, "--resolv-conf", _conf(t),
                          "--hosts-file", hosts, "-H", "Cookie: a=b; c=d",
                          "-o", os.devnull, "-o", os.devnull, "-o", os.devnull,
                          base + "/dir/hello.txt?x=1&y=a%20b", base + "/1k.bin", u3])
    after = datetime.datetime.now(datetime.timezone.utc)
    es = check_structure(t, har)
    t.require(len(es) == 3, "three entries: %d" % len(es))
    a, b, c = es
    # request
    t.eq([e["request"]["method"] for e in es], ["GET"] * 3, "methods")
    t.eq(a["request"]["url"], base + "/dir/hello.txt?x=1&y=a%20b", "url")
    t.eq(a["request"]["httpVersion"], "HTTP/1.1", "request httpVersion")
    t.eq(_hdr(a["request"]["headers"], "Host"), ["good.test:%d" % t.nginx.port],
         "Host header")
    t.eq(_hdr(a["request"]["headers"], "User-Agent"), ["hflow/" + t.client.version],
         "User-Agent header")
    t.eq(a["request"]["queryString"], [{"name": "x", "value": "1"},
                                       {"name": "y", "value": "a b"}], "queryString")
    t.eq(b["request"]["queryString"], [], "no query")
    t.eq([(k["name"], k["value"]) for k in a["request"]["cookies"]],
         [("a", "b"), ("c", "d")], "request cookies from the Cookie header")
    t.check(a["request"]["headersSize"] > 50, "request headersSize")
    t.eq(a["request"]["bodySize"], 0, "request bodySize")
    # response
    t.eq((a["response"]["status"], a["response"]["statusText"]), (200, "OK"), "status")
    t.eq(a["response"]["httpVersion"], "HTTP/1.1", "response httpVersion")
    t.eq(a["response"]["bodySize"], t.nginx.size["dir/hello.txt"], "bodySize")
    t.eq(b["response"]["bodySize"], 1024, "bodySize")
    t.eq(a["response"]["content"]["mimeType"], "text/plain", "mimeType")
    t.eq(_hdr(a["response"]["headers"], "Content-Type"), ["text/plain"], "headers")
    t.check(150 < a["response"]["headersSize"] < 400, "response headersSize")
    t.eq(c["response"]["status"], 302, "httpbin's redirect")
    t.eq(c["response"]["redirectURL"], "/cookies", "redirectURL from Location")
    t.eq([(k["name"], k["value"], k.get("path")) for k in c["response"]["cookies"]],
         [("k", "v", "/")], "Set-Cookie parsed")
    # connections and timings
    t.eq(a["connection"], b["connection"], "entries 1 and 2 share a connection")
    t.check(c["connection"] != a["connection"], "entry 3 has its own")
    t.eq(a["serverIPAddress"], "127.0.0.1", "serverIPAddress")
    ta, tb, tc = a["timings"], b["timings"], c["timings"]
    t.check(ta["dns"] >= 0 and ta["connect"] >= 0, "new connection by name: %r" % ta)
    t.eq(ta["ssl"], -1, "no TLS over http")
    t.eq((tb["dns"], tb["connect"], tb["ssl"]), (-1, -1, -1),
         "reused connection: no dns, connect, ssl")
    t.eq(tc["dns"], -1, "an IP address: no dns")
    t.check(tc["connect"] >= 0, "a new connection: connect %r" % tc)
    # wall-clock starts, in order, within the run
    starts = [datetime.datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00"))
              for e in es]
    t.check(starts == sorted(starts), "startedDateTime in order: %s" % starts)
    slack = datetime.timedelta(seconds=1)
    t.check(before - slack <= starts[0] and starts[-1] <= after + slack,
            "startedDateTime within the run: %s .. %s .. %s" % (before, starts, after))


@test(tags=("fast",))
def https_ssl_within_connect(t):
    n = ngx(t)
    u = n.url("valid", "/1k.bin")
    har, _ = _run_har(t, cacert(t) + ["-o", os.devnull, "-o", os.devnull, u, u])
    a, b = check_structure(t, har)
    t.check(a["timings"]["ssl"] > 0, "TLS handshake timed: %r" % a["timings"])
    t.check(a["timings"]["connect"] > a["timings"]["ssl"], "connect includes ssl")
    t.eq((b["timings"]["dns"], b["timings"]["connect"], b["timings"]["ssl"]),
         (-1, -1, -1), "reused TLS connection")
    t.eq(a["request"]["url"], u, "url")


@test()
def failed_transfer_entry(t):
    u = "http://127.0.0.1:%d/x" % closed_port()
    har, _ = _run_har(t, [u], rc=7)
    (e,) = check_structure(t, har)
    t.eq(e["response"]["status"], 0, "no status")
    t.eq(e["response"]["bodySize"], -1, "bodySize unknown")
    t.check("refused" in e.get("_error", "").lower(), "_error: %r" % e.get("_error"))
    t.eq(e["request"]["method"], "GET", "method from the queued event")
    t.eq(e["request"]["url"], u, "url")


@test()
def post_body_and_escaping(t):
    har, _ = _run_har(t, ["-o", os.devnull, "-o", os.devnull, "-d", "a=b",
                          t.hostile.url("/echo"), t.hostile.url("/esc-header")])
    a, b = check_structure(t, har)
    t.eq(a["request"]["method"], "POST", "method")
    t.eq(a["request"]["bodySize"], 3, "request bodySize")
    t.eq(_hdr(b["response"]["headers"], "X-Evil"), ["a\x1b[2J\x07b"],
         "control bytes escaped and parsed back")


@test()
def har_to_stdout_and_unwritable(t):
    t.hflow_only("--har")
    r = t.run(["-s", "-o", os.devnull, "--har", "-", t.nginx.url("/0.bin")])
    t.ok(r)
    har = json.loads(r.text)
    check_structure(t, har)
    r = t.run(["-sS", "-o", os.devnull, "--har", "/nonexistent-dir/x.har",
               t.nginx.url("/0.bin")])
    t.rc(r, 23)
    t.contains(r.err, "/nonexistent-dir/x.har", "the file named in the error")
