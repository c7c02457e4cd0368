/* 1-D convolution (nn.Conv1d, cross-correlation) with zero padding (left/right may differ,
 * as ADP's own padding needs), stride, dilation and groups.
 *   y[b, o, n] = bias[o] + Σ_{i in group(o)} Σ_k w[o, i, k] · x_pad[b, i, n·stride + k·dil]
 * Implementation: im2col per (batch, group) then one GEMM; a 1×1, stride-1, unpadded conv
 * uses x directly; depthwise convs (one channel per group) use a direct loop.
 * Ref: https://pytorch.org/docs/stable/generated/torch.nn.Conv1d.html */
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "core/scratch.h"
#include "ops/ops.h"

typedef struct conv_geom {
    int64_t B, Ci, T, Co, K, To, G, Cig, Cog;
    int stride, pad_l, dil;
} conv_geom;

static bool is_pointwise(const conv_geom *g) { return g->K == 1 && g->stride == 1 && g->pad_l == 0 && g->To == g->T; }

/* col [Cig*K, To] from x rows of one group (x points at the group's first channel). */
static void im2col(const conv_geom *g, const float *x, float *col) {
    for (int64_t i = 0; i < g->Cig; i++)
        for (int64_t k = 0; k < g->K; k++) {
            float *row = col + (i * g->K + k) * g->To;
            const float *xr = x + i * g->T;
            int64_t off = k * g->dil - g->pad_l;
            for (int64_t n = 0; n < g->To; n++) {
                int64_t s = n * g->stride + off;
                row[n] = (s >= 0 && s < g->T) ? xr[s] : 0.0f;
            }
        }
}

static void col2im_add(const conv_geom *g, const float *col, float *dx) {
    for (int64_t i = 0; i < g->Cig; i++)
        for (int64_t k = 0; k < g->K; k++) {
            const float *row = col + (i * g->K + k) * g->To;
            float *xr = dx + i * g->T;
            int64_t off = k * g->dil - g->pad_l;
            for (int64_t n = 0; n < g->To; n++) {
                int64_t s = n * g->stride + off;
                if (s >= 0 && s < g->T) xr[s] += row[n];
            }
        }
}

typedef struct conv_job {
    conv_geom g;
    const float *x, *w, *b, *dy;
    float *y, *dx, *dw;
    bool serial_gemm;
} conv_job;

static void conv_fwd_item(const conv_job *j, int64_t item) {
    const conv_geom *g = &j->g;
    int64_t b = item / g->G, gr = item % g->G;
    const float *x = j->x + (b * g->Ci + gr * g->Cig) * g->T;
    const float *w = j->w + gr * g->Cog * g->Cig * g->K;
    float *y = j->y + (b * g->Co + gr * g->Cog) * g->To;
    if (j->b)
        for (int64_t o = 0; o < g->Cog; o++)
            for (int64_t n = 0; n < g->To; n++) y[o * g->To + n] = j->b[gr * g->Cog + o];
    float beta = j->b ? 1.0f : 0.0f;
    const float *col = x;
    if (!is_pointwise(g)) {
        float *buf = ds_tls_scratch(2, (size_t)(g->Cig * g->K * g->To));
        im2col(g, x, buf);
        col = buf;
    }
    if (j->serial_gemm)
        ds_gemm_serial(false, false, g->Cog, g->To, g->Cig * g->K, 1.0f, w, g->Cig * g->K, col, g->To, beta, y, g->To);
    else
        ds_gemm(false, false, g->Cog, g->To, g->Cig * g->K, 1.0f, w, g->Cig * g->K, col, g->To, beta, y, g->To);
}

static void conv_fwd_items(void *arg, int64_t i0, int64_t i1) {
    for (int64_t it = i0; it < i1; it++) conv_fwd_item(arg, it);
}

/* Depthwise: one input and one output channel per group. */
static void depthwise_rows(void *arg, int64_t r0, int64_t r1) {
    const conv_job *j = arg;
    const conv_geom *g = &j->g;
    for (int64_t r = r0; r < r1; r++) {
        int64_t c = r % g->Co;
        const float *x = j->x + r * g->T, *w = j->w + c * g->K;
        float *y = j->y + r * g->To;
        for (int64_t n = 0; n < g->To; n++) {
            float acc = 0;
            for (int64_t k = 0; k < g->K; k++) {
                int64_t s = n * g->stride + k * g->dil - g->pad_l;
                if (s >= 0 && s < g->T) acc += w[k] * x[s];
            }
            y[n] = (j->b ? j->b[c] : 0.0f) + acc;
        }
    }
}

static void conv_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *w = r->in[1], *b = r->in[2];
    conv_geom g;
    memcpy(&g, r->p, sizeof g);
    const float *dy = r->out->grad;
    if (b && b->requires_grad)
        for (int64_t bb = 0; bb < g.B; bb++)
            for (int64_t o = 0; o < g.Co; o++) {
                const float *d = dy + (bb * g.Co + o) * g.To;
                float s = 0;
                for (int64_t n = 0; n < g.To; n++) s += d[n];
                b->grad[o] += s;
            }
    if (g.Cig == 1 && g.Cog == 1 && g.K > 1) { /* depthwise */
        for (int64_t row = 0; row < g.B * g.Co; row++) {
            int64_t ch = row % g.Co;
            const float *xr = x->data + row * g.T, *d = dy + row * g.To, *wr = w->data + ch * g.K;
            for (int64_t n = 0; n < g.To; n++)
                for (int64_t k = 0; k < g.K; k++) {
                    int64_t s = n * g.stride + k * g.dil - g.pad_l;
                    if (s < 0 || s >= g.T) continue;
                    if (w->requires_grad) w->grad[ch * g.K + k] += d[n] * xr[s];
                    if (x->requires_grad) x->grad[row * g.T + s] += d[n] * wr[k];
                }
        }
        return;
    }
    int64_t KK = g.Cig * g.K;
    float *col = ds_tls_scratch(2, (size_t)(KK * g.To));
    float *dcol = ds_tls_scratch(3, (size_t)(KK * g.To));
    for (int64_t bb = 0; bb < g.B; bb++)
        for (int64_t gr = 0; gr < g.G; gr++) {
            const float *xg = x->data + (bb * g.Ci + gr * g.Cig) * g.T;
            const float *wg = w->data + gr * g.Cog * KK;
            const float *dyg = dy + (bb * g.Co + gr * g.Cog) * g.To;
            bool pw = is_pointwise(&g);
            if (w->requires_grad) {
                const float *cm = xg;
                if (!pw) {
                    im2col(&g, xg, col);
                    cm = col;
                }
                ds_gemm(false, true, g.Cog, KK, g.To, 1.0f, dyg, g.To, cm, g.To, 1.0f, w->grad + gr * g.Cog * KK, KK);
            }
            if (x->requires_grad) {
                float *dxg = x->grad + (bb * g.Ci + gr * g.Cig) * g.T;
                if (pw) {
                    ds_gemm(true, false, KK, g.To, g.Cog, 1.0f, wg, KK, dyg, g.To, 1.0f, dxg, g.To);
                } else {
                    ds_gemm(true, false, KK, g.To, g.Cog, 1.0f, wg, KK, dyg, g.To, 0.0f, dcol, g.To);
                    col2im_add(&g, dcol, dxg);
                }
            }
        }
}

ds_tensor *ds_conv1d(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b, int stride, int pad_l, int pad_r,
                     int dilation, int groups) {
    DS_ASSERT(x->ndim == 3 && w->ndim == 3 && groups >= 1 && stride >= 1 && dilation >= 1);
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], w->shape[0], w->shape[2], 0, groups, 0, 0,
                   stride, pad_l, dilation};
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
    ds_tensor *y = ds_new3(c, g.B, g.Co, g.To);
    if (!c->dry) {
        conv_job j = {g, x->data, w->data, b ? b->data : NULL, NULL, y->data, NULL, NULL, false};
        if (g.Cig == 1 && g.Cog == 1 && g.K > 1) {
            ds_parallel_for(g.B * g.Co, 4, depthwise_rows, &j);
        } else {
            int64_t items = g.B * g.G;
            if (items >= 2 * ds_pool_threads()) {
                j.serial_gemm = true;
                ds_parallel_for(items, 1, conv_fwd_items, &j);
            } else {
                for (int64_t it = 0; it < items; it++) conv_fwd_item(&j, it);
            }
        }
    }
    ds_rec *r = ds_record(c, "conv1d", conv_backward, y, 3, (ds_tensor *[]){x, w, b});
    if (r) {
        conv_geom *saved = ds_arena_alloc(&c->meta, sizeof g);
        memcpy(saved, &g, sizeof g);
        r->p = saved;
    }
    return y;
}
