/* FUZZ_SRC: src/cookie.c */
/* FUZZ_LIBS: -lpsl */
/* fuzz_cookie.c -- libFuzzer target for src/cookie.c.
 * The first byte picks the mode.  Jar mode: the rest is a cookie file,
 * loaded (with or without -j).  Script mode: the rest is lines, each one
 *   H<host>   the request host from now on      P<path>  the request path
 *   S         toggles http / https               T<n>     the clock moves
 *   G         a Cookie header for the current URL
 *   J<text>   the line, with "\t" for "|", loaded as a jar line
 *   anything else: a Set-Cookie value received from the current URL.
 * Invariants: no cookie breaks the limits (name + value <= 4096 bytes, a
 * path that starts with '/', at most 3000 cookies), a Cookie header has at
 * most 150 cookies, 8190 bytes and no control byte but HTAB; and save ->
 * load -> save gives the very same text and the same number of cookies.
 * Every input is handed over as an exact-size heap copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "hflow.h"

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void check_jar(const cookie_jar *j)
{
    size_t i, n = cookie_count(j);
    cookie_info ci;
    if (n > COOKIE_MAX_TOTAL) abort();
    for (i = 0; i < n; i++) {
        if (cookie_get(j, i, &ci) != 0) abort();
        if (strlen(ci.name) + strlen(ci.value) > COOKIE_MAX_NAME_VALUE) abort();
        if (ci.path[0] != '/' || !ci.domain[0] || ci.domain[0] == '.') abort();
        if (!ci.name[0] && !ci.value[0]) abort();
        if (strchr(ci.name, '\t') || strchr(ci.path, '\t')) abort();
    }
    if (cookie_get(j, n, &ci) != -1) abort();
}

static void check_header(cookie_jar *j, const char *scheme, const char *host,
                         const char *path, int64_t now)
{
    char *h = cookie_header(j, scheme, host, path, now);
    size_t k, semis = 0;
    if (!h) return;
    if (!h[0] || strlen(h) > COOKIE_MAX_HEADER) abort();
    for (k = 0; h[k]; k++) {
        unsigned char c = (unsigned char)h[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) abort();
        semis += c == ';';
    }
    if (semis + 1 > COOKIE_MAX_SEND) abort();
    free(h);
}

/* save -> load -> save must be stable. */
static void round_trip(cookie_jar *j, int64_t now)
{
    char *s1 = cookie_save(j, now), *s2;
    cookie_jar *k;
    if (!s1) return;
    k = cookie_jar_new();
    if (!k) { free(s1); return; }
    if (cookie_load(k, s1, strlen(s1), 0, now) == 0) {
        s2 = cookie_save(k, now);
        if (s2) {
            if (strcmp(s1, s2) != 0) abort();
            if (cookie_count(k) != cookie_count(j)) abort();
            free(s2);
        }
        check_jar(k);
    }
    cookie_jar_free(k);
    free(s1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t now = 1700000000;
    cookie_jar *j;
    if (size < 1) return 0;
    j = cookie_jar_new();
    if (!j) return 0;

    if (data[0] & 1) {
        /* jar mode */
        char *text = malloc(size - 1 ? size - 1 : 1);
        if (!text) abort();
        memcpy(text, data + 1, size - 1);
        cookie_load(j, text, size - 1, (data[0] >> 1) & 1, now);
        free(text);
        check_jar(j);
        check_header(j, "http", "example.com", "/", now);
        check_header(j, "https", "www.example.com", "/a/b", now);
        if (cookie_count(j)) {
            cookie_info ci;
            char *host;
            cookie_get(j, 0, &ci);
            host = dup_n((const uint8_t *)ci.domain, strlen(ci.domain));
            check_header(j, "https", host, ci.path, now);
            free(host);
        }
    } else {
        /* script mode */
        char *host = dup_n((const uint8_t *)"example.com", 11);
        char *path = dup_n((const uint8_t *)"/a/b", 4);
        int https = (data[0] >> 1) & 1;
        size_t pos = 1;
        while (pos < size) {
            const uint8_t *line = data + pos;
            const uint8_t *nl = memchr(line, '\n', size - pos);
            size_t n = nl ? (size_t)(nl - line) : size - pos;
            pos += n + 1;
            const char *scheme = https ? "https" : "http";
            if (n >= 1 && line[0] == 'H') {
                free(host);
                host = dup_n(line + 1, n - 1);
            } else if (n >= 1 && line[0] == 'P') {
                free(path);
                path = dup_n(line + 1, n - 1);
            } else if (n == 1 && line[0] == 'S') {
                https = !https;
            } else if (n >= 1 && line[0] == 'T') {
                now += (int64_t)(n > 1 ? line[1] : 1) * 1000;
            } else if (n == 1 && line[0] == 'G') {
                check_header(j, scheme, host, path, now);
            } else if (n >= 1 && line[0] == 'J') {
                char *t = malloc(n - 1 ? n - 1 : 1);
                size_t k;
                if (!t) abort();
                for (k = 1; k < n; k++)
                    t[k - 1] = line[k] == '|' ? '\t' : (char)line[k];
                cookie_load(j, t, n - 1, 0, now);
                free(t);
            } else {
                char *sc = dup_n(line, n);
                const char *why = NULL;
                size_t before;
                free(cookie_save(j, now));     /* purges the expired */
                before = cookie_count(j);
                cookie_set_ex(j, sc, scheme, host, path, now, &why);
                /* a refused cookie changes nothing (a deletion aside) */
                if (why && strcmp(why, "expired: deleted") != 0 &&
                    cookie_count(j) != before)
                    abort();
                free(sc);
                check_header(j, scheme, host, path, now);
            }
        }
        check_jar(j);
        check_header(j, "http", host, path, now);
        check_header(j, "https", host, "", now);
        free(host);
        free(path);
    }
    round_trip(j, now);
    cookie_jar_free(j);
    return 0;
}
