/* conn.c -- TCP connections and the client's pool of idle ones. */
#include "internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

conn *conn_new(hf_client *c, int fd, const char *key)
{
    conn *cn = calloc(1, sizeof *cn);
    if (!cn)
        return NULL;
    cn->rbuf = malloc(CONN_RBUF);
    cn->key = strdup(key);
    if (!cn->rbuf || !cn->key) {
        free(cn->rbuf);
        free(cn->key);
        free(cn);
        return NULL;
    }
    cn->fd = fd;
    cn->id = c->next_conn_id++;
    return cn;
}

void conn_close(hf_client *c, conn *cn)
{
    if (!cn)
        return;
    if (cn->fd >= 0) {
        loop_unwatch(c->lp, cn->fd);
        close(cn->fd);
    }
    free(cn->rbuf);
    free(cn->key);
    free(cn);
}

/* A pooled connection is usable when the server has neither closed it
 * nor sent anything unasked: a peek must find nothing to read. */
static int still_open(conn *cn)
{
    char b;
    ssize_t n = recv(cn->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
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
