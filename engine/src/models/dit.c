/* SAT's `dit` backbone: DiffusionTransformer + ContinuousTransformer (sat-spec §2.1).
 * Parameter names are SAT's state_dict names relative to the wrapper prefix (model.model.).
 *
 * Forward (one CFG branch, _forward):
 *   ctx = to_cond_embed(cross)  g = to_global_embed(global)  pre = to_prepend_embed(prepend)
 *   x = cat(x, nearest(input_concat));  te = to_timestep_embed(fourier(t))
 *   global timestep: g = g + te | input_concat timestep: x = cat(x, te over T)
 *   prepend mode: prepend tokens = [pre, g];  x = preprocess_conv(x) + x;  patch
 *   h = project_in(x); h = [memory | prepend | h]; layers (RoPE over the whole sequence)
 *   drop memory and prepended tokens; project_out; unpatch; out = postprocess_conv(out) + out
 * Masks are ignored, exactly as SAT does (sat-spec §2.1.3, pitfall 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "models/model.h"
#include "ops/ops.h"

typedef struct dit_layer {
    bool cross;
    ds_tensor *ssg; /* to_scale_shift_gate [6E] (adaLN) */
    ds_tensor *pre_g, *pre_b, *qkv, *sa_out;
    ds_tensor *qn_w, *qn_b, *kn_w, *kn_b; /* qk_norm "ln" */
    ds_tensor *cn_g, *cn_b, *ca_q, *ca_kv, *ca_out;
    ds_tensor *ffn_g, *ffn_b, *ff_in_w, *ff_in_b, *ff_out_w, *ff_out_b;
    ds_tensor *ls_sa, *ls_ca, *ls_ff; /* layer_scale */
} dit_layer;

typedef struct dit {
    ds_dit_config c;
    int E, H, D, R, Dc, Dg, Din, io, P, M, Et, inner;
    ds_objective objective;
    ds_tensor *ts_feat, *ts0_w, *ts0_b, *ts2_w, *ts2_b;
    ds_tensor *ce0, *ce2, *ge0, *ge2, *pe0, *pe2;
    ds_tensor *pre_conv, *post_conv, *proj_in, *proj_out, *inv_freq;
    ds_tensor *gce0_w, *gce0_b, *gce2_w, *gce2_b;
    ds_tensor *mem, *abs_emb, *sin_scale;
    dit_layer *layers;
} dit;

/* ---------------- construction ---------------- */

static ds_tensor *P1(ds_model *m, const char *name, int64_t d0) { return ds_param_add1(&m->params, DS_PG_BACKBONE, name, d0); }
static ds_tensor *P2(ds_model *m, const char *name, int64_t d0, int64_t d1) {
    return ds_param_add2(&m->params, DS_PG_BACKBONE, name, d0, d1);
}
static ds_tensor *P3(ds_model *m, const char *name, int64_t d0, int64_t d1, int64_t d2) {
    return ds_param_add3(&m->params, DS_PG_BACKBONE, name, d0, d1, d2);
}

static ds_tensor *norm_gamma(ds_model *m, const dit *d, const char *name) {
    return ds_param_add1(&m->params, d->c.norm_fix_scale ? DS_PG_BUFFER : DS_PG_BACKBONE, name, d->E);
}
static ds_tensor *norm_beta(ds_model *m, const dit *d, const char *name) {
    return ds_param_add1(&m->params, d->c.norm_bias ? DS_PG_BACKBONE : DS_PG_BUFFER, name, d->E);
}

static void dit_destroy(void *impl) {
    dit *d = impl;
    if (d) free(d->layers);
    free(d);
}

static void dit_init_buffers(ds_model *m) {
    dit *d = m->bb.impl;
    if (d->inv_freq)
        for (int j = 0; j < d->R / 2; j++)
            d->inv_freq->data[j] = 1.0f / powf(10000.0f, (float)(2 * j) / (float)d->R);
    /* LayerNorm beta buffers are zeros; fix_scale gammas are ones. */
    for (int i = 0; i < m->params.n; i++) {
        ds_param *p = m->params.items[i];
        if (p->group != DS_PG_BUFFER) continue;
        size_t n = strlen(p->name);
        if (n >= 5 && !strcmp(p->name + n - 5, ".beta")) memset(p->t.data, 0, (size_t)p->numel * sizeof(float));
        if (n >= 6 && !strcmp(p->name + n - 6, ".gamma"))
            for (int64_t j = 0; j < p->numel; j++) p->t.data[j] = 1.0f;
    }
}

static ds_tensor *dit_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                              const ds_call_opts *o);

#define UNSUPPORTED(cond, key)                                                                                     \
    if (cond)                                                                                                      \
        return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.config.%s: this DiT option cannot run in "        \
                                                   "diffstudio yet", key)

ds_status ds_dit_create(ds_model *m, ds_err *err) {
    const ds_dit_config *cc = &m->cfg.dit;
    UNSUPPORTED(strcmp(cc->transformer_type, "continuous_transformer") != 0, "transformer_type (only \"continuous_transformer\")");
    UNSUPPORTED(cc->conformer, "conformer");
    UNSUPPORTED(cc->remove_norms, "remove_norms");
    UNSUPPORTED(cc->differential, "attn_kwargs.differential");
    UNSUPPORTED(cc->feat_scale, "attn_kwargs.feat_scale");
    UNSUPPORTED(cc->qk_norm == DS_QK_NORM_DYT, "attn_kwargs.qk_norm \"dyt\"");
    UNSUPPORTED(cc->sliding_window > 0, "sliding_window");
    UNSUPPORTED(cc->add_rope, "add_rope");
    UNSUPPORTED(cc->causal, "causal");
    UNSUPPORTED(cc->ff_use_conv, "ff_kwargs.use_conv");
    if (cc->embed_dim <= 0 || cc->num_heads <= 0 || cc->embed_dim % cc->num_heads)
        return ds_err_set(err, DS_ERR_INVALID, "model.diffusion.config: embed_dim %d is not divisible by num_heads %d",
                          cc->embed_dim, cc->num_heads);
    dit *d = calloc(1, sizeof *d);
    if (!d) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    m->bb.impl = d;
    m->bb.forward = dit_forward;
    m->bb.destroy = dit_destroy;
    m->bb.init_buffers = dit_init_buffers;
    d->c = *cc;
    d->objective = m->cfg.objective;
    d->E = cc->embed_dim;
    d->H = cc->num_heads;
    d->D = d->E / d->H;
    d->R = d->D / 2 > 32 ? d->D / 2 : 32;
    if (cc->rotary_pos_emb && d->R > d->D)
        return ds_err_set(err, DS_ERR_INVALID,
                          "model.diffusion.config: head dim %d (embed_dim/num_heads) is below 32; SAT's rotary "
                          "embedding needs max(head_dim/2, 32) <= head_dim",
                          d->D);
    d->io = cc->io_channels;
    d->P = cc->patch_size > 0 ? cc->patch_size : 1;
    d->M = cc->num_memory_tokens;
    d->Dc = cc->cond_token_dim > 0 ? (cc->project_cond_tokens ? d->E : cc->cond_token_dim) : 0;
    d->Dg = cc->global_cond_dim > 0 ? (cc->project_global_cond ? d->E : cc->global_cond_dim) : 0;
    d->Et = cc->timestep_cond_type == DS_TIMESTEP_COND_GLOBAL ? d->E : cc->timestep_embed_dim;
    if (cc->timestep_cond_type == DS_TIMESTEP_COND_INPUT_CONCAT && cc->timestep_embed_dim <= 0)
        return ds_err_set(err, DS_ERR_INVALID,
                          "model.diffusion.config.timestep_embed_dim: required with timestep_cond_type \"input_concat\"");
    d->Din = d->io + cc->input_concat_dim +
             (cc->timestep_cond_type == DS_TIMESTEP_COND_INPUT_CONCAT ? cc->timestep_embed_dim : 0);
    if (d->Dc && d->Dc % d->D)
        return ds_err_set(err, DS_ERR_INVALID,
                          "model.diffusion.config.cond_token_dim: %d is not a multiple of the head dim %d (cross-attention "
                          "K/V heads)", d->Dc, d->D);
    if (d->Dc && d->H % (d->Dc / d->D))
        return ds_err_set(err, DS_ERR_INVALID,
                          "model.diffusion.config: %d query heads cannot share %d cross-attention K/V heads", d->H,
                          d->Dc / d->D);
    if (d->Dg && d->Dg != d->E)
        return ds_err_set(err, DS_ERR_INVALID,
                          "model.diffusion.config.global_cond_dim: with project_global_cond false it must equal embed_dim "
                          "(%d), got %d", d->E, d->Dg);
    d->inner = (int)(d->E * (cc->ff_mult > 0 ? cc->ff_mult : 4.0));

    d->ts_feat = P2(m, "timestep_features.weight", 128, 1);
    ds_param_init_as(d->ts_feat, DS_INIT_NORMAL, 1.0f);
    d->ts0_w = P2(m, "to_timestep_embed.0.weight", d->Et, 256);
    d->ts0_b = P1(m, "to_timestep_embed.0.bias", d->Et);
    d->ts2_w = P2(m, "to_timestep_embed.2.weight", d->Et, d->Et);
    d->ts2_b = P1(m, "to_timestep_embed.2.bias", d->Et);
    if (cc->cond_token_dim > 0) {
        d->ce0 = P2(m, "to_cond_embed.0.weight", d->Dc, cc->cond_token_dim);
        d->ce2 = P2(m, "to_cond_embed.2.weight", d->Dc, d->Dc);
    }
    if (cc->global_cond_dim > 0) {
        d->ge0 = P2(m, "to_global_embed.0.weight", d->Dg, cc->global_cond_dim);
        d->ge2 = P2(m, "to_global_embed.2.weight", d->Dg, d->Dg);
    }
    if (cc->prepend_cond_dim > 0) {
        d->pe0 = P2(m, "to_prepend_embed.0.weight", d->E, cc->prepend_cond_dim);
        d->pe2 = P2(m, "to_prepend_embed.2.weight", d->E, d->E);
    }
    d->pre_conv = P3(m, "preprocess_conv.weight", d->Din, d->Din, 1);
    d->post_conv = P3(m, "postprocess_conv.weight", d->io, d->io, 1);
    ds_param_init_as(d->pre_conv, DS_INIT_ZERO, 0);
    ds_param_init_as(d->post_conv, DS_INIT_ZERO, 0);
    d->proj_in = P2(m, "transformer.project_in.weight", d->E, (int64_t)d->Din * d->P);
    d->proj_out = P2(m, "transformer.project_out.weight", (int64_t)d->io * d->P, d->E);
    if (cc->rotary_pos_emb)
        d->inv_freq = ds_param_add1(&m->params, DS_PG_BUFFER, "transformer.rotary_pos_emb.inv_freq", d->R / 2);
    if (cc->global_cond_type == DS_GLOBAL_COND_ADALN) {
        d->gce0_w = P2(m, "transformer.global_cond_embedder.0.weight", d->E, d->E);
        d->gce0_b = P1(m, "transformer.global_cond_embedder.0.bias", d->E);
        d->gce2_w = P2(m, "transformer.global_cond_embedder.2.weight", 6 * (int64_t)d->E, d->E);
        d->gce2_b = P1(m, "transformer.global_cond_embedder.2.bias", 6 * (int64_t)d->E);
    }
    if (d->M > 0) {
        d->mem = P2(m, "transformer.memory_tokens", d->M, d->E);
        ds_param_init_as(d->mem, DS_INIT_NORMAL, 1.0f);
    }
    if (cc->use_abs_pos_emb) {
        d->abs_emb = P2(m, "transformer.pos_emb.emb.weight", (int64_t)cc->abs_pos_emb_max_length + d->M, d->E);
        ds_param_init_as(d->abs_emb, DS_INIT_NORMAL, 1.0f);
    } else if (cc->use_sinusoidal_emb) {
        d->sin_scale = P1(m, "transformer.pos_emb.scale", 1);
        ds_param_init_as(d->sin_scale, DS_INIT_CONST, 1.0f / sqrtf((float)d->E));
    }
    d->layers = calloc((size_t)cc->depth, sizeof *d->layers);
    if (!d->layers) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    char n[128];
#define LP(fmt) (snprintf(n, sizeof n, "transformer.layers.%d." fmt, i), n)
    for (int i = 0; i < cc->depth; i++) {
        dit_layer *L = &d->layers[i];
        L->cross = d->Dc > 0 && (cc->final_cross_attn_ix < 0 || i <= cc->final_cross_attn_ix);
        if (cc->global_cond_type == DS_GLOBAL_COND_ADALN) {
            L->ssg = P1(m, LP("to_scale_shift_gate"), 6 * (int64_t)d->E);
            ds_param_init_as(L->ssg, DS_INIT_NORMAL, 1.0f / sqrtf((float)d->E));
        }
        L->pre_g = norm_gamma(m, d, LP("pre_norm.gamma"));
        L->pre_b = norm_beta(m, d, LP("pre_norm.beta"));
        L->qkv = P2(m, LP("self_attn.to_qkv.weight"), 3 * (int64_t)d->E, d->E);
        L->sa_out = P2(m, LP("self_attn.to_out.weight"), d->E, d->E);
        if (cc->zero_init_branch_outputs && !cc->layer_scale) ds_param_init_as(L->sa_out, DS_INIT_ZERO, 0);
        if (cc->qk_norm == DS_QK_NORM_LN) {
            L->qn_w = P1(m, LP("self_attn.q_norm.weight"), d->D);
            L->qn_b = P1(m, LP("self_attn.q_norm.bias"), d->D);
            L->kn_w = P1(m, LP("self_attn.k_norm.weight"), d->D);
            L->kn_b = P1(m, LP("self_attn.k_norm.bias"), d->D);
        }
        if (L->cross) {
            L->cn_g = norm_gamma(m, d, LP("cross_attend_norm.gamma"));
            L->cn_b = norm_beta(m, d, LP("cross_attend_norm.beta"));
            L->ca_q = P2(m, LP("cross_attn.to_q.weight"), d->E, d->E);
            L->ca_kv = P2(m, LP("cross_attn.to_kv.weight"), 2 * (int64_t)d->Dc, d->Dc);
            L->ca_out = P2(m, LP("cross_attn.to_out.weight"), d->E, d->E);
            if (cc->zero_init_branch_outputs && !cc->layer_scale) ds_param_init_as(L->ca_out, DS_INIT_ZERO, 0);
        }
        L->ffn_g = norm_gamma(m, d, LP("ff_norm.gamma"));
        L->ffn_b = norm_beta(m, d, LP("ff_norm.beta"));
        if (cc->ff_glu) {
            L->ff_in_w = P2(m, LP("ff.ff.0.proj.weight"), 2 * (int64_t)d->inner, d->E);
            if (!cc->ff_no_bias) L->ff_in_b = P1(m, LP("ff.ff.0.proj.bias"), 2 * (int64_t)d->inner);
        } else {
            L->ff_in_w = P2(m, LP("ff.ff.0.1.weight"), d->inner, d->E);
            if (!cc->ff_no_bias) L->ff_in_b = P1(m, LP("ff.ff.0.1.bias"), d->inner);
        }
        L->ff_out_w = P2(m, LP("ff.ff.2.weight"), d->E, d->inner);
        if (!cc->ff_no_bias) L->ff_out_b = P1(m, LP("ff.ff.2.bias"), d->E);
        if (cc->zero_init_branch_outputs && !cc->layer_scale) {
            ds_param_init_as(L->ff_out_w, DS_INIT_ZERO, 0);
            if (L->ff_out_b) ds_param_init_as(L->ff_out_b, DS_INIT_ZERO, 0);
        }
        if (cc->layer_scale) {
            L->ls_sa = P1(m, LP("self_attn_scale.scale"), d->E);
            if (L->cross) L->ls_ca = P1(m, LP("cross_attn_scale.scale"), d->E);
            L->ls_ff = P1(m, LP("ff_scale.scale"), d->E);
            ds_param_init_as(L->ls_sa, DS_INIT_CONST, 1e-5f); /* LayerScale init */
            if (L->ls_ca) ds_param_init_as(L->ls_ca, DS_INIT_CONST, 1e-5f);
            ds_param_init_as(L->ls_ff, DS_INIT_CONST, 1e-5f);
        }
    }
#undef LP
    return DS_OK;
}

/* ---------------- forward ---------------- */

/* Linear(no bias) -> SiLU -> Linear(no bias) */
static ds_tensor *mlp2(ds_ctx *c, ds_tensor *x, ds_tensor *w0, ds_tensor *w2) {
    return ds_linear(c, ds_silu(c, ds_linear(c, x, w0, NULL)), w2, NULL);
}

static ds_tensor *layer_norm(ds_ctx *c, const dit *d, ds_tensor *x, ds_tensor *g, ds_tensor *b) {
    return ds_layernorm(c, x, g, b, (float)(d->c.norm_eps > 0 ? d->c.norm_eps : 1e-5));
}

static ds_tensor *head_norm(ds_ctx *c, const dit *d, ds_tensor *x, int heads, ds_tensor *w, ds_tensor *b) {
    int64_t B = x->shape[0], N = x->shape[1];
    ds_tensor *v = ds_reshape4(c, x, B, N, heads, d->D);
    v = d->c.qk_norm == DS_QK_NORM_L2 ? ds_l2norm(c, v) : ds_layernorm(c, v, w, b, 1e-6f);
    return ds_reshape3(c, v, B, N, (int64_t)heads * d->D);
}

static ds_tensor *self_attention(ds_ctx *c, const dit *d, const dit_layer *L, ds_tensor *x) {
    int64_t E = d->E;
    ds_tensor *qkv = ds_linear(c, x, L->qkv, NULL);
    ds_tensor *q = ds_slice(c, qkv, 2, 0, E), *k = ds_slice(c, qkv, 2, E, E), *v = ds_slice(c, qkv, 2, 2 * E, E);
    if (d->c.qk_norm != DS_QK_NORM_NONE) {
        q = head_norm(c, d, q, d->H, L->qn_w, L->qn_b);
        k = head_norm(c, d, k, d->H, L->kn_w, L->kn_b);
    }
    if (d->inv_freq) {
        q = ds_rope(c, q, d->H, d->R, d->inv_freq, 0);
        k = ds_rope(c, k, d->H, d->R, d->inv_freq, 0);
    }
    ds_tensor *o = ds_attention(c, q, k, v, d->H, d->H, 1.0f / sqrtf((float)d->D));
    return ds_linear(c, o, L->sa_out, NULL);
}

static ds_tensor *cross_attention(ds_ctx *c, const dit *d, const dit_layer *L, ds_tensor *x, ds_tensor *ctx) {
    ds_tensor *q = ds_linear(c, x, L->ca_q, NULL);
    ds_tensor *kv = ds_linear(c, ctx, L->ca_kv, NULL);
    ds_tensor *k = ds_slice(c, kv, 2, 0, d->Dc), *v = ds_slice(c, kv, 2, d->Dc, d->Dc);
    if (d->c.qk_norm != DS_QK_NORM_NONE) {
        q = head_norm(c, d, q, d->H, L->qn_w, L->qn_b);
        k = head_norm(c, d, k, d->Dc / d->D, L->kn_w, L->kn_b);
    }
    ds_tensor *o = ds_attention(c, q, k, v, d->H, d->Dc / d->D, 1.0f / sqrtf((float)d->D));
    return ds_linear(c, o, L->ca_out, NULL);
}

static ds_tensor *feed_forward(ds_ctx *c, const dit *d, const dit_layer *L, ds_tensor *x) {
    ds_tensor *h = ds_linear(c, x, L->ff_in_w, L->ff_in_b);
    h = d->c.ff_glu ? ds_swiglu(c, h) : ds_silu(c, h);
    return ds_linear(c, h, L->ff_out_w, L->ff_out_b);
}

/* branch · scale (layer_scale), broadcast over [B, N, E] */
static ds_tensor *layer_scaled(ds_ctx *c, ds_tensor *y, ds_tensor *s) {
    if (!s) return y;
    return ds_mul_bc(c, y, ds_reshape3(c, s, 1, 1, ds_numel(s)));
}

static ds_tensor *block(ds_ctx *c, const dit *d, const dit_layer *L, ds_tensor *x, ds_tensor *ctx, ds_tensor *gc) {
    int64_t B = x->shape[0], E = d->E;
    if (gc) {
        /* adaLN: chunk6(to_scale_shift_gate + gc) in the order scale, shift, gate (self), then (ff) */
        ds_tensor *ssg = ds_add_bc(c, ds_reshape3(c, gc, B, 1, 6 * E), ds_reshape3(c, L->ssg, 1, 1, 6 * E));
        ds_tensor *s_sa = ds_slice(c, ssg, 2, 0, E), *sh_sa = ds_slice(c, ssg, 2, E, E);
        ds_tensor *g_sa = ds_slice(c, ssg, 2, 2 * E, E), *s_ff = ds_slice(c, ssg, 2, 3 * E, E);
        ds_tensor *sh_ff = ds_slice(c, ssg, 2, 4 * E, E), *g_ff = ds_slice(c, ssg, 2, 5 * E, E);
        ds_tensor *h = ds_modulate(c, layer_norm(c, d, x, L->pre_g, L->pre_b), s_sa, sh_sa);
        h = self_attention(c, d, L, h);
        h = ds_mul_bc(c, h, ds_sigmoid(c, ds_affine(c, g_sa, -1.0f, 1.0f)));
        x = ds_add(c, x, layer_scaled(c, h, L->ls_sa));
        if (ctx && L->cross)
            x = ds_add(c, x, layer_scaled(c, cross_attention(c, d, L, layer_norm(c, d, x, L->cn_g, L->cn_b), ctx), L->ls_ca));
        h = ds_modulate(c, layer_norm(c, d, x, L->ffn_g, L->ffn_b), s_ff, sh_ff);
        h = feed_forward(c, d, L, h);
        h = ds_mul_bc(c, h, ds_sigmoid(c, ds_affine(c, g_ff, -1.0f, 1.0f)));
        return ds_add(c, x, layer_scaled(c, h, L->ls_ff));
    }
    x = ds_add(c, x, layer_scaled(c, self_attention(c, d, L, layer_norm(c, d, x, L->pre_g, L->pre_b)), L->ls_sa));
    if (ctx && L->cross)
        x = ds_add(c, x, layer_scaled(c, cross_attention(c, d, L, layer_norm(c, d, x, L->cn_g, L->cn_b), ctx), L->ls_ca));
    return ds_add(c, x, layer_scaled(c, feed_forward(c, d, L, layer_norm(c, d, x, L->ffn_g, L->ffn_b)), L->ls_ff));
}

/* Table [N, E] of sinusoidal positions (ScaledSinusoidalEmbedding, before its learned scale). */
static ds_tensor *sinusoidal_table(ds_ctx *c, int64_t N, int64_t E) {
    ds_tensor *t = ds_new3(c, 1, N, E);
    float *h = ds_host_begin(c, t);
    if (!h) return t;
    int64_t half = E / 2;
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < half; j++) {
            float inv = powf(10000.0f, -(float)j / (float)half);
            float a = (float)n * inv;
            h[n * E + j] = sinf(a);
            h[n * E + half + j] = cosf(a);
        }
    ds_host_commit(c, t);
    return t;
}

/* One CFG branch (SAT's DiffusionTransformer._forward). x [B, io, T]. */
static ds_tensor *dit_forward1(ds_ctx *c, dit *d, ds_tensor *x, ds_tensor *t, ds_tensor *cross, ds_tensor *global,
                               ds_tensor *prepend, ds_tensor *icc) {
    int64_t B = x->shape[0], T = x->shape[2], E = d->E, P = d->P;
    DS_ASSERTF(T % P == 0, "dit: length %lld is not a multiple of patch_size %lld", (long long)T, (long long)P);
    ds_tensor *ctx = cross && d->ce0 ? mlp2(c, cross, d->ce0, d->ce2) : NULL;
    ds_tensor *g = global && d->ge0 ? mlp2(c, global, d->ge0, d->ge2) : NULL;
    ds_tensor *pre = prepend && d->pe0 ? mlp2(c, prepend, d->pe0, d->pe2) : NULL;
    if (d->c.input_concat_dim > 0) {
        DS_ASSERTF(icc != NULL, "dit: input_concat_dim %d but no input_concat_cond", d->c.input_concat_dim);
        x = ds_concat(c, 1, 2, (ds_tensor *[]){x, ds_resize_nearest(c, icc, T)});
    }
    ds_tensor *te = ds_fourier(c, t, d->ts_feat, DS_FOURIER_COS_SIN);
    te = ds_linear(c, ds_silu(c, ds_linear(c, te, d->ts0_w, d->ts0_b)), d->ts2_w, d->ts2_b); /* [B, Et] */
    if (d->c.timestep_cond_type == DS_TIMESTEP_COND_GLOBAL) {
        g = g ? ds_add(c, g, te) : te;
    } else {
        ds_tensor *ones = ds_new_fill(c, 3, (int64_t[]){1, 1, T}, 1.0f);
        x = ds_concat(c, 1, 2, (ds_tensor *[]){x, ds_mul_bc(c, ds_reshape3(c, te, B, d->Et, 1), ones)});
    }
    ds_tensor *prep = pre;
    if (d->c.global_cond_type == DS_GLOBAL_COND_PREPEND && g)
        prep = ds_concat(c, 1, 2, (ds_tensor *[]){pre, ds_reshape3(c, g, B, 1, E)});
    int64_t Plen = prep ? prep->shape[1] : 0;

    x = ds_add(c, ds_conv1d(c, x, d->pre_conv, NULL, 1, 0, 0, 1, 1), x);
    /* [B, Din, T] -> "b (t p) c -> b t (c p)" of the transposed sequence: [B, T/P, Din·P] */
    ds_tensor *h = ds_reshape4(c, x, B, d->Din, T / P, P);
    h = ds_reshape3(c, ds_permute(c, h, (int[]){0, 2, 1, 3}), B, T / P, (int64_t)d->Din * P);

    h = ds_linear(c, h, d->proj_in, NULL);
    if (prep) h = ds_concat(c, 1, 2, (ds_tensor *[]){prep, h});
    if (d->mem) {
        ds_tensor *mem = ds_repeat0(c, ds_reshape3(c, d->mem, 1, d->M, E), (int)B);
        h = ds_concat(c, 1, 2, (ds_tensor *[]){mem, h});
    }
    int64_t N = h->shape[1];
    if (d->abs_emb) {
        DS_ASSERTF(N <= d->abs_emb->shape[0], "dit: %lld tokens exceed abs_pos_emb_max_length", (long long)N);
        ds_tensor *pe = ds_reshape3(c, ds_slice(c, d->abs_emb, 0, 0, N), 1, N, E);
        h = ds_add_bc(c, h, ds_affine(c, pe, 1.0f / sqrtf((float)E), 0.0f));
    } else if (d->sin_scale) {
        ds_tensor *pe = ds_mul_bc(c, sinusoidal_table(c, N, E), ds_reshape3(c, d->sin_scale, 1, 1, 1));
        h = ds_add_bc(c, h, pe);
    }
    ds_tensor *gc = NULL;
    if (d->c.global_cond_type == DS_GLOBAL_COND_ADALN && g)
        gc = ds_linear(c, ds_silu(c, ds_linear(c, g, d->gce0_w, d->gce0_b)), d->gce2_w, d->gce2_b);
    for (int i = 0; i < d->c.depth; i++) h = block(c, d, &d->layers[i], h, ctx, gc);
    h = ds_slice(c, h, 1, d->M + Plen, N - d->M - Plen); /* [B, T/P, E] */
    h = ds_linear(c, h, d->proj_out, NULL);              /* [B, T/P, io·P] */
    /* "b (c p) t -> b c (t p)" after the transpose: [B, T/P, io, P] -> [B, io, T/P, P] */
    ds_tensor *out = ds_reshape4(c, h, B, T / P, d->io, P);
    out = ds_reshape3(c, ds_permute(c, out, (int[]){0, 2, 1, 3}), B, d->io, T);
    return ds_add(c, ds_conv1d(c, out, d->post_conv, NULL, 1, 0, 0, 1, 1), out);
}

static ds_tensor *zeros_like(ds_ctx *c, const ds_tensor *x) { return ds_new_zeros(c, x->ndim, x->shape); }

static float *dropout_keep(const ds_call_opts *o, int64_t B, ds_ctx *c) {
    float *keep = ds_host_scratch(c, B);
    if (!keep) return keep; /* planning */
    DS_ASSERTF(o->rng != NULL, "cfg dropout needs a random stream");
    for (int64_t b = 0; b < B; b++) keep[b] = ds_rng_uniform(o->rng) < o->cfg_dropout_prob ? 0.0f : 1.0f;
    return keep;
}

static ds_tensor *dit_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cd,
                              const ds_call_opts *o) {
    dit *d = m->bb.impl;
    int64_t B = x->shape[0];
    ds_tensor *cross = cd->cross_attn_cond, *prepend = cd->prepend_cond;
    ds_tensor *global = cd->global_cond, *icc = cd->input_concat_cond;
    if (cross && !d->ce0) cross = NULL;

    /* Training-time condition dropout: cross and prepend tokens -> 0 per item, independent
     * draws; the global condition is never dropped (sat-spec §2.1.8). */
    if (o->cfg_dropout_prob > 0.0f && o->cfg_scale == 1.0f) {
        if (cross) cross = ds_mask_items(c, cross, dropout_keep(o, B, c));
        if (prepend) prepend = ds_mask_items(c, prepend, dropout_keep(o, B, c));
    }

    bool cfg = o->cfg_scale != 1.0f && (cross || prepend);
    if (cfg && !c->dry) {
        float t0 = ds_host_view(c, t)[0];
        float sig = d->objective == DS_OBJ_V ? sinf(t0 * (float)M_PI / 2.0f) : t0;
        cfg = o->cfg_interval[0] <= sig && sig <= o->cfg_interval[1];
    }
    if (!cfg) return dit_forward1(c, d, x, t, cross, global, prepend, icc);

    ds_tensor *x2 = ds_concat(c, 0, 2, (ds_tensor *[]){x, x});
    ds_tensor *t2 = ds_concat(c, 0, 2, (ds_tensor *[]){t, t});
    ds_tensor *cross2 = NULL, *prepend2 = NULL, *global2 = NULL, *icc2 = NULL;
    if (cross) {
        ds_tensor *un = zeros_like(c, cross);
        if (cd->negative_cross_attn_cond) {
            un = cd->negative_cross_attn_cond;
            if (cd->negative_cross_attn_mask) {
                ds_tensor *mk = cd->negative_cross_attn_mask;
                un = ds_mul_bc(c, un, ds_reshape3(c, mk, mk->shape[0], mk->shape[1], 1));
            }
        }
        cross2 = ds_concat(c, 0, 2, (ds_tensor *[]){cross, un});
    }
    if (prepend) prepend2 = ds_concat(c, 0, 2, (ds_tensor *[]){prepend, zeros_like(c, prepend)});
    if (global) global2 = ds_concat(c, 0, 2, (ds_tensor *[]){global, global});
    if (icc) icc2 = ds_concat(c, 0, 2, (ds_tensor *[]){icc, icc});
    ds_tensor *both = dit_forward1(c, d, x2, t2, cross2, global2, prepend2, icc2);
    ds_tensor *co = ds_slice(c, both, 0, 0, B), *un = ds_slice(c, both, 0, B, B);
    if (o->out_cond) *o->out_cond = co;
    if (o->out_uncond) *o->out_uncond = un;
    return ds_cfg_combine(c, co, un, o->cfg_scale, o->has_scale_phi ? o->scale_phi : 0.0f);
}
