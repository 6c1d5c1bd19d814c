/* cookie.c -- the cookie engine (see cookie.h): RFC 6265bis parsing,
 * storage and retrieval, and curl's Netscape cookie-jar text format. */
#include "cookie.h"
#include "hflow.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_MAX 255            /* a canonical host or cookie domain */
#define JAR_HTTPONLY "#HttpOnly_"

typedef struct cookie {
    char *name, *value, *domain, *path;   /* all in the same allocation */
    const char *site;           /* registrable domain: a suffix of domain */
    int64_t expires;            /* when persistent */
    int64_t created, last_access;
    uint64_t seq;               /* creation order, breaks ties */
    unsigned char persistent, host_only, secure, http_only, same_site;
} cookie;

struct cookie_jar {
    cookie **v;
    size_t n, cap;
    uint64_t seq;
};

/* ---- small helpers ------------------------------------------------------ */

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_wsp(int c) { return c == ' ' || c == '\t'; }

/* Case-insensitive (ASCII) comparison of [s, s+n) with the C string w. */
static int ieq(const char *s, size_t n, const char *w)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!w[i] || lc((unsigned char)s[i]) != lc((unsigned char)w[i]))
            return 0;
    return w[n] == '\0';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_wsp((unsigned char)**s)) { (*s)++; (*n)--; }
    while (*n && is_wsp((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* A byte RFC 6265bis refuses in a cookie: CTLs but HTAB, and DEL. */
static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static int has_ctl(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (is_ctl((unsigned char)s[i])) return 1;
    return 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static int secure_scheme(const char *scheme)
{
    return scheme && (ieq(scheme, strlen(scheme), "https") ||
                      ieq(scheme, strlen(scheme), "wss"));
}

/* ---- hosts, domains and the public suffix list -------------------------- */

static const psl_ctx_t *g_psl;
static pthread_once_t g_psl_once = PTHREAD_ONCE_INIT;

static void psl_init(void)
{
    /* Never freed: one context for the process, like the built-in one. */
    g_psl = psl_latest(NULL);
    if (!g_psl) g_psl = psl_builtin();
}

static const psl_ctx_t *psl(void)
{
    pthread_once(&g_psl_once, psl_init);
    return g_psl;
}

/* An IP address, or something that could be read as one: such a host
 * matches cookies only exactly (no domain cookies, no tail match).  The URL
 * parser gives IPv6 without brackets, so any ':' means IPv6; a last label
 * of digits only is no DNS name (no TLD is numeric). */
static int is_ip(const char *h)
{
    const char *dot;
    if (strchr(h, ':')) return 1;
    dot = strrchr(h, '.');
    dot = dot ? dot + 1 : h;
    if (!*dot) return 0;
    for (; *dot; dot++)
        if (!is_digit((unsigned char)*dot)) return 0;
    return 1;
}

static int is_public_suffix(const char *d)
{
    const psl_ctx_t *ctx = psl();
    if (ctx) return psl_is_public_suffix2(ctx, d, PSL_TYPE_ANY);
    return strchr(d, '.') == NULL;   /* no list: at least refuse TLDs */
}

/* The registrable domain of d (a suffix of it), for the per-site cap. */
static const char *site_of(const char *d)
{
    const psl_ctx_t *ctx = psl();
    const char *r = NULL;
    if (is_ip(d)) return d;
    if (ctx) r = psl_registrable_domain(ctx, d);
    if (!r) {   /* a public suffix itself, or no list: the last two labels */
        const char *p = d + strlen(d);
        int dots = 0;
        if (ctx) return d;
        while (p > d) {
            if (p[-1] == '.' && ++dots == 2) break;
            p--;
        }
        r = p;
    }
    return r;
}

static int host_char(int c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == ':';
}

/* Canonicalise a host or cookie domain from [s, s+n) into out: brackets
 * of an IPv6 literal removed, lower-cased, one trailing dot removed.
 * 1 when out holds a valid name, 0 when empty, -1 when invalid. */
static int canon_name(const char *s, size_t n, char out[HOST_MAX + 1])
{
    size_t i;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { s++; n -= 2; }
    if (n > 0 && s[n - 1] == '.') n--;
    if (n == 0) return 0;
    if (n > HOST_MAX) return -1;
    for (i = 0; i < n; i++) {
        int c = lc((unsigned char)s[i]);
        if (!host_char(c)) return -1;
        if (c == '.' && (i == 0 || out[i - 1] == '.')) return -1;
        out[i] = (char)c;
    }
    out[n] = '\0';
    if (out[n - 1] == '.') return -1;     /* was "x.." */
    return 1;
}

/* RFC 6265bis 5.1.3: does host domain-match domain?  (Both canonical.)
 * Identical strings, or host ends with "." + domain and is no IP address:
 * the dot boundary keeps example.com's cookies from hijack-example.com. */
static int domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (hl == dl) return memcmp(host, domain, hl) == 0;
    if (hl < dl + 1 || is_ip(host)) return 0;
    return host[hl - dl - 1] == '.' && memcmp(host + hl - dl, domain, dl) == 0;
}

/* ---- paths -------------------------------------------------------------- */

/* The path of a request target: up to '?' or '#'; "/" when it is empty or
 * does not start with '/'. */
static void request_path(const char *p, const char **out, size_t *n)
{
    size_t len = p ? strcspn(p, "?#") : 0;
    if (len == 0 || p[0] != '/') { *out = "/"; *n = 1; return; }
    *out = p;
    *n = len;
}

/* RFC 6265bis 5.1.4: the default path of a request path (as above). */
static void default_path(const char *p, size_t n, const char **out, size_t *on)
{
    size_t i = n;
    while (i > 0 && p[i - 1] != '/') i--;
    /* i - 1 is the right-most '/'; p[0] is '/' */
    *out = p;
    *on = i <= 1 ? 1 : i - 1;
}

/* RFC 6265bis 5.1.4: does the request path [req, req+n) path-match the
 * cookie path cp?  cp always starts with '/', so cp[cl - 1] is in bounds. */
static int path_match(const char *req, size_t n, const char *cp)
{
    size_t cl = strlen(cp);
    if (cl == 0 || cl > n || memcmp(req, cp, cl) != 0) return 0;
    return cl == n || cp[cl - 1] == '/' || req[cl] == '/';
}

/* ---- dates (RFC 6265bis 5.1.1) ------------------------------------------ */

static int date_delim(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* Read from min to max digits at *i of [t, t+n) into *v. */
static int take_digits(const char *t, size_t n, size_t *i, int min, int max,
                       int *v)
{
    int k = 0;
    *v = 0;
    while (*i < n && k < max && is_digit((unsigned char)t[*i])) {
        *v = *v * 10 + (t[*i] - '0');
        (*i)++;
        k++;
    }
    return k >= min;
}

/* After a number: the token ends, or goes on with a non-digit. */
static int num_end(const char *t, size_t n, size_t i)
{
    return i == n || !is_digit((unsigned char)t[i]);
}

static int date_time(const char *t, size_t n, int *h, int *m, int *s)
{
    size_t i = 0;
    if (!take_digits(t, n, &i, 1, 2, h) || i >= n || t[i++] != ':') return 0;
    if (!take_digits(t, n, &i, 1, 2, m) || i >= n || t[i++] != ':') return 0;
    return take_digits(t, n, &i, 1, 2, s) && num_end(t, n, i);
}

static int date_num(const char *t, size_t n, int min, int max, int *v)
{
    size_t i = 0;
    return take_digits(t, n, &i, min, max, v) && num_end(t, n, i);
}

static int date_month(const char *t, size_t n, int *mon)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int k;
    if (n < 3) return 0;
    for (k = 0; k < 12; k++)
        if (lc((unsigned char)t[0]) == names[3 * k] &&
            lc((unsigned char)t[1]) == names[3 * k + 1] &&
            lc((unsigned char)t[2]) == names[3 * k + 2]) {
            *mon = k + 1;
            return 1;
        }
    return 0;
}

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Leap years in [1, y), for y >= 1. */
static int64_t leaps_before(int64_t y)
{
    y--;
    return y / 4 - y / 100 + y / 400;
}

/* Seconds since 1970-01-01 00:00:00 UTC of a valid proleptic Gregorian
 * date and time (year >= 1601). */
static int64_t civil_to_unix(int y, int mon, int d, int h, int mi, int s)
{
    static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
                                    273, 304, 334 };
    int64_t days = (int64_t)(y - 1970) * 365 +
                   (leaps_before(y) - leaps_before(1970)) + before[mon - 1] +
                   (mon > 2 && leap(y)) + (d - 1);
    return days * 86400 + (int64_t)h * 3600 + mi * 60 + s;
}

/* The cookie-date algorithm; 0 and *out on success, -1 when it fails. */
static int parse_date(const char *s, size_t n, int64_t *out)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                   30, 31 };
    int have_time = 0, have_day = 0, have_mon = 0, have_year = 0;
    int h = 0, mi = 0, sec = 0, day = 0, mon = 0, year = 0;
    size_t i = 0;
    while (i < n) {
        size_t b, len;
        int a, bb, c;
        while (i < n && date_delim((unsigned char)s[i])) i++;
        b = i;
        while (i < n && !date_delim((unsigned char)s[i])) i++;
        len = i - b;
        if (len == 0) continue;
        if (!have_time && date_time(s + b, len, &a, &bb, &c)) {
            have_time = 1; h = a; mi = bb; sec = c;
        } else if (!have_day && date_num(s + b, len, 1, 2, &a)) {
            have_day = 1; day = a;
        } else if (!have_mon && date_month(s + b, len, &a)) {
            have_mon = 1; mon = a;
        } else if (!have_year && date_num(s + b, len, 2, 4, &a)) {
            have_year = 1; year = a;
        }
    }
    if (!have_time || !have_day || !have_mon || !have_year) return -1;
    if (year >= 70 && year <= 99) year += 1900;
    else if (year >= 0 && year <= 69) year += 2000;
    if (day < 1 || day > 31 || year < 1601 || h > 23 || mi > 59 || sec > 59)
        return -1;
    if (day > mdays[mon - 1] + (mon == 2 && leap(year))) return -1;
    *out = civil_to_unix(year, mon, day, h, mi, sec);
    return 0;
}

/* ---- the jar ------------------------------------------------------------ */

static size_t num_len(int64_t v)
{
    char tmp[24];
    return (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v);
}

/* The length of c's line in a saved jar, without the newline. */
static size_t line_len(const char *name, const char *value, const char *domain,
                       const char *path, int host_only, int secure,
                       int http_only, int64_t expiry)
{
    return (http_only ? strlen(JAR_HTTPONLY) : 0) + (host_only ? 0 : 1) +
           strlen(domain) + 1 + (host_only ? 5 : 4) + 1 + strlen(path) + 1 +
           (secure ? 4 : 5) + 1 + num_len(expiry) + 1 + strlen(name) + 1 +
           strlen(value);
}

static int expired(const cookie *c, int64_t now)
{
    return c->persistent && c->expires <= now;
}

static cookie *cookie_new(const char *name, size_t nl, const char *value,
                          size_t vl, const char *domain, const char *path,
                          size_t pl)
{
    size_t dl = strlen(domain);
    cookie *c = malloc(sizeof *c + nl + vl + dl + pl + 4);
    char *p;
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    p = (char *)(c + 1);
    c->name = p;   memcpy(p, name, nl);   p[nl] = '\0'; p += nl + 1;
    c->value = p;  memcpy(p, value, vl);  p[vl] = '\0'; p += vl + 1;
    c->domain = p; memcpy(p, domain, dl); p[dl] = '\0'; p += dl + 1;
    c->path = p;   memcpy(p, path, pl);   p[pl] = '\0';
    c->site = site_of(c->domain);
    return c;
}

cookie_jar *cookie_jar_new(void)
{
    return calloc(1, sizeof(cookie_jar));
}

void cookie_jar_free(cookie_jar *j)
{
    size_t i;
    if (!j) return;
    for (i = 0; i < j->n; i++) free(j->v[i]);
    free(j->v);
    free(j);
}

size_t cookie_count(const cookie_jar *j)
{
    return j ? j->n : 0;
}

static void remove_at(cookie_jar *j, size_t i)
{
    free(j->v[i]);
    memmove(j->v + i, j->v + i + 1, (j->n - i - 1) * sizeof *j->v);
    j->n--;
}

static void purge(cookie_jar *j, int64_t now)
{
    size_t i = 0, k = 0;
    for (i = 0; i < j->n; i++) {
        if (expired(j->v[i], now)) free(j->v[i]);
        else j->v[k++] = j->v[i];
    }
    j->n = k;
}

/* The stored cookie with the same name, domain, host-only flag and path. */
static long find(const cookie_jar *j, const char *name, const char *domain,
                 int host_only, const char *path)
{
    size_t i;
    for (i = 0; i < j->n; i++) {
        const cookie *c = j->v[i];
        if (c->host_only == host_only && strcmp(c->name, name) == 0 &&
            strcmp(c->domain, domain) == 0 && strcmp(c->path, path) == 0)
            return (long)i;
    }
    return -1;
}

enum { BY_DOMAIN, BY_SITE, BY_ALL };

static int in_group(const cookie *c, int by, const char *key)
{
    if (by == BY_DOMAIN) return strcmp(c->domain, key) == 0;
    if (by == BY_SITE) return strcmp(c->site, key) == 0;
    return 1;
}

static size_t group_count(const cookie_jar *j, int by, const char *key)
{
    size_t i, k = 0;
    for (i = 0; i < j->n; i++) k += in_group(j->v[i], by, key);
    return k;
}

/* Evict one cookie of the group: non-Secure ones first (RFC 6265bis), then
 * the least recently used, then the oldest. */
static void evict_one(cookie_jar *j, int by, const char *key)
{
    size_t i, best = j->n;
    for (i = 0; i < j->n; i++) {
        const cookie *c = j->v[i], *b;
        if (!in_group(c, by, key)) continue;
        if (best == j->n) { best = i; continue; }
        b = j->v[best];
        if (c->secure != b->secure) {
            if (!c->secure) best = i;
        } else if (c->last_access != b->last_access) {
            if (c->last_access < b->last_access) best = i;
        } else if (c->seq < b->seq) {
            best = i;
        }
    }
    if (best < j->n) remove_at(j, best);
}

static void enforce_caps(cookie_jar *j, const char *domain, const char *site)
{
    char dkey[HOST_MAX + 1], skey[HOST_MAX + 1];
    /* copies: the cookie they come from may be the one evicted */
    snprintf(dkey, sizeof dkey, "%s", domain);
    snprintf(skey, sizeof skey, "%s", site);
    while (group_count(j, BY_DOMAIN, dkey) > COOKIE_MAX_PER_DOMAIN)
        evict_one(j, BY_DOMAIN, dkey);
    while (group_count(j, BY_SITE, skey) > COOKIE_MAX_PER_SITE)
        evict_one(j, BY_SITE, skey);
    while (j->n > COOKIE_MAX_TOTAL)
        evict_one(j, BY_ALL, NULL);
}

/* Store c (owned by the jar from now on, or freed on error): it replaces
 * the cookie with the same key, keeping its creation time and place. */
static int jar_put(cookie_jar *j, cookie *c, int64_t now)
{
    long old = find(j, c->name, c->domain, c->host_only, c->path);
    c->last_access = now;
    if (old >= 0) {
        c->created = j->v[old]->created;
        c->seq = j->v[old]->seq;
        free(j->v[old]);
        j->v[old] = c;
    } else {
        if (j->n == j->cap) {
            size_t nc = j->cap ? j->cap * 2 : 16;
            cookie **nv = realloc(j->v, nc * sizeof *nv);
            if (!nv) { free(c); return HF_E_NOMEM; }
            j->v = nv;
            j->cap = nc;
        }
        c->created = now;
        c->seq = j->seq++;
        j->v[j->n++] = c;
    }
    enforce_caps(j, c->domain, c->site);
    return 0;
}

/* ---- Set-Cookie (RFC 6265bis 5.6 and 5.7) ------------------------------- */

static int prefixed(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && ieq(s, k, prefix);
}

int cookie_set(cookie_jar *j, const char *set_cookie, const char *scheme,
               const char *host, const char *path, int64_t now)
{
    return cookie_set_ex(j, set_cookie, scheme, host, path, now, NULL);
}

#define IGNORE(reason) do { if (why) *why = (reason); return 0; } while (0)

int cookie_set_ex(cookie_jar *j, const char *set_cookie, const char *scheme,
                  const char *host, const char *path, int64_t now,
                  const char **why)
{
    char h[HOST_MAX + 1], dom[HOST_MAX + 1];
    const char *s, *end, *semi, *eq, *name, *value, *rpath, *cpath;
    const char *dattr = NULL, *pattr = NULL;
    size_t nl, vl, rplen, cplen, dlen = 0, plen = 0;
    int secure_origin, secure = 0, http_only = 0, same_site = 0;
    int have_maxage = 0, have_expires = 0, have_domain = 0, have_path = 0;
    int host_only = 1;
    int64_t maxage_exp = 0, expires_exp = 0, expiry = 0;
    int persistent = 0;
    long old;
    cookie *c;

    if (why) *why = NULL;
    if (!j || !set_cookie || !host) IGNORE("no cookie, jar or host");
    if (canon_name(host, strlen(host), h) != 1) IGNORE("the host is not valid");
    secure_origin = secure_scheme(scheme);
    request_path(path, &rpath, &rplen);
    purge(j, now);

    /* 5.6: the whole string, then name=value, then the attributes */
    s = set_cookie;
    end = s + strlen(s);
    if (has_ctl(s, (size_t)(end - s))) IGNORE("a control byte");
    semi = memchr(s, ';', (size_t)(end - s));
    if (!semi) semi = end;
    eq = memchr(s, '=', (size_t)(semi - s));
    if (eq) {
        name = s; nl = (size_t)(eq - s);
        value = eq + 1; vl = (size_t)(semi - eq - 1);
    } else {
        name = s; nl = 0;
        value = s; vl = (size_t)(semi - s);
    }
    trim(&name, &nl);
    trim(&value, &vl);
    if (nl == 0 && vl == 0) IGNORE("an empty name and value");
    if (nl + vl > COOKIE_MAX_NAME_VALUE) IGNORE("name and value over 4096 bytes");
    if (memchr(name, '\t', nl)) IGNORE("a tab in the name");
    if (nl == 0 && (prefixed(value, vl, "__Secure-") ||
                    prefixed(value, vl, "__Host-")))
        IGNORE("a nameless cookie that looks like a prefixed one");

    while (semi < end) {
        const char *a = semi + 1, *an, *av;
        size_t anl, avl;
        semi = memchr(a, ';', (size_t)(end - a));
        if (!semi) semi = end;
        eq = memchr(a, '=', (size_t)(semi - a));
        an = a;
        if (eq) {
            anl = (size_t)(eq - a);
            av = eq + 1;
            avl = (size_t)(semi - eq - 1);
        } else {
            anl = (size_t)(semi - a);
            av = semi;
            avl = 0;
        }
        trim(&an, &anl);
        trim(&av, &avl);
        if (avl > COOKIE_MAX_ATTR_VALUE) continue;
        if (ieq(an, anl, "expires")) {
            int64_t t;
            if (parse_date(av, avl, &t) == 0) {
                have_expires = 1;
                expires_exp = t;
            }
        } else if (ieq(an, anl, "max-age")) {
            size_t i = 0;
            int neg = 0;
            int64_t d = 0;
            if (avl == 0 || (!is_digit((unsigned char)av[0]) && av[0] != '-'))
                continue;
            if (av[0] == '-') { neg = 1; i = 1; }
            if (i == avl) continue;
            for (; i < avl; i++) {
                if (!is_digit((unsigned char)av[i])) break;
                if (d < INT64_MAX / 10) d = d * 10 + (av[i] - '0');
                else d = INT64_MAX;
            }
            if (i < avl) continue;
            have_maxage = 1;
            maxage_exp = (neg || d == 0) ? INT64_MIN
                         : sat_add(now, d > COOKIE_MAX_AGE ? COOKIE_MAX_AGE : d);
        } else if (ieq(an, anl, "domain")) {
            if (avl == 0) continue;   /* RFC 6265bis: ignore the attribute */
            if (av[0] == '.') { av++; avl--; }
            have_domain = 1;
            dattr = av;
            dlen = avl;
        } else if (ieq(an, anl, "path")) {
            have_path = 1;
            if (avl == 0 || av[0] != '/') pattr = NULL;   /* the default */
            else { pattr = av; plen = avl; }
        } else if (ieq(an, anl, "secure")) {
            secure = 1;
        } else if (ieq(an, anl, "httponly")) {
            http_only = 1;
        } else if (ieq(an, anl, "samesite")) {
            same_site = ieq(av, avl, "none") ? COOKIE_SAMESITE_NONE
                      : ieq(av, avl, "lax") ? COOKIE_SAMESITE_LAX
                      : ieq(av, avl, "strict") ? COOKIE_SAMESITE_STRICT
                      : COOKIE_SAMESITE_DEFAULT;
        }
    }

    /* 5.7: the storage model */
    if (have_maxage) { persistent = 1; expiry = maxage_exp; }
    else if (have_expires) {
        persistent = 1;
        expiry = expires_exp;
        if (expiry > sat_add(now, COOKIE_MAX_AGE))
            expiry = sat_add(now, COOKIE_MAX_AGE);
    }

    if (have_domain) {
        int r = canon_name(dattr, dlen, dom);
        if (r < 0) IGNORE("the Domain attribute is not a host name");
        if (r == 0) have_domain = 0;   /* "Domain=." */
    }
    if (have_domain) {
        if (is_ip(h) || is_ip(dom)) {
            /* an IP address matches only itself, as a host-only cookie */
            if (strcmp(dom, h) != 0)
                IGNORE("the domain does not match the host");
        } else if (is_public_suffix(dom)) {
            if (strcmp(dom, h) != 0) IGNORE("the domain is a public suffix");
        } else if (!domain_match(h, dom)) {
            IGNORE("the domain does not match the host");
        } else {
            host_only = 0;
        }
    }
    if (host_only) snprintf(dom, sizeof dom, "%s", h);

    if (pattr) { cpath = pattr; cplen = plen; }
    else default_path(rpath, rplen, &cpath, &cplen);
    /* (the default path comes from the caller: check it too) */
    if (memchr(cpath, '\t', cplen) || has_ctl(cpath, cplen))
        IGNORE("a tab or control byte in the path");

    if (secure && !secure_origin) IGNORE("a Secure cookie from an insecure origin");

    if (prefixed(name, nl, "__Secure-") && !secure)
        IGNORE("the __Secure- prefix needs Secure");
    if (prefixed(name, nl, "__Host-") &&
        !(secure && host_only && have_path && cplen == 1 && cpath[0] == '/'))
        IGNORE("the __Host- prefix needs Secure, no Domain and Path=/");

    c = cookie_new(name, nl, value, vl, dom, cpath, cplen);
    if (!c) return HF_E_NOMEM;
    c->persistent = (unsigned char)persistent;
    c->expires = expiry;
    c->host_only = (unsigned char)host_only;
    c->secure = (unsigned char)secure;
    c->http_only = (unsigned char)http_only;
    c->same_site = (unsigned char)same_site;

    if (line_len(c->name, c->value, c->domain, c->path, host_only, secure,
                 http_only, persistent ? expiry : 0) > COOKIE_MAX_LINE) {
        free(c);
        IGNORE("too long for a cookie-jar line");
    }

    /* "Leave Secure Cookies Alone": an insecure origin may not set a
     * cookie that would shadow or overwrite a Secure one. */
    if (!secure_origin) {
        size_t i;
        for (i = 0; i < j->n; i++) {
            const cookie *o = j->v[i];
            if (o->secure && strcmp(o->name, c->name) == 0 &&
                (domain_match(o->domain, c->domain) ||
                 domain_match(c->domain, o->domain)) &&
                path_match(c->path, strlen(c->path), o->path)) {
                free(c);
                IGNORE("it would shadow a Secure cookie");
            }
        }
    }

    if (expired(c, now)) {
        old = find(j, c->name, c->domain, c->host_only, c->path);
        free(c);
        if (old >= 0) remove_at(j, (size_t)old);
        IGNORE("expired: deleted");
    }
    return jar_put(j, c, now);
}

/* ---- the Cookie header (RFC 6265bis 5.8.3) ------------------------------ */

static int by_send_order(const void *pa, const void *pb)
{
    const cookie *a = *(cookie *const *)pa, *b = *(cookie *const *)pb;
    size_t la = strlen(a->path), lb = strlen(b->path);
    if (la != lb) return la > lb ? -1 : 1;
    if (a->created != b->created) return a->created < b->created ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int cookie_header_ex(cookie_jar *j, const char *scheme, const char *host,
                     const char *path, int64_t now, char **res)
{
    char h[HOST_MAX + 1];
    const char *rp;
    size_t rpl, i, k = 0, len = 0, sent = 0;
    int secure;
    cookie **list;
    char *out, *p;

    *res = NULL;
    if (!j || !host || canon_name(host, strlen(host), h) != 1) return 0;
    secure = secure_scheme(scheme);
    request_path(path, &rp, &rpl);
    purge(j, now);
    if (j->n == 0) return 0;
    list = malloc(j->n * sizeof *list);
    if (!list) return HF_E_NOMEM;
    for (i = 0; i < j->n; i++) {
        cookie *c = j->v[i];
        int dm = c->host_only ? strcmp(h, c->domain) == 0
                              : domain_match(h, c->domain);
        if (dm && path_match(rp, rpl, c->path) && (!c->secure || secure))
            list[k++] = c;
    }
    if (k == 0) { free(list); return 0; }
    qsort(list, k, sizeof *list, by_send_order);
    for (i = 0; i < k && sent < COOKIE_MAX_SEND; i++) {
        const cookie *c = list[i];
        size_t one = (sent ? 2 : 0) + strlen(c->value) +
                     (c->name[0] ? strlen(c->name) + 1 : 0);
        if (len + one > COOKIE_MAX_HEADER) break;   /* as curl: stop here */
        len += one;
        sent++;
    }
    out = malloc(len + 1);
    if (!out) { free(list); return HF_E_NOMEM; }
    p = out;
    for (i = 0; i < sent; i++) {
        cookie *c = list[i];
        size_t nl = strlen(c->name), vl = strlen(c->value);
        if (i) { *p++ = ';'; *p++ = ' '; }
        if (nl) { memcpy(p, c->name, nl); p += nl; *p++ = '='; }
        memcpy(p, c->value, vl);
        p += vl;
        c->last_access = now;
    }
    *p = '\0';
    free(list);
    *res = out;
    return 0;
}

char *cookie_header(cookie_jar *j, const char *scheme, const char *host,
                    const char *path, int64_t now)
{
    char *out;
    cookie_header_ex(j, scheme, host, path, now, &out);
    return out;
}

/* ---- the Netscape / curl cookie file ------------------------------------ */

typedef struct sbuf {
    char *d;
    size_t len, cap;
    int err;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->err) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        char *nd;
        while (nc < b->len + n + 1) nc *= 2;
        nd = realloc(b->d, nc);
        if (!nd) { b->err = 1; return; }
        b->d = nd;
        b->cap = nc;
    }
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

char *cookie_save(cookie_jar *j, int64_t now)
{
    sbuf b = { NULL, 0, 0, 0 };
    size_t i;
    if (!j) return NULL;
    purge(j, now);
    sb_str(&b, "# Netscape HTTP Cookie File\n"
               "# https://curl.se/docs/http-cookies.html\n"
               "# This file was generated by hflow! Edit at your own risk.\n\n");
    for (i = 0; i < j->n; i++) {
        const cookie *c = j->v[i];
        char num[24];
        int64_t e = c->persistent ? c->expires : 0;
        if (c->persistent && c->expires <= 0) continue;   /* never "0" */
        snprintf(num, sizeof num, "%lld", (long long)e);
        if (c->http_only) sb_str(&b, JAR_HTTPONLY);
        if (!c->host_only) sb_str(&b, ".");
        sb_str(&b, c->domain);
        sb_str(&b, c->host_only ? "\tFALSE\t" : "\tTRUE\t");
        sb_str(&b, c->path);
        sb_str(&b, c->secure ? "\tTRUE\t" : "\tFALSE\t");
        sb_str(&b, num);
        sb_str(&b, "\t");
        sb_str(&b, c->name);
        sb_str(&b, "\t");
        sb_str(&b, c->value);
        sb_str(&b, "\n");
    }
    if (b.err) { free(b.d); return NULL; }
    return b.d;
}

/* The next TAB-separated field of a line; rest: the field takes all that
 * is left, tabs included.  0 when no field is left. */
typedef struct fields {
    const char *s;
    size_t n, pos;
    int done;
} fields;

static int next_field(fields *f, int rest, const char **out, size_t *len)
{
    const char *t;
    if (f->done) return 0;
    *out = f->s + f->pos;
    t = rest ? NULL : memchr(*out, '\t', f->n - f->pos);
    if (t) {
        *len = (size_t)(t - *out);
        f->pos += *len + 1;
    } else {
        *len = f->n - f->pos;
        f->pos = f->n;
        f->done = 1;
    }
    return 1;
}

static int parse_i64(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    int neg = 0;
    int64_t x = 0;
    if (n && s[0] == '-') { neg = 1; i = 1; }
    if (i == n) return -1;
    for (; i < n; i++) {
        int d;
        if (!is_digit((unsigned char)s[i])) return -1;
        d = s[i] - '0';
        if (x > (INT64_MAX - d) / 10) x = INT64_MAX;   /* saturate */
        else x = x * 10 + d;
    }
    *v = neg ? -x : x;
    return 0;
}

/* One line of a jar (without its newline): 0 (added or skipped), or
 * HF_E_NOMEM. */
static int load_line(cookie_jar *j, const char *line, size_t n, int junk,
                     int64_t now)
{
    fields f;
    const char *fd, *ft, *fp, *fs, *fe, *fname, *fval = "";
    size_t ld, lt, lp, ls, le, lname, lval = 0;
    char dom[HOST_MAX + 1];
    int http_only = 0, host_only, secure;
    int64_t expiry;
    cookie *c;

    if (n == 0) return 0;
    if (n > strlen(JAR_HTTPONLY) && memcmp(line, JAR_HTTPONLY,
                                            strlen(JAR_HTTPONLY)) == 0) {
        http_only = 1;
        line += strlen(JAR_HTTPONLY);
        n -= strlen(JAR_HTTPONLY);
    } else if (line[0] == '#') {
        return 0;   /* a comment */
    }
    if (has_ctl(line, n)) return 0;
    f.s = line; f.n = n; f.pos = 0; f.done = 0;
    if (!next_field(&f, 0, &fd, &ld) || !next_field(&f, 0, &ft, &lt) ||
        !next_field(&f, 0, &fp, &lp))
        return 0;
    if (ieq(fp, lp, "TRUE") || ieq(fp, lp, "FALSE")) {
        /* curl's old lines without a path */
        fs = fp; ls = lp;
        fp = "/"; lp = 1;
    } else if (!next_field(&f, 0, &fs, &ls)) {
        return 0;
    }
    if (!next_field(&f, 0, &fe, &le) || !next_field(&f, 0, &fname, &lname))
        return 0;
    if (!next_field(&f, 1, &fval, &lval)) { fval = ""; lval = 0; }

    if (ld && fd[0] == '.') { fd++; ld--; }
    if (canon_name(fd, ld, dom) != 1) return 0;
    host_only = !ieq(ft, lt, "TRUE");
    /* A domain cookie for a public suffix would be a super-cookie: keep it
     * for that very host only, as RFC 6265bis does with such a Set-Cookie
     * (curl writes ".localhost TRUE" for Domain=localhost from localhost). */
    if (!host_only && !is_ip(dom) && is_public_suffix(dom)) host_only = 1;
    if (lp == 0 || fp[0] != '/') return 0;
    secure = ieq(fs, ls, "TRUE");
    if (parse_i64(fe, le, &expiry) != 0) return 0;
    if (expiry == 0) {
        if (junk) return 0;
    } else if (expiry <= now) {
        return 0;
    }
    if (lname == 0 && lval == 0) return 0;
    if (lname + lval > COOKIE_MAX_NAME_VALUE) return 0;
    if (memchr(fname, '=', lname) || memchr(fname, ';', lname) ||
        memchr(fval, ';', lval))
        return 0;

    c = cookie_new(fname, lname, fval, lval, dom, fp, lp);
    if (!c) return HF_E_NOMEM;
    c->persistent = expiry != 0;
    c->expires = expiry;
    c->host_only = (unsigned char)host_only;
    c->secure = (unsigned char)secure;
    c->http_only = (unsigned char)http_only;
    if (line_len(c->name, c->value, c->domain, c->path, host_only, secure,
                 http_only, expiry) > COOKIE_MAX_LINE) {
        free(c);
        return 0;
    }
    return jar_put(j, c, now);
}

int cookie_load(cookie_jar *j, const char *text, size_t len, int junk_session,
                int64_t now)
{
    size_t pos = 0;
    if (!j) return 0;
    purge(j, now);
    while (text && pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        int rc;
        pos += n + (nl ? 1 : 0);
        if (n && line[n - 1] == '\r') n--;
        /* A line too long is skipped whole: never cut into two cookies. */
        if (n > COOKIE_MAX_LINE) continue;
        rc = load_line(j, line, n, junk_session, now);
        if (rc) return rc;
    }
    return 0;
}

int cookie_get(const cookie_jar *j, size_t i, cookie_info *out)
{
    const cookie *c;
    if (!j || i >= j->n || !out) return -1;
    c = j->v[i];
    out->name = c->name;
    out->value = c->value;
    out->domain = c->domain;
    out->path = c->path;
    out->host_only = c->host_only;
    out->secure = c->secure;
    out->http_only = c->http_only;
    out->same_site = c->same_site;
    out->expires = c->persistent ? c->expires : 0;
    out->created = c->created;
    return 0;
}
