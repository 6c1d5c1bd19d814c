/* socks.c -- SOCKS5 (RFC 1928, RFC 1929) and SOCKS4/4a client handshakes
 * as a pure state machine.  See socks.h. */
#include "socks.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    ST_SEND,          /* sending segment cur */
    ST_S5_METHOD,     /* reading the method selection (2 bytes) */
    ST_S5_AUTH,       /* reading the RFC 1929 status (2 bytes) */
    ST_S5_REPLY,      /* reading the reply to CONNECT (4 + addr + 2) */
    ST_S4_REPLY,      /* reading the SOCKS4 reply (8 bytes) */
    ST_OVER           /* done or failed: rc says which */
};

/* Segments of msg: SOCKS5 greeting, RFC 1929 request (may be empty),
 * connect request; SOCKS4: the request alone, in SEG_REQ. */
enum { SEG_GREET = 0, SEG_AUTH = 1, SEG_REQ = 2 };

static int is_v5(const socks *s)
{
    return s->kind == SOCKS_V5 || s->kind == SOCKS_V5H;
}

static int failf(socks *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(socks *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->state = ST_OVER;
    s->rc = rc;
    return rc;
}

const char *socks_reply_text(int code, int v4)
{
    if (v4) {
        switch (code) {
        case 90: return "request granted";
        case 91: return "request rejected or failed";
        case 92: return "request rejected: the proxy cannot reach identd "
                        "on the client";
        case 93: return "request rejected: identd reports another user id";
        default: return "unknown reply code";
        }
    }
    /* RFC 1928 6 */
    switch (code) {
    case 0: return "succeeded";
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused by destination host";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unassigned reply code";
    }
}

/* ---- building --------------------------------------------------------- */

static int build(socks *s, const char *lit, size_t hl, int port,
                 const char *user, size_t ul, const char *pass, size_t pl);

int socks_init(socks *s, socks_kind kind, const char *host, int port,
               const char *user, const char *pass)
{
    if (!s) return SOCKS_E_ARG;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->reply_code = -1;
    s->method = -1;
    const char *v = kind == SOCKS_V4 || kind == SOCKS_V4A ? "SOCKS4" : "SOCKS5";
    if (kind < SOCKS_V4 || kind > SOCKS_V5H)
        return failf(s, SOCKS_E_ARG, "unknown SOCKS version");
    if (!host || !*host)
        return failf(s, SOCKS_E_ARG, "%s: empty host", v);
    if (port < 1 || port > 65535)
        return failf(s, SOCKS_E_ARG, "%s: bad port %d", v, port);

    /* Every length is checked here, before anything is copied: strnlen
     * never looks past SOCKS_MAX_FIELD + 3 bytes, and a longer field is
     * refused, not cut (CVE-2023-38545).  SOCKS5 cannot carry more (RFC
     * 1928 5, RFC 1929 2); SOCKS4 has no limit, hflow keeps the same. */
    const char *host0 = host;
    size_t hl = strnlen(host, SOCKS_MAX_FIELD + 3);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host++;
        hl -= 2;
        if (hl == 0) return failf(s, SOCKS_E_ARG, "%s: empty host", v);
    }
    size_t ul = user ? strnlen(user, SOCKS_MAX_FIELD + 1) : 0;
    size_t pl = pass ? strnlen(pass, SOCKS_MAX_FIELD + 1) : 0;
    const char *why5 = is_v5(s) ? "SOCKS5 carries" : "hflow sends SOCKS4";
    if (hl > SOCKS_MAX_FIELD)
        return failf(s, SOCKS_E_ARG,
                     "host name is %zu bytes long: %s at most %d%s",
                     strlen(host0), why5, SOCKS_MAX_FIELD,
                     is_v5(s) ? " (RFC 1928 5)" : "");
    if (ul > SOCKS_MAX_FIELD)
        return failf(s, SOCKS_E_ARG,
                     "user name is %zu bytes long: %s at most %d%s",
                     strlen(user), why5, SOCKS_MAX_FIELD,
                     is_v5(s) ? " (RFC 1929 2)" : "");
    if (is_v5(s) && user && pl > SOCKS_MAX_FIELD)
        return failf(s, SOCKS_E_ARG,
                     "password is %zu bytes long: SOCKS5 carries at most %d "
                     "(RFC 1929 2)", strlen(pass), SOCKS_MAX_FIELD);
    if (is_v5(s) && user && ul == 0)
        return failf(s, SOCKS_E_ARG,
                     "SOCKS5: empty user name (RFC 1929 2 needs 1 to 255 "
                     "bytes)");

    /* host: an address literal, or a name (of 1..255 bytes, checked) */
    char *lit = strndup(host, hl);
    if (!lit) return failf(s, SOCKS_E_NOMEM, "out of memory");
    int rc = build(s, lit, hl, port, user, ul, pass, pl);
    free(lit);
    return rc;
}

/* socks_init's second half: lit is the host without brackets, every
 * length checked. */
static int build(socks *s, const char *lit, size_t hl, int port,
                 const char *user, size_t ul, const char *pass, size_t pl)
{
    socks_kind kind = (socks_kind)s->kind;
    const char *v = is_v5(s) ? "SOCKS5" : "SOCKS4";
    unsigned char a[16];
    int fam = 0;
    if (inet_pton(AF_INET, lit, a) == 1)
        fam = 4;
    else if (inet_pton(AF_INET6, lit, a) == 1)
        fam = 6;
    if (fam == 0 && (kind == SOCKS_V4 || kind == SOCKS_V5))
        return failf(s, SOCKS_E_ARG,
                     "%s needs an address, not a name (resolve it first, or "
                     "let the proxy resolve: %s)", v,
                     kind == SOCKS_V4 ? "socks4a" : "socks5h");
    if (fam == 6 && !is_v5(s))
        return failf(s, SOCKS_E_ARG, "SOCKS4 cannot carry the IPv6 address %s",
                     lit);

    /* "host:port" for messages */
    /* "host:port" for messages, any byte outside printable ASCII shown as
     * '?' (the name goes to the proxy as it is) */
    s->target = malloc(hl + 16);
    if (!s->target) return failf(s, SOCKS_E_NOMEM, "out of memory");
    snprintf(s->target, hl + 16, fam == 6 ? "[%s]:%d" : "%s:%d", lit, port);
    for (char *c = s->target; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';

    size_t total;
    if (is_v5(s)) {
        /* RFC 1928 3: VER NMETHODS METHODS; 0x00 no authentication, 0x02
         * username/password (RFC 1929) when we have a user */
        s->seg[SEG_GREET] = user ? 4 : 3;
        /* RFC 1929 2: VER ULEN UNAME PLEN PASSWD */
        s->seg[SEG_AUTH] = user ? 3 + ul + pl : 0;
        /* RFC 1928 4: VER CMD RSV ATYP DST.ADDR DST.PORT */
        s->seg[SEG_REQ] = 4 + (fam == 4 ? 4 : fam == 6 ? 16 : 1 + hl) + 2;
    } else {
        /* SOCKS4: VN CD DSTPORT DSTIP USERID NUL; 4a adds the name NUL
         * after DSTIP 0.0.0.x */
        s->seg[SEG_REQ] = 8 + ul + 1 + (fam ? 0 : hl + 1);
    }
    total = s->seg[SEG_GREET] + s->seg[SEG_AUTH] + s->seg[SEG_REQ];
    s->msg = malloc(total);
    if (!s->msg) return failf(s, SOCKS_E_NOMEM, "out of memory");
    uint8_t *m = s->msg;
    if (is_v5(s)) {
        *m++ = 5;
        *m++ = user ? 2 : 1;
        *m++ = 0x00;
        if (user) *m++ = 0x02;
        if (user) {
            *m++ = 1;
            *m++ = (uint8_t)ul;
            memcpy(m, user, ul);
            m += ul;
            *m++ = (uint8_t)pl;
            if (pl) memcpy(m, pass, pl);
            m += pl;
        }
        *m++ = 5;
        *m++ = 1;              /* CONNECT */
        *m++ = 0;
        if (fam == 4) {
            *m++ = 1;
            memcpy(m, a, 4);
            m += 4;
        } else if (fam == 6) {
            *m++ = 4;
            memcpy(m, a, 16);
            m += 16;
        } else {
            *m++ = 3;
            *m++ = (uint8_t)hl;
            memcpy(m, lit, hl);
            m += hl;
        }
        *m++ = (uint8_t)(port >> 8);
        *m++ = (uint8_t)port;
        s->cur = SEG_GREET;
    } else {
        *m++ = 4;
        *m++ = 1;              /* CONNECT */
        *m++ = (uint8_t)(port >> 8);
        *m++ = (uint8_t)port;
        if (fam) {
            memcpy(m, a, 4);
        } else {
            /* SOCKS4a: 0.0.0.x with x non-zero means "the name follows" */
            m[0] = m[1] = m[2] = 0;
            m[3] = 1;
        }
        m += 4;
        if (ul) memcpy(m, user, ul);
        m += ul;
        *m++ = 0;
        if (!fam) {
            memcpy(m, lit, hl);
            m += hl;
            *m++ = 0;
        }
        s->cur = SEG_REQ;
    }
    if ((size_t)(m - s->msg) != total)   /* cannot happen; never go on */
        return failf(s, SOCKS_E_ARG, "internal error building the request");
    s->state = ST_SEND;
    s->sent = 0;
    return 0;
}

void socks_cleanup(socks *s)
{
    if (!s) return;
    if (s->msg) {
        /* the RFC 1929 request holds the password */
        volatile uint8_t *v = s->msg;
        size_t n = s->seg[0] + s->seg[1] + s->seg[2];
        for (size_t i = 0; i < n; i++) v[i] = 0;
        free(s->msg);
    }
    free(s->target);
    s->msg = NULL;
    s->target = NULL;
    if (s->state != ST_OVER) {
        s->state = ST_OVER;
        s->rc = SOCKS_E_ARG;
    }
}

const char *socks_error(const socks *s)
{
    return s ? s->err : "";
}

/* ---- sending ---------------------------------------------------------- */

static size_t seg_off(const socks *s, size_t k)
{
    size_t off = 0;
    for (size_t i = 0; i < k; i++) off += s->seg[i];
    return off;
}

/* The state after a reply: the next message, or the wait for a reply. */
static void start_send(socks *s, size_t seg)
{
    s->cur = seg;
    s->sent = 0;
    s->state = ST_SEND;
}

static void start_read(socks *s, int st, size_t need)
{
    s->state = st;
    s->have = 0;
    s->need = need;
    s->need_final = st != ST_S5_REPLY;
}

static int state_rc(const socks *s)
{
    switch (s->state) {
    case ST_SEND: return SOCKS_SEND;
    case ST_OVER: return s->rc;
    default: return SOCKS_NEED_MORE;
    }
}

int socks_out(socks *s, const uint8_t **p, size_t *n)
{
    if (!s) return SOCKS_E_ARG;
    if (p) *p = NULL;
    if (n) *n = 0;
    if (s->state != ST_SEND) return state_rc(s);
    if (!p || !n) return SOCKS_E_ARG;
    *p = s->msg + seg_off(s, s->cur) + s->sent;
    *n = s->seg[s->cur] - s->sent;
    return SOCKS_SEND;
}

int socks_sent(socks *s, size_t n)
{
    if (!s) return SOCKS_E_ARG;
    if (s->state != ST_SEND) return n ? SOCKS_E_ARG : state_rc(s);
    if (n > s->seg[s->cur] - s->sent) return SOCKS_E_ARG;
    s->sent += n;
    if (s->sent < s->seg[s->cur]) return SOCKS_SEND;
    switch (s->cur) {
    case SEG_GREET: start_read(s, ST_S5_METHOD, 2); break;
    case SEG_AUTH: start_read(s, ST_S5_AUTH, 2); break;
    default:
        if (is_v5(s))
            start_read(s, ST_S5_REPLY, 2);  /* VER REP first: fail early */
        else
            start_read(s, ST_S4_REPLY, 2);
    }
    return SOCKS_NEED_MORE;
}

/* ---- reading ---------------------------------------------------------- */

static const char *what(const socks *s)
{
    switch (s->state) {
    case ST_S5_METHOD: return "method selection";
    case ST_S5_AUTH: return "username/password reply";
    default: return "reply to the connect request";
    }
}

/* in[0..have) holds need bytes: act on them.  Returns SOCKS_NEED_MORE
 * when the same reply goes on (need grew), else the new state. */
static int step(socks *s)
{
    const uint8_t *r = s->in;
    switch (s->state) {
    case ST_S5_METHOD:
        /* RFC 1928 3: VER METHOD */
        if (r[0] != 5)
            return failf(s, SOCKS_E_PROTO,
                         "SOCKS5 proxy answered the greeting with version %u "
                         "(not a SOCKS5 proxy?)", r[0]);
        s->method = r[1];
        if (r[1] == 0xff)
            return failf(s, SOCKS_E_AUTH,
                         "SOCKS5 proxy accepts none of the offered "
                         "authentication methods (%s)",
                         s->seg[SEG_AUTH] ? "none, username/password"
                                          : "none; it may want a user name "
                                            "and password");
        if (r[1] == 0x00) {
            start_send(s, SEG_REQ);
            return SOCKS_SEND;
        }
        if (r[1] == 0x02 && s->seg[SEG_AUTH]) {
            start_send(s, SEG_AUTH);
            return SOCKS_SEND;
        }
        return failf(s, SOCKS_E_PROTO,
                     "SOCKS5 proxy chose authentication method 0x%02x, "
                     "which was not offered", r[1]);
    case ST_S5_AUTH:
        /* RFC 1929 2: VER STATUS; 0 is success.  VER should be 1; some
         * servers answer with the SOCKS version 5. */
        if (r[0] != 1 && r[0] != 5)
            return failf(s, SOCKS_E_PROTO,
                         "SOCKS5 proxy answered the username/password "
                         "request with version %u", r[0]);
        if (r[1] != 0)
            return failf(s, SOCKS_E_AUTH,
                         "SOCKS5 proxy rejected the user name and password "
                         "(status %u)", r[1]);
        start_send(s, SEG_REQ);
        return SOCKS_SEND;
    case ST_S5_REPLY:
        /* RFC 1928 6: VER REP RSV ATYP BND.ADDR BND.PORT */
        if (s->have == 2) {
            if (r[0] != 5)
                return failf(s, SOCKS_E_PROTO,
                             "SOCKS5 proxy answered the connect request "
                             "with version %u", r[0]);
            s->reply_code = r[1];
            if (r[1] != 0)
                return failf(s, SOCKS_E_REFUSED,
                             "SOCKS5 connect to %s failed: %s (reply %u)",
                             s->target, socks_reply_text(r[1], 0), r[1]);
            s->need = 4;
            return SOCKS_NEED_MORE;
        }
        if (s->have == 4) {
            switch (r[3]) {
            case 1: s->need = 4 + 4 + 2; s->need_final = 1; break;
            case 4: s->need = 4 + 16 + 2; s->need_final = 1; break;
            case 3: s->need = 5; break;     /* the length byte first */
            default:
                return failf(s, SOCKS_E_PROTO,
                             "SOCKS5 proxy reply has the unknown address "
                             "type %u", r[3]);
            }
            return SOCKS_NEED_MORE;
        }
        if (!s->need_final) {           /* have == 5, ATYP 3 */
            s->need = 5 + (size_t)r[4] + 2;  /* at most 262 */
            s->need_final = 1;
            return SOCKS_NEED_MORE;
        }
        s->state = ST_OVER;
        s->rc = SOCKS_DONE;
        return SOCKS_DONE;
    case ST_S4_REPLY:
        /* SOCKS4: VN CD DSTPORT DSTIP; VN 0, CD 90 granted */
        if (s->have == 2) {
            if (r[0] != 0)
                return failf(s, SOCKS_E_PROTO,
                             "SOCKS4 proxy reply has version %u, not 0", r[0]);
            s->reply_code = r[1];
            if (r[1] != 90)
                return failf(s, SOCKS_E_REFUSED,
                             "SOCKS4 connect to %s failed: %s (reply %u)",
                             s->target, socks_reply_text(r[1], 1), r[1]);
            s->need = 8;
            s->need_final = 1;
            return SOCKS_NEED_MORE;
        }
        s->state = ST_OVER;
        s->rc = SOCKS_DONE;
        return SOCKS_DONE;
    default:
        return state_rc(s);
    }
}

int socks_in(socks *s, const uint8_t *p, size_t n, size_t *used)
{
    if (used) *used = 0;
    if (!s) return SOCKS_E_ARG;
    if (!used || (!p && n)) return SOCKS_E_ARG;
    size_t i = 0;
    while (s->state == ST_S5_METHOD || s->state == ST_S5_AUTH ||
           s->state == ST_S5_REPLY || s->state == ST_S4_REPLY) {
        if (s->need > sizeof s->in || s->have > s->need) /* cannot happen */
            return failf(s, SOCKS_E_PROTO, "internal error reading the reply");
        size_t take = s->need - s->have;
        if (take > n - i) take = n - i;
        if (take) memcpy(s->in + s->have, p + i, take);
        s->have += take;
        i += take;
        *used = i;
        if (s->have < s->need) return SOCKS_NEED_MORE;
        int rc = step(s);
        if (rc != SOCKS_NEED_MORE) return rc;
    }
    return state_rc(s);
}

int socks_eof(socks *s)
{
    if (!s) return SOCKS_E_ARG;
    const char *v = is_v5(s) ? "SOCKS5" : "SOCKS4";
    switch (s->state) {
    case ST_OVER:
        return s->rc;
    case ST_SEND:
        return failf(s, SOCKS_E_CLOSED,
                     "%s proxy closed the connection while the request was "
                     "being sent", v);
    default:
        if (s->have == 0)
            return failf(s, SOCKS_E_CLOSED,
                         "%s proxy closed the connection before its %s", v,
                         what(s));
        return failf(s, SOCKS_E_CLOSED,
                     "%s proxy closed the connection in the middle of its "
                     "%s (after %zu of %s%zu bytes)", v, what(s), s->have,
                     s->need_final ? "" : "at least ", s->need);
    }
}

int socks_bound(const socks *s, char *out, size_t outlen)
{
    if (!s || !out || outlen == 0 || s->state != ST_OVER ||
        s->rc != SOCKS_DONE)
        return -1;
    const uint8_t *r = s->in;
    char a[SOCKS_MAX_FIELD + 1];
    unsigned port;
    int n;
    if (!is_v5(s)) {
        port = (unsigned)r[2] << 8 | r[3];
        n = snprintf(out, outlen, "%u.%u.%u.%u:%u", r[4], r[5], r[6], r[7],
                     port);
    } else if (r[3] == 1) {
        port = (unsigned)r[8] << 8 | r[9];
        n = snprintf(out, outlen, "%u.%u.%u.%u:%u", r[4], r[5], r[6], r[7],
                     port);
    } else if (r[3] == 4) {
        if (!inet_ntop(AF_INET6, r + 4, a, sizeof a)) return -1;
        port = (unsigned)r[20] << 8 | r[21];
        n = snprintf(out, outlen, "[%s]:%u", a, port);
    } else {
        size_t len = r[4];             /* <= 255 < sizeof a */
        for (size_t i = 0; i < len; i++)
            a[i] = r[5 + i] > 0x20 && r[5 + i] < 0x7f ? (char)r[5 + i] : '?';
        a[len] = '\0';
        port = (unsigned)r[5 + len] << 8 | r[6 + len];
        n = snprintf(out, outlen, "%s:%u", a, port);
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
