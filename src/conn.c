/* conn.c -- TCP connections and the client's pool of idle ones. */
#include "internal.h"
#include "trace.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- the bottom layer: the plain socket ------------------------------- */

const char *errno_text(int err, char *why, size_t wn)
{
    snprintf(why, wn, "%s", strerror(err));
    if (why[0] >= 'A' && why[0] <= 'Z' && !(why[1] >= 'A' && why[1] <= 'Z'))
        why[0] = (char)(why[0] - 'A' + 'a');
    return why;
}

static int sock_handshake(filter *f, int *done, int *want, char *why, size_t wn)
{
    (void)f, (void)why, (void)wn;
    *done = 1;
    *want = 0;
    return 0;
}

static int sock_send(filter *f, const void *p, size_t n, size_t *nw, int *want,
                     char *why, size_t wn)
{
    *nw = 0;
    *want = 0;
    for (;;) {
        ssize_t r = send(f->fd, p, n, MSG_NOSIGNAL);
        if (r >= 0) {
            *nw = (size_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = LOOP_WRITE;
            return 0;
        }
        errno_text(errno, why, wn);
        return HF_E_SEND;
    }
}

static int sock_recv(filter *f, void *p, size_t n, size_t *nr, int *want,
                     char *why, size_t wn)
{
    *nr = 0;
    *want = 0;
    for (;;) {
        ssize_t r = recv(f->fd, p, n, 0);
        if (r >= 0) {
            *nr = (size_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = LOOP_READ;
            return 0;
        }
        errno_text(errno, why, wn);
        return HF_E_RECV;
    }
}

static int sock_pending(const filter *f)
{
    (void)f;
    return 0;
}

static void sock_shutdown(filter *f)
{
    (void)f;
}

static void sock_destroy(filter *f)
{
    free(f);
}

static const filter_ops sock_ops = {
    "tcp", sock_handshake, sock_send, sock_recv, sock_pending,
    sock_shutdown, sock_destroy,
};

filter *sock_filter_new(int fd)
{
    filter *f = calloc(1, sizeof *f);
    if (f) {
        f->ops = &sock_ops;
        f->fd = fd;
    }
    return f;
}

/* ---- connections -------------------------------------------------------- */

int conn_grow(conn *cn)
{
    if (cn->rcap >= CONN_RBUF)
        return 0;
    char *p = realloc(cn->rbuf, CONN_RBUF);
    if (!p)
        return HF_E_NOMEM;
    cn->rbuf = p;
    cn->rcap = CONN_RBUF;
    return 0;
}

conn *conn_new(hf_client *c, int fd, const char *key)
{
    conn *cn = calloc(1, sizeof *cn);
    if (!cn)
        return NULL;
    cn->rbuf = malloc(CONN_RBUF0);
    cn->rcap = CONN_RBUF0;
    cn->key = strdup(key);
    cn->top = sock_filter_new(fd);
    if (!cn->rbuf || !cn->key || !cn->top) {
        free(cn->rbuf);
        free(cn->key);
        free(cn->top);
        free(cn);
        return NULL;
    }
    cn->fd = fd;
    cn->id = c->next_conn_id++;
    return cn;
}

/* Put a layer on top; the one below goes (the TLS layer talks to the
 * socket itself). */
void conn_push(conn *cn, filter *f)
{
    cn->top->ops->destroy(cn->top);
    cn->top = f;
}

/* ---- teardown: FIN and ACK each way, and who closed first ------------- */

#define CLOSE_WAIT_MS 200       /* for the other side's FIN */

void conn_emit(hf_client *c, conn *cn, hf_ev type, const ev_args *a)
{
    trace_emit(c, cn->tr, cn->t0, cn->xfer, cn->id, type, a);
}

static void conn_free(hf_client *c, conn *cn)
{
    if (cn->top)
        cn->top->ops->destroy(cn->top);
    if (cn->fd >= 0) {
        loop_forget(c->lp, cn->fd);
        close(cn->fd);
    }
    if (cn->tm_close)
        loop_timer_cancel(c->lp, cn->tm_close);
    free(cn->rbuf);
    free(cn->key);
    free(cn->tls_certs);
    free(cn);
}

static void unlink_closing(hf_client *c, conn *cn)
{
    for (conn **pp = &c->closing; *pp; pp = &(*pp)->next)
        if (*pp == cn) {
            *pp = cn->next;
            cn->next = NULL;
            return;
        }
}

/* The socket goes: TCP_INFO at the end, the last FIN (or RST) noted. */
static void finalize(hf_client *c, conn *cn, int closed_by, const char *reason)
{
    hf_tcp_info ti;
    trace_tcp_info(cn->fd, &ti);
    int pending = 0;
    if (ioctl(cn->fd, FIONREAD, &pending) != 0)
        pending = 0;
    if (!cn->fin_sent && !cn->rst_received) {
        /* close() sends our FIN now, or a RST when unread bytes remain */
        ev_args a = {0};
        a.peer = cn->remote;
        a.local = cn->local;
        if (pending > 0)
            a.detail = "unread bytes in the receive buffer";
        conn_emit(c, cn, pending > 0 ? HF_EV_RST_SENT : HF_EV_FIN_SENT, &a);
        if (closed_by == HF_CLOSED_BY_CLIENT && pending > 0)
            closed_by = HF_CLOSED_BY_RESET;
    }
    loop_forget(c->lp, cn->fd);
    close(cn->fd);
    cn->fd = -1;
    ev_args a = {0};
    a.peer = cn->remote;
    a.local = cn->local;
    a.detail = reason;
    a.closed_by = closed_by;
    a.tcp = &ti;
    conn_emit(c, cn, HF_EV_CLOSED, &a);
    conn_free(c, cn);
}

void conn_saw_fin(hf_client *c, conn *cn)
{
    if (cn->fin_received)
        return;
    cn->fin_received = 1;
    ev_args a = {0};
    a.peer = cn->remote;
    conn_emit(c, cn, HF_EV_FIN_RECEIVED, &a);
}

void conn_saw_rst(hf_client *c, conn *cn)
{
    if (cn->rst_received)
        return;
    cn->rst_received = 1;
    ev_args a = {0};
    a.peer = cn->remote;
    conn_emit(c, cn, HF_EV_RST_RECEIVED, &a);
}

/* Our FIN, after the TLS close_notify. */
static void send_fin(hf_client *c, conn *cn)
{
    cn->top->ops->shutdown(cn->top);
    shutdown(cn->fd, SHUT_WR);
    cn->fin_sent = 1;
    ev_args a = {0};
    a.peer = cn->remote;
    a.local = cn->local;
    conn_emit(c, cn, HF_EV_FIN_SENT, &a);
}

static void closing_done(hf_client *c, conn *cn)
{
    unlink_closing(c, cn);
    if (cn->rst_received)
        finalize(c, cn, HF_CLOSED_BY_RESET, cn->reason);
    else
        finalize(c, cn, cn->server_first ? HF_CLOSED_BY_SERVER
                                         : HF_CLOSED_BY_CLIENT, cn->reason);
}

/* Waiting for the server's FIN: read and drop until the end. */
static void on_closing_event(loop *l, int fd, int mask, void *arg)
{
    (void)l;
    (void)mask;
    conn *cn = arg;
    hf_client *c = cn->client;
    char b[4096];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            conn_saw_rst(c, cn);
        else
            conn_saw_fin(c, cn);
        break;
    }
    if (!cn->fin_sent && !cn->rst_received)
        send_fin(c, cn);    /* the server closed first: our FIN follows */
    closing_done(c, cn);
}

static void on_closing_timeout(loop *l, void *arg)
{
    (void)l;
    conn *cn = arg;
    hf_client *c = cn->client;
    cn->tm_close = 0;
    if (!cn->fin_sent) { /* the server did not close: hflow does */
        cn->server_first = 0;
        send_fin(c, cn);
        cn->tm_close = loop_timer(c->lp, CLOSE_WAIT_MS, on_closing_timeout, cn);
        if (cn->tm_close)
            return;
    }
    closing_done(c, cn);
}

void conn_close(hf_client *c, conn *cn, int how, const char *reason)
{
    if (!cn)
        return;
    cn->client = c;
    snprintf(cn->reason, sizeof cn->reason, "%s", reason ? reason : "");
    if (cn->fd < 0) {
        conn_free(c, cn);
        return;
    }
    if (cn->rst_received) {
        finalize(c, cn, HF_CLOSED_BY_RESET, cn->reason);
        return;
    }
    if (cn->fin_received) { /* the server's FIN came first */
        send_fin(c, cn);
        finalize(c, cn, HF_CLOSED_BY_SERVER, cn->reason);
        return;
    }
    if (how == CONN_ABORT) {
        finalize(c, cn, HF_CLOSED_BY_CLIENT, cn->reason);
        return;
    }
    /* wait (bounded) for the server's FIN; hflow sends its own first
     * unless the server said it would close */
    cn->server_first = how == CONN_AFTER_SERVER;
    if (!cn->server_first)
        send_fin(c, cn);
    cn->tm_close = loop_timer(c->lp, CLOSE_WAIT_MS, on_closing_timeout, cn);
    if (!cn->tm_close ||
        loop_watch(c->lp, cn->fd, LOOP_READ, on_closing_event, cn) != 0) {
        finalize(c, cn, cn->server_first ? HF_CLOSED_BY_SERVER
                                         : HF_CLOSED_BY_CLIENT, cn->reason);
        return;
    }
    /* the rest comes after the transfer (and maybe its response) is gone:
     * those events go to the client only, as for pooled connections */
    cn->tr = NULL;
    cn->next = c->closing;
    c->closing = cn;
}

/* A pooled connection is usable when the server has neither closed it nor
 * sent anything unasked: a read through the layers must find nothing (a
 * TLS layer may consume a late session ticket here, which is fine). */
static int still_open(conn *cn)
{
    char b[64], why[128];
    size_t n = 0;
    int want = 0;
    int rc = cn->top->ops->recv(cn->top, b, sizeof b, &n, &want, why, sizeof why);
    return rc == 0 && n == 0 && want;
}

static void unlink_idle(hf_client *c, conn *cn)
{
    for (conn **pp = &c->idle; *pp; pp = &(*pp)->next)
        if (*pp == cn) {
            *pp = cn->next;
            cn->next = NULL;
            c->nidle--;
            return;
        }
}

static void pool_keep_again(hf_client *c, const char *key);
static void on_idle_event(loop *l, int fd, int mask, void *arg);
static void mark_dead(hf_client *c, conn *cn);

/* The retiring idle connections (see pool_retires): each whose FIN came
 * is marked dead; one still open CLOSE_SOON_NS after its response means
 * the server keeps its connections after all.  Returns how many still
 * wait for their FIN. */
static int check_retiring(hf_client *c)
{
    uint64_t now = loop_now_ns();
    int waiting = 0;
    for (conn *cn = c->idle; cn; cn = cn->next) {
        if (!cn->retiring || cn->dead)
            continue;
        if (!still_open(cn)) {
            mark_dead(c, cn);
        } else if (now - cn->idle_since >= CLOSE_SOON_NS) {
            pool_keep_again(c, cn->key);
            return 0;
        } else {
            waiting++;
        }
    }
    return waiting;
}

static void reap_dead(hf_client *c);

static void on_retire_timer(loop *l, void *arg)
{
    (void)l;
    hf_client *c = arg;
    c->tm_retire = 0;
    if (check_retiring(c) &&
        !(c->tm_retire = loop_timer(c->lp, CLOSE_SOON_NS / 1000000u, on_retire_timer, c)))
        pool_keep_again(c, c->idle_closed); /* out of memory: watch them */
    reap_dead(c);
}

/* Close the idle connections the server closed (see on_idle_event), and
 * those of the retiring ones whose FIN came: from the loop, when it is
 * about to wait. */
void conn_reap_dead(void *arg)
{
    hf_client *c = arg;
    if (c->tm_retire)
        check_retiring(c);
    reap_dead(c);
}

static void reap_dead(hf_client *c)
{
    if (!c->ndead)
        return;
    c->ndead = 0;
    for (conn **pp = &c->idle; *pp; ) {
        conn *cn = *pp;
        if (!cn->dead) {
            pp = &cn->next;
            continue;
        }
        *pp = cn->next;
        cn->next = NULL;
        c->nidle--;
        conn_close(c, cn, CONN_AFTER_SERVER, "the server closed the idle connection");
    }
}

/* The server closed cn, which had been idle since cn->idle_since (seen by
 * the loop, by pool_take, or by a request sent on it that died):
 * remembered, so the next request to it can say why it makes a new one,
 * and counted when it came right after the response (see pool_retires). */
void pool_saw_close(hf_client *c, conn *cn)
{
    int same = strcmp(c->idle_closed, cn->key) == 0;
    if (loop_now_ns() - cn->idle_since < CLOSE_SOON_NS)
        c->close_run = same ? c->close_run + 1 : 1;
    else
        c->close_run = 0;
    snprintf(c->idle_closed, sizeof c->idle_closed, "%s", cn->key);
}

/* The server closed the idle connection cn (its FIN or reset was read):
 * no more use, and no more events (the end of stream is level-triggered);
 * the loop tears it down when it is about to wait (conn_reap_dead), while
 * the request that found it closed goes out on a new connection. */
static void mark_dead(hf_client *c, conn *cn)
{
    if (!cn->rst_received)
        conn_saw_fin(c, cn);
    pool_saw_close(c, cn);
    cn->dead = 1;
    c->ndead++;
    loop_watch(c->lp, cn->fd, 0, on_idle_event, cn);
}

/* An idle connection became readable: the server closed it (or sent
 * bytes nobody asked for).  Either way it is of no more use. */
static void on_idle_event(loop *l, int fd, int mask, void *arg)
{
    (void)l;
    (void)fd;
    (void)mask;
    conn *cn = arg;
    hf_client *c = cn->client;
    if (cn->dead || still_open(cn))
        return; /* e.g. a TLS 1.3 session ticket, read and kept */
    mark_dead(c, cn);
}

/* The server of key closed the last CLOSE_RUN idle connection(s) to it
 * within CLOSE_SOON_NS of their responses, though none said "Connection:
 * close" (tinyproxy, for one, closes every client connection after one
 * response).  It will close this one too, a few microseconds from now: a
 * request sent on it would race that FIN, lose, and cost a reset and a
 * retry -- or an error, for a request that cannot be retried (RFC 9112
 * 9.3.1).  So such a connection is pooled "retiring": not reused while the
 * server's FIN is due; the loop tears it down when that comes. */
int pool_retires(hf_client *c, const char *key)
{
    return c->close_run >= CLOSE_RUN && strcmp(c->idle_closed, key) == 0;
}

/* The server of key left a retiring connection open: it keeps them.
 * They are watched again, as idle connections are. */
static void pool_keep_again(hf_client *c, const char *key)
{
    if (strcmp(c->idle_closed, key) == 0)
        c->close_run = 0;
    for (conn *x = c->idle; x; x = x->next)
        if (x->retiring && strcmp(x->key, key) == 0) {
            x->retiring = 0;
            if (!x->dead)
                loop_watch(c->lp, x->fd, LOOP_READ, on_idle_event, x);
        }
}

conn *pool_take(hf_client *c, const char *key, int check, const char **why)
{
    uint64_t now = loop_now_ns();
    *why = c->idle ? "no idle connection for this scheme, host, port and "
                     "TLS configuration" : "no idle connection";
    /* a server that closed an idle connection of this key before may do it
     * again: ask the kernel first */
    if (c->idle_closed[0] && strcmp(c->idle_closed, key) == 0)
        check = 1;
    for (conn *cn = c->idle; cn; cn = cn->next) {
        if (strcmp(cn->key, key) != 0 || cn->dead)
            continue;
        if (cn->retiring) {
            if (now - cn->idle_since < CLOSE_SOON_NS) {
                *why = "the server closes its connections right after each "
                       "response: the last one is left for it to close";
                continue;
            }
            /* still open well after its response: this server keeps its
             * connections after all */
            pool_keep_again(c, key);
        }
        if (check && !still_open(cn)) {
            /* closed by the server: left for the loop, which sees its FIN
             * and tears it down while this request goes out on a new
             * connection (the teardown is off the request's path) */
            mark_dead(c, cn);
            *why = "the server closed the idle connection";
            continue;
        }
        unlink_idle(c, cn);
        if (now - cn->idle_since > (uint64_t)POOL_MAX_AGE_S * 1000000000u) {
            conn_close(c, cn, CONN_NOW, "idle for too long");
            *why = "the idle connection was too old";
            return pool_take(c, key, check, why);
        }
        /* The loop watches idle connections, so one that closed while the
         * loop ran is gone already.  A peek (one system call) also covers
         * the time the loop did not run; it is skipped for requests that
         * may be retried safely on a fresh connection (RFC 9112 9.3.1)
         * when the connection was idle for under a second. */
        if (!check && now - cn->idle_since > 1000000000u && !still_open(cn)) {
            conn_close(c, cn, CONN_AFTER_SERVER, "closed while idle");
            const char *w2;
            conn *next = pool_take(c, key, check, &w2);
            if (!next)
                *why = "the server closed the idle connection";
            return next;
        }
        return cn;
    }
    if (c->idle_closed[0] && strcmp(c->idle_closed, key) == 0 && !pool_retires(c, key))
        *why = "the server closed the idle connection";
    return NULL;
}

void pool_put(hf_client *c, conn *cn)
{
    cn->rlen = 0;
    if (cn->lowat > 1) {        /* transfer.c lowat_*: every byte again */
        int one = 1;
        if (setsockopt(cn->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one) != 0) {
            conn_close(c, cn, CONN_ABORT, "cannot reset SO_RCVLOWAT");
            return;
        }
        cn->lowat = 1;
    }
    cn->client = c;
    cn->idle_since = loop_now_ns();
    cn->retiring = pool_retires(c, cn->key);
    /* A retiring connection's FIN is due: it needs no wake-up of its own.
     * It is read when the loop is about to wait (conn_reap_dead), after the
     * next request went out, or by a timer when the loop has nothing else
     * to do. */
    if (cn->retiring && !c->tm_retire &&
        !(c->tm_retire = loop_timer(c->lp, CLOSE_SOON_NS / 1000000u, on_retire_timer, c)))
        cn->retiring = 0;
    if (loop_watch(c->lp, cn->fd, cn->retiring ? 0 : LOOP_READ, on_idle_event, cn) != 0) {
        conn_close(c, cn, CONN_ABORT, "out of memory");
        return;
    }
    ev_args a = {0};
    a.peer = cn->remote;
    a.local = cn->local;
    conn_emit(c, cn, HF_EV_POOLED, &a);
    cn->tr = NULL; /* the transfer is over: later events go to the client */
    cn->next = c->idle;
    c->idle = cn;
    c->nidle++;
    /* at most pool_per_host idle for one key: the oldest goes */
    int same = 0;
    for (conn **pp = &c->idle; *pp; ) {
        conn *x = *pp;
        if (strcmp(x->key, cn->key) == 0 && ++same > c->pool_per_host) {
            if (x->retiring && !x->dead && still_open(x))
                pool_keep_again(c, x->key); /* it outlived later responses */
            *pp = x->next;
            x->next = NULL;
            c->nidle--;
            conn_close(c, x, CONN_NOW, "too many idle connections to this host");
            continue;
        }
        pp = &x->next;
    }
    if (c->nidle > c->pool_max) { /* drop the oldest */
        conn **pp = &c->idle;
        while ((*pp)->next)
            pp = &(*pp)->next;
        conn *old = *pp;
        *pp = NULL;
        c->nidle--;
        conn_close(c, old, CONN_NOW, "the pool is full");
    }
}

void hf_client_close_idle(hf_client *c, long wait_ms)
{
    if (!c)
        return;
    while (c->idle) {
        conn *cn = c->idle;
        c->idle = cn->next;
        cn->next = NULL;
        c->nidle--;
        conn_close(c, cn, CONN_NOW, "the client closed its idle connections");
    }
    /* let the servers' FINs arrive, so the teardown is seen whole */
    uint64_t end = loop_now_ns() + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000000u;
    while (c->closing) {
        uint64_t now = loop_now_ns();
        if (now >= end)
            break;
        loop_once(c->lp, (int)((end - now + 999999) / 1000000));
    }
    while (c->closing) {
        conn *cn = c->closing;
        closing_done(c, cn);
    }
}
