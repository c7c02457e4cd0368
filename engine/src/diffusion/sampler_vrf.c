/* The samplers that call the backbone directly (stable_audio_tools/inference/sampling.py):
 *   v-ddim / v-ddim-cfgpp   sample()                    sat-spec §5.3
 *   euler                   sample_discrete_euler()     §5.4, §6 (demo: linear grid)
 *   rk4                     sample_rk4()                §5.4
 *   dpmpp                   sample_flow_dpmpp()         §5.4
 *   pingpong                sample_flow_pingpong()      §5.4, §6 (rf_denoiser demo)
 * The backbone sees t directly (v: alpha = cos(t·pi/2), sigma = sin(t·pi/2); rectified
 * flow: x_t = (1 − t)·x0 + t·eps and F predicts the velocity eps − x0, so the x0 estimate
 * is D = x − t·F). Coefficients in double, element updates rounded once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_impl.h"
#include "diffusion/schedule.h"

/* sample(model, x, steps, eta, sigma_max, dist_shift, cfg_pp): returns the last pred. */
ds_status ds_run_v(ds_srun *r, const ds_model_fn *f, float *x, float *out) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    int64_t n = r->n;
    bool cfgpp = p->kind == DS_SAMPLER_V_DDIM_CFGPP;
    double *t = malloc((size_t)N * sizeof(double));
    if (!t) return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory");
    ds_sched_vddim(N, ds_unit_sigma_max(p), p->dist_shift, r->T, t);
    float *b[4] = {0};
    ds_status st = ds_srun_alloc(r, 4, b);
    float *v = b[0], *v_eps = b[1], *pred = b[2], *z = b[3];
    for (int i = 0; i < N && st == DS_OK; i++) {
        if ((st = ds_srun_check(r, i)) != DS_OK) break;
        /* cfg_pp: eps uses the unconditional output (info["uncond_output"]), pred the guided one. */
        if ((st = ds_srun_model(r, f, x, t[i], v, cfgpp ? v_eps : NULL)) != DS_OK) break;
        const float *ve = cfgpp ? v_eps : v;
        double a = cos(t[i] * M_PI / 2.0), s = sin(t[i] * M_PI / 2.0);
        for (int64_t k = 0; k < n; k++) pred[k] = (float)((double)x[k] * a - (double)v[k] * s);
        if (i < N - 1) {
            double an = cos(t[i + 1] * M_PI / 2.0), sn = sin(t[i + 1] * M_PI / 2.0);
            /* ddim_sigma = eta·√(σ'²/σ²)·√(1 − α²/α'²); the radicands are clamped at 0 (eta > 1
             * would make SAT's NaN). adjusted_sigma = √(σ'² − ddim_sigma²). */
            double q = 1.0 - a * a / (an * an);
            double ds = p->eta * sqrt(sn * sn / (s * s)) * sqrt(q > 0 ? q : 0);
            double adj2 = sn * sn - ds * ds, adj = sqrt(adj2 > 0 ? adj2 : 0);
            for (int64_t k = 0; k < n; k++) {
                double eps = (double)x[k] * s + (double)ve[k] * a;
                x[k] = (float)((double)pred[k] * an + eps * adj);
            }
            if (p->eta != 0.0) {
                if ((st = ds_srun_noise(r, z)) != DS_OK) break;
                for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)z[k] * ds);
            }
        }
        ds_srun_step(r, i, (double)(i + 1) / N, t[i], x, pred);
    }
    if (st == DS_OK) memcpy(out, pred, (size_t)n * sizeof(float));
    ds_srun_free(4, b);
    free(t);
    return st;
}

/* sample_discrete_euler: x += (t_{i+1} − t_i)·F(x, t_i); callback x after the step and
 * denoised = x_after − t_{i+1}·v (= x_before − t_i·v). */
static ds_status rf_euler(ds_srun *r, const ds_model_fn *f, const double *t, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *v = b[0], *D = b[1];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_model(r, f, x, t[i], v, NULL));
        double dt = t[i + 1] - t[i];
        for (int64_t k = 0; k < n; k++) {
            x[k] = (float)(x[k] + dt * v[k]);
            D[k] = (float)(x[k] - t[i + 1] * v[k]);
        }
        ds_srun_step(r, i, (double)(i + 1) / N, t[i], x, D);
    }
    return DS_OK;
}

/* sample_rk4: classic RK4 on dx/dt = F(x, t); denoised = x_after − t_{i+1}·k4. */
static ds_status rf_rk4(ds_srun *r, const ds_model_fn *f, const double *t, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *k1 = b[0], *k2 = b[1], *k3 = b[2], *k4 = b[3], *xs = b[4];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        double dt = t[i + 1] - t[i], th = t[i] + dt / 2.0;
        DS_TRY(ds_srun_model(r, f, x, t[i], k1, NULL));
        for (int64_t k = 0; k < n; k++) xs[k] = (float)(x[k] + dt / 2.0 * k1[k]);
        DS_TRY(ds_srun_model(r, f, xs, th, k2, NULL));
        for (int64_t k = 0; k < n; k++) xs[k] = (float)(x[k] + dt / 2.0 * k2[k]);
        DS_TRY(ds_srun_model(r, f, xs, th, k3, NULL));
        for (int64_t k = 0; k < n; k++) xs[k] = (float)(x[k] + dt * k3[k]);
        DS_TRY(ds_srun_model(r, f, xs, t[i + 1], k4, NULL));
        for (int64_t k = 0; k < n; k++) {
            x[k] = (float)(x[k] + dt / 6.0 * ((double)k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]));
            xs[k] = (float)(x[k] - t[i + 1] * k4[k]);
        }
        ds_srun_step(r, i, (double)(i + 1) / N, t[i], x, xs);
    }
    return DS_OK;
}

/* lambda(t) = ln((1 − t)/t), with its IEEE limits spelled out: −∞ at t = 1, +∞ at t = 0. */
static double rf_lambda(double t) {
    if (t >= 1.0) return -INFINITY;
    if (t <= 0.0) return INFINITY;
    return log((1.0 - t) / t);
}

/* sample_flow_dpmpp: DPM-Solver++(2M) in lambda = ln((1 − t)/t), D = x − t·F.
 *   first step or t_{i+1} = 0: x = (t_{i+1}/t_i)·x − (1 − t_{i+1})·expm1(−h)·D
 *   else r = h_last/h, D' = (1 + 1/(2r))·D − D_prev/(2r), the same update with D'.
 * SAT reaches the ends through infinities; here: h = ∞ gives expm1(−h) = −1 (the first
 * step from t = 1 is x = t_1·x + (1 − t_1)·D, the last is x = D), and h_last = ∞ gives
 * 1/(2r) = 0 (D' = D on the step after t = 1). */
static ds_status rf_dpmpp(ds_srun *r, const ds_model_fn *f, const double *t, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *v = b[0], *D = b[1], *old = b[2];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_model(r, f, x, t[i], v, NULL));
        for (int64_t k = 0; k < n; k++) D[k] = (float)(x[k] - t[i] * v[k]);
        ds_srun_step(r, i, (double)(i + 1) / N, t[i], x, D);
        double tn = t[i + 1], alpha = 1.0 - tn;
        double lc = rf_lambda(t[i]), ln = rf_lambda(tn), h = ln - lc;
        double em = isinf(h) ? -1.0 : expm1(-h); /* h = +∞ → −1 */
        double a = tn / t[i], c = -alpha * em;
        if (i == 0 || tn == 0.0) {
            if (tn == 0.0)
                memcpy(x, D, (size_t)n * sizeof(float));
            else
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k]);
        } else {
            double h_last = lc - rf_lambda(t[i - 1]);
            double w0 = isinf(h_last) ? 0.0 : 1.0 / (2.0 * (h_last / h)), w1 = 1.0 + w0;
            for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * (w1 * D[k] - w0 * old[k]));
        }
        float *tmp = old;
        old = D, D = tmp;
    }
    return DS_OK;
}

/* sample_flow_pingpong: D = x − t_i·F(x, t_i); x = (1 − t_{i+1})·D + t_{i+1}·z. */
static ds_status rf_pingpong(ds_srun *r, const ds_model_fn *f, const double *t, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *v = b[0], *D = b[1], *z = b[2];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_model(r, f, x, t[i], v, NULL));
        for (int64_t k = 0; k < n; k++) D[k] = (float)(x[k] - t[i] * v[k]);
        ds_srun_step(r, i, (double)(i + 1) / N, t[i], x, D);
        double tn = t[i + 1];
        if (tn == 0.0) { /* SAT still draws z here; its weight is 0 */
            memcpy(x, D, (size_t)n * sizeof(float));
            continue;
        }
        DS_TRY(ds_srun_noise(r, z));
        for (int64_t k = 0; k < n; k++) x[k] = (float)((1.0 - tn) * D[k] + tn * z[k]);
    }
    return DS_OK;
}

ds_status ds_run_rf(ds_srun *r, const ds_model_fn *f, float *x, float *out) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    double *t = malloc((size_t)(N + 1) * sizeof(double));
    if (!t) return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory");
    ds_sampler_schedule(p, r->T, t);
    float *b[5] = {0};
    ds_status st = ds_srun_alloc(r, 5, b);
    if (st == DS_OK) {
        switch (p->kind) {
        case DS_SAMPLER_RF_EULER: st = rf_euler(r, f, t, x, b); break;
        case DS_SAMPLER_RF_RK4: st = rf_rk4(r, f, t, x, b); break;
        case DS_SAMPLER_RF_DPMPP: st = rf_dpmpp(r, f, t, x, b); break;
        case DS_SAMPLER_RF_PINGPONG: st = rf_pingpong(r, f, t, x, b); break;
        default: st = ds_err_set(r->err, DS_ERR_INTERNAL, "ds_run_rf: %s is not an RF sampler", ds_sampler_name(p->kind));
        }
    }
    if (st == DS_OK) memcpy(out, x, (size_t)r->n * sizeof(float));
    ds_srun_free(5, b);
    free(t);
    return st;
}
