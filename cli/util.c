/* util.c -- memory, buffers, file reads and messages for the hflow CLI. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_quiet;

void die_nomem(void)
{
    /* No allocation here: the message is a constant. */
    static const char m[] = HFLOW_NAME ": (27) out of memory\n";
    fflush(stdout);
    if (write(2, m, sizeof m - 1) < 0) { /* nothing more we can do */ }
    exit(27);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_nomem();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die_nomem();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_nomem();
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void sb_reserve(sbuf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        die_nomem();
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void sb_add(sbuf *b, const void *data, size_t n)
{
    sb_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_adds(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void sb_addc(sbuf *b, char c)
{
    sb_add(b, &c, 1);
}

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sb_add(b, small, (size_t)n);
        return;
    }
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *sb_cstr(sbuf *b)
{
    return b->p ? b->p : "";
}

char *sb_steal(sbuf *b)
{
    char *p = b->p ? b->p : xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void sb_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void sv_push(strvec *sv, const char *s)
{
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
    }
    sv->v[sv->n++] = s;
}

void sv_free(strvec *sv)
{
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

int cli_read_file(const char *path, sbuf *out)
{
    int fd = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno;
        struct stat st;
        if (fstat(fd, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                close(fd);
                return EISDIR;
            }
            if (S_ISREG(st.st_mode) && st.st_size > 0)
                sb_reserve(out, (size_t)st.st_size);
        }
    }
    for (;;) {
        sb_reserve(out, 65536);
        ssize_t n = read(fd, out->p + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            if (fd != 0)
                close(fd);
            return e;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    out->p[out->len] = '\0';
    if (fd != 0)
        close(fd);
    return 0;
}

int cli_color(void)
{
    static int on = -1;
    if (on < 0) {
        const char *nc = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        on = isatty(2) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
    }
    return on;
}

/* One message line; colour (a CLR_ code) wraps the line on a terminal. */
static void vmsg(const char *color, const char *prefix, const char *fmt,
                 va_list ap)
{
    char line[2048];
    int n = 0;
    if (prefix)
        n = snprintf(line, sizeof line, "%s", prefix);
    if (n < 0)
        n = 0;
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Keep stdout and stderr in order when both go to one place. */
    fflush(stdout);
    if (color && cli_color()) {
        /* one write, so the colour never spills into other output */
        char out[sizeof line + 32];
        int k = snprintf(out, sizeof out, "%s%.*s" CLR_RESET "\n", color,
                         (int)len, line);
        if (k > 0)
            fwrite(out, 1, (size_t)k < sizeof out ? (size_t)k
                                                   : sizeof out - 1, stderr);
        return;
    }
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

void cli_error(int code, const char *fmt, ...)
{
    if (cli_quiet)
        return;
    char prefix[32];
    snprintf(prefix, sizeof prefix, HFLOW_NAME ": (%d) ", code);
    va_list ap;
    va_start(ap, fmt);
    vmsg(CLR_ERROR, prefix, fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(CLR_WARN, "Warning: ", fmt, ap);
    va_end(ap);
}

void cli_warn_named(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(CLR_WARN, HFLOW_NAME ": Warning: ", fmt, ap);
    va_end(ap);
}

void cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* "hflow: (2) ..." is an error line; the hints after it are not */
    vmsg(fmt[0] == '(' ? CLR_ERROR : NULL, HFLOW_NAME ": ", fmt, ap);
    va_end(ap);
}

int cli_ncaseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
    return 1;
}
