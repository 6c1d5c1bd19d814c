"""proxies.py -- proxies on loopback for the proxy tests (issue 8).

    from proxies import tinyproxy, microsocks, proxy_hostile
    tp = tinyproxy(t, auth=("user", "pass"), ports=(443,))
    r = t.run(["-x", tp.url(), URL])
    t.check(any(...) for l in tp.requests(mark))

- Tinyproxy: Debian's tinyproxy (package tinyproxy-bin) in the foreground,
  its config file in the run's temp dir: Listen 127.0.0.1 on a free port,
  BasicAuth when asked, CONNECT allowed only to the ports given (any port
  when none), every request line logged (LogLevel Info) to a file.
- Microsocks: Debian's microsocks (SOCKS5, optional -u/-P) on 127.0.0.1;
  its stderr names each target ("connected to HOST:PORT"), so a test sees
  whether a name or an address was sent.
- ProxyHostile: tests/servers/proxy_hostile.py, one process with a port
  per scripted mode (bad CONNECT answers, slow SOCKS5, SOCKS4a, REP codes,
  an HTTPS proxy) and a JSON-lines event log.

All start on first use per run (t.env.server), bind 127.0.0.1 only and
are stopped by pid with the other servers.
"""

import itertools
import json
import os
import re
import shutil
import time

from harness import (PY, SERVERS, _stop_proc, _wait_for, free_port, port_open,
                     start_proc)


def _log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_from(path, mark):
    try:
        with open(path, "rb") as f:
            f.seek(mark)
            return f.read().decode("latin-1")
    except OSError:
        return ""


def _userinfo(auth):
    if not auth:
        return ""
    from urllib.parse import quote
    return "%s:%s@" % (quote(auth[0], safe=""), quote(auth[1], safe=""))


class Tinyproxy:
    """tinyproxy -d -c CONF on 127.0.0.1."""

    REQ_RE = re.compile(r"Request \(file descriptor \d+\): (\S+ \S+ \S+)")

    def __init__(self, tmp, name, auth=None, ports=()):
        self.bin = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        if not os.access(self.bin, os.X_OK):
            raise FileNotFoundError("tinyproxy not installed (make deps)")
        self.dir = os.path.join(tmp, "tinyproxy-" + name)
        os.makedirs(self.dir)
        self.auth = auth
        self.log = os.path.join(self.dir, "tinyproxy.log")
        last = None
        for _ in range(3):
            self.port = free_port()
            lines = [
                "Port %d" % self.port,
                "Listen 127.0.0.1",
                "Timeout 30",
                "LogFile \"%s\"" % self.log,
                "LogLevel Info",
                "PidFile \"%s\"" % os.path.join(self.dir, "tinyproxy.pid"),
                "MaxClients 64",
                "Allow 127.0.0.1",
                "DisableViaHeader Yes",
            ]
            # no ConnectPort line at all allows CONNECT to any port
            lines += ["ConnectPort %d" % p for p in ports]
            if auth:
                lines.append("BasicAuth %s %s" % auth)
            self.conf = os.path.join(self.dir, "tinyproxy.conf")
            with open(self.conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            self.proc = start_proc([self.bin, "-d", "-c", self.conf],
                                   os.path.join(self.dir, "stderr.log"))
            try:
                _wait_for(lambda: port_open("127.0.0.1", self.port), 10,
                          self.proc, "tinyproxy")
                return
            except RuntimeError as e:
                last = e
                _stop_proc(self.proc)
        raise RuntimeError("tinyproxy: %s" % last)

    @property
    def hostport(self):
        return "127.0.0.1:%d" % self.port

    def url(self, auth=None, scheme="http"):
        return "%s://%s%s" % (scheme, _userinfo(auth), self.hostport)

    def mark(self):
        # the port probe at start-up is logged too: marks skip it
        return _log_size(self.log)

    def text(self, mark):
        return _read_from(self.log, mark)

    def requests(self, mark, want=0, timeout=3.0):
        """The request lines tinyproxy read since mark ("GET http://... HTTP/1.1",
        "CONNECT host:port HTTP/1.1"), waiting for `want` of them."""
        end = time.monotonic() + timeout
        while True:
            out = self.REQ_RE.findall(self.text(mark))
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        _stop_proc(self.proc)


class Microsocks:
    """microsocks -i 127.0.0.1 -p PORT [-u USER -P PASS]."""

    CONN_RE = re.compile(r"connected to (\S+)")

    def __init__(self, tmp, name, auth=None):
        self.bin = shutil.which("microsocks") or "/usr/bin/microsocks"
        if not os.access(self.bin, os.X_OK):
            raise FileNotFoundError("microsocks not installed (make deps)")
        self.dir = os.path.join(tmp, "microsocks-" + name)
        os.makedirs(self.dir)
        self.auth = auth
        self.log = os.path.join(self.dir, "microsocks.log")
        last = None
        for _ in range(3):
            self.port = free_port()
            cmd = [self.bin, "-i", "127.0.0.1", "-p", str(self.port)]
            if auth:
                cmd += ["-u", auth[0], "-P", auth[1]]
            self.proc = start_proc(cmd, self.log)
            try:
                _wait_for(lambda: port_open("127.0.0.1", self.port), 10,
                          self.proc, "microsocks")
                return
            except RuntimeError as e:
                last = e
                _stop_proc(self.proc)
        raise RuntimeError("microsocks: %s" % last)

    @property
    def hostport(self):
        return "127.0.0.1:%d" % self.port

    def url(self, scheme="socks5h", auth=None):
        return "%s://%s%s" % (scheme, _userinfo(auth), self.hostport)

    def mark(self):
        return _log_size(self.log)

    def connects(self, mark, want=0, timeout=3.0):
        """Targets microsocks connected to since mark, as "HOST:PORT"."""
        end = time.monotonic() + timeout
        while True:
            out = self.CONN_RE.findall(_read_from(self.log, mark))
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        _stop_proc(self.proc)


class ProxyHostile:
    """tests/servers/proxy_hostile.py: self.port[mode], events(mark)."""

    USER, PASSWORD = "proxyuser", "proxy pass"

    def __init__(self, tmp, cert=None, key=None):
        self.dir = os.path.join(tmp, "proxy_hostile")
        os.makedirs(self.dir)
        portfile = os.path.join(self.dir, "ports.json")
        self.log = os.path.join(self.dir, "events.jsonl")
        open(self.log, "a").close()
        cmd = [PY, os.path.join(SERVERS, "proxy_hostile.py"), "--host", "127.0.0.1",
               "--portfile", portfile, "--log", self.log,
               "--user", self.USER, "--password", self.PASSWORD]
        if cert:
            cmd += ["--cert", cert, "--key", key]
        self.proc = start_proc(cmd, os.path.join(self.dir, "stderr.log"))
        _wait_for(lambda: os.path.exists(portfile), 10, self.proc, "proxy_hostile.py")
        with open(portfile) as f:
            self.port = json.load(f)

    def hostport(self, mode):
        return "127.0.0.1:%d" % self.port[mode]

    def url(self, mode, scheme=None, auth=None):
        if scheme is None:
            scheme = ("https" if mode.startswith("https") else
                      "socks4a" if mode == "socks4" else
                      "socks5h" if mode.startswith("socks5") else "http")
        return "%s://%s%s" % (scheme, _userinfo(auth), self.hostport(mode))

    def mark(self):
        return _log_size(self.log)

    def events(self, mark, mode=None, kind=None, want=0, settle=0.1, timeout=3.0):
        """Events logged since mark (dicts), filtered by mode and kind; waits
        for `want` of them, or `settle` s when want is 0."""
        if not want:
            time.sleep(settle)
        end = time.monotonic() + timeout
        while True:
            out = []
            for line in _read_from(self.log, mark).splitlines():
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if mode and ev["mode"] != mode:
                    continue
                if kind and ev["kind"] != kind:
                    continue
                out.append(ev)
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def heads(self, mark, mode, want=0):
        return [ev["head"] for ev in self.events(mark, mode, "head", want)]

    def stop(self):
        _stop_proc(self.proc)


# ------------------------------------------------------------ accessors

_SEQ = itertools.count(1)           # unique directory names


def tinyproxy(t, auth=None, ports=()):
    """A tinyproxy per (auth, CONNECT ports) for the run."""
    ports = tuple(sorted(set(ports)))
    key = "tinyproxy:%s:%s" % (auth, ports)
    name = str(next(_SEQ))
    try:
        return t.env.server(key, lambda: Tinyproxy(t.env.tmp, name, auth, ports))
    except FileNotFoundError as e:
        t.skip(str(e))


def microsocks(t, auth=None):
    key = "microsocks:%s" % (auth,)
    name = str(next(_SEQ))
    try:
        return t.env.server(key, lambda: Microsocks(t.env.tmp, name, auth))
    except FileNotFoundError as e:
        t.skip(str(e))


def proxy_hostile(t):
    """The scripted proxies; https-open uses the test PKI's valid cert."""
    from test_tls import certs
    c = certs(t)
    return t.env.server("proxy_hostile", lambda: ProxyHostile(
        t.env.tmp, c.path("valid.crt"), c.path("valid.key")))
