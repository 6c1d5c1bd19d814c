/* stream_download.c -- a body to a file through a sink, with back-pressure.
 *
 *   stream_download URL FILE
 *
 * The sink (called with each piece of the body as it arrives) queues the
 * bytes; once 256 KiB wait, it returns HF_WRITE_PAUSE: hflow stops reading
 * the socket, so TCP's window holds the server back.  The program's loop
 * writes the queue out and resumes the transfer.  (For a plain download,
 * hf_request_set_output_file does all of this without any code.) */
#define _POSIX_C_SOURCE 200809L
#include <hflow.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIGH_WATER (256 * 1024)

struct dl {
    FILE *f;
    char *q;               /* bytes waiting to be written */
    size_t qlen, qcap;
    int paused, pauses, done, failed;
    long long saved;
    hf_transfer *x;        /* valid until done() ran */
};

/* The sink must take the whole piece, even when it then pauses. */
static int sink(void *arg, const void *data, size_t len)
{
    struct dl *d = arg;
    if (d->qlen + len > d->qcap) {
        size_t cap = d->qcap ? d->qcap : 65536;
        while (cap < d->qlen + len)
            cap *= 2;
        char *q = realloc(d->q, cap);
        if (!q)
            return 1;                              /* abort: HF_E_WRITE */
        d->q = q;
        d->qcap = cap;
    }
    memcpy(d->q + d->qlen, data, len);
    d->qlen += len;
    if (d->qlen >= HIGH_WATER) {
        d->paused = 1;
        d->pauses++;
        return HF_WRITE_PAUSE;                     /* nothing more until resume */
    }
    return 0;
}

static int flush(struct dl *d)
{
    if (d->qlen && fwrite(d->q, 1, d->qlen, d->f) != d->qlen)
        return -1;
    d->saved += (long long)d->qlen;
    d->qlen = 0;
    return 0;
}

static void done(void *arg, hf_transfer *x, hf_response *rs, hf_err err)
{
    struct dl *d = arg;
    (void)x;
    d->done = 1;
    d->x = NULL;                                   /* x dies with this call */
    if (err != HF_OK || hf_response_status(rs) >= 400) {
        d->failed = 1;
        fprintf(stderr, "stream_download: (%d) %s\n", (int)err,
                err ? (rs ? hf_response_errmsg(rs) : hf_strerror(err))
                    : hf_response_reason(rs));
    }
    hf_response_free(rs);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s URL FILE\n", argv[0]);
        return 2;
    }
    struct dl d;
    memset(&d, 0, sizeof d);
    int rc = 1;
    hf_client *c = hf_client_new();
    hf_request *rq = hf_request_new("GET", argv[1]);
    if (!c || !rq) {
        fprintf(stderr, "stream_download: out of memory\n");
        goto out;
    }
    if (!(d.f = fopen(argv[2], "wb"))) {
        perror(argv[2]);
        goto out;
    }
    hf_err e = hf_request_set_sink(rq, sink, &d);
    if (!e)
        e = hf_request_set_follow(rq, 10, 0);
    if (!e)
        e = hf_submit(c, rq, done, &d, &d.x);
    if (e) {
        fprintf(stderr, "stream_download: %s\n", hf_strerror(e));
        goto out;
    }
    while (!d.done) {
        /* Wait for the client's descriptor or its next timer, then let it
         * process what is ready (see custom_loop.c). */
        struct pollfd p = {.fd = hf_client_fd(c), .events = POLLIN};
        long t = hf_client_timeout_ms(c);
        if (poll(&p, 1, t < 0 || t > 1000 ? 1000 : (int)t) < 0)
            break;
        if (hf_client_process(c) != HF_OK)
            break;
        if (d.paused && !d.done) {
            if (flush(&d) != 0) {
                perror(argv[2]);
                hf_transfer_cancel(d.x);           /* done() runs next */
            } else {
                hf_transfer_resume(d.x);
            }
            d.paused = 0;
        }
    }
    if (d.done && !d.failed && flush(&d) == 0) {
        printf("saved %lld bytes to %s, paused %d times\n", d.saved, argv[2],
               d.pauses);
        rc = 0;
    }
out:
    if (d.f && fclose(d.f) != 0)
        rc = 1;
    free(d.q);
    hf_request_free(rq);
    hf_client_free(c);                             /* after the transfer ended */
    return rc;
}
