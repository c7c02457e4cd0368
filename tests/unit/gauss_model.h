/* Analytic "networks" for the sampler tests: every data value is x0 ~ N(MU, S²), independent,
 * so the ideal denoiser and the ideal model outputs are closed-form, and the exact
 * probability-flow ODE maps a start quantile z to a known end point.
 *
 *   VE (k-diffusion):  x = x0 + sigma·eps          D = MU + S²/(S² + sigma²)·(x − MU)
 *                      ODE: x(sigma) = MU + (x_T − MU)·√((S² + sigma²)/(S² + sigma_T²))
 *   v:                 x = a·x0 + s·eps, a = cos(t·pi/2), s = sin(t·pi/2), v = a·eps − s·x0
 *                      E[v | x] = s·(a·(x − a·MU)·(1 − S²)/(a²S² + s²) − MU)
 *                      ODE from t = 1 (x = z): x(0) = MU + S·z
 *   rectified flow:    x = (1 − t)·x0 + t·eps, velocity eps − x0, a = 1 − t
 *                      E[v | x] = (x − a·MU)·(t − a·S²)/(a²S² + t²) − MU    (finite at t = 0)
 *                      ODE from t = 1: x(0) = MU + S·z
 * Header-only (static) so that each test program stays one file. */
#ifndef GAUSS_MODEL_H
#define GAUSS_MODEL_H

#include <math.h>
#include <string.h>

#include "diffusion/sampler.h"

#define MU 0.3
#define S 0.8

static inline double gauss_D(double x, double sigma) { return MU + S * S / (S * S + sigma * sigma) * (x - MU); }

static inline double gauss_v(double x, double t) {
    double a = cos(t * M_PI / 2), s = sin(t * M_PI / 2);
    return s * (a * (x - a * MU) * (1 - S * S) / (a * a * S * S + s * s) - MU);
}

static inline double gauss_rf(double x, double t) {
    double a = 1 - t;
    return (x - a * MU) * (t - a * S * S) / (a * a * S * S + t * t) - MU;
}

/* Counting wrappers: user points to a gauss_ctx. */
typedef struct gauss_ctx {
    int64_t n;
    int calls;
    double uncond_shift; /* v-ddim-cfgpp tests: out_uncond = out + shift */
} gauss_ctx;

static inline ds_status gauss_den_call(void *u, const float *x, double sigma, float *out, ds_err *err) {
    (void)err;
    gauss_ctx *g = u;
    g->calls++;
    for (int64_t i = 0; i < g->n; i++) out[i] = (float)gauss_D(x[i], sigma);
    return DS_OK;
}

static inline ds_status gauss_v_call(void *u, const float *x, const float *t, float *out, float *unc, ds_err *err) {
    (void)err;
    gauss_ctx *g = u;
    g->calls++;
    for (int64_t i = 0; i < g->n; i++) out[i] = (float)gauss_v(x[i], t[0]);
    if (unc)
        for (int64_t i = 0; i < g->n; i++) unc[i] = (float)(out[i] + g->uncond_shift);
    return DS_OK;
}

static inline ds_status gauss_rf_call(void *u, const float *x, const float *t, float *out, float *unc, ds_err *err) {
    (void)err;
    gauss_ctx *g = u;
    g->calls++;
    for (int64_t i = 0; i < g->n; i++) out[i] = (float)gauss_rf(x[i], t[0]);
    if (unc) memcpy(unc, out, (size_t)g->n * sizeof(float));
    return DS_OK;
}

#endif
