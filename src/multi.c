/* multi.c -- many transfers on one client: the queue, the limits (in all,
 * per host), the start rates (token buckets), and the ways to drive the
 * loop: hf_client_run, the caller's own loop (hf_client_fd / _timeout_ms /
 * _process), and hf_send on top of them.
 *
 * A hop that ends inside a socket handler only puts its job on a list;
 * drive() takes the list after each turn of the loop, so a job's next hop,
 * its done callback and the start of queued jobs never run on the stack of
 * a handler that may still use the connection. */
#include "internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_BUCKETS 1024

/* A token bucket: rate tokens a second, at most burst. */
typedef struct bucket {
    double rate, burst, tokens;
    uint64_t last;           /* when tokens was last brought up to date */
} bucket;

typedef struct host_ent {
    char *key;                /* "host:port" */
    long running;
    struct hf_transfer *qhead, *qtail;   /* waiting to start, in order */
    struct host_ent *hnext;   /* hash chain */
    struct host_ent *rnext, *rprev;      /* the hosts with a queue */
    int in_ready;
    bucket rate;
} host_ent;

struct multi {
    host_ent *buckets[HOST_BUCKETS];
    host_ent *ready;          /* hosts with queued jobs (round robin) */
    struct hf_transfer *running;
    struct hf_transfer *delayed;       /* hf_submit_delayed, not yet due */
    struct hf_transfer *dhead, *dtail;  /* jobs whose hop ended */
    size_t pending;           /* submitted, done callback not yet run */
    long nrunning;
    long max_transfers, max_per_host, max_conns_per_host;
    bucket rate;              /* global */
    double host_rate;
    long host_burst;
    uint64_t tm_sched;        /* wake-up for a rate or delay */
    int in_drive;
    int in_reap;
};

static void reap(hf_client *c);

/* After each handler: a hop that ended goes on at once (its connection
 * back to the pool, the next request out), so reading answers and sending
 * requests interleave instead of alternating batch by batch. */
static void post_handler(void *arg)
{
    hf_client *c = arg;
    if (c->m->dhead && !c->m->in_reap)
        reap(c);
}

static struct multi *get_multi(hf_client *c)
{
    if (!c->m && (c->m = calloc(1, sizeof *c->m)))
        loop_set_post(c->lp, post_handler, c);
    return c->m;
}

/* ---- rates ---------------------------------------------------------------- */

static void bucket_set(bucket *b, double rate, long burst)
{
    b->rate = rate;
    b->burst = burst > 0 ? (double)burst : 1.0;
    b->tokens = b->burst; /* the first starts go at once */
    b->last = loop_now_ns();
}

/* 0 when a token was taken; else the ns until one is there. */
static uint64_t bucket_wait(bucket *b, uint64_t now)
{
    if (b->rate <= 0)
        return 0;
    if (now > b->last) {
        b->tokens += (double)(now - b->last) / 1e9 * b->rate;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last = now;
    }
    if (b->tokens >= 1.0)
        return 0;
    uint64_t w = (uint64_t)((1.0 - b->tokens) / b->rate * 1e9) + 1;
    return w ? w : 1;
}

static void bucket_take(bucket *b)
{
    if (b->rate > 0)
        b->tokens -= 1.0;
}

/* ---- hosts ---------------------------------------------------------------- */

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static host_ent *host_get(struct multi *m, const char *key)
{
    unsigned b = hash_str(key) % HOST_BUCKETS;
    for (host_ent *h = m->buckets[b]; h; h = h->hnext)
        if (strcmp(h->key, key) == 0)
            return h;
    host_ent *h = calloc(1, sizeof *h);
    if (!h || !(h->key = strdup(key))) {
        free(h);
        return NULL;
    }
    bucket_set(&h->rate, m->host_rate, m->host_burst);
    h->hnext = m->buckets[b];
    m->buckets[b] = h;
    return h;
}

/* The limits key of a URL: host and port ("" when it does not parse: such
 * a job fails at once anyway). */
static host_ent *host_of(struct multi *m, const char *u)
{
    url p;
    char why[64], key[600] = "";
    if (url_parse(&p, u, why, sizeof why) == 0) {
        snprintf(key, sizeof key, "%s:%d", p.host, p.port);
        url_free(&p);
    }
    return host_get(m, key);
}

static void ready_add(struct multi *m, host_ent *h)
{
    if (h->in_ready)
        return;
    h->in_ready = 1;
    h->rprev = NULL;
    h->rnext = m->ready;
    if (m->ready)
        m->ready->rprev = h;
    m->ready = h;
}

static void ready_del(struct multi *m, host_ent *h)
{
    if (!h->in_ready)
        return;
    h->in_ready = 0;
    if (h->rprev)
        h->rprev->rnext = h->rnext;
    else
        m->ready = h->rnext;
    if (h->rnext)
        h->rnext->rprev = h->rprev;
    h->rnext = h->rprev = NULL;
}

/* ---- lists ---------------------------------------------------------------- */

static void list_add(struct hf_transfer **head, struct hf_transfer *j)
{
    j->prev = NULL;
    j->next = *head;
    if (*head)
        (*head)->prev = j;
    *head = j;
}

static void list_del(struct hf_transfer **head, struct hf_transfer *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else if (*head == j)
        *head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
}

static void queue_add(struct multi *m, struct hf_transfer *j)
{
    host_ent *h = j->host;
    j->state = JOB_QUEUED;
    j->next = NULL;
    j->prev = h->qtail;
    if (h->qtail)
        h->qtail->next = j;
    else
        h->qhead = j;
    h->qtail = j;
    ready_add(m, h);
}

static void queue_del(struct multi *m, struct hf_transfer *j)
{
    host_ent *h = j->host;
    if (j->prev)
        j->prev->next = j->next;
    else
        h->qhead = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        h->qtail = j->prev;
    j->next = j->prev = NULL;
    if (!h->qhead)
        ready_del(m, h);
}

void multi_hop_ended(struct hf_transfer *j)
{
    struct multi *m = j->c->m;
    if (j->in_done)
        return;
    j->in_done = 1;
    j->dnext = NULL;
    if (m->dtail)
        m->dtail->dnext = j;
    else
        m->dhead = j;
    m->dtail = j;
}

/* ---- scheduling ----------------------------------------------------------- */

static void schedule(hf_client *c);

static void on_sched(loop *l, void *arg)
{
    (void)l;
    hf_client *c = arg;
    c->m->tm_sched = 0;
    schedule(c);
}

static long host_limit(const struct multi *m)
{
    long a = m->max_per_host, b = m->max_conns_per_host;
    if (!a || (b && b < a))
        a = b;
    return a;
}

/* Start what the limits and rates allow: one job a host a round, so one
 * busy host does not hold the others back. */
static void schedule(hf_client *c)
{
    struct multi *m = c->m;
    uint64_t now = loop_now_ns(), wait = 0;
    long hl = host_limit(m);
    int started = 1;
    while (started && m->ready) {
        started = 0;
        host_ent *next;
        for (host_ent *h = m->ready; h; h = next) {
            next = h->rnext;
            if (m->max_transfers && m->nrunning >= m->max_transfers)
                goto out;
            if (hl && h->running >= hl)
                continue;
            uint64_t w = bucket_wait(&m->rate, now);
            if (w) {
                if (!wait || w < wait)
                    wait = w;
                goto out;
            }
            if ((w = bucket_wait(&h->rate, now))) {
                if (!wait || w < wait)
                    wait = w;
                continue;
            }
            bucket_take(&m->rate);
            bucket_take(&h->rate);
            struct hf_transfer *j = h->qhead;
            queue_del(m, j);
            j->state = JOB_RUNNING;
            h->running++;
            m->nrunning++;
            list_add(&m->running, j);
            started = 1;
            if (job_start(j)) /* ended at once: no memory */
                multi_hop_ended(j);
        }
    }
out:
    if (wait && !m->tm_sched)
        m->tm_sched = loop_timer(c->lp, (wait + 999999) / 1000000, on_sched, c);
}

/* A job ended: its callback, then room for others. */
static void job_finished(hf_client *c, struct hf_transfer *j)
{
    struct multi *m = c->m;
    if (j->state == JOB_RUNNING) {
        list_del(&m->running, j);
        j->host->running--;
        m->nrunning--;
    }
    j->state = JOB_FINISHED;
    m->pending--;
    if (j->done)
        j->done(j->arg, j, j->rs, j->err);
    else
        hf_response_free(j->rs);
    free(j);
}

/* The jobs whose hop ended: the next hop, or the end. */
static void reap(hf_client *c)
{
    struct multi *m = c->m;
    m->in_reap = 1;
    while (m->dhead) {
        struct hf_transfer *j = m->dhead;
        m->dhead = j->dnext;
        if (!m->dhead)
            m->dtail = NULL;
        j->in_done = 0;
        int ended = j->state == JOB_RUNNING ? job_next(j) : 1;
        if (ended) {
            job_finished(c, j);
            schedule(c);
        }
    }
    m->in_reap = 0;
}

/* One turn: wait up to timeout_ms for events, handle them, then reap.
 * -1 when the loop failed (every running job then fails). */
static int drive(hf_client *c, int timeout_ms)
{
    struct multi *m = c->m;
    if (m->dhead)
        timeout_ms = 0;
    m->in_drive = 1;
    int rc = loop_once(c->lp, timeout_ms);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof why, "the event loop failed: %s", strerror(errno));
        for (struct hf_transfer *j = m->running; j; j = j->next)
            job_cancel(j, HF_E_RECV, why);
    }
    reap(c);
    m->in_drive = 0;
    return rc < 0 ? -1 : 0;
}

/* ---- the API -------------------------------------------------------------- */

static void on_delay(loop *l, void *arg)
{
    (void)l;
    struct hf_transfer *j = arg;
    struct multi *m = j->c->m;
    j->tm_delay = 0;
    list_del(&m->delayed, j);
    queue_add(m, j);
    schedule(j->c);
}

/* A new job, queued (or delayed).  kick: arm the zero-delay timer that
 * starts queued jobs from the loop; hf_send starts its job itself. */
static hf_err submit(hf_client *c, hf_request *r, long delay_ms, int kick,
                     hf_done_fn *done, void *arg, hf_transfer **out)
{
    if (out)
        *out = NULL;
    if (!c || !r || delay_ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    struct multi *m = get_multi(c);
    struct hf_transfer *j = m ? calloc(1, sizeof *j) : NULL;
    if (!j)
        return HF_E_NOMEM;
    j->c = c;
    j->rq = r;
    j->done = done;
    j->arg = arg;
    if (!(j->host = host_of(m, r->url))) {
        free(j);
        return HF_E_NOMEM;
    }
    /* started from the loop (hf_client_run, _process, hf_send), never
     * from inside this call: a callback may submit.  The timer first: a
     * job queued with nothing to start it would wait for ever. */
    if (kick && !m->tm_sched && delay_ms == 0 &&
        !(m->tm_sched = loop_timer(c->lp, 0, on_sched, c))) {
        free(j);
        return HF_E_NOMEM;
    }
    if (delay_ms > 0) {
        j->state = JOB_DELAYED;
        if (!(j->tm_delay = loop_timer(c->lp, (uint64_t)delay_ms, on_delay, j))) {
            free(j);
            return HF_E_NOMEM;
        }
        list_add(&m->delayed, j);
    } else {
        queue_add(m, j);
    }
    m->pending++;
    if (out)
        *out = j;
    return HF_OK;
}

hf_err hf_submit_delayed(hf_client *c, hf_request *r, long delay_ms,
                         hf_done_fn *done, void *arg, hf_transfer **out)
{
    return submit(c, r, delay_ms, 1, done, arg, out);
}

hf_err hf_submit(hf_client *c, hf_request *r, hf_done_fn *done, void *arg,
                 hf_transfer **out)
{
    return hf_submit_delayed(c, r, 0, done, arg, out);
}

size_t hf_client_pending(const hf_client *c)
{
    return c && c->m ? c->m->pending : 0;
}

hf_err hf_client_run(hf_client *c, long timeout_ms)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    if (!c->m || !c->m->pending)
        return HF_OK;
    if (c->m->in_drive)
        return HF_E_BAD_FUNCTION_ARG; /* from a callback of this client */
    uint64_t end = timeout_ms >= 0 ? loop_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    while (c->m->pending) {
        int wait = -1;
        if (end) {
            uint64_t now = loop_now_ns();
            if (now >= end)
                return HF_E_TIMEOUT;
            wait = (int)((end - now + 999999) / 1000000);
        }
        if (drive(c, wait) < 0 && !c->m->pending)
            return HF_E_RECV;
    }
    return HF_OK;
}

int hf_client_fd(const hf_client *c)
{
    return c ? loop_fd(c->lp) : -1;
}

long hf_client_timeout_ms(const hf_client *c)
{
    if (!c)
        return -1;
    if (c->m && c->m->dhead)
        return 0;
    return loop_timeout_ms(c->lp);
}

hf_err hf_client_process(hf_client *c)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    if (!get_multi(c))
        return HF_E_NOMEM;
    if (c->m->in_drive)
        return HF_E_BAD_FUNCTION_ARG; /* from a callback of this client */
    return drive(c, 0) < 0 ? HF_E_RECV : HF_OK;
}

/* A job that never started ends with a response that says so. */
static hf_response *unstarted(const struct hf_transfer *j, hf_err e,
                              const char *why)
{
    hf_response *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    buf_init(&rs->body, (size_t)-1 / 2);
    rs->err = e;
    rs->conn_id = -1;
    rs->url = strdup(j->rq->url);
    size_t n = strlen(why) + strlen(j->rq->url) + 32;
    if ((rs->errmsg = malloc(n)))
        snprintf(rs->errmsg, n, "%s: %s", j->rq->url, why);
    return rs;
}

hf_err hf_transfer_cancel(hf_transfer *x)
{
    if (!x)
        return HF_E_BAD_FUNCTION_ARG;
    struct multi *m = x->c->m;
    if (x->cancelled || x->state == JOB_FINISHED)
        return HF_OK;
    x->cancelled = 1;
    if (x->state == JOB_QUEUED || x->state == JOB_DELAYED) {
        if (x->state == JOB_QUEUED)
            queue_del(m, x);
        else {
            loop_timer_cancel(x->c->lp, x->tm_delay);
            list_del(&m->delayed, x);
        }
        x->state = JOB_ENDED; /* callback not yet run */
        x->rs = unstarted(x, HF_E_ABORTED, "cancelled by the caller while queued");
        x->err = HF_E_ABORTED;
        multi_hop_ended(x);
        return HF_OK;
    }
    job_cancel(x, HF_E_ABORTED, "cancelled by the caller");
    return HF_OK;
}

hf_err hf_transfer_pause(hf_transfer *x)
{
    if (!x)
        return HF_E_BAD_FUNCTION_ARG;
    x->paused = 1;
    return HF_OK;
}

hf_err hf_transfer_resume(hf_transfer *x)
{
    if (!x)
        return HF_E_BAD_FUNCTION_ARG;
    if (!x->paused)
        return HF_OK;
    x->paused = 0;
    if (x->state == JOB_RUNNING)
        job_resume(x);
    return HF_OK;
}

hf_request *hf_transfer_request(const hf_transfer *x)
{
    return x ? x->rq : NULL;
}

static void pool_sizes(hf_client *c)
{
    struct multi *m = c->m;
    long per = host_limit(m);
    if (!per)
        per = m->max_transfers;
    c->pool_per_host = per > POOL_MAX_PER_HOST ? (int)(per < 100000 ? per : 100000)
                                               : POOL_MAX_PER_HOST;
    long all = m->max_transfers > c->pool_per_host ? m->max_transfers : c->pool_per_host;
    c->pool_max = all > POOL_MAX_IDLE ? (int)(all < 100000 ? all : 100000) : POOL_MAX_IDLE;
}

hf_err hf_client_set_limits(hf_client *c, long max_transfers, long max_per_host,
                            long max_conns_per_host)
{
    if (!c || max_transfers < 0 || max_per_host < 0 || max_conns_per_host < 0)
        return HF_E_BAD_FUNCTION_ARG;
    struct multi *m = get_multi(c);
    if (!m)
        return HF_E_NOMEM;
    m->max_transfers = max_transfers;
    m->max_per_host = max_per_host;
    m->max_conns_per_host = max_conns_per_host;
    pool_sizes(c);
    return HF_OK;
}

hf_err hf_client_set_rate(hf_client *c, double per_second, long burst)
{
    if (!c || !(per_second >= 0) || burst < 0)
        return HF_E_BAD_FUNCTION_ARG;
    struct multi *m = get_multi(c);
    if (!m)
        return HF_E_NOMEM;
    bucket_set(&m->rate, per_second, burst);
    return HF_OK;
}

hf_err hf_client_set_host_rate(hf_client *c, double per_second, long burst)
{
    if (!c || !(per_second >= 0) || burst < 0)
        return HF_E_BAD_FUNCTION_ARG;
    struct multi *m = get_multi(c);
    if (!m)
        return HF_E_NOMEM;
    m->host_rate = per_second;
    m->host_burst = burst;
    for (int b = 0; b < HOST_BUCKETS; b++)
        for (host_ent *h = m->buckets[b]; h; h = h->hnext)
            bucket_set(&h->rate, per_second, burst);
    return HF_OK;
}

/* ---- hf_send: one job, driven to its end ----------------------------------- */

typedef struct sync_wait {
    int finished;
    hf_response *rs;
    hf_err err;
} sync_wait;

static void sync_done(void *arg, hf_transfer *x, hf_response *rs, hf_err err)
{
    (void)x;
    sync_wait *w = arg;
    w->finished = 1;
    w->rs = rs;
    w->err = err;
}

hf_err hf_send(hf_client *c, hf_request *rq, hf_response **out)
{
    if (!out)
        return HF_E_BAD_FUNCTION_ARG;
    *out = NULL;
    if (!c || !rq)
        return HF_E_BAD_FUNCTION_ARG;
    if (c->m && c->m->in_drive)
        return HF_E_BAD_FUNCTION_ARG; /* from a callback of this client */
    sync_wait w = {0};
    hf_transfer *x;
    /* (no zero-delay timer: the job is started right here) */
    hf_err e = submit(c, rq, 0, 0, sync_done, &w, &x);
    if (e)
        return e;
    x->sync = 1;
    /* not inside a callback (checked above): start it now, not a loop turn
     * later (an idle connection whose server closes connections is
     * checked before reuse: see pool_take); callbacks it reaches (events,
     * -v lines) count as inside the client */
    c->m->in_drive = 1;
    schedule(c);
    c->m->in_drive = 0;
    while (!w.finished)
        drive(c, -1);
    *out = w.rs;
    return w.rs ? w.rs->err : w.err ? w.err : HF_E_NOMEM;
}

/* ---- the end -------------------------------------------------------------- */

void multi_free(hf_client *c)
{
    struct multi *m = c->m;
    if (!m)
        return;
    /* every job still there ends now, without its callback: first the
     * cancelled queued ones waiting for theirs, then the running ones
     * (whose ending puts them on that list again: it is dropped) */
    for (struct hf_transfer *j = m->dhead, *n; j; j = n) {
        n = j->dnext;
        if (j->state == JOB_ENDED) {
            hf_response_free(j->rs);
            free(j);
        }
    }
    m->dhead = m->dtail = NULL;
    while (m->running) {
        struct hf_transfer *j = m->running;
        list_del(&m->running, j);
        j->in_done = 1; /* its ending must not put it on the list again */
        job_free_state(j);
        hf_response_free(j->rs);
        free(j);
    }
    m->dhead = m->dtail = NULL;
    while (m->delayed) {
        struct hf_transfer *j = m->delayed;
        list_del(&m->delayed, j);
        free(j);
    }
    for (int b = 0; b < HOST_BUCKETS; b++) {
        host_ent *h = m->buckets[b];
        while (h) {
            host_ent *n = h->hnext;
            while (h->qhead) {
                struct hf_transfer *j = h->qhead;
                h->qhead = j->next;
                free(j);
            }
            free(h->key);
            free(h);
            h = n;
        }
    }
    free(m);
    c->m = NULL;
    loop_set_post(c->lp, NULL, NULL);
}
