/* FUZZ_SRC: src/dns_conf.c */
/* fuzz_dns_conf.c -- libFuzzer target for src/dns_conf.c.
 * The whole input is parsed as resolv.conf; the result must stay within
 * its bounds.  Then the first line (up to 255 bytes, cut at a NUL) is a
 * name to look up in the rest, taken as a hosts file, for every family.
 * libFuzzer's buffer has exactly `size` bytes, so any read past the
 * length given is caught by ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_conf.h"

static void check_conf(const dns_conf *c)
{
    if (c->nservers < 1 || c->nservers > DNS_MAX_SERVERS) abort();
    for (int i = 0; i < c->nservers; i++) {
        const struct sockaddr_storage *s = &c->servers[i];
        if (s->ss_family == AF_INET) {
            if (c->server_len[i] != sizeof(struct sockaddr_in)) abort();
            if (((const struct sockaddr_in *)s)->sin_port != htons(53))
                abort();
        } else if (s->ss_family == AF_INET6) {
            if (c->server_len[i] != sizeof(struct sockaddr_in6)) abort();
            if (((const struct sockaddr_in6 *)s)->sin6_port != htons(53))
                abort();
        } else {
            abort();
        }
    }
    if (c->nsearch < 0 || c->nsearch > DNS_MAX_SEARCH) abort();
    for (int i = 0; i < c->nsearch; i++) {
        size_t n = strnlen(c->search[i], sizeof c->search[i]);
        if (n == 0 || n > 253) abort();
        if (c->search[i][n - 1] == '.') abort();
        for (size_t k = 0; k < n; k++)
            if (c->search[i][k] >= 'A' && c->search[i][k] <= 'Z') abort();
    }
    if (c->ndots < 0 || c->ndots > 15) abort();
    if (c->timeout_s < 1 || c->timeout_s > 30) abort();
    if (c->attempts < 1 || c->attempts > 5) abort();
    if (c->rotate != 0 && c->rotate != 1) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    dns_conf c;
    dns_conf_parse(text, size, &c);
    check_conf(&c);

    char name[256];
    size_t n = 0;
    while (n < size && n < sizeof name - 1 && text[n] != '\n' &&
           text[n] != '\0')
        n++;
    memcpy(name, text, n);
    name[n] = '\0';
    size_t skip = n < size ? n + 1 : n;

    static const int fams[] = { AF_UNSPEC, AF_INET, AF_INET6 };
    struct sockaddr_storage out[5];
    for (int f = 0; f < 3; f++) {
        memset(out, 0, sizeof out);
        int k = dns_hosts_lookup(text + skip, size - skip, name, fams[f],
                                 out, 4);
        if (k < 0 || k > 4) abort();
        for (int i = 0; i < k; i++) {
            int fam = out[i].ss_family;
            if (fam != AF_INET && fam != AF_INET6) abort();
            if (fams[f] != AF_UNSPEC && fam != fams[f]) abort();
        }
        if (out[4].ss_family != 0) abort();
    }
    return 0;
}
