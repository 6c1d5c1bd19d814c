/* netrc.h -- .netrc lookup with curl's rules.  Pure: takes the file's
 * bytes (not NUL-terminated; never read past len), no I/O. */
#ifndef HF_NETRC_H
#define HF_NETRC_H
#include <stddef.h>

#define NETRC_FOUND 0
#define NETRC_NOT_FOUND 1
#define NETRC_E_SYNTAX (-1)   /* unterminated quote, NUL byte, token too long,
                               * keyword without its value */
#define NETRC_E_NOMEM (-2)

#define NETRC_MAX_TOKEN 4096  /* bytes in one token (after unescaping) */

/* Find the credentials for host in .netrc text.
 *
 * Syntax: tokens separated by spaces, tabs, CR, LF (and VT, FF).  Keywords
 * (case-insensitive; quoted or not, as in curl): "machine NAME",
 * "default", "login NAME", "password SECRET", "account VALUE" (ignored),
 * "macdef NAME" (the rest of that line and the following lines up to the
 * first empty or all-blank line are skipped); other words are ignored.  A
 * token that starts with '"' is a quoted string up to the next unescaped
 * '"', on one line, with the escapes \" \\ \n \r \t (a backslash before
 * any other byte gives that byte); it must be followed by a separator or
 * the end.  Where a keyword is expected, an unquoted token starting with
 * '#' starts a comment up to the end of the line (after login or
 * password, '#' is part of the value).  login/password/account before the
 * first machine or default are ignored; within an entry, the last login
 * and the last password given count.  NUL bytes are a syntax error.
 *
 * Matching (curl's rules): an entry is "machine NAME" or "default" with
 * the tokens up to the next machine or default.  A machine entry is for
 * host when NAME equals host, ASCII case-insensitively.
 *   - Without login_hint, the first machine entry for host is chosen.
 *   - With login_hint (the user from -u or the URL), the first machine
 *     entry for host whose login equals login_hint exactly is chosen;
 *     failing that, the first one for host without any login (curl's
 *     "generic" entry: its password, no login); entries with another
 *     login never count.
 *   - Only when no machine entry is chosen: the first default entry (with
 *     login_hint, one whose login is login_hint or absent), wherever it
 *     stands in the file.
 * The password always comes from the chosen entry: an entry without one
 * gives none, never another entry's (CVE-2024-11053, CVE-2025-0167).
 *
 * Returns NETRC_FOUND with *login and *password malloc'd copies of the
 * chosen entry's login and password (either may be NULL when the entry
 * has none), NETRC_NOT_FOUND, or an error (*login and *password are then
 * NULL).  Parsing stops at the chosen machine entry, so a syntax error
 * after it is not seen. */
int netrc_lookup(const char *text, size_t len, const char *host,
                 const char *login_hint, char **login, char **password);
#endif
