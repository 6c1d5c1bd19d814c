/* parallel.h -- curl's -Z: every URL of every group at once on one
 * client, through the library's asynchronous API (hf_submit).
 *
 * At most --parallel-max transfers run at once (hf_client_set_limits), at
 * most --per-host-max to one host and port, and --rate spaces their starts
 * (hf_client_set_rate); a retry waits its backoff with hf_submit_delayed.
 * Each transfer writes to its own file (-o, -O, --output-dir); bodies for
 * standard output are never interleaved: one transfer at a time writes
 * there, the others keep what they have in memory until their turn (-w
 * lines wait likewise).  Each failure is one line that names its URL; a
 * summary line ends the run on stderr (transfers, failures, bytes, time)
 * unless -s; on a terminal one progress line is redrawn meanwhile. */
#ifndef HFLOW_PARALLEL_H
#define HFLOW_PARALLEL_H

#include <stddef.h>

#include "hflow.h"
#include "job.h"

typedef struct par_opts {
    long max;            /* --parallel-max (curl's default 50) */
    long per_host;       /* --per-host-max, 0 = none */
    double rate;         /* --rate: starts a second, 0 = none */
    int quiet;           /* -s in some group: no summary, no meter */
    int meter;           /* the progress line may be drawn */
} par_opts;

/* Runs the URLs of groups[0..n) (each started: body built, client
 * options applied, -D open).  Sets each group's exitcode to the code of
 * its failing transfer that comes last on the command line (as the
 * serial run's "last failing transfer"), 0 when none failed, and fatal
 * when a setup error stopped the run early. */
void parallel_run(hf_client *client, run **groups, size_t n,
                  const par_opts *o);

#endif
