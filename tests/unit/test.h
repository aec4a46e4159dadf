/* A minimal test harness: CHECK records a failure and goes on; main returns
 * test_summary() so ctest sees the result. */
#ifndef AESWEEP_TEST_H
#define AESWEEP_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        test_checks++;                                                    \
        if (!(cond)) {                                                    \
            test_failures++;                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

/* |a-b| <= tol * max(1, |b|) */
#define CHECK_CLOSE(a, b, tol, what)                                      \
    do {                                                                  \
        double a_ = (a), b_ = (b);                                        \
        double s_ = fabs(b_) > 1 ? fabs(b_) : 1;                          \
        CHECK(fabs(a_ - b_) <= (tol) * s_, "%s: %.9g vs %.9g (tol %g)", what, a_, b_, (double)(tol)); \
    } while (0)

static inline int test_summary(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

static inline const char *test_env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

#endif
