/* conn.c -- TCP connections and the client's pool of idle ones. */
#include "internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

conn *conn_new(hf_client *c, int fd, const char *key)
{
    conn *cn = calloc(1, sizeof *cn);
    if (!cn)
        return NULL;
    cn->rbuf = malloc(CONN_RBUF);
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

void conn_close(hf_client *c, conn *cn)
{
    if (!cn)
        return;
    if (cn->top) {
        cn->top->ops->shutdown(cn->top);
        cn->top->ops->destroy(cn->top);
    }
    if (cn->fd >= 0) {
        loop_unwatch(c->lp, cn->fd);
        close(cn->fd);
    }
    free(cn->rbuf);
    free(cn->key);
    free(cn->tls_certs);
    free(cn);
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

/* An idle connection became readable: the server closed it (or sent
 * bytes nobody asked for).  Either way it is of no more use. */
static void on_idle_event(loop *l, int fd, int mask, void *arg)
{
    (void)l;
    (void)fd;
    (void)mask;
    conn *cn = arg;
    hf_client *c = cn->client;
    if (still_open(cn))
        return; /* e.g. a TLS 1.3 session ticket, read and kept */
    unlink_idle(c, cn);
    conn_close(c, cn);
}

conn *pool_take(hf_client *c, const char *key, int check)
{
    uint64_t now = loop_now_ns();
    for (conn *cn = c->idle; cn; cn = cn->next) {
        if (strcmp(cn->key, key) != 0)
            continue;
        unlink_idle(c, cn);
        /* The loop watches idle connections, so one that closed while the
         * loop ran is gone already.  A peek (one system call) also covers
         * the time the loop did not run; it is skipped for requests that
         * may be retried safely on a fresh connection (RFC 9112 9.3.1)
         * when the connection was idle for under a second. */
        if ((check || now - cn->idle_since > 1000000000u) && !still_open(cn)) {
            conn_close(c, cn);
            return pool_take(c, key, check);
        }
        return cn;
    }
    return NULL;
}

void pool_put(hf_client *c, conn *cn)
{
    cn->rlen = 0;
    cn->client = c;
    cn->idle_since = loop_now_ns();
    if (loop_watch(c->lp, cn->fd, LOOP_READ, on_idle_event, cn) != 0) {
        conn_close(c, cn);
        return;
    }
    cn->next = c->idle;
    c->idle = cn;
    if (++c->nidle > POOL_MAX_IDLE) { /* drop the oldest */
        conn **pp = &c->idle;
        while ((*pp)->next)
            pp = &(*pp)->next;
        conn_close(c, *pp);
        *pp = NULL;
        c->nidle--;
    }
}

void pool_clear(hf_client *c)
{
    while (c->idle) {
        conn *n = c->idle->next;
        conn_close(c, c->idle);
        c->idle = n;
    }
    c->nidle = 0;
}
