/* retry.h -- --retry and its friends, with curl's meanings: which failures
 * are transient, how long to wait (exponential backoff from 1 s doubling
 * up to 10 minutes with +-25% jitter, or --retry-delay; at least what
 * Retry-After asks), and the --retry-max-time budget. */
#ifndef HFLOW_RETRY_H
#define HFLOW_RETRY_H

#include <stdint.h>
#include <time.h>

#include "args.h"
#include "hflow.h"

/* Why an attempt may be retried. */
enum {
    RETRY_NO = 0,
    RETRY_ALL,         /* --retry-all-errors */
    RETRY_TIMEOUT,     /* 28, and 6 (a name that did not resolve), as curl */
    RETRY_CONNREFUSED, /* 7 with ECONNREFUSED, with --retry-connrefused */
    RETRY_HTTP         /* 408, 429, 500, 502, 503, 504 */
};

/* Why retry_delay said no. */
enum { RETRY_WHY_NONE = 0, RETRY_WHY_LATE };

typedef struct retry_state {
    long left;          /* retries left */
    long backoff_ms;    /* the next exponential delay, before jitter */
    int64_t start_ns;   /* the first attempt began (CLOCK_MONOTONIC) */
    long count;         /* retries made (%{num_retries}) */
} retry_state;

/* Before the first attempt of a transfer. */
void retry_start(retry_state *rs, const cfg *c);

/* A status curl retries (408, 429, 500, 502, 503, 504). */
int retry_status(int status);
/* The method may be retried: idempotent (RFC 9110 section 9.2.2: GET,
 * HEAD, OPTIONS, TRACE, PUT, DELETE), or --retry-all-errors. */
int retry_method_ok(const cfg *c, const char *method);

/* The kind of a finished attempt: code is its exit code (0, 22 with -f),
 * http whether its status was transient (RETRY_HTTP then), resp its
 * response (for ECONNREFUSED).  RETRY_NO for the methods not retried. */
int retry_kind(const cfg *c, const char *method, int code, int http,
               const hf_response *resp);

/* The wait in ms before the next attempt, or -1 when there is none: no
 * retry left, the --retry-max-time budget spent, or (why RETRY_WHY_LATE)
 * a Retry-After beyond that budget.  Has no effect: retry_commit does. */
long retry_delay(const retry_state *rs, const cfg *c, int kind,
                 const hf_response *resp, int *why);
/* Takes the retry: prints curl's "Problem ... Will retry in N seconds.
 * M retries left." (unless -s), counts it and doubles the backoff. */
/* url: named in the message (transfers at once, -Z), or NULL */
void retry_commit(retry_state *rs, const cfg *c, int kind, long delay_ms,
                  const char *url);
/* Sleeps ms milliseconds. */
void retry_sleep(long ms);

/* A Retry-After value (delay-seconds or an HTTP-date, RFC 9110 section
 * 10.2.3) as ms from now, or -1 when it is not one. */
long retry_after_ms(const char *value, time_t now);

#endif
