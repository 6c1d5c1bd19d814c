"""-w/--write-out against curl (issue 5): for the same request to the same
nginx, every variable that does not measure time is equal between hflow and
/usr/bin/curl (size_request modulo the User-Agent's length); the times keep
curl's order namelookup <= connect <= appconnect <= pretransfer <=
posttransfer <= starttransfer <= total, over http and https; %{json} parses
and has curl's keys; %{header_json} is curl's; and hflow's own variables
(per-phase times, TCP_INFO, who closed, DNS) say what happened."""

import json
import os
import subprocess
import time

from harness import MAX_TIMEOUT, Result, test
from test_dns import DnsHostile, _conf
from test_tls import cacert, ngx, resolve

CURL = "/usr/bin/curl"

# The variables that must be equal (times, speeds and the local port differ
# by nature; size_request by the User-Agent).
SAME = ["http_code", "response_code", "http_version", "num_headers",
        "content_type", "size_download", "size_upload", "size_header",
        "num_connects", "num_redirects", "remote_ip", "remote_port", "local_ip",
        "url", "url_effective", "exitcode", "scheme", "method",
        "ssl_verify_result", "num_certs", "redirect_url", "referer",
        "header{content-type}", "header{content-length}", "header{location}"]

TIMES = ["time_namelookup", "time_connect", "time_appconnect", "time_pretransfer",
         "time_posttransfer", "time_starttransfer", "time_total"]


def _fmt(names):
    out = []
    for n in names:
        out.append("%" + n if n.startswith("header{") else "%%{%s}" % n)
    return "\t".join(out) + "\\n"


def curl(t, args, timeout=20.0):
    """/usr/bin/curl with the suite's clean environment."""
    if not os.access(CURL, os.X_OK):
        t.skip("no %s" % CURL)
    cmd = [CURL] + list(args)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=min(MAX_TIMEOUT, timeout), env=t.client.env)
        return Result(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"),
                      time.monotonic() - t0)
    except subprocess.TimeoutExpired as ex:
        return Result(cmd, None, ex.stdout or b"", "", time.monotonic() - t0, True)


def _curl_version(t):
    r = curl(t, ["-V"])
    return r.text.split()[1] if r.rc == 0 else "?"


def _rows(r, names):
    rows = []
    for line in r.text.split("\n"):
        if line:
            vals = line.split("\t")
            rows.append(dict(zip(names, vals)) if len(vals) == len(names) else {"?": line})
    return rows


def _compare(t, args, urls, skip=(), what=""):
    """Run hflow and curl with the same -w format; compare SAME row by row."""
    t.hflow_only("compares hflow's -w with curl's")
    names = SAME + ["size_request"]
    fmt = _fmt(names)
    h = t.run(["-s", "-w", fmt] + list(args) + list(urls))
    c = curl(t, ["-s", "-w", fmt] + list(args) + list(urls))
    t.require(c.rc == h.rc, "%s: exit codes differ: hflow %s, curl %s (%s)"
              % (what, h.rc, c.rc, c.brief()))
    hr, cr = _rows(h, names), _rows(c, names)
    t.require(len(hr) == len(urls) and len(cr) == len(urls),
              "%s: one line per URL: hflow %r curl %r" % (what, h.text, c.text))
    ua_diff = len("hflow/" + t.client.version) - len("curl/" + _curl_version(t))
    for i, (a, b) in enumerate(zip(hr, cr)):
        for n in SAME:
            if n in skip:
                continue
            t.eq(a.get(n), b.get(n), "%s #%d %%{%s} hflow vs curl" % (what, i, n))
        if "size_request" not in skip:
            t.eq(int(a["size_request"]) - ua_diff, int(b["size_request"]),
                 "%s #%d size_request (modulo the User-Agent)" % (what, i))
    return hr


# ---------------------------------------------------------------- vs curl


@test(tags=("fast",))
def same_as_curl_get(t):
    _compare(t, ["-o", os.devnull], [t.nginx.url("/dir/hello.txt")], what="GET")


@test()
def same_as_curl_404_and_referer(t):
    _compare(t, ["-o", os.devnull, "-e", "http://example.test/from"],
             [t.nginx.url("/no/such/file")], what="404")


@test()
def same_as_curl_redirect_url(t):
    # nginx answers /dir with a 301 to /dir/: neither client follows it
    rows = _compare(t, ["-o", os.devnull], [t.nginx.url("/dir")], what="301")
    t.eq(rows[0]["redirect_url"], t.nginx.url("/dir/"), "redirect_url")


@test()
def same_as_curl_post(t):
    # a POST to a static file: nginx says 405; the body counts in size_upload
    _compare(t, ["-o", os.devnull, "-d", "a=b&c=d"], [t.nginx.url("/dir/hello.txt")],
             what="POST")


@test()
def same_as_curl_head(t):
    _compare(t, ["-o", os.devnull, "-I"], [t.nginx.url("/1k.bin")], what="HEAD")


@test()
def same_as_curl_no_path(t):
    # url_effective gets the "/" both ways
    _compare(t, ["-o", os.devnull], ["http://127.0.0.1:%d" % t.nginx.port], what="no path")


@test(tags=("fast",))
def same_as_curl_keepalive_three(t):
    u = t.nginx.url("/0.bin")
    rows = _compare(t, ["-o", os.devnull] * 3, [u, t.nginx.url("/1k.bin"), u],
                    what="kept alive")
    t.eq([r["num_connects"] for r in rows], ["1", "0", "0"], "num_connects")


@test()
def same_as_curl_refused(t):
    from harness import closed_port
    u = "http://127.0.0.1:%d/x" % closed_port()
    _compare(t, [], [u], what="refused",
             skip=("remote_ip", "remote_port", "local_ip", "size_request"))


@test(tags=("fast",))
def same_as_curl_https(t):
    n = ngx(t)
    # --resolve: both clients on 127.0.0.1 (left to themselves, curl takes
    # IPv4 first for localhost and hflow IPv6, per RFC 8305)
    rows = _compare(t, ["-o", os.devnull] + cacert(t) + resolve("localhost", n.port["valid"]),
                    [n.url("valid")], what="https")
    t.eq(rows[0]["scheme"], "HTTPS", "scheme")


# ---------------------------------------------------------------- times


def _times(t, args):
    r = t.run(["-sS", "-o", os.devnull, "-w", _fmt(TIMES)] + args)
    t.ok(r)
    vals = r.text.strip().split("\t")
    t.require(len(vals) == len(TIMES), "times: %r" % r.text)
    return dict(zip(TIMES, (float(v) for v in vals))), r


def _order(t, tm, https):
    seq = ["time_namelookup", "time_connect"] + (["time_appconnect"] if https else []) + \
        ["time_pretransfer", "time_posttransfer", "time_starttransfer", "time_total"]
    for a, b in zip(seq, seq[1:]):
        t.check(tm[a] <= tm[b], "%s <= %s: %r" % (a, b, tm))
    if https:
        t.check(tm["time_appconnect"] > tm["time_connect"],
                "the handshake takes time: %r" % tm)
    else:
        t.eq(tm["time_appconnect"], 0.0, "time_appconnect over http")
    t.check(tm["time_total"] > 0, "time_total > 0")


@test(tags=("fast",))
def time_order_http(t):
    t.hflow_only("time_posttransfer")
    tm, _ = _times(t, [t.nginx.url("/1k.bin")])
    _order(t, tm, False)


@test(tags=("fast",))
def time_order_https(t):
    t.hflow_only("time_posttransfer")
    n = ngx(t)
    tm, _ = _times(t, cacert(t) + [n.url("valid", "/1k.bin")])
    _order(t, tm, True)


@test()
def time_order_post(t):
    t.hflow_only("time_posttransfer")
    body = t.write("body", b"x" * 200000)
    tm, _ = _times(t, ["--data-binary", "@" + body, t.nginx.url("/dir/hello.txt")])
    _order(t, tm, False)


@test()
def phases_add_up(t):
    t.hflow_only("hflow's per-phase times")
    n = ngx(t)
    names = ["time_dns", "time_tcp", "time_tls", "time_server", "time_transfer",
             "time_namelookup", "time_connect", "time_appconnect",
             "time_pretransfer", "time_starttransfer", "time_total"]
    r = t.run(["-sS", "-o", os.devnull, "-w", _fmt(names)] + cacert(t) +
              [n.url("valid", "/1k.bin")])
    t.ok(r)
    v = dict(zip(names, (float(x) for x in r.text.split("\t"))))
    s = sum(v[k] for k in names[:5])
    gap = v["time_pretransfer"] - v["time_appconnect"]
    t.check(abs(v["time_dns"] - v["time_namelookup"]) < 2e-6, "dns = namelookup: %r" % v)
    t.check(abs(v["time_tls"] - (v["time_appconnect"] - v["time_connect"])) < 2e-6,
            "tls = appconnect - connect: %r" % v)
    t.check(abs(s + gap - v["time_total"]) < 1e-5,
            "phases + the pretransfer gap = total: %r" % v)


# ---------------------------------------------------------------- json


CURL_KEYS = {"certs", "content_type", "errormsg", "exitcode", "filename_effective",
             "http_code", "http_connect", "http_version", "local_ip", "local_port",
             "method", "num_certs", "num_connects", "num_headers", "num_redirects",
             "proxy_ssl_verify_result", "redirect_url", "referer", "remote_ip",
             "remote_port", "response_code", "scheme", "size_download",
             "size_header", "size_request", "size_upload", "speed_download",
             "speed_upload", "ssl_verify_result", "time_appconnect", "time_connect",
             "time_namelookup", "time_pretransfer", "time_redirect",
             "time_starttransfer", "time_total", "url", "url_effective", "urlnum",
             # curl 8's
             "time_queue", "time_posttransfer", "num_retries", "conn_id", "xfer_id"}
OWN_KEYS = {"time_dns", "time_tcp", "time_tls", "time_server", "time_transfer",
            "tcp_rtt", "tcp_retrans", "closed_by", "dns_server", "dns_ttl", "reused"}


@test(tags=("fast",))
def json_all_variables(t):
    t.hflow_only("hflow's %{json}")
    u = t.nginx.url("/dir/hello.txt")
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{json}", u])
    t.ok(r)
    try:
        j = json.loads(r.text)
    except ValueError as e:
        t.fail("%%{json} does not parse: %s: %r" % (e, r.text))
        return
    t.check(isinstance(j, dict), "an object")
    missing = (CURL_KEYS | OWN_KEYS) - set(j)
    t.check(not missing, "keys missing from %%{json}: %s" % sorted(missing))
    keys = [k for k in j if k != "hflow_version"]
    t.eq(keys, sorted(keys), "names sorted, as curl")
    for k in ("time_total", "time_connect", "time_dns"):
        t.check(isinstance(j.get(k), float), "%s is a number: %r" % (k, j.get(k)))
    t.eq(j.get("http_code"), 200, "http_code is a number")
    t.eq(j.get("errormsg"), None, "errormsg null without an error")
    t.eq(j.get("closed_by"), "pooled", "closed_by")
    # the same values as curl's %{json} for the variables that are not times
    c = curl(t, ["-s", "-o", os.devnull, "-w", "%{json}", u])
    cj = json.loads(c.text)
    for k in sorted(set(cj) & set(j)):
        if k.startswith(("time_", "speed_")) or k in ("local_port", "size_request"):
            continue
        t.eq(j[k], cj[k], "%%{json} %s hflow vs curl" % k)


@test()
def json_failed_transfer(t):
    t.hflow_only("hflow's %{json}")
    from harness import closed_port
    r = t.run(["-s", "-w", "%{json}", "http://127.0.0.1:%d/" % closed_port()])
    t.rc(r, 7)
    j = json.loads(r.text)
    t.eq(j["exitcode"], 7, "exitcode")
    t.eq(j["http_code"], 0, "http_code")
    t.check(isinstance(j["errormsg"], str) and "refused" in j["errormsg"].lower(),
            "errormsg: %r" % j["errormsg"])
    t.eq(j["conn_id"], -1, "conn_id without a connection")


@test(tags=("fast",))
def header_json_as_curl(t):
    t.hflow_only("compares with curl")
    u = t.nginx.url("/dir/hello.txt")
    h = t.run(["-sS", "-o", os.devnull, "-w", "%{header_json}", u])
    c = curl(t, ["-s", "-o", os.devnull, "-w", "%{header_json}", u])
    t.ok(h)
    hj, cj = json.loads(h.text), json.loads(c.text)
    hj.pop("date", None)
    cj.pop("date", None)
    t.eq(hj, cj, "header_json without the date")
    t.eq(list(hj), list(cj), "names in the order received")
    t.eq(h.text.count("\n"), c.text.count("\n"), "one name a line, as curl")


@test()
def header_json_escapes_control_bytes(t):
    t.hflow_only("hflow's JSON escaping")
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{header_json}", t.hostile.url("/esc-header")])
    t.ok(r)
    t.not_contains(r.out, b"\x1b", "no raw ESC in the JSON")
    j = json.loads(r.text)
    t.eq(j.get("x-evil"), ["a\x1b[2J\x07b"], "the value, escaped and parsed back")


@test()
def header_and_at_file_and_streams(t):
    t.hflow_only("hflow's -w")
    fmt = t.write("fmt", b"%{http_code} %header{Content-Type}%{stderr}to-err %{method}"
                         b"%{stdout} to-out\\n")
    r = t.run(["-sS", "-o", os.devnull, "-w", "@" + fmt, t.nginx.url("/dir/hello.txt")])
    t.rc(r, 0)
    t.eq(r.text, "200 text/plain to-out\n", "stdout part")
    t.eq(r.err, "to-err GET", "stderr part")


# ---------------------------------------------------------------- hflow's own


@test(tags=("fast",))
def own_reused_conn_closed_by(t):
    t.hflow_only("hflow's own variables")
    names = ["reused", "conn_id", "xfer_id", "closed_by", "tcp_rtt", "tcp_retrans",
             "time_dns", "time_tcp", "time_tls", "num_connects"]
    u = t.nginx.url("/1k.bin")
    r = t.run(["-sS", "-o", os.devnull, "-o", os.devnull, "-w", _fmt(names), u, u])
    t.ok(r)
    a, b = _rows(r, names)
    t.eq((a["reused"], b["reused"]), ("0", "1"), "reused")
    t.eq(a["conn_id"], b["conn_id"], "one connection")
    t.eq((a["xfer_id"], b["xfer_id"]), ("0", "1"), "xfer_id")
    t.eq((a["closed_by"], b["closed_by"]), ("pooled", "pooled"), "closed_by")
    t.check(a["tcp_rtt"].isdigit(), "tcp_rtt of a new connection: %r" % a["tcp_rtt"])
    t.eq(a["tcp_retrans"], "0", "no retransmission on loopback")
    t.eq(b["tcp_rtt"], "", "no TCP_INFO in a reused connection's trace")
    t.eq([b[k] for k in ("time_dns", "time_tcp", "time_tls")],
         ["0.000000"] * 3, "no handshake on a reused connection")


@test()
def own_closed_by_server_and_reset(t):
    t.hflow_only("hflow's own variables")
    r = t.run(["-s", "-o", os.devnull, "-w", "%{closed_by}", t.hostile.url("/truncated")])
    t.rc(r, 18)
    t.eq(r.text, "server", "the server closed first (body cut short)")
    r = t.run(["-s", "-o", os.devnull, "-w", "%{closed_by}",
               t.hostile.url("/reset-mid-body")])
    t.rc(r, (56, 18))
    t.eq(r.text, "reset", "a RST ended it")


@test()
def own_dns_server_and_ttl(t):
    t.hflow_only("hflow's own variables")
    d = t.env.server("dns_hostile_ok", lambda: DnsHostile(t.env.tmp, "b"))
    hosts = t.write("hosts", b"")
    r = t.run(["-sS", "-4", "-o", os.devnull, "--dns-servers", d.server,
               "--resolv-conf", _conf(t), "--hosts-file", hosts,
               "-w", "%{dns_server} %{dns_ttl} %{time_dns} %{remote_ip}",
               "http://good.test:%d/dir/hello.txt" % t.nginx.port])
    t.ok(r)
    parts = r.text.split()
    t.require(len(parts) == 4, "-w: %r" % r.text)
    t.eq(parts[0], d.server, "dns_server")
    t.eq(parts[1], "300", "dns_ttl")
    t.check(float(parts[2]) > 0, "time_dns > 0")
    t.eq(parts[3], "127.0.0.1", "remote_ip")
    # an IP address: no DNS
    r = t.run(["-sS", "-o", os.devnull, "-w", "[%{dns_server}][%{dns_ttl}]",
               t.nginx.url("/dir/hello.txt")])
    t.eq(r.text, "[][]", "no DNS for an IP address")
