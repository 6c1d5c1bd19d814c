/* parallel.c -- curl's -Z (see parallel.h): many transfers at once on one
 * client through hf_submit, their output kept apart, a progress line on a
 * terminal and a summary at the end.
 *
 * Jobs are set up lazily (cli/job.c, as the serial run does), a window of
 * them at a time: twice --parallel-max, so the library's queue always has
 * the next transfer ready; under --per-host-max PER_HOST_AHEAD more (the
 * library lets a transfer to another host pass one waiting for its host,
 * which it can only do when that transfer is queued; a list of a million
 * URLs must not all be set up at once, though).  Everything runs from the
 * done callbacks, which hf_client_run calls. */
#include "parallel.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "record.h"
#include "views.h"

enum { P_RUN = 0, P_DONE };

/* Jobs set up ahead under --per-host-max (about 20 MiB of them). */
#define PER_HOST_AHEAD 8192

typedef struct pctx pctx;

/* A job of the run, from its setup to its finish. */
typedef struct pjob {
    job j;
    pctx *px;
    size_t gi, idx;       /* its group and URL */
    int state;            /* P_RUN (an attempt is submitted), P_DONE */
    int to_stdout;        /* its body goes to standard output */
    int queued;           /* waits in the stdout queue */
    int dead;             /* torn down already (could not start); only
                           * the queue still holds it */
    struct pjob *qnext;
    hf_response *resp;    /* P_DONE: the last attempt's */
    int code;             /* P_DONE: its exit code */
    sbuf emsg;            /* its error message (-w %{errormsg}) */
    hold held;            /* what it wrote for stdout while not its turn */
} pjob;

struct pctx {
    hf_client *client;
    run **groups;
    size_t ngroups;
    const par_opts *o;
    size_t gi, idx;       /* the next URL to set up */
    size_t window;        /* jobs alive at most */
    size_t alive;         /* jobs set up and not finished */
    int stop;             /* a setup error: no more jobs */
    size_t total, done, failed;
    int64_t bytes;        /* body bytes delivered (all attempts) */
    int64_t t0;           /* the run began (CLOCK_MONOTONIC ns) */
    size_t *fail_idx;     /* per group: the last failing URL so far */
    int *fail_code;       /* ... and its code (0: none) */
    /* standard output: one job writes there at a time */
    pjob *owner;
    pjob *qhead, *qtail;  /* jobs waiting for their turn, in order */
    /* the progress line */
    int64_t next_draw;
    int shown, lastlen;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the progress line and the summary --------------------------------- */

static void fmt_bytes(char *buf, size_t n, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f B", v);
    else
        snprintf(buf, n, "%.1f %s", v, unit[u]);
}

/* Erases the progress line (before a message, or at the end). */
static void meter_clear(pctx *px)
{
    if (!px->shown)
        return;
    fprintf(stderr, "\r%*s\r", px->lastlen, "");
    fflush(stderr);
    px->shown = 0;
}

/* One line: done/total, failed, in flight, bytes, rate, time -- redrawn
 * in place at most five times a second, after the first second. */
static void meter_draw(pctx *px, int64_t now)
{
    if (!px->o->meter || now < px->next_draw)
        return;
    double secs = (double)(now - px->t0) / 1e9;
    if (secs < 1.0 && !px->shown) {
        px->next_draw = px->t0 + 1000000000;
        return;
    }
    px->next_draw = now + 200000000;
    char b[32], r[32], line[160];
    fmt_bytes(b, sizeof b, (double)px->bytes);
    fmt_bytes(r, sizeof r, secs > 0 ? (double)px->bytes / secs : 0.0);
    long s = (long)secs;
    int len = snprintf(line, sizeof line,
                       "%zu/%zu done, %zu failed, %zu pending  %s  %s/s  "
                       "%ld:%02ld", px->done, px->total, px->failed,
                       hf_client_pending(px->client), b, r, s / 60, s % 60);
    if (len < 0)
        return;
    if (len > (int)sizeof line - 1)
        len = (int)sizeof line - 1;
    int pad = px->shown && px->lastlen > len ? px->lastlen - len : 0;
    fprintf(stderr, "\r%s%*s", line, pad, "");
    fflush(stderr);
    px->shown = 1;
    px->lastlen = len;
}

static void summary(pctx *px)
{
    double secs = (double)(now_ns() - px->t0) / 1e9;
    char b[32];
    fmt_bytes(b, sizeof b, (double)px->bytes);
    fprintf(stderr, HFLOW_NAME ": %zu transfers, %zu failed, %s in %.2f s "
            "(%.1f transfers/s)\n", px->done, px->failed, b, secs,
            secs > 0 ? (double)px->done / secs : 0.0);
}

/* ---- standard output, one job at a time -------------------------------- */

static void enqueue(pctx *px, pjob *p)
{
    if (p->queued)
        return;
    p->queued = 1;
    p->qnext = NULL;
    if (px->qtail)
        px->qtail->qnext = p;
    else
        px->qhead = p;
    px->qtail = p;
}

static pjob *dequeue(pctx *px)
{
    pjob *p = px->qhead;
    if (!p)
        return NULL;
    px->qhead = p->qnext;
    if (!px->qhead)
        px->qtail = NULL;
    p->queued = 0;
    p->qnext = NULL;
    return p;
}

/* Writes what p kept for standard output now that it is its turn.  A
 * failure makes the transfer a write failure (23). */
static void flush_held(pjob *p)
{
    if (!p->held.mem.len && !p->held.spill)
        return;
    if (hold_flush(&p->held, &p->j.out) && !p->j.x.failed) {
        p->j.x.failed = &p->j.out;
        if (p->state == P_DONE) {
            job_report_write_failure(&p->j.out, p->j.url);
            p->code = HF_E_WRITE;
            sb_free(&p->emsg);
            sb_adds(&p->emsg, "Failure writing output to destination");
        }
    }
}

/* ---- jobs ---------------------------------------------------------------- */

/* The job's result counts for its group's exit code and the summary. */
static void record_result(pctx *px, size_t gi, size_t idx, int code)
{
    px->done++;
    if (!code)
        return;
    px->failed++;
    if (!px->fail_code[gi] || idx >= px->fail_idx[gi]) {
        px->fail_idx[gi] = idx;
        px->fail_code[gi] = code;
    }
}

/* The end of a job: its held output, job_finish (file, -D, -w), --stat,
 * --har; then it is freed. */
static void finish(pjob *p)
{
    pctx *px = p->px;
    const cfg *c = p->j.st->c;
    cli_quiet = c->silent && !c->show_error;
    flush_held(p);
    int code = job_finish(&p->j, p->resp, p->code, &p->emsg);
    if (c->stat)
        cli_stat_print(p->resp);
    record_result(px, p->gi, p->idx, code);
    if (!record_keep(p->resp, p->j.started))
        hf_response_free(p->resp);
    job_free(&p->j);
    sb_free(&p->emsg);
    hold_free(&p->held);
    px->alive--;
    free(p);
}

/* Standard output is free: the jobs waiting for it go in order -- those
 * that are done are finished, the first still running takes it over. */
static void promote(pctx *px)
{
    while (!px->owner && px->qhead) {
        pjob *p = dequeue(px);
        if (p->dead) {
            px->alive--;
            free(p);
            continue;
        }
        if (p->state == P_DONE) {
            finish(p);
            continue;
        }
        px->owner = p;
        flush_held(p);
        p->j.x.hold = NULL;
    }
}

static void feed(pctx *px);
static void on_done(void *arg, hf_transfer *x, hf_response *resp, hf_err err);

/* A job that cannot go on (its request could not be made or submitted):
 * counted with its code, torn down, freed once no queue holds it. */
static void drop(pjob *p, int code)
{
    pctx *px = p->px;
    record_result(px, p->gi, p->idx, code);
    output_finish(&p->j.out, 0);
    job_free(&p->j);
    sb_free(&p->emsg);
    hold_free(&p->held);
    p->dead = 1;
    p->state = P_DONE;
    if (px->owner == p)
        px->owner = NULL;
    if (!p->queued) {
        px->alive--;
        free(p);
    }
    promote(px);
}

/* Starts an attempt of p (after delay_ms for a retry).  Returns 0, or -1
 * when it could not start: p is then dropped (and must not be touched). */
static int start_attempt(pjob *p, long delay_ms)
{
    pctx *px = p->px;
    run *st = p->j.st;
    if (job_attempt_begin(&p->j) < 0) {
        px->stop = 1; /* the request cannot be made: st->fatal is set */
        drop(p, st->exitcode ? st->exitcode : HF_E_BAD_ARG);
        return -1;
    }
    p->j.x.tally = &px->bytes;
    hold_reset(&p->held); /* a retry: the failed attempt's output never shows */
    if (p->to_stdout) {
        if (!px->owner && !px->qhead)
            px->owner = p;
        if (px->owner != p) {
            p->j.x.hold = &p->held;
            enqueue(px, p);
        }
    }
    p->state = P_RUN;
    hf_err e = delay_ms > 0
                   ? hf_submit_delayed(px->client, p->j.r, delay_ms, on_done,
                                       p, NULL)
                   : hf_submit(px->client, p->j.r, on_done, p, NULL);
    if (e == HF_E_NOMEM)
        die_nomem();
    if (e) {
        /* the library refused the request itself: a failed transfer */
        cli_error(e, "%s: %s", p->j.url, hf_strerror(e));
        cli_body_reader_done(&p->j.rd);
        drop(p, e);
        return -1;
    }
    return 0;
}

/* Whether finishing this attempt may print on stderr (then the progress
 * line is erased first; otherwise it stays until the next redraw). */
static int may_print(const pjob *p, hf_err err)
{
    const cfg *c = p->j.st->c;
    const xfer *x = &p->j.x;
    return err || x->failed || x->http_error || x->range_error ||
           x->name_error || x->retry_ms >= 0 || c->verbose || c->flow ||
           c->stat || ((c->writeout || p->to_stdout) && isatty(1));
}

static void on_done(void *arg, hf_transfer *x, hf_response *resp, hf_err err)
{
    (void)x;
    pjob *p = arg;
    pctx *px = p->px;
    run *st = p->j.st;
    const cfg *c = st->c;
    if (!resp)
        die_nomem();
    cli_quiet = c->silent && !c->show_error;
    if (may_print(p, err))
        meter_clear(px);
    int code = job_attempt_end(&p->j, err, resp, &p->emsg);
    long delay = job_retry(&p->j, code, resp);
    if (delay >= 0) {
        if (c->stat)
            cli_stat_print(resp);
        if (!record_keep(resp, p->j.started)) /* --har keeps every attempt */
            hf_response_free(resp);
        start_attempt(p, delay); /* on failure p is dropped */
        feed(px);
        return;
    }
    p->state = P_DONE;
    p->resp = resp;
    p->code = code;
    if (px->owner == p) {
        px->owner = NULL;
        finish(p);
        promote(px);
    } else if (p->queued) {
        /* its output waits for its turn */
    } else if (c->writeout && px->owner) {
        enqueue(px, p); /* its -w line must not land inside a body */
    } else {
        finish(p);
    }
    feed(px);
}

/* Sets up the next URL's job and starts it. */
static void start_next(pctx *px)
{
    run *st = px->groups[px->gi];
    size_t idx = px->idx++;
    pjob *p = xcalloc(1, sizeof *p);
    hold_init(&p->held);
    p->px = px;
    p->gi = px->gi;
    p->idx = idx;
    cli_quiet = st->c->silent && !st->c->show_error;
    int code = job_setup(&p->j, st, idx);
    if (code) {
        record_result(px, p->gi, idx, code);
        output_finish(&p->j.out, 0);
        job_free(&p->j);
        free(p);
        if (st->fatal)
            px->stop = 1;
        return;
    }
    retry_start(&p->j.rs, st->c);
    p->to_stdout = output_is_stdout(&p->j.out);
    px->alive++;
    start_attempt(p, 0); /* on failure p is dropped */
}

/* Sets up jobs while the window has room. */
static void feed(pctx *px)
{
    while (!px->stop && px->alive < px->window && px->gi < px->ngroups) {
        run *st = px->groups[px->gi];
        if (st->fatal || px->idx >= st->c->urls.n) {
            px->gi++;
            px->idx = 0;
            continue;
        }
        start_next(px);
    }
}

/* Many transfers want many descriptors: a socket each, and a file each
 * while its body is written.  The soft limit is raised to the hard one
 * when it is lower than that (the man page says so). */
static void raise_nofile(long max)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max * 2 + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

void parallel_run(hf_client *client, run **groups, size_t n,
                  const par_opts *o)
{
    pctx px;
    memset(&px, 0, sizeof px);
    px.client = client;
    px.groups = groups;
    px.ngroups = n;
    px.o = o;
    px.fail_idx = xcalloc(n ? n : 1, sizeof *px.fail_idx);
    px.fail_code = xcalloc(n ? n : 1, sizeof *px.fail_code);
    for (size_t i = 0; i < n; i++) {
        px.total += groups[i]->c->urls.n;
        groups[i]->parallel = 1;
    }
    long max = o->max > 0 ? o->max : ARGS_PARALLEL_DEFAULT;
    px.window = (size_t)max * 2 + (o->per_host > 0 ? PER_HOST_AHEAD : 0);
    raise_nofile(max);

    hf_err e = hf_client_set_limits(client, max, o->per_host, 0);
    if (!e && o->rate > 0)
        e = hf_client_set_rate(client, o->rate, 1);
    if (e) {
        cli_error(e, "cannot set the client's limits: %s", hf_strerror(e));
        for (size_t i = 0; i < n; i++) {
            groups[i]->exitcode = e;
            groups[i]->fatal = 1;
        }
        free(px.fail_idx);
        free(px.fail_code);
        return;
    }

    px.t0 = now_ns();
    px.next_draw = px.t0;
    feed(&px);
    while (hf_client_pending(client) > 0) {
        e = hf_client_run(client, o->meter ? 200 : -1);
        if (e && e != HF_E_TIMEOUT) {
            meter_clear(&px);
            cli_error(e, "the event loop failed: %s", hf_strerror(e));
            break;
        }
        meter_draw(&px, now_ns());
        if (!hf_client_pending(client))
            feed(&px); /* nothing runs: a window freed by setup errors */
    }
    /* what still waits for standard output (nothing, unless the loop
     * failed) is written out now */
    px.owner = NULL;
    promote(&px);
    if (px.shown) {
        px.next_draw = 0;
        meter_draw(&px, now_ns());
        fputc('\n', stderr);
        px.shown = 0;
    }
    if (!o->quiet)
        summary(&px);

    for (size_t i = 0; i < n; i++) {
        if (px.fail_code[i])
            groups[i]->exitcode = px.fail_code[i];
        if (px.stop && groups[i]->exitcode)
            groups[i]->fatal = 1;
    }
    free(px.fail_idx);
    free(px.fail_code);
}
