"""Redirects (-L): RFC 9110 15.4 methods, RFC 3986 resolution, limits, and
credentials that must not follow to another origin (SECURITY.md A.1-A.3)."""

import json
import os
import re

from harness import test


def _json(t, r):
    try:
        return json.loads(r.out.decode("utf-8", "replace"))
    except ValueError:
        t.check(False, "body is JSON: %r" % r.out[:200])
        return {}


@test(tags=("fast",))
def follow_three_redirects(t):
    hb = t.httpbin
    r = t.run(["-sS", "-L", "-w", "\n%{num_redirects} %{url_effective}",
               hb.url("/redirect/3")])
    t.ok(r)
    last = r.out.decode().rsplit("\n", 1)[-1]
    t.eq(last, "3 " + hb.url("/get"), "num_redirects and url_effective")


@test()
def relative_and_absolute_redirects(t):
    hb = t.httpbin
    for path in ("/relative-redirect/2", "/absolute-redirect/2"):
        r = t.run(["-sS", "-L", "-o", os.devnull, "-w", "%{http_code} %{num_redirects}",
                   hb.url(path)])
        t.ok(r)
        t.eq(r.out, b"200 2", path)


@test(tags=("fast",))
def no_follow_without_L(t):
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}", t.httpbin.url("/redirect/1")])
    t.ok(r)
    t.eq(r.out, b"302", "the redirect itself")


@test(tags=("fast",))
def max_redirs_47(t):
    r = t.run(["-sS", "-L", "--max-redirs", "2", t.httpbin.url("/redirect/3")])
    t.error(r, 47, r"redirect", r"maximum \(2\)", empty_stdout=True,
            curl=[r"[Mm]aximum"])


@test(tags=("fast",))
def post_to_get_on_301_302_303(t):
    hb = t.httpbin
    for code in (301, 302, 303):
        url = hb.url("/redirect-to?url=/anything&status_code=%d" % code)
        r = t.run(["-sS", "-L", "-d", "a=1", url])
        t.ok(r)
        j = _json(t, r)
        t.eq(j.get("method"), "GET", "%d turns POST into GET" % code)
        t.eq(j.get("form"), {}, "%d: no body after the redirect" % code)
        t.check("Content-Length" not in j.get("headers", {}),
                "%d: no Content-Length on the GET" % code)


@test()
def post301_keeps_post(t):
    url = t.httpbin.url("/redirect-to?url=/anything&status_code=302")
    r = t.run(["-sS", "-L", "--post302", "-d", "a=1", url])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "POST", "--post302 keeps POST")
    t.eq(j.get("form"), {"a": "1"}, "and the body")


@test(tags=("fast",))
def keep_method_and_body_on_307_308(t):
    for code in (307, 308):
        url = t.httpbin.url("/redirect-to?url=/anything&status_code=%d" % code)
        r = t.run(["-sS", "-L", "-d", "a=1", url])
        t.ok(r)
        j = _json(t, r)
        t.eq(j.get("method"), "POST", "%d keeps POST" % code)
        t.eq(j.get("form"), {"a": "1"}, "%d keeps the body" % code)


@test()
def streamed_body_cannot_be_resent_65(t):
    if t.is_curl:
        t.skip("hflow's message")
        return
    url = t.httpbin.url("/redirect-to?url=/anything&status_code=307")
    r = t.run(["-sS", "-L", "--data-binary", "@-", url], stdin=b"x" * 100)
    t.error(r, 65, r"rewound|again", empty_stdout=True)


@test(tags=("fast",))
def credentials_not_sent_to_another_port(t):
    h = t.hostile
    h.reset()
    url = t.httpbin.url("/redirect-to?url=%s" % h.url("/echo"))
    r = t.run(["-sS", "-L", "-u", "user:secret", url])
    t.ok(r)
    t.check(b"Authorization" not in r.out, "no Authorization at the other port")
    r = t.run(["-sS", "-L", "-H", "Authorization: Bearer tok", "-H", "Cookie: s=1", url])
    t.ok(r)
    t.check(b"Authorization" not in r.out, "user Authorization stripped")
    t.check(b"Cookie" not in r.out, "user Cookie stripped")
    r = t.run(["-sS", "-L", "--location-trusted", "-u", "user:secret", url])
    t.ok(r)
    t.check(b"Authorization: Basic" in r.out, "--location-trusted sends them")


@test()
def stripped_credentials_stay_stripped(t):
    # A -> B/redir -> B/echo: once dropped at B they are not restored
    h = t.hostile
    h.reset()
    url = t.httpbin.url("/redirect-to?url=%s" % h.url("/redir?to=/echo"))
    r = t.run(["-sS", "-L", "-u", "user:secret", "-H", "Cookie: s=1", url])
    t.ok(r)
    t.check(b"Authorization" not in r.out and b"Cookie" not in r.out,
            "nothing restored on the B->B hop: %r" % r.out[:300])


@test()
def same_origin_keeps_credentials(t):
    url = t.httpbin.url("/redirect-to?url=/headers")
    r = t.run(["-sS", "-L", "-u", "u:p", url])
    t.ok(r)
    t.eq(_json(t, r).get("headers", {}).get("Authorization"), "Basic dTpw",
         "same origin keeps Basic")


@test()
def include_shows_every_head(t):
    r = t.run(["-sS", "-L", "-i", t.httpbin.url("/relative-redirect/2")])
    t.ok(r)
    heads = [l for l in r.out.split(b"\r\n") if l.startswith(b"HTTP/1.1 ")]
    t.eq(len(heads), 3, "three heads with -i -L")


@test()
def each_hop_has_its_own_timings(t):
    if t.is_curl:
        t.skip("hflow's trace")
        return
    tj = t.path("trace.json")
    r = t.run(["-sS", "-L", "-o", os.devnull, "--trace-json", tj,
               "-w", "%{time_redirect} %{time_total}", t.httpbin.url("/redirect/2")])
    t.ok(r)
    with open(tj) as f:
        evs = [json.loads(l) for l in f if l.strip()]
    queued = [e for e in evs if e["ev"] == "queued"]
    t.eq(len(queued), 3, "one transfer per hop")
    t.eq(sorted({e["transfer"] for e in queued}), [0, 1, 2], "transfer numbers")
    tr, tot = (float(x) for x in r.out.split())
    t.check(0 < tr < tot, "time_redirect within time_total: %s %s" % (tr, tot))


@test(tags=("fast",))
def pooled_connection_closed_while_idle_is_replaced(t):
    # the server closes after answering, without saying so: the second GET
    # finds the pooled connection dead and goes out again on a new one
    h = t.hostile
    h.reset()
    r = t.run(["-sS", "-v", "-w", "%{num_connects}\n",
               h.url("/silent-close"), h.url("/silent-close")])
    t.ok(r, quiet=False)
    lines = r.out.split(b"\n")
    t.check(lines[0].startswith(b"silent-close conn=") and
            lines[2].startswith(b"silent-close conn="), "both bodies: %r" % r.out)
    t.eq(sum(int(x) for x in lines[1::2] if x.strip().isdigit()), 2,
         "two connections opened")
    if not t.is_curl:
        t.match(r"retrying on a new connection|closed", r.err,
                "-v says why the connection was not reused")


@test(tags=("fast",))
def server_closing_after_each_response_is_not_raced(t):
    """A server that closes every connection right after its response
    without saying "Connection: close" (tinyproxy does): once it did so,
    hflow stops offering the next request to a connection whose FIN
    is on its way, so no request is sent on a dying connection (no reset,
    no retry: a POST could not be retried at all)."""
    t.hflow_only("pooling verdicts in -v")
    h = t.hostile
    h.reset()
    n = 8
    r = t.run(["-sS", "-v"] + [h.url("/silent-close")] * n)
    t.ok(r, quiet=False)
    bodies = [l for l in r.out.split(b"\n") if l]
    t.eq(len(bodies), n, "every body")
    t.check(all(b.startswith(b"silent-close conn=") and b.endswith(b" req=1")
                for b in bodies), "each on a connection of its own: %r" % bodies)
    retried = len(re.findall(r"retrying on a new connection", r.err))
    t.check(retried <= 1, "at most the first reuse races the server's FIN "
            "(before it was seen closing one): %d retries\n%s" % (retried, r.err[-3000:]))
    left = re.findall(r"left for the server to close \(it closes connections "
                      r"right after their responses: (\d+) in a row\)", r.err)
    t.check(len(left) >= n - 3, "-v says the later connections are left for the "
            "server to close: %d of %d" % (len(left), n))
    t.match(r"New connection: the server closes its connections right after "
            r"each response", r.err, "-v says why no connection was reused")
    st = h.stats()
    t.eq((st["connections"], st["requests"]), (n, n),
         "the server's connections and requests")


@test(tags=("fast",))
def server_that_keeps_connections_again_is_reused(t):
    """The verdict ends when the server keeps a connection open past 50 ms
    after its response: after /silent-close answers, /keepalive ones
    are reused again (starts 100 ms apart with --rate)."""
    t.hflow_only("pooling verdicts")
    h = t.hostile
    h.reset()
    r = t.run(["-sS", "--rate", "10/s"] + [h.url("/silent-close")] * 2 +
              [h.url("/keepalive")] * 3)
    t.ok(r, quiet=False)
    bodies = [l for l in r.out.split(b"\n") if l]
    t.eq(len(bodies), 5, "every body: %r" % bodies)
    t.match(r"^keepalive conn=(\d+) req=3$", bodies[-1].decode(),
            "the three /keepalive requests on one connection: %r" % bodies)


@test(tags=("fast",))
def posts_to_a_server_closing_after_each_response(t):
    """The same with POSTs, which cannot be retried on a new connection
    (RFC 9112 9.3.1): only the second may race the first connection's FIN
    (nothing is known of the server yet); from the third on, none is sent
    on a connection the server is closing."""
    h = t.hostile
    h.reset()
    n = 8
    r = t.run(["-sS", "-d", "hello", "-w", "code=%{http_code}\n"] +
              [h.url("/silent-close")] * n)
    codes = re.findall(r"code=(\d+)", r.out.decode())
    t.eq(len(codes), n, "one -w line per POST: %r" % r.out)
    t.eq(codes[2:], ["200"] * (n - 2), "POSTs 3 to %d: %s" % (n, r.err[-500:]))
    t.check(codes[0] == "200" and codes[1] in ("200", "000"),
            "POSTs 1 and 2: %r" % codes[:2])
