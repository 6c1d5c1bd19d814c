/* transfer.c -- one request's life, in the order of the flow:
 *   parse the URL -> an idle connection?  -> resolve -> connect ->
 *   send the head (and body) -> receive the head -> receive the body ->
 *   back to the pool, or closed.
 * Every step is a non-blocking state driven by the client's loop.  A
 * submitted request (struct hf_transfer, "job") runs one hop after another
 * (redirects, a Digest answer); each hop is a transfer below.  When a hop
 * ends it is handed to multi.c, which finishes it from the loop (never from
 * inside a socket handler) and asks job_next what comes after. */
#include "internal.h"
#include "connect.h"
#include "cookie.h"
#include "decode.h"
#include "auth.h"
#include "netrc.h"
#include "h1_parse.h"
#include "tls.h"
#include "proxy.h"
#include "tunnel.h"
#include "resolver.h"
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/random.h>

enum { ST_CONNECT, ST_TLS, ST_SEND, ST_EXPECT, ST_RECV_HEAD, ST_RECV_BODY, ST_DONE,
       ST_PTLS, ST_TUNNEL };
enum { VIA_NONE = 0, VIA_FORWARD, VIA_TUNNEL };
enum { SEND_HEAD, SEND_BODY, SEND_DONE };
#define UPLOAD_PIECE (64 * 1024)
#define EXPECT_WAIT_MS 1000        /* as curl: send the body after 1 s */
#define DEFAULT_CONNECT_MS 300000  /* curl's default connect timeout */

typedef struct transfer {
    hf_client *c;
    struct hf_transfer *job; /* the submitted request this hop belongs to */
    hf_request *rq;
    hf_response *rs;
    const char *method;     /* this hop's method and URL (redirects change */
    const char *url_str;    /* them), whether it sends the body, and */
    int with_body;          /* whether credentials were stripped */
    int strip;
    int follow;             /* a redirect will be followed: drop its body */
    const char *user, *pass;  /* this hop's credentials, or NULL */
    const char *authz;      /* a Digest answer for this hop, or NULL */
    const char *pauthz;     /* ... for the proxy (absolute-form), or NULL */
    url u;
    char *key;              /* pool key */
    char peer[96];          /* host:port, then ip:port once connected */
    int head_req;
    int state;
    uint64_t t0;
    connector *k;           /* names and connection attempts */
    conn *cn;
    int reused, retried;
    buf out;                /* bytes to send now */
    size_t out_off;
    int send_phase;
    size_t body_off;        /* in-memory body sent so far */
    int64_t up_sent;        /* reader bytes sent */
    int expect;
    size_t head_len;        /* bytes of the request head */
    uint64_t head_start;    /* when its first byte was handed to the kernel */
    uint64_t tm_total, tm_conn, tm_expect;
    uint64_t deadline;      /* -m, in loop_now_ns() time; 0 = none */
    uint64_t tm_phase;      /* the running phase's own limit */
    const char *phase_name; /* "--dns-timeout" ... for the message */
    long phase_ms;
    uint64_t tm_watch;      /* idle and speed checks */
    uint64_t tm_lowat;      /* the SO_RCVLOWAT tick (lowat_*) */
    int lowat_read;         /* a read since the last tick */
    int lowat_off;          /* the sender was too slow for it */
    uint64_t last_rx;       /* the last byte received (idle limit) */
    uint64_t win_start;     /* the speed window */
    int64_t win_bytes;
    int64_t decoded;        /* body bytes given to the caller */
    int https;
    tls_config tls;         /* borrowed from the request */
    h1_framing fr;
    h1_chunked ck;
    uint64_t remaining;
    decoder *dec;
    int discard;
    int got_bytes;          /* any response byte seen */
    int must_close;
    int close_how;          /* CONN_* when must_close */
    const char *close_reason;
    long id;                /* the transfer's number in the client */
    int done;
    int keep_conn;          /* cancelled before the connection was used */
    hf_read_fn *reader;     /* the streamed body: the request's reader, */
    void *reader_arg;       /* or a file's */
    int64_t reader_len;
    int body_fd;            /* hf_request_body_file, or -1 */
    int out_fd;             /* hf_request_set_output_file, or -1 */
    buf held;               /* decoded body that came after a pause */
    uint64_t tm_kick;       /* resume: process what is buffered */
    /* proxies: the layers between the socket and the origin */
    int via;                /* VIA_*: how the proxy is used */
    int tkind;              /* TUNNEL_* for VIA_TUNNEL */
    proxy_spec px;          /* the proxy (host set when there is one) */
    proxy_spec pre;         /* --preproxy (host set when there is one) */
    url pu;                 /* what to connect to: the (pre)proxy */
    char plabel[300];       /* the proxy as "host:port" */
    const char *puser, *ppass;  /* the proxy's credentials */
    tls_config ptls;        /* TLS to an https proxy */
    int pstep;              /* proxy_next's progress */
    int in_pre;             /* the tunnel being made is the preproxy's */
    uint64_t tunnel_t0;
    char *origin_addr;      /* SOCKS4/5: the origin's address, found here */
    res_query *oq;          /* ... by this lookup */
} transfer;

static void hop_ended(transfer *t)
{
    t->rs->t[HF_TIME_TOTAL] = loop_now_ns() - t->t0;
    t->done = 1;
    t->state = ST_DONE;
    multi_hop_ended(t->job);
}

static void on_io(loop *l, int fd, int mask, void *arg);
static void fail(transfer *t, hf_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Watch the connection for mask; a failure (no memory for the loop's
 * table) fails the transfer rather than leaving it unwatched. */
static int watch(transfer *t, int mask)
{
    if (loop_watch(t->c->lp, t->cn->fd, mask, on_io, t) == 0)
        return 0;
    fail(t, HF_E_NOMEM, "%s: out of memory", t->peer);
    return -1;
}
static void proxy_next(transfer *t);
static void tunnel_step(transfer *t);
static void do_send(transfer *t);
static void start_exchange(transfer *t);
static void parse_heads(transfer *t);
static void do_recv(transfer *t);
static int is_redirect(int status);
static void on_total_timeout(loop *l, void *arg);

/* ---- reporting ---------------------------------------------------------- */

static uint64_t since(const transfer *t)
{
    return loop_now_ns() - t->t0;
}

/* Record an event of this transfer. */
static void ev(transfer *t, hf_ev type, const ev_args *a)
{
    trace_emit(t->c, &t->rs->trace, t->t0, t->id, t->cn ? t->cn->id : -1,
               type, a);
}

/* The connection cannot be reused; the first reason is kept. */
static void close_after(transfer *t, int how, const char *reason)
{
    if (!t->must_close) {
        t->close_how = how;
        t->close_reason = reason;
    }
    t->must_close = 1;
}

/* ---- limits: per phase, idle, speed --------------------------------------- */

static void on_phase_timeout(loop *l, void *arg);
static void fail(transfer *t, hf_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *phase_of(const transfer *t);

/* A timer of this transfer, or 0 when out of memory: the transfer has
 * then failed, since a limit that cannot be set must not be lost. */
static uint64_t timer_or_fail(transfer *t, uint64_t ms, loop_timer_fn *fn)
{
    uint64_t id = loop_timer(t->c->lp, ms, fn, t);
    if (!id)
        fail(t, HF_E_NOMEM, "%s %s: out of memory (timer)", phase_of(t),
             t->peer);
    return id;
}

static void phase_start(transfer *t, const char *name, long ms)
{
    if (t->tm_phase)
        loop_timer_cancel(t->c->lp, t->tm_phase);
    t->tm_phase = 0;
    if (ms <= 0)
        return;
    t->phase_name = name;
    t->phase_ms = ms;
    t->tm_phase = timer_or_fail(t, (uint64_t)ms, on_phase_timeout);
}

static void phase_end(transfer *t)
{
    if (t->tm_phase)
        loop_timer_cancel(t->c->lp, t->tm_phase);
    t->tm_phase = 0;
}

static void info(transfer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void info(transfer *t, const char *fmt, ...)
{
    if (!t->rq->debug_fn)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    t->rq->debug_fn(t->rq->debug_arg, HF_INFO_TEXT, since(t), line, (size_t)n);
}

/* The first error wins; the message names the phase and peer (in fmt),
 * and gets the time taken appended. */
static void fail(transfer *t, hf_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(transfer *t, hf_err e, const char *fmt, ...)
{
    if (t->done)
        return;
    char msg[512], line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s after %.1f ms", msg, (double)since(t) / 1e6);
    t->rs->err = e;
    free(t->rs->errmsg);
    /* NULL when out of memory: hf_response_errmsg then says hf_strerror */
    t->rs->errmsg = strdup(line);
    ev_args a = {0};
    a.value = e;
    a.detail = line;
    a.peer = t->peer;
    ev(t, HF_EV_ERROR, &a);
    if (!t->keep_conn)
        close_after(t, CONN_ABORT, hf_strerror(e));
    hop_ended(t);
}

/* s for a one-line message: control and non-ASCII bytes as \xNN, cut
 * with "..." when too long. */
static void printable(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 8 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(out + o, n - o, "\\x%02X", ch);
        else
            out[o++] = (char)ch;
    }
    if (*s)
        o += (size_t)snprintf(out + o, n - o, "...");
    out[o] = 0;
}

static const char *phase_of(const transfer *t)
{
    switch (t->state) {
    case ST_CONNECT: return "connect to";
    case ST_TLS: return "TLS handshake with";
    case ST_SEND: return "send to";
    default: return "receive from";
    }
}

/* ---- the request head (RFC 9112 3, RFC 9110 7.2, 10.1) ------------------ */

static const req_hdr *user_hdr(const hf_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nhdrs; i++)
        if (strcasecmp(rq->hdrs[i].name, name) == 0)
            return &rq->hdrs[i];
    return NULL;
}

/* A default header unless the user replaced or removed it; user headers
 * of the same name are sent here, in the default's place. */
static int put_default(buf *b, const hf_request *rq, const char *name,
                       const char *value)
{
    const req_hdr *h = user_hdr(rq, name);
    if (h)
        return h->value ? buf_printf(b, "%s: %s\r\n", h->name, h->value) : 0;
    return buf_printf(b, "%s: %s\r\n", name, value);
}

static int is_default(const char *name)
{
    static const char *const d[] = {"Host", "User-Agent", "Accept",
        "Accept-Encoding", "Authorization", "Content-Length",
        "Transfer-Encoding", "Expect", "Cookie", NULL};
    for (int i = 0; d[i]; i++)
        if (strcasecmp(d[i], name) == 0)
            return 1;
    return 0;
}

static int unhex(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int pct_decode_into(buf *b, const char *s)
{
    int rc = 0;
    for (; *s && !rc; s++) {
        char ch = *s;
        if (ch == '%' && unhex(s[1]) >= 0 && unhex(s[2]) >= 0) {
            ch = (char)(unhex(s[1]) * 16 + unhex(s[2]));
            s += 2;
        }
        rc = buf_add(b, &ch, 1);
    }
    return rc;
}

static int put_base64(buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < n ? tab[(v >> 6) & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        rc = buf_add(b, q, 4);
    }
    return rc;
}

/* RFC 9110 11.6.2: the user's Authorization header, a Digest answer, or
 * Basic (RFC 7617) from the credentials of this hop or the URL's userinfo.
 * Nothing of it crosses to another origin (SECURITY.md A.1-A.3). */
static int put_auth(transfer *t, buf *b)
{
    hf_request *rq = t->rq;
    if (t->strip)
        return 0;
    const req_hdr *ua = user_hdr(rq, "Authorization");
    if (ua)
        return ua->value ? buf_printf(b, "%s: %s\r\n", ua->name, ua->value) : 0;
    if (t->authz)
        return buf_printf(b, "Authorization: %s\r\n", t->authz);
    if (!(rq->auth_methods & HF_AUTH_BASIC) || (!t->user && !t->u.user))
        return 0; /* Digest waits for the server's challenge */
    buf cred, val;
    buf_init(&cred, 64 * 1024);
    buf_init(&val, 128 * 1024);
    int rc;
    /* every step checked: credentials must not go out cut short */
    if (t->user)
        rc = buf_printf(&cred, "%s:%s", t->user, t->pass ? t->pass : "");
    else if (!(rc = pct_decode_into(&cred, t->u.user)) &&
             !(rc = buf_adds(&cred, ":")))
        rc = pct_decode_into(&cred, t->u.password ? t->u.password : "");
    if (!rc && !(rc = buf_adds(&val, "Basic ")))
        rc = put_base64(&val, (unsigned char *)(cred.data ? cred.data : ""),
                        cred.len);
    if (!rc)
        rc = buf_printf(b, "Authorization: %s\r\n", val.data);
    buf_free(&cred);
    buf_free(&val);
    return rc;
}

/* The user's Cookie header (same origin only), else the engine's. */
/* An http URL sent to an http proxy (no tunnel): the proxy's credentials
 * (Basic, sent at once, RFC 9110 11.7.2) and the --proxy-header lines go in
 * the request itself, which only the proxy reads them from. */
static int put_proxy_fields(transfer *t, buf *b)
{
    const hf_request *rq = t->rq;
    int authz_hdr = 0, rc = 0;
    for (size_t i = 0; i < rq->nproxy_hdrs && !rc; i++) {
        const char *l = rq->proxy_hdrs[i];
        size_t n = strcspn(l, ":;");
        if (n == 19 && strncasecmp(l, "Proxy-Authorization", 19) == 0)
            authz_hdr = 1;
        const char *v = l + n + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (l[n] == ';')
            rc = buf_printf(b, "%.*s:\r\n", (int)n, l);
        else if (*v)
            rc = buf_printf(b, "%.*s: %s\r\n", (int)n, l, v);
    }
    if (!rc && !authz_hdr && t->pauthz)
        rc = buf_printf(b, "Proxy-Authorization: %s\r\n", t->pauthz);
    else if (!rc && !authz_hdr && t->puser &&
             (!rq->proxy_auth || (rq->proxy_auth & HF_AUTH_BASIC))) {
        char *a = proxy_basic_auth(t->puser, t->ppass);
        rc = a ? buf_printf(b, "Proxy-Authorization: %s\r\n", a) : HF_E_NOMEM;
        if (a) {
            explicit_bzero(a, strlen(a));
            free(a);
        }
    }
    return rc;
}

static int put_cookies(transfer *t, buf *b)
{
    const req_hdr *uc = user_hdr(t->rq, "Cookie");
    if (uc && !t->strip)
        return uc->value ? buf_printf(b, "%s: %s\r\n", uc->name, uc->value) : 0;
    if (!t->c->jar)
        return 0;
    char *path = url_target(&t->u);
    if (!path)
        return HF_E_NOMEM;
    path[strcspn(path, "?")] = 0;
    char *v = NULL;
    int rc = cookie_header_ex(t->c->jar, t->u.scheme, t->u.host, path,
                              (int64_t)time(NULL), &v);
    if (!rc && v)
        rc = buf_printf(b, "Cookie: %s\r\n", v);
    free(v);
    free(path);
    return rc;
}

/* Set-Cookie fields of a response into the engine (at most 50, as curl).
 * 0, or HF_E_NOMEM: a cookie silently lost would change what the next
 * request sends. */
static int store_cookies(transfer *t)
{
    if (!t->c->jar)
        return 0;
    char *path = url_target(&t->u);
    if (!path)
        return HF_E_NOMEM;
    path[strcspn(path, "?")] = 0;
    int64_t now = (int64_t)time(NULL);
    int n = 0, rc = 0;
    for (size_t i = 0; i < t->rs->nhdrs && n < COOKIE_MAX_SET_PER_RESPONSE && !rc; i++)
        if (strcasecmp(t->rs->hdrs[i].name, "Set-Cookie") == 0) {
            rc = cookie_set(t->c->jar, t->rs->hdrs[i].value, t->u.scheme,
                            t->u.host, path, now) == HF_E_NOMEM ? HF_E_NOMEM : 0;
            n++;
        }
    free(path);
    return rc;
}

static int build_head(transfer *t)
{
    hf_request *rq = t->rq;
    buf *b = &t->out;
    char *target = url_target(&t->u), *host = url_host_header(&t->u);
    int rc = (!target || !host) ? HF_E_NOMEM : 0;
    if (!rc && t->via == VIA_FORWARD) /* RFC 9112 3.2.2: to a proxy */
        rc = buf_printf(b, "%s %s://%s%s HTTP/1.1\r\n", t->method, t->u.scheme,
                        host, target);
    else if (!rc)
        rc = buf_printf(b, "%s %s HTTP/1.1\r\n", t->method, target);
    if (!rc)
        rc = put_default(b, rq, "Host", host);
    if (!rc)
        rc = put_default(b, rq, "User-Agent", HF_UA);
    if (!rc)
        rc = put_default(b, rq, "Accept", "*/*");
    if (!rc && rq->decompress)
        rc = put_default(b, rq, "Accept-Encoding", DECODE_ACCEPT);
    if (!rc)
        rc = put_auth(t, b);
    if (!rc)
        rc = put_cookies(t, b);
    if (!rc && t->via == VIA_FORWARD)
        rc = put_proxy_fields(t, b);
    for (size_t i = 0; i < rq->nhdrs && !rc; i++)
        if (rq->hdrs[i].value && !is_default(rq->hdrs[i].name) &&
            /* RFC 9110 15.4: a redirect that dropped the body drops the
             * fields about it */
            !(rq->has_body && !t->with_body &&
              strcasecmp(rq->hdrs[i].name, "Content-Type") == 0))
            rc = buf_printf(b, "%s: %s\r\n", rq->hdrs[i].name, rq->hdrs[i].value);
    if (!rc && t->with_body) {
        int64_t len = t->reader ? t->reader_len : (int64_t)rq->body_len;
        if (len < 0)
            rc = put_default(b, rq, "Transfer-Encoding", "chunked");
        else {
            char n[32];
            snprintf(n, sizeof n, "%lld", (long long)len);
            rc = put_default(b, rq, "Content-Length", n);
        }
        /* RFC 9110 10.1.1: ask first before a large body, as curl does */
        const req_hdr *e = user_hdr(rq, "Expect");
        if (!rc && rq->expect_threshold >= 0 && len > rq->expect_threshold) {
            if (!e)
                rc = buf_adds(b, "Expect: 100-continue\r\n");
            t->expect = !e || (e->value && strcasecmp(e->value, "100-continue") == 0);
        } else if (!rc && e && e->value) {
            rc = buf_printf(b, "%s: %s\r\n", e->name, e->value);
            t->expect = strcasecmp(e->value, "100-continue") == 0;
        }
    } else if (!rc) {
        const char *const bodyless[] = {"Content-Length", "Transfer-Encoding", "Expect"};
        for (int i = 0; i < 3 && !rc; i++) {
            const req_hdr *h = user_hdr(rq, bodyless[i]);
            if (h && h->value)
                rc = buf_printf(b, "%s: %s\r\n", h->name, h->value);
        }
    }
    if (!rc)
        rc = buf_adds(b, "\r\n");
    free(target);
    free(host);
    return rc;
}

/* ---- connecting ----------------------------------------------------------- */

/* ---- TLS ------------------------------------------------------------------ */

static void tls_done(transfer *t)
{
    conn *cn = t->cn;
    const tls_info *ti = tls_filter_info(cn->top);
    phase_end(t);
    t->rs->t[HF_TIME_APPCONNECT] = since(t);
    if (ti) {
        snprintf(cn->tls_version, sizeof cn->tls_version, "%s", ti->version);
        snprintf(cn->tls_cipher, sizeof cn->tls_cipher, "%s", ti->cipher);
        cn->tls_verify = ti->verify_result;
        cn->tls_ncerts = ti->num_certs;
        free(cn->tls_certs);
        cn->tls_certs = ti->certs ? strdup(ti->certs) : NULL;
        char d[400];
        snprintf(d, sizeof d, "%s, cipher %s, group %s, ALPN %s, %s, "
                 "certificate %s", ti->version, ti->cipher,
                 ti->group[0] ? ti->group : "?", ti->alpn[0] ? ti->alpn : "none",
                 ti->resumed ? "session resumed" : "full handshake",
                 ti->verify_msg);
        ev_args ea = {0};
        ea.peer = cn->remote;
        ea.detail = d;
        ev(t, HF_EV_TLS_END, &ea);
        info(t, "TLS handshake done: %s, cipher %s, group %s, ALPN %s, %s",
             ti->version, ti->cipher, ti->group[0] ? ti->group : "?",
             ti->alpn[0] ? ti->alpn : "none",
             ti->resumed ? "session resumed" : "full handshake");
        if (t->rq->debug_fn && ti->certs) {
            /* each certificate line as its own step */
            const char *p = ti->certs;
            while (*p) {
                size_t n = strcspn(p, "\n");
                info(t, "  %.*s", (int)n, p);
                p += n + (p[n] == '\n');
            }
        }
        info(t, "Server certificate: %s%s", ti->verify_msg,
             t->tls.insecure ? " (not enforced: --insecure)" : "");
    }
    t->state = ST_SEND;
    start_exchange(t);
}

static void tls_step(transfer *t)
{
    conn *cn = t->cn;
    char why[256] = "";
    int done = 0, want = 0;
    int rc = cn->top->ops->handshake(cn->top, &done, &want, why, sizeof why);
    if (rc) {
        if (t->state == ST_PTLS)
            fail(t, (hf_err)rc, "TLS handshake with proxy %s: %s", t->plabel, why);
        else
            fail(t, (hf_err)rc, "TLS handshake with %s (%s): %s", t->peer,
                 t->u.host, why);
        return;
    }
    if (done && t->state == ST_PTLS) {
        const tls_info *ti = tls_filter_info(cn->top);
        phase_end(t);
        char d[300];
        snprintf(d, sizeof d, "proxy %s: %s, cipher %s, certificate %s", t->plabel,
                 ti ? ti->version : "?", ti ? ti->cipher : "?",
                 ti ? ti->verify_msg : "?");
        ev_args ea = {0};
        ea.peer = cn->remote;
        ea.detail = d;
        ev(t, HF_EV_TLS_END, &ea);
        info(t, "TLS with proxy %s done: %s", t->plabel, d);
        proxy_next(t);
    } else if (done)
        tls_done(t);
    else
        watch(t, want);
}

static void start_tls(transfer *t)
{
    hf_client *c = t->c;
    char why[256] = "";
    if (!c->tls && !(c->tls = tls_client_new())) {
        fail(t, HF_E_NOMEM, "TLS handshake with %s: out of memory (OpenSSL "
             "could not start)", t->peer);
        return;
    }
    filter *f = NULL;
    /* inside a tunnel through an https proxy: TLS in TLS, over the layers;
     * else straight on the socket (a tunnel's layer has nothing buffered:
     * the client speaks first in TLS) */
    int over = t->via == VIA_TUNNEL && t->px.scheme == PROXY_HTTPS;
    int rc = over ? tls_filter_new_over(c->tls, &t->tls, t->cn->top, t->u.host,
                                        t->u.port, &f, why, sizeof why)
                  : tls_filter_new(c->tls, &t->tls, t->cn->fd, t->u.host, t->u.port,
                                   &f, why, sizeof why);
    if (rc) {
        fail(t, (hf_err)rc, "TLS setup for %s: %s", t->peer, why);
        return;
    }
    if (over)
        t->cn->top = f; /* it owns the layers below */
    else
        conn_push(t->cn, f);
    t->cn->is_tls = 1;
    t->state = ST_TLS;
    phase_start(t, "--tls-timeout", t->rq->tls_ms);
    {
        char d[300];
        snprintf(d, sizeof d, "SNI %s, ALPN %s",
                 t->u.host_type == URL_HOST_NAME ? t->u.host : "none", t->tls.alpn);
        ev_args ea = {0};
        ea.peer = t->cn->remote;
        ea.detail = d;
        ev(t, HF_EV_TLS_START, &ea);
    }
    info(t, "TLS handshake with %s (SNI %s, ALPN %s, verify %s)", t->peer,
         t->u.host_type == URL_HOST_NAME ? t->u.host : "none",
         t->tls.alpn, t->tls.insecure ? "off" : "on");
    tls_step(t);
}

static void connected(transfer *t, int fd, const attempt *a)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *cn = conn_new(t->c, fd, t->key);
    if (!cn) {
        loop_forget(t->c->lp, fd);
        close(fd);
        fail(t, HF_E_NOMEM, "connect to %s: out of memory", a->text);
        return;
    }
    t->cn = cn;
    cn->tr = &t->rs->trace;
    cn->xfer = t->id;
    cn->t0 = t->t0;
    t->c->num_connects++;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        addr_format((struct sockaddr *)&ss, cn->local, sizeof cn->local, NULL, 0, NULL);
    addr_format((const struct sockaddr *)&a->addr.sa, cn->remote, sizeof cn->remote,
                cn->remote_ip, sizeof cn->remote_ip, &cn->remote_port);
    snprintf(t->peer, sizeof t->peer, "%s", cn->remote);
    if (t->tm_conn) {
        loop_timer_cancel(t->c->lp, t->tm_conn);
        t->tm_conn = 0;
    }
    t->rs->t[HF_TIME_CONNECT] = since(t);
    {
        hf_tcp_info ti;
        trace_tcp_info(fd, &ti);
        ev_args ea = {0};
        ea.peer = cn->remote;
        ea.local = cn->local;
        ea.value = (int64_t)(a->end_ns - a->start_ns);
        ea.tcp = &ti;
        ea.mono = t->t0 + a->end_ns; /* when the loop saw it, not now */
        ea.detail = t->c->tcp_quickack ? "ACK sent" : "ACK with the first bytes";
        ev(t, HF_EV_TCP_ESTABLISHED, &ea);
    }
    info(t, "Connected to %s (%s) port %d (#%ld) from %s in %.2f ms", t->u.host,
         cn->remote_ip, cn->remote_port, cn->id, cn->local,
         (double)(a->end_ns - a->start_ns) / 1e6);
    if (t->via) {
        proxy_next(t);
        return;
    }
    if (t->https) {
        start_tls(t);
        return;
    }
    t->state = ST_SEND;
    start_exchange(t);
}

/* The connector's callbacks. */
static void k_resolved(void *arg)
{
    transfer *t = arg;
    if (t->state == ST_CONNECT)
        phase_end(t);
    if (!t->rs->t[HF_TIME_NAMELOOKUP])
        t->rs->t[HF_TIME_NAMELOOKUP] = since(t);
}

static void k_connected(void *arg, int fd, const attempt *a)
{
    transfer *t = arg;
    if (t->done) { /* ended (cancelled) in this same loop turn */
        loop_forget(t->c->lp, fd);
        close(fd);
        return;
    }
    connected(t, fd, a);
    /* the attempts are over: their memory goes now, not at the end (5,000
     * open transfers stay small); the connector finishes the free on its
     * way out of this callback */
    connector_free(t->k);
    t->k = NULL;
}

static void k_failed(void *arg, int err, const char *msg)
{
    transfer *t = arg;
    if (t->via && err == HF_E_RESOLVE) /* curl's 5: the proxy's name */
        fail(t, HF_E_RESOLVE_PROXY, "proxy: %s", msg);
    else if (t->via)
        fail(t, (hf_err)err, "proxy: %s", msg);
    else
        fail(t, (hf_err)err, "%s", msg);
}

static void k_log(void *arg, const char *line)
{
    info(arg, "%s", line);
}

static void k_event(void *arg, hf_ev type, const ev_args *a)
{
    ev(arg, type, a);
}

static void on_connect_timeout(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    t->tm_conn = 0;
    if (t->done)
        return;
    size_t n;
    const attempt *at = connector_attempts(t->k, &n);
    if (n)
        fail(t, HF_E_TIMEOUT, "connect to %s: timed out (%zu attempt%s)",
             at[n - 1].text, n, n == 1 ? "" : "s");
    else
        fail(t, HF_E_TIMEOUT, "resolve %s: timed out", t->u.host);
}

static void connect_to(transfer *t, const url *u)
{
    static const connect_cb cb0;
    connect_cb cb = cb0;
    cb.resolved = k_resolved;
    cb.connected = k_connected;
    cb.failed = k_failed;
    cb.log = t->rq->debug_fn ? k_log : NULL; /* no text nobody reads */
    cb.event = k_event;
    cb.arg = t;
    connector_free(t->k);
    t->k = NULL;
    t->state = ST_CONNECT;
    t->pstep = 0;
    snprintf(t->peer, sizeof t->peer, "%s:%d", u->host, u->port);
    long cms = t->rq->connect_timeout_ms ? t->rq->connect_timeout_ms
             : t->c->connect_timeout_ms ? t->c->connect_timeout_ms
             : DEFAULT_CONNECT_MS;
    if (t->tm_conn)
        loop_timer_cancel(t->c->lp, t->tm_conn);
    if (!(t->tm_conn = timer_or_fail(t, (uint64_t)cms, on_connect_timeout)))
        return;
    phase_start(t, "--dns-timeout", t->rq->dns_ms);
    if (t->done)
        return;
    if (connector_start(t->c, u, t->t0, &cb, &t->k) != 0)
        fail(t, HF_E_NOMEM, "connect to %s: out of memory", t->peer);
}

/* ---- proxies (issue 8): the layers between the socket and the origin ----- */

static const char *env_get(const char *name, void *arg)
{
    (void)arg;
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int socks_kind_of(proxy_scheme s)
{
    return s == PROXY_SOCKS4 ? TUNNEL_SOCKS4 : s == PROXY_SOCKS4A ? TUNNEL_SOCKS4A
         : s == PROXY_SOCKS5 ? TUNNEL_SOCKS5 : TUNNEL_SOCKS5H;
}

static int is_socks(proxy_scheme s)
{
    return s != PROXY_HTTP && s != PROXY_HTTPS;
}

/* "host:port" of a spec, IPv6 bracketed. */
static void spec_label(const proxy_spec *p, char *out, size_t n)
{
    snprintf(out, n, p->host_type == PROXY_HOST_IPV6 ? "[%s]:%d" : "%s:%d",
             p->host, p->port);
}

/* A spec as a URL to connect to. */
static int spec_url(const proxy_spec *p, url *u)
{
    char s[400], why[64];
    snprintf(s, sizeof s, p->host_type == PROXY_HOST_IPV6 ? "http://[%s]:%d/"
             : "http://%s:%d/", p->host, p->port);
    return url_parse(u, s, why, sizeof why);
}

static int parse_spec(transfer *t, proxy_spec *p, const char *spec,
                      const char *what)
{
    char why[160] = "";
    int rc = proxy_parse(p, spec, why, sizeof why);
    if (!rc)
        return 0;
    /* curl: an unknown scheme is exit 7, another bad spec exit 5 */
    hf_err e = rc == HF_E_NOMEM ? HF_E_NOMEM
             : rc == HF_E_UNSUPPORTED_PROTOCOL ? HF_E_CONNECT : HF_E_RESOLVE_PROXY;
    fail(t, e, "%s for %s: %s", what, t->u.host, why);
    return -1;
}

/* Which proxy this hop goes through (-x, the environment, --noproxy), and
 * how.  0, or -1 when the transfer failed. */
static int proxy_select(transfer *t)
{
    hf_request *rq = t->rq;
    const char *source = NULL;
    const char *spec = proxy_choose(t->u.scheme, t->u.host,
                                    rq->proxy_given ? rq->proxy : NULL,
                                    rq->noproxy_given ? rq->noproxy : NULL,
                                    env_get, NULL, &source);
    if (!spec) {
        if (source && strcmp(source, "--proxy") != 0)
            info(t, "Not using a proxy for %s (%s)", t->u.host, source);
        return 0;
    }
    if (parse_spec(t, &t->px, spec, "proxy"))
        return -1;
    if (rq->preproxy && *rq->preproxy) {
        if (parse_spec(t, &t->pre, rq->preproxy, "preproxy"))
            return -1;
        if (!is_socks(t->pre.scheme) || is_socks(t->px.scheme)) {
            fail(t, HF_E_BAD_ARG, "preproxy for %s: a SOCKS proxy in front of "
                 "an http or https proxy is needed", t->u.host);
            return -1;
        }
    }
    spec_label(&t->px, t->plabel, sizeof t->plabel);
    t->puser = rq->proxy_user ? rq->proxy_user : t->px.user;
    t->ppass = rq->proxy_user ? rq->proxy_pass : t->px.password;
    if (is_socks(t->px.scheme)) {
        t->via = VIA_TUNNEL;
        t->tkind = socks_kind_of(t->px.scheme);
    } else if (t->https || rq->proxy_tunnel) {
        t->via = VIA_TUNNEL;
        t->tkind = TUNNEL_CONNECT;
    } else {
        t->via = VIA_FORWARD;
    }
    if (spec_url(t->pre.host ? &t->pre : &t->px, &t->pu)) {
        fail(t, HF_E_NOMEM, "proxy for %s: out of memory", t->u.host);
        return -1;
    }
    t->rs->proxy_used = 1;
    char *shown = proxy_spec_string(&t->px, 0);
    snprintf(t->rs->proxy, sizeof t->rs->proxy, "%s", shown ? shown : t->plabel);
    free(shown);
    if (t->px.scheme == PROXY_HTTPS) {
        tls_config *pc = &t->ptls;
        pc->insecure = rq->proxy_insecure;
        pc->cafile = rq->proxy_cafile;
        pc->capath = rq->proxy_capath;
        pc->alpn = "http/1.1";
        pc->no_session = rq->no_session;
    }
    info(t, "Using proxy %s (%s) %s", t->rs->proxy, source ? source : "-x",
         t->via == VIA_FORWARD ? "for an absolute-form request"
         : t->tkind == TUNNEL_CONNECT ? "through a CONNECT tunnel" : "through SOCKS");
    return 0;
}

/* The pool key's proxy part: the whole chain with its credentials and the
 * proxy's TLS configuration (SECURITY.md B). */
static int proxy_key(transfer *t, buf *key)
{
    char *ps = proxy_spec_string(&t->px, 1), *pre = NULL, *tk = NULL;
    int rc = !ps;
    if (!rc && t->pre.host)
        rc = !(pre = proxy_spec_string(&t->pre, 1));
    if (!rc && t->px.scheme == PROXY_HTTPS)
        rc = !(tk = tls_config_key(&t->ptls));
    if (!rc)
        rc = buf_printf(key, "|via %s%s%s%s%s%s%s", ps, t->via == VIA_TUNNEL ? " tunnel" : "",
                        pre ? " pre " : "", pre ? pre : "", tk ? " tls " : "",
                        tk ? tk : "", t->rq->proxy_user ? " user" : "");
    if (!rc && t->rq->proxy_user) /* -U credentials are not in the spec */
        rc = buf_printf(key, " %s:%s", t->puser, t->ppass ? t->ppass : "");
    free(ps);
    free(pre);
    free(tk);
    return rc;
}

/* After TCP to the first hop: each proxy layer in turn, then the origin. */
static void start_tunnel(transfer *t);
static void start_proxy_tls(transfer *t);

static void proxy_next(transfer *t)
{
    for (;;) {
        int step = t->pstep++;
        if (step == 0 && t->pre.host) {
            t->in_pre = 1;
            start_tunnel(t);
            return;
        }
        if (step == 1 && t->px.scheme == PROXY_HTTPS) {
            start_proxy_tls(t);
            return;
        }
        if (step == 2) {
            t->rs->t[HF_TIME_PROXY_CONNECT] = since(t);
            if (t->via == VIA_TUNNEL) {
                t->in_pre = 0;
                start_tunnel(t);
                return;
            }
        }
        if (step == 3) {
            if (t->via == VIA_TUNNEL)
                t->rs->t[HF_TIME_TUNNEL] = since(t);
            snprintf(t->peer, sizeof t->peer, "%s:%d via %s", t->u.host,
                     t->u.port, t->plabel);
            if (t->https) {
                start_tls(t);
                return;
            }
            t->state = ST_SEND;
            start_exchange(t);
            return;
        }
    }
}

static void start_proxy_tls(transfer *t)
{
    hf_client *c = t->c;
    char why[256] = "";
    if (!c->tls && !(c->tls = tls_client_new())) {
        fail(t, HF_E_NOMEM, "TLS handshake with proxy %s: OpenSSL failed to start",
             t->plabel);
        return;
    }
    filter *f = NULL;
    int over = t->pre.host != NULL; /* inside the preproxy's tunnel */
    int rc = over ? tls_filter_new_over(c->tls, &t->ptls, t->cn->top, t->px.host,
                                        t->px.port, &f, why, sizeof why)
                  : tls_filter_new(c->tls, &t->ptls, t->cn->fd, t->px.host,
                                   t->px.port, &f, why, sizeof why);
    if (rc) {
        fail(t, (hf_err)rc, "TLS setup for proxy %s: %s", t->plabel, why);
        return;
    }
    if (over)
        t->cn->top = f;
    else
        conn_push(t->cn, f);
    t->state = ST_PTLS;
    phase_start(t, "--tls-timeout", t->rq->tls_ms);
    char d[300];
    snprintf(d, sizeof d, "proxy %s, SNI %s", t->plabel,
             t->px.host_type == PROXY_HOST_NAME ? t->px.host : "none");
    ev_args ea = {0};
    ea.peer = t->cn->remote;
    ea.detail = d;
    ev(t, HF_EV_TLS_START, &ea);
    info(t, "TLS handshake with proxy %s (verify %s)", t->plabel,
         t->ptls.insecure ? "off" : "on");
    tls_step(t);
}

static void start_tunnel(transfer *t)
{
    hf_request *rq = t->rq;
    tunnel_cfg tc;
    memset(&tc, 0, sizeof tc);
    char label[300];
    if (t->in_pre) { /* the preproxy (SOCKS) to the proxy */
        spec_label(&t->pre, label, sizeof label);
        tc.kind = socks_kind_of(t->pre.scheme);
        tc.host = t->px.host;
        tc.port = t->px.port;
        tc.proxy = label;
        tc.user = t->pre.user;
        tc.password = t->pre.password;
    } else {
        tc.kind = t->tkind;
        tc.host = t->origin_addr ? t->origin_addr : t->u.host;
        tc.port = t->u.port;
        tc.proxy = t->plabel;
        tc.user = t->puser;
        tc.password = t->ppass;
        tc.auth = rq->proxy_auth ? rq->proxy_auth : HF_AUTH_BASIC;
        tc.headers = (const char *const *)rq->proxy_hdrs;
        tc.nheaders = rq->nproxy_hdrs;
        tc.user_agent = HF_UA;
        tc.max_head = H1_MAX_HEAD;
    }
    filter *f = NULL;
    char why[300] = "";
    int rc = tunnel_filter_new(t->cn->top, &tc, &f, why, sizeof why);
    if (rc) {
        fail(t, (hf_err)rc, "%s", why);
        return;
    }
    t->cn->top = f; /* it owns the layers below */
    t->state = ST_TUNNEL;
    t->tunnel_t0 = loop_now_ns();
    static const char *const kinds[] = {"SOCKS4", "SOCKS4a", "SOCKS5", "SOCKS5h",
                                        "CONNECT"};
    char d[400];
    int v6 = strchr(tc.host, ':') != NULL;
    snprintf(d, sizeof d, v6 ? "%s [%s]:%d" : "%s %s:%d", kinds[tc.kind], tc.host, tc.port);
    ev_args ea = {0};
    ea.peer = tc.proxy;
    ea.detail = d;
    ev(t, HF_EV_TUNNEL_START, &ea);
    info(t, "Asking proxy %s for a tunnel: %s", tc.proxy, d);
    tunnel_step(t);
}

static void tunnel_step(transfer *t)
{
    conn *cn = t->cn;
    char why[400] = "";
    int done = 0, want = 0;
    int rc = cn->top->ops->handshake(cn->top, &done, &want, why, sizeof why);
    const tunnel_info *ti = tunnel_filter_info(cn->top);
    if ((rc || done) && ti && !t->in_pre) {
        t->rs->http_connect = ti->status;
        if (ti->heads && t->rq->debug_fn)
            t->rq->debug_fn(t->rq->debug_arg, HF_INFO_HEADER_IN, since(t),
                            ti->heads, ti->heads_len);
    }
    if (rc) {
        fail(t, (hf_err)rc, "%s", why);
        return;
    }
    if (!done) {
        watch(t, want ? want : LOOP_READ);
        return;
    }
    char d[200];
    if (ti && ti->status)
        snprintf(d, sizeof d, "CONNECT answered %d", ti->status);
    else
        snprintf(d, sizeof d, "SOCKS granted%s%s", ti && ti->bound[0] ? ", bound " : "",
                 ti && ti->bound[0] ? ti->bound : "");
    ev_args ea = {0};
    ea.peer = t->in_pre ? "" : t->plabel;
    ea.detail = d;
    ea.value = (int64_t)(loop_now_ns() - t->tunnel_t0);
    ev(t, HF_EV_TUNNEL_END, &ea);
    info(t, "Tunnel up: %s", d);
    proxy_next(t);
}

/* SOCKS4 and SOCKS5 (not 4a, 5h) need the origin's address from here. */
static void oq_answer(void *arg, const res_answer *a)
{
    transfer *t = arg;
    if (t->origin_addr || !a->n)
        return;
    char ip[64];
    addr_format((const struct sockaddr *)&a->addrs[0], NULL, 0, ip, sizeof ip, NULL);
    t->origin_addr = strdup(ip);
}

static void proxy_connect(transfer *t);

static void oq_done(void *arg, int err, const char *why)
{
    transfer *t = arg;
    t->oq = NULL;
    if (t->done)
        return;
    if (err || !t->origin_addr) {
        fail(t, err == HF_E_NOMEM ? HF_E_NOMEM : HF_E_RESOLVE, "resolve %s "
             "(for SOCKS proxy %s): %s", t->u.host, t->plabel, why ? why : "no address");
        return;
    }
    proxy_connect(t);
}

/* To the (pre)proxy; for SOCKS4/5 the origin's address first. */
static void proxy_connect(transfer *t)
{
    int local = t->tkind == TUNNEL_SOCKS4 || t->tkind == TUNNEL_SOCKS5;
    if (t->via == VIA_TUNNEL && local && !t->origin_addr) {
        if (t->u.host_type != URL_HOST_NAME) {
            if (t->tkind == TUNNEL_SOCKS4 && t->u.host_type == URL_HOST_IPV6) {
                fail(t, HF_E_PROXY, "SOCKS4 proxy %s: cannot reach the IPv6 "
                     "address %s", t->plabel, t->u.host);
                return;
            }
            t->origin_addr = strdup(t->u.host);
        } else {
            hf_addr *as = NULL;
            size_t n = 0;
            char err[256] = "";
            int rc = names_resolve(t->c, &t->u, &as, &n, err, sizeof err);
            if (rc == NAMES_ASK) {
                resolver *r = client_resolver(t->c);
                static const res_callbacks cb0;
                res_callbacks cb = cb0;
                cb.answer = oq_answer;
                cb.done = oq_done;
                cb.arg = t;
                int fam = t->tkind == TUNNEL_SOCKS4 || t->c->family == 4 ? AF_INET
                        : t->c->family == 6 ? AF_INET6 : AF_UNSPEC;
                rc = r ? resolver_start(r, t->u.host, fam, &cb, &t->oq) : HF_E_NOMEM;
                if (rc)
                    fail(t, (hf_err)rc, "resolve %s (for SOCKS proxy %s): %s",
                         t->u.host, t->plabel, rc == HF_E_NOMEM ? "out of memory"
                         : "cannot be asked");
                return;
            }
            if (rc) {
                fail(t, (hf_err)rc, "%s", err);
                return;
            }
            for (size_t i = 0; i < n && !t->origin_addr; i++) {
                if (t->tkind == TUNNEL_SOCKS4 && as[i].sa.ss_family != AF_INET)
                    continue;
                char ip[64];
                addr_format((const struct sockaddr *)&as[i].sa, NULL, 0, ip,
                            sizeof ip, NULL);
                t->origin_addr = strdup(ip);
            }
            free(as);
        }
        if (!t->origin_addr) {
            fail(t, HF_E_RESOLVE, "resolve %s (for SOCKS proxy %s): no usable "
                 "address", t->u.host, t->plabel);
            return;
        }
    }
    connect_to(t, &t->pu);
}

static void resolve_and_connect(transfer *t)
{
    if (t->via)
        proxy_connect(t);
    else
        connect_to(t, &t->u);
}

/* ---- sending ------------------------------------------------------------- */

/* RFC 9110 9.2.2: idempotent methods, with a body that can be sent again */
static int replayable(const transfer *t)
{
    static const char *const idem[] = {"GET", "HEAD", "PUT", "DELETE",
                                       "OPTIONS", "TRACE", NULL};
    if (t->with_body && t->rq->reader)
        return 0; /* a caller's stream cannot be read twice; a file can */
    for (int i = 0; idem[i]; i++)
        if (strcmp(t->method, idem[i]) == 0)
            return 1;
    return 0;
}

static int retryable(const transfer *t)
{
    return t->reused && !t->retried && !t->got_bytes && replayable(t);
}

/* A reused connection died before the response began: RFC 9112 9.3.1
 * lets an idempotent request be retried on a new connection. */
static void retry(transfer *t, const char *why)
{
    info(t, "Connection #%ld died (%s); retrying on a new connection",
         t->cn->id, why);
    pool_saw_close(t->c, t->cn);
    conn_close(t->c, t->cn, CONN_ABORT, "died before the response; retried");
    t->cn = NULL;
    t->retried = 1;
    t->reused = 0;
    t->rs->reused = 0;
    resolve_and_connect(t);
}

/* Fill t->out with the next piece of the body; 1 when there is more. */
static int next_piece(transfer *t)
{
    hf_request *rq = t->rq;
    t->out.len = 0;
    t->out_off = 0;
    if (!t->reader) {
        size_t n = rq->body_len - t->body_off;
        if (n > UPLOAD_PIECE)
            n = UPLOAD_PIECE;
        if (n == 0)
            return 0;
        if (buf_add(&t->out, rq->body + t->body_off, n)) {
            fail(t, HF_E_NOMEM, "send to %s: out of memory", t->peer);
            return 0;
        }
        t->body_off += n;
        return 1;
    }
    if (t->send_phase == SEND_DONE)
        return 0;
    char piece[UPLOAD_PIECE];
    size_t cap = sizeof piece, got = 0;
    int chunked = t->reader_len < 0;
    if (!chunked && (uint64_t)(t->reader_len - t->up_sent) < cap)
        cap = (size_t)(t->reader_len - t->up_sent);
    if (cap && t->reader(t->reader_arg, piece, cap, &got) != 0) {
        fail(t, HF_E_READ, "send to %s: the upload source failed", t->peer);
        return 0;
    }
    if (got > cap)
        got = cap;
    t->up_sent += (int64_t)got;
    int rc = 0;
    if (chunked) { /* RFC 9112 7.1: size CRLF data CRLF ... 0 CRLF CRLF */
        if (got)
            rc = buf_printf(&t->out, "%zx\r\n", got);
        if (!rc && got)
            rc = buf_add(&t->out, piece, got);
        if (!rc)
            rc = buf_adds(&t->out, got ? "\r\n" : "0\r\n\r\n");
        if (!got)
            t->send_phase = SEND_DONE;
    } else {
        if (got)
            rc = buf_add(&t->out, piece, got);
        else if (t->up_sent < t->reader_len) {
            fail(t, HF_E_READ, "send to %s: the upload source ended %lld bytes early",
                 t->peer, (long long)(t->reader_len - t->up_sent));
            return 0;
        }
        if (t->up_sent == t->reader_len)
            t->send_phase = SEND_DONE;
    }
    if (rc) {
        fail(t, HF_E_NOMEM, "send to %s: out of memory", t->peer);
        return 0;
    }
    return t->out.len > 0;
}

static void start_body_send(transfer *t)
{
    if (t->tm_expect) {
        loop_timer_cancel(t->c->lp, t->tm_expect);
        t->tm_expect = 0;
    }
    t->state = ST_SEND;
    t->send_phase = SEND_BODY;
    t->out.len = t->out_off = 0;
    do_send(t);
}

static void on_expect_timeout(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    t->tm_expect = 0;
    if (t->state != ST_EXPECT || t->done)
        return;
    info(t, "No 100 Continue after %d ms; sending the body", EXPECT_WAIT_MS);
    start_body_send(t);
}

static void do_send(transfer *t)
{
    conn *cn = t->cn;
    char eb[256];
    for (;;) {
        if (t->done)
            return;
        if (t->send_phase == SEND_HEAD && t->out_off == 0 && !t->head_start)
            t->head_start = loop_now_ns(); /* the request leaves now */
        while (t->out_off < t->out.len) {
            size_t nw;
            int want;
            int rc = cn->top->ops->send(cn->top, t->out.data + t->out_off,
                                        t->out.len - t->out_off, &nw, &want,
                                        eb, sizeof eb);
            if (rc) {
                if (retryable(t)) {
                    retry(t, eb);
                    return;
                }
                /* the server may have answered before reading the whole
                 * request, then closed (RFC 9112 9.6 lets it): if its
                 * answer is here, read it rather than report the send */
                int avail = 0;
                if (ioctl(cn->fd, FIONREAD, &avail) == 0 && avail > 0) {
                    info(t, "The server stopped reading the request (%s); "
                         "reading its answer", eb);
                    close_after(t, CONN_ABORT, "the server stopped reading the request");
                    t->send_phase = SEND_DONE;
                    t->state = ST_RECV_HEAD;
                    do_recv(t);
                    return;
                }
                fail(t, (hf_err)rc, "send to %s: %s", t->peer, eb);
                return;
            }
            if (!nw) {
                watch(t, want);
                return;
            }
            if (errno == ECONNRESET) /* reset while sending */
                conn_saw_rst(t->c, cn);
            t->out_off += nw;
        }
        if (t->send_phase == SEND_HEAD) {
            char line[200];
            size_t ll = strcspn(t->rs->req_head ? t->rs->req_head : "", "\r\n");
            snprintf(line, sizeof line, "%.*s", (int)(ll < 190 ? ll : 190),
                     t->rs->req_head ? t->rs->req_head : "");
            ev_args a = {0};
            a.value = (int64_t)t->head_len;
            a.detail = line;
            a.mono = t->head_start;
            ev(t, HF_EV_REQUEST_HEAD, &a);
            t->send_phase = t->with_body ? SEND_BODY : SEND_DONE;
            if (t->expect) {
                t->state = ST_EXPECT;
                if (!(t->tm_expect = timer_or_fail(t, EXPECT_WAIT_MS,
                                                   on_expect_timeout)))
                    return;
                watch(t, LOOP_READ);
                return;
            }
        }
        if (t->send_phase == SEND_BODY && next_piece(t))
            continue;
        if (t->done)
            return;
        /* all sent */
        if (t->with_body) {
            ev_args a = {0};
            a.value = t->reader ? t->up_sent : (int64_t)t->rq->body_len;
            t->rs->size_upload = a.value;
            ev(t, HF_EV_REQUEST_BODY, &a);
        }
        t->rs->t[HF_TIME_POSTTRANSFER] = since(t);
        t->send_phase = SEND_DONE;
        t->state = ST_RECV_HEAD;
        t->last_rx = loop_now_ns();
        if (!t->got_bytes)
            phase_start(t, "--ttfb-timeout", t->rq->ttfb_ms);
        if (t->done)
            return;
        if (watch(t, LOOP_READ))
            return;
        if (cn->rlen) /* the answer came with the 100 Continue */
            parse_heads(t);
        return;
    }
}

/* ---- receiving ------------------------------------------------------------ */

static void finish(transfer *t)
{
    if (t->dec) {
        int rc = decoder_finish(t->dec);
        if (rc) {
            fail(t, (hf_err)rc, "decode body from %s: %s", t->peer,
                 rc == HF_E_WRITE ? "write failed" : "truncated or corrupt encoded body");
            return;
        }
    }
    ev_args a = {0};
    a.value = t->rs->size_download;
    ev(t, HF_EV_RESPONSE_BODY, &a);
    hop_ended(t);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sink(void *arg, const void *p, size_t n)
{
    transfer *t = arg;
    t->decoded += (int64_t)n;
    if (t->rq->max_filesize && t->decoded > t->rq->max_filesize)
        return HF_E_TOO_LARGE;
    if (t->out_fd >= 0)
        return write_all(t->out_fd, p, n) ? HF_E_WRITE : 0;
    if (t->rq->sink) {
        if (t->job->paused) /* a decoder's output after the pause: held */
            return buf_add(&t->held, p, n);
        int rc = t->rq->sink(t->rq->sink_arg, p, n);
        if (rc == HF_WRITE_PAUSE && !t->job->sync) {
            t->job->paused = 1;
            return 0;
        }
        return rc ? HF_E_WRITE : 0;
    }
    return buf_add(&t->rs->body, p, n);
}

static void deliver(transfer *t, const char *p, size_t n)
{
    t->rs->size_download += (int64_t)n;
    if (t->discard || !n)
        return;
    int rc = t->dec ? decoder_feed(t->dec, p, n) : sink(t, p, n);
    if (rc == HF_E_WRITE)
        fail(t, HF_E_WRITE, "write body from %s: the output failed", t->peer);
    else if (rc == HF_E_BAD_CONTENT_ENCODING)
        fail(t, HF_E_BAD_CONTENT_ENCODING, "decode body from %s: corrupt encoded body", t->peer);
    else if (rc == HF_E_TOO_LARGE)
        fail(t, HF_E_TOO_LARGE, "receive from %s: the decoded body (or one of "
             "its encoded layers) is larger than --max-filesize %lld bytes",
             t->peer, (long long)t->rq->max_filesize);
    else if (rc)
        fail(t, (hf_err)rc, "receive from %s: %s", t->peer, hf_strerror((hf_err)rc));
}

/* Consume the body bytes in the connection's buffer. */
static void body_consume(transfer *t)
{
    conn *cn = t->cn;
    size_t len = cn->rlen;
    cn->rlen = 0;
    if (t->fr.kind == H1_BODY_LENGTH) {
        size_t k = len < t->remaining ? len : (size_t)t->remaining;
        deliver(t, cn->rbuf, k);
        t->remaining -= k;
        if (k < len) /* bytes past the message: the framing is off */
            close_after(t, CONN_ABORT, "bytes after the response");
        if (t->remaining == 0)
            finish(t);
    } else if (t->fr.kind == H1_BODY_CHUNKED) {
        size_t off = 0;
        while (off < len && !t->done && !t->job->paused) {
            size_t used = 0, dl = 0;
            const char *d = NULL;
            int rc = h1_chunked_step(&t->ck, cn->rbuf + off, len - off, &used, &d, &dl);
            off += used;
            if (dl)
                deliver(t, d, dl);
            if (rc < 0) {
                fail(t, HF_E_RECV, "receive from %s: %s", t->peer,
                     rc == H1_ERR_TOO_LARGE ? "chunk trailers too large"
                     : "malformed chunked encoding");
                return;
            }
            if (rc == 1) {
                if (off < len)
                    close_after(t, CONN_ABORT, "bytes after the response");
                finish(t);
                return;
            }
            if (!used && !dl)
                break;
        }
        if (!t->done && off < len) { /* paused: the rest waits */
            memmove(cn->rbuf, cn->rbuf + off, len - off);
            cn->rlen = len - off;
        }
    } else {
        deliver(t, cn->rbuf, len);
    }
}

static void store_head(transfer *t, const char *raw, size_t len,
                       const h1_resp *hr, const h1_header *hv)
{
    hf_response *rs = t->rs;
    rs->status = hr->status;
    rs->minor = hr->minor;
    free(rs->head);
    free(rs->reason);
    free(rs->hdrs);
    free(rs->hstore);
    rs->hdrs = NULL;
    rs->hstore = NULL;
    rs->nhdrs = 0;
    size_t total = 0;
    for (size_t i = 0; i < hr->nhdr; i++)
        total += hv[i].name_len + hv[i].value_len + 2;
    rs->head = malloc(len + 1);
    rs->reason = strndup(hr->reason, hr->reason_len);
    rs->hstore = malloc(total ? total : 1);
    rs->hdrs = malloc((hr->nhdr ? hr->nhdr : 1) * sizeof *rs->hdrs);
    if (!rs->head || !rs->reason || !rs->hstore || !rs->hdrs) {
        fail(t, HF_E_NOMEM, "receive from %s: out of memory", t->peer);
        return;
    }
    memcpy(rs->head, raw, len);
    rs->head[len] = 0;
    rs->head_len = len;
    char *p = rs->hstore;
    for (size_t i = 0; i < hr->nhdr; i++) {
        rs->hdrs[i].name = p;
        memcpy(p, hv[i].name, hv[i].name_len);
        p += hv[i].name_len;
        *p++ = 0;
        rs->hdrs[i].value = p;
        memcpy(p, hv[i].value, hv[i].value_len);
        p += hv[i].value_len;
        *p++ = 0;
    }
    rs->nhdrs = hr->nhdr;
}


/* The challenges of every field of rs named field (at most
 * AUTH_MAX_CHALLENGES); 0 or HF_E_NOMEM.  Free with auth_challenges_free. */
static int challenges_of(const hf_response *rs, const char *field,
                         auth_challenge *chs, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < rs->nhdrs && *n < AUTH_MAX_CHALLENGES; i++) {
        if (strcasecmp(rs->hdrs[i].name, field) != 0)
            continue;
        int k = auth_parse_challenges(rs->hdrs[i].value, chs + *n,
                                      AUTH_MAX_CHALLENGES - *n);
        if (k == AUTH_E_NOMEM)
            return HF_E_NOMEM;
        if (k > 0)
            *n += (size_t)k;
    }
    return 0;
}

/* Whether rs has a Digest challenge hflow can answer (a known algorithm,
 * qop auth or none): only then is its body dropped for the answer; a
 * challenge it cannot answer comes back as the response, body and all.
 * (Out of memory says yes: the answer then fails with that error.) */
static int has_digest(const hf_response *rs, const char *field)
{
    auth_challenge chs[AUTH_MAX_CHALLENGES];
    size_t n = 0;
    int rc = challenges_of(rs, field, chs, &n);
    int ok = rc ? 1 : auth_pick(chs, n, AUTH_DIGEST) >= 0;
    auth_challenges_free(chs, n);
    return ok;
}

/* A 401 or a proxy's 407 that job_next will answer with Digest: its body
 * is read and dropped, as a followed redirect's. */
static int will_answer(const transfer *t, int status)
{
    const hf_request *rq = t->rq;
    if (status == 401)
        return (rq->auth_methods & HF_AUTH_DIGEST) && t->user && !t->authz &&
               !(t->with_body && rq->reader) &&
               has_digest(t->rs, "WWW-Authenticate");
    if (status == 407)
        return t->via == VIA_FORWARD && (rq->proxy_auth & HF_AUTH_DIGEST) &&
               t->puser && !t->pauthz && !(t->with_body && rq->reader) &&
               has_digest(t->rs, "Proxy-Authenticate");
    return 0;
}

/* Parse response heads in the buffer: skip interim 1xx, then set up the
 * body of the final response. */
static void parse_heads(transfer *t)
{
    conn *cn = t->cn;
    h1_header hv[H1_MAX_FIELDS]; /* 16 KiB of stack */
    for (;;) {
        h1_resp hr;
        char *raw = cn->rbuf;
        int rc = h1_parse_head(raw, cn->rlen, &hr, hv, H1_MAX_FIELDS);
        if (rc == H1_INCOMPLETE)
            return;
        if (rc < 0) {
            if (rc == H1_ERR_TOO_LARGE)
                fail(t, HF_E_RECV, "receive from %s: response head too large "
                     "(limits: %d KiB, %d KiB a line, %d fields)", t->peer,
                     H1_MAX_HEAD / 1024, H1_MAX_LINE / 1024, H1_MAX_FIELDS);
            else
                fail(t, HF_E_WEIRD_REPLY, "receive from %s: malformed %s", t->peer,
                     rc == H1_ERR_STATUS ? "status line" : "header field");
            return;
        }
        if (t->rq->debug_fn)
            t->rq->debug_fn(t->rq->debug_arg, HF_INFO_HEADER_IN, since(t), raw, (size_t)rc);
        size_t hl = (size_t)rc;
        {
            char line[160];
            size_t ll = strcspn(raw, "\r\n");
            snprintf(line, sizeof line, "%.*s", (int)(ll < 150 ? ll : 150), raw);
            ev_args a = {0};
            a.value = hr.status;
            a.detail = line;
            ev(t, HF_EV_RESPONSE_HEAD, &a);
        }
        if (hr.status < 200) {
            if (hr.status == 101) {
                fail(t, HF_E_WEIRD_REPLY, "receive from %s: unexpected 101 "
                     "Switching Protocols", t->peer);
                return;
            }
            /* RFC 9110 15.2: interim responses are skipped */
            memmove(raw, raw + hl, cn->rlen - hl);
            cn->rlen -= hl;
            if (t->state == ST_EXPECT && hr.status == 100) {
                start_body_send(t);
                return;
            }
            continue;
        }
        store_head(t, raw, hl, &hr, hv);
        if (t->done)
            return;
        if (store_cookies(t)) {
            fail(t, HF_E_NOMEM, "receive from %s: out of memory (cookies)", t->peer);
            return;
        }
        if (h1_framing_of(&hr, hv, t->head_req, &t->fr) != 0) {
            fail(t, HF_E_WEIRD_REPLY, "receive from %s: conflicting or invalid "
                 "Content-Length / Transfer-Encoding", t->peer);
            return;
        }
        if (t->state == ST_EXPECT) {
            /* a final answer before we sent the body: RFC 9110 10.1.1 */
            if (t->tm_expect) {
                loop_timer_cancel(t->c->lp, t->tm_expect);
                t->tm_expect = 0;
            }
            close_after(t, CONN_NOW, "the request body was not sent");
        }
        if (t->fr.must_close) {
            if (hf_response_header(t->rs, "Connection") &&
                strcasestr(hf_response_header(t->rs, "Connection"), "close"))
                close_after(t, CONN_AFTER_SERVER, "Connection: close");
            else if (t->fr.kind == H1_BODY_CLOSE)
                close_after(t, CONN_AFTER_SERVER, "close-delimited body");
            else if (hr.minor == 0)
                close_after(t, CONN_AFTER_SERVER, "HTTP/1.0 without keep-alive");
            else
                close_after(t, CONN_NOW, "framing");
        }
        t->remaining = t->fr.length;
        memset(&t->ck, 0, sizeof t->ck);
        if (t->rq->max_filesize && t->fr.kind == H1_BODY_LENGTH &&
            t->fr.length > (uint64_t)t->rq->max_filesize && !t->discard) {
            fail(t, HF_E_TOO_LARGE, "receive from %s: the body (%llu bytes) is "
                 "larger than --max-filesize %lld bytes", t->peer,
                 (unsigned long long)t->fr.length, (long long)t->rq->max_filesize);
            return;
        }
        /* a redirect that will be followed: its body is read and dropped,
         * undecoded (SECURITY.md E.28) */
        int skip = (t->follow && is_redirect(hr.status) &&
                    hf_response_header(t->rs, "Location")) ||
                   will_answer(t, hr.status);
        if (t->rq->decompress && t->fr.kind != H1_BODY_NONE && !skip) {
            /* all Content-Encoding fields form one list (RFC 9110 5.3), so
             * six fields count as six codings against the limit */
            buf ce;
            buf_init(&ce, H1_MAX_HEAD);
            int drc = 0;
            for (size_t i = 0; i < t->rs->nhdrs && !drc; i++)
                if (strcasecmp(t->rs->hdrs[i].name, "Content-Encoding") == 0)
                    drc = buf_printf(&ce, "%s%s", ce.len ? ", " : "",
                                     t->rs->hdrs[i].value);
            if (drc) { /* the body must not go out undecoded */
                buf_free(&ce);
                fail(t, (hf_err)drc, "decode body from %s: %s", t->peer,
                     drc == HF_E_NOMEM ? "out of memory" : "Content-Encoding too long");
                return;
            }
            drc = ce.len ? decoder_new(&t->dec, ce.data, sink, t) : 0;
            if (!drc && t->dec && t->rq->max_filesize > 0)
                decoder_set_limit(t->dec, (uint64_t)t->rq->max_filesize);
            if (drc == HF_E_NOMEM)
                fail(t, HF_E_NOMEM, "decode body from %s: out of memory",
                     t->peer);
            else if (drc)
                fail(t, (hf_err)drc, "decode body from %s: unsupported "
                     "Content-Encoding \"%s\"", t->peer, ce.data);
            buf_free(&ce);
            if (drc)
                return;
        }
        if (t->rq->head_fn) {
            int h = t->rq->head_fn(t->rq->head_arg, t->rs);
            if (h == HF_HEAD_ABORT) {
                fail(t, HF_E_WRITE, "receive from %s: stopped by the caller", t->peer);
                return;
            }
            t->discard = h == HF_HEAD_DISCARD;
        }
        if (skip)
            t->discard = 1;
        if (t->rq->output_file && !t->discard) {
            t->out_fd = open(t->rq->output_file,
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
            if (t->out_fd < 0) {
                fail(t, HF_E_WRITE, "write body from %s to %s: %s", t->peer,
                     t->rq->output_file, strerror(errno));
                return;
            }
        }
        memmove(raw, raw + hl, cn->rlen - hl);
        cn->rlen -= hl;
        t->state = ST_RECV_BODY;
        if (t->fr.kind == H1_BODY_NONE) {
            if (cn->rlen)
                close_after(t, CONN_ABORT, "bytes after the response");
            cn->rlen = 0;
            finish(t);
            return;
        }
        body_consume(t);
        return;
    }
}

static void on_eof(transfer *t)
{
    conn *cn = t->cn;
    conn_saw_fin(t->c, cn);
    close_after(t, CONN_AFTER_SERVER, "the server closed the connection");
    if (t->state == ST_RECV_BODY) {
        if (t->fr.kind == H1_BODY_CLOSE)
            finish(t);
        else if (t->fr.kind == H1_BODY_LENGTH)
            fail(t, HF_E_PARTIAL, "receive from %s: transfer closed with %llu "
                 "bytes remaining to read", t->peer, (unsigned long long)t->remaining);
        else
            fail(t, HF_E_PARTIAL, "receive from %s: transfer closed before the "
                 "last chunk", t->peer);
        return;
    }
    if (!t->got_bytes && retryable(t)) {
        retry(t, "closed by the server");
        return;
    }
    if (!t->got_bytes)
        fail(t, HF_E_GOT_NOTHING, "receive from %s: empty reply from server", t->peer);
    else
        fail(t, HF_E_RECV, "receive from %s: connection closed in the response "
             "head (%zu bytes)", t->peer, cn->rlen);
}

/* Big bodies over TLS are read in big batches.  While much more of a body
 * of known length is due, SO_RCVLOWAT has the kernel wake the loop only
 * when a batch is queued (or at FIN or an error), not every few segments.
 * The fewer wake-ups save the client some CPU, and the sender more: the
 * sender's CPU runs each wake-up (on loopback it also runs the receiver's
 * TCP).  A 1 GiB https download from nginx, which its CPU bounds (it
 * encrypts), took ~1070 ms without and ~960 ms with it (curl ~1000; A/B,
 * ten rounds).  Not for plain TCP: there the reader's copying is what
 * bounds a fast download, and sleeping until a batch is queued made a
 * 1 GiB download from nginx's sendfile ~20% slower in the same A/B.
 *   The mark is at most a quarter of the receive buffer, so the window
 * stays open while the loop waits (Linux clamps the window to the mark
 * when the buffer is too small for it, tcp_set_rcvlowat), and it is set
 * only while LOWAT_BYTES + LOWAT_HELD more body bytes are due, so the
 * bytes waited for always come: LOWAT_HELD bounds what the layers above
 * the socket (the read buffer, TLS) can hold.  pool_put sets it back to 1
 * before a connection is reused (or closes the connection).  A tick
 * every LOWAT_TICK_MS turns it off for the rest of the transfer when no
 * batch came in a whole tick: a sender that slow gains nothing, and its
 * bytes must not wait for the mark (progress, --idle-timeout). */
#define LOWAT_BYTES (512 * 1024)
#define LOWAT_HELD (1024 * 1024)
#define LOWAT_TICK_MS 100
#define LOWAT_MIN (64 * 1024)

static void lowat_set(transfer *t, int v)
{
    conn *cn = t->cn;
    if (!cn || (cn->lowat <= 1 && v <= 1) || cn->lowat == v)
        return;
    if (setsockopt(cn->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
        cn->lowat = v;
}

static void on_lowat_tick(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    t->tm_lowat = 0;
    if (t->done || !t->cn || t->cn->lowat <= 1)
        return;
    if (!t->lowat_read) {
        /* Lowering the mark makes Linux check the queue at once
         * (tcp_set_rcvlowat): what is there is read on the next turn. */
        t->lowat_off = 1;
        lowat_set(t, 1);
        return;
    }
    t->lowat_read = 0;
    t->tm_lowat = timer_or_fail(t, LOWAT_TICK_MS, on_lowat_tick);
}

/* do_recv is about to wait for the socket. */
static void lowat_before_wait(transfer *t)
{
    const hf_request *rq = t->rq;
    int on = t->cn->is_tls && t->state == ST_RECV_BODY &&
             t->fr.kind == H1_BODY_LENGTH &&
             t->remaining > LOWAT_BYTES + LOWAT_HELD && !t->lowat_off &&
             !t->job->paused && (!rq->idle_ms || rq->idle_ms >= 1000);
    int v = LOWAT_BYTES;
    socklen_t len = sizeof v;
    int rcvbuf = 0;
    /* at most a quarter of the receive buffer (see above) */
    if (on && getsockopt(t->cn->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 &&
        rcvbuf / 4 < v)
        v = rcvbuf / 4;
    if (v < LOWAT_MIN)
        on = 0;
    t->lowat_read = 1;
    lowat_set(t, on ? v : 1);
    if (on && !t->tm_lowat && t->cn->lowat > 1)
        t->tm_lowat = timer_or_fail(t, LOWAT_TICK_MS, on_lowat_tick);
}

static void do_recv(transfer *t)
{
    conn *cn = t->cn;
    char eb[256];
    for (unsigned reads = 1;; reads++) {
        if (t->done)
            return;
        if (t->job->paused) { /* back-pressure: leave it in the kernel */
            watch(t, 0);
            return;
        }
        /* a fast server can keep this loop busy for a whole download;
         * the loop's timers do not run meanwhile, so -m is checked here */
        if (!(reads & 63) && t->deadline && loop_now_ns() >= t->deadline) {
            on_total_timeout(t->c->lp, t);
            return;
        }
        if (cn->rlen == cn->rcap && conn_grow(cn) != 0) {
            fail(t, HF_E_NOMEM, "receive from %s: out of memory", t->peer);
            return;
        }
        size_t room = cn->rcap - cn->rlen;
        if (room == 0) { /* cannot happen: the parser stops at H1_MAX_HEAD */
            fail(t, HF_E_RECV, "receive from %s: response head too large", t->peer);
            return;
        }
        size_t n;
        int want;
        int rc = cn->top->ops->recv(cn->top, cn->rbuf + cn->rlen, room, &n,
                                    &want, eb, sizeof eb);
        if (rc) {
            if (errno == ECONNRESET)
                conn_saw_rst(t->c, cn);
            if (!t->got_bytes && retryable(t)) {
                retry(t, eb);
                return;
            }
            fail(t, (hf_err)rc, "receive from %s: %s", t->peer, eb);
            return;
        }
        if (!n && want) {
            if (want != LOOP_READ) /* TLS may need to write to read */
                watch(t, want);
            else
                lowat_before_wait(t);
            return;
        }
        if (!n) {
            on_eof(t);
            return;
        }
        if (!t->got_bytes) {
            t->got_bytes = 1;
            t->rs->t[HF_TIME_STARTTRANSFER] = since(t);
            phase_end(t);
            ev(t, HF_EV_FIRST_BYTE, NULL);
        }
        cn->rlen += n;
        if (t->rq->idle_ms)
            t->last_rx = loop_now_ns();
        if (t->state == ST_RECV_BODY)
            body_consume(t);
        else
            parse_heads(t);
        /* a short read most likely drained the socket: let epoll say when
         * there is more, unless a layer holds bytes epoll cannot see */
        if (n < room && !cn->top->ops->pending(cn->top)) {
            lowat_before_wait(t);
            return;
        }
        if (cn->rcap < CONN_RBUF && cn->rlen == 0 && conn_grow(cn) != 0) {
            fail(t, HF_E_NOMEM, "receive from %s: out of memory", t->peer);
            return; /* a full read: a big body; bigger reads from now on */
        }
    }
}

/* Dispatch by state: a TLS layer may need to read in order to write and
 * the reverse, so the mask is not what decides. */
static void on_io(loop *l, int fd, int mask, void *arg)
{
    (void)l;
    (void)fd;
    (void)mask;
    transfer *t = arg;
    if (t->done)
        return;
    switch (t->state) {
    case ST_TLS: case ST_PTLS: tls_step(t); break;
    case ST_TUNNEL: tunnel_step(t); break;
    case ST_SEND: do_send(t); break;
    case ST_EXPECT: case ST_RECV_HEAD: case ST_RECV_BODY: do_recv(t); break;
    default: break;
    }
}

static void on_phase_timeout(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    t->tm_phase = 0;
    if (t->done)
        return;
    if (t->state == ST_CONNECT)
        fail(t, HF_E_TIMEOUT, "resolve %s: timed out (%s %ld ms)", t->u.host,
             t->phase_name, t->phase_ms);
    else if (t->state == ST_TLS)
        fail(t, HF_E_TIMEOUT, "TLS handshake with %s: timed out (%s %ld ms)",
             t->peer, t->phase_name, t->phase_ms);
    else
        fail(t, HF_E_TIMEOUT, "receive from %s: no response byte within %ld ms "
             "of the request (%s)", t->peer, t->phase_ms, t->phase_name);
}

/* Every 100 ms while receiving: the idle and speed limits. */
static void on_watch(loop *l, void *arg)
{
    transfer *t = arg;
    t->tm_watch = 0;
    if (t->done)
        return;
    uint64_t now = loop_now_ns();
    hf_request *rq = t->rq;
    int receiving = (t->state == ST_RECV_HEAD || t->state == ST_RECV_BODY ||
                     t->state == ST_EXPECT) && !t->job->paused;
    if (t->job->paused) { /* the caller holds it back: not the server */
        t->last_rx = now;
        t->win_start = now;
        t->win_bytes = t->rs->size_download + t->up_sent + (int64_t)t->body_off;
    }
    if (rq->idle_ms && receiving && t->last_rx &&
        now - t->last_rx >= (uint64_t)rq->idle_ms * 1000000u) {
        fail(t, HF_E_TIMEOUT, "receive from %s: no byte for %ld ms "
             "(--idle-timeout) with %lld bytes received", t->peer, rq->idle_ms,
             (long long)t->rs->size_download);
        return;
    }
    if (rq->speed_limit && rq->speed_time) {
        int64_t bytes = t->rs->size_download + t->up_sent + (int64_t)t->body_off;
        uint64_t span = now - t->win_start;
        if (span >= (uint64_t)rq->speed_time * 1000000000u) {
            double rate = (double)(bytes - t->win_bytes) * 1e9 / (double)span;
            if (rate < (double)rq->speed_limit) {
                fail(t, HF_E_TIMEOUT, "%s %s: too slow: less than %ld bytes/s "
                     "for the last %ld s (-Y/-y)", phase_of(t), t->peer,
                     rq->speed_limit, rq->speed_time);
                return;
            }
            t->win_start = now;
            t->win_bytes = bytes;
        }
    }
    (void)l;
    t->tm_watch = timer_or_fail(t, 100, on_watch);
}

static void on_total_timeout(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    if (t->tm_total) {
        loop_timer_cancel(t->c->lp, t->tm_total);
        t->tm_total = 0;
    }
    if (t->done)
        return;
    fail(t, HF_E_TIMEOUT, "%s %s: timed out (--max-time %ld ms) with %lld bytes "
         "received", phase_of(t), t->peer, t->rq->timeout_ms,
         (long long)t->rs->size_download);
}

/* ---- the whole request --------------------------------------------------- */

static int begin_exchange(transfer *t)
{
    if (t->body_fd >= 0 && t->with_body && lseek(t->body_fd, 0, SEEK_SET) != 0) {
        fail(t, HF_E_READ, "send to %s: cannot rewind %s: %s", t->peer,
             t->rq->body_file, strerror(errno));
        return HF_E_READ;
    }
    t->out.len = t->out_off = 0;
    t->head_start = 0;
    t->send_phase = SEND_HEAD;
    t->body_off = 0;
    t->up_sent = 0;
    t->expect = 0;
    int rc = build_head(t);
    if (rc) {
        fail(t, (hf_err)rc, "send to %s: %s", t->peer,
             rc == HF_E_TOO_LARGE ? "request head too large" : "out of memory");
        return rc;
    }
    t->rs->t[HF_TIME_PRETRANSFER] = since(t);
    t->head_len = t->out.len;
    free(t->rs->req_head);
    t->rs->req_head = malloc(t->out.len + 1);
    if (!t->rs->req_head) {
        fail(t, HF_E_NOMEM, "send to %s: out of memory", t->peer);
        return HF_E_NOMEM;
    }
    memcpy(t->rs->req_head, t->out.data, t->out.len + 1);
    t->rs->req_head_len = t->out.len;
    if (t->rq->debug_fn)
        t->rq->debug_fn(t->rq->debug_arg, HF_INFO_HEADER_OUT, since(t),
                        t->out.data, t->out.len);
    /* a small in-memory body goes out with the head, in one write */
    if (t->with_body && !t->reader && !t->expect &&
        t->rq->body_len <= UPLOAD_PIECE) {
        if (buf_add(&t->out, t->rq->body, t->rq->body_len)) {
            fail(t, HF_E_NOMEM, "send to %s: out of memory", t->peer);
            return HF_E_NOMEM;
        }
        t->body_off = t->rq->body_len;
    }
    return 0;
}

/* connected() and the reuse path both land here via do_send */
static void start_exchange(transfer *t)
{
    if (begin_exchange(t) == 0)
        do_send(t);
}

static void release(transfer *t)
{
    hf_client *c = t->c;
    if (t->tm_total)
        loop_timer_cancel(c->lp, t->tm_total);
    if (t->tm_conn)
        loop_timer_cancel(c->lp, t->tm_conn);
    if (t->tm_expect)
        loop_timer_cancel(c->lp, t->tm_expect);
    if (t->tm_phase)
        loop_timer_cancel(c->lp, t->tm_phase);
    if (t->tm_watch)
        loop_timer_cancel(c->lp, t->tm_watch);
    if (t->tm_lowat)
        loop_timer_cancel(c->lp, t->tm_lowat);
    if (t->tm_kick)
        loop_timer_cancel(c->lp, t->tm_kick);
    connector_free(t->k);
    if (t->body_fd >= 0)
        close(t->body_fd);
    if (t->out_fd >= 0 && close(t->out_fd) != 0 && !t->rs->err) {
        t->rs->err = HF_E_WRITE; /* e.g. a full disk, seen at close */
        free(t->rs->errmsg);
        t->rs->errmsg = strdup("write body: closing the output file failed");
        t->must_close = 1;
    }
    buf_free(&t->held);
    if (t->oq)
        resolver_cancel(t->oq);
    free(t->origin_addr);
    proxy_spec_free(&t->px);
    proxy_spec_free(&t->pre);
    url_free(&t->pu);
    if (t->cn) {
        if ((t->must_close || t->rs->err) && !t->keep_conn) {
            info(t, "Closing connection #%ld (%s)", t->cn->id,
                 t->close_reason ? t->close_reason : "error");
            conn_close(c, t->cn, t->close_how, t->close_reason);
        } else {
            if (pool_retires(c, t->cn->key))
                info(t, "Connection #%ld to host %s left for the server to close "
                     "(it closes connections right after their responses: %d "
                     "in a row)", t->cn->id, t->u.host, c->close_run);
            else
                info(t, "Connection #%ld to host %s left intact", t->cn->id, t->u.host);
            pool_put(c, t->cn);
        }
    }
    decoder_free(t->dec);
    free(t->key);
    buf_free(&t->out);
    url_free(&t->u);
}

static int file_read(void *arg, void *b, size_t cap, size_t *n)
{
    transfer *t = arg;
    ssize_t r;
    do
        r = read(t->body_fd, b, cap);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    *n = (size_t)r;
    return 0;
}

/* One hop: what to send where. */
typedef struct hop {
    const char *url;
    const char *method;
    int with_body;
    int strip;       /* credentials and user Cookie headers left out */
    int follow;      /* a redirect answer will be followed */
    const char *user, *pass;  /* credentials for this hop, or NULL */
    const char *authz;        /* a Digest answer, or NULL */
    const char *pauthz;       /* the proxy's Digest answer, or NULL */
} hop;

/* Start one hop of job j: a transfer of its own, which ends (hop_ended)
 * later or at once.  HF_E_NOMEM when even that could not be set up. */
static hf_err hop_begin(struct hf_transfer *j, const hop *h)
{
    hf_client *c = j->c;
    hf_request *rq = j->rq;
    hf_response *rs = calloc(1, sizeof *rs);
    transfer *t = calloc(1, sizeof *t);
    if (!rs || !t) {
        free(rs);
        free(t);
        return HF_E_NOMEM;
    }
    buf_init(&rs->body, (size_t)-1 / 2);
    buf_init(&t->held, (size_t)-1 / 2);
    t->job = j;
    j->t = t;
    t->body_fd = t->out_fd = -1;
    t->c = c;
    t->rq = rq;
    t->rs = rs;
    t->url_str = h->url;
    t->method = h->method;
    t->with_body = h->with_body;
    t->strip = h->strip;
    t->follow = h->follow;
    t->user = h->user;
    t->pass = h->pass;
    t->authz = h->authz;
    t->pauthz = h->pauthz;
    t->t0 = loop_now_ns();
    t->id = c->next_transfer++;
    trace_init(&rs->trace, t->t0);
    buf_init(&t->out, 1024 * 1024); /* curl's cap on a request head */
    {
        char d[300];
        char shown0[256];
        printable(t->url_str, shown0, sizeof shown0);
        snprintf(d, sizeof d, "%s %s", t->method, shown0);
        ev_args a = {0};
        a.detail = d;
        a.mono = t->t0;
        ev(t, HF_EV_QUEUED, &a);
    }

    char why[128] = "";
    int rc = url_parse(&t->u, t->url_str, why, sizeof why);
    rs->url = rc ? strdup(t->url_str) : url_to_string(&t->u);
    if (!rs->url) {
        rc = HF_E_NOMEM;
        snprintf(why, sizeof why, "out of memory");
    }
    char shown[256];
    printable(t->url_str, shown, sizeof shown);
    if (rc) {
        t->state = ST_CONNECT;
        fail(t, (hf_err)rc, "url \"%s\": %s", shown, *why ? why : hf_strerror((hf_err)rc));
        return HF_OK;
    }
    t->https = strcmp(t->u.scheme, "https") == 0;
    if (!t->https && strcmp(t->u.scheme, "http") != 0) {
        fail(t, HF_E_UNSUPPORTED_PROTOCOL, "url \"%s\": %s is not supported",
             shown, t->u.scheme);
        return HF_OK;
    }
    if (!http_is_token(t->method)) {
        fail(t, HF_E_BAD_ARG, "request to %s: method is not a token "
             "(RFC 9110 9.1)", t->u.host);
        return HF_OK;
    }
    t->head_req = strcmp(t->method, "HEAD") == 0;
    if (proxy_select(t))
        return HF_OK;
    t->reader = rq->reader;
    t->reader_arg = rq->reader_arg;
    t->reader_len = rq->reader_len;
    if (t->with_body && rq->body_file) {
        struct stat st;
        t->body_fd = open(rq->body_file, O_RDONLY | O_CLOEXEC);
        if (t->body_fd < 0 || fstat(t->body_fd, &st) != 0) {
            fail(t, HF_E_READ, "request to %s: cannot read %s: %s", t->u.host,
                 rq->body_file, strerror(errno));
            return HF_OK;
        }
        t->reader = file_read;
        t->reader_arg = t;
        t->reader_len = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    }
    /* The pool key: scheme, host (with the zone), port, and for https the
     * whole TLS configuration (SECURITY.md B.10, B.11). */
    char *tkey = NULL;
    if (t->https) {
        tls_config *tc = &t->tls;
        tc->insecure = rq->insecure;
        tc->cafile = rq->cafile;
        tc->capath = rq->capath;
        tc->min_version = rq->tls_min;
        tc->max_version = rq->tls_max;
        tc->ciphers = rq->ciphers;
        tc->tls13_ciphers = rq->tls13_ciphers;
        tc->curves = rq->curves;
        tc->cert = rq->cert;
        tc->key = rq->key;
        tc->key_password = rq->key_password;
        tc->pinned = rq->pinned;
        tc->alpn = "http/1.1";
        tc->no_session = rq->no_session;
        tc->via = t->via ? t->rs->proxy : NULL; /* sessions per path */
        if (!(tkey = tls_config_key(tc))) {
            fail(t, HF_E_NOMEM, "request: out of memory");
            return HF_OK;
        }
    }
    buf key;
    buf_init(&key, 64 * 1024);
    int krc = buf_printf(&key, "%s://%s%s%s:%d%s%s", t->u.scheme, t->u.host,
                         t->u.zone ? "%" : "", t->u.zone ? t->u.zone : "",
                         t->u.port, tkey ? "|" : "", tkey ? tkey : "");
    free(tkey);
    if (!krc && t->via)
        krc = proxy_key(t, &key);
    if (krc) {
        buf_free(&key);
        fail(t, HF_E_NOMEM, "request: out of memory");
        return HF_OK;
    }
    t->key = buf_take(&key);
    if (rq->timeout_ms > 0) {
        t->deadline = t->t0 + (uint64_t)rq->timeout_ms * 1000000u;
        if (!(t->tm_total = timer_or_fail(t, (uint64_t)rq->timeout_ms,
                                          on_total_timeout)))
            return HF_OK;
    }
    if (rq->idle_ms || (rq->speed_limit && rq->speed_time)) {
        t->win_start = t->t0;
        if (!(t->tm_watch = timer_or_fail(t, 100, on_watch)))
            return HF_OK;
    }

    const char *why_new = NULL;
    t->cn = pool_take(c, t->key, !replayable(t), &why_new);
    if (!t->cn) { /* why no connection was reused */
        info(t, "New connection: %s", why_new);
        ev_args a = {0};
        a.detail = why_new;
        ev(t, HF_EV_POOL_MISS, &a);
    }
    if (t->cn) {
        t->reused = rs->reused = 1;
        t->cn->tr = &rs->trace;
        t->cn->xfer = t->id;
        t->cn->t0 = t->t0;
        snprintf(t->peer, sizeof t->peer, "%s", t->cn->remote);
        {
            ev_args a = {0};
            a.peer = t->cn->remote;
            a.local = t->cn->local;
            ev(t, HF_EV_REUSED, &a);
        }
        info(t, "Re-using existing connection #%ld with host %s", t->cn->id, t->u.host);
        rs->t[HF_TIME_NAMELOOKUP] = rs->t[HF_TIME_CONNECT] = since(t);
        if (t->https)
            rs->t[HF_TIME_APPCONNECT] = rs->t[HF_TIME_CONNECT];
        t->state = ST_SEND;
        start_exchange(t);
    } else {
        resolve_and_connect(t);
    }
    return HF_OK;
}

/* The hop is over: what the response keeps of the connection, and the
 * connection back to the pool or closed.  Frees the transfer. */
static void hop_finish(transfer *t)
{
    hf_response *rs = t->rs;
    rs->conn_id = t->cn ? t->cn->id : -1;
    if (t->cn) {
        conn *cn = t->cn;
        snprintf(rs->local, sizeof rs->local, "%s", cn->local);
        snprintf(rs->remote, sizeof rs->remote, "%s", cn->remote);
        if (cn->is_tls) {
            snprintf(rs->tls_version, sizeof rs->tls_version, "%s", cn->tls_version);
            snprintf(rs->tls_cipher, sizeof rs->tls_cipher, "%s", cn->tls_cipher);
            rs->tls_verify = cn->tls_verify;
            rs->tls_ncerts = cn->tls_ncerts;
            rs->tls_certs = cn->tls_certs ? strdup(cn->tls_certs) : NULL;
        }
    }
    release(t);
    t->cn = NULL;
    ev(t, HF_EV_DONE, NULL);
    t->job->t = NULL;
    free(t);
}

/* ---- redirects (RFC 9110 15.4) ------------------------------------------- */

static int is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 ||
           status == 307 || status == 308;
}

/* scheme://host:port of an absolute URL, lower-cased by the parser. */
static char *origin_of(const char *u)
{
    url p;
    char why[64];
    if (url_parse(&p, u, why, sizeof why) != 0)
        return NULL;
    size_t n = strlen(p.scheme) + strlen(p.host) + 32;
    char *o = malloc(n);
    if (o)
        snprintf(o, n, "%s://%s:%d", p.scheme, p.host, p.port);
    url_free(&p);
    return o;
}

/* The next hop's URL: Location resolved against the current URL (RFC 3986
 * 5.2); a Location without a fragment inherits the current one (RFC 9110
 * 10.2.2).  malloc'd, or NULL. */
static char *next_url(const char *cur, const char *location)
{
    char *u = url_resolve(cur, location);
    if (!u || strchr(location, '#'))
        return u;
    const char *frag = strchr(cur, '#');
    if (!frag)
        return u;
    size_t n = strlen(u) + strlen(frag) + 1;
    char *w = malloc(n);
    if (w)
        snprintf(w, n, "%s%s", u, frag);
    free(u);
    return w;
}

/* The host and the origin-form target of an absolute URL (malloc'd). */
static int url_parts(const char *u, char **host, char **target)
{
    url p;
    char why[64];
    *host = *target = NULL;
    int rc = url_parse(&p, u, why, sizeof why);
    if (rc)
        return rc == HF_E_NOMEM ? HF_E_NOMEM : -1;
    *host = strdup(p.host);
    *target = url_target(&p);
    url_free(&p);
    if (!*host || !*target) {
        free(*host);
        free(*target);
        *host = *target = NULL;
        return HF_E_NOMEM;
    }
    return 0;
}

/* The .netrc text of the request (read once per hf_send); NULL if none,
 * or when out of memory (*nomem then set). */
static char *netrc_text(const hf_request *rq, size_t *len, int *nomem)
{
    char path[4096];
    const char *file = rq->netrc_file;
    if (!file) {
        const char *home = getenv("HOME");
        if (!home)
            return NULL;
        snprintf(path, sizeof path, "%s/.netrc", home);
        file = path;
    }
    char *text = NULL;
    hf_err e = read_small_file(file, 1u << 20, &text, len);
    if (e == HF_E_NOMEM)
        *nomem = 1;
    return e == HF_OK ? text : NULL;
}

/* A Digest answer (RFC 7616) to the challenges of a 401: 0 with *answer
 * (NULL when none can be made), or HF_E_NOMEM -- the 401 must then not
 * pass for the outcome. */
static int digest_answer(const hf_response *rs, const char *field,
                         const char *user, const char *pass,
                         const char *method, const char *target,
                         char **answer)
{
    auth_challenge chs[AUTH_MAX_CHALLENGES];
    size_t n = 0;
    *answer = NULL;
    int rc = challenges_of(rs, field, chs, &n);
    int pick = rc ? -1 : auth_pick(chs, n, AUTH_DIGEST);
    if (pick >= 0) {
        unsigned char rnd[12];
        char cnonce[25];
        if (getrandom(rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd) {
            for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(cnonce + 2 * i, 3, "%02x", rnd[i]);
            if (auth_digest_r(&chs[pick], user, pass, method, target, cnonce,
                              1, answer) == AUTH_E_NOMEM)
                rc = HF_E_NOMEM;
        }
    }
    auth_challenges_free(chs, n);
    return rc;
}

/* ---- a submitted request: its hops ------------------------------------- */

/* What a job remembers from hop to hop. */
typedef struct hops {
    hop h;
    char *cur, *method;      /* this hop's URL and method */
    char *origin0;           /* the first hop's origin */
    char *authz;             /* a Digest answer for the next hop */
    char *pauthz;            /* the proxy's (a 407 to an absolute-form
                              * request), kept for the later hops */
    int pdigest_tried;
    char *nuser, *npass;     /* .netrc credentials of this hop's host */
    char *ntext;             /* the .netrc file, read once */
    size_t nlen;
    int ntext_read, digest_tried, nredir;
    hf_response *prev;       /* the hop before, owned until linked */
} hops;

void job_free_state(struct hf_transfer *j)
{
    if (j->t) { /* the client goes away with the hop still running */
        transfer *t = j->t;
        if (!t->done)
            fail(t, HF_E_ABORTED, "%s %s: cancelled: the client was freed",
                 phase_of(t), t->peer);
        hf_response *rs = t->rs;
        hop_finish(t);
        hf_response_free(rs);
    }
    hops *hs = j->hs;
    if (!hs)
        return;
    free(hs->cur);
    free(hs->method);
    free(hs->origin0);
    free(hs->authz);
    free(hs->pauthz);
    free(hs->nuser);
    free(hs->npass);
    free(hs->ntext);
    hf_response_free(hs->prev);
    free(hs);
    j->hs = NULL;
}

/* The job ends with rs (or with e and no response). */
static int job_end(struct hf_transfer *j, hf_response *rs, hf_err e)
{
    hops *hs = j->hs;
    if (!rs && hs && hs->prev) { /* out of memory on a later hop */
        rs = hs->prev;
        hs->prev = NULL;
        /* the redirect answer is not the outcome: it was to be followed */
        rs->err = e ? e : HF_E_NOMEM;
        free(rs->errmsg);
        rs->errmsg = NULL; /* hf_response_errmsg: hf_strerror(err) */
        char line[600];
        snprintf(line, sizeof line, "redirect from %s: %s", rs->url ? rs->url : "",
                 hf_strerror(rs->err));
        rs->errmsg = strdup(line);
    }
    j->rs = rs;
    j->err = rs ? rs->err : e ? e : HF_E_NOMEM;
    job_free_state(j);
    return 1;
}

/* Start this job's next hop (hs->cur, hs->method, hs->h); 1 when the job
 * ended at once (no memory), else 0. */
static int job_hop(struct hf_transfer *j)
{
    hops *hs = j->hs;
    hf_request *rq = j->rq;
    hop *h = &hs->h;
    if (j->cancelled) { /* between two hops: the next one never starts */
        hf_response *r = hs->prev;
        hs->prev = NULL;
        if (r) {
            r->err = HF_E_ABORTED;
            free(r->errmsg);
            r->errmsg = strdup("cancelled by the caller before the next hop");
        }
        return job_end(j, r, HF_E_ABORTED);
    }
    h->url = hs->cur;
    h->method = hs->method;
    h->follow = rq->max_redirs >= 0;
    h->authz = hs->authz;
    h->pauthz = hs->pauthz;
    /* this hop's credentials: the request's (same origin only), else the
     * .netrc entry of this host */
    free(hs->nuser);
    free(hs->npass);
    hs->nuser = hs->npass = NULL;
    h->user = h->pass = NULL;
    if (rq->auth_user && !h->strip) {
        h->user = rq->auth_user;
        h->pass = rq->auth_pass;
    } else if (rq->netrc_mode && !rq->auth_user) {
        int nomem = 0;
        if (!hs->ntext_read) {
            hs->ntext = netrc_text(rq, &hs->nlen, &nomem);
            hs->ntext_read = 1;
        }
        char *host, *target;
        if (hs->ntext) {
            int urc = url_parts(hs->cur, &host, &target);
            if (urc) {      /* a bad URL is reported by the hop */
                nomem = urc == HF_E_NOMEM;
            } else {
                int nr = netrc_lookup(hs->ntext, hs->nlen, host, NULL,
                                      &hs->nuser, &hs->npass);
                if (nr == NETRC_FOUND && hs->nuser) {
                    h->user = hs->nuser;
                    h->pass = hs->npass;
                }
                nomem = nr == NETRC_E_NOMEM;
                free(host);
                free(target);
            }
        }
        if (nomem) /* the request must not go out without its credentials */
            return job_end(j, NULL, HF_E_NOMEM);
    }
    if (hop_begin(j, h) != HF_OK)
        return job_end(j, NULL, HF_E_NOMEM);
    return 0;
}

int job_start(struct hf_transfer *j)
{
    hf_request *rq = j->rq;
    hops *hs = calloc(1, sizeof *hs);
    if (!hs)
        return job_end(j, NULL, HF_E_NOMEM);
    j->hs = hs;
    hs->h.with_body = rq->has_body;
    hs->cur = strdup(rq->url);
    hs->method = strdup(rq->method);
    if (!hs->cur || !hs->method)
        return job_end(j, NULL, HF_E_NOMEM);
    return job_hop(j);
}

int job_next(struct hf_transfer *j)
{
    if (!j->t) /* its first hop could not even be set up */
        return 1;
    hops *hs = j->hs;
    hf_request *rq = j->rq;
    hop *h = &hs->h;
    hf_response *rs = j->t->rs;
    /* the proxy's credentials (-U, or user:password@ in the proxy's URL),
     * for a 407 to answer: the transfer and its proxy spec go now */
    char *pu = NULL, *pp = NULL;
    if (rs->status == 407 && j->t->via == VIA_FORWARD && j->t->puser &&
        (rq->proxy_auth & HF_AUTH_DIGEST) && !hs->pdigest_tried) {
        pu = strdup(j->t->puser);
        pp = strdup(j->t->ppass ? j->t->ppass : "");
        if ((!pu || !pp) && !rs->err) {
            rs->err = HF_E_NOMEM;
            free(rs->errmsg);
            rs->errmsg = strdup("answer to the proxy's Digest challenge: out of memory");
        }
    }
    hop_finish(j->t);
    hf_err e = rs->err;
    rs->prev = hs->prev;
    rs->num_redirects = hs->nredir;
    rs->time_redirect = hs->prev ? hs->prev->time_redirect +
                                   hs->prev->t[HF_TIME_TOTAL] : 0;
    hs->prev = NULL;
    /* a 401 with a Digest challenge, answered once (RFC 7616 3.3) */
    if (!e && rs->status == 401 && (rq->auth_methods & HF_AUTH_DIGEST) &&
        !hs->digest_tried && h->user && !(h->with_body && rq->reader)) {
        char *host, *target;
        int drc = url_parts(hs->cur, &host, &target);
        if (drc == 0) {
            free(hs->authz);
            drc = digest_answer(rs, "WWW-Authenticate", h->user,
                                h->pass ? h->pass : "", hs->method, target,
                                &hs->authz);
            free(host);
            free(target);
        }
        if (drc == HF_E_NOMEM) { /* the 401 was to be answered */
            rs->err = HF_E_NOMEM;
            free(rs->errmsg);
            rs->errmsg = strdup("answer to the Digest challenge: out of memory");
            return job_end(j, rs, rs->err);
        }
        if (drc == 0 && hs->authz) {
            hs->digest_tried = 1;
            hs->prev = rs;
            return job_hop(j);
        }
    }
    /* a 407 from an http proxy to an absolute-form request, with
     * --proxy-digest: answered once (RFC 7616 3.3 with Proxy-Authenticate,
     * RFC 9110 11.7.1); a CONNECT's 407 is answered in tunnel.c */
    if (!e && rs->status == 407 && rs->proxy_used && !rs->http_connect && pu && pp &&
        !hs->pdigest_tried && !(h->with_body && rq->reader)) {
        char *host, *target;
        int drc = url_parts(hs->cur, &host, &target);
        if (drc == 0) {
            free(hs->pauthz);
            hs->pauthz = NULL;
            drc = digest_answer(rs, "Proxy-Authenticate", pu, pp, hs->method,
                                target, &hs->pauthz);
            free(host);
            free(target);
        }
        free(pu);
        explicit_bzero(pp, strlen(pp));
        free(pp);
        pu = pp = NULL;
        if (drc == HF_E_NOMEM) {
            rs->err = HF_E_NOMEM;
            free(rs->errmsg);
            rs->errmsg = strdup("answer to the proxy's Digest challenge: out of memory");
            return job_end(j, rs, rs->err);
        }
        if (drc == 0 && hs->pauthz) {
            hs->pdigest_tried = 1;
            hs->prev = rs;
            return job_hop(j);
        }
    }
    free(pu);
    if (pp)
        explicit_bzero(pp, strlen(pp));
    free(pp);
    const char *loc = hf_response_header(rs, "Location");
    if (e || rq->max_redirs < 0 || !is_redirect(rs->status) || !loc)
        return job_end(j, rs, e);
    if (hs->nredir >= rq->max_redirs) {
        rs->err = HF_E_TOO_MANY_REDIRECTS;
        free(rs->errmsg);
        buf b;
        buf_init(&b, 4096);
        buf_printf(&b, "redirect from %s: maximum (%ld) redirects followed",
                   rs->url, rq->max_redirs);
        rs->errmsg = buf_take(&b);
        return job_end(j, rs, rs->err);
    }
    hs->nredir++;
    free(hs->authz); /* a Digest answer is for its own URL */
    hs->authz = NULL;
    hs->digest_tried = 0;
    char *nu = next_url(hs->cur, loc);
    if (!nu) {
        rs->err = HF_E_NOMEM;
        return job_end(j, rs, rs->err);
    }
    /* 303 always, and 301/302 for POST as curl does unless asked otherwise
     * (RFC 9110 15.4.2-4): GET without a body */
    int st = rs->status;
    const char *method = hs->method;
    int to_get = (st == 303 && !(rq->follow_flags & HF_FOLLOW_POST303) &&
                  strcmp(method, "HEAD") != 0) ||
                 (st == 301 && strcmp(method, "POST") == 0 &&
                  !(rq->follow_flags & HF_FOLLOW_POST301)) ||
                 (st == 302 && strcmp(method, "POST") == 0 &&
                  !(rq->follow_flags & HF_FOLLOW_POST302));
    if (to_get) {
        free(hs->method);
        hs->method = strdup("GET");
        h->with_body = 0;
        if (!hs->method) {
            free(nu);
            rs->err = HF_E_NOMEM;
            return job_end(j, rs, rs->err);
        }
    } else if (h->with_body && rq->reader) {
        /* 307/308 keep method and body, and a stream cannot be read twice */
        free(nu);
        free(rs->errmsg);
        buf b;
        buf_init(&b, 4096);
        buf_printf(&b, "redirect from %s: the %d redirect needs the request "
                   "body again, and a streamed body cannot be rewound",
                   rs->url, st);
        rs->errmsg = buf_take(&b);
        rs->err = HF_E_SEND_FAIL_REWIND;
        return job_end(j, rs, rs->err);
    }
    /* credentials and user cookies go to the first origin only, unless
     * trusted; once stripped they stay stripped (SECURITY.md A.1-A.3) */
    if (!hs->origin0)
        hs->origin0 = origin_of(hs->cur);
    char *on = origin_of(nu);
    if (!(rq->follow_flags & HF_FOLLOW_TRUSTED) &&
        (!hs->origin0 || !on || strcmp(hs->origin0, on) != 0))
        h->strip = 1;
    free(on);
    free(hs->cur);
    hs->cur = nu;
    hs->prev = rs;
    return job_hop(j);
}

void job_cancel(struct hf_transfer *j, hf_err e, const char *why)
{
    transfer *t = j->t;
    if (!t || t->done)
        return;
    /* a pooled connection not yet written to goes back to the pool */
    if (t->cn && t->reused && t->state == ST_SEND && !t->head_start)
        t->keep_conn = 1;
    fail(t, e, "%s %s: %s", phase_of(t), t->peer, why);
}

static void on_kick(loop *l, void *arg)
{
    (void)l;
    transfer *t = arg;
    t->tm_kick = 0;
    if (t->done || t->job->paused)
        return;
    if (t->held.len && t->rq->sink) { /* what the decoder gave after the pause */
        int rc = t->rq->sink(t->rq->sink_arg, t->held.data, t->held.len);
        t->held.len = 0;
        if (rc == HF_WRITE_PAUSE) {
            t->job->paused = 1;
            return;
        }
        if (rc) {
            fail(t, HF_E_WRITE, "write body from %s: the output failed", t->peer);
            return;
        }
    }
    if (t->state == ST_RECV_BODY && t->cn->rlen) {
        body_consume(t);
        if (t->done || t->job->paused)
            return;
    }
    if (watch(t, LOOP_READ) == 0)
        do_recv(t); /* a TLS layer may hold bytes epoll cannot see */
}

void job_resume(struct hf_transfer *j)
{
    transfer *t = j->t;
    if (!t || t->done || !t->cn || t->tm_kick)
        return;
    if (t->state == ST_RECV_HEAD || t->state == ST_RECV_BODY ||
        t->state == ST_EXPECT)
        t->tm_kick = timer_or_fail(t, 0, on_kick);
}
