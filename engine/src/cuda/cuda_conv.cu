// 1-D convolution and transposed convolution (ops/conv.c semantics).
//
// Two paths:
//  - cuDNN (cudnn_conv.cu), as a 2-D convolution of height 1, whenever its symmetric
//    padding gives our output length (every conv of the SAT models; the asymmetric-padding
//    cases fall through). Selected unless DS_CUDNN=0 or the build has no cuDNN.
//  - plain kernels, here: per (batch item, group) an im2col tile and a cuBLASLt GEMM, as the
//    CPU's GEMM path (conv fwd: y = W·unfold(x); dW += dy·unfold(x)ᵀ; dx += fold(Wᵀ·dy);
//    transposed: y = fold(Wᵀ·x); dx += W·unfold(dy); dW += x·unfold(dy)ᵀ), folds written as
//    gathers; depthwise layers (DAU1d's fixed resampling kernels) by direct kernels.
#include <math.h>

#include "cuda/cuda_internal.cuh"

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

bool cu_cudnn_conv_fwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y);
int cu_cudnn_conv_bwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                      float *dw, float *db);

// col[c·K + k, n] = src[c, n·stride + k·dil − pad] (0 outside [0, Ts)), n < N.
__global__ void k_unfold(const float *__restrict__ src, float *__restrict__ col, int64_t C, int64_t Ts, int64_t K,
                         int stride, int dil, int pad, int64_t N) {
    GS_LOOP(i, C * K * N) {
        int64_t n = i % N, ck = i / N, k = ck % K, c = ck / K;
        int64_t s = n * stride + k * dil - pad;
        col[i] = s >= 0 && s < Ts ? src[c * Ts + s] : 0.0f;
    }
}

// dst[c, s] (+)= Σ_{k, n: n·stride + k·dil − pad = s} col[c·K + k, n], s < Ts; the adjoint of
// k_unfold as a gather. init: bias per channel (or 0) instead of accumulating.
__global__ void k_fold(const float *__restrict__ col, float *__restrict__ dst, const float *__restrict__ bias, int64_t C,
                       int64_t Ts, int64_t K, int stride, int dil, int pad, int64_t N, bool accumulate) {
    GS_LOOP(i, C * Ts) {
        int64_t s = i % Ts, c = i / Ts;
        float acc = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            int64_t q = s + pad - k * dil;
            if (q < 0 || q % stride) continue;
            int64_t n = q / stride;
            if (n < N) acc += col[(c * K + k) * N + n];
        }
        if (accumulate)
            dst[i] += acc;
        else
            dst[i] = acc + (bias ? bias[c] : 0.0f);
    }
}

// y[b, o, t] = bias[o] over Co rows of To.
__global__ void k_bias_fill(float *__restrict__ y, const float *__restrict__ b, int64_t BC, int64_t Co, int64_t To) {
    GS_LOOP(i, BC * To) y[i] = b ? b[(i / To) % Co] : 0.0f;
}

// db[o] += Σ_{b,t} dy[b, o, t] (a block per channel).
__global__ void k_bias_grad(const float *__restrict__ dy, float *__restrict__ db, int64_t B, int64_t Co, int64_t To) {
    __shared__ double sh[32];
    int64_t o = blockIdx.x;
    double s = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = threadIdx.x; t < To; t += blockDim.x) s += dy[(b * Co + o) * To + t];
    s = cu_block_sum(s, sh);
    if (threadIdx.x == 0) db[o] += (float)s;
}

// ---------- depthwise (one channel per group) ----------

// conv: y[r, n] = bias + Σ_k w[c, k]·x[r, n·s + k·dil − pad]; transposed: y[r, m] = bias +
// Σ_{k, n: n·s + k − pad = m} w[c, k]·x[r, n].
__global__ void k_dw_fwd(ds_conv_geom g, const float *__restrict__ x, const float *__restrict__ w,
                         const float *__restrict__ b, float *__restrict__ y) {
    GS_LOOP(i, g.B * g.Co * g.To) {
        int64_t r = i / g.To, m = i % g.To, c = r % g.Co;
        const float *xr = x + r * g.T, *wc = w + c * g.K;
        float acc = 0.0f;
        if (!g.transposed) {
            for (int64_t k = 0; k < g.K; k++) {
                int64_t s = m * g.stride + k * g.dil - g.pad_l;
                if (s >= 0 && s < g.T) acc += wc[k] * xr[s];
            }
        } else {
            for (int64_t k = 0; k < g.K; k++) {
                int64_t q = m + g.pad_l - k;
                if (q < 0 || q % g.stride) continue;
                int64_t n = q / g.stride;
                if (n < g.T) acc += wc[k] * xr[n];
            }
        }
        y[i] = (b ? b[c] : 0.0f) + acc;
    }
}

// dx as a gather: conv: dx[r, s] = Σ_{k, n: n·st + k·dil − pad = s} w[k]·dy[r, n];
// transposed: dx[r, n] = Σ_k w[k]·dy[r, n·st + k − pad].
__global__ void k_dw_dx(ds_conv_geom g, const float *__restrict__ w, const float *__restrict__ dy, float *__restrict__ dx) {
    GS_LOOP(i, g.B * g.Ci * g.T) {
        int64_t r = i / g.T, s = i % g.T, c = r % g.Co;
        const float *gr = dy + r * g.To, *wc = w + c * g.K;
        float acc = 0.0f;
        for (int64_t k = 0; k < g.K; k++) {
            if (!g.transposed) {
                int64_t q = s + g.pad_l - k * g.dil;
                if (q < 0 || q % g.stride) continue;
                int64_t n = q / g.stride;
                if (n < g.To) acc += wc[k] * gr[n];
            } else {
                int64_t m = s * g.stride + k - g.pad_l;
                if (m >= 0 && m < g.To) acc += wc[k] * gr[m];
            }
        }
        dx[i] += acc;
    }
}

// dw[c, k] += Σ_{b, pairs} x·dy: a block per (c, k).
__global__ void k_dw_dw(ds_conv_geom g, const float *__restrict__ x, const float *__restrict__ dy, float *__restrict__ dw) {
    __shared__ float sh[32];
    int64_t c = blockIdx.x / g.K, k = blockIdx.x % g.K;
    int64_t N = g.transposed ? g.T : g.To;
    float s = 0.0f;
    for (int64_t b = 0; b < g.B; b++) {
        const float *xr = x + (b * g.Ci + c) * g.T, *gr = dy + (b * g.Co + c) * g.To;
        for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
            if (!g.transposed) {
                int64_t q = n * g.stride + k * g.dil - g.pad_l;
                if (q >= 0 && q < g.T) s += gr[n] * xr[q];
            } else {
                int64_t m = n * g.stride + k - g.pad_l;
                if (m >= 0 && m < g.To) s += gr[m] * xr[n];
            }
        }
    }
    s = cu_block_sum(s, sh);
    if (threadIdx.x == 0) dw[blockIdx.x] += s;
}

static bool depthwise(const ds_conv_geom *g) { return g->Cig == 1 && g->Cog == 1 && g->K > 1; }

// ---------- GEMM path ----------

static void gemm_fwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    const char *op = g->transposed ? "conv_transpose1d" : "conv1d";
    cudaStream_t s = cu_stream(d);
    cu_dtype t = cu_gemm_type(d);
    int esz = t == CU_F32 ? 4 : 2;
    int64_t KK = g->Cig * g->K, OK = g->Cog * g->K;
    const void *wa = cu_operand(d, w, g->transposed ? g->Ci * OK : g->Co * KK, CU_SLOT_CAST_B, op);
    if (!wa) return;
    if (!g->transposed) {
        bool pointwise = g->K == 1 && g->stride == 1 && g->pad_l == 0 && g->To == g->T;
        k_bias_fill<<<cu_blocks(g->B * g->Co * g->To, 256), 256, 0, s>>>(y, b, g->B * g->Co, g->Co, g->To);
        if (!CU_LAUNCHED(d, op)) return;
        if (pointwise) { // y_b[Co, T] += W[Co, Ci]·x_b[Ci, T], batched over b, per group
            const void *xa = cu_operand(d, x, g->B * g->Ci * g->T, CU_SLOT_CAST_A, op);
            if (!xa) return;
            for (int64_t gr = 0; gr < g->G; gr++)
                if (cu_matmul(d, op, false, false, g->Cog, g->T, g->Cig, 1.0f, (const char *)wa + gr * g->Cog * KK * esz, KK,
                              0, (const char *)xa + gr * g->Cig * g->T * esz, g->T, g->Ci * g->T, 1.0f,
                              y + gr * g->Cog * g->To, g->To, g->Co * g->To, g->B, t, NULL) != 1)
                    return;
            return;
        }
        float *col = (float *)cu_scratch(d, CU_SLOT_COLS, (size_t)(KK * g->To) * 4, op);
        if (!col) return;
        for (int64_t bb = 0; bb < g->B; bb++)
            for (int64_t gr = 0; gr < g->G; gr++) {
                k_unfold<<<cu_blocks(KK * g->To, 256), 256, 0, s>>>(x + (bb * g->Ci + gr * g->Cig) * g->T, col, g->Cig,
                                                                    g->T, g->K, g->stride, g->dil, g->pad_l, g->To);
                if (!CU_LAUNCHED(d, op)) return;
                const void *ca = cu_operand(d, col, KK * g->To, CU_SLOT_CAST_C, op);
                if (!ca || cu_matmul(d, op, false, false, g->Cog, g->To, KK, 1.0f, (const char *)wa + gr * g->Cog * KK * esz,
                                     KK, 0, ca, g->To, 0, 1.0f, y + (bb * g->Co + gr * g->Cog) * g->To, g->To, 0, 1, t,
                                     NULL) != 1)
                    return;
            }
        return;
    }
    // transposed: col[Cog·K, T] = W_gᵀ·x_bg; y_bg = bias + fold(col)
    float *col = (float *)cu_scratch(d, CU_SLOT_COLS, (size_t)(OK * g->T) * 4, op);
    const void *xa = cu_operand(d, x, g->B * g->Ci * g->T, CU_SLOT_CAST_A, op);
    if (!col || !xa) return;
    for (int64_t bb = 0; bb < g->B; bb++)
        for (int64_t gr = 0; gr < g->G; gr++) {
            if (cu_matmul(d, op, true, false, OK, g->T, g->Cig, 1.0f, (const char *)wa + gr * g->Cig * OK * esz, OK, 0,
                          (const char *)xa + (bb * g->Ci + gr * g->Cig) * g->T * esz, g->T, 0, 0.0f, col, g->T, 0, 1, t,
                          NULL) != 1)
                return;
            k_fold<<<cu_blocks(g->Cog * g->To, 256), 256, 0, s>>>(col, y + (bb * g->Co + gr * g->Cog) * g->To,
                                                                  b ? b + gr * g->Cog : NULL, g->Cog, g->To, g->K,
                                                                  g->stride, 1, g->pad_l, g->T, false);
            if (!CU_LAUNCHED(d, op)) return;
        }
}

static void gemm_bwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                     float *dw) {
    const char *op = g->transposed ? "conv_transpose1d backward" : "conv1d backward";
    cudaStream_t s = cu_stream(d);
    cu_dtype t = cu_gemm_type(d);
    int esz = t == CU_F32 ? 4 : 2;
    int64_t KK = g->Cig * g->K, OK = g->Cog * g->K;
    const void *wa = cu_operand(d, w, g->transposed ? g->Ci * OK : g->Co * KK, CU_SLOT_CAST_B, op);
    const void *ga = cu_operand(d, dy, g->B * g->Co * g->To, CU_SLOT_CAST_D, op);
    const void *xa = cu_operand(d, x, g->B * g->Ci * g->T, CU_SLOT_CAST_A, op);
    if (!wa || !ga || !xa) return;
    if (!g->transposed) {
        float *col = (float *)cu_scratch(d, CU_SLOT_COLS, (size_t)(KK * g->To) * 4, op);
        if (!col) return;
        for (int64_t bb = 0; bb < g->B; bb++)
            for (int64_t gr = 0; gr < g->G; gr++) {
                const char *gy = (const char *)ga + (bb * g->Co + gr * g->Cog) * g->To * esz;
                const char *wg = (const char *)wa + gr * g->Cog * KK * esz;
                if (dw) { // dW_g += dy_bg[Cog, To]·unfold(x_bg)ᵀ
                    k_unfold<<<cu_blocks(KK * g->To, 256), 256, 0, s>>>(x + (bb * g->Ci + gr * g->Cig) * g->T, col, g->Cig,
                                                                        g->T, g->K, g->stride, g->dil, g->pad_l, g->To);
                    if (!CU_LAUNCHED(d, op)) return;
                    const void *ca = cu_operand(d, col, KK * g->To, CU_SLOT_CAST_C, op);
                    if (!ca || cu_matmul(d, op, false, true, g->Cog, KK, g->To, 1.0f, gy, g->To, 0, ca, g->To, 0, 1.0f,
                                         dw + gr * g->Cog * KK, KK, 0, 1, t, NULL) != 1)
                        return;
                }
                if (dx) { // dcol[KK, To] = W_gᵀ·dy_bg; dx_bg += fold(dcol)
                    if (cu_matmul(d, op, true, false, KK, g->To, g->Cog, 1.0f, wg, KK, 0, gy, g->To, 0, 0.0f, col, g->To,
                                  0, 1, t, NULL) != 1)
                        return;
                    k_fold<<<cu_blocks(g->Cig * g->T, 256), 256, 0, s>>>(col, dx + (bb * g->Ci + gr * g->Cig) * g->T, NULL,
                                                                         g->Cig, g->T, g->K, g->stride, g->dil, g->pad_l,
                                                                         g->To, true);
                    if (!CU_LAUNCHED(d, op)) return;
                }
            }
        return;
    }
    float *dcol = (float *)cu_scratch(d, CU_SLOT_COLS, (size_t)(OK * g->T) * 4, op);
    if (!dcol) return;
    for (int64_t bb = 0; bb < g->B; bb++)
        for (int64_t gr = 0; gr < g->G; gr++) {
            // dcol[Cog·K, T] = unfold(dy_bg) with (stride, dil 1, pad)
            k_unfold<<<cu_blocks(OK * g->T, 256), 256, 0, s>>>(dy + (bb * g->Co + gr * g->Cog) * g->To, dcol, g->Cog,
                                                               g->To, g->K, g->stride, 1, g->pad_l, g->T);
            if (!CU_LAUNCHED(d, op)) return;
            const void *da = cu_operand(d, dcol, OK * g->T, CU_SLOT_CAST_C, op);
            if (!da) return;
            const char *wg = (const char *)wa + gr * g->Cig * OK * esz;
            const char *xg = (const char *)xa + (bb * g->Ci + gr * g->Cig) * g->T * esz;
            if (dx && cu_matmul(d, op, false, false, g->Cig, g->T, OK, 1.0f, wg, OK, 0, da, g->T, 0, 1.0f,
                                dx + (bb * g->Ci + gr * g->Cig) * g->T, g->T, 0, 1, t, NULL) != 1)
                return;
            if (dw && cu_matmul(d, op, false, true, g->Cig, OK, g->T, 1.0f, xg, g->T, 0, da, g->T, 0, 1.0f,
                                dw + gr * g->Cig * OK, OK, 0, 1, t, NULL) != 1)
                return;
        }
}

static bool use_cudnn(ds_device *d) {
#ifdef DS_HAVE_CUDNN
    return cu(d)->use_cudnn;
#else
    (void)d;
    return false;
#endif
}

/* A 1×1, stride-1, unpadded, ungrouped convolution is a batched GEMM: cuBLASLt does it at
 * least as fast as cuDNN, and its calls can be captured in a step graph (cuDNN's backward-
 * filter kernels for half precision could not, which turned graphs off for the DiT's
 * pre/post convs). */
static bool pointwise(const ds_conv_geom *g) {
    return g->K == 1 && g->stride == 1 && g->dil == 1 && g->pad_l == 0 && g->pad_r == 0 && g->G == 1 && !g->transposed;
}

static void op_conv_fwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    CU_ENTER(d);
    if (g->B * g->Co * g->To <= 0) return;
    if (use_cudnn(d) && !pointwise(g) && cu_cudnn_conv_fwd(d, g, x, w, b, y)) return;
    CU_ENTER(d);
    if (depthwise(g)) {
        k_dw_fwd<<<cu_blocks(g->B * g->Co * g->To, 256), 256, 0, cu_stream(d)>>>(*g, x, w, b, y);
        CU_LAUNCHED(d, g->transposed ? "conv_transpose1d" : "conv1d");
        return;
    }
    gemm_fwd(d, g, x, w, b, y);
}

static void op_conv_bwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                        float *dw, float *db) {
    CU_ENTER(d);
    const char *op = g->transposed ? "conv_transpose1d backward" : "conv1d backward";
    if (g->B * g->Co * g->To <= 0) return;
    if (use_cudnn(d) && !pointwise(g)) { // what cuDNN did is dropped from the plain path's work
        int done = cu_cudnn_conv_bwd(d, g, x, w, dy, dx, dw, db);
        if (done & 1) db = NULL;
        if (done & 2) dx = NULL;
        if (done & 4) dw = NULL;
    }
    CU_ENTER(d);
    cudaStream_t s = cu_stream(d);
    if (db) {
        k_bias_grad<<<(unsigned)g->Co, 256, 0, s>>>(dy, db, g->B, g->Co, g->To);
        if (!CU_LAUNCHED(d, op)) return;
    }
    if (!dx && !dw) return;
    if (depthwise(g)) {
        if (dx) {
            k_dw_dx<<<cu_blocks(g->B * g->Ci * g->T, 256), 256, 0, s>>>(*g, w, dy, dx);
            if (!CU_LAUNCHED(d, op)) return;
        }
        if (dw) {
            k_dw_dw<<<(unsigned)(g->Co * g->K), 256, 0, s>>>(*g, x, dy, dw);
            CU_LAUNCHED(d, op);
        }
        return;
    }
    gemm_bwd(d, g, x, w, dy, dx, dw);
}

void cu_fill_conv_ops(ds_dev_ops *o) {
    o->conv_fwd = op_conv_fwd;
    o->conv_bwd = op_conv_bwd;
}

// Bias gradient helper for the cuDNN path (kept here with its kernel).
void cu_conv_bias_grad(ds_device *d, const ds_conv_geom *g, const float *dy, float *db) {
    k_bias_grad<<<(unsigned)g->Co, 256, 0, cu_stream(d)>>>(dy, db, g->B, g->Co, g->To);
    CU_LAUNCHED(d, "conv bias backward");
}
