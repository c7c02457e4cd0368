/* `diffstudio bench --device cuda`: the training step and a generation on a device.
 *
 * Training step: the trainer's device step (trainer_dev.c) with the reference's settings
 * (AdamW lr 5e-5, betas 0.9/0.999, wd 1e-3, constant lr, no EMA, no CFG dropout), fixed
 * random latents, timesteps and noise, and precomputed conditioning tensors (--tokens
 * cross-attention tokens), so the step is the backbone's forward, loss, backward and the
 * update; once its shapes repeat it runs as a captured CUDA graph. Timed as whole steps
 * (submit + collect, which waits for the device): warm-ups, then the median.
 * FLOPs: the forward's GEMM and convolution work as issued (counted once, eagerly), × 3 for
 * the step (the reference's convention). MFU = that rate over the card's dense bf16 peak.
 * Generation: gen_steps of the sampler through ds_render, CFG through the backbone's batched
 * path, the conditioning on the device, at gen_batch. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_impl.h"
#include "device/device.h"
#include "device/prof.h"
#include "diffusion/render.h"
#include "models/model.h"
#include "ops/ops.h"
#include "train/objective.h"
#include "train/trainer.h"

double ds_bench_peak_tflops(const char *device_name) { return ds_device_peak_bf16_tflops(device_name); }

static ds_cond_host cond_host(const bench_cond *bc, int64_t T) {
    ds_cond_host h;
    memset(&h, 0, sizeof h);
    h.cross = bc->cross, h.S = bc->S, h.Dc = bc->Dc;
    h.global = bc->global, h.G = bc->G;
    h.prepend = bc->prepend, h.P = bc->P, h.Dp = bc->Dp;
    h.icc = bc->icc, h.Ci = bc->Ci, h.Ti = T;
    return h;
}

static ds_cond_tensors cond_tensors(ds_ctx *c, const bench_cond *bc, int B, int64_t T) {
    ds_cond_tensors ct;
    memset(&ct, 0, sizeof ct);
    if (bc->cross) ct.cross_attn_cond = ds_input(c, bc->cross, 3, (int64_t[]){B, bc->S, bc->Dc}, false);
    if (bc->global) ct.global_cond = ds_input(c, bc->global, 2, (int64_t[]){B, bc->G}, false);
    if (bc->icc) ct.input_concat_cond = ds_input(c, bc->icc, 3, (int64_t[]){B, bc->Ci, T}, false);
    if (bc->prepend) ct.prepend_cond = ds_input(c, bc->prepend, 3, (int64_t[]){B, bc->P, bc->Dp}, false);
    return ct;
}

/* The generation: gen_steps of the sampler at gen_batch with CFG, timed (one short warm-up). */
static ds_status bench_generate(ds_model *m, const ds_bench_opts *o, ds_bench_result *r, ds_err *err) {
    int B = o->gen_batch > 0 ? o->gen_batch : 1;
    int steps = o->gen_steps > 0 ? o->gen_steps : 100;
    float cfg = o->gen_cfg > 0 ? o->gen_cfg : 7.0f;
    const char *name = o->gen_sampler ? o->gen_sampler : "dpmpp-3m-sde";
    int ratio = m->cfg.pretransform.ratio > 0 ? m->cfg.pretransform.ratio : 1;
    int64_t T = m->cfg.sample_size / ratio;
    ds_objective obj = m->cfg.objective;
    ds_sampler_kind kind;
    DS_TRY(ds_sampler_parse(name, &obj, &kind, err));
    ds_rng rng;
    ds_rng_init(&rng, 4242);
    bench_cond bc;
    make_cond(&m->cfg, B, T, o->cross_tokens > 0 ? o->cross_tokens : 66, &rng, &bc);
    ds_ctx c;
    ds_ctx_init(&c);
    ds_ctx_set_device(&c, m->params.dev, false);
    ds_cond_tensors ct = cond_tensors(&c, &bc, B, T);
    float *out = malloc((size_t)(B * m->cfg.io_channels * T) * sizeof(float));
    ds_status s = out ? DS_OK : ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    for (int rep = 0; rep < 2 && s == DS_OK; rep++) {
        ds_render_args a;
        memset(&a, 0, sizeof a);
        a.model = m;
        a.cond = &ct;
        a.call = ds_call_opts_generate(cfg);
        a.sampler = ds_sampler_defaults(kind);
        a.sampler.steps = rep == 0 ? 3 : steps; /* warm-up: plans the arena, caches GEMM algorithms */
        ds_rng srng;
        ds_rng_init(&srng, 77);
        a.sampler.rng = &srng;
        a.batch = B;
        a.length = T;
        double t0 = bench_now_ms();
        s = ds_render(&a, out, err);
        double dt = bench_now_ms() - t0;
        if (s == DS_OK && rep == 1) r->gen_ms = dt;
        bench_say(o, "generation %d steps of %s, CFG %g, batch %d: %.1f ms%s", a.sampler.steps, name, (double)cfg, B, dt,
            rep == 0 ? " (warm-up)" : "");
    }
    r->gen_steps = steps;
    r->gen_batch = B;
    r->gen_cfg = cfg;
    snprintf(r->gen_sampler, sizeof r->gen_sampler, "%s", name);
    free(out);
    ds_ctx_free(&c);
    free_cond(&bc);
    return s;
}

ds_status ds_bench_device(const ds_model_config *cfg_in, const ds_bench_opts *opts, ds_bench_result *r, ds_err *err) {
    ds_bench_opts o = *opts;
    ds_precision prec = DS_PREC_BF16_MIXED;
    if (o.precision) DS_TRY(ds_precision_parse(o.precision, &prec, err));
    ds_device *d = NULL;
    DS_TRY(ds_device_open(o.device, prec, &d, err));
    snprintf(r->device, sizeof r->device, "%s", d->name);
    snprintf(r->precision, sizeof r->precision, "%s", ds_precision_name(prec));
    r->peak_tflops = d->peak_bf16_tflops;
    ds_model_config *cfg = malloc(sizeof *cfg);
    ds_model *m = NULL;
    ds_trainer tr;
    bool tr_ok = false;
    float *x0 = NULL, *noise = NULL, *t = NULL;
    bench_cond bc;
    memset(&bc, 0, sizeof bc);
    ds_status s = cfg ? DS_OK : ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    if (s != DS_OK) goto out;
    *cfg = *cfg_in;
    ds_training_config *tc = &cfg->training; /* the reference step (see bench.c) */
    tc->has_optimizer_configs = true;
    tc->optimizer = DS_OPT_ADAMW;
    tc->lr = 5e-5, tc->beta1 = 0.9, tc->beta2 = 0.999, tc->eps = 1e-8, tc->weight_decay = 1e-3;
    tc->scheduler = DS_SCHED_NONE;
    tc->amsgrad = false;
    tc->log_loss_info = false;
    if ((s = ds_model_create(cfg, &m, err)) != DS_OK) goto out;
    ds_model_init_random(m, 1234);
    r->params = ds_params_trainable(&m->params);
    r->param_bytes = m->params.total * 4;
    r->grad_bytes = m->params.total * 4;
    r->optim_bytes = 2 * r->params * 4;
    int B = o.batch;
    int64_t C = m->cfg.io_channels;
    int ratio = m->cfg.pretransform.ratio > 0 ? m->cfg.pretransform.ratio : 1;
    int64_t T = m->cfg.sample_size / ratio, N = (int64_t)B * C * T;
    int64_t patch = m->cfg.backbone == DS_BB_DIT && m->cfg.dit.patch_size > 0 ? m->cfg.dit.patch_size : 1;
    r->tokens_per_step = (int64_t)B * (T / patch);
    ds_rng rng;
    ds_rng_init(&rng, 99);
    x0 = malloc((size_t)N * sizeof(float));
    noise = malloc((size_t)N * sizeof(float));
    t = malloc((size_t)B * sizeof(float));
    if (!x0 || !noise || !t) {
        s = ds_err_set(err, DS_ERR_NOMEM, "out of memory");
        goto out;
    }
    ds_rng_normal_fill(&rng, x0, N);
    ds_rng_normal_fill(&rng, noise, N);
    for (int b = 0; b < B; b++) t[b] = ds_rng_uniform(&rng);
    make_cond(&m->cfg, B, T, o.cross_tokens, &rng, &bc);
    if ((s = ds_trainer_init(&tr, m, 1, err)) != DS_OK) goto out;
    tr_ok = true;
    tr.use_ema = false;
    if ((s = ds_trainer_use_device(&tr, d, err)) != DS_OK) goto out;

    ds_batch batch = {B, (int)C, T, x0, NULL, NULL};
    ds_cond_host ch = cond_host(&bc, T);
    ds_step_override ov = {t, noise, true, &ch};
    /* Plan: the arena of one step. */
    if ((s = ds_trainer_plan_with(&tr, &batch, &ov, err)) != DS_OK) goto out;
    r->arena_bytes = (int64_t)tr.arena_bytes;
    bench_say(&o, "%s, precision %s: %.1f M parameters, activation arena %.2f GiB planned", d->name, r->precision,
        (double)r->params / 1e6, (double)r->arena_bytes / 1073741824.0);
    if (o.plan_only) goto report;

    /* Forward FLOPs at this batch, counted as the device issues them (no grad, eager). */
    {
        ds_ctx c;
        ds_ctx_init(&c);
        ds_ctx_set_device(&c, d, false);
        uint64_t f0 = ds_gemm_flops();
        ds_cond_tensors ct = cond_tensors(&c, &bc, B, T);
        ds_model_forward(m, &c, ds_input(&c, x0, 3, (int64_t[]){B, C, T}, false), ds_input(&c, t, 1, (int64_t[]){B}, false),
                         &ct, NULL);
        r->forward_gflop = (double)(ds_gemm_flops() - f0) / 1e9;
        s = ds_device_sync(d, err);
        ds_ctx_free(&c);
        if (s != DS_OK) goto out;
    }
    if (o.iters > 64) o.iters = 64;
    double times[64];
    int total = o.warmup + o.iters;
    for (int it = 0; it < total && s == DS_OK; it++) {
        ds_step_stats st;
        double t0 = bench_now_ms();
        s = ds_trainer_submit(&tr, &batch, &ov, err);
        if (s == DS_OK) s = ds_trainer_collect(&tr, &st, err);
        double dt = bench_now_ms() - t0;
        if (s != DS_OK) break;
        if (it >= o.warmup) times[it - o.warmup] = dt;
        bench_say(&o, "train step %d/%d: %.1f ms, loss %.4f%s%s%s", it + 1, total, dt, st.loss, st.graph ? " [graph]" : "",
            st.skipped ? " [skipped]" : "", it < o.warmup ? " (warm-up)" : "");
    }
    if (s != DS_OK) goto out;
    qsort(times, (size_t)o.iters, sizeof *times, bench_cmp_double);
    r->train_step_ms = o.iters % 2 ? times[o.iters / 2] : 0.5 * (times[o.iters / 2 - 1] + times[o.iters / 2]);
    r->train_step_min_ms = times[0];
    r->train_step_max_ms = times[o.iters - 1];
    r->train_gflops_per_s = 3.0 * r->forward_gflop / (r->train_step_ms / 1e3);
    r->train_tflops = r->train_gflops_per_s / 1e3;
    r->mfu = r->peak_tflops > 0 ? r->train_tflops / r->peak_tflops : 0;
    r->tokens_per_s = (double)r->tokens_per_step / (r->train_step_ms / 1e3);
    ds_trainer_graph_stats(&tr, &r->graph_captures, &r->graph_replays, &(int64_t){0}, r->graphs_off,
                           sizeof r->graphs_off);
    if (o.profile) { /* one more step, eagerly, op by op (events on the stream) */
        ds_step_stats st;
        if ((s = ds_prof_begin(d, err)) == DS_OK) {
            s = ds_trainer_submit(&tr, &batch, &ov, err);
            if (s == DS_OK) s = ds_trainer_collect(&tr, &st, err);
            ds_status e = ds_prof_end(s == DS_OK ? err : NULL);
            if (s == DS_OK) s = e;
        }
        if (s != DS_OK) goto out;
        bench_profile_collect(r);
    }
    for (int k = 0; k < DS_ROLE_COUNT; k++) r->device_bytes += (int64_t)d->bytes_by_role[k];
    if (!o.skip_sample) {
        /* The generation runs on the same device with the trained weights, after the trainer
         * has given its memory back (optimiser state, activation arena). */
        ds_trainer_free(&tr);
        tr_ok = false;
        if ((s = ds_params_bind(&m->params, d, err)) == DS_OK) s = bench_generate(m, &o, r, err);
    }
    goto out;
report:
    for (int k = 0; k < DS_ROLE_COUNT; k++) r->device_bytes += (int64_t)d->bytes_by_role[k];
out:
    if (tr_ok) ds_trainer_free(&tr);
    ds_model_free(m);
    ds_device_close(d);
    free_cond(&bc);
    free(x0);
    free(noise);
    free(t);
    free(cfg);
    return s;
}
