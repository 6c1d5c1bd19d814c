/* har.c -- hf_view_har: responses as an HTTP Archive (HAR 1.2,
 * http://www.softwareishard.com/blog/har-12-spec/).  Everything comes from
 * the responses: the request head as sent, the response head, sizes, the
 * cumulative times and the trace (which phases happened). */
#include "hflow.h"
#include "internal.h"
#include "json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- small parsers -------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoded s[0..n) as a JSON string ('+' stays as it is). */
static void put_decoded(jw *w, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        w->err = HF_E_NOMEM;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            d[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    jw_strn(w, d, o);
    free(d);
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* {"name", "value"} */
static void name_value(jw *w, const char *n, size_t nl, const char *v, size_t vl)
{
    jw_obj(w);
    jw_key(w, "name");
    jw_strn(w, n, nl);
    jw_key(w, "value");
    jw_strn(w, v, vl);
    jw_obj_end(w);
}

/* The query of url as [{name, value}], percent-decoded. */
static void query_string(jw *w, const char *url)
{
    jw_arr(w);
    const char *q = url ? strchr(url, '?') : NULL;
    if (q) {
        q++;
        size_t qlen = strcspn(q, "#");
        const char *end = q + qlen;
        while (q < end) {
            const char *amp = memchr(q, '&', (size_t)(end - q));
            const char *pe = amp ? amp : end;
            if (pe > q) {
                const char *eq = memchr(q, '=', (size_t)(pe - q));
                const char *ne = eq ? eq : pe;
                jw_obj(w);
                jw_key(w, "name");
                put_decoded(w, q, (size_t)(ne - q));
                jw_key(w, "value");
                if (eq)
                    put_decoded(w, eq + 1, (size_t)(pe - eq - 1));
                else
                    jw_str(w, "");
                jw_obj_end(w);
            }
            q = amp ? amp + 1 : end;
        }
    }
    jw_arr_end(w);
}

/* The header lines of a raw head (after its first line) as [{name,
 * value}]; with cookie set, also collects the Cookie pairs. */
static void head_headers(jw *w, const char *head, size_t len)
{
    jw_arr(w);
    const char *p = head, *end = head + len;
    const char *nl = memchr(p, '\n', len);
    p = nl ? nl + 1 : end; /* skip the request line */
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        const char *le = e ? e : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (!n)
            break;
        const char *colon = memchr(p, ':', n);
        if (colon) {
            const char *v = colon + 1;
            size_t vl = (size_t)(p + n - v);
            trim(&v, &vl);
            name_value(w, p, (size_t)(colon - p), v, vl);
        }
        p = e ? e + 1 : end;
    }
    jw_arr_end(w);
}

/* The value of header name in a raw head, or NULL; *vl its length. */
static const char *head_find(const char *head, size_t len, const char *name,
                             size_t *vl)
{
    size_t nlen = strlen(name);
    const char *p = head, *end = head + len;
    const char *nl = memchr(p, '\n', len);
    p = nl ? nl + 1 : end;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        const char *le = e ? e : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            *vl = n - nlen - 1;
            trim(&v, vl);
            return v;
        }
        p = e ? e + 1 : end;
    }
    return NULL;
}

/* "a=b; c=d" (a Cookie header) as cookie objects. */
static void request_cookies(jw *w, const char *v, size_t vl)
{
    const char *end = v + vl;
    while (v && v < end) {
        const char *semi = memchr(v, ';', (size_t)(end - v));
        const char *pe = semi ? semi : end;
        const char *s = v;
        size_t n = (size_t)(pe - v);
        trim(&s, &n);
        const char *eq = n ? memchr(s, '=', n) : NULL;
        if (eq) {
            const char *nm = s, *val = eq + 1;
            size_t nml = (size_t)(eq - s), vall = (size_t)(s + n - val);
            trim(&nm, &nml);
            trim(&val, &vall);
            name_value(w, nm, nml, val, vall);
        }
        v = semi ? semi + 1 : end;
    }
}

/* One Set-Cookie value as a cookie object (name, value, path, domain,
 * httpOnly, secure; expires is left out: HAR wants ISO 8601). */
static void set_cookie(jw *w, const char *v)
{
    size_t vl = strlen(v);
    const char *end = v + vl;
    const char *semi = memchr(v, ';', vl);
    const char *pe = semi ? semi : end;
    const char *eq = memchr(v, '=', (size_t)(pe - v));
    if (!eq)
        return; /* not a cookie (RFC 6265 5.2 step 2) */
    const char *nm = v, *val = eq + 1;
    size_t nml = (size_t)(eq - v), vall = (size_t)(pe - val);
    trim(&nm, &nml);
    trim(&val, &vall);
    jw_obj(w);
    jw_key(w, "name");
    jw_strn(w, nm, nml);
    jw_key(w, "value");
    jw_strn(w, val, vall);
    int http_only = 0, secure = 0;
    const char *p = semi ? semi + 1 : end;
    while (p < end) {
        const char *s2 = memchr(p, ';', (size_t)(end - p));
        const char *ae = s2 ? s2 : end;
        const char *a = p;
        size_t al = (size_t)(ae - p);
        trim(&a, &al);
        const char *aeq = al ? memchr(a, '=', al) : NULL;
        size_t an = aeq ? (size_t)(aeq - a) : al;
        const char *av = aeq ? aeq + 1 : "";
        size_t avl = aeq ? (size_t)(a + al - av) : 0;
        trim(&av, &avl);
        if (an == 4 && strncasecmp(a, "path", 4) == 0) {
            jw_key(w, "path");
            jw_strn(w, av, avl);
        } else if (an == 6 && strncasecmp(a, "domain", 6) == 0) {
            jw_key(w, "domain");
            jw_strn(w, av, avl);
        } else if (an == 8 && strncasecmp(a, "httponly", 8) == 0) {
            http_only = 1;
        } else if (an == 6 && strncasecmp(a, "secure", 6) == 0) {
            secure = 1;
        }
        p = s2 ? s2 + 1 : end;
    }
    jw_key(w, "httpOnly");
    jw_bool(w, http_only);
    jw_key(w, "secure");
    jw_bool(w, secure);
    jw_obj_end(w);
}

/* ---- timings --------------------------------------------------------- */

typedef struct phases {
    int dns, connect, tls, reused;    /* what the trace shows happened */
    uint64_t dns_start, connect_start, queued_mono;
} phases;

static void scan_trace(const hf_response *r, phases *ph)
{
    memset(ph, 0, sizeof *ph);
    const hf_trace *tr = hf_response_trace(r);
    size_t n = hf_trace_count(tr);
    for (size_t i = 0; i < n; i++) {
        hf_event e;
        if (hf_trace_event(tr, i, &e))
            break;
        switch (e.type) {
        case HF_EV_QUEUED:
            ph->queued_mono = e.mono_ns;
            break;
        case HF_EV_REUSED:
            ph->reused = 1;
            break;
        case HF_EV_DNS_START:
            if (!ph->dns)
                ph->dns_start = e.t_ns;
            ph->dns = 1;
            break;
        case HF_EV_CONNECT_START:
            if (!ph->connect)
                ph->connect_start = e.t_ns;
            ph->connect = 1;
            break;
        case HF_EV_TLS_START:
            ph->tls = 1;
            break;
        default:
            break;
        }
    }
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* The next boundary: t, kept between the previous one and the total. */
static uint64_t bound(uint64_t t, uint64_t prev, uint64_t total)
{
    if (t < prev)
        t = prev;
    return t > total ? total : t;
}

/* A timing in ms; -1 (a phase that did not happen) as an integer. */
static void put_ms(jw *w, const char *key, double v)
{
    jw_key(w, key);
    if (v < 0)
        jw_int(w, -1);
    else
        jw_num(w, v, 3);
}

static void timings(jw *w, const hf_response *r, const phases *ph)
{
    uint64_t total = hf_response_time_ns(r, HF_TIME_TOTAL);
    double blocked, dns = -1, connect = -1, ssl = -1, send, wait, receive;
    uint64_t ready; /* the connection is ready for the request */
    if (ph->connect) {
        uint64_t b0 = bound(ph->dns ? ph->dns_start : ph->connect_start, 0, total);
        blocked = ms(b0);
        uint64_t b1 = b0;
        if (ph->dns) {
            b1 = bound(hf_response_time_ns(r, HF_TIME_NAMELOOKUP), b0, total);
            dns = ms(b1 - b0);
        }
        uint64_t tcp = bound(hf_response_time_ns(r, HF_TIME_CONNECT), b1, total);
        ready = tcp;
        if (ph->tls) {
            ready = bound(hf_response_time_ns(r, HF_TIME_APPCONNECT), tcp, total);
            ssl = ms(ready - tcp);
        }
        connect = ms(ready - b1); /* includes ssl (HAR 1.2) */
    } else {
        /* a reused connection (or a failure before any connect): the time
         * until the request could be sent */
        ready = bound(hf_response_time_ns(r, HF_TIME_PRETRANSFER), 0, total);
        blocked = ms(ready);
    }
    uint64_t post = bound(hf_response_time_ns(r, HF_TIME_POSTTRANSFER), ready, total);
    uint64_t first = bound(hf_response_time_ns(r, HF_TIME_STARTTRANSFER), post, total);
    send = ms(post - ready);
    wait = ms(first - post);
    receive = ms(total - first);
    jw_key(w, "timings");
    jw_obj(w);
    put_ms(w, "blocked", blocked);
    put_ms(w, "dns", dns);
    put_ms(w, "connect", connect);
    put_ms(w, "ssl", ssl);
    put_ms(w, "send", send);
    put_ms(w, "wait", wait);
    put_ms(w, "receive", receive);
    jw_obj_end(w);
}

/* ---- entries ----------------------------------------------------------- */

static void iso8601(double unix_s, char *out, size_t cap)
{
    if (unix_s < 0)
        unix_s = 0;
    time_t sec = (time_t)unix_s;
    long msec = (long)((unix_s - (double)sec) * 1000.0 + 0.5);
    if (msec >= 1000) {
        sec++;
        msec -= 1000;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    int m3 = msec >= 0 && msec <= 999 ? (int)msec : 0;
    snprintf(out, cap, "%.24s.%03dZ", d, m3);
}

/* "ADDR:PORT" / "[v6]:PORT" -> ADDR */
static void addr_ip(const char *a, char *ip, size_t cap)
{
    ip[0] = '\0';
    if (!a || !*a)
        return;
    const char *colon = strrchr(a, ':');
    size_t n = colon ? (size_t)(colon - a) : strlen(a);
    if (a[0] == '[' && n >= 2 && a[n - 1] == ']') {
        a++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(ip, a, n);
    ip[n] = '\0';
}

/* The method: the request line's first word, else the queued event's. */
static void method_of(const hf_response *r, const char *head, size_t hlen,
                      char *out, size_t cap)
{
    const char *src = head;
    size_t n = hlen ? strcspn(head, " \r\n") : 0;
    if (!n) {
        const hf_trace *tr = hf_response_trace(r);
        hf_event e;
        if (hf_trace_event(tr, 0, &e) == 0 && e.type == HF_EV_QUEUED) {
            src = e.detail;
            n = strcspn(src, " ");
        }
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, src ? src : "", n);
    out[n] = '\0';
}

static void entry(jw *w, const hf_response *r, double started)
{
    phases ph;
    scan_trace(r, &ph);
    size_t qlen = 0;
    const char *qhead = hf_response_request_head(r, &qlen);
    if (!qhead)
        qhead = "", qlen = 0;
    const char *url = hf_response_url(r);
    char when[48], method[64], ip[80];
    iso8601(started, when, sizeof when);
    method_of(r, qhead, qlen, method, sizeof method);

    jw_obj(w);
    jw_key(w, "startedDateTime");
    jw_str(w, when);
    jw_key(w, "time");
    jw_num(w, ms(hf_response_time_ns(r, HF_TIME_TOTAL)), 3);

    /* request */
    jw_key(w, "request");
    jw_obj(w);
    jw_key(w, "method");
    jw_str(w, method);
    jw_key(w, "url");
    jw_str(w, url ? url : "");
    jw_key(w, "httpVersion");
    {
        size_t l1 = qlen ? strcspn(qhead, "\r\n") : 0;
        const char *sp = l1 ? memchr(qhead, ' ', l1) : NULL;
        const char *ver = sp ? memchr(sp + 1, ' ', (size_t)(qhead + l1 - sp - 1)) : NULL;
        if (ver)
            jw_strn(w, ver + 1, (size_t)(qhead + l1 - ver - 1));
        else
            jw_str(w, "HTTP/1.1");
    }
    jw_key(w, "cookies");
    jw_arr(w);
    {
        size_t vl;
        const char *v = head_find(qhead, qlen, "Cookie", &vl);
        if (v)
            request_cookies(w, v, vl);
    }
    jw_arr_end(w);
    jw_key(w, "headers");
    head_headers(w, qhead, qlen);
    jw_key(w, "queryString");
    query_string(w, url);
    jw_key(w, "headersSize");
    jw_int(w, qlen ? (int64_t)qlen : -1);
    jw_key(w, "bodySize");
    jw_int(w, hf_response_size_upload(r));
    jw_obj_end(w);

    /* response */
    int status = hf_response_status(r);
    size_t hlen = 0;
    hf_response_head_raw(r, &hlen);
    const char *ctype = hf_response_header(r, "Content-Type");
    const char *loc = hf_response_header(r, "Location");
    size_t blen = 0;
    hf_response_body(r, &blen);
    int64_t wire = hf_response_size_download(r);
    jw_key(w, "response");
    jw_obj(w);
    jw_key(w, "status");
    jw_int(w, status);
    jw_key(w, "statusText");
    jw_str(w, status && hf_response_reason(r) ? hf_response_reason(r) : "");
    jw_key(w, "httpVersion");
    if (status) {
        char v[16];
        snprintf(v, sizeof v, "HTTP/1.%d", hf_response_http_minor(r));
        jw_str(w, v);
    } else {
        jw_str(w, "");
    }
    jw_key(w, "cookies");
    jw_arr(w);
    size_t nh = hf_response_header_count(r);
    for (size_t i = 0; i < nh; i++) {
        const char *n, *v;
        if (hf_response_header_at(r, i, &n, &v) == 0 && strcasecmp(n, "Set-Cookie") == 0)
            set_cookie(w, v);
    }
    jw_arr_end(w);
    jw_key(w, "headers");
    jw_arr(w);
    for (size_t i = 0; i < nh; i++) {
        const char *n, *v;
        if (hf_response_header_at(r, i, &n, &v) == 0)
            name_value(w, n, strlen(n), v, strlen(v));
    }
    jw_arr_end(w);
    jw_key(w, "content");
    jw_obj(w);
    jw_key(w, "size");
    /* the decoded size is known when the body was kept (no sink) */
    jw_int(w, blen ? (int64_t)blen : wire);
    if (blen && (int64_t)blen > wire) {
        jw_key(w, "compression");
        jw_int(w, (int64_t)blen - wire);
    }
    jw_key(w, "mimeType");
    jw_str(w, ctype ? ctype : "");
    jw_obj_end(w);
    jw_key(w, "redirectURL");
    jw_str(w, loc ? loc : "");
    jw_key(w, "headersSize");
    jw_int(w, status ? (int64_t)hlen : -1);
    jw_key(w, "bodySize");
    jw_int(w, status ? wire : -1);
    jw_obj_end(w);

    jw_key(w, "cache");
    jw_obj(w);
    jw_obj_end(w);
    timings(w, r, &ph);
    addr_ip(hf_response_remote_addr(r), ip, sizeof ip);
    if (ip[0]) {
        jw_key(w, "serverIPAddress");
        jw_str(w, ip);
    }
    long cid = hf_response_conn_id(r);
    if (cid >= 0) {
        char c[32];
        snprintf(c, sizeof c, "%ld", cid);
        jw_key(w, "connection");
        jw_str(w, c);
    }
    if (hf_response_error(r) != HF_OK) {
        jw_key(w, "_error");
        jw_str(w, hf_response_errmsg(r));
    }
    jw_obj_end(w);
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *hf_view_har(const hf_response *const *r, size_t n, const double *started_unix)
{
    if (n && !r)
        return NULL;
    double real0 = unix_now();
    uint64_t mono0 = mono_now();
    jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "log");
    jw_obj(&w);
    jw_key(&w, "version");
    jw_str(&w, "1.2");
    jw_key(&w, "creator");
    jw_obj(&w);
    jw_key(&w, "name");
    jw_str(&w, "hflow");
    jw_key(&w, "version");
    jw_str(&w, HF_VERSION);
    jw_obj_end(&w);
    jw_key(&w, "entries");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        if (!r[i])
            continue;
        double started;
        if (started_unix) {
            started = started_unix[i];
        } else {
            /* from the queued event's monotonic time */
            phases ph;
            scan_trace(r[i], &ph);
            started = real0 - (double)(mono0 - (ph.queued_mono && ph.queued_mono <= mono0
                                                    ? ph.queued_mono : mono0)) / 1e9;
        }
        jw_newline(&w);
        entry(&w, r[i], started);
    }
    jw_raw(&w, "\n");
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_raw(&w, "\n");
    return jw_take(&w);
}
