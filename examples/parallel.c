/* parallel.c -- many transfers at once on one client, with limits.
 *
 *   parallel URL [COUNT [RATE]]
 *
 * Fetches URL COUNT times (default 20) on one client: at most 8 transfers
 * at once, 4 to one host and 4 connections to one host; with RATE, at most
 * RATE transfer starts a second.  hf_submit queues; hf_client_run drives
 * them all on the client's one loop and calls done() for each. */
#include <hflow.h>
#include <stdio.h>
#include <stdlib.h>

struct tally {
    int ok, failed;
    long long bytes;
};

/* Called once per transfer from inside hf_client_run.  The response is
 * ours (free it); the transfer handle x is invalid after we return. */
static void done(void *arg, hf_transfer *x, hf_response *rs, hf_err err)
{
    struct tally *t = arg;
    (void)x;
    if (err != HF_OK) {
        t->failed++;
        fprintf(stderr, "parallel: (%d) %s\n", (int)err,
                rs ? hf_response_errmsg(rs) : hf_strerror(err));
    } else {
        size_t len;
        hf_response_body(rs, &len);
        t->ok++;
        t->bytes += (long long)len;
    }
    hf_response_free(rs);                          /* NULL-safe */
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s URL [COUNT [RATE]]\n", argv[0]);
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 20;
    double rate = argc > 3 ? atof(argv[3]) : 0;
    struct tally t = {0, 0, 0};
    int rc = 1;
    hf_client *c = hf_client_new();
    /* One request may be submitted many times at once; it is borrowed
     * until the last done() ran, so it is freed after hf_client_run. */
    hf_request *rq = hf_request_new("GET", argv[1]);
    if (!c || !rq) {
        fprintf(stderr, "parallel: out of memory\n");
        goto out;
    }
    hf_err e = hf_client_set_limits(c, 8, 4, 4);
    if (!e && rate > 0)
        e = hf_client_set_rate(c, rate, 1);        /* evenly spaced starts */
    for (int i = 0; !e && i < count; i++)
        e = hf_submit(c, rq, done, &t, NULL);      /* no handle needed */
    if (e) {
        fprintf(stderr, "parallel: %s\n", hf_strerror(e));
        /* the ones submitted already still finish (and are counted) */
    }
    hf_err run = hf_client_run(c, -1);             /* until none is left */
    if (run != HF_OK)
        fprintf(stderr, "parallel: the loop failed: %s\n", hf_strerror(run));
    printf("%d done, %d failed, %lld bytes, %ld connections\n", t.ok,
           t.failed, t.bytes, hf_client_num_connects(c));
    rc = (!e && run == HF_OK && t.failed == 0) ? 0 : 1;
out:
    hf_request_free(rq);
    hf_client_free(c);
    return rc;
}
