/* writeout.c -- -w/--write-out FORMAT, as curl: %{name} variables,
 * %header{name}, %% and the escapes \n \r \t \\.  Times are seconds with
 * six decimals; codes are three digits. */
#include "writeout.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* Splits "ADDR:PORT" or "[v6]:PORT" into its parts. */
static void split_addr(const char *a, char *ip, size_t ipcap, char *port,
                       size_t portcap)
{
    ip[0] = port[0] = '\0';
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
        snprintf(port, portcap, "%s", colon + 1);
}

static void put_time(FILE *out, const hf_response *r, hf_time t)
{
    uint64_t us = r ? hf_response_time_ns(r, t) / 1000 : 0;
    fprintf(out, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* Writes variable name (len n).  Returns 0 if unknown. */
static int put_var(FILE *out, const char *name, size_t n, const wo_info *wi)
{
    const hf_response *r = wi->resp;
    char ip[128], port[16];
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    if (IS("http_code") || IS("response_code")) {
        fprintf(out, "%03d", r ? hf_response_status(r) : 0);
    } else if (IS("size_download")) {
        fprintf(out, "%" PRId64, r ? hf_response_size_download(r) : 0);
    } else if (IS("size_header")) {
        size_t len = 0;
        if (r)
            hf_response_head_raw(r, &len);
        fprintf(out, "%zu", len);
    } else if (IS("time_namelookup")) {
        put_time(out, r, HF_TIME_NAMELOOKUP);
    } else if (IS("time_connect")) {
        put_time(out, r, HF_TIME_CONNECT);
    } else if (IS("time_pretransfer")) {
        put_time(out, r, HF_TIME_PRETRANSFER);
    } else if (IS("time_starttransfer")) {
        put_time(out, r, HF_TIME_STARTTRANSFER);
    } else if (IS("time_total")) {
        put_time(out, r, HF_TIME_TOTAL);
    } else if (IS("time_appconnect")) {
        put_time(out, r, HF_TIME_APPCONNECT);
    } else if (IS("ssl_verify_result")) {
        fprintf(out, "%ld", r ? hf_response_ssl_verify_result(r) : 0L);
    } else if (IS("num_certs")) {
        fprintf(out, "%d", r ? hf_response_num_certs(r) : 0);
    } else if (IS("certs")) {
        const char *v = r ? hf_response_certs(r) : NULL;
        fputs(v ? v : "", out);
    } else if (IS("speed_download")) {
        uint64_t ns = r ? hf_response_time_ns(r, HF_TIME_TOTAL) : 0;
        int64_t sz = r ? hf_response_size_download(r) : 0;
        double bps = ns ? (double)sz * 1e9 / (double)ns : 0.0;
        fprintf(out, "%.0f", bps);
    } else if (IS("url_effective")) {
        const char *u = r ? hf_response_url(r) : NULL;
        fputs(u && *u ? u : wi->url, out);
    } else if (IS("url")) {
        fputs(wi->url, out);
    } else if (IS("num_connects")) {
        fprintf(out, "%ld", wi->num_connects);
    } else if (IS("remote_ip") || IS("remote_port")) {
        split_addr(r ? hf_response_remote_addr(r) : NULL, ip, sizeof ip, port,
                   sizeof port);
        fputs(IS("remote_ip") ? ip : (port[0] ? port : "0"), out);
    } else if (IS("local_ip") || IS("local_port")) {
        split_addr(r ? hf_response_local_addr(r) : NULL, ip, sizeof ip, port,
                   sizeof port);
        fputs(IS("local_ip") ? ip : (port[0] ? port : "0"), out);
    } else if (IS("exitcode")) {
        fprintf(out, "%d", wi->exitcode);
    } else if (IS("errormsg")) {
        fputs(wi->errormsg ? wi->errormsg : "", out);
    } else if (IS("content_type")) {
        const char *v = r ? hf_response_header(r, "Content-Type") : NULL;
        fputs(v ? v : "", out);
    } else if (IS("http_version")) {
        if (r && hf_response_status(r))
            fprintf(out, "1.%d", hf_response_http_minor(r));
        else
            fputs("0", out);
    } else if (IS("method")) {
        fputs(wi->method ? wi->method : "", out);
    } else if (IS("num_headers")) {
        fprintf(out, "%zu", r ? hf_response_header_count(r) : (size_t)0);
    } else if (IS("filename_effective")) {
        fputs(wi->filename ? wi->filename : "", out);
    } else if (IS("scheme")) {
        fputs("HTTP", out);
    } else if (IS("num_redirects")) {
        fputs("0", out);
    } else {
        return 0;
    }
#undef IS
    return 1;
}

void writeout(const char *fmt, const wo_info *wi, FILE *out)
{
    const char *p = fmt;
    while (*p) {
        /* copy the plain run in one go */
        size_t run = strcspn(p, "%\\");
        if (run) {
            fwrite(p, 1, run, out);
            p += run;
            continue;
        }
        if (*p == '\\') {
            switch (p[1]) {
            case 'n': fputc('\n', out); p += 2; continue;
            case 'r': fputc('\r', out); p += 2; continue;
            case 't': fputc('\t', out); p += 2; continue;
            case '\\': fputc('\\', out); p += 2; continue;
            default: fputc('\\', out); p++; continue;
            }
        }
        /* '%' */
        if (p[1] == '%') {
            fputc('%', out);
            p += 2;
        } else if (p[1] == '{') {
            const char *name = p + 2;
            const char *end = strchr(name, '}');
            if (!end) {
                fputs(p, out);
                break;
            }
            size_t n = (size_t)(end - name);
            if (n == 6 && memcmp(name, "stderr", 6) == 0) {
                out = stderr;
            } else if (n == 6 && memcmp(name, "stdout", 6) == 0) {
                out = stdout;
            } else if (!put_var(out, name, n, wi)) {
                fflush(stdout);
                fprintf(stderr, HFLOW_NAME ": unknown --write-out variable: "
                        "'%.*s'\n", (int)n, name);
            }
            p = end + 1;
        } else if (strncmp(p + 1, "header{", 7) == 0) {
            const char *name = p + 8;
            const char *end = strchr(name, '}');
            if (!end) {
                fputs(p, out);
                break;
            }
            char hname[256];
            size_t n = (size_t)(end - name);
            if (n >= sizeof hname)
                n = sizeof hname - 1;
            memcpy(hname, name, n);
            hname[n] = '\0';
            const char *v = wi->resp ? hf_response_header(wi->resp, hname)
                                     : NULL;
            if (v)
                fputs(v, out);
            p = end + 1;
        } else {
            fputc('%', out);
            p++;
        }
    }
}
