/*
 * hflow.h -- the public API of libhflow, an HTTP client that shows its flow.
 *
 * Handles are opaque; the caller owns what it creates and frees it with the
 * matching _free function (all _free functions accept NULL).  Every call that
 * can fail returns an hf_err; HF_OK is 0.  Error values are curl's exit codes
 * where the meaning is the same, so a command-line tool can exit with them.
 *
 * Threads: one hf_client per thread.  Nothing here keeps global state.
 */
#ifndef HF_H
#define HF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HF_EXTERN __attribute__((visibility("default")))
#else
#define HF_EXTERN
#endif

#define HF_VERSION "0.1.0"

/* X-macro: name, value, message.  Values are never renumbered. */
#define HF_ERRNO_MAP(XX)                                                      \
    XX(OK, 0, "no error")                                                     \
    XX(UNSUPPORTED_PROTOCOL, 1, "unsupported protocol")                       \
    XX(BAD_ARG, 2, "bad argument")                                            \
    XX(URL, 3, "malformed URL")                                               \
    XX(RESOLVE_PROXY, 5, "could not resolve proxy")                           \
    XX(RESOLVE, 6, "could not resolve host")                                  \
    XX(CONNECT, 7, "could not connect")                                       \
    XX(WEIRD_REPLY, 8, "weird server reply")                                  \
    XX(PARTIAL, 18, "transfer closed with data outstanding")                  \
    XX(HTTP_STATUS, 22, "HTTP error status")                                  \
    XX(WRITE, 23, "write error")                                              \
    XX(READ, 26, "read error on upload source")                               \
    XX(NOMEM, 27, "out of memory")                                            \
    XX(TIMEOUT, 28, "timeout")                                                \
    XX(BAD_FUNCTION_ARG, 43, "bad function argument")                         \
    XX(ABORTED, 42, "transfer cancelled")                                     \
    XX(TOO_MANY_REDIRECTS, 47, "too many redirects")                          \
    XX(GOT_NOTHING, 52, "empty reply from server")                            \
    XX(SSL_CONNECT, 35, "TLS handshake failed")                               \
    XX(SEND, 55, "send failure")                                              \
    XX(RECV, 56, "receive failure")                                           \
    XX(SSL_CERTPROBLEM, 58, "problem with the local client certificate")      \
    XX(SSL_CIPHER, 59, "could not use the given ciphers or curves")           \
    XX(PEER_CERT, 60, "server certificate verification failed")               \
    XX(BAD_CONTENT_ENCODING, 61, "bad content encoding")                      \
    XX(TOO_LARGE, 63, "maximum size exceeded")                                \
    XX(SEND_FAIL_REWIND, 65, "the request body cannot be sent again")         \
    XX(SSL_CACERT_BADFILE, 77, "problem with the CA certificate file")        \
    XX(SSL_PINNEDPUBKEY, 90, "public key does not match the pinned key")     \
    XX(PROXY, 97, "proxy handshake failed")

typedef enum hf_err {
#define HF_XX_ENUM(name, val, msg) HF_E_##name = val,
    HF_ERRNO_MAP(HF_XX_ENUM)
#undef HF_XX_ENUM
} hf_err;
#define HF_OK HF_E_OK

/* A static string for an error value; never NULL. */
HF_EXTERN const char *hf_strerror(hf_err e);
/* "6" -> "RESOLVE": the enum name without the prefix, or "UNKNOWN". */
HF_EXTERN const char *hf_err_name(hf_err e);

typedef struct hf_client hf_client;
typedef struct hf_request hf_request;
typedef struct hf_response hf_response;

/* ---- client: loop, connection pool, name overrides, defaults ---------- */

/* A new client, or NULL when out of memory. */
HF_EXTERN hf_client *hf_client_new(void);
/* Closes pooled connections and frees everything the client owns.
 * Transfers still pending end without their done callbacks (their
 * responses are freed). */
HF_EXTERN void hf_client_free(hf_client *c);
/* curl's --resolve syntax: "HOST:PORT:ADDR[,ADDR...]" (IPv6 ADDR may be
 * bracketed); a leading '-' removes an entry.  HF_E_BAD_ARG on bad syntax. */
HF_EXTERN hf_err hf_client_resolve(hf_client *c, const char *spec);
/* Restrict addresses to a family: 0 any, 4 IPv4 only, 6 IPv6 only. */
HF_EXTERN hf_err hf_client_set_ip_family(hf_client *c, int family);
/* Connection timeout (name resolution and TCP), ms; 0 means the default
 * of 300 s.  A request's own value overrides it. */
HF_EXTERN hf_err hf_client_set_connect_timeout_ms(hf_client *c, long ms);
/* DNS: the client asks DNS servers itself (hosts file first, then the
 * nameservers of resolv.conf over UDP, TCP when truncated, with a cache).
 * dns_servers "ADDR[:PORT][,...]" ("[::1]:53" for IPv6) replaces the
 * nameservers of resolv.conf (NULL: back to resolv.conf). */
HF_EXTERN hf_err hf_client_set_dns_servers(hf_client *c, const char *servers);
/* Files read instead of /etc/resolv.conf and /etc/hosts (NULL: default). */
HF_EXTERN hf_err hf_client_set_dns_files(hf_client *c, const char *resolv_conf,
                                         const char *hosts);
/* 1: use the system resolver (getaddrinfo, on a helper thread). */
HF_EXTERN hf_err hf_client_set_dns_system(hf_client *c, int on);
/* Happy eyeballs (RFC 8305): start the next connection attempt after this
 * many ms while earlier ones are pending (default 200). */
HF_EXTERN hf_err hf_client_set_happy_eyeballs_ms(hf_client *c, long ms);
/* The TCP handshake's last segment.  0 (the default): the ACK that
 * answers the server's SYN-ACK rides on the first bytes hflow sends (the
 * request, a ClientHello, a proxy greeting), which leave at once: one
 * segment fewer, and the server's accept() finds the request there.
 * 1: the kernel sends that ACK alone at once, as curl's connections do. */
HF_EXTERN hf_err hf_client_set_tcp_quickack(hf_client *c, int on);
/* Cookies (RFC 6265bis, public suffixes refused with libpsl): the client's
 * engine stores Set-Cookie answers (at most 50 a response) and sends what
 * matches (at most 150 cookies, 8190 bytes).  Off until enabled or loaded.
 * load reads a Netscape/curl cookie file (junk_session drops session
 * cookies, curl's -j); a file that does not exist is not an error.  save
 * writes one with mode 0600 and an atomic rename. */
HF_EXTERN hf_err hf_client_cookies_enable(hf_client *c);
HF_EXTERN hf_err hf_client_cookies_load(hf_client *c, const char *path,
                                        int junk_session);
HF_EXTERN hf_err hf_client_cookies_save(hf_client *c, const char *path);
/* Number of TCP connections the client has opened so far. */
HF_EXTERN long hf_client_num_connects(const hf_client *c);

/* ---- request ------------------------------------------------------------ */

/* A new request; method is any token ("GET", "PROPFIND"), url an absolute
 * http:// URL.  Both are copied.  NULL when out of memory.  An invalid
 * method or URL is reported by hf_send (so the caller gets the message). */
HF_EXTERN hf_request *hf_request_new(const char *method, const char *url);
HF_EXTERN void hf_request_free(hf_request *r);

/* Set a header.  value NULL removes a default header (Host, User-Agent,
 * Accept, ...) or an earlier user header of that name; value "" sends it
 * empty.  A user header replaces a default of the same name.  CR, LF or NUL
 * in name or value, or a name that is not a token: HF_E_BAD_ARG. */
HF_EXTERN hf_err hf_request_header(hf_request *r, const char *name,
                                   const char *value);
/* curl's -H syntax: "Name: value" sets, "Name:" removes, "Name;" sends an
 * empty header. */
HF_EXTERN hf_err hf_request_header_line(hf_request *r, const char *line);

/* HTTP Basic credentials (RFC 7617), copied; they take precedence over a
 * URL's userinfo.  An Authorization header set by the caller wins over
 * both.  password NULL means empty. */
HF_EXTERN hf_err hf_request_set_basic_auth(hf_request *r, const char *user,
                                           const char *password);

/* Which schemes to answer a 401 with: HF_AUTH_BASIC (sent at once, the
 * default) or HF_AUTH_DIGEST (RFC 7616: MD5 or SHA-256, qop=auth, sent in
 * answer to the server's challenge, curl's --digest). */
enum { HF_AUTH_BASIC = 1, HF_AUTH_DIGEST = 2 };
HF_EXTERN hf_err hf_request_set_auth_methods(hf_request *r, unsigned methods);
/* Credentials from a .netrc file for each host asked (curl's rules: the
 * first matching machine, else default; an entry without a password never
 * borrows another's).  mode: 0 off, 1 -n (the file must be readable),
 * 2 --netrc-optional.  file NULL: $HOME/.netrc.  Explicit credentials win. */
HF_EXTERN hf_err hf_request_set_netrc(hf_request *r, int mode, const char *file);

/* A request body held in memory (copied).  Sends Content-Length. */
HF_EXTERN hf_err hf_request_body(hf_request *r, const void *data, size_t len);

/* A streamed request body.  read() fills buf with up to cap bytes, stores
 * the count in *n (0 = end) and returns 0, or non-zero to abort (HF_E_READ).
 * len is the total size, or -1 when unknown (then sent chunked). */
typedef int hf_read_fn(void *arg, void *buf, size_t cap, size_t *n);
HF_EXTERN hf_err hf_request_body_reader(hf_request *r, hf_read_fn *read,
                                        void *arg, int64_t len);

/* The body of a file, read as it is sent (its size, from fstat when the
 * request starts, is the Content-Length).  The path is copied; the file is
 * opened for each send, so the request can be sent again.  A file that
 * cannot be opened fails the transfer with HF_E_READ (26). */
HF_EXTERN hf_err hf_request_body_file(hf_request *r, const char *path);

/* Proxies (curl's -x and friends).  spec: [scheme://][user:pass@]host[:port]
 * with scheme http (the default: absolute-form requests for http URLs, a
 * CONNECT tunnel for https), https (TLS to the proxy, then as http),
 * socks4, socks4a, socks5 (hflow resolves the origin) or socks5h (the
 * proxy resolves it); default port 1080 (https: 443).  NULL (the default):
 * from the environment as curl reads it (http_proxy -- never HTTP_PROXY --,
 * https_proxy / HTTPS_PROXY, all_proxy / ALL_PROXY, no_proxy / NO_PROXY);
 * "": no proxy at all.  A bad spec fails the transfer (HF_E_BAD_ARG). */
HF_EXTERN hf_err hf_request_set_proxy(hf_request *r, const char *spec);
/* curl's --noproxy: hosts that go direct ("*", names matched as domain
 * suffixes, addresses and CIDR blocks, comma-separated).  NULL: the
 * environment's no_proxy; "": none. */
HF_EXTERN hf_err hf_request_set_noproxy(hf_request *r, const char *list);
/* Proxy credentials (-U) and how to send them: HF_AUTH_BASIC at once (the
 * default), HF_AUTH_DIGEST in answer to a 407.  They override the spec's.
 * They go to the proxy only: in CONNECT, or in the requests themselves for
 * http URLs sent to an http proxy without a tunnel; never to the origin.
 * user NULL sets the method only, for the credentials of the proxy's URL
 * ("http://user:password@proxy"). */
HF_EXTERN hf_err hf_request_set_proxy_auth(hf_request *r, const char *user,
                                           const char *password,
                                           unsigned methods);
/* -p: tunnel http URLs through an http proxy with CONNECT too. */
HF_EXTERN hf_err hf_request_set_proxy_tunnel(hf_request *r, int on);
/* --proxy-header: a header for the proxy only (curl's -H syntax).  The
 * request's own headers never go into CONNECT. */
HF_EXTERN hf_err hf_request_proxy_header(hf_request *r, const char *line);
/* TLS to an https:// proxy: --proxy-cacert / --proxy-capath and
 * --proxy-insecure (verification is on by default). */
HF_EXTERN hf_err hf_request_set_proxy_tls(hf_request *r, const char *cafile,
                                          const char *capath, int insecure);
/* --preproxy: a SOCKS proxy to reach the (http or https) proxy through. */
HF_EXTERN hf_err hf_request_set_preproxy(hf_request *r, const char *spec);

/* TLS (https).  Verification is on by default; each setter copies its
 * strings; NULL restores the default.  A connection or TLS session made
 * under one configuration is never reused under another. */
/* -k: skip chain and host name verification, for this request only. */
HF_EXTERN hf_err hf_request_set_insecure(hf_request *r, int on);
/* CA bundle file and CA directory (default: SSL_CERT_FILE / SSL_CERT_DIR,
 * else /etc/ssl/certs/ca-certificates.crt). */
HF_EXTERN hf_err hf_request_set_ca(hf_request *r, const char *cafile,
                                   const char *capath);
/* TLS versions: 0 (default), 12 (TLS 1.2) or 13 (TLS 1.3). */
HF_EXTERN hf_err hf_request_set_tls_versions(hf_request *r, int min, int max);
/* Cipher lists (OpenSSL syntax) for TLS <= 1.2 and for TLS 1.3, and the
 * key exchange groups ("X25519:P-256"). */
HF_EXTERN hf_err hf_request_set_ciphers(hf_request *r, const char *tls12,
                                        const char *tls13,
                                        const char *curves);
/* Client certificate (PEM; the key may be in the same file) and key. */
HF_EXTERN hf_err hf_request_set_client_cert(hf_request *r, const char *cert,
                                            const char *key,
                                            const char *password);
/* curl's --pinnedpubkey: "sha256//BASE64[;sha256//BASE64...]" or a file
 * with the public key (PEM or DER). */
HF_EXTERN hf_err hf_request_set_pinned_pubkey(hf_request *r,
                                              const char *spec);
/* TLS session resumption (curl's --no-sessionid turns it off): on (1, the
 * default), a new connection offers a session saved from an earlier one to
 * the same host and port under the same configuration; off (0), every
 * handshake is a full one and no session is saved. */
HF_EXTERN hf_err hf_request_set_session_reuse(hf_request *r, int on);

/* Redirects (curl's -L): follow at most max_redirs (curl's default with
 * -L is 30; -1, the default, does not follow).  Each hop is a response of
 * its own, with its own timings and trace (hf_response_previous).  301/302
 * turn POST into GET and 303 turns everything but HEAD into GET, unless the
 * flags keep it; 307/308 keep method and body (a streamed body cannot be
 * sent twice: HF_E_SEND_FAIL_REWIND).  Credentials (Basic, the URL's,
 * Authorization) and user Cookie headers are not sent to another scheme,
 * host or port unless HF_FOLLOW_TRUSTED, and stay stripped once dropped. */
enum { HF_FOLLOW_POST301 = 1, HF_FOLLOW_POST302 = 2, HF_FOLLOW_POST303 = 4,
       HF_FOLLOW_TRUSTED = 8 };
HF_EXTERN hf_err hf_request_set_follow(hf_request *r, long max_redirs,
                                       unsigned flags);

/* Whole-request time limit in ms (0 = none), and connect limit (0 = the
 * client's). */
HF_EXTERN hf_err hf_request_set_timeout_ms(hf_request *r, long ms);
HF_EXTERN hf_err hf_request_set_connect_timeout_ms(hf_request *r, long ms);

/* Limits per phase, in ms (0 = none), which no common client has: name
 * resolution, the TLS handshake, the time from the request sent to the
 * first response byte, and the longest silence while receiving.  Each
 * fails with HF_E_TIMEOUT and a message that names the phase. */
HF_EXTERN hf_err hf_request_set_phase_timeouts(hf_request *r, long dns_ms,
                                               long tls_ms, long ttfb_ms,
                                               long idle_ms);
/* curl's -Y/-y: fail (HF_E_TIMEOUT) when the transfer is slower than
 * bytes_per_sec for seconds in a row. */
HF_EXTERN hf_err hf_request_set_speed_limit(hf_request *r, long bytes_per_sec,
                                            long seconds);
/* curl's --max-filesize: a body larger than this (announced, or decoded
 * so far) fails with HF_E_TOO_LARGE (63).  0 = none. */
HF_EXTERN hf_err hf_request_set_max_filesize(hf_request *r, int64_t bytes);

/* Ask for and decode content encodings: gzip, deflate, br, zstd, stacked
 * up to 5 (curl --compressed).
 * A corrupt or truncated encoded body is HF_E_BAD_CONTENT_ENCODING. */
HF_EXTERN hf_err hf_request_set_decompress(hf_request *r, int on);

/* Send "Expect: 100-continue" for bodies larger than this many bytes
 * (default 1 MiB, as curl; -1 never). */
HF_EXTERN hf_err hf_request_set_expect_threshold(hf_request *r, int64_t n);

/* Body sink: called with each piece of the (decoded) body as it arrives;
 * return 0 to go on, HF_WRITE_PAUSE to take this piece and receive nothing
 * more until hf_transfer_resume (back-pressure: hflow stops reading the
 * socket, so TCP's window stops the server), or anything else to abort
 * the transfer with HF_E_WRITE.  Without a sink the body is kept in
 * memory (hf_response_body). */
#define HF_WRITE_PAUSE 0x10000001 /* hf_submit only: under hf_send, which
                                   * gives no handle to resume, it aborts */
typedef int hf_write_fn(void *arg, const void *data, size_t len);
HF_EXTERN hf_err hf_request_set_sink(hf_request *r, hf_write_fn *fn,
                                     void *arg);
/* The body written to a file instead (created or truncated, mode 0666
 * less the umask, when the final response's body begins; a redirect's
 * body is never written).  path is copied; NULL turns it off.  A write
 * that fails ends the transfer with HF_E_WRITE (23). */
HF_EXTERN hf_err hf_request_set_output_file(hf_request *r, const char *path);

/* Called once the final response head is parsed, before any body byte
 * reaches the sink.  Return HF_HEAD_CONTINUE, HF_HEAD_DISCARD (read the
 * body but do not deliver it), or HF_HEAD_ABORT (stop; hf_send returns
 * HF_E_WRITE). The response is borrowed for the call. */
enum { HF_HEAD_CONTINUE = 0, HF_HEAD_DISCARD = 1, HF_HEAD_ABORT = 2 };
typedef int hf_head_fn(void *arg, const hf_response *resp);
HF_EXTERN hf_err hf_request_set_head_fn(hf_request *r, hf_head_fn *fn,
                                        void *arg);

/* The flow as it happens (curl's debug callback, with times):
 * INFO is a line of text about a step; HEADER_OUT / HEADER_IN are the
 * request and response heads as sent/received; DATA_OUT / DATA_IN body
 * bytes.  t_ns is CLOCK_MONOTONIC ns since the request was queued. */
typedef enum hf_info {
    HF_INFO_TEXT = 0,
    HF_INFO_HEADER_OUT,
    HF_INFO_HEADER_IN,
    HF_INFO_DATA_OUT,
    HF_INFO_DATA_IN
} hf_info;
typedef void hf_debug_fn(void *arg, hf_info type, uint64_t t_ns,
                         const char *data, size_t len);
HF_EXTERN hf_err hf_request_set_debug_fn(hf_request *r, hf_debug_fn *fn,
                                         void *arg);

/* ---- sending ------------------------------------------------------------- */

/* Blocking: run the client's loop until the request is done (other
 * submitted transfers progress meanwhile).  From inside a callback of the
 * same client it returns HF_E_BAD_FUNCTION_ARG, as do hf_client_run and
 * hf_client_process.  *out receives a response even
 * on failure (with what was learnt: timings, the error message), or NULL
 * only when memory ran out.  The request may be sent again.  Returns
 * HF_OK or the error.  Not from inside a callback of the same client. */
HF_EXTERN hf_err hf_send(hf_client *c, hf_request *r, hf_response **out);

/* ---- many transfers at once ---------------------------------------------- */

/* A submitted request, from hf_submit until its done callback returns. */
typedef struct hf_transfer hf_transfer;

/* Called once for every submitted request, from inside hf_client_run,
 * hf_client_process or hf_send: after the last hop (redirects and a
 * Digest answer are followed inside one transfer), on failure, or after
 * hf_transfer_cancel.  resp belongs to the callee (hf_response_free); it
 * is NULL only when memory ran out (err HF_E_NOMEM).  x is invalid once
 * the callback returns.  From the callback the caller may submit, cancel,
 * pause or resume transfers and free the request; not hf_client_free,
 * hf_client_run or hf_send. */
typedef void hf_done_fn(void *arg, hf_transfer *x, hf_response *resp,
                        hf_err err);

/* Queue a request on the client; it starts when the client's limits and
 * rate allow (hf_client_set_limits, hf_client_set_rate), while the caller
 * runs the client.  The request is borrowed: it must stay alive and
 * unchanged until done is called.  The same request may be submitted
 * several times at once.  *out (if out is not NULL) receives the handle.
 * Returns HF_OK, HF_E_BAD_FUNCTION_ARG, or HF_E_NOMEM (then done is never
 * called). */
HF_EXTERN hf_err hf_submit(hf_client *c, hf_request *r, hf_done_fn *done,
                           void *arg, hf_transfer **out);
/* The same, started no sooner than delay_ms from now (a retry's backoff). */
HF_EXTERN hf_err hf_submit_delayed(hf_client *c, hf_request *r,
                                   long delay_ms, hf_done_fn *done,
                                   void *arg, hf_transfer **out);
/* Run the client's loop until no submitted transfer is left, or for at
 * most timeout_ms (-1: no limit).  HF_OK when none is left, HF_E_TIMEOUT
 * when some still are, HF_E_RECV if the loop itself failed. */
HF_EXTERN hf_err hf_client_run(hf_client *c, long timeout_ms);
/* Transfers submitted whose done callback has not run yet. */
HF_EXTERN size_t hf_client_pending(const hf_client *c);

/* With the caller's own event loop (as libcurl's multi_socket): wait
 * until hf_client_fd is readable (poll/epoll/select; it is an epoll
 * descriptor that stands for every socket of the client) or
 * hf_client_timeout_ms passes (-1: no timer is set, 0: call at once),
 * then call hf_client_process, which handles what is ready without
 * blocking and calls the done callbacks. */
HF_EXTERN int hf_client_fd(const hf_client *c);
HF_EXTERN long hf_client_timeout_ms(const hf_client *c);
HF_EXTERN hf_err hf_client_process(hf_client *c);

/* Cancel: the transfer ends with HF_E_ABORTED (42) at any point -- queued,
 * resolving, connecting, sending or receiving; its connection is closed
 * (hflow sends RST when unread bytes remain) unless it was still unused.
 * The done callback runs from the loop, not from inside this call.
 * Cancelling a transfer that has ended but whose callback has not run yet
 * (or that is already cancelled) does nothing.  Once the done callback has
 * returned, x is freed: keep no copy of it (clear yours in the callback). */
HF_EXTERN hf_err hf_transfer_cancel(hf_transfer *x);
/* Pause: stop receiving (the sink gets nothing and the socket is not read)
 * until resume.  Timeouts keep running.  Resume may be called from any
 * callback. */
HF_EXTERN hf_err hf_transfer_pause(hf_transfer *x);
HF_EXTERN hf_err hf_transfer_resume(hf_transfer *x);
/* The request a transfer was submitted with. */
HF_EXTERN hf_request *hf_transfer_request(const hf_transfer *x);

/* Limits, each 0 for none (the default): transfers running at once in
 * all, and to one host (name and port); and connections to one host (in
 * use and idle).  In HTTP/1.1 a connection carries one transfer at a
 * time, so a transfer to a host at its limit waits in the queue.
 * Transfers to other hosts pass a waiting one.  The pool keeps up to
 * max(4, per-host limit) idle connections a host. */
HF_EXTERN hf_err hf_client_set_limits(hf_client *c, long max_transfers,
                                      long max_per_host,
                                      long max_conns_per_host);
/* Rates at which transfers start, as token buckets: per_second tokens
 * flow in, up to burst (0 means 1: evenly spaced starts); a transfer
 * starts when a token is there.  global counts every start, per_host the
 * starts to each host.  0 per_second: no limit. */
HF_EXTERN hf_err hf_client_set_rate(hf_client *c, double per_second,
                                    long burst);
HF_EXTERN hf_err hf_client_set_host_rate(hf_client *c, double per_second,
                                         long burst);

/* ---- response ------------------------------------------------------------ */

HF_EXTERN void hf_response_free(hf_response *resp);
/* Status code (0 when no response was received) and HTTP minor version. */
HF_EXTERN int hf_response_status(const hf_response *resp);
HF_EXTERN int hf_response_http_minor(const hf_response *resp);
HF_EXTERN const char *hf_response_reason(const hf_response *resp);
/* First header of that name (case-insensitive), or NULL.  Borrowed. */
HF_EXTERN const char *hf_response_header(const hf_response *resp,
                                         const char *name);
/* Header i in received order; returns 0, or -1 past the end.  Borrowed. */
HF_EXTERN size_t hf_response_header_count(const hf_response *resp);
HF_EXTERN int hf_response_header_at(const hf_response *resp, size_t i,
                                    const char **name, const char **value);
/* The response head exactly as received (status line to blank line). */
HF_EXTERN const char *hf_response_head_raw(const hf_response *resp,
                                           size_t *len);
/* The body kept in memory (no sink set); borrowed; NUL-terminated. */
HF_EXTERN const void *hf_response_body(const hf_response *resp, size_t *len);
/* Error of the transfer (HF_OK if it succeeded) and its one-line message,
 * naming the phase, the peer and the time taken. Borrowed. */
HF_EXTERN hf_err hf_response_error(const hf_response *resp);
HF_EXTERN const char *hf_response_errmsg(const hf_response *resp);
/* The URL that was fetched, canonical form.  Borrowed. */
HF_EXTERN const char *hf_response_url(const hf_response *resp);
/* Body bytes received, as on the wire (before content decoding), as
 * curl's size_download. */
HF_EXTERN int64_t hf_response_size_download(const hf_response *resp);
/* The response of the hop before this one (a redirect), or NULL; owned by
 * this response.  The number of redirects followed to get here, and the
 * time they took in ns (curl's time_redirect). */
HF_EXTERN const hf_response *hf_response_previous(const hf_response *resp);
HF_EXTERN int hf_response_num_redirects(const hf_response *resp);
HF_EXTERN uint64_t hf_response_time_redirect_ns(const hf_response *resp);
/* The request head exactly as sent (request line to blank line), and the
 * body bytes sent.  Borrowed. */
HF_EXTERN const char *hf_response_request_head(const hf_response *resp,
                                               size_t *len);
HF_EXTERN int64_t hf_response_size_upload(const hf_response *resp);
/* The connection's number (#N in -v), or -1 when none was made. */
HF_EXTERN long hf_response_conn_id(const hf_response *resp);
/* Whether the connection was reused from the pool. */
HF_EXTERN int hf_response_reused(const hf_response *resp);
/* Local and remote address as "ADDR:PORT" ("[v6]:PORT"), or "". */
HF_EXTERN const char *hf_response_local_addr(const hf_response *resp);
HF_EXTERN const char *hf_response_remote_addr(const hf_response *resp);

/* Timings in ns since the request was queued, cumulative as curl's -w. */
typedef enum hf_time {
    HF_TIME_NAMELOOKUP = 0,
    HF_TIME_CONNECT,
    HF_TIME_PRETRANSFER,
    HF_TIME_STARTTRANSFER,
    HF_TIME_TOTAL,
    HF_TIME_APPCONNECT,      /* TLS handshake done (0 for http) */
    HF_TIME_POSTTRANSFER,    /* the whole request was sent */
    HF_TIME_PROXY_CONNECT,   /* connected to the proxy (TCP, and TLS to an
                              * https proxy); 0 without a proxy */
    HF_TIME_TUNNEL,          /* the proxy's tunnel is up (CONNECT 2xx or
                              * the SOCKS reply); 0 without one */
    HF_TIME__COUNT
} hf_time;
HF_EXTERN uint64_t hf_response_time_ns(const hf_response *resp, hf_time t);
/* Whether a proxy was used (curl's proxy_used), the proxy as
 * "scheme://host:port" (no credentials) or "", and the last CONNECT status
 * (curl's http_connect; 0 when none was sent). */
HF_EXTERN int hf_response_proxy_used(const hf_response *resp);
HF_EXTERN const char *hf_response_proxy(const hf_response *resp);
HF_EXTERN int hf_response_http_connect(const hf_response *resp);

/* TLS of the connection the response came on (NULL/0 for http):
 * "TLSv1.3", the cipher, the verification result (0 = ok, else OpenSSL's
 * X509_V_ERR_* code), the number of certificates the server sent, and the
 * chain as text (subject, issuer, SANs, validity, key per certificate). */
HF_EXTERN const char *hf_response_tls_version(const hf_response *resp);
HF_EXTERN const char *hf_response_tls_cipher(const hf_response *resp);
HF_EXTERN long hf_response_ssl_verify_result(const hf_response *resp);
HF_EXTERN int hf_response_num_certs(const hf_response *resp);
HF_EXTERN const char *hf_response_certs(const hf_response *resp);

/* ---- the trace: what happened, step by step --------------------------- */

/* Every transfer records events with CLOCK_MONOTONIC timestamps; so does
 * every connection, until it is closed (which may be after the transfer
 * that used it last: see hf_client_set_event_fn). */
typedef enum hf_ev {
    HF_EV_QUEUED = 0,        /* the transfer began; detail: method and URL */
    HF_EV_REUSED,            /* an idle connection is reused: no DNS, TCP
                              * or TLS step for this transfer */
    HF_EV_DNS_START,         /* detail: the name */
    HF_EV_DNS_ANSWER,        /* one family's answer: peer = the server asked
                              * ("" for cache / hosts / system), detail =
                              * "A 127.0.0.1 ttl=300 ..." with the source,
                              * transport and CNAME chain; value = the
                              * query's duration in ns */
    HF_EV_DNS_END,           /* value = addresses found */
    HF_EV_CONNECT_START,     /* an attempt (SYN): peer; value = attempt # */
    HF_EV_CONNECT_FAILED,    /* peer; value = errno; detail = the cause */
    HF_EV_TCP_ESTABLISHED,   /* SYN-ACK seen, ACK sent: peer, local, tcp;
                              * value = the handshake's duration in ns */
    HF_EV_TLS_START,         /* ClientHello: detail = SNI and ALPN */
    HF_EV_TLS_END,           /* Finished: detail = version, cipher, group,
                              * ALPN, resumed, verification */
    HF_EV_REQUEST_HEAD,      /* the request head sent; value = bytes */
    HF_EV_REQUEST_BODY,      /* the request body sent; value = bytes */
    HF_EV_FIRST_BYTE,        /* the first response byte */
    HF_EV_RESPONSE_HEAD,     /* a response head (1xx too); value = status,
                              * detail = the status line */
    HF_EV_RESPONSE_BODY,     /* the body is complete; value = bytes */
    HF_EV_POOLED,            /* the connection went back to the pool */
    HF_EV_FIN_SENT,          /* hflow sent FIN (shutdown of its side) */
    HF_EV_FIN_RECEIVED,      /* the server's FIN (end of stream) arrived */
    HF_EV_RST_SENT,          /* hflow closed with unread data: RST */
    HF_EV_RST_RECEIVED,      /* the server reset the connection */
    HF_EV_CLOSED,            /* the socket is closed: closed_by, detail =
                              * the reason, tcp = TCP_INFO at the end */
    HF_EV_ERROR,             /* value = hf_err, detail = the message */
    HF_EV_DONE,              /* the transfer is over */
    HF_EV_POOL_MISS,         /* no pooled connection was reused: detail
                              * says why (none for this scheme, host, port
                              * and TLS configuration; closed by the
                              * server; too old) */
    HF_EV_TUNNEL_START,      /* asking the proxy for a tunnel: peer = the
                              * proxy, detail = "CONNECT host:port" or
                              * "SOCKS5 host:port" */
    HF_EV_TUNNEL_END,        /* the tunnel is up: value = its duration in
                              * ns, detail = the proxy's answer */
    HF_EV__COUNT
} hf_ev;

/* Who closed the connection first (and so holds TIME_WAIT). */
enum { HF_CLOSED_UNKNOWN = 0, HF_CLOSED_BY_CLIENT, HF_CLOSED_BY_SERVER,
       HF_CLOSED_BY_RESET };

/* The kernel's view of the connection (TCP_INFO), when valid. */
typedef struct hf_tcp_info {
    int valid;
    uint32_t rtt_us, rttvar_us;      /* smoothed RTT and its variance */
    uint32_t snd_mss, rcv_mss;       /* MSS each way */
    uint32_t retrans;                /* retransmitted segments in all */
    uint64_t bytes_acked, bytes_received;
    uint64_t delivery_rate;          /* bytes per second */
} hf_tcp_info;

typedef struct hf_event {
    hf_ev type;
    uint64_t t_ns;         /* since the transfer was queued (for events of
                            * a connection after its last transfer: since
                            * that transfer was queued) */
    uint64_t mono_ns;      /* CLOCK_MONOTONIC, absolute */
    long transfer;         /* the transfer's number in its client, from 0 */
    long conn;             /* connection number (#N), or -1 */
    const char *peer;      /* "" when none */
    const char *local;     /* "" when none */
    const char *detail;    /* "" when none */
    int64_t value;         /* by type, above */
    int closed_by;         /* HF_CLOSED_* (HF_EV_CLOSED) */
    hf_tcp_info tcp;       /* HF_EV_TCP_ESTABLISHED, HF_EV_CLOSED */
} hf_event;

typedef struct hf_trace hf_trace;
/* The events of one transfer, up to its end (the connection's fate at
 * that moment included).  Owned by the response. */
HF_EXTERN const hf_trace *hf_response_trace(const hf_response *resp);
HF_EXTERN size_t hf_trace_count(const hf_trace *tr);
/* Event i (0 = first).  Strings stay valid while the trace lives.
 * Returns 0, or -1 past the end. */
HF_EXTERN int hf_trace_event(const hf_trace *tr, size_t i, hf_event *out);
/* "dns_answer" for HF_EV_DNS_ANSWER, ...; "?" when unknown. */
HF_EXTERN const char *hf_ev_name(hf_ev type);

/* Every event of every transfer and connection of the client, as it is
 * recorded (connection teardown after the last transfer included).  The
 * event is borrowed for the call.  Do not call into the client from it. */
typedef void hf_event_fn(void *arg, const hf_event *ev);
HF_EXTERN hf_err hf_client_set_event_fn(hf_client *c, hf_event_fn *fn,
                                        void *arg);
/* Close the idle connections now (hflow sends FIN and waits up to
 * wait_ms for the servers' FIN, so the teardown is seen whole).
 * hf_client_free does this with 100 ms. */
HF_EXTERN void hf_client_close_idle(hf_client *c, long wait_ms);

/* ---- views: the trace and the responses as text ----------------------- */

/* Each returns a NUL-terminated string the caller frees with free(), or
 * NULL when memory ran out.  JSON strings are escaped (control bytes as
 * \u00XX) and valid UTF-8 (other bytes become U+FFFD). */

/* An HTTP Archive (HAR 1.2) of n responses, in that order: one entry each
 * with the request and response heads, cookies, sizes, the connection and
 * the timings (blocked, dns, connect, ssl, send, wait, receive in ms; -1
 * for a phase that did not happen, e.g. dns/connect/ssl on a reused
 * connection; connect includes ssl, as HAR 1.2 says).  started_unix[i] is
 * when response i's transfer began, in seconds since the epoch
 * (CLOCK_REALTIME); NULL derives it from the trace's monotonic times. */
HF_EXTERN char *hf_view_har(const hf_response *const *r, size_t n,
                            const double *started_unix);
/* One event as one JSON object (no newline): the line format of
 * `hflow --trace-json` (docs/TRACE.md). */
HF_EXTERN char *hf_view_event_json(const hf_event *ev);

/* ---- views: the flow drawn for people (--flow, --stat) ------------------ */

/* How a view is drawn: width in columns (0 = 80; no line is ever wider)
 * and color (1: ANSI colours; 0: none, not one ESC byte). */
typedef struct hf_view_opts {
    int width;
    int color;
} hf_view_opts;

/* A sequence diagram of one connection, as text (free() it; NULL when
 * memory ran out; "" for no events; o NULL = defaults).  ev holds that
 * connection's events -- those of the transfers on it, the DNS lookup
 * and connect attempts before it (conn -1, same transfer) and its
 * teardown -- or the events of a transfer that never connected; any
 * order (they are sorted by mono_ns).  Columns: the client (local
 * address), the DNS server (when one was asked) and the web server;
 * arrows for the DNS query and answer, SYN, SYN-ACK, ACK, the TLS
 * handshake, the request and response, FIN and RST each way (with the
 * ACK each FIN implies, marked "implied"); each row with its time since
 * the first event and notes (rtt, ttfb, who closes first); at the end the
 * TCP state of each side (TIME_WAIT on the side that closed first). */
HF_EXTERN char *hf_view_flow(const hf_event *ev, size_t n,
                             const hf_view_opts *o);
/* httpstat's waterfall of one transfer (free() it; NULL when memory ran
 * out): DNS Lookup, TCP Connection, TLS Handshake (https), Server
 * Processing and Content Transfer with their durations, bars in
 * proportion and the cumulative marks (namelookup, connect, pretransfer,
 * starttransfer, total); then the TCP rtt, retransmits and MSS, the DNS
 * server, transport and answers, TLS, and the connection's fate as far as
 * the transfer knows it (pooled, reused, closed by whom). */
HF_EXTERN char *hf_view_stat(const hf_response *r, const hf_view_opts *o);

#ifdef __cplusplus
}
#endif
#endif /* HF_H */
