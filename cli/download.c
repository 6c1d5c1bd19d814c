/* download.c -- file names and resume checks of downloads (download.h).
 *
 * A name that comes from a server (-J) is untrusted input: curl's past
 * (CVE-2020-8177, CVE-2022-27778, CVE-2016-0754) shows names with paths
 * writing outside the directory and replacing files.  So only the base
 * name is kept, and main.c opens it with O_EXCL. */
#include "download.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "body.h"
#include "cli.h"

char *dl_remote_name(const char *url, const char **why)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    size_t plen = *p == '/' ? strcspn(p, "?#") : 0;
    const char *last = p;
    for (size_t i = 0; i < plen; i++)
        if (p[i] == '/')
            last = p + i + 1;
    size_t n = plen ? (size_t)(p + plen - last) : 0;
    if (n == 0) {
        *why = "Remote file name has no length";
        return NULL;
    }
    if ((n == 1 && last[0] == '.') ||
        (n == 2 && last[0] == '.' && last[1] == '.')) {
        *why = "Remote file name is not usable";
        return NULL;
    }
    return xstrndup(last, n);
}

char *dl_join(const char *dir, const char *name)
{
    if (!dir || !*dir)
        return xstrdup(name);
    sbuf b = {0};
    size_t n = strlen(dir);
    sb_adds(&b, dir);
    if (dir[n - 1] != '/')
        sb_addc(&b, '/');
    sb_adds(&b, name);
    return sb_steal(&b);
}

int dl_mkdirs(const char *path, char **failed)
{
    char *p = xstrdup(path);
    *failed = NULL;
    /* each '/' after a non-empty component ends a directory to make */
    for (char *s = p + 1; *s; s++) {
        if (*s != '/' || s[-1] == '/')
            continue;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0750) != 0 && errno != EEXIST) {
            int e = errno;
            *failed = p;
            return e;
        }
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            *failed = p;
            return ENOTDIR;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

/* ---- Content-Disposition --------------------------------------------- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 8187 ext-value: charset "'" [language] "'" pct-encoded value, to
 * UTF-8.  NULL for another charset or bad encoding. */
static char *ext_value(const char *v, size_t n)
{
    const char *q1 = memchr(v, '\'', n);
    if (!q1)
        return NULL;
    const char *rest = q1 + 1;
    const char *q2 = memchr(rest, '\'', (size_t)(v + n - rest));
    if (!q2)
        return NULL;
    size_t cs = (size_t)(q1 - v);
    int latin1;
    if (cs == 5 && cli_ncaseeq(v, "utf-8", 5))
        latin1 = 0;
    else if (cs == 10 && cli_ncaseeq(v, "iso-8859-1", 10))
        latin1 = 1;
    else
        return NULL;
    sbuf out = {0};
    for (const char *p = q2 + 1; p < v + n; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '%') {
            int hi = p + 2 < v + n ? hexval(p[1]) : -1;
            int lo = hi >= 0 ? hexval(p[2]) : -1;
            if (lo < 0) {
                sb_free(&out);
                return NULL;
            }
            ch = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (latin1 && ch >= 0x80) {
            sb_addc(&out, (char)(0xc0 | (ch >> 6)));
            sb_addc(&out, (char)(0x80 | (ch & 0x3f)));
        } else {
            if (ch == 0) { /* %00 cannot be in a file name */
                sb_free(&out);
                return NULL;
            }
            sb_addc(&out, (char)ch);
        }
    }
    return sb_steal(&out);
}

/* Reduces a name to a safe base name, in place; NULL when none is left. */
static char *base_name_only(char *name)
{
    char *base = name;
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strlen(base);
    if (n == 0 || n > NAME_MAX || strncmp(base, "..", 2) == 0 ||
        strcmp(base, ".") == 0)
        return NULL;
    for (const char *p = base; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            return NULL;
    }
    memmove(name, base, n + 1);
    return name;
}

/* One parameter value: a quoted-string or a token up to ';'.  Advances *pp past it.  NULL for an unterminated quote. */
static char *param_value(const char **pp)
{
    const char *p = *pp;
    sbuf v = {0};
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            /* only \" is unescaped: a backslash stays a backslash (as
             * user agents do, RFC 6266 appendix D), so a\b is a path */
            if (*p == '\\' && p[1] == '"')
                p++;
            sb_addc(&v, *p);
        }
        if (*p != '"') {
            sb_free(&v);
            *pp = p;
            return NULL;
        }
        p++;
    } else {
        const char *s = p;
        p += strcspn(p, ";");
        const char *e = p;
        while (e > s && is_ows(e[-1]))
            e--;
        sb_add(&v, s, (size_t)(e - s));
    }
    *pp = p;
    return sb_steal(&v);
}

char *dl_cd_filename(const char *value)
{
    char *plain = NULL, *ext = NULL;
    const char *p = value;
    /* the disposition type, unless the value starts with a parameter */
    size_t first = strcspn(p, ";=");
    if (p[first] != '=')
        p += first;
    while (*p) {
        while (*p == ';' || is_ows(*p))
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && !is_ows(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        while (is_ows(*p))
            p++;
        if (*p != '=')
            continue; /* a parameter without a value */
        p++;
        while (is_ows(*p))
            p++;
        char *val = param_value(&p);
        if (!val)
            break;
        if (nlen == 9 && cli_ncaseeq(name, "filename*", 9) && !ext) {
            ext = ext_value(val, strlen(val));
            free(val);
        } else if (nlen == 8 && cli_ncaseeq(name, "filename", 8) && !plain) {
            plain = val;
        } else {
            free(val);
        }
        p += strcspn(p, ";");
    }
    /* RFC 6266 section 4.3: filename* wins when it can be used */
    char *name = NULL;
    if (ext)
        name = base_name_only(ext);
    if (name) {
        free(plain);
        return name;
    }
    free(ext);
    if (plain)
        name = base_name_only(plain);
    if (!name)
        free(plain);
    return name;
}

/* ---- -C ---------------------------------------------------------------- */

int64_t dl_content_range_first(const char *value)
{
    const char *p = value;
    while (is_ows(*p))
        p++;
    if (!cli_ncaseeq(p, "bytes", 5) || !(is_ows(p[5]) || p[5] == '='))
        return -1;
    p += 5;
    while (is_ows(*p) || *p == '=')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return *p == '-' ? v : -1;
}

int dl_resume_check(const hf_response *resp, int64_t offset, int head)
{
    int status = hf_response_status(resp);
    if (status == 416)
        return DL_RESUME_DONE; /* Range Not Satisfiable: nothing left */
    const char *cr = hf_response_header(resp, "Content-Range");
    if (cr && dl_content_range_first(cr) == offset)
        return DL_RESUME_APPEND;
    if (head || status == 204 || status == 304)
        return DL_RESUME_APPEND; /* no body: nothing to append */
    const char *cl = hf_response_header(resp, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        long long n = strtoll(cl, &end, 10);
        if (end != cl && !*end && !errno) {
            if (n == offset)
                return DL_RESUME_DONE; /* the whole file, which we have */
            if (n == 0)
                return DL_RESUME_APPEND;
        }
    }
    return DL_RESUME_BAD;
}

/* ---- -T ---------------------------------------------------------------- */

char *dl_upload_url(const char *url, const char *file)
{
    if (strcmp(file, "-") == 0 || strcmp(file, ".") == 0)
        return NULL;
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    const char *end = p + strcspn(p, "?#");
    if (end > p && end[-1] != '/')
        return NULL; /* the URL names the file */
    const char *base = file;
    for (const char *s = file; *s; s++)
        if (*s == '/' || *s == '\\')
            base = s + 1;
    if (!*base)
        return NULL;
    sbuf b = {0};
    sb_add(&b, url, (size_t)(end - url));
    if (end == p)
        sb_addc(&b, '/');
    cli_urlencode(&b, base, strlen(base));
    sb_adds(&b, end);
    return sb_steal(&b);
}
