/* The op set: every op has a forward (this header) and a backward (recorded on the tape
 * when gradients are on). Forwards allocate their outputs from the context's arena;
 * backwards add (+=) into input gradients. The CPU kernels are plain loops (threaded
 * with ds_parallel_for) and OpenBLAS sgemm; see the files of ops/. On a context bound to
 * a device each wrapper takes one branch to the device's op table (device/backend.h,
 * device/dispatch.h) with the same semantics.
 *
 * Shape legend: B batch, C channels, T time, N tokens, E width, H heads, D head dim.
 * All tensors are contiguous float32. Shape mismatches are programmer errors (assert):
 * models derive shapes from validated configs. */
#ifndef DS_OPS_H
#define DS_OPS_H

#include "tensor/tensor.h"

/* ---- GEMM (ops/gemm.c) ----
 * C[M,N] = alpha * op(A) op(B) + beta * C, row-major. Splits large products across the
 * pool's threads, each part a single-threaded OpenBLAS call (OpenBLAS itself is kept at one
 * thread so the pool and BLAS never compete for cores). */
void ds_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* The same, always on the calling thread (for use inside parallel regions). */
void ds_gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Floating-point operations of matrix products and convolutions issued so far (2·M·N·K per
 * GEMM; direct convolution kernels add theirs with ds_flops_add). Benchmarks read it. */
uint64_t ds_gemm_flops(void);
void ds_flops_add(uint64_t n);
/* Sets the threads used by ds_gemm and the pool (0: all online CPUs). */
void ds_set_threads(int n);

/* ---- Linear and convolution (ops/linear.c, ops/conv.c) ---- */
/* y[..., N] = x[..., K] · w[N, K]ᵀ + b[N] (b may be NULL). nn.Linear. */
ds_tensor *ds_linear(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b);
/* y[B, Co, To] = conv1d(x[B, Ci, T], w[Co, Ci/groups, K]) + b[Co] (b may be NULL) with zero
 * padding pad_l/pad_r, stride, dilation. PyTorch cross-correlation semantics:
 * To = (T + pad_l + pad_r - dil*(K-1) - 1) / stride + 1. */
ds_tensor *ds_conv1d(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b, int stride, int pad_l, int pad_r,
                     int dilation, int groups);
/* y[B, Co, To] = conv_transpose1d(x[B, Ci, T], w[Ci, Co/groups, K]) + b[Co] (nn.ConvTranspose1d):
 * the full result z[b, o, n·stride + k] += Σ_i w[i, o, k]·x[b, i, n] has length (T−1)·stride + K;
 * y = z cropped by pad_l on the left and pad_r on the right (pad_r < 0 appends −pad_r positions
 * that hold only the bias). nn.ConvTranspose1d(padding p, output_padding op) is pad_l = p,
 * pad_r = p − op; ADP's trimming of k − stride is pad_l = ⌈(k−s)/2⌉, pad_r = ⌊(k−s)/2⌋.
 * To = (T−1)·stride + K − pad_l − pad_r. */
ds_tensor *ds_conv_transpose1d(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b, int stride, int pad_l,
                               int pad_r, int groups);

/* ---- Elementwise (ops/elementwise.c) ---- */
ds_tensor *ds_add(ds_ctx *c, ds_tensor *a, ds_tensor *b); /* same shape */
ds_tensor *ds_sub(ds_ctx *c, ds_tensor *a, ds_tensor *b);
ds_tensor *ds_mul(ds_ctx *c, ds_tensor *a, ds_tensor *b);
/* Broadcasting add/mul: a and b have the same ndim; each dim equal or 1 in one of them. */
ds_tensor *ds_add_bc(ds_ctx *c, ds_tensor *a, ds_tensor *b);
ds_tensor *ds_mul_bc(ds_ctx *c, ds_tensor *a, ds_tensor *b);
/* y = alpha * x + beta */
ds_tensor *ds_affine(ds_ctx *c, ds_tensor *x, float alpha, float beta);
ds_tensor *ds_silu(ds_ctx *c, ds_tensor *x);
ds_tensor *ds_gelu(ds_ctx *c, ds_tensor *x); /* exact erf GELU (nn.GELU()) */
ds_tensor *ds_sigmoid(ds_ctx *c, ds_tensor *x);
/* h[..., 2I] -> a * silu(g) where a = h[..., :I], g = h[..., I:] (SAT's GLU with SiLU). */
ds_tensor *ds_swiglu(ds_ctx *c, ds_tensor *h);
/* x * (1 + scale) + shift, scale/shift broadcast like ds_add_bc (adaLN modulation). */
ds_tensor *ds_modulate(ds_ctx *c, ds_tensor *x, ds_tensor *scale, ds_tensor *shift);

/* ---- Shapes (ops/shape.c) ---- */
/* A view with the same data and gradient; numel must match. */
ds_tensor *ds_reshape(ds_ctx *c, ds_tensor *x, int ndim, const int64_t *shape);
ds_tensor *ds_reshape2(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1);
ds_tensor *ds_reshape3(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1, int64_t d2);
ds_tensor *ds_reshape4(ds_ctx *c, ds_tensor *x, int64_t d0, int64_t d1, int64_t d2, int64_t d3);
/* Permutes dims: out.shape[i] = x.shape[perm[i]] (torch.permute). */
ds_tensor *ds_permute(ds_ctx *c, ds_tensor *x, const int *perm);
/* Swaps the last two dims of a 3-D tensor: [A, M, N] -> [A, N, M]. */
ds_tensor *ds_transpose12(ds_ctx *c, ds_tensor *x);
/* Concatenation along dim of n tensors that agree elsewhere. NULL entries are skipped. */
ds_tensor *ds_concat(ds_ctx *c, int dim, int n, ds_tensor *const *xs);
ds_tensor *ds_slice(ds_ctx *c, ds_tensor *x, int dim, int64_t start, int64_t len);
/* x[B, C, Ti] -> [B, C, T]: nearest (F.interpolate mode="nearest"): src = floor(j * Ti/T). */
ds_tensor *ds_resize_nearest(ds_ctx *c, ds_tensor *x, int64_t T);
/* x[B, C, Ti] -> [B, C, T]: linear, align_corners=False (F.interpolate mode="linear"). */
ds_tensor *ds_resize_linear(ds_ctx *c, ds_tensor *x, int64_t T);
/* F.pad(x, (left, right), mode="reflect") on the last dim of x [..., T]: out[j] = x[r(j − left)]
 * with r(i) = −i below 0 and 2(T−1) − i above T−1 (the edge sample is not repeated).
 * Needs left, right < T. */
ds_tensor *ds_pad_reflect(ds_ctx *c, ds_tensor *x, int left, int right);
/* Repeats x along dim 0 `times` times: [B, ...] -> [times*B, ...] (torch.cat([x]*times)). */
ds_tensor *ds_repeat0(ds_ctx *c, ds_tensor *x, int times);

/* ---- Normalisation (ops/norm.c) ---- */
/* Over the last dim E: (x - mean) / sqrt(var + eps) * gamma + beta; gamma/beta [E] may be NULL. */
ds_tensor *ds_layernorm(ds_ctx *c, ds_tensor *x, ds_tensor *gamma, ds_tensor *beta, float eps);
/* x [..., D] / max(||x||_2, 1e-12) over the last dim (F.normalize). */
ds_tensor *ds_l2norm(ds_ctx *c, ds_tensor *x);

/* ---- Group normalisation (ops/groupnorm.c) ---- */
typedef enum ds_act { DS_ACT_NONE, DS_ACT_SILU, DS_ACT_GELU } ds_act;
/* nn.GroupNorm(groups, C, eps) on x [B, C, T]: per sample and group of C/groups channels,
 * (x − mean)/sqrt(var + eps) over channels × time (biased var), then · gamma[C] + beta[C]
 * (either may be NULL). */
ds_tensor *ds_group_norm(ds_ctx *c, ds_tensor *x, int groups, ds_tensor *gamma, ds_tensor *beta, float eps);
/* The same fused with what follows it in the U-Net blocks: z = n·(scale + 1) + shift when
 * scale/shift (B·C elements each, [B, C] or [B, C, 1]; both or neither) are given (ADP
 * ConvBlock1d), then y = act(z) (SiLU: ADP, GELU: DAU1d ResConvBlock). */
ds_tensor *ds_group_norm_act(ds_ctx *c, ds_tensor *x, int groups, ds_tensor *gamma, ds_tensor *beta, float eps,
                             ds_tensor *scale, ds_tensor *shift, ds_act act);

/* ---- Attention (ops/attention.c) ----
 * q [B, Nq, Hq*D], k/v [B, Nk, Hk*D] -> [B, Nq, Hq*D]: per head softmax(q kᵀ · scale) v.
 * Grouped K/V: Hq must be a multiple of Hk; query head h uses K/V head h / (Hq/Hk)
 * (repeat_interleave). No mask, not causal (SAT's DiT never masks; ADP's "masks" multiply
 * K and V before this op). */
ds_tensor *ds_attention(ds_ctx *c, ds_tensor *q, ds_tensor *k, ds_tensor *v, int Hq, int Hk, float scale);
/* Rotary embedding, GPT-NeoX "rotate half", on the first R dims of every head of x [B, N, H*D];
 * angle for token n, pair j: (n + pos0) * inv_freq[j], inv_freq [R/2] (a buffer). */
ds_tensor *ds_rope(ds_ctx *c, ds_tensor *x, int H, int R, const ds_tensor *inv_freq, int64_t pos0);

/* ---- Embeddings (ops/embed.c) ---- */
typedef enum ds_fourier_kind {
    /* SAT FourierFeatures (DiT, DAU1d): f = (2π·t)·w; out = [cos f, sin f] -> [B, 2F] */
    DS_FOURIER_COS_SIN,
    /* ADP LearnedPositionalEmbedding / NumberEmbedder: f = ((t·w)·2)·π; out = [t, sin f, cos f] -> [B, 2F+1] */
    DS_FOURIER_X_SIN_COS,
} ds_fourier_kind;
/* t [B] (data, no gradient), w with F elements (a parameter: receives a gradient). */
ds_tensor *ds_fourier(ds_ctx *c, ds_tensor *t, ds_tensor *w, ds_fourier_kind kind);
/* rows of table [V, E] picked by idx[B] (host ints) -> [B, E] (nn.Embedding). */
ds_tensor *ds_embedding(ds_ctx *c, ds_tensor *table, const int64_t *idx, int64_t B);

/* ---- Losses (ops/loss.c) ---- */
/* mean((a - b)²) over all elements, or over elements where mask [B, T] (broadcast over the
 * middle dim of [B, C, T]) is non-zero. Returns a [1] tensor. The mask lives where the
 * context's tensors live (device memory on a device). */
ds_tensor *ds_mse(ds_ctx *c, ds_tensor *a, ds_tensor *b, const float *mask);

#endif
