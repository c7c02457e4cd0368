/* The training step of SAT's DiffusionCondTrainingWrapper / DiffusionUncondTrainingWrapper
 * (sat-spec §4.1), with Lightning's order of EMA, backward and optimiser step.
 *
 * One optimiser step = accum micro-batches of:
 *   batch → pretransform encode → conditioners (CFG dropout in the backbone) → t, ε → x_t,
 *   target → forward on the tape → (masked) MSE / accum → backward
 * then: non-finite check → EMA update toward the weights BEFORE this update (SAT calls it
 * from on_before_zero_grad, ahead of backward; the weights have not changed until the
 * optimiser step, so doing it after backward is the same number and lets a NaN step skip
 * cleanly) → optional global-norm clipping → Adam(W) with the scheduled lr → step++.
 *
 * Randomness: every draw of step k comes from streams derived from (seed, k), so a run
 * resumed at step k continues bit for bit (CPU). */
#ifndef DS_TRAINER_H
#define DS_TRAINER_H

#include "engine/batch.h"
#include "models/model.h"
#include "train/ema.h"
#include "train/objective.h"
#include "train/optim.h"

/* Optional copies of the first micro-batch's intermediate values (fixtures and tests). */
typedef struct ds_step_trace {
    float *t, *alpha, *sigma;   /* [B] */
    float *xt, *target, *out;   /* [B, C, T] */
    double loss;
} ds_step_trace;

#define DS_LOSS_BUCKETS 10

typedef struct ds_step_stats {
    double loss;       /* mean over micro-batches */
    double lr;         /* used by this step */
    double grad_norm;  /* before clipping */
    double std_data;   /* std of x0 (train/std_data) */
    double ema_decay;
    bool skipped;      /* non-finite loss or gradient: no update */
    bool scaler_skip;  /* 16-mixed: skipped by the loss scaler (an expected event, not a failure) */
    double loss_scale; /* 16-mixed: the scale this step ran with */
    bool graph;        /* the step ran as a replayed CUDA graph */
    /* log_loss_info: mean loss per noise-level bucket [i/10, (i+1)/10); count 0 = empty */
    double bucket_loss[DS_LOSS_BUCKETS];
    int bucket_count[DS_LOSS_BUCKETS];
} ds_step_stats;

struct ds_device;
struct ds_trainer_dev;

typedef struct ds_trainer {
    ds_model *m;     /* not owned */
    ds_optim opt;
    ds_ema ema;      /* backbone range only */
    bool use_ema;
    ds_ctx ctx;
    ds_rng root;
    ds_sobol sobol;
    int64_t global_step; /* optimiser steps done */
    int accum;           /* micro-batches per optimiser step */
    double clip;         /* 0: no clipping */
    bool planned;
    size_t arena_bytes;  /* activation arena of one micro-batch, from the planning pass */
    ds_step_trace *trace; /* if set, filled by the next step (buffers sized by the caller) */
    /* On a device (ds_trainer_use_device): the model's tables live there, the step runs
     * there; dv holds the device side (train/trainer_dev.c). */
    struct ds_device *dev;
    struct ds_trainer_dev *dv;
    bool in_flight;       /* a submitted step not yet collected */
    ds_status pending_status;
    ds_step_stats pending; /* CPU: the submitted step's stats */
} ds_trainer;

/* Conditioning given as backbone inputs instead of running the conditioners (benchmarks):
 * host arrays, each NULL or [B, …] with the sizes given. */
typedef struct ds_cond_host {
    const float *cross;   /* [B, S, Dc] */
    int64_t S, Dc;
    const float *global;  /* [B, G] */
    int64_t G;
    const float *prepend; /* [B, P, Dp] */
    int64_t P, Dp;
    const float *icc;     /* [B, Ci, Ti] */
    int64_t Ci, Ti;
} ds_cond_host;

/* Values a caller may fix instead of drawing them (fixtures, tests, benchmarks). */
typedef struct ds_step_override {
    const float *t;     /* [B] */
    const float *noise; /* [B, C, T] latent-shaped */
    bool no_dropout;    /* force cfg_dropout_prob 0 */
    const ds_cond_host *cond; /* backbone conditioning inputs instead of the conditioners */
} ds_step_override;


ds_status ds_trainer_init(ds_trainer *tr, ds_model *m, uint64_t seed, ds_err *err);
void ds_trainer_free(ds_trainer *tr);
/* Sizes the activation arena for micro-batches of this shape with a dry pass. */
ds_status ds_trainer_plan(ds_trainer *tr, const ds_batch *shape, ds_err *err);
/* The same with the overrides the steps will use (their conditioning decides the shapes). */
ds_status ds_trainer_plan_with(ds_trainer *tr, const ds_batch *shape, const ds_step_override *ov, ds_err *err);
/* One optimiser step over tr->accum micro-batches (batches[0..accum-1]). */
ds_status ds_trainer_step(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_step_stats *st,
                          ds_err *err);
/* ---- Devices (train/trainer_dev.c) ----
 * ds_trainer_use_device moves the model's parameters and gradients (one allocation each),
 * Adam's m and v and the EMA weights (one each) onto d, uploading their current host values
 * (so load a checkpoint first, or call ds_trainer_upload after), and makes every later step
 * run there: the activation arena is one allocation sized by the plan, host-computed values
 * go through page-locked staging, and gradient statistics, clipping, AdamW, EMA and the
 * loss scaler (precision 16-mixed) run on the device with no host round trip inside the
 * step. Once a step's shapes repeat, the whole step is captured as a CUDA graph (one per
 * staging half) and replayed; a change of shapes falls back to eager steps and re-captures.
 * The host copies (params data, opt.m/v, ema.w) are stale until ds_trainer_sync_host. */
ds_status ds_trainer_use_device(ds_trainer *tr, struct ds_device *d, ds_err *err);
/* Device -> host copies of parameters, Adam state and EMA (checkpoints, demos, export). */
ds_status ds_trainer_sync_host(ds_trainer *tr, ds_err *err);
/* Host -> device (after loading a checkpoint into the host copies). */
ds_status ds_trainer_upload(ds_trainer *tr, ds_err *err);
/* The step in two halves, so the caller can load the next batch while the device computes:
 * submit issues step k (the host computes its inputs and queues the work) and returns;
 * collect waits for it and fills the stats. ds_trainer_step = submit + collect. On the CPU
 * submit runs the whole step. One step in flight at a time. */
ds_status ds_trainer_submit(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_err *err);
ds_status ds_trainer_collect(ds_trainer *tr, ds_step_stats *st, ds_err *err);
/* CUDA-graph counters of a device trainer (0s on the CPU). */
void ds_trainer_graph_stats(const ds_trainer *tr, int64_t *captures, int64_t *replays, int64_t *eager, char *why_off,
                            size_t n);

/* The latent length the backbone sees for an audio length T (pretransform ratio). */
int64_t ds_trainer_latent_len(const ds_trainer *tr, int64_t T);

#endif
