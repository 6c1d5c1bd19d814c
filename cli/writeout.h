/* writeout.h -- -w/--write-out: curl's %{variables} after each transfer. */
#ifndef HFLOW_WRITEOUT_H
#define HFLOW_WRITEOUT_H

#include <stdio.h>

#include "hflow.h"

typedef struct wo_info {
    const hf_response *resp;  /* may be NULL */
    const char *url;          /* the URL as given (fallback for url_effective) */
    const char *method;
    const char *filename;     /* -o / -O file, or NULL */
    int exitcode;             /* this transfer's exit code (22 with -f) */
    const char *errormsg;     /* its message, or "" */
    long num_connects;        /* new connections made by this transfer */
    long num_retries;         /* --retry: retries made */
} wo_info;

/* Writes format to out (or to stderr after %{stderr}). */
void writeout(const char *format, const wo_info *wi, FILE *out);

#endif
