"""Packaging: libhflow.so exports exactly the hf_ functions the header
declares, and `make install` gives a tree a program can build against with
pkg-config (run against the test nginx)."""

import json
import os
import re
import subprocess
import time

from harness import closed_port, sha256_file, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _build_dir(t):
    return os.path.dirname(os.path.abspath(t.client.bin))


def _header_functions():
    with open(os.path.join(ROOT, "include", "hflow.h")) as f:
        text = f.read()
    return set(re.findall(r"HF_EXTERN[^;(]*?\b(hf_\w+)\s*\(", text, re.S))


@test()
def exported_symbols_match_the_header(t):
    if t.is_curl:
        t.skip("hflow's library")
        return
    so = os.path.join(_build_dir(t), "libhflow.so")
    if not os.path.exists(so):
        t.skip("no libhflow.so next to the binary")
        return
    out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True,
                         text=True, timeout=20).stdout
    syms = {l.split()[-1] for l in out.splitlines()
            if len(l.split()) == 3 and l.split()[1] in "TtDdBbRrWwVv"}
    declared = _header_functions()
    t.check(len(declared) > 50, "the header declares the API: %d" % len(declared))
    t.eq(sorted(s for s in syms if not s.startswith("hf_")), [],
         "nothing but hf_ symbols exported")
    t.eq(sorted(syms - declared), [], "exported but not in the header")
    t.eq(sorted(declared - syms), [], "in the header but not exported")


@test()
def make_install_and_build_against_it(t):
    if t.is_curl:
        t.skip("hflow's library")
        return
    build = _build_dir(t)
    dest = t.path("dest")
    r = subprocess.run(["make", "-s", "-C", ROOT, "BUILD=" + build, "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"],
                       capture_output=True, text=True, timeout=120)
    t.eq(r.returncode, 0, "make install: %s" % r.stderr[-300:])
    for p in ("usr/include/hflow.h", "usr/lib/libhflow.a", "usr/lib/libhflow.so.0",
              "usr/lib/pkgconfig/hflow.pc", "usr/share/man/man1/hflow.1", "usr/bin/hflow"):
        t.check(os.path.exists(os.path.join(dest, p)), "installed: " + p)
    src = t.path("get.c")
    with open(src, "w") as f:
        f.write('#include <hflow.h>\n#include <stdio.h>\n'
                'int main(int argc, char **argv) {\n'
                '    hf_client *c = hf_client_new();\n'
                '    hf_request *rq = hf_request_new("GET", argv[1]);\n'
                '    hf_response *rs;\n'
                '    hf_err e = hf_send(c, rq, &rs);\n'
                '    printf("%d %d\\n", (int)e, hf_response_status(rs));\n'
                '    hf_response_free(rs); hf_request_free(rq); hf_client_free(c);\n'
                '    return argc > 1 ? (int)e : 1; }\n')
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=dest,
               PKG_CONFIG_PATH=os.path.join(dest, "usr/lib/pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static", "hflow"],
                           capture_output=True, text=True, env=env, timeout=20)
    t.eq(flags.returncode, 0, "pkg-config finds hflow: %s" % flags.stderr)
    exe = t.path("get")
    # link the static library so the program runs without LD_LIBRARY_PATH
    cmd = (["cc", "-std=c11", "-o", exe, src] + flags.stdout.split())
    cmd = [a.replace("-lhflow", os.path.join(dest, "usr/lib/libhflow.a")) for a in cmd]
    c = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    t.eq(c.returncode, 0, "an example builds against the installed tree: %s" % c.stderr[-400:])
    if c.returncode == 0:
        run = subprocess.run([exe, t.nginx.url("/1k.bin")], capture_output=True,
                             text=True, timeout=20)
        t.eq(run.stdout.strip(), "0 200", "it fetches from the test nginx")


# ---------------------------------------------------------------- examples

EXAMPLES = ("get", "post_json", "parallel", "stream_download", "trace",
            "custom_loop")


def _run_example(exe_dir, env, name, *args, timeout=30):
    return subprocess.run([os.path.join(exe_dir, name)] + [str(a) for a in args],
                          capture_output=True, env=env, timeout=timeout)


@test()
def examples_build_against_the_install_and_run(t):
    """examples/Makefile builds every example with pkg-config against a
    `make install` tree; each runs (on the installed libhflow.so) against
    the test servers and prints what it should."""
    if t.is_curl:
        t.skip("hflow's library")
        return
    build = _build_dir(t)
    dest = t.path("dest")
    r = subprocess.run(["make", "-s", "-C", ROOT, "BUILD=" + build, "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"],
                       capture_output=True, text=True, timeout=120)
    t.require(r.returncode == 0, "make install: %s" % r.stderr[-300:])
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=dest,
               PKG_CONFIG_PATH=os.path.join(dest, "usr/lib/pkgconfig"))
    exe_dir = t.path("ex")
    os.makedirs(exe_dir)
    b = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "examples"),
                        "O=" + exe_dir, "CFLAGS=-O2 -Werror"],
                       capture_output=True, text=True, env=env, timeout=120)
    t.require(b.returncode == 0, "examples build with pkg-config: %s"
              % (b.stdout + b.stderr)[-800:])
    for name in EXAMPLES:
        t.check(os.access(os.path.join(exe_dir, name), os.X_OK), "built: " + name)
    libdir = os.path.join(dest, "usr/lib")
    run_env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    ldd = subprocess.run(["ldd", os.path.join(exe_dir, "get")], capture_output=True,
                         text=True, env=run_env, timeout=20).stdout
    t.match(r"libhflow\.so\.0 => %s/libhflow\.so\.0" % re.escape(libdir), ldd,
            "linked to the installed libhflow.so")

    # get: the body on stdout, a summary on stderr; a clean error path
    g = _run_example(exe_dir, run_env, "get", t.nginx.url("/dir/hello.txt"))
    t.eq((g.returncode, g.stdout), (0, b"hello from nginx\n"), "get: body")
    t.match(r"^200 OK, 17 bytes, text/plain", g.stderr.decode(), "get: summary")
    port = closed_port()
    g = _run_example(exe_dir, run_env, "get", "http://127.0.0.1:%d/" % port)
    t.eq(g.returncode, 1, "get: exit 1 on error")
    t.match(r"^get: \(7\) connect to 127\.0\.0\.1:%d: connection refused" % port,
            g.stderr.decode(), "get: the error line")

    # post_json: httpbin echoes the document
    p = _run_example(exe_dir, run_env, "post_json", t.httpbin.url("/post"),
                     '{"n":[1,2]}')
    t.eq(p.returncode, 0, "post_json: exit")
    first, _, rest = p.stdout.decode().partition("\n")
    t.eq(first, "200 OK", "post_json: status line")
    try:
        echoed = json.loads(rest)
    except ValueError:
        echoed = {}
    t.eq(echoed.get("json"), {"n": [1, 2]}, "post_json: the JSON as httpbin parsed it")

    # parallel: 20 transfers under a limit of 4 connections a host
    mark = t.nginx.log_mark()
    pa = _run_example(exe_dir, run_env, "parallel", t.nginx.url("/1k.bin"), 20)
    m = re.match(r"^20 done, 0 failed, 20480 bytes, (\d+) connections\n$",
                 pa.stdout.decode())
    t.check(pa.returncode == 0 and m is not None, "parallel: %r %r"
            % (pa.stdout, pa.stderr[-300:]))
    if m:
        t.check(1 <= int(m.group(1)) <= 4, "parallel: at most 4 connections: %s"
                % m.group(1))
    log = t.nginx.log_since(mark, 20)
    t.eq(len(log), 20, "parallel: requests nginx saw")
    t0 = time.monotonic()
    pr = _run_example(exe_dir, run_env, "parallel", t.nginx.url("/0.bin"), 11, 20)
    dt = time.monotonic() - t0
    t.check(pr.returncode == 0 and pr.stdout.startswith(b"11 done, 0 failed"),
            "parallel with a rate: %r" % pr.stdout)
    t.check(dt >= 0.45, "11 starts at 20/s take at least 0.5 s: %.2f" % dt)

    # stream_download: the file, and the pauses
    f = t.path("10m.out")
    s = _run_example(exe_dir, run_env, "stream_download", t.nginx.url("/10m.bin"), f)
    m = re.match(r"^saved 10485760 bytes to .*, paused (\d+) times\n$", s.stdout.decode())
    t.check(s.returncode == 0 and m is not None, "stream_download: %r %r"
            % (s.stdout, s.stderr[-300:]))
    if m:
        t.check(int(m.group(1)) >= 10, "stream_download paused: %s" % m.group(1))
    if os.path.exists(f):
        t.eq(sha256_file(f), t.nginx.sha["10m.bin"], "stream_download: sha256")

    # trace: the events, the diagram, the teardown
    tr = _run_example(exe_dir, run_env, "trace", t.nginx.url("/1k.bin"))
    out = tr.stdout.decode()
    t.eq(tr.returncode, 0, "trace: exit")
    for ev in ("queued", "connect_start", "tcp_established", "request_head",
               "response_head", "response_body", "done"):
        t.match(r"^ +\d+\.\d{3} ms  conn .*\b%s\b" % ev, out, "trace: event " + ev,
                flags=re.M)
    t.contains(out, "SYN-ACK", "trace: the flow diagram")
    t.match(r'^teardown \{"ev":"fin_sent"', out, "trace: the teardown as JSON",
            flags=re.M)
    t.match(r'^teardown \{"ev":"closed"', out, "trace: closed", flags=re.M)

    # custom_loop: a transfer in the caller's poll loop; one cancelled
    c = _run_example(exe_dir, run_env, "custom_loop", t.nginx.url("/1k.bin"))
    t.eq(c.returncode, 0, "custom_loop: exit")
    t.match(r"^done: 200, 1024 bytes\nloop iterations: [1-9]\d*\n$", c.stdout.decode(),
            "custom_loop: output")
    t0 = time.monotonic()
    c = _run_example(exe_dir, run_env, "custom_loop", t.httpbin.url("/delay/3"), 300)
    dt = time.monotonic() - t0
    t.eq(c.returncode, 1, "custom_loop: exit 1 when cancelled")
    t.match(r"^failed: \(42\) ", c.stdout.decode(), "custom_loop: cancelled (42)")
    t.check(dt < 2.5, "custom_loop: the cancel ended it early: %.2f s" % dt)
