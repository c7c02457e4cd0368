/* Minimal test harness: CHECK records a failure and continues; main returns the verdict.
 * A test program exits 0 only if every CHECK held, 77 if it skipped itself. */
#ifndef DS_TESTUTIL_H
#define DS_TESTUTIL_H

#include <stdio.h>

extern int tu_failures;
extern int tu_checks;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        tu_checks++;                                                                         \
        if (!(cond)) {                                                                       \
            tu_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                                    \
    } while (0)

#define CHECKF(cond, ...)                                                                    \
    do {                                                                                     \
        tu_checks++;                                                                         \
        if (!(cond)) {                                                                       \
            tu_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

/* Prints the summary and returns the exit code. */
int tu_finish(const char *name);
/* Path of a fixture file: $DS_FIXTURES/<rel> (tests/fixtures by default). */
const char *tu_fixture(const char *rel);
/* Deterministic pseudo-random floats in [-1, 1). */
void tu_fill(float *x, long n, unsigned seed);

#endif
