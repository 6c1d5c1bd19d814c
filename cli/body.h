/* body.h -- the request body or query built from -d, --data-*, --json, -F
 * and -G, and how it is attached to each request (in memory, or streamed
 * from a file or standard input). */
#ifndef HFLOW_BODY_H
#define HFLOW_BODY_H

#include "args.h"
#include "hflow.h"

/* Files larger than this are streamed instead of read into memory. */
#define BODY_STREAM_MIN ((int64_t)1 << 20)

enum {
    BODY_NONE = 0,
    BODY_MEM,   /* mem */
    BODY_FILE,  /* path, size: a large regular file, streamed */
    BODY_STDIN, /* standard input, streamed chunked (length unknown) */
    BODY_SEGS,  /* multipart with large files: memory and file pieces */
    BODY_PIPE   /* path: not a regular file (a FIFO...), streamed chunked */
};

typedef struct body_seg {
    char *mem;    /* a piece in memory, or NULL for a file */
    size_t len;
    char *path;   /* a file of size bytes */
    int64_t size;
} body_seg;

typedef struct body {
    int kind;
    sbuf mem;
    char *path;
    int64_t size;
    body_seg *segs;
    size_t nsegs;
    int64_t total;           /* length of BODY_SEGS */
    char *content_type;      /* default Content-Type, or NULL */
    int json;                /* also a default Accept: application/json */
    int has_data;            /* some -d/--json/... was given */
    int has_form;            /* some -F was given */
} body;

/* The state of one request's streamed body; lives until hf_send returns. */
typedef struct body_reader {
    const body *b;
    int fd;
    size_t seg;
    int64_t off;
    int64_t nread;  /* bytes handed to the library so far */
} body_reader;

/* Builds the body, or with -G the query (into query), from c.  nurls says
 * whether standard input may be streamed (only to a single URL).  Returns 0
 * or an exit code after printing the message. */
int cli_body_build(const cfg *c, size_t nurls, body *b, sbuf *query);
void cli_body_free(body *b);

/* -T FILE: the body of an upload, streamed -- a regular file with its
 * size, standard input ("-" or ".") and anything else chunked.  Returns 0,
 * or 26 after the message when FILE cannot be read. */
int cli_upload_build(const char *path, body *b);
/* Whether the body can be sent again after rd read from it (standard
 * input and pipes cannot, once a byte was taken). */
int cli_body_rewindable(const body *b, const body_reader *rd);

/* Attaches b to r using rd for streamed bodies; cli_body_reader_done closes
 * what the reader opened once hf_send has returned. */
hf_err cli_body_attach(const body *b, hf_request *r, body_reader *rd);
void cli_body_reader_done(body_reader *rd);

/* Appends s percent-encoded: everything except ALPHA DIGIT - . _ ~ */
void cli_urlencode(sbuf *out, const char *s, size_t n);

/* Appends query to url before any '#fragment', with '?' or '&'.
 * Returns a new string. */
char *cli_add_query(const char *url, const char *query);

#endif
