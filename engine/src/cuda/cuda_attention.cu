// Attention (ops/attention.c) by GEMMs: the scores of every head with cuBLASLt (tensor
// cores in the mixed modes), a row softmax kernel, then P·V. Forward keeps only the row
// log-sum-exp for backward, which recomputes P = exp(S − lse) (the flash-attention
// recurrence without the tiling): saved memory per call is B·H·Nq floats instead of
// B·H·Nq·Nk, and the scores live in a workspace reused by every layer.
//   dV += Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP − rowsum(dO ∘ O));  dQ += scale·dS K;  dK += scale·dSᵀ Q
// Grouped K/V (Hq = G·Hk): query head h reads K/V head h / G; the G heads of a group
// accumulate into dK/dV one after another on the stream, so there is no race.
// This is the plain-kernel path. In the mixed precisions both directions can go through
// cuDNN's fused SDPA instead (cudnn_sdpa.cu, opt-in with DS_CUDNN_SDPA); the statistics have
// the meaning of our lse, so either forward pairs with either backward.
#include <math.h>

#include "cuda/cuda_internal.cuh"

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// Softmax of each row in place (a warp per row); lse[row] = max + log Σ exp.
__global__ void k_softmax_rows(float *__restrict__ S, float *__restrict__ lse, int64_t rows, int64_t cols) {
    int lane = threadIdx.x & 31;
    int64_t wpb = blockDim.x >> 5;
    for (int64_t row = (int64_t)blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (int64_t)gridDim.x * wpb) {
        float *s = S + row * cols;
        float m = -INFINITY;
        for (int64_t j = lane; j < cols; j += 32) m = fmaxf(m, s[j]);
        m = cu_warp_max(m);
        float sum = 0.0f;
        for (int64_t j = lane; j < cols; j += 32) {
            float e = expf(s[j] - m);
            s[j] = e;
            sum += e;
        }
        sum = cu_warp_sum(sum);
        float inv = 1.0f / sum;
        for (int64_t j = lane; j < cols; j += 32) s[j] *= inv;
        if (lse && lane == 0) lse[row] = m + logf(sum);
    }
}

// P = exp(S − lse[row]) in place.
__global__ void k_probs(float *__restrict__ S, const float *__restrict__ lse, int64_t n, int64_t cols) {
    GS_LOOP(i, n) S[i] = expf(S[i] - lse[i / cols]);
}

// Dsum[b, h, i] = Σ_d dO[b, i, h·D + d]·O[b, i, h·D + d] (a warp per row).
__global__ void k_rowdot(const float *__restrict__ dO, const float *__restrict__ O, float *__restrict__ out, int64_t B,
                         int64_t Hq, int64_t Nq, int64_t D) {
    int lane = threadIdx.x & 31;
    int64_t wpb = blockDim.x >> 5;
    for (int64_t row = (int64_t)blockIdx.x * wpb + (threadIdx.x >> 5); row < B * Hq * Nq; row += (int64_t)gridDim.x * wpb) {
        int64_t i = row % Nq, h = (row / Nq) % Hq, b = row / (Nq * Hq);
        const float *a = dO + (b * Nq + i) * Hq * D + h * D, *o = O + (b * Nq + i) * Hq * D + h * D;
        float s = 0.0f;
        for (int64_t d = lane; d < D; d += 32) s += a[d] * o[d];
        s = cu_warp_sum(s);
        if (lane == 0) out[row] = s;
    }
}

// dS = P ∘ (dP − Dsum[row]) into dP.
__global__ void k_dscores(const float *__restrict__ P, float *__restrict__ dP, const float *__restrict__ Dsum, int64_t n,
                          int64_t cols) {
    GS_LOOP(i, n) dP[i] = P[i] * (dP[i] - Dsum[i / cols]);
}

struct attn_ops {
    const void *q, *k, *v; // GEMM operands (f32 or half copies)
    cu_dtype t;
};

// S[b, h] = scale·Q_h K_khᵀ for every head.
static bool scores(ds_device *d, const char *op, const ds_attn_geom *g, const attn_ops *a, float *S) {
    int64_t Wq = g->Hq * g->D, Wk = g->Hk * g->D, G = g->Hq / g->Hk, NN = g->Nq * g->Nk;
    int esz = a->t == CU_F32 ? 4 : 2;
    for (int64_t h = 0; h < g->Hq; h++) {
        const char *qh = (const char *)a->q + (size_t)(h * g->D) * esz;
        const char *kh = (const char *)a->k + (size_t)((h / G) * g->D) * esz;
        if (cu_matmul(d, op, false, true, g->Nq, g->Nk, g->D, g->scale, qh, Wq, g->Nq * Wq, kh, Wk, g->Nk * Wk, 0.0f,
                      S + h * NN, g->Nk, g->Hq * NN, g->B, a->t, NULL) != 1)
            return false;
    }
    return true;
}

static bool prepare(ds_device *d, const char *op, const ds_attn_geom *g, const float *q, const float *k, const float *v,
                    attn_ops *a) {
    a->t = cu_gemm_type(d);
    int64_t nq = g->B * g->Nq * g->Hq * g->D, nk = g->B * g->Nk * g->Hk * g->D;
    a->q = cu_operand(d, q, nq, CU_SLOT_CAST_A, op);
    a->k = cu_operand(d, k, nk, CU_SLOT_CAST_B, op);
    a->v = cu_operand(d, v, nk, CU_SLOT_CAST_C, op);
    return a->q && a->k && a->v;
}

static void op_attention_fwd(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v,
                             float *o, float *lse) {
    CU_ENTER(d);
    const char *op = "attention";
    cudaStream_t s = cu_stream(d);
    int64_t rows = g->B * g->Hq * g->Nq, NN = g->Nq * g->Nk, Wq = g->Hq * g->D, Wk = g->Hk * g->D, G = g->Hq / g->Hk;
    attn_ops a;
    if (!prepare(d, op, g, q, k, v, &a)) return;
    if (cu_sdpa_fwd(d, g, a.q, a.k, a.v, a.t, o, lse)) return;
    float *S = (float *)cu_scratch(d, CU_SLOT_SCORES, (size_t)(rows * g->Nk) * sizeof(float), op);
    if (!S || !scores(d, op, g, &a, S)) return;
    k_softmax_rows<<<cu_blocks(rows, 8), 256, 0, s>>>(S, lse, rows, g->Nk);
    if (!CU_LAUNCHED(d, op)) return;
    const void *P = cu_operand(d, S, rows * g->Nk, CU_SLOT_CAST_E, op);
    if (!P) return;
    int esz = a.t == CU_F32 ? 4 : 2;
    for (int64_t h = 0; h < g->Hq; h++) {
        const char *vh = (const char *)a.v + (size_t)((h / G) * g->D) * esz;
        const char *ph = (const char *)P + (size_t)(h * NN) * esz;
        if (cu_matmul(d, op, false, false, g->Nq, g->D, g->Nk, 1.0f, ph, g->Nk, g->Hq * NN, vh, Wk, g->Nk * Wk, 0.0f,
                      o + h * g->D, Wq, g->Nq * Wq, g->B, a.t, NULL) != 1)
            return;
    }
}

static void op_attention_bwd(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v,
                             const float *o, const float *lse, const float *dout, float *dq, float *dk, float *dv) {
    CU_ENTER(d);
    const char *op = "attention backward";
    cudaStream_t s = cu_stream(d);
    int64_t rows = g->B * g->Hq * g->Nq, NN = g->Nq * g->Nk, Wq = g->Hq * g->D, Wk = g->Hk * g->D, G = g->Hq / g->Hk;
    int64_t n = rows * g->Nk;
    attn_ops a;
    if (!prepare(d, op, g, q, k, v, &a)) return;
    int esz = a.t == CU_F32 ? 4 : 2;
    const void *dO = cu_operand(d, dout, g->B * g->Nq * Wq, CU_SLOT_CAST_D, op);
    if (dO && cu_sdpa_bwd(d, g, a.q, a.k, a.v, a.t, o, lse, dO, dq, dk, dv)) return;
    float *S = (float *)cu_scratch(d, CU_SLOT_SCORES, (size_t)n * sizeof(float), op);
    float *dP = (float *)cu_scratch(d, CU_SLOT_DSCORES, (size_t)(n + rows) * sizeof(float), op);
    if (!dO || !S || !dP || !scores(d, op, g, &a, S)) return;
    float *Dsum = dP + n;
    k_probs<<<cu_blocks(n, 256), 256, 0, s>>>(S, lse, n, g->Nk);
    if (!CU_LAUNCHED(d, op)) return;
    const void *P = cu_operand(d, S, n, CU_SLOT_CAST_E, op);
    if (!P) return;
    for (int64_t h = 0; h < g->Hq; h++) {
        int64_t kh = h / G;
        const char *ph = (const char *)P + (size_t)(h * NN) * esz, *dOh = (const char *)dO + (size_t)(h * g->D) * esz;
        const char *vh = (const char *)a.v + (size_t)(kh * g->D) * esz;
        if (dv && cu_matmul(d, op, true, false, g->Nk, g->D, g->Nq, 1.0f, ph, g->Nk, g->Hq * NN, dOh, Wq, g->Nq * Wq, 1.0f,
                            dv + kh * g->D, Wk, g->Nk * Wk, g->B, a.t, NULL) != 1)
            return;
        if ((dq || dk) && cu_matmul(d, op, false, true, g->Nq, g->Nk, g->D, 1.0f, dOh, Wq, g->Nq * Wq, vh, Wk, g->Nk * Wk,
                                    0.0f, dP + h * NN, g->Nk, g->Hq * NN, g->B, a.t, NULL) != 1)
            return;
    }
    if (!dq && !dk) return;
    k_rowdot<<<cu_blocks(rows, 8), 256, 0, s>>>(dout, o, Dsum, g->B, g->Hq, g->Nq, g->D);
    if (!CU_LAUNCHED(d, op)) return;
    k_dscores<<<cu_blocks(n, 256), 256, 0, s>>>(S, dP, Dsum, n, g->Nk);
    if (!CU_LAUNCHED(d, op)) return;
    const void *dS = cu_operand(d, dP, n, CU_SLOT_CAST_E, op); // P's half copy is no longer needed
    if (!dS) return;
    for (int64_t h = 0; h < g->Hq; h++) {
        int64_t kh = h / G;
        const char *dSh = (const char *)dS + (size_t)(h * NN) * esz;
        const char *kk = (const char *)a.k + (size_t)(kh * g->D) * esz, *qh = (const char *)a.q + (size_t)(h * g->D) * esz;
        if (dq && cu_matmul(d, op, false, false, g->Nq, g->D, g->Nk, g->scale, dSh, g->Nk, g->Hq * NN, kk, Wk, g->Nk * Wk,
                            1.0f, dq + h * g->D, Wq, g->Nq * Wq, g->B, a.t, NULL) != 1)
            return;
        if (dk && cu_matmul(d, op, true, false, g->Nk, g->D, g->Nq, g->scale, dSh, g->Nk, g->Hq * NN, qh, Wq, g->Nq * Wq,
                            1.0f, dk + kh * g->D, Wk, g->Nk * Wk, g->B, a.t, NULL) != 1)
            return;
    }
}

// ---------- rotary embedding (GPT-NeoX rotate-half on the first R dims of each head) ----------

__global__ void k_rope(const float *__restrict__ x, const float *__restrict__ inv_freq, float *__restrict__ y,
                       int64_t rows, int64_t N, int64_t H, int64_t D, int64_t R, int64_t pos0, float sign, bool acc) {
    int64_t half = R / 2, W = H * D;
    GS_LOOP(i, rows * W) {
        int64_t row = i / W, c = i % W, h = c / D, j = c % D, n = row % N;
        const float *xh = x + row * W + h * D;
        float v;
        if (j < R) {
            int64_t p = j < half ? j : j - half;
            float th = __fmul_rn((float)(n + pos0), inv_freq[p]);
            float sn, cs;
            sincosf(th, &sn, &cs);
            sn *= sign;
            float a = xh[p], b = xh[p + half];
            v = j < half ? a * cs - b * sn : b * cs + a * sn;
        } else {
            v = xh[j];
        }
        if (acc)
            y[i] += v;
        else
            y[i] = v;
    }
}

static void op_rope(ds_device *d, const float *x, const float *inv_freq, float *y, int64_t rows, int64_t N, int64_t H,
                    int64_t D, int64_t R, int64_t pos0, float sign, bool accumulate) {
    CU_ENTER(d);
    k_rope<<<cu_blocks(rows * H * D, 256), 256, 0, cu_stream(d)>>>(x, inv_freq, y, rows, N, H, D, R, pos0, sign,
                                                                  accumulate);
    CU_LAUNCHED(d, accumulate ? "rope backward" : "rope");
}

void cu_fill_attention_ops(ds_dev_ops *o) {
    o->attention_fwd = op_attention_fwd;
    o->attention_bwd = op_attention_bwd;
    o->rope = op_rope;
}
