/* test_socks.c -- the SOCKS4/4a/5 client state machine (src/socks.c).
 * Every exchange is played against a scripted proxy whose whole answer is
 * fed at several paces (1, 2, 3, 7 bytes at a time, and all at once); the
 * client's sends are split the same way.  The bytes sent must be exactly
 * the expected ones, the result the same at every pace, and the bytes
 * after the reply (the tunnelled stream) must never be taken.  Inputs live
 * in exact-size heap copies so ASan sees any over-read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"
#include "t.h"

static const size_t paces[] = {1, 2, 3, 7, 100000};
#define NPACES (sizeof paces / sizeof paces[0])

typedef struct run_result {
    int rc;
    uint8_t sent[2048];
    size_t nsent;
    size_t left;        /* bytes of the answer not taken */
    char err[320];
    char bound[300];
    int reply_code;
    int method;
} run_result;

/* Play answer[0..alen) at pace k; at its end, socks_eof. */
static void play(socks *s, const uint8_t *answer, size_t alen, size_t k,
                 run_result *out)
{
    uint8_t *a = malloc(alen ? alen : 1);
    if (alen) memcpy(a, answer, alen);
    size_t pos = 0;
    out->nsent = 0;
    int rc;
    int guard = 0;
    for (;;) {
        if (++guard > 100000) { rc = -100; break; }
        const uint8_t *p;
        size_t n;
        rc = socks_out(s, &p, &n);
        if (rc == SOCKS_SEND) {
            size_t m = n < k ? n : k;
            CHECK(n > 0);
            if (out->nsent + m <= sizeof out->sent)
                memcpy(out->sent + out->nsent, p, m);
            out->nsent += m;
            int r2 = socks_sent(s, m);
            CHECK(r2 == (m < n ? SOCKS_SEND : SOCKS_NEED_MORE));
            continue;
        }
        if (rc != SOCKS_NEED_MORE) break;
        if (pos == alen) { rc = socks_eof(s); break; }
        size_t m = alen - pos < k ? alen - pos : k;
        /* an exact-size copy of this piece */
        uint8_t *piece = malloc(m);
        memcpy(piece, a + pos, m);
        size_t used = 12345;
        rc = socks_in(s, piece, m, &used);
        free(piece);
        CHECK(used <= m);
        if (rc == SOCKS_NEED_MORE) CHECK(used == m);
        pos += used;
        if (rc != SOCKS_NEED_MORE && rc != SOCKS_SEND) break;
    }
    free(a);
    out->rc = rc;
    out->left = alen - pos;
    snprintf(out->err, sizeof out->err, "%s", socks_error(s));
    out->reply_code = s->reply_code;
    out->method = s->method;
    if (socks_bound(s, out->bound, sizeof out->bound) != 0)
        out->bound[0] = '\0';
    /* sticky: asking again changes nothing */
    size_t used = 9;
    uint8_t junk[3] = {5, 0, 0};
    CHECK(socks_in(s, junk, 3, &used) == rc || rc == SOCKS_NEED_MORE);
    if (rc != SOCKS_NEED_MORE) CHECK(used == 0);
}

/* Run one handshake at every pace; the results must agree.  Returns the
 * result of the first pace in *r. */
static void run_all(socks_kind kind, const char *host, int port,
                    const char *user, const char *pass,
                    const uint8_t *answer, size_t alen, run_result *r)
{
    static run_result other;
    for (size_t i = 0; i < NPACES; i++) {
        socks s;
        run_result *x = i == 0 ? r : &other;
        memset(x, 0, sizeof *x);
        int rc = socks_init(&s, kind, host, port, user, pass);
        CHECK_MSG(rc == 0, "init: %s", socks_error(&s));
        play(&s, answer, alen, paces[i], x);
        socks_cleanup(&s);
        if (i > 0) {
            CHECK_MSG(x->rc == r->rc, "pace %zu: rc %d vs %d", paces[i],
                      x->rc, r->rc);
            CHECK(x->nsent == r->nsent &&
                  memcmp(x->sent, r->sent, r->nsent) == 0);
            CHECK(x->left == r->left);
            CHECK_STR(x->err, r->err);
            CHECK_STR(x->bound, r->bound);
        }
    }
}

static void check_sent(const run_result *r, const uint8_t *want, size_t n)
{
    CHECK_MSG(r->nsent == n && memcmp(r->sent, want, n) == 0,
              "sent %zu bytes, want %zu", r->nsent, n);
}

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static int contains(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

/* ---- SOCKS5 ------------------------------------------------------------- */

static void test_v5_noauth_ipv4(void)
{
    run_result r;
    /* method 0; reply with BND 10.0.0.1:4660, then 3 tunnel bytes */
    const uint8_t ans[] = {5, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x12, 0x34,
                           'H', 'T', 'T'};
    run_all(SOCKS_V5, "127.0.0.1", 8080, NULL, NULL, ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    const uint8_t want[] = {5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90};
    check_sent(&r, want, sizeof want);
    CHECK(r.left == 3);
    CHECK_STR(r.bound, "10.0.0.1:4660");
    CHECK(r.reply_code == 0 && r.method == 0);
}

static void test_v5_ipv6(void)
{
    run_result r;
    uint8_t ans[2 + 22];
    memcpy(ans, (const uint8_t[]){5, 0, 5, 0, 0, 4}, 6);
    memset(ans + 6, 0, 16);
    ans[6] = 0x20; ans[7] = 0x01; ans[8] = 0x0d; ans[9] = 0xb8; ans[21] = 1;
    ans[22] = 0; ans[23] = 80;
    run_all(SOCKS_V5, "[::1]", 443, NULL, NULL, ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    uint8_t want[3 + 4 + 16 + 2] = {5, 1, 0, 5, 1, 0, 4};
    want[7 + 15] = 1;
    want[23] = 0x01; want[24] = 0xbb;
    check_sent(&r, want, sizeof want);
    CHECK_STR(r.bound, "[2001:db8::1]:80");
    CHECK(r.left == 0);
    /* unbracketed works too */
    run_all(SOCKS_V5, "::1", 443, NULL, NULL, ans, sizeof ans, &r);
    check_sent(&r, want, sizeof want);
}

static void test_v5h_domain(void)
{
    run_result r;
    /* reply bound address as a domain name "px" port 1 */
    const uint8_t ans[] = {5, 0, 5, 0, 0, 3, 2, 'p', 'x', 0, 1, 'X'};
    run_all(SOCKS_V5H, "example.com", 80, NULL, NULL, ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    const uint8_t want[] = {5, 1, 0, 5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p',
                            'l', 'e', '.', 'c', 'o', 'm', 0, 80};
    check_sent(&r, want, sizeof want);
    CHECK_STR(r.bound, "px:1");
    CHECK(r.left == 1);
    /* socks5h with an address literal sends the address */
    const uint8_t ans2[] = {5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    run_all(SOCKS_V5H, "192.0.2.7", 80, NULL, NULL, ans2, sizeof ans2, &r);
    const uint8_t want2[] = {5, 1, 0, 5, 1, 0, 1, 192, 0, 2, 7, 0, 80};
    check_sent(&r, want2, sizeof want2);
    CHECK(r.rc == SOCKS_DONE);
    /* a bound name with odd bytes, the longest (255) */
    uint8_t big[2 + 5 + 255 + 2 + 4] = {5, 0, 5, 0, 0, 3, 255};
    for (int i = 0; i < 255; i++) big[7 + i] = i % 2 ? 'a' : 0x01;
    big[262] = 0x01; big[263] = 0x00;
    memcpy(big + 264, "TAIL", 4);
    run_all(SOCKS_V5H, "a.test", 80, NULL, NULL, big, sizeof big, &r);
    CHECK(r.rc == SOCKS_DONE);
    CHECK(r.left == 4);
    CHECK(strlen(r.bound) == 255 + 4 && contains(r.bound, "?a?a") &&
          contains(r.bound, ":256"));
    /* a zero-length bound name */
    const uint8_t ans3[] = {5, 0, 5, 0, 0, 3, 0, 0, 7};
    run_all(SOCKS_V5H, "a.test", 80, NULL, NULL, ans3, sizeof ans3, &r);
    CHECK(r.rc == SOCKS_DONE && r.left == 0);
    CHECK_STR(r.bound, ":7");
}

static void test_v5_userpass(void)
{
    run_result r;
    const uint8_t ans[] = {5, 2, 1, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9};
    run_all(SOCKS_V5H, "h.test", 1, "user", "pw", ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    const uint8_t want[] = {5, 2, 0, 2,                      /* greeting */
                            1, 4, 'u', 's', 'e', 'r', 2, 'p', 'w',
                            5, 1, 0, 3, 6, 'h', '.', 't', 'e', 's', 't', 0, 1};
    check_sent(&r, want, sizeof want);
    CHECK(r.method == 2);
    CHECK_STR(r.bound, "1.2.3.4:9");

    /* credentials offered, but the proxy picks "no authentication" */
    const uint8_t ans2[] = {5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9};
    run_all(SOCKS_V5H, "h.test", 1, "user", "pw", ans2, sizeof ans2, &r);
    CHECK(r.rc == SOCKS_DONE && r.method == 0);
    const uint8_t want2[] = {5, 2, 0, 2,
                             5, 1, 0, 3, 6, 'h', '.', 't', 'e', 's', 't', 0, 1};
    check_sent(&r, want2, sizeof want2);

    /* user without password: PLEN 0 */
    const uint8_t ans3[] = {5, 2, 1, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9};
    run_all(SOCKS_V5, "10.0.0.1", 2, "u", NULL, ans3, sizeof ans3, &r);
    const uint8_t want3[] = {5, 2, 0, 2, 1, 1, 'u', 0,
                             5, 1, 0, 1, 10, 0, 0, 1, 0, 2};
    check_sent(&r, want3, sizeof want3);
    CHECK(r.rc == SOCKS_DONE);

    /* RFC 1929 reply with VER 5 (seen in the wild) is accepted */
    const uint8_t ans4[] = {5, 2, 5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9};
    run_all(SOCKS_V5, "10.0.0.1", 2, "u", "p", ans4, sizeof ans4, &r);
    CHECK(r.rc == SOCKS_DONE);

    /* rejected credentials */
    const uint8_t ans5[] = {5, 2, 1, 1};
    run_all(SOCKS_V5, "10.0.0.1", 2, "u", "bad", ans5, sizeof ans5, &r);
    CHECK(r.rc == SOCKS_E_AUTH);
    CHECK_MSG(contains(r.err, "rejected the user name and password"), "%s", r.err);
    /* the connect request was never sent */
    CHECK(r.nsent == 4 + 3 + 1 + 3);

    /* bad RFC 1929 version */
    const uint8_t ans6[] = {5, 2, 7, 0};
    run_all(SOCKS_V5, "10.0.0.1", 2, "u", "p", ans6, sizeof ans6, &r);
    CHECK(r.rc == SOCKS_E_PROTO);
}

static void test_v5_methods(void)
{
    run_result r;
    /* no acceptable methods */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL, B(5, 0xff), &r);
    CHECK(r.rc == SOCKS_E_AUTH);
    CHECK_MSG(contains(r.err, "none of the offered"), "%s", r.err);
    CHECK(r.nsent == 3);
    run_all(SOCKS_V5, "10.0.0.1", 80, "u", "p", B(5, 0xff), &r);
    CHECK(r.rc == SOCKS_E_AUTH);
    /* user/pass chosen though not offered */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL, B(5, 2), &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    CHECK_MSG(contains(r.err, "not offered"), "%s", r.err);
    /* GSSAPI chosen */
    run_all(SOCKS_V5, "10.0.0.1", 80, "u", "p", B(5, 1), &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    /* not a SOCKS5 server (an HTTP proxy answering) */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL,
            (const uint8_t *)"HTTP/1.1 400 Bad", 16, &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    CHECK_MSG(contains(r.err, "version 72"), "%s", r.err);
    CHECK(r.left == 14);
}

static void test_v5_rep_codes(void)
{
    static const struct { int rep; const char *text; } reps[] = {
        {1, "general SOCKS server failure"},
        {2, "connection not allowed by ruleset"},
        {3, "network unreachable"},
        {4, "host unreachable"},
        {5, "connection refused by destination host"},
        {6, "TTL expired"},
        {7, "command not supported"},
        {8, "address type not supported"},
        {9, "unassigned reply code"},
        {255, "unassigned reply code"},
    };
    for (size_t i = 0; i < sizeof reps / sizeof reps[0]; i++) {
        run_result r;
        const uint8_t ans[] = {5, 0, 5, (uint8_t)reps[i].rep, 0, 1,
                               0, 0, 0, 0, 0, 0};
        run_all(SOCKS_V5H, "example.com", 443, NULL, NULL, ans, sizeof ans, &r);
        CHECK(r.rc == SOCKS_E_REFUSED);
        CHECK(r.reply_code == reps[i].rep);
        CHECK_MSG(contains(r.err, reps[i].text) &&
                  contains(r.err, "example.com:443"), "%s", r.err);
        CHECK_STR(socks_reply_text(reps[i].rep, 0), reps[i].text);
        /* the failure is known after VER REP: the rest is not needed */
        CHECK(r.left == sizeof ans - 4);
        /* also when the proxy sends only VER REP and closes */
        run_all(SOCKS_V5H, "example.com", 443, NULL, NULL, ans, 4, &r);
        CHECK(r.rc == SOCKS_E_REFUSED && r.left == 0);
    }
    CHECK_STR(socks_reply_text(0, 0), "succeeded");
}

static void test_v5_bad_replies(void)
{
    run_result r;
    /* unknown ATYP */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL,
            B(5, 0, 5, 0, 0, 2, 1, 2, 3, 4, 0, 0), &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    CHECK_MSG(contains(r.err, "address type 2"), "%s", r.err);
    /* wrong version in the reply */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL,
            B(5, 0, 4, 0, 0, 1, 1, 2, 3, 4, 0, 0), &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    /* a reserved byte that is not 0 is tolerated */
    run_all(SOCKS_V5, "10.0.0.1", 80, NULL, NULL,
            B(5, 0, 5, 0, 9, 1, 1, 2, 3, 4, 0, 0), &r);
    CHECK(r.rc == SOCKS_DONE);
}

/* Every truncation of every reply ends in SOCKS_E_CLOSED with a message
 * saying where, never in DONE, never past the data. */
static void test_v5_truncated(void)
{
    const uint8_t full4[] = {5, 2, 1, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 9};
    const uint8_t full3[] = {5, 0, 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 1};
    uint8_t full6[2 + 22] = {5, 0, 5, 0, 0, 4};
    struct { const uint8_t *a; size_t n; const char *user; } cases[] = {
        {full4, sizeof full4, "u"},
        {full3, sizeof full3, NULL},
        {full6, sizeof full6, NULL},
    };
    for (size_t c = 0; c < 3; c++) {
        for (size_t cut = 0; cut < cases[c].n; cut++) {
            run_result r;
            run_all(SOCKS_V5H, "a.test", 80, cases[c].user, "p", cases[c].a,
                    cut, &r);
            CHECK_MSG(r.rc == SOCKS_E_CLOSED, "case %zu cut %zu: rc %d", c,
                      cut, r.rc);
            CHECK(r.left == 0);
            CHECK(contains(r.err, "closed the connection"));
        }
        run_result r;
        run_all(SOCKS_V5H, "a.test", 80, cases[c].user, "p", cases[c].a,
                cases[c].n, &r);
        CHECK(r.rc == SOCKS_DONE);
    }
    /* the messages name the place */
    run_result r;
    run_all(SOCKS_V5H, "a.test", 80, NULL, NULL, full3, 0, &r);
    CHECK_MSG(contains(r.err, "before its method selection"), "%s", r.err);
    run_all(SOCKS_V5H, "a.test", 80, NULL, NULL, full3, 5, &r);
    CHECK_MSG(contains(r.err, "after 3 of at least 4 bytes"), "%s", r.err);
    run_all(SOCKS_V5H, "a.test", 80, NULL, NULL, full3, 9, &r);
    CHECK_MSG(contains(r.err, "after 7 of 10 bytes") &&
              contains(r.err, "reply to the connect request"), "%s", r.err);
}

/* ---- the limits (CVE-2023-38545) ---------------------------------------- */

static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_limits(void)
{
    socks s;
    /* 255-byte name: accepted, sent whole */
    char *n255 = filled(255, 'a');
    char *n256 = filled(256, 'a');
    char *n65k = filled(65536, 'b');
    int rc = socks_init(&s, SOCKS_V5H, n255, 80, NULL, NULL);
    CHECK(rc == 0);
    const uint8_t *p;
    size_t n;
    CHECK(socks_out(&s, &p, &n) == SOCKS_SEND && n == 3);
    socks_sent(&s, n);
    size_t used;
    CHECK(socks_in(&s, (const uint8_t *)"\x05\x00", 2, &used) == SOCKS_SEND);
    CHECK(socks_out(&s, &p, &n) == SOCKS_SEND && n == 4 + 1 + 255 + 2);
    CHECK(p[4] == 255 && p[5] == 'a' && p[259] == 'a' && p[260] == 0 &&
          p[261] == 80);
    socks_cleanup(&s);

    /* 256 and 65536 bytes: refused at init, nothing to send */
    const char *names[] = {n256, n65k};
    for (int i = 0; i < 2; i++) {
        rc = socks_init(&s, SOCKS_V5H, names[i], 80, NULL, NULL);
        CHECK(rc == SOCKS_E_ARG);
        CHECK_MSG(contains(socks_error(&s), "host name is") &&
                  contains(socks_error(&s), "at most 255"), "%s",
                  socks_error(&s));
        CHECK(contains(socks_error(&s), i ? "65536 bytes" : "256 bytes"));
        CHECK(socks_out(&s, &p, &n) == SOCKS_E_ARG && n == 0);
        CHECK(socks_in(&s, (const uint8_t *)"\x05\x00", 2, &used) ==
              SOCKS_E_ARG && used == 0);
        CHECK(socks_eof(&s) == SOCKS_E_ARG);
        socks_cleanup(&s);
        rc = socks_init(&s, SOCKS_V4A, names[i], 80, NULL, NULL);
        CHECK(rc == SOCKS_E_ARG);
        socks_cleanup(&s);
    }
    /* a bracketed 256-byte "literal" is still too long */
    char *br = malloc(259);
    br[0] = '[';
    memset(br + 1, 'a', 256);
    br[257] = ']';
    br[258] = 0;
    CHECK(socks_init(&s, SOCKS_V5H, br, 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    free(br);

    /* user and password: 255 accepted, 256 refused */
    rc = socks_init(&s, SOCKS_V5, "10.0.0.1", 80, n255, n255);
    CHECK(rc == 0);
    CHECK(socks_out(&s, &p, &n) == SOCKS_SEND && n == 4);
    socks_sent(&s, n);
    CHECK(socks_in(&s, (const uint8_t *)"\x05\x02", 2, &used) == SOCKS_SEND);
    CHECK(socks_out(&s, &p, &n) == SOCKS_SEND && n == 3 + 255 + 255);
    CHECK(p[1] == 255 && p[257] == 255);
    socks_cleanup(&s);
    rc = socks_init(&s, SOCKS_V5, "10.0.0.1", 80, n256, "p");
    CHECK(rc == SOCKS_E_ARG);
    CHECK_MSG(contains(socks_error(&s), "user name is 256 bytes"), "%s",
              socks_error(&s));
    socks_cleanup(&s);
    rc = socks_init(&s, SOCKS_V5, "10.0.0.1", 80, "u", n256);
    CHECK(rc == SOCKS_E_ARG);
    CHECK_MSG(contains(socks_error(&s), "password is 256 bytes"), "%s",
              socks_error(&s));
    socks_cleanup(&s);
    rc = socks_init(&s, SOCKS_V5H, "a.test", 80, n65k, "p");
    CHECK(rc == SOCKS_E_ARG);
    socks_cleanup(&s);
    rc = socks_init(&s, SOCKS_V5H, "a.test", 80, "u", n65k);
    CHECK(rc == SOCKS_E_ARG);
    socks_cleanup(&s);
    rc = socks_init(&s, SOCKS_V4, "10.0.0.1", 80, n256, NULL);
    CHECK(rc == SOCKS_E_ARG);
    socks_cleanup(&s);
    /* SOCKS4 ignores the password, whatever its length */
    rc = socks_init(&s, SOCKS_V4, "10.0.0.1", 80, "u", n65k);
    CHECK(rc == 0);
    socks_cleanup(&s);

    free(n255);
    free(n256);
    free(n65k);
}

static void test_bad_args(void)
{
    socks s;
    CHECK(socks_init(&s, SOCKS_V5, "example.com", 80, NULL, NULL) ==
          SOCKS_E_ARG);
    CHECK(contains(socks_error(&s), "needs an address"));
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V4, "example.com", 80, NULL, NULL) ==
          SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V4, "::1", 80, NULL, NULL) == SOCKS_E_ARG);
    CHECK(contains(socks_error(&s), "IPv6"));
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V4A, "[::1]", 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, "", 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, "[]", 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, NULL, 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, "a", 0, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, "a", 65536, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);
    CHECK(socks_init(&s, SOCKS_V5H, "a", 80, "", "p") == SOCKS_E_ARG);
    CHECK(contains(socks_error(&s), "empty user name"));
    socks_cleanup(&s);
    CHECK(socks_init(&s, (socks_kind)9, "a", 80, NULL, NULL) == SOCKS_E_ARG);
    socks_cleanup(&s);

    /* misuse: sending more than given, feeding while a message is out */
    CHECK(socks_init(&s, SOCKS_V5H, "a", 80, NULL, NULL) == 0);
    CHECK(socks_sent(&s, 4) == SOCKS_E_ARG);
    size_t used = 7;
    CHECK(socks_in(&s, (const uint8_t *)"\x05\x00", 2, &used) == SOCKS_SEND);
    CHECK(used == 0);
    CHECK(socks_sent(&s, 1) == SOCKS_SEND);
    CHECK(socks_sent(&s, 2) == SOCKS_NEED_MORE);
    CHECK(socks_in(&s, NULL, 0, &used) == SOCKS_NEED_MORE && used == 0);
    CHECK(socks_in(&s, (const uint8_t *)"\x05", 1, NULL) == SOCKS_E_ARG);
    CHECK(socks_eof(&s) == SOCKS_E_CLOSED);
    CHECK(socks_eof(&s) == SOCKS_E_CLOSED);
    socks_cleanup(&s);
    /* eof while sending */
    CHECK(socks_init(&s, SOCKS_V5H, "a", 80, NULL, NULL) == 0);
    CHECK(socks_eof(&s) == SOCKS_E_CLOSED);
    CHECK(contains(socks_error(&s), "being sent"));
    socks_cleanup(&s);
    socks_cleanup(NULL);
}

/* ---- SOCKS4 / 4a -------------------------------------------------------- */

static void test_v4(void)
{
    run_result r;
    const uint8_t ans[] = {0, 90, 0x1f, 0x90, 10, 0, 0, 2, 'x'};
    run_all(SOCKS_V4, "192.0.2.1", 80, "bob", NULL, ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    const uint8_t want[] = {4, 1, 0, 80, 192, 0, 2, 1, 'b', 'o', 'b', 0};
    check_sent(&r, want, sizeof want);
    CHECK(r.left == 1);
    CHECK_STR(r.bound, "10.0.0.2:8080");
    /* no user: an empty USERID */
    run_all(SOCKS_V4, "192.0.2.1", 80, NULL, NULL, ans, sizeof ans, &r);
    const uint8_t want2[] = {4, 1, 0, 80, 192, 0, 2, 1, 0};
    check_sent(&r, want2, sizeof want2);

    /* 4a with a name: 0.0.0.1 then the name */
    run_all(SOCKS_V4A, "ex.test", 443, "u", NULL, ans, sizeof ans, &r);
    CHECK(r.rc == SOCKS_DONE);
    const uint8_t want3[] = {4, 1, 1, 0xbb, 0, 0, 0, 1, 'u', 0,
                             'e', 'x', '.', 't', 'e', 's', 't', 0};
    check_sent(&r, want3, sizeof want3);
    /* 4a with an address: plain SOCKS4 */
    run_all(SOCKS_V4A, "10.1.2.3", 443, NULL, NULL, ans, sizeof ans, &r);
    const uint8_t want4[] = {4, 1, 1, 0xbb, 10, 1, 2, 3, 0};
    check_sent(&r, want4, sizeof want4);

    /* CD codes */
    for (int cd = 91; cd <= 94; cd++) {
        const uint8_t bad[] = {0, (uint8_t)cd, 0, 0, 0, 0, 0, 0};
        run_all(SOCKS_V4A, "ex.test", 80, NULL, NULL, bad, sizeof bad, &r);
        CHECK(r.rc == SOCKS_E_REFUSED && r.reply_code == cd);
        CHECK_MSG(contains(r.err, socks_reply_text(cd, 1)) &&
                  contains(r.err, "ex.test:80"), "%s", r.err);
        CHECK(r.left == 6);
    }
    CHECK(contains(socks_reply_text(92, 1), "identd"));
    /* VN not 0 */
    run_all(SOCKS_V4, "192.0.2.1", 80, NULL, NULL, B(4, 90, 0, 0, 0, 0, 0, 0),
            &r);
    CHECK(r.rc == SOCKS_E_PROTO);
    /* truncated */
    for (size_t cut = 0; cut < 8; cut++) {
        run_all(SOCKS_V4, "192.0.2.1", 80, NULL, NULL, ans, cut, &r);
        CHECK(r.rc == SOCKS_E_CLOSED && r.left == 0);
    }
}

int main(void)
{
    test_v5_noauth_ipv4();
    test_v5_ipv6();
    test_v5h_domain();
    test_v5_userpass();
    test_v5_methods();
    test_v5_rep_codes();
    test_v5_bad_replies();
    test_v5_truncated();
    test_limits();
    test_bad_args();
    test_v4();
    return T_END();
}
