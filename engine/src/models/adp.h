/* ADP U-Net internals (SAT models/adp.py, sat-spec §2.3), shared by adp_blocks.c (the
 * building blocks) and adp.c (UNet1d, UNetCFG1d and the three wrappers).
 * Every block is a struct of parameter tensors plus a create (registers SAT's names under
 * a path) and a forward that reads like SAT's forward. */
#ifndef DS_ADP_H
#define DS_ADP_H

#include "models/model.h"

/* adp.Conv1d: a Conv1d that pads itself with zeros, pad_total = k − stride split
 * (left = pad_total − pad_total/2, right = pad_total/2 + extra), where extra rounds the
 * length up to a multiple of the stride: out length = ⌈T / stride⌉. */
typedef struct adp_conv {
    ds_tensor *w, *b; /* [out, in, k], [out] */
    int k, stride;
} adp_conv;

/* adp.ConvTranspose1d: plain transposed conv, then trims pad_total = k − stride
 * (left ⌈pad_total/2⌉, right ⌊pad_total/2⌋): out length = T·stride when k = 2·stride. */
typedef struct adp_convt {
    ds_tensor *w, *b; /* [in, out, k], [out] */
    int k, stride;
} adp_convt;

/* ResnetBlock1d(in, out, groups, mapping):
 *   h = block1(x) = project(SiLU(GN(x)));  (scale, shift) = to_scale_shift(mapping)
 *   h = block2(h) = project(SiLU(GN(h)·(scale + 1) + shift));  out = h + to_out(x) */
typedef struct adp_resnet {
    int cin, cout, groups;
    ds_tensor *gn1_w, *gn1_b, *gn2_w, *gn2_b;
    adp_conv proj1, proj2;
    ds_tensor *ss_w, *ss_b; /* to_scale_shift.to_scale_shift.1 [2·out, Fm]; NULL without a mapping */
    adp_conv to_out;        /* 1×1 when in != out (w NULL: identity) */
} adp_resnet;

/* Attention(features, head_features, num_heads, context_features): LayerNorm on x (norm)
 * and on the context (norm_context, also for self-attention), to_q, to_kv (k | v), masks
 * multiply K and V, softmax(q·kᵀ/√d)·v, to_out. */
typedef struct adp_attn {
    ds_tensor *n_w, *n_b, *nc_w, *nc_b; /* norm, norm_context */
    ds_tensor *to_q, *to_kv;            /* [h·d, C], [2·h·d, Cctx] */
    ds_tensor *out_w, *out_b;           /* attention.to_out [C, h·d] */
} adp_attn;

/* TransformerBlock: x = attn(x) + x; [x = cross(x, ctx, mask) + x]; x = FF(x) + x. */
typedef struct adp_tblock {
    adp_attn attn, cross;
    bool has_cross;
    ds_tensor *ff0_w, *ff0_b, *ff2_w, *ff2_b; /* feed_forward.0 (C → C·mult), .2 */
} adp_tblock;

/* Transformer1d: GroupNorm(32, C, eps 1e-6) → 1×1 conv → [B, T, C] → blocks → [B, C, T] →
 * 1×1 conv. No residual around it. */
typedef struct adp_transformer {
    int C, heads, head_dim, nblocks;
    ds_tensor *gn_w, *gn_b, *in_w, *in_b, *out_w, *out_b;
    adp_tblock *blocks;
} adp_transformer;

/* Geometry of a Transformer1d, resolved from the attention_* keys (adp.py DownsampleBlock1d). */
typedef struct adp_attn_geom {
    int heads, head_dim, mult, ctx_features; /* ctx_features 0: no cross-attention */
} adp_attn_geom;

/* Registration: names are "<path>.<leaf>" under the model's prefix (PyTorch's default
 * init rules apply: DS_INIT_AUTO). mapping: the mapping width Fm, 0 without a mapping. */
void adp_conv_create(ds_model *m, adp_conv *cv, const char *path, int cin, int cout, int k, int stride, bool bias);
void adp_convt_create(ds_model *m, adp_convt *cv, const char *path, int cin, int cout, int k, int stride);
void adp_resnet_create(ds_model *m, adp_resnet *r, const char *path, int cin, int cout, int groups, int mapping);
ds_status adp_transformer_create(ds_model *m, adp_transformer *t, const char *path, int C, int nblocks,
                                 const adp_attn_geom *g, ds_err *err);
void adp_transformer_free(adp_transformer *t);

/* Forwards. x [B, C, T]; ms = SiLU(mapping) [B, Fm] or NULL; ctx [B, S, Cctx] and mask
 * [B, S] may be NULL. */
ds_tensor *adp_conv_fwd(ds_ctx *c, const adp_conv *cv, ds_tensor *x);
ds_tensor *adp_convt_fwd(ds_ctx *c, const adp_convt *cv, ds_tensor *x);
ds_tensor *adp_resnet_fwd(ds_ctx *c, const adp_resnet *r, ds_tensor *x, ds_tensor *ms);
ds_tensor *adp_transformer_fwd(ds_ctx *c, const adp_transformer *t, ds_tensor *x, ds_tensor *ctx, ds_tensor *mask);

#endif
