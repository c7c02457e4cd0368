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
    /* On a device (device "cuda"): the training step runs through the trainer on the device
     * (bf16/fp16/fp32 by precision; no EMA, as the reference), timed over whole steps; the
     * sampling benchmark is a generation: gen_steps (0: 100) of gen_sampler (NULL:
     * "dpmpp-3m-sde") with CFG gen_cfg (0: 7) at batch gen_batch (0: 1). */
    const char *device;    /* NULL or "cpu": the CPU benchmark above */
    const char *precision; /* "32", "16-mixed", "bf16-mixed" (NULL: "bf16-mixed" on a device) */
    int gen_steps;
    const char *gen_sampler;
    float gen_cfg;
    int gen_batch;
    bool plan_only;        /* report sizes (parameters, planned arena) without timing */
    bool profile;          /* after timing, one more training step op by op (a device runs it eagerly) */
} ds_bench_opts;

/* Time of one op name in a profiled training step: forward (after the op's forward was
 * issued) and backward, with the calls; see `diffstudio bench --profile`. */
#define DS_BENCH_PROFILE_ROWS 48
typedef struct ds_bench_op_time {
    char name[48];
    double fwd_ms, bwd_ms;
    int fwd_calls, bwd_calls;
} ds_bench_op_time;

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
    /* device runs */
    char device[160];
    char precision[16];
    double peak_tflops;       /* dense bf16 peak of the card (0: unknown) */
    double train_tflops;      /* 3 × forward FLOPs / step time */
    double mfu;               /* train_tflops / peak_tflops */
    double tokens_per_s;      /* batch × tokens per item / step time */
    int64_t tokens_per_step;
    double gen_ms;            /* the generation (gen_steps of gen_sampler, CFG, batch) */
    int gen_steps, gen_batch;
    double gen_cfg;
    char gen_sampler[32];
    int64_t device_bytes;     /* device memory held by the run, by role summed */
    int64_t graph_captures, graph_replays;
    char graphs_off[160];
    /* --profile: the profiled step's time and its largest op names */
    double profile_ms;
    int n_profile, n_profile_names;
    ds_bench_op_time profile[DS_BENCH_PROFILE_ROWS];
} ds_bench_result;

ds_status ds_bench_run(const ds_model_config *cfg, const ds_bench_opts *opts, ds_bench_result *r, ds_err *err);
/* Dense bf16 tensor peak of a device by name (H100 SXM 989, H100 PCIe 756, H200 989, A100
 * 312 TFLOP/s); 0 when unknown. */
double ds_bench_peak_tflops(const char *device_name);

#endif
