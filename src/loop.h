/* loop.h -- the event loop: epoll for sockets, a min-heap of timers on
 * CLOCK_MONOTONIC.  One loop per client; no threads.  In the spirit of
 * Redis's ae.c, with a heap for the many per-request timeouts. */
#ifndef HF_LOOP_H
#define HF_LOOP_H
#include <stddef.h>
#include <stdint.h>

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

typedef struct loop loop;
/* fd callback: mask says which of LOOP_READ / LOOP_WRITE is ready (errors
 * and hang-ups are reported as both, so the reader or writer sees them). */
typedef void loop_fd_fn(loop *l, int fd, int mask, void *arg);
/* timer callback; the timer is gone by the time it runs. */
typedef void loop_timer_fn(loop *l, void *arg);

loop *loop_new(void);
void loop_free(loop *l);
/* Watch fd for mask (replaces an earlier registration); 0 or HF_E_*. */
int loop_watch(loop *l, int fd, int mask, loop_fd_fn *fn, void *arg);
/* Stop watching fd (call before close). */
void loop_unwatch(loop *l, int fd);
/* The same without a system call, for an fd that is closed right after
 * (close() takes it out of the epoll set: hflow never dup()s sockets). */
void loop_forget(loop *l, int fd);
/* Give a watched fd another handler, keeping its events (no system call):
 * the next loop_watch of it is a cheap modification. */
void loop_retarget(loop *l, int fd, loop_fd_fn *fn, void *arg);
/* A one-shot timer after ms; returns an id > 0, or 0 when out of memory. */
uint64_t loop_timer(loop *l, uint64_t ms, loop_timer_fn *fn, void *arg);
void loop_timer_cancel(loop *l, uint64_t id);
/* Wait for and dispatch events once; at most timeout_ms (-1 = until the
 * next timer, or forever without one).  Returns events handled, or -1. */
int loop_once(loop *l, int timeout_ms);
/* Called when the loop is about to wait with no timer due: work that can
 * be done while the peers work (e.g. tearing down closed connections). */
void loop_set_idle(loop *l, void (*fn)(void *arg), void *arg);
/* Called after every handler (fd or timer) returns: work that must not
 * run on a handler's stack but should not wait for the whole batch. */
void loop_set_post(loop *l, void (*fn)(void *arg), void *arg);
/* The epoll descriptor (readable when an fd is ready), and the ms until the
 * next timer (-1: none). */
int loop_fd(const loop *l);
long loop_timeout_ms(const loop *l);
/* When the last epoll_wait returned (CLOCK_MONOTONIC ns): the moment an
 * event was seen, before any handler's work. */
uint64_t loop_woke_ns(const loop *l);
/* CLOCK_MONOTONIC in ns. */
uint64_t loop_now_ns(void);
#endif
