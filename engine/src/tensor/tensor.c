#include "tensor/tensor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/assert.h"

void ds_ctx_init(ds_ctx *c) {
    memset(c, 0, sizeof *c);
    ds_arena_init(&c->arena);
    ds_arena_init(&c->meta);
}

void ds_ctx_free(ds_ctx *c) {
    ds_arena_free(&c->arena);
    ds_arena_free(&c->meta);
    memset(c, 0, sizeof *c);
}

void ds_ctx_reset(ds_ctx *c) {
    c->tape = NULL;
    c->tape_len = 0;
    ds_arena_reset(&c->arena);
    ds_arena_reset(&c->meta);
}

void ds_ctx_set_dry(ds_ctx *c, bool dry) {
    ds_ctx_reset(c);
    bool was_dry = c->dry;
    c->dry = dry;
    c->arena.counting = dry;
    /* Leaving planning mode: make the block as large as the plan needs. */
    if (was_dry && !dry) ds_arena_reserve(&c->arena, c->arena.peak);
}

static void *meta_alloc(ds_ctx *c, size_t bytes) { return ds_arena_alloc(&c->meta, bytes); }

ds_tensor *ds_new(ds_ctx *c, int ndim, const int64_t *shape) {
    DS_ASSERT(ndim >= 0 && ndim <= DS_MAX_DIMS);
    ds_tensor *t = meta_alloc(c, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        DS_ASSERT(shape[i] >= 0);
        t->shape[i] = shape[i];
    }
    t->data = ds_arena_alloc(&c->arena, (size_t)ds_numel(t) * sizeof(float));
    return t;
}

ds_tensor *ds_new_zeros(ds_ctx *c, int ndim, const int64_t *shape) {
    ds_tensor *t = ds_new(c, ndim, shape);
    if (t->data) memset(t->data, 0, (size_t)ds_numel(t) * sizeof(float));
    return t;
}

ds_tensor *ds_new1(ds_ctx *c, int64_t d0) { return ds_new(c, 1, (int64_t[]){d0}); }
ds_tensor *ds_new2(ds_ctx *c, int64_t d0, int64_t d1) { return ds_new(c, 2, (int64_t[]){d0, d1}); }
ds_tensor *ds_new3(ds_ctx *c, int64_t d0, int64_t d1, int64_t d2) {
    return ds_new(c, 3, (int64_t[]){d0, d1, d2});
}
ds_tensor *ds_new4(ds_ctx *c, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    return ds_new(c, 4, (int64_t[]){d0, d1, d2, d3});
}
ds_tensor *ds_new_like(ds_ctx *c, const ds_tensor *t) { return ds_new(c, t->ndim, t->shape); }

ds_tensor *ds_wrap(ds_ctx *c, float *data, int ndim, const int64_t *shape, bool requires_grad) {
    DS_ASSERT(ndim >= 0 && ndim <= DS_MAX_DIMS);
    ds_tensor *t = meta_alloc(c, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->data = data;
    t->requires_grad = requires_grad;
    return t;
}

float *ds_scratch(ds_ctx *c, int64_t n) {
    return ds_arena_alloc(&c->arena, (size_t)(n > 0 ? n : 1) * sizeof(float));
}

static float g_dry_marker;

float *ds_grad(ds_ctx *c, ds_tensor *t) {
    if (t->grad) return t->grad;
    if (t->base) {
        t->grad = ds_grad(c, t->base);
        return t->grad;
    }
    t->grad = ds_arena_calloc(&c->arena, (size_t)ds_numel(t) * sizeof(float));
    /* Planning: the arena hands out no memory; mark the gradient as present (never
     * dereferenced while dry) so that each buffer is counted once, as in a real pass. */
    if (!t->grad && c->dry) t->grad = &g_dry_marker;
    return t->grad;
}

ds_rec *ds_record(ds_ctx *c, const char *op, ds_backward_fn bw, ds_tensor *out, int n,
                  ds_tensor *const *in) {
    if (!c->grad) return NULL;
    bool any = false;
    for (int k = 0; k < n; k++)
        if (in[k] && in[k]->requires_grad) any = true;
    if (!any) return NULL;
    DS_ASSERT(n <= DS_REC_MAX_IN);
    ds_rec *r = meta_alloc(c, sizeof *r);
    memset(r, 0, sizeof *r);
    r->backward = bw;
    r->op = op;
    r->out = out;
    for (int k = 0; k < n; k++) r->in[k] = in[k];
    r->prev = c->tape;
    c->tape = r;
    c->tape_len++;
    out->requires_grad = true;
    return r;
}

void ds_backward(ds_ctx *c, ds_tensor *out, const float *dout) {
    float *g = ds_grad(c, out);
    if (!c->dry) {
        int64_t n = ds_numel(out);
        for (int64_t i = 0; i < n; i++) g[i] += dout ? dout[i] : 1.0f;
    }
    for (ds_rec *r = c->tape; r; r = r->prev) {
        /* Skip records whose output received no gradient (a branch not used by `out`). */
        ds_tensor *o = r->out;
        if (!o->grad && !(o->base && o->base->grad)) continue;
        if (!o->grad) ds_grad(c, o);
        for (int k = 0; k < DS_REC_MAX_IN; k++)
            if (r->in[k] && r->in[k]->requires_grad) ds_grad(c, r->in[k]);
        if (!c->dry) r->backward(r);
    }
}

bool ds_same_shape(const ds_tensor *a, const ds_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *ds_shape_str(const ds_tensor *t, char *buf, size_t n) {
    size_t off = 0;
    off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < t->ndim && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

