/* Benchmarks (`diffstudio bench`): the training step and sampling of a model config at a
 * given batch, timed as SAT's reference was (../shared/bench/README.md): 3 warm-ups, then
 * the median of 10. Reported as milliseconds, achieved GFLOP/s and peak memory. */
#ifndef DS_BENCH_H
#define DS_BENCH_H

#include <stdint.h>

#include "engine/config.h"
#include "engine/status.h"

typedef struct ds_bench_opts {
    int batch;          /* 0: 4 */
    int warmup;         /* 0: 3 */
    int iters;          /* 0: 10 */
    int cross_tokens;   /* cross-attention tokens fed to the backbone (0: 66, as the reference) */
    int sample_steps;   /* v-DDIM steps (0: 8) */
    float cfg_scale;    /* 0: 3 */
    int threads;        /* 0: all cores */
    bool skip_sample;
    void (*progress)(void *user, const char *line);
    void *user;
} ds_bench_opts;

typedef struct ds_bench_result {
    double train_step_ms, train_step_min_ms, train_step_max_ms;
    double sample_ms;
    double forward_gflop;      /* GEMM work of one forward at this batch */
    double train_gflops_per_s; /* 3 × forward / step time (the reference's convention) */
    double sample_gflops_per_s;
    int64_t params;            /* trainable floats */
    int64_t param_bytes, grad_bytes, optim_bytes;
    int64_t arena_bytes;       /* activation arena of one training step, planned before the first */
    int64_t peak_rss_bytes;
    int threads;
} ds_bench_result;

ds_status ds_bench_run(const ds_model_config *cfg, const ds_bench_opts *opts, ds_bench_result *r, ds_err *err);

#endif
