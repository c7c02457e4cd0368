/* Counter-based random numbers: the state is (seed, counter), so a stream can be saved
 * in a checkpoint and resumed bit-for-bit, and split into independent streams by seed.
 * Values are a pure function of (seed, counter): splitmix64 of a mixed key. Normals use
 * Box-Muller on pairs (two counters per pair). Not SAT's torch generator: SAT's noise
 * cannot be reproduced outside PyTorch (sat-spec §5.5); fixtures supply their noise. */
#ifndef DS_RNG_H
#define DS_RNG_H

#include <stdint.h>

typedef struct ds_rng {
    uint64_t seed;
    uint64_t counter;
} ds_rng;

void ds_rng_init(ds_rng *r, uint64_t seed);
/* An independent stream derived from r's seed and a label (e.g. a purpose id). */
ds_rng ds_rng_derive(const ds_rng *r, uint64_t label);
uint64_t ds_rng_u64(ds_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float ds_rng_uniform(ds_rng *r);
double ds_rng_uniform_f64(ds_rng *r);
/* Uniform integer in [0, n). */
uint64_t ds_rng_below(ds_rng *r, uint64_t n);
float ds_rng_normal(ds_rng *r);
void ds_rng_normal_fill(ds_rng *r, float *x, int64_t n);

#endif
