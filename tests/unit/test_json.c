/* test_json.c -- the views' JSON writer (src/json.c): escaping of control
 * bytes, quotes and backslashes, U+FFFD for bytes outside well-formed UTF-8
 * (RFC 3629: overlongs, surrogates, above U+10FFFF, truncated sequences),
 * commas and nesting; hf_view_event_json; an empty hf_view_har. */
#include <stdlib.h>

#include "buf.h"
#include "hflow.h"
#include "json.h"
#include "t.h"

static void esc(const char *in, size_t n, const char *want)
{
    buf b;
    buf_init(&b, 1 << 20);
    int rc = json_escape(&b, in, n);
    CHECK(rc == 0);
    CHECK_MSG(b.len == strlen(want) && memcmp(b.data ? b.data : "", want, b.len) == 0,
              "escape of %zu bytes: got \"%.*s\", want \"%s\"", n, (int)b.len,
              b.data ? b.data : "", want);
    buf_free(&b);
}
#define ESC(lit, want) esc(lit, sizeof(lit) - 1, want)

static void escaping(void)
{
    ESC("", "");
    ESC("plain text", "plain text");
    ESC("q\"b\\s/", "q\\\"b\\\\s/");
    ESC("\n\r\t\b\f", "\\n\\r\\t\\b\\f");
    ESC("\x01\x1b[2J\x07\x7f", "\\u0001\\u001b[2J\\u0007\\u007f");
    ESC("a\0b", "a\\u0000b");
    /* well-formed UTF-8 passes as it is */
    ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    ESC("\xed\x9f\xbf", "\xed\x9f\xbf");         /* U+D7FF */
    ESC("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    /* each byte outside a well-formed sequence: U+FFFD */
    ESC("\xff", "\\ufffd");
    ESC("a\x80z", "a\\ufffdz");                   /* lone continuation */
    ESC("\xc0\xaf", "\\ufffd\\ufffd");            /* overlong '/' */
    ESC("\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"); /* overlong, 3 bytes */
    ESC("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"); /* surrogate U+D800 */
    ESC("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
    ESC("\xf5\x80", "\\ufffd\\ufffd");
    ESC("\xc3", "\\ufffd");                       /* cut short at the end */
    ESC("\xe2\x82z", "\\ufffd\\ufffdz");          /* cut short */
    ESC("\xc3\xa9\xc3", "\xc3\xa9\\ufffd");
}

static void writer(void)
{
    jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "a");
    jw_int(&w, -3);
    jw_key(&w, "b");
    jw_arr(&w);
    jw_str(&w, "x");
    jw_null(&w);
    jw_bool(&w, 1);
    jw_obj(&w);
    jw_obj_end(&w);
    jw_num(&w, 1.5, 3);
    jw_arr_end(&w);
    jw_key(&w, "c\n");
    jw_str(&w, NULL);
    jw_key(&w, "d");
    jw_arr(&w);
    jw_newline(&w);
    jw_uint(&w, 1);
    jw_newline(&w);
    jw_uint(&w, 2);
    jw_arr_end(&w);
    jw_obj_end(&w);
    char *s = jw_take(&w);
    CHECK_STR(s, "{\"a\":-3,\"b\":[\"x\",null,true,{},1.500],\"c\\n\":null,"
                 "\"d\":[\n1,\n2]}");
    free(s);
}

static void event_line(void)
{
    hf_event e;
    memset(&e, 0, sizeof e);
    e.type = HF_EV_CLOSED;
    e.t_ns = 1500;
    e.mono_ns = 123456789;
    e.transfer = 2;
    e.conn = 1;
    e.peer = "127.0.0.1:80";
    e.local = "";
    e.detail = "Connection: close \x01\xff";
    e.value = -7;
    e.closed_by = HF_CLOSED_BY_SERVER;
    e.tcp.valid = 1;
    e.tcp.rtt_us = 21;
    e.tcp.delivery_rate = 5000000000ull;
    char *s = hf_view_event_json(&e);
    CHECK_STR(s, "{\"ev\":\"closed\",\"t_ns\":1500,\"mono_ns\":123456789,"
                 "\"transfer\":2,\"conn\":1,\"peer\":\"127.0.0.1:80\",\"local\":\"\","
                 "\"detail\":\"Connection: close \\u0001\\ufffd\",\"value\":-7,"
                 "\"closed_by\":\"server\",\"tcp\":{\"rtt_us\":21,\"rttvar_us\":0,"
                 "\"snd_mss\":0,\"rcv_mss\":0,\"retrans\":0,\"bytes_acked\":0,"
                 "\"bytes_received\":0,\"delivery_rate\":5000000000}}");
    free(s);
    /* not a closed event: closed_by empty, no tcp without TCP_INFO */
    memset(&e, 0, sizeof e);
    e.type = HF_EV_QUEUED;
    e.conn = -1;
    e.closed_by = HF_CLOSED_BY_CLIENT;
    s = hf_view_event_json(&e);
    CHECK_STR(s, "{\"ev\":\"queued\",\"t_ns\":0,\"mono_ns\":0,\"transfer\":0,"
                 "\"conn\":-1,\"peer\":\"\",\"local\":\"\",\"detail\":\"\",\"value\":0,"
                 "\"closed_by\":\"\"}");
    free(s);
    CHECK(hf_view_event_json(NULL) == NULL);
}

static void empty_har(void)
{
    char *s = hf_view_har(NULL, 0, NULL);
    CHECK_STR(s, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"hflow\","
                 "\"version\":\"" HF_VERSION "\"},\"entries\":[\n]}}\n");
    free(s);
    const hf_response *none[2] = {NULL, NULL};
    s = hf_view_har(none, 2, NULL);
    CHECK(s && strstr(s, "\"entries\":[\n]"));
    free(s);
}

int main(void)
{
    escaping();
    writer();
    event_line();
    empty_har();
    return T_END();
}
