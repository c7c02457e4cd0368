/* k-diffusion 0.1.1 samplers on a fixed sigma grid (k_diffusion/sampling.py; sat-spec §5.2):
 * sample_heun, sample_dpm_2, sample_lms, sample_dpmpp_2s_ancestral, sample_dpmpp_2m,
 * sample_dpmpp_2m_sde, sample_dpmpp_3m_sde, as sample_k calls them (s_churn 0, eta and
 * s_noise from the params: 1 and 1 by default).
 *
 * Arithmetic: schedule values and step coefficients in double; each element update is
 * evaluated in double from the float32 state and rounded once when stored. Expressions
 * keep k-diffusion's structure (e.g. 2M's D' = (1 + 1/(2r))·D − (1/(2r))·D_prev).
 * The last step (sigma_next = 0) is written out where k-diffusion relies on IEEE
 * infinities (t = −ln 0 = ∞, expm1(−∞) = −1): dpmpp-2m then gives x = D exactly.
 * Callback 'x' is x before step i and 'denoised' the first D of step i, as k-diffusion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_impl.h"
#include "diffusion/schedule.h"

/* to_d(x, sigma, D) = (x − D)/sigma */
static void to_d(int64_t n, const float *x, const float *D, double sigma, float *d) {
    for (int64_t i = 0; i < n; i++) d[i] = (float)(((double)x[i] - D[i]) / sigma);
}

/* k_diffusion.sampling.get_ancestral_step(sigma_from, sigma_to, eta). */
static void ancestral_step(double from, double to, double eta, double *down, double *up) {
    if (eta == 0.0) {
        *down = to, *up = 0.0;
        return;
    }
    double u = eta * sqrt(to * to * (from * from - to * to) / (from * from));
    *up = u < to ? u : to;
    *down = sqrt(to * to - *up * *up);
}

/* linear_multistep_coeff(order, sigmas, i, j): the integral over [s_i, s_{i+1}] of the
 * Lagrange basis polynomial of node s_{i−j} on nodes s_i … s_{i−order+1}. k-diffusion
 * integrates it with scipy quad; the polynomial (degree < 4) is integrated exactly here,
 * expanded in u = tau − s_i to avoid cancellation. */
static double lms_coeff(int order, const double *s, int i, int j) {
    double poly[4] = {1, 0, 0, 0};
    int deg = 0;
    for (int k = 0; k < order; k++) {
        if (k == j) continue;
        double den = s[i - j] - s[i - k], c0 = (s[i] - s[i - k]) / den, c1 = 1.0 / den;
        /* poly *= (c1·u + c0) */
        for (int m = deg + 1; m >= 0; m--) poly[m] = (m > 0 ? poly[m - 1] * c1 : 0.0) + (m <= deg ? poly[m] * c0 : 0.0);
        deg++;
    }
    double h = s[i + 1] - s[i], hp = h, sum = 0;
    for (int m = 0; m <= deg; m++, hp *= h) sum += poly[m] * hp / (m + 1);
    return sum;
}

#define STEP_CB(i, x, D) ds_srun_step(r, (i), (double)((i) + 1) / N, s[i], (x), (D))

static ds_status k_heun(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *D = b[0], *d = b[1], *x2 = b[2], *D2 = b[3];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        to_d(n, x, D, s[i], d);
        STEP_CB(i, x, D);
        double dt = s[i + 1] - s[i];
        if (s[i + 1] == 0.0) { /* Euler method */
            for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)d[k] * dt);
            continue;
        }
        /* Heun's method */
        for (int64_t k = 0; k < n; k++) x2[k] = (float)(x[k] + (double)d[k] * dt);
        DS_TRY(ds_srun_denoise(r, dn, x2, s[i + 1], D2));
        for (int64_t k = 0; k < n; k++) {
            double d2 = ((double)x2[k] - D2[k]) / s[i + 1];
            x[k] = (float)(x[k] + ((double)d[k] + d2) / 2.0 * dt);
        }
    }
    return DS_OK;
}

static ds_status k_dpm_2(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *D = b[0], *d = b[1], *x2 = b[2], *D2 = b[3];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        to_d(n, x, D, s[i], d);
        STEP_CB(i, x, D);
        if (s[i + 1] == 0.0) { /* Euler method */
            double dt = s[i + 1] - s[i];
            for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)d[k] * dt);
            continue;
        }
        /* DPM-Solver-2: the midpoint in log sigma (torch.lerp(log s_i, log s_{i+1}, 0.5)). */
        double ls = log(s[i]), sm = exp(ls + 0.5 * (log(s[i + 1]) - ls));
        double dt1 = sm - s[i], dt2 = s[i + 1] - s[i];
        for (int64_t k = 0; k < n; k++) x2[k] = (float)(x[k] + (double)d[k] * dt1);
        DS_TRY(ds_srun_denoise(r, dn, x2, sm, D2));
        for (int64_t k = 0; k < n; k++) {
            double d2 = ((double)x2[k] - D2[k]) / sm;
            x[k] = (float)(x[k] + d2 * dt2);
        }
    }
    return DS_OK;
}

/* b[0] = D, b[1..4] = the last four derivatives (ring). */
static ds_status k_lms(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    enum { ORDER = 4 };
    int N = r->p->steps;
    int64_t n = r->n;
    float *D = b[0], **ring = b + 1;
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        to_d(n, x, D, s[i], ring[i % ORDER]);
        STEP_CB(i, x, D);
        int order = i + 1 < ORDER ? i + 1 : ORDER;
        double c[ORDER];
        for (int j = 0; j < order; j++) c[j] = lms_coeff(order, s, i, j);
        /* x += Σ_j c_j · d_{i−j} (k-diffusion sums coeff·d over reversed(ds), newest first) */
        for (int64_t k = 0; k < n; k++) {
            double acc = 0;
            for (int j = 0; j < order; j++) acc += c[j] * ring[(i - j) % ORDER][k];
            x[k] = (float)(x[k] + acc);
        }
    }
    return DS_OK;
}

static ds_status k_dpmpp_2s_ancestral(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    int64_t n = r->n;
    float *D = b[0], *x2 = b[1], *D2 = b[2], *z = b[3];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        double sd, su;
        ancestral_step(s[i], s[i + 1], p->eta, &sd, &su);
        STEP_CB(i, x, D);
        if (sd == 0.0) { /* Euler method to sigma_down = 0 */
            double dt = sd - s[i];
            for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + ((double)x[k] - D[k]) / s[i] * dt);
        } else { /* DPM-Solver++(2S), r = 1/2, in t = −ln sigma */
            double t = -log(s[i]), tn = -log(sd), h = tn - t, sm = t + 0.5 * h;
            double a1 = exp(-sm) / exp(-t), b1 = -expm1(-h * 0.5);
            for (int64_t k = 0; k < n; k++) x2[k] = (float)(a1 * x[k] + b1 * D[k]);
            DS_TRY(ds_srun_denoise(r, dn, x2, exp(-sm), D2));
            double a2 = exp(-tn) / exp(-t), b2 = -expm1(-h);
            for (int64_t k = 0; k < n; k++) x[k] = (float)(a2 * x[k] + b2 * D2[k]);
        }
        if (s[i + 1] > 0.0 && su > 0.0 && p->s_noise != 0.0) {
            DS_TRY(ds_srun_noise(r, z));
            double c = p->s_noise * su;
            for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)z[k] * c);
        }
    }
    return DS_OK;
}

static ds_status k_dpmpp_2m(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    int N = r->p->steps;
    int64_t n = r->n;
    float *D = b[0], *old = b[1];
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        STEP_CB(i, x, D);
        if (s[i + 1] == 0.0) {
            /* sigma_fn(∞)/sigma_fn(t) = 0, −expm1(−∞) = 1 */
            memcpy(x, D, (size_t)n * sizeof(float));
        } else {
            double t = -log(s[i]), tn = -log(s[i + 1]), h = tn - t;
            double a = exp(-tn) / exp(-t), c = -expm1(-h);
            if (i == 0) {
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k]);
            } else {
                double h_last = t - (-log(s[i - 1])), rr = h_last / h;
                double w1 = 1.0 + 1.0 / (2.0 * rr), w0 = 1.0 / (2.0 * rr);
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * (w1 * D[k] - w0 * old[k]));
            }
        }
        float *tmp = old;
        old = D, D = tmp;
    }
    return DS_OK;
}

static ds_status k_dpmpp_2m_sde(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    int64_t n = r->n;
    float *D = b[0], *old = b[1], *z = b[2];
    double eta = p->eta, h_last = 0;
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        STEP_CB(i, x, D);
        if (s[i + 1] == 0.0) { /* denoising step */
            memcpy(x, D, (size_t)n * sizeof(float));
        } else {
            double t = -log(s[i]), sn = -log(s[i + 1]), h = sn - t, eh = eta * h;
            double a = s[i + 1] / s[i] * exp(-eh), c = -expm1(-h - eh);
            if (i == 0) {
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k]);
            } else { /* solver_type "midpoint" */
                double rr = h_last / h, m = 0.5 * c * (1.0 / rr);
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k] + m * ((double)D[k] - old[k]));
            }
            if (eta != 0.0 && p->s_noise != 0.0) {
                DS_TRY(ds_srun_noise(r, z));
                double g = s[i + 1] * sqrt(-expm1(-2.0 * eh)) * p->s_noise;
                for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)z[k] * g);
            }
            h_last = h;
        }
        float *tmp = old;
        old = D, D = tmp;
    }
    return DS_OK;
}

static ds_status k_dpmpp_3m_sde(ds_srun *r, const ds_denoiser *dn, const double *s, float *x, float **b) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    int64_t n = r->n;
    float *D = b[0], *D1 = b[1], *D2 = b[2], *z = b[3];
    double eta = p->eta, h1 = 0, h2 = 0;
    int known = 0; /* how many of h_1, h_2 exist */
    for (int i = 0; i < N; i++) {
        DS_TRY(ds_srun_check(r, i));
        DS_TRY(ds_srun_denoise(r, dn, x, s[i], D));
        STEP_CB(i, x, D);
        double h = 0;
        if (s[i + 1] == 0.0) { /* denoising step */
            memcpy(x, D, (size_t)n * sizeof(float));
        } else {
            double t = -log(s[i]), sn = -log(s[i + 1]);
            h = sn - t;
            double he = h * (eta + 1.0), a = exp(-he), c = -expm1(-he);
            double phi2 = expm1(-he) / he + 1.0, phi3 = phi2 / he - 0.5;
            if (known >= 2) {
                double r0 = h1 / h, r1 = h2 / h;
                for (int64_t k = 0; k < n; k++) {
                    double d10 = ((double)D[k] - D1[k]) / r0, d11 = ((double)D1[k] - D2[k]) / r1;
                    double d1 = d10 + (d10 - d11) * r0 / (r0 + r1), d2 = (d10 - d11) / (r0 + r1);
                    x[k] = (float)(a * x[k] + c * D[k] + phi2 * d1 - phi3 * d2);
                }
            } else if (known == 1) {
                double rr = h1 / h;
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k] + phi2 * ((double)D[k] - D1[k]) / rr);
            } else {
                for (int64_t k = 0; k < n; k++) x[k] = (float)(a * x[k] + c * D[k]);
            }
            if (eta != 0.0 && p->s_noise != 0.0) {
                DS_TRY(ds_srun_noise(r, z));
                double g = s[i + 1] * sqrt(-expm1(-2.0 * h * eta)) * p->s_noise;
                for (int64_t k = 0; k < n; k++) x[k] = (float)(x[k] + (double)z[k] * g);
            }
        }
        /* denoised_1, denoised_2 = denoised, denoised_1;  h_1, h_2 = h, h_1 */
        float *tmp = D2;
        D2 = D1, D1 = D, D = tmp;
        h2 = h1, h1 = h;
        if (known < 2) known++;
    }
    return DS_OK;
}

ds_status ds_run_k(ds_srun *r, const ds_denoiser *d, float *x, float *out) {
    const ds_sampler_params *p = r->p;
    int N = p->steps;
    double *s = malloc((size_t)(N + 1) * sizeof(double));
    if (!s) return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory");
    ds_sched_polyexponential(N, p->sigma_min, p->sigma_max, p->rho, s);
    float *b[5] = {0};
    int nb = p->kind == DS_SAMPLER_K_LMS ? 5 : 4;
    ds_status st = ds_srun_alloc(r, nb, b);
    if (st == DS_OK) {
        switch (p->kind) {
        case DS_SAMPLER_K_HEUN: st = k_heun(r, d, s, x, b); break;
        case DS_SAMPLER_K_DPM_2: st = k_dpm_2(r, d, s, x, b); break;
        case DS_SAMPLER_K_LMS: st = k_lms(r, d, s, x, b); break;
        case DS_SAMPLER_K_DPMPP_2S_ANCESTRAL: st = k_dpmpp_2s_ancestral(r, d, s, x, b); break;
        case DS_SAMPLER_DPMPP_2M: st = k_dpmpp_2m(r, d, s, x, b); break;
        case DS_SAMPLER_DPMPP_2M_SDE: st = k_dpmpp_2m_sde(r, d, s, x, b); break;
        case DS_SAMPLER_DPMPP_3M_SDE: st = k_dpmpp_3m_sde(r, d, s, x, b); break;
        default: st = ds_err_set(r->err, DS_ERR_INTERNAL, "ds_run_k: %s is not a fixed-grid k sampler", ds_sampler_name(p->kind));
        }
    }
    if (st == DS_OK) memcpy(out, x, (size_t)r->n * sizeof(float));
    ds_srun_free(nb, b);
    free(s);
    return st;
}
