/* trace.h -- the recorder behind hf_response_trace and the client's event
 * callback.  Recording is always on, so it is cheap: an event is a fixed
 * struct appended to an array, its strings copied into one arena. */
#ifndef HF_TRACE_H
#define HF_TRACE_H
#include "hflow.h"
#include "buf.h"

typedef struct trace_ev {
    hf_ev type;
    int closed_by;
    uint64_t mono;           /* CLOCK_MONOTONIC ns */
    long transfer, conn;
    uint32_t peer, local, detail;   /* offsets into the arena; 0 is "" */
    int64_t value;
    hf_tcp_info tcp;
} trace_ev;

struct hf_trace {
    uint64_t t0;             /* the transfer was queued */
    trace_ev *ev;
    size_t n, cap;
    buf strs;                /* NUL-terminated strings; starts with "" */
};

/* What one event says; strings are copied. */
typedef struct ev_args {
    const char *peer, *local, *detail;
    int64_t value;
    int closed_by;
    const hf_tcp_info *tcp;
    uint64_t mono;           /* when it happened; 0 = now */
} ev_args;

void trace_init(hf_trace *tr, uint64_t t0);
void trace_free(hf_trace *tr);
/* Record into tr (may be NULL) and tell the client's event callback.
 * A failed allocation drops the event (a trace never fails a transfer). */
void trace_emit(hf_client *c, hf_trace *tr, uint64_t t0, long transfer,
                long conn, hf_ev type, const ev_args *a);
/* TCP_INFO of a socket (valid = 0 when the kernel says no). */
void trace_tcp_info(int fd, hf_tcp_info *out);
#endif
