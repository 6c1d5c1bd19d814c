/* tls.h -- the TLS layer (OpenSSL 3): a connection filter over a socket,
 * verification on by default, session resumption per client keyed by
 * host, port and the whole TLS configuration (../shared/SECURITY.md B, C). */
#ifndef HF_TLS_H
#define HF_TLS_H
#include "filter.h"
#include <stddef.h>
#include <stdint.h>

/* What one request asks of TLS.  Strings are borrowed (NULL = default). */
typedef struct tls_config {
    int insecure;              /* -k: no chain or name verification */
    const char *cafile;        /* --cacert; default: SSL_CERT_FILE or the
                                * system bundle /etc/ssl/certs/ca-certificates.crt */
    const char *capath;        /* --capath; default: SSL_CERT_DIR if set */
    int min_version;           /* 0 default (TLS 1.2), 12 or 13 */
    int max_version;           /* 0 default (highest), 12 or 13 */
    const char *ciphers;       /* --ciphers (TLS <= 1.2 list) */
    const char *tls13_ciphers; /* --tls13-ciphers */
    const char *curves;        /* --curves (groups list, "X25519:P-256") */
    const char *cert;          /* --cert FILE (PEM; may hold the key) */
    const char *key;           /* --key FILE (PEM) */
    const char *key_password;  /* from --cert FILE:PASSWORD */
    const char *pinned;        /* --pinnedpubkey "sha256//B64[;sha256//B64]"
                                * or a PEM/DER public key file */
    const char *alpn;          /* comma list offered, e.g. "http/1.1" */
    int no_session;            /* --no-sessionid: no session offered, none
                                * stored (every handshake a full one) */
    const char *via;           /* the path to the peer when it is not direct
                                * (e.g. the proxy chain, "https://p:443"):
                                * part of the session cache key only, so a
                                * session is offered on the same path alone
                                * (SECURITY.md B.14); NULL or "" = direct.
                                * Not in tls_config_key (not TLS settings). */
} tls_config;

/* One client's TLS state: SSL_CTXs per configuration and the session
 * cache.  NULL when out of memory or when OpenSSL fails to initialise. */
typedef struct tls_client tls_client;
tls_client *tls_client_new(void);
void tls_client_free(tls_client *tc);

/* A string that differs whenever any field of cfg differs (file names,
 * the verify flag, versions, lists, the client cert and its password, the
 * pin, ALPN), for the connection pool and the session cache.  malloc'd;
 * NULL when out of memory. */
char *tls_config_key(const tls_config *cfg);

/* A TLS filter over the connected socket fd, for host:port.  SNI is sent
 * for names, never for IP literals; the certificate is checked against
 * host (DNS SANs; wildcards only in the left-most label; an IP literal
 * only against IP SANs; a peer with no certificate fails).  Errors (with a
 * reason in why): HF_E_SSL_CACERT_BADFILE (77) for an unreadable CA file
 * or path, HF_E_SSL_CERTPROBLEM (58) for a bad client certificate or key,
 * HF_E_SSL_CIPHER (59) for a cipher/curve list OpenSSL refuses,
 * HF_E_BAD_FUNCTION_ARG, HF_E_NOMEM.  The handshake then runs through the
 * filter's handshake op, which fails with HF_E_SSL_CONNECT (35, naming the
 * alert or the cause), HF_E_PEER_CERT (60, with the verification reason and
 * the certificate's subject: "certificate has expired (subject CN=...)"),
 * or HF_E_SSL_PINNEDPUBKEY (90).  No application data is sent before the
 * verification succeeded. */
int tls_filter_new(tls_client *tc, const tls_config *cfg, int fd,
                   const char *host, int port, filter **out,
                   char *why, size_t wn);

/* The same over another layer (a proxy tunnel, TLS to an https proxy):
 * the TLS records go through lower's send/recv, and pending() counts the
 * bytes lower holds.  When lower is the plain socket layer (conn.c, name
 * "tcp") the socket is used directly, as by tls_filter_new.  On success
 * the new layer owns lower: its destroy destroys lower too, its shutdown
 * sends close_notify and then shuts lower down; on failure lower is still
 * the caller's.  The handshake op first completes lower's handshake (a
 * no-op when done), so the layers may be pushed at once and only the top
 * one driven, or each driven as it is pushed (to time every hop).  Errors
 * of lower during the handshake are lower's (a tunnel's HF_E_RECV, ...)
 * with its reason; after it, HF_E_SEND / HF_E_RECV with lower's reason.
 * Same errors as tls_filter_new otherwise. */
int tls_filter_new_over(tls_client *tc, const tls_config *cfg, filter *lower,
                        const char *host, int port, filter **out,
                        char *why, size_t wn);

/* What the handshake was; valid after it completed, until destroy. */
typedef struct tls_info {
    char version[16];        /* "TLSv1.3" */
    char cipher[64];         /* "TLS_AES_256_GCM_SHA384" */
    char group[32];          /* key exchange group, "X25519" ("" unknown) */
    char alpn[32];           /* negotiated protocol, "" when none */
    int resumed;             /* 1 when the session was resumed */
    long verify_result;      /* X509_V_OK (0) or the error code; with -k the
                              * result OpenSSL found, not enforced */
    char verify_msg[128];    /* "ok" or the reason */
    int num_certs;           /* certificates the server sent */
    char *certs;             /* one block per certificate, lines:
                              * "subject: ...", "issuer: ...", "san: ...",
                              * "valid: NOTBEFORE .. NOTAFTER",
                              * "key: RSA 2048" (owned by the filter) */
} tls_info;
const tls_info *tls_filter_info(const filter *f);
/* 1 when the peer ended the stream without close_notify (curl treats that
 * as the end for HTTP/1.1; the framing decides if data was missing). */
int tls_filter_unclean_close(const filter *f);
#endif
