/* DPM-Solver (Lu et al. 2022) as k-diffusion 0.1.1 implements it (k_diffusion/sampling.py:
 * DPMSolver, PIDStepSizeController, sample_dpm_fast, sample_dpm_adaptive; sat-spec §5.2):
 * `k-dpm-fast` (fixed steps, orders 3…3,2,1 spending exactly `steps` evaluations) and
 * `k-dpm-adaptive` (DPM-Solver-23 with PID step control; SAT passes rtol = atol = 0.01).
 * Both integrate in t = −ln sigma from −ln sigma_max to −ln sigma_min with eta = 0 (what
 * sample_k uses) and stop at sigma_min: there is no final denoise (sat-spec pitfall 18).
 *
 * eps(x, t) = (x − D(x, e^−t))/e^−t. Model evaluations follow k-diffusion's eps cache
 * exactly (per step/attempt: eps, eps_r1 and for order 3 eps_r2; the 2-step with r1 = 1/3
 * and the 3-step share eps_r1), so the number and order of model calls match SAT. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_impl.h"
#include "diffusion/schedule.h"

typedef struct dpm {
    ds_srun *r;
    const ds_denoiser *d;
    float *D, *eps, *eps1, *eps2, *u;
} dpm;

static double sig(double t) { return exp(-t); }

static ds_status eps_at(dpm *m, const float *x, double t, float *eps) {
    double sg = sig(t);
    DS_TRY(ds_srun_denoise(m->r, m->d, x, sg, m->D));
    for (int64_t k = 0; k < m->r->n; k++) eps[k] = (float)(((double)x[k] - m->D[k]) / sg);
    return DS_OK;
}

/* dpm_solver_1_step: x' = x − sigma(t_n)·expm1(h)·eps. */
static void step1(dpm *m, const float *x, double t, double tn, float *out) {
    double c = sig(tn) * expm1(tn - t);
    for (int64_t k = 0; k < m->r->n; k++) out[k] = (float)(x[k] - c * m->eps[k]);
}

/* dpm_solver_2_step(r1): needs m->eps; computes (or reuses, have_r1) m->eps1 at s1. */
static ds_status step2(dpm *m, const float *x, double t, double tn, double r1, bool have_r1, float *out) {
    int64_t n = m->r->n;
    double h = tn - t, s1 = t + r1 * h;
    if (!have_r1) {
        double c = sig(s1) * expm1(r1 * h);
        for (int64_t k = 0; k < n; k++) m->u[k] = (float)(x[k] - c * m->eps[k]);
        DS_TRY(eps_at(m, m->u, s1, m->eps1));
    }
    double a = sig(tn) * expm1(h), b = sig(tn) / (2.0 * r1) * expm1(h);
    for (int64_t k = 0; k < n; k++) out[k] = (float)(x[k] - a * m->eps[k] - b * ((double)m->eps1[k] - m->eps[k]));
    return DS_OK;
}

/* dpm_solver_3_step(r1 = 1/3, r2 = 2/3): needs m->eps; eps1 computed unless have_r1. */
static ds_status step3(dpm *m, const float *x, double t, double tn, bool have_r1, float *out) {
    const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
    int64_t n = m->r->n;
    double h = tn - t, s1 = t + r1 * h, s2 = t + r2 * h;
    if (!have_r1) {
        double c = sig(s1) * expm1(r1 * h);
        for (int64_t k = 0; k < n; k++) m->u[k] = (float)(x[k] - c * m->eps[k]);
        DS_TRY(eps_at(m, m->u, s1, m->eps1));
    }
    double a2 = sig(s2) * expm1(r2 * h), b2 = sig(s2) * (r2 / r1) * (expm1(r2 * h) / (r2 * h) - 1.0);
    for (int64_t k = 0; k < n; k++) m->u[k] = (float)(x[k] - a2 * m->eps[k] - b2 * ((double)m->eps1[k] - m->eps[k]));
    DS_TRY(eps_at(m, m->u, s2, m->eps2));
    double a = sig(tn) * expm1(h), b = sig(tn) / r2 * (expm1(h) / h - 1.0);
    for (int64_t k = 0; k < n; k++) out[k] = (float)(x[k] - a * m->eps[k] - b * ((double)m->eps2[k] - m->eps[k]));
    return DS_OK;
}

/* denoised = x − sigma(t)·eps (what the info callback reports), into m->u. */
static void denoised_from_eps(dpm *m, const float *x, double t) {
    double sg = sig(t);
    for (int64_t k = 0; k < m->r->n; k++) m->u[k] = (float)(x[k] - sg * m->eps[k]);
}

ds_status ds_run_dpm_fast(ds_srun *r, const ds_denoiser *d, float *x, float *out) {
    const ds_sampler_params *p = r->p;
    int nfe = p->steps, msteps = nfe / 3 + 1;
    int *orders = malloc((size_t)(msteps + 1) * sizeof(int));
    double *ts = malloc((size_t)(msteps + 1) * sizeof(double));
    int n_orders = 0;
    if (!orders || !ts) {
        free(orders);
        free(ts);
        return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory");
    }
    if (nfe % 3 == 0) {
        for (int i = 0; i < msteps - 2; i++) orders[n_orders++] = 3;
        orders[n_orders++] = 2;
        orders[n_orders++] = 1;
    } else {
        for (int i = 0; i < msteps - 1; i++) orders[n_orders++] = 3;
        orders[n_orders++] = nfe % 3;
    }
    ds_linspace(-log(p->sigma_max), -log(p->sigma_min), msteps + 1, ts);
    r->n_steps = n_orders;
    float *b[6] = {0};
    ds_status st = ds_srun_alloc(r, 6, b);
    dpm m = {r, d, b[0], b[1], b[2], b[3], b[4]};
    float *xn = b[5];
    for (int i = 0; i < n_orders && st == DS_OK; i++) {
        double t = ts[i], tn = ts[i + 1];
        if ((st = ds_srun_check(r, i)) != DS_OK) break;
        if ((st = eps_at(&m, x, t, m.eps)) != DS_OK) break;
        denoised_from_eps(&m, x, t);
        ds_srun_step(r, i, (double)(i + 1) / n_orders, sig(t), x, m.u);
        if (orders[i] == 1)
            step1(&m, x, t, tn, xn);
        else if (orders[i] == 2)
            st = step2(&m, x, t, tn, 0.5, false, xn);
        else
            st = step3(&m, x, t, tn, false, xn);
        memcpy(x, xn, (size_t)r->n * sizeof(float));
    }
    if (st == DS_OK) memcpy(out, x, (size_t)r->n * sizeof(float));
    ds_srun_free(6, b);
    free(orders);
    free(ts);
    return st;
}

/* PIDStepSizeController(h, pcoeff 0, icoeff 1, dcoeff 0, order 3, accept_safety 0.81). */
typedef struct pid {
    double h, b1, b2, b3, accept_safety, eps;
    double errs[3];
    bool init;
} pid;

static bool pid_propose(pid *c, double error) {
    double inv = 1.0 / (error + c->eps);
    if (!c->init) c->errs[0] = c->errs[1] = c->errs[2] = inv, c->init = true;
    c->errs[0] = inv;
    double factor = pow(c->errs[0], c->b1) * pow(c->errs[1], c->b2) * pow(c->errs[2], c->b3);
    factor = 1.0 + atan(factor - 1.0); /* limiter */
    bool accept = factor >= c->accept_safety;
    if (accept) {
        c->errs[2] = c->errs[1];
        c->errs[1] = c->errs[0];
    }
    c->h *= factor;
    return accept;
}

ds_status ds_run_dpm_adaptive(ds_srun *r, const ds_denoiser *d, float *x, float *out) {
    enum { MAX_ATTEMPTS = 100000 };
    const ds_sampler_params *p = r->p;
    const double order = 3, pcoeff = 0, icoeff = 1, dcoeff = 0, h_init = 0.05;
    double t_start = -log(p->sigma_max), t_end = -log(p->sigma_min);
    bool forward = t_end > t_start;
    pid c = {fabs(h_init) * (forward ? 1 : -1), (pcoeff + icoeff + dcoeff) / order, -(pcoeff + 2 * dcoeff) / order,
             dcoeff / order, 0.81, 1e-8, {0, 0, 0}, false};
    int64_t n = r->n;
    float *b[8] = {0};
    DS_TRY(ds_srun_alloc(r, 8, b));
    dpm m = {r, d, b[0], b[1], b[2], b[3], b[4]};
    float *x_low = b[5], *x_high = b[6], *x_prev = b[7];
    memcpy(x_prev, x, (size_t)n * sizeof(float));
    double s = t_start;
    int steps = 0;
    ds_status st = DS_OK;
    while (forward ? s < t_end - 1e-5 : s > t_end + 1e-5) {
        if ((st = ds_srun_check(r, steps)) != DS_OK) break;
        if (steps >= MAX_ATTEMPTS) {
            st = ds_err_set(r->err, DS_ERR_NUMERIC, "k-dpm-adaptive: no convergence after %d step attempts", steps);
            break;
        }
        double t = forward ? fmin(t_end, s + c.h) : fmax(t_end, s + c.h);
        if ((st = eps_at(&m, x, s, m.eps)) != DS_OK) break;
        /* x_low: DPM-Solver-2 with r1 = 1/3; x_high: DPM-Solver-3 reusing its eps_r1. */
        if ((st = step2(&m, x, s, t, 1.0 / 3.0, false, x_low)) != DS_OK) break;
        if ((st = step3(&m, x, s, t, true, x_high)) != DS_OK) break;
        double sum = 0;
        for (int64_t k = 0; k < n; k++) {
            double lo = fabs((double)x_low[k]), pr = fabs((double)x_prev[k]);
            double delta = fmax(p->atol, p->rtol * fmax(lo, pr));
            double e = ((double)x_low[k] - x_high[k]) / delta;
            sum += e * e;
        }
        double error = sqrt(sum) / sqrt((double)n);
        if (!isfinite(error)) {
            st = ds_err_set(r->err, DS_ERR_NUMERIC, "k-dpm-adaptive: non-finite error estimate at sigma %g", sig(s));
            break;
        }
        denoised_from_eps(&m, x, s); /* 'denoised' at the old s */
        if (pid_propose(&c, error)) {
            memcpy(x_prev, x_low, (size_t)n * sizeof(float));
            memcpy(x, x_high, (size_t)n * sizeof(float));
            s = t;
        }
        steps++;
        /* info_callback: 'x' after the attempt, 'i' = steps − 1, 't' = the (new) s */
        ds_srun_step(r, steps - 1, (s - t_start) / (t_end - t_start), sig(s), x, m.u);
    }
    if (st == DS_OK) memcpy(out, x, (size_t)n * sizeof(float));
    ds_srun_free(8, b);
    return st;
}
