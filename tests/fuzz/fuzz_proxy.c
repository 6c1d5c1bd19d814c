/* FUZZ_SRC: src/proxy.c src/buf.c */
/* fuzz_proxy.c -- libFuzzer target for src/proxy.c.
 * The input is "A\nB" (each cut at a NUL).
 *   A is parsed as a proxy spec: a success must hold only what the grammar
 *     allows, print back to a canonical form that parses to itself, and
 *     give a clean CONNECT head; a failure leaves nothing allocated.
 *   A is the no_proxy list and B the host: the result must not change with
 *     ASCII case, with empty entries added, or with spaces around entries;
 *     a host that parses as a name must match itself and its subdomains,
 *     never a longer name ending with it off a label boundary.
 *   B split at '|' gives --proxy-header lines for a CONNECT head: when it
 *     is built, every line ends in CRLF, no CR or LF stands alone and the
 *     blank line comes only at the end (no injection); the status judge
 *     gets B as the reason and must give a clean line. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hflow.h"
#include "proxy.h"

static int clean_line(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f) return 0;
    }
    return 1;
}

/* CRLF only in pairs; the first empty line is the last thing. */
static void check_head(const char *h, size_t n)
{
    if (strlen(h) != n || n < 4) abort();
    if (strncmp(h, "CONNECT ", 8) != 0) abort();
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '\r' && (i + 1 >= n || h[i + 1] != '\n')) abort();
        if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r')) abort();
        unsigned char c = (unsigned char)h[i];
        if (c < 0x20 && c != '\r' && c != '\n' && c != '\t') abort();
    }
    const char *end = strstr(h, "\r\n\r\n");
    if (!end || (size_t)(end - h) != n - 4) abort();
}

static char *upper(const char *s)
{
    char *u = strdup(s);
    if (!u) return NULL;
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    return u;
}

static void check_spec(const char *a)
{
    proxy_spec p;
    char err[128];
    int rc = proxy_parse(&p, a, err, sizeof err);
    if (rc != 0) {
        if (rc != HF_E_BAD_ARG && rc != HF_E_UNSUPPORTED_PROTOCOL &&
            rc != HF_E_NOMEM)
            abort();
        if (p.host || p.user || p.password || !err[0]) abort();
        return;
    }
    if (!p.host || !*p.host || strlen(p.host) > 255) abort();
    if (p.port < 1 || p.port > 65535) abort();
    if (p.scheme < PROXY_HTTP || p.scheme > PROXY_SOCKS5H) abort();
    if (p.user && strlen(p.user) > 255) abort();
    if (p.password && strlen(p.password) > 255) abort();
    if (p.password && !p.user) abort();
    unsigned char buf[16];
    switch (p.host_type) {
    case PROXY_HOST_IPV4:
        if (inet_pton(AF_INET, p.host, buf) != 1) abort();
        break;
    case PROXY_HOST_IPV6:
        if (inet_pton(AF_INET6, p.host, buf) != 1) abort();
        break;
    case PROXY_HOST_NAME:
        for (const char *c = p.host; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                  strchr("-._~", *c)))
                abort();
        break;
    default:
        abort();
    }
    /* canonical form: parses back to itself */
    char *s = proxy_spec_string(&p, 1);
    if (s) {
        proxy_spec q;
        if (proxy_parse(&q, s, NULL, 0) != 0) abort();
        if (strcmp(q.host, p.host) != 0 || q.port != p.port ||
            q.scheme != p.scheme || (!q.user) != (!p.user) ||
            (p.user && strcmp(q.user, p.user) != 0) ||
            (!q.password) != (!p.password) ||
            (p.password && strcmp(q.password, p.password) != 0))
            abort();
        proxy_spec_free(&q);
        free(s);
    }
    /* a parsed host always makes a clean CONNECT head */
    char *authz = p.user ? proxy_basic_auth(p.user, p.password) : NULL;
    char *h = NULL;
    size_t n = 0;
    rc = proxy_connect_head(p.host, p.port, authz, "hflow", NULL, 0, &h, &n,
                            err, sizeof err);
    if (rc == HF_E_NOMEM) goto out;
    if (rc != 0) abort();
    check_head(h, n);
    /* a name host matches itself in a no_proxy list */
    if (p.host_type == PROXY_HOST_NAME && strcmp(p.host, ".") != 0 &&
        p.host[0] != '.' && !proxy_noproxy_match(p.host, p.host))
        abort();
out:
    free(h);
    free(authz);
    proxy_spec_free(&p);
}

static void check_noproxy(const char *list, const char *host)
{
    int m = proxy_noproxy_match(list, host);
    if (m != 0 && m != 1) abort();
    char *ul = upper(list), *uh = upper(host);
    size_t ll = strlen(list);
    char *padded = malloc(ll + 8);
    if (ul && uh && padded) {
        if (proxy_noproxy_match(ul, uh) != m) abort();
        /* ", " around: empty entries and spaces change nothing, unless
         * the list's own ends hold commas mid-entry (they do not: a comma
         * always separates) */
        memcpy(padded, ", ", 2);
        memcpy(padded + 2, list, ll);
        memcpy(padded + 2 + ll, " ,", 3);
        /* (except a list of just "*": curl honours "*" only alone) */
        const char *a = list;
        size_t k = ll;
        while (*a == ' ' || *a == '\t') { a++; k--; }
        while (k && (a[k - 1] == ' ' || a[k - 1] == '\t')) k--;
        if (!(k == 1 && *a == '*') && proxy_noproxy_match(padded, host) != m)
            abort();
        if (proxy_noproxy_match("*", host) != (host[0] != '\0' &&
                                               strcmp(host, "[]") != 0 &&
                                               strcmp(host, ".") != 0))
            abort();
    }
    free(ul);
    free(uh);
    free(padded);

    /* a plain name entry: itself, below it, never off a label boundary */
    proxy_spec p;
    if (!strchr(host, ',') && strlen(host) < 200 &&
        proxy_parse(&p, host, NULL, 0) == 0) {
        if (p.host_type == PROXY_HOST_NAME && p.host[0] != '.' &&
            p.host[strlen(p.host) - 1] != '.') {
            size_t hl = strlen(p.host);
            char *sub = malloc(hl + 8), *off = malloc(hl + 8);
            if (sub && off) {
                memcpy(sub, "www.", 4);
                memcpy(sub + 4, p.host, hl + 1);
                off[0] = 'x';
                memcpy(off + 1, p.host, hl + 1);
                if (!proxy_noproxy_match(p.host, p.host)) abort();
                if (!proxy_noproxy_match(p.host, sub)) abort();
                if (proxy_noproxy_match(p.host, off)) abort();
            }
            free(sub);
            free(off);
        }
        proxy_spec_free(&p);
    }
}

static void check_lines(const char *b)
{
    char *copy = strdup(b);
    if (!copy) return;
    const char *lines[8];
    size_t n = 0;
    char *save = copy;
    while (n < 8) {
        lines[n++] = save;
        char *bar = strchr(save, '|');
        if (!bar) break;
        *bar = '\0';
        save = bar + 1;
    }
    char *h = NULL;
    size_t hl = 0;
    char err[128];
    int rc = proxy_connect_head("example.com", 443, "Basic x", "ua", lines, n,
                                &h, &hl, err, sizeof err);
    if (rc == 0)
        check_head(h, hl);
    else if (rc != HF_E_BAD_ARG && rc != HF_E_NOMEM)
        abort();
    else if (h)
        abort();
    else if (rc == HF_E_BAD_ARG && !clean_line(err))
        abort();
    free(h);
    free(copy);

    char why[200];
    rc = proxy_connect_status(403, b, strlen(b), "p:1", "h:2", why, sizeof why);
    if (rc != PROXY_TUNNEL_FAIL || !clean_line(why)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *a = s, *b = "";
    char *nl = memchr(s, '\n', size);
    if (nl) {
        *nl = '\0';
        b = nl + 1;
    }
    check_spec(a);
    check_noproxy(a, b);
    check_lines(b);
    free(s);
    return 0;
}
