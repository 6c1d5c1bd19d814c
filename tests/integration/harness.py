"""harness.py -- real peers on loopback, the client runner, and a tiny test
registry for hflow's integration tests.  Standard library only; run under
Debian's /usr/bin/python3.

    from harness import test
    @test(tags=("fast",))
    def file_1k(t):
        r = t.run(["-sS", t.nginx.url("/1k.bin")])
        t.ok(r)
        t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "sha256 of stdout")

Servers start on first use (t.nginx, t.httpbin, t.hostile), bind 127.0.0.1
(nginx also ::1 when the machine has it) on free ports, and are stopped by
their pid at the end of the run, on failure, on Ctrl-C and at exit.
Every client run has a time bound (at most 30 s).
"""

import atexit
import base64
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVERS = os.path.join(ROOT, "tests", "servers")
PY = "/usr/bin/python3"
MAX_TIMEOUT = 30.0

# --------------------------------------------------------------- utilities


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (bind to 0, read it, close)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def closed_port():
    """A loopback port nobody listens on (connection refused)."""
    return free_port()


def port_open(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_NOPROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, timeout=5.0):
    """GET with Python (never through a proxy): (status, body)."""
    try:
        with _NOPROXY.open(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class BlackholeListener:
    """A loopback listener whose accept queue is full: new SYNs are dropped,
    so a connect to it hangs until the client's connect timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.held = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except (BlockingIOError, OSError):
                pass
            self.held.append(c)
        time.sleep(0.1)

    def close(self):
        for c in self.held:
            c.close()
        self.sock.close()


# ------------------------------------------------------- process management

_PROCS = []          # every server process we started, stopped at exit


def _stop_proc(p, grace=5.0):
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)   # the group we created for it
        except OSError:
            p.kill()
        p.wait(5)
    except OSError:
        pass


def start_proc(cmd, log_path, **kw):
    log = open(log_path, "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, **kw)
    log.close()
    _PROCS.append(p)
    return p


def stop_all():
    while _PROCS:
        _stop_proc(_PROCS.pop())


atexit.register(stop_all)


def _on_signal(signum, frame):
    raise KeyboardInterrupt()


def install_signal_handlers():
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)


def _wait_for(pred, timeout, proc=None, what="server"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited early (rc=%s)" % (what, proc.returncode))
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError("%s did not come up in %.0f s" % (what, timeout))


# ------------------------------------------------------------------ servers


class Nginx:
    """nginx serving generated files under a temp root, logging $connection."""

    FILES = {"0.bin": 0, "1k.bin": 1024, "10m.bin": 10 << 20}

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "nginx")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(self.root, "dir"))
        for d in ("tmp", "logs"):
            os.makedirs(os.path.join(self.dir, d))
        self.sha = {}
        self.size = {}
        for name, n in self.FILES.items():
            data = os.urandom(n)
            self._put(name, data)
        self._put("dir/hello.txt", b"hello from nginx\n")
        self._put("index.html", b"<html>hflow test root</html>\n")
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
        raise RuntimeError("nginx: %s; error.log: %s" % (last, self.error_log()))

    def _put(self, name, data):
        with open(os.path.join(self.root, name), "wb") as f:
            f.write(data)
        self.sha[name] = sha256(data)
        self.size[name] = len(data)

    def _start(self):
        self.port = free_port()
        if self.v6:
            # the same port must be free on ::1 too
            try:
                s = socket.socket(socket.AF_INET6)
                s.bind(("::1", self.port))
                s.close()
            except OSError:
                raise RuntimeError("port %d busy on ::1" % self.port)
        with open(os.path.join(SERVERS, "nginx.conf.in")) as f:
            conf = f.read()
        subs = {
            "@PORT@": str(self.port),
            "@ROOT@": self.root,
            "@PREFIX@": self.dir,
            "@USER_LINE@": "user root;" if os.geteuid() == 0 else "",
            "@LISTEN6@": "listen [::1]:%d;" % self.port if self.v6 else "",
        }
        for k, v in subs.items():
            conf = conf.replace(k, v)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.access_log = os.path.join(self.dir, "access.log")
        open(self.access_log, "a").close()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = start_proc([nginx, "-p", self.dir + "/", "-e",
                                os.path.join(self.dir, "error.log"),
                                "-c", self.conf],
                               os.path.join(self.dir, "stdout.log"))
        _wait_for(lambda: port_open("127.0.0.1", self.port), 10, self.proc, "nginx")

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def url(self, path="/", host="127.0.0.1"):
        if ":" in host:
            host = "[%s]" % host
        return "http://%s:%d%s" % (host, self.port, path)

    def log_mark(self):
        return os.path.getsize(self.access_log)

    LOG_RE = re.compile(r'conn=(\d+) reqs=(\d+) client=(\S+) server=(\S+) '
                        r'"([^"]*)" (\d+) (\d+) "([^"]*)"')

    def log_since(self, mark, want=0, timeout=3.0):
        """Access-log entries written after mark (waits for `want` of them)."""
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
                                "client": m.group(3), "server": m.group(4),
                                "request": m.group(5), "status": int(m.group(6)),
                                "bytes": int(m.group(7)), "ua": m.group(8)})
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        if self.proc:
            _stop_proc(self.proc)


class Httpbin:
    """python3-httpbin under gunicorn (Debian's python), 2 sync workers."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "httpbin")
        os.makedirs(self.dir)
        last = None
        for _ in range(3):
            self.port = free_port()
            self.proc = start_proc(
                [PY, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port, "-w", "2",
                 "--graceful-timeout", "3", "--log-level", "warning",
                 "httpbin:app"],
                os.path.join(self.dir, "gunicorn.log"), cwd=self.dir)
            try:
                _wait_for(self._answers, 20, self.proc, "httpbin")
                return
            except RuntimeError as e:
                last = e
                _stop_proc(self.proc)
        raise RuntimeError("httpbin: %s" % last)

    def _answers(self):
        try:
            st, _ = http_get(self.url("/get"), timeout=1)
            return st == 200
        except OSError:
            return False

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        _stop_proc(self.proc)


class Hostile:
    """tests/servers/hostile.py with a capture dir."""

    def __init__(self, tmp, host="127.0.0.1"):
        self.dir = os.path.join(tmp, "hostile-" + host.replace(":", "_"))
        os.makedirs(self.dir)
        self.capdir = os.path.join(self.dir, "capture")
        portfile = os.path.join(self.dir, "port")
        self.host = host
        self.proc = start_proc([PY, os.path.join(SERVERS, "hostile.py"),
                                "--host", host, "--port", "0",
                                "--portfile", portfile, "--capture", self.capdir],
                               os.path.join(self.dir, "server.log"))
        _wait_for(lambda: os.path.exists(portfile), 10, self.proc, "hostile.py")
        with open(portfile) as f:
            self.port = int(f.read())

    def url(self, path="/"):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d%s" % (h, self.port, path)

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def stats(self, settle=0.15):
        time.sleep(settle)
        st, body = http_get(self.url("/stats"))
        return json.loads(body)

    def reset(self):
        """Zero the counters; returns a capture mark for captures()."""
        http_get(self.url("/stats/reset"))
        return self.mark()

    def _files(self):
        try:
            names = [n for n in os.listdir(self.capdir)
                     if n.endswith((".req", ".partial"))]
        except FileNotFoundError:
            return []
        return sorted(names)

    def mark(self):
        files = self._files()
        return int(files[-1].split(".")[0]) if files else 0

    def captures(self, mark, want=0, timeout=2.0, partial=True):
        """[(name, raw bytes)] of requests captured after mark."""
        end = time.monotonic() + timeout
        while True:
            out = []
            for n in self._files():
                if int(n.split(".")[0]) > mark and (partial or n.endswith(".req")):
                    with open(os.path.join(self.capdir, n), "rb") as f:
                        out.append((n, f.read()))
            if len(out) >= want or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        _stop_proc(self.proc)


# ------------------------------------------------------------------- client


class Result:
    def __init__(self, cmd, rc, out, err, elapsed, timed_out=False):
        self.cmd, self.rc, self.out, self.err = cmd, rc, out, err
        self.elapsed, self.timed_out = elapsed, timed_out

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out.decode("utf-8"))

    def err_lines(self):
        return [l for l in re.split(r"[\r\n]+", self.err) if l.strip()]

    def brief(self):
        cmd = " ".join(shlex.quote(c) for c in self.cmd)
        if len(cmd) > 200:
            cmd = cmd[:200] + "..."
        err = self.err.strip().replace("\n", " | ")
        if len(err) > 300:
            err = err[:300] + "..."
        return "[%s] rc=%s%s stdout=%dB stderr=%r %.2fs" % (
            cmd, self.rc, " (TIMED OUT)" if self.timed_out else "",
            len(self.out), err, self.elapsed)


# Errors of a transfer phase (resolve, connect, receive, timeout, decode):
# their line ends "after T ms" (DESIGN.md: which peer and how long it took).
# Usage, URL, HTTP-status (-f) and local write errors are not checked for it.
TRANSFER_CODES = {6, 7, 8, 18, 28, 52, 55, 56, 61}

SAN_RE = re.compile(r"^==\d+==|AddressSanitizer|LeakSanitizer|"
                    r"UndefinedBehaviorSanitizer|runtime error:", re.M)

_CLEAN_ENV_DROP = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
                   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                   "CURL_HOME", "CURL_CA_BUNDLE", "SSLKEYLOGFILE")


class Client:
    def __init__(self, binary, wrap=None, prefix=None, tmp=None):
        self.bin = binary
        self.wrap = shlex.split(wrap) if wrap else []
        base = os.path.basename(binary)
        self.is_curl = base.startswith("curl") or prefix == "curl"
        self.prefix = prefix or ("curl" if self.is_curl else "hflow")
        self.home = os.path.join(tmp, "home")
        os.makedirs(self.home, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in _CLEAN_ENV_DROP}
        self.env["HOME"] = self.home            # no ~/.curlrc or ~/.netrc
        self.slack = 5.0 if self.wrap else 0.0   # valgrind/ASan are slower
        self.version = "0.1.0"
        self.ua = "hflow/0.1.0"
        if self.is_curl:
            out = subprocess.run([binary, "-V"], capture_output=True,
                                 timeout=10).stdout.decode()
            m = re.match(r"curl (\S+)", out)
            self.version = m.group(1) if m else "?"
            self.ua = "curl/" + self.version

    def run(self, args, stdin=None, timeout=20.0, cwd=None, stdout=None,
            env=None):
        timeout = min(MAX_TIMEOUT, timeout + self.slack * 2)
        cmd = self.wrap + [self.bin] + list(args)
        e = dict(self.env)
        if env:
            e.update(env)
        t0 = time.monotonic()
        kw = dict(cwd=cwd, env=e, stderr=subprocess.PIPE)
        if stdout is not None:
            kw["stdout"] = stdout
        else:
            kw["stdout"] = subprocess.PIPE
        if isinstance(stdin, (bytes, bytearray)):
            kw["input"] = bytes(stdin)
        elif stdin is None:
            kw["stdin"] = subprocess.DEVNULL
        else:
            kw["stdin"] = stdin
        try:
            p = subprocess.run(cmd, timeout=timeout, **kw)
            return Result(cmd, p.returncode, p.stdout or b"",
                          (p.stderr or b"").decode("utf-8", "replace"),
                          time.monotonic() - t0)
        except subprocess.TimeoutExpired as ex:
            return Result(cmd, None, ex.stdout or b"",
                          (ex.stderr or b"").decode("utf-8", "replace"),
                          time.monotonic() - t0, timed_out=True)


# ------------------------------------------------------------ test registry

TESTS = []


class Skip(Exception):
    pass


class Abort(Exception):
    """Raised by require(): stop this test here (already recorded)."""


def test(name=None, tags=()):
    """Register a test: @test() or @test(tags=("fast", "vg"))."""
    if callable(name):
        return test()(name)

    def deco(fn):
        mod = fn.__module__.rsplit(".", 1)[-1]
        group = mod[5:] if mod.startswith("test_") else mod
        TESTS.append({"name": "%s/%s" % (group, name or fn.__name__),
                      "fn": fn, "tags": set(tags)})
        return fn
    return deco


class Env:
    """Shared state of a run: the client and lazily started servers."""

    def __init__(self, client, tmp, valgrind=False):
        self.client = client
        self.tmp = tmp
        self.valgrind = valgrind
        self._servers = {}

    def server(self, key, factory):
        if key not in self._servers:
            self._servers[key] = factory()
        return self._servers[key]

    def stop(self):
        for s in self._servers.values():
            try:
                s.stop()
            except Exception:
                pass
        self._servers = {}
        stop_all()


class T:
    """What a test function gets: servers, the client, assertions."""

    def __init__(self, env, name):
        self.env = env
        self.name = name
        self.client = env.client
        self.passed = 0
        self.failures = []
        self.tmp = tempfile.mkdtemp(prefix="t-", dir=env.tmp)
        self.runs = []

    # servers
    @property
    def nginx(self):
        return self.env.server("nginx", lambda: Nginx(self.env.tmp))

    @property
    def httpbin(self):
        return self.env.server("httpbin", lambda: Httpbin(self.env.tmp))

    @property
    def hostile(self):
        return self.env.server("hostile", lambda: Hostile(self.env.tmp))

    @property
    def hostile6(self):
        if not have_ipv6():
            self.skip("no IPv6 loopback")
        return self.env.server("hostile6", lambda: Hostile(self.env.tmp, "::1"))

    @property
    def is_curl(self):
        return self.client.is_curl

    @property
    def prefix(self):
        return self.client.prefix

    @property
    def ua(self):
        return self.client.ua

    @property
    def slack(self):
        return self.client.slack

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    # running the client
    def run(self, args, **kw):
        r = self.client.run(args, **kw)
        self.runs.append(r)
        if SAN_RE.search(r.err):
            self.fail("sanitizer/valgrind report: %s" % r.brief())
        if self.env.valgrind and r.rc == 99:
            self.fail("valgrind error exit 99: %s" % r.brief())
        return r

    # skipping
    def skip(self, reason):
        raise Skip(reason)

    def hflow_only(self, reason):
        if self.is_curl:
            raise Skip("hflow-only: " + reason)

    # assertions: each records a pass or a failure with a message
    def fail(self, msg):
        self.failures.append(msg)
        return False

    def check(self, cond, msg):
        if cond:
            self.passed += 1
            return True
        return self.fail(msg)

    def require(self, cond, msg):
        """Like check, but stop the test when it fails."""
        if not self.check(cond, msg):
            raise Abort()

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %s, want %s" % (
            what, _short(got), _short(want)))

    def contains(self, hay, needle, what):
        return self.check(needle in hay, "%s: %s not in %s" % (
            what, _short(needle), _short(hay)))

    def not_contains(self, hay, needle, what):
        return self.check(needle not in hay, "%s: %s unexpectedly in %s" % (
            what, _short(needle), _short(hay)))

    def match(self, pattern, text, what, flags=re.I):
        m = re.search(pattern, text, flags)
        self.check(m is not None, "%s: /%s/ does not match %s" % (
            what, pattern, _short(text)))
        return m

    def rc(self, r, codes, what="exit code"):
        codes = (codes,) if isinstance(codes, int) else tuple(codes)
        return self.check(r.rc in codes, "%s: want %s, %s" % (
            what, "/".join(map(str, codes)), r.brief()))

    def ok(self, r, quiet=True):
        """Exit 0; with quiet, stderr is empty too."""
        good = self.rc(r, 0)
        if good and quiet:
            good = self.check(not r.err_lines(), "stderr not empty on success: %s"
                              % r.brief())
        return good

    def error(self, r, codes, *patterns, curl=None, curl_codes=None,
              peer=None, curl_peer=False, empty_stdout=False, one_line=True):
        """A failed transfer: exit code in codes, and on stderr exactly one
        line 'PREFIX: (CODE) ...' whose CODE is the exit code, matching each
        pattern (regex, case-insensitive); for hflow also 'after T ms'.
        peer=(host, port) adds the peer pattern host:port (for curl only with
        curl_peer, as "host port N": curl names the peer on connect errors).
        curl=[patterns] / curl_codes replace patterns / codes for curl."""
        if self.is_curl:
            if curl is not None:
                patterns = curl
            if curl_codes is not None:
                codes = curl_codes
        self.rc(r, codes)
        lines = [l for l in r.err_lines() if not SAN_RE.search(l)]
        mine = [l for l in lines if l.startswith(self.prefix + ": (")]
        if one_line:
            self.check(len(lines) == 1 and len(mine) == 1,
                       "want exactly one '%s: (N)' line on stderr: %s"
                       % (self.prefix, r.brief()))
        else:
            self.check(len(mine) == 1, "want one '%s: (N)' line on stderr: %s"
                       % (self.prefix, r.brief()))
        if not mine:
            return
        line = mine[-1]
        self.match(r"^%s: \(%s\) " % (re.escape(self.prefix), r.rc), line,
                   "error line code equals exit code")
        if peer and (curl_peer or not self.is_curl):
            host, port = peer
            if self.is_curl:
                self.match(r"%s( port |:)%d\b" % (re.escape(host), port), line,
                           "peer in error line")
            else:
                self.match(r"%s:%d\b" % (re.escape(host), port), line,
                           "peer in error line")
        for p in patterns:
            self.match(p, line, "error line")
        if not self.is_curl and r.rc in TRANSFER_CODES:
            self.match(r"after \d+(\.\d+)? ?(ms|s)\b", line, "elapsed in error line")
        if empty_stdout:
            self.eq(len(r.out), 0, "stdout bytes on error before the body")


def _short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d)" % len(s)


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


# --------------------------------------------------------------- HTTP bytes


def split_request(raw):
    """(request line, [(name, value)], body) of raw request bytes."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = []
    for l in lines[1:]:
        n, _, v = l.partition(":")
        hdrs.append((n, v.strip(" \t")))
    return lines[0], hdrs, body


def header(hdrs, name):
    vals = [v for n, v in hdrs if n.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else (vals or None)


def decode_chunked_strict(body):
    """Strictly decode chunked framing: (data, trailers) or raise ValueError."""
    pos, out = 0, []
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise ValueError("no CRLF after chunk size at %d" % pos)
        line = body[pos:end]
        size_s = line.split(b";")[0]
        if not re.fullmatch(rb"[0-9a-fA-F]{1,16}", size_s):
            raise ValueError("bad chunk size %r" % line[:40])
        size = int(size_s, 16)
        pos = end + 2
        if size == 0:
            rest = body[pos:]
            if not rest.endswith(b"\r\n"):
                raise ValueError("no final CRLF after last chunk")
            return b"".join(out), rest[:-2]
        if len(body) < pos + size + 2 or body[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError("chunk data of %d bytes not followed by CRLF" % size)
        out.append(body[pos:pos + size])
        pos += size + 2


# ---------------------------------------------------------------- the runner


def run_tests(tests, env, counts, out=sys.stdout, verbose=False):
    """Run tests in order; counts (a dict) is updated as they finish, so it
    holds the partial result when a run is interrupted."""
    counts.update(passed=0, failed=0, skipped=0)
    for tc in tests:
        t = T(env, tc["name"])
        t0 = time.monotonic()
        try:
            tc["fn"](t)
        except Skip as e:
            print("SKIP %s: %s" % (tc["name"], e), file=out, flush=True)
            counts["skipped"] += 1
            shutil.rmtree(t.tmp, ignore_errors=True)
            continue
        except Abort:
            pass
        except KeyboardInterrupt:
            raise
        except Exception as e:
            tb = traceback.extract_tb(e.__traceback__)
            where = "%s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno) \
                if tb else "?"
            t.fail("exception %s: %s at %s" % (type(e).__name__, e, where))
        dt = time.monotonic() - t0
        if not t.failures and t.passed == 0:
            t.fail("the test asserted nothing")
        if t.failures:
            counts["failed"] += 1
            msg = "; ".join(t.failures)
            msg = msg.replace("\r", "\\r").replace("\n", "\\n")
            if len(msg) > 1500:
                msg = msg[:1500] + "... (%d failures)" % len(t.failures)
            print("FAIL %s: %s" % (tc["name"], msg), file=out, flush=True)
        else:
            counts["passed"] += 1
            if verbose:
                print("PASS %s (%d checks, %.2fs)" % (tc["name"], t.passed, dt),
                      file=out, flush=True)
            else:
                print("PASS %s" % tc["name"], file=out, flush=True)
        shutil.rmtree(t.tmp, ignore_errors=True)
    return counts
