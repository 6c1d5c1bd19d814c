/* test_url.c -- url_parse, url_resolve and the serialisers (src/url.c). */
#include <stdlib.h>

#include "hflow.h"
#include "t.h"
#include "url.h"

/* NULL in an optional field means "must be NULL". */
static void check_opt(const char *got, const char *want, const char *in,
                      const char *what)
{
    if (!want)
        CHECK_MSG(got == NULL, "%s: %s is \"%s\", want NULL", in, what, got);
    else
        CHECK_MSG(got && strcmp(got, want) == 0, "%s: %s is \"%s\", want "
                  "\"%s\"", in, what, got ? got : "(null)", want);
}

/* ---- accepted URLs ------------------------------------------------------ */

static const struct ok_case {
    const char *in;
    const char *str;      /* url_to_string */
    const char *target;   /* url_target */
    const char *hosthdr;  /* url_host_header */
    const char *host;
    int type, port, port_explicit;
    const char *user, *pass, *zone, *query, *frag;
} ok_cases[] = {
    { "http://example.com", "http://example.com/", "/", "example.com",
      "example.com", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    { "HTTP://Example.COM/A/b", "http://example.com/A/b", "/A/b",
      "example.com", "example.com", URL_HOST_NAME, 80, 0,
      NULL, NULL, NULL, NULL, NULL },
    { "https://example.com/", "https://example.com/", "/", "example.com",
      "example.com", URL_HOST_NAME, 443, 0, NULL, NULL, NULL, NULL, NULL },
    { "HtTpS://x.org:443/", "https://x.org/", "/", "x.org", "x.org",
      URL_HOST_NAME, 443, 1, NULL, NULL, NULL, NULL, NULL },
    /* no scheme: taken as http:// */
    { "example.com/p?q", "http://example.com/p?q", "/p?q", "example.com",
      "example.com", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, "q", NULL },
    { "localhost:8080", "http://localhost:8080/", "/", "localhost:8080",
      "localhost", URL_HOST_NAME, 8080, 1, NULL, NULL, NULL, NULL, NULL },
    { "a.com/x://y", "http://a.com/x://y", "/x://y", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    /* ports */
    { "http://a.com:80/", "http://a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 1, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com:443/", "http://a.com:443/", "/", "a.com:443", "a.com",
      URL_HOST_NAME, 443, 1, NULL, NULL, NULL, NULL, NULL },
    { "https://a.com:80/", "https://a.com:80/", "/", "a.com:80", "a.com",
      URL_HOST_NAME, 80, 1, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com:65535/", "http://a.com:65535/", "/", "a.com:65535",
      "a.com", URL_HOST_NAME, 65535, 1, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com:1", "http://a.com:1/", "/", "a.com:1", "a.com",
      URL_HOST_NAME, 1, 1, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com:00080/", "http://a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 1, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com:/x", "http://a.com/x", "/x", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    /* IPv4 */
    { "http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x", "/x",
      "127.0.0.1:8080", "127.0.0.1", URL_HOST_IPV4, 8080, 1,
      NULL, NULL, NULL, NULL, NULL },
    { "http://255.255.255.255/", "http://255.255.255.255/", "/",
      "255.255.255.255", "255.255.255.255", URL_HOST_IPV4, 80, 0,
      NULL, NULL, NULL, NULL, NULL },
    { "http://0.0.0.0/", "http://0.0.0.0/", "/", "0.0.0.0", "0.0.0.0",
      URL_HOST_IPV4, 80, 0, NULL, NULL, NULL, NULL, NULL },
    /* IPv6 */
    { "http://[::1]/", "http://[::1]/", "/", "[::1]", "::1", URL_HOST_IPV6,
      80, 0, NULL, NULL, NULL, NULL, NULL },
    { "http://[2001:DB8::A]:8080/p", "http://[2001:db8::a]:8080/p", "/p",
      "[2001:db8::a]:8080", "2001:db8::a", URL_HOST_IPV6, 8080, 1,
      NULL, NULL, NULL, NULL, NULL },
    { "http://[::ffff:192.0.2.1]/", "http://[::ffff:192.0.2.1]/", "/",
      "[::ffff:192.0.2.1]", "::ffff:192.0.2.1", URL_HOST_IPV6, 80, 0,
      NULL, NULL, NULL, NULL, NULL },
    { "http://[fe80::1%25eth0]:8080/", "http://[fe80::1%25eth0]:8080/", "/",
      "[fe80::1]:8080", "fe80::1", URL_HOST_IPV6, 8080, 1,
      NULL, NULL, "eth0", NULL, NULL },
    { "http://[fe80::1%25en%2D1]/", "http://[fe80::1%25en-1]/", "/",
      "[fe80::1]", "fe80::1", URL_HOST_IPV6, 80, 0,
      NULL, NULL, "en-1", NULL, NULL },
    /* empty port is the default (3.2.3); ':' in a path is fine */
    { "http://[::1]:/x:", "http://[::1]/x:", "/x:", "[::1]", "::1",
      URL_HOST_IPV6, 80, 0, NULL, NULL, NULL, NULL, NULL },
    /* userinfo, kept as written */
    { "http://user:pass@a.com/", "http://user:pass@a.com/", "/", "a.com",
      "a.com", URL_HOST_NAME, 80, 0, "user", "pass", NULL, NULL, NULL },
    { "http://us%40er:p%40ss:w@a.com/", "http://us%40er:p%40ss:w@a.com/", "/",
      "a.com", "a.com", URL_HOST_NAME, 80, 0, "us%40er", "p%40ss:w", NULL,
      NULL, NULL },
    { "http://user@a.com", "http://user@a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, "user", NULL, NULL, NULL, NULL },
    { "http://user:@a.com", "http://user:@a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, "user", "", NULL, NULL, NULL },
    { "http://:pw@a.com", "http://:pw@a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, "", "pw", NULL, NULL, NULL },
    { "http://u:p@[::1]:81/", "http://u:p@[::1]:81/", "/", "[::1]:81", "::1",
      URL_HOST_IPV6, 81, 1, "u", "p", NULL, NULL, NULL },
    /* path, query, fragment (never in the target or the string) */
    { "http://a.com/p%20q/%2e%2E/x?a=%41&b", "http://a.com/p%20q/%2e%2E/x?a=%41&b",
      "/p%20q/%2e%2E/x?a=%41&b", "a.com", "a.com", URL_HOST_NAME, 80, 0,
      NULL, NULL, NULL, "a=%41&b", NULL },
    { "http://a.com/p?q#frag", "http://a.com/p?q", "/p?q", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, "q", "frag" },
    { "http://a.com#@b.com/", "http://a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, "@b.com/" },
    { "http://a.com?@b.com/", "http://a.com/?@b.com/", "/?@b.com/", "a.com",
      "a.com", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, "@b.com/", NULL },
    { "http://a.com/?", "http://a.com/?", "/?", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, "", NULL },
    { "http://a.com#", "http://a.com/", "/", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, "" },
    { "http://a.com/a/b/../c/./d/..", "http://a.com/a/c/", "/a/c/", "a.com",
      "a.com", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    { "http://a.com/../../x?y/../z", "http://a.com/x?y/../z", "/x?y/../z",
      "a.com", "a.com", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, "y/../z",
      NULL },
    { "http://a.com//x//", "http://a.com//x//", "//x//", "a.com", "a.com",
      URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    { "http://A-b_c~D.e9/", "http://a-b_c~d.e9/", "/", "a-b_c~d.e9",
      "a-b_c~d.e9", URL_HOST_NAME, 80, 0, NULL, NULL, NULL, NULL, NULL },
    { "http://1.2.3.4.example/", "http://1.2.3.4.example/", "/",
      "1.2.3.4.example", "1.2.3.4.example", URL_HOST_NAME, 80, 0,
      NULL, NULL, NULL, NULL, NULL },
};

static void test_ok(void)
{
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const struct ok_case *c = &ok_cases[i];
        url u;
        char err[64];
        int rc = url_parse(&u, c->in, err, sizeof err);
        CHECK_MSG(rc == 0, "%s: rc %d (%s)", c->in, rc, err);
        if (rc) continue;
        char *s = url_to_string(&u), *t = url_target(&u),
             *h = url_host_header(&u);
        check_opt(s, c->str, c->in, "string");
        check_opt(t, c->target, c->in, "target");
        check_opt(h, c->hosthdr, c->in, "Host");
        check_opt(u.host, c->host, c->in, "host");
        CHECK_MSG(u.host_type == c->type, "%s: type %d", c->in, u.host_type);
        CHECK_MSG(u.port == c->port && u.port_explicit == c->port_explicit,
                  "%s: port %d explicit %d", c->in, u.port, u.port_explicit);
        check_opt(u.user, c->user, c->in, "user");
        check_opt(u.password, c->pass, c->in, "password");
        check_opt(u.zone, c->zone, c->in, "zone");
        check_opt(u.query, c->query, c->in, "query");
        check_opt(u.fragment, c->frag, c->in, "fragment");
        /* the string form parses back to itself */
        url v;
        char *s2 = NULL;
        CHECK_MSG(s && url_parse(&v, s, NULL, 0) == 0 &&
                  (s2 = url_to_string(&v)) && strcmp(s, s2) == 0,
                  "%s: no round trip", c->in);
        if (s2) url_free(&v);
        free(s2);
        free(s);
        free(t);
        free(h);
        url_free(&u);
    }
}

/* ---- refused URLs ------------------------------------------------------- */

static const struct bad_case { const char *in; int rc; } bad_cases[] = {
    { "ftp://a.com/", HF_E_UNSUPPORTED_PROTOCOL },
    { "FILE:///etc/passwd", HF_E_UNSUPPORTED_PROTOCOL },
    { "gopher://a.com:70/", HF_E_UNSUPPORTED_PROTOCOL },
    { "", HF_E_URL },
    { "http://", HF_E_URL },
    { "http:///x", HF_E_URL },
    { "http://:80/", HF_E_URL },
    { "http://u@/", HF_E_URL },
    { "://a.com/", HF_E_URL },
    { "1http://a.com/", HF_E_URL },
    { "ht_tp://a.com/", HF_E_URL },
    /* spaces and controls anywhere */
    { "http://a .com/", HF_E_URL },
    { "http://a.com/a b", HF_E_URL },
    { "http://a.com/?a b", HF_E_URL },
    { "http://a.com/#a b", HF_E_URL },
    { "http://a.com/\r\nX-Injected: 1", HF_E_URL },
    { "http://a.com\n/", HF_E_URL },
    { "http://a.com/\t", HF_E_URL },
    { "http://a.com/\x7f", HF_E_URL },
    { "http://a\x01.com/", HF_E_URL },
    { "\x1bhttp://a.com/", HF_E_URL },
    /* '%' and other bytes in a reg-name */
    { "http://a.com%2F10.0.0.1/", HF_E_URL },
    { "http://a%2ecom/", HF_E_URL },
    { "http://a%00.com/", HF_E_URL },
    { "http://a.com@b.com@c.com/", HF_E_URL },
    { "http://a<b.com/", HF_E_URL },
    { "http://a\"b.com/", HF_E_URL },
    { "http://a,b.com/", HF_E_URL },   /* sub-delims: refused as curl does */
    { "http://a;b.com/", HF_E_URL },
    { "http://a=b&c/", HF_E_URL },
    { "http://a!b$c'd(e)*+/", HF_E_URL },
    { "http://a.com\\@b.com/", HF_E_URL },
    { "http://a.com/\\x", HF_E_URL },
    { "http://ex\xc3\xa4mple.com/", HF_E_URL },
    { "http://a.com/\xc3\xa4", HF_E_URL },
    { "http://a.com/?\xff", HF_E_URL },
    /* ports */
    { "http://a.com:0/", HF_E_URL },
    { "http://a.com:65536/", HF_E_URL },
    { "http://a.com:99999999999999999999/", HF_E_URL },
    { "http://a.com:000080/", HF_E_URL },
    { "http://a.com:8o/", HF_E_URL },
    { "http://a.com:-1/", HF_E_URL },
    { "http://a.com:+80/", HF_E_URL },
    { "http://a.com:80:80/", HF_E_URL },
    { "http://a.com: 80/", HF_E_URL },
    /* IPv4 */
    { "http://256.0.0.1/", HF_E_URL },
    { "http://1.2.3/", HF_E_URL },
    { "http://1.2.3.4.5/", HF_E_URL },
    { "http://1.2.3.4./", HF_E_URL },
    { "http://127.1/", HF_E_URL },
    { "http://2130706433/", HF_E_URL },
    { "http://010.0.0.1/", HF_E_URL },
    { "http://1..2.3/", HF_E_URL },
    { "http://0x7f.0.0.1/", HF_E_URL },
    { "http://0x7f000001/", HF_E_URL },
    /* IPv6 */
    { "http://[::1/", HF_E_URL },
    { "http://::1]/", HF_E_URL },
    { "http://[::1]]/", HF_E_URL },
    { "http://[[::1]/", HF_E_URL },
    { "http://[]/", HF_E_URL },
    { "http://[::g]/", HF_E_URL },
    { "http://[1:2:3:4:5:6:7:8:9]/", HF_E_URL },
    { "http://[127.0.0.1]/", HF_E_URL },
    { "http://[::1]x/", HF_E_URL },
    { "http://[::1]:0/", HF_E_URL },
    { "http://[v1.x]/", HF_E_URL },
    { "http://[fe80::1%eth0]/", HF_E_URL },
    { "http://[fe80::1%25]/", HF_E_URL },
    { "http://[fe80::1%25eth%2]/", HF_E_URL },
    { "http://[fe80::1%25eth%00]/", HF_E_URL },
    { "http://[fe80::1%25eth/0]/", HF_E_URL },
    { "http://[fe80::1%25a%20b]/", HF_E_URL },
    /* userinfo */
    { "http://us[er@a.com/", HF_E_URL },
    { "http://u%4@a.com/", HF_E_URL },
    { "http://u<@a.com/", HF_E_URL },
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        url u;
        char err[64] = "unset";
        int rc = url_parse(&u, c->in, err, sizeof err);
        CHECK_MSG(rc == c->rc, "%s: rc %d, want %d", c->in, rc, c->rc);
        CHECK_MSG(err[0] != '\0' && strcmp(err, "unset") != 0,
                  "%s: no reason", c->in);
        CHECK_MSG(u.scheme == NULL && u.host == NULL && u.path == NULL,
                  "%s: not zeroed", c->in);
        url_free(&u);
    }
}

static void test_misc(void)
{
    url u;
    char err[64];
    CHECK(url_parse(&u, NULL, err, sizeof err) == HF_E_URL);
    CHECK(url_parse(&u, "http://a b/", NULL, 0) == HF_E_URL);
    CHECK(url_parse(&u, "http://a b/", err, 1) == HF_E_URL && err[0] == 0);
    url_free(NULL);
    CHECK(url_parse(&u, "http://a.com/x", err, sizeof err) == 0);
    url_free(&u);
    url_free(&u); /* zeroed: a second free is harmless */
    CHECK(url_parse(&u, "http://a.com:99999/", err, sizeof err) == HF_E_URL);
    CHECK_STR(err, "bad port");
    CHECK(url_parse(&u, "http://a.com/\r\n", err, sizeof err) == HF_E_URL);
    CHECK_STR(err, "control byte in URL");
    CHECK(url_parse(&u, "http://a.com/\xe2\x82\xac", err, sizeof err) ==
          HF_E_URL);
    CHECK_STR(err, "non-ASCII byte");
    CHECK(url_parse(&u, "http://a%2F.com/", err, sizeof err) == HF_E_URL);
    CHECK_STR(err, "'%' in host");
    /* a port longer than 5 digits is refused before any arithmetic */
    char big[300] = "http://a.com:";
    memset(big + 13, '9', 250);
    CHECK(url_parse(&u, big, err, sizeof err) == HF_E_URL);
}

/* ---- RFC 3986 5.4 ------------------------------------------------------- */

static const char *const rfc_cases[][2] = {
    /* 5.4.1 normal examples */
    { "g:h", "g:h" },
    { "g", "http://a/b/c/g" },
    { "./g", "http://a/b/c/g" },
    { "g/", "http://a/b/c/g/" },
    { "/g", "http://a/g" },
    { "//g", "http://g" },
    { "?y", "http://a/b/c/d;p?y" },
    { "g?y", "http://a/b/c/g?y" },
    { "#s", "http://a/b/c/d;p?q#s" },
    { "g#s", "http://a/b/c/g#s" },
    { "g?y#s", "http://a/b/c/g?y#s" },
    { ";x", "http://a/b/c/;x" },
    { "g;x", "http://a/b/c/g;x" },
    { "g;x?y#s", "http://a/b/c/g;x?y#s" },
    { "", "http://a/b/c/d;p?q" },
    { ".", "http://a/b/c/" },
    { "./", "http://a/b/c/" },
    { "..", "http://a/b/" },
    { "../", "http://a/b/" },
    { "../g", "http://a/b/g" },
    { "../..", "http://a/" },
    { "../../", "http://a/" },
    { "../../g", "http://a/g" },
    /* 5.4.2 abnormal examples */
    { "../../../g", "http://a/g" },
    { "../../../../g", "http://a/g" },
    { "/./g", "http://a/g" },
    { "/../g", "http://a/g" },
    { "g.", "http://a/b/c/g." },
    { ".g", "http://a/b/c/.g" },
    { "g..", "http://a/b/c/g.." },
    { "..g", "http://a/b/c/..g" },
    { "./../g", "http://a/b/g" },
    { "./g/.", "http://a/b/c/g/" },
    { "g/./h", "http://a/b/c/g/h" },
    { "g/../h", "http://a/b/c/h" },
    { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
    { "g;x=1/../y", "http://a/b/c/y" },
    { "g?y/./x", "http://a/b/c/g?y/./x" },
    { "g?y/../x", "http://a/b/c/g?y/../x" },
    { "g#s/./x", "http://a/b/c/g#s/./x" },
    { "g#s/../x", "http://a/b/c/g#s/../x" },
    { "http:g", "http:g" }, /* strict parser */
};

/* Beyond 5.4: other bases, redirect-like cases. */
static const char *const more_cases[][3] = {
    { "http://a", "g", "http://a/g" },          /* 5.2.3: empty base path */
    { "http://a", "?q", "http://a?q" },
    { "http://a/b#f", "", "http://a/b" },       /* base fragment dropped */
    { "http://a/b", "HTTPS://x.org/./y/../z", "HTTPS://x.org/z" },
    { "http://a/b/c", "//h:8080", "http://h:8080" },
    { "http://u:p@a:81/b/c?q", "d", "http://u:p@a:81/b/d" },
    { "http://a/b/c", "g:/x/../y", "g:/y" },
    { "a:", "/.//x", "a:/.//x" },               /* keep "//x" a path */
    { "a:b/c", "d", "a:b/d" },
    { "http://a/b/c", "./g:h", "http://a/b/g:h" },
    { "http://a/b/c", "1x:y", "http://a/b/1x:y" }, /* not a scheme */
};

static void test_resolve(void)
{
    const char *base = "http://a/b/c/d;p?q";
    for (size_t i = 0; i < sizeof rfc_cases / sizeof rfc_cases[0]; i++) {
        char *r = url_resolve(base, rfc_cases[i][0]);
        CHECK_MSG(r && strcmp(r, rfc_cases[i][1]) == 0,
                  "resolve \"%s\": got \"%s\", want \"%s\"", rfc_cases[i][0],
                  r ? r : "(null)", rfc_cases[i][1]);
        free(r);
    }
    for (size_t i = 0; i < sizeof more_cases / sizeof more_cases[0]; i++) {
        char *r = url_resolve(more_cases[i][0], more_cases[i][1]);
        CHECK_MSG(r && strcmp(r, more_cases[i][2]) == 0,
                  "resolve \"%s\" against \"%s\": got \"%s\", want \"%s\"",
                  more_cases[i][1], more_cases[i][0], r ? r : "(null)",
                  more_cases[i][2]);
        free(r);
    }
    /* the base must be absolute */
    CHECK(url_resolve("/b/c", "g") == NULL);
    CHECK(url_resolve("//a/b", "g") == NULL);
    CHECK(url_resolve(NULL, "g") == NULL);
    CHECK(url_resolve("http://a/", NULL) == NULL);
}

int main(void)
{
    test_ok();
    test_bad();
    test_misc();
    test_resolve();
    printf("url: %zu accepted, %zu refused, %zu RFC 3986 5.4, %zu more "
           "resolve cases\n", sizeof ok_cases / sizeof ok_cases[0],
           sizeof bad_cases / sizeof bad_cases[0],
           sizeof rfc_cases / sizeof rfc_cases[0],
           sizeof more_cases / sizeof more_cases[0]);
    return T_END();
}
