/* names.c -- the names that need no DNS: --resolve overrides, numeric
 * addresses and "localhost" (RFC 6761).  Every other name goes to the
 * stub resolver (resolver.c). */
#include "internal.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void addr_format(const struct sockaddr *sa, char *out, size_t n,
                 char *ip, size_t iplen, int *port)
{
    char tmp[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, tmp, sizeof tmp);
        p = ntohs(s4->sin_port);
        snprintf(out, n, "%s:%d", tmp, p);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, tmp, sizeof tmp);
        p = ntohs(s6->sin6_port);
        snprintf(out, n, "[%s]:%d", tmp, p);
    } else {
        snprintf(out, n, "?");
    }
    if (ip)
        snprintf(ip, iplen, "%s", tmp);
    if (port)
        *port = p;
}

/* A numeric IPv4 or IPv6 address (IPv6 may carry "%zone"). */
static int numeric(const char *s, int port, hf_addr *a)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;
    if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        a->len = sizeof *s4;
        return 1;
    }
    char tmp[INET6_ADDRSTRLEN + 1];
    const char *zone = strchr(s, '%');
    size_t n = zone ? (size_t)(zone - s) : strlen(s);
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1)
        return 0;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    if (zone) {
        unsigned idx = if_nametoindex(zone + 1);
        if (!idx) {
            char *end;
            unsigned long v = strtoul(zone + 1, &end, 10);
            if (*end || end == zone + 1)
                return 0;
            idx = (unsigned)v;
        }
        s6->sin6_scope_id = idx;
    }
    a->len = sizeof *s6;
    return 1;
}

static int family_ok(int want, int af)
{
    return !want || (want == 4 && af == AF_INET) || (want == 6 && af == AF_INET6);
}

/* "HOST:PORT:ADDR[,ADDR]..." (curl's --resolve); "-HOST:PORT" removes. */
int names_parse_resolve(const char *spec, resolve_ent **out, int *remove)
{
    *out = NULL;
    *remove = spec[0] == '-';
    if (*remove || spec[0] == '+')
        spec++;
    const char *c1 = strchr(spec, ':');
    if (!c1 || c1 == spec)
        return HF_E_BAD_ARG;
    const char *c2 = strchr(c1 + 1, ':');
    if (!c2 && !*remove)
        return HF_E_BAD_ARG;
    const char *pe = c2 ? c2 : c1 + strlen(c1);
    char *end;
    long port = strtol(c1 + 1, &end, 10);
    if (end != pe || port < 0 || port > 65535 || c1 + 1 == pe)
        return HF_E_BAD_ARG;
    resolve_ent *r = calloc(1, sizeof *r);
    if (!r)
        return HF_E_NOMEM;
    r->host = strndup(spec, (size_t)(c1 - spec));
    r->port = (int)port;
    if (!r->host)
        goto nomem;
    for (char *p = r->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!*remove) {
        const char *p = c2 + 1;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            char tmp[80];
            if (n == 0 || n >= sizeof tmp)
                goto bad;
            memcpy(tmp, p, n);
            tmp[n] = 0;
            char *a = tmp;
            if (a[0] == '[' && n > 2 && a[n - 1] == ']') {
                a[n - 1] = 0;
                a++;
            }
            hf_addr *na = realloc(r->addrs, (r->naddrs + 1) * sizeof *na);
            if (!na)
                goto nomem;
            r->addrs = na;
            if (!numeric(a, (int)port, &r->addrs[r->naddrs]))
                goto bad;
            r->naddrs++;
            p += n;
            if (*p == ',')
                p++;
        }
        if (!r->naddrs)
            goto bad;
    }
    *out = r;
    return 0;
bad:
    names_free_resolves(r);
    return HF_E_BAD_ARG;
nomem:
    names_free_resolves(r);
    return HF_E_NOMEM;
}

void names_free_resolves(resolve_ent *r)
{
    while (r) {
        resolve_ent *n = r->next;
        free(r->host);
        free(r->addrs);
        free(r);
        r = n;
    }
}

static int push(hf_addr **v, size_t *n, const hf_addr *a)
{
    hf_addr *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return HF_E_NOMEM;
    p[*n] = *a;
    *v = p;
    (*n)++;
    return 0;
}

int names_resolve(hf_client *c, const url *u, hf_addr **out, size_t *n,
                  char *err, size_t errlen)
{
    hf_addr a;
    int rc = 0;
    *out = NULL;
    *n = 0;
    for (resolve_ent *r = c->resolves; r; r = r->next) {
        if (r->port != u->port || strcasecmp(r->host, u->host) != 0)
            continue;
        for (size_t i = 0; i < r->naddrs && !rc; i++)
            if (family_ok(c->family, r->addrs[i].sa.ss_family))
                rc = push(out, n, &r->addrs[i]);
        goto done;
    }
    if (u->host_type != URL_HOST_NAME) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%s%s%s", u->host, u->zone ? "%" : "",
                 u->zone ? u->zone : "");
        if (!numeric(tmp, u->port, &a)) {
            snprintf(err, errlen, "bad address");
            return HF_E_RESOLVE;
        }
        if (family_ok(c->family, a.sa.ss_family))
            rc = push(out, n, &a);
        goto done;
    }
    /* RFC 6761 6.3: localhost and its subdomains are loopback, always,
     * with no query sent. */
    size_t hl = strlen(u->host);
    if (strcmp(u->host, "localhost") == 0 ||
        (hl > 10 && strcmp(u->host + hl - 10, ".localhost") == 0)) {
        if (family_ok(c->family, AF_INET6) && numeric("::1", u->port, &a))
            rc = push(out, n, &a);
        if (!rc && family_ok(c->family, AF_INET) && numeric("127.0.0.1", u->port, &a))
            rc = push(out, n, &a);
        goto done;
    }
    /* RFC 6761 6.4: "invalid" names get a negative answer at once, with
     * no query sent. */
    if (strcmp(u->host, "invalid") == 0 ||
        (hl > 8 && strcmp(u->host + hl - 8, ".invalid") == 0)) {
        snprintf(err, errlen, "NXDOMAIN (the .invalid domain never resolves, "
                 "RFC 6761 6.4; no query sent)");
        return HF_E_RESOLVE;
    }
    return NAMES_ASK; /* a name for the resolver */
done:
    if (rc) {
        snprintf(err, errlen, "out of memory");
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (!*n) {
        snprintf(err, errlen, "no address of the requested family");
        return HF_E_RESOLVE;
    }
    return 0;
}
