/* decode.h -- content codings (RFC 9110 8.4.1): gzip, x-gzip, deflate (zlib
 * format, with a fall-back to raw deflate as curl does), identity.
 * A chain of at most DECODE_MAX_CHAIN codings (curl's limit of 5). */
#ifndef HF_DECODE_H
#define HF_DECODE_H
#include <stddef.h>

#define DECODE_MAX_CHAIN 5

typedef struct decoder decoder;
/* Output callback: return 0 to go on, non-zero to stop (returned as-is). */
typedef int decode_out_fn(void *arg, const void *data, size_t len);

/* From a Content-Encoding header value (comma list, applied in order, so
 * decoded in reverse).  Returns 0 and *out (NULL when the value is only
 * identity), HF_E_BAD_CONTENT_ENCODING (61) for an unknown coding or a
 * chain longer than DECODE_MAX_CHAIN, or HF_E_NOMEM (27). */
int decoder_new(decoder **out, const char *content_encoding,
                decode_out_fn *fn, void *arg);
/* Feed encoded bytes; decoded bytes go to fn.  Returns 0, the callback's
 * non-zero value, or HF_E_BAD_CONTENT_ENCODING for corrupt data (also data
 * after the end of the stream that is not another gzip member). */
int decoder_feed(decoder *d, const void *in, size_t len);
/* The body ended: HF_E_BAD_CONTENT_ENCODING unless every stream ended
 * cleanly (a truncated encoded body is an error, never a short success). */
int decoder_finish(decoder *d);
void decoder_free(decoder *d);
#endif
