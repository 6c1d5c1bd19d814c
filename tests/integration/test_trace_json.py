"""--trace-json FILE (issue 5, docs/TRACE.md): every line is one JSON object
with the documented fields; a simple GET gives queued, connect_start,
tcp_established, request_head, first_byte, response_head, response_body,
pooled, done and, at the end, fin_sent, fin_received, closed; a second
transfer on the kept-alive connection has no connect_start or
tcp_established; DNS events carry the server and the TTL; lines are
written as the events happen."""

import json
import os
import subprocess
import time

from harness import test
from test_dns import DnsHostile, _conf

FIELDS = {"ev": str, "t_ns": int, "mono_ns": int, "transfer": int, "conn": int,
          "peer": str, "local": str, "detail": str, "value": int, "closed_by": str}
TCP = ("rtt_us", "rttvar_us", "snd_mss", "rcv_mss", "retrans", "bytes_acked",
       "bytes_received", "delivery_rate")
EVENTS = {"queued", "reused", "dns_start", "dns_answer", "dns_end", "connect_start",
          "connect_failed", "tcp_established", "tls_start", "tls_end",
          "request_head", "request_body", "first_byte", "response_head",
          "response_body", "pooled", "fin_sent", "fin_received", "rst_sent",
          "rst_received", "closed", "error", "done", "pool_miss"}


def parse(t, raw):
    """The events of a --trace-json file, each line checked."""
    evs = []
    for i, line in enumerate(raw.decode("utf-8").splitlines()):
        try:
            e = json.loads(line)
        except ValueError as ex:
            t.fail("line %d does not parse: %s: %r" % (i + 1, ex, line))
            continue
        if not t.check(isinstance(e, dict), "line %d is an object" % (i + 1)):
            continue
        for k, typ in FIELDS.items():
            t.check(isinstance(e.get(k), typ) and not isinstance(e.get(k), bool),
                    "line %d: %s is %s: %r" % (i + 1, k, typ.__name__, line))
        t.check(e.get("ev") in EVENTS, "line %d: known event %r" % (i + 1, e.get("ev")))
        extra = set(e) - set(FIELDS) - {"tcp"}
        t.check(not extra, "line %d: unknown fields %s" % (i + 1, extra))
        if "tcp" in e:
            t.check(isinstance(e["tcp"], dict) and
                    all(isinstance(e["tcp"].get(k), int) for k in TCP),
                    "line %d: tcp fields: %r" % (i + 1, e["tcp"]))
        t.check((e.get("closed_by") != "") == (e.get("ev") == "closed"),
                "line %d: closed_by only on closed" % (i + 1))
        evs.append(e)
    monos = [e.get("mono_ns", 0) for e in evs]
    t.check(monos == sorted(monos), "mono_ns never goes back")
    return evs


def run_trace(t, args, rc=0):
    t.hflow_only("--trace-json")
    path = t.path("trace.jsonl")
    r = t.run(["-sS", "--trace-json", path] + list(args))
    t.rc(r, rc)
    t.require(os.path.exists(path), "trace file written: %s" % r.brief())
    with open(path, "rb") as f:
        return parse(t, f.read()), r


def names(evs, transfer=None):
    return [e["ev"] for e in evs if transfer is None or e["transfer"] == transfer]


@test(tags=("fast", "vg"))
def simple_get_order(t):
    evs, _ = run_trace(t, ["-o", os.devnull, t.nginx.url("/1k.bin")])
    t.eq(names(evs), ["queued", "pool_miss", "connect_start", "tcp_established", "request_head",
                      "first_byte", "response_head", "response_body", "pooled",
                      "done", "fin_sent", "fin_received", "closed"],
         "event order of a GET, then the teardown at exit")
    by = {e["ev"]: e for e in evs}
    t.eq(by["queued"]["detail"], "GET " + t.nginx.url("/1k.bin"), "queued detail")
    t.eq(by["pool_miss"]["detail"], "no idle connection", "why no reuse")
    t.eq(by["connect_start"]["peer"], "127.0.0.1:%d" % t.nginx.port, "peer")
    t.check("tcp" in by["tcp_established"] and "tcp" in by["closed"],
            "TCP_INFO on tcp_established and closed")
    t.check(by["tcp_established"]["local"].startswith("127.0.0.1:"), "local address")
    t.eq(by["response_head"]["value"], 200, "status")
    t.eq(by["response_head"]["detail"], "HTTP/1.1 200 OK", "status line")
    t.eq(by["response_body"]["value"], 1024, "body bytes")
    t.eq(by["closed"]["closed_by"], "client", "hflow closed the idle connection first")
    t.check(by["closed"]["tcp"]["bytes_received"] >= 1024, "bytes received at the end")
    t.eq({e["conn"] for e in evs
          if e["ev"] not in ("queued", "pool_miss", "connect_start", "done")},
         {0}, "connection #0")
    tns = [e["t_ns"] for e in evs]
    t.check(tns == sorted(tns), "t_ns grows within the transfer: %s" % tns)


@test(tags=("fast",))
def reused_second_transfer(t):
    u = t.nginx.url("/0.bin")
    evs, _ = run_trace(t, ["-o", os.devnull, "-o", os.devnull, u, u])
    t.eq(names(evs, 1), ["queued", "reused", "request_head", "first_byte",
                         "response_head", "response_body", "pooled", "done",
                         "fin_sent", "fin_received", "closed"],
         "the second transfer: reused, no connect (then the teardown)")
    first = [e for e in evs if e["transfer"] == 0]
    t.check("connect_start" in names(first) and "tcp_established" in names(first),
            "the first one connected")
    reused = [e for e in evs if e["ev"] == "reused"][0]
    est = [e for e in evs if e["ev"] == "tcp_established"][0]
    t.eq(reused["conn"], est["conn"], "the same connection")
    t.eq(reused["local"], est["local"], "the same local address")
    # the teardown belongs to the last transfer that used the connection
    t.eq(names(evs)[-3:], ["fin_sent", "fin_received", "closed"], "teardown at the end")
    t.eq({e["transfer"] for e in evs[-3:]}, {1}, "teardown under transfer 1")


@test()
def dns_events(t):
    d = t.env.server("dns_hostile_ok", lambda: DnsHostile(t.env.tmp, "b"))
    hosts = t.write("hosts", b"")
    evs, _ = run_trace(t, ["-4", "-o", os.devnull, "--dns-servers", d.server,
                           "--resolv-conf", _conf(t), "--hosts-file", hosts,
                           "http://good.test:%d/0.bin" % t.nginx.port])
    n = names(evs)
    t.check(n.index("dns_start") < n.index("dns_answer") < n.index("connect_start"),
            "DNS before the connect: %s" % n)
    t.check("dns_end" in n, "dns_end: %s" % n)
    ans = [e for e in evs if e["ev"] == "dns_answer"]
    t.check(ans and all(e["peer"] == d.server for e in ans), "the server: %r" % ans)
    t.check(any(e["detail"].startswith("A 127.0.0.1 ttl=300") for e in ans),
            "A answer with its TTL: %r" % [e["detail"] for e in ans])
    t.eq([e["detail"] for e in evs if e["ev"] == "dns_start"], ["good.test"], "the name")


@test()
def https_tls_events(t):
    from test_tls import cacert, ngx
    n = ngx(t)
    evs, _ = run_trace(t, cacert(t) + ["-o", os.devnull, n.url("valid")])
    s = names(evs)
    t.check(s.index("tcp_established") < s.index("tls_start") < s.index("tls_end")
            < s.index("request_head"), "TLS between TCP and the request: %s" % s)
    t.contains([e["detail"] for e in evs if e["ev"] == "tls_start"][0], "SNI localhost",
               "SNI in tls_start")


@test()
def server_closes(t):
    evs, _ = run_trace(t, ["-o", os.devnull, t.hostile.url("/close-after")])
    n = names(evs)
    t.check("pooled" not in n, "not pooled: %s" % n)
    t.check(n.index("fin_received") < n.index("fin_sent") < n.index("closed"),
            "the server's FIN first: %s" % n)
    closed = [e for e in evs if e["ev"] == "closed"][0]
    t.eq(closed["closed_by"], "server", "closed_by")
    t.eq(closed["detail"], "Connection: close", "the reason")


@test()
def written_as_it_happens(t):
    # the server sends a head and then nothing: the lines up to
    # response_head are in the file while hflow still waits
    t.hflow_only("--trace-json")
    path = t.path("live.jsonl")
    cmd = t.client.wrap + [t.client.bin, "-sS", "-o", os.devnull, "-m", "4",
                           "--trace-json", path, t.hostile.url("/stall")]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=t.client.env)
    seen = False
    end = time.monotonic() + 3.0 + t.slack
    while time.monotonic() < end and p.poll() is None:
        if os.path.exists(path):
            with open(path, "rb") as f:
                if b'"ev":"response_head"' in f.read():
                    seen = True
                    break
        time.sleep(0.05)
    running = p.poll() is None
    try:
        p.communicate(timeout=15 + t.slack)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
    t.check(seen and running, "response_head in the file while hflow runs "
            "(seen=%s running=%s)" % (seen, running))
    t.eq(p.returncode, 28, "then the time limit")
    with open(path, "rb") as f:
        evs = parse(t, f.read())
    err = [e for e in evs if e["ev"] == "error"]
    t.check(err and err[0]["value"] == 28, "error event with the code: %r" % err)


@test()
def unwritable_file(t):
    t.hflow_only("--trace-json")
    mark = t.nginx.log_mark()
    r = t.run(["-sS", "--trace-json", "/nonexistent-dir/t.jsonl", t.nginx.url("/0.bin")])
    t.rc(r, 23)
    t.contains(r.err, "/nonexistent-dir/t.jsonl", "the file named in the error")
    t.eq(t.nginx.log_since(mark, 0, timeout=0.3), [], "no request sent")
