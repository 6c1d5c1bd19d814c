"""Proxies (issue 8; SECURITY.md A.4, A.8, F.35, F.36): HTTP proxies
(absolute-form and CONNECT tunnels), HTTPS proxies, SOCKS5/5h/4/4a, proxy
authentication, the proxy environment variables and no_proxy matching, and
what a hostile proxy must not get away with.

Peers (tests/integration/proxies.py): tinyproxy and microsocks from Debian,
started on 127.0.0.1 with their configuration and logs in the run's temp
dir, and tests/servers/proxy_hostile.py (scripted HTTP, HTTPS and SOCKS
proxies that log what they read, and tunnel only to loopback without any
DNS lookup: every name ending in ".test" is 127.0.0.1 there).  Origins:
the test nginx (http and, for TLS, test_tls.py's nginx with the test CA)
and tests/servers/hostile.py, which captures every request it reads.

Every test passes against `--bin /usr/bin/curl` (7.88.1, Debian 12) unless
it is marked hflow-only; the expected exit codes and messages are curl's."""

import os
import re
import socket

from harness import Hostile, basic, header, split_request, test
from proxies import microsocks, proxy_hostile, tinyproxy
from test_tls import cacert, certs, ngx

PH_AUTH = ("proxyuser", "proxy pass")          # what proxy_hostile.py wants
TP_AUTH = ("tpuser", "tp-secret")              # tinyproxy's BasicAuth
MS_AUTH = ("msuser", "ms-secret")              # microsocks -u/-P


# ---------------------------------------------------------------- helpers


def _curl_version(t):
    if not t.is_curl:
        return None
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", t.client.version)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def _curl_at_least(t, version, what):
    """Skip when the client is a curl older than version (a tuple)."""
    v = _curl_version(t)
    if v is not None and v < version:
        t.skip("curl %s lacks %s (from %s)" % (t.client.version, what,
                                                ".".join(map(str, version))))


def _origin(t):
    """hostile.py (captures every request) and a capture mark."""
    h = t.hostile
    return h, h.reset()


def _origin2(t):
    """A second hostile.py on another port (the other end of a redirect)."""
    h = t.env.server("proxy-origin2", lambda: Hostile(
        os.path.join(t.env.tmp, "proxy-origin2")))
    return h, h.reset()


def _cred(auth):
    return "%s:%s" % auth


def _reqs(caps):
    return [split_request(raw) for _, raw in caps]


def _no_proxy_auth(t, caps, what):
    t.check(bool(caps), "%s: the origin got a request" % what)
    for line, hdrs, _ in _reqs(caps):
        t.eq(header(hdrs, "Proxy-Authorization"), None,
             "%s: Proxy-Authorization reached the origin in %r" % (what, line))


def _head_lines(head):
    return head.split("\r\n")


def _head_header(head, name):
    vals = [l.partition(":")[2].strip() for l in _head_lines(head)[1:]
            if l.lower().startswith(name.lower() + ":")]
    return vals[0] if len(vals) == 1 else (vals or None)


def _resolve(name, port):
    return ["--resolve", "%s:%d:127.0.0.1" % (name, port)]


def long_name(n):
    """A host name of exactly n bytes: labels of at most 63, ending .test."""
    core_len = n - len(".test")
    core = (("a" * 62 + ".") * (core_len // 63 + 1))[:core_len]
    if core.endswith("."):
        core = core[:-1] + "b"
    name = core + ".test"
    assert len(name) == n
    return name


class UdpSink:
    """A UDP socket on loopback that counts what it receives: hflow pointed
    at it with --dns-servers proves it sent no DNS query."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.server = "127.0.0.1:%d" % self.sock.getsockname()[1]

    def received(self):
        n = 0
        while True:
            try:
                self.sock.recv(4096)
                n += 1
            except BlockingIOError:
                return n

    def close(self):
        self.sock.close()


def _no_dns_args(t, sink):
    """hflow: its resolver may only ask the sink and knows no hosts file."""
    if t.is_curl:
        return []
    return ["--dns-servers", sink.server, "--hosts-file", t.write("hosts", b"")]


# ------------------------------------------------------ tinyproxy (real)


@test(tags=("fast",))
def tinyproxy_http_absolute_form(t):
    n = t.nginx
    tp = tinyproxy(t)
    mark, nmark = tp.mark(), n.log_mark()
    r = t.run(["-sS", "-x", tp.url(), "-w", "\n%{http_code} %{http_connect}",
               n.url("/dir/hello.txt")], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello from nginx\n\n200 000", "body, status, no CONNECT")
    t.eq(tp.requests(mark, 1), ["GET %s HTTP/1.1" % n.url("/dir/hello.txt")],
         "tinyproxy read the absolute-form request")
    log = n.log_since(nmark, 1)
    t.eq([e["request"] for e in log], ["GET /dir/hello.txt HTTP/1.1"],
         "nginx got it from the proxy")


@test(tags=("fast",))
def tinyproxy_https_connect_verified(t):
    s = ngx(t)
    port = s.port["valid"]
    tp = tinyproxy(t, ports=(port,))
    mark, smark = tp.mark(), s.log_mark()
    r = t.run(["-sS", "-x", tp.url(), "-w", "\n%{http_code} %{http_connect}"] +
              cacert(t) + [s.url("valid")], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello over tls\n\n200 200", "body through the tunnel, CONNECT 200")
    t.eq(tp.requests(mark, 1), ["CONNECT localhost:%d HTTP/1.1" % port],
         "tinyproxy read one CONNECT for the origin's name")
    log = s.log_since(smark, 1)
    t.eq([(e["sni"], e["request"]) for e in log],
         [("localhost", "GET /hello.txt HTTP/1.1")],
         "TLS with the origin (SNI localhost) inside the tunnel")


@test(tags=("fast",))
def tinyproxy_https_wrong_ca_fails_60(t):
    # the origin's certificate is verified through the tunnel, not skipped
    s = ngx(t)
    tp = tinyproxy(t, ports=(s.port["valid"],))
    r = t.run(["-sS", "-x", tp.url(), s.url("valid")], timeout=15)
    t.error(r, 60, r"certificate", one_line=not t.is_curl, empty_stdout=True)


@test(tags=("fast",))
def tinyproxy_connect_port_refused_403(t):
    # tinyproxy allows CONNECT only to its ConnectPort list: 403 -> exit 56
    s = ngx(t)
    tp = tinyproxy(t, ports=(s.port["valid"],))
    mark = tp.mark()
    r = t.run(["-sS", "-p", "-x", tp.url(), "-w", "%{http_connect}",
               t.nginx.url("/dir/hello.txt")], timeout=15)
    t.error(r, 56, r"\b403\b", curl=[r"CONNECT tunnel failed, response 403"],
            peer=("127.0.0.1", tp.port))
    t.eq(r.out, b"403", "http_connect names the proxy's answer")
    t.eq(tp.requests(mark, 1), ["CONNECT 127.0.0.1:%d HTTP/1.1" % t.nginx.port],
         "the one CONNECT")


@test(tags=("fast",))
def tinyproxy_proxytunnel_http(t):
    n = t.nginx
    tp = tinyproxy(t, ports=(n.port,))
    mark, nmark = tp.mark(), n.log_mark()
    r = t.run(["-sS", "-p", "-x", tp.url(), "-w", "\n%{http_connect}",
               n.url("/dir/hello.txt")], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello from nginx\n\n200", "body through the tunnel")
    t.eq(tp.requests(mark, 1), ["CONNECT 127.0.0.1:%d HTTP/1.1" % n.port],
         "-p: a CONNECT, not an absolute-form GET")
    t.eq([e["request"] for e in n.log_since(nmark, 1)],
         ["GET /dir/hello.txt HTTP/1.1"], "origin-form request inside the tunnel")


@test(tags=("fast",))
def tinyproxy_basic_auth_right(t):
    n, s = t.nginx, ngx(t)
    tp = tinyproxy(t, auth=TP_AUTH, ports=(n.port, s.port["valid"]))
    for how, args in (("-U", ["-x", tp.url(), "-U", _cred(TP_AUTH)]),
                      ("userinfo", ["-x", tp.url(auth=TP_AUTH)])):
        r = t.run(["-sS"] + args + [n.url("/dir/hello.txt")], timeout=15)
        t.ok(r)
        t.eq(r.out, b"hello from nginx\n", "http via authenticated proxy (%s)" % how)
        r = t.run(["-sS", "-p"] + args + [n.url("/dir/hello.txt")], timeout=15)
        t.ok(r)
        t.eq(r.out, b"hello from nginx\n", "-p via authenticated proxy (%s)" % how)
        r = t.run(["-sS"] + args + cacert(t) + [s.url("valid")], timeout=15)
        t.ok(r)
        t.eq(r.out, b"hello over tls\n", "https via authenticated proxy (%s)" % how)


@test(tags=("fast",))
def tinyproxy_basic_auth_wrong_407(t):
    n, s = t.nginx, ngx(t)
    tp = tinyproxy(t, auth=TP_AUTH, ports=(n.port, s.port["valid"]))
    # tinyproxy 1.11 answers 407 without credentials and 401 to wrong ones
    for what, args, code in (("wrong password", ["-U", "tpuser:nope"], 401),
                             ("none", [], 407)):
        # CONNECT answered non-2xx: exit 56, nothing on stdout
        r = t.run(["-sS", "-x", tp.url(), "-w", "%{http_connect}"] + args +
                  cacert(t) + [s.url("valid")], timeout=15)
        t.error(r, 56, r"\b%d\b" % code,
                curl=[r"CONNECT tunnel failed, response %d" % code],
                peer=("127.0.0.1", tp.port))
        t.eq(r.out, b"%d" % code, "https, %s: http_connect" % what)
        # absolute-form: the proxy's answer is the response (curl: exit 0,
        # or 22 with -f)
        r = t.run(["-sS", "-o", os.devnull, "-x", tp.url(), "-w", "%{http_code}"] +
                  args + [n.url("/dir/hello.txt")], timeout=15)
        t.ok(r)
        t.eq(r.out, b"%d" % code, "http, %s: the proxy's answer is the response" % what)
        r = t.run(["-sS", "-f", "-x", tp.url()] + args + [n.url("/dir/hello.txt")],
                  timeout=15)
        t.error(r, 22, r"\b%d\b" % code, empty_stdout=True)


# ----------------------------------------------------- microsocks (real)


@test(tags=("fast",))
def microsocks_socks5_resolves_locally(t):
    n = t.nginx
    ms = microsocks(t)
    mark = ms.mark()
    r = t.run(["-sS", "-x", ms.url("socks5")] + _resolve("origin.test", n.port) +
              ["http://origin.test:%d/dir/hello.txt" % n.port], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello from nginx\n", "body through SOCKS5")
    t.eq(ms.connects(mark, 1), ["127.0.0.1:%d" % n.port],
         "socks5://: the client resolved the name and sent the address")


@test(tags=("fast",))
def microsocks_socks5h_sends_name(t):
    n = t.nginx
    ms = microsocks(t)
    mark = ms.mark()
    r = t.run(["-sS", "-x", ms.url("socks5h"),
               "http://localhost:%d/dir/hello.txt" % n.port], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello from nginx\n", "body through SOCKS5")
    t.eq(ms.connects(mark, 1), ["localhost:%d" % n.port],
         "socks5h://: the proxy got the name")


@test(tags=("fast",))
def microsocks_https_through_socks5h(t):
    s = ngx(t)
    ms = microsocks(t)
    mark = ms.mark()
    r = t.run(["-sS", "-x", ms.url("socks5h")] + cacert(t) + [s.url("valid")],
              timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "verified TLS through SOCKS5")
    t.eq(ms.connects(mark, 1), ["localhost:%d" % s.port["valid"]], "target")


@test(tags=("fast",))
def microsocks_user_password(t):
    n = t.nginx
    ms = microsocks(t, auth=MS_AUTH)
    url = "http://localhost:%d/dir/hello.txt" % n.port
    mark = ms.mark()
    for args in (["-x", ms.url(), "-U", _cred(MS_AUTH)], ["-x", ms.url(auth=MS_AUTH)]):
        r = t.run(["-sS"] + args + [url], timeout=15)
        t.ok(r)
        t.eq(r.out, b"hello from nginx\n", "body with %s" % " ".join(args))
    t.eq(len(ms.connects(mark, 2)), 2, "two authenticated tunnels")
    mark = ms.mark()
    r = t.run(["-sS", "-x", ms.url(), "-U", "msuser:wrong", url], timeout=15)
    t.error(r, 97, r"SOCKS", curl=[r"User was rejected by the SOCKS5 server"],
            empty_stdout=True)
    r = t.run(["-sS", "-x", ms.url(), url], timeout=15)
    t.error(r, 97, r"SOCKS", curl=[r"No authentication method was acceptable"],
            empty_stdout=True)
    t.eq(ms.connects(mark), [], "no tunnel without the right credentials")


@test(tags=("fast",))
def preproxy_socks_then_http(t):
    # --preproxy: SOCKS5 (microsocks) to the HTTP proxy (tinyproxy), then
    # a CONNECT through both to the TLS origin
    s = ngx(t)
    ms = microsocks(t)
    tp = tinyproxy(t, ports=(s.port["valid"],))
    mmark, tmark = ms.mark(), tp.mark()
    r = t.run(["-sS", "--preproxy", ms.url("socks5"), "-x", tp.url()] + cacert(t) +
              [s.url("valid")], timeout=15)
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body through two proxies")
    t.eq(ms.connects(mmark, 1), [tp.hostport], "the SOCKS hop reached tinyproxy")
    t.eq(tp.requests(tmark, 1), ["CONNECT localhost:%d HTTP/1.1" % s.port["valid"]],
         "the HTTP hop tunnelled to the origin")


# ------------------------------------------- CONNECT answers a client refuses


@test(tags=("fast",))
def connect_refused_403_407_502(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    for code in (403, 407, 502):
        mode = "http-%d" % code
        mark = ph.mark()
        r = t.run(["-sS", "-p", "-x", ph.url(mode), "-w", "%{http_connect}",
                   h.url("/echo")], timeout=10)
        t.error(r, 56, r"\b%d\b" % code,
                curl=[r"CONNECT tunnel failed, response %d" % code],
                peer=("127.0.0.1", ph.port[mode]))
        t.eq(r.out, b"%d" % code, "%d: http_connect, and no body on stdout" % code)
        heads = ph.heads(mark, mode, 1)
        t.eq([_head_lines(x)[0] for x in heads],
             ["CONNECT 127.0.0.1:%d HTTP/1.1" % h.port], "%d: one CONNECT" % code)
    # the same with an https URL (CONNECT is implied)
    s = ngx(t)
    r = t.run(["-sS", "-x", ph.url("http-502")] + cacert(t) + [s.url("valid")],
              timeout=10)
    t.error(r, 56, r"\b502\b", curl=[r"response 502"], empty_stdout=True,
            peer=("127.0.0.1", ph.port["http-502"]))
    # -U does not help against a proxy that always says 407
    r = t.run(["-sS", "-p", "-U", "a:b", "-x", ph.url("http-407"), h.url("/echo")],
              timeout=10)
    t.error(r, 56, r"\b407\b", curl=[r"response 407"], empty_stdout=True)


@test(tags=("fast",))
def absolute_form_403_is_the_response(t):
    # without a tunnel the proxy's answer is the response, body and all
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    r = t.run(["-sS", "-x", ph.url("http-403"), "-w", "|%{http_code}",
               h.url("/echo")], timeout=10)
    t.ok(r)
    t.eq(r.out, b"proxy_hostile says 403 to GET %s\n|403" % h.url("/echo").encode(),
         "the proxy's body and status")


@test(tags=("fast",))
def connect_closed_mid_head(t):
    ph = proxy_hostile(t)
    h, mark0 = _origin(t)
    r = t.run(["-sS", "-p", "-x", ph.url("http-midhead"), h.url("/echo")], timeout=10)
    t.error(r, 56, curl=[r"Proxy CONNECT aborted"], empty_stdout=True,
            peer=("127.0.0.1", ph.port["http-midhead"]))
    t.eq(h.captures(mark0), [], "nothing reached the origin")


@test(tags=("fast",))
def connect_oversized_head(t):
    # a 200 whose head is over 300 KiB: refused (curl: "Too large response
    # headers"), even though the tunnel would work
    ph = proxy_hostile(t)
    h, mark0 = _origin(t)
    r = t.run(["-sS", "-p", "-x", ph.url("http-bighead"), h.url("/echo")], timeout=10)
    t.error(r, 56, r"head|large|big", curl=[r"Too large response headers"],
            empty_stdout=True, peer=("127.0.0.1", ph.port["http-bighead"]))
    t.eq(h.captures(mark0), [], "no request through an oversized CONNECT answer")


# -------------------------------------- what goes to the proxy, what does not


@test(tags=("fast",))
def connect_carries_proxy_auth_and_proxy_headers_only(t):
    # SECURITY.md A.8: -H headers never go into CONNECT; --proxy-header and
    # Proxy-Authorization never reach the origin
    ph = proxy_hostile(t)
    h, cmark = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-p", "-x", ph.url("http-auth"), "-U", _cred(PH_AUTH),
               "-H", "X-Secret: for-the-origin", "--proxy-header",
               "X-Proxy-Only: for-the-proxy", h.url("/echo")], timeout=10)
    t.ok(r)
    heads = ph.heads(mark, "http-auth", 1)
    t.require(len(heads) == 1, "one head at the proxy: %r" % heads)
    connect = heads[0]
    t.eq(_head_lines(connect)[0], "CONNECT 127.0.0.1:%d HTTP/1.1" % h.port,
         "request line")
    t.eq(_head_header(connect, "Proxy-Authorization"), basic(*PH_AUTH),
         "Proxy-Authorization on CONNECT")
    t.eq(_head_header(connect, "X-Proxy-Only"), "for-the-proxy", "--proxy-header")
    t.eq(_head_header(connect, "X-Secret"), None, "-H header in CONNECT")
    t.eq(_head_header(connect, "Host"), "127.0.0.1:%d" % h.port, "CONNECT Host")
    caps = h.captures(cmark, 1)
    t.require(len(caps) == 1, "one request at the origin")
    line, hdrs, _ = _reqs(caps)[0]
    t.eq(line, "GET /echo HTTP/1.1", "origin-form in the tunnel")
    t.eq(header(hdrs, "X-Secret"), "for-the-origin", "-H reaches the origin")
    t.eq(header(hdrs, "X-Proxy-Only"), None, "--proxy-header at the origin")
    _no_proxy_auth(t, caps, "tunnel")
    # the same for an https URL (CONNECT without -p)
    s = ngx(t)
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("http-auth"), "-U", _cred(PH_AUTH),
               "-H", "X-Secret: for-the-origin", "--proxy-header",
               "X-Proxy-Only: for-the-proxy"] + cacert(t) + [s.url("valid")],
              timeout=10)
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "https body")
    heads = ph.heads(mark, "http-auth", 1)
    t.eq([(_head_lines(x)[0], _head_header(x, "Proxy-Authorization"),
           _head_header(x, "X-Proxy-Only"), _head_header(x, "X-Secret"))
          for x in heads],
         [("CONNECT localhost:%d HTTP/1.1" % s.port["valid"], basic(*PH_AUTH),
           "for-the-proxy", None)], "https: CONNECT head")


@test(tags=("fast",))
def connect_without_credentials_407(t):
    ph = proxy_hostile(t)
    h, cmark = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-p", "-x", ph.url("http-auth"), h.url("/echo")], timeout=10)
    t.error(r, 56, r"\b407\b", curl=[r"response 407"], empty_stdout=True,
            peer=("127.0.0.1", ph.port["http-auth"]))
    heads = ph.heads(mark, "http-auth", 1)
    t.eq([_head_header(x, "Proxy-Authorization") for x in heads], [None],
         "no credentials were sent")
    t.eq(h.captures(cmark), [], "nothing reached the origin")


@test(tags=("fast",))
def proxy_digest_on_connect(t):
    # --proxy-digest: a CONNECT without credentials, the 407 challenge, then
    # the CONNECT with Digest (RFC 7616) on the same proxy
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-p", "--proxy-digest", "-U", _cred(PH_AUTH),
               "-x", ph.url("http-digest"), h.url("/echo")], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "the origin's echo")
    auths = ph.events(mark, "http-digest", "auth", 2)
    t.eq([a["ok"] for a in auths], [False, True], "challenge, then accepted")
    t.match(r'^Digest .*uri="127\.0\.0\.1:%d"' % h.port, auths[-1].get("got") or "",
            "Digest for the CONNECT target")
    r = t.run(["-sS", "-p", "--proxy-digest", "-U", "proxyuser:wrong",
               "-x", ph.url("http-digest"), h.url("/echo")], timeout=10)
    t.error(r, 56, r"\b407\b", curl=[r"response 407"], empty_stdout=True)


@test()
def proxy_digest_absolute_form(t):
    # --proxy-digest without a tunnel: the proxy's 407 to the absolute-form
    # request is answered once with Digest for the path (as curl)
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "--proxy-digest", "-U", _cred(PH_AUTH),
               "-x", ph.url("http-digest"), h.url("/echo")], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "the origin's echo")
    t.check(b"proxy-authorization" not in r.out.lower(),
            "the origin never sees Proxy-Authorization")
    auths = ph.events(mark, "http-digest", "auth", 2)
    t.eq([a["ok"] for a in auths], [False, True], "challenge, then accepted")
    t.match(r'^Digest .*uri="/echo"', auths[-1].get("got") or "",
            "Digest for the request's path")


@test()
def proxy_digest_absolute_form_url_credentials(t):
    # the same with the credentials in the proxy's URL instead of -U
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "--proxy-digest", "-x", ph.url("http-digest", auth=PH_AUTH),
               h.url("/echo")], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "the origin's echo")
    auths = ph.events(mark, "http-digest", "auth", 2)
    t.eq([a["ok"] for a in auths], [False, True], "challenge, then accepted")
    t.match(r'^Digest .*uri="/echo"', auths[-1].get("got") or "",
            "Digest for the request's path")


@test(tags=("fast",))
def proxy_basic_explicit(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-p", "--proxy-basic", "-U", _cred(PH_AUTH),
               "-x", ph.url("http-auth"), h.url("/echo")], timeout=10)
    t.ok(r)
    t.eq([a["ok"] for a in ph.events(mark, "http-auth", "auth", 1)], [True],
         "--proxy-basic: credentials on the first CONNECT")


@test(tags=("fast",))
def proxy_auth_not_at_origin_across_redirect_tunnel(t):
    # SECURITY.md A.4: -L from one origin to another port, both through the
    # tunnelling proxy: both CONNECTs carry Proxy-Authorization, neither
    # origin ever sees it
    ph = proxy_hostile(t)
    h1, m1 = _origin(t)
    h2, m2 = _origin2(t)
    mark = ph.mark()
    r = t.run(["-sS", "-L", "-p", "-x", ph.url("http-auth"), "-U", _cred(PH_AUTH),
               h1.url("/redir?to=%s" % h2.url("/echo"))], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "followed to the second origin")
    heads = ph.heads(mark, "http-auth", 2)
    t.eq([_head_lines(x)[0] for x in heads],
         ["CONNECT 127.0.0.1:%d HTTP/1.1" % h1.port,
          "CONNECT 127.0.0.1:%d HTTP/1.1" % h2.port], "a tunnel per origin")
    t.eq([_head_header(x, "Proxy-Authorization") for x in heads],
         [basic(*PH_AUTH)] * 2, "each CONNECT authenticated")
    _no_proxy_auth(t, h1.captures(m1, 1), "first origin")
    _no_proxy_auth(t, h2.captures(m2, 1), "second origin")


@test(tags=("fast",))
def proxy_auth_not_sent_direct_after_redirect(t):
    # A.4: a redirect to a host that --noproxy exempts goes direct, and the
    # proxy's credentials do not go with it
    ph = proxy_hostile(t)
    h1, m1 = _origin(t)
    h2, m2 = _origin2(t)
    mark = ph.mark()
    target = "http://direct.test:%d/echo" % h2.port
    r = t.run(["-sS", "-L", "-x", ph.url("http-auth"), "-U", _cred(PH_AUTH),
               "--noproxy", "direct.test"] + _resolve("direct.test", h2.port) +
              [h1.url("/redir?to=" + target)], timeout=10)
    t.ok(r)
    heads = ph.heads(mark, "http-auth", 1)
    t.eq([_head_lines(x)[0] for x in heads],
         ["GET %s HTTP/1.1" % h1.url("/redir?to=" + target)],
         "only the first request went through the proxy")
    caps = h2.captures(m2, 1)
    t.eq([line for line, _, _ in _reqs(caps)], ["GET /echo HTTP/1.1"],
         "the second origin was asked directly")
    _no_proxy_auth(t, caps, "direct origin")


@test(tags=("fast",))
def pool_key_includes_proxy_and_credentials(t):
    # SECURITY.md B.12 and issue 8: a pooled connection is reused only for
    # the same proxy chain with the same credentials
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    po, ps = ph.url("http-open"), ph.url("socks5-slow")
    url = h.url("/keepalive")

    def conns(first, second, mode):
        mark = ph.mark()
        r = t.run(["-sS"] + first + [url, "--next", "-sS"] + second + [url],
                  timeout=15)
        t.ok(r)
        bodies = re.findall(rb"conn=(\d+) req=(\d+)", r.out)
        t.eq(len(bodies), 2, "two answers with %s / %s" % (first, second))
        return len(ph.events(mark, mode, "accept")), len({c for c, _ in bodies})

    t.eq(conns(["-p", "-x", po, "-U", "a:b"], ["-p", "-x", po, "-U", "a:b"],
               "http-open"), (1, 1), "same tunnel, same credentials: reused")
    t.eq(conns(["-p", "-x", po], ["--noproxy", "*"], "http-open"), (1, 2),
         "through the proxy, then direct: two origin connections")
    t.eq(conns(["-x", ps], ["-x", ps, "-U", "x:y"], "socks5-slow"), (2, 2),
         "SOCKS without, then with credentials: two connections")
    if t.is_curl:
        return      # curl 7.88.1 reuses a CONNECT tunnel across credentials
    t.eq(conns(["-p", "-x", po, "-U", "a:b"], ["-p", "-x", po, "-U", "a:B"],
               "http-open"), (2, 2), "credentials differing in case: two tunnels")
    t.eq(conns(["-p", "-x", po, "-U", "a:b"], ["-p", "-x", po], "http-open"), (2, 2),
         "credentials, then none: two tunnels")


# ------------------------------------------------------------ HTTPS proxy


@test(tags=("fast",))
def https_proxy_verified(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    s = ngx(t)
    ca = certs(t).path("ca.crt")
    purl = "https://localhost:%d" % ph.port["https-open"]
    mark = ph.mark()
    r = t.run(["-sS", "-x", purl, "--proxy-cacert", ca, "-w", "|%{http_connect}",
               h.url("/echo")], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n.*\|000$", r.text,
            "the origin's echo, no CONNECT", flags=re.S)
    heads = ph.heads(mark, "http-open", 1)
    t.eq([_head_lines(x)[0] for x in heads], ["GET %s HTTP/1.1" % h.url("/echo")],
         "absolute-form over TLS to the proxy")
    # https origin through the https proxy: TLS inside TLS, both verified
    r = t.run(["-sS", "-x", purl, "--proxy-cacert", ca, "-w", "|%{http_connect}"] +
              cacert(t) + [s.url("valid")], timeout=10)
    t.ok(r)
    t.eq(r.out, b"hello over tls\n|200", "https through an https proxy")


@test(tags=("fast",))
def https_proxy_unverified_60_and_insecure(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    purl = "https://localhost:%d" % ph.port["https-open"]
    r = t.run(["-sS", "-x", purl, h.url("/echo")], timeout=10)
    t.error(r, 60, r"certificate", one_line=not t.is_curl, empty_stdout=True)
    r = t.run(["-sS", "-x", purl, "--proxy-insecure", h.url("/echo")], timeout=10)
    t.ok(r)
    t.match(r"^GET ", r.text, "--proxy-insecure skips the proxy's check only")


# ------------------------------------------------------------------ SOCKS


@test(tags=("fast",))
def socks5h_slow_proxy_gets_the_name_no_dns(t):
    # one byte at a time from the proxy; the name goes to the proxy (ATYP 3)
    # and hflow asks no DNS server (its resolver may only ask the sink)
    ph = proxy_hostile(t)
    h, cmark = _origin(t)
    sink = UdpSink()
    try:
        mark = ph.mark()
        r = t.run(["-sS", "-x", ph.url("socks5-slow")] + _no_dns_args(t, sink) +
                  ["http://proxied.test:%d/echo" % h.port], timeout=15)
        t.ok(r)
        t.match(r"^GET /echo HTTP/1.1\r\nHost: proxied\.test:%d\r\n" % h.port,
                r.text, "the origin's echo")
        reqs = ph.events(mark, "socks5-slow", "socks5-request", 1)
        t.eq([(e["cmd"], e["atyp"], e["host"], e["port"]) for e in reqs],
             [(1, 3, "proxied.test", h.port)], "CONNECT by name (ATYP 3)")
        if not t.is_curl:
            t.eq(sink.received(), 0, "DNS queries sent")
    finally:
        sink.close()


@test(tags=("fast",))
def socks5_slow_proxy_local_resolve_sends_address(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks5-slow", "socks5")] +
              _resolve("local.test", h.port) + ["http://local.test:%d/echo" % h.port],
              timeout=15)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "the origin's echo")
    reqs = ph.events(mark, "socks5-slow", "socks5-request", 1)
    t.eq([(e["atyp"], e["host"], e["port"]) for e in reqs],
         [(1, "127.0.0.1", h.port)], "socks5://: an IPv4 address (ATYP 1)")


@test(tags=("fast",))
def socks5_user_password_rfc1929(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks5-auth"), "-U", _cred(PH_AUTH),
               "http://proxied.test:%d/echo" % h.port], timeout=15)
    t.ok(r)
    greet = ph.events(mark, "socks5-auth", "socks5-greeting", 1)
    t.check(greet and 2 in greet[0]["methods"],
            "user/password offered in the greeting: %r" % greet)
    auth = ph.events(mark, "socks5-auth", "socks5-auth", 1)
    t.eq([(a["ver"], a["user"], a["password"], a["ok"]) for a in auth],
         [(1, PH_AUTH[0], PH_AUTH[1], True)], "RFC 1929 sub-negotiation")
    r = t.run(["-sS", "-x", ph.url("socks5-auth"), "-U", "proxyuser:bad",
               "http://proxied.test:%d/echo" % h.port], timeout=15)
    t.error(r, 97, r"SOCKS", curl=[r"User was rejected by the SOCKS5 server"],
            empty_stdout=True, peer=("127.0.0.1", ph.port["socks5-auth"]))
    r = t.run(["-sS", "-x", ph.url("socks5-auth"),
               "http://proxied.test:%d/echo" % h.port], timeout=15)
    t.error(r, 97, r"SOCKS", curl=[r"No authentication method was acceptable"],
            empty_stdout=True)


@test(tags=("fast",))
def socks5h_hostname_over_255_refused_before_sending(t):
    # SECURITY.md F.35 (CVE-2023-38545): a name over 255 bytes cannot be
    # sent; refused before any byte goes to the (slow) proxy, never cut
    ph = proxy_hostile(t)
    h, cmark = _origin(t)
    for n in (256, 300):
        name = long_name(n)
        mark = ph.mark()
        r = t.run(["-sS", "-x", ph.url("socks5-slow"),
                   "http://%s:%d/echo" % (name, h.port)], timeout=15)
        t.error(r, 97, r"long|255", empty_stdout=True,
                curl=[r"hostname is too long"])
        evs = ph.events(mark, "socks5-slow")
        t.eq([e for e in evs if e["kind"] != "accept" and
              not (e["kind"] == "close" and e["received"] == 0)], [],
             "%d-byte name: the proxy received nothing" % n)
    # a 255-byte name is fine
    name = long_name(255)
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks5-slow"),
               "http://%s:%d/echo" % (name, h.port)], timeout=15)
    t.ok(r)
    reqs = ph.events(mark, "socks5-slow", "socks5-request", 1)
    t.eq([(e["atyp"], e["host"]) for e in reqs], [(3, name)], "255 bytes sent whole")
    t.eq(len(h.captures(cmark, 1)), 1, "the origin got the request")


@test()
def socks5h_hostname_65k_refused(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    name = ".".join(["c" * 60] * 1000) + ".test"      # 61004 bytes
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks5-slow"),
               "http://%s:%d/echo" % (name, h.port)], timeout=15)
    # curl: 97; a client may also refuse such a URL outright (3)
    t.rc(r, (97, 3) if not t.is_curl else 97)
    t.eq(r.out, b"", "stdout")
    t.eq(ph.events(mark, "socks5-slow", "socks5-request"), [],
         "no SOCKS5 request with a truncated name")


@test(tags=("fast",))
def socks5_user_or_password_over_255_refused(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    long = "u" * 256
    url = "http://proxied.test:%d/echo" % h.port
    for what, cred, pat in (("user", long + ":pw", r"user ?name"),
                            ("password", "user:" + long, r"password")):
        mark = ph.mark()
        r = t.run(["-sS", "-x", ph.url("socks5-slow"), "-U", cred, url], timeout=15)
        t.error(r, 97, r"long|255|%s" % pat, empty_stdout=True,
                curl=[r"Excessive %s length for proxy auth" % pat.replace(" ?", " ")])
        t.eq(ph.events(mark, "socks5-slow", "socks5-auth"), [],
             "%s over 255 bytes: no sub-negotiation sent" % what)
        t.eq(ph.events(mark, "socks5-slow", "socks5-request"), [], "no request")
    # 255 bytes each is the limit, and works
    mark = ph.mark()
    u255 = "u" * 255
    r = t.run(["-sS", "-x", ph.url("socks5-slow"), "-U", u255 + ":" + u255, url],
              timeout=15)
    t.ok(r)
    auth = ph.events(mark, "socks5-slow", "socks5-auth", 1)
    t.eq([(a["user"], a["password"]) for a in auth], [(u255, u255)], "255 bytes whole")


@test(tags=("fast",))
def socks5_reply_codes_97(t):
    ph = proxy_hostile(t)
    h, cmark = _origin(t)
    for rep in range(1, 9):
        mode = "socks5-rep%d" % rep
        r = t.run(["-sS", "-x", ph.url(mode), "http://proxied.test:%d/echo" % h.port],
                  timeout=10)
        t.error(r, 97, r"\b%d\b" % rep, empty_stdout=True,
                curl=[r"Can't complete SOCKS5 connection to proxied\.test\. \(%d\)" % rep],
                peer=("127.0.0.1", ph.port[mode]))
    t.eq(h.captures(cmark), [], "nothing reached the origin")


@test(tags=("fast",))
def socks5_closed_early_97(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    for mode in ("socks5-close", "socks5-close-reply"):
        for scheme in ("socks5h", "socks5"):
            r = t.run(["-sS", "-x", ph.url(mode, scheme),
                       "http://127.0.0.1:%d/echo" % h.port], timeout=10)
            t.error(r, 97, r"SOCKS|proxy", empty_stdout=True,
                    curl=[r"connection to proxy closed"],
                    peer=("127.0.0.1", ph.port[mode]))


@test(tags=("fast",))
def socks4a_sends_name_socks4_address(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks4", "socks4a"),
               "http://proxied.test:%d/echo" % h.port], timeout=10)
    t.ok(r)
    t.match(r"^GET /echo HTTP/1.1\r\n", r.text, "the origin's echo (SOCKS4a)")
    reqs = ph.events(mark, "socks4", "socks4-request", 1)
    t.eq([(e["vn"], e["cd"], e["ip"], e["name"], e["port"]) for e in reqs],
         [(4, 1, "0.0.0.1", "proxied.test", h.port)], "SOCKS4a: 0.0.0.x and the name")
    mark = ph.mark()
    r = t.run(["-sS", "-x", ph.url("socks4", "socks4"),
               "http://127.0.0.1:%d/echo" % h.port], timeout=10)
    t.ok(r)
    reqs = ph.events(mark, "socks4", "socks4-request", 1)
    t.eq([(e["ip"], e["name"]) for e in reqs], [("127.0.0.1", None)],
         "SOCKS4: the address")
    # a name the proxy cannot reach: request rejected (0x5B)
    r = t.run(["-sS", "-x", ph.url("socks4", "socks4a"),
               "http://nowhere.invalid:%d/echo" % h.port], timeout=10)
    t.error(r, 97, r"SOCKS4", empty_stdout=True, curl=[r"SOCKS4.*\(91\)"])


# -------------------------------------------------- no_proxy and the env


# (URL host, no_proxy list, goes direct?) -- curl 7.88.1's answers
NOPROXY_TABLE = [
    ("a.test", "a.test", True),
    ("www.a.test", "a.test", True),             # suffix at a label boundary
    ("nota.test", "a.test", False),             # not at a label boundary
    ("www.a.test", ".a.test", True),
    ("a.test", ".a.test", True),                # a leading dot: the domain too
    ("b.test", "a.test", False),
    ("b.test", "*", True),                      # "*" alone: everything
    ("b.test", "x.test,*", False),              # "*" only counts alone
    ("b.test", "a.test, b.test", True),         # list with spaces
    ("b.test", "a.test,b.test", True),
    ("B.TEST", "b.test", True),                 # case-insensitive
    ("b.test", "B.TEST", True),
    ("a.test.", "a.test", True),                # trailing dot in the host
    ("a.test", "a.test.", True),                # trailing dot in the list
    ("www.a.test", "*.a.test", False),          # no globbing
    ("a.test", "", False),                      # empty list: proxy
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "127.0.0.0/8", True),         # CIDR
    ("127.0.0.1", "127.0.0.1/32", True),
    ("127.0.0.1", "127.0.0.2", False),
    ("127.0.0.1", "10.0.0.0/8", False),
    ("127.0.0.1", "localhost", False),          # names are not resolved
]


def _noproxy_row(t, ph, h, host, args, env=None):
    """Run one GET of http://host:PORT/echo; returns (direct?, result)."""
    mark, cmark = ph.mark(), h.mark()
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}"] + args +
              _resolve(host.lower(), h.port) +
              ["http://%s:%d/echo" % (host, h.port)], timeout=10, env=env)
    proxied = len(ph.heads(mark, "http-open"))
    direct = len(h.captures(cmark, 1 if r.rc == 0 else 0))
    return proxied, direct, r


@test(tags=("fast",))
def noproxy_table(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    for host, np, want_direct in NOPROXY_TABLE:
        proxied, direct, r = _noproxy_row(t, ph, h, host,
                                          ["-x", ph.url("http-open"), "--noproxy", np])
        what = "--noproxy %r, host %s" % (np, host)
        t.check(r.rc == 0 and r.out == b"200", "%s: %s" % (what, r.brief()))
        t.eq((proxied, direct), (0, 1) if want_direct else (1, 1),
             "%s: (requests at the proxy, requests at the origin)" % what)


@test(tags=("fast",))
def noproxy_env_table(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    px = ph.url("http-open")
    rows = [
        ({"http_proxy": px, "NO_PROXY": "a.test"}, [], "a.test", True),
        ({"http_proxy": px, "no_proxy": "a.test"}, [], "a.test", True),
        ({"http_proxy": px, "no_proxy": ".a.test"}, [], "www.a.test", True),
        ({"http_proxy": px, "no_proxy": "127.0.0.0/8"}, [], "127.0.0.1", True),
        ({"http_proxy": px, "NO_PROXY": "*"}, [], "b.test", True),
        ({"http_proxy": px, "NO_PROXY": "a.test"}, [], "b.test", False),
        # no_proxy (lower case) wins over NO_PROXY
        ({"http_proxy": px, "no_proxy": "x.test", "NO_PROXY": "a.test"}, [],
         "a.test", False),
        # --noproxy replaces the environment's list
        ({"http_proxy": px, "NO_PROXY": "a.test"}, ["--noproxy", ""], "a.test", False),
        ({"http_proxy": px}, ["--noproxy", "a.test"], "a.test", True),
        # no_proxy also exempts from -x
        ({"no_proxy": "a.test"}, ["-x", px], "a.test", True),
    ]
    for env, args, host, want_direct in rows:
        proxied, direct, r = _noproxy_row(t, ph, h, host, args, env=env)
        what = "%s %s, host %s" % (env, args, host)
        t.check(r.rc == 0 and r.out == b"200", "%s: %s" % (what, r.brief()))
        t.eq((proxied, direct), (0, 1) if want_direct else (1, 1),
             "%s: (requests at the proxy, requests at the origin)" % what)


@test(tags=("fast",))
def env_proxy_variables(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    s = ngx(t)
    tp = tinyproxy(t, ports=(s.port["valid"],))
    px, other = ph.url("http-open"), ph.url("http-403")
    url = h.url("/echo")
    # (environment, expected: "open" via http-open, "direct", "403" via http-403)
    rows = [
        ({"http_proxy": px}, "open"),
        ({"HTTP_PROXY": px}, "direct"),         # upper case ignored (CGI)
        ({"ALL_PROXY": px}, "open"),
        ({"all_proxy": px}, "open"),
        ({"all_proxy": other, "http_proxy": px}, "open"),   # the scheme's wins
        ({"https_proxy": other, "HTTPS_PROXY": other, "http_proxy": px}, "open"),
        ({"HTTPS_PROXY": px}, "direct"),        # only for https URLs
    ]
    for env, want in rows:
        mark, cmark = ph.mark(), h.mark()
        r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}", url],
                  timeout=10, env=env)
        got_open = len(ph.heads(mark, "http-open"))
        got_403 = len(ph.heads(mark, "http-403"))
        direct = len(h.captures(cmark))
        t.rc(r, 0, "%s" % env)
        t.eq((got_open, got_403, r.out),
             {"open": (1, 0, b"200"), "direct": (0, 0, b"200"),
              "403": (0, 1, b"403")}[want], "%s: (via http-open, via http-403, status)"
             % env)
        t.eq(direct, 1, "%s: one request at the origin" % env)
    # -x beats the environment; -x "" turns the environment's proxy off
    mark = ph.mark()
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}", "-x", other, url],
              timeout=10, env={"http_proxy": px})
    t.eq((r.out, len(ph.heads(mark, "http-open"))), (b"403", 0), "-x over http_proxy")
    mark = ph.mark()
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}", "-x", "", url],
              timeout=10, env={"http_proxy": px})
    t.eq((r.out, len(ph.events(mark, kind="head"))), (b"200", 0),
         '-x "" disables http_proxy')
    # https URLs: https_proxy and HTTPS_PROXY (CONNECT through tinyproxy)
    for var in ("https_proxy", "HTTPS_PROXY"):
        tmark = tp.mark()
        r = t.run(["-sS"] + cacert(t) + [s.url("valid")], timeout=15,
                  env={var: tp.url(), "http_proxy": other})
        t.ok(r)
        t.eq(r.out, b"hello over tls\n", "%s: body" % var)
        t.eq(tp.requests(tmark, 1), ["CONNECT localhost:%d HTTP/1.1" % s.port["valid"]],
             "%s used for the https URL" % var)


# ------------------------------------------------------- names and errors


@test(tags=("fast",))
def proxy_name_unresolvable_5(t):
    # a 64-byte label cannot be resolved (RFC 1035 2.3.4: labels of 63 at
    # most), so no DNS server is asked: exit 5, naming the proxy
    # (hflow's resolver is pointed at a sink: a query would show there)
    h, cmark = _origin(t)
    name = "p" * 64 + ".invalid"
    sink = UdpSink()
    try:
        r = t.run(["-sS", "-x", "http://%s:3128" % name] + _no_dns_args(t, sink) +
                  [h.url("/echo")], timeout=15)
        t.error(r, 5, re.escape(name), empty_stdout=True,
                curl=[r"Could not resolve proxy: %s" % re.escape(name)])
        t.eq(h.captures(cmark), [], "no request went direct instead")
        if not t.is_curl:
            t.eq(sink.received(), 0, "DNS queries for a 64-byte label")
    finally:
        sink.close()


@test(tags=("fast",))
def proxy_name_nxdomain_5(t):
    t.hflow_only("--dns-servers: hflow's resolver asks the test's dnsmasq")
    from test_dns import _conf, _dnsmasq
    d = _dnsmasq(t)
    h, cmark = _origin(t)
    r = t.run(["-sS", "--dns-servers", d.server, "--resolv-conf", _conf(t),
               "--hosts-file", t.write("hosts", b""),
               "-x", "http://proxy.invalid:3128", h.url("/echo")], timeout=15)
    t.error(r, 5, r"proxy\.invalid", empty_stdout=True)
    t.eq(h.captures(cmark), [], "no request went direct instead")


@test(tags=("fast",))
def proxy_refused_7(t):
    from harness import closed_port
    port = closed_port()
    h, _ = _origin(t)
    r = t.run(["-sS", "-x", "http://127.0.0.1:%d" % port, h.url("/echo")], timeout=15)
    t.error(r, 7, empty_stdout=True, peer=("127.0.0.1", port), curl_peer=True)


# ------------------------------------------------------------------- -w


@test(tags=("fast",))
def writeout_http_connect(t):
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    url = h.url("/echo")
    for args, want in ((["-p", "-x", ph.url("http-open")], "200"),
                       (["-x", ph.url("http-open")], "000"),
                       ([], "000")):
        r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_connect} %{time_connect} "
                   "%{time_total}"] + args + [url], timeout=10)
        t.ok(r)
        parts = r.text.split()
        t.require(len(parts) == 3, "-w output %r" % r.text)
        t.eq(parts[0], want, "http_connect with %s" % args)
        t.check(0 < float(parts[1]) <= float(parts[2]),
                "0 < time_connect <= time_total with %s: %r" % (args, r.text))


@test(tags=("fast",))
def writeout_proxy_used(t):
    _curl_at_least(t, (8, 7, 0), "%{proxy_used}")
    ph = proxy_hostile(t)
    h, _ = _origin(t)
    url = h.url("/echo")
    for args, want in ((["-p", "-x", ph.url("http-open")], "1"),
                       (["-x", ph.url("http-open")], "1"),
                       (["-x", ph.url("socks5-slow")], "1"),
                       (["-x", ph.url("http-open"), "--noproxy", "127.0.0.1"], "0"),
                       ([], "0")):
        r = t.run(["-sS", "-o", os.devnull, "-w", "%{proxy_used}"] + args + [url],
                  timeout=10)
        t.ok(r)
        t.eq(r.text, want, "proxy_used with %s" % args)


@test(tags=("fast",))
def writeout_hop_times(t):
    t.hflow_only("time_proxy_connect and time_tunnel are hflow's")
    ph = proxy_hostile(t)
    s = ngx(t)
    fmt = ("%{time_proxy_connect} %{time_tunnel} %{time_connect} "
           "%{time_appconnect} %{time_starttransfer} %{time_total}")
    r = t.run(["-sS", "-o", os.devnull, "-w", fmt, "-x", ph.url("http-open")] +
              cacert(t) + [s.url("valid")], timeout=10)
    t.ok(r)
    v = [float(x) for x in r.text.split()]
    t.require(len(v) == 6, "-w output %r" % r.text)
    pconn, tunnel, conn, app, start, total = v
    t.check(0 < pconn <= tunnel, "0 < time_proxy_connect <= time_tunnel: %r" % v)
    t.check(tunnel <= app <= start <= total,
            "time_tunnel <= time_appconnect (origin TLS) <= starttransfer: %r" % v)
    # no proxy: no hop times
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{time_proxy_connect} %{time_tunnel}"] +
              cacert(t) + [s.url("valid")], timeout=10)
    t.ok(r)
    t.eq(r.text, "0.000000 0.000000", "without a proxy")
