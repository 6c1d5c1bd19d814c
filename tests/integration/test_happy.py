"""Happy eyeballs (RFC 8305) on loopback only: a name whose AAAA is ::1 and
whose A is 127.0.0.1, given by a test hosts file.  On ::1 either nothing
listens (refused at once) or a listener's accept queue is full (the SYN is
dropped: the attempt never completes); 127.0.0.1 answers.  The request must
succeed within the attempt delay plus a margin, and -v must show both
attempts."""

import os
import socket
import threading

from harness import test

BODY = b"ok from v4"


class V4Server:
    """A tiny HTTP/1.1 server on 127.0.0.1, answering every request."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            try:
                c.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                          b"Connection: close\r\n\r\n" % len(BODY) + BODY)
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _v6_black_hole(port):
    """A listener on [::1]:port whose accept queue is full, so a further
    SYN is dropped and the connect never completes.  Returns the sockets
    to close, or None when ::1 is not usable here."""
    try:
        l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        l6.bind(("::1", port))
        l6.listen(0)
    except OSError:
        return None
    fillers = []
    for _ in range(2):  # backlog 0 keeps one; fill it
        f = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        f.setblocking(False)
        try:
            f.connect(("::1", port))
        except BlockingIOError:
            pass
        fillers.append(f)
    return [l6] + fillers


def _hosts(t):
    path = t.path("hosts")
    with open(path, "w") as f:
        f.write("::1 he.test\n127.0.0.1 he.test\n")
    return path


def _ipv6_ok():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@test(tags=("fast",))
def happy_eyeballs_v6_refused_falls_to_v4(t):
    if t.is_curl or not _ipv6_ok():
        t.skip("needs hflow and ::1")
        return
    srv = V4Server()
    try:
        url = "http://he.test:%d/" % srv.port
        r = t.run(["-sS", "-v", "--hosts-file", _hosts(t), url])
        t.ok(r, quiet=False)
        t.eq(r.out, BODY, "body from the IPv4 server")
        t.match(r"Trying \[::1\]:%d \(attempt 1\)" % srv.port, r.err, "IPv6 first")
        t.match(r"connect to \[::1\]:%d failed: connection refused" % srv.port,
                r.err, "IPv6 refused")
        t.match(r"Trying 127\.0\.0\.1:%d \(attempt 2\)" % srv.port, r.err,
                "then IPv4")
        t.match(r"from hosts file", r.err, "names from the hosts file")
        t.check(r.elapsed < 0.2 + 1.0 + t.slack,
                "a refusal starts the next attempt at once: %.2f s" % r.elapsed)
    finally:
        srv.close()


@test(tags=("fast",))
def happy_eyeballs_v6_black_hole_v4_wins_after_delay(t):
    if t.is_curl or not _ipv6_ok():
        t.skip("needs hflow and ::1")
        return
    srv = V4Server()
    hole = _v6_black_hole(srv.port)
    if hole is None:
        srv.close()
        t.skip("cannot listen on ::1 at the same port")
        return
    try:
        url = "http://he.test:%d/" % srv.port
        r = t.run(["-sS", "-v", "--hosts-file", _hosts(t), url], timeout=20)
        t.ok(r, quiet=False)
        t.eq(r.out, BODY, "body from the IPv4 server")
        t.match(r"Trying \[::1\]:%d \(attempt 1\)" % srv.port, r.err, "IPv6 first")
        t.match(r"Trying 127\.0\.0\.1:%d \(attempt 2\)" % srv.port, r.err,
                "IPv4 after the attempt delay")
        t.match(r"attempt to \[::1\]:%d cancelled: 127\.0\.0\.1:%d won"
                % (srv.port, srv.port), r.err, "the pending IPv6 attempt is closed")
        # the IPv4 attempt starts after the 200 ms delay, not after a
        # SYN retransmission (1 s) or a connect timeout
        t.check(0.15 < r.elapsed < 0.2 + 0.6 + t.slack,
                "done within the attempt delay plus a margin: %.2f s" % r.elapsed)
        r = t.run(["-sS", "-v", "--happy-eyeballs-timeout-ms", "20",
                   "--hosts-file", _hosts(t), url], timeout=20)
        t.ok(r, quiet=False)
        t.check(r.elapsed < 0.02 + 0.5 + t.slack,
                "--happy-eyeballs-timeout-ms 20 is honoured: %.2f s" % r.elapsed)
    finally:
        for s in hole:
            s.close()
        srv.close()


@test(tags=("fast",))
def family_flags_restrict_attempts(t):
    if t.is_curl or not _ipv6_ok():
        t.skip("needs hflow and ::1")
        return
    srv = V4Server()
    try:
        url = "http://he.test:%d/" % srv.port
        r = t.run(["-sS", "-v", "-4", "--hosts-file", _hosts(t), url])
        t.ok(r, quiet=False)
        t.check("[::1]" not in r.err, "-4 makes no IPv6 attempt")
        r = t.run(["-sS", "-6", "--hosts-file", _hosts(t), url])
        t.error(r, 7, r"\[::1\]:%d" % srv.port, r"refused", empty_stdout=True)
    finally:
        srv.close()


@test()
def resolve_flag_gives_both_families(t):
    if t.is_curl or not _ipv6_ok():
        t.skip("needs hflow and ::1")
        return
    srv = V4Server()
    try:
        url = "http://both.test:%d/" % srv.port
        r = t.run(["-sS", "-v", "--resolve",
                   "both.test:%d:[::1],127.0.0.1" % srv.port, url])
        t.ok(r, quiet=False)
        t.eq(r.out, BODY, "body")
        t.match(r"Trying \[::1\]:%d \(attempt 1\)" % srv.port, r.err, "IPv6 first")
        t.match(r"Trying 127\.0\.0\.1:%d \(attempt 2\)" % srv.port, r.err, "IPv4 next")
    finally:
        srv.close()
