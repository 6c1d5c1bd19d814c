/* main.c -- hflow, the command-line tool: read the options (-K config
 * files first, then the --next groups), and run the URLs: one after
 * another over one client (so a kept-alive connection is reused), or all
 * at once with -Z (cli/parallel.c).  Each URL is a job (cli/job.c).  The
 * exit code is curl's: the last failing transfer's code (in command-line
 * order, with -Z too), 0 if none failed. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "body.h"
#include "cli.h"
#include "hflow.h"
#include "job.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "record.h"
#include "retry.h"
#include "views.h"

/* ---- one after another -------------------------------------------------- */

/* One attempt, one after another: sends the request and waits for it.
 * Returns its exit code, or -1 (after the message) when the request could
 * not be set up. */
static int job_attempt(job *j, hf_response **resp, sbuf *emsg)
{
    if (job_attempt_begin(j) < 0)
        return -1;
    hf_err e = hf_send(j->st->client, j->r, resp);
    if (!*resp)
        die_nomem();
    return job_attempt_end(j, e, *resp, emsg);
}

/* --rate without -Z: a transfer starts no sooner than 1/rate s after the
 * one before it started (retries keep their own delays, as curl's). */
static double serial_rate;

static void rate_wait(void)
{
    static struct timespec last;
    static int started;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (serial_rate > 0 && started) {
        double gap = 1.0 / serial_rate;
        double since = (double)(now.tv_sec - last.tv_sec) +
                       (double)(now.tv_nsec - last.tv_nsec) / 1e9;
        if (since < gap) {
            retry_sleep((long)((gap - since) * 1000.0 + 0.5));
            clock_gettime(CLOCK_MONOTONIC, &now);
        }
    }
    last = now;
    started = 1;
}

static void transfer(run *st, size_t idx)
{
    job j;
    rate_wait();
    sbuf emsg = {0};
    int code = job_setup(&j, st, idx);
    if (code) {
        st->exitcode = code;
        output_finish(&j.out, 0);
        job_free(&j);
        return;
    }
    hf_response *resp = NULL;
    retry_start(&j.rs, st->c);
    for (;;) {
        code = job_attempt(&j, &resp, &emsg);
        if (code < 0)
            goto out;
        long delay = job_retry(&j, code, resp);
        if (delay < 0)
            break;
        if (st->c->stat)
            cli_stat_print(resp);
        if (!record_keep(resp, j.started)) /* --har keeps every attempt */
            hf_response_free(resp);
        resp = NULL;
        retry_sleep(delay);
    }
    code = job_finish(&j, resp, code, &emsg);
    if (st->c->stat)
        cli_stat_print(resp);
    if (code)
        st->exitcode = code;
    if (!record_keep(resp, j.started))
        hf_response_free(resp);
out:
    if (code < 0)
        output_finish(&j.out, 0);
    job_free(&j);
    sb_free(&emsg);
}


/* -c FILE: written when the run ends. */
static char *cookie_jar_out;

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
        e = hf_client_set_tcp_quickack(client, c->tcp_quickack);
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
    if (!e && c->cookie_file) {
        e = c->cookie_file[0]
                ? hf_client_cookies_load(client, c->cookie_file, c->junk_session)
                : hf_client_cookies_enable(client);
        if (e && e != HF_E_NOMEM)
            cli_error(e, "cannot read the cookie file '%s'", c->cookie_file);
    }
    if (!e && c->cookie_jar) {
        e = hf_client_cookies_enable(client);
        free(cookie_jar_out);
        cookie_jar_out = xstrndup(c->cookie_jar, strlen(c->cookie_jar));
    }
    if (e == HF_E_NOMEM)
        die_nomem();
    return e;
}

/* One group of options and URLs (curl's -:, --next separates them); the
 * client, and so its pooled connections, is shared by all groups. */
typedef struct group {
    cfg c;
    run st;
    int parsed, started;
} group;

/* Parses a group's options.  Returns 0, -1 when help or version was
 * printed, or an exit code after the message. */
static int group_parse(group *g, int argc, char **argv)
{
    int rc = args_parse(&g->c, argc, argv);
    if (rc) {
        fflush(stdout);
        args_free(&g->c);
        return rc < 0 ? -1 : rc;
    }
    g->parsed = 1;
    return job_method_conflict(&g->c);
}

/* Readies a group to run: its body, its client-wide options, --har and
 * --trace-json, -D.  Returns 0 or an exit code (after the message). */
static int group_start(group *g, hf_client *client)
{
    cfg *c = &g->c;
    run *st = &g->st;
    cli_quiet = c->silent && !c->show_error;
    memset(st, 0, sizeof *st);
    st->c = c;
    st->client = client;
    st->meter = !c->silent && !c->verbose && !c->no_progress && progress_tty();
    g->started = 1;
    int rc = cli_body_build(c, c->urls.n, &st->body, &st->query);
    if (rc)
        return rc;
    st->method = job_method_for(c, &st->body);
    hf_err e = configure_client(c, client);
    if (!e && c->flow)
        cli_flow_enable(client);
    if (!e)
        e = (hf_err)record_setup(c, client); /* --har, --trace-json */
    if (e)
        return e;
    if (c->dump_header) {
        output_init(&st->dump, c->dump_header, c->no_buffer);
        st->have_dump = 1;
    }
    return 0;
}

/* After a group ran: -D closed; its exit code (0 if none failed) into
 * *exitcode.  Returns 0 to go on, else the code that ends the command. */
static int group_end(group *g, int *exitcode)
{
    run *st = &g->st;
    if (st->have_dump && output_finish(&st->dump, 0)) {
        job_report_write_failure(&st->dump, NULL);
        st->exitcode = HF_E_WRITE;
    }
    if (st->exitcode)
        *exitcode = st->exitcode;
    return st->fatal ? st->exitcode : 0;
}

static void group_free(group *g)
{
    if (g->started) {
        cli_body_free(&g->st.body);
        sb_free(&g->st.query);
    }
    if (g->parsed)
        args_free(&g->c);
}

static int run_serial(group *gs, size_t n, hf_client *client, int *exitcode)
{
    for (size_t i = 0; i < n; i++) {
        int rc = group_start(&gs[i], client);
        if (rc)
            return rc;
        for (size_t u = 0; u < gs[i].c.urls.n && !gs[i].st.fatal; u++)
            transfer(&gs[i].st, u);
        rc = group_end(&gs[i], exitcode);
        if (rc)
            return rc;
    }
    return 0;
}

/* -Z: every group is readied first (client-wide options of later groups
 * then apply to all), then all their URLs run at once. */
static int run_parallel(group *gs, size_t n, hf_client *client,
                        const par_opts *po, int *exitcode)
{
    run **rs = xcalloc(n, sizeof *rs);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = group_start(&gs[i], client);
        rs[i] = &gs[i].st;
    }
    if (!rc)
        parallel_run(client, rs, n, po);
    free(rs);
    for (size_t i = 0; i < n && !rc; i++)
        if (gs[i].started) {
            int end = group_end(&gs[i], exitcode);
            if (end && !rc)
                rc = end;
        }
    return rc;
}

/* The options of the whole command line (the last group that sets one
 * wins): -Z and its limits, --rate. */
static int whole_run_options(const group *gs, size_t n, par_opts *po)
{
    int parallel = 0;
    memset(po, 0, sizeof *po);
    po->meter = progress_tty();
    for (size_t i = 0; i < n; i++) {
        const cfg *c = &gs[i].c;
        parallel |= c->parallel;
        if (c->parallel_max)
            po->max = c->parallel_max;
        if (c->per_host_max_set)
            po->per_host = c->per_host_max;
        if (c->rate_set)
            po->rate = c->rate;
        if (c->silent)
            po->quiet = 1;
        if (c->silent || c->verbose || c->no_progress)
            po->meter = 0;
        /* no line between the pieces of a body on the same terminal */
        if (isatty(1) && c->nouts < c->urls.n && !c->remote_name_all)
            po->meter = 0;
    }
    if (!po->max)
        po->max = ARGS_PARALLEL_DEFAULT;
    return parallel;
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
    int exitcode = args_expand(&argc, &argv); /* -K files */
    if (exitcode) {
        args_expand_free();
        return exitcode;
    }
    hf_client *client = hf_client_new();
    if (!client)
        die_nomem();

    /* argv[start..i) is one group; its argv[0] is ours */
    group *gs = NULL;
    size_t ng = 0;
    int rc = 0, start = 1;
    for (int i = 1; i <= argc && !rc; i++) {
        if (i < argc && !is_next(argv[i]))
            continue;
        gs = xrealloc(gs, (ng + 1) * sizeof *gs);
        memset(&gs[ng], 0, sizeof gs[ng]);
        char *saved = argv[start - 1];
        argv[start - 1] = argv[0];
        rc = group_parse(&gs[ng++], i - start + 1, argv + start - 1);
        argv[start - 1] = saved;
        start = i + 1;
    }
    if (!rc) {
        par_opts po;
        if (whole_run_options(gs, ng, &po)) {
            rc = run_parallel(gs, ng, client, &po, &exitcode);
        } else {
            serial_rate = po.rate;
            rc = run_serial(gs, ng, client, &exitcode);
        }
    }
    if (rc > 0)
        exitcode = rc;

    if (fflush(stdout) || ferror(stdout)) {
        if (!exitcode) {
            cli_error(HF_E_WRITE, "Failure writing output to destination");
            exitcode = HF_E_WRITE;
        }
    }
    /* close the idle connections while --flow still listens, so their
     * teardown is in the diagrams */
    hf_client_close_idle(client, 100);
    if (cookie_jar_out) {
        hf_err ce = hf_client_cookies_save(client, cookie_jar_out);
        if (ce) {
            cli_error(HF_E_WRITE, "cannot write the cookie jar '%s'", cookie_jar_out);
            if (!exitcode)
                exitcode = HF_E_WRITE;
        }
        free(cookie_jar_out);
        cookie_jar_out = NULL;
    }
    cli_flow_finish();
    hf_client_free(client);
    /* after the teardown's events: --trace-json closed, --har written */
    int rec = record_finish();
    if (rec && !exitcode)
        exitcode = rec;
    for (size_t i = 0; i < ng; i++)
        group_free(&gs[i]);
    free(gs);
    args_expand_free();
    return exitcode;
}
