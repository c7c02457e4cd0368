/* ds_render: a ds_model behind the samplers' model callback (see render.h). */
#include "diffusion/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "train/step_graph.h"

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
    ds_step_graphs graphs; /* device renders: the model call as a CUDA graph (see graph_call) */
} render;

/* One backbone call on a device through a CUDA graph once its shapes repeat (the same
 * decisions as the training step, train/step_graph.h): a host pass that issues nothing stages
 * x and t and sizes the call (the signature: arena, tensor headers, staging, output shape);
 * then the captured graph is replayed, or the call is captured or issued. The outputs come
 * back through page-locked staging at fixed addresses, so the graph's copies stay valid. */
static ds_status graph_call(render *r, const float *x, const float *t, float *out, float *out_uncond, ds_err *err) {
    ds_ctx *c = &r->ctx;
    ds_device *d = c->dev;
    int64_t xs[3] = {r->B, r->C, r->T}, ts[1] = {r->B};
    ds_tensor *y = NULL, *un = NULL;
    float *py = NULL, *pu = NULL;
    uint64_t sig = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: host only (replay mode); pass 1: issue (eagerly or under capture) */
        bool host_only = pass == 0;
        ds_graph_action act = DS_GRAPH_EAGER;
        if (!host_only) {
            bool drop = false;
            act = ds_graphs_decide(&r->graphs, 0, sig, &drop);
            if (drop) d->mem->graph_drop(d, DS_DEV_GRAPH_RENDER);
            if (act == DS_GRAPH_REPLAY) {
                d->mem->graph_launch(d, DS_DEV_GRAPH_RENDER);
                break;
            }
            c->tape = NULL, c->tape_len = 0;
            ds_arena_reset(&c->arena);
            ds_arena_reset(&c->meta);
            ds_arena_reset(&c->stage[c->stage_i]);
        }
        bool capturing = act == DS_GRAPH_CAPTURE && d->mem->capture_begin(d);
        if (act == DS_GRAPH_CAPTURE && !capturing) ds_graphs_captured(&r->graphs, 0, sig, false, "capture_begin");
        c->replay = c->dry = host_only;
        c->arena.counting = host_only;
        ds_tensor *co = NULL;
        un = NULL;
        ds_call_opts o = r->o;
        o.out_cond = &co;
        o.out_uncond = &un;
        y = ds_model_forward(r->m, c, ds_input(c, (float *)x, 3, xs, false), ds_input(c, (float *)t, 1, ts, false),
                             r->cond, &o);
        py = ds_host_scratch(c, r->n);
        pu = out_uncond ? ds_host_scratch(c, r->n) : NULL;
        if (!host_only && ds_numel(y) == r->n) {
            d->mem->download(d, py, y->data, (size_t)r->n * sizeof(float));
            if (pu) d->mem->download(d, pu, (un ? un : y)->data, (size_t)r->n * sizeof(float));
        }
        c->replay = c->dry = false;
        c->arena.counting = false;
        if (host_only) {
            sig = ds_sig_mix(ds_sig_mix(0xcbf29ce484222325ull, c->arena.used), c->meta.used);
            sig = ds_sig_mix(ds_sig_mix(sig, c->stage[c->stage_i].used), (uint64_t)ds_numel(y) ^ (un ? 1ull << 62 : 0));
            continue;
        }
        if (capturing) {
            bool ok = d->mem->capture_end(d, DS_DEV_GRAPH_RENDER);
            if (!ok) { /* nothing ran: keep the reason, clear the error, issue the call eagerly */
                char why[sizeof d->err.msg];
                snprintf(why, sizeof why, "%s", d->status != DS_OK ? d->err.msg : "the backend declined");
                d->status = DS_OK;
                ds_graphs_captured(&r->graphs, 0, sig, false, why);
                pass = 0; /* the loop runs the issuing pass again, now eager (graphs are off) */
                continue;
            }
            ds_graphs_captured(&r->graphs, 0, sig, true, NULL);
            d->mem->graph_launch(d, DS_DEV_GRAPH_RENDER);
        }
    }
    ds_status s = ds_device_sync(d, err);
    if (s == DS_OK && ds_numel(y) != r->n) {
        char b1[64];
        s = ds_err_set(err, DS_ERR_INTERNAL, "backbone returned %s for an input [%lld, %lld, %lld]",
                       ds_shape_str(y, b1, sizeof b1), (long long)r->B, (long long)r->C, (long long)r->T);
    }
    if (s == DS_OK) {
        memcpy(out, py, (size_t)r->n * sizeof(float));
        if (out_uncond) memcpy(out_uncond, pu, (size_t)r->n * sizeof(float));
    }
    return s;
}

/* The model fn: one ds_model_forward, grad off, context reset afterwards. */
static ds_status render_call(void *user, const float *x, const float *t, float *out, float *out_uncond, ds_err *err) {
    render *r = user;
    ds_ctx *c = &r->ctx;
    int64_t xs[3] = {r->B, r->C, r->T}, ts[1] = {r->B};
    if (c->dev && r->graphs.enabled) {
        ds_status s = graph_call(r, x, t, out, out_uncond, err);
        r->calls++;
        for (int64_t i = 0; s == DS_OK && i < r->n; i++)
            if (!isfinite(out[i]))
                s = ds_err_set(err, DS_ERR_NUMERIC, "the backbone output is not finite at t = %g (element %lld)",
                               (double)t[0], (long long)i);
        if (s == DS_OK && r->traj) {
            traj_call(r->traj, x, t, out);
            if (r->traj->oom) s = ds_err_set(err, DS_ERR_NOMEM, "out of memory recording the sampler trajectory");
        }
        ds_ctx_reset(c);
        return s;
    }
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
    bool reuse = a->ctx && !m->params.dev;
    if (reuse) {
        r.ctx = *a->ctx; /* moved in for the render, moved back after */
        ds_ctx_reset(&r.ctx);
    } else {
        ds_ctx_init(&r.ctx);
        ds_ctx_set_device(&r.ctx, m->params.dev, false); /* where the model is */
    }
    {
        /* DS_CUDA_GRAPHS=0 turns graphs off; DS_SIM_GRAPHS=1 runs this path's host side on the
         * CPU stand-in (which declines to capture, so every call falls back to eager) */
        const char *env = getenv("DS_CUDA_GRAPHS"), *sim = getenv("DS_SIM_GRAPHS");
        ds_device *d = m->params.dev;
        bool on = d && (d->kind == DS_DEV_CUDA || (sim && sim[0] == '1'));
        ds_graphs_init(&r.graphs, on && !(env && env[0] == '0'), "not a CUDA device");
    }
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
    if (r.ctx.dev)
        r.ctx.dev->mem->graph_drop(r.ctx.dev, DS_DEV_GRAPH_RENDER);
    if (a->stats) {
        a->stats->graph_replays = r.graphs.replays;
        a->stats->graph_captures = r.graphs.captures;
    }
    if (reuse) {
        ds_ctx_reset(&r.ctx);
        *a->ctx = r.ctx;
    } else {
        ds_ctx_free(&r.ctx);
    }
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
