/* loop.c -- epoll + timer heap.  Level-triggered: a handler that does not
 * drain its socket is simply called again. */
#include "loop.h"
#include "hflow.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct fdent {
    loop_fd_fn *fn;
    void *arg;
    int mask;          /* 0: not watched */
} fdent;

typedef struct timer {
    uint64_t when_ns;
    uint64_t id;
    loop_timer_fn *fn;
    void *arg;
} timer;

struct loop {
    int ep;
    fdent *fds;        /* indexed by fd */
    int nfds;
    timer *heap;       /* min-heap on when_ns */
    size_t nheap, capheap;
    uint64_t next_id;
    uint64_t woke;     /* when epoll_wait last returned */
};

uint64_t loop_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t loop_woke_ns(const loop *l)
{
    return l->woke;
}

loop *loop_new(void)
{
    loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void loop_free(loop *l)
{
    if (!l)
        return;
    close(l->ep);
    free(l->fds);
    free(l->heap);
    free(l);
}

int loop_watch(loop *l, int fd, int mask, loop_fd_fn *fn, void *arg)
{
    if (fd < 0)
        return HF_E_BAD_FUNCTION_ARG;
    if (fd >= l->nfds) {
        int n = l->nfds ? l->nfds : 64;
        while (n <= fd)
            n *= 2;
        fdent *p = realloc(l->fds, (size_t)n * sizeof *p);
        if (!p)
            return HF_E_NOMEM;
        memset(p + l->nfds, 0, (size_t)(n - l->nfds) * sizeof *p);
        l->fds = p;
        l->nfds = n;
    }
    fdent *e = &l->fds[fd];
    struct epoll_event ev = {0};
    ev.events = (mask & LOOP_READ ? EPOLLIN : 0) | (mask & LOOP_WRITE ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (e->mask != mask || !e->mask) {
        int op = e->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(l->ep, op, fd, &ev) < 0)
            return errno == ENOMEM ? HF_E_NOMEM : HF_E_BAD_FUNCTION_ARG;
    }
    e->mask = mask ? mask : -1; /* -1: registered with no events */
    if (!mask)
        e->mask = -1;
    e->fn = fn;
    e->arg = arg;
    return 0;
}

void loop_unwatch(loop *l, int fd)
{
    if (fd < 0 || fd >= l->nfds || !l->fds[fd].mask)
        return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    l->fds[fd].mask = 0;
    l->fds[fd].fn = NULL;
}

static void heap_swap(timer *h, size_t a, size_t b)
{
    timer t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_up(timer *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].when_ns > h[i].when_ns) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(timer *h, size_t n, size_t i)
{
    for (;;) {
        size_t m = i, a = 2 * i + 1, b = a + 1;
        if (a < n && h[a].when_ns < h[m].when_ns)
            m = a;
        if (b < n && h[b].when_ns < h[m].when_ns)
            m = b;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

static void heap_remove(loop *l, size_t i)
{
    l->heap[i] = l->heap[--l->nheap];
    if (i < l->nheap) {
        heap_down(l->heap, l->nheap, i);
        heap_up(l->heap, i);
    }
}

uint64_t loop_timer(loop *l, uint64_t ms, loop_timer_fn *fn, void *arg)
{
    if (l->nheap == l->capheap) {
        size_t n = l->capheap ? l->capheap * 2 : 16;
        timer *p = realloc(l->heap, n * sizeof *p);
        if (!p)
            return 0;
        l->heap = p;
        l->capheap = n;
    }
    timer *t = &l->heap[l->nheap];
    t->when_ns = loop_now_ns() + ms * 1000000u;
    t->id = ++l->next_id;
    t->fn = fn;
    t->arg = arg;
    heap_up(l->heap, l->nheap++);
    return l->next_id;
}

void loop_timer_cancel(loop *l, uint64_t id)
{
    for (size_t i = 0; i < l->nheap; i++) /* few timers: a scan is fine */
        if (l->heap[i].id == id) {
            heap_remove(l, i);
            return;
        }
}

int loop_once(loop *l, int timeout_ms)
{
    if (l->nheap) {
        uint64_t now = loop_now_ns(), when = l->heap[0].when_ns;
        uint64_t ms = when > now ? (when - now + 999999) / 1000000 : 0;
        if (timeout_ms < 0 || ms < (uint64_t)timeout_ms)
            timeout_ms = ms > 0x7fffffff ? 0x7fffffff : (int)ms;
    }
    struct epoll_event evs[16];
    int n = epoll_wait(l->ep, evs, 16, timeout_ms);
    if (n < 0 && errno != EINTR)
        return -1;
    l->woke = loop_now_ns();
    int handled = 0;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        /* an earlier handler in this batch may have unwatched this fd */
        if (fd >= l->nfds || l->fds[fd].mask <= 0 || !l->fds[fd].fn)
            continue;
        uint32_t e = evs[i].events;
        int mask = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
            mask |= LOOP_READ;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            mask |= LOOP_WRITE;
        mask &= l->fds[fd].mask;
        if (!mask && (e & (EPOLLERR | EPOLLHUP)))
            mask = l->fds[fd].mask;
        if (mask) {
            l->fds[fd].fn(l, fd, mask, l->fds[fd].arg);
            handled++;
        }
    }
    uint64_t now = loop_now_ns();
    while (l->nheap && l->heap[0].when_ns <= now) {
        timer t = l->heap[0];
        heap_remove(l, 0);
        t.fn(l, t.arg);
        handled++;
    }
    return handled;
}
