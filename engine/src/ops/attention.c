/* Scaled dot-product attention with grouped K/V heads, and rotary position embedding.
 *
 * attention: q [B, Nq, Hq·D], k/v [B, Nk, Hk·D] -> o [B, Nq, Hq·D]
 *   per batch b and query head h (K/V head kh = h / (Hq/Hk), torch repeat_interleave):
 *   S = scale · Q_h K_khᵀ [Nq, Nk];  P = softmax_rows(S);  O_h = P V_kh
 * Heads are read in place ("b n (h d)" layout, leading dimension Hq·D): no copies.
 * Forward saves P [B, Hq, Nq, Nk] when a backward will need it; otherwise P lives in a
 * per-thread scratch tile. Backward works per (b, kh) group so that the query heads
 * sharing a K/V head never race on dK/dV:
 *   dV += Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP − rowsum(dP ∘ P));  dQ += scale·dS K;  dK += scale·dSᵀ Q
 * Ref: https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "core/scratch.h"
#include "ops/fastmath.h"
#include "ops/ops.h"

typedef struct attn_job {
    const float *q, *k, *v;
    float *o, *P; /* P: saved probabilities or NULL (use scratch) */
    float *dq, *dk, *dv;
    const float *dout;
    int64_t B, Nq, Nk, Hq, Hk, D;
    float scale;
} attn_job;

/* Row softmax, vectorised: exp by ops/fastmath.h (within 2 ulp of expf; arguments are
 * ≤ 0 after the max subtraction, and below −87 the clamp yields ~1e−38 instead of a
 * denormal or 0, far under the float sum's rounding). */
static void softmax_rows(float *S, int64_t rows, int64_t cols) {
    for (int64_t i = 0; i < rows; i++) {
        float *s = S + i * cols;
        float m = -INFINITY;
#pragma omp simd reduction(max : m)
        for (int64_t j = 0; j < cols; j++) m = s[j] > m ? s[j] : m;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < cols; j++) {
            s[j] = ds_fast_expf(s[j] - m);
            sum += s[j];
        }
        float inv = 1.0f / sum;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) s[j] *= inv;
    }
}

static void attn_fwd_items(void *arg, int64_t i0, int64_t i1) {
    const attn_job *j = arg;
    int64_t Wq = j->Hq * j->D, Wk = j->Hk * j->D, G = j->Hq / j->Hk;
    for (int64_t it = i0; it < i1; it++) {
        int64_t b = it / j->Hq, h = it % j->Hq, kh = h / G;
        const float *Q = j->q + b * j->Nq * Wq + h * j->D;
        const float *K = j->k + b * j->Nk * Wk + kh * j->D;
        const float *V = j->v + b * j->Nk * Wk + kh * j->D;
        float *O = j->o + b * j->Nq * Wq + h * j->D;
        float *P = j->P ? j->P + it * j->Nq * j->Nk : ds_tls_scratch(0, (size_t)(j->Nq * j->Nk));
        ds_gemm_serial(false, true, j->Nq, j->Nk, j->D, j->scale, Q, Wq, K, Wk, 0.0f, P, j->Nk);
        softmax_rows(P, j->Nq, j->Nk);
        ds_gemm_serial(false, false, j->Nq, j->D, j->Nk, 1.0f, P, j->Nk, V, Wk, 0.0f, O, Wq);
    }
}

static void attn_bwd_groups(void *arg, int64_t g0, int64_t g1) {
    const attn_job *j = arg;
    int64_t Wq = j->Hq * j->D, Wk = j->Hk * j->D, G = j->Hq / j->Hk, Nq = j->Nq, Nk = j->Nk, D = j->D;
    float *dP = ds_tls_scratch(1, (size_t)(Nq * Nk));
    for (int64_t grp = g0; grp < g1; grp++) {
        int64_t b = grp / j->Hk, kh = grp % j->Hk;
        const float *K = j->k + b * Nk * Wk + kh * D, *V = j->v + b * Nk * Wk + kh * D;
        float *dK = j->dk ? j->dk + b * Nk * Wk + kh * D : NULL;
        float *dV = j->dv ? j->dv + b * Nk * Wk + kh * D : NULL;
        for (int64_t g = 0; g < G; g++) {
            int64_t h = kh * G + g;
            const float *Q = j->q + b * Nq * Wq + h * D, *dO = j->dout + b * Nq * Wq + h * D;
            float *P = j->P + (b * j->Hq + h) * Nq * Nk;
            if (dV) ds_gemm_serial(true, false, Nk, D, Nq, 1.0f, P, Nk, dO, Wq, 1.0f, dV, Wk);
            if (!j->dq && !dK) continue;
            ds_gemm_serial(false, true, Nq, Nk, D, 1.0f, dO, Wq, V, Wk, 0.0f, dP, Nk);
            for (int64_t i = 0; i < Nq; i++) {
                float *p = P + i * Nk, *dp = dP + i * Nk;
                float r = 0;
#pragma omp simd reduction(+ : r)
                for (int64_t c = 0; c < Nk; c++) r += dp[c] * p[c];
#pragma omp simd
                for (int64_t c = 0; c < Nk; c++) dp[c] = p[c] * (dp[c] - r); /* dS */
            }
            if (j->dq) {
                float *dQ = j->dq + b * Nq * Wq + h * D;
                ds_gemm_serial(false, false, Nq, D, Nk, j->scale, dP, Nk, K, Wk, 1.0f, dQ, Wq);
            }
            if (dK) ds_gemm_serial(true, false, Nk, D, Nq, j->scale, dP, Nk, Q, Wq, 1.0f, dK, Wk);
        }
    }
}

static void attention_backward(ds_rec *r) {
    ds_tensor *q = r->in[0], *k = r->in[1], *v = r->in[2];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) { /* saved[0] holds the log-sum-exp rows [B, Hq, Nq] on a device */
        ds_attn_geom g = {r->i[0], r->i[1], r->i[2], r->i[3], r->i[4], r->i[5], r->f[0]};
        dv->attention_bwd(r->dev, &g, q->data, k->data, v->data, r->out->data, r->saved[0]->data, r->out->grad,
                          ds_grad_or_null(q), ds_grad_or_null(k), ds_grad_or_null(v));
        return;
    }
    attn_job j = {q->data, k->data, v->data, NULL, r->saved[0]->data,
                  q->requires_grad ? q->grad : NULL, k->requires_grad ? k->grad : NULL,
                  v->requires_grad ? v->grad : NULL, r->out->grad,
                  r->i[0], r->i[1], r->i[2], r->i[3], r->i[4], r->i[5], r->f[0]};
    ds_parallel_for(j.B * j.Hk, 1, attn_bwd_groups, &j);
}

ds_tensor *ds_attention(ds_ctx *c, ds_tensor *q, ds_tensor *k, ds_tensor *v, int Hq, int Hk, float scale) {
    DS_ASSERT(q->ndim == 3 && k->ndim == 3 && ds_same_shape(k, v));
    int64_t B = q->shape[0], Nq = q->shape[1], Nk = k->shape[1];
    DS_ASSERT(k->shape[0] == B && Hq > 0 && Hk > 0 && Hq % Hk == 0);
    DS_ASSERTF(q->shape[2] % Hq == 0, "attention: width %lld not divisible by %d heads", (long long)q->shape[2], Hq);
    int64_t D = q->shape[2] / Hq;
    DS_ASSERTF(k->shape[2] == Hk * D, "attention: K/V width %lld, expected %d heads of %lld",
               (long long)k->shape[2], Hk, (long long)D);
    ds_tensor *o = ds_new_like(c, q);
    bool need_grad = c->grad && (q->requires_grad || k->requires_grad || v->requires_grad);
    const ds_dev_ops *dv = ds_ops_of(c);
    /* Saved for backward: the probabilities on the CPU; on a device only their row
     * log-sum-exp (backward recomputes the scores), which is Nk times smaller. */
    ds_tensor *P = need_grad ? (dv ? ds_new3(c, B, Hq, Nq) : ds_new4(c, B, Hq, Nq, Nk)) : NULL;
    if (!c->dry && dv) {
        ds_attn_geom g = {B, Nq, Nk, Hq, Hk, D, scale};
        dv->attention_fwd(c->dev, &g, q->data, k->data, v->data, o->data, P ? P->data : NULL);
    } else if (!c->dry) {
        attn_job j = {q->data, k->data, v->data, o->data, P ? P->data : NULL, NULL, NULL, NULL, NULL,
                      B, Nq, Nk, Hq, Hk, D, scale};
        ds_parallel_for(B * Hq, 1, attn_fwd_items, &j);
    }
    ds_rec *r = ds_record(c, "attention", attention_backward, o, 3, (ds_tensor *[]){q, k, v});
    if (r) {
        r->saved[0] = P;
        r->i[0] = B, r->i[1] = Nq, r->i[2] = Nk, r->i[3] = Hq, r->i[4] = Hk, r->i[5] = D;
        r->f[0] = scale;
    }
    return o;
}

/* ---------- rotary position embedding ---------- */

typedef struct rope_job {
    const float *x, *inv_freq;
    float *y;
    int64_t N, H, D, R, pos0;
    float sign; /* +1 forward, -1 backward (rotation by -theta) */
    bool accumulate;
} rope_job;

static void rope_rows(void *arg, int64_t r0, int64_t r1) {
    const rope_job *j = arg;
    int64_t half = j->R / 2, W = j->H * j->D;
    for (int64_t row = r0; row < r1; row++) {
        int64_t n = row % j->N;
        const float *x = j->x + row * W;
        float *y = j->y + row * W;
        for (int64_t h = 0; h < j->H; h++) {
            const float *xh = x + h * j->D;
            float *yh = y + h * j->D;
            for (int64_t i = 0; i < half; i++) {
                /* SAT: freqs = (float)position * inv_freq in fp32; cos/sin of the duplicated angle */
                float th = (float)(n + j->pos0) * j->inv_freq[i];
                float cs = cosf(th), sn = j->sign * sinf(th);
                float a = xh[i], b = xh[i + half];
                float ya = a * cs - b * sn, yb = b * cs + a * sn;
                if (j->accumulate) {
                    yh[i] += ya;
                    yh[i + half] += yb;
                } else {
                    yh[i] = ya;
                    yh[i + half] = yb;
                }
            }
            for (int64_t i = j->R; i < j->D; i++) yh[i] = j->accumulate ? yh[i] + xh[i] : xh[i];
        }
    }
}

static void rope_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->rope(r->dev, r->out->grad, r->saved[0]->data, x->grad, ds_numel(x) / (r->i[1] * r->i[2]), r->i[0], r->i[1],
                 r->i[2], r->i[3], r->i[4], -1.0f, true);
        return;
    }
    rope_job j = {r->out->grad, r->saved[0]->data, x->grad, r->i[0], r->i[1], r->i[2], r->i[3], r->i[4], -1.0f, true};
    ds_parallel_for(ds_numel(x) / (j.H * j.D), 16, rope_rows, &j);
}

ds_tensor *ds_rope(ds_ctx *c, ds_tensor *x, int H, int R, const ds_tensor *inv_freq, int64_t pos0) {
    DS_ASSERT(x->ndim == 3 && x->shape[2] % H == 0);
    int64_t D = x->shape[2] / H, N = x->shape[1];
    DS_ASSERTF(R % 2 == 0 && R <= D, "rope: rotary dim %d must be even and at most the head dim %lld", R, (long long)D);
    DS_ASSERT(ds_numel(inv_freq) == R / 2);
    ds_tensor *y = ds_new_like(c, x);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->rope(c->dev, x->data, inv_freq->data, y->data, ds_numel(x) / (H * D), N, H, D, R, pos0, 1.0f, false);
    } else if (!c->dry) {
        rope_job j = {x->data, inv_freq->data, y->data, N, H, D, R, pos0, 1.0f, false};
        ds_parallel_for(ds_numel(x) / (H * D), 16, rope_rows, &j);
    }
    ds_rec *r = ds_record(c, "rope", rope_backward, y, 1, (ds_tensor *[]){x});
    if (r) {
        r->saved[0] = (ds_tensor *)inv_freq;
        r->i[0] = N, r->i[1] = H, r->i[2] = D, r->i[3] = R, r->i[4] = pos0;
    }
    return y;
}
