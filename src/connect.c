/* connect.c -- names, then happy eyeballs (RFC 8305), down to one socket. */
#include "connect.h"
#include "resolver.h"
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct connector {
    hf_client *c;
    connect_cb cb;
    uint64_t t0;
    int port;
    char host[300];
    /* addresses not yet tried, per family, in the order they came */
    hf_addr *q6, *q4;          /* grown as answers come (thousands of
                                * transfers connect at once: stay small) */
    size_t n6, n4, i6, i4, cap6, cap4;
    int last_family;           /* family of the last attempt started */
    attempt *att;              /* grown as attempts start */
    size_t natt, capatt;
    size_t npending;
    res_query *query;          /* in flight, or NULL */
    int got6, got4;            /* that family's answer came */
    int dns_done;
    int started;               /* attempts have begun */
    uint64_t tm_delay;         /* next-attempt timer (Connection Attempt Delay) */
    uint64_t tm_resdelay;      /* waiting for AAAA after A (Resolution Delay) */
    uint64_t tm_kick;          /* a 0 ms timer: report from the loop */
    int dns_err;               /* the resolver's error when nothing came */
    char dns_why[256];
    int over;                  /* the callbacks have reported the end */
    int nomem;                 /* an attempt failed for want of our memory */
    int depth;                 /* inside one of its loop or resolver
                                * callbacks (connector_free waits) */
    int free_me;
};

static void destroy(connector *k);

/* Entry points run between enter and leave: connector_free from inside a
 * callback (the owner, told it won) is carried out at the way out. */
static void enter(connector *k)
{
    k->depth++;
}

static void leave(connector *k)
{
    if (--k->depth == 0 && k->free_me)
        destroy(k);
}

static void next_attempt(connector *k);

static uint64_t since(const connector *k)
{
    return loop_now_ns() - k->t0;
}

static void logf_(connector *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(connector *k, const char *fmt, ...)
{
    if (!k->cb.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    k->cb.log(k->cb.arg, line);
}

static void emit_at(connector *k, hf_ev type, const char *peer,
                    const char *detail, int64_t value, uint64_t mono)
{
    if (!k->cb.event)
        return;
    ev_args a = {0};
    a.peer = peer;
    a.detail = detail;
    a.value = value;
    a.mono = mono;
    k->cb.event(k->cb.arg, type, &a);
}

static void emit(connector *k, hf_ev type, const char *peer,
                 const char *detail, int64_t value)
{
    emit_at(k, type, peer, detail, value, 0);
}

static void stop_timers(connector *k)
{
    loop *lp = k->c->lp;
    if (k->tm_delay)
        loop_timer_cancel(lp, k->tm_delay);
    if (k->tm_resdelay)
        loop_timer_cancel(lp, k->tm_resdelay);
    if (k->tm_kick)
        loop_timer_cancel(lp, k->tm_kick);
    k->tm_delay = k->tm_resdelay = k->tm_kick = 0;
}

/* The end without a winner: say why, once. */
static void give_up(connector *k)
{
    if (k->over)
        return;
    k->over = 1;
    stop_timers(k);
    char msg[1024];
    int err;
    if (k->natt == 0 && k->nomem) {
        err = HF_E_NOMEM;
        snprintf(msg, sizeof msg, "resolve %s: out of memory", k->host);
    } else if (k->natt == 0) {
        err = k->dns_err ? k->dns_err : HF_E_RESOLVE;
        const char *why = k->dns_why[0] ? k->dns_why
                        : "no address of the requested family";
        size_t hl = strlen(k->host);
        if (strncmp(why, k->host, hl) == 0 && why[hl] == ':' && why[hl + 1] == ' ')
            why += hl + 2; /* the resolver named the host already */
        snprintf(msg, sizeof msg, "resolve %s: %s", k->host, why);
    } else {
        const attempt *a = &k->att[k->natt - 1];
        char e[96];
        err = k->nomem ? HF_E_NOMEM : HF_E_CONNECT;
        if (k->nomem)
            snprintf(msg, sizeof msg, "connect to %s: out of memory", a->text);
        else if (k->natt == 1)
            snprintf(msg, sizeof msg, "connect to %s: %s", a->text,
                     errno_text(a->err, e, sizeof e));
        else
            snprintf(msg, sizeof msg, "connect to %s port %d: all %zu attempts "
                     "failed, the last to %s: %s", k->host, k->port, k->natt,
                     a->text, errno_text(a->err, e, sizeof e));
    }
    k->cb.failed(k->cb.arg, err, msg);
}

/* Nothing pending, nothing left to try, no answer to wait for. */
static void maybe_give_up(connector *k)
{
    if (!k->over && k->npending == 0 && k->i6 == k->n6 && k->i4 == k->n4 &&
        k->dns_done)
        give_up(k);
}

static void on_kick_(loop *l, connector *k_arg)
{
    (void)l;
    connector *k = k_arg;
    k->tm_kick = 0;
    if (!k->started && (k->n6 || k->n4)) {
        k->cb.resolved(k->cb.arg);
        k->started = 1;
        next_attempt(k);
        return;
    }
    maybe_give_up(k);
}

static void on_kick(loop *l, void *arg)
{
    connector *k = arg;
    enter(k);
    on_kick_(l, k);
    leave(k);
}

static void win(connector *k, attempt *a)
{
    k->over = 1;
    stop_timers(k);
    if (!a->end_ns)
        a->end_ns = since(k);
    int fd = a->fd;
    a->fd = -1;
    k->npending--;
    for (size_t i = 0; i < k->natt; i++) /* the others lose */
        if (k->att[i].fd >= 0) {
            loop_forget(k->c->lp, k->att[i].fd);
            close(k->att[i].fd);
            k->att[i].fd = -1;
            k->att[i].end_ns = since(k);
            k->att[i].err = ECANCELED;
            k->npending--;
            logf_(k, "attempt to %s cancelled: %s won", k->att[i].text, a->text);
            char why[128];
            snprintf(why, sizeof why, "cancelled: %s won", a->text);
            emit(k, HF_EV_CONNECT_FAILED, k->att[i].text, why, ECANCELED);
        }
    if (k->query) {
        resolver_cancel(k->query);
        k->query = NULL;
    }
    k->cb.connected(k->cb.arg, fd, a);
}

/* A won socket's events before its new owner watches it: none matter. */
static void on_handed(loop *l, int fd, int mask, void *arg)
{
    (void)fd;
    (void)mask;
    (void)arg;
    loop_unwatch(l, fd);
}

static void on_attempt_(loop *l, int fd, int mask, connector *k_arg)
{
    (void)mask;
    connector *k = k_arg;
    attempt *a = NULL;
    for (size_t i = 0; i < k->natt; i++)
        if (k->att[i].fd == fd)
            a = &k->att[i];
    if (!a) {
        loop_unwatch(l, fd);
        return;
    }
    int err = 0;
    socklen_t el = sizeof err;
    uint64_t woke = loop_woke_ns(l); /* when epoll said so, before any work */
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    if (err == 0) {
        a->end_ns = woke - k->t0;
        /* the registration passes to the new owner, who re-watches the fd
         * (one cheap modification instead of a removal and an add) */
        loop_retarget(l, fd, on_handed, NULL);
        win(k, a);
        return;
    }
    loop_forget(l, fd);
    close(fd);
    a->fd = -1;
    a->err = err;
    a->end_ns = since(k);
    k->npending--;
    char e[96];
    logf_(k, "connect to %s failed: %s (%.2f ms)", a->text,
          errno_text(err, e, sizeof e), (double)(a->end_ns - a->start_ns) / 1e6);
    emit(k, HF_EV_CONNECT_FAILED, a->text, e, err);
    /* RFC 8305 5: a failure starts the next attempt at once */
    next_attempt(k);
}

static void on_attempt(loop *l, int fd, int mask, void *arg)
{
    connector *k = arg;
    enter(k);
    on_attempt_(l, fd, mask, k);
    leave(k);
}

static void on_delay_(loop *l, connector *k_arg)
{
    (void)l;
    connector *k = k_arg;
    k->tm_delay = 0;
    next_attempt(k);
}

static void on_delay(loop *l, void *arg)
{
    connector *k = arg;
    enter(k);
    on_delay_(l, k);
    leave(k);
}

/* The next address: families alternate, IPv6 first (RFC 8305 4). */
static const hf_addr *pick(connector *k)
{
    int v6_left = k->i6 < k->n6, v4_left = k->i4 < k->n4;
    if (v6_left && (!v4_left || k->last_family != AF_INET6)) {
        k->last_family = AF_INET6;
        return &k->q6[k->i6++];
    }
    if (v4_left) {
        k->last_family = AF_INET;
        return &k->q4[k->i4++];
    }
    return NULL;
}

static void next_attempt(connector *k)
{
    loop *lp = k->c->lp;
    while (!k->over) {
        if (k->natt == CONNECT_MAX_ATTEMPTS) {
            k->i6 = k->n6;
            k->i4 = k->n4;
            return;
        }
        if (k->natt == k->capatt) {
            size_t cap = k->capatt ? k->capatt * 2 : 2;
            attempt *p = realloc(k->att, cap * sizeof *p);
            if (!p) {
                k->nomem = 1;
                k->i6 = k->n6;
                k->i4 = k->n4;
                maybe_give_up(k);
                return;
            }
            k->att = p;
            k->capatt = cap;
        }
        const hf_addr *ad = pick(k);
        if (!ad) {
            maybe_give_up(k);
            return;
        }
        attempt *a = &k->att[k->natt++];
        memset(a, 0, sizeof *a);
        a->addr = *ad;
        a->fd = -1;
        addr_format((const struct sockaddr *)&ad->sa, a->text, sizeof a->text,
                    NULL, 0, NULL);
        a->start_ns = since(k);
        logf_(k, "Trying %s (attempt %zu)...", a->text, k->natt);
        int fd = socket(ad->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        /* The ACK that ends the handshake (RFC 9293 3.5: the third segment
         * may carry data) waits for the first bytes, which hflow sends as
         * soon as the connection is up: Linux holds it for a connecting
         * socket with TCP_DEFER_ACCEPT set ("save one ACK", up to 200 ms,
         * tcp_rcv_synsent_state_process).  The server then wakes once, with
         * the request in hand, not once for the ACK and again for the
         * request.  The flow view says where the ACK went. */
        if (fd >= 0 && !k->c->tcp_quickack) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
        }
        /* the SYN leaves inside connect(): stamp it there, record after */
        uint64_t syn = loop_now_ns();
        int crc = fd < 0 ? -1 : connect(fd, (const struct sockaddr *)&ad->sa, ad->len);
        int cerr = errno;
        a->start_ns = syn - k->t0;
        emit_at(k, HF_EV_CONNECT_START, a->text, NULL, (int64_t)k->natt, syn);
        if (fd < 0) {
            a->err = cerr;
            a->end_ns = since(k);
            continue;
        }
        if (crc < 0 && cerr != EINPROGRESS) {
            char e[96];
            a->err = cerr;
            a->end_ns = since(k);
            close(fd);
            logf_(k, "connect to %s failed: %s", a->text, errno_text(a->err, e, sizeof e));
            emit(k, HF_EV_CONNECT_FAILED, a->text, e, a->err);
            continue;
        }
        /* On loopback the handshake is over by the time connect() returns
         * (EINPROGRESS or not): the kernel says so, and the attempt wins
         * without a trip through epoll. */
        /* (only once the lookup is over: its end comes first in the trace) */
        int est = crc == 0 && k->dns_done;
        if (!est && k->dns_done) {
            struct tcp_info ti;
            socklen_t tl = sizeof ti;
            est = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
                  ti.tcpi_state == TCP_ESTABLISHED;
        }
        if (est) {
            a->fd = fd;
            k->npending++;
            a->end_ns = since(k);
            win(k, a);
            return;
        }
        /* in progress: epoll says when it is writable */
        int wrc = loop_watch(lp, fd, LOOP_WRITE, on_attempt, k);
        if (wrc != 0) {
            close(fd);
            a->err = ENOMEM;
            if (wrc == HF_E_NOMEM)
                k->nomem = 1;
            a->end_ns = since(k);
            continue;
        }
        a->fd = fd;
        k->npending++;
        if (k->tm_delay)
            loop_timer_cancel(lp, k->tm_delay);
        k->tm_delay = 0;
        if (k->i6 < k->n6 || k->i4 < k->n4 || !k->dns_done)
            k->tm_delay = loop_timer(lp, (uint64_t)k->c->he_delay_ms, on_delay, k);
        return;
    }
}

/* Append a to the family's queue (at most RES_MAX_ADDRS * 2 each). */
static void queue_addr(connector *k, const hf_addr *a)
{
    int v6 = a->sa.ss_family == AF_INET6;
    hf_addr **q = v6 ? &k->q6 : &k->q4;
    size_t *n = v6 ? &k->n6 : &k->n4, *cap = v6 ? &k->cap6 : &k->cap4;
    if (*n >= RES_MAX_ADDRS * 2)
        return;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 2;
        hf_addr *p = realloc(*q, c * sizeof *p);
        if (!p) {
            k->nomem = 1; /* said if no attempt can be made at all */
            return;
        }
        *q = p;
        *cap = c;
    }
    (*q)[(*n)++] = *a;
}

static void add_addrs(connector *k, int family, const struct sockaddr_storage *v,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hf_addr a;
        memset(&a, 0, sizeof a);
        a.sa = v[i];
        if (family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.sa;
            s6->sin6_port = htons((uint16_t)k->port);
            a.len = sizeof *s6;
            queue_addr(k, &a);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
            s4->sin_port = htons((uint16_t)k->port);
            a.len = sizeof *s4;
            queue_addr(k, &a);
        }
    }
}

static void on_resdelay_(loop *l, connector *k_arg)
{
    (void)l;
    connector *k = k_arg;
    k->tm_resdelay = 0;
    if (!k->started) {
        logf_(k, "No AAAA answer within %d ms: connecting over IPv4",
              RESOLUTION_DELAY_MS);
        k->started = 1;
        next_attempt(k);
    }
}

static void on_resdelay(loop *l, void *arg)
{
    connector *k = arg;
    enter(k);
    on_resdelay_(l, k);
    leave(k);
}

static void on_answer_(connector *k_arg, const res_answer *ra)
{
    connector *k = k_arg;
    int fam_ok = !k->c->family || (k->c->family == 4) == (ra->family == AF_INET);
    if (ra->family == AF_INET6)
        k->got6 = 1;
    else
        k->got4 = 1;
    if (fam_ok)
        add_addrs(k, ra->family, ra->addrs, ra->n);
    {
        static const char *const src[] = {"dns", "cache", "hosts file", "system"};
        char d[1024];
        int o = snprintf(d, sizeof d, "%s", ra->family == AF_INET6 ? "AAAA" : "A");
        for (size_t i = 0; i < ra->n && o > 0 && (size_t)o < sizeof d - 64; i++) {
            char ip[64];
            addr_format((const struct sockaddr *)&ra->addrs[i], ip, sizeof ip,
                        ip, sizeof ip, NULL);
            o += snprintf(d + o, sizeof d - (size_t)o, " %s", ip);
        }
        if (!ra->n && o > 0)
            o += snprintf(d + o, sizeof d - (size_t)o, " none");
        if (o > 0 && (size_t)o < sizeof d)
            snprintf(d + o, sizeof d - (size_t)o, " ttl=%u from=%s%s%s%s",
                     ra->ttl, ra->source >= 0 && ra->source < 4 ? src[ra->source] : "?",
                     ra->source == RES_FROM_DNS ? (ra->tcp ? " tcp" : " udp") : "",
                     ra->cname_chain[0] ? " cname=" : "", ra->cname_chain);
        emit(k, HF_EV_DNS_ANSWER, ra->server, d, (int64_t)ra->elapsed_ns);
    }
    k->cb.resolved(k->cb.arg);
    if (!ra->n || !fam_ok)
        return;
    if (k->started) { /* more addresses for the attempts under way */
        if (!k->npending && !k->tm_delay)
            next_attempt(k);
        return;
    }
    /* RFC 8305 3: start on AAAA at once; on A, wait a little for AAAA */
    if (ra->family == AF_INET6 || k->got6 || k->c->family == 4) {
        if (k->tm_resdelay) {
            loop_timer_cancel(k->c->lp, k->tm_resdelay);
            k->tm_resdelay = 0;
        }
        k->started = 1;
        next_attempt(k);
    } else if (!k->tm_resdelay) {
        k->tm_resdelay = loop_timer(k->c->lp, RESOLUTION_DELAY_MS, on_resdelay, k);
    }
}

static void on_answer(void *arg, const res_answer *ra)
{
    connector *k = arg;
    enter(k);
    on_answer_(k, ra);
    leave(k);
}

static void on_dns_done_(connector *k_arg, int err, const char *why)
{
    connector *k = k_arg;
    k->query = NULL; /* freed by the resolver */
    k->dns_done = 1;
    emit(k, HF_EV_DNS_END, NULL, err ? why : NULL, (int64_t)(k->n6 + k->n4));
    if (err) {
        k->dns_err = err;
        snprintf(k->dns_why, sizeof k->dns_why, "%s", why ? why : "failed");
    }
    if (!k->started && (k->n6 || k->n4)) {
        if (k->tm_resdelay) {
            loop_timer_cancel(k->c->lp, k->tm_resdelay);
            k->tm_resdelay = 0;
        }
        k->started = 1;
        next_attempt(k);
    }
    if (k->tm_delay && !(k->i6 < k->n6 || k->i4 < k->n4)) {
        /* no more addresses will come: nothing to start later */
        loop_timer_cancel(k->c->lp, k->tm_delay);
        k->tm_delay = 0;
    }
    maybe_give_up(k);
}

static void on_dns_done(void *arg, int err, const char *why)
{
    connector *k = arg;
    enter(k);
    on_dns_done_(k, err, why);
    leave(k);
}

static void on_dns_log(void *arg, const char *line)
{
    connector *k = arg;
    if (k->cb.log)
        k->cb.log(k->cb.arg, line);
}

int connector_start(hf_client *c, const url *u, uint64_t t0,
                    const connect_cb *cb, connector **out)
{
    connector *k = calloc(1, sizeof *k);
    if (!k)
        return HF_E_NOMEM;
    k->c = c;
    k->cb = *cb;
    k->t0 = t0;
    k->port = u->port;
    snprintf(k->host, sizeof k->host, "%s", u->host);
    *out = k;

    hf_addr *v = NULL;
    size_t n = 0;
    char why[256] = "";
    int rc = names_resolve(c, u, &v, &n, why, sizeof why);
    if (rc == NAMES_ASK) {
        resolver *r = client_resolver(c);
        if (!r) {
            free(k);
            *out = NULL;
            return HF_E_NOMEM;
        }
        static const res_callbacks rcb0;
        res_callbacks rcb = rcb0;
        rcb.answer = on_answer;
        rcb.done = on_dns_done;
        rcb.log = k->cb.log ? on_dns_log : NULL;
        rcb.arg = k;
        int fam = c->family == 4 ? AF_INET : c->family == 6 ? AF_INET6 : AF_UNSPEC;
        emit(k, HF_EV_DNS_START, NULL, u->host, 0);
        rc = resolver_start(r, u->host, fam, &rcb, &k->query);
        if (rc == HF_E_NOMEM) {
            free(k);
            *out = NULL;
            return rc;
        }
        if (rc) { /* a name that cannot be asked: report from the loop */
            k->dns_done = 1;
            k->dns_err = rc;
            snprintf(k->dns_why, sizeof k->dns_why, "not a name that can be looked up");
        } else {
            return 0;
        }
    } else if (rc) {
        k->dns_err = rc;
        snprintf(k->dns_why, sizeof k->dns_why, "%s", why);
        k->dns_done = 1;
    } else {
        for (size_t i = 0; i < n; i++)
            queue_addr(k, &v[i]);
        free(v);
        k->dns_done = 1;
    }
    /* known at once (or failed at once): go on from the loop */
    k->tm_kick = loop_timer(c->lp, 0, on_kick, k);
    if (!k->tm_kick) {
        free(k->q6);
        free(k->q4);
        free(k);
        *out = NULL;
        return HF_E_NOMEM;
    }
    return 0;
}

void connector_free(connector *k)
{
    if (!k)
        return;
    if (k->depth) { /* from inside one of its callbacks: at the way out */
        k->free_me = 1;
        k->over = 1;
        return;
    }
    destroy(k);
}

static void destroy(connector *k)
{
    stop_timers(k);
    if (k->query)
        resolver_cancel(k->query);
    for (size_t i = 0; i < k->natt; i++)
        if (k->att[i].fd >= 0) {
            loop_unwatch(k->c->lp, k->att[i].fd);
            close(k->att[i].fd);
        }
    free(k->att);
    free(k->q6);
    free(k->q4);
    free(k);
}

const attempt *connector_attempts(const connector *k, size_t *n)
{
    *n = k ? k->natt : 0;
    return k ? k->att : NULL;
}
