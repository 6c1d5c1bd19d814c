/* decode.c -- content codings (RFC 9110 8.4.1) with zlib, libbrotlidec
 * and libzstd.
 *
 * One stage per coding, each with a fixed 64 KiB output buffer.  Stages
 * are kept in decoding order: st[0] undoes the last coding listed in the
 * header and its output feeds st[1], and so on; the last stage's output
 * goes to the caller's callback.  A stage always consumes all the input
 * it is given before returning (or fails), so its buffer can be reused at
 * once.  Every 64 KiB of output passes the size limit before the stage
 * decodes more, so a bomb stops within one buffer of the limit; memory is
 * the buffers plus each library's window (zlib 32 KiB, brotli at most
 * 16 MiB, zstd at most 8 MiB here). */
#define ZLIB_CONST
#include "decode.h"

#include <brotli/decode.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "hflow.h"

#define OUT_SIZE (64 * 1024)
/* RFC 9659 3: a zstd decoder must take windows up to 8 MiB, and an encoder
 * must not ask for more; refusing more bounds the memory a response can
 * make us allocate (libzstd's default is 128 MiB). */
#define ZSTD_WINDOW_LOG_MAX 23
/* Slack for intermediate streams of a chain (see decoder_set_limit). */
#define CHAIN_SLACK ((uint64_t)1 << 20)

enum { K_GZIP = 1, K_DEFLATE, K_BR, K_ZSTD };

struct stage {
    int kind;              /* K_* */
    z_stream z;            /* gzip, deflate */
    int inited;            /* inflateInit2 done */
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
    int ended;             /* the stream (or a zstd frame, or a gzip
                              member) ended, nothing after it yet */
    /* deflate: the first 2 bytes, held to sniff the zlib header; zstd: the
     * first 4 bytes of each frame, held to check its magic number */
    unsigned char hdr[4];
    int nhdr;
    uint64_t in_total;     /* bytes fed to this stage */
    unsigned char out[OUT_SIZE];
};

struct decoder {
    int n;                                  /* stages */
    struct stage *st[DECODE_MAX_CHAIN];
    decode_out_fn *fn;
    void *arg;
    int err;                                /* sticky error */
    int fed;                                /* any input seen */
    uint64_t limit;                         /* 0: none */
    uint64_t total;                         /* bytes given to fn */
};

static int stage_feed(decoder *d, int k, const unsigned char *in,
                      size_t len);

/* s[0..n) equals the lower-case name z, ignoring ASCII case (no locale) */
static int ieq(const char *s, size_t n, const char *z)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
        if (c != z[i])
            return 0;
    }
    return z[n] == '\0';
}

/* Output of stage k - 1: to stage k, or to the callback after the last. */
static int emit(decoder *d, int k, const unsigned char *p, size_t n)
{
    if (k == d->n) {
        uint64_t left = d->total < d->limit ? d->limit - d->total : 0;
        if (d->limit && n > left) {
            size_t room = (size_t)left;
            int r = room ? d->fn(d->arg, p, room) : 0;
            d->total += room;
            return r ? r : HF_E_TOO_LARGE;
        }
        d->total += n;
        return d->fn(d->arg, p, n);
    }
    if (d->limit) {
        /* limit * 2 + slack, without overflow */
        uint64_t cap = d->limit > (UINT64_MAX - CHAIN_SLACK) / 2
                           ? UINT64_MAX
                           : d->limit * 2 + CHAIN_SLACK;
        if (d->st[k]->in_total > cap || n > cap - d->st[k]->in_total)
            return HF_E_TOO_LARGE;
    }
    d->st[k]->in_total += n;
    return stage_feed(d, k, p, n);
}

static int init_stage(struct stage *s, int window_bits)
{
    int r = inflateInit2(&s->z, window_bits);
    if (r == Z_MEM_ERROR)
        return HF_E_NOMEM;
    if (r != Z_OK)
        return HF_E_BAD_CONTENT_ENCODING;
    s->inited = 1;
    return 0;
}

/* Run all of in[0..len) through the (initialised) stage k. */
static int inflate_all(decoder *d, int k, const unsigned char *in,
                       size_t len)
{
    struct stage *s = d->st[k];
    int zr, r;
    size_t got;

    while (len > 0) {
        uInt take = len > UINT_MAX ? UINT_MAX : (uInt)len;
        s->z.next_in = in;
        s->z.avail_in = take;
        in += take;
        len -= take;
        for (;;) {
            if (s->ended) {
                if (s->z.avail_in == 0)
                    break;
                /* More after the end: only a new gzip member may follow
                 * (RFC 1952 2.2); anything else is trailing garbage. */
                if (s->kind != K_GZIP || inflateReset(&s->z) != Z_OK)
                    return HF_E_BAD_CONTENT_ENCODING;
                s->ended = 0;
            }
            s->z.next_out = s->out;
            s->z.avail_out = OUT_SIZE;
            zr = inflate(&s->z, Z_NO_FLUSH);
            got = OUT_SIZE - s->z.avail_out;
            if (got && (r = emit(d, k + 1, s->out, got)) != 0)
                return r;
            if (zr == Z_STREAM_END)
                s->ended = 1;
            else if (zr == Z_MEM_ERROR)
                return HF_E_NOMEM;
            else if (zr == Z_BUF_ERROR)
                break; /* no progress possible: needs more input */
            else if (zr != Z_OK)
                return HF_E_BAD_CONTENT_ENCODING;
            else if (s->z.avail_in == 0 && s->z.avail_out != 0)
                break;
        }
    }
    return 0;
}

/* A zlib header (RFC 1950 2.2): CM 8, CINFO <= 7, FCHECK. */
static int zlib_header(const unsigned char *h)
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 &&
           ((unsigned)h[0] << 8 | h[1]) % 31 == 0;
}

/* ---- br ------------------------------------------------------------------ */

static int brotli_all(decoder *d, int k, const unsigned char *in, size_t len)
{
    struct stage *s = d->st[k];
    const uint8_t *next_in = in;
    size_t avail_in = len;
    int r;

    if (s->ended) /* one stream only (RFC 7932 2): trailing garbage */
        return HF_E_BAD_CONTENT_ENCODING;
    for (;;) {
        uint8_t *next_out = s->out;
        size_t avail_out = OUT_SIZE, got, before = avail_in;
        BrotliDecoderResult br = BrotliDecoderDecompressStream(
            s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        got = OUT_SIZE - avail_out;
        if (got && (r = emit(d, k + 1, s->out, got)) != 0)
            return r;
        switch (br) {
        case BROTLI_DECODER_RESULT_SUCCESS:
            s->ended = 1;
            return avail_in ? HF_E_BAD_CONTENT_ENCODING : 0;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            if (avail_in == 0)
                return 0;
            break;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            break;
        default: {
            int e = (int)BrotliDecoderGetErrorCode(s->br);
            /* BROTLI_DECODER_ERROR_ALLOC_* are -30 .. -21 */
            return e <= -21 && e >= -30 ? HF_E_NOMEM
                                        : HF_E_BAD_CONTENT_ENCODING;
        }
        }
        if (got == 0 && avail_in == before) /* no progress: never loop */
            return HF_E_BAD_CONTENT_ENCODING;
    }
}

/* ---- zstd ---------------------------------------------------------------- */

/* hdr[0..nhdr) can start a frame (RFC 8878 3.1.1: magic FD2FB528) or a
 * skippable frame (3.1.2: 184D2A5?), little-endian.  libzstd would also
 * take its pre-1.0 legacy formats, which are not the "zstd" coding and are
 * not held to the window limit. */
static int zstd_magic(const unsigned char *h, int n)
{
    static const unsigned char frame[4] = { 0x28, 0xb5, 0x2f, 0xfd };
    static const unsigned char skip[4] = { 0x50, 0x2a, 0x4d, 0x18 };
    int i, f = 1, sk = n < 1 || (h[0] & 0xf0) == 0x50;
    for (i = 0; i < n; i++) {
        f = f && h[i] == frame[i];
        sk = sk && (i == 0 || h[i] == skip[i]);
    }
    return f || sk;
}

/* Run in[0..len) through stage k until it is used up or a frame ends;
 * *used is what was consumed. */
static int zstd_run(decoder *d, int k, const unsigned char *in, size_t len,
                    size_t *used)
{
    struct stage *s = d->st[k];
    ZSTD_inBuffer ib = { in, len, 0 };
    int r = 0;

    for (;;) {
        ZSTD_outBuffer ob = { s->out, OUT_SIZE, 0 };
        size_t before = ib.pos;
        size_t zr = ZSTD_decompressStream(s->zs, &ob, &ib);
        if (ZSTD_isError(zr)) {
            r = ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation
                    ? HF_E_NOMEM
                    : HF_E_BAD_CONTENT_ENCODING;
            break;
        }
        if (ob.pos && (r = emit(d, k + 1, s->out, ob.pos)) != 0)
            break;
        if (zr == 0) { /* the frame ended and is all flushed */
            s->ended = 1;
            s->nhdr = 0; /* the next byte starts a new frame */
            break;
        }
        if (ib.pos == ib.size && ob.pos < ob.size)
            break; /* needs more input */
        if (ob.pos == 0 && ib.pos == before) /* no progress: never loop */
            return HF_E_BAD_CONTENT_ENCODING;
    }
    *used = ib.pos;
    return r;
}

static int zstd_all(decoder *d, int k, const unsigned char *in, size_t len)
{
    struct stage *s = d->st[k];
    size_t used;
    int r;

    while (len > 0) {
        if (s->nhdr < 4) {
            /* the start of a frame (RFC 8878 3: frames follow each other):
             * check its magic number before libzstd sees it */
            s->ended = 0;
            while (s->nhdr < 4 && len > 0) {
                s->hdr[s->nhdr++] = *in++;
                len--;
            }
            if (!zstd_magic(s->hdr, s->nhdr))
                return HF_E_BAD_CONTENT_ENCODING;
            if (s->nhdr < 4)
                return 0;
            /* no frame is 4 bytes long, so all four are taken */
            if ((r = zstd_run(d, k, s->hdr, 4, &used)) != 0)
                return r;
            if (used != 4 || s->nhdr != 4)
                return HF_E_BAD_CONTENT_ENCODING;
            continue;
        }
        if ((r = zstd_run(d, k, in, len, &used)) != 0)
            return r;
        in += used;
        len -= used;
    }
    return 0;
}

/* ---- any stage ----------------------------------------------------------- */

static int stage_feed(decoder *d, int k, const unsigned char *in,
                      size_t len)
{
    struct stage *s = d->st[k];
    int r;

    if (s->kind == K_BR)
        return brotli_all(d, k, in, len);
    if (s->kind == K_ZSTD)
        return zstd_all(d, k, in, len);
    /* "deflate" should be zlib (RFC 9110 8.4.1.2) but some servers send
     * raw deflate: look at the first two bytes before choosing. */
    while (!s->inited && len > 0) {
        s->hdr[s->nhdr++] = *in++;
        len--;
        if (s->nhdr == 2) {
            int raw = !zlib_header(s->hdr);
            if ((r = init_stage(s, raw ? -MAX_WBITS : MAX_WBITS)) != 0 ||
                (r = inflate_all(d, k, s->hdr, 2)) != 0)
                return r;
        }
    }
    return len ? inflate_all(d, k, in, len) : 0;
}

int decoder_new(decoder **out, const char *ce, decode_out_fn *fn, void *arg)
{
    int kinds[DECODE_MAX_CHAIN], n = 0, i, r;
    const char *p = ce ? ce : "";
    decoder *d;

    *out = NULL;
    /* A comma list of codings in the order applied (RFC 9110 8.4) */
    while (*p) {
        const char *b, *e;
        size_t m;
        int kind;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        for (b = p; *p && *p != ','; p++)
            ;
        for (e = p; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
            ;
        m = (size_t)(e - b);
        if (m == 0)
            continue;
        if (ieq(b, m, "gzip") || ieq(b, m, "x-gzip"))
            kind = K_GZIP;
        else if (ieq(b, m, "deflate"))
            kind = K_DEFLATE;
        else if (ieq(b, m, "br"))
            kind = K_BR;
        else if (ieq(b, m, "zstd"))
            kind = K_ZSTD;
        else if (ieq(b, m, "identity"))
            continue;
        else
            return HF_E_BAD_CONTENT_ENCODING;
        if (n == DECODE_MAX_CHAIN) /* CVE-2022-32206 */
            return HF_E_BAD_CONTENT_ENCODING;
        kinds[n++] = kind;
    }
    if (n == 0)
        return 0;

    d = calloc(1, sizeof *d);
    if (!d)
        return HF_E_NOMEM;
    d->fn = fn;
    d->arg = arg;
    for (i = 0; i < n; i++) {
        struct stage *s = calloc(1, sizeof *s);
        if (!s) {
            decoder_free(d);
            return HF_E_NOMEM;
        }
        d->st[d->n++] = s;
        s->kind = kinds[n - 1 - i]; /* decode in reverse */
        r = 0;
        if (s->kind == K_GZIP)
            r = init_stage(s, 16 + MAX_WBITS);
        else if (s->kind == K_BR) {
            /* the default: RFC 7932 windows only (no large window) */
            s->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
            r = s->br ? 0 : HF_E_NOMEM;
        } else if (s->kind == K_ZSTD) {
            s->zs = ZSTD_createDStream();
            if (!s->zs)
                r = HF_E_NOMEM;
            else if (ZSTD_isError(ZSTD_DCtx_setParameter(
                         s->zs, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
                r = HF_E_BAD_CONTENT_ENCODING;
        }
        if (r) {
            decoder_free(d);
            return r;
        }
    }
    *out = d;
    return 0;
}

void decoder_set_limit(decoder *d, uint64_t max_decoded)
{
    d->limit = max_decoded;
}

uint64_t decoder_total(const decoder *d)
{
    return d->total;
}

int decoder_feed(decoder *d, const void *in, size_t len)
{
    if (d->err)
        return d->err;
    if (len == 0)
        return 0;
    d->fed = 1;
    d->st[0]->in_total += len;
    d->err = stage_feed(d, 0, in, len);
    return d->err;
}

int decoder_finish(decoder *d)
{
    int i;
    if (d->err)
        return d->err;
    /* An empty body stays empty; otherwise every stream must be whole. */
    if (!d->fed)
        return 0;
    for (i = 0; i < d->n; i++)
        if (!d->st[i]->ended)
            return d->err = HF_E_BAD_CONTENT_ENCODING;
    return 0;
}

void decoder_free(decoder *d)
{
    int i;
    if (!d)
        return;
    for (i = 0; i < d->n; i++) {
        if (d->st[i]->inited)
            inflateEnd(&d->st[i]->z);
        if (d->st[i]->br)
            BrotliDecoderDestroyInstance(d->st[i]->br);
        ZSTD_freeDStream(d->st[i]->zs);
        free(d->st[i]);
    }
    free(d);
}
