/* auth.h -- HTTP authentication: WWW-Authenticate parsing (RFC 9110
 * 11.6.1), Digest responses (RFC 7616) and the choice between challenges.
 * Pure: no I/O, no global state; the hashes come from OpenSSL's EVP
 * (libcrypto).  Every input is bounded (see the AUTH_MAX_ limits) and
 * every length computation is overflow-checked. */
#ifndef HF_AUTH_H
#define HF_AUTH_H
#include <stddef.h>

#define AUTH_MAX_CHALLENGES 16   /* challenges kept from one call */
#define AUTH_MAX_PARAMS 16       /* auth-params in one challenge */
#define AUTH_MAX_STR 1024        /* bytes in a scheme, name, value, token68 */

#define AUTH_BASIC 1             /* bits of auth_pick's want */
#define AUTH_DIGEST 2

#define AUTH_E_NOMEM (-1)        /* out of memory (parse, digest_r) */

typedef struct auth_param {
    char *name;                  /* as sent; compare case-insensitively */
    char *value;                 /* quotes removed, quoted-pairs resolved */
} auth_param;

typedef struct auth_challenge {
    char *scheme;                /* as sent ("Digest", "basic", ...) */
    char *token68;               /* the token68 form, or NULL */
    size_t nparams;
    auth_param params[AUTH_MAX_PARAMS];
} auth_challenge;

/* Parse a WWW-Authenticate (or Proxy-Authenticate) field value: a list of
 *     challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *     auth-param = token BWS "=" BWS ( token / quoted-string )
 * with empty list elements allowed, several challenges in one value,
 * commas inside quoted strings kept, and quoted-pairs unescaped.  Stores at
 * most min(max, AUTH_MAX_CHALLENGES) challenges in out, in order, and
 * returns how many (0 for NULL or empty input).  A challenge is refused
 * if it is malformed: a byte out of place, a control byte, an unterminated
 * quoted string, a string over AUTH_MAX_STR bytes, more than
 * AUTH_MAX_PARAMS params, or a param name given twice (RFC 9110 11.2);
 * parsing stops there and the challenges before it are kept.  The caller
 * frees the result with auth_challenges_free(out, n).  AUTH_E_NOMEM when
 * out of memory (then nothing is left allocated). */
int auth_parse_challenges(const char *www_authenticate, auth_challenge *out,
                          size_t max);

/* Free the strings of chs[0..n) (the array itself is the caller's). */
void auth_challenges_free(auth_challenge *chs, size_t n);

/* The value of the param called name (case-insensitive), or NULL. */
const char *auth_param_get(const auth_challenge *ch, const char *name);

/* The Authorization field value answering a Digest challenge (RFC 7616),
 * malloc'd, or NULL when the challenge is not usable (see auth_pick), an
 * argument is NULL, a value to send holds a control byte (CR, LF, NUL ...),
 * cnonce is missing or empty while qop is used, or out of memory.
 *   algorithm: MD5 (also when absent), MD5-sess, SHA-256, SHA-256-sess
 *     (case-insensitive); anything else is refused.  Sent back, in this
 *     spelling, when the challenge named one.
 *   qop: when offered, the list must hold "auth" (qop=auth is used, with
 *     nc as 8 lower-case hex digits and the caller's cnonce); a list
 *     without "auth" (auth-int only) is refused.  No qop: the RFC 2069
 *     response H(HA1:nonce:HA2), without nc and cnonce (a -sess algorithm
 *     without qop is refused: its HA1 needs a cnonce the server never
 *     sees).
 *   userhash: never used; "userhash=false" is sent when the challenge
 *     carried a userhash param.
 *   username, realm, nonce, uri, cnonce, opaque: quoted, with '"' and '\'
 *     escaped; opaque is echoed when present.
 * method is the request method, uri the request-target as sent. */
char *auth_digest(const auth_challenge *ch, const char *user,
                  const char *pass, const char *method, const char *uri,
                  const char *cnonce, unsigned nc);
/* The same, telling "cannot be answered" from "out of memory": 0 with *out
 * the value, or NULL when the challenge or an argument is not usable;
 * AUTH_E_NOMEM (*out NULL) when memory (or OpenSSL's digest) failed. */
int auth_digest_r(const auth_challenge *ch, const char *user,
                  const char *pass, const char *method, const char *uri,
                  const char *cnonce, unsigned nc, char **out);

/* The index of the strongest challenge of chs[0..n) allowed by want
 * (AUTH_BASIC | AUTH_DIGEST), or -1 when none is: Digest with SHA-256 or
 * SHA-256-sess > Digest with MD5 or MD5-sess > Basic; the first one wins a
 * tie.  A Digest challenge counts only if auth_digest can answer it (scheme
 * "Digest" without token68, realm and nonce present, a known algorithm,
 * qop absent or offering "auth", no -sess without qop).  Schemes compare
 * case-insensitively. */
int auth_pick(const auth_challenge *chs, size_t n, int want);
#endif
