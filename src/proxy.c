/* proxy.c -- the proxy spec, the choice of a proxy (curl's rules), no_proxy
 * matching, and the CONNECT request head.  Pure: see proxy.h. */
#include "proxy.h"
#include "ascii.h"
#include "buf.h"
#include "hflow.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 255     /* host, user and password bytes (see proxy.h) */

/* ASCII case-insensitive comparison of s[0..n) with the C string t. */
static int ieqn(const char *s, size_t n, const char *t)
{
    size_t k = 0;
    for (; k < n && t[k]; k++)
        if (lower((unsigned char)s[k]) != lower((unsigned char)t[k]))
            return 0;
    return k == n && t[k] == '\0';
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- the spec ----------------------------------------------------------- */

static const struct {
    const char *name;
    proxy_scheme scheme;
} schemes[] = {
    {"http", PROXY_HTTP},     {"https", PROXY_HTTPS},
    {"socks4", PROXY_SOCKS4}, {"socks4a", PROXY_SOCKS4A},
    {"socks5", PROXY_SOCKS5}, {"socks5h", PROXY_SOCKS5H},
};

const char *proxy_scheme_name(proxy_scheme s)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].scheme == s) return schemes[i].name;
    return "unknown";
}

static int fail(proxy_spec *p, char *err, size_t errlen, int code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(proxy_spec *p, char *err, size_t errlen, int code,
                const char *fmt, ...)
{
    proxy_spec_free(p);
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
#define BAD(...) fail(p, err, errlen, HF_E_BAD_ARG, __VA_ARGS__)
#define NOMEM() fail(p, err, errlen, HF_E_NOMEM, "out of memory")

/* RFC 3986 3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims /
 * ":" ); the '%' must start a pct-encoded triplet. */
static int valid_userinfo(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0)
                return 0;
            i += 2;
        } else if (!is_unreserved(c) && !is_subdelim(c) && c != ':') {
            return 0;
        }
    }
    return 1;
}

/* Decode s[0..n) (already valid); *out malloc'd.  -1 when out of memory,
 * -2 when the result holds a NUL or is longer than MAX_NAME bytes. */
static int pct_decode(const char *s, size_t n, char **out)
{
    char *d = malloc(n + 1), *q = d;
    if (!d) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            *q = (char)(hexval((unsigned char)s[i + 1]) * 16 +
                        hexval((unsigned char)s[i + 2]));
            i += 2;
            if (*q == '\0') { free(d); return -2; }
            q++;
        } else {
            *q++ = s[i];
        }
    }
    *q = '\0';
    if ((size_t)(q - d) > MAX_NAME) { free(d); return -2; }
    *out = d;
    return 0;
}


int proxy_parse(proxy_spec *p, const char *s, char *err, size_t errlen)
{
    if (err && errlen > 0) err[0] = '\0';
    if (!p) return HF_E_BAD_ARG;
    memset(p, 0, sizeof *p);
    if (!s || !*s) return BAD("empty proxy");
    size_t len = strnlen(s, PROXY_MAX_SPEC + 1);
    if (len > PROXY_MAX_SPEC) return BAD("proxy spec too long");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ') return BAD("space in proxy");
        if (c < 0x20 || c == 0x7f) return BAD("control byte in proxy");
        if (c == '\\') return BAD("backslash in proxy");
        if (c >= 0x80) return BAD("non-ASCII byte in proxy");
    }

    /* scheme://, when "://" comes before any '/', '?' or '#' */
    const char *rest = s, *sep = strstr(s, "://");
    if (sep && (size_t)(sep - s) <= strcspn(s, "/?#")) {
        size_t sl = (size_t)(sep - s), i;
        for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            if (ieqn(s, sl, schemes[i].name)) break;
        if (i == sizeof schemes / sizeof schemes[0])
            return fail(p, err, errlen, HF_E_UNSUPPORTED_PROTOCOL,
                        "unsupported proxy scheme \"%.*s\"",
                        (int)(sl > 20 ? 20 : sl), s);
        p->scheme = schemes[i].scheme;
        rest = sep + 3;
    } else {
        p->scheme = PROXY_HTTP;
    }

    /* the authority, up to '/', '?' or '#'; after it only "" or "/" */
    size_t alen = strcspn(rest, "/?#");
    const char *auth = rest, *aend = rest + alen;
    if (aend[0] && !(aend[0] == '/' && aend[1] == '\0'))
        return BAD(aend[strcspn(aend, "?#")] ? "query or fragment in proxy"
                                             : "path in proxy");

    /* RFC 3986 3.2.1 userinfo, before the first '@' (a second '@' then
     * fails as a host byte) */
    const char *at = memchr(auth, '@', alen);
    if (at) {
        size_t ul = (size_t)(at - auth);
        if (!valid_userinfo(auth, ul)) return BAD("bad proxy user or password");
        const char *colon = memchr(auth, ':', ul);
        size_t nl = colon ? (size_t)(colon - auth) : ul;
        int rc = pct_decode(auth, nl, &p->user);
        if (rc == 0 && colon)
            rc = pct_decode(colon + 1, (size_t)(at - colon - 1), &p->password);
        if (rc == -1) return NOMEM();
        if (rc == -2) return BAD("proxy user or password over 255 bytes or with %%00");
        auth = at + 1;
    }

    /* RFC 3986 3.2.2 host */
    const char *hend;
    if (auth < aend && *auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(aend - auth));
        if (!rb) return BAD("unmatched bracket in proxy host");
        if (rb + 1 < aend && rb[1] != ':') return BAD("junk after ']' in proxy");
        size_t hl = (size_t)(rb - auth - 1);
        char lit[INET6_ADDRSTRLEN + 1];
        struct in6_addr a6;
        if (memchr(auth + 1, '%', hl)) return BAD("zone id in proxy host");
        if (hl == 0 || hl >= sizeof lit) return BAD("bad IPv6 address");
        memcpy(lit, auth + 1, hl);
        lit[hl] = '\0';
        if (inet_pton(AF_INET6, lit, &a6) != 1) return BAD("bad IPv6 address");
        char canon[INET6_ADDRSTRLEN];
        if (!inet_ntop(AF_INET6, &a6, canon, sizeof canon))
            return BAD("bad IPv6 address");
        if (!(p->host = dupn(canon, strlen(canon)))) return NOMEM();
        p->host_type = PROXY_HOST_IPV6;
        hend = rb + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(aend - auth));
        hend = colon ? colon : aend;
        size_t hl = (size_t)(hend - auth);
        if (hl == 0) return BAD("empty proxy host");
        if (hl > MAX_NAME) return BAD("proxy host name over 255 bytes");
        int digits_dots = 1;
        for (size_t i = 0; i < hl; i++) {
            int c = (unsigned char)auth[i];
            if (c == '%') return BAD("'%%' in proxy host");
            if (c == '[' || c == ']') return BAD("bad bracket in proxy host");
            if (!is_unreserved(c)) return BAD("bad character '%c' in proxy host", c);
            if (!is_digit(c) && c != '.') digits_dots = 0;
        }
        if (!(p->host = dupn(auth, hl))) return NOMEM();
        for (size_t i = 0; i < hl; i++) p->host[i] = (char)lower(p->host[i]);
        struct in_addr a4;
        if (digits_dots) {
            if (!valid_ipv4(p->host)) return BAD("bad IPv4 address");
            p->host_type = PROXY_HOST_IPV4;
        } else if (inet_aton(p->host, &a4)) {
            /* "0x7f.1": the address connected to is not the one shown */
            return BAD("ambiguous numeric proxy host");
        } else {
            p->host_type = PROXY_HOST_NAME;
        }
    }

    /* RFC 3986 3.2.3 port; curl's defaults: 1080, and 443 for https:// */
    p->port = p->scheme == PROXY_HTTPS ? 443 : 1080;
    if (hend < aend) {
        const char *q = hend + 1;
        size_t pl = (size_t)(aend - q);
        if (pl > 5) return BAD("bad proxy port");
        int v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!is_digit((unsigned char)q[i])) return BAD("bad proxy port");
            v = v * 10 + (q[i] - '0');
        }
        if (pl > 0) {
            if (v < 1 || v > 65535) return BAD("bad proxy port");
            p->port = v;
            p->port_explicit = 1;
        }
    }
    return 0;
}
#undef BAD
#undef NOMEM

void proxy_spec_free(proxy_spec *p)
{
    if (!p) return;
    free(p->host);
    free(p->user);
    if (p->password) {
        /* best effort: the secret does not linger in freed memory */
        volatile char *v = p->password;
        while (*v) *v++ = 0;
        free(p->password);
    }
    memset(p, 0, sizeof *p);
}

/* Percent-encode everything but unreserved bytes. */
static int put_encoded(buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_unreserved(c)) {
            rc = buf_add(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_add(b, e, 3);
        }
    }
    return rc;
}

char *proxy_spec_string(const proxy_spec *p, int with_credentials)
{
    if (!p || !p->host) return NULL;
    buf b;
    buf_init(&b, 4 * PROXY_MAX_SPEC);
    int rc = buf_printf(&b, "%s://", proxy_scheme_name(p->scheme));
    if (!rc && with_credentials && p->user) {
        rc = put_encoded(&b, p->user);
        if (!rc && p->password) rc = buf_adds(&b, ":");
        if (!rc && p->password) rc = put_encoded(&b, p->password);
        if (!rc) rc = buf_adds(&b, "@");
    }
    if (!rc)
        rc = p->host_type == PROXY_HOST_IPV6
                 ? buf_printf(&b, "[%s]:%d", p->host, p->port)
                 : buf_printf(&b, "%s:%d", p->host, p->port);
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

/* ---- the environment ---------------------------------------------------- */

/* curl_getenv's rule: an empty value is no value. */
static const char *env(proxy_getenv_fn *get, void *arg, const char *name,
                       const char **var)
{
    const char *v = get ? get(name, arg) : NULL;
    if (!v || !*v) return NULL;
    if (var) *var = name;
    return v;
}

const char *proxy_env_proxy(const char *url_scheme, proxy_getenv_fn *get,
                            void *arg, const char **var)
{
    const char *v = NULL;
    if (var) *var = NULL;
    if (!url_scheme) url_scheme = "";
    size_t sl = strlen(url_scheme);
    if (ieqn(url_scheme, sl, "http")) {
        /* lower case only: under CGI, HTTP_PROXY is the client's "Proxy:"
         * request header, which a remote attacker chooses (curl 2001) */
        v = env(get, arg, "http_proxy", var);
    } else if (ieqn(url_scheme, sl, "https")) {
        v = env(get, arg, "https_proxy", var);
        if (!v) v = env(get, arg, "HTTPS_PROXY", var);
    }
    if (!v) v = env(get, arg, "all_proxy", var);
    if (!v) v = env(get, arg, "ALL_PROXY", var);
    return v;
}

const char *proxy_env_noproxy(proxy_getenv_fn *get, void *arg,
                              const char **var)
{
    if (var) *var = NULL;
    const char *v = env(get, arg, "no_proxy", var);
    if (!v) v = env(get, arg, "NO_PROXY", var);
    return v;
}

const char *proxy_choose(const char *url_scheme, const char *host,
                         const char *opt_proxy, const char *opt_noproxy,
                         proxy_getenv_fn *get, void *arg,
                         const char **source)
{
    const char *src = NULL, *list = opt_noproxy;
    if (source) *source = NULL;
    if (list)
        src = "--noproxy";
    else
        list = proxy_env_noproxy(get, arg, &src);
    if (list && proxy_noproxy_match(list, host)) {
        if (source) *source = src;
        return NULL;
    }
    if (opt_proxy) {
        if (source) *source = "--proxy";
        return *opt_proxy ? opt_proxy : NULL;
    }
    return proxy_env_proxy(url_scheme, get, arg, source);
}

/* ---- no_proxy ----------------------------------------------------------- */

typedef struct ipaddr {
    int family;            /* 4 or 6, 0: not an address */
    unsigned char a[16];
} ipaddr;

/* s[0..n) as an address (IPv6 possibly bracketed); family 0 if not. */
static void parse_ip(const char *s, size_t n, ipaddr *ip)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    ip->family = 0;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof tmp) return;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (memchr(tmp, ':', n)) {
        if (inet_pton(AF_INET6, tmp, ip->a) == 1) ip->family = 6;
    } else if (valid_ipv4(tmp) && inet_pton(AF_INET, tmp, ip->a) == 1) {
        ip->family = 4;
    }
}

/* Do the first bits bits of a and b agree? */
static int prefix_eq(const unsigned char *a, const unsigned char *b,
                     unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0) return 0;
    if (rest == 0) return 1;
    unsigned char mask = (unsigned char)(0xff00u >> rest);
    return (a[whole] & mask) == (b[whole] & mask);
}

/* One entry e[0..n) (trimmed, not empty) against the host. */
static int entry_match(const char *e, size_t n, const char *h, size_t hn,
                       const ipaddr *hip)
{
    if (n == 1 && e[0] == '*') return 0; /* only a list of just "*" counts */
    if (hip->family) {
        /* an address host: only an address or a CIDR block can match */
        const char *slash = memchr(e, '/', n);
        size_t an = slash ? (size_t)(slash - e) : n;
        ipaddr eip;
        parse_ip(e, an, &eip);
        if (eip.family != hip->family) return 0;
        unsigned max = eip.family == 4 ? 32 : 128, bits = max;
        if (slash) {
            size_t dn = n - an - 1;
            if (dn == 0 || dn > 3) return 0;
            bits = 0;
            for (size_t i = 0; i < dn; i++) {
                int c = (unsigned char)slash[1 + i];
                if (!is_digit(c)) return 0;
                bits = bits * 10 + (unsigned)(c - '0');
            }
            if (bits > max) return 0;
        }
        return prefix_eq(eip.a, hip->a, bits);
    }
    /* a name: the host itself or a name under it ("a.com", ".a.com") */
    if (e[0] == '.') { e++; n--; }
    if (n > 0 && e[n - 1] == '.') n--;
    if (n == 0 || n > hn) return 0;
    const char *tail = h + (hn - n);
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)tail[i]) != lower((unsigned char)e[i]))
            return 0;
    return n == hn || tail[-1] == '.';
}

int proxy_noproxy_match(const char *list, const char *host)
{
    if (!list || !host) return 0;
    size_t hn = strlen(host);
    if (hn >= 2 && host[0] == '[' && host[hn - 1] == ']') {
        host++;
        hn -= 2;
    } else if (hn > 0 && host[hn - 1] == '.')
        hn--;                                       /* "a.com." */
    if (hn == 0) return 0;
    {   /* curl: "*" alone matches every host; in a longer list, nothing */
        const char *a = list, *b = list + strlen(list);
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (b - a == 1 && *a == '*') return 1;
    }
    ipaddr hip;
    parse_ip(host, hn, &hip);
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *e = p, *end = p + n;
        while (e < end && (*e == ' ' || *e == '\t')) e++;
        while (end > e && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if (end > e && entry_match(e, (size_t)(end - e), host, hn, &hip))
            return 1;
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

/* ---- CONNECT ------------------------------------------------------------ */

/* RFC 9110 5.6.2 tchar */
static int is_tchar(int c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9110 5.5: no CR, LF, NUL; other controls but HTAB refused too. */
static int value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    return 1;
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

char *proxy_basic_auth(const char *user, const char *password)
{
    if (!user || strchr(user, ':')) return NULL;   /* RFC 7617 2 */
    if (!password) password = "";
    size_t ul = strlen(user), pl = strlen(password);
    if (ul > SIZE_MAX / 8 || pl > SIZE_MAX / 8) return NULL;
    unsigned char *cred = malloc(ul + pl + 1);
    if (!cred) return NULL;
    memcpy(cred, user, ul);
    cred[ul] = ':';
    memcpy(cred + ul + 1, password, pl);
    buf b;
    buf_init(&b, (ul + pl + 1) / 3 * 4 + 16);
    int rc = buf_adds(&b, "Basic ");
    if (!rc) rc = put_base64(&b, cred, ul + pl + 1);
    memset(cred, 0, ul + pl + 1);
    free(cred);
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

/* A --proxy-header line split: name[0..nl), then its value (trimmed) and
 * its kind. */
enum { LINE_SEND, LINE_REMOVE, LINE_EMPTY };
typedef struct hline {
    const char *name; size_t nl;
    const char *value; size_t vl;
    int kind;
} hline;

static int split_line(const char *line, hline *h)
{
    size_t n = strcspn(line, ":;");
    if (!line[n] || n == 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)line[i])) return -1;
    h->name = line;
    h->nl = n;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    if (!value_ok(v, strlen(v))) return -1;
    h->value = v;
    h->vl = vl;
    if (line[n] == ';')
        h->kind = LINE_EMPTY;
    else
        h->kind = vl ? LINE_SEND : LINE_REMOVE;
    if (line[n] == ';' && vl) return -1;   /* "X;foo" is not curl's form */
    return 0;
}

/* Does a line (user's) name one of the defaults? */
static int names(const hline *h, const char *name)
{
    return ieqn(h->name, h->nl, name);
}

static int cerr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cerr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return HF_E_BAD_ARG;
}

int proxy_connect_head(const char *host, int port, const char *authz,
                       const char *user_agent, const char *const *lines,
                       size_t nlines, char **out, size_t *outlen,
                       char *err, size_t errlen)
{
    if (err && errlen > 0) err[0] = '\0';
    if (!out || !outlen || (nlines && !lines)) return HF_E_BAD_FUNCTION_ARG;
    *out = NULL;
    *outlen = 0;
    if (!host || !*host) return cerr(err, errlen, "empty CONNECT host");
    if (port < 1 || port > 65535) return cerr(err, errlen, "bad CONNECT port");

    /* RFC 9112 3.2.3 authority-form: uri-host ":" port, an IPv6 address
     * in brackets (RFC 3986 3.2.2) */
    size_t hl = strlen(host);
    int bracketed = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
    const char *h = bracketed ? host + 1 : host;
    size_t hn = bracketed ? hl - 2 : hl;
    if (hn == 0) return cerr(err, errlen, "empty CONNECT host");
    for (size_t i = 0; i < hn; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c == 0x7f || c == '/' || c == '@' || c == '[' ||
            c == ']' || c == '?' || c == '#' || c == '\\')
            return cerr(err, errlen, "bad byte in CONNECT host");
    }
    int v6 = memchr(h, ':', hn) != NULL;
    if (authz && !value_ok(authz, strlen(authz)))
        return cerr(err, errlen, "control byte in Proxy-Authorization");
    if (user_agent && !value_ok(user_agent, strlen(user_agent)))
        return cerr(err, errlen, "control byte in User-Agent");

    /* the user's lines first: all checked before anything is built */
    int drop_host = 0, drop_authz = 0, drop_ua = 0;
    for (size_t i = 0; i < nlines; i++) {
        hline hv;
        if (!lines[i] || split_line(lines[i], &hv) != 0) {
            /* the start of the line, shown safely */
            char shown[44];
            size_t k = 0;
            for (; lines[i] && lines[i][k] && k < 40; k++) {
                unsigned char c = (unsigned char)lines[i][k];
                shown[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            shown[k] = '\0';
            return cerr(err, errlen, "bad proxy header \"%s\"", shown);
        }
        if (names(&hv, "Host")) drop_host = 1;
        if (names(&hv, "Proxy-Authorization")) drop_authz = 1;
        if (names(&hv, "User-Agent")) drop_ua = 1;
    }

    buf b;
    buf_init(&b, (size_t)1 << 30);
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    int rc = buf_printf(&b, "CONNECT %s%.*s%s:%d HTTP/1.1\r\n", lb, (int)hn,
                        h, rb, port);
    if (!rc && !drop_host)
        rc = buf_printf(&b, "Host: %s%.*s%s:%d\r\n", lb, (int)hn, h, rb, port);
    if (!rc && authz && !drop_authz)
        rc = buf_printf(&b, "Proxy-Authorization: %s\r\n", authz);
    if (!rc && user_agent && !drop_ua)
        rc = buf_printf(&b, "User-Agent: %s\r\n", user_agent);
    for (size_t i = 0; i < nlines && !rc; i++) {
        hline hv;
        split_line(lines[i], &hv);
        if (hv.kind == LINE_REMOVE) continue;
        rc = buf_add(&b, hv.name, hv.nl);
        if (!rc) rc = buf_adds(&b, ":");
        if (!rc && hv.kind == LINE_SEND) rc = buf_adds(&b, " ");
        if (!rc) rc = buf_add(&b, hv.value, hv.vl);
        if (!rc) rc = buf_adds(&b, "\r\n");
    }
    if (!rc) rc = buf_adds(&b, "\r\n");
    if (rc) {
        buf_free(&b);
        return rc == HF_E_NOMEM ? HF_E_NOMEM
                                : cerr(err, errlen, "CONNECT head too large");
    }
    *outlen = b.len;
    *out = buf_take(&b);
    return 0;
}

int proxy_connect_status(int status, const char *reason, size_t reason_len,
                         const char *proxy_label, const char *target,
                         char *why, size_t wn)
{
    if (why && wn) why[0] = '\0';
    /* RFC 9110 9.3.6: "Any 2xx (Successful) response indicates that the
     * sender (and all inbound proxies) will switch to tunnel mode" */
    if (status >= 200 && status <= 299) return PROXY_TUNNEL_OK;
    if (status >= 100 && status <= 199) return PROXY_TUNNEL_INTERIM;
    char r[104];
    size_t n = 0;
    if (reason)
        for (; n < reason_len && n < 100; n++) {
            unsigned char c = (unsigned char)reason[n];
            r[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
    r[n] = '\0';
    if (why && wn)
        snprintf(why, wn,
                 "CONNECT tunnel failed: proxy %s answered %03d%s%s to "
                 "CONNECT %s",
                 proxy_label ? proxy_label : "(unknown)", status,
                 n ? " " : "", r, target ? target : "(unknown)");
    return status == 407 ? PROXY_TUNNEL_AUTH : PROXY_TUNNEL_FAIL;
}
