"""libhflow's asynchronous API through build/tools/asynctest
(tests/tools/asynctest.c): hf_submit / hf_client_run with limits and rates,
the caller's own loop, cancel in every phase (and under valgrind), pause and
resume, bodies from and to files, and the error paths.

The driver prints what it measured as JSON; the assertions are here.  Open
connections are counted three ways: from the client's event stream
(TCP_ESTABLISHED minus CLOSED), from the driver's own sockets in
/proc/net/tcp between hf_client_run slices, and by `ss` sampled from here
while the driver runs."""

import json
import os
import shutil
import socket
import subprocess
import time

from harness import (SAN_RE, Result, BlackholeListener, closed_port, sha256,
                     sha256_file, split_request, header, test)

HF_OK, HF_E_URL, HF_E_WRITE, HF_E_READ, HF_E_TIMEOUT = 0, 3, 23, 26, 28
HF_E_ABORTED, HF_E_BAD_FUNCTION_ARG = 42, 43

VALGRIND = ["valgrind", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
            "-q"]

# tests/servers/hostile.py's /trickle body
TRICKLE_BLOCK = bytes(range(256)) * 256


def trickle_body(size):
    return (TRICKLE_BLOCK * (size // len(TRICKLE_BLOCK) + 1))[:size]


# ----------------------------------------------------------------- helpers


def _tool(t):
    t.hflow_only("asynctest drives libhflow's async API")
    p = os.path.join(os.path.dirname(t.client.bin), "tools", "asynctest")
    if not os.access(p, os.X_OK):
        t.skip("no %s (make builds tests/tools/asynctest.c)" % p)
    return p


def _drive(t, args, timeout=20.0, valgrind=False, sampler=None):
    """Run the driver (under valgrind if asked, else under the client's
    wrapper); returns (Result, [JSON objects]).  sampler(proc) is called
    every 30 ms while it runs."""
    tool = _tool(t)
    deadline = int(timeout)
    if valgrind:
        cmd = VALGRIND + [tool]
    else:
        cmd = list(t.client.wrap) + [tool]
        timeout += t.slack * 2
    cmd += list(args) + ["deadline=%d" % deadline]
    t0 = time.monotonic()
    # output to files, not pipes: the sampler does not read while it runs
    outf = open(t.path("driver.out"), "w+b")
    errf = open(t.path("driver.err"), "w+b")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=outf,
                         stderr=errf, env=t.client.env)
    timed_out = False
    end = t0 + timeout
    while p.poll() is None and time.monotonic() < end:
        if sampler:
            sampler()
        time.sleep(0.03 if sampler else 0.01)
    if p.poll() is None:
        p.kill()
        timed_out = True
    p.wait()
    outf.seek(0)
    errf.seek(0)
    out, err = outf.read(), errf.read()
    outf.close()
    errf.close()
    r = Result(cmd, None if timed_out else p.returncode, out,
               err.decode("utf-8", "replace"), time.monotonic() - t0,
               timed_out=timed_out)
    t.runs.append(r)
    if SAN_RE.search(r.err) and not valgrind:
        t.fail("sanitizer report: %s" % r.brief())
    if valgrind:
        t.check(r.rc != 99 and "==" not in r.err,
                "valgrind reports errors or leaks: %s" % r.err[-3000:])
    # (valgrind's 99 is reported above; what the driver measured still counts)
    t.require(r.rc == 0 or (valgrind and r.rc == 99),
              "driver failed: %s" % r.brief())
    objs = []
    for line in r.text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                t.fail("driver printed bad JSON (%s): %s" % (e, line[:300]))
    t.require(objs, "driver printed no JSON: %s" % r.brief())
    return r, objs


def _valgrind_ok(t):
    """Skip unless valgrind can run the driver (installed, not already
    wrapped, not a sanitizer build)."""
    tool = _tool(t)
    if not shutil.which("valgrind"):
        t.skip("valgrind not installed")
    if t.client.wrap:
        t.skip("already wrapped (%s)" % " ".join(t.client.wrap))
    with open(tool, "rb") as f:
        if b"AddressSanitizer" in f.read():
            t.skip("a sanitizer build (valgrind cannot run it)")


def _urls_file(t, groups):
    """groups: [(count, delay_ms, url, sha or None, len or None)]"""
    lines = []
    for count, delay, url, sha, n in groups:
        line = "%d %d %s" % (count, delay, url)
        if sha:
            line += " %s" % sha
            if n is not None:
                line += " %d" % n
        lines.append(line)
    return t.write("urls.txt", ("\n".join(lines) + "\n").encode())


def _batch(t, groups, *extra, timeout=20.0, sampler=None):
    path = _urls_file(t, groups)
    r, objs = _drive(t, ["batch", "urls=" + path] + list(extra),
                     timeout=timeout, sampler=sampler)
    return objs[-1]


def _nginx_files(t):
    """Files of several sizes in nginx's root: {name: (url, sha, len)}."""
    ng = t.nginx
    sizes = {"async/100.bin": 100, "async/16k.bin": 16 << 10,
             "async/64k.bin": 64 << 10, "async/200k.bin": 200 << 10,
             "async/1m.bin": 1 << 20}
    os.makedirs(os.path.join(ng.root, "async"), exist_ok=True)
    out = {}
    for name, n in sizes.items():
        path = os.path.join(ng.root, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(os.urandom(n))
        with open(path, "rb") as f:
            data = f.read()
        out[name] = (ng.url("/" + name), sha256(data), len(data))
    for name in ("0.bin", "1k.bin", "10m.bin"):
        out[name] = (ng.url("/" + name), ng.sha[name], ng.size[name])
    data = b"hello from nginx\n"
    out["dir/hello.txt"] = (ng.url("/dir/hello.txt"), sha256(data), len(data))
    return out


def _common(t, o, n, what=""):
    """What every batch must show: all done once, nothing left."""
    t.eq(o["submit_errors"], 0, what + "hf_submit errors")
    t.eq(o["n"], n, what + "transfers submitted")
    t.eq(o["ok"], n, what + "transfers with err 0, status 200 and the right body")
    t.eq(o["done_once"], n, what + "transfers whose done callback ran exactly once")
    t.eq(o["done_total"], n, what + "done callbacks in all")
    t.eq(o["done_in_api"], 0, what + "done callbacks run inside hf_submit/cancel")
    t.eq(o["bad_x"], 0, what + "done got another hf_transfer than hf_submit gave")
    t.eq(o["bad_req"], 0, what + "hf_transfer_request(x) is not the request")
    t.eq(o["pending_after"], 0, what + "hf_client_pending after the run")
    t.eq(o["run_rc"], HF_OK, what + "hf_client_run's last value")
    t.eq(o["idle_rc"], HF_OK, what + "hf_client_run with nothing pending")
    t.check(o["idle_ms"] < 100, what + "hf_client_run(-1) with nothing pending "
            "returns at once: %.1f ms" % o["idle_ms"])
    t.eq(o["fds_after"], o["fds_before"],
         what + "open descriptors after hf_client_free vs before hf_client_new")
    bad = [x for x in o["transfers"] if not (x["err"] == 0 and x["st"] == 200
                                             and x["ok"] and x["dc"] == 1)]
    t.check(not bad, what + "failed transfers (first 5): %s" % bad[:5])


def _starts(o, group=None):
    return sorted(x["s"] for x in o["transfers"]
                  if group is None or x["g"] == group)


def _gaps(starts):
    return [b - a for a, b in zip(starts, starts[1:])]


# ------------------------------------------------------ many at once, limits


@test()
def many_1000_transfers_per_host_limit_8(t):
    files = _nginx_files(t)
    order = ["0.bin", "1k.bin", "async/100.bin", "async/16k.bin",
             "async/64k.bin", "async/200k.bin", "dir/hello.txt",
             "async/16k.bin", "async/1m.bin", "async/100.bin"]
    groups = [(100, 0) + files[name] for name in order]
    port = t.nginx.port
    mark = t.nginx.log_mark()
    ss_max = [0, 0]            # max seen, samples

    def sample():
        try:
            p = subprocess.run(["ss", "-Htn", "state", "established",
                                "( dport = :%d )" % port],
                               capture_output=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return
        if p.returncode == 0:
            n = len([l for l in p.stdout.decode().splitlines() if l.strip()])
            ss_max[0] = max(ss_max[0], n)
            ss_max[1] += 1

    o = _batch(t, groups, "interleave=1", "limits=0,8,8", "slice=20",
               "sample_port=%d" % port, timeout=25,
               sampler=sample if shutil.which("ss") else None)
    _common(t, o, 1000)
    t.check(1 <= o["max_open"] <= 8, "open connections (event stream) never "
            "above 8: max %d" % o["max_open"])
    t.eq(o["max_running"], 8, "transfers running at once (limit 8, 1000 queued)")
    t.check(o["proc_samples"] >= 3, "/proc samples taken: %d" % o["proc_samples"])
    t.check(o["proc_max_est"] <= 8, "our ESTABLISHED sockets to nginx in "
            "/proc/net/tcp never above 8: max %d" % o["proc_max_est"])
    if shutil.which("ss"):
        t.check(ss_max[1] >= 3, "ss samples taken: %d" % ss_max[1])
        t.check(ss_max[0] <= 8, "ss: established connections to nginx never "
                "above 8: max %d" % ss_max[0])
    t.eq(o["established"], o["num_connects"],
         "TCP_ESTABLISHED events vs hf_client_num_connects")
    log = t.nginx.log_since(mark, 1000, timeout=5)
    t.eq(len(log), 1000, "requests in nginx's log")
    t.eq(sum(1 for e in log if e["status"] == 200), 1000, "200s in nginx's log")
    t.eq(len({e["conn"] for e in log}), o["num_connects"],
         "connections in nginx's log vs hf_client_num_connects")


@test()
def global_limit_max_transfers_3(t):
    h = t.hostile
    slow = h.url("/drip?n=5&delay=0.05")        # 0.25 s each, body "abcde"
    groups = [(6, 0, slow, sha256(b"abcde"), 5),
              (3, 0) + _nginx_files(t)["1k.bin"]]
    o = _batch(t, groups, "interleave=1", "limits=3,0,0")
    _common(t, o, 9)
    t.eq(o["max_running"], 3, "transfers running at once (max_transfers 3)")
    t.check(o["elapsed_ms"] >= 450, "6 slow transfers 3 at a time take two "
            "rounds of 0.25 s: %.0f ms" % o["elapsed_ms"])


@test()
def per_host_limit_other_host_proceeds(t):
    h = t.hostile
    slow = h.url("/drip?n=10&delay=0.05")       # 0.5 s each
    groups = [(4, 0, slow, sha256(b"abcdefghij"), 10),
              (4, 0) + _nginx_files(t)["1k.bin"]]
    o = _batch(t, groups, "limits=0,2,2")
    _common(t, o, 8)
    ports = {p["port"]: p for p in o["ports"]}
    hp = ports.get(h.port, {})
    t.eq(hp.get("max_running"), 2, "transfers running at once to the slow host")
    t.check(hp.get("max_open", 99) <= 2, "connections to the slow host never "
            "above 2: %s" % hp.get("max_open"))
    slow_x = sorted((x for x in o["transfers"] if x["g"] == 0),
                    key=lambda x: x["s"])
    fast_x = [x for x in o["transfers"] if x["g"] == 1]
    first_done = min(x["d"] for x in slow_x[:2])
    t.check(all(x["s"] >= first_done - 5 for x in slow_x[2:]),
            "the 3rd and 4th slow transfers start only after one of the first "
            "two is done (%.0f ms): starts %s" %
            (first_done, [round(x["s"]) for x in slow_x]))
    t.check(all(x["d"] < slow_x[2]["s"] for x in fast_x),
            "the other host's transfers are done while the slow host is at its "
            "limit: done %s, 3rd slow start %.0f" %
            ([round(x["d"]) for x in fast_x], slow_x[2]["s"]))


@test()
def conns_per_host_limit_alone(t):
    files = _nginx_files(t)
    groups = [(20, 0) + files["async/64k.bin"], (20, 0) + files["1k.bin"]]
    o = _batch(t, groups, "interleave=1", "limits=0,0,3", "slice=10",
               "sample_port=%d" % t.nginx.port)
    _common(t, o, 40)
    t.check(1 <= o["max_open"] <= 3, "connections to nginx never above 3 "
            "(max_conns_per_host 3): %d" % o["max_open"])
    t.check(o["proc_max_est"] <= 3, "our ESTABLISHED sockets to nginx: max %d"
            % o["proc_max_est"])
    t.check(o["max_running"] <= 3, "transfers running at once (HTTP/1.1: one a "
            "connection): %d" % o["max_running"])


# -------------------------------------------------------------------- rates


@test()
def rate_global_10_per_second(t):
    groups = [(20, 0) + _nginx_files(t)["1k.bin"]]
    o = _batch(t, groups, "rate=10,0")
    _common(t, o, 20)
    last = max(x["d"] for x in o["transfers"])
    t.check(1800 <= last <= 3000, "20 transfers at 10/s take 1.8 to 3 s: "
            "%.0f ms" % last)
    gaps = _gaps(_starts(o))
    t.check(gaps and min(gaps) >= 60 and max(gaps) <= 200,
            "starts evenly spaced about 100 ms apart: gaps %s" %
            [round(g) for g in gaps])
    mean = sum(gaps) / len(gaps) if gaps else 0
    t.check(90 <= mean <= 120, "mean gap between starts: %.1f ms" % mean)
    qgaps = _gaps(sorted(x["q"] for x in o["transfers"]))
    t.check(qgaps and min(qgaps) >= 60,
            "QUEUED events evenly spaced too: gaps %s" % [round(g) for g in qgaps])


@test()
def rate_per_host_other_host_not_slowed(t):
    h = t.hostile
    groups = [(20, 0) + _nginx_files(t)["1k.bin"],
              (5, 0, h.url("/status/200"), sha256(b"status 200 body\n"), 16)]
    o = _batch(t, groups, "host_rate=10,0")
    _common(t, o, 25)
    a = [x for x in o["transfers"] if x["g"] == 0]
    b = [x for x in o["transfers"] if x["g"] == 1]
    last_a = max(x["d"] for x in a)
    t.check(1800 <= last_a <= 3000, "20 transfers to one host at 10/s take 1.8 "
            "to 3 s: %.0f ms" % last_a)
    ga = _gaps(_starts(o, 0))
    gb = _gaps(_starts(o, 1))
    t.check(ga and min(ga) >= 60 and max(ga) <= 200,
            "starts to the first host about 100 ms apart: %s" %
            [round(g) for g in ga])
    t.check(gb and min(gb) >= 60, "starts to the second host spaced by its own "
            "bucket: %s" % [round(g) for g in gb])
    last_b = max(x["d"] for x in b)
    t.check(last_b < 1000, "the second host's 5 transfers are not held behind "
            "the first's 20: last done at %.0f ms" % last_b)


@test()
def rate_burst_5(t):
    groups = [(20, 0) + _nginx_files(t)["1k.bin"]]
    o = _batch(t, groups, "rate=10,5")
    _common(t, o, 20)
    s = _starts(o)
    t.check(s[4] - s[0] < 60, "the first 5 start at once (burst 5): %s" %
            [round(x) for x in s[:6]])
    t.check(s[5] - s[0] >= 50, "the 6th waits for a token: %s" %
            [round(x) for x in s[:6]])
    last = max(x["d"] for x in o["transfers"])
    t.check(1300 <= last <= 2500, "20 transfers at 10/s with a burst of 5 take "
            "about 1.5 s: %.0f ms" % last)
    gaps = _gaps(s[4:])
    t.check(gaps and min(gaps) >= 60, "after the burst, starts about 100 ms "
            "apart: %s" % [round(g) for g in gaps])


@test()
def submit_delayed_waits(t):
    url, sha, n = _nginx_files(t)["1k.bin"]
    groups = [(1, 500, url, sha, n), (1, 250, url, sha, n), (2, 0, url, sha, n)]
    o = _batch(t, groups)
    _common(t, o, 4)
    delay = {0: 500, 1: 250, 2: 0}
    for x in o["transfers"]:
        d = delay[x["g"]]
        t.check(x["s"] - x["sub"] >= d - 2, "delay %d ms: started %.1f ms after "
                "hf_submit_delayed" % (d, x["s"] - x["sub"]))
        t.check(x["d"] - x["sub"] < d + 400, "delay %d ms: done %.1f ms after "
                "submission" % (d, x["d"] - x["sub"]))


# ------------------------------------------------------------ own loop


@test()
def own_loop_poll_100_transfers(t):
    files = _nginx_files(t)
    order = ["0.bin", "1k.bin", "async/100.bin", "async/16k.bin",
             "async/64k.bin", "async/200k.bin", "dir/hello.txt", "async/1m.bin",
             "1k.bin", "async/16k.bin"]
    groups = [(10, 0) + files[name] for name in order]
    groups.append((1, 300) + files["1k.bin"])   # a timer the loop must honour
    o = _batch(t, groups, "interleave=1", "limits=0,6,6", "loop=own")
    _common(t, o, 101)
    own = o["own"]
    t.check(own["fd"] >= 0, "hf_client_fd: %d" % own["fd"])
    t.eq(own["process_errors"], 0, "hf_client_process errors")
    t.eq(own["long_waits"], 0, "1 s poll() waits with transfers pending (a "
         "timeout of -1 while a timer was due, or a readiness never signalled)")
    t.check(own["iterations"] < 5000, "poll iterations (no busy loop): %d"
            % own["iterations"])
    t.check(own["zero_timeouts"] <= own["iterations"] // 2 + 5,
            "hf_client_timeout_ms 0 in %d of %d iterations" %
            (own["zero_timeouts"], own["iterations"]))
    d = [x for x in o["transfers"] if x["g"] == len(groups) - 1][0]
    t.check(d["s"] - d["sub"] >= 298, "the delayed transfer started %.1f ms after "
            "submission (300 asked)" % (d["s"] - d["sub"]))
    t.check(o["elapsed_ms"] < 3000, "100 transfers in the caller's loop: %.0f ms"
            % o["elapsed_ms"])
    t.check(o["max_running"] <= 6, "per-host limit 6 in the caller's loop: %d"
            % o["max_running"])


# ------------------------------------------------------------------ cancel

CANCEL_MODES = ["queued", "queued_twice", "delayed", "resolving", "connecting", "sending",
                "receiving", "paused_unread", "after_done", "from_done",
                "free_pending"]


class _CancelPeers:
    """A silent DNS server, a listener whose accept queue is full, and one
    that completes handshakes but never accepts nor reads."""

    def __init__(self, t):
        self.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dns.bind(("127.0.0.1", 0))
        self.blackhole = BlackholeListener()
        self.sink = socket.socket()
        self.sink.bind(("127.0.0.1", 0))
        self.sink.listen(16)
        self.resolv = t.write("resolv.conf", b"nameserver 127.0.0.1\n"
                              b"options timeout:5 attempts:1\n")
        self.hosts = t.write("hosts", b"")

    def args(self, t):
        return ["good=" + t.nginx.url("/1k.bin"),
                "slow=" + t.hostile.url("/drip?n=400&delay=0.025"),
                "blocker=" + t.hostile.url("/drip?n=10&delay=0.03"),
                "big=" + t.nginx.url("/10m.bin"),
                "blackhole=%d" % self.blackhole.port,
                "sinkport=%d" % self.sink.getsockname()[1],
                "dns=127.0.0.1:%d" % self.dns.getsockname()[1],
                "resolv=" + self.resolv, "hosts=" + self.hosts]

    def close(self):
        self.dns.close()
        self.blackhole.close()
        self.sink.close()


def _check_cancel(t, o, strict=True):
    m = o["mode"]
    w = "cancel %s: " % m
    if m == "free_pending":
        t.check(o["target_done_calls"] <= 1, w + "done calls for the pending "
                "transfer: %d" % o["target_done_calls"])
        t.eq(o["fds_after"], o["fds_before"], w + "descriptors after hf_client_free")
        return
    t.eq(o["submit_rc"], HF_OK, w + "hf_submit")
    t.eq(o["state_reached"], 1, w + "the transfer reached the phase to cancel in")
    t.eq(o["done_calls"], 1, w + "done callback calls")
    t.eq(o["done_in_cancel"], 0, w + "done ran inside hf_transfer_cancel")
    t.eq(o["done_in_api"], 0, w + "done callbacks inside calls from outside")
    t.eq(o["others_ok"], o["others"], w + "other transfers on the client "
         "that completed with 200")
    t.eq(o["others_done_once"], o["others"], w + "other transfers done exactly once")
    t.eq(o["pending_after"], 0, w + "hf_client_pending at the end")
    t.eq(o["run_rc"], HF_OK, w + "hf_client_run at the end")
    t.eq(o["fds_after"], o["fds_before"], w + "descriptors after hf_client_free")
    t.eq(o["own_sockets_after"], 0, w + "our sockets to the target port after "
         "the cancel")
    if m == "after_done":
        t.eq(o["err"], HF_OK, w + "a cancel from its own done callback changes "
             "nothing: err")
        t.eq(o["status"], 200, w + "status")
        t.eq(o["hook_rc"], HF_OK, w + "hf_transfer_cancel on an ended transfer")
        return
    t.eq(o["err"], HF_E_ABORTED, w + "err in the done callback")
    if m == "from_done":
        t.eq(o["hook_rc"], HF_OK, w + "hf_transfer_cancel from a done callback")
        return
    t.eq(o["cancel_rc"], HF_OK, w + "hf_transfer_cancel")
    if strict:
        t.check(0 <= o["done_after_cancel_ms"] < 500, w + "done %.1f ms after "
                "the cancel" % o["done_after_cancel_ms"])
    if m in ("queued", "queued_twice", "delayed"):
        t.eq(o["started"], 0, w + "the queued transfer never left the queue")
        t.eq(o["target_conn"], -1, w + "no connection for it")
        if m == "queued_twice":
            t.eq(o["cancel_rc2"], HF_OK, w + "a second hf_transfer_cancel")
    if m in ("connecting", "sending", "receiving", "paused_unread"):
        t.check(o["own_at_cancel"] >= 1, w + "our socket to the target port seen "
                "in /proc/net/tcp before the cancel: %d" % o["own_at_cancel"])
    if m == "connecting":
        t.eq(o["target_conn"], -1, w + "never established")
    if m in ("sending", "receiving", "paused_unread"):
        t.check(o["target_conn"] >= 0, w + "its connection was seen established")
        t.check(o["closed_event"] >= 1, w + "CLOSED event for its connection")
    if m == "sending":
        t.eq(o["body_sent_at_cancel"], 0, w + "REQUEST_BODY before the cancel")
        t.check(o["produced_at_cancel"] > 0, w + "body bytes read from the "
                "callback before the cancel: %d" % o["produced_at_cancel"])
    if m == "receiving":
        t.check(3 <= o["sink_bytes"] < 400, w + "body bytes delivered: %d"
                % o["sink_bytes"])
    if m == "paused_unread":
        if strict:
            t.check(o["rx_at_cancel"] > 0, w + "unread bytes in the socket at the "
                    "cancel: %d" % o["rx_at_cancel"])
        t.check(o["rst_sent"] >= 1, w + "RST_SENT (unread bytes remained)")


def _cancel_test(mode):
    def fn(t):
        peers = _CancelPeers(t)
        try:
            _, objs = _drive(t, ["cancel", mode] + peers.args(t), timeout=20)
        finally:
            peers.close()
        for o in objs:
            _check_cancel(t, o)
    fn.__name__ = "cancel_" + mode
    return fn


for _m in CANCEL_MODES:
    test(tags=("fast",) if _m in ("queued", "receiving") else ())(_cancel_test(_m))


@test()
def cancel_every_phase_under_valgrind(t):
    _valgrind_ok(t)
    peers = _CancelPeers(t)
    try:
        _, objs = _drive(t, ["cancel", ",".join(CANCEL_MODES)] + peers.args(t),
                         timeout=28, valgrind=True)
    finally:
        peers.close()
    t.eq([o["mode"] for o in objs], CANCEL_MODES, "modes run under valgrind")
    for o in objs:
        _check_cancel(t, o, strict=False)


# ------------------------------------------------------------ pause / resume


def _check_pause(t, o, want_len):
    w = "pause %s: " % o["mode"]
    t.eq(o["err"], HF_OK, w + "err")
    t.eq(o["status"], 200, w + "status")
    t.eq(o["len"], want_len, w + "body bytes through the sink")
    t.eq(o["sha_ok"], 1, w + "sha256 of the body")
    t.eq(o["done_calls"], 1, w + "done calls")
    t.eq(o["calls_while_paused"], 0, w + "sink calls while paused")
    t.eq(o["pending_after"], 0, w + "hf_client_pending at the end")
    t.eq(o["fds_after"], o["fds_before"], w + "descriptors after hf_client_free")


@test()
def pause_in_sink_resume_from_a_callback(t):
    url, sha, n = _nginx_files(t)["10m.bin"]
    _, objs = _drive(t, ["pause", "sink_timer", "url=" + url, "sha=" + sha,
                         "len=%d" % n, "tick=" + t.nginx.url("/0.bin")])
    o = objs[-1]
    _check_pause(t, o, n)
    t.eq(o["tick_err"], HF_OK, "the timer transfer (delayed 600 ms)")
    t.eq(o["npauses"], 1, "pauses")
    t.check(o["paused_for_ms"] >= 450, "paused for %.0f ms (resumed by a "
            "transfer delayed 600 ms)" % o["paused_for_ms"])
    t.check(o["max_gap_ms"] >= 450, "longest gap between sink calls: %.0f ms"
            % o["max_gap_ms"])
    t.check(o["rx_while_paused"] > 0, "bytes waiting unread in the socket while "
            "paused (hflow stops reading): %d" % o["rx_while_paused"])


@test()
def pause_and_resume_from_outside(t):
    size = 4 << 20
    url = t.hostile.url("/trickle?size=%d&first=65536&chunk=65536&delay=0.01"
                        % size)
    _, objs = _drive(t, ["pause", "outside", "url=" + url,
                         "sha=" + sha256(trickle_body(size)), "len=%d" % size])
    o = objs[-1]
    _check_pause(t, o, size)
    t.eq(o["pause_rc"], HF_OK, "hf_transfer_pause from outside callbacks")
    t.eq(o["resume_rc"], HF_OK, "hf_transfer_resume from outside callbacks")
    t.check(o["paused_for_ms"] >= 450, "paused for %.0f ms" % o["paused_for_ms"])
    t.check(o["rx_while_paused"] > 0, "bytes waiting unread in the socket while "
            "paused: %d" % o["rx_while_paused"])


@test()
def pause_repeatedly_in_sink(t):
    url, sha, n = _nginx_files(t)["10m.bin"]
    _, objs = _drive(t, ["pause", "repeat", "url=" + url, "sha=" + sha,
                         "len=%d" % n])
    o = objs[-1]
    _check_pause(t, o, n)
    t.check(o["npauses"] >= 9, "pauses (one a MiB): %d" % o["npauses"])
    t.eq(o["resume_rc"], HF_OK, "hf_transfer_resume")


@test()
def pause_and_resume_from_other_done_callbacks(t):
    size = 4 << 20
    url = t.hostile.url("/trickle?size=%d&first=65536&chunk=65536&delay=0.01"
                        % size)
    _, objs = _drive(t, ["pause", "from_done", "url=" + url,
                         "sha=" + sha256(trickle_body(size)), "len=%d" % size,
                         "tick=" + t.nginx.url("/0.bin")])
    o = objs[-1]
    _check_pause(t, o, size)
    t.eq(o["npauses"], 1, "paused from a done callback while receiving")
    t.eq(o["pause_rc"], HF_OK, "hf_transfer_pause from a done callback")
    t.eq(o["resume_rc"], HF_OK, "the resuming transfer's err")
    t.check(o["paused_for_ms"] >= 450, "paused for %.0f ms" % o["paused_for_ms"])
    t.check(o["max_gap_ms"] >= 450, "longest gap between sink calls: %.0f ms"
            % o["max_gap_ms"])


@test()
def pause_forever_request_timeout_still_runs(t):
    url, sha, n = _nginx_files(t)["10m.bin"]
    _, objs = _drive(t, ["pause", "timeout", "url=" + url, "timeout=500"])
    o = objs[-1]
    t.eq(o["err"], HF_E_TIMEOUT, "a transfer paused for good ends with the "
         "request's timeout")
    t.eq(o["done_calls"], 1, "done calls")
    t.eq(o["calls_while_paused"], 0, "sink calls while paused")
    t.check(400 <= o["run_ms"] <= 2000, "ended after %d ms (timeout 500)"
            % o["run_ms"])
    t.eq(o["pending_after"], 0, "hf_client_pending at the end")
    t.eq(o["fds_after"], o["fds_before"], "descriptors after hf_client_free")


@test()
def pause_before_it_starts(t):
    url, sha, n = _nginx_files(t)["async/1m.bin"]
    _, objs = _drive(t, ["pause", "queued", "url=" + url, "sha=" + sha,
                         "len=%d" % n])
    o = objs[-1]
    _check_pause(t, o, n)
    t.eq((o["pause_rc"], o["resume_rc"]), (HF_OK, HF_OK),
         "hf_transfer_pause / resume right after hf_submit")
    t.check(o["paused_for_ms"] >= 450, "paused for %.0f ms" % o["paused_for_ms"])


# ------------------------------------------------------------------ files


def _files(t, *args, timeout=20):
    _, objs = _drive(t, ["files"] + list(args), timeout=timeout)
    o = objs[-1]
    t.eq(o["pending_after"], 0, "hf_client_pending at the end")
    t.eq(o["done_in_api"], 0, "done callbacks inside calls from outside")
    t.eq(o["fds_after"], o["fds_before"], "descriptors after hf_client_free")
    for x in o["transfers"]:
        t.eq(x["dc"], 1, "done calls of transfer %d" % x["i"])
    return o


@test()
def body_file_upload_echoed_twice(t):
    data = os.urandom(3 << 20)
    path = t.write("upload.bin", data)
    save = t.path("resp")
    o = _files(t, "url=" + t.hostile.url("/echo"), "method=POST",
               "body_file=" + path, "n=2", "save=" + save)
    t.eq(o["body_rc"], HF_OK, "hf_request_body_file")
    for x in o["transfers"]:
        i = x["i"]
        t.eq((x["err"], x["st"]), (HF_OK, 200), "upload %d: err, status" % i)
        t.eq(x["up"], len(data), "upload %d: hf_response_size_upload" % i)
        try:
            with open("%s.%d" % (save, i), "rb") as f:
                echoed = f.read()
        except OSError:
            echoed = b""
        line, hdrs, body = split_request(echoed)
        t.eq(line, "POST /echo HTTP/1.1", "upload %d: request line" % i)
        t.eq(header(hdrs, "Content-Length"), str(len(data)),
             "upload %d: Content-Length is the file's size" % i)
        t.eq(sha256(body), sha256(data), "upload %d: sha256 of the body the "
             "server got" % i)


@test()
def body_file_upload_httpbin(t):
    text = "".join("line %04d of an upload from a file\n" % i for i in range(500))
    path = t.write("upload.txt", text.encode())
    save = t.path("resp")
    o = _files(t, "url=" + t.httpbin.url("/post"), "method=POST",
               "body_file=" + path, "ctype=text/plain", "save=" + save)
    x = o["transfers"][0]
    t.eq((x["err"], x["st"]), (HF_OK, 200), "err, status")
    try:
        with open(save + ".0", "rb") as f:
            j = json.loads(f.read())
    except (OSError, ValueError) as e:
        t.fail("httpbin's answer: %s" % e)
        return
    t.eq(j.get("data"), text, "the body httpbin got")
    t.eq(j.get("headers", {}).get("Content-Length"), str(len(text)),
         "Content-Length httpbin got")


@test()
def body_file_missing_fails_with_read_error(t):
    o = _files(t, "url=" + t.hostile.url("/echo"), "method=POST",
               "body_file=" + t.path("no-such-file"))
    x = o["transfers"][0]
    t.eq(x["err"], HF_E_READ, "err for a body file that cannot be opened")


@test()
def output_file_is_nginx_file(t):
    url, sha, n = _nginx_files(t)["10m.bin"]
    out = t.path("out.bin")
    o = _files(t, "url=" + url, "output=" + out)
    t.eq(o["output_rc"], HF_OK, "hf_request_set_output_file")
    x = o["transfers"][0]
    t.eq((x["err"], x["st"]), (HF_OK, 200), "err, status")
    t.eq(x["len"], 0, "body bytes kept in memory as well")
    t.check(os.path.exists(out), "output file created")
    if os.path.exists(out):
        t.eq(sha256_file(out), sha, "sha256 of the output file")


@test()
def output_file_redirect_body_not_written(t):
    import urllib.parse
    url, sha, n = _nginx_files(t)["1k.bin"]
    redir = t.hostile.url("/redir-body?code=302&n=1000&to=" +
                          urllib.parse.quote(url, safe=""))
    out = t.path("out.bin")
    o = _files(t, "url=" + redir, "output=" + out, "follow=5")
    x = o["transfers"][0]
    t.eq((x["err"], x["st"]), (HF_OK, 200), "err, status")
    t.eq(x["redirs"], 1, "redirects followed")
    if os.path.exists(out):
        with open(out, "rb") as f:
            got = f.read()
        t.eq((len(got), sha256(got)), (n, sha), "the output file holds only the "
             "final body (not the redirect's 1000 bytes)")
    else:
        t.fail("output file not created")


@test()
def output_file_unwritable_fails_with_write_error(t):
    o = _files(t, "url=" + t.nginx.url("/1k.bin"),
               "output=" + t.path("no-such-dir/out.bin"))
    t.eq(o["transfers"][0]["err"], HF_E_WRITE, "err for an output file that "
         "cannot be created")


# ------------------------------------------------------------ error paths


def _error_paths(t, valgrind):
    _, objs = _drive(t, ["errors", "good=" + t.nginx.url("/1k.bin"),
                         "slow=" + t.hostile.url("/drip?n=20&delay=0.05"),
                         "refused=http://127.0.0.1:%d/" % closed_port()],
                     timeout=25, valgrind=valgrind)
    o = objs[-1]
    BFA = HF_E_BAD_FUNCTION_ARG
    want = {
        "submit_null_client": BFA, "submit_null_request": BFA,
        "submit_delayed_null_client": BFA, "submit_delayed_null_request": BFA,
        "run_null": BFA, "process_null": BFA, "cancel_null": BFA,
        "pause_null": BFA, "resume_null": BFA, "set_limits_null": BFA,
        "set_rate_null": BFA, "set_host_rate_null": BFA,
        "body_file_null_request": BFA, "output_file_null_request": BFA,
        # the project's convention for a negative count or rate
        "set_limits_negative": BFA, "set_rate_negative": BFA,
        "set_host_rate_negative": BFA,
        "transfer_request_null_is_null": 1, "done_after_null_calls": 0,
        "pending_after_null_calls": 0, "fd_valid": 1,
        "run_idle_rc": HF_OK, "run_idle_timeout_rc": HF_OK,
        "process_idle_rc": HF_OK,
        "slow_submit_rc": HF_OK, "pending_after_submit": 1,
        "transfer_request_ok": 1, "run_timeout_rc": HF_E_TIMEOUT,
        "pending_after_timeout": 1, "slow_done_after_timeout": 0,
        "run_rest_rc": HF_OK, "slow_err": HF_OK, "slow_status": 200,
        "slow_len": 20, "slow_done_calls": 1, "pending_end": 0,
        "chain_submit_rc": HF_OK, "chain_run_rc": HF_OK, "chain_ok": 5,
        "chain_done_once": 5, "chain_submits_ok": 5, "pending_after_chain": 0,
        "send_rc": HF_OK, "send_status": 200, "send_len": 1024,
        "async_run_rc": HF_OK, "async_ok": 3, "async_done_once": 3,
        "free_in_done_run_rc": HF_OK, "free_in_done_err": HF_OK,
        "free_in_done_calls": 1,
        "delayed_pending": 2, "delayed_run_rc": HF_OK, "delayed_err": HF_OK,
        "undelayed_err": HF_OK, "done_in_api": 0,
        "refused_submit_rc": HF_OK, "refused_run_rc": HF_OK,
        "refused_err": 7, "refused_done_calls": 1,
    }
    for k, v in want.items():
        t.eq(o.get(k), v, k)
    t.eq(o["fds_after"], o["fds_before"], "descriptors after hf_client_free")
    # an invalid URL: refused by hf_submit, or reported to done (from the loop)
    if o["bad_url_submit_rc"] == HF_OK:
        t.eq(o["bad_url_done_in_submit"], 0, "bad URL: done inside hf_submit")
        t.eq(o["bad_url_err"], HF_E_URL, "bad URL: err in done")
        t.eq(o["bad_url_done_calls"], 1, "bad URL: done calls")
    else:
        t.eq(o["bad_url_submit_rc"], BFA, "bad URL: hf_submit")
        t.eq(o["bad_url_done_calls"], 0, "bad URL refused: done calls")
    t.check(o["delayed_start_ms"] >= 398, "delayed 400 ms: started after %.1f ms"
            % o["delayed_start_ms"])
    if valgrind:
        return
    t.check(o["run_idle_ms"] < 50, "hf_client_run(-1) with nothing pending: "
            "%.1f ms" % o["run_idle_ms"])
    t.check(o["run_idle_timeout_ms"] < 50, "hf_client_run(5000) with nothing "
            "pending: %.1f ms" % o["run_idle_timeout_ms"])
    t.check(180 <= o["run_timeout_ms"] <= 700, "hf_client_run(200) with a slow "
            "transfer returned after %.1f ms" % o["run_timeout_ms"])
    t.check(o["send_ms"] < 800, "hf_send does not wait for the slow async "
            "transfers: %.1f ms" % o["send_ms"])
    t.check(o["undelayed_done_ms"] < 300, "undelayed transfer done after %.1f ms"
            % o["undelayed_done_ms"])


@test(tags=("fast",))
def error_paths(t):
    _error_paths(t, valgrind=False)


@test()
def error_paths_under_valgrind(t):
    """The same under valgrind: a done callback that frees its request or
    submits more, hf_send among async transfers, a timed-out run -- no
    invalid access, nothing leaked."""
    _valgrind_ok(t)
    _error_paths(t, valgrind=True)
