/* test_tunnel.c -- the proxy tunnel layer (tunnel.h) and TLS over a layer
 * (tls.h tls_filter_new_over).
 *
 * Part 1 drives the layer over a socketpair: the layer's bottom is the real
 * socket layer (sock_filter_new) on one end, the test plays the proxy on the
 * other end, checks every byte the layer sent and writes the proxy's
 * answers -- at once, and one byte at a time with a handshake call after
 * each byte.
 *
 * Part 2 runs TLS through layers to a local `openssl s_server` on
 * 127.0.0.1 (certificates from tests/servers/mkcerts.sh): TLS through a
 * pass-through layer (the BIO over a filter), through a CONNECT tunnel to a
 * proxy played by a thread of this test, and TLS in TLS (the thread is an
 * https proxy: TLS to it, CONNECT inside, TLS to s_server inside that). */
#include "t.h"
#include "filter.h"
#include "hflow.h"
#include "loop.h"
#include "socks.h"
#include "tls.h"
#include "tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

filter *sock_filter_new(int fd);   /* conn.c (internal.h) */

/* ---- the socketpair and the test's end of it --------------------------- */

static int sp[2] = {-1, -1};

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static filter *pair_open(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) {
        perror("socketpair");
        exit(1);
    }
    nonblock(sp[0]);
    nonblock(sp[1]);
    filter *f = sock_filter_new(sp[0]);
    if (!f)
        exit(1);
    return f;
}

static void pair_close(void)
{
    close(sp[0]);
    close(sp[1]);
    sp[0] = sp[1] = -1;
}

/* Everything the layer sent so far (the test's end is non-blocking). */
static size_t sent(char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = recv(sp[1], buf + n, cap - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (n < cap)
        buf[n] = 0;
    return n;
}

static void put(const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t r = send(sp[1], c, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EAGAIN) {
            struct pollfd pf = { sp[1], POLLOUT, 0 };
            poll(&pf, 1, 1000);
            continue;
        }
        if (r <= 0) {
            perror("send");
            exit(1);
        }
        c += r;
        n -= (size_t)r;
    }
}

typedef struct res {
    int rc, done, want;
    char why[600];
} res;

static res hs(filter *f)
{
    res r;
    memset(&r, 0, sizeof r);
    r.rc = f->ops->handshake(f, &r.done, &r.want, r.why, sizeof r.why);
    return r;
}

/* Write the proxy's bytes, at once or one at a time, calling the handshake
 * after each write; stops early at done or an error. */
static res feed(filter *f, const void *p, size_t n, int bytewise)
{
    const char *c = p;
    res r = hs(f);
    size_t i = 0;
    while (i < n && !r.rc && !r.done) {
        size_t k = bytewise ? 1 : n - i;
        put(c + i, k);
        i += k;
        r = hs(f);
    }
    return r;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* Everything recv gives until it would block. */
static size_t recv_all(filter *f, char *buf, size_t cap)
{
    size_t n = 0;
    char why[200];
    while (n < cap) {
        size_t nr = 0;
        int want = 0;
        int rc = f->ops->recv(f, buf + n, cap - n, &nr, &want, why, sizeof why);
        if (rc || nr == 0)
            break;
        n += nr;
    }
    if (n < cap)
        buf[n] = 0;
    return n;
}

static const char *const PROXY = "127.0.0.1:3128";

static tunnel_cfg connect_cfg(void)
{
    tunnel_cfg c;
    memset(&c, 0, sizeof c);
    c.kind = TUNNEL_CONNECT;
    c.host = "example.com";
    c.port = 443;
    c.proxy = PROXY;
    return c;
}

static filter *mk(const tunnel_cfg *cfg, filter **lowerp)
{
    filter *low = pair_open(), *f = NULL;
    char why[300];
    int rc = tunnel_filter_new(low, cfg, &f, why, sizeof why);
    CHECK_MSG(rc == 0 && f, "tunnel_filter_new: %d %s", rc, why);
    if (lowerp)
        *lowerp = low;
    return f;
}

static void done_with(filter *f)
{
    if (f)
        f->ops->destroy(f);
    pair_close();
}

/* ---- CONNECT ------------------------------------------------------------- */

static const char REQ[] = "CONNECT example.com:443 HTTP/1.1\r\n"
                          "Host: example.com:443\r\n\r\n";

static void test_connect_200(int bytewise)
{
    tunnel_cfg cfg = connect_cfg();
    filter *f = mk(&cfg, NULL);
    res r = hs(f);
    CHECK(r.rc == 0 && !r.done && r.want == LOOP_READ);
    char buf[4096];
    sent(buf, sizeof buf);
    CHECK_STR(buf, REQ);
    /* a 2xx with a Content-Length: ignored (RFC 9110 9.3.6); the bytes
     * after the head are the tunnel's */
    const char ans[] = "HTTP/1.1 200 Connection established\r\n"
                       "Content-Length: 5\r\n\r\nHELLO, tunnel";
    size_t head = sizeof ans - 1 - strlen("HELLO, tunnel");
    r = feed(f, ans, bytewise ? head : sizeof ans - 1, bytewise);
    CHECK_MSG(r.rc == 0 && r.done, "rc %d done %d: %s", r.rc, r.done, r.why);
    if (bytewise)
        put(ans + head, sizeof ans - 1 - head);   /* after the handshake */
    else
        CHECK(f->ops->pending(f));
    const tunnel_info *ti = tunnel_filter_info(f);
    CHECK(ti && ti->status == 200);
    CHECK(ti && ti->heads_len == head && memcmp(ti->heads, ans, head) == 0);
    CHECK(ti && ti->bound[0] == 0);
    size_t n = recv_all(f, buf, sizeof buf);
    CHECK(n == 13 && memcmp(buf, "HELLO, tunnel", 13) == 0);
    CHECK(!f->ops->pending(f));
    /* then both ways straight through */
    put("more", 4);
    n = recv_all(f, buf, sizeof buf);
    CHECK(n == 4 && memcmp(buf, "more", 4) == 0);
    size_t nw = 0;
    int want = 0;
    CHECK(f->ops->send(f, "ping", 4, &nw, &want, buf, sizeof buf) == 0 && nw == 4);
    CHECK(sent(buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    r = hs(f);                                     /* done stays done */
    CHECK(r.rc == 0 && r.done);
    done_with(f);
}

static void test_connect_headers(void)
{
    /* credentials (Basic at once), User-Agent, --proxy-header lines, an
     * IPv6 origin */
    tunnel_cfg cfg = connect_cfg();
    const char *hdrs[] = { "X-Proxy-Only: yes", "User-Agent:" };
    cfg.host = "::1";
    cfg.port = 8443;
    cfg.user = "user";
    cfg.password = "pass word";
    cfg.user_agent = "hflow/test";
    cfg.headers = hdrs;
    cfg.nheaders = 2;
    filter *f = mk(&cfg, NULL);
    res r = hs(f);
    CHECK(r.rc == 0 && !r.done);
    char buf[4096];
    sent(buf, sizeof buf);
    /* base64("user:pass word") */
    CHECK_STR(buf, "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
                   "Proxy-Authorization: Basic dXNlcjpwYXNzIHdvcmQ=\r\n"
                   "X-Proxy-Only: yes\r\n\r\n");
    /* 1xx heads are skipped; the reason phrase may be empty */
    const char ans[] = "HTTP/1.1 100 Continue\r\n\r\n"
                       "HTTP/1.1 102 \r\nX: y\r\n\r\n"
                       "HTTP/1.0 200\r\n\r\n";
    r = feed(f, ans, sizeof ans - 1, 1);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    const tunnel_info *ti = tunnel_filter_info(f);
    CHECK(ti->status == 200 && ti->heads_len == sizeof ans - 1);
    CHECK(!f->ops->pending(f));
    done_with(f);

    /* a header line with CR LF: refused before anything is sent, and the
     * lower layer is still the caller's */
    const char *bad[] = { "X-A: 1\r\nX-Injected: 1" };
    cfg = connect_cfg();
    cfg.headers = bad;
    cfg.nheaders = 1;
    filter *low = pair_open(), *nf = (filter *)1;
    char why[300];
    int rc = tunnel_filter_new(low, &cfg, &nf, why, sizeof why);
    CHECK_MSG(rc == HF_E_BAD_ARG && nf == NULL, "%d %s", rc, why);
    CHECK(contains(why, PROXY));
    CHECK(sent(buf, sizeof buf) == 0);
    low->ops->destroy(low);
    pair_close();

    /* Basic cannot carry a user name with ':' (RFC 7617 2) */
    cfg = connect_cfg();
    cfg.user = "a:b";
    low = pair_open();
    rc = tunnel_filter_new(low, &cfg, &nf, why, sizeof why);
    CHECK_MSG(rc == HF_E_BAD_ARG && contains(why, "':'"), "%d %s", rc, why);
    low->ops->destroy(low);
    pair_close();
}

static void test_connect_fail(int bytewise)
{
    /* 403 with a body: the error names the proxy and the status */
    tunnel_cfg cfg = connect_cfg();
    filter *f = mk(&cfg, NULL);
    char buf[4096];
    res r = hs(f);
    sent(buf, sizeof buf);
    const char a403[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n"
                        "Content-Type: text/plain\r\n\r\nforbidden";
    r = feed(f, a403, sizeof a403 - 1, bytewise);
    CHECK_MSG(r.rc == HF_E_RECV, "%d %s", r.rc, r.why);
    CHECK_STR(r.why, "CONNECT tunnel failed: proxy 127.0.0.1:3128 answered "
                     "403 Forbidden to CONNECT example.com:443");
    CHECK(tunnel_filter_info(f)->status == 403);
    res r2 = hs(f);                                  /* sticky */
    CHECK(r2.rc == HF_E_RECV && strcmp(r2.why, r.why) == 0);
    char why[100];
    size_t nr = 1;
    int want = 1;
    CHECK(f->ops->recv(f, buf, sizeof buf, &nr, &want, why, sizeof why) ==
          HF_E_RECV && nr == 0);
    CHECK(!f->ops->pending(f));
    done_with(f);

    /* 502 and a reason with control bytes (shown as '?') */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    const char a502[] = "HTTP/1.1 502 Bad\tGateway\xe9\r\n\r\n";
    r = feed(f, a502, sizeof a502 - 1, bytewise);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "answered 502 Bad?Gateway?"),
              "%s", r.why);
    done_with(f);

    /* closed before any answer, in the middle of the head, after a 1xx */
    static const char mid[] = "closed the connection in the middle of its "
                              "answer to CONNECT example.com:443 (after 23 bytes)";
    const char *partial[] = { "", "HTTP/1.1 200 OK\r\nVia: x",
                              "HTTP/1.1 100 Continue\r\n\r\n" };
    const char *expect[] = { "closed the connection before its answer", mid,
                             "closed the connection before its final answer" };
    for (int i = 0; i < 3; i++) {
        f = mk(&cfg, NULL);
        hs(f);
        sent(buf, sizeof buf);
        r = feed(f, partial[i], strlen(partial[i]), bytewise);
        CHECK(r.rc == 0 && !r.done);
        shutdown(sp[1], SHUT_WR);
        r = hs(f);
        CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, expect[i]) &&
                  contains(r.why, "proxy 127.0.0.1:3128"), "%d: %s", i, r.why);
        done_with(f);
    }

    /* not HTTP at all (a SOCKS5 proxy's answer): refused at once, before
     * any line end */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    r = feed(f, "\x05\xff", 2, bytewise);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "malformed status line"),
              "%s", r.why);
    done_with(f);

    /* a malformed header field */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    const char bad[] = "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n";
    r = feed(f, bad, sizeof bad - 1, bytewise);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "malformed header"),
              "%s", r.why);
    done_with(f);
}

/* Heads over max_head: one big head, or 1xx heads adding up. */
static void test_connect_oversized(void)
{
    char buf[4096];
    tunnel_cfg cfg = connect_cfg();
    cfg.max_head = 1024;
    filter *f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    char big[2048];
    int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nX-Pad: ");
    memset(big + n, 'a', sizeof big - (size_t)n);
    res r = feed(f, big, sizeof big, 0);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "head over 1024 bytes"),
              "%s", r.why);
    done_with(f);

    /* 1xx heads of 600 bytes: the second passes the limit in all */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    char h1[601];
    n = snprintf(h1, sizeof h1, "HTTP/1.1 100 Continue\r\nX-Pad: ");
    memset(h1 + n, 'b', 600 - (size_t)n - 4);
    memcpy(h1 + 596, "\r\n\r\n", 4);
    r = feed(f, h1, 600, 1);
    CHECK(r.rc == 0 && !r.done);
    r = feed(f, h1, 600, 0);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "head over 1024 bytes"),
              "%s", r.why);
    done_with(f);

    /* the default limit (H1_MAX_HEAD, 300 KiB), one header line after the
     * other, the layer reading as they come */
    cfg.max_head = 0;
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    r = feed(f, "HTTP/1.1 200 OK\r\n", 17, 0);
    char line[1002];
    memset(line, 'c', sizeof line);
    memcpy(line, "X-C: ", 5);
    memcpy(line + 1000, "\r\n", 2);
    int lines = 0;
    while (!r.rc && !r.done && lines < 1000) {
        r = feed(f, line, sizeof line, 0);
        lines++;
    }
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "head over 307200 bytes") &&
              lines > 290 && lines < 320, "%d lines: %s", lines, r.why);
    done_with(f);
}

/* ---- 407 ----------------------------------------------------------------- */

static void md5_hex(const char *s, char out[33])
{
    unsigned char md[16];
    EVP_Digest(s, strlen(s), md, NULL, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The value of name="..." in a Digest header line. */
static int param(const char *line, const char *name, char *out, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, " %s=", name);
    const char *p = strstr(line, key);
    if (!p) {
        snprintf(key, sizeof key, ",%s=", name);
        p = strstr(line, key);
    }
    if (!p)
        return -1;
    p += strlen(key);
    int q = *p == '"';
    p += q;
    size_t k = q ? strcspn(p, "\"") : strcspn(p, ",\r");
    if (k >= n)
        return -1;
    memcpy(out, p, k);
    out[k] = 0;
    return 0;
}

static void test_407_digest(int bytewise, int chunked, unsigned auth)
{
    tunnel_cfg cfg = connect_cfg();
    cfg.user = "Mufasa";
    cfg.password = "Circle of Life";
    cfg.auth = auth;
    filter *f = mk(&cfg, NULL);
    char buf[4096], exp[600];
    res r = hs(f);
    sent(buf, sizeof buf);
    if (auth & HF_AUTH_BASIC)
        CHECK(contains(buf, "Proxy-Authorization: Basic "));
    else
        CHECK_STR(buf, REQ);
    const char *body = chunked
        ? "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        : "Content-Length: 5\r\n\r\nhello";
    snprintf(exp, sizeof exp, "HTTP/1.1 407 Proxy Authentication Required\r\n"
             "Proxy-Authenticate: Basic realm=\"r\"\r\n"
             "Proxy-Authenticate: Digest realm=\"proxy@test\", "
             "nonce=\"dcd98b7102dd2f0e\", qop=\"auth\", opaque=\"5ccc\"\r\n%s",
             body);
    size_t first = strlen(exp);
    r = feed(f, exp, first, bytewise);
    CHECK_MSG(r.rc == 0 && !r.done && r.want == LOOP_READ, "%d %s", r.rc, r.why);
    size_t n = sent(buf, sizeof buf);
    CHECK(n > 0 && strncmp(buf, "CONNECT example.com:443 HTTP/1.1\r\n", 34) == 0);
    char *pa = strstr(buf, "Proxy-Authorization: Digest ");
    CHECK(pa != NULL);
    if (pa) {
        /* the answer is right: RFC 7616 3.4.1 with qop=auth, the method
         * CONNECT and the authority-form as the URI */
        char user[64], realm[64], nonce[64], uri[64], cnonce[64], nc[16],
             resp[64], opaque[16], ha1[33], ha2[33], want[33], s[400];
        CHECK(param(pa, "username", user, sizeof user) == 0 &&
              param(pa, "realm", realm, sizeof realm) == 0 &&
              param(pa, "nonce", nonce, sizeof nonce) == 0 &&
              param(pa, "uri", uri, sizeof uri) == 0 &&
              param(pa, "cnonce", cnonce, sizeof cnonce) == 0 &&
              param(pa, "nc", nc, sizeof nc) == 0 &&
              param(pa, "response", resp, sizeof resp) == 0 &&
              param(pa, "opaque", opaque, sizeof opaque) == 0);
        CHECK_STR(user, "Mufasa");
        CHECK_STR(uri, "example.com:443");
        CHECK_STR(nc, "00000001");
        CHECK_STR(opaque, "5ccc");
        snprintf(s, sizeof s, "Mufasa:%s:Circle of Life", realm);
        md5_hex(s, ha1);
        md5_hex("CONNECT:example.com:443", ha2);
        snprintf(s, sizeof s, "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
        md5_hex(s, want);
        CHECK_STR(resp, want);
    }
    const char ok[] = "HTTP/1.1 200 OK\r\n\r\n";
    r = feed(f, ok, sizeof ok - 1, bytewise);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    const tunnel_info *ti = tunnel_filter_info(f);
    CHECK(ti->status == 200 && ti->heads_len > 19 &&
          strncmp(ti->heads, "HTTP/1.1 407", 12) == 0 &&
          contains(ti->heads, "HTTP/1.1 200 OK\r\n\r\n"));
    CHECK(!contains(ti->heads, "hello"));           /* the body is not a head */
    done_with(f);
}

static void test_407_other(void)
{
    char buf[4096];
    const char a407[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                        "Proxy-Authenticate: Basic realm=\"r\"\r\n"
                        "Content-Length: 0\r\n\r\n";
    /* Basic went with the first CONNECT: a 407 is the error, no retry */
    tunnel_cfg cfg = connect_cfg();
    cfg.user = "u";
    cfg.password = "wrong";
    filter *f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    res r = feed(f, a407, sizeof a407 - 1, 0);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "answered 407 Proxy "
              "Authentication Required to CONNECT example.com:443"), "%s", r.why);
    CHECK(sent(buf, sizeof buf) == 0);
    done_with(f);

    /* no credentials */
    cfg = connect_cfg();
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    r = feed(f, a407, sizeof a407 - 1, 0);
    CHECK(r.rc == HF_E_RECV && contains(r.why, "407"));
    CHECK(sent(buf, sizeof buf) == 0);
    done_with(f);

    /* Digest allowed, only Basic offered: no retry */
    cfg.user = "u";
    cfg.auth = HF_AUTH_DIGEST;
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    CHECK(!contains(buf, "Proxy-Authorization"));
    r = feed(f, a407, sizeof a407 - 1, 0);
    CHECK(r.rc == HF_E_RECV && contains(r.why, "407"));
    CHECK(sent(buf, sizeof buf) == 0);
    done_with(f);

    /* the proxy closes after the 407: no retry on this connection */
    const char *closing[] = {
        "HTTP/1.1 407 No\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        "Connection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 407 No\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        "Content-Length: 0\r\n\r\n",
        "HTTP/1.1 407 No\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        "Proxy-Connection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 407 No\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof closing / sizeof closing[0]; i++) {
        f = mk(&cfg, NULL);
        hs(f);
        sent(buf, sizeof buf);
        r = feed(f, closing[i], strlen(closing[i]), 0);
        CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "answered 407 No"),
                  "%zu: %d %s", i, r.rc, r.why);
        CHECK(sent(buf, sizeof buf) == 0);
        done_with(f);
    }

    /* a second 407 (the Digest answer was refused): the error */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    const char d407[] = "HTTP/1.1 407 No\r\nProxy-Authenticate: Digest "
                        "realm=\"r\", nonce=\"n\"\r\nContent-Length: 2\r\n\r\nno";
    r = feed(f, d407, sizeof d407 - 1, 0);
    CHECK(r.rc == 0 && !r.done);
    CHECK(contains((sent(buf, sizeof buf), buf), "Proxy-Authorization: Digest "));
    r = feed(f, d407, sizeof d407 - 1, 0);
    CHECK(r.rc == HF_E_RECV && contains(r.why, "answered 407 No"));
    CHECK(sent(buf, sizeof buf) == 0);
    done_with(f);

    /* the proxy closes while the 407's body is read */
    f = mk(&cfg, NULL);
    hs(f);
    sent(buf, sizeof buf);
    const char cut[] = "HTTP/1.1 407 No\r\nProxy-Authenticate: Digest "
                       "realm=\"r\", nonce=\"n\"\r\nContent-Length: 20\r\n\r\nabc";
    r = feed(f, cut, sizeof cut - 1, 0);
    CHECK(r.rc == 0 && !r.done);
    shutdown(sp[1], SHUT_WR);
    r = hs(f);
    CHECK(r.rc == HF_E_RECV && contains(r.why, "answered 407 No"));
    done_with(f);
}

/* ---- SOCKS --------------------------------------------------------------- */

typedef struct step {
    const char *expect;   /* what the layer sends */
    size_t elen;
    const char *answer;   /* what the proxy answers */
    size_t alen;
} step;

/* Run the steps; returns the last result. */
static res socks_run(filter *f, const step *st, size_t n, int bytewise)
{
    res r;
    memset(&r, 0, sizeof r);
    char buf[1024];
    for (size_t i = 0; i < n; i++) {
        r = hs(f);
        if (r.rc || r.done)
            return r;
        size_t got = sent(buf, sizeof buf);
        CHECK_MSG(got == st[i].elen && memcmp(buf, st[i].expect, got) == 0,
                  "step %zu: sent %zu bytes, want %zu", i, got, st[i].elen);
        r = feed(f, st[i].answer, st[i].alen, bytewise);
        if (r.rc || r.done)
            return r;
    }
    return r;
}

#define S(lit) lit, sizeof lit - 1

static void test_socks5(int bytewise)
{
    char buf[64];
    /* socks5h, no credentials, a name; the bytes after the reply stay */
    tunnel_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = TUNNEL_SOCKS5H;
    cfg.host = "example.com";
    cfg.port = 443;
    cfg.proxy = "127.0.0.1:1080";
    filter *f = mk(&cfg, NULL);
    step noauth[] = {
        { S("\x05\x01\x00"), S("\x05\x00") },
        { S("\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb"),
          S("\x05\x00\x00\x01\x0a\x00\x00\x01\x04\xd2" "XY") },
    };
    res r = socks_run(f, noauth, 2, bytewise);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    const tunnel_info *ti = tunnel_filter_info(f);
    CHECK(ti->status == 0 && ti->heads == NULL);
    CHECK_STR(ti->bound, "10.0.0.1:1234");
    if (!bytewise) {
        CHECK(f->ops->pending(f));
        CHECK(recv_all(f, buf, sizeof buf) == 2 && memcmp(buf, "XY", 2) == 0);
    } else {
        CHECK(!f->ops->pending(f));      /* "XY" was never written */
    }
    done_with(f);

    /* socks5 with user and password (RFC 1929), an IPv6 address, a bound
     * name in the reply */
    cfg.kind = TUNNEL_SOCKS5;
    cfg.host = "[2001:db8::1]";
    cfg.port = 80;
    cfg.user = "alice";
    cfg.password = "s3cret";
    f = mk(&cfg, NULL);
    step auth[] = {
        { S("\x05\x02\x00\x02"), S("\x05\x02") },
        { S("\x01\x05" "alice" "\x06" "s3cret"), S("\x01\x00") },
        { S("\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50"),
          S("\x05\x00\x00\x03\x04" "prox" "\x00\x50") },
    };
    r = socks_run(f, auth, 3, bytewise);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    CHECK_STR(tunnel_filter_info(f)->bound, "prox:80");
    done_with(f);

    /* the credentials rejected */
    f = mk(&cfg, NULL);
    step rej[] = {
        { S("\x05\x02\x00\x02"), S("\x05\x02") },
        { S("\x01\x05" "alice" "\x06" "s3cret"), S("\x01\x01") },
    };
    r = socks_run(f, rej, 2, bytewise);
    CHECK_MSG(r.rc == HF_E_PROXY &&
              contains(r.why, "proxy 127.0.0.1:1080: SOCKS5 proxy rejected the "
                       "user name and password"), "%s", r.why);
    res r2 = hs(f);
    CHECK(r2.rc == HF_E_PROXY && strcmp(r2.why, r.why) == 0);
    done_with(f);

    /* no acceptable method */
    f = mk(&cfg, NULL);
    step none[] = { { S("\x05\x02\x00\x02"), S("\x05\xff") } };
    r = socks_run(f, none, 1, bytewise);
    CHECK_MSG(r.rc == HF_E_PROXY && contains(r.why, "accepts none"), "%s", r.why);
    done_with(f);

    /* every failure code of the connect reply (RFC 1928 6) */
    cfg.user = NULL;
    cfg.password = NULL;
    cfg.host = "192.0.2.7";
    for (int rep = 1; rep <= 9; rep++) {
        f = mk(&cfg, NULL);
        char ans[10] = { 5, (char)rep, 0, 1, 0, 0, 0, 0, 0, 0 };
        step st[] = {
            { S("\x05\x01\x00"), S("\x05\x00") },
            { S("\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x50"), ans, 10 },
        };
        r = socks_run(f, st, 2, bytewise);
        char want[160];
        snprintf(want, sizeof want, "proxy 127.0.0.1:1080: SOCKS5 connect to "
                 "192.0.2.7:80 failed: %s (reply %d)", socks_reply_text(rep, 0),
                 rep);
        CHECK_MSG(r.rc == HF_E_PROXY && strcmp(r.why, want) == 0, "%d: %s",
                  rep, r.why);
        done_with(f);
    }

    /* closed in the middle of the reply */
    f = mk(&cfg, NULL);
    step cut[] = {
        { S("\x05\x01\x00"), S("\x05\x00") },
        { S("\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x50"), S("\x05\x00\x00") },
    };
    r = socks_run(f, cut, 2, bytewise);
    CHECK(r.rc == 0 && !r.done);
    shutdown(sp[1], SHUT_WR);
    r = hs(f);
    CHECK_MSG(r.rc == HF_E_PROXY && contains(r.why, "proxy 127.0.0.1:1080: ") &&
              contains(r.why, "closed the connection"), "%s", r.why);
    done_with(f);

    /* not a SOCKS5 proxy (an HTTP answer) */
    f = mk(&cfg, NULL);
    step http[] = { { S("\x05\x01\x00"), S("HTTP/1.1 400 Bad\r\n\r\n") } };
    r = socks_run(f, http, 1, bytewise);
    CHECK_MSG(r.rc == HF_E_PROXY && contains(r.why, "version 72"), "%s", r.why);
    done_with(f);
}

static void test_socks4(int bytewise)
{
    tunnel_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = TUNNEL_SOCKS4A;
    cfg.host = "example.com";
    cfg.port = 80;
    cfg.user = "bob";
    cfg.proxy = "[::1]:1080";
    filter *f = mk(&cfg, NULL);
    step ok[] = {
        { S("\x04\x01\x00\x50\x00\x00\x00\x01" "bob\0" "example.com\0"),
          S("\x00\x5a\x00\x00\x00\x00\x00\x00" "Z") },
    };
    res r = socks_run(f, ok, 1, bytewise);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    char buf[16];
    if (!bytewise)
        CHECK(recv_all(f, buf, sizeof buf) == 1 && buf[0] == 'Z');
    done_with(f);

    /* SOCKS4 with an address, refused (CD 91) */
    cfg.kind = TUNNEL_SOCKS4;
    cfg.host = "192.0.2.1";
    cfg.user = NULL;
    f = mk(&cfg, NULL);
    step no[] = {
        { S("\x04\x01\x00\x50\xc0\x00\x02\x01\0"), S("\x00\x5b\0\0\0\0\0\0") },
    };
    r = socks_run(f, no, 1, bytewise);
    CHECK_MSG(r.rc == HF_E_PROXY && contains(r.why, "proxy [::1]:1080: SOCKS4 "
              "connect to 192.0.2.1:80 failed"), "%s", r.why);
    done_with(f);
}

/* What SOCKS cannot carry is refused in tunnel_filter_new: nothing sent,
 * nothing copied, the lower layer still the caller's. */
static void test_socks_refused_early(void)
{
    char name[70000];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = 0;
    char buf[64];
    const size_t lens[] = { 256, 300, sizeof name - 1 };
    const int kinds[] = { TUNNEL_SOCKS5H, TUNNEL_SOCKS4A };
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < 3; i++) {
            char save = name[lens[i]];
            name[lens[i]] = 0;
            tunnel_cfg cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.kind = kinds[k];
            cfg.host = name;
            cfg.port = 443;
            cfg.proxy = "127.0.0.1:1080";
            filter *low = pair_open(), *f = (filter *)1;
            char why[400];
            int rc = tunnel_filter_new(low, &cfg, &f, why, sizeof why);
            char want[100];
            snprintf(want, sizeof want, "host name is %zu bytes long", lens[i]);
            CHECK_MSG(rc == HF_E_PROXY && f == NULL && contains(why, want) &&
                      contains(why, "127.0.0.1:1080"), "%d %s", rc, why);
            CHECK(sent(buf, sizeof buf) == 0);
            low->ops->destroy(low);
            pair_close();
            name[lens[i]] = save;
        }
    /* user and password over 255 bytes */
    char longs[300];
    memset(longs, 'u', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    for (int which = 0; which < 2; which++) {
        tunnel_cfg cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.kind = TUNNEL_SOCKS5H;
        cfg.host = "example.com";
        cfg.port = 443;
        cfg.proxy = "127.0.0.1:1080";
        cfg.user = which ? "u" : longs;
        cfg.password = which ? longs : "p";
        filter *low = pair_open(), *f = NULL;
        char why[400];
        int rc = tunnel_filter_new(low, &cfg, &f, why, sizeof why);
        CHECK_MSG(rc == HF_E_PROXY && f == NULL &&
                  contains(why, which ? "password is 299" : "user name is 299"),
                  "%s", why);
        CHECK(sent(buf, sizeof buf) == 0);
        low->ops->destroy(low);
        pair_close();
    }
    /* a name where SOCKS5 (local resolution) needs an address */
    tunnel_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = TUNNEL_SOCKS5;
    cfg.host = "example.com";
    cfg.port = 443;
    cfg.proxy = "p:1";
    filter *low = pair_open(), *f = NULL;
    char why[400];
    CHECK(tunnel_filter_new(low, &cfg, &f, why, sizeof why) == HF_E_PROXY &&
          contains(why, "needs an address"));
    low->ops->destroy(low);
    pair_close();
}

/* The layer waits for its lower layer: a send that would block. */
static void test_send_blocks(void)
{
    /* a CONNECT head bigger than the socket buffer: the layer must stop
     * with LOOP_WRITE and go on later */
    static char pad[600000];
    memset(pad, 'p', sizeof pad - 1);
    memcpy(pad, "X-Pad: ", 7);
    const char *hdrs[] = { pad };
    tunnel_cfg cfg = connect_cfg();
    cfg.headers = hdrs;
    cfg.nheaders = 1;
    filter *f = mk(&cfg, NULL);
    res r = hs(f);
    CHECK(r.rc == 0 && !r.done && r.want == LOOP_WRITE);
    static char got[700000];
    size_t n = 0;
    for (int i = 0; i < 1000 && r.want == LOOP_WRITE; i++) {
        n += sent(got + n, sizeof got - n);
        r = hs(f);
    }
    n += sent(got + n, sizeof got - n);
    CHECK(r.rc == 0 && r.want == LOOP_READ);
    CHECK(n == strlen(REQ) - 2 + sizeof pad - 1 + 2 + 2);
    r = feed(f, "HTTP/1.1 200 OK\r\n\r\n", 19, 0);
    CHECK(r.rc == 0 && r.done);
    done_with(f);
}

/* ---- part 2: TLS through layers ------------------------------------------ */

static char certdir[256];

static int make_certs(void)
{
    char tmpl[] = "/tmp/hflow-test-tunnel.XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    snprintf(certdir, sizeof certdir, "%s/certs", tmpl);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sh tests/servers/mkcerts.sh %s >/dev/null 2>&1",
             certdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void remove_certs(void)
{
    if (!certdir[0])
        return;
    char cmd[600];
    /* certdir is DIR/certs, DIR made by mkdtemp above */
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(certdir) - 6), certdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", certdir);
}

static pid_t server_pid = -1;

/* `openssl s_server -www` on 127.0.0.1, an ephemeral port; its port, or -1 */
static int start_s_server(void)
{
    char out[300], crt[300], key[300];
    snprintf(out, sizeof out, "%s/s_server.out", certdir);
    snprintf(crt, sizeof crt, "%s/valid.crt", certdir);
    snprintf(key, sizeof key, "%s/valid.key", certdir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0",
               "-cert", crt, "-key", key, "-www", (char *)NULL);
        _exit(127);
    }
    server_pid = pid;
    for (int i = 0; i < 500; i++) {          /* at most 5 s */
        FILE *fp = fopen(out, "r");
        char line[200];
        while (fp && fgets(line, sizeof line, fp)) {
            int port = 0;
            if (sscanf(line, "ACCEPT 127.0.0.1:%d", &port) == 1 && port > 0) {
                fclose(fp);
                return port;
            }
        }
        if (fp)
            fclose(fp);
        usleep(10000);
    }
    return -1;
}

static void stop_s_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void wait_for(int fd, int want)
{
    struct pollfd pf = { fd, 0, 0 };
    if (want & LOOP_READ)
        pf.events |= POLLIN;
    if (want & LOOP_WRITE)
        pf.events |= POLLOUT;
    poll(&pf, 1, 1000);
}

/* Drive f's handshake to its end (at most 10 s). */
static res drive(filter *f)
{
    res r;
    time_t end = time(NULL) + 10;
    for (;;) {
        r = hs(f);
        if (r.rc || r.done)
            return r;
        if (time(NULL) > end) {
            r.rc = -1;
            snprintf(r.why, sizeof r.why, "timed out");
            return r;
        }
        wait_for(f->fd, r.want);
    }
}

/* GET / over f; the whole answer (s_server closes after it) in buf. */
static size_t get(filter *f, char *buf, size_t cap)
{
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    size_t off = 0, n = 0;
    char why[300];
    time_t end = time(NULL) + 10;
    while (off < sizeof req - 1 && time(NULL) <= end) {
        size_t nw = 0;
        int want = 0;
        if (f->ops->send(f, req + off, sizeof req - 1 - off, &nw, &want, why,
                         sizeof why)) {
            fprintf(stderr, "send: %s\n", why);
            return 0;
        }
        off += nw;
        if (!nw)
            wait_for(f->fd, want);
    }
    while (n + 1 < cap && time(NULL) <= end) {
        size_t nr = 0;
        int want = 0;
        int rc = f->ops->recv(f, buf + n, cap - 1 - n, &nr, &want, why, sizeof why);
        if (rc) {
            fprintf(stderr, "recv: %s\n", why);
            break;
        }
        n += nr;
        if (nr == 0 && !want)
            break;                            /* the end */
        if (nr == 0 && !f->ops->pending(f))
            wait_for(f->fd, want);
    }
    buf[n] = 0;
    return n;
}

/* A layer that only passes bytes on (and counts), so TLS over it must use
 * the filter BIO, not the socket. */
typedef struct pass {
    filter *lower;
    int nsend, nrecv, npending, nshut, *destroyed;
} pass;

static int pass_hs(filter *f, int *done, int *want, char *why, size_t wn)
{
    pass *p = f->ctx;
    return p->lower->ops->handshake(p->lower, done, want, why, wn);
}
static int pass_send(filter *f, const void *b, size_t n, size_t *nw, int *want,
                     char *why, size_t wn)
{
    pass *p = f->ctx;
    p->nsend++;
    return p->lower->ops->send(p->lower, b, n, nw, want, why, wn);
}
static int pass_recv(filter *f, void *b, size_t n, size_t *nr, int *want,
                     char *why, size_t wn)
{
    pass *p = f->ctx;
    p->nrecv++;
    return p->lower->ops->recv(p->lower, b, n, nr, want, why, wn);
}
static int pass_pending(const filter *f)
{
    pass *p = f->ctx;
    p->npending++;
    return p->lower->ops->pending(p->lower);
}
static void pass_shutdown(filter *f)
{
    pass *p = f->ctx;
    p->nshut++;
    p->lower->ops->shutdown(p->lower);
}
static void pass_destroy(filter *f)
{
    pass *p = f->ctx;
    p->lower->ops->destroy(p->lower);
    if (p->destroyed)
        (*p->destroyed)++;
    free(p);
    free(f);
}
static const filter_ops pass_ops = {
    "pass", pass_hs, pass_send, pass_recv, pass_pending, pass_shutdown,
    pass_destroy,
};

static filter *pass_new(filter *lower, pass **pp, int *destroyed)
{
    filter *f = calloc(1, sizeof *f);
    pass *p = calloc(1, sizeof *p);
    if (!f || !p)
        exit(1);
    p->lower = lower;
    p->destroyed = destroyed;
    f->ops = &pass_ops;
    f->fd = lower->fd;
    f->ctx = p;
    *pp = p;
    return f;
}

static tls_config client_cfg(char *ca, size_t n)
{
    tls_config c;
    memset(&c, 0, sizeof c);
    snprintf(ca, n, "%s/ca.crt", certdir);
    c.cafile = ca;
    c.alpn = "http/1.1";
    return c;
}

static void test_tls_over_pass(tls_client *tc, int port)
{
    char ca[300], buf[65536], why[300];
    tls_config cfg = client_cfg(ca, sizeof ca);
    int fd = tcp_connect(port);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    nonblock(fd);
    pass *p;
    int destroyed = 0;
    filter *pf = pass_new(sock_filter_new(fd), &p, &destroyed), *f = NULL;
    int rc = tls_filter_new_over(tc, &cfg, pf, "localhost", port, &f, why,
                                 sizeof why);
    CHECK_MSG(rc == 0 && f, "%d %s", rc, why);
    if (rc) {
        pf->ops->destroy(pf);
        close(fd);
        return;
    }
    CHECK(f->fd == fd);
    res r = drive(f);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    CHECK(p->nsend > 0 && p->nrecv > 0);     /* through the layer */
    const tls_info *ti = tls_filter_info(f);
    CHECK(ti && strncmp(ti->version, "TLSv1.", 6) == 0 && ti->verify_result == 0);
    size_t n = get(f, buf, sizeof buf);
    CHECK_MSG(n > 20 && strncmp(buf, "HTTP/1.0 200 ok", 15) == 0, "got %zu: %.40s",
              n, buf);
    f->ops->shutdown(f);
    CHECK(p->nshut == 1);                    /* passed down */
    f->ops->destroy(f);
    CHECK(destroyed == 1);                   /* the layers below went too */
    close(fd);

    /* the fast path: straight over the socket layer */
    fd = tcp_connect(port);
    nonblock(fd);
    rc = tls_filter_new_over(tc, &cfg, sock_filter_new(fd), "127.0.0.1", port,
                             &f, why, sizeof why);
    CHECK(rc == 0);
    r = drive(f);
    CHECK_MSG(r.rc == 0 && r.done, "%d %s", r.rc, r.why);
    n = get(f, buf, sizeof buf);
    CHECK(n > 20 && strncmp(buf, "HTTP/1.0 200 ok", 15) == 0);
    f->ops->destroy(f);
    close(fd);

    /* verification through the layer: a name the certificate lacks */
    fd = tcp_connect(port);
    nonblock(fd);
    destroyed = 0;
    pf = pass_new(sock_filter_new(fd), &p, &destroyed);
    rc = tls_filter_new_over(tc, &cfg, pf, "other.test", port, &f, why, sizeof why);
    CHECK(rc == 0);
    r = drive(f);
    CHECK_MSG(r.rc == HF_E_PEER_CERT, "%d %s", r.rc, r.why);
    f->ops->destroy(f);
    CHECK(destroyed == 1);
    close(fd);

    /* a failed tls_filter_new_over leaves the lower layer to the caller */
    tls_config badcfg = cfg;
    char missing[320];
    snprintf(missing, sizeof missing, "%s/missing.crt", certdir);
    badcfg.cafile = missing;
    destroyed = 0;
    pf = pass_new(sock_filter_new(-1), &p, &destroyed);
    pf->fd = 0;
    f = (filter *)1;
    rc = tls_filter_new_over(tc, &badcfg, pf, "localhost", port, &f, why, sizeof why);
    CHECK_MSG(rc == HF_E_SSL_CACERT_BADFILE && f == NULL && destroyed == 0,
              "%d %s", rc, why);
    pf->ops->destroy(pf);
    CHECK(destroyed == 1);
}

/* ---- a proxy played by a thread ---------------------------------------- */

typedef struct pctx {
    int fd;               /* its end of the socketpair (blocking) */
    int origin_port;
    SSL_CTX *sctx;        /* TLS to the proxy when not NULL */
    char head[2048];      /* the CONNECT head it got */
    int ok;               /* it relayed until the end */
} pctx;

static ssize_t p_read(SSL *ssl, int fd, void *b, size_t n)
{
    if (ssl) {
        size_t got = 0;
        return SSL_read_ex(ssl, b, n, &got) == 1 ? (ssize_t)got : -1;
    }
    return recv(fd, b, n, 0);
}

static int p_write(SSL *ssl, int fd, const void *b, size_t n)
{
    if (ssl) {
        size_t w = 0;
        return SSL_write_ex(ssl, b, n, &w) == 1 && w == n ? 0 : -1;
    }
    const char *c = b;
    while (n) {
        ssize_t r = send(fd, c, n, MSG_NOSIGNAL);
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *proxy_main(void *arg)
{
    pctx *p = arg;
    SSL *ssl = NULL;
    int ofd = -1;
    struct timeval tv = { 10, 0 };
    setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (p->sctx) {
        ssl = SSL_new(p->sctx);
        SSL_set_fd(ssl, p->fd);
        if (SSL_accept(ssl) != 1)
            goto out;
    }
    size_t hl = 0;
    while (hl < sizeof p->head - 1 && !strstr(p->head, "\r\n\r\n")) {
        ssize_t r = p_read(ssl, p->fd, p->head + hl, 1);  /* no read-ahead */
        if (r <= 0)
            goto out;
        hl += (size_t)r;
        p->head[hl] = 0;
    }
    if ((ofd = tcp_connect(p->origin_port)) < 0)
        goto out;
    const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (p_write(ssl, p->fd, ok, sizeof ok - 1))
        goto out;
    for (;;) {
        struct pollfd pf[2] = { { p->fd, POLLIN, 0 }, { ofd, POLLIN, 0 } };
        if (!(ssl && SSL_pending(ssl)) && poll(pf, 2, 10000) <= 0)
            goto out;
        if ((ssl && SSL_pending(ssl)) || (pf[0].revents & (POLLIN | POLLHUP))) {
            char b[16384];
            ssize_t r = p_read(ssl, p->fd, b, sizeof b);
            if (r <= 0 || p_write(NULL, ofd, b, (size_t)r))
                break;
        }
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            char b[16384];
            ssize_t r = recv(ofd, b, sizeof b, 0);
            if (r <= 0)
                break;
            if (p_write(ssl, p->fd, b, (size_t)r))
                goto out;
        }
    }
    p->ok = 1;
out:
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    shutdown(p->fd, SHUT_WR);
    if (ofd >= 0)
        close(ofd);
    return NULL;
}

/* TLS to s_server inside a CONNECT tunnel (plain proxy), then inside a
 * CONNECT tunnel inside TLS to an https proxy. */
static void test_tls_in_tunnel(tls_client *tc, int port, int https_proxy)
{
    char ca[300], buf[65536], why[300], target[64];
    tls_config cfg = client_cfg(ca, sizeof ca);
    SSL_CTX *sctx = NULL;
    if (https_proxy) {
        char crt[300], key[300];
        snprintf(crt, sizeof crt, "%s/valid.crt", certdir);
        snprintf(key, sizeof key, "%s/valid.key", certdir);
        sctx = SSL_CTX_new(TLS_server_method());
        CHECK(sctx && SSL_CTX_use_certificate_chain_file(sctx, crt) == 1 &&
              SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) == 1);
    }
    filter *bottom = pair_open();
    int flags = fcntl(sp[1], F_GETFL);
    fcntl(sp[1], F_SETFL, flags & ~O_NONBLOCK);
    pctx pc;
    memset(&pc, 0, sizeof pc);
    pc.fd = sp[1];
    pc.origin_port = port;
    pc.sctx = sctx;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, proxy_main, &pc) == 0);

    filter *ptls = NULL, *tun = NULL, *top = NULL;
    int rc = 0;
    res r;
    if (https_proxy) {
        /* each hop driven as it is pushed: TLS to the proxy first */
        tls_config pcfg = cfg;
        pcfg.via = NULL;
        rc = tls_filter_new_over(tc, &pcfg, bottom, "localhost", 3129, &ptls,
                                 why, sizeof why);
        CHECK_MSG(rc == 0, "%s", why);
        r = drive(ptls);
        CHECK_MSG(r.rc == 0 && r.done, "proxy TLS: %d %s", r.rc, r.why);
        bottom = ptls;
    }
    tunnel_cfg tcfg = connect_cfg();
    tcfg.host = "localhost";
    tcfg.port = port;
    tcfg.proxy = https_proxy ? "localhost:3129" : "127.0.0.1:3128";
    rc = tunnel_filter_new(bottom, &tcfg, &tun, why, sizeof why);
    CHECK_MSG(rc == 0, "%s", why);
    if (https_proxy) {
        r = drive(tun);
        CHECK_MSG(r.rc == 0 && r.done, "tunnel: %d %s", r.rc, r.why);
    }
    cfg.via = tcfg.proxy;      /* the origin's sessions are per path */
    rc = tls_filter_new_over(tc, &cfg, tun, "localhost", port, &top, why,
                             sizeof why);
    CHECK_MSG(rc == 0, "%s", why);
    /* the plain proxy: only the top is driven, it drives the tunnel */
    r = drive(top);
    CHECK_MSG(r.rc == 0 && r.done, "origin TLS: %d %s", r.rc, r.why);
    snprintf(target, sizeof target, "CONNECT localhost:%d HTTP/1.1\r\n", port);
    CHECK(strncmp(pc.head, target, strlen(target)) == 0);
    CHECK(tunnel_filter_info(tun)->status == 200);
    const tls_info *ti = tls_filter_info(top);
    CHECK(ti && ti->verify_result == 0 && ti->version[0]);
    if (https_proxy)
        CHECK(tls_filter_info(ptls) != NULL);
    size_t n = get(top, buf, sizeof buf);
    CHECK_MSG(n > 20 && strncmp(buf, "HTTP/1.0 200 ok", 15) == 0, "got %zu: %.40s",
              n, buf);
    /* s_server -www shows the cipher of its TLS: the inner one */
    CHECK(contains(buf, "Ciphers") || contains(buf, "Cipher"));
    top->ops->shutdown(top);
    top->ops->destroy(top);        /* every layer below with it */
    shutdown(sp[0], SHUT_RDWR);
    pthread_join(th, NULL);
    CHECK(pc.ok);
    pair_close();
    SSL_CTX_free(sctx);
}

/* A CONNECT failure below TLS comes out of the top's handshake. */
static void test_tls_over_failed_tunnel(tls_client *tc)
{
    char ca[300], why[300], buf[1024];
    tls_config cfg = client_cfg(ca, sizeof ca);
    filter *low = pair_open(), *tun = NULL, *top = NULL;
    tunnel_cfg tcfg = connect_cfg();
    CHECK(tunnel_filter_new(low, &tcfg, &tun, why, sizeof why) == 0);
    CHECK(tls_filter_new_over(tc, &cfg, tun, "example.com", 443, &top, why,
                              sizeof why) == 0);
    res r = hs(top);
    CHECK(r.rc == 0 && !r.done && r.want == LOOP_READ);
    sent(buf, sizeof buf);
    CHECK_STR(buf, REQ);
    const char ans[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad";
    r = feed(top, ans, sizeof ans - 1, 1);
    CHECK_MSG(r.rc == HF_E_RECV && contains(r.why, "CONNECT tunnel failed: "
              "proxy 127.0.0.1:3128 answered 502 Bad Gateway"), "%d %s", r.rc,
              r.why);
    r = hs(top);
    CHECK(r.rc != 0);
    top->ops->destroy(top);
    pair_close();
}

static void part2(void)
{
    if (make_certs() != 0) {
        CHECK_MSG(0, "tests/servers/mkcerts.sh failed (run from the repository)");
        return;
    }
    int port = start_s_server();
    CHECK_MSG(port > 0, "openssl s_server did not start");
    tls_client *tc = tls_client_new();
    CHECK(tc != NULL);
    if (port > 0 && tc) {
        test_tls_over_pass(tc, port);
        test_tls_in_tunnel(tc, port, 0);
        test_tls_in_tunnel(tc, port, 1);
        test_tls_over_failed_tunnel(tc);
    }
    tls_client_free(tc);
    stop_s_server();
    remove_certs();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    for (int bw = 0; bw < 2; bw++) {
        test_connect_200(bw);
        test_connect_fail(bw);
        test_407_digest(bw, 0, HF_AUTH_DIGEST);
        test_407_digest(bw, 1, HF_AUTH_DIGEST);
        test_407_digest(bw, 1, HF_AUTH_DIGEST | HF_AUTH_BASIC);
        test_socks5(bw);
        test_socks4(bw);
    }
    test_connect_headers();
    test_connect_oversized();
    test_407_other();
    test_socks_refused_early();
    test_send_blocks();
    part2();
    return T_END();
}
