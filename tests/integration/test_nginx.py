"""hflow against nginx: static files byte for byte, keep-alive, HEAD, output
flags.  nginx logs $connection and $connection_requests for every request."""

import os
import re

from harness import sha256, sha256_file, test


def _file_test(t, name):
    r = t.run(["-sS", t.nginx.url("/" + name)])
    t.ok(r)
    t.eq(len(r.out), t.nginx.size[name], "stdout length")
    t.eq(sha256(r.out), t.nginx.sha[name], "sha256 of stdout")


@test(tags=("fast",))
def file_0B(t):
    _file_test(t, "0.bin")


@test(tags=("fast", "vg"))
def file_1KiB(t):
    _file_test(t, "1k.bin")


@test(tags=("fast",))
def file_10MiB(t):
    _file_test(t, "10m.bin")


@test(tags=("fast",))
def file_10MiB_to_file_o(t):
    out = t.path("big")
    r = t.run(["-sS", "-o", out, t.nginx.url("/10m.bin")])
    t.ok(r)
    t.eq(r.out, b"", "stdout with -o")
    t.require(os.path.exists(out), "-o file not created")
    t.eq(sha256_file(out), t.nginx.sha["10m.bin"], "sha256 of -o file")


@test()
def file_0B_to_file_o_creates_empty(t):
    out = t.path("empty")
    r = t.run(["-sS", "-o", out, t.nginx.url("/0.bin")])
    t.ok(r)
    t.check(os.path.isfile(out), "-o file for a 0-byte body exists")
    t.eq(os.path.getsize(out) if os.path.exists(out) else -1, 0, "size of -o file")


@test(tags=("fast", "vg"))
def keepalive_5_urls_one_connection(t):
    mark = t.nginx.log_mark()
    urls = [t.nginx.url("/0.bin")] * 5
    r = t.run(["-sS", "-w", "%{num_connects} "] + urls)
    t.ok(r)
    t.eq(r.text.split(), ["1", "0", "0", "0", "0"], "-w num_connects per transfer")
    log = t.nginx.log_since(mark, 5)
    t.eq(len(log), 5, "requests in nginx log")
    t.eq(len({e["conn"] for e in log}), 1, "distinct connections in nginx log")
    t.eq([e["reqs"] for e in log], [1, 2, 3, 4, 5], "$connection_requests")


@test(tags=("fast",))
def keepalive_mixed_bodies_in_order(t):
    mark = t.nginx.log_mark()
    names = ["1k.bin", "dir/hello.txt", "0.bin", "10m.bin", "1k.bin"]
    r = t.run(["-sS"] + [t.nginx.url("/" + n) for n in names])
    t.ok(r)
    want = b"".join(open(os.path.join(t.nginx.root, n), "rb").read() for n in names)
    t.eq(len(r.out), len(want), "stdout length")
    t.eq(sha256(r.out), sha256(want), "bodies concatenated in URL order")
    log = t.nginx.log_since(mark, 5)
    t.eq([e["request"].split()[1] for e in log], ["/" + n for n in names],
         "request order in nginx log")
    t.eq(len({e["conn"] for e in log}), 1, "distinct connections")


@test(tags=("fast",))
def head_I_headers_no_body(t):
    mark = t.nginx.log_mark()
    r = t.run(["-sS", "-I", t.nginx.url("/1k.bin")])
    t.ok(r)
    t.match(r"^HTTP/1\.1 200 OK\r\n", r.text, "status line")
    t.match(r"\r\ncontent-length: 1024\r\n", r.text, "Content-Length header")
    t.check(r.out.endswith(b"\r\n\r\n"), "output ends with the empty line: %r"
            % r.out[-40:])
    t.eq(r.out.count(b"\r\n\r\n"), 1, "one head, no body")
    log = t.nginx.log_since(mark, 1)
    t.eq([e["request"] for e in log], ["HEAD /1k.bin HTTP/1.1"], "method sent")


@test()
def head_I_two_urls_one_connection(t):
    mark = t.nginx.log_mark()
    r = t.run(["-sS", "-I", t.nginx.url("/1k.bin"), t.nginx.url("/10m.bin")],
              timeout=10)
    t.ok(r)
    t.eq(r.out.count(b"HTTP/1.1 200 OK\r\n"), 2, "two heads")
    t.match(r"content-length: 10485760", r.text, "second head")
    log = t.nginx.log_since(mark, 2)
    t.eq(len(log), 2, "requests")
    t.eq(len({e["conn"] for e in log}), 1, "HEAD response did not end the connection")


@test()
def include_i_head_then_body(t):
    r = t.run(["-sS", "-i", t.nginx.url("/1k.bin")])
    t.ok(r)
    head, sep, body = r.out.partition(b"\r\n\r\n")
    t.match(r"^HTTP/1\.1 200 OK", head.decode("latin-1"), "status line first")
    t.eq(sep, b"\r\n\r\n", "blank line between head and body")
    t.eq(sha256(body), t.nginx.sha["1k.bin"], "body after the head")


@test()
def dump_header_D_file(t):
    hdr = t.path("hdr")
    r = t.run(["-sS", "-D", hdr, t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "stdout is only the body")
    t.require(os.path.exists(hdr), "-D file not created")
    h = t.read("hdr").decode("latin-1")
    t.match(r"^HTTP/1\.1 200 OK\r\n", h, "-D status line")
    t.match(r"\r\ncontent-length: 1024\r\n", h, "-D Content-Length")
    t.check(h.endswith("\r\n\r\n"), "-D ends with the blank line")


@test()
def dump_header_D_stdout(t):
    r = t.run(["-sS", "-D", "-", t.nginx.url("/dir/hello.txt")])
    t.ok(r)
    t.match(r"^HTTP/1\.1 200 OK\r\n.*\r\n\r\nhello from nginx\n$",
            r.out.decode("latin-1"), "-D - then body", re.S | re.I)


@test(tags=("fast",))
def o_pairs_in_order(t):
    a, b = t.path("a"), t.path("b")
    r = t.run(["-sS", "-o", a, "-o", b, t.nginx.url("/1k.bin"),
               t.nginx.url("/dir/hello.txt"), t.nginx.url("/0.bin")])
    t.ok(r)
    t.eq(sha256_file(a) if os.path.exists(a) else None, t.nginx.sha["1k.bin"],
         "first -o gets the first URL")
    t.eq(open(b, "rb").read() if os.path.exists(b) else None,
         b"hello from nginx\n", "second -o gets the second URL")
    t.eq(r.out, b"", "third URL (empty file) to stdout")


@test()
def o_pairs_third_url_to_stdout(t):
    a = t.path("a")
    r = t.run(["-sS", "-o", a, t.nginx.url("/1k.bin"), t.nginx.url("/dir/hello.txt")])
    t.ok(r)
    t.eq(sha256_file(a) if os.path.exists(a) else None, t.nginx.sha["1k.bin"], "-o file")
    t.eq(r.out, b"hello from nginx\n", "URL without -o goes to stdout")


@test()
def remote_name_O(t):
    r = t.run(["-sS", "-O", t.nginx.url("/dir/hello.txt")], cwd=t.tmp)
    t.ok(r)
    t.eq(r.out, b"", "stdout with -O")
    p = t.path("hello.txt")
    t.eq(open(p, "rb").read() if os.path.exists(p) else None,
         b"hello from nginx\n", "-O file named after the URL path")


@test(tags=("fast",))
def fail_f_404(t):
    r = t.run(["-sS", "-f", t.nginx.url("/no-such-file")])
    t.error(r, 22, r"404", empty_stdout=True)


@test()
def not_found_without_f_passes_body(t):
    r = t.run(["-sS", "-w", "\n%{http_code}", t.nginx.url("/no-such-file")])
    t.ok(r)
    t.match(r"404 Not Found", r.text, "nginx 404 page on stdout")
    t.check(r.text.endswith("\n404"), "-w http_code is 404: %r" % r.text[-20:])


@test(tags=("fast",))
def write_out_variables(t):
    url = t.nginx.url("/1k.bin")
    r = t.run(["-sS", "-o", os.devnull, "-w",
               "%{http_code} %{size_download} %{url_effective} %{num_connects} "
               "%{time_total}", url])
    t.ok(r)
    parts = r.text.split(" ")
    t.require(len(parts) == 5, "-w fields: %r" % r.text)
    t.eq(parts[:4], ["200", "1024", url, "1"], "-w http_code size url connects")
    t.match(r"^\d+\.\d+$", parts[4], "time_total is seconds with a fraction")
    if re.match(r"^\d+\.\d+$", parts[4]):
        t.check(0 < float(parts[4]) < 10, "time_total plausible: %s" % parts[4])


@test()
def write_out_newline_escape(t):
    r = t.run(["-sS", "-o", os.devnull, "-w", "%{http_code}\\n", t.nginx.url("/0.bin")])
    t.ok(r)
    t.eq(r.out, b"200\n", "-w with \\n")


@test()
def resolve_override(t):
    mark = t.nginx.log_mark()
    url = "http://hflow.test:%d/1k.bin" % t.nginx.port
    r = t.run(["-sS", "--resolve", "hflow.test:%d:127.0.0.1" % t.nginx.port, url])
    t.ok(r)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body via --resolve")
    log = t.nginx.log_since(mark, 1)
    t.eq(len(log), 1, "nginx saw the request")


@test()
def ipv6_literal(t):
    if not t.nginx.v6:
        t.skip("no IPv6 loopback")
    mark = t.nginx.log_mark()
    r = t.run(["-sS", t.nginx.url("/1k.bin", host="::1")])
    t.ok(r)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body over ::1")
    log = t.nginx.log_since(mark, 1)
    t.eq([e["server"] for e in log], ["::1:%d" % t.nginx.port], "server address")


@test()
def ipv6_flag_6_with_resolve(t):
    if not t.nginx.v6:
        t.skip("no IPv6 loopback")
    mark = t.nginx.log_mark()
    p = t.nginx.port
    r = t.run(["-sS", "-6", "--resolve", "dual.test:%d:127.0.0.1,[::1]" % p,
               "http://dual.test:%d/1k.bin" % p])
    t.ok(r)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body with -6")
    log = t.nginx.log_since(mark, 1)
    t.eq([e["server"] for e in log], ["::1:%d" % p], "-6 used the IPv6 address")


@test()
def ipv4_flag_4_with_resolve(t):
    if not t.nginx.v6:
        t.skip("no IPv6 loopback")
    mark = t.nginx.log_mark()
    p = t.nginx.port
    r = t.run(["-sS", "-4", "--resolve", "dual.test:%d:[::1],127.0.0.1" % p,
               "http://dual.test:%d/1k.bin" % p])
    t.ok(r)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body with -4")
    log = t.nginx.log_since(mark, 1)
    t.eq([e["server"] for e in log], ["127.0.0.1:%d" % p], "-4 used the IPv4 address")


@test(tags=("fast",))
def write_error_23_dev_full(t):
    with open("/dev/full", "wb") as full:
        r = t.run(["-sS", t.nginx.url("/1k.bin")], stdout=full)
    t.error(r, 23, r"writ|output")


@test()
def write_error_23_dev_full_10MiB(t):
    with open("/dev/full", "wb") as full:
        r = t.run(["-sS", t.nginx.url("/10m.bin")], stdout=full)
    t.error(r, 23, r"writ|output")


@test()
def user_agent_default_in_log(t):
    mark = t.nginx.log_mark()
    r = t.run(["-sS", "-o", os.devnull, t.nginx.url("/0.bin")])
    t.ok(r)
    log = t.nginx.log_since(mark, 1)
    t.eq([e["ua"] for e in log], [t.ua], "User-Agent")


@test()
def verbose_v_10MiB_body_intact(t):
    r = t.run(["-v", t.nginx.url("/10m.bin")])
    t.rc(r, 0)
    t.eq(sha256(r.out), t.nginx.sha["10m.bin"], "stdout with -v is the body only")
    t.match(r"^(?:\[?\s*\d+(?:\.\d+)?\s*m?s?\]?\s+)?< HTTP/1\.1 200 OK\r?$", r.err, "trace on stderr", re.M)
