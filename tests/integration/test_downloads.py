"""Downloads and uploads: -O -J (Content-Disposition names, SECURITY.md H.44),
--output-dir, --create-dirs, --remove-on-error, -C resume (Range checked
against Content-Range), -T uploads.  Against httpbin (/response-headers,
/range/N, /bytes/N, /put, /anything), nginx (files with Range) and the
hostile server (/truncated, /flaky?mode=cut)."""

import json
import os
import stat
import urllib.parse
import uuid

from harness import http_get, sha256, sha256_file, test


def _cd_url(t, value):
    """An httpbin URL whose response carries Content-Disposition: value."""
    q = urllib.parse.urlencode({"Content-Disposition": value})
    return t.httpbin.url("/response-headers?" + q)


def _files(d):
    out = []
    for root, _, names in os.walk(d):
        for n in names:
            out.append(os.path.relpath(os.path.join(root, n), d))
    return sorted(out)


def _json(t, r):
    try:
        return json.loads(r.out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        t.fail("JSON body does not parse (%s): %r" % (e, r.out[:200]))
        return {}


# ------------------------------------------------------------------ -J names

@test(tags=("fast", "vg"))
def J_filename(t):
    d = t.path("cwd")
    os.makedirs(d)
    r = t.run(["-sS", "-OJ", _cd_url(t, 'attachment; filename="report.txt"')],
              cwd=d)
    t.ok(r)
    t.eq(_files(d), ["report.txt"], "files written")
    body = open(os.path.join(d, "report.txt"), "rb").read()
    t.contains(body, b'"Content-Disposition"', "the body is in the file")


@test(tags=("fast",))
def J_dotdot_path_is_base_name_only(t):
    # H.44: ../../x must not climb out of the directory
    d = t.path("a/b")
    os.makedirs(d)
    r = t.run(["-sS", "-OJ", _cd_url(t, 'attachment; filename="../../x"')],
              cwd=d)
    t.ok(r)
    t.eq(_files(t.path("a")), ["b/x"], "only a/b/x written")
    t.check(not os.path.exists(t.path("x")), "nothing written two levels up")


@test(tags=("fast",))
def J_absolute_path_is_base_name_only(t):
    # H.44: /etc/x must not be written anywhere but the current directory
    name = "hflow-test-%s" % uuid.uuid4().hex[:12]
    target = "/etc/" + name
    d = t.path("cwd")
    os.makedirs(d)
    try:
        r = t.run(["-sS", "-OJ",
                   _cd_url(t, 'attachment; filename="%s"' % target)], cwd=d)
        t.ok(r)
        t.check(not os.path.exists(target), "%s not created" % target)
        t.eq(_files(d), [name], "the base name in the current directory")
    finally:
        if os.path.exists(target):
            os.unlink(target)


@test(tags=("fast",))
def J_backslash_is_a_separator(t):
    # H.44: a\b is a Windows path: its base name is b (curl does the same)
    for i, v in enumerate(['attachment; filename="a\\b"',
                           'attachment; filename=c\\d']):
        d = t.path("cwd%d" % i)
        os.makedirs(d)
        r = t.run(["-sS", "-OJ", _cd_url(t, v)], cwd=d)
        t.ok(r)
        t.eq(_files(d), ["b" if i == 0 else "d"], "files written for %s" % v)


@test(tags=("fast",))
def J_never_over_an_existing_file(t):
    # H.44: the server's name never replaces a file: exit 23, file untouched
    d = t.path("cwd")
    os.makedirs(d)
    with open(os.path.join(d, "precious.txt"), "wb") as f:
        f.write(b"keep me\n")
    r = t.run(["-sS", "-OJ",
               _cd_url(t, 'attachment; filename="precious.txt"')], cwd=d)
    if t.is_curl:
        t.rc(r, 23)
    else:
        t.error(r, 23, r"precious\.txt", r"exists")
    t.eq(open(os.path.join(d, "precious.txt"), "rb").read(), b"keep me\n",
         "the existing file")
    t.eq(_files(d), ["precious.txt"], "no other file")


@test()
def J_existing_file_kept_with_remove_on_error(t):
    # the failed -J transfer must not delete the file it refused to replace
    d = t.path("cwd")
    os.makedirs(d)
    with open(os.path.join(d, "precious.txt"), "wb") as f:
        f.write(b"keep me\n")
    r = t.run(["-sS", "-OJ", "--remove-on-error",
               _cd_url(t, 'attachment; filename="precious.txt"')], cwd=d)
    t.rc(r, 23)
    t.check(os.path.exists(os.path.join(d, "precious.txt")),
            "--remove-on-error removed a file it did not write")


@test(tags=("fast",))
def J_without_header_uses_url_name(t):
    d = t.path("cwd")
    os.makedirs(d)
    r = t.run(["-sS", "-OJ", t.httpbin.url("/response-headers?X-A=1")], cwd=d)
    t.ok(r)
    t.eq(_files(d), ["response-headers"], "the URL's name")


@test()
def J_dotdot_only_falls_back_to_url_name(t):
    t.hflow_only("curl would try to open '..'")
    d = t.path("cwd")
    os.makedirs(d)
    r = t.run(["-sS", "-OJ", _cd_url(t, 'attachment; filename=".."')], cwd=d)
    t.ok(r)
    t.eq(_files(d), ["response-headers"], "the URL's name instead of '..'")


@test()
def J_filename_star_utf8(t):
    t.hflow_only("curl ignores filename* (RFC 6266)")
    d = t.path("cwd")
    os.makedirs(d)
    v = ("attachment; filename=\"fallback.txt\"; "
         "filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt")
    r = t.run(["-sS", "-OJ", _cd_url(t, v)], cwd=d)
    t.ok(r)
    t.eq(_files(d), ["na\u00efve r\u00e9sum\u00e9.txt"], "filename* wins")


@test()
def J_filename_star_traversal(t):
    t.hflow_only("curl ignores filename* (RFC 6266)")
    d = t.path("a/b")
    os.makedirs(d)
    v = "attachment; filename*=UTF-8''..%2F..%2Fy"
    r = t.run(["-sS", "-OJ", _cd_url(t, v)], cwd=d)
    t.ok(r)
    t.eq(_files(t.path("a")), ["b/y"], "decoded, then the base name only")


@test()
def J_with_output_dir(t):
    d = t.path("cwd")
    os.makedirs(os.path.join(d, "out"))
    r = t.run(["-sS", "-OJ", "--output-dir", "out",
               _cd_url(t, 'attachment; filename="../named.txt"')], cwd=d)
    t.ok(r)
    t.eq(_files(d), ["out/named.txt"], "files written")


@test()
def J_and_continue_at_refused(t):
    r = t.run(["-sS", "-OJ", "-C", "-", t.httpbin.url("/get")], cwd=t.tmp)
    t.rc(r, 2)


# --------------------------------------------- --output-dir, --create-dirs

@test(tags=("fast",))
def output_dir_o(t):
    os.makedirs(t.path("dl"))
    r = t.run(["-sS", "--output-dir", t.path("dl"), "-o", "f.bin",
               t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(sha256_file(t.path("dl/f.bin")), t.nginx.sha["1k.bin"], "dl/f.bin")


@test()
def output_dir_O(t):
    os.makedirs(t.path("dl"))
    r = t.run(["-sS", "--output-dir", t.path("dl"), "-O",
               t.nginx.url("/dir/hello.txt")])
    t.ok(r)
    t.eq(t.read("dl/hello.txt"), b"hello from nginx\n", "dl/hello.txt")


@test()
def output_dir_missing_23(t):
    r = t.run(["-sS", "--output-dir", t.path("nodir"), "-o", "f",
               t.nginx.url("/1k.bin")])
    t.rc(r, 23)
    t.check(not os.path.exists(t.path("nodir")), "no directory created")


@test(tags=("fast",))
def create_dirs_o(t):
    out = t.path("x/y/z/f.bin")
    r = t.run(["-sS", "--create-dirs", "-o", out, t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(sha256_file(out), t.nginx.sha["1k.bin"], "the file")
    mode = stat.S_IMODE(os.stat(t.path("x/y")).st_mode)
    t.eq(oct(mode & 0o777 & ~0o750), oct(0), "directory mode within 0750")


@test()
def create_dirs_with_output_dir(t):
    r = t.run(["-sS", "--create-dirs", "--output-dir", t.path("o1/o2"),
               "-o", "sub/f.txt", t.nginx.url("/dir/hello.txt")])
    t.ok(r)
    t.eq(t.read("o1/o2/sub/f.txt"), b"hello from nginx\n", "the file")


# ------------------------------------------------------- --remove-on-error

@test(tags=("fast",))
def remove_on_error_truncated(t):
    out = t.path("partial")
    r = t.run(["-sS", "--remove-on-error", "-o", out, t.hostile.url("/truncated")])
    t.error(r, 18, r"50 bytes")
    t.check(not os.path.exists(out), "the partial file was removed")


@test()
def remove_on_error_keeps_untouched_file(t):
    # a transfer that never wrote the file (connection refused) leaves it
    from harness import closed_port
    out = t.write("existing", b"old\n")
    r = t.run(["-sS", "--remove-on-error", "-o", out,
               "http://127.0.0.1:%d/" % closed_port()])
    t.rc(r, 7)
    t.eq(t.read("existing"), b"old\n", "the file")


@test()
def remove_on_error_success_keeps(t):
    out = t.path("ok")
    r = t.run(["-sS", "--remove-on-error", "-o", out, t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(sha256_file(out), t.nginx.sha["1k.bin"], "the file")


# ------------------------------------------------------------------- -C

@test(tags=("fast",))
def resume_nginx(t):
    st, full = http_get(t.nginx.url("/10m.bin"))
    t.require(st == 200, "nginx /10m.bin: %s" % st)
    out = t.write("part", full[:3000000])
    r = t.run(["-sS", "-C", "-", "-o", out, t.nginx.url("/10m.bin")])
    t.ok(r)
    t.eq(sha256_file(out), t.nginx.sha["10m.bin"], "the resumed file")


@test()
def resume_sends_range(t):
    mark = t.nginx.log_mark()
    out = t.write("part", b"x" * 1000)
    r = t.run(["-sS", "-C", "-", "-o", out, "-D", t.path("head"),
               t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(os.path.getsize(out), 1024, "1000 old + 24 new bytes")
    head = t.read("head").decode("latin-1")
    t.match(r"^HTTP/1\.1 206", head, "a partial response")
    t.match(r"\r\nContent-Range: bytes 1000-1023/1024\r\n", head, "its range")
    log = t.nginx.log_since(mark, 1)
    t.eq([e["status"] for e in log], [206], "nginx saw one range request")


@test()
def resume_offset_to_stdout(t):
    st, full = http_get(t.nginx.url("/1k.bin"))
    r = t.run(["-sS", "-C", "1000", t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(r.out, full[1000:], "the last 24 bytes")


@test()
def resume_httpbin_range(t):
    st, full = http_get(t.httpbin.url("/range/100"))
    t.require(st == 200 and len(full) == 100, "httpbin /range/100")
    out = t.write("part", full[:30])
    r = t.run(["-sS", "-C", "-", "-o", out, t.httpbin.url("/range/100")])
    t.ok(r)
    t.eq(t.read("part"), full, "the resumed file")


@test(tags=("fast",))
def resume_complete_416_ok(t):
    st, full = http_get(t.nginx.url("/1k.bin"))
    out = t.write("whole", full)
    r = t.run(["-sS", "-C", "-", "-o", out, "-w", "%{http_code}",
               t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(r.out, b"416", "status")
    t.eq(sha256_file(out), t.nginx.sha["1k.bin"], "file unchanged")


@test()
def resume_complete_416_httpbin(t):
    st, full = http_get(t.httpbin.url("/range/100"))
    out = t.write("whole", full)
    r = t.run(["-sS", "-C", "-", "-o", out, t.httpbin.url("/range/100")])
    t.ok(r)
    t.eq(t.read("whole"), full, "file unchanged")


@test(tags=("fast", "vg"))
def resume_range_ignored_33(t):
    # /bytes/N answers 200 with the whole body: appending would corrupt
    out = t.write("part", b"0123456789")
    r = t.run(["-sS", "-C", "-", "-o", out, t.httpbin.url("/bytes/100")])
    t.error(r, 33, r"byte ranges")
    t.eq(t.read("part"), b"0123456789", "the file is left as it was")


@test()
def resume_range_ignored_remove_on_error(t):
    # as curl: the file being resumed is the download, and it failed
    out = t.write("part", b"0123456789")
    r = t.run(["-sS", "-C", "-", "--remove-on-error", "-o", out,
               t.httpbin.url("/bytes/100")])
    t.rc(r, 33)
    t.check(not os.path.exists(out), "the file was removed")


@test()
def resume_no_file_no_range(t):
    out = t.path("new")
    r = t.run(["-sS", "-C", "-", "-o", out, "-D", t.path("head"),
               t.nginx.url("/1k.bin")])
    t.ok(r)
    t.eq(sha256_file(out), t.nginx.sha["1k.bin"], "the file")
    t.match(r"^HTTP/1\.1 200", t.read("head").decode("latin-1"),
            "a whole response (no Range sent)")


@test()
def continue_at_bad_value_2(t):
    r = t.run(["-sS", "-C", "abc", t.nginx.url("/1k.bin")])
    t.rc(r, 2)


# ------------------------------------------------------------------- -T

@test(tags=("fast",))
def upload_file_put(t):
    data = b"line one\nline two\n"
    up = t.write("up.txt", data)
    r = t.run(["-sS", "-T", up, t.httpbin.url("/put")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("data"), data.decode(), "body as received")
    hdrs = {k.lower(): v for k, v in (j.get("headers") or {}).items()}
    t.eq(hdrs.get("content-length"), str(len(data)), "Content-Length")


@test()
def upload_url_slash_appends_name(t):
    up = t.write("up file.txt", b"hello\n")
    r = t.run(["-sS", "-T", up, t.httpbin.url("/anything/dir/")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "PUT", "method")
    t.check(str(j.get("url", "")).endswith("/anything/dir/up%20file.txt"),
            "URL with the file's name: %r" % j.get("url"))
    t.eq(j.get("data"), "hello\n", "body")


@test(tags=("fast", "vg"))
def upload_stdin_chunked(t):
    r = t.run(["-sS", "-T", "-", t.httpbin.url("/anything/stdin")],
              stdin=b"from stdin\n")
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "PUT", "method")
    t.eq(j.get("data"), "from stdin\n", "body")
    hdrs = {k.lower(): v for k, v in (j.get("headers") or {}).items()}
    t.eq(hdrs.get("transfer-encoding"), "chunked", "Transfer-Encoding")
    t.check(str(j.get("url", "")).endswith("/anything/stdin"),
            "no name appended for stdin: %r" % j.get("url"))


@test()
def upload_large_file_streamed(t):
    data = os.urandom(3 << 20)
    up = t.write("big.bin", data)
    h = t.hostile
    mark = h.reset()
    r = t.run(["-sS", "-T", up, "-o", os.devnull, "-w", "%{size_upload}",
               h.url("/echo")])
    t.ok(r)
    t.eq(r.out, str(len(data)).encode(), "size_upload")
    caps = h.captures(mark, 1, partial=False)
    t.require(len(caps) == 1, "one request captured: %d" % len(caps))
    head, _, body = caps[0][1].partition(b"\r\n\r\n")
    t.match(r"^PUT /echo HTTP/1\.1", head.decode("latin-1"), "request line")
    t.match(r"\r\nContent-Length: %d\r\n" % len(data), head.decode("latin-1"),
            "Content-Length")
    t.eq(sha256(body), sha256(data), "sha256 of the body received")


@test()
def upload_with_X_POST(t):
    up = t.write("up.txt", b"abc")
    r = t.run(["-sS", "-T", up, "-X", "POST", t.httpbin.url("/post")])
    t.ok(r)
    t.eq(_json(t, r).get("data"), "abc", "body")


@test(tags=("fast",))
def upload_missing_file_26(t):
    r = t.run(["-sS", "-T", t.path("nonexistent"), t.httpbin.url("/put")])
    t.rc(r, 26)


@test()
def upload_and_data_conflict_2(t):
    up = t.write("up.txt", b"abc")
    r = t.run(["-sS", "-T", up, "-d", "x=1", t.httpbin.url("/put")])
    t.rc(r, 2)
