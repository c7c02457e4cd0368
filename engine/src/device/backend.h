/* The backend table (house style §2.8): a small, closed set of function pointers through
 * which everything that is not the CPU reference reaches a device.
 *
 *   ds_dev_mem  memory, copies, events and graph capture. Filled by the CUDA backend
 *               (engine/src/cuda/) and by the CPU stand-in (device/device_sim.c), whose
 *               "device memory" is separate host memory, so that the host side of the
 *               device path (allocation per role, staging, uploads and downloads, graph
 *               bookkeeping) runs and is tested on machines without a GPU.
 *   ds_dev_ops  one entry per op forward and backward, on device pointers, with the
 *               semantics of the CPU kernels in ops/ (see ops/ops.h for each op). The CUDA
 *               backend fills it; the CPU stand-in leaves ds_device.ops NULL, and the op
 *               wrappers then run their CPU kernels on its host-addressable memory.
 *
 * Entries return nothing: a failure (a CUDA, cuBLAS or cuDNN call, an allocation) is
 * recorded once in the device's sticky error (device/device.h) with the call, file:line and
 * op, later entries do nothing, and the caller turns it into a ds_status at its next
 * synchronisation point (ds_device_check). No entry exits or prints.
 * Plain C: the CUDA side includes it in extern "C"; no CUDA type appears here. */
#ifndef DS_BACKEND_H
#define DS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/kernels.h"

typedef struct ds_device ds_device;

/* Geometry of a 1-D (transposed) convolution; see ds_conv1d / ds_conv_transpose1d. */
typedef struct ds_conv_geom {
    int64_t B, Ci, T, Co, K, To, G, Cig, Cog;
    int stride, pad_l, pad_r, dil;
    bool transposed;
} ds_conv_geom;

/* Group norm fused with modulation and activation (ds_group_norm_act). act: ds_act. */
typedef struct ds_gn_geom {
    int64_t B, C, T, G;
    int act;
    float eps;
} ds_gn_geom;

/* Attention q [B, Nq, Hq·D], k/v [B, Nk, Hk·D] (ds_attention). */
typedef struct ds_attn_geom {
    int64_t B, Nq, Nk, Hq, Hk, D;
    float scale;
} ds_attn_geom;

/* Per-step scalars of the optimiser, EMA, clipping and loss scaling, in device memory
 * (uploaded each step from pinned staging, so a captured step graph reads new values).
 * Kernels read them; the host never reads them back during a step. */
typedef struct ds_step_scalars {
    /* Adam/AdamW, precomputed on the host in double and rounded once, exactly as
     * train/optim.c does (so the device update matches the CPU's op for op) */
    float decay;        /* 1 − lr·weight_decay (AdamW) */
    float beta1, one_minus_beta1, beta2, one_minus_beta2;
    float bc2_sqrt;     /* sqrt(1 − beta2^step) */
    float eps;
    float neg_step;     /* −lr / (1 − beta1^step) */
    float l2;           /* Adam's L2 weight decay added to the gradient */
    int32_t adamw;      /* 1: AdamW (decoupled decay), 0: Adam */
    float ema_weight;   /* EMA: ema = lerp(ema, p, ema_weight), 1 − decay (1: copy) */
    int32_t ema;        /* 1: update the EMA this step */
    float max_norm;     /* global-norm clipping, 0 = off */
    int32_t scaler;     /* 1: dynamic loss scaling (16-mixed) */
    float lr;           /* for reports */
    int32_t pad_;
} ds_step_scalars;

/* Results of a step and the loss scaler's state, in device memory; the host reads a copy
 * after the step (pinned) and never in the middle. */
typedef struct ds_step_state {
    double grad_sumsq;  /* Σ g² of the gradients as stored (scaled under 16-mixed) */
    float loss;         /* sum of the micro-batch losses (each a mean) */
    float grad_norm;    /* of the unscaled gradient, before clipping */
    int32_t found_inf;  /* loss or gradient not finite: no update, EMA untouched */
    float gscale;       /* the factor AdamW applies to g: 1/loss_scale × clip coefficient */
    float loss_scale;   /* 16-mixed: the current scale (GradScaler: 2^16 at start) */
    int32_t growth_tracker; /* clean steps since the scale last changed */
    float scale_used;   /* the scale this step's gradients carry */
    int32_t pad_;
} ds_step_state;

typedef struct ds_dev_mem {
    const char *name;
    /* Device memory: one call per role (ds_device_alloc counts them). NULL + sticky error on failure. */
    void *(*alloc)(ds_device *d, size_t bytes);
    void (*free)(ds_device *d, void *p);
    /* Page-locked host memory for staging (a CPU stand-in returns plain memory). */
    void *(*host_alloc)(ds_device *d, size_t bytes);
    void (*host_free)(ds_device *d, void *p);
    /* Asynchronous on the device's stream, in stream order. Host buffers must stay valid and
     * unchanged until the stream passes the copy (staging is reused only after an event). */
    void (*upload)(ds_device *d, void *dst, const void *src, size_t bytes);
    void (*download)(ds_device *d, void *dst, const void *src, size_t bytes);
    void (*copy)(ds_device *d, void *dst, const void *src, size_t bytes);
    void (*zero)(ds_device *d, void *p, size_t bytes);
    void (*sync)(ds_device *d);
    /* Events (slots 0..DS_DEV_EVENTS-1): record on the stream; wait on the host. */
    void (*event_record)(ds_device *d, int slot);
    void (*event_sync)(ds_device *d, int slot);
    /* Graph capture of everything issued between begin and end (stream capture); launch
     * replays it. capture_end returns false when the backend cannot capture (stand-in). */
    bool (*capture_begin)(ds_device *d);
    bool (*capture_end)(ds_device *d, int slot);
    void (*graph_launch)(ds_device *d, int slot);
    void (*graph_drop)(ds_device *d, int slot);
    /* Profiling marks (device/prof.h): `cap` timing events; record event i on the stream;
     * milliseconds from event a to event b once the stream has passed both; free them. NULL
     * where ops are synchronous with the host (the profiler reads the clock instead). */
    bool (*prof_init)(ds_device *d, int cap);
    void (*prof_record)(ds_device *d, int i);
    double (*prof_elapsed)(ds_device *d, int a, int b);
    void (*prof_free)(ds_device *d);
} ds_dev_mem;

#define DS_DEV_EVENTS 8
/* Graph slots: the training step has one per staging half (0, 1); a render's model call has
 * its own (2), so a demo rendered between steps never replaces or drops the step's graphs. */
#define DS_DEV_GRAPHS 3
#define DS_DEV_GRAPH_STEP_SLOTS 2
#define DS_DEV_GRAPH_RENDER 2

typedef struct ds_dev_ops {
    /* C[M,N] = alpha·op(A)·op(B) + beta·C, row-major as ds_gemm, over `batch` matrices at
     * element strides sA, sB, sC (cuBLASLt; precision by the device, see device.h). */
    void (*gemm)(ds_device *d, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, int64_t sA, const float *B, int64_t ldb, int64_t sB, float beta, float *C, int64_t ldc,
                 int64_t sC, int64_t batch);
    /* nn.Linear: y[M,N] = x[M,K]·w[N,K]ᵀ + b; backward adds into dx, dw, db (each may be NULL). */
    void (*linear_fwd)(ds_device *d, const float *x, const float *w, const float *b, float *y, int64_t M, int64_t K,
                       int64_t N);
    void (*linear_bwd)(ds_device *d, const float *x, const float *w, const float *dy, float *dx, float *dw, float *db,
                       int64_t M, int64_t K, int64_t N);
    void (*conv_fwd)(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y);
    void (*conv_bwd)(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                     float *dw, float *db);
    /* kind: add 0, sub 1, mul 2 (elementwise.c's BIN_*) */
    void (*binary_fwd)(ds_device *d, int kind, const float *a, const float *b, float *y, int64_t n);
    void (*binary_bwd)(ds_device *d, int kind, const float *a, const float *b, const float *dy, float *da, float *db,
                       int64_t n);
    void (*bcast_fwd)(ds_device *d, int kind, const ds_bcast *g, const float *a, const float *b, float *y);
    void (*bcast_bwd)(ds_device *d, int kind, const ds_bcast *g, const float *a, const float *b, const float *dy,
                      float *da, float *db);
    /* kind: affine 0, silu 1, gelu 2, sigmoid 3 (elementwise.c's UN_*) */
    void (*unary_fwd)(ds_device *d, int kind, float alpha, float beta, const float *x, float *y, int64_t n);
    void (*unary_bwd)(ds_device *d, int kind, float alpha, const float *x, const float *dy, float *dx, int64_t n);
    void (*swiglu_fwd)(ds_device *d, const float *h, float *y, int64_t rows, int64_t I);
    void (*swiglu_bwd)(ds_device *d, const float *h, const float *dy, float *dh, int64_t rows, int64_t I);
    void (*modulate_fwd)(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *h, float *y);
    void (*modulate_bwd)(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *dy, float *dx,
                         float *ds, float *dh);
    /* Permute with 4-D output shape os and input strides is seen from output dims;
     * backward: dst[in] += src[out]. */
    void (*permute)(ds_device *d, const int64_t *os, const int64_t *is, const float *src, float *dst, bool backward);
    /* dst[r·ldd + j] (+)= src[r·lds + j], r < rows, j < cols (concat, slice, repeat, embedding).
     * lds may be 0 (one source row repeated); with add, rows must not overlap in dst. */
    void (*copy2d)(ds_device *d, float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                   bool add);
    /* mode 0 nearest, 1 linear (align_corners False); backward: src = dy [rows, T], dst = dx [rows, Ti] (+=). */
    void (*resize)(ds_device *d, int mode, bool backward, const float *src, float *dst, int64_t rows, int64_t Ti,
                   int64_t T);
    void (*pad_reflect)(ds_device *d, bool backward, const float *src, float *dst, int64_t rows, int64_t T,
                        int64_t To, int64_t left);
    void (*layernorm_fwd)(ds_device *d, const float *x, const float *g, const float *b, float *y, float *mean,
                          float *rstd, int64_t R, int64_t E, float eps);
    void (*layernorm_bwd)(ds_device *d, const float *x, const float *g, const float *mean, const float *rstd,
                          const float *dy, float *dx, float *dg, float *db, int64_t R, int64_t E);
    void (*l2norm_fwd)(ds_device *d, const float *x, float *y, int64_t R, int64_t D);
    void (*l2norm_bwd)(ds_device *d, const float *x, const float *dy, float *dx, int64_t R, int64_t D);
    void (*groupnorm_fwd)(ds_device *d, const ds_gn_geom *g, const float *x, const float *gamma, const float *beta,
                          const float *scale, const float *shift, float *y, float *mean, float *rstd);
    void (*groupnorm_bwd)(ds_device *d, const ds_gn_geom *g, const float *x, const float *gamma, const float *beta,
                          const float *scale, const float *shift, const float *mean, const float *rstd, const float *dy,
                          float *dx, float *dgamma, float *dbeta, float *dscale, float *dshift);
    /* lse [B, Hq, Nq] (log-sum-exp of the scaled scores) is written when not NULL and read by
     * backward, which recomputes the probabilities instead of keeping them. */
    void (*attention_fwd)(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v, float *o,
                          float *lse);
    void (*attention_bwd)(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v,
                          const float *o, const float *lse, const float *dout, float *dq, float *dk, float *dv);
    /* ds_rope over rows = B·N rows of H·D; sign −1 and accumulate for backward. */
    void (*rope)(ds_device *d, const float *x, const float *inv_freq, float *y, int64_t rows, int64_t N, int64_t H,
                 int64_t D, int64_t R, int64_t pos0, float sign, bool accumulate);
    /* nn.Embedding with the row indices in device memory (as floats, exact below 2^24), so a
     * captured graph reads each step's indices: y[b] = table[idx[b]]; dtable[idx[b]] += dy[b]. */
    void (*embed_fwd)(ds_device *d, const float *table, const float *idx, float *y, int64_t B, int64_t E);
    void (*embed_bwd)(ds_device *d, const float *idx, const float *dy, float *dtable, int64_t B, int64_t E);
    void (*fourier_fwd)(ds_device *d, int kind, const float *t, const float *w, float *y, int64_t B, int64_t F);
    void (*fourier_bwd)(ds_device *d, int kind, const float *t, const float *w, const float *dy, float *dt, float *dw,
                        int64_t B, int64_t F);
    /* mean((a−b)²) over n elements or where mask [B, T] (over [B, C, T]) is non-zero.
     * count receives the number of elements averaged (device scalar, read by backward). */
    void (*mse_fwd)(ds_device *d, const float *a, const float *b, const float *mask, float *y, float *count, int64_t n,
                    int64_t C, int64_t T);
    void (*mse_bwd)(ds_device *d, const float *a, const float *b, const float *mask, const float *count,
                    const float *dy, float *da, float *db, int64_t n, int64_t C, int64_t T);
    /* CFG rescale (models/cfg.c): y = phi·raw·(std₁(cond)/std₁(raw)) + (1 − phi)·raw. */
    void (*cfg_rescale)(ds_device *d, const float *cond, const float *raw, float *y, int64_t B, int64_t C, int64_t T,
                        float phi);
    /* g[i] += (dout ? dout[i] : 1) · (scale ? *scale : 1): the seed of ds_backward. */
    void (*seed_grad)(ds_device *d, float *g, const float *dout, const float *scale, int64_t n);
    void (*fill)(ds_device *d, float *p, int64_t n, float v);
    /* ---- the training step over the flat buffers (train/trainer_dev.c) ---- */
    /* st->grad_sumsq, grad_norm, found_inf (loss or any gradient non-finite) and gscale
     * (1/scale when scaling, times the clip coefficient) from g[n] and st->loss. */
    void (*grad_stats)(ds_device *d, const float *g, int64_t n, const ds_step_scalars *sc, ds_step_state *st);
    /* AdamW/Adam (torch 1.13 single-tensor order, as train/optim.c) over p, g·gscale, m, v [n],
     * skipped when st->found_inf; EMA (ema = lerp(ema, p_before, ema_weight)) over the first
     * n_ema floats in the same pass; lp (when not NULL) receives the new p in the device's
     * half type for the next step's GEMMs. Then the loss scaler's update (16-mixed). */
    void (*adamw)(ds_device *d, float *p, const float *g, float *m, float *v, float *ema, int64_t n, int64_t n_ema,
                  void *lp, const ds_step_scalars *sc, ds_step_state *st);
    /* lp[i] = half(p[i]) (after weights change outside a step). */
    void (*to_half)(ds_device *d, const float *p, void *lp, int64_t n);
} ds_dev_ops;

#endif
