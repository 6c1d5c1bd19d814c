/* resolver.c -- hflow's stub resolver on the client's event loop.
 *
 * A lookup (res_query) walks the candidate names of the search list
 * (resolv.conf(5): ndots, search, a final dot for absolute names).  For
 * each candidate, each family asked (A, AAAA: one "fam" each, in parallel)
 * is answered from the cache or by DNS:
 *
 *   UDP, from a random source port the kernel picks, a new one per lookup
 *   (the A and AAAA queries of a lookup share it, as glibc's do; sockets
 *   are recycled, see usock), with a random ID per query (getrandom,
 *   buffered); an answer counts only from the server's address and port,
 *   with the same ID and question (RFC 5452 9.1), anything else is
 *   ignored and the query keeps waiting.  ICMP errors come through
 *   IP_RECVERR and count only when they are about a datagram sent to the
 *   server.  TC=1: the same query over TCP to the same server.
 *   A try lasts `options timeout`; there are `attempts` rounds over the
 *   servers, each try going to the next server.  SERVFAIL, REFUSED and
 *   other server errors move on at once; FORMERR is first retried without
 *   EDNS on the same server (RFC 6891 7), then moves on.
 *
 * CNAMEs are followed through the answer (RFC 1034 3.6.2); a chain that
 * ends without records of the type asked makes a new query for its end.
 * A candidate is settled when every family is: any addresses -> success;
 * NXDOMAIN / NODATA on all -> the next candidate; a failure (timeouts,
 * server errors, CNAME loop) ends the lookup.
 *
 * Reentrancy: callbacks may cancel their own or other lookups, start new
 * ones, or free the resolver.  Every entry point from the loop brackets its
 * work with enter()/leave(); a query that ends (done, or cancelled) while
 * inside has its resources released at once and its memory freed at the
 * outermost leave(), and code after a callback checks q->dead.
 *
 * The system resolver (getaddrinfo) runs on a detached helper thread per
 * lookup; the job is shared by the thread and the query through a
 * reference count, and the thread signals an eventfd the loop watches.
 * The eventfd is closed only when both references are gone, so a
 * cancelled lookup never has its fd number reused under the thread. */
#include "resolver.h"
#include "dns_conf.h"
#include "dns_wire.h"
#include "hflow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RES_FILE_MAX (1 << 20)      /* resolv.conf and hosts: first 1 MiB */
#define RES_MAX_SERVERS 8           /* --dns-servers entries */
#define RES_MAX_CAND (DNS_MAX_SEARCH + 1)
#define RES_CACHE_MAX 65536         /* entries */
#define RES_TTL_MAX 86400           /* positive answers: 1 day */
#define RES_NEG_TTL_MAX 10800       /* negative answers: 3 hours (RFC 2308 5) */
#define RES_UDP_BUF 65536
#define RES_TCP_MAX 65535
#define RES_UDP_POOL 128            /* idle UDP sockets kept per family */
/* UDP queries in flight per server; more wait their turn in the resolver.
 * A burst beyond what the server's socket buffer holds is dropped by its
 * kernel, and each drop costs a whole timeout: dnsmasq's default 212992
 * bytes of buffer hold ~160 queued queries. */
#define RES_SERVER_INFLIGHT 128

#define DEF_RESOLV "/etc/resolv.conf"
#define DEF_HOSTS "/etc/hosts"

typedef struct srv {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[64];               /* "127.0.0.1:53", "[::1]:53" */
} srv;

/* ---------------------------------------------------------------- cache */

enum { NEG_NONE = 0, NEG_NXDOMAIN, NEG_NODATA };

typedef struct centry {
    struct centry *hnext;        /* bucket chain */
    struct centry *older, *newer;/* insertion order, for eviction */
    uint64_t hash;
    uint64_t expires_ms;         /* on CLOCK_MONOTONIC_COARSE */
    uint16_t type;
    uint8_t neg;                 /* NEG_* */
    uint8_t n;                   /* addresses */
    char server[64];
    char *chain;                 /* CNAME chain text, or NULL */
    char *name;                  /* lower-cased, in data[] */
    unsigned char data[];        /* n addresses (4 or 16 bytes), then name */
} centry;

typedef struct cache {
    centry **b;
    size_t nb, n;
    centry *oldest, *newest;
} cache;

/* ---------------------------------------------------------------- query */

enum { FS_OFF = 0, FS_WAIT, FS_DATA, FS_EMPTY, FS_FAIL };

struct fam;

/* A UDP socket for one lookup's queries to one server.  The A and AAAA
 * queries of a lookup's first try share one (as glibc's do): one random
 * source port per lookup, one random ID per query; retries and CNAME
 * follow-ups get their own.  Released when no query uses it (and its read
 * handler is not running).
 *
 * The socket is not connect()ed: the queries go out with sendto(), whose
 * implicit bind gives it a random ephemeral port, and the read handler
 * checks each datagram's source against the server (same_server) -- what
 * the kernel does for a connected socket, one connect() per lookup fewer
 * (~1.1 us of ~8 on the benchmark machine, where the lookup is bound by
 * system calls).  IP_RECVERR keeps ICMP errors (port unreachable: a
 * server that is not there) reported on the unconnected socket; us_errq
 * checks whom they are about.
 *
 * Released sockets are kept for the next lookups (RES_UDP_POOL per
 * family): making and closing a UDP socket (socket, setsockopt, two
 * epoll_ctl, close) costs more than reusing one.  A kept socket is
 * disconnected -- connect(AF_UNSPEC) unhashes it and gives its
 * kernel-chosen port back (Linux __udp_disconnect, for a socket never
 * bound explicitly) --, its queues are drained when something may be left
 * (nothing can arrive while it is unhashed), and the next sendto() picks a
 * new random ephemeral port.  So each lookup has its own random port. */
typedef struct usock {
    struct resolver *r;
    int fd;
    int srv;
    int n;                       /* queries using it */
    int busy;                    /* inside udp_ev */
    struct fam *f[2];
    struct res_query *q;         /* NULL while kept idle */
    struct usock *next;          /* idle list */
    int pi;                      /* 0 IPv4, 1 IPv6 socket */
    int dirty;                   /* something may be queued on it still */
} usock;

typedef struct fam {
    struct res_query *q;
    int af;
    uint16_t qtype;
    int st;                      /* FS_* */
    int delivered;               /* answer callback made */
    int neg;                     /* FS_EMPTY: NEG_NXDOMAIN / NEG_NODATA */
    int err;                     /* FS_FAIL: HF_E_* */
    char asked[DNS_MAX_TEXT + 1];/* the name being asked (candidate, or
                                  * the end of a CNAME chain) */
    char (*seen)[DNS_MAX_TEXT + 1]; /* names of the chain, for loops */
    int hops;
    uint32_t ttl;                /* min TTL of the records used */
    int try_idx, ntries, srv0, srv;
    int queued;                  /* waiting for room at its server */
    struct fam *wprev, *wnext;   /* the server's wait queue */
    usock *us;                   /* UDP */
    int fd;                      /* TCP */
    int tcp;                     /* 0 UDP; 1 connecting, 2 writing, 3 reading */
    int no_edns;
    uint16_t id;
    uint8_t qbuf[2 + 512];       /* TCP length prefix, then the query */
    int qlen;
    size_t woff;                 /* TCP bytes written */
    uint8_t *tbuf;               /* TCP answer, with its prefix */
    size_t tlen;
    uint64_t timer;
    uint64_t t_sent, t_first;
    char cause[256];
    res_answer ans;
} fam;

typedef struct sysjob {
    atomic_int refs;
    int efd;
    int family;
    int rc;
    struct addrinfo *res;
    char name[DNS_MAX_TEXT + 1];
} sysjob;

/* A name and how the search list applies to it. */
typedef struct qname {
    char name[DNS_MAX_TEXT + 1]; /* without a final dot */
    size_t len;
    int dots;
    int absolute;
} qname;

struct res_query {
    resolver *r;
    res_query *prev, *next;      /* live list, or zombie list when dead */
    res_callbacks cb;
    int family;
    int dead;
    qname nm;
    int cand_idx;
    int ncand;                   /* candidates asked so far */
    char cand[DNS_MAX_TEXT + 1];
    char tried[512];             /* "a.b.test, a" */
    uint64_t kick;
    usock *share;                /* the socket the next family may join */
    sysjob *job;
    fam f[2];                    /* [0] A, [1] AAAA */
};

struct resolver {
    loop *l;
    char *resolv_path, *hosts_path;
    srv ovr[RES_MAX_SERVERS];    /* --dns-servers */
    int novr;
    int force_system;
    int loaded, dirty;
    int use_system;
    dns_conf conf;
    srv srv[RES_MAX_SERVERS];
    int nsrv;
    unsigned rot;
    char *hosts;
    size_t hosts_len;
    uint8_t rnd[256];
    size_t rnd_pos;
    cache c;
    resolver_stats st;
    res_query *live, *zombies;
    usock *pool[2];              /* idle UDP sockets: [0] IPv4, [1] IPv6 */
    int defer;                   /* udp_send holds its datagram for udp_flush */
    int npend;
    struct fam *pend[2];         /* held: the A and AAAA queries of a lookup,
                                  * sent with one sendmmsg() */
    int npool[2];
    int inflight[RES_MAX_SERVERS];   /* UDP queries out, per server */
    fam *wq_head[RES_MAX_SERVERS], *wq_tail[RES_MAX_SERVERS];
    int pumping;
    int depth, free_pending;
    uint8_t *rbuf;               /* 3 x RES_UDP_BUF bytes */
    dns_msg *msg;                /* decode scratch */
};

/* ------------------------------------------------------------ utilities */

static char lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static uint64_t coarse_ms(void)
{
    /* A vDSO read on Linux: no system call (the cache's promise). */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sa_text(const struct sockaddr_storage *sa, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        snprintf(out, n, "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        snprintf(out, n, "%s:%u", ip, ntohs(s4->sin_port));
    }
}

static const char *type_name(uint16_t t)
{
    return t == DNS_TYPE_A ? "A" : t == DNS_TYPE_AAAA ? "AAAA" :
           t == DNS_TYPE_CNAME ? "CNAME" : "?";
}

static const char *rcode_name(int rc)
{
    static const char *n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                              "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                              "NXRRSET", "NOTAUTH", "NOTZONE"};
    return rc >= 0 && rc < (int)(sizeof n / sizeof n[0]) ? n[rc] : "RCODE?";
}

/* Bounded copy (snprintf "%s" without the formatting machinery: this is
 * on the per-lookup path). */
static void scopy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Append to a bounded string; "..." marks a cut. */
static void appendf(char *dst, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(dst);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(dst + n, cap - n, fmt, ap);
    va_end(ap);
    if (w >= 0 && (size_t)w >= cap - n && cap > 4)
        memcpy(dst + cap - 4, "...", 4);
}

static void qlog(res_query *q, const char *fmt, ...)
{
    if (!q->cb.log)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    q->cb.log(q->cb.arg, line);
}

/* A random 16-bit query ID, from a buffer refilled by getrandom(2). */
static int rand16(resolver *r, uint16_t *out)
{
    if (r->rnd_pos + 2 > sizeof r->rnd) {
        size_t got = 0;
        while (got < sizeof r->rnd) {
            ssize_t n = getrandom(r->rnd + got, sizeof r->rnd - got, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            got += (size_t)n;
        }
        r->rnd_pos = 0;
    }
    *out = (uint16_t)(r->rnd[r->rnd_pos] << 8 | r->rnd[r->rnd_pos + 1]);
    r->rnd_pos += 2;
    return 0;
}

/* The first RES_FILE_MAX bytes of a file; NULL when it cannot be read,
 * and then *nomem is set if that was for want of memory (a file read as
 * missing would silently send the question elsewhere). */
static char *read_file(const char *path, size_t *len, int *nomem)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        *nomem = 1;
    while (buf) {
        if (n == cap) {
            if (cap >= RES_FILE_MAX)
                break;
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                *nomem = 1;
                break;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    *len = n;
    return buf;
}

/* Whether resolv.conf text has a "nameserver ADDR" line at all (dns_conf
 * fills in 127.0.0.1 when it has none; then the system resolver is used,
 * as the spec asks). */
static int names_a_server(const char *t, size_t len)
{
    static const char kw[] = "nameserver";
    size_t i = 0;
    while (i < len) {
        while (i < len && (t[i] == ' ' || t[i] == '\t'))
            i++;
        if (len - i >= sizeof kw && memcmp(t + i, kw, sizeof kw - 1) == 0 &&
            (t[i + sizeof kw - 1] == ' ' || t[i + sizeof kw - 1] == '\t'))
            return 1;
        const char *nl = memchr(t + i, '\n', len - i);
        if (!nl)
            break;
        i = (size_t)(nl - t) + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- names */

/* Checks a name the way the encoder will, and fills nm.  0 or -1. */
static int qname_set(qname *nm, const char *name)
{
    size_t n = strlen(name);
    nm->absolute = n > 0 && name[n - 1] == '.';
    if (nm->absolute)
        n--;
    if (n == 0 || n > DNS_MAX_TEXT - 1)
        return -1;
    memcpy(nm->name, name, n);
    nm->name[n] = '\0';
    nm->len = n;
    nm->dots = 0;
    for (size_t i = 0; i < n; i++)
        nm->dots += name[i] == '.';
    uint8_t tmp[DNS_MAX_NAME + 32];
    if (dns_encode_query(tmp, sizeof tmp, 0, nm->name, DNS_TYPE_A, 0) < 0)
        return -1;
    return 0;
}

/* Candidate i of the search list: 1 and out filled, 0 when there are no
 * more, -1 for a candidate that is skipped (too long). */
static int cand_name(const resolver *r, const qname *nm, int i, char *out)
{
    const dns_conf *c = &r->conf;
    const char *dom = NULL;
    if (nm->absolute) {
        if (i > 0)
            return 0;
    } else if (nm->dots >= c->ndots) {
        if (i > c->nsearch)
            return 0;
        if (i > 0)
            dom = c->search[i - 1];
    } else {
        if (i > c->nsearch)
            return 0;
        if (i < c->nsearch)
            dom = c->search[i];
    }
    if (!dom) {
        memcpy(out, nm->name, nm->len + 1);
        return 1;
    }
    size_t dl = strlen(dom);
    if (nm->len + 1 + dl > DNS_MAX_TEXT - 1)
        return -1;
    memcpy(out, nm->name, nm->len);
    out[nm->len] = '.';
    memcpy(out + nm->len + 1, dom, dl + 1);
    return 1;
}

/* ---------------------------------------------------------------- cache */

static uint64_t name_hash(const char *name, uint16_t type, size_t *len)
{
    uint64_t h = 0xcbf29ce484222325u;           /* FNV-1a 64 */
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)lower(name[i]);
        h *= 0x100000001b3u;
    }
    h ^= type;
    h *= 0x100000001b3u;
    *len = n;
    return h;
}

static int name_is(const char *stored, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (stored[i] != lower(name[i]))
            return 0;
    return stored[n] == '\0';
}

static centry *cache_find(resolver *r, const char *name, uint16_t type,
                          uint64_t now)
{
    cache *c = &r->c;
    if (!c->n)
        return NULL;
    size_t n;
    uint64_t h = name_hash(name, type, &n);
    for (centry *e = c->b[h & (c->nb - 1)]; e; e = e->hnext)
        if (e->hash == h && e->type == type && name_is(e->name, name, n))
            return e->expires_ms > now ? e : NULL;
    return NULL;
}

static void cache_unlink(cache *c, centry *e)
{
    centry **pp = &c->b[e->hash & (c->nb - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->n--;
    free(e->chain);
    free(e);
}

static void cache_clear(cache *c)
{
    while (c->oldest)
        cache_unlink(c, c->oldest);
    free(c->b);
    memset(c, 0, sizeof *c);
}

static int cache_grow(cache *c)
{
    size_t nb = c->nb ? c->nb * 2 : 256;
    centry **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < c->nb; i++)
        for (centry *e = c->b[i], *nx; e; e = nx) {
            nx = e->hnext;
            e->hnext = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(c->b);
    c->b = b;
    c->nb = nb;
    return 0;
}

/* Full: drop what has expired; if that frees less than an eighth, the
 * oldest entries too (amortised O(1) per insertion). */
static void cache_evict(cache *c, uint64_t now)
{
    for (centry *e = c->oldest, *nx; e; e = nx) {
        nx = e->newer;
        if (e->expires_ms <= now)
            cache_unlink(c, e);
    }
    while (c->n > RES_CACHE_MAX - RES_CACHE_MAX / 8)
        cache_unlink(c, c->oldest);
}

static void cache_put(resolver *r, const char *name, uint16_t type, int neg,
                      uint32_t ttl, const res_answer *a, const char *server)
{
    cache *c = &r->c;
    uint64_t now = coarse_ms();
    if (ttl == 0)
        return;
    size_t nlen;
    uint64_t h = name_hash(name, type, &nlen);
    if (c->n)                       /* an older entry, expired or not */
        for (centry *e = c->b[h & (c->nb - 1)]; e; e = e->hnext)
            if (e->hash == h && e->type == type && name_is(e->name, name, nlen)) {
                cache_unlink(c, e);
                break;
            }
    if (c->n >= RES_CACHE_MAX)
        cache_evict(c, now);
    if (c->n >= c->nb && cache_grow(c) < 0)
        return;

    size_t alen = type == DNS_TYPE_A ? 4 : 16;
    size_t na = neg || !a ? 0 : a->n;
    centry *e = malloc(sizeof *e + na * alen + nlen + 1);
    if (!e)
        return;
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->type = type;
    e->neg = (uint8_t)neg;
    e->n = (uint8_t)na;
    e->expires_ms = now + (uint64_t)ttl * 1000u;
    scopy(e->server, sizeof e->server, server ? server : "");
    for (size_t i = 0; i < na; i++) {
        const struct sockaddr_storage *s = &a->addrs[i];
        if (type == DNS_TYPE_A)
            memcpy(e->data + i * 4, &((const struct sockaddr_in *)s)->sin_addr, 4);
        else
            memcpy(e->data + i * 16, &((const struct sockaddr_in6 *)s)->sin6_addr, 16);
    }
    e->name = (char *)e->data + na * alen;
    for (size_t i = 0; i < nlen; i++)
        e->name[i] = lower(name[i]);
    e->name[nlen] = '\0';
    if (a && a->cname_chain[0] && !neg)
        e->chain = strdup(a->cname_chain);   /* NULL on failure: no chain */

    size_t bi = h & (c->nb - 1);
    e->hnext = c->b[bi];
    c->b[bi] = e;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->n++;
}

/* The addresses of a positive entry, port 0. */
static size_t centry_addrs(const centry *e, struct sockaddr_storage *out,
                           size_t max)
{
    size_t n = e->n < max ? e->n : max;
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (e->type == DNS_TYPE_A) {
            struct sockaddr_in *s = (struct sockaddr_in *)&out[i];
            s->sin_family = AF_INET;
            memcpy(&s->sin_addr, e->data + i * 4, 4);
        } else {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out[i];
            s->sin6_family = AF_INET6;
            memcpy(&s->sin6_addr, e->data + i * 16, 16);
        }
    }
    return n;
}

/* ------------------------------------------------------- configuration */

resolver *resolver_new(loop *l)
{
    resolver *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->l = l;
    r->rnd_pos = sizeof r->rnd;
    r->rbuf = malloc(3 * RES_UDP_BUF);
    r->msg = malloc(sizeof *r->msg);
    if (!r->rbuf || !r->msg) {
        free(r->rbuf);
        free(r->msg);
        free(r);
        return NULL;
    }
    return r;
}

static int set_str(char **dst, const char *s)
{
    char *p = NULL;
    if (s && !(p = strdup(s)))
        return HF_E_NOMEM;
    free(*dst);
    *dst = p;
    return 0;
}

int resolver_set_files(resolver *r, const char *resolv_conf, const char *hosts)
{
    int rc = set_str(&r->resolv_path, resolv_conf);
    if (!rc)
        rc = set_str(&r->hosts_path, hosts);
    r->dirty = 1;
    return rc;
}

/* One "ADDR[:PORT]" or "[ADDR6]:PORT" of --dns-servers. */
static int parse_server(const char *s, size_t n, srv *out)
{
    char host[80];
    const char *port = NULL;
    size_t hl;
    if (n == 0)
        return -1;
    if (s[0] == '[') {
        const char *e = memchr(s, ']', n);
        if (!e)
            return -1;
        hl = (size_t)(e - s - 1);
        if (hl == 0 || hl >= sizeof host)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        size_t rest = n - (size_t)(e - s) - 1;
        if (rest) {
            if (e[1] != ':' || rest < 2)
                return -1;
            port = e + 2;
        }
    } else {
        const char *c1 = memchr(s, ':', n);
        int colons = 0;
        for (size_t i = 0; i < n; i++)
            colons += s[i] == ':';
        hl = colons == 1 ? (size_t)(c1 - s) : n;  /* bare IPv6: no port */
        if (hl == 0 || hl >= sizeof host)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
        if (colons == 1)
            port = c1 + 1;
    }
    unsigned long pv = 53;
    if (port) {
        size_t pl = (size_t)(s + n - port);
        if (pl == 0 || pl > 5)
            return -1;
        pv = 0;
        for (size_t i = 0; i < pl; i++) {
            if (port[i] < '0' || port[i] > '9')
                return -1;
            pv = pv * 10 + (unsigned long)(port[i] - '0');
        }
        if (pv == 0 || pv > 65535)
            return -1;
    }
    memset(out, 0, sizeof *out);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;
    char *zone = strchr(host, '%');
    if (!zone && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)pv);
        out->len = sizeof *s4;
    } else {
        if (zone) {
            *zone++ = '\0';
            if (!*zone)
                return -1;
            char *end;
            unsigned long z = strtoul(zone, &end, 10);
            if (*end)
                z = if_nametoindex(zone);
            if (!z || z > UINT32_MAX)
                return -1;
            s6->sin6_scope_id = (uint32_t)z;
        }
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)pv);
        out->len = sizeof *s6;
    }
    sa_text(&out->sa, out->text, sizeof out->text);
    return 0;
}

int resolver_set_servers(resolver *r, const char *spec)
{
    srv tmp[RES_MAX_SERVERS];
    int n = 0;
    if (!spec) {
        r->novr = 0;
        r->dirty = 1;
        return 0;
    }
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == RES_MAX_SERVERS || parse_server(p, len, &tmp[n]) < 0)
            return HF_E_BAD_ARG;
        n++;
        if (!e)
            break;
        p = e + 1;
    }
    memcpy(r->ovr, tmp, sizeof tmp[0] * (size_t)n);
    r->novr = n;
    r->dirty = 1;
    return 0;
}

void resolver_set_system(resolver *r, int on)
{
    if (r->force_system != !!on)
        r->dirty = 1;
    r->force_system = !!on;
}

/* 0, or HF_E_NOMEM with the configuration as it was. */
static int load_config(resolver *r)
{
    size_t len = 0, hlen = 0;
    int nomem = 0;
    char *text = read_file(r->resolv_path ? r->resolv_path : DEF_RESOLV, &len,
                           &nomem);
    char *hosts = nomem ? NULL
                : read_file(r->hosts_path ? r->hosts_path : DEF_HOSTS, &hlen,
                            &nomem);
    if (nomem) {
        free(text);
        free(hosts);
        return HF_E_NOMEM;
    }
    dns_conf_parse(text, text ? len : 0, &r->conf);
    int named = text && names_a_server(text, len);
    free(text);

    if (r->novr) {
        memcpy(r->srv, r->ovr, sizeof r->srv[0] * (size_t)r->novr);
        r->nsrv = r->novr;
    } else {
        r->nsrv = r->conf.nservers;
        for (int i = 0; i < r->nsrv; i++) {
            r->srv[i].sa = r->conf.servers[i];
            r->srv[i].len = r->conf.server_len[i];
            sa_text(&r->srv[i].sa, r->srv[i].text, sizeof r->srv[i].text);
        }
    }
    r->use_system = r->force_system || (!r->novr && !named);

    free(r->hosts);
    r->hosts = hosts;
    r->hosts_len = hosts ? hlen : 0;
    if (r->loaded)
        cache_clear(&r->c);     /* other servers: other answers */
    r->loaded = 1;
    r->dirty = 0;
    return 0;
}

/* ---------------------------------------------------- query life cycle */

static void enter(resolver *r)
{
    r->depth++;
}

static void really_free(resolver *r);
static void pump(resolver *r);

static void leave(resolver *r)
{
    if (--r->depth > 0)
        return;
    if (!r->pumping && !r->free_pending) {
        /* Queries waiting for room at their server go now, at depth 0:
         * their failures may call callbacks, which may re-enter. */
        r->pumping = 1;
        r->depth++;
        pump(r);
        r->depth--;
        r->pumping = 0;
    }
    while (r->zombies) {
        res_query *q = r->zombies;
        r->zombies = q->next;
        for (int i = 0; i < 2; i++) {
            free(q->f[i].seen);
            free(q->f[i].tbuf);
        }
        free(q);
    }
    if (r->free_pending)
        really_free(r);
}

static void udp_ev(loop *l, int fd, int mask, void *arg);

static void us_close(resolver *r, usock *u)
{
    loop_unwatch(r->l, u->fd);
    close(u->fd);
    free(u);
}

/* Is sa (a datagram's source, or the destination of a datagram an ICMP
 * error is about) server s: the same address and port? */
static int same_server(const srv *s, const struct sockaddr_storage *sa,
                       socklen_t len)
{
    if (sa->ss_family != s->sa.ss_family)
        return 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)sa, *b = (const void *)&s->sa;
        return len >= sizeof *a && a->sin_port == b->sin_port &&
               a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)sa, *b = (const void *)&s->sa;
        return len >= sizeof *a && a->sin6_port == b->sin6_port &&
               !memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) &&
               (!b->sin6_scope_id || a->sin6_scope_id == b->sin6_scope_id);
    }
    return 0;
}

/* Read a socket's error queue (IP_RECVERR, IPV6_RECVERR): the errno of an
 * ICMP error about a datagram sent to s, 0 when the queue held only errors
 * about other destinations (counted as ignored; s NULL: all of them), -1
 * when it was empty. */
static int us_errq(resolver *r, int fd, const srv *s)
{
    int found = -1;
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage to;
        union {
            char buf[256];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { r->rbuf, 512 };
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        memset(&to, 0, sizeof to);
        mh.msg_name = &to;
        mh.msg_namelen = sizeof to;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        if (recvmsg(fd, &mh, MSG_ERRQUEUE) < 0) {
            if (errno == EINTR)
                continue;
            break;                  /* EAGAIN: the queue is empty */
        }
        int e = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof ee);
                e = (int)ee.ee_errno;
            }
        if (e && s && same_server(s, &to, mh.msg_namelen)) {
            found = e;
        } else {
            r->st.ignored++;
            if (found < 0)
                found = 0;
        }
    }
    return found;
}

/* Send one datagram of u's lookup to its server. */
static ssize_t us_sendto(const usock *u, const void *p, size_t n)
{
    const srv *s = &u->r->srv[u->srv];
    return sendto(u->fd, p, n, 0, (const struct sockaddr *)&s->sa, s->len);
}

/* Empty a socket's receive and error queues; 0 when empty. */
static int us_drain(resolver *r, int fd)
{
    for (int k = 0; k < 64; k++)
        if (recv(fd, r->rbuf, RES_UDP_BUF, 0) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno != EINTR)     /* a pending ICMP error */
                us_errq(r, fd, NULL);
        }
    return -1;
}

/* No query uses u any more: keep it (disconnected) or close it. */
static void us_free(usock *u)
{
    resolver *r = u->q->r;
    if (u->q->share == u)
        u->q->share = NULL;
    int pi = u->pi;
    struct sockaddr unspec;
    memset(&unspec, 0, sizeof unspec);
    unspec.sa_family = AF_UNSPEC;
    /* A clean socket (its answers read, nothing refused or ignored) has
     * an empty queue; a datagram that still came would fail the next
     * query's ID and question check anyway.  Only a dirty one is drained
     * (one system call saved a lookup). */
    if (r->npool[pi] < RES_UDP_POOL && !r->free_pending &&
        connect(u->fd, &unspec, sizeof unspec) == 0 &&
        (!u->dirty || us_drain(r, u->fd) == 0)) {
        u->dirty = 0;
        u->q = NULL;
        u->n = 0;
        u->f[0] = u->f[1] = NULL;
        u->next = r->pool[pi];
        r->pool[pi] = u;
        r->npool[pi]++;
        return;
    }
    us_close(r, u);
}

/* A socket for q's queries to server si: a kept one, or a new one.  NULL
 * with cause set on failure. */
static usock *us_get(res_query *q, int si, char *cause, size_t cap)
{
    resolver *r = q->r;
    const srv *s = &r->srv[si];
    int pi = s->sa.ss_family == AF_INET6;
    usock *u;
    if ((u = r->pool[pi])) {
        r->pool[pi] = u->next;
        r->npool[pi]--;
        u->q = q;
        u->srv = si;
        return u;
    }
    u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(cause, cap, "out of memory");
        return NULL;
    }
    u->r = r;
    u->q = q;
    u->srv = si;
    u->pi = pi;
    u->fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0) {
        snprintf(cause, cap, "cannot make a socket for %s: %s", s->text,
                 strerror(errno));
        free(u);
        return NULL;
    }
    int on = 1;
    if (setsockopt(u->fd, pi ? IPPROTO_IPV6 : IPPROTO_IP,
                   pi ? IPV6_RECVERR : IP_RECVERR, &on, sizeof on) < 0 ||
        loop_watch(r->l, u->fd, LOOP_READ, udp_ev, u)) {
        snprintf(cause, cap, "cannot make a socket for %s: %s", s->text,
                 strerror(errno));
        close(u->fd);
        free(u);
        return NULL;
    }
    return u;
}

static void us_detach(fam *f)
{
    usock *u = f->us;
    f->us = NULL;
    for (int i = 0; i < 2; i++)
        if (u->f[i] == f) {
            u->f[i] = NULL;
            u->n--;
        }
    if (!u->n && !u->busy) { /* ended without its answer: timeout, cancel */
        u->dirty = 1;
        us_free(u);
    }
}

static void wq_unlink(resolver *r, fam *f)
{
    int s = f->srv;
    if (f->wprev)
        f->wprev->wnext = f->wnext;
    else
        r->wq_head[s] = f->wnext;
    if (f->wnext)
        f->wnext->wprev = f->wprev;
    else
        r->wq_tail[s] = f->wprev;
    f->wprev = f->wnext = NULL;
    f->queued = 0;
}

static void fam_close(fam *f)
{
    resolver *r = f->q->r;
    loop *l = r->l;
    if (f->queued)
        wq_unlink(r, f);
    if (f->us) {
        r->inflight[f->us->srv]--;
        us_detach(f);
    }
    if (f->fd >= 0) {
        loop_unwatch(l, f->fd);
        close(f->fd);
        f->fd = -1;
    }
    if (f->timer) {
        loop_timer_cancel(l, f->timer);
        f->timer = 0;
    }
    f->tcp = 0;
    f->tlen = 0;
}

static void job_release(sysjob *j)
{
    if (atomic_fetch_sub(&j->refs, 1) == 1) {
        if (j->res)
            freeaddrinfo(j->res);
        close(j->efd);
        free(j);
    }
}

/* Release everything a query holds in the loop and move it off the live
 * list; its memory goes at the outermost leave() (or now, outside). */
static void q_kill(res_query *q)
{
    resolver *r = q->r;
    if (q->dead)
        return;
    q->dead = 1;
    for (int i = 0; i < 2; i++)
        if (q->f[i].q)
            fam_close(&q->f[i]);
    if (q->kick) {
        loop_timer_cancel(r->l, q->kick);
        q->kick = 0;
    }
    if (q->job) {
        loop_unwatch(r->l, q->job->efd);
        job_release(q->job);
        q->job = NULL;
    }
    if (q->prev)
        q->prev->next = q->next;
    else
        r->live = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = NULL;
    q->next = r->zombies;
    r->zombies = q;
}

void resolver_cancel(res_query *q)
{
    if (!q || q->dead)
        return;
    resolver *r = q->r;
    enter(r);
    q_kill(q);
    leave(r);
}

static void really_free(resolver *r)
{
    for (int i = 0; i < 2; i++)
        while (r->pool[i]) {
            usock *u = r->pool[i];
            r->pool[i] = u->next;
            us_close(r, u);
        }
    cache_clear(&r->c);
    free(r->resolv_path);
    free(r->hosts_path);
    free(r->hosts);
    free(r->rbuf);
    free(r->msg);
    free(r);
}

void resolver_free(resolver *r)
{
    if (!r || r->free_pending)
        return;
    enter(r);
    while (r->live)
        q_kill(r->live);
    r->free_pending = 1;
    leave(r);
}

void resolver_get_stats(const resolver *r, resolver_stats *s)
{
    *s = r->st;
}

/* ----------------------------------------------------------- callbacks */

static void emit_answer(res_query *q, fam *f)
{
    f->delivered = 1;
    f->ans.family = f->af;
    if (q->cb.answer)
        q->cb.answer(q->cb.arg, &f->ans);
}

static void emit_done(res_query *q, int err, const char *why)
{
    res_callbacks cb = q->cb;
    q_kill(q);                     /* after done the query is gone */
    if (cb.done)
        cb.done(cb.arg, err, why);
}

static void cand_step(res_query *q);

/* A family changed state: deliver what can be delivered, and settle the
 * candidate when every family has. */
static void q_check(res_query *q)
{
    fam *f = q->f;
    int any_data = 0, any_wait = 0;
    fam *failed = NULL;
    for (int i = 0; i < 2; i++) {
        if (!f[i].q)
            continue;
        if (f[i].st == FS_DATA && !f[i].delivered) {
            emit_answer(q, &f[i]);
            if (q->dead)
                return;
        }
        any_data |= f[i].st == FS_DATA;
        any_wait |= f[i].st == FS_WAIT;
        if (f[i].st == FS_FAIL && !failed)
            failed = &f[i];
    }
    if (any_wait)
        return;
    if (any_data) {
        /* The others answer "none" (empty, or failed), then done. */
        for (int i = 0; i < 2; i++)
            if (f[i].q && !f[i].delivered) {
                f[i].ans.n = 0;
                emit_answer(q, &f[i]);
                if (q->dead)
                    return;
            }
        emit_done(q, 0, NULL);
        return;
    }
    if (failed) {
        char why[768];
        snprintf(why, sizeof why, "%s: %s", q->nm.name, failed->cause);
        emit_done(q, failed->err ? failed->err : HF_E_RESOLVE, why);
        return;
    }
    q->cand_idx++;
    cand_step(q);
}

/* ------------------------------------------------------------------ DNS */

static void tcp_ev(loop *l, int fd, int mask, void *arg);
static void try_timeout(loop *l, void *arg);
static int send_try(fam *f);

static void fam_fail(fam *f, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->cause, sizeof f->cause, fmt, ap);
    va_end(ap);
    fam_close(f);
    f->err = err;
    f->st = FS_FAIL;
}

/* This try failed (cause set): the next one, or the family fails. */
static void try_next(fam *f)
{
    fam_close(f);
    f->try_idx++;
    send_try(f);
}

static int arm_timer(fam *f)
{
    resolver *r = f->q->r;
    f->timer = loop_timer(r->l, (uint64_t)r->conf.timeout_s * 1000u,
                          try_timeout, f);
    return f->timer ? 0 : -1;
}

/* Send the query to server f->srv over UDP.  0 sent, -1 this try failed
 * (cause set). */
static int udp_send(fam *f)
{
    res_query *q = f->q;
    resolver *r = q->r;
    const srv *s = &r->srv[f->srv];
    usock *u = q->share;
    if (!u || u->srv != f->srv || u->n != 1) {
        if (!(u = us_get(q, f->srv, f->cause, sizeof f->cause)))
            return -1;
        if (q->share == NULL && q->family == AF_UNSPEC)
            q->share = u;
    } else {
        q->share = NULL;            /* two queries at most */
    }
    u->f[u->f[0] ? 1 : 0] = f;
    u->n++;
    f->us = u;
    r->inflight[u->srv]++;
    int hold = r->defer && r->npend < 2;
    if (!hold) {
        if (us_sendto(u, f->qbuf + 2, (size_t)f->qlen) < 0) {
            snprintf(f->cause, sizeof f->cause, "cannot send to %s: %s",
                     s->text, strerror(errno));
            return -1;
        }
        r->st.queries_sent++;
    }
    f->cause[0] = '\0';           /* this try's own story from here */
    f->t_sent = loop_now_ns();
    if (!f->t_first)
        f->t_first = f->t_sent;
    if (arm_timer(f)) {
        snprintf(f->cause, sizeof f->cause, "out of memory");
        return -1;
    }
    qlog(q, "DNS: asking %s over UDP: %s? %s (id 0x%04x)", s->text,
         type_name(f->qtype), f->asked, f->id);
    if (hold)
        r->pend[r->npend++] = f;
    return 0;
}

/* Send the datagrams udp_send held (r->defer): the A and AAAA queries of
 * one lookup, on one socket, with one sendmmsg() (one system call instead
 * of two).  A query that cannot be sent fails its try, as in udp_send. */
static void udp_flush(resolver *r)
{
    int n = r->npend;
    fam *p[2] = { n > 0 ? r->pend[0] : NULL, n > 1 ? r->pend[1] : NULL };
    r->npend = 0;
    r->defer = 0;
    int err[2] = { 0, 0 };
    for (int i = 0; i < n; i++)
        if (!p[i]->us || p[i]->tcp || p[i]->st != FS_WAIT)
            p[i] = NULL;           /* gone meanwhile: nothing to send */
    if (p[0] && p[1] && p[0]->us == p[1]->us) {
        const srv *s = &r->srv[p[0]->us->srv];
        struct mmsghdr mm[2];
        struct iovec iov[2];
        memset(mm, 0, sizeof mm);
        for (int k = 0; k < 2; k++) {
            iov[k].iov_base = p[k]->qbuf + 2;
            iov[k].iov_len = (size_t)p[k]->qlen;
            mm[k].msg_hdr.msg_name = (void *)&s->sa;
            mm[k].msg_hdr.msg_namelen = s->len;
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
        }
        int k;
        do
            k = sendmmsg(p[0]->us->fd, mm, 2, 0);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
            err[0] = errno;
            k = 0;
        }
        for (; k < 2; k++)         /* the rest, one by one (errno) */
            if (!err[k] && us_sendto(p[k]->us, iov[k].iov_base, iov[k].iov_len) < 0)
                err[k] = errno;
    } else {
        for (int k = 0; k < 2; k++)
            if (p[k] && us_sendto(p[k]->us, p[k]->qbuf + 2, (size_t)p[k]->qlen) < 0)
                err[k] = errno;
    }
    for (int k = 0; k < 2; k++) {
        fam *f = p[k];
        if (!f)
            continue;
        if (!err[k]) {
            r->st.queries_sent++;
            continue;
        }
        snprintf(f->cause, sizeof f->cause, "cannot send to %s: %s",
                 r->srv[f->srv].text, strerror(err[k]));
        qlog(f->q, "DNS: %s", f->cause);
        try_next(f);
    }
}

static int tcp_send(fam *f)
{
    res_query *q = f->q;
    resolver *r = q->r;
    const srv *s = &r->srv[f->srv];
    int fd = socket(s->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(f->cause, sizeof f->cause, "cannot make a socket for %s: %s",
                 s->text, strerror(errno));
        return -1;
    }
    f->fd = fd;
    if (connect(fd, (const struct sockaddr *)&s->sa, s->len) < 0 &&
        errno != EINPROGRESS) {
        snprintf(f->cause, sizeof f->cause, "cannot connect to %s over TCP: %s",
                 s->text, strerror(errno));
        return -1;
    }
    f->qbuf[0] = (uint8_t)(f->qlen >> 8);
    f->qbuf[1] = (uint8_t)f->qlen;
    f->woff = 0;
    f->tlen = 0;
    f->tcp = 1;
    f->t_sent = loop_now_ns();
    if (loop_watch(r->l, fd, LOOP_WRITE, tcp_ev, f) || arm_timer(f)) {
        snprintf(f->cause, sizeof f->cause, "out of memory");
        return -1;
    }
    qlog(q, "DNS: asking %s over TCP: %s? %s (id 0x%04x)", s->text,
         type_name(f->qtype), f->asked, f->id);
    return 0;
}

/* Start try f->try_idx (a fresh query to the next server), skipping tries
 * that fail at once; when none is left the family fails.  0 when a query
 * is on its way. */
static int send_try(fam *f)
{
    resolver *r = f->q->r;
    int ns = r->nsrv > 0 ? r->nsrv : 1;
    for (; f->try_idx < f->ntries; f->try_idx++) {
        f->srv = (f->srv0 + f->try_idx) % ns;
        if (f->srv >= r->nsrv) {
            snprintf(f->cause, sizeof f->cause, "no DNS server");
            continue;
        }
        if (rand16(r, &f->id) < 0) {
            fam_fail(f, HF_E_RESOLVE, "no random bytes for a query ID: %s",
                     strerror(errno));
            return -1;
        }
        int n = dns_encode_query(f->qbuf + 2, sizeof f->qbuf - 2, f->id,
                                 f->asked, f->qtype, !f->no_edns);
        if (n < 0) {
            fam_fail(f, HF_E_RESOLVE, "cannot ask for %s", f->asked);
            return -1;
        }
        f->qlen = n;
        const usock *sh = f->q->share;
        int joins = sh && sh->srv == f->srv && sh->n == 1;  /* no new port */
        if (!joins && r->inflight[f->srv] >= RES_SERVER_INFLIGHT) {
            /* No room at this server now: in line (pump() sends it). */
            f->queued = 1;
            f->wnext = NULL;
            f->wprev = r->wq_tail[f->srv];
            if (f->wprev)
                f->wprev->wnext = f;
            else
                r->wq_head[f->srv] = f;
            r->wq_tail[f->srv] = f;
            return 0;
        }
        if (udp_send(f) == 0)
            return 0;
        fam_close(f);
    }
    char last[sizeof f->cause];
    snprintf(last, sizeof last, "%s", f->cause[0] ? f->cause : "no answer");
    if (f->ntries > 1)
        fam_fail(f, HF_E_RESOLVE, "all servers failed: %.200s", last);
    else
        fam_fail(f, HF_E_RESOLVE, "%s", last);
    return -1;
}

/* Send what waits for room at its server (from leave(), at depth 1). */
static void pump(resolver *r)
{
    for (int s = 0; s < RES_MAX_SERVERS; s++)
        while (r->wq_head[s] && r->inflight[s] < RES_SERVER_INFLIGHT &&
               !r->free_pending) {
            fam *f = r->wq_head[s];
            res_query *q = f->q;
            fam *sib = &q->f[f == &q->f[0]];
            wq_unlink(r, f);
            r->defer = 1;
            int ok = udp_send(f) == 0;
            if (ok && sib->q && sib->queued && sib->srv == s) {
                /* Its sibling waits too: both on one socket, as usual. */
                wq_unlink(r, sib);
                q->share = f->us;
                if (udp_send(sib) != 0)
                    try_next(sib);
                q->share = NULL;
            }
            udp_flush(r);
            if (!ok)
                try_next(f);
            if (f->st != FS_WAIT || sib->st != FS_WAIT)
                q_check(q);
        }
}

/* Start asking f->asked (a candidate, or the end of a CNAME chain). */
static void fam_ask(fam *f)
{
    resolver *r = f->q->r;
    f->st = FS_WAIT;
    f->try_idx = 0;
    f->ntries = r->conf.attempts * (r->nsrv > 0 ? r->nsrv : 1);
    f->srv0 = r->conf.rotate && r->nsrv > 0 ? (int)(r->rot++ % (unsigned)r->nsrv) : 0;
    f->cause[0] = '\0';
    send_try(f);
}

static int seen_add(fam *f, const char *name)
{
    if (!f->seen && !(f->seen = malloc((RES_MAX_CNAME + 2) * sizeof *f->seen)))
        return -1;
    snprintf(f->seen[f->hops], sizeof f->seen[0], "%s", name);
    return 0;
}

static int seen_has(const fam *f, const char *name)
{
    for (int i = 0; f->seen && i <= f->hops; i++)
        if (dns_name_eq(f->seen[i], name))
            return 1;
    return 0;
}

static void log_records(res_query *q, fam *f, const dns_msg *m,
                        const char *server, double ms)
{
    if (!q->cb.log)
        return;
    if (m->nrr == 0) {
        if (m->rcode == DNS_RCODE_NXDOMAIN)
            qlog(q, "DNS: answer from %s in %.2f ms: NXDOMAIN for %s", server,
                 ms, f->asked);
        else
            qlog(q, "DNS: answer from %s in %.2f ms: no %s record for %s "
                 "(NODATA)", server, ms, type_name(f->qtype), f->asked);
        return;
    }
    for (size_t i = 0; i < m->nrr; i++) {
        const dns_rr *rr = &m->rr[i];
        char data[DNS_MAX_TEXT + 1];
        if (rr->type == DNS_TYPE_A)
            inet_ntop(AF_INET, rr->u.a, data, sizeof data);
        else if (rr->type == DNS_TYPE_AAAA)
            inet_ntop(AF_INET6, rr->u.aaaa, data, sizeof data);
        else
            snprintf(data, sizeof data, "%s", rr->u.cname);
        qlog(q, "DNS: answer from %s in %.2f ms: %s %s %u %s", server, ms,
             rr->name, type_name(rr->type), rr->ttl, data);
    }
    if (m->rcode == DNS_RCODE_NXDOMAIN)
        qlog(q, "DNS: answer from %s in %.2f ms: NXDOMAIN", server, ms);
}

/* A valid answer to f's query (ID and question checked). */
static void handle_answer(fam *f, const dns_msg *m)
{
    res_query *q = f->q;
    resolver *r = q->r;
    const srv *s = &r->srv[f->srv];
    uint64_t now = loop_now_ns();
    double ms = (double)(now - f->t_sent) / 1e6;
    int was_tcp = f->tcp != 0;
    fam_close(f);

    if (m->tc) {
        if (was_tcp) {
            snprintf(f->cause, sizeof f->cause,
                     "truncated answer from %s over TCP", s->text);
            try_next(f);
            return;
        }
        qlog(q, "DNS: truncated answer from %s in %.2f ms: asking again over TCP",
             s->text, ms);
        if (tcp_send(f) < 0)
            try_next(f);
        return;
    }
    if (m->rcode == DNS_RCODE_FORMERR && !f->no_edns) {
        /* RFC 6891 7: a server that does not know EDNS; once, plainly. */
        qlog(q, "DNS: FORMERR from %s: asking again without EDNS", s->text);
        f->no_edns = 1;
        f->srv0 = f->srv;
        f->try_idx = 0;
        send_try(f);
        return;
    }
    if (m->rcode != DNS_RCODE_NOERROR && m->rcode != DNS_RCODE_NXDOMAIN) {
        snprintf(f->cause, sizeof f->cause, "%s from %s", rcode_name(m->rcode),
                 s->text);
        qlog(q, "DNS: %s from %s in %.2f ms: trying the next server",
             rcode_name(m->rcode), s->text, ms);
        try_next(f);
        return;
    }
    log_records(q, f, m, s->text, ms);

    /* Follow the CNAME chain from the name asked. */
    const char *cur = f->asked;
    int advanced = 0;
    for (;;) {
        const dns_rr *c = NULL;
        for (size_t i = 0; i < m->nrr && !c; i++)
            if (m->rr[i].type == DNS_TYPE_CNAME && dns_name_eq(m->rr[i].name, cur))
                c = &m->rr[i];
        if (!c)
            break;
        if (f->hops == 0 && seen_add(f, f->asked) < 0) {
            fam_fail(f, HF_E_NOMEM, "out of memory");
            return;
        }
        if (seen_has(f, c->u.cname)) {
            fam_fail(f, HF_E_RESOLVE, "CNAME loop at %s (from %s)", c->u.cname,
                     s->text);
            return;
        }
        if (f->hops >= RES_MAX_CNAME) {
            fam_fail(f, HF_E_RESOLVE, "too many CNAMEs (more than %d) after %s "
                     "(from %s)", RES_MAX_CNAME, cur, s->text);
            return;
        }
        f->hops++;
        seen_add(f, c->u.cname);
        if (!f->ans.cname_chain[0])
            appendf(f->ans.cname_chain, sizeof f->ans.cname_chain, "%s", f->asked);
        appendf(f->ans.cname_chain, sizeof f->ans.cname_chain, " -> %s",
                c->u.cname);
        if (c->ttl < f->ttl)
            f->ttl = c->ttl;
        cur = c->u.cname;
        advanced = 1;
    }
    if (advanced)
        qlog(q, "DNS: CNAME chain %s", f->ans.cname_chain);

    res_answer *a = &f->ans;
    a->n = 0;
    uint32_t ttl = f->ttl;
    if (m->rcode == DNS_RCODE_NOERROR)
        for (size_t i = 0; i < m->nrr && a->n < RES_MAX_ADDRS; i++) {
            const dns_rr *rr = &m->rr[i];
            if (rr->type != f->qtype || !dns_name_eq(rr->name, cur))
                continue;
            struct sockaddr_storage *sa = &a->addrs[a->n++];
            memset(sa, 0, sizeof *sa);
            if (rr->type == DNS_TYPE_A) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
                s4->sin_family = AF_INET;
                memcpy(&s4->sin_addr, rr->u.a, 4);
            } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
                s6->sin6_family = AF_INET6;
                memcpy(&s6->sin6_addr, rr->u.aaaa, 16);
            }
            if (rr->ttl < ttl)
                ttl = rr->ttl;
        }
    scopy(a->server, sizeof a->server, s->text);
    a->tcp = was_tcp;
    a->source = RES_FROM_DNS;
    a->elapsed_ns = now - f->t_first;

    if (a->n) {
        a->ttl = ttl > RES_TTL_MAX ? RES_TTL_MAX : ttl;
        cache_put(r, q->cand, f->qtype, NEG_NONE, a->ttl, a, s->text);
        f->st = FS_DATA;
        return;
    }
    if (m->rcode == DNS_RCODE_NOERROR && advanced) {
        /* The chain ends at a name with no record of the type: ask it. */
        char next[DNS_MAX_TEXT + 1];
        snprintf(next, sizeof next, "%s", cur);
        snprintf(f->asked, sizeof f->asked, "%s", next);
        fam_ask(f);
        return;
    }
    int nx = m->rcode == DNS_RCODE_NXDOMAIN;
    f->neg = nx ? NEG_NXDOMAIN : NEG_NODATA;
    snprintf(f->cause, sizeof f->cause, nx ? "NXDOMAIN from %s" :
             "no address (NODATA) from %s", s->text);
    if (m->has_soa) {
        uint32_t neg = m->neg_ttl < ttl ? m->neg_ttl : ttl;
        cache_put(r, q->cand, f->qtype, f->neg,
                  neg > RES_NEG_TTL_MAX ? RES_NEG_TTL_MAX : neg, NULL, s->text);
    }
    a->ttl = 0;
    f->st = FS_EMPTY;
}

/* A datagram or TCP message for the queries in fs[0..nf): 1 if it answers
 * one of them (then handled), 0 if it is ignored. */
static int take_message(fam **fs, int nf, const uint8_t *p, size_t n, int tcp)
{
    res_query *q = fs[0]->q;
    resolver *r = q->r;
    const srv *s = &r->srv[fs[0]->srv];
    dns_msg *m = r->msg;
    const char *why = NULL;
    fam *f = NULL;
    if (n == 0) {
        why = "empty datagram";
    } else {
        int rc = dns_decode(p, n, m);
        if (rc < 0) {
            for (int i = 0; i < nf; i++)
                if (n >= 2 && (uint16_t)(p[0] << 8 | p[1]) == fs[i]->id)
                    snprintf(fs[i]->cause, sizeof fs[i]->cause,
                             "malformed answer from %s%s", s->text,
                             tcp ? " over TCP" : "");
            why = rc == DNS_ERR_NAME ? "malformed (bad name)" :
                  rc == DNS_ERR_SHORT ? "malformed (cut short)" :
                  "malformed (bad format)";
        } else {
            why = "wrong id";
            for (int i = 0; i < nf && !f; i++) {
                if (m->id != fs[i]->id)
                    continue;
                if (m->qtype == fs[i]->qtype && dns_name_eq(m->qname, fs[i]->asked))
                    f = fs[i];
                else
                    why = "wrong question";
            }
        }
    }
    if (!f) {
        r->st.ignored++;
        qlog(q, "DNS: ignored a %s from %s (%zu bytes): %s",
             tcp ? "TCP message" : "datagram", s->text, n, why);
        return 0;
    }
    handle_answer(f, m);
    return 1;
}

static void udp_ev(loop *l, int fd, int mask, void *arg)
{
    (void)l;
    (void)mask;
    usock *u = arg;
    res_query *q = u->q;
    if (!q) {                      /* kept idle: nothing should come */
        us_drain(u->r, fd);
        return;
    }
    resolver *r = q->r;
    enter(r);
    u->busy = 1;
    uint64_t ignored0 = r->st.ignored;
    /* Bounded: strays from anywhere can reach an unconnected socket; the
     * rest waits for the next turn of the loop (level-triggered). */
    for (int turn = 0; u->n > 0 && turn < 32; turn++) {
        fam *fs[2];
        int nf = 0;
        for (int i = 0; i < 2; i++)
            if (u->f[i])
                fs[nf++] = u->f[i];
        /* Both answers of a lookup in one call when both are there, and
         * room for one more: fewer than asked means the queue is empty,
         * so the socket can be kept without draining it. */
        struct mmsghdr mm[3];
        struct iovec iov[3];
        struct sockaddr_storage from[3];
        memset(mm, 0, sizeof mm);
        for (int k = 0; k < 3; k++) {
            iov[k].iov_base = r->rbuf + (size_t)k * RES_UDP_BUF;
            iov[k].iov_len = RES_UDP_BUF;
            mm[k].msg_hdr.msg_name = &from[k];
            mm[k].msg_hdr.msg_namelen = sizeof from[k];
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, mm, (unsigned)nf + 1, 0, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            int e = errno;
            u->dirty = 1;
            /* An ICMP error counts only when it is about a datagram sent
             * to the server (anyone can send one naming our port). */
            int about = us_errq(r, fd, &r->srv[u->srv]);
            if (about == 0) {
                qlog(q, "DNS: ignored an ICMP error about another address");
                continue;
            }
            if (about > 0)
                e = about;
            for (int i = 0; i < nf; i++) {
                fam *f = fs[i];
                snprintf(f->cause, sizeof f->cause, "%s from %s",
                         e == ECONNREFUSED ? "connection refused (ICMP)" :
                         strerror(e), r->srv[f->srv].text);
                qlog(q, "DNS: %s", f->cause);
                try_next(f);
            }
            break;
        }
        u->dirty = n > nf; /* more may be queued */
        for (int k = 0; k < n && u->n > 0; k++) {
            nf = 0;
            for (int i = 0; i < 2; i++)
                if (u->f[i])
                    fs[nf++] = u->f[i];
            /* RFC 5452 9.1: only from the address and port asked. */
            if (!same_server(&r->srv[u->srv], &from[k], mm[k].msg_hdr.msg_namelen)) {
                char who[64];
                sa_text(&from[k], who, sizeof who);
                r->st.ignored++;
                qlog(q, "DNS: ignored a datagram from %s (%u bytes): not %s",
                     who, mm[k].msg_len, r->srv[u->srv].text);
                continue;
            }
            take_message(fs, nf, r->rbuf + (size_t)k * RES_UDP_BUF,
                         mm[k].msg_len, 0);
        }
    }
    u->busy = 0;
    if (r->st.ignored != ignored0)
        u->dirty = 1;
    if (!u->n)
        us_free(u);
    q_check(q);
    leave(r);
}

static void tcp_ev(loop *l, int fd, int mask, void *arg)
{
    fam *f = arg;
    res_query *q = f->q;
    resolver *r = q->r;
    const srv *s = &r->srv[f->srv];
    enter(r);
    if (f->tcp == 1 && (mask & LOOP_WRITE)) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            snprintf(f->cause, sizeof f->cause, "cannot connect to %s over TCP: %s",
                     s->text, strerror(err));
            try_next(f);
            goto out;
        }
        f->tcp = 2;
    }
    if (f->tcp == 2 && (mask & LOOP_WRITE)) {
        size_t total = (size_t)f->qlen + 2;
        ssize_t n = send(fd, f->qbuf + f->woff, total - f->woff, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(f->cause, sizeof f->cause, "cannot send to %s over TCP: %s",
                     s->text, strerror(errno));
            try_next(f);
            goto out;
        }
        if (n > 0)
            f->woff += (size_t)n;
        if (f->woff == total) {
            r->st.queries_sent++;
            f->tcp = 3;
            if (loop_watch(l, fd, LOOP_READ, tcp_ev, f)) {
                fam_fail(f, HF_E_NOMEM, "out of memory");
                goto out;
            }
        }
        goto out;
    }
    if (f->tcp == 3 && (mask & LOOP_READ)) {
        if (!f->tbuf && !(f->tbuf = malloc(RES_TCP_MAX + 2))) {
            fam_fail(f, HF_E_NOMEM, "out of memory");
            goto out;
        }
        size_t need = f->tlen < 2 ? 2 : 2 + (size_t)(f->tbuf[0] << 8 | f->tbuf[1]);
        ssize_t n = recv(fd, f->tbuf + f->tlen, need - f->tlen, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            if (n == 0)
                snprintf(f->cause, sizeof f->cause, "TCP connection closed by %s "
                         "before the whole answer", s->text);
            else
                snprintf(f->cause, sizeof f->cause, "cannot read from %s over TCP: %s",
                         s->text, strerror(errno));
            qlog(q, "DNS: %s", f->cause);
            try_next(f);
            goto out;
        }
        if (n > 0)
            f->tlen += (size_t)n;
        if (f->tlen < 2)
            goto out;
        need = 2 + (size_t)(f->tbuf[0] << 8 | f->tbuf[1]);
        if (need == 2) {
            snprintf(f->cause, sizeof f->cause, "empty TCP message from %s", s->text);
            try_next(f);
            goto out;
        }
        if (f->tlen < need)
            goto out;
        fam *fs[1] = {f};
        if (!take_message(fs, 1, f->tbuf + 2, need - 2, 1)) {
            /* Over TCP nobody else can speak: a bad answer ends the try. */
            if (!strstr(f->cause, "malformed"))
                snprintf(f->cause, sizeof f->cause, "mismatched answer from %s "
                         "over TCP", s->text);
            try_next(f);
        }
    }
out:
    if (!q->dead && f->st != FS_WAIT)
        q_check(q);
    leave(r);
}

static void try_timeout(loop *l, void *arg)
{
    (void)l;
    fam *f = arg;
    res_query *q = f->q;
    resolver *r = q->r;
    enter(r);
    f->timer = 0;
    const srv *s = &r->srv[f->srv];
    qlog(q, "DNS: no answer from %s over %s within %d s", s->text,
         f->tcp ? "TCP" : "UDP", r->conf.timeout_s);
    /* A malformed answer seen during this try says more than "timeout". */
    if (!strstr(f->cause, "malformed"))
        snprintf(f->cause, sizeof f->cause, "no answer from %s (timeout after %d s)",
                 s->text, r->conf.timeout_s);
    try_next(f);
    if (f->st != FS_WAIT)
        q_check(q);
    leave(r);
}

/* --------------------------------------------------------- candidates */

static void fam_reset(fam *f)
{
    f->st = FS_WAIT;
    f->delivered = 0;
    f->neg = 0;
    f->err = 0;
    f->hops = 0;
    f->ttl = UINT32_MAX;
    f->t_first = 0;
    f->cause[0] = '\0';
    /* Not the address array: n says how much of it counts. */
    res_answer *a = &f->ans;
    a->family = f->af;
    a->n = 0;
    a->ttl = 0;
    a->source = RES_FROM_DNS;
    a->server[0] = '\0';
    a->tcp = 0;
    a->elapsed_ns = 0;
    a->cname_chain[0] = '\0';
}

/* Settle candidate q->cand_idx and the ones after it from the cache, or
 * start DNS for what the cache does not know. */
static void cand_step(res_query *q)
{
    resolver *r = q->r;
    for (;; q->cand_idx++) {
        if (q->cand_idx >= RES_MAX_CAND + 1)
            break;
        int c = cand_name(r, &q->nm, q->cand_idx, q->cand);
        if (c == 0)
            break;
        if (c < 0)
            continue;
        q->ncand++;
        if (q->ncand == 1)
            scopy(q->tried, sizeof q->tried, q->cand);
        else
            appendf(q->tried, sizeof q->tried, ", %s", q->cand);
        uint64_t now = coarse_ms();
        int need = 0, data = 0;
        for (int i = 0; i < 2; i++) {
            fam *f = &q->f[i];
            if (!f->q)
                continue;
            fam_reset(f);
            scopy(f->asked, sizeof f->asked, q->cand);
            centry *e = cache_find(r, q->cand, f->qtype, now);
            if (!e) {
                r->st.cache_misses++;
                need = 1;
                continue;
            }
            r->st.cache_hits++;
            uint32_t left = (uint32_t)((e->expires_ms - now + 999) / 1000);
            scopy(f->ans.server, sizeof f->ans.server, e->server);
            f->ans.source = RES_FROM_CACHE;
            f->ans.ttl = left;
            if (e->neg) {
                f->st = FS_EMPTY;
                f->neg = e->neg;
                snprintf(f->cause, sizeof f->cause, "%s from %s (cached)",
                         e->neg == NEG_NXDOMAIN ? "NXDOMAIN" :
                         "no address (NODATA)", e->server);
                qlog(q, "DNS: %s from cache (%s, %s, ttl %u)", q->cand,
                     type_name(f->qtype), e->neg == NEG_NXDOMAIN ? "NXDOMAIN" :
                     "NODATA", left);
            } else {
                f->st = FS_DATA;
                data = 1;
                f->ans.n = centry_addrs(e, f->ans.addrs, RES_MAX_ADDRS);
                if (e->chain)
                    snprintf(f->ans.cname_chain, sizeof f->ans.cname_chain,
                             "%s", e->chain);
                qlog(q, "DNS: %s from cache (%s, %zu address%s, ttl %u)", q->cand,
                     type_name(f->qtype), f->ans.n, f->ans.n == 1 ? "" : "es",
                     left);
            }
        }
        if (!need && !data)
            continue;              /* all negative: the next candidate */
        r->defer = 1;
        for (int i = 0; i < 2; i++)
            if (q->f[i].q && q->f[i].st == FS_WAIT)
                fam_ask(&q->f[i]);
        udp_flush(r);
        q->share = NULL;
        q_check(q);
        return;
    }
    /* Every candidate was NXDOMAIN or NODATA. */
    const char *cause = "not found";
    for (int i = 0; i < 2; i++) {
        const fam *f = &q->f[i];
        if (f->q && f->cause[0] && (!strcmp(cause, "not found") ||
                                    f->neg == NEG_NXDOMAIN))
            cause = f->cause;
    }
    char why[1536];
    if (q->ncand > 1)
        snprintf(why, sizeof why, "%s: %s (tried %s)", q->nm.name, cause, q->tried);
    else
        snprintf(why, sizeof why, "%s: %s", q->nm.name, cause);
    emit_done(q, HF_E_RESOLVE, why);
}

/* --------------------------------------------------------------- system */

static void *sys_thread(void *arg)
{
    sysjob *j = arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = j->family;
    hints.ai_socktype = SOCK_STREAM;
    j->rc = getaddrinfo(j->name, NULL, &hints, &j->res);
    uint64_t one = 1;
    ssize_t w;
    do
        w = write(j->efd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
    job_release(j);
    return NULL;
}

static void sys_ev(loop *l, int fd, int mask, void *arg)
{
    (void)mask;
    res_query *q = arg;
    resolver *r = q->r;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    enter(r);
    loop_unwatch(l, fd);
    sysjob *j = q->job;
    q->job = NULL;
    uint64_t el = loop_now_ns() - q->f[0].t_first;
    if (j->rc) {
        char why[600];
        snprintf(why, sizeof why, "%s: system resolver: %s", q->nm.name,
                 gai_strerror(j->rc));
        job_release(j);
        emit_done(q, HF_E_RESOLVE, why);
        leave(r);
        return;
    }
    for (int i = 0; i < 2; i++) {
        fam *f = &q->f[i];
        if (!f->q)
            continue;
        fam_reset(f);
        f->ans.source = RES_FROM_SYSTEM;
        f->ans.elapsed_ns = el;
        for (struct addrinfo *ai = j->res; ai && f->ans.n < RES_MAX_ADDRS;
             ai = ai->ai_next) {
            if (ai->ai_family != f->af || ai->ai_addrlen > sizeof f->ans.addrs[0])
                continue;
            struct sockaddr_storage *sa = &f->ans.addrs[f->ans.n];
            memset(sa, 0, sizeof *sa);
            memcpy(sa, ai->ai_addr, ai->ai_addrlen);
            ((struct sockaddr_in *)sa)->sin_port = 0;   /* same place in v6 */
            int dup = 0;
            for (size_t k = 0; k < f->ans.n && !dup; k++)
                dup = !memcmp(&f->ans.addrs[k], sa, sizeof *sa);
            if (!dup)
                f->ans.n++;
        }
        f->st = f->ans.n ? FS_DATA : FS_EMPTY;
        if (f->ans.n)
            qlog(q, "DNS: %s from the system resolver (%s, %zu address%s)",
                 q->nm.name, type_name(f->qtype), f->ans.n,
                 f->ans.n == 1 ? "" : "es");
    }
    job_release(j);
    int any = 0;
    for (int i = 0; i < 2; i++)
        any |= q->f[i].q && q->f[i].st == FS_DATA;
    if (!any) {
        char why[600];
        snprintf(why, sizeof why, "%s: system resolver: no address", q->nm.name);
        emit_done(q, HF_E_RESOLVE, why);
    } else {
        q_check(q);
    }
    leave(r);
}

static int sys_start(res_query *q)
{
    resolver *r = q->r;
    sysjob *j = calloc(1, sizeof *j);
    if (!j)
        return HF_E_NOMEM;
    j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (j->efd < 0) {
        free(j);
        return HF_E_NOMEM;
    }
    j->family = q->family;
    snprintf(j->name, sizeof j->name, "%s", q->nm.name);
    atomic_init(&j->refs, 2);
    if (loop_watch(r->l, j->efd, LOOP_READ, sys_ev, q)) {
        close(j->efd);
        free(j);
        return HF_E_NOMEM;
    }
    q->job = j;
    q->f[0].t_first = loop_now_ns();
    pthread_attr_t at;
    pthread_t th;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    /* The helper takes no signals: they stay with the program's threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&th, &at, sys_thread, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
    if (rc) {
        loop_unwatch(r->l, j->efd);
        q->job = NULL;
        atomic_store(&j->refs, 1);
        job_release(j);
        return HF_E_NOMEM;
    }
    qlog(q, "DNS: asking the system resolver (getaddrinfo) for %s", q->nm.name);
    return 0;
}

/* --------------------------------------------------------------- start */

/* The 0 ms timer after resolver_start: hosts file, cache, DNS. */
static void kick(loop *l, void *arg)
{
    (void)l;
    res_query *q = arg;
    resolver *r = q->r;
    enter(r);
    q->kick = 0;
    if (r->use_system) {
        int rc = sys_start(q);
        if (rc) {
            char why[600];
            snprintf(why, sizeof why, "%s: cannot start the system resolver",
                     q->nm.name);
            emit_done(q, rc, why);
        }
        leave(r);
        return;
    }
    if (r->hosts) {
        struct sockaddr_storage tmp[RES_MAX_ADDRS * 2];
        int n = dns_hosts_lookup(r->hosts, r->hosts_len, q->nm.name, q->family,
                                 tmp, RES_MAX_ADDRS * 2);
        if (n > 0) {
            qlog(q, "DNS: %s from hosts file", q->nm.name);
            for (int i = 0; i < 2; i++) {
                fam *f = &q->f[i];
                if (!f->q)
                    continue;
                fam_reset(f);
                f->ans.source = RES_FROM_HOSTS;
                for (int k = 0; k < n && f->ans.n < RES_MAX_ADDRS; k++)
                    if (tmp[k].ss_family == f->af)
                        f->ans.addrs[f->ans.n++] = tmp[k];
                f->st = f->ans.n ? FS_DATA : FS_EMPTY;
            }
            q_check(q);
            leave(r);
            return;
        }
    }
    cand_step(q);
    leave(r);
}

int resolver_start(resolver *r, const char *name, int family,
                   const res_callbacks *cb, res_query **out)
{
    *out = NULL;
    if (r->free_pending)
        return HF_E_RESOLVE;
    if (!name || !cb || (family != AF_INET && family != AF_INET6 &&
                         family != AF_UNSPEC))
        return HF_E_RESOLVE;
    res_query *q = calloc(1, sizeof *q);
    if (!q)
        return HF_E_NOMEM;
    if (qname_set(&q->nm, name) < 0) {
        free(q);
        return HF_E_RESOLVE;
    }
    if ((!r->loaded || r->dirty) && load_config(r) != 0) {
        free(q);
        return HF_E_NOMEM;
    }
    q->r = r;
    q->cb = *cb;
    q->family = family;
    for (int i = 0; i < 2; i++) {
        fam *f = &q->f[i];
        f->fd = -1;
        f->af = i ? AF_INET6 : AF_INET;
        f->qtype = i ? DNS_TYPE_AAAA : DNS_TYPE_A;
        if (family == AF_UNSPEC || family == f->af)
            f->q = q;               /* asked */
    }
    q->kick = loop_timer(r->l, 0, kick, q);
    if (!q->kick) {
        free(q);
        return HF_E_NOMEM;
    }
    q->next = r->live;
    if (r->live)
        r->live->prev = q;
    r->live = q;
    *out = q;
    return 0;
}

int resolver_cached(resolver *r, const char *name, int family,
                    struct sockaddr_storage *out, int max)
{
    qname nm;
    char cand[DNS_MAX_TEXT + 1];
    if (!r->loaded || r->dirty || r->use_system || !name || max <= 0 ||
        (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) ||
        qname_set(&nm, name) < 0)
        return 0;
    uint64_t now = coarse_ms();
    for (int i = 0; i <= RES_MAX_CAND; i++) {
        int c = cand_name(r, &nm, i, cand);
        if (c == 0)
            break;
        if (c < 0)
            continue;
        int got = 0, miss = 0;
        for (int k = 0; k < 2; k++) {
            uint16_t t = k ? DNS_TYPE_AAAA : DNS_TYPE_A;
            if (family != AF_UNSPEC && family != (k ? AF_INET6 : AF_INET))
                continue;
            centry *e = cache_find(r, cand, t, now);
            if (!e)
                miss = 1;
            else if (!e->neg && got < max)
                got += (int)centry_addrs(e, out + got, (size_t)(max - got));
        }
        if (got) {
            r->st.cache_hits++;
            return got;
        }
        if (miss) {
            r->st.cache_misses++;
            return 0;
        }
    }
    r->st.cache_hits++;
    return -1;
}
