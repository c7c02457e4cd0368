/* Tensors, the compute context and the autodiff tape.
 *
 * A ds_tensor is a view: it never owns memory. Data is float32, contiguous, row-major,
 * up to 4 dimensions. Activations (and their gradients) live in the context's arena;
 * parameters point into the flat parameter/gradient buffers of a ds_params table.
 *
 * Model code calls ops eagerly (ops/ops.h). With ctx->grad set, every op whose inputs
 * need a gradient appends a record (backward function, inputs, output, saved values) to
 * the tape; ds_backward() walks the tape in reverse and each record's backward adds
 * (+=) into its inputs' gradient buffers, which are allocated zeroed on first use.
 * No model writes a backward pass by hand.
 *
 * Planning: with ctx->dry set, ops allocate (the arena only counts bytes) and record,
 * but compute nothing and leave data pointers NULL. Running one forward+backward dry
 * gives the exact arena size of a step before the first step. Model code must not read
 * tensor data on the host while dry (check ctx->dry).
 *
 * One context per thread. Dimension legend used in comments: B batch, C channels,
 * T time, N tokens, E embedding width, H heads, D head dim, S context tokens. */
#ifndef DS_TENSOR_H
#define DS_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define DS_MAX_DIMS 4

typedef struct ds_tensor ds_tensor;
struct ds_tensor {
    float *data;
    float *grad;     /* same shape as data; NULL until needed */
    ds_tensor *base; /* views (reshape) share data and grad with base */
    int64_t shape[DS_MAX_DIMS];
    int ndim;
    bool requires_grad;
};

typedef struct ds_rec ds_rec;
typedef void (*ds_backward_fn)(ds_rec *r);

#define DS_REC_MAX_IN 6
#define DS_REC_MAX_SAVED 4
#define DS_REC_MAX_INTS 12
#define DS_REC_MAX_FLOATS 4

/* One tape record. The backward function reads out->grad and adds into in[k]->grad for
 * every input with requires_grad (their grad buffers are allocated before it runs). */
struct ds_rec {
    ds_backward_fn backward;
    const char *op;
    ds_rec *prev;
    ds_tensor *out;
    ds_tensor *in[DS_REC_MAX_IN];
    ds_tensor *saved[DS_REC_MAX_SAVED];
    int64_t i[DS_REC_MAX_INTS];
    float f[DS_REC_MAX_FLOATS];
    void *p; /* op-specific pointer (arena-allocated) */
};

typedef struct ds_ctx {
    ds_arena arena;   /* tensor data, saved values, activation gradients */
    ds_arena meta;    /* tensor headers and tape records: real memory even while planning */
    ds_rec *tape;     /* last record */
    int64_t tape_len;
    bool grad;        /* record ops for backward */
    bool dry;         /* planning: allocate/count only, no compute */
    bool training;    /* dropout-like behaviour (cfg dropout) on */
} ds_ctx;

void ds_ctx_init(ds_ctx *c);
void ds_ctx_free(ds_ctx *c);
/* Drops the tape and rewinds the arena (end of a step). */
void ds_ctx_reset(ds_ctx *c);
/* Switches planning mode on/off; switching resets the context. */
void ds_ctx_set_dry(ds_ctx *c, bool dry);

static inline int64_t ds_numel(const ds_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}
static inline int64_t ds_dim(const ds_tensor *t, int i) { return t->shape[i < 0 ? t->ndim + i : i]; }

/* New activation tensor in the arena (uninitialised / zeroed). dims < 0 ends the list. */
ds_tensor *ds_new(ds_ctx *c, int ndim, const int64_t *shape);
ds_tensor *ds_new_zeros(ds_ctx *c, int ndim, const int64_t *shape);
ds_tensor *ds_new1(ds_ctx *c, int64_t d0);
ds_tensor *ds_new2(ds_ctx *c, int64_t d0, int64_t d1);
ds_tensor *ds_new3(ds_ctx *c, int64_t d0, int64_t d1, int64_t d2);
ds_tensor *ds_new4(ds_ctx *c, int64_t d0, int64_t d1, int64_t d2, int64_t d3);
ds_tensor *ds_new_like(ds_ctx *c, const ds_tensor *t);
/* Wraps caller memory (an input) as a tensor; requires_grad as given (a grad buffer is
 * allocated in the arena on first use). */
ds_tensor *ds_wrap(ds_ctx *c, float *data, int ndim, const int64_t *shape, bool requires_grad);
/* Scratch floats in the arena (saved statistics etc.). */
float *ds_scratch(ds_ctx *c, int64_t n);

/* The gradient buffer of t, allocated zeroed on first use (views share their base's). */
float *ds_grad(ds_ctx *c, ds_tensor *t);

/* Appends a record for an op with output `out` and n inputs (NULL inputs allowed), if
 * gradients are on and any input requires them; marks out->requires_grad. Returns
 * NULL when nothing needs recording. */
ds_rec *ds_record(ds_ctx *c, const char *op, ds_backward_fn bw, ds_tensor *out, int n,
                  ds_tensor *const *in);

/* Backward from `out` with upstream gradient dout (same shape; NULL means ones). */
void ds_backward(ds_ctx *c, ds_tensor *out, const float *dout);

bool ds_same_shape(const ds_tensor *a, const ds_tensor *b);
/* "[2, 4, 16]" into buf. */
const char *ds_shape_str(const ds_tensor *t, char *buf, size_t n);

#endif
