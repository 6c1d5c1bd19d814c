/* json.c -- the JSON writer of the views, and hf_view_event_json: one trace
 * event as one JSON object (the line format of --trace-json, docs/TRACE.md). */
#include "json.h"
#include "hflow.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w)
{
    memset(w, 0, sizeof *w);
    buf_init(&w->b, (size_t)-1 / 2);
}

void jw_free(jw *w)
{
    buf_free(&w->b);
}

char *jw_take(jw *w)
{
    if (w->err) {
        buf_free(&w->b);
        return NULL;
    }
    char *p = buf_take(&w->b);
    return p;
}

static void put(jw *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = buf_add(&w->b, s, n);
}

/* Before a value: the comma, unless it follows its key. */
static void value(jw *w)
{
    if (w->afterkey) {
        w->afterkey = 0;
        return;
    }
    if (w->more[w->depth])
        put(w, ",", 1);
    w->more[w->depth] = 1;
}

static void open_(jw *w, char c)
{
    value(w);
    put(w, &c, 1);
    if (w->depth + 1 >= JW_DEPTH) {
        w->err = HF_E_BAD_FUNCTION_ARG;
        return;
    }
    w->more[++w->depth] = 0;
}

static void close_(jw *w, char c)
{
    put(w, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj(jw *w) { open_(w, '{'); }
void jw_obj_end(jw *w) { close_(w, '}'); }
void jw_arr(jw *w) { open_(w, '['); }
void jw_arr_end(jw *w) { close_(w, ']'); }

void jw_key(jw *w, const char *k)
{
    value(w);
    put(w, "\"", 1);
    if (!w->err)
        w->err = json_escape(&w->b, k, strlen(k));
    put(w, "\":", 2);
    w->afterkey = 1;
}

void jw_strn(jw *w, const char *s, size_t n)
{
    value(w);
    put(w, "\"", 1);
    if (!w->err)
        w->err = json_escape(&w->b, s, n);
    put(w, "\"", 1);
}

void jw_str(jw *w, const char *s)
{
    if (!s)
        jw_null(w);
    else
        jw_strn(w, s, strlen(s));
}

void jw_int(jw *w, int64_t v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    value(w);
    put(w, t, (size_t)n);
}

void jw_uint(jw *w, uint64_t v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    value(w);
    put(w, t, (size_t)n);
}

void jw_num(jw *w, double v, int decimals)
{
    char t[64];
    if (!isfinite(v))
        v = 0;
    int n = snprintf(t, sizeof t, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof t)
        n = snprintf(t, sizeof t, "0");
    value(w);
    put(w, t, (size_t)n);
}

void jw_bool(jw *w, int v)
{
    value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w)
{
    value(w);
    put(w, "null", 4);
}

void jw_raw(jw *w, const char *s)
{
    put(w, s, strlen(s));
}

void jw_newline(jw *w)
{
    if (w->more[w->depth]) {
        put(w, ",\n", 2);
        w->afterkey = 1; /* the comma is written */
    } else {
        put(w, "\n", 1);
    }
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

int json_escape(buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* the run that needs no escape, in one go */
        size_t j = i;
        while (j < n && s[j] >= 0x20 && s[j] < 0x7F && s[j] != '"' && s[j] != '\\')
            j++;
        if (j > i) {
            int rc = buf_add(b, s + i, j - i);
            if (rc)
                return rc;
            i = j;
            continue;
        }
        unsigned char c = s[i];
        char t[8];
        const char *e = t;
        size_t el = 2, adv = 1;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(t, sizeof t, "\\u%04x", c);
                el = 6;
            } else if ((adv = utf8_len(s + i, n - i)) != 0) {
                e = (const char *)s + i;
                el = adv;
            } else {
                e = "\\ufffd";
                el = 6;
                adv = 1;
            }
        }
        int rc = buf_add(b, e, el);
        if (rc)
            return rc;
        i += adv;
    }
    return 0;
}

const char *closed_by_name(int closed_by)
{
    switch (closed_by) {
    case HF_CLOSED_BY_CLIENT: return "client";
    case HF_CLOSED_BY_SERVER: return "server";
    case HF_CLOSED_BY_RESET: return "reset";
    default: return "unknown";
    }
}

char *hf_view_event_json(const hf_event *ev)
{
    if (!ev)
        return NULL;
    jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "ev");
    jw_str(&w, hf_ev_name(ev->type));
    jw_key(&w, "t_ns");
    jw_uint(&w, ev->t_ns);
    jw_key(&w, "mono_ns");
    jw_uint(&w, ev->mono_ns);
    jw_key(&w, "transfer");
    jw_int(&w, ev->transfer);
    jw_key(&w, "conn");
    jw_int(&w, ev->conn);
    jw_key(&w, "peer");
    jw_str(&w, ev->peer ? ev->peer : "");
    jw_key(&w, "local");
    jw_str(&w, ev->local ? ev->local : "");
    jw_key(&w, "detail");
    jw_str(&w, ev->detail ? ev->detail : "");
    jw_key(&w, "value");
    jw_int(&w, ev->value);
    jw_key(&w, "closed_by");
    jw_str(&w, ev->type == HF_EV_CLOSED ? closed_by_name(ev->closed_by) : "");
    if (ev->tcp.valid) {
        const hf_tcp_info *t = &ev->tcp;
        jw_key(&w, "tcp");
        jw_obj(&w);
        jw_key(&w, "rtt_us");
        jw_uint(&w, t->rtt_us);
        jw_key(&w, "rttvar_us");
        jw_uint(&w, t->rttvar_us);
        jw_key(&w, "snd_mss");
        jw_uint(&w, t->snd_mss);
        jw_key(&w, "rcv_mss");
        jw_uint(&w, t->rcv_mss);
        jw_key(&w, "retrans");
        jw_uint(&w, t->retrans);
        jw_key(&w, "bytes_acked");
        jw_uint(&w, t->bytes_acked);
        jw_key(&w, "bytes_received");
        jw_uint(&w, t->bytes_received);
        jw_key(&w, "delivery_rate");
        jw_uint(&w, t->delivery_rate);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    return jw_take(&w);
}
