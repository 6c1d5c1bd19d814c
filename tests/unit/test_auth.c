/* test_auth.c -- WWW-Authenticate parser, Digest and the choice of a
 * challenge (src/auth.c).  The Digest vectors are those printed in
 * RFC 7616 3.9.1 (MD5 and SHA-256), RFC 2617 3.5 and RFC 2069 2.4; the
 * -sess and escaping values were computed independently (Python
 * hashlib) from the formulas of RFC 7616 3.4. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "t.h"

static auth_challenge C[AUTH_MAX_CHALLENGES];
static int N;

static int parse(const char *s)
{
    auth_challenges_free(C, N > 0 ? (size_t)N : 0);
    N = auth_parse_challenges(s, C, AUTH_MAX_CHALLENGES);
    return N;
}

static const char *P(int i, const char *name)
{
    if (i < 0 || i >= N) return NULL;
    return auth_param_get(&C[i], name);
}

#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_CH(alg) "Digest realm=\"http-auth@example.org\", " \
    "qop=\"auth, auth-int\", algorithm=" alg ", nonce=\"" RFC_NONCE "\", " \
    "opaque=\"" RFC_OPAQUE "\""
#define RFC_ANSWER(alg, resp) "Digest username=\"Mufasa\", " \
    "realm=\"http-auth@example.org\", nonce=\"" RFC_NONCE "\", " \
    "uri=\"/dir/index.html\", algorithm=" alg ", response=\"" resp "\", " \
    "qop=auth, nc=00000001, cnonce=\"" RFC_CNONCE "\", " \
    "opaque=\"" RFC_OPAQUE "\""

static char *digest(int i, const char *user, const char *pass,
                    const char *method, const char *uri, const char *cn,
                    unsigned nc)
{
    if (i < 0 || i >= N) return NULL;
    return auth_digest(&C[i], user, pass, method, uri, cn, nc);
}

#define CHECK_DIGEST(i, user, pass, method, uri, cn, nc, want) do {         \
        char *d_ = digest(i, user, pass, method, uri, cn, nc);              \
        CHECK_STR(d_, want);                                                \
        free(d_);                                                           \
    } while (0)

#define CHECK_NO_DIGEST(i, user, pass, method, uri, cn, nc) do {            \
        char *d_ = digest(i, user, pass, method, uri, cn, nc);              \
        CHECK_MSG(d_ == NULL, "got %s", d_);                                \
        free(d_);                                                           \
    } while (0)

static void test_rfc7616(void)
{
    /* The two challenges of 3.9.1, as two fields and as one. */
    CHECK(parse(RFC_CH("SHA-256") ", " RFC_CH("MD5")) == 2);
    CHECK_STR(C[0].scheme, "Digest");
    CHECK(C[0].nparams == 5);
    CHECK_STR(P(0, "qop"), "auth, auth-int");
    CHECK_STR(P(0, "algorithm"), "SHA-256");
    CHECK_STR(P(1, "algorithm"), "MD5");
    CHECK_STR(P(1, "nonce"), RFC_NONCE);
    CHECK(auth_pick(C, 2, AUTH_DIGEST | AUTH_BASIC) == 0);
    CHECK_DIGEST(0, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 RFC_CNONCE, 1,
                 RFC_ANSWER("SHA-256", "753927fa0e85d155564e2e272a28d180"
                                       "2ca10daf4496794697cf8db5856cb6c1"));
    CHECK_DIGEST(1, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 RFC_CNONCE, 1,
                 RFC_ANSWER("MD5", "8ca523f5e9506fed4657c9700eebdbec"));

    CHECK(parse(RFC_CH("MD5")) == 1);
    CHECK_DIGEST(0, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 RFC_CNONCE, 1,
                 RFC_ANSWER("MD5", "8ca523f5e9506fed4657c9700eebdbec"));
    /* The password is part of the hash: "Of" (RFC 2617) is not "of". */
    char *d = digest(0, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                     RFC_CNONCE, 1);
    CHECK(d && !strstr(d, "8ca523f5e9506fed4657c9700eebdbec"));
    free(d);

    /* -sess (computed from RFC 7616 3.4.2), algorithm case-insensitive. */
    CHECK(parse(RFC_CH("md5-SESS")) == 1);
    CHECK_DIGEST(0, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 RFC_CNONCE, 1,
                 RFC_ANSWER("MD5-sess", "e783283f46242139c486a698fec7211d"));
    CHECK(parse(RFC_CH("SHA-256-sess")) == 1);
    CHECK_DIGEST(0, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 RFC_CNONCE, 1,
                 RFC_ANSWER("SHA-256-sess",
                            "2fd51b3a77ad75bad6afad6003e818d7"
                            "67133c46d9e2749e7f5232ae1ea3efd7"));
}

static void test_older_rfcs(void)
{
    /* RFC 2617 3.5: no algorithm (MD5, not echoed), qop=auth. */
    CHECK(parse("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") == 1);
    CHECK_DIGEST(0, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                 "0a4f113b", 1,
                 "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                 "uri=\"/dir/index.html\", "
                 "response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
                 "nc=00000001, cnonce=\"0a4f113b\", "
                 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    /* RFC 2069 2.4: no qop, so no nc and no cnonce (cnonce not needed). */
    CHECK(parse("Digest realm=\"testrealm@host.com\", "
                "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") == 1);
    CHECK_DIGEST(0, "Mufasa", "CircleOfLife", "GET", "/dir/index.html",
                 NULL, 1,
                 "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                 "uri=\"/dir/index.html\", "
                 "response=\"1949323746fe6a43ef61f9606e7febea\", "
                 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
}

static void test_digest_details(void)
{
    /* Escaped values are hashed unescaped and sent escaped again; nc is 8
     * lower-case hex digits; userhash answered with false. */
    CHECK(parse("Digest realm=\"re\\\"alm\", nonce=\"n\\\"1\", qop=auth, "
                "userhash=true") == 1);
    CHECK_STR(P(0, "realm"), "re\"alm");
    CHECK_DIGEST(0, "a\"b\\c", "pw", "POST", "/x?y=\"1\"", "c", 42,
                 "Digest username=\"a\\\"b\\\\c\", realm=\"re\\\"alm\", "
                 "nonce=\"n\\\"1\", uri=\"/x?y=\\\"1\\\"\", "
                 "response=\"0fb9f36704333192d128418685b46d3d\", qop=auth, "
                 "nc=0000002a, cnonce=\"c\", userhash=false");
    char *d = digest(0, "u", "p", "GET", "/", "c", 0xffffffffu);
    CHECK(d && strstr(d, "nc=ffffffff,"));
    free(d);
    d = digest(0, "u", "p", "GET", "/", "c", 0x1a2bu);
    CHECK(d && strstr(d, "nc=00001a2b,"));
    free(d);

    /* No opaque in the challenge: none sent.  Empty password is fine. */
    CHECK(parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"") == 1);
    d = digest(0, "u", "", "GET", "/", "c", 1);
    CHECK(d && !strstr(d, "opaque") && !strstr(d, "algorithm") &&
          !strstr(d, "userhash"));
    free(d);

    /* Refusals. */
    CHECK_NO_DIGEST(0, "u", "p", "GET", "/", NULL, 1);     /* qop, no cnonce */
    CHECK_NO_DIGEST(0, "u", "p", "GET", "/", "", 1);
    CHECK_NO_DIGEST(0, "u\r\nX: y", "p", "GET", "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", "GET", "/\n", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", "GE T", "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", "", "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", "GET", "/", "c\"\x01", 1);
    CHECK_NO_DIGEST(0, NULL, "p", "GET", "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", NULL, "GET", "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", NULL, "/", "c", 1);
    CHECK_NO_DIGEST(0, "u", "p", "GET", NULL, "c", 1);
    CHECK(auth_digest(NULL, "u", "p", "GET", "/", "c", 1) == NULL);

    const char *bad[] = {
        "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
        "Digest realm=\"r\", nonce=\"n\", algorithm=MD6",
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
        "Digest realm=\"r\", nonce=\"n\", qop=\"authx, auth-int\"",
        "Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess",   /* no qop */
        "Digest realm=\"r\", qop=auth",                          /* no nonce */
        "Digest nonce=\"n\", qop=auth",                          /* no realm */
        "Basic realm=\"r\", nonce=\"n\"",
        "Digest abcdef==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(parse(bad[i]) == 1, "%s", bad[i]);
        CHECK_NO_DIGEST(0, "u", "p", "GET", "/", "c", 1);
        CHECK_MSG(auth_pick(C, 1, AUTH_DIGEST) == -1, "%s", bad[i]);
    }
    /* qop list with odd spacing still offers auth; scheme any case. */
    CHECK(parse("dIgEsT realm=r, nonce=n, qop=\" auth-int ,auth \"") == 1);
    d = digest(0, "u", "p", "GET", "/", "c", 1);
    CHECK(d && strstr(d, "qop=auth, nc=00000001"));
    free(d);
}

static void test_parse_lists(void)
{
    /* RFC 9110 11.6.1's example: two challenges, quoted-pairs. */
    CHECK(parse("Newauth realm=\"apps\", type=1, "
                "title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"") == 2);
    CHECK_STR(C[0].scheme, "Newauth");
    CHECK(C[0].nparams == 3);
    CHECK_STR(P(0, "realm"), "apps");
    CHECK_STR(P(0, "TYPE"), "1");
    CHECK_STR(P(0, "title"), "Login to \"apps\"");
    CHECK_STR(C[1].scheme, "Basic");
    CHECK_STR(P(1, "realm"), "simple");
    CHECK(C[1].token68 == NULL);

    /* Commas inside quotes; BWS around '='; empty list elements. */
    CHECK(parse(" , ,Digest qop=\"auth,auth-int\" , realm = \"a, b\" ,,"
                "nonce= x ,,, Basic realm=\"z\" ,") == 2);
    CHECK_STR(P(0, "qop"), "auth,auth-int");
    CHECK_STR(P(0, "realm"), "a, b");
    CHECK_STR(P(0, "nonce"), "x");
    CHECK_STR(P(1, "realm"), "z");

    /* token68, with and without '=' padding, then more challenges. */
    CHECK(parse("Negotiate abc+/D-._~ef==, Bearer xyz, Basic realm=x, "
                "Foo a=") == 4);
    CHECK_STR(C[0].token68, "abc+/D-._~ef==");
    CHECK(C[0].nparams == 0);
    CHECK_STR(C[1].token68, "xyz");
    CHECK(C[2].token68 == NULL);
    CHECK_STR(P(2, "realm"), "x");
    CHECK_STR(C[3].token68, "a=");
    CHECK(parse("Bearer") == 1 && C[0].token68 == NULL && C[0].nparams == 0);
    CHECK(parse("Basic, Bearer\t, Digest") == 3);
    CHECK_STR(C[2].scheme, "Digest");

    /* Empty quoted value, obs-text, tab in quotes. */
    CHECK(parse("X a=\"\", b=\"\xc3\xa9\t\"") == 1);
    CHECK_STR(P(0, "a"), "");
    CHECK_STR(P(0, "b"), "\xc3\xa9\t");
    CHECK(P(0, "c") == NULL);

    /* NULL, empty, separators only. */
    CHECK(auth_parse_challenges(NULL, C, 4) == 0);
    CHECK(parse("") == 0);
    CHECK(parse(" ,\t, ") == 0);
}

static void test_parse_garbage(void)
{
    /* Each is refused, with the good challenges before it kept. */
    struct { const char *s; int n; } g[] = {
        {"\"", 0},
        {"=", 0},
        {"Basic realm=\"unterminated", 0},
        {"Basic realm=\"a\\", 0},                   /* quoted-pair at end */
        {"Basic realm=\"a\\\x01\"", 0},             /* escaped control */
        {"Basic realm=\"a\x01\"", 0},
        {"Basic realm=\"a\x7f\"", 0},
        {"Basic realm=\"a\rb\"", 0},
        {"Basic realm=a\nb", 0},
        {"Basic=abc", 0},                           /* no SP after scheme */
        {"Basic realm=", 1},                        /* token68 "realm=" */
        {"Basic realm=\"x\" junk", 0},
        {"Basic realm=\"x\"junk", 0},
        {"Digest realm=\"a\", realm=\"b\"", 0},     /* param given twice */
        {"Digest realm=\"a\", REALM=b", 0},
        {"Digest nonce=abc==", 0},                  /* must be quoted */
        {"Digest a=b c=d", 0},
        {"Digest a=\"b\", =c", 1},                 /* Digest kept */
        {"Basic realm=x, Digest realm=\"a\" nonce=\"b\"", 1},
        {"Basic realm=x, Digest realm=\"a\", @", 2},
        {"Basic realm=x, \"Digest\"", 1},
        {"Negotiate abc==, realm=x", 1},
        {"Negotiate a b", 0},
        {"Basic \x80", 0},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        CHECK_MSG(parse(g[i].s) == g[i].n, "\"%s\": %d", g[i].s, N);
    CHECK(parse("Basic realm=\"x\", Digest realm=\"a\" nonce=\"b\"") == 1 &&
          strcmp(C[0].scheme, "Basic") == 0);
}

static void test_parse_limits(void)
{
    char s[8192];
    /* 16 params kept, 17 refuse the challenge. */
    strcpy(s, "X p0=0");
    for (int i = 1; i < AUTH_MAX_PARAMS; i++)
        sprintf(s + strlen(s), ", p%d=%d", i, i);
    CHECK(parse(s) == 1 && C[0].nparams == AUTH_MAX_PARAMS);
    CHECK_STR(P(0, "p15"), "15");
    strcat(s, ", p16=16");
    CHECK(parse(s) == 0);

    /* 16 challenges kept; the 17th is not read. */
    s[0] = '\0';
    for (int i = 0; i < AUTH_MAX_CHALLENGES + 1; i++)
        sprintf(s + strlen(s), "%sS%d r=%d", i ? ", " : "", i, i);
    CHECK(parse(s) == AUTH_MAX_CHALLENGES);
    CHECK_STR(C[15].scheme, "S15");
    auth_challenges_free(C, (size_t)N);
    N = auth_parse_challenges(s, C, 3);
    CHECK(N == 3);
    CHECK(auth_parse_challenges(s, C + 3, 0) == 0);

    /* Strings up to 1024 bytes (after unescaping), not one more. */
    char big[AUTH_MAX_STR + 2];
    memset(big, 'a', sizeof big);
    big[AUTH_MAX_STR] = '\0';
    snprintf(s, sizeof s, "X v=\"%s\"", big);
    CHECK(parse(s) == 1 && strlen(P(0, "v")) == AUTH_MAX_STR);
    snprintf(s, sizeof s, "X v=%s", big);
    CHECK(parse(s) == 1);
    snprintf(s, sizeof s, "X %s", big);
    CHECK(parse(s) == 1 && strlen(C[0].token68) == AUTH_MAX_STR);
    snprintf(s, sizeof s, "%s v=1", big);
    CHECK(parse(s) == 1);
    /* 1024 escaped bytes are 2048 in the field: still fine. */
    strcpy(s, "X v=\"");
    for (int i = 0; i < AUTH_MAX_STR; i++) strcat(s, "\\a");
    strcat(s, "\"");
    CHECK(parse(s) == 1 && strlen(P(0, "v")) == AUTH_MAX_STR);
    big[AUTH_MAX_STR] = 'a';
    big[AUTH_MAX_STR + 1] = '\0';
    const char *fmt[] = {"X v=\"%s\"", "X v=%s", "X %s", "%s v=1",
                         "X %s=1", "Basic r=1, X v=\"%s\""};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        snprintf(s, sizeof s, fmt[i], big);
        CHECK_MSG(parse(s) == (i == 5 ? 1 : 0), "format %zu", i);
    }

    /* A long field: nothing special. */
    char *huge = malloc(1 << 20);
    memset(huge, ' ', 1 << 20);
    memcpy(huge + (1 << 19), "Basic realm=x", 13);
    huge[(1 << 20) - 1] = '\0';
    CHECK(parse(huge) == 1);
    free(huge);
}

static void test_pick(void)
{
    CHECK(parse("Basic realm=b, Digest realm=r, nonce=n, "
                "Digest realm=r, nonce=n, algorithm=SHA-256, qop=auth, "
                "Digest realm=r, nonce=n, algorithm=MD5") == 4);
    CHECK(auth_pick(C, 4, AUTH_BASIC | AUTH_DIGEST) == 2);
    CHECK(auth_pick(C, 4, AUTH_DIGEST) == 2);
    CHECK(auth_pick(C, 2, AUTH_DIGEST) == 1);
    CHECK(auth_pick(C, 4, AUTH_BASIC) == 0);
    CHECK(auth_pick(C, 4, 0) == -1);
    CHECK(auth_pick(C, 0, AUTH_BASIC) == -1);
    CHECK(auth_pick(NULL, 4, AUTH_BASIC) == -1);
    /* Ties: the first.  Unsupported Digest challenges are skipped. */
    CHECK(parse("Digest realm=r, nonce=n, algorithm=SHA-512-256, "
                "Digest realm=r, nonce=n, qop=auth-int, algorithm=SHA-256, "
                "Digest realm=r, nonce=n, algorithm=MD5-sess, qop=auth, "
                "Digest realm=r, nonce=n, BASIC realm=x") == 5);
    CHECK(auth_pick(C, 5, AUTH_BASIC | AUTH_DIGEST) == 2);
    CHECK(auth_pick(C, 5, AUTH_BASIC) == 4);
    CHECK(parse("Negotiate abc, NTLM, Bearer realm=x") == 3);
    CHECK(auth_pick(C, 3, AUTH_BASIC | AUTH_DIGEST) == -1);
    CHECK(parse("Digest realm=r, nonce=n, algorithm=SHA-256-sess, qop=auth, "
                "Digest realm=r, nonce=n, algorithm=SHA-256") == 2);
    CHECK(auth_pick(C, 2, AUTH_DIGEST) == 0);
}

int main(void)
{
    test_rfc7616();
    test_older_rfcs();
    test_digest_details();
    test_parse_lists();
    test_parse_garbage();
    test_parse_limits();
    test_pick();
    auth_challenges_free(C, N > 0 ? (size_t)N : 0);
    return T_END();
}
