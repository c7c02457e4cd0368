/* Self-consistency of the U-Net backbones on options the golden fixtures do not cover
 * (patch_size, context_channels at level 0 and below, nearest upsampling, factor-1 levels,
 * attention_features, use_xattn_time, negative embeddings with masks, CFG through the tape,
 * cfg dropout, global features in adp_1d, DAU1d learned resampling with odd strides, cond
 * input with linear resizing, cond_noise_aug, conv_bias false):
 *
 *  - whole-model gradients: L = Σ out·r; the tape's dL/dθ and dL/dinput against central
 *    differences (L in double, float32 model) on sampled elements of every parameter tensor
 *    and of every input;
 *  - a planning (dry) pass predicts the arena bytes of the real pass exactly;
 *  - the batched and two-pass CFG paths agree;
 *  - configs SAT cannot run are refused with a message naming the key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "models/model.h"
#include "ops/ops.h"
#include "testutil.h"
#include "unet_configs.h"

typedef struct gcase {
    const char *name;
    ds_model_config cfg;
    int B, T;
    int S;          /* cross-attention tokens (0: none) */
    bool mask, neg, neg_mask, global;
    int icc_ch, icc_T; /* input-concat channels and length (0: none) */
    float cfg_scale, dropout, aug_scale;
    bool two_pass;  /* batch_cfg false */
} gcase;

typedef struct inputs {
    float *x, *t, *emb, *mask, *neg, *neg_mask, *glob, *icc;
} inputs;

static float *randn(int64_t n, unsigned seed, float scale) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    tu_fill(p, n, seed);
    for (int64_t i = 0; i < n; i++) p[i] *= scale;
    return p;
}

static void make_inputs(const gcase *g, const ds_model *m, inputs *in) {
    memset(in, 0, sizeof *in);
    int io = m->cfg.io_channels;
    in->x = randn((int64_t)g->B * io * g->T, 11, 1.0f);
    in->t = randn(g->B, 12, 0.5f);
    for (int b = 0; b < g->B; b++) in->t[b] += 0.5f;
    int F = m->cfg.adp.context_embedding_features;
    if (g->S) {
        in->emb = randn((int64_t)g->B * g->S * F, 13, 1.0f);
        if (g->mask) {
            in->mask = randn((int64_t)g->B * g->S, 14, 1.0f);
            for (int i = 0; i < g->B * g->S; i++) in->mask[i] = in->mask[i] > -0.3f ? 1.0f : 0.0f;
            in->mask[0] = 1.0f, in->mask[1] = 0.0f;
        }
        if (g->neg) in->neg = randn((int64_t)g->B * g->S * F, 15, 1.0f);
        if (g->neg_mask) {
            in->neg_mask = randn((int64_t)g->B * g->S, 16, 1.0f);
            for (int i = 0; i < g->B * g->S; i++) in->neg_mask[i] = in->neg_mask[i] > 0.0f ? 1.0f : 0.0f;
            in->neg_mask[0] = 0.0f, in->neg_mask[1] = 1.0f;
        }
    }
    if (g->global) in->glob = randn((int64_t)g->B * m->cfg.adp.context_features, 17, 1.0f);
    if (g->icc_ch) in->icc = randn((int64_t)g->B * g->icc_ch * g->icc_T, 18, 1.0f);
}

static void free_inputs(inputs *in) {
    free(in->x), free(in->t), free(in->emb), free(in->mask), free(in->neg), free(in->neg_mask), free(in->glob), free(in->icc);
}

/* The tensors of one call; requires_grad on the differentiable inputs when grad. */
typedef struct call {
    ds_tensor *x, *t, *emb, *glob, *icc, *neg;
    ds_tensor *out;
} call;

static call run(ds_model *m, ds_ctx *c, const gcase *g, inputs *in, bool grad, bool two_pass) {
    call k;
    memset(&k, 0, sizeof k);
    int io = m->cfg.io_channels, F = m->cfg.adp.context_embedding_features;
    k.x = ds_wrap(c, in->x, 3, (int64_t[]){g->B, io, g->T}, grad);
    k.t = ds_wrap(c, in->t, 1, (int64_t[]){g->B}, false);
    ds_cond_tensors cd;
    memset(&cd, 0, sizeof cd);
    if (in->emb) cd.cross_attn_cond = k.emb = ds_wrap(c, in->emb, 3, (int64_t[]){g->B, g->S, F}, grad);
    if (in->mask) cd.cross_attn_mask = ds_wrap(c, in->mask, 2, (int64_t[]){g->B, g->S}, false);
    if (in->neg) cd.negative_cross_attn_cond = k.neg = ds_wrap(c, in->neg, 3, (int64_t[]){g->B, g->S, F}, grad);
    if (in->neg_mask) cd.negative_cross_attn_mask = ds_wrap(c, in->neg_mask, 2, (int64_t[]){g->B, g->S}, false);
    if (in->glob) cd.global_cond = k.glob = ds_wrap(c, in->glob, 2, (int64_t[]){g->B, m->cfg.adp.context_features}, grad);
    if (in->icc) cd.input_concat_cond = k.icc = ds_wrap(c, in->icc, 3, (int64_t[]){g->B, g->icc_ch, g->icc_T}, grad);
    ds_call_opts o = ds_call_opts_default();
    o.cfg_scale = g->cfg_scale != 0.0f ? g->cfg_scale : 1.0f;
    o.batch_cfg = !two_pass;
    ds_rng rng; /* re-seeded every call: dropout and noise draws repeat exactly */
    ds_rng_init(&rng, 77);
    o.rng = &rng;
    o.cfg_dropout_prob = g->dropout;
    if (g->aug_scale >= 0.0f) {
        o.has_cond_aug_scale = true;
        o.cond_aug_scale = g->aug_scale;
    }
    k.out = ds_model_forward(m, c, k.x, k.t, &cd, &o);
    return k;
}

static double loss_of(ds_model *m, const gcase *g, inputs *in, const float *r) {
    ds_ctx c;
    ds_ctx_init(&c);
    call k = run(m, &c, g, in, false, g->two_pass);
    double L = 0;
    for (int64_t i = 0; i < ds_numel(k.out); i++) L += (double)k.out->data[i] * r[i];
    ds_ctx_free(&c);
    return L;
}

static int g_checked;

/* Central difference of L at *p against the analytic gradient ga. */
static void check_elem(ds_model *m, const gcase *g, inputs *in, const float *r, float *p, float ga, double gmax,
                       const char *what, int64_t idx) {
    /* Small groups (GroupNorm over few samples) make L strongly curved: the truncation error
     * of h = 1e-2 is visible, float32 rounding dominates below 1e-3. Two steps; the closer
     * one counts. */
    const float hs[2] = {3e-3f, 1e-3f};
    double nums[2], err = INFINITY, num = 0;
    for (int q = 0; q < 2; q++) {
        float keep = *p;
        *p = keep + hs[q];
        double lp = loss_of(m, g, in, r);
        *p = keep - hs[q];
        double lm = loss_of(m, g, in, r);
        *p = keep;
        nums[q] = (lp - lm) / (2.0 * hs[q]);
        if (fabs(nums[q] - ga) < err) err = fabs(nums[q] - ga), num = nums[q];
    }
    double tol = 2e-2 * fabs(num) + 2e-3 * gmax;
    g_checked++;
    CHECKF(err <= tol, "%s: %s[%lld]: analytic %.6g, numeric %.6g (h 3e-3) %.6g (h 1e-3), tol %.3g", g->name, what,
           (long long)idx, ga, nums[0], nums[1], tol);
}

static void gradcheck(const gcase *g) {
    ds_model *m = NULL;
    ds_err err = {0};
    ds_status s = ds_model_create(&g->cfg, &m, &err);
    CHECKF(s == DS_OK, "%s: %s", g->name, err.msg);
    if (s != DS_OK) return;
    ds_model_init_random(m, 5);
    inputs in;
    make_inputs(g, m, &in);

    /* planning pass, then the real one on the same context */
    ds_ctx c;
    ds_ctx_init(&c);
    c.grad = true;
    ds_ctx_set_dry(&c, true);
    call k = run(m, &c, g, &in, true, g->two_pass);
    ds_backward(&c, k.out, NULL);
    size_t planned = c.arena.peak;
    ds_ctx_set_dry(&c, false);
    ds_params_zero_grad(&m->params);
    k = run(m, &c, g, &in, true, g->two_pass);
    int64_t nout = ds_numel(k.out);
    float *r = randn(nout, 21, 1.0f);
    ds_backward(&c, k.out, r);
    CHECKF(c.arena.used == planned && c.arena.extra == NULL, "%s: planned %zu bytes, used %zu", g->name, planned,
           c.arena.used);
    CHECKF(k.out->shape[1] == (m->cfg.adp.out_channels ? m->cfg.adp.out_channels : m->cfg.io_channels) &&
               k.out->shape[2] == g->T,
           "%s: output shape", g->name);

    double gmax = 0;
    for (int64_t i = 0; i < m->params.range_end[DS_PG_COND]; i++) gmax = fmax(gmax, fabs(m->params.grad[i]));
    float *gx = k.x->grad ? k.x->grad : NULL;
    CHECKF(gx != NULL, "%s: no gradient for x", g->name);

    /* every trainable tensor: 2 sampled elements (the largest-gradient one and one more) */
    unsigned seed = 1;
    for (int i = 0; i < m->params.n; i++) {
        ds_param *p = m->params.items[i];
        if (p->group == DS_PG_BUFFER) continue;
        int64_t best = 0;
        for (int64_t j = 1; j < p->numel; j++)
            if (fabs(p->t.grad[j]) > fabs(p->t.grad[best])) best = j;
        seed = seed * 1103515245u + 12345u;
        int64_t other = (int64_t)(seed >> 8) % p->numel;
        check_elem(m, g, &in, r, &p->t.data[best], p->t.grad[best], gmax, p->name, best);
        if (other != best) check_elem(m, g, &in, r, &p->t.data[other], p->t.grad[other], gmax, p->name, other);
    }
    /* inputs: a few elements each (copies of the analytic gradients: c is freed below) */
    struct { const char *name; ds_tensor *t; float *data; } ins[] = {
        {"x", k.x, in.x}, {"cross_attn_cond", k.emb, in.emb}, {"global_cond", k.glob, in.glob},
        {"input_concat_cond", k.icc, in.icc}, {"negative_cross_attn_cond", k.neg, in.neg}};
    for (size_t q = 0; q < sizeof ins / sizeof *ins; q++) {
        if (!ins[q].t) continue;
        if (ins[q].t == k.neg && g->two_pass) { /* SAT's unbatched CFG ignores negative embeddings */
            CHECKF(ins[q].t->grad == NULL, "%s: the two-pass CFG used the negative embedding", g->name);
            continue;
        }
        CHECKF(ins[q].t->grad != NULL, "%s: no gradient for %s", g->name, ins[q].name);
        if (!ins[q].t->grad) continue;
        int64_t n = ds_numel(ins[q].t);
        for (int e = 0; e < 6; e++) {
            int64_t idx = (int64_t)(e * 7919 + 3) % n;
            check_elem(m, g, &in, r, &ins[q].data[idx], ins[q].t->grad[idx], gmax, ins[q].name, idx);
        }
    }
    free(r);
    ds_ctx_free(&c);
    free_inputs(&in);
    ds_model_free(m);
}

/* ---------------- cases ---------------- */

static void small_adp(ds_adp_config *a, int in, int ch) {
    tu_adp_defaults(a);
    a->in_channels = in;
    a->channels = ch;
    a->resnet_groups = 4;
    a->attention_heads = 2;
    a->attention_multiplier = 2;
}

static gcase cfg_case(const char *name) {
    gcase g;
    memset(&g, 0, sizeof g);
    g.name = name;
    g.aug_scale = -1.0f;
    ds_model_config *c = &g.cfg;
    tu_number_conditioning(c, 8, true, true);
    c->backbone = DS_BB_ADP_CFG_1D;
    c->io_channels = 2;
    return g;
}

/* The batched and the two-pass CFG give the same guided output (no negative embedding). */
static void cfg_paths_agree(gcase g) {
    ds_model *m = NULL;
    ds_err err = {0};
    CHECKF(ds_model_create(&g.cfg, &m, &err) == DS_OK, "%s: %s", g.name, err.msg);
    if (!m) return;
    ds_model_init_random(m, 9);
    g.neg = g.neg_mask = false;
    g.dropout = 0;
    inputs in;
    make_inputs(&g, m, &in);
    ds_ctx a, b;
    ds_ctx_init(&a);
    ds_ctx_init(&b);
    call ka = run(m, &a, &g, &in, false, false), kb = run(m, &b, &g, &in, false, true);
    double mx = 0, ref = 0;
    for (int64_t i = 0; i < ds_numel(ka.out); i++) {
        mx = fmax(mx, fabs(ka.out->data[i] - kb.out->data[i]));
        ref = fmax(ref, fabs(kb.out->data[i]));
    }
    CHECKF(mx <= 1e-5 * ref, "%s: batched vs two-pass CFG differ by %.3g (max %.3g)", g.name, mx, ref);
    ds_ctx_free(&a);
    ds_ctx_free(&b);
    free_inputs(&in);
    ds_model_free(m);
}

/* Configs SAT cannot run are refused at construction, naming the key. */
static void refused(const ds_model_config *cfg, ds_status want, const char *key) {
    ds_model *m = NULL;
    ds_err err = {0};
    ds_status s = ds_model_create(cfg, &m, &err);
    CHECKF(s == want && strstr(err.msg, key) != NULL, "expected status %d naming \"%s\", got %d: %s", want, key, s,
           err.msg);
    ds_model_free(m);
}

static void refusals(void) {
    static ds_model_config c;
    tu_adp_uncond_basic_config(&c);
    c.adp.use_stft = true;
    refused(&c, DS_ERR_UNSUPPORTED, "use_stft");
    tu_adp_uncond_basic_config(&c);
    c.adp.context_features = 8;
    refused(&c, DS_ERR_UNSUPPORTED, "context_features");
    tu_adp_uncond_basic_config(&c);
    c.adp.multipliers[2] = 3; /* a 48-channel bottleneck transformer: GroupNorm(32) */
    refused(&c, DS_ERR_INVALID, "attentions");
    tu_adp_uncond_basic_config(&c);
    c.adp.resnet_groups = 5;
    refused(&c, DS_ERR_INVALID, "resnet_groups");
    tu_adp_cfg_basic_config(&c);
    tu_set_list(&c.adp.n_context_channels, c.adp.context_channels, 2, (int[]){2, 2});
    refused(&c, DS_ERR_UNSUPPORTED, "context_channels");
    tu_adp_cfg_basic_config(&c);
    c.backbone = DS_BB_ADP_1D;
    refused(&c, DS_ERR_UNSUPPORTED, "context_embedding_features");
    tu_dau1d_basic_config(&c);
    c.dau1d.use_snake = true;
    refused(&c, DS_ERR_UNSUPPORTED, "use_snake");
    tu_dau1d_basic_config(&c);
    c.dau1d.strides[1] = 4;
    refused(&c, DS_ERR_INVALID, "strides[1]");
    tu_dau1d_basic_config(&c);
    c.dau1d.channels[1] = 16; /* attention on level 3 needs c_prev >= 32 for its last layer */
    c.dau1d.channels[2] = 16;
    refused(&c, DS_ERR_INVALID, "channels");
}

int main(void) {
    ds_set_threads(2);
    static gcase g;

    /* UNetCFG1d: patch 2, input concat at level 0, nearest upsampling, a factor-1 level,
     * attention_features, xattn time, masked cross-attention, no skip scale, out_channels */
    g = cfg_case("adp_cfg_patch_ctx0_nearest");
    {
        ds_adp_config *a = &g.cfg.adp;
        small_adp(a, 2, 16);
        tu_set_list(&a->n_multipliers, a->multipliers, 3, (int[]){2, 2, 2});
        tu_set_list(&a->n_factors, a->factors, 2, (int[]){1, 2});
        tu_set_list(&a->n_num_blocks, a->num_blocks, 2, (int[]){1, 1});
        tu_set_list(&a->n_attentions, a->attentions, 3, (int[]){1, 0, 1});
        tu_set_list(&a->n_context_channels, a->context_channels, 1, (int[]){3});
        a->patch_size = 2;
        a->attention_heads = 0;
        a->attention_features = 8;
        a->use_nearest_upsample = true;
        a->use_skip_scale = false;
        a->use_xattn_time = true;
        a->out_channels = 3;
        a->context_features = 6;
        a->context_embedding_features = 8;
        a->context_embedding_max_length = 4;
        a->kernel_multiplier_downsample = 4;
    }
    g.B = 2, g.T = 16, g.S = 3, g.mask = true, g.global = true, g.icc_ch = 3, g.icc_T = 16;
    gradcheck(&g);

    /* CFG 3 through the tape with a masked negative embedding (batched), input concat at
     * level 1 (no interpolation in UNetCFG1d: given at the level's length) */
    g = cfg_case("adp_cfg_negative_ctx1_cfg3");
    {
        ds_adp_config *a = &g.cfg.adp;
        small_adp(a, 2, 16);
        tu_set_list(&a->n_multipliers, a->multipliers, 3, (int[]){1, 2, 2});
        tu_set_list(&a->n_factors, a->factors, 2, (int[]){2, 2});
        tu_set_list(&a->n_num_blocks, a->num_blocks, 2, (int[]){1, 2});
        tu_set_list(&a->n_attentions, a->attentions, 3, (int[]){0, 1, 1});
        tu_set_list(&a->n_context_channels, a->context_channels, 2, (int[]){0, 4});
        a->context_embedding_features = 8;
        a->context_embedding_max_length = 3;
    }
    g.B = 2, g.T = 16, g.S = 3, g.mask = true, g.neg = true, g.neg_mask = true, g.icc_ch = 4, g.icc_T = 8;
    g.cfg.global_cond_ids.n = 0;
    g.cfg_scale = 3.0f;
    gradcheck(&g);

    cfg_paths_agree(g);

    /* the same two-pass (batch_cfg false: negative embedding ignored, as SAT) and with dropout */
    g.name = "adp_cfg_two_pass_dropout";
    g.two_pass = true;
    g.dropout = 0.5f;
    gradcheck(&g);

    /* adp_1d: global features only (no time), input concat resized by nearest from T/2 */
    g = cfg_case("adp_1d_global_icc_nearest");
    g.cfg.backbone = DS_BB_ADP_1D;
    {
        ds_adp_config *a = &g.cfg.adp;
        small_adp(a, 2, 8);
        tu_set_list(&a->n_multipliers, a->multipliers, 3, (int[]){1, 2, 4});
        tu_set_list(&a->n_factors, a->factors, 2, (int[]){2, 3});
        tu_set_list(&a->n_num_blocks, a->num_blocks, 2, (int[]){1, 1});
        tu_set_list(&a->n_attentions, a->attentions, 4, (int[]){0, 0, 0, 1});
        tu_set_list(&a->n_context_channels, a->context_channels, 1, (int[]){2});
        a->use_context_time = false;
        a->context_features = 5;
    }
    g.B = 2, g.T = 18, g.global = true, g.icc_ch = 2, g.icc_T = 9;
    gradcheck(&g);

    /* adp_uncond_1d with patch 4 */
    g = cfg_case("adp_uncond_patch4");
    tu_uncond(&g.cfg, DS_BB_ADP_UNCOND_1D, "adp_uncond_1d");
    g.cfg.io_channels = 2;
    {
        ds_adp_config *a = &g.cfg.adp;
        small_adp(a, 2, 8);
        tu_set_list(&a->n_multipliers, a->multipliers, 2, (int[]){4, 4});
        tu_set_list(&a->n_factors, a->factors, 1, (int[]){2});
        tu_set_list(&a->n_num_blocks, a->num_blocks, 1, (int[]){2});
        tu_set_list(&a->n_attentions, a->attentions, 2, (int[]){1, 1});
        a->patch_size = 4;
    }
    g.B = 2, g.T = 16;
    gradcheck(&g);

    /* DAU1d: learned resampling with strides 2 and 3, no conv bias, cond input (linear
     * resize from a shorter signal), noise augmentation with a drawn level */
    g = cfg_case("dau1d_learned_cond_aug");
    tu_uncond(&g.cfg, DS_BB_DAU1D, "DAU1d");
    {
        ds_dau1d_config *d = &g.cfg.dau1d;
        tu_dau1d_defaults(d);
        d->io_channels = 2;
        d->depth = 3;
        d->n_attn_layers = 1;
        tu_set_list(&d->n_channels, d->channels, 3, (int[]){32, 32, 64});
        tu_set_list(&d->n_strides, d->strides, 2, (int[]){2, 3});
        d->kernel_size = 3;
        d->learned_resample = true;
        d->conv_bias = false;
        d->cond_dim = 2;
        d->cond_noise_aug = true;
    }
    g.cfg.io_channels = 2;
    g.B = 2, g.T = 12, g.icc_ch = 2, g.icc_T = 5;
    gradcheck(&g);

    /* DAU1d, cubic resampling, cond with a fixed augmentation level of 0 */
    g = cfg_case("dau1d_cubic_cond");
    tu_uncond(&g.cfg, DS_BB_DAU1D, "DAU1d");
    {
        ds_dau1d_config *d = &g.cfg.dau1d;
        tu_dau1d_defaults(d);
        d->depth = 3;
        d->n_attn_layers = 0;
        tu_set_list(&d->n_channels, d->channels, 3, (int[]){8, 16, 16});
        tu_set_list(&d->n_strides, d->strides, 2, (int[]){2, 2});
        d->kernel_size = 3;
        d->cond_dim = 1;
        d->cond_noise_aug = true;
    }
    g.cfg.io_channels = 2;
    g.B = 2, g.T = 16, g.icc_ch = 1, g.icc_T = 16, g.aug_scale = 0.0f;
    gradcheck(&g);

    refusals();
    fprintf(stderr, "%d finite-difference comparisons\n", g_checked);
    return tu_finish("test_unet_grad");
}
