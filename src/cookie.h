/* cookie.h -- the cookie engine: RFC 6265bis storage and retrieval, and
 * curl's Netscape cookie-jar text format.
 *
 * Pure: no I/O, no clock (the caller passes `now`, unix seconds), no
 * globals but the public-suffix list, loaded once per process from libpsl
 * (psl_latest(NULL), else psl_builtin()).  cookie_load and cookie_save work
 * on text buffers: reading and writing the file (0600, atomic rename) is
 * the caller's job.  A jar is not thread-safe: one jar per thread, or a lock.
 *
 * Hosts are passed as the URL parser gives them (lower-case reg-name,
 * dotted IPv4, IPv6 with or without brackets); one trailing dot is
 * ignored, so "example.com." and "example.com" share cookies.  A host with
 * a byte outside [a-z0-9._~:-] (after case folding) sets and gets nothing.
 *
 * Limits (curl's, plus caps on what is kept):
 *   - a cookie's name + value: at most 4096 bytes; an attribute value over
 *     1024 bytes is ignored (RFC 6265bis);
 *   - a cookie whose jar line would exceed COOKIE_MAX_LINE bytes is not
 *     stored, and a jar line longer than that is skipped whole on load;
 *   - kept: COOKIE_MAX_PER_DOMAIN per cookie domain, COOKIE_MAX_PER_SITE per
 *     registrable domain (eTLD+1), COOKIE_MAX_TOTAL in all; past a cap the
 *     least recently used cookie goes, non-Secure ones before Secure ones;
 *   - sent: at most COOKIE_MAX_SEND cookies, a header of at most
 *     COOKIE_MAX_HEADER bytes (the longest-path prefix of the sorted list);
 *   - at most 50 Set-Cookie fields of one response: THE CALLER's job (call
 *     cookie_set for the first 50 only, as curl does).
 *
 * SameSite is parsed and kept but changes nothing (a command-line client
 * has no cross-site context; curl ignores it too).  HttpOnly is kept and
 * saved ("#HttpOnly_" lines) and changes nothing either.  Secure cookies
 * are set from and sent to "https" only (never to http://localhost, unlike
 * curl). */
#ifndef HF_COOKIE_H
#define HF_COOKIE_H
#include <stddef.h>
#include <stdint.h>

#define COOKIE_MAX_NAME_VALUE 4096
#define COOKIE_MAX_ATTR_VALUE 1024
#define COOKIE_MAX_LINE       5000
#define COOKIE_MAX_PER_DOMAIN 50
#define COOKIE_MAX_PER_SITE   180
#define COOKIE_MAX_TOTAL      3000
#define COOKIE_MAX_SEND       150
#define COOKIE_MAX_HEADER     8190
#define COOKIE_MAX_SET_PER_RESPONSE 50   /* for the caller */
#define COOKIE_MAX_AGE        (400 * 86400)  /* expiry cap, RFC 6265bis */

typedef struct cookie_jar cookie_jar;

/* A new empty jar, or NULL when out of memory. */
cookie_jar *cookie_jar_new(void);
void cookie_jar_free(cookie_jar *j);

/* Store the Set-Cookie field value received from a response to the request
 * URL (scheme "http"/"https", host lower-case, path of the request URI --
 * a query is ignored --, secure = scheme is https, now = unix seconds).
 * Returns 0 stored or ignored-by-the-rules, HF_E_NOMEM on OOM (the jar is
 * then unchanged).  A cookie that arrives already expired (Max-Age <= 0,
 * Expires in the past) deletes the stored one of the same name, domain,
 * host-only flag and path. */
int cookie_set(cookie_jar *j, const char *set_cookie, const char *scheme,
               const char *host, const char *path, int64_t now);
/* The same, and *why (if why is not NULL) says what happened: NULL when
 * the cookie was stored, else a static reason for -v and the trace, such
 * as "the domain is a public suffix" or "expired: deleted". */
int cookie_set_ex(cookie_jar *j, const char *set_cookie, const char *scheme,
                  const char *host, const char *path, int64_t now,
                  const char **why);

/* The Cookie header value for a request (NULL when no cookie applies, or
 * when out of memory; malloc'd).  Sorted per RFC 6265 5.4 (longer paths
 * first, then earlier creation), capped at COOKIE_MAX_SEND (150) cookies and
 * COOKIE_MAX_HEADER (8190) bytes (curl's limits).  Updates the sent
 * cookies' last-access time (for eviction). */
char *cookie_header(cookie_jar *j, const char *scheme, const char *host,
                    const char *path, int64_t now);
/* The same, telling "no cookie" from "out of memory": 0 with *out the
 * value (malloc'd) or NULL when no cookie applies; HF_E_NOMEM with *out
 * NULL when memory ran out. */
int cookie_header_ex(cookie_jar *j, const char *scheme, const char *host,
                     const char *path, int64_t now, char **out);

/* Netscape/curl cookie file.  Load: adds the text's cookies to the jar
 * (junk_session: drop the text's session cookies, -j); lines that are bad,
 * expired or longer than COOKIE_MAX_LINE are skipped; a domain cookie for
 * a public suffix is kept as a host-only cookie for that name.  Reads
 * curl's jars, "#HttpOnly_" lines and curl's old 6-field lines (no path)
 * included.  Returns 0, or HF_E_NOMEM (the lines before stay loaded).
 * Save: the text, with curl's header comment lines, a "#HttpOnly_" prefix
 * for HttpOnly cookies and a leading dot on domain cookies; expired cookies
 * are dropped.  malloc'd; NULL when out of memory. */
int cookie_load(cookie_jar *j, const char *text, size_t len, int junk_session,
                int64_t now);
char *cookie_save(cookie_jar *j, int64_t now);

/* Cookies held (expired ones not yet purged included). */
size_t cookie_count(const cookie_jar *j);

/* A read-only view of the i-th cookie (storage order), for -v, the trace
 * and tests: 0, or -1 when i >= cookie_count().  The strings are borrowed
 * until the next call that changes the jar. */
enum { COOKIE_SAMESITE_DEFAULT = 0, COOKIE_SAMESITE_NONE,
       COOKIE_SAMESITE_LAX, COOKIE_SAMESITE_STRICT };
typedef struct cookie_info {
    const char *name, *value;
    const char *domain;   /* without a leading dot */
    const char *path;
    int host_only;        /* 0: the domain and its subdomains */
    int secure, http_only;
    int same_site;        /* COOKIE_SAMESITE_* */
    int64_t expires;      /* unix time, 0 for a session cookie */
    int64_t created;
} cookie_info;
int cookie_get(const cookie_jar *j, size_t i, cookie_info *out);
#endif
