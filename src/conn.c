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

conn *pool_take(hf_client *c, const char *key)
{
    conn **pp = &c->idle;
    while (*pp) {
        conn *cn = *pp;
        if (strcmp(cn->key, key) != 0) {
            pp = &cn->next;
            continue;
        }
        *pp = cn->next;
        c->nidle--;
        cn->next = NULL;
        if (still_open(cn))
            return cn;
        conn_close(c, cn);
    }
    return NULL;
}

void pool_put(hf_client *c, conn *cn)
{
    loop_unwatch(c->lp, cn->fd);
    cn->rlen = 0;
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
