/* ascii.h -- character classes without locale (RFC 3986 section 2, RFC 9110
 * 5.6.2), shared by the pure parsers; header-only so that each of them
 * still compiles alone into its fuzz target. */
#ifndef HF_ASCII_H
#define HF_ASCII_H
#include <string.h>

static inline int is_alpha(int c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static inline int hexval(int c)
{
    if (is_digit(c)) return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
/* RFC 3986 2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static inline int is_unreserved(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}
/* RFC 3986 2.2: sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" /
 * "," / ";" / "=" */
static inline int is_subdelim(int c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}
/* RFC 3986 3.2.2: dec-octet "." dec-octet "." dec-octet "." dec-octet, with
 * no leading zeros (a resolver could read "010" as octal). */
static inline int valid_ipv4(const char *s)
{
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *s++ != '.') return 0;
        if (!is_digit((unsigned char)*s)) return 0;
        int v = 0, digits = 0;
        while (is_digit((unsigned char)*s) && digits < 4) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0'))
            return 0;
    }
    return *s == '\0';
}
#endif
