/* job.c -- one URL's transfer: its output planned, its request built
 * from the group's options, heads and bodies written from the request's
 * callbacks, the failure of each attempt reported, retries decided, and
 * the end (file, -D, --remove-on-error, -w).  cli/main.c runs jobs one
 * after another with hf_send; cli/parallel.c many at once with hf_submit. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "download.h"
#include "record.h"
#include "views.h"
#include "writeout.h"

static int is_head(const cfg *c, const char *method)
{
    return c->head || strcmp(method, "HEAD") == 0;
}

/* -J: the file gets its name from the final response, if it gives one
 * (2xx only, as curl).  Returns 0, or -1 when there is no name at all. */
static int take_cd_name(xfer *x, const hf_response *resp)
{
    if (x->out->opened || x->out->open_failed)
        return 0; /* an earlier attempt chose and created the file */
    const char *cd = x->status / 100 == 2
                         ? hf_response_header(resp, "Content-Disposition")
                         : NULL;
    char *name = cd ? dl_cd_filename(cd) : NULL;
    if (!name)
        return x->no_name ? -1 : 0;
    free(*x->cd_path);
    *x->cd_path = dl_join(x->c->output_dir, name);
    free(name);
    x->out->path = *x->cd_path;
    x->out->excl = 1; /* never over an existing file */
    return 0;
}

/* -C: whether this response continues the file at x->offset. */
static int check_resume(xfer *x, const hf_response *resp)
{
    const char *ce = hf_response_header(resp, "Content-Encoding");
    if (x->offset == 0) {
        const char *ar = hf_response_header(resp, "Accept-Ranges");
        x->resumable = x->status == 200 && !ce && ar &&
                       cli_ncaseeq(ar, "bytes", 6);
        return HF_HEAD_CONTINUE;
    }
    switch (dl_resume_check(resp, x->offset, is_head(x->c, x->method))) {
    case DL_RESUME_DONE:
        return HF_HEAD_DISCARD; /* complete already: nothing to write */
    case DL_RESUME_BAD:
        x->range_error = 1;
        return HF_HEAD_ABORT;
    default:
        x->resumable = x->status == 206 && !ce;
        return HF_HEAD_CONTINUE;
    }
}

/* ---- the hold (job.h) ---------------------------------------------------- */

void hold_init(hold *h)
{
    memset(h, 0, sizeof *h);
}

int hold_add(hold *h, const void *data, size_t len)
{
    if (!h->spill && h->mem.len + len <= HOLD_MEM) {
        sb_add(&h->mem, data, len);
        return 0;
    }
    if (!h->spill) {
        const char *dir = getenv("TMPDIR");
        sbuf path = {0};
        sb_printf(&path, "%s/hflow-hold.XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkostemp(path.p, O_CLOEXEC);
        int saved = errno;
        if (fd >= 0) {
            unlink(path.p); /* gone with the descriptor */
            if (!(h->spill = fdopen(fd, "w+b"))) {
                saved = errno;
                close(fd);
            }
        }
        sb_free(&path);
        errno = saved;
        if (!h->spill)
            return -1;
    }
    errno = 0;
    if (fwrite(data, 1, len, h->spill) != len) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int hold_flush(hold *h, output *out)
{
    int rc = 0;
    if (h->mem.len)
        rc = output_body(out, h->mem.p, h->mem.len);
    if (!rc && h->spill) {
        char b[65536];
        size_t n;
        rc = fflush(h->spill) || fseeko(h->spill, 0, SEEK_SET) ? -1 : 0;
        while (!rc && (n = fread(b, 1, sizeof b, h->spill)) > 0)
            rc = output_body(out, b, n);
        if (!rc && ferror(h->spill))
            rc = -1;
    }
    hold_reset(h);
    return rc;
}

void hold_reset(hold *h)
{
    h->mem.len = 0;
    if (h->spill)
        fclose(h->spill);
    h->spill = NULL;
}

void hold_free(hold *h)
{
    hold_reset(h);
    sb_free(&h->mem);
}

/* Head or body bytes for the output (or, with -Z, for the hold while
 * another job has standard output). */
static int out_write(xfer *x, const void *data, size_t len, int body)
{
    if (x->discard)
        return 0;
    if (x->hold) {
        if (hold_add(x->hold, data, len) == 0)
            return 0;
        /* (then "Failure writing output to destination", exit 23) */
        cli_warn_named("standard output is another transfer's for now, and "
                       "keeping this one's output in a temporary file failed: %s",
                       strerror(errno));
        return -1;
    }
    return body ? output_body(x->out, data, len)
                : output_write(x->out, data, len);
}

static int on_head(void *arg, const hf_response *resp)
{
    xfer *x = arg;
    const cfg *c = x->c;
    x->status = hf_response_status(resp);
    size_t len = 0;
    const char *raw = NULL;
    if (x->dump || c->include || c->head)
        raw = hf_response_head_raw(resp, &len);
    if (retry_status(x->status) && retry_method_ok(c, x->method) &&
        cli_body_rewindable(x->b, x->rd)) {
        /* decided now, so a body that will be thrown away is never
         * written: a retried download leaves no bytes behind */
        x->retry_ms = retry_delay(x->rs, c, RETRY_HTTP, resp, &x->retry_why);
        if (x->retry_ms >= 0) {
            if (x->dump && raw && output_write(x->dump, raw, len)) {
                x->failed = x->dump;
                return HF_HEAD_ABORT;
            }
            return HF_HEAD_DISCARD;
        }
    }
    if (x->status >= 400 && (c->fail || c->fail_with_body))
        x->http_error = 1;
    if (x->http_error && c->fail)
        return HF_HEAD_DISCARD; /* -f: nothing of the reply is shown */
    int act = c->resume ? check_resume(x, resp) : HF_HEAD_CONTINUE;
    if (act == HF_HEAD_ABORT)
        return act;
    if (x->cd_name && take_cd_name(x, resp)) {
        x->name_error = 1;
        return HF_HEAD_ABORT;
    }
    if (x->meter && act == HF_HEAD_CONTINUE)
        progress_head(x->meter, resp, is_head(c, x->method), c->compressed);

    if (x->dump && raw && output_write(x->dump, raw, len)) {
        x->failed = x->dump;
        return HF_HEAD_ABORT;
    }
    if ((c->include || c->head) && raw && out_write(x, raw, len, 0)) {
        x->failed = x->out;
        return HF_HEAD_ABORT;
    }
    /* -I shows the head only, whatever the method was */
    return c->head ? HF_HEAD_DISCARD : act;
}

static int on_body(void *arg, const void *data, size_t len)
{
    xfer *x = arg;
    if (out_write(x, data, len, 1)) {
        x->failed = x->out;
        return 1;
    }
    x->body_bytes += (int64_t)len;
    if (x->tally)
        *x->tally += (int64_t)len;
    if (x->meter)
        progress_add(x->meter, len);
    return 0;
}

/* ---- request building ------------------------------------------------- */

/* Whether a -H line names this header ("Name: v", "Name:", "Name;"). */
static int line_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return cli_ncaseeq(line, name, n) && (line[n] == ':' || line[n] == ';');
}

static int user_has(const cfg *c, const char *name)
{
    for (size_t i = 0; i < c->headers.n; i++)
        if (line_is(c->headers.v[i], name))
            return 1;
    return 0;
}

/* The request headers the options ask for; a -H of the same name wins. */
static hf_err set_headers(const cfg *c, const body *b, hf_request *r,
                          const char **bad)
{
    hf_err e = HF_OK;
    if (c->user_agent && !user_has(c, "User-Agent")) {
        *bad = c->user_agent;
        e = hf_request_header(r, "User-Agent",
                              c->user_agent[0] ? c->user_agent : NULL);
        if (e)
            return e;
    }
    if (c->referer && c->referer[0] && !user_has(c, "Referer")) {
        /* curl's ";auto" suffix (for redirects) is not sent */
        const char *semi = strstr(c->referer, ";auto");
        size_t n = semi && semi[5] == '\0' ? (size_t)(semi - c->referer)
                                           : strlen(c->referer);
        if (n) {
            char *v = xstrndup(c->referer, n);
            *bad = c->referer;
            e = hf_request_header(r, "Referer", v);
            free(v);
            if (e)
                return e;
        }
    }
    if (c->user) {
        /* without ':' curl would prompt; hflow uses an empty password */
        const char *colon = strchr(c->user, ':');
        char *name = colon ? xstrndup(c->user, (size_t)(colon - c->user))
                           : xstrndup(c->user, strlen(c->user));
        *bad = "--user";
        e = hf_request_set_basic_auth(r, name, colon ? colon + 1 : "");
        free(name);
        if (e)
            return e;
    }
    if (b->content_type && !user_has(c, "Content-Type")) {
        *bad = b->content_type;
        e = hf_request_header(r, "Content-Type", b->content_type);
        if (e)
            return e;
    }
    if (b->json && !user_has(c, "Accept")) {
        *bad = "Accept";
        e = hf_request_header(r, "Accept", "application/json");
        if (e)
            return e;
    }
    const char *bparam = b->has_form && b->content_type
                             ? strstr(b->content_type, "; boundary=")
                             : NULL;
    for (size_t i = 0; i < c->headers.n; i++) {
        const char *line = c->headers.v[i];
        *bad = line;
        if (bparam && line_is(line, "Content-Type") && line[12] == ':') {
            /* -F with a user multipart type: add our boundary, as curl */
            const char *v = line + 13;
            while (*v == ' ' || *v == '\t')
                v++;
            if (cli_ncaseeq(v, "multipart/", 10) &&
                !strstr(v, "boundary=")) {
                sbuf nv = {0};
                sb_printf(&nv, "%s%s", v, bparam);
                e = hf_request_header(r, "Content-Type", nv.p);
                sb_free(&nv);
                if (e)
                    return e;
                continue;
            }
        }
        e = hf_request_header_line(r, line);
        if (e)
            return e;
    }
    return HF_OK;
}

/* Proxy options onto the request (-U user:password, as curl). */
static hf_err set_proxy(const cfg *c, hf_request *r)
{
    hf_err e = HF_OK;
    if (c->proxy)
        e = hf_request_set_proxy(r, c->proxy);
    if (!e && c->noproxy)
        e = hf_request_set_noproxy(r, c->noproxy);
    if (!e && c->proxy_user) {
        const char *colon = strchr(c->proxy_user, ':');
        char *user = colon ? strndup(c->proxy_user, (size_t)(colon - c->proxy_user))
                           : strdup(c->proxy_user);
        if (!user)
            return HF_E_NOMEM;
        e = hf_request_set_proxy_auth(r, user, colon ? colon + 1 : "",
                                      c->proxy_auth ? (unsigned)c->proxy_auth
                                                    : HF_AUTH_BASIC);
        free(user);
    } else if (!e && c->proxy_auth) { /* for credentials in the proxy's URL */
        e = hf_request_set_proxy_auth(r, NULL, NULL, (unsigned)c->proxy_auth);
    }
    if (!e && c->proxytunnel)
        e = hf_request_set_proxy_tunnel(r, 1);
    for (size_t i = 0; !e && i < c->proxy_headers.n; i++)
        e = hf_request_proxy_header(r, c->proxy_headers.v[i]);
    if (!e && (c->proxy_cacert || c->proxy_capath || c->proxy_insecure))
        e = hf_request_set_proxy_tls(r, c->proxy_cacert, c->proxy_capath,
                                     c->proxy_insecure);
    if (!e && c->preproxy)
        e = hf_request_set_preproxy(r, c->preproxy);
    return e;
}

/* TLS options onto the request; --cert FILE:PASSWORD as curl. */
static hf_err set_tls(const cfg *c, hf_request *r)
{
    hf_err e = hf_request_set_insecure(r, c->insecure);
    if (!e && (c->cacert || c->capath))
        e = hf_request_set_ca(r, c->cacert, c->capath);
    if (!e && (c->tls_min || c->tls_max))
        e = hf_request_set_tls_versions(r, c->tls_min, c->tls_max);
    if (!e && (c->ciphers || c->tls13_ciphers || c->curves))
        e = hf_request_set_ciphers(r, c->ciphers, c->tls13_ciphers, c->curves);
    if (!e && c->pinned)
        e = hf_request_set_pinned_pubkey(r, c->pinned);
    if (!e && c->no_session)
        e = hf_request_set_session_reuse(r, 0);
    if (!e && (c->cert || c->key)) {
        char *cert = NULL;
        const char *pass = NULL;
        if (c->cert) {
            const char *colon = strchr(c->cert, ':');
            cert = xstrndup(c->cert, colon ? (size_t)(colon - c->cert)
                                           : strlen(c->cert));
            pass = colon ? colon + 1 : NULL;
        }
        e = hf_request_set_client_cert(r, cert, c->key, pass);
        free(cert);
    }
    return e;
}


const char *job_method_for(const cfg *c, const body *b)
{
    if (c->method)
        return c->method;
    if (c->head)
        return "HEAD";
    if (b->has_form || (b->has_data && !c->get))
        return "POST";
    return "GET";
}

/* Checks curl's "one request method" rule.  Returns 0 or 2. */
int job_method_conflict(const cfg *c)
{
    const char *a = NULL, *b = NULL;
    static const char put[] = "PUT (-T, --upload-file)";
    if (c->ndata && c->nforms) {
        a = "POST (-d, --data)";
        b = "multipart formpost (-F, --form)";
    } else if (c->uploads.n && (c->ndata || c->nforms || c->head)) {
        a = put;
        b = c->ndata ? "POST (-d, --data)"
            : c->nforms ? "multipart formpost (-F, --form)"
                        : "HEAD (-I, --head)";
    } else if (c->head && c->ndata && !c->get) {
        a = "POST (-d, --data)";
        b = "HEAD (-I, --head)";
    } else if (c->head && c->nforms) {
        a = "multipart formpost (-F, --form)";
        b = "HEAD (-I, --head)";
    } else if (c->get && c->nforms) {
        a = "GET (-G, --get)";
        b = "multipart formpost (-F, --form)";
    }
    if (!a)
        return 0;
    cli_usage("(2) you can only select one HTTP request method! You asked "
              "for both %s and %s.", a, b);
    return HF_E_BAD_ARG;
}

void job_report_write_failure(const output *o, const char *tag)
{
    const char *sep = tag ? ": " : "";
    tag = tag ? tag : "";
    if (o->binary_refused) {
        if (!cli_quiet) {
            fflush(stdout);
            fprintf(stderr, HFLOW_NAME ": %s%sbinary output can mess up your "
                    "terminal; use -o FILE or --output -\n", tag, sep);
        }
    } else if (o->open_failed) {
        cli_error(HF_E_WRITE, "%s%sFailed to open the file %s: %s", tag, sep,
                  o->path, strerror(o->err));
    } else {
        cli_error(HF_E_WRITE, "%s%sFailure writing output to destination%s%s",
                  tag, sep, o->err ? ": " : "", o->err ? strerror(o->err) : "");
    }
}

/* -Z: each failure names its URL, as many run at once. */
static const char *job_tag(const job *j)
{
    return j->st->parallel ? j->url : NULL;
}


/* The Nth -o/-O is the Nth URL's; --output-dir, --create-dirs, -C.
 * Returns 0, or an exit code after the message. */
static int plan_dest(const cfg *c, const char *url, size_t idx, dest *d)
{
    memset(d, 0, sizeof *d);
    static const outspec all = {OUT_REMOTE_NAME, NULL};
    const outspec *os = idx < c->nouts ? &c->outs[idx] : NULL;
    if (!os && c->remote_name_all)
        os = &all;
    if (os && os->kind == OUT_FILE && strcmp(os->path, "-") != 0) {
        d->path = dl_join(c->output_dir, os->path);
    } else if (os && os->kind == OUT_REMOTE_NAME) {
        const char *why = NULL;
        char *name = dl_remote_name(url, &why);
        if (!name && !c->remote_header_name) {
            cli_error(HF_E_WRITE, "%s: %s", why, url);
            return HF_E_WRITE;
        }
        d->cd_name = c->remote_header_name;
        d->no_name = !name;
        /* without a name of its own, the -J file must be named by the
         * server; until then the path only says the directory */
        d->path = dl_join(c->output_dir, name ? name : ".");
        free(name);
    }
    /* "-o /dev/null -w ..." is common: writing there cannot fail and
     * changes nothing, so it is not done */
    d->discard = d->path && strcmp(d->path, "/dev/null") == 0;
    if (d->path && c->create_dirs && !d->discard) {
        char *failed = NULL;
        int err = dl_mkdirs(d->path, &failed);
        if (err) {
            cli_error(HF_E_WRITE, "Failed to create the directory %s: %s",
                      failed, strerror(err));
            free(failed);
            return HF_E_WRITE;
        }
    }
    if (c->resume) {
        struct stat sb;
        if (d->path && stat(d->path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            d->base = (int64_t)sb.st_size;
            d->resuming = 1;
        }
        d->offset = c->resume_current ? d->base : c->resume_from;
        if (d->offset == 0)
            d->base = 0; /* no Range: the file is written anew */
    }
    return 0;
}

/* The exit code of a finished attempt (nothing printed). */
static int attempt_code(const xfer *x, hf_err e)
{
    if (x->range_error)
        return 33; /* curl's CURLE_RANGE_ERROR; the library never says it */
    if (x->name_error || x->failed)
        return HF_E_WRITE;
    if (e)
        return e;
    return x->http_error ? HF_E_HTTP_STATUS : 0;
}

/* The final attempt's failure on stderr; its message into emsg (-w). */
static void report(const xfer *x, hf_err e, const hf_response *resp,
                   const char *url, int code, sbuf *emsg, const char *tag)
{
    if (!code)
        return;
    if (x->failed) {
        /* our side could not write: that is the story, not the library's */
        job_report_write_failure(x->failed, tag);
        sb_adds(emsg, x->failed->binary_refused
                          ? "binary output refused"
                          : "Failure writing output to destination");
        return;
    }
    if (x->range_error) {
        sb_adds(emsg, "HTTP server doesn't seem to support byte ranges. "
                      "Cannot resume.");
    } else if (x->name_error) {
        sb_printf(emsg, "Remote file name has no length: %s", url);
    } else if (e) {
        const char *m = hf_response_errmsg(resp);
        sb_adds(emsg, m && *m ? m : hf_strerror(e));
    } else {
        sb_printf(emsg, "The requested URL returned error: %d", x->status);
    }
    if (tag)
        cli_error(code, "%s: %s", tag, emsg->p);
    else
        cli_error(code, "%s", emsg->p);
}

/* Gets the output and the body ready for another attempt.  Returns 0, or
 * -1 after a warning when the attempt cannot be repeated. */
static int prepare_retry(const cfg *c, xfer *x, output *out, dest *d,
                         const body *b, const body_reader *rd)
{
    const char *why = NULL;
    if (!cli_body_rewindable(b, rd)) {
        why = "the upload from standard input cannot be sent again";
    } else if (out->written && x->resumable && !c->include) {
        /* -C: ask for the rest; what was written stays */
        d->offset += x->body_bytes;
        d->base += x->body_bytes;
        out->written = 0;
    } else if (out->written && output_rewind(out, d->base)) {
        why = out->path ? "the output file cannot be truncated"
                        : "bytes were already written to standard output";
    }
    if (why && !c->silent)
        cli_warn_named("Cannot retry: %s.", why);
    return why ? -1 : 0;
}


void job_free(job *j)
{
    hf_request_free(j->r);
    free(j->full);
    free(j->upurl);
    free(j->d.path);
    free(j->cd_path);
    cli_body_free(&j->up);
}

int job_setup(job *j, run *st, size_t idx)
{
    const cfg *c = st->c;
    memset(j, 0, sizeof *j);
    j->st = st;
    j->url = c->urls.v[idx];
    j->rd.fd = -1;
    const char *upfile = idx < c->uploads.n ? c->uploads.v[idx] : NULL;
    int code = plan_dest(c, j->url, idx, &j->d);
    if (!code && upfile)
        code = cli_upload_build(upfile, &j->up);
    if (code)
        return code;
    j->b = upfile ? &j->up : &st->body;
    j->method = upfile && !c->method ? "PUT" : st->method;
    output_init(&j->out, j->d.path, c->no_buffer);
    j->out.append = j->d.path && j->d.offset > 0;

    j->upurl = upfile ? dl_upload_url(j->url, upfile) : NULL;
    const char *u = j->upurl ? j->upurl : j->url;
    if (c->get && st->query.len)
        j->full = cli_add_query(u, st->query.p);
    j->r = hf_request_new(j->method, j->full ? j->full : u);
    if (!j->r)
        die_nomem();

    const char *bad = NULL;
    hf_err e = set_headers(c, j->b, j->r, &bad);
    if (e) {
        cli_error(e, "cannot use header '%s': %s", bad ? bad : "",
                  hf_strerror(e)); /* the group's: no URL named */
        st->fatal = 1;
        return e;
    }
    hf_request *r = j->r;
    if (c->max_time_ms)
        e = hf_request_set_timeout_ms(r, c->max_time_ms);
    if (!e && c->compressed)
        e = hf_request_set_decompress(r, 1);
    if (!e)
        e = set_tls(c, r);
    if (!e)
        e = set_proxy(c, r);
    if (!e && (c->dns_timeout_ms || c->tls_timeout_ms || c->ttfb_timeout_ms ||
               c->idle_timeout_ms))
        e = hf_request_set_phase_timeouts(r, c->dns_timeout_ms, c->tls_timeout_ms,
                                          c->ttfb_timeout_ms, c->idle_timeout_ms);
    if (!e && (c->speed_limit || c->speed_time))
        e = hf_request_set_speed_limit(r, c->speed_limit ? c->speed_limit : 1,
                                       c->speed_time ? c->speed_time : 30);
    if (!e && c->max_filesize)
        e = hf_request_set_max_filesize(r, c->max_filesize);
    if (!e && c->auth_digest)
        e = hf_request_set_auth_methods(r, HF_AUTH_DIGEST);
    if (!e && c->netrc)
        e = hf_request_set_netrc(r, c->netrc, c->netrc_file);
    if (!e && c->cookie_str && !user_has(c, "Cookie"))
        e = hf_request_header(r, "Cookie", c->cookie_str);
    if (!e && c->bearer && !user_has(c, "Authorization")) {
        size_t n = strlen(c->bearer) + 8;
        char *v = xmalloc(n);
        snprintf(v, n, "Bearer %s", c->bearer);
        e = hf_request_header(r, "Authorization", v);
        free(v);
    }
    if (!e && c->location)
        e = hf_request_set_follow(r, c->max_redirs_set ? c->max_redirs : 30,
                                  c->follow_flags);
    if (!e)
        e = hf_request_set_sink(r, on_body, &j->x);
    if (!e)
        e = hf_request_set_head_fn(r, on_head, &j->x);
    if (!e && c->verbose)
        e = hf_request_set_debug_fn(r, verbose_debug, NULL);
    if (e) {
        if (e == HF_E_NOMEM)
            die_nomem();
        cli_error(e, "cannot set up the request: %s", hf_strerror(e));
        st->fatal = 1;
    }
    return e;
}

int job_attempt_begin(job *j)
{
    run *st = j->st;
    const cfg *c = st->c;
    xfer *x = &j->x;
    memset(x, 0, sizeof *x);
    x->c = c;
    x->out = &j->out;
    x->dump = st->have_dump ? &st->dump : NULL;
    x->rs = &j->rs;
    x->b = j->b;
    x->rd = &j->rd;
    x->method = j->method;
    x->retry_ms = -1;
    x->offset = j->d.offset;
    x->cd_name = j->d.cd_name;
    x->no_name = j->d.no_name;
    x->cd_path = &j->cd_path;
    x->discard = j->d.discard;
    /* no meter when the body itself goes to the terminal (nor with -Z:
     * cli/parallel.c has its own) */
    if (st->meter && !st->parallel && !output_to_terminal(&j->out))
        x->meter = &st->pm;
    hf_err e = HF_OK;
    if (j->d.offset > 0 && !user_has(c, "Range")) {
        char range[48];
        snprintf(range, sizeof range, "bytes=%lld-", (long long)j->d.offset);
        e = hf_request_header(j->r, "Range", range);
    }
    if (!e)
        e = cli_body_attach(j->b, j->r, &j->rd);
    if (e) {
        if (e == HF_E_NOMEM)
            die_nomem();
        if (job_tag(j))
            cli_error(e, "%s: cannot set up the request: %s", j->url,
                      hf_strerror(e));
        else
            cli_error(e, "cannot set up the request: %s", hf_strerror(e));
        st->exitcode = e;
        st->fatal = 1;
        return -1;
    }

    j->before = hf_client_num_connects(st->client);
    if (x->meter)
        progress_begin(x->meter, c->progress_bar ? PROG_BAR : PROG_METER);
    j->started = record_clock(); /* --har's startedDateTime */
    return 0;
}

/* Connections an attempt opened, from its responses (the client's count
 * cannot say when other transfers run at the same time). */
static long opened_by(const hf_response *resp)
{
    long n = 0;
    for (const hf_response *r = resp; r; r = hf_response_previous(r))
        n += hf_response_conn_id(r) >= 0 && !hf_response_reused(r);
    return n;
}

int job_attempt_end(job *j, hf_err e, const hf_response *resp, sbuf *emsg)
{
    run *st = j->st;
    xfer *x = &j->x;
    if (x->meter)
        progress_end(x->meter); /* before any message about the transfer */
    cli_flow_flush(); /* --flow: connections that closed during it */
    cli_body_reader_done(&j->rd);
    if (st->parallel)
        j->connects += opened_by(resp);
    else
        j->connects += hf_client_num_connects(st->client) - j->before;
    int code = attempt_code(x, e);
    if (e == HF_E_NOMEM)
        st->fatal = 1;
    sb_free(emsg);
    report(x, e, resp, j->url, code, emsg, job_tag(j));
    return code;
}

long job_retry(job *j, int code, const hf_response *resp)
{
    const cfg *c = j->st->c;
    const xfer *x = &j->x;
    int http = x->retry_ms >= 0; /* decided when the head came */
    int why = x->retry_why;
    long delay = -1;
    if (code || http) {
        int kind = retry_kind(c, j->method, code, http, resp);
        if (kind == RETRY_HTTP)
            delay = x->retry_ms;
        else if (kind != RETRY_NO)
            delay = retry_delay(&j->rs, c, kind, resp, &why);
        if (delay >= 0 &&
            prepare_retry(c, &j->x, &j->out, &j->d, j->b, &j->rd) == 0) {
            retry_commit(&j->rs, c, kind, delay, job_tag(j));
            return delay;
        }
    }
    if (why == RETRY_WHY_LATE && !c->silent)
        cli_warn_named("%s%sThe Retry-After: time would make this command line "
                       "exceed the maximum allowed time for retries.",
                       job_tag(j) ? j->url : "", job_tag(j) ? ": " : "");
    return -1;
}

int job_finish(job *j, hf_response *resp, int code, sbuf *emsg)
{
    run *st = j->st;
    const cfg *c = st->c;
    output *out = &j->out;
    /* -o FILE with an empty body still creates the file (not after -f) */
    if (!j->d.discard && output_finish(out, !code) && !j->x.failed) {
        job_report_write_failure(out, job_tag(j));
        code = HF_E_WRITE;
        sb_free(emsg);
        sb_adds(emsg, "Failure writing output to destination");
    }
    if (st->have_dump && output_flush(&st->dump) && !j->x.failed) {
        job_report_write_failure(&st->dump, NULL);
        code = HF_E_WRITE;
    }
    /* --remove-on-error: a file this transfer wrote (or, with -C, was
     * continuing, as curl) is not left looking like a download; any other
     * file is not touched -- above all one -J refused to replace */
    if (code && c->remove_on_error && out->path &&
        (out->opened || j->d.resuming) && unlink(out->path) == 0 &&
        c->verbose)
        fprintf(stderr, "* Removed output file: %s\n", out->path);
    if (c->writeout) {
        wo_info wi = {resp, j->url, j->method, out->path, code,
                      sb_cstr(emsg), j->connects, j->rs.count};
        writeout(c->writeout, &wi, stdout);
        fflush(stdout);
    }
    return code;
}
