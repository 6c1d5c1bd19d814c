/* test_cli_config.c -- cli/config.c, curl's config file syntax: options
 * with and without dashes, the separators, quoting and escapes, comments,
 * line numbers, the warnings and the errors.  cli/config.c is pure and is
 * compiled into this test directly. */
#include <stdlib.h>

#include "../../cli/config.c"
#include "t.h"

/* One expected item: opt, val (NULL: none), line, warning. */
typedef struct want {
    const char *opt, *val;
    size_t line;
    int warn;
} want;

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Parses text and compares the items with w[0..n). */
static void expect(const char *name, const char *text, const want *w, size_t n)
{
    config_list l = {0};
    size_t bad = 99;
    int rc = config_parse(text, strlen(text), &l, &bad);
    CHECK_MSG(rc == CONFIG_OK && bad == 0, "%s: rc %d line %zu", name, rc, bad);
    CHECK_MSG(l.n == n, "%s: %zu items, want %zu", name, l.n, n);
    for (size_t i = 0; i < n && i < l.n; i++) {
        CHECK_MSG(same(l.v[i].opt, w[i].opt), "%s #%zu: opt \"%s\", want \"%s\"",
                  name, i, l.v[i].opt, w[i].opt);
        CHECK_MSG(same(l.v[i].val, w[i].val), "%s #%zu: val \"%s\", want \"%s\"",
                  name, i, l.v[i].val ? l.v[i].val : "(null)",
                  w[i].val ? w[i].val : "(null)");
        CHECK_MSG(l.v[i].line == w[i].line, "%s #%zu: line %zu, want %zu",
                  name, i, l.v[i].line, w[i].line);
        CHECK_MSG(l.v[i].ws_warning == w[i].warn, "%s #%zu: warning %d",
                  name, i, l.v[i].ws_warning);
    }
    config_list_free(&l);
    CHECK(l.v == NULL && l.n == 0);
}

#define EXPECT(name, text, ...) do {                                        \
        static const want w_[] = {__VA_ARGS__};                             \
        expect(name, text, w_, sizeof w_ / sizeof w_[0]);                   \
    } while (0)

static void test_forms(void)
{
    EXPECT("url and output",
           "url = \"http://127.0.0.1/a\"\noutput = \"a.bin\"\n",
           {"--url", "http://127.0.0.1/a", 1, 0},
           {"--output", "a.bin", 2, 0});
    /* bare names: blanks, ':' and '=' in any run separate */
    EXPECT("separators",
           "url:http://h/1\nurl=http://h/2\nurl http://h/3\nurl\t\thttp://h/4\n"
           "url :=: http://h/5\nurl=\"=x\"\n",
           {"--url", "http://h/1", 1, 0}, {"--url", "http://h/2", 2, 0},
           {"--url", "http://h/3", 3, 0}, {"--url", "http://h/4", 4, 0},
           {"--url", "http://h/5", 5, 0}, {"--url", "=x", 6, 0});
    /* dashed options: only blanks separate; '=' stays in the word */
    EXPECT("dashed",
           "--url http://h/\n-o file\n-sS\n--url=http://h/\n-o=x\n--silent\n",
           {"--url", "http://h/", 1, 0}, {"-o", "file", 2, 0},
           {"-sS", NULL, 3, 0}, {"--url=http://h/", NULL, 4, 0},
           {"-o=x", NULL, 5, 0}, {"--silent", NULL, 6, 0});
    /* a value may hold ':' and '=' after its first byte */
    EXPECT("value bytes", "header = X-A: b=c\nurl = http://h:8/?a=b#f\n",
           {"--header", "X-A:", 1, 1}, {"--url", "http://h:8/?a=b#f", 2, 0});
    EXPECT("no value", "location\nurl:\nurl = \n",
           {"--location", NULL, 1, 0}, {"--url", NULL, 2, 0},
           {"--url", NULL, 3, 0});
    EXPECT("empty word", "=foo\n:\n", {"--", "foo", 1, 0}, {"--", NULL, 2, 0});
}

static void test_quotes(void)
{
    EXPECT("escapes",
           "header = \"a\\\\b\\\"c\\td\\ne\\rf\\vg\\qh\"\n",
           {"--header", "a\\b\"c\td\ne\rf\vgqh", 1, 0});
    EXPECT("blanks kept", "user-agent = \"  two  words \"\n",
           {"--user-agent", "  two  words ", 1, 0});
    EXPECT("empty", "user-agent \"\"\n-o \"\"\n",
           {"--user-agent", "", 1, 0}, {"-o", "", 2, 0});
    EXPECT("unterminated", "url = \"http://h/ a b\n",
           {"--url", "http://h/ a b", 1, 0});
    EXPECT("backslash at end", "url = \"ab\\\n", {"--url", "ab", 1, 0});
    EXPECT("quote in the middle", "url = a\"b\"\n", {"--url", "a\"b\"", 1, 0});
    EXPECT("text after the quote", "url = \"a\" b\nurl = \"c\" # note\n",
           {"--url", "a", 1, 1}, {"--url", "c", 2, 0});
}

static void test_lines(void)
{
    EXPECT("comments and blanks",
           "# a comment\n\n   \t\n  # indented comment\nurl = x\n",
           {"--url", "x", 5, 0});
    EXPECT("unquoted whitespace", "url = a b\nurl = c   # note\nurl = d   \n",
           {"--url", "a", 1, 1}, {"--url", "c", 2, 0}, {"--url", "d", 3, 0});
    EXPECT("CRLF", "url = a\r\nurl = \"b\"\r\n\r\nsilent\r\n",
           {"--url", "a", 1, 0}, {"--url", "b", 2, 0}, {"--silent", NULL, 4, 0});
    EXPECT("no final newline", "url = a\nurl = b", {"--url", "a", 1, 0},
           {"--url", "b", 2, 0});
    EXPECT("leading blanks", "   \t--url   a\n", {"--url", "a", 1, 0});
    EXPECT("a '#' inside a word", "url = a#b\n", {"--url", "a#b", 1, 0});

    config_list l = {0};
    size_t line;
    CHECK(config_parse("", 0, &l, &line) == CONFIG_OK && l.n == 0);
    config_list_free(&l);
    config_list_free(NULL);
}

static void test_errors(void)
{
    config_list l = {0};
    size_t line = 0;
    static const char nul[] = "url = a\nurl = b\0c\nurl = d\n";
    CHECK(config_parse(nul, sizeof nul - 1, &l, &line) == CONFIG_E_NUL);
    CHECK(line == 2 && l.n == 0 && l.v == NULL);
    CHECK(config_parse(nul, sizeof nul - 1, &l, NULL) == CONFIG_E_NUL);

    /* a line of 10 MiB is fine, one byte more is not */
    size_t n = CONFIG_MAX_LINE + 20;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (!big)
        return;
    memcpy(big, "url = a\nurl = ", 14);
    memset(big + 14, 'x', n - 14);
    size_t len = 8 + CONFIG_MAX_LINE; /* line 2 exactly at the limit */
    CHECK(config_parse(big, len, &l, &line) == CONFIG_OK && l.n == 2);
    CHECK(l.n == 2 && strlen(l.v[1].val) == CONFIG_MAX_LINE - 6);
    config_list_free(&l);
    CHECK(config_parse(big, len + 1, &l, &line) == CONFIG_E_LONG);
    CHECK(line == 2 && l.n == 0);
    free(big);
}

/* Every prefix of a config text parses, with no more items than the
 * whole and the same item count once its last line is complete. */
static void test_truncations(void)
{
    static const char text[] =
        "# c\nurl = \"http://h/a b\\\"\"\n-o x\n--silent\noutput: y z\n";
    size_t n = sizeof text - 1, full;
    config_list l = {0};
    CHECK(config_parse(text, n, &l, NULL) == CONFIG_OK);
    full = l.n;
    CHECK(full == 4);
    config_list_free(&l);
    for (size_t i = 0; i <= n; i++) {
        int rc = config_parse(text, i, &l, NULL);
        CHECK_MSG(rc == CONFIG_OK && l.n <= full, "prefix %zu: rc %d, %zu items",
                  i, rc, l.n);
        config_list_free(&l);
    }
}

int main(void)
{
    test_forms();
    test_quotes();
    test_lines();
    test_errors();
    test_truncations();
    return T_END();
}
