/* views.c -- the flow drawn for people: a sequence diagram of one
 * connection (hf_view_flow, hflow --flow) and httpstat's waterfall of one
 * transfer (hf_view_stat, hflow --stat).
 *
 * Both views draw on a small canvas: lines of exactly `width` cells, each
 * cell a byte and a style.  Text is made from it at the end, so colour
 * (ANSI, only when asked) never counts against the width, and no line can
 * come out wider than asked.
 *
 * The diagram is made in two steps.  The events become rows -- (kind,
 * from-column, to-column, label, time, note) -- sorted by time; then the
 * rows are laid out: a column per party, an arrow or a line of text per
 * row, its time and note at the right.  Only the public API is used: the
 * views see what an embedding program sees. */
#include "hflow.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_MAX ((size_t)1 << 30)  /* a sanity cap: 10,000 requests on
                                     * one connection are 5 MB of diagram */

/* ---- styles -------------------------------------------------------------- */

enum {
    S_NONE = 0, S_DIM, S_BOLD, S_DNS, S_TCP, S_TLS, S_OUT, S_IN, S_BAD,
    S_NOTE, S__COUNT
};

static const char *const sgr[S__COUNT] = {
    "", "\033[2m", "\033[1m", "\033[36m", "\033[33m", "\033[35m",
    "\033[32m", "\033[1;34m", "\033[1;31m", "\033[2;3m",
};

/* ---- the canvas -------------------------------------------------------- */

typedef struct canvas {
    int w;
    char *ch;                /* lines * w cells */
    unsigned char *st;
    size_t lines, cap;
    int oom;
} canvas;

static void cv_init(canvas *cv, int w)
{
    memset(cv, 0, sizeof *cv);
    cv->w = w;
}

static void cv_free(canvas *cv)
{
    free(cv->ch);
    free(cv->st);
    cv->ch = NULL;
    cv->st = NULL;
}

/* A new blank line; its number, or -1 when memory ran out. */
static long cv_line(canvas *cv)
{
    if (cv->oom)
        return -1;
    if (cv->lines == cv->cap) {
        size_t cap = cv->cap ? cv->cap * 2 : 32;
        char *ch = realloc(cv->ch, cap * (size_t)cv->w);
        if (ch)
            cv->ch = ch;
        unsigned char *st = realloc(cv->st, cap * (size_t)cv->w);
        if (st)
            cv->st = st;
        if (!ch || !st) {
            cv->oom = 1;
            return -1;
        }
        cv->cap = cap;
    }
    size_t i = cv->lines++;
    memset(cv->ch + i * (size_t)cv->w, ' ', (size_t)cv->w);
    memset(cv->st + i * (size_t)cv->w, S_NONE, (size_t)cv->w);
    return (long)i;
}

/* Put n bytes of s at x of line y (clipped to the line). */
static void cv_putn(canvas *cv, long y, int x, const char *s, size_t n, int style)
{
    if (y < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        long cx = (long)x + (long)i;
        if (cx < 0)
            continue;
        if (cx >= cv->w)
            break;
        unsigned char c = (unsigned char)s[i];
        cv->ch[(size_t)y * (size_t)cv->w + (size_t)cx] =
            c < 0x20 || c >= 0x7f ? '?' : (char)c;
        cv->st[(size_t)y * (size_t)cv->w + (size_t)cx] = (unsigned char)style;
    }
}

static void cv_put(canvas *cv, long y, int x, const char *s, int style)
{
    cv_putn(cv, y, x, s, strlen(s), style);
}

/* The text: trailing blanks dropped, SGR codes where the style changes
 * (only with color). */
static char *cv_text(canvas *cv, int color)
{
    if (cv->oom)
        return NULL;
    buf b;
    buf_init(&b, VIEW_MAX);
    int rc = 0;
    for (size_t y = 0; y < cv->lines && !rc; y++) {
        const char *ch = cv->ch + y * (size_t)cv->w;
        const unsigned char *st = cv->st + y * (size_t)cv->w;
        int end = cv->w;
        while (end > 0 && ch[end - 1] == ' ' && (!color || st[end - 1] == S_NONE))
            end--;
        int cur = S_NONE;
        for (int x = 0; x < end && !rc; x++) {
            int s = color ? st[x] : S_NONE;
            if (s != cur) {
                if (cur != S_NONE)
                    rc = buf_adds(&b, "\033[0m");
                if (!rc && s != S_NONE)
                    rc = buf_adds(&b, sgr[s]);
                cur = s;
            }
            if (!rc)
                rc = buf_add(&b, &ch[x], 1);
        }
        if (!rc && cur != S_NONE)
            rc = buf_adds(&b, "\033[0m");
        if (!rc)
            rc = buf_add(&b, "\n", 1);
    }
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

/* ---- small formatting helpers -------------------------------------------- */

/* "0.52 ms", "12.3 ms", "345 ms", "2.50 s" */
static void fmt_dur(char *out, size_t n, uint64_t ns, const char *sep)
{
    double ms = (double)ns / 1e6;
    if (ms < 10)
        snprintf(out, n, "%.2f%sms", ms, sep);
    else if (ms < 100)
        snprintf(out, n, "%.1f%sms", ms, sep);
    else if (ms < 10000)
        snprintf(out, n, "%.0f%sms", ms, sep);
    else
        snprintf(out, n, "%.2f%ss", ms / 1000, sep);
}

/* s (len bytes) into out, cut to fit n bytes; NUL-terminated. */
static void scopy(char *out, size_t n, const char *s, size_t len)
{
    if (!n)
        return;
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

/* "1,256 B" */
static void fmt_bytes(char *out, size_t n, int64_t v)
{
    char d[32];
    snprintf(d, sizeof d, "%lld", (long long)(v < 0 ? 0 : v));
    size_t len = strlen(d), o = 0;
    char r[48];
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            r[o++] = ',';
        r[o++] = d[i];
    }
    r[o++] = ' ';
    r[o++] = 'B';
    r[o] = '\0';
    scopy(out, n, r, o);
}

/* Copy s into out (n bytes), cut to at most max characters with ".." at
 * the end when it is longer. */
static void fit(char *out, size_t n, const char *s, int max)
{
    size_t len = strlen(s);
    if (max < 0)
        max = 0;
    if (len <= (size_t)max || max <= 2) {
        scopy(out, n, s, len < (size_t)max ? len : (size_t)max);
    } else {
        scopy(out, n, s, (size_t)max - 2);
        size_t o = strlen(out);
        scopy(out + o, n - o, "..", 2);
    }
}

/* The value of "key=" in a detail of space-separated words, up to the
 * next space, into out; 0 if absent. */
static int word_after(const char *s, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = s; (p = strstr(p, key)) != NULL; p += kl) {
        if (p != s && p[-1] != ' ' && p[-1] != ',')
            continue;
        const char *v = p + kl;
        size_t vl = strcspn(v, " ,");
        snprintf(out, n, "%.*s", (int)vl, v);
        return 1;
    }
    return 0;
}

/* ---- the diagram: rows ----------------------------------------------------- */

enum { COL_CLIENT = 0, COL_DNS, COL_SERVER, COL__N };
enum { R_ARROW, R_TEXT };

typedef struct row {
    int kind;
    int from, to;            /* columns; R_TEXT: from only */
    char label[320];
    int timed;               /* shows its time */
    uint64_t t;              /* ns since the first event */
    char note[96];
    int style;
    int note_style;
    uint64_t key;            /* sort: time, then the order made */
    size_t seq;
    int dns_phase;           /* drawn while the DNS column lives */
} row;

typedef struct flow {
    const hf_event **ev;     /* sorted by time */
    size_t n;
    uint64_t t0;             /* the first event, CLOCK_MONOTONIC */
    char col[COL__N][96];    /* "client 127.0.0.1:5000", ... */
    char role[COL__N][16];   /* "client" */
    char addr[COL__N][80];   /* "127.0.0.1:5000", or "" */
    char server_addr[80];    /* the web server's ip:port */
    char dns_addr[80];
    int has_dns;
    long conn;               /* #N, or -1 */
    int nattempts;
    int nrequests;
    int connected;           /* a TCP connection exists */
    int closed, closed_by, pooled_last;
    int first_fin;           /* 0, COL_CLIENT + 1 or COL_SERVER + 1 */
    struct xinfo *x;         /* what each transfer did so far */
    size_t nx, capx;
    row *rows;
    size_t nrows, cap;
    int oom;
} flow;

/* A transfer, as its events go by (in time order). */
typedef struct xinfo {
    long id;
    const char *queued;      /* QUEUED's "GET http://h/p" */
    const char *dns_name;    /* DNS_START's name, and when */
    uint64_t dns_start;
    int dns_asked;           /* queries drawn */
    int dns_over;            /* an answer or the end of the lookup came */
    uint64_t sent;           /* the request's last byte went */
    uint64_t first_byte;
    int heads;               /* response heads since the request */
} xinfo;

/* The transfer's record (made at its first event); NULL on OOM.  The one
 * wanted is nearly always among the last made. */
static xinfo *xi(flow *f, long id)
{
    for (size_t i = f->nx; i-- > 0;)
        if (f->x[i].id == id)
            return &f->x[i];
    if (f->nx == f->capx) {
        size_t cap = f->capx ? f->capx * 2 : 8;
        xinfo *p = realloc(f->x, cap * sizeof *p);
        if (!p) {
            f->oom = 1;
            return NULL;
        }
        f->x = p;
        f->capx = cap;
    }
    xinfo *x = &f->x[f->nx++];
    memset(x, 0, sizeof *x);
    x->id = id;
    x->queued = x->dns_name = "";
    return x;
}

static row *add_row(flow *f, int kind, int from, int to, uint64_t key, int timed)
{
    if (f->oom)
        return NULL;
    if (f->nrows == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        row *p = realloc(f->rows, cap * sizeof *p);
        if (!p) {
            f->oom = 1;
            return NULL;
        }
        f->rows = p;
        f->cap = cap;
    }
    row *r = &f->rows[f->nrows];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->from = from;
    r->to = to;
    r->key = key;
    r->seq = f->nrows++;
    r->timed = timed;
    r->t = key >= f->t0 ? key - f->t0 : 0;
    return r;
}

static row *arrow(flow *f, int from, int to, uint64_t when, int style,
                  const char *label)
{
    row *r = add_row(f, R_ARROW, from, to, when, 1);
    if (r) {
        r->style = style;
        snprintf(r->label, sizeof r->label, "%s", label);
    }
    return r;
}

static row *text(flow *f, uint64_t when, int style, const char *label)
{
    row *r = add_row(f, R_TEXT, COL_CLIENT, COL_CLIENT, when, 1);
    if (r) {
        r->style = style;
        snprintf(r->label, sizeof r->label, "%s", label);
    }
    return r;
}

/* The ACK that TCP sends by itself for a FIN: not observed, so no time;
 * it sorts right after its FIN. */
static void implied_ack(flow *f, int from, int to, uint64_t when)
{
    row *r = add_row(f, R_ARROW, from, to, when, 0);
    if (r) {
        r->style = S_DIM;
        r->note_style = S_DIM;
        snprintf(r->label, sizeof r->label, "ACK");
        snprintf(r->note, sizeof r->note, "implied");
    }
}

static int cmp_ev(const void *a, const void *b)
{
    const hf_event *x = *(const hf_event *const *)a;
    const hf_event *y = *(const hf_event *const *)b;
    if (x->mono_ns != y->mono_ns)
        return x->mono_ns < y->mono_ns ? -1 : 1;
    return x < y ? -1 : x > y;   /* stable: the order given */
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "GET /path?q HTTP/1.1" from a QUEUED detail. */
static void request_line(const char *queued, char *out, size_t n)
{
    size_t ml = strcspn(queued, " ");
    const char *url = queued + ml + (queued[ml] == ' ');
    const char *p = strstr(url, "://");
    const char *target = "/";
    if (p) {
        p += 3;
        p += strcspn(p, "/?#");
        if (*p == '/')
            target = p;
        else if (*p == '?')
            target = p; /* "/?q" below */
    }
    size_t tl = strcspn(target, "#");
    snprintf(out, n, "%.*s %s%.*s HTTP/1.1", (int)(ml ? ml : 3),
             ml ? queued : "GET", *target == '?' ? "/" : "", (int)tl, target);
}

/* A DNS answer's detail "A 127.0.0.1 ttl=300 from=dns udp cname=a -> b"
 * as a label "A 127.0.0.1 (ttl 300, via b)", and its source ("dns",
 * "cache", "hosts", "system") in from.  transport: add ", tcp" for an
 * answer that came over TCP. */
static void dns_answer_label(const char *d, char *out, size_t n, char *from,
                             size_t fn, int transport)
{
    char ttl[24] = "", canon[160] = "";
    const char *stop = strstr(d, " ttl=");
    size_t head = stop ? (size_t)(stop - d) : strcspn(d, "=");
    word_after(d, "ttl=", ttl, sizeof ttl);
    if (!word_after(d, "from=", from, fn))
        scopy(from, fn, "?", 1);
    int tcp = strstr(d, "from=dns tcp") != NULL;
    const char *cn = strstr(d, " cname=");
    if (cn) {
        /* the chain ends at the canonical name, the owner of the address */
        const char *last = cn + 7;
        for (const char *p = last; (p = strstr(p, " -> ")) != NULL; p += 4)
            last = p + 4;
        scopy(canon, sizeof canon, last, strcspn(last, " "));
    }
    /* a TTL means something for answers from DNS (and its cache) */
    int ttl_shown = strcmp(from, "hosts") != 0 && strcmp(from, "system") != 0;
    char extra[240];
    snprintf(extra, sizeof extra, "%s%s%s%s%s", ttl_shown ? "ttl " : "",
             ttl_shown ? (ttl[0] ? ttl : "?") : "", transport && tcp ? ", tcp" : "",
             canon[0] ? ", via " : "", canon);
    const char *x = extra[0] == ',' ? extra + 2 : extra;
    if (*x)
        snprintf(out, n, "%.*s (%s)", (int)head, d, x);
    else
        snprintf(out, n, "%.*s", (int)head, d);
}

/* The server named in a resolver's error ("... from 127.0.0.1:53"). */
static int dns_server_in(const char *why, char *out, size_t n)
{
    for (const char *p = why; (p = strstr(p, " from ")) != NULL; p += 6) {
        const char *a = p + 6;
        size_t al = strcspn(a, " ,;)");
        if (al && memchr(a, ':', al) && (a[0] == '[' || (a[0] >= '0' && a[0] <= '9'))) {
            snprintf(out, n, "%.*s", (int)al, a);
            return 1;
        }
    }
    return 0;
}

static void fmt_note_dur(char *out, size_t n, const char *what, uint64_t ns)
{
    char d[32];
    fmt_dur(d, sizeof d, ns, " ");
    snprintf(out, n, "%s%s", what, d);
}

/* The parties: who the columns are. */
static void find_columns(flow *f)
{
    const char *local = "", *server = "", *dns = "", *err_peer = "";
    const char *attempt = NULL;
    int attempts_agree = 1;
    for (size_t i = 0; i < f->n; i++) {
        const hf_event *e = f->ev[i];
        if (e->conn >= 0 && f->conn < 0)
            f->conn = e->conn;
        switch (e->type) {
        case HF_EV_TCP_ESTABLISHED:
        case HF_EV_REUSED:
            f->connected = 1;
            /* fall through */
        case HF_EV_POOLED:
        case HF_EV_FIN_SENT:
        case HF_EV_CLOSED:
            if (!*local && e->local[0])
                local = e->local;
            if (e->type != HF_EV_FIN_SENT && !*server && e->peer[0])
                server = e->peer;
            break;
        case HF_EV_CONNECT_START:
            f->nattempts++;
            if (attempt && strcmp(attempt, e->peer) != 0)
                attempts_agree = 0;
            if (!attempt)
                attempt = e->peer;
            break;
        case HF_EV_DNS_ANSWER: {
            char from[24];
            if (!*dns && e->peer[0] && word_after(e->detail, "from=", from, sizeof from) &&
                strcmp(from, "dns") == 0)
                dns = e->peer;
            break;
        }
        case HF_EV_DNS_END:
            if (!*dns && e->detail[0] && dns_server_in(e->detail, f->dns_addr,
                                                        sizeof f->dns_addr))
                dns = f->dns_addr;
            break;
        case HF_EV_ERROR:
            if (!*err_peer)
                err_peer = e->peer;
            break;
        case HF_EV_REQUEST_HEAD:
            f->nrequests++;
            break;
        default:
            break;
        }
    }
    if (!*server && attempt && attempts_agree)
        server = attempt;
    if (!*server)
        server = err_peer;
    snprintf(f->server_addr, sizeof f->server_addr, "%s", server);
    if (dns != f->dns_addr)
        snprintf(f->dns_addr, sizeof f->dns_addr, "%s", dns);
    f->has_dns = f->dns_addr[0] != '\0';
    snprintf(f->col[COL_CLIENT], sizeof f->col[0], "client%s%s", *local ? " " : "", local);
    snprintf(f->col[COL_DNS], sizeof f->col[0], "DNS %s", f->dns_addr);
    snprintf(f->col[COL_SERVER], sizeof f->col[0], "server%s%s", *server ? " " : "", server);
    static const char *const roles[COL__N] = {"client", "DNS", "server"};
    const char *addrs[COL__N] = {local, f->dns_addr, server};
    for (int c = 0; c < COL__N; c++) {
        snprintf(f->role[c], sizeof f->role[c], "%s", roles[c]);
        scopy(f->addr[c], sizeof f->addr[c], addrs[c], strlen(addrs[c]));
    }
}

/* A DNS answer: from a server, the query and the answer as arrows (the
 * query sent when the answer came less the query's duration); from the
 * cache, the hosts file or the system resolver, a line at the client. */
static void dns_answer_rows(flow *f, xinfo *x, const hf_event *e)
{
    char l[320], from[24];
    uint64_t at = e->mono_ns;
    row *r;
    dns_answer_label(e->detail, l, sizeof l, from, sizeof from, 1);
    if (strcmp(from, "dns") == 0 && f->has_dns && strcmp(e->peer, f->dns_addr) == 0) {
        char q[200];
        snprintf(q, sizeof q, "%.*s? %s", (int)strcspn(e->detail, " "), e->detail,
                 x->dns_name);
        x->dns_asked++;
        uint64_t sent = e->value > 0 && (uint64_t)e->value <= at - f->t0
                            ? at - (uint64_t)e->value : at;
        if ((r = arrow(f, COL_CLIENT, COL_DNS, sent, S_DNS, q)))
            r->dns_phase = 1;
        if ((r = arrow(f, COL_DNS, COL_CLIENT, at, S_DNS, l))) {
            r->dns_phase = 1;
            if (e->value > 0)
                fmt_note_dur(r->note, sizeof r->note, "in ", (uint64_t)e->value);
        }
        return;
    }
    /* "from=hosts file": the word after "from=" is "hosts" */
    char t[360];
    snprintf(t, sizeof t, "%s from %s", l,
             strcmp(from, "hosts") == 0 ? "the hosts file"
             : strcmp(from, "system") == 0 ? "the system resolver" : from);
    if ((r = text(f, at, S_DNS, t)))
        r->dns_phase = f->has_dns;
}

/* The end of a lookup that failed ("name: NXDOMAIN from 127.0.0.1:53"):
 * the query (when no answer was drawn) and the failure, as an arrow when
 * the server answered. */
static void dns_end_rows(flow *f, xinfo *x, const hf_event *e)
{
    char l[320], server[80] = "";
    uint64_t at = e->mono_ns;
    row *r;
    const char *cause = e->detail;
    const char *colon = strstr(cause, ": ");
    if (colon)
        cause = colon + 2;
    int ours = dns_server_in(cause, server, sizeof server) && f->has_dns &&
               strcmp(server, f->dns_addr) == 0;
    if (ours && !x->dns_asked) {
        /* which types were asked is not in the trace */
        char q[200];
        snprintf(q, sizeof q, "A/AAAA? %s", x->dns_name);
        if ((r = arrow(f, COL_CLIENT, COL_DNS, x->dns_start ? x->dns_start : at,
                       S_DNS, q)))
            r->dns_phase = 1;
    }
    if (ours && strncmp(cause, "no answer", 9) != 0) {
        const char *from = strstr(cause, " from ");
        snprintf(l, sizeof l, "%.*s", (int)(from ? (size_t)(from - cause)
                                                 : strlen(cause)), cause);
        if ((r = arrow(f, COL_DNS, COL_CLIENT, at, S_BAD, l)))
            r->dns_phase = 1;
    } else {
        snprintf(l, sizeof l, "DNS: %s", cause);
        if ((r = text(f, at, S_BAD, l)))
            r->dns_phase = f->has_dns;
    }
}

/* One event, as rows. */
static void event_rows(flow *f, const hf_event *e)
{
    char l[320];
    uint64_t at = e->mono_ns;
    row *r;
    xinfo *x = xi(f, e->transfer);
    if (!x)
        return;
    switch (e->type) {
    case HF_EV_REUSED:
        snprintf(l, sizeof l, "(connection #%ld reused)", e->conn);
        text(f, at, S_NOTE, l);
        break;
    case HF_EV_DNS_ANSWER:
        x->dns_over = 1;
        dns_answer_rows(f, x, e);
        break;
    case HF_EV_DNS_END:
        x->dns_over = 1;
        if (e->detail[0])
            dns_end_rows(f, x, e);
        break;
    case HF_EV_CONNECT_START:
        if (f->server_addr[0] && strcmp(e->peer, f->server_addr) != 0)
            snprintf(l, sizeof l, "SYN to %s", e->peer);
        else
            snprintf(l, sizeof l, "SYN");
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_TCP, l);
        if (r && f->nattempts > 1)
            snprintf(r->note, sizeof r->note, "attempt %lld", (long long)e->value);
        break;
    case HF_EV_CONNECT_FAILED: {
        int other = f->server_addr[0] && strcmp(e->peer, f->server_addr) != 0;
        if (e->value == ECONNREFUSED) {
            snprintf(l, sizeof l, "RST%s%s (refused)", other ? " from " : "",
                     other ? e->peer : "");
            arrow(f, COL_SERVER, COL_CLIENT, at, S_BAD, l);
        } else {
            snprintf(l, sizeof l, "connect to %s: %s", e->peer,
                     e->detail[0] ? e->detail : "failed");
            text(f, at, S_BAD, l);
        }
        break;
    }
    case HF_EV_TCP_ESTABLISHED:
        r = arrow(f, COL_SERVER, COL_CLIENT, at, S_TCP, "SYN-ACK");
        if (r && e->tcp.valid)
            fmt_note_dur(r->note, sizeof r->note, "rtt ", (uint64_t)e->tcp.rtt_us * 1000);
        /* the ACK went alone, or rides on the first bytes sent (the
         * default: see connect.c) */
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_TCP,
                  strcmp(e->detail, "ACK with the first bytes") == 0
                      ? "ACK (in the next segment)" : "ACK");
        if (r)
            snprintf(r->note, sizeof r->note, "connected");
        break;
    case HF_EV_TLS_START: {
        /* "SNI a.test, ALPN http/1.1": the name on the arrow, ALPN noted */
        char sni[200] = "";
        const char *a = strstr(e->detail, "ALPN ");
        if (strncmp(e->detail, "SNI ", 4) == 0 && strncmp(e->detail, "SNI none", 8) != 0)
            scopy(sni, sizeof sni, e->detail + 4, strcspn(e->detail + 4, ","));
        snprintf(l, sizeof l, "TLS ClientHello%s%s%s", sni[0] ? " (SNI " : "", sni,
                 sni[0] ? ")" : "");
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_TLS, l);
        if (r && a)
            snprintf(r->note, sizeof r->note, "ALPN %.*s", (int)strcspn(a + 5, ","), a + 5);
        break;
    }
    case HF_EV_TLS_END: {
        /* "TLSv1.3, cipher X, group Y, ALPN h, full handshake, certificate ok" */
        char alpn[40] = "", cert[120] = "";
        size_t vl = strcspn(e->detail, ",");
        const char *a = strstr(e->detail, "ALPN ");
        if (a)
            snprintf(alpn, sizeof alpn, "%.*s", (int)strcspn(a + 5, ","), a + 5);
        if (strcmp(alpn, "none") == 0)
            alpn[0] = '\0';
        const char *c = strstr(e->detail, "certificate ");
        if (c)
            snprintf(cert, sizeof cert, "%s", c + 12);
        snprintf(l, sizeof l, "ServerHello .. Finished (%.*s%s%s%s)", (int)vl, e->detail,
                 alpn[0] ? ", " : "", alpn,
                 strstr(e->detail, "session resumed") ? ", resumed" : "");
        arrow(f, COL_SERVER, COL_CLIENT, at, S_TLS, l);
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_TLS, "Finished");
        if (r && cert[0])
            snprintf(r->note, sizeof r->note, "%s%s", strcmp(cert, "ok") == 0 ? "" : "cert: ",
                     strcmp(cert, "ok") == 0 ? "verified" : cert);
        break;
    }
    case HF_EV_TUNNEL_START: /* "CONNECT host:port" or "SOCKS5h host:port" */
        snprintf(l, sizeof l, "%s", e->detail);
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_OUT, l);
        if (r && e->peer[0])
            snprintf(r->note, sizeof r->note, "to proxy %s", e->peer);
        break;
    case HF_EV_TUNNEL_END:
        snprintf(l, sizeof l, "%s", e->detail);
        r = arrow(f, COL_SERVER, COL_CLIENT, at, S_IN, l);
        if (r)
            fmt_note_dur(r->note, sizeof r->note, "tunnel up in ", (uint64_t)e->value);
        break;
    case HF_EV_REQUEST_HEAD: {
        char rl[260], sz[32];
        request_line(x->queued, rl, sizeof rl);
        x->sent = at;
        x->heads = 0;
        fmt_bytes(sz, sizeof sz, e->value);
        snprintf(l, sizeof l, "%s (%s)", rl, sz);
        arrow(f, COL_CLIENT, COL_SERVER, at, S_OUT, l);
        break;
    }
    case HF_EV_REQUEST_BODY: {
        char sz[32];
        fmt_bytes(sz, sizeof sz, e->value);
        snprintf(l, sizeof l, "body %s", sz);
        arrow(f, COL_CLIENT, COL_SERVER, at, S_OUT, l);
        x->sent = at;
        break;
    }
    case HF_EV_RESPONSE_HEAD:
        snprintf(l, sizeof l, "%s", e->detail[0] ? e->detail : "response");
        r = arrow(f, COL_SERVER, COL_CLIENT, at, S_IN, l);
        /* ttfb: the first response byte after the last request byte, on
         * the request's first response head */
        if (r && !x->heads && x->sent && x->first_byte >= x->sent)
            fmt_note_dur(r->note, sizeof r->note, "ttfb ", x->first_byte - x->sent);
        x->heads++;
        break;
    case HF_EV_RESPONSE_BODY: {
        char sz[32];
        fmt_bytes(sz, sizeof sz, e->value);
        snprintf(l, sizeof l, "body %s", sz);
        arrow(f, COL_SERVER, COL_CLIENT, at, S_IN, l);
        break;
    }
    case HF_EV_POOLED:
        snprintf(l, sizeof l, "(connection #%ld pooled)", e->conn);
        text(f, at, S_NOTE, l);
        break;
    case HF_EV_FIN_SENT:
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_TCP, "FIN");
        if (r && !f->first_fin) {
            f->first_fin = COL_CLIENT + 1;
            snprintf(r->note, sizeof r->note, "hflow closes first");
        }
        implied_ack(f, COL_SERVER, COL_CLIENT, at);
        break;
    case HF_EV_FIN_RECEIVED:
        r = arrow(f, COL_SERVER, COL_CLIENT, at, S_TCP, "FIN");
        if (r && !f->first_fin) {
            f->first_fin = COL_SERVER + 1;
            snprintf(r->note, sizeof r->note, "server closes first");
        }
        implied_ack(f, COL_CLIENT, COL_SERVER, at);
        break;
    case HF_EV_RST_SENT:
        r = arrow(f, COL_CLIENT, COL_SERVER, at, S_BAD, "RST");
        if (r)
            snprintf(r->note, sizeof r->note, "%s", e->detail[0] ? e->detail : "hflow resets");
        break;
    case HF_EV_RST_RECEIVED:
        r = arrow(f, COL_SERVER, COL_CLIENT, at, S_BAD, "RST");
        if (r)
            snprintf(r->note, sizeof r->note, "server resets");
        break;
    case HF_EV_CLOSED:
        f->closed = 1;
        f->closed_by = e->closed_by;
        snprintf(l, sizeof l, "closed%s%s", e->detail[0] ? ": " : "", e->detail);
        r = text(f, at, S_NOTE, l);
        if (r && e->tcp.valid)
            snprintf(r->note, sizeof r->note, "retrans %u", e->tcp.retrans);
        break;
    case HF_EV_ERROR:
        snprintf(l, sizeof l, "error: %s", e->detail[0] ? e->detail
                                         : hf_strerror((hf_err)e->value));
        text(f, at, S_BAD, l);
        break;
    case HF_EV_QUEUED:
        x->queued = e->detail;
        break;
    case HF_EV_DNS_START:
        x->dns_name = e->detail;
        x->dns_start = at;
        break;
    case HF_EV_FIRST_BYTE:
        x->first_byte = at;
        break;
    case HF_EV_DONE:
    default:
        break;
    }
    if (e->type == HF_EV_POOLED)
        f->pooled_last = 1;
    else if (e->type != HF_EV_DONE && e->type != HF_EV_QUEUED)
        f->pooled_last = 0;
}

/* ---- the diagram: layout ----------------------------------------------- */

typedef struct layout {
    int w;                   /* the whole width */
    int d;                   /* the diagram's width; time and notes follow */
    int tw, nw;              /* the time and note columns */
    int x[COL__N];           /* the lifelines */
} layout;

/* Split s into lines of at most w characters (at spaces when it can);
 * returns the number of lines, each (start, length) in part[]. */
static int wrap(const char *s, int w, size_t part[][2], int max)
{
    size_t len = strlen(s), pos = 0;
    int n = 0;
    if (w < 1)
        w = 1;
    while (pos < len && n < max) {
        while (pos < len && s[pos] == ' ' && n > 0)
            pos++;
        size_t take = len - pos;
        if (take > (size_t)w) {
            take = (size_t)w;
            size_t sp = take;
            while (sp > 0 && s[pos + sp] != ' ')
                sp--;
            if (sp > 0)
                take = sp;
        }
        if (n == max - 1 && len - pos > take) {
            part[n][0] = pos;          /* the last line takes the rest, cut */
            part[n][1] = len - pos;
            return n + 1;
        }
        part[n][0] = pos;
        part[n][1] = take;
        pos += take;
        n++;
    }
    if (!n) {
        part[0][0] = 0;
        part[0][1] = 0;
        n = 1;
    }
    return n;
}

static void lifelines(canvas *cv, long y, const layout *lo, int dns_alive)
{
    for (int c = 0; c < COL__N; c++) {
        if (lo->x[c] < 0 || (c == COL_DNS && !dns_alive))
            continue;
        cv_put(cv, y, lo->x[c], "|", S_NONE);
    }
}

static void draw_arrow(canvas *cv, long y, int xa, int xb, const char *label, int style)
{
    char l[320];
    int lo = xa < xb ? xa : xb, hi = xa < xb ? xb : xa;
    for (int x = lo + 1; x < hi; x++)
        cv_put(cv, y, x, "-", style);
    fit(l, sizeof l, label, hi - lo - 7);
    int L = (int)strlen(l);
    if (xa < xb) {                  /* |-- label ----->| */
        cv_put(cv, y, xb - 1, ">", style);
        if (L) {
            cv_put(cv, y, xa + 3, " ", style);
            cv_put(cv, y, xa + 4, l, style);
            cv_put(cv, y, xa + 4 + L, " ", style);
        }
    } else {                        /* |<----- label --| */
        cv_put(cv, y, xb + 1, "<", style);
        if (L) {
            cv_put(cv, y, xa - 4 - L, " ", style);
            cv_put(cv, y, xa - 3 - L, l, style);
            cv_put(cv, y, xa - 3, " ", style);
        }
    }
}

/* Text placed between the client's lifeline and the server's. */
static void draw_text(canvas *cv, long y, const layout *lo, const char *s, size_t n,
                      int style)
{
    int x = lo->x[COL_CLIENT] + 3;
    int room = lo->x[COL_SERVER] - 2 - x;
    if (room < 1)
        return;
    cv_putn(cv, y, x, s, n < (size_t)room ? n : (size_t)room, style);
}

/* Where each column's name goes on a header line: the client's at the
 * left edge; the server's ending at its lifeline, or further right (into
 * the time column) when that is needed; the DNS server's centred on its
 * lifeline, or moved to fit between the two.  0 when they cannot fit. */
static int place(const layout *lo, char names[][96], int pos[])
{
    int len[COL__N];
    for (int c = 0; c < COL__N; c++) {
        pos[c] = -1;
        len[c] = (int)strlen(names[c]);
    }
    int client_end = -2;
    if (len[COL_CLIENT]) {
        pos[COL_CLIENT] = 0;
        client_end = len[COL_CLIENT] - 1;
    }
    int server_at = lo->w + 1;
    if (len[COL_SERVER]) {
        int p = lo->x[COL_SERVER] + 1 - len[COL_SERVER];
        if (p <= client_end + 2)
            p = client_end + 3;
        if (p + len[COL_SERVER] > lo->w)
            return 0;
        pos[COL_SERVER] = server_at = p;
    }
    if (lo->x[COL_DNS] >= 0 && len[COL_DNS]) {
        int p = lo->x[COL_DNS] - len[COL_DNS] / 2;
        int hi = server_at - 3 - len[COL_DNS] + 1;
        if (p > hi)
            p = hi;
        if (p < client_end + 3)
            p = client_end + 3;
        if (p > hi)
            return 0;
        pos[COL_DNS] = p;
    }
    return 1;
}

static void header_line(canvas *cv, char names[][96], const int pos[])
{
    long y = cv_line(cv);
    for (int c = 0; c < COL__N; c++)
        if (pos[c] >= 0)
            cv_put(cv, y, pos[c], names[c], S_BOLD);
}

/* The column names and addresses: "client 127.0.0.1:5000" on one line
 * when they fit; else the names on one line and the addresses under
 * them; else one column a line. */
static void draw_header(canvas *cv, const flow *f, const layout *lo)
{
    char one[COL__N][96], roles[COL__N][96], addrs[COL__N][96];
    int pos[COL__N], pos2[COL__N];
    for (int c = 0; c < COL__N; c++) {
        scopy(one[c], sizeof one[c], f->col[c], strlen(f->col[c]));
        scopy(roles[c], sizeof roles[c], f->role[c], strlen(f->role[c]));
        scopy(addrs[c], sizeof addrs[c], f->addr[c], strlen(f->addr[c]));
    }
    if (place(lo, one, pos)) {
        header_line(cv, one, pos);
        return;
    }
    if (place(lo, roles, pos) && place(lo, addrs, pos2)) {
        header_line(cv, roles, pos);
        header_line(cv, addrs, pos2);
        return;
    }
    /* stacked: each name starts at its lifeline, earlier lifelines drawn */
    for (int c = 0; c < COL__N; c++) {
        if (lo->x[c] < 0)
            continue;
        long y = cv_line(cv);
        for (int k = 0; k < c; k++)
            if (lo->x[k] >= 0)
                cv_put(cv, y, lo->x[k], "|", S_NONE);
        int len = (int)strlen(f->col[c]);
        int x = c == COL_CLIENT ? 0 : lo->x[c];
        if (x + len > lo->w)
            x = lo->w - len;
        if (x < 0)
            x = 0;
        cv_put(cv, y, x, f->col[c], S_BOLD);
    }
}

static void time_text(char *out, size_t n, const row *r)
{
    char d[32];
    fmt_dur(d, sizeof d, r->t, " ");
    snprintf(out, n, "+%s", d);
}

static void make_layout(const flow *f, int w, layout *lo)
{
    int tw = 0, maxnote = 0;
    for (size_t i = 0; i < f->nrows; i++) {
        char t[40];
        time_text(t, sizeof t, &f->rows[i]);
        if (f->rows[i].timed && (int)strlen(t) > tw)
            tw = (int)strlen(t);
        if ((int)strlen(f->rows[i].note) > maxnote)
            maxnote = (int)strlen(f->rows[i].note);
    }
    int cap = w >= 100 ? 24 : w >= 70 ? 19 : 14;
    lo->w = w;
    lo->tw = tw;
    lo->nw = maxnote < cap ? maxnote : cap;
    lo->d = w - 1 - tw - (lo->nw ? lo->nw + 2 : 0);
    if (lo->d < 24 && lo->nw) {   /* narrow: notes get the least */
        lo->nw = 8;
        lo->d = w - 1 - tw - 10;
    }
    if (lo->d < 12)
        lo->d = w < 12 ? w : 12;
    lo->x[COL_CLIENT] = 1;
    lo->x[COL_SERVER] = lo->d - 2 > 2 ? lo->d - 2 : 2;
    /* the DNS lifeline: far enough for its arrows' labels, between half
     * way and near the server's (no DNS arrow goes to the server) */
    lo->x[COL_DNS] = -1;
    if (f->has_dns) {
        int longest = 0;
        for (size_t i = 0; i < f->nrows; i++) {
            const row *r = &f->rows[i];
            if (r->kind == R_ARROW && (r->from == COL_DNS || r->to == COL_DNS) &&
                (int)strlen(r->label) > longest)
                longest = (int)strlen(r->label);
        }
        int cx = lo->x[COL_CLIENT], sx = lo->x[COL_SERVER];
        int x = cx + longest + 8;
        if (x > sx - 6)
            x = sx - 6;
        if (x < cx + (sx - cx) / 2)
            x = cx + (sx - cx) / 2;
        lo->x[COL_DNS] = x;
    }
}

static void draw_rows(canvas *cv, const flow *f, const layout *lo)
{
    size_t last_dns = 0;
    int any_dns = 0;
    for (size_t i = 0; i < f->nrows; i++)
        if (f->rows[i].dns_phase) {
            last_dns = i;
            any_dns = 1;
        }
    int dns_alive = f->has_dns;
    for (size_t i = 0; i < f->nrows; i++) {
        const row *r = &f->rows[i];
        if (dns_alive && (!any_dns || i > last_dns)) {
            dns_alive = 0;           /* the DNS part is over: a gap */
            long y = cv_line(cv);
            lifelines(cv, y, lo, 0);
        }
        size_t tpart[8][2], npart[4][2];
        int tlines = 1;
        if (r->kind == R_TEXT) {
            int room = lo->x[COL_SERVER] - 2 - (lo->x[COL_CLIENT] + 3);
            tlines = wrap(r->label, room, tpart, 8);
        }
        int nlines = r->note[0] && lo->nw ? wrap(r->note, lo->nw, npart, 4) : 0;
        int lines = tlines > nlines ? tlines : nlines;
        for (int k = 0; k < lines; k++) {
            long y = cv_line(cv);
            lifelines(cv, y, lo, dns_alive);
            if (k == 0 && r->kind == R_ARROW)
                draw_arrow(cv, y, lo->x[r->from], lo->x[r->to], r->label, r->style);
            if (r->kind == R_TEXT && k < tlines)
                draw_text(cv, y, lo, r->label + tpart[k][0], tpart[k][1], r->style);
            if (k == 0 && r->timed) {
                char t[40];
                time_text(t, sizeof t, r);
                cv_put(cv, y, lo->d + 1 + lo->tw - (int)strlen(t), t, S_DIM);
            }
            if (k < nlines) {
                int x = lo->d + 1 + lo->tw + 2;
                size_t n = npart[k][1];
                if (x + (int)n > lo->w)
                    n = lo->w > x ? (size_t)(lo->w - x) : 0;
                cv_putn(cv, y, x, r->note + npart[k][0], n, r->note_style);
            }
        }
    }
}

/* The ends' TCP states after the last row. */
static void draw_states(canvas *cv, const flow *f, const layout *lo)
{
    const char *cs = NULL, *ss = NULL;
    int tw_client = 0, tw_server = 0;
    if (f->closed) {
        int by = f->closed_by;
        if (by == HF_CLOSED_UNKNOWN)
            by = f->first_fin == COL_CLIENT + 1 ? HF_CLOSED_BY_CLIENT
               : f->first_fin == COL_SERVER + 1 ? HF_CLOSED_BY_SERVER : 0;
        tw_client = by == HF_CLOSED_BY_CLIENT;
        tw_server = by == HF_CLOSED_BY_SERVER;
        cs = tw_client ? "TIME_WAIT (client)" : "CLOSED";
        ss = tw_server ? "TIME_WAIT (server)" : "CLOSED";
    } else if (f->connected && f->pooled_last) {
        cs = "ESTABLISHED (pooled)";
        ss = "ESTABLISHED";
    }
    if (!cs)
        return;
    long y = cv_line(cv);
    lifelines(cv, y, lo, 0);
    y = cv_line(cv);
    int sl = (int)strlen(ss);
    int sx = lo->x[COL_SERVER] + 1 - sl;
    int cl = (int)strlen(cs);
    if (sx < cl + 1) {       /* narrow: one line each */
        cv_put(cv, y, 0, cs, tw_client ? S_BOLD : S_NONE);
        y = cv_line(cv);
        sx = lo->x[COL_SERVER] + 1 - sl;
        if (sx < 0)
            sx = 0;
    } else {
        cv_put(cv, y, 0, cs, tw_client ? S_BOLD : S_NONE);
    }
    cv_put(cv, y, sx, ss, tw_server ? S_BOLD : S_NONE);
}

static void draw_title(canvas *cv, const flow *f)
{
    char t[200];
    uint64_t span = f->n ? f->ev[f->n - 1]->mono_ns - f->t0 : 0;
    char d[32];
    fmt_dur(d, sizeof d, span, " ");
    if (f->conn >= 0)
        snprintf(t, sizeof t, "connection #%ld: %d request%s, %s", f->conn,
                 f->nrequests, f->nrequests == 1 ? "" : "s", d);
    else
        snprintf(t, sizeof t, "no connection (transfer #%ld), %s",
                 f->n ? f->ev[0]->transfer : -1L, d);
    long y = cv_line(cv);
    cv_put(cv, y, 0, t, S_BOLD);
}

static int view_width(const hf_view_opts *o)
{
    int w = o && o->width > 0 ? o->width : 80;
    return w > 1000 ? 1000 : w;
}

char *hf_view_flow(const hf_event *ev, size_t n, const hf_view_opts *o)
{
    int w = view_width(o);
    int color = o && o->color;
    flow f;
    memset(&f, 0, sizeof f);
    f.conn = -1;
    if (n && !ev)
        return NULL;
    if (!n)
        return calloc(1, 1);
    f.ev = malloc(n * sizeof *f.ev);
    if (!f.ev)
        return NULL;
    for (size_t i = 0; i < n; i++)
        f.ev[i] = &ev[i];
    qsort(f.ev, n, sizeof *f.ev, cmp_ev);
    f.n = n;
    f.t0 = f.ev[0]->mono_ns;
    find_columns(&f);
    for (size_t i = 0; i < n; i++)
        event_rows(&f, f.ev[i]);
    /* a lookup given up (a timeout) has no answer and no end */
    for (size_t i = 0; i < f.nx; i++)
        if (f.x[i].dns_start && !f.x[i].dns_over) {
            char l[320];
            snprintf(l, sizeof l, "DNS: %s asked, no answer", f.x[i].dns_name);
            text(&f, f.x[i].dns_start, S_BAD, l);
        }
    char *out = NULL;
    if (!f.oom) {
        qsort(f.rows, f.nrows, sizeof *f.rows, cmp_row);
        layout lo;
        make_layout(&f, w, &lo);
        canvas cv;
        cv_init(&cv, w);
        draw_title(&cv, &f);
        draw_header(&cv, &f, &lo);
        long y = cv_line(&cv);
        lifelines(&cv, y, &lo, 1);
        draw_rows(&cv, &f, &lo);
        draw_states(&cv, &f, &lo);
        out = cv_text(&cv, color);
        cv_free(&cv);
    }
    free(f.rows);
    free(f.x);
    free(f.ev);
    return out;
}

/* ---- the waterfall ----------------------------------------------------- */

enum { P_DNS, P_TCP, P_TLS, P_SERVER, P_CONTENT, P__N };

static const struct {
    const char *name, *mark;
    int style;
} phases[P__N] = {
    {"DNS Lookup", "namelookup", S_DNS},
    {"TCP Connection", "connect", S_TCP},
    {"TLS Handshake", "pretransfer", S_TLS},
    {"Server Processing", "starttransfer", S_OUT},
    {"Content Transfer", "total", S_IN},
};

#define STAT_NAME_W 17
#define STAT_DUR_W 8

/* A row of text that wraps under its own indent. */
static void stat_line(canvas *cv, const char *key, const char *val, int style)
{
    int indent = 8;
    size_t part[8][2];
    int n = wrap(val, cv->w - indent, part, 8);
    for (int k = 0; k < n; k++) {
        long y = cv_line(cv);
        if (k == 0)
            cv_put(cv, y, 2, key, S_BOLD);
        cv_putn(cv, y, indent, val + part[k][0], part[k][1], style);
    }
}

/* The facts of the transfer the waterfall's extra rows show. */
typedef struct stat_facts {
    char dns[400];
    char tcp[200];
    char tls[300];
    char conn[300];
} stat_facts;

static void stat_collect(const hf_response *r, stat_facts *sf)
{
    const hf_trace *tr = hf_response_trace(r);
    size_t n = hf_trace_count(tr);
    hf_event e, est, end;
    memset(&est, 0, sizeof est);
    memset(&end, 0, sizeof end);
    int have_est = 0, have_end = 0, reused = 0, pooled = 0, closed = 0, dns_asked = 0;
    int closed_by = HF_CLOSED_UNKNOWN, first_fin = 0;
    char reason[120] = "", name[200] = "", server[80] = "", answers[300] = "";
    char src[24] = "", transport[8] = "", dns_err[200] = "";
    long conn = hf_response_conn_id(r);
    memset(sf, 0, sizeof *sf);
    for (size_t i = 0; i < n && hf_trace_event(tr, i, &e) == 0; i++) {
        switch (e.type) {
        case HF_EV_DNS_START:
            dns_asked = 1;
            snprintf(name, sizeof name, "%s", e.detail);
            break;
        case HF_EV_DNS_ANSWER: {
            char from[24] = "";
            word_after(e.detail, "from=", from, sizeof from);
            if (!src[0])
                snprintf(src, sizeof src, "%s", from);
            if (!server[0] && strcmp(from, "dns") == 0)
                snprintf(server, sizeof server, "%s", e.peer);
            const char *t = strstr(e.detail, "from=dns ");
            if (t && !transport[0])
                snprintf(transport, sizeof transport, "%.3s", t + 9);
            char lab[320], f2[24];
            dns_answer_label(e.detail, lab, sizeof lab, f2, sizeof f2, 0);
            size_t len = strlen(answers);
            if (len + 2 < sizeof answers) {
                if (len)
                    scopy(answers + len, sizeof answers - len, ", ", 2);
                len = strlen(answers);
                scopy(answers + len, sizeof answers - len, lab, strlen(lab));
            }
            break;
        }
        case HF_EV_DNS_END:
            if (e.detail[0])
                snprintf(dns_err, sizeof dns_err, "%s", e.detail);
            break;
        case HF_EV_TCP_ESTABLISHED:
            est = e;
            have_est = 1;
            break;
        case HF_EV_REUSED:
            reused = 1;
            break;
        case HF_EV_TLS_END:
            snprintf(sf->tls, sizeof sf->tls, "%s", e.detail);
            break;
        case HF_EV_POOLED:
            pooled = 1;
            break;
        case HF_EV_FIN_SENT:
        case HF_EV_FIN_RECEIVED:
            if (!first_fin)
                first_fin = e.type == HF_EV_FIN_SENT ? 1 : 2;
            break;
        case HF_EV_CLOSED:
            closed = 1;
            closed_by = e.closed_by;
            snprintf(reason, sizeof reason, "%s", e.detail);
            end = e;
            have_end = 1;
            break;
        default:
            break;
        }
    }
    /* dns */
    if (reused)
        snprintf(sf->dns, sizeof sf->dns, "none: connection #%ld reused", conn);
    else if (!dns_asked)
        snprintf(sf->dns, sizeof sf->dns, "none: the address was known");
    else if (answers[0] && strcmp(src, "dns") == 0)
        snprintf(sf->dns, sizeof sf->dns, "%s asked %s%s%s%s: %s", name, server,
                 transport[0] ? " (" : "", transport, transport[0] ? ")" : "",
                 answers);
    else if (answers[0])
        snprintf(sf->dns, sizeof sf->dns, "%s from %s: %s", name,
                 strcmp(src, "hosts") == 0 ? "the hosts file"
                 : strcmp(src, "system") == 0 ? "the system resolver" : src,
                 answers);
    else
        snprintf(sf->dns, sizeof sf->dns, "%s", dns_err[0] ? dns_err : "no answer");
    /* tcp: at the handshake, and the end when it is known */
    if (have_est || have_end) {
        const hf_tcp_info *a = have_est ? &est.tcp : &end.tcp;
        const hf_tcp_info *z = have_end && end.tcp.valid ? &end.tcp : a;
        if (a->valid) {
            char rtt[32], var[32];
            fmt_dur(rtt, sizeof rtt, (uint64_t)a->rtt_us * 1000, "");
            fmt_dur(var, sizeof var, (uint64_t)a->rttvar_us * 1000, "");
            snprintf(sf->tcp, sizeof sf->tcp, "rtt %s (var %s)  retrans %u  mss %u",
                     rtt, var, z->retrans, a->snd_mss);
        }
    }
    if (!sf->tcp[0])
        snprintf(sf->tcp, sizeof sf->tcp, "%s", reused ? "no handshake: the "
                 "connection was reused" : "no connection");
    /* the connection's fate, as far as the transfer knows it */
    const char *conn_hdr = hf_response_header(r, "Connection");
    char fate[200] = "";
    if (closed) {
        int by = closed_by;
        if (by == HF_CLOSED_UNKNOWN)
            by = first_fin == 1 ? HF_CLOSED_BY_CLIENT : first_fin == 2 ? HF_CLOSED_BY_SERVER : 0;
        snprintf(fate, sizeof fate, "%s%s%s%s",
                 by == HF_CLOSED_BY_CLIENT ? "closed by hflow first"
                 : by == HF_CLOSED_BY_SERVER ? "closed by the server first"
                 : by == HF_CLOSED_BY_RESET ? "reset" : "closed",
                 reason[0] ? ": " : "", reason,
                 by == HF_CLOSED_BY_CLIENT ? " (TIME_WAIT here)"
                 : by == HF_CLOSED_BY_SERVER ? " (TIME_WAIT on the server)" : "");
    } else if (pooled) {
        snprintf(fate, sizeof fate, "pooled");
    } else if (conn >= 0 && conn_hdr && strstr(conn_hdr, "close")) {
        snprintf(fate, sizeof fate, "closing: Connection: close");
    } else if (conn >= 0) {
        snprintf(fate, sizeof fate, "closing");
    }
    if (conn >= 0)
        snprintf(sf->conn, sizeof sf->conn, "#%ld %s%s%s", conn,
                 reused ? "reused" : "new", fate[0] ? ", " : "", fate);
    else
        snprintf(sf->conn, sizeof sf->conn, "none");
}

char *hf_view_stat(const hf_response *r, const hf_view_opts *o)
{
    if (!r)
        return NULL;
    int w = view_width(o);
    int color = o && o->color;
    const char *url = hf_response_url(r);
    int https = url && strncmp(url, "https:", 6) == 0;
    uint64_t t[HF_TIME__COUNT];
    for (int i = 0; i < HF_TIME__COUNT; i++)
        t[i] = hf_response_time_ns(r, (hf_time)i);
    hf_err err = hf_response_error(r);

    /* the phases between curl's cumulative marks; a phase is shown when
     * its end mark was reached; a failed transfer's first unreached phase
     * runs to the end */
    uint64_t mark[P__N] = {t[HF_TIME_NAMELOOKUP], t[HF_TIME_CONNECT],
                           t[HF_TIME_PRETRANSFER], t[HF_TIME_STARTTRANSFER],
                           t[HF_TIME_TOTAL]};
    uint64_t total = t[HF_TIME_TOTAL];
    uint64_t startt[P__N], endt[P__N];
    int reached[P__N], shown[P__N];
    int failed_at = -1;
    uint64_t prev = 0;
    for (int p = 0; p < P__N; p++) {
        shown[p] = p != P_TLS || https;
        reached[p] = mark[p] > 0 && !(err && p == P_CONTENT);
        if (p == P_DNS && mark[P_TCP] > 0)
            reached[p] = 1;
        /* http: no TLS row; the server's time starts at pretransfer */
        startt[p] = p == P_SERVER && reached[P_TLS] ? mark[P_TLS] : prev;
        if (startt[p] < prev)
            startt[p] = prev;
        endt[p] = startt[p];
        if (reached[p] && failed_at < 0) {
            endt[p] = mark[p] > startt[p] ? mark[p] : startt[p];
            if (shown[p] || p == P_TLS)
                prev = endt[p];
        } else if (err && failed_at < 0 && shown[p]) {
            failed_at = p;
            endt[p] = total > startt[p] ? total : startt[p];
        }
    }

    stat_facts sf;
    stat_collect(r, &sf);

    canvas cv;
    cv_init(&cv, w);
    /* the title: the request and what came back */
    {
        char title[600], sz[32];
        const hf_trace *tr = hf_response_trace(r);
        hf_event e;
        const char *method = "GET";
        size_t ml = 3;
        if (hf_trace_event(tr, 0, &e) == 0 && e.type == HF_EV_QUEUED && e.detail[0]) {
            method = e.detail;
            ml = strcspn(e.detail, " ");
        }
        fmt_bytes(sz, sizeof sz, hf_response_size_download(r));
        if (hf_response_status(r))
            snprintf(title, sizeof title, "%.*s %s -> HTTP/1.%d %d %s (%s)", (int)ml,
                     method, url ? url : "", hf_response_http_minor(r),
                     hf_response_status(r), hf_response_reason(r) ? hf_response_reason(r) : "",
                     sz);
        else
            snprintf(title, sizeof title, "%.*s %s -> %s", (int)ml, method,
                     url ? url : "", err ? "failed" : "no response");
        if ((int)strlen(title) > w && url) {
            /* cut the URL so that the outcome stays readable */
            char rest[300], u[600];
            const char *arrow = strstr(title, " -> ");
            scopy(rest, sizeof rest, arrow ? arrow : "", arrow ? strlen(arrow) : 0);
            fit(u, sizeof u, url, w - (int)ml - 1 - (int)strlen(rest));
            size_t o = 0;
            scopy(title, sizeof title, method, ml);
            o = strlen(title);
            scopy(title + o, sizeof title - o, " ", 1);
            o = strlen(title);
            scopy(title + o, sizeof title - o, u, strlen(u));
            o = strlen(title);
            scopy(title + o, sizeof title - o, rest, strlen(rest));
        }
        char fitted[600];
        fit(fitted, sizeof fitted, title, w);
        long y = cv_line(&cv);
        cv_put(&cv, y, 0, fitted, S_BOLD);
    }
    /* one row per phase: name, duration, a bar in proportion, and the
     * cumulative mark (httpstat's labels) beside the bar */
    int x0 = 2 + STAT_NAME_W + 1 + STAT_DUR_W + 2;
    int area = w - x0;
    if (area < 36) {             /* narrow: each bar under its name */
        x0 = 2;
        area = w - x0;
    }
    for (int p = 0; p < P__N; p++) {
        if (!shown[p])
            continue;
        char dur[32], lab[64];
        int done = reached[p] && (failed_at < 0 || p < failed_at);
        if (done || p == failed_at)
            fmt_dur(dur, sizeof dur, endt[p] - startt[p], "");
        else
            snprintf(dur, sizeof dur, "-");
        long y = cv_line(&cv);
        cv_put(&cv, y, 2, phases[p].name, S_NONE);
        int dl = (int)strlen(dur);
        cv_put(&cv, y, 2 + STAT_NAME_W + 1 + STAT_DUR_W - dl, dur, phases[p].style);
        if (x0 == 2)
            y = cv_line(&cv);
        if (!done && p != failed_at)
            continue;
        int b0 = total ? (int)((double)startt[p] * area / (double)total) : 0;
        int b1 = total ? (int)((double)endt[p] * area / (double)total) : 0;
        if (b0 >= area)
            b0 = area - 1;
        if (b1 > area)
            b1 = area;
        if (b1 <= b0)
            b1 = b0 + 1;
        for (int x = b0; x < b1; x++)
            cv_put(&cv, y, x0 + x, endt[p] > startt[p] ? "#" : "|",
                   p == failed_at ? S_BAD : phases[p].style);
        if (p == failed_at) {
            char c[32];
            fmt_dur(c, sizeof c, endt[p], "");
            snprintf(lab, sizeof lab, "failed:%s", c);
        } else {
            char c[32];
            fmt_dur(c, sizeof c, endt[p], "");
            snprintf(lab, sizeof lab, "%s:%s", phases[p].mark, c);
        }
        int ml = (int)strlen(lab);
        int style = p == failed_at ? S_BAD : S_DIM;
        int right = area - b1 - 1, left = b0 - 1;
        if (ml <= right) {                       /* right of the bar */
            cv_put(&cv, y, x0 + b1 + 1, lab, style);
        } else if (ml <= left) {                 /* left of it */
            cv_put(&cv, y, x0 + b0 - 1 - ml, lab, style);
        } else if (b1 - b0 >= ml + 3) {          /* over its end */
            cv_put(&cv, y, x0 + b1 - ml - 1, " ", S_NONE);
            cv_put(&cv, y, x0 + b1 - ml, lab, style);
        } else {                                 /* cut, where there is room */
            char m[64];
            int room = right > left ? right : left;
            fit(m, sizeof m, lab, room);
            if (right >= left)
                cv_put(&cv, y, x0 + b1 + 1, m, style);
            else
                cv_put(&cv, y, x0 + b0 - 1 - (int)strlen(m), m, style);
        }
    }
    /* hflow's own rows */
    stat_line(&cv, "tcp", sf.tcp, S_NONE);
    stat_line(&cv, "dns", sf.dns, S_NONE);
    if (https && sf.tls[0])
        stat_line(&cv, "tls", sf.tls, S_NONE);
    stat_line(&cv, "conn", sf.conn, S_NONE);
    if (err) {
        const char *m = hf_response_errmsg(r);
        stat_line(&cv, "error", m && *m ? m : hf_strerror(err), S_BAD);
    }
    char *out = cv_text(&cv, color);
    cv_free(&cv);
    return out;
}
