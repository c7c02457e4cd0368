// Normalisation (ops/norm.c, ops/groupnorm.c): LayerNorm over the last dim, F.normalize,
// and GroupNorm fused with modulation and activation. Statistics accumulate in double, as
// the CPU reference does; everything else is fp32 in every precision mode (autocast keeps
// norms in fp32 too).
//
// LayerNorm: one block per row; dgamma/dbeta are column sums over rows, split into row
// ranges (partials in the workspace, summed in a fixed order).
// GroupNorm: rows are (b, c) channels of T samples. Forward: per-row mean and M2 (two passes
// over the row), Chan's combination per (b, group) in double, then one elementwise pass.
// Backward: per-row sums (dscale, dshift and the dgamma/dbeta partials), a per-group
// combination, then one elementwise pass for dx: four passes over memory, any T.
#include <math.h>

#include "cuda/cuda_internal.cuh"

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// ---------- LayerNorm ----------

__global__ void k_ln_fwd(const float *__restrict__ x, const float *__restrict__ gamma, const float *__restrict__ beta,
                         float *__restrict__ y, float *__restrict__ mean, float *__restrict__ rstd, int64_t E, float eps) {
    __shared__ double sh[32];
    const float *xr = x + (int64_t)blockIdx.x * E;
    double s = 0;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) s += xr[e];
    double m = cu_block_sum(s, sh) / (double)E;
    double ss = 0;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) {
        double dd = xr[e] - m;
        ss += dd * dd;
    }
    ss = cu_block_sum(ss, sh);
    float mu = (float)m, rs = (float)(1.0 / sqrt(ss / (double)E + (double)eps));
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = rs;
    }
    float *yr = y + (int64_t)blockIdx.x * E;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) {
        float v = (xr[e] - mu) * rs;
        if (gamma) v *= gamma[e];
        if (beta) v += beta[e];
        yr[e] = v;
    }
}

__global__ void k_ln_bwd_dx(const float *__restrict__ x, const float *__restrict__ gamma, const float *__restrict__ mean,
                            const float *__restrict__ rstd, const float *__restrict__ dy, float *__restrict__ dx, int64_t E) {
    __shared__ double sh[32];
    int64_t r = blockIdx.x;
    const float *xr = x + r * E, *gr = dy + r * E;
    float mu = mean[r], rs = rstd[r];
    double a = 0, b = 0;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) {
        float g = gr[e] * (gamma ? gamma[e] : 1.0f), xh = (xr[e] - mu) * rs;
        a += g;
        b += g * xh;
    }
    a = cu_block_sum(a, sh);
    b = cu_block_sum(b, sh);
    float ma = (float)(a / (double)E), mb = (float)(b / (double)E);
    float *dr = dx + r * E;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) {
        float g = gr[e] * (gamma ? gamma[e] : 1.0f), xh = (xr[e] - mu) * rs;
        dr[e] += rs * (g - ma - xh * mb);
    }
}

// Partials over a row range: pg[split][e] = Σ dy·x̂, pb[split][e] = Σ dy.
__global__ void k_ln_bwd_cols(const float *__restrict__ x, const float *__restrict__ mean, const float *__restrict__ rstd,
                              const float *__restrict__ dy, float *__restrict__ pg, float *__restrict__ pb, int64_t R,
                              int64_t E, int64_t per) {
    __shared__ float shg[8][33], shb[8][33];
    int64_t e = (int64_t)blockIdx.x * 32 + threadIdx.x;
    int64_t r0 = (int64_t)blockIdx.y * per, r1 = r0 + per < R ? r0 + per : R;
    float sg = 0.0f, sb = 0.0f;
    if (e < E)
        for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
            float g = dy[r * E + e];
            sg += g * ((x[r * E + e] - mean[r]) * rstd[r]);
            sb += g;
        }
    shg[threadIdx.y][threadIdx.x] = sg;
    shb[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && e < E) {
        float tg = 0.0f, tb = 0.0f;
        for (int k = 0; k < 8; k++) tg += shg[k][threadIdx.x], tb += shb[k][threadIdx.x];
        pg[(int64_t)blockIdx.y * E + e] = tg;
        pb[(int64_t)blockIdx.y * E + e] = tb;
    }
}

__global__ void k_sum_splits2(const float *__restrict__ pg, const float *__restrict__ pb, float *__restrict__ dg,
                              float *__restrict__ db, int64_t E, int splits) {
    GS_LOOP(e, E) {
        float tg = 0.0f, tb = 0.0f;
        for (int s = 0; s < splits; s++) tg += pg[(int64_t)s * E + e], tb += pb[(int64_t)s * E + e];
        if (dg) dg[e] += tg;
        if (db) db[e] += tb;
    }
}

static int row_threads(int64_t E) { return E >= 1024 ? 512 : E >= 256 ? 256 : 128; }

static void op_layernorm_fwd(ds_device *d, const float *x, const float *g, const float *b, float *y, float *mean,
                             float *rstd, int64_t R, int64_t E, float eps) {
    CU_ENTER(d);
    if (R <= 0) return;
    k_ln_fwd<<<(unsigned)R, row_threads(E), 0, cu_stream(d)>>>(x, g, b, y, mean, rstd, E, eps);
    CU_LAUNCHED(d, "layernorm");
}

static void op_layernorm_bwd(ds_device *d, const float *x, const float *g, const float *mean, const float *rstd,
                             const float *dy, float *dx, float *dg, float *db, int64_t R, int64_t E) {
    CU_ENTER(d);
    const char *op = "layernorm backward";
    if (R <= 0) return;
    cudaStream_t s = cu_stream(d);
    if (dx) {
        k_ln_bwd_dx<<<(unsigned)R, row_threads(E), 0, s>>>(x, g, mean, rstd, dy, dx, E);
        if (!CU_LAUNCHED(d, op)) return;
    }
    if (!dg && !db) return;
    int64_t cb = (E + 31) / 32, want = 4 * (int64_t)cu(d)->sm_count;
    int64_t splits = cb >= want ? 1 : (want + cb - 1) / cb;
    if (splits > (R + 63) / 64) splits = (R + 63) / 64;
    if (splits > 128) splits = 128;
    if (splits < 1) splits = 1;
    int64_t per = (R + splits - 1) / splits;
    float *part = (float *)cu_scratch(d, CU_SLOT_REDUCE, (size_t)(2 * splits * E) * sizeof(float), op);
    if (!part) return;
    k_ln_bwd_cols<<<dim3((unsigned)cb, (unsigned)splits), dim3(32, 8), 0, s>>>(x, mean, rstd, dy, part, part + splits * E,
                                                                              R, E, per);
    if (!CU_LAUNCHED(d, op)) return;
    k_sum_splits2<<<cu_blocks(E, 256), 256, 0, s>>>(part, part + splits * E, dg, db, E, (int)splits);
    CU_LAUNCHED(d, op);
}

// ---------- F.normalize ----------

__global__ void k_l2_fwd(const float *__restrict__ x, float *__restrict__ y, int64_t D) {
    __shared__ double sh[32];
    const float *xr = x + (int64_t)blockIdx.x * D;
    double s = 0;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += (double)xr[i] * xr[i];
    s = cu_block_sum(s, sh);
    float n = (float)sqrt(s);
    if (n < 1e-12f) n = 1e-12f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) y[(int64_t)blockIdx.x * D + i] = xr[i] / n;
}

__global__ void k_l2_bwd(const float *__restrict__ x, const float *__restrict__ dy, float *__restrict__ dx, int64_t D) {
    __shared__ double sh[32];
    int64_t r = blockIdx.x;
    const float *xr = x + r * D, *gr = dy + r * D;
    double n2 = 0, dot = 0;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
        n2 += (double)xr[i] * xr[i];
        dot += (double)xr[i] * gr[i];
    }
    n2 = cu_block_sum(n2, sh);
    dot = cu_block_sum(dot, sh);
    double n = sqrt(n2);
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
        dx[r * D + i] += n > 1e-12 ? (float)(gr[i] / n - xr[i] * dot / (n * n * n)) : (float)(gr[i] / 1e-12);
}

static void op_l2_fwd(ds_device *d, const float *x, float *y, int64_t R, int64_t D) {
    CU_ENTER(d);
    if (R <= 0) return;
    k_l2_fwd<<<(unsigned)R, 128, 0, cu_stream(d)>>>(x, y, D);
    CU_LAUNCHED(d, "l2norm");
}

static void op_l2_bwd(ds_device *d, const float *x, const float *dy, float *dx, int64_t R, int64_t D) {
    CU_ENTER(d);
    if (R <= 0) return;
    k_l2_bwd<<<(unsigned)R, 128, 0, cu_stream(d)>>>(x, dy, dx, D);
    CU_LAUNCHED(d, "l2norm backward");
}

// ---------- GroupNorm (+ modulation + activation) ----------

enum { ACT_NONE, ACT_SILU, ACT_GELU };

__device__ __forceinline__ float act_f(int act, float z) {
    if (act == ACT_SILU) return z / (1.0f + expf(-z));
    if (act == ACT_GELU) return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f));
    return z;
}

__device__ __forceinline__ float act_grad(int act, float z) {
    if (act == ACT_SILU) {
        float s = 1.0f / (1.0f + expf(-z));
        return s * (1.0f + z * (1.0f - s));
    }
    if (act == ACT_GELU)
        return 0.5f * (1.0f + erff(z * 0.70710678118654752f)) + z * expf(-0.5f * z * z) * 0.3989422804014327f;
    return 1.0f;
}

// Row (b, c): mean and M2 = Σ (x − mean)², two passes over the row.
__global__ void k_gn_rowstats(const float *__restrict__ x, double *__restrict__ rmean, double *__restrict__ rm2, int64_t T) {
    __shared__ double sh[32];
    const float *xr = x + (int64_t)blockIdx.x * T;
    double s = 0;
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) s += xr[t];
    double m = cu_block_sum(s, sh) / (double)T;
    double ss = 0;
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) {
        double e = xr[t] - m;
        ss += e * e;
    }
    ss = cu_block_sum(ss, sh);
    if (threadIdx.x == 0) {
        rmean[blockIdx.x] = m;
        rm2[blockIdx.x] = ss;
    }
}

// Per (b, group): Chan's combination of the Cg rows (equal counts T).
__global__ void k_gn_combine(const double *__restrict__ rmean, const double *__restrict__ rm2, float *__restrict__ mean,
                             float *__restrict__ rstd, int64_t BG, int64_t Cg, int64_t T, float eps) {
    GS_LOOP(it, BG) {
        const double *mr = rmean + it * Cg, *m2 = rm2 + it * Cg;
        double mu = 0;
        for (int64_t c = 0; c < Cg; c++) mu += mr[c];
        mu /= (double)Cg;
        double M2 = 0;
        for (int64_t c = 0; c < Cg; c++) {
            double e = mr[c] - mu;
            M2 += m2[c] + (double)T * e * e;
        }
        mean[it] = (float)mu;
        rstd[it] = (float)(1.0 / sqrt(M2 / (double)(Cg * T) + (double)eps));
    }
}

struct gn_args {
    const float *x, *gamma, *beta, *scale, *shift, *mean, *rstd, *dy;
    float *y, *dx, *dscale, *dshift, *rows; // rows: [2, B, C] per-row sdn, sdn·x̂
    float *grp;                              // [2, B, G] ma, mb
    int64_t B, C, T, G, Cg;
    int act;
};

// Row coefficients: n = x·a + sh, z = n·s1 + h (PyTorch's CPU affine form).
__device__ __forceinline__ void gn_coef(const gn_args &g, int64_t bc, float *a, float *sh, float *s1, float *h,
                                        float *mu, float *rs) {
    int64_t b = bc / g.C, ch = bc % g.C, it = b * g.G + ch / g.Cg;
    *mu = g.mean[it];
    *rs = g.rstd[it];
    *a = *rs * (g.gamma ? g.gamma[ch] : 1.0f);
    *sh = -*a * *mu + (g.beta ? g.beta[ch] : 0.0f);
    *s1 = g.scale ? g.scale[bc] + 1.0f : 1.0f;
    *h = g.scale ? g.shift[bc] : 0.0f;
}

__global__ void k_gn_apply(gn_args g, int64_t n) {
    GS_LOOP(i, n) {
        float a, sh, s1, h, mu, rs;
        gn_coef(g, i / g.T, &a, &sh, &s1, &h, &mu, &rs);
        g.y[i] = act_f(g.act, (g.x[i] * a + sh) * s1 + h);
    }
}

// Row (b, c) of the backward: Σ dz·n, Σ dz, Σ dz·x̂ (dz = dy·act'(z)).
__global__ void k_gn_bwd_rows(gn_args g) {
    __shared__ float sh3[32];
    int64_t bc = blockIdx.x;
    float a, shf, s1, h, mu, rs;
    gn_coef(g, bc, &a, &shf, &s1, &h, &mu, &rs);
    const float *xr = g.x + bc * g.T, *gr = g.dy + bc * g.T;
    float s_zn = 0.0f, s_z = 0.0f, s_zx = 0.0f;
    for (int64_t t = threadIdx.x; t < g.T; t += blockDim.x) {
        float n = xr[t] * a + shf;
        float dz = gr[t] * act_grad(g.act, n * s1 + h);
        s_zn += dz * n;
        s_z += dz;
        s_zx += dz * ((xr[t] - mu) * rs);
    }
    s_zn = cu_block_sum(s_zn, sh3);
    s_z = cu_block_sum(s_z, sh3);
    s_zx = cu_block_sum(s_zx, sh3);
    if (threadIdx.x == 0) {
        if (g.dscale) g.dscale[bc] += s_zn;
        if (g.dshift) g.dshift[bc] += s_z;
        g.rows[bc] = s1 * s_z;                    // Σ dn
        g.rows[g.B * g.C + bc] = s1 * s_zx;       // Σ dn·x̂
    }
}

__global__ void k_gn_bwd_group(gn_args g) {
    GS_LOOP(it, g.B * g.G) {
        int64_t b = it / g.G, gr = it % g.G;
        double A = 0, Bs = 0;
        for (int64_t cc = 0; cc < g.Cg; cc++) {
            int64_t ch = gr * g.Cg + cc, bc = b * g.C + ch;
            float gam = g.gamma ? g.gamma[ch] : 1.0f;
            A += (double)gam * g.rows[bc];
            Bs += (double)gam * g.rows[g.B * g.C + bc];
        }
        double m = (double)(g.Cg * g.T);
        g.grp[it] = (float)(A / m);
        g.grp[g.B * g.G + it] = (float)(Bs / m);
    }
}

__global__ void k_gn_bwd_dx(gn_args g, int64_t n) {
    GS_LOOP(i, n) {
        int64_t bc = i / g.T, b = bc / g.C, ch = bc % g.C, it = b * g.G + ch / g.Cg;
        float a, shf, s1, h, mu, rs;
        gn_coef(g, bc, &a, &shf, &s1, &h, &mu, &rs);
        float nn = g.x[i] * a + shf;
        float dn = g.dy[i] * act_grad(g.act, nn * s1 + h) * s1;
        float gam = g.gamma ? g.gamma[ch] : 1.0f;
        g.dx[i] += rs * (dn * gam - g.grp[it] - ((g.x[i] - mu) * rs) * g.grp[g.B * g.G + it]);
    }
}

__global__ void k_gn_bwd_params(gn_args g, float *dgamma, float *dbeta) {
    GS_LOOP(ch, g.C) {
        float sg = 0.0f, sb = 0.0f;
        for (int64_t b = 0; b < g.B; b++) {
            sb += g.rows[b * g.C + ch];
            sg += g.rows[g.B * g.C + b * g.C + ch];
        }
        if (dgamma) dgamma[ch] += sg;
        if (dbeta) dbeta[ch] += sb;
    }
}

static void op_gn_fwd(ds_device *d, const ds_gn_geom *geo, const float *x, const float *gamma, const float *beta,
                      const float *scale, const float *shift, float *y, float *mean, float *rstd) {
    CU_ENTER(d);
    const char *op = "group_norm";
    int64_t B = geo->B, C = geo->C, T = geo->T, G = geo->G;
    if (B * C * T <= 0) return;
    cudaStream_t s = cu_stream(d);
    double *st = (double *)cu_scratch(d, CU_SLOT_REDUCE, (size_t)(2 * B * C) * sizeof(double), op);
    if (!st) return;
    k_gn_rowstats<<<(unsigned)(B * C), T >= 1024 ? 256 : 128, 0, s>>>(x, st, st + B * C, T);
    if (!CU_LAUNCHED(d, op)) return;
    k_gn_combine<<<cu_blocks(B * G, 128), 128, 0, s>>>(st, st + B * C, mean, rstd, B * G, C / G, T, geo->eps);
    if (!CU_LAUNCHED(d, op)) return;
    gn_args g = {x, gamma, beta, scale, shift, mean, rstd, NULL, y, NULL, NULL, NULL, NULL, NULL, B, C, T, G, C / G,
                 geo->act};
    k_gn_apply<<<cu_blocks(B * C * T, 256), 256, 0, s>>>(g, B * C * T);
    CU_LAUNCHED(d, op);
}

static void op_gn_bwd(ds_device *d, const ds_gn_geom *geo, const float *x, const float *gamma, const float *beta,
                      const float *scale, const float *shift, const float *mean, const float *rstd, const float *dy,
                      float *dx, float *dgamma, float *dbeta, float *dscale, float *dshift) {
    CU_ENTER(d);
    const char *op = "group_norm backward";
    int64_t B = geo->B, C = geo->C, T = geo->T, G = geo->G;
    if (B * C * T <= 0) return;
    cudaStream_t s = cu_stream(d);
    float *buf = (float *)cu_scratch(d, CU_SLOT_REDUCE, (size_t)(2 * B * C + 2 * B * G) * sizeof(float), op);
    if (!buf) return;
    gn_args g = {x, gamma, beta, scale, shift, mean, rstd, dy, NULL, dx, dscale, dshift, buf, buf + 2 * B * C, B, C, T, G,
                 C / G, geo->act};
    k_gn_bwd_rows<<<(unsigned)(B * C), T >= 1024 ? 256 : 128, 0, s>>>(g);
    if (!CU_LAUNCHED(d, op)) return;
    if (dx) {
        k_gn_bwd_group<<<cu_blocks(B * G, 128), 128, 0, s>>>(g);
        if (!CU_LAUNCHED(d, op)) return;
        k_gn_bwd_dx<<<cu_blocks(B * C * T, 256), 256, 0, s>>>(g, B * C * T);
        if (!CU_LAUNCHED(d, op)) return;
    }
    if (dgamma || dbeta) {
        k_gn_bwd_params<<<cu_blocks(C, 128), 128, 0, s>>>(g, dgamma, dbeta);
        CU_LAUNCHED(d, op);
    }
}

void cu_fill_norm_ops(ds_dev_ops *o) {
    o->layernorm_fwd = op_layernorm_fwd;
    o->layernorm_bwd = op_layernorm_bwd;
    o->l2norm_fwd = op_l2_fwd;
    o->l2norm_bwd = op_l2_bwd;
    o->groupnorm_fwd = op_gn_fwd;
    o->groupnorm_bwd = op_gn_bwd;
}
