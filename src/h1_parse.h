/* h1_parse.h -- HTTP/1.x response parsing (RFC 9112): the head, the message
 * framing, and the chunked transfer coding.  Pure and incremental: no I/O,
 * no allocation, any split of the input works. */
#ifndef HF_H1_PARSE_H
#define HF_H1_PARSE_H
#include <stddef.h>
#include <stdint.h>

#define H1_MAX_HEAD   (300 * 1024) /* all header bytes of one response */
#define H1_MAX_LINE   (100 * 1024) /* bytes before the LF of one line (a
                                    * field with its obs-folds counts as
                                    * one line; so does a chunk-size line) */
#define H1_MAX_FIELDS 500          /* header fields in one response */

/* Return codes (negative = error). */
enum {
    H1_INCOMPLETE = -1,      /* need more bytes */
    H1_ERR_STATUS = -2,      /* malformed status line */
    H1_ERR_HEADER = -3,      /* malformed header field */
    H1_ERR_TOO_LARGE = -4,   /* a limit above was passed */
    H1_ERR_FRAMING = -5,     /* bad / conflicting Content-Length, bad TE */
    H1_ERR_CHUNK = -6,       /* bad chunk size line, overflow, bad CRLF */
};

typedef struct h1_header {
    const char *name;  size_t name_len;   /* point into the caller's buffer */
    const char *value; size_t value_len;  /* OWS trimmed; obs-fold -> SP */
} h1_header;

typedef struct h1_resp {
    int minor;                 /* 0 or 1 (HTTP/1.x) */
    int status;                /* 100..999 */
    const char *reason; size_t reason_len;  /* may be empty */
    size_t nhdr;               /* fields stored in the caller's array */
} h1_resp;

/* Parse a response head at the start of buf[0..len).  buf is modified in
 * place only to replace obs-fold line breaks by spaces (RFC 9112 5.2).
 * Returns the head's length in bytes (> 0, through the blank line) when
 * complete, H1_INCOMPLETE when more bytes are needed (and no limit is yet
 * exceeded), or an H1_ERR_* value.  hdrs has room for cap fields; more
 * than min(cap, H1_MAX_FIELDS) fields is H1_ERR_TOO_LARGE.  Accepts bare LF
 * as line end (RFC 9112 2.2).  Status line: "HTTP/1.x SP 3DIGIT [SP reason]"
 * with the status 100..999.  A NUL or a CR not before LF in a field is
 * H1_ERR_HEADER; so is whitespace before ':' or a fold before any field.
 * One pass over buf per call: callers re-call with the longer buffer. */
int h1_parse_head(char *buf, size_t len, h1_resp *out, h1_header *hdrs,
                  size_t cap);

/* Body framing of a response (RFC 9112 6.3). */
enum { H1_BODY_NONE = 0, H1_BODY_LENGTH, H1_BODY_CHUNKED, H1_BODY_CLOSE };
typedef struct h1_framing {
    int kind;             /* H1_BODY_* */
    uint64_t length;      /* for H1_BODY_LENGTH */
    int must_close;       /* the connection cannot be reused after this
                           * response: Connection: close, HTTP/1.0 without
                           * keep-alive, close-delimited body, or chunked
                           * in an HTTP/1.0 response */
} h1_framing;
/* Decide the framing.  head_request: the request was HEAD.  Rules: 1xx, 204,
 * 304 and HEAD have no body (must_close then only from Connection / 1.0);
 * Transfer-Encoding together with Content-Length -> H1_ERR_FRAMING (RFC
 * 9112 6.3 rule 3 "ought to be handled as an error"); Transfer-Encoding
 * (all fields, one list) with chunked last -> chunked (must_close set for
 * an HTTP/1.0 response); chunked not last, or twice, or an empty TE ->
 * H1_ERR_FRAMING; TE without chunked -> close-delimited; Content-Length:
 * digits only, at most INT64_MAX, duplicates or list members must be
 * equal, else H1_ERR_FRAMING; neither -> close-delimited.  Returns 0 or
 * H1_ERR_FRAMING. */
int h1_framing_of(const h1_resp *r, const h1_header *hdrs, int head_request,
                  h1_framing *f);

/* Case-insensitive header lookup helper: the first field named name at or
 * after index from; returns its index or -1. */
int h1_find(const h1_header *hdrs, size_t n, const char *name, size_t from);

/* Chunked decoder (RFC 9112 7.1).  Zero-initialise before the first call. */
typedef struct h1_chunked {
    int state;            /* private */
    uint64_t remaining;   /* private: data bytes left in this chunk */
    size_t line_len;      /* private: bytes in the current size/trailer line */
    size_t trailer_len;   /* private: trailer bytes so far */
} h1_chunked;
/* Feed in[0..len).  On return *consumed is the number of input bytes used;
 * if *data_len > 0, *data points at body bytes inside in (no copy) and the
 * caller must deliver them and call again with the rest.  Returns 1 when
 * the last chunk and trailers are complete (*consumed then ends exactly
 * after them), 0 when it needs more input (all input was consumed, or data
 * was returned), or H1_ERR_CHUNK / H1_ERR_TOO_LARGE.  Chunk extensions are
 * skipped (bounded by H1_MAX_LINE); sizes are hex digits only, overflow
 * checked (a size above INT64_MAX is an error; leading zeros are free
 * within the line limit); trailers are bounded by H1_MAX_HEAD and
 * skipped.  Size and trailer lines may end in a bare LF; chunk data must be
 * followed by exactly CRLF.  Errors are sticky, and so is completion. */
int h1_chunked_step(h1_chunked *d, const char *in, size_t len,
                    size_t *consumed, const char **data, size_t *data_len);
#endif
