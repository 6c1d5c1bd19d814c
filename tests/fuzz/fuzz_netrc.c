/* FUZZ_SRC: src/netrc.c */
/* fuzz_netrc.c -- libFuzzer target for src/netrc.c.
 * The input is "HOST\nHINT\nTEXT" (an empty HINT line: no login hint);
 * with fewer than two newlines, the whole input is the .netrc text and
 * the host is "a".  TEXT is looked up as given (libFuzzer's buffer has
 * exactly `size` bytes, so a read past the length is caught by ASan):
 * the result must be one of the documented codes, nothing may be returned
 * on failure, the strings must be within the token limit, a login must
 * equal the hint when there is one, a password must come from the text,
 * and the same lookup must give the same answer.  Then SECURITY.md A.5:
 * with "default login Q" (no password) added after the text, the answer
 * is either the old one (a machine entry counted) or exactly Q without a
 * password -- never a password from some other entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netrc.h"

/* A line of at most 255 bytes from [*p, end) into buf (cut at NUL). */
static int take_line(const char **p, const char *end, char *buf)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl) return 0;
    size_t n = (size_t)(nl - *p);
    if (n > 255) n = 255;
    memcpy(buf, *p, n);
    buf[n] = '\0';
    *p = nl + 1;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data, *end = t + size, *p = t;
    char host[256] = "a", hint[256] = "";
    const char *text = t;
    if (take_line(&p, end, host) && take_line(&p, end, hint)) text = p;
    else strcpy(host, "a"), hint[0] = '\0';
    size_t len = (size_t)(end - text);
    const char *h = hint[0] ? hint : NULL;

    char *login = (char *)"x", *pass = (char *)"y";
    int rc = netrc_lookup(text, len, host, h, &login, &pass);
    if (rc != NETRC_FOUND && rc != NETRC_NOT_FOUND && rc != NETRC_E_SYNTAX &&
        rc != NETRC_E_NOMEM)
        abort();
    if (rc != NETRC_FOUND && (login || pass)) abort();
    if (login && (strlen(login) > NETRC_MAX_TOKEN)) abort();
    if (pass && (strlen(pass) > NETRC_MAX_TOKEN)) abort();
    if (h && login && strcmp(login, h) != 0) abort();

    /* Deterministic: the same answer again. */
    char *l2 = NULL, *p2 = NULL;
    int rc2 = netrc_lookup(text, len, host, h, &l2, &p2);
    if (rc2 != rc) abort();
    if ((login == NULL) != (l2 == NULL) || (pass == NULL) != (p2 == NULL))
        abort();
    if (login && strcmp(login, l2) != 0) abort();
    if (pass && strcmp(pass, p2) != 0) abort();
    free(l2);
    free(p2);

    /* A password is never made up: its bytes appear in the text when it
     * holds no escape-made byte (CR, LF, TAB) and the text no quote. */
    if (pass && *pass && !memchr(text, '"', len) &&
        !strpbrk(pass, "\r\n\t")) {
        size_t pl = strlen(pass);
        int seen = 0;
        for (size_t i = 0; !seen && i + pl <= len; i++)
            seen = memcmp(text + i, pass, pl) == 0;
        if (!seen) abort();
    }
    /* A.5: a default entry without password added at the end (after an
     * empty line, which ends a macdef the text may leave open). */
    const char *q = h ? h : "q";
    int plain = rc == NETRC_FOUND || rc == NETRC_NOT_FOUND;
    for (const char *c = q; *c; c++)
        if (strchr(" \t\r\n\v\f\"#", *c)) plain = 0;
    if (plain) {
        size_t ql = strlen(q), post = 17 + ql;  /* "\n\ndefault login Q\n" */
        char *t2 = malloc(len + post);
        if (t2) {
            if (len) memcpy(t2, text, len);
            memcpy(t2 + len, "\n\ndefault login ", 16);
            memcpy(t2 + len + 16, q, ql);
            t2[len + 16 + ql] = '\n';
            l2 = p2 = NULL;
            rc2 = netrc_lookup(t2, len + post, host, h, &l2, &p2);
            int same = rc == NETRC_FOUND &&
                       (login ? l2 && !strcmp(login, l2) : !l2) &&
                       (pass ? p2 && !strcmp(pass, p2) : !p2);
            int dflt = l2 && !strcmp(l2, q) && !p2;
            if (rc2 == NETRC_E_NOMEM) same = 1;
            else if (rc2 != NETRC_FOUND || !(same || dflt)) abort();
            if (rc == NETRC_NOT_FOUND && rc2 == NETRC_FOUND && !dflt) abort();
            free(l2);
            free(p2);
            free(t2);
        }
    }
    free(login);
    free(pass);
    return 0;
}
