"""hflow against python3-httpbin (gunicorn): methods, status codes, request
headers and bodies as the server parsed them, streams, compression, auth,
timeouts and output flags."""

import gzip
import json
import os
import zlib

from harness import http_get, sha256, test


def _json(t, r, what="JSON body"):
    try:
        return json.loads(r.out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        t.fail("%s does not parse (%s): %r" % (what, e, r.out[:200]))
        return {}


def _hdr(j, name):
    for k, v in (j.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def _split_i(t, r):
    head, sep, body = r.out.partition(b"\r\n\r\n")
    t.check(sep == b"\r\n\r\n", "head/body separator in -i output: %r" % r.out[:200])
    return head.decode("latin-1"), body


# ------------------------------------------------------------------ methods

@test(tags=("fast",))
def method_GET(t):
    r = t.run(["-sS", t.httpbin.url("/get?x=1")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("args"), {"x": "1"}, "args")
    t.eq(_hdr(j, "Host"), "127.0.0.1:%d" % t.httpbin.port, "Host as received")


@test()
def method_HEAD_I(t):
    r = t.run(["-sS", "-I", t.httpbin.url("/get")])
    t.ok(r)
    t.match(r"^HTTP/1\.1 200 OK\r\n", r.text, "status line")
    t.match(r"\r\ncontent-type: application/json", r.text, "headers shown")
    t.check(r.out.endswith(b"\r\n\r\n") and r.out.count(b"\r\n\r\n") == 1,
            "only the head, no body: %r" % r.out[-60:])


@test(tags=("fast",))
def method_POST(t):
    r = t.run(["-sS", "-X", "POST", "-d", "a=1", t.httpbin.url("/post")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("form"), {"a": "1"}, "form")


@test()
def method_PUT(t):
    r = t.run(["-sS", "-X", "PUT", "-d", "k=v", t.httpbin.url("/put")])
    t.ok(r)
    t.eq(_json(t, r).get("form"), {"k": "v"}, "form of PUT")


@test()
def method_PATCH(t):
    r = t.run(["-sS", "-X", "PATCH", "-H", "Content-Type: application/json",
               "--data-binary", '{"p":1}', t.httpbin.url("/patch")])
    t.ok(r)
    t.eq(_json(t, r).get("json"), {"p": 1}, "json of PATCH")


@test()
def method_DELETE(t):
    r = t.run(["-sS", "-X", "DELETE", t.httpbin.url("/anything")])
    t.ok(r)
    t.eq(_json(t, r).get("method"), "DELETE", "method as received")


@test()
def method_OPTIONS(t):
    r = t.run(["-sS", "-i", "-X", "OPTIONS", t.httpbin.url("/anything")])
    t.ok(r)
    head, body = _split_i(t, r)
    t.match(r"^HTTP/1\.1 200 ", head, "status")
    t.match(r"\r\nallow: [^\r]*OPTIONS", head, "Allow header passed through")
    t.eq(body, b"", "empty body")


@test()
def method_TRACE_passed_through(t):
    r = t.run(["-sS", "-X", "TRACE", "-w", "\n%{http_code}", t.httpbin.url("/anything")])
    t.ok(r)
    body, _, code = r.out.rpartition(b"\n")
    if code == b"200":
        t.eq(json.loads(body).get("method"), "TRACE", "TRACE echoed by httpbin")
    else:
        t.eq(code, b"405", "TRACE: 200 or 405 from httpbin")


@test()
def method_custom_X_with_data(t):
    r = t.run(["-sS", "-X", "PUT", "--data-binary", "raw body",
               "-H", "Content-Type: text/plain", t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "PUT", "method")
    t.eq(j.get("data"), "raw body", "data")


# ----------------------------------------------------------------- statuses

def _status(t, code, fail):
    if fail and code >= 400:
        r = t.run(["-sS", "-f", t.httpbin.url("/status/%d" % code)])
        t.error(r, 22, str(code), empty_stdout=True)
    else:
        args = ["-sS", "-w", "%{http_code}"] + (["-f"] if fail else [])
        r = t.run(args + [t.httpbin.url("/status/%d" % code)])
        t.ok(r)
        t.eq(r.out, str(code).encode(), "-w http_code (body is empty)")


@test(tags=("fast",))
def status_200(t):
    _status(t, 200, False)


@test()
def status_404(t):
    _status(t, 404, False)


@test()
def status_500(t):
    _status(t, 500, False)


@test()
def status_200_f(t):
    _status(t, 200, True)


@test(tags=("fast",))
def status_404_f(t):
    _status(t, 404, True)


@test()
def status_500_f(t):
    _status(t, 500, True)


@test()
def fail_f_hides_body_418(t):
    r = t.run(["-sS", "-f", t.httpbin.url("/status/418")])
    t.error(r, 22, "418", empty_stdout=True)


@test(tags=("fast",))
def fail_with_body_418(t):
    r = t.run(["-sS", "--fail-with-body", t.httpbin.url("/status/418")])
    t.error(r, 22, "418")
    t.contains(r.out, b"teapot", "--fail-with-body prints the body")


@test()
def fail_silent_s_no_line(t):
    r = t.run(["-s", "-f", t.httpbin.url("/status/404")])
    t.rc(r, 22)
    t.eq(r.err, "", "-s without -S: stderr")
    t.eq(r.out, b"", "stdout")


@test()
def redirect_not_followed_without_L(t):
    r = t.run(["-sS", "-i", t.httpbin.url("/redirect-to?url=/get&status_code=302")])
    t.ok(r)
    head, body = _split_i(t, r)
    t.match(r"^HTTP/1\.1 302 ", head, "302 shown, not followed")
    t.match(r"\r\nlocation: /get", head, "Location passed through")


# ------------------------------------------------------------------ headers

@test(tags=("fast",))
def headers_user(t):
    r = t.run(["-sS", "-H", "X-One: 1", "-H", "X-Two: two words",
               t.httpbin.url("/headers")])
    t.ok(r)
    j = _json(t, r)
    t.eq(_hdr(j, "X-One"), "1", "X-One")
    t.eq(_hdr(j, "X-Two"), "two words", "X-Two")
    t.eq(_hdr(j, "Accept"), "*/*", "default Accept")
    t.eq(_hdr(j, "User-Agent"), t.ua, "default User-Agent")


@test()
def headers_remove_accept(t):
    r = t.run(["-sS", "-H", "Accept:", t.httpbin.url("/headers")])
    t.ok(r)
    j = _json(t, r)
    t.eq(_hdr(j, "Accept"), None, "Accept removed by 'Accept:'")
    t.eq(_hdr(j, "User-Agent"), t.ua, "others kept")


@test()
def headers_empty_value(t):
    r = t.run(["-sS", "-H", "X-Empty;", t.httpbin.url("/headers")])
    t.ok(r)
    t.eq(_hdr(_json(t, r), "X-Empty"), "", "X-Empty sent with an empty value")


@test()
def headers_replace_user_agent(t):
    r = t.run(["-sS", "-H", "User-Agent: mine/1", t.httpbin.url("/headers")])
    t.ok(r)
    t.eq(_hdr(_json(t, r), "User-Agent"), "mine/1", "User-Agent replaced")


@test()
def user_agent_A(t):
    r = t.run(["-sS", "-A", "hflow-test/9 (x)", t.httpbin.url("/user-agent")])
    t.ok(r)
    t.eq(_json(t, r).get("user-agent"), "hflow-test/9 (x)", "-A")


@test()
def referer_e(t):
    r = t.run(["-sS", "-e", "http://ref.test/page", t.httpbin.url("/headers")])
    t.ok(r)
    t.eq(_hdr(_json(t, r), "Referer"), "http://ref.test/page", "-e Referer")


@test()
def response_headers_i(t):
    r = t.run(["-sS", "-i", t.httpbin.url("/response-headers?X-Hflow-Test=yes")])
    t.ok(r)
    head, body = _split_i(t, r)
    t.match(r"\r\nx-hflow-test: yes\r\n", head + "\r\n", "response header in -i")
    t.eq(_json(t, type(r)(r.cmd, 0, body, "", 0)).get("X-Hflow-Test"), "yes",
         "JSON body after the head")


@test()
def include_i_get(t):
    r = t.run(["-sS", "-i", t.httpbin.url("/get")])
    t.ok(r)
    head, body = _split_i(t, r)
    t.match(r"^HTTP/1\.1 200 OK\r\n", head, "status line")
    t.match(r"\r\ncontent-type: application/json", head, "Content-Type")
    t.check(body.lstrip().startswith(b"{"), "JSON body after the head")


@test()
def dump_header_D(t):
    r = t.run(["-sS", "-D", t.path("h"), t.httpbin.url("/get")])
    t.ok(r)
    t.check(r.out.lstrip().startswith(b"{"), "stdout is the body")
    h = t.read("h").decode("latin-1") if os.path.exists(t.path("h")) else ""
    t.match(r"^HTTP/1\.1 200 OK\r\n", h, "-D file")


# ------------------------------------------------------------------- bodies

@test(tags=("fast",))
def anything_d_form(t):
    r = t.run(["-sS", "-d", "a=1", "-d", "b=two", t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "POST", "-d means POST")
    t.eq(j.get("form"), {"a": "1", "b": "two"}, "-d joined with &")
    t.eq(_hdr(j, "Content-Type"), "application/x-www-form-urlencoded", "Content-Type")
    t.eq(_hdr(j, "Content-Length"), "9", "Content-Length")


@test()
def anything_d_at_file_strips_crlf(t):
    f = t.write("form.txt", b"a=1\r\n&b=2\n")
    r = t.run(["-sS", "-d", "@" + f, t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("form"), {"a": "1", "b": "2"}, "-d @file without CR/LF")
    t.eq(_hdr(j, "Content-Length"), "7", "Content-Length after stripping")


@test()
def anything_data_binary_file(t):
    data = b"line1\r\nline2\n\tend"
    f = t.write("bin.txt", data)
    r = t.run(["-sS", "--data-binary", "@" + f, "-H", "Content-Type: text/plain",
               t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("data"), data.decode(), "--data-binary keeps the bytes")


@test()
def anything_data_raw_at(t):
    r = t.run(["-sS", "--data-raw", "@not-a-file", "-H", "Content-Type: text/plain",
               t.httpbin.url("/anything")])
    t.ok(r)
    t.eq(_json(t, r).get("data"), "@not-a-file", "--data-raw takes @ literally")


@test()
def anything_data_urlencode(t):
    r = t.run(["-sS", "--data-urlencode", "q=a b&c=d/é", t.httpbin.url("/anything")])
    t.ok(r)
    t.eq(_json(t, r).get("form"), {"q": "a b&c=d/é"}, "--data-urlencode")


@test(tags=("fast",))
def anything_F_text_and_file(t):
    f = t.write("up.txt", b"file content\nline 2\n")
    r = t.run(["-sS", "-F", "name=value", "-F", "up=@" + f, t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("form"), {"name": "value"}, "-F text part")
    t.eq(j.get("files"), {"up": "file content\nline 2\n"}, "-F file part")
    t.match(r"^multipart/form-data; boundary=\S+$", _hdr(j, "Content-Type") or "",
            "multipart Content-Type")
    t.eq(j.get("method"), "POST", "-F means POST")


@test()
def anything_G_query(t):
    r = t.run(["-sS", "-G", "-d", "a=1", "--data-urlencode", "q=x y",
               t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "GET", "-G means GET")
    t.eq(j.get("args"), {"a": "1", "q": "x y"}, "data in the query")
    t.eq(j.get("data"), "", "no body")


@test()
def anything_G_appends_to_query(t):
    r = t.run(["-sS", "-G", "-d", "b=2", t.httpbin.url("/anything?a=1")])
    t.ok(r)
    t.eq(_json(t, r).get("args"), {"a": "1", "b": "2"}, "-G appends with &")


@test(tags=("fast",))
def anything_json(t):
    r = t.run(["-sS", "--json", '{"k":"v","n":[1,2]}', t.httpbin.url("/anything")])
    t.ok(r)
    j = _json(t, r)
    t.eq(j.get("method"), "POST", "--json means POST")
    t.eq(j.get("json"), {"k": "v", "n": [1, 2]}, "json parsed by the server")
    t.eq(_hdr(j, "Content-Type"), "application/json", "Content-Type")
    t.eq(_hdr(j, "Accept"), "application/json", "Accept")


# ------------------------------------------------------- streams and sizes

@test(tags=("fast",))
def stream_5_lines(t):
    r = t.run(["-sS", t.httpbin.url("/stream/5")])
    t.ok(r)
    lines = r.out.decode().splitlines()
    t.eq(len(lines), 5, "JSON lines")
    ids = []
    for l in lines:
        try:
            ids.append(json.loads(l).get("id"))
        except ValueError:
            t.fail("line is not JSON: %r" % l[:100])
    t.eq(ids, [0, 1, 2, 3, 4], "ids in order")


@test(tags=("fast",))
def bytes_4096(t):
    r = t.run(["-sS", t.httpbin.url("/bytes/4096?seed=7")])
    t.ok(r)
    t.eq(len(r.out), 4096, "body length")
    st, ref = http_get(t.httpbin.url("/bytes/4096?seed=7"))
    t.eq(sha256(r.out), sha256(ref), "same bytes as a reference fetch")


@test()
def stream_bytes_chunked(t):
    r = t.run(["-sS", t.httpbin.url("/stream-bytes/100000?seed=3&chunk_size=999")])
    t.ok(r)
    st, ref = http_get(t.httpbin.url("/stream-bytes/100000?seed=3&chunk_size=999"))
    t.eq(len(r.out), 100000, "body length")
    t.eq(sha256(r.out), sha256(ref), "same bytes as a reference fetch")


@test()
def image_png_binary(t):
    r = t.run(["-sS", t.httpbin.url("/image/png")])
    t.ok(r)
    st, ref = http_get(t.httpbin.url("/image/png"))
    t.check(r.out.startswith(b"\x89PNG"), "PNG signature")
    t.eq(sha256(r.out), sha256(ref), "same bytes as a reference fetch")


# --------------------------------------------------------------- encodings

@test(tags=("fast",))
def gzip_compressed(t):
    r = t.run(["-sS", "--compressed", t.httpbin.url("/gzip")])
    t.ok(r)
    j = _json(t, r, "decoded body")
    t.eq(j.get("gzipped"), True, "gzipped")
    t.contains(_hdr(j, "Accept-Encoding") or "", "gzip", "Accept-Encoding sent")


@test()
def gzip_raw_without_compressed(t):
    r = t.run(["-sS", t.httpbin.url("/gzip")])
    t.ok(r)
    t.check(r.out[:2] == b"\x1f\x8b", "raw gzip bytes on stdout: %r" % r.out[:10])
    try:
        t.eq(json.loads(gzip.decompress(r.out)).get("gzipped"), True,
             "raw bytes decompress")
    except (OSError, ValueError) as e:
        t.fail("raw body does not decompress: %s" % e)


@test()
def deflate_compressed(t):
    r = t.run(["-sS", "--compressed", t.httpbin.url("/deflate")])
    t.ok(r)
    t.eq(_json(t, r, "decoded body").get("deflated"), True, "deflated")


@test()
def deflate_raw_without_compressed(t):
    r = t.run(["-sS", t.httpbin.url("/deflate")])
    t.ok(r)
    try:
        t.eq(json.loads(zlib.decompress(r.out)).get("deflated"), True,
             "raw bytes inflate")
    except (zlib.error, ValueError) as e:
        t.fail("raw body does not inflate: %s (%r)" % (e, r.out[:10]))


# -------------------------------------------------------------------- auth

@test(tags=("fast",))
def basic_auth_ok(t):
    r = t.run(["-sS", "-u", "u:p", t.httpbin.url("/basic-auth/u/p")])
    t.ok(r)
    t.eq(_json(t, r), {"authenticated": True, "user": "u"}, "authenticated")


@test()
def basic_auth_wrong_password(t):
    r = t.run(["-sS", "-u", "u:wrong", "-w", "%{http_code}", "-o", os.devnull,
               t.httpbin.url("/basic-auth/u/p")])
    t.ok(r)
    t.eq(r.out, b"401", "status")


@test()
def basic_auth_wrong_password_f(t):
    r = t.run(["-sS", "-f", "-u", "u:wrong", t.httpbin.url("/basic-auth/u/p")])
    t.error(r, 22, "401", empty_stdout=True)


# ---------------------------------------------------------------- timeouts

@test(tags=("fast",))
def delay_max_time_28(t):
    r = t.run(["-sS", "-m", "1", t.httpbin.url("/delay/3")], timeout=15)
    t.error(r, 28, r"time", empty_stdout=True)
    t.check(0.9 < r.elapsed < 2.5 + t.slack, "-m 1 ends near 1 s: %.2f s" % r.elapsed)


@test()
def max_time_long_form(t):
    r = t.run(["-sS", "--max-time", "1", t.httpbin.url("/delay/3")], timeout=15)
    t.error(r, 28, r"time", empty_stdout=True)
    t.check(r.elapsed < 2.5 + t.slack, "--max-time 1 ends near 1 s: %.2f s" % r.elapsed)


@test()
def delay_within_max_time(t):
    r = t.run(["-sS", "-m", "5", t.httpbin.url("/delay/1")], timeout=15)
    t.ok(r)
    t.contains(r.out, b'"url"', "body of /delay/1")


# ------------------------------------------------------------------ output

@test()
def output_o(t):
    r = t.run(["-sS", "-o", t.path("out.json"), t.httpbin.url("/get")])
    t.ok(r)
    t.eq(r.out, b"", "stdout")
    try:
        j = json.loads(t.read("out.json"))
        t.eq(j.get("url"), t.httpbin.url("/get"), "file content")
    except (OSError, ValueError) as e:
        t.fail("-o file: %s" % e)


@test()
def output_O(t):
    r = t.run(["-sS", "-O", t.httpbin.url("/anything/result.json")], cwd=t.tmp)
    t.ok(r)
    try:
        j = json.loads(t.read("result.json"))
        t.eq(j.get("url"), t.httpbin.url("/anything/result.json"), "-O file content")
    except (OSError, ValueError) as e:
        t.fail("-O file: %s" % e)


@test()
def two_urls_two_outputs(t):
    r = t.run(["-sS", "-o", t.path("a"), "-o", t.path("b"),
               t.httpbin.url("/anything/a"), t.httpbin.url("/anything/b")])
    t.ok(r)
    try:
        t.eq(json.loads(t.read("a")).get("url"), t.httpbin.url("/anything/a"), "a")
        t.eq(json.loads(t.read("b")).get("url"), t.httpbin.url("/anything/b"), "b")
    except (OSError, ValueError) as e:
        t.fail("-o files: %s" % e)


@test(tags=("fast",))
def brotli_compressed(t):
    r = t.run(["-sS", "--compressed", "-D", "-", t.httpbin.url("/brotli")])
    t.ok(r)
    head, _, body = r.out.partition(b"\r\n\r\n")
    t.check(b"content-encoding: br" in head.lower(), "the server sent br")
    try:
        t.eq(json.loads(body).get("brotli"), True, "decoded brotli body")
    except ValueError:
        t.fail("not decoded: %r" % body[:80])


@test()
def range_request_partial(t):
    r = t.run(["-sS", "-H", "Range: bytes=10-19", "-w", "\n%{http_code}",
               t.httpbin.url("/range/100")])
    t.ok(r)
    body, _, code = r.out.rpartition(b"\n")
    t.eq(code, b"206", "206 Partial Content")
    t.eq(len(body), 10, "ten bytes")
