/* test_dns_conf.c -- resolv.conf and hosts parsers (src/dns_conf.c).
 * Every input is handed over as an exact-size heap copy with no NUL at the
 * end, so ASan sees any read past the length given. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "dns_conf.h"
#include "t.h"

static dns_conf C;

static void parse_n(const char *s, size_t n)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, s, n);
    dns_conf_parse(c, n, &C);
    free(c);
}
static void parse(const char *s) { parse_n(s, strlen(s)); }

/* The dotted form of server i ("ADDR" or "ADDR%SCOPE"), port checked. */
static const char *server(int i)
{
    static char buf[INET6_ADDRSTRLEN + 16];
    const struct sockaddr_storage *ss = &C.servers[i];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const void *)ss;
        if (ntohs(v4->sin_port) != 53 || C.server_len[i] != sizeof *v4)
            return "bad port/len";
        return inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const void *)ss;
        if (ntohs(v6->sin6_port) != 53 || C.server_len[i] != sizeof *v6)
            return "bad port/len";
        inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
        if (v6->sin6_scope_id)
            snprintf(buf + strlen(buf), 16, "%%%u",
                     (unsigned)v6->sin6_scope_id);
        return buf;
    }
    return "no family";
}

static void check_defaults_but_servers(void)
{
    CHECK(C.ndots == 1 && C.timeout_s == 5 && C.attempts == 2);
    CHECK(C.rotate == 0 && C.nsearch == 0);
}

static void test_defaults(void)
{
    parse("");
    check_defaults_but_servers();
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "127.0.0.1");
    dns_conf_parse(NULL, 0, &C);
    CHECK(C.nservers == 1 && C.ndots == 1);
    parse("# only a comment\n\n   \n");
    check_defaults_but_servers();
    CHECK(C.nservers == 1);
    parse("nameserver not-an-address\nnameserver\n");
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "127.0.0.1");
}

static void test_nameservers(void)
{
    parse("nameserver 10.0.0.1\nnameserver 10.0.0.2\n"
          "nameserver 2001:db8::53\nnameserver 10.0.0.4\n");
    CHECK(C.nservers == 3);
    CHECK_STR(server(0), "10.0.0.1");
    CHECK_STR(server(1), "10.0.0.2");
    CHECK_STR(server(2), "2001:db8::53");
    check_defaults_but_servers();

    /* Bad addresses are skipped and do not use a slot. */
    parse("nameserver 1.2.3.256\nnameserver 1.2.3\nnameserver ::g\n"
          "nameserver 1.2.3.4%eth0\nnameserver fe80::1%\n"
          "nameserver 9.9.9.9 extra words\n"
          "nameserver\t\t::1\r\n");
    CHECK(C.nservers == 2);
    CHECK_STR(server(0), "9.9.9.9");
    CHECK_STR(server(1), "::1");

    /* Zones: numeric, an interface name, an unknown one, a huge one. */
    parse("nameserver fe80::1%2\nnameserver fe80::2%no-such-if0\n"
          "nameserver fe80::3%99999999999\nnameserver fe80::4%lo\n");
    unsigned lo = if_nametoindex("lo");
    CHECK(C.nservers == (lo ? 2 : 1));
    CHECK_STR(server(0), "fe80::1%2");
    if (lo) {
        char want[64];
        snprintf(want, sizeof want, "fe80::4%%%u", lo);
        CHECK_STR(server(1), want);
    }

    /* A keyword must be a whole word, and is case-sensitive. */
    parse("nameserver1.1.1.1\nNAMESERVER 2.2.2.2\nnameservers 3.3.3.3\n"
          "  nameserver 4.4.4.4\n");
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "4.4.4.4");

    /* An address longer than any real one. */
    char big[400];
    memset(big, '1', sizeof big);
    memcpy(big, "nameserver ", 11);
    big[sizeof big - 1] = '\n';
    parse_n(big, sizeof big);
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "127.0.0.1");
}

static void test_options(void)
{
    parse("options ndots:3 timeout:7 attempts:4 rotate\n");
    CHECK(C.ndots == 3 && C.timeout_s == 7 && C.attempts == 4);
    CHECK(C.rotate == 1);

    /* Out of range: capped; 0 timeout/attempts raised to 1. */
    parse("options ndots:99 timeout:100 attempts:9\n");
    CHECK(C.ndots == 15 && C.timeout_s == 30 && C.attempts == 5);
    parse("options ndots:0 timeout:0 attempts:0\n");
    CHECK(C.ndots == 0 && C.timeout_s == 1 && C.attempts == 1);
    parse("options ndots:99999999999999999999999 "
          "timeout:4294967301 attempts:18446744073709551617\n");
    CHECK(C.ndots == 15 && C.timeout_s == 30 && C.attempts == 5);

    /* Malformed values and unknown options are ignored. */
    parse("options ndots:-1 ndots: ndots:2x ndots timeout:+3 attempts:0x3\n"
          "options edns0 inet6 use-vc no-aaaa trust-ad foo:3 ndots:=4\n");
    CHECK(C.ndots == 1 && C.timeout_s == 5 && C.attempts == 2);
    CHECK(C.rotate == 0);

    /* Several lines add up; the last value wins. */
    parse("options ndots:2\noptions timeout:3\noptions ndots:4 rotate\n");
    CHECK(C.ndots == 4 && C.timeout_s == 3 && C.rotate == 1);
}

static void test_search(void)
{
    parse("search Example.COM. corp.example.com\n");
    CHECK(C.nsearch == 2);
    CHECK_STR(C.search[0], "example.com");
    CHECK_STR(C.search[1], "corp.example.com");

    /* search then domain: domain wins; domain then search: search wins. */
    parse("search a.example b.example\ndomain Home.Arpa\n");
    CHECK(C.nsearch == 1);
    CHECK_STR(C.search[0], "home.arpa");
    parse("domain home.arpa\nsearch a.example b.example\n");
    CHECK(C.nsearch == 2);
    CHECK_STR(C.search[0], "a.example");
    CHECK_STR(C.search[1], "b.example");
    /* domain keeps its first argument. */
    parse("domain one.example two.example\n");
    CHECK(C.nsearch == 1);
    CHECK_STR(C.search[0], "one.example");

    /* At most 6. */
    parse("search a b c d e f g h\n");
    CHECK(C.nsearch == DNS_MAX_SEARCH);
    CHECK_STR(C.search[5], "f");

    /* Not host names: skipped. */
    char line[600];
    char l64[65];
    memset(l64, 'x', 64); l64[64] = '\0';
    snprintf(line, sizeof line,
             "search . a..b .lead bad/dom sp\\ ace caf\xc3\xa9 %s.ok ok.\n",
             l64);
    parse(line);
    CHECK(C.nsearch == 2);
    CHECK_STR(C.search[0], "ace");          /* "sp\\" is not */
    CHECK_STR(C.search[1], "ok");

    /* 253 bytes fits, 254 does not. */
    char dom[260];
    memset(dom, 'a', sizeof dom);
    dom[63] = dom[127] = dom[191] = '.';
    dom[253] = '\0';
    snprintf(line, sizeof line, "search %s x\n", dom);
    parse(line);
    CHECK(C.nsearch == 2 && strlen(C.search[0]) == 253);
    dom[253] = 'a'; dom[254] = '\0';
    snprintf(line, sizeof line, "search %s x\n", dom);
    parse(line);
    CHECK(C.nsearch == 1);
    CHECK_STR(C.search[0], "x");

    /* An empty search line empties the list (the last one wins). */
    parse("search a.example\nsearch\n");
    CHECK(C.nsearch == 0);
}

static void test_text_shape(void)
{
    /* Comments: whole lines and ends of lines, '#' and ';'. */
    parse("# nameserver 1.1.1.1\n; nameserver 2.2.2.2\n"
          "nameserver 3.3.3.3 # a note\nnameserver 4.4.4.4;x\n"
          "search a.example # b.example\n"
          "options ndots:3 ; ndots:9\n");
    CHECK(C.nservers == 2);
    CHECK_STR(server(0), "3.3.3.3");
    CHECK_STR(server(1), "4.4.4.4");
    CHECK(C.nsearch == 1 && C.ndots == 3);

    /* CRLF. */
    parse("nameserver 5.5.5.5\r\nsearch x.example\r\noptions ndots:2\r\n");
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "5.5.5.5");
    CHECK(C.nsearch == 1);
    CHECK_STR(C.search[0], "x.example");
    CHECK(C.ndots == 2);

    /* No trailing newline: the last line still counts. */
    parse("nameserver 6.6.6.6\noptions ndots:7");
    CHECK(C.nservers == 1 && C.ndots == 7);
    parse("nameserver 6.6.6.7");
    CHECK_STR(server(0), "6.6.6.7");

    /* NUL bytes: they end a line's content (CVE-2024-25629). */
    static const char nul[] = "nameserver 7.7.7.7\0nameserver 8.8.8.8\n"
                              "\0nameserver 1.0.0.1\n"
                              "nameserver 9.9.9.9\n"
                              "name\0server 2.0.0.2\n"
                              "search a.example\0b.example\n"
                              "options ndots:4\0\n"
                              "\0\0\0";
    parse_n(nul, sizeof nul - 1);
    CHECK(C.nservers == 2);
    CHECK_STR(server(0), "7.7.7.7");
    CHECK_STR(server(1), "9.9.9.9");
    CHECK(C.nsearch == 1);
    CHECK_STR(C.search[0], "a.example");
    CHECK(C.ndots == 4);
    /* Only NULs, only newlines, one byte. */
    parse_n("\0\0\0\0", 4);
    CHECK(C.nservers == 1);
    parse_n("\n\n\n", 3);
    CHECK(C.nservers == 1);
    parse_n("n", 1);
    CHECK(C.nservers == 1);

    /* A length shorter than the text: nothing past it is read. */
    parse_n("nameserver 1.2.3.4\nnameserver 5.6.7.8\n", 19);
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "1.2.3.4");
    parse_n("nameserver 1.2.3.45", 18);
    CHECK_STR(server(0), "1.2.3.4");

    /* A very long line, then a good one. */
    size_t n = 200000;
    char *big = malloc(n + 32);
    memset(big, 'x', n);
    memcpy(big, "search ", 7);
    memcpy(big + n, "\nnameserver 1.1.1.1\n", 20);
    parse_n(big, n + 20);
    CHECK(C.nservers == 1 && C.nsearch == 0);
    CHECK_STR(server(0), "1.1.1.1");
    free(big);

    /* Tabs and odd spacing. */
    parse("\tnameserver\t10.1.1.1  \t\nsearch\ta\t\tb\n");
    CHECK(C.nservers == 1 && C.nsearch == 2);
    CHECK_STR(server(0), "10.1.1.1");
    CHECK_STR(C.search[1], "b");

    /* Unknown keywords ignored. */
    parse("sortlist 130.155.160.0/255.255.240.0\nlookup file bind\n"
          "nameserver 3.3.3.3\n");
    CHECK(C.nservers == 1);
    CHECK_STR(server(0), "3.3.3.3");
}

/* ---- hosts ---- */

static struct sockaddr_storage H[8];

static int look_n(const char *s, size_t n, const char *name, int fam, int max)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, s, n);
    memset(H, 0xee, sizeof H);
    int r = dns_hosts_lookup(c, n, name, fam, H, max);
    free(c);
    return r;
}
static int look(const char *s, const char *name, int fam)
{
    return look_n(s, strlen(s), name, fam, 8);
}

static const char *haddr(int i)
{
    static char buf[INET6_ADDRSTRLEN + 16];
    if (H[i].ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const void *)&H[i];
        if (v4->sin_port != 0) return "port";
        return inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    }
    if (H[i].ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const void *)&H[i];
        if (v6->sin6_port != 0) return "port";
        inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
        if (v6->sin6_scope_id)
            snprintf(buf + strlen(buf), 16, "%%%u",
                     (unsigned)v6->sin6_scope_id);
        return buf;
    }
    return "no family";
}

static const char HOSTS[] =
    "# /etc/hosts\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "# 10.9.9.9 commented\n"
    "10.0.0.1\tweb web.local\t# the web server, not: other\n"
    "10.0.0.2 Web\r\n"
    "   \t\n"
    "192.168.1.1  other  alias1\tALIAS2 host.example.\n"
    "2001:db8::10 web\n"
    "fe80::1%2 linklocal\n"
    "10.0.0.3 a#b\n"
    "not-an-address web\n"
    "10.0.0.4\n"
    "10.0.0.5 webx xweb we\n"
    "10.0.0.6 last";

static void test_hosts(void)
{
    /* Several addresses for one name, in file order, both families. */
    CHECK(look(HOSTS, "web", AF_UNSPEC) == 3);
    CHECK_STR(haddr(0), "10.0.0.1");
    CHECK_STR(haddr(1), "10.0.0.2");
    CHECK_STR(haddr(2), "2001:db8::10");
    /* Family filter. */
    CHECK(look(HOSTS, "web", AF_INET) == 2);
    CHECK_STR(haddr(1), "10.0.0.2");
    CHECK(look(HOSTS, "web", AF_INET6) == 1);
    CHECK_STR(haddr(0), "2001:db8::10");
    CHECK(look(HOSTS, "localhost", AF_INET) == 1);
    CHECK_STR(haddr(0), "127.0.0.1");
    CHECK(look(HOSTS, "localhost", AF_INET6) == 1);
    CHECK_STR(haddr(0), "::1");
    CHECK(look(HOSTS, "localhost", AF_UNSPEC) == 2);
    CHECK(look(HOSTS, "localhost", AF_UNIX) == 0);
    /* Aliases, case, trailing dots on either side. */
    CHECK(look(HOSTS, "alias1", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "192.168.1.1");
    CHECK(look(HOSTS, "alias2", AF_INET) == 1);
    CHECK(look(HOSTS, "ALIAS1", AF_INET) == 1);
    CHECK(look(HOSTS, "WEB.Local.", AF_INET) == 1);
    CHECK_STR(haddr(0), "10.0.0.1");
    CHECK(look(HOSTS, "host.example", AF_INET) == 1);
    CHECK(look(HOSTS, "host.example.", AF_INET) == 1);
    CHECK(look(HOSTS, "ip6-loopback", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "::1");
    /* The address is not a name. */
    CHECK(look(HOSTS, "10.0.0.1", AF_UNSPEC) == 0);
    /* Zone. */
    CHECK(look(HOSTS, "linklocal", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "fe80::1%2");
    /* Comments: whole lines and ends of lines. */
    CHECK(look(HOSTS, "commented", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "other", AF_UNSPEC) == 1);
    CHECK(look(HOSTS, "a", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "10.0.0.3");
    CHECK(look(HOSTS, "b", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "the", AF_UNSPEC) == 0);
    /* No match: prefixes, suffixes, empty names. */
    CHECK(look(HOSTS, "nomatch", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "w", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "webx", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "10.0.0.5");
    CHECK(look(HOSTS, "eb", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, ".", AF_UNSPEC) == 0);
    CHECK(look(HOSTS, "web..", AF_UNSPEC) == 0);
    /* The last line, without a newline. */
    CHECK(look(HOSTS, "last", AF_UNSPEC) == 1);
    CHECK_STR(haddr(0), "10.0.0.6");
    CHECK(look_n(HOSTS, sizeof HOSTS - 2, "last", AF_UNSPEC, 8) == 0);
    CHECK(look_n(HOSTS, sizeof HOSTS - 2, "las", AF_UNSPEC, 8) == 1);

    /* max: no more than asked; max 0 writes nothing. */
    CHECK(look_n(HOSTS, sizeof HOSTS - 1, "web", AF_UNSPEC, 1) == 1);
    CHECK_STR(haddr(0), "10.0.0.1");
    CHECK(H[1].ss_family != AF_INET);
    CHECK(look_n(HOSTS, sizeof HOSTS - 1, "web", AF_UNSPEC, 0) == 0);
    CHECK(dns_hosts_lookup(HOSTS, sizeof HOSTS - 1, "web", AF_UNSPEC, H,
                           -1) == 0);
    CHECK(dns_hosts_lookup(HOSTS, sizeof HOSTS - 1, NULL, AF_UNSPEC, H,
                           4) == 0);
    CHECK(dns_hosts_lookup(NULL, 0, "web", AF_UNSPEC, H, 4) == 0);
}

static void test_hosts_shape(void)
{
    /* NUL in a line: the rest of the line is ignored. */
    static const char nul[] = "10.0.0.1 a\0b\n10.0.0.2 c\n\0" "10.0.0.3 d\n";
    CHECK(look_n(nul, sizeof nul - 1, "a", AF_UNSPEC, 8) == 1);
    CHECK(look_n(nul, sizeof nul - 1, "b", AF_UNSPEC, 8) == 0);
    CHECK(look_n(nul, sizeof nul - 1, "c", AF_UNSPEC, 8) == 1);
    CHECK(look_n(nul, sizeof nul - 1, "d", AF_UNSPEC, 8) == 0);
    static const char nul2[] = "10.0.0.9\0 z\n";
    CHECK(look_n(nul2, sizeof nul2 - 1, "z", AF_UNSPEC, 8) == 0);

    /* CRLF and tabs. */
    CHECK(look("1.1.1.1\tx\r\n2.2.2.2\t\ty\t\r\n", "y", AF_INET) == 1);
    CHECK_STR(haddr(0), "2.2.2.2");
    CHECK(look("1.1.1.1\tx\r\n", "x", AF_INET) == 1);

    /* A very long line (many aliases), the name at its end; then a very
     * long address token. */
    size_t n = 300000;
    char *big = malloc(n + 64);
    memcpy(big, "10.2.2.2", 8);
    for (size_t i = 8; i < n; i++) big[i] = (i % 8 == 0) ? ' ' : 'q';
    memcpy(big + n, " target\n", 8);
    CHECK(look_n(big, n + 8, "target", AF_UNSPEC, 8) == 1);
    CHECK_STR(haddr(0), "10.2.2.2");
    memset(big, '1', n);
    memcpy(big + n, " target\n", 8);
    CHECK(look_n(big, n + 8, "target", AF_UNSPEC, 8) == 0);
    free(big);

    /* Bad addresses: the line is skipped. */
    CHECK(look("300.1.1.1 h\n1.1.1 h\nfe80::1%no-such-if0 h\n"
               "1.1.1.1%1 h\n::1% h\n", "h", AF_UNSPEC) == 0);
    /* A name that is not a host name still matches byte for byte. */
    CHECK(look("1.1.1.1 under_score\n", "UNDER_SCORE", AF_INET) == 1);

    /* Repeats: one entry per line, even if the name is given twice. */
    CHECK(look("1.1.1.1 r r R r.\n1.1.1.1 r\n", "r", AF_INET) == 2);
}

int main(void)
{
    test_defaults();
    test_nameservers();
    test_options();
    test_search();
    test_text_shape();
    test_hosts();
    test_hosts_shape();
    return T_END();
}
