/* progress.c -- drawing the progress meter (see progress.h).
 *
 * The line, fitted to the terminal's width (TIOCGWINSZ, else 80 columns):
 *
 *    45.3% [=========>           ] 4.72 MB / 10.5 MB  3.10 MB/s  ETA 0:02
 *    4.72 MB  3.10 MB/s  elapsed 0:03              (size unknown)
 *   ##############                                              45.3%  (-#)
 *
 * Sizes and rates are in SI units (1 MB = 1,000,000 bytes).  The rate is
 * taken over the last ten draws (about two seconds); the last line, drawn
 * when the transfer ends, shows the average rate and the time taken.  The
 * line holds no escape sequences: a shorter line is blanked with spaces. */
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

#define NS 1000000000LL
#define DRAW_DELAY_NS NS          /* nothing before the first second */
#define DRAW_EVERY_NS (NS / 5)    /* then at most five lines a second */
#define LINE_MAX_COLS 400

int progress_tty(void)
{
    return isatty(2);
}

static int term_cols(void)
{
    struct winsize ws;
    int cols = 80;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        cols = ws.ws_col;
    /* stay off the last column: writing there makes some terminals wrap */
    cols -= 1;
    if (cols > LINE_MAX_COLS)
        cols = LINE_MAX_COLS;
    return cols < 1 ? 1 : cols;
}

void progress_begin(progress *p, int style)
{
    memset(p, 0, sizeof *p);
    p->style = style;
    p->total = -1;
    p->start_ns = progress_clock();
    p->next_ns = p->start_ns + DRAW_DELAY_NS;
    p->samp_t[0] = p->start_ns;
    p->samp_b[0] = 0;
    p->nsamp = 1;
    p->sidx = 1;
}

void progress_head(progress *p, const hf_response *resp, int head_method,
                   int decoding)
{
    int st = hf_response_status(resp);
    p->total = -1;
    if (head_method || st == 204 || st == 304) {
        p->nobody = 1;
        p->next_ns = INT64_MAX;
        return;
    }
    if (decoding) {
        const char *ce = hf_response_header(resp, "Content-Encoding");
        if (ce && !cli_ncaseeq(ce, "identity", 9))
            return; /* Content-Length counts the encoded bytes */
    }
    const char *cl = hf_response_header(resp, "Content-Length");
    if (!cl)
        return;
    while (*cl == ' ' || *cl == '\t')
        cl++;
    int64_t v = 0;
    const char *d = cl;
    for (; *d >= '0' && *d <= '9'; d++) {
        if (v > (INT64_MAX - 9) / 10)
            return;
        v = v * 10 + (*d - '0');
    }
    while (*d == ' ' || *d == '\t')
        d++;
    if (d != cl && *d == '\0')
        p->total = v;
}

/* ---- formatting ---------------------------------------------------------- */

/* "512 B", "4.72 kB", "47.2 MB", "472 GB": three significant digits. */
static void fmt_size(char *b, size_t n, double v)
{
    static const char *const unit[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    if (v < 1000.0) {
        snprintf(b, n, "%d B", (int)v);
        return;
    }
    int u = -1;
    while (v >= 999.5 && u < 5) {
        v /= 1000.0;
        u++;
    }
    if (v < 9.995)
        snprintf(b, n, "%.2f %s", v, unit[u]);
    else if (v < 99.95)
        snprintf(b, n, "%.1f %s", v, unit[u]);
    else
        snprintf(b, n, "%.0f %s", v, unit[u]);
}

/* "0:07", "12:34", "1:02:03"; "--:--" when too long to mean anything. */
static void fmt_time(char *b, size_t n, double secs)
{
    if (!(secs >= 0) || secs > 99 * 3600.0) {
        snprintf(b, n, "--:--");
        return;
    }
    long s = (long)(secs + 0.5);
    if (s >= 3600)
        snprintf(b, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(b, n, "%ld:%02ld", s / 60, s % 60);
}

/* The rate over the sample window, and the sample of this draw. */
static double window_rate(progress *p, int64_t now)
{
    int oldest = p->nsamp < PROG_SAMPLES ? 0 : p->sidx;
    int64_t dt = now - p->samp_t[oldest];
    double rate = dt > 0 ? (double)(p->bytes - p->samp_b[oldest]) * NS / dt
                         : 0.0;
    p->samp_t[p->sidx] = now;
    p->samp_b[p->sidx] = p->bytes;
    p->sidx = (p->sidx + 1) % PROG_SAMPLES;
    if (p->nsamp < PROG_SAMPLES)
        p->nsamp++;
    return rate;
}

/* The [=====>    ] bar, width w including the brackets. */
static size_t put_bar(char *o, int w, double frac, char fill, int brackets)
{
    int inner = brackets ? w - 2 : w;
    if (inner < 1)
        return 0;
    int full = (int)(frac * inner);
    if (full > inner)
        full = inner;
    size_t k = 0;
    if (brackets)
        o[k++] = '[';
    for (int i = 0; i < inner; i++) {
        char ch = ' ';
        if (i < full)
            ch = fill;
        else if (i == full && brackets && full > 0 && full < inner)
            ch = '>';
        o[k++] = ch;
    }
    if (brackets)
        o[k++] = ']';
    return k;
}

/* Builds the line in out (at most cols bytes) and returns its length. */
static size_t build_line(progress *p, int64_t now, int final, int cols,
                         char *out)
{
    double elapsed = (double)(now - p->start_ns) / NS;
    double rate = window_rate(p, now);
    if (final)
        rate = elapsed > 0 ? (double)p->bytes / elapsed : 0.0;
    int known = p->total > 0 && p->bytes <= p->total;

    char got[32], tot[32], rs[40], tm[32], when[48];
    fmt_size(got, sizeof got, (double)p->bytes);
    fmt_size(rs, sizeof rs, rate);
    strcat(rs, "/s");
    if (final) {
        fmt_time(tm, sizeof tm, elapsed);
        snprintf(when, sizeof when, "in %s", tm);
    } else if (known) {
        double left = (double)(p->total - p->bytes);
        fmt_time(tm, sizeof tm, rate > 0 ? left / rate : -1.0);
        snprintf(when, sizeof when, "ETA %s", tm);
    } else {
        fmt_time(tm, sizeof tm, elapsed);
        snprintf(when, sizeof when, "elapsed %s", tm);
    }

    char line[LINE_MAX_COLS + 128];
    size_t len = 0;
    if (!known) {
        len = (size_t)snprintf(line, sizeof line, "%s  %s  %s", got, rs, when);
    } else {
        double frac = (double)p->bytes / (double)p->total;
        char pct[16];
        snprintf(pct, sizeof pct, "%5.1f%%", frac * 100.0);
        if (p->style == PROG_BAR) {
            /* curl's -#: a bar of '#' and the percentage at the end */
            int w = cols - (int)strlen(pct) - 1;
            if (w > 0)
                len = put_bar(line, w, frac, '#', 0);
            len += (size_t)snprintf(line + len, sizeof line - len, " %s", pct);
        } else {
            fmt_size(tot, sizeof tot, (double)p->total);
            char right[160];
            int bar = 0;
            /* drop what does not fit: the total, then the ETA, then the bar */
            for (int tryn = 0; tryn < 3; tryn++) {
                if (tryn == 0)
                    snprintf(right, sizeof right, " %s / %s  %s  %s", got, tot,
                             rs, when);
                else if (tryn == 1)
                    snprintf(right, sizeof right, " %s  %s  %s", got, rs, when);
                else
                    snprintf(right, sizeof right, " %s  %s", got, rs);
                bar = cols - (int)strlen(pct) - 1 - (int)strlen(right);
                if (bar >= 12)
                    break;
            }
            len = (size_t)snprintf(line, sizeof line, "%s ", pct);
            if (bar >= 12)
                len += put_bar(line + len, bar, frac, '=', 1);
            len += (size_t)snprintf(line + len, sizeof line - len, "%s", right);
        }
    }
    if (len > sizeof line - 1)
        len = sizeof line - 1;
    if (len > (size_t)cols)
        len = (size_t)cols;
    memcpy(out, line, len);
    return len;
}

static void draw(progress *p, int64_t now, int final)
{
    char buf[2 * LINE_MAX_COLS + 8];
    int cols = term_cols();
    size_t k = 0;
    buf[k++] = '\r';
    size_t len = build_line(p, now, final, cols, buf + k);
    k += len;
    /* blank the rest of a longer earlier line */
    for (int i = (int)len; i < p->lastlen && k < sizeof buf - 2; i++)
        buf[k++] = ' ';
    if (final)
        buf[k++] = '\n';
    p->lastlen = (int)len;
    p->shown = 1;
    const char *s = buf;
    while (k) {
        ssize_t w = write(2, s, k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* a meter that cannot be shown is not an error */
        s += w;
        k -= (size_t)w;
    }
}

void progress_tick(progress *p, int64_t now_ns)
{
    if (p->nobody) {
        p->next_ns = INT64_MAX;
        return;
    }
    p->next_ns = now_ns + DRAW_EVERY_NS;
    draw(p, now_ns, 0);
}

void progress_end(progress *p)
{
    if (p->shown)
        draw(p, progress_clock(), 1);
    p->shown = 0;
    p->next_ns = INT64_MAX;
}
