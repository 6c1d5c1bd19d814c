/* failmalloc -- fail one allocation of a request, for the integration test
 * tests/integration/test_failmalloc.py (the design's "rerun the suite
 * failing each allocation in turn", as sqlite's and nghttp2's tests do).
 *
 *   failmalloc count   [OPTIONS] URL
 *   failmalloc fail N  [OPTIONS] URL
 *
 * OPTIONS: -L (follow redirects), --cookies (the client's cookie engine
 * on), -b FILE (load a cookie file), -c FILE (save the jar at the end),
 * --compressed (ask for and decode content encodings), --resolve SPEC,
 * --dns-files RESOLV_CONF HOSTS (read instead of /etc's), --dns-servers
 * SPEC (hflow's resolver asks these), -d DATA (POST DATA), -u USER:PASS
 * (Basic; with --digest, Digest), --netrc FILE, --cacert FILE, --views
 * (also draw the response's stat, flow and HAR views), -m MS (the
 * request's time limit, default 10000), --openssl (count and fail
 * OpenSSL's allocations too, through CRYPTO_set_mem_functions).
 *
 * The tool is linked with -Wl,--wrap=malloc,... (see the Makefile), so
 * every call the library's objects make to malloc, calloc, realloc,
 * strdup, strndup and free comes here first.  Allocations made inside
 * libc, zlib and the other shared libraries are not seen (OpenSSL's only
 * with --openssl): this tests hflow's own handling of a failed allocation.
 *
 * One run makes ONE request through the public API, from hf_client_new to
 * hf_client_free; only allocations between those two are counted.  In
 * "fail N" mode the Nth of them returns NULL (errno ENOMEM), only that one.
 * Every block made through the wrappers is tracked (a hash set of
 * pointers), so what is still alive after hf_client_free is a leak.
 *
 * Prints one line on stdout:
 *   allocs=A failed_at=N hit=0|1 err=E name=NAME status=S body=B
 *   live=L sum=X lines=K msg=MESSAGE
 * (sum is a checksum of the body; msg is the response's error message,
 * "-" on success, or what returned NULL when no response came, with its
 * newlines as '|'; K is the number of lines it had).  Each leaked block is
 * named on stderr with its allocation number, size and caller (an offset
 * in this executable: addr2line -f -e failmalloc OFFSET).
 * FM_BACKTRACE=1 prints the stack of the failed allocation on stderr,
 * FM_TRACE_ALLOC=K the stack of allocation K (a leaked one, say).
 * Exit 0 when the run went to the end (whatever the request's outcome),
 * 2 on bad usage.  A crash is a crash. */
#include "hflow.h"

#include <errno.h>
#include <execinfo.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

extern char __executable_start; /* the linker's: where this program begins */

/* ---- the live set: open addressing, linear probing, backward-shift
 * deletion (no tombstones).  Guarded by a mutex: the system resolver
 * allocates on a helper thread. */

typedef struct block {
    void *p;              /* NULL: empty slot */
    size_t size;
    unsigned long seq;    /* which allocation made it (1-based) */
    uintptr_t caller;     /* return address of the allocating call */
} block;

static struct {
    pthread_mutex_t mu;
    block *tab;
    size_t cap;           /* power of two */
    size_t live;
    unsigned long count;  /* allocations seen while armed */
    unsigned long fail_at; /* 0: none */
    int armed;
    int hit;
    int backtrace;
    unsigned long trace_at; /* FM_TRACE_ALLOC: print where it is made */
} fm = { .mu = PTHREAD_MUTEX_INITIALIZER };

static size_t slot_of(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static void set_put_locked(const block *b);

static void set_grow_locked(void)
{
    size_t ncap = fm.cap ? fm.cap * 2 : 4096;
    block *old = fm.tab;
    size_t ocap = fm.cap;
    block *t = __real_calloc(ncap, sizeof *t);
    if (!t) {
        fprintf(stderr, "failmalloc: out of memory for the live set\n");
        abort();
    }
    fm.tab = t;
    fm.cap = ncap;
    fm.live = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].p) set_put_locked(&old[i]);
    __real_free(old);
}

static void set_put_locked(const block *b)
{
    if ((fm.live + 1) * 2 > fm.cap) set_grow_locked();
    size_t i = slot_of(b->p, fm.cap);
    while (fm.tab[i].p) i = (i + 1) & (fm.cap - 1);
    fm.tab[i] = *b;
    fm.live++;
}

/* Removes p; returns whether it was there. */
static int set_del_locked(const void *p)
{
    if (!fm.cap) return 0;
    size_t m = fm.cap - 1, i = slot_of(p, fm.cap);
    while (fm.tab[i].p && fm.tab[i].p != p) i = (i + 1) & m;
    if (!fm.tab[i].p) return 0;
    /* backward shift: move later entries of the run into the hole when
     * their home slot does not lie cyclically in (hole, j] */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & m;
        if (!fm.tab[j].p) break;
        size_t home = slot_of(fm.tab[j].p, fm.cap);
        int in_range = hole <= j ? (home > hole && home <= j)
                                 : (home > hole || home <= j);
        if (!in_range) {
            fm.tab[hole] = fm.tab[j];
            hole = j;
        }
    }
    fm.tab[hole].p = NULL;
    fm.live--;
    return 1;
}

/* ---- the wrappers ------------------------------------------------------ */

/* Counts one allocation; returns 1 when this one must fail. */
static int next_fails_locked(void)
{
    if (!fm.armed) return 0;
    fm.count++;
    if (fm.fail_at && fm.count == fm.fail_at) {
        fm.hit = 1;
        return 1;
    }
    return 0;
}

static void note_failure(void)
{
    if (fm.backtrace) {
        void *frames[32];
        int n = backtrace(frames, 32);
        fprintf(stderr, "failmalloc: allocation %lu fails here:\n",
                fm.fail_at);
        backtrace_symbols_fd(frames, n, 2);
    }
    errno = ENOMEM;
}

static void track_locked(void *p, size_t size, uintptr_t caller)
{
    block b = { p, size, fm.count, caller };
    if (!fm.armed) return;
    set_put_locked(&b);
    if (fm.trace_at && fm.count == fm.trace_at) {
        void *frames[32];
        int n = backtrace(frames, 32);
        fprintf(stderr, "failmalloc: allocation %lu (%zu bytes) is made "
                "here:\n", fm.count, size);
        backtrace_symbols_fd(frames, n, 2);
    }
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))

void *__wrap_malloc(size_t n)
{
    pthread_mutex_lock(&fm.mu);
    if (next_fails_locked()) {
        pthread_mutex_unlock(&fm.mu);
        note_failure();
        return NULL;
    }
    void *p = __real_malloc(n);
    if (p) track_locked(p, n, CALLER());
    pthread_mutex_unlock(&fm.mu);
    return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
    pthread_mutex_lock(&fm.mu);
    if (next_fails_locked()) {
        pthread_mutex_unlock(&fm.mu);
        note_failure();
        return NULL;
    }
    void *p = __real_calloc(k, n);
    if (p) track_locked(p, k * n, CALLER());
    pthread_mutex_unlock(&fm.mu);
    return p;
}

/* A failed realloc leaves the old block alone, as the real one does. */
void *__wrap_realloc(void *old, size_t n)
{
    pthread_mutex_lock(&fm.mu);
    if (next_fails_locked()) {
        pthread_mutex_unlock(&fm.mu);
        note_failure();
        return NULL;
    }
    void *p = __real_realloc(old, n);
    if (p || n == 0) {
        if (old) set_del_locked(old);
        if (p) track_locked(p, n, CALLER());
    }
    pthread_mutex_unlock(&fm.mu);
    return p;
}

char *__wrap_strdup(const char *s)
{
    pthread_mutex_lock(&fm.mu);
    if (next_fails_locked()) {
        pthread_mutex_unlock(&fm.mu);
        note_failure();
        return NULL;
    }
    char *p = __real_strdup(s);
    if (p) track_locked(p, strlen(p) + 1, CALLER());
    pthread_mutex_unlock(&fm.mu);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    pthread_mutex_lock(&fm.mu);
    if (next_fails_locked()) {
        pthread_mutex_unlock(&fm.mu);
        note_failure();
        return NULL;
    }
    char *p = __real_strndup(s, n);
    if (p) track_locked(p, strlen(p) + 1, CALLER());
    pthread_mutex_unlock(&fm.mu);
    return p;
}

/* A block not in the set (made by libc, say getline's, or before the run
 * was armed) is freed all the same. */
void __wrap_free(void *p)
{
    if (!p) return;
    pthread_mutex_lock(&fm.mu);
    set_del_locked(p);
    pthread_mutex_unlock(&fm.mu);
    __real_free(p);
}

/* OpenSSL's allocator (--openssl): the same counting, failing and
 * tracking.  What OpenSSL keeps for the process is freed by
 * OPENSSL_cleanup() before the live blocks are counted. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return __wrap_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return __wrap_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    __wrap_free(p);
}

static void arm(unsigned long fail_at)
{
    pthread_mutex_lock(&fm.mu);
    fm.count = 0;
    fm.fail_at = fail_at;
    fm.hit = 0;
    fm.armed = 1;
    pthread_mutex_unlock(&fm.mu);
}

/* Stops counting and tracking new blocks (frees are still seen). */
static void disarm(void)
{
    pthread_mutex_lock(&fm.mu);
    fm.armed = 0;
    pthread_mutex_unlock(&fm.mu);
}

/* The number of live blocks, each named on stderr (the first 50). */
static size_t report_live(void)
{
    pthread_mutex_lock(&fm.mu);
    size_t live = fm.live, shown = 0;
    for (size_t i = 0; i < fm.cap && shown < 50; i++) {
        if (!fm.tab[i].p) continue;
        fprintf(stderr, "failmalloc: leak: allocation %lu, %zu bytes, "
                "caller +0x%lx\n", fm.tab[i].seq, fm.tab[i].size,
                (unsigned long)(fm.tab[i].caller -
                                (uintptr_t)&__executable_start));
        shown++;
    }
    pthread_mutex_unlock(&fm.mu);
    return live;
}

/* ---- the request --------------------------------------------------------- */

typedef struct opts {
    int follow, cookies, compressed, views, digest;
    const char *cookie_in, *cookie_out, *resolve, *url;
    const char *resolv_conf, *hosts, *data, *user, *netrc, *cacert;
    const char *dns_servers;
    long timeout_ms;
} opts;

typedef struct outcome {
    hf_err err;
    int status;
    size_t body_len;
    uint32_t sum;
    int msg_lines;   /* lines in the message as the library gave it */
    char msg[512];
} outcome;

static uint32_t checksum(const unsigned char *d, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 16777619u;
    return h;
}

/* The message on one line (newlines would break the tool's output), and
 * how many lines it had. */
static void set_msg(outcome *o, const char *m)
{
    snprintf(o->msg, sizeof o->msg, "%s", m ? m : "");
    o->msg_lines = o->msg[0] ? 1 : 0;
    for (char *p = o->msg; *p; p++)
        if (*p == '\n' || *p == '\r') {
            *p = '|';
            if (p[1]) o->msg_lines++;
        }
}

/* A call of the API failed with e: "NAME: the error's text". */
static void api_fail(outcome *o, const char *name, hf_err e)
{
    char m[160];
    snprintf(m, sizeof m, "%s: %s", name, hf_strerror(e));
    o->err = e;
    set_msg(o, m);
}

/* The views allocate a lot; NULL from them is their way to say so. */
static void views(const hf_response *resp)
{
    char *s = hf_view_stat(resp, NULL);
    free(s);
    const hf_trace *tr = hf_response_trace(resp);
    size_t n = hf_trace_count(tr);
    hf_event *ev = __real_calloc(n ? n : 1, sizeof *ev);
    if (!ev) abort();
    for (size_t i = 0; i < n; i++) hf_trace_event(tr, i, &ev[i]);
    s = hf_view_flow(ev, n, NULL);
    free(s);
    if (n) {
        s = hf_view_event_json(&ev[0]);
        free(s);
    }
    __real_free(ev);
    s = hf_view_har(&resp, 1, NULL);
    free(s);
}

static void one_request(const opts *op, outcome *o)
{
    hf_client *c = NULL;
    hf_request *r = NULL;
    hf_response *resp = NULL;
    hf_err e;

    memset(o, 0, sizeof *o);
    c = hf_client_new();
    if (!c) {
        api_fail(o, "hf_client_new", HF_E_NOMEM);
        goto out;
    }
    if (op->resolve && (e = hf_client_resolve(c, op->resolve)) != HF_OK) {
        api_fail(o, "hf_client_resolve", e);
        goto out;
    }
    if (op->hosts &&
        (e = hf_client_set_dns_files(c, op->resolv_conf, op->hosts)) != HF_OK) {
        api_fail(o, "hf_client_set_dns_files", e);
        goto out;
    }
    if (op->dns_servers &&
        (e = hf_client_set_dns_servers(c, op->dns_servers)) != HF_OK) {
        api_fail(o, "hf_client_set_dns_servers", e);
        goto out;
    }
    if (op->cookies && (e = hf_client_cookies_enable(c)) != HF_OK) {
        api_fail(o, "hf_client_cookies_enable", e);
        goto out;
    }
    if (op->cookie_in &&
        (e = hf_client_cookies_load(c, op->cookie_in, 0)) != HF_OK) {
        api_fail(o, "hf_client_cookies_load", e);
        goto out;
    }
    r = hf_request_new(op->data ? "POST" : "GET", op->url);
    if (!r) {
        api_fail(o, "hf_request_new", HF_E_NOMEM);
        goto out;
    }
    if ((e = hf_request_header(r, "X-Failmalloc", "1")) != HF_OK ||
        (e = hf_request_header_line(r, "Accept: */*")) != HF_OK) {
        api_fail(o, "hf_request_header", e);
        goto out;
    }
    if (op->data &&
        (e = hf_request_body(r, op->data, strlen(op->data))) != HF_OK) {
        api_fail(o, "hf_request_body", e);
        goto out;
    }
    if (op->user) {
        char user[256];
        snprintf(user, sizeof user, "%s", op->user);
        char *colon = strchr(user, ':');
        if (colon) *colon++ = 0;
        if ((e = hf_request_set_basic_auth(r, user, colon)) != HF_OK) {
            api_fail(o, "hf_request_set_basic_auth", e);
            goto out;
        }
    }
    if ((op->digest &&
         (e = hf_request_set_auth_methods(r, HF_AUTH_DIGEST)) != HF_OK) ||
        (op->netrc && (e = hf_request_set_netrc(r, 1, op->netrc)) != HF_OK) ||
        (op->cacert &&
         (e = hf_request_set_ca(r, op->cacert, NULL)) != HF_OK)) {
        api_fail(o, "hf_request_set_auth_methods, _netrc or _ca", e);
        goto out;
    }
    if ((e = hf_request_set_timeout_ms(r, op->timeout_ms)) != HF_OK ||
        (op->follow && (e = hf_request_set_follow(r, 30, 0)) != HF_OK) ||
        (op->compressed &&
         (e = hf_request_set_decompress(r, 1)) != HF_OK)) {
        api_fail(o, "a request setter", e);
        goto out;
    }
    e = hf_send(c, r, &resp);
    o->err = e;
    if (!resp) {
        char m[128];
        snprintf(m, sizeof m, "hf_send returned %d (%s) and no response",
                 (int)e, hf_strerror(e));
        set_msg(o, m);
        if (e == HF_OK) o->err = HF_E_BAD_FUNCTION_ARG; /* not allowed */
        goto out;
    }
    if (hf_response_error(resp) != e) {
        char m[160];
        snprintf(m, sizeof m, "hf_send returned %d but hf_response_error "
                 "says %d", (int)e, (int)hf_response_error(resp));
        set_msg(o, m);
        o->err = HF_E_BAD_FUNCTION_ARG;
        goto out;
    }
    o->status = hf_response_status(resp);
    const void *body = hf_response_body(resp, &o->body_len);
    if (body) o->sum = checksum(body, o->body_len);
    else o->body_len = 0;
    if (e == HF_OK) {
        set_msg(o, "-");
        if (op->views) views(resp);
    } else {
        set_msg(o, hf_response_errmsg(resp));
    }
out:
    hf_response_free(resp);
    hf_request_free(r);
    if (c && op->cookie_out) {
        e = hf_client_cookies_save(c, op->cookie_out);
        if (e != HF_OK && o->err == HF_OK)
            api_fail(o, "hf_client_cookies_save", e);
    }
    hf_client_free(c);
}

static int usage(void)
{
    fprintf(stderr, "usage: failmalloc count|fail N [-L] [--cookies] "
            "[-b FILE] [-c FILE] [--compressed] [--resolve SPEC] "
            "[--dns-files RESOLV_CONF HOSTS] [--dns-servers SPEC] "
            "[-d DATA] [-u USER:PASS] [--digest] "
            "[--netrc FILE] [--cacert FILE] [--views] [-m MS] [--openssl] "
            "URL\n");
    return 2;
}

int main(int argc, char **argv)
{
    opts op = { .timeout_ms = 10000 };
    unsigned long fail_at = 0;
    int i = 1, openssl = 0;

    if (argc < 2) return usage();
    if (strcmp(argv[i], "count") == 0) {
        i++;
    } else if (strcmp(argv[i], "fail") == 0 && argc > 2) {
        char *end;
        fail_at = strtoul(argv[i + 1], &end, 10);
        if (*end || fail_at == 0) return usage();
        i += 2;
    } else {
        return usage();
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "-L") == 0) op.follow = 1;
        else if (strcmp(a, "--cookies") == 0) op.cookies = 1;
        else if (strcmp(a, "--compressed") == 0) op.compressed = 1;
        else if (strcmp(a, "--views") == 0) op.views = 1;
        else if (strcmp(a, "--digest") == 0) op.digest = 1;
        else if (strcmp(a, "-b") == 0 && more) op.cookie_in = argv[++i];
        else if (strcmp(a, "-c") == 0 && more) op.cookie_out = argv[++i];
        else if (strcmp(a, "--resolve") == 0 && more) op.resolve = argv[++i];
        else if (strcmp(a, "-m") == 0 && more) op.timeout_ms = atol(argv[++i]);
        else if (strcmp(a, "-d") == 0 && more) op.data = argv[++i];
        else if (strcmp(a, "-u") == 0 && more) op.user = argv[++i];
        else if (strcmp(a, "--netrc") == 0 && more) op.netrc = argv[++i];
        else if (strcmp(a, "--cacert") == 0 && more) op.cacert = argv[++i];
        else if (strcmp(a, "--dns-servers") == 0 && more)
            op.dns_servers = argv[++i];
        else if (strcmp(a, "--openssl") == 0) openssl = 1;
        else if (strcmp(a, "--dns-files") == 0 && i + 2 < argc) {
            op.resolv_conf = argv[++i];
            op.hosts = argv[++i];
        }
        else if (a[0] == '-') return usage();
        else if (!op.url) op.url = a;
        else return usage();
    }
    if (!op.url) return usage();
    if (openssl &&
        !CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "failmalloc: CRYPTO_set_mem_functions refused "
                "(OpenSSL allocated already)\n");
        return 2;
    }
    const char *bt = getenv("FM_BACKTRACE");
    fm.backtrace = bt && *bt && strcmp(bt, "0") != 0;
    const char *ta = getenv("FM_TRACE_ALLOC");
    fm.trace_at = ta ? strtoul(ta, NULL, 10) : 0;

    outcome o;
    arm(fail_at);
    one_request(&op, &o);
    unsigned long count = fm.count;
    int hit = fm.hit;
    disarm();
    /* what OpenSSL keeps for the process (providers, tables, this
     * thread's error queue) is freed here, so what stays alive after it
     * is a leak */
    if (openssl) OPENSSL_cleanup();
    size_t live = report_live();

    printf("allocs=%lu failed_at=%lu hit=%d err=%d name=%s status=%d "
           "body=%zu live=%zu sum=%08x lines=%d msg=%s\n", count, fail_at,
           hit, (int)o.err, hf_err_name(o.err), o.status, o.body_len, live,
           (unsigned)o.sum, o.msg_lines, o.msg);
    return 0;
}
