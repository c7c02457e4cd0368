/* Times one training step's forward + MSE loss + backward of the U-Net backbones at the
 * sizes of ../shared/bench (batch 4), for profiling (`perf record ./bench_unet dau1d`).
 * Not a test: ctest never runs it.
 *
 *   bench_unet [dau1d|adp_cfg|adp_uncond|all] [steps] [threads]
 *
 * Protocol as the PyTorch reference: a planning pass sizes the arena, 3 warm-up steps,
 * then the median (and min/max) of `steps` timed steps. adp_cfg runs with 66 context
 * tokens of 256 features, a mask of ones, cfg_dropout_prob 0.1 (its training config).
 * `cpu` is the process CPU time of the median step (all threads; with 1 thread, the
 * work itself, unaffected by other processes' load). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pool.h"
#include "models/model.h"
#include "ops/ops.h"
#include "unet_configs.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static void fill(float *x, int64_t n, ds_rng *r, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = scale * ds_rng_normal(r);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct inputs {
    float *x, *t, *target, *emb, *mask;
    int64_t B, C, T, S, F;
} inputs;

/* One step on the tape: out = model(x, t, cond); loss = mse(out, target); backward. */
static void step(ds_model *m, ds_ctx *c, inputs *in, ds_rng *rng) {
    ds_ctx_reset(c);
    ds_tensor *x = ds_wrap(c, in->x, 3, (int64_t[]){in->B, in->C, in->T}, false);
    ds_tensor *t = ds_wrap(c, in->t, 1, (int64_t[]){in->B}, false);
    ds_tensor *target = ds_wrap(c, in->target, 3, (int64_t[]){in->B, in->C, in->T}, false);
    ds_cond_tensors cond;
    memset(&cond, 0, sizeof cond);
    ds_call_opts o = ds_call_opts_default();
    if (in->emb) {
        cond.cross_attn_cond = ds_wrap(c, in->emb, 3, (int64_t[]){in->B, in->S, in->F}, false);
        cond.cross_attn_mask = ds_wrap(c, in->mask, 2, (int64_t[]){in->B, in->S}, false);
        o.cfg_dropout_prob = 0.1f;
        o.rng = rng;
    }
    ds_params_zero_grad(&m->params);
    ds_tensor *out = ds_model_forward(m, c, x, t, &cond, &o);
    ds_tensor *loss = ds_mse(c, out, target, NULL);
    ds_backward(c, loss, NULL);
}

static void bench(const char *name, void (*make)(ds_model_config *), int steps) {
    static ds_model_config cfg;
    make(&cfg);
    ds_model *m;
    ds_err err = {0};
    if (ds_model_create(&cfg, &m, &err) != DS_OK) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return;
    }
    ds_model_init_random(m, 1234);
    inputs in = {0};
    in.B = 4;
    in.C = cfg.io_channels;
    in.T = cfg.sample_size;
    ds_rng rng;
    ds_rng_init(&rng, 99);
    in.x = malloc((size_t)(in.B * in.C * in.T) * sizeof(float));
    in.target = malloc((size_t)(in.B * in.C * in.T) * sizeof(float));
    in.t = malloc((size_t)in.B * sizeof(float));
    fill(in.x, in.B * in.C * in.T, &rng, 1.0f);
    fill(in.target, in.B * in.C * in.T, &rng, 1.0f);
    for (int b = 0; b < in.B; b++) in.t[b] = ds_rng_uniform(&rng);
    if (cfg.backbone == DS_BB_ADP_CFG_1D) {
        in.S = 66;
        in.F = cfg.adp.context_embedding_features;
        in.emb = malloc((size_t)(in.B * in.S * in.F) * sizeof(float));
        in.mask = malloc((size_t)(in.B * in.S) * sizeof(float));
        fill(in.emb, in.B * in.S * in.F, &rng, 1.0f);
        for (int64_t i = 0; i < in.B * in.S; i++) in.mask[i] = 1.0f;
    }
    ds_ctx c;
    ds_ctx_init(&c);
    c.grad = true;
    c.training = true;
    ds_ctx_set_dry(&c, true);
    step(m, &c, &in, &rng);
    ds_ctx_set_dry(&c, false);
    for (int i = 0; i < 3; i++) step(m, &c, &in, &rng);
    double *ts = malloc((size_t)steps * sizeof *ts), *cpu = malloc((size_t)steps * sizeof *cpu);
    for (int i = 0; i < steps; i++) {
        double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        step(m, &c, &in, &rng);
        ts[i] = now() - t0;
        cpu[i] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(cpu, (size_t)steps, sizeof *cpu, cmp);
    qsort(ts, (size_t)steps, sizeof *ts, cmp);
    printf("%-11s [%lld, %lld, %lld]  %4.1f M params  arena %5.1f MB  fwd+bwd median %6.1f ms (min %.1f, max %.1f)  "
           "cpu %.1f ms\n",
           name, (long long)in.B, (long long)in.C, (long long)in.T, (double)ds_params_trainable(&m->params) / 1e6,
           (double)c.arena.peak / 1e6, 1e3 * ts[steps / 2], 1e3 * ts[0], 1e3 * ts[steps - 1], 1e3 * cpu[steps / 2]);
    fflush(stdout);
    free(ts);
    free(cpu);
    ds_ctx_free(&c);
    free(in.x);
    free(in.target);
    free(in.t);
    free(in.emb);
    free(in.mask);
    ds_model_free(m);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int steps = argc > 2 ? atoi(argv[2]) : 10;
    ds_set_threads(argc > 3 ? atoi(argv[3]) : 0);
    if (steps < 1) steps = 1;
    bool all = !strcmp(which, "all");
    if (all || !strcmp(which, "dau1d")) bench("dau1d", tu_dau1d_bench_config, steps);
    if (all || !strcmp(which, "adp_cfg")) bench("adp_cfg", tu_adp_cfg_bench_config, steps);
    if (all || !strcmp(which, "adp_uncond")) bench("adp_uncond", tu_adp_uncond_bench_config, steps);
    return 0;
}
