/* test_decode.c -- content decoding; inputs are made here with zlib,
 * libbrotlienc and libzstd. */
#define ZLIB_CONST
#include "decode.h"

#include <brotli/encode.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

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

/* br at quality q, window 2^lgwin (large: a large-window stream) */
static buf brpack2(const void *in, size_t n, int q, int lgwin, int large)
{
    buf b = { 0, 0, 0 };
    BrotliEncoderState *e = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    const uint8_t *next_in = in;
    size_t avail_in = n;
    BrotliEncoderSetParameter(e, BROTLI_PARAM_QUALITY, (uint32_t)q);
    BrotliEncoderSetParameter(e, BROTLI_PARAM_LARGE_WINDOW, (uint32_t)large);
    BrotliEncoderSetParameter(e, BROTLI_PARAM_LGWIN, (uint32_t)lgwin);
    for (;;) {
        uint8_t tmp[65536], *next_out = tmp;
        size_t avail_out = sizeof tmp;
        BrotliEncoderCompressStream(e, BROTLI_OPERATION_FINISH, &avail_in,
                                    &next_in, &avail_out, &next_out, NULL);
        put(&b, tmp, sizeof tmp - avail_out);
        if (BrotliEncoderIsFinished(e))
            break;
    }
    BrotliEncoderDestroyInstance(e);
    return b;
}

static buf brpack(const void *in, size_t n)
{
    return brpack2(in, n, 5, 22, 0);
}

/* A zstd frame at level 3 with window 2^wlog (0: the default), with or
 * without a checksum; the size goes in the header unless streamed. */
static buf zpack2(const void *in, size_t n, int wlog, int checksum,
                  int streamed)
{
    buf b = { 0, 0, 0 };
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_inBuffer ib = { in, n, 0 };
    size_t r;
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
    if (wlog)
        ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
    if (!streamed)
        ZSTD_CCtx_setPledgedSrcSize(c, n);
    /* streamed: the size is not known when the frame starts (ZSTD_e_end
     * at once would tell it, and shrink the window to fit) */
    while (streamed && ib.pos < ib.size) {
        unsigned char tmp[65536];
        ZSTD_outBuffer ob = { tmp, sizeof tmp, 0 };
        ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
        put(&b, tmp, ob.pos);
    }
    do {
        unsigned char tmp[65536];
        ZSTD_outBuffer ob = { tmp, sizeof tmp, 0 };
        r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
        put(&b, tmp, ob.pos);
    } while (r != 0 && !ZSTD_isError(r));
    ZSTD_freeCCtx(c);
    return b;
}

static buf zpack(const void *in, size_t n)
{
    return zpack2(in, n, 0, 1, 0);
}

/* Apply the codings of ce (", "-separated, in order) to in[0..n). */
static buf stack(const char *ce, const void *in, size_t n)
{
    buf b = { 0, 0, 0 };
    char name[16];
    put(&b, in, n);
    while (*ce) {
        size_t k = strcspn(ce, ",");
        buf e;
        snprintf(name, sizeof name, "%.*s", (int)k, ce);
        if (strcmp(name, "gzip") == 0)
            e = pack(b.p, b.n, 31);
        else if (strcmp(name, "deflate") == 0)
            e = pack(b.p, b.n, 15);
        else if (strcmp(name, "br") == 0)
            e = brpack(b.p, b.n);
        else
            e = zpack(b.p, b.n);
        free(b.p);
        b = e;
        ce += k;
        while (*ce == ',' || *ce == ' ')
            ce++;
    }
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
    CHECK(decoder_new(&d, "brotli", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "gzip, bro", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "zst", sink, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "zstd1, gzip", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decoder_new(&d, "x-compress", sink, &out) ==
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

/* ---- br and zstd --------------------------------------------------- */

static void test_br_zstd(void)
{
    size_t n = 300000;
    unsigned char *t = text(n, 4);
    buf b = brpack(t, n), z = zpack(t, n), zs = zpack2(t, n, 0, 0, 1);
    buf eb = brpack("", 0), ez = zpack("", 0), cat = { 0, 0, 0 };
    buf out = { 0, 0, 0 }, h1 = zpack("hello ", 6), h2 = zpack("world", 5);
    static const unsigned char skip[] = { 0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0,
                                          'a', 'b', 'c' };

    round_trip("br", "br", &b, t, n);
    round_trip("BR", " Br ", &b, t, n);
    round_trip("zstd", "zstd", &z, t, n);
    round_trip("ZSTD", "ZStd", &z, t, n);
    round_trip("zstd, streamed, no checksum", "zstd", &zs, t, n);
    round_trip("empty br", "br", &eb, "", 0);
    round_trip("empty zstd frame", "zstd", &ez, "", 0);
    CHECK(eb.n > 0 && ez.n > 0);
    /* br is not zstd and the other way round */
    CHECK(decode("br", z.p, z.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("zstd", b.p, b.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("gzip", b.p, b.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);

    /* zstd frames follow each other (RFC 8878 3), skippable ones too */
    put(&cat, h1.p, h1.n);
    put(&cat, h2.p, h2.n);
    round_trip("two zstd frames", "zstd", &cat, "hello world", 11);
    cat.n = 0;
    put(&cat, skip, sizeof skip);
    put(&cat, h1.p, h1.n);
    put(&cat, skip, sizeof skip);
    put(&cat, ez.p, ez.n);
    put(&cat, h2.p, h2.n);
    put(&cat, skip, sizeof skip);
    round_trip("zstd with skippable frames", "zstd", &cat, "hello world",
               11);
    /* after the last frame: junk, part of a magic number, a whole one */
    cat.n = h1.n;
    put(&cat, "junk", 4);
    CHECK(decode("zstd", cat.p, cat.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("zstd", cat.p, cat.n, 1, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    cat.n = h1.n;
    put(&cat, "\0", 1);
    CHECK(decode("zstd", cat.p, cat.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    {
        size_t k;
        for (k = 1; k <= 4; k++) {
            decoder *d;
            int r1, r2;
            CHECK(decoder_new(&d, "zstd", sink, &out) == 0);
            r1 = decoder_feed(d, h1.p, h1.n);
            r2 = decoder_feed(d, h2.p, k); /* the magic's first k bytes */
            CHECK_MSG(r1 == 0 && r2 == 0 && out.n == 6 &&
                      decoder_finish(d) == HF_E_BAD_CONTENT_ENCODING,
                      "magic prefix %zu", k);
            decoder_free(d);
            out.n = 0;
        }
    }
    /* libzstd's pre-1.0 (legacy) frames are not the zstd coding */
    {
        buf l = { 0, 0, 0 };
        put(&l, h1.p, h1.n);
        l.p[0] = 0x27; /* v0.7 magic FD2FB527 */
        CHECK(decode("zstd", l.p, l.n, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        l.p[0] = 0x25; /* v0.5 */
        CHECK(decode("zstd", l.p, l.n, 1, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        free(l.p);
    }
    /* a window over 8 MiB is refused (RFC 9659 3), 8 MiB is taken */
    {
        buf w23 = zpack2(t, n, 23, 0, 1), w24 = zpack2(t, n, 24, 0, 1);
        buf w27 = zpack2(t, n, 27, 1, 1);
        round_trip("zstd window 8 MiB", "zstd", &w23, t, n);
        CHECK(decode("zstd", w24.p, w24.n, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING && out.n == 0);
        CHECK(decode("zstd", w27.p, w27.n, 7, &out) ==
              HF_E_BAD_CONTENT_ENCODING && out.n == 0);
        free(w23.p);
        free(w24.p);
        free(w27.p);
    }
    /* one br stream only: a second one, or a byte, after it is garbage */
    cat.n = 0;
    put(&cat, eb.p, eb.n);
    put(&cat, eb.p, eb.n);
    CHECK(decode("br", cat.p, cat.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("br", cat.p, cat.n, 1, &out) == HF_E_BAD_CONTENT_ENCODING);
    cat.n = 0;
    put(&cat, b.p, b.n);
    put(&cat, "", 1);
    CHECK(decode("br", cat.p, cat.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("br", cat.p, cat.n, 4096, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    /* large-window brotli is not RFC 7932 */
    {
        buf lw = brpack2(t, n, 5, 26, 1);
        CHECK(decode("br", lw.p, lw.n, 0, &out) ==
              HF_E_BAD_CONTENT_ENCODING);
        free(lw.p);
    }
    /* an empty body is an empty body */
    CHECK(decode("br", "", 0, 0, &out) == 0 && out.n == 0);
    CHECK(decode("zstd, br", "", 0, 0, &out) == 0 && out.n == 0);
    /* garbage */
    CHECK(decode("br", "hello world", 11, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("zstd", "hello world", 11, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    free(t);
    free(b.p);
    free(z.p);
    free(zs.p);
    free(eb.p);
    free(ez.p);
    free(h1.p);
    free(h2.p);
    free(cat.p);
    free(out.p);
}

static void test_stacks(void)
{
    static const char *const ok[] = {
        "gzip, br", "zstd, gzip", "br, zstd", "deflate, br", "br, br",
        "zstd, zstd", "br, zstd, deflate, gzip, br",
        "zstd,identity,br,gzip,zstd,x-gzip",
    };
    size_t n = 100000, i;
    unsigned char *t = text(n, 5);
    buf b, out = { 0, 0, 0 };
    decoder *d = NULL;

    for (i = 0; i < sizeof ok / sizeof *ok; i++) {
        char apply[64];
        /* identity is not applied; x-gzip is gzip */
        const char *p = ok[i];
        size_t m = 0;
        while (*p) {
            if (strncmp(p, "identity,", 9) == 0)
                p += 9;
            else if (strncmp(p, "x-", 2) == 0)
                p += 2;
            else
                apply[m++] = *p++;
        }
        apply[m] = '\0';
        b = stack(apply, t, n);
        round_trip(ok[i], ok[i], &b, t, n);
        free(b.p);
    }
    /* the order matters */
    b = stack("gzip, br", t, n);
    CHECK(decode("br, gzip", b.p, b.n, 0, &out) ==
          HF_E_BAD_CONTENT_ENCODING);
    CHECK(decode("gzip", b.p, b.n, 0, &out) == HF_E_BAD_CONTENT_ENCODING);
    free(b.p);
    /* six in all, whatever the mix, is one too many (E.27) */
    CHECK(decoder_new(&d, "br, br, br, br, br, br", sink, &out) ==
          HF_E_BAD_CONTENT_ENCODING && d == NULL);
    CHECK(decoder_new(&d, "zstd, gzip, br, deflate, zstd, br", sink,
                      &out) == HF_E_BAD_CONTENT_ENCODING && d == NULL);
    /* as from six Content-Encoding fields, joined by the caller */
    CHECK(decoder_new(&d, "zstd, br, gzip, zstd, br, x-gzip", sink,
                      &out) == HF_E_BAD_CONTENT_ENCODING && d == NULL);
    free(t);
    free(out.p);
}

/* Like broken() for codings whose every change need not show: all proper
 * prefixes fail; single-byte changes from `from` on give 0 or
 * HF_E_BAD_CONTENT_ENCODING, at least min_pct % of them the error. */
static void broken_some(const char *what, const char *ce, const buf *enc,
                        size_t from, int min_pct)
{
    buf out = { 0, 0, 0 };
    size_t k, bad = 0, caught = 0, tried = 0, odd = 0;
    unsigned char *c = malloc(enc->n);

    for (k = 1; k < enc->n; k++)
        if (decode(ce, enc->p, k, 0, &out) != HF_E_BAD_CONTENT_ENCODING)
            bad++;
    CHECK_MSG(bad == 0, "%s: %zu truncations decoded", what, bad);
    for (k = from; k < enc->n; k++) {
        int r;
        memcpy(c, enc->p, enc->n);
        c[k] ^= 0x55;
        r = decode(ce, c, enc->n, 0, &out);
        tried++;
        if (r == HF_E_BAD_CONTENT_ENCODING)
            caught++;
        else if (r != 0)
            odd++;
    }
    CHECK_MSG(odd == 0 && caught * 100 >= tried * (size_t)min_pct,
              "%s: %zu of %zu changes caught, %zu odd", what, caught, tried,
              odd);
    free(c);
    free(out.p);
}

static void test_broken2(void)
{
    unsigned char *t = text(3000, 6);
    buf b = brpack(t, 3000), z = zpack(t, 3000), zn = zpack2(t, 3000, 0, 0, 0);
    buf gb = stack("gzip, br", t, 3000), zg = stack("zstd, gzip", t, 3000);
    buf out = { 0, 0, 0 };

    /* zstd with its checksum: every change shows */
    broken("zstd", "zstd", &z, 0);
    /* without it, the size in the header and the block structure catch
     * most; brotli has no checksum at all (RFC 7932), but its structure
     * catches many */
    broken_some("zstd, no checksum", "zstd", &zn, 0, 20);
    broken_some("br", "br", &b, 0, 30);
    /* the outer gzip's CRC catches all changes inside a stack */
    broken("gzip, br", "gzip, br", &b, 100000); /* truncations only */
    broken("br over gzip", "gzip, br", &gb, 100000);
    broken("gzip over zstd", "zstd, gzip", &zg, 10);

    /* cut at the very end fails only at finish */
    {
        decoder *d;
        CHECK(decoder_new(&d, "zstd", sink, &out) == 0);
        CHECK(decoder_feed(d, z.p, z.n - 1) == 0);
        CHECK(decoder_finish(d) == HF_E_BAD_CONTENT_ENCODING);
        decoder_free(d);
        out.n = 0;
        CHECK(decoder_new(&d, "br", sink, &out) == 0);
        CHECK(decoder_feed(d, b.p, b.n - 1) == 0);
        CHECK(decoder_finish(d) == HF_E_BAD_CONTENT_ENCODING);
        CHECK(decoder_finish(d) == HF_E_BAD_CONTENT_ENCODING);
        decoder_free(d);
    }
    free(t);
    free(b.p);
    free(z.p);
    free(zn.p);
    free(gb.p);
    free(zg.p);
    free(out.p);
}

/* Every split of a small stream in two, and byte by byte. */
static void splits(const char *what, const char *ce, const buf *enc,
                   const void *plain, size_t n)
{
    buf out = { 0, 0, 0 };
    size_t i, bad = 0;
    for (i = 0; i <= enc->n; i++) {
        decoder *d;
        int r = decoder_new(&d, ce, sink, &out);
        out.n = 0;
        if (!r)
            r = decoder_feed(d, enc->p, i);
        if (!r)
            r = decoder_feed(d, enc->p + i, enc->n - i);
        if (!r)
            r = decoder_finish(d);
        decoder_free(d);
        if (r || !same(&out, plain, n))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s: %zu splits failed", what, bad);
    round_trip(what, ce, enc, plain, n);
    free(out.p);
}

static void test_splits(void)
{
    static const char msg[] = "hello, hello, hello world";
    size_t n = sizeof msg - 1;
    buf b = brpack(msg, n), z = zpack(msg, n), two = zpack(msg, n);
    buf e = zpack("", 0), gb = stack("gzip, br", msg, n);
    buf zg = stack("zstd, gzip", msg, n), bz = stack("br, zstd", msg, n);
    char twice[64];

    put(&two, e.p, e.n);
    put(&two, z.p, z.n);
    snprintf(twice, sizeof twice, "%s%s", msg, msg);
    splits("br", "br", &b, msg, n);
    splits("zstd", "zstd", &z, msg, n);
    splits("zstd, 3 frames", "zstd", &two, twice, 2 * n);
    splits("gzip, br", "gzip, br", &gb, msg, n);
    splits("zstd, gzip", "zstd, gzip", &zg, msg, n);
    splits("br, zstd", "br, zstd", &bz, msg, n);
    free(b.p);
    free(z.p);
    free(two.p);
    free(e.p);
    free(gb.p);
    free(zg.p);
    free(bz.p);
}

/* ---- the size limit ---------------------------------------------------- */

static int count(void *arg, const void *data, size_t len)
{
    (void)data;
    *(uint64_t *)arg += len;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_limit(void)
{
    static const char *const ces[] = { "gzip", "deflate", "br", "zstd",
                                       "gzip, br", "zstd, gzip" };
    size_t n = 300000, i;
    unsigned char *t = text(n, 7);
    buf out = { 0, 0, 0 };

    for (i = 0; i < sizeof ces / sizeof *ces; i++) {
        buf e = stack(ces[i], t, n);
        decoder *d;
        int r;
        /* exactly the limit is fine, one byte over is not */
        CHECK(decoder_new(&d, ces[i], sink, &out) == 0);
        decoder_set_limit(d, n);
        r = decoder_feed(d, e.p, e.n);
        CHECK_MSG(r == 0 && decoder_finish(d) == 0 && same(&out, t, n) &&
                      decoder_total(d) == n,
                  "%s: limit = size: r %d", ces[i], r);
        decoder_free(d);
        out.n = 0;
        CHECK(decoder_new(&d, ces[i], sink, &out) == 0);
        decoder_set_limit(d, n - 1);
        r = decoder_feed(d, e.p, e.n);
        CHECK_MSG(r == HF_E_TOO_LARGE && out.n == n - 1 &&
                      memcmp(out.p, t, n - 1) == 0 &&
                      decoder_total(d) == n - 1,
                  "%s: limit = size - 1: r %d, %zu bytes", ces[i], r,
                  out.n);
        /* it sticks */
        CHECK(decoder_feed(d, e.p, 1) == HF_E_TOO_LARGE);
        CHECK(decoder_finish(d) == HF_E_TOO_LARGE);
        decoder_free(d);
        out.n = 0;
        /* byte by byte, a small limit */
        CHECK(decoder_new(&d, ces[i], sink, &out) == 0);
        decoder_set_limit(d, 1000);
        {
            size_t k;
            r = 0;
            for (k = 0; k < e.n && r == 0; k++)
                r = decoder_feed(d, e.p + k, 1);
        }
        CHECK_MSG(r == HF_E_TOO_LARGE && out.n == 1000,
                  "%s: limit 1000 byte by byte: r %d, %zu bytes", ces[i], r,
                  out.n);
        decoder_free(d);
        out.n = 0;
        free(e.p);
    }
    /* 0 is no limit */
    {
        buf e = stack("br", t, n);
        decoder *d;
        CHECK(decoder_new(&d, "br", sink, &out) == 0);
        decoder_set_limit(d, 5);
        decoder_set_limit(d, 0);
        CHECK(decoder_feed(d, e.p, e.n) == 0 && decoder_finish(d) == 0 &&
              same(&out, t, n));
        decoder_free(d);
        free(e.p);
    }
    free(t);
    free(out.p);
}

/* Bombs: zeros, built streaming (never held decoded) and small. */

#define MiB ((uint64_t)1 << 20)
static unsigned char zeros_mib[1 << 20];

/* zstd at level 1 of `size` zeros (one frame), repeated `frames` times. */
static buf zstd_bomb(uint64_t size, int frames)
{
    buf one = { 0, 0, 0 }, b = { 0, 0, 0 };
    ZSTD_CCtx *c = ZSTD_createCCtx();
    uint64_t done = 0;
    int i;
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setPledgedSrcSize(c, size);
    while (done < size) {
        size_t k = size - done < MiB ? (size_t)(size - done) : MiB;
        ZSTD_EndDirective end = done + k == size ? ZSTD_e_end
                                                 : ZSTD_e_continue;
        ZSTD_inBuffer ib = { zeros_mib, k, 0 };
        size_t r;
        do {
            unsigned char tmp[65536];
            ZSTD_outBuffer ob = { tmp, sizeof tmp, 0 };
            r = ZSTD_compressStream2(c, &ob, &ib, end);
            put(&one, tmp, ob.pos);
        } while (end == ZSTD_e_end ? r != 0 : ib.pos < ib.size);
        done += k;
    }
    ZSTD_freeCCtx(c);
    for (i = 0; i < frames; i++)
        put(&b, one.p, one.n);
    free(one.p);
    return b;
}

/* br at quality 1 of `size` zeros. */
static buf br_bomb(uint64_t size)
{
    buf b = { 0, 0, 0 };
    BrotliEncoderState *e = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    uint64_t done = 0;
    BrotliEncoderSetParameter(e, BROTLI_PARAM_QUALITY, 1);
    while (done < size) {
        size_t k = size - done < MiB ? (size_t)(size - done) : MiB;
        BrotliEncoderOperation op = done + k == size
                                        ? BROTLI_OPERATION_FINISH
                                        : BROTLI_OPERATION_PROCESS;
        const uint8_t *next_in = zeros_mib;
        size_t avail_in = k;
        for (;;) {
            uint8_t tmp[65536], *next_out = tmp;
            size_t avail_out = sizeof tmp;
            BrotliEncoderCompressStream(e, op, &avail_in, &next_in,
                                        &avail_out, &next_out, NULL);
            put(&b, tmp, sizeof tmp - avail_out);
            if (avail_in == 0 && !BrotliEncoderHasMoreOutput(e) &&
                (op != BROTLI_OPERATION_FINISH || BrotliEncoderIsFinished(e)))
                break;
        }
        done += k;
    }
    BrotliEncoderDestroyInstance(e);
    return b;
}

/* One gzip member (wb 31) or zlib stream (wb 15) of prefix[0..plen) and
 * `mibs` MiB of zeros, without compressing them all: after a full flush
 * deflate starts afresh on a byte boundary, so the blocks for one MiB of
 * zeros can be repeated; the trailer is combined. */
static buf deflate_bomb(int wb, const void *prefix, size_t plen,
                        uint64_t mibs)
{
    buf b = { 0, 0, 0 }, one = { 0, 0, 0 };
    unsigned char tmp[65536], tr[8];
    z_stream z;
    uLong ck = wb == 31 ? crc32(0, NULL, 0) : adler32(0, NULL, 0), ckz;
    uint64_t i, total = plen + mibs * MiB;
    int pass;

    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    if (wb == 31)
        put(&b, "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
    else
        put(&b, "\x78\x01", 2);
    for (pass = 0; pass < 3; pass++) {
        buf *to = pass == 1 ? &one : &b;
        z.next_in = pass == 0 ? prefix : pass == 1 ? zeros_mib : NULL;
        z.avail_in = pass == 0 ? (uInt)plen : pass == 1 ? (uInt)MiB : 0;
        do {
            z.next_out = tmp;
            z.avail_out = sizeof tmp;
            deflate(&z, pass < 2 ? Z_FULL_FLUSH : Z_FINISH);
            put(to, tmp, sizeof tmp - z.avail_out);
        } while (z.avail_out == 0);
        if (pass == 1)
            for (i = 0; i < mibs; i++)
                put(&b, one.p, one.n);
    }
    deflateEnd(&z);
    if (wb == 31) {
        ck = crc32(ck, prefix, (uInt)plen);
        ckz = crc32(0, zeros_mib, (uInt)MiB);
        for (i = 0; i < mibs; i++)
            ck = crc32_combine(ck, ckz, (z_off_t)MiB);
        for (i = 0; i < 4; i++) {
            tr[i] = (unsigned char)(ck >> (8 * i));
            tr[4 + i] = (unsigned char)(total >> (8 * i)); /* mod 2^32 */
        }
        put(&b, tr, 8);
    } else {
        ck = adler32(ck, prefix, (uInt)plen);
        ckz = adler32(1, zeros_mib, (uInt)MiB);
        for (i = 0; i < mibs; i++)
            ck = adler32_combine(ck, ckz, (z_off_t)MiB);
        for (i = 0; i < 4; i++)
            tr[i] = (unsigned char)(ck >> (8 * (3 - i)));
        put(&b, tr, 4);
    }
    free(one.p);
    return b;
}

/* Decode bomb enc with a limit, fed at once or in 16 KiB reads: stops with
 * HF_E_TOO_LARGE after exactly `limit` bytes (`swallowed`: after none),
 * within a second. */
static void bomb(const char *what, const char *ce, const buf *enc,
                 uint64_t decoded, uint64_t limit, int swallowed)
{
    int pass;
    for (pass = 0; pass < 2; pass++) {
        uint64_t got = 0;
        size_t off = 0, step = pass ? 16384 : enc->n;
        decoder *d;
        double t0 = now(), dt;
        int r = decoder_new(&d, ce, count, &got);
        CHECK(r == 0 && d);
        decoder_set_limit(d, limit);
        while (r == 0 && off < enc->n) {
            size_t k = enc->n - off < step ? enc->n - off : step;
            r = decoder_feed(d, enc->p + off, k);
            off += k;
        }
        dt = now() - t0;
        CHECK_MSG(r == HF_E_TOO_LARGE &&
                      got == (swallowed ? 0 : limit) &&
                      decoder_total(d) == got,
                  "%s: r %d, %llu bytes out", what, r,
                  (unsigned long long)got);
        CHECK_MSG(dt < 1.0, "%s: %.3f s", what, dt);
        CHECK(decoder_finish(d) == HF_E_TOO_LARGE);
        decoder_free(d);
        printf("bomb %-26s %9zu B -> %6llu MiB, limit %llu MiB, %s: "
               "stopped after %llu B in %.1f ms (%zu B read)\n",
               what, enc->n, (unsigned long long)(decoded / MiB),
               (unsigned long long)(limit / MiB),
               pass ? "16 KiB reads" : "at once", (unsigned long long)got,
               dt * 1e3, off);
    }
}

static void test_bombs(void)
{
    uint64_t limit = 10 * MiB;
    buf b;
    /* a zstd skippable frame of 1 GiB: decodes to nothing */
    static const unsigned char skip[8] = { 0x50, 0x2a, 0x4d, 0x18,
                                           0, 0, 0, 0x40 };

    /* the constructions are right: small ones decode in full */
    {
        buf out = { 0, 0, 0 };
        unsigned char *z3 = calloc(1, 3 * MiB + 3);
        memcpy(z3, "abc", 3);
        b = deflate_bomb(31, "abc", 3, 3);
        CHECK(decode("gzip", b.p, b.n, 0, &out) == 0 &&
              same(&out, z3, 3 * MiB + 3));
        free(b.p);
        b = deflate_bomb(15, "abc", 3, 3);
        CHECK(decode("deflate", b.p, b.n, 0, &out) == 0 &&
              same(&out, z3, 3 * MiB + 3));
        free(b.p);
        b = zstd_bomb(3 * MiB + 3, 2);
        CHECK(decode("zstd", b.p, b.n, 0, &out) == 0 &&
              same(&out, z3 + 3, 3 * MiB) == 0 && out.n == 6 * MiB + 6);
        free(b.p);
        b = br_bomb(3 * MiB);
        CHECK(decode("br", b.p, b.n, 0, &out) == 0 &&
              same(&out, z3 + 3, 3 * MiB));
        free(b.p);
        /* with no limit, a skippable frame is just skipped */
        {
            unsigned char sk[8];
            memcpy(sk, skip, 8);
            sk[7] = 0;
            sk[6] = 0x30; /* 3 MiB */
            b = deflate_bomb(31, sk, 8, 3);
            CHECK(decode("zstd, gzip", b.p, b.n, 0, &out) == 0 &&
                  out.n == 0);
            free(b.p);
        }
        free(z3);
        free(out.p);
    }

    /* 10 MB -> 10 GiB in one gzip member (E.28) */
    b = deflate_bomb(31, "", 0, 10240);
    bomb("gzip 10 GiB", "gzip", &b, 10240 * MiB, limit, 0);
    free(b.p);
    b = deflate_bomb(15, "", 0, 1024);
    bomb("deflate 1 GiB", "deflate", &b, 1024 * MiB, limit, 0);
    free(b.p);
    b = br_bomb(1024 * MiB);
    bomb("br 1 GiB", "br", &b, 1024 * MiB, limit, 0);
    free(b.p);
    b = zstd_bomb(1024 * MiB, 10); /* ten frames */
    bomb("zstd 10 GiB", "zstd", &b, 10240 * MiB, limit, 0);
    free(b.p);
    /* stacked: gzip of a br bomb, br of a zstd bomb */
    {
        buf in = br_bomb(1024 * MiB);
        b = pack(in.p, in.n, 31);
        bomb("br 1 GiB in gzip", "br, gzip", &b, 1024 * MiB, limit, 0);
        free(in.p);
        free(b.p);
        in = zstd_bomb(1024 * MiB, 4);
        b = brpack(in.p, in.n);
        bomb("zstd 4 GiB in br", "zstd, br", &b, 4096 * MiB, limit, 0);
        free(in.p);
        free(b.p);
    }
    /* the inner layer swallows the outer one's output: the limit on
     * intermediate streams stops it all the same */
    b = deflate_bomb(31, skip, 8, 1024);
    bomb("zstd skip 1 GiB in gzip", "zstd, gzip", &b, 0, limit, 1);
    free(b.p);
}

int main(void)
{
    test_formats();
    test_chains();
    test_broken();
    test_members();
    test_callback();
    test_br_zstd();
    test_stacks();
    test_broken2();
    test_splits();
    test_limit();
    test_bombs();
    return T_END();
}
