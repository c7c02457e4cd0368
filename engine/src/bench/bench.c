/* `diffstudio bench`: the reference workload of ../shared/bench/README.md.
 * Training step = backbone forward + v-objective MSE + backward + AdamW (lr 5e-5, betas
 * 0.9/0.999, wd 1e-3), conditioning tensors precomputed, no EMA, no data loading.
 * Sampling = v-DDIM (eta 0), CFG through the backbone's batched path when it has one. */
#include "engine/bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/pool.h"
#include "device/prof.h"
#include "diffusion/render.h"
#include "models/model.h"
#include "ops/ops.h"
#include "train/objective.h"
#include "train/optim.h"
#include "bench/bench_impl.h"

void bench_profile_collect(ds_bench_result *r) {
    ds_prof_row rows[256];
    int n = ds_prof_rows(rows, 256);
    r->profile_ms = ds_prof_total_ms();
    r->n_profile_names = n;
    r->n_profile = n < DS_BENCH_PROFILE_ROWS ? n : DS_BENCH_PROFILE_ROWS;
    for (int i = 0; i < r->n_profile; i++) {
        ds_bench_op_time *o = &r->profile[i];
        snprintf(o->name, sizeof o->name, "%s", rows[i].name);
        o->fwd_ms = rows[i].fwd_ms, o->bwd_ms = rows[i].bwd_ms;
        o->fwd_calls = rows[i].fwd_calls, o->bwd_calls = rows[i].bwd_calls;
    }
}

double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_say(const ds_bench_opts *o, const char *fmt, ...) {
    if (!o->progress) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->progress(o->user, line);
}


void make_cond(const ds_model_config *cfg, int B, int64_t T, int tokens, ds_rng *r, bench_cond *bc) {
    memset(bc, 0, sizeof *bc);
    if (cfg->backbone == DS_BB_DIT) {
        bc->Dc = cfg->dit.cond_token_dim;
        bc->G = cfg->dit.global_cond_dim;
        bc->Ci = cfg->dit.input_concat_dim;
        bc->Dp = cfg->dit.prepend_cond_dim;
        bc->P = bc->Dp ? 1 : 0;
    } else if (cfg->backbone == DS_BB_ADP_CFG_1D || cfg->backbone == DS_BB_ADP_1D) {
        bc->Dc = cfg->backbone == DS_BB_ADP_CFG_1D ? cfg->adp.context_embedding_features : 0;
        bc->G = cfg->adp.context_features;
        bc->Ci = cfg->adp.n_context_channels > 0 ? cfg->adp.context_channels[0] : 0;
        if (cfg->backbone == DS_BB_ADP_CFG_1D && tokens > cfg->adp.context_embedding_max_length)
            tokens = cfg->adp.context_embedding_max_length;
    } else if (cfg->backbone == DS_BB_DAU1D) {
        bc->Ci = cfg->dau1d.cond_dim;
    }
    bc->S = bc->Dc ? tokens : 0;
    if (bc->S) ds_rng_normal_fill(r, bc->cross = malloc((size_t)(B * bc->S * bc->Dc) * sizeof(float)), B * bc->S * bc->Dc);
    if (bc->G) ds_rng_normal_fill(r, bc->global = malloc((size_t)(B * bc->G) * sizeof(float)), B * bc->G);
    if (bc->Ci) ds_rng_normal_fill(r, bc->icc = malloc((size_t)(B * bc->Ci * T) * sizeof(float)), B * bc->Ci * T);
    if (bc->P) ds_rng_normal_fill(r, bc->prepend = malloc((size_t)(B * bc->P * bc->Dp) * sizeof(float)), B * bc->P * bc->Dp);
}

static ds_cond_tensors wrap_cond(ds_ctx *c, const bench_cond *bc, int B, int64_t T) {
    ds_cond_tensors ct;
    memset(&ct, 0, sizeof ct);
    if (bc->cross) ct.cross_attn_cond = ds_wrap(c, bc->cross, 3, (int64_t[]){B, bc->S, bc->Dc}, false);
    if (bc->global) ct.global_cond = ds_wrap(c, bc->global, 2, (int64_t[]){B, bc->G}, false);
    if (bc->icc) ct.input_concat_cond = ds_wrap(c, bc->icc, 3, (int64_t[]){B, bc->Ci, T}, false);
    if (bc->prepend) ct.prepend_cond = ds_wrap(c, bc->prepend, 3, (int64_t[]){B, bc->P, bc->Dp}, false);
    return ct;
}

void free_cond(bench_cond *bc) {
    free(bc->cross);
    free(bc->global);
    free(bc->icc);
    free(bc->prepend);
}

ds_status ds_bench_run(const ds_model_config *cfg_in, const ds_bench_opts *opts, ds_bench_result *r, ds_err *err) {
    ds_bench_opts o = *opts;
    if (o.batch <= 0) o.batch = 4;
    if (o.warmup <= 0) o.warmup = 3;
    if (o.iters <= 0) o.iters = 10;
    if (o.cross_tokens <= 0) o.cross_tokens = 66;
    if (o.sample_steps <= 0) o.sample_steps = 8;
    if (o.cfg_scale == 0) o.cfg_scale = 3.0f;
    memset(r, 0, sizeof *r);
    ds_set_threads(o.threads);
    r->threads = ds_pool_threads();
    if (o.device && strcmp(o.device, "cpu") != 0) return ds_bench_device(cfg_in, &o, r, err);

    ds_model_config *cfg = malloc(sizeof *cfg);
    if (!cfg) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    *cfg = *cfg_in;
    /* The reference step: AdamW (lr 5e-5, betas 0.9/0.999, wd 1e-3), constant lr. */
    ds_training_config *tc = &cfg->training;
    tc->has_optimizer_configs = true;
    tc->optimizer = DS_OPT_ADAMW;
    tc->lr = 5e-5;
    tc->beta1 = 0.9;
    tc->beta2 = 0.999;
    tc->eps = 1e-8;
    tc->weight_decay = 1e-3;
    tc->scheduler = DS_SCHED_NONE;
    tc->amsgrad = false;

    ds_model *m = NULL;
    ds_status s = ds_model_create(cfg, &m, err);
    if (s != DS_OK) {
        free(cfg);
        return s;
    }
    ds_model_init_random(m, 1234);
    ds_params *p = &m->params;
    r->params = ds_params_trainable(p);
    r->param_bytes = p->total * 4;
    r->grad_bytes = p->total * 4;
    r->optim_bytes = 2 * r->params * 4;

    int B = o.batch;
    int64_t C = m->cfg.io_channels;
    int ratio = m->cfg.pretransform.ratio > 0 ? m->cfg.pretransform.ratio : 1;
    int64_t T = m->cfg.sample_size / ratio;
    int64_t N = B * C * T;
    ds_rng rng;
    ds_rng_init(&rng, 99);
    float *x0 = malloc((size_t)N * sizeof(float)), *noise = malloc((size_t)N * sizeof(float));
    float *xt = malloc((size_t)N * sizeof(float)), *target = malloc((size_t)N * sizeof(float));
    float *t = malloc((size_t)B * sizeof(float)), *al = malloc((size_t)B * sizeof(float)),
          *sg = malloc((size_t)B * sizeof(float));
    ds_rng_normal_fill(&rng, x0, N);
    ds_rng_normal_fill(&rng, noise, N);
    for (int b = 0; b < B; b++) t[b] = ds_rng_uniform(&rng);
    ds_alphas_sigmas(DS_OBJ_V, t, B, al, sg);
    ds_noise_and_target(DS_OBJ_V, x0, noise, al, sg, B, C * T, xt, target);
    bench_cond bc;
    make_cond(&m->cfg, B, T, o.cross_tokens, &rng, &bc);
    ds_optim opt;
    if ((s = ds_optim_init(&opt, tc, r->params, err)) != DS_OK) goto done;

    ds_ctx c;
    ds_ctx_init(&c);
    /* Forward GEMM work at this batch (no grad). */
    {
        uint64_t f0 = ds_gemm_flops();
        ds_cond_tensors ct = wrap_cond(&c, &bc, B, T);
        ds_model_forward(m, &c, ds_wrap(&c, xt, 3, (int64_t[]){B, C, T}, false), ds_wrap(&c, t, 1, (int64_t[]){B}, false),
                         &ct, NULL);
        r->forward_gflop = (double)(ds_gemm_flops() - f0) / 1e9;
        ds_ctx_reset(&c);
    }
    /* Plan, then time. */
    c.grad = true;
    if (o.iters > 64) o.iters = 64;
    double times[64];
    int total = o.warmup + o.iters;
    /* it -1 plans the arena; with --profile, step `total` runs once more, op by op */
    for (int it = -1; it < total + (o.profile ? 1 : 0); it++) {
        if (it == -1) ds_ctx_set_dry(&c, true);
        if (it == total && (s = ds_prof_begin(NULL, err)) != DS_OK) break;
        double t0 = bench_now_ms();
        ds_params_zero_grad(p);
        ds_cond_tensors ct = wrap_cond(&c, &bc, B, T);
        ds_tensor *x = ds_wrap(&c, xt, 3, (int64_t[]){B, C, T}, false);
        ds_prof_mark("inputs", false);
        ds_tensor *out = ds_model_forward(m, &c, x, ds_wrap(&c, t, 1, (int64_t[]){B}, false), &ct, NULL);
        ds_tensor *loss = ds_mse(&c, out, ds_wrap(&c, target, 3, (int64_t[]){B, C, T}, false), NULL);
        ds_backward(&c, loss, NULL);
        if (it == -1) {
            r->arena_bytes = (int64_t)c.arena.peak;
            ds_ctx_set_dry(&c, false);
            continue;
        }
        ds_optim_step(&opt, p->data + p->range_begin[DS_PG_BACKBONE], p->grad + p->range_begin[DS_PG_BACKBONE]);
        ds_prof_mark("AdamW", false);
        ds_ctx_reset(&c);
        if (it == total) {
            if ((s = ds_prof_end(err)) == DS_OK) bench_profile_collect(r);
            break;
        }
        double dt = bench_now_ms() - t0;
        if (it >= o.warmup) times[it - o.warmup] = dt;
        bench_say(&o, "train step %d/%d: %.1f ms%s", it + 1, total, dt, it < o.warmup ? " (warm-up)" : "");
    }
    qsort(times, (size_t)o.iters, sizeof *times, bench_cmp_double);
    r->train_step_ms = o.iters % 2 ? times[o.iters / 2] : 0.5 * (times[o.iters / 2 - 1] + times[o.iters / 2]);
    r->train_step_min_ms = times[0];
    r->train_step_max_ms = times[o.iters - 1];
    r->train_gflops_per_s = 3.0 * r->forward_gflop / (r->train_step_ms / 1e3);

    if (s != DS_OK) {
        ds_ctx_free(&c);
        ds_optim_free(&opt);
        goto done;
    }

    if (!o.skip_sample) {
        /* SAT's demo sampler: v-DDIM, eta 0, through the sampler module (batched CFG inside
         * the backbone call where the backbone has CFG). One warm-up render, one timed. */
        float *out = malloc((size_t)N * sizeof(float));
        ds_ctx cc, rc; /* cc holds the conditioning; rc is the renders' context, reused */
        ds_ctx_init(&cc);
        ds_ctx_init(&rc);
        ds_cond_tensors ct = wrap_cond(&cc, &bc, B, T);
        double best = INFINITY;
        uint64_t f0 = 0, f1 = 0;
        for (int rep = 0; rep < 2 && s == DS_OK; rep++) {
            ds_render_args a;
            memset(&a, 0, sizeof a);
            a.model = m;
            a.cond = &ct;
            a.call = ds_call_opts_demo(o.cfg_scale);
            a.sampler = ds_sampler_defaults(DS_SAMPLER_V_DDIM);
            a.sampler.steps = o.sample_steps;
            a.batch = B;
            a.length = T;
            a.noise = noise;
            a.ctx = &rc;
            f0 = ds_gemm_flops();
            double t0 = bench_now_ms();
            s = ds_render(&a, out, err);
            double dt = bench_now_ms() - t0;
            f1 = ds_gemm_flops();
            if (rep == 1) best = dt;
            bench_say(&o, "sampling %d steps: %.1f ms%s", o.sample_steps, dt, rep == 0 ? " (warm-up)" : "");
        }
        if (s == DS_OK) {
            r->sample_ms = best;
            r->sample_gflops_per_s = (double)(f1 - f0) / 1e9 / (best / 1e3);
        }
        ds_ctx_free(&cc);
        ds_ctx_free(&rc);
        free(out);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->peak_rss_bytes = (int64_t)ru.ru_maxrss * 1024;
    ds_ctx_free(&c);
    ds_optim_free(&opt);
done:
    free_cond(&bc);
    free(x0);
    free(noise);
    free(xt);
    free(target);
    free(t);
    free(al);
    free(sg);
    free(cfg);
    ds_model_free(m);
    return s;
}
