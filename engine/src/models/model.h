/* A diffusion model as SAT builds it: a backbone (dit, DAU1d, adp_cfg_1d, adp_1d,
 * adp_uncond_1d), the conditioners, and one parameter table with SAT's state_dict names:
 *   diffusion_cond:   backbone "model.model.*", conditioners "conditioner.conditioners.<id>.*"
 *   diffusion_uncond: backbone "model.model.*" (UNet/DiT wrappers) or "model.*" (DAU1d)
 *
 * Backbones follow one signature, SAT's f(x[B,C,T], t[B], cond…) -> [B,C,T], with CFG
 * done inside the backbone call as SAT does it (DiT: zeros as the null condition and the
 * global condition kept; UNetCFG1d: the learned fixed_embedding). */
#ifndef DS_MODEL_H
#define DS_MODEL_H

#include "core/rng.h"
#include "engine/batch.h"
#include "engine/config.h"
#include "engine/status.h"
#include "tensor/params.h"
#include "tensor/tensor.h"

/* The conditioning inputs of a backbone call (sat-spec §3.2). Any may be NULL. */
typedef struct ds_cond_tensors {
    ds_tensor *cross_attn_cond;          /* [B, S, Dc] */
    ds_tensor *cross_attn_mask;          /* [B, S] 0/1 */
    ds_tensor *global_cond;              /* [B, G] */
    ds_tensor *prepend_cond;             /* [B, P, Dp] */
    ds_tensor *prepend_cond_mask;        /* [B, P] */
    ds_tensor *input_concat_cond;        /* [B, Ci, T'] */
    ds_tensor *negative_cross_attn_cond; /* [B, S, Dc] */
    ds_tensor *negative_cross_attn_mask; /* [B, S] */
} ds_cond_tensors;

/* Scalars of a backbone call (SAT keyword arguments). */
typedef struct ds_call_opts {
    float cfg_scale;        /* 1: no guidance */
    float cfg_dropout_prob; /* training-time condition dropout (0 at inference) */
    bool batch_cfg;         /* one doubled batch for CFG (SAT's default in every caller) */
    bool rescale_cfg;       /* UNetCFG1d: rescale with scale_phi (default 0.4) */
    bool has_scale_phi;
    float scale_phi;        /* DiT: rescale iff != 0 (default 0) */
    float cfg_interval[2];  /* DiT: CFG only when sigma(t[0]) is inside (default 0..1) */
    ds_rng *rng;            /* draws for dropout (and DAU1d cond_noise_aug); required when used */
    bool has_cond_aug_scale;
    float cond_aug_scale;   /* DAU1d cond_noise_aug: this noise level instead of a draw (SAT's cond_aug_scale) */
    /* Optional: receive the cond and uncond halves of a batched CFG call (no grad). */
    ds_tensor **out_cond, **out_uncond;
} ds_call_opts;

ds_call_opts ds_call_opts_default(void);

typedef struct ds_model ds_model;

typedef struct ds_backbone {
    void *impl;
    ds_tensor *(*forward)(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                          const ds_call_opts *o);
    void (*init_buffers)(ds_model *m); /* computed buffers (inv_freq, beta, kernels) */
    void (*destroy)(void *impl);
    float init_scale; /* SAT wrappers that halve every parameter after init: 0.5 */
} ds_backbone;

/* A conditioner's parameters (sat-spec §1.4); only runnable types have any. */
typedef struct ds_conditioner {
    const ds_conditioner_config *cfg;
    ds_tensor *fourier_w;   /* number: embedder.embedding.0.weights [128] */
    ds_tensor *lin_w, *lin_b; /* number: embedder.embedding.1.{weight [D,257], bias [D]} */
    ds_tensor *table;       /* int: int_embedder.weight [max-min+1, D]; list: embedder.weight [n+1, D] */
} ds_conditioner;

struct ds_model {
    ds_model_config cfg;
    ds_params params;
    ds_backbone bb;
    int n_cond;
    ds_conditioner cond[DS_MAX_CONDITIONERS];
};

/* Builds the model (parameter table allocated, values zero). Returns DS_ERR_UNSUPPORTED
 * naming the key when the config asks for something the engine cannot run. */
ds_status ds_model_create(const ds_model_config *cfg, ds_model **out, ds_err *err);
void ds_model_free(ds_model *m);

/* Loads every parameter and buffer by SAT name. strict: every table entry must be in the
 * file (with its shape); extra tensors in the file are ignored. Buffers missing from a
 * non-strict load keep their computed values. */
ds_status ds_model_load(ds_model *m, const char *path, bool strict, ds_err *err);
/* SAT's pretrained_ckpt_path (copy_state_dict): loads every tensor whose name AND shape
 * match, leaves the rest as they are. Counts what was loaded and what was skipped. */
ds_status ds_model_load_matching(ds_model *m, const char *path, int *loaded, int *skipped, ds_err *err);
/* Sets the computed buffers (rotary inv_freq, LayerNorm beta zeros, resampling kernels). */
void ds_model_init_buffers(ds_model *m);
/* SAT-like initialisation from a seed (PyTorch default init families; see model.c). */
void ds_model_init_random(ds_model *m, uint64_t seed);

/* The backbone call. x [B, io, T], t [B]. */
ds_tensor *ds_model_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                            const ds_call_opts *o);

/* Runs every conditioner on B items of metadata and assembles the backbone inputs by the
 * four routing lists. Errors name the item and the missing key. */
ds_status ds_model_condition(ds_model *m, ds_ctx *c, const ds_meta *items, int B, ds_cond_tensors *out, ds_err *err);
/* One conditioner (index into cfg.conditioning) on B items: out [B, 1, D], mask [B, 1]. */
ds_status ds_conditioner_run(ds_model *m, ds_ctx *c, int index, const ds_meta *items, int B, ds_tensor **out,
                             ds_tensor **mask, ds_err *err);

/* Shared CFG helpers (models/cfg.c). cfg = u + (c − u)·scale; with phi != 0:
 * phi·cfg·(std_c(cond)/std_c(cfg)) + (1 − phi)·cfg, std over dim 1, unbiased. */
ds_tensor *ds_cfg_combine(ds_ctx *c, ds_tensor *cond_out, ds_tensor *uncond_out, float scale, float phi);
/* Zeroes items b where keep[b] == 0: x [B, ...]. (Dropout of conditions; recorded.) */
ds_tensor *ds_mask_items(ds_ctx *c, ds_tensor *x, const float *keep);

/* Backbone constructors (register parameters, install the vtable). */
ds_status ds_dit_create(ds_model *m, ds_err *err);
ds_status ds_dau1d_create(ds_model *m, ds_err *err);
ds_status ds_adp_create(ds_model *m, ds_err *err);

#endif
