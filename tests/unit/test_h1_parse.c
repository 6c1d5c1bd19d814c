/* test_h1_parse.c -- response head, framing and chunked decoder.
 * Every head and chunked case runs whole, fed a byte at a time, and cut
 * at every truncation point (each call gets an exact-size heap copy, so
 * ASan sees any read past the end). */
#include "h1_parse.h"

#include <stdlib.h>

#include "t.h"

#define NH 1000
static h1_header hdrs[NH];

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (n)
        memcpy(p, s, n);
    return p;
}

/* The next prefix length to try after k, below end: every stride-th,
 * then each of the last 64. */
static size_t next_k(size_t k, size_t end, size_t stride)
{
    size_t tail = end > 64 ? end - 64 : 0;
    if (stride <= 1 || k + 1 >= tail)
        return k + 1;
    return k + stride < tail ? k + stride : tail;
}

static int slice_is(const char *p, size_t n, const char *want)
{
    return want && strlen(want) == n && memcmp(p, want, n) == 0;
}

/* ---- head ------------------------------------------------------------ */

typedef struct hcase {
    const char *head;     /* the head (or whole input when want < 0) */
    int want;             /* 0: complete at strlen(head); else H1_* */
    int status, minor;
    const char *reason;
    size_t nhdr;
    const char *name0, *val0;  /* first field */
    const char *nameL, *valL;  /* last field */
} hcase;

/* Parse one prefix length k of msg; the copy is written back so that the
 * in-place obs-fold rewriting carries over as in a real reader. */
static int parse_prefix(char *msg, size_t k, h1_resp *r, size_t cap)
{
    char *p = dup_n(msg, k);
    int rc = h1_parse_head(p, k, r, hdrs, cap);
    memcpy(msg, p, k);
    free(p);
    return rc;
}

/* Run msg[0..len) (head + maybe body): want is the head length (> 0) or
 * an H1_* code.  stride 1 tries every prefix; larger for big inputs.
 * *res and hdrs point into a copy kept until the next call. */
static char *last_whole;
static void run_head_buf(const char *what, const char *msg, size_t len,
                         int want, size_t cap, size_t stride, h1_resp *res)
{
    h1_resp r, r2;
    char *whole = dup_n(msg, len), *grow = dup_n(msg, len);
    size_t k, bad_grow = 0, bad_trunc = 0;
    int rc;

    /* (1) whole */
    memset(&r, 0, sizeof r);
    rc = h1_parse_head(whole, len, &r, hdrs, cap);
    CHECK_MSG(rc == want, "%s: whole: got %d want %d", what, rc, want);
    *res = r;

    /* (2) growing prefixes of one buffer, as bytes arrive */
    for (k = 1; k <= len; k = next_k(k, len + 1, stride)) {
        rc = parse_prefix(grow, k, &r2, cap);
        if (want > 0 ? rc != (k < (size_t)want ? H1_INCOMPLETE : want)
                     : k < len ? rc != H1_INCOMPLETE && rc != want
                               : rc != want)
            bad_grow++;
    }
    CHECK_MSG(bad_grow == 0, "%s: byte by byte: %zu bad", what, bad_grow);
    if (want > 0) {
        CHECK_MSG(r2.status == r.status && r2.nhdr == r.nhdr &&
                  memcmp(grow, whole, (size_t)want) == 0,
                  "%s: byte by byte differs from whole", what);
    }

    /* (3) every truncation of the original, fresh each time: never a
     * complete head, and no other error than the whole input's */
    for (k = 0; k < (want > 0 ? (size_t)want : len);
         k = next_k(k, want > 0 ? (size_t)want : len, stride)) {
        char *p = dup_n(msg, k);
        rc = h1_parse_head(p, k, &r2, hdrs, cap);
        if (rc >= 0 || (rc != H1_INCOMPLETE && rc != want))
            bad_trunc++;
        free(p);
    }
    CHECK_MSG(bad_trunc == 0, "%s: truncations: %zu bad", what, bad_trunc);
    /* re-parse whole so hdrs point into it again */
    free(grow);
    memcpy(whole, msg, len);
    h1_parse_head(whole, len, &r, hdrs, cap);
    free(last_whole);
    last_whole = whole;
}

static void run_head(const hcase *c)
{
    size_t len = strlen(c->head);
    int want = c->want ? c->want : (int)len;
    h1_resp r;
    char *body = malloc(len + 10);
    run_head_buf(c->head, c->head, len, want, NH, 1, &r);
    if (want > 0) {
        CHECK_MSG(r.status == c->status && r.minor == c->minor &&
                  slice_is(r.reason, r.reason_len, c->reason) &&
                  r.nhdr == c->nhdr, "%s: status %d minor %d nhdr %zu",
                  c->head, r.status, r.minor, r.nhdr);
        if (c->name0)
            CHECK_MSG(slice_is(hdrs[0].name, hdrs[0].name_len, c->name0) &&
                      slice_is(hdrs[0].value, hdrs[0].value_len, c->val0),
                      "%s: first field \"%.*s\"", c->head,
                      (int)hdrs[0].value_len, hdrs[0].value);
        if (c->nameL)
            CHECK_MSG(slice_is(hdrs[r.nhdr - 1].name,
                               hdrs[r.nhdr - 1].name_len, c->nameL) &&
                      slice_is(hdrs[r.nhdr - 1].value,
                               hdrs[r.nhdr - 1].value_len, c->valL),
                      "%s: last field \"%.*s\"", c->head,
                      (int)hdrs[r.nhdr - 1].value_len,
                      hdrs[r.nhdr - 1].value);
        /* a body after the head is not part of it */
        memcpy(body, c->head, len);
        memcpy(body + len, "BODYBYTES", 9);
        CHECK(h1_parse_head(body, len + 9, &r, hdrs, NH) == want);
    }
    free(body);
}

static const hcase heads[] = {
    /* minimal and ordinary */
    { "HTTP/1.1 200 OK\r\n\r\n", 0, 200, 1, "OK", 0, 0, 0, 0, 0 },
    { "HTTP/1.0 200 OK\r\n\r\n", 0, 200, 0, "OK", 0, 0, 0, 0, 0 },
    { "HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 0\r\n\r\n",
      0, 404, 1, "Not Found", 2, "Server", "x", "Content-Length", "0" },
    { "HTTP/1.1 200\r\n\r\n", 0, 200, 1, "", 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 \r\n\r\n", 0, 200, 1, "", 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 \tOK  go \r\n\r\n", 0, 200, 1, "\tOK  go ", 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 599 Weird\r\n\r\n", 0, 599, 1, "Weird", 0, 0, 0, 0, 0 },
    { "HTTP/1.1 999 Max\r\n\r\n", 0, 999, 1, "Max", 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 caf\xc3\xa9\r\n\r\n", 0, 200, 1, "caf\xc3\xa9", 0,
      0, 0, 0, 0 },
    /* 1xx, 204, 304 */
    { "HTTP/1.1 100 Continue\r\n\r\n", 0, 100, 1, "Continue", 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
      0, 103, 1, "Early Hints", 1, "Link", "</a.css>; rel=preload", 0, 0 },
    { "HTTP/1.1 204 No Content\r\n\r\n", 0, 204, 1, "No Content", 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 0, 304, 1,
      "Not Modified", 1, "ETag", "\"x\"", 0, 0 },
    /* bare LF (RFC 9112 2.2), mixed */
    { "HTTP/1.1 200 OK\nA: b\n\n", 0, 200, 1, "OK", 1, "A", "b", 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\n", 0, 200, 1, "OK", 2, "A", "b",
      "C", "d" },
    /* OWS trimming, empty values, token characters */
    { "HTTP/1.1 200 OK\r\nA:  \t v  w \t \r\nB:\r\nC: \r\n\r\n", 0, 200, 1,
      "OK", 3, "A", "v  w", "C", "" },
    { "HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09az:x\r\n\r\n", 0, 200, 1, "OK",
      1, "!#$%&'*+-.^_`|~09az", "x", 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: \x01\x7f\x80\xff\r\n\r\n", 0, 200, 1, "OK", 1,
      "A", "\x01\x7f\x80\xff", 0, 0 },
    /* obs-fold: CR LF become SP in place (RFC 9112 5.2) */
    { "HTTP/1.1 200 OK\r\nA: one\r\n two\r\nB: x\r\n\r\n", 0, 200, 1, "OK",
      2, "A", "one   two", "B", "x" },
    { "HTTP/1.1 200 OK\r\nA: one\n\ttwo\r\n   three \r\n\r\n", 0, 200, 1,
      "OK", 1, "A", "one \ttwo     three", 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\r\nC:\r\n d\r\n\r\n", 0, 200, 1, "OK", 2,
      "A", "b", "C", "d" },
    { "HTTP/1.1 200 OK\r\n bad\r\nA: b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\n\tA: b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    /* bad status lines */
    { "HTTP/2 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/2.0 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTX/1.1 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "http/1.1 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.2 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 20 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 2000 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 099 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1  200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 2x0 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 O\rK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 O\x01K\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { " HTTP/1.1 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "\r\nHTTP/1.1 200 OK\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "garbage", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1\r\n\r\n", H1_ERR_STATUS, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* bad fields */
    { "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA\t: b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nAb\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\n: b\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA(b: c\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\r\n\rX", H1_ERR_HEADER, 0, 0, 0, 0,
      0, 0, 0, 0 },
    /* an unterminated head never completes */
    { "HTTP/1.1 200 OK\r\nA: b\r\n", H1_INCOMPLETE, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nA: b\r\n\r", H1_INCOMPLETE, 0, 0, 0, 0,
      0, 0, 0, 0 },
};

/* A NUL cannot sit in a C string table. */
static void test_nul(void)
{
    static const char a[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
    static const char b[] = "HTTP/1.1 200 OK\r\nA\0: c\r\n\r\n";
    static const char c[] = "HTTP/1.1 200 O\0K\r\n\r\n";
    h1_resp r;
    run_head_buf("NUL in value", a, sizeof a - 1, H1_ERR_HEADER, NH, 1, &r);
    run_head_buf("NUL in name", b, sizeof b - 1, H1_ERR_HEADER, NH, 1, &r);
    run_head_buf("NUL in reason", c, sizeof c - 1, H1_ERR_STATUS, NH, 1, &r);
}

/* A head of nfields "X-Field-i: v" lines, each value padded to vlen. */
static char *make_head(size_t nfields, size_t vlen, size_t *len)
{
    size_t cap = 64 + nfields * (vlen + 32), n, i;
    char *m = malloc(cap);
    n = (size_t)sprintf(m, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < nfields; i++) {
        n += (size_t)sprintf(m + n, "X-F-%zu: ", i);
        memset(m + n, 'v', vlen);
        n += vlen;
        m[n++] = '\r';
        m[n++] = '\n';
    }
    m[n++] = '\r';
    m[n++] = '\n';
    *len = n;
    return m;
}

static void test_limits(void)
{
    h1_resp r;
    size_t len, k;
    char *m;

    /* many fields, within the limits */
    m = make_head(100, 10, &len);
    run_head_buf("100 fields", m, len, (int)len, NH, 1, &r);
    CHECK(r.nhdr == 100 && slice_is(hdrs[99].name, hdrs[99].name_len,
                                    "X-F-99"));
    free(m);

    /* 301 fields with room for 300; 500 ok with room for 1000, 501 not */
    m = make_head(301, 1, &len);
    run_head_buf("301 fields cap 300", m, len, H1_ERR_TOO_LARGE, 300, 7, &r);
    run_head_buf("301 fields cap 301", m, len, (int)len, 301, 7, &r);
    free(m);
    m = make_head(H1_MAX_FIELDS, 1, &len);
    run_head_buf("500 fields", m, len, (int)len, NH, 13, &r);
    CHECK(r.nhdr == H1_MAX_FIELDS);
    free(m);
    m = make_head(H1_MAX_FIELDS + 1, 1, &len);
    run_head_buf("501 fields", m, len, H1_ERR_TOO_LARGE, NH, 13, &r);
    free(m);

    /* one line: H1_MAX_LINE bytes before the LF is the most */
    k = H1_MAX_LINE - strlen("X-F-0: ") - 1; /* the CR counts too */
    m = make_head(1, k, &len);
    run_head_buf("longest line", m, len, (int)len, NH, 4099, &r);
    CHECK(r.nhdr == 1 && hdrs[0].value_len == k);
    free(m);
    m = make_head(1, k + 1, &len);
    run_head_buf("line too long", m, len, H1_ERR_TOO_LARGE, NH, 4099, &r);
    /* ... reported before the line is complete */
    CHECK(h1_parse_head(m, H1_MAX_LINE + 40, &r, hdrs, NH) ==
          H1_ERR_TOO_LARGE);
    CHECK(h1_parse_head(m, H1_MAX_LINE + 10, &r, hdrs, NH) ==
          H1_INCOMPLETE);
    free(m);

    /* the whole head: 300 KiB */
    m = make_head(310, 1000, &len); /* ~ 313 KB */
    CHECK(len > H1_MAX_HEAD);
    run_head_buf("head too big", m, len, H1_ERR_TOO_LARGE, NH, 4099, &r);
    CHECK(h1_parse_head(m, H1_MAX_HEAD, &r, hdrs, NH) == H1_INCOMPLETE);
    CHECK(h1_parse_head(m, H1_MAX_HEAD + 1, &r, hdrs, NH) ==
          H1_ERR_TOO_LARGE);
    free(m);
    /* a head of exactly H1_MAX_HEAD bytes, then a body */
    m = malloc(H1_MAX_HEAD + 4);
    memcpy(m, "HTTP/1.1 200 OK\r\n", 17);
    for (len = 17, k = 0; k < 4; k++) {
        size_t l = k < 3 ? 76000 : H1_MAX_HEAD - len - 4;
        memcpy(m + len, "A:", 2);
        memset(m + len + 2, 'x', l - 2);
        memcpy(m + len + l, "\r\n", 2);
        len += l + 2;
    }
    memcpy(m + len, "\r\nbody", 6);
    CHECK(len + 2 == H1_MAX_HEAD);
    CHECK(h1_parse_head(m, H1_MAX_HEAD + 4, &r, hdrs, NH) == H1_MAX_HEAD);
    free(m);

    /* cap 0 and a NULL array: only a head without fields fits */
    {
        char a[] = "HTTP/1.1 200 OK\r\n\r\n";
        char b[] = "HTTP/1.1 200 OK\r\nA:b\r\n\r\n";
        CHECK(h1_parse_head(a, strlen(a), &r, NULL, 0) == (int)strlen(a));
        CHECK(h1_parse_head(b, strlen(b), &r, NULL, 0) == H1_ERR_TOO_LARGE);
    }
}

/* ---- framing --------------------------------------------------------- */

typedef struct fcase {
    const char *head;
    int head_req;
    int want;          /* 0 or H1_ERR_FRAMING */
    int kind;
    uint64_t length;
    int must_close;
} fcase;

static const fcase framings[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 0, 0, H1_BODY_LENGTH,
      5, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, H1_BODY_LENGTH,
      0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", 0, 0,
      H1_BODY_LENGTH, 5, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
      0, 0, H1_BODY_LENGTH, 5, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\n", 0, 0,
      H1_BODY_LENGTH, 5, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", 0,
      0, H1_BODY_LENGTH, 9223372036854775807ull, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      0, H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5.0\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n", 0, H1_ERR_FRAMING,
      0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      0, H1_ERR_FRAMING, 0, 0, 0 },
    /* Transfer-Encoding */
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
      H1_BODY_CHUNKED, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n", 0, 0,
      H1_BODY_CHUNKED, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, 0,
      H1_BODY_CHUNKED, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
      "Transfer-Encoding: chunked\r\n\r\n", 0, 0, H1_BODY_CHUNKED, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n", 0, H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked x\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", 0,
      H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 0,
      H1_BODY_CLOSE, 0, 1 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;q=1 , ,chunked\r\n\r\n",
      0, 0, H1_BODY_CHUNKED, 0, 0 },
    /* TE and CL: an error (RFC 9112 6.3 rule 3, SECURITY.md E.30) */
    { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
      "Transfer-Encoding: chunked\r\n\r\n", 0, H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 10, 11\r\n\r\n", 0, H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
      "Content-Length: 10\r\n\r\n", 0, H1_ERR_FRAMING, 0, 0, 0 },
    { "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
      "Connection: keep-alive\r\n\r\n", 0, 0, H1_BODY_CHUNKED, 0, 1 },
    /* neither: read until close */
    { "HTTP/1.1 200 OK\r\n\r\n", 0, 0, H1_BODY_CLOSE, 0, 1 },
    /* Connection */
    { "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
      0, 0, H1_BODY_LENGTH, 1, 1 },
    { "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n"
      "Content-Length: 1\r\n\r\n", 0, 0, H1_BODY_LENGTH, 1, 1 },
    { "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
      "Content-Length: 1\r\n\r\n", 0, 0, H1_BODY_LENGTH, 1, 1 },
    { "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 1\r\n\r\n",
      0, 0, H1_BODY_LENGTH, 1, 0 },
    { "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 0, 0, H1_BODY_LENGTH,
      1, 1 },
    { "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n"
      "\r\n", 0, 0, H1_BODY_LENGTH, 1, 0 },
    /* no body: 1xx, 204, 304, HEAD; their CL / TE do not matter */
    { "HTTP/1.1 100 Continue\r\n\r\n", 0, 0, H1_BODY_NONE, 0, 0 },
    { "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
      0, H1_BODY_NONE, 0, 0 },
    { "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 0, 0,
      H1_BODY_NONE, 0, 0 },
    { "HTTP/1.1 304 Not Modified\r\nContent-Length: 7, 8\r\n\r\n", 0, 0,
      H1_BODY_NONE, 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", 1, 0, H1_BODY_NONE,
      0, 0 },
    { "HTTP/1.1 200 OK\r\n\r\n", 1, 0, H1_BODY_NONE, 0, 0 },
    { "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 0, 0,
      H1_BODY_NONE, 0, 1 },
};

static void run_framing(const fcase *c)
{
    char *m = dup_n(c->head, strlen(c->head));
    h1_resp r;
    h1_framing f;
    int rc = h1_parse_head(m, strlen(c->head), &r, hdrs, NH);

    CHECK_MSG(rc == (int)strlen(c->head), "%s: head %d", c->head, rc);
    memset(&f, 0x55, sizeof f);
    rc = h1_framing_of(&r, hdrs, c->head_req, &f);
    CHECK_MSG(rc == c->want, "%s: framing %d want %d", c->head, rc,
              c->want);
    if (rc == 0)
        CHECK_MSG(f.kind == c->kind && f.must_close == c->must_close &&
                  (f.kind != H1_BODY_LENGTH || f.length == c->length),
                  "%s: kind %d close %d length %llu", c->head, f.kind,
                  f.must_close, (unsigned long long)f.length);
    free(m);
}

static void test_find(void)
{
    char m[] = "HTTP/1.1 200 OK\r\nA: 1\r\nbb: 2\r\na: 3\r\nB: 4\r\n\r\n";
    h1_resp r;
    CHECK(h1_parse_head(m, strlen(m), &r, hdrs, NH) == (int)strlen(m));
    CHECK(h1_find(hdrs, r.nhdr, "a", 0) == 0);
    CHECK(h1_find(hdrs, r.nhdr, "A", 1) == 2);
    CHECK(h1_find(hdrs, r.nhdr, "a", 3) == -1);
    CHECK(h1_find(hdrs, r.nhdr, "BB", 0) == 1);
    CHECK(h1_find(hdrs, r.nhdr, "b", 0) == 3);
    CHECK(h1_find(hdrs, r.nhdr, "", 0) == -1);
    CHECK(h1_find(hdrs, r.nhdr, "c", 0) == -1);
    CHECK(h1_find(hdrs, 0, "a", 0) == -1);
}

/* ---- chunked --------------------------------------------------------- */

typedef struct ccase {
    const char *in;
    int want;           /* 1, 0 (input runs out) or H1_ERR_* */
    const char *body;   /* decoded data when want is 1 or 0 */
    size_t rest;        /* bytes left unconsumed after the end */
} ccase;

static const ccase chunks[] = {
    { "5\r\nhello\r\n0\r\n\r\n", 1, "hello", 0 },
    { "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", 1, "abcdef", 0 },
    { "0\r\n\r\n", 1, "", 0 },
    { "A\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789", 0 },
    { "a\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789", 0 },
    { "0005\r\nhello\r\n000\r\n\r\n", 1, "hello", 0 },
    /* a 17-digit size with leading zeros is fine: the value fits */
    { "00000000000000001\r\nx\r\n0\r\n\r\n", 1, "x", 0 },
    { "0000000000000000000000000000001\r\nx\r\n0\r\n\r\n", 1, "x", 0 },
    /* extensions, BWS before ';' */
    { "5;a=b;c\r\nhello\r\n0;x=\"y z\"\r\n\r\n", 1, "hello", 0 },
    { "5 ;a\r\nhello\r\n0\t; b = c\r\n\r\n", 1, "hello", 0 },
    { "5;\r\nhello\r\n0\r\n\r\n", 1, "hello", 0 },
    /* trailers, skipped */
    { "5\r\nhello\r\n0\r\nX: y\r\nZ: w\r\n\r\n", 1, "hello", 0 },
    { "0\r\nExpires: never\r\n  folded\r\n\r\n", 1, "", 0 },
    /* bare LF line ends (RFC 9112 2.2) */
    { "5\nhello\r\n0\n\n", 1, "hello", 0 },
    { "5;x\nhello\r\n0\nX: y\n\r\n", 1, "hello", 0 },
    { "5\nhello\n0\n\n", H1_ERR_CHUNK, 0, 0 },
    /* the next response follows: not consumed */
    { "2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 1, "hi", 19 },
    { "0\n\nX", 1, "", 1 },
    /* bad sizes */
    { "-1\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "+1\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { " 1\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "\t1\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "0x1\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "1 \r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "1 2\r\nxy\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "g\r\n", H1_ERR_CHUNK, 0, 0 },
    { "\r\nhello\r\n", H1_ERR_CHUNK, 0, 0 },
    { ";a\r\n", H1_ERR_CHUNK, 0, 0 },
    { "1\rx\r\n", H1_ERR_CHUNK, 0, 0 },
    { "1;a\x01\r\nx\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "10000000000000000\r\n", H1_ERR_CHUNK, 0, 0 },        /* 17 digits */
    { "fffffffffffffffff\r\n", H1_ERR_CHUNK, 0, 0 },
    { "00001ffffffffffffffff\r\n", H1_ERR_CHUNK, 0, 0 },
    /* above INT64_MAX: refused (SECURITY.md E.29) */
    { "ffffffffffffffff\r\nabc", H1_ERR_CHUNK, 0, 0 },
    { "FFFFFFFFFFFFFFFF;x\r\n\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "8000000000000000\r\nabc", H1_ERR_CHUNK, 0, 0 },
    /* INT64_MAX: a valid size, but the data is never all there */
    { "7fffffffffffffff\r\nabc", 0, "abc", 0 },
    { "00007FFFFFFFFFFFFFFF;x\r\n\r\n0\r\n\r\n", 0, "\r\n0\r\n\r\n", 0 },
    /* data not followed by CRLF */
    { "5\r\nhelloX\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "5\r\nhello\rX0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "5\r\nhell\r\n0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    { "5\r\nhello0\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    /* bad end */
    { "0\r\n\rX", H1_ERR_CHUNK, 0, 0 },
    { "0\r\nA: b\rX\r\n\r\n", H1_ERR_CHUNK, 0, 0 },
    /* truncated: never complete */
    { "5\r\nhello\r\n0\r\n", 0, "hello", 0 },
    { "5\r\nhel", 0, "hel", 0 },
    { "0\r\nX: y\r\n", 0, "", 0 },
};

/* Feed in[0..len) in pieces of `step` bytes (0 = all at once), each piece
 * an exact-size heap copy.  Appends data to body; *used = bytes consumed
 * when the decoder stopped.  Returns the last result (0 = input ran out),
 * or 99 when the decoder made no progress. */
static int feed(h1_chunked *d, const char *in, size_t len, size_t step,
                char *body, size_t *blen, size_t *used)
{
    size_t off = 0;
    while (off < len) {
        size_t piece = step && step < len - off ? step : len - off, pos = 0;
        char *p = dup_n(in + off, piece);
        while (pos < piece) {
            size_t c, dl;
            const char *dp;
            int r = h1_chunked_step(d, p + pos, piece - pos, &c, &dp, &dl);
            if (dl) {
                if (dp < p + pos || dp + dl > p + piece) {
                    free(p);
                    return 98;
                }
                memcpy(body + *blen, dp, dl);
                *blen += dl;
            }
            pos += c;
            if (r != 0 || (c == 0 && dl == 0)) {
                free(p);
                *used = off + pos;
                return r != 0 ? r : 99;
            }
        }
        free(p);
        off += piece;
    }
    *used = off;
    return 0;
}

static void run_chunked_buf(const char *what, const char *in, size_t len,
                            int want, const char *body, size_t bodylen,
                            size_t rest, size_t stride)
{
    static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };
    char *out = malloc(len + 1);
    size_t i, k, blen, used, end = len - rest, bad = 0;
    h1_chunked d;
    int r;

    /* (1) whole and (2) one byte at a time, plus a few other splits */
    for (i = 0; i < sizeof steps / sizeof *steps; i++) {
        memset(&d, 0, sizeof d);
        blen = 0;
        r = feed(&d, in, len, steps[i], out, &blen, &used);
        CHECK_MSG(r == want, "%s: step %zu: got %d want %d", what, steps[i],
                  r, want);
        if (want >= 0)
            CHECK_MSG(blen == bodylen && memcmp(out, body, blen) == 0 &&
                      (want != 1 || used == end),
                      "%s: step %zu: body %zu used %zu", what, steps[i],
                      blen, used);
    }

    /* (3) every truncation: never complete; an error only if the whole
     * input has that error; data is a prefix of the body */
    for (k = 0; k < end; k = next_k(k, end, stride)) {
        memset(&d, 0, sizeof d);
        blen = 0;
        r = feed(&d, in, k, 0, out, &blen, &used);
        if (r == 1 || r > 1 || (r < 0 && r != want) ||
            (want >= 0 && (blen > bodylen || memcmp(out, body, blen))))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s: truncations: %zu bad", what, bad);
    free(out);
}

static void run_chunked(const ccase *c)
{
    run_chunked_buf(c->in, c->in, strlen(c->in), c->want, c->body,
                    c->body ? strlen(c->body) : 0, c->rest, 1);
}

static void test_chunked_misc(void)
{
    static const char nul[] = "1;a\0\r\nx\r\n0\r\n\r\n";
    static const char nul2[] = "0\r\nA: \0\r\n\r\n";
    h1_chunked d;
    size_t c, dl, n, i;
    const char *dp;
    char *m;

    run_chunked_buf("NUL in extension", nul, sizeof nul - 1, H1_ERR_CHUNK,
                    0, 0, 0, 1);
    run_chunked_buf("NUL in trailer", nul2, sizeof nul2 - 1, H1_ERR_CHUNK,
                    0, 0, 0, 1);

    /* errors stick; completion sticks */
    memset(&d, 0, sizeof d);
    CHECK(h1_chunked_step(&d, "x", 1, &c, &dp, &dl) == H1_ERR_CHUNK);
    CHECK(h1_chunked_step(&d, "0\r\n\r\n", 5, &c, &dp, &dl) ==
          H1_ERR_CHUNK && c == 0);
    memset(&d, 0, sizeof d);
    CHECK(h1_chunked_step(&d, "0\r\n\r\n", 5, &c, &dp, &dl) == 1 && c == 5);
    CHECK(h1_chunked_step(&d, "1\r\n", 3, &c, &dp, &dl) == 1 && c == 0);

    /* data is returned as slices of the input, then the call stops */
    memset(&d, 0, sizeof d);
    CHECK(h1_chunked_step(&d, "3\r\nabc\r\n0\r\n\r\n", 13, &c, &dp, &dl) ==
          0 && c == 6 && dl == 3 && memcmp(dp, "abc", 3) == 0);

    /* a size line of H1_MAX_LINE bytes before its LF is the most */
    n = H1_MAX_LINE + 16;
    m = malloc(n);
    m[0] = '1';
    m[1] = ';';
    memset(m + 2, 'e', n - 2);
    memcpy(m + H1_MAX_LINE - 1, "\r\nx\r\n0\r\n\r\n", 10);
    run_chunked_buf("longest extension", m, H1_MAX_LINE + 9, 1, "x", 1, 0,
                    997);
    memset(m + 2, 'e', n - 2);
    memcpy(m + H1_MAX_LINE, "\r\nx\r\n0\r\n\r\n", 10);
    run_chunked_buf("extension too long", m, H1_MAX_LINE + 10,
                    H1_ERR_TOO_LARGE, 0, 0, 0, 997);
    free(m);

    /* trailers: H1_MAX_HEAD bytes in all */
    n = H1_MAX_HEAD + 2000;
    m = malloc(n);
    memcpy(m, "0\r\n", 3);
    for (i = 3; i + 1000 < n; i += 1000) {
        memcpy(m + i, "T:", 2);
        memset(m + i + 2, 't', 996);
        memcpy(m + i + 998, "\r\n", 2);
    }
    memcpy(m + i, "\r\n", 2);
    run_chunked_buf("trailers too big", m, i + 2, H1_ERR_TOO_LARGE, 0, 0, 0,
                    4999);
    /* 300 lines of 1000 bytes + the last CRLF fit in H1_MAX_HEAD */
    memcpy(m + 3 + 300 * 1000, "\r\n", 2);
    run_chunked_buf("trailers just fit", m, 3 + 300 * 1000 + 2, 1, "", 0, 0,
                    4999);
    /* one trailer line longer than H1_MAX_LINE */
    memset(m + 3, 't', H1_MAX_LINE + 1);
    memcpy(m + 3, "T:", 2);
    memcpy(m + 3 + H1_MAX_LINE + 1, "\r\n\r\n", 4);
    run_chunked_buf("trailer line too long", m, H1_MAX_LINE + 8,
                    H1_ERR_TOO_LARGE, 0, 0, 0, 4999);
    free(m);

    /* a big chunk, all data delivered as slices */
    n = 200000;
    m = malloc(n + 32);
    i = (size_t)sprintf(m, "%zx\r\n", n);
    memset(m + i, 'd', n);
    memcpy(m + i + n, "\r\n0\r\n\r\n", 7);
    run_chunked_buf("big chunk", m, i + n + 7, 1, m + i, n, 0, 1999);
    free(m);
}

int main(void)
{
    size_t i;
    for (i = 0; i < sizeof heads / sizeof *heads; i++)
        run_head(&heads[i]);
    test_nul();
    test_limits();
    for (i = 0; i < sizeof framings / sizeof *framings; i++)
        run_framing(&framings[i]);
    test_find();
    for (i = 0; i < sizeof chunks / sizeof *chunks; i++)
        run_chunked(&chunks[i]);
    test_chunked_misc();
    free(last_whole);
    return T_END();
}
