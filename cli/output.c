/* output.c -- writing bodies and heads, and the -v flow lines.
 *
 * The body path does no per-byte work: each piece the library hands over
 * goes to fwrite on a stream with a 128 KiB buffer (large pieces bypass
 * the buffer inside stdio).  Files are created on the first write, as
 * curl does, so a failed transfer leaves no empty file behind. */
#include "output.h"

#include <errno.h>
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

static int open_file(output *o)
{
    o->fp = fopen(o->path, "wb");
    if (!o->fp) {
        o->err = errno;
        o->open_failed = 1;
        return -1;
    }
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

void verbose_debug(void *arg, hf_info type, uint64_t t_ns, const char *data,
                   size_t len)
{
    (void)arg;
    char mark;
    switch (type) {
    case HF_INFO_TEXT: mark = '*'; break;
    case HF_INFO_HEADER_OUT: mark = '>'; break;
    case HF_INFO_HEADER_IN: mark = '<'; break;
    default: return; /* body bytes are not shown */
    }
    char stamp[40];
    int sl = snprintf(stamp, sizeof stamp, "[%7.3fms] %c ",
                      (double)t_ns / 1e6, mark);
    if (sl < 0)
        return;
    sbuf b = {0};
    const char *p = data, *end = data + len;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        while (le > p && le[-1] == '\r')
            le--;
        sb_add(&b, stamp, (size_t)sl);
        sb_add(&b, p, (size_t)(le - p));
        sb_addc(&b, '\n');
        p = next;
    } while (p < end);
    fwrite(b.p, 1, b.len, stderr);
    sb_free(&b);
}
