"""hflow against tests/servers/hostile.py: broken framing, resets, stalls,
oversized heads, interim responses, connection reuse, and the exact bytes
hflow sends (from /echo and the capture dir)."""

import gzip
import os
import re
import sys

from harness import (SERVERS, basic, decode_chunked_strict, header, sha256,
                     split_request, test)

sys.path.insert(0, SERVERS)
import hostile as H  # noqa: E402  (for the bodies it sends)

FRAMING = (8, 56)       # framing/size violations: "weird reply" or "receive error"


def _h(t):
    h = t.hostile
    return h, h.reset()


def _peer(h):
    return ("127.0.0.1", h.port)


# ------------------------------------------------------- truncation, resets

@test(tags=("fast", "vg"))
def truncated_body_18(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/truncated")])
    t.error(r, 18, r"50 bytes", peer=_peer(h))
    t.check(len(r.out) <= 50, "no more than the 50 bytes sent: %d" % len(r.out))


@test(tags=("fast",))
def truncated_body_o_file_nonzero(t):
    # curl leaves the partial file behind but exits non-zero: so must hflow.
    h, _ = _h(t)
    out = t.path("partial")
    r = t.run(["-sS", "-o", out, h.url("/truncated")])
    t.error(r, 18, r"50 bytes")
    t.eq(r.out, b"", "stdout with -o")
    size = os.path.getsize(out) if os.path.exists(out) else 0
    t.check(size <= 50, "partial file holds at most what was sent: %d" % size)


@test(tags=("fast",))
def truncated_silent_s_no_line(t):
    h, _ = _h(t)
    r = t.run(["-s", h.url("/truncated")])
    t.rc(r, 18)
    t.eq(r.err, "", "-s without -S prints no error")


@test()
def truncated_without_s_error_line(t):
    h, _ = _h(t)
    r = t.run([h.url("/truncated")])
    t.error(r, 18, r"50 bytes", one_line=False)


@test(tags=("fast",))
def reset_mid_body_18_or_56(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/reset-mid-body")])
    t.error(r, (18, 56), r"reset|closed|remain|receiv|recv")
    t.check(len(r.out) <= 1000, "no more than the 1000 bytes sent: %d" % len(r.out))


@test(tags=("fast",))
def missing_final_chunk_18(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/missing-final-chunk")])
    t.error(r, 18, r"clos|remain|chunk|end")


@test(tags=("fast",))
def empty_reply_52(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/empty")])
    t.error(r, 52, r"empty", empty_stdout=True, peer=_peer(h))


# ------------------------------------------------------------ chunk sizes

def _bad_chunk(t, name, hflow_only=False):
    if hflow_only:
        t.hflow_only("curl ignores chunk extensions of any size")
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/bad-chunk/" + name)])
    t.error(r, FRAMING, r"chunk", empty_stdout=True)


@test(tags=("fast", "vg"))
def bad_chunk_neg(t):
    _bad_chunk(t, "neg")


@test(tags=("fast",))
def bad_chunk_plus(t):
    _bad_chunk(t, "plus")


@test(tags=("fast",))
def bad_chunk_17_hex_digits(t):
    _bad_chunk(t, "long")


@test(tags=("fast",))
def bad_chunk_ffffffffffffffff(t):
    # SECURITY.md E.29: refused.  The server keeps the connection open, so a
    # client that took 2^64-1 as a size would wait: -m 5 bounds that (28).
    h, _ = _h(t)
    r = t.run(["-sS", "-m", "5", h.url("/bad-chunk/max")])
    t.error(r, FRAMING, r"chunk", empty_stdout=True)


@test(tags=("fast",))
def bad_chunk_zz(t):
    _bad_chunk(t, "zz")


@test(tags=("fast",))
def bad_chunk_leading_space(t):
    _bad_chunk(t, "space")


@test(tags=("fast",))
def bad_chunk_empty_size(t):
    _bad_chunk(t, "empty")


@test(tags=("fast",))
def bad_chunk_1MiB_extension(t):
    _bad_chunk(t, "bigext", hflow_only=True)


@test(tags=("fast",))
def chunked_ok_with_ext_and_trailer(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/chunked-ok")])
    t.ok(r)
    t.eq(r.out, b"hello world0123456789", "decoded chunked body")


@test(tags=("fast",))
def response_one_byte_per_segment(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-i", h.url("/bytewise")])
    t.ok(r)
    t.match(r"\r\nx-bytewise: yes\r\n", r.text, "head parsed from 1-byte reads")
    t.check(r.out.endswith(b"\r\n\r\nhello world"), "body: %r" % r.out[-30:])


# ------------------------------------------------------ framing conflicts

@test(tags=("fast",))
def cl_conflict(t):
    t.hflow_only("curl 7.88 takes one of two differing Content-Length")
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/cl-conflict")])
    t.error(r, FRAMING, r"content-length|length", empty_stdout=True)


@test(tags=("fast",))
def cl_list_conflict(t):
    t.hflow_only("curl 7.88 accepts 'Content-Length: 5, 6'")
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/cl-list-conflict")])
    t.error(r, FRAMING, r"content-length|length", empty_stdout=True)


@test(tags=("fast",))
def cl_and_te_both(t):
    t.hflow_only("SECURITY.md E.30: CL+TE is an error; curl 7.88 prefers TE")
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/cl-te")])
    t.error(r, FRAMING, r"content-length|transfer-encoding|length|chunk",
            empty_stdout=True)


@test(tags=("fast",))
def cl_negative(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/cl-negative")])
    t.error(r, FRAMING, r"content-length|length", empty_stdout=True)


@test(tags=("fast",))
def cl_extra_bytes_ignored(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/cl-extra")])
    t.ok(r)
    t.eq(r.out, b"hello", "only Content-Length bytes")


def _no_reuse_after(t, path):
    h, _ = _h(t)
    r = t.run(["-sS", h.url(path), h.url("/keepalive")])
    t.match(r"keepalive conn=\d+ req=1\n$", r.text, "second URL fetched afterwards")
    s = h.stats()
    t.eq(s["per_connection"], [["GET " + path], ["GET /keepalive"]],
         "second request on a new connection")


@test(tags=("fast",))
def no_reuse_after_cl_conflict(t):
    t.hflow_only("curl 7.88 accepts differing Content-Length")
    _no_reuse_after(t, "/cl-conflict")


@test(tags=("fast",))
def no_reuse_after_cl_te(t):
    t.hflow_only("curl 7.88 reuses the connection after CL+TE (RFC 9112 6.3: close)")
    _no_reuse_after(t, "/cl-te")


@test(tags=("fast",))
def no_reuse_after_bad_chunk(t):
    _no_reuse_after(t, "/bad-chunk/space")


# -------------------------------------------------------------- huge heads

@test(tags=("fast",))
def huge_headers_400KiB(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/huge-headers")])
    t.error(r, FRAMING, r"header|large|big|size", empty_stdout=True)


@test(tags=("fast",))
def huge_header_line_200KiB(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/huge-line")])
    # curl 7.88 says (27) out of memory here
    t.error(r, FRAMING, r"header|line|large|big|size", empty_stdout=True,
            curl_codes=FRAMING + (27,), curl=[])


@test(tags=("fast",))
def garbage_status_line_8(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/garbage-status")])
    t.error(r, 8, r"status|reply|http|response", empty_stdout=True,
            curl_codes=(1, 8))


@test(tags=("fast",))
def verbose_escapes_control_bytes(t):
    h, _ = _h(t)
    r = t.run(["-v", h.url("/esc-header")])
    t.eq(r.rc, 0, "exit code")
    t.eq(r.out, b"ok", "body")
    if t.is_curl:
        return
    t.check("\x1b" not in r.err and "\x07" not in r.err,
            "no raw ESC or BEL reaches stderr")
    t.match(r"X-Evil: a\\x1B\[2J\\x07b", r.err, "shown escaped")


# ---------------------------------------------------------------- timeouts

@test(tags=("fast", "vg"))
def stall_body_max_time_28(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-m", "1", h.url("/stall")], timeout=15)
    t.error(r, 28, r"time", empty_stdout=True)
    t.check(0.9 < r.elapsed < 2.5 + t.slack, "ends near 1 s: %.2f s" % r.elapsed)


@test(tags=("fast",))
def stall_head_max_time_28(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-m", "1", h.url("/stall-head")], timeout=15)
    t.error(r, 28, r"time", empty_stdout=True, peer=_peer(h))
    t.check(0.9 < r.elapsed < 2.5 + t.slack, "ends near 1 s: %.2f s" % r.elapsed)


@test(tags=("fast",))
def drip_body_complete(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/drip")], timeout=15)
    t.ok(r)
    t.eq(r.out, b"abcdefghijklmnopqrst", "20 bytes, one at a time")
    t.check(r.elapsed > 0.9, "took the drip's time: %.2f s" % r.elapsed)


@test()
def drip_max_time_fraction_28(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-m", "0.5", h.url("/drip")], timeout=15)
    t.error(r, 28, r"time")
    t.check(r.elapsed < 1.5 + t.slack, "-m 0.5 ends near 0.5 s: %.2f s" % r.elapsed)
    t.check(len(r.out) < 20, "not the whole body: %d bytes" % len(r.out))


@test()
def connect_timeout_does_not_cap_transfer(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--connect-timeout", "1", h.url("/drip?n=30&delay=0.05")],
              timeout=15)
    t.ok(r)
    t.eq(len(r.out), 30, "whole body after more than 1 s")
    t.check(r.elapsed > 1.3, "transfer took > 1 s: %.2f s" % r.elapsed)


# --------------------------------------------------------- interim, oddities

@test(tags=("fast",))
def interim_100_103_then_200(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/interim")])
    t.ok(r)
    t.eq(r.out, b"final\n", "only the final response's body")


@test()
def interim_with_i_shows_final_head(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-i", h.url("/interim")])
    t.ok(r)
    t.match(r"HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nfinal\n$", r.text,
            "final head and body at the end")


@test(tags=("fast",))
def http10_close_delimited(t):
    h, _ = _h(t)
    want = b"".join(b"http/1.0 close-delimited line %04d\n" % i for i in range(300))
    r = t.run(["-sS", h.url("/http10")])
    t.ok(r)
    t.eq(len(r.out), len(want), "length")
    t.eq(r.out, want, "body read until close")


@test()
def http11_no_length_close_delimited(t):
    h, _ = _h(t)
    want = b"".join(b"http/1.1 close-delimited line %04d\n" % i for i in range(300))
    r = t.run(["-sS", h.url("/no-length")])
    t.ok(r)
    t.eq(r.out, want, "body read until close")


@test(tags=("fast",))
def http10_then_new_connection(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-o", os.devnull, h.url("/http10"), h.url("/keepalive")])
    t.ok(r)
    t.match(r"^keepalive conn=\d+ req=1\n$", r.text, "second URL on a fresh connection")
    t.eq(h.stats()["connections"], 2, "connections")


@test(tags=("fast",))
def head_with_content_length_no_body(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-I", h.url("/head-cl"), h.url("/head-cl")], timeout=10)
    t.ok(r)
    t.eq(r.out.count(b"HTTP/1.1 200 OK\r\n"), 2, "two heads")
    t.check(r.elapsed < 3 + t.slack, "did not wait for a HEAD body: %.2f s" % r.elapsed)
    s = h.stats()
    t.eq(s["per_connection"], [["HEAD /head-cl", "HEAD /head-cl"]],
         "both HEADs on one connection")


@test(tags=("fast",))
def no_content_204_then_reuse(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/no-content"), h.url("/keepalive")], timeout=10)
    t.ok(r)
    t.match(r"^keepalive conn=\d+ req=2\n$", r.text, "204 has no body; reuse")
    t.eq(h.stats()["connections"], 1, "connections")


@test()
def status_500_fail_with_body(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--fail-with-body", h.url("/status/500")])
    t.error(r, 22, r"500")
    t.eq(r.out, b"status 500 body\n", "body printed")


# ---------------------------------------------------------- content coding

@test(tags=("fast",))
def gzip_ok_compressed(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-ok")])
    t.ok(r)
    t.eq(sha256(r.out), sha256(H.GZ_PLAIN), "decoded body")


@test()
def deflate_ok_compressed(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/deflate-ok")])
    t.ok(r)
    t.eq(sha256(r.out), sha256(H.GZ_PLAIN), "decoded body")


@test(tags=("fast",))
def gzip_truncated_compressed_61(t):
    t.hflow_only("curl 7.88 exits 0 on a gzip stream cut at a clean CL boundary")
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-truncated")])
    t.error(r, 61, r"encod|gzip|inflate|decompress|truncat")


@test(tags=("fast",))
def gzip_corrupt_compressed_61(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-corrupt")])
    t.error(r, 61, r"encod|gzip|inflate|decompress|corrupt")


@test()
def gzip_chain_of_2_decoded(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-chain?n=2")])
    t.ok(r)
    t.eq(sha256(r.out), sha256(H.GZ_PLAIN), "decoded twice")


@test()
def gzip_chain_of_5_decoded(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-chain?n=5&split=1")])
    t.ok(r)
    t.eq(sha256(r.out), sha256(H.GZ_PLAIN), "decoded five times")


@test(tags=("fast",))
def gzip_chain_of_6_one_header_refused(t):
    # SECURITY.md E.27 (CVE-2022-32206): more than 5 codings in total is an error
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-chain?n=6")])
    t.error(r, 61, r"encod|many|chain|gzip", empty_stdout=True)


@test(tags=("fast",))
def gzip_chain_of_6_six_headers_refused(t):
    # SECURITY.md E.27 (CVE-2023-23916): counted across headers too
    h, _ = _h(t)
    r = t.run(["-sS", "--compressed", h.url("/gzip-chain?n=6&split=1")])
    t.error(r, 61, r"encod|many|chain|gzip", empty_stdout=True)


@test()
def gzip_truncated_raw_without_compressed(t):
    h, _ = _h(t)
    data = gzip.compress(H.GZ_PLAIN, mtime=0)
    r = t.run(["-sS", h.url("/gzip-truncated")])
    t.ok(r)
    t.eq(sha256(r.out), sha256(data[:len(data) // 2]), "raw bytes passed through")


# ------------------------------------------------------ connection reuse

@test(tags=("fast", "vg"))
def keepalive_twice_one_connection(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/keepalive"), h.url("/keepalive")])
    t.ok(r)
    m = re.fullmatch(r"keepalive conn=(\d+) req=1\nkeepalive conn=(\d+) req=2\n", r.text)
    t.check(m and m.group(1) == m.group(2), "same connection, requests 1 and 2: %r"
            % r.text)
    s = h.stats()
    t.eq((s["connections"], s["requests"]), (1, 2), "server: connections, requests")


@test(tags=("fast",))
def keepalive_num_connects(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-o", os.devnull, "-o", os.devnull, "-o", os.devnull,
               "-w", "%{num_connects} ", h.url("/keepalive"), h.url("/keepalive"),
               h.url("/keepalive")])
    t.ok(r)
    t.eq(r.text.split(), ["1", "0", "0"], "-w num_connects")
    t.eq(h.stats()["connections"], 1, "server connections")


@test(tags=("fast",))
def connection_close_forces_new_connection(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/close-after"), h.url("/close-after")])
    t.ok(r)
    m = re.fullmatch(r"close-after conn=(\d+) req=1\nclose-after conn=(\d+) req=1\n",
                     r.text)
    t.check(m and m.group(1) != m.group(2), "two connections: %r" % r.text)
    s = h.stats()
    t.eq((s["connections"], s["requests"]), (2, 2), "server: connections, requests")


@test()
def keepalive_after_error_status(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/status/404"), h.url("/keepalive")])
    t.ok(r)
    t.match(r"keepalive conn=\d+ req=2\n$", r.text, "404 with a body keeps the connection")


# -------------------------------------------------- exact request bytes

def _default_head(t, h, path="/echo", method="GET"):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: %s\r\n"
            "Accept: */*\r\n" % (method, path, h.port, t.ua)).encode()


@test(tags=("fast", "vg"))
def request_default_exact_bytes(t):
    h, mark = _h(t)
    r = t.run(["-sS", h.url("/echo")])
    t.ok(r)
    want = _default_head(t, h) + b"\r\n"
    t.eq(r.out, want, "request bytes (echo)")
    caps = h.captures(mark, 1)
    t.eq([c[1] for c in caps], [want], "request bytes (capture)")


@test(tags=("fast",))
def request_fragment_not_sent(t):
    h, mark = _h(t)
    r = t.run(["-sS", h.url("/echo?q=1#frag")])
    t.ok(r)
    t.eq(r.out, _default_head(t, h, "/echo?q=1") + b"\r\n", "no fragment on the wire")


@test()
def request_query_kept_verbatim(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/echo?a=b&c=%20d&e=%2F")])
    t.ok(r)
    t.match(r"^GET /echo\?a=b&c=%20d&e=%2F HTTP/1\.1\r\n", r.text, "request target")


@test()
def request_dot_segments_removed(t):
    h, _ = _h(t)
    r = t.run(["-sS", h.url("/a/b/../../echo")])
    t.ok(r)
    t.match(r"^GET /echo HTTP/1\.1\r\n", r.text, "RFC 3986 remove_dot_segments")


@test()
def request_empty_path_is_slash(t):
    h, mark = _h(t)
    r = t.run(["-sS", "http://127.0.0.1:%d" % h.port])
    t.ok(r)
    caps = h.captures(mark, 1)
    t.check(caps and caps[0][1].startswith(b"GET / HTTP/1.1\r\n"),
            "request line for an empty path: %r" % (caps[0][1][:40] if caps else None))


@test(tags=("fast",))
def request_host_from_resolve(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--resolve", "echo.test:%d:127.0.0.1" % h.port,
               "http://echo.test:%d/echo" % h.port])
    t.ok(r)
    t.match(r"\r\nHost: echo\.test:%d\r\n" % h.port, r.text, "Host with name and port")


@test()
def request_host_ipv6_literal(t):
    h6 = t.hostile6
    r = t.run(["-sS", h6.url("/echo")])
    t.ok(r)
    t.match(r"\r\nHost: \[::1\]:%d\r\n" % h6.port, r.text, "Host for [::1]")


@test(tags=("fast",))
def request_H_remove_and_empty(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-H", "Accept:", "-H", "X-Empty;", h.url("/echo")])
    t.ok(r)
    line, hdrs, body = split_request(r.out)
    names = [n.lower() for n, _ in hdrs]
    t.check("accept" not in names, "Accept removed: %r" % names)
    t.match(r"\r\nX-Empty:[ ]?\r\n", r.text, "X-Empty sent empty")
    t.eq(names.count("x-empty"), 1, "X-Empty once")


@test(tags=("fast",))
def request_H_custom_after_defaults(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-H", "X-A: 1", "-H", "X-B: two words", h.url("/echo")])
    t.ok(r)
    want = _default_head(t, h) + b"X-A: 1\r\nX-B: two words\r\n\r\n"
    t.eq(r.out, want, "custom headers in order after the defaults")


@test()
def request_H_replaces_host(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-H", "Host: other.test", h.url("/echo")])
    t.ok(r)
    _, hdrs, _ = split_request(r.out)
    t.eq([v for n, v in hdrs if n.lower() == "host"], ["other.test"], "one Host")


@test()
def request_u_basic_auth(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-u", "user:p@ss:w", h.url("/echo")])
    t.ok(r)
    _, hdrs, _ = split_request(r.out)
    t.eq(header(hdrs, "Authorization"), basic("user", "p@ss:w"), "Authorization")


@test()
def request_A_and_e(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-A", "agent/1", "-e", "http://ref.test/", h.url("/echo")])
    t.ok(r)
    _, hdrs, _ = split_request(r.out)
    t.eq(header(hdrs, "User-Agent"), "agent/1", "User-Agent")
    t.eq(header(hdrs, "Referer"), "http://ref.test/", "Referer")


@test(tags=("fast",))
def request_d_content_length_and_type(t):
    h, mark = _h(t)
    r = t.run(["-sS", "-d", "a=1&b=2", h.url("/echo")])
    t.ok(r)
    line, hdrs, body = split_request(r.out)
    t.eq(line, "POST /echo HTTP/1.1", "request line")
    t.eq(r.out[:len(_default_head(t, h, method="POST"))],
         _default_head(t, h, method="POST"), "default headers first")
    t.eq(header(hdrs, "Content-Length"), "7", "Content-Length")
    t.eq(header(hdrs, "Content-Type"), "application/x-www-form-urlencoded",
         "Content-Type")
    t.eq(header(hdrs, "Transfer-Encoding"), None, "no Transfer-Encoding")
    t.eq(body, b"a=1&b=2", "body")


@test()
def request_d_at_file_strips_crlf(t):
    h, _ = _h(t)
    f = t.write("d.txt", b"a=1\r\n&b=2\n\n")
    r = t.run(["-sS", "-d", "@" + f, h.url("/echo")])
    t.ok(r)
    _, hdrs, body = split_request(r.out)
    t.eq(body, b"a=1&b=2", "CR and LF stripped")
    t.eq(header(hdrs, "Content-Length"), "7", "Content-Length")


@test()
def request_data_binary_at_file(t):
    h, _ = _h(t)
    data = bytes(range(256)) * 4 + b"\r\n\n"
    f = t.write("b.bin", data)
    r = t.run(["-sS", "--data-binary", "@" + f, h.url("/echo")])
    t.ok(r)
    _, hdrs, body = split_request(r.out)
    t.eq(body, data, "bytes kept")
    t.eq(header(hdrs, "Content-Length"), str(len(data)), "Content-Length")


@test()
def request_data_raw(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--data-raw", "@x&y", h.url("/echo")])
    t.ok(r)
    t.eq(split_request(r.out)[2], b"@x&y", "body")


@test()
def request_data_urlencode_exact(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--data-urlencode", "q=a b&c/d", "--data-urlencode", "plain",
               h.url("/echo")])
    t.ok(r)
    t.check(split_request(r.out)[2] in (b"q=a%20b%26c%2Fd&plain", b"q=a+b%26c%2Fd&plain"),
            "encoded body: %r" % split_request(r.out)[2])


@test(tags=("fast",))
def request_G_query_no_body(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-G", "-d", "a=1", "-d", "b=2", h.url("/echo")])
    t.ok(r)
    t.eq(r.out, _default_head(t, h, "/echo?a=1&b=2") + b"\r\n", "GET with the query")


@test()
def request_I_head(t):
    h, mark = _h(t)
    r = t.run(["-sS", "-I", h.url("/echo")])
    t.ok(r)
    caps = h.captures(mark, 1)
    t.eq([c[1] for c in caps], [_default_head(t, h, method="HEAD") + b"\r\n"],
         "HEAD request bytes")


@test()
def request_X_custom_method(t):
    h, _ = _h(t)
    r = t.run(["-sS", "-X", "PROPFIND", h.url("/echo")])
    t.ok(r)
    t.eq(r.out, _default_head(t, h, method="PROPFIND") + b"\r\n", "method")


@test(tags=("fast",))
def request_json(t):
    h, _ = _h(t)
    r = t.run(["-sS", "--json", '{"a":1}', h.url("/echo")])
    t.ok(r)
    line, hdrs, body = split_request(r.out)
    t.eq(line, "POST /echo HTTP/1.1", "request line")
    t.eq(header(hdrs, "Content-Type"), "application/json", "one Content-Type")
    t.eq(header(hdrs, "Accept"), "application/json", "one Accept")
    t.eq(body, b'{"a":1}', "body")


@test(tags=("fast",))
def request_F_multipart(t):
    h, _ = _h(t)
    f = t.write("up.bin", b"\x00\x01file\r\nbytes\xff")
    r = t.run(["-sS", "-F", "name=value", "-F", "up=@" + f, h.url("/echo")])
    t.ok(r)
    line, hdrs, body = split_request(r.out)
    ct = header(hdrs, "Content-Type") or ""
    m = t.match(r"^multipart/form-data; boundary=(\S+)$", ct, "Content-Type")
    t.eq(header(hdrs, "Content-Length"), str(len(body)), "Content-Length")
    if not m:
        return
    b = m.group(1).encode()
    t.check(body.startswith(b"--" + b + b"\r\n"), "starts with the boundary")
    t.check(body.endswith(b"\r\n--" + b + b"--\r\n"), "ends with the close boundary")
    parts = body.split(b"--" + b)[1:-1]
    t.eq(len(parts), 2, "two parts")
    if len(parts) == 2:
        t.match(r'content-disposition: form-data; name="name"\r\n\r\nvalue\r\n$',
                parts[0].decode("latin-1"), "text part")
        p1 = parts[1].decode("latin-1")
        t.match(r'content-disposition: form-data; name="up"; filename="up\.bin"', p1,
                "file part disposition")
        t.check(parts[1].endswith(b"\r\n\r\n\x00\x01file\r\nbytes\xff\r\n"),
                "file bytes intact: %r" % parts[1][-40:])


@test(tags=("fast",))
def request_chunked_upload_from_stdin(t):
    h, mark = _h(t)
    data = os.urandom(100000) + b"\r\n0\r\n\r\n"     # framing-like bytes inside
    args = ["--data-binary", "@-"]
    if t.is_curl:
        args = ["-T", "-", "-X", "POST"]     # curl reads -d @- whole; -T streams
    r = t.run(["-sS"] + args + [h.url("/echo")], stdin=data)
    t.ok(r)
    caps = h.captures(mark, 1)
    t.require(len(caps) == 1, "one request captured: %d" % len(caps))
    raw = caps[0][1]
    t.eq(raw, r.out, "echo equals capture")
    line, hdrs, body = split_request(raw)
    t.eq(line, "POST /echo HTTP/1.1", "request line")
    t.eq(header(hdrs, "Transfer-Encoding"), "chunked", "Transfer-Encoding")
    t.eq(header(hdrs, "Content-Length"), None, "no Content-Length")
    try:
        got, trailers = decode_chunked_strict(body)
        t.eq(sha256(got), sha256(data), "decoded upload equals stdin")
        t.eq(trailers, b"", "no trailers")
    except ValueError as e:
        t.fail("chunk framing: %s" % e)


@test()
def request_chunked_upload_empty_stdin(t):
    h, mark = _h(t)
    args = ["--data-binary", "@-"]
    if t.is_curl:
        args = ["-T", "-", "-X", "POST"]
    r = t.run(["-sS"] + args + [h.url("/echo")], stdin=b"")
    t.ok(r)
    line, hdrs, body = split_request(r.out)
    if header(hdrs, "Transfer-Encoding") == "chunked":
        t.eq(body, b"0\r\n\r\n", "empty chunked body")
    else:
        t.eq((header(hdrs, "Content-Length"), body), ("0", b""),
             "empty body with Content-Length: 0")


def _big_post(t, size, path="/expect"):
    h, mark = _h(t)
    data = os.urandom(size)
    f = t.write("big.bin", data)
    hdr = t.path("hdr")
    r = t.run(["-sS", "-D", hdr, "-o", t.path("echo"), "--data-binary", "@" + f,
               h.url(path)], timeout=20)
    t.ok(r)
    caps = h.captures(mark, 1, partial=False)
    t.require(len(caps) == 1, "one request captured: %d" % len(caps))
    line, hdrs, body = split_request(caps[0][1])
    t.eq(header(hdrs, "Content-Length"), str(size), "Content-Length")
    t.eq(len(body), size, "body size received")
    t.eq(sha256(body), sha256(data), "body bytes")
    head = t.read("hdr").decode("latin-1") if os.path.exists(hdr) else ""
    return r, hdrs, head


@test(tags=("fast",))
def request_expect_100_for_2MiB(t):
    r, hdrs, head = _big_post(t, 2 << 20)
    t.eq(header(hdrs, "Expect"), "100-continue", "Expect header")
    t.match(r"\r\nx-early-body: no\r\n", head, "body waited for 100 Continue")


@test()
def request_no_expect_at_1MiB(t):
    r, hdrs, head = _big_post(t, 1 << 20)
    t.eq(header(hdrs, "Expect"), None, "no Expect for exactly 1 MiB")


@test()
def request_expect_above_1MiB(t):
    r, hdrs, head = _big_post(t, (1 << 20) + 1)
    t.eq(header(hdrs, "Expect"), "100-continue", "Expect for 1 MiB + 1")


@test()
def request_expect_without_100_sends_anyway(t):
    r, hdrs, head = _big_post(t, 2 << 20, "/expect-none")
    t.eq(header(hdrs, "Expect"), "100-continue", "Expect header")
    t.check(r.elapsed < 5 + t.slack, "body sent after a short wait: %.2f s" % r.elapsed)


# ----------------------------------------------------- injection refused

def _refused_nothing_sent(t, args, why):
    t.hflow_only(why)
    h, mark = _h(t)
    r = t.run(["-sS"] + args + [h.url("/echo")])
    t.check(r.rc not in (0, None), "refused: %s" % r.brief())
    t.check(r.rc in (2, 43), "exit 2 or 43: %s" % r.brief())
    t.eq(r.out, b"", "stdout")
    t.eq(h.stats()["connections"], 0, "server connections")
    t.eq(h.captures(mark, 0, timeout=0), [], "server received nothing")


@test(tags=("fast",))
def crlf_in_method_refused(t):
    _refused_nothing_sent(t, ["-X", "GET /x HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET"],
                          "curl sends -X verbatim")


@test(tags=("fast",))
def lf_in_method_refused(t):
    _refused_nothing_sent(t, ["-X", "GET\nX-Injected: 1"], "curl sends -X verbatim")


@test(tags=("fast",))
def crlf_in_header_value_refused(t):
    _refused_nothing_sent(t, ["-H", "X-A: b\r\nX-Injected: 1"], "curl sends -H verbatim")


@test()
def lf_in_header_value_refused(t):
    _refused_nothing_sent(t, ["-H", "X-A: b\nX-Injected: 1"], "curl sends -H verbatim")


@test()
def cr_in_header_value_refused(t):
    _refused_nothing_sent(t, ["-H", "X-A: b\rX-Injected: 1"], "curl sends -H verbatim")


@test()
def crlf_in_user_agent_refused(t):
    _refused_nothing_sent(t, ["-A", "a\r\nX-Injected: 1"], "curl sends -A verbatim")


# --------------------------------------------------------------------- -v

@test(tags=("fast",))
def verbose_v_trace_on_stderr_body_on_stdout(t):
    h, _ = _h(t)
    r = t.run(["-v", "-H", "X-Verbose: 1", h.url("/echo")])
    t.rc(r, 0)
    t.eq(r.out, _default_head(t, h) + b"X-Verbose: 1\r\n\r\n",
         "stdout is only the body")
    # curl's shape; hflow may put a time column first (VIEWS.md)
    pre = r"^(?:\[?\s*\d+(?:\.\d+)?\s*m?s?\]?\s+)?"
    t.match(pre + r"> GET /echo HTTP/1\.1\r?$", r.err, "request line on stderr", re.M)
    t.match(pre + r"> X-Verbose: 1\r?$", r.err, "request header on stderr", re.M)
    t.match(pre + r"< HTTP/1\.1 200 OK\r?$", r.err, "status line on stderr", re.M)
    t.match(pre + r"< Content-Type: application/octet-stream\r?$", r.err,
            "response header on stderr", re.M)
