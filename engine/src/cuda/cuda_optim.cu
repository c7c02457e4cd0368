// The optimiser side of the training step over the flat buffers: gradient statistics (norm,
// non-finite check, clip coefficient, loss-scale update), then one fused pass of AdamW + EMA
// + the half copy of the weights for the next step's GEMMs. Element op order follows
// engine/src/train/optim.c and train/ema.c (torch 1.13 single-tensor AdamW, torch.lerp),
// with explicit round-to-nearest intrinsics so that nvcc cannot contract a·b + c into an FMA
// the CPU does not do.
#include <math.h>
#include <stdio.h>

#include "cuda/cuda_internal.cuh"
#include "device/scaler.h"

extern "C" {
#include "cuda/cuda_backend.h"
}

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

#define SUMSQ_BLOCKS 1024

// Partial Σ g² per block in double.
__global__ void k_sumsq(const float *__restrict__ g, int64_t n, double *__restrict__ part) {
    __shared__ double sh[32];
    double s = 0;
    GS_LOOP(i, n) {
        double v = g[i];
        s += v * v;
    }
    s = cu_block_sum(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void k_finish(const double *__restrict__ part, int nparts, const ds_step_scalars *sc, ds_step_state *st) {
    __shared__ double sh[32];
    double s = 0;
    for (int i = threadIdx.x; i < nparts; i += blockDim.x) s += part[i];
    s = cu_block_sum(s, sh);
    if (threadIdx.x == 0) {
        st->grad_sumsq = s;
        ds_step_finish(st, sc);
    }
}

static void op_grad_stats(ds_device *d, const float *g, int64_t n, const ds_step_scalars *sc, ds_step_state *st) {
    CU_ENTER(d);
    const char *op = "gradient norm";
    double *part = (double *)cu_scratch(d, CU_SLOT_REDUCE, SUMSQ_BLOCKS * sizeof(double), op);
    if (!part) return;
    k_sumsq<<<SUMSQ_BLOCKS, 256, 0, cu_stream(d)>>>(g, n, part);
    if (!CU_LAUNCHED(d, op)) return;
    k_finish<<<1, 256, 0, cu_stream(d)>>>(part, SUMSQ_BLOCKS, sc, st);
    CU_LAUNCHED(d, op);
}

__device__ __forceinline__ void store_half(void *lp, int64_t i, float v, int t) {
    if (t == CU_BF16)
        ((__nv_bfloat16 *)lp)[i] = __float2bfloat16_rn(v);
    else
        ((__half *)lp)[i] = __float2half_rn(v);
}

__global__ void k_adamw(float *__restrict__ P, const float *__restrict__ G, float *__restrict__ M, float *__restrict__ V,
                        float *__restrict__ E, int64_t n, int64_t n_ema, void *__restrict__ lp, int lpt,
                        const ds_step_scalars *__restrict__ scp, const ds_step_state *__restrict__ st) {
    if (st->found_inf) return;
    const ds_step_scalars sc = *scp;
    const float gs = st->gscale;
    GS_LOOP(i, n) {
        float p = P[i], g = G[i];
        if (gs != 1.0f) g = __fmul_rn(g, gs);
        if (E && sc.ema && i < n_ema) { // torch.lerp(ema, p, w), toward the weights before the update
            float e = E[i], w = sc.ema_weight;
            E[i] = fabsf(w) < 0.5f ? __fadd_rn(e, __fmul_rn(w, __fsub_rn(p, e)))
                                   : __fsub_rn(p, __fmul_rn(__fsub_rn(p, e), __fsub_rn(1.0f, w)));
        }
        if (sc.adamw)
            p = __fmul_rn(p, sc.decay);
        else if (sc.l2 != 0.0f)
            g = __fadd_rn(g, __fmul_rn(sc.l2, p));
        float m = __fmul_rn(M[i], sc.beta1);
        m = __fadd_rn(m, __fmul_rn(sc.one_minus_beta1, g));
        float v = __fmul_rn(V[i], sc.beta2);
        v = __fadd_rn(v, __fmul_rn(__fmul_rn(sc.one_minus_beta2, g), g));
        float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v), sc.bc2_sqrt), sc.eps);
        p = __fadd_rn(p, __fdiv_rn(__fmul_rn(sc.neg_step, m), denom));
        P[i] = p;
        M[i] = m;
        V[i] = v;
        if (lp) store_half(lp, i, p, lpt);
    }
}

static void op_adamw(ds_device *d, float *p, const float *g, float *m, float *v, float *ema, int64_t n, int64_t n_ema,
                     void *lp, const ds_step_scalars *sc, ds_step_state *st) {
    CU_ENTER(d);
    k_adamw<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(p, g, m, v, ema, n, n_ema, lp, (int)cu_gemm_type(d), sc, st);
    CU_LAUNCHED(d, "adamw");
}

__global__ void k_to_half(const float *__restrict__ p, void *__restrict__ lp, int64_t n, int t) {
    GS_LOOP(i, n) store_half(lp, i, p[i], t);
}

static void op_to_half(ds_device *d, const float *p, void *lp, int64_t n) {
    CU_ENTER(d);
    if (cu_gemm_type(d) == CU_F32 || n <= 0) return;
    k_to_half<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(p, lp, n, (int)cu_gemm_type(d));
    CU_LAUNCHED(d, "half weights");
}

void cu_fill_optim_ops(ds_dev_ops *o) {
    o->grad_stats = op_grad_stats;
    o->adamw = op_adamw;
    o->to_half = op_to_half;
}

// ---------- the host-pointer convenience used by tests ----------

extern "C" ds_status ds_cuda_adamw_host(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                                        float b2, float eps, float wd, int step, ds_err *err) {
    ds_device *d = NULL;
    DS_TRY(ds_device_open("cuda", DS_PREC_32, &d, err));
    size_t bytes = (size_t)n * sizeof(float);
    float *buf = (float *)ds_device_alloc(d, DS_ROLE_OTHER, 4 * bytes + sizeof(ds_step_scalars) + sizeof(ds_step_state));
    ds_status s = ds_device_check(d, err);
    if (s == DS_OK) {
        float *dp = buf, *dg = buf + n, *dm = buf + 2 * n, *dv = buf + 3 * n;
        ds_step_scalars *sc = (ds_step_scalars *)(buf + 4 * n);
        ds_step_state *st = (ds_step_state *)(sc + 1);
        double bc1 = 1.0 - pow((double)b1, step), bc2 = 1.0 - pow((double)b2, step);
        ds_step_scalars h = {};
        h.decay = (float)(1.0 - (double)lr * wd);
        h.beta1 = b1, h.one_minus_beta1 = (float)(1.0 - b1), h.beta2 = b2, h.one_minus_beta2 = (float)(1.0 - b2);
        h.bc2_sqrt = (float)sqrt(bc2), h.eps = eps, h.neg_step = (float)(-(double)lr / bc1), h.adamw = 1;
        ds_step_state hs = {};
        hs.gscale = 1.0f;
        d->mem->upload(d, dp, p, bytes);
        d->mem->upload(d, dg, g, bytes);
        d->mem->upload(d, dm, m, bytes);
        d->mem->upload(d, dv, v, bytes);
        d->mem->upload(d, sc, &h, sizeof h);
        d->mem->upload(d, st, &hs, sizeof hs);
        op_adamw(d, dp, dg, dm, dv, NULL, n, 0, NULL, sc, st);
        d->mem->download(d, p, dp, bytes);
        d->mem->download(d, m, dm, bytes);
        d->mem->download(d, v, dv, bytes);
        s = ds_device_sync(d, err);
    }
    ds_device_free(d, DS_ROLE_OTHER, buf, 4 * bytes);
    ds_device_close(d);
    return s;
}
