/* dns_conf.c -- resolv.conf(5) and hosts(5) parsers over a byte range.
 *
 * The text is never assumed to be NUL-terminated: every scan is bounded by
 * the length given, and the only copies made (an address, for inet_pton)
 * go to fixed local buffers after a length check.  A line ends at '\n';
 * '#', ';' (resolv.conf only) and a NUL byte end a line's content, the
 * rest of that line being ignored, as string-based parsers would. */
#include "dns_conf.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

#define ADDR_MAX 64     /* longest address token accepted, with its zone */

/* A line's content: [p, end). */
typedef struct span {
    const char *p, *end;
} span;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* Cut the next line out of [*pos, end): its content stops at the first
 * comment byte.  Returns 0 when there are no more lines. */
static int next_line(const char **pos, const char *end, const char *cmt,
                     span *line)
{
    const char *p = *pos;
    if (p >= end)
        return 0;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    line->p = p;
    line->end = p;
    while (line->end < stop && *line->end != '\0' &&
           !strchr(cmt, *line->end))
        line->end++;
    *pos = nl ? nl + 1 : end;
    return 1;
}

/* The next whitespace-separated token of *l, or 0 when there is none. */
static int next_token(span *l, span *tok)
{
    const char *p = l->p;
    while (p < l->end && is_space(*p))
        p++;
    if (p == l->end) {
        l->p = p;
        return 0;
    }
    tok->p = p;
    while (p < l->end && !is_space(*p))
        p++;
    tok->end = p;
    l->p = p;
    return 1;
}

static int tok_is(const span *t, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(t->end - t->p) == n && memcmp(t->p, word, n) == 0;
}

/* Parse an IPv4 or IPv6 address, the latter with an optional %zone (an
 * interface name or number), into sa with the given port.  Returns the
 * address length, or 0 if the token is not an address. */
static socklen_t parse_addr(const span *t, uint16_t port,
                            struct sockaddr_storage *sa)
{
    char buf[ADDR_MAX + 1];
    size_t n = (size_t)(t->end - t->p);
    if (n == 0 || n > ADDR_MAX || memchr(t->p, '\0', n))
        return 0;
    memcpy(buf, t->p, n);
    buf[n] = '\0';

    memset(sa, 0, sizeof *sa);
    char *zone = strchr(buf, '%');
    if (!zone) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
        if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(port);
            return sizeof *v4;
        }
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    uint32_t scope = 0;
    if (zone) {
        *zone++ = '\0';
        if (*zone == '\0')
            return 0;
        if (*zone >= '0' && *zone <= '9') {
            uint64_t v = 0;
            for (const char *z = zone; *z; z++) {
                if (*z < '0' || *z > '9')
                    return 0;
                v = v * 10 + (uint64_t)(*z - '0');
                if (v > UINT32_MAX)
                    return 0;
            }
            scope = (uint32_t)v;
        } else {
            if (strlen(zone) >= IF_NAMESIZE)
                return 0;
            scope = if_nametoindex(zone);
            if (scope == 0)
                return 0;
        }
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) != 1) {
        memset(sa, 0, sizeof *sa);
        return 0;
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    v6->sin6_scope_id = scope;
    return sizeof *v6;
}

static int host_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Store a search domain: labels of 1..63 host bytes, one optional final
 * dot, at most 253 bytes of text; lower-cased, without the final dot.
 * Returns 0 (and stores nothing) if the token is not such a domain. */
static int put_domain(const span *t, char dst[256])
{
    size_t n = (size_t)(t->end - t->p);
    if (n && t->p[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return 0;
    size_t lab = 0;
    for (size_t i = 0; i < n; i++) {
        char c = t->p[i];
        if (c == '.') {
            if (lab == 0)
                return 0;
            lab = 0;
        } else if (!host_byte(c) || ++lab > 63) {
            return 0;
        }
    }
    if (lab == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        dst[i] = lower(t->p[i]);
    dst[n] = '\0';
    return 1;
}

/* "NAME:N" with N decimal, saturating at cap (and at least lo).  Returns 1
 * and sets *v if t is such an option. */
static int opt_num(const span *t, const char *name, int lo, int cap, int *v)
{
    size_t n = strlen(name);
    if ((size_t)(t->end - t->p) <= n + 1 || memcmp(t->p, name, n) != 0 ||
        t->p[n] != ':')
        return 0;
    long x = 0;
    for (const char *p = t->p + n + 1; p < t->end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        if (x <= cap)
            x = x * 10 + (*p - '0');
    }
    *v = x > cap ? cap : x < lo ? lo : (int)x;
    return 1;
}

void dns_conf_parse(const char *text, size_t len, dns_conf *out)
{
    memset(out, 0, sizeof *out);
    out->ndots = 1;
    out->timeout_s = 5;
    out->attempts = 2;

    const char *pos = text, *end = text ? text + len : text;
    span line, tok;
    while (text && next_line(&pos, end, "#;", &line)) {
        if (!next_token(&line, &tok))
            continue;
        if (tok_is(&tok, "nameserver")) {
            if (out->nservers >= DNS_MAX_SERVERS || !next_token(&line, &tok))
                continue;
            socklen_t sl = parse_addr(&tok, 53, &out->servers[out->nservers]);
            if (sl)
                out->server_len[out->nservers++] = sl;
        } else if (tok_is(&tok, "search") || tok_is(&tok, "domain")) {
            /* The last search or domain line wins, so each one starts the
             * list again; "domain" keeps its first argument only. */
            int domain = tok_is(&tok, "domain");
            out->nsearch = 0;
            while (out->nsearch < DNS_MAX_SEARCH && next_token(&line, &tok)) {
                if (put_domain(&tok, out->search[out->nsearch]))
                    out->nsearch++;
                if (domain)
                    break;
            }
        } else if (tok_is(&tok, "options")) {
            while (next_token(&line, &tok)) {
                if (tok_is(&tok, "rotate"))
                    out->rotate = 1;
                else if (!opt_num(&tok, "ndots", 0, 15, &out->ndots) &&
                         !opt_num(&tok, "timeout", 1, 30, &out->timeout_s))
                    opt_num(&tok, "attempts", 1, 5, &out->attempts);
            }
        }
    }

    if (out->nservers == 0) {
        /* No usable nameserver line: the local one, as glibc and c-ares. */
        struct sockaddr_in *v4 = (struct sockaddr_in *)&out->servers[0];
        v4->sin_family = AF_INET;
        v4->sin_port = htons(53);
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        out->server_len[0] = sizeof *v4;
        out->nservers = 1;
    }
}

/* Whether the hosts-file token t names the n-byte name (already without
 * its final dot): ASCII case-insensitive, one final dot on t ignored. */
static int name_match(const span *t, const char *name, size_t n)
{
    size_t tn = (size_t)(t->end - t->p);
    if (tn && t->p[tn - 1] == '.')
        tn--;
    if (tn != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(t->p[i]) != lower(name[i]))
            return 0;
    return 1;
}

int dns_hosts_lookup(const char *text, size_t len, const char *name,
                     int family, struct sockaddr_storage *out, int max)
{
    if (!text || !name || !out || max <= 0)
        return 0;
    if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
        return 0;
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0)
        return 0;

    int found = 0;
    const char *pos = text, *end = text + len;
    span line, tok;
    while (found < max && next_line(&pos, end, "#", &line)) {
        span addr;
        if (!next_token(&line, &addr))
            continue;
        int hit = 0;
        while (!hit && next_token(&line, &tok))
            hit = name_match(&tok, name, n);
        if (!hit)
            continue;
        struct sockaddr_storage sa;
        if (!parse_addr(&addr, 0, &sa))
            continue;
        if (family != AF_UNSPEC && sa.ss_family != family)
            continue;
        out[found++] = sa;
    }
    return found;
}
