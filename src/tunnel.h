/* tunnel.h -- proxies as connection layers (filter.h): a handshake-only
 * layer that asks a proxy for a tunnel to the origin -- SOCKS4/4a/5/5h
 * (socks.h) or an HTTP CONNECT (proxy.h, RFC 9110 9.3.6) -- over the layer
 * below it (the socket, or TLS to an https:// proxy).  Once the handshake
 * is done the layer passes bytes through unchanged; bytes that came with
 * the proxy's last answer are kept and handed out first (pending() says
 * so).  Errors carry one line that names the proxy and the cause. */
#ifndef HF_TUNNEL_H
#define HF_TUNNEL_H
#include "filter.h"
#include <stddef.h>

enum { TUNNEL_SOCKS4, TUNNEL_SOCKS4A, TUNNEL_SOCKS5, TUNNEL_SOCKS5H,
       TUNNEL_CONNECT };

typedef struct tunnel_cfg {
    int kind;                  /* TUNNEL_* */
    const char *host;          /* the origin: a name, or an address as text
                                * (SOCKS4 / SOCKS5: the caller resolved it) */
    int port;
    const char *proxy;         /* "host:port" of the proxy, for messages */
    const char *user;          /* proxy credentials, or NULL (SOCKS5: RFC
                                * 1929; SOCKS4: the USERID; CONNECT: see
                                * auth) */
    const char *password;      /* NULL means "" */
    unsigned auth;             /* CONNECT: HF_AUTH_BASIC (sent at once) and/or
                                * HF_AUTH_DIGEST (answering a 407); 0 means
                                * HF_AUTH_BASIC.  Only with user. */
    const char *const *headers;  /* CONNECT: --proxy-header lines (proxy.h
                                  * proxy_connect_head's syntax) */
    size_t nheaders;
    const char *user_agent;    /* CONNECT: User-Agent, or NULL */
    size_t max_head;           /* CONNECT: limit for all the proxy's heads
                                * together (1xx, 407s, the last one); 0 means
                                * H1_MAX_HEAD */
} tunnel_cfg;

/* A new layer over lower.  On success it owns lower (destroy destroys it
 * too, shutdown passes down, like the TLS layer); on failure lower is
 * still the caller's.  Everything cfg points to is copied.  The request
 * (the CONNECT head, the SOCKS messages) is built and checked here, so a
 * bad input is refused before any byte is sent: 0, or an HF_E_* value with
 * why -- HF_E_PROXY for what SOCKS cannot carry (a host name, user or
 * password over 255 bytes, an IPv6 address over SOCKS4, a name for
 * socks4/socks5), HF_E_BAD_ARG for a bad --proxy-header or a user name
 * with ':' for Basic (RFC 7617 2), HF_E_NOMEM, HF_E_BAD_FUNCTION_ARG.
 *
 * The handshake op first completes lower's handshake (a no-op once done:
 * drive the top layer only, or each as it is pushed to time each hop),
 * then sends the request and reads the answer(s); it never blocks and sets
 * *want to what lower waits for.  CONNECT: 1xx heads are skipped; a 407 is
 * answered once per scheme (Digest when allowed and offered, else Basic if
 * not sent yet), on the same connection, after its body (Content-Length or
 * chunked, at most 1 MiB) was read -- when the proxy closes or would close
 * the connection (Connection / Proxy-Connection: close, HTTP/1.0, a body
 * to the end) it is the error instead; a 2xx ends the handshake, and its
 * Content-Length / Transfer-Encoding are ignored (RFC 9110 9.3.6).  Bytes
 * after the proxy's last answer are kept and returned first by recv: after
 * the handshake, check pending() (or just call recv) before waiting on the
 * socket.  Then send/recv pass through; errors of lower come back as lower
 * gave them. */
int tunnel_filter_new(filter *lower, const tunnel_cfg *cfg, filter **out,
                      char *why, size_t wn);

/* After the handshake (done or failed): the proxy's CONNECT answer(s) as
 * received (every head, 407s included, for -v; NULL for SOCKS), the final
 * CONNECT status (0 for SOCKS), and the SOCKS bound address ("" if none). */
typedef struct tunnel_info {
    const char *heads;
    size_t heads_len;
    int status;
    char bound[64];
} tunnel_info;
const tunnel_info *tunnel_filter_info(const filter *f);

/* Error values of the handshake, each with one line naming the proxy:
 *   HF_E_RECV (56) when CONNECT is answered with anything but 2xx
 *     ("CONNECT tunnel failed: proxy 127.0.0.1:3128 answered 403 Forbidden
 *     to CONNECT example.com:443"), or the proxy closes ("... closed the
 *     connection before its answer to CONNECT ...", "... in the middle of
 *     its answer ... (after N bytes)"), or sends a malformed head or heads
 *     over max_head ("... with a head over N bytes");
 *   HF_E_PROXY (97) for SOCKS failures (refused, auth rejected, protocol
 *     broken, closed): "proxy 127.0.0.1:1080: " + socks_error();
 *   lower's own errors (HF_E_SEND / HF_E_RECV for the socket, the TLS
 *     errors of TLS to an https proxy) as "proxy HOST:PORT: " + its reason.
 * Errors are sticky: every later handshake call returns the same. */
#endif
