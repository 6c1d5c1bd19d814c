#!/usr/bin/python3
"""proxy_hostile.py -- scripted HTTP and SOCKS proxies for hflow's tests.

    /usr/bin/python3 tests/servers/proxy_hostile.py --portfile FILE --log FILE
        [--host 127.0.0.1] [--user U --password P] [--cert C --key K]
        [--lifetime S]

One process, one listener per mode (MODES below), each on a free port of
--host.  Once every listener is bound, FILE receives a JSON object
{mode: port}.  What each connection did is appended to the --log file as
JSON lines ({"mode", "conn", "kind", ...}): the heads an HTTP proxy read,
the SOCKS greeting, authentication and request (ATYP, name or address,
port), the bytes a client sent before it went away.

The proxies tunnel for real, but only to loopback: an IP literal must be
127.0.0.0/8 or ::1; a name is looked up in NAMES (localhost and every name
ending in ".test" are 127.0.0.1).  No DNS lookup is ever made; any other
target is refused (HTTP 502, SOCKS5 REP 2, SOCKS4 0x5B).

Loopback only: --host must be 127.0.0.1 or ::1.  Standard library only.
The process exits by itself when its parent dies or after --lifetime s.
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

SOCK_TIMEOUT = 30.0         # any single wait on a client or an origin
MAX_HEAD = 1 << 20          # request heads we read
BYTE_PACE = 0.005           # seconds between the bytes of a slow reply
BIG_HEAD = 400 * 1024       # the oversized CONNECT answer (> 300 KiB)

# HTTP proxies: mode -> what it does
HTTP_MODES = {
    "http-open": "a forwarding proxy: CONNECT tunnels, absolute-form forwarded",
    "http-auth": "as http-open, but wants Proxy-Authorization: Basic (407 without)",
    "http-digest": "as http-open, but wants Proxy-Authorization: Digest (RFC 7616, MD5)",
    "http-403": "answers every request 403 with a body",
    "http-407": "answers every request 407 (Proxy-Authenticate: Basic) with a body",
    "http-502": "answers every request 502 with a body",
    "http-midhead": "sends part of a 200 head, then closes",
    "http-bighead": "answers CONNECT 200 with a head over 300 KiB, then tunnels",
    "https-open": "http-open over TLS (--cert/--key)",
}
# SOCKS proxies
SOCKS_MODES = {
    "socks5-slow": "SOCKS5 (RFC 1929 when offered, any credentials; else no auth) one byte at a time, then tunnels",
    "socks5-auth": "SOCKS5 that accepts only RFC 1929 with --user/--password, one byte at a time",
    "socks5-close": "reads the SOCKS5 greeting and closes",
    "socks5-close-reply": "answers the greeting, reads the request, sends 3 bytes of the reply, closes",
    "socks4": "SOCKS4 and SOCKS4a, then tunnels",
}
for _n in range(1, 9):
    SOCKS_MODES["socks5-rep%d" % _n] = "SOCKS5 that answers the request with REP %d" % _n
MODES = dict(HTTP_MODES, **SOCKS_MODES)

NAMES = {"localhost": "127.0.0.1"}


class Log:
    """JSON lines, one per event, flushed at once (tests read them live)."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.n = 0

    def conn_id(self):
        with self.lock:
            self.n += 1
            return self.n

    def write(self, mode, conn, kind, **kw):
        ev = {"mode": mode, "conn": conn, "kind": kind, "t": time.time()}
        ev.update(kw)
        line = json.dumps(ev) + "\n"
        with self.lock:
            with open(self.path, "a") as f:
                f.write(line)


class Closed(Exception):
    pass


class Client:
    """A buffered accepted socket that counts what the peer sent."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.total = 0

    def fill(self):
        try:
            data = self.sock.recv(65536)
        except (OSError, socket.timeout):
            data = b""
        if not data:
            raise Closed()
        self.total += len(data)
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until(self, delim, limit):
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[:i + len(delim)], self.buf[i + len(delim):]
                return out
            if len(self.buf) > limit:
                raise ValueError("too long")
            self.fill()

    def send(self, data):
        self.sock.sendall(data)

    def send_slow(self, data):
        """One byte per segment, BYTE_PACE apart."""
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(BYTE_PACE)


def target_address(host):
    """The loopback address for a target host, or None (never DNS)."""
    h = host.strip("[]").lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        if h in NAMES:
            return NAMES[h]
        if h.endswith(".test"):
            return "127.0.0.1"
        return None
    return str(ip) if ip.is_loopback else None


def connect_target(host, port):
    addr = target_address(host)
    if addr is None or not 0 < port < 65536:
        return None
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((addr, port))
    except OSError:
        s.close()
        return None
    s.settimeout(SOCK_TIMEOUT)
    return s


def relay(a, a_buf, b):
    """Copy both ways between a (whose already-read bytes are a_buf) and b
    until both sides have closed, or nothing moved for SOCK_TIMEOUT."""
    if a_buf:
        b.sendall(a_buf)
    open_ = {a: b, b: a}
    while open_:
        r, _, _ = select.select(list(open_), [], [], SOCK_TIMEOUT)
        if not r:
            return
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            peer = open_.get(s)
            if peer is None:
                continue
            if data:
                try:
                    peer.sendall(data)
                except OSError:
                    return
            else:
                del open_[s]
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass


# ------------------------------------------------------------ HTTP proxies

REASONS = {200: "Connection established", 403: "Forbidden",
           407: "Proxy Authentication Required", 502: "Bad Gateway",
           400: "Bad Request", 501: "Not Implemented"}


def http_answer(status, body, extra=()):
    head = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
            "Content-Type: text/plain",
            "Content-Length: %d" % len(body)]
    head += ["%s: %s" % kv for kv in extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    hdrs = []
    for line in lines[1:]:
        if not line:
            continue
        n, sep, v = line.partition(":")
        if not sep:
            raise ValueError("bad header line")
        hdrs.append((n, v.strip(" \t")))
    return parts[0], parts[1], parts[2], hdrs


def hget(hdrs, name):
    for n, v in hdrs:
        if n.lower() == name.lower():
            return v
    return None


def split_hostport(authority, default=None):
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = authority.rpartition(":")
        if not host:
            host, port = authority, ""
    try:
        return host, int(port) if port else default
    except ValueError:
        return host, None


HOP = ("proxy-authorization", "proxy-connection", "connection", "keep-alive",
       "te", "upgrade")


def forward(srv, mode, cid, cl, method, target, version, hdrs):
    """Absolute-form request: to the origin in origin-form without the
    hop-by-hop headers (Proxy-Authorization is for the proxy only, RFC 9110
    11.7.1), then the answer back with Connection: close."""
    u = urllib.parse.urlsplit(target)
    if u.scheme != "http" or not u.hostname:
        cl.send(http_answer(400, b"absolute-form http URL wanted\n",
                            [("Connection", "close")]))
        return False
    port = u.port or 80
    if hget(hdrs, "Transfer-Encoding"):
        cl.send(http_answer(501, b"chunked requests not forwarded\n",
                            [("Connection", "close")]))
        return False
    body = cl.read_exact(int(hget(hdrs, "Content-Length") or 0))
    o = connect_target(u.hostname, port)
    srv.log.write(mode, cid, "forward", host=u.hostname, port=port, ok=o is not None)
    if o is None:
        cl.send(http_answer(502, b"cannot reach %s\n" % u.netloc.encode(),
                            [("Connection", "close")]))
        return False
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    out = ["%s %s %s" % (method, path, version)]
    out += ["%s: %s" % (n, v) for n, v in hdrs if n.lower() not in HOP]
    out.append("Connection: close")
    with o:
        o.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
        oc = Client(o)
        try:
            head = oc.read_until(b"\r\n\r\n", MAX_HEAD)
        except (Closed, ValueError):
            cl.send(http_answer(502, b"bad answer from the origin\n",
                                [("Connection", "close")]))
            return False
        lines = head[:-4].split(b"\r\n")
        keep = [l for l in lines if not l.lower().startswith((b"connection:",
                                                              b"keep-alive:"))]
        cl.send(b"\r\n".join(keep + [b"Connection: close"]) + b"\r\n\r\n" + oc.buf)
        while True:
            try:
                data = o.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            cl.send(data)
    return False


def tunnel(srv, mode, cid, cl, target):
    host, port = split_hostport(target)
    o = connect_target(host, port or 0) if port else None
    srv.log.write(mode, cid, "tunnel", host=host, port=port, ok=o is not None)
    if o is None:
        cl.send(http_answer(502, b"cannot reach %s\n" % target.encode("latin-1"),
                            [("Connection", "close")]))
        return
    with o:
        if mode == "http-bighead":
            filler = "X-Filler-%05d: " + "f" * 1000 + "\r\n"
            head = "HTTP/1.1 200 Connection established\r\n"
            n = 0
            while len(head) < BIG_HEAD:
                head += filler % n
                n += 1
            cl.send((head + "\r\n").encode())
        else:
            cl.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        relay(cl.sock, cl.buf, o)


REALM = "proxy_hostile"
AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)')


def md5hex(text):
    return hashlib.md5(text.encode("latin-1")).hexdigest()


def digest_ok(srv, method, value):
    """Check a Digest Proxy-Authorization (RFC 7616 3.4.1, MD5, qop=auth
    or none) against --user/--password and this run's nonce."""
    if not value or not value.lower().startswith("digest "):
        return False
    p = {}
    for m in AUTH_PARAM.finditer(value[7:]):
        p[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    if (p.get("username") != srv.user or p.get("realm") != REALM or
            p.get("nonce") != srv.nonce or "uri" not in p):
        return False
    ha1 = md5hex("%s:%s:%s" % (srv.user, REALM, srv.password))
    ha2 = md5hex("%s:%s" % (method, p["uri"]))
    if p.get("qop") == "auth":
        want = md5hex("%s:%s:%s:%s:auth:%s" % (ha1, srv.nonce, p.get("nc", ""),
                                               p.get("cnonce", ""), ha2))
    else:
        want = md5hex("%s:%s:%s" % (ha1, srv.nonce, ha2))
    return p.get("response") == want


def handle_http(srv, mode, cid, cl):
    while True:
        try:
            head = cl.read_until(b"\r\n\r\n", MAX_HEAD)
        except Closed:
            if cl.buf:
                srv.log.write(mode, cid, "partial", data=cl.buf.decode("latin-1"))
            return
        except ValueError:
            cl.send(http_answer(400, b"head too large\n", [("Connection", "close")]))
            return
        srv.log.write(mode, cid, "head", head=head.decode("latin-1"))
        try:
            method, target, version, hdrs = parse_head(head)
        except ValueError as e:
            cl.send(http_answer(400, str(e).encode() + b"\n", [("Connection", "close")]))
            return
        if mode in ("http-403", "http-502"):
            status = int(mode[-3:])
            cl.send(http_answer(status, b"proxy_hostile says %d to %s %s\n"
                                % (status, method.encode(), target.encode("latin-1"))))
            continue
        if mode == "http-407":
            cl.send(http_answer(407, b"proxy_hostile wants credentials\n",
                                [("Proxy-Authenticate", 'Basic realm="proxy_hostile"')]))
            continue
        if mode == "http-midhead":
            cl.send(b"HTTP/1.1 200 Connection established\r\nX-Partial: yes\r\nX-Cut")
            time.sleep(0.05)
            return
        if mode in ("http-auth", "http-digest"):
            got = hget(hdrs, "Proxy-Authorization")
            if mode == "http-auth":
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (srv.user, srv.password)).encode()).decode()
                ok = got == want
                challenge = 'Basic realm="%s"' % REALM
            else:
                ok = digest_ok(srv, method, got)
                challenge = ('Digest realm="%s", nonce="%s", qop="auth", '
                             'algorithm=MD5' % (REALM, srv.nonce))
            srv.log.write(mode, cid, "auth", ok=ok, got=got)
            if not ok:
                cl.send(http_answer(407, b"proxy_hostile: credentials wanted\n",
                                    [("Proxy-Authenticate", challenge)]))
                continue
        if method == "CONNECT":
            tunnel(srv, mode, cid, cl, target)
            return
        if mode == "http-bighead":
            cl.send(http_answer(400, b"CONNECT only\n", [("Connection", "close")]))
            return
        forward(srv, mode, cid, cl, method, target, version, hdrs)
        return


# ----------------------------------------------------------- SOCKS proxies

def socks5_reply(rep, addr="127.0.0.1", port=0):
    ip = ipaddress.ip_address(addr)
    atyp = 1 if ip.version == 4 else 4
    return bytes([5, rep, 0, atyp]) + ip.packed + struct.pack("!H", port)


def handle_socks5(srv, mode, cid, cl):
    slow = mode in ("socks5-slow", "socks5-auth")
    send = cl.send_slow if slow else cl.send
    ver, n = cl.read_exact(2)
    methods = list(cl.read_exact(n))
    srv.log.write(mode, cid, "socks5-greeting", ver=ver, methods=methods)
    if ver != 5 or mode == "socks5-close":
        return
    if mode == "socks5-auth":
        method = 2 if 2 in methods else 0xFF
    elif 2 in methods:
        method = 2                            # to record what was sent
    elif 0 in methods:
        method = 0
    else:
        method = 0xFF
    send(bytes([5, method]))
    if method == 0xFF:
        return
    if method == 2:
        # RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD
        v, ulen = cl.read_exact(2)
        user = cl.read_exact(ulen)
        plen = cl.read_exact(1)[0]
        pw = cl.read_exact(plen)
        ok = mode != "socks5-auth" or (user.decode("latin-1") == srv.user and
                                        pw.decode("latin-1") == srv.password)
        srv.log.write(mode, cid, "socks5-auth", ver=v, user=user.decode("latin-1"),
                      password=pw.decode("latin-1"), ok=ok)
        send(bytes([1, 0 if ok else 1]))
        if not ok:
            return
    ver, cmd, rsv, atyp = cl.read_exact(4)
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, cl.read_exact(4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, cl.read_exact(16))
    elif atyp == 3:
        host = cl.read_exact(cl.read_exact(1)[0]).decode("latin-1")
    else:
        host = None
    port = struct.unpack("!H", cl.read_exact(2))[0] if host is not None else 0
    srv.log.write(mode, cid, "socks5-request", ver=ver, cmd=cmd, atyp=atyp,
                  host=host, port=port)
    if mode.startswith("socks5-rep"):
        send(socks5_reply(int(mode[len("socks5-rep"):])))
        return
    if mode == "socks5-close-reply":
        send(socks5_reply(0)[:3])
        time.sleep(0.05)
        return
    if host is None:
        send(socks5_reply(8))                 # address type not supported
        return
    if cmd != 1:
        send(socks5_reply(7))                 # command not supported
        return
    o = connect_target(host, port)
    srv.log.write(mode, cid, "tunnel", host=host, port=port, ok=o is not None)
    if o is None:
        send(socks5_reply(2 if target_address(host) is None else 5))
        return
    with o:
        baddr, bport = o.getsockname()[:2]
        send(socks5_reply(0, baddr, bport))
        relay(cl.sock, cl.buf, o)


def handle_socks4(srv, mode, cid, cl):
    vn, cd = cl.read_exact(2)
    port = struct.unpack("!H", cl.read_exact(2))[0]
    ip = cl.read_exact(4)
    userid = cl.read_until(b"\0", 1024)[:-1].decode("latin-1")
    host = socket.inet_ntoa(ip)
    name = None
    if ip[:3] == b"\0\0\0" and ip[3] != 0:     # SOCKS4a: the name follows
        name = cl.read_until(b"\0", 1024)[:-1].decode("latin-1")
        host = name
    srv.log.write(mode, cid, "socks4-request", vn=vn, cd=cd, port=port,
                  ip=socket.inet_ntoa(ip), userid=userid, name=name)
    o = connect_target(host, port) if vn == 4 and cd == 1 else None
    srv.log.write(mode, cid, "tunnel", host=host, port=port, ok=o is not None)
    if o is None:
        cl.send(b"\0\x5b" + b"\0" * 6)
        return
    with o:
        cl.send(b"\0\x5a" + struct.pack("!H", port) + ip)
        relay(cl.sock, cl.buf, o)


# ------------------------------------------------------------------ server

class Server:
    def __init__(self, host, log, user, password, tls_ctx):
        self.host = host
        self.log = log
        self.user = user
        self.password = password
        self.tls_ctx = tls_ctx
        self.nonce = base64.b64encode(os.urandom(12)).decode()
        self.listeners = {}
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        for mode in MODES:
            if mode == "https-open" and tls_ctx is None:
                continue
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            s.listen(64)
            self.listeners[mode] = s

    def ports(self):
        return {m: s.getsockname()[1] for m, s in self.listeners.items()}

    def serve(self):
        for mode, s in self.listeners.items():
            threading.Thread(target=self.accept_loop, args=(mode, s),
                             daemon=True).start()

    def accept_loop(self, mode, lsock):
        while True:
            try:
                sock, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(mode, sock),
                             daemon=True).start()

    def handle(self, mode, sock):
        cid = self.log.conn_id()
        self.log.write(mode, cid, "accept")
        sock.settimeout(SOCK_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cl = Client(sock)
        try:
            if mode == "https-open":
                cl.sock = sock = self.tls_ctx.wrap_socket(sock, server_side=True)
            if mode.startswith("socks5"):
                handle_socks5(self, mode, cid, cl)
            elif mode == "socks4":
                handle_socks4(self, mode, cid, cl)
            else:
                handle_http(self, "http-open" if mode == "https-open" else mode,
                            cid, cl)
        except (Closed, ValueError, OSError, ssl.SSLError):
            pass
        finally:
            self.log.write(mode, cid, "close", received=cl.total)
            try:
                sock.close()
            except OSError:
                pass


def watchdog(parent, lifetime):
    end = time.monotonic() + lifetime
    while time.monotonic() < end and os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user", default="proxyuser")
    ap.add_argument("--password", default="proxy pass")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--lifetime", type=float, default=3600.0)
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1"):
        sys.exit("proxy_hostile.py: loopback only (127.0.0.1 or ::1)")
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    srv = Server(a.host, Log(a.log), a.user, a.password, ctx)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        json.dump(srv.ports(), f)
    os.rename(tmp, a.portfile)
    threading.Thread(target=watchdog, args=(os.getppid(), a.lifetime),
                     daemon=True).start()
    srv.serve()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
