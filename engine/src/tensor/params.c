#include "tensor/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"

void ds_params_init(ds_params *p) { memset(p, 0, sizeof *p); }

void ds_params_free(ds_params *p) {
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
    if (p->grad) memset(p->grad, 0, (size_t)p->total * sizeof(float));
}

int64_t ds_params_trainable(const ds_params *p) { return p->range_end[DS_PG_COND] - p->range_begin[DS_PG_BACKBONE]; }
