#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>

int tu_failures;
int tu_checks;

int tu_finish(const char *name) {
    if (tu_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, tu_failures, tu_checks);
        return 1;
    }
    fprintf(stderr, "%s: all %d checks passed\n", name, tu_checks);
    return 0;
}

const char *tu_fixture(const char *rel) {
    static char buf[4096];
    const char *root = getenv("DS_FIXTURES");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : "tests/fixtures", rel);
    return buf;
}

void tu_fill(float *x, long n, unsigned seed) {
    uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (long i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
}
