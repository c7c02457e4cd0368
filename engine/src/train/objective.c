#include "train/objective.h"

#include <math.h>

void ds_alphas_sigmas(ds_objective obj, const float *t, int64_t B, float *alpha, float *sigma) {
    for (int64_t b = 0; b < B; b++) {
        if (obj == DS_OBJ_V) {
            float a = (t[b] * (float)M_PI) / 2.0f; /* torch: t * math.pi / 2 in float32 */
            alpha[b] = cosf(a);
            sigma[b] = sinf(a);
        } else {
            alpha[b] = 1.0f - t[b];
            sigma[b] = t[b];
        }
    }
}

void ds_noise_and_target(ds_objective obj, const float *x0, const float *noise, const float *alpha,
                         const float *sigma, int64_t B, int64_t N, float *xt, float *target) {
    for (int64_t b = 0; b < B; b++) {
        float a = alpha[b], s = sigma[b];
        for (int64_t i = 0; i < N; i++) {
            int64_t k = b * N + i;
            xt[k] = x0[k] * a + noise[k] * s;
            target[k] = obj == DS_OBJ_V ? noise[k] * a - x0[k] * s : noise[k] - x0[k];
        }
    }
}

float ds_noise_level(ds_objective obj, float t) { return obj == DS_OBJ_V ? sinf(t * (float)M_PI / 2.0f) : t; }

void ds_sobol_init(ds_sobol *s, ds_rng *r) {
    s->shift = (uint32_t)(ds_rng_u64(r) >> 32);
    s->index = 0;
}

float ds_sobol_next(ds_sobol *s) {
    /* Dimension 1 of Sobol is the van der Corput sequence: bit-reversed index. */
    uint32_t i = (uint32_t)(s->index++), v = 0;
    for (int b = 0; b < 32; b++) v |= ((i >> b) & 1u) << (31 - b);
    v ^= s->shift;
    return (float)(v >> 8) * (1.0f / 16777216.0f);
}

double ds_norm_cdf(double x) { return 0.5 * erfc(-x / M_SQRT2); }

/* Acklam's rational approximation refined by one Halley step: ~1e-15 relative. */
double ds_norm_icdf(double p) {
    if (p <= 0) return -INFINITY;
    if (p >= 1) return INFINITY;
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double q, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = ds_norm_cdf(x) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

static float sigmoidf_(double x) { return (float)(1.0 / (1.0 + exp(-x))); }

void ds_sample_timesteps(const ds_training_config *tc, ds_sobol *sobol, ds_rng *r, int64_t B, float *t) {
    for (int64_t b = 0; b < B; b++) {
        switch (tc->timestep_sampler) {
        case DS_TS_UNIFORM: t[b] = ds_sobol_next(sobol); break;
        case DS_TS_LOGIT_NORMAL: t[b] = sigmoidf_(ds_rng_normal(r)); break;
        case DS_TS_TRUNC_LOGIT_NORMAL: {
            /* sat-spec §4.2: sample the normal truncated to logit(t') >= logit(0.075), map back */
            double z = ds_rng_normal(r), cdf = ds_norm_cdf(z);
            double lo = ds_norm_cdf(log(0.075 / (1 - 0.075))), hi = 1.0;
            double u = lo + (hi - lo) * cdf;
            double s = 1.0 / (1.0 + exp(-ds_norm_icdf(u)));
            double rr = (s - 0.075) / (1 - 0.075);
            t[b] = (float)(1.0 - rr);
            break;
        }
        case DS_TS_LOG_SNR: {
            double lam = tc->mean_logsnr + tc->std_logsnr * ds_rng_normal(r);
            float v = sigmoidf_(-lam);
            t[b] = v < 1e-4f ? 1e-4f : (v > 1.0f - 1e-4f ? 1.0f - 1e-4f : v);
            break;
        }
        }
    }
    if (tc->p_one_shot > 0)
        for (int64_t b = 0; b < B; b++)
            if (ds_rng_uniform(r) < tc->p_one_shot) t[b] = 1.0f;
}
