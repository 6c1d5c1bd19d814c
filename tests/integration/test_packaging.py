"""Packaging: libhflow.so exports exactly the hf_ functions the header
declares, and `make install` gives a tree a program can build against with
pkg-config (run against the test nginx)."""

import os
import re
import subprocess

from harness import test

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
