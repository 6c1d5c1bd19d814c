/* proxy.h -- the pure parts of proxy support: the -x spec, the choice of a
 * proxy from the options and the environment (curl's rules), no_proxy
 * matching, the CONNECT request head (RFC 9110 9.3.6) and the judgement
 * of its answer.  No I/O, no getenv, no globals: the environment comes in
 * through a callback.  The SOCKS handshakes are in socks.h. */
#ifndef HF_PROXY_H
#define HF_PROXY_H
#include <stddef.h>

/* ---- the proxy spec: [scheme://][user[:password]@]host[:port][/] ------ */

typedef enum proxy_scheme {
    PROXY_HTTP = 0,     /* http:// (also when no scheme is given) */
    PROXY_HTTPS,        /* https://: TLS to the proxy, then as http */
    PROXY_SOCKS4,       /* socks4://: the client resolves (IPv4 only) */
    PROXY_SOCKS4A,      /* socks4a://: the proxy resolves */
    PROXY_SOCKS5,       /* socks5://: the client resolves */
    PROXY_SOCKS5H       /* socks5h://: the proxy resolves */
} proxy_scheme;

enum { PROXY_HOST_NAME = 0, PROXY_HOST_IPV4, PROXY_HOST_IPV6 };

#define PROXY_MAX_SPEC 8192   /* bytes in a spec (longer: refused) */

typedef struct proxy_spec {
    proxy_scheme scheme;
    char *host;          /* lower-cased name, dotted quad, or IPv6 without
                          * brackets in inet_ntop's canonical form ("::1"
                          * for "[0:0::1]"); never empty */
    int host_type;       /* PROXY_HOST_* */
    int port;            /* 1..65535: explicit, else 1080 (443 for https) */
    int port_explicit;   /* 1 when the spec named the port */
    char *user;          /* percent-decoded, or NULL when no '@' */
    char *password;      /* percent-decoded, or NULL when no ':' in the
                          * userinfo ("u@h": user "u", password NULL) */
} proxy_spec;

/* Parse a proxy spec as curl reads -x / --proxy and the *_proxy variables.
 *   scheme: http (the default), https, socks4, socks4a, socks5, socks5h,
 *     ASCII case-insensitive; anything else is HF_E_UNSUPPORTED_PROTOCOL.
 *   userinfo: before the first '@' of the authority (a literal '@' in a
 *     password must be written %40), split at its first ':'; only
 *     unreserved, sub-delims, ':' and %XX (RFC 3986 3.2.1); decoded; a
 *     decoded NUL (%00) is refused.  Each at most 255 bytes once decoded
 *     (what SOCKS5 can carry, RFC 1929 2; the same for every scheme).
 *   host: a reg-name of ALPHA DIGIT - . _ ~ (lower-cased), a dotted quad
 *     without leading zeros (a name inet_aton would read as an address,
 *     "0x7f.1", is refused), or an IPv6 literal in brackets (no zone);
 *     at most 255 bytes.
 *   port: 1..65535 in digits; ":" alone means the default.
 *   after the authority: nothing, or a single "/"; any other path, a
 *     query or a fragment is refused.
 * Refused anywhere: spaces, control bytes (CR, LF, ...), '\', bytes >=
 * 0x80, and specs over PROXY_MAX_SPEC bytes.
 * Returns 0 (free with proxy_spec_free), HF_E_BAD_ARG (2) for a malformed
 * spec, HF_E_UNSUPPORTED_PROTOCOL (1) for an unknown scheme, or
 * HF_E_NOMEM (27); on error *p is zeroed and err holds a short reason
 * ("bad port", "unsupported proxy scheme \"ftp\"").  (curl gives exit 5
 * for a spec it cannot use and 7 for an unknown scheme: the caller maps.) */
int proxy_parse(proxy_spec *p, const char *spec, char *err, size_t errlen);
void proxy_spec_free(proxy_spec *p);   /* NULL-safe; zeroes *p */

/* "http", "https", "socks4", "socks4a", "socks5", "socks5h". */
const char *proxy_scheme_name(proxy_scheme s);

/* "scheme://host:port" (IPv6 in brackets), with "user:password@"
 * (percent-encoded again) when with_credentials and the spec has a user:
 * a canonical form for pool keys (credentials included) and for traces
 * (without).  malloc'd, NULL when out of memory. */
char *proxy_spec_string(const proxy_spec *p, int with_credentials);

/* ---- the environment (curl's rules) ------------------------------------ *
 * From curl(1) ENVIRONMENT: "The environment variables can be specified in
 * lower case or upper case.  The lower case version has precedence.
 * http_proxy is an exception as it is only available in lower case."  So:
 *   http URL:   http_proxy                (HTTP_PROXY is never read: under
 *                                          CGI it is the client's "Proxy:"
 *                                          request header)
 *   https URL:  https_proxy, then HTTPS_PROXY
 *   then, for any URL with none of those: all_proxy, then ALL_PROXY
 *   no proxy:   no_proxy, then NO_PROXY
 * A variable set to the empty string counts as unset (curl_getenv). */

/* getenv-like: the value of name, or NULL; borrowed. */
typedef const char *proxy_getenv_fn(const char *name, void *arg);

/* The proxy the environment names for a URL of url_scheme ("http" or
 * "https", case-insensitive; another scheme reads only all_proxy /
 * ALL_PROXY), or NULL.  *var (if var) gets the variable's name (a static
 * string) or NULL.  The value is the callback's, borrowed. */
const char *proxy_env_proxy(const char *url_scheme, proxy_getenv_fn *get,
                            void *arg, const char **var);
/* The no_proxy list of the environment (no_proxy, then NO_PROXY), or
 * NULL; *var as above. */
const char *proxy_env_noproxy(proxy_getenv_fn *get, void *arg,
                              const char **var);

/* The whole choice, as curl makes it, for a request to host (a URL host:
 * name, dotted quad, IPv6 with or without brackets) over url_scheme.
 *   1. The no-proxy list is opt_noproxy (--noproxy) when not NULL -- even
 *      "", which cancels the environment's list -- else the environment's.
 *   2. A host the list matches goes direct, even with --proxy (curl since
 *      7.53.0): returns NULL and *source = "--noproxy", "no_proxy" or
 *      "NO_PROXY".
 *   3. Else opt_proxy (--proxy) when not NULL: "" means no proxy at all
 *      (NULL, *source "--proxy"); else opt_proxy, *source "--proxy".
 *   4. Else the environment's proxy (proxy_env_proxy), *source its name.
 *   5. Else NULL, *source NULL.
 * get may be NULL (no environment).  The result is borrowed (opt_proxy or
 * the callback's value): give it to proxy_parse. */
const char *proxy_choose(const char *url_scheme, const char *host,
                         const char *opt_proxy, const char *opt_noproxy,
                         proxy_getenv_fn *get, void *arg,
                         const char **source);

/* ---- no_proxy ---------------------------------------------------------- */

/* 1 when host matches the no-proxy list, else 0 (also for NULL or empty
 * arguments).  The list: entries separated by ',', each trimmed of spaces
 * and tabs; empty entries are skipped.
 *   "*"                    matches every host.
 *   a name (".a.com", "a.com"): matches the host itself and every name
 *     under it on a label boundary: "a.com" and ".a.com" both match
 *     "a.com" and "www.a.com", never "bada.com".  ASCII case-insensitive;
 *     one trailing dot ignored on either side.  A name never matches an
 *     address host (no DNS is done here).
 *   an address ("10.1.2.3", "::1", "[::1]") or a CIDR block
 *     ("192.168.0.0/16", "::1/128", "[fe80::]/10"): matches a host that is
 *     an address of the same family within the block (no prefix: the
 *     whole address).  Bad prefixes ("/33" for IPv4, "/x") match nothing.
 * host may be bracketed ("[::1]") or not ("::1"). */
int proxy_noproxy_match(const char *list, const char *host);

/* ---- HTTP CONNECT (RFC 9110 9.3.6) ------------------------------------- */

/* "Basic base64(user:password)" (RFC 7617) for Proxy-Authorization, or
 * NULL when out of memory or when user holds a ':' (RFC 7617 2: such a
 * user-id is invalid).  password NULL means "".  malloc'd. */
char *proxy_basic_auth(const char *user, const char *password);

/* Build the CONNECT request head:
 *     CONNECT host:port HTTP/1.1\r\n
 *     Host: host:port\r\n
 *     Proxy-Authorization: <authz>\r\n          (when authz is not NULL)
 *     User-Agent: <user_agent>\r\n              (when not NULL)
 *     <each of lines>\r\n
 *     \r\n
 * host is a name, a dotted quad or an IPv6 address (with or without
 * brackets: it is bracketed in the authority-form, RFC 9112 3.2.3);
 * port 1..65535.  lines are curl's --proxy-header arguments, in order:
 *   "Name: value"  sent; when Name is Host, Proxy-Authorization or
 *                  User-Agent (case-insensitive) it replaces the default;
 *   "Name:"        sends nothing and removes that default;
 *   "Name;"        sends "Name:" with an empty value.
 * Names must be tokens (RFC 9110 5.1); values lose their leading and
 * trailing spaces and tabs; a CR, LF, NUL or other control byte (but TAB)
 * in host, authz, user_agent or a line is refused -- never sent
 * (RFC 9110 5.5; SECURITY.md E.32).  "Name;junk" is refused.
 * Returns 0 with *out (malloc'd, NUL-terminated) and *outlen, or
 * HF_E_BAD_ARG with a reason in err, or HF_E_NOMEM. */
int proxy_connect_head(const char *host, int port, const char *authz,
                       const char *user_agent, const char *const *lines,
                       size_t nlines, char **out, size_t *outlen,
                       char *err, size_t errlen);

/* What a parsed response head to CONNECT means (status and reason from
 * h1_parse_head).  Returns
 *   PROXY_TUNNEL_OK       2xx: the tunnel is up.  The response has no
 *                         body: any Content-Length or Transfer-Encoding
 *                         must be ignored (RFC 9110 9.3.6); bytes after the
 *                         head belong to the tunnel.
 *   PROXY_TUNNEL_INTERIM  1xx: read the next head.
 *   PROXY_TUNNEL_AUTH     407: the proxy wants credentials (retry with
 *                         Proxy-Authorization if there are any; else it is
 *                         an error, and why already says so).
 *   PROXY_TUNNEL_FAIL     anything else.
 * For AUTH and FAIL, why gets one line naming the proxy (proxy_label,
 * e.g. "127.0.0.1:3128") and its status, e.g.
 * "CONNECT tunnel failed: proxy 127.0.0.1:3128 answered 403 Forbidden to
 * CONNECT example.com:443" (the reason is cut at 100 bytes and any byte
 * outside printable ASCII becomes '?').  curl ends such a transfer with
 * exit 56 (HF_E_RECV). */
enum {
    PROXY_TUNNEL_OK = 0,
    PROXY_TUNNEL_INTERIM = 1,
    PROXY_TUNNEL_AUTH = 2,
    PROXY_TUNNEL_FAIL = 3
};
int proxy_connect_status(int status, const char *reason, size_t reason_len,
                         const char *proxy_label, const char *target,
                         char *why, size_t wn);
#endif
