/* ds_render: a ds_model behind the samplers' model callback (see render.h). */
#include "diffusion/render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"

void ds_traj_free(ds_traj *t) {
    free(t->model_in);
    free(t->model_t);
    free(t->model_out);
    free(t->x);
    free(t->denoised);
    memset(t, 0, sizeof *t);
}

/* Resizes *p to `rows` rows of w floats. */
static bool grow(float **p, int rows, int64_t w) {
    float *q = realloc(*p, (size_t)rows * (size_t)w * sizeof(float));
    if (!q) return false;
    *p = q;
    return true;
}

static void traj_call(ds_traj *t, const float *x, const float *tt, const float *out) {
    if (t->oom) return;
    if (t->calls == t->cap_calls) {
        int cap = t->cap_calls ? 2 * t->cap_calls : 16;
        if (!grow(&t->model_in, cap, t->n) || !grow(&t->model_t, cap, t->B) || !grow(&t->model_out, cap, t->n)) {
            t->oom = true;
            return;
        }
        t->cap_calls = cap;
    }
    memcpy(t->model_in + (size_t)t->calls * t->n, x, (size_t)t->n * sizeof(float));
    memcpy(t->model_t + (size_t)t->calls * t->B, tt, (size_t)t->B * sizeof(float));
    memcpy(t->model_out + (size_t)t->calls * t->n, out, (size_t)t->n * sizeof(float));
    t->calls++;
}

static void traj_step(ds_traj *t, const float *x, const float *den) {
    if (t->oom) return;
    if (t->steps == t->cap_steps) {
        int cap = t->cap_steps ? 2 * t->cap_steps : 16;
        if (!grow(&t->x, cap, t->n) || !grow(&t->denoised, cap, t->n)) {
            t->oom = true;
            return;
        }
        t->cap_steps = cap;
    }
    memcpy(t->x + (size_t)t->steps * t->n, x, (size_t)t->n * sizeof(float));
    memcpy(t->denoised + (size_t)t->steps * t->n, den, (size_t)t->n * sizeof(float));
    t->steps++;
}

typedef struct render {
    ds_model *m;
    const ds_cond_tensors *cond;
    ds_call_opts o;
    ds_ctx ctx;
    int64_t B, C, T, n;
    ds_traj *traj;
    int calls;
    void (*user_step)(void *, const ds_sample_step *);
    void *user;
} render;

/* The model fn: one ds_model_forward, grad off, context reset afterwards. */
static ds_status render_call(void *user, const float *x, const float *t, float *out, float *out_uncond, ds_err *err) {
    render *r = user;
    ds_ctx *c = &r->ctx;
    int64_t xs[3] = {r->B, r->C, r->T}, ts[1] = {r->B};
    /* The backbone only reads its inputs: ds_input wraps them on the CPU, copies them to a
     * device (ds_wrap takes non-const data). */
    ds_tensor *xt = ds_input(c, (float *)x, 3, xs, false);
    ds_tensor *tt = ds_input(c, (float *)t, 1, ts, false);
    ds_call_opts o = r->o;
    ds_tensor *co = NULL, *un = NULL;
    o.out_cond = &co;
    o.out_uncond = &un;
    ds_tensor *y = ds_model_forward(r->m, c, xt, tt, r->cond, &o);
    ds_status s = DS_OK;
    r->calls++;
    if (ds_numel(y) != r->n) {
        char b1[64];
        s = ds_err_set(err, DS_ERR_INTERNAL, "backbone returned %s for an input [%lld, %lld, %lld]",
                       ds_shape_str(y, b1, sizeof b1), (long long)r->B, (long long)r->C, (long long)r->T);
        goto done;
    }
    ds_to_host(c, y, out); /* a no-op copy check on the CPU: same buffer semantics as before */
    if ((s = ds_device_check(c->dev, err)) != DS_OK) goto done;
    for (int64_t i = 0; i < r->n; i++)
        if (!isfinite(out[i])) {
            s = ds_err_set(err, DS_ERR_NUMERIC, "the backbone output is not finite at t = %g (element %lld)",
                           (double)t[0], (long long)i);
            goto done;
        }
    /* No CFG this call (scale 1, outside cfg_interval, nothing to guide): SAT's info has no
     * uncond_output and v-ddim-cfgpp uses the output itself. */
    if (out_uncond) ds_to_host(c, un ? un : y, out_uncond);
    if (r->traj) {
        traj_call(r->traj, x, t, out);
        if (r->traj->oom) s = ds_err_set(err, DS_ERR_NOMEM, "out of memory recording the sampler trajectory");
    }
done:
    ds_ctx_reset(c);
    return s;
}

static void render_step(void *user, const ds_sample_step *st) {
    render *r = user;
    if (r->traj) traj_step(r->traj, st->x, st->denoised);
    if (r->user_step) r->user_step(r->user, st);
}

ds_status ds_render(const ds_render_args *a, float *out, ds_err *err) {
    ds_model *m = a->model;
    ds_objective obj = m->cfg.objective;
    if (!ds_sampler_fits(a->sampler.kind, obj)) {
        ds_sampler_kind k;
        return ds_sampler_parse(ds_sampler_name(a->sampler.kind), &obj, &k, err);
    }
    render r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.cond = a->cond;
    r.o = a->call;
    r.o.out_cond = r.o.out_uncond = NULL;
    r.o.cfg_dropout_prob = 0.0f; /* inference */
    r.B = a->batch, r.C = m->cfg.io_channels, r.T = a->length;
    r.n = r.B * r.C * r.T;
    if (r.B < 1 || r.C < 1 || r.T < 1)
        return ds_err_set(err, DS_ERR_INVALID, "render: batch %lld × io_channels %lld × length %lld is empty",
                          (long long)r.B, (long long)r.C, (long long)r.T);
    r.traj = a->traj;
    if (r.traj) {
        ds_traj_free(r.traj);
        r.traj->n = r.n;
        r.traj->B = r.B;
    }
    ds_sampler_params p = a->sampler;
    r.user_step = p.on_step;
    r.user = p.user;
    p.on_step = render_step;
    p.user = &r;

    float *noise = NULL;
    const float *nz = a->noise;
    if (!nz) {
        if (!p.rng) return ds_err_set(err, DS_ERR_INVALID, "render: no noise given and no random stream to draw it");
        if (!(noise = malloc((size_t)r.n * sizeof(float)))) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
        ds_rng_normal_fill(p.rng, noise, r.n);
        nz = noise;
    }
    ds_ctx_init(&r.ctx);
    ds_ctx_set_device(&r.ctx, m->params.dev, false); /* where the model is */
    r.ctx.grad = false;
    r.ctx.training = false;
    ds_model_fn f = {render_call, &r};
    ds_status s = ds_sample(&f, &p, r.B, r.C, r.T, nz, a->init, out, err);
    if (s == DS_OK && r.traj && r.traj->oom)
        s = ds_err_set(err, DS_ERR_NOMEM, "out of memory recording the sampler trajectory");
    if (a->stats) {
        a->stats->model_calls = r.calls;
        a->stats->arena_peak = r.ctx.arena.peak;
        a->stats->arena_regrows = r.ctx.arena.regrows;
    }
    ds_ctx_free(&r.ctx);
    free(noise);
    return s;
}

ds_call_opts ds_call_opts_generate(float cfg_scale) {
    ds_call_opts o = ds_call_opts_default();
    o.cfg_scale = cfg_scale;
    o.batch_cfg = true;
    o.rescale_cfg = true;
    return o;
}

ds_call_opts ds_call_opts_demo(float cfg_scale) {
    ds_call_opts o = ds_call_opts_default();
    o.cfg_scale = cfg_scale;
    o.batch_cfg = true;
    o.rescale_cfg = false;
    return o;
}
