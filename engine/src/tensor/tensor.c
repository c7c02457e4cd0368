#include "tensor/tensor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "device/device.h"
#include "device/prof.h"

void ds_ctx_init(ds_ctx *c) {
    memset(c, 0, sizeof *c);
    ds_arena_init(&c->arena);
    ds_arena_init(&c->meta);
    ds_arena_init(&c->stage[0]);
    ds_arena_init(&c->stage[1]);
    c->events = -1;
}

void ds_ctx_free(ds_ctx *c) {
    if (c->dev) c->dev->mem->sync(c->dev); /* no copy may still read staging */
    ds_arena_free(&c->arena);
    ds_arena_free(&c->meta);
    ds_arena_free(&c->stage[0]);
    ds_arena_free(&c->stage[1]);
    memset(c, 0, sizeof *c);
}

/* Arena hooks: device memory (arena) and page-locked host memory (staging). */
static void *dev_alloc(void *u, size_t n) { return ds_device_alloc(u, DS_ROLE_ARENA, n); }
static void dev_free(void *u, void *p, size_t n) { ds_device_free(u, DS_ROLE_ARENA, p, n); }
static void dev_zero(void *u, void *p, size_t n) { ((ds_device *)u)->mem->zero(u, p, n); }
static void *stage_alloc(void *u, size_t n) { return ((ds_device *)u)->mem->host_alloc(u, n); }
static void stage_free(void *u, void *p, size_t n) {
    (void)n;
    ((ds_device *)u)->mem->host_free(u, p);
}
static void stage_zero(void *u, void *p, size_t n) {
    (void)u;
    memset(p, 0, n);
}

void ds_ctx_set_device(ds_ctx *c, ds_device *dev, bool overlap) {
    DS_ASSERT(c->arena.used == 0 && c->arena.base == NULL && c->arena.cap == 0);
    c->dev = dev;
    if (!dev) return;
    c->dev_mem = (ds_arena_mem){dev_alloc, dev_free, dev_zero, dev};
    c->stage_mem = (ds_arena_mem){stage_alloc, stage_free, stage_zero, dev};
    c->arena.mem = &c->dev_mem;
    c->stage[0].mem = c->stage[1].mem = &c->stage_mem;
    c->events = -1;
    if (overlap) {
        DS_ASSERTF(dev->next_event + 2 <= DS_DEV_EVENTS, "out of device event slots");
        c->events = dev->next_event;
        dev->next_event += 2;
    }
}

void ds_ctx_reset(ds_ctx *c) {
    c->tape = NULL;
    c->tape_len = 0;
    c->grad_free = NULL;
    ds_arena_reset(&c->arena);
    ds_arena_reset(&c->meta);
    if (!c->dev) return;
    /* Staging: the half just written may still be read by pending copies. With events,
     * mark where the stream is and move to the other half once its own copies are done;
     * without, wait for the stream. */
    ds_device *d = c->dev;
    if (c->events >= 0 && !c->dry) {
        d->mem->event_record(d, c->events + c->stage_i);
        c->stage_i ^= 1;
        d->mem->event_sync(d, c->events + c->stage_i);
    } else if (!c->dry) {
        d->mem->sync(d);
    }
    ds_arena_reset(&c->stage[c->stage_i]);
}

void ds_ctx_set_dry(ds_ctx *c, bool dry) {
    ds_ctx_reset(c);
    bool was_dry = c->dry;
    c->dry = dry;
    c->arena.counting = dry;
    c->stage[0].counting = c->stage[1].counting = dry && !c->replay;
    /* Leaving planning mode: make the block as large as the plan needs. */
    if (was_dry && !dry) {
        ds_arena_reserve(&c->arena, c->arena.peak);
        if (c->dev) {
            size_t peak = c->stage[0].peak > c->stage[1].peak ? c->stage[0].peak : c->stage[1].peak;
            ds_arena_reserve(&c->stage[0], peak);
            ds_arena_reserve(&c->stage[1], peak);
        }
    }
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
    if (t->data) ds_mem_zero(c, t->data, ds_numel(t));
    return t;
}

void ds_mem_zero(ds_ctx *c, float *p, int64_t n) {
    if (!p || n <= 0) return;
    if (c->dev)
        c->dev->mem->zero(c->dev, p, (size_t)n * sizeof(float));
    else
        memset(p, 0, (size_t)n * sizeof(float));
}

/* ---- host <-> tensor ---- */

float *ds_host_scratch(ds_ctx *c, int64_t n) {
    if (!c->dev) return ds_scratch(c, n);
    return ds_arena_alloc(&c->stage[c->stage_i], (size_t)(n > 0 ? n : 1) * sizeof(float));
}

float *ds_host_begin(ds_ctx *c, ds_tensor *t) {
    if (!c->dev) return c->dry ? NULL : t->data;
    float *h = ds_host_scratch(c, ds_numel(t));
    t->host = h;
    return h;
}

void ds_host_commit(ds_ctx *c, ds_tensor *t) {
    if (!c->dev || c->dry || !t->host || !t->data) return;
    c->dev->mem->upload(c->dev, t->data, t->host, (size_t)ds_numel(t) * sizeof(float));
}

ds_tensor *ds_new_from_host(ds_ctx *c, int ndim, const int64_t *shape, const float *src) {
    ds_tensor *t = ds_new(c, ndim, shape);
    float *h = ds_host_begin(c, t);
    if (h) memcpy(h, src, (size_t)ds_numel(t) * sizeof(float));
    ds_host_commit(c, t);
    return t;
}

ds_tensor *ds_new_fill(ds_ctx *c, int ndim, const int64_t *shape, float v) {
    ds_tensor *t = ds_new(c, ndim, shape);
    float *h = ds_host_begin(c, t);
    if (h)
        for (int64_t i = 0; i < ds_numel(t); i++) h[i] = v;
    ds_host_commit(c, t);
    return t;
}

ds_tensor *ds_input(ds_ctx *c, float *data, int ndim, const int64_t *shape, bool requires_grad) {
    if (!c->dev) return ds_wrap(c, data, ndim, shape, requires_grad);
    ds_tensor *t = ds_new_from_host(c, ndim, shape, data);
    t->requires_grad = requires_grad;
    return t;
}

const float *ds_host_view(ds_ctx *c, const ds_tensor *t) {
    if (!c->dev) return t->data;
    if (t->host) return t->host;
    const ds_tensor *b = t->base ? t->base : t;
    if (b->host && b->data == t->data) return b->host;
    float *h = ds_host_scratch(c, ds_numel(t));
    if (!h || !t->data) return NULL;
    c->dev->mem->download(c->dev, h, t->data, (size_t)ds_numel(t) * sizeof(float));
    c->dev->mem->sync(c->dev);
    return h;
}

void ds_to_host(ds_ctx *c, const ds_tensor *t, float *dst) {
    size_t bytes = (size_t)ds_numel(t) * sizeof(float);
    if (!c->dev) {
        if (t->data != dst) memcpy(dst, t->data, bytes);
        return;
    }
    c->dev->mem->download(c->dev, dst, t->data, bytes);
    c->dev->mem->sync(c->dev);
}

void ds_grad_to_host(ds_ctx *c, const ds_tensor *t, float *dst) {
    size_t bytes = (size_t)ds_numel(t) * sizeof(float);
    if (!t->grad) {
        memset(dst, 0, bytes);
        return;
    }
    if (!c->dev) {
        memcpy(dst, t->grad, bytes);
        return;
    }
    c->dev->mem->download(c->dev, dst, t->grad, bytes);
    c->dev->mem->sync(c->dev);
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

/* A free activation-gradient buffer (device contexts), in the meta arena. */
struct ds_grad_block {
    struct ds_grad_block *next;
    float *p; /* NULL while planning */
    size_t bytes;
};

/* A recycled buffer of exactly `bytes`, zeroed, or false. */
static bool grad_reuse(ds_ctx *c, size_t bytes, float **out) {
    for (struct ds_grad_block **pb = &c->grad_free; *pb; pb = &(*pb)->next)
        if ((*pb)->bytes == bytes) {
            struct ds_grad_block *b = *pb;
            *pb = b->next;
            *out = b->p;
            if (b->p) c->dev->mem->zero(c->dev, b->p, bytes);
            return true;
        }
    return false;
}

static void grad_release(ds_ctx *c, ds_tensor *t) {
    if (!t->grad || t->base) return;
    struct ds_grad_block *b = ds_arena_alloc(&c->meta, sizeof *b);
    b->p = t->grad == &g_dry_marker ? NULL : t->grad;
    b->bytes = (size_t)ds_numel(t) * sizeof(float);
    b->next = c->grad_free;
    c->grad_free = b;
}

float *ds_grad(ds_ctx *c, ds_tensor *t) {
    if (t->grad) return t->grad;
    if (t->base) {
        t->grad = ds_grad(c, t->base);
        return t->grad;
    }
    size_t bytes = (size_t)ds_numel(t) * sizeof(float);
    if (c->dev && grad_reuse(c, bytes, &t->grad)) {
        if (!t->grad && c->dry) t->grad = &g_dry_marker;
        return t->grad;
    }
    t->grad = ds_arena_calloc(&c->arena, bytes);
    /* Planning: the arena hands out no memory; mark the gradient as present (never
     * dereferenced while dry) so that each buffer is counted once, as in a real pass. */
    if (!t->grad && c->dry) t->grad = &g_dry_marker;
    return t->grad;
}

ds_rec *ds_record(ds_ctx *c, const char *op, ds_backward_fn bw, ds_tensor *out, int n,
                  ds_tensor *const *in) {
    if (!c->dry) ds_prof_mark(op, false); /* every op calls this once its forward is issued */
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
    r->dev = c->dev;
    r->prev = c->tape;
    c->tape = r;
    c->tape_len++;
    out->requires_grad = true;
    return r;
}

/* g += dout (ones when NULL) on a device, times the loss scale when one is set. */
static void seed_device(ds_ctx *c, float *g, const float *dout, int64_t n) {
    ds_device *d = c->dev;
    const float *dd = NULL;
    if (dout) {
        ds_tensor *t = ds_new1(c, n);
        float *h = ds_host_begin(c, t);
        if (h) memcpy(h, dout, (size_t)n * sizeof(float));
        ds_host_commit(c, t);
        dd = t->data;
    }
    if (c->dry) return;
    if (d->ops) {
        d->ops->seed_grad(d, g, dd, c->loss_scale, n);
        return;
    }
    float sc = c->loss_scale ? *c->loss_scale : 1.0f; /* stand-in: host-addressable */
    for (int64_t i = 0; i < n; i++) g[i] += (dd ? dd[i] : 1.0f) * sc;
}

void ds_backward(ds_ctx *c, ds_tensor *out, const float *dout) {
    float *g = ds_grad(c, out);
    if (c->dev) {
        seed_device(c, g, dout, ds_numel(out));
    } else if (!c->dry) {
        int64_t n = ds_numel(out);
        for (int64_t i = 0; i < n; i++) g[i] += dout ? dout[i] : 1.0f;
    }
    if (!c->dry) ds_prof_mark("loss gradient seed", true);
    for (ds_rec *r = c->tape; r; r = r->prev) {
        /* Skip records whose output received no gradient (a branch not used by `out`). */
        ds_tensor *o = r->out;
        if (!o->grad && !(o->base && o->base->grad)) continue;
        if (!o->grad) ds_grad(c, o);
        for (int k = 0; k < DS_REC_MAX_IN; k++)
            if (r->in[k] && r->in[k]->requires_grad) ds_grad(c, r->in[k]);
        if (!c->dry) {
            r->backward(r);
            ds_prof_mark(r->op, true);
        }
        /* The output's gradient is complete and now consumed: recycle it (devices). Leaves
         * (inputs, parameters) have no record, so their gradients stay for the caller. */
        if (c->dev && o != out) grad_release(c, o);
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

