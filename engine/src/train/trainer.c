#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "device/device.h"
#include "device/prof.h"
#include "diffusion/schedule.h"
#include "models/pretransform.h"
#include "ops/ops.h"
#include "train/trainer_impl.h"

/* Stream labels for ds_rng_derive: one independent stream per purpose and step. */
enum { RNG_T = 1, RNG_NOISE, RNG_DROPOUT, RNG_MASK, RNG_SOBOL };

static ds_rng step_stream(const ds_trainer *tr, int purpose, int micro) {
    return ds_rng_derive(&tr->root, ((uint64_t)tr->global_step << 16) ^ ((uint64_t)micro << 8) ^ (uint64_t)purpose);
}

ds_status ds_trainer_init(ds_trainer *tr, ds_model *m, uint64_t seed, ds_err *err) {
    memset(tr, 0, sizeof *tr);
    tr->m = m;
    tr->accum = 1;
    ds_ctx_init(&tr->ctx);
    ds_rng_init(&tr->root, seed);
    ds_rng sr = ds_rng_derive(&tr->root, RNG_SOBOL);
    ds_sobol_init(&tr->sobol, &sr);
    const ds_params *p = &m->params;
    int64_t n = ds_params_trainable(p);
    DS_TRY(ds_optim_init(&tr->opt, &m->cfg.training, n, err));
    /* SAT: use_ema for conditioned models (default true); EMA always on for uncond. */
    tr->use_ema = m->cfg.model_type == DS_MODEL_DIFFUSION_UNCOND || m->cfg.training.use_ema;
    if (tr->use_ema) {
        int64_t nb = p->range_end[DS_PG_BACKBONE] - p->range_begin[DS_PG_BACKBONE];
        if (ds_ema_init(&tr->ema, nb) != 0) {
            ds_optim_free(&tr->opt);
            return ds_err_set(err, DS_ERR_NOMEM, "out of memory for the EMA weights");
        }
    }
    return DS_OK;
}

void ds_trainer_free(ds_trainer *tr) {
    ds_trainer_dev_free(tr);
    ds_optim_free(&tr->opt);
    ds_ema_free(&tr->ema);
    ds_ctx_free(&tr->ctx);
}

int64_t ds_trainer_latent_len(const ds_trainer *tr, int64_t T) {
    int r = tr->m->cfg.pretransform.ratio > 0 ? tr->m->cfg.pretransform.ratio : 1;
    return (T + r - 1) / r;
}

/* Pretransform encode of a batch into x0 [B, C', T'] (malloc'd when it differs from the
 * batch's own buffer). Pre-encoded latents are divided by the autoencoder scale. */
static ds_status encode(const ds_trainer *tr, const ds_batch *b, float **x0, int64_t *C, int64_t *T, ds_err *err) {
    const ds_pretransform_config *pt = &tr->m->cfg.pretransform;
    if (pt->type == DS_PT_NONE || tr->m->cfg.training.pre_encoded) {
        *x0 = b->audio;
        *C = b->C;
        *T = b->T;
        if (tr->m->cfg.training.pre_encoded && pt->type == DS_PT_AUTOENCODER && pt->scale != 1.0 && pt->scale != 0.0) {
            int64_t n = (int64_t)b->B * b->C * b->T;
            float *d = malloc((size_t)n * sizeof(float));
            if (!d) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
            for (int64_t i = 0; i < n; i++) d[i] = b->audio[i] / (float)pt->scale;
            *x0 = d;
        }
        return DS_OK;
    }
    ds_pretransform_latent_shape(pt, b->C, b->T, C, T);
    float *d = malloc((size_t)(b->B * *C * *T) * sizeof(float));
    if (!d) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    ds_status s = ds_pretransform_encode(pt, b->audio, b->B, b->C, b->T, d, err);
    if (s != DS_OK) {
        free(d);
        return s;
    }
    *x0 = d;
    return DS_OK;
}

/* One micro-batch: forward and backward; the loss (the micro-batch's mean) into *loss_out
 * on the CPU; on a device its tensor into *loss_t (read after the step). */
ds_status ds_trainer_micro_step(ds_trainer *tr, const ds_batch *b, int micro, const ds_step_override *ov,
                                ds_step_stats *st, double *loss_out, ds_tensor **loss_t, ds_err *err) {
    ds_model *m = tr->m;
    ds_ctx *c = &tr->ctx;
    const ds_training_config *tc = &m->cfg.training;
    float *x0 = NULL;
    int64_t C = 0, T = 0;
    DS_TRY(encode(tr, b, &x0, &C, &T, err));
    bool owns_x0 = x0 != b->audio;
    int64_t B = b->B, N = C * T;
    ds_status s = DS_OK;

    /* Host values (the arena on the CPU, staging on a device): timesteps and noise are drawn
     * on the host, so the same seed gives the same numbers on every backend. */
    float *t = ds_host_scratch(c, B), *alpha = ds_host_scratch(c, B), *sigma = ds_host_scratch(c, B);
    ds_tensor *xt = ds_new3(c, B, C, T), *target = ds_new3(c, B, C, T);
    float *noise = ds_host_scratch(c, B * N);
    float *mask = NULL;
    ds_tensor *mask_t = NULL;
    bool host_pass = !c->dry || c->replay; /* the host computes this step's values */
    ds_rng rt = step_stream(tr, RNG_T, micro), rn = step_stream(tr, RNG_NOISE, micro);
    ds_rng rd = step_stream(tr, RNG_DROPOUT, micro), rm = step_stream(tr, RNG_MASK, micro);
    if (host_pass) {
        if (ov && ov->t)
            memcpy(t, ov->t, (size_t)B * sizeof(float));
        else {
            ds_sample_timesteps(tc, &tr->sobol, &rt, B, t);
            if (m->cfg.dist_shift.present)
                for (int64_t i = 0; i < B; i++) t[i] = (float)ds_dist_shift_time(&m->cfg.dist_shift, t[i], T);
        }
        if (ov && ov->noise)
            memcpy(noise, ov->noise, (size_t)(B * N) * sizeof(float));
        else
            ds_rng_normal_fill(&rn, noise, B * N);
        ds_alphas_sigmas(m->cfg.objective, t, B, alpha, sigma);
        float *hx = ds_host_begin(c, xt), *ht = ds_host_begin(c, target);
        ds_noise_and_target(m->cfg.objective, x0, noise, alpha, sigma, B, N, hx, ht);
        ds_host_commit(c, xt);
        ds_host_commit(c, target);
        if (tc->mask_padding && b->padding_mask && ds_rng_uniform(&rm) > tc->mask_padding_dropout) {
            /* audio-rate mask -> latent rate (nearest), > 0 */
            mask_t = ds_new2(c, B, T);
            mask = ds_host_begin(c, mask_t);
            for (int64_t bb = 0; bb < B; bb++)
                for (int64_t j = 0; j < T; j++) {
                    int64_t src = (int64_t)floorf((float)j * ((float)b->T / (float)T));
                    if (src > b->T - 1) src = b->T - 1;
                    mask[bb * T + j] = b->padding_mask[bb * b->T + src] > 0 ? 1.0f : 0.0f;
                }
            ds_host_commit(c, mask_t);
            mask = mask_t->data; /* where the loss reads it (device memory on a device) */
        }
        if (micro == 0) {
            double sum = 0, ss = 0;
            int64_t n = B * N;
            for (int64_t i = 0; i < n; i++) sum += x0[i];
            double mean = sum / (double)n;
            for (int64_t i = 0; i < n; i++) ss += (x0[i] - mean) * (x0[i] - mean);
            st->std_data = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
        }
    } else {
        /* planning: count the staging the host pass will use */
        ds_host_begin(c, xt);
        ds_host_begin(c, target);
        if (tc->mask_padding) {
            mask_t = ds_new2(c, B, T);
            mask = mask_t->data;
            ds_host_begin(c, mask_t);
        }
    }
    ds_tensor *tt = ds_input(c, t, 1, (int64_t[]){B}, false);

    ds_cond_tensors cond;
    memset(&cond, 0, sizeof cond);
    if (ov && ov->cond) {
        const ds_cond_host *h = ov->cond;
        if (h->cross) cond.cross_attn_cond = ds_input(c, (float *)h->cross, 3, (int64_t[]){B, h->S, h->Dc}, false);
        if (h->global) cond.global_cond = ds_input(c, (float *)h->global, 2, (int64_t[]){B, h->G}, false);
        if (h->prepend) cond.prepend_cond = ds_input(c, (float *)h->prepend, 3, (int64_t[]){B, h->P, h->Dp}, false);
        if (h->icc) cond.input_concat_cond = ds_input(c, (float *)h->icc, 3, (int64_t[]){B, h->Ci, h->Ti}, false);
    } else if (m->n_cond > 0 && (s = ds_model_condition(m, c, b->meta, (int)B, &cond, err)) != DS_OK) {
        goto out;
    }
    ds_call_opts o = ds_call_opts_default();
    o.cfg_dropout_prob = ov && ov->no_dropout ? 0.0f : (float)tc->cfg_dropout_prob;
    o.rng = &rd;
    if (!c->dry) ds_prof_mark("inputs: noise, timesteps, conditioning", false);
    ds_tensor *out = ds_model_forward(m, c, xt, tt, &cond, &o);
    ds_tensor *loss = ds_mse(c, out, target, mask);
    if (loss_t) *loss_t = loss;
    if (!c->dry) {
        /* Host reads of device values synchronise: the loss only on the CPU (a device reads
         * it after the step), traces and log_loss_info only when asked for. */
        if (!c->dev) *loss_out = loss->data[0];
        ds_step_trace *tr_ = tr->trace;
        if (tr_ && micro == 0) {
            size_t nb = (size_t)B * sizeof(float);
            if (tr_->t) memcpy(tr_->t, t, nb);
            if (tr_->alpha) memcpy(tr_->alpha, alpha, nb);
            if (tr_->sigma) memcpy(tr_->sigma, sigma, nb);
            if (tr_->xt) ds_to_host(c, xt, tr_->xt);
            if (tr_->target) ds_to_host(c, target, tr_->target);
            if (tr_->out) ds_to_host(c, out, tr_->out);
            float lv;
            ds_to_host(c, loss, &lv);
            tr_->loss = lv;
        }
        const float *od = tc->log_loss_info ? ds_host_view(c, out) : NULL;
        const float *td = tc->log_loss_info ? ds_host_view(c, target) : NULL;
        if (tc->log_loss_info)
            for (int64_t bb = 0; bb < B; bb++) {
                double e = 0;
                for (int64_t i = 0; i < N; i++) {
                    double d = (double)od[bb * N + i] - td[bb * N + i];
                    e += d * d;
                }
                int k = (int)floorf(ds_noise_level(m->cfg.objective, t[bb]) * 10.0f);
                k = k < 0 ? 0 : (k >= DS_LOSS_BUCKETS ? DS_LOSS_BUCKETS - 1 : k);
                st->bucket_loss[k] += e / (double)N;
                st->bucket_count[k]++;
            }
    }
    /* Lightning divides the loss by the accumulation count. */
    float up = 1.0f / (float)tr->accum;
    ds_backward(c, loss, &up);
out:
    if (owns_x0) free(x0);
    return s;
}

ds_status ds_trainer_plan(ds_trainer *tr, const ds_batch *shape, ds_err *err) {
    return ds_trainer_plan_with(tr, shape, NULL, err);
}

ds_status ds_trainer_plan_with(ds_trainer *tr, const ds_batch *shape, const ds_step_override *ov, ds_err *err) {
    ds_ctx *c = &tr->ctx;
    c->grad = true;
    ds_ctx_set_dry(c, true);
    ds_step_stats st;
    memset(&st, 0, sizeof st);
    double loss;
    ds_status s = ds_trainer_micro_step(tr, shape, 0, ov, &st, &loss, NULL, err);
    tr->arena_bytes = c->arena.peak;
    ds_ctx_set_dry(c, false);
    tr->planned = s == DS_OK;
    return s;
}

ds_status ds_trainer_step(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_step_stats *st,
                          ds_err *err) {
    ds_model *m = tr->m;
    ds_params *p = &m->params;
    memset(st, 0, sizeof *st);
    if (tr->dev) return ds_trainer_step_dev(tr, batches, ov, st, err);
    if (!tr->planned) DS_TRY(ds_trainer_plan_with(tr, &batches[0], ov, err));
    ds_ctx *c = &tr->ctx;
    c->grad = true;
    c->training = true;
    ds_params_zero_grad(p);
    double total = 0;
    for (int k = 0; k < tr->accum; k++) {
        double loss = 0;
        ds_status s = ds_trainer_micro_step(tr, &batches[k], k, ov, st, &loss, NULL, err);
        ds_ctx_reset(c);
        if (s != DS_OK) return s;
        total += loss;
    }
    for (int k = 0; k < DS_LOSS_BUCKETS; k++)
        if (st->bucket_count[k]) st->bucket_loss[k] /= st->bucket_count[k];
    st->loss = total / tr->accum;
    int64_t n = ds_params_trainable(p);
    float *g = p->grad + p->range_begin[DS_PG_BACKBONE];
    st->grad_norm = ds_grad_norm(g, n);
    st->lr = ds_optim_lr(&tr->opt);
    if (!isfinite(st->loss) || !isfinite(st->grad_norm)) {
        st->skipped = true;
        return DS_OK; /* the caller reports it and decides whether to stop */
    }
    float *w = p->data + p->range_begin[DS_PG_BACKBONE];
    if (tr->use_ema) st->ema_decay = ds_ema_update(&tr->ema, w);
    if (tr->clip > 0) ds_clip_grad_norm(g, n, st->grad_norm, tr->clip);
    ds_optim_step(&tr->opt, w, g);
    ds_prof_mark("grad norm, clipping, AdamW, EMA", false);
    tr->global_step++;
    return DS_OK;
}
