#include "core/rng.h"

#include <math.h>

static uint64_t mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void ds_rng_init(ds_rng *r, uint64_t seed) {
    r->seed = mix64(seed ^ 0x6469666673747564ull); /* "diffstud" */
    r->counter = 0;
}

ds_rng ds_rng_derive(const ds_rng *r, uint64_t label) {
    ds_rng d = {mix64(r->seed ^ mix64(label + 0x51ED270B27ull)), 0};
    return d;
}

uint64_t ds_rng_u64(ds_rng *r) { return mix64(r->seed ^ mix64(r->counter++)); }

float ds_rng_uniform(ds_rng *r) { return (float)(ds_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double ds_rng_uniform_f64(ds_rng *r) { return (double)(ds_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t ds_rng_below(ds_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    /* Rejection sampling: unbiased. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = ds_rng_u64(r);
    while (v >= lim);
    return v % n;
}

static void normal_pair(ds_rng *r, float *a, float *b) {
    double u1 = ((double)(ds_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* (0,1) */
    double u2 = (double)(ds_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    double rad = sqrt(-2.0 * log(u1));
    *a = (float)(rad * cos(2.0 * M_PI * u2));
    *b = (float)(rad * sin(2.0 * M_PI * u2));
}

float ds_rng_normal(ds_rng *r) {
    float a, b;
    normal_pair(r, &a, &b);
    return a;
}

void ds_rng_normal_fill(ds_rng *r, float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 1 < n; i += 2) normal_pair(r, &x[i], &x[i + 1]);
    if (i < n) x[i] = ds_rng_normal(r);
}
