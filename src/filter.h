/* filter.h -- connection filters: the layers between the socket and HTTP
 * (../shared/DESIGN.md).  Each layer has the same small interface; the
 * transfer talks to the top one.  The bottom layer is the plain socket
 * (conn.c); TLS (tls.c) sits on it.  Proxies add handshake-only layers
 * later.  All calls are non-blocking: when a layer cannot go on it sets
 * *want to LOOP_READ and/or LOOP_WRITE (what the socket must become) and
 * reports no progress. */
#ifndef HF_FILTER_H
#define HF_FILTER_H
#include <stddef.h>

typedef struct filter filter;

typedef struct filter_ops {
    const char *name;
    /* Advance the layer's handshake.  Returns 0 and sets *done = 1 when it
     * is complete (or *done = 0 and *want when it must wait), or an HF_E_*
     * value with a one-line reason in why (no trailing period). */
    int (*handshake)(filter *f, int *done, int *want, char *why, size_t wn);
    /* Send up to n bytes.  Returns 0 with *nw bytes taken (0 with *want set
     * means: would block), or HF_E_SEND (or another HF_E_*) with why. */
    int (*send)(filter *f, const void *p, size_t n, size_t *nw, int *want,
                char *why, size_t wn);
    /* Receive up to n bytes.  Returns 0 with *nr > 0 bytes, or *nr == 0 and
     * *want set (would block), or *nr == 0 and *want == 0: orderly end of
     * stream.  An error: HF_E_RECV (or another HF_E_*) with why. */
    int (*recv)(filter *f, void *p, size_t n, size_t *nr, int *want,
                char *why, size_t wn);
    /* Bytes the layer holds already (decrypted, buffered) that epoll cannot
     * see: the reader must call recv again before waiting.  */
    int (*pending)(const filter *f);
    /* Orderly close (e.g. TLS close_notify), best effort, non-blocking. */
    void (*shutdown)(filter *f);
    /* Free the layer (not the socket: the connection closes that). */
    void (*destroy)(filter *f);
} filter_ops;

struct filter {
    const filter_ops *ops;
    int fd;          /* the socket under every layer */
    void *ctx;       /* the layer's own state */
};
#endif
