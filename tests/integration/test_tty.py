"""hflow on a terminal: the progress meter and colour.

Each client runs with its stderr (and stdout where the test says so) on the
slave side of a pseudo-terminal; the master is read until the client exits,
with a deadline.  The terminal is put in raw mode, so a '\\r' seen on the
master is one the client wrote (no output processing turns '\\n' into
'\\r\\n').  Slow downloads come from a small HTTP server started and stopped
by the test itself (127.0.0.1, a free port): /slow?size=N&secs=S sends N
known bytes in pieces over about S seconds, with Content-Length, or chunked
with &chunked=1.

Everything here is hflow's own (curl draws its meter at once, also on a pipe,
and has no colour), so the tests are skipped for --bin curl."""

import fcntl
import http.server
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
import tty
import urllib.parse

from harness import SAN_RE, Abort, Result, closed_port, sha256, test

COLS = 100          # the terminal's width
TEST_BUDGET = 20.0  # seconds for a whole test
ESC = "\x1b"


# ------------------------------------------------------------ a slow server


def body_bytes(n):
    """The known body: printable, no CR or LF (safe on a terminal too)."""
    pat = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (pat * (n // len(pat) + 1))[:n]


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        size = int(q.get("size", "200000"))
        secs = float(q.get("secs", "2"))
        chunked = q.get("chunked") == "1"
        pieces = 20
        data = body_bytes(size)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        step = (size + pieces - 1) // pieces or 1
        try:
            for i in range(0, size, step):
                piece = data[i:i + step]
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(secs / pieces)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except OSError:
            pass            # the client went away


class SlowServer:
    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     _SlowHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def url(self, size=200000, secs=2.0, chunked=False):
        return "http://127.0.0.1:%d/slow?size=%d&secs=%g%s" % (
            self.port, size, secs, "&chunked=1" if chunked else "")

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ------------------------------------------------------- running on a pty


def run_tty(t, args, env=None, stdout_tty=False, stderr_tty=True,
            timeout=15.0):
    """Runs the client with stderr (and stdout with stdout_tty) on a pty of
    COLS columns.  Returns a Result whose err holds what the terminal got
    (stdout's bytes too when both are on it)."""
    c = t.client
    # the whole test stays within TEST_BUDGET s, however many runs it has
    end = getattr(t, "_tty_end", None)
    if end is None:
        end = t._tty_end = time.monotonic() + TEST_BUDGET + c.slack * 2
    timeout = min(timeout + c.slack * 2, end - time.monotonic())
    if timeout <= 0:
        t.fail("the test ran out of its %.0f s" % TEST_BUDGET)
        raise Abort()
    cmd = c.wrap + [c.bin] + list(args)
    e = dict(c.env)
    e.pop("NO_COLOR", None)
    e["TERM"] = "xterm"
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    master, slave = pty.openpty()
    tty.setraw(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLS, 0, 0))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=slave if stdout_tty else subprocess.PIPE,
                         stderr=slave if stderr_tty else subprocess.PIPE,
                         env=e, cwd=t.tmp, start_new_session=True)
    os.close(slave)
    chunks, out, perr = [], b"", b""
    deadline = t0 + timeout
    timed_out = False
    # The pipes (if any) are drained by threads; the master is read here.
    pipes = {}

    def drain(name, f):
        pipes[name] = f.read()

    th = []
    if not stdout_tty:
        th.append(threading.Thread(target=drain, args=("out", p.stdout)))
    if not stderr_tty:
        th.append(threading.Thread(target=drain, args=("err", p.stderr)))
    for x in th:
        x.start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            r, _, _ = select.select([master], [], [], min(left, 0.2))
            if r:
                try:
                    b = os.read(master, 65536)
                except OSError:         # EIO: every slave fd is closed
                    break
                if not b:
                    break
                chunks.append(b)
            elif p.poll() is not None and not stderr_tty and not stdout_tty:
                break
    finally:
        if timed_out and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
        try:
            p.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
            p.wait(5)
        for x in th:
            x.join(5)
        os.close(master)
    term = b"".join(chunks)
    out = pipes.get("out", b"")
    perr = pipes.get("err", b"")
    err = term if stderr_tty else perr
    r = Result(cmd, None if timed_out else p.returncode, out,
               err.decode("utf-8", "replace"), time.monotonic() - t0,
               timed_out=timed_out)
    r.term = term
    t.runs.append(r)
    if SAN_RE.search(r.err):
        t.fail("sanitizer/valgrind report: %s" % r.brief())
    return r


ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def meter_lines(err):
    """The meter's redraws: the pieces between '\\r's (and the last one up
    to its newline)."""
    return [s.split("\n")[0] for s in err.split("\r")[1:]]


def _no_meter(t, r, what):
    t.not_contains(r.err, "\r", "%s: no '\\r' (no meter redraw)" % what)
    t.check(not re.search(r"\d%", r.err), "%s: no percentage: %s"
            % (what, r.brief()))


# ------------------------------------------------------------------ meter


@test()
def meter_slow_download_to_file(t):
    t.hflow_only("the progress meter starts after 1 s, on a terminal only")
    size = 300000
    with SlowServer() as s:
        r = run_tty(t, ["-o", t.path("out.bin"), s.url(size, 2.0)])
    t.rc(r, 0)
    t.eq(r.out, b"", "stdout with -o")
    t.eq(sha256(t.read("out.bin")), sha256(body_bytes(size)), "the file")
    t.contains(r.err, "%", "a percentage on the terminal")
    t.contains(r.err, "\r", "the line is redrawn with '\\r'")
    lines = meter_lines(r.err)
    t.check(2 <= len(lines) <= 12, "2..12 draws in ~1 s of meter (at most "
            "~5 a second): %d %r" % (len(lines), lines))
    t.check(all(len(l) < COLS for l in lines),
            "every line fits %d columns: %r" % (COLS, lines))
    t.check(r.err.endswith("\n"), "the meter ends with a newline: %r"
            % r.err[-80:])
    t.match(r"100\.0%", lines[-1] if lines else "", "the last line is at 100%")
    t.match(r"\d+(\.\d+)? [kMG]?B/s", r.err, "a rate")
    t.match(r"ETA \d+:\d\d", r.err, "an ETA while it runs")
    t.not_contains(r.err, ESC, "no escape sequence in the meter")


@test()
def meter_stdout_pipe(t):
    t.hflow_only("the progress meter")
    size = 200000
    with SlowServer() as s:
        r = run_tty(t, [s.url(size, 2.0)])
    t.rc(r, 0)
    t.eq(sha256(r.out), sha256(body_bytes(size)), "the body on stdout (a pipe)")
    t.contains(r.err, "%", "the meter on the terminal")
    t.contains(r.err, "\r", "redrawn with '\\r'")


@test()
def meter_unknown_size(t):
    t.hflow_only("the progress meter")
    size = 200000
    with SlowServer() as s:
        r = run_tty(t, ["-o", t.path("out.bin"), s.url(size, 2.0, chunked=True)])
    t.rc(r, 0)
    t.eq(sha256(t.read("out.bin")), sha256(body_bytes(size)), "the file")
    t.contains(r.err, "\r", "the meter is drawn")
    t.check("%" not in r.err, "no percentage without a size: %r" % r.err)
    t.match(r"\d+(\.\d+)? [kMG]?B ", r.err, "the bytes so far")
    t.check(r.err.endswith("\n"), "ends with a newline")


@test()
def meter_progress_bar(t):
    t.hflow_only("-# maps to the meter's bar style")
    size = 200000
    with SlowServer() as s:
        r = run_tty(t, ["-#", "-o", t.path("out.bin"), s.url(size, 2.0)])
    t.rc(r, 0)
    t.eq(sha256(t.read("out.bin")), sha256(body_bytes(size)), "the file")
    lines = meter_lines(r.err)
    t.check(lines and all(len(l) < COLS for l in lines),
            "lines fit: %r" % lines)
    t.match(r"^#+ +100\.0%$", lines[-1] if lines else "",
            "the last bar is full")


@test()
def meter_off_silent_and_no_progress_meter(t):
    t.hflow_only("the progress meter")
    size = 100000
    with SlowServer() as s:
        for opts in (["-s"], ["-sS"], ["--no-progress-meter"],
                     ["--progress-meter", "--no-progress-meter"]):
            r = run_tty(t, opts + ["-o", t.path("out.bin"), s.url(size, 1.5)])
            t.rc(r, 0, "exit code with %s" % opts)
            _no_meter(t, r, " ".join(opts))
            t.eq(r.err, "", "%s: nothing on the terminal" % " ".join(opts))
            t.eq(sha256(t.read("out.bin")), sha256(body_bytes(size)),
                 "%s: the file" % " ".join(opts))


@test()
def meter_off_verbose(t):
    t.hflow_only("the progress meter")
    with SlowServer() as s:
        r = run_tty(t, ["-v", "-o", t.path("out.bin"), s.url(100000, 1.5)])
    t.rc(r, 0)
    _no_meter(t, r, "-v")
    t.contains(ANSI_RE.sub("", r.err), "< HTTP/1", "the -v flow is shown")


@test()
def meter_off_when_body_goes_to_the_terminal(t):
    t.hflow_only("the progress meter")
    size = 100000
    with SlowServer() as s:
        r = run_tty(t, [s.url(size, 1.5)], stdout_tty=True)
    t.rc(r, 0)
    t.eq(r.term, body_bytes(size), "the terminal got the body and nothing else")


@test()
def meter_never_on_quick_transfers(t):
    t.hflow_only("the progress meter starts after 1 s")
    n = t.nginx
    r = run_tty(t, ["-o", t.path("1k"), n.url("/1k.bin")])
    t.rc(r, 0)
    t.eq(r.err, "", "nothing on the terminal for 1 KiB")
    r = run_tty(t, ["-o", t.path("10m"), n.url("/10m.bin")])
    t.rc(r, 0)
    t.eq(sha256(t.read("10m")), n.sha["10m.bin"], "the 10 MiB file")
    if r.elapsed < 0.9:
        t.eq(r.err, "", "nothing on the terminal for 10 MiB in %.2f s"
             % r.elapsed)
    # several quick transfers in a row: still nothing
    r = run_tty(t, ["-o", t.path("a"), "-o", t.path("b"), n.url("/1k.bin"),
                    n.url("/dir/hello.txt")])
    t.rc(r, 0)
    t.eq(r.err, "", "nothing on the terminal for two small files")


@test()
def meter_and_color_never_on_a_pipe(t):
    t.hflow_only("the progress meter and colour")
    size = 100000
    with SlowServer() as s:
        r = run_tty(t, ["-o", t.path("out.bin"), s.url(size, 1.5)],
                    stderr_tty=False)
    t.rc(r, 0)
    t.eq(r.err, "", "stderr (a pipe) stays empty on a slow transfer")
    t.eq(sha256(t.read("out.bin")), sha256(body_bytes(size)), "the file")
    r = run_tty(t, ["-v", "-o", t.path("1k"), t.nginx.url("/1k.bin")],
                stderr_tty=False)
    t.rc(r, 0)
    t.contains(r.err, "< HTTP/1.1 200", "-v output on the pipe")
    t.not_contains(r.err, ESC, "-v on a pipe: no escape byte")
    r = run_tty(t, ["http://127.0.0.1:%d/" % closed_port()], stderr_tty=False)
    t.rc(r, 7)
    t.not_contains(r.err, ESC, "an error on a pipe: no escape byte")
    t.match(r"^hflow: \(7\) ", r.err, "the error line as usual")


# ----------------------------------------------------------------- colour


@test()
def color_verbose_on_a_terminal(t):
    t.hflow_only("colour")
    r = run_tty(t, ["-v", "-o", t.path("1k"), t.nginx.url("/1k.bin")])
    t.rc(r, 0)
    t.contains(r.err, ESC + "[", "ESC sequences in -v on a terminal")
    t.contains(r.err, "\x1b[1;32m200", "the 2xx status code in green")
    plain = ANSI_RE.sub("", r.err)
    t.not_contains(plain, ESC, "only SGR colour sequences")
    t.match(r"^\[ *\d+\.\d+ms\] \* ", plain, "'*' lines once colour is removed",
            flags=re.M)
    t.match(r"^\[ *\d+\.\d+ms\] > GET /1k\.bin HTTP/1\.1$", plain,
            "the request line", flags=re.M)
    t.match(r"^\[ *\d+\.\d+ms\] < HTTP/1\.1 200 OK$", plain,
            "the status line", flags=re.M)
    r = run_tty(t, ["-v", "-o", t.path("x"), t.nginx.url("/nope")])
    t.contains(r.err, "\x1b[1;31m404", "a 4xx status code in red")


@test()
def color_no_color(t):
    t.hflow_only("NO_COLOR")
    url = t.nginx.url("/1k.bin")
    r = run_tty(t, ["-v", "-o", t.path("1k"), url], env={"NO_COLOR": "1"})
    t.rc(r, 0)
    t.contains(r.err, "< HTTP/1.1 200 OK\n", "the -v flow")
    t.not_contains(r.err, ESC, "NO_COLOR=1: no escape byte at all")
    r = run_tty(t, ["-v", "-o", t.path("1k"), url], env={"TERM": "dumb"})
    t.rc(r, 0)
    t.not_contains(r.err, ESC, "TERM=dumb: no escape byte")
    # no-color.org: an empty NO_COLOR does not turn colour off
    r = run_tty(t, ["-v", "-o", t.path("1k"), url], env={"NO_COLOR": ""})
    t.contains(r.err, ESC + "[", "NO_COLOR empty: colour")
    r = run_tty(t, ["http://127.0.0.1:%d/" % closed_port()],
                env={"NO_COLOR": "yes"})
    t.rc(r, 7)
    t.not_contains(r.err, ESC, "NO_COLOR: the error line is plain")
    t.match(r"^hflow: \(7\) ", r.err, "the error line")


@test()
def color_error_line(t):
    t.hflow_only("colour")
    r = run_tty(t, ["http://127.0.0.1:%d/" % closed_port()])
    t.rc(r, 7)
    t.match(r"^\x1b\[1;31mhflow: \(7\) [^\n]*\x1b\[0m\n$", r.err,
            "the error line in bold red, reset before the newline")
    r = run_tty(t, ["--no-such-option", "http://127.0.0.1:1/"])
    t.rc(r, 2)
    t.match(r"^\x1b\[1;31mhflow: \(2\) ", r.err, "a usage error in red")
    r = run_tty(t, ["-s", "http://127.0.0.1:%d/" % closed_port()])
    t.eq(r.err, "", "-s: nothing")


@test()
def meter_ends_before_an_error_line(t):
    t.hflow_only("the progress meter")
    # -m cuts the slow transfer after the meter has started
    with SlowServer() as s:
        r = run_tty(t, ["-m", "1.6", "-o", t.path("out.bin"),
                        s.url(200000, 3.0)], env={"NO_COLOR": "1"})
    t.rc(r, 28)
    t.contains(r.err, "\r", "the meter was shown")
    t.match(r"\n\s*hflow: \(28\) [^\r]*\n$", r.err,
            "the error line starts on a line of its own")
