/* record.c -- --trace-json and --har (see record.h). */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "events.h"

static struct {
    FILE *trace;           /* --trace-json, or NULL */
    char *trace_path;
    int trace_err;         /* errno of the first failed write */
    char *har_path;        /* --har, or NULL */
    hf_response **resp;    /* kept for the HAR */
    double *started;
    size_t n, cap;
} R;

static int is_stdout(const char *path)
{
    return strcmp(path, "-") == 0;
}

static void on_event(void *arg, const hf_event *ev)
{
    (void)arg;
    char *line = hf_view_event_json(ev);
    if (!line)
        die_nomem();
    if (!R.trace_err && (fputs(line, R.trace) == EOF || fputc('\n', R.trace) == EOF))
        R.trace_err = errno ? errno : EIO;
    free(line);
}

int record_setup(const cfg *c, hf_client *client)
{
    if (c->har && !R.har_path)
        R.har_path = xstrdup(c->har);
    if (c->trace_json && !R.trace_path) {
        if (is_stdout(c->trace_json)) {
            R.trace = stdout;
        } else {
            R.trace = fopen(c->trace_json, "w");
            if (!R.trace) {
                cli_error(HF_E_WRITE, "Failed to open the file %s: %s",
                          c->trace_json, strerror(errno));
                return HF_E_WRITE;
            }
            /* a line at a time: the file can be followed as it grows */
            setvbuf(R.trace, NULL, _IOLBF, 0);
        }
        R.trace_path = xstrdup(c->trace_json);
        if (events_add_listener(client, on_event, NULL) != 0) {
            cli_error(HF_E_WRITE, "cannot listen to the trace for %s", c->trace_json);
            return HF_E_WRITE;
        }
    }
    return 0;
}

double record_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int record_keep(hf_response *resp, double started)
{
    if (!R.har_path || !resp)
        return 0;
    if (R.n == R.cap) {
        R.cap = R.cap ? R.cap * 2 : 16;
        R.resp = xrealloc(R.resp, R.cap * sizeof *R.resp);
        R.started = xrealloc(R.started, R.cap * sizeof *R.started);
    }
    R.resp[R.n] = resp;
    R.started[R.n] = started;
    R.n++;
    return 1;
}

static int write_har(void)
{
    char *har = hf_view_har((const hf_response *const *)R.resp, R.n, R.started);
    if (!har)
        die_nomem();
    int rc = 0;
    FILE *f = is_stdout(R.har_path) ? stdout : fopen(R.har_path, "w");
    if (!f) {
        cli_error(HF_E_WRITE, "Failed to open the file %s: %s", R.har_path,
                  strerror(errno));
        rc = HF_E_WRITE;
    } else {
        size_t len = strlen(har);
        int bad = fwrite(har, 1, len, f) != len;
        bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
        if (bad) {
            cli_error(HF_E_WRITE, "Failure writing the HAR to %s: %s", R.har_path,
                      strerror(errno));
            rc = HF_E_WRITE;
        }
    }
    free(har);
    return rc;
}

int record_finish(void)
{
    int rc = 0;
    if (R.har_path)
        rc = write_har();
    for (size_t i = 0; i < R.n; i++)
        hf_response_free(R.resp[i]);
    free(R.resp);
    free(R.started);
    free(R.har_path);
    if (R.trace) {
        int bad = R.trace_err != 0;
        int err = R.trace_err;
        if (R.trace == stdout) {
            bad |= fflush(stdout) != 0;
        } else if (fclose(R.trace) != 0) {
            bad = 1;
            err = err ? err : errno;
        }
        if (bad) {
            cli_error(HF_E_WRITE, "Failure writing the trace to %s: %s",
                      R.trace_path, strerror(err ? err : EIO));
            rc = HF_E_WRITE;
        }
    }
    free(R.trace_path);
    memset(&R, 0, sizeof R);
    return rc;
}
