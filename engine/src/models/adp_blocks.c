/* ADP building blocks (SAT models/adp.py, sat-spec §2.3.2): the self-padding Conv1d and
 * trimming ConvTranspose1d, ResnetBlock1d (with ConvBlock1d and MappingToScaleShift), and
 * Transformer1d (TransformerBlock, Attention, FeedForward). Shapes: x [B, C, T] for the
 * convolutional blocks, [B, T, C] inside the transformer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/assert.h"
#include "models/adp.h"
#include "ops/ops.h"

/* "<path>.<leaf>" into n (parameter names are at most 160 bytes with the prefix). */
static const char *leaf_name(char *n, size_t size, const char *path, const char *leaf) {
    int w = snprintf(n, size, "%s.%s", path, leaf);
    DS_ASSERTF(w > 0 && (size_t)w < size, "adp: parameter name too long: %s.%s", path, leaf);
    return n;
}
static ds_tensor *add1(ds_model *m, const char *path, const char *leaf, int64_t d0) {
    char n[256];
    return ds_param_add1(&m->params, DS_PG_BACKBONE, leaf_name(n, sizeof n, path, leaf), d0);
}
static ds_tensor *add2(ds_model *m, const char *path, const char *leaf, int64_t d0, int64_t d1) {
    char n[256];
    return ds_param_add2(&m->params, DS_PG_BACKBONE, leaf_name(n, sizeof n, path, leaf), d0, d1);
}
static ds_tensor *add3(ds_model *m, const char *path, const char *leaf, int64_t d0, int64_t d1, int64_t d2) {
    char n[256];
    return ds_param_add3(&m->params, DS_PG_BACKBONE, leaf_name(n, sizeof n, path, leaf), d0, d1, d2);
}

/* ---------------- convolutions ---------------- */

void adp_conv_create(ds_model *m, adp_conv *cv, const char *path, int cin, int cout, int k, int stride, bool bias) {
    cv->w = add3(m, path, "weight", cout, cin, k);
    cv->b = bias ? add1(m, path, "bias", cout) : NULL;
    cv->k = k;
    cv->stride = stride;
}

void adp_convt_create(ds_model *m, adp_convt *cv, const char *path, int cin, int cout, int k, int stride) {
    cv->w = add3(m, path, "weight", cin, cout, k);
    cv->b = add1(m, path, "bias", cout);
    cv->k = k;
    cv->stride = stride;
}

ds_tensor *adp_conv_fwd(ds_ctx *c, const adp_conv *cv, ds_tensor *x) {
    /* audiocraft get_extra_padding_for_conv1d with k − pad_total = stride reduces to
     * extra = ⌈T/s⌉·s − T. */
    int64_t T = x->shape[2], s = cv->stride;
    int pad_total = cv->k - cv->stride;
    int extra = (int)((s - T % s) % s);
    int right = pad_total / 2, left = pad_total - right;
    return ds_conv1d(c, x, cv->w, cv->b, cv->stride, left, right + extra, 1, 1);
}

ds_tensor *adp_convt_fwd(ds_ctx *c, const adp_convt *cv, ds_tensor *x) {
    int pad_total = cv->k - cv->stride;
    int right = pad_total / 2, left = pad_total - right;
    return ds_conv_transpose1d(c, x, cv->w, cv->b, cv->stride, left, right, 1);
}

/* ---------------- ResnetBlock1d ---------------- */

void adp_resnet_create(ds_model *m, adp_resnet *r, const char *path, int cin, int cout, int groups, int mapping) {
    char p[256];
    r->cin = cin;
    r->cout = cout;
    r->groups = groups;
    snprintf(p, sizeof p, "%s.block1", path);
    r->gn1_w = add1(m, p, "groupnorm.weight", cin);
    r->gn1_b = add1(m, p, "groupnorm.bias", cin);
    snprintf(p, sizeof p, "%s.block1.project", path);
    adp_conv_create(m, &r->proj1, p, cin, cout, 3, 1, true);
    if (mapping > 0) {
        snprintf(p, sizeof p, "%s.to_scale_shift.to_scale_shift.1", path);
        r->ss_w = add2(m, p, "weight", 2 * (int64_t)cout, mapping);
        r->ss_b = add1(m, p, "bias", 2 * (int64_t)cout);
    }
    snprintf(p, sizeof p, "%s.block2", path);
    r->gn2_w = add1(m, p, "groupnorm.weight", cout);
    r->gn2_b = add1(m, p, "groupnorm.bias", cout);
    snprintf(p, sizeof p, "%s.block2.project", path);
    adp_conv_create(m, &r->proj2, p, cout, cout, 3, 1, true);
    if (cin != cout) {
        snprintf(p, sizeof p, "%s.to_out", path);
        adp_conv_create(m, &r->to_out, p, cin, cout, 1, 1, true);
    }
}

ds_tensor *adp_resnet_fwd(ds_ctx *c, const adp_resnet *r, ds_tensor *x, ds_tensor *ms) {
    DS_ASSERTF(x->shape[1] == r->cin, "adp ResnetBlock1d: input has %lld channels, expected %d", (long long)x->shape[1],
               r->cin);
    DS_ASSERTF(!r->ss_w || ms, "adp ResnetBlock1d: the block has to_scale_shift but no mapping was given");
    /* block1: GroupNorm → SiLU → Conv1d(k 3) */
    ds_tensor *h = ds_group_norm_act(c, x, r->groups, r->gn1_w, r->gn1_b, 1e-5f, NULL, NULL, DS_ACT_SILU);
    h = adp_conv_fwd(c, &r->proj1, h);
    /* MappingToScaleShift: Linear(SiLU(mapping)) [B, 2·out] → scale (first half), shift */
    ds_tensor *scale = NULL, *shift = NULL;
    if (r->ss_w) {
        ds_tensor *ss = ds_linear(c, ms, r->ss_w, r->ss_b);
        scale = ds_slice(c, ss, 1, 0, r->cout);
        shift = ds_slice(c, ss, 1, r->cout, r->cout);
    }
    /* block2: GroupNorm → x·(scale + 1) + shift → SiLU → Conv1d(k 3) */
    h = ds_group_norm_act(c, h, r->groups, r->gn2_w, r->gn2_b, 1e-5f, scale, shift, DS_ACT_SILU);
    h = adp_conv_fwd(c, &r->proj2, h);
    return ds_add(c, h, r->to_out.w ? adp_conv_fwd(c, &r->to_out, x) : x);
}

/* ---------------- Transformer1d ---------------- */

static void attn_create(ds_model *m, adp_attn *a, const char *path, int C, int ctx, int mid) {
    a->n_w = add1(m, path, "norm.weight", C);
    a->n_b = add1(m, path, "norm.bias", C);
    a->nc_w = add1(m, path, "norm_context.weight", ctx);
    a->nc_b = add1(m, path, "norm_context.bias", ctx);
    a->to_q = add2(m, path, "to_q.weight", mid, C);
    a->to_kv = add2(m, path, "to_kv.weight", 2 * (int64_t)mid, ctx);
    a->out_w = add2(m, path, "attention.to_out.weight", C, mid);
    a->out_b = add1(m, path, "attention.to_out.bias", C);
}

ds_status adp_transformer_create(ds_model *m, adp_transformer *t, const char *path, int C, int nblocks,
                                 const adp_attn_geom *g, ds_err *err) {
    char p[256];
    t->C = C;
    t->heads = g->heads;
    t->head_dim = g->head_dim;
    t->nblocks = nblocks;
    snprintf(p, sizeof p, "%s.to_in", path);
    t->gn_w = add1(m, p, "0.weight", C);
    t->gn_b = add1(m, p, "0.bias", C);
    t->in_w = add3(m, p, "1.weight", C, C, 1);
    t->in_b = add1(m, p, "1.bias", C);
    t->blocks = calloc((size_t)nblocks, sizeof *t->blocks);
    if (!t->blocks) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    int mid = g->heads * g->head_dim;
    for (int j = 0; j < nblocks; j++) {
        adp_tblock *b = &t->blocks[j];
        snprintf(p, sizeof p, "%s.blocks.%d.attention", path, j);
        attn_create(m, &b->attn, p, C, C, mid);
        b->has_cross = g->ctx_features > 0;
        if (b->has_cross) {
            snprintf(p, sizeof p, "%s.blocks.%d.cross_attention", path, j);
            attn_create(m, &b->cross, p, C, g->ctx_features, mid);
        }
        snprintf(p, sizeof p, "%s.blocks.%d.feed_forward", path, j);
        b->ff0_w = add2(m, p, "0.weight", (int64_t)C * g->mult, C);
        b->ff0_b = add1(m, p, "0.bias", (int64_t)C * g->mult);
        b->ff2_w = add2(m, p, "2.weight", C, (int64_t)C * g->mult);
        b->ff2_b = add1(m, p, "2.bias", C);
    }
    snprintf(p, sizeof p, "%s.to_out", path);
    t->out_w = add3(m, p, "1.weight", C, C, 1);
    t->out_b = add1(m, p, "1.bias", C);
    return DS_OK;
}

void adp_transformer_free(adp_transformer *t) {
    free(t->blocks);
    t->blocks = NULL;
}

/* Attention.forward: x [B, N, C]; ctx [B, S, Cctx] (NULL: self-attention on x, K/V still
 * through norm_context); mask [B, S] multiplies K and V, so a masked token keeps score 0
 * in the softmax (it dilutes attention rather than being excluded; sat-spec pitfall 21). */
static ds_tensor *attn_fwd(ds_ctx *c, const adp_transformer *t, const adp_attn *a, ds_tensor *x, ds_tensor *ctx,
                           ds_tensor *mask) {
    int64_t hd = (int64_t)t->heads * t->head_dim;
    ds_tensor *src = ctx ? ctx : x;
    ds_tensor *xn = ds_layernorm(c, x, a->n_w, a->n_b, 1e-5f);
    ds_tensor *cn = ds_layernorm(c, src, a->nc_w, a->nc_b, 1e-5f);
    ds_tensor *q = ds_linear(c, xn, a->to_q, NULL);
    ds_tensor *kv = ds_linear(c, cn, a->to_kv, NULL);
    ds_tensor *k = ds_slice(c, kv, 2, 0, hd), *v = ds_slice(c, kv, 2, hd, hd);
    if (mask) {
        int64_t B = src->shape[0], S = src->shape[1];
        DS_ASSERTF(ds_numel(mask) == B * S, "adp attention: mask has %lld elements for %lld x %lld context tokens",
                   (long long)ds_numel(mask), (long long)B, (long long)S);
        ds_tensor *mk = ds_reshape3(c, mask, B, S, 1);
        k = ds_mul_bc(c, k, mk);
        v = ds_mul_bc(c, v, mk);
    }
    ds_tensor *o = ds_attention(c, q, k, v, t->heads, t->heads, 1.0f / sqrtf((float)t->head_dim));
    return ds_linear(c, o, a->out_w, a->out_b);
}

ds_tensor *adp_transformer_fwd(ds_ctx *c, const adp_transformer *t, ds_tensor *x, ds_tensor *ctx, ds_tensor *mask) {
    int64_t C = t->C;
    DS_ASSERTF(x->shape[1] == C, "adp Transformer1d: input has %lld channels, expected %lld", (long long)x->shape[1],
               (long long)C);
    /* to_in: GroupNorm(32, eps 1e-6) → 1×1 conv → "b c t -> b t c". The 1×1 conv runs as a
     * linear layer after the transpose (the same sums, one GEMM over all B·T rows). */
    ds_tensor *h = ds_transpose12(c, ds_group_norm(c, x, 32, t->gn_w, t->gn_b, 1e-6f)); /* [B, T, C] */
    h = ds_linear(c, h, ds_reshape2(c, t->in_w, C, C), t->in_b);
    for (int j = 0; j < t->nblocks; j++) {
        const adp_tblock *b = &t->blocks[j];
        h = ds_add(c, attn_fwd(c, t, &b->attn, h, NULL, NULL), h);
        if (b->has_cross) {
            DS_ASSERTF(ctx != NULL, "adp Transformer1d: cross-attention layers need a context (cross_attn_cond)");
            h = ds_add(c, attn_fwd(c, t, &b->cross, h, ctx, mask), h);
        }
        /* FeedForward: Linear → GELU → Linear, no pre-norm */
        ds_tensor *f = ds_gelu(c, ds_linear(c, h, b->ff0_w, b->ff0_b));
        h = ds_add(c, ds_linear(c, f, b->ff2_w, b->ff2_b), h);
    }
    /* to_out: "b t c -> b c t" → 1×1 conv (as a linear layer before the transpose) */
    h = ds_linear(c, h, ds_reshape2(c, t->out_w, C, C), t->out_b);
    return ds_transpose12(c, h);
}
