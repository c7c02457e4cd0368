/* Self-consistency of the DiT on options the golden fixtures do not cover (the held-back
 * cases exercise them against SAT): adaLN with prepend tokens and input concat (resized),
 * patch sizes 2 and 4, 8 heads of dim 64, grouped-query cross-attention (project_cond_tokens
 * false), batch 3, timestep_cond_type input_concat, memory tokens, qk_norm (ln, l2), layer
 * scale, FF without GLU / without bias, LayerNorm with bias, final_cross_attn_ix, absolute and
 * sinusoidal position embeddings. Configs come through the config loader, as a user's do.
 *
 *  - whole-model gradients: L = Σ out·r; the tape's dL/dθ and dL/dinput against central
 *    differences on sampled elements of every parameter tensor and input;
 *  - CFG: the batched output equals uncond + (cond − uncond)·s computed from two plain calls
 *    (zeros for cross/prepend, global kept), with a negative prompt and its mask, with
 *    scale_phi; cfg_interval outside the window gives the plain output;
 *  - masks are ignored (SAT never masks DiT attention);
 *  - condition dropout with p = 1 equals the zeroed conditions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "engine/config_doc.h"
#include "models/model.h"
#include "ops/ops.h"
#include "testutil.h"

typedef struct dcase {
    const char *name;
    const char *config; /* the "config" object of model.diffusion */
    int B, T, S, Sc, P, Pc, G, Ci, Ti;
} dcase;

static ds_model *build(const dcase *k, uint64_t seed) {
    char json[4096];
    snprintf(json, sizeof json,
             "{\"model_type\": \"diffusion_cond\", \"sample_size\": %d, \"sample_rate\": 8000,"
             " \"model\": {\"io_channels\": 3, \"conditioning\": {\"cond_dim\": 8, \"configs\": "
             "[{\"id\": \"n\", \"type\": \"number\", \"config\": {}}]},"
             " \"diffusion\": {\"type\": \"dit\", \"config\": %s}},"
             " \"training\": {\"learning_rate\": 1e-4}}",
             k->T, k->config);
    ds_config_doc *doc = NULL;
    ds_diag_list d;
    ds_diag_list_init(&d);
    ds_err err = {0};
    static ds_model_config cfg;
    bool ok = ds_config_doc_parse(json, strlen(json), k->name, &doc, &d, &err) == DS_OK &&
              ds_model_config_from_doc(doc, &cfg, &d) == DS_OK;
    for (int i = 0; i < d.n; i++)
        if (d.items[i].severity == DS_DIAG_ERROR) fprintf(stderr, "%s: %s: %s\n", k->name, d.items[i].path, d.items[i].message);
    ds_diag_list_free(&d);
    ds_config_doc_free(doc);
    CHECKF(ok, "%s: config did not load", k->name);
    if (!ok) return NULL;
    ds_model *m = NULL;
    CHECKF(ds_model_create(&cfg, &m, &err) == DS_OK, "%s: %s", k->name, err.msg);
    if (!m) return NULL;
    ds_model_init_random(m, seed);
    /* zero-initialised branches would hide gradients: give every parameter a value */
    for (int64_t i = 0; i < m->params.range_end[DS_PG_COND]; i++) {
        float r;
        tu_fill(&r, 1, (unsigned)(i * 7 + seed));
        if (m->params.data[i] == 0.0f) m->params.data[i] = 0.2f * r;
    }
    return m;
}

typedef struct inputs {
    float *x, *t, *cross, *glob, *pre, *icc, *neg, *negmask, *mask;
} inputs;

static float *rnd(int64_t n, unsigned seed) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    tu_fill(p, n, seed);
    return p;
}

static void make(const dcase *k, inputs *in) {
    memset(in, 0, sizeof *in);
    in->x = rnd((int64_t)k->B * 3 * k->T, 1);
    in->t = rnd(k->B, 2);
    for (int b = 0; b < k->B; b++) in->t[b] = 0.3f + 0.3f * (in->t[b] + 1.0f);
    if (k->S) in->cross = rnd((int64_t)k->B * k->S * k->Sc, 3), in->neg = rnd((int64_t)k->B * k->S * k->Sc, 8);
    if (k->S) {
        in->negmask = rnd((int64_t)k->B * k->S, 9);
        in->mask = calloc((size_t)(k->B * k->S), sizeof(float)); /* all masked: must not matter */
        for (int i = 0; i < k->B * k->S; i++) in->negmask[i] = in->negmask[i] > 0 ? 1.0f : 0.0f;
    }
    if (k->G) in->glob = rnd((int64_t)k->B * k->G, 4);
    if (k->P) in->pre = rnd((int64_t)k->B * k->P * k->Pc, 5);
    if (k->Ci) in->icc = rnd((int64_t)k->B * k->Ci * k->Ti, 6);
}

static void unmake(inputs *in) {
    free(in->x), free(in->t), free(in->cross), free(in->glob), free(in->pre), free(in->icc), free(in->neg);
    free(in->negmask), free(in->mask);
}

typedef struct call {
    ds_tensor *x, *cross, *glob, *pre, *icc, *out;
} call;

static call run(ds_model *m, ds_ctx *c, const dcase *k, inputs *in, bool grad, const ds_call_opts *o, bool zero_ctx,
                bool masks, bool negative) {
    call r;
    memset(&r, 0, sizeof r);
    c->grad = grad;
    r.x = ds_wrap(c, in->x, 3, (int64_t[]){k->B, 3, k->T}, grad);
    ds_tensor *t = ds_wrap(c, in->t, 1, (int64_t[]){k->B}, false);
    ds_cond_tensors ct;
    memset(&ct, 0, sizeof ct);
    float *zc = NULL, *zp = NULL;
    if (k->S) {
        float *src = in->cross;
        if (zero_ctx) src = zc = calloc((size_t)(k->B * k->S * k->Sc), sizeof(float));
        r.cross = ct.cross_attn_cond = ds_wrap(c, src, 3, (int64_t[]){k->B, k->S, k->Sc}, grad && !zero_ctx);
        if (masks) ct.cross_attn_mask = ds_wrap(c, in->mask, 2, (int64_t[]){k->B, k->S}, false);
        if (negative) {
            ct.negative_cross_attn_cond = ds_wrap(c, in->neg, 3, (int64_t[]){k->B, k->S, k->Sc}, false);
            ct.negative_cross_attn_mask = ds_wrap(c, in->negmask, 2, (int64_t[]){k->B, k->S}, false);
        }
    }
    if (k->G) r.glob = ct.global_cond = ds_wrap(c, in->glob, 2, (int64_t[]){k->B, k->G}, grad);
    if (k->P) {
        float *src = in->pre;
        if (zero_ctx) src = zp = calloc((size_t)(k->B * k->P * k->Pc), sizeof(float));
        r.pre = ct.prepend_cond = ds_wrap(c, src, 3, (int64_t[]){k->B, k->P, k->Pc}, grad && !zero_ctx);
        if (masks) ct.prepend_cond_mask = ds_wrap(c, in->mask, 2, (int64_t[]){k->B, k->P}, false);
    }
    if (k->Ci) r.icc = ct.input_concat_cond = ds_wrap(c, in->icc, 3, (int64_t[]){k->B, k->Ci, k->Ti}, grad);
    r.out = ds_model_forward(m, c, r.x, t, &ct, o);
    /* zeroed inputs are only used without gradients: the forward has consumed them */
    free(zc);
    free(zp);
    return r;
}

static double loss_of(ds_model *m, const dcase *k, inputs *in, const float *r) {
    ds_ctx c;
    ds_ctx_init(&c);
    ds_call_opts o = ds_call_opts_default();
    call cl = run(m, &c, k, in, false, &o, false, false, false);
    double L = 0;
    for (int64_t i = 0; i < ds_numel(cl.out); i++) L += (double)cl.out->data[i] * r[i];
    ds_ctx_free(&c);
    return L;
}

/* Central difference of L at one element; compared against the tape's gradient. */
static void check_elem(ds_model *m, const dcase *k, inputs *in, const float *r, float *p, float ga, double scale,
                       const char *what, int64_t idx, double *worst) {
    float keep = *p;
    const float h = 1e-2f * (fabsf(keep) > 1 ? fabsf(keep) : 1);
    *p = keep + h;
    double lp = loss_of(m, k, in, r);
    *p = keep - h;
    double lm = loss_of(m, k, in, r);
    *p = keep;
    double num = (lp - lm) / (2.0 * h), e = fabs(num - ga) / scale;
    if (e > *worst) *worst = e;
    if (e > 2e-2) CHECKF(false, "%s: %s[%lld]: analytic %.6g numeric %.6g", k->name, what, (long long)idx, ga, num);
}

static void gradcheck(const dcase *k) {
    ds_model *m = build(k, 17);
    if (!m) return;
    inputs in;
    make(k, &in);
    ds_ctx c;
    ds_ctx_init(&c);
    ds_call_opts o = ds_call_opts_default();
    ds_params_zero_grad(&m->params);
    call cl = run(m, &c, k, &in, true, &o, false, false, false);
    int64_t n = ds_numel(cl.out);
    float *r = rnd(n, 77);
    ds_backward(&c, cl.out, r);
    double gmax = 1e-3;
    for (int64_t i = m->params.range_begin[DS_PG_BACKBONE]; i < m->params.range_end[DS_PG_BACKBONE]; i++)
        gmax = fmax(gmax, fabs(m->params.grad[i]));
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < m->params.n; i++) {
        ds_param *e = m->params.items[i];
        if (e->group != DS_PG_BACKBONE) continue;
        for (int s = 0; s < 3; s++) {
            int64_t j = (int64_t)((unsigned)(s * 2654435761u + (unsigned)i * 40503u) % (unsigned)e->numel);
            check_elem(m, k, &in, r, e->t.data + j, e->t.grad[j], gmax, e->name, j, &worst);
            checked++;
        }
    }
    ds_tensor *ins[] = {cl.x, cl.cross, cl.glob, cl.pre, cl.icc};
    float *bufs[] = {in.x, in.cross, in.glob, in.pre, in.icc};
    const char *names[] = {"x", "cross_attn_cond", "global_cond", "prepend_cond", "input_concat_cond"};
    for (int q = 0; q < 5; q++) {
        if (!ins[q]) continue;
        CHECKF(ins[q]->grad != NULL, "%s: no gradient for %s", k->name, names[q]);
        if (!ins[q]->grad) continue;
        for (int s = 0; s < 4; s++) {
            int64_t j = (int64_t)((unsigned)(s * 2246822519u + (unsigned)q * 3266489917u) % (unsigned)ds_numel(ins[q]));
            check_elem(m, k, &in, r, bufs[q] + j, ins[q]->grad[j], gmax, names[q], j, &worst);
            checked++;
        }
    }
    fprintf(stderr, "%s: %d elements, worst |analytic - numeric| / max|grad| = %.2e\n", k->name, checked, worst);
    free(r);
    ds_ctx_free(&c);
    unmake(&in);
    ds_model_free(m);
}

static double maxdiff(const ds_tensor *a, const ds_tensor *b) {
    double d = 0;
    for (int64_t i = 0; i < ds_numel(a); i++) d = fmax(d, fabs((double)a->data[i] - b->data[i]));
    return d;
}

static void cfg_checks(const dcase *k) {
    ds_model *m = build(k, 23);
    if (!m) return;
    inputs in;
    make(k, &in);
    ds_ctx c;
    ds_ctx_init(&c);
    ds_call_opts plain = ds_call_opts_default();
    ds_tensor *cond = run(m, &c, k, &in, false, &plain, false, false, false).out;
    ds_tensor *masked = run(m, &c, k, &in, false, &plain, false, true, false).out;
    CHECKF(maxdiff(cond, masked) == 0.0, "%s: masks changed the output (SAT ignores them)", k->name);
    ds_tensor *uncond = run(m, &c, k, &in, false, &plain, true, false, false).out;
    ds_call_opts o = ds_call_opts_default();
    o.cfg_scale = 3.0f;
    ds_tensor *cfg = run(m, &c, k, &in, false, &o, false, false, false).out;
    double worst = 0, ref = 0;
    for (int64_t i = 0; i < ds_numel(cfg); i++) {
        double want = uncond->data[i] + (cond->data[i] - uncond->data[i]) * 3.0;
        worst = fmax(worst, fabs(cfg->data[i] - want));
        ref = fmax(ref, fabs(want));
    }
    CHECKF(worst <= 1e-5 * ref, "%s: batched CFG vs two plain calls: %.3g (max %.3g)", k->name, worst, ref);
    /* cfg_interval that excludes sigma(t[0]) (t >= 0.3 here, sigma >= 0.45): no guidance */
    o.cfg_interval[0] = 0.0f, o.cfg_interval[1] = 0.1f;
    ds_tensor *outside = run(m, &c, k, &in, false, &o, false, false, false).out;
    CHECKF(maxdiff(outside, cond) <= 1e-6, "%s: cfg_interval did not switch guidance off", k->name);
    /* scale_phi: phi·cfg·(std(cond)/std(cfg)) + (1 − phi)·cfg with the unbiased std over channels */
    o = ds_call_opts_default();
    o.cfg_scale = 3.0f;
    o.has_scale_phi = true;
    o.scale_phi = 0.7f;
    ds_tensor *resc = run(m, &c, k, &in, false, &o, false, false, false).out;
    int64_t B = k->B, C = 3, T = k->T;
    worst = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            double sc = 0, sg = 0, mc = 0, mg = 0, g[3];
            for (int ch = 0; ch < C; ch++) {
                int64_t i = (b * C + ch) * T + t;
                g[ch] = uncond->data[i] + (cond->data[i] - uncond->data[i]) * 3.0;
                mc += cond->data[i] / C, mg += g[ch] / C;
            }
            for (int ch = 0; ch < C; ch++) {
                int64_t i = (b * C + ch) * T + t;
                sc += (cond->data[i] - mc) * (cond->data[i] - mc), sg += (g[ch] - mg) * (g[ch] - mg);
            }
            double ratio = sqrt(sc / (C - 1)) / sqrt(sg / (C - 1));
            for (int ch = 0; ch < C; ch++) {
                double want = 0.7 * g[ch] * ratio + 0.3 * g[ch];
                worst = fmax(worst, fabs(resc->data[(b * C + ch) * T + t] - want) / (fabs(want) + 1));
            }
        }
    CHECKF(worst <= 1e-4, "%s: scale_phi rescale off by %.3g", k->name, worst);
    /* negative prompt: its masked-out positions become 0, then it replaces the zero condition */
    if (k->S) {
        o = ds_call_opts_default();
        o.cfg_scale = 2.0f;
        ds_tensor *neg = run(m, &c, k, &in, false, &o, false, false, true).out;
        float *keep = in.cross;
        float *nc = malloc((size_t)(k->B * k->S * k->Sc) * sizeof(float));
        for (int64_t i = 0; i < (int64_t)k->B * k->S * k->Sc; i++) nc[i] = in.neg[i] * in.negmask[i / k->Sc];
        /* the unconditional half: the negative cross tokens, and zeros for prepend tokens */
        float *keep_pre = in.pre, *zp = k->P ? calloc((size_t)(k->B * k->P * k->Pc), sizeof(float)) : NULL;
        in.cross = nc;
        in.pre = zp;
        ds_tensor *negout = run(m, &c, k, &in, false, &plain, false, false, false).out;
        in.cross = keep;
        in.pre = keep_pre;
        free(zp);
        worst = 0, ref = 0;
        for (int64_t i = 0; i < ds_numel(neg); i++) {
            double want = negout->data[i] + (cond->data[i] - negout->data[i]) * 2.0;
            worst = fmax(worst, fabs(neg->data[i] - want));
            ref = fmax(ref, fabs(want));
        }
        CHECKF(worst <= 1e-5 * ref, "%s: negative prompt CFG off by %.3g", k->name, worst);
        free(nc);
    }
    /* dropout p = 1: every item's cross/prepend tokens zeroed, global kept */
    o = ds_call_opts_default();
    o.cfg_dropout_prob = 1.0f;
    ds_rng rng;
    ds_rng_init(&rng, 1);
    o.rng = &rng;
    ds_tensor *dropped = run(m, &c, k, &in, false, &o, false, false, false).out;
    CHECKF(maxdiff(dropped, uncond) == 0.0, "%s: dropout p=1 differs from zeroed conditions", k->name);
    ds_ctx_free(&c);
    unmake(&in);
    ds_model_free(m);
}

int main(void) {
    ds_set_threads(2);
    static const dcase cases[] = {
        {"adaln_prepend_concat_patch2_batch3",
         "{\"io_channels\": 3, \"patch_size\": 2, \"embed_dim\": 64, \"depth\": 2, \"num_heads\": 2, \"cond_token_dim\": 8,"
         " \"global_cond_dim\": 6, \"prepend_cond_dim\": 5, \"input_concat_dim\": 2, \"global_cond_type\": \"adaLN\"}",
         3, 8, 3, 8, 2, 5, 6, 2, 5},
        {"patch4_8heads_dim64",
         "{\"io_channels\": 3, \"patch_size\": 4, \"embed_dim\": 512, \"depth\": 1, \"num_heads\": 8, \"cond_token_dim\": 8,"
         " \"global_cond_dim\": 4}",
         2, 16, 2, 8, 0, 0, 4, 0, 0},
        {"grouped_cross_attention",
         "{\"io_channels\": 3, \"embed_dim\": 128, \"depth\": 1, \"num_heads\": 4, \"cond_token_dim\": 64,"
         " \"project_cond_tokens\": false, \"global_cond_dim\": 128, \"project_global_cond\": false}",
         2, 6, 3, 64, 0, 0, 128, 0, 0},
        {"timestep_input_concat_memory_qkln_layerscale",
         "{\"io_channels\": 3, \"embed_dim\": 64, \"depth\": 2, \"num_heads\": 2, \"cond_token_dim\": 8,"
         " \"timestep_cond_type\": \"input_concat\", \"timestep_embed_dim\": 4, \"num_memory_tokens\": 2,"
         " \"attn_kwargs\": {\"qk_norm\": \"ln\"}, \"layer_scale\": true, \"final_cross_attn_ix\": 0,"
         " \"norm_kwargs\": {\"bias\": true, \"eps\": 1e-6}, \"ff_kwargs\": {\"glu\": false, \"mult\": 2}}",
         2, 6, 2, 8, 0, 0, 0, 0, 0},
        {"qk_l2_abs_pos_nobias",
         "{\"io_channels\": 3, \"embed_dim\": 64, \"depth\": 1, \"num_heads\": 2, \"cond_token_dim\": 8,"
         " \"global_cond_dim\": 4, \"attn_kwargs\": {\"qk_norm\": \"l2\"}, \"use_abs_pos_emb\": true,"
         " \"abs_pos_emb_max_length\": 32, \"ff_kwargs\": {\"no_bias\": true}}",
         2, 6, 2, 8, 0, 0, 4, 0, 0},
        {"sinusoidal_pos_emb",
         "{\"io_channels\": 3, \"embed_dim\": 64, \"depth\": 1, \"num_heads\": 2, \"global_cond_dim\": 4,"
         " \"use_sinusoidal_emb\": true, \"prepend_cond_dim\": 3}",
         2, 6, 0, 0, 2, 3, 4, 0, 0},
    };
    int n = (int)(sizeof cases / sizeof *cases);
    for (int i = 0; i < n; i++) gradcheck(&cases[i]);
    for (int i = 0; i < n; i++)
        if (cases[i].S || cases[i].P) cfg_checks(&cases[i]);
    return tu_finish("test_dit_grad");
}
