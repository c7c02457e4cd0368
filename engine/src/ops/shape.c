/* Shape ops: reshape (a view), permute, concat, slice, resize, repeat. */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "ops/ops.h"

ds_tensor *ds_reshape(ds_ctx *c, ds_tensor *x, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    DS_ASSERTF(n == ds_numel(x), "reshape: %lld elements into %lld", (long long)ds_numel(x), (long long)n);
    ds_tensor *v = ds_wrap(c, x->data, ndim, shape, x->requires_grad);
    v->base = x->base ? x->base : x;
    v->grad = x->grad;
    return v;
}
ds_tensor *ds_reshape2(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1) {
    return ds_reshape(c, x, 2, (int64_t[]){d0, d1});
}
ds_tensor *ds_reshape3(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1, int64_t d2) {
    return ds_reshape(c, x, 3, (int64_t[]){d0, d1, d2});
}
ds_tensor *ds_reshape4(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    return ds_reshape(c, x, 4, (int64_t[]){d0, d1, d2, d3});
}

/* ---------- permute ---------- */

typedef struct perm_job {
    int64_t os[4];  /* output shape (4-D padded) */
    int64_t is[4];  /* input strides seen from output dims */
    const float *src;
    float *dst;
    bool backward; /* dst[in_idx] += src[out_idx] instead of dst[out_idx] = src[in_idx] */
} perm_job;

static void perm_range(void *arg, int64_t s0, int64_t s1) {
    const perm_job *j = arg;
    for (int64_t s = s0; s < s1; s++) {
        int64_t i0 = s / j->os[1], i1 = s % j->os[1];
        int64_t o = s * j->os[2] * j->os[3];
        for (int64_t i2 = 0; i2 < j->os[2]; i2++) {
            int64_t ib = i0 * j->is[0] + i1 * j->is[1] + i2 * j->is[2];
            if (j->backward)
                for (int64_t i3 = 0; i3 < j->os[3]; i3++) j->dst[ib + i3 * j->is[3]] += j->src[o + i3];
            else
                for (int64_t i3 = 0; i3 < j->os[3]; i3++) j->dst[o + i3] = j->src[ib + i3 * j->is[3]];
            o += j->os[3];
        }
    }
}

static perm_job perm_setup(const ds_tensor *x, const int *perm) {
    perm_job j;
    int nd = x->ndim, off = 4 - nd;
    int64_t strides[4];
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        strides[i] = s;
        s *= x->shape[i];
    }
    for (int i = 0; i < 4; i++) {
        j.os[i] = 1;
        j.is[i] = 0;
    }
    for (int i = 0; i < nd; i++) {
        j.os[off + i] = x->shape[perm[i]];
        j.is[off + i] = strides[perm[i]];
    }
    return j;
}

static void permute_backward(ds_rec *r) {
    int perm[4] = {(int)r->i[0], (int)r->i[1], (int)r->i[2], (int)r->i[3]};
    perm_job j = perm_setup(r->in[0], perm);
    j.src = r->out->grad;
    j.dst = r->in[0]->grad;
    j.backward = true;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->permute(r->dev, j.os, j.is, j.src, j.dst, true);
        return;
    }
    /* Different output slabs map to disjoint input elements: safe to thread. */
    ds_parallel_for(j.os[0] * j.os[1], 1, perm_range, &j);
}

ds_tensor *ds_permute(ds_ctx *c, ds_tensor *x, const int *perm) {
    int64_t shape[4];
    int seen = 0;
    for (int i = 0; i < x->ndim; i++) {
        DS_ASSERT(perm[i] >= 0 && perm[i] < x->ndim && !(seen & (1 << perm[i])));
        seen |= 1 << perm[i];
        shape[i] = x->shape[perm[i]];
    }
    ds_tensor *y = ds_new(c, x->ndim, shape);
    if (!c->dry) {
        perm_job j = perm_setup(x, perm);
        j.src = x->data;
        j.dst = y->data;
        j.backward = false;
        const ds_dev_ops *dv = ds_ops_of(c);
        if (dv)
            dv->permute(c->dev, j.os, j.is, j.src, j.dst, false);
        else
            ds_parallel_for(j.os[0] * j.os[1], 1, perm_range, &j);
    }
    ds_rec *r = ds_record(c, "permute", permute_backward, y, 1, (ds_tensor *[]){x});
    if (r)
        for (int i = 0; i < 4; i++) r->i[i] = i < x->ndim ? perm[i] : i;
    return y;
}

ds_tensor *ds_transpose12(ds_ctx *c, ds_tensor *x) {
    DS_ASSERT(x->ndim == 3);
    return ds_permute(c, x, (int[]){0, 2, 1});
}

/* ---------- concat / slice ---------- */

/* Geometry of a dim split: outer = prod(shape[:dim]), inner = prod(shape[dim+1:]). */
static void split_dims(const ds_tensor *x, int dim, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < dim; i++) *outer *= x->shape[i];
    for (int i = dim + 1; i < x->ndim; i++) *inner *= x->shape[i];
}

static void concat_backward(ds_rec *r) {
    int dim = (int)r->i[0];
    int64_t outer, inner;
    split_dims(r->out, dim, &outer, &inner);
    int64_t total = r->out->shape[dim], off = 0;
    const ds_dev_ops *dv = ds_ops_rec(r);
    for (int k = 0; k < DS_REC_MAX_IN && r->in[k]; k++) {
        ds_tensor *x = r->in[k];
        int64_t len = x->shape[dim];
        if (x->requires_grad && dv)
            dv->copy2d(r->dev, x->grad, len * inner, r->out->grad + off * inner, total * inner, outer, len * inner, true);
        else if (x->requires_grad)
            for (int64_t o = 0; o < outer; o++) {
                const float *src = r->out->grad + (o * total + off) * inner;
                float *dst = x->grad + o * len * inner;
                for (int64_t i = 0; i < len * inner; i++) dst[i] += src[i];
            }
        off += len;
    }
}

ds_tensor *ds_concat(ds_ctx *c, int dim, int n, ds_tensor *const *xs) {
    ds_tensor *in[DS_REC_MAX_IN] = {0};
    int m = 0;
    for (int k = 0; k < n; k++)
        if (xs[k]) {
            DS_ASSERTF(m < DS_REC_MAX_IN, "concat: more than %d inputs", DS_REC_MAX_IN);
            in[m++] = xs[k];
        }
    DS_ASSERT(m > 0);
    if (dim < 0) dim += in[0]->ndim;
    int64_t shape[4];
    memcpy(shape, in[0]->shape, sizeof shape);
    shape[dim] = 0;
    for (int k = 0; k < m; k++) {
        DS_ASSERT(in[k]->ndim == in[0]->ndim);
        for (int i = 0; i < in[0]->ndim; i++)
            DS_ASSERTF(i == dim || in[k]->shape[i] == in[0]->shape[i], "concat: dim %d differs", i);
        shape[dim] += in[k]->shape[dim];
    }
    if (m == 1) return in[0];
    ds_tensor *y = ds_new(c, in[0]->ndim, shape);
    if (!c->dry) {
        int64_t outer, inner;
        split_dims(y, dim, &outer, &inner);
        int64_t off = 0;
        const ds_dev_ops *dv = ds_ops_of(c);
        for (int k = 0; k < m; k++) {
            int64_t len = in[k]->shape[dim];
            if (dv)
                dv->copy2d(c->dev, y->data + off * inner, shape[dim] * inner, in[k]->data, len * inner, outer,
                           len * inner, false);
            else
                for (int64_t o = 0; o < outer; o++)
                memcpy(y->data + (o * shape[dim] + off) * inner, in[k]->data + o * len * inner,
                       (size_t)(len * inner) * sizeof(float));
            off += len;
        }
    }
    ds_rec *r = ds_record(c, "concat", concat_backward, y, m, in);
    if (r) r->i[0] = dim;
    return y;
}

static void slice_backward(ds_rec *r) {
    int dim = (int)r->i[0];
    int64_t start = r->i[1];
    ds_tensor *x = r->in[0];
    int64_t outer, inner;
    split_dims(x, dim, &outer, &inner);
    int64_t len = r->out->shape[dim], total = x->shape[dim];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->copy2d(r->dev, x->grad + start * inner, total * inner, r->out->grad, len * inner, outer, len * inner, true);
        return;
    }
    for (int64_t o = 0; o < outer; o++) {
        const float *src = r->out->grad + o * len * inner;
        float *dst = x->grad + (o * total + start) * inner;
        for (int64_t i = 0; i < len * inner; i++) dst[i] += src[i];
    }
}

ds_tensor *ds_slice(ds_ctx *c, ds_tensor *x, int dim, int64_t start, int64_t len) {
    if (dim < 0) dim += x->ndim;
    DS_ASSERT(start >= 0 && len >= 0 && start + len <= x->shape[dim]);
    int64_t shape[4];
    memcpy(shape, x->shape, sizeof shape);
    shape[dim] = len;
    ds_tensor *y = ds_new(c, x->ndim, shape);
    if (!c->dry) {
        int64_t outer, inner;
        split_dims(x, dim, &outer, &inner);
        const ds_dev_ops *dv = ds_ops_of(c);
        if (dv)
            dv->copy2d(c->dev, y->data, len * inner, x->data + start * inner, x->shape[dim] * inner, outer, len * inner,
                       false);
        else
            for (int64_t o = 0; o < outer; o++)
                memcpy(y->data + o * len * inner, x->data + (o * x->shape[dim] + start) * inner,
                   (size_t)(len * inner) * sizeof(float));
    }
    ds_rec *r = ds_record(c, "slice", slice_backward, y, 1, (ds_tensor *[]){x});
    if (r) {
        r->i[0] = dim;
        r->i[1] = start;
    }
    return y;
}

/* ---------- resize along time ---------- */

/* PyTorch nearest: scale = (float)Ti / T computed in float, src = min(floor(j * scale), Ti-1). */
static int64_t nearest_src(int64_t j, int64_t Ti, int64_t T) {
    float scale = (float)Ti / (float)T;
    int64_t s = (int64_t)floorf((float)j * scale);
    return s < Ti - 1 ? s : Ti - 1;
}

static void resize_nearest_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    int64_t rows = x->shape[0] * x->shape[1], Ti = x->shape[2], T = r->out->shape[2];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->resize(r->dev, 0, true, r->out->grad, x->grad, rows, Ti, T);
        return;
    }
    for (int64_t q = 0; q < rows; q++)
        for (int64_t j = 0; j < T; j++) x->grad[q * Ti + nearest_src(j, Ti, T)] += r->out->grad[q * T + j];
}

ds_tensor *ds_resize_nearest(ds_ctx *c, ds_tensor *x, int64_t T) {
    DS_ASSERT(x->ndim == 3);
    int64_t Ti = x->shape[2];
    if (Ti == T) return x;
    ds_tensor *y = ds_new3(c, x->shape[0], x->shape[1], T);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->resize(c->dev, 0, false, x->data, y->data, x->shape[0] * x->shape[1], Ti, T);
    } else if (!c->dry) {
        int64_t rows = x->shape[0] * x->shape[1];
        for (int64_t q = 0; q < rows; q++)
            for (int64_t j = 0; j < T; j++) y->data[q * T + j] = x->data[q * Ti + nearest_src(j, Ti, T)];
    }
    ds_record(c, "resize_nearest", resize_nearest_backward, y, 1, (ds_tensor *[]){x});
    return y;
}

/* PyTorch linear, align_corners=False: src = max((j + 0.5) * Ti/T - 0.5, 0);
 * i0 = floor(src), i1 = min(i0 + 1, Ti - 1), l1 = src - i0, l0 = 1 - l1. */
static void linear_src(int64_t j, int64_t Ti, int64_t T, int64_t *i0, int64_t *i1, float *l0, float *l1) {
    float scale = (float)Ti / (float)T;
    float src = scale * ((float)j + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    *i0 = (int64_t)src;
    *i1 = *i0 + (*i0 < Ti - 1 ? 1 : 0);
    *l1 = src - (float)*i0;
    *l0 = 1.0f - *l1;
}

static void resize_linear_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    int64_t rows = x->shape[0] * x->shape[1], Ti = x->shape[2], T = r->out->shape[2];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->resize(r->dev, 1, true, r->out->grad, x->grad, rows, Ti, T);
        return;
    }
    for (int64_t q = 0; q < rows; q++)
        for (int64_t j = 0; j < T; j++) {
            int64_t i0, i1;
            float l0, l1;
            linear_src(j, Ti, T, &i0, &i1, &l0, &l1);
            float g = r->out->grad[q * T + j];
            x->grad[q * Ti + i0] += l0 * g;
            x->grad[q * Ti + i1] += l1 * g;
        }
}

ds_tensor *ds_resize_linear(ds_ctx *c, ds_tensor *x, int64_t T) {
    DS_ASSERT(x->ndim == 3);
    int64_t Ti = x->shape[2];
    if (Ti == T) return x;
    ds_tensor *y = ds_new3(c, x->shape[0], x->shape[1], T);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->resize(c->dev, 1, false, x->data, y->data, x->shape[0] * x->shape[1], Ti, T);
    } else if (!c->dry) {
        int64_t rows = x->shape[0] * x->shape[1];
        for (int64_t q = 0; q < rows; q++)
            for (int64_t j = 0; j < T; j++) {
                int64_t i0, i1;
                float l0, l1;
                linear_src(j, Ti, T, &i0, &i1, &l0, &l1);
                y->data[q * T + j] = l0 * x->data[q * Ti + i0] + l1 * x->data[q * Ti + i1];
            }
    }
    ds_record(c, "resize_linear", resize_linear_backward, y, 1, (ds_tensor *[]){x});
    return y;
}

/* ---------- reflect padding ---------- */

static int64_t reflect_src(int64_t j, int64_t left, int64_t T) {
    int64_t i = j - left;
    if (i < 0) return -i;
    if (i >= T) return 2 * (T - 1) - i;
    return i;
}

typedef struct pad_job {
    const float *src;
    float *dst;
    int64_t T, To, left;
    bool backward; /* dst = dx [rows, T] += src = dy [rows, To] */
} pad_job;

static void pad_rows(void *arg, int64_t r0, int64_t r1) {
    const pad_job *j = arg;
    for (int64_t q = r0; q < r1; q++) {
        if (j->backward) {
            const float *dy = j->src + q * j->To;
            float *dx = j->dst + q * j->T;
            for (int64_t o = 0; o < j->To; o++) dx[reflect_src(o, j->left, j->T)] += dy[o];
        } else {
            const float *x = j->src + q * j->T;
            float *y = j->dst + q * j->To;
            for (int64_t o = 0; o < j->left; o++) y[o] = x[reflect_src(o, j->left, j->T)];
            memcpy(y + j->left, x, (size_t)j->T * sizeof(float));
            for (int64_t o = j->left + j->T; o < j->To; o++) y[o] = x[reflect_src(o, j->left, j->T)];
        }
    }
}

static void pad_reflect_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    int64_t T = ds_dim(x, -1);
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->pad_reflect(r->dev, true, r->out->grad, x->grad, ds_numel(x) / T, T, ds_dim(r->out, -1), r->i[0]);
        return;
    }
    pad_job j = {r->out->grad, x->grad, T, ds_dim(r->out, -1), r->i[0], true};
    ds_parallel_for(ds_numel(x) / T, 16, pad_rows, &j);
}

ds_tensor *ds_pad_reflect(ds_ctx *c, ds_tensor *x, int left, int right) {
    int64_t T = ds_dim(x, -1);
    DS_ASSERTF(left >= 0 && right >= 0 && left < T && right < T,
               "reflect padding (%d, %d) needs an input longer than the padding, got %lld", left, right, (long long)T);
    int64_t shape[4];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = T + left + right;
    ds_tensor *y = ds_new(c, x->ndim, shape);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->pad_reflect(c->dev, false, x->data, y->data, ds_numel(x) / T, T, T + left + right, left);
    } else if (!c->dry) {
        pad_job j = {x->data, y->data, T, T + left + right, left, false};
        ds_parallel_for(ds_numel(x) / T, 16, pad_rows, &j);
    }
    ds_rec *r = ds_record(c, "pad_reflect", pad_reflect_backward, y, 1, (ds_tensor *[]){x});
    if (r) r->i[0] = left;
    return y;
}

static void repeat0_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    int64_t n = ds_numel(x);
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        for (int64_t t = 0; t < r->i[0]; t++) dv->copy2d(r->dev, x->grad, n, r->out->grad + t * n, n, 1, n, true);
        return;
    }
    for (int64_t t = 0; t < r->i[0]; t++)
        for (int64_t i = 0; i < n; i++) x->grad[i] += r->out->grad[t * n + i];
}

ds_tensor *ds_repeat0(ds_ctx *c, ds_tensor *x, int times) {
    if (times == 1) return x;
    int64_t shape[4];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] *= times;
    ds_tensor *y = ds_new(c, x->ndim, shape);
    if (!c->dry) {
        int64_t n = ds_numel(x);
        const ds_dev_ops *dv = ds_ops_of(c);
        if (dv) /* source row stride 0: the same row `times` times */
            dv->copy2d(c->dev, y->data, n, x->data, 0, times, n, false);
        else
            for (int t = 0; t < times; t++) memcpy(y->data + t * n, x->data, (size_t)n * sizeof(float));
    }
    ds_rec *r = ds_record(c, "repeat0", repeat0_backward, y, 1, (ds_tensor *[]){x});
    if (r) r->i[0] = times;
    return y;
}
