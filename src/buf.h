/* buf.h -- a growable byte buffer with a hard cap (in the spirit of curl's
 * dynbuf): an append past the cap, or a failed allocation, frees nothing
 * the caller did not own and reports the error; data stays NUL-terminated. */
#ifndef HF_BUF_H
#define HF_BUF_H
#include <stddef.h>

typedef struct buf {
    char *data;     /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;     /* allocated bytes */
    size_t max;     /* the most len may grow to */
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
/* 0, or HF_E_NOMEM / HF_E_TOO_LARGE; the buffer is unchanged on error. */
int buf_add(buf *b, const void *p, size_t n);
int buf_adds(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the data to the caller (malloc'd, NUL-terminated); b is reset. */
char *buf_take(buf *b);
#endif
