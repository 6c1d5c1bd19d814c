/* FUZZ_SRC: src/auth.c */
/* FUZZ_LIBS: -lcrypto */
/* fuzz_auth.c -- libFuzzer target for src/auth.c.
 * The input is "FIELD[\nUSER]": FIELD (cut at a NUL) is parsed as a
 * WWW-Authenticate value and every result is checked against the limits
 * and the grammar; then each challenge is answered with auth_digest (as
 * USER, default "Mufasa"), which must succeed exactly for the challenges
 * auth_pick accepts as Digest (given a cnonce), and whose answer must be a
 * single clean field value that parses back to the same username, realm
 * and nonce. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static int tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int ctl_free(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    return 1;
}

static void check_token(const char *s)
{
    if (!s) abort();
    size_t n = strlen(s);
    if (n == 0 || n > AUTH_MAX_STR) abort();
    for (size_t i = 0; i < n; i++)
        if (!tchar((unsigned char)s[i])) abort();
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return 0;
    }
    return *a == *b;
}

static void check_challenge(const auth_challenge *ch)
{
    check_token(ch->scheme);
    if (ch->nparams > AUTH_MAX_PARAMS) abort();
    if (ch->token68 && ch->nparams) abort();
    if (ch->token68) {
        size_t n = strlen(ch->token68);
        if (n == 0 || n > AUTH_MAX_STR) abort();
    }
    for (size_t i = 0; i < ch->nparams; i++) {
        check_token(ch->params[i].name);
        const char *v = ch->params[i].value;
        if (!v || strlen(v) > AUTH_MAX_STR || !ctl_free(v)) abort();
        for (size_t k = 0; k < i; k++)
            if (ieq(ch->params[k].name, ch->params[i].name)) abort();
        if (auth_param_get(ch, ch->params[i].name) != v) abort();
    }
}

static void check_answer(const char *d, const char *user,
                         const auth_challenge *ch)
{
    if (strncmp(d, "Digest ", 7) != 0 || !ctl_free(d)) abort();
    if (strlen(user) > AUTH_MAX_STR) return;
    auth_challenge back[AUTH_MAX_CHALLENGES];
    int n = auth_parse_challenges(d, back, AUTH_MAX_CHALLENGES);
    if (n == AUTH_E_NOMEM) return;
    if (n != 1) abort();
    const char *u = auth_param_get(&back[0], "username");
    const char *r = auth_param_get(&back[0], "realm");
    const char *no = auth_param_get(&back[0], "nonce");
    const char *resp = auth_param_get(&back[0], "response");
    if (!u || strcmp(u, user) != 0) abort();
    if (!r || strcmp(r, auth_param_get(ch, "realm")) != 0) abort();
    if (!no || strcmp(no, auth_param_get(ch, "nonce")) != 0) abort();
    if (!resp || (strlen(resp) != 32 && strlen(resp) != 64)) abort();
    auth_challenges_free(back, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *user = "Mufasa";
    char *nl = memchr(s, '\n', size);
    if (nl) {
        *nl = '\0';
        user = nl + 1;
    }

    auth_challenge ch[AUTH_MAX_CHALLENGES + 1];
    memset(ch, 0, sizeof ch);
    int n = auth_parse_challenges(s, ch, AUTH_MAX_CHALLENGES + 1);
    if (n == AUTH_E_NOMEM) { free(s); return 0; }
    if (n < 0 || n > AUTH_MAX_CHALLENGES) abort();
    if (ch[AUTH_MAX_CHALLENGES].scheme) abort();    /* never past 16 */

    for (int i = 0; i < n; i++) {
        check_challenge(&ch[i]);
        int usable = auth_pick(&ch[i], 1, AUTH_DIGEST) == 0;
        char *d = auth_digest(&ch[i], user, "Circle of Life", "GET",
                              "/dir/index.html", "0a4f113b", (unsigned)i);
        if (d) {
            if (!usable) abort();
            check_answer(d, user, &ch[i]);
        } else if (usable && ctl_free(user)) {
            abort();    /* usable and clean: must be answered (realm, nonce
                         * and opaque come from the parser: no CTL) */
        }
        free(d);
        d = auth_digest(&ch[i], user, "p", "GET", "/", NULL, 1);
        if (d && auth_param_get(&ch[i], "qop")) abort();  /* needs cnonce */
        free(d);
    }
    int best = auth_pick(ch, (size_t)n, AUTH_BASIC | AUTH_DIGEST);
    if (best < -1 || best >= n) abort();
    if (n > 0 && best == -1) {
        for (int i = 0; i < n; i++)
            if (ieq(ch[i].scheme, "Basic")) abort();
    }
    auth_challenges_free(ch, (size_t)n);
    free(s);
    return 0;
}
