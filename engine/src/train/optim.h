/* Optimisers (Adam, AdamW with PyTorch 1.13 single-tensor semantics), SAT's InverseLR, and
 * global-norm gradient clipping, over the flat trainable range of a parameter table.
 * Ref: torch/optim/adamw.py (_single_tensor_adamw), stable_audio_tools/training/utils.py. */
#ifndef DS_OPTIM_H
#define DS_OPTIM_H

#include <stdint.h>

#include "engine/config.h"
#include "engine/status.h"

typedef struct ds_optim {
    ds_optimizer_type type; /* DS_OPT_ADAM or DS_OPT_ADAMW */
    double lr;              /* base learning rate */
    double beta1, beta2, eps, weight_decay;
    ds_scheduler_type sched;
    double inv_gamma, power, warmup, final_lr;
    int64_t step; /* optimiser steps taken (Adam's per-parameter "step", the scheduler's last_epoch) */
    int64_t n;    /* floats in the trainable range */
    float *m, *v; /* exp_avg, exp_avg_sq [n] */
} ds_optim;

/* From the training config: optimizer_configs.diffusion (AdamW/Adam + InverseLR), or plain Adam
 * with `learning_rate` when no optimizer_configs (SAT's default). */
ds_status ds_optim_init(ds_optim *o, const ds_training_config *t, int64_t n, ds_err *err);
void ds_optim_free(ds_optim *o);
/* Learning rate of scheduler step k (InverseLR: (1 − warmup^(k+1))·max(final_lr, lr·(1 + k/inv_gamma)^−power)). */
double ds_optim_lr_at(const ds_optim *o, int64_t k);
double ds_optim_lr(const ds_optim *o);
/* One step: params[n] updated from grads[n] with the current lr; then step++. */
void ds_optim_step(ds_optim *o, float *params, const float *grads);
/* Global L2 norm of grads[n] (double accumulation). */
double ds_grad_norm(const float *grads, int64_t n);
/* Scales grads so their norm is at most max_norm (Lightning's clip_grad_norm_: coef = max/(norm+1e-6)). */
void ds_clip_grad_norm(float *grads, int64_t n, double norm, double max_norm);

#endif
