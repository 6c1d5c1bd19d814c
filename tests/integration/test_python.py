"""The Python binding (bindings/python/hflow.py) against the test servers.

Each test writes a small script, runs it with /usr/bin/python3 in a
subprocess (HFLOW_LIB = the libhflow.so next to the binary under test) and
checks what it prints: one JSON object.  The assertions are made here."""

import json
import os
import subprocess
import textwrap

from harness import PY, ROOT, closed_port, sha256, test

BINDING = os.path.join(ROOT, "bindings", "python")

PRELUDE = """\
import hashlib, json, os, sys, time
import hflow
def out(**kw):
    sys.stdout.write(json.dumps(kw))
"""


def _py(t, code, *args, timeout=40):
    """Run code (after PRELUDE) with args; the JSON it printed."""
    if t.is_curl:
        t.skip("hflow's library")
    lib = os.path.join(os.path.dirname(os.path.abspath(t.client.bin)), "libhflow.so")
    if not os.path.exists(lib):
        t.skip("no libhflow.so next to the binary")
    script = t.write("s.py", (PRELUDE + textwrap.dedent(code)).encode())
    env = dict(t.client.env, HFLOW_LIB=lib, PYTHONPATH=BINDING,
               PYTHONDONTWRITEBYTECODE="1")
    try:
        p = subprocess.run([PY, script] + [str(a) for a in args], env=env,
                           capture_output=True, timeout=timeout, cwd=t.tmp)
    except subprocess.TimeoutExpired:
        t.require(False, "the python script timed out after %d s" % timeout)
    err = p.stderr.decode("utf-8", "replace")
    t.require(p.returncode == 0, "python exited %d: %s" % (p.returncode, err[-2000:]))
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        t.require(False, "no JSON on stdout: %r (stderr %s)" % (p.stdout[:300],
                                                                 err[-500:]))


def _names(trace):
    return [e["ev"] for e in trace]


@test()
def get_text_headers_and_timings(t):
    j = _py(t, """
        r = hflow.get(sys.argv[1])
        g = hflow.get(sys.argv[2], params={"x": "1", "y": ["a", "b"]},
                      headers={"X-Test": "yes"})
        out(status=r.status_code, ok=r.ok, text=r.text, url=r.url,
            clen=r.headers["content-length"], clen2=r.headers.get("CONTENT-LENGTH"),
            version=r.http_version, elapsed=r.elapsed.total_seconds(),
            timings=r.timings, reason=r.reason, remote=r.remote_addr,
            args=g.json()["args"], xt=g.json()["headers"].get("X-Test"),
            ua=g.request.headers.get("user-agent"), method=g.request.method,
            gurl=g.url)
    """, t.nginx.url("/dir/hello.txt"), t.httpbin.url("/get"))
    t.eq(j["status"], 200, "status_code")
    t.eq(j["ok"], True, "ok")
    t.eq(j["text"], "hello from nginx\n", "text")
    t.eq(j["url"], t.nginx.url("/dir/hello.txt"), "url")
    t.eq((j["clen"], j["clen2"]), ("17", "17"), "headers, any case")
    t.eq(j["version"], "1.1", "http_version")
    t.eq(j["reason"], "OK", "reason")
    t.eq(j["remote"], "127.0.0.1:%d" % t.nginx.port, "remote_addr")
    tm = j["timings"]
    order = [tm[k] for k in ("connect", "pretransfer", "starttransfer", "total")]
    t.check(order == sorted(order) and 0 < tm["total"] < 5,
            "timings cumulative and sane: %s" % tm)
    t.check(0 < j["elapsed"] <= tm["total"], "elapsed in (0, total]: %s" % j["elapsed"])
    t.eq(j["args"], {"x": "1", "y": ["a", "b"]}, "params as httpbin parsed them")
    t.eq(j["xt"], "yes", "header sent")
    t.match(r"^hflow/", j["ua"] or "", "User-Agent as sent")
    t.eq(j["method"], "GET", "request.method")
    t.match(r"\?x=1&y=a&y=b$", j["gurl"], "url with the query")


@test()
def post_form_json_bytes_multipart_and_streamed_upload(t):
    j = _py(t, """
        import io
        u = sys.argv[1]
        with hflow.Session() as s:
            f = s.post(u, data={"a": "1", "b": "x y"}).json()
            js = s.post(u, json={"k": [1, 2, {"z": None}]}).json()
            raw = s.post(u, data=b"\\x00\\x01raw", headers={"Content-Type":
                                                          "application/octet-stream"}).json()
            mp = s.post(u, data={"f": "v"},
                        files={"up": ("n.txt", b"file body", "text/plain")}).json()
            st = s.post(u, data=io.BytesIO(b"s" * 100000)).json()
            gen = s.put(sys.argv[1].replace("/post", "/put"),
                        data=(b"%d," % i for i in range(1000))).json()
        out(form=f["form"], ctype=f["headers"]["Content-Type"],
            json=js["json"], jctype=js["headers"]["Content-Type"],
            raw=raw["data"], mp_form=mp["form"], mp_files=mp["files"],
            st_len=len(st["data"]), st_clen=st["headers"].get("Content-Length"),
            gen=gen["data"], gen_te=gen["headers"].get("Transfer-Encoding"))
    """, t.httpbin.url("/post"))
    t.eq(j["form"], {"a": "1", "b": "x y"}, "form echoed")
    t.eq(j["ctype"], "application/x-www-form-urlencoded", "form Content-Type")
    t.eq(j["json"], {"k": [1, 2, {"z": None}]}, "json echoed")
    t.eq(j["jctype"], "application/json", "json Content-Type")
    t.check(j["raw"].startswith("data:application/octet-stream;base64,") or
            j["raw"] == "\u0000\u0001raw", "raw bytes echoed: %r" % j["raw"][:80])
    t.eq(j["mp_form"], {"f": "v"}, "multipart field")
    t.eq(j["mp_files"], {"up": "file body"}, "multipart file")
    t.eq((j["st_len"], j["st_clen"]), (100000, "100000"),
         "a file-like body streamed with its length")
    t.eq(j["gen"], "".join("%d," % i for i in range(1000)), "a generator body")
    t.eq(j["gen_te"], "chunked", "a generator body is sent chunked")


@test()
def session_headers_and_removal(t):
    j = _py(t, """
        with hflow.Session() as s:
            s.headers["X-Session"] = "s1"
            s.headers["Accept"] = "text/x-mine"
            h1 = s.get(sys.argv[1]).json()["headers"]
            h2 = s.get(sys.argv[1], headers={"X-Session": None, "User-Agent": None,
                                             "X-Req": "r"}).json()["headers"]
            try:
                s.get(sys.argv[1], headers={"Bad Name": "x"})
                bad = None
            except hflow.InvalidHeader as e:
                bad = [e.code, e.name]
        out(h1=h1, h2=h2, bad=bad)
    """, t.httpbin.url("/headers"))
    t.eq(j["h1"].get("X-Session"), "s1", "session header sent")
    t.eq(j["h1"].get("Accept"), "text/x-mine", "a default replaced")
    t.check("X-Session" not in j["h2"], "None removes a session header: %s" % j["h2"])
    t.check("User-Agent" not in j["h2"], "None removes a default: %s" % j["h2"])
    t.eq(j["h2"].get("X-Req"), "r", "per-request header")
    t.eq(j["bad"], [2, "BAD_ARG"], "a bad header name raises InvalidHeader (2)")


@test()
def redirects_history_and_limit(t):
    j = _py(t, """
        u = sys.argv[1]
        r = hflow.get(u + "/redirect/3")
        n = hflow.get(u + "/redirect/1", allow_redirects=False)
        with hflow.Session() as s:
            s.max_redirects = 2
            try:
                s.get(u + "/redirect/5")
                tm = None
            except hflow.TooManyRedirects as e:
                tm = [e.code, e.name, e.message, e.response.status_code]
        out(status=r.status_code, url=r.url,
            hist=[[h.status_code, h.url, h.headers.get("location")] for h in r.history],
            hist_traces=[len(h.trace) for h in r.history], nred=r.num_redirects,
            redirect_time=r.timings["redirect"],
            n=[n.status_code, n.is_redirect, len(n.history)], tm=tm)
    """, t.httpbin.url(""))
    base = t.httpbin.url("")
    t.eq(j["status"], 200, "final status")
    t.eq(j["url"], base + "/get", "final url")
    t.eq([h[0] for h in j["hist"]], [302, 302, 302], "history statuses")
    t.eq([h[1] for h in j["hist"]],
         [base + "/redirect/3", base + "/relative-redirect/2",
          base + "/relative-redirect/1"], "history urls, oldest first")
    t.check(all(n > 3 for n in j["hist_traces"]), "each hop has its trace: %s"
            % j["hist_traces"])
    t.eq(j["nred"], 3, "num_redirects")
    t.check(j["redirect_time"] > 0, "timings['redirect'] > 0")
    t.eq(j["n"], [302, True, 0], "allow_redirects=False")
    t.require(j["tm"] is not None, "TooManyRedirects raised")
    t.eq(j["tm"][:2], [47, "TOO_MANY_REDIRECTS"], "code and name")
    t.check(bool(j["tm"][2]), "a message")


@test()
def session_cookies_across_requests(t):
    j = _py(t, """
        u = sys.argv[1]
        with hflow.Session() as s:
            r1 = s.get(u + "/cookies/set?flavour=oat&n=2")
            r2 = s.get(u + "/cookies")
            jar = s.cookies
            lst = s.cookie_list()
            s.set_cookie("extra", "e1", "127.0.0.1")
            r3 = s.get(u + "/cookies")
            r4 = s.get(u + "/cookies/delete?n")
            after = s.cookies
        with hflow.Session() as fresh:
            r5 = fresh.get(u + "/cookies")
        with hflow.Session(cookies=False) as off:
            off.get(u + "/cookies/set?a=1")
            r6 = off.get(u + "/cookies")
        out(r1=r1.json(), r1_hist=[h.cookies for h in r1.history], r2=r2.json(),
            jar=jar, dom=[c["domain"] for c in lst], r3=r3.json(),
            after=after, r5=r5.json(), r6=r6.json())
    """, t.httpbin.url(""))
    want = {"flavour": "oat", "n": "2"}
    t.eq(j["r1"].get("cookies"), want, "cookies after the redirect of /cookies/set")
    t.eq(j["r1_hist"], [want], "Response.cookies of the hop that set them")
    t.eq(j["r2"].get("cookies"), want, "sent again on the next request")
    t.eq(j["jar"], want, "session.cookies")
    t.eq(set(j["dom"]), {"127.0.0.1"}, "cookie domains")
    t.eq(j["r3"].get("cookies"), dict(want, extra="e1"), "set_cookie adds one")
    t.eq(j["after"], {"flavour": "oat", "extra": "e1"}, "a deleted cookie is gone")
    t.eq(j["r5"].get("cookies"), {}, "a new session starts empty")
    t.eq(j["r6"].get("cookies"), {}, "cookies=False keeps none")


@test()
def basic_and_digest_auth(t):
    j = _py(t, """
        u = sys.argv[1]
        ok = hflow.get(u + "/basic-auth/user/pw", auth=("user", "pw"))
        bad = hflow.get(u + "/basic-auth/user/pw", auth=("user", "nope"))
        try:
            bad.raise_for_status()
            hs = None
        except hflow.HTTPError as e:
            hs = [e.code, e.response.status_code, str(e)]
        dg = hflow.get(u + "/digest-auth/auth/user/pw",
                       auth=hflow.HTTPDigestAuth("user", "pw"))
        out(ok=[ok.status_code, ok.json()], auth=ok.request.headers.get("authorization"),
            bad=[bad.status_code, bad.ok], hs=hs, dg=[dg.status_code, dg.json(),
                                                      len(dg.history)])
    """, t.httpbin.url(""))
    t.eq(j["ok"], [200, {"authenticated": True, "user": "user"}], "basic auth")
    t.eq(j["auth"], "Basic dXNlcjpwdw==", "Authorization as sent")
    t.eq(j["bad"], [401, False], "wrong password")
    t.require(j["hs"] is not None, "raise_for_status raised")
    t.eq(j["hs"][:2], [22, 401], "HTTPError code and response")
    t.contains(j["hs"][2], "401", "message")
    t.eq(j["dg"][:2], [200, {"authenticated": True, "user": "user"}], "digest auth")


@test()
def timeout_error(t):
    j = _py(t, """
        t0 = time.monotonic()
        try:
            hflow.get(sys.argv[1], timeout=0.5)
            e = None
        except hflow.Timeout as ex:
            e = [ex.code, ex.name, ex.message, isinstance(ex, hflow.HflowError),
                 ex.response is not None and ex.response.error]
        t1 = time.monotonic()
        try:
            hflow.get(sys.argv[1], max_time=0.4)
            m = None
        except hflow.HflowError as ex:
            m = [ex.code, ex.message]
        out(e=e, dt=t1 - t0, m=m, dt2=time.monotonic() - t1)
    """, t.httpbin.url("/delay/3"))
    t.require(j["e"] is not None, "timeout=0.5 raised Timeout")
    t.eq(j["e"][:2], [28, "TIMEOUT"], "code and name")
    t.check(j["e"][3] and j["e"][4] == 28, "an HflowError carrying the response")
    t.match(r"after \d", j["e"][2], "message with the time taken")
    t.check(0.4 < j["dt"] < 2.5, "gave up after about 0.5 s: %.2f" % j["dt"])
    t.require(j["m"] is not None, "max_time raised")
    t.eq(j["m"][0], 28, "max_time code")
    t.check(j["dt2"] < 2.5, "max_time=0.4 gave up early: %.2f" % j["dt2"])


@test()
def connection_refused_and_bad_url(t):
    port = closed_port()
    j = _py(t, """
        try:
            hflow.get(sys.argv[1])
            e = None
        except hflow.ConnectionError as ex:
            e = [ex.code, ex.name, ex.message, str(ex)]
        try:
            hflow.get("http://exa mple/")
            u = None
        except hflow.InvalidURL as ex:
            u = [ex.code, isinstance(ex, ValueError)]
        try:
            hflow.get("gopher://127.0.0.1/")
            g = None
        except hflow.HflowError as ex:
            g = ex.code
        out(e=e, u=u, g=g, E=hflow.E_CONNECT)
    """, "http://127.0.0.1:%d/" % port)
    t.require(j["e"] is not None, "ConnectionError raised")
    t.eq(j["e"][:2], [7, "CONNECT"], "code and name")
    t.match(r"refused", j["e"][2], "message names the cause")
    t.contains(j["e"][2], "127.0.0.1:%d" % port, "message names the peer")
    t.match(r"^\(7\) ", j["e"][3], "str() starts with the code")
    t.eq(j["u"], [3, True], "malformed URL: InvalidURL (3)")
    t.eq(j["g"], 1, "unsupported scheme (1)")
    t.eq(j["E"], 7, "hflow.E_CONNECT")


@test()
def trace_dicts_and_flow(t):
    hosts = t.write("hosts", b"127.0.0.1 pyhost.test\n")
    url = "http://pyhost.test:%d/1k.bin" % t.nginx.port
    j = _py(t, """
        with hflow.Session(hosts_file=sys.argv[2], record_events=True) as s:
            r1 = s.get(sys.argv[1])
            r2 = s.get(sys.argv[1])
            flow = r1.flow(width=100)
        events = s.events
        out(t1=r1.trace, t2=r2.trace, tm=r1.timings, body=len(r1.content),
            flow=flow, stat=r1.stat, reused=[r1.reused, r2.reused],
            conn=[r1.conn_id, r2.conn_id], all=[e["ev"] for e in events],
            view=hflow.view_flow(events))
    """, url, hosts)
    t1, t2 = j["t1"], j["t2"]
    names = _names(t1)
    for ev in ("queued", "dns_start", "dns_answer", "dns_end", "connect_start",
               "tcp_established", "request_head", "first_byte", "response_head",
               "response_body", "pooled", "done"):
        t.contains(names, ev, "event in the first trace")
    t.eq(names[0], "queued", "first event")
    t.eq(names[-1], "done", "last event")
    times = [e["t_ns"] for e in t1]
    t.check(times == sorted(times), "t_ns in order: %s" % times)
    tm = j["tm"]
    t.check(times[-1] <= tm["total"] * 1e9 + 1e6 and times[-1] < 5e9,
            "event times within the transfer: %s vs %s" % (times[-1], tm["total"]))
    by = {e["ev"]: e for e in t1}
    t.check(by["dns_end"]["t_ns"] <= tm["namelookup"] * 1e9 + 1e6,
            "dns_end by namelookup")
    t.eq(by["dns_end"]["value"], 1, "dns_end: one address")
    t.contains(by["dns_answer"]["detail"], "hosts", "answer from the hosts file")
    t.eq(by["dns_start"]["detail"], "pyhost.test", "dns_start names the host")
    t.eq(by["tcp_established"]["peer"], "127.0.0.1:%d" % t.nginx.port, "peer")
    t.check("tcp" in by["tcp_established"] and
            by["tcp_established"]["tcp"]["rtt_us"] >= 0, "TCP_INFO as a dict")
    t.eq(by["response_head"]["value"], 200, "response_head value")
    t.eq(by["response_body"]["value"], 1024, "response_body bytes")
    t.eq(by["queued"]["detail"], "GET " + url, "queued detail")
    n2 = _names(t2)
    t.contains(n2, "reused", "second request reuses the connection")
    t.check(not any(n.startswith("dns") or n.startswith("connect") for n in n2),
            "no DNS or connect on reuse: %s" % n2)
    t.eq(j["reused"], [False, True], "Response.reused")
    t.eq(j["conn"][0], j["conn"][1], "same conn_id")
    t.eq(j["body"], 1024, "body")
    t.contains(j["flow"], "SYN", "the flow view draws the handshake")
    t.contains(j["stat"], "DNS Lookup", "the stat view")
    t.check(j["all"][-1] == "closed" and "fin_sent" in j["all"],
            "record_events sees the teardown at close: %s" % j["all"][-4:])
    t.contains(j["view"], "TIME_WAIT", "view_flow of every event")


@test()
def stream_large_file_slow_consumer_backpressure(t):
    j = _py(t, """
        with hflow.Session() as s:
            # (below the kernel's receive window even when it does not grow
            # on loopback: the pauses must come from the binding)
            s.stream_buffer = 64 * 1024
            h = hashlib.sha256()
            n = 0
            with s.get(sys.argv[1], stream=True) as r:
                status = r.status_code
                clen = r.headers["content-length"]
                for chunk in r.iter_content(64 * 1024):
                    h.update(chunk)
                    n += len(chunk)
                    time.sleep(0.008)          # a slow consumer (40 MB/s at most)
            pauses, most = r.pauses, r.max_buffered
            # a stream closed early is cancelled; the session goes on
            r2 = s.get(sys.argv[1], stream=True)
            first = next(r2.iter_content(1000))
            r2.close()
            after = s.get(sys.argv[2])
        out(status=status, clen=clen, n=n, sha=h.hexdigest(), pauses=pauses,
            most=most, trace=[e["ev"] for e in r.trace], first=len(first),
            after=[after.status_code, after.text])
    """, t.nginx.url("/10m.bin"), t.nginx.url("/dir/hello.txt"), timeout=60)
    t.eq(j["status"], 200, "status")
    t.eq(j["clen"], str(10 << 20), "Content-Length before the body")
    t.eq(j["n"], 10 << 20, "bytes")
    t.eq(j["sha"], t.nginx.sha["10m.bin"], "sha256")
    t.check(j["pauses"] >= 5, "the transfer paused (%d times)" % j["pauses"])
    # at most the bound plus one delivery (the read buffer is 320 KiB)
    t.check(j["most"] <= 64 * 1024 + 400 * 1024,
            "back-pressure bounded the buffer: %d bytes" % j["most"])
    t.contains(j["trace"], "response_body", "the trace after the stream")
    t.eq(j["first"], 1000, "first chunk of an early-closed stream")
    t.eq(j["after"], [200, "hello from nginx\n"], "the session works after a cancel")


@test()
def map_50_urls_in_parallel(t):
    names = ["1k.bin", "dir/hello.txt", "0.bin", "index.html", "1k.bin"] * 10
    urls = [t.nginx.url("/" + n) for n in names]
    mark = t.nginx.log_mark()
    j = _py(t, """
        urls = json.loads(sys.argv[1])
        with hflow.Session() as s:
            t0 = time.monotonic()
            rs = s.map(urls, max_per_host=8)
            dt = time.monotonic() - t0
            conns = s.num_connects
            mixed = s.map([urls[0], hflow.Request("GET", sys.argv[2]),
                           hflow.Request("POST", sys.argv[3], json={"i": 1})],
                          return_exceptions=True)
        out(status=[r.status_code for r in rs],
            sha=[hashlib.sha256(r.content).hexdigest() for r in rs],
            urls=[r.url for r in rs], conns=conns, dt=dt,
            mixed=[type(m).__name__ for m in mixed],
            code=getattr(mixed[1], "code", None),
            posted=mixed[2].json()["json"] if hasattr(mixed[2], "json") else None)
    """, json.dumps(urls), "http://127.0.0.1:%d/" % closed_port(),
        t.httpbin.url("/post"))
    t.eq(j["status"], [200] * 50, "statuses")
    t.eq(j["sha"], [sha256(open(os.path.join(t.nginx.root, n), "rb").read())
                    for n in names], "bodies, in order")
    t.eq(j["urls"], urls, "responses in the order of the URLs")
    t.check(1 <= j["conns"] <= 8, "at most max_per_host connections: %d" % j["conns"])
    log = t.nginx.log_since(mark, 51)      # the 50, then the mixed map's one
    t.eq(len(log), 51, "requests nginx saw")
    t.check(len({e["conn"] for e in log[:50]}) <= 8,
            "nginx saw at most 8 connections for the 50")
    t.eq(j["mixed"], ["Response", "ConnectionError", "Response"],
         "return_exceptions keeps failures in place")
    t.eq(j["code"], 7, "the failure's code")
    t.eq(j["posted"], {"i": 1}, "a Request with a json body")


@test()
def download_to_file_and_body_from_file(t):
    src = t.write("up.bin", os.urandom(300000))
    j = _py(t, """
        dst = "got.bin"
        r = hflow.download(sys.argv[1], dst)
        with open(dst, "rb") as f:
            data = f.read()
        p = hflow.post(sys.argv[2], body_file=sys.argv[3],
                       headers={"Content-Type": "application/octet-stream"})
        out(status=r.status_code, content=len(r.content), n=len(data),
            sha=hashlib.sha256(data).hexdigest(), up=p.size_upload,
            clen=p.json()["headers"].get("Content-Length"))
    """, t.nginx.url("/1k.bin"), t.httpbin.url("/post"), src)
    t.eq(j["status"], 200, "status")
    t.eq(j["content"], 0, "no body in memory")
    t.eq((j["n"], j["sha"]), (1024, t.nginx.sha["1k.bin"]), "the file")
    t.eq(j["up"], 300000, "size_upload")
    t.eq(j["clen"], "300000", "Content-Length of a file body")


@test()
def stream_resumed_by_a_second_iterator_and_module_level(t):
    j = _py(t, """
        h = hashlib.sha256()
        with hflow.Session() as s:
            s.stream_buffer = 128 * 1024
            r = s.get(sys.argv[1], stream=True)
            n = 0
            for chunk in r.iter_content(100000):       # a partial read
                h.update(chunk)
                n += len(chunk)
                if n >= 1000000:
                    break
            for chunk in r.iter_content(None):         # then the rest
                h.update(chunk)
                n += len(chunk)
            lines = list(s.get(sys.argv[2], stream=True).iter_lines())
            try:
                s.map([sys.argv[3]])
                raised = None
            except hflow.ConnectionError as e:
                raised = e.code
            live = len(s._live)
        m = hflow.get(sys.argv[1], stream=True)
        owner_open = m._owner is not None
        total = sum(len(c) for c in m.iter_content(1 << 16))
        out(n=n, sha=h.hexdigest(), lines=[l.decode() for l in lines],
            raised=raised, live=live, owner_open=owner_open, total=total,
            owner_after=m._owner is None, mtrace=len(m.trace))
    """, t.nginx.url("/10m.bin"), t.nginx.url("/dir/hello.txt"),
        "http://127.0.0.1:%d/" % closed_port())
    t.eq((j["n"], j["sha"]), (10 << 20, t.nginx.sha["10m.bin"]),
         "a second iterator goes on where the first stopped")
    t.eq(j["lines"], ["hello from nginx"], "iter_lines")
    t.eq(j["raised"], 7, "map raises the failure")
    t.eq(j["live"], 0, "no transfer left in the session")
    t.eq(j["total"], 10 << 20, "hflow.get(stream=True)")
    t.check(j["owner_open"] and j["owner_after"],
            "the module-level stream's session lives until the end")
    t.check(j["mtrace"] > 5, "trace after the stream")
