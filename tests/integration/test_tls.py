"""hflow over TLS (issue 4, SECURITY.md B and C): each bad certificate
refused with its reason and accepted with -k, names against IP literals,
wildcards, CA options, client certificates, versions, ciphers, pins, broken
servers, session resumption, a large body, and no request byte on a
connection that failed verification.

Peers: nginx (one TLS server block per certificate, logging the SNI, the
protocol and whether the session was reused), `openssl s_server` (client
certificates, version limits), and small raw peers defined at the bottom of
this file (started as `test_tls.py --peer MODE ...`): a server answering the
ClientHello with junk, one closing mid-handshake, and a TLS server (Python's
ssl module) that logs what each connection sent.  Certificates come from
tests/servers/mkcerts.sh, made once per run."""

import argparse
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from harness import (PY, SERVERS, _stop_proc, _wait_for, free_port,  # noqa: E402
                     have_ipv6, port_open, sha256, sha256_file, start_proc,
                     test)

MKCERTS = os.path.join(SERVERS, "mkcerts.sh")
PASSWORD = "s3cret pass"

# ------------------------------------------------------------------ servers


class Certs:
    """The test PKI (mkcerts.sh) in the run's temp dir."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "certs")
        subprocess.run(["sh", MKCERTS, self.dir], check=True, timeout=60,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with open(self.path("valid.pin")) as f:
            self.pin = f.read().strip()

    def path(self, name):
        return os.path.join(self.dir, name)

    def stop(self):
        pass


class NginxTLS:
    """One nginx, one TLS server block (port) per certificate."""

    # name -> (certificate, key, extra directives)
    SITES = {
        "valid": ("valid.crt", "valid.key", ""),
        "rsa": ("rsa.crt", "rsa.key", ""),
        "expired": ("expired.crt", "expired.key", ""),
        "notyet": ("notyet.crt", "notyet.key", ""),
        "wronghost": ("wronghost.crt", "wronghost.key", ""),
        "wild": ("wild.crt", "wild.key", ""),
        "iponly": ("iponly.crt", "iponly.key", ""),
        "nameonly": ("nameonly.crt", "nameonly.key", ""),
        "selfsigned": ("selfsigned.crt", "selfsigned.key", ""),
        "unknownca": ("unknownca.crt", "unknownca.key", ""),
        "badchain": ("badchain.crt", "badchain.key", ""),
        "fullchain": ("badchain-full.crt", "badchain.key", ""),
        "close": ("valid.crt", "valid.key", "keepalive_timeout 0;"),
        "close12": ("valid.crt", "valid.key", "keepalive_timeout 0; ssl_protocols TLSv1.2;"),
    }
    LOG_RE = re.compile(r'conn=(\d+) reqs=(\d+) reused=(\S+) proto=(\S+) '
                        r'sni=(\S+) port=(\d+) "([^"]*)" (\d+)')

    def __init__(self, tmp, certs):
        self.dir = os.path.join(tmp, "nginx-tls")
        self.root = os.path.join(self.dir, "root")
        for d in ("root", "tmp"):
            os.makedirs(os.path.join(self.dir, d))
        self.sha = {}
        for name, n in (("1k.bin", 1024), ("10m.bin", 10 << 20)):
            data = os.urandom(n)
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(data)
            self.sha[name] = sha256(data)
        with open(os.path.join(self.root, "hello.txt"), "wb") as f:
            f.write(b"hello over tls\n")
        self.certs = certs
        self.v6 = have_ipv6()
        self.proc = None
        last = None
        for _ in range(3):
            try:
                self._start()
                return
            except RuntimeError as e:
                last = e
                if self.proc:
                    _stop_proc(self.proc)
        raise RuntimeError("nginx (TLS): %s; %s" % (last, self._error_log()))

    def _start(self):
        self.port = {name: free_port() for name in self.SITES}
        if len(set(self.port.values())) != len(self.port):
            raise RuntimeError("port picked twice")
        servers = []
        for name, (crt, key, extra) in self.SITES.items():
            listen = "listen 127.0.0.1:%d ssl;" % self.port[name]
            if name == "valid" and self.v6:
                listen += " listen [::1]:%d ssl;" % self.port[name]
            servers.append(
                "server { %s server_name localhost; root %s; %s\n"
                "  ssl_certificate %s; ssl_certificate_key %s;\n"
                "  location / { } }\n"
                % (listen, self.root, extra, self.certs.path(crt), self.certs.path(key)))
        d = self.dir
        conf = """%s
daemon off; master_process on; worker_processes 1;
pid %s/nginx.pid; error_log %s/error.log warn;
events { worker_connections 256; }
http {
  log_format tls 'conn=$connection reqs=$connection_requests '
                 'reused=$ssl_session_reused proto=$ssl_protocol '
                 'sni=$ssl_server_name port=$server_port "$request" $status';
  access_log %s/access.log tls;
  client_body_temp_path %s/tmp/body; proxy_temp_path %s/tmp/proxy;
  fastcgi_temp_path %s/tmp/fcgi; uwsgi_temp_path %s/tmp/uwsgi;
  scgi_temp_path %s/tmp/scgi;
  keepalive_requests 100000; keepalive_timeout 65s; sendfile on;
  server_tokens off; default_type application/octet-stream;
  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:hf:1m;
%s}
""" % ("user root;" if os.geteuid() == 0 else "", d, d, d, d, d, d, d, d,
       "".join(servers))
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.access_log = os.path.join(d, "access.log")
        open(self.access_log, "a").close()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = start_proc([nginx, "-p", d + "/", "-e",
                                os.path.join(d, "error.log"), "-c", self.conf],
                               os.path.join(d, "stdout.log"))
        for p in self.port.values():
            _wait_for(lambda: port_open("127.0.0.1", p), 10, self.proc, "nginx (TLS)")

    def _error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def url(self, site, path="/hello.txt", host="localhost"):
        h = "[%s]" % host if ":" in host else host
        return "https://%s:%d%s" % (h, self.port[site], path)

    def log_mark(self):
        return os.path.getsize(self.access_log)

    def log_since(self, mark, want=0, timeout=3.0):
        end = time.monotonic() + timeout
        while True:
            with open(self.access_log, "rb") as f:
                f.seek(mark)
                lines = f.read().decode("latin-1").splitlines()
            out = []
            for line in lines:
                m = self.LOG_RE.match(line)
                if m:
                    out.append({"conn": int(m.group(1)), "reqs": int(m.group(2)),
                                "reused": m.group(3), "proto": m.group(4),
                                "sni": m.group(5), "port": int(m.group(6)),
                                "request": m.group(7), "status": int(m.group(8))})
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        if self.proc:
            _stop_proc(self.proc)


class SServer:
    """openssl s_server -www on a loopback port (one connection at a time)."""

    def __init__(self, tmp, certs, args, cert="valid"):
        self.dir = os.path.join(tmp, "s_server-%d" % free_port())
        os.makedirs(self.dir)
        last = None
        for _ in range(3):
            self.port = free_port()
            self.proc = start_proc(
                ["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port,
                 "-cert", certs.path(cert + ".crt"), "-key", certs.path(cert + ".key"),
                 "-www", "-quiet"] + list(args),
                os.path.join(self.dir, "log"))
            try:
                _wait_for(lambda: port_open("127.0.0.1", self.port), 10, self.proc,
                          "openssl s_server")
                return
            except RuntimeError as e:
                last = e
                _stop_proc(self.proc)
        raise RuntimeError("s_server: %s" % last)

    def url(self, host="localhost"):
        return "https://%s:%d/" % (host, self.port)

    def stop(self):
        _stop_proc(self.proc)


class Peer:
    """A raw peer from this file (see peer_main below)."""

    def __init__(self, tmp, mode, certs=None, cert="valid"):
        self.dir = os.path.join(tmp, "peer-%s-%d" % (mode, free_port()))
        os.makedirs(self.dir)
        portfile = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "conns.jsonl")
        cmd = [PY, os.path.abspath(__file__), "--peer", mode, "--portfile", portfile,
               "--log", self.log]
        if certs:
            cmd += ["--cert", certs.path(cert + ".crt"), "--key", certs.path(cert + ".key")]
        self.proc = start_proc(cmd, os.path.join(self.dir, "peer.log"))
        _wait_for(lambda: os.path.exists(portfile), 10, self.proc, "tls peer")
        with open(portfile) as f:
            self.port = int(f.read())

    def url(self, path="/", host="localhost"):
        return "https://%s:%d%s" % (host, self.port, path)

    def mark(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def conns(self, mark, want=1, timeout=5.0):
        """Connection records logged after mark (waits for `want`)."""
        end = time.monotonic() + timeout
        while True:
            out = []
            if os.path.exists(self.log):
                with open(self.log, "rb") as f:
                    f.seek(mark)
                    for line in f.read().decode().splitlines():
                        if line.strip():
                            out.append(json.loads(line))
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        _stop_proc(self.proc)


def certs(t):
    return t.env.server("tls-certs", lambda: Certs(t.env.tmp))


def ngx(t):
    c = certs(t)
    return t.env.server("nginx-tls", lambda: NginxTLS(t.env.tmp, c))


def sserver(t, *args, cert="valid"):
    c = certs(t)
    key = "s_server:%s:%s" % (cert, " ".join(args))
    return t.env.server(key, lambda: SServer(t.env.tmp, c, args, cert))


def peer(t, mode, cert="valid"):
    c = certs(t) if mode == "tls" else None
    return t.env.server("peer:%s:%s" % (mode, cert),
                        lambda: Peer(t.env.tmp, mode, c, cert))


def cacert(t):
    return ["--cacert", certs(t).path("ca.crt")]


def resolve(name, port):
    return ["--resolve", "%s:%d:127.0.0.1" % (name, port)]


# -------------------------------------------------------- good certificates


@test(tags=("fast", "vg"))
def valid_name(t):
    n = ngx(t)
    mark = n.log_mark()
    r = t.run(["-sS"] + cacert(t) + [n.url("valid")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")
    log = n.log_since(mark, 1)
    t.eq([e["sni"] for e in log], ["localhost"], "SNI the server saw")


@test(tags=("fast",))
def valid_ipv4_literal_no_sni(t):
    n = ngx(t)
    mark = n.log_mark()
    r = t.run(["-sS"] + cacert(t) + [n.url("valid", host="127.0.0.1")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")
    log = n.log_since(mark, 1)
    t.eq([e["sni"] for e in log], ["-"], "no SNI for an IP literal")


@test()
def valid_ipv6_literal(t):
    n = ngx(t)
    if not n.v6:
        t.skip("no IPv6 loopback")
    r = t.run(["-sS"] + cacert(t) + [n.url("valid", host="::1")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body over [::1] (IP SAN ::1)")


@test(tags=("fast",))
def valid_10MiB_sha256(t):
    n = ngx(t)
    r = t.run(["-sS"] + cacert(t) + [n.url("valid", "/10m.bin")], timeout=25)
    t.ok(r)
    t.eq(len(r.out), 10 << 20, "bytes")
    t.eq(sha256(r.out), n.sha["10m.bin"], "sha256 of the body")


@test(tags=("fast",))
def keepalive_three_urls_one_connection(t):
    # TLS 1.3 tickets arrive during the first transfer's reads; the later
    # transfers share the connection (SECURITY.md B.13, run under ASan)
    n = ngx(t)
    mark = n.log_mark()
    u = n.url("valid", "/1k.bin")
    r = t.run(["-sS", "-w", "%{num_connects} "] + ["-o", os.devnull] * 3 + cacert(t) +
              [u, u, u])
    t.ok(r)
    t.eq(r.text.split(), ["1", "0", "0"], "-w num_connects per transfer")
    log = n.log_since(mark, 3)
    t.eq(len({e["conn"] for e in log}), 1, "one TLS connection for three URLs")


@test(tags=("fast",))
def big_body_then_small_on_the_same_connection(t):
    # a big body over TLS is read in batches (SO_RCVLOWAT, src/transfer.c
    # lowat_*); the connection goes back to the pool reading every byte
    # again: the small response after it comes at once, on the same one
    n = ngx(t)
    mark = n.log_mark()
    big, small = n.url("valid", "/10m.bin"), n.url("valid", "/1k.bin")
    r = t.run(["-sS", "-m", "20"] + cacert(t) +
              ["-o", t.path("big"), big, "-o", t.path("small"), small,
               "-o", t.path("big2"), big], timeout=30)
    t.ok(r)
    t.eq(sha256_file(t.path("big")), n.sha["10m.bin"], "the big body")
    t.eq(sha256_file(t.path("small")), n.sha["1k.bin"], "the small body")
    t.eq(sha256_file(t.path("big2")), n.sha["10m.bin"], "the big body again")
    log = n.log_since(mark, 3)
    t.eq(len({e["conn"] for e in log}), 1, "one connection for the three")
    t.check(r.elapsed < 5 + t.slack, "no wait for a mark: %.2f s" % r.elapsed)


@test()
def big_body_fast_then_slow_chunks_under_idle_timeout(t):
    # The body starts fast (4 MiB) with 1.6 MiB more due, so hflow waits
    # for batches (a mark of 64 to 512 KiB); then come 48 KiB, 0.6 s apart,
    # below any mark.  Those bytes must be read as they come (the lowat
    # tick turns the batches off), not when two or more of them reach the
    # mark 1.2 s or more later, past the 1 s --idle-timeout.
    if t.is_curl:
        t.skip("hflow's own flag")
        return
    p = peer(t, "tls")
    first, chunk, last = TRICKLE
    size = first + 3 * chunk + last
    r = t.run(["-sS", "--idle-timeout", "1", "-o", t.path("out")] + cacert(t) +
              [p.url("/trickle")], timeout=20)
    t.ok(r)
    got = open(t.path("out"), "rb").read() if os.path.exists(t.path("out")) else b""
    t.eq(len(got), size, "the whole body")
    t.check(got == trickle_body(size), "the body's bytes")
    t.check(r.elapsed < 4 + t.slack, "three 0.6 s gaps: %.2f s" % r.elapsed)


@test(tags=("fast",))
def full_chain_from_server(t):
    n = ngx(t)
    r = t.run(["-sS", "-w", "%{num_certs}"] + cacert(t) + [n.url("fullchain")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n2", "body, then -w num_certs (leaf + intermediate)")


@test()
def write_out_certs_chain(t):
    n = ngx(t)
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{certs}"] + cacert(t) + [n.url("fullchain")])
    t.ok(r)
    subj = re.findall(r"^subject: ?(.*)$", r.text, re.M | re.I)
    t.eq([re.sub(r"\s*=\s*", "=", x) for x in subj],
         ["CN=localhost", "CN=hflow test intermediate"], "-w certs: subjects in order")
    t.match(r"^issuer: ?O ?= ?hflow tests, CN ?= ?hflow test CA", r.text,
            "-w certs: the intermediate's issuer", re.M | re.I)


@test()
def write_out_tls_fields(t):
    n = ngx(t)
    r = t.run(["-sS", "-o", os.devnull, "-w",
               "%{ssl_verify_result} %{num_certs} %{time_connect} "
               "%{time_appconnect} %{time_total}"] + cacert(t) + [n.url("valid")])
    t.ok(r)
    parts = r.text.split()
    t.require(len(parts) == 5, "-w fields: %r" % r.text)
    t.eq(parts[:2], ["0", "1"], "ssl_verify_result and num_certs")
    try:
        tc, ta, tt = (float(x) for x in parts[2:])
    except ValueError:
        t.fail("times are not numbers: %r" % r.text)
        return
    t.check(0 < tc < ta <= tt, "connect < appconnect <= total: %r" % r.text)


@test(tags=("fast",))
def verbose_shows_tls(t):
    n = ngx(t)
    r = t.run(["-v", "-o", os.devnull] + cacert(t) + [n.url("rsa")])
    t.rc(r, 0)
    e = r.err
    t.match(r"TLSv1\.3", e, "-v names the TLS version")
    t.match(r"TLS_AES_\d+_GCM_SHA\d+|TLS_CHACHA20", e, "-v names the cipher")
    t.match(r"subject: CN\s?=\s?localhost", e, "-v shows the subject")
    t.match(r"issuer: .*CN\s?=\s?hflow test CA", e, "-v shows the issuer")
    t.match(r"http/1\.1", e, "-v shows ALPN")
    if t.is_curl:
        t.match(r"SSL certificate verify ok", e, "verification result")
        return
    t.match(r"X25519|P-256|group", e, "-v names the key exchange group")
    t.match(r"full handshake", e, "-v says full handshake")
    t.match(r"san: DNS:localhost, DNS:hflow\.test, IP:127\.0\.0\.1", e, "-v shows SANs")
    t.match(r"valid: \w+ +\d+ [\d:]+ \d{4} GMT \.\. ", e, "-v shows validity")
    t.match(r"key: RSA 2048", e, "-v shows the key type and size")
    t.match(r"certificate: ok|verif\w* ok|verify result: ok", e, "-v shows the verification result")


@test()
def verbose_key_ec(t):
    t.hflow_only("key type line is hflow's -v format")
    n = ngx(t)
    r = t.run(["-v", "-o", os.devnull] + cacert(t) + [n.url("valid")])
    t.rc(r, 0)
    t.match(r"key: EC 256", r.err, "-v shows an EC P-256 key")


@test()
def verbose_insecure_shows_unenforced_result(t):
    n = ngx(t)
    r = t.run(["-v", "-k", "-o", os.devnull] + cacert(t) + [n.url("expired")])
    t.rc(r, 0)
    # curl does not load the CA with -k, so it finds an unknown issuer
    t.match(r"unable to get local issuer" if t.is_curl else r"certificate has expired",
            r.err, "-v with -k still shows what was found")


# ------------------------------------------------------- bad certificates

# site -> (hflow reason, curl reason, curl's ssl_verify_result with -k or None)
BAD = {
    "expired": (r"certificate has expired", r"certificate has expired", 10),
    "notyet": (r"certificate is not yet valid", r"not yet valid", 9),
    "wronghost": (r"hostname mismatch|does not match", r"subject name|host name", None),
    "selfsigned": (r"self.signed certificate", r"self.signed certificate", 18),
    "unknownca": (r"unable to get local issuer certificate",
                  r"unable to get local issuer certificate", 20),
    "badchain": (r"unable to get local issuer certificate",
                 r"unable to get local issuer certificate", 20),
}
SUBJECT = {"expired": "expired.test", "notyet": "notyet.test", "wronghost": "other.test",
           "selfsigned": "selfsigned.test", "unknownca": "localhost",
           "badchain": "localhost"}


def _bad_refused(t, site):
    n = ngx(t)
    mark = n.log_mark()
    r = t.run(["-sS"] + cacert(t) + [n.url(site)])
    hf, cu, _ = BAD[site]
    pats = [hf, r"localhost", r"subject CN\s?=\s?%s" % re.escape(SUBJECT[site])]
    t.error(r, 60, *pats, curl=[cu], peer=("127.0.0.1", n.port[site]),
            one_line=not t.is_curl, empty_stdout=True)
    t.eq(n.log_since(mark, 0, timeout=0.3), [], "no request reached the server")


def _bad_insecure(t, site):
    n = ngx(t)
    r = t.run(["-sS", "-k", "-w", "\n%{ssl_verify_result}"] + cacert(t) + [n.url(site)])
    t.ok(r)
    body, _, vr = r.out.rpartition(b"\n")
    t.eq(body, b"hello over tls\n", "body with -k")
    want = BAD[site][2]
    if t.is_curl:
        # curl loads no CA with -k: any chain is "unable to get local issuer"
        t.check(site == "wronghost" or vr == (b"18" if site == "selfsigned" else b"20"),
                "curl's -k verify result: %r" % vr)
    elif want is not None:
        t.eq(vr, str(want).encode(), "-w ssl_verify_result with -k (not enforced)")
    else:
        t.check(vr not in (b"0", b""), "hflow reports the mismatch it ignored: %r" % vr)


def _make_bad(site):
    def refused(t):
        _bad_refused(t, site)
    refused.__name__ = "bad_%s_refused_60" % site
    test(tags=("fast",))(refused)

    def insecure(t):
        _bad_insecure(t, site)
    insecure.__name__ = "bad_%s_accepted_with_k" % site
    test()(insecure)


for _site in BAD:
    _make_bad(_site)


@test(tags=("fast",))
def ip_literal_name_only_cert_refused(t):
    # SECURITY.md C.15: a name certificate never matches an IP literal
    n = ngx(t)
    r = t.run(["-sS"] + cacert(t) + [n.url("nameonly", host="127.0.0.1")])
    t.error(r, 60, r"IP address mismatch|does not match", r"127\.0\.0\.1",
            curl=[r"subject name|host name|127\.0\.0\.1"], one_line=not t.is_curl)


@test()
def name_only_cert_by_name_ok(t):
    n = ngx(t)
    r = t.run(["-sS"] + cacert(t) + [n.url("nameonly")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test(tags=("fast",))
def ip_san_cert_ip_literal_ok(t):
    n = ngx(t)
    r = t.run(["-sS"] + cacert(t) + [n.url("iponly", host="127.0.0.1")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test()
def ip_san_cert_by_name_refused(t):
    n = ngx(t)
    r = t.run(["-sS"] + cacert(t) + [n.url("iponly")])
    t.error(r, 60, r"hostname mismatch|does not match", curl=[r"subject name|host name"],
            one_line=not t.is_curl)


@test(tags=("fast",))
def wildcard_one_label_ok(t):
    n = ngx(t)
    p = n.port["wild"]
    r = t.run(["-sS"] + cacert(t) + resolve("a.wild.test", p) +
              ["https://a.wild.test:%d/hello.txt" % p])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test()
def wildcard_not_the_bare_domain(t):
    n = ngx(t)
    p = n.port["wild"]
    r = t.run(["-sS"] + cacert(t) + resolve("wild.test", p) +
              ["https://wild.test:%d/hello.txt" % p])
    t.error(r, 60, r"hostname mismatch", r"wild\.test", curl=[r"subject name|host name"],
            one_line=not t.is_curl)


@test()
def wildcard_not_two_labels(t):
    n = ngx(t)
    p = n.port["wild"]
    r = t.run(["-sS"] + cacert(t) + resolve("b.a.wild.test", p) +
              ["https://b.a.wild.test:%d/hello.txt" % p])
    t.error(r, 60, r"hostname mismatch", curl=[r"subject name|host name"],
            one_line=not t.is_curl)


# ----------------------------------------------------------------- CA options


@test(tags=("fast",))
def ca_from_ssl_cert_file(t):
    n = ngx(t)
    r = t.run(["-sS", n.url("valid")], env={"SSL_CERT_FILE": certs(t).path("ca.crt"),
                                            "SSL_CERT_DIR": ""})
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test()
def system_store_does_not_know_test_ca(t):
    n = ngx(t)
    r = t.run(["-sS", n.url("valid")], env={"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""})
    t.error(r, 60, r"unable to get local issuer certificate",
            curl=[r"unable to get local issuer certificate"], one_line=not t.is_curl)


@test()
def capath_hashed_dir(t):
    n = ngx(t)
    r = t.run(["-sS", "--capath", certs(t).path("capath"), n.url("valid")],
              env={"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""})
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test()
def cacert_missing_file_77(t):
    n = ngx(t)
    r = t.run(["-sS", "--cacert", t.path("no-such-ca.pem"), n.url("valid")])
    t.error(r, 77, r"no-such-ca\.pem", curl=[r"certificate"], one_line=not t.is_curl)


# ---------------------------------------- no reuse across TLS configurations


@test(tags=("fast", "vg"))
def insecure_then_verified_no_reuse(t):
    # SECURITY.md B.11: a -k connection (or session) must not serve a later
    # verified request of the same command
    n = ngx(t)
    mark = n.log_mark()
    u = n.url("selfsigned")
    r = t.run(["-sS", "-k", u, "--next", "-sS"] + cacert(t) + [u])
    t.eq(r.out, b"hello over tls\n", "only the -k transfer produced a body")
    t.error(r, 60, r"self.signed", curl=[r"self.signed"], one_line=False)
    log = n.log_since(mark, 1, timeout=1.0)
    t.eq(len(log), 1, "requests that reached the server")


@test()
def verified_then_insecure_new_connection(t):
    n = ngx(t)
    mark = n.log_mark()
    u = n.url("valid")
    r = t.run(["-sS"] + cacert(t) + [u, "--next", "-sS", "-k"] + cacert(t) + [u])
    t.ok(r)
    log = n.log_since(mark, 2)
    t.eq(len(log), 2, "requests")
    t.eq(len({e["conn"] for e in log}), 2, "connections (the verify flag differs)")


@test()
def other_cafile_new_connection(t):
    # SECURITY.md B.10: same host, a different CA file: a new connection
    n = ngx(t)
    copy = t.path("ca-copy.crt")
    shutil.copy(certs(t).path("ca.crt"), copy)
    mark = n.log_mark()
    u = n.url("valid")
    r = t.run(["-sS"] + cacert(t) + [u, "--next", "-sS", "--cacert", copy, u])
    t.ok(r)
    log = n.log_since(mark, 2)
    t.eq(len({e["conn"] for e in log}), 2, "connections for two CA files")
    t.eq([e["reused"] for e in log], [".", "."], "no session resumed across CA files")


# ------------------------------------------------------------ client certs


@test(tags=("fast",))
def client_cert_required_missing_tls12(t):
    s = sserver(t, "-Verify", "1", "-CAfile", certs(t).path("clientca.crt"), "-tls1_2")
    r = t.run(["-sS"] + cacert(t) + [s.url()])
    t.error(r, 35, r"alert|certificate", curl=[r"alert|certificate"],
            one_line=not t.is_curl)


@test()
def client_cert_required_missing_tls13(t):
    # TLS 1.3: the server's alert arrives after the client's handshake is
    # done; curl reports it as a receive error (56), hflow as 35
    s = sserver(t, "-Verify", "1", "-CAfile", certs(t).path("clientca.crt"))
    r = t.run(["-sS"] + cacert(t) + [s.url()])
    t.error(r, 35, r"certificate required", curl=[r"alert|certificate"],
            curl_codes=(35, 56), one_line=not t.is_curl)


@test(tags=("fast",))
def client_cert_and_key(t):
    c = certs(t)
    s = sserver(t, "-Verify", "1", "-CAfile", c.path("clientca.crt"))
    r = t.run(["-sS"] + cacert(t) + ["--cert", c.path("client.crt"), "--key",
                                     c.path("client.key"), s.url()])
    t.ok(r)
    t.match(r"CN\s?=\s?hflow client", r.text, "s_server saw our certificate")


@test()
def client_cert_pem_with_key(t):
    c = certs(t)
    s = sserver(t, "-Verify", "1", "-CAfile", c.path("clientca.crt"))
    r = t.run(["-sS", "--cert-type", "PEM"] + cacert(t) + ["--cert", c.path("client.pem"),
                                                          s.url()])
    t.ok(r)
    t.match(r"CN\s?=\s?hflow client", r.text, "s_server saw our certificate")


@test()
def client_cert_encrypted_key_password(t):
    c = certs(t)
    s = sserver(t, "-Verify", "1", "-CAfile", c.path("clientca.crt"))
    r = t.run(["-sS"] + cacert(t) + ["--cert", c.path("client.crt") + ":" + PASSWORD,
                                     "--key", c.path("client-enc.key"), s.url()])
    t.ok(r)
    t.match(r"CN\s?=\s?hflow client", r.text, "s_server saw our certificate")


@test()
def client_cert_wrong_password_58(t):
    c = certs(t)
    s = sserver(t, "-Verify", "1", "-CAfile", c.path("clientca.crt"))
    r = t.run(["-sS"] + cacert(t) + ["--cert", c.path("client.crt") + ":wrong",
                                     "--key", c.path("client-enc.key"), s.url()])
    t.error(r, 58, r"client-enc\.key", curl=[r"key|certificate"], one_line=not t.is_curl)


@test()
def client_key_mismatch_58(t):
    c = certs(t)
    s = sserver(t, "-Verify", "1", "-CAfile", c.path("clientca.crt"))
    r = t.run(["-sS"] + cacert(t) + ["--cert", c.path("client.crt"), "--key",
                                     c.path("valid.key"), s.url()])
    t.error(r, 58, r"mismatch|match", curl=[r"key|certificate"], one_line=not t.is_curl)


# ------------------------------------------------------- versions, ciphers


@test(tags=("fast",))
def tlsv13_against_tls12_only_35(t):
    s = sserver(t, "-tls1_2")
    r = t.run(["-sS", "--tlsv1.3"] + cacert(t) + [s.url()])
    t.error(r, 35, r"protocol version|alert", curl=[r"alert|version"],
            one_line=not t.is_curl)


@test(tags=("fast",))
def tls_max_12_against_tls13_only_35(t):
    s = sserver(t, "-tls1_3")
    r = t.run(["-sS", "--tls-max", "1.2"] + cacert(t) + [s.url()])
    t.error(r, 35, r"protocol version|alert", curl=[r"alert|version"],
            one_line=not t.is_curl)


@test()
def tls12_matching(t):
    s = sserver(t, "-tls1_2")
    r = t.run(["-sS", "-v", "--tlsv1.2", "--tls-max", "1.2", "-o", os.devnull] +
              cacert(t) + [s.url()])
    t.rc(r, 0)
    t.match(r"TLSv1\.2", r.err, "-v says TLSv1.2")


@test()
def tls13_matching(t):
    s = sserver(t, "-tls1_3")
    r = t.run(["-sS", "-v", "--tlsv1.3", "-o", os.devnull] + cacert(t) + [s.url()])
    t.rc(r, 0)
    t.match(r"TLSv1\.3", r.err, "-v says TLSv1.3")


@test()
def ciphers_tls12_choice(t):
    n = ngx(t)
    r = t.run(["-sS", "-v", "-o", os.devnull, "--tls-max", "1.2", "--ciphers",
               "ECDHE-ECDSA-AES128-GCM-SHA256", "--curves", "P-256"] + cacert(t) +
              [n.url("valid")])
    t.rc(r, 0)
    t.match(r"ECDHE-ECDSA-AES128-GCM-SHA256", r.err, "-v names the chosen cipher")
    if not t.is_curl:
        t.match(r"P-256|prime256v1|secp256r1", r.err, "-v names the chosen group")


@test()
def ciphers_tls13_choice(t):
    n = ngx(t)
    r = t.run(["-sS", "-v", "-o", os.devnull, "--tls13-ciphers",
               "TLS_CHACHA20_POLY1305_SHA256"] + cacert(t) + [n.url("valid")])
    t.rc(r, 0)
    t.match(r"TLS_CHACHA20_POLY1305_SHA256", r.err, "-v names the chosen suite")


@test()
def ciphers_unknown_59(t):
    n = ngx(t)
    r = t.run(["-sS", "--ciphers", "NO-SUCH-CIPHER"] + cacert(t) + [n.url("valid")])
    t.error(r, 59, r"NO-SUCH-CIPHER", curl=[r"cipher"], one_line=not t.is_curl)


@test()
def curves_unknown_59(t):
    n = ngx(t)
    r = t.run(["-sS", "--curves", "NO-SUCH-CURVE"] + cacert(t) + [n.url("valid")])
    t.error(r, 59, r"NO-SUCH-CURVE", curl=[r"curve"], one_line=not t.is_curl)


# ------------------------------------------------------------------ pinning


@test(tags=("fast",))
def pinned_key_match(t):
    n = ngx(t)
    r = t.run(["-sS", "--pinnedpubkey", certs(t).pin] + cacert(t) + [n.url("valid")])
    t.ok(r)
    t.eq(r.out, b"hello over tls\n", "body")


@test()
def pinned_key_match_in_list(t):
    n = ngx(t)
    pins = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;" + certs(t).pin
    r = t.run(["-sS", "--pinnedpubkey", pins] + cacert(t) + [n.url("valid")])
    t.ok(r)


@test(tags=("fast",))
def pinned_key_mismatch_90(t):
    n = ngx(t)
    mark = n.log_mark()
    r = t.run(["-sS", "--pinnedpubkey",
               "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] + cacert(t) +
              [n.url("valid")])
    t.error(r, 90, r"pin", curl=[r"pinned|public key"], one_line=not t.is_curl,
            empty_stdout=True)
    t.eq(n.log_since(mark, 0, timeout=0.3), [], "no request reached the server")


@test()
def pinned_key_checked_with_k(t):
    n = ngx(t)
    r = t.run(["-sS", "-k", "--pinnedpubkey", certs(t).pin, n.url("selfsigned")])
    t.error(r, 90, r"pin", curl=[r"pinned|public key"], one_line=not t.is_curl)


@test()
def pinned_key_files_pem_and_der(t):
    n = ngx(t)
    for f in ("valid.pub.pem", "valid.pub.der"):
        r = t.run(["-sS", "--pinnedpubkey", certs(t).path(f)] + cacert(t) +
                  [n.url("valid")])
        t.ok(r)
    r = t.run(["-sS", "--pinnedpubkey", certs(t).path("valid.pub.pem")] + cacert(t) +
              [n.url("rsa")])
    t.error(r, 90, r"pin|match", curl=[r"pinned|public key"], one_line=not t.is_curl)


# ------------------------------------------------------------ broken servers


@test(tags=("fast",))
def garbage_server_35(t):
    p = peer(t, "garbage")
    r = t.run(["-sS"] + cacert(t) + [p.url()])
    t.error(r, 35, r"wrong version number", curl=[r"wrong version number|SSL"],
            peer=("127.0.0.1", p.port), one_line=not t.is_curl)


@test(tags=("fast",))
def close_mid_handshake_35(t):
    p = peer(t, "midclose")
    r = t.run(["-sS"] + cacert(t) + [p.url()])
    t.error(r, 35, r"closed|eof", curl=[r"SSL|eof|closed"], peer=("127.0.0.1", p.port),
            one_line=not t.is_curl)


@test()
def close_mid_server_hello_35(t):
    p = peer(t, "midhello")
    r = t.run(["-sS"] + cacert(t) + [p.url()])
    t.error(r, 35, r"closed|eof", curl=[r"SSL|eof|closed"], one_line=not t.is_curl)


# ------------------------------------------------------------- resumption


def _resumption(t, site):
    n = ngx(t)
    mark = n.log_mark()
    u = n.url(site)
    r = t.run(["-v", "-o", os.devnull, "-o", os.devnull] + cacert(t) + [u, u])
    t.rc(r, 0)
    log = n.log_since(mark, 2)
    t.eq(len({e["conn"] for e in log}), 2, "two connections (keepalive_timeout 0)")
    t.eq([e["reused"] for e in log], [".", "r"], "nginx: second session reused")
    t.eq([e["proto"] for e in log], ["TLSv1.3" if site == "close" else "TLSv1.2"] * 2,
         "protocol")
    if t.is_curl:
        t.match(r"re-using session", r.err, "-v says the session was reused")
    else:
        t.match(r"full handshake.*session resumed", r.err,
                "-v: full handshake, then resumed", re.S | re.I)


@test(tags=("fast", "vg"))
def resumption_second_connection_tls13(t):
    _resumption(t, "close")


@test()
def resumption_second_connection_tls12(t):
    _resumption(t, "close12")


@test(tags=("fast",))
def no_sessionid_full_handshakes(t):
    # --no-sessionid: a full handshake on every connection (TLS 1.3 and 1.2);
    # without it, in the same run, the next connection resumes again
    n = ngx(t)
    for site, proto in (("close", "TLSv1.3"), ("close12", "TLSv1.2")):
        mark = n.log_mark()
        u = n.url(site)
        r = t.run(["-v", "--no-sessionid", "-o", os.devnull, "-o", os.devnull,
                   "-o", os.devnull] + cacert(t) + [u, u, u, "--next", "-sS",
                                                     "-o", os.devnull] + cacert(t) + [u])
        t.rc(r, 0)
        log = n.log_since(mark, 4)
        t.eq(len({e["conn"] for e in log}), 4, "four connections (keepalive_timeout 0)")
        t.eq([e["reused"] for e in log], [".", ".", ".", "."],
             "nginx: no session reused with --no-sessionid (%s)" % proto)
        t.eq([e["proto"] for e in log], [proto] * 4, "protocol")
        if not t.is_curl:
            t.check("session resumed" not in r.err and
                    len(re.findall(r"full handshake", r.err, re.I)) == 3,
                    "-v: three full handshakes, none resumed")
        # resumption on (the default): the second connection resumes the
        # session of the first
        mark = n.log_mark()
        r = t.run(["-sS", "-o", os.devnull, "-o", os.devnull] + cacert(t) + [u, u])
        t.rc(r, 0)
        log = n.log_since(mark, 2)
        t.eq([e["reused"] for e in log], [".", "r"],
             "nginx: second session reused without the flag (%s)" % proto)


@test()
def resumption_not_across_hosts(t):
    # the session of localhost:P is not offered to hflow.test:P
    n = ngx(t)
    mark = n.log_mark()
    p = n.port["close"]
    r = t.run(["-sS", "-o", os.devnull, "-o", os.devnull] + cacert(t) +
              resolve("hflow.test", p) + [n.url("close"), n.url("close", host="hflow.test")])
    t.rc(r, 0)
    log = n.log_since(mark, 2)
    t.eq([e["reused"] for e in log], [".", "."], "no session reuse across host names")


@test()
def resumption_not_after_k(t):
    # a session made with -k is never offered to a verified request
    n = ngx(t)
    mark = n.log_mark()
    u = n.url("close")
    r = t.run(["-sS", "-k", "-o", os.devnull] + cacert(t) +
              [u, "--next", "-sS", "-o", os.devnull] + cacert(t) + [u])
    t.rc(r, 0)
    log = n.log_since(mark, 2)
    t.eq([e["reused"] for e in log], [".", "."], "no session reuse across -k")


# --------------------------------------------- what the server sees (peer)


@test(tags=("fast",))
def no_request_bytes_after_failed_verification(t):
    p = peer(t, "tls")
    mark = p.mark()
    # wrong name: OpenSSL stops the handshake
    r = t.run(["-sS"] + cacert(t) + resolve("nomatch.test", p.port) +
              [p.url(host="nomatch.test")])
    t.rc(r, 60)
    # right name, wrong pin: the handshake completed, then we refuse
    r = t.run(["-sS", "--pinnedpubkey",
               "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] + cacert(t) +
              [p.url()])
    t.rc(r, 90)
    conns = p.conns(mark, 2)
    t.eq(len(conns), 2, "connections the peer saw")
    t.eq([c.get("app_bytes") for c in conns], [0, 0], "application bytes received")
    # control: a good request is seen
    mark = p.mark()
    r = t.run(["-sS"] + cacert(t) + [p.url("/ok")])
    t.ok(r)
    t.eq(r.out, b"ok\n", "body")
    conns = p.conns(mark, 1)
    t.check(conns and conns[0].get("request", "").startswith("GET /ok HTTP/1.1"),
            "the peer saw the request: %r" % conns)


@test()
def close_notify_sent(t):
    p = peer(t, "tls")
    mark = p.mark()
    r = t.run(["-sS"] + cacert(t) + [p.url("/ok")])
    t.ok(r)
    conns = p.conns(mark, 1)
    t.eq([c.get("close") for c in conns], ["notify"], "how the client closed")


@test()
def abrupt_close_after_complete_body(t):
    # a server that closes without close_notify after a complete response
    p = peer(t, "tls")
    r = t.run(["-sS"] + cacert(t) + [p.url("/abrupt")])
    t.ok(r)
    t.eq(r.out, b"hello", "body")


@test()
def abrupt_close_truncated_body_18(t):
    p = peer(t, "tls")
    r = t.run(["-sS"] + cacert(t) + [p.url("/truncated")])
    t.error(r, 18, r"\d+ bytes|clos|remain", curl=[r"SSL|eof|bytes|transfer"],
            curl_codes=(18, 56), one_line=not t.is_curl)
    t.eq(r.out, b"hello", "the bytes that did arrive")


# ------------------------------------------------------------- the peers


TRICKLE = (4 << 20, 48 << 10, 3 << 19)


def trickle_body(size):
    """The body of the peer's /trickle: bytes 0..255 repeated, cut to size."""
    block = bytes(range(256)) * 256
    return (block * (size // len(block) + 1))[:size]


def _serve_conn(mode, conn, ctx, log, lock):
    rec = {"mode": mode}
    try:
        conn.settimeout(5)
        if mode in ("garbage", "midclose", "midhello"):
            conn.recv(4096)
            if mode == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                time.sleep(0.2)
            elif mode == "midhello":
                conn.sendall(b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03")
                time.sleep(0.1)
            conn.close()
            return
        s = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False,
                            suppress_ragged_eofs=False)
        try:
            s.do_handshake()
            rec["handshake"] = "ok"
        except (ssl.SSLError, OSError) as e:
            rec["handshake"] = "error: %s" % e
            rec["app_bytes"] = 0
            s.close()
            return
        data = b""
        rec["close"] = None
        while b"\r\n\r\n" not in data:
            try:
                chunk = s.recv(65536)
            except ssl.SSLEOFError:
                rec["close"] = "eof"
                break
            except (ssl.SSLError, OSError) as e:
                rec["close"] = "error: %s" % e
                break
            if not chunk:
                rec["close"] = "notify"
                break
            data += chunk
        rec["app_bytes"] = len(data)
        rec["request"] = data.split(b"\r\n", 1)[0].decode("latin-1")
        if rec["close"] is not None:
            s.close()
            return
        path = rec["request"].split(" ")[1] if " " in rec["request"] else "/"
        if path == "/abrupt":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            time.sleep(0.1)
            s.close()                       # no close_notify
            rec["close"] = "server-abrupt"
            return
        if path.startswith("/trickle"):
            # TRICKLE: 4 MiB at once, 48 KiB three times 0.6 s apart, then
            # the last 1.5 MiB at once
            first, chunk, last = TRICKLE
            size = first + 3 * chunk + last
            body = trickle_body(size)
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            s.sendall(body[:first])
            for k in range(3):
                time.sleep(0.6)
                s.sendall(body[first + k * chunk:first + (k + 1) * chunk])
            s.sendall(body[first + 3 * chunk:])
            time.sleep(0.2)
            s.close()
            rec["close"] = "server"
            return
        if path == "/truncated":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello")
            time.sleep(0.1)
            s.close()
            rec["close"] = "server-abrupt"
            return
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        try:
            while True:                     # until the client goes
                chunk = s.recv(65536)
                if not chunk:
                    rec["close"] = "notify"
                    break
                rec["app_bytes"] += len(chunk)
        except ssl.SSLEOFError:
            rec["close"] = "eof"
        except socket.timeout:
            rec["close"] = "timeout"
        except (ssl.SSLError, OSError) as e:
            rec["close"] = "error: %s" % e
        s.close()
    except Exception as e:                  # log, never die
        rec["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if mode not in ("garbage", "midclose", "midhello"):
            with lock:
                with open(log, "a") as f:
                    f.write(json.dumps(rec) + "\n")


def peer_main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True,
                    choices=("garbage", "midclose", "midhello", "tls"))
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args(argv)
    ctx = None
    if a.peer == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    ls.settimeout(0.5)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(tmp, a.portfile)
    parent = os.getppid()
    lock = threading.Lock()
    end = time.monotonic() + a.lifetime
    while time.monotonic() < end and os.getppid() == parent:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=_serve_conn, args=(a.peer, conn, ctx, a.log, lock),
                         daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(peer_main(sys.argv[1:]))
