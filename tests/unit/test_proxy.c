/* test_proxy.c -- the proxy spec, the environment's proxy, no_proxy
 * matching and the CONNECT head (src/proxy.c). */
#include <stdlib.h>
#include <string.h>

#include "hflow.h"
#include "proxy.h"
#include "t.h"

#define S(x) ((x) ? (x) : "(null)")

static int streq_null(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- the spec ----------------------------------------------------------- */

static void test_parse_good(void)
{
    static const struct {
        const char *spec;
        proxy_scheme scheme;
        const char *host;
        int type, port, explicit_port;
        const char *user, *pass;
    } good[] = {
        {"proxy.example", PROXY_HTTP, "proxy.example", PROXY_HOST_NAME, 1080, 0, NULL, NULL},
        {"proxy.example:3128", PROXY_HTTP, "proxy.example", PROXY_HOST_NAME, 3128, 1, NULL, NULL},
        {"http://proxy.example", PROXY_HTTP, "proxy.example", PROXY_HOST_NAME, 1080, 0, NULL, NULL},
        {"HTTP://Proxy.Example:8080/", PROXY_HTTP, "proxy.example", PROXY_HOST_NAME, 8080, 1, NULL, NULL},
        {"https://p.test", PROXY_HTTPS, "p.test", PROXY_HOST_NAME, 443, 0, NULL, NULL},
        {"https://p.test:8443", PROXY_HTTPS, "p.test", PROXY_HOST_NAME, 8443, 1, NULL, NULL},
        {"socks4://10.0.0.1", PROXY_SOCKS4, "10.0.0.1", PROXY_HOST_IPV4, 1080, 0, NULL, NULL},
        {"socks4a://h:1", PROXY_SOCKS4A, "h", PROXY_HOST_NAME, 1, 1, NULL, NULL},
        {"socks5://127.0.0.1:1080", PROXY_SOCKS5, "127.0.0.1", PROXY_HOST_IPV4, 1080, 1, NULL, NULL},
        {"SOCKS5H://h", PROXY_SOCKS5H, "h", PROXY_HOST_NAME, 1080, 0, NULL, NULL},
        {"socks5h://[::1]:9050", PROXY_SOCKS5H, "::1", PROXY_HOST_IPV6, 9050, 1, NULL, NULL},
        {"[0:0::1]", PROXY_HTTP, "::1", PROXY_HOST_IPV6, 1080, 0, NULL, NULL},
        {"http://[2001:DB8::A]:80/", PROXY_HTTP, "2001:db8::a", PROXY_HOST_IPV6, 80, 1, NULL, NULL},
        {"http://user:pass@p:1", PROXY_HTTP, "p", PROXY_HOST_NAME, 1, 1, "user", "pass"},
        {"user@p", PROXY_HTTP, "p", PROXY_HOST_NAME, 1080, 0, "user", NULL},
        {"user:@p", PROXY_HTTP, "p", PROXY_HOST_NAME, 1080, 0, "user", ""},
        {":pw@p", PROXY_HTTP, "p", PROXY_HOST_NAME, 1080, 0, "", "pw"},
        {"socks5://us%40er:p%3Aa%25ss@h", PROXY_SOCKS5, "h", PROXY_HOST_NAME, 1080, 0, "us@er", "p:a%ss"},
        {"u:a:b@h", PROXY_HTTP, "h", PROXY_HOST_NAME, 1080, 0, "u", "a:b"},
        {"u:p!$&'()*+,;=~@h", PROXY_HTTP, "h", PROXY_HOST_NAME, 1080, 0, "u", "p!$&'()*+,;=~"},
        {"h:", PROXY_HTTP, "h", PROXY_HOST_NAME, 1080, 0, NULL, NULL},
        {"h:65535", PROXY_HTTP, "h", PROXY_HOST_NAME, 65535, 1, NULL, NULL},
        {"h:00080", PROXY_HTTP, "h", PROXY_HOST_NAME, 80, 1, NULL, NULL},
        {"a-b_c~d.e", PROXY_HTTP, "a-b_c~d.e", PROXY_HOST_NAME, 1080, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        proxy_spec p;
        char err[128];
        int rc = proxy_parse(&p, good[i].spec, err, sizeof err);
        CHECK_MSG(rc == 0, "%s: %d %s", good[i].spec, rc, err);
        if (rc) continue;
        CHECK_MSG(p.scheme == good[i].scheme, "%s: scheme %d", good[i].spec, p.scheme);
        CHECK_STR(p.host, good[i].host);
        CHECK_MSG(p.host_type == good[i].type, "%s: type %d", good[i].spec, p.host_type);
        CHECK_MSG(p.port == good[i].port && p.port_explicit == good[i].explicit_port,
                  "%s: port %d/%d", good[i].spec, p.port, p.port_explicit);
        CHECK_MSG(streq_null(p.user, good[i].user) && streq_null(p.password, good[i].pass),
                  "%s: user %s pass %s", good[i].spec, S(p.user), S(p.password));
        proxy_spec_free(&p);
        CHECK(p.host == NULL && p.user == NULL);
    }
}

static void test_parse_bad(void)
{
    static const struct { const char *spec; int rc; const char *why; } bad[] = {
        {"", HF_E_BAD_ARG, "empty"},
        {"ftp://p", HF_E_UNSUPPORTED_PROTOCOL, "unsupported proxy scheme \"ftp\""},
        {"socks://p", HF_E_UNSUPPORTED_PROTOCOL, "unsupported"},
        {"socks6://p", HF_E_UNSUPPORTED_PROTOCOL, "unsupported"},
        {"http://", HF_E_BAD_ARG, "empty proxy host"},
        {"http://:80", HF_E_BAD_ARG, "empty proxy host"},
        {"http://u:p@", HF_E_BAD_ARG, "empty proxy host"},
        {"http://p/path", HF_E_BAD_ARG, "path"},
        {"http://p//", HF_E_BAD_ARG, "path"},
        {"http://p?x", HF_E_BAD_ARG, "query"},
        {"http://p/?x", HF_E_BAD_ARG, "query"},
        {"http://p#f", HF_E_BAD_ARG, "fragment"},
        {"http://p:0", HF_E_BAD_ARG, "port"},
        {"http://p:65536", HF_E_BAD_ARG, "port"},
        {"http://p:123456", HF_E_BAD_ARG, "port"},
        {"http://p:8o", HF_E_BAD_ARG, "port"},
        {"http://p:-1", HF_E_BAD_ARG, "port"},
        {"http://p: 80", HF_E_BAD_ARG, "space"},
        {"http://p\r\nX: y", HF_E_BAD_ARG, "control"},
        {"http://p\n", HF_E_BAD_ARG, "control"},
        {"http://p\t", HF_E_BAD_ARG, "control"},
        {"http://p\x7f", HF_E_BAD_ARG, "control"},
        {"http://p\\q", HF_E_BAD_ARG, "backslash"},
        {"http://p\xc3\xa9", HF_E_BAD_ARG, "non-ASCII"},
        {"http://a@b@c", HF_E_BAD_ARG, "bad character '@'"},
        {"http://u%00:p@h", HF_E_BAD_ARG, "%00"},
        {"http://u:p%0@h", HF_E_BAD_ARG, "bad proxy user"},
        {"http://u:p%zz@h", HF_E_BAD_ARG, "bad proxy user"},
        {"http://u\"@h", HF_E_BAD_ARG, "bad proxy user"},
        {"http://p%2Fq", HF_E_BAD_ARG, "'%' in proxy host"},
        {"http://[::1", HF_E_BAD_ARG, "unmatched bracket"},
        {"http://[::1]x", HF_E_BAD_ARG, "junk after"},
        {"http://[::g]", HF_E_BAD_ARG, "bad IPv6"},
        {"http://[]", HF_E_BAD_ARG, "bad IPv6"},
        {"http://[fe80::1%25eth0]", HF_E_BAD_ARG, "zone"},
        {"http://::1", HF_E_BAD_ARG, "empty proxy host"},
        {"http://a]b", HF_E_BAD_ARG, "bracket"},
        {"http://1.2.3.256", HF_E_BAD_ARG, "IPv4"},
        {"http://01.2.3.4", HF_E_BAD_ARG, "IPv4"},
        {"http://1.2.3", HF_E_BAD_ARG, "IPv4"},
        {"http://0x7f.1", HF_E_BAD_ARG, "ambiguous"},
        {"http://a,b", HF_E_BAD_ARG, "bad character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proxy_spec p;
        char err[128] = "x";
        int rc = proxy_parse(&p, bad[i].spec, err, sizeof err);
        CHECK_MSG(rc == bad[i].rc, "%s: rc %d (%s)", bad[i].spec, rc, err);
        CHECK_MSG(strstr(err, bad[i].why) != NULL, "%s: err \"%s\", want \"%s\"",
                  bad[i].spec, err, bad[i].why);
        CHECK(p.host == NULL && p.user == NULL && p.password == NULL);
        proxy_spec_free(&p);
    }
    proxy_spec p;
    CHECK(proxy_parse(&p, NULL, NULL, 0) == HF_E_BAD_ARG);

    /* lengths: host 255 ok, 256 refused; user/password 255 decoded ok, 256
     * refused (even when 256 is reached only through %XX) */
    char spec[1200];
    memset(spec, 0, sizeof spec);
    memset(spec, 'a', 255);
    CHECK(proxy_parse(&p, spec, NULL, 0) == 0);
    proxy_spec_free(&p);
    spec[255] = 'a';
    CHECK(proxy_parse(&p, spec, NULL, 0) == HF_E_BAD_ARG);
    memset(spec, 0, sizeof spec);
    memset(spec, 'u', 255);
    strcat(spec, "@h");
    CHECK(proxy_parse(&p, spec, NULL, 0) == 0);
    CHECK(p.user && strlen(p.user) == 255);
    proxy_spec_free(&p);
    memset(spec, 0, sizeof spec);
    strcpy(spec, "u:");
    for (int i = 0; i < 256; i++) strcat(spec, "%41");
    strcat(spec, "@h");
    CHECK(proxy_parse(&p, spec, NULL, 0) == HF_E_BAD_ARG);
    /* too long altogether */
    char *huge = malloc(PROXY_MAX_SPEC + 2);
    memset(huge, 'a', PROXY_MAX_SPEC + 1);
    huge[PROXY_MAX_SPEC + 1] = 0;
    char err[64];
    CHECK(proxy_parse(&p, huge, err, sizeof err) == HF_E_BAD_ARG);
    CHECK(strstr(err, "too long") != NULL);
    free(huge);
}

static void test_spec_string(void)
{
    static const struct { const char *spec, *with, *without; } t[] = {
        {"p", "http://p:1080", "http://p:1080"},
        {"SOCKS5H://u%3A:p%40ss@[::1]:9", "socks5h://u%3A:p%40ss@[::1]:9",
         "socks5h://[::1]:9"},
        {"https://u@h", "https://u@h:443", "https://h:443"},
        {"socks4a://u:@h:5", "socks4a://u:@h:5", "socks4a://h:5"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        proxy_spec p;
        CHECK(proxy_parse(&p, t[i].spec, NULL, 0) == 0);
        char *a = proxy_spec_string(&p, 1), *b = proxy_spec_string(&p, 0);
        CHECK_STR(a, t[i].with);
        CHECK_STR(b, t[i].without);
        /* the canonical form parses back to the same */
        proxy_spec q;
        CHECK(proxy_parse(&q, a, NULL, 0) == 0);
        char *c = proxy_spec_string(&q, 1);
        CHECK_STR(c, a);
        free(a);
        free(b);
        free(c);
        proxy_spec_free(&p);
        proxy_spec_free(&q);
    }
    CHECK_STR(proxy_scheme_name(PROXY_SOCKS4A), "socks4a");
    CHECK(proxy_spec_string(NULL, 0) == NULL);
}

/* ---- the environment ---------------------------------------------------- */

static const char *const *ENV;   /* NULL-terminated name, value pairs */
static const char *fake_getenv(const char *name, void *arg)
{
    (void)arg;
    for (size_t i = 0; ENV && ENV[i]; i += 2)
        if (strcmp(ENV[i], name) == 0) return ENV[i + 1];
    return NULL;
}

static void test_env(void)
{
    const char *var;
    /* HTTP_PROXY upper case is never read */
    static const char *const e1[] = {"HTTP_PROXY", "evil:1", NULL};
    ENV = e1;
    CHECK(proxy_env_proxy("http", fake_getenv, NULL, &var) == NULL);
    CHECK(var == NULL);
    static const char *const e2[] = {"HTTP_PROXY", "evil:1", "http_proxy",
                                      "good:2", NULL};
    ENV = e2;
    CHECK_STR(proxy_env_proxy("http", fake_getenv, NULL, &var), "good:2");
    CHECK_STR(var, "http_proxy");
    CHECK(proxy_env_proxy("https", fake_getenv, NULL, &var) == NULL);
    /* https: lower case first, then upper case */
    static const char *const e3[] = {"HTTPS_PROXY", "up:1", "https_proxy",
                                      "low:2", NULL};
    ENV = e3;
    CHECK_STR(proxy_env_proxy("https", fake_getenv, NULL, &var), "low:2");
    CHECK_STR(var, "https_proxy");
    CHECK_STR(proxy_env_proxy("HTTPS", fake_getenv, NULL, &var), "low:2");
    CHECK(proxy_env_proxy("http", fake_getenv, NULL, &var) == NULL);
    static const char *const e4[] = {"HTTPS_PROXY", "up:1", NULL};
    ENV = e4;
    CHECK_STR(proxy_env_proxy("https", fake_getenv, NULL, &var), "up:1");
    CHECK_STR(var, "HTTPS_PROXY");
    /* all_proxy after the scheme's own; lower case first; empty = unset */
    static const char *const e5[] = {"ALL_PROXY", "ALL:1", "all_proxy",
                                      "all:2", "https_proxy", "", NULL};
    ENV = e5;
    CHECK_STR(proxy_env_proxy("https", fake_getenv, NULL, &var), "all:2");
    CHECK_STR(var, "all_proxy");
    CHECK_STR(proxy_env_proxy("http", fake_getenv, NULL, &var), "all:2");
    CHECK_STR(proxy_env_proxy("ftp", fake_getenv, NULL, &var), "all:2");
    static const char *const e6[] = {"ALL_PROXY", "ALL:1", "http_proxy",
                                      "h:3", NULL};
    ENV = e6;
    CHECK_STR(proxy_env_proxy("https", fake_getenv, NULL, &var), "ALL:1");
    CHECK_STR(var, "ALL_PROXY");
    CHECK_STR(proxy_env_proxy("http", fake_getenv, NULL, &var), "h:3");
    /* no_proxy then NO_PROXY */
    static const char *const e7[] = {"NO_PROXY", "up", "no_proxy", "low", NULL};
    ENV = e7;
    CHECK_STR(proxy_env_noproxy(fake_getenv, NULL, &var), "low");
    CHECK_STR(var, "no_proxy");
    static const char *const e8[] = {"NO_PROXY", "up", "no_proxy", "", NULL};
    ENV = e8;
    CHECK_STR(proxy_env_noproxy(fake_getenv, NULL, &var), "up");
    CHECK_STR(var, "NO_PROXY");
    CHECK(proxy_env_proxy("http", NULL, NULL, &var) == NULL && var == NULL);
    ENV = NULL;
}

static void test_choose(void)
{
    const char *src;
    static const char *const e[] = {"http_proxy", "envp:1", "no_proxy",
                                     "direct.test, 10.0.0.0/8", NULL};
    ENV = e;
    /* environment proxy */
    CHECK_STR(proxy_choose("http", "www.test", NULL, NULL, fake_getenv, NULL, &src), "envp:1");
    CHECK_STR(src, "http_proxy");
    /* no_proxy matches: direct */
    CHECK(proxy_choose("http", "a.direct.test", NULL, NULL, fake_getenv, NULL, &src) == NULL);
    CHECK_STR(src, "no_proxy");
    CHECK(proxy_choose("http", "10.1.2.3", NULL, NULL, fake_getenv, NULL, &src) == NULL);
    /* --proxy wins over the environment's proxy ... */
    CHECK_STR(proxy_choose("http", "www.test", "opt:2", NULL, fake_getenv, NULL, &src), "opt:2");
    CHECK_STR(src, "--proxy");
    /* ... but no_proxy still applies to it (curl 7.53.0) */
    CHECK(proxy_choose("http", "direct.test", "opt:2", NULL, fake_getenv, NULL, &src) == NULL);
    CHECK_STR(src, "no_proxy");
    /* --noproxy replaces the environment's list; "" cancels it */
    CHECK_STR(proxy_choose("http", "direct.test", "opt:2", "", fake_getenv, NULL, &src), "opt:2");
    CHECK_STR(proxy_choose("http", "direct.test", NULL, "", fake_getenv, NULL, &src), "envp:1");
    CHECK(proxy_choose("http", "other.test", NULL, "other.test", fake_getenv, NULL, &src) == NULL);
    CHECK_STR(src, "--noproxy");
    CHECK(proxy_choose("http", "x", "opt:2", "*", fake_getenv, NULL, &src) == NULL);
    /* --proxy "" disables every proxy, the environment's too */
    CHECK(proxy_choose("http", "www.test", "", NULL, fake_getenv, NULL, &src) == NULL);
    CHECK_STR(src, "--proxy");
    /* nothing */
    CHECK(proxy_choose("https", "www.test", NULL, NULL, fake_getenv, NULL, &src) == NULL);
    CHECK(src == NULL);
    CHECK(proxy_choose("http", "www.test", NULL, NULL, NULL, NULL, &src) == NULL);
    ENV = NULL;
}

/* ---- no_proxy ----------------------------------------------------------- */

static void test_noproxy(void)
{
    static const struct { const char *list, *host; int want; } t[] = {
        /* the wildcard */
        {"*", "example.com", 1},
        {"*", "10.0.0.1", 1},
        {"*", "[::1]", 1},
        {" * ", "a", 1},
        {"a.test, *", "b.test", 0},   /* curl: "*" only as the whole list */
        {"*.example.com", "www.example.com", 0},   /* no other wildcard */
        /* names: the host itself and names under it, on a label boundary */
        {"example.com", "example.com", 1},
        {"example.com", "www.example.com", 1},
        {"example.com", "a.b.example.com", 1},
        {"example.com", "badexample.com", 0},
        {"example.com", "example.com.evil", 0},
        {"example.com", "example.co", 0},
        {"example.com", "com", 0},
        {".example.com", "www.example.com", 1},
        {".example.com", "example.com", 1},
        {".example.com", "badexample.com", 0},
        {"ample.com", "example.com", 0},
        {"EXAMPLE.com", "www.Example.COM", 1},
        {"example.com.", "www.example.com", 1},
        {"example.com", "www.example.com.", 1},
        {".example.com.", "example.com.", 1},
        {"localhost", "localhost", 1},
        {"localhost", "localhost.localdomain", 0},
        /* lists: commas, spaces, tabs, empty entries */
        {"a.test,b.test", "b.test", 1},
        {"a.test , b.test", "b.test", 1},
        {"  a.test,\tb.test\t", "a.test", 1},
        {",,a.test,,", "a.test", 1},
        {"a.test b.test", "b.test", 0},    /* a space does not separate */
        {"", "a.test", 0},
        {" , ", "a.test", 0},
        {".", "a.test", 0},
        {"a.test", "", 0},
        /* IPv4 */
        {"127.0.0.1", "127.0.0.1", 1},
        {"127.0.0.1", "127.0.0.2", 0},
        {"192.168.0.0/16", "192.168.44.5", 1},
        {"192.168.0.0/16", "192.169.0.1", 0},
        {"10.0.0.0/8", "10.255.255.255", 1},
        {"10.0.0.0/8", "11.0.0.0", 0},
        {"0.0.0.0/0", "203.0.113.9", 1},
        {"203.0.113.9/32", "203.0.113.9", 1},
        {"203.0.113.8/31", "203.0.113.9", 1},
        {"203.0.113.8/32", "203.0.113.9", 0},
        {"192.168.1.77/24", "192.168.1.1", 1},     /* host bits ignored */
        {"192.168.0.0/33", "192.168.0.1", 0},      /* bad prefix */
        {"192.168.0.0/", "192.168.0.1", 0},
        {"192.168.0.0/x", "192.168.0.1", 0},
        {"192.168.0.0/-1", "192.168.0.1", 0},
        {"168.0.1", "192.168.0.1", 0},             /* no suffix for addresses */
        {".0.1", "192.168.0.1", 0},
        {"example.com", "93.184.216.34", 0},
        {"127.0.0.1", "localhost", 0},             /* no DNS */
        {"127.0.0.0/8", "127.0.0.1.nip.test", 0},
        /* IPv6 */
        {"::1", "::1", 1},
        {"::1", "[::1]", 1},
        {"[::1]", "::1", 1},
        {"[::1]", "[::1]", 1},
        {"::1/128", "::1", 1},
        {"[::1]/128", "[::1]", 1},
        {"0:0:0:0:0:0:0:1", "::1", 1},
        {"::1", "::2", 0},
        {"2001:db8::/32", "[2001:db8:1234::5]", 1},
        {"2001:DB8::/32", "2001:db9::5", 0},
        {"fe80::/10", "febf::1", 1},
        {"fe80::/10", "fec0::1", 0},
        {"::/0", "2001:db8::1", 1},
        {"::1/129", "::1", 0},
        {"::ffff:10.0.0.1", "10.0.0.1", 0},        /* families differ */
        {"10.0.0.0/8", "::ffff:10.0.0.1", 0},
        {"example.com, ::1, localhost", "::1", 1},
        {"example.com, ::1, localhost", "localhost", 1},
        {"::1", "localhost", 0},
    };
    size_t n = sizeof t / sizeof t[0];
    CHECK(n >= 40);
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(proxy_noproxy_match(t[i].list, t[i].host) == t[i].want,
                  "list \"%s\" host \"%s\": want %d", t[i].list, t[i].host,
                  t[i].want);
    CHECK(proxy_noproxy_match(NULL, "a") == 0);
    CHECK(proxy_noproxy_match("a", NULL) == 0);
    /* a very long entry or host: no copy, no crash */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = 0;
    CHECK(proxy_noproxy_match(big, big) == 1);
    CHECK(proxy_noproxy_match(big, "a") == 0);
    CHECK(proxy_noproxy_match("a", big) == 0);
    big[3] = '.';
    CHECK(proxy_noproxy_match(big + 4, big) == 1);
    free(big);
}

/* ---- CONNECT ------------------------------------------------------------ */

static void test_basic(void)
{
    char *a = proxy_basic_auth("Aladdin", "open sesame");   /* RFC 7617 2 */
    CHECK_STR(a, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    free(a);
    a = proxy_basic_auth("u", NULL);
    CHECK_STR(a, "Basic dTo=");
    free(a);
    a = proxy_basic_auth("ab", "c");
    CHECK_STR(a, "Basic YWI6Yw==");
    free(a);
    a = proxy_basic_auth("abc", "de");
    CHECK_STR(a, "Basic YWJjOmRl");
    free(a);
    CHECK(proxy_basic_auth("a:b", "c") == NULL);
    CHECK(proxy_basic_auth(NULL, "c") == NULL);
}

static void test_connect_head(void)
{
    char *h;
    size_t n;
    char err[128];
    int rc = proxy_connect_head("example.com", 443, NULL, "hflow/0.1", NULL, 0,
                                &h, &n, err, sizeof err);
    CHECK(rc == 0);
    CHECK_STR(h, "CONNECT example.com:443 HTTP/1.1\r\n"
                 "Host: example.com:443\r\n"
                 "User-Agent: hflow/0.1\r\n\r\n");
    CHECK(h && n == strlen(h));
    free(h);

    /* IPv6, bracketed or not; credentials */
    rc = proxy_connect_head("::1", 8443, "Basic dTpw", NULL, NULL, 0, &h, &n,
                            err, sizeof err);
    CHECK_STR(h, "CONNECT [::1]:8443 HTTP/1.1\r\n"
                 "Host: [::1]:8443\r\n"
                 "Proxy-Authorization: Basic dTpw\r\n\r\n");
    free(h);
    rc = proxy_connect_head("[2001:db8::1]", 80, NULL, NULL, NULL, 0, &h, &n,
                            err, sizeof err);
    CHECK_STR(h, "CONNECT [2001:db8::1]:80 HTTP/1.1\r\n"
                 "Host: [2001:db8::1]:80\r\n\r\n");
    free(h);

    /* --proxy-header: add, replace a default, remove a default, empty */
    const char *lines[] = {"X-Trace: 1 2 ", "User-Agent: other/2",
                           "Host:", "X-Empty;", "X-Gone:", "Proxy-Authorization:  Bearer t"};
    rc = proxy_connect_head("h.test", 80, "Basic old", "hflow/0.1", lines, 6,
                            &h, &n, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_STR(h, "CONNECT h.test:80 HTTP/1.1\r\n"
                 "X-Trace: 1 2\r\n"
                 "User-Agent: other/2\r\n"
                 "X-Empty:\r\n"
                 "Proxy-Authorization: Bearer t\r\n\r\n");
    free(h);

    /* refusals: CR/LF anywhere, bad names, bad forms */
    static const char *const badl[] = {
        "X: a\r\nEvil: 1", "X: a\n", "X: a\rb", "Bad Name: v", ": v",
        "NoColon", "X;junk", "X\x01: v", "X: \x7f",
    };
    for (size_t i = 0; i < sizeof badl / sizeof badl[0]; i++) {
        h = (char *)"junk";
        rc = proxy_connect_head("h", 80, NULL, NULL, &badl[i], 1, &h, &n, err,
                                sizeof err);
        CHECK_MSG(rc == HF_E_BAD_ARG && h == NULL, "line %zu: rc %d", i, rc);
        CHECK(strchr(err, '\r') == NULL && strchr(err, '\n') == NULL);
    }
    const char *nul_line = NULL;
    CHECK(proxy_connect_head("h", 80, NULL, NULL, &nul_line, 1, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h\r\nX: y", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h h", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("a/b", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("u@h", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("[]", 80, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h", 0, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h", 65536, NULL, NULL, NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h", 80, "Basic x\r\nEvil: 1", NULL, NULL, 0, &h,
                             &n, err, sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h", 80, NULL, "ua\n", NULL, 0, &h, &n, err,
                             sizeof err) == HF_E_BAD_ARG);
    CHECK(proxy_connect_head("h", 80, NULL, NULL, NULL, 0, NULL, &n, err,
                             sizeof err) == HF_E_BAD_FUNCTION_ARG);
}

static void test_connect_status(void)
{
    char why[256];
    CHECK(proxy_connect_status(200, "Connection established", 22, "p:1",
                               "h:443", why, sizeof why) == PROXY_TUNNEL_OK);
    CHECK(why[0] == '\0');
    CHECK(proxy_connect_status(204, NULL, 0, NULL, NULL, why, sizeof why) ==
          PROXY_TUNNEL_OK);
    CHECK(proxy_connect_status(299, "", 0, "p", "h", why, sizeof why) ==
          PROXY_TUNNEL_OK);
    CHECK(proxy_connect_status(100, "Continue", 8, "p", "h", why, sizeof why) ==
          PROXY_TUNNEL_INTERIM);
    CHECK(proxy_connect_status(407, "Proxy Authentication Required", 29,
                               "127.0.0.1:3128", "example.com:443", why,
                               sizeof why) == PROXY_TUNNEL_AUTH);
    CHECK_STR(why, "CONNECT tunnel failed: proxy 127.0.0.1:3128 answered 407 "
                   "Proxy Authentication Required to CONNECT example.com:443");
    CHECK(proxy_connect_status(403, "Forbidden", 9, "[::1]:3128", "h:443", why,
                               sizeof why) == PROXY_TUNNEL_FAIL);
    CHECK_STR(why, "CONNECT tunnel failed: proxy [::1]:3128 answered 403 "
                   "Forbidden to CONNECT h:443");
    CHECK(proxy_connect_status(502, "", 0, "p:1", "h:443", why, sizeof why) ==
          PROXY_TUNNEL_FAIL);
    CHECK_STR(why, "CONNECT tunnel failed: proxy p:1 answered 502 to CONNECT h:443");
    CHECK(proxy_connect_status(300, "Multiple", 8, "p", "h", why, sizeof why) ==
          PROXY_TUNNEL_FAIL);
    CHECK(proxy_connect_status(199 + 801, "x", 1, "p", "h", why, sizeof why) ==
          PROXY_TUNNEL_FAIL);
    /* the reason is cleaned and cut */
    char reason[300];
    memset(reason, 'r', sizeof reason);
    reason[0] = '\x1b';
    reason[1] = '\n';
    CHECK(proxy_connect_status(500, reason, sizeof reason, "p", "h", why,
                               sizeof why) == PROXY_TUNNEL_FAIL);
    CHECK(strstr(why, "500 ??rrr") != NULL);
    CHECK(strchr(why, '\n') == NULL && strchr(why, '\x1b') == NULL);
    CHECK(strlen(why) < 200);
    /* a small buffer is fine */
    char tiny[8];
    CHECK(proxy_connect_status(403, "Forbidden", 9, "p", "h", tiny, sizeof tiny) ==
          PROXY_TUNNEL_FAIL);
    CHECK(strlen(tiny) == 7);
}

int main(void)
{
    test_parse_good();
    test_parse_bad();
    test_spec_string();
    test_env();
    test_choose();
    test_noproxy();
    test_basic();
    test_connect_head();
    test_connect_status();
    return T_END();
}
