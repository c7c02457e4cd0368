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
 * On a device, backward also recycles activation gradients: once a record's backward has run,
 * the gradient of its output is dead (every consumer ran before it) and its buffer serves the
 * next gradient of the same size. The planning pass takes the same decisions, so the arena's
 * plan stays exact; backward then needs a few layers' worth of gradients instead of one per
 * activation. (The CPU keeps every gradient: its memory layout stays as it always was.)
 *
 * Planning: with ctx->dry set, ops allocate (the arena only counts bytes) and record,
 * but compute nothing and leave data pointers NULL. Running one forward+backward dry
 * gives the exact arena size of a step before the first step. Model code must not read
 * tensor data on the host while dry (check ctx->dry).
 *
 * Devices (device/device.h): a context bound to a device (ds_ctx_set_device) keeps its
 * arena, and so every tensor, in device memory. Model code then never touches tensor data on
 * the host: values computed on the host go through ds_host_begin/ds_host_commit (or
 * ds_new_from_host, ds_new_fill, ds_input), results come back with ds_to_host, and host
 * reads of small inputs use ds_host_view. On the CPU (dev NULL) these are the plain memory
 * accesses they replace: same numbers, no copies.
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
    const float *host; /* device tensors written from the host: the staged host copy (valid until reset) */
    int64_t shape[DS_MAX_DIMS];
    int ndim;
    bool requires_grad;
};

typedef struct ds_rec ds_rec;
struct ds_device;
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
    struct ds_device *dev; /* the context's device (NULL: CPU); backward runs there */
};

typedef struct ds_ctx {
    ds_arena arena;   /* tensor data, saved values, activation gradients */
    ds_arena meta;    /* tensor headers and tape records: real memory even while planning */
    ds_rec *tape;     /* last record */
    int64_t tape_len;
    bool grad;        /* record ops for backward */
    bool dry;         /* planning: allocate/count only, no compute */
    bool training;    /* dropout-like behaviour (cfg dropout) on */
    /* Device (NULL: CPU). See device/device.h. */
    struct ds_device *dev;
    ds_arena stage[2];   /* page-locked staging for host-written values, one half per step */
    int stage_i;         /* the half this step writes */
    int events;          /* device event slots of the two halves (-1: sync at reset instead) */
    bool replay;         /* graph replay: host values are staged, nothing is issued (dry is on) */
    const float *loss_scale; /* device scalar multiplying the backward seed (16-mixed), or NULL */
    struct ds_grad_block *grad_free; /* device contexts: activation-gradient buffers free for reuse */
    ds_arena_mem dev_mem, stage_mem; /* the arenas' memory hooks */
} ds_ctx;

void ds_ctx_init(ds_ctx *c);
void ds_ctx_free(ds_ctx *c);
/* Drops the tape and rewinds the arena (end of a step). */
void ds_ctx_reset(ds_ctx *c);
/* Switches planning mode on/off; switching resets the context. */
void ds_ctx_set_dry(ds_ctx *c, bool dry);
/* Binds a fresh context to a device (before its first tensor). overlap: the two staging
 * halves are guarded by device events, so a reset does not wait for the step to finish
 * (the trainer); otherwise a reset waits for the stream. */
void ds_ctx_set_device(ds_ctx *c, struct ds_device *dev, bool overlap);

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

/* ---- host <-> tensor (see the header comment) ---- */
/* A host buffer for the numel(t) values of a new tensor t: t->data itself on the CPU, a
 * staging slot on a device; NULL while planning (nothing to write). */
float *ds_host_begin(ds_ctx *c, ds_tensor *t);
/* Sends what was written into ds_host_begin's buffer to t (a no-op on the CPU). */
void ds_host_commit(ds_ctx *c, ds_tensor *t);
/* New tensors holding host values / a constant. */
ds_tensor *ds_new_from_host(ds_ctx *c, int ndim, const int64_t *shape, const float *src);
ds_tensor *ds_new_fill(ds_ctx *c, int ndim, const int64_t *shape, float v);
/* An input from caller memory: wraps it on the CPU (as ds_wrap), copies it to the device
 * otherwise (the caller's buffer is then free to change). */
ds_tensor *ds_input(ds_ctx *c, float *data, int ndim, const int64_t *shape, bool requires_grad);
/* Host floats for values of this step (CPU: the arena, as ds_scratch; device: staging). */
float *ds_host_scratch(ds_ctx *c, int64_t n);
/* t's values readable on the host: t->data on the CPU; on a device its staged host copy
 * when it was written from the host, else a blocking download (avoid inside a step).
 * NULL while planning. */
const float *ds_host_view(ds_ctx *c, const ds_tensor *t);
/* Copies t's values (or its gradient) into dst [numel]; blocks on a device. */
void ds_to_host(ds_ctx *c, const ds_tensor *t, float *dst);
void ds_grad_to_host(ds_ctx *c, const ds_tensor *t, float *dst);
/* Fills n floats of tensor memory (zeroes through the device where there is one). */
void ds_mem_zero(ds_ctx *c, float *p, int64_t n);

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
