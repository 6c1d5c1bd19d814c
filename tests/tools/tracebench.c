/* tracebench -- the cost of hflow's recorder (src/trace.c), for `make bench`.
 *
 *   tracebench [ROUNDS]      (default 1000000)
 *
 * Each round records what a real transfer on a new connection records: ten
 * events (queued, a DNS answer, connect start, TCP established with
 * TCP_INFO, request head, first byte, response head, response body, pooled,
 * done) with their short strings, into a fresh trace, freed at the end of
 * the round, as each response's trace is.  No event callback is set (as
 * without --trace-json / --flow).  After a warm-up, prints
 *
 *   tracebench: E events in S s: N ns/event (R rounds of 10)
 *   ns_per_event N
 *
 * the second line for scripts. */
#include "hflow.h"
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_PER_ROUND 10

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t sink; /* keeps the traces observable */

static void one_round(long id)
{
    static const char url[] = "GET http://127.0.0.1:41234/small.bin";
    static const char peer[] = "127.0.0.1:41234";
    static const char local[] = "127.0.0.1:52110";
    hf_tcp_info ti;
    memset(&ti, 0, sizeof ti);
    ti.valid = 1;
    ti.rtt_us = 21;
    ti.rttvar_us = 9;
    ti.snd_mss = 32741;
    ti.rcv_mss = 536;

    hf_trace tr;
    uint64_t t0 = now_ns();
    trace_init(&tr, t0);
    ev_args a;

    memset(&a, 0, sizeof a);
    a.detail = url;
    trace_emit(NULL, &tr, t0, id, -1, HF_EV_QUEUED, &a);

    memset(&a, 0, sizeof a);
    a.peer = "127.0.0.1:53";
    a.detail = "A 127.0.0.1 ttl=300 from=dns udp";
    a.value = 180000;
    trace_emit(NULL, &tr, t0, id, -1, HF_EV_DNS_ANSWER, &a);

    memset(&a, 0, sizeof a);
    a.peer = peer;
    a.value = 1;
    trace_emit(NULL, &tr, t0, id, -1, HF_EV_CONNECT_START, &a);

    memset(&a, 0, sizeof a);
    a.peer = peer;
    a.local = local;
    a.value = 65000;
    a.tcp = &ti;
    trace_emit(NULL, &tr, t0, id, 0, HF_EV_TCP_ESTABLISHED, &a);

    memset(&a, 0, sizeof a);
    a.value = 85;
    trace_emit(NULL, &tr, t0, id, 0, HF_EV_REQUEST_HEAD, &a);

    trace_emit(NULL, &tr, t0, id, 0, HF_EV_FIRST_BYTE, NULL);

    memset(&a, 0, sizeof a);
    a.value = 200;
    a.detail = "HTTP/1.1 200 OK";
    trace_emit(NULL, &tr, t0, id, 0, HF_EV_RESPONSE_HEAD, &a);

    memset(&a, 0, sizeof a);
    a.value = 1024;
    trace_emit(NULL, &tr, t0, id, 0, HF_EV_RESPONSE_BODY, &a);

    memset(&a, 0, sizeof a);
    a.peer = peer;
    a.local = local;
    trace_emit(NULL, &tr, t0, id, 0, HF_EV_POOLED, &a);

    trace_emit(NULL, &tr, t0, id, -1, HF_EV_DONE, NULL);

    sink += hf_trace_count(&tr);
    trace_free(&tr);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (rounds <= 0) {
        fprintf(stderr, "usage: tracebench [ROUNDS]\n");
        return 2;
    }
    for (long i = 0; i < 10000; i++) /* warm-up: caches, the allocator */
        one_round(i);
    sink = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < rounds; i++)
        one_round(i);
    uint64_t dt = now_ns() - t0;
    if (sink != (size_t)rounds * EVENTS_PER_ROUND) {
        fprintf(stderr, "tracebench: %zu events recorded, expected %ld\n", sink,
                rounds * EVENTS_PER_ROUND);
        return 1;
    }
    double events = (double)rounds * EVENTS_PER_ROUND;
    double ns = (double)dt / events;
    printf("tracebench: %.0f events in %.3f s: %.1f ns/event (%ld rounds of %d)\n",
           events, (double)dt / 1e9, ns, rounds, EVENTS_PER_ROUND);
    printf("ns_per_event %.1f\n", ns);
    return 0;
}
