/* args.h -- hflow's command line: the option table, the parsed
 * configuration and the help and version texts.  The flag names, meanings
 * and exit codes follow curl's. */
#ifndef HFLOW_ARGS_H
#define HFLOW_ARGS_H

#include "cli.h"

/* --parallel-max: curl's default, and the most hflow takes (curl's too;
 * larger values are clamped). */
#define ARGS_PARALLEL_DEFAULT 50
#define ARGS_PARALLEL_LIMIT 65535

/* Where one URL's body goes: -o FILE ("-" is stdout) or -O. */
enum { OUT_FILE = 0, OUT_REMOTE_NAME };
typedef struct outspec {
    int kind;
    const char *path; /* OUT_FILE */
} outspec;

/* The data options, in the order given. */
enum {
    DATA_ASCII = 0, /* -d, --data-ascii: @file strips CR and LF */
    DATA_BINARY,    /* --data-binary: @file as-is */
    DATA_RAW,       /* --data-raw: no @ */
    DATA_URLENCODE, /* --data-urlencode */
    DATA_JSON       /* --json: as --data-binary, no '&' separator */
};
typedef struct datapiece {
    int kind;
    const char *arg;
} datapiece;

/* -F (may read files) or --form-string (literal value). */
typedef struct formarg {
    int literal;
    const char *arg;
} formarg;

typedef struct cfg {
    const char *method;      /* -X, or NULL */
    strvec headers;          /* -H lines (already expanded from @file) */
    datapiece *data;         /* -d and friends */
    size_t ndata, capdata;
    formarg *forms;          /* -F / --form-string */
    size_t nforms, capforms;
    strvec urls;
    outspec *outs;           /* -o / -O in order: the Nth is the Nth URL's */
    size_t nouts, capouts;
    strvec resolves;         /* --resolve */
    const char *dump_header; /* -D */
    const char *user_agent;  /* -A ("" removes the header) */
    const char *referer;     /* -e */
    const char *user;        /* -u */
    const char *writeout;    /* -w (already read from @file) */
    const char *har;         /* --har FILE (cli/record.c) */
    const char *trace_json;  /* --trace-json FILE (cli/record.c) */
    long max_time_ms;        /* -m, 0 = none */
    long connect_timeout_ms; /* --connect-timeout, 0 = default */
    int ip_family;           /* -4 / -6 */
    int get, head, include, silent, show_error, fail, fail_with_body;
    int verbose, compressed, remote_name_all, no_buffer;
    int location;            /* -L */
    const char *cookie_str;  /* -b NAME=VAL */
    const char *cookie_file; /* -b FILE */
    const char *cookie_jar;  /* -c FILE */
    int junk_session;        /* -j */
    int auth_digest;         /* --digest */
    int netrc;               /* 0, 1 -n, 2 --netrc-optional */
    const char *netrc_file;
    const char *bearer;      /* --oauth2-bearer */
    long dns_timeout_ms, tls_timeout_ms, ttfb_timeout_ms, idle_timeout_ms;
    long speed_limit, speed_time;   /* -Y, -y */
    int64_t max_filesize;
    long max_redirs;         /* --max-redirs (30 unless set) */
    int max_redirs_set;
    unsigned follow_flags;   /* --post30x, --location-trusted */
    int no_progress;         /* --no-progress-meter */
    int flow;                /* --flow: a sequence diagram per connection */
    int stat;                /* --stat: a waterfall per transfer */
    int progress_bar;        /* -#, --progress-bar */
    /* TLS */
    int insecure;            /* -k */
    const char *cacert, *capath, *ciphers, *tls13_ciphers, *curves;
    const char *cert, *key, *pinned;
    int tls_min, tls_max;    /* 0, 12, 13 */
    int no_session;          /* --no-sessionid */
    /* DNS */
    const char *dns_servers; /* --dns-servers */
    int dns_system;          /* --dns system */
    long he_ms;              /* --happy-eyeballs-timeout-ms */
    int he_set;
    const char *resolv_conf, *hosts_file;
    int tcp_quickack;        /* --tcp-quickack: the handshake's ACK alone */
    /* Downloads and uploads (cli/download.c) */
    int remote_header_name;  /* -J: the file name from Content-Disposition */
    const char *output_dir;  /* --output-dir */
    int create_dirs;         /* --create-dirs */
    int remove_on_error;     /* --remove-on-error */
    int resume;              /* -C given */
    int resume_current;      /* -C -: from the output file's size */
    int64_t resume_from;     /* -C OFFSET */
    strvec uploads;          /* -T FILE: the Nth is the Nth URL's */
    /* Retries (cli/retry.c) */
    long retry;              /* --retry N */
    long retry_delay_ms;     /* --retry-delay; 0 = exponential backoff */
    long retry_max_time_ms;  /* --retry-max-time; 0 = no limit */
    int retry_all_errors;    /* --retry-all-errors */
    int retry_connrefused;   /* --retry-connrefused */
    /* Proxies */
    const char *proxy;       /* -x ("" : none, NULL: the environment) */
    const char *noproxy;     /* --noproxy */
    const char *proxy_user;  /* -U user:password */
    int proxy_auth;          /* HF_AUTH_* from --proxy-basic/--proxy-digest */
    int proxytunnel;         /* -p */
    strvec proxy_headers;    /* --proxy-header */
    const char *proxy_cacert, *proxy_capath;
    int proxy_insecure;
    const char *preproxy;
    /* Many transfers at once (cli/parallel.c).  These are options of the
     * whole command line: the last group (--next) that sets one wins. */
    int parallel;            /* -Z, --parallel */
    long parallel_max;       /* --parallel-max (0: not given; default 50) */
    int parallel_immediate;  /* --parallel-immediate (no effect over
                              * HTTP/1.1, which has no multiplexing) */
    long per_host_max;       /* --per-host-max: transfers to one host at
                              * once (0: not given) */
    int per_host_max_set;
    double rate;             /* --rate: transfer starts a second (0 none) */
    int rate_set;
    /* Storage owned by the configuration (files read for -H @, -w @). */
    strvec owned;
} cfg;

/* Parses argv into c.  Returns 0 to go on, -1 when help or version was
 * printed (exit 0), or an exit code (2) after printing the message. */
int args_parse(cfg *c, int argc, char **argv);
/* curl's -K/--config FILE ("-": standard input), nested up to 16 deep:
 * replaces *argv by a vector where each config file's options stand in
 * place of the -K option that named it (one element per option, in the
 * --opt=VALUE form for long options), so args_parse and --next groups see
 * them as if typed.  Unknown options and missing or extra parameters in a
 * file are reported with the file's name and line (exit 2); a file that
 * cannot be read is exit 26.  Returns 0 or the exit code after the
 * message.  The new vector lives until args_expand_free(). */
int args_expand(int *argc, char ***argv);
void args_expand_free(void);
void args_free(cfg *c);
void args_help(FILE *f);
void args_version(FILE *f);

#endif
