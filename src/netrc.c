/* netrc.c -- .netrc lookup over a byte range (see netrc.h for the rules).
 *
 * One pass of a tokenizer bounded by the length given; each token is
 * unescaped into a fixed buffer after a length check.  Only the entry
 * being read keeps a login and a password, and they are reset at every
 * machine or default keyword, so nothing ever carries over from one entry
 * to the next. */
#include "netrc.h"

#include <stdlib.h>
#include <string.h>

typedef struct lex {
    const char *p, *end;
    char tok[NETRC_MAX_TOKEN + 1];
    size_t tlen;
} lex;

/* The entry being read; with a login hint, the first login-less machine
 * entry for the host; and the first default entry that counted. */
typedef struct state {
    lex lx;
    enum { E_NONE, E_MACHINE, E_DEFAULT } kind;
    int host_ok;                         /* the entry is for our host */
    int has_login, has_pass;
    char login[NETRC_MAX_TOKEN + 1];
    char pass[NETRC_MAX_TOKEN + 1];
    int gen_found;
    char *gen_pass;
    int def_found;
    char *def_login, *def_pass;
} state;

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
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

/* Move past the end of the current line. */
static void skip_line(lex *lx)
{
    const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
    lx->p = nl ? nl + 1 : lx->end;
}

/* After "macdef": the rest of its line, then lines up to and including
 * the first one that is empty or holds only spaces, tabs or CR. */
static void skip_macdef(lex *lx)
{
    skip_line(lx);
    while (lx->p < lx->end) {
        const char *q = lx->p;
        while (q < lx->end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q == lx->end || *q == '\n') {
            lx->p = q < lx->end ? q + 1 : q;
            return;
        }
        skip_line(lx);
    }
}

/* The next token into lx->tok: 1, or 0 at the end, or -1 on a syntax
 * error.  keyword: a keyword is expected here, so '#' starts a comment. */
static int next_token(lex *lx, int keyword)
{
    const char *p, *end = lx->end;
    size_t n = 0;
    for (;;) {
        while (lx->p < end && is_sep(*lx->p)) lx->p++;
        if (lx->p == end) return 0;
        if (*lx->p == '\0') return -1;
        if (keyword && *lx->p == '#') {
            skip_line(lx);
            continue;
        }
        break;
    }
    p = lx->p;
    if (*p == '"') {
        p++;
        for (;;) {
            if (p >= end) return -1;            /* unterminated */
            char c = *p++;
            if (c == '"') break;
            if (c == '\n' || c == '\0') return -1;
            if (c == '\\') {
                if (p >= end) return -1;
                c = *p++;
                switch (c) {
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case '\n': case '\0': return -1;
                default: break;                 /* \" \\ and the rest */
                }
            }
            if (n >= NETRC_MAX_TOKEN) return -1;
            lx->tok[n++] = c;
        }
        if (p < end && !is_sep(*p)) return -1;  /* "abc"def */
    } else {
        while (p < end && !is_sep(*p)) {
            if (*p == '\0' || n >= NETRC_MAX_TOKEN) return -1;
            lx->tok[n++] = *p++;
        }
    }
    lx->tok[n] = '\0';
    lx->tlen = n;
    lx->p = p;
    return 1;
}

static char *dup_if(int has, const char *s, int *nomem)
{
    if (!has) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) *nomem = 1;
    else memcpy(d, s, n + 1);
    return d;
}

/* Does the entry just read count for login_hint? */
static int counts(const state *st, const char *hint)
{
    return !hint || !st->has_login || strcmp(st->login, hint) == 0;
}

/* The entry being read ends.  Returns NETRC_FOUND (with the results set)
 * when it is the machine entry to use, NETRC_E_NOMEM, or NETRC_NOT_FOUND
 * to go on.  With a hint, a login-less machine entry is kept aside: one
 * with the very login, later in the file, is preferred to it. */
static int end_entry(state *st, const char *hint, char **login,
                     char **password)
{
    int nomem = 0;
    if (st->kind == E_MACHINE && st->host_ok && counts(st, hint)) {
        if (hint && !st->has_login) {
            if (!st->gen_found) {
                st->gen_found = 1;
                st->gen_pass = dup_if(st->has_pass, st->pass, &nomem);
            }
            return nomem ? NETRC_E_NOMEM : NETRC_NOT_FOUND;
        }
        *login = dup_if(st->has_login, st->login, &nomem);
        *password = dup_if(st->has_pass, st->pass, &nomem);
        return nomem ? NETRC_E_NOMEM : NETRC_FOUND;
    }
    if (st->kind == E_DEFAULT && !st->def_found && counts(st, hint)) {
        st->def_found = 1;
        st->def_login = dup_if(st->has_login, st->login, &nomem);
        st->def_pass = dup_if(st->has_pass, st->pass, &nomem);
        if (nomem) return NETRC_E_NOMEM;
    }
    return NETRC_NOT_FOUND;
}

static void begin_entry(state *st, int kind, int host_ok)
{
    st->kind = kind;
    st->host_ok = host_ok;
    st->has_login = st->has_pass = 0;
    st->login[0] = st->pass[0] = '\0';
}

static int scan(state *st, const char *host, const char *hint,
                char **login, char **password)
{
    lex *lx = &st->lx;
    for (;;) {
        int r = next_token(lx, 1), rc;
        if (r < 0) return NETRC_E_SYNTAX;
        if (r == 0) break;
        const char *t = lx->tok;               /* quoted or not, as curl */
        if (ieq(t, "machine") || ieq(t, "default")) {
            rc = end_entry(st, hint, login, password);
            if (rc != NETRC_NOT_FOUND) return rc;
            if (ieq(t, "default")) {
                begin_entry(st, E_DEFAULT, 1);
            } else {
                if (next_token(lx, 0) != 1) return NETRC_E_SYNTAX;
                begin_entry(st, E_MACHINE, ieq(lx->tok, host));
            }
        } else if (ieq(t, "login") || ieq(t, "password")) {
            int is_login = ieq(t, "login");
            if (next_token(lx, 0) != 1) return NETRC_E_SYNTAX;
            if (st->kind == E_NONE || !st->host_ok) continue;
            memcpy(is_login ? st->login : st->pass, lx->tok, lx->tlen + 1);
            if (is_login) st->has_login = 1;
            else st->has_pass = 1;
        } else if (ieq(t, "account")) {
            if (next_token(lx, 0) != 1) return NETRC_E_SYNTAX;
        } else if (ieq(t, "macdef")) {
            skip_macdef(lx);
        }                                       /* other words: ignored */
    }
    int rc = end_entry(st, hint, login, password);
    if (rc != NETRC_NOT_FOUND) return rc;
    if (st->gen_found) {
        *password = st->gen_pass;
        st->gen_pass = NULL;
        return NETRC_FOUND;
    }
    if (st->def_found) {
        *login = st->def_login;
        *password = st->def_pass;
        st->def_login = st->def_pass = NULL;
        return NETRC_FOUND;
    }
    return NETRC_NOT_FOUND;
}

int netrc_lookup(const char *text, size_t len, const char *host,
                 const char *login_hint, char **login, char **password)
{
    if (login) *login = NULL;
    if (password) *password = NULL;
    if (!login || !password || !host || (!text && len)) return NETRC_NOT_FOUND;
    if (!text) text = "";
    state *st = calloc(1, sizeof *st);
    if (!st) return NETRC_E_NOMEM;
    st->lx.p = text;
    st->lx.end = text + len;
    st->kind = E_NONE;
    int rc = scan(st, host, login_hint, login, password);
    if (rc != NETRC_FOUND) {
        free(*login);
        free(*password);
        *login = *password = NULL;
    }
    free(st->gen_pass);
    free(st->def_login);
    free(st->def_pass);
    free(st);
    return rc;
}
