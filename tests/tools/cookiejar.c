/* cookiejar -- a driver of hflow's cookie engine (src/cookie.c) for the
 * integration tests (curl compatibility of the jar, both directions).
 *
 *   cookiejar [--now T] [-j] [-v] ACTION...
 *
 * The actions run in order on one jar:
 *   --load FILE        read a Netscape/curl cookie file (-j before it: drop
 *                      its session cookies)
 *   --set URL VALUE    a Set-Cookie field VALUE received from URL
 *   --get URL          print the Cookie header for URL, or "-" for none
 *   --save FILE        write the jar ("-": stdout)
 *   --count            print the number of cookies held
 * -v prints why each --set was not stored, on stderr.  The clock is
 * time(NULL) unless --now gives unix seconds.  Exit 0, 1 on an I/O or
 * memory error or a bad URL, 2 on bad usage. */
#include "cookie.h"
#include "hflow.h"
#include "url.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fprintf(stderr, "usage: cookiejar [--now T] [-j] [-v] [--load FILE] "
            "[--set URL VALUE] [--get URL] [--save FILE] [--count]...\n");
    return 2;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *d = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        if (n == cap) {
            char *nd = realloc(d, cap = cap ? cap * 2 : 65536);
            if (!nd) { free(d); fclose(f); return NULL; }
            d = nd;
        }
        size_t r = fread(d + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    *len = n;
    return d;
}

static int with_url(const char *s, url *u)
{
    char err[64];
    if (url_parse(u, s, err, sizeof err) != 0) {
        fprintf(stderr, "cookiejar: bad URL %s: %s\n", s, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int64_t now = (int64_t)time(NULL);
    int junk = 0, verbose = 0, i, rc = 0;
    cookie_jar *j = cookie_jar_new();
    if (!j) return 1;
    for (i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--now") == 0 && i + 1 < argc) {
            now = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(a, "-j") == 0) {
            junk = 1;
        } else if (strcmp(a, "-v") == 0) {
            verbose = 1;
        } else if (strcmp(a, "--load") == 0 && i + 1 < argc) {
            size_t len = 0;
            char *text = read_file(argv[++i], &len);
            if (!text) {
                fprintf(stderr, "cookiejar: cannot read %s\n", argv[i]);
                rc = 1;
            } else {
                if (cookie_load(j, text, len, junk, now) != 0) rc = 1;
                free(text);
            }
        } else if (strcmp(a, "--set") == 0 && i + 2 < argc) {
            url u;
            const char *why = NULL;
            if (with_url(argv[i + 1], &u) != 0) { rc = 1; break; }
            if (cookie_set_ex(j, argv[i + 2], u.scheme, u.host, u.path, now,
                              &why) != 0)
                rc = 1;
            else if (why && verbose)
                fprintf(stderr, "cookiejar: %s: not stored: %s\n", argv[i + 2],
                        why);
            url_free(&u);
            i += 2;
        } else if (strcmp(a, "--get") == 0 && i + 1 < argc) {
            url u;
            char *h;
            if (with_url(argv[++i], &u) != 0) { rc = 1; break; }
            h = cookie_header(j, u.scheme, u.host, u.path, now);
            printf("%s\n", h ? h : "-");
            free(h);
            url_free(&u);
        } else if (strcmp(a, "--save") == 0 && i + 1 < argc) {
            char *text = cookie_save(j, now);
            const char *path = argv[++i];
            FILE *f;
            if (!text) { rc = 1; break; }
            f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
            if (!f || fputs(text, f) < 0 || (f != stdout && fclose(f) != 0)) {
                fprintf(stderr, "cookiejar: cannot write %s\n", path);
                rc = 1;
            }
            free(text);
        } else if (strcmp(a, "--count") == 0) {
            printf("%zu\n", cookie_count(j));
        } else {
            cookie_jar_free(j);
            return usage();
        }
    }
    cookie_jar_free(j);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
