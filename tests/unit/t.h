/* t.h -- the smallest test framework: CHECK records a failure and goes on;
 * T_END prints "N passed, N failed" and returns the exit status. */
#ifndef T_H
#define T_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond) do {                                                    \
        if (cond) t_pass++;                                                 \
        else { t_fail++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_MSG(cond, ...) do {                                           \
        if (cond) t_pass++;                                                 \
        else { t_fail++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }            \
    } while (0)

#define CHECK_STR(a, b) do {                                                \
        const char *t_a_ = (a), *t_b_ = (b);                                \
        CHECK_MSG(t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0,                  \
                  "got \"%s\", want \"%s\"", t_a_ ? t_a_ : "(null)",        \
                  t_b_ ? t_b_ : "(null)");                                  \
    } while (0)

#define T_END() (printf("%d passed, %d failed\n", t_pass, t_fail), t_fail != 0)
#endif
