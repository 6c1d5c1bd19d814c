/* output.h -- where bodies and heads go: standard output (big buffer) or a
 * file opened on the first write, plus the -v flow printer. */
#ifndef HFLOW_OUTPUT_H
#define HFLOW_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "hflow.h"

typedef struct output {
    const char *path;    /* file name; NULL for standard output */
    FILE *fp;            /* NULL until the first write */
    char *vbuf;          /* the stream's buffer (files) */
    int explicit_stdout; /* -o -: binary output to a terminal is fine */
    int check_binary;    /* stdout is a terminal: refuse binary bodies */
    int nobuffer;        /* -N: flush after every write */
    int err;             /* errno of the failure */
    int open_failed;     /* the file could not be created */
    int binary_refused;
    int append;          /* -C: open the file to append to it */
    int excl;            /* -J: create it, never open an existing file */
    int opened;          /* the file was opened (created or appended to) */
    int64_t written;     /* bytes written since init or the last rewind */
} output;

/* Sets up standard output once (large buffer unless it is a terminal). */
void output_stdout_init(void);
/* A fresh output for a file, or for stdout when path is NULL or "-". */
void output_init(output *o, const char *path, int nobuffer);
/* Writes len bytes; 0, or -1 with o->err / o->open_failed /
 * o->binary_refused telling why. */
int output_write(output *o, const void *data, size_t len);
/* Body bytes: like output_write, with the terminal binary check. */
int output_body(output *o, const void *data, size_t len);
/* Ends a transfer's output: flushes stdout or closes the file (creating
 * an empty one when create is set and nothing was written).  Returns 0,
 * or -1 with o->err set. */
int output_finish(output *o, int create);
/* Before a retry: cuts a file back to size bytes and goes on writing
 * there (written restarts at 0).  Returns 0, or -1 (o->err) when it
 * cannot: standard output, or the file cannot be truncated. */
int output_rewind(output *o, int64_t size);
/* Flushes (keeps the file open): for -D across transfers. */
int output_flush(output *o);
int output_is_stdout(const output *o);
/* Standard output, and it is a terminal. */
int output_to_terminal(const output *o);

/* The -v printer: hf_debug_fn writing "[  0.213ms] * ..." lines to
 * stderr ('*' info, '>' sent head, '<' received head), in colour when
 * cli_color() says so. */
void verbose_debug(void *arg, hf_info type, uint64_t t_ns, const char *data,
                   size_t len);

#endif
