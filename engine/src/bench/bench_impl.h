/* Internals of the benchmarks shared by bench.c (CPU) and bench_dev.c (devices). */
#ifndef DS_BENCH_IMPL_H
#define DS_BENCH_IMPL_H

#include "core/rng.h"
#include "engine/bench.h"

/* Random conditioning tensors shaped as the backbone takes them (host arrays). */
typedef struct bench_cond {
    float *cross, *global, *icc, *prepend;
    int64_t S, Dc, G, Ci, P, Dp;
} bench_cond;

double bench_now_ms(void);
int bench_cmp_double(const void *a, const void *b); /* qsort ascending */
void bench_say(const ds_bench_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void make_cond(const ds_model_config *cfg, int B, int64_t T, int tokens, ds_rng *r, bench_cond *bc);
void free_cond(bench_cond *bc);
/* After a profiled step (ds_prof_end): its rows into r. */
void bench_profile_collect(ds_bench_result *r);
ds_status ds_bench_device(const ds_model_config *cfg, const ds_bench_opts *o, ds_bench_result *r, ds_err *err);

#endif
