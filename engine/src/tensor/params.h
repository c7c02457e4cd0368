/* The parameter table: one entry per SAT state_dict tensor ({name, shape, offset}),
 * driving one flat parameter buffer and one flat gradient buffer of the same layout.
 * The same table drives checkpoint IO, fixture comparisons, the optimizer (one loop over
 * a flat range), EMA, gradient all-reduce and the model summary.
 *
 * Entries are laid out by group so that each consumer sees one contiguous range:
 *   [ backbone params | conditioner params | buffers ]
 *   EMA covers the backbone range (SAT's EMA tracks the backbone only), the optimizer the
 *   backbone+conditioner range, and buffers (rotary inv_freq, LayerNorm beta, resampling
 *   kernels) are stored and saved but never trained.
 * Build: ds_param_add() for every tensor while constructing a model, then
 * ds_params_alloc() assigns offsets and points every entry's tensor at the buffers. */
#ifndef DS_PARAMS_H
#define DS_PARAMS_H

#include "engine/status.h"
#include "tensor/tensor.h"

typedef enum ds_param_group { DS_PG_BACKBONE, DS_PG_COND, DS_PG_BUFFER, DS_PG_COUNT } ds_param_group;

/* How a parameter is initialised for training from scratch (ds_params_init_random).
 * AUTO follows PyTorch's defaults by name and shape: ≥2-D weights U(±1/√fan_in), a bias
 * U(±1/√fan_in) of its sibling weight (0 next to a 1-D norm weight), 1-D weights/gamma 1. */
typedef enum ds_init_kind { DS_INIT_AUTO, DS_INIT_ZERO, DS_INIT_ONE, DS_INIT_CONST, DS_INIT_NORMAL, DS_INIT_UNIFORM } ds_init_kind;

typedef struct ds_param {
    char name[160];
    ds_init_kind init;
    float init_arg; /* value (CONST), std (NORMAL) or bound (UNIFORM) */
    ds_tensor t; /* t.data / t.grad point into the flat buffers once allocated */
    int64_t offset, numel;
    ds_param_group group;
} ds_param;

typedef struct ds_params {
    ds_param **items; /* stable pointers, in layout order after alloc */
    int n, cap;
    float *data, *grad;
    int64_t total;                      /* floats in data/grad */
    int64_t range_begin[DS_PG_COUNT];   /* per group, in floats */
    int64_t range_end[DS_PG_COUNT];
    char prefix[128]; /* prepended to names added while set (e.g. "model.model.") */
    /* Bound to a device (ds_params_bind): one device allocation each for values and
     * gradients; every entry's t.data / t.grad point there, and data/grad above are the
     * host copies, refreshed by ds_params_download. */
    struct ds_device *dev;
    float *dev_data, *dev_grad;
} ds_params;

void ds_params_init(ds_params *p);
void ds_params_free(ds_params *p);
/* Registers a tensor and returns its (not yet allocated) tensor. Name is prefix + name. */
ds_tensor *ds_param_add(ds_params *p, ds_param_group g, const char *name, int ndim, const int64_t *shape);
ds_tensor *ds_param_add1(ds_params *p, ds_param_group g, const char *name, int64_t d0);
ds_tensor *ds_param_add2(ds_params *p, ds_param_group g, const char *name, int64_t d0, int64_t d1);
ds_tensor *ds_param_add3(ds_params *p, ds_param_group g, const char *name, int64_t d0, int64_t d1, int64_t d2);
ds_status ds_params_alloc(ds_params *p, ds_err *err);
ds_param *ds_params_find(const ds_params *p, const char *name);
void ds_params_zero_grad(ds_params *p);
/* Marks how t (a registered parameter) is initialised. */
void ds_param_init_as(ds_tensor *t, ds_init_kind kind, float arg);
ds_param *ds_param_of(ds_tensor *t);
/* Initialises every non-buffer parameter by its rule from a seeded stream, then multiplies
 * by `scale` (SAT's ADP/DAU1d wrappers halve every parameter after construction). */
void ds_params_init_random(ds_params *p, uint64_t seed, float scale);
/* Moves the table onto a device (values uploaded; gradients zeroed; with mixed precision
 * also the half copy GEMMs read weights from). */
ds_status ds_params_bind(ds_params *p, struct ds_device *d, ds_err *err);
/* Downloads the values (and gradients if asked), points the entries back at the host
 * copies and frees the device buffers. */
void ds_params_unbind(ds_params *p);
/* Host copies <- device (values; gradients too when grads), blocking. */
ds_status ds_params_download(ds_params *p, bool grads, ds_err *err);
/* Device <- host copies (values), e.g. after loading a checkpoint; refreshes the half copy. */
ds_status ds_params_upload(ds_params *p, ds_err *err);
/* Number of trainable floats (backbone + conditioner). */
int64_t ds_params_trainable(const ds_params *p);

#endif
