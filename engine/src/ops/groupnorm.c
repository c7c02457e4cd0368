/* Group normalisation (nn.GroupNorm) on x [B, C, T], optionally fused with the two things
 * that follow it in every U-Net block:
 *
 *   n = GroupNorm(x) · gamma + beta                (per sample, per group of C/G channels,
 *                                                   biased variance over channels × time)
 *   z = n · (scale + 1) + shift                    (ADP ConvBlock1d; scale/shift [B, C])
 *   y = act(z)                                     (SiLU for ADP, GELU for DAU1d, or none)
 *
 * Fusing saves two full passes over the activation and two saved tensors per block;
 * backward recomputes n and z from x and the saved per-(sample, group) mean and rstd.
 * Affine as PyTorch's CPU kernel applies it: a = rstd·gamma, n = x·a + (beta − a·mean).
 * Statistics: float partial sums per channel row (vectorised), combined in double.
 * Activations use the vectorisable exp/erf of ops/fastmath.h (erf as PyTorch's CPU GELU).
 *
 * Backward, per (b, group) with g = dn·gamma, x̂ = (x − mean)·rstd, m = Cg·T:
 *   dx = rstd · (g − Σg/m − x̂ · Σ(g·x̂)/m)
 *   dgamma[c] += Σ_{b,t} dn·x̂,  dbeta[c] += Σ_{b,t} dn
 *   dscale[b,c] += Σ_t dz·n,    dshift[b,c] += Σ_t dz,    dn = dz·(scale + 1)
 * Work items are (b, group) pairs; per-(b, c) parameter partials are summed over b after.
 * Ref: https://pytorch.org/docs/stable/generated/torch.nn.GroupNorm.html */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "core/scratch.h"
#include "ops/fastmath.h"
#include "ops/ops.h"

typedef struct gn_job {
    const float *x, *gamma, *beta, *scale, *shift, *dy;
    float *y, *mean, *rstd;
    float *dx, *dscale, *dshift;
    float *pg, *pb; /* [B, C] partials of dgamma / dbeta (or NULL) */
    int64_t B, C, T, G, Cg;
    float eps;
    int act;
} gn_job;

/* The row kernels: one channel row of T samples. */
static void row_fwd(int act, const float *x, float *y, int64_t T, float a, float sh, float s1, float h) {
    switch (act) {
    case DS_ACT_SILU:
#pragma omp simd
        for (int64_t t = 0; t < T; t++) y[t] = ds_fast_silu((x[t] * a + sh) * s1 + h);
        break;
    case DS_ACT_GELU:
#pragma omp simd
        for (int64_t t = 0; t < T; t++) y[t] = ds_fast_gelu((x[t] * a + sh) * s1 + h);
        break;
    default:
#pragma omp simd
        for (int64_t t = 0; t < T; t++) y[t] = (x[t] * a + sh) * s1 + h;
        break;
    }
}

/* One channel row of the backward: dz = dy·act'(z) with z = (x·a + sh)·s1 + h, stored as
 * dn = dz·s1 into d[]; returns Σ dz·n, Σ dz and Σ dz·x̂ (n = x·a + sh, x̂ = (x − mean)·rstd).
 * One loop per activation so that each vectorises. */
#define ROW_BWD(GRAD)                                                                        \
    _Pragma("omp simd reduction(+ : s_zn, s_z, s_zx)") for (int64_t t = 0; t < T; t++) {     \
        float n = x[t] * a + sh;                                                             \
        float dz = dy[t] * GRAD;                                                             \
        s_zn += dz * n;                                                                      \
        s_z += dz;                                                                           \
        s_zx += dz * ((x[t] - mean) * rstd);                                                 \
        d[t] = dz * s1;                                                                      \
    }

static void row_bwd(int act, const float *x, const float *dy, float *d, int64_t T, float a, float sh, float s1, float h,
                    float mean, float rstd, float sums[3]) {
    float s_zn = 0, s_z = 0, s_zx = 0;
    switch (act) {
    case DS_ACT_SILU: ROW_BWD(ds_fast_silu_grad(n * s1 + h)) break;
    case DS_ACT_GELU: ROW_BWD(ds_fast_gelu_grad(n * s1 + h)) break;
    default: ROW_BWD(1.0f) break;
    }
    sums[0] = s_zn, sums[1] = s_z, sums[2] = s_zx;
}

static void gn_fwd_items(void *arg, int64_t i0, int64_t i1) {
    const gn_job *j = arg;
    int64_t T = j->T, Cg = j->Cg, m = Cg * T;
    for (int64_t it = i0; it < i1; it++) {
        int64_t b = it / j->G, gr = it % j->G;
        const float *x = j->x + (b * j->C + gr * Cg) * T;
        /* two-pass statistics: float partial sums per row (vectorised), double across rows */
        double s = 0, ss = 0;
        for (int64_t cc = 0; cc < Cg; cc++) {
            const float *xr = x + cc * T;
            float part = 0;
#pragma omp simd reduction(+ : part)
            for (int64_t t = 0; t < T; t++) part += xr[t];
            s += part;
        }
        double mu = s / (double)m;
        float muf = (float)mu;
        for (int64_t cc = 0; cc < Cg; cc++) {
            const float *xr = x + cc * T;
            float part = 0;
#pragma omp simd reduction(+ : part)
            for (int64_t t = 0; t < T; t++) part += (xr[t] - muf) * (xr[t] - muf);
            ss += part;
        }
        float mean = muf, rstd = (float)(1.0 / sqrt(ss / (double)m + (double)j->eps));
        j->mean[it] = mean;
        j->rstd[it] = rstd;
        for (int64_t cc = 0; cc < Cg; cc++) {
            int64_t ch = gr * Cg + cc, bc = b * j->C + ch;
            float a = rstd * (j->gamma ? j->gamma[ch] : 1.0f);
            float sh = -a * mean + (j->beta ? j->beta[ch] : 0.0f);
            float s1 = j->scale ? j->scale[bc] + 1.0f : 1.0f, h = j->scale ? j->shift[bc] : 0.0f;
            row_fwd(j->act, x + cc * T, j->y + bc * T, T, a, sh, s1, h);
        }
    }
}

static void gn_bwd_items(void *arg, int64_t i0, int64_t i1) {
    const gn_job *j = arg;
    int64_t T = j->T, Cg = j->Cg, m = Cg * T;
    float *dn = ds_tls_scratch(0, (size_t)m); /* dn = dz·(scale + 1) of the group */
    for (int64_t it = i0; it < i1; it++) {
        int64_t b = it / j->G, gr = it % j->G;
        const float *x = j->x + (b * j->C + gr * Cg) * T;
        float mean = j->mean[it], rstd = j->rstd[it];
        double A = 0, Bs = 0; /* Σ g, Σ g·x̂ over the group, g = dn·gamma */
        for (int64_t cc = 0; cc < Cg; cc++) {
            int64_t ch = gr * Cg + cc, bc = b * j->C + ch;
            float gam = j->gamma ? j->gamma[ch] : 1.0f;
            float a = rstd * gam, sh = -a * mean + (j->beta ? j->beta[ch] : 0.0f);
            float s1 = j->scale ? j->scale[bc] + 1.0f : 1.0f, h = j->scale ? j->shift[bc] : 0.0f;
            float sums[3];
            row_bwd(j->act, x + cc * T, j->dy + bc * T, dn + cc * T, T, a, sh, s1, h, mean, rstd, sums);
            float sdz_n = sums[0], sdz = sums[1], sdn_xh = sums[2];
            /* Σ dn = s1·Σ dz, Σ dn·x̂ = s1·Σ dz·x̂ */
            float sdn = s1 * sdz;
            sdn_xh *= s1;
            if (j->dscale) j->dscale[bc] += sdz_n;
            if (j->dshift) j->dshift[bc] += sdz;
            if (j->pg) j->pg[bc] = sdn_xh;
            if (j->pb) j->pb[bc] = sdn;
            A += (double)gam * sdn;
            Bs += (double)gam * sdn_xh;
        }
        if (!j->dx) continue;
        float ma = (float)(A / (double)m), mb = (float)(Bs / (double)m);
        for (int64_t cc = 0; cc < Cg; cc++) {
            int64_t ch = gr * Cg + cc;
            float gam = j->gamma ? j->gamma[ch] : 1.0f;
            const float *xr = x + cc * T, *d = dn + cc * T;
            float *dx = j->dx + (b * j->C + ch) * T;
#pragma omp simd
            for (int64_t t = 0; t < T; t++) dx[t] += rstd * (d[t] * gam - ma - ((xr[t] - mean) * rstd) * mb);
        }
    }
}

static void gn_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2], *scale = r->in[3], *shift = r->in[4];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        ds_gn_geom g = {x->shape[0], x->shape[1], x->shape[2], r->i[0], (int)r->i[1], 0.0f};
        dv->groupnorm_bwd(r->dev, &g, x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
                          scale ? scale->data : NULL, shift ? shift->data : NULL, r->saved[0]->data, r->saved[1]->data,
                          r->out->grad, ds_grad_or_null(x), ds_grad_or_null(gamma), ds_grad_or_null(beta),
                          ds_grad_or_null(scale), ds_grad_or_null(shift));
        return;
    }
    gn_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.gamma = gamma ? gamma->data : NULL;
    j.beta = beta ? beta->data : NULL;
    j.scale = scale ? scale->data : NULL;
    j.shift = shift ? shift->data : NULL;
    j.dy = r->out->grad;
    j.mean = r->saved[0]->data;
    j.rstd = r->saved[1]->data;
    j.B = x->shape[0], j.C = x->shape[1], j.T = x->shape[2], j.G = r->i[0], j.Cg = j.C / j.G;
    j.act = (int)r->i[1];
    j.dx = x->requires_grad ? x->grad : NULL;
    j.dscale = scale && scale->requires_grad ? scale->grad : NULL;
    j.dshift = shift && shift->requires_grad ? shift->grad : NULL;
    bool dg = gamma && gamma->requires_grad, db = beta && beta->requires_grad;
    float *part = r->saved[2] ? r->saved[2]->data : NULL; /* [2, B, C] */
    if (dg) j.pg = part;
    if (db) j.pb = part + j.B * j.C;
    ds_parallel_for(j.B * j.G, 1, gn_bwd_items, &j);
    for (int64_t b = 0; b < j.B; b++)
        for (int64_t ch = 0; ch < j.C; ch++) {
            if (dg) gamma->grad[ch] += j.pg[b * j.C + ch];
            if (db) beta->grad[ch] += j.pb[b * j.C + ch];
        }
}

ds_tensor *ds_group_norm_act(ds_ctx *c, ds_tensor *x, int groups, ds_tensor *gamma, ds_tensor *beta, float eps,
                             ds_tensor *scale, ds_tensor *shift, ds_act act) {
    DS_ASSERT(x->ndim == 3 && groups >= 1);
    int64_t B = x->shape[0], C = x->shape[1], T = x->shape[2];
    DS_ASSERTF(C % groups == 0, "group_norm: %lld channels in %d groups", (long long)C, groups);
    DS_ASSERT(!gamma || ds_numel(gamma) == C);
    DS_ASSERT(!beta || ds_numel(beta) == C);
    DS_ASSERT(!scale == !shift);
    DS_ASSERT(!scale || (ds_numel(scale) == B * C && ds_numel(shift) == B * C));
    ds_tensor *y = ds_new_like(c, x);
    ds_tensor *mean = ds_new1(c, B * groups), *rstd = ds_new1(c, B * groups);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        ds_gn_geom g = {B, C, T, groups, (int)act, eps};
        dv->groupnorm_fwd(c->dev, &g, x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
                          scale ? scale->data : NULL, shift ? shift->data : NULL, y->data, mean->data, rstd->data);
    } else if (!c->dry) {
        gn_job j = {x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, scale ? scale->data : NULL,
                    shift ? shift->data : NULL, NULL, y->data, mean->data, rstd->data, NULL, NULL, NULL,
                    NULL, NULL, B, C, T, groups, C / groups, eps, (int)act};
        ds_parallel_for(B * groups, 1, gn_fwd_items, &j);
    }
    ds_rec *r = ds_record(c, "group_norm", gn_backward, y, 5, (ds_tensor *[]){x, gamma, beta, scale, shift});
    if (r) {
        r->i[0] = groups;
        r->i[1] = act;
        r->saved[0] = mean;
        r->saved[1] = rstd;
        bool pg = (gamma && gamma->requires_grad) || (beta && beta->requires_grad);
        r->saved[2] = pg && !dv ? ds_new1(c, 2 * B * C) : NULL; /* CPU partials; devices reduce in place */
    }
    return y;
}

ds_tensor *ds_group_norm(ds_ctx *c, ds_tensor *x, int groups, ds_tensor *gamma, ds_tensor *beta, float eps) {
    return ds_group_norm_act(c, x, groups, gamma, beta, eps, NULL, NULL, DS_ACT_NONE);
}
