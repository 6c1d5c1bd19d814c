/* FUZZ_SRC: cli/config.c */
/* fuzz_cli_config.c -- libFuzzer target for cli/config.c (curl's config
 * file syntax).  The input is the file's text, parsed as given (ASan
 * catches a read past it).  The result must be one of the documented
 * codes, with an empty list on error; every item's option starts with a
 * dash and holds no blank, line numbers never go down and stay within the
 * text's lines; parsing again gives the same items; and writing the items
 * back out (the option, then the parameter quoted with curl's escapes)
 * and parsing that gives the same items once more. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/config.h"

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_list(const config_list *a, const config_list *b, int lines)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!same(a->v[i].opt, b->v[i].opt) || !same(a->v[i].val, b->v[i].val))
            return 0;
        if (lines && (a->v[i].line != b->v[i].line ||
                      a->v[i].ws_warning != b->v[i].ws_warning))
            return 0;
    }
    return 1;
}

/* The items as config text: OPT "VAL" a line, escaped as curl reads. */
static char *write_back(const config_list *l, size_t *len)
{
    size_t cap = 1;
    for (size_t i = 0; i < l->n; i++)
        cap += strlen(l->v[i].opt) + 4 + (l->v[i].val ? 2 * strlen(l->v[i].val) : 0);
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->v[i].opt);
        memcpy(o, l->v[i].opt, n);
        o += n;
        if (l->v[i].val) {
            *o++ = ' ';
            *o++ = '"';
            for (const char *v = l->v[i].val; *v; v++) {
                const char *esc = strchr("\\\"\t\n\r\v", *v);
                if (esc) {
                    *o++ = '\\';
                    *o++ = "\\\"tnrv"[esc - "\\\"\t\n\r\v"];
                } else {
                    *o++ = *v;
                }
            }
            *o++ = '"';
        }
        *o++ = '\n';
    }
    *len = (size_t)(o - out);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    config_list l = {0}, l2 = {0}, l3 = {0};
    size_t bad = 0, lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';

    int rc = config_parse(text, size, &l, &bad);
    if (rc != CONFIG_OK && rc != CONFIG_E_NOMEM && rc != CONFIG_E_NUL &&
        rc != CONFIG_E_LONG)
        abort();
    if (rc != CONFIG_OK) {
        if (l.n || l.v)
            abort();
        if (rc == CONFIG_E_NUL && (bad == 0 || bad > lines ||
                                   !memchr(text, '\0', size)))
            abort();
        return 0;
    }
    if (bad != 0)
        abort();
    size_t last = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *opt = l.v[i].opt;
        if (!opt || opt[0] != '-' || strpbrk(opt, " \t\r\n\v\f"))
            abort();
        if (l.v[i].line < last || l.v[i].line == 0 || l.v[i].line > lines)
            abort();
        last = l.v[i].line;
    }

    if (config_parse(text, size, &l2, NULL) != CONFIG_OK || !same_list(&l, &l2, 1))
        abort();

    size_t wlen = 0;
    char *w = write_back(&l, &wlen);
    if (w) {
        int rc3 = config_parse(w, wlen, &l3, NULL);
        if (rc3 != CONFIG_E_NOMEM && (rc3 != CONFIG_OK || !same_list(&l, &l3, 0)))
            abort();
        free(w);
    }
    config_list_free(&l);
    config_list_free(&l2);
    config_list_free(&l3);
    return 0;
}
