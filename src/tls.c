/* tls.c -- the TLS layer on OpenSSL 3 (tls.h).
 *
 * One SSL_CTX per distinct configuration, made on first use and kept in the
 * tls_client; one SSL per connection, talking to the socket through a tiny
 * BIO of our own (send with MSG_NOSIGNAL, so a peer that went away costs an
 * error, never a SIGPIPE, whatever the application does with signals).
 * Over another layer (tls_filter_new_over: a proxy tunnel, TLS to an https
 * proxy, so TLS in TLS) the same BIO calls that layer's send/recv instead;
 * its "would block" becomes a BIO retry and what it waits for is passed up
 * as is (a TLS layer below may need to write in order to read).
 *
 * Sessions: OpenSSL hands every new session (TLS 1.2 at the end of the
 * handshake, TLS 1.3 tickets whenever they arrive, usually during SSL_read)
 * to new_session_cb, which files it in the tls_client under
 * "host:port|" + the configuration key, so a session is only ever offered
 * to the same peer under the same configuration (SECURITY.md B.14).
 * Lifetimes (B.13): a session belongs to the cache (we hold a reference);
 * the SSL belongs to the filter; the callback finds its filter through the
 * SSL's app data, and can only run inside an OpenSSL call on that SSL, so the
 * filter is alive whenever it runs.  The tls_client is reference counted
 * (the owner plus each live filter), so a filter that outlives
 * tls_client_free still has its BIO method, and stores nothing.  Sessions
 * that arrive before our own checks (pin, peer certificate) passed are
 * held by the filter and only filed once they did.  A configuration with
 * no_session (--no-sessionid) neither offers nor files any session.
 *
 * Every entry point clears the OpenSSL error queue first and leaves it
 * empty. */
#include "tls.h"
#include "hflow.h"
#include "loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_DEFAULT_CAFILE "/etc/ssl/certs/ca-certificates.crt"
#define TLS_DEFAULT_CADIR "/etc/ssl/certs"     /* hashed, looked up lazily */
#define TLS_MAX_CTX 16        /* SSL_CTXs kept per client (LRU beyond) */
#define TLS_MAX_SESS_KEYS 64  /* host:port|config entries in the cache */
#define TLS_SESS_PER_KEY 4    /* sessions kept per entry (TLS 1.3 servers
                               * send 2 tickets per handshake by default) */
#define TLS_PENDING_MAX 4     /* sessions held until the checks passed */
#define TLS_PIN_FILE_MAX (1 << 20)
#define TLS_RBUF (64 * 1024)  /* socket bytes read ahead of OpenSSL */

/* ---- the client: contexts and the session cache ------------------------ */

typedef struct ctx_ent {
    struct ctx_ent *next;
    char *key;                /* tls_config_key */
    SSL_CTX *ctx;
} ctx_ent;

typedef struct sess_ent {
    struct sess_ent *next;
    char *key;                /* "host:port|" + config key */
    SSL_SESSION *s[TLS_SESS_PER_KEY];  /* oldest first; one reference each */
    int n;
} sess_ent;

struct tls_client {
    int refs;                 /* the owner, plus one per live filter */
    int closed;               /* tls_client_free was called */
    BIO_METHOD *biom;         /* our socket BIO */
    ctx_ent *ctxs;            /* most recently used first */
    sess_ent *sess;           /* most recently used first */
};

/* ---- a connection ------------------------------------------------------- */

typedef struct sockio {
    int fd;
    filter *lower;            /* the layer below when it is not the socket
                               * itself (a proxy tunnel, TLS to a proxy):
                               * send/recv go through it; NULL: the socket */
    int eof;                  /* recv returned 0 */
    int err;                  /* errno of the last failed send/recv */
    int lrc;                  /* the lower layer's error (HF_E_*), or 0 */
    int lwant;                /* what the lower layer waits for, or 0 */
    char lwhy[200];           /* the lower layer's reason for lrc */
    unsigned char *rb;        /* TLS_RBUF bytes (made at the first read):  */
    size_t roff, rlen;        /* rb[roff..rlen) read, not yet given out */
} sockio;

typedef struct tls_conn {
    SSL *ssl;
    tls_client *tc;           /* one reference */
    char *skey;               /* session cache key */
    char *host;               /* as given, for messages */
    char *pinned;             /* copy of cfg->pinned, or NULL */
    int insecure;
    int no_session;           /* --no-sessionid: nothing offered or filed */
    int done;                 /* handshake complete and checks passed */
    int failed;               /* a fatal error: no close_notify */
    int got_data;             /* application data has arrived */
    int unclean_eof;          /* the peer closed without close_notify */
    SSL_SESSION *offered;     /* the session we tried to resume (a ref) */
    SSL_SESSION *pend[TLS_PENDING_MAX];  /* sessions not yet filed */
    int npend;
    filter *below;            /* the layer below (owned), or NULL when made
                               * by tls_filter_new straight on a socket */
    int below_done;           /* its handshake is complete */
    sockio io;
    tls_info info;
} tls_conn;

static void tc_release(tls_client *tc)
{
    if (!tc || --tc->refs > 0)
        return;
    BIO_meth_free(tc->biom);
    free(tc);
}

static void sess_ent_free(sess_ent *e)
{
    for (int i = 0; i < e->n; i++)
        SSL_SESSION_free(e->s[i]);
    free(e->key);
    free(e);
}

/* ---- the socket BIO ------------------------------------------------------ */

/* Through the layer below: its "would block" becomes a retry (with what
 * it waits for kept in lwant), its error is kept in lrc / lwhy. */
static int lower_write(BIO *b, sockio *io, const char *p, int n)
{
    size_t nw = 0;
    int want = 0;
    int rc = io->lower->ops->send(io->lower, p, (size_t)n, &nw, &want,
                                  io->lwhy, sizeof io->lwhy);
    if (rc) {
        io->lrc = rc;
        return -1;
    }
    if (nw > 0)
        return (int)nw;
    io->lwant = want;
    BIO_set_retry_write(b);
    return -1;
}

static int bio_write(BIO *b, const char *p, int n)
{
    sockio *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (io->lower)
        return lower_write(b, io, p, n);
    for (;;) {
        ssize_t r = send(io->fd, p, (size_t)n, MSG_NOSIGNAL);
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        else
            io->err = errno;
        return -1;
    }
}

/* OpenSSL reads exactly what it needs (a 5-byte record header, then the
 * record), two system calls per record of at most 16 KiB.  So the socket is
 * read in TLS_RBUF pieces here, and OpenSSL's reads are served from that:
 * a 1 GiB download costs a quarter of the recv calls, and no more epoll
 * round per record (tls_pending reports these bytes, so the reader goes on
 * until the socket is dry).  OpenSSL's own read-ahead would do the same
 * but moves the unread rest of its buffer to the front for every record. */
/* One read from below: > 0 bytes, 0 at the end of the stream, -1 for an
 * error or "would block" (then *again is set). */
static ssize_t raw_read(sockio *io, void *p, size_t n, int *again)
{
    *again = 0;
    if (io->lower) {
        size_t nr = 0;
        int want = 0;
        int rc = io->lower->ops->recv(io->lower, p, n, &nr, &want, io->lwhy,
                                      sizeof io->lwhy);
        if (rc) {
            io->lrc = rc;
            return -1;
        }
        if (nr > 0)
            return (ssize_t)nr;
        if (!want)
            return 0;
        io->lwant = want;
        *again = 1;
        return -1;
    }
    for (;;) {
        ssize_t r = recv(io->fd, p, n, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            *again = 1;
        else
            io->err = errno;
        return -1;
    }
}

static int bio_read(BIO *b, char *p, int n)
{
    sockio *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!p || n <= 0)
        return 0;
    if (io->roff < io->rlen) {
        size_t k = io->rlen - io->roff;
        if (k > (size_t)n)
            k = (size_t)n;
        memcpy(p, io->rb + io->roff, k);
        io->roff += k;
        return (int)k;
    }
    if (!io->rb)
        io->rb = malloc(TLS_RBUF);     /* without it: unbuffered reads */
    int ahead = io->rb && (size_t)n < TLS_RBUF;
    int again = 0;
    ssize_t r = ahead ? raw_read(io, io->rb, TLS_RBUF, &again)
                      : raw_read(io, p, (size_t)n, &again);
    if (r > 0 && ahead) {
        io->rlen = (size_t)r;
        io->roff = io->rlen < (size_t)n ? io->rlen : (size_t)n;
        memcpy(p, io->rb, io->roff);
        return (int)io->roff;
    }
    if (r > 0)
        return (int)r;
    if (r == 0) {
        io->eof = 1;
        return 0;
    }
    if (again)
        BIO_set_retry_read(b);
    return -1;
}

static int bio_puts(BIO *b, const char *s)
{
    return bio_write(b, s, (int)strlen(s));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num, (void)ptr;
    sockio *io = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:         /* OpenSSL asks: was that 0 an end of file? */
        return io && io->eof;
    case BIO_CTRL_PENDING:
        return io ? (long)(io->rlen - io->roff) : 0;
    default:
        return 0;
    }
}

static BIO_METHOD *bio_method_new(void)
{
    int idx = BIO_get_new_index();
    BIO_METHOD *m = BIO_meth_new((idx > 0 ? idx : 0) | BIO_TYPE_SOURCE_SINK,
                                 "hflow socket");
    if (!m)
        return NULL;
    if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
        !BIO_meth_set_puts(m, bio_puts) || !BIO_meth_set_ctrl(m, bio_ctrl)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* Before each OpenSSL call: no error or wait of the layer below noted. */
static void io_reset(sockio *io)
{
    io->err = 0;
    io->lrc = 0;
    io->lwant = 0;
    io->lwhy[0] = 0;
}

/* ---- small helpers ----------------------------------------------------- */

/* The reason of the first error in OpenSSL's queue ("" when empty); the
 * queue is emptied.  Returns the packed error code. */
static unsigned long ssl_reason(char *buf, size_t n)
{
    unsigned long first = 0, e;
    buf[0] = 0;
    while ((e = ERR_get_error()) != 0) {
        if (first)
            continue;
        first = e;
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, n, "%s", r);
        else
            ERR_error_string_n(e, buf, n);
    }
    return first;
}

static void errno_text(int err, char *buf, size_t n)
{
    snprintf(buf, n, "%s", strerror(err));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* A reason code that is an alert the peer sent (SSL_AD_REASON_OFFSET). */
static int is_alert(unsigned long e)
{
    int r = ERR_GET_REASON(e);
    return ERR_GET_LIB(e) == ERR_LIB_SSL && r >= SSL_AD_REASON_OFFSET &&
           r < SSL_AD_REASON_OFFSET + 256;
}

/* Append src to a length-prefixed field of the key ("-" for NULL). */
static int key_put(char **buf, size_t *len, size_t *cap, const char *name,
                   const char *val)
{
    char head[64];
    int hn = val ? snprintf(head, sizeof head, "|%s=%zu:", name, strlen(val))
                 : snprintf(head, sizeof head, "|%s=-", name);
    size_t vn = val ? strlen(val) : 0;
    size_t need = *len + (size_t)hn + vn + 1;
    if (need > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < need)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, head, (size_t)hn);
    *len += (size_t)hn;
    if (vn)
        memcpy(*buf + *len, val, vn);
    *len += vn;
    (*buf)[*len] = 0;
    return 0;
}

/* The CA file and directory a configuration really uses: what it names
 * (--cacert and/or --capath, and nothing else), else SSL_CERT_FILE /
 * SSL_CERT_DIR, else the system bundle. */
static const char *eff_cafile(const tls_config *cfg)
{
    if (cfg->cafile || cfg->capath)
        return cfg->cafile;
    const char *e = getenv("SSL_CERT_FILE");
    return e && *e ? e : TLS_DEFAULT_CAFILE;
}

static const char *eff_capath(const tls_config *cfg)
{
    if (cfg->cafile || cfg->capath)
        return cfg->capath;
    const char *e = getenv("SSL_CERT_DIR");
    return e && *e ? e : NULL;
}

/* The default bundle may be absent when a directory is in use. */
static int cafile_required(const tls_config *cfg)
{
    const char *e = getenv("SSL_CERT_FILE");
    return cfg->cafile || (!cfg->capath && e && *e) || !eff_capath(cfg);
}

char *tls_config_key(const tls_config *cfg)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char num[64], pw[2 * EVP_MAX_MD_SIZE + 1];
    const char *pwp = NULL;
    if (!cfg)
        return NULL;
    /* the password is kept as its SHA-256: the key is compared exactly
     * (case matters, CVE-2021-22924) and may end up in a debug trace */
    if (cfg->key_password) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdn = 0;
        if (!EVP_Digest(cfg->key_password, strlen(cfg->key_password), md, &mdn,
                        EVP_sha256(), NULL)) {
            ERR_clear_error();
            return NULL;
        }
        for (unsigned int i = 0; i < mdn; i++)
            snprintf(pw + 2 * i, 3, "%02x", md[i]);
        pwp = pw;
    }
    snprintf(num, sizeof num, "%d,%d,%d,%d", cfg->insecure ? 1 : 0,
             cfg->min_version, cfg->max_version, cfg->no_session ? 1 : 0);
    if (key_put(&buf, &len, &cap, "tls1:v,ns", num) ||
        key_put(&buf, &len, &cap, "ca", eff_cafile(cfg)) ||
        key_put(&buf, &len, &cap, "cp", eff_capath(cfg)) ||
        key_put(&buf, &len, &cap, "c12", cfg->ciphers) ||
        key_put(&buf, &len, &cap, "c13", cfg->tls13_ciphers) ||
        key_put(&buf, &len, &cap, "grp", cfg->curves) ||
        key_put(&buf, &len, &cap, "crt", cfg->cert) ||
        key_put(&buf, &len, &cap, "key", cfg->key) ||
        key_put(&buf, &len, &cap, "pw", pwp) ||
        key_put(&buf, &len, &cap, "pin", cfg->pinned) ||
        key_put(&buf, &len, &cap, "alpn", cfg->alpn)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- the session cache ------------------------------------------------- */

static void pend_free(tls_conn *c)
{
    for (int i = 0; i < c->npend; i++)
        SSL_SESSION_free(c->pend[i]);
    c->npend = 0;
}

/* File sess (taking the caller's reference) under key.  0, or -1 when out
 * of memory (the reference is then still the caller's). */
static int cache_put(tls_client *tc, const char *key, SSL_SESSION *sess)
{
    sess_ent **pp = &tc->sess, *e;
    int count = 0;
    while ((e = *pp) && strcmp(e->key, key) != 0) {
        count++;
        pp = &e->next;
    }
    if (e) {
        *pp = e->next;          /* unlink; goes to the front below */
    } else {
        e = calloc(1, sizeof *e);
        if (!e || !(e->key = strdup(key))) {
            free(e);
            return -1;
        }
        if (count >= TLS_MAX_SESS_KEYS) {   /* drop the least recently used */
            sess_ent **q = &tc->sess;
            while ((*q)->next)
                q = &(*q)->next;
            sess_ent_free(*q);
            *q = NULL;
        }
    }
    if (e->n == TLS_SESS_PER_KEY) {
        SSL_SESSION_free(e->s[0]);
        memmove(e->s, e->s + 1, (TLS_SESS_PER_KEY - 1) * sizeof e->s[0]);
        e->n--;
    }
    e->s[e->n++] = sess;
    e->next = tc->sess;
    tc->sess = e;
    return 0;
}

/* The session to offer for key, or NULL; a reference for the caller.
 * TLS 1.3 tickets are single use (RFC 8446 C.4): taken out of the cache. */
static SSL_SESSION *cache_take(tls_client *tc, const char *key)
{
    sess_ent **pp = &tc->sess, *e;
    while ((e = *pp) && strcmp(e->key, key) != 0)
        pp = &e->next;
    if (!e)
        return NULL;
    time_t now = time(NULL);
    while (e->n > 0) {
        SSL_SESSION *s = e->s[e->n - 1];
        long t = (long)SSL_SESSION_get_time(s);
        long to = (long)SSL_SESSION_get_timeout(s);
        if (!SSL_SESSION_is_resumable(s) || (long)now > t + to) {
            SSL_SESSION_free(s);
            e->n--;
            continue;
        }
        if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION) {
            e->n--;             /* our reference goes to the caller */
        } else if (!SSL_SESSION_up_ref(s)) {
            return NULL;
        }
        if (e->n == 0) {
            *pp = e->next;
            sess_ent_free(e);
        }
        return s;
    }
    *pp = e->next;
    sess_ent_free(e);
    return NULL;
}

/* Forget sess under key (a resumption with it failed). */
static void cache_drop(tls_client *tc, const char *key, SSL_SESSION *sess)
{
    for (sess_ent *e = tc->sess; e; e = e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        for (int i = 0; i < e->n; i++) {
            if (e->s[i] == sess) {
                SSL_SESSION_free(sess);
                memmove(e->s + i, e->s + i + 1, (size_t)(e->n - i - 1) * sizeof e->s[0]);
                e->n--;
                break;
            }
        }
        return;
    }
}

/* OpenSSL's new-session callback: 1 when we keep the reference. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    tls_conn *c = SSL_get_app_data(ssl);
    if (!c || !c->tc || c->tc->closed || c->failed || c->no_session)
        return 0;
    if (!c->done) {             /* not verified yet: hold it */
        if (c->npend == TLS_PENDING_MAX)
            return 0;
        c->pend[c->npend++] = sess;
        return 1;
    }
    return cache_put(c->tc, c->skey, sess) == 0;
}

/* ---- contexts ---------------------------------------------------------- */

/* Passwords come only from the configuration: without one an encrypted key
 * fails instead of OpenSSL prompting on the terminal. */
static int passwd_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (!pw || size <= 0)
        return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

static int version_of(int v, int *out)
{
    switch (v) {
    case 0: *out = 0; return 0;
    case 12: *out = TLS1_2_VERSION; return 0;
    case 13: *out = TLS1_3_VERSION; return 0;
    default: return -1;
    }
}

/* 1 when path is a readable regular file; else 0 with errno set. */
static int readable_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return 0;
    }
    return access(path, R_OK) == 0;
}

static int load_ca(SSL_CTX *ctx, const tls_config *cfg, char *why, size_t wn)
{
    const char *file = eff_cafile(cfg), *dir = eff_capath(cfg);
    char r[160];
    struct stat st;
    int need_file = cafile_required(cfg);
    if (dir) {
        errno = ENOTDIR;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK)) {
            snprintf(why, wn, "cannot use CA directory %s: %s", dir, strerror(errno));
            return HF_E_SSL_CACERT_BADFILE;
        }
        if (!SSL_CTX_load_verify_dir(ctx, dir)) {
            ssl_reason(r, sizeof r);
            snprintf(why, wn, "cannot use CA directory %s: %s", dir, r);
            return HF_E_SSL_CACERT_BADFILE;
        }
    }
    if (!file || (!need_file && !readable_file(file)))
        return 0;
    if (!readable_file(file)) {
        snprintf(why, wn, "cannot read CA file %s: %s", file, strerror(errno));
        return HF_E_SSL_CACERT_BADFILE;
    }
    if (!SSL_CTX_load_verify_file(ctx, file)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "no CA certificate in %s (%s)", file, r);
        return HF_E_SSL_CACERT_BADFILE;
    }
    return 0;
}

/* With -k the chain is still checked, for the verify result shown, but
 * nothing is enforced: a CA that cannot be loaded is no error (as in curl),
 * and the system bundle is not parsed (some 15 ms for 140 certificates);
 * the hashed CA directory, looked up lazily, stands in for it. */
static void insecure_ca(SSL_CTX *ctx, const tls_config *cfg)
{
    const char *dir = eff_capath(cfg);
    struct stat st;
    if (cfg->cafile)
        (void)SSL_CTX_load_verify_file(ctx, cfg->cafile);
    if (!dir && !cfg->cafile && !cfg->capath &&
        stat(TLS_DEFAULT_CADIR, &st) == 0 && S_ISDIR(st.st_mode))
        dir = TLS_DEFAULT_CADIR;
    if (dir)
        (void)SSL_CTX_load_verify_dir(ctx, dir);
    ERR_clear_error();
}

static int load_client_cert(SSL_CTX *ctx, const tls_config *cfg, char *why,
                            size_t wn)
{
    char r[160];
    const char *keyfile = cfg->key ? cfg->key : cfg->cert;
    if (!SSL_CTX_use_certificate_chain_file(ctx, cfg->cert)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "cannot use client certificate %s: %s", cfg->cert,
                 readable_file(cfg->cert) ? r : strerror(errno));
        return HF_E_SSL_CERTPROBLEM;
    }
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)cfg->key_password);
    int ok = SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);   /* borrowed */
    if (!ok) {
        unsigned long e = ssl_reason(r, sizeof r);
        const char *hint = "";
        if (!readable_file(keyfile))
            snprintf(r, sizeof r, "%s", strerror(errno));
        else if (ERR_GET_REASON(e) == EVP_R_BAD_DECRYPT || strstr(r, "bad decrypt"))
            hint = cfg->key_password ? " (wrong password?)" : " (no password given)";
        else if (ERR_GET_REASON(e) == ERR_R_UNSUPPORTED || strstr(r, "no start line"))
            snprintf(r, sizeof r, "no private key in the file");
        snprintf(why, wn, "cannot use client key %s: %s%s", keyfile, r, hint);
        return HF_E_SSL_CERTPROBLEM;
    }
    if (!SSL_CTX_check_private_key(ctx)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "client key %s does not match certificate %s (%s)",
                 keyfile, cfg->cert, r);
        return HF_E_SSL_CERTPROBLEM;
    }
    return 0;
}

/* ALPN "h2,http/1.1" -> wire format.  NULL and "" mean: none. */
static int alpn_wire(const char *list, unsigned char *out, size_t cap,
                     size_t *n)
{
    *n = 0;
    if (!list || !*list)
        return 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > 255 || *n + 1 + len > cap)
            return -1;
        out[(*n)++] = (unsigned char)len;
        memcpy(out + *n, p, len);
        *n += len;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static int ctx_make(const tls_config *cfg, SSL_CTX **out, char *why, size_t wn)
{
    int minv, maxv, rc;
    char r[160];
    *out = NULL;
    if (version_of(cfg->min_version, &minv) || version_of(cfg->max_version, &maxv)) {
        snprintf(why, wn, "unsupported TLS version (want 1.2 or 1.3)");
        return HF_E_BAD_FUNCTION_ARG;
    }
    if (!minv)
        minv = TLS1_2_VERSION;
    if (maxv && maxv < minv) {
        snprintf(why, wn, "the highest TLS version allowed is below the lowest");
        return HF_E_BAD_FUNCTION_ARG;
    }
    unsigned char alpn[256];
    size_t alpn_n;
    if (alpn_wire(cfg->alpn, alpn, sizeof alpn, &alpn_n)) {
        snprintf(why, wn, "bad ALPN list '%s'", cfg->alpn);
        return HF_E_BAD_FUNCTION_ARG;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "OpenSSL could not make a context: %s", r);
        return HF_E_NOMEM;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, minv) ||
        !SSL_CTX_set_max_proto_version(ctx, maxv)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "cannot set TLS versions: %s", r);
        rc = HF_E_SSL_CONNECT;
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_passwd_cb(ctx, passwd_cb);
    if (!cfg->insecure) {
        if ((rc = load_ca(ctx, cfg, why, wn)) != 0)
            goto fail;
    } else {
        insecure_ca(ctx, cfg);
    }
    if (cfg->ciphers && !SSL_CTX_set_cipher_list(ctx, cfg->ciphers)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "cannot use cipher list '%s': %s", cfg->ciphers, r);
        rc = HF_E_SSL_CIPHER;
        goto fail;
    }
    if (cfg->tls13_ciphers && !SSL_CTX_set_ciphersuites(ctx, cfg->tls13_ciphers)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "cannot use TLS 1.3 cipher suites '%s': %s",
                 cfg->tls13_ciphers, r);
        rc = HF_E_SSL_CIPHER;
        goto fail;
    }
    if (cfg->curves && !SSL_CTX_set1_groups_list(ctx, cfg->curves)) {
        ssl_reason(r, sizeof r);
        snprintf(why, wn, "cannot use curves '%s'%s%s", cfg->curves,
                 r[0] ? ": " : "", r);
        rc = HF_E_SSL_CIPHER;
        goto fail;
    }
    if (cfg->cert && (rc = load_client_cert(ctx, cfg, why, wn)) != 0)
        goto fail;
    if (alpn_n && SSL_CTX_set_alpn_protos(ctx, alpn, (unsigned)alpn_n) != 0) {
        snprintf(why, wn, "cannot set ALPN");
        rc = HF_E_NOMEM;
        goto fail;
    }
    if (cfg->no_session) {      /* --no-sessionid: OpenSSL keeps none */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                            SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
    }
    ERR_clear_error();
    *out = ctx;
    return 0;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return rc;
}

/* The context for key: cached, or made now. */
static int ctx_get(tls_client *tc, const tls_config *cfg, const char *key,
                   SSL_CTX **out, char *why, size_t wn)
{
    ctx_ent **pp = &tc->ctxs, *e;
    int count = 0;
    while ((e = *pp) && strcmp(e->key, key) != 0) {
        count++;
        pp = &e->next;
    }
    if (e) {
        *pp = e->next;          /* to the front */
        e->next = tc->ctxs;
        tc->ctxs = e;
        *out = e->ctx;
        return 0;
    }
    SSL_CTX *ctx;
    int rc = ctx_make(cfg, &ctx, why, wn);
    if (rc)
        return rc;
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        SSL_CTX_free(ctx);
        snprintf(why, wn, "out of memory");
        return HF_E_NOMEM;
    }
    e->ctx = ctx;
    if (count >= TLS_MAX_CTX) {  /* SSLs hold their own references */
        ctx_ent **q = &tc->ctxs;
        while ((*q)->next)
            q = &(*q)->next;
        SSL_CTX_free((*q)->ctx);
        free((*q)->key);
        free(*q);
        *q = NULL;
    }
    e->next = tc->ctxs;
    tc->ctxs = e;
    *out = ctx;
    return 0;
}

tls_client *tls_client_new(void)
{
    if (!OPENSSL_init_ssl(0, NULL))
        return NULL;
    tls_client *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    tc->refs = 1;
    if (!(tc->biom = bio_method_new())) {
        ERR_clear_error();
        free(tc);
        return NULL;
    }
    return tc;
}

void tls_client_free(tls_client *tc)
{
    if (!tc)
        return;
    tc->closed = 1;
    while (tc->ctxs) {
        ctx_ent *e = tc->ctxs;
        tc->ctxs = e->next;
        SSL_CTX_free(e->ctx);
        free(e->key);
        free(e);
    }
    while (tc->sess) {
        sess_ent *e = tc->sess;
        tc->sess = e->next;
        sess_ent_free(e);
    }
    tc_release(tc);
}

/* ---- certificate text --------------------------------------------------- */

#define NAME_FLAGS ((XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ) | ASN1_STRFLGS_ESC_MSB)

static void name_line(BIO *b, const X509_NAME *n)
{
    X509_NAME_print_ex(b, n, 0, NAME_FLAGS);
}

/* The leaf's subject on one line into buf. */
static void subject_of(X509 *x, char *buf, size_t n)
{
    buf[0] = 0;
    BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
    if (!b)
        return;
    name_line(b, X509_get_subject_name(x));
    char *p;
    long len = BIO_get_mem_data(b, &p);
    if (len > 0)
        snprintf(buf, n, "%.*s", (int)len, p);
    BIO_free(b);
}

/* Bytes of a name from a certificate, with anything unprintable escaped. */
static void print_safe(BIO *b, const unsigned char *p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
            BIO_printf(b, "\\x%02x", p[i]);
        else
            BIO_write(b, p + i, 1);
    }
}

static void print_sans(BIO *b, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int first = 1;
    BIO_puts(b, "san:");
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            BIO_puts(b, first ? " DNS:" : ", DNS:");
            print_safe(b, ASN1_STRING_get0_data(g->d.dNSName),
                       ASN1_STRING_length(g->d.dNSName));
            first = 0;
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            if (len == 4)
                inet_ntop(AF_INET, d, ip, sizeof ip);
            else if (len == 16)
                inet_ntop(AF_INET6, d, ip, sizeof ip);
            BIO_printf(b, "%sIP:%s", first ? " " : ", ", ip);
            first = 0;
        }
    }
    if (first)
        BIO_puts(b, " none");
    BIO_puts(b, "\n");
    GENERAL_NAMES_free(gens);
}

static void print_cert(BIO *b, X509 *x)
{
    BIO_puts(b, "subject: ");
    name_line(b, X509_get_subject_name(x));
    BIO_puts(b, "\nissuer: ");
    name_line(b, X509_get_issuer_name(x));
    BIO_puts(b, "\n");
    print_sans(b, x);
    BIO_puts(b, "valid: ");
    ASN1_TIME_print(b, X509_get0_notBefore(x));
    BIO_puts(b, " .. ");
    ASN1_TIME_print(b, X509_get0_notAfter(x));
    BIO_puts(b, "\n");
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        const char *type;
        switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA: type = "RSA"; break;
        case EVP_PKEY_RSA_PSS: type = "RSA-PSS"; break;
        case EVP_PKEY_EC: type = "EC"; break;
        case EVP_PKEY_ED25519: type = "Ed25519"; break;
        case EVP_PKEY_ED448: type = "Ed448"; break;
        case EVP_PKEY_DSA: type = "DSA"; break;
        default: type = EVP_PKEY_get0_type_name(pk); break;
        }
        BIO_printf(b, "key: %s %d\n", type ? type : "?", EVP_PKEY_get_bits(pk));
    } else {
        BIO_puts(b, "key: ?\n");
    }
}

/* Fill c->info after a completed handshake; -1 when out of memory. */
static int fill_info(tls_conn *c)
{
    tls_info *in = &c->info;
    SSL *ssl = c->ssl;
    snprintf(in->version, sizeof in->version, "%s", SSL_get_version(ssl));
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    snprintf(in->cipher, sizeof in->cipher, "%s", ci ? SSL_CIPHER_get_name(ci) : "");
    int nid = SSL_get_negotiated_group(ssl);
    const char *g = NULL;
    if (nid > 0 && !(nid & TLSEXT_nid_unknown)) {
        g = EC_curve_nid2nist(nid);      /* "P-256" rather than "prime256v1" */
        if (!g)
            g = OBJ_nid2sn(nid);
    }
    snprintf(in->group, sizeof in->group, "%s", g ? g : "");
    const unsigned char *ap = NULL;
    unsigned int an = 0;
    SSL_get0_alpn_selected(ssl, &ap, &an);
    snprintf(in->alpn, sizeof in->alpn, "%.*s", (int)an, ap ? (const char *)ap : "");
    in->resumed = SSL_session_reused(ssl) ? 1 : 0;
    in->verify_result = SSL_get_verify_result(ssl);
    if (in->verify_result == X509_V_OK && !SSL_get0_peer_certificate(ssl))
        snprintf(in->verify_msg, sizeof in->verify_msg, "no certificate");
    else if (in->verify_result == X509_V_OK)
        snprintf(in->verify_msg, sizeof in->verify_msg, "ok");
    else
        snprintf(in->verify_msg, sizeof in->verify_msg, "%s",
                 X509_verify_cert_error_string(in->verify_result));
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    in->num_certs = chain ? sk_X509_num(chain) : 0;
    free(in->certs);
    in->certs = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return -1;
    for (int i = 0; i < in->num_certs; i++)
        print_cert(b, sk_X509_value(chain, i));
    char *p;
    long len = BIO_get_mem_data(b, &p);
    in->certs = malloc((size_t)(len > 0 ? len : 0) + 1);
    if (in->certs) {
        if (len > 0)
            memcpy(in->certs, p, (size_t)len);
        in->certs[len > 0 ? len : 0] = 0;
    }
    BIO_free(b);
    ERR_clear_error();
    return in->certs ? 0 : -1;
}

/* ---- the pin (curl's --pinnedpubkey) ------------------------------------ */

static int pin_check(tls_conn *c, X509 *leaf, char *why, size_t wn)
{
    unsigned char *der = NULL;
    int dn = leaf ? i2d_PUBKEY(X509_get0_pubkey(leaf), &der) : -1;
    int rc = HF_E_SSL_PINNEDPUBKEY;
    if (dn <= 0) {
        snprintf(why, wn, "cannot read the server's public key for the pin");
        goto out;
    }
    unsigned char md[32];
    char b64[48];
    if (!EVP_Digest(der, (size_t)dn, md, NULL, EVP_sha256(), NULL)) {
        snprintf(why, wn, "cannot hash the server's public key");
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)b64, md, sizeof md);
    const char *p = c->pinned;
    if (strncmp(p, "sha256//", 8) == 0) {
        size_t bl = strlen(b64);
        while (*p) {
            size_t n = strcspn(p, ";");
            const char *h = p;
            size_t hn = n;
            while (hn && (*h == ' ' || *h == '\t'))
                h++, hn--;
            while (hn && (h[hn - 1] == ' ' || h[hn - 1] == '\t'))
                hn--;
            if (hn > 8 && strncmp(h, "sha256//", 8) == 0 && hn - 8 == bl &&
                memcmp(h + 8, b64, bl) == 0) {
                rc = 0;
                goto out;
            }
            p += n + (p[n] == ';');
        }
        snprintf(why, wn, "server public key sha256//%s matches no pinned key", b64);
        goto out;
    }
    /* a file with the key, PEM or DER */
    FILE *fp = fopen(p, "rb");
    if (!fp) {
        snprintf(why, wn, "cannot read pinned key file %s: %s", p, strerror(errno));
        goto out;
    }
    unsigned char *buf = malloc(TLS_PIN_FILE_MAX);
    size_t n = buf ? fread(buf, 1, TLS_PIN_FILE_MAX, fp) : 0;
    fclose(fp);
    if (!buf) {
        snprintf(why, wn, "out of memory");
        rc = HF_E_NOMEM;
        goto out;
    }
    int match = 0;
    if (n > 10 && memmem(buf, n, "-----BEGIN", 10)) {
        BIO *b = BIO_new_mem_buf(buf, (int)n);
        EVP_PKEY *pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        unsigned char *fder = NULL;
        int fn = pk ? i2d_PUBKEY(pk, &fder) : -1;
        match = fn == dn && memcmp(fder, der, (size_t)dn) == 0;
        OPENSSL_free(fder);
        EVP_PKEY_free(pk);
        BIO_free(b);
    } else {
        match = n == (size_t)dn && memcmp(buf, der, n) == 0;
    }
    free(buf);
    if (match)
        rc = 0;
    else
        snprintf(why, wn, "server public key sha256//%s does not match %s", b64, p);
out:
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

/* ---- the filter ---------------------------------------------------------- */

static tls_conn *conn_of(const filter *f);

/* The subject of the leaf the server sent (during a failed handshake the
 * session's peer may not be set yet, the chain is). */
static X509 *leaf_of(SSL *ssl)
{
    X509 *x = SSL_get0_peer_certificate(ssl);
    if (!x) {
        STACK_OF(X509) *ch = SSL_get_peer_cert_chain(ssl);
        if (ch && sk_X509_num(ch) > 0)
            x = sk_X509_value(ch, 0);
    }
    return x;
}

static int verify_error(tls_conn *c, long vr, char *why, size_t wn)
{
    char subj[160];
    subject_of(leaf_of(c->ssl), subj, sizeof subj);
    snprintf(why, wn, "%s (subject %s)", X509_verify_cert_error_string(vr),
             subj[0] ? subj : "unknown");
    return HF_E_PEER_CERT;
}

static int fail(tls_conn *c, int rc)
{
    c->failed = 1;
    pend_free(c);
    if (c->offered && c->tc && !c->tc->closed)
        cache_drop(c->tc, c->skey, c->offered);
    ERR_clear_error();
    return rc;
}

static int tls_handshake(filter *f, int *done, int *want, char *why, size_t wn)
{
    tls_conn *c = conn_of(f);
    *done = 0;
    *want = 0;
    if (c->done) {
        *done = 1;
        return 0;
    }
    if (c->failed) {
        snprintf(why, wn, "the handshake failed already");
        return HF_E_SSL_CONNECT;
    }
    if (c->below && !c->below_done) {
        /* the layers below first (a no-op once they are done) */
        int bd = 0;
        int rc = c->below->ops->handshake(c->below, &bd, want, why, wn);
        if (rc) {
            c->failed = 1;
            return rc;
        }
        if (!bd)
            return 0;
        c->below_done = 1;
    }
    ERR_clear_error();
    io_reset(&c->io);
    int r = SSL_connect(c->ssl);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            *want = c->io.lwant ? c->io.lwant : LOOP_READ;
            return 0;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            *want = c->io.lwant ? c->io.lwant : LOOP_WRITE;
            return 0;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (!c->insecure && vr != X509_V_OK) {
            ERR_clear_error();
            return fail(c, verify_error(c, vr, why, wn));
        }
        char reason[200];
        unsigned long code = ssl_reason(reason, sizeof reason);
        if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
            (e == SSL_ERROR_SYSCALL && !code && !c->io.err && !c->io.lrc) ||
            (e == SSL_ERROR_ZERO_RETURN))
            snprintf(why, wn, "the server closed the connection during the "
                     "handshake%s%s%s", reason[0] ? " (" : "", reason,
                     reason[0] ? ")" : "");
        else if (e == SSL_ERROR_SYSCALL && c->io.err)
            errno_text(c->io.err, why, wn);
        else if (c->io.lrc)
            snprintf(why, wn, "%s", c->io.lwhy);
        else if (reason[0])
            snprintf(why, wn, "%s", reason);
        else
            snprintf(why, wn, "handshake failed (OpenSSL error %d)", e);
        return fail(c, HF_E_SSL_CONNECT);
    }
    /* The handshake is complete; our own checks before any data is sent. */
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (!c->insecure) {
        long vr = SSL_get_verify_result(c->ssl);
        if (!peer) {    /* C.18: the verify result is OK when none was sent */
            snprintf(why, wn, "the server sent no certificate");
            return fail(c, HF_E_PEER_CERT);
        }
        if (vr != X509_V_OK)
            return fail(c, verify_error(c, vr, why, wn));
    }
    if (c->pinned) {
        int rc = pin_check(c, peer, why, wn);
        if (rc)
            return fail(c, rc);
    }
    if (fill_info(c)) {
        snprintf(why, wn, "out of memory");
        return fail(c, HF_E_NOMEM);
    }
    c->done = 1;
    /* file the sessions that came during the handshake (TLS 1.2) */
    for (int i = 0; i < c->npend; i++) {
        if (c->tc->closed || cache_put(c->tc, c->skey, c->pend[i]) != 0)
            SSL_SESSION_free(c->pend[i]);
    }
    c->npend = 0;
    if (c->offered) {
        if (!SSL_session_reused(c->ssl) && !c->tc->closed)
            cache_drop(c->tc, c->skey, c->offered);   /* the server refused it */
        SSL_SESSION_free(c->offered);
        c->offered = NULL;
    }
    ERR_clear_error();
    *done = 1;
    return 0;
}

/* An error of SSL_read / SSL_write: 0 with *want, 0 for the end of the
 * stream (*eof), or an HF_E_* with why. */
static int io_error(tls_conn *c, int r, int *want, int *eof, int deflt,
                    char *why, size_t wn)
{
    int e = SSL_get_error(c->ssl, r);
    char reason[200];
    unsigned long code;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = c->io.lwant ? c->io.lwant : LOOP_READ;
        ERR_clear_error();
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *want = c->io.lwant ? c->io.lwant : LOOP_WRITE;
        ERR_clear_error();
        return 0;
    case SSL_ERROR_ZERO_RETURN:       /* close_notify */
        *eof = 1;
        ERR_clear_error();
        return 0;
    case SSL_ERROR_SYSCALL:
        code = ssl_reason(reason, sizeof reason);
        if (!code && !c->io.err && !c->io.lrc) {  /* no close_notify */
            c->unclean_eof = 1;
            *eof = 1;
            return 0;
        }
        c->failed = 1;
        if (c->io.err)
            errno_text(c->io.err, why, wn);
        else if (c->io.lrc)
            snprintf(why, wn, "%s", c->io.lwhy);
        else
            snprintf(why, wn, "%s", reason);
        return deflt;
    default:
        code = ssl_reason(reason, sizeof reason);
        if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            /* like curl for HTTP/1.1: the framing decides what is missing */
            c->unclean_eof = 1;
            *eof = 1;
            return 0;
        }
        c->failed = 1;
        snprintf(why, wn, "%s", reason[0] ? reason : "TLS error");
        /* a TLS 1.3 server rejects our certificate (or the lack of one)
         * only after our side of the handshake is done: the alert comes
         * with the first read.  That is a handshake failure. */
        if (deflt == HF_E_RECV && !c->got_data && is_alert(code))
            return HF_E_SSL_CONNECT;
        return deflt;
    }
}

static int tls_send(filter *f, const void *p, size_t n, size_t *nw, int *want,
                    char *why, size_t wn)
{
    tls_conn *c = conn_of(f);
    *nw = 0;
    *want = 0;
    if (!c->done || c->failed) {
        snprintf(why, wn, "TLS connection not usable");
        return HF_E_SEND;
    }
    if (n == 0)
        return 0;
    ERR_clear_error();
    io_reset(&c->io);
    size_t w = 0;
    int r = SSL_write_ex(c->ssl, p, n, &w);
    if (r == 1) {
        *nw = w;
        return 0;
    }
    int eof = 0;
    int rc = io_error(c, r, want, &eof, HF_E_SEND, why, wn);
    if (!rc && eof) {           /* cannot write after the peer closed */
        c->failed = 1;
        snprintf(why, wn, "the server closed the connection");
        return HF_E_SEND;
    }
    return rc;
}

static int tls_recv(filter *f, void *p, size_t n, size_t *nr, int *want,
                    char *why, size_t wn)
{
    tls_conn *c = conn_of(f);
    *nr = 0;
    *want = 0;
    if (!c->done || c->failed) {
        snprintf(why, wn, "TLS connection not usable");
        return HF_E_RECV;
    }
    ERR_clear_error();
    io_reset(&c->io);
    size_t got = 0;
    int r = SSL_read_ex(c->ssl, p, n, &got);
    if (r == 1) {
        c->got_data = 1;
        *nr = got;
        return 0;
    }
    int eof = 0;
    return io_error(c, r, want, &eof, HF_E_RECV, why, wn);
}

/* Bytes epoll cannot see: a record (or part of one) inside OpenSSL,
 * bytes read ahead in bio_read, or bytes the layer below holds. */
static int tls_pending(const filter *f)
{
    const tls_conn *c = conn_of(f);
    return c->done && !c->failed &&
           (SSL_has_pending(c->ssl) || c->io.roff < c->io.rlen ||
            (c->io.lower && c->io.lower->ops->pending(c->io.lower)));
}

static void tls_shutdown(filter *f)
{
    tls_conn *c = conn_of(f);
    if (c->done && !c->failed && !c->unclean_eof &&
        !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        io_reset(&c->io);
        (void)SSL_shutdown(c->ssl); /* sends close_notify; never waits */
        ERR_clear_error();
    }
    if (c->below)                   /* then the layers below, in order */
        c->below->ops->shutdown(c->below);
}

static void tls_destroy(filter *f)
{
    if (!f)
        return;
    tls_conn *c = f->ctx;
    if (c) {
        pend_free(c);
        SSL_SESSION_free(c->offered);
        SSL_free(c->ssl);           /* and the BIO */
        free(c->io.rb);
        if (c->below)
            c->below->ops->destroy(c->below);
        ERR_clear_error();
        tc_release(c->tc);
        free(c->info.certs);
        free(c->skey);
        free(c->host);
        free(c->pinned);
        free(c);
    }
    free(f);
}

static const filter_ops tls_ops = {
    "tls", tls_handshake, tls_send, tls_recv, tls_pending, tls_shutdown,
    tls_destroy,
};

static tls_conn *conn_of(const filter *f)
{
    return f->ctx;
}

const tls_info *tls_filter_info(const filter *f)
{
    if (!f || f->ops != &tls_ops)
        return NULL;
    const tls_conn *c = f->ctx;
    return c->done ? &c->info : NULL;
}

/* 1 when the peer ended the stream without close_notify (the stream was
 * then reported as ended; the caller's framing decides if data is
 * missing). */
int tls_filter_unclean_close(const filter *f)
{
    if (!f || f->ops != &tls_ops)
        return 0;
    const tls_conn *c = f->ctx;
    return c->unclean_eof;
}

/* Host as a bare address or name: brackets and an IPv6 zone removed, a
 * trailing dot dropped.  Sets *is_ip. */
static int host_clean(const char *host, char *out, size_t n, int *is_ip)
{
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= n)
        return -1;
    memcpy(out, host, len);
    out[len] = 0;
    char *pct = strchr(out, '%');
    unsigned char a[16];
    if (pct && strchr(out, ':'))
        *pct = 0;               /* fe80::1%eth0: the zone is not in a cert */
    *is_ip = inet_pton(AF_INET, out, a) == 1 || inet_pton(AF_INET6, out, a) == 1;
    if (!*is_ip) {
        if (pct)
            return -1;
        if (len > 1 && out[len - 1] == '.')
            out[len - 1] = 0;
    }
    return 0;
}

/* The layer the TLS BIO can bypass: the plain socket (conn.c). */
static int is_socket_layer(const filter *f)
{
    return f->ops->name && strcmp(f->ops->name, "tcp") == 0;
}

/* A TLS filter on fd, or over lower when it is not NULL (then fd is
 * lower's, and lower is taken on success only). */
static int filter_new(tls_client *tc, const tls_config *cfg, int fd,
                      filter *lower, const char *host, int port, filter **out,
                      char *why, size_t wn)
{
    char name[256];
    int is_ip = 0, rc;
    if (out)
        *out = NULL;
    if (!tc || !cfg || !host || !out || fd < 0 || tc->closed ||
        host_clean(host, name, sizeof name, &is_ip)) {
        snprintf(why, wn, "bad arguments for TLS");
        return HF_E_BAD_FUNCTION_ARG;
    }
    ERR_clear_error();
    char *key = tls_config_key(cfg);
    if (!key) {
        snprintf(why, wn, "out of memory");
        return HF_E_NOMEM;
    }
    SSL_CTX *ctx;
    rc = ctx_get(tc, cfg, key, &ctx, why, wn);
    if (rc) {
        free(key);
        ERR_clear_error();
        return rc;
    }
    filter *f = calloc(1, sizeof *f);
    tls_conn *c = calloc(1, sizeof *c);
    /* the session key: the peer, the way to it (B.14: a session of the
     * origin reached through a proxy is never offered to another path),
     * and the configuration */
    const char *via = cfg->via ? cfg->via : "";
    size_t sn = strlen(name) + strlen(via) + strlen(key) + 48;
    char *skey = malloc(sn);
    if (!f || !c || !skey || !(c->host = strdup(host)) ||
        (cfg->pinned && !(c->pinned = strdup(cfg->pinned))))
        goto nomem;
    snprintf(skey, sn, "%s:%d|via=%zu:%s|%s", name, port, strlen(via), via,
             key);
    free(key);
    key = NULL;
    c->skey = skey;
    skey = NULL;
    c->insecure = cfg->insecure;
    c->no_session = cfg->no_session;
    c->io.fd = fd;
    c->io.lower = lower && !is_socket_layer(lower) ? lower : NULL;
    f->ops = &tls_ops;
    f->fd = fd;
    f->ctx = c;
    if (!(c->ssl = SSL_new(ctx)))
        goto nomem;
    c->tc = tc;
    tc->refs++;
    BIO *b = BIO_new(tc->biom);
    if (!b)
        goto nomem;
    BIO_set_data(b, &c->io);
    BIO_set_init(b, 1);
    SSL_set_bio(c->ssl, b, b);      /* one reference, for both directions */
    SSL_set_app_data(c->ssl, c);
    SSL_set_connect_state(c->ssl);
    if (is_ip) {
        /* no SNI for addresses (RFC 6066 3); only an IP SAN matches */
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name)) {
            snprintf(why, wn, "cannot check the certificate against %s", name);
            rc = HF_E_BAD_FUNCTION_ARG;
            goto fail;
        }
    } else {
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!SSL_set_tlsext_host_name(c->ssl, name) || !SSL_set1_host(c->ssl, name)) {
            snprintf(why, wn, "cannot use host name %s for TLS", name);
            rc = HF_E_BAD_FUNCTION_ARG;
            goto fail;
        }
    }
    SSL_SESSION *s = c->no_session ? NULL : cache_take(tc, c->skey);
    if (s) {
        if (SSL_set_session(c->ssl, s))
            c->offered = s;         /* our reference, until the handshake ends */
        else
            SSL_SESSION_free(s);
    }
    ERR_clear_error();
    c->below = lower;               /* owned from now on */
    *out = f;
    return 0;
nomem:
    snprintf(why, wn, "out of memory");
    rc = HF_E_NOMEM;
fail:
    free(key);
    free(skey);
    if (f && f->ctx) {
        tls_destroy(f);
    } else {
        if (c) {
            free(c->host);
            free(c->pinned);
            free(c->skey);
        }
        free(c);
        free(f);
    }
    ERR_clear_error();
    return rc;
}

int tls_filter_new(tls_client *tc, const tls_config *cfg, int fd,
                   const char *host, int port, filter **out,
                   char *why, size_t wn)
{
    return filter_new(tc, cfg, fd, NULL, host, port, out, why, wn);
}

int tls_filter_new_over(tls_client *tc, const tls_config *cfg, filter *lower,
                        const char *host, int port, filter **out,
                        char *why, size_t wn)
{
    if (out)
        *out = NULL;
    if (!lower) {
        snprintf(why, wn, "bad arguments for TLS");
        return HF_E_BAD_FUNCTION_ARG;
    }
    return filter_new(tc, cfg, lower->fd, lower, host, port, out, why, wn);
}
