/* views.c -- --flow and --stat: the CLI's glue to hf_view_flow and
 * hf_view_stat.
 *
 * --flow listens to every event of the client.  Events of a connection
 * (conn >= 0) go to that connection's list.  The steps before a
 * connection exists -- the DNS lookup and the connect attempts -- come
 * with conn -1 and the transfer's number: they wait in the transfer's
 * list and join the connection that transfer then uses (a transfer that
 * never connects gets a diagram of its own when it is done).  A diagram
 * is made when the connection's CLOSED event arrives; it is printed after
 * the transfer (cli_flow_flush), or at the end of the run. */
#include "views.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"

typedef struct evlist {
    hf_event *v;             /* copies: the strings are ours */
    size_t n, cap;
} evlist;

typedef struct connrec {
    long id;
    evlist ev;
    int closed;              /* its CLOSED came: the diagram is complete */
} connrec;

typedef struct xferrec {
    long id;
    long conn;               /* the connection it uses, or -1 */
    evlist pending;          /* conn -1 events not yet on a connection */
    hf_event queued;         /* its QUEUED event (copy), type -1 if none */
} xferrec;

static struct {
    int on, finished;
    connrec *conns;          /* open connections, in the order seen */
    size_t nconns, capconns;
    xferrec *xfers;          /* transfers not yet done */
    size_t nxfers, capxfers;
    sbuf ready;              /* diagrams to print */
} fl;

/* ---- the width and colour of stderr --------------------------------- */

static hf_view_opts view_opts(void)
{
    hf_view_opts o = {80, cli_color()};
    struct winsize ws;
    if (isatty(2) && ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        o.width = ws.ws_col > 200 ? 200 : ws.ws_col;
    return o;
}

/* ---- event lists ----------------------------------------------------- */

static hf_event copy_event(const hf_event *e)
{
    hf_event c = *e;
    c.peer = xstrdup(e->peer ? e->peer : "");
    c.local = xstrdup(e->local ? e->local : "");
    c.detail = xstrdup(e->detail ? e->detail : "");
    return c;
}

static void free_event(hf_event *e)
{
    free((char *)e->peer);
    free((char *)e->local);
    free((char *)e->detail);
}

static void ev_push(evlist *l, hf_event copied)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = copied;
}

static void ev_free(evlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free_event(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The diagram of these events onto the ready queue. */
static void render(const evlist *l)
{
    if (!l->n)
        return;
    hf_view_opts o = view_opts();
    char *d = hf_view_flow(l->v, l->n, &o);
    if (!d)
        die_nomem();
    sb_adds(&fl.ready, d);
    sb_adds(&fl.ready, "\n");
    free(d);
}

static connrec *find_conn(long id, int make)
{
    for (size_t i = 0; i < fl.nconns; i++)
        if (fl.conns[i].id == id)
            return &fl.conns[i];
    if (!make)
        return NULL;
    if (fl.nconns == fl.capconns) {
        fl.capconns = fl.capconns ? fl.capconns * 2 : 8;
        fl.conns = xrealloc(fl.conns, fl.capconns * sizeof *fl.conns);
    }
    connrec *c = &fl.conns[fl.nconns++];
    memset(c, 0, sizeof *c);
    c->id = id;
    return c;
}

static void drop_conn(connrec *c)
{
    ev_free(&c->ev);
    size_t i = (size_t)(c - fl.conns);
    memmove(c, c + 1, (fl.nconns - i - 1) * sizeof *c);
    fl.nconns--;
}

static xferrec *find_xfer(long id, int make)
{
    for (size_t i = 0; i < fl.nxfers; i++)
        if (fl.xfers[i].id == id)
            return &fl.xfers[i];
    if (!make)
        return NULL;
    if (fl.nxfers == fl.capxfers) {
        fl.capxfers = fl.capxfers ? fl.capxfers * 2 : 8;
        fl.xfers = xrealloc(fl.xfers, fl.capxfers * sizeof *fl.xfers);
    }
    xferrec *x = &fl.xfers[fl.nxfers++];
    memset(x, 0, sizeof *x);
    x->id = id;
    x->conn = -1;
    x->queued.type = (hf_ev)-1;
    return x;
}

static void drop_xfer(xferrec *x)
{
    ev_free(&x->pending);
    if ((int)x->queued.type >= 0)
        free_event(&x->queued);
    size_t i = (size_t)(x - fl.xfers);
    memmove(x, x + 1, (fl.nxfers - i - 1) * sizeof *x);
    fl.nxfers--;
}

/* The steps before a connection: they belong to the one that follows. */
static int before_conn(hf_ev t)
{
    return t == HF_EV_QUEUED || t == HF_EV_DNS_START || t == HF_EV_DNS_ANSWER ||
           t == HF_EV_DNS_END || t == HF_EV_CONNECT_START ||
           t == HF_EV_CONNECT_FAILED;
}

static void on_event(void *arg, const hf_event *e)
{
    (void)arg;
    if (fl.finished)
        return;
    if (e->conn >= 0) {
        /* a connection's teardown may come long after its last transfer */
        xferrec *x = find_xfer(e->transfer, 0);
        connrec *c = find_conn(e->conn, 1);
        if (x && x->conn != e->conn) {
            /* the transfer's first step on this connection: what it did
             * before joins it (a retry on a second connection gets the
             * request's QUEUED again, for the request line) */
            int has_queued = 0;
            for (size_t i = 0; i < x->pending.n; i++)
                has_queued |= x->pending.v[i].type == HF_EV_QUEUED;
            if (!has_queued && (int)x->queued.type >= 0)
                ev_push(&c->ev, copy_event(&x->queued));
            for (size_t i = 0; i < x->pending.n; i++)
                ev_push(&c->ev, x->pending.v[i]);
            x->pending.n = 0;
            x->conn = e->conn;
        }
        ev_push(&c->ev, copy_event(e));
        if (e->type == HF_EV_CLOSED)
            c->closed = 1;
        return;
    }
    xferrec *x = find_xfer(e->transfer, 1);
    if (e->type == HF_EV_QUEUED && (int)x->queued.type < 0)
        x->queued = copy_event(e);
    if (e->type == HF_EV_DONE) {
        /* a transfer that never connected (or whose last attempt failed)
         * is drawn on its own */
        int steps = 0;
        for (size_t i = 0; i < x->pending.n; i++)
            steps |= x->pending.v[i].type != HF_EV_QUEUED;
        if (steps || (x->conn < 0 && x->pending.n)) {
            if (x->conn >= 0 && (int)x->queued.type >= 0) {
                int has_queued = 0;
                for (size_t i = 0; i < x->pending.n; i++)
                    has_queued |= x->pending.v[i].type == HF_EV_QUEUED;
                if (!has_queued)
                    ev_push(&x->pending, copy_event(&x->queued));
            }
            ev_push(&x->pending, copy_event(e));
            render(&x->pending);
        }
        drop_xfer(x);
        return;
    }
    /* e.g. an error after the connection was made: on the connection,
     * unless the transfer went on to try another one */
    connrec *c = x->conn >= 0 && !before_conn(e->type) ? find_conn(x->conn, 0) : NULL;
    int steps = 0;
    for (size_t i = 0; i < x->pending.n; i++)
        steps |= x->pending.v[i].type != HF_EV_QUEUED;
    if (c && !steps)
        ev_push(&c->ev, copy_event(e));
    else
        ev_push(&x->pending, copy_event(e));
}

/* ---- the public part ---------------------------------------------------- */

void cli_flow_enable(hf_client *c)
{
    if (fl.on)
        return;
    if (events_add_listener(c, on_event, NULL) != 0) {
        cli_warn("--flow: cannot listen to the client's events");
        return;
    }
    fl.on = 1;
}

/* The complete diagrams, by connection number. */
static void render_closed(void)
{
    for (;;) {
        connrec *first = NULL;
        for (size_t i = 0; i < fl.nconns; i++)
            if (fl.conns[i].closed && (!first || fl.conns[i].id < first->id))
                first = &fl.conns[i];
        if (!first)
            return;
        render(&first->ev);
        drop_conn(first);
    }
}

void cli_flow_flush(void)
{
    render_closed();
    if (!fl.ready.len)
        return;
    fflush(stdout);   /* a terminal shows the body first */
    fwrite(fl.ready.p, 1, fl.ready.len, stderr);
    fflush(stderr);
    fl.ready.len = 0;
}

void cli_flow_finish(void)
{
    if (!fl.on || fl.finished)
        return;
    render_closed();
    while (fl.nconns) {
        render(&fl.conns[0].ev);
        drop_conn(&fl.conns[0]);
    }
    while (fl.nxfers) {
        if (fl.xfers[0].pending.n)
            render(&fl.xfers[0].pending);
        drop_xfer(&fl.xfers[0]);
    }
    cli_flow_flush();
    fl.finished = 1;
    free(fl.conns);
    free(fl.xfers);
    sb_free(&fl.ready);
    fl.conns = NULL;
    fl.xfers = NULL;
    fl.nconns = fl.capconns = fl.nxfers = fl.capxfers = 0;
}

void cli_stat_print(const hf_response *resp)
{
    hf_view_opts o = view_opts();
    char *s = hf_view_stat(resp, &o);
    if (!s)
        die_nomem();
    fflush(stdout);
    fputs(s, stderr);
    fflush(stderr);
    free(s);
}
