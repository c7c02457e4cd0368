/* SPSC ring: single-thread edge cases (wrap, full, empty, discard), then a two-thread stress
 * with random chunk sizes through a small ring: every sample must arrive once, in order
 * (sequence check) and the checksums must agree. Also a ThreadSanitizer target. */
#include "atest.h"
#include "ring.h"
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TOTAL = 1 << 22 };

/* The value of sample i: exact in float (24-bit mantissa) and varied. */
static float value(uint64_t i) { return (float)((i * 2654435761u) & 0xFFFFFF); }

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static audio_ring ring;
static double prod_sum;

static void *producer(void *arg) {
    (void)arg;
    uint64_t s = 0x1234567, i = 0;
    float buf[700];
    while (i < TOTAL) {
        size_t n = 1 + rng_next(&s) % 700;
        if (n > TOTAL - i) n = (size_t)(TOTAL - i);
        for (size_t k = 0; k < n; k++) buf[k] = value(i + k);
        size_t done = 0;
        while (done < n) {
            size_t w = audio_ring_write(&ring, buf + done, n - done);
            if (!w) sched_yield(); /* 2-core CI: let the consumer run */
            for (size_t k = 0; k < w; k++) prod_sum += buf[done + k];
            done += w;
        }
        i += n;
    }
    return NULL;
}

static void test_single_thread(void) {
    audio_ring r;
    audio_err e;
    CHECK(audio_ring_init(&r, 5, &e) == AUDIO_OK && r.cap == 8);
    float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {0};
    CHECK(audio_ring_write(&r, in, 6) == 6 && audio_ring_readable(&r) == 6 && audio_ring_writable(&r) == 2);
    CHECK(audio_ring_read(&r, out, 4) == 4 && out[3] == 4);
    CHECK(audio_ring_write(&r, in, 8) == 6); /* wraps; 2 + 6 = full */
    CHECK(audio_ring_writable(&r) == 0 && audio_ring_write(&r, in, 1) == 0);
    CHECK(audio_ring_read(&r, out, 8) == 8 && out[0] == 5 && out[1] == 6 && out[2] == 1 && out[7] == 6);
    CHECK(audio_ring_read(&r, out, 1) == 0);
    CHECK(audio_ring_write(&r, in, 3) == 3 && audio_ring_discard(&r) == 3 && audio_ring_readable(&r) == 0);
    CHECK(audio_ring_writable(&r) == 8);
    audio_ring_free(&r);
}

int main(void) {
    test_single_thread();
    audio_err e;
    CHECK(audio_ring_init(&ring, 1000, &e) == AUDIO_OK); /* 1024: thousands of wrap-arounds */
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    uint64_t s = 0x9876543, i = 0, wrong = 0;
    double cons_sum = 0;
    float buf[900];
    while (i < TOTAL) {
        size_t n = 1 + rng_next(&s) % 900;
        size_t got = audio_ring_read(&ring, buf, n);
        if (!got) sched_yield();
        for (size_t k = 0; k < got; k++) {
            wrong += buf[k] != value(i + k);
            cons_sum += buf[k];
        }
        i += got;
    }
    pthread_join(t, NULL);
    CHECKF(wrong == 0, "%llu samples out of sequence", (unsigned long long)wrong);
    CHECK(audio_ring_readable(&ring) == 0);
    CHECKF(cons_sum == prod_sum, "checksums %.1f vs %.1f", cons_sum, prod_sum);
    audio_ring_free(&ring);
    return tu_finish("test_audio_ring");
}
