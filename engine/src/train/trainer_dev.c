/* The training step on a device (trainer.h "Devices").
 *
 * Memory: one device allocation per role (device/device.h): parameters and gradients (the
 * model's table, ds_params_bind), Adam m, Adam v, EMA weights, the step scalars/state, the
 * activation arena (sized by the planning pass, ds_trainer_plan) and the workspace slots of
 * the backend (sized by the first step). Nothing is allocated inside later steps.
 *
 * One step, all on the device's stream with no host round trip before the end:
 *   step scalars (host-computed lr, bias corrections, EMA weight, from pinned memory) ->
 *   zero the gradients -> per micro-batch: host values staged and copied, forward, loss
 *   (summed into the step state), backward -> gradient statistics (norm, non-finite check,
 *   clip coefficient, loss-scale update) -> one fused pass: AdamW + EMA + half weights ->
 *   the step state copied back to pinned memory.
 * The host then reads the state (collect) and advances its counters exactly as the CPU
 * trainer does: nothing on a skipped step.
 *
 * CUDA graphs (train/step_graph.h): the host pass of each step first runs without issuing
 * work (ctx.replay), which stages its inputs and gives the step's signature; the step is
 * then replayed from a captured graph, captured, or issued eagerly. The Sobol sampler is
 * the one piece of host state a host pass advances; it is restored before a second pass.
 *
 * On the CPU stand-in ("sim") the optimiser part runs as host loops over its memory with the
 * kernels' exact arithmetic, so fixtures through "sim" check this whole path bit for bit
 * against the CPU trainer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "device/prof.h"
#include "device/scaler.h"
#include "train/step_graph.h"
#include "train/trainer_impl.h"

typedef struct ds_trainer_dev ds_trainer_dev;
struct ds_trainer_dev {
    ds_device *d;
    float *m, *v, *ema;    /* device roles */
    int64_t n, n_ema;      /* trainable floats; EMA floats (the backbone prefix) */
    void *step_mem;        /* the scalars and state, one allocation */
    ds_step_scalars *sc;   /* device */
    ds_step_state *st;     /* device */
    ds_step_scalars *sc_h; /* pinned */
    ds_step_state *st_h;   /* pinned */
    ds_step_graphs graphs;
    double ema_decay;      /* of the submitted step (reported) */
    bool ema_on;
    ds_step_stats stats;   /* the submitted step's host-side stats (std_data, buckets) */
};

static void free_dev(ds_trainer_dev *dv) {
    ds_device *d = dv->d;
    ds_device_free(d, DS_ROLE_ADAM_M, dv->m, (size_t)dv->n * 4);
    ds_device_free(d, DS_ROLE_ADAM_V, dv->v, (size_t)dv->n * 4);
    ds_device_free(d, DS_ROLE_EMA, dv->ema, (size_t)dv->n_ema * 4);
    ds_device_free(d, DS_ROLE_STEP, dv->step_mem, sizeof(ds_step_scalars) + sizeof(ds_step_state));
    if (dv->sc_h) d->mem->host_free(d, dv->sc_h);
    for (int h = 0; h < DS_DEV_GRAPH_STEP_SLOTS; h++) d->mem->graph_drop(d, h);
    free(dv);
}

void ds_trainer_dev_free(ds_trainer *tr) {
    if (!tr->dv) return;
    ds_device *d = tr->dev;
    d->mem->sync(d);
    free_dev(tr->dv);
    tr->dv = NULL;
    ds_ctx_free(&tr->ctx); /* its arena is device memory: free it while the device is open */
    ds_ctx_init(&tr->ctx);
    ds_params_unbind(&tr->m->params);
    tr->dev = NULL;
}

ds_status ds_trainer_upload(ds_trainer *tr, ds_err *err) {
    ds_trainer_dev *dv = tr->dv;
    if (!dv) return DS_OK;
    ds_device *d = dv->d;
    DS_TRY(ds_params_upload(&tr->m->params, err));
    d->mem->upload(d, dv->m, tr->opt.m, (size_t)dv->n * 4);
    d->mem->upload(d, dv->v, tr->opt.v, (size_t)dv->n * 4);
    if (dv->ema) d->mem->upload(d, dv->ema, tr->ema.w, (size_t)dv->n_ema * 4);
    return ds_device_sync(d, err);
}

ds_status ds_trainer_sync_host(ds_trainer *tr, ds_err *err) {
    ds_trainer_dev *dv = tr->dv;
    if (!dv) return DS_OK;
    ds_device *d = dv->d;
    DS_TRY(ds_params_download(&tr->m->params, false, err));
    d->mem->download(d, tr->opt.m, dv->m, (size_t)dv->n * 4);
    d->mem->download(d, tr->opt.v, dv->v, (size_t)dv->n * 4);
    if (dv->ema) d->mem->download(d, tr->ema.w, dv->ema, (size_t)dv->n_ema * 4);
    return ds_device_sync(d, err);
}

ds_status ds_trainer_use_device(ds_trainer *tr, ds_device *d, ds_err *err) {
    if (tr->dev) return ds_err_set(err, DS_ERR_INTERNAL, "the trainer is already on a device");
    ds_params *p = &tr->m->params;
    if (p->range_begin[DS_PG_BACKBONE] != 0)
        return ds_err_set(err, DS_ERR_INTERNAL, "the parameter table must start with the backbone");
    ds_trainer_dev *dv = calloc(1, sizeof *dv);
    if (!dv) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    dv->d = d;
    dv->n = ds_params_trainable(p);
    dv->n_ema = tr->use_ema ? tr->ema.n : 0;
    ds_status s = ds_params_bind(p, d, err);
    if (s != DS_OK) {
        free(dv);
        return s;
    }
    dv->m = ds_device_alloc(d, DS_ROLE_ADAM_M, (size_t)(dv->n ? dv->n : 1) * 4);
    dv->v = ds_device_alloc(d, DS_ROLE_ADAM_V, (size_t)(dv->n ? dv->n : 1) * 4);
    if (dv->n_ema) dv->ema = ds_device_alloc(d, DS_ROLE_EMA, (size_t)dv->n_ema * 4);
    dv->step_mem = ds_device_alloc(d, DS_ROLE_STEP, sizeof(ds_step_scalars) + sizeof(ds_step_state));
    dv->sc_h = d->mem->host_alloc(d, sizeof(ds_step_scalars) + sizeof(ds_step_state));
    if ((s = ds_device_check(d, err)) != DS_OK) {
        free_dev(dv);
        ds_params_unbind(p);
        return s;
    }
    dv->sc = dv->step_mem;
    dv->st = (ds_step_state *)(dv->sc + 1);
    dv->st_h = (ds_step_state *)(dv->sc_h + 1);
    memset(dv->sc_h, 0, sizeof *dv->sc_h);
    memset(dv->st_h, 0, sizeof *dv->st_h);
    dv->st_h->loss_scale = DS_SCALER_INIT;
    dv->st_h->gscale = 1.0f;
    d->mem->upload(d, dv->st, dv->st_h, sizeof *dv->st_h);
    tr->dev = d;
    tr->dv = dv;
    if ((s = ds_trainer_upload(tr, err)) != DS_OK) {
        ds_trainer_dev_free(tr);
        return s;
    }
    /* a fresh context on the device; the next step plans it */
    ds_ctx_free(&tr->ctx);
    ds_ctx_init(&tr->ctx);
    ds_ctx_set_device(&tr->ctx, d, true);
    tr->ctx.loss_scale = d->precision == DS_PREC_16_MIXED ? &dv->st->loss_scale : NULL;
    tr->planned = false;
    /* DS_CUDA_GRAPHS=0 turns graphs off; DS_SIM_GRAPHS=1 runs their host side on the CPU
     * stand-in (host pass, signature, decisions; it declines to capture, so steps go eager) */
    const char *env = getenv("DS_CUDA_GRAPHS"), *sim = getenv("DS_SIM_GRAPHS");
    bool off = env && env[0] == '0';
    bool can = d->kind == DS_DEV_CUDA || (sim && sim[0] == '1');
    ds_graphs_init(&dv->graphs, can && !off, !can ? "the CPU stand-in cannot capture" : "DS_CUDA_GRAPHS=0");
    return DS_OK;
}

/* The host's part of the optimiser: lr, bias corrections and the EMA weight of this step,
 * computed as train/optim.c and train/ema.c compute them. */
static void fill_scalars(ds_trainer *tr) {
    ds_trainer_dev *dv = tr->dv;
    const ds_optim *o = &tr->opt;
    ds_step_scalars *sc = dv->sc_h;
    double lr = ds_optim_lr(o);
    int64_t s = o->step + 1;
    double bc1 = 1.0 - pow(o->beta1, (double)s), bc2 = 1.0 - pow(o->beta2, (double)s);
    memset(sc, 0, sizeof *sc);
    sc->decay = (float)(1.0 - lr * o->weight_decay);
    sc->beta1 = (float)o->beta1;
    sc->one_minus_beta1 = (float)(1.0 - o->beta1);
    sc->beta2 = (float)o->beta2;
    sc->one_minus_beta2 = (float)(1.0 - o->beta2);
    sc->bc2_sqrt = (float)sqrt(bc2);
    sc->eps = (float)o->eps;
    sc->neg_step = (float)(-(lr / bc1));
    sc->l2 = (float)o->weight_decay;
    sc->adamw = o->type == DS_OPT_ADAMW;
    sc->lr = (float)lr;
    dv->ema_on = tr->use_ema && dv->ema;
    dv->ema_decay = 0;
    if (dv->ema_on) {
        sc->ema = 1;
        dv->ema_decay = ds_ema_prepare(&tr->ema, &sc->ema_weight);
    }
    sc->max_norm = tr->clip > 0 ? (float)tr->clip : 0.0f;
    sc->scaler = tr->dev->precision == DS_PREC_16_MIXED;
}

/* ---- the optimiser part on the CPU stand-in: the kernels' arithmetic as host loops ---- */

static void sim_grad_stats(const float *g, int64_t n, const ds_step_scalars *sc, ds_step_state *st) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    st->grad_sumsq = s;
    ds_step_finish(st, sc);
}

static void sim_adamw(float *P, const float *G, float *M, float *V, float *E, int64_t n, int64_t n_ema,
                      const ds_step_scalars *sc, const ds_step_state *st) {
    if (st->found_inf) return;
    float gs = st->gscale;
    for (int64_t i = 0; i < n; i++) {
        float p = P[i], g = G[i];
        if (gs != 1.0f) g = g * gs;
        if (E && sc->ema && i < n_ema) {
            float e = E[i], w = sc->ema_weight;
            E[i] = fabsf(w) < 0.5f ? e + w * (p - e) : p - (p - e) * (1.0f - w);
        }
        if (sc->adamw)
            p = p * sc->decay;
        else if (sc->l2 != 0.0f)
            g = g + sc->l2 * p;
        float m = M[i] * sc->beta1;
        m = m + sc->one_minus_beta1 * g;
        float v = V[i] * sc->beta2;
        v = v + (sc->one_minus_beta2 * g) * g;
        float denom = sqrtf(v) / sc->bc2_sqrt + sc->eps;
        p = p + (sc->neg_step * m) / denom;
        P[i] = p;
        M[i] = m;
        V[i] = v;
    }
}

/* Everything after the micro-batches: statistics, update, state back to pinned memory. */
static void issue_update(ds_trainer *tr) {
    ds_trainer_dev *dv = tr->dv;
    ds_device *d = dv->d;
    ds_params *p = &tr->m->params;
    if (d->ops) {
        d->ops->grad_stats(d, p->dev_grad, dv->n, dv->sc, dv->st);
        d->ops->adamw(d, p->dev_data, p->dev_grad, dv->m, dv->v, dv->ema, dv->n, dv->n_ema, d->param_lp, dv->sc, dv->st);
    } else {
        sim_grad_stats(p->dev_grad, dv->n, dv->sc, dv->st);
        sim_adamw(p->dev_data, p->dev_grad, dv->m, dv->v, dv->ema, dv->n, dv->n_ema, dv->sc, dv->st);
    }
    d->mem->download(d, dv->st_h, dv->st, sizeof *dv->st_h);
}

/* The step's device work in order; with replay set, only the host pass (staging). */
static ds_status run_step(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, bool replay,
                          ds_err *err) {
    ds_trainer_dev *dv = tr->dv;
    ds_device *d = dv->d;
    ds_ctx *c = &tr->ctx;
    c->grad = true;
    c->training = true;
    c->replay = replay;
    c->dry = replay;
    c->arena.counting = replay;
    if (!replay) {
        d->mem->upload(d, dv->sc, dv->sc_h, sizeof *dv->sc_h);
        ds_params_zero_grad(&tr->m->params);
        d->mem->zero(d, &dv->st->loss, sizeof(float));
    }
    ds_status s = DS_OK;
    for (int k = 0; k < tr->accum && s == DS_OK; k++) {
        double unused = 0;
        ds_tensor *loss = NULL;
        if (k > 0) ds_ctx_reset(c);
        s = ds_trainer_micro_step(tr, &batches[k], k, ov, &dv->stats, &unused, &loss, err);
        if (s == DS_OK && !replay) {
            if (d->ops)
                d->ops->copy2d(d, &dv->st->loss, 1, loss->data, 1, 1, 1, true);
            else
                dv->st->loss += loss->data[0];
        }
    }
    if (s == DS_OK && !replay) {
        ds_prof_mark("loss readout", false);
        issue_update(tr);
        ds_prof_mark("grad norm, clipping, AdamW, EMA", false);
    }
    c->replay = false;
    c->dry = false;
    c->arena.counting = false;
    return s;
}

/* A signature of the host pass just run: ops and shapes on the tape, arena and staging use. */
static uint64_t step_signature(const ds_ctx *c) {
    uint64_t h = 0xcbf29ce484222325ull;
    h = ds_sig_mix(h, (uint64_t)c->tape_len);
    h = ds_sig_mix(h, (uint64_t)c->arena.used);
    h = ds_sig_mix(h, (uint64_t)c->stage[c->stage_i].used);
    for (const ds_rec *r = c->tape; r; r = r->prev) {
        h = ds_sig_mix(h, (uint64_t)(uintptr_t)r->op);
        for (int i = 0; i < r->out->ndim; i++) h = ds_sig_mix(h, (uint64_t)r->out->shape[i]);
    }
    return h;
}

/* Rewinds the context's step state without moving to the other staging half. */
static void rewind_step(ds_ctx *c) {
    c->tape = NULL;
    c->tape_len = 0;
    c->grad_free = NULL;
    ds_arena_reset(&c->arena);
    ds_arena_reset(&c->meta);
    ds_arena_reset(&c->stage[c->stage_i]);
}

static ds_status submit_dev(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_err *err) {
    ds_trainer_dev *dv = tr->dv;
    ds_device *d = dv->d;
    ds_ctx *c = &tr->ctx;
    if (!tr->planned) DS_TRY(ds_trainer_plan_with(tr, &batches[0], ov, err));
    memset(&dv->stats, 0, sizeof dv->stats);
    fill_scalars(tr);
    const ds_training_config *tc = &tr->m->cfg.training;
    if (dv->graphs.enabled && (tr->accum != 1 || tr->trace || tc->log_loss_info)) {
        dv->graphs.enabled = false;
        snprintf(dv->graphs.why_off, sizeof dv->graphs.why_off, "%s",
                 tr->accum != 1 ? "gradient accumulation (accum_batches > 1)"
                 : tr->trace   ? "a step trace was requested"
                               : "log_loss_info reads each step's output on the host");
    }
    ds_status s;
    ds_graph_action act = DS_GRAPH_EAGER;
    uint64_t sig = 0;
    int half = c->stage_i;
    if (dv->graphs.enabled && !ds_prof_active()) { /* a profiled step runs eagerly: its marks are events */
        ds_sobol sob = tr->sobol;
        if ((s = run_step(tr, batches, ov, true, err)) != DS_OK) {
            rewind_step(c);
            return s;
        }
        sig = step_signature(c);
        bool drop = false;
        act = ds_graphs_decide(&dv->graphs, half, sig, &drop);
        if (drop)
            for (int h = 0; h < DS_DEV_GRAPH_STEP_SLOTS; h++) d->mem->graph_drop(d, h);
        if (act != DS_GRAPH_REPLAY) {
            tr->sobol = sob; /* the issuing pass draws the same values again */
            rewind_step(c);
            memset(&dv->stats, 0, sizeof dv->stats);
        }
    } else {
        dv->graphs.eager++;
    }
    dv->stats.graph = act == DS_GRAPH_REPLAY;
    if (act == DS_GRAPH_REPLAY) {
        d->mem->graph_launch(d, half);
    } else if (act == DS_GRAPH_CAPTURE) {
        ds_sobol sob = tr->sobol;
        if (!d->mem->capture_begin(d)) { /* not capturing: this pass issues the step itself */
            ds_graphs_captured(&dv->graphs, half, sig, false, d->status != DS_OK ? d->err.msg : "capture_begin");
            return run_step(tr, batches, ov, false, err);
        }
        s = run_step(tr, batches, ov, false, err);
        bool ok = d->mem->capture_end(d, half) && s == DS_OK;
        if (!ok) {
            /* The capture failed (an op that cannot be captured; nothing ran): keep the
             * reason, clear the device error it left, and issue the step eagerly. */
            char why[sizeof d->err.msg];
            snprintf(why, sizeof why, "%s", d->status != DS_OK ? d->err.msg : "the backend declined");
            d->status = DS_OK;
            ds_graphs_captured(&dv->graphs, half, sig, false, why);
            tr->sobol = sob;
            rewind_step(c);
            memset(&dv->stats, 0, sizeof dv->stats);
            DS_TRY(run_step(tr, batches, ov, false, err));
        } else {
            ds_graphs_captured(&dv->graphs, half, sig, true, NULL);
            d->mem->graph_launch(d, half);
        }
    } else {
        DS_TRY(run_step(tr, batches, ov, false, err));
    }
    return ds_device_check(d, err);
}

static ds_status collect_dev(ds_trainer *tr, ds_step_stats *st, ds_err *err) {
    ds_trainer_dev *dv = tr->dv;
    ds_device *d = dv->d;
    ds_status s = ds_device_sync(d, err);
    ds_ctx_reset(&tr->ctx); /* staging: the next step writes the other half */
    if (s != DS_OK) return s;
    *st = dv->stats;
    const ds_step_state *h = dv->st_h;
    for (int k = 0; k < DS_LOSS_BUCKETS; k++)
        if (st->bucket_count[k]) st->bucket_loss[k] /= st->bucket_count[k];
    st->loss = (double)h->loss / tr->accum;
    st->grad_norm = h->grad_norm;
    st->lr = dv->sc_h->lr;
    st->loss_scale = h->scale_used;
    if (h->found_inf) {
        st->skipped = true;
        st->scaler_skip = dv->sc_h->scaler && isfinite(st->loss);
        return DS_OK;
    }
    if (dv->ema_on) {
        st->ema_decay = dv->ema_decay;
        ds_ema_advance(&tr->ema);
    }
    tr->opt.step++;
    tr->global_step++;
    return DS_OK;
}

ds_status ds_trainer_submit(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_err *err) {
    if (tr->in_flight) return ds_err_set(err, DS_ERR_INTERNAL, "a step is already in flight (collect it first)");
    tr->in_flight = true;
    if (tr->dev) {
        ds_status s = submit_dev(tr, batches, ov, err);
        if (s != DS_OK) {
            tr->in_flight = false;
            tr->dev->mem->sync(tr->dev);
            ds_ctx_reset(&tr->ctx);
        }
        return s;
    }
    tr->pending_status = ds_trainer_step(tr, batches, ov, &tr->pending, err);
    if (tr->pending_status != DS_OK) tr->in_flight = false; /* nothing to collect */
    return tr->pending_status;
}

ds_status ds_trainer_collect(ds_trainer *tr, ds_step_stats *st, ds_err *err) {
    if (!tr->in_flight) return ds_err_set(err, DS_ERR_INTERNAL, "no step in flight");
    tr->in_flight = false;
    if (tr->dev) return collect_dev(tr, st, err);
    *st = tr->pending;
    return tr->pending_status;
}

ds_status ds_trainer_step_dev(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_step_stats *st,
                              ds_err *err) {
    DS_TRY(ds_trainer_submit(tr, batches, ov, err));
    return ds_trainer_collect(tr, st, err);
}

void ds_trainer_graph_stats(const ds_trainer *tr, int64_t *captures, int64_t *replays, int64_t *eager, char *why_off,
                            size_t n) {
    const ds_step_graphs *g = tr->dv ? &tr->dv->graphs : NULL;
    *captures = g ? g->captures : 0;
    *replays = g ? g->replays : 0;
    *eager = g ? g->eager : 0;
    if (why_off && n) snprintf(why_off, n, "%s", g ? (g->enabled ? "" : g->why_off) : "no device");
}
