/* resolver.h -- hflow's own stub resolver (RFC 1035), on the client's
 * event loop: /etc/hosts, then the servers of /etc/resolv.conf over UDP
 * (TCP when truncated), with a per-client cache (positive answers for their
 * TTL, negative ones per RFC 2308), search lists and ndots, and the system
 * resolver (getaddrinfo on a helper thread) as the fall-back. */
#ifndef HF_RESOLVER_H
#define HF_RESOLVER_H
#include "loop.h"
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RES_MAX_ADDRS 16         /* addresses kept per family */
#define RES_MAX_CNAME 16         /* CNAME hops (SECURITY.md G.42) */

typedef struct resolver resolver;
typedef struct res_query res_query;

/* How a lookup was answered, for the trace. */
enum { RES_FROM_DNS = 0, RES_FROM_CACHE, RES_FROM_HOSTS, RES_FROM_SYSTEM };

/* One family's answer.  Addresses have port 0 (the caller sets it). */
typedef struct res_answer {
    int family;                           /* AF_INET or AF_INET6 */
    struct sockaddr_storage addrs[RES_MAX_ADDRS];
    size_t n;                             /* 0: none of this family */
    uint32_t ttl;                         /* seconds (cache: what is left) */
    int source;                           /* RES_FROM_* */
    char server[64];                      /* "127.0.0.1:53" asked, or "" */
    int tcp;                              /* answered over TCP */
    uint64_t elapsed_ns;                  /* query sent -> answer */
    char cname_chain[512];                /* "a.test -> b.test -> c.test",
                                           * or "" when there was none */
} res_answer;

/* Callbacks of one lookup; never called from inside resolver_start.
 *  answer: one family's answer (n may be 0), as soon as it is known; on
 *          success every family asked gets exactly one (a family that was
 *          empty or failed while the other had addresses: n = 0), on
 *          failure none;
 *  done:   the lookup is over; err 0 when at least one address came, else
 *          HF_E_RESOLVE (6) with why naming the name, the server and the
 *          cause ("NXDOMAIN from 127.0.0.1:53", "no answer", "all servers
 *          failed: timeout", "malformed answer from ..."), or HF_E_NOMEM.
 *          After done the query is freed: do not cancel it.
 *  log:    a line for -v (the server asked, UDP/TCP, each answer record
 *          "name TYPE ttl data", the CNAME chain), may be NULL (then no
 *          line is even formatted: pass NULL when not verbose).  It must
 *          not call back into the resolver.
 * answer and done may cancel lookups (their own, in answer), start new
 * ones, or free the resolver. */
typedef struct res_callbacks {
    void (*answer)(void *arg, const res_answer *a);
    void (*done)(void *arg, int err, const char *why);
    void (*log)(void *arg, const char *line);
    void *arg;
} res_callbacks;

/* A resolver on loop l; NULL when out of memory.  Configuration is read
 * lazily at the first lookup (resolv.conf and hosts paths as set below). */
resolver *resolver_new(loop *l);
void resolver_free(resolver *r);   /* cancels what is in flight, no callbacks */

/* Settings (before the first lookup; a later call re-reads). */
int resolver_set_files(resolver *r, const char *resolv_conf, const char *hosts);
/* "ADDR[:PORT][,ADDR[:PORT]...]" with IPv6 as "[::1]:53"; replaces the
 * nameservers of resolv.conf.  HF_E_BAD_ARG on bad syntax. */
int resolver_set_servers(resolver *r, const char *spec);
/* 1: always use getaddrinfo (--dns system). */
void resolver_set_system(resolver *r, int on);

/* Start looking name up (a host name, not an IP literal) for family
 * AF_INET, AF_INET6 or AF_UNSPEC (both, asked in parallel).  Returns 0 and
 * *out (a handle for resolver_cancel) or HF_E_NOMEM / HF_E_RESOLVE (a name
 * that cannot be asked, e.g. too long: then no callbacks). */
int resolver_start(resolver *r, const char *name, int family,
                   const res_callbacks *cb, res_query **out);
/* Stop a lookup; its callbacks are not called again. */
void resolver_cancel(res_query *q);

/* The cache alone, with no system call: fills up to max addresses of the
 * family (AF_UNSPEC: both) for name; returns the count, 0 on a miss, or -1
 * for a cached negative answer (NXDOMAIN / NODATA within its TTL).  The
 * search list applies as in resolver_start: the first candidate name with
 * a positive entry (for any family asked) gives the addresses; a candidate
 * whose families are all cached negative is passed over; one that is not
 * cached at all is a miss.  0 before the first lookup (nothing read yet). */
int resolver_cached(resolver *r, const char *name, int family,
                    struct sockaddr_storage *out, int max);

/* Counters for tests and the benchmark. */
typedef struct resolver_stats {
    uint64_t queries_sent;      /* datagrams and TCP queries */
    uint64_t cache_hits, cache_misses;
    uint64_t ignored;           /* datagrams dropped: wrong id, question,
                                 * empty or malformed */
} resolver_stats;
void resolver_get_stats(const resolver *r, resolver_stats *s);
#endif
