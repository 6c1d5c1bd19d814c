"""Time and size limits: curl's -m, -Y/-y and --max-filesize, and hflow's
per-phase limits (--dns-timeout, --ttfb-timeout, --idle-timeout,
--tls-timeout), each failing with 28 (63 for sizes) and naming the phase."""

import os
import socket

from harness import test


@test(tags=("fast",))
def ttfb_timeout_names_the_phase(t):
    if t.is_curl:
        t.skip("hflow's own flag")
        return
    r = t.run(["-sS", "--ttfb-timeout", "0.5", t.httpbin.url("/delay/3")], timeout=15)
    t.error(r, 28, r"first response byte|ttfb", empty_stdout=True)
    t.check(r.elapsed < 2.5 + t.slack, "stops near 0.5 s: %.2f s" % r.elapsed)


@test(tags=("fast",))
def idle_timeout_during_the_body(t):
    if t.is_curl:
        t.skip("hflow's own flag")
        return
    h = t.hostile
    h.reset()
    # /stall sends the head, then nothing
    r = t.run(["-sS", "--idle-timeout", "0.5", h.url("/stall")], timeout=15)
    t.error(r, 28, r"no byte for 500 ms", r"idle")
    t.check(r.elapsed < 2.5 + t.slack, "stops near 0.5 s: %.2f s" % r.elapsed)


@test()
def idle_timeout_lets_a_slow_drip_finish(t):
    if t.is_curl:
        t.skip("hflow's own flag")
        return
    h = t.hostile
    h.reset()
    r = t.run(["-sS", "--idle-timeout", "1", h.url("/drip")], timeout=15)
    t.ok(r)
    t.eq(len(r.out), 20, "the whole dripped body")


@test(tags=("fast",))
def dns_timeout_with_a_silent_server(t):
    if t.is_curl:
        t.skip("hflow's own flag")
        return
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))   # receives queries, never answers
    try:
        port = silent.getsockname()[1]
        r = t.run(["-sS", "--dns-servers", "127.0.0.1:%d" % port,
                   "--dns-timeout", "0.3", "http://silent.test/"], timeout=15)
        t.error(r, 28, r"resolve silent\.test", r"dns-timeout", empty_stdout=True,
                peer=False)
        t.check(r.elapsed < 2.0 + t.slack, "stops near 0.3 s: %.2f s" % r.elapsed)
    finally:
        silent.close()


@test(tags=("fast",))
def speed_limit_Y_y(t):
    # 30 bytes over 3 s is far below 100000 B/s: fails after about 1 s
    r = t.run(["-sS", "-Y", "100000", "-y", "1",
               t.httpbin.url("/drip?duration=3&numbytes=30")], timeout=15)
    t.error(r, 28, r"slow", curl=[r"[Ss]low|[Tt]ime"])
    t.check(r.elapsed < 2.5 + t.slack, "stops near 1 s: %.2f s" % r.elapsed)


@test(tags=("fast",))
def max_filesize_announced(t):
    r = t.run(["-sS", "--max-filesize", "100", t.httpbin.url("/bytes/1000")])
    t.error(r, 63, r"max-filesize|larger|maximum", empty_stdout=True,
            curl=[r"[Mm]aximum|size"])


@test()
def max_filesize_streamed(t):
    # chunked: the size is known only while reading
    r = t.run(["-sS", "--max-filesize", "1000", t.httpbin.url("/stream-bytes/5000")])
    t.error(r, 63, r"max-filesize|larger", curl=[r"[Mm]aximum|size"])
    t.check(len(r.out) <= 1000, "at most the limit on stdout: %d" % len(r.out))


@test()
def max_filesize_applies_to_decoded_bytes(t):
    if t.is_curl:
        t.skip("curl counts the encoded bytes")
        return
    # /gzip is ~250 B on the wire and more decoded
    r = t.run(["-sS", "--compressed", "--max-filesize", "100", t.httpbin.url("/gzip")])
    t.error(r, 63, r"max-filesize")


def _bomb(t, kind):
    out = t.path("bomb." + kind)
    r = t.run(["-sS", "--compressed", "--max-filesize", "10M", "-o", out,
               t.hostile.url("/bomb/" + kind)], timeout=20)
    t.error(r, 63, r"max-filesize|larger", curl=[r"[Mm]aximum|size|larger"])
    size = os.path.getsize(out) if os.path.exists(out) else 0
    t.check(size <= 10 * 1024 * 1024, "at most 10 MiB written: %d" % size)
    t.check(r.elapsed < 5 + t.slack, "stopped early: %.2f s" % r.elapsed)


@test(tags=("fast",))
def brotli_bomb_stopped_by_max_filesize(t):
    _bomb(t, "br")


@test(tags=("fast",))
def zstd_bomb_stopped_by_max_filesize(t):
    _bomb(t, "zst")
