/* tunnel.c -- proxies as connection layers (tunnel.h).
 *
 * The layer speaks to the proxy through the layer below it (the socket, TLS
 * to an https proxy, or another tunnel for a pre-proxy) and never touches a
 * file descriptor itself.  What the proxy sends is read into the layer's own
 * buffer, TUN_READ bytes at a time.  Reading past the proxy's answer loses
 * nothing: the bytes after the last answer are the start of the tunnelled
 * stream, handed out first by recv (pending() says so, since epoll cannot
 * see them).
 *
 * CONNECT (RFC 9110 9.3.6): the head is built in tunnel_filter_new, so a bad
 * --proxy-header or user name is refused before any byte is sent.  Heads
 * are parsed with h1_parse_head, again only when a line end arrived (a
 * proxy sending one byte at a time costs a scan per line, not per byte);
 * all heads together (1xx, 407 and the final one) count against max_head.
 * A 407 is answered once per scheme, on the same connection, after its
 * body was read (Content-Length or chunked), when the proxy keeps the
 * connection open.
 *
 * SOCKS: the socks.h machine builds every message up front (every length is
 * checked there, CVE-2023-38545) and never takes a byte past its reply. */
#include "tunnel.h"
#include "auth.h"
#include "h1_parse.h"
#include "hflow.h"
#include "proxy.h"
#include "socks.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define TUN_READ (16 * 1024)      /* bytes asked of the layer below at once */
#define TUN_MAX_DRAIN (1 << 20)   /* 407 body bytes read to keep the
                                   * connection for the retry; a longer body
                                   * ends the handshake with the 407 error */
#define TUN_STATUS_LEN 13         /* "HTTP/1.1 200 ": parsed as it arrives */
#define TUN_WHY 512

enum { ST_SEND, ST_RECV, ST_DRAIN, ST_DONE, ST_FAILED };

typedef struct tun {
    filter *lower;            /* owned */
    int kind;                 /* TUNNEL_* */
    int port;
    int state;                /* ST_* */
    int lower_done;           /* the layer below finished its handshake */
    char *proxy;              /* for messages */
    char *target;             /* "host:port" ("[v6]:port") as asked for */
    /* CONNECT */
    char *host, *user, *password, *user_agent;
    char **headers;
    size_t nheaders;
    unsigned auth;            /* HF_AUTH_* */
    size_t max_head;
    int basic_sent, digest_sent;
    char *req;                /* the CONNECT head being sent */
    size_t req_len, req_off;
    size_t heads_total;       /* bytes of every head so far */
    size_t scanned;           /* bytes at rb[roff..] seen, no head end */
    char *heads;              /* copies of the heads, for tunnel_info */
    size_t heads_len;
    h1_framing fr;            /* the 407 being drained */
    uint64_t left;            /* its Content-Length bytes still to come */
    h1_chunked ck;
    size_t drained;
    char auth_why[TUN_WHY];   /* the 407's error, if the retry fails */
    /* SOCKS */
    socks sk;
    /* what the layer below sent: rb[roff..rlen) not yet used */
    char *rb;
    size_t roff, rlen, rcap;
    int fail_rc;              /* ST_FAILED: the sticky error */
    char fail_why[TUN_WHY];
    tunnel_info info;
} tun;

static const filter_ops tun_ops;

/* ---- small helpers ------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void tun_free(tun *t)
{
    if (!t)
        return;
    free(t->proxy);
    free(t->target);
    free(t->host);
    wipe_free(t->user);
    wipe_free(t->password);
    free(t->user_agent);
    for (size_t i = 0; i < t->nheaders; i++)
        free(t->headers[i]);
    free(t->headers);
    if (t->req)
        explicit_bzero(t->req, t->req_len);   /* may hold credentials */
    free(t->req);
    free(t->heads);
    free(t->rb);
    socks_cleanup(&t->sk);                    /* zeroed for CONNECT */
    free(t);
}

/* Fail for good: the error is kept and returned by every later call. */
static int failf(tun *t, int rc, char *why, size_t wn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int failf(tun *t, int rc, char *why, size_t wn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->fail_why, sizeof t->fail_why, fmt, ap);
    va_end(ap);
    t->fail_rc = rc;
    t->state = ST_FAILED;
    if (why && wn)
        snprintf(why, wn, "%s", t->fail_why);
    return rc;
}

static int socks_fail(tun *t, char *why, size_t wn)
{
    return failf(t, HF_E_PROXY, why, wn, "proxy %s: %s", t->proxy,
                 socks_error(&t->sk));
}

/* The origin as "host:port", an IPv6 address in brackets. */
static char *target_of(const char *host, int port)
{
    size_t hl = strlen(host);
    int v6 = strchr(host, ':') && !(hl >= 2 && host[0] == '[');
    size_t n = hl + 16;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
    return s;
}

/* Build the CONNECT head with authz (or none) as the next thing to send.
 * 0, or an HF_E_* with why. */
static int build_connect(tun *t, const char *authz, char *why, size_t wn)
{
    char err[200];
    char *req = NULL;
    size_t len = 0;
    err[0] = 0;
    int rc = proxy_connect_head(t->host, t->port, authz, t->user_agent,
                                (const char *const *)t->headers, t->nheaders,
                                &req, &len, err, sizeof err);
    if (rc == HF_E_NOMEM) {
        snprintf(why, wn, "out of memory");
        return rc;
    }
    if (rc) {
        snprintf(why, wn, "proxy %s: %s", t->proxy,
                 err[0] ? err : "cannot build the CONNECT request");
        return rc;
    }
    if (t->req)
        explicit_bzero(t->req, t->req_len);
    free(t->req);
    t->req = req;
    t->req_len = len;
    t->req_off = 0;
    return 0;
}

/* The answer to a 407's Proxy-Authenticate challenges with a scheme of
 * want (AUTH_BASIC | AUTH_DIGEST), or NULL.  malloc'd. */
static char *answer_407(tun *t, const h1_header *hdrs, size_t nh, int want)
{
    auth_challenge chs[AUTH_MAX_CHALLENGES];
    size_t n = 0;
    for (size_t i = 0; i < nh && n < AUTH_MAX_CHALLENGES; i++) {
        if (hdrs[i].name_len != 18 ||
            strncasecmp(hdrs[i].name, "Proxy-Authenticate", 18) != 0)
            continue;
        char *v = strndup(hdrs[i].value, hdrs[i].value_len);
        int k = v ? auth_parse_challenges(v, chs + n, AUTH_MAX_CHALLENGES - n)
                  : 0;
        free(v);
        if (k > 0)
            n += (size_t)k;
    }
    char *answer = NULL;
    int pick = auth_pick(chs, n, want);
    if (pick >= 0 && strcasecmp(chs[pick].scheme, "Digest") == 0) {
        unsigned char rnd[12];
        char cnonce[2 * sizeof rnd + 1];
        if (getrandom(rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd) {
            for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(cnonce + 2 * i, 3, "%02x", rnd[i]);
            /* RFC 7616 3.4: the request-target of CONNECT is the
             * authority-form, as sent */
            answer = auth_digest(&chs[pick], t->user,
                                 t->password ? t->password : "", "CONNECT",
                                 t->target, cnonce, 1);
        }
        t->digest_sent = 1;
    } else if (pick >= 0) {
        answer = proxy_basic_auth(t->user, t->password);
        t->basic_sent = 1;
    }
    auth_challenges_free(chs, n);
    return answer;
}

/* Does the 407 leave the connection open for the retry?  Besides the
 * framing (RFC 9112 9.3), old proxies say "Proxy-Connection: close". */
static int keeps_open(const h1_resp *r, const h1_header *hdrs, size_t nh,
                      h1_framing *fr)
{
    if (h1_framing_of(r, hdrs, 0, fr) != 0 || fr->must_close ||
        fr->kind == H1_BODY_CLOSE)
        return 0;
    for (int i = 0; (i = h1_find(hdrs, nh, "Proxy-Connection", (size_t)i)) >= 0;
         i++) {
        const char *v = hdrs[i].value;
        size_t vl = hdrs[i].value_len;
        for (size_t k = 0; k + 5 <= vl; k++)
            if (strncasecmp(v + k, "close", 5) == 0)
                return 0;
    }
    return 1;
}

/* ---- reading from the layer below -------------------------------------- */

/* Read more into rb.  0 with bytes added, or with *want set, or with *eof
 * set; an error of the layer below (with the proxy named). */
static int fill(tun *t, int *want, int *eof, char *why, size_t wn)
{
    *eof = 0;
    if (t->roff == t->rlen) {
        t->roff = t->rlen = 0;
    } else if (t->roff > 0 && t->rcap - t->rlen < TUN_READ) {
        memmove(t->rb, t->rb + t->roff, t->rlen - t->roff);
        t->rlen -= t->roff;
        t->roff = 0;
    }
    if (t->rcap - t->rlen < TUN_READ) {
        size_t nc = t->rcap ? t->rcap * 2 : TUN_READ;
        while (nc - t->rlen < TUN_READ)
            nc *= 2;
        char *nb = realloc(t->rb, nc);
        if (!nb)
            return failf(t, HF_E_NOMEM, why, wn, "out of memory");
        t->rb = nb;
        t->rcap = nc;
    }
    char lw[TUN_WHY];
    size_t nr = 0;
    lw[0] = 0;
    int rc = t->lower->ops->recv(t->lower, t->rb + t->rlen, t->rcap - t->rlen,
                                 &nr, want, lw, sizeof lw);
    if (rc)
        return failf(t, rc, why, wn, "proxy %s: %s", t->proxy, lw);
    t->rlen += nr;
    if (nr == 0 && !*want)
        *eof = 1;
    return 0;
}

/* Send what is left of p[*off..n) to the layer below. */
static int push(tun *t, const void *p, size_t n, size_t *nw, int *want,
                char *why, size_t wn)
{
    char lw[TUN_WHY];
    lw[0] = 0;
    int rc = t->lower->ops->send(t->lower, p, n, nw, want, lw, sizeof lw);
    if (rc)
        return failf(t, rc, why, wn, "proxy %s: %s", t->proxy, lw);
    if (*nw == 0 && !*want)        /* no progress and no reason to wait */
        return failf(t, HF_E_SEND, why, wn, "proxy %s: the connection took "
                     "no bytes", t->proxy);
    return 0;
}

/* ---- CONNECT ------------------------------------------------------------ */

static int too_large(tun *t, char *why, size_t wn)
{
    return failf(t, HF_E_RECV, why, wn, "CONNECT tunnel failed: proxy %s "
                 "answered CONNECT %s with a head over %zu bytes", t->proxy,
                 t->target, t->max_head);
}

/* A 407 (msg says so): answer it on this connection when it can be. */
static int on_407(tun *t, const h1_resp *r, const h1_header *hdrs,
                  const char *msg, char *why, size_t wn)
{
    int want = 0;
    if (t->user) {
        if ((t->auth & HF_AUTH_DIGEST) && !t->digest_sent)
            want |= AUTH_DIGEST;
        if ((t->auth & HF_AUTH_BASIC) && !t->basic_sent)
            want |= AUTH_BASIC;
    }
    char *authz = want ? answer_407(t, hdrs, r->nhdr, want) : NULL;
    h1_framing fr;
    if (!authz || !keeps_open(r, hdrs, r->nhdr, &fr)) {
        wipe_free(authz);
        return failf(t, HF_E_RECV, why, wn, "%s", msg);
    }
    int rc = build_connect(t, authz, why, wn);
    wipe_free(authz);
    if (rc)
        return failf(t, rc, NULL, 0, "%s", why);
    snprintf(t->auth_why, sizeof t->auth_why, "%s", msg);
    t->fr = fr;
    t->left = fr.kind == H1_BODY_LENGTH ? fr.length : 0;
    memset(&t->ck, 0, sizeof t->ck);
    t->drained = 0;
    t->state = ST_DRAIN;
    return 0;
}

/* The proxy's answer so far, rb[roff..rlen).  0 when more is needed or
 * the state moved on. */
static int connect_in(tun *t, char *why, size_t wn)
{
    char *buf = t->rb + t->roff;
    size_t len = t->rlen - t->roff;
    size_t budget = t->max_head > t->heads_total ? t->max_head - t->heads_total
                                                 : 0;
    /* a head is complete only once a line ends: until then, only its first
     * bytes (the status line's start, checked as it comes) are parsed */
    if (t->scanned >= TUN_STATUS_LEN && len <= budget &&
        !memchr(buf + t->scanned, '\n', len - t->scanned)) {
        t->scanned = len;
        return 0;
    }
    h1_header hdrs[H1_MAX_FIELDS];
    h1_resp r;
    int n = h1_parse_head(buf, len, &r, hdrs, H1_MAX_FIELDS);
    if (n == H1_INCOMPLETE) {
        if (len > budget)
            return too_large(t, why, wn);
        t->scanned = len;
        return 0;
    }
    if (n == H1_ERR_TOO_LARGE || (n > 0 && (size_t)n > budget))
        return too_large(t, why, wn);
    if (n < 0)
        return failf(t, HF_E_RECV, why, wn, "CONNECT tunnel failed: proxy %s "
                     "sent a malformed %s in its answer to CONNECT %s",
                     t->proxy, n == H1_ERR_STATUS ? "status line" : "header",
                     t->target);
    /* every head is kept for -v; bounded by max_head in all */
    char *nh = realloc(t->heads, t->heads_len + (size_t)n + 1);
    if (!nh)
        return failf(t, HF_E_NOMEM, why, wn, "out of memory");
    t->heads = nh;
    memcpy(t->heads + t->heads_len, buf, (size_t)n);
    t->heads_len += (size_t)n;
    t->heads[t->heads_len] = 0;
    t->heads_total += (size_t)n;
    t->roff += (size_t)n;
    t->scanned = 0;
    t->info.status = r.status;
    char msg[TUN_WHY];
    switch (proxy_connect_status(r.status, r.reason, r.reason_len, t->proxy,
                                 t->target, msg, sizeof msg)) {
    case PROXY_TUNNEL_INTERIM:
        return 0;
    case PROXY_TUNNEL_OK:
        /* RFC 9110 9.3.6: a 2xx has no body; what follows is the tunnel */
        t->state = ST_DONE;
        return 0;
    case PROXY_TUNNEL_AUTH:
        return on_407(t, &r, hdrs, msg, why, wn);
    default:
        return failf(t, HF_E_RECV, why, wn, "%s", msg);
    }
}

/* Skip the 407's body in rb.  1 when it is all read, 0 for more, -1 when
 * it is malformed. */
static int drain_in(tun *t)
{
    while (t->roff < t->rlen) {
        size_t avail = t->rlen - t->roff;
        if (t->fr.kind == H1_BODY_NONE)
            return 1;
        if (t->fr.kind == H1_BODY_LENGTH) {
            size_t k = t->left < avail ? (size_t)t->left : avail;
            t->roff += k;
            t->left -= k;
            t->drained += k;
            return t->left == 0;
        }
        size_t used = 0, dl = 0;
        const char *d = NULL;
        int rc = h1_chunked_step(&t->ck, t->rb + t->roff, avail, &used, &d, &dl);
        t->roff += used;
        t->drained += used;
        if (rc < 0)
            return -1;
        if (rc == 1)
            return 1;
        if (used == 0)
            return 0;
    }
    return t->fr.kind == H1_BODY_NONE ||
           (t->fr.kind == H1_BODY_LENGTH && t->left == 0);
}

static int closed_error(tun *t, char *why, size_t wn)
{
    size_t len = t->rlen - t->roff;
    if (len)
        return failf(t, HF_E_RECV, why, wn, "CONNECT tunnel failed: proxy %s "
                     "closed the connection in the middle of its answer to "
                     "CONNECT %s (after %zu bytes)", t->proxy, t->target, len);
    return failf(t, HF_E_RECV, why, wn, "CONNECT tunnel failed: proxy %s "
                 "closed the connection before its %sanswer to CONNECT %s",
                 t->proxy, t->heads_total ? "final " : "", t->target);
}

/* ---- the steps ---------------------------------------------------------- */

static int step_send(tun *t, int *want, char *why, size_t wn)
{
    size_t nw = 0;
    int rc;
    if (t->kind == TUNNEL_CONNECT) {
        while (t->req_off < t->req_len) {
            rc = push(t, t->req + t->req_off, t->req_len - t->req_off, &nw,
                      want, why, wn);
            if (rc || *want)
                return rc;
            t->req_off += nw;
        }
        t->state = ST_RECV;
        t->scanned = 0;
        return 0;
    }
    for (;;) {
        const uint8_t *p;
        size_t n;
        int s = socks_out(&t->sk, &p, &n);
        if (s == SOCKS_NEED_MORE) {
            t->state = ST_RECV;
            return 0;
        }
        if (s != SOCKS_SEND)
            return s < 0 ? socks_fail(t, why, wn)
                         : failf(t, HF_E_PROXY, why, wn, "proxy %s: SOCKS "
                                 "handshake out of step", t->proxy);
        rc = push(t, p, n, &nw, want, why, wn);
        if (rc || *want)
            return rc;
        if (socks_sent(&t->sk, nw) < 0)
            return socks_fail(t, why, wn);
    }
}

/* Use what is in rb; 1 when more must be read, 0 when the state moved on
 * (or nothing was to be done), or an error. */
static int use_input(tun *t, char *why, size_t wn)
{
    if (t->state == ST_DRAIN) {
        int d = drain_in(t);
        if (d < 0)
            return failf(t, HF_E_RECV, why, wn, "%s (with a malformed body)",
                         t->auth_why);
        if (t->drained > TUN_MAX_DRAIN)
            return failf(t, HF_E_RECV, why, wn, "%s", t->auth_why);
        if (d == 0)
            return 1;
        t->state = ST_SEND;            /* the retry, on this connection */
        return 0;
    }
    if (t->roff == t->rlen)
        return 1;
    if (t->kind == TUNNEL_CONNECT) {
        int st = t->state;
        size_t off = t->roff;
        int rc = connect_in(t, why, wn);
        if (rc)
            return rc;
        return t->state == st && t->roff == off;  /* no head ended */
    }
    size_t used = 0;
    int s = socks_in(&t->sk, (const uint8_t *)t->rb + t->roff,
                     t->rlen - t->roff, &used);
    t->roff += used;
    switch (s) {
    case SOCKS_NEED_MORE:
        return 1;
    case SOCKS_SEND:
        t->state = ST_SEND;
        return 0;
    case SOCKS_DONE:
        if (socks_bound(&t->sk, t->info.bound, sizeof t->info.bound) != 0)
            t->info.bound[0] = 0;
        t->state = ST_DONE;
        return 0;
    default:
        return socks_fail(t, why, wn);
    }
}

static int step_recv(tun *t, int *want, char *why, size_t wn)
{
    int rc = use_input(t, why, wn);
    if (rc != 1)
        return rc;
    int eof = 0;
    rc = fill(t, want, &eof, why, wn);
    if (rc || *want)
        return rc;
    if (!eof)
        return 0;
    if (t->state == ST_DRAIN)
        return failf(t, HF_E_RECV, why, wn, "%s", t->auth_why);
    if (t->kind == TUNNEL_CONNECT)
        return closed_error(t, why, wn);
    socks_eof(&t->sk);
    return socks_fail(t, why, wn);
}

/* ---- the filter --------------------------------------------------------- */

static int tun_handshake(filter *f, int *done, int *want, char *why, size_t wn)
{
    tun *t = f->ctx;
    *done = 0;
    *want = 0;
    if (t->state == ST_FAILED) {
        snprintf(why, wn, "%s", t->fail_why);
        return t->fail_rc;
    }
    /* the layers below first (a no-op once they are done) */
    if (!t->lower_done) {
        char lw[TUN_WHY];
        int ld = 0;
        lw[0] = 0;
        int rc = t->lower->ops->handshake(t->lower, &ld, want, lw, sizeof lw);
        if (rc)
            return failf(t, rc, why, wn, "proxy %s: %s", t->proxy, lw);
        if (!ld)
            return 0;
        t->lower_done = 1;
    }
    for (;;) {
        int rc;
        switch (t->state) {
        case ST_SEND:
            rc = step_send(t, want, why, wn);
            break;
        case ST_RECV:
        case ST_DRAIN:
            rc = step_recv(t, want, why, wn);
            break;
        case ST_DONE:
            if (t->roff == t->rlen) {   /* nothing came with the answer */
                free(t->rb);
                t->rb = NULL;
                t->roff = t->rlen = t->rcap = 0;
            }
            *done = 1;
            return 0;
        default:
            snprintf(why, wn, "%s", t->fail_why);
            return t->fail_rc;
        }
        if (rc || *want)
            return rc;
    }
}

static int tun_send(filter *f, const void *p, size_t n, size_t *nw, int *want,
                    char *why, size_t wn)
{
    tun *t = f->ctx;
    if (t->state != ST_DONE) {
        *nw = 0;
        *want = 0;
        snprintf(why, wn, "proxy %s: the tunnel is not up", t->proxy);
        return HF_E_SEND;
    }
    return t->lower->ops->send(t->lower, p, n, nw, want, why, wn);
}

static int tun_recv(filter *f, void *p, size_t n, size_t *nr, int *want,
                    char *why, size_t wn)
{
    tun *t = f->ctx;
    *nr = 0;
    *want = 0;
    if (t->state != ST_DONE) {
        snprintf(why, wn, "proxy %s: the tunnel is not up", t->proxy);
        return HF_E_RECV;
    }
    if (t->roff < t->rlen) {       /* what came with the proxy's answer */
        size_t k = t->rlen - t->roff;
        if (k > n)
            k = n;
        memcpy(p, t->rb + t->roff, k);
        t->roff += k;
        *nr = k;
        if (t->roff == t->rlen) {
            free(t->rb);
            t->rb = NULL;
            t->roff = t->rlen = t->rcap = 0;
        }
        return 0;
    }
    return t->lower->ops->recv(t->lower, p, n, nr, want, why, wn);
}

static int tun_pending(const filter *f)
{
    const tun *t = f->ctx;
    return t->state == ST_DONE &&
           (t->roff < t->rlen || t->lower->ops->pending(t->lower));
}

static void tun_shutdown(filter *f)
{
    tun *t = f->ctx;
    t->lower->ops->shutdown(t->lower);
}

static void tun_destroy(filter *f)
{
    if (!f)
        return;
    tun *t = f->ctx;
    if (t && t->lower)
        t->lower->ops->destroy(t->lower);
    tun_free(t);
    free(f);
}

static const filter_ops tun_ops = {
    "tunnel", tun_handshake, tun_send, tun_recv, tun_pending, tun_shutdown,
    tun_destroy,
};

const tunnel_info *tunnel_filter_info(const filter *f)
{
    if (!f || f->ops != &tun_ops)
        return NULL;
    tun *t = f->ctx;
    t->info.heads = t->heads;
    t->info.heads_len = t->heads_len;
    return &t->info;
}

/* ---- making one ----------------------------------------------------------- */

static int setup_connect(tun *t, const tunnel_cfg *cfg, char *why, size_t wn)
{
    int bad = 0;
#define DUP(dst, src) do { if (src && !(dst = strdup(src))) bad = 1; } while (0)
    DUP(t->host, cfg->host);
    DUP(t->user, cfg->user);
    DUP(t->password, cfg->password);
    DUP(t->user_agent, cfg->user_agent);
#undef DUP
    if (cfg->nheaders) {
        if (!cfg->headers) {
            snprintf(why, wn, "bad arguments for a proxy tunnel");
            return HF_E_BAD_FUNCTION_ARG;
        }
        t->headers = calloc(cfg->nheaders, sizeof *t->headers);
        if (!t->headers)
            bad = 1;
        for (size_t i = 0; !bad && i < cfg->nheaders; i++, t->nheaders++)
            if (!cfg->headers[i] || !(t->headers[i] = strdup(cfg->headers[i])))
                bad = 1;
    }
    if (bad) {
        snprintf(why, wn, "out of memory");
        return HF_E_NOMEM;
    }
    t->auth = cfg->auth ? cfg->auth : HF_AUTH_BASIC;
    t->max_head = cfg->max_head ? cfg->max_head : H1_MAX_HEAD;
    char *authz = NULL;
    if (t->user && (t->auth & HF_AUTH_BASIC)) {
        if (strchr(t->user, ':')) {
            /* RFC 7617 2: a user-id with a colon is invalid */
            snprintf(why, wn, "proxy %s: a user name with ':' cannot be sent "
                     "with Basic authentication", t->proxy);
            return HF_E_BAD_ARG;
        }
        if (!(authz = proxy_basic_auth(t->user, t->password))) {
            snprintf(why, wn, "out of memory");
            return HF_E_NOMEM;
        }
        t->basic_sent = 1;
    }
    int rc = build_connect(t, authz, why, wn);
    wipe_free(authz);
    return rc;
}

int tunnel_filter_new(filter *lower, const tunnel_cfg *cfg, filter **out,
                      char *why, size_t wn)
{
    if (out)
        *out = NULL;
    if (!lower || !cfg || !out || !cfg->host || cfg->kind < TUNNEL_SOCKS4 ||
        cfg->kind > TUNNEL_CONNECT) {
        snprintf(why, wn, "bad arguments for a proxy tunnel");
        return HF_E_BAD_FUNCTION_ARG;
    }
    filter *f = calloc(1, sizeof *f);
    tun *t = calloc(1, sizeof *t);
    int rc;
    if (!f || !t || !(t->proxy = strdup(cfg->proxy ? cfg->proxy : "(unknown)")) ||
        !(t->target = target_of(cfg->host, cfg->port))) {
        snprintf(why, wn, "out of memory");
        rc = HF_E_NOMEM;
        goto fail;
    }
    t->kind = cfg->kind;
    t->port = cfg->port;
    t->state = ST_SEND;
    if (cfg->kind == TUNNEL_CONNECT) {
        rc = setup_connect(t, cfg, why, wn);
    } else {
        static const socks_kind kinds[] = { SOCKS_V4, SOCKS_V4A, SOCKS_V5,
                                            SOCKS_V5H };
        int s = socks_init(&t->sk, kinds[cfg->kind], cfg->host, cfg->port,
                           cfg->user, cfg->password);
        rc = s == SOCKS_E_NOMEM ? HF_E_NOMEM : s < 0 ? HF_E_PROXY : 0;
        if (rc)
            snprintf(why, wn, "proxy %s: %s", t->proxy, socks_error(&t->sk));
    }
    if (rc)
        goto fail;
    t->lower = lower;
    f->ops = &tun_ops;
    f->fd = lower->fd;
    f->ctx = t;
    *out = f;
    return 0;
fail:
    tun_free(t);           /* lower is not taken: it stays the caller's */
    free(f);
    return rc;
}
