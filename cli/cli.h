/* cli.h -- small helpers shared by the hflow command-line tool: memory that
 * exits with code 27 when it runs out, a growable byte buffer, whole-file
 * reads and the "hflow: (CODE) message" reporting.  Only the CLI prints or
 * exits; the library never does. */
#ifndef HFLOW_CLI_H
#define HFLOW_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HFLOW_NAME "hflow"
#define HFLOW_CLI_VERSION "0.1.0"

#if defined(__GNUC__)
#define HFLOW_NORETURN __attribute__((noreturn))
#define HFLOW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HFLOW_NORETURN
#define HFLOW_PRINTF(a, b)
#endif

/* Allocation that never returns NULL: on failure it prints
 * "hflow: (27) out of memory" and exits with 27. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
HFLOW_NORETURN void die_nomem(void);

/* A growable byte buffer; p is always NUL-terminated once non-empty. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;
void sb_reserve(sbuf *b, size_t extra);
void sb_add(sbuf *b, const void *data, size_t n);
void sb_adds(sbuf *b, const char *s);
void sb_addc(sbuf *b, char c);
void sb_printf(sbuf *b, const char *fmt, ...) HFLOW_PRINTF(2, 3);
/* The contents as a C string ("" when empty); stays owned by b. */
const char *sb_cstr(sbuf *b);
/* Hands the storage over to the caller (never NULL) and resets b. */
char *sb_steal(sbuf *b);
void sb_free(sbuf *b);

/* A growable list of borrowed strings. */
typedef struct strvec {
    const char **v;
    size_t n, cap;
} strvec;
void sv_push(strvec *sv, const char *s);
void sv_free(strvec *sv);

/* Reads a whole file into out ("-" reads standard input).  Returns 0, or
 * the errno of the failure. */
int cli_read_file(const char *path, sbuf *out);

/* Reporting.  cli_quiet makes cli_error silent (-s without -S); usage
 * messages (cli_usage) always print. */
extern int cli_quiet;
void cli_error(int code, const char *fmt, ...) HFLOW_PRINTF(2, 3);
void cli_warn(const char *fmt, ...) HFLOW_PRINTF(1, 2);
/* "hflow: Warning: ..." whatever cli_quiet says (the caller decides). */
void cli_warn_named(const char *fmt, ...) HFLOW_PRINTF(1, 2);
void cli_usage(const char *fmt, ...) HFLOW_PRINTF(1, 2);

/* Whether stderr gets colour: it is a terminal, NO_COLOR is unset or
 * empty (https://no-color.org) and TERM is not "dumb".  Decided once. */
int cli_color(void);
#define CLR_RESET "\033[0m"
#define CLR_BOLD "\033[1m"
#define CLR_DIM "\033[2m"
#define CLR_ERROR "\033[1;31m" /* the "hflow: (N) ..." lines */
#define CLR_WARN "\033[33m"

/* Case-insensitive ASCII comparison of n bytes / whole strings. */
int cli_ncaseeq(const char *a, const char *b, size_t n);

#endif
