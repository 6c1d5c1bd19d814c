/* h1_parse.c -- HTTP/1.x response head, framing and chunked coding
 * (RFC 9112).  Pure functions over caller buffers: no I/O, no allocation.
 *
 * The head parser rescans from the start on every call (one O(n) pass);
 * it checks bytes as they arrive, so a malformed head fails as soon as the
 * offending byte is seen and a proper prefix of a good head is always
 * H1_INCOMPLETE. */
#include "h1_parse.h"

#include <string.h>

/* tchar (RFC 9110 5.6.2) */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ws(unsigned char c) { return c == ' ' || c == '\t'; }

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive (ASCII) compare of s[0..n) with the C string z. */
static int ieq(const char *s, size_t n, const char *z)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (z[i] == '\0' || lower((unsigned char)s[i]) !=
                                lower((unsigned char)z[i]))
            return 0;
    return z[n] == '\0';
}

/* Find the end of the line that starts at buf[start], scanning from
 * buf[from].  The line is the bytes before its LF (a CR right before the
 * LF ends it too, RFC 9112 2.2); it may hold at most H1_MAX_LINE bytes.
 * A NUL, or a CR not followed by LF, is error err.  Returns 0 with *end
 * (before CR LF) and *next (after LF), H1_INCOMPLETE, err or
 * H1_ERR_TOO_LARGE. */
static int line_end(const char *buf, size_t start, size_t from, size_t n,
                    int err, size_t *end, size_t *next)
{
    size_t i;
    for (i = from; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') {
            *end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
            *next = i + 1;
            return 0;
        }
        if (i - start >= H1_MAX_LINE)
            return H1_ERR_TOO_LARGE;
        if (c == '\0' || (c == '\r' && i + 1 < n && buf[i + 1] != '\n'))
            return err;
    }
    return H1_INCOMPLETE;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 4); the SP before an empty reason may be missing too. */
static int parse_status(const char *buf, size_t n, h1_resp *out,
                        size_t *next)
{
    static const char ver[] = "HTTP/1.";
    size_t i, end, rs;
    int r;

    /* "HTTP/1.x SP 3DIGIT" is checked as bytes arrive: garbage fails
     * early instead of waiting for a whole line. */
    for (i = 0; i < 12 && i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        int ok = i < 7 ? c == (unsigned char)ver[i]
               : i == 7 ? c == '0' || c == '1'
               : i == 8 ? c == ' '
               : i == 9 ? c >= '1' && c <= '9'
               : c >= '0' && c <= '9';
        if (!ok)
            return H1_ERR_STATUS;
    }
    if (n <= 12)
        return H1_INCOMPLETE;
    if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
        return H1_ERR_STATUS;
    r = line_end(buf, 0, 12, n, H1_ERR_STATUS, &end, next);
    if (r)
        return r;
    rs = buf[12] == ' ' ? 13 : 12;
    if (rs > end)
        rs = end;
    /* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
    for (i = rs; i < end; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return H1_ERR_STATUS;
    }
    out->minor = buf[7] - '0';
    out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';
    out->reason = buf + rs;
    out->reason_len = end - rs;
    return 0;
}

/* One field line at buf[start] (RFC 9112 5), with its obs-fold
 * continuation lines (5.2), which are turned into SP in place so that a
 * later call on a longer buffer sees one plain line. */
static int parse_field(char *buf, size_t n, size_t start, h1_header *h,
                       size_t *next)
{
    size_t i = start, end, vs, nx;
    int r;

    /* field-name = token; no whitespace before ':' (RFC 9112 5.1) */
    while (i < n && is_tchar((unsigned char)buf[i])) {
        if (i - start >= H1_MAX_LINE)
            return H1_ERR_TOO_LARGE;
        i++;
    }
    if (i >= n)
        return H1_INCOMPLETE;
    if (buf[i] != ':' || i == start)
        return H1_ERR_HEADER;
    h->name = buf + start;
    h->name_len = i - start;
    vs = ++i;
    for (;;) {
        r = line_end(buf, start, i, n, H1_ERR_HEADER, &end, &nx);
        if (r)
            return r;
        if (nx >= n)
            return H1_INCOMPLETE; /* is the next line a fold? */
        if (!is_ws((unsigned char)buf[nx]))
            break;
        memset(buf + end, ' ', nx - end);
        i = nx;
    }
    while (vs < end && is_ws((unsigned char)buf[vs]))
        vs++;
    while (end > vs && is_ws((unsigned char)buf[end - 1]))
        end--;
    h->value = buf + vs;
    h->value_len = end - vs;
    *next = nx;
    return 0;
}

/* Field lines from buf[p] up to and including the empty line. */
static int parse_fields(char *buf, size_t n, size_t p, h1_header *hdrs,
                        size_t max, size_t *nh, size_t *next)
{
    int r;
    for (;;) {
        if (p >= n)
            return H1_INCOMPLETE;
        if (buf[p] == '\n') {
            *next = p + 1;
            return 0;
        }
        if (buf[p] == '\r') {
            if (p + 1 >= n)
                return H1_INCOMPLETE;
            if (buf[p + 1] != '\n')
                return H1_ERR_HEADER;
            *next = p + 2;
            return 0;
        }
        /* Whitespace right after the status line: a fold with nothing to
         * continue; reject (RFC 9112 2.2).  Later folds are consumed by
         * parse_field. */
        if (is_ws((unsigned char)buf[p]))
            return H1_ERR_HEADER;
        if (*nh >= max)
            return H1_ERR_TOO_LARGE;
        r = parse_field(buf, n, p, &hdrs[*nh], &p);
        if (r)
            return r;
        ++*nh;
    }
}

int h1_parse_head(char *buf, size_t len, h1_resp *out, h1_header *hdrs,
                  size_t cap)
{
    size_t n = len < H1_MAX_HEAD ? len : H1_MAX_HEAD;
    size_t max = cap < H1_MAX_FIELDS ? cap : H1_MAX_FIELDS;
    size_t p = 0, nh = 0;
    int r = parse_status(buf, n, out, &p);

    if (r == 0)
        r = parse_fields(buf, n, p, hdrs, max, &nh, &p);
    if (r == H1_INCOMPLETE && len > H1_MAX_HEAD)
        return H1_ERR_TOO_LARGE;
    if (r)
        return r;
    out->nhdr = nh;
    return (int)p;
}

int h1_find(const h1_header *hdrs, size_t n, const char *name, size_t from)
{
    size_t i;
    for (i = from; i < n; i++)
        if (ieq(hdrs[i].name, hdrs[i].name_len, name))
            return (int)i;
    return -1;
}

/* Next member of a comma list (RFC 9110 5.6.1) in v[0..len), starting at
 * *pos: *s / *sn get it OWS-trimmed (maybe empty).  Returns 0 at the end. */
static int list_next(const char *v, size_t len, size_t *pos, const char **s,
                     size_t *sn)
{
    size_t b = *pos, e;
    if (b > len)
        return 0;
    for (e = b; e < len && v[e] != ','; e++)
        ;
    *pos = e + 1;
    while (b < e && is_ws((unsigned char)v[b]))
        b++;
    while (e > b && is_ws((unsigned char)v[e - 1]))
        e--;
    *s = v + b;
    *sn = e - b;
    return 1;
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6), at most INT64_MAX. */
static int parse_cl(const char *s, size_t n, uint64_t *v)
{
    const uint64_t max = UINT64_MAX >> 1;
    size_t i;
    *v = 0;
    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9 || *v > (max - d) / 10)
            return -1;
        *v = *v * 10 + d;
    }
    return 0;
}

/* The transfer-coding name at the start of a TE list member: the token
 * before any ";parameters" (RFC 9112 7). */
static int te_coding(const char *s, size_t n, size_t *tn)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    *tn = i;
    while (i < n && is_ws((unsigned char)s[i]))
        i++;
    return *tn > 0 && (i == n || s[i] == ';') ? 0 : -1;
}

int h1_framing_of(const h1_resp *r, const h1_header *hdrs, int head_request,
                  h1_framing *f)
{
    int i, keep = 0, close = 0, te = 0, ncodings = 0, nchunked = 0;
    int last_chunked = 0, have_cl = 0;
    uint64_t cl = 0, v;
    size_t pos, sn, tn;
    const char *s;

    memset(f, 0, sizeof *f);
    /* Connection options (RFC 9112 9.3, 9.6) */
    for (i = -1; (i = h1_find(hdrs, r->nhdr, "connection", (size_t)(i + 1)))
                 >= 0;)
        for (pos = 0; list_next(hdrs[i].value, hdrs[i].value_len, &pos, &s,
                                &sn);) {
            close |= ieq(s, sn, "close");
            keep |= ieq(s, sn, "keep-alive");
        }
    f->must_close = close || (r->minor == 0 && !keep);

    /* RFC 9112 6.3 rule 1: no content, whatever the fields say */
    if (head_request || r->status < 200 || r->status == 204 ||
        r->status == 304) {
        f->kind = H1_BODY_NONE;
        return 0;
    }

    /* Transfer-Encoding, all fields as one list (RFC 9112 6.1) */
    for (i = -1; (i = h1_find(hdrs, r->nhdr, "transfer-encoding",
                              (size_t)(i + 1))) >= 0;) {
        te = 1;
        for (pos = 0; list_next(hdrs[i].value, hdrs[i].value_len, &pos, &s,
                                &sn);) {
            if (sn == 0)
                continue;
            if (te_coding(s, sn, &tn))
                return H1_ERR_FRAMING;
            ncodings++;
            last_chunked = ieq(s, tn, "chunked");
            nchunked += last_chunked;
        }
    }
    for (i = -1; (i = h1_find(hdrs, r->nhdr, "content-length",
                              (size_t)(i + 1))) >= 0;)
        have_cl = 1;

    if (te) {
        /* chunked must be last and only once; stricter than RFC 9112 6.3
         * rule 4, which would read a non-final chunked until close */
        if (ncodings == 0 || nchunked > 1 || (nchunked && !last_chunked))
            return H1_ERR_FRAMING;
        /* 6.3 rule 3: TE with CL "ought to be handled as an error" (a
         * smuggling or splitting attempt); hflow does so. */
        if (have_cl)
            return H1_ERR_FRAMING;
        if (last_chunked) {
            /* TE in an HTTP/1.0 message is faulty framing (6.1): decode
             * it, but do not reuse the connection. */
            f->kind = H1_BODY_CHUNKED;
            if (r->minor == 0)
                f->must_close = 1;
        } else {
            f->kind = H1_BODY_CLOSE;
            f->must_close = 1;
        }
        return 0;
    }

    /* Content-Length: every field and list member must agree (6.3 rule 5) */
    have_cl = 0;
    for (i = -1; (i = h1_find(hdrs, r->nhdr, "content-length",
                              (size_t)(i + 1))) >= 0;)
        for (pos = 0; list_next(hdrs[i].value, hdrs[i].value_len, &pos, &s,
                                &sn);) {
            if (parse_cl(s, sn, &v) || (have_cl && v != cl))
                return H1_ERR_FRAMING;
            have_cl = 1;
            cl = v;
        }
    if (have_cl) {
        f->kind = H1_BODY_LENGTH;
        f->length = cl;
    } else {
        f->kind = H1_BODY_CLOSE; /* 6.3 rule 8 */
        f->must_close = 1;
    }
    return 0;
}

/* ---- chunked transfer coding (RFC 9112 7.1) -------------------------- */

enum {
    C_SIZE0,      /* start of a chunk-size line: need a HEXDIG */
    C_SIZE,       /* in chunk-size */
    C_BWS,        /* whitespace after the size: only ';' may follow */
    C_EXT,        /* in chunk extensions, skipped */
    C_SIZE_LF,    /* CR seen at the end of the size line */
    C_DATA,       /* chunk-data, d->remaining bytes left */
    C_DATA_CR,    /* CRLF after chunk-data */
    C_DATA_LF,
    C_TRAILER0,   /* start of a trailer line (or the final empty line) */
    C_TRAILER,    /* in a trailer line, skipped */
    C_TRAILER_LF,
    C_END_LF,     /* CR of the final empty line seen */
    C_DONE
};

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* End of the chunk-size line: data follows, or the trailer section. */
static void size_line_done(h1_chunked *d)
{
    d->line_len = 0;
    d->state = d->remaining ? C_DATA : C_TRAILER0;
}

/* One byte of the chunked framing (not data).  Returns 0, 1 when the
 * message is complete, or an error. */
static int step_byte(h1_chunked *d, unsigned char c)
{
    int h = hexval(c);

    /* a line may hold H1_MAX_LINE bytes before its LF, as in the head */
    if (d->state <= C_SIZE_LF && ++d->line_len > H1_MAX_LINE && c != '\n')
        return H1_ERR_TOO_LARGE;
    if (d->state >= C_TRAILER0 && d->state <= C_END_LF &&
        (++d->trailer_len > H1_MAX_HEAD ||
         (++d->line_len > H1_MAX_LINE && c != '\n')))
        return H1_ERR_TOO_LARGE;

    switch (d->state) {
    case C_SIZE0:     /* chunk-size = 1*HEXDIG: no sign, space or "0x" */
        if (h < 0)
            return H1_ERR_CHUNK;
        d->remaining = (uint64_t)h;
        d->state = C_SIZE;
        return 0;
    case C_SIZE:
        if (h >= 0) {
            /* leading zeros are free; sizes above INT64_MAX (as for
             * Content-Length) are refused: no real chunk is that big, and
             * 2^64-1 is the classic overflow probe (SECURITY.md E.29) */
            if (d->remaining > (UINT64_C(0x7fffffffffffffff) >> 4))
                return H1_ERR_CHUNK;
            d->remaining = d->remaining << 4 | (uint64_t)h;
            return 0;
        }
        /* fall through */
    case C_BWS:       /* chunk-ext = *( BWS ";" BWS ext-name ... ) */
        if (is_ws(c))
            d->state = C_BWS;
        else if (c == ';')
            d->state = C_EXT;
        else if (c == '\r' && d->state == C_SIZE)
            d->state = C_SIZE_LF;
        else if (c == '\n' && d->state == C_SIZE)
            size_line_done(d);
        else
            return H1_ERR_CHUNK;
        return 0;
    case C_EXT:       /* skipped, but no CTLs besides HTAB */
        if (c == '\r')
            d->state = C_SIZE_LF;
        else if (c == '\n')
            size_line_done(d);
        else if ((c < 0x20 && c != '\t') || c == 0x7f)
            return H1_ERR_CHUNK;
        return 0;
    case C_SIZE_LF:
        if (c != '\n')
            return H1_ERR_CHUNK;
        size_line_done(d);
        return 0;
    case C_DATA_CR:   /* chunk = chunk-size [ chunk-ext ] CRLF chunk-data
                       * CRLF: exactly CRLF after the data, which has no
                       * line structure to be lenient about */
        if (c != '\r')
            return H1_ERR_CHUNK;
        d->state = C_DATA_LF;
        return 0;
    case C_DATA_LF:
        if (c != '\n')
            return H1_ERR_CHUNK;
        d->state = C_SIZE0;
        return 0;
    case C_TRAILER0:  /* trailer-section CRLF (7.1.2) */
        d->line_len = 1;
        if (c == '\r') {
            d->state = C_END_LF;
            return 0;
        }
        if (c == '\n')
            return 1;
        d->state = C_TRAILER;
        /* fall through */
    case C_TRAILER:
        if (c == '\r')
            d->state = C_TRAILER_LF;
        else if (c == '\n')
            d->state = C_TRAILER0;
        else if (c == '\0')
            return H1_ERR_CHUNK;
        return 0;
    case C_TRAILER_LF:
        if (c != '\n')
            return H1_ERR_CHUNK;
        d->state = C_TRAILER0;
        return 0;
    case C_END_LF:
        return c == '\n' ? 1 : H1_ERR_CHUNK;
    }
    return H1_ERR_CHUNK;
}

int h1_chunked_step(h1_chunked *d, const char *in, size_t len,
                    size_t *consumed, const char **data, size_t *data_len)
{
    size_t i = 0;
    int r;

    *consumed = 0;
    *data = NULL;
    *data_len = 0;
    if (d->state < 0) /* a previous error sticks */
        return d->state;
    if (d->state == C_DONE)
        return 1;
    while (i < len) {
        if (d->state == C_DATA) {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            *data = in + i;
            *data_len = n;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = C_DATA_CR;
            *consumed = i + n;
            return 0;
        }
        r = step_byte(d, (unsigned char)in[i++]);
        if (r < 0) {
            d->state = r;
            *consumed = i;
            return r;
        }
        if (r == 1) {
            d->state = C_DONE;
            *consumed = i;
            return 1;
        }
    }
    *consumed = i;
    return 0;
}
