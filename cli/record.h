/* record.h -- the run's machine-readable records: --trace-json FILE (every
 * trace event, one JSON object a line, as it happens) and --har FILE (a
 * HAR 1.2 log of every transfer, written at the end).  Both are options
 * of the whole run: the first group (--next) that names a file sets it. */
#ifndef HFLOW_RECORD_H
#define HFLOW_RECORD_H

#include "args.h"
#include "hflow.h"

/* Takes a group's --har / --trace-json (opening the trace file and
 * listening to client's events).  Returns 0, or 23 after the message
 * when the trace file cannot be opened. */
int record_setup(const cfg *c, hf_client *client);
/* The wall clock (CLOCK_REALTIME) in seconds: when a transfer begins. */
double record_clock(void);
/* With --har, keeps resp (begun at started) for the log and returns 1:
 * the caller must not free it.  Otherwise returns 0. */
int record_keep(hf_response *resp, double started);
/* After the client is freed (so the trace has the teardown): writes the
 * HAR, closes the trace file, frees what was kept.  Returns 0, or 23
 * after the message when a file could not be written. */
int record_finish(void);

#endif
