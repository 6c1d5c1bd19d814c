/* runstat -- run commands repeatedly and report wall time and rusage.
 *
 * Used by bench/run.sh; compiled into the benchmark's temp directory.
 *
 *   runstat [-c] [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-R COUNT] \
 *           LABEL CMD ARGS... [:: LABEL CMD ARGS...]...
 *
 * Runs every command RUNS times, interleaved (run i: A B, run i+1: B A, so
 * neither command is systematically first), after WARMUP untimed runs of
 * each.  -R COUNT repeats each command's last argument so that it appears
 * COUNT times (e.g. one URL 10,000 times on a single command line).
 * The child's stdin and stdout are /dev/null; stderr is inherited.
 * With -c the child's stdout is a pipe instead, and the bytes it writes are
 * counted (for verifying downloads; the copy costs time, so not for timing).
 *
 * Prints one line per timed run on stdout:
 *   LABEL RUN WALL_S MAXRSS_KIB UTIME_S STIME_S [STDOUT_BYTES]
 *
 * The child is started with fork() (not vfork/posix_spawn) from this small
 * process: after exec, ru_maxrss holds the maximum of the exec'ed program's
 * peak RSS and the RSS the forked copy of its parent had, and a fork of this
 * tiny program has almost none (a vfork child would instead inherit the
 * parent's whole high-water mark, and a fork of python3 several MiB).
 *
 * On SIGTERM, SIGINT or SIGHUP it kills the running command and exits.
 * Exits 1 (after printing a message) if a command exits non-zero, is killed
 * by a signal, or exceeds the timeout (then it is killed with SIGKILL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
    const char *label;
    char **argv;
};

static volatile sig_atomic_t timed_out, stop_sig;
static int count_mode;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

static void on_stop(int sig)
{
    stop_sig = sig;
}

/* SIGTERM/SIGINT/SIGHUP: kill the running child, then exit. */
static void check_stop(pid_t pid)
{
    int st;
    if (!stop_sig)
        return;
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    _exit(128 + stop_sig);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int kill_timed_out(const struct cmd *c, pid_t pid, unsigned timeout)
{
    int st;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    fprintf(stderr, "runstat: %s: timed out after %us\n", c->label, timeout);
    return -1;
}

/* Runs one command; returns 0 on success.  Fills wall/ru/nbytes on success. */
static int run_one(const struct cmd *c, unsigned timeout, double *wall,
                   struct rusage *ru, long long *nbytes)
{
    int st, pfd[2] = {-1, -1};
    *nbytes = 0;
    if (count_mode && pipe(pfd) != 0) {
        perror("runstat: pipe");
        return -1;
    }
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("runstat: fork");
        return -1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || dup2(fd, 0) < 0 || dup2(count_mode ? pfd[1] : fd, 1) < 0)
            _exit(126);
        if (fd > 1)
            close(fd);
        if (count_mode) {
            close(pfd[0]);
            close(pfd[1]);
        }
        execv(c->argv[0], c->argv);
        fprintf(stderr, "runstat: exec %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    timed_out = 0;
    alarm(timeout);
    if (count_mode) {
        static char buf[1 << 16];
        close(pfd[1]);
        for (;;) {
            ssize_t n = read(pfd[0], buf, sizeof buf);
            if (n > 0) {
                *nbytes += n;
            } else if (n == 0) {
                break;
            } else if (errno == EINTR) {
                check_stop(pid);
                if (timed_out) {
                    close(pfd[0]);
                    return kill_timed_out(c, pid, timeout);
                }
            } else {
                perror("runstat: read");
                break;
            }
        }
        close(pfd[0]);
    }
    for (;;) {
        pid_t r = wait4(pid, &st, 0, ru);
        if (r == pid)
            break;
        if (r < 0 && errno == EINTR) {
            check_stop(pid);
            if (timed_out)
                return kill_timed_out(c, pid, timeout);
            continue;
        }
        perror("runstat: wait4");
        return -1;
    }
    *wall = now_s() - t0;
    alarm(0);
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "runstat: %s: killed by signal %d\n", c->label,
                WTERMSIG(st));
        return -1;
    }
    if (WEXITSTATUS(st) != 0) {
        fprintf(stderr, "runstat: %s: exit status %d\n", c->label,
                WEXITSTATUS(st));
        return -1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: runstat [-c] [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] "
                    "[-R COUNT] LABEL CMD ARGS... [:: LABEL CMD ARGS...]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long runs = 1, warmup = 0, repeat = 1, timeout = 60;
    int opt;
    while ((opt = getopt(argc, argv, "+cn:w:t:R:")) != -1) {
        switch (opt) {
        case 'c': count_mode = 1; break;
        case 'n': runs = atol(optarg); break;
        case 'w': warmup = atol(optarg); break;
        case 't': timeout = atol(optarg); break;
        case 'R': repeat = atol(optarg); break;
        default: usage();
        }
    }
    if (runs < 1 || warmup < 0 || repeat < 1 || timeout < 1)
        usage();

    struct cmd cmds[16];
    int ncmd = 0;
    int i = optind;
    while (i < argc) {
        int start = i;
        while (i < argc && strcmp(argv[i], "::") != 0)
            i++;
        int n = i - start; /* label + argv */
        if (n < 2 || ncmd == 16)
            usage();
        char **av = calloc((size_t)(n - 1) + (size_t)repeat, sizeof *av);
        if (!av) {
            perror("runstat");
            return 1;
        }
        int k = 0;
        for (int j = start + 1; j < i; j++)
            av[k++] = argv[j];
        for (long r = 1; r < repeat; r++)
            av[k++] = argv[i - 1];
        av[k] = NULL;
        cmds[ncmd].label = argv[start];
        cmds[ncmd].argv = av;
        ncmd++;
        if (i < argc)
            i++; /* skip "::" */
    }
    if (ncmd == 0)
        usage();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: wait4 gets EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long r = -warmup; r < runs; r++) {
        for (int j = 0; j < ncmd; j++) {
            check_stop(0);
            /* Alternate the order every run. */
            int idx = ((r % 2) != 0) ? ncmd - 1 - j : j;
            double wall;
            struct rusage ru;
            long long nbytes;
            if (run_one(&cmds[idx], (unsigned)timeout, &wall, &ru, &nbytes) != 0)
                return 1;
            if (r < 0)
                continue;
            printf("%s %ld %.6f %ld %.6f %.6f", cmds[idx].label, r, wall,
                   ru.ru_maxrss, tv_s(ru.ru_utime), tv_s(ru.ru_stime));
            if (count_mode)
                printf(" %lld", nbytes);
            putchar('\n');
        }
    }
    return 0;
}
