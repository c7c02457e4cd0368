/* Finite-difference gradient checks for every CPU op.
 *
 * For each op: random inputs x_k, a random upstream r, L = Σ out·r. The tape's backward
 * gives dL/dx_k; central differences (L(x+h) − L(x−h)) / 2h with L summed in double give
 * the reference. In float32 with h = 1e-2 on O(1) inputs the truncation error is ~h²
 * and the rounding error ~1e-7/h, so we require max|analytic − numeric| ≤ 5e-3·max(1, max|numeric|).
 * Every element of every input is checked (the tensors are small). The test also checks
 * that a dry (planning) pass predicts exactly the arena bytes the real pass uses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "ops/ops.h"
#include "tensor/tensor.h"
#include "testutil.h"

#define MAXIN 5

typedef ds_tensor *(*build_fn)(ds_ctx *c, ds_tensor **in, const void *user);

typedef struct spec {
    int nin;
    int ndim[MAXIN];
    int64_t shape[MAXIN][4];
    float lo[MAXIN], hi[MAXIN]; /* input range (default [-1, 1)) */
    bool no_grad[MAXIN];        /* inputs that are data (e.g. Fourier's t) */
} spec;

static int64_t numel_of(const spec *s, int k) {
    int64_t n = 1;
    for (int d = 0; d < s->ndim[k]; d++) n *= s->shape[k][d];
    return n;
}

static double loss_of(build_fn f, const void *user, const spec *s, float **data, const float *r, int64_t nout) {
    ds_ctx c;
    ds_ctx_init(&c);
    ds_tensor *in[MAXIN];
    for (int k = 0; k < s->nin; k++) in[k] = ds_wrap(&c, data[k], s->ndim[k], s->shape[k], false);
    ds_tensor *out = f(&c, in, user);
    double L = 0;
    for (int64_t i = 0; i < nout; i++) L += (double)out->data[i] * r[i];
    ds_ctx_free(&c);
    return L;
}

static void gradcheck(const char *name, build_fn f, const void *user, const spec *s) {
    float *data[MAXIN];
    unsigned seed = 1;
    for (const char *p = name; *p; p++) seed = seed * 31 + (unsigned char)*p;
    for (int k = 0; k < s->nin; k++) {
        int64_t n = numel_of(s, k);
        data[k] = malloc((size_t)n * sizeof(float));
        tu_fill(data[k], n, seed + (unsigned)k * 7);
        float lo = s->lo[k], hi = s->hi[k];
        if (lo == 0 && hi == 0) lo = -1, hi = 1;
        for (int64_t i = 0; i < n; i++) data[k][i] = lo + (data[k][i] + 1.0f) * 0.5f * (hi - lo);
    }

    /* Planning pass: must predict the arena use of the real pass exactly. */
    ds_ctx c;
    ds_ctx_init(&c);
    c.grad = true;
    ds_ctx_set_dry(&c, true);
    {
        ds_tensor *in[MAXIN];
        for (int k = 0; k < s->nin; k++) in[k] = ds_wrap(&c, data[k], s->ndim[k], s->shape[k], !s->no_grad[k]);
        ds_tensor *out = f(&c, in, user);
        ds_backward(&c, out, NULL);
    }
    size_t planned = c.arena.peak;
    ds_ctx_set_dry(&c, false);

    ds_tensor *in[MAXIN];
    for (int k = 0; k < s->nin; k++) in[k] = ds_wrap(&c, data[k], s->ndim[k], s->shape[k], !s->no_grad[k]);
    ds_tensor *out = f(&c, in, user);
    int64_t nout = ds_numel(out);
    float *r = malloc((size_t)nout * sizeof(float));
    tu_fill(r, nout, seed + 99);
    ds_backward(&c, out, r);
    CHECKF(c.arena.used == planned && c.arena.extra == NULL, "%s: planned %zu bytes, used %zu", name, planned,
           c.arena.used);

    for (int k = 0; k < s->nin; k++) {
        if (s->no_grad[k]) continue;
        int64_t n = numel_of(s, k);
        const float *ga = in[k]->grad;
        CHECKF(ga != NULL, "%s: input %d got no gradient", name, k);
        if (!ga) continue;
        double maxnum = 0, maxerr = 0;
        int64_t worst = -1;
        double *num = malloc((size_t)n * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            float keep = data[k][i];
            const float h = 1e-2f;
            data[k][i] = keep + h;
            double lp = loss_of(f, user, s, data, r, nout);
            data[k][i] = keep - h;
            double lm = loss_of(f, user, s, data, r, nout);
            data[k][i] = keep;
            num[i] = (lp - lm) / (2.0 * h);
            if (fabs(num[i]) > maxnum) maxnum = fabs(num[i]);
        }
        for (int64_t i = 0; i < n; i++) {
            double e = fabs(num[i] - ga[i]);
            if (e > maxerr) maxerr = e, worst = i;
        }
        double tol = 5e-3 * (maxnum > 1 ? maxnum : 1);
        CHECKF(maxerr <= tol, "%s: input %d: max |analytic - numeric| = %.3g at %lld (analytic %.6g, numeric %.6g), tol %.3g",
               name, k, maxerr, (long long)worst, worst >= 0 ? ga[worst] : 0.0, worst >= 0 ? num[worst] : 0.0, tol);
        free(num);
    }
    free(r);
    ds_ctx_free(&c);
    for (int k = 0; k < s->nin; k++) free(data[k]);
}

/* ---- op builders ---- */

static ds_tensor *b_linear(ds_ctx *c, ds_tensor **in, const void *u) { return ds_linear(c, in[0], in[1], u ? NULL : in[2]); }

typedef struct conv_args { int stride, pad_l, pad_r, dil, groups; } conv_args;
static ds_tensor *b_conv(ds_ctx *c, ds_tensor **in, const void *u) {
    const conv_args *a = u;
    return ds_conv1d(c, in[0], in[1], in[2], a->stride, a->pad_l, a->pad_r, a->dil, a->groups);
}
typedef struct convt_args { int stride, pad_l, pad_r, groups; } convt_args;
static ds_tensor *b_convt(ds_ctx *c, ds_tensor **in, const void *u) {
    const convt_args *a = u;
    return ds_conv_transpose1d(c, in[0], in[1], in[2], a->stride, a->pad_l, a->pad_r, a->groups);
}
static ds_tensor *b_convt_nb(ds_ctx *c, ds_tensor **in, const void *u) {
    const convt_args *a = u;
    return ds_conv_transpose1d(c, in[0], in[1], NULL, a->stride, a->pad_l, a->pad_r, a->groups);
}
typedef struct gn_args { int groups; ds_act act; bool mod, affine; } gn_args;
static ds_tensor *b_gn(ds_ctx *c, ds_tensor **in, const void *u) {
    const gn_args *a = u;
    ds_tensor *g = a->affine ? in[1] : NULL, *b = a->affine ? in[2] : NULL;
    if (!a->mod && a->act == DS_ACT_NONE) return ds_group_norm(c, in[0], a->groups, g, b, 1e-5f);
    ds_tensor *s = a->mod ? in[3] : NULL, *h = a->mod ? in[4] : NULL;
    return ds_group_norm_act(c, in[0], a->groups, g, b, 1e-5f, s, h, a->act);
}
static ds_tensor *b_pad_reflect(ds_ctx *c, ds_tensor **in, const void *u) {
    const int *lr = u;
    return ds_pad_reflect(c, in[0], lr[0], lr[1]);
}
static ds_tensor *b_add(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_add(c, in[0], in[1]); }
static ds_tensor *b_sub(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_sub(c, in[0], in[1]); }
static ds_tensor *b_mul(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_mul(c, in[0], in[1]); }
static ds_tensor *b_add_bc(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_add_bc(c, in[0], in[1]); }
static ds_tensor *b_mul_bc(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_mul_bc(c, in[0], in[1]); }
static ds_tensor *b_affine(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_affine(c, in[0], -1.5f, 0.25f); }
static ds_tensor *b_silu(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_silu(c, in[0]); }
static ds_tensor *b_gelu(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_gelu(c, in[0]); }
static ds_tensor *b_sigmoid(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_sigmoid(c, in[0]); }
static ds_tensor *b_swiglu(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_swiglu(c, in[0]); }
static ds_tensor *b_modulate(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_modulate(c, in[0], in[1], in[2]); }
static ds_tensor *b_permute(ds_ctx *c, ds_tensor **in, const void *u) { return ds_permute(c, in[0], u); }
static ds_tensor *b_concat(ds_ctx *c, ds_tensor **in, const void *u) { return ds_concat(c, *(const int *)u, 3, in); }
static ds_tensor *b_slice(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_slice(c, in[0], 1, 1, 3); }
static ds_tensor *b_nearest(ds_ctx *c, ds_tensor **in, const void *u) { return ds_resize_nearest(c, in[0], *(const int64_t *)u); }
static ds_tensor *b_linear_rs(ds_ctx *c, ds_tensor **in, const void *u) { return ds_resize_linear(c, in[0], *(const int64_t *)u); }
static ds_tensor *b_repeat(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_repeat0(c, in[0], 3); }
static ds_tensor *b_reshape_mul(ds_ctx *c, ds_tensor **in, const void *u) {
    (void)u; /* a view in the middle of a chain: gradients must flow through the shared buffer */
    ds_tensor *v = ds_reshape2(c, ds_silu(c, in[0]), 6, 4);
    return ds_mul(c, v, in[1]);
}
static ds_tensor *b_layernorm(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_layernorm(c, in[0], in[1], in[2], 1e-5f); }
static ds_tensor *b_layernorm_nb(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_layernorm(c, in[0], in[1], NULL, 1e-5f); }
static ds_tensor *b_l2(ds_ctx *c, ds_tensor **in, const void *u) { (void)u; return ds_l2norm(c, in[0]); }
typedef struct attn_args { int hq, hk; } attn_args;
static ds_tensor *b_attn(ds_ctx *c, ds_tensor **in, const void *u) {
    const attn_args *a = u;
    int64_t D = in[0]->shape[2] / a->hq;
    return ds_attention(c, in[0], in[1], in[2], a->hq, a->hk, 1.0f / sqrtf((float)D));
}
static float g_inv_freq[4];
static ds_tensor *b_rope(ds_ctx *c, ds_tensor **in, const void *u) {
    (void)u;
    ds_tensor *f = ds_wrap(c, g_inv_freq, 1, (int64_t[]){4}, false);
    return ds_rope(c, in[0], 2, 8, f, 3);
}
static ds_tensor *b_fourier(ds_ctx *c, ds_tensor **in, const void *u) { return ds_fourier(c, in[0], in[1], *(const int *)u); }
static ds_tensor *b_embedding(ds_ctx *c, ds_tensor **in, const void *u) {
    (void)u;
    static const int64_t idx[5] = {3, 0, 3, 5, 1};
    return ds_embedding(c, in[0], idx, 5);
}
static const float g_mask[2 * 5] = {1, 1, 0, 1, 0, 1, 1, 1, 1, 0};
static ds_tensor *b_mse(ds_ctx *c, ds_tensor **in, const void *u) { return ds_mse(c, in[0], in[1], u ? g_mask : NULL); }

#define S1(a) 1, {a}
int main(void) {
    ds_set_threads(2);
    for (int j = 0; j < 4; j++) g_inv_freq[j] = 1.0f / powf(10000.0f, 2.0f * j / 8.0f);

    gradcheck("linear", b_linear, NULL, &(spec){3, {3, 2, 1}, {{2, 3, 5}, {4, 5}, {4}}});
    gradcheck("linear_nobias", b_linear, "nb", &(spec){2, {2, 2}, {{3, 5}, {4, 5}}});
    gradcheck("conv_k1", b_conv, &(conv_args){1, 0, 0, 1, 1}, &(spec){3, {3, 3, 1}, {{2, 3, 7}, {4, 3, 1}, {4}}});
    gradcheck("conv_k5_same", b_conv, &(conv_args){1, 2, 2, 1, 1}, &(spec){3, {3, 3, 1}, {{2, 3, 9}, {4, 3, 5}, {4}}});
    gradcheck("conv_k5_s2_asym", b_conv, &(conv_args){2, 2, 1, 1, 1}, &(spec){3, {3, 3, 1}, {{2, 3, 10}, {3, 3, 5}, {3}}});
    gradcheck("conv_dil2", b_conv, &(conv_args){1, 2, 2, 2, 1}, &(spec){3, {3, 3, 1}, {{1, 2, 8}, {3, 2, 3}, {3}}});
    gradcheck("conv_groups2", b_conv, &(conv_args){1, 1, 1, 1, 2}, &(spec){3, {3, 3, 1}, {{2, 4, 6}, {6, 2, 3}, {6}}});
    gradcheck("conv_depthwise", b_conv, &(conv_args){1, 3, 3, 1, 3}, &(spec){3, {3, 3, 1}, {{2, 3, 9}, {3, 1, 7}, {3}}});
    /* long inputs: several column tiles, and the serial (B = 1) and parallel (B = 4) backward */
    gradcheck("conv_tiled_b1", b_conv, &(conv_args){2, 3, 2, 1, 1}, &(spec){3, {3, 3, 1}, {{1, 2, 300}, {3, 2, 5}, {3}}});
    gradcheck("conv_k3_b4", b_conv, &(conv_args){1, 1, 1, 1, 1}, &(spec){3, {3, 3, 1}, {{4, 3, 140}, {2, 3, 3}, {2}}});
    /* the direct stride-1 kernels: several position blocks and chunks, partial output blocks,
     * (i, k) pairs not a multiple of the block, asymmetric padding, dilation */
    gradcheck("conv_direct_b1_long", b_conv, &(conv_args){1, 3, 1, 1, 1}, &(spec){3, {3, 3, 1}, {{1, 5, 200}, {9, 5, 5}, {9}}});
    gradcheck("conv_direct_dil3", b_conv, &(conv_args){1, 2, 4, 3, 1}, &(spec){3, {3, 3, 1}, {{2, 3, 70}, {11, 3, 3}, {11}}});
    gradcheck("conv_k1_b3", b_conv, &(conv_args){1, 0, 0, 1, 1}, &(spec){3, {3, 3, 1}, {{3, 3, 7}, {4, 3, 1}, {4}}});
    gradcheck("convt_s2", b_convt, &(convt_args){2, 1, 1, 1}, &(spec){3, {3, 3, 1}, {{2, 3, 6}, {3, 2, 4}, {2}}});
    gradcheck("convt_s3_outpad", b_convt, &(convt_args){3, 2, 1, 1}, &(spec){3, {3, 3, 1}, {{2, 2, 5}, {2, 3, 6}, {3}}});
    gradcheck("convt_s4_adp_trim", b_convt, &(convt_args){4, 2, 2, 1}, &(spec){3, {3, 3, 1}, {{4, 3, 5}, {3, 2, 8}, {2}}});
    gradcheck("convt_groups2", b_convt, &(convt_args){2, 0, 0, 2}, &(spec){3, {3, 3, 1}, {{2, 4, 5}, {4, 3, 3}, {6}}});
    gradcheck("convt_depthwise", b_convt_nb, &(convt_args){2, 7, 7, 3}, &(spec){2, {3, 3}, {{2, 3, 9}, {3, 1, 8}}});
    gradcheck("convt_tiled_b1", b_convt, &(convt_args){2, 1, 0, 1}, &(spec){3, {3, 3, 1}, {{1, 2, 150}, {2, 2, 3}, {2}}});
    gradcheck("group_norm_g1", b_gn, &(gn_args){1, DS_ACT_NONE, false, true},
              &(spec){3, {3, 1, 1}, {{2, 3, 5}, {3}, {3}}});
    gradcheck("group_norm_g2_noaffine", b_gn, &(gn_args){2, DS_ACT_NONE, false, false}, &(spec){1, {3}, {{2, 4, 5}}});
    gradcheck("group_norm_gelu", b_gn, &(gn_args){1, DS_ACT_GELU, false, true},
              &(spec){3, {3, 1, 1}, {{2, 3, 6}, {3}, {3}}});
    gradcheck("group_norm_mod_silu", b_gn, &(gn_args){2, DS_ACT_SILU, true, true},
              &(spec){5, {3, 1, 1, 3, 3}, {{3, 4, 5}, {4}, {4}, {3, 4, 1}, {3, 4, 1}}});
    gradcheck("group_norm_per_channel", b_gn, &(gn_args){4, DS_ACT_NONE, true, true},
              &(spec){5, {3, 1, 1, 2, 2}, {{2, 4, 6}, {4}, {4}, {2, 4}, {2, 4}}});
    gradcheck("pad_reflect", b_pad_reflect, (int[]){3, 2}, &(spec){1, {3}, {{2, 3, 6}}});
    gradcheck("add", b_add, NULL, &(spec){2, {2, 2}, {{3, 4}, {3, 4}}});
    gradcheck("sub", b_sub, NULL, &(spec){2, {2, 2}, {{3, 4}, {3, 4}}});
    gradcheck("mul", b_mul, NULL, &(spec){2, {2, 2}, {{3, 4}, {3, 4}}});
    gradcheck("add_bc", b_add_bc, NULL, &(spec){2, {3, 3}, {{2, 3, 4}, {2, 1, 4}}});
    gradcheck("mul_bc", b_mul_bc, NULL, &(spec){2, {3, 3}, {{2, 1, 4}, {2, 3, 1}}});
    gradcheck("affine", b_affine, NULL, &(spec){1, {2}, {{3, 4}}});
    gradcheck("silu", b_silu, NULL, &(spec){1, {2}, {{3, 4}}, .lo = {-3}, .hi = {3}});
    gradcheck("gelu", b_gelu, NULL, &(spec){1, {2}, {{3, 4}}, .lo = {-3}, .hi = {3}});
    gradcheck("sigmoid", b_sigmoid, NULL, &(spec){1, {2}, {{3, 4}}, .lo = {-3}, .hi = {3}});
    gradcheck("swiglu", b_swiglu, NULL, &(spec){1, {3}, {{2, 3, 8}}, .lo = {-2}, .hi = {2}});
    gradcheck("modulate", b_modulate, NULL, &(spec){3, {3, 3, 3}, {{2, 3, 4}, {2, 1, 4}, {2, 1, 4}}});
    gradcheck("permute", b_permute, (int[]){2, 0, 3, 1}, &(spec){1, {4}, {{2, 3, 4, 5}}});
    gradcheck("transpose12", b_permute, (int[]){0, 2, 1}, &(spec){1, {3}, {{2, 3, 4}}});
    gradcheck("concat_seq", b_concat, (int[]){1}, &(spec){3, {3, 3, 3}, {{2, 1, 4}, {2, 3, 4}, {2, 2, 4}}});
    gradcheck("concat_last", b_concat, (int[]){2}, &(spec){3, {3, 3, 3}, {{2, 3, 1}, {2, 3, 4}, {2, 3, 2}}});
    gradcheck("slice", b_slice, NULL, &(spec){1, {3}, {{2, 5, 3}}});
    gradcheck("resize_nearest_up", b_nearest, (int64_t[]){11}, &(spec){1, {3}, {{2, 3, 4}}});
    gradcheck("resize_nearest_down", b_nearest, (int64_t[]){3}, &(spec){1, {3}, {{2, 3, 7}}});
    gradcheck("resize_linear_up", b_linear_rs, (int64_t[]){9}, &(spec){1, {3}, {{2, 3, 4}}});
    gradcheck("resize_linear_down", b_linear_rs, (int64_t[]){4}, &(spec){1, {3}, {{2, 2, 9}}});
    gradcheck("repeat0", b_repeat, NULL, &(spec){1, {2}, {{2, 3}}});
    gradcheck("reshape_view", b_reshape_mul, NULL, &(spec){2, {3, 2}, {{2, 3, 4}, {6, 4}}});
    gradcheck("layernorm", b_layernorm, NULL, &(spec){3, {3, 1, 1}, {{2, 3, 8}, {8}, {8}}});
    gradcheck("layernorm_nobias", b_layernorm_nb, NULL, &(spec){2, {2, 1}, {{4, 6}, {6}}});
    gradcheck("l2norm", b_l2, NULL, &(spec){1, {3}, {{2, 3, 5}}});
    gradcheck("attention", b_attn, &(attn_args){2, 2}, &(spec){3, {3, 3, 3}, {{2, 5, 8}, {2, 5, 8}, {2, 5, 8}}});
    gradcheck("attention_cross_gqa", b_attn, &(attn_args){4, 2},
              &(spec){3, {3, 3, 3}, {{2, 5, 16}, {2, 3, 8}, {2, 3, 8}}});
    gradcheck("rope_partial", b_rope, NULL, &(spec){1, {3}, {{2, 5, 24}}});
    gradcheck("fourier_cos_sin", b_fourier, (int[]){DS_FOURIER_COS_SIN},
              &(spec){2, {1, 2}, {{3}, {4, 1}}, .lo = {0, -1}, .hi = {1, 1}, .no_grad = {true}});
    gradcheck("fourier_x_sin_cos", b_fourier, (int[]){DS_FOURIER_X_SIN_COS},
              &(spec){2, {1, 1}, {{3}, {4}}, .lo = {0, -1}, .hi = {1, 1}, .no_grad = {true}});
    gradcheck("embedding", b_embedding, NULL, &(spec){1, {2}, {{6, 3}}});
    gradcheck("mse", b_mse, NULL, &(spec){2, {3, 3}, {{2, 3, 5}, {2, 3, 5}}});
    gradcheck("mse_masked", b_mse, "m", &(spec){2, {3, 3}, {{2, 3, 5}, {2, 3, 5}}});
    return tu_finish("test_ops_grad");
}
