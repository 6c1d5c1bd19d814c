/* decode.c -- content codings with zlib (RFC 9110 8.4.1).
 *
 * One stage per coding, each with a fixed 64 KiB output buffer.  Stages
 * are kept in decoding order: st[0] undoes the last coding listed in the
 * header and its output feeds st[1], and so on; the last stage's output
 * goes to the caller's callback.  A stage always consumes all the input
 * it is given before returning, so its buffer can be reused at once. */
#define ZLIB_CONST
#include "decode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hflow.h"

#define OUT_SIZE (64 * 1024)

enum { K_GZIP = 1, K_DEFLATE };

struct stage {
    z_stream z;
    int kind;              /* K_* */
    int inited;            /* inflateInit2 done */
    int ended;             /* Z_STREAM_END seen, nothing after it yet */
    unsigned char hdr[2];  /* deflate: bytes held to sniff the zlib header */
    int nhdr;
    unsigned char out[OUT_SIZE];
};

struct decoder {
    int n;                                  /* stages */
    struct stage *st[DECODE_MAX_CHAIN];
    decode_out_fn *fn;
    void *arg;
    int err;                                /* sticky error */
    int fed;                                /* any input seen */
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

/* Output of stage k - 1. */
static int emit(decoder *d, int k, const unsigned char *p, size_t n)
{
    if (k == d->n)
        return d->fn(d->arg, p, n);
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

static int stage_feed(decoder *d, int k, const unsigned char *in,
                      size_t len)
{
    struct stage *s = d->st[k];
    int r;

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
        if (s->kind == K_GZIP && (r = init_stage(s, 16 + MAX_WBITS)) != 0) {
            decoder_free(d);
            return r;
        }
    }
    *out = d;
    return 0;
}

int decoder_feed(decoder *d, const void *in, size_t len)
{
    if (d->err)
        return d->err;
    if (len == 0)
        return 0;
    d->fed = 1;
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
        free(d->st[i]);
    }
    free(d);
}
