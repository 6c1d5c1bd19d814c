/* connect.h -- from a URL's host to one connected TCP socket: names
 * (names.c, then the stub resolver), then happy eyeballs (RFC 8305):
 * attempts start as soon as the first usable answer arrives (waiting up to
 * 50 ms for AAAA after A), addresses interleaved by family with IPv6 first,
 * a new attempt every `delay` ms while earlier ones are pending, the first
 * established connection wins and the others are closed. */
#ifndef HF_CONNECT_H
#define HF_CONNECT_H
#include "internal.h"

#define CONNECT_MAX_ATTEMPTS 32
#define RESOLUTION_DELAY_MS 50    /* RFC 8305 3 */

/* One connection attempt, for the trace. */
typedef struct attempt {
    hf_addr addr;
    char text[64];          /* "ip:port" / "[ip6]:port" */
    int fd;                 /* -1 once over */
    uint64_t start_ns, end_ns;  /* since the transfer began */
    int err;                /* 0 pending or won, else errno */
} attempt;

typedef struct connector connector;

/* Never called from inside connector_start. */
typedef struct connect_cb {
    /* the names are known (for time_namelookup); may come more than once */
    void (*resolved)(void *arg);
    /* the winner: the caller owns fd from now on */
    void (*connected)(void *arg, int fd, const attempt *a);
    /* everything failed: HF_E_RESOLVE, HF_E_CONNECT or HF_E_NOMEM, with a
     * message naming the phase, the peer and the cause (no time) */
    void (*failed)(void *arg, int err, const char *msg);
    /* a line for -v */
    void (*log)(void *arg, const char *line);
    /* a trace event (DNS and connection attempts) */
    void (*event)(void *arg, hf_ev type, const ev_args *a);
    void *arg;
} connect_cb;

/* Start.  t0 is the transfer's start (for the attempts' times).
 * Returns 0, or HF_E_NOMEM (then no callbacks). */
int connector_start(hf_client *c, const url *u, uint64_t t0,
                    const connect_cb *cb, connector **out);
/* Stop and free: pending sockets closed, lookups and timers cancelled. */
void connector_free(connector *k);
/* The attempts so far. */
const attempt *connector_attempts(const connector *k, size_t *n);
#endif
