/* FUZZ_SRC: src/decode.c */
/* FUZZ_LIBS: -lbrotlidec -lzstd */
/* fuzz_decode.c -- libFuzzer target for src/decode.c.
 * The first byte picks the Content-Encoding (its low 4 bits: gzip,
 * deflate, br, zstd and chains of them) and the size limit (bits 4-6; bit
 * 7 set: no limit, the sink stops after 1 MiB instead), the rest is the
 * body.  It is decoded at once and in pieces (sizes derived from the
 * input, each an exact-size heap copy).  Checked:
 *   - only 0, HF_E_BAD_CONTENT_ENCODING or HF_E_TOO_LARGE come back;
 *   - never more than the limit reaches the sink, and exactly the limit
 *     when HF_E_TOO_LARGE says it was passed;
 *   - both runs decode the same bytes as far as both got;
 *   - unless a limit or the sink stopped one of them, both give the same
 *     result, and on success the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "hflow.h"

#define CAP (1 << 20)
#define STOPPED 1000

typedef struct out {
    unsigned char *p;
    size_t n;
    uint64_t limit; /* 0: none, the sink stops at CAP */
} out;

static int sink(void *arg, const void *data, size_t len)
{
    out *o = arg;
    if (o->limit && o->n + len > o->limit)
        abort(); /* the decoder let more than its limit through */
    if (o->n + len > CAP)
        return STOPPED;
    if (len)
        memcpy(o->p + o->n, data, len);
    o->n += len;
    return 0;
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int run(const char *ce, const uint8_t *in, size_t n, uint32_t *seed,
               out *o)
{
    decoder *d;
    size_t off = 0;
    int r = decoder_new(&d, ce, sink, o);
    o->n = 0;
    if (r || !d)
        abort(); /* every coding below is known */
    decoder_set_limit(d, o->limit);
    while (off < n && r == 0) {
        size_t k = n - off;
        void *p;
        if (seed) {
            uint32_t x = next_rand(seed);
            k = 1 + ((x & 0x300) ? (x >> 16) % 32 : (x >> 16) % 2048);
            if (k > n - off)
                k = n - off;
        }
        p = malloc(k);
        memcpy(p, in + off, k);
        r = decoder_feed(d, p, k);
        free(p);
        off += k;
    }
    if (r == 0)
        r = decoder_finish(d);
    if (decoder_total(d) != o->n)
        abort();
    decoder_free(d);
    if (r == HF_E_TOO_LARGE && (!o->limit || o->n != o->limit))
        abort();
    if (r != 0 && r != STOPPED && r != HF_E_BAD_CONTENT_ENCODING &&
        r != HF_E_TOO_LARGE)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 0-5 as before br and zstd, so the old seeds keep their meaning */
    static const char *const ce[16] = {
        "gzip", "deflate", "x-gzip", "deflate, gzip", "gzip, gzip",
        "identity, deflate", "br", "zstd", "gzip, br", "zstd, gzip",
        "br, zstd", "br, br", "zstd, zstd", "deflate, zstd", "br, gzip",
        "zstd, br, deflate, gzip, br",
    };
    static const uint64_t limits[8] = { CAP, 1, 100, 4096, 65535, 65536,
                                        65537, 300000 };
    static unsigned char b1[CAP], b2[CAP];
    out o1 = { b1, 0, 0 }, o2 = { b2, 0, 0 };
    uint32_t seed = 2166136261u;
    const char *c;
    size_t i;
    int r1, r2;

    if (size == 0)
        return 0;
    c = ce[data[0] & 15];
    if (!(data[0] & 0x80))
        o1.limit = o2.limit = limits[(data[0] >> 4) & 7];
    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    seed |= 1;
    r1 = run(c, data + 1, size - 1, NULL, &o1);
    r2 = run(c, data + 1, size - 1, &seed, &o2);
    if (memcmp(o1.p, o2.p, o1.n < o2.n ? o1.n : o2.n) != 0)
        abort();
    if (r1 != STOPPED && r2 != STOPPED && r1 != HF_E_TOO_LARGE &&
        r2 != HF_E_TOO_LARGE &&
        (r1 != r2 || (r1 == 0 && (o1.n != o2.n ||
                                  memcmp(o1.p, o2.p, o1.n) != 0))))
        abort();
    return 0;
}
