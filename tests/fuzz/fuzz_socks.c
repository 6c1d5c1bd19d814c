/* FUZZ_SRC: src/socks.c */
/* fuzz_socks.c -- libFuzzer target for src/socks.c, the SOCKS4/4a/5
 * client state machine fed with a proxy's answer.
 * Input: byte 0 picks the kind (bits 0-1), the host (bits 2-4) and the
 * credentials (bits 5-7); byte 1 the pace (1..8 bytes a feed); the rest is
 * the proxy's whole answer.  The handshake runs at that pace and all at
 * once: both must end the same way, having taken the same bytes; a feed is
 * never over-taken, bytes after the reply are never taken, and every
 * result is one of the documented ones.  Over-long names and credentials
 * must be refused at init. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

static char name255[256], name256[257], name300[301];

static void init_names(void)
{
    if (name255[0]) return;
    memset(name255, 'a', 255);
    memset(name256, 'b', 256);
    memset(name300, 'c', 300);
}

typedef struct outcome {
    int rc;
    size_t taken;
    size_t sent;
    char err[320];
    char bound[300];
} outcome;

static int clean(const char *c)
{
    for (; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) return 0;
    return 1;
}

static void run(socks_kind kind, const char *host, const char *user,
                const char *pass, const uint8_t *a, size_t n, size_t pace,
                outcome *o)
{
    socks s;
    memset(o, 0, sizeof *o);
    int rc = socks_init(&s, kind, host, 80, user, pass);
    if (rc != 0) {
        if (rc != SOCKS_E_ARG && rc != SOCKS_E_NOMEM) abort();
        if (!socks_error(&s)[0] || !clean(socks_error(&s))) abort();
        o->rc = rc;
        socks_cleanup(&s);
        return;
    }
    size_t pos = 0;
    for (int guard = 0;; guard++) {
        if (guard > 100000) abort();
        const uint8_t *p;
        size_t len;
        rc = socks_out(&s, &p, &len);
        if (rc == SOCKS_SEND) {
            if (len == 0 || len > 1024) abort();
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < len; i++) sink ^= p[i];  /* readable */
            (void)sink;
            o->sent += len;
            if (socks_sent(&s, len) != SOCKS_NEED_MORE) abort();
            continue;
        }
        if (rc != SOCKS_NEED_MORE) break;
        if (pos == n) {
            rc = socks_eof(&s);
            if (rc != SOCKS_E_CLOSED) abort();
            break;
        }
        size_t k = n - pos < pace ? n - pos : pace;
        uint8_t *piece = malloc(k);   /* exact size: ASan sees over-reads */
        memcpy(piece, a + pos, k);
        size_t used = (size_t)-1;
        rc = socks_in(&s, piece, k, &used);
        free(piece);
        if (used > k) abort();
        if (rc == SOCKS_NEED_MORE && used != k) abort();
        pos += used;
        if (rc == SOCKS_SEND) continue;
        if (rc != SOCKS_NEED_MORE) break;
    }
    if (rc != SOCKS_DONE && rc != SOCKS_E_PROTO && rc != SOCKS_E_AUTH &&
        rc != SOCKS_E_REFUSED && rc != SOCKS_E_CLOSED)
        abort();
    if (rc < 0 && !socks_error(&s)[0]) abort();
    if (!clean(socks_error(&s))) abort();   /* one clean line */
    if (rc == SOCKS_DONE) {
        if (pos > SOCKS_MAX_REPLY + 4) abort();   /* method + auth + reply */
        if (socks_bound(&s, o->bound, sizeof o->bound) != 0) abort();
        /* nothing more is taken: the rest is the tunnel's */
        size_t used = 1;
        if (socks_in(&s, a, n, &used) != SOCKS_DONE || used != 0) abort();
        if (socks_eof(&s) != SOCKS_DONE) abort();
    }
    if (rc == SOCKS_E_REFUSED && s.reply_code < 0) abort();
    o->rc = rc;
    o->taken = pos;
    snprintf(o->err, sizeof o->err, "%s", socks_error(&s));
    socks_cleanup(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_names();
    if (size < 2) return 0;
    static const char *const hosts[8] = {
        "10.0.0.1", "::1", "example.com", "[2001:db8::1]", name255, name256,
        name300, "we\x01ird\xff.test"};
    static const char *const users[8][2] = {
        {NULL, NULL}, {"u", "p"}, {"u", NULL}, {name255, name255},
        {name256, "p"}, {"u", name256}, {"", "p"}, {"user", ""}};
    socks_kind kind = (socks_kind)(data[0] & 3);
    const char *host = hosts[(data[0] >> 2) & 7];
    const char *user = users[(data[0] >> 5) & 7][0];
    const char *pass = users[(data[0] >> 5) & 7][1];
    size_t pace = (size_t)(data[1] & 7) + 1;
    const uint8_t *a = data + 2;
    size_t n = size - 2;

    outcome slow, fast;
    run(kind, host, user, pass, a, n, pace, &slow);
    run(kind, host, user, pass, a, n, n ? n : 1, &fast);
    if (slow.rc != fast.rc || slow.taken != fast.taken ||
        slow.sent != fast.sent || strcmp(slow.err, fast.err) != 0 ||
        strcmp(slow.bound, fast.bound) != 0)
        abort();
    /* the limits: over 255 bytes is always refused at init */
    size_t hl = strlen(host);
    if (host[0] == '[') hl -= 2;
    int v5 = kind == SOCKS_V5 || kind == SOCKS_V5H;
    if (hl > 255 && slow.rc != SOCKS_E_ARG) abort();
    if (user && strlen(user) > 255 && slow.rc != SOCKS_E_ARG) abort();
    if (v5 && user && pass && strlen(pass) > 255 && slow.rc != SOCKS_E_ARG)
        abort();
    return 0;
}
