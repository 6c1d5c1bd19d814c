/* dnsq -- a driver of hflow's stub resolver (src/resolver.c) for the
 * integration tests and the DNS benchmark.
 *
 *   dnsq [--resolv-conf F] [--hosts F] [--servers SPEC] [--system] [-4|-6]
 *        [--inflight K] [--repeat N [--pause-ms MS]] [--names-file F]
 *        [--stats] [-q] [-v] [--bench-cached N] [--cancel-ms MS]
 *        [--free-in-answer] NAME...
 *
 * Resolves every name on one event loop (all at once, or K in flight), the
 * whole list N times in a row (the later rounds come from the cache; MS
 * milliseconds of pause between rounds, for TTL tests), and
 * prints per address
 *   NAME A 127.0.0.1 ttl=300 source=dns server=127.0.0.1:5353 tcp=0 ms=0.41 cname=
 * ("-" as the address for a family with none), per failure
 *   NAME error 6: why
 * the resolver's log lines on stderr with -v ("NAME: DNS: ..."), and with
 * --stats the counters and the wall time.  --bench-cached N then times N
 * resolver_cached() calls over the names.  Exit 0 when every lookup found
 * an address, else 6 (2 on bad usage).  For the life-cycle tests:
 * --cancel-ms cancels what is still in flight after MS milliseconds
 * ("NAME cancelled"), --free-in-answer frees the resolver from inside the
 * first answer callback ("NAME freed" for the others). */
#include "hflow.h"
#include "loop.h"
#include "resolver.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    const char *name;
    res_query *q;
    int busy;
} job;

static struct {
    loop *l;
    resolver *r;
    const char **names;
    size_t nnames, next, done, failed, inflight;
    int family, quiet, verbose, free_in_answer;
    job *jobs;
    size_t njobs;
} G;

static const char *srcname(int s)
{
    return s == RES_FROM_CACHE ? "cache" : s == RES_FROM_HOSTS ? "hosts" :
           s == RES_FROM_SYSTEM ? "system" : "dns";
}

/* Every lookup ends now (cancelled, or the resolver freed). */
static void end_all(const char *how)
{
    for (size_t s = 0; s < G.njobs; s++)
        if (G.jobs[s].busy) {
            G.jobs[s].busy = 0;
            printf("%s %s\n", G.jobs[s].name, how);
        }
    G.next = G.done = G.nnames;
}

static void on_answer(void *arg, const res_answer *a)
{
    job *j = arg;
    if (G.free_in_answer) {
        /* The resolver freed from inside its own callback: nothing of it
         * may run afterwards. */
        resolver_free(G.r);
        G.r = NULL;
        end_all("freed");
        return;
    }
    if (G.quiet)
        return;
    const char *t = a->family == AF_INET6 ? "AAAA" : "A";
    char ip[INET6_ADDRSTRLEN];
    size_t n = a->n ? a->n : 1;
    for (size_t i = 0; i < n; i++) {
        if (!a->n)
            snprintf(ip, sizeof ip, "-");
        else if (a->family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->addrs[i])->sin6_addr,
                      ip, sizeof ip);
        else
            inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->addrs[i])->sin_addr,
                      ip, sizeof ip);
        printf("%s %s %s ttl=%u source=%s server=%s tcp=%d ms=%.2f cname=%s\n",
               j->name, t, ip, a->ttl, srcname(a->source),
               a->server[0] ? a->server : "-", a->tcp, (double)a->elapsed_ns / 1e6,
               a->cname_chain);
    }
}

static void start_next(void);

static void on_done(void *arg, int err, const char *why)
{
    job *j = arg;
    j->busy = 0;
    j->q = NULL;
    G.done++;
    if (err) {
        G.failed++;
        printf("%s error %d: %s\n", j->name, err, why ? why : "?");
    }
    start_next();
}

static void on_log(void *arg, const char *line)
{
    job *j = arg;
    if (G.verbose)
        fprintf(stderr, "%s: %s\n", j->name, line);
}

/* Start names while there is room in flight. */
static void start_next(void)
{
    for (size_t s = 0; s < G.njobs && G.next < G.nnames; s++) {
        job *j = &G.jobs[s];
        if (j->busy)
            continue;
        j->name = G.names[G.next++];
        /* No log callback without -v: the resolver then formats nothing. */
        res_callbacks cb = {on_answer, on_done, G.verbose ? on_log : NULL, j};
        int rc = resolver_start(G.r, j->name, G.family, &cb, &j->q);
        if (rc) {
            G.done++;
            G.failed++;
            printf("%s error %d: %s: cannot be looked up\n", j->name, rc, j->name);
            continue;
        }
        j->busy = 1;
    }
}

static void cancel_all(loop *l, void *arg)
{
    (void)l;
    (void)arg;
    for (size_t s = 0; s < G.njobs; s++)
        if (G.jobs[s].busy)
            resolver_cancel(G.jobs[s].q);
    end_all("cancelled");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_names(const char *path, const char ***names, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    size_t cap = *n + 64;
    const char **v = realloc(*names, cap * sizeof *v);
    if (!v) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (*n == cap) {
            cap *= 2;
            const char **p = realloc(v, cap * sizeof *p);
            if (!p)
                break;
            v = p;
        }
        v[(*n)++] = strdup(line);
    }
    fclose(f);
    *names = v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: dnsq [--resolv-conf F] [--hosts F] [--servers SPEC] [--system]\n"
            "            [-4|-6] [--inflight K] [--repeat N] [--pause-ms MS]\n"
            "            [--names-file F] [--stats] [-q] [-v] [--bench-cached N]\n"
            "            [--cancel-ms MS] [--free-in-answer] NAME...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *rconf = NULL, *hosts = NULL, *servers = NULL;
    int sys = 0, stats = 0;
    long repeat = 1, inflight = 0, bench = -1, pause_ms = 0, cancel_ms = -1;
    const char **names = NULL;
    size_t nnames = 0;
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    size_t npos = 0;
    G.family = AF_UNSPEC;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define ARG() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--resolv-conf"))
            rconf = ARG();
        else if (!strcmp(a, "--hosts"))
            hosts = ARG();
        else if (!strcmp(a, "--servers"))
            servers = ARG();
        else if (!strcmp(a, "--system"))
            sys = 1;
        else if (!strcmp(a, "-4"))
            G.family = AF_INET;
        else if (!strcmp(a, "-6"))
            G.family = AF_INET6;
        else if (!strcmp(a, "--repeat"))
            repeat = atol(ARG());
        else if (!strcmp(a, "--cancel-ms"))
            cancel_ms = atol(ARG());
        else if (!strcmp(a, "--free-in-answer"))
            G.free_in_answer = 1;
        else if (!strcmp(a, "--pause-ms"))
            pause_ms = atol(ARG());
        else if (!strcmp(a, "--inflight"))
            inflight = atol(ARG());
        else if (!strcmp(a, "--bench-cached"))
            bench = atol(ARG());
        else if (!strcmp(a, "--names-file")) {
            if (read_names(ARG(), &names, &nnames) < 0) {
                fprintf(stderr, "dnsq: cannot read %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--stats"))
            stats = 1;
        else if (!strcmp(a, "-q"))
            G.quiet = 1;
        else if (!strcmp(a, "-v"))
            G.verbose = 1;
        else if (a[0] == '-' && a[1])
            usage();
        else
            pos[npos++] = a;
    }
    if (npos) {
        const char **v = realloc(names, (nnames + npos) * sizeof *v);
        if (!v)
            return 27;
        memcpy(v + nnames, pos, npos * sizeof *v);
        names = v;
        nnames += npos;
    }
    if (!nnames || repeat < 1)
        usage();

    G.l = loop_new();
    G.r = G.l ? resolver_new(G.l) : NULL;
    if (!G.r) {
        fprintf(stderr, "dnsq: out of memory\n");
        return 27;
    }
    if (resolver_set_files(G.r, rconf, hosts) ||
        (servers && resolver_set_servers(G.r, servers))) {
        fprintf(stderr, "dnsq: bad --servers: %s\n", servers ? servers : "");
        resolver_free(G.r);
        loop_free(G.l);
        for (size_t i = 0; i < nnames - npos; i++)
            free((char *)names[i]);
        free(names);
        free(pos);
        return 2;
    }
    resolver_set_system(G.r, sys);
    G.names = names;
    G.nnames = nnames;
    G.njobs = inflight > 0 && (size_t)inflight < nnames ? (size_t)inflight : nnames;
    G.jobs = calloc(G.njobs, sizeof *G.jobs);

    double t0 = now_s();
    size_t failed = 0;
    for (long round = 0; round < repeat; round++) {
        if (round && pause_ms > 0) {
            struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        G.next = G.done = G.failed = 0;
        if (!G.r)
            break;
        start_next();
        uint64_t tm = cancel_ms >= 0 ? loop_timer(G.l, (uint64_t)cancel_ms,
                                                  cancel_all, NULL) : 0;
        while (G.done < G.nnames)
            if (loop_once(G.l, -1) < 0)
                break;
        failed += G.failed;
        if (tm)
            loop_timer_cancel(G.l, tm);
    }
    double t1 = now_s();
    fflush(stdout);

    if (bench >= 0 && G.r) {
        /* The cached lookups run between two marker system calls (access()
         * of paths that do not exist): bench/dns.sh counts, in strace's
         * log, the system calls between them.  (The clock reads are vDSO
         * calls, which do not enter the kernel.) */
        struct sockaddr_storage out[32];
        long hits = 0;
        double b0 = now_s();
        (void)access("/hflow-bench-cached/begin", F_OK);
        for (long i = 0; i < bench; i++)
            hits += resolver_cached(G.r, names[(size_t)i % nnames], G.family,
                                    out, 32) > 0;
        (void)access("/hflow-bench-cached/end", F_OK);
        double b1 = now_s();
        printf("cached: %ld lookups in %.3f ms: %.1f ns per lookup (%ld hits)\n",
               bench, (b1 - b0) * 1e3,
               bench ? (b1 - b0) * 1e9 / (double)bench : 0.0, hits);
    }
    if (stats && G.r) {
        resolver_stats st;
        resolver_get_stats(G.r, &st);
        printf("stats: queries_sent=%llu cache_hits=%llu cache_misses=%llu "
               "ignored=%llu\n", (unsigned long long)st.queries_sent,
               (unsigned long long)st.cache_hits,
               (unsigned long long)st.cache_misses, (unsigned long long)st.ignored);
        printf("time: lookups=%zu failed=%zu seconds=%.6f\n",
               G.nnames * (size_t)repeat, failed, t1 - t0);
    }
    resolver_free(G.r);
    loop_free(G.l);
    free(G.jobs);
    for (size_t i = 0; i < nnames - npos; i++)
        free((char *)names[i]);
    free(names);
    free(pos);
    return failed ? 6 : 0;
}
