/* Fourier features of a scalar per batch item, and table lookups (nn.Embedding).
 *
 * DS_FOURIER_COS_SIN   — SAT blocks.FourierFeatures: f = 2π·t @ Wᵀ, i.e. f_j = fl(fl(2π·t)·w_j),
 *                        out = [cos f, sin f]           (DiT timestep, DAU1d timestep)
 * DS_FOURIER_X_SIN_COS — ADP LearnedPositionalEmbedding: f_j = fl(fl(fl(t·w_j)·2)·π),
 *                        out = [t, sin f, cos f]        (ADP time, NumberConditioner)
 * The float32 rounding order follows the PyTorch expressions so results match to the ulp. */
#include <math.h>

#include "core/assert.h"
#include "device/dispatch.h"
#include "ops/ops.h"

#define TWO_PI_F 6.2831853071795864769f
#define PI_F 3.14159265358979323846f

static float fourier_angle(float t, float w, int kind) {
    return kind == DS_FOURIER_COS_SIN ? (TWO_PI_F * t) * w : ((t * w) * 2.0f) * PI_F;
}

static void fourier_backward(ds_rec *r) {
    ds_tensor *t = r->in[0], *w = r->in[1];
    int kind = (int)r->i[0];
    int64_t B = ds_numel(t), F = ds_numel(w), W = r->out->shape[1];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->fourier_bwd(r->dev, kind, t->data, w->data, r->out->grad, ds_grad_or_null(t), ds_grad_or_null(w), B, F);
        return;
    }
    for (int64_t b = 0; b < B; b++) {
        const float *dy = r->out->grad + b * W;
        float tb = t->data[b];
        for (int64_t j = 0; j < F; j++) {
            float f = fourier_angle(tb, w->data[j], kind);
            float df; /* d out / d f combined with upstream */
            if (kind == DS_FOURIER_COS_SIN)
                df = -sinf(f) * dy[j] + cosf(f) * dy[F + j];
            else
                df = cosf(f) * dy[1 + j] - sinf(f) * dy[1 + F + j];
            /* df/dw = 2π·t for both kinds */
            if (w->requires_grad) w->grad[j] += df * TWO_PI_F * tb;
            if (t->requires_grad) t->grad[b] += df * TWO_PI_F * w->data[j];
        }
        if (t->requires_grad && kind == DS_FOURIER_X_SIN_COS) t->grad[b] += dy[0];
    }
}

ds_tensor *ds_fourier(ds_ctx *c, ds_tensor *t, ds_tensor *w, ds_fourier_kind kind) {
    int64_t B = ds_numel(t), F = ds_numel(w);
    int64_t W = kind == DS_FOURIER_COS_SIN ? 2 * F : 2 * F + 1;
    ds_tensor *y = ds_new2(c, B, W);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv)
        dv->fourier_fwd(c->dev, kind, t->data, w->data, y->data, B, F);
    else if (!c->dry)
        for (int64_t b = 0; b < B; b++) {
            float *o = y->data + b * W, tb = t->data[b];
            if (kind == DS_FOURIER_COS_SIN) {
                for (int64_t j = 0; j < F; j++) {
                    float f = fourier_angle(tb, w->data[j], kind);
                    o[j] = cosf(f);
                    o[F + j] = sinf(f);
                }
            } else {
                o[0] = tb;
                for (int64_t j = 0; j < F; j++) {
                    float f = fourier_angle(tb, w->data[j], kind);
                    o[1 + j] = sinf(f);
                    o[1 + F + j] = cosf(f);
                }
            }
        }
    ds_rec *r = ds_record(c, "fourier", fourier_backward, y, 2, (ds_tensor *[]){t, w});
    if (r) r->i[0] = kind;
    return y;
}

static void embedding_backward(ds_rec *r) {
    ds_tensor *table = r->in[0];
    const int64_t *idx = r->p;
    int64_t B = r->i[0], E = table->shape[1];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) { /* saved[0]: the indices on the device */
        dv->embed_bwd(r->dev, r->saved[0]->data, r->out->grad, table->grad, B, E);
        return;
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t e = 0; e < E; e++) table->grad[idx[b] * E + e] += r->out->grad[b * E + e];
}

ds_tensor *ds_embedding(ds_ctx *c, ds_tensor *table, const int64_t *idx, int64_t B) {
    DS_ASSERT(table->ndim == 2);
    int64_t V = table->shape[0], E = table->shape[1];
    ds_tensor *y = ds_new2(c, B, E);
    int64_t *saved = (int64_t *)ds_arena_alloc(&c->meta, (size_t)(B ? B : 1) * sizeof(int64_t));
    for (int64_t b = 0; b < B; b++) {
        DS_ASSERTF(idx[b] >= 0 && idx[b] < V, "embedding: index %lld outside the table of %lld rows",
                   (long long)idx[b], (long long)V);
        saved[b] = idx[b];
    }
    const ds_dev_ops *dv = ds_ops_of(c);
    ds_tensor *di = NULL; /* devices: the indices staged like any host value */
    if (dv) {
        di = ds_new1(c, B);
        float *h = ds_host_begin(c, di);
        for (int64_t b = 0; h && b < B; b++) h[b] = (float)idx[b];
        ds_host_commit(c, di);
    }
    if (!c->dry && dv)
        dv->embed_fwd(c->dev, table->data, di->data, y->data, B, E);
    else if (!c->dry)
        for (int64_t b = 0; b < B; b++)
            for (int64_t e = 0; e < E; e++) y->data[b * E + e] = table->data[idx[b] * E + e];
    ds_rec *r = ds_record(c, "embedding", embedding_backward, y, 1, (ds_tensor *[]){table});
    if (r) {
        r->i[0] = B;
        r->p = saved;
        r->saved[0] = di;
    }
    return y;
}
