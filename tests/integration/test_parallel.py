"""-Z/--parallel, --parallel-max, --per-host-max, --rate: many transfers at
once on one client.  Every URL's body lands in its own file, intact; the
limits hold (counted by the servers themselves: the hostile server's
connections, and a small gauge server here that records how many requests
it holds at once and when each began); the exit code is that of the
failing transfer last on the command line, each failure is one line
naming its URL, and a summary line ends the run.

curl 7.88 runs these too where it has the flag (-Z, --parallel-max, serial
--rate); it ignores --rate with -Z and has no --per-host-max."""

import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import closed_port, sha256, sha256_file, test

SUMMARY = re.compile(r"^hflow: (\d+) transfers, (\d+) failed, "
                     r"[\d.]+ (B|KiB|MiB|GiB) in [\d.]+ s \([\d.]+ transfers/s\)$")


# ------------------------------------------------------------ the gauge


class _Gauge(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


class _GaugeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"     # keep-alive, as a real server

    def log_message(self, *a):
        pass

    def do_GET(self):
        g = self.server.gauge
        with g.lock:
            g.now += 1
            g.peak = max(g.peak, g.now)
            g.starts.append(time.monotonic())
        try:
            time.sleep(g.delay)
            body = ("%s\n" % self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with g.lock:
                g.now -= 1


class Gauge:
    """A loopback HTTP/1.1 server (thread per connection) that answers every
    GET with its path after `delay` seconds, and counts the requests it
    holds at once (peak) and when each began (starts)."""

    def __init__(self, delay):
        self.delay = delay
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.starts = []
        self.srv = _Gauge(("127.0.0.1", 0), _GaugeHandler)
        self.srv.gauge = self
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def _files(t, n, size=3000):
    """n files of different sizes and contents in nginx's root: names."""
    names = []
    for i in range(n):
        name = "par-%s-%d.bin" % (t.name.split("/")[-1], i)
        data = os.urandom(size + 37 * i)
        with open(os.path.join(t.nginx.root, name), "wb") as f:
            f.write(data)
        names.append((name, sha256(data)))
    return names


def _summary(t, r):
    """The summary line (hflow), as (transfers, failed), or None."""
    lines = r.err_lines()
    m = SUMMARY.match(lines[-1]) if lines else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _error_lines(t, r):
    """The "PREFIX: (N) ..." lines (curl 7.88 starts them on the line of
    its parallel meter, even with -s)."""
    if t.is_curl:
        return [l[l.index("curl: ("):] for l in r.err_lines() if "curl: (" in l]
    return [l for l in r.err_lines() if l.startswith(t.prefix + ": (")]


# ----------------------------------------------------------- the output


@test(tags=("fast",))
def twenty_urls_twenty_files(t):
    files = _files(t, 20)
    args = ["-Z", "-sS"]
    for name, _ in files:
        args += ["-o", t.path(name), t.nginx.url("/" + name)]
    r = t.run(args)
    t.rc(r, 0)
    for name, digest in files:
        p = t.path(name)
        t.check(os.path.exists(p) and sha256_file(p) == digest,
                "file %s intact" % name)
    if not t.is_curl:   # curl 7.88 draws its parallel meter even with -s
        t.eq(r.err_lines(), [], "stderr with -sS")


@test()
def summary_line(t):
    t.hflow_only("the summary line is hflow's")
    files = _files(t, 5)
    args = ["-Z"]
    for name, _ in files:
        args += ["-o", t.path(name), t.nginx.url("/" + name)]
    r = t.run(args)
    t.rc(r, 0)
    t.eq(len(r.err_lines()), 1, "one line on stderr: %r" % r.err)
    t.eq(_summary(t, r), (5, 0), "summary: %r" % r.err)
    t.not_contains(r.err, "\r", "no progress line on a pipe")


@test()
def remote_names_in_output_dir(t):
    files = _files(t, 6)
    d = t.path("dl")
    os.mkdir(d)
    args = ["-Z", "-sS", "--output-dir", d]
    for name, _ in files:
        args += ["-O", t.nginx.url("/" + name)]
    r = t.run(args)
    t.rc(r, 0)
    for name, digest in files:
        p = os.path.join(d, name)
        t.check(os.path.exists(p) and sha256_file(p) == digest,
                "-O file %s intact" % name)


@test(tags=("vg",))
def stdout_bodies_not_interleaved(t):
    t.hflow_only("curl -Z interleaves bodies on stdout")
    # 256 KiB bodies arrive in many pieces: each must stay in one run
    files = _files(t, 6, size=256 << 10)
    datas = {}
    for name, _ in files:
        with open(os.path.join(t.nginx.root, name), "rb") as f:
            datas[name] = f.read()
    r = t.run(["-Z", "-sS"] + [t.nginx.url("/" + n) for n, _ in files])
    t.rc(r, 0)
    t.eq(len(r.out), sum(len(d) for d in datas.values()), "stdout bytes")
    pos = sorted((r.out.find(d), n) for n, d in datas.items())
    t.check(all(p >= 0 for p, _ in pos), "every body whole on stdout")
    t.eq(b"".join(datas[n] for _, n in pos), r.out,
         "stdout is the bodies one after another")


@test()
def write_out_per_transfer(t):
    files = _files(t, 8)
    args = ["-Z", "-sS", "-w", "%{http_code} %{url_effective}\\n"]
    for name, _ in files:
        args += ["-o", t.path(name), t.nginx.url("/" + name)]
    r = t.run(args)
    t.rc(r, 0)
    lines = sorted(r.text.splitlines())
    want = sorted("200 " + t.nginx.url("/" + n) for n, _ in files)
    t.eq(lines, want, "one -w line per transfer")


# ----------------------------------------------------------- the limits


@test()
def parallel_max_3_holds(t):
    """9 slow responses (0.5 s each) with --parallel-max 3: the hostile
    server sees at most 3 connections, the gauge at most 3 requests at
    once, and the run takes 3 rounds; with --parallel-max 9, one round."""
    g = Gauge(0.5)
    try:
        urls = [g.url("/g%d" % i) for i in range(9)]
        r = t.run(["-Z", "-sS", "--parallel-max", "3"] + urls)
        t.rc(r, 0)
        t.eq(g.peak, 3, "gauge: requests at once")
        t.check(r.elapsed >= 1.4, "3 rounds of 0.5 s: %.2fs" % r.elapsed)
        t.eq(sorted(r.text.splitlines()), sorted("/g%d" % i for i in range(9)),
             "bodies")
        g.peak = 0
        r = t.run(["-Z", "-sS", "--parallel-max", "9"] + urls)
        t.rc(r, 0)
        if t.is_curl:   # curl adds transfers a few at a time
            t.check(g.peak > 3, "gauge with --parallel-max 9: %d" % g.peak)
        else:
            t.eq(g.peak, 9, "gauge with --parallel-max 9")
        t.check(r.elapsed < 1.4, "one round: %.2fs" % r.elapsed)
    finally:
        g.stop()
    # the hostile server counts connections: 0.3 s drips on keep-alive
    urls = [t.hostile.url("/drip?n=3&delay=0.1&i=%d" % i) for i in range(9)]
    t.hostile.reset()
    r = t.run(["-Z", "-sS", "--parallel-max", "3"] + urls)
    t.rc(r, 0)
    t.eq(sorted(r.out), sorted(b"abc" * 9), "drip bodies")
    if not t.is_curl:
        t.eq(r.out, b"abc" * 9, "drip bodies, each whole")
    st = t.hostile.stats()
    t.eq(st["requests"], 9, "hostile: requests")
    t.check(st["connections"] <= 3, "hostile: at most 3 connections: %s" % st)


@test()
def per_host_max_holds(t):
    t.hflow_only("--per-host-max is hflow's (curl 7.88 has none)")
    a, b = Gauge(0.3), Gauge(0.3)
    try:
        urls = []
        for i in range(6):
            urls += [a.url("/a%d" % i), b.url("/b%d" % i)]
        r = t.run(["-Z", "-sS", "--parallel-max", "10", "--per-host-max",
                   "2"] + urls)
        t.rc(r, 0)
        t.eq((a.peak, b.peak), (2, 2), "requests at once per host")
        t.check(0.85 <= r.elapsed < 3.0, "3 rounds of 0.3 s for each host, "
                "both hosts at once: %.2fs" % r.elapsed)
        t.eq(len(r.text.splitlines()), 12, "bodies")
    finally:
        a.stop()
        b.stop()


@test()
def rate_10_per_second_parallel(t):
    t.hflow_only("curl ignores --rate with -Z")
    g = Gauge(0.0)
    try:
        urls = [g.url("/r%d" % i) for i in range(20)]
        r = t.run(["-Z", "-sS", "--rate", "10/s"] + urls)
        t.rc(r, 0)
        t.eq(len(g.starts), 20, "requests")
        span = g.starts[-1] - g.starts[0]
        t.check(span >= 1.8, "20 starts at 10/s span >= 1.9 s: %.2fs" % span)
        t.check(r.elapsed >= 1.8 and r.elapsed < 6, "elapsed %.2fs" % r.elapsed)
        gaps = [b - a for a, b in zip(g.starts, g.starts[1:])]
        t.check(min(gaps) >= 0.07, "evenly spaced: smallest gap %.3fs"
                % min(gaps))
    finally:
        g.stop()


@test()
def rate_serial(t):
    g = Gauge(0.0)
    try:
        urls = [g.url("/s%d" % i) for i in range(6)]
        r = t.run(["-sS", "--rate", "5/s"] + urls)
        t.rc(r, 0)
        span = g.starts[-1] - g.starts[0]
        t.check(span >= 0.95, "6 starts at 5/s span >= 1 s: %.2fs" % span)
        r = t.run(["-sS", "--rate", "60/m", g.url("/m1"), g.url("/m2")])
        t.rc(r, 0)
        t.check(r.elapsed >= 0.95, "60/m: a second apart: %.2fs" % r.elapsed)
    finally:
        g.stop()


@test()
def rate_bad_values(t):
    for bad in ("0/s", "x", "10/w", "10/", "-1/s"):
        r = t.run(["--rate", bad, t.nginx.url("/1k.bin")])
        t.rc(r, 2, "--rate %s" % bad)


# ------------------------------------------------ failures and the exit code


@test(tags=("fast", "vg"))
def one_bad_url_among_good(t):
    files = _files(t, 6)
    bad = "http://127.0.0.1:%d/nothing" % closed_port()
    args = ["-Z", "-sS"]
    for i, (name, _) in enumerate(files):
        args += ["-o", t.path(name), t.nginx.url("/" + name)]
        if i == 2:
            args += ["-o", t.path("bad"), bad]
    r = t.run(args)
    t.rc(r, 7)
    errs = _error_lines(t, r)
    t.eq(len(errs), 1, "one error line: %r" % r.err)
    if errs and not t.is_curl:
        t.contains(errs[0], bad, "the error line names the URL")
        t.match(r"^hflow: \(7\) ", errs[0], "its code")
    for name, digest in files:
        p = t.path(name)
        t.check(os.path.exists(p) and sha256_file(p) == digest,
                "good file %s intact" % name)
    t.check(not os.path.exists(t.path("bad")), "no file for the failure")


@test()
def exit_code_last_failure_on_the_command_line(t):
    t.hflow_only("curl returns the failure that finished last")
    refused = "http://127.0.0.1:%d/" % closed_port()
    missing = t.nginx.url("/no-such-file")
    good = t.nginx.url("/1k.bin")
    # the 404 finishes after the refused connect, but comes first
    r = t.run(["-Z", "-f", "-o", os.devnull, missing, "-o", os.devnull, good,
               "-o", os.devnull, refused])
    t.rc(r, 7)
    errs = _error_lines(t, r)
    t.eq(len(errs), 2, "two error lines: %r" % r.err)
    t.eq(sorted(e.split(")")[0] for e in errs), ["hflow: (22", "hflow: (7"],
         "codes")
    t.check(any(missing in e for e in errs) and any(refused in e for e in errs),
            "each names its URL: %r" % errs)
    t.eq(_summary(t, r), (3, 2), "summary: %r" % r.err)
    r = t.run(["-Z", "-f", "-o", os.devnull, refused, "-o", os.devnull, good,
               "-o", os.devnull, missing])
    t.rc(r, 22)


@test(tags=("vg",))
def retry_in_parallel_waits_its_backoff(t):
    t.hflow_only("hflow's -Z retries through hf_submit_delayed")
    import uuid
    ident = uuid.uuid4().hex[:12]
    flaky = t.hostile.url("/flaky?code=503&id=%s&n=1" % ident)
    files = _files(t, 4)
    args = ["-Z", "--no-progress-meter", "--retry", "2", "--retry-delay", "1",
            "-o", t.path("flaky"), flaky]
    for name, _ in files:
        args += ["-o", t.path(name), t.nginx.url("/" + name)]
    r = t.run(args)
    t.rc(r, 0)
    t.eq(t.read("flaky"), b"ok\n", "the retried body")
    t.check(r.elapsed >= 0.9, "waited the 1 s retry delay: %.2fs" % r.elapsed)
    t.contains(r.err, "Will retry in 1 second", "retry message")
    # transfers run at once: the message names its URL
    t.contains(r.err, "Warning: %s: Problem: HTTP error. Will retry" % flaky,
               "the retry message names the URL")
    t.eq(_summary(t, r), (5, 0), "summary: %r" % r.err)
    for name, digest in files:
        t.eq(sha256_file(t.path(name)), digest, "file %s" % name)


@test()
def many_transfers_through_a_low_limit(t):
    """200 GETs, 8 at once: every body right, nginx saw 200 requests on at
    most 8 connections."""
    mark = t.nginx.log_mark()
    cfg = t.path("urls.cfg")
    with open(cfg, "w") as f:
        for i in range(200):
            f.write('url = "%s"\noutput = "%s"\n'
                    % (t.nginx.url("/1k.bin?i=%d" % i), t.path("o%d" % i)))
    r = t.run(["-Z", "-sS", "--parallel-max", "8", "-K", cfg], timeout=30)
    t.rc(r, 0)
    bad = [i for i in range(200)
           if sha256_file(t.path("o%d" % i)) != t.nginx.sha["1k.bin"]]
    t.eq(bad, [], "files that differ")
    log = t.nginx.log_since(mark, 200)
    t.eq(len(log), 200, "requests in nginx's log")
    t.check(len({e["conn"] for e in log}) <= 8,
            "connections: %d" % len({e["conn"] for e in log}))


@test()
def parallel_max_bad_values(t):
    for bad in ("x", "-1", "3x"):
        r = t.run(["-Z", "--parallel-max", bad, t.nginx.url("/1k.bin")])
        t.rc(r, 2, "--parallel-max %s" % bad)


# ---------------------------------------------------------- on a terminal


@test()
def progress_line_on_a_terminal(t):
    """On a terminal, one line redrawn in place (after the first second)
    with the transfers done, failed and pending; then the summary."""
    t.hflow_only("hflow's parallel progress line")
    from test_tty import COLS, SlowServer, body_bytes, meter_lines, run_tty
    size = 100000
    with SlowServer() as s:
        args = ["-Z", "--parallel-max", "3"]
        for i in range(6):
            args += ["-o", t.path("o%d" % i), s.url(size, 1.5) + "&i=%d" % i]
        r = run_tty(t, args)
    t.rc(r, 0)
    for i in range(6):
        t.eq(t.read("o%d" % i), body_bytes(size), "file %d" % i)
    lines = [l for l in meter_lines(r.err) if l.strip()]
    t.check(len(lines) >= 2, "redrawn: %r" % r.err[-300:])
    t.check(all(re.match(r"\d+/6 done, \d+ failed, \d+ pending  [\d.]+ "
                         r"(B|KiB|MiB)  [\d.]+ (B|KiB|MiB)/s  \d+:\d\d *$", l)
                for l in lines), "progress lines: %r" % lines)
    t.check(all(len(l) < COLS for l in lines), "each fits the terminal")
    t.match(r"6/6 done, 0 failed, 0 pending", lines[-1] if lines else "",
            "the last draw")
    last = r.err.rstrip("\n").split("\n")[-1]
    t.check(SUMMARY.match(last) is not None, "summary last: %r" % last)


def _run_rss(t, args, env=None):
    """t.run's job, with hflow's own peak RSS (KiB): VmHWM of
    /proc/PID/status, read while it runs (the mark only rises).  (The
    rusage of a child of this Python process would count this process's
    memory: the child starts as its copy.)"""
    import subprocess
    e = dict(t.client.env)
    if env:
        e.update(env)
    p = subprocess.Popen([t.client.bin] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=e)
    box = {"hwm": 0}

    def drain(name, f):
        box[name] = f.read()

    def watch():
        path = "/proc/%d/status" % p.pid
        while p.poll() is None:
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            box["hwm"] = max(box["hwm"], int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
    th = [threading.Thread(target=drain, args=(n, f)) for n, f in
          (("out", p.stdout), ("err", p.stderr))]
    th.append(threading.Thread(target=watch))
    for x in th:
        x.start()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    for x in th:
        x.join()
    return p.returncode, box["out"], box["err"].decode("utf-8", "replace"), box["hwm"]


@test()
def stdout_held_for_its_turn_spills_to_a_file(t):
    """-Z: a 10 MiB body that arrives while a slow transfer still has
    standard output waits for its turn in a temporary file beyond 1 MiB,
    not in memory; the bytes come out in command-line order, whole."""
    t.hflow_only("hflow's hold for standard output")
    slow = t.hostile.url("/trickle?size=50000&first=1000&chunk=7000&delay=0.1")
    big = t.nginx.url("/10m.bin")
    ref = t.run(["-sS", slow])
    t.ok(ref)
    tmp = t.path("holdtmp")
    os.makedirs(tmp, exist_ok=True)
    rc, out, err, rss = _run_rss(t, ["-sS", "-Z", "--no-progress-meter", slow, big],
                                 env={"TMPDIR": tmp})
    t.eq(rc, 0, "exit code (stderr %r)" % err[-500:])
    t.eq(len(out), len(ref.out) + (10 << 20), "bytes on stdout")
    t.eq(sha256(out[:len(ref.out)]), sha256(ref.out), "the slow body first")
    t.eq(sha256(out[len(ref.out):]), t.nginx.sha["10m.bin"], "then the 10 MiB body")
    # held in memory the 10 MiB would take at least that much more
    t.check(rss < 10 * 1024, "peak RSS %d KiB: the held body was not in memory" % rss)
    t.eq(os.listdir(tmp), [], "the temporary file is gone")
    # no room for the temporary file: a write failure (23), said once
    rc, out, err, _ = _run_rss(t, ["-sS", "-Z", "--no-progress-meter", slow, big],
                               env={"TMPDIR": t.path("no-such-dir")})
    t.eq(rc, 23, "exit code when the hold cannot spill (stderr %r)" % err[-500:])
    t.match(r"keeping this one's output in a temporary file failed: No such file",
            err, "the cause")
