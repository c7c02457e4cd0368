/* Elementwise ops: add, sub, mul (same shape and broadcasting), affine, SiLU, GELU, sigmoid,
 * SwiGLU, adaLN modulation. Forwards are threaded over elements; broadcast reductions in
 * backward run over the output once. */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "ops/kernels.h"
#include "ops/ops.h"

#define GRAIN 16384

/* ---------- same-shape binary ---------- */

enum { BIN_ADD, BIN_SUB, BIN_MUL };

typedef struct bin_job {
    int kind;
    const float *a, *b;
    float *y;
} bin_job;

static void bin_range(void *arg, int64_t i0, int64_t i1) {
    const bin_job *j = arg;
    const float *a = j->a, *b = j->b;
    float *y = j->y;
    switch (j->kind) {
    case BIN_ADD: for (int64_t i = i0; i < i1; i++) y[i] = a[i] + b[i]; break;
    case BIN_SUB: for (int64_t i = i0; i < i1; i++) y[i] = a[i] - b[i]; break;
    case BIN_MUL: for (int64_t i = i0; i < i1; i++) y[i] = a[i] * b[i]; break;
    }
}

typedef struct bin_bw_job {
    int kind;
    const float *a, *b, *dy;
    float *da, *db;
} bin_bw_job;

static void bin_bw_range(void *arg, int64_t i0, int64_t i1) {
    const bin_bw_job *j = arg;
    for (int64_t i = i0; i < i1; i++) {
        float g = j->dy[i];
        switch (j->kind) {
        case BIN_ADD:
            if (j->da) j->da[i] += g;
            if (j->db) j->db[i] += g;
            break;
        case BIN_SUB:
            if (j->da) j->da[i] += g;
            if (j->db) j->db[i] -= g;
            break;
        case BIN_MUL:
            if (j->da) j->da[i] += g * j->b[i];
            if (j->db) j->db[i] += g * j->a[i];
            break;
        }
    }
}

static void binary_backward(ds_rec *r) {
    ds_tensor *a = r->in[0], *b = r->in[1];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->binary_bwd(r->dev, (int)r->i[0], a->data, b->data, r->out->grad, ds_grad_or_null(a), ds_grad_or_null(b),
                       ds_numel(r->out));
        return;
    }
    bin_bw_job j = {(int)r->i[0], a->data, b->data, r->out->grad, a->requires_grad ? a->grad : NULL,
                    b->requires_grad ? b->grad : NULL};
    ds_parallel_for(ds_numel(r->out), GRAIN, bin_bw_range, &j);
}

static ds_tensor *binary(ds_ctx *c, int kind, ds_tensor *a, ds_tensor *b, const char *name) {
    DS_ASSERTF(ds_same_shape(a, b), "%s: shapes differ", name);
    ds_tensor *y = ds_new_like(c, a);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->binary_fwd(c->dev, kind, a->data, b->data, y->data, ds_numel(y));
    } else if (!c->dry) {
        bin_job j = {kind, a->data, b->data, y->data};
        ds_parallel_for(ds_numel(y), GRAIN, bin_range, &j);
    }
    ds_rec *r = ds_record(c, name, binary_backward, y, 2, (ds_tensor *[]){a, b});
    if (r) r->i[0] = kind;
    return y;
}

ds_tensor *ds_add(ds_ctx *c, ds_tensor *a, ds_tensor *b) { return binary(c, BIN_ADD, a, b, "add"); }
ds_tensor *ds_sub(ds_ctx *c, ds_tensor *a, ds_tensor *b) { return binary(c, BIN_SUB, a, b, "sub"); }
ds_tensor *ds_mul(ds_ctx *c, ds_tensor *a, ds_tensor *b) { return binary(c, BIN_MUL, a, b, "mul"); }

/* ---------- broadcasting ---------- */

static ds_bcast bcast_of(const ds_tensor *a, const ds_tensor *b) {
    DS_ASSERTF(a->ndim == b->ndim, "broadcast: ndim %d vs %d", a->ndim, b->ndim);
    ds_bcast g;
    int64_t ea[4] = {1, 1, 1, 1}, eb[4] = {1, 1, 1, 1};
    int off = 4 - a->ndim;
    for (int i = 0; i < a->ndim; i++) {
        ea[off + i] = a->shape[i];
        eb[off + i] = b->shape[i];
        DS_ASSERTF(ea[off + i] == eb[off + i] || ea[off + i] == 1 || eb[off + i] == 1,
                   "broadcast: dim %d is %lld vs %lld", i, (long long)a->shape[i], (long long)b->shape[i]);
    }
    int64_t sa = 1, sb = 1;
    for (int i = 3; i >= 0; i--) {
        g.out[i] = ea[i] > eb[i] ? ea[i] : eb[i];
        g.sa[i] = ea[i] == 1 ? 0 : sa;
        g.sb[i] = eb[i] == 1 ? 0 : sb;
        sa *= ea[i];
        sb *= eb[i];
    }
    return g;
}

typedef struct bc_job {
    int kind;
    ds_bcast g;
    const float *a, *b;
    float *y;
} bc_job;

/* One job item = one (d0, d1) slab of the 4-D output. */
static void bc_range(void *arg, int64_t s0, int64_t s1) {
    const bc_job *j = arg;
    const ds_bcast *g = &j->g;
    for (int64_t s = s0; s < s1; s++) {
        int64_t i0 = s / g->out[1], i1 = s % g->out[1];
        float *y = j->y + s * g->out[2] * g->out[3];
        for (int64_t i2 = 0; i2 < g->out[2]; i2++) {
            const float *a = j->a + i0 * g->sa[0] + i1 * g->sa[1] + i2 * g->sa[2];
            const float *b = j->b + i0 * g->sb[0] + i1 * g->sb[1] + i2 * g->sb[2];
            int64_t n = g->out[3], ta = g->sa[3], tb = g->sb[3];
            if (j->kind == BIN_ADD)
                for (int64_t i3 = 0; i3 < n; i3++) y[i3] = a[i3 * ta] + b[i3 * tb];
            else
                for (int64_t i3 = 0; i3 < n; i3++) y[i3] = a[i3 * ta] * b[i3 * tb];
            y += n;
        }
    }
}

static void bc_backward(ds_rec *r) {
    ds_tensor *a = r->in[0], *b = r->in[1];
    int kind = (int)r->i[0];
    ds_bcast g = bcast_of(a, b);
    const float *dy = r->out->grad;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->bcast_bwd(r->dev, kind, &g, a->data, b->data, dy, ds_grad_or_null(a), ds_grad_or_null(b));
        return;
    }
    int64_t idx = 0;
    for (int64_t i0 = 0; i0 < g.out[0]; i0++)
        for (int64_t i1 = 0; i1 < g.out[1]; i1++)
            for (int64_t i2 = 0; i2 < g.out[2]; i2++)
                for (int64_t i3 = 0; i3 < g.out[3]; i3++, idx++) {
                    int64_t ia = i0 * g.sa[0] + i1 * g.sa[1] + i2 * g.sa[2] + i3 * g.sa[3];
                    int64_t ib = i0 * g.sb[0] + i1 * g.sb[1] + i2 * g.sb[2] + i3 * g.sb[3];
                    float d = dy[idx];
                    if (kind == BIN_ADD) {
                        if (a->requires_grad) a->grad[ia] += d;
                        if (b->requires_grad) b->grad[ib] += d;
                    } else {
                        if (a->requires_grad) a->grad[ia] += d * b->data[ib];
                        if (b->requires_grad) b->grad[ib] += d * a->data[ia];
                    }
                }
}

static ds_tensor *bcast_binary(ds_ctx *c, int kind, ds_tensor *a, ds_tensor *b, const char *name) {
    ds_bcast g = bcast_of(a, b);
    int64_t shape[4];
    for (int i = 0; i < a->ndim; i++) shape[i] = g.out[4 - a->ndim + i];
    ds_tensor *y = ds_new(c, a->ndim, shape);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->bcast_fwd(c->dev, kind, &g, a->data, b->data, y->data);
    } else if (!c->dry) {
        bc_job j = {kind, g, a->data, b->data, y->data};
        ds_parallel_for(g.out[0] * g.out[1], 1, bc_range, &j);
    }
    ds_rec *r = ds_record(c, name, bc_backward, y, 2, (ds_tensor *[]){a, b});
    if (r) r->i[0] = kind;
    return y;
}

ds_tensor *ds_add_bc(ds_ctx *c, ds_tensor *a, ds_tensor *b) { return bcast_binary(c, BIN_ADD, a, b, "add_bc"); }
ds_tensor *ds_mul_bc(ds_ctx *c, ds_tensor *a, ds_tensor *b) { return bcast_binary(c, BIN_MUL, a, b, "mul_bc"); }

/* ---------- unary ---------- */

enum { UN_AFFINE, UN_SILU, UN_GELU, UN_SIGMOID };

typedef struct un_job {
    int kind;
    float alpha, beta;
    const float *x, *dy;
    float *y, *dx;
} un_job;

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static void un_range(void *arg, int64_t i0, int64_t i1) {
    const un_job *j = arg;
    const float *x = j->x;
    float *y = j->y;
    switch (j->kind) {
    case UN_AFFINE: for (int64_t i = i0; i < i1; i++) y[i] = j->alpha * x[i] + j->beta; break;
    case UN_SILU: for (int64_t i = i0; i < i1; i++) y[i] = x[i] / (1.0f + expf(-x[i])); break;
    case UN_GELU:
        for (int64_t i = i0; i < i1; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
        break;
    case UN_SIGMOID: for (int64_t i = i0; i < i1; i++) y[i] = sigmoidf(x[i]); break;
    }
}

static void un_bw_range(void *arg, int64_t i0, int64_t i1) {
    const un_job *j = arg;
    const float *x = j->x, *dy = j->dy;
    float *dx = j->dx;
    switch (j->kind) {
    case UN_AFFINE: for (int64_t i = i0; i < i1; i++) dx[i] += j->alpha * dy[i]; break;
    case UN_SILU:
        for (int64_t i = i0; i < i1; i++) {
            float s = sigmoidf(x[i]);
            dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
        break;
    case UN_GELU:
        for (int64_t i = i0; i < i1; i++) {
            float cdf = 0.5f * (1.0f + erff(x[i] * (float)M_SQRT1_2));
            float pdf = expf(-0.5f * x[i] * x[i]) * 0.3989422804014327f;
            dx[i] += dy[i] * (cdf + x[i] * pdf);
        }
        break;
    case UN_SIGMOID:
        for (int64_t i = i0; i < i1; i++) {
            float s = sigmoidf(x[i]);
            dx[i] += dy[i] * s * (1.0f - s);
        }
        break;
    }
}

static void unary_backward(ds_rec *r) {
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->unary_bwd(r->dev, (int)r->i[0], r->f[0], r->in[0]->data, r->out->grad, r->in[0]->grad, ds_numel(r->out));
        return;
    }
    un_job j = {(int)r->i[0], r->f[0], r->f[1], r->in[0]->data, r->out->grad, NULL, r->in[0]->grad};
    ds_parallel_for(ds_numel(r->out), GRAIN, un_bw_range, &j);
}

static ds_tensor *unary(ds_ctx *c, int kind, ds_tensor *x, float alpha, float beta, const char *name) {
    ds_tensor *y = ds_new_like(c, x);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->unary_fwd(c->dev, kind, alpha, beta, x->data, y->data, ds_numel(y));
    } else if (!c->dry) {
        un_job j = {kind, alpha, beta, x->data, NULL, y->data, NULL};
        ds_parallel_for(ds_numel(y), GRAIN, un_range, &j);
    }
    ds_rec *r = ds_record(c, name, unary_backward, y, 1, (ds_tensor *[]){x});
    if (r) {
        r->i[0] = kind;
        r->f[0] = alpha;
        r->f[1] = beta;
    }
    return y;
}

ds_tensor *ds_affine(ds_ctx *c, ds_tensor *x, float alpha, float beta) {
    return unary(c, UN_AFFINE, x, alpha, beta, "affine");
}
ds_tensor *ds_silu(ds_ctx *c, ds_tensor *x) { return unary(c, UN_SILU, x, 0, 0, "silu"); }
ds_tensor *ds_gelu(ds_ctx *c, ds_tensor *x) { return unary(c, UN_GELU, x, 0, 0, "gelu"); }
ds_tensor *ds_sigmoid(ds_ctx *c, ds_tensor *x) { return unary(c, UN_SIGMOID, x, 0, 0, "sigmoid"); }

/* ---------- SwiGLU: y = a * silu(g), h = [a | g] along the last dim ---------- */

typedef struct glu_job {
    const float *h, *dy;
    float *y, *dh;
    int64_t I;
} glu_job;

static void glu_range(void *arg, int64_t r0, int64_t r1) {
    const glu_job *j = arg;
    int64_t I = j->I;
    for (int64_t r = r0; r < r1; r++) {
        const float *a = j->h + r * 2 * I, *g = a + I;
        float *y = j->y + r * I;
        for (int64_t i = 0; i < I; i++) y[i] = a[i] * (g[i] / (1.0f + expf(-g[i])));
    }
}

static void glu_bw_range(void *arg, int64_t r0, int64_t r1) {
    const glu_job *j = arg;
    int64_t I = j->I;
    for (int64_t r = r0; r < r1; r++) {
        const float *a = j->h + r * 2 * I, *g = a + I, *dy = j->dy + r * I;
        float *da = j->dh + r * 2 * I, *dg = da + I;
        for (int64_t i = 0; i < I; i++) {
            float s = sigmoidf(g[i]);
            da[i] += dy[i] * g[i] * s;
            dg[i] += dy[i] * a[i] * s * (1.0f + g[i] * (1.0f - s));
        }
    }
}

static void swiglu_backward(ds_rec *r) {
    int64_t I = r->i[0];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->swiglu_bwd(r->dev, r->in[0]->data, r->out->grad, r->in[0]->grad, ds_numel(r->out) / I, I);
        return;
    }
    glu_job j = {r->in[0]->data, r->out->grad, NULL, r->in[0]->grad, I};
    ds_parallel_for(ds_numel(r->out) / I, 16, glu_bw_range, &j);
}

ds_tensor *ds_swiglu(ds_ctx *c, ds_tensor *h) {
    int64_t W = ds_dim(h, -1);
    DS_ASSERT(W % 2 == 0);
    int64_t shape[4];
    memcpy(shape, h->shape, sizeof shape);
    shape[h->ndim - 1] = W / 2;
    ds_tensor *y = ds_new(c, h->ndim, shape);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->swiglu_fwd(c->dev, h->data, y->data, ds_numel(y) / (W / 2), W / 2);
    } else if (!c->dry) {
        glu_job j = {h->data, NULL, y->data, NULL, W / 2};
        ds_parallel_for(ds_numel(y) / (W / 2), 16, glu_range, &j);
    }
    ds_rec *r = ds_record(c, "swiglu", swiglu_backward, y, 1, (ds_tensor *[]){h});
    if (r) r->i[0] = W / 2;
    return y;
}

/* ---------- adaLN modulation: y = x * (1 + scale) + shift ---------- */

static void modulate_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *s = r->in[1], *h = r->in[2];
    ds_bcast g = bcast_of(x, s);
    const float *dy = r->out->grad;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->modulate_bwd(r->dev, &g, x->data, s->data, dy, ds_grad_or_null(x), ds_grad_or_null(s), ds_grad_or_null(h));
        return;
    }
    int64_t idx = 0;
    for (int64_t i0 = 0; i0 < g.out[0]; i0++)
        for (int64_t i1 = 0; i1 < g.out[1]; i1++)
            for (int64_t i2 = 0; i2 < g.out[2]; i2++)
                for (int64_t i3 = 0; i3 < g.out[3]; i3++, idx++) {
                    int64_t is = i0 * g.sb[0] + i1 * g.sb[1] + i2 * g.sb[2] + i3 * g.sb[3];
                    float d = dy[idx];
                    if (x->requires_grad) x->grad[idx] += d * (1.0f + s->data[is]);
                    if (s->requires_grad) s->grad[is] += d * x->data[idx];
                    if (h->requires_grad) h->grad[is] += d;
                }
}

ds_tensor *ds_modulate(ds_ctx *c, ds_tensor *x, ds_tensor *scale, ds_tensor *shift) {
    DS_ASSERT(ds_same_shape(scale, shift));
    ds_bcast g = bcast_of(x, scale);
    for (int i = 0; i < x->ndim; i++) DS_ASSERT(g.out[4 - x->ndim + i] == x->shape[i]);
    ds_tensor *y = ds_new_like(c, x);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->modulate_fwd(c->dev, &g, x->data, scale->data, shift->data, y->data);
    } else if (!c->dry) {
        int64_t idx = 0;
        for (int64_t i0 = 0; i0 < g.out[0]; i0++)
            for (int64_t i1 = 0; i1 < g.out[1]; i1++)
                for (int64_t i2 = 0; i2 < g.out[2]; i2++) {
                    int64_t base = i0 * g.sb[0] + i1 * g.sb[1] + i2 * g.sb[2];
                    for (int64_t i3 = 0; i3 < g.out[3]; i3++, idx++) {
                        int64_t is = base + i3 * g.sb[3];
                        y->data[idx] = x->data[idx] * (1.0f + scale->data[is]) + shift->data[is];
                    }
                }
    }
    ds_record(c, "modulate", modulate_backward, y, 3, (ds_tensor *[]){x, scale, shift});
    return y;
}
