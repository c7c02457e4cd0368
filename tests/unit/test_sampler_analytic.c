/* Samplers on analytic Gaussian data (gauss_model.h), no network:
 *   - every deterministic sampler converges to the exact probability-flow ODE end point as
 *     steps grow (k-dpm-fast / k-dpm-adaptive to the sigma_min point: they never denoise);
 *   - every stochastic sampler produces the data distribution (mean MU, std S);
 *   - determinism: one seed reproduces a render bit for bit, another seed changes it;
 *   - the cancel flag stops between steps; bad parameters and non-finite models fail cleanly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gauss_model.h"
#include "testutil.h"

enum { B = 2, C = 2, T = 16, N = B * C * T };

static float g_noise[N];

/* End point of the exact ODE for start noise z (k family: x_T = sigma_max·z). */
static double exact_end(ds_sampler_kind k, double z, double smin, double smax) {
    switch (ds_sampler_family_of(k)) {
    case DS_SFAM_K: {
        double xT = z * (float)smax;
        double end = (k == DS_SAMPLER_K_DPM_FAST || k == DS_SAMPLER_K_DPM_ADAPTIVE) ? smin : 0.0;
        return MU + (xT - MU) * sqrt((S * S + end * end) / (S * S + smax * smax));
    }
    default: return MU + S * z;
    }
}

static double run_err(ds_sampler_kind k, int steps, int *calls) {
    ds_sampler_params p = ds_sampler_defaults(k);
    p.steps = steps;
    gauss_ctx g = {N, 0, 0};
    float out[N];
    ds_err err = {0};
    ds_status s;
    if (ds_sampler_family_of(k) == DS_SFAM_K) {
        ds_denoiser d = {gauss_den_call, &g};
        s = ds_sample_k(&d, &p, B, C, T, g_noise, NULL, out, &err);
    } else {
        ds_model_fn f = {ds_sampler_family_of(k) == DS_SFAM_V ? gauss_v_call : gauss_rf_call, &g};
        s = ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err);
    }
    CHECKF(s == DS_OK, "%s: %s", ds_sampler_name(k), err.msg);
    double e = 0;
    for (int i = 0; i < N; i++) e = fmax(e, fabs(out[i] - exact_end(k, g_noise[i], p.sigma_min, p.sigma_max)));
    if (calls) *calls = g.calls;
    return e;
}

static double run_err_grid(ds_sampler_kind k, ds_rf_grid grid, int steps) {
    ds_sampler_params p = ds_sampler_defaults(k);
    p.steps = steps;
    p.rf_grid = grid;
    gauss_ctx g = {N, 0, 0};
    ds_model_fn f = {gauss_rf_call, &g};
    float out[N];
    ds_err err = {0};
    CHECKF(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_OK, "%s", err.msg);
    double e = 0;
    for (int i = 0; i < N; i++) e = fmax(e, fabs(out[i] - (MU + S * g_noise[i])));
    return e;
}

static void test_convergence(void) {
    /* order: the error ratio from 24 to 96 steps must reach 4^order / 2 (float floor 1e-6) */
    static const struct {
        ds_sampler_kind k;
        ds_rf_grid grid;
        int order;
        double tol; /* max error at 96 steps */
    } cases[] = {
        {DS_SAMPLER_DPMPP_2M, 0, 2, 2e-3},
        {DS_SAMPLER_K_HEUN, 0, 2, 4e-3},
        {DS_SAMPLER_K_DPM_2, 0, 2, 2e-3},
        {DS_SAMPLER_K_LMS, 0, 2, 1e-3}, /* order 4, limited by the start-up steps */
        {DS_SAMPLER_K_DPM_FAST, 0, 3, 2e-4},
        {DS_SAMPLER_V_DDIM, 0, 1, 3e-2},
        {DS_SAMPLER_V_DDIM_CFGPP, 0, 1, 3e-2}, /* no CFG in the model: = v-ddim */
        {DS_SAMPLER_RF_EULER, DS_RF_GRID_LINEAR, 1, 3e-2},
        {DS_SAMPLER_RF_DPMPP, DS_RF_GRID_LINEAR, 2, 1e-3},
        {DS_SAMPLER_RF_RK4, DS_RF_GRID_AUTO, 4, 1e-5},
    };
    const int steps[3] = {6, 24, 96};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ds_sampler_kind k = cases[c].k;
        double e[3];
        for (int j = 0; j < 3; j++)
            e[j] = ds_sampler_family_of(k) == DS_SFAM_RF ? run_err_grid(k, cases[c].grid, steps[j])
                                                         : run_err(k, steps[j], NULL);
        fprintf(stderr, "  %-22s max error at %d/%d/%d steps: %.2e %.2e %.2e\n", ds_sampler_name(k), steps[0], steps[1],
                steps[2], e[0], e[1], e[2]);
        double want_ratio = pow(4.0, cases[c].order) / 2;
        CHECKF(e[2] < e[0] && (e[1] / e[2] >= want_ratio || e[2] < 1e-6), "%s does not converge at order %d: %.3g %.3g %.3g",
               ds_sampler_name(k), cases[c].order, e[0], e[1], e[2]);
        CHECKF(e[2] < cases[c].tol, "%s: error %.3g at %d steps (want < %.1g)", ds_sampler_name(k), e[2], steps[2],
               cases[c].tol);
    }
    /* SAT's logSNR grid ends with one step from sigmoid(−2) = 0.119 to 0, so euler and
     * dpmpp keep an error floor there (dpmpp returns the x0 estimate at t = 0.119). */
    double e_log = run_err_grid(DS_SAMPLER_RF_DPMPP, DS_RF_GRID_LOGSNR, 96);
    CHECKF(e_log > 1e-2 && e_log < 5e-2, "dpmpp on the logSNR grid: error %.3g", e_log);
}

static void test_adaptive(void) {
    int calls = 0;
    double e = run_err(DS_SAMPLER_K_DPM_ADAPTIVE, 100, &calls);
    fprintf(stderr, "  k-dpm-adaptive (rtol = atol = 0.01): max error %.2e with %d evaluations\n", e, calls);
    CHECKF(e < 0.05, "k-dpm-adaptive error %.3g", e);
    CHECKF(calls > 0 && calls % 3 == 0, "k-dpm-adaptive: %d evaluations (3 per attempt)", calls);
    /* tighter tolerances: more work, less error */
    ds_sampler_params p = ds_sampler_defaults(DS_SAMPLER_K_DPM_ADAPTIVE);
    p.rtol = p.atol = 1e-4;
    gauss_ctx g = {N, 0, 0};
    ds_denoiser d = {gauss_den_call, &g};
    float out[N];
    ds_err err = {0};
    CHECK(ds_sample_k(&d, &p, B, C, T, g_noise, NULL, out, &err) == DS_OK);
    double e2 = 0;
    for (int i = 0; i < N; i++) e2 = fmax(e2, fabs(out[i] - exact_end(p.kind, g_noise[i], p.sigma_min, p.sigma_max)));
    fprintf(stderr, "  k-dpm-adaptive (1e-4): max error %.2e with %d evaluations\n", e2, g.calls);
    CHECKF(e2 < e && g.calls > calls && e2 < 2e-3, "adaptive at 1e-4: %.3g (%d calls)", e2, g.calls);
}

/* Exact std of what v-ddim (eta) and pingpong produce from this Gaussian data: the model
 * is affine in x, so each step maps (mean, variance) affinely; fresh noise adds variance.
 * (Pingpong is meant for distilled models: with a posterior-mean denoiser it shrinks the
 * variance; v-ddim with eta 1 is only first-order accurate.) */
static double expected_std(ds_sampler_kind k, int steps, double eta) {
    double V = 1.0, out = 0;
    if (k == DS_SAMPLER_V_DDIM) {
        for (int i = 0; i < steps; i++) {
            double t = 1.0 - (double)i / steps, a = cos(t * M_PI / 2), s = sin(t * M_PI / 2);
            double c1 = s * a * (1 - S * S) / (a * a * S * S + s * s); /* v = c1·x + c0 */
            double P1 = a - s * c1, E1 = s + a * c1;                   /* pred, eps slopes */
            out = P1 * P1 * V;
            if (i == steps - 1) break;
            double tn = 1.0 - (double)(i + 1) / steps, an = cos(tn * M_PI / 2), sn = sin(tn * M_PI / 2);
            double ds = eta * sqrt(sn * sn / (s * s)) * sqrt(1 - a * a / (an * an)), adj = sqrt(sn * sn - ds * ds);
            double K1 = P1 * an + E1 * adj;
            V = K1 * K1 * V + ds * ds;
        }
    } else { /* pingpong on the logSNR grid */
        double t[256];
        for (int i = 0; i <= steps; i++) t[i] = 1 / (1 + exp(-6.0 + 8.0 * i / steps));
        t[0] = 1, t[steps] = 0;
        for (int i = 0; i < steps; i++) {
            double a = 1 - t[i], c1 = (t[i] - a * S * S) / (a * a * S * S + t[i] * t[i]); /* v = c1·x + c0 */
            double D1 = 1 - t[i] * c1, tn = t[i + 1];
            V = (1 - tn) * (1 - tn) * D1 * D1 * V + tn * tn;
        }
        out = V;
    }
    return sqrt(out);
}

/* Stochastic samplers: many independent values, their empirical mean and std. The SDE
 * samplers are exact in the limit; at 50 steps they are within 2 %. */
static void test_distribution(void) {
    enum { M = 40000 };
    static float noise[M], out[M];
    ds_rng r0;
    ds_rng_init(&r0, 7);
    ds_rng_normal_fill(&r0, noise, M);
    static const struct {
        ds_sampler_kind k;
        double eta;
    } cases[] = {
        {DS_SAMPLER_DPMPP_3M_SDE, 1}, {DS_SAMPLER_DPMPP_2M_SDE, 1},        {DS_SAMPLER_K_DPMPP_2S_ANCESTRAL, 1},
        {DS_SAMPLER_V_DDIM, 1},       {DS_SAMPLER_V_DDIM, 0.5}, {DS_SAMPLER_RF_PINGPONG, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ds_sampler_params p = ds_sampler_defaults(cases[c].k);
        p.steps = 50;
        p.eta = cases[c].eta;
        ds_rng rng;
        ds_rng_init(&rng, 99);
        p.rng = &rng;
        gauss_ctx g = {M, 0, 0};
        ds_err err = {0};
        ds_status s;
        if (ds_sampler_family_of(p.kind) == DS_SFAM_K) {
            ds_denoiser d = {gauss_den_call, &g};
            s = ds_sample_k(&d, &p, 1, 1, M, noise, NULL, out, &err);
        } else {
            ds_model_fn f = {p.kind == DS_SAMPLER_RF_PINGPONG ? gauss_rf_call : gauss_v_call, &g};
            s = ds_sample(&f, &p, 1, 1, M, noise, NULL, out, &err);
        }
        CHECKF(s == DS_OK, "%s: %s", ds_sampler_name(p.kind), err.msg);
        double m = 0, v = 0, corr = 0;
        for (int i = 0; i < M; i++) m += out[i];
        m /= M;
        for (int i = 0; i < M; i++) v += (out[i] - m) * (out[i] - m), corr += (out[i] - m) * noise[i];
        double sd = sqrt(v / (M - 1));
        corr /= sqrt(v) * sqrt((double)M);
        bool sde = ds_sampler_family_of(p.kind) == DS_SFAM_K;
        double want = sde ? S : expected_std(p.kind, p.steps, p.eta), tol = sde ? 0.02 : 0.012;
        fprintf(stderr, "  %-22s eta %g: mean %.4f std %.4f (want %.2f, %.4f), corr with start noise %.3f\n",
                ds_sampler_name(p.kind), p.eta, m, sd, MU, want, corr);
        CHECKF(fabs(m - MU) < 0.02, "%s mean %.4f", ds_sampler_name(p.kind), m);
        CHECKF(fabs(sd / want - 1) < tol, "%s std %.4f, want %.4f", ds_sampler_name(p.kind), sd, want);
        CHECKF(corr < 0.99, "%s: fresh noise has no effect (corr %.3f)", ds_sampler_name(p.kind), corr);
    }
}

static ds_status sample_seeded(ds_sampler_kind k, uint64_t seed, float *out, ds_err *err) {
    ds_sampler_params p = ds_sampler_defaults(k);
    p.steps = 12;
    ds_rng rng;
    ds_rng_init(&rng, seed);
    p.rng = &rng;
    gauss_ctx g = {N, 0, 0};
    ds_model_fn f = {ds_sampler_family_of(k) == DS_SFAM_RF ? gauss_rf_call : gauss_v_call, &g};
    return ds_sample(&f, &p, B, C, T, g_noise, NULL, out, err);
}

static void test_determinism(void) {
    const ds_sampler_kind ks[] = {DS_SAMPLER_DPMPP_3M_SDE, DS_SAMPLER_DPMPP_2M_SDE, DS_SAMPLER_K_DPMPP_2S_ANCESTRAL,
                                  DS_SAMPLER_RF_PINGPONG, DS_SAMPLER_DPMPP_2M};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        float a[N], b[N], c[N];
        ds_err err = {0};
        CHECK(sample_seeded(ks[i], 42, a, &err) == DS_OK);
        CHECK(sample_seeded(ks[i], 42, b, &err) == DS_OK);
        CHECK(sample_seeded(ks[i], 43, c, &err) == DS_OK);
        CHECKF(memcmp(a, b, sizeof a) == 0, "%s: same seed, different output", ds_sampler_name(ks[i]));
        bool differ = memcmp(a, c, sizeof a) != 0;
        if (ks[i] == DS_SAMPLER_DPMPP_2M)
            CHECKF(!differ, "deterministic dpmpp-2m depends on the seed");
        else
            CHECKF(differ, "%s: another seed, same output", ds_sampler_name(ks[i]));
    }
}

typedef struct cancel_ctx {
    atomic_int flag;
    int at, seen;
} cancel_ctx;

static void cancel_at(void *u, const ds_sample_step *s) {
    cancel_ctx *c = u;
    c->seen++;
    if (s->i == c->at) atomic_store(&c->flag, 1);
}

static void test_cancel(void) {
    static const struct {
        ds_sampler_kind k;
        int calls_through_step3; /* model calls of steps 0..3 */
    } cases[] = {{DS_SAMPLER_DPMPP_2M, 4}, {DS_SAMPLER_K_HEUN, 8}, {DS_SAMPLER_V_DDIM, 4}, {DS_SAMPLER_RF_RK4, 16},
                 {DS_SAMPLER_K_DPM_FAST, 12}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ds_sampler_params p = ds_sampler_defaults(cases[c].k);
        p.steps = 30;
        cancel_ctx cc = {0, 3, 0};
        p.on_step = cancel_at, p.user = &cc, p.cancel = &cc.flag;
        gauss_ctx g = {N, 0, 0};
        ds_model_fn f = {ds_sampler_family_of(p.kind) == DS_SFAM_RF ? gauss_rf_call : gauss_v_call, &g};
        float out[N];
        ds_err err = {0};
        ds_status s = ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err);
        CHECKF(s == DS_ERR_CANCELLED, "%s: status %d", ds_sampler_name(p.kind), s);
        CHECKF(g.calls == cases[c].calls_through_step3 && cc.seen == 4, "%s: %d calls, %d callbacks after cancel at step 3",
               ds_sampler_name(p.kind), g.calls, cc.seen);
        CHECK(strstr(err.msg, "cancelled") != NULL);
    }
    /* set before the start: no model call at all */
    ds_sampler_params p = ds_sampler_defaults(DS_SAMPLER_DPMPP_3M_SDE);
    atomic_int flag = 1;
    p.cancel = &flag;
    ds_rng rng;
    ds_rng_init(&rng, 1);
    p.rng = &rng;
    gauss_ctx g = {N, 0, 0};
    ds_model_fn f = {gauss_v_call, &g};
    float out[N];
    ds_err err = {0};
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_CANCELLED && g.calls == 0);
}

static ds_status nan_call(void *u, const float *x, const float *t, float *out, float *unc, ds_err *err) {
    (void)u, (void)x, (void)t, (void)unc, (void)err;
    for (int i = 0; i < N; i++) out[i] = i == 5 ? NAN : 0.0f;
    return DS_OK;
}

static ds_status failing_call(void *u, const float *x, const float *t, float *out, float *unc, ds_err *err) {
    (void)u, (void)x, (void)t, (void)out, (void)unc;
    return ds_err_set(err, DS_ERR_DEVICE, "device lost");
}

static void test_errors(void) {
    float out[N];
    ds_err err = {0};
    gauss_ctx g = {N, 0, 0};
    ds_model_fn f = {gauss_v_call, &g};
    ds_sampler_params p = ds_sampler_defaults(DS_SAMPLER_DPMPP_2M);
    p.steps = 0;
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_INVALID && strstr(err.msg, "steps"));
    p = ds_sampler_defaults(DS_SAMPLER_DPMPP_2M);
    p.sigma_min = 0;
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_INVALID && strstr(err.msg, "sigma_min"));
    p.sigma_min = 0.5, p.sigma_max = 0.2; /* a variation's init_noise_level below sigma_min */
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, g_noise, out, &err) == DS_ERR_INVALID && strstr(err.msg, "init_noise_level"));
    p = ds_sampler_defaults(DS_SAMPLER_DPMPP_3M_SDE); /* stochastic, no rng */
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_INVALID && strstr(err.msg, "random"));
    p.eta = 0; /* eta 0: the SDE sampler is deterministic and needs none */
    CHECK(ds_sample(&f, &p, B, C, T, g_noise, NULL, out, &err) == DS_OK);
    p = ds_sampler_defaults(DS_SAMPLER_V_DDIM);
    ds_model_fn fn = {nan_call, NULL};
    CHECK(ds_sample(&fn, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_NUMERIC);
    ds_model_fn ff = {failing_call, NULL};
    CHECK(ds_sample(&ff, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_DEVICE && strstr(err.msg, "device lost"));
    p = ds_sampler_defaults(DS_SAMPLER_K_DPM_ADAPTIVE);
    CHECK(ds_sample(&ff, &p, B, C, T, g_noise, NULL, out, &err) == DS_ERR_DEVICE);
    ds_sampler_params q = ds_sampler_defaults(DS_SAMPLER_RF_EULER);
    ds_denoiser d = {gauss_den_call, &g};
    CHECK(ds_sample_k(&d, &q, B, C, T, g_noise, NULL, out, &err) == DS_ERR_INVALID);
}

int main(void) {
    ds_rng r;
    ds_rng_init(&r, 2024);
    ds_rng_normal_fill(&r, g_noise, N);
    test_convergence();
    test_adaptive();
    test_distribution();
    test_determinism();
    test_cancel();
    test_errors();
    return tu_finish("test_sampler_analytic");
}
