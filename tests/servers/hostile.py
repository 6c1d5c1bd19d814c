#!/usr/bin/python3
"""hostile.py -- a scripted raw-socket HTTP/1.1 server for hflow's tests.

    /usr/bin/python3 tests/servers/hostile.py --port 0 --portfile FILE \
        [--host 127.0.0.1] [--capture DIR]

It writes the bound port to FILE once it listens.  The request path picks
the behaviour (see BEHAVIOURS below and `GET /help`).  Every request it reads
is appended raw (request line, headers and body exactly as received) to
DIR/NNNNNN.req; a request cut off by the client is saved as NNNNNN.partial.
/stats and /stats/reset are neither captured nor counted.

Loopback only: --host must be 127.0.0.1, ::1 or localhost.
Standard library only.  The server exits by itself when its parent dies or
after --lifetime seconds.
"""

import argparse
import gzip
import json
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

MAX_HEAD = 1 << 20          # request head limit
MAX_BODY = 64 << 20         # request body limit
SOCK_TIMEOUT = 35.0         # idle keep-alive connections are dropped after this


class Stats:
    """Connections accepted and the requests seen on each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conns = {}          # id -> list of "METHOD path"
        self.next_id = 0

    def new_conn(self):
        with self.lock:
            self.next_id += 1
            self.conns[self.next_id] = []
            return self.next_id

    def add_request(self, cid, line):
        with self.lock:
            if cid in self.conns:
                self.conns[cid].append(line)
                return len(self.conns[cid])
            return 0

    def drop_conn(self, cid):
        """Forget a connection that only carried /stats requests."""
        with self.lock:
            if cid in self.conns and not self.conns[cid]:
                del self.conns[cid]

    def reset(self):
        with self.lock:
            self.conns = {}

    def snapshot(self, own_cid):
        with self.lock:
            per = [list(v) for k, v in sorted(self.conns.items())
                   if k != own_cid]
        return {"connections": len(per),
                "requests": sum(len(p) for p in per),
                "per_connection": per}


class Capture:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0
        if directory:
            os.makedirs(directory, exist_ok=True)
            for name in os.listdir(directory):
                if name.endswith((".req", ".partial")):
                    self.n = max(self.n, int(name.split(".")[0]))

    def save(self, raw, partial=False):
        if not self.dir or not raw:
            return
        with self.lock:
            self.n += 1
            n = self.n
        name = "%06d.%s" % (n, "partial" if partial else "req")
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(raw)
        os.rename(tmp, os.path.join(self.dir, name))


class Request:
    def __init__(self):
        self.head = b""          # raw head including the final CRLFCRLF
        self.body_raw = b""      # raw body bytes as framed on the wire
        self.body = b""          # decoded body
        self.method = ""
        self.target = ""
        self.path = ""
        self.query = ""
        self.version = ""
        self.headers = []        # [(name, value)] as text (latin-1)
        self.early_body = None   # for /expect: did body bytes come before 100?

    @property
    def raw(self):
        return self.head + self.body_raw

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class Closed(Exception):
    """The peer closed (or reset) the connection."""


class Conn:
    """Buffered reader over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionError, socket.timeout, OSError):
            data = b""
        if not data:
            raise Closed()
        self.buf += data

    def read_until(self, delim, limit):
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[:i + len(delim)], self.buf[i + len(delim):]
                return out
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self.fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def data_pending(self, wait):
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)


def parse_head(req):
    lines = req.head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line %r" % lines[0])
    req.method, req.target, req.version = parts
    path, _, query = req.target.partition("?")
    req.path, req.query = path, query
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError("bad header line %r" % line)
        req.headers.append((name, value.strip(" \t")))


def read_chunked(conn, req):
    raw, body = [], []
    while True:
        line = conn.read_until(b"\r\n", 4096)
        raw.append(line)
        size = int(line[:-2].split(b";")[0].strip() or b"x", 16)
        if size == 0:
            while True:           # trailers up to the empty line
                t = conn.read_until(b"\r\n", 65536)
                raw.append(t)
                if t == b"\r\n":
                    break
            break
        if sum(map(len, body)) + size > MAX_BODY:
            raise ValueError("body too large")
        data = conn.read_exact(size + 2)
        raw.append(data)
        body.append(data[:-2])
    req.body_raw = b"".join(raw)
    req.body = b"".join(body)


# ---------------------------------------------------------------- responses

def send(sock, data):
    sock.sendall(data)


def response(status, headers=(), body=b"", reason=None, head_only=False):
    reasons = {100: "Continue", 103: "Early Hints", 200: "OK", 204: "No Content",
               304: "Not Modified", 400: "Bad Request", 404: "Not Found",
               405: "Method Not Allowed", 500: "Internal Server Error"}
    reason = reason or reasons.get(status, "Status")
    out = ["HTTP/1.1 %d %s" % (status, reason)]
    out += ["%s: %s" % kv for kv in headers]
    data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
    return data if head_only else data + body


def simple(req, status, body, ctype="text/plain", extra=(), close=False):
    hdrs = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    hdrs += list(extra)
    if close:
        hdrs.append(("Connection", "close"))
    return response(status, hdrs, body, head_only=req.method == "HEAD")


def hold(sock, seconds):
    """Keep the connection open doing nothing until the peer goes or time's up."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([sock], [], [], 0.2)
        if r:
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return


def rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


GZ_PLAIN = b"".join(b"line %05d of a gzip test body\n" % i for i in range(2000))


def gz(data):
    return gzip.compress(data, mtime=0)


BAD_CHUNKS = {
    "neg": b"-1",
    "plus": b"+1",
    "long": b"10000000000000000",          # 17 hex digits: overflows 64 bits
    "max": b"ffffffffffffffff",
    "zz": b"zz",
    "space": b" 5",
    "empty": b"",
    "bigext": b"5;" + b"e" * (1 << 20),     # 1 MiB chunk extension
}


# Behaviours: each returns True to keep the connection for another request.
# `srv` is the server (stats, capture), `conn` the buffered socket.

def b_truncated(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "100")], b"x" * 50))
    return False


def b_reset_mid_body(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "100000")], b"r" * 1000))
    time.sleep(0.2)
    rst_close(conn.sock)
    return None                      # socket already gone


def b_bad_chunk(srv, conn, req):
    name = req.path.rsplit("/", 1)[-1]
    size = BAD_CHUNKS.get(name)
    if size is None:
        send(conn.sock, simple(req, 404, b"unknown bad-chunk case\n"))
        return True
    head = response(200, [("Content-Type", "text/plain"),
                          ("Transfer-Encoding", "chunked")])
    send(conn.sock, head + size + b"\r\nhello\r\n0\r\n\r\n")
    return True                 # a client must not reuse it


def b_missing_final_chunk(srv, conn, req):
    head = response(200, [("Transfer-Encoding", "chunked")])
    send(conn.sock, head + b"5\r\nhello\r\n6\r\n world\r\n")
    return False


def b_chunked_ok(srv, conn, req):
    head = response(200, [("Content-Type", "text/plain"),
                          ("Transfer-Encoding", "chunked"),
                          ("Trailer", "X-Trailer")])
    body = (b"5;name=value\r\nhello\r\n6\r\n world\r\n"
            b"A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")
    send(conn.sock, head if req.method == "HEAD" else head + body)
    return True


def b_bytewise(srv, conn, req):
    """A chunked response sent one byte per segment."""
    head = response(200, [("Content-Type", "text/plain"),
                          ("Transfer-Encoding", "chunked"),
                          ("X-Bytewise", "yes")])
    data = head + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(data)):
        send(conn.sock, data[i:i + 1])
        time.sleep(0.002)
    return True


def b_cl_conflict(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "5"),
                                   ("Content-Length", "6")], b"hello!"))
    return True                 # a client must not reuse it


def b_cl_list_conflict(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "5, 6")], b"hello!"))
    return True                 # a client must not reuse it


def b_esc_header(srv, conn, req):
    # a header value with an ESC sequence (clear screen) and a BEL
    send(conn.sock, response(200, [("X-Evil", "a\x1b[2J\x07b"),
                                   ("Content-Length", "2")], b"ok"))
    return True


def b_cl_te(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "5"),
                                   ("Transfer-Encoding", "chunked")],
                             b"5\r\nhello\r\n0\r\n\r\n"))
    return True                 # a client must not reuse it


def b_cl_negative(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "-1")], b"hello"))
    return False


def b_cl_extra(srv, conn, req):
    """Content-Length: 5 followed by more bytes than announced."""
    send(conn.sock, response(200, [("Content-Length", "5")], b"helloEXTRA"))
    return False


def b_huge_headers(srv, conn, req):
    hdrs = [("X-Filler-%03d" % i, "a" * 4000) for i in range(100)]   # ~400 KiB
    hdrs.append(("Content-Length", "5"))
    send(conn.sock, response(200, hdrs, b"hello"))
    return False


def b_huge_line(srv, conn, req):
    hdrs = [("X-Huge", "b" * (200 << 10)), ("Content-Length", "5")]
    send(conn.sock, response(200, hdrs, b"hello"))
    return False


def b_stall(srv, conn, req):
    send(conn.sock, response(200, [("Content-Length", "100")]))
    hold(conn.sock, 30)
    return False


def b_stall_head(srv, conn, req):
    hold(conn.sock, 30)
    return False


def b_drip(srv, conn, req):
    q = dict(p.split("=", 1) for p in req.query.split("&") if "=" in p)
    n, delay = int(q.get("n", 20)), float(q.get("delay", 0.05))
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send(conn.sock, response(200, [("Content-Type", "text/plain"),
                                   ("Content-Length", str(n))]))
    for i in range(n):
        time.sleep(delay)
        send(conn.sock, bytes([ord("a") + i % 26]))
    return True


def b_garbage_status(srv, conn, req):
    send(conn.sock, b"HTTX/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nhi")
    return False


def b_interim(srv, conn, req):
    send(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n"
         b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
         + response(200, [("Content-Type", "text/plain"),
                          ("Content-Length", "6")], b"final\n"))
    return True


def b_empty(srv, conn, req):
    return False


def b_keepalive(srv, conn, req):
    body = b"keepalive conn=%d req=%d\n" % (req.cid, req.nth)
    send(conn.sock, simple(req, 200, body))
    return True


def b_close_after(srv, conn, req):
    body = b"close-after conn=%d req=%d\n" % (req.cid, req.nth)
    send(conn.sock, simple(req, 200, body, close=True))
    return False


def b_silent_close(srv, conn, req):
    """Answers as if the connection stays open, then closes it: the next
    request on it finds it dead (a connection closed while idle)."""
    body = b"silent-close conn=%d req=%d\n" % (req.cid, req.nth)
    send(conn.sock, simple(req, 200, body))
    return False


def b_bomb(srv, conn, req):
    """/bomb/br, /bomb/zst: 1 GiB of zeros compressed to a few KiB
    (tests/servers/data), as Content-Encoding br / zstd."""
    kind = req.path.rsplit("/", 1)[-1]
    coding = {"br": "br", "zst": "zstd"}.get(kind)
    if not coding:
        send(conn.sock, simple(req, 404, b"no such bomb\n"))
        return True
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "data", "bomb-1g." + kind), "rb") as f:
        data = f.read()
    send(conn.sock, response(200, [("Content-Encoding", coding),
                                   ("Content-Length", str(len(data)))], data))
    return True


def b_http10(srv, conn, req):
    body = b"".join(b"http/1.0 close-delimited line %04d\n" % i for i in range(300))
    send(conn.sock, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
    return False


def b_no_length(srv, conn, req):
    """HTTP/1.1 with neither Content-Length nor chunked: read until close."""
    body = b"".join(b"http/1.1 close-delimited line %04d\n" % i for i in range(300))
    send(conn.sock, response(200, [("Content-Type", "text/plain")], body))
    return False


def b_echo(srv, conn, req):
    extra = []
    if req.early_body is not None:
        extra.append(("X-Early-Body", "yes" if req.early_body else "no"))
    send(conn.sock, simple(req, 200, req.raw, "application/octet-stream", extra))
    return True


def b_redir(srv, conn, req):
    """/redir?to=URL&code=N: a redirect, keeping the connection."""
    import urllib.parse
    q = urllib.parse.parse_qs(req.query or "")
    to = q.get("to", ["/echo"])[0]
    code = int(q.get("code", ["302"])[0])
    send(conn.sock, response(code, [("Location", to),
                                    ("Content-Length", "0")], b""))
    return True


def b_redir_body(srv, conn, req):
    """/redir-body?to=URL&code=N&n=BYTES: a redirect with a body of n bytes
    (default 1000) that a client following it must not keep."""
    import urllib.parse
    q = urllib.parse.parse_qs(req.query or "")
    to = q.get("to", ["/echo"])[0]
    code = int(q.get("code", ["302"])[0])
    body = (b"redirect body " * 1000)[:int(q.get("n", ["1000"])[0])]
    send(conn.sock, response(code, [("Location", to), ("Content-Type", "text/plain"),
                                    ("Content-Length", str(len(body)))], body))
    return True


def b_head_cl(srv, conn, req):
    """Content-Length announces 1000 bytes; a HEAD reply carries none."""
    body = b"" if req.method == "HEAD" else b"h" * 1000
    send(conn.sock, response(200, [("Content-Type", "text/plain"),
                                   ("Content-Length", "1000")], body))
    return True


def b_no_content(srv, conn, req):
    send(conn.sock, response(204, [("X-Empty", "yes")]))
    return True


def b_status(srv, conn, req):
    try:
        code = int(req.path.rsplit("/", 1)[-1])
    except ValueError:
        code = 400
    send(conn.sock, simple(req, code, b"status %d body\n" % code))
    return True


def b_digest_unusable(srv, conn, req):
    """401 with a Digest challenge no client can answer (an algorithm RFC
    7616 does not define) and a body that must reach the client."""
    send(conn.sock, simple(req, 401, b"digest-unusable 401 body\n", extra=[
        ("WWW-Authenticate", 'Digest realm="x", nonce="abc", '
                             'algorithm=SHA-1024, qop="auth"')]))
    return True


def b_gzip_ok(srv, conn, req):
    send(conn.sock, simple(req, 200, gz(GZ_PLAIN), "text/plain",
                           [("Content-Encoding", "gzip")]))
    return True


def b_gzip_truncated(srv, conn, req):
    data = gz(GZ_PLAIN)
    send(conn.sock, simple(req, 200, data[:len(data) // 2], "text/plain",
                           [("Content-Encoding", "gzip")]))
    return True


def b_gzip_corrupt(srv, conn, req):
    data = bytearray(gz(GZ_PLAIN))
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0x5a
    send(conn.sock, simple(req, 200, bytes(data), "text/plain",
                           [("Content-Encoding", "gzip")]))
    return True


def b_gzip_chain(srv, conn, req):
    """GZ_PLAIN gzipped n times: ?n=N, &split=1 names each coding in its own
    Content-Encoding header instead of one comma list."""
    q = dict(p.split("=", 1) for p in req.query.split("&") if "=" in p)
    n, split = int(q.get("n", 2)), q.get("split") == "1"
    data = GZ_PLAIN
    for _ in range(n):
        data = gz(data)
    if split:
        ce = [("Content-Encoding", "gzip")] * n
    else:
        ce = [("Content-Encoding", ", ".join(["gzip"] * n))]
    send(conn.sock, simple(req, 200, data, "text/plain", ce))
    return True


def b_deflate_ok(srv, conn, req):
    send(conn.sock, simple(req, 200, zlib.compress(GZ_PLAIN), "text/plain",
                           [("Content-Encoding", "deflate")]))
    return True


def b_stats(srv, conn, req):
    if req.path == "/stats/reset":
        srv.stats.reset()
        body = b'{"reset": true}\n'
    else:
        body = json.dumps(srv.stats.snapshot(req.cid)).encode() + b"\n"
    send(conn.sock, simple(req, 200, body, "application/json"))
    return True


def b_help(srv, conn, req):
    body = ("\n".join(sorted(p for p, _ in BEHAVIOURS)) + "\n").encode()
    send(conn.sock, simple(req, 200, body))
    return True


def b_not_found(srv, conn, req):
    send(conn.sock, simple(req, 404, b"no such behaviour\n"))
    return True


# /flaky: the first n requests for one target (path and query) fail.
FLAKY_LOCK = threading.Lock()
FLAKY_SEEN = {}              # target -> requests seen
FLAKY_SIZE = 1000            # the body of a success (mode=cut)


def flaky_body(n=FLAKY_SIZE):
    return bytes(b"0123456789abcdefghijklmnopqrstuvwxyz"[i % 36] for i in range(n))


def b_flaky(srv, conn, req):
    """/flaky?n=2&code=503&retry_after=1&id=X: the first n requests for this
    exact target get `code` (with Retry-After: retry_after seconds, or an
    HTTP-date ra_date seconds ahead), later ones 200 "ok".  mode=cut: a
    1000-byte body that honours Range (206), whose first n replies send
    only half of the bytes asked for and close (a transfer cut short)."""
    import email.utils
    import urllib.parse
    q = {k: v[0] for k, v in urllib.parse.parse_qs(req.query or "").items()}
    with FLAKY_LOCK:
        seen = FLAKY_SEEN.get(req.target, 0)
        FLAKY_SEEN[req.target] = seen + 1
    failing = seen < int(q.get("n", "1"))
    if q.get("mode") == "cut":
        body = flaky_body()
        first = 0
        rng = req.header("Range") or ""
        if rng.startswith("bytes=") and rng.endswith("-"):
            first = int(rng[6:-1])
        if first >= len(body):
            send(conn.sock, response(416, [("Content-Range", "bytes */%d" % len(body)),
                                           ("Content-Length", "0")]))
            return True
        hdrs = [("Content-Type", "application/octet-stream"),
                ("Accept-Ranges", "bytes"),
                ("Content-Length", str(len(body) - first))]
        status = 200
        if first:
            status = 206
            hdrs.append(("Content-Range", "bytes %d-%d/%d" % (first, len(body) - 1,
                                                              len(body))))
        part = body[first:]
        if failing:
            send(conn.sock, response(status, hdrs, part[:len(part) // 2],
                                     reason="Partial Content" if first else None))
            return False
        send(conn.sock, response(status, hdrs, part,
                                 reason="Partial Content" if first else None))
        return True
    if not failing:
        send(conn.sock, simple(req, 200, b"ok\n"))
        return True
    code = int(q.get("code", "503"))
    extra = []
    if "retry_after" in q:
        extra.append(("Retry-After", q["retry_after"]))
    elif "ra_date" in q:
        extra.append(("Retry-After", email.utils.formatdate(
            time.time() + float(q["ra_date"]), usegmt=True)))
    send(conn.sock, simple(req, code, b"flaky: failure %d of %s\n"
                           % (seen + 1, q.get("n", "1").encode()), extra=extra))
    return True


# /trickle: a body that arrives slowly, for pause and cancel tests.
TRICKLE_BLOCK = bytes(range(256)) * 256      # 64 KiB


def trickle_body(size):
    """The body of /trickle?size=N: TRICKLE_BLOCK repeated, cut to N."""
    return (TRICKLE_BLOCK * (size // len(TRICKLE_BLOCK) + 1))[:size]


def b_trickle(srv, conn, req):
    """/trickle?size=N&first=F&chunk=C&delay=D: Content-Length N, F bytes
    at once, then C bytes every D seconds (defaults 1 MiB, 64 KiB, 64 KiB,
    0.01 s)."""
    q = dict(p.split("=", 1) for p in req.query.split("&") if "=" in p)
    size = int(q.get("size", 1 << 20))
    first = int(q.get("first", 65536))
    chunk = max(1, int(q.get("chunk", 65536)))
    delay = float(q.get("delay", 0.01))
    body = trickle_body(size)
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send(conn.sock, response(200, [("Content-Type", "application/octet-stream"),
                                   ("Content-Length", str(size))]))
    send(conn.sock, body[:first])
    pos = first
    while pos < size:
        time.sleep(delay)
        send(conn.sock, body[pos:pos + chunk])
        pos += chunk
    return True


# (path or prefix ending in '/', handler); first match wins.
BEHAVIOURS = [
    ("/truncated", b_truncated),
    ("/reset-mid-body", b_reset_mid_body),
    ("/bad-chunk/", b_bad_chunk),
    ("/missing-final-chunk", b_missing_final_chunk),
    ("/chunked-ok", b_chunked_ok),
    ("/bytewise", b_bytewise),
    ("/cl-conflict", b_cl_conflict),
    ("/cl-list-conflict", b_cl_list_conflict),
    ("/cl-te", b_cl_te),
    ("/esc-header", b_esc_header),
    ("/cl-negative", b_cl_negative),
    ("/cl-extra", b_cl_extra),
    ("/huge-headers", b_huge_headers),
    ("/huge-line", b_huge_line),
    ("/stall", b_stall),
    ("/stall-head", b_stall_head),
    ("/drip", b_drip),
    ("/garbage-status", b_garbage_status),
    ("/interim", b_interim),
    ("/empty", b_empty),
    ("/keepalive", b_keepalive),
    ("/close-after", b_close_after),
    ("/http10", b_http10),
    ("/no-length", b_no_length),
    ("/echo", b_echo),
    ("/redir", b_redir),
    ("/bomb/", b_bomb),
    ("/silent-close", b_silent_close),
    ("/echo/", b_echo),
    ("/expect", b_echo),
    ("/expect-none", b_echo),
    ("/head-cl", b_head_cl),
    ("/no-content", b_no_content),
    ("/status/", b_status),
    ("/digest-unusable", b_digest_unusable),
    ("/gzip-ok", b_gzip_ok),
    ("/gzip-truncated", b_gzip_truncated),
    ("/gzip-corrupt", b_gzip_corrupt),
    ("/deflate-ok", b_deflate_ok),
    ("/gzip-chain", b_gzip_chain),
    ("/stats", b_stats),
    ("/stats/reset", b_stats),
    ("/help", b_help),
    ("/flaky", b_flaky),
    ("/trickle", b_trickle),
    ("/redir-body", b_redir_body),
]


def lookup(path):
    for p, fn in BEHAVIOURS:
        if p.endswith("/") and p != "/" and path.startswith(p):
            return fn
        if path == p:
            return fn
    return b_not_found


def is_stats(path):
    return path == "/stats" or path == "/stats/reset"


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        sock = self.request
        sock.settimeout(SOCK_TIMEOUT)
        cid = srv.stats.new_conn()
        conn = Conn(sock)
        only_stats = True
        try:
            while True:
                req = Request()
                req.cid = cid
                try:
                    req.head = conn.read_until(b"\r\n\r\n", MAX_HEAD)
                except Closed:
                    if conn.buf:
                        srv.capture.save(conn.buf, partial=True)
                    return
                except ValueError:
                    send(sock, simple(req, 400, b"request head too large\n",
                                      close=True))
                    return
                try:
                    parse_head(req)
                except ValueError as e:
                    srv.capture.save(req.head + conn.buf, partial=True)
                    send(sock, simple(req, 400, str(e).encode() + b"\n",
                                      close=True))
                    return
                stats_req = is_stats(req.path)
                if not stats_req:
                    only_stats = False
                    req.nth = srv.stats.add_request(cid, req.method + " " + req.target)
                expect = (req.header("Expect") or "").lower() == "100-continue"
                if expect and not req.path.startswith("/expect-none"):
                    if req.path.startswith("/expect"):
                        req.early_body = conn.data_pending(0.5)
                    send(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
                try:
                    te = (req.header("Transfer-Encoding") or "").lower()
                    cl = req.header("Content-Length")
                    if "chunked" in te:
                        read_chunked(conn, req)
                    elif cl is not None:
                        n = int(cl)
                        if n > MAX_BODY:
                            raise ValueError("body too large")
                        req.body = req.body_raw = conn.read_exact(n)
                except Closed:
                    srv.capture.save(req.head + conn.buf, partial=True)
                    return
                except ValueError as e:
                    srv.capture.save(req.head + conn.buf, partial=True)
                    send(sock, simple(req, 400, str(e).encode() + b"\n",
                                      close=True))
                    return
                if not stats_req:
                    srv.capture.save(req.raw)
                keep = lookup(req.path)(srv, conn, req)
                if keep is None:
                    return                     # socket was reset and closed
                if (req.header("Connection") or "").lower() == "close":
                    keep = False
                if not keep:
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    hold(sock, 2)              # let the client read, then go
                    return
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError):
            return
        finally:
            if only_stats:
                srv.stats.drop_conn(cid)
            try:
                sock.close()
            except OSError:
                pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, family, capture_dir):
        self.address_family = family
        self.stats = Stats()
        self.capture = Capture(capture_dir)
        super().__init__(addr, Handler)


def watchdog(parent, lifetime):
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        if os.getppid() != parent:
            break
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--capture")
    ap.add_argument("--lifetime", type=float, default=3600.0,
                    help="exit after this many seconds (default 3600)")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("hostile.py: loopback only (127.0.0.1 or ::1)")
    host = "127.0.0.1" if a.host == "localhost" else a.host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = Server((host, a.port), family, a.capture)
    port = srv.server_address[1]
    if a.portfile:
        tmp = a.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.portfile)
    else:
        print(port, flush=True)
    threading.Thread(target=watchdog, args=(os.getppid(), a.lifetime),
                     daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
