/* internal.h -- the library's shared types: client, request, response,
 * connection.  Not installed; include/hflow.h is the only public header. */
#ifndef HF_INTERNAL_H
#define HF_INTERNAL_H
#include "hflow.h"
#include "buf.h"
#include "filter.h"
#include "trace.h"
#include "loop.h"
#include "url.h"
#include <netinet/in.h>
#include <sys/socket.h>

#define HF_UA "hflow/" HF_VERSION
#define CONN_RBUF (320 * 1024)   /* read buffer at most: > H1_MAX_HEAD, and
                                  * big reads for fast downloads */
#define CONN_RBUF0 (4 * 1024)   /* ... at first: thousands of connections
                                  * that carry small answers stay small */
#define POOL_MAX_IDLE 16          /* idle connections kept per client */
#define POOL_MAX_PER_HOST 4       /* ... for one scheme, host and port */
#define CLOSE_SOON_NS 50000000u   /* a server's FIN within 50 ms of the
                                   * response: it closed "right after" */
#define CLOSE_RUN 1               /* that many in a row: it always does
                                   * (one: a POST sent on such a
                                   * connection fails, it cannot be
                                   * retried) */
#define POOL_MAX_AGE_S 118        /* idle longer: closed (curl's default) */

/* One resolved address. */
typedef struct hf_addr {
    struct sockaddr_storage sa;
    socklen_t len;
} hf_addr;

/* A --resolve entry. */
typedef struct resolve_ent {
    char *host;
    int port;
    hf_addr *addrs;
    size_t naddrs;
    struct resolve_ent *next;
} resolve_ent;

/* A TCP connection, in use by a transfer or idle in the pool. */
typedef struct conn {
    int fd;
    filter *top;             /* the layer HTTP talks to (tcp, or tls) */
    int is_tls;
    char tls_version[16], tls_cipher[64];
    long tls_verify;
    int tls_ncerts;
    char *tls_certs;         /* the chain as text, for reused connections */
    long id;                 /* #N, counted per client from 0 */
    char *key;               /* "scheme://host:port" it was made for */
    char local[64], remote[64];   /* "ip:port" / "[ip6]:port" */
    char remote_ip[48];
    int remote_port;
    char *rbuf;              /* rcap bytes */
    size_t rlen;             /* bytes held in rbuf */
    size_t rcap;             /* CONN_RBUF0, grown to CONN_RBUF */
    struct conn *next;       /* idle or closing list */
    struct hf_trace *tr;     /* the trace of the transfer using it, or NULL */
    long xfer;               /* that transfer's number */
    uint64_t t0;             /* and when it was queued */
    int fin_received, rst_received, fin_sent;
    int server_first;        /* waiting for the server's FIN before ours */
    uint64_t tm_close;       /* the wait for the other FIN */
    char reason[96];         /* why it closes */
    struct hf_client *client;  /* owner, while idle */
    uint64_t idle_since;     /* when it went back to the pool */
    int dead;                /* idle, seen closed: the loop tears it down */
    int retiring;            /* idle, but left for the server to close
                              * (see pool_put) */
    int lowat;               /* SO_RCVLOWAT set on fd, > 1 while a big
                              * body is read (transfer.c, lowat_*) */
} conn;

struct hf_client {
    loop *lp;
    resolve_ent *resolves;
    int family;              /* 0, 4, 6 */
    long connect_timeout_ms;
    long num_connects;
    long next_conn_id;
    conn *idle;              /* idle connections, newest first */
    struct tls_client *tls;  /* made at the first https request */
    struct resolver *res;    /* the stub resolver, made at the first name */
    char *dns_servers;       /* --dns-servers */
    char *resolv_conf, *hosts_file;
    int dns_system;          /* --dns system */
    long he_delay_ms;        /* happy eyeballs attempt delay (200) */
    int tcp_quickack;        /* the handshake's ACK alone (see connect.c) */
    hf_event_fn *event_fn;   /* every event, as it happens */
    void *event_arg;
    long next_transfer;      /* numbers the transfers */
    struct conn *closing;    /* connections waiting for the server's FIN */
    struct cookie_jar *jar;  /* the cookie engine, or NULL when off */
    int nidle;
    int pool_per_host, pool_max;  /* idle connections kept */
    char idle_closed[256];   /* key of the last idle connection the
                              * server closed */
    int close_run;           /* how many in a row of that key it closed
                              * right after their responses */
    uint64_t tm_retire;      /* checks the retiring idle connections */
    int ndead;               /* idle connections seen closed, to close */
    struct multi *m;         /* submitted transfers (multi.c) */
};

/* A submitted request (multi.c schedules it, transfer.c runs its hops). */
enum { JOB_DELAYED, JOB_QUEUED, JOB_RUNNING, JOB_ENDED, JOB_FINISHED };
struct hf_transfer {
    hf_client *c;
    hf_request *rq;
    hf_done_fn *done;
    void *arg;
    int state;               /* JOB_* */
    int cancelled, paused;
    int sync;                /* hf_send's: nobody could resume a pause */
    int in_done;             /* on the list of ended hops */
    struct host_ent *host;   /* for the per-host limits and rate */
    struct hf_transfer *next, *prev;  /* its host's queue / running list */
    struct hf_transfer *dnext;        /* the list of ended hops */
    uint64_t tm_delay;       /* hf_submit_delayed */
    struct transfer *t;      /* the running hop, or NULL */
    struct hops *hs;         /* transfer.c: what passes from hop to hop */
    hf_response *rs;         /* the final response */
    hf_err err;
};
/* transfer.c: start the first hop; after a hop ended, finish it and start
 * the next or end (1: ended, j->rs and j->err set, state freed). */
int job_start(struct hf_transfer *j);
int job_next(struct hf_transfer *j);
void job_cancel(struct hf_transfer *j, hf_err e, const char *why);
void job_resume(struct hf_transfer *j);
void job_free_state(struct hf_transfer *j);
/* multi.c: a hop of j ended (from inside a handler: handled later). */
void multi_hop_ended(struct hf_transfer *j);
void multi_free(hf_client *c);

typedef struct req_hdr {
    char *name;
    char *value;             /* NULL: remove the default */
} req_hdr;

struct hf_request {
    char *method;
    char *url;
    req_hdr *hdrs;
    size_t nhdrs;
    char *auth_user, *auth_pass;  /* Basic credentials, or NULL */
    unsigned auth_methods;   /* HF_AUTH_* */
    int netrc_mode;          /* 0 off, 1 required, 2 optional */
    char *netrc_file;
    char *body;              /* in-memory body, or NULL */
    size_t body_len;
    int has_body;
    hf_read_fn *reader;
    void *reader_arg;
    int64_t reader_len;      /* -1 unknown: chunked */
    long timeout_ms, connect_timeout_ms;
    long dns_ms, tls_ms, ttfb_ms, idle_ms;   /* per-phase limits */
    long speed_limit, speed_time;            /* -Y, -y */
    int64_t max_filesize;
    int decompress;
    int insecure;
    char *cafile, *capath, *ciphers, *tls13_ciphers, *curves;
    char *cert, *key, *key_password, *pinned;
    int tls_min, tls_max;
    int no_session;          /* hf_request_set_session_reuse(r, 0) */
    int64_t expect_threshold;
    long max_redirs;         /* -1: do not follow */
    unsigned follow_flags;   /* HF_FOLLOW_* */
    hf_write_fn *sink;
    void *sink_arg;
    hf_head_fn *head_fn;
    void *head_arg;
    hf_debug_fn *debug_fn;
    void *debug_arg;
    char *body_file;         /* hf_request_body_file */
    char *output_file;       /* hf_request_set_output_file */
    /* proxies */
    char *proxy;             /* -x; NULL with proxy_given 0: environment */
    int proxy_given;
    char *noproxy;           /* --noproxy; likewise */
    int noproxy_given;
    char *proxy_user, *proxy_pass;   /* -U */
    unsigned proxy_auth;     /* HF_AUTH_* */
    int proxy_tunnel;        /* -p */
    char **proxy_hdrs;       /* --proxy-header lines */
    size_t nproxy_hdrs;
    char *proxy_cafile, *proxy_capath;
    int proxy_insecure;
    char *preproxy;
};

typedef struct resp_hdr {
    char *name;
    char *value;
} resp_hdr;

struct hf_response {
    int status, minor;
    char *reason;
    char *head;              /* raw head of the final response */
    size_t head_len;
    resp_hdr *hdrs;
    size_t nhdrs;
    char *hstore;            /* names and values, NUL-terminated */
    buf body;                /* without a sink */
    struct hf_trace trace;   /* the events of the transfer */
    hf_err err;
    char *errmsg;
    char *url;
    int64_t size_download;
    int64_t size_upload;
    char *req_head;          /* the request head as sent */
    size_t req_head_len;
    long conn_id;
    struct hf_response *prev;  /* the hop before (a redirect), owned */
    int num_redirects;
    uint64_t time_redirect;  /* ns spent in the hops before this one */
    int reused;
    char local[64], remote[64];
    uint64_t t[HF_TIME__COUNT];
    char tls_version[16], tls_cipher[64];
    long tls_verify;
    int tls_ncerts;
    char *tls_certs;
    int proxy_used;          /* via a proxy */
    char proxy[300];         /* "scheme://host:port" */
    int http_connect;        /* the last CONNECT status */
};

/* request.c: RFC 9110 5.6.2 tokens. */
int http_is_tchar(unsigned char ch);
int http_is_token(const char *s);

/* request.c: a whole file of at most max bytes, malloc'd and NUL-terminated
 * in *text; a file that does not exist gives HF_OK with *text NULL. */
hf_err read_small_file(const char *path, size_t max, char **text, size_t *len);

/* request.c: the client's resolver, made at the first use; NULL: no memory */
struct resolver *client_resolver(hf_client *c);

/* names.c: names that need no DNS (--resolve, numeric, localhost).
 * Returns 0 with addresses, an HF_E_* error, or NAMES_ASK: a name for the
 * resolver. */
#define NAMES_ASK (-1)
int names_resolve(hf_client *c, const url *u, hf_addr **out, size_t *n,
                  char *err, size_t errlen);
int names_parse_resolve(const char *spec, resolve_ent **out, int *remove);
void names_free_resolves(resolve_ent *r);
/* "ip:port" or "[ip6]:port" of a socket address. */
void addr_format(const struct sockaddr *sa, char *out, size_t n,
                 char *ip, size_t iplen, int *port);

/* conn.c: connections and the pool. */
conn *conn_new(hf_client *c, int fd, const char *key);
/* Grow the read buffer to CONN_RBUF (0, or HF_E_NOMEM). */
int conn_grow(conn *cn);
filter *sock_filter_new(int fd);
/* strerror(err), lower-cased for use inside a sentence; returns out. */
const char *errno_text(int err, char *out, size_t n);
void conn_push(conn *cn, filter *f);
/* How a connection closes: CONN_NOW hflow sends FIN first (and waits,
 * bounded, for the server's); CONN_AFTER_SERVER the server said it closes
 * (Connection: close), so its FIN is awaited first; CONN_ABORT at once
 * (an error: a RST when unread bytes remain).  A FIN or RST already seen
 * from the server decides by itself.  Events go to the connection's
 * transfer (if any) and to the client's event callback. */
enum { CONN_NOW = 0, CONN_AFTER_SERVER, CONN_ABORT };
void conn_close(hf_client *c, conn *cn, int how, const char *reason);
/* The server's FIN / RST was seen (events recorded once). */
void conn_saw_fin(hf_client *c, conn *cn);
void conn_saw_rst(hf_client *c, conn *cn);
struct ev_args;
void conn_emit(hf_client *c, conn *cn, hf_ev type, const struct ev_args *a);
/* An idle connection for key that the server has not closed, or NULL;
 * check: always ask the kernel (for requests that cannot be retried). */
conn *pool_take(hf_client *c, const char *key, int check, const char **why);
void pool_put(hf_client *c, conn *cn);
int pool_retires(hf_client *c, const char *key);
void pool_saw_close(hf_client *c, conn *cn);
/* Close the idle connections the servers closed (the loop's idle hook). */
void conn_reap_dead(void *arg);
#endif
