/* json.h -- a small JSON writer for the views (HAR, the event lines): values
 * appended to a buf with the commas placed for the caller; strings escaped
 * (quote, backslash, control bytes as \u00XX) and made valid UTF-8 (a byte
 * that does not belong to a well-formed sequence becomes U+FFFD). */
#ifndef HF_JSON_H
#define HF_JSON_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define JW_DEPTH 16

typedef struct jw {
    buf b;
    int err;                     /* sticky: the first failure */
    int depth;
    int afterkey;                /* a key was written, its value is next */
    unsigned char more[JW_DEPTH];/* a value was written at this depth */
} jw;

void jw_init(jw *w);
/* The text (malloc'd), or NULL after any failure (the buffer is freed). */
char *jw_take(jw *w);
void jw_free(jw *w);

void jw_obj(jw *w);              /* { */
void jw_obj_end(jw *w);          /* } */
void jw_arr(jw *w);              /* [ */
void jw_arr_end(jw *w);          /* ] */
void jw_key(jw *w, const char *k);
void jw_strn(jw *w, const char *s, size_t n);
void jw_str(jw *w, const char *s);   /* NULL: null */
void jw_int(jw *w, int64_t v);
void jw_uint(jw *w, uint64_t v);
/* A number with this many decimals (non-finite: 0). */
void jw_num(jw *w, double v, int decimals);
void jw_bool(jw *w, int v);
void jw_null(jw *w);
/* Bytes as they are, between values (a newline for readability). */
void jw_raw(jw *w, const char *s);
/* A newline before the next value (after its comma, if it needs one). */
void jw_newline(jw *w);

/* Appends s[0..n) escaped, without the quotes.  0 or an HF_E_* value. */
int json_escape(buf *b, const char *s, size_t n);

/* "client", "server", "reset" or "unknown" for HF_CLOSED_*. */
const char *closed_by_name(int closed_by);
#endif
