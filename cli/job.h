/* job.h -- one URL's transfer across its attempts, shared by the two ways
 * hflow runs them: one after another (cli/main.c, hf_send) and many at
 * once (cli/parallel.c, hf_submit).  A job plans its output (-o, -O, -J,
 * --output-dir, -C), builds its request from the group's options, writes
 * heads and bodies from the request's callbacks, decides retries, and
 * finishes (the file, --remove-on-error, -w). */
#ifndef HFLOW_JOB_H
#define HFLOW_JOB_H

#include <stdint.h>

#include "args.h"
#include "body.h"
#include "cli.h"
#include "hflow.h"
#include "output.h"
#include "progress.h"
#include "retry.h"

/* One group of options and URLs (curl's --next separates them) as it
 * runs: its body, -D, the exit code of its transfers. */
typedef struct run {
    cfg *c;
    hf_client *client;
    body body;
    sbuf query;
    const char *method;
    output dump;
    int have_dump;
    int exitcode;  /* the last failing transfer's code */
    int fatal;     /* stop before the next URL */
    int meter;     /* the progress meter may be shown (stderr a terminal) */
    progress pm;
    int parallel;  /* the jobs run at once (cli/parallel.c) */
} run;

/* Everything one attempt's callbacks need. */
/* -Z: what a transfer writes for standard output while another one has
 * it.  The first HOLD_MEM bytes stay in memory, the rest goes to an
 * unlinked temporary file (in $TMPDIR, else /tmp), so that many large
 * bodies waiting for their turn do not fill the memory. */
#define HOLD_MEM (1u << 20)
typedef struct hold {
    sbuf mem;
    FILE *spill;      /* the rest, or NULL */
} hold;
void hold_init(hold *h);
/* 0, or -1 when the spill file cannot be made or written (errno set). */
int hold_add(hold *h, const void *data, size_t len);
/* Writes it all as body to out and empties it: 0, or the first write's
 * error (read errors of the spill file included). */
int hold_flush(hold *h, output *out);
/* Empties it (a retried attempt's output never shows). */
void hold_reset(hold *h);
void hold_free(hold *h);

typedef struct xfer {
    const cfg *c;
    output *out;      /* the body's destination */
    output *dump;     /* -D, or NULL */
    output *failed;   /* the output whose write failed, if any */
    progress *meter;  /* the progress meter, or NULL */
    hold *hold;       /* -Z: standard output is another job's for now;
                       * what this one writes there waits here */
    int64_t *tally;   /* -Z: body bytes of the whole run, or NULL */
    int discard;      /* -o /dev/null: nothing is written at all */
    int http_error;   /* -f/--fail-with-body and status >= 400 */
    int status;
    int64_t body_bytes;       /* body bytes delivered by this attempt */
    /* --retry */
    const retry_state *rs;
    const body *b;            /* the request body and its reader: can it */
    const body_reader *rd;    /* be sent again? */
    const char *method;
    long retry_ms;    /* >= 0: a transient status that is retried after
                       * this wait; its body is not the download */
    int retry_why;    /* why not (RETRY_WHY_LATE: Retry-After too far) */
    /* -C */
    int64_t offset;   /* the Range asked for; 0 = none */
    int range_error;  /* the server ignored the range: 33 */
    int resumable;    /* a later attempt may ask for the rest (206 from
                       * offset, or 200 with Accept-Ranges: bytes) */
    /* -J */
    int cd_name;      /* take the file name from Content-Disposition */
    int no_name;      /* ... and the URL has none: it must give one */
    char **cd_path;   /* the name it gave, joined to --output-dir */
    int name_error;   /* -J gave no usable name and the URL has none */
} xfer;

/* Where one URL's body goes. */
typedef struct dest {
    char *path;      /* the file, or NULL for standard output */
    int cd_name;     /* -OJ: Content-Disposition may name it */
    int no_name;     /* -OJ and the URL names no file */
    int64_t offset;  /* -C: the first byte to ask for (0: all) */
    int64_t base;    /* what the file held before the attempt (when
                      * appending): a retry cuts it back to this */
    int resuming;    /* -C into an existing file: it is the download */
    int discard;     /* the path is /dev/null: the body is counted, never
                      * written (no open, write or close per transfer) */
} dest;

/* One URL's transfer across its attempts. */
typedef struct job {
    run *st;
    const char *url;
    const char *method;
    const body *b;     /* the request body: the group's, or up */
    body up;           /* -T FILE */
    dest d;
    output out;
    char *cd_path;     /* -J: the file the server named */
    char *upurl;       /* -T: the URL with the file's name */
    char *full;        /* -G: the URL with the query */
    hf_request *r;
    body_reader rd;
    retry_state rs;
    xfer x;            /* the current attempt */
    long connects;     /* connections opened by all attempts */
    long before;       /* the client's connection count when the attempt
                        * began (one after another only) */
    double started;    /* when the current attempt began (--har) */
} job;

/* The method the group's options ask for, and curl's "one request
 * method" rule (0, or 2 after the message). */
const char *job_method_for(const cfg *c, const body *b);
int job_method_conflict(const cfg *c);

/* Says why an output could not be written ("hflow: (23) ..."); tag, when
 * not NULL, leads the message (-Z names the URL). */
void job_report_write_failure(const output *o, const char *tag);

/* Plans the output and builds the request of the group's URL idx.
 * Returns 0, or an exit code after the message (st->fatal set when the
 * next URLs cannot go either). */
int job_setup(job *j, run *st, size_t idx);
void job_free(job *j);

/* An attempt in two halves around hf_send or hf_submit.  begin readies
 * the callbacks, the Range and the body reader: 0, or -1 after the
 * message (st->exitcode and st->fatal set).  end takes the attempt's
 * result (resp never NULL), prints its failure (every failed attempt
 * says why, as curl) into emsg too, and returns its exit code. */
int job_attempt_begin(job *j);
int job_attempt_end(job *j, hf_err e, const hf_response *resp, sbuf *emsg);

/* --retry: the wait in ms before the next attempt (the output and the
 * body made ready for it), or -1 when this attempt is the last. */
long job_retry(job *j, int code, const hf_response *resp);

/* After the last attempt: the file, -D, --remove-on-error, -w.  Returns
 * the job's exit code. */
int job_finish(job *j, hf_response *resp, int code, sbuf *emsg);

#endif
