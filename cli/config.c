/* config.c -- curl's config file syntax (see config.h), parsed into a list
 * of (option, parameter) items.  The rules are curl's documented ones
 * (curl(1), --config); the command line's own rules (what an option
 * means, whether it takes a parameter) are applied by cli/args.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

/* curl's ISSPACE: the C locale's white space. */
static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

/* A bare long name ends at ':' or '=' too; a dashed option does not. */
static int is_sep(unsigned char c, int dashed)
{
    return !dashed && (c == ':' || c == '=');
}

static int push(config_list *l, char *opt, char *val, size_t line, int warn)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        config_item *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CONFIG_E_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].opt = opt;
    l->v[l->n].val = val;
    l->v[l->n].line = line;
    l->v[l->n].ws_warning = warn;
    l->n++;
    return CONFIG_OK;
}

/* The quoted parameter starting after the opening quote at s: escapes
 * decoded, up to the closing quote or the end e of the line.  *after is
 * set past the closing quote (or to e).  NULL when memory ran out. */
static char *unquote(const char *s, const char *e, const char **after)
{
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    if (!out)
        return NULL;
    while (s < e && *s != '"') {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        if (++s == e)
            break; /* a backslash at the end of the line: dropped */
        switch (*s) {
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 'v': *o++ = '\v'; break;
        default: *o++ = *s; break; /* \\, \" and any other: the byte */
        }
        s++;
    }
    *o = '\0';
    *after = s < e ? s + 1 : e;
    return out;
}

/* Whether [s, e) holds more than blanks before the end or a '#'. */
static int trailing_text(const char *s, const char *e)
{
    while (s < e && is_blank((unsigned char)*s))
        s++;
    return s < e && *s != '#';
}

/* One line [s, e) without its line end. */
static int parse_line(const char *s, const char *e, size_t lineno,
                      config_list *out)
{
    while (s < e && is_blank((unsigned char)*s))
        s++;
    if (s == e || *s == '#')
        return CONFIG_OK;

    const char *word = s;
    int dashed = *s == '-';
    while (s < e && !is_blank((unsigned char)*s) &&
           !is_sep((unsigned char)*s, dashed))
        s++;
    size_t wlen = (size_t)(s - word), pre = dashed ? 0 : 2;
    char *opt = malloc(pre + wlen + 1);
    if (!opt)
        return CONFIG_E_NOMEM;
    memcpy(opt, "--", pre);
    memcpy(opt + pre, word, wlen);
    opt[pre + wlen] = '\0';

    while (s < e && (is_blank((unsigned char)*s) ||
                     is_sep((unsigned char)*s, dashed)))
        s++;
    char *val = NULL;
    int warn = 0;
    if (s < e && *s == '"') {
        const char *after;
        val = unquote(s + 1, e, &after);
        if (!val) {
            free(opt);
            return CONFIG_E_NOMEM;
        }
        warn = trailing_text(after, e);
    } else if (s < e) {
        const char *v = s;
        while (s < e && !is_blank((unsigned char)*s))
            s++;
        val = malloc((size_t)(s - v) + 1);
        if (!val) {
            free(opt);
            return CONFIG_E_NOMEM;
        }
        memcpy(val, v, (size_t)(s - v));
        val[s - v] = '\0';
        warn = trailing_text(s, e);
    }
    if (push(out, opt, val, lineno, warn)) {
        free(opt);
        free(val);
        return CONFIG_E_NOMEM;
    }
    return CONFIG_OK;
}

int config_parse(const char *text, size_t len, config_list *out,
                 size_t *err_line)
{
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    int rc = CONFIG_OK;
    if (err_line)
        *err_line = 0;
    while (p < end) {
        lineno++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > CONFIG_MAX_LINE) {
            rc = CONFIG_E_LONG;
            break;
        }
        if (memchr(p, '\0', (size_t)(le - p))) {
            rc = CONFIG_E_NUL;
            break;
        }
        const char *next = nl ? nl + 1 : end;
        if (le > p && le[-1] == '\r')
            le--;
        rc = parse_line(p, le, lineno, out);
        if (rc)
            break;
        p = next;
    }
    if (rc) {
        if (err_line && rc != CONFIG_E_NOMEM)
            *err_line = lineno;
        config_list_free(out);
    }
    return rc;
}

void config_list_free(config_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].opt);
        free(l->v[i].val);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
