/* config.h -- curl's config file syntax (-K, --config), parsed without
 * I/O: text in, a list of (option, parameter) items out.
 *
 * One option a line.  Leading blanks are skipped; a line whose first
 * non-blank byte is '#' is a comment, and blank lines are skipped.  The
 * option is written as on the command line ("--output", "-o", "-sS"), or
 * as a long name without the dashes ("output"); only in that last form
 * may ':' or '=' separate it from its parameter (any run of blanks, ':'
 * and '=' does).  The parameter is either quoted -- "..." with the escapes
 * \\ \" \t \n \r \v, a backslash before any other byte dropping the
 * backslash, the closing quote optional at the end of the line -- or runs
 * to the next blank (more text after it, other than a '#' comment, is
 * flagged: curl warns about unquoted whitespace).  A line ending in CR LF
 * is read as ending in LF.
 *
 * Pure: no globals, no I/O; memory from malloc, returned on every path.
 * The caller (cli/args.c) looks the options up and reads nested -K files.
 */
#ifndef HFLOW_CONFIG_H
#define HFLOW_CONFIG_H

#include <stddef.h>

/* One line longer than this is refused (curl's limit, 10 MiB). */
#define CONFIG_MAX_LINE ((size_t)10 << 20)

typedef struct config_item {
    char *opt;          /* "--name" (dashes added to a bare name) or the
                         * dashed word as written ("-o", "-sS", "--url") */
    char *val;          /* the parameter; NULL when the line has none ("" for
                         * a quoted empty one) */
    size_t line;        /* 1-based line number */
    int ws_warning;     /* unquoted parameter followed by more text, or
                         * text after the closing quote: ignored */
} config_item;

typedef struct config_list {
    config_item *v;
    size_t n, cap;
} config_list;

enum {
    CONFIG_OK = 0,
    CONFIG_E_NOMEM = -1, /* out of memory (the list is emptied) */
    CONFIG_E_NUL = -2,   /* a NUL byte in the text (line in *err_line) */
    CONFIG_E_LONG = -3   /* a line over CONFIG_MAX_LINE (line in *err_line) */
};

/* Parses len bytes of text into out (which must be zeroed or freed
 * before; items are appended).  Returns CONFIG_OK, or an error with
 * err_line (if not NULL) set to the offending line and out left empty. */
int config_parse(const char *text, size_t len, config_list *out,
                 size_t *err_line);

/* Frees the items and zeroes the list; NULL-safe. */
void config_list_free(config_list *l);

#endif
