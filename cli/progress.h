/* progress.h -- the progress meter hflow draws on a terminal's stderr.
 *
 * One line, redrawn in place with '\r' at most five times a second, and
 * only once a transfer has run for a second (quick transfers never show
 * it).  The body path pays a counter update and one coarse clock read per
 * piece (progress_add, inline); everything else happens at draw time. */
#ifndef HFLOW_PROGRESS_H
#define HFLOW_PROGRESS_H

#include <stdint.h>
#include <time.h>

#include "hflow.h"

enum { PROG_METER = 0, PROG_BAR = 1 }; /* the default line, or -# */

#define PROG_SAMPLES 10 /* rate window: the last 10 draws (about 2 s) */

typedef struct progress {
    int64_t bytes;   /* body bytes delivered so far */
    int64_t next_ns; /* the coarse clock value of the next draw */
    int64_t total;   /* expected body bytes, -1 when unknown */
    int64_t start_ns;
    int style;
    int nobody;      /* HEAD, 204, 304: nothing to show */
    int shown;       /* a line of ours is on the terminal */
    int lastlen;     /* its length, to blank what a shorter one leaves */
    int nsamp, sidx; /* rate samples (time, bytes) at draw times */
    int64_t samp_t[PROG_SAMPLES], samp_b[PROG_SAMPLES];
} progress;

/* Whether the meter may be drawn at all: stderr is a terminal. */
int progress_tty(void);

/* Starts a transfer's meter (call just before sending). */
void progress_begin(progress *p, int style);
/* The final response head: takes the expected size from Content-Length
 * (unknown when the body is decoded or chunked; none for a HEAD request,
 * 204 and 304). */
void progress_head(progress *p, const hf_response *resp, int head_method,
                   int decoding);
/* Draws now (called by progress_add when the time has come). */
void progress_tick(progress *p, int64_t now_ns);
/* Ends the transfer's meter: when a line was shown, it is drawn a last
 * time with the final figures and ended with a newline. */
void progress_end(progress *p);

static inline int64_t progress_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The body path: count the piece, and draw when it is time. */
static inline void progress_add(progress *p, size_t n)
{
    p->bytes += (int64_t)n;
    int64_t now = progress_clock();
    if (now >= p->next_ns)
        progress_tick(p, now);
}

#endif
