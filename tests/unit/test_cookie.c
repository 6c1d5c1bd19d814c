/* test_cookie.c -- the cookie engine (src/cookie.c): RFC 6265bis rules,
 * the public suffix list, dates, paths, limits, the curl jar format, and
 * SECURITY.md D.21-D.25.  Jar texts are handed over as exact-size heap
 * copies with no NUL at the end, so ASan sees any read past the length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "hflow.h"
#include "t.h"

#define NOW ((int64_t)1700000000)   /* 2023-11-14 22:13:20 UTC */

static cookie_jar *J;

/* "scheme://host/path" into its parts (no port, no userinfo). */
typedef struct parts {
    char scheme[16];
    char host[600];
    const char *path;
} parts;

static void split(const char *url, parts *p)
{
    const char *s = strstr(url, "://"), *h, *slash;
    size_t n = (size_t)(s - url);
    memcpy(p->scheme, url, n);
    p->scheme[n] = '\0';
    h = s + 3;
    slash = strchr(h, '/');
    n = slash ? (size_t)(slash - h) : strlen(h);
    memcpy(p->host, h, n);
    p->host[n] = '\0';
    p->path = slash ? slash : "";
}

/* Set-Cookie sc received from url: NULL when stored, else the reason. */
static const char *set_at(cookie_jar *j, const char *url, const char *sc,
                          int64_t now)
{
    parts p;
    const char *why = "unset";
    split(url, &p);
    int rc = cookie_set_ex(j, sc, p.scheme, p.host, p.path, now, &why);
    CHECK_MSG(rc == 0, "cookie_set_ex(%s) = %d", sc, rc);
    return why;
}
static const char *set(const char *url, const char *sc)
{
    return set_at(J, url, sc, NOW);
}

#define STORED(url, sc) do {                                                \
        const char *w_ = set(url, sc);                                      \
        CHECK_MSG(w_ == NULL, "%.80s from %s: not stored: %s", sc, url, w_); \
    } while (0)
#define REFUSED(url, sc) do {                                               \
        const char *w_ = set(url, sc);                                      \
        CHECK_MSG(w_ != NULL, "%.80s from %s: stored", sc, url);            \
    } while (0)

/* The Cookie header for url; want NULL means "none". */
static void header_at(cookie_jar *j, const char *url, const char *want,
                      int64_t now, int line)
{
    parts p;
    split(url, &p);
    char *got = cookie_header(j, p.scheme, p.host, p.path, now);
    if (!want)
        CHECK_MSG(got == NULL, "line %d: %s: got \"%s\", want none", line,
                  url, got);
    else
        CHECK_MSG(got && strcmp(got, want) == 0,
                  "line %d: %s: got \"%s\", want \"%s\"", line, url,
                  got ? got : "(none)", want);
    free(got);
}
#define HDR(url, want) header_at(J, url, want, NOW, __LINE__)

static void fresh(void)
{
    cookie_jar_free(J);
    J = cookie_jar_new();
}

/* The stored cookie named name (the first one), or -1. */
static int info(const char *name, cookie_info *ci)
{
    size_t i;
    for (i = 0; i < cookie_count(J); i++)
        if (cookie_get(J, i, ci) == 0 && strcmp(ci->name, name) == 0)
            return 0;
    return -1;
}

static int load(cookie_jar *j, const char *text, size_t n, int junk,
                int64_t now)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, text, n);
    int rc = cookie_load(j, c, n, junk, now);
    free(c);
    return rc;
}
static int loads(const char *text) { return load(J, text, strlen(text), 0, NOW); }

/* ---- basics ------------------------------------------------------------- */

static void test_basic(void)
{
    fresh();
    CHECK(J != NULL);
    CHECK(cookie_count(J) == 0);
    HDR("http://example.com/", NULL);
    STORED("http://example.com/", "a=1");
    CHECK(cookie_count(J) == 1);
    HDR("http://example.com/", "a=1");
    HDR("http://example.com/deeper/path", "a=1");
    HDR("https://example.com/", "a=1");           /* not Secure: both schemes */
    HDR("http://www.example.com/", NULL);         /* host-only */
    HDR("http://other.com/", NULL);
    /* whitespace around name and value is trimmed; '=' in the value kept */
    STORED("http://example.com/", "  b \t=  x=y  ; Path=/");
    HDR("http://example.com/", "a=1; b=x=y");
    /* nameless cookie, and an empty value */
    STORED("http://example.com/", "justvalue");
    STORED("http://example.com/", "e=");
    HDR("http://example.com/", "a=1; b=x=y; justvalue; e=");
    REFUSED("http://example.com/", "=");
    REFUSED("http://example.com/", "  ;Path=/");
    REFUSED("http://example.com/", "");
    /* a new value replaces the old one in place */
    STORED("http://example.com/", "a=2");
    HDR("http://example.com/", "a=2; b=x=y; justvalue; e=");
    CHECK(cookie_count(J) == 4);
    /* unknown attributes and empty ones are ignored */
    STORED("http://example.com/", "u=1; Foo=bar; ; =; Priority=High");
    cookie_info ci;
    CHECK(info("u", &ci) == 0 && strcmp(ci.value, "1") == 0 &&
          ci.expires == 0 && ci.host_only && !ci.secure && !ci.http_only);
    /* NULL arguments do not crash */
    CHECK(cookie_set(NULL, "a=1", "http", "a.com", "/", NOW) == 0);
    CHECK(cookie_set(J, NULL, "http", "a.com", "/", NOW) == 0);
    CHECK(cookie_set(J, "a=1", NULL, NULL, NULL, NOW) == 0);
    CHECK(cookie_header(J, "http", NULL, "/", NOW) == NULL);
    CHECK(cookie_get(J, 999, &ci) == -1);
    /* a bad host sets and gets nothing */
    REFUSED("http://exa mple.com/", "a=1");
    REFUSED("http://a..b/", "a=1");
    REFUSED("http://.a.com/", "a=1");
    HDR("http://a..b/", NULL);
}

/* ---- Domain, the dot boundary, IP hosts (D.21) -------------------------- */

static void test_domain(void)
{
    fresh();
    STORED("http://www.example.com/", "d=1; Domain=example.com");
    HDR("http://example.com/", "d=1");
    HDR("http://www.example.com/", "d=1");
    HDR("http://a.b.example.com/", "d=1");
    HDR("http://hijack-example.com/", NULL);        /* D.21: dot boundary */
    HDR("http://wwwexample.com/", NULL);
    HDR("http://example.com.evil.net/", NULL);
    HDR("http://com/", NULL);
    cookie_info ci;
    CHECK(info("d", &ci) == 0 && !ci.host_only &&
          strcmp(ci.domain, "example.com") == 0);

    /* lower-cased first, a leading dot ignored */
    fresh();
    STORED("http://www.example.com/", "u=1; Domain=EXAMPLE.Com");
    STORED("http://www.example.com/", "v=2; domain=.example.com");
    HDR("http://x.example.com/", "u=1; v=2");
    /* the last Domain attribute wins; an empty one is ignored */
    STORED("http://www.example.com/", "w=3; Domain=other.com; Domain=example.com; Domain=");
    HDR("http://x.example.com/", "u=1; v=2; w=3");
    /* "Domain=." means no domain: host-only */
    STORED("http://www.example.com/", "h=4; Domain=.");
    HDR("http://x.example.com/", "u=1; v=2; w=3");
    HDR("http://www.example.com/", "u=1; v=2; w=3; h=4");

    /* a Domain that the host does not domain-match */
    fresh();
    REFUSED("http://example.com/", "a=1; Domain=other.com");
    REFUSED("http://example.com/", "a=1; Domain=www.example.com");
    REFUSED("http://hijack-example.com/", "a=1; Domain=example.com");
    REFUSED("http://example.com/", "a=1; Domain=ample.com");
    REFUSED("http://example.com/", "a=1; Domain=..example.com");
    REFUSED("http://example.com/", "a=1; Domain=exa mple.com");
    CHECK(cookie_count(J) == 0);
    /* Domain equal to the host: a domain cookie (not host-only) */
    STORED("http://example.com/", "a=1; Domain=example.com");
    HDR("http://sub.example.com/", "a=1");

    /* IP hosts match only exactly (D.21, CVE-2014-3613) */
    fresh();
    REFUSED("http://127.0.0.1/", "a=1; Domain=0.0.1");
    REFUSED("http://127.0.0.1/", "a=1; Domain=0.1");
    REFUSED("http://127.0.0.1/", "a=1; Domain=1");
    STORED("http://127.0.0.1/", "b=2; Domain=127.0.0.1");
    CHECK(info("b", &ci) == 0 && ci.host_only);
    STORED("http://127.0.0.1/", "c=3");
    HDR("http://127.0.0.1/", "b=2; c=3");
    HDR("http://127.0.0.2/", NULL);
    HDR("http://1.127.0.0.1/", NULL);
    HDR("http://27.0.0.1/", NULL);
    /* a domain cookie for a partial IP read from a jar matches nothing */
    CHECK(loads(".0.0.1\tTRUE\t/\tFALSE\t0\tp\t1\n"
                "0.0.1\tTRUE\t/\tFALSE\t0\tq\t1\n") == 0);
    CHECK(cookie_count(J) == 4);
    HDR("http://127.0.0.1/", "b=2; c=3");
    /* IPv6, bracketed or not */
    STORED("http://[::1]/", "six=6");
    HDR("http://::1/", "six=6");
    HDR("http://[::1]/", "six=6");
    HDR("http://[::2]/", NULL);
    REFUSED("http://[2001:db8::1]/", "a=1; Domain=db8::1");
}

/* ---- the public suffix list (D.22) -------------------------------------- */

static void test_psl(void)
{
    fresh();
    REFUSED("http://example.com/", "a=1; Domain=com");
    REFUSED("http://example.com/", "a=1; Domain=.com");
    REFUSED("http://curl.co.uk/", "a=1; Domain=co.uk");
    REFUSED("http://curl.co.uk/", "a=1; Domain=co.UK");    /* CVE-2023-46218 */
    REFUSED("http://curl.co.uk/", "a=1; Domain=CO.UK");
    REFUSED("http://curl.co.uk/", "a=1; Domain=co.uk.");   /* CVE-2022-27779 */
    REFUSED("http://curl.co.uk./", "a=1; Domain=co.uk.");
    REFUSED("http://curl.co.uk./", "a=1; Domain=co.uk");
    REFUSED("http://x.github.io/", "a=1; Domain=github.io");  /* private */
    REFUSED("http://a.b.test/", "a=1; Domain=test");  /* unlisted TLD: '*' */
    CHECK(cookie_count(J) == 0);
    CHECK(strcmp(set("http://curl.co.uk/", "a=1; Domain=co.uk"),
                 "the domain is a public suffix") == 0);
    /* a registrable domain works */
    STORED("http://www.curl.co.uk/", "r=1; Domain=curl.co.uk");
    STORED("http://www.curl.co.uk/", "s=2; Domain=CURL.co.UK.");
    HDR("http://curl.co.uk/", "r=1; s=2");
    HDR("http://other.co.uk/", NULL);
    STORED("http://x.github.io/", "g=1; Domain=x.github.io");
    HDR("http://y.x.github.io/", "g=1");
    HDR("http://y.github.io/", NULL);
    /* a host that is a public suffix may set a host-only cookie */
    fresh();
    STORED("http://co.uk/", "h=1; Domain=co.uk");
    cookie_info ci;
    CHECK(info("h", &ci) == 0 && ci.host_only && strcmp(ci.domain, "co.uk") == 0);
    HDR("http://co.uk/", "h=1");
    HDR("http://curl.co.uk/", NULL);
    STORED("http://localhost/", "l=1; Domain=localhost");
    HDR("http://localhost/", "l=1");
    HDR("http://a.localhost/", NULL);
    /* and from a jar, a domain cookie for a public suffix is host-only */
    fresh();
    CHECK(loads(".com\tTRUE\t/\tFALSE\t0\tsuper\t1\n"
                ".co.UK\tTRUE\t/\tFALSE\t0\tsuper\t2\n"
                ".example.com\tTRUE\t/\tFALSE\t0\tok\t3\n") == 0);
    CHECK(cookie_count(J) == 3);
    HDR("http://a.example.com/", "ok=3");
    HDR("http://example.com/", "ok=3");
    HDR("http://a.co.uk/", NULL);
    HDR("http://a.com/", NULL);
    HDR("http://co.uk/", "super=2");
}

/* ---- trailing dots (D.22) ----------------------------------------------- */

static void test_trailing_dot(void)
{
    fresh();
    STORED("http://example.com./", "a=1");
    HDR("http://example.com/", "a=1");
    HDR("http://example.com./", "a=1");
    STORED("http://www.example.com./", "b=2; Domain=example.com.");
    STORED("http://www.example.com/", "c=3; Domain=.example.com.");
    HDR("http://x.example.com./", "b=2; c=3");
    cookie_info ci;
    CHECK(info("b", &ci) == 0 && strcmp(ci.domain, "example.com") == 0);
    /* a TLD with a trailing dot: only a host-only cookie */
    fresh();
    REFUSED("http://com./", "t=1; Domain=x.com.");
    STORED("http://co.uk./", "t=1; Domain=co.uk.");
    CHECK(info("t", &ci) == 0 && ci.host_only);
    HDR("http://example.co.uk/", NULL);
    HDR("http://example.co.uk./", NULL);
    REFUSED("http://a.com../", "x=1");
}

/* ---- paths -------------------------------------------------------------- */

static const char *path_of(const char *name)
{
    static cookie_info ci;
    return info(name, &ci) == 0 ? ci.path : "(none)";
}

static void test_paths(void)
{
    fresh();
    /* default path, RFC 6265bis 5.1.4 */
    STORED("http://p.com/a/b/c", "d1=1");
    CHECK_STR(path_of("d1"), "/a/b");
    STORED("http://p.com/a", "d2=1");
    CHECK_STR(path_of("d2"), "/");
    STORED("http://p.com", "d3=1");
    CHECK_STR(path_of("d3"), "/");
    STORED("http://p.com/", "d4=1");
    CHECK_STR(path_of("d4"), "/");
    STORED("http://p.com/a/b/", "d5=1");
    CHECK_STR(path_of("d5"), "/a/b");
    STORED("http://p.com/a/b?x=/y/z", "d6=1");
    CHECK_STR(path_of("d6"), "/a");
    CHECK(cookie_set(J, "d7=1", "http", "p.com", "noslash", NOW) == 0);
    CHECK_STR(path_of("d7"), "/");
    CHECK(cookie_set(J, "d8=1", "http", "p.com", NULL, NOW) == 0);
    CHECK_STR(path_of("d8"), "/");
    CHECK(cookie_set(J, "d9=1", "http", "p.com", "", NOW) == 0);
    CHECK_STR(path_of("d9"), "/");
    STORED("http://p.com//", "d10=1");
    CHECK_STR(path_of("d10"), "/");
    /* Path attribute: empty or not starting with '/' means the default */
    STORED("http://p.com/x/y", "e1=1; Path=");
    CHECK_STR(path_of("e1"), "/x");
    STORED("http://p.com/x/y", "e2=1; Path=rel/ative");
    CHECK_STR(path_of("e2"), "/x");
    STORED("http://p.com/x/y", "e3=1; Path=/q/r; Path=/last");
    CHECK_STR(path_of("e3"), "/last");
    STORED("http://p.com/x/y", "e4=1; path = /sp ");
    CHECK_STR(path_of("e4"), "/sp");

    /* path-match */
    fresh();
    STORED("http://m.com/", "ab=1; Path=/a/b");
    HDR("http://m.com/a/b", "ab=1");
    HDR("http://m.com/a/b/", "ab=1");
    HDR("http://m.com/a/b/c", "ab=1");
    HDR("http://m.com/a/b?q", "ab=1");
    HDR("http://m.com/a/bc", NULL);
    HDR("http://m.com/a", NULL);
    HDR("http://m.com/", NULL);
    HDR("http://m.com", NULL);
    HDR("http://m.com/A/B", NULL);            /* case-sensitive */
    fresh();
    STORED("http://m.com/", "s=1; Path=/a/");
    HDR("http://m.com/a/", "s=1");
    HDR("http://m.com/a/x", "s=1");
    HDR("http://m.com/a", NULL);
    fresh();
    STORED("http://m.com/", "r=1; Path=/");
    HDR("http://m.com", "r=1");
    CHECK(cookie_count(J) == 1);
    char *h = cookie_header(J, "http", "m.com", "", NOW);
    CHECK_STR(h, "r=1");
    free(h);
    h = cookie_header(J, "http", "m.com", "noslash", NOW);
    CHECK_STR(h, "r=1");
    free(h);
    h = cookie_header(J, "http", "m.com", NULL, NOW);
    CHECK_STR(h, "r=1");
    free(h);
    /* an attribute value over 1024 bytes is ignored */
    fresh();
    char big[1200] = "l=1; Path=/";
    memset(big + strlen(big), 'p', 1100);
    big[sizeof big - 1] = '\0';
    STORED("http://m.com/dir/file", big);
    CHECK_STR(path_of("l"), "/dir");
}

/* ---- sorting ------------------------------------------------------------ */

static void test_order(void)
{
    fresh();
    STORED("http://o.com/", "x=1; Path=/");
    STORED("http://o.com/", "y=2; Path=/a/b");
    STORED("http://o.com/", "z=3; Path=/a");
    HDR("http://o.com/a/b/c", "y=2; z=3; x=1");
    /* equal paths: earlier creation first, kept across an update */
    fresh();
    set_at(J, "http://o.com/", "p=1", NOW);
    set_at(J, "http://o.com/", "q=2", NOW + 1);
    set_at(J, "http://o.com/", "r=3", NOW + 2);
    header_at(J, "http://o.com/", "p=1; q=2; r=3", NOW + 3, __LINE__);
    set_at(J, "http://o.com/", "p=9", NOW + 4);
    header_at(J, "http://o.com/", "p=9; q=2; r=3", NOW + 5, __LINE__);
    /* a deleted and re-set cookie is new */
    set_at(J, "http://o.com/", "p=; Max-Age=0", NOW + 6);
    set_at(J, "http://o.com/", "p=10", NOW + 7);
    header_at(J, "http://o.com/", "q=2; r=3; p=10", NOW + 8, __LINE__);
    /* same creation time: the order of arrival */
    fresh();
    STORED("http://o.com/", "c=1");
    STORED("http://o.com/", "b=1");
    STORED("http://o.com/", "a=1");
    HDR("http://o.com/", "c=1; b=1; a=1");
    /* same name, different paths: both sent, the longer path first */
    STORED("http://o.com/", "c=2; Path=/deep");
    HDR("http://o.com/deep", "c=2; c=1; b=1; a=1");
}

/* ---- Secure, "Leave Secure Cookies Alone", HttpOnly, SameSite ----------- */

static void test_secure(void)
{
    cookie_info ci;
    fresh();
    REFUSED("http://s.com/", "s=1; Secure");
    CHECK(strcmp(set("http://s.com/", "s=1; secure"),
                 "a Secure cookie from an insecure origin") == 0);
    STORED("https://s.com/", "s=1; Secure");
    CHECK(info("s", &ci) == 0 && ci.secure);
    HDR("https://s.com/", "s=1");
    HDR("http://s.com/", NULL);
    HDR("HTTPS://s.com/", "s=1");
    HDR("ftp://s.com/", NULL);
    /* an insecure origin may not overwrite, shadow or delete it */
    REFUSED("http://s.com/", "s=2");
    REFUSED("http://s.com/", "s=2; Path=/sub");
    REFUSED("http://s.com/", "s=; Max-Age=0");
    REFUSED("http://www.s.com/", "s=2");
    REFUSED("http://www.s.com/", "s=2; Domain=s.com");
    HDR("https://s.com/", "s=1");
    CHECK(cookie_count(J) == 1);
    /* another name, or a path that does not path-match, is fine */
    STORED("http://s.com/", "t=1");
    fresh();
    STORED("https://s.com/", "s=1; Secure; Path=/x");
    STORED("http://s.com/", "s=2; Path=/");
    HDR("https://s.com/x", "s=1; s=2");
    HDR("http://s.com/x", "s=2");
    /* a secure origin may replace it with a non-Secure one */
    fresh();
    STORED("https://s.com/", "s=1; Secure");
    STORED("https://s.com/", "s=2");
    HDR("http://s.com/", "s=2");
    /* a domain-wide Secure cookie is not shadowed from a subdomain */
    fresh();
    STORED("https://s.com/", "id=1; Secure; Domain=s.com");
    REFUSED("http://a.s.com/", "id=evil");
    STORED("https://a.s.com/", "id=ok");

    /* HttpOnly: kept (changes nothing for a CLI) */
    fresh();
    STORED("http://h.com/", "h=1; HttpOnly");
    CHECK(info("h", &ci) == 0 && ci.http_only);
    HDR("http://h.com/", "h=1");

    /* SameSite: parsed and stored */
    fresh();
    STORED("https://ss.com/", "a=1; SameSite=Strict");
    STORED("https://ss.com/", "b=1; samesite=lax");
    STORED("https://ss.com/", "c=1; SameSite=NONE; Secure");
    STORED("https://ss.com/", "d=1; SameSite=bogus");
    STORED("https://ss.com/", "e=1");
    STORED("https://ss.com/", "f=1; SameSite=None");
    CHECK(info("a", &ci) == 0 && ci.same_site == COOKIE_SAMESITE_STRICT);
    CHECK(info("b", &ci) == 0 && ci.same_site == COOKIE_SAMESITE_LAX);
    CHECK(info("c", &ci) == 0 && ci.same_site == COOKIE_SAMESITE_NONE);
    CHECK(info("d", &ci) == 0 && ci.same_site == COOKIE_SAMESITE_DEFAULT);
    CHECK(info("e", &ci) == 0 && ci.same_site == COOKIE_SAMESITE_DEFAULT);
    HDR("https://ss.com/", "a=1; b=1; c=1; d=1; e=1; f=1");
}

/* ---- __Secure- and __Host- ---------------------------------------------- */

static void test_prefixes(void)
{
    fresh();
    REFUSED("http://p.com/", "__Secure-a=1");
    REFUSED("http://p.com/", "__Secure-a=1; Secure");
    REFUSED("https://p.com/", "__Secure-a=1");
    REFUSED("https://p.com/", "__secure-a=1");          /* any case */
    STORED("https://p.com/", "__Secure-a=1; Secure");
    STORED("https://www.p.com/", "__Secure-d=1; Secure; Domain=p.com");
    REFUSED("https://p.com/", "__Host-h=1");
    REFUSED("https://p.com/", "__Host-h=1; Secure");    /* no Path */
    REFUSED("https://p.com/", "__Host-h=1; Secure; Path=/x");
    REFUSED("https://p.com/", "__Host-h=1; Secure; Path=/; Domain=p.com");
    REFUSED("http://p.com/", "__Host-h=1; Secure; Path=/");
    REFUSED("https://p.com/", "__HOST-h=1; Path=/");
    STORED("https://p.com/", "__Host-h=1; Secure; Path=/");
    STORED("https://p.com/x/y", "__Host-i=1; Secure; Path=/");
    /* nameless cookies must not look prefixed */
    REFUSED("https://p.com/", "__Secure-x; Secure");
    REFUSED("https://p.com/", "=__Host-x; Secure; Path=/");
    STORED("https://p.com/", "__Securex=1");   /* not the prefix */
    HDR("https://p.com/",
        "__Secure-a=1; __Secure-d=1; __Host-h=1; __Host-i=1; __Securex=1");
    HDR("https://www.p.com/", "__Secure-d=1");
}

/* ---- Expires, Max-Age, dates -------------------------------------------- */

static int64_t expiry_of(const char *sc, int64_t now)
{
    cookie_jar *j = cookie_jar_new();
    cookie_info ci;
    int64_t e = -1;
    if (cookie_set(j, sc, "http", "d.com", "/", now) == 0 &&
        cookie_get(j, 0, &ci) == 0)
        e = ci.expires;
    cookie_jar_free(j);
    return e;
}

#define T1994 ((int64_t)784111777)   /* Sun, 06 Nov 1994 08:49:37 GMT */

static void test_dates(void)
{
    int64_t before = T1994 - 1000;
    /* RFC 1123, RFC 850, asctime (RFC 7231 7.1.1.1) */
    CHECK(expiry_of("a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT", before) == T1994);
    CHECK(expiry_of("a=1; Expires=Sunday, 06-Nov-94 08:49:37 GMT", before) == T1994);
    CHECK(expiry_of("a=1; Expires=Sun Nov  6 08:49:37 1994", before) == T1994);
    /* other shapes the algorithm takes */
    CHECK(expiry_of("a=1; expires=06 nov 1994 08:49:37", before) == T1994);
    CHECK(expiry_of("a=1; Expires=Sun, 6 NOVEMBER 1994 8:49:37 UTC", before) == T1994);
    CHECK(expiry_of("a=1; Expires=1994 Nov 06 08:49:37", before) == T1994);
    CHECK(expiry_of("a=1; Expires=08:49:37 6 Nov 1994", before) == T1994);
    CHECK(expiry_of("a=1; Expires=Sun,06-Nov-1994 08:49:37GMT", before) == T1994);
    CHECK(expiry_of("a=1; Expires=06 Nov 1994 08:49:37xyz", before) == T1994);
    /* two-digit years: 70-99 -> 19xx, 00-69 -> 20xx */
    CHECK(expiry_of("a=1; Expires=Thu, 01 Jan 70 00:00:01 GMT", 0) == 1);
    CHECK(expiry_of("a=1; Expires=Sat, 01 Jan 00 00:00:00 GMT", 946600000) ==
          946684800);
    CHECK(expiry_of("a=1; Expires=Sun, 01 Jan 38 00:00:00 GMT", 2145000000) ==
          (int64_t)2145916800);
    CHECK(expiry_of("a=1; Expires=Fri, 01 Jan 2038 00:00:00 GMT", 2145000000) ==
          (int64_t)2145916800);
    CHECK(expiry_of("a=1; Expires=Tue, 01 Jan 2069 00:00:00 GMT", 3124000000) ==
          (int64_t)3124224000);
    CHECK(expiry_of("a=1; Expires=Tue, 01 Jan 69 00:00:00 GMT", 3124000000) ==
          (int64_t)3124224000);
    /* leap days */
    CHECK(expiry_of("a=1; Expires=29 Feb 2024 00:00:00", 1709000000) == 1709164800);
    CHECK(expiry_of("a=1; Expires=29 Feb 2000 12:00:00", 951000000) == 951825600);
    /* invalid dates: the attribute is ignored (a session cookie) */
    CHECK(expiry_of("a=1; Expires=29 Feb 2023 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=30 Feb 2024 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=31 Apr 2024 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=32 Jan 2024 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=0 Jan 2024 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 2024 24:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 2024 23:60:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 2024 23:59:60", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 1600 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 2024", NOW) == 0);          /* no time */
    CHECK(expiry_of("a=1; Expires=01 2024 00:00:00", NOW) == 0);     /* no month */
    CHECK(expiry_of("a=1; Expires=Jan 2024 00:00:00", NOW) == 0);    /* no day */
    CHECK(expiry_of("a=1; Expires=01 Jan 00:00:00", NOW) == 0);      /* no year */
    CHECK(expiry_of("a=1; Expires=01 Jan 2 00:00:00", NOW) == 0);    /* 1-digit year */
    CHECK(expiry_of("a=1; Expires=01 Jan 20245 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=001 Jan 2024 00:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=01 Jan 2024 000:00:00", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=", NOW) == 0);
    CHECK(expiry_of("a=1; Expires=tomorrow", NOW) == 0);
    /* expiry capped at 400 days (RFC 6265bis) */
    CHECK(expiry_of("a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT", NOW) ==
          NOW + 400 * 86400);
    CHECK(expiry_of("a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", NOW) ==
          NOW + 400 * 86400);
    CHECK(expiry_of("a=1; Expires=Sat, 01 Jun 2024 00:00:00 GMT", NOW) ==
          (int64_t)1717200000);
}

static void test_expiry(void)
{
    cookie_info ci;
    /* Max-Age */
    CHECK(expiry_of("a=1; Max-Age=100", NOW) == NOW + 100);
    CHECK(expiry_of("a=1; max-age=0100", NOW) == NOW + 100);
    CHECK(expiry_of("a=1; Max-Age=99999999999999999999999", NOW) == NOW + 400 * 86400);
    CHECK(expiry_of("a=1; Max-Age=0", NOW) == -1);        /* not stored */
    CHECK(expiry_of("a=1; Max-Age=-1", NOW) == -1);
    CHECK(expiry_of("a=1; Max-Age=-0", NOW) == -1);
    CHECK(expiry_of("a=1; Max-Age=abc", NOW) == 0);       /* ignored */
    CHECK(expiry_of("a=1; Max-Age=1e3", NOW) == 0);
    CHECK(expiry_of("a=1; Max-Age=+5", NOW) == 0);
    CHECK(expiry_of("a=1; Max-Age=-", NOW) == 0);
    CHECK(expiry_of("a=1; Max-Age=", NOW) == 0);
    /* Max-Age wins over Expires, whichever comes first */
    CHECK(expiry_of("a=1; Max-Age=100; Expires=Sat, 01 Jun 2024 00:00:00 GMT", NOW) == NOW + 100);
    CHECK(expiry_of("a=1; Expires=Sat, 01 Jun 2024 00:00:00 GMT; Max-Age=100", NOW) == NOW + 100);
    CHECK(expiry_of("a=1; Expires=Sat, 01 Jun 2024 00:00:00 GMT; Max-Age=bad", NOW) == 1717200000);
    CHECK(expiry_of("a=1; Expires=Thu, 01 Jan 2015 00:00:00 GMT; Max-Age=100", NOW) == NOW + 100);
    CHECK(expiry_of("a=1; Expires=Sat, 01 Jun 2024 00:00:00 GMT; Max-Age=0", NOW) == -1);
    /* the last of each wins */
    CHECK(expiry_of("a=1; Max-Age=5; Max-Age=7", NOW) == NOW + 7);

    /* deleting */
    fresh();
    STORED("http://e.com/", "a=1");
    STORED("http://e.com/", "b=1");
    CHECK_STR(set("http://e.com/", "a=; Max-Age=0"), "expired: deleted");
    HDR("http://e.com/", "b=1");
    set("http://e.com/", "b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    HDR("http://e.com/", NULL);
    CHECK(cookie_count(J) == 0);
    /* only the same name, domain, host-only flag and path is deleted */
    STORED("http://www.e.com/", "c=1");
    STORED("http://www.e.com/", "c=2; Domain=e.com");
    STORED("http://www.e.com/", "c=3; Path=/p");
    set("http://www.e.com/", "c=; Max-Age=0; Domain=e.com");
    HDR("http://www.e.com/p", "c=3; c=1");
    /* a persistent cookie expires with time */
    fresh();
    STORED("http://e.com/", "t=1; Max-Age=10");
    header_at(J, "http://e.com/", "t=1", NOW + 9, __LINE__);
    header_at(J, "http://e.com/", NULL, NOW + 10, __LINE__);
    CHECK(cookie_count(J) == 0);
    STORED("http://e.com/", "u=1; Max-Age=10");
    CHECK(info("u", &ci) == 0 && ci.expires == NOW + 10);
}

/* ---- control bytes and sizes (D.24, D.25) ------------------------------- */

static void test_bytes(void)
{
    fresh();
    REFUSED("http://c.com/", "a=\x01");
    REFUSED("http://c.com/", "a\x01=1");
    REFUSED("http://c.com/", "a=1\x7f");
    REFUSED("http://c.com/", "\x7f" "a=1");
    REFUSED("http://c.com/", "a=1\r\nSet-Cookie: b=2");
    REFUSED("http://c.com/", "a=1\nb");
    REFUSED("http://c.com/", "a=1; Path=/\x1f");
    REFUSED("http://c.com/", "a=1; Foo=\x0b");
    CHECK_STR(set("http://c.com/", "a=\x02"), "a control byte");
    CHECK(cookie_count(J) == 0);
    /* HTAB is no control byte for cookies, but may not enter a name */
    STORED("http://c.com/", "t=a\tb");
    HDR("http://c.com/", "t=a\tb");
    REFUSED("http://c.com/", "t\tu=1");
    REFUSED("http://c.com/", "v=1; Path=/a\tb");
    /* a control byte in the request path (the default path) */
    const char *w0 = "unset";
    CHECK(cookie_set_ex(J, "p=1", "http", "c.com", "/a\x01/b", NOW, &w0) == 0);
    CHECK(w0 && strcmp(w0, "a tab or control byte in the path") == 0);
    CHECK(cookie_set_ex(J, "p=1", "http", "c.com", "/a\tb/c", NOW, &w0) == 0);
    CHECK(w0 != NULL);
    CHECK(cookie_load(J, NULL, 10, 0, NOW) == 0);
    CHECK(cookie_load(NULL, "x", 1, 0, NOW) == 0);
    CHECK(cookie_save(NULL, NOW) == NULL);
    /* high bytes are fine in values */
    STORED("http://c.com/", "u=\xc3\xa9t\xc3\xa9");
    HDR("http://c.com/", "t=a\tb; u=\xc3\xa9t\xc3\xa9");

    /* name + value: at most 4096 bytes */
    fresh();
    char *big = malloc(10001);
    memset(big, 'v', 10000);
    big[10000] = '\0';
    memcpy(big, "nm=", 3);
    big[4096 + 1] = '\0';                 /* "nm" + 4094 value bytes = 4096 */
    STORED("http://c.com/", big);
    big[4096 + 1] = 'v';
    big[4096 + 2] = '\0';                 /* 4097 */
    REFUSED("http://c.com/", big);
    big[4096 + 2] = 'v';
    REFUSED("http://c.com/", big);        /* 10 KB */
    CHECK(cookie_count(J) == 1);
    /* a cookie whose jar line would pass 5000 bytes is not stored */
    char *longpath = malloc(1100);
    memset(longpath, 'p', 1099);
    longpath[0] = '/';
    longpath[1099] = '\0';
    char *sc = malloc(6000);
    memset(big, 'v', 4000);
    big[4000] = '\0';
    big[3000] = '\0';
    snprintf(sc, 6000, "n=%s; Path=%.1020s", big, longpath);
    STORED("http://c.com/", sc);
    cookie_info ci;
    char url[1200];
    snprintf(url, sizeof url, "http://c.com%.1020s/x", longpath);
    memset(big, 'v', 3800);
    big[3800] = '\0';
    snprintf(sc, 6000, "m=%s", big);
    const char *w = set(url, sc);           /* default path, 1020 bytes */
    CHECK(w == NULL);
    /* with a 1200-byte default path the line would be too long */
    char *url2 = malloc(1400);
    snprintf(url2, 1400, "http://c.com/%01200d/x", 0);
    w = set(url2, sc);
    CHECK(w && strcmp(w, "too long for a cookie-jar line") == 0);
    CHECK(info("m", &ci) == 0 && strlen(ci.path) == 1020);
    free(url2);
    free(sc);
    free(longpath);
    free(big);
}

static void test_limits(void)
{
    char sc[64], url[64];
    int i;
    /* D.25: 1000 Set-Cookie from one host: at most 50 kept, the newest */
    fresh();
    for (i = 0; i < 1000; i++) {
        snprintf(sc, sizeof sc, "c%d=%d", i, i);
        CHECK_MSG(cookie_set(J, sc, "http", "flood.com", "/", NOW) == 0, "%d", i);
    }
    CHECK(cookie_count(J) == COOKIE_MAX_PER_DOMAIN);
    cookie_info ci;
    CHECK(cookie_get(J, 0, &ci) == 0 && strcmp(ci.name, "c950") == 0);
    CHECK(info("c999", &ci) == 0);
    CHECK(info("c949", &ci) == -1);
    char *h = cookie_header(J, "http", "flood.com", "/", NOW);
    CHECK(h && strlen(h) <= COOKIE_MAX_HEADER);
    CHECK(h && strncmp(h, "c950=950; c951=951", 18) == 0);
    free(h);
    /* other domains are not affected by the flood */
    STORED("http://other.com/", "keep=1");
    for (i = 0; i < 100; i++) {
        snprintf(sc, sizeof sc, "d%d=%d", i, i);
        cookie_set(J, sc, "http", "flood.com", "/", NOW);
    }
    HDR("http://other.com/", "keep=1");

    /* five domain levels x 50: the site cap (180), and 150 sent */
    fresh();
    static const char *hosts[] = { "a.b.c.d.site.com", "b.c.d.site.com",
                                   "c.d.site.com", "d.site.com", "site.com" };
    int k;
    for (k = 0; k < 5; k++)
        for (i = 0; i < 50; i++) {
            snprintf(sc, sizeof sc, "k%d_%d=1; Domain=%s", k, i, hosts[k]);
            cookie_set(J, sc, "http", "a.b.c.d.site.com", "/", NOW);
        }
    CHECK(cookie_count(J) == COOKIE_MAX_PER_SITE);
    h = cookie_header(J, "http", "a.b.c.d.site.com", "/", NOW);
    size_t n = 0;
    const char *p;
    for (p = h; p && *p; p++) n += *p == '=';
    CHECK_MSG(n == COOKIE_MAX_SEND, "%zu cookies sent", n);
    CHECK(h && strlen(h) <= COOKIE_MAX_HEADER);
    free(h);

    /* big values: the header stays within 8190 bytes */
    fresh();
    char *bigv = malloc(1100);
    for (i = 0; i < 50; i++) {
        snprintf(bigv, 1100, "b%02d=%01000d", i, i);
        cookie_set(J, bigv, "http", "big.com", "/", NOW);
    }
    CHECK(cookie_count(J) == 50);
    h = cookie_header(J, "http", "big.com", "/", NOW);
    CHECK(h && strlen(h) <= COOKIE_MAX_HEADER);
    CHECK(h && strlen(h) > COOKIE_MAX_HEADER - 1010);   /* filled up */
    CHECK(h && strncmp(h, "b00=", 4) == 0);
    free(h);
    free(bigv);

    /* the total cap */
    fresh();
    for (k = 0; k < 70; k++)
        for (i = 0; i < 50; i++) {
            snprintf(url, sizeof url, "s%d.com", k);
            snprintf(sc, sizeof sc, "c%d=1", i);
            cookie_set(J, sc, "http", url, "/", NOW);
        }
    CHECK(cookie_count(J) == COOKIE_MAX_TOTAL);
    HDR("http://s0.com/", NULL);               /* the oldest went first */
    h = cookie_header(J, "http", "s69.com", "/", NOW);
    CHECK(h != NULL);
    free(h);

    /* eviction: non-Secure cookies go before Secure ones, then the least
     * recently used */
    fresh();
    for (i = 0; i < 50; i++) {
        snprintf(sc, sizeof sc, "s%d=1; Secure", i);
        cookie_set(J, sc, "https", "sec.com", "/", NOW);
    }
    STORED("http://sec.com/", "plain=1");      /* stored, then evicted */
    CHECK(cookie_count(J) == 50);
    CHECK(info("plain", &ci) == -1);
    CHECK(info("s0", &ci) == 0);
    fresh();
    for (i = 0; i < 50; i++) {
        snprintf(sc, sizeof sc, "l%d=1; Path=/p%d", i, i);
        set_at(J, "http://lru.com/", sc, NOW + i);
    }
    h = cookie_header(J, "http", "lru.com", "/p0", NOW + 100);  /* uses l0 */
    CHECK_STR(h, "l0=1");
    free(h);
    set_at(J, "http://lru.com/", "new=1", NOW + 101);   /* the 51st */
    CHECK(cookie_count(J) == 50);
    CHECK(info("l0", &ci) == 0);         /* used recently: kept */
    CHECK(info("l1", &ci) == -1);        /* the least recently used */
    CHECK(info("new", &ci) == 0);
}

/* ---- the jar ------------------------------------------------------------ */

static const char CURL_JAR[] =
    "# Netscape HTTP Cookie File\n"
    "# https://curl.se/docs/http-cookies.html\n"
    "# This file was generated by libcurl! Edit at your own risk.\n"
    "\n"
    "localhost\tFALSE\t/p/\tTRUE\t0\te\t5\n"
    "localhost\tFALSE\t/\tFALSE\t0\td\t\n"
    "localhost\tFALSE\t/x/\tFALSE\t1795732717\tc\t3\n"
    "#HttpOnly_.localhost\tTRUE\t/p/\tFALSE\t0\tb\t2\n"
    "localhost\tFALSE\t/\tFALSE\t0\ta\t1\n";

static const char HEAD[] =
    "# Netscape HTTP Cookie File\n"
    "# https://curl.se/docs/http-cookies.html\n"
    "# This file was generated by hflow! Edit at your own risk.\n\n";

static void check_save(const char *body, int line)
{
    char *s = cookie_save(J, NOW);
    size_t hl = strlen(HEAD);
    CHECK_MSG(s && strncmp(s, HEAD, hl) == 0, "line %d: header", line);
    CHECK_MSG(s && strlen(s) >= hl && strcmp(s + hl, body) == 0,
              "line %d: got\n%s\nwant\n%s", line, s ? s + hl : "(null)", body);
    free(s);
}

static void test_jar(void)
{
    cookie_info ci;
    /* curl's jar (written by curl 7.88 for http://localhost/p/q) */
    fresh();
    CHECK(loads(CURL_JAR) == 0);
    CHECK(cookie_count(J) == 5);
    /* ".localhost TRUE": localhost is a public suffix, so host-only */
    CHECK(info("b", &ci) == 0 && ci.http_only && ci.host_only &&
          strcmp(ci.domain, "localhost") == 0 && strcmp(ci.path, "/p/") == 0);
    CHECK(info("c", &ci) == 0 && ci.expires == 1795732717);
    CHECK(info("d", &ci) == 0 && ci.value[0] == '\0');
    CHECK(info("e", &ci) == 0 && ci.secure);
    HDR("http://localhost/p/q", "b=2; d=; a=1");
    HDR("https://localhost/p/q", "e=5; b=2; d=; a=1");
    HDR("http://localhost/x/y", "c=3; d=; a=1");
    HDR("http://sub.localhost/p/", NULL);

    /* saving: curl's header, a leading dot and #HttpOnly_, expired dropped */
    fresh();
    STORED("http://www.example.com/a/b", "host=1");
    STORED("http://www.example.com/", "dom=2; Domain=example.com; Path=/");
    STORED("http://www.example.com/", "ho=3; HttpOnly; Max-Age=100");
    STORED("https://www.example.com/", "sec=4; Secure; HttpOnly; Domain=example.com");
    STORED("http://www.example.com/", "=nameless");
    STORED("http://www.example.com/", "empty=");
    set_at(J, "http://www.example.com/", "gone=1; Max-Age=5", NOW - 10);
    check_save("www.example.com\tFALSE\t/a\tFALSE\t0\thost\t1\n"
               ".example.com\tTRUE\t/\tFALSE\t0\tdom\t2\n"
               "#HttpOnly_www.example.com\tFALSE\t/\tFALSE\t1700000100\tho\t3\n"
               "#HttpOnly_.example.com\tTRUE\t/\tTRUE\t0\tsec\t4\n"
               "www.example.com\tFALSE\t/\tFALSE\t0\t\tnameless\n"
               "www.example.com\tFALSE\t/\tFALSE\t0\tempty\t\n", __LINE__);
    /* and it reads back to the same jar */
    char *s1 = cookie_save(J, NOW);
    cookie_jar *k = cookie_jar_new();
    CHECK(load(k, s1, strlen(s1), 0, NOW) == 0);
    CHECK(cookie_count(k) == 6);
    char *s2 = cookie_save(k, NOW);
    CHECK(s1 && s2 && strcmp(s1, s2) == 0);
    header_at(k, "https://www.example.com/a/b", "host=1; dom=2; ho=3; sec=4; nameless; empty=",
              NOW, __LINE__);
    free(s2);
    cookie_jar_free(k);
    /* -j: the session cookies are dropped */
    k = cookie_jar_new();
    CHECK(load(k, s1, strlen(s1), 1, NOW) == 0);
    CHECK(cookie_count(k) == 1);
    CHECK(cookie_get(k, 0, &ci) == 0 && strcmp(ci.name, "ho") == 0);
    cookie_jar_free(k);
    /* later: the persistent cookie expired, the file is read as such */
    k = cookie_jar_new();
    CHECK(load(k, s1, strlen(s1), 1, NOW + 100) == 0);
    CHECK(cookie_count(k) == 0);
    cookie_jar_free(k);
    free(s1);
    /* an empty jar saves the header only */
    fresh();
    check_save("", __LINE__);

    /* lines that are skipped */
    fresh();
    CHECK(loads("# a comment\n"
                "\n"
                "   \n"
                "x.com\tFALSE\t/\tFALSE\t0\n"                 /* 5 fields */
                "x.com\tFALSE\t/\tFALSE\tsoon\tn\tv\n"        /* bad expiry */
                "x.com\tFALSE\t/\tFALSE\t\tn\tv\n"
                "x.com\tFALSE\trel\tFALSE\t0\tn\tv\n"         /* bad path */
                "x.com\tFALSE\t\tFALSE\t0\tn\tv\n"
                "x..com\tFALSE\t/\tFALSE\t0\tn\tv\n"          /* bad domain */
                "\tFALSE\t/\tFALSE\t0\tn\tv\n"
                "x com\tFALSE\t/\tFALSE\t0\tn\tv\n"
                "x.com\tFALSE\t/\tFALSE\t0\tn\tv\x01\n"       /* control */
                "x.com\tFALSE\t/\tFALSE\t0\tn\x7f\tv\n"
                "x.com\tFALSE\t/\tFALSE\t0\tn=m\tv\n"         /* '=' in name */
                "x.com\tFALSE\t/\tFALSE\t0\tn\tv; evil=1\n"   /* ';' in value */
                "x.com\tFALSE\t/\tFALSE\t0\t\t\n"             /* empty */
                "x.com\tFALSE\t/\tFALSE\t1000\told\tv\n"      /* expired */
                "x.com\tFALSE\t/\tFALSE\t-5\told\tv\n"
                "#HttpOnly_\n"
                "#HttpOnly_x.com\tFALSE\n") == 0);
    CHECK(cookie_count(J) == 0);
    CHECK(load(J, "x.com\tFALSE\t/\tFALSE\t0\tn\0x\tv\n", 27, 0, NOW) == 0);
    CHECK(cookie_count(J) == 0);

    /* lines that are read */
    fresh();
    CHECK(loads("X.COM.\tfalse\t/\tfalse\t0\tcase\t1\r\n"       /* CRLF */
                ".y.com\ttrue\t/\tTRUE\t99999999999\tbig\t2\n" /* expiry */
                "z.com\tFALSE\tFALSE\t0\tlegacy\tnopath\n"    /* no path */
                "z.com\tFALSE\t/\tFALSE\t0\tblank\n"          /* 6 fields */
                "w.com\tFALSE\t/\tFALSE\t0\ttab\ta\tb\n"      /* tab in value */
                "[::1]\tFALSE\t/\tFALSE\t0\tsix\t6\n"
                "last.com\tFALSE\t/\tFALSE\t0\tnonl\t7") == 0); /* no newline */
    CHECK(cookie_count(J) == 7);
    HDR("http://x.com/", "case=1");
    HDR("https://a.y.com/", "big=2");
    HDR("http://a.y.com/", NULL);
    HDR("http://z.com/", "legacy=nopath; blank=");
    HDR("http://w.com/", "tab=a\tb");
    HDR("http://[::1]/", "six=6");
    HDR("http://last.com/", "nonl=7");
    CHECK(info("big", &ci) == 0 && ci.expires == 99999999999LL && !ci.host_only);
    check_save("x.com\tFALSE\t/\tFALSE\t0\tcase\t1\n"
               ".y.com\tTRUE\t/\tTRUE\t99999999999\tbig\t2\n"
               "z.com\tFALSE\t/\tFALSE\t0\tlegacy\tnopath\n"
               "z.com\tFALSE\t/\tFALSE\t0\tblank\t\n"
               "w.com\tFALSE\t/\tFALSE\t0\ttab\ta\tb\n"
               "::1\tFALSE\t/\tFALSE\t0\tsix\t6\n"
               "last.com\tFALSE\t/\tFALSE\t0\tnonl\t7\n", __LINE__);
    /* a duplicate line replaces the first */
    CHECK(loads("x.com\tFALSE\t/\tFALSE\t0\tcase\t2\n") == 0);
    CHECK(cookie_count(J) == 7);
    HDR("http://x.com/", "case=2");
    /* loading merges with what is there; the jar's caps hold */
    fresh();
    size_t cap = 200 * 64, len = 0;
    char *text = malloc(cap);
    int i;
    for (i = 0; i < 200; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "many.com\tFALSE\t/\tFALSE\t0\tn%d\tv\n", i);
    CHECK(load(J, text, len, 0, NOW) == 0);
    CHECK(cookie_count(J) == COOKIE_MAX_PER_DOMAIN);
    CHECK(info("n199", &ci) == 0 && info("n149", &ci) == -1);
    free(text);
}

/* D.23: an over-long line is skipped whole, never split into a cookie */
static void test_long_lines(void)
{
    size_t n = 10240, i;
    char *text = malloc(n + 200);
    static const char evil[] = "\nevil.com\tTRUE\t/\tFALSE\t0\tinjected\tyes";
    fresh();
    /* a 10 KB line whose tail, cut at 5000 bytes, would look like a line */
    i = (size_t)snprintf(text, n, "long.com\tFALSE\t/\tFALSE\t0\tbig\t");
    memset(text + i, 'x', n - i);
    memcpy(text + 5000, evil + 1, sizeof evil - 2);  /* no newline in it */
    memcpy(text + n - 100, "\tevil.com\tTRUE\t/\tFALSE\t0\tx\ty", 29);
    text[n] = '\n';
    memcpy(text + n + 1, "ok.com\tFALSE\t/\tFALSE\t0\tok\t1\n", 28);
    CHECK(load(J, text, n + 29, 0, NOW) == 0);
    CHECK(cookie_count(J) == 1);
    HDR("http://evil.com/", NULL);
    HDR("http://ok.com/", "ok=1");
    /* a 10 KB Set-Cookie is refused, so saving and reloading adds nothing */
    char *sc = malloc(n + 1);
    memset(sc, 'y', n);
    memcpy(sc, "big=", 4);
    sc[n] = '\0';
    REFUSED("http://long.com/", sc);
    char *s = cookie_save(J, NOW);
    cookie_jar *k = cookie_jar_new();
    CHECK(s && load(k, s, strlen(s), 0, NOW) == 0);
    CHECK(cookie_count(k) == 1);
    cookie_jar_free(k);
    free(s);
    free(sc);
    /* the largest cookie stored round-trips, and its line fits in 5000 */
    fresh();
    sc = malloc(5000);
    memset(sc, 'z', 4999);
    sc[4999] = '\0';
    memcpy(sc, "n=", 2);
    sc[4096] = '\0';
    STORED("http://long.com/", sc);
    s = cookie_save(J, NOW);
    k = cookie_jar_new();
    CHECK(s && load(k, s, strlen(s), 0, NOW) == 0);
    CHECK(cookie_count(k) == 1);
    char *s2 = cookie_save(k, NOW);
    CHECK(s && s2 && strcmp(s, s2) == 0);
    free(s2);
    cookie_jar_free(k);
    free(s);
    free(sc);
    /* a line of exactly 5000 bytes is read, 5001 is not */
    fresh();
    char *l = malloc(5100);
    i = (size_t)snprintf(l, 5100, "a.com\tFALSE\t/\tFALSE\t0\tn\t");
    memset(l + i, 'v', 5000 - i);
    l[5000] = '\n';
    CHECK(load(J, l, 5001, 0, NOW) == 0);
    CHECK(cookie_count(J) == 0);              /* name + value over 4096 */
    i = (size_t)snprintf(l, 5100, "a.com\tFALSE\t/%0900d\tFALSE\t0\tn\t", 0);
    memset(l + i, 'v', 5000 - i);
    l[5000] = '\n';
    CHECK(load(J, l, 5001, 0, NOW) == 0);
    CHECK(cookie_count(J) == 1);
    fresh();
    memset(l + i, 'v', 5001 - i);
    l[5001] = '\n';
    CHECK(load(J, l, 5002, 0, NOW) == 0);
    CHECK(cookie_count(J) == 0);
    free(l);
    free(text);
}

int main(void)
{
    test_basic();
    test_domain();
    test_psl();
    test_trailing_dot();
    test_paths();
    test_order();
    test_secure();
    test_prefixes();
    test_dates();
    test_expiry();
    test_bytes();
    test_limits();
    test_jar();
    test_long_lines();
    cookie_jar_free(J);
    return T_END();
}
