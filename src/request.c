/* request.c -- the public objects: client, request and response. */
#include "internal.h"
#include "cookie.h"
#include "resolver.h"
#include "tls.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- client ----------------------------------------------------------- */

hf_client *hf_client_new(void)
{
    hf_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->he_delay_ms = 200; /* RFC 8305 8: Connection Attempt Delay */
    c->pool_per_host = POOL_MAX_PER_HOST;
    c->pool_max = POOL_MAX_IDLE;
    c->lp = loop_new();
    if (!c->lp) {
        free(c);
        return NULL;
    }
    loop_set_idle(c->lp, conn_reap_dead, c);
    return c;
}

void hf_client_free(hf_client *c)
{
    if (!c)
        return;
    multi_free(c); /* transfers still pending end without their callback */
    hf_client_close_idle(c, 100);
    tls_client_free(c->tls);
    cookie_jar_free(c->jar);
    resolver_free(c->res);
    free(c->dns_servers);
    free(c->resolv_conf);
    free(c->hosts_file);
    names_free_resolves(c->resolves);
    loop_free(c->lp);
    free(c);
}

hf_err hf_client_resolve(hf_client *c, const char *spec)
{
    if (!c || !spec)
        return HF_E_BAD_FUNCTION_ARG;
    resolve_ent *r;
    int remove;
    int rc = names_parse_resolve(spec, &r, &remove);
    if (rc)
        return (hf_err)rc;
    if (remove) {
        resolve_ent **pp = &c->resolves;
        while (*pp) {
            resolve_ent *e = *pp;
            if (e->port == r->port && strcmp(e->host, r->host) == 0) {
                *pp = e->next;
                e->next = NULL;
                names_free_resolves(e);
            } else {
                pp = &e->next;
            }
        }
        names_free_resolves(r);
        return HF_OK;
    }
    r->next = c->resolves; /* newest first: a later entry wins */
    c->resolves = r;
    return HF_OK;
}

hf_err hf_client_set_ip_family(hf_client *c, int family)
{
    if (!c || (family != 0 && family != 4 && family != 6))
        return HF_E_BAD_FUNCTION_ARG;
    c->family = family;
    return HF_OK;
}

hf_err hf_client_set_connect_timeout_ms(hf_client *c, long ms)
{
    if (!c || ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    c->connect_timeout_ms = ms;
    return HF_OK;
}

/* Settings reach the resolver when it is made (at the first name), or
 * now when it exists already. */
static hf_err resolver_sync(hf_client *c)
{
    if (!c->res)
        return HF_OK;
    resolver_set_system(c->res, c->dns_system);
    int rc = resolver_set_files(c->res, c->resolv_conf, c->hosts_file);
    if (!rc && c->dns_servers)
        rc = resolver_set_servers(c->res, c->dns_servers);
    return (hf_err)rc;
}

static hf_err dup_opt(char **dst, const char *s)
{
    char *p = NULL;
    if (s && !(p = strdup(s)))
        return HF_E_NOMEM;
    free(*dst);
    *dst = p;
    return HF_OK;
}

hf_err hf_client_set_dns_servers(hf_client *c, const char *servers)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    if (servers) { /* check the syntax now, on a scratch resolver */
        resolver *r = resolver_new(c->lp);
        if (!r)
            return HF_E_NOMEM;
        int rc = resolver_set_servers(r, servers);
        resolver_free(r);
        if (rc)
            return (hf_err)rc;
    }
    hf_err e = dup_opt(&c->dns_servers, servers);
    return e ? e : resolver_sync(c);
}

hf_err hf_client_set_dns_files(hf_client *c, const char *resolv_conf,
                               const char *hosts)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = dup_opt(&c->resolv_conf, resolv_conf);
    if (!e)
        e = dup_opt(&c->hosts_file, hosts);
    return e ? e : resolver_sync(c);
}

hf_err hf_client_set_dns_system(hf_client *c, int on)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    c->dns_system = !!on;
    return resolver_sync(c);
}

hf_err hf_client_cookies_enable(hf_client *c)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    if (!c->jar && !(c->jar = cookie_jar_new()))
        return HF_E_NOMEM;
    return HF_OK;
}

/* A whole (small) file; ENOENT reported as HF_E_OK with *text NULL. */
hf_err read_small_file(const char *path, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? HF_OK : HF_E_READ;
    buf b;
    buf_init(&b, max);
    char tmp[8192];
    size_t n;
    hf_err e = HF_OK;
    while (!e && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        e = (hf_err)buf_add(&b, tmp, n);
    if (!e && ferror(f))
        e = HF_E_READ;
    fclose(f);
    if (e) {
        buf_free(&b);
        return e;
    }
    *len = b.len;
    *text = buf_take(&b);
    return HF_OK;
}

hf_err hf_client_cookies_load(hf_client *c, const char *path, int junk_session)
{
    if (!c || !path)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = hf_client_cookies_enable(c);
    char *text;
    size_t len;
    if (!e)
        e = read_small_file(path, 64u << 20, &text, &len);
    if (e || !text)
        return e;
    int rc = cookie_load(c->jar, text, len, junk_session, (int64_t)time(NULL));
    free(text);
    return rc ? HF_E_NOMEM : HF_OK;
}

hf_err hf_client_cookies_save(hf_client *c, const char *path)
{
    if (!c || !path)
        return HF_E_BAD_FUNCTION_ARG;
    if (hf_client_cookies_enable(c))
        return HF_E_NOMEM;
    char *text = cookie_save(c->jar, (int64_t)time(NULL));
    if (!text)
        return HF_E_NOMEM;
    /* 0600 and an atomic rename: a reader never sees half a jar, and
     * nobody else reads it (SECURITY.md D.23) */
    size_t pl = strlen(path) + 32;
    char *tmp = malloc(pl);
    if (!tmp) {
        free(text);
        return HF_E_NOMEM;
    }
    snprintf(tmp, pl, "%s.tmp%ld", path, (long)getpid());
    hf_err e = HF_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        e = HF_E_WRITE;
    size_t len = strlen(text), off = 0;
    while (!e && off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            e = HF_E_WRITE;
        else
            off += (size_t)n;
    }
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0) && !e)
        e = HF_E_WRITE;
    if (!e && rename(tmp, path) != 0)
        e = HF_E_WRITE;
    if (e)
        unlink(tmp);
    free(tmp);
    free(text);
    return e;
}

hf_err hf_client_set_event_fn(hf_client *c, hf_event_fn *fn, void *arg)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    c->event_fn = fn;
    c->event_arg = arg;
    return HF_OK;
}

hf_err hf_client_set_happy_eyeballs_ms(hf_client *c, long ms)
{
    if (!c || ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    c->he_delay_ms = ms;
    return HF_OK;
}

hf_err hf_client_set_tcp_quickack(hf_client *c, int on)
{
    if (!c)
        return HF_E_BAD_FUNCTION_ARG;
    c->tcp_quickack = on ? 1 : 0;
    return HF_OK;
}

/* The resolver, made with the client's settings at the first name. */
resolver *client_resolver(hf_client *c)
{
    if (c->res)
        return c->res;
    if (!(c->res = resolver_new(c->lp)))
        return NULL;
    if (resolver_sync(c) != HF_OK) {
        resolver_free(c->res);
        c->res = NULL;
    }
    return c->res;
}

long hf_client_num_connects(const hf_client *c)
{
    return c ? c->num_connects : 0;
}

/* ---- request ---------------------------------------------------------- */

hf_request *hf_request_new(const char *method, const char *url)
{
    if (!method || !url)
        return NULL;
    hf_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->method = strdup(method);
    r->url = strdup(url);
    r->expect_threshold = 1024 * 1024;
    r->max_redirs = -1;
    r->auth_methods = HF_AUTH_BASIC;
    r->reader_len = -1;
    if (!r->method || !r->url) {
        hf_request_free(r);
        return NULL;
    }
    return r;
}

void hf_request_free(hf_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free(r->method);
    free(r->url);
    free(r->body);
    free(r->auth_user);
    free(r->auth_pass);
    free(r->netrc_file);
    free(r->body_file);
    free(r->output_file);
    free(r->proxy);
    free(r->noproxy);
    free(r->proxy_user);
    free(r->proxy_pass);
    for (size_t i = 0; i < r->nproxy_hdrs; i++)
        free(r->proxy_hdrs[i]);
    free(r->proxy_hdrs);
    free(r->proxy_cafile);
    free(r->proxy_capath);
    free(r->preproxy);
    char **strs[] = {&r->cafile, &r->capath, &r->ciphers, &r->tls13_ciphers,
                     &r->curves, &r->cert, &r->key, &r->key_password,
                     &r->pinned};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    free(r);
}

/* Replace *dst by a copy of s (NULL clears). */
static hf_err set_str(char **dst, const char *s)
{
    char *p = NULL;
    if (s && !(p = strdup(s)))
        return HF_E_NOMEM;
    free(*dst);
    *dst = p;
    return HF_OK;
}

hf_err hf_request_set_insecure(hf_request *r, int on)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->insecure = !!on;
    return HF_OK;
}

hf_err hf_request_set_ca(hf_request *r, const char *cafile, const char *capath)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->cafile, cafile);
    return e ? e : set_str(&r->capath, capath);
}

hf_err hf_request_set_tls_versions(hf_request *r, int min, int max)
{
    if (!r || (min && min != 12 && min != 13) || (max && max != 12 && max != 13) ||
        (min && max && min > max))
        return HF_E_BAD_FUNCTION_ARG;
    r->tls_min = min;
    r->tls_max = max;
    return HF_OK;
}

hf_err hf_request_set_ciphers(hf_request *r, const char *tls12,
                              const char *tls13, const char *curves)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->ciphers, tls12);
    if (!e)
        e = set_str(&r->tls13_ciphers, tls13);
    return e ? e : set_str(&r->curves, curves);
}

hf_err hf_request_set_client_cert(hf_request *r, const char *cert,
                                  const char *key, const char *password)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->cert, cert);
    if (!e)
        e = set_str(&r->key, key);
    return e ? e : set_str(&r->key_password, password);
}

hf_err hf_request_set_pinned_pubkey(hf_request *r, const char *spec)
{
    return r ? set_str(&r->pinned, spec) : HF_E_BAD_FUNCTION_ARG;
}

hf_err hf_request_set_session_reuse(hf_request *r, int on)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->no_session = !on;
    return HF_OK;
}

hf_err hf_request_set_basic_auth(hf_request *r, const char *user,
                                 const char *password)
{
    if (!r || !user)
        return HF_E_BAD_FUNCTION_ARG;
    char *u = strdup(user), *p = strdup(password ? password : "");
    if (!u || !p) {
        free(u);
        free(p);
        return HF_E_NOMEM;
    }
    free(r->auth_user);
    free(r->auth_pass);
    r->auth_user = u;
    r->auth_pass = p;
    return HF_OK;
}

/* RFC 9110 5.6.2: tchar. */
int http_is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

int http_is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!http_is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* RFC 9110 5.5: field values carry no CR, LF or NUL (a NUL cannot be in a
 * C string); other control bytes but HTAB are refused too. */
static int value_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return 1;
}

hf_err hf_request_header(hf_request *r, const char *name, const char *value)
{
    if (!r || !name)
        return HF_E_BAD_FUNCTION_ARG;
    if (!http_is_token(name) || (value && !value_ok(value)))
        return HF_E_BAD_ARG;
    char *n = strdup(name), *v = value ? strdup(value) : NULL;
    if (!n || (value && !v)) {
        free(n);
        free(v);
        return HF_E_NOMEM;
    }
    /* a later setting of the same name replaces the earlier one */
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0) {
            free(r->hdrs[i].name);
            free(r->hdrs[i].value);
            r->hdrs[i].name = n;
            r->hdrs[i].value = v;
            return HF_OK;
        }
    req_hdr *p = realloc(r->hdrs, (r->nhdrs + 1) * sizeof *p);
    if (!p) {
        free(n);
        free(v);
        return HF_E_NOMEM;
    }
    r->hdrs = p;
    r->hdrs[r->nhdrs].name = n;
    r->hdrs[r->nhdrs].value = v;
    r->nhdrs++;
    return HF_OK;
}

hf_err hf_request_header_line(hf_request *r, const char *line)
{
    if (!r || !line)
        return HF_E_BAD_FUNCTION_ARG;
    size_t n = strcspn(line, ":;");
    if (!line[n] || n == 0 || n > 1024)
        return HF_E_BAD_ARG;
    char name[1025];
    memcpy(name, line, n);
    name[n] = 0;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (line[n] == ';') {
        if (*v) /* "X;foo" is not curl's empty-header form */
            return HF_E_BAD_ARG;
        return hf_request_header(r, name, "");
    }
    if (!*v)
        return hf_request_header(r, name, NULL);
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    char *val = strndup(v, vl);
    if (!val)
        return HF_E_NOMEM;
    hf_err e = hf_request_header(r, name, val);
    free(val);
    return e;
}

hf_err hf_request_body(hf_request *r, const void *data, size_t len)
{
    if (!r || (!data && len))
        return HF_E_BAD_FUNCTION_ARG;
    char *p = malloc(len ? len : 1);
    if (!p)
        return HF_E_NOMEM;
    if (len)
        memcpy(p, data, len);
    free(r->body);
    r->body = p;
    r->body_len = len;
    r->has_body = 1;
    r->reader = NULL;
    free(r->body_file);
    r->body_file = NULL;
    return HF_OK;
}

hf_err hf_request_body_reader(hf_request *r, hf_read_fn *read, void *arg,
                              int64_t len)
{
    if (!r || !read || len < -1)
        return HF_E_BAD_FUNCTION_ARG;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->has_body = 1;
    r->reader = read;
    r->reader_arg = arg;
    r->reader_len = len;
    free(r->body_file);
    r->body_file = NULL;
    return HF_OK;
}

hf_err hf_request_body_file(hf_request *r, const char *path)
{
    if (!r || !path)
        return HF_E_BAD_FUNCTION_ARG;
    char *p = strdup(path);
    if (!p)
        return HF_E_NOMEM;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->reader = NULL;
    r->reader_len = -1;
    free(r->body_file);
    r->body_file = p;
    r->has_body = 1;
    return HF_OK;
}

hf_err hf_request_set_output_file(hf_request *r, const char *path)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    char *p = NULL;
    if (path && !(p = strdup(path)))
        return HF_E_NOMEM;
    free(r->output_file);
    r->output_file = p;
    return HF_OK;
}

hf_err hf_request_set_auth_methods(hf_request *r, unsigned methods)
{
    if (!r || !methods || (methods & ~(unsigned)(HF_AUTH_BASIC | HF_AUTH_DIGEST)))
        return HF_E_BAD_FUNCTION_ARG;
    r->auth_methods = methods;
    return HF_OK;
}

hf_err hf_request_set_netrc(hf_request *r, int mode, const char *file)
{
    if (!r || mode < 0 || mode > 2)
        return HF_E_BAD_FUNCTION_ARG;
    r->netrc_mode = mode;
    return dup_opt(&r->netrc_file, file);
}

hf_err hf_request_set_follow(hf_request *r, long max_redirs, unsigned flags)
{
    if (!r || max_redirs < -1)
        return HF_E_BAD_FUNCTION_ARG;
    r->max_redirs = max_redirs;
    r->follow_flags = flags;
    return HF_OK;
}

hf_err hf_request_set_phase_timeouts(hf_request *r, long dns_ms, long tls_ms,
                                     long ttfb_ms, long idle_ms)
{
    if (!r || dns_ms < 0 || tls_ms < 0 || ttfb_ms < 0 || idle_ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    r->dns_ms = dns_ms;
    r->tls_ms = tls_ms;
    r->ttfb_ms = ttfb_ms;
    r->idle_ms = idle_ms;
    return HF_OK;
}

hf_err hf_request_set_speed_limit(hf_request *r, long bytes_per_sec, long seconds)
{
    if (!r || bytes_per_sec < 0 || seconds < 0)
        return HF_E_BAD_FUNCTION_ARG;
    r->speed_limit = bytes_per_sec;
    r->speed_time = seconds;
    return HF_OK;
}

hf_err hf_request_set_max_filesize(hf_request *r, int64_t bytes)
{
    if (!r || bytes < 0)
        return HF_E_BAD_FUNCTION_ARG;
    r->max_filesize = bytes;
    return HF_OK;
}

hf_err hf_request_set_timeout_ms(hf_request *r, long ms)
{
    if (!r || ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    r->timeout_ms = ms;
    return HF_OK;
}

hf_err hf_request_set_connect_timeout_ms(hf_request *r, long ms)
{
    if (!r || ms < 0)
        return HF_E_BAD_FUNCTION_ARG;
    r->connect_timeout_ms = ms;
    return HF_OK;
}

hf_err hf_request_set_decompress(hf_request *r, int on)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->decompress = !!on;
    return HF_OK;
}

hf_err hf_request_set_expect_threshold(hf_request *r, int64_t n)
{
    if (!r || n < -1)
        return HF_E_BAD_FUNCTION_ARG;
    r->expect_threshold = n;
    return HF_OK;
}

hf_err hf_request_set_sink(hf_request *r, hf_write_fn *fn, void *arg)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->sink = fn;
    r->sink_arg = arg;
    return HF_OK;
}

hf_err hf_request_set_head_fn(hf_request *r, hf_head_fn *fn, void *arg)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->head_fn = fn;
    r->head_arg = arg;
    return HF_OK;
}

hf_err hf_request_set_debug_fn(hf_request *r, hf_debug_fn *fn, void *arg)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->debug_fn = fn;
    r->debug_arg = arg;
    return HF_OK;
}

/* ---- response --------------------------------------------------------- */

void hf_response_free(hf_response *resp)
{
    if (!resp)
        return;
    free(resp->reason);
    free(resp->head);
    free(resp->hdrs);
    free(resp->hstore);
    buf_free(&resp->body);
    trace_free(&resp->trace);
    free(resp->req_head);
    hf_response_free(resp->prev);
    free(resp->errmsg);
    free(resp->url);
    free(resp->tls_certs);
    free(resp);
}

const char *hf_response_tls_version(const hf_response *resp)
{
    return resp && resp->tls_version[0] ? resp->tls_version : NULL;
}

const char *hf_response_tls_cipher(const hf_response *resp)
{
    return resp && resp->tls_cipher[0] ? resp->tls_cipher : NULL;
}

long hf_response_ssl_verify_result(const hf_response *resp)
{
    return resp ? resp->tls_verify : 0;
}

int hf_response_num_certs(const hf_response *resp)
{
    return resp ? resp->tls_ncerts : 0;
}

const char *hf_response_certs(const hf_response *resp)
{
    return resp ? resp->tls_certs : NULL;
}

int hf_response_status(const hf_response *resp)
{
    return resp ? resp->status : 0;
}

int hf_response_http_minor(const hf_response *resp)
{
    return resp ? resp->minor : 0;
}

const char *hf_response_reason(const hf_response *resp)
{
    return resp && resp->reason ? resp->reason : "";
}

const char *hf_response_header(const hf_response *resp, const char *name)
{
    if (!resp || !name)
        return NULL;
    for (size_t i = 0; i < resp->nhdrs; i++)
        if (strcasecmp(resp->hdrs[i].name, name) == 0)
            return resp->hdrs[i].value;
    return NULL;
}

size_t hf_response_header_count(const hf_response *resp)
{
    return resp ? resp->nhdrs : 0;
}

int hf_response_header_at(const hf_response *resp, size_t i,
                          const char **name, const char **value)
{
    if (!resp || i >= resp->nhdrs)
        return -1;
    if (name)
        *name = resp->hdrs[i].name;
    if (value)
        *value = resp->hdrs[i].value;
    return 0;
}

const char *hf_response_head_raw(const hf_response *resp, size_t *len)
{
    if (len)
        *len = resp && resp->head ? resp->head_len : 0;
    return resp && resp->head ? resp->head : "";
}

const void *hf_response_body(const hf_response *resp, size_t *len)
{
    if (len)
        *len = resp ? resp->body.len : 0;
    return resp && resp->body.data ? resp->body.data : "";
}

hf_err hf_response_error(const hf_response *resp)
{
    return resp ? resp->err : HF_E_BAD_FUNCTION_ARG;
}

const char *hf_response_errmsg(const hf_response *resp)
{
    if (!resp)
        return "";
    if (resp->errmsg && resp->errmsg[0])
        return resp->errmsg;
    return resp->err ? hf_strerror(resp->err) : "";
}

const char *hf_response_url(const hf_response *resp)
{
    return resp && resp->url ? resp->url : "";
}

int64_t hf_response_size_download(const hf_response *resp)
{
    return resp ? resp->size_download : 0;
}

int hf_response_reused(const hf_response *resp)
{
    return resp ? resp->reused : 0;
}

const char *hf_response_local_addr(const hf_response *resp)
{
    return resp ? resp->local : "";
}

const char *hf_response_remote_addr(const hf_response *resp)
{
    return resp ? resp->remote : "";
}

const char *hf_response_request_head(const hf_response *resp, size_t *len)
{
    if (len)
        *len = resp && resp->req_head ? resp->req_head_len : 0;
    return resp && resp->req_head ? resp->req_head : "";
}

int64_t hf_response_size_upload(const hf_response *resp)
{
    return resp ? resp->size_upload : 0;
}

long hf_response_conn_id(const hf_response *resp)
{
    return resp ? resp->conn_id : -1;
}

const hf_response *hf_response_previous(const hf_response *resp)
{
    return resp ? resp->prev : NULL;
}

int hf_response_num_redirects(const hf_response *resp)
{
    return resp ? resp->num_redirects : 0;
}

uint64_t hf_response_time_redirect_ns(const hf_response *resp)
{
    return resp ? resp->time_redirect : 0;
}

const hf_trace *hf_response_trace(const hf_response *resp)
{
    return resp ? &resp->trace : NULL;
}

uint64_t hf_response_time_ns(const hf_response *resp, hf_time t)
{
    if (!resp || (int)t < 0 || t >= HF_TIME__COUNT)
        return 0;
    return resp->t[t];
}

/* ---- proxies ------------------------------------------------------------ */

hf_err hf_request_set_proxy(hf_request *r, const char *spec)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->proxy, spec);
    if (!e)
        r->proxy_given = spec != NULL;
    return e;
}

hf_err hf_request_set_noproxy(hf_request *r, const char *list)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->noproxy, list);
    if (!e)
        r->noproxy_given = list != NULL;
    return e;
}

hf_err hf_request_set_proxy_auth(hf_request *r, const char *user,
                                 const char *password, unsigned methods)
{
    if (!r || (methods & ~(unsigned)(HF_AUTH_BASIC | HF_AUTH_DIGEST)))
        return HF_E_BAD_FUNCTION_ARG;
    char *u = NULL, *p = NULL;
    if ((user && !(u = strdup(user))) || (user && !(p = strdup(password ? password : "")))) {
        free(u);
        return HF_E_NOMEM;
    }
    free(r->proxy_user);
    if (r->proxy_pass)
        explicit_bzero(r->proxy_pass, strlen(r->proxy_pass));
    free(r->proxy_pass);
    r->proxy_user = u;
    r->proxy_pass = p;
    r->proxy_auth = methods ? methods : HF_AUTH_BASIC;
    return HF_OK;
}

hf_err hf_request_set_proxy_tunnel(hf_request *r, int on)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    r->proxy_tunnel = !!on;
    return HF_OK;
}

hf_err hf_request_proxy_header(hf_request *r, const char *line)
{
    if (!r || !line)
        return HF_E_BAD_FUNCTION_ARG;
    /* the same rules as -H: a name that is a token, no CR, LF or NUL */
    size_t n = strcspn(line, ":;");
    if (!line[n] || n == 0 || strpbrk(line, "\r\n"))
        return HF_E_BAD_ARG;
    char **p = realloc(r->proxy_hdrs, (r->nproxy_hdrs + 1) * sizeof *p);
    if (!p)
        return HF_E_NOMEM;
    r->proxy_hdrs = p;
    if (!(p[r->nproxy_hdrs] = strdup(line)))
        return HF_E_NOMEM;
    r->nproxy_hdrs++;
    return HF_OK;
}

hf_err hf_request_set_proxy_tls(hf_request *r, const char *cafile,
                                const char *capath, int insecure)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    hf_err e = set_str(&r->proxy_cafile, cafile);
    if (!e)
        e = set_str(&r->proxy_capath, capath);
    r->proxy_insecure = !!insecure;
    return e;
}

hf_err hf_request_set_preproxy(hf_request *r, const char *spec)
{
    if (!r)
        return HF_E_BAD_FUNCTION_ARG;
    return set_str(&r->preproxy, spec);
}

int hf_response_proxy_used(const hf_response *resp)
{
    return resp ? resp->proxy_used : 0;
}

const char *hf_response_proxy(const hf_response *resp)
{
    return resp ? resp->proxy : "";
}

int hf_response_http_connect(const hf_response *resp)
{
    return resp ? resp->http_connect : 0;
}
