/* SAT's ADP U-Nets (sat-spec §2.3; SAT models/adp.py and the wrappers of models/diffusion.py):
 *   adp_cfg_1d    UNetCFG1d under UNetCFG1DWrapper: cross-attention embedding (+ mask), global
 *                 features, input concat (not resized), CFG with the learned fixed_embedding
 *   adp_1d        UNet1d under UNet1DCondWrapper: global features, input concat resized to T
 *                 (nearest); no cross-attention, no CFG
 *   adp_uncond_1d UNet1d under UNet1DUncondWrapper: x and t only
 * All three wrappers halve every parameter after construction (bb.init_scale = 0.5).
 * Names are relative to "model.model." (state_dict of the wrapper's `model`).
 *
 * UNet1d.forward (L = len(factors), ch_i = channels·multipliers[i]):
 *   x = cat(x, context channels of level 0);  mapping = to_mapping(to_time(t) + to_features(f))
 *   x = to_in(x, mapping) (Patcher);  skips = [x]
 *   for i < L: x = downsample_i(x) [+ cat context channels of level i+1]; resnet blocks and
 *              the transformer, each output pushed as a skip
 *   x = bottleneck(x): resnet → transformer (attentions[-1]) → resnet
 *   for i = L−1..0: per skip (popped): x = resnet(cat(x, skip·2^−½)); transformer; upsample
 *   x = x + skips[0] (unscaled);  x = to_out(x, mapping) (Unpatcher) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "models/adp.h"
#include "ops/ops.h"

typedef struct adp_down { /* DownsampleBlock1d (use_pre_downsample, use_skip) */
    adp_conv downsample;
    int nblocks;
    adp_resnet *blocks;
    bool has_tr;
    adp_transformer tr;
} adp_down;

typedef struct adp_up { /* UpsampleBlock1d (post-upsample, use_skip) */
    int nblocks, factor;
    adp_resnet *blocks;
    bool has_tr, nearest;
    adp_transformer tr;
    adp_conv conv;   /* factor 1, or nearest: Conv1d(k 3) */
    adp_convt convt; /* otherwise: ConvTranspose1d(k 2f, stride f) */
} adp_up;

typedef struct adp {
    ds_adp_config c;
    ds_backbone_type kind;
    int L, Cb, P, Fm, out_ch;
    int ctx_level; /* the level with input-concat channels, or −1 */
    float skip_scale;
    ds_tensor *map0_w, *map0_b, *map2_w, *map2_b; /* to_mapping.{0,2} */
    ds_tensor *time_w, *time_lw, *time_lb;        /* to_time.0.0.weights, to_time.0.1.* */
    ds_tensor *feat_w, *feat_b;                   /* to_features.0.* */
    adp_resnet to_in, to_out;                     /* Patcher / Unpatcher blocks */
    adp_down down[DS_MAX_LEVELS];
    adp_resnet pre, post; /* bottleneck */
    bool has_mid;
    adp_transformer mid;
    adp_up up[DS_MAX_LEVELS]; /* up[k] is level L−1−k (SAT's upsamples.k) */
    /* UNetCFG1d */
    ds_tensor *fixed;                /* fixed_embedding.embedding.weight [max_length (+1), F] */
    ds_tensor *xt_w, *xt_lw, *xt_lb; /* to_time_embedding.0.0.weights, .0.1.* */
} adp;

/* ---------------- construction ---------------- */

static void adp_destroy(void *impl) {
    adp *a = impl;
    if (!a) return;
    for (int i = 0; i < a->L; i++) {
        free(a->down[i].blocks);
        adp_transformer_free(&a->down[i].tr);
        free(a->up[i].blocks);
        adp_transformer_free(&a->up[i].tr);
    }
    adp_transformer_free(&a->mid);
    free(a);
}

static ds_tensor *P1(ds_model *m, const char *name, int64_t d0) { return ds_param_add1(&m->params, DS_PG_BACKBONE, name, d0); }
static ds_tensor *P2(ds_model *m, const char *name, int64_t d0, int64_t d1) {
    return ds_param_add2(&m->params, DS_PG_BACKBONE, name, d0, d1);
}

/* TimePositionalEmbedding(dim, out) + GELU: "<path>.0.0.weights" [dim/2] (randn), "<path>.0.1.*". */
static void time_embedding_create(ds_model *m, const char *path, int dim, int out, ds_tensor **w, ds_tensor **lw,
                                  ds_tensor **lb) {
    char n[128];
    *w = P1(m, (snprintf(n, sizeof n, "%s.0.0.weights", path), n), dim / 2);
    ds_param_init_as(*w, DS_INIT_NORMAL, 1.0f);
    *lw = P2(m, (snprintf(n, sizeof n, "%s.0.1.weight", path), n), out, dim + 1);
    *lb = P1(m, (snprintf(n, sizeof n, "%s.0.1.bias", path), n), out);
}

#define BAD(code, ...) return ds_err_set(err, code, __VA_ARGS__)

/* Transformer geometry at `ch` channels from the attention_* keys (DownsampleBlock1d rules). */
static ds_status attn_geom(const adp *a, const char *K, int ch, adp_attn_geom *g, ds_err *err) {
    const ds_adp_config *cc = &a->c;
    g->heads = cc->attention_heads;
    g->head_dim = cc->attention_features;
    g->mult = cc->attention_multiplier;
    g->ctx_features = cc->context_embedding_features;
    if ((g->heads <= 0 && g->head_dim <= 0) || g->mult <= 0)
        BAD(DS_ERR_INVALID, "%s: attention layers need attention_heads (or attention_features) and attention_multiplier", K);
    if (g->head_dim <= 0) g->head_dim = ch / g->heads;
    if (g->heads <= 0) g->heads = ch / g->head_dim;
    if (g->heads <= 0 || g->head_dim <= 0)
        BAD(DS_ERR_INVALID, "%s: %d channels give no attention head (attention_heads %d, attention_features %d)", K, ch,
            cc->attention_heads, cc->attention_features);
    if (ch % 32)
        BAD(DS_ERR_INVALID,
            "%s.attentions: a transformer at %d channels needs a multiple of 32 (Transformer1d's GroupNorm has 32 groups)",
            K, ch);
    return DS_OK;
}

static ds_status check_groups(const char *K, int ch, int groups, const char *where, ds_err *err) {
    if (ch % groups)
        BAD(DS_ERR_INVALID, "%s.resnet_groups: %d does not divide the %d channels of %s", K, groups, ch, where);
    return DS_OK;
}

static ds_tensor *adp_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                              const ds_call_opts *o);

ds_status ds_adp_create(ds_model *m, ds_err *err) {
    const ds_adp_config *cc = &m->cfg.adp;
    ds_backbone_type kind = m->cfg.backbone;
    const char *K = m->cfg.model_type == DS_MODEL_DIFFUSION_UNCOND ? "model.config" : "model.diffusion.config";
    if (cc->use_stft) BAD(DS_ERR_UNSUPPORTED, "%s.use_stft: the STFT U-Net cannot run in diffstudio yet", K);
    if (cc->use_stft_context) BAD(DS_ERR_UNSUPPORTED, "%s.use_stft_context: cannot run in diffstudio yet", K);
    int L = cc->n_multipliers - 1;
    if (cc->in_channels <= 0) BAD(DS_ERR_INVALID, "%s.in_channels: required, got %d", K, cc->in_channels);
    if (cc->channels <= 0) BAD(DS_ERR_INVALID, "%s.channels: required, got %d", K, cc->channels);
    if (L < 0 || L >= DS_MAX_LEVELS) BAD(DS_ERR_INVALID, "%s.multipliers: %d entries", K, cc->n_multipliers);
    if (cc->n_factors != L || cc->n_num_blocks != L || cc->n_attentions < L || cc->n_attentions < 1)
        BAD(DS_ERR_INVALID,
            "%s: factors (%d) and num_blocks (%d) need len(multipliers) - 1 = %d entries, attentions (%d) at least that "
            "many and one", K, cc->n_factors, cc->n_num_blocks, L, cc->n_attentions);
    for (int i = 0; i <= L; i++)
        if (cc->multipliers[i] <= 0) BAD(DS_ERR_INVALID, "%s.multipliers[%d]: %d", K, i, cc->multipliers[i]);
    for (int i = 0; i < L; i++) {
        if (cc->factors[i] <= 0) BAD(DS_ERR_INVALID, "%s.factors[%d]: %d", K, i, cc->factors[i]);
        if (cc->num_blocks[i] < 0) BAD(DS_ERR_INVALID, "%s.num_blocks[%d]: %d", K, i, cc->num_blocks[i]);
    }
    int km = cc->kernel_multiplier_downsample;
    if (km < 2 || km % 2)
        BAD(DS_ERR_INVALID, "%s.kernel_multiplier_downsample: %d (must be even and at least 2)", K, km);
    int P = cc->patch_size;
    if (P < 1 || (cc->channels * cc->multipliers[0]) % P)
        BAD(DS_ERR_INVALID, "%s.patch_size: %d must divide channels * multipliers[0] = %d", K, P,
            cc->channels * cc->multipliers[0]);
    if (cc->resnet_groups < 1) BAD(DS_ERR_INVALID, "%s.resnet_groups: %d", K, cc->resnet_groups);
    if (cc->use_context_time && cc->channels % 2)
        BAD(DS_ERR_INVALID, "%s.channels: %d must be even for the learned time embedding", K, cc->channels);
    if (cc->n_context_channels > L + 1)
        BAD(DS_ERR_INVALID, "%s.context_channels: %d entries for %d levels", K, cc->n_context_channels, L + 1);
    int ctx_level = -1;
    for (int i = 0; i < cc->n_context_channels; i++) {
        if (cc->context_channels[i] < 0) BAD(DS_ERR_INVALID, "%s.context_channels[%d]: %d", K, i, cc->context_channels[i]);
        if (cc->context_channels[i] == 0) continue;
        if (ctx_level >= 0)
            BAD(DS_ERR_UNSUPPORTED,
                "%s.context_channels: levels %d and %d both take input channels, but SAT's wrappers pass a single "
                "input-concat tensor", K, ctx_level, i);
        ctx_level = i;
    }
    if (kind == DS_BB_ADP_UNCOND_1D && (cc->context_features > 0 || ctx_level >= 0 || cc->context_embedding_features > 0))
        BAD(DS_ERR_UNSUPPORTED,
            "%s: adp_uncond_1d has no conditioning inputs: UNet1DUncondWrapper passes x and t only, so "
            "context_features, context_channels and context_embedding_features cannot be used", K);
    if (kind == DS_BB_ADP_1D && cc->context_embedding_features > 0)
        BAD(DS_ERR_UNSUPPORTED,
            "%s.context_embedding_features: adp_1d (UNet1DCondWrapper) never passes a cross-attention context; "
            "use adp_cfg_1d for cross-attention", K);
    if (kind == DS_BB_ADP_CFG_1D && (cc->context_embedding_features <= 0 || cc->context_embedding_max_length <= 0))
        BAD(DS_ERR_INVALID, "%s: adp_cfg_1d requires context_embedding_features and context_embedding_max_length", K);
    if (cc->use_xattn_time && kind != DS_BB_ADP_CFG_1D)
        BAD(DS_ERR_INVALID, "%s.use_xattn_time: only UNetCFG1d (adp_cfg_1d) has it", K);

    adp *a = calloc(1, sizeof *a);
    if (!a) BAD(DS_ERR_NOMEM, "out of memory");
    m->bb.impl = a;
    m->bb.forward = adp_forward;
    m->bb.destroy = adp_destroy;
    m->bb.init_scale = 0.5f; /* every wrapper: `for param in self.model.parameters(): param *= 0.5` */
    a->c = *cc;
    a->kind = kind;
    a->L = L;
    a->Cb = cc->channels;
    a->P = P;
    a->ctx_level = ctx_level;
    a->out_ch = cc->out_channels > 0 ? cc->out_channels : cc->in_channels;
    a->skip_scale = cc->use_skip_scale ? (float)M_SQRT1_2 : 1.0f;
    bool mapping = cc->use_context_time || cc->context_features > 0;
    a->Fm = mapping ? cc->channels * cc->context_features_multiplier : 0;
    if (mapping && a->Fm <= 0)
        BAD(DS_ERR_INVALID, "%s.context_features_multiplier: %d", K, cc->context_features_multiplier);
    int G = cc->resnet_groups, Fm = a->Fm;
#define CTX(i) ((i) < cc->n_context_channels ? cc->context_channels[i] : 0)
#define CH(i) (cc->channels * cc->multipliers[i])

    /* SAT's module order: to_mapping, to_time, to_features, to_in, downsamples, bottleneck,
     * upsamples, to_out (then UNetCFG1d's to_time_embedding and fixed_embedding). */
    if (mapping) {
        a->map0_w = P2(m, "to_mapping.0.weight", Fm, Fm);
        a->map0_b = P1(m, "to_mapping.0.bias", Fm);
        a->map2_w = P2(m, "to_mapping.2.weight", Fm, Fm);
        a->map2_b = P1(m, "to_mapping.2.bias", Fm);
    }
    if (cc->use_context_time) time_embedding_create(m, "to_time", a->Cb, Fm, &a->time_w, &a->time_lw, &a->time_lb);
    if (cc->context_features > 0) {
        a->feat_w = P2(m, "to_features.0.weight", Fm, cc->context_features);
        a->feat_b = P1(m, "to_features.0.bias", Fm);
    }
    adp_resnet_create(m, &a->to_in, "to_in.block", cc->in_channels + CTX(0), CH(0) / P, 1, Fm);
    char path[128], where[160];
    adp_attn_geom g;
    for (int i = 0; i < L; i++) {
        adp_down *d = &a->down[i];
        int ch = CH(i + 1);
        snprintf(path, sizeof path, "downsamples.%d.downsample", i);
        adp_conv_create(m, &d->downsample, path, CH(i), ch, cc->factors[i] * km + 1, cc->factors[i], true);
        d->nblocks = cc->num_blocks[i];
        d->blocks = calloc((size_t)(d->nblocks ? d->nblocks : 1), sizeof *d->blocks);
        if (!d->blocks) BAD(DS_ERR_NOMEM, "out of memory");
        for (int j = 0; j < d->nblocks; j++) {
            int cin = j == 0 ? ch + CTX(i + 1) : ch;
            snprintf(where, sizeof where, "downsamples.%d.blocks.%d", i, j);
            DS_TRY(check_groups(K, cin, G, where, err));
            DS_TRY(check_groups(K, ch, G, where, err));
            adp_resnet_create(m, &d->blocks[j], where, cin, ch, G, Fm);
        }
        d->has_tr = cc->attentions[i] > 0;
        if (d->has_tr) {
            DS_TRY(attn_geom(a, K, ch, &g, err));
            snprintf(path, sizeof path, "downsamples.%d.transformer", i);
            DS_TRY(adp_transformer_create(m, &d->tr, path, ch, cc->attentions[i], &g, err));
        }
    }
    int chL = CH(L);
    DS_TRY(check_groups(K, chL, G, "the bottleneck", err));
    adp_resnet_create(m, &a->pre, "bottleneck.pre_block", chL, chL, G, Fm);
    int mid_blocks = cc->attentions[cc->n_attentions - 1]; /* attentions[-1] */
    a->has_mid = mid_blocks > 0;
    if (a->has_mid) {
        DS_TRY(attn_geom(a, K, chL, &g, err));
        DS_TRY(adp_transformer_create(m, &a->mid, "bottleneck.transformer", chL, mid_blocks, &g, err));
    }
    adp_resnet_create(m, &a->post, "bottleneck.post_block", chL, chL, G, Fm);
    for (int k = 0; k < L; k++) {
        int i = L - 1 - k, ch = CH(i + 1);
        adp_up *u = &a->up[k];
        u->nblocks = cc->num_blocks[i] + (cc->attentions[i] > 0 ? 1 : 0);
        u->blocks = calloc((size_t)(u->nblocks ? u->nblocks : 1), sizeof *u->blocks);
        if (!u->blocks) BAD(DS_ERR_NOMEM, "out of memory");
        for (int j = 0; j < u->nblocks; j++) {
            snprintf(where, sizeof where, "upsamples.%d.blocks.%d", k, j);
            DS_TRY(check_groups(K, 2 * ch, G, where, err));
            DS_TRY(check_groups(K, ch, G, where, err));
            adp_resnet_create(m, &u->blocks[j], where, 2 * ch, ch, G, Fm);
        }
        u->has_tr = cc->attentions[i] > 0;
        if (u->has_tr) {
            DS_TRY(attn_geom(a, K, ch, &g, err));
            snprintf(path, sizeof path, "upsamples.%d.transformer", k);
            DS_TRY(adp_transformer_create(m, &u->tr, path, ch, cc->attentions[i], &g, err));
        }
        u->factor = cc->factors[i];
        u->nearest = cc->use_nearest_upsample && u->factor != 1;
        if (u->factor == 1 || u->nearest) {
            /* Conv1d(k 3); with nearest it is index 1 of Sequential(Upsample, Conv1d) */
            snprintf(path, sizeof path, "upsamples.%d.upsample%s", k, u->nearest ? ".1" : "");
            adp_conv_create(m, &u->conv, path, ch, CH(i), 3, 1, true);
        } else {
            snprintf(path, sizeof path, "upsamples.%d.upsample", k);
            adp_convt_create(m, &u->convt, path, ch, CH(i), 2 * u->factor, u->factor);
        }
    }
    adp_resnet_create(m, &a->to_out, "to_out.block", CH(0) / P, a->out_ch, 1, Fm);
    if (kind == DS_BB_ADP_CFG_1D) {
        int F = cc->context_embedding_features;
        if (cc->use_xattn_time) time_embedding_create(m, "to_time_embedding", a->Cb, F, &a->xt_w, &a->xt_lw, &a->xt_lb);
        a->fixed = P2(m, "fixed_embedding.embedding.weight", cc->context_embedding_max_length + (cc->use_xattn_time ? 1 : 0), F);
        ds_param_init_as(a->fixed, DS_INIT_NORMAL, 1.0f); /* nn.Embedding */
    }
#undef CTX
#undef CH
    return DS_OK;
}

/* ---------------- UNet1d forward ---------------- */

/* "b c (l p) -> b (c p) l" */
static ds_tensor *patch(ds_ctx *c, ds_tensor *x, int P) {
    if (P == 1) return x;
    int64_t B = x->shape[0], C = x->shape[1], T = x->shape[2];
    DS_ASSERTF(T % P == 0, "adp: length %lld is not a multiple of patch_size %d", (long long)T, P);
    ds_tensor *h = ds_permute(c, ds_reshape4(c, x, B, C, T / P, P), (int[]){0, 1, 3, 2});
    return ds_reshape3(c, h, B, C * P, T / P);
}

/* "b (c p) l -> b c (l p)" */
static ds_tensor *unpatch(ds_ctx *c, ds_tensor *x, int P) {
    if (P == 1) return x;
    int64_t B = x->shape[0], C = x->shape[1], L = x->shape[2];
    ds_tensor *h = ds_permute(c, ds_reshape4(c, x, B, C / P, P, L), (int[]){0, 1, 3, 2});
    return ds_reshape3(c, h, B, C / P, L * P);
}

/* Learned time embedding → Linear → GELU: t [B] -> [B, out]. */
static ds_tensor *time_embed(ds_ctx *c, ds_tensor *t, ds_tensor *w, ds_tensor *lw, ds_tensor *lb) {
    return ds_gelu(c, ds_linear(c, ds_fourier(c, t, w, DS_FOURIER_X_SIN_COS), lw, lb));
}

/* get_mapping: to_mapping(sum of to_time(t) and to_features(features)), or NULL. */
static ds_tensor *mapping_fwd(ds_ctx *c, const adp *a, ds_tensor *t, ds_tensor *features) {
    ds_tensor *m = NULL;
    if (a->time_w) m = time_embed(c, t, a->time_w, a->time_lw, a->time_lb);
    if (a->feat_w) {
        DS_ASSERTF(features != NULL, "adp: context_features is set but no global condition was given");
        ds_tensor *f = ds_gelu(c, ds_linear(c, features, a->feat_w, a->feat_b));
        m = m ? ds_add(c, m, f) : f;
    }
    if (!m) return NULL;
    m = ds_gelu(c, ds_linear(c, m, a->map0_w, a->map0_b));
    return ds_gelu(c, ds_linear(c, m, a->map2_w, a->map2_b));
}

/* Input-concat channels at `level` (get_channels): the one tensor of channels_list. */
static ds_tensor *level_channels(const adp *a, int level, ds_tensor *channels, ds_tensor *x) {
    if (a->ctx_level != level) return NULL;
    int want = a->c.context_channels[level];
    DS_ASSERTF(channels != NULL, "adp: context_channels[%d] = %d but no input-concat condition was given", level, want);
    DS_ASSERTF(channels->shape[1] == want, "adp: input-concat condition has %lld channels, context_channels[%d] is %d",
               (long long)channels->shape[1], level, want);
    DS_ASSERTF(channels->shape[2] == x->shape[2] && channels->shape[0] == x->shape[0],
               "adp: input-concat condition of length %lld at level %d, where the signal has length %lld",
               (long long)channels->shape[2], level, (long long)x->shape[2]);
    return channels;
}

/* UNet1d.forward. x [B, in, T], t [B]; features [B, context_features]; channels
 * [B, context_channels[ctx_level], T_level]; emb [B, S, F] and mask [B, S] for the
 * cross-attention. Returns [B, out, T]. */
static ds_tensor *unet_fwd(ds_ctx *c, const adp *a, ds_tensor *x, ds_tensor *t, ds_tensor *features,
                           ds_tensor *channels, ds_tensor *emb, ds_tensor *mask) {
    ds_tensor *ch0 = level_channels(a, 0, channels, x);
    if (ch0) x = ds_concat(c, 1, 2, (ds_tensor *[]){x, ch0});
    ds_tensor *mapping = mapping_fwd(c, a, t, features);
    /* MappingToScaleShift starts with SiLU(mapping) in every block: computed once here. */
    ds_tensor *ms = mapping ? ds_silu(c, mapping) : NULL;
    x = patch(c, adp_resnet_fwd(c, &a->to_in, x, ms), a->P);
    ds_tensor *skip0 = x;
    ds_tensor **skips[DS_MAX_LEVELS];
    for (int i = 0; i < a->L; i++) {
        const adp_down *d = &a->down[i];
        skips[i] = ds_arena_alloc(&c->meta, (size_t)(d->nblocks + 1) * sizeof(ds_tensor *));
        int n = 0;
        x = adp_conv_fwd(c, &d->downsample, x);
        ds_tensor *chi = level_channels(a, i + 1, channels, x);
        if (chi) x = ds_concat(c, 1, 2, (ds_tensor *[]){x, chi});
        for (int j = 0; j < d->nblocks; j++) skips[i][n++] = x = adp_resnet_fwd(c, &d->blocks[j], x, ms);
        if (d->has_tr) skips[i][n++] = x = adp_transformer_fwd(c, &d->tr, x, emb, mask);
    }
    x = adp_resnet_fwd(c, &a->pre, x, ms);
    if (a->has_mid) x = adp_transformer_fwd(c, &a->mid, x, emb, mask);
    x = adp_resnet_fwd(c, &a->post, x, ms);
    for (int k = 0; k < a->L; k++) {
        const adp_up *u = &a->up[k];
        ds_tensor **sk = skips[a->L - 1 - k];
        for (int j = 0; j < u->nblocks; j++) {
            ds_tensor *s = sk[u->nblocks - 1 - j]; /* skips.pop() */
            DS_ASSERTF(s->shape[2] == x->shape[2], "adp: skip of length %lld meets %lld (the input length must be a "
                       "multiple of the product of the factors)", (long long)s->shape[2], (long long)x->shape[2]);
            if (a->skip_scale != 1.0f) s = ds_affine(c, s, a->skip_scale, 0.0f);
            x = adp_resnet_fwd(c, &u->blocks[j], ds_concat(c, 1, 2, (ds_tensor *[]){x, s}), ms);
        }
        if (u->has_tr) x = adp_transformer_fwd(c, &u->tr, x, emb, mask);
        if (u->nearest)
            x = adp_conv_fwd(c, &u->conv, ds_resize_nearest(c, x, x->shape[2] * u->factor));
        else if (u->factor == 1)
            x = adp_conv_fwd(c, &u->conv, x);
        else
            x = adp_convt_fwd(c, &u->convt, x);
    }
    DS_ASSERTF(x->shape[2] == skip0->shape[2], "adp: output length %lld differs from %lld (the input length must be "
               "a multiple of the product of the factors)", (long long)x->shape[2], (long long)skip0->shape[2]);
    x = ds_add(c, x, skip0);
    return adp_resnet_fwd(c, &a->to_out, unpatch(c, x, a->P), ms);
}

/* ---------------- wrappers and UNetCFG1d ---------------- */

/* a·keep + b·(1 − keep) per batch item (torch.where with a per-item boolean): a, b [B, ...]. */
static ds_tensor *select_items(ds_ctx *c, ds_tensor *a, ds_tensor *b, const float *keep) {
    int64_t B = a->shape[0];
    float *drop = ds_host_scratch(c, B);
    if (drop)
        for (int64_t i = 0; i < B; i++) drop[i] = 1.0f - keep[i];
    return ds_add(c, ds_mask_items(c, a, keep), ds_mask_items(c, b, drop));
}

/* a where m else b, m [B, S] (nonzero = true) over a, b [B, S, F]. */
static ds_tensor *select_tokens(ds_ctx *c, ds_tensor *a, ds_tensor *b, ds_tensor *m) {
    int64_t B = a->shape[0], S = a->shape[1];
    ds_tensor *on = ds_new3(c, B, S, 1), *off = ds_new3(c, B, S, 1);
    float *hon = ds_host_begin(c, on), *hoff = ds_host_begin(c, off);
    const float *hm = c->dry ? NULL : ds_host_view(c, m); /* masks come from the host: no transfer */
    if (hon && hoff && hm)
        for (int64_t i = 0; i < B * S; i++) {
            hon[i] = hm[i] != 0.0f ? 1.0f : 0.0f;
            hoff[i] = 1.0f - hon[i];
        }
    ds_host_commit(c, on);
    ds_host_commit(c, off);
    return ds_add(c, ds_mul_bc(c, a, on), ds_mul_bc(c, b, off));
}

static ds_tensor *ones2(ds_ctx *c, int64_t B, int64_t n) { return ds_new_fill(c, 2, (int64_t[]){B, n}, 1.0f); }

static ds_tensor *cat0(ds_ctx *c, ds_tensor *a, ds_tensor *b) {
    return a ? ds_concat(c, 0, 2, (ds_tensor *[]){a, b}) : NULL;
}

/* UNetCFG1d.forward, as UNetCFG1DWrapper calls it (sat-spec §2.3.4). */
static ds_tensor *cfg_fwd(ds_ctx *c, const adp *a, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cd,
                          const ds_call_opts *o) {
    int64_t B = x->shape[0];
    ds_tensor *emb = cd->cross_attn_cond, *mask = cd->cross_attn_mask;
    ds_tensor *features = cd->global_cond, *channels = cd->input_concat_cond;
    ds_tensor *neg = cd->negative_cross_attn_cond, *neg_mask = cd->negative_cross_attn_mask;
    DS_ASSERTF(emb != NULL, "adp_cfg_1d: the cross-attention embedding (cross_attn_cond) is required");
    DS_ASSERTF(emb->ndim == 3 && emb->shape[0] == B && emb->shape[2] == a->c.context_embedding_features,
               "adp_cfg_1d: cross_attn_cond must be [%lld, S, %d]", (long long)B, a->c.context_embedding_features);
    if (a->xt_w) {
        /* use_xattn_time: one more token, the time embedding, with mask 1. SAT forgets to
         * extend a negative embedding (and crashes); here it gets the same token. */
        int64_t F = emb->shape[2];
        ds_tensor *te = ds_reshape3(c, time_embed(c, t, a->xt_w, a->xt_lw, a->xt_lb), B, 1, F);
        emb = ds_concat(c, 1, 2, (ds_tensor *[]){emb, te});
        if (mask) mask = ds_concat(c, 1, 2, (ds_tensor *[]){mask, ones2(c, B, 1)});
        if (neg) neg = ds_concat(c, 1, 2, (ds_tensor *[]){neg, te});
        if (neg && neg_mask) neg_mask = ds_concat(c, 1, 2, (ds_tensor *[]){neg_mask, ones2(c, B, 1)});
    }
    int64_t S = emb->shape[1], F = emb->shape[2];
    DS_ASSERTF(S <= a->fixed->shape[0], "adp_cfg_1d: %lld context tokens exceed context_embedding_max_length %lld",
               (long long)S, (long long)a->fixed->shape[0]);
    /* FixedEmbedding: rows 0..S−1 of the learned table, the same for every item */
    ds_tensor *fixed = ds_repeat0(c, ds_reshape3(c, ds_slice(c, a->fixed, 0, 0, S), 1, S, F), (int)B);

    if (o->cfg_dropout_prob > 0.0f) { /* embedding_mask_proba: per item, embedding := fixed */
        float *keep = ds_host_scratch(c, B);
        if (keep) {
            DS_ASSERTF(o->rng != NULL, "cfg dropout needs a random stream");
            for (int64_t b = 0; b < B; b++) keep[b] = ds_rng_uniform(o->rng) < o->cfg_dropout_prob ? 0.0f : 1.0f;
        }
        emb = select_items(c, emb, fixed, keep);
    }
    if (o->cfg_scale == 1.0f) return unet_fwd(c, a, x, t, features, channels, emb, mask);

    ds_tensor *co, *un;
    if (o->batch_cfg) {
        /* the null branch: the negative embedding with masked-out tokens from fixed, or fixed */
        ds_tensor *null = fixed;
        if (neg) {
            DS_ASSERTF(ds_same_shape(neg, emb), "adp_cfg_1d: negative_cross_attn_cond must match cross_attn_cond");
            null = neg_mask ? select_tokens(c, neg, fixed, neg_mask) : neg;
        }
        ds_tensor *both = unet_fwd(c, a, cat0(c, x, x), cat0(c, t, t), cat0(c, features, features),
                                   cat0(c, channels, channels), cat0(c, emb, null), cat0(c, mask, mask));
        co = ds_slice(c, both, 0, 0, B);
        un = ds_slice(c, both, 0, B, B);
    } else { /* two passes; SAT's unbatched path ignores negative embeddings */
        co = unet_fwd(c, a, x, t, features, channels, emb, mask);
        un = unet_fwd(c, a, x, t, features, channels, fixed, mask);
    }
    if (o->out_cond) *o->out_cond = co;
    if (o->out_uncond) *o->out_uncond = un;
    float phi = o->rescale_cfg ? (o->has_scale_phi ? o->scale_phi : 0.4f) : 0.0f;
    return ds_cfg_combine(c, co, un, o->cfg_scale, phi);
}

static ds_tensor *adp_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cd,
                              const ds_call_opts *o) {
    const adp *a = m->bb.impl;
    DS_ASSERTF(x->ndim == 3 && x->shape[1] == a->c.in_channels, "adp: input has %lld channels, in_channels is %d",
               (long long)x->shape[1], a->c.in_channels);
    switch (a->kind) {
    case DS_BB_ADP_CFG_1D: return cfg_fwd(c, a, x, t, cd, o);
    case DS_BB_ADP_1D: {
        /* UNet1DCondWrapper: input concat resized to T (nearest); global cond as features */
        ds_tensor *icc = cd->input_concat_cond;
        if (icc) icc = ds_resize_nearest(c, icc, x->shape[2]);
        return unet_fwd(c, a, x, t, cd->global_cond, icc, NULL, NULL);
    }
    default: return unet_fwd(c, a, x, t, NULL, NULL, NULL, NULL);
    }
}
