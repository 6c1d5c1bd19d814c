/* url.c -- URLs per RFC 3986: parse, resolve references, serialise.
 *
 * url_parse() is deliberately strict: it is the gate every request URL and
 * every redirect target goes through, so anything that could make the host
 * we connect to differ from the host a human reads is refused (see url.h).
 * url_resolve() works on generic URI references (RFC 3986 section 5) and
 * does no scheme-specific checking; its result is meant to be given to
 * url_parse() afterwards. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hflow.h"
#include "url.h"
#include "ascii.h"

/* ---- character classes (RFC 3986 section 2, ASCII only, no locale) ---- */

/* 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static int is_scheme(const char *s, size_t n)
{
    if (n == 0 || !is_alpha((unsigned char)s[0])) return 0;
    for (size_t i = 1; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 1;
}

/* ---- small string helpers -------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1); /* n < strlen of a C string, cannot overflow */
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A growable string; on allocation failure or size overflow it turns
 * "failed" and later appends are no-ops, so callers check once at the end. */
typedef struct { char *p; size_t len, cap; int failed; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (n > SIZE_MAX - 1 - b->len) { b->failed = 1; return; }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
static void sb_str(sbuf *b, const char *s) { if (s) sb_add(b, s, strlen(s)); }
/* The finished string, or NULL (and nothing leaked) if anything failed. */
static char *sb_done(sbuf *b)
{
    if (!b->failed && !b->p) sb_add(b, "", 0);
    if (b->failed) { free(b->p); return NULL; }
    return b->p;
}

/* ---- remove_dot_segments (RFC 3986 5.2.4) ----------------------------- */

/* Returns a new string of at most n bytes, or NULL when out of memory. */
static char *remove_dots(const char *path, size_t n)
{
    char *buf = dupn(path, n), *out = malloc(n + 1);
    if (!buf || !out) { free(buf); free(out); return NULL; }
    char *in = buf;
    size_t o = 0;
    while (*in) {
        if (!strncmp(in, "../", 3)) {                           /* 2A */
            in += 3;
        } else if (!strncmp(in, "./", 2)) {                     /* 2A */
            in += 2;
        } else if (!strncmp(in, "/./", 3)) {                    /* 2B */
            in += 2;
        } else if (!strcmp(in, "/.")) {                        /* 2B */
            in[1] = '/';
            in += 1;
        } else if (!strncmp(in, "/../", 4) || !strcmp(in, "/..")) { /* 2C */
            in += 2;    /* at the second '.' */
            if (in[1] == '/') in++;     /* "/../x" -> "/x" */
            else *in = '/';             /* "/.."   -> "/"  */
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
        } else if (!strcmp(in, ".") || !strcmp(in, "..")) {    /* 2D */
            in += strlen(in);
        } else {                                                /* 2E */
            do out[o++] = *in++; while (*in && *in != '/');
        }
    }
    out[o] = '\0';
    free(buf);
    return out;
}

/* ---- parsing ----------------------------------------------------------- */

static int fail(url *u, char *err, size_t errlen, int code,
                const char *fmt, ...)
{
    if (err && errlen > 0) { /* before url_free: args may point into u */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    url_free(u);
    return code;
}
#define NOMEM() fail(u, err, errlen, HF_E_NOMEM, "out of memory")
#define BAD(...) fail(u, err, errlen, HF_E_URL, __VA_ARGS__)

/* Is [s, s+n) well-formed: allowed bytes, or '%' followed by two hex
 * digits (2.1)?  allowed() says which bytes may appear literally. */
static int valid_pct(const char *s, size_t n, int (*allowed)(int))
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0)
                return 0;
            i += 2;
        } else if (!allowed(c)) {
            return 0;
        }
    }
    return 1;
}
/* 3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) */
static int userinfo_char(int c)
{
    return is_unreserved(c) || is_subdelim(c) || c == ':';
}


/* 3.2.2 IP-literal "[" IPv6address [ "%25" ZoneID ] "]" (RFC 6874).
 * lit/n is the text between the brackets. */
static int parse_ipv6(url *u, const char *lit, size_t n, char *err,
                      size_t errlen)
{
    const char *pct = memchr(lit, '%', n);
    size_t alen = pct ? (size_t)(pct - lit) : n;
    char addr[INET6_ADDRSTRLEN + 1];
    struct in6_addr a6;
    if (alen == 0 || alen >= sizeof addr) return BAD("bad IPv6 address");
    memcpy(addr, lit, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET6, addr, &a6) != 1) return BAD("bad IPv6 address");
    for (size_t i = 0; i < alen; i++) addr[i] = (char)lower(addr[i]);
    if (!(u->host = dupn(addr, alen))) return NOMEM();
    u->host_type = URL_HOST_IPV6;
    if (!pct) return 0;

    /* RFC 6874 2: ZoneID = 1*( unreserved / pct-encoded ), after "%25".
     * Decoded; a decoded byte must be printable ASCII and not a space. */
    const char *z = pct + 3, *end = lit + n;
    if (n - alen < 4 || strncmp(pct, "%25", 3) != 0 ||
        !valid_pct(z, (size_t)(end - z), is_unreserved))
        return BAD("bad IPv6 zone id");
    if (!(u->zone = malloc((size_t)(end - z) + 1))) return NOMEM();
    size_t k = 0;
    for (const char *p = z; p < end; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            c = hexval((unsigned char)p[1]) * 16 + hexval((unsigned char)p[2]);
            p += 2;
        }
        if (c <= 0x20 || c >= 0x7f) return BAD("bad IPv6 zone id");
        u->zone[k++] = (char)c;
    }
    u->zone[k] = '\0';
    return 0;
}

/* 3.2.2 host = reg-name / IPv4address; s/n is the host text. */
static int parse_host(url *u, const char *s, size_t n, char *err,
                      size_t errlen)
{
    int digits_dots = 1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        /* reg-name = *( unreserved / pct-encoded / sub-delims ), narrowed
         * to unreserved as curl does: no pct-encoding ("%2F" or "%00" in a
         * host is only ever a trick) and no sub-delims (no DNS name has
         * them, and ',' or ';' in a Host header invites confusion). */
        if (c == '%') return BAD("'%%' in host");
        if (c == '[' || c == ']') return BAD("unmatched bracket in host");
        if (!is_unreserved(c)) return BAD("bad character '%c' in host", c);
        if (!is_digit(c) && c != '.') digits_dots = 0;
    }
    if (!(u->host = dupn(s, n))) return NOMEM();
    for (size_t i = 0; i < n; i++) u->host[i] = (char)lower(u->host[i]);
    if (digits_dots) {
        if (!valid_ipv4(u->host)) return BAD("bad IPv4 address");
        u->host_type = URL_HOST_IPV4;
    } else {
        /* A name that inet_aton() (and so getaddrinfo) would still read as
         * an IPv4 address, such as "0x7f.1": refuse, as the host we would
         * connect to is not the one a reader sees. */
        struct in_addr a4;
        if (inet_aton(u->host, &a4)) return BAD("ambiguous numeric host");
        u->host_type = URL_HOST_NAME;
    }
    return 0;
}

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

int url_parse(url *u, const char *s, char *err, size_t errlen)
{
    if (err && errlen > 0) err[0] = '\0';
    if (!u) return HF_E_URL;
    memset(u, 0, sizeof *u);
    if (!s) return BAD("no URL");

    /* Bytes refused anywhere: spaces and controls (2: neither is allowed in
     * any component; CR/LF would split a request line), '\' (some parsers
     * treat it as '/'), and non-ASCII (no IDN yet). */
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ') return BAD("space in URL");
        if (c < 0x20 || c == 0x7f) return BAD("control byte in URL");
        if (c == '\\') return BAD("backslash in URL");
        if (c >= 0x80) return BAD("non-ASCII byte");
    }

    /* 3.1 scheme.  Without "scheme://" before any '/', '?' or '#', the
     * string is taken as http:// (curl's guess). */
    const char *rest = s, *sep = strstr(s, "://");
    if (sep && (size_t)(sep - s) <= strcspn(s, "/?#")) {
        if (!is_scheme(s, (size_t)(sep - s))) return BAD("bad scheme");
        if (!(u->scheme = dupn(s, (size_t)(sep - s)))) return NOMEM();
        for (char *p = u->scheme; *p; p++) *p = (char)lower(*p);
        if (strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "https") != 0)
            return fail(u, err, errlen, HF_E_UNSUPPORTED_PROTOCOL,
                        "unsupported scheme \"%.20s\"", u->scheme);
        rest = sep + 3;
    } else if (!(u->scheme = dupn("http", 4))) {
        return NOMEM();
    }

    /* 3.2 authority: up to the first '/', '?' or '#' -- so that the '@' in
     * "http://a.com#@b.com/" lies in the fragment, not in a userinfo. */
    size_t alen = strcspn(rest, "/?#");
    const char *auth = rest, *aend = rest + alen;

    /* 3.2.1 userinfo: before the first '@'; a second '@' then fails as a
     * host character (a literal '@' must be written %40). */
    const char *at = memchr(auth, '@', alen);
    if (at) {
        if (!valid_pct(auth, (size_t)(at - auth), userinfo_char))
            return BAD("bad userinfo");
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *uend = colon ? colon : at;
        if (!(u->user = dupn(auth, (size_t)(uend - auth)))) return NOMEM();
        if (colon && !(u->password = dupn(colon + 1, (size_t)(at - colon - 1))))
            return NOMEM();
        auth = at + 1;
    }

    /* 3.2.2 host, then 3.2.3 port after the host's ':' */
    const char *hend;
    int rc;
    if (auth < aend && *auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(aend - auth));
        if (!rb) return BAD("unmatched bracket in host");
        if (rb + 1 < aend && rb[1] != ':') return BAD("junk after ']'");
        rc = parse_ipv6(u, auth + 1, (size_t)(rb - auth - 1), err, errlen);
        hend = rb + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(aend - auth));
        hend = colon ? colon : aend;
        if (hend == auth) return BAD("empty host");
        rc = parse_host(u, auth, (size_t)(hend - auth), err, errlen);
    }
    if (rc) return rc;

    u->port = default_port(u->scheme);
    if (hend < aend) { /* *hend == ':'; port = *DIGIT, empty means default */
        const char *p = hend + 1;
        size_t plen = (size_t)(aend - p);
        if (plen > 5) return BAD("bad port");
        int v = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!is_digit((unsigned char)p[i])) return BAD("bad port");
            v = v * 10 + (p[i] - '0');
        }
        if (plen > 0) {
            if (v < 1 || v > 65535) return BAD("bad port");
            u->port = v;
            u->port_explicit = 1;
        }
    }

    /* 3.3 path, 3.4 query, 3.5 fragment.  Percent-encoding is kept as
     * written; dot segments are removed (5.2.4), and "" becomes "/". */
    const char *p = aend;
    size_t plen = strcspn(p, "?#");
    u->path = plen ? remove_dots(p, plen) : dupn("/", 1);
    if (!u->path) return NOMEM();
    p += plen;
    if (*p == '?') {
        size_t qlen = strcspn(++p, "#");
        if (!(u->query = dupn(p, qlen))) return NOMEM();
        p += qlen;
    }
    if (*p == '#' && !(u->fragment = dupn(p + 1, strlen(p + 1))))
        return NOMEM();
    return 0;
}

void url_free(url *u)
{
    if (!u) return;
    free(u->scheme);
    free(u->user);
    free(u->password);
    free(u->host);
    free(u->zone);
    free(u->path);
    free(u->query);
    free(u->fragment);
    memset(u, 0, sizeof *u);
}

/* ---- serialising -------------------------------------------------------- */

/* host, bracketed if IPv6, with "%25zone" (re-encoded) when with_zone;
 * then ":port" when it is not the scheme's default. */
static void add_hostport(sbuf *b, const url *u, int with_zone)
{
    if (u->host_type == URL_HOST_IPV6) sb_add(b, "[", 1);
    sb_str(b, u->host);
    if (u->host_type == URL_HOST_IPV6 && with_zone && u->zone) {
        sb_add(b, "%25", 3);
        for (const char *z = u->zone; *z; z++) {
            char hex[4];
            if (is_unreserved((unsigned char)*z)) {
                sb_add(b, z, 1);
            } else {
                snprintf(hex, sizeof hex, "%%%02X", (unsigned char)*z);
                sb_add(b, hex, 3);
            }
        }
    }
    if (u->host_type == URL_HOST_IPV6) sb_add(b, "]", 1);
    if (u->scheme && u->port != default_port(u->scheme)) {
        char port[16];
        int n = snprintf(port, sizeof port, ":%d", u->port);
        sb_add(b, port, (size_t)n);
    }
}

static void add_target(sbuf *b, const url *u)
{
    sb_str(b, u->path && *u->path ? u->path : "/");
    if (u->query) {
        sb_add(b, "?", 1);
        sb_str(b, u->query);
    }
}

char *url_to_string(const url *u)
{
    if (!u || !u->scheme || !u->host) return NULL;
    sbuf b = {0};
    sb_str(&b, u->scheme);
    sb_add(&b, "://", 3);
    if (u->user) {
        sb_str(&b, u->user);
        if (u->password) {
            sb_add(&b, ":", 1);
            sb_str(&b, u->password);
        }
        sb_add(&b, "@", 1);
    }
    add_hostport(&b, u, 1);
    add_target(&b, u);
    return sb_done(&b);
}

char *url_target(const url *u)
{
    if (!u) return NULL;
    sbuf b = {0};
    add_target(&b, u);
    return sb_done(&b);
}

char *url_host_header(const url *u)
{
    if (!u || !u->host) return NULL;
    sbuf b = {0};
    add_hostport(&b, u, 0);
    return sb_done(&b);
}

/* ---- reference resolution (RFC 3986 section 5.2) ---------------------- */

/* A component: defined or not (an empty one is still defined, 5.2.1). */
typedef struct { const char *p; size_t n; int def; } part;
typedef struct { part scheme, auth, path, query, frag; } uriref;

/* Split a reference into its five components, as the regular expression of
 * Appendix B does; a scheme must be valid (3.1) to count as one. */
static void split_ref(const char *s, uriref *r)
{
    memset(r, 0, sizeof *r);
    size_t n = strcspn(s, ":/?#");
    if (s[n] == ':' && is_scheme(s, n)) {
        r->scheme = (part){ s, n, 1 };
        s += n + 1;
    }
    if (s[0] == '/' && s[1] == '/') {
        s += 2;
        n = strcspn(s, "/?#");
        r->auth = (part){ s, n, 1 };
        s += n;
    }
    n = strcspn(s, "?#");
    r->path = (part){ s, n, 1 };
    s += n;
    if (*s == '?') {
        n = strcspn(++s, "#");
        r->query = (part){ s, n, 1 };
        s += n;
    }
    if (*s == '#') r->frag = (part){ s + 1, strlen(s + 1), 1 };
}

char *url_resolve(const char *base, const char *ref)
{
    if (!base || !ref) return NULL;
    uriref B, R, T;
    split_ref(base, &B);
    split_ref(ref, &R);
    if (!B.scheme.def) return NULL; /* 5.2.1: the base must be absolute */

    /* 5.2.2: transform references (strict: a scheme in R is never
     * ignored, so "http:g" stays "http:g") */
    char *path = NULL; /* T's path when it had to be computed */
    memset(&T, 0, sizeof T);
    T.frag = R.frag;
    if (R.scheme.def) {
        T.scheme = R.scheme;
        T.auth = R.auth;
        path = remove_dots(R.path.p, R.path.n);
        T.query = R.query;
    } else {
        T.scheme = B.scheme;
        if (R.auth.def) {
            T.auth = R.auth;
            path = remove_dots(R.path.p, R.path.n);
            T.query = R.query;
        } else {
            T.auth = B.auth;
            if (R.path.n == 0) {
                T.path = B.path;
                T.query = R.query.def ? R.query : B.query;
            } else {
                if (R.path.p[0] == '/') {
                    path = remove_dots(R.path.p, R.path.n);
                } else {
                    /* 5.2.3 merge: "/" + R.path when the base has an
                     * authority and an empty path, else the base path up to
                     * and including its last '/', then R.path. */
                    sbuf m = {0};
                    if (B.auth.def && B.path.n == 0) {
                        sb_add(&m, "/", 1);
                    } else {
                        size_t k = B.path.n;
                        while (k > 0 && B.path.p[k - 1] != '/') k--;
                        sb_add(&m, B.path.p, k);
                    }
                    sb_add(&m, R.path.p, R.path.n);
                    char *merged = sb_done(&m);
                    if (!merged) return NULL;
                    path = remove_dots(merged, strlen(merged));
                    free(merged);
                }
                T.query = R.query;
            }
        }
    }
    if (path) T.path = (part){ path, strlen(path), 1 };
    else if (!T.path.def) return NULL; /* remove_dots ran out of memory */

    /* 5.3 component recomposition */
    sbuf b = {0};
    sb_add(&b, T.scheme.p, T.scheme.n);
    sb_add(&b, ":", 1);
    if (T.auth.def) {
        sb_add(&b, "//", 2);
        sb_add(&b, T.auth.p, T.auth.n);
    } else if (T.path.n >= 2 && T.path.p[0] == '/' && T.path.p[1] == '/') {
        /* A path starting "//" without an authority would read back as
         * one (5.3 leaves this open); "/." keeps it a path. */
        sb_add(&b, "/.", 2);
    }
    sb_add(&b, T.path.p, T.path.n);
    if (T.query.def) {
        sb_add(&b, "?", 1);
        sb_add(&b, T.query.p, T.query.n);
    }
    if (T.frag.def) {
        sb_add(&b, "#", 1);
        sb_add(&b, T.frag.p, T.frag.n);
    }
    free(path);
    return sb_done(&b);
}
