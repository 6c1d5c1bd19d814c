/* main.c -- hflow, the command-line tool: parse the options, build one
 * request per URL, send them in order over one client (so a kept-alive
 * connection is reused), write heads and bodies where they belong, and
 * exit with curl's codes: the last failing transfer's code, 0 if none. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "body.h"
#include "cli.h"
#include "hflow.h"
#include "output.h"
#include "progress.h"
#include "record.h"
#include "views.h"
#include "writeout.h"

/* Everything one transfer's callbacks need. */
typedef struct xfer {
    const cfg *c;
    output *out;      /* the body's destination */
    output *dump;     /* -D, or NULL */
    output *failed;   /* the output whose write failed, if any */
    progress *meter;  /* the progress meter, or NULL */
    int http_error;   /* -f/--fail-with-body and status >= 400 */
    int status;
} xfer;

static int on_head(void *arg, const hf_response *resp)
{
    xfer *x = arg;
    const cfg *c = x->c;
    x->status = hf_response_status(resp);
    if (x->status >= 400 && (c->fail || c->fail_with_body))
        x->http_error = 1;
    if (x->http_error && c->fail)
        return HF_HEAD_DISCARD; /* -f: nothing of the reply is shown */
    if (x->meter)
        progress_head(x->meter, resp,
                      c->head || (c->method && !strcmp(c->method, "HEAD")),
                      c->compressed);

    size_t len = 0;
    const char *raw = NULL;
    if (x->dump || c->include || c->head)
        raw = hf_response_head_raw(resp, &len);
    if (x->dump && raw && output_write(x->dump, raw, len)) {
        x->failed = x->dump;
        return HF_HEAD_ABORT;
    }
    if ((c->include || c->head) && raw && output_write(x->out, raw, len)) {
        x->failed = x->out;
        return HF_HEAD_ABORT;
    }
    /* -I shows the head only, whatever the method was */
    return c->head ? HF_HEAD_DISCARD : HF_HEAD_CONTINUE;
}

static int on_body(void *arg, const void *data, size_t len)
{
    xfer *x = arg;
    if (output_body(x->out, data, len)) {
        x->failed = x->out;
        return 1;
    }
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

/* ---- -O ---------------------------------------------------------------- */

/* The last segment of the URL's path, or NULL (with why) when it cannot
 * be a file name. */
static char *remote_name(const char *url, const char **why)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth = strcspn(p, "/?#");
    p += auth;
    size_t plen = *p == '/' ? strcspn(p, "?#") : 0;
    const char *last = p;
    for (size_t i = 0; i < plen; i++)
        if (p[i] == '/')
            last = p + i + 1;
    size_t n = plen ? (size_t)(p + plen - last) : 0;
    if (n == 0) {
        *why = "Remote file name has no length";
        return NULL;
    }
    if ((n == 1 && last[0] == '.') || (n == 2 && last[0] == '.' &&
                                       last[1] == '.')) {
        *why = "Remote file name is not usable";
        return NULL;
    }
    return xstrndup(last, n);
}

/* ---- the flow ---------------------------------------------------------- */

typedef struct run {
    cfg *c;
    hf_client *client;
    body body;
    sbuf query;
    const char *method;
    output dump;
    int have_dump;
    int exitcode;  /* the last failing transfer's code */
    int fatal;     /* stop before the next URL */
    int meter;     /* the progress meter may be shown (stderr a terminal) */
    progress pm;
} run;

static const char *method_for(const cfg *c, const body *b)
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
static int method_conflict(const cfg *c)
{
    const char *a = NULL, *b = NULL;
    if (c->ndata && c->nforms) {
        a = "POST (-d, --data)";
        b = "multipart formpost (-F, --form)";
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

static void report_write_failure(const output *o)
{
    if (o->binary_refused) {
        if (!cli_quiet) {
            fflush(stdout);
            fputs(HFLOW_NAME ": binary output can mess up your terminal; "
                  "use -o FILE or --output -\n", stderr);
        }
    } else if (o->open_failed) {
        cli_error(HF_E_WRITE, "Failed to open the file %s: %s", o->path,
                  strerror(o->err));
    } else {
        cli_error(HF_E_WRITE, "Failure writing output to destination%s%s",
                  o->err ? ": " : "", o->err ? strerror(o->err) : "");
    }
}

static void transfer(run *st, size_t idx)
{
    const cfg *c = st->c;
    const char *url = c->urls.v[idx];
    char *fname = NULL;
    int code = 0;
    sbuf emsg = {0};

    /* where the body goes: the Nth -o/-O is the Nth URL's */
    const outspec *os = idx < c->nouts ? &c->outs[idx] : NULL;
    outspec all = {OUT_REMOTE_NAME, NULL};
    if (!os && c->remote_name_all)
        os = &all;
    const char *path = NULL;
    if (os && os->kind == OUT_FILE) {
        path = os->path;
    } else if (os) {
        const char *why = NULL;
        fname = remote_name(url, &why);
        if (!fname) {
            cli_error(HF_E_WRITE, "%s: %s", why, url);
            st->exitcode = HF_E_WRITE;
            return;
        }
        path = fname;
    }
    output out;
    output_init(&out, path, c->no_buffer);

    char *full = NULL;
    if (c->get && st->query.len)
        full = cli_add_query(url, st->query.p);
    hf_request *r = hf_request_new(st->method, full ? full : url);
    if (!r)
        die_nomem();

    const char *bad = NULL;
    body_reader rd;
    hf_err e = set_headers(c, &st->body, r, &bad);
    if (e) {
        cli_error(e, "cannot use header '%s': %s", bad ? bad : "",
                  hf_strerror(e));
        st->exitcode = e;
        st->fatal = 1;
        goto done_noreq;
    }
    e = cli_body_attach(&st->body, r, &rd);
    if (!e && c->max_time_ms)
        e = hf_request_set_timeout_ms(r, c->max_time_ms);
    if (!e && c->compressed)
        e = hf_request_set_decompress(r, 1);
    if (!e)
        e = set_tls(c, r);
    if (!e && (c->dns_timeout_ms || c->tls_timeout_ms || c->ttfb_timeout_ms ||
               c->idle_timeout_ms))
        e = hf_request_set_phase_timeouts(r, c->dns_timeout_ms, c->tls_timeout_ms,
                                          c->ttfb_timeout_ms, c->idle_timeout_ms);
    if (!e && (c->speed_limit || c->speed_time))
        e = hf_request_set_speed_limit(r, c->speed_limit ? c->speed_limit : 1,
                                       c->speed_time ? c->speed_time : 30);
    if (!e && c->max_filesize)
        e = hf_request_set_max_filesize(r, c->max_filesize);
    if (!e && c->location)
        e = hf_request_set_follow(r, c->max_redirs_set ? c->max_redirs : 30,
                                  c->follow_flags);
    xfer x = {c, &out, st->have_dump ? &st->dump : NULL, NULL, NULL, 0, 0};
    /* no meter when the body itself goes to the terminal */
    if (st->meter && !output_to_terminal(&out))
        x.meter = &st->pm;
    if (!e)
        e = hf_request_set_sink(r, on_body, &x);
    if (!e)
        e = hf_request_set_head_fn(r, on_head, &x);
    if (!e && c->verbose)
        e = hf_request_set_debug_fn(r, verbose_debug, NULL);
    if (e) {
        if (e == HF_E_NOMEM)
            die_nomem();
        cli_error(e, "cannot set up the request: %s", hf_strerror(e));
        st->exitcode = e;
        st->fatal = 1;
        cli_body_reader_done(&rd);
        goto done_noreq;
    }

    long before = hf_client_num_connects(st->client);
    hf_response *resp = NULL;
    if (x.meter)
        progress_begin(x.meter, c->progress_bar ? PROG_BAR : PROG_METER);
    double started = record_clock(); /* --har's startedDateTime */
    e = hf_send(st->client, r, &resp);
    if (x.meter)
        progress_end(x.meter); /* before any message about the transfer */
    cli_flow_flush(); /* --flow: connections that closed during it */
    cli_body_reader_done(&rd);
    if (!resp)
        die_nomem();
    long connects = hf_client_num_connects(st->client) - before;

    if (x.failed) {
        /* our side could not write: that is the story, not the library's */
        code = HF_E_WRITE;
        report_write_failure(x.failed);
        if (x.failed->binary_refused)
            sb_adds(&emsg, "binary output refused");
        else
            sb_adds(&emsg, "Failure writing output to destination");
    } else if (e) {
        code = e;
        const char *m = hf_response_errmsg(resp);
        if (!m || !*m)
            m = hf_strerror(e);
        sb_adds(&emsg, m);
        cli_error(code, "%s", m);
        if (e == HF_E_NOMEM)
            st->fatal = 1;
    } else if (x.http_error) {
        code = HF_E_HTTP_STATUS;
        sb_printf(&emsg, "The requested URL returned error: %d", x.status);
        cli_error(code, "%s", emsg.p);
    }

    /* -o FILE with an empty body still creates the file (not after -f) */
    int create = !code;
    if (output_finish(&out, create) && !x.failed) {
        report_write_failure(&out);
        code = HF_E_WRITE;
        sb_free(&emsg);
        sb_adds(&emsg, "Failure writing output to destination");
    }
    if (st->have_dump && output_flush(&st->dump) && !x.failed) {
        report_write_failure(&st->dump);
        code = HF_E_WRITE;
    }

    if (c->writeout) {
        wo_info wi = {resp, url, st->method, path, code, sb_cstr(&emsg),
                      connects};
        writeout(c->writeout, &wi, stdout);
        fflush(stdout);
    }
    if (c->stat)
        cli_stat_print(resp);
    if (code)
        st->exitcode = code;
    if (!record_keep(resp, started)) /* --har keeps it to the end */
        hf_response_free(resp);
    hf_request_free(r);
    free(full);
    free(fname);
    sb_free(&emsg);
    return;

done_noreq:
    output_finish(&out, 0);
    hf_request_free(r);
    free(full);
    free(fname);
    sb_free(&emsg);
}

/* Apply a group's client-wide options (--resolve, -4/-6, DNS, ...). */
static hf_err configure_client(const cfg *c, hf_client *client)
{
    hf_err e = HF_OK;
    for (size_t i = 0; i < c->resolves.n && !e; i++) {
        e = hf_client_resolve(client, c->resolves.v[i]);
        if (e)
            cli_error(e, "cannot use --resolve '%s': %s", c->resolves.v[i],
                      hf_strerror(e));
    }
    if (!e)
        e = hf_client_set_ip_family(client, c->ip_family);
    if (!e)
        e = hf_client_set_connect_timeout_ms(client, c->connect_timeout_ms);
    if (!e && c->he_set)
        e = hf_client_set_happy_eyeballs_ms(client, c->he_ms);
    if (!e)
        e = hf_client_set_dns_system(client, c->dns_system);
    if (!e && (c->resolv_conf || c->hosts_file))
        e = hf_client_set_dns_files(client, c->resolv_conf, c->hosts_file);
    if (!e && c->dns_servers) {
        e = hf_client_set_dns_servers(client, c->dns_servers);
        if (e == HF_E_BAD_ARG)
            cli_error(e, "cannot use --dns-servers '%s': expected "
                      "ADDR[:PORT][,ADDR[:PORT]...]", c->dns_servers);
    }
    if (e == HF_E_NOMEM)
        die_nomem();
    return e;
}

/* One group of options and URLs (curl's -:, --next separates them); the
 * client, and so its pooled connections, is shared by all groups.
 * Returns 0 to go on, else an exit code that ends the command. */
static int run_group(hf_client *client, int argc, char **argv, int *exitcode)
{
    cfg c;
    int rc = args_parse(&c, argc, argv);
    if (rc) {
        fflush(stdout);
        args_free(&c);
        return rc < 0 ? -1 : rc;
    }
    cli_quiet = c.silent && !c.show_error;
    rc = method_conflict(&c);
    if (rc) {
        args_free(&c);
        return rc;
    }
    run st;
    memset(&st, 0, sizeof st);
    st.c = &c;
    st.client = client;
    st.meter = !c.silent && !c.verbose && !c.no_progress && progress_tty();
    rc = cli_body_build(&c, c.urls.n, &st.body, &st.query);
    if (rc)
        goto out;
    st.method = method_for(&c, &st.body);
    hf_err e = configure_client(&c, client);
    if (!e && c.flow)
        cli_flow_enable(client);
    if (!e)
        e = (hf_err)record_setup(&c, client); /* --har, --trace-json */
    if (e) {
        rc = e;
        goto out;
    }
    if (c.dump_header) {
        output_init(&st.dump, c.dump_header, c.no_buffer);
        st.have_dump = 1;
    }
    for (size_t i = 0; i < c.urls.n && !st.fatal; i++)
        transfer(&st, i);
    if (st.have_dump && output_finish(&st.dump, 0)) {
        report_write_failure(&st.dump);
        st.exitcode = HF_E_WRITE;
    }
    if (st.exitcode)
        *exitcode = st.exitcode;
    rc = st.fatal ? st.exitcode : 0;
out:
    cli_body_free(&st.body);
    sb_free(&st.query);
    args_free(&c);
    return rc;
}

static int is_next(const char *a)
{
    return strcmp(a, "--next") == 0 || strcmp(a, "-:") == 0;
}

int main(int argc, char **argv)
{
    /* a closed pipe is a write error (23), not a silent death */
    signal(SIGPIPE, SIG_IGN);
    output_stdout_init();
    hf_client *client = hf_client_new();
    if (!client)
        die_nomem();
    int exitcode = 0, start = 1;
    for (int i = 1; i <= argc; i++) {
        if (i < argc && !is_next(argv[i]))
            continue;
        /* argv[start..i) is one group; its argv[0] is ours */
        char *saved = argv[start - 1];
        argv[start - 1] = argv[0];
        int rc = run_group(client, i - start + 1, argv + start - 1, &exitcode);
        argv[start - 1] = saved;
        if (rc) {
            if (rc > 0)
                exitcode = rc;
            break;
        }
        start = i + 1;
    }
    if (fflush(stdout) || ferror(stdout)) {
        if (!exitcode) {
            cli_error(HF_E_WRITE, "Failure writing output to destination");
            exitcode = HF_E_WRITE;
        }
    }
    /* close the idle connections while --flow still listens, so their
     * teardown is in the diagrams */
    hf_client_close_idle(client, 100);
    cli_flow_finish();
    hf_client_free(client);
    /* after the teardown's events: --trace-json closed, --har written */
    int rec = record_finish();
    if (rec && !exitcode)
        exitcode = rec;
    return exitcode;
}
