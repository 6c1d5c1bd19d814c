"""-K/--config FILE in curl's config syntax: one option a line, url and
output lines mapping to the URL list in order, long names with or without
dashes, '=' ':' or blanks between name and parameter, quoted parameters
with curl's escapes, '#' comments, '-' for standard input, nested -K, and
`next` between groups.  What curl 7.88 does the same is checked against it
too; hflow refuses a broken line (unknown option, missing or extra
parameter) naming the file and line, where curl 7.88 only warned (newer
curl refuses too)."""

import os
import uuid

from harness import sha256_file, split_request, header, test


def _cfg(t, name, text):
    p = t.path(name)
    with open(p, "w") as f:
        f.write(text)
    return p


def _errors(t, r):
    return [l for l in r.err_lines() if l.startswith(t.prefix + ": (")]


@test(tags=("fast", "vg"))
def url_and_output_lines(t):
    u1, u2 = t.nginx.url("/1k.bin"), t.nginx.url("/dir/hello.txt")
    u3 = t.nginx.url("/index.html")
    cfg = _cfg(t, "k", (
        "# three URLs, their outputs in order\n"
        'url = "%s"\n'
        "output = \"%s\"\n"
        "  url:%s\n"
        "--output %s\n"
        "url\t%s\n"
        "-o %s\n"
        "silent\n"
        "show-error\n") % (u1, t.path("a"), u2, t.path("b"), u3, t.path("c")))
    r = t.run(["-K", cfg])
    t.ok(r)
    t.eq(sha256_file(t.path("a")), t.nginx.sha["1k.bin"], "first URL's file")
    t.eq(t.read("b"), b"hello from nginx\n", "second URL's file")
    t.eq(t.read("c"), b"<html>hflow test root</html>\n", "third URL's file")


@test()
def outputs_pair_with_urls_across_the_command_line(t):
    """-o on the command line and in the file count in one order."""
    cfg = _cfg(t, "k", 'output = "%s"\nurl = "%s"\n'
               % (t.path("b"), t.nginx.url("/dir/hello.txt")))
    r = t.run(["-sS", "-o", t.path("a"), t.nginx.url("/1k.bin"), "-K", cfg])
    t.ok(r)
    t.eq(sha256_file(t.path("a")), t.nginx.sha["1k.bin"], "command line's")
    t.eq(t.read("b"), b"hello from nginx\n", "config file's")


@test(tags=("fast", "vg"))
def config_from_stdin(t):
    text = 'url = "%s"\noutput = "%s"\n' % (t.nginx.url("/1k.bin"), t.path("a"))
    r = t.run(["-sS", "-K", "-"], stdin=text.encode())
    t.ok(r)
    t.eq(sha256_file(t.path("a")), t.nginx.sha["1k.bin"], "file")


@test()
def nested_config(t):
    inner = _cfg(t, "inner", 'url = "%s"\n-o "%s"\n'
                 % (t.nginx.url("/dir/hello.txt"), t.path("b")))
    outer = _cfg(t, "outer", 'url = "%s"\noutput "%s"\nconfig = "%s"\n'
                 % (t.nginx.url("/1k.bin"), t.path("a"), inner))
    r = t.run(["-sS", "--config", outer])
    t.ok(r)
    t.eq(sha256_file(t.path("a")), t.nginx.sha["1k.bin"], "outer URL")
    t.eq(t.read("b"), b"hello from nginx\n", "inner URL")


@test()
def quoted_escapes_reach_the_wire(t):
    mark = t.hostile.reset()
    cfg = _cfg(t, "k", 'header = "X-Esc: a\\tb \\"q\\" c\\\\d"\n'
               'user-agent = "two words"\n'
               'url = "%s"\n' % t.hostile.url("/echo?cfg=%s" % uuid.uuid4().hex))
    r = t.run(["-sS", "-o", os.devnull, "-K", cfg])
    t.ok(r)
    caps = t.hostile.captures(mark, 1, partial=False)
    t.require(len(caps) == 1, "one request captured")
    _, hdrs, _ = split_request(caps[0][1])
    t.eq(header(hdrs, "X-Esc"), 'a\tb "q" c\\d', "escaped header value")
    t.eq(header(hdrs, "User-Agent"), "two words", "quoted blanks kept")


@test()
def next_in_a_config_file(t):
    """`next` starts a new group: -f applies to the second URL only."""
    cfg = _cfg(t, "k", 'url = "%s"\noutput = "%s"\nnext\nfail\nsilent\n'
               'url = "%s"\n' % (t.nginx.url("/no-such"), t.path("a"),
                                 t.nginx.url("/no-such-either")))
    r = t.run(["-s", "-K", cfg])
    t.rc(r, 22)
    t.contains(t.read("a"), b"404", "the first group keeps the 404 body")
    t.eq(r.out, b"", "the second group's -f: no body")


@test(tags=("fast",))
def parallel_urls_from_a_config_file(t):
    names = []
    lines = []
    for i in range(30):
        names.append(t.path("o%d" % i))
        lines.append('url = "%s"\noutput = "%s"\n'
                     % (t.nginx.url("/1k.bin?n=%d" % i), names[-1]))
    cfg = _cfg(t, "k", "".join(lines) + "parallel\nparallel-max = 4\n")
    r = t.run(["-sS", "-K", cfg])
    t.rc(r, 0)
    bad = [n for n in names if not os.path.exists(n) or
           sha256_file(n) != t.nginx.sha["1k.bin"]]
    t.eq(bad, [], "files not right")


@test()
def unreadable_config_is_26(t):
    r = t.run(["-K", t.path("missing"), t.nginx.url("/1k.bin")])
    t.rc(r, 26)
    t.contains(r.err, "missing", "the file is named")
    t.eq(r.out, b"", "nothing fetched")


@test(tags=("vg",))
def broken_lines_name_file_and_line(t):
    t.hflow_only("curl 7.88 warns and goes on")
    u = t.nginx.url("/1k.bin")
    cases = [
        ("no-such-option\n", 1, r"--no-such-option: is unknown"),
        ('url = "%s"\n\noutput\n' % u, 3, r"--output: requires parameter"),
        ('url = "%s"\nsilent yes\n' % u, 2, r"--silent: takes no parameter"),
        ('url = "%s"\n-s yes\n' % u, 2, r"-s: takes no parameter"),
        ('-q\n', 1, r"-q: is unknown"),
        ('--url=%s\n' % u, 1, r"is unknown"),     # dashed: no '=' separator
        ('http://127.0.0.1/\n', 1, r"--http: is unknown"),
    ]
    for i, (text, line, pat) in enumerate(cases):
        cfg = _cfg(t, "k%d" % i, text)
        r = t.run(["-K", cfg])
        t.rc(r, 2, "case %d" % i)
        errs = _errors(t, r)
        t.check(len(errs) == 1, "one error line, case %d: %r" % (i, r.err))
        if errs:
            t.match(r"^hflow: \(2\) %s:%d: " % (cfg, line), errs[0],
                    "file and line, case %d" % i)
            t.match(pat, errs[0], "cause, case %d" % i)
        t.eq(r.out, b"", "nothing fetched, case %d" % i)


@test()
def unquoted_whitespace_warns(t):
    t.hflow_only("the warning's wording")
    cfg = _cfg(t, "k", 'url = %s ignored words\n' % t.nginx.url("/dir/hello.txt"))
    r = t.run(["-sS", "-K", cfg])
    t.rc(r, 0)
    t.eq(r.out, b"hello from nginx\n", "the URL up to the blank")
    t.match(r"k:1: '--url': the rest of the line", r.err, "warning")


@test()
def config_that_reads_itself_stops(t):
    t.hflow_only("curl recurses until it runs out")
    p = t.path("loop")
    _cfg(t, "loop", 'config = "%s"\n' % p)
    r = t.run(["-K", p, t.nginx.url("/1k.bin")])
    t.rc(r, 2)
    t.match(r"nested more than 16", r.err, "message")


@test()
def short_options_and_bundles(t):
    cfg = _cfg(t, "k", '-sS\n-o%s\n-A "agent x"\n--url %s\n'
               % (t.path("a"), t.hostile.url("/echo")))
    mark = t.hostile.reset()
    r = t.run(["-K", cfg])
    t.ok(r)
    caps = t.hostile.captures(mark, 1, partial=False)
    t.require(len(caps) == 1, "one request captured")
    _, hdrs, _ = split_request(caps[0][1])
    t.eq(header(hdrs, "User-Agent"), "agent x", "-A from the file")
    t.check(os.path.getsize(t.path("a")) > 0, "-oFILE from the file")
