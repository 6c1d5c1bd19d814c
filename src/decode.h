/* decode.h -- content codings (RFC 9110 8.4.1): gzip, x-gzip, deflate (zlib
 * format, with a fall-back to raw deflate as curl does), br (RFC 7932, with
 * libbrotlidec), zstd (RFC 8878 frames, window at most 8 MiB as RFC 9659
 * asks, with libzstd), identity.
 * A chain of at most DECODE_MAX_CHAIN codings (curl's limit of 5). */
#ifndef HF_DECODE_H
#define HF_DECODE_H
#include <stddef.h>
#include <stdint.h>

#define DECODE_MAX_CHAIN 5
/* The Accept-Encoding value for every coding decoded here. */
#define DECODE_ACCEPT "gzip, deflate, br, zstd"

typedef struct decoder decoder;
/* Output callback: return 0 to go on, non-zero to stop (returned as-is). */
typedef int decode_out_fn(void *arg, const void *data, size_t len);

/* From a Content-Encoding header value (comma list, applied in order, so
 * decoded in reverse; all the response's Content-Encoding fields joined
 * with ", " by the caller, so the limit counts across fields).  Returns 0
 * and *out (NULL when the value is only identity), HF_E_BAD_CONTENT_ENCODING
 * (61) for an unknown coding or a chain longer than DECODE_MAX_CHAIN, or
 * HF_E_NOMEM (27). */
int decoder_new(decoder **out, const char *content_encoding,
                decode_out_fn *fn, void *arg);
/* At most max_decoded bytes (0, the default: no limit) reach fn; past that
 * decoder_feed stops at once, without decoding further, and returns
 * HF_E_TOO_LARGE (63, curl's --max-filesize code), which sticks.  Exactly
 * max_decoded bytes are delivered first.  Each intermediate stream of a
 * chain is held to 2 * max_decoded + 1 MiB (more than any encoder makes of
 * max_decoded bytes), so a layer that swallows a bomb's output unseen
 * stops too. */
void decoder_set_limit(decoder *d, uint64_t max_decoded);
/* Decoded bytes delivered to fn so far. */
uint64_t decoder_total(const decoder *d);
/* Feed encoded bytes; decoded bytes go to fn.  Returns 0, the callback's
 * non-zero value, HF_E_TOO_LARGE (see decoder_set_limit), HF_E_NOMEM, or
 * HF_E_BAD_CONTENT_ENCODING for corrupt data (also data after the end of
 * the stream that is not another gzip member or zstd frame). */
int decoder_feed(decoder *d, const void *in, size_t len);
/* The body ended: HF_E_BAD_CONTENT_ENCODING unless every stream ended
 * cleanly (a truncated encoded body is an error, never a short success). */
int decoder_finish(decoder *d);
void decoder_free(decoder *d);
#endif
