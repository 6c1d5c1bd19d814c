/* writeout.c -- -w/--write-out FORMAT, as curl: %{name} variables with
 * curl's meanings, %header{name}, %{json} (every variable as one JSON
 * object), %{header_json}, %{stderr} / %{stdout}, %% and the escapes
 * \n \r \t \\.  Times are seconds with six decimals, cumulative from the
 * start of the transfer.  hflow's own variables (per-phase times, the
 * kernel's view of TCP, the connection's fate, DNS) come from the
 * transfer's trace; docs/hflow.1 lists them all. */
#include "writeout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- what the trace says -------------------------------------------- */

typedef struct traced {
    int have_rtt, have_retrans, have_ttl;
    uint32_t rtt_us, retrans;
    unsigned long ttl;        /* the smallest TTL of the DNS answers */
    const char *closed_by;    /* "client", "server", "reset", "pooled", "" */
    const char *dns_server;   /* "" when no server was asked */
    long xfer_id;             /* the transfer's number, -1 unknown */
    int tls;                  /* a TLS handshake was made */
} traced;

static void scan(const hf_response *r, traced *t)
{
    memset(t, 0, sizeof *t);
    t->closed_by = "";
    t->dns_server = "";
    t->xfer_id = -1;
    if (!r)
        return;
    const hf_trace *tr = hf_response_trace(r);
    size_t n = hf_trace_count(tr);
    int rtt_from_est = 0;
    for (size_t i = 0; i < n; i++) {
        hf_event e;
        if (hf_trace_event(tr, i, &e))
            break;
        switch (e.type) {
        case HF_EV_QUEUED:
            t->xfer_id = e.transfer;
            break;
        case HF_EV_TLS_START:
            t->tls = 1;
            break;
        case HF_EV_DNS_ANSWER: {
            if (!t->dns_server[0] && e.peer[0])
                t->dns_server = e.peer;
            const char *p = strstr(e.detail, "ttl=");
            if (p) {
                char *end;
                unsigned long v = strtoul(p + 4, &end, 10);
                if (end != p + 4 && (!t->have_ttl || v < t->ttl)) {
                    t->ttl = v;
                    t->have_ttl = 1;
                }
            }
            break;
        }
        case HF_EV_TCP_ESTABLISHED:
        case HF_EV_CLOSED:
            if (e.tcp.valid) {
                /* the handshake's RTT; the latest retransmission count */
                if (!rtt_from_est) {
                    t->rtt_us = e.tcp.rtt_us;
                    t->have_rtt = 1;
                    rtt_from_est = e.type == HF_EV_TCP_ESTABLISHED;
                }
                t->retrans = e.tcp.retrans;
                t->have_retrans = 1;
            }
            if (e.type == HF_EV_CLOSED) {
                switch (e.closed_by) {
                case HF_CLOSED_BY_CLIENT: t->closed_by = "client"; break;
                case HF_CLOSED_BY_SERVER: t->closed_by = "server"; break;
                case HF_CLOSED_BY_RESET: t->closed_by = "reset"; break;
                default: t->closed_by = ""; break;
                }
            }
            break;
        case HF_EV_POOLED:
            t->closed_by = "pooled";
            break;
        default:
            break;
        }
    }
}

/* ---- JSON strings ------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* s as a JSON string: quotes, backslashes and control bytes escaped, a
 * byte outside well-formed UTF-8 replaced by U+FFFD. */
static void json_str(sbuf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    sb_addc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k;
        if (c == '"' || c == '\\') {
            sb_addc(b, '\\');
            sb_addc(b, (char)c);
            i++;
        } else if (c == '\n') {
            sb_adds(b, "\\n");
            i++;
        } else if (c == '\r') {
            sb_adds(b, "\\r");
            i++;
        } else if (c == '\t') {
            sb_adds(b, "\\t");
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            sb_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            sb_addc(b, (char)c);
            i++;
        } else if ((k = utf8_len(s + i, n - i)) != 0) {
            sb_add(b, s + i, k);
            i += k;
        } else {
            sb_adds(b, "\\ufffd");
            i++;
        }
    }
    sb_addc(b, '"');
}

/* ---- the variables ------------------------------------------------------ */

enum kind {
    K_INT,     /* a number */
    K_TIME,    /* ns, shown as seconds with six decimals */
    K_STR,     /* a string ("" stays "" in JSON) */
    K_OPT,     /* a string that is null in JSON when empty */
    K_OPTINT,  /* a number that may be unknown: "" / null */
    K_CODE     /* http_code: three digits, a number in JSON */
};

typedef struct val {
    enum kind kind;
    int known;
    int64_t i;
    uint64_t ns;
    const char *s;
    char tmp[2048];
} val;

typedef struct ctx {
    const wo_info *wi;
    const hf_response *r;
    traced tr;
} ctx;

/* Splits "ADDR:PORT" or "[v6]:PORT" into its parts. */
static void split_addr(const char *a, char *ip, size_t ipcap, long *port)
{
    ip[0] = '\0';
    *port = 0;
    if (!a || !*a)
        return;
    const char *colon = strrchr(a, ':');
    const char *host = a;
    size_t hlen = colon ? (size_t)(colon - a) : strlen(a);
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen >= ipcap)
        hlen = ipcap - 1;
    memcpy(ip, host, hlen);
    ip[hlen] = '\0';
    if (colon)
        *port = strtol(colon + 1, NULL, 10);
}

/* Cumulative from the start of the whole operation, as curl's: the time
 * of the redirects before this hop is added (each hop's own timings are in
 * its trace). */
static uint64_t tm(const hf_response *r, hf_time t)
{
    if (!r)
        return 0;
    uint64_t v = hf_response_time_ns(r, t);
    return v ? v + hf_response_time_redirect_ns(r) : 0;
}

static uint64_t diff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Per-phase durations (hflow's own): dns, tcp, tls for a new connection
 * (0 on a reused one), server = first byte - pretransfer (the request
 * sent and the server's think time, as httpstat), transfer = total -
 * first byte. */
enum { PH_DNS, PH_TCP, PH_TLS, PH_SERVER, PH_TRANSFER };
static uint64_t phase(const ctx *x, int ph)
{
    const hf_response *r = x->r;
    if (!r)
        return 0;
    int fresh = !hf_response_reused(r) && hf_response_conn_id(r) >= 0;
    uint64_t nl = tm(r, HF_TIME_NAMELOOKUP), cn = tm(r, HF_TIME_CONNECT);
    uint64_t ac = tm(r, HF_TIME_APPCONNECT), pre = tm(r, HF_TIME_PRETRANSFER);
    uint64_t st = tm(r, HF_TIME_STARTTRANSFER), tot = tm(r, HF_TIME_TOTAL);
    switch (ph) {
    case PH_DNS: return fresh ? nl : 0;
    case PH_TCP: return fresh ? diff(cn, nl) : 0;
    case PH_TLS: return fresh && x->tr.tls ? diff(ac, cn) : 0;
    case PH_SERVER: return st ? diff(st, pre) : 0;
    default: return st ? diff(tot, st) : 0;
    }
}

static const char *scheme_of(const char *url, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p || (size_t)(p - url) >= cap)
        return out;
    size_t n = (size_t)(p - url);
    for (size_t i = 0; i < n; i++) {
        char c = url[i];
        out[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    out[n] = '\0';
    return out;
}

/* The value of a header of the request head as sent, or "". */
static void sent_header(const hf_response *r, const char *name, char *out,
                        size_t cap)
{
    out[0] = '\0';
    size_t len = 0, nlen = strlen(name);
    const char *h = r ? hf_response_request_head(r, &len) : NULL;
    const char *end = h ? h + len : NULL;
    const char *p = h ? memchr(h, '\n', len) : NULL;
    while (p && ++p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n > nlen && p[nlen] == ':' && cli_ncaseeq(p, name, nlen)) {
            const char *v = p + nlen + 1;
            while (v < p + n && (*v == ' ' || *v == '\t'))
                v++;
            size_t vl = (size_t)(p + n - v);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
        p = e;
    }
}

/* curl's redirect_url: a 3xx response's Location, made absolute against
 * the URL fetched ("" when there is none). */
static void redirect_url(const ctx *x, char *out, size_t cap)
{
    out[0] = '\0';
    const hf_response *r = x->r;
    int st = r ? hf_response_status(r) : 0;
    const char *loc = r && st >= 300 && st < 400 ? hf_response_header(r, "Location")
                                                 : NULL;
    const char *base = r ? hf_response_url(r) : NULL;
    if (!loc || !*loc || !base)
        return;
    const char *sep = strstr(base, "://");
    if (strstr(loc, "://") || !sep) {
        snprintf(out, cap, "%s", loc);
        return;
    }
    size_t scheme = (size_t)(sep - base);
    size_t auth = scheme + 3 + strcspn(sep + 3, "/?#");
    if (loc[0] == '/' && loc[1] == '/') {
        snprintf(out, cap, "%.*s:%s", (int)scheme, base, loc);
    } else if (loc[0] == '/') {
        snprintf(out, cap, "%.*s%s", (int)auth, base, loc);
    } else {
        /* relative to the path's directory */
        size_t plen = strcspn(base + auth, "?#");
        size_t dir = auth;
        for (size_t i = auth; i < auth + plen; i++)
            if (base[i] == '/')
                dir = i + 1;
        if (dir == auth)
            snprintf(out, cap, "%.*s/%s", (int)auth, base, loc);
        else
            snprintf(out, cap, "%.*s%s", (int)dir, base, loc);
    }
}

static int64_t speed(int64_t bytes, uint64_t ns)
{
    return ns ? (int64_t)((double)bytes * 1e9 / (double)ns) : 0;
}

/* The variable table, sorted by name (%{json} lists them in this order). */
enum var {
    V_CERTS, V_CLOSED_BY, V_CONN_ID, V_CONTENT_TYPE, V_DNS_SERVER, V_DNS_TTL,
    V_ERRORMSG, V_EXITCODE, V_FILENAME_EFFECTIVE, V_HTTP_CODE, V_HTTP_CONNECT,
    V_HTTP_VERSION, V_LOCAL_IP, V_LOCAL_PORT, V_METHOD, V_NUM_CERTS,
    V_NUM_CONNECTS, V_NUM_HEADERS, V_NUM_REDIRECTS, V_NUM_RETRIES,
    V_PROXY_SSL_VERIFY_RESULT, V_PROXY_USED, V_REDIRECT_URL, V_REFERER, V_REMOTE_IP,
    V_REMOTE_PORT, V_RESPONSE_CODE, V_REUSED, V_SCHEME, V_SIZE_DOWNLOAD,
    V_SIZE_HEADER,
    V_SIZE_REQUEST, V_SIZE_UPLOAD, V_SPEED_DOWNLOAD, V_SPEED_UPLOAD,
    V_SSL_VERIFY_RESULT, V_TCP_RETRANS, V_TCP_RTT, V_TIME_APPCONNECT,
    V_TIME_CONNECT, V_TIME_DNS, V_TIME_NAMELOOKUP, V_TIME_POSTTRANSFER,
    V_TIME_PRETRANSFER, V_TIME_PROXY_CONNECT, V_TIME_QUEUE, V_TIME_REDIRECT, V_TIME_SERVER,
    V_TIME_STARTTRANSFER, V_TIME_TCP, V_TIME_TLS, V_TIME_TOTAL,
    V_TIME_TRANSFER, V_TIME_TUNNEL, V_URL, V_URL_EFFECTIVE, V_URLNUM, V_XFER_ID, V__COUNT
};
static const char *const names[V__COUNT] = {
    "certs", "closed_by", "conn_id", "content_type", "dns_server", "dns_ttl",
    "errormsg", "exitcode", "filename_effective", "http_code", "http_connect",
    "http_version", "local_ip", "local_port", "method", "num_certs",
    "num_connects", "num_headers", "num_redirects", "num_retries",
    "proxy_ssl_verify_result", "proxy_used", "redirect_url", "referer", "remote_ip",
    "remote_port", "response_code", "reused", "scheme", "size_download",
    "size_header",
    "size_request", "size_upload", "speed_download", "speed_upload",
    "ssl_verify_result", "tcp_retrans", "tcp_rtt", "time_appconnect",
    "time_connect", "time_dns", "time_namelookup", "time_posttransfer",
    "time_pretransfer", "time_proxy_connect", "time_queue", "time_redirect", "time_server",
    "time_starttransfer", "time_tcp", "time_tls", "time_total",
    "time_transfer", "time_tunnel", "url", "url_effective", "urlnum", "xfer_id",
};

static void get(const ctx *x, enum var id, val *v)
{
    const hf_response *r = x->r;
    const wo_info *wi = x->wi;
    size_t len = 0;
    long port;
    memset(v, 0, sizeof *v);
    v->kind = K_INT;
    v->known = 1;
    v->s = "";
    switch (id) {
    case V_CERTS:
        v->kind = K_STR;
        v->s = r && hf_response_certs(r) ? hf_response_certs(r) : "";
        break;
    case V_CLOSED_BY:
        v->kind = K_STR;
        v->s = x->tr.closed_by;
        break;
    case V_CONN_ID: v->i = r ? hf_response_conn_id(r) : -1; break;
    case V_CONTENT_TYPE:
        v->kind = K_OPT;
        v->s = r && hf_response_header(r, "Content-Type")
                   ? hf_response_header(r, "Content-Type") : "";
        break;
    case V_DNS_SERVER:
        v->kind = K_OPT;
        v->s = x->tr.dns_server;
        break;
    case V_DNS_TTL:
        v->kind = K_OPTINT;
        v->known = x->tr.have_ttl;
        v->i = (int64_t)x->tr.ttl;
        break;
    case V_ERRORMSG:
        v->kind = K_OPT;
        v->s = wi->errormsg ? wi->errormsg : "";
        break;
    case V_EXITCODE: v->i = wi->exitcode; break;
    case V_FILENAME_EFFECTIVE:
        v->kind = K_OPT;
        v->s = wi->filename ? wi->filename : "";
        break;
    case V_HTTP_CODE:
    case V_RESPONSE_CODE:
        v->kind = K_CODE;
        v->i = r ? hf_response_status(r) : 0;
        break;
    case V_HTTP_VERSION:
        v->kind = K_STR;
        v->s = v->tmp;
        if (r && hf_response_status(r))
            snprintf(v->tmp, sizeof v->tmp, "1.%d", hf_response_http_minor(r));
        else
            snprintf(v->tmp, sizeof v->tmp, "0");
        break;
    case V_LOCAL_IP:
    case V_LOCAL_PORT:
        split_addr(r ? hf_response_local_addr(r) : NULL, v->tmp, sizeof v->tmp, &port);
        if (id == V_LOCAL_IP) {
            v->kind = K_STR;
            v->s = v->tmp;
        } else {
            v->i = port;
        }
        break;
    case V_METHOD:
        v->kind = K_STR;
        v->s = wi->method ? wi->method : "";
        break;
    case V_NUM_CERTS: v->i = r ? hf_response_num_certs(r) : 0; break;
    case V_NUM_CONNECTS: v->i = wi->num_connects; break;
    case V_NUM_HEADERS: v->i = r ? (int64_t)hf_response_header_count(r) : 0; break;
    case V_NUM_REDIRECTS: v->i = r ? hf_response_num_redirects(r) : 0; break;
    case V_NUM_RETRIES: v->i = wi->num_retries; break;
    case V_REMOTE_IP:
    case V_REMOTE_PORT:
        split_addr(r ? hf_response_remote_addr(r) : NULL, v->tmp, sizeof v->tmp, &port);
        if (id == V_REMOTE_IP) {
            v->kind = K_STR;
            v->s = v->tmp;
        } else {
            v->i = port;
        }
        break;
    case V_REUSED: v->i = r ? hf_response_reused(r) != 0 : 0; break;
    case V_SCHEME:
        /* as curl: the scheme of the connection used, "" without one */
        v->kind = K_STR;
        v->s = r && hf_response_conn_id(r) >= 0
                   ? scheme_of(hf_response_url(r), v->tmp, sizeof v->tmp) : "";
        break;
    case V_SIZE_DOWNLOAD: v->i = r ? hf_response_size_download(r) : 0; break;
    case V_SIZE_HEADER:
        if (r)
            hf_response_head_raw(r, &len);
        v->i = (int64_t)len;
        break;
    case V_SIZE_REQUEST:
        if (r)
            hf_response_request_head(r, &len);
        v->i = (int64_t)len + (r ? hf_response_size_upload(r) : 0);
        break;
    case V_SIZE_UPLOAD: v->i = r ? hf_response_size_upload(r) : 0; break;
    case V_SPEED_DOWNLOAD:
        v->i = r ? speed(hf_response_size_download(r), tm(r, HF_TIME_TOTAL)) : 0;
        break;
    case V_SPEED_UPLOAD:
        v->i = r ? speed(hf_response_size_upload(r), tm(r, HF_TIME_TOTAL)) : 0;
        break;
    case V_SSL_VERIFY_RESULT: v->i = r ? hf_response_ssl_verify_result(r) : 0; break;
    case V_TCP_RETRANS:
        v->kind = K_OPTINT;
        v->known = x->tr.have_retrans;
        v->i = x->tr.retrans;
        break;
    case V_TCP_RTT:
        v->kind = K_OPTINT;
        v->known = x->tr.have_rtt;
        v->i = x->tr.rtt_us;
        break;
    case V_TIME_APPCONNECT: v->kind = K_TIME; v->ns = tm(r, HF_TIME_APPCONNECT); break;
    case V_TIME_CONNECT: v->kind = K_TIME; v->ns = tm(r, HF_TIME_CONNECT); break;
    case V_TIME_DNS: v->kind = K_TIME; v->ns = phase(x, PH_DNS); break;
    case V_TIME_NAMELOOKUP: v->kind = K_TIME; v->ns = tm(r, HF_TIME_NAMELOOKUP); break;
    case V_TIME_POSTTRANSFER: v->kind = K_TIME; v->ns = tm(r, HF_TIME_POSTTRANSFER); break;
    case V_TIME_PRETRANSFER: v->kind = K_TIME; v->ns = tm(r, HF_TIME_PRETRANSFER); break;
    case V_TIME_QUEUE: v->kind = K_TIME; v->ns = 0; break; /* never queued */
    case V_TIME_REDIRECT:
        v->kind = K_TIME;
        v->ns = r ? hf_response_time_redirect_ns(r) : 0;
        break;
    case V_TIME_SERVER: v->kind = K_TIME; v->ns = phase(x, PH_SERVER); break;
    case V_TIME_STARTTRANSFER: v->kind = K_TIME; v->ns = tm(r, HF_TIME_STARTTRANSFER); break;
    case V_TIME_TCP: v->kind = K_TIME; v->ns = phase(x, PH_TCP); break;
    case V_TIME_TLS: v->kind = K_TIME; v->ns = phase(x, PH_TLS); break;
    case V_TIME_TOTAL: v->kind = K_TIME; v->ns = tm(r, HF_TIME_TOTAL); break;
    case V_TIME_TRANSFER: v->kind = K_TIME; v->ns = phase(x, PH_TRANSFER); break;
    case V_URL:
        v->kind = K_STR;
        v->s = wi->url ? wi->url : "";
        break;
    case V_URL_EFFECTIVE:
        v->kind = K_STR;
        v->s = r && hf_response_url(r) && *hf_response_url(r) ? hf_response_url(r)
                                                               : (wi->url ? wi->url : "");
        break;
    case V_XFER_ID:
    case V_URLNUM: /* one client per run: the transfer's index */
        v->i = x->tr.xfer_id;
        break;
    case V_HTTP_CONNECT: v->kind = K_CODE; v->i = r ? hf_response_http_connect(r) : 0; break;
    case V_PROXY_USED: v->i = r ? hf_response_proxy_used(r) : 0; break;
    case V_TIME_PROXY_CONNECT:
        v->kind = K_TIME;
        v->ns = r ? hf_response_time_ns(r, HF_TIME_PROXY_CONNECT) : 0;
        break;
    case V_TIME_TUNNEL:
        v->kind = K_TIME;
        v->ns = r ? hf_response_time_ns(r, HF_TIME_TUNNEL) : 0;
        break;
    case V_PROXY_SSL_VERIFY_RESULT: v->i = 0; break;
    case V_REDIRECT_URL:
        v->kind = K_OPT;
        v->s = v->tmp;
        redirect_url(x, v->tmp, sizeof v->tmp);
        break;
    case V_REFERER:
        v->kind = K_OPT;
        v->s = v->tmp;
        sent_header(r, "Referer", v->tmp, sizeof v->tmp);
        break;
    case V__COUNT: break;
    }
}

static void put_time(sbuf *b, uint64_t ns)
{
    uint64_t us = ns / 1000;
    sb_printf(b, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* The value as -w writes it. */
static void put_plain(sbuf *b, const val *v)
{
    switch (v->kind) {
    case K_INT: sb_printf(b, "%" PRId64, v->i); break;
    case K_CODE: sb_printf(b, "%03" PRId64, v->i); break;
    case K_TIME: put_time(b, v->ns); break;
    case K_OPTINT:
        if (v->known)
            sb_printf(b, "%" PRId64, v->i);
        break;
    case K_STR:
    case K_OPT: sb_adds(b, v->s); break;
    }
}

static void put_json(sbuf *b, const val *v)
{
    switch (v->kind) {
    case K_INT:
    case K_CODE: sb_printf(b, "%" PRId64, v->i); break;
    case K_TIME: put_time(b, v->ns); break;
    case K_OPTINT:
        if (v->known)
            sb_printf(b, "%" PRId64, v->i);
        else
            sb_adds(b, "null");
        break;
    case K_STR: json_str(b, v->s); break;
    case K_OPT:
        if (v->s[0])
            json_str(b, v->s);
        else
            sb_adds(b, "null");
        break;
    }
}

/* %{json}: every variable, as curl (names sorted), then the version. */
static void put_all_json(sbuf *b, const ctx *x)
{
    sb_addc(b, '{');
    for (int i = 0; i < V__COUNT; i++) {
        val v;
        get(x, (enum var)i, &v);
        sb_printf(b, "%s\"%s\":", i ? "," : "", names[i]);
        put_json(b, &v);
    }
    sb_adds(b, ",\"hflow_version\":\"libhflow/" HF_VERSION "\"}");
}

/* Header names as curl's header_json writes them: lower case. */
static void lower_name(sbuf *b, const char *n)
{
    char *s = xstrdup(n);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    json_str(b, s);
    free(s);
}

/* %{header_json}: {"name":["value",...],...}, names in the order they
 * first appear, every value of a name in its array, as curl. */
static void put_header_json(sbuf *b, const hf_response *r)
{
    size_t n = r ? hf_response_header_count(r) : 0;
    sb_addc(b, '{');
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        if (hf_response_header_at(r, i, &name, &value))
            break;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *n2, *v2;
            if (hf_response_header_at(r, j, &n2, &v2) == 0 &&
                strlen(n2) == strlen(name) && cli_ncaseeq(n2, name, strlen(name)))
                seen = 1;
        }
        if (seen)
            continue;
        if (!first)
            sb_adds(b, ",\n");
        first = 0;
        lower_name(b, name);
        sb_adds(b, ":[");
        int k = 0;
        for (size_t j = i; j < n; j++) {
            const char *n2, *v2;
            if (hf_response_header_at(r, j, &n2, &v2) == 0 &&
                strlen(n2) == strlen(name) && cli_ncaseeq(n2, name, strlen(name))) {
                if (k++)
                    sb_addc(b, ',');
                json_str(b, v2);
            }
        }
        sb_addc(b, ']');
    }
    sb_adds(b, first ? "}" : "\n}");
}

/* %header{name}: its value; several fields of that name joined by ", ". */
static void put_header(sbuf *b, const hf_response *r, const char *name, size_t nlen)
{
    size_t n = r ? hf_response_header_count(r) : 0;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *hn, *hv;
        if (hf_response_header_at(r, i, &hn, &hv))
            break;
        if (strlen(hn) == nlen && cli_ncaseeq(hn, name, nlen)) {
            if (k++)
                sb_adds(b, ", ");
            sb_adds(b, hv);
        }
    }
}

static int lookup(const char *name, size_t n)
{
    for (int i = 0; i < V__COUNT; i++)
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
            return i;
    return -1;
}

static void flush_to(sbuf *b, FILE *out)
{
    if (b->len)
        fwrite(b->p, 1, b->len, out);
    b->len = 0;
}

void writeout(const char *fmt, const wo_info *wi, FILE *out)
{
    ctx x;
    x.wi = wi;
    x.r = wi->resp;
    scan(wi->resp, &x.tr);
    sbuf b = {0};
    const char *p = fmt;
    while (*p) {
        /* the plain run in one go */
        size_t run = strcspn(p, "%\\");
        if (run) {
            sb_add(&b, p, run);
            p += run;
            continue;
        }
        if (*p == '\\') {
            switch (p[1]) {
            case 'n': sb_addc(&b, '\n'); p += 2; continue;
            case 'r': sb_addc(&b, '\r'); p += 2; continue;
            case 't': sb_addc(&b, '\t'); p += 2; continue;
            case '\\': sb_addc(&b, '\\'); p += 2; continue;
            default: sb_addc(&b, '\\'); p++; continue;
            }
        }
        /* '%' */
        if (p[1] == '%') {
            sb_addc(&b, '%');
            p += 2;
        } else if (p[1] == '{') {
            const char *name = p + 2;
            const char *end = strchr(name, '}');
            if (!end) {
                sb_adds(&b, p);
                break;
            }
            size_t n = (size_t)(end - name);
            int id;
            if (n == 6 && memcmp(name, "stderr", 6) == 0) {
                flush_to(&b, out);
                out = stderr;
            } else if (n == 6 && memcmp(name, "stdout", 6) == 0) {
                flush_to(&b, out);
                out = stdout;
            } else if (n == 4 && memcmp(name, "json", 4) == 0) {
                put_all_json(&b, &x);
            } else if (n == 11 && memcmp(name, "header_json", 11) == 0) {
                put_header_json(&b, x.r);
            } else if ((id = lookup(name, n)) >= 0) {
                val v;
                get(&x, (enum var)id, &v);
                put_plain(&b, &v);
            } else {
                flush_to(&b, out);
                fflush(stdout);
                fprintf(stderr, HFLOW_NAME ": unknown --write-out variable: "
                        "'%.*s'\n", (int)n, name);
            }
            p = end + 1;
        } else if (strncmp(p + 1, "header{", 7) == 0) {
            const char *name = p + 8;
            const char *end = strchr(name, '}');
            if (!end) {
                sb_adds(&b, p);
                break;
            }
            put_header(&b, x.r, name, (size_t)(end - name));
            p = end + 1;
        } else {
            sb_addc(&b, '%');
            p++;
        }
    }
    flush_to(&b, out);
    sb_free(&b);
}
