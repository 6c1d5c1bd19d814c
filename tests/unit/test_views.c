/* test_views.c -- golden tests of the views (hf_view_flow, hf_view_stat)
 * from hand-built events with fixed times.
 *
 * Each case is compared with tests/unit/golden/NAME.txt (ESC shown as
 * "\e"); a mismatch prints a line diff.  HFLOW_UPDATE_GOLDEN=1 rewrites
 * the files instead (check them by eye before committing).  Besides the
 * golden text every view is checked for its width (no line wider than
 * asked, ANSI codes not counted) and for ESC bytes (none without colour,
 * some with it). */
#include "internal.h"
#include "t.h"
#include <stdlib.h>

#define T0 1000000000000ull      /* CLOCK_MONOTONIC of the first event */

/* ---- building events ----------------------------------------------------- */

static hf_event evs[96];
static size_t nev;

static hf_event *ev(hf_ev type, double ms, long xfer, long conn)
{
    hf_event *e = &evs[nev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->mono_ns = T0 + (uint64_t)(ms * 1e6 + 0.5);
    e->t_ns = e->mono_ns - T0;
    e->transfer = xfer;
    e->conn = conn;
    e->peer = e->local = e->detail = "";
    return e;
}

static hf_event *evd(hf_ev type, double ms, long xfer, long conn,
                     const char *peer, const char *local, const char *detail,
                     int64_t value)
{
    hf_event *e = ev(type, ms, xfer, conn);
    e->peer = peer;
    e->local = local;
    e->detail = detail;
    e->value = value;
    return e;
}

static hf_tcp_info tcp(uint32_t rtt_us, uint32_t retrans)
{
    hf_tcp_info t;
    memset(&t, 0, sizeof t);
    t.valid = 1;
    t.rtt_us = rtt_us;
    t.rttvar_us = rtt_us / 2;
    t.snd_mss = 1448;
    t.rcv_mss = 536;
    t.retrans = retrans;
    return t;
}

#define SRV "192.0.2.10:8080"
#define CLI "192.0.2.1:51324"
#define NS "192.0.2.53:53"
#define LO "127.0.0.1:8080"
#define LOC "127.0.0.1:40112"

/* A plain GET on a new connection (to peer, from local): the rows from
 * SYN to the pool.  at: the time of the SYN. */
static void plain_get(double at, long x, long c, const char *peer, const char *local,
                      int64_t head, int64_t body, const char *status)
{
    evd(HF_EV_CONNECT_START, at, x, -1, peer, "", "", 1);
    evd(HF_EV_TCP_ESTABLISHED, at + 0.06, x, c, peer, local, "", 60000)->tcp = tcp(58, 0);
    evd(HF_EV_REQUEST_HEAD, at + 0.09, x, c, "", "", "", head);
    ev(HF_EV_FIRST_BYTE, at + 1.43, x, c);
    evd(HF_EV_RESPONSE_HEAD, at + 1.48, x, c, "", "", status, atoi(status + 9));
    evd(HF_EV_RESPONSE_BODY, at + 1.83, x, c, "", "", "", body);
}

/* A fresh connection with a DNS lookup; hflow closes it later (idle). */
static void s_dns(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://www.example.test:8080/index.html", 0);
    evd(HF_EV_DNS_START, 0.01, 0, -1, "", "", "www.example.test", 0);
    evd(HF_EV_DNS_ANSWER, 0.42, 0, -1, NS, "", "A 192.0.2.10 ttl=300 from=dns udp", 400000);
    evd(HF_EV_DNS_ANSWER, 0.45, 0, -1, NS, "", "AAAA none ttl=60 from=dns udp", 430000);
    evd(HF_EV_DNS_END, 0.46, 0, -1, "", "", "", 1);
    plain_get(0.47, 0, 0, SRV, CLI, 82, 1256, "HTTP/1.1 200 OK");
    evd(HF_EV_POOLED, 2.31, 0, 0, SRV, CLI, "", 0);
    ev(HF_EV_DONE, 2.32, 0, -1);
    evd(HF_EV_FIN_SENT, 50.0, 0, 0, SRV, CLI, "", 0);
    evd(HF_EV_FIN_RECEIVED, 50.08, 0, 0, SRV, "", "", 0);
    hf_event *e = evd(HF_EV_CLOSED, 50.1, 0, 0, SRV, CLI,
                      "the client closed its idle connections", 0);
    e->closed_by = HF_CLOSED_BY_CLIENT;
    e->tcp = tcp(61, 0);
}

/* https, the name from the resolver's cache, left in the pool. */
static void s_tls(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 3, -1, "", "", "GET https://secure.example.test/", 0);
    evd(HF_EV_DNS_START, 0.01, 3, -1, "", "", "secure.example.test", 0);
    evd(HF_EV_DNS_ANSWER, 0.02, 3, -1, NS, "", "A 192.0.2.20 ttl=287 from=cache", 0);
    evd(HF_EV_DNS_ANSWER, 0.02, 3, -1, NS, "", "AAAA 2001:db8::20 ttl=287 from=cache", 0);
    evd(HF_EV_DNS_END, 0.03, 3, -1, "", "", "", 2);
    evd(HF_EV_CONNECT_START, 0.04, 3, -1, "[2001:db8::20]:443", "", "", 1);
    evd(HF_EV_TCP_ESTABLISHED, 0.11, 3, 2, "[2001:db8::20]:443", "[2001:db8::1]:40000",
        "", 70000)->tcp = tcp(65, 0);
    evd(HF_EV_TLS_START, 0.14, 3, 2, "[2001:db8::20]:443", "",
        "SNI secure.example.test, ALPN http/1.1", 0);
    evd(HF_EV_TLS_END, 2.9, 3, 2, "[2001:db8::20]:443", "",
        "TLSv1.3, cipher TLS_AES_256_GCM_SHA384, group X25519, ALPN http/1.1, "
        "full handshake, certificate ok", 0);
    evd(HF_EV_REQUEST_HEAD, 2.95, 3, 2, "", "", "", 90);
    ev(HF_EV_FIRST_BYTE, 4.66, 3, 2);
    evd(HF_EV_RESPONSE_HEAD, 4.72, 3, 2, "", "", "HTTP/1.1 200 OK", 200);
    evd(HF_EV_RESPONSE_BODY, 4.8, 3, 2, "", "", "", 5120);
    evd(HF_EV_POOLED, 4.81, 3, 2, "[2001:db8::20]:443", "[2001:db8::1]:40000", "", 0);
    ev(HF_EV_DONE, 4.82, 3, -1);
}

/* Two transfers on one connection, the second reused; an IP literal. */
static void s_reused(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://127.0.0.1:8080/a", 0);
    plain_get(0.03, 0, 0, LO, LOC, 80, 10, "HTTP/1.1 200 OK");
    evd(HF_EV_POOLED, 1.87, 0, 0, LO, LOC, "", 0);
    ev(HF_EV_DONE, 1.88, 0, -1);
    evd(HF_EV_QUEUED, 2.0, 1, -1, "", "", "POST http://127.0.0.1:8080/form?x=1#frag", 0);
    evd(HF_EV_REUSED, 2.01, 1, 0, LO, LOC, "", 0);
    evd(HF_EV_REQUEST_HEAD, 2.05, 1, 0, "", "", "", 120);
    evd(HF_EV_REQUEST_BODY, 2.06, 1, 0, "", "", "", 11);
    ev(HF_EV_FIRST_BYTE, 2.5, 1, 0);
    evd(HF_EV_RESPONSE_HEAD, 2.52, 1, 0, "", "", "HTTP/1.1 201 Created", 201);
    evd(HF_EV_RESPONSE_BODY, 2.53, 1, 0, "", "", "", 0);
    evd(HF_EV_POOLED, 2.54, 1, 0, LO, LOC, "", 0);
    ev(HF_EV_DONE, 2.55, 1, -1);
    evd(HF_EV_FIN_SENT, 3.1, 1, 0, LO, LOC, "", 0);
    evd(HF_EV_FIN_RECEIVED, 3.2, 1, 0, LO, "", "", 0);
    hf_event *e = evd(HF_EV_CLOSED, 3.21, 1, 0, LO, LOC,
                      "the client closed its idle connections", 0);
    e->closed_by = HF_CLOSED_BY_CLIENT;
    e->tcp = tcp(40, 0);
}

/* hflow closes first right after the response (its request said close). */
static void s_hflow_closes(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://127.0.0.1:8080/", 0);
    plain_get(0.03, 0, 0, LO, LOC, 96, 612, "HTTP/1.1 200 OK");
    evd(HF_EV_FIN_SENT, 1.9, 0, 0, LO, LOC, "", 0);
    ev(HF_EV_DONE, 1.91, 0, -1);
    evd(HF_EV_FIN_RECEIVED, 1.98, 0, 0, LO, "", "", 0);
    hf_event *e = evd(HF_EV_CLOSED, 1.99, 0, 0, LO, LOC, "Connection: close", 0);
    e->closed_by = HF_CLOSED_BY_CLIENT;
    e->tcp = tcp(40, 1);
}

/* The server closes first: its response said Connection: close. */
static void s_server_closes(int teardown)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://127.0.0.1:8080/close-after", 0);
    plain_get(0.03, 0, 0, LO, LOC, 90, 25, "HTTP/1.1 200 OK");
    ev(HF_EV_DONE, 1.88, 0, -1);
    if (!teardown)
        return;
    evd(HF_EV_FIN_RECEIVED, 1.9, 0, 0, LO, "", "", 0);
    evd(HF_EV_FIN_SENT, 1.92, 0, 0, LO, LOC, "", 0);
    hf_event *e = evd(HF_EV_CLOSED, 1.95, 0, 0, LO, LOC, "Connection: close", 0);
    e->closed_by = HF_CLOSED_BY_SERVER;
    e->tcp = tcp(40, 0);
}

/* The server resets the connection in the middle of the body. */
static void s_rst(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://127.0.0.1:8080/reset-mid-body", 0);
    evd(HF_EV_CONNECT_START, 0.03, 0, -1, LO, "", "", 1);
    evd(HF_EV_TCP_ESTABLISHED, 0.09, 0, 0, LO, LOC, "", 60000)->tcp = tcp(30, 0);
    evd(HF_EV_REQUEST_HEAD, 0.12, 0, 0, "", "", "", 93);
    ev(HF_EV_FIRST_BYTE, 0.5, 0, 0);
    evd(HF_EV_RESPONSE_HEAD, 0.52, 0, 0, "", "", "HTTP/1.1 200 OK", 200);
    evd(HF_EV_RST_RECEIVED, 200.7, 0, 0, LO, "", "", 0);
    evd(HF_EV_ERROR, 200.9, 0, 0, LO, "",
        "receive from 127.0.0.1:8080: connection reset by peer after 200.9 ms", 56);
    hf_event *e = evd(HF_EV_CLOSED, 201.0, 0, 0, LO, LOC, "RECV", 0);
    e->closed_by = HF_CLOSED_BY_RESET;
    e->tcp = tcp(30, 0);
    ev(HF_EV_DONE, 201.1, 0, -1);
}

/* Happy eyeballs: [::1] refuses; all_refused: so does 127.0.0.1 (no
 * connection at all), else 127.0.0.1 answers. */
static void s_eyeballs(int all_refused)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://localhost:8080/", 0);
    evd(HF_EV_CONNECT_START, 0.02, 0, -1, "[::1]:8080", "", "", 1);
    evd(HF_EV_CONNECT_FAILED, 0.07, 0, -1, "[::1]:8080", "", "connection refused", 111);
    if (all_refused) {
        evd(HF_EV_CONNECT_START, 0.08, 0, -1, LO, "", "", 2);
        evd(HF_EV_CONNECT_FAILED, 0.11, 0, -1, LO, "", "connection refused", 111);
        evd(HF_EV_ERROR, 0.12, 0, -1, "localhost:8080", "",
            "connect to localhost port 8080: all 2 attempts failed, the last to "
            "127.0.0.1:8080: connection refused after 0.1 ms", 7);
        ev(HF_EV_DONE, 0.13, 0, -1);
        return;
    }
    evd(HF_EV_CONNECT_START, 0.08, 0, -1, LO, "", "", 2);
    evd(HF_EV_TCP_ESTABLISHED, 0.14, 0, 0, LO, LOC, "", 60000)->tcp = tcp(12, 0);
    evd(HF_EV_REQUEST_HEAD, 0.16, 0, 0, "", "", "", 78);
    ev(HF_EV_FIRST_BYTE, 0.3, 0, 0);
    evd(HF_EV_RESPONSE_HEAD, 0.31, 0, 0, "", "", "HTTP/1.1 404 Not Found", 404);
    evd(HF_EV_RESPONSE_BODY, 0.33, 0, 0, "", "", "", 153);
    evd(HF_EV_POOLED, 0.34, 0, 0, LO, LOC, "", 0);
    ev(HF_EV_DONE, 0.35, 0, -1);
}

/* The name does not exist. */
static void s_nxdomain(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 0, -1, "", "", "GET http://nx.example.test/", 0);
    evd(HF_EV_DNS_START, 0.01, 0, -1, "", "", "nx.example.test", 0);
    evd(HF_EV_DNS_END, 0.61, 0, -1, "", "", "nx.example.test: NXDOMAIN from " NS, 0);
    evd(HF_EV_ERROR, 0.62, 0, -1, "nx.example.test:80", "",
        "resolve nx.example.test: NXDOMAIN from " NS " after 0.6 ms", 6);
    ev(HF_EV_DONE, 0.63, 0, -1);
}

/* A lookup given up: no answer, no end of it in the trace. */
static void s_dns_timeout(void)
{
    nev = 0;
    evd(HF_EV_QUEUED, 0, 4, -1, "", "", "GET http://slow.example.test/", 0);
    evd(HF_EV_DNS_START, 0.01, 4, -1, "", "", "slow.example.test", 0);
    evd(HF_EV_ERROR, 1000.2, 4, -1, "slow.example.test:80", "",
        "resolve slow.example.test: timed out after 1000.2 ms", 28);
    ev(HF_EV_DONE, 1000.3, 4, -1);
}

/* ---- checking ------------------------------------------------------------ */

static const char *golden_dir(void)
{
    static char dir[512];
    const char *env = getenv("HFLOW_GOLDEN_DIR");
    if (env)
        return env;
    /* __FILE__ is tests/unit/test_views.c as the Makefile names it */
    const char *slash = strrchr(__FILE__, '/');
    snprintf(dir, sizeof dir, "%.*sgolden", slash ? (int)(slash - __FILE__ + 1) : 0,
             __FILE__);
    return dir;
}

/* ESC as "\e", so the files can be read and diffed. */
static char *visible(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\033' ? 2 : 1;
    char *out = malloc(n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        if (*p == '\033') {
            *o++ = '\\';
            *o++ = 'e';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    return buf_take(&b);
}

/* Lines of s (modified in place). */
static size_t split_lines(char *s, char **v, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        v[n++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    return n;
}

/* A line diff (longest common subsequence): "-" expected, "+" got. */
static void print_diff(const char *want, const char *got)
{
    enum { MAXL = 400 };
    char *a = strdup(want), *b = strdup(got);
    char **av = calloc(MAXL, sizeof *av), **bv = calloc(MAXL, sizeof *bv);
    size_t na = split_lines(a, av, MAXL), nb = split_lines(b, bv, MAXL);
    unsigned short *l = calloc((na + 1) * (nb + 1), sizeof *l);
#define L(i, j) l[(i) * (nb + 1) + (j)]
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            L(i, j) = strcmp(av[i], bv[j]) == 0 ? L(i + 1, j + 1) + 1
                      : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && strcmp(av[i], bv[j]) == 0) {
            fprintf(stderr, "   %s\n", av[i]);
            i++, j++;
        } else if (j < nb && (i == na || L(i, j + 1) >= L(i + 1, j))) {
            fprintf(stderr, "  +%s\n", bv[j++]);
        } else {
            fprintf(stderr, "  -%s\n", av[i++]);
        }
    }
#undef L
    free(l);
    free(av);
    free(bv);
    free(a);
    free(b);
}

/* The width rule and the colour rule. */
static void check_shape(const char *name, const char *s, int width, int color)
{
    int line = 1, cols = 0, widest = 0, esc = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\033') {
            esc = 1;
            while (*p && *p != 'm')
                p++;
            if (!*p)
                break;
            continue;
        }
        if (*p == '\n') {
            line++;
            cols = 0;
            continue;
        }
        if (++cols > widest)
            widest = cols;
    }
    CHECK_MSG(widest <= width, "%s: a line of %d columns, wider than %d", name,
              widest, width);
    CHECK_MSG(esc == color, "%s: ESC bytes %s", name, esc ? "without colour"
                                                          : "missing with colour");
    CHECK_MSG(s[0] && s[strlen(s) - 1] == '\n', "%s: not ending in a newline", name);
}

static void golden(const char *name, char *got, int width, int color)
{
    CHECK_MSG(got != NULL, "%s: the view is NULL", name);
    if (!got)
        return;
    check_shape(name, got, width, color);
    char path[700];
    snprintf(path, sizeof path, "%s/%s.txt", golden_dir(), name);
    char *vis = visible(got);
    free(got);
    if (getenv("HFLOW_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        CHECK_MSG(f != NULL, "cannot write %s", path);
        if (f) {
            fputs(vis, f);
            fclose(f);
        }
        free(vis);
        return;
    }
    char *want = read_all(path);
    CHECK_MSG(want != NULL, "%s: no golden file %s (HFLOW_UPDATE_GOLDEN=1 makes it)",
              name, path);
    if (want) {
        int same = strcmp(want, vis) == 0;
        CHECK_MSG(same, "%s: differs from %s (- want, + got):", name, path);
        if (!same)
            print_diff(want, vis);
    }
    free(want);
    free(vis);
}

static char *flow(int width, int color)
{
    hf_view_opts o = {width, color};
    return hf_view_flow(evs, nev, &o);
}

/* ---- hf_response for the waterfall ------------------------------------- */

static void trace_push(hf_trace *tr, const hf_event *e)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? tr->cap * 2 : 32;
        tr->ev = realloc(tr->ev, tr->cap * sizeof *tr->ev);
    }
    trace_ev *t = &tr->ev[tr->n++];
    memset(t, 0, sizeof *t);
    t->type = e->type;
    t->mono = e->mono_ns;
    t->transfer = e->transfer;
    t->conn = e->conn;
    t->value = e->value;
    t->closed_by = e->closed_by;
    t->tcp = e->tcp;
    if (!tr->strs.len)
        buf_add(&tr->strs, "", 1);
    const char *s[3] = {e->peer, e->local, e->detail};
    uint32_t *off[3] = {&t->peer, &t->local, &t->detail};
    for (int i = 0; i < 3; i++) {
        *off[i] = 0;
        if (s[i] && *s[i]) {
            *off[i] = (uint32_t)tr->strs.len;
            buf_add(&tr->strs, s[i], strlen(s[i]) + 1);
        }
    }
}

/* A response as hf_send leaves it: the events of transfer xfer (up to its
 * DONE), times in ms. */
static hf_response *response(long xfer, const char *url, int status, const char *reason,
                             int64_t size, const double ms[HF_TIME__COUNT], hf_err err,
                             const char *errmsg, const char *connection)
{
    hf_response *r = calloc(1, sizeof *r);
    buf_init(&r->body, 1 << 20);
    uint64_t t0 = T0;
    for (size_t i = 0; i < nev; i++)
        if (evs[i].type == HF_EV_QUEUED && evs[i].transfer == xfer)
            t0 = evs[i].mono_ns;
    trace_init(&r->trace, t0);
    /* the trace is in time order */
    size_t order[96];
    for (size_t i = 0; i < nev; i++) {
        size_t j = i;
        while (j > 0 && evs[order[j - 1]].mono_ns > evs[i].mono_ns) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int done = 0;
    for (size_t k = 0; k < nev && !done; k++) {
        size_t i = order[k];
        if (evs[i].transfer != xfer)
            continue;
        trace_push(&r->trace, &evs[i]);
        done = evs[i].type == HF_EV_DONE;
        if (evs[i].conn >= 0)
            r->conn_id = evs[i].conn;
        if (evs[i].type == HF_EV_REUSED)
            r->reused = 1;
    }
    if (!r->conn_id) {
        int any = 0;
        for (size_t i = 0; i < nev; i++)
            any |= evs[i].transfer == xfer && evs[i].conn >= 0;
        if (!any)
            r->conn_id = -1;
    }
    r->url = strdup(url);
    r->status = status;
    r->minor = 1;
    r->reason = reason ? strdup(reason) : NULL;
    r->size_download = size;
    for (int i = 0; i < HF_TIME__COUNT; i++)
        r->t[i] = (uint64_t)(ms[i] * 1e6 + 0.5);
    r->err = err;
    r->errmsg = errmsg ? strdup(errmsg) : NULL;
    if (connection) {
        size_t vl = strlen(connection);
        r->hstore = malloc(11 + vl + 1);
        memcpy(r->hstore, "Connection", 11);
        memcpy(r->hstore + 11, connection, vl + 1);
        r->hdrs = calloc(1, sizeof *r->hdrs);
        r->hdrs[0].name = r->hstore;
        r->hdrs[0].value = r->hstore + 11;
        r->nhdrs = 1;
    }
    return r;
}

static void stat_golden(const char *name, hf_response *r, int width, int color)
{
    hf_view_opts o = {width, color};
    golden(name, hf_view_stat(r, &o), width, color);
}

/* ---- the cases ----------------------------------------------------------- */

static void test_flow(void)
{
    s_dns();
    golden("flow_dns_80", flow(0, 0), 80, 0);   /* 0: the default, 80 */
    golden("flow_dns_60", flow(60, 0), 60, 0);
    golden("flow_dns_120", flow(120, 0), 120, 0);
    golden("flow_dns_color", flow(80, 1), 80, 1);
    s_tls();
    golden("flow_tls_80", flow(80, 0), 80, 0);
    golden("flow_tls_60", flow(60, 0), 60, 0);
    s_reused();
    golden("flow_reused_80", flow(80, 0), 80, 0);
    s_hflow_closes();
    golden("flow_hflow_closes_80", flow(80, 0), 80, 0);
    s_server_closes(1);
    golden("flow_server_closes_80", flow(80, 0), 80, 0);
    s_rst();
    golden("flow_rst_80", flow(80, 0), 80, 0);
    s_eyeballs(1);
    golden("flow_refused_80", flow(80, 0), 80, 0);
    s_eyeballs(0);
    golden("flow_eyeballs_80", flow(80, 0), 80, 0);
    golden("flow_eyeballs_120", flow(120, 0), 120, 0);
    s_nxdomain();
    golden("flow_nxdomain_80", flow(80, 0), 80, 0);
    s_dns_timeout();
    golden("flow_dns_timeout_80", flow(80, 0), 80, 0);
}

/* Facts that must hold whatever the golden files say. */
static void test_flow_facts(void)
{
    s_dns();
    char *a = flow(80, 0);
    /* any order in, the same diagram out */
    for (size_t i = 0; i < nev / 2; i++) {
        hf_event t = evs[i];
        evs[i] = evs[nev - 1 - i];
        evs[nev - 1 - i] = t;
    }
    char *b = flow(80, 0);
    CHECK(a && b && strcmp(a, b) == 0);
    CHECK(a && strstr(a, "A? www.example.test"));
    CHECK(a && strstr(a, "SYN-ACK"));
    CHECK(a && strstr(a, "hflow closes first"));
    CHECK(a && strstr(a, "TIME_WAIT (client)"));
    /* FIN, its ACK, FIN, its ACK: in that order */
    const char *p = a ? strstr(a, "-- FIN --") : NULL;
    CHECK(p && (p = strstr(p, "ACK")) && (p = strstr(p, "FIN")) && strstr(p, "ACK"));
    free(a);
    free(b);
    s_reused();
    a = flow(80, 0);
    CHECK(a && strstr(a, "(connection #0 reused)"));
    CHECK(a && strstr(a, "POST /form?x=1 HTTP/1.1 (120 B)"));
    /* one handshake for two requests */
    p = a ? strstr(a, "SYN-ACK") : NULL;
    CHECK(p && !strstr(p + 1, "SYN-ACK"));
    free(a);
    s_server_closes(1);
    a = flow(80, 0);
    CHECK(a && strstr(a, "server closes first") && strstr(a, "TIME_WAIT (server)"));
    free(a);
    hf_view_opts o = {80, 0};
    a = hf_view_flow(evs, 0, &o);
    CHECK(a && a[0] == '\0');
    free(a);
    a = hf_view_flow(evs, nev, NULL);   /* defaults */
    CHECK(a && !strchr(a, '\033'));
    free(a);
    /* narrow widths never overflow */
    s_tls();
    for (int w = 20; w <= 130; w += 7) {
        a = flow(w, w % 2);
        char name[32];
        snprintf(name, sizeof name, "flow_tls_w%d", w);
        check_shape(name, a ? a : "\n", w, w % 2);
        free(a);
    }
}

static void test_stat(void)
{
    hf_response *r;
    s_dns();
    const double http[HF_TIME__COUNT] = {0.46, 0.53, 0.56, 1.9, 2.32, 0, 0.56};
    r = response(0, "http://www.example.test:8080/index.html", 200, "OK", 1256, http,
                 HF_OK, NULL, NULL);
    stat_golden("stat_http_80", r, 80, 0);
    stat_golden("stat_http_color", r, 80, 1);
    hf_response_free(r);

    s_tls();
    const double tls[HF_TIME__COUNT] = {0.03, 0.11, 2.95, 4.66, 4.82, 2.9, 2.95};
    r = response(3, "https://secure.example.test/", 200, "OK", 5120, tls, HF_OK, NULL,
                 NULL);
    stat_golden("stat_https_80", r, 80, 0);
    stat_golden("stat_https_60", r, 60, 0);
    stat_golden("stat_https_120", r, 120, 0);
    hf_response_free(r);

    s_reused();
    const double reused[HF_TIME__COUNT] = {0.01, 0.01, 0.05, 0.5, 0.55, 0, 0.06};
    r = response(1, "http://127.0.0.1:8080/form?x=1", 201, "Created", 0, reused, HF_OK,
                 NULL, NULL);
    stat_golden("stat_reused_80", r, 80, 0);
    hf_response_free(r);

    s_eyeballs(1);
    const double refused[HF_TIME__COUNT] = {0.02, 0, 0, 0, 0.12, 0, 0};
    r = response(0, "http://localhost:8080/", 0, NULL, 0, refused, HF_E_CONNECT,
                 "connect to localhost port 8080: all 2 attempts failed, the last to "
                 "127.0.0.1:8080: connection refused after 0.1 ms", NULL);
    stat_golden("stat_refused_80", r, 80, 0);
    hf_response_free(r);

    /* Connection: close: at the transfer's end the server's FIN is yet to
     * come; with a close-delimited body it came during the transfer */
    s_server_closes(0);
    const double close[HF_TIME__COUNT] = {0.01, 0.09, 0.11, 1.46, 1.88, 0, 0.12};
    r = response(0, "http://127.0.0.1:8080/close-after", 200, "OK", 25, close, HF_OK,
                 NULL, "close");
    stat_golden("stat_close_pending_80", r, 80, 0);
    hf_response_free(r);
    s_server_closes(1);
    /* the teardown before DONE, as for a close-delimited body */
    for (size_t i = 0; i < nev; i++)
        if (evs[i].type == HF_EV_DONE)
            evs[i].mono_ns = T0 + 2000000;
    r = response(0, "http://127.0.0.1:8080/close-after", 200, "OK", 25, close, HF_OK,
                 NULL, "close");
    stat_golden("stat_closed_80", r, 80, 0);
    hf_response_free(r);

    CHECK(hf_view_stat(NULL, NULL) == NULL);
}

int main(void)
{
    test_flow();
    test_flow_facts();
    test_stat();
    return T_END();
}
