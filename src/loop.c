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
    uint32_t gen;      /* bumped at each unwatch: stale events are dropped */
} fdent;

/* A timer in the heap; its slot says where it is, so cancelling is
 * O(log n) (thousands of transfers each hold a few timers). */
typedef struct timer {
    uint64_t when_ns;
    uint32_t slot;
    loop_timer_fn *fn;
    void *arg;
} timer;

typedef struct slot {
    uint32_t pos;      /* index in the heap, or the next free slot */
    uint32_t gen;      /* part of the id: an old id never matches */
    int used;
} slot;

struct loop {
    int ep;
    fdent *fds;        /* indexed by fd */
    int nfds;
    timer *heap;       /* min-heap on when_ns */
    size_t nheap, capheap;
    slot *slots;
    uint32_t nslots, free_slot;  /* free list through pos; nslots = none */
    uint64_t woke;     /* when epoll_wait last returned */
    void (*post)(void *arg);
    void *post_arg;
    void (*idle)(void *arg);
    void *idle_arg;
};

void loop_set_idle(loop *l, void (*fn)(void *arg), void *arg)
{
    l->idle = fn;
    l->idle_arg = arg;
}

void loop_set_post(loop *l, void (*fn)(void *arg), void *arg)
{
    l->post = fn;
    l->post_arg = arg;
}

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
    free(l->slots);
    free(l);
}

int loop_fd(const loop *l)
{
    return l->ep;
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
    ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)e->gen << 32;
    int want = mask ? mask : -1; /* -1: registered with no events */
    if (e->mask != want) {
        int op = e->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(l->ep, op, fd, &ev) < 0)
            return errno == ENOMEM ? HF_E_NOMEM : HF_E_BAD_FUNCTION_ARG;
    }
    e->mask = want;
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
    l->fds[fd].gen++; /* the fd number may come back in this batch */
}

void loop_forget(loop *l, int fd)
{
    if (fd < 0 || fd >= l->nfds || !l->fds[fd].mask)
        return;
    l->fds[fd].mask = 0;
    l->fds[fd].fn = NULL;
    l->fds[fd].gen++;
}

void loop_retarget(loop *l, int fd, loop_fd_fn *fn, void *arg)
{
    if (fd < 0 || fd >= l->nfds || !l->fds[fd].mask)
        return;
    l->fds[fd].fn = fn;
    l->fds[fd].arg = arg;
}

static void heap_set(loop *l, size_t i, timer t)
{
    l->heap[i] = t;
    l->slots[t.slot].pos = (uint32_t)i;
}

static void heap_up(loop *l, size_t i)
{
    timer t = l->heap[i];
    while (i > 0 && l->heap[(i - 1) / 2].when_ns > t.when_ns) {
        heap_set(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(l, i, t);
}

static void heap_down(loop *l, size_t i)
{
    size_t n = l->nheap;
    timer t = l->heap[i];
    for (;;) {
        size_t m = i, a = 2 * i + 1, b = a + 1;
        uint64_t w = t.when_ns;
        if (a < n && l->heap[a].when_ns < w) {
            m = a;
            w = l->heap[a].when_ns;
        }
        if (b < n && l->heap[b].when_ns < w)
            m = b;
        if (m == i)
            break;
        heap_set(l, i, l->heap[m]);
        i = m;
    }
    heap_set(l, i, t);
}

static void slot_free(loop *l, uint32_t s)
{
    l->slots[s].used = 0;
    l->slots[s].gen++;
    l->slots[s].pos = l->free_slot;
    l->free_slot = s;
}

static void heap_remove(loop *l, size_t i)
{
    slot_free(l, l->heap[i].slot);
    l->nheap--;
    if (i < l->nheap) {
        uint32_t moved = l->heap[l->nheap].slot;
        heap_set(l, i, l->heap[l->nheap]);
        heap_down(l, i);
        heap_up(l, l->slots[moved].pos);
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
    if (l->free_slot == l->nslots) { /* no free slot: grow (ids stay) */
        uint32_t n = l->nslots ? l->nslots * 2 : 16;
        slot *p = realloc(l->slots, n * sizeof *p);
        if (!p)
            return 0;
        for (uint32_t i = l->nslots; i < n; i++) {
            p[i].pos = i + 1;
            p[i].gen = 1;
            p[i].used = 0;
        }
        l->slots = p;
        l->free_slot = l->nslots;
        l->nslots = n;
        /* the free list ends at n: "none" is nslots again */
    }
    uint32_t s = l->free_slot;
    l->free_slot = l->slots[s].pos;
    l->slots[s].used = 1;
    timer t;
    t.when_ns = loop_now_ns() + ms * 1000000u;
    t.slot = s;
    t.fn = fn;
    t.arg = arg;
    l->heap[l->nheap] = t;
    l->slots[s].pos = (uint32_t)l->nheap;
    heap_up(l, l->nheap++);
    return (uint64_t)l->slots[s].gen << 32 | s;
}

void loop_timer_cancel(loop *l, uint64_t id)
{
    uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
    if (!id || s >= l->nslots || !l->slots[s].used || l->slots[s].gen != gen)
        return;
    heap_remove(l, l->slots[s].pos);
}

long loop_timeout_ms(const loop *l)
{
    if (!l->nheap)
        return -1;
    uint64_t now = loop_now_ns(), when = l->heap[0].when_ns;
    uint64_t ms = when > now ? (when - now + 999999) / 1000000 : 0;
    return ms > 0x7fffffff ? 0x7fffffff : (long)ms;
}

int loop_once(loop *l, int timeout_ms)
{
    long tms = loop_timeout_ms(l);
    if (l->idle && tms != 0 && timeout_ms != 0) {
        l->idle(l->idle_arg);
        tms = loop_timeout_ms(l);
    }
    if (tms >= 0 && (timeout_ms < 0 || tms < timeout_ms))
        timeout_ms = (int)tms;
    struct epoll_event evs[64];
    int n = epoll_wait(l->ep, evs, 64, timeout_ms);
    if (n < 0 && errno != EINTR)
        return -1;
    l->woke = loop_now_ns();
    int handled = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        /* an earlier handler in this batch may have unwatched this fd (and
         * the number may even be a new socket's now) */
        if (fd >= l->nfds || l->fds[fd].mask <= 0 || !l->fds[fd].fn ||
            l->fds[fd].gen != gen)
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
            if (l->post)
                l->post(l->post_arg);
        }
    }
    uint64_t now = loop_now_ns();
    while (l->nheap && l->heap[0].when_ns <= now) {
        timer t = l->heap[0];
        heap_remove(l, 0);
        t.fn(l, t.arg);
        handled++;
        if (l->post)
            l->post(l->post_arg);
    }
    return handled;
}
