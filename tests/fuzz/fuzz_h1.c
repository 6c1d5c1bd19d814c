/* FUZZ_SRC: src/h1_parse.c */
/* fuzz_h1.c -- libFuzzer target for src/h1_parse.c.
 * The input is a response.  The head is parsed whole and again on growing
 * prefixes (steps derived from the input): a prefix of a good head must be
 * H1_INCOMPLETE, a prefix of a bad one INCOMPLETE or the same error, and
 * the final result the same.  Then the framing is decided, and what
 * follows the head (or the whole input if it has no head) goes through
 * the chunked decoder at once and in pieces: both runs must agree on the
 * result, the data and the bytes consumed.  Every call gets an exact-size
 * heap copy, so ASan catches reads past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h1_parse.h"

#define CAP 64

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* 1..16 bytes mostly, sometimes up to 512 */
static size_t piece(uint32_t *s, size_t left)
{
    uint32_t r = next_rand(s);
    size_t k = (r & 0x700) == 0 ? 1 + (r >> 16) % 512 : 1 + (r >> 16) % 16;
    return k < left ? k : left;
}

static char *dup_n(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (n)
        memcpy(c, p, n);
    return c;
}

static int same_slice(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void check_head(const uint8_t *data, size_t size, uint32_t *seed,
                       char *whole, int want, const h1_resp *ra,
                       const h1_header *ha)
{
    char *grow = dup_n((const char *)data, size), *p = NULL;
    h1_header hb[CAP];
    h1_resp rb;
    size_t k = 0, i;
    int r = H1_INCOMPLETE;

    while (k < size) {
        k += piece(seed, size - k);
        free(p);
        p = dup_n(grow, k);
        r = h1_parse_head(p, k, &rb, hb, CAP);
        memcpy(grow, p, k); /* keep the obs-fold rewriting, as a reader */
        if (want > 0 && r != (k < (size_t)want ? H1_INCOMPLETE : want))
            abort();
        if (want <= 0 && r != H1_INCOMPLETE && r != want)
            abort();
        if (r != H1_INCOMPLETE)
            break;
    }
    if (r != want)
        abort();
    if (want > 0) {
        if (rb.status != ra->status || rb.minor != ra->minor ||
            rb.nhdr != ra->nhdr || rb.nhdr > CAP ||
            !same_slice(rb.reason, rb.reason_len, ra->reason,
                        ra->reason_len) ||
            memcmp(grow, whole, (size_t)want) != 0)
            abort();
        for (i = 0; i < rb.nhdr; i++)
            if (!same_slice(hb[i].name, hb[i].name_len, ha[i].name,
                            ha[i].name_len) ||
                !same_slice(hb[i].value, hb[i].value_len, ha[i].value,
                            ha[i].value_len) ||
                ha[i].name < whole || ha[i].value < whole ||
                ha[i].value + ha[i].value_len > whole + want)
                abort();
    }
    free(p);
    free(grow);
}

/* Run the chunked decoder over in[0..n) in pieces (all at once when seed
 * is NULL).  Returns the result; data goes to out, *used = consumed. */
static int chunked(const char *in, size_t n, uint32_t *seed, char *out,
                   size_t *olen, size_t *used)
{
    h1_chunked d;
    size_t off = 0;
    memset(&d, 0, sizeof d);
    *olen = 0;
    while (off < n) {
        size_t k = seed ? piece(seed, n - off) : n - off, pos = 0;
        char *p = dup_n(in + off, k);
        while (pos < k) {
            size_t c, dl;
            const char *dp;
            int r = h1_chunked_step(&d, p + pos, k - pos, &c, &dp, &dl);
            if (c > k - pos || (dl && (dp < p + pos || dp + dl > p + k)))
                abort();
            if (dl)
                memcpy(out + *olen, dp, dl);
            *olen += dl;
            pos += c;
            if (r != 0) {
                free(p);
                *used = off + pos;
                return r;
            }
            if (c == 0)
                abort(); /* no progress */
        }
        free(p);
        off += k;
    }
    *used = off;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 2166136261u;
    char *whole = dup_n((const char *)data, size), *o1, *o2;
    h1_header ha[CAP];
    h1_resp ra;
    h1_framing f;
    size_t i, body = 0, l1, l2, u1, u2;
    int want, r1, r2;

    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    seed |= 1;

    want = h1_parse_head(whole, size, &ra, ha, CAP);
    check_head(data, size, &seed, whole, want, &ra, ha);
    if (want > 0) {
        body = (size_t)want;
        if (h1_framing_of(&ra, ha, (int)(seed & 1), &f) == 0 &&
            (f.kind < H1_BODY_NONE || f.kind > H1_BODY_CLOSE ||
             (f.kind == H1_BODY_CLOSE && !f.must_close)))
            abort();
    }

    o1 = malloc(size + 1);
    o2 = malloc(size + 1);
    r1 = chunked(whole + body, size - body, NULL, o1, &l1, &u1);
    r2 = chunked(whole + body, size - body, &seed, o2, &l2, &u2);
    if (r1 != r2 || !same_slice(o1, l1, o2, l2) ||
        (r1 == 1 && u1 != u2))
        abort();
    free(o1);
    free(o2);
    free(whole);
    return 0;
}
