/* FUZZ_SRC: src/decode.c */
/* fuzz_decode.c -- libFuzzer target for src/decode.c.
 * The first byte picks the Content-Encoding, the rest is the body.  It is
 * decoded at once and in pieces (sizes derived from the input, each an
 * exact-size heap copy); unless the sink stopped one of the runs (it stops
 * after 1 MiB, to bound bombs), both must give the same result, and on
 * success the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "hflow.h"

#define LIMIT (1 << 20)
#define STOPPED 1000

typedef struct out {
    unsigned char *p;
    size_t n;
} out;

static int sink(void *arg, const void *data, size_t len)
{
    out *o = arg;
    if (len == 0 || o->n + len > LIMIT)
        return o->n + len > LIMIT ? STOPPED : 0;
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
    decoder_free(d);
    if (r != 0 && r != STOPPED && r != HF_E_BAD_CONTENT_ENCODING)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ce[] = { "gzip", "deflate", "x-gzip",
                                      "deflate, gzip", "gzip, gzip",
                                      "identity, deflate" };
    static unsigned char b1[LIMIT], b2[LIMIT];
    out o1 = { b1, 0 }, o2 = { b2, 0 };
    uint32_t seed = 2166136261u;
    const char *c;
    size_t i;
    int r1, r2;

    if (size == 0)
        return 0;
    c = ce[data[0] % (sizeof ce / sizeof *ce)];
    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    seed |= 1;
    r1 = run(c, data + 1, size - 1, NULL, &o1);
    r2 = run(c, data + 1, size - 1, &seed, &o2);
    if (r1 != STOPPED && r2 != STOPPED &&
        (r1 != r2 || (r1 == 0 && (o1.n != o2.n ||
                                  memcmp(o1.p, o2.p, o1.n) != 0))))
        abort();
    return 0;
}
