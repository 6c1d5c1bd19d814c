/* test_core.c -- the small pure pieces: buffer caps, timer heap order,
 * --resolve syntax, request header rules, error strings. */
#include "internal.h"
#include "t.h"
#include <stdlib.h>

static int order[8], norder;
static void on_timer(loop *l, void *arg)
{
    (void)l;
    order[norder++] = (int)(long)arg;
}

static void test_buf(void)
{
    buf b;
    buf_init(&b, 8);
    CHECK(buf_adds(&b, "12345") == 0);
    CHECK(buf_adds(&b, "6789") == HF_E_TOO_LARGE);
    CHECK(b.len == 5 && strcmp(b.data, "12345") == 0); /* unchanged */
    CHECK(buf_printf(&b, "%d", 678) == 0);
    CHECK_STR(b.data, "12345678");
    CHECK(buf_printf(&b, "x") == HF_E_TOO_LARGE);
    char *p = buf_take(&b);
    CHECK_STR(p, "12345678");
    CHECK(b.data == NULL && b.len == 0);
    free(p);
}

static void test_loop(void)
{
    loop *l = loop_new();
    CHECK(l != NULL);
    loop_timer(l, 30, on_timer, (void *)3);
    uint64_t id = loop_timer(l, 20, on_timer, (void *)9);
    loop_timer(l, 10, on_timer, (void *)1);
    loop_timer(l, 20, on_timer, (void *)2);
    loop_timer_cancel(l, id);
    uint64_t t0 = loop_now_ns();
    while (norder < 3 && loop_now_ns() - t0 < 2000000000u)
        loop_once(l, -1);
    CHECK(norder == 3);
    CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
    CHECK(loop_now_ns() - t0 >= 30000000u); /* did not fire early */
    loop_free(l);
}

/* Many timers, half cancelled at random: the rest fire in deadline order,
 * each once; a cancelled id (or an id of a slot used again) cancels
 * nothing. */
static int fired[2000];
static uint64_t fire_ms[2000];
static int nfired, out_of_order;
static uint64_t last_due;

static void on_many(loop *l, void *arg)
{
    (void)l;
    size_t i = (size_t)arg;
    fired[i]++;
    if (fire_ms[i] < last_due)
        out_of_order++;
    last_due = fire_ms[i];
    nfired++;
}

static void on_extra(loop *l, void *arg)
{
    (void)l;
    (void)arg;
    nfired++;
}

static void test_timer_heap(void)
{
    loop *l = loop_new();
    uint64_t ids[2000];
    unsigned seed = 12345;
    for (size_t i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        fire_ms[i] = (seed >> 16) % 8 * 5;       /* 0..35 ms: many ties */
        ids[i] = loop_timer(l, fire_ms[i], on_many, (void *)i);
        CHECK(ids[i] != 0);
    }
    int cancelled[2000] = {0};
    for (size_t i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) & 1) {
            loop_timer_cancel(l, ids[i]);
            cancelled[i] = 1;
        }
    }
    /* stale ids: cancelling again, and after the slot is reused */
    for (size_t i = 0; i < 2000; i++)
        if (cancelled[i])
            loop_timer_cancel(l, ids[i]);
    uint64_t extra = loop_timer(l, 45, on_extra, NULL);
    for (size_t i = 0; i < 2000; i++)
        if (cancelled[i])
            loop_timer_cancel(l, ids[i]);
    uint64_t t0 = loop_now_ns();
    int want = 1;
    for (size_t i = 0; i < 2000; i++)
        want += !cancelled[i];
    while (nfired < want && loop_now_ns() - t0 < 3000000000u)
        loop_once(l, -1);
    CHECK_MSG(nfired == want, "fired %d of %d", nfired, want);
    CHECK_MSG(out_of_order == 0, "%d out of deadline order", out_of_order);
    int wrong = 0;
    for (size_t i = 0; i < 2000; i++)
        wrong += fired[i] != !cancelled[i];
    CHECK_MSG(wrong == 0, "%d timers fired wrongly", wrong);
    CHECK(extra != 0);
    CHECK(loop_timeout_ms(l) == -1); /* nothing left */
    loop_free(l);
}

static void test_resolve_spec(void)
{
    resolve_ent *r;
    int rm;
    CHECK(names_parse_resolve("example.test:80:127.0.0.1", &r, &rm) == 0);
    CHECK(r && !rm && r->port == 80 && r->naddrs == 1);
    CHECK_STR(r ? r->host : NULL, "example.test");
    names_free_resolves(r);
    CHECK(names_parse_resolve("Ex.Test:443:[::1],127.0.0.1", &r, &rm) == 0);
    CHECK(r && r->naddrs == 2 && strcmp(r->host, "ex.test") == 0);
    names_free_resolves(r);
    CHECK(names_parse_resolve("-ex.test:80", &r, &rm) == 0 && rm);
    names_free_resolves(r);
    const char *bad[] = {"ex.test", "ex.test:80", "ex.test:x:1.2.3.4",
        "ex.test:70000:1.2.3.4", "ex.test:80:", "ex.test:80:1.2.3",
        ":80:1.2.3.4", "ex.test:80:[::1", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(names_parse_resolve(bad[i], &r, &rm) == HF_E_BAD_ARG, "%s", bad[i]);
}

static void test_request_headers(void)
{
    hf_request *r = hf_request_new("GET", "http://127.0.0.1/");
    CHECK(hf_request_header_line(r, "X-A: 1") == HF_OK);
    CHECK(hf_request_header_line(r, "Accept:") == HF_OK);       /* removes */
    CHECK(hf_request_header_line(r, "X-Empty;") == HF_OK);      /* empty */
    CHECK(hf_request_header_line(r, "x-a:   2  ") == HF_OK);    /* replaces */
    CHECK(r->nhdrs == 3);
    CHECK_STR(r->hdrs[0].value, "2");
    CHECK(r->hdrs[1].value == NULL);
    CHECK_STR(r->hdrs[2].value, "");
    CHECK(hf_request_header_line(r, "NoColon") == HF_E_BAD_ARG);
    CHECK(hf_request_header_line(r, "X-B: a\r\nX-Evil: 1") == HF_E_BAD_ARG);
    CHECK(hf_request_header_line(r, "X B: 1") == HF_E_BAD_ARG);
    CHECK(hf_request_header(r, "X-C", "a\nb") == HF_E_BAD_ARG);
    CHECK(hf_request_header(r, "X\rC", "a") == HF_E_BAD_ARG);
    CHECK(r->nhdrs == 3);
    hf_request_free(r);
    CHECK(http_is_token("PROPFIND") && !http_is_token("GET\r\n") &&
          !http_is_token("") && !http_is_token("G T"));
}

static void test_errors(void)
{
    CHECK_STR(hf_strerror(HF_E_CONNECT), "could not connect");
    CHECK_STR(hf_err_name(HF_E_TIMEOUT), "TIMEOUT");
    CHECK(HF_E_TIMEOUT == 28 && HF_E_GOT_NOTHING == 52 && HF_E_URL == 3);
    CHECK_STR(hf_strerror((hf_err)999), "unknown error");
}

static void test_send_errors(void)
{
    hf_client *c = hf_client_new();
    hf_response *rs = NULL;
    hf_request *r = hf_request_new("GET", "http://a b/");
    CHECK(hf_send(c, r, &rs) == HF_E_URL);
    CHECK(rs && strstr(hf_response_errmsg(rs), "url") != NULL);
    hf_response_free(rs);
    hf_request_free(r);
    r = hf_request_new("GET\r\nX: y", "http://127.0.0.1:9/");
    CHECK(hf_send(c, r, &rs) == HF_E_BAD_ARG);
    hf_response_free(rs);
    hf_request_free(r);
    r = hf_request_new("GET", "ftp://127.0.0.1/");
    CHECK(hf_send(c, r, &rs) == HF_E_UNSUPPORTED_PROTOCOL);
    hf_response_free(rs);
    hf_request_free(r);
    CHECK(hf_send(c, NULL, &rs) == HF_E_BAD_FUNCTION_ARG && rs == NULL);
    hf_client_free(c);
}

int main(void)
{
    test_buf();
    test_loop();
    test_timer_heap();
    test_resolve_spec();
    test_request_headers();
    test_errors();
    test_send_errors();
    return T_END();
}
