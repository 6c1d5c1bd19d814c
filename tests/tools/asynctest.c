/* asynctest -- drives libhflow's asynchronous API for
 * tests/integration/test_async.py: hf_submit / hf_submit_delayed /
 * hf_client_run, the caller's own loop (hf_client_fd, hf_client_timeout_ms,
 * hf_client_process), cancel, pause / resume, limits and rates, request
 * bodies from files and responses to files, and the error paths.
 *
 *   asynctest batch urls=FILE [interleave=1] [limits=T,H,C] [rate=R,B]
 *             [host_rate=R,B] [slice=MS] [loop=own] [sample_port=P]
 *   asynctest cancel MODE[,MODE...] good=URL slow=URL [blocker=URL] [big=URL]
 *             [blackhole=PORT] [sinkport=PORT] [dns=ADDR:PORT]
 *             [resolv=FILE] [hosts=FILE]
 *   asynctest pause MODE url=URL sha=HEX len=N [tick=URL] [timeout=MS]
 *   asynctest files url=URL [method=M] [body_file=PATH] [output=PATH]
 *             [follow=N] [n=N] [save=PREFIX]
 *   asynctest errors good=URL slow=URL [refused=URL]
 *
 * cancel MODEs (each on a fresh client, with four other transfers that
 * must complete): queued, queued_twice, delayed, resolving (a DNS server
 * that never answers), connecting (a full accept queue), sending (a
 * listener that never reads), receiving (a slow body), paused_unread
 * (paused with bytes unread: RST), after_done (from its own done
 * callback: no effect), from_done (from another's done callback),
 * free_pending (hf_client_free with transfers running).
 * pause MODEs: sink_timer (HF_WRITE_PAUSE, resumed from the done callback
 * of a transfer delayed 600 ms), outside, repeat (every MiB), from_done,
 * timeout (paused for good: the request's timeout ends it), queued.
 *
 * A batch file has one group of transfers a line:
 *   COUNT DELAY_MS URL [SHA256 [LEN]]
 * Each case prints what it measured as one JSON object a line on stdout
 * (times in ms since the case began); the test asserts on it.  Exit
 * status 0 unless the driver itself could not run (2: usage, 3: the
 * deadline -- deadline=S, default 25 -- passed).
 *
 * What is counted where:
 * - open connections from the client's event stream (HF_EV_TCP_ESTABLISHED
 *   minus HF_EV_CLOSED, per connection number) and, independently, this
 *   process's own TCP sockets in /proc/net/tcp{,6} (matched by inode with
 *   /proc/self/fd) between hf_client_run slices;
 * - a transfer is running from its first step (pool, DNS, connect, request)
 *   to HF_EV_DONE; its port is the one of the URL in HF_EV_QUEUED;
 * - a transfer's start time is the first event after HF_EV_QUEUED in its
 *   trace (QUEUED's own time is reported too). */
#include "hflow.h"

#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ utilities */

static int g_argc;
static char **g_argv;
static uint64_t g_t0;

static const char *arg(const char *key, const char *def)
{
    size_t n = strlen(key);
    for (int i = 2; i < g_argc; i++)
        if (strncmp(g_argv[i], key, n) == 0 && g_argv[i][n] == '=')
            return g_argv[i] + n + 1;
    return def;
}

static long arg_long(const char *key, long def)
{
    const char *v = arg(key, NULL);
    return v ? strtol(v, NULL, 10) : def;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ms since the case began; -1 for "never" */
static double rel_ms(uint64_t t)
{
    return t ? ((double)t - (double)g_t0) / 1e6 : -1.0;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "asynctest: out of memory\n");
        exit(2);
    }
    return p;
}

static void on_alarm(int sig)
{
    static const char msg[] = "asynctest: deadline passed\n";
    (void)sig;
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

static void sha_hex(const unsigned char *md, unsigned n, char out[65])
{
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = 0;
}

static void sha_of(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    sha_hex(md, mdlen, out);
}

/* Port of "http://host:port/..." (in a QUEUED detail "GET URL"), 80 when
 * none is written. */
static int url_port(const char *s)
{
    const char *p = s ? strstr(s, "://") : NULL;
    if (!p)
        return 0;
    p += 3;
    if (*p == '[') {
        p = strchr(p, ']');
        if (!p)
            return 0;
        p++;
    } else {
        while (*p && *p != ':' && *p != '/' && *p != '?')
            p++;
    }
    return *p == ':' ? atoi(p + 1) : 80;
}

/* Port of "ADDR:PORT" / "[v6]:PORT". */
static int peer_port(const char *s)
{
    const char *c = s ? strrchr(s, ':') : NULL;
    return c ? atoi(c + 1) : 0;
}

/* ------------------------------------------------ this process's sockets */

typedef struct sockstat {
    int any;           /* sockets of ours whose remote port is the port */
    int established;   /* ... in ESTABLISHED */
    int syn_sent;      /* ... in SYN_SENT */
    long rx_queue;     /* bytes received and not read, summed */
} sockstat;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static size_t own_inodes(unsigned long *ino, size_t cap)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) && n < cap;) {
        char path[300], link[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k <= 0)
            continue;
        link[k] = 0;
        unsigned long v;
        if (sscanf(link, "socket:[%lu]", &v) == 1)
            ino[n++] = v;
    }
    closedir(d);
    return n;
}

/* Our TCP sockets (remote port == port) from /proc/net/tcp and tcp6. */
static void own_sockets(int port, sockstat *st)
{
    static unsigned long ino[8192];
    size_t nino = own_inodes(ino, 8192);
    memset(st, 0, sizeof *st);
    const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp)
            continue;
        char line[512];
        if (!fgets(line, sizeof line, fp)) { /* the column titles */
            fclose(fp);
            continue;
        }
        while (fgets(line, sizeof line, fp)) {
            unsigned lport, rport, state;
            unsigned long txq, rxq, inode;
            char la[64], ra[64];
            if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x "
                             "%lx:%lx %*x:%*x %*x %*u %*d %lu",
                       la, &lport, ra, &rport, &state, &txq, &rxq,
                       &inode) != 8)
                continue;
            if ((int)rport != port || inode == 0)
                continue;
            int mine = 0;
            for (size_t i = 0; i < nino && !mine; i++)
                mine = ino[i] == inode;
            if (!mine)
                continue;
            st->any++;
            if (state == 0x01)
                st->established++;
            if (state == 0x02)
                st->syn_sent++;
            st->rx_queue += (long)rxq;
        }
        fclose(fp);
    }
}

/* ------------------------------------------------------ the event stream */

#define MAXPORTS 8
/* Steps that mean a transfer has left the queue. */
static int is_start_event(int type)
{
    switch (type) {
    case HF_EV_REUSED: case HF_EV_POOL_MISS: case HF_EV_DNS_START:
    case HF_EV_DNS_ANSWER: case HF_EV_DNS_END: case HF_EV_CONNECT_START:
    case HF_EV_TCP_ESTABLISHED: case HF_EV_TLS_START:
    case HF_EV_REQUEST_HEAD:
        return 1;
    default:
        return 0;
    }
}

typedef struct xstate {
    int port, started, ended;
} xstate;

typedef struct evstate {
    xstate *x;            /* by transfer number */
    long nx;
    int *conn_port;       /* by connection number */
    unsigned char *conn_open;
    long nconn;
    int ports[MAXPORTS], nports;
    int open, max_open, open_p[MAXPORTS], max_open_p[MAXPORTS];
    int running, max_running, run_p[MAXPORTS], max_run_p[MAXPORTS];
    long events, established, closed, done_events, queued_events;
    long closed_unopened;  /* CLOSED for a connection never established */
    /* the transfer a cancel case aims at: its URL holds the token */
    const char *token;
    long target, target_conn;
    long seen[HF_EV__COUNT];
    int target_closed, target_rst, target_fin;
    int target_closed_by;
    long in_api_events;   /* (not an error: events may come from calls) */
} evstate;

static evstate E;
static int g_in_api;           /* > 0 inside a call made from outside */
static long g_done_in_api;     /* done callbacks run inside such a call */
static long g_done_total;

static void ev_reset(void)
{
    free(E.x);
    free(E.conn_port);
    free(E.conn_open);
    memset(&E, 0, sizeof E);
    E.target = -1;
    E.target_conn = -1;
}

static int port_idx(int port)
{
    for (int i = 0; i < E.nports; i++)
        if (E.ports[i] == port)
            return i;
    if (E.nports == MAXPORTS)
        return MAXPORTS - 1;
    E.ports[E.nports] = port;
    return E.nports++;
}

static void grow_x(long i)
{
    if (i < E.nx)
        return;
    long n = E.nx ? E.nx : 64;
    while (n <= i)
        n *= 2;
    E.x = realloc(E.x, (size_t)n * sizeof *E.x);
    if (!E.x)
        exit(2);
    memset(E.x + E.nx, 0, (size_t)(n - E.nx) * sizeof *E.x);
    E.nx = n;
}

static void grow_conn(long i)
{
    if (i < E.nconn)
        return;
    long n = E.nconn ? E.nconn : 64;
    while (n <= i)
        n *= 2;
    E.conn_port = realloc(E.conn_port, (size_t)n * sizeof *E.conn_port);
    E.conn_open = realloc(E.conn_open, (size_t)n);
    if (!E.conn_port || !E.conn_open)
        exit(2);
    memset(E.conn_port + E.nconn, 0, (size_t)(n - E.nconn) * sizeof(int));
    memset(E.conn_open + E.nconn, 0, (size_t)(n - E.nconn));
    E.nconn = n;
}

static void on_event(void *arg, const hf_event *ev)
{
    (void)arg;
    E.events++;
    long t = ev->transfer;
    if (t >= 0) {
        grow_x(t);
        xstate *xs = &E.x[t];
        if (ev->type == HF_EV_QUEUED) {
            E.queued_events++;
            xs->port = url_port(ev->detail);
            if (E.token && ev->detail && strstr(ev->detail, E.token))
                E.target = t;
        } else if (is_start_event(ev->type) && !xs->started && !xs->ended) {
            xs->started = 1;
            int p = port_idx(xs->port);
            if (++E.running > E.max_running)
                E.max_running = E.running;
            if (++E.run_p[p] > E.max_run_p[p])
                E.max_run_p[p] = E.run_p[p];
        } else if (ev->type == HF_EV_DONE && !xs->ended) {
            E.done_events++;
            xs->ended = 1;
            if (xs->started) {
                E.running--;
                E.run_p[port_idx(xs->port)]--;
            }
        }
        if (t == E.target && ev->type < HF_EV__COUNT)
            E.seen[ev->type]++;
    }
    long cn = ev->conn;
    if (cn >= 0)
        grow_conn(cn);
    if (ev->type == HF_EV_TCP_ESTABLISHED && cn >= 0) {
        E.established++;
        if (!E.conn_open[cn]) {
            E.conn_open[cn] = 1;
            E.conn_port[cn] = peer_port(ev->peer);
            int p = port_idx(E.conn_port[cn]);
            if (++E.open > E.max_open)
                E.max_open = E.open;
            if (++E.open_p[p] > E.max_open_p[p])
                E.max_open_p[p] = E.open_p[p];
        }
        if (t >= 0 && t == E.target)
            E.target_conn = cn;
    } else if (ev->type == HF_EV_CLOSED && cn >= 0) {
        E.closed++;
        if (E.conn_open[cn]) {
            E.conn_open[cn] = 0;
            E.open--;
            E.open_p[port_idx(E.conn_port[cn])]--;
        } else {
            E.closed_unopened++;
        }
        if (cn == E.target_conn) {
            E.target_closed++;
            E.target_closed_by = ev->closed_by;
        }
    } else if (ev->type == HF_EV_RST_SENT && cn >= 0 && cn == E.target_conn) {
        E.target_rst++;
    } else if (ev->type == HF_EV_FIN_SENT && cn >= 0 && cn == E.target_conn) {
        E.target_fin++;
    }
}

/* ------------------------------------------------------------ transfers */

typedef struct tx tx;
typedef void tx_hook(tx *t, hf_transfer *x);

struct tx {
    int i, group;
    hf_request *req;
    int own_req;          /* the done callback frees the request */
    hf_transfer *x;       /* from hf_submit's out */
    const char *want_sha;
    long want_len;
    int done_calls, bad_x, bad_req, null_resp;
    int err, status, sha_ok, nredirs;
    long len, xfer;
    int64_t size_upload;
    char sha[65];
    uint64_t t_submit, t_queued, t_start, t_done;
    int port;
    const char *save;     /* write the body here */
    /* a sink */
    int use_sink;
    EVP_MD_CTX *md;
    long sink_bytes, sink_calls;
    int pause_mode;       /* 1: after the first piece, 2: every pause_every */
    long pause_every, next_pause_at;
    int paused, npauses;
    uint64_t t_pause, t_resume, t_last_sink;
    double max_gap_ms;
    long calls_while_paused;
    /* extra action at the end of the done callback */
    tx_hook *hook;
    void *hook_arg;
    long hook_val;
};

static int on_sink(void *arg, const void *data, size_t len)
{
    tx *t = arg;
    uint64_t now = now_ns();
    t->sink_calls++;
    if (t->paused)
        t->calls_while_paused++;
    if (t->t_last_sink) {
        double gap = ((double)now - (double)t->t_last_sink) / 1e6;
        if (gap > t->max_gap_ms)
            t->max_gap_ms = gap;
    }
    t->t_last_sink = now;
    EVP_DigestUpdate(t->md, data, len);
    t->sink_bytes += (long)len;
    if ((t->pause_mode == 1 && t->sink_calls == 1) ||
        (t->pause_mode == 2 && t->sink_bytes >= t->next_pause_at)) {
        t->next_pause_at += t->pause_every;
        t->paused = 1;
        t->npauses++;
        t->t_pause = now;
        return HF_WRITE_PAUSE;
    }
    return 0;
}

static void tx_use_sink(tx *t)
{
    t->use_sink = 1;
    t->md = EVP_MD_CTX_new();
    if (!t->md)
        exit(2);
    EVP_DigestInit_ex(t->md, EVP_sha256(), NULL);
    hf_request_set_sink(t->req, on_sink, t);
}

static void on_done(void *arg, hf_transfer *x, hf_response *resp, hf_err err)
{
    tx *t = arg;
    if (g_in_api)
        g_done_in_api++;
    g_done_total++;
    t->done_calls++;
    if (t->x && x != t->x)
        t->bad_x++;
    if (hf_transfer_request(x) != t->req)
        t->bad_req++;
    t->err = err;
    t->t_done = now_ns();
    if (resp) {
        t->status = hf_response_status(resp);
        t->size_upload = hf_response_size_upload(resp);
        t->nredirs = hf_response_num_redirects(resp);
        if (t->use_sink) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned n = 0;
            EVP_DigestFinal_ex(t->md, md, &n);
            sha_hex(md, n, t->sha);
            t->len = t->sink_bytes;
        } else {
            size_t n = 0;
            const void *b = hf_response_body(resp, &n);
            sha_of(b ? b : "", b ? n : 0, t->sha);
            t->len = (long)n;
            if (t->save) {
                FILE *f = fopen(t->save, "wb");
                if (f) {
                    if (n)
                        fwrite(b, 1, n, f);
                    fclose(f);
                }
            }
        }
        const hf_trace *tr = hf_response_trace(resp);
        size_t ne = hf_trace_count(tr);
        hf_event ev;
        for (size_t k = 0; k < ne; k++) {
            if (hf_trace_event(tr, k, &ev) != 0)
                break;
            if (k == 0) {
                t->xfer = ev.transfer;
                t->t_queued = ev.mono_ns;
            } else if (!t->t_start && ev.type != HF_EV_QUEUED) {
                t->t_start = ev.mono_ns;
            }
        }
        hf_response_free(resp);
    } else {
        t->null_resp++;
    }
    t->sha_ok = (!t->want_sha || strcmp(t->sha, t->want_sha) == 0) &&
                (t->want_len < 0 || t->len == t->want_len);
    if (t->hook)
        t->hook(t, x);
    if (t->own_req) {
        hf_request_free(t->req);
        t->req = NULL;
    }
}

static hf_err submit(hf_client *c, tx *t, long delay_ms)
{
    t->t_submit = now_ns();
    g_in_api++;
    hf_err e = delay_ms > 0
                   ? hf_submit_delayed(c, t->req, delay_ms, on_done, t, &t->x)
                   : hf_submit(c, t->req, on_done, t, &t->x);
    g_in_api--;
    return e;
}

static hf_err cancel(hf_transfer *x)
{
    g_in_api++;
    hf_err e = hf_transfer_cancel(x);
    g_in_api--;
    return e;
}

static void tx_init(tx *t, int i)
{
    memset(t, 0, sizeof *t);
    t->i = i;
    t->want_len = -1;
    t->xfer = -1;
    t->err = -1;
}

static void tx_json(const tx *t)
{
    printf("{\"i\":%d,\"g\":%d,\"port\":%d,\"err\":%d,\"st\":%d,\"len\":%ld,"
           "\"ok\":%d,\"dc\":%d,\"x\":%ld,\"sub\":%.3f,\"q\":%.3f,\"s\":%.3f,"
           "\"d\":%.3f,\"bad_x\":%d,\"bad_req\":%d,\"nullresp\":%d,"
           "\"up\":%lld,\"redirs\":%d}",
           t->i, t->group, t->port, t->err, t->status, t->len, t->sha_ok,
           t->done_calls, t->xfer, rel_ms(t->t_submit), rel_ms(t->t_queued),
           rel_ms(t->t_start), rel_ms(t->t_done), t->bad_x, t->bad_req,
           t->null_resp, (long long)t->size_upload, t->nredirs);
}

static void tx_free(tx *t)
{
    if (t->md)
        EVP_MD_CTX_free(t->md);
    t->md = NULL;
}

/* A client with the event stream and the settings given as arguments. */
static hf_client *new_client(void)
{
    hf_client *c = hf_client_new();
    if (!c) {
        fprintf(stderr, "asynctest: hf_client_new failed\n");
        exit(2);
    }
    hf_client_set_event_fn(c, on_event, NULL);
    long a, b, d;
    double r;
    const char *v;
    if ((v = arg("limits", NULL)) && sscanf(v, "%ld,%ld,%ld", &a, &b, &d) == 3)
        hf_client_set_limits(c, a, b, d);
    if ((v = arg("rate", NULL)) && sscanf(v, "%lf,%ld", &r, &a) == 2)
        hf_client_set_rate(c, r, a);
    if ((v = arg("host_rate", NULL)) && sscanf(v, "%lf,%ld", &r, &a) == 2)
        hf_client_set_host_rate(c, r, a);
    return c;
}

/* Run until nothing is pending, in slices of slice_ms (sampling our sockets
 * to sample_port between them), or in one hf_client_run(-1) when slice_ms
 * is 0.  Returns the last hf_client_run's value. */
typedef struct runstat {
    int last_rc;
    long slices, bad_rc, ok_with_pending;
    long samples;
    int max_est;
} runstat;

static void run_all(hf_client *c, long slice_ms, int sample_port, runstat *rs)
{
    memset(rs, 0, sizeof *rs);
    if (slice_ms <= 0) {
        rs->last_rc = hf_client_run(c, -1);
        rs->slices = 1;
        return;
    }
    uint64_t end = now_ns() + 20000000000ull;
    while (now_ns() < end) {
        int rc = hf_client_run(c, slice_ms);
        rs->slices++;
        rs->last_rc = rc;
        if (rc != HF_OK && rc != HF_E_TIMEOUT)
            rs->bad_rc++;
        if (sample_port) {
            sockstat st;
            own_sockets(sample_port, &st);
            rs->samples++;
            if (st.established > rs->max_est)
                rs->max_est = st.established;
        }
        if (rc == HF_OK) {
            if (hf_client_pending(c) > 0)
                rs->ok_with_pending++;
            else
                break;
        }
        if (rc != HF_OK && rc != HF_E_TIMEOUT)
            break;
    }
}

/* The caller's own loop: poll() on hf_client_fd for hf_client_timeout_ms
 * (at most 1 s, so a missing timer shows as a long wait, not a hang). */
typedef struct ownstat {
    long iterations, zero_timeouts, neg_timeouts, poll_timeouts, long_waits;
    long process_errors;
    int fd;
} ownstat;

static void own_loop(hf_client *c, ownstat *os)
{
    memset(os, 0, sizeof *os);
    os->fd = hf_client_fd(c);
    while (hf_client_pending(c) > 0) {
        long to = hf_client_timeout_ms(c);
        int fd = hf_client_fd(c);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ms = to < 0 || to > 1000 ? 1000 : (int)to;
        os->iterations++;
        if (to == 0)
            os->zero_timeouts++;
        if (to < 0)
            os->neg_timeouts++;
        int n = poll(&p, 1, ms);
        if (n == 0) {
            os->poll_timeouts++;
            if (ms == 1000)
                os->long_waits++;
        }
        if (n < 0 && errno != EINTR)
            break;
        if (hf_client_process(c) != HF_OK)
            os->process_errors++;
    }
}

/* ------------------------------------------------------------ batch */

typedef struct group {
    long count, delay;
    char url[1024], sha[65];
    long len;
} group;

static int case_batch(void)
{
    const char *path = arg("urls", NULL);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "asynctest batch: urls=FILE needed\n");
        return 2;
    }
    group *g = xcalloc(64, sizeof *g);
    int ng = 0;
    long total = 0;
    char line[2048];
    while (ng < 64 && fgets(line, sizeof line, f)) {
        group *p = &g[ng];
        p->len = -1;
        int k = sscanf(line, "%ld %ld %1023s %64s %ld", &p->count, &p->delay,
                       p->url, p->sha, &p->len);
        if (k >= 3) {
            total += p->count;
            ng++;
        }
    }
    fclose(f);
    int interleave = (int)arg_long("interleave", 0);
    long slice = arg_long("slice", 0);
    int sample_port = (int)arg_long("sample_port", 0);
    int own = strcmp(arg("loop", "run"), "own") == 0;

    int fds_before = count_fds();
    ev_reset();
    g_t0 = now_ns();
    hf_client *c = new_client();
    hf_request **reqs = xcalloc((size_t)ng, sizeof *reqs);
    for (int i = 0; i < ng; i++) /* one request a group, submitted n times */
        reqs[i] = hf_request_new("GET", g[i].url);
    tx *t = xcalloc((size_t)total, sizeof *t);
    long n = 0, submit_errors = 0;
    long left[64];
    for (int i = 0; i < ng; i++)
        left[i] = g[i].count;
    for (int gi = 0; n < total;) {
        if (left[gi] > 0) {
            tx *p = &t[n];
            tx_init(p, (int)n);
            p->group = gi;
            p->req = reqs[gi];
            p->want_sha = g[gi].sha[0] ? g[gi].sha : NULL;
            p->want_len = g[gi].len;
            p->port = url_port(g[gi].url);
            if (submit(c, p, g[gi].delay) != HF_OK)
                submit_errors++;
            left[gi]--;
            n++;
            if (interleave)
                gi = (gi + 1) % ng;
        } else {
            gi = (gi + 1) % ng;
        }
    }
    size_t pending_submitted = hf_client_pending(c);
    runstat rs;
    ownstat os;
    memset(&rs, 0, sizeof rs);
    memset(&os, 0, sizeof os);
    if (own)
        own_loop(c, &os);
    else
        run_all(c, slice, sample_port, &rs);
    uint64_t t_end = now_ns();
    size_t pending_after = hf_client_pending(c);
    long num_connects = hf_client_num_connects(c);
    /* after the run: a second run with nothing left returns at once */
    uint64_t t1 = now_ns();
    int idle_rc = hf_client_run(c, -1);
    double idle_ms = ((double)now_ns() - (double)t1) / 1e6;
    long ok = 0, done_once = 0, bad_x = 0, bad_req = 0, null_resp = 0;
    for (long i = 0; i < total; i++) {
        ok += t[i].err == HF_OK && t[i].status == 200 && t[i].sha_ok;
        done_once += t[i].done_calls == 1;
        bad_x += t[i].bad_x;
        bad_req += t[i].bad_req;
        null_resp += t[i].null_resp;
    }
    int open_at_end = E.open;
    hf_client_free(c);
    for (int i = 0; i < ng; i++)
        hf_request_free(reqs[i]);
    int fds_after = count_fds();

    printf("{\"case\":\"batch\",\"n\":%ld,\"submit_errors\":%ld,"
           "\"pending_submitted\":%zu,\"ok\":%ld,\"done_once\":%ld,"
           "\"done_total\":%ld,\"done_in_api\":%ld,\"bad_x\":%ld,"
           "\"bad_req\":%ld,\"null_resp\":%ld,\"elapsed_ms\":%.3f,"
           "\"run_rc\":%d,\"bad_rc\":%ld,\"ok_with_pending\":%ld,"
           "\"slices\":%ld,\"pending_after\":%zu,\"idle_rc\":%d,"
           "\"idle_ms\":%.3f,\"max_open\":%d,\"max_running\":%d,"
           "\"open_at_end\":%d,\"established\":%ld,\"closed\":%ld,"
           "\"num_connects\":%ld,\"queued_events\":%ld,\"done_events\":%ld,"
           "\"proc_samples\":%ld,\"proc_max_est\":%d,"
           "\"fds_before\":%d,\"fds_after\":%d,",
           total, submit_errors, pending_submitted, ok, done_once,
           g_done_total, g_done_in_api, bad_x, bad_req, null_resp,
           rel_ms(t_end), rs.last_rc, rs.bad_rc, rs.ok_with_pending, rs.slices,
           pending_after, idle_rc, idle_ms, E.max_open, E.max_running,
           open_at_end, E.established, E.closed, num_connects,
           E.queued_events, E.done_events, rs.samples, rs.max_est, fds_before,
           fds_after);
    printf("\"own\":{\"fd\":%d,\"iterations\":%ld,\"zero_timeouts\":%ld,"
           "\"neg_timeouts\":%ld,\"poll_timeouts\":%ld,\"long_waits\":%ld,"
           "\"process_errors\":%ld},",
           os.fd, os.iterations, os.zero_timeouts, os.neg_timeouts,
           os.poll_timeouts, os.long_waits, os.process_errors);
    printf("\"ports\":[");
    for (int i = 0; i < E.nports; i++)
        printf("%s{\"port\":%d,\"max_open\":%d,\"max_running\":%d}",
               i ? "," : "", E.ports[i], E.max_open_p[i], E.max_run_p[i]);
    printf("],\"transfers\":[");
    for (long i = 0; i < total; i++) {
        if (i)
            putchar(',');
        tx_json(&t[i]);
        tx_free(&t[i]);
    }
    printf("]}\n");
    free(t);
    free(reqs);
    free(g);
    return 0;
}

/* ------------------------------------------------------------ cancel */

/* The request body of the "sending" case: zeros, as many as asked. */
typedef struct zeros {
    long produced;
} zeros;

static int read_zeros(void *arg, void *buf, size_t cap, size_t *n)
{
    zeros *z = arg;
    memset(buf, 0, cap);
    *n = cap;
    z->produced += (long)cap;
    return 0;
}

static void hook_cancel_self(tx *t, hf_transfer *x)
{
    t->hook_val = cancel(x); /* it has ended: nothing happens */
}

static void hook_cancel_other(tx *t, hf_transfer *x)
{
    (void)x;
    tx *other = t->hook_arg;
    /* from a done callback: not "from outside" */
    t->hook_val = hf_transfer_cancel(other->x);
}

static char *with_token(const char *url, const char *token)
{
    size_t n = strlen(url) + strlen(token) + 8;
    char *s = xcalloc(n, 1);
    snprintf(s, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', token);
    return s;
}

/* Has the target reached the state the mode cancels in? */
static int reached(const char *mode, tx *tg, zeros *z)
{
    if (!strcmp(mode, "resolving"))
        return E.seen[HF_EV_DNS_START] > 0 && !E.seen[HF_EV_DNS_END];
    if (!strcmp(mode, "connecting"))
        return E.seen[HF_EV_CONNECT_START] > 0 &&
               !E.seen[HF_EV_TCP_ESTABLISHED];
    if (!strcmp(mode, "sending"))
        return z->produced > 0 && !E.seen[HF_EV_REQUEST_BODY];
    if (!strcmp(mode, "receiving"))
        return tg->sink_bytes >= 3;
    if (!strcmp(mode, "paused_unread"))
        return tg->paused;
    return 1;
}

static int case_cancel_one(const char *mode)
{
    const char *good = arg("good", NULL);
    const char *slow = arg("slow", NULL);
    if (!good || !slow) {
        fprintf(stderr, "asynctest cancel: good=URL slow=URL needed\n");
        return 2;
    }
    int fds_before = count_fds();
    ev_reset();
    g_done_total = g_done_in_api = 0;
    g_t0 = now_ns();
    E.token = "hfcancel=1";
    int queued = !strcmp(mode, "queued") || !strcmp(mode, "queued_twice") ||
                 !strcmp(mode, "delayed");
    hf_client *c = new_client();
    if (queued && strcmp(mode, "delayed"))
        hf_client_set_limits(c, 1, 0, 0);
    if (!strcmp(mode, "resolving")) {
        hf_client_set_dns_servers(c, arg("dns", NULL));
        hf_client_set_dns_files(c, arg("resolv", NULL), arg("hosts", NULL));
    }

    /* the target */
    char url[1024];
    const char *method = "GET";
    int target_port = 0;
    if (!strcmp(mode, "resolving")) {
        target_port = 8;
        snprintf(url, sizeof url, "http://blackhole.test:8/");
    } else if (!strcmp(mode, "connecting")) {
        target_port = (int)arg_long("blackhole", 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", target_port);
    } else if (!strcmp(mode, "sending")) {
        target_port = (int)arg_long("sinkport", 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/upload", target_port);
        method = "PUT";
    } else if (!strcmp(mode, "receiving") || !strcmp(mode, "from_done") ||
               !strcmp(mode, "free_pending")) {
        snprintf(url, sizeof url, "%s", slow);
    } else if (!strcmp(mode, "paused_unread")) {
        snprintf(url, sizeof url, "%s", arg("big", good));
    } else {
        snprintf(url, sizeof url, "%s", good);
    }
    if (!target_port)
        target_port = url_port(url);
    char *turl = with_token(url, E.token);
    tx tg;
    tx_init(&tg, 0);
    tg.req = hf_request_new(method, turl);
    tg.port = target_port;
    zeros z = {0};
    if (!strcmp(mode, "sending")) {
        hf_request_body_reader(tg.req, read_zeros, &z, 256L << 20);
        hf_request_set_expect_threshold(tg.req, -1);
    }
    if (!strcmp(mode, "receiving") || !strcmp(mode, "paused_unread"))
        tx_use_sink(&tg);
    if (!strcmp(mode, "paused_unread"))
        tg.pause_mode = 1;
    if (!strcmp(mode, "after_done"))
        tg.hook = hook_cancel_self;

    /* the others: a blocker ahead of a queued target, then good ones */
    enum { NOTHERS = 4 };
    tx o[NOTHERS];
    hf_request *oreq[NOTHERS];
    for (int i = 0; i < NOTHERS; i++) {
        tx_init(&o[i], i + 1);
        const char *u = good;
        if (i == 0 && queued) /* holds the one slot while the target waits */
            u = arg("blocker", slow);
        if (i == 0 && !strcmp(mode, "free_pending"))
            u = slow;
        oreq[i] = hf_request_new("GET", u);
        o[i].req = oreq[i];
        o[i].port = url_port(u);
    }
    if (!strcmp(mode, "from_done")) {
        o[1].hook = hook_cancel_other;
        o[1].hook_arg = &tg;
    }
    hf_err sub_rc;
    if (queued) {
        submit(c, &o[0], 0);
        /* delayed: 5 s, so the cancel comes long before it would start */
        sub_rc = submit(c, &tg, strcmp(mode, "delayed") ? 0 : 5000);
        for (int i = 1; i < NOTHERS; i++)
            submit(c, &o[i], 0);
    } else {
        sub_rc = submit(c, &tg, 0);
        /* the others start once the target is in its state (so a global
         * limit or a shared connection cannot hide anything) */
    }

    int state = 0, cancel_rc = -1, cancel_rc2 = -1;
    int done_in_cancel = 0;
    uint64_t t_cancel = 0;
    long rx_at_cancel = -1, body_sent_at_cancel = -1, produced_at_cancel = -1;
    int own_at_cancel = -1;
    if (queued) {
        state = 1;
        long before = tg.done_calls;
        t_cancel = now_ns();
        cancel_rc = cancel(tg.x);
        if (!strcmp(mode, "queued_twice"))
            cancel_rc2 = cancel(tg.x);
        done_in_cancel = tg.done_calls != before;
    } else if (!strcmp(mode, "after_done") || !strcmp(mode, "from_done")) {
        state = 1;
        for (int i = 0; i < NOTHERS; i++)
            submit(c, &o[i], 0);
    } else {
        /* two others run alongside from the start, two come after */
        submit(c, &o[0], 0);
        submit(c, &o[1], 0);
        uint64_t end = now_ns() + 10000000000ull;
        while (now_ns() < end && tg.done_calls == 0 &&
               !(state = reached(mode, &tg, &z)))
            hf_client_run(c, 10);
        if (state && (!strcmp(mode, "paused_unread") ||
                      !strcmp(mode, "sending"))) {
            /* the server fills the socket buffers (paused_unread: the
             * client does not read; sending: the server does not) */
            hf_client_run(c, 200);
            sockstat st;
            own_sockets(target_port, &st);
            rx_at_cancel = st.rx_queue;
        }
        body_sent_at_cancel = E.seen[HF_EV_REQUEST_BODY];
        produced_at_cancel = z.produced;
        if (!strcmp(mode, "free_pending")) {
            for (int i = 2; i < NOTHERS; i++)
                submit(c, &o[i], 0);
            hf_client_run(c, 100);
            long done_before = g_done_total;
            hf_client_free(c);
            int fds_after = count_fds();
            printf("{\"case\":\"cancel\",\"mode\":\"%s\",\"done_during_free\":"
                   "%ld,\"target_done_calls\":%d,\"target_err\":%d,"
                   "\"fds_before\":%d,\"fds_after\":%d}\n",
                   mode, g_done_total - done_before, tg.done_calls, tg.err,
                   fds_before, fds_after);
            fflush(stdout);
            tx_free(&tg);
            hf_request_free(tg.req);
            for (int i = 0; i < NOTHERS; i++)
                hf_request_free(oreq[i]);
            free(turl);
            return 0;
        }
        if (state) {
            sockstat st;
            own_sockets(target_port, &st);
            own_at_cancel = st.any;
            long before = tg.done_calls;
            t_cancel = now_ns();
            cancel_rc = cancel(tg.x);
            done_in_cancel = tg.done_calls != before;
        }
        for (int i = 2; i < NOTHERS; i++)
            submit(c, &o[i], 0);
    }
    runstat rs;
    run_all(c, 20, 0, &rs);
    size_t pending_after = hf_client_pending(c);
    /* one more short run: a close the library finishes "when the loop
     * next runs" */
    hf_client_run(c, 50);
    int closed_before_free = E.target_closed;
    int open_at_end = E.open;
    /* the pool's idle connections (the others') go; what is left to the
     * target's port was never closed */
    hf_client_close_idle(c, 100);
    sockstat after;
    own_sockets(target_port, &after);
    hf_client_free(c);
    int fds_after = count_fds();
    long others_ok = 0, others_once = 0;
    for (int i = 0; i < NOTHERS; i++) {
        others_ok += o[i].err == HF_OK && o[i].status == 200;
        others_once += o[i].done_calls == 1;
    }
    int started = 0;
    for (int k = 0; k < HF_EV__COUNT; k++)
        if (is_start_event(k) && E.seen[k])
            started = 1;
    printf("{\"case\":\"cancel\",\"mode\":\"%s\",\"submit_rc\":%d,"
           "\"state_reached\":%d,\"cancel_rc\":%d,\"cancel_rc2\":%d,"
           "\"done_in_cancel\":%d,\"done_in_api\":%ld,\"err\":%d,"
           "\"done_calls\":%d,\"status\":%d,\"hook_rc\":%ld,"
           "\"done_after_cancel_ms\":%.3f,\"target_xfer\":%ld,"
           "\"target_conn\":%ld,\"started\":%d,\"closed_event\":%d,"
           "\"closed_before_free\":%d,\"closed_by\":%d,\"rst_sent\":%d,"
           "\"fin_sent\":%d,\"rx_at_cancel\":%ld,\"own_at_cancel\":%d,"
           "\"own_sockets_after\":%d,"
           "\"sink_bytes\":%ld,\"body_produced\":%ld,"
           "\"produced_at_cancel\":%ld,\"body_sent_at_cancel\":%ld,\"others\":%d,"
           "\"others_ok\":%ld,\"others_done_once\":%ld,\"run_rc\":%d,"
           "\"pending_after\":%zu,\"open_at_end\":%d,\"fds_before\":%d,"
           "\"fds_after\":%d,\"elapsed_ms\":%.3f}\n",
           mode, sub_rc, state, cancel_rc, cancel_rc2, done_in_cancel,
           g_done_in_api, tg.err, tg.done_calls, tg.status, tg.hook_val,
           t_cancel && tg.t_done ? ((double)tg.t_done - (double)t_cancel) / 1e6
                                 : -1.0,
           E.target, E.target_conn, started, E.target_closed,
           closed_before_free, E.target_closed_by, E.target_rst, E.target_fin,
           rx_at_cancel, own_at_cancel, after.any, tg.sink_bytes, z.produced,
           produced_at_cancel, body_sent_at_cancel, NOTHERS,
           others_ok, others_once, rs.last_rc, pending_after, open_at_end,
           fds_before, fds_after, rel_ms(now_ns()));
    fflush(stdout);
    tx_free(&tg);
    hf_request_free(tg.req);
    for (int i = 0; i < NOTHERS; i++)
        hf_request_free(oreq[i]);
    free(turl);
    return 0;
}

static int case_cancel(void)
{
    if (g_argc < 3) {
        fprintf(stderr, "asynctest cancel MODE[,MODE...] ...\n");
        return 2;
    }
    char modes[512];
    snprintf(modes, sizeof modes, "%s", g_argv[2]);
    for (char *save = NULL, *m = strtok_r(modes, ",", &save); m;
         m = strtok_r(NULL, ",", &save)) {
        int rc = case_cancel_one(m);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ pause */

static void hook_resume_other(tx *t, hf_transfer *x)
{
    (void)x;
    tx *p = t->hook_arg;
    sockstat st;
    own_sockets(p->port, &st);
    t->hook_val = st.rx_queue; /* bytes waiting while p is paused */
    p->t_resume = now_ns();
    p->paused = 0;
    hf_transfer_resume(p->x);
}

static void hook_pause_other(tx *t, hf_transfer *x)
{
    (void)x;
    tx *p = t->hook_arg;
    if (p->done_calls)
        return; /* too late: the test reports it */
    p->t_pause = now_ns();
    p->paused = 1;
    p->npauses++;
    t->hook_val = hf_transfer_pause(p->x);
}

static int case_pause(void)
{
    const char *mode = g_argc > 2 ? g_argv[2] : "";
    const char *url = arg("url", NULL);
    if (!url) {
        fprintf(stderr, "asynctest pause MODE url=URL sha=HEX len=N\n");
        return 2;
    }
    int fds_before = count_fds();
    ev_reset();
    g_done_total = g_done_in_api = 0;
    g_t0 = now_ns();
    hf_client *c = new_client();
    tx t, tick;
    tx_init(&t, 0);
    tx_init(&tick, 1);
    t.req = hf_request_new("GET", url);
    t.port = url_port(url);
    t.want_sha = arg("sha", NULL);
    t.want_len = arg_long("len", -1);
    tx_use_sink(&t);
    int pause_rc = -1, resume_rc = -1;
    long rx_paused = -1;
    if (!strcmp(mode, "sink_timer")) {
        /* the sink pauses after the first piece; a transfer submitted with
         * a delay of 600 ms is the timer: its done callback resumes */
        t.pause_mode = 1;
        submit(c, &t, 0);
        tick.req = hf_request_new("GET", arg("tick", url));
        tick.hook = hook_resume_other;
        tick.hook_arg = &t;
        submit(c, &tick, 600);
        hf_client_run(c, -1);
        rx_paused = tick.hook_val;
    } else if (!strcmp(mode, "outside")) {
        submit(c, &t, 0);
        uint64_t end = now_ns() + 10000000000ull;
        while (t.sink_bytes == 0 && t.done_calls == 0 && now_ns() < end)
            hf_client_run(c, 5);
        t.t_pause = now_ns();
        t.paused = 1;
        g_in_api++;
        pause_rc = hf_transfer_pause(t.x);
        g_in_api--;
        hf_client_run(c, 500); /* the loop runs; the transfer must not */
        sockstat st;
        own_sockets(t.port, &st);
        rx_paused = st.rx_queue;
        t.t_resume = now_ns();
        t.paused = 0;
        g_in_api++;
        resume_rc = hf_transfer_resume(t.x);
        g_in_api--;
        hf_client_run(c, -1);
    } else if (!strcmp(mode, "repeat")) {
        /* paused by the sink every MiB, resumed from outside 30 ms later */
        t.pause_mode = 2;
        t.pause_every = 1L << 20;
        t.next_pause_at = 1L << 20;
        submit(c, &t, 0);
        uint64_t end = now_ns() + 15000000000ull;
        while (t.done_calls == 0 && now_ns() < end) {
            hf_client_run(c, 10);
            /* (a pause on the last piece: the transfer may end paused, and
             * its handle is gone once done has run) */
            if (t.paused && t.done_calls == 0 &&
                now_ns() - t.t_pause >= 30000000ull) {
                t.t_resume = now_ns();
                t.paused = 0;
                g_in_api++;
                resume_rc = hf_transfer_resume(t.x);
                g_in_api--;
            }
        }
    } else if (!strcmp(mode, "from_done")) {
        /* a transfer delayed 150 ms pauses it from its done callback,
         * another delayed 750 ms resumes it from its own */
        tx tick2;
        tx_init(&tick2, 2);
        submit(c, &t, 0);
        tick.req = hf_request_new("GET", arg("tick", url));
        tick.hook = hook_pause_other;
        tick.hook_arg = &t;
        submit(c, &tick, 150);
        tick2.req = tick.req;
        tick2.hook = hook_resume_other;
        tick2.hook_arg = &t;
        submit(c, &tick2, 750);
        hf_client_run(c, -1);
        pause_rc = (int)tick.hook_val;
        rx_paused = tick2.hook_val;
        resume_rc = tick2.err;
    } else if (!strcmp(mode, "timeout")) {
        /* paused for good: the request's time limit still runs */
        t.pause_mode = 1;
        hf_request_set_timeout_ms(t.req, arg_long("timeout", 500));
        submit(c, &t, 0);
        uint64_t t0 = now_ns();
        hf_client_run(c, 10000);
        t.t_resume = t0; /* (unused) */
        t.hook_val = (long)(((double)now_ns() - (double)t0) / 1e6);
    } else if (!strcmp(mode, "queued")) {
        /* paused before it starts: it may connect, but the sink gets
         * nothing until the resume */
        submit(c, &t, 0);
        t.t_pause = now_ns();
        t.paused = 1;
        g_in_api++;
        pause_rc = hf_transfer_pause(t.x);
        g_in_api--;
        hf_client_run(c, 500);
        t.t_resume = now_ns();
        t.paused = 0;
        g_in_api++;
        resume_rc = hf_transfer_resume(t.x);
        g_in_api--;
        hf_client_run(c, -1);
    } else {
        fprintf(stderr, "asynctest pause: unknown mode %s\n", mode);
        return 2;
    }
    size_t pending_after = hf_client_pending(c);
    hf_client_free(c);
    int fds_after = count_fds();
    printf("{\"case\":\"pause\",\"mode\":\"%s\",\"err\":%d,\"status\":%d,"
           "\"len\":%ld,\"sha_ok\":%d,\"done_calls\":%d,\"sink_calls\":%ld,"
           "\"npauses\":%d,\"pause_ms\":%.3f,\"resume_ms\":%.3f,"
           "\"paused_for_ms\":%.3f,\"calls_while_paused\":%ld,"
           "\"max_gap_ms\":%.3f,\"rx_while_paused\":%ld,\"pause_rc\":%d,"
           "\"resume_rc\":%d,\"tick_err\":%d,\"run_ms\":%ld,\"done_in_api\":%ld,"
           "\"pending_after\":%zu,\"fds_before\":%d,\"fds_after\":%d}\n",
           mode, t.err, t.status, t.len, t.sha_ok, t.done_calls, t.sink_calls,
           t.npauses, rel_ms(t.t_pause), rel_ms(t.t_resume),
           t.t_pause && t.t_resume
               ? ((double)t.t_resume - (double)t.t_pause) / 1e6
               : -1.0,
           t.calls_while_paused, t.max_gap_ms, rx_paused, pause_rc, resume_rc,
           tick.err, t.hook_val, g_done_in_api, pending_after, fds_before,
           fds_after);
    tx_free(&t);
    hf_request_free(t.req);
    hf_request_free(tick.req);
    return 0;
}

/* ------------------------------------------------------------ files */

static int case_files(void)
{
    const char *url = arg("url", NULL);
    if (!url) {
        fprintf(stderr, "asynctest files url=URL ...\n");
        return 2;
    }
    long n = arg_long("n", 1);
    if (n < 1 || n > 64)
        n = 1;
    const char *save = arg("save", NULL);
    const char *body_file = arg("body_file", NULL);
    const char *output = arg("output", NULL);
    int fds_before = count_fds();
    ev_reset();
    g_done_total = g_done_in_api = 0;
    g_t0 = now_ns();
    hf_client *c = new_client();
    hf_request *r = hf_request_new(arg("method", "GET"), url);
    int body_rc = -1, out_rc = -1;
    if (body_file) {
        body_rc = hf_request_body_file(r, body_file);
        hf_request_header(r, "Content-Type", arg("ctype",
                                                 "application/octet-stream"));
    }
    if (output)
        out_rc = hf_request_set_output_file(r, output);
    if (arg("follow", NULL))
        hf_request_set_follow(r, arg_long("follow", 0), 0);
    tx t[64];
    char names[64][600];
    for (long i = 0; i < n; i++) { /* the same request n times at once */
        tx_init(&t[i], (int)i);
        t[i].req = r;
        if (save) {
            snprintf(names[i], sizeof names[i], "%s.%ld", save, i);
            t[i].save = names[i];
        }
        submit(c, &t[i], 0);
    }
    runstat rs;
    run_all(c, 0, 0, &rs);
    size_t pending_after = hf_client_pending(c);
    hf_client_free(c);
    hf_request_free(r);
    int fds_after = count_fds();
    printf("{\"case\":\"files\",\"body_rc\":%d,\"output_rc\":%d,"
           "\"run_rc\":%d,\"pending_after\":%zu,\"done_in_api\":%ld,"
           "\"fds_before\":%d,\"fds_after\":%d,\"transfers\":[",
           body_rc, out_rc, rs.last_rc, pending_after, g_done_in_api,
           fds_before, fds_after);
    for (long i = 0; i < n; i++) {
        if (i)
            putchar(',');
        tx_json(&t[i]);
    }
    printf("]}\n");
    return 0;
}

/* ------------------------------------------------------------ errors */

static hf_client *g_chain_client;

static void hook_chain(tx *t, hf_transfer *x)
{
    (void)x;
    /* submit the next link of a chain from the done callback */
    tx *next = t->hook_arg;
    if (!next)
        return;
    next->t_submit = now_ns();
    next->hook_val = hf_submit(g_chain_client, next->req, on_done, next,
                               &next->x);
}

static void field(const char *name, long v, int *first)
{
    printf("%s\"%s\":%ld", *first ? "" : ",", name, v);
    *first = 0;
}

static void fieldf(const char *name, double v, int *first)
{
    printf("%s\"%s\":%.3f", *first ? "" : ",", name, v);
    *first = 0;
}

static int case_errors(void)
{
    const char *good = arg("good", NULL);
    const char *slow = arg("slow", NULL);
    if (!good || !slow) {
        fprintf(stderr, "asynctest errors good=URL slow=URL\n");
        return 2;
    }
    int fds_before = count_fds();
    int first = 1;
    printf("{\"case\":\"errors\"");
    first = 0;
    ev_reset();
    g_done_total = g_done_in_api = 0;
    g_t0 = now_ns();
    hf_client *c = new_client();
    hf_request *r = hf_request_new("GET", good);
    tx t;
    tx_init(&t, 0);
    t.req = r;
    hf_transfer *x = NULL;

    /* NULL arguments */
    field("submit_null_client", hf_submit(NULL, r, on_done, &t, &x), &first);
    field("submit_null_request", hf_submit(c, NULL, on_done, &t, &x), &first);
    field("submit_delayed_null_client",
          hf_submit_delayed(NULL, r, 10, on_done, &t, &x), &first);
    field("submit_delayed_null_request",
          hf_submit_delayed(c, NULL, 10, on_done, &t, &x), &first);
    field("run_null", hf_client_run(NULL, 0), &first);
    field("process_null", hf_client_process(NULL), &first);
    field("cancel_null", hf_transfer_cancel(NULL), &first);
    field("pause_null", hf_transfer_pause(NULL), &first);
    field("resume_null", hf_transfer_resume(NULL), &first);
    field("set_limits_null", hf_client_set_limits(NULL, 1, 1, 1), &first);
    field("set_limits_negative", hf_client_set_limits(c, -1, 0, 0), &first);
    field("set_rate_null", hf_client_set_rate(NULL, 1, 1), &first);
    field("set_rate_negative", hf_client_set_rate(c, -1, 1), &first);
    field("set_host_rate_null", hf_client_set_host_rate(NULL, 1, 1), &first);
    field("set_host_rate_negative", hf_client_set_host_rate(c, -2, 0),
          &first);
    field("body_file_null_request", hf_request_body_file(NULL, "/etc/hosts"),
          &first);
    field("body_file_null_path", hf_request_body_file(r, NULL), &first);
    field("output_file_null_request",
          hf_request_set_output_file(NULL, "/tmp/x"), &first);
    field("pending_null", (long)hf_client_pending(NULL), &first);
    field("fd_null", hf_client_fd(NULL), &first);
    field("timeout_null", hf_client_timeout_ms(NULL), &first);
    field("transfer_request_null_is_null", hf_transfer_request(NULL) == NULL,
          &first);
    field("done_after_null_calls", g_done_total, &first);
    field("pending_after_null_calls", (long)hf_client_pending(c), &first);
    field("fd_valid", hf_client_fd(c) >= 0, &first);

    /* nothing pending: at once, with and without a timeout */
    uint64_t t0 = now_ns();
    field("run_idle_rc", hf_client_run(c, -1), &first);
    fieldf("run_idle_ms", ((double)now_ns() - (double)t0) / 1e6, &first);
    t0 = now_ns();
    field("run_idle_timeout_rc", hf_client_run(c, 5000), &first);
    fieldf("run_idle_timeout_ms", ((double)now_ns() - (double)t0) / 1e6,
           &first);
    field("process_idle_rc", hf_client_process(c), &first);
    field("timeout_idle", hf_client_timeout_ms(c), &first);

    /* hf_client_run with a timeout while a slow transfer runs */
    hf_request *rs = hf_request_new("GET", slow);
    tx ts;
    tx_init(&ts, 1);
    ts.req = rs;
    field("slow_submit_rc", submit(c, &ts, 0), &first);
    field("pending_after_submit", (long)hf_client_pending(c), &first);
    field("transfer_request_ok", hf_transfer_request(ts.x) == rs, &first);
    t0 = now_ns();
    field("run_timeout_rc", hf_client_run(c, 200), &first);
    fieldf("run_timeout_ms", ((double)now_ns() - (double)t0) / 1e6, &first);
    field("pending_after_timeout", (long)hf_client_pending(c), &first);
    field("slow_done_after_timeout", ts.done_calls, &first);
    field("run_rest_rc", hf_client_run(c, -1), &first);
    field("slow_err", ts.err, &first);
    field("slow_status", ts.status, &first);
    field("slow_len", ts.len, &first);
    field("slow_done_calls", ts.done_calls, &first);
    field("pending_end", (long)hf_client_pending(c), &first);

    /* an invalid URL: reported to done, from the loop */
    hf_request *rb = hf_request_new("GET", "http://[::1/bad");
    tx tb;
    tx_init(&tb, 2);
    tb.req = rb;
    field("bad_url_submit_rc", submit(c, &tb, 0), &first);
    field("bad_url_done_in_submit", tb.done_calls, &first);
    field("bad_url_run_rc", hf_client_run(c, 5000), &first);
    field("bad_url_err", tb.err, &first);
    field("bad_url_done_calls", tb.done_calls, &first);

    /* a refused connection: HF_E_CONNECT to done */
    hf_request *rr = hf_request_new("GET", arg("refused", "http://127.0.0.1:9/"));
    tx tr;
    tx_init(&tr, 3);
    tr.req = rr;
    field("refused_submit_rc", submit(c, &tr, 0), &first);
    field("refused_run_rc", hf_client_run(c, 5000), &first);
    field("refused_err", tr.err, &first);
    field("refused_done_calls", tr.done_calls, &first);
    hf_request_free(rr);

    /* a chain: each done callback submits the next (5 links), and each
     * done callback frees its own request */
    enum { CHAIN = 5 };
    tx ch[CHAIN];
    for (int i = 0; i < CHAIN; i++) {
        tx_init(&ch[i], 10 + i);
        ch[i].req = hf_request_new("GET", good);
        ch[i].own_req = 1;
        ch[i].hook = hook_chain;
        ch[i].hook_arg = i + 1 < CHAIN ? &ch[i + 1] : NULL;
    }
    g_chain_client = c;
    field("chain_submit_rc", submit(c, &ch[0], 0), &first);
    field("chain_run_rc", hf_client_run(c, 10000), &first);
    long chain_ok = 0, chain_once = 0, chain_sub = 0;
    for (int i = 0; i < CHAIN; i++) {
        chain_ok += ch[i].err == HF_OK && ch[i].status == 200;
        chain_once += ch[i].done_calls == 1;
        chain_sub += i == 0 || ch[i].hook_val == HF_OK;
    }
    field("chain_ok", chain_ok, &first);
    field("chain_done_once", chain_once, &first);
    field("chain_submits_ok", chain_sub, &first);
    field("pending_after_chain", (long)hf_client_pending(c), &first);

    /* hf_send while async transfers are pending */
    enum { NASYNC = 3 };
    tx as[NASYNC];
    for (int i = 0; i < NASYNC; i++) {
        tx_init(&as[i], 20 + i);
        as[i].req = rs;
        submit(c, &as[i], 0);
    }
    hf_response *resp = NULL;
    t0 = now_ns();
    field("send_rc", hf_send(c, r, &resp), &first);
    fieldf("send_ms", ((double)now_ns() - (double)t0) / 1e6, &first);
    field("send_status", resp ? hf_response_status(resp) : -1, &first);
    size_t blen = 0;
    if (resp)
        hf_response_body(resp, &blen);
    field("send_len", (long)blen, &first);
    hf_response_free(resp);
    long during = 0;
    for (int i = 0; i < NASYNC; i++)
        during += as[i].done_calls;
    field("async_done_during_send", during, &first);
    field("async_run_rc", hf_client_run(c, 10000), &first);
    long as_ok = 0, as_once = 0;
    for (int i = 0; i < NASYNC; i++) {
        as_ok += as[i].err == HF_OK && as[i].status == 200 && as[i].len == 20;
        as_once += as[i].done_calls == 1;
    }
    field("async_ok", as_ok, &first);
    field("async_done_once", as_once, &first);

    /* a transfer submitted from outside whose done frees the request */
    tx tf;
    tx_init(&tf, 30);
    tf.req = hf_request_new("GET", good);
    tf.own_req = 1;
    submit(c, &tf, 0);
    field("free_in_done_run_rc", hf_client_run(c, 10000), &first);
    field("free_in_done_err", tf.err, &first);
    field("free_in_done_calls", tf.done_calls, &first);

    /* delayed: not started before its delay; an undelayed one passes it */
    tx d1, d0;
    tx_init(&d1, 40);
    tx_init(&d0, 41);
    d1.req = d0.req = r;
    submit(c, &d1, 400);
    submit(c, &d0, 0);
    field("delayed_pending", (long)hf_client_pending(c), &first);
    field("delayed_run_rc", hf_client_run(c, 10000), &first);
    field("delayed_err", d1.err, &first);
    fieldf("delayed_start_ms",
           d1.t_start ? ((double)d1.t_start - (double)d1.t_submit) / 1e6 : -1,
           &first);
    fieldf("delayed_queued_ms",
           d1.t_queued ? ((double)d1.t_queued - (double)d1.t_submit) / 1e6
                       : -1,
           &first);
    fieldf("delayed_done_ms",
           d1.t_done ? ((double)d1.t_done - (double)d1.t_submit) / 1e6 : -1,
           &first);
    fieldf("undelayed_done_ms",
           d0.t_done ? ((double)d0.t_done - (double)d0.t_submit) / 1e6 : -1,
           &first);
    field("undelayed_err", d0.err, &first);

    field("done_in_api", g_done_in_api, &first);
    field("done_total", g_done_total, &first);
    hf_client_free(c);
    hf_request_free(r);
    hf_request_free(rs);
    hf_request_free(rb);
    field("fds_before", fds_before, &first);
    field("fds_after", count_fds(), &first);
    printf("}\n");
    return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
    if (argc < 2) {
        fprintf(stderr, "usage: asynctest batch|cancel|pause|files|errors "
                        "[key=value...]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)arg_long("deadline", 25));
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int rc;
    if (!strcmp(argv[1], "batch"))
        rc = case_batch();
    else if (!strcmp(argv[1], "cancel"))
        rc = case_cancel();
    else if (!strcmp(argv[1], "pause"))
        rc = case_pause();
    else if (!strcmp(argv[1], "files"))
        rc = case_files();
    else if (!strcmp(argv[1], "errors"))
        rc = case_errors();
    else {
        fprintf(stderr, "asynctest: unknown case %s\n", argv[1]);
        rc = 2;
    }
    ev_reset();
    fflush(stdout);
    return rc;
}
