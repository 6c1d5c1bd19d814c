/* FUZZ_SRC: src/tunnel.c src/proxy.c src/socks.c src/h1_parse.c src/auth.c src/buf.c */
/* FUZZ_LIBS: -lcrypto */
/* fuzz_tunnel.c -- libFuzzer target for src/tunnel.c: the proxy tunnel
 * layer (CONNECT with 1xx, 407 Digest/Basic retries and their bodies;
 * SOCKS4/4a/5/5h) over a fake lower layer that plays back the input as the
 * proxy's bytes, cut into pieces whose sizes the input chooses, with "would
 * block" between them, on both the send and the receive side.
 *
 * Input: byte 0 chooses the kind (TUNNEL_*), credentials and auth methods;
 * byte 1 seeds the piece sizes; the rest is what the proxy sends.
 * Checked: no crash, no leak, no sanitizer finding; the handshake ends
 * (done or an error) once the input is used up; an error has a one-line
 * message naming the proxy; after done, recv returns exactly a suffix of
 * the input (what followed the proxy's answer: nothing lost, nothing made
 * up). */
#include "filter.h"
#include "hflow.h"
#include "loop.h"
#include "tunnel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake {
    const uint8_t *in;
    size_t len, off;      /* the proxy's bytes, given out so far */
    unsigned seed;
    unsigned calls;
} fake;

static unsigned next(fake *k)
{
    k->seed = k->seed * 1103515245u + 12345u;
    return (k->seed >> 16) & 0x7fff;
}

static int f_hs(filter *f, int *done, int *want, char *why, size_t wn)
{
    (void)f, (void)why, (void)wn;
    *done = 1;
    *want = 0;
    return 0;
}

static int f_send(filter *f, const void *p, size_t n, size_t *nw, int *want,
                  char *why, size_t wn)
{
    fake *k = f->ctx;
    (void)p, (void)why, (void)wn;
    *nw = 0;
    *want = 0;
    if (++k->calls % 3 == 0) {           /* would block now and then */
        *want = LOOP_WRITE;
        return 0;
    }
    size_t m = 1 + next(k) % 64;
    *nw = m < n ? m : n;
    return 0;
}

static int f_recv(filter *f, void *p, size_t n, size_t *nr, int *want,
                  char *why, size_t wn)
{
    fake *k = f->ctx;
    (void)why, (void)wn;
    *nr = 0;
    *want = 0;
    if (++k->calls % 2 == 0 && k->off < k->len) {
        *want = LOOP_READ;
        return 0;
    }
    if (k->off == k->len)
        return 0;                         /* the end of the stream */
    size_t m = 1 + next(k) % 300;
    if (m > k->len - k->off)
        m = k->len - k->off;
    if (m > n)
        m = n;
    memcpy(p, k->in + k->off, m);
    k->off += m;
    *nr = m;
    return 0;
}

static int f_pending(const filter *f)
{
    (void)f;
    return 0;
}

static void f_shutdown(filter *f)
{
    (void)f;
}

static void f_destroy(filter *f)
{
    free(f);
}

static const filter_ops fake_ops = {
    "fake", f_hs, f_send, f_recv, f_pending, f_shutdown, f_destroy,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fake k = { data + 2, size - 2, 0, data[1], 0 };
    filter *low = calloc(1, sizeof *low);
    if (!low)
        return 0;
    low->ops = &fake_ops;
    low->fd = -1;
    low->ctx = &k;

    tunnel_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = data[0] % 5;
    int v4only = cfg.kind == TUNNEL_SOCKS4;
    cfg.host = (cfg.kind == TUNNEL_SOCKS4 || cfg.kind == TUNNEL_SOCKS5) ?
               (data[0] & 0x80 && !v4only ? "2001:db8::1" : "192.0.2.1")
               : "example.com";
    cfg.port = 443;
    cfg.proxy = "127.0.0.1:3128";
    if (data[0] & 0x08) {
        cfg.user = "user";
        cfg.password = data[0] & 0x10 ? "pass" : NULL;
    }
    cfg.auth = (data[0] >> 5) & 3;       /* 0, BASIC, DIGEST, both */
    cfg.max_head = data[0] & 0x40 ? 512 : 0;
    const char *hdrs[] = { "X-Fuzz: 1" };
    cfg.headers = hdrs;
    cfg.nheaders = cfg.kind == TUNNEL_CONNECT;

    filter *f = NULL;
    char why[600];
    if (tunnel_filter_new(low, &cfg, &f, why, sizeof why) != 0) {
        free(low);
        return 0;
    }
    int done = 0, rc = 0;
    /* each call makes progress or waits once; the fake never waits twice
     * in a row, so this bound is generous */
    for (size_t i = 0; i < 8 * size + 1000 && !done && !rc; i++) {
        int want = 0;
        rc = f->ops->handshake(f, &done, &want, why, sizeof why);
    }
    if (!done && !rc)
        abort();                          /* the handshake did not end */
    if (rc && (!strstr(why, "127.0.0.1:3128") || strchr(why, '\n')))
        abort();                          /* messages name the proxy */
    if (done) {
        /* what comes out now is exactly the rest of the input */
        uint8_t *got = malloc(k.len + 1);
        size_t n = 0;
        for (size_t i = 0; got && i < 8 * size + 1000; i++) {
            size_t nr = 0;
            int want = 0;
            if (f->ops->recv(f, got + n, k.len + 1 - n, &nr, &want, why,
                             sizeof why) != 0)
                abort();
            n += nr;
            if (nr == 0 && !want)
                break;
        }
        if (got && (n > k.len || memcmp(got, k.in + k.len - n, n) != 0 ||
                    k.off != k.len))
            abort();
        free(got);
    }
    f->ops->destroy(f);                   /* frees low too */
    return 0;
}
