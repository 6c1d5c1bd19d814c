/* gai.c -- the baseline of bench/dns.sh: getaddrinfo(3) on each name of a
 * file, one after the other (AF_UNSPEC, as a client asks; -4: AF_INET
 * only), timed from the first call to the last.  Prints
 * "gai: N names, F failed, S seconds".
 *   cc -O2 -o gai bench/gai.c && ./gai [-4] NAMES_FILE */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int family = AF_UNSPEC;
    if (argc == 3 && !strcmp(argv[1], "-4")) {
        family = AF_INET;
        argv++;
        argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: gai [-4] NAMES_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char line[512];
    long n = 0, failed = 0;
    double t0 = now_s();
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(line, NULL, &hints, &res);
        if (rc) {
            if (failed++ < 3)
                fprintf(stderr, "gai: %s: %s\n", line, gai_strerror(rc));
        } else {
            freeaddrinfo(res);
        }
        n++;
    }
    double t1 = now_s();
    fclose(f);
    printf("gai: %ld names, %ld failed, %.6f seconds\n", n, failed, t1 - t0);
    return failed ? 1 : 0;
}
