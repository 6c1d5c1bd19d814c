/* url.h -- URLs per RFC 3986: parse, resolve references, serialise.
 * Pure: no I/O, no globals. */
#ifndef HF_URL_H
#define HF_URL_H
#include <stddef.h>

enum { URL_HOST_NAME = 0, URL_HOST_IPV4, URL_HOST_IPV6 };

typedef struct url {
    char *scheme;   /* lower-cased, e.g. "http" */
    char *user;     /* userinfo before ':' as written (percent-encoded), or NULL */
    char *password; /* userinfo after ':' as written, or NULL */
    char *host;     /* reg-name lower-cased; IPv4 dotted; IPv6 without
                     * brackets and without zone, e.g. "::1" */
    char *zone;     /* IPv6 zone id, percent-decoded ("eth0"), or NULL */
    int host_type;  /* URL_HOST_* */
    int port;       /* explicit port, or the scheme's default */
    int port_explicit; /* 1 if the URL named a port */
    char *path;     /* as written, "/" when empty; percent-encoding kept */
    char *query;    /* after '?', without it, or NULL */
    char *fragment; /* after '#', without it, or NULL (never sent) */
} url;

/* Parse an absolute URL.  Returns 0, or HF_E_URL (3) for a malformed URL, or
 * HF_E_UNSUPPORTED_PROTOCOL (1) for a well-formed URL whose scheme is not
 * http (https is accepted too: the TLS issue adds it), or HF_E_NOMEM (27).
 * On error *u is left zeroed and err (if errlen > 0) holds a short reason
 * such as "bad port" or "control byte in host".  On success the caller frees
 * with url_free.  A string without "scheme://" is taken as http:// (as curl).
 * Refused: spaces, control bytes (incl. CR/LF/NUL-free by construction),
 * '%' in a reg-name host (so "%2F" tricks fail), empty host, ports outside
 * 1..65535 or with non-digits, bad IPv4/IPv6 literals.
 * Details: a reg-name may hold only ALPHA DIGIT - . _ ~ (curl's rule: no
 * sub-delims); an all-digits-and-dots host must be a dotted quad without
 * leading zeros, and a name inet_aton() would read as an address ("0x7f.1")
 * is refused; a zone needs RFC 6874's "%25"; an empty port ("h:/") means the
 * default; '\' and bytes >= 0x80 are refused anywhere. */
int url_parse(url *u, const char *s, char *err, size_t errlen);
void url_free(url *u);

/* RFC 3986 section 5.2: resolve reference ref against absolute base.
 * Returns a new malloc'd string, or NULL when out of memory or when base is
 * not absolute.  Passes every example of section 5.4.  Generic: any scheme,
 * no validation (give the result to url_parse).  One addition to 5.3: a
 * result with no authority whose path starts "//" gets "/." before the
 * path, so that it does not read back as an authority. */
char *url_resolve(const char *base, const char *ref);

/* "http://user:pass@host:port/path?query" (no fragment; port only when
 * explicit and not the default; IPv6 bracketed with %25zone).  malloc'd. */
char *url_to_string(const url *u);
/* path + ("?" query): the origin-form request target.  malloc'd. */
char *url_target(const url *u);
/* Host header value: host, bracketed if IPv6 (no zone), ":port" when
 * the port is not the scheme's default.  malloc'd. */
char *url_host_header(const url *u);
#endif
