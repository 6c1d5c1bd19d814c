/* output.c -- writing bodies and heads, and the -v flow lines.
 *
 * The body path does no per-byte work: each piece the library hands over
 * goes to fwrite on a stream with a 128 KiB buffer (large pieces bypass
 * the buffer inside stdio).  Files are created on the first write, as
 * curl does, so a failed transfer leaves no empty file behind. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define OUT_BUFSZ (128 * 1024)

static char stdout_buf[OUT_BUFSZ];
static int stdout_tty = -1;

void output_stdout_init(void)
{
    if (stdout_tty >= 0)
        return;
    stdout_tty = isatty(1);
    if (!stdout_tty)
        setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
}

void output_init(output *o, const char *path, int nobuffer)
{
    memset(o, 0, sizeof *o);
    o->nobuffer = nobuffer;
    if (path && strcmp(path, "-") == 0) {
        o->explicit_stdout = 1;
        path = NULL;
    }
    o->path = path;
    if (!path) {
        o->fp = stdout;
        o->check_binary = stdout_tty > 0 && !o->explicit_stdout;
    }
}

int output_is_stdout(const output *o)
{
    return o->path == NULL;
}

int output_to_terminal(const output *o)
{
    return o->path == NULL && stdout_tty > 0;
}

static int open_file(output *o)
{
    if (o->excl) {
        /* -J: a name the server chose never replaces a file (curl) */
        int fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        o->fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fd >= 0 && !o->fp)
            close(fd);
    } else {
        o->fp = fopen(o->path, o->append ? "ab" : "wb");
    }
    if (!o->fp) {
        o->err = errno;
        o->open_failed = 1;
        return -1;
    }
    o->opened = 1;
    o->vbuf = malloc(OUT_BUFSZ);
    if (o->vbuf)
        setvbuf(o->fp, o->vbuf, _IOFBF, OUT_BUFSZ);
    return 0;
}

int output_write(output *o, const void *data, size_t len)
{
    if (!o->fp && open_file(o))
        return -1;
    errno = 0;
    if (len && fwrite(data, 1, len, o->fp) != len) {
        o->err = errno ? errno : EIO;
        return -1;
    }
    o->written += (int64_t)len;
    if (o->nobuffer && fflush(o->fp)) {
        o->err = errno;
        return -1;
    }
    return 0;
}

int output_body(output *o, const void *data, size_t len)
{
    if (o->check_binary) {
        /* Only the first piece is looked at, as curl does. */
        o->check_binary = 0;
        if (len && memchr(data, 0, len)) {
            o->binary_refused = 1;
            return -1;
        }
    }
    return output_write(o, data, len);
}

int output_rewind(output *o, int64_t size)
{
    if (!o->path)
        return -1; /* what reached standard output stays there */
    if (o->fp) {
        if (fflush(o->fp) || ftruncate(fileno(o->fp), (off_t)size) ||
            fseeko(o->fp, (off_t)size, SEEK_SET)) {
            o->err = errno ? errno : EIO;
            return -1;
        }
    }
    o->written = 0;
    return 0;
}

int output_flush(output *o)
{
    if (o->fp && fflush(o->fp)) {
        o->err = errno;
        return -1;
    }
    return 0;
}

int output_finish(output *o, int create)
{
    int rc = 0;
    if (!o->path) {
        if (fflush(stdout) || ferror(stdout)) {
            o->err = errno ? errno : EIO;
            clearerr(stdout);
            rc = -1;
        }
        return rc;
    }
    if (!o->fp && create && !o->open_failed && open_file(o))
        return -1;
    if (o->fp) {
        if (ferror(o->fp)) {
            if (!o->err)
                o->err = EIO;
            rc = -1;
        }
        if (fclose(o->fp) && !rc) {
            o->err = errno;
            rc = -1;
        }
        o->fp = NULL;
    }
    free(o->vbuf);
    o->vbuf = NULL;
    return rc;
}

/* Colour of a status code: 2xx green, 3xx yellow, 4xx and 5xx red. */
static const char *status_color(const char *code, size_t n)
{
    if (n < 3 || code[1] < '0' || code[1] > '9' || code[2] < '0' ||
        code[2] > '9')
        return NULL;
    switch (code[0]) {
    case '2': return "\033[1;32m";
    case '3': return "\033[1;33m";
    case '4':
    case '5': return "\033[1;31m";
    default: return NULL;
    }
}

/* One line of a head, coloured: the request line bold, the status code
 * and reason by class, header names bold. */
static void add_colored(sbuf *b, hf_info type, int first, const char *p,
                        size_t n)
{
    if (first && type == HF_INFO_HEADER_OUT) {
        sb_adds(b, CLR_BOLD);
        sb_add(b, p, n);
        sb_adds(b, CLR_RESET);
        return;
    }
    if (first && type == HF_INFO_HEADER_IN && n > 5 && !memcmp(p, "HTTP/", 5)) {
        const char *sp = memchr(p, ' ', n);
        if (sp) {
            size_t v = (size_t)(sp - p) + 1;
            const char *col = status_color(p + v, n - v);
            if (col) {
                sb_add(b, p, v);
                sb_adds(b, col);
                sb_add(b, p + v, n - v);
                sb_adds(b, CLR_RESET);
                return;
            }
        }
    } else if (type != HF_INFO_TEXT && n && p[0] != ' ' && p[0] != '\t') {
        const char *colon = memchr(p, ':', n);
        if (colon) {
            sb_adds(b, CLR_BOLD);
            sb_add(b, p, (size_t)(colon - p));
            sb_adds(b, CLR_RESET);
            sb_add(b, colon, n - (size_t)(colon - p));
            return;
        }
    }
    sb_add(b, p, n);
}

void verbose_debug(void *arg, hf_info type, uint64_t t_ns, const char *data,
                   size_t len)
{
    (void)arg;
    char mark;
    const char *mcol;
    switch (type) {
    case HF_INFO_TEXT: mark = '*'; mcol = "\033[36m"; break;
    case HF_INFO_HEADER_OUT: mark = '>'; mcol = "\033[1;34m"; break;
    case HF_INFO_HEADER_IN: mark = '<'; mcol = "\033[1;35m"; break;
    default: return; /* body bytes are not shown */
    }
    int color = cli_color();
    char stamp[80];
    int sl;
    if (color)
        sl = snprintf(stamp, sizeof stamp,
                      CLR_DIM "[%7.3fms]" CLR_RESET " %s%c" CLR_RESET " ",
                      (double)t_ns / 1e6, mcol, mark);
    else
        sl = snprintf(stamp, sizeof stamp, "[%7.3fms] %c ",
                      (double)t_ns / 1e6, mark);
    if (sl < 0 || (size_t)sl >= sizeof stamp)
        return;
    sbuf b = {0};
    const char *p = data, *end = data + len;
    int first = 1;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        while (le > p && le[-1] == '\r')
            le--;
        sb_add(&b, stamp, (size_t)sl);
        /* a server's bytes reach the terminal only as text: control bytes
         * (an ESC would start a terminal escape sequence) become \xNN */
        sbuf line = {0};
        for (const char *q = p; q < le; q++) {
            unsigned char ch = (unsigned char)*q;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                char hex[8];
                snprintf(hex, sizeof hex, "\\x%02X", ch);
                sb_adds(&line, hex);
            } else {
                sb_addc(&line, (char)ch);
            }
        }
        if (color)
            add_colored(&b, type, first, line.p ? line.p : "", line.len);
        else
            sb_add(&b, line.p ? line.p : "", line.len);
        sb_free(&line);
        sb_addc(&b, '\n');
        p = next;
        first = 0;
    } while (p < end);
    fwrite(b.p, 1, b.len, stderr);
    sb_free(&b);
}
