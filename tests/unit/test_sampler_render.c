/* ds_render with the real DiT (dit_basic's config and weights, built in C until the config
 * loader lands): every sampler of each objective runs through the backbone with CFG, the
 * call options ride along unchanged (cfg_interval, negative prompt, cfg_pp), the k path
 * feeds the backbone x·c_in and t = atan(sigma)·2/pi, memory stays flat over steps, noise
 * drawn from a seed reproduces, and errors and cancellation come back as statuses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/render.h"
#include "diffusion/schedule.h"
#include "ops/ops.h"
#include "testutil.h"

enum { B = 2, C = 4, T = 16, N = B * C * T, S_TOK = 5, DC = 32, G = 64 };

static void dit_basic_config(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    c->model_type = DS_MODEL_DIFFUSION_COND;
    c->backbone = DS_BB_DIT;
    c->objective = DS_OBJ_V;
    c->io_channels = 4;
    c->conditioning.present = true;
    c->conditioning.cond_dim = 32;
    c->conditioning.n = 2;
    const char *ids[2] = {"seconds_start", "seconds_total"};
    for (int i = 0; i < 2; i++) {
        ds_conditioner_config *k = &c->conditioning.c[i];
        snprintf(k->id, sizeof k->id, "%s", ids[i]);
        k->type = DS_COND_NUMBER;
        snprintf(k->type_name, sizeof k->type_name, "number");
        k->output_dim = 32;
        k->min_val = 0;
        k->max_val = 512;
        snprintf(c->cross_attention_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
        snprintf(c->global_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
    }
    c->cross_attention_cond_ids.n = c->global_cond_ids.n = 2;
    ds_dit_config *d = &c->dit;
    d->io_channels = 4;
    d->patch_size = 1;
    d->embed_dim = 64;
    d->depth = 2;
    d->num_heads = 2;
    d->cond_token_dim = 32;
    d->project_cond_tokens = true;
    d->global_cond_dim = 64;
    d->project_global_cond = true;
    snprintf(d->transformer_type, sizeof d->transformer_type, "continuous_transformer");
    d->rotary_pos_emb = true;
    d->zero_init_branch_outputs = true;
    d->final_cross_attn_ix = -1;
    d->ff_mult = 4;
    d->ff_glu = true;
    d->norm_eps = 1e-5;
}

static ds_model *load_model(ds_objective obj) {
    static ds_model_config cfg;
    dit_basic_config(&cfg);
    cfg.objective = obj;
    ds_model *m = NULL;
    ds_err err = {0};
    CHECKF(ds_model_create(&cfg, &m, &err) == DS_OK, "%s", err.msg);
    if (m) CHECKF(ds_model_load(m, tu_fixture("dit_basic/weights.safetensors"), true, &err) == DS_OK, "%s", err.msg);
    return m;
}

static float g_noise[N], g_init[N], g_cross[B * S_TOK * DC], g_neg[B * S_TOK * DC], g_mask[B * S_TOK], g_global[B * G];
static ds_ctx g_ctx; /* holds the conditioning tensor headers */
static ds_cond_tensors g_cond, g_cond_neg;

static void setup_inputs(void) {
    ds_rng r;
    ds_rng_init(&r, 5);
    ds_rng_normal_fill(&r, g_noise, N);
    tu_fill(g_init, N, 3);
    tu_fill(g_cross, B * S_TOK * DC, 4);
    tu_fill(g_neg, B * S_TOK * DC, 6);
    tu_fill(g_global, B * G, 5);
    for (int i = 0; i < B * S_TOK; i++) g_mask[i] = i % S_TOK < 4;
    ds_ctx_init(&g_ctx);
    int64_t cs[3] = {B, S_TOK, DC}, ms[2] = {B, S_TOK}, gs[2] = {B, G};
    g_cond.cross_attn_cond = ds_wrap(&g_ctx, g_cross, 3, cs, false);
    g_cond.cross_attn_mask = ds_wrap(&g_ctx, g_mask, 2, ms, false);
    g_cond.global_cond = ds_wrap(&g_ctx, g_global, 2, gs, false);
    g_cond_neg = g_cond;
    g_cond_neg.negative_cross_attn_cond = ds_wrap(&g_ctx, g_neg, 3, cs, false);
    g_cond_neg.negative_cross_attn_mask = g_cond.cross_attn_mask;
}

static ds_render_args args(ds_model *m, ds_sampler_kind k, int steps, float cfg) {
    ds_render_args a;
    memset(&a, 0, sizeof a);
    a.model = m;
    a.cond = &g_cond;
    a.call = ds_call_opts_generate(cfg);
    a.sampler = ds_sampler_defaults(k);
    a.sampler.steps = steps;
    a.batch = B;
    a.length = T;
    a.noise = g_noise;
    return a;
}

static bool finite_all(const float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

/* Every sampler of an objective, 5 steps, CFG 3: runs, finite, the expected number of calls. */
static void test_all_samplers(ds_model *m, ds_objective obj) {
    for (int k = 0; k < DS_SAMPLER_COUNT; k++) {
        if (!ds_sampler_fits((ds_sampler_kind)k, obj)) continue;
        ds_render_args a = args(m, (ds_sampler_kind)k, 5, 3.0f);
        ds_rng rng;
        ds_rng_init(&rng, 11);
        a.sampler.rng = &rng;
        ds_traj tr = {0};
        ds_render_stats st = {0};
        a.traj = &tr, a.stats = &st;
        float out[N];
        ds_err err = {0};
        ds_status s = ds_render(&a, out, &err);
        const char *nm = ds_sampler_name((ds_sampler_kind)k);
        CHECKF(s == DS_OK, "%s: %s", nm, err.msg);
        CHECKF(finite_all(out, N), "%s: non-finite output", nm);
        int want;
        switch (k) {
        case DS_SAMPLER_K_HEUN:
        case DS_SAMPLER_K_DPM_2:
        case DS_SAMPLER_K_DPMPP_2S_ANCESTRAL: want = 9; break;
        case DS_SAMPLER_RF_RK4: want = 20; break;
        case DS_SAMPLER_K_DPM_ADAPTIVE: want = st.model_calls - st.model_calls % 3; break;
        default: want = 5;
        }
        CHECKF(st.model_calls == want && tr.calls == want, "%s: %d calls (traj %d), want %d", nm, st.model_calls,
               tr.calls, want);
        CHECKF(st.arena_regrows <= 1, "%s: the arena grew %zu times", nm, st.arena_regrows);
        int want_steps = k == DS_SAMPLER_K_DPM_FAST ? 2 : 5; /* 5 evaluations: orders 3, 2 */
        CHECKF(k == DS_SAMPLER_K_DPM_ADAPTIVE || tr.steps == want_steps, "%s: %d callbacks", nm, tr.steps);
        ds_traj_free(&tr);
    }
}

static void render_ok(ds_render_args *a, float *out, const char *what) {
    ds_err err = {0};
    ds_status s = ds_render(a, out, &err);
    CHECKF(s == DS_OK, "%s: %s", what, err.msg);
}

static void test_memory_flat(ds_model *m) {
    ds_render_stats s5 = {0}, s20 = {0};
    float out[N];
    ds_render_args a = args(m, DS_SAMPLER_DPMPP_2M, 5, 3.0f);
    a.stats = &s5;
    render_ok(&a, out, "5 steps");
    a = args(m, DS_SAMPLER_DPMPP_2M, 20, 3.0f);
    a.stats = &s20;
    render_ok(&a, out, "20 steps");
    CHECKF(s5.arena_peak == s20.arena_peak && s20.arena_regrows <= 1, "arena peak %zu vs %zu, %zu regrows", s5.arena_peak,
           s20.arena_peak, s20.arena_regrows);
}

static void test_options_ride_along(ds_model *m) {
    float a1[N], a3[N], iv[N], neg[N], pp1[N], pp3[N];
    ds_render_args a = args(m, DS_SAMPLER_V_DDIM, 4, 1.0f);
    render_ok(&a, a1, "cfg 1");
    a = args(m, DS_SAMPLER_V_DDIM, 4, 3.0f);
    render_ok(&a, a3, "cfg 3");
    CHECK(memcmp(a1, a3, sizeof a1) != 0);
    /* cfg_interval excludes every sin(t·pi/2): the DiT skips CFG, as with cfg_scale 1 */
    a.call.cfg_interval[0] = 2.0f, a.call.cfg_interval[1] = 3.0f;
    render_ok(&a, iv, "cfg_interval");
    CHECK(memcmp(a1, iv, sizeof a1) == 0);
    /* a negative prompt replaces the null condition */
    a = args(m, DS_SAMPLER_V_DDIM, 4, 3.0f);
    a.cond = &g_cond_neg;
    render_ok(&a, neg, "negative");
    CHECK(memcmp(neg, a3, sizeof neg) != 0);
    /* cfg_pp: without CFG the uncond output is the output itself */
    a = args(m, DS_SAMPLER_V_DDIM_CFGPP, 4, 1.0f);
    render_ok(&a, pp1, "cfgpp 1");
    CHECK(memcmp(pp1, a1, sizeof a1) == 0);
    a = args(m, DS_SAMPLER_V_DDIM_CFGPP, 4, 3.0f);
    render_ok(&a, pp3, "cfgpp 3");
    CHECK(memcmp(pp3, a3, sizeof a3) != 0);
}

/* k path: the backbone sees x·c_in and t = atan(sigma)·2/pi (sat-spec pitfall 17). */
static void test_time_mapping(ds_model *m) {
    ds_render_args a = args(m, DS_SAMPLER_DPMPP_2M, 6, 3.0f);
    ds_traj tr = {0};
    a.traj = &tr;
    float out[N];
    render_ok(&a, out, "dpmpp-2m traj");
    double sig[7];
    ds_sched_polyexponential(6, 0.01, 100, 1, sig);
    for (int i = 0; i < 6 && tr.calls == 6; i++) {
        float want = (float)ds_sigma_to_vt(sig[i]);
        CHECKF(tr.model_t[i * B] == want && tr.model_t[i * B + 1] == want, "model_t[%d] = %g, want %g", i,
               tr.model_t[i * B], want);
        double cin = 1 / sqrt(sig[i] * sig[i] + 1);
        for (int k = 0; k < N; k += 17)
            CHECKF(fabs(tr.model_in[i * N + k] - tr.x[i * N + k] * (float)cin) <= 1e-6 * fabs(tr.x[i * N + k]) + 1e-30,
                   "model_in != x·c_in at step %d", i);
    }
    CHECK(fabs(tr.model_t[0] - 0.99363) < 1e-5);
    ds_traj_free(&tr);
    /* v-ddim variation: x = init·cos(sigma_max·pi/2) + noise·sin(…), first t = sigma_max */
    a = args(m, DS_SAMPLER_V_DDIM, 4, 3.0f);
    a.init = g_init;
    a.sampler.sigma_max = 0.5;
    a.traj = &tr;
    render_ok(&a, out, "variation");
    CHECK(tr.model_t[0] == 0.5f);
    double c = cos(M_PI / 4), s = sin(M_PI / 4);
    for (int k = 0; k < N; k++)
        CHECKF(fabs(tr.model_in[k] - (g_init[k] * c + g_noise[k] * s)) < 1e-6, "variation start [%d]", k);
    ds_traj_free(&tr);
}

static void test_noise_and_errors(ds_model *m, ds_model *rf) {
    float o1[N], o2[N], o3[N];
    ds_rng r1, r2, r3;
    ds_rng_init(&r1, 77), ds_rng_init(&r2, 77), ds_rng_init(&r3, 78);
    ds_render_args a = args(m, DS_SAMPLER_DPMPP_3M_SDE, 5, 3.0f);
    a.noise = NULL;
    a.sampler.rng = &r1;
    render_ok(&a, o1, "seed 77");
    a.sampler.rng = &r2;
    render_ok(&a, o2, "seed 77 again");
    a.sampler.rng = &r3;
    render_ok(&a, o3, "seed 78");
    CHECK(memcmp(o1, o2, sizeof o1) == 0 && memcmp(o1, o3, sizeof o1) != 0);
    ds_err err = {0};
    a.sampler.rng = NULL;
    CHECK(ds_render(&a, o1, &err) == DS_ERR_INVALID);
    /* a sampler of the other objective: refused with the valid list */
    a = args(m, DS_SAMPLER_RF_EULER, 5, 3.0f);
    CHECK(ds_render(&a, o1, &err) == DS_ERR_INVALID && strstr(err.msg, "dpmpp-3m-sde") && strstr(err.msg, "k-lms"));
    a = args(rf, DS_SAMPLER_V_DDIM, 5, 3.0f);
    CHECK(ds_render(&a, o1, &err) == DS_ERR_INVALID && strstr(err.msg, "pingpong"));
    /* cancel */
    atomic_int flag = 1;
    a = args(m, DS_SAMPLER_K_HEUN, 5, 3.0f);
    a.sampler.cancel = &flag;
    ds_render_stats st = {0};
    a.stats = &st;
    CHECK(ds_render(&a, o1, &err) == DS_ERR_CANCELLED && st.model_calls == 0);
}

/* The RF demo path: Euler on the linear grid with the distribution shift. */
static void test_rf_demo(ds_model *rf) {
    ds_dist_shift_config sh = {true, 0.5, 1.15, 4096, 256, false};
    ds_render_args a = args(rf, DS_SAMPLER_RF_EULER, 4, 3.0f);
    a.call = ds_call_opts_demo(3.0f);
    a.sampler.rf_grid = DS_RF_GRID_LINEAR;
    a.sampler.dist_shift = &sh;
    ds_traj tr = {0};
    a.traj = &tr;
    float out[N];
    render_ok(&a, out, "rf demo");
    for (int i = 0; i < 4 && tr.calls == 4; i++) {
        float want = (float)ds_dist_shift_time(&sh, 1.0 - i / 4.0, T);
        CHECKF(tr.model_t[i * B] == want, "demo t[%d] = %g, want %g", i, tr.model_t[i * B], want);
    }
    ds_traj_free(&tr);
}

int main(void) {
    ds_set_threads(2);
    setup_inputs();
    ds_model *m = load_model(DS_OBJ_V), *rf = load_model(DS_OBJ_RECTIFIED_FLOW);
    if (m && rf) {
        test_all_samplers(m, DS_OBJ_V);
        test_all_samplers(rf, DS_OBJ_RECTIFIED_FLOW);
        test_memory_flat(m);
        test_options_ride_along(m);
        test_time_mapping(m);
        test_noise_and_errors(m, rf);
        test_rf_demo(rf);
    }
    ds_model_free(m);
    ds_model_free(rf);
    ds_ctx_free(&g_ctx);
    return tu_finish("test_sampler_render");
}
