/* auth.c -- WWW-Authenticate parser (RFC 9110 11.6.1), Digest (RFC 7616)
 * and the choice of a challenge.
 *
 * The parser walks the NUL-terminated value once, bounded by its end; each
 * string it keeps is checked against AUTH_MAX_STR before it is copied.  A
 * challenge is built aside and moved to the output only when it is
 * complete, so a malformed one never leaves half a result behind. */
#include "auth.h"

#include <openssl/evp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_OK = 0, P_BAD = 1, P_NOMEM = 2 };

/* ---- characters ---- */

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* tchar (RFC 9110 5.6.2) */
static int is_tchar(unsigned char c)
{
    if (is_alpha(c) || is_digit(c)) return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return 1;
    }
    return 0;
}

/* token68 characters other than the trailing '=' (RFC 9110 11.2) */
static int is_t68(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/';
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Bytes allowed in a quoted-string, literally or after '\' (HTAB, SP,
 * VCHAR, obs-text): no control byte, no DEL. */
static int is_qtext(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static char lower(char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b)) return 0;
    return *a == *b;
}

/* Case-insensitive comparison of [p, p+n) with the string s. */
static int ieqn(const char *p, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == '\0' || lower(p[i]) != lower(s[i])) return 0;
    return s[n] == '\0';
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows(*p)) p++;
    return p;
}

static const char *span_tchar(const char *p, const char *end)
{
    while (p < end && is_tchar((unsigned char)*p)) p++;
    return p;
}

static char *dupn(const char *p, size_t n)
{
    char *s = malloc(n + 1);           /* n <= AUTH_MAX_STR: no overflow */
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- the challenge list ---- */

static void challenge_free(auth_challenge *ch)
{
    free(ch->scheme);
    free(ch->token68);
    for (size_t i = 0; i < ch->nparams && i < AUTH_MAX_PARAMS; i++) {
        free(ch->params[i].name);
        free(ch->params[i].value);
    }
    memset(ch, 0, sizeof *ch);
}

void auth_challenges_free(auth_challenge *chs, size_t n)
{
    if (!chs) return;
    for (size_t i = 0; i < n; i++) challenge_free(&chs[i]);
}

const char *auth_param_get(const auth_challenge *ch, const char *name)
{
    if (!ch || !name) return NULL;
    for (size_t i = 0; i < ch->nparams && i < AUTH_MAX_PARAMS; i++)
        if (ch->params[i].name && ieq(ch->params[i].name, name))
            return ch->params[i].value;
    return NULL;
}

/* A quoted-string at *pp (which is at the '"'), unescaped into buf
 * (AUTH_MAX_STR + 1 bytes); *pp moves past the closing quote. */
static int parse_quoted(const char **pp, const char *end, char *buf,
                        size_t *len)
{
    const char *p = *pp + 1;
    size_t n = 0;
    for (;;) {
        if (p >= end) return P_BAD;                 /* unterminated */
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') {
            if (++p >= end) return P_BAD;
            c = (unsigned char)*p;
        }
        if (!is_qtext(c)) return P_BAD;
        if (n >= AUTH_MAX_STR) return P_BAD;
        buf[n++] = (char)c;
        p++;
    }
    buf[n] = '\0';
    *len = n;
    *pp = p + 1;
    return P_OK;
}

/* One auth-param at *pp into ch. */
static int parse_param(const char **pp, const char *end, auth_challenge *ch)
{
    const char *p = *pp, *name = p;
    char val[AUTH_MAX_STR + 1];
    size_t vlen;

    p = span_tchar(p, end);
    size_t nlen = (size_t)(p - name);
    if (nlen == 0 || nlen > AUTH_MAX_STR) return P_BAD;
    p = skip_ows(p, end);
    if (p >= end || *p != '=') return P_BAD;
    p = skip_ows(p + 1, end);
    if (p < end && *p == '"') {
        int rc = parse_quoted(&p, end, val, &vlen);
        if (rc != P_OK) return rc;
    } else {
        const char *v = p;
        p = span_tchar(p, end);
        vlen = (size_t)(p - v);
        if (vlen == 0 || vlen > AUTH_MAX_STR) return P_BAD;
        memcpy(val, v, vlen);
        val[vlen] = '\0';
    }
    if (ch->nparams >= AUTH_MAX_PARAMS) return P_BAD;
    for (size_t i = 0; i < ch->nparams; i++)
        if (ieqn(name, nlen, ch->params[i].name)) return P_BAD; /* twice */
    auth_param *ap = &ch->params[ch->nparams];
    ap->name = dupn(name, nlen);
    ap->value = dupn(val, vlen);
    ch->nparams++;                     /* freed by challenge_free either way */
    if (!ap->name || !ap->value) return P_NOMEM;
    *pp = p;
    return P_OK;
}

/* If [p, end) starts with a token68 that ends its list element (OWS then
 * ',' or the end), its end (after the '='s); otherwise NULL. */
static const char *token68_end(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && is_t68((unsigned char)*q)) q++;
    if (q == p) return NULL;
    while (q < end && *q == '=') q++;
    const char *r = skip_ows(q, end);
    return (r == end || *r == ',') ? q : NULL;
}

/* One challenge at *pp (which is at a non-OWS, non-comma byte) into ch.
 * On P_OK, *pp is at the next list element (or its separators). */
static int parse_challenge(const char **pp, const char *end,
                           auth_challenge *ch)
{
    const char *p = *pp, *scheme = p;
    p = span_tchar(p, end);
    size_t slen = (size_t)(p - scheme);
    if (slen == 0 || slen > AUTH_MAX_STR) return P_BAD;
    if (!(ch->scheme = dupn(scheme, slen))) return P_NOMEM;

    const char *after = p;
    p = skip_ows(p, end);
    if (p == end || *p == ',') {               /* a scheme alone */
        *pp = p;
        return P_OK;
    }
    if (p == after) return P_BAD;              /* scheme then no SP */

    const char *t = token68_end(p, end);
    if (t) {
        size_t tlen = (size_t)(t - p);
        if (tlen > AUTH_MAX_STR) return P_BAD;
        if (!(ch->token68 = dupn(p, tlen))) return P_NOMEM;
        *pp = t;
        return P_OK;
    }

    for (;;) {
        int rc = parse_param(&p, end, ch);
        if (rc != P_OK) return rc;
        p = skip_ows(p, end);
        if (p == end) break;
        if (*p != ',') return P_BAD;
        while (p < end && (*p == ',' || is_ows(*p))) p++;  /* empty elts */
        if (p == end) break;
        /* Another param ("name =") or the next challenge's scheme? */
        const char *q = span_tchar(p, end);
        if (q == p) break;          /* neither: the caller finds it bad */
        q = skip_ows(q, end);
        if (q >= end || *q != '=') break;      /* a new challenge */
    }
    *pp = p;
    return P_OK;
}

int auth_parse_challenges(const char *v, auth_challenge *out, size_t max)
{
    if (!v || !out) return 0;
    if (max > AUTH_MAX_CHALLENGES) max = AUTH_MAX_CHALLENGES;
    const char *p = v, *end = v + strlen(v);
    size_t n = 0;
    while (n < max) {
        while (p < end && (*p == ',' || is_ows(*p))) p++;
        if (p == end) break;
        auth_challenge ch;
        memset(&ch, 0, sizeof ch);
        int rc = parse_challenge(&p, end, &ch);
        if (rc == P_NOMEM) {
            challenge_free(&ch);
            auth_challenges_free(out, n);
            return AUTH_E_NOMEM;
        }
        if (rc != P_OK) {
            challenge_free(&ch);
            break;
        }
        out[n++] = ch;
    }
    return (int)n;
}

/* ---- Digest ---- */

typedef struct digest_kind {
    const char *name;       /* canonical spelling, sent back */
    int sha256, sess;
} digest_kind;

static const digest_kind KINDS[] = {
    {"MD5", 0, 0}, {"MD5-sess", 0, 1},
    {"SHA-256", 1, 0}, {"SHA-256-sess", 1, 1},
};

/* Does the qop list (1#token, OWS around commas) hold "auth"? */
static int qop_has_auth(const char *q)
{
    const char *p = q, *end = q + strlen(q);
    while (p < end) {
        while (p < end && (*p == ',' || is_ows(*p))) p++;
        const char *s = p;
        while (p < end && *p != ',' && !is_ows(*p)) p++;
        if (ieqn(s, (size_t)(p - s), "auth")) return 1;
    }
    return 0;
}

/* The digest kind if auth_digest can answer ch, else NULL; *qop set to
 * whether qop=auth is used. */
static const digest_kind *digest_usable(const auth_challenge *ch, int *qop)
{
    if (!ch || !ch->scheme || !ieq(ch->scheme, "Digest") || ch->token68)
        return NULL;
    if (!auth_param_get(ch, "realm") || !auth_param_get(ch, "nonce"))
        return NULL;
    const char *alg = auth_param_get(ch, "algorithm");
    const digest_kind *k = NULL;
    if (!alg) k = &KINDS[0];
    else
        for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
            if (ieq(alg, KINDS[i].name)) k = &KINDS[i];
    if (!k) return NULL;
    const char *q = auth_param_get(ch, "qop");
    if (q && !qop_has_auth(q)) return NULL;
    if (k->sess && !q) return NULL;
    *qop = q != NULL;
    return k;
}

/* H(parts[0] ":" parts[1] ":" ...) in lower-case hex into hex (at least
 * 2 * EVP_MAX_MD_SIZE + 1 bytes).  0 on success. */
static int hash_hex(const EVP_MD *md, const char *const *parts, size_t n,
                    char *hex)
{
    unsigned char bin[EVP_MAX_MD_SIZE];
    unsigned int blen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return -1;
    int ok = EVP_DigestInit_ex(c, md, NULL);
    for (size_t i = 0; ok && i < n; i++) {
        if (i) ok = EVP_DigestUpdate(c, ":", 1);
        if (ok) ok = EVP_DigestUpdate(c, parts[i], strlen(parts[i]));
    }
    if (ok) ok = EVP_DigestFinal_ex(c, bin, &blen);
    EVP_MD_CTX_free(c);
    if (!ok || blen > EVP_MAX_MD_SIZE) return -1;
    static const char X[] = "0123456789abcdef";
    for (unsigned i = 0; i < blen; i++) {
        hex[2 * i] = X[bin[i] >> 4];
        hex[2 * i + 1] = X[bin[i] & 15];
    }
    hex[2 * blen] = '\0';
    return 0;
}

/* A growing string; any failure (size overflow, no memory) sticks. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int bad;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->bad) return;
    if (n > SIZE_MAX - 1 - b->len) { b->bad = 1; return; }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) { cap = need; break; }
            cap *= 2;
        }
        char *np = realloc(b->p, cap);
        if (!np) { b->bad = 1; return; }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

/* ", name=" then the value as a quoted-string ('"' and '\' escaped). */
static void sb_quoted(sbuf *b, const char *name, const char *v, int first)
{
    if (!first) sb_add(b, ", ");
    sb_add(b, name);
    sb_add(b, "=\"");
    for (const char *s = v; *s; ) {
        size_t run = strcspn(s, "\"\\");
        sb_addn(b, s, run);
        s += run;
        if (*s) {
            char esc[2] = {'\\', *s};
            sb_addn(b, esc, 2);
            s++;
        }
    }
    sb_add(b, "\"");
}

static void sb_plain(sbuf *b, const char *name, const char *v)
{
    sb_add(b, ", ");
    sb_add(b, name);
    sb_add(b, "=");
    sb_add(b, v);
}

/* No control byte (a value sent in the field must not break it). */
static int clean(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    return 1;
}

int auth_digest_r(const auth_challenge *ch, const char *user,
                  const char *pass, const char *method, const char *uri,
                  const char *cnonce, unsigned nc, char **out)
{
    int qop = 0;
    *out = NULL;
    const digest_kind *k = digest_usable(ch, &qop);
    if (!k || !user || !pass || !method || !uri || !*method) return 0;
    if (qop && (!cnonce || !*cnonce)) return 0;
    const char *realm = auth_param_get(ch, "realm");
    const char *nonce = auth_param_get(ch, "nonce");
    const char *opaque = auth_param_get(ch, "opaque");
    if (!clean(user) || !clean(realm) || !clean(nonce) || !clean(uri) ||
        !clean(method) || (opaque && !clean(opaque)) ||
        (qop && !clean(cnonce)))
        return 0;
    for (const char *m = method; *m; m++)
        if (!is_tchar((unsigned char)*m)) return 0;

    const EVP_MD *md = k->sha256 ? EVP_sha256() : EVP_md5();
    if (!md) return 0; /* MD5 refused by the OpenSSL configuration */
    char ha1[2 * EVP_MAX_MD_SIZE + 1], ha2[2 * EVP_MAX_MD_SIZE + 1];
    char resp[2 * EVP_MAX_MD_SIZE + 1], ncs[16];
    snprintf(ncs, sizeof ncs, "%08x", nc);

    const char *a1[] = {user, realm, pass};
    if (hash_hex(md, a1, 3, ha1) != 0) return AUTH_E_NOMEM;
    if (k->sess) {
        const char *s1[] = {ha1, nonce, cnonce};
        char tmp[sizeof ha1];
        if (hash_hex(md, s1, 3, tmp) != 0) return AUTH_E_NOMEM;
        memcpy(ha1, tmp, sizeof tmp);
    }
    const char *a2[] = {method, uri};
    if (hash_hex(md, a2, 2, ha2) != 0) return AUTH_E_NOMEM;
    if (qop) {
        const char *r[] = {ha1, nonce, ncs, cnonce, "auth", ha2};
        if (hash_hex(md, r, 6, resp) != 0) return AUTH_E_NOMEM;
    } else {
        const char *r[] = {ha1, nonce, ha2};
        if (hash_hex(md, r, 3, resp) != 0) return AUTH_E_NOMEM;
    }

    sbuf b = {0};
    sb_add(&b, "Digest ");
    sb_quoted(&b, "username", user, 1);
    sb_quoted(&b, "realm", realm, 0);
    sb_quoted(&b, "nonce", nonce, 0);
    sb_quoted(&b, "uri", uri, 0);
    if (auth_param_get(ch, "algorithm")) sb_plain(&b, "algorithm", k->name);
    sb_quoted(&b, "response", resp, 0);
    if (qop) {
        sb_plain(&b, "qop", "auth");
        sb_plain(&b, "nc", ncs);
        sb_quoted(&b, "cnonce", cnonce, 0);
    }
    if (opaque) sb_quoted(&b, "opaque", opaque, 0);
    if (auth_param_get(ch, "userhash")) sb_plain(&b, "userhash", "false");
    if (b.bad) {
        free(b.p);
        return AUTH_E_NOMEM;
    }
    *out = b.p;
    return 0;
}

char *auth_digest(const auth_challenge *ch, const char *user,
                  const char *pass, const char *method, const char *uri,
                  const char *cnonce, unsigned nc)
{
    char *out;
    auth_digest_r(ch, user, pass, method, uri, cnonce, nc, &out);
    return out;
}

int auth_pick(const auth_challenge *chs, size_t n, int want)
{
    int best = -1, best_rank = 0;
    if (!chs) return -1;
    for (size_t i = 0; i < n && i <= (size_t)INT_MAX; i++) {
        const auth_challenge *ch = &chs[i];
        int rank = 0, qop;
        if (!ch->scheme) continue;
        if ((want & AUTH_BASIC) && ieq(ch->scheme, "Basic")) rank = 1;
        else if (want & AUTH_DIGEST) {
            const digest_kind *k = digest_usable(ch, &qop);
            if (k) rank = k->sha256 ? 3 : 2;
        }
        if (rank > best_rank) {
            best_rank = rank;
            best = (int)i;
        }
    }
    return best;
}
