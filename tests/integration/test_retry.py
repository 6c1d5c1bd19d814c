"""--retry, --retry-delay, --retry-max-time, --retry-all-errors and
--retry-connrefused, with curl's meanings: transient errors (timeouts, HTTP
408/429/500/502/503/504, refused connections on request), Retry-After
(seconds and HTTP-date), the time budget, and what a retried download
leaves behind.  The hostile server's /flaky?n=N&id=X fails the first N
requests for that exact target; httpbin's /status/503 always fails.

Delays are whole seconds (curl 7.88 takes no fractions), so each test
waits 1-3 s; the timing bounds are generous."""

import os
import re
import sys
import uuid

from harness import SERVERS, closed_port, sha256, test

sys.path.insert(0, SERVERS)
import hostile as H  # noqa: E402  (the body /flaky?mode=cut sends)

WARN = re.compile(r"Problem ?(: ?(HTTP error|timeout|connection refused)| "
                  r"\(retrying all errors\))\. Will retry in [\d.]+ "
                  r"seconds?\. \d+ retr(y|ies) left")
QUIET = "--no-progress-meter"


def _flaky(t, **q):
    """A /flaky URL of its own (a fresh counter) and its id."""
    q.setdefault("id", uuid.uuid4().hex[:12])
    query = "&".join("%s=%s" % kv for kv in sorted(q.items()))
    return t.hostile.url("/flaky?" + query), q["id"]


def _requests(t, mark, ident, want):
    """Requests the hostile server saw for this id since mark."""
    caps = t.hostile.captures(mark, want, partial=False)
    return [raw for _, raw in caps if ("id=%s" % ident).encode() in
            raw.split(b"\r\n", 1)[0]]


def _warnings(r):
    """The retry messages ("Warning: Problem ... retries left."); curl wraps
    its warnings at 79 columns, going on with "Warning: " on the next line,
    so the lines are joined first."""
    text = re.sub(r"\s*\n(Warning: )?", " ", r.err)
    return [m.group(0) for m in WARN.finditer(text)]


# --------------------------------------------------------- HTTP statuses

@test(tags=("fast",))
def retry_503_retry_after_then_200(t):
    url, ident = _flaky(t, n=1, code=503, retry_after=1)
    mark = t.hostile.reset()
    out = t.path("out")
    r = t.run([QUIET, "--retry", "3", "-o", out, url])
    t.ok(r, quiet=False)
    t.eq(t.read("out"), b"ok\n", "only the final body in the file")
    t.eq(len(_warnings(r)), 1, "one retry message: %r" % r.err)
    t.check(0.9 <= r.elapsed < 8, "waited the Retry-After second: %.2fs"
            % r.elapsed)
    t.eq(len(_requests(t, mark, ident, 2)), 2, "requests")


@test()
def retry_503_stdout_not_duplicated(t):
    t.hflow_only("curl writes the 503 body to stdout before it retries")
    url, _ = _flaky(t, n=1, code=503, retry_after=1)
    r = t.run(["-sS", "--retry", "2", url])
    t.ok(r)
    t.eq(r.out, b"ok\n", "stdout holds the final body only")


@test()
def retry_two_failures_counts(t):
    url, ident = _flaky(t, n=2, code=500)
    mark = t.hostile.reset()
    r = t.run([QUIET, "--retry", "3", "--retry-delay", "1", url])
    t.ok(r, quiet=False)
    if t.is_curl:   # curl writes each 500 body to stdout too
        t.check(r.out.endswith(b"ok\n"), "final body last: %r" % r.out)
    else:
        t.eq(r.out, b"ok\n", "final body only")
    warns = _warnings(r)
    t.eq(len(warns), 2, "retry messages: %r" % r.err)
    if warns:
        t.match(r"Will retry in 1 seconds?\. 3 retries left", warns[0],
                "first message")
    t.check(1.8 <= r.elapsed < 10, "two 1 s delays: %.2fs" % r.elapsed)
    t.eq(len(_requests(t, mark, ident, 3)), 3, "requests")


@test()
def retry_num_retries_writeout(t):
    t.hflow_only("curl 7.88 has no %{num_retries}")
    url, _ = _flaky(t, n=1, code=429)
    r = t.run(["-s", "--retry", "2", "--retry-delay", "1", "-o",
               t.path("out"), "-w", "%{http_code} %{num_retries}", url])
    t.ok(r)
    t.eq(r.out, b"200 1", "-w http_code num_retries")


@test()
def retry_gives_up_after_n(t):
    r = t.run([QUIET, "--retry", "2", "--retry-delay", "1", "-f",
               t.httpbin.url("/status/503")])
    t.rc(r, 22)
    t.eq(len(_warnings(r)), 2, "two retry messages: %r" % r.err)
    t.check(1.8 <= r.elapsed < 10, "two 1 s delays: %.2fs" % r.elapsed)
    mine = [l for l in r.err_lines() if l.startswith(t.prefix + ": (22)")]
    t.check(len(mine) >= 1, "the final error line: %r" % r.err)


@test()
def retry_gives_up_without_f_exit_0(t):
    h = t.hostile
    mark = h.reset()
    r = t.run(["-s", "--retry", "1", "--retry-delay", "1", "-w",
               "%{http_code}", "-o", t.path("out"), h.url("/status/503")])
    t.ok(r)
    t.eq(r.out, b"503", "the last response")
    caps = h.captures(mark, 2, partial=False)
    t.eq(len(caps), 2, "requests")


@test(tags=("fast",))
def retry_not_on_404(t):
    h = t.hostile
    mark = h.reset()
    r = t.run(["-sS", "--retry", "3", "-f", h.url("/status/404")])
    t.rc(r, 22)
    t.check(r.elapsed < 0.9, "no wait: %.2fs" % r.elapsed)
    t.eq(len(h.captures(mark, 1, partial=False, timeout=0.3)), 1, "requests")


@test()
def retry_silent_no_messages(t):
    url, _ = _flaky(t, n=1, code=503)
    r = t.run(["-s", "--retry", "1", "--retry-delay", "1", url])
    t.rc(r, 0)
    t.eq(r.err, "", "nothing on stderr with -s")
    t.eq(r.out[-3:], b"ok\n", "final body")


# ------------------------------------------------------- Retry-After

@test()
def retry_after_http_date(t):
    url, ident = _flaky(t, n=1, code=503, ra_date=3)
    mark = t.hostile.reset()
    r = t.run(["-sS", "--retry", "1", "-o", t.path("out"), url])
    t.ok(r)
    # the date has whole seconds: now+3 s waits between 2 and 3 s
    t.check(1.8 <= r.elapsed < 10, "waited for the date: %.2fs" % r.elapsed)
    t.eq(len(_requests(t, mark, ident, 2)), 2, "requests")


@test()
def retry_after_beyond_max_time_gives_up(t):
    url, ident = _flaky(t, n=1, code=503, retry_after=30)
    mark = t.hostile.reset()
    r = t.run([QUIET, "--retry", "3", "--retry-max-time", "5", "-w",
               "%{http_code}", "-o", t.path("out"), url])
    t.rc(r, 0)
    t.eq(r.out, b"503", "the 503 is the answer")
    t.check(r.elapsed < 3, "no 30 s wait: %.2fs" % r.elapsed)
    t.match(r"Retry-After", r.err, "says why it did not retry")
    t.eq(len(_requests(t, mark, ident, 1)), 1, "requests")


@test()
def retry_max_time_bounds_total(t):
    h = t.hostile
    mark = h.reset()
    r = t.run(["-s", "--retry", "10", "--retry-delay", "1",
               "--retry-max-time", "2", "-o", t.path("out"),
               h.url("/status/503")])
    t.rc(r, 0)
    t.check(r.elapsed < 4.5, "bounded by --retry-max-time: %.2fs" % r.elapsed)
    n = len(h.captures(mark, 3, partial=False))
    t.check(2 <= n <= 4, "a few requests, not 11: %d" % n)


# ------------------------------------------------------- methods

@test()
def retry_post_not_retried(t):
    t.hflow_only("curl 7.88 retries POST too (RFC 9110: not idempotent)")
    url, ident = _flaky(t, n=1, code=503)
    mark = t.hostile.reset()
    r = t.run(["-sS", "--retry", "2", "--retry-delay", "1", "-d", "a=1", url])
    t.ok(r)
    t.match(r"^flaky: failure 1", r.text, "the 503's body is the answer")
    t.check(r.elapsed < 0.9, "no wait: %.2fs" % r.elapsed)
    t.eq(len(_requests(t, mark, ident, 1)), 1, "requests")


@test()
def retry_post_with_all_errors(t):
    url, ident = _flaky(t, n=1, code=503)
    mark = t.hostile.reset()
    r = t.run([QUIET, "--retry", "2", "--retry-delay", "1",
               "--retry-all-errors", "-f", "-d", "a=1", url])
    t.ok(r, quiet=False)
    t.eq(r.out, b"ok\n", "final body")
    reqs = _requests(t, mark, ident, 2)
    t.eq(len(reqs), 2, "requests")
    t.check(all(q.startswith(b"POST ") and q.endswith(b"a=1") for q in reqs),
            "each one a POST with its body")


@test()
def retry_put_upload_resent_whole(t):
    data = b"upload body\n" * 100
    up = t.write("up.bin", data)
    url, ident = _flaky(t, n=1, code=503)
    mark = t.hostile.reset()
    r = t.run(["-sS", "--retry", "1", "--retry-delay", "1", "-T", up, "-o",
               t.path("out"), url])
    t.ok(r)
    t.eq(t.read("out"), b"ok\n", "final body")
    reqs = _requests(t, mark, ident, 2)
    t.eq(len(reqs), 2, "requests")
    t.check(all(q.partition(b"\r\n\r\n")[2] == data for q in reqs),
            "the whole file sent each time")


@test()
def retry_stdin_upload_not_resent(t):
    t.hflow_only("curl would resend what it can no longer read")
    url, ident = _flaky(t, n=1, code=503)
    mark = t.hostile.reset()
    r = t.run([QUIET, "--retry", "1", "--retry-delay", "1", "-T", "-", url],
              stdin=b"streamed once\n")
    t.rc(r, 0)
    t.match(r"^flaky: failure 1", r.text, "the 503's body is the answer")
    t.eq(len(_requests(t, mark, ident, 1)), 1, "requests")


# ------------------------------------------------------- errors

@test(tags=("fast",))
def retry_connrefused(t):
    port = closed_port()
    url = "http://127.0.0.1:%d/" % port
    r = t.run([QUIET, "--retry", "2", "--retry-delay", "1", url])
    t.error(r, 7, peer=("127.0.0.1", port))
    t.check(r.elapsed < 0.9, "refused is not transient by default: %.2fs"
            % r.elapsed)
    r = t.run([QUIET, "--retry", "2", "--retry-delay", "1",
               "--retry-connrefused", url])
    t.rc(r, 7)
    t.eq(len(_warnings(r)), 2, "two retry messages: %r" % r.err)
    t.match(r"connection refused", " ".join(_warnings(r)), "the reason")
    t.check(1.8 <= r.elapsed < 10, "two 1 s delays: %.2fs" % r.elapsed)


@test()
def retry_timeout(t):
    h = t.hostile
    mark = h.reset()
    r = t.run([QUIET, "--retry", "1", "--retry-delay", "1", "-m", "0.5",
               h.url("/stall-head")])
    t.rc(r, 28)
    t.eq(len(_warnings(r)), 1, "one retry message: %r" % r.err)
    t.match(r"timeout", " ".join(_warnings(r)), "the reason")
    t.check(1.8 <= r.elapsed < 10, "two 0.5 s tries and a 1 s delay: %.2fs"
            % r.elapsed)
    t.eq(len(h.captures(mark, 2, partial=False)), 2, "requests")


@test()
def retry_truncated_only_with_all_errors(t):
    h = t.hostile
    mark = h.reset()
    r = t.run(["-sS", "--retry", "2", "-o", t.path("f"), h.url("/truncated")])
    t.error(r, 18, r"50 bytes")
    t.eq(len(h.captures(mark, 1, partial=False, timeout=0.3)), 1,
         "18 is not transient")


# ------------------------------------------------------- no duplicated bytes

@test(tags=("fast", "vg"))
def retry_cut_download_file_truncated(t):
    # the first reply stops after half the body; the file must not keep it
    url, ident = _flaky(t, n=1, mode="cut")
    out = t.path("f")
    r = t.run([QUIET, "--retry", "1", "--retry-delay", "1",
               "--retry-all-errors", "-o", out, url])
    t.ok(r, quiet=False)
    t.eq(sha256(t.read("f")), sha256(H.flaky_body()), "the file: one copy")


@test()
def retry_cut_download_resumed_with_C(t):
    # two cut replies: 500 bytes, then 250 more, then the rest
    url, ident = _flaky(t, n=2, mode="cut")
    mark = t.hostile.reset()
    out = t.path("f")
    r = t.run([QUIET, "-C", "-", "--retry", "2", "--retry-delay", "1",
               "--retry-all-errors", "-o", out, url])
    t.ok(r, quiet=False)
    t.eq(sha256(t.read("f")), sha256(H.flaky_body()), "the file: one copy")
    reqs = _requests(t, mark, ident, 3)
    t.eq(len(reqs), 3, "requests")
    if not t.is_curl and len(reqs) == 3:   # curl starts over each time
        ranges = [re.search(rb"\r\nRange: ([^\r]*)\r\n", q) for q in reqs]
        t.eq([m.group(1) if m else None for m in ranges],
             [None, b"bytes=500-", b"bytes=750-"], "each retry asks for the rest")


@test()
def retry_cut_resume_existing_file(t):
    body = H.flaky_body()
    out = t.write("f", body[:100])
    url, ident = _flaky(t, n=1, mode="cut")
    r = t.run([QUIET, "-C", "-", "--retry", "1", "--retry-delay", "1",
               "--retry-all-errors", "-o", out, url])
    t.ok(r, quiet=False)
    t.eq(sha256(t.read("f")), sha256(body), "the file: one copy")


@test()
def retry_cut_stdout_stops(t):
    t.hflow_only("curl retries and writes the bytes again")
    url, ident = _flaky(t, n=1, mode="cut")
    mark = t.hostile.reset()
    r = t.run([QUIET, "--retry", "1", "--retry-delay", "1",
               "--retry-all-errors", url])
    t.error(r, 18, one_line=False)
    t.eq(r.out, H.flaky_body()[:500], "what came, once")
    t.match(r"Cannot retry", r.err, "says why")
    t.eq(len(_requests(t, mark, ident, 1)), 1, "requests")


@test()
def retry_remove_on_error_after_last_try(t):
    url, _ = _flaky(t, n=5, mode="cut")
    out = t.path("f")
    r = t.run(["-sS", "--retry", "1", "--retry-delay", "1",
               "--retry-all-errors", "--remove-on-error", "-o", out, url])
    t.rc(r, 18)
    t.check(not os.path.exists(out), "the partial file was removed")
