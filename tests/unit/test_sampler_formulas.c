/* Every sampler against its k-diffusion / SAT formula, re-derived here in double from
 * sat-spec §5 (independently of engine/src/diffusion: own schedules, own LMS quadrature,
 * own DPM-Solver steps) for 3-4 steps on an analytic Gaussian model (gauss_model.h).
 * Stochastic samplers get the same noise by replaying the documented draw order of the
 * seeded ds_rng (one normal_fill of the whole state per noise term, in step order). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gauss_model.h"
#include "testutil.h"

#define NV 6
#define SEED 1234
typedef double vec[NV];

static const float NOISE[NV] = {0.8f, -1.3f, 0.1f, 2.2f, -0.4f, 1.05f};
static const float INIT[NV] = {0.5f, -0.2f, 0.9f, 0.0f, -0.7f, 0.3f};

static void cpy(vec d, const vec s) { memcpy(d, s, sizeof(vec)); }

/* --- references --------------------------------------------------------------------- */

static void sigmas_ref(int N, double smin, double smax, double rho, double *s) {
    for (int i = 0; i < N; i++) {
        double ramp = N == 1 ? 1.0 : pow(1.0 - (double)i / (N - 1), rho);
        s[i] = exp(ramp * (log(smax) - log(smin)) + log(smin));
    }
    s[N] = 0;
}

static void Dv(const vec x, double s, vec D) {
    for (int k = 0; k < NV; k++) D[k] = gauss_D(x[k], s);
}

/* the replayed noise stream */
static ds_rng g_rng;
static void z_next(vec z) {
    float f[NV];
    ds_rng_normal_fill(&g_rng, f, NV);
    for (int k = 0; k < NV; k++) z[k] = f[k];
}

/* Lagrange basis integral by composite Simpson (k-diffusion uses scipy quad). */
static double lms_c(int order, const double *s, int i, int j) {
    int M = 20000;
    double a = s[i], b = s[i + 1], h = (b - a) / M, acc = 0;
    for (int m = 0; m <= M; m++) {
        double tau = a + h * m, p = 1;
        for (int k = 0; k < order; k++)
            if (k != j) p *= (tau - s[i - k]) / (s[i - j] - s[i - k]);
        acc += p * (m == 0 || m == M ? 1 : m % 2 ? 4 : 2);
    }
    return acc * h / 3;
}

static void k_ref(ds_sampler_kind kind, int N, const double *s, vec x) {
    vec D, Dp = {0}, Dpp = {0}, x2, D2, z, d, ds_[4];
    double h1 = 0, h2 = 0;
    for (int i = 0; i < N; i++) {
        Dv(x, s[i], D);
        for (int k = 0; k < NV; k++) d[k] = (x[k] - D[k]) / s[i];
        double sn = s[i + 1];
        switch (kind) {
        case DS_SAMPLER_K_HEUN:
            if (sn == 0) {
                for (int k = 0; k < NV; k++) x[k] += d[k] * (sn - s[i]);
            } else {
                for (int k = 0; k < NV; k++) x2[k] = x[k] + d[k] * (sn - s[i]);
                Dv(x2, sn, D2);
                for (int k = 0; k < NV; k++) x[k] += (d[k] + (x2[k] - D2[k]) / sn) / 2 * (sn - s[i]);
            }
            break;
        case DS_SAMPLER_K_DPM_2:
            if (sn == 0) {
                for (int k = 0; k < NV; k++) x[k] += d[k] * (sn - s[i]);
            } else {
                double sm = exp((log(s[i]) + log(sn)) / 2);
                for (int k = 0; k < NV; k++) x2[k] = x[k] + d[k] * (sm - s[i]);
                Dv(x2, sm, D2);
                for (int k = 0; k < NV; k++) x[k] += (x2[k] - D2[k]) / sm * (sn - s[i]);
            }
            break;
        case DS_SAMPLER_K_LMS: {
            cpy(ds_[i % 4], d);
            int o = i + 1 < 4 ? i + 1 : 4;
            for (int j = 0; j < o; j++) {
                double c = lms_c(o, s, i, j);
                for (int k = 0; k < NV; k++) x[k] += c * ds_[(i - j) % 4][k];
            }
            break;
        }
        case DS_SAMPLER_K_DPMPP_2S_ANCESTRAL: {
            double su = fmin(sn, sqrt(sn * sn * (s[i] * s[i] - sn * sn) / (s[i] * s[i]))), sd = sqrt(sn * sn - su * su);
            if (sd == 0) {
                for (int k = 0; k < NV; k++) x[k] += d[k] * (sd - s[i]);
            } else {
                double t = -log(s[i]), tn = -log(sd), h = tn - t, sm = t + h / 2;
                for (int k = 0; k < NV; k++) x2[k] = exp(-sm) / exp(-t) * x[k] - expm1(-h / 2) * D[k];
                Dv(x2, exp(-sm), D2);
                for (int k = 0; k < NV; k++) x[k] = exp(-tn) / exp(-t) * x[k] - expm1(-h) * D2[k];
            }
            if (sn > 0) {
                z_next(z);
                for (int k = 0; k < NV; k++) x[k] += z[k] * su;
            }
            break;
        }
        case DS_SAMPLER_DPMPP_2M:
            if (i == 0 || sn == 0) {
                for (int k = 0; k < NV; k++) x[k] = (sn / s[i]) * x[k] - expm1(-(log(s[i]) - log(sn))) * D[k];
            } else {
                double h = log(s[i]) - log(sn), r = (log(s[i - 1]) - log(s[i])) / h;
                for (int k = 0; k < NV; k++)
                    x[k] = (sn / s[i]) * x[k] - expm1(-h) * ((1 + 1 / (2 * r)) * D[k] - Dp[k] / (2 * r));
            }
            break;
        case DS_SAMPLER_DPMPP_2M_SDE: {
            if (sn == 0) {
                cpy(x, D);
                break;
            }
            double h = log(s[i]) - log(sn), eh = h; /* eta 1 */
            for (int k = 0; k < NV; k++) {
                x[k] = sn / s[i] * exp(-eh) * x[k] - expm1(-h - eh) * D[k];
                if (i > 0) x[k] += 0.5 * -expm1(-h - eh) * (h / h1) * (D[k] - Dp[k]);
            }
            z_next(z);
            for (int k = 0; k < NV; k++) x[k] += z[k] * sn * sqrt(-expm1(-2 * eh));
            h1 = h;
            break;
        }
        case DS_SAMPLER_DPMPP_3M_SDE: {
            if (sn == 0) {
                cpy(x, D);
                break;
            }
            double h = log(s[i]) - log(sn), he = 2 * h, p2 = expm1(-he) / he + 1, p3 = p2 / he - 0.5;
            for (int k = 0; k < NV; k++) {
                x[k] = exp(-he) * x[k] - expm1(-he) * D[k];
                if (i >= 2) {
                    double r0 = h1 / h, r1 = h2 / h, a = (D[k] - Dp[k]) / r0, b = (Dp[k] - Dpp[k]) / r1;
                    x[k] += p2 * (a + (a - b) * r0 / (r0 + r1)) - p3 * (a - b) / (r0 + r1);
                } else if (i == 1) {
                    x[k] += p2 * (D[k] - Dp[k]) / (h1 / h);
                }
            }
            z_next(z);
            for (int k = 0; k < NV; k++) x[k] += z[k] * sn * sqrt(-expm1(-2 * h));
            h2 = h1, h1 = h;
            break;
        }
        default: break;
        }
        cpy(Dpp, Dp);
        cpy(Dp, D);
    }
}

/* DPM-Solver-Fast (eta 0) in t = −ln sigma. */
static void eps_ref(const vec x, double t, vec e) {
    for (int k = 0; k < NV; k++) e[k] = (x[k] - gauss_D(x[k], exp(-t))) / exp(-t);
}

static void dpm_fast_ref(int nfe, double smin, double smax, vec x) {
    int m = nfe / 3 + 1, orders[64], no = 0;
    if (nfe % 3 == 0) {
        for (int i = 0; i < m - 2; i++) orders[no++] = 3;
        orders[no++] = 2, orders[no++] = 1;
    } else {
        for (int i = 0; i < m - 1; i++) orders[no++] = 3;
        orders[no++] = nfe % 3;
    }
    double t0 = -log(smax), t1 = -log(smin);
    for (int i = 0; i < no; i++) {
        double t = t0 + (t1 - t0) * i / m, tn = t0 + (t1 - t0) * (i + 1) / m, h = tn - t;
        vec e, u, e1, e2;
        eps_ref(x, t, e);
        if (orders[i] == 1) {
            for (int k = 0; k < NV; k++) x[k] -= exp(-tn) * expm1(h) * e[k];
        } else if (orders[i] == 2) {
            double s1 = t + h / 2;
            for (int k = 0; k < NV; k++) u[k] = x[k] - exp(-s1) * expm1(h / 2) * e[k];
            eps_ref(u, s1, e1);
            for (int k = 0; k < NV; k++) x[k] += -exp(-tn) * expm1(h) * e[k] - exp(-tn) * expm1(h) * (e1[k] - e[k]);
        } else {
            double r1 = 1.0 / 3, r2 = 2.0 / 3, s1 = t + r1 * h, s2 = t + r2 * h;
            for (int k = 0; k < NV; k++) u[k] = x[k] - exp(-s1) * expm1(r1 * h) * e[k];
            eps_ref(u, s1, e1);
            for (int k = 0; k < NV; k++)
                u[k] = x[k] - exp(-s2) * expm1(r2 * h) * e[k] -
                       exp(-s2) * (r2 / r1) * (expm1(r2 * h) / (r2 * h) - 1) * (e1[k] - e[k]);
            eps_ref(u, s2, e2);
            for (int k = 0; k < NV; k++)
                x[k] += -exp(-tn) * expm1(h) * e[k] - exp(-tn) / r2 * (expm1(h) / h - 1) * (e2[k] - e[k]);
        }
    }
}

/* --- running the engine -------------------------------------------------------------- */

typedef struct run {
    int steps_seen;
    double last_x0; /* the first element of the last callback's x */
} run;

static void on_step(void *u, const ds_sample_step *s) {
    run *r = u;
    r->steps_seen++;
    r->last_x0 = s->x[0];
}

static void compare(const char *what, const float *got, const vec want, double tol) {
    double err = 0, mx = 0;
    for (int k = 0; k < NV; k++) {
        err = fmax(err, fabs(got[k] - want[k]));
        mx = fmax(mx, fabs(want[k]));
    }
    CHECKF(err <= tol * fmax(mx, 1e-3), "%s: max err %.3g (max |ref| %.3g)", what, err, mx);
}

static void test_k(ds_sampler_kind kind, int N, int want_nfe, const float *init, double init_sigma) {
    ds_sampler_params p = ds_sampler_defaults(kind);
    p.steps = N;
    p.sigma_min = 0.05, p.sigma_max = init ? init_sigma : 20.0;
    ds_rng rng;
    ds_rng_init(&rng, SEED);
    ds_rng_init(&g_rng, SEED);
    p.rng = &rng;
    run rr = {0};
    p.on_step = on_step, p.user = &rr;
    gauss_ctx g = {NV, 0, 0};
    ds_denoiser d = {gauss_den_call, &g};
    float out[NV];
    ds_err err = {0};
    ds_status st = ds_sample_k(&d, &p, 1, 2, 3, NOISE, init, out, &err);
    CHECKF(st == DS_OK, "%s: %s", ds_sampler_name(kind), err.msg);
    double s[16];
    sigmas_ref(N, p.sigma_min, p.sigma_max, 1.0, s);
    vec x;
    for (int k = 0; k < NV; k++) x[k] = (init ? init[k] : 0.0) + (double)NOISE[k] * (float)s[0];
    if (kind == DS_SAMPLER_K_DPM_FAST)
        dpm_fast_ref(N, p.sigma_min, p.sigma_max, x);
    else
        k_ref(kind, N, s, x);
    char what[96];
    snprintf(what, sizeof what, "%s%s", ds_sampler_name(kind), init ? " (variation)" : "");
    compare(what, out, x, 5e-6);
    CHECKF(g.calls == want_nfe, "%s: %d denoiser calls, want %d", what, g.calls, want_nfe);
    int want_steps = kind == DS_SAMPLER_K_DPM_FAST ? N / 3 + 1 : N;
    CHECKF(rr.steps_seen == want_steps, "%s: %d callbacks, want %d", what, rr.steps_seen, want_steps);
}

/* dpmpp-2m through ds_sample: the VDenoiser over a v model. */
static void test_vdenoiser_path(void) {
    int N = 4;
    ds_sampler_params p = ds_sampler_defaults(DS_SAMPLER_DPMPP_2M);
    p.steps = N, p.sigma_min = 0.05, p.sigma_max = 20;
    gauss_ctx g = {NV, 0, 0};
    ds_model_fn f = {gauss_v_call, &g};
    float out[NV];
    ds_err err = {0};
    CHECKF(ds_sample(&f, &p, 1, 2, 3, NOISE, NULL, out, &err) == DS_OK, "%s", err.msg);
    double s[8];
    sigmas_ref(N, 0.05, 20, 1, s);
    vec x, D, Dp = {0};
    for (int k = 0; k < NV; k++) x[k] = (double)NOISE[k] * (float)s[0];
    for (int i = 0; i < N; i++) {
        double cs = 1 / (s[i] * s[i] + 1), co = -s[i] / sqrt(s[i] * s[i] + 1), ci = 1 / sqrt(s[i] * s[i] + 1);
        double t = atan(s[i]) * 2 / M_PI;
        for (int k = 0; k < NV; k++) D[k] = gauss_v(x[k] * ci, t) * co + x[k] * cs;
        double sn = s[i + 1];
        if (i == 0 || sn == 0) {
            for (int k = 0; k < NV; k++) x[k] = (sn / s[i]) * x[k] - expm1(-(log(s[i]) - log(sn))) * D[k];
        } else {
            double h = log(s[i]) - log(sn), r = (log(s[i - 1]) - log(s[i])) / h;
            for (int k = 0; k < NV; k++)
                x[k] = (sn / s[i]) * x[k] - expm1(-h) * ((1 + 1 / (2 * r)) * D[k] - Dp[k] / (2 * r));
        }
        cpy(Dp, D);
    }
    compare("dpmpp-2m via VDenoiser", out, x, 5e-6);
    /* the VDenoiser of the analytic v model is the analytic VE denoiser */
    CHECK(fabs(out[0] - (float)x[0]) < 1e-4);
}

static void test_vddim(ds_sampler_kind kind, double eta, const float *init, double smax) {
    int N = 4;
    ds_sampler_params p = ds_sampler_defaults(kind);
    p.steps = N, p.eta = eta, p.sigma_max = smax;
    ds_rng rng;
    ds_rng_init(&rng, SEED);
    ds_rng_init(&g_rng, SEED);
    p.rng = &rng;
    gauss_ctx g = {NV, 0, 0.25};
    ds_model_fn f = {gauss_v_call, &g};
    run rr = {0};
    p.on_step = on_step, p.user = &rr;
    float out[NV];
    ds_err err = {0};
    CHECKF(ds_sample(&f, &p, 1, 2, 3, NOISE, init, out, &err) == DS_OK, "%s", err.msg);
    double sm = fmin(smax, 1), t[8];
    for (int i = 0; i < N; i++) t[i] = sm - sm * i / N;
    vec x, pred, z;
    for (int k = 0; k < NV; k++)
        x[k] = init ? init[k] * cos(sm * M_PI / 2) + NOISE[k] * sin(sm * M_PI / 2) : (double)NOISE[k];
    for (int i = 0; i < N; i++) {
        double a = cos(t[i] * M_PI / 2), s = sin(t[i] * M_PI / 2);
        vec eps;
        for (int k = 0; k < NV; k++) {
            double v = gauss_v(x[k], t[i]), ve = kind == DS_SAMPLER_V_DDIM_CFGPP ? (double)(float)v + 0.25 : v;
            pred[k] = x[k] * a - v * s;
            eps[k] = x[k] * s + ve * a;
        }
        if (i < N - 1) {
            double an = cos(t[i + 1] * M_PI / 2), sn = sin(t[i + 1] * M_PI / 2);
            double dsig = eta * sqrt(sn * sn / (s * s)) * sqrt(1 - a * a / (an * an)), adj = sqrt(sn * sn - dsig * dsig);
            for (int k = 0; k < NV; k++) x[k] = pred[k] * an + eps[k] * adj;
            if (eta) {
                z_next(z);
                for (int k = 0; k < NV; k++) x[k] += z[k] * dsig;
            }
        }
    }
    char what[96];
    snprintf(what, sizeof what, "%s eta %g%s", ds_sampler_name(kind), eta, init ? " (variation)" : "");
    compare(what, out, pred, 5e-6);
    CHECK(g.calls == N && rr.steps_seen == N);
    /* 'x' of the last callback is x after step N−2 (unchanged by the last step) */
    CHECKF(fabs(rr.last_x0 - x[0]) < 1e-4, "%s: last callback x", what);
}

static void rf_grid(int N, double sm, bool linear, double *t) {
    if (linear) {
        for (int i = 0; i <= N; i++) t[i] = sm - sm * i / N;
        return;
    }
    double lmax = sm < 1 ? log((1 - sm) / sm + 1e-6) : -6;
    for (int i = 0; i <= N; i++) t[i] = 1 / (1 + exp(lmax + (2 - lmax) * i / N));
    t[0] = sm, t[N] = 0;
}

static void test_rf(ds_sampler_kind kind, ds_rf_grid grid, const float *init, double smax) {
    int N = 4;
    ds_sampler_params p = ds_sampler_defaults(kind);
    p.steps = N, p.rf_grid = grid, p.sigma_max = smax;
    ds_rng rng;
    ds_rng_init(&rng, SEED);
    ds_rng_init(&g_rng, SEED);
    p.rng = &rng;
    gauss_ctx g = {NV, 0, 0};
    ds_model_fn f = {gauss_rf_call, &g};
    float out[NV];
    ds_err err = {0};
    CHECKF(ds_sample(&f, &p, 1, 2, 3, NOISE, init, out, &err) == DS_OK, "%s", err.msg);
    double sm = fmin(smax, 1), t[8];
    bool linear = grid == DS_RF_GRID_LINEAR || (grid == DS_RF_GRID_AUTO && kind == DS_SAMPLER_RF_RK4);
    rf_grid(N, sm, linear, t);
    vec x, D, Dp = {0}, z;
    for (int k = 0; k < NV; k++) x[k] = init ? init[k] * (1 - sm) + NOISE[k] * sm : (double)NOISE[k];
    int nfe = 0;
    for (int i = 0; i < N; i++) {
        double tc = t[i], tn = t[i + 1], dt = tn - tc;
        for (int k = 0; k < NV; k++) D[k] = x[k] - tc * gauss_rf(x[k], tc);
        switch (kind) {
        case DS_SAMPLER_RF_EULER:
            for (int k = 0; k < NV; k++) x[k] += dt * gauss_rf(x[k], tc);
            nfe++;
            break;
        case DS_SAMPLER_RF_RK4:
            for (int k = 0; k < NV; k++) {
                double k1 = gauss_rf(x[k], tc), k2 = gauss_rf(x[k] + dt / 2 * k1, tc + dt / 2);
                double k3 = gauss_rf(x[k] + dt / 2 * k2, tc + dt / 2), k4 = gauss_rf(x[k] + dt * k3, tn);
                x[k] += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
            }
            nfe += 4;
            break;
        case DS_SAMPLER_RF_DPMPP: {
            /* lambda(t) = ln((1 − t)/t) with the infinities written out */
            double lc = tc >= 1 ? -INFINITY : log((1 - tc) / tc), ln = tn <= 0 ? INFINITY : log((1 - tn) / tn);
            double h = ln - lc, em = isinf(h) ? -1 : expm1(-h);
            if (i == 0 || tn == 0) {
                for (int k = 0; k < NV; k++) x[k] = (tn / tc) * x[k] - (1 - tn) * em * D[k];
            } else {
                double lp = t[i - 1] >= 1 ? -INFINITY : log((1 - t[i - 1]) / t[i - 1]), hl = lc - lp;
                double w = isinf(hl) ? 0 : 1 / (2 * (hl / h));
                for (int k = 0; k < NV; k++) x[k] = (tn / tc) * x[k] - (1 - tn) * em * ((1 + w) * D[k] - w * Dp[k]);
            }
            nfe++;
            break;
        }
        case DS_SAMPLER_RF_PINGPONG:
            if (tn > 0) z_next(z);
            for (int k = 0; k < NV; k++) x[k] = (1 - tn) * D[k] + (tn > 0 ? tn * z[k] : 0);
            nfe++;
            break;
        default: break;
        }
        cpy(Dp, D);
    }
    char what[96];
    snprintf(what, sizeof what, "%s %s grid%s", ds_sampler_name(kind), linear ? "linear" : "logSNR",
             init ? " (variation)" : "");
    compare(what, out, x, 5e-6);
    CHECKF(g.calls == nfe, "%s: %d calls, want %d", what, g.calls, nfe);
}

int main(void) {
    test_k(DS_SAMPLER_K_HEUN, 4, 7, NULL, 0);
    test_k(DS_SAMPLER_K_DPM_2, 4, 7, NULL, 0);
    test_k(DS_SAMPLER_K_LMS, 4, 4, NULL, 0);
    test_k(DS_SAMPLER_K_LMS, 6, 6, NULL, 0); /* order 4 reached */
    test_k(DS_SAMPLER_K_DPMPP_2S_ANCESTRAL, 4, 7, NULL, 0);
    test_k(DS_SAMPLER_DPMPP_2M, 4, 4, NULL, 0);
    test_k(DS_SAMPLER_DPMPP_2M, 4, 4, INIT, 2.5);
    test_k(DS_SAMPLER_DPMPP_2M_SDE, 4, 4, NULL, 0);
    test_k(DS_SAMPLER_DPMPP_3M_SDE, 4, 4, NULL, 0);
    test_k(DS_SAMPLER_DPMPP_3M_SDE, 5, 5, INIT, 1.5);
    test_k(DS_SAMPLER_K_DPM_FAST, 6, 6, NULL, 0); /* orders 3, 2, 1 */
    test_k(DS_SAMPLER_K_DPM_FAST, 7, 7, NULL, 0); /* orders 3, 3, 1 */
    test_k(DS_SAMPLER_K_DPM_FAST, 5, 5, NULL, 0); /* orders 3, 2 */
    test_vdenoiser_path();
    test_vddim(DS_SAMPLER_V_DDIM, 0, NULL, 1);
    test_vddim(DS_SAMPLER_V_DDIM, 0, NULL, 100); /* sample_k's sigma_max clamps to t = 1 */
    test_vddim(DS_SAMPLER_V_DDIM, 0.7, NULL, 1);
    test_vddim(DS_SAMPLER_V_DDIM, 0, INIT, 0.6);
    test_vddim(DS_SAMPLER_V_DDIM_CFGPP, 0, NULL, 1);
    test_rf(DS_SAMPLER_RF_EULER, DS_RF_GRID_AUTO, NULL, 1);
    test_rf(DS_SAMPLER_RF_EULER, DS_RF_GRID_LINEAR, NULL, 1);
    test_rf(DS_SAMPLER_RF_EULER, DS_RF_GRID_AUTO, INIT, 0.7);
    test_rf(DS_SAMPLER_RF_RK4, DS_RF_GRID_AUTO, NULL, 1);
    test_rf(DS_SAMPLER_RF_DPMPP, DS_RF_GRID_AUTO, NULL, 1);
    test_rf(DS_SAMPLER_RF_DPMPP, DS_RF_GRID_AUTO, INIT, 0.7);
    test_rf(DS_SAMPLER_RF_DPMPP, DS_RF_GRID_LINEAR, NULL, 1);
    test_rf(DS_SAMPLER_RF_PINGPONG, DS_RF_GRID_AUTO, NULL, 1);
    return tu_finish("test_sampler_formulas");
}
