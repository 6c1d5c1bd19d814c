/* trace.c -- what a request did, step by step, with times.
 *
 *   trace URL
 *
 * Prints the events of the transfer (hf_response_trace: DNS, connect,
 * request, response, the connection's fate), then the sequence diagram
 * drawn from them (hf_view_flow), then the teardown of the connection as
 * it happens when the client closes it (hf_client_set_event_fn, one JSON
 * line per event, the format of `hflow --trace-json`). */
#include <hflow.h>
#include <stdio.h>
#include <stdlib.h>

/* Every event of the client as it is recorded; borrowed for the call.
 * No call into the client from here. */
static void on_event(void *arg, const hf_event *ev)
{
    (void)arg;
    char *line = hf_view_event_json(ev);           /* ours: free() it */
    if (line)
        printf("teardown %s\n", line);
    free(line);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    int rc = 1;
    hf_event *evs = NULL;
    hf_response *rs = NULL;
    hf_client *c = hf_client_new();
    hf_request *rq = hf_request_new("GET", argv[1]);
    if (!c || !rq) {
        fprintf(stderr, "trace: out of memory\n");
        goto out;
    }
    hf_err e = hf_send(c, rq, &rs);
    if (!rs) {
        fprintf(stderr, "trace: %s\n", hf_strerror(e));
        goto out;
    }
    /* A failed transfer has a trace too: print it either way. */
    const hf_trace *tr = hf_response_trace(rs);    /* owned by rs */
    size_t n = hf_trace_count(tr);
    if (!(evs = calloc(n ? n : 1, sizeof *evs))) {
        fprintf(stderr, "trace: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        hf_trace_event(tr, i, &evs[i]);            /* strings stay in rs */
        const hf_event *ev = &evs[i];
        printf("%10.3f ms  conn %-3ld %-16s %s%s%s\n", ev->t_ns / 1e6,
               ev->conn, hf_ev_name(ev->type), ev->peer,
               *ev->peer && *ev->detail ? "  " : "", ev->detail);
    }
    hf_view_opts o = {100, 0};                     /* 100 columns, no colour */
    char *flow = hf_view_flow(evs, n, &o);
    if (flow)
        fputs(flow, stdout);
    free(flow);
    if (e != HF_OK)
        fprintf(stderr, "trace: (%d) %s\n", (int)e, hf_response_errmsg(rs));
    else
        rc = 0;
    /* The connection outlives the transfer (it was pooled): watch it close. */
    hf_client_set_event_fn(c, on_event, NULL);
    hf_client_close_idle(c, 100);
out:
    free(evs);
    hf_response_free(rs);
    hf_request_free(rq);
    hf_client_free(c);
    return rc;
}
