/* retry.c -- the --retry policy (retry.h).
 *
 * curl's rules: timeouts (and unresolved names) are always transient,
 * HTTP 408/429/500/502/503/504 when the transfer otherwise worked (or
 * failed only because of -f), connection refused only with
 * --retry-connrefused, everything with --retry-all-errors.  hflow adds
 * what RFC 9110 asks of a client: a non-idempotent request (POST, PATCH,
 * ...) is retried only when the user says any error may be retried. */
#include "retry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define RETRY_FIRST_MS 1000L             /* curl's first backoff */
#define RETRY_MAX_MS (10L * 60 * 1000)   /* and its ceiling (10 min) */
#define RETRY_AFTER_MAX_S (365L * 86400) /* beyond a year is nonsense */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void retry_start(retry_state *rs, const cfg *c)
{
    rs->left = c->retry;
    rs->backoff_ms = RETRY_FIRST_MS;
    rs->start_ns = mono_ns();
    rs->count = 0;
}

int retry_status(int status)
{
    switch (status) {
    case 408: case 429: case 500: case 502: case 503: case 504:
        return 1;
    default:
        return 0;
    }
}

int retry_method_ok(const cfg *c, const char *method)
{
    static const char *const idem[] = {"GET", "HEAD", "OPTIONS", "TRACE",
                                       "PUT", "DELETE"};
    if (c->retry_all_errors)
        return 1;
    for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
        if (strcmp(method, idem[i]) == 0)
            return 1;
    return 0;
}

/* Whether a connect failure of the attempt was ECONNREFUSED. */
static int was_refused(const hf_response *resp)
{
    const hf_trace *tr = resp ? hf_response_trace(resp) : NULL;
    size_t n = tr ? hf_trace_count(tr) : 0;
    for (size_t i = 0; i < n; i++) {
        hf_event ev;
        if (hf_trace_event(tr, i, &ev) == 0 &&
            ev.type == HF_EV_CONNECT_FAILED && ev.value == ECONNREFUSED)
            return 1;
    }
    return 0;
}

int retry_kind(const cfg *c, const char *method, int code, int http,
               const hf_response *resp)
{
    int kind = RETRY_NO;
    if (code == HF_E_TIMEOUT || code == HF_E_RESOLVE)
        kind = RETRY_TIMEOUT;
    else if (code == HF_E_CONNECT && c->retry_connrefused &&
             was_refused(resp))
        kind = RETRY_CONNREFUSED;
    else if ((code == 0 || code == HF_E_HTTP_STATUS) && http)
        kind = RETRY_HTTP;
    if (kind == RETRY_NO && code && c->retry_all_errors)
        kind = RETRY_ALL;
    if (kind != RETRY_NO && !retry_method_ok(c, method))
        kind = RETRY_NO;
    return kind;
}

/* The backoff with +-25% jitter, so that clients that failed together
 * do not come back together. */
static long jitter(long ms)
{
    static int seeded;
    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        srandom((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ (long)getpid() << 16));
        seeded = 1;
    }
    double f = 0.75 + 0.5 * ((double)random() / 2147483648.0);
    return (long)((double)ms * f + 0.5);
}

long retry_delay(const retry_state *rs, const cfg *c, int kind,
                 const hf_response *resp, int *why)
{
    *why = RETRY_WHY_NONE;
    if (kind == RETRY_NO || rs->left <= 0)
        return -1;
    int64_t elapsed = (mono_ns() - rs->start_ns) / 1000000;
    int64_t budget = c->retry_max_time_ms ? c->retry_max_time_ms - elapsed
                                          : INT64_MAX;
    if (budget <= 0)
        return -1;
    long delay = c->retry_delay_ms ? c->retry_delay_ms
                                   : jitter(rs->backoff_ms);
    const char *ra = kind == RETRY_HTTP && resp
                         ? hf_response_header(resp, "Retry-After")
                         : NULL;
    long after = ra ? retry_after_ms(ra, time(NULL)) : -1;
    if (after > delay) {
        if (after > budget) {
            *why = RETRY_WHY_LATE; /* the server asks for more than we have */
            return -1;
        }
        delay = after;
    }
    if (delay > budget)
        delay = (long)budget;
    return delay;
}

void retry_commit(retry_state *rs, const cfg *c, int kind, long delay_ms,
                  const char *url)
{
    static const char *const what[] = {
        [RETRY_ALL] = " (retrying all errors)",
        [RETRY_TIMEOUT] = ": timeout",
        [RETRY_CONNREFUSED] = ": connection refused",
        [RETRY_HTTP] = ": HTTP error",
    };
    if (!c->silent) {
        char secs[32];
        /* whole seconds as curl, unless the user asked for less */
        if (c->retry_delay_ms && c->retry_delay_ms < 1000)
            snprintf(secs, sizeof secs, "%.1f", (double)delay_ms / 1000.0);
        else
            snprintf(secs, sizeof secs, "%ld", (delay_ms + 500) / 1000);
        cli_warn_named("%s%sProblem%s. Will retry in %s seconds. "
                       "%ld retries left.", url ? url : "", url ? ": " : "",
                       what[kind], secs, rs->left);
    }
    rs->left--;
    rs->count++;
    if (!c->retry_delay_ms) {
        rs->backoff_ms *= 2;
        if (rs->backoff_ms > RETRY_MAX_MS)
            rs->backoff_ms = RETRY_MAX_MS;
    }
}

void retry_sleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- Retry-After ------------------------------------------------------- */

static int month_of(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (strlen(m) != 3)
        return -1;
    for (int i = 0; i < 12; i++)
        if (cli_ncaseeq(m, names + 3 * i, 3))
            return i;
    return -1;
}

/* The fields of an HTTP-date. */
typedef struct hdate {
    char wday[16], mon[8];
    int d, y, h, mi, s;
} hdate;

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".  0, or -1. */
static int imf_fixdate(const char *v, hdate *o)
{
    int n = -1;
    return sscanf(v, "%15[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
                  o->wday, &o->d, o->mon, &o->y, &o->h, &o->mi, &o->s,
                  &n) == 7 && (size_t)n == strlen(v) ? 0 : -1;
}

/* Obsolete RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT".  0, or -1. */
static int rfc850_date(const char *v, hdate *o)
{
    int n = -1;
    if (sscanf(v, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n",
               o->wday, &o->d, o->mon, &o->y, &o->h, &o->mi, &o->s,
               &n) != 7 || (size_t)n != strlen(v))
        return -1;
    o->y += o->y < 70 ? 2000 : 1900; /* the past 50 years, roughly */
    return 0;
}

/* asctime(): "Sun Nov  6 08:49:37 1994".  0, or -1. */
static int asctime_date(const char *v, hdate *o)
{
    int n = -1;
    return sscanf(v, "%15[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n",
                  o->wday, o->mon, &o->d, &o->h, &o->mi, &o->s, &o->y,
                  &n) == 7 && (size_t)n == strlen(v) ? 0 : -1;
}

/* An HTTP-date in any of the three forms RFC 9110 section 5.6.7 says a
 * recipient must accept, as seconds since the epoch; -1 when it is not. */
static time_t http_date(const char *v)
{
    hdate o;
    memset(&o, 0, sizeof o);
    if (imf_fixdate(v, &o) && rfc850_date(v, &o) && asctime_date(v, &o))
        return -1;
    int m = month_of(o.mon);
    if (m < 0 || o.d < 1 || o.d > 31 || o.h < 0 || o.h > 23 || o.mi < 0 ||
        o.mi > 59 || o.s < 0 || o.s > 60 || o.y < 1970)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = o.y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = o.d;
    tm.tm_hour = o.h;
    tm.tm_min = o.mi;
    tm.tm_sec = o.s;
    return timegm(&tm);
}

long retry_after_ms(const char *value, time_t now)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 64)
        return -1;
    char v[65];
    memcpy(v, value, n);
    v[n] = '\0';
    if (strspn(v, "0123456789") == n) {
        long s = 0;
        for (size_t i = 0; i < n && s <= RETRY_AFTER_MAX_S; i++)
            s = s * 10 + (v[i] - '0');
        if (s > RETRY_AFTER_MAX_S)
            s = RETRY_AFTER_MAX_S;
        return s * 1000;
    }
    time_t t = http_date(v);
    if (t == (time_t)-1)
        return -1;
    if (t <= now)
        return 0;
    if (t - now > RETRY_AFTER_MAX_S)
        return RETRY_AFTER_MAX_S * 1000;
    return (long)(t - now) * 1000;
}
