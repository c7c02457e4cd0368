#include "tensor/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/rng.h"
#include "device/device.h"

#include <math.h>
#include <stddef.h>

void ds_params_init(ds_params *p) { memset(p, 0, sizeof *p); }

static void unbind(ds_params *p, bool download);

void ds_params_free(ds_params *p) {
    unbind(p, false);
    for (int i = 0; i < p->n; i++) free(p->items[i]);
    free(p->items);
    free(p->data);
    free(p->grad);
    memset(p, 0, sizeof *p);
}

ds_tensor *ds_param_add(ds_params *p, ds_param_group g, const char *name, int ndim, const int64_t *shape) {
    DS_ASSERT(p->data == NULL);
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->items = realloc(p->items, (size_t)p->cap * sizeof *p->items);
        DS_ASSERT(p->items);
    }
    ds_param *e = calloc(1, sizeof *e);
    DS_ASSERT(e);
    int w = snprintf(e->name, sizeof e->name, "%s%s", p->prefix, name);
    DS_ASSERTF(w < (int)sizeof e->name, "parameter name too long: %s%s", p->prefix, name);
    DS_ASSERTF(ds_params_find(p, e->name) == NULL, "duplicate parameter %s", e->name);
    e->group = g;
    e->t.ndim = ndim;
    for (int i = 0; i < ndim; i++) e->t.shape[i] = shape[i];
    e->numel = ds_numel(&e->t);
    e->t.requires_grad = g != DS_PG_BUFFER;
    p->items[p->n++] = e;
    return &e->t;
}

ds_tensor *ds_param_add1(ds_params *p, ds_param_group g, const char *name, int64_t d0) {
    return ds_param_add(p, g, name, 1, (int64_t[]){d0});
}
ds_tensor *ds_param_add2(ds_params *p, ds_param_group g, const char *name, int64_t d0, int64_t d1) {
    return ds_param_add(p, g, name, 2, (int64_t[]){d0, d1});
}
ds_tensor *ds_param_add3(ds_params *p, ds_param_group g, const char *name, int64_t d0, int64_t d1, int64_t d2) {
    return ds_param_add(p, g, name, 3, (int64_t[]){d0, d1, d2});
}

ds_status ds_params_alloc(ds_params *p, ds_err *err) {
    /* Stable partition by group, keeping registration order inside a group. */
    ds_param **sorted = malloc((size_t)(p->n ? p->n : 1) * sizeof *sorted);
    if (!sorted) return ds_err_set(err, DS_ERR_NOMEM, "out of memory building the parameter table");
    int k = 0;
    int64_t off = 0;
    for (int g = 0; g < DS_PG_COUNT; g++) {
        p->range_begin[g] = off;
        for (int i = 0; i < p->n; i++)
            if (p->items[i]->group == (ds_param_group)g) {
                sorted[k++] = p->items[i];
                p->items[i]->offset = off;
                off += p->items[i]->numel;
            }
        p->range_end[g] = off;
    }
    free(p->items);
    p->items = sorted;
    p->cap = p->n;
    p->total = off;
    size_t bytes = (size_t)(off ? off : 1) * sizeof(float);
    p->data = calloc(1, bytes);
    p->grad = calloc(1, bytes);
    if (!p->data || !p->grad)
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory allocating %lld parameters",
                          (long long)off);
    for (int i = 0; i < p->n; i++) {
        ds_param *e = p->items[i];
        e->t.data = p->data + e->offset;
        e->t.grad = e->group == DS_PG_BUFFER ? NULL : p->grad + e->offset;
    }
    return DS_OK;
}

ds_param *ds_params_find(const ds_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i]->name, name) == 0) return p->items[i];
    return NULL;
}

void ds_params_zero_grad(ds_params *p) {
    if (p->dev) {
        p->dev->mem->zero(p->dev, p->dev_grad, (size_t)p->total * sizeof(float));
        return;
    }
    if (p->grad) memset(p->grad, 0, (size_t)p->total * sizeof(float));
}

static void point_entries(ds_params *p, float *data, float *grad) {
    for (int i = 0; i < p->n; i++) {
        ds_param *e = p->items[i];
        e->t.data = data + e->offset;
        e->t.grad = e->group == DS_PG_BUFFER ? NULL : grad + e->offset;
    }
}

static void refresh_half(ds_params *p) {
    ds_device *d = p->dev;
    if (d->param_lp && d->ops) d->ops->to_half(d, p->dev_data, d->param_lp, p->total);
}

ds_status ds_params_bind(ds_params *p, ds_device *d, ds_err *err) {
    DS_ASSERT(!p->dev && p->data);
    size_t bytes = (size_t)(p->total ? p->total : 1) * sizeof(float);
    p->dev_data = ds_device_alloc(d, DS_ROLE_PARAMS, bytes);
    p->dev_grad = ds_device_alloc(d, DS_ROLE_GRADS, bytes);
    if (d->precision != DS_PREC_32 && d->ops) {
        d->param_lp = ds_device_alloc(d, DS_ROLE_PARAMS_LP, bytes / 2);
        d->param_base = p->dev_data;
        d->param_n = p->total;
    }
    ds_status s = ds_device_check(d, err);
    if (s != DS_OK) {
        ds_device_free(d, DS_ROLE_PARAMS, p->dev_data, bytes);
        ds_device_free(d, DS_ROLE_GRADS, p->dev_grad, bytes);
        ds_device_free(d, DS_ROLE_PARAMS_LP, d->param_lp, bytes / 2);
        d->param_lp = NULL;
        d->param_base = NULL;
        p->dev_data = p->dev_grad = NULL;
        return s;
    }
    p->dev = d;
    d->mem->upload(d, p->dev_data, p->data, bytes);
    d->mem->zero(d, p->dev_grad, bytes);
    refresh_half(p);
    point_entries(p, p->dev_data, p->dev_grad);
    return ds_device_sync(d, err);
}

ds_status ds_params_download(ds_params *p, bool grads, ds_err *err) {
    if (!p->dev) return DS_OK;
    size_t bytes = (size_t)p->total * sizeof(float);
    p->dev->mem->download(p->dev, p->data, p->dev_data, bytes);
    if (grads) p->dev->mem->download(p->dev, p->grad, p->dev_grad, bytes);
    return ds_device_sync(p->dev, err);
}

ds_status ds_params_upload(ds_params *p, ds_err *err) {
    if (!p->dev) return DS_OK;
    p->dev->mem->upload(p->dev, p->dev_data, p->data, (size_t)p->total * sizeof(float));
    refresh_half(p);
    return ds_device_sync(p->dev, err);
}

static void unbind(ds_params *p, bool download) {
    ds_device *d = p->dev;
    if (!d) return;
    ds_err e;
    if (download) ds_params_download(p, true, &e);
    size_t bytes = (size_t)(p->total ? p->total : 1) * sizeof(float);
    ds_device_free(d, DS_ROLE_PARAMS, p->dev_data, bytes);
    ds_device_free(d, DS_ROLE_GRADS, p->dev_grad, bytes);
    if (d->param_base == p->dev_data) {
        ds_device_free(d, DS_ROLE_PARAMS_LP, d->param_lp, bytes / 2);
        d->param_lp = NULL;
        d->param_base = NULL;
        d->param_n = 0;
    }
    p->dev_data = p->dev_grad = NULL;
    p->dev = NULL;
    point_entries(p, p->data, p->grad);
}

void ds_params_unbind(ds_params *p) { unbind(p, true); }

int64_t ds_params_trainable(const ds_params *p) { return p->range_end[DS_PG_COND] - p->range_begin[DS_PG_BACKBONE]; }

ds_param *ds_param_of(ds_tensor *t) { return (ds_param *)((char *)t - offsetof(ds_param, t)); }

void ds_param_init_as(ds_tensor *t, ds_init_kind kind, float arg) {
    ds_param *p = ds_param_of(t);
    p->init = kind;
    p->init_arg = arg;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int64_t fan_in(const ds_tensor *t) {
    int64_t f = 1;
    for (int i = 1; i < t->ndim; i++) f *= t->shape[i];
    return f;
}

void ds_params_init_random(ds_params *p, uint64_t seed, float scale) {
    ds_rng root;
    ds_rng_init(&root, seed);
    for (int i = 0; i < p->n; i++) {
        ds_param *e = p->items[i];
        if (e->group == DS_PG_BUFFER) continue;
        ds_rng r = ds_rng_derive(&root, (uint64_t)i);
        float *d = e->t.data;
        ds_init_kind k = e->init;
        float arg = e->init_arg;
        if (k == DS_INIT_AUTO) {
            if (e->t.ndim >= 2) {
                k = DS_INIT_UNIFORM;
                arg = 1.0f / sqrtf((float)fan_in(&e->t));
            } else if (ends_with(e->name, "bias") || ends_with(e->name, "beta")) {
                char sib[sizeof e->name];
                snprintf(sib, sizeof sib, "%.*sweight", (int)(strlen(e->name) - 4), e->name);
                ds_param *w = ds_params_find(p, sib);
                if (w && w->t.ndim >= 2) {
                    k = DS_INIT_UNIFORM;
                    arg = 1.0f / sqrtf((float)fan_in(&w->t));
                } else {
                    k = DS_INIT_ZERO;
                }
            } else {
                k = DS_INIT_ONE;
            }
        }
        for (int64_t j = 0; j < e->numel; j++) {
            float v = 0;
            switch (k) {
            case DS_INIT_ZERO: v = 0; break;
            case DS_INIT_ONE: v = 1; break;
            case DS_INIT_CONST: v = arg; break;
            case DS_INIT_NORMAL: v = arg * ds_rng_normal(&r); break;
            case DS_INIT_UNIFORM: v = arg * (2.0f * ds_rng_uniform(&r) - 1.0f); break;
            case DS_INIT_AUTO: break;
            }
            d[j] = v * scale;
        }
    }
}
