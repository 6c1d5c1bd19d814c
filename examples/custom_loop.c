/* custom_loop.c -- hflow inside the program's own poll() loop.
 *
 *   custom_loop URL [DEADLINE_MS]
 *
 * As libcurl's multi_socket: the program waits itself -- on
 * hf_client_fd (one epoll descriptor standing for all of the client's
 * sockets) together with any descriptors of its own, for at most
 * hf_client_timeout_ms -- and then calls hf_client_process, which does
 * what is ready without blocking and calls the done callbacks.  A
 * transfer still running at the deadline (default 10000 ms) is cancelled:
 * it ends with HF_E_ABORTED (42), its connection closed. */
#define _POSIX_C_SOURCE 200809L
#include <hflow.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct job {
    hf_transfer *x;        /* valid until done() ran */
    int failed;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void done(void *arg, hf_transfer *x, hf_response *rs, hf_err err)
{
    struct job *j = arg;
    (void)x;
    j->x = NULL;
    if (err != HF_OK) {
        j->failed = 1;
        printf("failed: (%d) %s\n", (int)err,
               rs ? hf_response_errmsg(rs) : hf_strerror(err));
    } else {
        size_t len;
        hf_response_body(rs, &len);
        printf("done: %d, %zu bytes\n", hf_response_status(rs), len);
    }
    hf_response_free(rs);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URL [DEADLINE_MS]\n", argv[0]);
        return 2;
    }
    long long deadline = now_ms() + (argc > 2 ? atol(argv[2]) : 10000);
    struct job j = {NULL, 0};
    int rc = 1, loops = 0;
    hf_client *c = hf_client_new();
    hf_request *rq = hf_request_new("GET", argv[1]);
    if (!c || !rq) {
        fprintf(stderr, "custom_loop: out of memory\n");
        goto out;
    }
    hf_err e = hf_submit(c, rq, done, &j, &j.x);
    if (e) {
        fprintf(stderr, "custom_loop: %s\n", hf_strerror(e));
        goto out;
    }
    while (hf_client_pending(c) > 0) {
        long long left = deadline - now_ms();
        if (left <= 0 && j.x) {
            hf_transfer_cancel(j.x);   /* done() runs from the next process */
            j.x = NULL;
        }
        long t = hf_client_timeout_ms(c);          /* -1: no timer */
        if (left < 0)
            left = 0;
        if (t < 0 || (j.x && t > left))
            t = j.x ? (long)left : 1000;
        /* The program's own descriptors would go in this array too. */
        struct pollfd fds[1] = {{.fd = hf_client_fd(c), .events = POLLIN}};
        if (poll(fds, 1, (int)t) < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        e = hf_client_process(c);                  /* never blocks */
        if (e) {
            fprintf(stderr, "custom_loop: %s\n", hf_strerror(e));
            break;
        }
        loops++;
    }
    printf("loop iterations: %d\n", loops);
    rc = j.failed || hf_client_pending(c) ? 1 : 0;
out:
    hf_request_free(rq);       /* after done(): the request was borrowed */
    hf_client_free(c);
    return rc;
}
