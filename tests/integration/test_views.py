"""hflow's views against real servers: --flow (the sequence diagram of each
connection) and --stat (the waterfall of each transfer) on stderr, with the
body on stdout byte for byte.  Times and numbers vary from run to run, so
the diagrams are read back into rows -- (direction, label, note) -- with
every number replaced by N, and compared with the rows expected in order.
stderr is a pipe here: not one ESC byte may appear."""

import re

from harness import closed_port, sha256, test

# ------------------------------------------------------------ reading views

_TIME = r"\+\d+(?:\.\d+)? (?:ms|s)"


def norm(s):
    """Numbers as N: '1,024 B' -> 'N B', '0.52 ms' -> 'N ms'."""
    s = re.sub(r"\d+(?:[.,]\d+)*", "N", s)
    return re.sub(r"\s+", " ", s).strip()


def flow_rows(err):
    """The rows of --flow diagrams: (kind, label, note) with kind '->' (from
    the client), '<-' (to it) or 'text', numbers as N.  Continuation lines
    of wrapped text are left out."""
    rows = []
    for line in err.splitlines():
        if not line.startswith(" |"):
            continue
        # after the last lifeline: the time, then the note
        m = re.match(r"^\s*(%s)?\s*(.*)$" % _TIME, line[line.rfind("|") + 1:])
        timed, tail = m.group(1) is not None, m.group(2).strip()
        if not timed and tail != "implied":
            continue
        a = re.match(r"^ \|-- (.+?) -*>\|", line)
        b = re.match(r"^ \|<-* (.+?) --\|", line)
        c = re.match(r"^ \|  (\S.*?)\s+\|", line)
        if a:
            rows.append(("->", norm(a.group(1)), norm(tail)))
        elif b:
            rows.append(("<-", norm(b.group(1)), norm(tail)))
        elif c:
            rows.append(("text", norm(c.group(1)), norm(tail)))
    return rows


def row_times(err):
    """The times of the rows, in ms, in the order drawn."""
    out = []
    for m in re.finditer(r"\|\s+\+(\d+(?:\.\d+)?) (ms|s)", err):
        out.append(float(m.group(1)) * (1000 if m.group(2) == "s" else 1))
    return out


def expect_rows(t, got, want, what):
    """want: (kind, label regex, note regex) each; notes default to any."""
    ok = len(got) == len(want)
    if ok:
        for g, w in zip(got, want):
            kind, label = w[0], w[1]
            note = w[2] if len(w) > 2 else ".*"
            if g[0] != kind or not re.fullmatch(label, g[1]) or \
                    not re.fullmatch(note, g[2]):
                ok = False
                break
    t.check(ok, "%s: rows\n got  %s\n want %s" % (
        what, "\n      ".join(map(repr, got)), "\n      ".join(map(repr, want))))


def no_esc(t, r):
    t.check("\x1b" not in r.err, "ESC byte on a piped stderr: %r" % r.err[:200])


def widths_fit(t, r, width=80):
    wide = [l for l in r.err.splitlines()
            if len(l) > width and not l.startswith(t.prefix + ": (")]
    t.check(not wide, "lines wider than %d: %r" % (width, wide[:2]))


# the handshake's last ACK rides on the request by default (connect.c)
SYN = [("->", "SYN"),
       ("<-", "SYN-ACK", r"rtt N ms"),
       ("->", r"ACK \(in the next segment\)", "connected")]
SYN_QUICKACK = SYN[:2] + [("->", "ACK", "connected")]

HFLOW_CLOSES = [("->", "FIN", "hflow closes first"),
                ("<-", "ACK", "implied"),
                ("<-", "FIN", ""),
                ("->", "ACK", "implied"),
                ("text", r"closed: the client closed its idle( connections)?",
                 r"retrans N")]


def response_rows(path, status="N OK"):
    return [("->", r"GET %s HTTP/N \(N B\)" % re.escape(norm(path))),
            ("<-", r"HTTP/N %s" % status, r"ttfb N ms"),
            ("<-", r"body N B")]

# ------------------------------------------------------------------- --flow


@test(tags=("fast",))
def flow_one_url(t):
    t.hflow_only("--flow")
    r = t.run(["-sS", "--flow", t.nginx.url("/1k.bin")])
    t.rc(r, 0)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body on stdout")
    no_esc(t, r)
    widths_fit(t, r)
    t.eq(len(re.findall(r"^connection #\d+: 1 request, ", r.err, re.M)), 1,
         "one diagram titled 'connection #N: 1 request'")
    t.match(r"^client 127\.0\.0\.1:\d+ +server 127\.0\.0\.1:%d$" % t.nginx.port,
            r.err, "the columns", re.M)
    expect_rows(t, flow_rows(r.err),
                SYN + response_rows("/1k.bin") +
                [("text", r"\(connection #N pooled\)")] + HFLOW_CLOSES,
                "--flow of one URL")
    t.match(r"^TIME_WAIT \(client\) +CLOSED$", r.err, "TIME_WAIT side", re.M)
    times = row_times(r.err)
    t.check(times == sorted(times), "row times in order: %r" % times)


@test(tags=("fast",))
def flow_tcp_quickack_ack_alone(t):
    """--tcp-quickack: the handshake's ACK is drawn as a segment of its own
    (test_wire checks the wire itself)."""
    t.hflow_only("--flow --tcp-quickack")
    r = t.run(["-sS", "--tcp-quickack", "--flow", t.nginx.url("/1k.bin")])
    t.rc(r, 0)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body on stdout")
    expect_rows(t, flow_rows(r.err),
                SYN_QUICKACK + response_rows("/1k.bin") +
                [("text", r"\(connection #N pooled\)")] + HFLOW_CLOSES,
                "--flow with --tcp-quickack")


@test(tags=("fast",))
def flow_two_urls_one_connection_reused(t):
    t.hflow_only("--flow")
    r = t.run(["-sS", "--flow", t.nginx.url("/dir/hello.txt"), t.nginx.url("/1k.bin")])
    t.rc(r, 0)
    want = open("%s/dir/hello.txt" % t.nginx.root, "rb").read() + \
        open("%s/1k.bin" % t.nginx.root, "rb").read()
    t.eq(sha256(r.out), sha256(want), "bodies on stdout")
    no_esc(t, r)
    widths_fit(t, r)
    t.eq(len(re.findall(r"^connection #\d+: 2 requests, ", r.err, re.M)), 1,
         "one diagram for both requests")
    expect_rows(t, flow_rows(r.err),
                SYN + response_rows("/dir/hello.txt") +
                [("text", r"\(connection #N pooled\)"),
                 ("text", r"\(connection #N reused\)")] +
                response_rows("/1k.bin") +
                [("text", r"\(connection #N pooled\)")] + HFLOW_CLOSES,
                "--flow of two URLs")
    t.eq(r.err.count("SYN-ACK"), 1, "one handshake")


@test(tags=("fast",))
def flow_server_closes_connection_close(t):
    t.hflow_only("--flow")
    r = t.run(["-sS", "--flow", t.hostile.url("/close-after")])
    t.rc(r, 0)
    t.match(r"^close-after conn=\d+ req=1\n$", r.text, "body on stdout")
    no_esc(t, r)
    widths_fit(t, r)
    expect_rows(t, flow_rows(r.err),
                SYN + response_rows("/close-after") +
                [("<-", "FIN", "server closes first"),
                 ("->", "ACK", "implied"),
                 ("->", "FIN", ""),
                 ("<-", "ACK", "implied"),
                 ("text", r"closed: Connection: close", r"retrans N")],
                "--flow of a Connection: close response")
    t.match(r"^CLOSED +TIME_WAIT \(server\)$", r.err, "TIME_WAIT side", re.M)


@test()
def flow_refused_no_connection(t):
    t.hflow_only("--flow")
    port = closed_port()
    r = t.run(["-sS", "--flow", "http://127.0.0.1:%d/" % port])
    t.rc(r, 7)
    t.eq(r.out, b"", "stdout")
    no_esc(t, r)
    widths_fit(t, r)
    t.match(r"^no connection \(transfer #0\), ", r.err, "title", re.M)
    expect_rows(t, flow_rows(r.err),
                [("->", "SYN"),
                 ("<-", r"RST \(refused\)"),
                 ("text", r"error: connect to N:N: connection refused.*")],
                "--flow of a refused connection")
    t.match(r"^hflow: \(7\) connect to 127\.0\.0\.1:%d" % port, r.err, "the error line",
            re.M)


@test()
def flow_https_optional(t):
    t.hflow_only("--flow")
    t.skip("https: covered by the unit golden files (tests/unit/golden/flow_tls_*)")


@test()
def flow_narrow_terminal_width_is_80_on_a_pipe(t):
    t.hflow_only("--flow")
    r = t.run(["-sS", "--flow", t.nginx.url("/dir/hello.txt")], env={"COLUMNS": "200"})
    t.rc(r, 0)
    widths_fit(t, r, 80)
    no_esc(t, r)

# ------------------------------------------------------------------- --stat

STAT_HTTP = [
    r"GET http://N:N/Nk\.bin -> HTTP/N N OK \(N B\)",
    r"DNS Lookup Nms #+ namelookup:Nms",
    # a mark that fits beside its bar on neither side is cut ("N...")
    r"TCP Connection Nms (?:.*connect:Nms.*|.*#.*\.\..*|.*\.\..*#.*)",
    r"Server Processing Nms (?:.*starttransfer:Nms.*|.*#.*\.\..*|.*\.\..*#.*)",
    r"Content Transfer Nms (?:.*total:Nms.*|.*#.*\.\..*|.*\.\..*#.*)",
    r"tcp rtt Nms \(var Nms\) retrans N mss N",
    r"dns none: the address was known",
    r"conn #N new, pooled",
]


@test(tags=("fast",))
def stat_one_url(t):
    t.hflow_only("--stat")
    r = t.run(["-sS", "--stat", t.nginx.url("/1k.bin")])
    t.rc(r, 0)
    t.eq(sha256(r.out), t.nginx.sha["1k.bin"], "body on stdout")
    no_esc(t, r)
    widths_fit(t, r)
    lines = [norm(l) for l in r.err.splitlines()]
    t.eq(len(lines), len(STAT_HTTP), "lines of --stat: %r" % lines)
    for got, want in zip(lines, STAT_HTTP):
        t.check(re.fullmatch(want, got), "--stat line %r does not match %r" % (got, want))
    # the bars are in time order: each phase's bar starts where the one
    # before it ends or later (a mark that fits beside its bar on neither
    # side is drawn over the bar's end, so lengths are not compared)
    starts = []
    for l in r.err.splitlines():
        m = re.match(r"^  (\w+ \w+) +([\d.]+)ms", l)
        if m and "#" in l:
            starts.append(l.index("#"))
    t.eq(len(starts), 4, "four bars: %r" % r.err)
    t.eq(starts, sorted(starts), "bars in time order: %r" % starts)


@test()
def stat_two_urls_second_reused(t):
    t.hflow_only("--stat")
    r = t.run(["-sS", "--stat", t.nginx.url("/0.bin"), t.nginx.url("/0.bin")])
    t.rc(r, 0)
    t.eq(r.out, b"", "stdout (empty bodies)")
    no_esc(t, r)
    conns = re.findall(r"^  conn  (.*)$", r.err, re.M)
    t.eq([norm(c) for c in conns], ["#N new, pooled", "#N reused, pooled"],
         "the conn rows")
    t.contains(r.err, "tcp   no handshake: the connection was reused", "tcp row")


@test()
def stat_connection_close_and_flow_together(t):
    t.hflow_only("--stat --flow")
    r = t.run(["-sS", "--stat", "--flow", t.hostile.url("/close-after")])
    t.rc(r, 0)
    t.match(r"^close-after conn=\d+ req=1\n$", r.text, "body on stdout")
    no_esc(t, r)
    widths_fit(t, r)
    t.match(r"^  conn  #\d+ new, (closing: Connection: close|closed by the server "
            r"first.*)$", r.err, "conn row", re.M)
    t.match(r"^connection #\d+: 1 request", r.err, "the diagram too", re.M)


@test()
def stat_refused(t):
    t.hflow_only("--stat")
    port = closed_port()
    r = t.run(["-sS", "--stat", "http://127.0.0.1:%d/" % port])
    t.rc(r, 7)
    no_esc(t, r)
    widths_fit(t, r)
    t.match(r"^GET http://127\.0\.0\.1:%d/ -> failed$" % port, r.err, "title", re.M)
    t.match(r"^  TCP Connection +[\d.]+ms .*failed:[\d.]+ms", r.err,
            "the phase that failed", re.M)
    t.match(r"^  Server Processing +-$", r.err, "a phase not reached", re.M)
    t.match(r"^  error connect to 127\.0\.0\.1:%d" % port, r.err, "error row", re.M)
