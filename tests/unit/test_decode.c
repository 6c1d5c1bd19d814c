/* test_decode.c -- content decoding; inputs are made with zlib here. */
#include "decode.h"

#include <stdlib.h>
#include <zlib.h>

#include "hflow.h"
#include "t.h"

/* ---- building inputs ------------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 16;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Compress with deflateInit2 window bits wb: 31 gzip, 15 zlib, -15 raw. */
static buf pack(const void *in, size_t n, int wb)
{
    buf b = { 0, 0, 0 };
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, wb, 8, Z_DEFAULT_STRATEGY);
    b.cap = deflateBound(&z, n) + 32;
    b.p = malloc(b.cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = b.p;
    z.avail_out = (uInt)b.cap;
    deflate(&z, Z_FINISH);
    b.n = b.cap - z.avail_out;
    deflateEnd(&z);
    return b;
}

static buf repack(buf in, int wb)
{
    buf b = pack(in.p, in.n, wb);
    free(in.p);
    return b;
}

/* Some compressible text of n bytes. */
static unsigned char *text(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    size_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (unsigned char)("abcdefgh \n"[(seed >> 16) % 10]);
    }
    return p;
}

/* ---- decoding -------------------------------------------------------- */

static int sink(void *arg, const void *data, size_t len)
{
    buf *b = arg;
    put(b, data, len);
    return 0;
}

static int stop_at; /* sink_stop returns 7 once this many bytes came */
static int sink_stop(void *arg, const void *data, size_t len)
{
    buf *b = arg;
    put(b, data, len);
    return (int)b->n >= stop_at ? 7 : 0;
}

/* Decode in[0..n) fed in pieces of step bytes (0 = at once), each an
 * exact-size heap copy.  Returns the first non-zero of new/feed/finish;
 * decoded bytes go to out. */
static int decode(const char *ce, const void *in, size_t n, size_t step,
                  buf *out)
{
    decoder *d;
    size_t off = 0;
    int r = decoder_new(&d, ce, sink, out);
    out->n = 0;
    if (r)
        return r;
    if (!d) {
        put(out, in, n);
        return 0;
    }
    while (off < n && r == 0) {
        size_t k = step && step < n - off ? step : n - off;
        void *p = malloc(k);
        memcpy(p, (const char *)in + off, k);
        r = decoder_feed(d, p, k);
        free(p);
        off += k;
    }
    if (r == 0)
        r = decoder_finish(d);
    decoder_free(d);
    return r;
}

static int same(const buf *b, const void *p, size_t n)
{
    return b->n == n && (n == 0 || memcmp(b->p, p, n) == 0);
}

/* Decode whole, a byte at a time and in 1000-byte pieces: all must give
 * plain[0..n). */
static void round_trip(const char *what, const char *ce, const buf *enc,
                       const void *plain, size_t n)
{
    static const size_t steps[] = { 0, 1, 1000 };
    buf out = { 0, 0, 0 };
    size_t i;
    for (i = 0; i < 3; i++) {
        int r = decode(ce, enc->p, enc->n, steps[i], &out);
        CHECK_MSG(r == 0 && same(&out, plain, n),
                  "%s: step %zu: r %d, %zu bytes", what, steps[i], r, out.n);
    }
    free(out.p);
}

static void test_formats(void)
{
    size_t n = 300000; /* several 64 KiB output buffers */
    unsigned char *t = text(n, 1);
    buf g = pack(t, n, 31), z = pack(t, n, 15), raw = pack(t, n, -15);
    buf e = pack("", 0, 31), out = { 0, 0, 0 };

    round_trip("gzip", "gzip", &g, t, n);
    round_trip("x-gzip", "x-gzip", &g, t, n);
    round_trip("GZIP", " GZip ", &g, t, n);
    round_trip("deflate (zlib)", "deflate", &z, t, n);
    round_trip("deflate (raw)", "deflate", &raw, t, n);
    round_trip("identity, gzip", "identity, gzip", &g, t, n);
    round_trip("empty gzip member", "gzip", &e, "", 0);

    /* gzip is not zlib and the other way round */
    CHECK(decode("gzip", z.p, z.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("gzip", raw.p, raw.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("deflate", g.p, g.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);

    /* identity only, or nothing: no decoder at all */
    {
        decoder *d = (decoder *)&out;
        CHECK(decoder_new(&d, "identity", sink, &out) == 0 && d == NULL);
        d = (decoder *)&out;
        CHECK(decoder_new(&d, "", sink, &out) == 0 && d == NULL);
        d = (decoder *)&out;
        CHECK(decoder_new(&d, NULL, sink, &out) == 0 && d == NULL);
        d = (decoder *)&out;
        CHECK(decoder_new(&d, " , identity,", sink, &out) == 0 && d == NULL);
    }
    free(t);
    free(g.p);
    free(z.p);
    free(raw.p);
    free(e.p);
    free(out.p);
}

static void test_chains(void)
{
    size_t n = 100000;
    unsigned char *t = text(n, 2);
    buf b, out = { 0, 0, 0 };
    decoder *d;

    /* "deflate, gzip": deflate applied first, so gunzip, then inflate */
    b = repack(pack(t, n, 15), 31);
    round_trip("deflate, gzip", "deflate, gzip", &b, t, n);
    CHECK(decode("gzip, deflate", b.p, b.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    free(b.p);

    b = repack(pack(t, n, 31), 31);
    round_trip("gzip, gzip", "gzip,gzip", &b, t, n);
    free(b.p);

    /* five is the most (curl's limit; CVE-2022-32206) */
    b = repack(repack(repack(repack(pack(t, n, -15), 31), 15), 31), 31);
    round_trip("5 codings", "deflate, gzip, deflate, x-gzip, gzip", &b,
               t, n);
    free(b.p);
    d = NULL;
    CHECK(decoder_new(&d, "gzip, gzip, gzip, gzip, gzip, gzip", sink,
                      &out) == HF_E_BAD_CONTENT_ENCODING && d == NULL);
    CHECK(decoder_new(&d, "gzip,identity,gzip,gzip,gzip,gzip,identity",
                      sink, &out) == 0 && d != NULL);
    decoder_free(d);
    d = NULL;
    CHECK(decoder_new(&d, "deflate,deflate,deflate,deflate,deflate,gzip",
                      sink, &out) == HF_E_BAD_CONTENT_ENCODING && d == NULL);

    /* unknown codings */
    CHECK(decoder_new(&d, "br", sink, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzip, br", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "compress", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzip;q=1", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzipx", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzi", sink, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzip deflate", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    free(t);
    free(out.p);
}

/* Every proper prefix of enc fails (at feed or at finish); so does every
 * single-byte change from byte `from` on. */
static void broken(const char *what, const char *ce, const buf *enc,
                   size_t from)
{
    buf out = { 0, 0, 0 };
    size_t k, bad = 0;
    unsigned char *c = malloc(enc->n);

    for (k = 1; k < enc->n; k++)
        if (decode(ce, enc->p, k, 0, &out) != HF_E_BAD_CONTENT_ENCODING)
            bad++;
    CHECK_MSG(bad == 0, "%s: %zu truncations decoded", what, bad);
    for (bad = 0, k = from; k < enc->n; k++) {
        memcpy(c, enc->p, enc->n);
        c[k] ^= 0x55;
        if (decode(ce, c, enc->n, 0, &out) != HF_E_BAD_CONTENT_ENCODING)
            bad++;
    }
    CHECK_MSG(bad == 0, "%s: %zu corrupted inputs decoded", what, bad);
    free(c);
    free(out.p);
}

static void test_broken(void)
{
    unsigned char *t = text(3000, 3);
    buf g = pack(t, 3000, 31), z = pack(t, 3000, 15);
    buf out = { 0, 0, 0 };

    broken("gzip", "gzip", &g, 10); /* header bytes 4..9 are not checked */
    broken("zlib", "deflate", &z, 2); /* a bad zlib header means raw */
    broken("gzip, gzip", "gzip, gzip", &g, 100000); /* truncations only */

    /* truncated at the end (the trailer) fails only at finish */
    {
        decoder *d;
        CHECK(decoder_new(&d, "gzip", sink, &out) == 0);
        CHECK(decoder_feed(d, g.p, g.n - 1) == 0);
        CHECK(out.n == 3000);
        CHECK(decoder_finish(d) == HF_E_BAD_CONTENT_ENCODING);
        decoder_free(d);
    }
    /* a raw stream that stops short */
    {
        buf raw = pack(t, 3000, -15);
        CHECK(decode("deflate", raw.p, raw.n / 2, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        CHECK(decode("deflate", raw.p, 1, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        put(&raw, "x", 1);
        CHECK(decode("deflate", raw.p, raw.n, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        free(raw.p);
    }
    /* an empty body is an empty body */
    CHECK(decode("gzip", "", 0, 0, &out) == 0 && out.n == 0);
    CHECK(decode("deflate, gzip", "", 0, 0, &out) == 0 && out.n == 0);
    /* garbage */
    CHECK(decode("gzip", "hello world", 11, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("deflate", "hello world", 11, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    free(t);
    free(g.p);
    free(z.p);
    free(out.p);
}

static void test_members(void)
{
    buf a = pack("hello ", 6, 31), b = pack("world", 5, 31), cat = { 0, 0, 0 };
    buf z = pack("hello ", 6, 15), out = { 0, 0, 0 };

    /* concatenated gzip members (RFC 1952 2.2) */
    put(&cat, a.p, a.n);
    put(&cat, b.p, b.n);
    round_trip("two members", "gzip", &cat, "hello world", 11);
    put(&cat, a.p, a.n);
    round_trip("three members", "gzip", &cat, "hello worldhello ", 17);
    /* the second member cut short, or followed by garbage */
    CHECK(decode("gzip", cat.p, cat.n - 3, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("gzip", cat.p, a.n + 5, 1, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    put(&cat, "junk", 4);
    CHECK(decode("gzip", cat.p, cat.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("gzip", cat.p, cat.n, 1, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    cat.n = a.n;
    put(&cat, "\0\0\0\0", 4);
    CHECK(decode("gzip", cat.p, cat.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);

    /* after a zlib stream nothing may follow, not even a second stream */
    cat.n = 0;
    put(&cat, z.p, z.n);
    put(&cat, z.p, z.n);
    CHECK(decode("deflate", cat.p, cat.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("deflate", cat.p, z.n + 1, 1, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    free(a.p);
    free(b.p);
    free(z.p);
    free(cat.p);
    free(out.p);
}

static void test_callback(void)
{
    size_t n = 1000000;
    unsigned char *zeros = calloc(1, n);
    buf g = repack(pack(zeros, n, 31), 31), out = { 0, 0, 0 };
    decoder *d;
    int r;

    /* a small input that inflates a lot, through two stages */
    CHECK(g.n < 5000);
    round_trip("1 MB of zeros, gzip twice", "gzip, gzip", &g, zeros, n);

    /* the callback's value stops decoding, and sticks */
    stop_at = 100000;
    CHECK(decoder_new(&d, "gzip, gzip", sink_stop, &out) == 0);
    r = decoder_feed(d, g.p, g.n);
    CHECK(r == 7 && out.n >= 100000 && out.n < n);
    CHECK(decoder_feed(d, g.p, 1) == 7);
    CHECK(decoder_finish(d) == 7);
    decoder_free(d);
    decoder_free(NULL);
    free(zeros);
    free(g.p);
    free(out.p);
}

int main(void)
{
    test_formats();
    test_chains();
    test_broken();
    test_members();
    test_callback();
    return T_END();
}
