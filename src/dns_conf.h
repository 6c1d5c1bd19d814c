/* dns_conf.h -- /etc/resolv.conf (resolv.conf(5)) and /etc/hosts (hosts(5))
 * parsers.  Pure: they take the file's bytes, no I/O; bounded; a NUL or
 * any other odd byte in the text never reads out of bounds. */
#ifndef HF_DNS_CONF_H
#define HF_DNS_CONF_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_MAX_SERVERS 3          /* MAXNS */
#define DNS_MAX_SEARCH 6           /* search domains kept */

typedef struct dns_conf {
    struct sockaddr_storage servers[DNS_MAX_SERVERS]; /* port 53 */
    socklen_t server_len[DNS_MAX_SERVERS];
    int nservers;
    char search[DNS_MAX_SEARCH][256];  /* lower-cased, no trailing dot */
    int nsearch;
    int ndots;         /* default 1, capped at 15 */
    int timeout_s;     /* default 5, 1..30 (values outside are clamped) */
    int attempts;      /* default 2, 1..5 (values outside are clamped) */
    int rotate;        /* default 0 */
} dns_conf;

/* Parse resolv.conf text: "nameserver ADDR" (IPv4 or IPv6, optional %zone;
 * at most 3; others ignored), "search d1 d2 ...", "domain d" (the last of
 * search/domain wins, as glibc), "options ndots:N timeout:N attempts:N
 * rotate" (unknown options ignored); '#' and ';' start comments anywhere
 * in a line, and a NUL byte ends a line's content likewise.  Search
 * domains that are not host names (labels of letters, digits, '-', '_';
 * at most 253 bytes) are skipped; at most DNS_MAX_SEARCH are kept.
 * Unknown keywords and malformed lines are ignored.  Always succeeds
 * (defaults for what is missing; with no usable nameserver line, one
 * server: 127.0.0.1 port 53, as glibc and c-ares). */
void dns_conf_parse(const char *text, size_t len, dns_conf *out);

/* Look name up in hosts-file text: lines "ADDR NAME [ALIAS...]", '#'
 * comments (anywhere in a line; a NUL byte ends a line's content too);
 * case-insensitive names (ASCII); a trailing dot on name or on a name in
 * the file is ignored.  ADDR is IPv4 or IPv6 with an optional %zone
 * (interface name or number).  family: AF_INET, AF_INET6 or AF_UNSPEC.
 * Writes up to max addresses (port 0) to out in file order and returns how
 * many it wrote (0 when none; never more than max). */
int dns_hosts_lookup(const char *text, size_t len, const char *name,
                     int family, struct sockaddr_storage *out, int max);
#endif
