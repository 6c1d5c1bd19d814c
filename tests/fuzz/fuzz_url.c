/* FUZZ_SRC: src/url.c */
/* fuzz_url.c -- libFuzzer target for src/url.c.
 * The input, as a C string, is parsed; an accepted URL must serialise, and
 * the serialisation must parse again to the very same string (a stable
 * round trip).  Then the input is split into base and reference (at the
 * first newline, else in the middle) and resolved both ways round. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hflow.h"
#include "url.h"

static void check_parse(const char *s)
{
    url u, v;
    char err[64];
    int rc = url_parse(&u, s, err, sizeof err);
    if (rc == HF_E_NOMEM) return;
    if (rc != 0) {
        if (rc != HF_E_URL && rc != HF_E_UNSUPPORTED_PROTOCOL) abort();
        if (u.scheme || u.host || u.path || err[0] == '\0') abort();
        return;
    }
    if (!u.scheme || !u.host || !u.path || u.path[0] != '/') abort();
    char *s1 = url_to_string(&u), *t = url_target(&u),
         *h = url_host_header(&u);
    if (!s1 || !t || !h) abort();
    if (strchr(t, '#') || strchr(h, '%') || strchr(h, '@')) abort();
    if (url_parse(&v, s1, err, sizeof err) != 0) abort();
    char *s2 = url_to_string(&v);
    if (!s2 || strcmp(s1, s2) != 0) abort();
    if (v.port != u.port || v.host_type != u.host_type ||
        strcmp(v.host, u.host) != 0 || strcmp(v.path, u.path) != 0)
        abort();
    free(s2);
    url_free(&v);
    free(s1);
    free(t);
    free(h);
    url_free(&u);
}

static void check_resolve(const char *base, const char *ref)
{
    char *r = url_resolve(base, ref);
    if (!r) return;
    /* a result is absolute, so it can serve as a base in turn */
    char *r2 = url_resolve(r, "");
    if (!r2) abort();
    free(r2);
    check_parse(r);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_parse(s);

    char *nl = memchr(s, '\n', size);
    size_t cut = nl ? (size_t)(nl - s) : size / 2;
    char *base = malloc(cut + 1);
    if (base) {
        memcpy(base, s, cut);
        base[cut] = '\0';
        const char *ref = s + cut + (nl ? 1 : 0);
        check_resolve(base, ref);
        check_resolve(ref, base);
        free(base);
    }
    free(s);
    return 0;
}
