/* body.c -- request bodies as curl builds them.
 *
 * -d/--data-ascii DATA   @file read with CR and LF removed, @- stdin
 * --data-binary DATA     @file read as-is
 * --data-raw DATA        no @ meaning
 * --data-urlencode DATA  content | =content | name=content | @file |
 *                        name@file; the content is percent-encoded
 * --json DATA            as --data-binary; joined without '&'
 * Several pieces are joined with '&'.  With -G the result is the query.
 * -F builds multipart/form-data with a random boundary.
 *
 * A lone --data-binary/--json @- to a single URL is streamed from stdin
 * (chunked), and large files are streamed from disk, so nothing big is
 * read into memory. */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cli_urlencode(sbuf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    sb_reserve(out, n * 3);
    char *w = out->p + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            *w++ = (char)ch;
        } else {
            *w++ = '%';
            *w++ = hex[ch >> 4];
            *w++ = hex[ch & 15];
        }
    }
    out->len = (size_t)(w - out->p);
    out->p[out->len] = '\0';
}

char *cli_add_query(const char *url, const char *query)
{
    sbuf b = {0};
    const char *hash = strchr(url, '#');
    size_t base = hash ? (size_t)(hash - url) : strlen(url);
    sb_add(&b, url, base);
    if (*query) {
        const char *q = memchr(url, '?', base);
        /* "http://h/p?" already ends with the separator */
        if (!q)
            sb_addc(&b, '?');
        else if (q + 1 != url + base)
            sb_addc(&b, '&');
        sb_adds(&b, query);
    }
    if (hash)
        sb_adds(&b, hash);
    return sb_steal(&b);
}

/* ---- -d and friends ------------------------------------------------- */

static void strip_crlf(sbuf *b)
{
    char *w = b->p;
    if (!w)
        return;
    for (size_t i = 0; i < b->len; i++)
        if (b->p[i] != '\r' && b->p[i] != '\n')
            *w++ = b->p[i];
    b->len = (size_t)(w - b->p);
    b->p[b->len] = '\0';
}

/* Appends one piece's content to out.  Returns 0 or an exit code. */
static int data_piece(const datapiece *d, sbuf *out)
{
    const char *a = d->arg;
    switch (d->kind) {
    case DATA_RAW:
        sb_adds(out, a);
        return 0;
    case DATA_ASCII:
    case DATA_BINARY:
    case DATA_JSON:
        if (a[0] != '@') {
            sb_adds(out, a);
            return 0;
        } else {
            sbuf tmp = {0};
            int e = cli_read_file(a + 1, &tmp);
            if (e) {
                /* curl goes on with an empty piece */
                cli_warn("Couldn't read data from file \"%s\", this makes "
                         "an empty POST.", a + 1);
            } else {
                if (d->kind == DATA_ASCII)
                    strip_crlf(&tmp);
                sb_add(out, tmp.p, tmp.len);
            }
            sb_free(&tmp);
            return 0;
        }
    case DATA_URLENCODE: {
        const char *p = strpbrk(a, "=@");
        if (p && *p == '@') {
            sbuf tmp = {0};
            int e = cli_read_file(p + 1, &tmp);
            if (e) {
                sb_free(&tmp);
                cli_error(HF_E_READ, "Failed to open %s: %s", p + 1,
                          strerror(e));
                return HF_E_READ;
            }
            if (p > a) {
                sb_add(out, a, (size_t)(p - a));
                sb_addc(out, '=');
            }
            cli_urlencode(out, tmp.p ? tmp.p : "", tmp.len);
            sb_free(&tmp);
        } else if (p) {
            if (p > a) {
                sb_add(out, a, (size_t)(p - a));
                sb_addc(out, '=');
            }
            cli_urlencode(out, p + 1, strlen(p + 1));
        } else {
            cli_urlencode(out, a, strlen(a));
        }
        return 0;
    }
    }
    return 0;
}

static int build_data(const cfg *c, size_t nurls, body *b, sbuf *query)
{
    int json = 0;
    for (size_t i = 0; i < c->ndata; i++)
        if (c->data[i].kind == DATA_JSON)
            json = 1;
    b->has_data = 1;
    b->json = json;

    /* A single binary piece from a file or stdin may be streamed. */
    if (!c->get && c->ndata == 1 &&
        (c->data[0].kind == DATA_BINARY || c->data[0].kind == DATA_JSON) &&
        c->data[0].arg[0] == '@') {
        const char *path = c->data[0].arg + 1;
        struct stat st;
        if (strcmp(path, "-") == 0) {
            if (nurls == 1) {
                b->kind = BODY_STDIN;
                goto type;
            }
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                   (int64_t)st.st_size >= BODY_STREAM_MIN) {
            b->kind = BODY_FILE;
            b->path = xstrdup(path);
            b->size = (int64_t)st.st_size;
            goto type;
        }
    }

    sbuf *out = c->get ? query : &b->mem;
    for (size_t i = 0; i < c->ndata; i++) {
        if (out->len && c->data[i].kind != DATA_JSON)
            sb_addc(out, '&');
        int r = data_piece(&c->data[i], out);
        if (r)
            return r;
    }
    if (c->get) {
        b->kind = BODY_NONE;
        return 0;
    }
    b->kind = BODY_MEM;
type:
    b->content_type = xstrdup(json ? "application/json"
                                   : "application/x-www-form-urlencoded");
    return 0;
}

/* ---- -F multipart/form-data ------------------------------------------ */

typedef struct formbuild {
    body *b;
    sbuf cur; /* memory since the last file segment */
    char boundary[64];
} formbuild;

static void seg_push(body *b, char *mem, size_t len, char *path, int64_t size)
{
    b->segs = xrealloc(b->segs, (b->nsegs + 1) * sizeof *b->segs);
    body_seg *s = &b->segs[b->nsegs++];
    s->mem = mem;
    s->len = len;
    s->path = path;
    s->size = size;
    b->total += path ? size : (int64_t)len;
}

static void fb_flush_mem(formbuild *fb)
{
    if (fb->cur.len) {
        size_t len = fb->cur.len;
        seg_push(fb->b, sb_steal(&fb->cur), len, NULL, 0);
    }
}

static void make_boundary(char *out, size_t cap)
{
    unsigned char rnd[12];
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                     ((uint64_t)getpid() << 40);
        for (size_t i = 0; i < sizeof rnd; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rnd[i] = (unsigned char)x;
        }
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < 24 && n + 1 < cap; i++)
        out[n++] = '-';
    for (size_t i = 0; i < sizeof rnd && n + 2 < cap; i++) {
        out[n++] = hex[rnd[i] >> 4];
        out[n++] = hex[rnd[i] & 15];
    }
    out[n] = '\0';
}

/* A quoted Content-Disposition parameter: '"' CR LF become %22 %0D %0A. */
static void add_quoted(sbuf *out, const char *s)
{
    sb_addc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            sb_adds(out, "%22");
        else if (*s == '\r')
            sb_adds(out, "%0D");
        else if (*s == '\n')
            sb_adds(out, "%0A");
        else
            sb_addc(out, *s);
    }
    sb_addc(out, '"');
}

static const char *guess_type(const char *filename)
{
    static const struct { const char *ext, *type; } map[] = {
        {".gif", "image/gif"},        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},      {".png", "image/png"},
        {".svg", "image/svg+xml"},    {".txt", "text/plain"},
        {".htm", "text/html"},        {".html", "text/html"},
        {".pdf", "application/pdf"},  {".xml", "application/xml"},
        {".json", "application/json"},
    };
    size_t fl = strlen(filename);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t el = strlen(map[i].ext);
        if (fl > el && cli_ncaseeq(filename + fl - el, map[i].ext, el))
            return map[i].type;
    }
    return "application/octet-stream";
}

/* Reads one word of a -F value: "quoted" (with \" and \\) or up to ';'.
 * Advances *pp.  Returns a new string. */
static char *form_word(const char **pp)
{
    const char *p = *pp;
    sbuf w = {0};
    if (*p == '"') {
        const char *q = p + 1;
        while (*q && *q != '"') {
            if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
                q++;
            sb_addc(&w, *q++);
        }
        if (*q == '"') {
            q++;
            /* only a quoted word followed by ';' or the end counts */
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == ';' || *q == '\0') {
                *pp = q;
                return sb_steal(&w);
            }
        }
        sb_free(&w);
    }
    const char *end = strchr(p, ';');
    if (!end)
        end = p + strlen(p);
    *pp = end;
    return xstrndup(p, (size_t)(end - p));
}

typedef struct formpart {
    char *name;
    char *value;    /* literal value, or the path after @ or < */
    int kind;       /* 0 value, '@' file upload, '<' value from file */
    char *type;     /* ;type= */
    char *filename; /* ;filename= */
    strvec headers; /* ;headers= */
    strvec owned;
} formpart;

static void formpart_free(formpart *fp)
{
    free(fp->name);
    free(fp->value);
    free(fp->type);
    free(fp->filename);
    for (size_t i = 0; i < fp->owned.n; i++)
        free((void *)fp->owned.v[i]);
    sv_free(&fp->owned);
    sv_free(&fp->headers);
}

/* Parses "name=content[;type=..][;filename=..][;headers=..]". */
static int form_parse(const formarg *fa, formpart *fp)
{
    memset(fp, 0, sizeof *fp);
    const char *a = fa->arg;
    const char *eq = strchr(a, '=');
    if (!eq) {
        cli_usage("(2) option -F: is badly used here: '%s' has no '='", a);
        return HF_E_BAD_ARG;
    }
    fp->name = xstrndup(a, (size_t)(eq - a));
    const char *p = eq + 1;
    if (fa->literal) {
        fp->value = xstrdup(p);
        return 0;
    }
    if (*p == '@' || *p == '<')
        fp->kind = *p++;
    fp->value = form_word(&p);
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *key = p;
        const char *keq = strchr(p, '=');
        const char *semi = strchr(p, ';');
        if (!keq || (semi && semi < keq)) {
            /* not key=value: skip it as curl does */
            size_t n = semi ? (size_t)(semi - p) : strlen(p);
            if (n)
                cli_warn("skip unknown form field: %.*s", (int)n, p);
            p += n;
            continue;
        }
        size_t klen = (size_t)(keq - key);
        p = keq + 1;
        char *val = form_word(&p);
        if (klen == 4 && cli_ncaseeq(key, "type", 4)) {
            free(fp->type);
            fp->type = val;
        } else if (klen == 8 && cli_ncaseeq(key, "filename", 8)) {
            free(fp->filename);
            fp->filename = val;
        } else if (klen == 7 && cli_ncaseeq(key, "headers", 7)) {
            if (strpbrk(val, "\r\n")) {
                free(val);
                cli_usage("(2) option -F: CR or LF in a part header");
                return HF_E_BAD_ARG;
            }
            sv_push(&fp->owned, val);
            sv_push(&fp->headers, val);
        } else {
            cli_warn("skip unknown form field: %.*s", (int)klen, key);
            free(val);
        }
    }
    return 0;
}

static int form_add(formbuild *fb, const formpart *fp)
{
    sbuf *o = &fb->cur;
    sb_printf(o, "--%s\r\nContent-Disposition: form-data; name=",
               fb->boundary);
    add_quoted(o, fp->name);

    const char *filename = fp->filename;
    const char *slash = NULL;
    if (!filename && fp->kind == '@' && strcmp(fp->value, "-") != 0) {
        slash = strrchr(fp->value, '/');
        filename = slash ? slash + 1 : fp->value;
    }
    if (filename) {
        sb_adds(o, "; filename=");
        add_quoted(o, filename);
    }
    sb_adds(o, "\r\n");
    const char *type = fp->type;
    if (!type && fp->kind == '@')
        type = filename ? guess_type(filename) : "application/octet-stream";
    if (type)
        sb_printf(o, "Content-Type: %s\r\n", type);
    for (size_t i = 0; i < fp->headers.n; i++)
        sb_printf(o, "%s\r\n", fp->headers.v[i]);
    sb_adds(o, "\r\n");

    if (fp->kind == 0) {
        sb_adds(o, fp->value);
    } else {
        const char *path = fp->value;
        struct stat st;
        if (strcmp(path, "-") != 0 && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode) && (int64_t)st.st_size >= BODY_STREAM_MIN) {
            fb_flush_mem(fb);
            seg_push(fb->b, NULL, 0, xstrdup(path), (int64_t)st.st_size);
        } else {
            int e = cli_read_file(path, o);
            if (e) {
                cli_error(HF_E_READ, "Failed to open/read local data from "
                          "file/application: %s: %s", path, strerror(e));
                return HF_E_READ;
            }
        }
    }
    sb_adds(o, "\r\n");
    return 0;
}

static int build_form(const cfg *c, body *b)
{
    formbuild fb;
    memset(&fb, 0, sizeof fb);
    fb.b = b;
    b->has_form = 1;
    make_boundary(fb.boundary, sizeof fb.boundary);
    for (size_t i = 0; i < c->nforms; i++) {
        formpart fp;
        int r = form_parse(&c->forms[i], &fp);
        if (!r)
            r = form_add(&fb, &fp);
        formpart_free(&fp);
        if (r) {
            sb_free(&fb.cur);
            return r;
        }
    }
    sb_printf(&fb.cur, "--%s--\r\n", fb.boundary);
    if (b->nsegs == 0) {
        b->kind = BODY_MEM;
        b->mem = fb.cur;
    } else {
        fb_flush_mem(&fb);
        b->kind = BODY_SEGS;
    }
    sbuf ct = {0};
    sb_printf(&ct, "multipart/form-data; boundary=%s", fb.boundary);
    b->content_type = sb_steal(&ct);
    return 0;
}

int cli_body_build(const cfg *c, size_t nurls, body *b, sbuf *query)
{
    memset(b, 0, sizeof *b);
    if (c->nforms)
        return build_form(c, b);
    if (c->ndata)
        return build_data(c, nurls, b, query);
    return 0;
}

void cli_body_free(body *b)
{
    sb_free(&b->mem);
    free(b->path);
    for (size_t i = 0; i < b->nsegs; i++) {
        free(b->segs[i].mem);
        free(b->segs[i].path);
    }
    free(b->segs);
    free(b->content_type);
    memset(b, 0, sizeof *b);
}

int cli_upload_build(const char *path, body *b)
{
    memset(b, 0, sizeof *b);
    if (strcmp(path, "-") == 0 || strcmp(path, ".") == 0) {
        b->kind = BODY_STDIN;
        return 0;
    }
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : errno;
        if (fd >= 0)
            close(fd);
        cli_error(HF_E_READ, "Failed to open/read local data from file "
                  "'%s': %s", path, strerror(e));
        return HF_E_READ;
    }
    close(fd);
    b->path = xstrdup(path);
    if (S_ISREG(st.st_mode)) {
        b->kind = BODY_FILE;
        b->size = (int64_t)st.st_size;
    } else {
        b->kind = BODY_PIPE;
    }
    return 0;
}

int cli_body_rewindable(const body *b, const body_reader *rd)
{
    return !((b->kind == BODY_STDIN || b->kind == BODY_PIPE) && rd->nread);
}

/* ---- streaming ------------------------------------------------------- */

static ssize_t read_some(int fd, void *p, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, p, cap);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

/* Reads up to cap bytes of a file piece of the given size; a file that
 * ends early is an error (the length was already announced). */
static int read_file_piece(body_reader *rd, const char *path, int64_t size,
                           char *out, size_t cap, size_t *n)
{
    if (rd->fd < 0) {
        rd->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (rd->fd < 0)
            return 1;
    }
    int64_t left = size - rd->off;
    if ((int64_t)cap > left)
        cap = (size_t)left;
    ssize_t got = cap ? read_some(rd->fd, out, cap) : 0;
    if (got < 0 || (got == 0 && cap > 0))
        return 1;
    rd->off += got;
    *n = (size_t)got;
    return 0;
}

static int read_piece(body_reader *rd, void *bufp, size_t cap, size_t *n)
{
    const body *b = rd->b;
    char *out = bufp;
    *n = 0;
    switch (b->kind) {
    case BODY_STDIN:
    case BODY_PIPE: {
        if (b->kind == BODY_PIPE && rd->fd < 0) {
            rd->fd = open(b->path, O_RDONLY | O_CLOEXEC);
            if (rd->fd < 0)
                return 1;
        }
        ssize_t got = read_some(b->kind == BODY_PIPE ? rd->fd : 0, out, cap);
        if (got < 0)
            return 1;
        *n = (size_t)got;
        return 0;
    }
    case BODY_FILE:
        if (rd->off >= b->size)
            return 0;
        return read_file_piece(rd, b->path, b->size, out, cap, n);
    case BODY_SEGS:
        while (*n < cap && rd->seg < b->nsegs) {
            const body_seg *s = &b->segs[rd->seg];
            size_t got = 0;
            if (s->mem) {
                size_t left = s->len - (size_t)rd->off;
                got = left < cap - *n ? left : cap - *n;
                memcpy(out + *n, s->mem + rd->off, got);
                rd->off += (int64_t)got;
            } else if (read_file_piece(rd, s->path, s->size, out + *n,
                                       cap - *n, &got)) {
                return 1;
            }
            *n += got;
            int64_t seglen = s->mem ? (int64_t)s->len : s->size;
            if (rd->off >= seglen) {
                if (rd->fd >= 0) {
                    close(rd->fd);
                    rd->fd = -1;
                }
                rd->seg++;
                rd->off = 0;
            }
            if (!s->mem)
                break; /* hand over what the file gave */
        }
        return 0;
    }
    return 0;
}

static int reader_fn(void *arg, void *bufp, size_t cap, size_t *n)
{
    body_reader *rd = arg;
    int rc = read_piece(rd, bufp, cap, n);
    if (!rc)
        rd->nread += (int64_t)*n;
    return rc;
}

hf_err cli_body_attach(const body *b, hf_request *r, body_reader *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->b = b;
    rd->fd = -1;
    switch (b->kind) {
    case BODY_MEM:
        return hf_request_body(r, b->mem.p ? b->mem.p : "", b->mem.len);
    case BODY_FILE:
        return hf_request_body_reader(r, reader_fn, rd, b->size);
    case BODY_STDIN:
    case BODY_PIPE:
        return hf_request_body_reader(r, reader_fn, rd, -1);
    case BODY_SEGS:
        return hf_request_body_reader(r, reader_fn, rd, b->total);
    }
    return HF_OK;
}

void cli_body_reader_done(body_reader *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
}
