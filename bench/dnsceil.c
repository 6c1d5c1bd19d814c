/* dnsceil.c -- the ceiling of bench/dns.sh: how fast the DNS server answers
 * the benchmark's queries when the client costs it next to nothing.
 *
 *   cc -O2 -o dnsceil bench/dnsceil.c
 *   ./dnsceil [-4] SERVER_IP PORT NAMES_FILE
 *
 * One UDP socket connect()ed to the server (one source port for the whole
 * run: not what a resolver may do), queries written straight into buffers
 * and sent and read K at a time with sendmmsg/recvmmsg, 100 queries in
 * flight (more makes the server's socket buffer overflow here).  Per name:
 * A and AAAA (-4: A only), like bench/gai.c.  No answer is decoded beyond
 * its ID.  This is a measuring tool, not a resolver.
 *
 * Prints "ceil: Q queries, L lost, S seconds" (time from the first send to
 * the last answer; a query whose answer is not back 1 s after the others
 * counts as lost).  Exit status 1 on a bad argument or a socket error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define INFLIGHT 100
#define BATCH 16
#define QMAX 300

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A query for name/type with id into b (RFC 1035 4.1); its length, or 0
 * when the name does not fit. */
static size_t make_query(unsigned char *b, const char *name, unsigned id, int type)
{
    static const unsigned char hdr[10] = { 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
    size_t n = 0, len = strlen(name);
    if (len == 0 || len > 253)
        return 0;
    b[n++] = (unsigned char)(id >> 8);
    b[n++] = (unsigned char)id;
    memcpy(b + n, hdr, sizeof hdr);          /* RD, QDCOUNT 1 */
    n += sizeof hdr;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        if (l == 0 || l > 63)
            return 0;
        b[n++] = (unsigned char)l;
        memcpy(b + n, s, l);
        n += l;
        s += l;
        if (*s)
            s++;
    }
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = (unsigned char)type;
    b[n++] = 0;
    b[n++] = 1;                              /* class IN */
    return n;
}

int main(int argc, char **argv)
{
    int per = 2;
    if (argc == 5 && !strcmp(argv[1], "-4")) {
        per = 1;
        argv++;
        argc--;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: dnsceil [-4] SERVER_IP PORT NAMES_FILE\n");
        return 1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "dnsceil: bad address %s\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    size_t cap = 1024, nn = 0;
    char (*names)[256] = malloc(cap * sizeof *names);
    char line[512];
    while (names && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || strlen(line) > 253)
            continue;
        if (nn == cap) {
            void *p = realloc(names, 2 * cap * sizeof *names);
            if (!p)
                break;
            names = p;
            cap *= 2;
        }
        strcpy(names[nn++], line);
    }
    fclose(f);
    if (!names || nn == 0) {
        fprintf(stderr, "dnsceil: no names\n");
        return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = { 1, 0 };
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        perror("dnsceil: socket");
        return 1;
    }

    long total = (long)nn * per, sent = 0, got = 0;
    static unsigned char qb[BATCH][QMAX], rb[BATCH][512];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    double t0 = now_s(), t1 = t0;
    while (got < total) {
        int k = 0;
        while (k < BATCH && sent < total && sent - got < INFLIGHT) {
            int type = per == 2 && sent % 2 ? 28 : 1;
            size_t len = make_query(qb[k], names[sent / per], (unsigned)sent, type);
            sent++;
            if (!len) {
                got++;                       /* a name that cannot be asked */
                continue;
            }
            iov[k].iov_base = qb[k];
            iov[k].iov_len = len;
            memset(&mm[k], 0, sizeof mm[k]);
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            k++;
        }
        for (int i = 0; i < k;) {
            int r = sendmmsg(fd, mm + i, (unsigned)(k - i), 0);
            if (r < 0 && errno != EINTR) {
                perror("dnsceil: sendmmsg");
                return 1;
            }
            i += r > 0 ? r : 0;
        }
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = rb[i];
            iov[i].iov_len = sizeof rb[i];
            memset(&mm[i], 0, sizeof mm[i]);
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
        if (r > 0) {
            got += r;
            t1 = now_s();
        } else if (r < 0 && errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                perror("dnsceil: recvmmsg");
                return 1;
            }
            break;                           /* 1 s without an answer */
        }
    }
    printf("ceil: %ld queries, %ld lost, %.6f seconds\n", total, total - got, t1 - t0);
    free(names);
    return 0;
}
