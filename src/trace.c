/* trace.c -- recording the flow. */
#include "trace.h"
#include "internal.h"
#include "loop.h"
#include <netinet/in.h>
#include <linux/tcp.h>  /* the full struct tcp_info */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void trace_init(hf_trace *tr, uint64_t t0)
{
    memset(tr, 0, sizeof *tr);
    tr->t0 = t0;
    buf_init(&tr->strs, 16 * 1024 * 1024);
}

void trace_free(hf_trace *tr)
{
    if (!tr)
        return;
    free(tr->ev);
    buf_free(&tr->strs);
    tr->ev = NULL;
    tr->n = tr->cap = 0;
}

static uint32_t intern(hf_trace *tr, const char *s)
{
    if (!s || !*s)
        return 0;
    if (!tr->strs.len && buf_add(&tr->strs, "", 1)) /* offset 0: "" */
        return 0;
    size_t off = tr->strs.len;
    if (off > UINT32_MAX || buf_add(&tr->strs, s, strlen(s) + 1))
        return 0;
    return (uint32_t)off;
}

static const char *str_at(const hf_trace *tr, uint32_t off)
{
    return tr && off && off < tr->strs.len ? tr->strs.data + off : "";
}

static void to_public(const hf_trace *tr, uint64_t t0, const trace_ev *e,
                      hf_event *out)
{
    out->type = e->type;
    out->mono_ns = e->mono;
    out->t_ns = e->mono >= t0 ? e->mono - t0 : 0;
    out->transfer = e->transfer;
    out->conn = e->conn;
    out->peer = str_at(tr, e->peer);
    out->local = str_at(tr, e->local);
    out->detail = str_at(tr, e->detail);
    out->value = e->value;
    out->closed_by = e->closed_by;
    out->tcp = e->tcp;
}

void trace_emit(hf_client *c, hf_trace *tr, uint64_t t0, long transfer,
                long conn, hf_ev type, const ev_args *a)
{
    static const ev_args none;
    if (!a)
        a = &none;
    trace_ev e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.mono = a->mono ? a->mono : loop_now_ns();
    e.transfer = transfer;
    e.conn = conn;
    e.value = a->value;
    e.closed_by = a->closed_by;
    if (a->tcp)
        e.tcp = *a->tcp;
    if (tr) {
        if (tr->n == tr->cap) {
            size_t cap = tr->cap ? tr->cap * 2 : 16;
            trace_ev *p = realloc(tr->ev, cap * sizeof *p);
            if (p) {
                tr->ev = p;
                tr->cap = cap;
            }
        }
        if (tr->n < tr->cap) {
            e.peer = intern(tr, a->peer);
            e.local = intern(tr, a->local);
            e.detail = intern(tr, a->detail);
            tr->ev[tr->n++] = e;
        }
    }
    if (c && c->event_fn) {
        hf_event pub;
        to_public(NULL, t0, &e, &pub);
        pub.peer = a->peer ? a->peer : "";
        pub.local = a->local ? a->local : "";
        pub.detail = a->detail ? a->detail : "";
        c->event_fn(c->event_arg, &pub);
    }
}

void trace_tcp_info(int fd, hf_tcp_info *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(out, 0, sizeof *out);
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return;
    out->valid = 1;
    out->rtt_us = ti.tcpi_rtt;
    out->rttvar_us = ti.tcpi_rttvar;
    out->snd_mss = ti.tcpi_snd_mss;
    out->rcv_mss = ti.tcpi_rcv_mss;
    out->retrans = ti.tcpi_total_retrans;
    out->bytes_acked = ti.tcpi_bytes_acked;
    out->bytes_received = ti.tcpi_bytes_received;
    out->delivery_rate = ti.tcpi_delivery_rate;
}

/* ---- public ----------------------------------------------------------- */

size_t hf_trace_count(const hf_trace *tr)
{
    return tr ? tr->n : 0;
}

int hf_trace_event(const hf_trace *tr, size_t i, hf_event *out)
{
    if (!tr || !out || i >= tr->n)
        return -1;
    to_public(tr, tr->t0, &tr->ev[i], out);
    return 0;
}

const char *hf_ev_name(hf_ev type)
{
    static const char *const names[HF_EV__COUNT] = {
        "queued", "reused", "dns_start", "dns_answer", "dns_end",
        "connect_start", "connect_failed", "tcp_established", "tls_start",
        "tls_end", "request_head", "request_body", "first_byte",
        "response_head", "response_body", "pooled", "fin_sent",
        "fin_received", "rst_sent", "rst_received", "closed", "error", "done",
        "pool_miss", "tunnel_start", "tunnel_end",
    };
    return (int)type >= 0 && type < HF_EV__COUNT ? names[type] : "?";
}
