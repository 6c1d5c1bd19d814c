/* socks.h -- the client side of the SOCKS handshakes as a pure, incremental
 * state machine: SOCKS5 (RFC 1928) with username/password (RFC 1929), and
 * SOCKS4 / SOCKS4a.  No I/O: the caller sends what socks_out gives and
 * feeds what the proxy answers, at any pace (one byte at a time works);
 * socks_in never takes a byte past the end of the proxy's reply, so the
 * bytes after it stay with the caller as the start of the tunnelled stream.
 *
 * Every message is built in socks_init, after every length is checked: a
 * host name, user or password over 255 bytes is refused there with a clear
 * error, before anything is copied -- never truncated, never copied into a
 * fixed buffer (the class of CVE-2023-38545, SECURITY.md F.35).
 *
 * Use:
 *     socks s;
 *     if (socks_init(&s, SOCKS_V5H, "example.com", 443, user, pass) < 0)
 *         fail(socks_error(&s));                 (then socks_cleanup)
 *     loop:
 *         while (socks_out(&s, &p, &n) == SOCKS_SEND)
 *             send what you can, k bytes;  socks_sent(&s, k);
 *         on readable: rc = socks_in(&s, bytes, len, &used);
 *             SOCKS_NEED_MORE: wait for more; SOCKS_SEND: send again;
 *             SOCKS_DONE: the tunnel is up, bytes[used..len) belong to it;
 *             < 0: fail with socks_error(&s)
 *         on end of stream: rc = socks_eof(&s)  (an error unless DONE)
 *     socks_cleanup(&s);
 */
#ifndef HF_SOCKS_H
#define HF_SOCKS_H
#include <stddef.h>
#include <stdint.h>

typedef enum socks_kind {
    SOCKS_V4 = 0,   /* SOCKS4: an IPv4 address only (the caller resolves) */
    SOCKS_V4A,      /* SOCKS4a: an IPv4 address, or a name the proxy resolves */
    SOCKS_V5,       /* SOCKS5: an IPv4 or IPv6 address (the caller resolves) */
    SOCKS_V5H       /* SOCKS5: a name the proxy resolves (an address literal
                     * is sent as an address) */
} socks_kind;

/* Results: >= 0 progress, < 0 errors (sticky: every later call returns the
 * same error, and socks_error keeps its text). */
enum {
    SOCKS_NEED_MORE = 0,  /* waiting for more of the proxy's reply */
    SOCKS_SEND = 1,       /* socks_out has bytes to send */
    SOCKS_DONE = 2,       /* the proxy connected: the tunnel is up */
    SOCKS_E_ARG = -1,     /* socks_init: a host, user or password the
                           * protocol cannot carry (over 255 bytes, empty,
                           * a name where an address is needed, IPv6 over
                           * SOCKS4, a bad port); or a misuse of the API */
    SOCKS_E_NOMEM = -2,
    SOCKS_E_PROTO = -3,   /* a reply that breaks the protocol: wrong
                           * version, a method not offered, a bad ATYP */
    SOCKS_E_AUTH = -4,    /* no acceptable method, or the user name and
                           * password were rejected */
    SOCKS_E_REFUSED = -5, /* the proxy answered the connect request with a
                           * failure (socks_reply_code tells which) */
    SOCKS_E_CLOSED = -6   /* socks_eof: the proxy closed before the end */
};

#define SOCKS_MAX_FIELD 255   /* bytes in a host name, user or password */
#define SOCKS_MAX_REPLY 262   /* the longest SOCKS5 reply: 4 + 1 + 255 + 2 */

typedef struct socks {
    int kind;             /* socks_kind */
    int state;            /* private */
    int rc;               /* private: the sticky result once done or failed */
    int reply_code;       /* REP (SOCKS5) or CD (SOCKS4) once read, or -1 */
    int method;           /* SOCKS5 method the proxy chose, or -1 */
    uint8_t *msg;         /* private: every message, built by socks_init */
    size_t seg[3];        /* private: message lengths, in order in msg */
    size_t cur;           /* private: the segment being sent */
    size_t sent;          /* private: bytes of it sent */
    uint8_t in[SOCKS_MAX_REPLY]; /* private: the reply so far */
    size_t have, need;    /* private: bytes in in[], bytes wanted */
    int need_final;       /* private: need is the reply's whole length */
    char *target;         /* "host:port" as asked for (for messages) */
    char err[320];        /* the last error, one line, no period */
} socks;

/* Prepare a handshake asking the proxy to connect to host:port.
 *   host: SOCKS_V4 needs a dotted quad; SOCKS_V5 an IPv4 or IPv6 address
 *     (brackets optional); SOCKS_V4A and SOCKS_V5H take either an address
 *     or a name of 1..255 bytes, which the proxy resolves.
 *   user, pass: SOCKS5 offers username/password (RFC 1929) besides "no
 *     authentication" when user is not NULL (1..255 bytes; pass NULL means
 *     "", at most 255 bytes).  SOCKS4 sends user (at most 255 bytes) as
 *     its USERID and never uses pass.
 * Returns 0 (socks_out then has the first message), or SOCKS_E_ARG /
 * SOCKS_E_NOMEM with socks_error set, e.g. "host name is 300 bytes long:
 * SOCKS5 carries at most 255 (RFC 1928 5)".  In every case the caller
 * calls socks_cleanup afterwards. */
int socks_init(socks *s, socks_kind kind, const char *host, int port,
               const char *user, const char *pass);
void socks_cleanup(socks *s);   /* frees and wipes; safe after any init */

/* The bytes to send now: SOCKS_SEND with *p, *n (> 0; valid until the
 * next call), or else the state: SOCKS_NEED_MORE, SOCKS_DONE or the
 * error. */
int socks_out(socks *s, const uint8_t **p, size_t *n);
/* n bytes of what socks_out gave were sent.  Returns SOCKS_SEND when some
 * are left, else SOCKS_NEED_MORE (now waiting for the reply); SOCKS_E_ARG
 * when n is more than socks_out gave. */
int socks_sent(socks *s, size_t n);

/* Feed bytes from the proxy.  *used gets how many were taken: never more
 * than the reply being read needs, so bytes past it (the tunnelled stream)
 * are left.  Returns SOCKS_NEED_MORE (all n taken), SOCKS_SEND (a reply
 * was complete and the next message is ready; feed the rest after sending
 * it), SOCKS_DONE, or an error.  While a message is still being sent, or
 * once done, nothing is taken (*used = 0) and the state is returned. */
int socks_in(socks *s, const uint8_t *p, size_t n, size_t *used);

/* The proxy closed its end: SOCKS_DONE when the handshake was complete,
 * else SOCKS_E_CLOSED with an error saying where ("after 3 of the 10 bytes
 * of the reply to the connect request"). */
int socks_eof(socks *s);

const char *socks_error(const socks *s);   /* "" when there is none */

/* Text of a SOCKS5 REP code (RFC 1928 6), e.g. 5: "connection refused by
 * destination host"; of a SOCKS4 CD code when v4 (90..93). */
const char *socks_reply_text(int code, int v4);

/* After SOCKS_DONE: the address the proxy bound for the connection
 * ("192.0.2.1:4321", "[2001:db8::1]:80", a name as "name:port" with any
 * byte outside printable ASCII shown as '?').  Returns 0, or -1 when not
 * done or out is too small. */
int socks_bound(const socks *s, char *out, size_t outlen);
#endif
