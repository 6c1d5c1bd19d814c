/* args.c -- the option table and the parser of hflow's command line.
 *
 * Like curl: short options may be bundled (-sSf) and take a value attached
 * or as the next argument (-XPOST, -X POST); long options take theirs as
 * --opt=value or --opt value, may be abbreviated while unambiguous, and
 * boolean ones may be negated with --no-.  Options and URLs mix freely. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hflow.h"

enum opt_id {
    O_REQUEST, O_HEADER, O_DATA, O_DATA_ASCII, O_DATA_BINARY, O_DATA_RAW,
    O_DATA_URLENCODE, O_JSON, O_FORM, O_FORM_STRING, O_GET, O_HEAD,
    O_OUTPUT, O_REMOTE_NAME, O_REMOTE_NAME_ALL, O_INCLUDE, O_DUMP_HEADER,
    O_SILENT, O_SHOW_ERROR, O_FAIL, O_FAIL_WITH_BODY, O_VERBOSE,
    O_USER_AGENT, O_REFERER, O_USER, O_MAX_TIME, O_CONNECT_TIMEOUT,
    O_RESOLVE, O_IPV4, O_IPV6, O_COMPRESSED, O_WRITE_OUT, O_HELP,
    O_LOCATION, O_LOCATION_TRUSTED, O_MAX_REDIRS, O_POST301, O_POST302,
    O_POST303, O_COOKIE, O_COOKIE_JAR, O_JUNK_SESSION, O_DIGEST, O_BASIC,
    O_NETRC, O_NETRC_FILE, O_NETRC_OPTIONAL, O_BEARER, O_DNS_TIMEOUT, O_TLS_TIMEOUT, O_TTFB_TIMEOUT, O_IDLE_TIMEOUT,
    O_SPEED_LIMIT, O_SPEED_TIME, O_MAX_FILESIZE,
    O_HAR, O_TRACE_JSON, /* machine-readable records (cli/record.c) */
    O_VERSION, O_PROGRESS_METER, O_PROGRESS_BAR, O_URL, O_BUFFER,
    O_INSECURE, O_CACERT, O_CAPATH, O_TLSV12, O_TLSV13, O_TLS_MAX,
    O_CIPHERS, O_TLS13_CIPHERS, O_CURVES, O_CERT, O_KEY, O_CERT_TYPE,
    O_SESSIONID,
    O_PINNED, O_DNS_SERVERS, O_DNS, O_HE_MS, O_RESOLV_CONF, O_HOSTS_FILE,
    O_TCP_QUICKACK,
    O_FLOW, O_STAT, /* the views (cli/views.c) */
    /* downloads, uploads and retries (cli/download.c, cli/retry.c) */
    O_REMOTE_HEADER_NAME, O_OUTPUT_DIR, O_CREATE_DIRS, O_REMOVE_ON_ERROR,
    O_CONTINUE_AT, O_UPLOAD_FILE, O_RETRY, O_RETRY_DELAY, O_RETRY_MAX_TIME,
    O_RETRY_ALL_ERRORS, O_RETRY_CONNREFUSED,
    /* proxies */
    O_PROXY, O_NOPROXY, O_PROXY_USER, O_PROXY_BASIC, O_PROXY_DIGEST,
    O_PROXYTUNNEL, O_PROXY_HEADER, O_PROXY_CACERT, O_PROXY_CAPATH,
    O_PROXY_INSECURE, O_PREPROXY, O_SOCKS5, O_SOCKS5_HOSTNAME, O_SOCKS4A,
    /* many transfers at once (cli/parallel.c) and config files */
    O_PARALLEL, O_PARALLEL_MAX, O_PARALLEL_IMMEDIATE, O_PER_HOST_MAX,
    O_RATE, O_CONFIG
};

/* arg: 0 a switch that takes no value and cannot be negated,
 *      1 takes a value, 2 a boolean (--no-NAME turns it off). */
typedef struct opt {
    char shortname;
    const char *longname;
    int arg;
    int id;
} opt;

static const opt opts[] = {
    {'X', "request", 1, O_REQUEST},
    {'H', "header", 1, O_HEADER},
    {'d', "data", 1, O_DATA},
    {0, "data-ascii", 1, O_DATA_ASCII},
    {0, "data-binary", 1, O_DATA_BINARY},
    {0, "data-raw", 1, O_DATA_RAW},
    {0, "data-urlencode", 1, O_DATA_URLENCODE},
    {0, "json", 1, O_JSON},
    {'F', "form", 1, O_FORM},
    {0, "form-string", 1, O_FORM_STRING},
    {'G', "get", 2, O_GET},
    {'I', "head", 2, O_HEAD},
    {'o', "output", 1, O_OUTPUT},
    {'O', "remote-name", 0, O_REMOTE_NAME},
    {0, "remote-name-all", 2, O_REMOTE_NAME_ALL},
    {'i', "include", 2, O_INCLUDE},
    {'D', "dump-header", 1, O_DUMP_HEADER},
    {'s', "silent", 2, O_SILENT},
    {'S', "show-error", 2, O_SHOW_ERROR},
    {'f', "fail", 2, O_FAIL},
    {0, "fail-with-body", 2, O_FAIL_WITH_BODY},
    {'v', "verbose", 2, O_VERBOSE},
    {'A', "user-agent", 1, O_USER_AGENT},
    {'e', "referer", 1, O_REFERER},
    {'u', "user", 1, O_USER},
    {'m', "max-time", 1, O_MAX_TIME},
    {0, "connect-timeout", 1, O_CONNECT_TIMEOUT},
    {0, "resolve", 1, O_RESOLVE},
    {'4', "ipv4", 0, O_IPV4},
    {'6', "ipv6", 0, O_IPV6},
    {0, "compressed", 2, O_COMPRESSED},
    {'L', "location", 2, O_LOCATION},
    {'b', "cookie", 1, O_COOKIE},
    {'c', "cookie-jar", 1, O_COOKIE_JAR},
    {'j', "junk-session-cookies", 2, O_JUNK_SESSION},
    {0, "digest", 2, O_DIGEST},
    {0, "basic", 2, O_BASIC},
    {'n', "netrc", 2, O_NETRC},
    {0, "netrc-file", 1, O_NETRC_FILE},
    {0, "netrc-optional", 2, O_NETRC_OPTIONAL},
    {0, "oauth2-bearer", 1, O_BEARER},
    {0, "dns-timeout", 1, O_DNS_TIMEOUT},
    {0, "tls-timeout", 1, O_TLS_TIMEOUT},
    {0, "ttfb-timeout", 1, O_TTFB_TIMEOUT},
    {0, "idle-timeout", 1, O_IDLE_TIMEOUT},
    {'Y', "speed-limit", 1, O_SPEED_LIMIT},
    {'y', "speed-time", 1, O_SPEED_TIME},
    {0, "max-filesize", 1, O_MAX_FILESIZE},
    {0, "location-trusted", 2, O_LOCATION_TRUSTED},
    {0, "max-redirs", 1, O_MAX_REDIRS},
    {0, "post301", 2, O_POST301},
    {0, "post302", 2, O_POST302},
    {0, "post303", 2, O_POST303},
    {'w', "write-out", 1, O_WRITE_OUT},
    {0, "har", 1, O_HAR},
    {0, "trace-json", 1, O_TRACE_JSON},
    {'h', "help", 0, O_HELP},
    {'V', "version", 0, O_VERSION},
    {0, "progress-meter", 2, O_PROGRESS_METER},
    {'#', "progress-bar", 2, O_PROGRESS_BAR},
    {0, "url", 1, O_URL},
    /* -N is --no-buffer: the short name turns the boolean off. */
    {'N', "buffer", 2, O_BUFFER},
    {'x', "proxy", 1, O_PROXY},
    {0, "noproxy", 1, O_NOPROXY},
    {'U', "proxy-user", 1, O_PROXY_USER},
    {0, "proxy-basic", 0, O_PROXY_BASIC},
    {0, "proxy-digest", 0, O_PROXY_DIGEST},
    {'p', "proxytunnel", 2, O_PROXYTUNNEL},
    {0, "proxy-header", 1, O_PROXY_HEADER},
    {0, "proxy-cacert", 1, O_PROXY_CACERT},
    {0, "proxy-capath", 1, O_PROXY_CAPATH},
    {0, "proxy-insecure", 2, O_PROXY_INSECURE},
    {0, "preproxy", 1, O_PREPROXY},
    {0, "socks5", 1, O_SOCKS5},
    {0, "socks5-hostname", 1, O_SOCKS5_HOSTNAME},
    {0, "socks4a", 1, O_SOCKS4A},
    {'k', "insecure", 2, O_INSECURE},
    {0, "cacert", 1, O_CACERT},
    {0, "capath", 1, O_CAPATH},
    {0, "tlsv1.2", 0, O_TLSV12},
    {0, "tlsv1.3", 0, O_TLSV13},
    {0, "tls-max", 1, O_TLS_MAX},
    {0, "ciphers", 1, O_CIPHERS},
    {0, "tls13-ciphers", 1, O_TLS13_CIPHERS},
    {0, "curves", 1, O_CURVES},
    {'E', "cert", 1, O_CERT},
    {0, "key", 1, O_KEY},
    {0, "cert-type", 1, O_CERT_TYPE},
    {0, "pinnedpubkey", 1, O_PINNED},
    {0, "sessionid", 2, O_SESSIONID},   /* --no-sessionid turns it off */
    {0, "dns-servers", 1, O_DNS_SERVERS},
    {0, "dns", 1, O_DNS},
    {0, "happy-eyeballs-timeout-ms", 1, O_HE_MS},
    {0, "resolv-conf", 1, O_RESOLV_CONF},
    {0, "hosts-file", 1, O_HOSTS_FILE},
    {0, "tcp-quickack", 2, O_TCP_QUICKACK},
    {0, "flow", 2, O_FLOW},
    {0, "stat", 2, O_STAT},
    {'J', "remote-header-name", 2, O_REMOTE_HEADER_NAME},
    {0, "output-dir", 1, O_OUTPUT_DIR},
    {0, "create-dirs", 2, O_CREATE_DIRS},
    {0, "remove-on-error", 2, O_REMOVE_ON_ERROR},
    {'C', "continue-at", 1, O_CONTINUE_AT},
    {'T', "upload-file", 1, O_UPLOAD_FILE},
    {0, "retry", 1, O_RETRY},
    {0, "retry-delay", 1, O_RETRY_DELAY},
    {0, "retry-max-time", 1, O_RETRY_MAX_TIME},
    {0, "retry-all-errors", 2, O_RETRY_ALL_ERRORS},
    {0, "retry-connrefused", 2, O_RETRY_CONNREFUSED},
    {'Z', "parallel", 2, O_PARALLEL},
    {0, "parallel-max", 1, O_PARALLEL_MAX},
    {0, "parallel-immediate", 2, O_PARALLEL_IMMEDIATE},
    {0, "per-host-max", 1, O_PER_HOST_MAX},
    {0, "parallel-max-host", 1, O_PER_HOST_MAX}, /* newer curl's name */
    {0, "rate", 1, O_RATE},
    {'K', "config", 1, O_CONFIG},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int usage_error(const char *fmt, ...) HFLOW_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cli_usage("(2) %s", line);
    cli_usage("try '" HFLOW_NAME " --help' for more information");
    return HF_E_BAD_ARG;
}

/* Seconds, fractional allowed, to milliseconds; -1 when not a number. */
static long parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d) || d < 0)
        return -1;
    double ms = d * 1000.0;
    if (ms > 2147483647.0)
        ms = 2147483647.0;
    long v = (long)(ms + 0.5);
    if (v == 0 && d > 0)
        v = 1;
    return v;
}

/* curl's --rate "N/U": N starts per unit U (s, m, h, d; per hour without
 * "/U"); hflow also takes a count of units ("N/5s").  Returns starts a
 * second; 0 when faster than 1000 a second (unrestricted, as curl), -1
 * when not a rate. */
static double parse_rate(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end == s || errno || n < 1 || (*end && *end != '/'))
        return -1;
    double unit = 3600.0;
    if (*end == '/') {
        const char *u = end + 1;
        long mult = 1;
        if (*u >= '0' && *u <= '9') {
            mult = strtol(u, &end, 10);
            if (errno || mult < 1)
                return -1;
            u = end;
        }
        if (!u[0] || u[1])
            return -1;
        switch (u[0]) {
        case 's': unit = 1.0; break;
        case 'm': unit = 60.0; break;
        case 'h': unit = 3600.0; break;
        case 'd': unit = 86400.0; break;
        default: return -1;
        }
        unit *= (double)mult;
    }
    double per_s = (double)n / unit;
    return per_s > 1000.0 ? 0.0 : per_s;
}

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* -H @file: one header a line; CR/LF stripped, empty lines skipped. */
static int add_headers_from_file(cfg *c, const char *path, const char *optname)
{
    sbuf b = {0};
    int e = cli_read_file(path, &b);
    if (e) {
        sb_free(&b);
        return usage_error("option %s: cannot read '%s': %s", optname, path,
                           strerror(e));
    }
    char *all = sb_steal(&b);
    sv_push(&c->owned, all);
    char *p = all;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        size_t n = strlen(p);
        while (n && p[n - 1] == '\r')
            p[--n] = '\0';
        if (n)
            sv_push(&c->headers, p);
        p = next;
    }
    return 0;
}

static void push_out(cfg *c, int kind, const char *path)
{
    if (c->nouts == c->capouts) {
        c->capouts = c->capouts ? c->capouts * 2 : 4;
        c->outs = xrealloc(c->outs, c->capouts * sizeof *c->outs);
    }
    c->outs[c->nouts].kind = kind;
    c->outs[c->nouts].path = path;
    c->nouts++;
}

static void push_data(cfg *c, int kind, const char *arg)
{
    if (c->ndata == c->capdata) {
        c->capdata = c->capdata ? c->capdata * 2 : 4;
        c->data = xrealloc(c->data, c->capdata * sizeof *c->data);
    }
    c->data[c->ndata].kind = kind;
    c->data[c->ndata].arg = arg;
    c->ndata++;
}

static void push_form(cfg *c, int literal, const char *arg)
{
    if (c->nforms == c->capforms) {
        c->capforms = c->capforms ? c->capforms * 2 : 4;
        c->forms = xrealloc(c->forms, c->capforms * sizeof *c->forms);
    }
    c->forms[c->nforms].literal = literal;
    c->forms[c->nforms].arg = arg;
    c->nforms++;
}

/* Applies one option.  on is 0 for a negated boolean.  Returns 0, -1 for
 * help/version, or an exit code. */
static int apply(cfg *c, const opt *o, int on, const char *val,
                 const char *optname)
{
    long ms;
    switch (o->id) {
    case O_REQUEST:
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the method", optname);
        c->method = val;
        break;
    case O_HEADER:
        if (val[0] == '@')
            return add_headers_from_file(c, val + 1, optname);
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the header", optname);
        sv_push(&c->headers, val);
        break;
    case O_DATA: push_data(c, DATA_ASCII, val); break;
    case O_DATA_ASCII: push_data(c, DATA_ASCII, val); break;
    case O_DATA_BINARY: push_data(c, DATA_BINARY, val); break;
    case O_DATA_RAW: push_data(c, DATA_RAW, val); break;
    case O_DATA_URLENCODE: push_data(c, DATA_URLENCODE, val); break;
    case O_JSON: push_data(c, DATA_JSON, val); break;
    case O_FORM: push_form(c, 0, val); break;
    case O_FORM_STRING: push_form(c, 1, val); break;
    case O_GET: c->get = on; break;
    case O_HEAD: c->head = on; break;
    case O_OUTPUT: push_out(c, OUT_FILE, val); break;
    case O_REMOTE_NAME: push_out(c, OUT_REMOTE_NAME, NULL); break;
    case O_REMOTE_NAME_ALL: c->remote_name_all = on; break;
    case O_INCLUDE: c->include = on; break;
    case O_DUMP_HEADER: c->dump_header = val; break;
    case O_SILENT: c->silent = on; break;
    case O_SHOW_ERROR: c->show_error = on; break;
    case O_FAIL: c->fail = on; break;
    case O_FAIL_WITH_BODY: c->fail_with_body = on; break;
    case O_VERBOSE: c->verbose = on; break;
    case O_USER_AGENT:
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the value", optname);
        c->user_agent = val;
        break;
    case O_REFERER:
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the value", optname);
        c->referer = val;
        break;
    case O_USER: c->user = val; break;
    case O_MAX_TIME:
    case O_CONNECT_TIMEOUT:
        ms = parse_seconds(val);
        if (ms < 0)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        if (o->id == O_MAX_TIME)
            c->max_time_ms = ms;
        else
            c->connect_timeout_ms = ms;
        break;
    case O_RESOLVE: sv_push(&c->resolves, val); break;
    case O_IPV4: c->ip_family = 4; break;
    case O_IPV6: c->ip_family = 6; break;
    case O_COMPRESSED: c->compressed = on; break;
    case O_LOCATION: c->location = on; break;
    case O_COOKIE:
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the value", optname);
        if (strchr(val, '='))
            c->cookie_str = val;     /* "NAME=VAL[; ...]": sent as is */
        else
            c->cookie_file = val;    /* a jar to read ("" = engine on) */
        break;
    case O_COOKIE_JAR: c->cookie_jar = val; break;
    case O_JUNK_SESSION: c->junk_session = on; break;
    case O_DIGEST: c->auth_digest = on; break;
    case O_BASIC: c->auth_digest = on ? 0 : c->auth_digest; break;
    case O_NETRC: c->netrc = on ? 1 : 0; break;
    case O_NETRC_OPTIONAL: c->netrc = on ? 2 : 0; break;
    case O_NETRC_FILE:
        c->netrc_file = val;
        if (!c->netrc)
            c->netrc = 1;
        break;
    case O_BEARER:
        if (has_crlf(val))
            return usage_error("option %s: CR or LF in the value", optname);
        c->bearer = val;
        break;
    case O_DNS_TIMEOUT:
    case O_TLS_TIMEOUT:
    case O_TTFB_TIMEOUT:
    case O_IDLE_TIMEOUT:
        ms = parse_seconds(val);
        if (ms < 0)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        if (o->id == O_DNS_TIMEOUT)
            c->dns_timeout_ms = ms;
        else if (o->id == O_TLS_TIMEOUT)
            c->tls_timeout_ms = ms;
        else if (o->id == O_TTFB_TIMEOUT)
            c->ttfb_timeout_ms = ms;
        else
            c->idle_timeout_ms = ms;
        break;
    case O_SPEED_LIMIT:
    case O_SPEED_TIME:
    case O_MAX_FILESIZE: {
        /* a size may carry curl's k/M/G suffix */
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        double mult = *end == 'k' || *end == 'K' ? 1024.0
                    : *end == 'm' || *end == 'M' ? 1048576.0
                    : *end == 'g' || *end == 'G' ? 1073741824.0 : 1.0;
        if (mult != 1.0 && o->id != O_SPEED_TIME)
            end++;
        if (end == val || *end || errno || v < 0 || v * mult > 9.0e18)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        if (o->id == O_SPEED_LIMIT)
            c->speed_limit = (long)(v * mult);
        else if (o->id == O_SPEED_TIME)
            c->speed_time = (long)v;
        else
            c->max_filesize = (int64_t)(v * mult);
        break;
    }
    case O_LOCATION_TRUSTED:
        c->location = on ? 1 : c->location;
        c->follow_flags = on ? c->follow_flags | HF_FOLLOW_TRUSTED
                             : c->follow_flags & ~(unsigned)HF_FOLLOW_TRUSTED;
        break;
    case O_MAX_REDIRS: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < -1)
            return usage_error("option %s: expected a number (-1 for no limit)",
                               optname);
        c->max_redirs = v < 0 ? 1000000 : v;
        c->max_redirs_set = 1;
        break;
    }
    case O_POST301: c->follow_flags |= on ? HF_FOLLOW_POST301 : 0; break;
    case O_POST302: c->follow_flags |= on ? HF_FOLLOW_POST302 : 0; break;
    case O_POST303: c->follow_flags |= on ? HF_FOLLOW_POST303 : 0; break;
    case O_WRITE_OUT:
        if (val[0] == '@') {
            sbuf b = {0};
            int e = cli_read_file(val + 1, &b);
            if (e) {
                sb_free(&b);
                return usage_error("option %s: cannot read '%s': %s",
                                   optname, val + 1, strerror(e));
            }
            char *s = sb_steal(&b);
            sv_push(&c->owned, s);
            c->writeout = s;
        } else {
            c->writeout = val;
        }
        break;
    case O_HAR: c->har = val; break;
    case O_TRACE_JSON: c->trace_json = val; break;
    case O_HELP: args_help(stdout); return -1;
    case O_VERSION: args_version(stdout); return -1;
    case O_PROGRESS_METER: c->no_progress = !on; break;
    case O_PROGRESS_BAR: c->progress_bar = on; break;
    case O_URL: sv_push(&c->urls, val); break;
    case O_BUFFER: c->no_buffer = !on; break;
    case O_PROXY: c->proxy = val; break;
    case O_NOPROXY: c->noproxy = val; break;
    case O_PROXY_USER: c->proxy_user = val; break;
    case O_PROXY_BASIC: c->proxy_auth = HF_AUTH_BASIC; break;
    case O_PROXY_DIGEST: c->proxy_auth = HF_AUTH_DIGEST; break;
    case O_PROXYTUNNEL: c->proxytunnel = on; break;
    case O_PROXY_HEADER: sv_push(&c->proxy_headers, val); break;
    case O_PROXY_CACERT: c->proxy_cacert = val; break;
    case O_PROXY_CAPATH: c->proxy_capath = val; break;
    case O_PROXY_INSECURE: c->proxy_insecure = on; break;
    case O_PREPROXY: c->preproxy = val; break;
    case O_SOCKS5:
    case O_SOCKS5_HOSTNAME:
    case O_SOCKS4A: { /* curl's older spellings of -x socks5://HOST */
        const char *sch = o->id == O_SOCKS5 ? "socks5://" : o->id == O_SOCKS4A ? "socks4a://"
                        : "socks5h://";
        char *s = malloc(strlen(sch) + strlen(val) + 1);
        if (!s)
            return usage_error("out of memory");
        strcpy(s, sch);
        strcat(s, val);
        sv_push(&c->owned, s);
        c->proxy = s;
        break;
    }
    case O_INSECURE: c->insecure = on; break;
    case O_CACERT: c->cacert = val; break;
    case O_CAPATH: c->capath = val; break;
    case O_TLSV12: c->tls_min = 12; break;
    case O_TLSV13: c->tls_min = 13; break;
    case O_TLS_MAX:
        if (strcmp(val, "1.2") == 0)
            c->tls_max = 12;
        else if (strcmp(val, "1.3") == 0 || strcmp(val, "default") == 0)
            c->tls_max = strcmp(val, "1.3") == 0 ? 13 : 0;
        else
            return usage_error("option %s: expected 1.2, 1.3 or default",
                               optname);
        break;
    case O_CIPHERS: c->ciphers = val; break;
    case O_TLS13_CIPHERS: c->tls13_ciphers = val; break;
    case O_CURVES: c->curves = val; break;
    case O_CERT: c->cert = val; break;
    case O_KEY: c->key = val; break;
    case O_CERT_TYPE:
        if (strcmp(val, "PEM") != 0 && strcmp(val, "pem") != 0)
            return usage_error("option %s: only PEM is supported", optname);
        break;
    case O_PINNED: c->pinned = val; break;
    case O_SESSIONID: c->no_session = !on; break;
    case O_TCP_QUICKACK: c->tcp_quickack = on; break;
    case O_DNS_SERVERS: c->dns_servers = val; break;
    case O_DNS:
        if (strcmp(val, "system") == 0)
            c->dns_system = 1;
        else if (strcmp(val, "stub") == 0)
            c->dns_system = 0;
        else
            return usage_error("option %s: expected 'system' or 'stub'", optname);
        break;
    case O_HE_MS: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < 0 || v > 60000)
            return usage_error("option %s: expected milliseconds (0-60000)",
                               optname);
        c->he_ms = v;
        c->he_set = 1;
        break;
    }
    case O_RESOLV_CONF: c->resolv_conf = val; break;
    case O_HOSTS_FILE: c->hosts_file = val; break;
    case O_FLOW: c->flow = on; break;
    case O_STAT: c->stat = on; break;
    case O_REMOTE_HEADER_NAME: c->remote_header_name = on; break;
    case O_OUTPUT_DIR: c->output_dir = val; break;
    case O_CREATE_DIRS: c->create_dirs = on; break;
    case O_REMOVE_ON_ERROR: c->remove_on_error = on; break;
    case O_CONTINUE_AT: {
        c->resume = 1;
        c->resume_current = strcmp(val, "-") == 0;
        c->resume_from = 0;
        if (c->resume_current)
            break;
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (end == val || *end || errno || v < 0)
            return usage_error("option %s: expected a byte offset or '-'",
                               optname);
        c->resume_from = (int64_t)v;
        break;
    }
    case O_UPLOAD_FILE: sv_push(&c->uploads, val); break;
    case O_RETRY: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < 0 || v > 1000000)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        c->retry = v;
        break;
    }
    case O_RETRY_DELAY:
    case O_RETRY_MAX_TIME:
        ms = parse_seconds(val);
        if (ms < 0)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        if (o->id == O_RETRY_DELAY)
            c->retry_delay_ms = ms;
        else
            c->retry_max_time_ms = ms;
        break;
    case O_RETRY_ALL_ERRORS: c->retry_all_errors = on; break;
    case O_RETRY_CONNREFUSED: c->retry_connrefused = on; break;
    case O_PARALLEL: c->parallel = on; break;
    case O_PARALLEL_IMMEDIATE: c->parallel_immediate = on; break;
    case O_PARALLEL_MAX:
    case O_PER_HOST_MAX: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < 0)
            return usage_error("option %s: expected a proper numerical "
                               "parameter", optname);
        if (v > ARGS_PARALLEL_LIMIT)
            v = ARGS_PARALLEL_LIMIT; /* curl clamps too */
        if (o->id == O_PARALLEL_MAX) {
            c->parallel_max = v ? v : ARGS_PARALLEL_DEFAULT; /* 0: as curl */
        } else {
            c->per_host_max = v;
            c->per_host_max_set = 1;
        }
        break;
    }
    case O_RATE:
        c->rate = parse_rate(val);
        if (c->rate < 0)
            return usage_error("option %s: expected N/s, N/m, N/h or N/d "
                               "(N a positive integer)", optname);
        c->rate_set = 1;
        break;
    case O_CONFIG:
        /* args_expand() replaced every -K it could read; one left here
         * is a parser's mistake */
        return usage_error("option %s: config files are read before the "
                           "options are parsed", optname);
    }
    return 0;
}

/* Finds a long option by exact name, else by unambiguous prefix. */
static const opt *find_long(const char *name, size_t len, int *ambiguous)
{
    const opt *hit = NULL;
    int hits = 0;
    *ambiguous = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        if (len && opts[i].longname[0] != name[0])
            continue; /* (most of them: -K files of many lines) */
        if (strncmp(opts[i].longname, name, len) != 0)
            continue;
        if (opts[i].longname[len] == '\0')
            return &opts[i];
        hit = &opts[i];
        hits++;
    }
    if (hits > 1) {
        *ambiguous = 1;
        return NULL;
    }
    return hit;
}

static const opt *find_short(char ch)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].shortname == ch)
            return &opts[i];
    return NULL;
}

/* A long option's name (without the dashes) as the command line takes
 * it: exact, an unambiguous prefix, or "no-" and a boolean's (*on 0). */
static const opt *lookup_long(const char *word, size_t len, int *on,
                              int *ambiguous)
{
    *on = 1;
    const opt *o = find_long(word, len, ambiguous);
    if (!o && !*ambiguous && len > 3 && strncmp(word, "no-", 3) == 0) {
        const opt *n = find_long(word + 3, len - 3, ambiguous);
        if (n && n->arg == 2) {
            o = n;
            *on = 0;
        }
    }
    return o;
}

static int parse_long(cfg *c, int argc, char **argv, int *ip)
{
    const char *word = argv[*ip] + 2;
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    char optname[128];
    snprintf(optname, sizeof optname, "--%.*s", (int)(len > 100 ? 100 : len),
             word);

    int ambiguous, on;
    const opt *o = lookup_long(word, len, &on, &ambiguous);
    if (ambiguous)
        return usage_error("option %s: is ambiguous", optname);
    if (!o)
        return usage_error("option %s: is unknown", optname);

    const char *val = NULL;
    if (o->arg == 1) {
        if (eq) {
            val = eq + 1;
        } else if (*ip + 1 < argc) {
            val = argv[++*ip];
        } else {
            return usage_error("option %s: requires parameter", optname);
        }
    } else if (eq) {
        return usage_error("option %s: does not take a value", optname);
    }
    return apply(c, o, on, val, optname);
}

static int parse_short(cfg *c, int argc, char **argv, int *ip)
{
    const char *p = argv[*ip] + 1;
    for (; *p; p++) {
        char optname[4] = {'-', *p, '\0', '\0'};
        const opt *o = find_short(*p);
        if (!o)
            return usage_error("option %s: is unknown", optname);
        const char *val = NULL;
        if (o->arg == 1) {
            if (p[1]) {
                val = p + 1;
            } else if (*ip + 1 < argc) {
                val = argv[++*ip];
            } else {
                return usage_error("option %s: requires parameter", optname);
            }
        }
        int on = o->id == O_BUFFER ? 0 : 1;
        int r = apply(c, o, on, val, optname);
        if (r)
            return r;
        if (val)
            break; /* the value used the rest of the bundle */
    }
    return 0;
}

int args_parse(cfg *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (a[0] == '-' && a[1] == '-' && a[2])
            r = parse_long(c, argc, argv, &i);
        else if (a[0] == '-' && a[1])
            r = parse_short(c, argc, argv, &i);
        else {
            sv_push(&c->urls, a);
            r = 0;
        }
        if (r)
            return r;
    }
    if (c->fail && c->fail_with_body) {
        cli_usage("(2) you must select either --fail or --fail-with-body, "
                  "not both");
        return HF_E_BAD_ARG;
    }
    if (c->resume && c->remote_header_name) {
        cli_usage("(2) --continue-at and --remote-header-name cannot be "
                  "combined");
        return HF_E_BAD_ARG;
    }
    if (c->resume && c->uploads.n) {
        cli_usage("(2) --continue-at is for downloads: it cannot be "
                  "combined with --upload-file");
        return HF_E_BAD_ARG;
    }
    if (c->urls.n == 0) {
        cli_usage("(2) no URL specified");
        cli_usage("try '" HFLOW_NAME " --help' for more information");
        return HF_E_BAD_ARG;
    }
    return 0;
}

/* ---- -K, --config: config files read into the argument vector ------- */

/* Nested -K deeper than this is taken for a loop. */
#define CONFIG_MAX_DEPTH 16

/* The expanded vector and the strings made for it (live to the end). */
static strvec xp_argv, xp_owned;

static void xp_push(const char *s)
{
    sv_push(&xp_argv, s);
}

static void xp_push_owned(char *s)
{
    sv_push(&xp_owned, s);
    sv_push(&xp_argv, s);
}

static int is_next_word(const char *a)
{
    return strcmp(a, "--next") == 0 || strcmp(a, "-:") == 0;
}

static int expand_file(const char *path, int depth);

/* "FILE:LINE: message" as a usage error (exit 2). */
static int config_error(const char *file, size_t line, const char *fmt, ...)
    HFLOW_PRINTF(3, 4);
static int config_error(const char *file, size_t line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return usage_error("%s:%zu: %s", file, line, msg);
}

/* One long option of a config file ("--name", parameter or NULL). */
static int expand_long(const config_item *it, const char *file, int depth)
{
    const char *name = it->opt + 2;
    int on, ambiguous;
    const opt *o = lookup_long(name, strlen(name), &on, &ambiguous);
    if (!o)
        return config_error(file, it->line, "option %s: is %s", it->opt,
                            ambiguous ? "ambiguous" : "unknown");
    if (o->arg == 1 && !it->val)
        return config_error(file, it->line, "option %s: requires parameter",
                            it->opt);
    if (o->id == O_CONFIG)
        return expand_file(it->val, depth + 1);
    if (o->arg != 1) {
        if (it->val && *it->val) /* curl: "unsupported trailing garbage" */
            return config_error(file, it->line,
                                "option %s: takes no parameter, got '%s'",
                                it->opt, it->val);
        xp_push_owned(xstrdup(it->opt));
        return 0;
    }
    /* one element, so no parameter is ever taken for an option or a
     * --next on its own */
    sbuf b = {0};
    sb_printf(&b, "%s=%s", it->opt, it->val);
    xp_push_owned(sb_steal(&b));
    return 0;
}

/* One short option or bundle of a config file ("-sS", "-o" and its
 * parameter, "-ofile"). */
static int expand_short(const config_item *it, const char *file, int depth)
{
    const char *word = it->opt;
    int has_val = it->val && *it->val;
    for (const char *p = word + 1; *p; p++) {
        const opt *o = find_short(*p);
        if (!o)
            return config_error(file, it->line, "option -%c: is unknown", *p);
        if (o->arg != 1)
            continue;
        if (p[1] && has_val) /* the bundle has its parameter already */
            return config_error(file, it->line,
                                "option %s: takes no more parameter, got '%s'",
                                word, it->val);
        if (!p[1] && !it->val)
            return config_error(file, it->line, "option -%c: requires "
                                "parameter", *p);
        if (o->id == O_CONFIG) {
            if (p > word + 1)
                xp_push_owned(xstrndup(word, (size_t)(p - word)));
            return expand_file(p[1] ? p + 1 : it->val, depth + 1);
        }
        if (p[1] || *it->val) {
            sbuf b = {0};
            sb_printf(&b, "%s%s", word, p[1] ? "" : it->val);
            xp_push_owned(sb_steal(&b));
        } else {
            xp_push_owned(xstrdup(word)); /* "-o" with "": two elements */
            xp_push_owned(xstrdup(""));
        }
        return 0;
    }
    if (word[1] == '\0')
        return config_error(file, it->line, "option -: is unknown");
    if (has_val)
        return config_error(file, it->line,
                            "option %s: takes no parameter, got '%s'", word,
                            it->val);
    xp_push_owned(xstrdup(word));
    return 0;
}

/* Reads a config file ("-": standard input) into the vector. */
static int expand_file(const char *path, int depth)
{
    if (depth > CONFIG_MAX_DEPTH)
        return usage_error("option --config: files nested more than %d deep "
                           "(one reads itself?): '%s'", CONFIG_MAX_DEPTH,
                           path);
    const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    sbuf b = {0};
    int e = cli_read_file(path, &b);
    if (e) {
        sb_free(&b);
        /* as curl: exit 26, whatever -s says */
        cli_usage("(%d) cannot read config from '%s': %s", HF_E_READ, path,
                  strerror(e));
        return HF_E_READ;
    }
    config_list l = {0};
    size_t line = 0;
    int rc = config_parse(b.p ? b.p : "", b.len, &l, &line);
    sb_free(&b);
    if (rc == CONFIG_E_NOMEM)
        die_nomem();
    if (rc)
        return config_error(file, line, "%s",
                            rc == CONFIG_E_NUL ? "a NUL byte in the line"
                                               : "line longer than 10 MiB");
    for (size_t i = 0; i < l.n && !rc; i++) {
        const config_item *it = &l.v[i];
        if (it->ws_warning)
            cli_warn_named("%s:%zu: '%s': the rest of the line after the "
                           "parameter is ignored (quote a parameter with "
                           "white space)", file, it->line, it->opt);
        if (is_next_word(it->opt))
            xp_push("--next");
        else if (it->opt[1] == '-')
            rc = expand_long(it, file, depth);
        else
            rc = expand_short(it, file, depth);
    }
    config_list_free(&l);
    return rc;
}

/* A -K (long or short, perhaps in a bundle) of the command line at
 * argv[*ip]: expanded, and 1 returned; 0 when argv[*ip] is not one
 * (then what it is -- with the value it takes -- has been copied). */
static int expand_arg(int argc, char **argv, int *ip, int *rc)
{
    const char *a = argv[*ip];
    const char *val = NULL;
    if (a[0] == '-' && a[1] == '-' && a[2]) {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        int on, ambiguous;
        const opt *o = lookup_long(a + 2, len, &on, &ambiguous);
        int next = o && o->arg == 1 && !eq && *ip + 1 < argc;
        if (!o || o->id != O_CONFIG || (!eq && !next)) {
            xp_push(a);
            if (next)
                xp_push(argv[++*ip]);
            return 0;
        }
        val = eq ? eq + 1 : argv[++*ip];
    } else if (a[0] == '-' && a[1]) {
        const char *p = a + 1;
        for (; *p; p++) {
            const opt *o = find_short(*p);
            if (!o || o->arg == 1)
                break;
        }
        const opt *o = *p ? find_short(*p) : NULL;
        int next = o && o->arg == 1 && !p[1] && *ip + 1 < argc;
        if (!o || o->id != O_CONFIG || (!p[1] && !next)) {
            xp_push(a);
            if (next)
                xp_push(argv[++*ip]);
            return 0;
        }
        if (p > a + 1)
            xp_push_owned(xstrndup(a, (size_t)(p - a))); /* "-s" of "-sK" */
        val = p[1] ? p + 1 : argv[++*ip];
    } else {
        xp_push(a);
        return 0;
    }
    *rc = expand_file(val, 1);
    return 1;
}

int args_expand(int *argc, char **argv[])
{
    char **v = *argv;
    int n = *argc, rc = 0;
    xp_push(v[0]);
    for (int i = 1; i < n && !rc; i++)
        expand_arg(n, v, &i, &rc);
    if (rc)
        return rc;
    sv_push(&xp_argv, NULL); /* argv[argc] is NULL, as main's */
    *argc = (int)xp_argv.n - 1;
    *argv = (char **)xp_argv.v;
    return 0;
}

void args_expand_free(void)
{
    for (size_t i = 0; i < xp_owned.n; i++)
        free((void *)xp_owned.v[i]);
    sv_free(&xp_owned);
    sv_free(&xp_argv);
}

void args_free(cfg *c)
{
    sv_free(&c->headers);
    sv_free(&c->urls);
    sv_free(&c->resolves);
    sv_free(&c->uploads);
    sv_free(&c->proxy_headers);
    for (size_t i = 0; i < c->owned.n; i++)
        free((void *)c->owned.v[i]);
    sv_free(&c->owned);
    free(c->data);
    free(c->forms);
    free(c->outs);
    memset(c, 0, sizeof *c);
}

static const char help_text[] =
"Usage: " HFLOW_NAME " [options...] URL...\n"
"Fetch each URL in turn over one client (kept-alive connections are reused)\n"
"and show the flow of every request.  Flags are curl's.\n"
"\n"
"Request:\n"
" -X, --request METHOD      Method to use (default GET; POST with data)\n"
" -H, --header LINE         Extra header 'Name: value'; 'Name:' removes one,\n"
"                           'Name;' sends it empty; @FILE reads one per line\n"
" -A, --user-agent STRING   User-Agent to send (\"\" sends none)\n"
" -e, --referer URL         Referer to send\n"
" -u, --user USER:PASSWORD  Basic authentication\n"
" -I, --head                Send HEAD and show the response head\n"
" -G, --get                 Put the -d data in the URL query and use GET\n"
" -L, --location            Follow redirects (each hop has its own timings)\n"
" -b, --cookie DATA|FILE    Send NAME=VALUE cookies, or read a cookie jar\n"
" -c, --cookie-jar FILE     Write the cookies to FILE at the end (0600)\n"
" -j, --junk-session-cookies  Drop session cookies read with -b FILE\n"
"     --digest              HTTP Digest authentication (RFC 7616) with -u\n"
"     --basic               HTTP Basic authentication (the default)\n"
" -n, --netrc               Credentials from ~/.netrc\n"
"     --netrc-file FILE     Credentials from FILE\n"
"     --netrc-optional      Use ~/.netrc when it is there\n"
"     --oauth2-bearer TOKEN Authorization: Bearer TOKEN\n"
"     --max-redirs N        At most N redirects with -L (default 30; -1 no limit)\n"
"     --post301, --post302, --post303\n"
"                           Keep POST after that redirect (default: GET)\n"
"     --location-trusted    Send credentials and cookies to other hosts too\n"
"     --compressed          Ask for gzip, deflate, br, zstd and decode\n"
"     --url URL             A URL to fetch (same as a bare argument)\n"
"\n"
"Request body:\n"
" -d, --data DATA           POST DATA (@FILE reads it without CR/LF, @- stdin)\n"
"     --data-ascii DATA     Same as -d\n"
"     --data-binary DATA    POST DATA as-is (@FILE, @- streams stdin)\n"
"     --data-raw DATA       Like -d, without the @FILE meaning\n"
"     --data-urlencode DATA Percent-encode: content, =content, name=content,\n"
"                           @file, name@file\n"
"     --json DATA           POST JSON (sets Content-Type and Accept)\n"
" -F, --form NAME=CONTENT   multipart/form-data part: value, @FILE (upload),\n"
"                           <FILE (value from file); ;type= ;filename=\n"
"     --form-string N=V     multipart part with a literal value\n"
" -T, --upload-file FILE    PUT FILE, streamed (- streams stdin, chunked); a\n"
"                           URL ending in / gets FILE's base name appended\n"
"\n"
"Output:\n"
" -o, --output FILE         Write the body to FILE (the Nth -o is the Nth URL's)\n"
" -O, --remote-name         Write the body to a file named like the URL's\n"
"     --remote-name-all     Use -O for every URL\n"
" -J, --remote-header-name  With -O: name the file after Content-Disposition\n"
"                           (base name only; never over an existing file)\n"
"     --output-dir DIR      Put the -o and -O files in DIR\n"
"     --create-dirs         Create the missing directories of -o/-O paths\n"
"     --remove-on-error     Remove the -o/-O file when the transfer fails\n"
" -C, --continue-at OFFSET  Resume at OFFSET bytes ('-': the -o file's size)\n"
"                           with a Range request, appending to the file\n"
" -i, --include             Show the response head before the body\n"
" -D, --dump-header FILE    Write the response heads to FILE (- is stdout)\n"
" -w, --write-out FORMAT    Print FORMAT after each transfer (@FILE reads it)\n"
"     --har FILE            Write a HAR 1.2 log of every request to FILE at the end\n"
"     --trace-json FILE     Write every trace event to FILE as it happens, one\n"
"                           JSON object a line (- is stdout; docs/TRACE.md)\n"
" -N, --no-buffer           Flush the output after every piece of body\n"
"\n"
"Connection:\n"
" -m, --max-time SECONDS    Limit each whole transfer (fractions allowed)\n"
"     --connect-timeout S   Limit name resolution and connect\n"
"     --dns-timeout S       Limit name resolution alone\n"
"     --tls-timeout S       Limit the TLS handshake\n"
"     --ttfb-timeout S      Limit the wait for the first response byte\n"
"     --idle-timeout S      Fail when no byte arrives for S seconds\n"
" -Y, --speed-limit BYTES   Fail when slower than BYTES/s for --speed-time\n"
" -y, --speed-time S        The window for -Y (default 30 s)\n"
"     --max-filesize BYTES  Fail on a body larger than BYTES (decoded)\n"
"     --resolve H:P:ADDR    Use ADDR for host H port P (repeatable)\n"
" -4, --ipv4                Use IPv4 addresses only\n"
" -6, --ipv6                Use IPv6 addresses only\n"
"     --happy-eyeballs-timeout-ms MS  Start the next address's connection\n"
"                           attempt after MS while others are pending (200)\n"
"     --tcp-quickack        Send the TCP handshake's last ACK alone, at once\n"
"                           (default: it rides on the first bytes sent)\n"
"     --dns-servers ADDR[:PORT][,...]  Ask these DNS servers, not those of\n"
"                           resolv.conf\n"
"     --dns system|stub     The system resolver (getaddrinfo) or hflow's own\n"
"                           (the default)\n"
"     --resolv-conf FILE    Read FILE instead of /etc/resolv.conf\n"
"     --hosts-file FILE     Read FILE instead of /etc/hosts\n"
"     --no-sessionid        Do not resume TLS sessions: a full handshake on\n"
"                           every new https connection\n"
"\n"
"Proxies:\n"
" -x, --proxy [SCHEME://][USER:PASS@]HOST[:PORT]  Use this proxy: http (the\n"
"                           default), https, socks4, socks4a, socks5 (hflow\n"
"                           resolves), socks5h (the proxy resolves); \"\" none\n"
"     --noproxy LIST        Hosts that go direct (names, domains, IPs, CIDR, *)\n"
" -U, --proxy-user U:P      Credentials for the proxy\n"
"     --proxy-basic         Send them as Basic (the default)\n"
"     --proxy-digest        Answer the proxy's 407 with Digest\n"
" -p, --proxytunnel         Tunnel http URLs with CONNECT too\n"
"     --proxy-header LINE   A header for the proxy only (never -H into CONNECT)\n"
"     --proxy-cacert FILE   CA bundle for an https:// proxy\n"
"     --proxy-capath DIR    CA directory for an https:// proxy\n"
"     --proxy-insecure      Do not verify an https:// proxy's certificate\n"
"     --preproxy SOCKS-URL  Reach the http(s) proxy through this SOCKS proxy\n"
"     Environment: http_proxy (never HTTP_PROXY), https_proxy, HTTPS_PROXY,\n"
"     all_proxy, ALL_PROXY, no_proxy, NO_PROXY, as curl reads them\n"
"\n"
"Retries:\n"
"     --retry N             Retry transient errors N times: timeouts, DNS\n"
"                           failures, HTTP 408, 429, 500, 502, 503, 504\n"
"     --retry-delay S       Wait S seconds between retries (default: 1 s,\n"
"                           doubling up to 10 min, with jitter)\n"
"     --retry-max-time S    Retry only within S seconds of the first try\n"
"     --retry-all-errors    Retry on any error, and non-idempotent methods\n"
"     --retry-connrefused   Retry when the connection is refused too\n"
"\n"
"Many transfers:\n"
" -Z, --parallel            Run the transfers at once, not one after another;\n"
"                           a summary line at the end (unless -s)\n"
"     --parallel-max N      At most N transfers at once (default 50)\n"
"     --per-host-max N      At most N transfers at once to one host and port\n"
"     --parallel-immediate  Accepted as curl's (no effect over HTTP/1.1)\n"
"     --rate N/U            At most N transfer starts per U: s, m, h or d\n"
"                           (default per hour); serial transfers too\n"
" -K, --config FILE         Read options from FILE, one a line, curl's syntax\n"
"                           (url = \"...\", output = \"...\"; - is stdin)\n"
"\n"
"Errors and reporting:\n"
" -f, --fail                No body on HTTP errors (>= 400); exit 22\n"
"     --fail-with-body      Output the body on HTTP errors; exit 22\n"
" -s, --silent              No error messages\n"
" -S, --show-error          Show error messages even with -s\n"
" -v, --verbose             Show the flow on stderr: '*' steps, '>' sent head,\n"
"                           '<' received head, each with its time in ms\n"
"     --no-progress-meter   Do not show the progress meter (which is shown\n"
"                           on a terminal's stderr for transfers that take\n"
"                           over a second; never with -s or -v)\n"
" -#, --progress-bar        A simpler meter: a bar of '#' and the percentage\n"
"     --flow                Draw each connection as a sequence diagram on\n"
"                           stderr: DNS, SYN/SYN-ACK/ACK, TLS, request and\n"
"                           response, FIN/ACK each way, with times\n"
"     --stat                Show each transfer's timing waterfall on stderr\n"
"                           (httpstat's phases, TCP rtt, DNS, connection)\n"
"\n"
"Information:\n"
" -h, --help                This help\n"
" -V, --version             Version and features\n"
"\n"
"Boolean long options can be negated: --no-include, --no-fail, ...\n"
"Colour (-v, errors) is used on a terminal unless NO_COLOR is set and not\n"
"empty, or TERM is dumb.\n"
"See hflow(1) for the -w variables and the exit codes.\n";

void args_help(FILE *f)
{
    fputs(help_text, f);
}

void args_version(FILE *f)
{
    fprintf(f, HFLOW_NAME " " HFLOW_CLI_VERSION " (libhflow " HF_VERSION ")\n"
               "Protocols: http\n"
               "Features: IPv6 libz Debug-flow\n");
}
