/* 1-D convolution (nn.Conv1d, cross-correlation) and transposed convolution
 * (nn.ConvTranspose1d), with zero padding (left/right may differ, as ADP's own padding
 * needs), stride, dilation (conv only) and groups.
 *
 *   conv:       y[b, o, n] = bias[o] + Σ_{i in group(o)} Σ_k w[o, i, k] · x_pad[b, i, n·stride + k·dil]
 *   transposed: z[b, o, n·stride + k] += Σ_{i in group(o)} w[i, o', k] · x[b, i, n],  y = z[pad_l : len − pad_r]
 *
 * Three paths:
 *  - stride-1 convs (nearly every conv of the U-Nets): the direct kernels of
 *    ops/conv_direct.c, no copies; the input gradient is the same kernel on dy with the
 *    flipped kernel: dx[i, s] = Σ_{o,k} w[o, i, K−1−k]·dy[o, s + k·dil − ((K−1)·dil − pad_l)];
 *  - strided and transposed convs: one GEMM per (batch item, group) on unfolded columns
 *      conv fwd:   y_bg[Cog, To] = W_g[Cog, Cig·K] · unfold(x_bg)[Cig·K, To]
 *      conv bwd:   dW_g += dy_bg · unfold(x_bg)ᵀ;   dx_bg += fold(W_gᵀ · dy_bg)
 *      transposed: y_bg += fold(W_gᵀ[Cog·K, Cig] · x_bg);  dx_bg += W_g · unfold(dy_bg);  dW_g += x_bg · unfold(dy_bg)ᵀ
 *    with the columns built in tiles of positions in a per-thread scratch buffer, so the
 *    working set stays in cache at any length;
 *  - depthwise layers (one channel per group: DAU1d's fixed resampling kernels): direct loops.
 *
 * Threading: (batch item, group[, chunk of positions]) units run in parallel, the GEMM path
 * with single-threaded GEMMs when there are enough items and threaded GEMMs otherwise. In
 * backward each parallel part accumulates its dW into its own buffer (part 0 straight into
 * the gradient), summed at the end in part order: results depend on the thread count but
 * not on scheduling.
 * Refs: https://pytorch.org/docs/stable/generated/torch.nn.Conv1d.html
 *       https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose1d.html */
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "core/scratch.h"
#include "device/dispatch.h"
#include "ops/conv_direct.h"
#include "ops/ops.h"

/* Scratch slots: 0 = flipped packed weights and 1 = packed weights or dW partials (calling
 * thread), 2 = columns and 3 = column gradients (inside work items; conv_direct.c uses
 * 2 and 3 for its windows). */
enum { SLOT_PARTIAL = 1, SLOT_COL = 2, SLOT_DCOL = 3 };

typedef struct conv_geom {
    int64_t B, Ci, T, Co, K, To, G, Cig, Cog;
    int stride, pad_l, dil;
    bool transposed;
} conv_geom;

static bool is_pointwise(const conv_geom *g) {
    return !g->transposed && g->K == 1 && g->stride == 1 && g->pad_l == 0 && g->To == g->T;
}
static bool is_depthwise(const conv_geom *g) { return g->Cig == 1 && g->Cog == 1 && g->K > 1; }

/* Columns per tile so that one tile of unfolded rows is about 512 KiB. */
static int64_t tile_cols(int64_t rows, int64_t total) {
    int64_t t = (131072 / (rows > 0 ? rows : 1)) / 16 * 16;
    if (t < 64) t = 64;
    return t < total ? t : total;
}

/* Positions n in [0, nt) with 0 <= (n0 + n)·stride + off < Ts: [*lo, *hi). */
static void valid_range(int64_t n0, int64_t nt, int stride, int64_t off, int64_t Ts, int64_t *lo, int64_t *hi) {
    int64_t a = 0, b = nt;
    int64_t s0 = n0 * stride + off; /* source index of n = 0 */
    if (s0 < 0) a = (-s0 + stride - 1) / stride;
    int64_t last = Ts - 1 - s0; /* need n·stride <= last */
    b = last < 0 ? 0 : last / stride + 1;
    if (b > nt) b = nt;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* col[c·K + k, n] = src[c, (n0 + n)·stride + k·dil − pad] (0 outside [0, Ts)), c < C, n < nt. */
static void unfold(const float *src, int64_t C, int64_t Ts, int64_t K, int stride, int dil, int pad, int64_t n0,
                   int64_t nt, float *col) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t k = 0; k < K; k++) {
            float *row = col + (c * K + k) * nt;
            const float *sr = src + c * Ts;
            int64_t off = k * dil - pad, lo, hi;
            valid_range(n0, nt, stride, off, Ts, &lo, &hi);
            for (int64_t n = 0; n < lo; n++) row[n] = 0.0f;
            if (hi > lo) {
                const float *s = sr + (n0 + lo) * stride + off;
                if (stride == 1)
                    memcpy(row + lo, s, (size_t)(hi - lo) * sizeof(float));
                else
                    for (int64_t n = lo; n < hi; n++) row[n] = s[(n - lo) * stride];
            }
            for (int64_t n = hi; n < nt; n++) row[n] = 0.0f;
        }
}

/* The adjoint of unfold: dst[c, (n0 + n)·stride + k·dil − pad] += col[c·K + k, n]. */
static void fold_add(const float *col, int64_t C, int64_t Ts, int64_t K, int stride, int dil, int pad, int64_t n0,
                     int64_t nt, float *dst) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t k = 0; k < K; k++) {
            const float *row = col + (c * K + k) * nt;
            int64_t off = k * dil - pad, lo, hi;
            valid_range(n0, nt, stride, off, Ts, &lo, &hi);
            if (hi <= lo) continue;
            float *d = dst + c * Ts + (n0 + lo) * stride + off;
            if (stride == 1)
                for (int64_t n = lo; n < hi; n++) d[n - lo] += row[n];
            else
                for (int64_t n = lo; n < hi; n++) d[(n - lo) * stride] += row[n];
        }
}

typedef struct conv_job {
    conv_geom g;
    const float *x, *w, *b, *dy;
    float *y, *dx, *dw;  /* dw: gradient of part 0; parts p > 0 write partial + (p−1)·nw */
    float *db;
    const float *wp;     /* direct path: packed weights of every group (forward, or flipped for dx) */
    int64_t wp_group;    /* floats per group in wp */
    int64_t nchunks, chunk; /* direct path: positions split into nchunks of `chunk` per item */
    float *partial;
    int64_t nw, parts;   /* floats in dW; number of parallel parts */
    bool serial_gemm;
} conv_job;

static void gemm(const conv_job *j, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                 const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (j->serial_gemm)
        ds_gemm_serial(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    else
        ds_gemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

static void fill_bias(float *y, const float *bias, int64_t rows, int64_t n) {
    for (int64_t o = 0; o < rows; o++)
        for (int64_t t = 0; t < n; t++) y[o * n + t] = bias ? bias[o] : 0.0f;
}

/* ---------- forward of one (batch item, group) ---------- */

static void fwd_item(const conv_job *j, int64_t item) {
    const conv_geom *g = &j->g;
    int64_t b = item / g->G, gr = item % g->G;
    const float *x = j->x + (b * g->Ci + gr * g->Cig) * g->T;
    float *y = j->y + (b * g->Co + gr * g->Cog) * g->To;
    const float *bias = j->b ? j->b + gr * g->Cog : NULL;
    fill_bias(y, bias, g->Cog, g->To);
    if (!g->transposed) {
        const float *w = j->w + gr * g->Cog * g->Cig * g->K;
        int64_t KK = g->Cig * g->K;
        if (is_pointwise(g)) {
            gemm(j, false, false, g->Cog, g->To, KK, w, KK, x, g->T, 1.0f, y, g->To);
            return;
        }
        int64_t tile = tile_cols(KK, g->To);
        float *col = ds_tls_scratch(SLOT_COL, (size_t)(KK * tile));
        for (int64_t n0 = 0; n0 < g->To; n0 += tile) {
            int64_t nt = g->To - n0 < tile ? g->To - n0 : tile;
            unfold(x, g->Cig, g->T, g->K, g->stride, g->dil, g->pad_l, n0, nt, col);
            gemm(j, false, false, g->Cog, nt, KK, w, KK, col, nt, 1.0f, y + n0, g->To);
        }
    } else {
        const float *w = j->w + gr * g->Cig * g->Cog * g->K; /* [Cig, Cog·K] */
        int64_t OK = g->Cog * g->K;
        int64_t tile = tile_cols(OK, g->T);
        float *col = ds_tls_scratch(SLOT_COL, (size_t)(OK * tile));
        for (int64_t n0 = 0; n0 < g->T; n0 += tile) {
            int64_t nt = g->T - n0 < tile ? g->T - n0 : tile;
            gemm(j, true, false, OK, nt, g->Cig, w, OK, x + n0, g->T, 0.0f, col, nt);
            fold_add(col, g->Cog, g->To, g->K, g->stride, 1, g->pad_l, n0, nt, y);
        }
    }
}

static void fwd_items(void *arg, int64_t i0, int64_t i1) {
    for (int64_t it = i0; it < i1; it++) fwd_item(arg, it);
}

/* ---------- backward of one (batch item, group): dx and dW (into dw) ---------- */

static void bwd_item(const conv_job *j, int64_t item, float *dw) {
    const conv_geom *g = &j->g;
    int64_t b = item / g->G, gr = item % g->G;
    const float *x = j->x + (b * g->Ci + gr * g->Cig) * g->T;
    const float *dy = j->dy + (b * g->Co + gr * g->Cog) * g->To;
    float *dx = j->dx ? j->dx + (b * g->Ci + gr * g->Cig) * g->T : NULL;
    if (!g->transposed) {
        int64_t KK = g->Cig * g->K;
        const float *w = j->w + gr * g->Cog * KK;
        float *dwg = dw ? dw + gr * g->Cog * KK : NULL;
        if (is_pointwise(g)) {
            if (dwg) gemm(j, false, true, g->Cog, KK, g->To, dy, g->To, x, g->T, 1.0f, dwg, KK);
            if (dx) gemm(j, true, false, KK, g->To, g->Cog, w, KK, dy, g->To, 1.0f, dx, g->T);
            return;
        }
        int64_t tile = tile_cols(KK, g->To);
        float *col = ds_tls_scratch(SLOT_COL, (size_t)(KK * tile));
        if (dwg)
            for (int64_t n0 = 0; n0 < g->To; n0 += tile) {
                int64_t nt = g->To - n0 < tile ? g->To - n0 : tile;
                unfold(x, g->Cig, g->T, g->K, g->stride, g->dil, g->pad_l, n0, nt, col);
                gemm(j, false, true, g->Cog, KK, nt, dy + n0, g->To, col, nt, 1.0f, dwg, KK);
            }
        if (!dx) return;
        float *dcol = ds_tls_scratch(SLOT_DCOL, (size_t)(KK * tile));
        for (int64_t n0 = 0; n0 < g->To; n0 += tile) {
            int64_t nt = g->To - n0 < tile ? g->To - n0 : tile;
            gemm(j, true, false, KK, nt, g->Cog, w, KK, dy + n0, g->To, 0.0f, dcol, nt);
            fold_add(dcol, g->Cig, g->T, g->K, g->stride, g->dil, g->pad_l, n0, nt, dx);
        }
    } else {
        int64_t OK = g->Cog * g->K;
        const float *w = j->w + gr * g->Cig * OK;
        float *dwg = dw ? dw + gr * g->Cig * OK : NULL;
        int64_t tile = tile_cols(OK, g->T);
        float *dcol = ds_tls_scratch(SLOT_DCOL, (size_t)(OK * tile));
        for (int64_t n0 = 0; n0 < g->T; n0 += tile) {
            int64_t nt = g->T - n0 < tile ? g->T - n0 : tile;
            unfold(dy, g->Cog, g->To, g->K, g->stride, 1, g->pad_l, n0, nt, dcol);
            if (dx) gemm(j, false, false, g->Cig, nt, OK, w, OK, dcol, nt, 1.0f, dx + n0, g->T);
            if (dwg) gemm(j, false, true, g->Cig, OK, nt, x + n0, g->T, dcol, nt, 1.0f, dwg, OK);
        }
    }
}

static void bwd_parts(void *arg, int64_t p0, int64_t p1) {
    const conv_job *j = arg;
    int64_t items = j->g.B * j->g.G;
    for (int64_t p = p0; p < p1; p++) {
        float *dw = j->dw ? (p == 0 ? j->dw : j->partial + (p - 1) * j->nw) : NULL;
        if (dw && p > 0) memset(dw, 0, (size_t)j->nw * sizeof(float));
        for (int64_t it = p * items / j->parts; it < (p + 1) * items / j->parts; it++) bwd_item(j, it, dw);
    }
}

/* ---------- depthwise (one channel per group), direct loops ---------- */

/* A depthwise row pairs n (conv: output position; transposed: input position) and tap k
 * with s = n·stride + k·dil − pad (conv: input position; transposed: output position).
 * Returns in [*a, *b) the n whose K taps all land in [0, S); only the edges need checks. */
static void dw_interior(int64_t N, int64_t S, int64_t K, int stride, int dil, int pad, int64_t *a, int64_t *b) {
    int64_t lo = pad > 0 ? (pad + stride - 1) / stride : 0;
    int64_t last = S - 1 - (K - 1) * dil + pad; /* need n·stride <= last */
    int64_t hi = last < 0 ? 0 : last / stride + 1;
    if (hi > N) hi = N;
    if (lo > hi) lo = hi;
    *a = lo;
    *b = hi;
}

/* Forward rows r = b·C + c. */
static void dw_fwd_rows(void *arg, int64_t r0, int64_t r1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    int st = g->stride, dil = g->transposed ? 1 : g->dil, pad = g->pad_l;
    int64_t K = g->K, N = g->transposed ? g->T : g->To, S = g->transposed ? g->To : g->T, a, b;
    dw_interior(N, S, K, st, dil, pad, &a, &b);
    for (int64_t r = r0; r < r1; r++) {
        int64_t c = r % g->Co;
        const float *x = j->x + r * g->T, *w = j->w + c * K;
        float *y = j->y + r * g->To;
        float bias = j->b ? j->b[c] : 0.0f;
        if (!g->transposed) {
            for (int64_t n = 0; n < g->To; n++) {
                float acc = 0;
                if (n >= a && n < b) {
                    const float *xs = x + n * st - pad;
                    for (int64_t k = 0; k < K; k++) acc += w[k] * xs[k * dil];
                } else {
                    for (int64_t k = 0; k < K; k++) {
                        int64_t s = n * st + k * dil - pad;
                        if (s >= 0 && s < g->T) acc += w[k] * x[s];
                    }
                }
                y[n] = bias + acc;
            }
        } else {
            for (int64_t m = 0; m < g->To; m++) y[m] = bias;
            for (int64_t n = 0; n < g->T; n++) {
                if (n >= a && n < b) {
                    float *ys = y + n * st - pad;
                    for (int64_t k = 0; k < K; k++) ys[k] += w[k] * x[n];
                    continue;
                }
                for (int64_t k = 0; k < K; k++) {
                    int64_t m = n * st + k - pad;
                    if (m >= 0 && m < g->To) y[m] += w[k] * x[n];
                }
            }
        }
    }
}

/* Backward per channel c (all batch items), so dW rows are never shared between threads.
 * For each pair (n, k) -> s: conv: y[n] used x[s]; transposed: x[n] fed y[s]. */
static void dw_bwd_channels(void *arg, int64_t c0, int64_t c1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    bool tr = g->transposed;
    int st = g->stride, dil = tr ? 1 : g->dil, pad = g->pad_l;
    int64_t K = g->K, N = tr ? g->T : g->To, S = tr ? g->To : g->T, a, b;
    dw_interior(N, S, K, st, dil, pad, &a, &b);
    for (int64_t c = c0; c < c1; c++)
        for (int64_t bb = 0; bb < g->B; bb++) {
            int64_t r = bb * g->Co + c;
            const float *x = j->x + r * g->T, *dy = j->dy + r * g->To, *w = j->w + c * K;
            float *dx = j->dx ? j->dx + r * g->T : NULL, *dw = j->dw ? j->dw + c * K : NULL;
            for (int64_t n = 0; n < N; n++) {
                bool inside = n >= a && n < b;
                if (!tr) { /* y[n] used x[s] */
                    float d = dy[n];
                    for (int64_t k = 0; k < K; k++) {
                        int64_t s = n * st + k * dil - pad;
                        if (!inside && (s < 0 || s >= S)) continue;
                        if (dw) dw[k] += d * x[s];
                        if (dx) dx[s] += d * w[k];
                    }
                } else { /* x[n] fed y[s] */
                    float xv = x[n], acc = 0;
                    for (int64_t k = 0; k < K; k++) {
                        int64_t s = n * st + k - pad;
                        if (!inside && (s < 0 || s >= S)) continue;
                        if (dw) dw[k] += dy[s] * xv;
                        acc += dy[s] * w[k];
                    }
                    if (dx) dx[n] += acc;
                }
            }
        }
}

/* ---------- bias gradient: db[o] += Σ_{b,t} dy[b, o, t] ---------- */

static void db_channels(void *arg, int64_t o0, int64_t o1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    float *db = j->db;
    for (int64_t o = o0; o < o1; o++) {
        double s = 0;
        for (int64_t b = 0; b < g->B; b++) {
            const float *d = j->dy + (b * g->Co + o) * g->To;
            float part = 0;
#pragma omp simd reduction(+ : part)
            for (int64_t n = 0; n < g->To; n++) part += d[n];
            s += part;
        }
        db[o] += (float)s;
    }
}

/* ---------- direct path: stride-1 convolutions (ops/conv_direct.c) ---------- */

static bool use_direct(const conv_geom *g) { return !g->transposed && g->stride == 1 && !is_depthwise(g); }

/* Work units: (item, chunk of positions) pairs, enough of them to feed every thread. */
static void direct_split(conv_job *j, int64_t N) {
    int64_t items = j->g.B * j->g.G, nt = ds_pool_threads();
    int64_t nch = items >= 2 * nt ? 1 : (2 * nt + items - 1) / items;
    int64_t len = (N + nch - 1) / nch;
    len = (len + 47) / 48 * 48;
    j->chunk = len > 0 ? len : 48;
    j->nchunks = (N + j->chunk - 1) / j->chunk;
    if (j->nchunks < 1) j->nchunks = 1;
}

static void direct_fwd_units(void *arg, int64_t u0, int64_t u1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    for (int64_t u = u0; u < u1; u++) {
        int64_t item = u / j->nchunks, ch = u % j->nchunks, b = item / g->G, gr = item % g->G;
        int64_t n0 = ch * j->chunk, n1 = n0 + j->chunk < g->To ? n0 + j->chunk : g->To;
        ds_convd_fwd(j->wp + gr * j->wp_group, j->b ? j->b + gr * g->Cog : NULL, j->x + (b * g->Ci + gr * g->Cig) * g->T,
                     g->T, g->T, j->y + (b * g->Co + gr * g->Cog) * g->To, g->To, g->Cog, g->Cig, g->K, g->dil, g->pad_l,
                     n0, n1, false);
    }
}

/* dx = the forward kernel on dy with the flipped kernel (wp holds it), accumulating. */
static void direct_dx_units(void *arg, int64_t u0, int64_t u1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    int padf = (int)((g->K - 1) * g->dil) - g->pad_l;
    for (int64_t u = u0; u < u1; u++) {
        int64_t item = u / j->nchunks, ch = u % j->nchunks, b = item / g->G, gr = item % g->G;
        int64_t n0 = ch * j->chunk, n1 = n0 + j->chunk < g->T ? n0 + j->chunk : g->T;
        ds_convd_fwd(j->wp + gr * j->wp_group, NULL, j->dy + (b * g->Co + gr * g->Cog) * g->To, g->To, g->To,
                     j->dx + (b * g->Ci + gr * g->Cig) * g->T, g->T, g->Cig, g->Cog, g->K, g->dil, padf, n0, n1, true);
    }
}

/* dW: part p accumulates its share of the units into its own buffer. */
static void direct_dw_parts(void *arg, int64_t p0, int64_t p1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    int64_t units = g->B * g->G * j->nchunks;
    for (int64_t p = p0; p < p1; p++) {
        float *dw = p == 0 ? j->dw : j->partial + (p - 1) * j->nw;
        if (p > 0) memset(dw, 0, (size_t)j->nw * sizeof(float));
        for (int64_t u = p * units / j->parts; u < (p + 1) * units / j->parts; u++) {
            int64_t item = u / j->nchunks, ch = u % j->nchunks, b = item / g->G, gr = item % g->G;
            int64_t n0 = ch * j->chunk, n1 = n0 + j->chunk < g->To ? n0 + j->chunk : g->To;
            ds_convd_dw(j->dy + (b * g->Co + gr * g->Cog) * g->To, g->To, j->x + (b * g->Ci + gr * g->Cig) * g->T, g->T,
                        g->T, dw + gr * g->Cog * g->Cig * g->K, g->Cog, g->Cig, g->K, g->dil, g->pad_l, n0, n1);
        }
    }
}

/* Packing (weights or flipped weights of every group) in parallel over output blocks. */
typedef struct pack_job {
    const conv_job *j;
    float *wp;
    bool flip;
    int64_t blocks; /* output blocks per group */
} pack_job;

static void pack_units(void *arg, int64_t u0, int64_t u1) {
    const pack_job *p = arg;
    const conv_geom *g = &p->j->g;
    int64_t OB = ds_convd_pack_block();
    for (int64_t u = u0; u < u1; u++) {
        int64_t gr = u / p->blocks, o0 = (u % p->blocks) * OB;
        const float *w = p->j->w + gr * g->Cog * g->Cig * g->K;
        float *wp = p->wp + gr * p->j->wp_group;
        if (!p->flip) /* [Cog, Cig, K] as is */
            ds_convd_pack(w, g->Cig * g->K, g->K, 1, g->Cog, g->Cig, g->K, false, o0, o0 + OB, wp);
        else /* element (i, o, k) = w[o, i, K−1−k]: a [Cig, Cog, K] conv */
            ds_convd_pack(w, g->K, g->Cig * g->K, 1, g->Cig, g->Cog, g->K, true, o0, o0 + OB, wp);
    }
}

static const float *pack(conv_job *j, bool flip, int slot) {
    const conv_geom *g = &j->g;
    int64_t co = flip ? g->Cig : g->Cog, ci = flip ? g->Cog : g->Cig;
    j->wp_group = ds_convd_packed_size(co, ci, g->K);
    pack_job p = {j, ds_tls_scratch(slot, (size_t)(g->G * j->wp_group)), flip, j->wp_group / (ci * g->K * ds_convd_pack_block())};
    ds_parallel_for(g->G * p.blocks, 1, pack_units, &p);
    return p.wp;
}

/* Sums the dW partials of parts 1.. into part 0 (the gradient), in parallel over elements. */
static void sum_partials(void *arg, int64_t e0, int64_t e1) {
    const conv_job *j = arg;
    for (int64_t p = 1; p < j->parts; p++) {
        const float *src = j->partial + (p - 1) * j->nw;
        for (int64_t e = e0; e < e1; e++) j->dw[e] += src[e];
    }
}

static void direct_forward(conv_job *j) {
    const conv_geom *g = &j->g;
    j->wp = pack(j, false, SLOT_PARTIAL);
    direct_split(j, g->To);
    ds_parallel_for(g->B * g->G * j->nchunks, 1, direct_fwd_units, j);
}

static void direct_backward(conv_job *j) {
    const conv_geom *g = &j->g;
    if (j->dw) {
        direct_split(j, g->To);
        int64_t units = g->B * g->G * j->nchunks, nt = ds_pool_threads();
        j->parts = units < nt ? units : nt;
        if (j->parts > 1) j->partial = ds_tls_scratch(SLOT_PARTIAL, (size_t)((j->parts - 1) * j->nw));
        ds_parallel_for(j->parts, 1, direct_dw_parts, j);
        if (j->parts > 1) ds_parallel_for(j->nw, 4096, sum_partials, j);
    }
    if (j->dx) {
        j->wp = pack(j, true, 0);
        direct_split(j, g->T);
        ds_parallel_for(g->B * g->G * j->nchunks, 1, direct_dx_units, j);
    }
}

/* ---------- drivers ---------- */

static void run_forward(conv_job *j) {
    const conv_geom *g = &j->g;
    if (use_direct(g)) {
        direct_forward(j);
        return;
    }
    if (is_depthwise(g)) {
        ds_parallel_for(g->B * g->Co, 4, dw_fwd_rows, j);
        return;
    }
    int64_t items = g->B * g->G, nt = ds_pool_threads();
    if (nt > 1 && items >= nt && (items % nt == 0 || items >= 2 * nt)) {
        j->serial_gemm = true;
        ds_parallel_for(items, 1, fwd_items, j);
    } else {
        j->serial_gemm = false;
        for (int64_t it = 0; it < items; it++) fwd_item(j, it);
    }
}

/* The geometry as the device op table takes it (pad_r: the right padding actually read). */
static ds_conv_geom dev_geom(const conv_geom *g) {
    ds_conv_geom d = {g->B, g->Ci, g->T, g->Co, g->K, g->To, g->G, g->Cig, g->Cog, g->stride, g->pad_l, 0, g->dil,
                      g->transposed};
    d.pad_r = g->transposed ? (int)((g->T - 1) * g->stride + g->K - g->pad_l - g->To)
                            : (int)((g->To - 1) * g->stride + (int64_t)g->dil * (g->K - 1) + 1 - g->T - g->pad_l);
    return d;
}

static void conv_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *w = r->in[1], *b = r->in[2];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        ds_conv_geom dg = dev_geom(r->p);
        dv->conv_bwd(r->dev, &dg, x->data, w->data, r->out->grad, ds_grad_or_null(x), ds_grad_or_null(w),
                     ds_grad_or_null(b));
        return;
    }
    conv_job j;
    memset(&j, 0, sizeof j);
    memcpy(&j.g, r->p, sizeof j.g);
    const conv_geom *g = &j.g;
    j.x = x->data;
    j.w = w->data;
    j.dy = r->out->grad;
    j.dx = x->requires_grad ? x->grad : NULL;
    j.dw = w->requires_grad ? w->grad : NULL;
    if (b && b->requires_grad) {
        j.db = b->grad;
        ds_parallel_for(g->Co, 4, db_channels, &j);
    }
    if (!j.dx && !j.dw) return;
    if (is_depthwise(g)) {
        ds_parallel_for(g->Co, 1, dw_bwd_channels, &j);
        return;
    }
    j.nw = ds_numel(w);
    if (use_direct(g)) {
        direct_backward(&j);
        return;
    }
    int64_t items = g->B * g->G, nt = ds_pool_threads();
    if (nt > 1 && items >= nt && (items % nt == 0 || items >= 2 * nt)) {
        j.serial_gemm = true;
        j.parts = nt;
        if (j.dw) j.partial = ds_tls_scratch(SLOT_PARTIAL, (size_t)((j.parts - 1) * j.nw));
        ds_parallel_for(j.parts, 1, bwd_parts, &j);
        if (j.dw) ds_parallel_for(j.nw, 4096, sum_partials, &j);
    } else {
        j.serial_gemm = false;
        j.parts = 1;
        bwd_parts(&j, 0, 1);
    }
}

static ds_tensor *conv_common(ds_ctx *c, const char *name, conv_geom g, ds_tensor *x, ds_tensor *w, ds_tensor *b) {
    ds_tensor *y = ds_new3(c, g.B, g.Co, g.To);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        ds_conv_geom dg = dev_geom(&g);
        dv->conv_fwd(c->dev, &dg, x->data, w->data, b ? b->data : NULL, y->data);
    } else if (!c->dry) {
        conv_job j;
        memset(&j, 0, sizeof j);
        j.g = g;
        j.x = x->data;
        j.w = w->data;
        j.b = b ? b->data : NULL;
        j.y = y->data;
        run_forward(&j);
    }
    ds_rec *r = ds_record(c, name, conv_backward, y, 3, (ds_tensor *[]){x, w, b});
    if (r) {
        conv_geom *saved = ds_arena_alloc(&c->meta, sizeof g);
        memcpy(saved, &g, sizeof g);
        r->p = saved;
    }
    return y;
}

ds_tensor *ds_conv1d(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b, int stride, int pad_l, int pad_r,
                     int dilation, int groups) {
    DS_ASSERT(x->ndim == 3 && w->ndim == 3 && groups >= 1 && stride >= 1 && dilation >= 1);
    DS_ASSERT(pad_l >= 0 && pad_r >= 0);
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], w->shape[0], w->shape[2], 0, groups, 0, 0,
                   stride, pad_l, dilation, false};
    DS_ASSERTF(g.Ci % groups == 0 && g.Co % groups == 0 && w->shape[1] == g.Ci / groups,
               "conv1d: input %lld channels, weight [%lld, %lld, %lld], groups %d", (long long)g.Ci,
               (long long)w->shape[0], (long long)w->shape[1], (long long)w->shape[2], groups);
    DS_ASSERT(!b || ds_numel(b) == g.Co);
    g.Cig = g.Ci / groups;
    g.Cog = g.Co / groups;
    int64_t span = (int64_t)dilation * (g.K - 1) + 1;
    DS_ASSERTF(g.T + pad_l + pad_r >= span, "conv1d: input length %lld + padding shorter than the kernel span %lld",
               (long long)g.T, (long long)span);
    g.To = (g.T + pad_l + pad_r - span) / stride + 1;
    return conv_common(c, "conv1d", g, x, w, b);
}

ds_tensor *ds_conv_transpose1d(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b, int stride, int pad_l,
                               int pad_r, int groups) {
    DS_ASSERT(x->ndim == 3 && w->ndim == 3 && groups >= 1 && stride >= 1 && pad_l >= 0);
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], w->shape[1] * groups, w->shape[2], 0, groups, 0, 0,
                   stride, pad_l, 1, true};
    DS_ASSERTF(w->shape[0] == g.Ci && g.Ci % groups == 0,
               "conv_transpose1d: input %lld channels, weight [%lld, %lld, %lld], groups %d", (long long)g.Ci,
               (long long)w->shape[0], (long long)w->shape[1], (long long)w->shape[2], groups);
    DS_ASSERT(!b || ds_numel(b) == g.Co);
    g.Cig = g.Ci / groups;
    g.Cog = g.Co / groups;
    g.To = (g.T - 1) * stride + g.K - pad_l - pad_r;
    DS_ASSERTF(g.To > 0, "conv_transpose1d: output length %lld", (long long)g.To);
    return conv_common(c, "conv_transpose1d", g, x, w, b);
}
