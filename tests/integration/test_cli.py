"""The command line itself: usage errors, malformed URLs, unsupported schemes,
connect/resolve failures and timeouts, -s/-S, help and version."""

from harness import (BlackholeListener, basic, closed_port, free_port, header,
                     split_request, test)

# ------------------------------------------------------------------ usage


def _usage(t, args, mention=None):
    r = t.run(args)
    t.rc(r, 2)
    t.eq(r.out, b"", "stdout on a usage error")
    t.check(r.err.strip() != "", "a message on stderr: %s" % r.brief())
    t.check(r.err.startswith(t.prefix + ":"), "stderr starts with '%s:': %r"
            % (t.prefix, r.err[:80]))
    if mention:
        t.contains(r.err, mention, "the message names the problem")


@test(tags=("fast",))
def usage_unknown_flag_2(t):
    _usage(t, ["--no-such-flag", "http://127.0.0.1:1/"], "no-such-flag")


@test(tags=("fast",))
def usage_missing_argument_2(t):
    _usage(t, ["http://127.0.0.1:1/", "-o"], "-o")


@test()
def usage_no_url_2(t):
    _usage(t, [])


@test()
def usage_bad_number_max_time_2(t):
    _usage(t, ["-m", "abc", "http://127.0.0.1:1/"])


@test()
def usage_head_and_data_conflict_2(t):
    r = t.run(["-sS", "-I", "-d", "x", "http://127.0.0.1:%d/" % closed_port()])
    t.rc(r, 2)
    t.eq(r.out, b"", "stdout")


@test(tags=("fast",))
def help_h(t):
    r = t.run(["-h"])
    t.rc(r, 0)
    t.match(r"^Usage: %s " % t.prefix, r.text, "usage line on stdout")
    t.contains(r.text, "--data", "lists options")


@test()
def help_long(t):
    r = t.run(["--help"])
    t.rc(r, 0)
    t.match(r"^Usage: ", r.text, "usage line")


@test(tags=("fast",))
def version_V(t):
    r = t.run(["-V"])
    t.rc(r, 0)
    t.match(r"^%s %s\b" % (t.prefix, t.client.version.replace(".", r"\.")), r.text,
            "name and version first")


@test()
def version_long(t):
    r = t.run(["--version"])
    t.rc(r, 0)
    t.match(r"^%s \d+\.\d+\.\d+" % t.prefix, r.text, "name and version")


# ---------------------------------------------------------- URLs, schemes

def _bad_url(t, url, code=3, curl_codes=None):
    h = t.hostile
    h.reset()
    # curl globs [] and {} in URLs unless -g
    r = t.run(["-sS"] + (["-g"] if t.is_curl else []) + [url])
    t.error(r, code, r"url|port|host|scheme|protocol|support|malformed|bad",
            empty_stdout=True, curl_codes=curl_codes)
    t.eq(h.stats()["connections"], 0, "nothing reached the test server")


@test(tags=("fast", "vg"))
def url_space_3(t):
    _bad_url(t, "http://a b/")


@test(tags=("fast",))
def url_space_in_path_3(t):
    _bad_url(t, "http://127.0.0.1:%d/a b" % t.hostile.port)


@test(tags=("fast",))
def url_control_byte_3(t):
    _bad_url(t, "http://127.0.0.1:%d/a\x01b" % t.hostile.port)


@test(tags=("fast",))
def url_crlf_3(t):
    _bad_url(t, "http://127.0.0.1:%d/a\r\nX-Injected: 1" % t.hostile.port)


@test()
def url_lf_in_host_3(t):
    _bad_url(t, "http://127.0.0.1\n:%d/" % t.hostile.port)


@test(tags=("fast",))
def url_encoded_slash_in_host_3(t):
    # SECURITY.md E.33 (CVE-2022-27780) with a loopback target instead of
    # the brief's 10.0.0.1: a wrong decode must not reach any other address.
    _bad_url(t, "http://a.test%%2F127.0.0.1:%d/" % t.hostile.port)


@test()
def url_encoded_slash_in_host_brief_form_3(t):
    r = t.run(["-sS", "http://a.com%2F10.0.0.1/"])
    t.error(r, 3, r"url|host", empty_stdout=True)


@test(tags=("fast",))
def url_port_0_3(t):
    _bad_url(t, "http://127.0.0.1:0/", curl_codes=(7,))


@test(tags=("fast",))
def url_port_65536_3(t):
    _bad_url(t, "http://127.0.0.1:65536/")


@test()
def url_port_abc_3(t):
    _bad_url(t, "http://127.0.0.1:abc/")


@test()
def url_port_huge_3(t):
    _bad_url(t, "http://127.0.0.1:18446744073709551617/")


@test()
def url_empty_host_3(t):
    _bad_url(t, "http://")


@test()
def url_unclosed_ipv6_bracket_3(t):
    _bad_url(t, "http://[::1/")


@test()
def url_fragment_with_at_goes_to_host(t):
    h = t.hostile
    h.reset()
    p = h.port
    r = t.run(["-sS", "--resolve", "a.test:%d:127.0.0.1" % p,
               "http://a.test:%d/echo#@b.test/" % p])
    t.ok(r)
    line, hdrs, _ = split_request(r.out)
    t.eq(line, "GET /echo HTTP/1.1", "request line")
    t.eq(header(hdrs, "Host"), "a.test:%d" % p, "Host is the authority before #")


@test()
def url_userinfo_basic_auth(t):
    h = t.hostile
    h.reset()
    r = t.run(["-sS", "http://us%%40er:p%%3Ass@127.0.0.1:%d/echo" % h.port])
    t.ok(r)
    line, hdrs, _ = split_request(r.out)
    t.eq(header(hdrs, "Authorization"), basic("us@er", "p:ss"),
         "userinfo decoded into Basic auth")
    t.eq(header(hdrs, "Host"), "127.0.0.1:%d" % h.port, "no userinfo in Host")


@test(tags=("fast",))
def scheme_ftp_unsupported_1(t):
    t.hflow_only("curl supports ftp")
    _bad_url(t, "ftp://127.0.0.1:%d/" % t.hostile.port, code=1)


@test()
def scheme_unknown_1(t):
    _bad_url(t, "foo://127.0.0.1:%d/" % t.hostile.port, code=1)


@test()
def scheme_uppercase_http_ok(t):
    h = t.hostile
    h.reset()
    r = t.run(["-sS", "HTTP://127.0.0.1:%d/echo" % h.port])
    t.ok(r)
    t.match(r"^GET /echo HTTP/1\.1\r\n", r.text, "scheme is case-insensitive")


# ------------------------------------------------------ connect, resolve

@test(tags=("fast", "vg"))
def refused_7(t):
    port = closed_port()
    r = t.run(["-sS", "http://127.0.0.1:%d/" % port])
    t.error(r, 7, r"refused", peer=("127.0.0.1", port), curl_peer=True,
            curl=[r"connect"], empty_stdout=True)


@test()
def refused_s_silent(t):
    r = t.run(["-s", "http://127.0.0.1:%d/" % closed_port()])
    t.rc(r, 7)
    t.eq(r.err, "", "-s: no error line")


@test()
def refused_no_s_still_one_error_line(t):
    port = closed_port()
    r = t.run(["http://127.0.0.1:%d/" % port])
    t.error(r, 7, r"refused", curl=[r"connect"], one_line=False)


@test()
def refused_ipv6_7(t):
    t.hostile6            # skips without IPv6 loopback
    port = free_port("::1")
    r = t.run(["-sS", "http://[::1]:%d/" % port])
    t.error(r, 7, r"refused", curl=[r"connect"], empty_stdout=True)


@test(tags=("fast", "vg"))
def resolve_nxdomain_6(t):
    r = t.run(["-sS", "http://nosuch.invalid/"], timeout=25)
    t.error(r, 6, r"nosuch\.invalid", empty_stdout=True)


@test()
def resolve_nxdomain_with_port_6(t):
    r = t.run(["-sS", "http://nosuch.invalid:8080/x"], timeout=25)
    t.error(r, 6, r"nosuch\.invalid", empty_stdout=True)


@test(tags=("fast",))
def connect_timeout_28(t):
    bh = BlackholeListener()
    try:
        r = t.run(["-sS", "--connect-timeout", "1", "http://127.0.0.1:%d/" % bh.port],
                  timeout=15)
    finally:
        bh.close()
    t.error(r, 28, r"time", peer=("127.0.0.1", bh.port), curl_peer=True,
            empty_stdout=True)
    t.check(0.9 < r.elapsed < 2.5 + t.slack, "ends near 1 s: %.2f s" % r.elapsed)


@test()
def max_time_covers_connect_28(t):
    bh = BlackholeListener()
    try:
        r = t.run(["-sS", "-m", "1", "http://127.0.0.1:%d/" % bh.port], timeout=15)
    finally:
        bh.close()
    t.error(r, 28, r"time", empty_stdout=True)
    t.check(0.9 < r.elapsed < 2.5 + t.slack, "ends near 1 s: %.2f s" % r.elapsed)


# --------------------------------------------------------- flag handling

@test()
def flags_after_url(t):
    n = t.nginx
    r = t.run([n.url("/dir/hello.txt"), "-sS", "-o", t.path("f")])
    t.ok(r)
    t.eq(t.read("f") if r.rc == 0 else None, b"hello from nginx\n", "-o after URL")


@test()
def combined_short_flags_sSf(t):
    r = t.run(["-sSf", t.nginx.url("/missing")])
    t.error(r, 22, r"404", empty_stdout=True)


@test()
def s_then_S_order_independent(t):
    r = t.run(["-S", "-s", "-f", t.nginx.url("/missing")])
    t.error(r, 22, r"404", empty_stdout=True)
